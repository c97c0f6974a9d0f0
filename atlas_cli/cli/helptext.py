"""`ft-atlas COMMAND --help`, laid out for any terminal width.

typer's help is a four-column table: at 80 columns a third of the width goes to a `<str>` type
column and option descriptions wrap into slivers; its markup also swallows "[a|b]" in help text.
Here each option takes a line of its own with its description indented below it, wrapped to the
terminal, and the examples in a command's docstring are printed unwrapped so that they paste.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

# typer's commands and parameters (typer carries its own copy of click, a private module): read
# through the attributes click documents, not by class.
Parameter = Any
Command = Any

HELP_INDENT = 6
DEFAULT_PANEL = "Options"
_EXAMPLE_SEPARATOR = re.compile(r"\s*·(?:\s+|$)")


def docstring_parts(text: str) -> Iterator[tuple[str, str]]:
    """A docstring as ("prose", paragraph) and ("command", example) parts: every
    `ft-atlas ...` example gets a line of its own ("·" separates examples on one line)."""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        prose: list[str] = []
        for line in paragraph.splitlines():
            for piece in _EXAMPLE_SEPARATOR.split(line.strip()):
                start = piece.find("ft-atlas ")
                if start < 0:
                    prose.append(piece)
                    continue
                prose.append(piece[:start].strip())
                if any(prose):
                    yield "prose", " ".join(p for p in prose if p)
                prose = []
                yield "command", piece[start:].strip()
        if any(prose):
            yield "prose", " ".join(p for p in prose if p)


def _is_argument(param: Parameter) -> bool:
    return bool(param.param_type_name == "argument")


def _record(param: Parameter, ctx: Any) -> tuple[str, str]:
    """The option's names with its value's type, and its help with the default (click's own
    help record, which typer fills in)."""
    record = param.get_help_record(ctx)
    if record is None:  # an argument typer shows only in the usage line
        return str(param.display_name_raw or param.name).upper(), str(getattr(param, "help", "") or "")
    names, description = record
    return str(names), str(description or "")


def _panels(command: Command, ctx: Any) -> dict[str, list[Parameter]]:
    panels: dict[str, list[Parameter]] = {"Arguments": [], DEFAULT_PANEL: []}
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        default = "Arguments" if _is_argument(param) else DEFAULT_PANEL
        panels.setdefault(getattr(param, "rich_help_panel", None) or default, []).append(param)
    return {name: params for name, params in panels.items() if params}


def help_view(command: Command, ctx: Any) -> RenderableType:
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    from atlas_cli.render.paste import Verbatim

    parts: list[RenderableType] = [Text(command.get_usage(ctx), style="bold"), Text("")]
    for kind, text in docstring_parts(command.help or ""):
        if kind == "command":
            parts.append(Verbatim("  " + text, style="cyan"))
        else:
            parts += [Text(""), Text(text)] if len(parts) > 2 else [Text(text)]
    for panel, params in _panels(command, ctx).items():
        parts += [Text(""), Text(panel, style="bold")]
        for param in params:
            names, description = _record(param, ctx)
            parts.append(Text("  " + names, style="cyan"))
            if description:
                parts.append(Padding(Text(description), (0, 0, 0, HELP_INDENT), expand=False))
    return Group(*parts)
