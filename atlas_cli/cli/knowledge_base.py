"""Knowledge-base commands: validate a KB, and publish the JSON Schemas."""

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from atlas_cli.cli.app import (
    Format,
    FormatOption,
    JsonOption,
    chosen_format,
    command,
    emit_grid,
    print_json,
    state,
)
from atlas_cli.errors import KnowledgeBaseError, MissingTranslations
from atlas_cli.i18n import N_, t

if TYPE_CHECKING:
    from atlas_cli.kb.records import KnowledgeBase
    from atlas_cli.kb.yamlsafe import PathKey, Position
    from atlas_cli.translations import Source
from atlas_cli.errors import printable


@command("Knowledge base")
def validate(
    path: Annotated[
        Optional[str], typer.Argument(help="KB file or directory (default: the one in use).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Also list every text that has no Russian translation (exit 3)."),
    ] = False,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Validate a knowledge base; problems are listed as path:line:column: field: message (exit 3).

    Example: ft-atlas validate my-kb.yaml · ft-atlas validate --strict
    """
    from atlas_cli.kb.files import given_kb_path, resolve_kb_path
    from atlas_cli.kb.loading import load_located
    from atlas_cli.render.documents import problems_json, validation_json

    target = given_kb_path(path, "validate PATH") if path is not None else resolve_kb_path(state.kb)
    chosen = chosen_format(fmt, as_json)
    try:
        kb, locate = load_located(target)
        if strict:
            missing = translation_problems(kb, locate)
            if missing:
                raise MissingTranslations(missing)
    except KnowledgeBaseError as error:
        if chosen is Format.json:
            print_json(problems_json(str(target), error.problems))
        raise
    report = validation_json(str(target), kb)
    if chosen is Format.json:
        print_json(report)
        return
    counted = {
        "methods": N_("{n} methods"),
        "rules": N_("{n} rules"),
        "pipelines": N_("{n} pipelines"),
        "gpus": N_("{n} GPUs"),
        "models": N_("{n} models"),
    }
    listed = ", ".join(t(counted.get(name, "{n} " + name), n=n) for name, n in report["counts"].items())
    sys.stdout.write(printable(t("{path}: valid — {counts}", path=target, counts=listed) + "\n"))


def translation_sources(
    kb: "KnowledgeBase", locate: "Callable[[PathKey], Position]"
) -> "tuple[list[Source], list[str]]":
    """Every English text there is to translate (KB, program, --help), and the problems found
    reading the program's source."""
    import typer.main

    from atlas_cli.cli import GROUP_ORDER
    from atlas_cli.cli.app import app
    from atlas_cli.cli.helptext import help_texts
    from atlas_cli.translations import kb_texts, ui_texts

    for name in GROUP_ORDER:  # every command, so that --help's texts are all there
        importlib.import_module(f"atlas_cli.cli.{name}")
    group = typer.main.get_command(app)
    ui, problems = ui_texts(help_texts(group, typer.Context(group)))
    return [*kb_texts(kb, locate), *ui], problems


def translation_problems(kb: "KnowledgeBase", locate: "Callable[[PathKey], Position]") -> list[str]:
    """Every text without its Russian and every problem of the catalog, one per line."""
    from atlas_cli.translations import describe, missing, read_catalog

    sources, problems = translation_sources(kb, locate)
    catalog = read_catalog()
    return [*catalog.problems, *problems, *map(describe, missing(sources, catalog))]


@command("Knowledge base")
def schema(fmt: FormatOption = Format.json, as_json: JsonOption = False) -> None:
    """JSON Schemas of the knowledge base, the profile and every JSON output (JSON by default).

    Example: ft-atlas schema > ft-atlas.schema.json
    """
    from atlas_cli.render.documents import dumps
    from atlas_cli.render.grid import Grid, fenced
    from atlas_cli.render.schemas import all_schemas

    schemas = all_schemas()
    named = {"knowledge_base": schemas["knowledge_base"], "profile": schemas["profile"], **schemas["outputs"]}
    grid = Grid(t("JSON Schemas"), [t("schema"), t("properties")])
    for name, body in named.items():
        grid.rows.append([name, ", ".join(body.get("properties", {}))])
    chosen = chosen_format(fmt, as_json)
    if chosen is Format.markdown:
        for name, body in named.items():
            sys.stdout.write("\n".join([f"### {name}", "", *fenced(dumps(body), "json"), "", ""]))
        return
    emit_grid(chosen, schemas, grid)
