"""The engine's outputs: ranked plans, the rules behind them, and the recommendation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from atlas_cli.core.estimates import Estimate, Fit, loads_quantized_shards
from atlas_cli.core.memory.estimate import default_checkpointing
from atlas_cli.core.memory.search import Change, at_rank, changes_that_fit, estimator
from atlas_cli.core.memory.states import plan_experts_quantized
from atlas_cli.core.throughput.plans import NO_TIME, Timed
from atlas_cli.core.throughput.timing import PlanCost, PlanTime, batches_text
from atlas_cli.i18n import N_, nt, number, significant, stage_label, t, translated
from atlas_cli.kb.behaviour import Scalar
from atlas_cli.kb.conditions import facts_that_held
from atlas_cli.kb.records import Advice, PipelineRule, Rule
from atlas_cli.kb.vocabulary import FIT_MARGIN, MEMORY_MODELS, SUPERVISED_STAGES

SAFETY_PERCENT = round(100 * (1 - FIT_MARGIN))
OFFLOADED = {"optimizer": N_("optimizer states"), "params": N_("parameters and optimizer states")}

if TYPE_CHECKING:
    from atlas_cli.core.profile import Profile
    from atlas_cli.core.resolve import ModelInfo


class RuleHit(NamedTuple):
    """One rule that fired for a plan, with the facts it read (the explanation trace)."""

    rule: str
    action: str
    weight: float
    because: str
    source: str
    facts: dict[str, Scalar]


class ToolRef(NamedTuple):
    library: str
    entry: str
    status: str


# Methods that may fit when a plan does not (QLoRA), each with its card's LoRA rank.
Alternatives = tuple[tuple[str, int | None], ...]


class Plan(NamedTuple):
    """A ranked candidate. Its reasons and caveats are worded on demand: batch mode scores every
    candidate but prints only the top few. A plan holds no profile facts, so one plan object
    serves every profile that leads to it (see Engine._plan)."""

    method: str
    name: str
    kind: str
    category: str
    pipeline: tuple[str, ...]
    score: float
    fit: Fit | None  # yes (within the safety margin), tight, no; None: no capacity to compare
    memory_gb: float | None
    fired: tuple[Rule, ...]  # the rules that matched, in the order they were evaluated
    pipeline_rule: str | None
    tools: tuple[ToolRef, ...]
    estimate: Estimate | None
    capacity_gb: float | None
    pipeline_because: str | None
    warnings: tuple[str, ...]
    pitfalls: tuple[str, ...]
    variant: str | None = None  # the KB variant chosen, when it is not the method's default
    alternatives: Alternatives = ()  # methods that may fit when this one does not (QLoRA)
    timed: Timed = NO_TIME  # training time and cost, or why there are none
    gpus_available: int | None = None  # the user's GPUs (None: no local GPU)
    basis: tuple[str, str] | None = None  # the ratings the score starts from: (in words, source)
    pipeline_spec: PipelineRule | None = None  # the pipeline rule that chose the stages
    runs: str = "local"  # local (your GPUs), or hosted (a provider's API)
    # Stages whose TRL trainer is only in trl.experimental (ORPO, SimPO: the KB's library status).
    experimental_stages: tuple[str, ...] = ()
    # The same plan before its time was added: one untimed plan serves every amount of data.
    untimed: Plan | None = None
    stage_names: tuple[str, ...] = ()  # the pipeline's objectives by their cards' names
    vllm_excluded: bool = False  # a rule would leave it out with --vllm (gpt-oss, QLoRA in TRL)
    # Its number of GPUs was chosen by its time, and a caveat says why it leaves some free.
    fewer_gpus_explained: bool = False

    def loads_shard_by_shard(self, fsdp_qlora_layer: str | None) -> bool:
        """ft-atlas writes the plan with its 4-bit base loaded shard by shard under FSDP (axolotl's
        qlora_sharded_model_loading): it was ranked so, or with its parameters in CPU RAM, which
        loads so (FSDP offloads parameters and all, or nothing: fsdp_offload_params), on several
        GPUs, for a family whose decoder layer a loader documents (`fsdp_qlora_layer`,
        families.yaml), and every stage is supervised, as the loaders' own examples train
        (axolotl's examples/llama-3/qlora-fsdp-70b.yaml, Answer.AI's train.py)."""
        e = self.estimate
        return (
            e is not None
            and loads_quantized_shards(e.memory_model, e.settings)
            and e.settings.offload in ("none", "params")
            and e.settings.gpus > 1
            and fsdp_qlora_layer is not None
            and set(self.pipeline) <= set(SUPERVISED_STAGES)
        )

    def stages_text(self, arrow: str = " → ") -> str:
        """The pipeline as tables and notes show it: "SFT → DPO", "continued pre-training" (recipes'
        headers, ASCII: `arrow` " -> ")."""
        return arrow.join(stage_label(n) for n in self.stage_names or self.pipeline)

    def with_time(self, timed: Timed) -> Plan:
        """This plan with its time and cost: a copy that remembers the untimed plan (batch mode
        makes one per plan and amount of data)."""
        return self._replace(timed=timed, untimed=self)

    @property
    def time(self) -> PlanTime | None:
        return self.timed.time

    @property
    def cost(self) -> PlanCost | None:
        return self.timed.cost

    @property
    def hours(self) -> float | None:
        return self.timed.hours

    @property
    def usd_or_gpu_hours(self) -> float | None:
        """What --priority cost ranks by: USD, or GPU-hours where no price is known."""
        return self.timed.usd_or_gpu_hours

    @property
    def over_limit(self) -> str | None:
        return self.timed.over_limit

    @property
    def gpus(self) -> int | None:
        """GPUs the plan runs on, a vLLM server's among them (None: nothing runs on a local GPU)."""
        return None if self.estimate is None else self.estimate.settings.all_gpus

    @property
    def precision(self) -> str | None:
        return None if self.estimate is None else self.estimate.settings.precision

    @property
    def sharding(self) -> str | None:
        """ddp, zero2 or zero3 (None: nothing runs on a local GPU)."""
        return None if self.estimate is None else self.estimate.settings.sharding

    @property
    def quantized_experts(self) -> bool | None:
        """QLoRA on a mixture of experts: its routed experts load quantized too (None otherwise)."""
        return plan_experts_quantized(self.estimate)

    @property
    def reference_precomputed(self) -> bool | None:
        """DPO/KTO on a base that trains, without its reference copy (None: no local estimate)."""
        return None if self.estimate is None else self.estimate.settings.reference_precomputed

    @property
    def serving_bits(self) -> int | None:
        """The bits a no-training plan's weights are served in (None for training plans)."""
        return None if self.estimate is None else self.estimate.served_bits

    @property
    def recipe_precision(self) -> str | None:
        """The precision a recipe trains the plan in: the estimate's, except fp32 for a model that
        overflows fp16 (Gemma 3) in a plan sized in fp16 because --precision fp16 asked for it: the
        recipes train such a model in fp32."""
        e = self.estimate
        if e is not None and e.settings.precision == "fp16" and e.shape.fp16_overflows:
            return "fp32"
        return self.precision

    @property
    def spare_gpus(self) -> int | None:
        used, available = self.gpus, self.gpus_available
        return None if used is None or available is None else max(available - used, 0)

    @property
    def fits(self) -> bool | None:
        """The plain verdict: True only within the safety margin."""
        return None if self.fit is None else self.fit == "yes"

    @property
    def offload(self) -> str | None:
        return None if self.estimate is None else self.estimate.settings.offload

    @property
    def host_gb(self) -> float | None:
        return None if self.estimate is None else self.estimate.host["offload_gb"]

    @property
    def ram_gb(self) -> float | None:
        """CPU RAM an offloading or shard-loaded plan needs per node (Estimate.ram_gb)."""
        return None if self.estimate is None else self.estimate.ram_gb

    @property
    def label(self) -> str:
        """Name, variant and stages, as tables show a plan."""
        name, variant = translated(self.name), translated(self.variant) if self.variant else ""
        # "GaLore — GaLore (8-bit, layer-wise)" said the name twice (a newcomer's review).
        name = variant if variant.startswith(name) else f"{name} — {variant}" if variant else name
        frozen = self.experts_frozen
        if frozen == "experts":
            name = t("{name}, routed experts frozen", name=name)
        elif frozen == "all but attention":
            name = t("{name}, attention only", name=name)
        return f"{name} ({self.stages_text()})" if self.pipeline else name

    @property
    def experts_frozen(self) -> Literal["experts", "all but attention"] | None:
        """What a LoRA-family plan on a mixture of experts leaves untrained, said in its name, since
        LoRA that adapts the experts trains better and costs more (an expert's review): its routed
        experts, as the recipes do unless --lora-experts (rule lora-all-linear-skips-fused-experts),
        or everything but the attention, where PEFT would read all-linear as the experts
        (core/resolve.py settings_for)."""
        e = self.estimate
        if e is None or not e.shape.experts or e.settings.lora_experts:
            return None
        if not MEMORY_MODELS[e.memory_model].low_rank:
            return None
        return "all but attention" if e.settings.lora_targets == "attention" else "experts"

    def to_fit(self) -> list[Change]:
        """For a plan that does not fit within the margin: the smallest changes that would."""
        e = self.estimate
        offloaded = self.offload in OFFLOADED
        if e is None or (self.fit not in ("tight", "no") and not offloaded):
            return []
        return _changes_for(e, self.alternatives)

    @property
    def rules(self) -> tuple[str, ...]:
        ids = tuple(r.id for r in self.fired)
        return (*ids, self.pipeline_rule) if self.pipeline_rule else ids

    def own_facts(self) -> dict[str, Scalar]:
        """The candidate's facts (`plan.*`)."""
        from atlas_cli.core.facts import plan_facts

        return plan_facts(self)

    @property
    def reasons(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.fit == "yes":
            found.append(
                t(
                    "Fits: needs about {need:g} GB per GPU of {have:g} GB usable.",
                    need=self.memory_gb,
                    have=self.capacity_gb,
                )
            )
        if self.spare_gpus and not self.fewer_gpus_explained:
            found.append(
                t(
                    "Uses {gpus} of your {available} GPUs: fewer GPUs are enough for it, and they cost less.",
                    gpus=self.gpus,
                    available=self.gpus_available,
                )
            )
        if self.fit != "no":
            found.extend(r.because.get() for r in self.fired if r.effect.action == "prefer")
        if self.pipeline_because:
            found.append(self.pipeline_because)
        return tuple(dict.fromkeys(found))

    def time_line(self) -> str | None:
        """The plan's time and cost in words (None when unknown)."""
        time, cost = self.timed.time, self.timed.cost
        if time is None or cost is None:
            return None
        low, high = time.hours_band
        if not time.stages:
            return t("No training: nothing to run before use (serving cost per query is not counted).")
        if cost.usd == 0:  # a free tier
            spent = t("no charge ({hours} GPU-hours)", hours=significant(cost.gpu_hours))
        elif cost.usd is not None:
            hours = significant(cost.gpu_hours)
            spent = t("about ${usd:,.2f} ({hours} GPU-hours)", usd=cost.usd, hours=hours)
        else:
            spent = t("{hours} GPU-hours", hours=significant(cost.gpu_hours))
        about, band = hours_text(time.hours), band_text(low, high)
        values = {
            "time": about if band == about else t("{time} ({band})", time=about, band=band),
            "gpus": time.gpus,
            "rate": time.tokens_per_second,
            "spent": spent,
        }
        if self.kind == "no-training":
            line = nt(
                "Setup takes about {time} on {gpus} GPU, {rate:,.0f} tokens/s; {spent}.",
                "Setup takes about {time} on {gpus} GPUs, {rate:,.0f} tokens/s; {spent}.",
                time.gpus,
                **values,
            )
        else:
            line = nt(
                "Training takes about {time} on {gpus} GPU at micro-batch {batch}, {rate:,.0f} tokens/s; "
                "{spent}.",
                "Training takes about {time} on {gpus} GPUs at micro-batch {batch}, {rate:,.0f} tokens/s; "
                "{spent}.",
                time.gpus,
                batch=batches_text(s.micro_batch for s in time.stages),
                **values,
            )
        e = self.estimate
        if (
            e is not None
            # Not a way of training that never checkpoints (prefix tuning: PEFT refuses it).
            and MEMORY_MODELS[e.memory_model].checkpointing
            and default_checkpointing(e.shape)
            and not e.settings.gradient_checkpointing
        ):
            # Turned off by --priority cost|speed where it fits (an expert's review: the faster plan
            # read as the slower one, its warnings comparing it as checkpointed).
            line += " " + t(
                "It trains without gradient checkpointing, which fits here and is faster: each layer's "
                "activations stay on the GPU."
            )
        sampling = sum(s.generation_seconds for s in time.stages)
        if (
            time.seconds
            and sampling > SAMPLING_SHARE * time.seconds
            and time.vllm_would_sample
            and not self._asked_for_vllm
            and not self.vllm_excluded
        ):
            line += " " + t(
                "Sampling the completions is {percent} % of it, with transformers' generate: TRL's "
                "use_vllm=True (a colocated vLLM engine) samples several times faster; add --vllm to "
                "time it and to write it into the recipe.",
                percent=round(100 * sampling / time.seconds),
            )
        if time.hours > LONG_RUN_HOURS and self.kind != "no-training":
            week = math.ceil(time.hours * time.gpus / WEEK_HOURS)
            several = any(s.workload.epochs > 1 for s in time.stages)
            line += " " + (
                t(
                    "That is more than a month of training: try a sample of the data first (quality often "
                    "levels off long before every example), fewer epochs (--epochs 1), or more GPUs: "
                    "finishing within a week takes at least {gpus} such GPUs.",
                    gpus=week,
                )
                if several
                else t(
                    "That is more than a month of training: try a sample of the data first (quality often "
                    "levels off long before every example), or more GPUs: finishing within a week takes "
                    "at least {gpus} such GPUs.",
                    gpus=week,
                )
            )
        return line

    @property
    def _asked_for_vllm(self) -> bool:
        return self.estimate is not None and self.estimate.settings.vllm

    @property
    def caveats(self) -> tuple[str, ...]:
        found = list(self.warnings)
        need, have = self.memory_gb, self.capacity_gb
        if self.fit == "tight":
            found.append(
                t(
                    "Tight: needs about {need:g} of {have:g} GB per GPU, inside the {margin} % safety "
                    "margin: fragmentation or a longer batch can run out of memory.",
                    need=need,
                    have=have,
                    margin=SAFETY_PERCENT,
                )
            )
        if self.fit == "no":
            found.append(
                t(
                    "Does not fit: needs about {need:g} GB per GPU, the GPU has {have:g} GB usable.",
                    need=need,
                    have=have,
                )
            )
        if self.offload in OFFLOADED:
            found.append(
                t(
                    "Fits only with CPU offload of the {what}: it needs about {host:g} GB of CPU RAM, "
                    "and each step waits on the CPU and PCIe.",
                    what=t(OFFLOADED[self.offload]),
                    host=self.ram_gb,
                )
            )
        if self.offload == "params":
            # Measured in benchmarks/measured.py: 0.75-1.07 of the peaks (most under 1), ~1.0 unoffloaded.
            found.append(
                t(
                    "With parameter offload the GPU figure is a floor: it counts two gathered layers, and "
                    "measured FSDP runs peaked higher (Answer.AI's Llama-2-70B QLoRA on 2x RTX 3090: 16.0 GB "
                    "reserved, estimated 14.8 GB). Keep a few GB spare."
                )
            )
        if self.over_limit is not None:
            found.append(t("Excluded: it {limit}.", limit=self.over_limit))
        elif self.timed.at_risk is not None:
            found.append(t("Within the limits at the estimate, but it {risk}.", risk=self.timed.at_risk))
        for rule in self.fired:
            action, because = rule.effect.action, rule.because.get()
            if action == "avoid":
                found.append(because)
            elif action == "prefer" and self.fit == "no":
                found.append(
                    t(
                        "A rule prefers this plan, but it does not fit this hardware. The rule: {because} "
                        "({source})",
                        because=because,
                        source=rule.source,
                    )
                )
        found.extend(self.pitfalls)
        return tuple(dict.fromkeys(found))


# Searching for changes runs the estimator dozens of times; a batch asks it again for every
# profile that leads to the same estimate, so the answers are remembered (the estimate is kept
# with its entry, so its id stays its own).
_CHANGES: dict[tuple[int, Alternatives], tuple[Estimate, list[Change]]] = {}
CHANGES_MEMO_LIMIT = 4096
SAMPLING_SHARE = 0.5  # an online plan whose sampling is more than this share of its time names vLLM
# A run longer than this is called out with what shortens it; a week is what it is shortened to
# (GPU-hours over a week's hours: a bound, since GPUs never scale perfectly).
LONG_RUN_HOURS = 30 * 24
WEEK_HOURS = 7 * 24


CHANGE_WORDS = {
    "seq_len": N_("sequences of at most {value} tokens ({gb:g} GB)"),
    "batch_size": N_("a micro-batch of {value} ({gb:g} GB)"),
    "generation_batch": N_("--generation-batch {value}: fewer completions sampled at once ({gb:g} GB)"),
    "gradient_checkpointing": N_("gradient checkpointing on ({gb:g} GB)"),
    "vllm": N_("sampling without --vllm, whose engine holds a share of every GPU ({gb:g} GB)"),
    "vllm_server_gpus": N_(
        "--vllm-server-gpus {value}: a vLLM server on GPUs of its own, the others training ({gb:g} GB)"
    ),
    "optimizer": N_("the {value} optimizer ({gb:g} GB)"),
    "activation_offloading": N_(
        "the checkpointed activations in CPU RAM (--activation-offloading; TRL activation_offloading=True) "
        "({gb:g} GB)"
    ),
    "stack": N_("the {value} stack (--stack {value}) ({gb:g} GB)"),
    "tiled_mlp": N_(
        "Unsloth's tiled MLP (unsloth_tiled_mlp=True; estimate --tiled-mlp sizes it) ({gb:g} GB)"
    ),
    "quantized_experts": N_(
        "the routed experts in 4 bits too (--quantize-experts; axolotl's quantize_moe_experts, one whole "
        "model per GPU) ({gb:g} GB)"
    ),
    "method": N_("{value} instead ({gb:g} GB)"),
    "gpus": N_("{value} GPUs ({gb:g} GB)"),
    "offload": N_("CPU offload of the {value} ({gb:g} GB)"),
    "gpu_memory": N_("a GPU with {value} GiB or more usable ({gb:g} GB)"),
    "mac_memory": N_("a Mac with {value:g} GB of unified memory or more ({gb:g} GB)"),
}


def change_text(change: Change) -> str:
    """One change that makes a plan fit, in words, with the memory it needs then."""
    value = t(OFFLOADED[str(change.value)]) if change.change == "offload" else change.value
    return t(CHANGE_WORDS[change.change], value=value, gb=change.per_gpu_gb)


def _changes_for(e: Estimate, alternatives: Alternatives) -> list[Change]:
    key = (id(e), alternatives)
    found = _CHANGES.get(key)
    if found is None:
        others = [(m, at_rank(estimator(m, "qlora", e.shape), rank)) for m, rank in alternatives]
        run = estimator(e.method, e.memory_model, e.shape)
        stages = tuple(s.settings for s in e.other_stages)
        if e.settings.offload in OFFLOADED:  # what would fit on the GPUs alone
            stages = tuple(s._replace(offload="none") for s in stages)
            changes = changes_that_fit(run, e.settings._replace(offload="none"), others, stages=stages)
            changes = [c for c in changes if c.change != "offload"]
        else:
            changes = changes_that_fit(run, e.settings, others, stages=stages)
        if len(_CHANGES) >= CHANGES_MEMO_LIMIT:
            _CHANGES.clear()
        found = _CHANGES[key] = (e, changes)
    return list(found[1])


def hours_text(hours: float) -> str:
    """Hours as people say them: minutes below one hour, days beyond two."""
    if hours < 1 / 60:
        return t("<1 min")
    if round(hours * 60) < 60:
        return t("{minutes} min", minutes=round(hours * 60))
    hours = max(hours, 1.0)  # 59.6 minutes is "1 h", not "60 min" (a newcomer's review)
    if hours < 48:
        return t("{hours:.2g} h", hours=hours) if hours < 10 else t("{hours:.0f} h", hours=hours)
    days = hours / 24
    if days >= DAYS_SAID_AS_YEARS:  # "845148307 days" was unreadable (a newcomer's review)
        years = days / DAYS_PER_YEAR
        return t("{years} yr", years=number(years, ".2g" if years < 10 else ",.0f"))
    return t("{days:.2g} days", days=days) if days < 10 else t("{days:.0f} days", days=days)


DAYS_SAID_AS_YEARS = 1_000
DAYS_PER_YEAR = 365.25


def band_text(low: float, high: float) -> str:
    """'1.9-4.6 h', '40 min-1.2 h': a range of hours, the unit said once where it is shared (a
    run of seconds, rounded to no hours, is under a minute: a plan without training says so
    before it asks)."""
    a, b = hours_text(low), hours_text(high)
    if a == b or a.startswith("<"):
        return b if not a.startswith("<") or b.startswith("<") else t("up to {time}", time=b)
    unit_a, unit_b = a.split(" ", 1)[1], b.split(" ", 1)[1]
    return f"{a.split(' ')[0]}-{b}" if unit_a == unit_b else f"{a}-{b}"


# The recipe format that writes stages TRL trains only in trl.experimental (Plan.experimental_stages),
# where the Python recipes keep to stable APIs: LLaMA-Factory's pref_loss orpo / simpo.
EXPERIMENTAL_STAGES_TRAINER = "llamafactory"


class Recommendation(NamedTuple):
    profile: dict[str, Any]
    facts: dict[str, Scalar]
    notes: tuple[str, ...]
    plans: tuple[Plan, ...]
    excluded: tuple[Plan, ...]
    model: ModelInfo | None = None  # the resolved model (what a recipe loads, where it came from)
    request: Profile | None = None  # the profile as given (what `ft-atlas recipe ...` repeats)
    evaluation: tuple[Advice, ...] = ()  # how to evaluate the result, for this profile
    # Adds time and cost to a plan when only the plans shown need them (see shown()); None when
    # the plans carry them already, or there is no data to time.
    timing: Callable[[Plan], Plan] | None = None

    def shown(self, top: int) -> tuple[Plan, ...]:
        """The first `top` plans, with their time and cost."""
        plans = self.plans[:top]
        return plans if self.timing is None else tuple(self.timing(p) for p in plans)

    def trace(self, plan: Plan) -> tuple[RuleHit, ...]:
        """Every decision behind the plan, each with its source: the ratings its score starts
        from, the pipeline rule that chose its stages, its memory verdict (and the GPUs it
        uses), then each rule that fired, with the values of the facts it read."""
        seen = {**self.facts, **plan.own_facts()}

        def read(condition: Any) -> dict[str, Scalar]:
            return {name: seen.get(name) for name in dict.fromkeys(facts_that_held(condition, seen))}

        hits: list[RuleHit] = []
        if plan.basis is not None:
            words, source = plan.basis
            hits.append(RuleHit("ratings", "base", 0.0, words, source, {"priority": seen.get("priority")}))
        spec = plan.pipeline_spec
        if spec is not None and plan.pipeline:
            hits.append(
                RuleHit(spec.id, "pipeline", spec.weight, spec.because.get(), spec.source, read(spec.when))
            )
        memory = _memory_words(plan)
        if memory is not None:
            facts: dict[str, Scalar] = {
                "plan.fit": plan.fit,
                "plan.memory_gb": plan.memory_gb,
                "plan.gpus": plan.gpus,
            }
            hits.append(RuleHit("memory", "fit", 0.0, memory, MEMORY_SOURCE, facts))
        hits += [
            RuleHit(r.id, r.effect.action, r.effect.weight, r.because.get(), r.source, read(r.when))
            for r in plan.fired
        ]
        return tuple(hits)


MEMORY_SOURCE = "ft-atlas memory estimator (docs/memory.md)"


def _memory_words(plan: Plan) -> str | None:
    """The memory verdict in words, with the setup it was estimated for."""
    e = plan.estimate
    if e is None or plan.memory_gb is None or plan.capacity_gb is None:
        return None
    verdict = {"yes": N_("fits"), "tight": N_("fits only tightly"), "no": N_("does not fit")}.get(
        str(e.fit), N_("unknown")
    )
    setup = translated(plan.variant) if plan.variant else t("the method's default setup")
    count = e.settings.all_gpus  # plan.gpus, known to be set: the plan has its estimate
    gpus = nt("{n} GPU", "{n} GPUs", count, n=count)
    if plan.spare_gpus and plan.fewer_gpus_explained:
        gpus = nt(
            "{n} GPU of {available}", "{n} GPUs of {available}", count, n=count, available=plan.gpus_available
        )
    elif plan.spare_gpus:
        gpus = nt(
            "{n} GPU of {available} (the fewest it fits on)",
            "{n} GPUs of {available} (the fewest it fits on)",
            count,
            n=count,
            available=plan.gpus_available,
        )
    return t(
        "{verdict}: about {need:g} GB per GPU of {have:g} GB usable, with {setup} on {gpus}.",
        verdict=t(verdict),
        need=plan.memory_gb,
        have=plan.capacity_gb,
        setup=setup,
        gpus=gpus,
    )
