"""Knowledge-base commands: validate a KB, and publish the JSON Schemas."""

import sys
from typing import Annotated, Optional

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
from atlas_cli.errors import KnowledgeBaseError, printable


@command("Knowledge base")
def validate(
    path: Annotated[
        Optional[str], typer.Argument(help="KB file or directory (default: the one in use).")
    ] = None,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Validate a knowledge base; problems are listed as path:line:column: field: message (exit 3).

    Example: ft-atlas validate my-kb.yaml
    """
    from atlas_cli.kb.files import given_kb_path, resolve_kb_path
    from atlas_cli.kb.loading import load_knowledge_base
    from atlas_cli.render.documents import problems_json, validation_json

    target = given_kb_path(path, "validate PATH") if path is not None else resolve_kb_path(state.kb)
    chosen = chosen_format(fmt, as_json)
    try:
        kb = load_knowledge_base(target)
    except KnowledgeBaseError as error:
        if chosen is Format.json:
            print_json(problems_json(str(target), error.problems))
        raise
    report = validation_json(str(target), kb)
    if chosen is Format.json:
        print_json(report)
        return
    labels = {"gpus": "GPUs"}
    listed = ", ".join(f"{n} {labels.get(name, name)}" for name, n in report["counts"].items())
    sys.stdout.write(printable(f"{target}: valid — {listed}\n"))


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
    grid = Grid("JSON Schemas", ["schema", "properties"])
    for name, body in named.items():
        grid.rows.append([name, ", ".join(body.get("properties", {}))])
    chosen = chosen_format(fmt, as_json)
    if chosen is Format.markdown:
        for name, body in named.items():
            sys.stdout.write("\n".join([f"### {name}", "", *fenced(dumps(body), "json"), "", ""]))
        return
    emit_grid(chosen, schemas, grid)
