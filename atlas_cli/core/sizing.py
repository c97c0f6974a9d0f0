"""`ft-atlas estimate` as a function: a profile and the estimator's options in, every estimate
(or one method's) out, with the largest length or batch that fits and the changes that would make
a plan fit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from atlas_cli.core.engine import GPU_COUNT_TIE, fastest_within_tie, fewer_gpu_counts, rules_leaving_out
from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.facts import profile_facts, stage_facts
from atlas_cli.core.lengths import idle_gpus_note, length_notes, longest_past_positions
from atlas_cli.core.memory.parallel import unshardable_base
from atlas_cli.core.memory.search import (
    Change,
    Estimator,
    at_rank,
    changes_that_fit,
    estimator,
    largest,
    placed,
    shorter_prompt_note,
    with_experts_quantized,
)
from atlas_cli.core.plans import hours_text
from atlas_cli.core.profile import Profile, choice_key, trains_classifier
from atlas_cli.core.resolve import (
    DEFAULT_LORA_RANK,
    Hardware,
    ModelInfo,
    assumed_memory_note,
    idle_options,
    on_a_mac,
    resolve_hardware,
    resolve_model,
    run_server_gpus,
    settings_for,
    strategy_warnings,
    training_stack,
    with_attention,
)
from atlas_cli.core.throughput.plans import (
    Epochs,
    Timed,
    TimeInputs,
    time_and_cost,
    time_inputs,
    usual_epochs,
)
from atlas_cli.core.variants import card_rank, objective_id, single, sweep, trainable_method
from atlas_cli.errors import UsageError, not_one_of
from atlas_cli.i18n import N_, stage_label, t
from atlas_cli.kb.behaviour import Scalar
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.conditions import comparisons, facts_used
from atlas_cli.kb.records import Method, Rule
from atlas_cli.kb.vocabulary import (
    ATTENTIONS,
    LORA_TARGETS,
    MEMORY_MODELS,
    NO_DEEPSPEED_STACKS,
    OFFLOADS,
    OPTIMIZERS,
    PRECISIONS,
    SHARDINGS,
    values_of,
)

MAX_FIELDS = ("seq-len", "batch-size")


def attention_named(text: str) -> str:
    """--attention by its value or a kernel's name (`--attention sdpa`, `flash_attention_2`),
    compared as every choice is (profile.choice_key)."""
    key = choice_key(text)
    return next((c.value for c in ATTENTIONS if key in {choice_key(n) for n in (c.value, *c.aliases)}), text)


@dataclass(frozen=True, slots=True)
class EstimateOptions:
    """The estimator's settings that are not part of the profile (flags of `estimate`)."""

    method: str | None = None
    objective: str = "sft"
    precision: str | None = None
    optimizer: str = "adamw"
    gradient_checkpointing: bool | None = None
    lora_rank: int | None = None  # None: each method's own rank (its card's r)
    quant_bits: int | None = None  # None: 4, and no word about a method without a quantized base
    sharding: str = "auto"
    offload: str = "none"
    lora_targets: str = "all-linear"
    lora_dropout: float = 0.0
    # A QLoRA base's fused routed experts load 4-bit too (True), or stay 16-bit whatever the stack
    # (False); None: as the stack loads them.
    quantize_experts: bool | None = None
    galore_layerwise: bool = False  # GaLore steps each layer as its gradient arrives
    # Full weights step as their gradients arrive (torchtune's optimizer_in_bwd); GaLore: layer-wise
    optimizer_in_backward: bool = False
    fsdp: bool = False  # ZeRO-3 timed as PyTorch FSDP runs it, not DeepSpeed (EstimateSettings.fsdp)
    tiled_mlp: bool = False  # Unsloth's TiledMLP (EstimateSettings.tiled_mlp); --stack unsloth only
    attention: str = "auto"  # a value of kb.vocabulary.ATTENTIONS
    max: str | None = None  # seq-len or batch-size: report the largest that fits

    def check(self) -> None:
        """Each option against its vocabulary, with the flag's name in the message."""
        for flag, value, allowed in (
            ("--precision", self.precision, list(PRECISIONS)),
            ("--optimizer", self.optimizer, list(OPTIMIZERS)),
            ("--sharding", self.sharding, ["auto", *values_of(SHARDINGS)]),
            ("--offload", self.offload, list(values_of(OFFLOADS))),
            ("--lora-targets", self.lora_targets, list(LORA_TARGETS)),
            ("--max", self.max, list(MAX_FIELDS)),
            ("--attention", self.attention, list(values_of(ATTENTIONS))),
        ):
            if value is not None and value not in allowed:
                raise UsageError(not_one_of(flag, value, allowed))
        if self.quant_bits not in (None, 4, 8):
            raise UsageError(t("--quant-bits: must be 4 or 8"))
        if not 0 <= self.lora_dropout < 1:
            raise UsageError(t("--lora-dropout: a probability from 0 up to (not including) 1"))


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    estimate: Estimate
    warnings: list[str]
    timed: Timed  # training time and cost of this setup for the profile's data
    largest: int | None = None  # with --max: within the safety margin
    largest_tight: int | None = None  # with --max: within capacity, past the margin
    to_fit: list[Change] = field(default_factory=list)
    # Why recommend leaves this method out for the profile: in every method's JSON rows, not said
    # on stderr for each (a decoder's bottleneck adapters would be told on every run).
    left_out: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Report:
    info: ModelInfo
    hardware: Hardware
    rows: list[Row]
    warnings: list[str]


UNSHARDABLE_8_BIT = N_(
    "--sharding zero3: ZeRO-3/FSDP cannot shard an 8-bit bitsandbytes base (its int8 weights do not "
    "flatten with the rest, bitsandbytes#1709): estimated as ZeRO-2, the base whole on every GPU; "
    "4-bit QLoRA shards"
)


# Pure bf16 sharded is what FSDP2 runs in torchtune and axolotl (their measured rows fit it), not
# what DeepSpeed or FSDP1 through accelerate run: Liger's Qwen2-7B FSDP1 run (bf16-loaded) peaked
# at 41.2 GB, 1.5x its pure-bf16 estimate and 0.95x its bf16 one.
SHARDED_PURE_BF16 = N_(
    "--precision pure-bf16 under {sharding} holds with FSDP2 in torchtune or axolotl; DeepSpeed's ZeRO "
    "keeps fp32 master weights whatever the model's dtype, and accelerate upcasts FSDP1's trainable "
    "parameters to fp32 under mixed precision (huggingface/accelerate#2674): for those (the HF Trainer, "
    "TRL, LLaMA-Factory, ft-atlas's recipes) --precision bf16 is the estimate"
)
UNSHARDED_PURE_BF16 = N_(
    "--precision pure-bf16 runs plain data parallel here, as ft-atlas's recipes write it (DeepSpeed's "
    "ZeRO keeps fp32 master weights); --fsdp sizes it sharded, as FSDP2 trains it in torchtune or axolotl"
)


def objective_data_kind(catalog: Catalog, objective: str | None) -> str | None:
    """The data an objective trains on: what the pipeline rules that end with it compare
    data_kind with (reward-function for GRPO); without such a rule, what its training block
    implies (prompts scored by a reward for an online objective, pairs for a paired one), or None."""
    for rule in catalog.kb.pipelines:
        if rule.pipeline[-1:] != [objective]:
            continue
        for c in comparisons(rule.when):
            if c.fact == "data_kind" and c.op == "eq" and isinstance(c.value, str):
                return c.value
    found = catalog.objectives.get(objective or "")
    if found is None:
        return None
    if found.online:
        return "reward-function"
    return "preferences" if found.training.paired else None


def run_estimate(catalog: Catalog, profile: Profile, options: EstimateOptions) -> Report:
    options.check()
    hardware = resolve_hardware(catalog, profile.gpu, profile.vram, profile.gpus, profile.network_gbps)
    info = resolve_model(catalog, profile.model, profile.model_size)
    epochs = usual_epochs(catalog.kb.methods)
    settings, warnings, inputs = _settings(catalog, profile, options, hardware, info, epochs)
    info, settings = with_attention(info, settings, options.attention)
    warnings += assumed_memory_note(hardware)
    facts = _facts(catalog, profile, hardware, info, settings)
    sizing = _Sizing(
        catalog,
        options,
        info,
        hardware,
        settings,
        inputs,
        epochs,
        rules_leaving_out(catalog, [m.id for m in catalog.kb.methods], facts),
    )
    if options.method is None:
        return sizing.every_method(warnings)
    return sizing.one_method(trainable_method(catalog, options.method), warnings)


def _settings(
    catalog: Catalog,
    profile: Profile,
    options: EstimateOptions,
    hardware: Hardware,
    info: ModelInfo,
    epochs: Mapping[str, Epochs],
) -> tuple[EstimateSettings, list[str], TimeInputs]:
    """The settings every estimate starts from, the warnings they raise, and what times them."""
    inputs = time_inputs(profile)
    objective = inputs.sampling.apply(catalog.objectives[objective_id(catalog, options.objective)])
    settings, warnings = settings_for(
        info,
        hardware,
        objective=objective,
        seq_len=profile.sized_seq_len,
        batch_size=profile.micro_batch,
        precision=options.precision,
        optimizer=options.optimizer,
        gradient_checkpointing=options.gradient_checkpointing,
        lora_rank=options.lora_rank or DEFAULT_LORA_RANK,
        quant_bits=options.quant_bits,
        stack=training_stack(profile.stack, hardware, info, (objective,)),
        offload=options.offload,
        lora_targets=options.lora_targets,
        lora_experts=profile.lora_experts,
        vllm=profile.vllm,
        vllm_server_gpus=run_server_gpus(profile, (objective,)),
        activation_offloading=profile.activation_offloading,
        # `estimate` asks no goal: labelled data is a classifier's (profile.trains_classifier).
        classifier_head=trains_classifier(None, profile.data_kind, info.sized.architecture, (objective.id,)),
    )
    # Timed at the objective's own typical example (GRPO's prompt and completion) where no data
    # kind is given, as `recommend` times the pipeline that data leads to.
    trained_on = objective_data_kind(catalog, settings.objective.id) if profile.data_kind is None else None
    if trained_on is not None:
        inputs = inputs._replace(data_kind=trained_on)
    classifier = settings.classifier_head or info.sized.architecture == "encoder"
    warnings += length_notes(profile, info, settings.seq_len, (settings.objective,), classifier, trained_on)
    warnings += idle_options(profile, info.shape, (settings.objective,))
    warnings += idle_gpus_note(inputs, settings.gpus, settings.seq_len, (settings.objective,))
    usual = epochs.get(settings.objective.id)
    if usual is not None and profile.examples is not None and profile.epochs is None and hardware.device:
        stage = stage_label(catalog.methods[settings.objective.id].name)
        note = usual.note(stage, profile.examples, settings.classifier_head)
        warnings += [] if note is None else [note]
    if options.quantize_experts is not None and not info.sized.is_moe:
        flag = "--quantize-experts" if options.quantize_experts else "--no-quantize-experts"
        warnings.append(t("{flag}: this model has no routed experts (a dense model): ignored", flag=flag))
    if options.quantize_experts:
        # As axolotl runs it, with transformers' loss, unless a stack was asked for.
        quantized = settings._replace(quantized_experts=True)
        settings = with_experts_quantized(settings) if profile.stack is None else quantized
    elif options.quantize_experts is False and settings.stack == "mlx":
        # mlx_lm.convert -q quantizes the experts' SwitchLinear layers with the rest.
        mlx = t("--no-quantize-experts: mlx-lm quantizes the routed experts with the rest: ignored")
        warnings.append(mlx)
    elif options.quantize_experts is False:
        settings = settings._replace(sixteen_bit_experts=True)
    if options.lora_dropout:
        if profile.lora_experts:
            raise UsageError(
                t(
                    "--lora-dropout with --lora-experts: PEFT adapts routed experts through ParamWrapper, "
                    "which refuses any dropout ('does not work with lora_dropout != 0'); give 0"
                )
            )
        settings = settings._replace(lora_dropout=options.lora_dropout)
    if options.galore_layerwise and options.method is None:
        warnings.append(
            t("--galore-layerwise: give --method galore (it sizes one method's variant): ignored")
        )
    if options.optimizer_in_backward and options.method is None:
        warnings.append(
            t("--optimizer-in-backward: give --method (it sizes one method's optimizer step): ignored")
        )
    if options.sharding != "auto":
        settings = settings._replace(sharding=options.sharding)
    if options.tiled_mlp:
        if settings.stack == "unsloth":
            settings = settings._replace(tiled_mlp=True)
        else:
            tiled = t("--tiled-mlp: Unsloth's (unsloth_tiled_mlp=True); give --stack unsloth: ignored")
            warnings.append(tiled)
    if options.fsdp:
        if options.sharding in ("ddp", "zero2"):
            warnings.append(
                t(
                    "--fsdp: times ZeRO-3 only, which --sharding {sharding} is not: ignored",
                    sharding=options.sharding,
                )
            )
        settings = settings._replace(fsdp=True)
    warnings += _outside_deepspeed(options, settings)
    return settings, warnings, inputs


def _outside_deepspeed(options: EstimateOptions, settings: EstimateSettings) -> list[str]:
    """A sharding or offload asked of a stack that runs without DeepSpeed or FSDP (Unsloth): said,
    and estimated with data parallel and no offload, as it runs (memory.search.data_parallel_only)."""
    if settings.stack not in NO_DEEPSPEED_STACKS:
        return []
    found = []
    if options.sharding not in ("auto", "ddp") and settings.gpus > 1:
        found.append(
            t(
                "--sharding {sharding}: Unsloth runs data parallel only, a whole model on each GPU (it has "
                "no DeepSpeed or FSDP path): estimated with ddp",
                sharding=options.sharding,
            )
        )
    if options.offload != "none":
        found.append(
            t(
                "--offload {offload}: offload is DeepSpeed's (ZeRO-Offload), which Unsloth does not run: "
                "estimated without it",
                offload=options.offload,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class _Sizing:
    """One `estimate` run's resolved inputs, shared by its every-method and one-method reports."""

    catalog: Catalog
    options: EstimateOptions
    info: ModelInfo
    hardware: Hardware
    settings: EstimateSettings
    inputs: TimeInputs
    epochs: Mapping[str, Epochs]
    left_out: Mapping[str, list[Rule]]

    @property
    def auto(self) -> bool:
        return self.options.sharding == "auto"

    @property
    def rank_given(self) -> bool:
        return self.options.lora_rank is not None

    @property
    def field_name(self) -> str | None:
        return self.options.max.replace("-", "_") if self.options.max else None

    def every_method(self, warnings: list[str]) -> Report:
        rows = [
            replace(self._row(label, e, extra), left_out=_left_out_notes(self.left_out[e.method]))
            for label, e, extra in sweep(
                self.catalog, self.info, self.hardware, self.settings, self.auto, self.rank_given
            )
        ]
        if self.field_name == "seq_len":
            warnings += longest_past_positions(max((r.largest or 0 for r in rows), default=0), self.info)
        return Report(self.info, self.hardware, rows, warnings)

    def one_method(self, method: Method, warnings: list[str]) -> Report:
        info, settings = self.info, self.settings
        if method.memory_model == "bitfit" and info.has_bias is False:
            raise UsageError(
                t(
                    "--method {method}: it trains bias terms only, and {model} has none (Llama, Mistral, "
                    "Gemma, Phi-3, Phi-4 and T5 set bias=False): nothing would train",
                    method=method.id,
                    model=info.label,
                )
            )
        warnings += _ignored_options(self.options, method.memory_model, settings.gpus)
        stepped_in_backward = self.options.galore_layerwise or self.options.optimizer_in_backward
        if stepped_in_backward and method.memory_model == "galore":
            # Layer-wise GaLore takes no DDP: one GPU, as recommend's variant (core/variants.py).
            settings = settings._replace(optimizer_in_backward=True, gpus=1)
        elif self.options.optimizer_in_backward and holds_whole_gradient(method.memory_model):
            settings = settings._replace(optimizer_in_backward=True)
        warnings += _left_out_notes(self.left_out[method.id])
        label, result = single(method, info, settings, self.hardware, self.auto, self.rank_given)
        if result.memory_model == "inference" and result.settings.seq_len < settings.prompt_len:
            warnings.append(shorter_prompt_note(result.settings.seq_len, settings.prompt_len))
        row = self._row(label, result, [])
        if self.field_name == "seq_len":
            warnings += longest_past_positions(row.largest, info)
        if result.fit in ("tight", "no"):
            row = replace(row, to_fit=self._changes_that_fit(method, result, warnings))
        warnings += self._faster_on_fewer(method, row)
        return Report(info, self.hardware, [row], warnings)

    def _faster_on_fewer(self, method: Method, row: Row) -> list[str]:
        """Where fewer of the GPUs would train the plan faster, the number recommend then takes
        without --priority cost (Engine._fastest_count: the fastest, counts within GPU_COUNT_TIE
        of it tying to fewer); an explicit --gpus is estimated as asked."""
        result, hours = row.estimate, row.timed.hours
        one = result.settings.gpus < 2 or result.settings.offload != "none"
        if hours is None or result.fit != "yes" or one:
            return []
        timed: list[tuple[float, int]] = []
        for count in fewer_gpu_counts(result.settings.gpus):
            on = (self.settings._replace(gpus=count), self.hardware._replace(gpus=count))
            _, fewer = single(method, self.info, *on, self.auto, self.rank_given)
            taken = self._timed(fewer).hours
            if fewer.fit == "yes" and taken is not None:
                timed.append((taken, count))
        # recommend's rule over every count, this one included (fewer GPUs first): the fastest,
        # counts within a tie of it going to fewer.
        taken, chosen = fastest_within_tie([*timed, (hours, result.settings.gpus)]) or (hours, 0)
        if chosen in (0, result.settings.gpus):
            return []
        if hours <= min(h for h, _ in timed) * GPU_COUNT_TIE:
            # A tie, as recommend words it: the other GPUs stay free (a review: estimate was silent
            # where recommend took 8 of 16 L40S at 28 h against 27 h).
            return [
                t(
                    "On {fewer} of these {gpus} GPUs it would take about as long ({taken} against "
                    "{hours}): without --priority cost, recommend puts it on {fewer} and leaves the others "
                    "free.",
                    fewer=chosen,
                    gpus=result.settings.gpus,
                    taken=hours_text(taken),
                    hours=hours_text(hours),
                )
            ]
        return [
            t(
                "On {fewer} of these {gpus} GPUs it would take {faster} instead of {slower}: the traffic "
                "between more GPUs outweighs their compute (without --priority cost, recommend puts it on "
                "{fewer}).",
                fewer=chosen,
                gpus=result.settings.gpus,
                faster=hours_text(taken),
                slower=hours_text(hours),
            )
        ]

    def _changes_that_fit(self, method: Method, result: Estimate, warnings: list[str]) -> list[Change]:
        """What would make a tight or failing plan fit: its own settings, or a QLoRA method; on a
        Mac, a larger Mac rather than a larger GPU. Where a rule leaves the method out while vLLM
        samples (gpt-oss), whatever its memory, they are sized sampling without it."""
        run = estimator(method.id, result.memory_model, self.info.sized)
        settings = result.settings
        if settings.vllm and any("vllm" in facts_used(r.when) for r in self.left_out[method.id]):
            settings = settings._replace(vllm=False, vllm_server_gpus=0)
            warnings.append(t(TO_FIT_WITHOUT_VLLM))
            without = placed(run, settings, self.auto)
            if without.fit == "yes":
                return [Change("vllm", False, without.per_gpu_gb)]
        quantized = [
            m
            for m in self.catalog.kb.methods
            if m.memory_model == "qlora" and m.id != method.id and not self.left_out[m.id]
        ]
        alternatives = [
            (
                m.id,
                at_rank(estimator(m.id, "qlora", self.info.sized), None if self.rank_given else card_rank(m)),
            )
            for m in quantized
        ]
        changes = changes_that_fit(run, settings, alternatives, self.auto)
        return [on_a_mac(self.catalog, c) for c in changes] if self.hardware.unified else changes

    def _row(self, label: str, result: Estimate, warnings: list[str]) -> Row:
        s = result.settings
        if s.precision == "pure-bf16" and s.sharding != "ddp":
            warnings = [*warnings, t(SHARDED_PURE_BF16, sharding=s.sharding)]
        elif s.precision == "pure-bf16" and s.gpus > 1 and self.auto and result.fit != "yes":
            warnings = [*warnings, t(UNSHARDED_PURE_BF16)]
        run = estimator(result.method, result.memory_model, self.info.sized)
        return _row(label, result, warnings, run, self.field_name, self._timed(result), self.options.sharding)

    def _timed(self, result: Estimate) -> Timed:
        stages = (result.settings.objective,) if result.objective is not None else ()
        hardware = self.hardware
        return time_and_cost(result, stages, hardware.device, hardware.price, self.inputs, self.epochs)


# What `estimate` is not told (it has no --goal, --priority or --knowledge-changes): the profile's
# defaults for them are no answer of the user's, so a rule that reads them is not judged.
UNASKED_FACTS = ("goal", "knowledge_changes", "priority")


def _facts(
    catalog: Catalog, profile: Profile, hardware: Hardware, info: ModelInfo, settings: EstimateSettings
) -> dict[str, Scalar]:
    """The facts `estimate` knows: the profile's, less those it never asks, and the stage sized."""
    facts = profile_facts(profile, hardware, info)
    facts |= stage_facts(tuple(catalog.objectives), (settings.objective.id,))
    facts |= dict.fromkeys(UNASKED_FACTS)
    if not profile.data_kind_given:
        facts["data_kind"] = None  # the goal's usual data
    return facts


TO_FIT_WITHOUT_VLLM = N_(
    "to fit: sized sampling with transformers' generate (without --vllm), since recommend leaves this "
    "plan out with vLLM whatever its memory"
)


def _left_out_notes(rules: list[Rule]) -> list[str]:
    """Why `recommend` leaves this method out for this profile: sized all the same, as asked."""
    return [
        t("recommend leaves this out: {because} (rule {rule})", rule=r.id, because=r.because.get())
        for r in rules
    ]


def holds_whole_gradient(memory_model: str | None) -> bool:
    """Whether a way of training holds a gradient of the whole model's weights, which stepping
    them in the backward saves (not adapters over a frozen base, nor serving)."""
    info = MEMORY_MODELS[memory_model or "inference"]
    return not info.frozen_base and info.family != "none"


def _ignored_options(options: EstimateOptions, memory_model: str | None, gpus: int) -> list[str]:
    """Options given that change nothing for this method or these GPUs: said, not dropped."""
    ignored = []
    info = MEMORY_MODELS[memory_model or "inference"]
    if options.objective != "sft" and info.family == "none":  # serves the model, trains nothing
        ignored.append(
            t(
                "--objective {objective}: {method} trains nothing, so no objective applies: ignored",
                objective=options.objective,
                method=options.method,
            )
        )
    if options.quantize_experts and not info.quantized_base:
        ignored.append(
            t(
                "--quantize-experts: {method} trains on a 16-bit base, not a quantized one (QLoRA): ignored",
                method=options.method,
            )
        )
    if options.lora_dropout and not info.low_rank:
        ignored.append(t("--lora-dropout: {method} has no LoRA adapters: ignored", method=options.method))
    if options.optimizer_in_backward and not holds_whole_gradient(memory_model):
        ignored.append(
            t(
                "--optimizer-in-backward: {method} holds no whole-model gradient (it trains adapters or "
                "nothing): ignored",
                method=options.method,
            )
        )
    if options.galore_layerwise and memory_model != "galore":
        ignored.append(t("--galore-layerwise: {method} is not GaLore: ignored", method=options.method))
    elif (
        (options.galore_layerwise or options.optimizer_in_backward) and memory_model == "galore" and gpus > 1
    ):
        flag = "--galore-layerwise" if options.galore_layerwise else "--optimizer-in-backward"
        ignored.append(
            t(
                "{flag}: layer-wise GaLore supports no DDP (transformers, LLaMA-Factory): estimated on one "
                "GPU",
                flag=flag,
            )
        )
    if options.quant_bits is not None and not info.quantized_base:
        ignored.append(
            t(
                "--quant-bits {bits}: {method} trains on a 16-bit base, not a quantized one (QLoRA): ignored",
                bits=options.quant_bits,
                method=options.method,
            )
        )
    if options.sharding not in ("auto", "ddp") and gpus > 1 and info.data_parallel_only:
        ignored.append(
            t(
                "--sharding {sharding}: {method} runs with data parallel only (its optimizer projects "
                "each weight's whole gradient; LLaMA-Factory: 'GaLore and APOLLO are incompatible with "
                "DeepSpeed yet'): estimated with ddp",
                sharding=options.sharding,
                method=options.method,
            )
        )
    if options.offload != "none" and info.data_parallel_only:
        ignored.append(
            t(
                "--offload {offload}: {method} runs with data parallel only, and offload is DeepSpeed's "
                "(ZeRO-Offload): estimated without it",
                offload=options.offload,
                method=options.method,
            )
        )
    if options.offload == "optimizer" and options.sharding == "ddp" and not info.data_parallel_only:
        ignored.append(
            t(
                "--sharding ddp: offloading the optimizer is DeepSpeed's ZeRO-Offload, which shards "
                "what it offloads (ZeRO-2 at least): estimated with zero2"
            )
        )
    if options.offload == "params" and options.sharding in ("ddp", "zero2") and not info.data_parallel_only:
        ignored.append(
            t(
                "--sharding {sharding}: offloading the parameters is ZeRO-3's (ZeRO-Infinity): "
                "estimated with zero3",
                sharding=options.sharding,
            )
        )
    if options.sharding not in ("auto", "ddp") and gpus == 1 and options.offload == "none":
        ignored.append(
            t(
                "--sharding {sharding}: one GPU has nothing to share its states with (give --gpus N, or "
                "--offload to move them to CPU RAM): ignored",
                sharding=options.sharding,
            )
        )
    return ignored


def _row(
    label: str,
    result: Estimate,
    warnings: list[str],
    run: Estimator,
    field_name: str | None,
    timed: Timed,
    sharding: str,
) -> Row:
    most = tight = None
    if field_name is not None:
        auto = sharding == "auto"
        most = largest(run, result.settings, field_name, auto=auto)
        tight = largest(run, result.settings, field_name, ("yes", "tight"), auto)
    s = result.settings
    # An 8-bit base asked to shard: say that it stayed whole.
    unsharded = sharding == "zero3" and s.gpus > 1 and unshardable_base(result.memory_model, s)
    notes = [t(UNSHARDABLE_8_BIT)] if unsharded else []
    return Row(label, result, warnings + notes + strategy_warnings(result), timed, most, tight)
