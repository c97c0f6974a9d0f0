"""The recipe's own estimate: memory, time and cost of exactly the settings the recipe writes.

The engine ranks plans at a micro-batch of 1 with the profile's stack; a recipe runs on its
trainer's software (TRL's fused LM head for the Python recipes, transformers' fp32 logits for
LLaMA-Factory and axolotl), with the method's own optimizer, the micro-batch that trains fastest
within the memory left over, and a few objective-specific changes (KTO's minimum batch, prefix
tuning without checkpointing); an offload the recipe's own software does not need is dropped.
Each stage is estimated again with those settings, all stages then share the heaviest multi-GPU
strategy any of them needs (one launcher runs them all), and the time model runs on the same
stages, epochs and packing. The header states these figures, not the engine's.
"""

from __future__ import annotations

from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.memory.estimate import (
    generation_per_gpu,
    may_partition_within_nodes,
    offloads_activations,
)
from atlas_cli.core.memory.search import (
    STRATEGIES,
    Estimator,
    estimator,
    training_batch,
    with_strategy,
)
from atlas_cli.core.resolve import Hardware
from atlas_cli.core.throughput.plans import NO_TIME, Timed, fastest_batch, rate_for, work_of
from atlas_cli.core.throughput.step import Device
from atlas_cli.core.throughput.timing import PlanTime, plan_cost, stage_time
from atlas_cli.core.throughput.workload import (
    GLOBAL_BATCH,
    MAX_GLOBAL_BATCH,
    MIN_STEPS,
    Workload,
    accumulation_steps,
    batch_cap,
    least_batch,
    token_rows,
)
from atlas_cli.i18n import N_, t
from atlas_cli.kb.catalog import Catalog, Objective
from atlas_cli.recipes.settings import (
    ESTIMATOR_OPTIMIZER,
    FLASH_ATTENTION,
    Recipe,
    Setting,
    packed_apart_by_fa2,
    recipe_hardware,
)

NOMINAL_EXAMPLES = 1_000


def _global_source(
    objective: Objective, batch: int, replicas: int, accumulation: int, rows: tuple[int, int] | None
) -> str:
    """Where the accumulation comes from: the sequences each optimizer step takes, multiplied out."""
    taken = batch * replicas * accumulation
    steps = t(
        "{batch} per device x {replicas} GPU(s) x {accumulation} = {taken}",
        batch=batch,
        replicas=replicas,
        accumulation=accumulation,
        taken=taken,
    )
    if rows is not None:
        row, wanted = rows
        cited = next((s for s in objective.training.source if s.startswith("batch_tokens")), "")
        return t(
            "rows of {row} tokens per optimizer step: {steps} ({tokens:,} tokens), toward {wanted:,}, "
            "fewer for a small set so that it takes about {least} optimizer steps ({source}: "
            "pre-training is batched in tokens)",
            row=row,
            steps=steps,
            tokens=taken * row,
            wanted=wanted * row,
            least=MIN_STEPS,
            source=f"methods.yaml {objective.id}.training.{cited or 'batch_tokens'}",
        )
    if objective.online and objective.generation_batch is not None:
        return t(
            "completions per optimizer step: {steps}; the profile's --generation-batch {batch}, in whole "
            "micro-batches and groups of {group}",
            steps=steps,
            batch=objective.generation_batch,
            group=objective.samples_per_prompt,
        )
    if objective.online:
        return t(
            "completions per optimizer step: {steps}; online RL samples {per_gpu} per GPU, growing with the "
            "GPUs as RL runs are scaled (ft-atlas's time estimate assumes the same)",
            steps=steps,
            per_gpu=generation_per_gpu(objective, replicas, batch),
        )
    unit = t("pairs") if objective.training.paired else t("sequences")
    if batch * replicas * accumulation < GLOBAL_BATCH:
        return t(
            "{unit} per optimizer step: {steps}, fewer than the usual {usual} for a small set, for more "
            "optimizer steps: toward {least}, as many as the set allows (as ft-atlas's time estimate does)",
            unit=unit,
            steps=steps,
            usual=GLOBAL_BATCH,
            least=MIN_STEPS,
        )
    if taken > GLOBAL_BATCH and replicas > 1:
        return t(
            "{unit} per optimizer step: {steps}, more than the usual {usual}: over several GPUs each takes a "
            "micro-batch as large as is fastest, within {most} a step (the alignment handbook's full "
            "fine-tuning takes 128 on 8 GPUs), as ft-atlas's time estimate does; lower "
            "per_device_train_batch_size for fewer",
            unit=unit,
            steps=steps,
            usual=GLOBAL_BATCH,
            most=MAX_GLOBAL_BATCH,
        )
    why = objective.training.global_batch_why
    return t(
        "{unit} per optimizer step: {steps}, about ft-atlas's {usual} (its time estimate's){why}; a large "
        "set trains well with more, at fewer optimizer steps",
        unit=unit,
        steps=steps,
        usual=GLOBAL_BATCH,
        why="" if why is None else ": " + why.get(),
    )


def estimate_recipe(catalog: Catalog, recipe: Recipe) -> None:
    """Per-stage micro-batch and accumulation, and the recipe's memory, time and cost."""
    estimate = recipe.plan.estimate
    objectives = {stage: recipe.inputs.sampling.apply(catalog.objectives[stage]) for stage in recipe.stages}
    if estimate is None:
        for stage, objective in objectives.items():
            batch = least_batch((objective,))
            recipe.set(f"batch.{stage}", Setting(batch, "no memory estimate: the smallest batch that trains"))
            _set_accumulation(recipe, objective, batch, 1)
        recipe.timed = Timed(None, None, N_("no local GPU in the profile: no memory or time estimate"))
        return
    run = estimator(estimate.method, estimate.memory_model, estimate.shape)
    base = estimate.settings._replace(
        stack=recipe.stack,
        precision=str(recipe.value("precision")),
        optimizer=ESTIMATOR_OPTIMIZER.get(str(recipe.value("optim")), estimate.settings.optimizer),
        gradient_checkpointing=bool(recipe.value("gradient_checkpointing")),
        # The kernel the recipe loads (settings.py's `attention`); without one, a family that has
        # no SDPA kernel runs eagerly.
        attention_kernel=recipe.has("attention"),
        quantized_experts=recipe.quantized_experts,
        kbit_preparation=recipe.kbit_preparation,
        lora_experts=estimate.settings.lora_experts or recipe.lora_experts,
        # The plan was sized as a classifier where the Python recipe trains one; the other
        # trainers train the labels as text, with the language model's logits.
        classifier_head=recipe.classifier and recipe.architecture == "decoder",
        # DeepSpeed gets a 4-bit base whole on every GPU first; a trainer that loads it shard by
        # shard under FSDP does so where nothing else fits (search.with_strategy), as recommend ranks.
        sharded_loading=False,
        tiled_mlp=False,  # Unsloth's; no recipe trainer tiles the MLP
        # TRL drops the reference copy with precompute_ref_log_probs; axolotl loads it for a full
        # fine-tune whatever it is told (train.py's model_ref), LLaMA-Factory has no such option.
        reference_precomputed=estimate.settings.reference_precomputed and recipe.trainer == "python",
    )
    base = _without_needless_offload(recipe, run, base, tuple(objectives.values()))
    hardware = recipe_hardware(catalog, recipe)
    stages = _sized_stages(recipe, run, base, objectives, hardware.device)
    heaviest = _heaviest(stages)
    if recipe.quantized_experts and (heaviest != "ddp" or estimate.settings.sharding != "ddp"):
        # axolotl quantizes the experts as they load onto a GPU, and documents it with FSDP2, not
        # DeepSpeed, whose ZeRO-3 loads them elsewhere: the experts stay 16-bit there, as in a
        # plan ranked with them sharded (quantized, they run with data parallel only).
        recipe.quantized_experts = False
        base = base._replace(quantized_experts=False)
        stages = _sized_stages(recipe, run, base, objectives, hardware.device)
    stages = _loaded_alike(recipe, run, stages)
    stages, base = _checkpoints_offloaded_to_fit(recipe, run, base, objectives, hardware.device, stages)
    split = max(e.settings.sequence_parallel for e in stages.values())
    recipe.estimates = stages
    # Offloaded checkpoints may fit the stages on a lighter strategy: the one they were sized on.
    recipe.sharding, recipe.offload, recipe.sequence_parallel = _heaviest(stages), base.offload, split
    for found in stages.values():
        _set_accumulation(
            recipe, found.settings.objective, found.settings.batch_size, found.settings.replicas
        )
    if split > 1:
        _attention_for_ulysses(recipe)
    recipe.timed = _timed(hardware, recipe, stages)
    _partition(recipe, run, stages, hardware)


def _partition(recipe: Recipe, run: Estimator, stages: dict[str, Estimate], hardware: Hardware) -> None:
    """ZeRO-3 across nodes: ZeRO++ hierarchical partitioning (search.within_nodes) where every
    stage still fits within the margin with it, as recommend sizes it; the other layout's
    estimates and time are kept for the header. `stages` and recipe.timed are already one layout
    (the one recommend chose): only the other is estimated and timed here."""
    first = next(iter(stages.values()))
    if not may_partition_within_nodes(first.memory_model, first.settings._replace(offload=recipe.offload)):
        return
    sized = first.settings.hierarchical
    flipped = {stage: run(e.settings._replace(hierarchical=not sized)) for stage, e in stages.items()}
    layouts = {sized: (stages, recipe.timed), not sized: (flipped, _timed(hardware, recipe, flipped))}
    recipe.hierarchical = all(e.fit == "yes" for e in layouts[True][0].values())
    recipe.estimates, recipe.timed = layouts[recipe.hierarchical]
    recipe.other_partitioning = layouts[not recipe.hierarchical]


def _sized_stages(
    recipe: Recipe,
    run: Estimator,
    base: EstimateSettings,
    objectives: dict[str, Objective],
    device: Device | None,
) -> dict[str, Estimate]:
    """Each stage at its fastest micro-batch; then all of them on the heaviest multi-GPU strategy
    any one needs (one launcher config runs every stage), a stage moved to it sized again at the
    micro-batch fastest there (as `recommend` times it: engine.on_one_strategy), and, where one
    splits its sequences, every stage that can (supervised ones) split the same way."""
    stages = {
        stage: _sized_stage(recipe, run, base._replace(objective=objective), device)
        for stage, objective in objectives.items()
    }
    heaviest = _heaviest(stages)
    hierarchical = any(e.settings.hierarchical for e in stages.values() if e.settings.sharding == heaviest)
    for stage, found in stages.items():
        if found.settings.sharding != heaviest:
            settings = base._replace(
                objective=objectives[stage], sharding=heaviest, hierarchical=hierarchical
            )
            stages[stage] = _sized_stage(recipe, run, settings, device, placed=True)
    split = max(e.settings.sequence_parallel for e in stages.values())
    for stage, found in stages.items():
        if found.settings.sequence_parallel != split and found.settings.objective.training.sequence_parallel:
            stages[stage] = run(found.settings._replace(sequence_parallel=split))
    return stages


def _checkpoints_offloaded_to_fit(
    recipe: Recipe,
    run: Estimator,
    base: EstimateSettings,
    objectives: dict[str, Objective],
    device: Device | None,
    stages: dict[str, Estimate],
) -> tuple[dict[str, Estimate], EstimateSettings]:
    """A stage that does not fit with the recipe's own settings (its trainer's stack, where the
    ranking had another) is sized again with its checkpoints in CPU RAM (TRL's
    activation_offloading; LLaMA-Factory's use_unsloth_gc), as recommend does where nothing fits
    (Engine._activations_offloaded): turned on where every stage then fits, within --ram, rather
    than a recipe that runs out of memory (an expert's review: Qwen3-8B at 32k on an RTX 4090,
    25.85 GB of 25.76 as written, 17.1 GB so). A tight stage (past the 90 % margin) too, where
    every stage then fits within the margin (a later review: 24.19 GB of 25.76 written at 32k,
    16.4 GB so, the copies overlapped with the compute)."""
    missing = next((e for e in stages.values() if e.fit == "no"), None)
    tight = next((e for e in stages.values() if e.fit == "tight"), None)
    short = missing or tight
    if short is None or base.activation_offloading:
        return stages, base
    offloaded = base._replace(activation_offloading=True)
    tried = _loaded_alike(recipe, run, _sized_stages(recipe, run, offloaded, objectives, device))
    ram = recipe.profile.get("ram")
    over_ram = isinstance(ram, int | float) and any((e.ram_gb or 0.0) > ram for e in tried.values())
    enough = ("yes", "tight") if missing is not None else ("yes",)
    if over_ram or any(e.fit not in enough for e in tried.values()):
        return stages, base
    if not any(offloads_activations(e.settings) for e in tried.values()):
        return stages, base
    why = t(
        "this recipe's own estimate: without it its {stage} stage takes {need:.2f} GB per GPU of "
        "{usable:.2f} GB; with the checkpoints in CPU RAM ({ram:.1f} GB of it) every stage fits",
        stage=short.settings.objective.id,
        need=short.per_gpu_gb,
        usable=short.capacity_gb or 0.0,
        ram=max(e.ram_gb or 0.0 for e in tried.values()),
    )
    recipe.set("activation_offloading", Setting(True, why))
    return tried, offloaded


def _loaded_alike(recipe: Recipe, run: Estimator, stages: dict[str, Estimate]) -> dict[str, Estimate]:
    """A recipe that loads its 4-bit base shard by shard (FSDP, as the plan was ranked) sizes every
    stage so, whatever strategy its own settings would fit with otherwise: one config runs them."""
    if not recipe.sharded_loading:
        return stages
    return {
        stage: e
        if e.settings.sharded_loading
        else run(e.settings._replace(sharding="zero3", sharded_loading=True))
        for stage, e in stages.items()
    }


def _heaviest(stages: dict[str, Estimate]) -> str:
    """The heaviest multi-GPU strategy of the stages."""
    return max((e.settings.sharding for e in stages.values()), key=STRATEGIES.index)


def _attention_for_ulysses(recipe: Recipe) -> None:
    """DeepSpeed Ulysses runs FlashAttention 2 inside its all-to-alls. Packed rows stay packed:
    TRL's padding-free batches carry position_ids, which DeepSpeed gathers back whole after the
    all-to-all and FlashAttention reads document boundaries from (deepspeedai/DeepSpeed@edaa722
    ulysses_sp.py: "For packed sequences: position_ids must reset at document boundaries"), and
    TRL's own Ulysses example trains packing=True (huggingface/trl@f2cd5771
    docs/source/distributing_training.md)."""
    if recipe.has("attention") and recipe.value("attention") == FLASH_ATTENTION:
        recipe.set("attention", Setting(FLASH_ATTENTION, t("DeepSpeed Ulysses runs FlashAttention 2 inside")))


def _without_needless_offload(
    recipe: Recipe, run: Estimator, base: EstimateSettings, objectives: tuple[Objective, ...]
) -> EstimateSettings:
    """The ranking offloaded with the profile's stack; the recipe's own (TRL's fused LM head, the
    method's optimizer) may fit every stage on the GPUs alone, and then offload only slows it."""
    if base.offload == "none":
        return base
    alone = base._replace(offload="none")
    for objective in objectives:
        # At the batch the stage will run where it is fixed; else the least it trains at.
        fixed = _fixed_batch(recipe, objective)
        batch = least_batch((objective,)) if fixed is None else fixed[0]
        if with_strategy(run, alone._replace(objective=objective, batch_size=batch), True).fit != "yes":
            return base
    recipe.notes.append(
        f"The ranking offloaded to CPU RAM with --stack {recipe.profile.get('stack')}; with this "
        f"recipe's stack ({recipe.stack}) and optimizer every stage fits on the GPUs alone: no offload."
    )
    return alone


def _sized_stage(
    recipe: Recipe, run: Estimator, settings: EstimateSettings, device: Device | None, placed: bool = False
) -> Estimate:
    """The stage at the profile's own --batch-size where it gave one; else at the micro-batch
    that trains fastest among the powers of two that fit within the safety margin, up to one
    global batch over the GPUs (the largest of them when no GPU's throughput is known), as the
    time estimate of `recommend` assumes. `placed`: at the settings' own multi-GPU strategy, not
    the one that fits with the least communication."""
    objective = settings.objective
    stage = objective.id
    minimum = least_batch((objective,))
    given = recipe.profile.get("batch_size")

    def strategic(tried: EstimateSettings) -> Estimate:
        if placed:
            return run(tried)
        # DeepSpeed loads a 4-bit base whole; a trainer may load it shard by shard (settings.py).
        return with_strategy(run, tried, loaded_whole=not recipe.sharded_loading)

    fixed = _fixed_batch(recipe, objective)
    if fixed is not None:
        batch, source = fixed
    else:
        workloads = {stage: _workload(recipe, stage)}
        cap = batch_cap((objective,), settings.gpus, workloads)
        fitting = training_batch(strategic, settings, minimum, cap)
        if fitting is None:
            batch = minimum
            source = t("the smallest batch that trains: even it does not fit within the safety margin")
        elif device is None:
            batch = fitting
            source = t(
                "the largest power of two that fits within the safety margin (up to {cap}: the most a GPU "
                "takes of a global batch), estimated with this recipe's settings",
                cap=cap,
            )
        else:
            least = strategic(settings._replace(batch_size=minimum))
            batch = fastest_batch(least, strategic, (objective,), device, workloads).settings.batch_size
            if settings.optimizer_in_backward:
                source = t(
                    "the largest power of two up to {cap} that fits within the safety margin: layer-wise "
                    "GaLore steps at every micro-batch, which is its whole batch",
                    cap=cap,
                )
            else:
                source = _fastest_source(objective, batch, cap)
    why = objective.training.min_batch_why
    if why is not None and batch == minimum and not (isinstance(given, int) and given >= minimum):
        source += "; " + t(
            "{stage} needs at least {n} ({why})", stage=stage.upper(), n=minimum, why=why.get()
        )
    recipe.set(f"batch.{stage}", Setting(batch, source))
    return strategic(settings._replace(batch_size=batch))


def _fastest_source(objective: Objective, batch: int, cap: int) -> str:
    """Why fastest_batch chose `batch`: the fastest that fits, from the batch the objective trains
    well at where it has one (KTO: 4), else below it (a review: KTO's 4 was called the fastest)."""
    good, why = objective.training.good_batch, objective.training.good_batch_why
    if why is None:
        return t(
            "the fastest of the powers of two up to {cap} (the most a GPU takes of a global batch) that fit "
            "within the safety margin, by the time model: a larger micro-batch launches fewer kernels "
            "per token but pads unpacked examples more",
            cap=cap,
        )
    if batch >= good >= cap:
        return t("{good} ({why}); a global batch allows a GPU no more", good=good, why=why.get())
    if batch >= good:
        return t(
            "the fastest of the powers of two from {good} ({why}) up to {cap} (the most a GPU takes of a "
            "global batch) that fit within the safety margin, by the time model",
            good=good,
            why=why.get(),
            cap=cap,
        )
    return t(
        "the fastest of the powers of two that fit within the safety margin, by the time model: {good} "
        "({why}) does not",
        good=good,
        why=why.get(),
    )


def _fixed_batch(recipe: Recipe, objective: Objective) -> tuple[int, str] | None:
    """The micro-batch a stage must run at, and why: one packed row where the trainer takes one,
    else the profile's --batch-size (at least the objective's least); None: the recipe chooses."""
    if recipe.one_packed_row and packed_apart_by_fa2(recipe, objective.id):
        return 1, t(
            "{trainer} packs examples apart with FlashAttention 2: one packed row per device "
            "('bsz should be 1 for neat packing')",
            trainer=recipe.trainer,
        )
    given = recipe.profile.get("batch_size")
    if isinstance(given, int):
        return max(given, least_batch((objective,))), t("the profile's --batch-size")
    return None


def _set_accumulation(recipe: Recipe, objective: Objective, batch: int, replicas: int) -> None:
    if recipe.has("galore.layerwise"):
        # Each layer steps as its gradient appears: transformers and LLaMA-Factory refuse
        # accumulation ("Per-layer GaLore does not support gradient accumulation").
        source = t("layer-wise GaLore updates every micro-batch: no gradient accumulation")
        recipe.set(f"grad_accum.{objective.id}", Setting(1, source))
        return
    # One global batch a step; for online objectives one generation round, in whole groups as TRL
    # requires (workload.accumulation_steps).
    workload = _workload(recipe, objective.id)
    accumulation = accumulation_steps(objective, replicas, batch, workload)
    source = _global_source(objective, batch, replicas, accumulation, token_rows(objective, workload))
    recipe.set(f"grad_accum.{objective.id}", Setting(accumulation, source))


def _workload(recipe: Recipe, stage: str) -> Workload:
    """The stage's data as the recipe trains it; without --examples, a nominal amount (the time
    per token, which chooses the micro-batch, does not depend on it)."""
    inputs = recipe.inputs
    return Workload(
        inputs.examples or NOMINAL_EXAMPLES,
        inputs.tokens(),
        float(recipe.stage_value("epochs", stage)),
        bool(recipe.stage_value("packing", stage)),
        int(recipe.value("seq_len")),
    )


def _timed(hardware: Hardware, recipe: Recipe, estimates: dict[str, Estimate]) -> Timed:
    """Time and cost of the stages, as estimated, as the recipe runs them: its batches, epochs
    and packing."""
    inputs = recipe.inputs
    if inputs.examples is None:
        return NO_TIME
    if hardware.device is None:
        return Timed(None, None, N_("no published peak throughput for this GPU: no time estimate"))
    stages = tuple(
        stage_time(work_of(found), hardware.device, _workload(recipe, stage), found.settings.objective)
        for stage, found in estimates.items()
    )
    time = PlanTime.of(stages, recipe.gpus + recipe.vllm_server_gpus, hardware.device, recipe.stack)
    return Timed(time, plan_cost(time, rate_for(inputs, hardware.price)), None)
