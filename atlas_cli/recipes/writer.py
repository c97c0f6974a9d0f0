"""`write_recipe(catalog, rec, rank, fmt)`: pure; it resolves the plan (settings.py), checks
that the format can express it, settles every setting for that format's trainer (and estimates
memory, time and cost again with them, estimate.py), and returns the files the format writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from atlas_cli.core.estimates import loads_quantized_shards
from atlas_cli.core.memory.states import frozen_base_bytes, plan_experts_quantized
from atlas_cli.core.nodes import GPUS_PER_NODE, node_layout
from atlas_cli.core.plans import EXPERIMENTAL_STAGES_TRAINER, Plan, Recommendation
from atlas_cli.core.resolve import INTEGER_QUANTIZED_RECIPE, fsdp_qlora_layer, integer_quantized
from atlas_cli.errors import UsageError, not_one_of
from atlas_cli.i18n import N_, t, translated
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.conditions import compile_condition
from atlas_cli.kb.vocabulary import GENERATIVE_GOALS, MEMORY_MODELS, PREQUANTIZED, SUPERVISED_STAGES
from atlas_cli.recipes.registry import FALLBACK, Rendered, TrainerFormat, trainer_formats
from atlas_cli.recipes.settings import (
    WRITTEN_FOR,
    Recipe,
    ia3_defaults,
    recipe_optimizer,
    resolve,
    samples_with_vllm,
    settle,
)

# Why no format trains these objectives, in words a user can act on.
NO_FORMAT = {
    "rlhf-ppo": N_(
        "PPO left TRL's stable API (TRL 1.x keeps it in trl.experimental), axolotl has no PPO, and "
        "LLaMA-Factory's PPO stage needs a reward model trained first; train a reward model and use "
        "GRPO or RLOO (--trainer python), or DPO on preference pairs"
    ),
}


class NotWritten(UsageError):
    """The format has no way to write this kind of plan (its method, stage or kind), whatever the
    hardware: `recipe --trainer FMT` without --plan passes over it to the next plan."""


class StageNotTrained(NotWritten):
    """The format has no trainer for one of the plan's stages (mlx-lm and DPO): `recipe` without
    --trainer raises another format's refusal before it, which says more about this hardware."""


def write_recipe(
    catalog: Catalog, rec: Recommendation, rank: int = 1, fmt: str = "python", main: str | None = None
) -> tuple[Recipe, Rendered]:
    """The recipe for the plan ranked `rank` (1 = best) of `rec`, in format `fmt`; `main` names
    the first file (the one the header's run line starts).

    Raises UsageError for a rank out of range, an unknown format, or a plan the format cannot
    express (the message says why and what to use instead)."""
    formats = trainer_formats()
    if fmt not in formats:
        raise UsageError(not_one_of("--trainer", fmt, formats))
    chosen = formats[fmt]
    recipe = _settled(
        catalog, rec, rank, chosen, formats, lambda: _formats_that_write(catalog, rec, rank, chosen, formats)
    )
    name = main or chosen.default_name
    # The run line starts with it: "-x.py" would be read as options (python -x), "./-x.py" is a file.
    return recipe, chosen.render(recipe, f"./{name}" if name.startswith("-") else name)


def first_written(
    catalog: Catalog, rec: Recommendation, fmt: str, main: str | None = None
) -> tuple[Recipe, Rendered, list[NotWritten]]:
    """`ft-atlas recipe --trainer FMT` without --plan: the best-ranked plan FMT writes, and why
    each plan ranked above it was passed over (a review: axolotl on a mixture of experts ranked Prompt tuning
    first, which it cannot express, and refused instead of writing the DoRA it ranks fifth). Only
    plans FMT has no way to write are passed over: one it could write but not on this hardware is
    refused as with --plan, since the next plan down may be far worse (a partial fine-tune with its
    parameters in CPU RAM). When FMT writes none, plan 1's refusal is raised: it says what to use
    instead."""
    refusals: list[NotWritten] = []
    hosted_only = True  # every plan passed over so far runs at a provider
    for rank, plan in enumerate(rec.plans or [None], start=1):
        # Passed over to a training plan that fits, never to prompting instead of training (a
        # prompting plan on the way is skipped: the trainer writes training) nor to a plan that
        # would run out of memory: plan 1's refusal is the better answer then.
        if refusals and plan is not None and plan.kind == "no-training":
            continue
        if refusals and plan is not None and plan.fit == "no":
            if hosted_only:
                raise _none_fits(rank, plan, fmt)
            break
        try:
            recipe, rendered = write_recipe(catalog, rec, rank, fmt, main)
        except NotWritten as error:
            refusals.append(error)
            hosted_only = hosted_only and plan is not None and plan.runs == "hosted"
            continue
        return recipe, rendered, refusals
    raise refusals[0]


class NoneFits(UsageError):
    """Nothing the trainer writes fits: the refusal names the best such plan itself, which no
    "pick another plan" hint may contradict."""


def _none_fits(rank: int, plan: Plan, fmt: str) -> UsageError:
    """Above every plan that trains here and does not fit, only hosted plans were ranked: their
    refusal ("runs at a provider") answered a --trainer nobody had asked it of (a newcomer's
    review), where the answer is that nothing this trainer writes fits."""
    return NoneFits(
        t(
            "no plan --trainer {trainer} writes fits this GPU: the best, plan {rank} ({name}), needs "
            "{need:.1f} GB per GPU of {have:.1f} usable (`--plan {rank}` writes it anyway, with a "
            "warning); train a smaller model, on a GPU with more memory, or at a provider (plan 1)",
            trainer=fmt,
            rank=rank,
            name=translated(plan.name),
            need=plan.memory_gb or 0.0,
            have=plan.capacity_gb or 0.0,
        )
    )


def _settled(
    catalog: Catalog,
    rec: Recommendation,
    rank: int,
    chosen: TrainerFormat,
    formats: dict[str, TrainerFormat],
    others: Callable[[], list[str]],
) -> Recipe:
    """The plan ranked `rank`, checked and settled for `chosen`. A UsageError says why `chosen`
    cannot write it; a refusal that offers other formats names those `others()` returns."""
    recipe = resolve(catalog, rec, rank)
    _check_vendor(recipe, chosen, others)
    # Before the format's own limits: a checkpoint no format loads so is what to change first.
    _check_checkpoint(recipe)
    _check_supported(recipe, chosen, formats)
    _check_generates(recipe)
    stack = "hf" if recipe.architecture == "encoder" else chosen.stack
    asked = recipe.profile.get("stack")
    if chosen.liger and asked == "liger" and set(recipe.stages) <= set(SUPERVISED_STAGES):
        model = recipe.model
        if model is None or liger_patches(catalog, model.checkpoint_type):
            stack = "liger"
        else:
            asked = None  # said here, with why, rather than by _stack_note
            recipe.notes.append(t(LIGER_UNPATCHED, family=model.checkpoint_type))
    settle(catalog, recipe, chosen, stack)
    _check_fits_off_its_stack(recipe, asked)
    _stack_note(recipe, asked)
    _fewer_gpus_note(recipe)
    _experts_note(recipe)
    recipe.notes += _rule_notes(catalog, recipe)
    _check_gap(recipe, chosen)
    # Before the offload check: a plan ranked loaded shard by shard, which this trainer sizes
    # offloaded, is refused for what it was ranked as.
    _check_sharded_loading(catalog, recipe, formats)
    _check_offloaded_quantized_base(recipe, chosen, others)
    _check_vllm_server(recipe)
    _check_quantized_sampling(recipe)
    _check_hardware(recipe, chosen, formats)
    _check_ia3_modules(recipe)
    return recipe


def default_recipe(
    catalog: Catalog, rec: Recommendation, rank: int = 1, main: str | None = None
) -> tuple[str, Recipe, Rendered, list[tuple[str, str]]]:
    """`ft-atlas recipe` without --trainer: the format made the default on the profile's GPU
    vendor (TrainerFormat.default_on: mlx-lm on Apple silicon) when it writes the plan, else
    python. Returns the format written, its recipe and files, and each default passed over with
    why it did not write a training plan (for stderr: a platform's trainer writes no RAG example,
    which no one asked it for). When none writes it, the default's own refusal is raised (it says
    what that platform's trainer needs), unless the default has no trainer for a stage: then the
    next format's (a Mac's DPO with a 4-bit base was told mlx-lm has no DPO trainer and to use
    axolotl, not why the Python recipe refuses the base)."""
    formats = trainer_formats()
    vendor = rec.facts.get("gpu_vendor")
    preferred = [f.name for f in formats.values() if vendor in f.default_on and f.name != FALLBACK]
    # A plan whose routed experts must load quantized: the trainers that do it come next.
    plan = rec.plans[rank - 1] if 0 < rank <= len(rec.plans) else None
    experts = _experts_quantizers(formats, vendor) if _needs_quantized_experts(plan) else []
    # A plan that fits only with its 4-bit base loaded shard by shard, or offloaded to CPU RAM
    # (which loads it so): the trainers that load it so.
    e = None if plan is None else plan.estimate
    shards = e is not None and loads_quantized_shards(e.memory_model, e.settings)
    loaders = [f.name for f in formats.values() if f.loads_quantized_shards] if shards else []
    # ORPO, SimPO: TRL trains them in trl.experimental only, which the Python recipes do not use (an
    # expert's review: `recipe` refused where recommend's line named LLaMA-Factory).
    stable = [EXPERIMENTAL_STAGES_TRAINER] if plan is not None and plan.experimental_stages else []
    passed: list[tuple[str, str]] = []
    refusals: list[UsageError] = []
    for name in dict.fromkeys([*preferred, FALLBACK, *experts, *loaders, *stable]):
        try:
            recipe, rendered = write_recipe(catalog, rec, rank, name, main)
        except UsageError as error:
            refusals.append(error)
            passed.append((name, str(error)))
            continue
        return name, recipe, rendered, passed if recipe.plan.kind != "no-training" else []
    raise next((r for r in refusals if not isinstance(r, StageNotTrained)), refusals[0])


def _check_vendor(recipe: Recipe, chosen: TrainerFormat, others: Callable[[], list[str]]) -> None:
    """A trainer made for one platform's GPUs (mlx-lm: Apple silicon) writes nothing for another;
    the refusal names the formats that write the plan there."""
    facts = recipe.facts
    vendor = facts.get("gpu_vendor")
    if chosen.vendors is None or vendor in chosen.vendors:
        return
    if facts.get("has_gpu") is False:
        hardware = t("this profile has no GPU")
    elif facts.get("gpu") and vendor:
        hardware = t("this profile's GPU is {gpu}, by {vendor}", gpu=facts["gpu"], vendor=vendor)
    else:
        hardware = t("this profile's GPU is known by its memory alone")
    writers = others()
    raise UsageError(
        t(
            "plan {rank} ({name}): --trainer {format} runs on GPUs by {vendors} only, and {hardware}; "
            "{alternative}",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            format=chosen.name,
            vendors=t(" or ").join(sorted(chosen.vendors)),
            hardware=hardware,
            alternative=(
                t("--trainer {trainers} writes this plan", trainers=t(" or ").join(writers))
                if writers
                else t("no recipe format writes this plan for it")
            ),
        )
    )


def _formats_that_write(
    catalog: Catalog, rec: Recommendation, rank: int, chosen: TrainerFormat, formats: dict[str, TrainerFormat]
) -> list[str]:
    """The formats other than `chosen` that write the same plan: each settles it with its own
    stack and settings, which may fit what `chosen`'s do not, and runs every check `chosen` ran.
    Asked, not listed, so a refusal never points at a format that refuses the plan too."""
    writers = []
    for fmt in formats.values():
        if fmt is chosen:
            continue
        try:
            _settled(catalog, rec, rank, fmt, formats, lambda: [])  # whether, not why: no others asked
        except UsageError:
            continue
        writers.append(fmt.name)
    return writers


def _rule_notes(catalog: Catalog, recipe: Recipe) -> list[str]:
    """The reasons of the rules marked in_recipe that hold for this plan as the recipe runs it:
    with its own stack, which may not be the profile's (Gemma 3 overflows in fp16 under TRL even
    when --stack unsloth would have kept it from doing so), and adapting a mixture of experts'
    routed experts where its trainer does so by default (mlx-lm)."""
    facts = {**recipe.facts, **recipe.plan.own_facts(), "stack": recipe.stack}
    if recipe.lora_experts:
        facts["lora_experts"] = True
    return [
        rule.because.get()
        for rule in catalog.kb.rules
        if rule.in_recipe
        and rule.id not in recipe.answered_rules
        and rule.selects(recipe.method)
        and compile_condition(rule.when)(facts)
    ]


LIGER_UNPATCHED = N_(
    "--stack liger: LLaMA-Factory's and axolotl's Liger options do not patch {family} models "
    "(data/families.yaml liger_kernel), which then train with transformers' own loss: the memory, "
    "time and cost above are estimated for that."
)


def liger_patches(catalog: Catalog, family: str) -> bool:
    """Whether LLaMA-Factory's and axolotl's Liger options both patch the family (families.yaml):
    a checkpoint's own model_type, its wrapper's where it has one (LlmModel.checkpoint_type)."""
    known = catalog.model_families.get(family)
    return known is not None and known.liger_kernel


def _other_stack(recipe: Recipe, asked: str | None) -> str | None:
    """The stack the profile asked for where the recipe's trainer does not run it (it runs trl and
    hf), else None."""
    return None if asked in (None, recipe.stack, "trl", "hf") else asked


def _stack_note(recipe: Recipe, asked: str | None) -> None:
    """Say so when the recipe's software does not run the stack the profile asked for: its
    memory, time and cost are those of the stack it runs."""
    trains = recipe.plan.kind != "no-training" and not recipe.classifier
    asked = _other_stack(recipe, asked)
    if asked is None or not trains:
        return
    recipe.notes.append(
        t(
            "--stack {asked}: this recipe's trainer does not run it here; it computes the loss as stack "
            "{stack} does, and its memory, time and cost above are estimated for that (for {asked}: "
            "{where}).",
            asked=asked,
            stack=recipe.stack,
            where=t(STACK_TRAINERS[asked]),
        )
    )


def _check_fits_off_its_stack(recipe: Recipe, asked: str | None) -> None:
    """A plan ranked on a --stack the recipe's trainer does not run (Unsloth's own scripts) that
    does not fit as the recipe trains it: refused, rather than a script that runs out of memory (an
    expert's review: GRPO ranked at 19.5 GB with Unsloth was written for TRL at 34.5 GB on a 24 GB
    card); without the stack, recipe writes the best plan that fits as the trainers run it."""
    asked = _other_stack(recipe, asked)
    if asked is None or recipe.plan.estimate is None:
        return
    over = next(((s, e) for s, e in recipe.estimates.items() if e.fit == "no" and e.capacity_gb), None)
    if over is None:
        return
    stage, e = over
    raise UsageError(
        t(
            "plan {rank} fits with --stack {asked} ({ranked:.2f} GB per GPU), which this recipe's trainer "
            "does not run ({where}); as written, with stack {stack}, its {stage} stage takes {need:.2f} GB "
            "per GPU of {usable:.2f} GB. Without --stack {asked}, `ft-atlas recipe` writes the best plan "
            "that fits as the trainers run it.",
            rank=recipe.rank,
            asked=asked,
            ranked=recipe.plan.estimate.per_gpu_gb,
            where=t(STACK_TRAINERS[asked]),
            stack=recipe.stack,
            stage=stage,
            need=e.per_gpu_gb,
            usable=e.capacity_gb or 0.0,
        )
    )


def _experts_note(recipe: Recipe) -> None:
    """--lora-experts on a plan that adapts no routed experts: PEFT adapts fused experts with
    plain LoRA only (target_parameters; its ParamWrapper refuses DoRA), and the plans other
    trainers write in place of one they cannot (LLaMA-Factory has no such key) adapt none. An
    expert's review: --trainer llamafactory wrote DoRA on attention, and nothing said so."""
    estimate = recipe.plan.estimate
    if not recipe.profile.get("lora_experts") or recipe.lora_experts or recipe.has("lora.expert_parameters"):
        return
    if estimate is None or not estimate.shape.expert_params or not recipe.peft or recipe.family == "prompt":
        return
    recipe.notes.append(
        t(
            "--lora-experts: this plan ({plan}) adapts no routed experts, only the layers every token "
            "passes through; a LoRA plan written by --trainer python or axolotl adapts them.",
            plan=translated(recipe.plan.name),
        )
    )


def _fewer_gpus_note(recipe: Recipe) -> None:
    """Say so when the plan trains on fewer GPUs than the profile has: the launcher runs that many."""
    given = int(recipe.profile.get("gpus") or 1)
    if recipe.gpus + recipe.vllm_server_gpus < given:
        layerwise = recipe.plan.estimate is not None and recipe.plan.estimate.settings.optimizer_in_backward
        why = [t("layer-wise GaLore runs on one")] if layerwise else []
        if recipe.profile.get("priority") == "cost":
            chosen = t("--priority cost takes the number that costs least, the fastest of those within 5 %")
            why.insert(0, chosen)
        elif recipe.profile.get("examples") is not None:  # timed: Engine._fastest_count
            chosen = t("the fastest number of them within any --max-hours and --budget-usd, fewer within 5 %")
            why.insert(0, chosen)
        recipe.notes.append(
            t(
                "This plan trains on {used} of your {gpus} GPUs ({why}): CUDA_VISIBLE_DEVICES picks which, "
                "and the others stay free.",
                used=recipe.gpus,
                gpus=given,
                why="; ".join(why),
            )
        )


# Where the stacks no recipe trainer runs itself are written (trl and hf are: docs/recipes.md).
STACK_TRAINERS = {
    "liger": N_("--trainer llamafactory or axolotl, SFT and continued pre-training"),
    "unsloth": N_("Unsloth's own FastLanguageModel scripts, which ft-atlas does not write"),
    "mlx": N_("--trainer mlx, on Apple silicon"),
}


def _check_checkpoint(recipe: Recipe) -> None:
    """The recipes load 16-bit weights or bitsandbytes' (QLoRA quantizes 16-bit ones as they load):
    a checkpoint stored in 4 or 8 bits by GPTQ or AWQ is not one they load, and one stored in
    another quantization (kb.vocabulary.PREQUANTIZED) cannot be quantized again on load."""
    stored = recipe.weights_dtype
    model = recipe.model
    if model is not None and integer_quantized(model) and recipe.plan.kind != "no-training":
        raise UsageError(
            t(
                "plan {rank} ({name}): {why}",
                rank=recipe.rank,
                name=translated(recipe.plan.name),
                why=t(INTEGER_QUANTIZED_RECIPE, method=model.quant_method or "?"),
            )
        )
    if recipe.memory_model != "qlora" or stored not in PREQUANTIZED:
        return
    raise UsageError(
        t(
            "plan {rank} ({name}): this checkpoint is stored as {stored}, and transformers will not "
            "quantize it again with bitsandbytes (it refuses a second quantization_config); pick a "
            "LoRA plan with --plan, or pass a 16-bit copy of the checkpoint, or a bitsandbytes 4-bit one "
            "(Unsloth's, e.g. unsloth/gpt-oss-20b-unsloth-bnb-4bit for gpt-oss-20b), with --model",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            stored=stored,
        )
    )


def _check_offloaded_quantized_base(
    recipe: Recipe, chosen: TrainerFormat, others: Callable[[], list[str]]
) -> None:
    """A 4-bit (QLoRA) base kept in CPU RAM is trained with FSDP-QLoRA, the run the offload
    estimate is calibrated on: axolotl's recipe writes it, loading the base shard by shard
    (recipe.sharded_loading). The others launch DeepSpeed, where ZeRO-3 with QLoRA and CPU offload
    uses more GPU memory than without offload (PEFT docs/source/accelerate/deepspeed.md), and a
    plain FSDP recipe would not do either: transformers 5 loads a bitsandbytes model onto one GPU
    before FSDP shards it, so it would run out of memory at load (a review of such a recipe)."""
    if recipe.memory_model != "qlora" or recipe.offload != "params" or recipe.sharded_loading:
        return  # a trainer that loads the base shard by shard writes it (axolotl: fsdp_offload_params)
    # Another trainer's own settings (the Python recipe's fused loss) may fit the plan on the GPUs
    # alone, and then it writes the plan: only such trainers are named.
    writers = others()
    other = (
        t(
            " or --trainer {trainers}, which writes it,",
            trainers=t(" or ").join(writers),
        )
        if writers
        else ""
    )
    raise UsageError(
        t(
            "plan {rank} ({name}) keeps its quantized base in CPU RAM: that is FSDP-QLoRA, which PEFT "
            "documents (docs/source/accelerate/fsdp.md, examples/sft/run_peft_qlora_fsdp.sh with "
            "configs/fsdp_config_qlora.yaml), Answer.AI's fsdp_qlora train.py runs and axolotl ships as "
            "examples/llama-3/qlora-fsdp-70b.yaml and qlora-fsdp-405b.yaml (fsdp_offload_params, "
            "fsdp_cpu_ram_efficient_loading); {why}. Run those,{other} or pick another plan with --plan",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            why=t(SHARD_LOADER_LIMITS if chosen.loads_quantized_shards else DEEPSPEED_OFFLOAD),
            other=other,
        )
    )


DEEPSPEED_OFFLOAD = N_(
    "this trainer's recipe does not: its DeepSpeed would use more GPU memory with QLoRA and CPU "
    "offload than without (PEFT's DeepSpeed guide)"
)
SHARD_LOADER_LIMITS = N_(
    "this trainer's recipe writes it on several GPUs, in supervised stages, for the families whose "
    "decoder layer its FSDP wraps (data/families.yaml fsdp_qlora_layer), and not for this plan"
)


def _check_sharded_loading(catalog: Catalog, recipe: Recipe, formats: dict[str, TrainerFormat]) -> None:
    """QLoRA ranked with its 4-bit base loaded shard by shard (search._loaded_shard_by_shard).
    A trainer that loads it so for this model (TrainerFormat.loads_quantized_shards) writes it
    under FSDP, and the header says how it loads. The others launch DeepSpeed, whose ZeRO-3 gets
    the base from transformers whole on every GPU first, and their estimate counts that: where
    their own settings still come within the GPUs' memory (Qwen2.5-72B on two L40S: a paged
    optimizer), it is written and the header says how it loads; where not within the safety
    margin, it would likely run out of memory while loading (no batch size lowers that peak: a
    review saw 70B on 40 GB cards written at 98 % "tight"), and the trainers that load it shard
    by shard are named."""
    ranked = recipe.plan.estimate
    if recipe.sharded_loading:
        _check_shard_loaded_fits(recipe)
        recipe.notes.append(t(LOADED_SHARD_BY_SHARD))
        ram = max((e.ram_gb or 0.0 for e in recipe.estimates.values()), default=0.0)
        if recipe.offload == "params" and ram:
            recipe.notes.append(t(OFFLOADED_RAM, gb=ram))
            given = recipe.profile.get("ram")
            if isinstance(given, (int, float)) and ram > given:
                recipe.notes.append(t(OVER_RAM, gb=ram, given=given))
        return
    if ranked is None or not ranked.settings.sharded_loading:
        return
    whole = frozen_base_bytes(ranked.memory_model, ranked.shape, ranked.settings) / 1e9
    if all(e.fit == "yes" for e in recipe.estimates.values()):
        recipe.notes.append(t(LOADED_WHOLE, gb=whole))
        return
    writers = [f.name for f in formats.values() if f.loads_quantized_shards]
    model = recipe.model
    if not set(recipe.stages) <= set(SUPERVISED_STAGES):
        instead = t("ft-atlas writes that loading for supervised stages only (SFT, continued pre-training)")
    elif model is None or fsdp_qlora_layer(catalog, model) is None:
        instead = t(
            "ft-atlas writes that loading for the model types axolotl documents it for only "
            "(docs/fsdp_qlora.qmd: Llama, Mistral), not {kind}; its qlora_sharded_model_loading "
            "replaces every nn.Linear and may load it too, untested upstream",
            kind=model.checkpoint_type if model is not None else t("this model"),
        )
    else:
        instead = t("--trainer {trainers} writes it (FSDP)", trainers=t(" or ").join(writers))
    raise UsageError(
        t(
            "plan {rank} ({name}) fits only with its 4-bit base loaded shard by shard under FSDP, and this "
            "recipe launches DeepSpeed, whose ZeRO-3 gets the base from transformers whole on every GPU "
            "first ({gb:.1f} GB); {instead}. Or pick another plan with --plan",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            gb=whole,
            instead=instead,
        )
    )


def _check_shard_loaded_fits(recipe: Recipe) -> None:
    """A plan loaded shard by shard whose recipe, with its trainer's own settings (transformers' own
    loss holds the whole logits), misses the safety margin even so: refused, with the change that
    ranked it (a review: the default recipe fell over to an axolotl config that said "DOES NOT FIT")."""
    heaviest = max(recipe.estimates.values(), key=lambda e: e.per_gpu_gb, default=None)
    if heaviest is None or heaviest.fit == "yes":
        return
    raise UsageError(
        t(
            "plan {rank} ({name}) fits only with its 4-bit base loaded shard by shard, and even so this "
            "recipe's own settings need {gb:.2f} GB per GPU of {have:.2f} (stack {stack}); --stack liger "
            "fuses the loss (its Liger plugin), or pick another plan with --plan",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            gb=heaviest.per_gpu_gb,
            have=heaviest.capacity_gb or 0.0,
            stack=heaviest.settings.stack,
        )
    )


def _check_vllm_server(recipe: Recipe) -> None:
    """A vLLM server beside training is written on one node: its last GPUs serve, the others
    train. Across nodes the server takes a node of its own, started and addressed by hand."""
    server = recipe.vllm_server_gpus
    if server and node_layout(recipe.gpus + server)[0] > 1:
        raise UsageError(
            t(
                "--vllm-server-gpus {server} with {gpus} GPUs: ft-atlas writes a vLLM server beside training "
                "on one node only (its last GPUs serve). Across nodes, run `trl vllm-serve` on a node of its "
                "own and set vllm_server_host to it (TRL's docs/source/grpo_trainer.md, multi-node "
                "example); or give --gpus {most} or fewer",
                server=server,
                gpus=recipe.gpus + server,
                most=GPUS_PER_NODE,
            )
        )


def _check_quantized_sampling(recipe: Recipe) -> None:
    """QLoRA sampled with vLLM is Unsloth's (its vLLM serves the 4-bit model itself), ranked with
    --stack unsloth; the recipes train it with TRL, which cannot (rule
    qlora-cannot-sample-with-vllm-in-trl: a review found such a script written without a word)."""
    if not MEMORY_MODELS[recipe.memory_model].quantized_base:
        return
    if not samples_with_vllm(recipe):
        return
    raise UsageError(
        t(
            "plan {rank} ({name}): TRL, which this recipe trains with, cannot yet sample a 4-bit (QLoRA) "
            "model with vLLM (huggingface/trl#4973; Unsloth's own vLLM can, in its FastLanguageModel "
            "scripts, which ft-atlas does not write): pick a 16-bit LoRA plan with --plan, or sample "
            "without --vllm",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
        )
    )


OFFLOADED_RAM = N_(
    "With the parameters offloaded (fsdp_config offload_params) the node needs about {gb:g} GB of CPU "
    "RAM: the offloaded states, and beside them while FSDP builds them the loaded 4-bit base and a "
    "checkpoint file per process (PEFT measured ~107 GB for Llama-2-70B on two GPUs, accelerate/fsdp.md)."
)
OVER_RAM = N_(
    "That is more than the {given:g} GB --ram gives (this recipe's trainer keeps more there than "
    "recommend ranked the plan with): the run may run out of CPU RAM."
)
LOADED_SHARD_BY_SHARD = N_(
    "The 4-bit base loads shard by shard under FSDP (qlora_sharded_model_loading with "
    "cpu_ram_efficient_loading: every process reads the checkpoint a file at a time and quantizes "
    "each weight on its GPU, the first keeps the 4-bit weights in CPU RAM, and FSDP sends each GPU "
    "its shard), never whole on one GPU as transformers loads a bitsandbytes model: that is what "
    "lets it fit. The first process needs CPU RAM for the 4-bit base. It runs FSDP1, which axolotl "
    "deprecates (it warns so): the FSDP-QLoRA loading axolotl documents is FSDP1's "
    "(docs/fsdp_qlora.qmd, examples/llama-3/qlora-fsdp-70b.yaml)."
)
LOADED_WHOLE = N_(
    "recommend sized this plan with its 4-bit base loaded shard by shard; this recipe launches "
    "DeepSpeed, whose ZeRO-3 gets the base from transformers whole on every GPU first ({gb:.1f} GB), "
    "and its estimate above counts that load."
)


def _check_generates(recipe: Recipe) -> None:
    """An encoder (BERT) trains into a classifier: a recipe for a goal that needs generated text
    would write a classification script the user did not ask for."""
    if recipe.architecture != "encoder" or recipe.profile.get("goal") not in GENERATIVE_GOALS:
        return
    raise UsageError(
        t(
            "goal {goal}: {model} is an encoder and does not generate text, so its recipe would train a "
            "classifier; choose a decoder model (Llama, Qwen, Mistral, Gemma, ...) with --model",
            goal=recipe.profile.get("goal"),
            model=recipe.profile.get("model") or t("this model"),
        )
    )


def _mac_quantizer_advice(recipe: Recipe, formats: dict[str, TrainerFormat]) -> str:
    """What to do instead of a bitsandbytes QLoRA on a Mac: the formats that quantize without it
    and train every stage, else why they do not (mlx-lm has no DPO), else mlx-lm's LoRA. Asked of
    the formats' declarations, not by writing the plan: one that needs what the profile lacks
    (mlx-lm's --examples) says so itself when it is run."""
    quantizers = [
        f for f in formats.values() if not f.bitsandbytes and (f.vendors is None or "apple" in f.vendors)
    ]
    natives = [f.name for f in quantizers if set(recipe.stages) <= f.objectives]
    if natives:
        return t(
            "--trainer {trainers}, which quantizes the base without bitsandbytes, writes it, or pick another "
            "plan with --plan",
            trainers=t(" or ").join(natives),
        )
    if quantizers:
        untrained = [s for s in recipe.stages if not all(s in f.objectives for f in quantizers)]
        return t(
            "{trainers} quantizes the base without bitsandbytes but does not train the plan's {stages} "
            "stage; pick another plan with --plan",
            trainers=t(" or ").join(f.name for f in quantizers),
            stages=", ".join(untrained),
        )
    return t("pick another plan with --plan, or use mlx-lm's LoRA, quantized or not (`ft-atlas show qlora`)")


def _check_hardware(recipe: Recipe, chosen: TrainerFormat, formats: dict[str, TrainerFormat]) -> None:
    """On Apple silicon (MPS) bitsandbytes 0.50 quantizes to 4 bit without optimized kernels and
    has no 8-bit or paged optimizers, and torchao's low-bit optimizers are untested there
    (OptimizerInfo.mps): a bitsandbytes QLoRA recipe, whose route on a Mac is mlx-lm's quantized
    LoRA (the refusal names the formats that train it there), and a recipe whose optimizer would
    fail at its first step are refused here instead."""
    if recipe.facts.get("gpu_vendor") != "apple" or recipe.plan.kind == "no-training":
        return
    optim = str(recipe.value("optim")) if recipe.has("optim") else ""
    info = recipe_optimizer(recipe)
    if recipe.memory_model == "qlora" and chosen.bitsandbytes:
        reason = t(
            "bitsandbytes 0.50 runs its 4-bit base on Apple silicon (MPS) without optimized kernels, "
            "and not its {optim} optimizer",
            optim=optim,
        )
        raise UsageError(
            t(
                "plan {rank} ({name}): {reason}; {advice}",
                rank=recipe.rank,
                name=translated(recipe.plan.name),
                reason=reason,
                advice=_mac_quantizer_advice(recipe, formats),
            )
        )
    if info is not None and not info.mps:
        # Only torchao's stochastic rounding gets here: the engine plans no other optimizer that
        # does not run on a Mac (core.variants), and only a trainer without an fp32 copy adds it.
        raise UsageError(
            t(
                "plan {rank} ({name}): {trainer} trains these weights in pure bf16 with torchao's "
                "{optim}, which is not made for Apple silicon (MPS); use --trainer python or "
                "llamafactory, which keep an fp32 copy",
                rank=recipe.rank,
                name=translated(recipe.plan.name),
                trainer=recipe.trainer,
                optim=optim,
            )
        )


def _check_ia3_modules(recipe: Recipe) -> None:
    """IA3 needs its modules named where PEFT has no default for the model type: a decoder gets
    Llama-style names (settings.ia3_defaults); an encoder's are its own, which ft-atlas does not
    know."""
    model = recipe.model
    if (
        recipe.memory_model != "ia3"
        or model is None
        or model.architecture == "decoder"
        or ia3_defaults(model)
    ):
        return
    raise NotWritten(
        t(
            "plan {rank} ({name}): PEFT's IA3 has no default modules for {family} models, and ft-atlas "
            "does not know this model's module names; use LoRA (all-linear), or name IA3's "
            "target_modules and feedforward_modules yourself (`ft-atlas show ia3`)",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            family=model.family,
        )
    )


def render_recipe(catalog: Catalog, rec: Recommendation, rank: int = 1, fmt: str = "python") -> str:
    """The recipe as one text (what `ft-atlas recipe` prints without --out)."""
    return write_recipe(catalog, rec, rank, fmt)[1].text


def _trains_nothing(recipe: Recipe, fmt: TrainerFormat) -> NotWritten:
    return NotWritten(
        t(
            "plan {rank} ({name}) trains nothing, so there is no {format} config; use --trainer "
            "python for a runnable example",
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            format=fmt.name,
        )
    )


def _check_supported(recipe: Recipe, fmt: TrainerFormat, formats: dict[str, TrainerFormat]) -> None:
    plan, arch = recipe.plan, recipe.architecture
    if recipe.method.runs == "hosted" and plan.kind != "no-training":  # embeddings are computed here
        raise NotWritten(
            t(
                "plan {rank} ({name}) runs at a provider, so there is no training script to write: "
                "`ft-atlas show {method}` lists each provider's API, models, data format and how it bills",
                rank=recipe.rank,
                name=translated(plan.name),
                method=plan.method,
            )
        )
    if recipe.method.embeds_only:  # an encoder runs here, not the language model
        if not fmt.prompting:
            raise _trains_nothing(recipe, fmt)
        return
    if recipe.method.memory_model not in MEMORY_MODELS:
        raise NotWritten(
            t(
                "no recipe format writes {name}: it is not a way of training ft-atlas can estimate or run "
                "here; `ft-atlas show {method}` lists its entry points",
                name=translated(plan.name),
                method=plan.method,
            )
        )
    if arch == "encoder-decoder":
        raise UsageError(
            t(
                "{model} is an encoder-decoder (T5-style) model; recipes cover decoder LLMs and encoder "
                "classifiers. See `ft-atlas show {method}` for the library entry points.",
                model=recipe.profile.get("model"),
                method=plan.method,
            )
        )
    if plan.kind == "no-training":
        if not fmt.prompting:
            raise _trains_nothing(recipe, fmt)
        if arch != "decoder":
            raise NotWritten(
                t(
                    "{name} needs a generative (decoder) model; this profile's model is an {arch}",
                    name=translated(plan.name),
                    arch=arch,
                )
            )
        return
    if recipe.family == "bottleneck":
        raise NotWritten(
            t(
                "{name} needs the `adapters` library, which requires transformers 4.57.x while recipes "
                "target transformers {transformers} / trl {trl}, and neither LLaMA-Factory nor axolotl "
                "trains it; pick another plan with --plan (see `ft-atlas show adapters`)",
                name=translated(plan.name),
                transformers=WRITTEN_FOR["transformers"],
                trl=WRITTEN_FOR["trl"],
            )
        )
    if arch == "encoder" and (not fmt.encoder_classifiers or plan.pipeline != ("sft",)):
        raise NotWritten(
            t(
                "for an encoder (BERT-style) model, recipes train a sequence classifier with SFT only, in "
                "--trainer python; LLaMA-Factory and axolotl train generative models"
            )
        )
    for stage in recipe.stages:
        if stage in fmt.objectives:
            continue
        others = [f.name for f in formats.values() if stage in f.objectives]
        if stage in NO_FORMAT or not others:
            reason = t(NO_FORMAT.get(stage, N_("no format has a trainer for it")))
            raise NotWritten(
                t("no recipe trains the plan's '{stage}' stage: {reason}", stage=stage, reason=reason)
            )
        gap = fmt.gap(recipe)
        raise StageNotTrained(
            t(
                "{format} cannot train the plan's '{stage}' stage ({gap}); use --trainer {others}",
                format=fmt.name,
                stage=stage,
                gap=gap,
                others=t(" or ").join(others),
            )
            if gap
            else t(
                "{format} cannot train the plan's '{stage}' stage; use --trainer {others}",
                format=fmt.name,
                stage=stage,
                others=t(" or ").join(others),
            )
        )
    _check_quantized_experts(recipe, fmt, formats)
    _check_gap(recipe, fmt, NotWritten)


def _needs_quantized_experts(plan: Plan | None) -> bool:
    """The plan fits because a mixture of experts' routed experts load in 4 bits too (QLoRA's
    variant, and every QLoRA on Unsloth's stack), which only some trainers do: ranked with --stack
    unsloth too, since no format writes Unsloth's script (an expert's review: the Python recipe
    of Qwen3-30B-A3B on a 4090 needed 64 GB)."""
    return bool(plan_experts_quantized(None if plan is None else plan.estimate))


def _experts_quantizers(formats: dict[str, TrainerFormat], vendor: object) -> list[str]:
    """The formats that load routed experts quantized and run on this GPU vendor's hardware."""
    return [
        f.name for f in formats.values() if f.quantizes_experts and (f.vendors is None or vendor in f.vendors)
    ]


def _check_quantized_experts(recipe: Recipe, fmt: TrainerFormat, formats: dict[str, TrainerFormat]) -> None:
    if fmt.quantizes_experts or not _needs_quantized_experts(recipe.plan):
        return
    writers = _experts_quantizers(formats, recipe.facts.get("gpu_vendor"))
    gap = t(
        "the plan fits because the routed experts load in 4 bits too, which bitsandbytes alone does "
        "not do (it quantizes nn.Linear layers only): --trainer {writers} quantizes them as they load "
        "(quantize_moe_experts), as Unsloth's own scripts do",
        writers=t(" or ").join(writers),
    )
    _refuse(recipe, fmt, gap, NotWritten)


def _check_gap(recipe: Recipe, fmt: TrainerFormat, refusal: type[UsageError] = UsageError) -> None:
    """What the format cannot express: checked on the plan (`refusal` NotWritten: whatever the
    hardware), and again once the recipe's own estimate has settled its multi-GPU strategy and
    precision, which the hardware decides (a plain UsageError: another plan would not help)."""
    gap = fmt.gap(recipe)
    if gap:
        _refuse(recipe, fmt, gap, refusal)


def _refuse(recipe: Recipe, fmt: TrainerFormat, gap: str, refusal: type[UsageError]) -> NoReturn:
    raise refusal(
        t(
            "{format} cannot express plan {rank} ({name}, {stages}): {gap}",
            format=fmt.name,
            rank=recipe.rank,
            name=translated(recipe.plan.name),
            stages=recipe.plan.stages_text(" -> "),
            gap=gap,
        )
    )
