"""Look-up commands: the knowledge base's methods, cards, comparisons, catalogs and the guide."""

from typing import Annotated, Optional

import typer

from atlas_cli.cli.app import (
    Format,
    FormatOption,
    JsonOption,
    chosen_format,
    command,
    emit,
    emit_grid,
    emit_listing,
    state,
)
from atlas_cli.errors import UsageError, not_one_of
from atlas_cli.i18n import t
from atlas_cli.kb.vocabulary import METHOD_KINDS, OUTPUT_SCHEMA_VERSION


@command("Look up")
def methods(
    category: Annotated[Optional[str], typer.Option(help="Only this category id.")] = None,
    kind: Annotated[Optional[str], typer.Option(help=" or ".join(METHOD_KINDS) + ".")] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """List methods. Example: ft-atlas methods --kind parameterization"""
    from atlas_cli.render.documents import methods_json
    from atlas_cli.render.views import methods_grid

    catalog = state.catalog()
    if kind is not None and kind not in METHOD_KINDS:
        raise UsageError(not_one_of("--kind", kind, METHOD_KINDS))
    if category is not None and category not in {c.id for c in catalog.kb.categories}:
        known = ", ".join(c.id for c in catalog.kb.categories)
        raise UsageError(
            t("--category: unknown category '{category}'; choose from {ids}", category=category, ids=known)
        )
    chosen = [
        m
        for m in catalog.kb.methods
        if (category is None or m.category == category) and (kind is None or m.kind == kind)
    ]
    emit_grid(chosen_format(fmt, as_json), methods_json(chosen, state.lang), methods_grid(chosen, state.lang))


@command("Look up")
def show(
    method: Annotated[str, typer.Argument(help="Method id, name or alias, e.g. qlora or 'LoRA'.")],
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Show a method's card. Example: ft-atlas show "low-rank adaptation" """
    from atlas_cli.render.cards import method_card, method_card_markdown
    from atlas_cli.render.documents import method_json

    found = state.catalog().method(method)
    lang = state.lang
    emit(
        chosen_format(fmt, as_json),
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
        guide_disagreements,
        method_comparison_rows,
        scoring_notes,
    )

    catalog = state.catalog()
    lang = state.lang
    notes: list[str] = []
    if method_ids:
        chosen = list({m.id: m for m in (catalog.method(q) for q in method_ids)}.values())
        rows = method_comparison_rows(chosen, lang)
    else:
        rows = guide_comparison_rows(catalog, lang)
        notes = guide_disagreements(catalog)
    from_guide = not method_ids
    notes += scoring_notes(catalog, rows)
    emit_grid(
        chosen_format(fmt, as_json),
        compare_json(rows, from_guide, notes),
        compare_grid(rows, from_guide, notes),
    )


@command("Look up")
def categories(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's five categories of adaptation (§2).

    Example: ft-atlas categories --lang ru
    """
    from atlas_cli.render.views import categories_grid

    catalog = state.catalog()
    emit_listing(
        chosen_format(fmt, as_json), "categories", catalog.kb.categories, categories_grid(catalog, state.lang)
    )


@command("Look up")
def tools(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's tools table (§6), with notes where it is out of date.

    Example: ft-atlas tools --format markdown
    """
    from atlas_cli.render.views import tools_grid

    catalog = state.catalog()
    emit_listing(
        chosen_format(fmt, as_json), "tools", catalog.kb.guide.tools, tools_grid(catalog, state.lang)
    )


@command("Look up")
def gpus(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The GPU catalog.

    Example: ft-atlas gpus --json
    """
    from atlas_cli.render.views import gpus_grid

    catalog = state.catalog()
    emit_listing(chosen_format(fmt, as_json), "gpus", catalog.kb.gpus, gpus_grid(catalog))


@command("Look up")
def models(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The model catalog.

    Example: ft-atlas models --format markdown
    """
    from atlas_cli.render.views import models_grid

    catalog = state.catalog()
    emit_listing(chosen_format(fmt, as_json), "models", catalog.kb.models, models_grid(catalog))


@command("Look up")
def model(
    name: Annotated[
        str,
        typer.Argument(
            metavar="ID|PATH",
            help="Catalog id or alias, Hub id (org/name), config.json or model directory, or a size (7b).",
        ),
    ],
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """A model's shape as ft-atlas reads it: parameters, layers, heads, experts, and its source.

    Examples: ft-atlas model llama-3.1-8b · ft-atlas model ./my-model/ ·
    ft-atlas model Qwen/Qwen3-30B-A3B --json
    """
    from atlas_cli.core.profile import parse_size
    from atlas_cli.core.resolve import resolve_model
    from atlas_cli.render.documents import model_json
    from atlas_cli.render.views import model_grid

    if not name.strip():  # else the current directory would be read as a model folder
        raise UsageError(t("{flag}: empty name", flag="model"))
    catalog = state.catalog()
    try:
        info = resolve_model(catalog, name, None)
    except UsageError as unknown:
        try:  # a bare size: the shape --model-size assumes
            info = resolve_model(catalog, None, parse_size(name, "model"))
        except UsageError as refused:
            # A name that begins with a figure is a size, whose own refusal says what is wrong
            # with it (a newcomer's review: "0b" was an unknown model, and "1e-9b" was asked
            # whether it meant gemma-2-9b); no catalog name begins so, and a Hub id has its org.
            raise (refused if name.strip()[:1].isdigit() else unknown) from None
    doc = model_json(info)
    emit_grid(chosen_format(fmt, as_json), doc, model_grid(doc))


@command("Look up")
def guide(fmt: FormatOption = Format.table, as_json: JsonOption = False) -> None:
    """The guide's rules (§3) and recommendations (§7) as a tree, with ft-atlas's corrections.

    Example: ft-atlas guide --lang ru
    """
    from atlas_cli.render.cards import guide_markdown, guide_tree
    from atlas_cli.render.documents import dumped

    catalog = state.catalog()
    lang = state.lang
    data = {
        "schema_version": OUTPUT_SCHEMA_VERSION,
        "choose": dumped(catalog.kb.guide.choose),
        "recommendations": dumped(catalog.kb.guide.recommendations),
    }
    emit(
        chosen_format(fmt, as_json),
        data,
        lambda: guide_tree(catalog, lang),
        lambda: guide_markdown(catalog, lang),
    )
