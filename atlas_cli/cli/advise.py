"""Advice commands: estimate memory, recommend plans, write a recipe."""

import sys
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from atlas_cli.cli.app import (
    Format,
    FormatOption,
    JsonOption,
    chosen_format,
    command,
    console,
    emit,
    emit_grid,
    print_json,
    state,
)
from atlas_cli.cli.options import one_of, profile_options, top_count
from atlas_cli.errors import UsageError, one_line, status
from atlas_cli.i18n import N_, pt, t, translated
from atlas_cli.kb.vocabulary import (
    ATTENTIONS,
    DEFAULT_TOP,
    LORA_TARGETS,
    MAX_TOP,
    OPTIMIZERS,
    OUTPUT_SCHEMA_VERSION,
    PRECISIONS,
    values_of,
)
from atlas_cli.recipes.registry import format_names

if TYPE_CHECKING:
    from rich.console import RenderableType

    from atlas_cli.core.engine import Engine
    from atlas_cli.core.plans import Plan, Recommendation
    from atlas_cli.core.profile import Profile
    from atlas_cli.core.sizing import Report
    from atlas_cli.kb.catalog import Catalog
    from atlas_cli.recipes.registry import Rendered, TrainerFormat
    from atlas_cli.recipes.settings import Recipe
    from atlas_cli.recipes.writer import NotWritten
    from atlas_cli.render.contracts import EstimateJson, ModelSourceJson


@command("Advise")
@profile_options(
    (
        "gpu",
        "vram",
        "gpus",
        "network_gbps",
        "model",
        "model_size",
        "data_kind",
        "examples",
        "seq_len",
        "tokens_per_example",
        "epochs",
        "packing",
        "batch_size",
        "price_per_hour",
        "stack",
        "vllm",
        "vllm_server_gpus",
        "activation_offloading",
        "num_generations",
        "generation_batch",
        "lora_experts",
    )
)
def estimate(
    raw: dict[str, Any],
    method: Annotated[
        Optional[str], typer.Option(help="Method id (lora, qlora, full-ft, rag, ...). Omit for all.")
    ] = None,
    objective: Annotated[str, typer.Option(help="sft, dpo, orpo, kto, simpo, rlhf-ppo, grpo, ...")] = "sft",
    precision: Annotated[
        Optional[str],
        typer.Option(help=f"[{'|'.join(PRECISIONS)}]. Default: bf16 where supported, else fp16."),
    ] = None,
    optimizer: Annotated[str, typer.Option(help=f"[{'|'.join(OPTIMIZERS)}].")] = "adamw",
    gradient_checkpointing: Annotated[
        Optional[bool],
        typer.Option(
            "--gradient-checkpointing/--no-gradient-checkpointing",
            help="Default: on for decoders (TRL, LLaMA-Factory), off for encoders.",
        ),
    ] = None,
    lora_rank: Annotated[
        Optional[str],
        typer.Option(
            metavar="INTEGER",
            help="LoRA rank, 1 to 65,536 (GaLore: its projection rank). Default: the method's own "
            "(its card's r or rank; 16).",
        ),
    ] = None,
    lora_targets: Annotated[
        str, typer.Option(help=f"[{'|'.join(LORA_TARGETS)}]: which linear layers LoRA adapts.")
    ] = "all-linear",
    lora_dropout: Annotated[
        Optional[str],
        typer.Option(
            metavar="FLOAT",
            help="LoRA dropout probability, 0 to 0.99: above 0 each adapted layer keeps a copy of its "
            "input (0, PEFT's default, is what the recipes write; TRL's and axolotl's examples use 0.05).",
        ),
    ] = None,
    quant_bits: Annotated[
        Optional[str], typer.Option(metavar="INTEGER", help="QLoRA base precision: 4 (default) or 8.")
    ] = None,
    sharding: Annotated[
        str,
        typer.Option(help="[auto|ddp|zero2|zero3] across --gpus; auto: the least communication that fits."),
    ] = "auto",
    offload: Annotated[str, typer.Option(help="[none|optimizer|params]: states in CPU RAM.")] = "none",
    quantize_experts: Annotated[
        Optional[bool],
        typer.Option(
            help="QLoRA on a mixture of experts: load the fused routed experts in 4 bits too, as axolotl's "
            "quantize_moe_experts and Unsloth (from 2026.6) do (bitsandbytes alone quantizes nn.Linear "
            "layers only); --no-quantize-experts keeps them 16-bit, as earlier Unsloth releases did.",
            show_default=False,
        ),
    ] = None,
    galore_layerwise: Annotated[
        bool,
        typer.Option(
            help="GaLore: step each layer's weights as its gradient arrives (optim galore_*_layerwise), "
            "so no whole-model gradient is held; one GPU, no gradient accumulation.",
        ),
    ] = False,
    optimizer_in_backward: Annotated[
        bool,
        typer.Option(
            help="Step each weight as its gradient arrives, so no whole-model gradient is held "
            "(torchtune's optimizer_in_bwd; GaLore: --galore-layerwise); no gradient accumulation.",
        ),
    ] = False,
    tiled_mlp: Annotated[
        bool,
        typer.Option(
            help="--stack unsloth: run each MLP a tile of tokens at a time (Unsloth's "
            "unsloth_tiled_mlp=True): no MLP intermediates of a long sequence are kept, for one more MLP "
            "forward per step.",
        ),
    ] = False,
    fsdp: Annotated[
        bool,
        typer.Option(
            help="Time ZeRO-3 as PyTorch FSDP runs it (torchtune, axolotl's fsdp, accelerate's FSDP): "
            "each layer's gather prefetched while the one before computes. By default it is timed as "
            "DeepSpeed runs it in ft-atlas's recipes, whose hooks wait for every module's gather.",
        ),
    ] = False,
    attention: Annotated[
        str,
        typer.Option(
            help=f"[{'|'.join(values_of(ATTENTIONS))}]: how attention runs. auto: as the stack loads it; "
            "eager: transformers' eager attention (attn_implementation='eager'; LLaMA-Factory's flash_attn: "
            "disabled), an s x s matrix per head; kernel (or sdpa, flash_attention_2, flex_attention): a "
            "memory-efficient kernel whatever the stack's default.",
        ),
    ] = "auto",
    most: Annotated[
        Optional[str],
        typer.Option("--max", help="[seq-len|batch-size]: the largest value that still fits."),
    ] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Estimate GPU memory per method, with a breakdown and a verdict (yes / tight / no).

    Examples: ft-atlas estimate --model-size 7b --gpu rtx-4090 ·
    ft-atlas estimate --method qlora --model llama-3.1-70b --gpu a100-80gb --json ·
    ft-atlas estimate --method qlora --model llama-3.1-8b --gpu 4090 --max seq-len
    """
    from atlas_cli.core.profile import PROBABILITY, build_profile, parse_amount, parse_whole
    from atlas_cli.core.sizing import EstimateOptions, attention_named, run_estimate
    from atlas_cli.render.documents import estimate_json, model_source_json

    # Read by the parser every number flag shares (an attacker's review: int() took "1_6" and "+16").
    rank = None if lora_rank is None else parse_whole(lora_rank, "--lora-rank", 1, MAX_LORA_RANK)
    bits = None if quant_bits is None else parse_whole(quant_bits, "--quant-bits", 1, 64)
    dropout = 0.0 if lora_dropout is None else parse_amount(lora_dropout, "--lora-dropout", PROBABILITY, 0.99)
    options = EstimateOptions(
        method=method,
        objective=objective,
        precision=precision,
        optimizer=optimizer,
        gradient_checkpointing=gradient_checkpointing,
        lora_rank=rank,
        quant_bits=bits,
        sharding=sharding,
        offload=offload,
        lora_targets=lora_targets,
        lora_dropout=dropout,
        quantize_experts=quantize_experts,
        galore_layerwise=galore_layerwise,
        optimizer_in_backward=optimizer_in_backward,
        tiled_mlp=tiled_mlp,
        fsdp=fsdp,
        attention=attention_named(attention),
        max=most,
    )
    report = run_estimate(state.catalog(), build_profile(raw), options)
    _warn_about(report)
    output = chosen_format(fmt, as_json)
    field = None if most is None else most.replace("-", "_")
    source = model_source_json(report.info)
    rows = [
        estimate_json(
            row.estimate,
            row.label,
            report.warnings + row.warnings + row.left_out,
            row.timed,
            None if field is None else (field, row.largest, row.largest_tight),
            row.to_fit if method is not None else None,
        )
        for row in report.rows
    ]
    if method is not None:
        _emit_single(output, {**rows[0], "model_source": source})
    else:
        _emit_every_method(output, report, rows, source, raw["gpu"])


def _warn_about(report: "Report") -> None:
    """The model's warnings (an unknown architecture, a guessed size), then each row's, once each."""
    for warning in report.info.warnings:
        console(stderr=True).print(
            t("warning: {model}: {warning}", model=report.info.label, warning=warning),
            style="yellow",
            markup=False,
        )
    for warning in dict.fromkeys([*report.warnings, *_row_warnings(report)]):
        console(stderr=True).print(t("warning: {warning}", warning=warning), style="yellow", markup=False)


def _row_warnings(report: "Report") -> list[str]:
    """Each row's warnings once, naming the rows it is about where not all of them (every method's
    table: recommend leaves bottleneck adapters out)."""
    labels: dict[str, list[str]] = {}
    for row in report.rows:
        for warning in dict.fromkeys(row.warnings):
            labels.setdefault(warning, []).append(row.label)
    return [
        warning if len(named) == len(report.rows) else f"{', '.join(named)}: {warning}"
        for warning, named in labels.items()
    ]


def _emit_every_method(
    output: Format, report: "Report", rows: "list[EstimateJson]", source: "ModelSourceJson", gpu: str
) -> None:
    hardware, info = report.hardware, report.info
    title = t(
        "Memory per GPU for {model} ({source})"
        if hardware.has_gpu
        else "RAM to train {model} ({source}) on the CPU",
        model=info.label,
        source=pt("model source", info.source),
    ) + (t(" on {hardware}", hardware=hardware.note) if hardware.capacity_gb is not None else "")
    data = {
        "schema_version": OUTPUT_SCHEMA_VERSION,
        "model": info.label,
        "model_source": source,
        "estimates": rows,
    }
    # With --gpu none the fit is not checked because there is no GPU, not for want of a flag.
    no_capacity = (
        None
        if hardware.has_gpu
        else t(
            "No local GPU (--gpu {gpu}): each bar is the RAM the plan takes on the CPU, in fp32 as the "
            "recipes train there; the fit is not checked.",
            gpu=gpu,
        )
    )
    _emit_many(output, data, rows, title, no_capacity)


def _emit_single(fmt: Format, data: Any) -> None:
    from atlas_cli.render.charts import breakdown_grid

    emit_grid(fmt, data, breakdown_grid(data))


def _emit_many(fmt: Format, data: Any, rows: Any, title: str, no_capacity: str | None) -> None:
    from atlas_cli.render.charts import NO_GPU_GIVEN, estimate_chart, estimates_grid
    from atlas_cli.render.grid import markdown_table

    def chart() -> "RenderableType":
        return estimate_chart(rows, title, console().width, no_capacity or NO_GPU_GIVEN)

    emit(fmt, data, chart, lambda: markdown_table(estimates_grid(rows, title)))


def render_recommendation(rec: Any, fmt: Format, top: int, explain: bool) -> None:
    from atlas_cli.render.documents import recommendation_json

    catalog = state.catalog()

    def view() -> "RenderableType":
        from atlas_cli.render.plans import recommendation_view  # rich: not needed for JSON

        return recommendation_view(catalog, rec, top, explain)

    def markdown() -> str:
        from atlas_cli.render.plans import recommendation_markdown

        return recommendation_markdown(catalog, rec, top, explain)

    emit(fmt, recommendation_json(rec, top, explain), view, markdown)


@command("Advise")
@profile_options()
def recommend(
    raw: dict[str, Any],
    top: Annotated[str, typer.Option(help=f"How many plans to show (1 to {MAX_TOP}).")] = str(DEFAULT_TOP),
    explain: Annotated[bool, typer.Option(help="Show every rule that fired, with the facts it saw.")] = False,
    batch: Annotated[
        Optional[str], typer.Option(help="JSON Lines of profiles ('-' = stdin); JSON Lines out.")
    ] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Rank plans for your hardware, model, data and goal, and explain why.

    Example: ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat --data-kind demonstrations
    """
    from atlas_cli.core.engine import Engine
    from atlas_cli.core.profile import build_profile

    shown = top_count(top)
    engine = Engine(state.catalog())
    if batch is not None:
        given = sorted(f"--{k.replace('_', '-')}" for k, v in raw.items() if v is not None)
        if given:
            raise UsageError(t("--batch reads profiles from the file; drop {flags}", flags=", ".join(given)))
        if fmt is Format.markdown:
            raise UsageError(t("--batch writes JSON Lines; drop --format markdown"))
        from atlas_cli.batch.runner import run_batch

        raise typer.Exit(run_batch(engine, batch, top=shown, explain=explain, debug=state.debug))
    rec = engine.recommend(build_profile(raw))
    render_recommendation(rec, chosen_format(fmt, as_json), shown, explain)


# --- recipe ----------------------------------------------------------------------------------


# Bounds of --lora-rank and --plan: far past any rank a method uses, and any KB's plans.
MAX_LORA_RANK = 65_536
MAX_PLAN_RANK = 10_000


@command("Advise")
@profile_options()
def recipe(
    raw: dict[str, Any],
    plan_text: Annotated[
        Optional[str],
        typer.Option(
            "--plan",
            metavar="INTEGER",
            help="Rank of the plan, as `recommend` lists it (with --stack hf for --trainer "
            "llamafactory or axolotl, whose software holds the fp32 logits); by default plan 1, or "
            "with --trainer the best-ranked plan that trainer writes.",
        ),
    ] = None,
    trainer: Annotated[
        Optional[str],
        typer.Option(
            help=f"[{'|'.join(format_names())}]: a Python script, or a trainer's YAML; by default the "
            "GPU's own trainer where it writes the plan (mlx on Apple silicon), else python."
        ),
    ] = None,
    old_format: Annotated[
        Optional[str], typer.Option("--format", "-f", hidden=True, help="Deprecated: use --trainer.")
    ] = None,
    out_text: Annotated[
        Optional[str],
        typer.Option(
            "--out",
            help="Write to this file (a one-file recipe), or to this directory (one file per stage and "
            "launcher config) when it exists or ends with '/'; '-' is stdout.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --out replace existing files (or symbolic links).")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the plan, settings, memory, files and launch command as JSON "
            "(`ft-atlas schema`'s recipe document).",
        ),
    ] = False,
) -> None:
    """Write a runnable training recipe for a recommended plan (see docs/recipes.md).

    Example: ft-atlas recipe --gpu rtx-3090 --model mistral-7b --data-kind preferences --out train.py
    """
    from atlas_cli.core.engine import Engine
    from atlas_cli.core.profile import build_profile, parse_whole
    from atlas_cli.recipes.registry import FALLBACK, trainer_formats

    plan = None if plan_text is None else parse_whole(plan_text, "--plan", 1, MAX_PLAN_RANK)
    old_format, as_json = _legacy_format(old_format, trainer, as_json)
    # Without --trainer, the GPU's own trainer where a format is made the default there (mlx-lm on
    # Apple silicon) and writes the plan, else python: ranked as python ranks (`recommend`'s way).
    defaulted = trainer is None and old_format is None
    given = trainer if trainer is not None else old_format
    chosen = one_of("--trainer", (FALLBACK if given is None else given).lower(), format_names())
    if out_text is not None and not out_text.strip():
        raise UsageError(t("--out: empty path (give a file, a directory, or - for stdout)"))
    catalog = state.catalog()
    fmt = trainer_formats()[str(chosen)]
    stack_given = raw.get("stack") is not None
    if not stack_given and not defaulted and _runs_on_the_gpu(catalog, fmt, build_profile(raw)):
        # Rank with the software the recipe runs (LLaMA-Factory and axolotl: transformers' own
        # loss), so that the plan ranked first fits as written; a --stack given is kept and the
        # header says how the recipe's memory differs. Without --trainer, plans rank as
        # `recommend` ranks them (python's TRL, mlx-lm on Apple silicon: training_stack).
        raw = {**raw, "stack": fmt.stack}
    engine = Engine(catalog)
    rec = engine.recommend(build_profile(raw))
    liger = None
    if not stack_given and fmt.liger and plan in (None, 1) and _liger_runs(rec):
        liger = engine.recommend(build_profile({**raw, "stack": "liger"}))
    # A trailing separator names a directory; Path() would drop it, so the text is kept.
    out = None if out_text is None else Path(out_text)
    to_stdout = out_text is None or out_text == "-"
    directory = (
        out is not None
        and out_text is not None
        and not to_stdout
        and (out.is_dir() or out_text.endswith(("/", "\\")))
    )
    # The header's run line names the file written, as given (`--out train.py`: python train.py).
    main = None if to_stdout or directory else out_text
    trainer_name = None if defaulted else str(chosen)
    chosen, recipe, rendered = _render_preferring_liger(rec, liger, plan, trainer_name, main)
    if main is not None:
        _check_suffix(main, trainer_formats(), chosen)
    _warn_unless_it_fits(recipe)
    _say_idle_options(engine, rec, recipe)
    if plan is None:
        _say_no_training_left(rec, recipe)
    if as_json:
        _print_recipe_json(chosen, recipe, rendered)
    elif to_stdout:
        sys.stdout.write(rendered.text)
        if out_text is None and sys.stdout.isatty():
            # A newcomer's review: ~600 lines scrolled past, and the header's Run: line names a
            # recipe.py that no one wrote.
            note = t("printed the recipe; --out FILE (or DIR/) writes it where its Run: line runs it")
            status(note)
    if not to_stdout and out is not None:
        _write_out(rendered, out, directory, force)


def _render_plan(
    rec: "Recommendation", plan: int | None, trainer: str | None, main: str | None
) -> "tuple[str, Recipe, Rendered]":
    """The recipe of plan `plan` (else the best-ranked plan the trainer writes) with `trainer`, or
    without one with the GPU's default trainer where it writes the plan; says what was passed over."""
    try:
        return _rendered_plan(rec, plan, trainer, main)
    except UsageError as error:
        from atlas_cli.recipes.writer import NoneFits

        if "--plan" not in str(error) or isinstance(error, NoneFits):
            raise
        refused = plan or 1
        hint = next(
            (
                t("another plan that trains here: --plan {rank}, {name}", rank=rank, name=translated(p.name))
                for rank, p in enumerate(rec.plans, start=1)
                if rank != refused and _writes(rec, rank, trainer)
            ),
            t("no other plan trains here and is written"),
        )
        raise UsageError(f"{error} ({hint})") from None


def _writes(rec: "Recommendation", rank: int, trainer: str | None) -> bool:
    """Whether plan `rank` trains here, fits, and is written with `trainer` (else the GPU's
    default): the plan a refusal that says to pick another names (a newcomer's review tried
    --plan 2, a hosted service, then --plan 3, 122 GB of a T4, after plan 1's refusal)."""
    from atlas_cli.recipes.writer import default_recipe, write_recipe

    p = rec.plans[rank - 1]
    if p.kind == "no-training" or p.runs != "local" or p.fit not in ("yes", "tight"):
        return False
    try:
        if trainer is None:
            default_recipe(state.catalog(), rec, rank, None)
        else:
            write_recipe(state.catalog(), rec, rank, trainer)
    except UsageError:
        return False
    return True


def _rendered_plan(
    rec: "Recommendation", plan: int | None, trainer: str | None, main: str | None
) -> "tuple[str, Recipe, Rendered]":
    from atlas_cli.recipes.writer import default_recipe, first_written, write_recipe

    catalog = state.catalog()
    if trainer is None:
        chosen, recipe, rendered, passed = default_recipe(catalog, rec, plan or 1, main)
        for name, why in passed:
            message = t(
                "note: --trainer {default}, the default on this GPU, does not write this plan, so this is "
                "--trainer {written}. {default}: {why}",
                default=name,
                why=why,
                written=chosen,
            )
            status(message)
        return chosen, recipe, rendered
    if plan is None:
        recipe, rendered, skipped = first_written(catalog, rec, trainer, main)
        if skipped:
            _say_skipped(rec, skipped, trainer, recipe.rank)
        return trainer, recipe, rendered
    recipe, rendered = write_recipe(catalog, rec, plan, trainer, main)
    return trainer, recipe, rendered


def _print_recipe_json(trainer: str, recipe: "Recipe", rendered: "Rendered") -> None:
    from atlas_cli.render.documents import recipe_json

    print_json(
        recipe_json(
            trainer,
            recipe.profile,
            recipe.rank,
            recipe.plan,
            {k: (v.value, v.source) for k, v in recipe.settings.items()},
            list(recipe.estimates.values()),
            recipe.timed,
            [(f.name, f.text) for f in rendered.files],
            rendered.launch,
            list(recipe.notes),
        )
    )


def _legacy_format(old_format: str | None, trainer: str | None, as_json: bool) -> tuple[str | None, bool]:
    """recipe's old --format: json is --json (as every other command's), a trainer name is
    --trainer, with a warning; table and markdown are refused."""
    if old_format is not None and old_format.lower() == "json":
        # Every other command's --format json: the same JSON as --json.
        status(t("warning: recipe --format picks the trainer (deprecated); use --json"))
        old_format, as_json = None, True
    elif old_format is not None and old_format.lower() in ("table", "markdown"):
        raise UsageError(
            t(
                "recipe writes a script or a trainer's YAML, not a {format}: --trainer picks which (its old "
                "name --format), --json prints it as JSON",
                format=old_format.lower(),
            )
        )
    if old_format is not None:
        if trainer is not None:
            raise UsageError(t("--format is the old name of --trainer: give one"))
        status(t("warning: recipe --format is deprecated; use --trainer"))
    return old_format, as_json


def _check_suffix(name: str, formats: "dict[str, TrainerFormat]", trainer: str) -> None:
    """Refuses an --out file whose suffix names another kind of file than the recipe is (a
    newcomer's `--out train.yaml` got a Python script, and fed it to axolotl)."""
    from atlas_cli.recipes.registry import RECIPE_SUFFIXES

    given = RECIPE_SUFFIXES.get(PurePath(name).suffix.lower())
    written = formats[trainer].suffix
    if given is None or given == RECIPE_SUFFIXES[written]:
        return
    others = [f.name for f in formats.values() if RECIPE_SUFFIXES[f.suffix] == given]
    fields = {
        "name": name,
        "trainer": trainer,
        "written": t(RECIPE_SUFFIXES[written]),
        "given": t(given),
        "stem": PurePath(name).stem,
        "suffix": written,
    }
    if not others:
        raise UsageError(
            t(
                "--out {name}: --trainer {trainer} writes {written}, not {given}; name the file "
                "{stem}{suffix}",
                **fields,
            )
        )
    raise UsageError(
        t(
            "--out {name}: --trainer {trainer} writes {written}, not {given}; name the file "
            "{stem}{suffix}, or give --trainer {others} for {given}",
            others="/".join(others),
            **fields,
        )
    )


def _write_out(rendered: "Rendered", out: Path, directory: bool, force: bool) -> None:
    """The recipe's files at --out: each to its own file in a directory, else its one file."""
    from atlas_cli.core.shell import shell_word
    from atlas_cli.files import make_output_dir, write_new_files

    if directory:
        make_output_dir(out)
        write_new_files({out / f.name: f.text for f in rendered.files}, force=force)
        written = ", ".join(one_line(str(out / f.name)) for f in rendered.files)
        # The header's Run: line names the files as they sit together (a review ran it elsewhere).
        written += " " + t(
            "(run the Run: line of its header there: cd {directory})", directory=shell_word(str(out))
        )
    elif len(rendered.files) > 1:
        # Written into one file, its Run: line named files that did not exist (a newcomer's
        # review: exit 0, and nothing to run).
        raise UsageError(
            t(
                "--out {path}: this recipe is several files that run together ({names}): give a "
                "directory, --out DIR/, to write each where its Run: line finds it (--out - prints them)",
                path=one_line(str(out)),
                names=", ".join(f.name for f in rendered.files),
            )
        )
    else:
        write_new_files({out: rendered.files[0].text}, force=force)
        written = one_line(str(out))
    status(t("wrote {path}", path=written))


# Liger Kernel's Triton kernels run on NVIDIA (CUDA) and AMD (ROCm) GPUs, not on Apple's.
LIGER_VENDORS = frozenset({"nvidia", "amd"})
LIGER_ON = N_(
    "note: written with Liger Kernel's fused loss, which this trainer's YAML turns on (as --stack "
    "liger): {why}; --stack hf writes the trainer's own loss"
)


def _render_preferring_liger(
    plain: "Recommendation",
    liger: "Recommendation | None",
    plan: int | None,
    trainer: str | None,
    main: str | None,
) -> "tuple[str, Recipe, Rendered]":
    """A YAML trainer ranks with transformers' own loss, whose fp32 logits can push the plan an
    expert would run out of memory at long context; its Liger Kernel option keeps it. The recipe
    turns that option on, and says so on stderr, where it changes the plan ranked first (a review:
    Qwen3-30B-A3B at 32k tokens got a 45-hour offloaded partial fine-tune where LoRA with Liger
    fits in 1.5 hours), lets the same plan fit within the margin on the GPUs alone (Qwen3-32B on
    two RTX 4090s was written tight, its optimizer offloaded), or writes a plan the trainer's own
    loss cannot (an expert's review: Llama 3.1 8B at 8k tokens on an RTX 4090 was refused where
    LoRA with Liger fits) - and only where Liger's ranking is written: its plan 1 may be one no
    recipe writes (a base loaded shard by shard), and then the plain ranking's is."""
    gain = None if liger is None else _liger_gain(plain, liger)
    if liger is not None and gain is not None:
        try:
            written = _render_plan(liger, plan, trainer, main)
        except UsageError:
            pass
        else:
            _say_liger(gain)
            return written
    try:
        return _render_plan(plain, plan, trainer, main)
    except UsageError as refused:
        if liger is None or gain is not None or not _fuses_its_loss(liger):
            raise
        try:
            written = _render_plan(liger, plan, trainer, main)
        except UsageError:
            raise refused from None
        _say_liger(t("with the trainer's own loss plan 1 is not written: {why}", why=str(refused)))
        return written


def _fuses_its_loss(liger: "Recommendation") -> bool:
    """Whether Liger's plan 1 trains supervised stages only, the ones whose loss the recipes fuse
    (a preference stage keeps its logits: written with Liger, it would be sized as without)."""
    from atlas_cli.kb.vocabulary import SUPERVISED_STAGES

    return bool(liger.plans) and set(liger.plans[0].pipeline) <= set(SUPERVISED_STAGES)


def _say_liger(why: str) -> None:
    status(t(LIGER_ON, why=why))


def _liger_gain(plain: "Recommendation", liger: "Recommendation") -> str | None:
    """What Liger's ranking gains over the trainer's own loss, in words: another plan ranked first,
    or the same one fitting on the GPUs alone within the margin; None where it gains neither."""
    if not plain.plans or not _fuses_its_loss(liger):
        return None  # the recipes write Liger for supervised stages only
    first, fused = plain.plans[0], liger.plans[0]
    if first.method != fused.method:
        return t(
            "plan 1 is then {liger}, where with the trainer's own loss, which holds the whole logits, "
            "it would be {plain}",
            liger=translated(fused.name),
            plain=translated(first.name),
        )
    if _tight_or_offloaded(first) and not _tight_or_offloaded(fused) and fused.memory_gb is not None:
        return t(
            "plan 1 ({plan}) then needs {gb:.1f} GB per GPU and fits on the GPUs alone within the "
            "margin, where with the trainer's own loss it is only tight or offloads",
            plan=translated(first.name),
            gb=fused.memory_gb,
        )
    return None


def _runs_on_the_gpu(catalog: "Catalog", fmt: "TrainerFormat", profile: "Profile") -> bool:
    """Whether the trainer runs on the profile's GPU (mlx-lm: Apple silicon only); where it does
    not, the plans rank as `recommend` ranks them and the recipe's refusal names the trainers
    that write them there."""
    from atlas_cli.core.resolve import resolve_hardware

    vendor = resolve_hardware(catalog, profile.gpu, profile.vram, profile.gpus).vendor
    return fmt.vendors is None or vendor in fmt.vendors


def _liger_runs(rec: "Recommendation") -> bool:
    """Whether Liger Kernel runs for this profile's GPU and model: its Triton kernels on NVIDIA or
    AMD (axolotl installs liger-kernel off macOS only), and both trainers' Liger options patch the
    model's type (its wrapper's where it has one; unknown for a bare size, whose shape is only
    assumed), since another trains unpatched, at the memory the plain ranking gave."""
    from atlas_cli.recipes.writer import liger_patches

    if rec.facts.get("gpu_vendor") not in LIGER_VENDORS:
        return False
    if rec.model is None or rec.model.spec is None or rec.model.source == "bare size":
        return False
    return liger_patches(state.catalog(), rec.model.spec.checkpoint_type)


def _say_no_training_left(rec: "Recommendation", recipe: "Recipe") -> None:
    """Plan 1 trains nothing because every plan that would train on the user's GPUs was left
    out (gpt-oss sampled with --vllm): why, on stderr, as `recommend` says it, rather than a
    prompting example written without a word to someone who asked for training."""
    from atlas_cli.render.plans import excluded_lines

    def trains_here(p: "Plan") -> bool:
        return p.kind != "no-training" and p.runs != "hosted"

    if recipe.plan.kind != "no-training" or any(trains_here(p) for p in rec.plans):
        return
    lines = excluded_lines(rec._replace(excluded=tuple(p for p in rec.excluded if trains_here(p))))
    if lines:
        message = t(
            "note: no plan that trains on your GPUs is left, so this recipe ({plan}) trains nothing. {why}",
            plan=translated(recipe.plan.name),
            why=" ".join(lines),
        )
        status(message)


def _say_skipped(rec: "Recommendation", skipped: "list[NotWritten]", trainer: str, written: int) -> None:
    """Why the plans ranked above the one written were passed over, on stderr: plan 1's refusal
    in full (the plan the user expected), the others by name."""
    others = ", ".join(f"{rank} ({translated(rec.plans[rank - 1].name)})" for rank in range(2, written))
    template = (
        "note: {why}; nor plan {others}; so this is plan {rank}, the best-ranked plan --trainer {trainer} "
        "writes (--plan N picks another)"
        if others
        else "note: {why}; so this is plan {rank}, the best-ranked plan --trainer {trainer} writes (--plan N "
        "picks another)"
    )
    message = t(template, why=str(skipped[0]), others=others, rank=written, trainer=trainer)
    status(message)


def _tight_or_offloaded(plan: "Plan") -> bool:
    """Past the safety margin, or fitting only with states offloaded to CPU RAM."""
    return plan.fit != "yes" or plan.offload not in (None, "none")


def _warn_unless_it_fits(recipe: "Recipe") -> None:
    """The recipe's own estimate (its trainer's software, its batch) can miss where the ranking fit
    (another --stack): said on stderr too, not only in the header, since running it would OOM."""
    for stage, e in recipe.estimates.items():
        if e.fit == "no" and e.capacity_gb is not None:
            message = t(
                "warning: plan {rank}'s {stage} stage does not fit with this recipe's settings (stack "
                "{stack}): {need:.2f} GB per GPU of {usable:.2f} GB; the header says why, --plan N picks "
                "another plan",
                rank=recipe.rank,
                stage=stage,
                stack=recipe.stack,
                need=e.per_gpu_gb,
                usable=e.capacity_gb,
            )
            status(message)


def _say_idle_options(engine: "Engine", rec: "Recommendation", recipe: "Recipe") -> None:
    """Options the recipe's stages do not use (--generation-batch for an SFT plan): said on
    stderr, as `recommend` says them, rather than dropped without a word."""
    from atlas_cli.core.resolve import idle_options

    if rec.request is None or not recipe.plan.pipeline:
        return
    stages = engine.stages_of(recipe.plan.pipeline, rec.request.sampling)
    shape = rec.model.shape if rec.model is not None else None
    for note in idle_options(rec.request, shape, stages):
        status(t("note: {note}", note=note))


# --- ask -------------------------------------------------------------------------------------
