"""The `ft-atlas` command line: thin wiring only — parse, call the core, render.

Heavy modules (rich renderables, pydantic models, YAML) are imported inside the commands that
need them, so `--help` and `--version` stay fast (see tests/test_imports.py). This module does
not postpone annotations (`from __future__ import annotations`): typer would then evaluate every
option's annotation string at start-up.
"""

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from atlas_cli import __version__
from atlas_cli.errors import (
    EXIT_INTERRUPTED,
    InputEnded,
    KnowledgeBaseError,
    OutputClosed,
    UsageError,
    debug_env,
    fail,
    prepare_streams,
    report,
)
from atlas_cli.profile import PROFILE_FIELDS

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from atlas_cli.catalog import Catalog
    from atlas_cli.models import Lang
    from atlas_cli.render.grid import Grid

app = typer.Typer(
    name="ft-atlas",
    help="Advice on adapting a large language model to your GPU, model, data and goal.\n\n"
    "Examples:\n\n"
    "  ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat\n\n"
    "  ft-atlas estimate --model llama-3.1-8b --gpu 4090\n\n"
    "  ft-atlas show qlora",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Language(StrEnum):
    en = "en"
    ru = "ru"


class State:
    """Global options of this invocation, and the knowledge base they select (loaded once)."""

    def __init__(self) -> None:
        self.kb: Path | None = None
        self.no_color = False
        self.debug = False
        self.lang: Lang = "en"
        self._catalogs: dict[Path, Catalog] = {}

    def catalog(self) -> "Catalog":
        from atlas_cli.catalog import resolve_kb_path
        from atlas_cli.kbcache import load_cached_catalog

        path = resolve_kb_path(self.kb)
        if path not in self._catalogs:
            self._catalogs[path] = load_cached_catalog(path)
        return self._catalogs[path]


state = State()

FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", case_sensitive=False, help="Output format: table, json or markdown."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]


def _format(fmt: Format, as_json: bool) -> Format:
    return Format.json if as_json else fmt


def _plain() -> bool:
    """No colour and no styles: --no-color, NO_COLOR (https://no-color.org) or TERM=dumb."""
    return state.no_color or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def console(stderr: bool = False) -> "Console":
    from atlas_cli.render.terminal import Terminal

    return Terminal(stderr=stderr, color_system=None if _plain() else "auto", highlight=False)


def print_json(data: Any) -> None:
    from atlas_cli.render.jsonout import write_json

    write_json(data)


def emit(fmt: Format, data: Any, view: "Callable[[], RenderableType]", markdown: Callable[[], str]) -> None:
    """One place decides rendering: JSON, Markdown or a rich view, always to stdout."""
    if fmt is Format.json:
        print_json(data)
    elif fmt is Format.markdown:
        sys.stdout.write(markdown())
    else:
        console().print(view())


def emit_grid(fmt: Format, data: Any, grid: "Grid") -> None:
    from atlas_cli.render.grid import markdown_table, rich_table

    emit(fmt, data, lambda: rich_table(grid), lambda: markdown_table(grid))


def emit_listing(fmt: Format, key: str, items: Sequence[Any], grid: "Grid") -> None:
    """A catalog listing: the KB entries as stored (JSON) or as a table."""
    emit_grid(fmt, {"schema_version": 1, key: [item.model_dump(mode="json") for item in items]}, grid)


def command(panel: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command under a --help panel. A reader that goes away (`ft-atlas methods |
    head -1`) ends it quietly with exit 0: click would turn the BrokenPipeError into exit 1."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                func(*args, **kwargs)
            except BrokenPipeError:
                raise OutputClosed from None

        app.command(rich_help_panel=panel)(run)
        return run

    return register


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ft-atlas {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    kb: Annotated[
        Optional[Path],
        typer.Option("--kb", envvar="FT_ATLAS_KB", help="Knowledge base: a YAML file or directory."),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output without colour.")] = False,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the guide's text.")] = Language.en,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    state.kb = kb
    state.no_color = no_color
    state.lang = "ru" if lang is Language.ru else "en"
    state.debug = debug or debug_env()


# --- catalog commands ------------------------------------------------------------------------


@command("Look up")
def methods(
    category: Annotated[Optional[str], typer.Option(help="Only this category id.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="parameterization, objective or no-training.")] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """List methods. Example: ft-atlas methods --kind parameterization"""
    from atlas_cli.render.views import methods_grid

    catalog = state.catalog()
    kinds = ("parameterization", "objective", "no-training")
    if kind is not None and kind not in kinds:
        raise UsageError(f"--kind: '{kind}' is not one of {', '.join(kinds)}")
    if category is not None and category not in {c.id for c in catalog.kb.categories}:
        known = ", ".join(c.id for c in catalog.kb.categories)
        raise UsageError(f"--category: unknown category '{category}'; choose from {known}")
    chosen = [
        m
        for m in catalog.kb.methods
        if (category is None or m.category == category) and (kind is None or m.kind == kind)
    ]
    data = {
        "schema_version": 1,
        "methods": [
            {
                "id": m.id,
                "name": m.name,
                "kind": m.kind,
                "category": m.category,
                "summary": m.summary.get(state.lang),
                **m.ratings.model_dump(),
            }
            for m in chosen
        ],
    }
    emit_grid(_format(fmt, as_json), data, methods_grid(chosen, state.lang))


@command("Look up")
def show(
    method: Annotated[str, typer.Argument(help="Method id, name or alias, e.g. qlora or 'LoRA'.")],
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Show a method's card. Example: ft-atlas show "low-rank adaptation" """
    from atlas_cli.render.cards import method_card, method_card_markdown
    from atlas_cli.render.jsonout import method_json

    found = state.catalog().method(method)
    lang = state.lang
    emit(
        _format(fmt, as_json),
        method_json(found),
        lambda: method_card(found, lang),
        lambda: method_card_markdown(found, lang),
    )


@command("Look up")
def compare(
    method_ids: Annotated[
        Optional[list[str]], typer.Argument(metavar="[METHOD]...", help="Methods to compare.")
    ] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Compare methods; with none, print the guide's §4 table. Example: ft-atlas compare lora qlora"""
    from atlas_cli.render.views import (
        compare_grid,
        compare_json,
        guide_comparison_rows,
        method_comparison_rows,
    )

    catalog = state.catalog()
    lang = state.lang
    if method_ids:
        chosen = list({m.id: m for m in (catalog.method(q) for q in method_ids)}.values())
        rows = method_comparison_rows(chosen, lang)
    else:
        rows = guide_comparison_rows(catalog, lang)
    from_guide = not method_ids
    emit_grid(_format(fmt, as_json), compare_json(rows, from_guide), compare_grid(rows, from_guide))


@command("Look up")
def categories(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's five categories of adaptation (§2).

    Example: ft-atlas categories --lang ru
    """
    from atlas_cli.render.views import categories_grid

    catalog = state.catalog()
    emit_listing(
        _format(fmt, as_json), "categories", catalog.kb.categories, categories_grid(catalog, state.lang)
    )


@command("Look up")
def tools(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's tools table (§6), with notes where it is out of date.

    Example: ft-atlas tools --format markdown
    """
    from atlas_cli.render.views import tools_grid

    catalog = state.catalog()
    emit_listing(_format(fmt, as_json), "tools", catalog.kb.guide.tools, tools_grid(catalog, state.lang))


@command("Look up")
def gpus(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The GPU catalog.

    Example: ft-atlas gpus --json
    """
    from atlas_cli.render.views import gpus_grid

    catalog = state.catalog()
    emit_listing(_format(fmt, as_json), "gpus", catalog.kb.gpus, gpus_grid(catalog))


@command("Look up")
def models(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The model catalog.

    Example: ft-atlas models --format markdown
    """
    from atlas_cli.render.views import models_grid

    catalog = state.catalog()
    emit_listing(_format(fmt, as_json), "models", catalog.kb.models, models_grid(catalog))


@command("Look up")
def guide(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's rules (§3) and recommendations (§7) as a tree, with ft-atlas's corrections.

    Example: ft-atlas guide --lang ru
    """
    from atlas_cli.render.cards import guide_markdown, guide_tree

    catalog = state.catalog()
    lang = state.lang
    data = {
        "schema_version": 1,
        "choose": [r.model_dump(mode="json") for r in catalog.kb.guide.choose],
        "recommendations": [r.model_dump(mode="json") for r in catalog.kb.guide.recommendations],
    }
    emit(
        _format(fmt, as_json), data, lambda: guide_tree(catalog, lang), lambda: guide_markdown(catalog, lang)
    )


@command("Knowledge base")
def validate(
    path: Annotated[
        Optional[Path], typer.Argument(help="KB file or directory (default: the one in use).")
    ] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Validate a knowledge base; problems are listed as path:line:column: field: message (exit 3).

    Example: ft-atlas validate my-kb.yaml
    """
    from atlas_cli.catalog import resolve_kb_path
    from atlas_cli.knowledge import load_knowledge_base

    target = path if path is not None else resolve_kb_path(state.kb)
    chosen = _format(fmt, as_json)
    try:
        kb = load_knowledge_base(target)
    except KnowledgeBaseError as error:
        if chosen is Format.json:
            print_json({"schema_version": 1, "path": str(target), "valid": False, "problems": error.problems})
        raise
    counts = {
        "methods": len(kb.methods),
        "rules": len(kb.rules),
        "pipelines": len(kb.pipelines),
        "gpus": len(kb.gpus),
        "models": len(kb.models),
    }
    if chosen is Format.json:
        print_json({"schema_version": 1, "path": str(target), "valid": True, "counts": counts})
        return
    labels = {"gpus": "GPUs"}
    listed = ", ".join(f"{n} {labels.get(name, name)}" for name, n in counts.items())
    sys.stdout.write(f"{target}: valid — {listed}\n")


@command("Knowledge base")
def schema(fmt: FormatOption = Format.json, as_json: JsonOption = False) -> None:
    """JSON Schemas of the knowledge base, the profile and every JSON output (JSON by default).

    Example: ft-atlas schema > ft-atlas.schema.json
    """
    from atlas_cli.render.grid import Grid, fenced
    from atlas_cli.render.jsonout import dumps
    from atlas_cli.schemas import all_schemas

    schemas = all_schemas()
    named = {"knowledge_base": schemas["knowledge_base"], "profile": schemas["profile"], **schemas["outputs"]}
    grid = Grid("JSON Schemas", ["schema", "properties"])
    for name, body in named.items():
        grid.rows.append([name, ", ".join(body.get("properties", {}))])
    chosen = _format(fmt, as_json)
    if chosen is Format.markdown:
        for name, body in named.items():
            sys.stdout.write("\n".join([f"### {name}", "", *fenced(dumps(body), "json"), "", ""]))
        return
    emit_grid(chosen, schemas, grid)


# --- estimate --------------------------------------------------------------------------------


class PrecisionChoice(StrEnum):
    bf16 = "bf16"
    fp16 = "fp16"
    fp32 = "fp32"
    pure_bf16 = "pure-bf16"


class OptimizerChoice(StrEnum):
    adamw = "adamw"
    adamw_8bit = "adamw-8bit"
    paged_adamw_8bit = "paged-adamw-8bit"
    sgd = "sgd"


def _flag_help(name: str) -> str:
    return next(f.help for f in PROFILE_FIELDS if f.name == name)


@command("Advise")
def estimate(
    method: Annotated[
        Optional[str], typer.Option(help="Method id (lora, qlora, full-ft, rag, ...). Omit for all.")
    ] = None,
    model_size: Annotated[Optional[str], typer.Option(help=_flag_help("model_size"))] = None,
    model: Annotated[Optional[str], typer.Option(help=_flag_help("model"))] = None,
    gpu: Annotated[Optional[str], typer.Option(help=_flag_help("gpu"))] = None,
    vram: Annotated[Optional[str], typer.Option(help=_flag_help("vram"))] = None,
    gpus: Annotated[
        int, typer.Option(min=1, max=100_000, help="Number of GPUs; full FT shards across them.")
    ] = 1,
    objective: Annotated[str, typer.Option(help="sft, dpo, orpo, kto, simpo, rlhf-ppo, grpo, ...")] = "sft",
    seq_len: Annotated[
        Optional[int],
        typer.Option(min=1, max=10_000_000, help="Tokens per sequence (default 2048; 512 for encoders)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Micro-batch size per GPU.")] = 1,
    precision: Annotated[
        Optional[PrecisionChoice], typer.Option(help="Default: bf16 where supported, else fp16.")
    ] = None,
    optimizer: Annotated[OptimizerChoice, typer.Option(help="Optimizer.")] = OptimizerChoice.adamw,
    gradient_checkpointing: Annotated[
        Optional[bool],
        typer.Option(
            "--gradient-checkpointing/--no-gradient-checkpointing", help="Default: on for models >= 1B."
        ),
    ] = None,
    lora_rank: Annotated[int, typer.Option(min=1, max=65_536, help="LoRA rank (all linear layers).")] = 16,
    quant_bits: Annotated[int, typer.Option(help="QLoRA base precision: 4 or 8.")] = 4,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Estimate GPU memory per method, with a breakdown and whether it fits.

    Examples: ft-atlas estimate --model-size 7b --gpu rtx-4090 ·
    ft-atlas estimate --method qlora --model llama-3.1-70b --gpu a100-80gb --json
    """
    from atlas_cli.profile import build_profile
    from atlas_cli.render.jsonout import estimate_json
    from atlas_cli.resolve import resolve_hardware, resolve_model, settings_for
    from atlas_cli.sweep import objective_id, single, sweep, trainable_method

    catalog = state.catalog()
    profile = build_profile(
        {"gpu": gpu, "vram": vram, "gpus": gpus, "model": model, "model_size": model_size}
    )
    hardware = resolve_hardware(catalog, profile.gpu, profile.vram, profile.gpus)
    info = resolve_model(catalog, profile.model, profile.model_size)
    settings, warnings = settings_for(
        info,
        hardware,
        objective=objective_id(catalog, objective),
        seq_len=seq_len,
        batch_size=batch_size,
        precision=precision.value if precision else None,
        optimizer=optimizer.value,
        gradient_checkpointing=gradient_checkpointing,
        lora_rank=lora_rank,
        quant_bits=quant_bits,
    )
    for warning in warnings:
        console(stderr=True).print(f"warning: {warning}", style="yellow", markup=False)
    chosen_format = _format(fmt, as_json)
    title = f"Memory per GPU for {info.label}" + (f" on {hardware.note}" if hardware.has_gpu else "")
    if method is not None:
        label, result = single(trainable_method(catalog, method), info, settings)
        _emit_single(chosen_format, estimate_json(result, label, warnings))
        return
    swept = sweep(catalog, info, hardware, settings)
    for warning in dict.fromkeys(w for _, _, extra in swept for w in extra):
        console(stderr=True).print(f"warning: {warning}", style="yellow", markup=False)
    rows = [estimate_json(e, label, warnings + extra) for label, e, extra in swept]
    data = {"schema_version": 1, "model": info.label, "estimates": rows}
    _emit_many(chosen_format, data, rows, title)


def _emit_single(fmt: Format, data: Any) -> None:
    from atlas_cli.render.charts import breakdown_grid

    emit_grid(fmt, data, breakdown_grid(data))


def _emit_many(fmt: Format, data: Any, rows: Any, title: str) -> None:
    from atlas_cli.render.charts import estimate_chart, estimates_grid
    from atlas_cli.render.grid import markdown_table

    emit(fmt, data, lambda: estimate_chart(rows, title), lambda: markdown_table(estimates_grid(rows, title)))


# --- recommend -------------------------------------------------------------------------------


def with_profile_options(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command one option per profile field (from PROFILE_FIELDS); the values reach it
    as a dict `raw` keyed by field name, None where the flag was not given."""
    names = [f.name for f in PROFILE_FIELDS]

    def wrapper(**kwargs: Any) -> None:
        raw = {name: kwargs.pop(name) for name in names}
        func(raw=raw, **kwargs)

    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "raw"]
    profile_params = []
    for field in PROFILE_FIELDS:
        panel = f"Profile: {field.group}"
        if field.kind == "flag":
            option = typer.Option(field.flag, help=field.help, rich_help_panel=panel)
            annotation: Any = Annotated[Optional[bool], option]
        else:
            choices = f" [{'|'.join(c.value for c in field.choices)}]" if field.choices else ""
            option = typer.Option(field.flag, help=field.help + choices, rich_help_panel=panel)
            annotation = Annotated[Optional[str], option]
        profile_params.append(
            inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
    signature = inspect.Signature(
        [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + profile_params
    )
    setattr(wrapper, "__signature__", signature)  # noqa: B010 - typer reads it

    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    return wrapper


def render_recommendation(rec: Any, fmt: Format, top: int, explain: bool) -> None:
    from atlas_cli.render.jsonout import recommendation_json

    catalog = state.catalog()

    def view() -> "RenderableType":
        from atlas_cli.render.plans import recommendation_view  # rich: not needed for JSON

        return recommendation_view(catalog, rec, top, explain)

    def markdown() -> str:
        from atlas_cli.render.plans import recommendation_markdown

        return recommendation_markdown(catalog, rec, top, explain)

    emit(fmt, recommendation_json(rec, top, explain), view, markdown)


@command("Advise")
@with_profile_options
def recommend(
    raw: dict[str, Any],
    top: Annotated[int, typer.Option(min=1, max=100, help="How many plans to show.")] = 5,
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
    from atlas_cli.engine import Engine
    from atlas_cli.profile import build_profile

    engine = Engine(state.catalog())
    if batch is not None:
        given = sorted(f"--{k.replace('_', '-')}" for k, v in raw.items() if v is not None)
        if given:
            raise UsageError(f"--batch reads profiles from the file; drop {', '.join(given)}")
        if fmt is Format.markdown:
            raise UsageError("--batch writes JSON Lines; drop --format markdown")
        from atlas_cli.batch import run_batch

        raise typer.Exit(run_batch(engine, batch, top=top, explain=explain))
    rec = engine.recommend(build_profile(raw))
    render_recommendation(rec, _format(fmt, as_json), top, explain)


# --- recipe ----------------------------------------------------------------------------------


class RecipeFormat(StrEnum):
    python = "python"
    llamafactory = "llamafactory"
    axolotl = "axolotl"


@command("Advise")
@with_profile_options
def recipe(
    raw: dict[str, Any],
    plan: Annotated[
        int, typer.Option("--plan", min=1, help="Rank of the plan, as `recommend` lists it.")
    ] = 1,
    fmt: Annotated[
        RecipeFormat,
        typer.Option("--format", "-f", case_sensitive=False, help="python script, or a trainer's YAML."),
    ] = RecipeFormat.python,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write a runnable training recipe for a recommended plan (see docs/recipes.md).

    Example: ft-atlas recipe --gpu rtx-3090 --model mistral-7b --data-kind preferences --out train.py
    """
    from atlas_cli.engine import Engine
    from atlas_cli.profile import build_profile
    from atlas_cli.recipes import render_recipe

    catalog = state.catalog()
    text = render_recipe(catalog, Engine(catalog).recommend(build_profile(raw)), plan, fmt.value)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--out: cannot write {out}: {error.strerror}") from None
    sys.stderr.write(f"ft-atlas: wrote {out}\n")


# --- ask -------------------------------------------------------------------------------------


class StderrTerminal:
    """Prompts on stderr, answers from stdin: stdout stays free for the result."""

    def ask(self, prompt: str) -> str:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def say(self, text: str) -> None:
        sys.stderr.write(text + "\n")


@command("Advise")
@with_profile_options
def ask(
    raw: dict[str, Any],
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; use flags and defaults.")
    ] = False,
    top: Annotated[int, typer.Option(min=1, max=100, help="How many plans to show.")] = 5,
    explain: Annotated[bool, typer.Option(help="Show every rule that fired.")] = False,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Answer a few questions and get a plan, plus the `recommend` command that reproduces it.

    Flags prefill answers. Example: ft-atlas ask --gpu 3090 --json > plan.json
    """
    from atlas_cli.engine import Engine
    from atlas_cli.profile import parse_values, profile_from_values
    from atlas_cli.questionnaire import Interview, command_line
    from atlas_cli.render.jsonout import recommendation_json

    catalog = state.catalog()
    prefilled = parse_values(raw)
    profile_from_values(prefilled)  # contradictory flags fail before any question is asked
    interview = Interview(catalog, StderrTerminal(), prefilled)
    interactive = sys.stdin.isatty() and not no_input
    try:
        answers = interview.run(interactive)
    except EOFError:
        raise InputEnded("input ended before the questionnaire was finished") from None
    if not interactive:
        reason = "--no-input" if no_input else "stdin is not a terminal"
        sys.stderr.write(f"ft-atlas: not asking ({reason}); defaulted: {', '.join(interview.defaulted)}\n")
    profile = profile_from_values(answers)
    rec = Engine(catalog).recommend(profile)
    canonical_gpu = {"gpu": rec.profile["gpu"]} if profile.gpu else {}
    command = command_line({**profile.to_dict(), **canonical_gpu})
    chosen = _format(fmt, as_json)
    if chosen is Format.json:
        print_json({**recommendation_json(rec, top, explain), "command": command})
        return
    render_recommendation(rec, chosen, top, explain)
    sys.stdout.write(f"\nTo get this again without questions:\n  {command}\n")


# --- entry point -----------------------------------------------------------------------------


@contextmanager
def _typer_styles(plain: bool) -> Iterator[None]:
    """typer's own --help and error panels follow our colour rules. rich drops every style on a
    dumb terminal, so TERM=dumb is set for the run (and restored, for in-process callers);
    importing typer's rich module to configure it would cost more than the whole command."""
    if not plain:
        yield
        return
    saved = os.environ.get("TERM")
    os.environ["TERM"] = "dumb"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TERM"]
        else:
            os.environ["TERM"] = saved


def main(argv: list[str] | None = None) -> None:
    """Run the app, turning every failure into a message on stderr and a documented exit code."""
    prepare_streams()
    args = sys.argv[1:] if argv is None else argv
    plain = bool(os.environ.get("NO_COLOR")) or "--no-color" in args
    try:
        with _typer_styles(plain):
            result = app(args=args, prog_name="ft-atlas", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a command into Exit(130)
            fail("Aborted.", code)
    except typer.Exit as exit_:
        code = exit_.exit_code
    except typer.TyperException as error:
        show = getattr(error, "show", None)
        show() if show else fail(error.format_message(), 0)
        code = error.exit_code
    except typer.Abort:
        code = fail("Aborted.", EXIT_INTERRUPTED)
    except (KeyboardInterrupt, Exception) as error:  # noqa: BLE001 - report() sorts them out
        code = report(error, state.debug or debug_env())
    sys.exit(code)
