"""A plan's time and cost from the profile: the data it trains on, the GPU it runs on, the price
of a GPU-hour; or why they cannot be known."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from atlas_cli.core.estimates import Estimate
from atlas_cli.core.memory.search import Estimator, estimator
from atlas_cli.core.profile import Profile
from atlas_cli.core.throughput.step import Device, Step, Work, efficiency, timed_stack
from atlas_cli.core.throughput.timing import (
    PlanCost,
    PlanTime,
    Rate,
    StageTime,
    plan_cost,
    plan_time,
    stage_time,
)
from atlas_cli.core.throughput.workload import Workload, batch_cap, global_batch, good_batch, least_batch
from atlas_cli.i18n import N_, nt, stage_label, t, translated
from atlas_cli.kb.catalog import NO_SAMPLING, SERVING, Objective, Sampling
from atlas_cli.kb.records import LargeSets, Method
from atlas_cli.kb.vocabulary import TYPICAL_TOKENS

# RAG's setup: one forward pass of an embedding model over the corpus: a strong open embedder for
# 100+ languages (the corpus may be in any), which the RAG recipe embeds with by default. Its
# config.json (XLMRobertaModel: 24 layers of width 1024, MLP 4096, 250,002-token vocabulary) gives
# 567M parameters, of which the matmuls a token passes through hold 24 x (4 x 1024^2 + 2 x 1024 x
# 4096) = 302M; the 256M embedding table is a lookup.
EMBEDDER = "BAAI/bge-m3"
EMBEDDER_MATMUL_PARAMS = 302e6
EMBEDDING = SERVING._replace(id="embed the corpus")  # RAG's one "stage", as its time shows it
OWN_HARDWARE = 0.0  # --price-per-hour 0: the GPUs are yours; cost is GPU-hours only
TRAINED_MEMO_LIMIT = 4096
_TRAINED: dict[
    tuple[
        int,
        tuple[Objective, ...],
        Device,
        tuple[tuple[int, bool, float], ...],
        tuple[int, ...],
        int,
        int | None,
    ],
    tuple[Estimate, Estimate],
] = {}


class TimeInputs(NamedTuple):
    """What a profile says about the data and the money; hashable, as plans are remembered by it."""

    examples: int | None
    tokens_per_example: int | None  # None: typical for the data kind
    data_kind: str
    epochs: float | None  # None: the objective's usual number
    packing: bool
    price_per_hour: float | None  # None: the catalog's reference price
    max_hours: float | None
    budget_usd: float | None
    batch_given: bool = False  # --batch-size given: time takes it, not the fastest that fits
    sampling: Sampling = NO_SAMPLING  # --num-generations / --generation-batch of online objectives

    def tokens(self) -> int:
        return self.tokens_per_example or TYPICAL_TOKENS[self.data_kind] or 1

    @property
    def limited(self) -> bool:
        """A limit excludes the plans over it: every plan must be timed."""
        return self.max_hours is not None or self.budget_usd is not None


class Timed(NamedTuple):
    """A plan's time and cost, or why there are none."""

    time: PlanTime | None
    cost: PlanCost | None
    note: str | None  # why time or cost is missing
    over_limit: str | None = None  # the --max-hours / --budget-usd the plan exceeds, in words
    # Within the limits, but the slow end of the estimate's band is past one, in words.
    at_risk: str | None = None

    @property
    def hours(self) -> float | None:
        return None if self.time is None else self.time.hours

    @property
    def usd_or_gpu_hours(self) -> float | None:
        """What --priority cost ranks by: USD, or GPU-hours where no price is known."""
        if self.cost is None:
            return None
        return self.cost.gpu_hours if self.cost.usd is None else self.cost.usd


# Notes are marked here and translated where they are shown: NO_TIME is made at import.
NO_TIME = Timed(None, None, N_("no --examples given: time and cost need the amount of data"))


def time_inputs(profile: Profile) -> TimeInputs:
    return TimeInputs(
        profile.examples,
        profile.tokens_per_example,
        profile.data_kind_or_typical,
        profile.epochs,
        profile.packing,
        profile.price_per_hour,
        profile.max_hours,
        profile.budget_usd,
        profile.batch_size is not None,
        profile.sampling,
    )


class Epochs(NamedTuple):
    """An objective's usual passes over its data: its card's num_train_epochs, and its value for a
    large set (`large_sets`: SFT trains a set of 100k examples once, not the trainers' 3)."""

    usual: float
    large: LargeSets | None = None

    def of(self, examples: int | None, classifier: bool = False) -> float:
        """The passes over `examples` examples (None: not given, the usual ones); `classifier`: the
        stage trains a score head over labels, which a large set's value may not hold for."""
        large = self.large
        if large is None or examples is None or examples < large.examples:
            return self.usual
        return large.value if large.classifiers or not classifier else self.usual

    def note(self, stage: str, examples: int, classifier: bool = False) -> str | None:
        """The passes `stage` of `examples` is timed at, said where a large set's value sets them
        or a set near that size is timed at the trainers' default (`stage`: its label)."""
        usual, large = self.usual, self.large
        if large is None:
            return None
        if self.of(examples, classifier) == usual:
            if not large.examples / 2 <= examples < large.examples:
                return None
            # Near the threshold: a review saw 99,000 examples timed at 3x 100,000's hours.
            return t(
                "{stage} of {examples:,} examples is timed at the trainers' default, --epochs "
                "{usual:g}; from {threshold:,} examples ft-atlas times it at {large:g} ({source}), "
                "and a set near that size may need no more: --epochs {large:g} takes about "
                "{share:g}x the {stage} time and cost.",
                stage=stage,
                examples=examples,
                usual=usual,
                threshold=large.examples,
                large=large.value,
                source=translated(large.source),
                share=round(large.value / usual, 2),
            )
        return nt(
            "{stage} of {examples:,} example is timed at --epochs {large:g}: sets this large are "
            "usually trained so ({source}); the trainers' default, --epochs {usual:g}, takes about "
            "{ratio:g}x the {stage} time and cost.",
            "{stage} of {examples:,} examples is timed at --epochs {large:g}: sets this large are "
            "usually trained so ({source}); the trainers' default, --epochs {usual:g}, takes about "
            "{ratio:g}x the {stage} time and cost.",
            examples,
            stage=stage,
            examples=examples,
            large=large.value,
            source=translated(large.source),
            usual=usual,
            ratio=round(usual / large.value, 1),
        )


ONE_PASS = Epochs(1.0)


def usual_epochs(methods: Iterable[Method]) -> dict[str, Epochs]:
    """Each objective's usual number of epochs: its num_train_epochs in the knowledge base."""
    return {
        m.id: Epochs(float(epochs.value), epochs.large_sets)
        for m in methods
        if (epochs := m.hyperparameters.get("num_train_epochs")) is not None
        and isinstance(epochs.value, (int, float))
    }


def work_of(e: Estimate) -> Work:
    return Work(e.memory_model, e.shape, e.settings, e.trainable_params_b * 1e9, e.host["paged_gb"] * 1e9)


def rate_for(inputs: TimeInputs, reference: Rate | None) -> Rate | None:
    if inputs.price_per_hour is None:
        return reference
    if inputs.price_per_hour == OWN_HARDWARE:
        return None
    return Rate(inputs.price_per_hour, "--price-per-hour")


NOTHING_LOCAL = N_("nothing runs on a local GPU: no training time")
# A training plan that runs here without a GPU (the profile's --gpu none).
ON_THE_CPU = N_(
    "trains on this computer's CPU, without a GPU: not timed (ft-atlas times GPUs; a CPU takes hours "
    "where a GPU takes minutes); `ft-atlas estimate --gpu none` sizes the RAM it needs"
)


def _billed(objectives: tuple[Objective, ...], inputs: TimeInputs, epochs: Mapping[str, Epochs]) -> str:
    """A plan trained at a provider (nothing is estimated here): the tokens its provider bills."""
    if any(o.online for o in objectives):
        return t(
            "trained at the provider: reinforcement tuning is billed by the hour of training at some "
            "(OpenAI's) and per token at others (ft-atlas show hosted-ft); no local GPU time"
        )
    stages = [(stage_label(o.name), _workload(inputs, epochs.get(o.id, ONE_PASS)).epochs) for o in objectives]
    tokens = sum(inputs.tokens() * float(inputs.examples or 0) * n for _, n in stages)
    examples = inputs.examples or 0
    return t(
        "trained at the provider, which bills about {millions:.3g} million training tokens ({examples} "
        "of {per}; epochs {epochs}) at its rate per million tokens (ft-atlas show hosted-ft); no local "
        "GPU time",
        millions=tokens / 1e6,
        # Counted apart: each number has its own plural ("1 example of ~512 tokens").
        examples=nt("{n:,} example", "{n:,} examples", examples, n=examples),
        per=nt("~{n:,} token", "~{n:,} tokens", inputs.tokens(), n=inputs.tokens()),
        epochs=epochs_text(stages),
    )


def epochs_text(stages: Iterable[tuple[str, float]]) -> str:
    """Each stage's passes over the data as the time notes say them: "3 (SFT), 1 (DPO)" (a
    stage's name before its number read as one word in Russian, "эпохи продолженное
    предобучение 1")."""
    return ", ".join(f"{n:g} ({stage})" for stage, n in stages)


NO_PEAK = N_(
    "no published peak 16-bit throughput for this GPU (none for Apple silicon, NVIDIA's A10G, or a GPU "
    "known by its memory alone: a laptop card, --vram): no training time"
)


NO_GPU = N_("no GPU given (--gpu): no training time")
UNTIMED_MLX = N_("--stack mlx: no measured mlx-lm run to calibrate its time on: no training time")


def time_and_cost(
    e: Estimate | None,
    objectives: tuple[Objective, ...],
    device: Device | None,
    reference: Rate | None,
    inputs: TimeInputs,
    epochs: Mapping[str, Epochs],
    hosted: bool = False,
) -> Timed:
    """Training plans: every stage of the pipeline. No-training plans (e.g. retrieval): their setup.
    `hosted`: the plan trains at a provider (its method's `runs`), which bills its tokens."""
    if inputs.examples is None:
        return NO_TIME
    if e is None and not objectives:
        return Timed(None, None, NOTHING_LOCAL)
    if e is None:
        return Timed(None, None, _billed(objectives, inputs, epochs) if hosted else t(ON_THE_CPU))
    if device is None:
        # Nothing to time on where no GPU was named (no capacity), else one without a peak.
        return Timed(None, None, NO_GPU if e.settings.capacity_gb is None else NO_PEAK)
    if e.settings.stack == "mlx":
        return Timed(None, None, UNTIMED_MLX)
    if e.settings.precision == "fp32" and device.fp32_tflops is None:
        return Timed(None, None, N_("no published FP32 peak for this GPU: an fp32 plan is not timed"))
    if e.memory_model == "inference":
        time = _setup_time(e, device, inputs)
    else:
        workloads = {
            o.id: _workload(inputs, epochs.get(o.id, ONE_PASS), e.settings.seq_len, e.trains_classifier)
            for o in objectives
        }
        time = _staged_time(e, objectives, device, workloads, inputs.batch_given)
    cost = plan_cost(time, rate_for(inputs, reference))
    over = _over_limit(time, cost, inputs)
    risk = None if over is not None else _at_risk(time, cost, inputs)
    return Timed(time, cost, _price_note(inputs, reference), over, risk)


def _staged_time(
    e: Estimate,
    objectives: tuple[Objective, ...],
    device: Device,
    workloads: Mapping[str, Workload],
    batch_given: bool,
) -> PlanTime:
    """Every stage at its own settings (its sequence length and least micro-batch; the plan's
    memory is its heaviest stage's) and, unless --batch-size is given, at the micro-batch that
    trains that stage fastest, as `recipe` writes each stage (a review: SFT before KTO was timed at
    KTO's batch of 4, and its recipe trains at 1)."""
    own = {stage.settings.objective.id: stage for stage in (e, *e.other_stages)}
    stages = []
    for objective in objectives:
        stage = own.get(objective.id, e)
        workload = workloads[objective.id]
        trained = stage if batch_given else _trained(stage, (objective,), device, {objective.id: workload})
        stages.append(stage_time(work_of(trained), device, workload, objective))
    return PlanTime.of(tuple(stages), e.settings.all_gpus, device, timed_stack(work_of(e)))


def fastest_batch(
    e: Estimate,
    run: Estimator,
    objectives: tuple[Objective, ...],
    device: Device,
    workloads: Mapping[str, Workload],
) -> Estimate:
    """The plan as it trains best: of the micro-batches that fit within the margin (powers of two
    from the objectives' least up to one global batch per GPU), the fastest - a larger one launches
    fewer kernels per token but pads unpacked examples more - and at least the batch the
    objectives train well at when it fits (KTO). Layer-wise GaLore steps at every micro-batch
    (no accumulation), so its micro-batch is its whole batch: the largest that fits. For a
    profile without --batch-size (a given one is timed as it is: TimeInputs.batch_given); `e` is
    the plan at the least batch, which the memory columns keep."""
    least = least_batch(objectives)
    if e.fit != "yes":
        return e
    cap, good = batch_cap(objectives, e.settings.gpus, workloads), good_batch(objectives)

    def key(sized: Estimate) -> tuple[bool, float]:
        """(below the good batch, seconds, or the batch's opposite): the smaller the better."""
        batch = sized.settings.batch_size
        if sized.settings.optimizer_in_backward:
            return False, -batch
        return batch < good, plan_time(work_of(sized), device, workloads, objectives).seconds

    best, best_key = e, key(e)
    rounds = _generation_rounds(objectives, e.settings.replicas, workloads, least)
    batch = 2 * least
    while batch <= cap:
        if _generation_rounds(objectives, e.settings.replicas, workloads, batch) != rounds:
            break  # a larger micro-batch would sample more completions at once than the run asks
        sized = run(e.settings._replace(batch_size=batch))
        if sized.fit != "yes":
            break
        candidate = key(sized)
        if candidate < best_key:
            best, best_key = sized, candidate
        batch *= 2
    return best


def _generation_rounds(
    objectives: tuple[Objective, ...], replicas: int, workloads: Mapping[str, Workload], batch: int
) -> tuple[int, ...]:
    """The online stages' generation batches at this micro-batch (TRL's round is whole micro-batches)."""
    return tuple(global_batch(o, replicas, workloads.get(o.id), batch) for o in objectives if o.online)


def _trained(
    e: Estimate, objectives: tuple[Objective, ...], device: Device, workloads: Mapping[str, Workload]
) -> Estimate:
    """fastest_batch, remembered: the choice depends on the examples' length, packing, each
    stage's epochs and its global batch (smaller for a small set), not otherwise on how many
    examples there are (every stage grows in proportion) - but for a set so small that a GPU gets
    less than one micro-step or sampling round of it, where the floor of one a GPU an epoch
    (workload.batches, timing.stage_time) binds: then the count is part of the key."""
    shape = tuple((w.tokens_per_example, w.packing, w.epochs) for w in workloads.values())
    sizes = tuple(global_batch(o, 1, workloads.get(o.id)) for o in objectives)
    # The largest micro-batch tried depends on the set's size too (batch_cap: MIN_STEPS steps).
    cap = batch_cap(objectives, e.settings.gpus, workloads)
    key = (id(e), objectives, device, shape, sizes, cap, _floored(e, objectives, workloads))
    found = _TRAINED.get(key)
    if found is None:
        run = estimator(e.method, e.memory_model, e.shape)
        if len(_TRAINED) >= TRAINED_MEMO_LIMIT:
            _TRAINED.clear()
        # `e` is kept alive with its entry: its id stays its own.
        found = _TRAINED[key] = (e, fastest_batch(e, run, objectives, device, workloads))
    return found[1]


def _floored(e: Estimate, objectives: tuple[Objective, ...], workloads: Mapping[str, Workload]) -> int | None:
    """How many examples a set has, when it is small enough that a floor may bind at some batch
    fastest_batch tries (fewer sequences than the GPUs' largest micro-steps or rounds hold, packed
    rows counted in examples); None otherwise."""
    s = e.settings
    cap = batch_cap(objectives, s.gpus, workloads)
    held = max(cap, *(global_batch(o, s.replicas, workloads.get(o.id), cap) for o in objectives))
    smallest = min(
        w.examples * w.epochs / max(1, s.seq_len // max(1, w.tokens_per_example)) for w in workloads.values()
    )
    return min(w.examples for w in workloads.values()) if smallest < 2 * held * s.gpus else None


def _workload(
    inputs: TimeInputs, usual: Epochs, seq_len: int | None = None, classifier: bool = False
) -> Workload:
    assert inputs.examples is not None
    epochs = inputs.epochs if inputs.epochs is not None else usual.of(inputs.examples, classifier)
    # A classifier's Trainer pads each batch (DataCollatorWithPadding): --packing packs nothing.
    return Workload(inputs.examples, inputs.tokens(), epochs, inputs.packing and not classifier, seq_len)


def _setup_time(e: Estimate, device: Device, inputs: TimeInputs) -> PlanTime:
    """Retrieval embeds its corpus once; prompting needs no setup on the GPU."""
    if e.method != "rag":
        return PlanTime.of((), e.settings.gpus, device, "hf")
    assert inputs.examples is not None
    tokens = inputs.examples * float(inputs.tokens())
    per_token = 2 * EMBEDDER_MATMUL_PARAMS
    seconds = tokens * per_token / (device.tflops * 1e12 * efficiency("hf", device)) / e.settings.gpus
    step = Step(seconds, seconds, 0.0, 0.0, 0.0, 0.0)
    corpus = Workload(inputs.examples, inputs.tokens(), 1.0, packing=True)
    batch = e.settings.batch_size
    stage = StageTime(EMBEDDING, tokens, seconds, 0.0, step, corpus, batch, batch * e.settings.gpus)
    return PlanTime.of((stage,), e.settings.gpus, device, "hf")


def _price_note(inputs: TimeInputs, reference: Rate | None) -> str | None:
    if inputs.price_per_hour == OWN_HARDWARE:
        return N_("--price-per-hour 0: your own hardware, cost in GPU-hours only")
    if inputs.price_per_hour is None and reference is None:
        return N_(
            "no cloud price for this GPU in data/prices.yaml: cost in GPU-hours (give --price-per-hour)"
        )
    return None


def share_within_limits(timed: Timed, inputs: TimeInputs) -> float | None:
    """The share of a plan's training that --max-hours and --budget-usd allow: its time and cost
    grow in proportion to the tokens trained on."""
    shares = []
    if inputs.max_hours is not None and timed.time is not None and timed.time.hours > 0:
        shares.append(inputs.max_hours / timed.time.hours)
    usd = None if timed.cost is None else timed.cost.usd
    if inputs.budget_usd is not None and usd:
        shares.append(inputs.budget_usd / usd)
    return min(shares) if shares else None


def _at_risk(time: PlanTime, cost: PlanCost, inputs: TimeInputs) -> str | None:
    """A plan within --max-hours / --budget-usd whose band's slow end is past one: the estimate's
    spread (docs/time.md) may carry it over (an expert's review: LoRA at $62-156 under a $150
    budget passed unremarked while full fine-tuning was left out at $151)."""
    slowest = time.hours_band[1]
    if inputs.max_hours is not None and slowest > inputs.max_hours:
        return t(
            "may take up to {hours:.3g} h (the band's slow end), over --max-hours {limit}",
            hours=slowest,
            limit=f"{inputs.max_hours:g}",
        )
    if inputs.budget_usd is not None and cost.price is not None and cost.high > inputs.budget_usd:
        return t(
            "may cost up to ${usd:,.0f} (the band's slow end), over --budget-usd {limit}",
            usd=cost.high,
            limit=f"{inputs.budget_usd:g}",
        )
    return None


def _over_limit(time: PlanTime, cost: PlanCost, inputs: TimeInputs) -> str | None:
    if inputs.max_hours is not None and time.hours > inputs.max_hours:
        return t(
            "takes about {hours:.3g} h, over --max-hours {limit}",
            hours=time.hours,
            limit=f"{inputs.max_hours:g}",
        )
    usd = cost.usd
    if inputs.budget_usd is not None and usd is not None and usd > inputs.budget_usd:
        return t(
            "costs about ${usd:,.0f}, over --budget-usd {limit}", usd=usd, limit=f"{inputs.budget_usd:g}"
        )
    return None
