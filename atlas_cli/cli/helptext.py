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

from atlas_cli.cli import COMMAND_GROUPS
from atlas_cli.i18n import N_, t

if TYPE_CHECKING:
    from rich.console import RenderableType

# typer's commands and parameters (typer carries its own copy of click, a private module): read
# through the attributes click documents, not by class.
Parameter = Any
Command = Any

HELP_INDENT = 6
DEFAULT_PANEL = "Options"
_EXAMPLE_SEPARATOR = re.compile(r"\s*·(?:\s+|$)")
# An example: ft-atlas, then an option or a command ("ft-atlas reads it" is prose).
_EXAMPLE = re.compile(rf"ft-atlas (?=-|(?:{'|'.join(COMMAND_GROUPS)})\b)")


def docstring_parts(text: str) -> Iterator[tuple[str, str]]:
    """A docstring as ("prose", paragraph) and ("command", example) parts: every
    `ft-atlas ...` example gets a line of its own ("·" separates examples on one line)."""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        prose: list[str] = []
        for line in paragraph.splitlines():
            for piece in _EXAMPLE_SEPARATOR.split(line.strip()):
                found = _EXAMPLE.search(piece)
                start = -1 if found is None else found.start()
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


def _translated_parts(text: str) -> Iterator[tuple[str, str]]:
    """docstring_parts with the prose in the current language (examples stay as they are)."""
    for kind, part in docstring_parts(text):
        yield kind, t(part) if kind == "prose" else part


# Words click adds to an option's help: "[default: 16; 1<=x<=65536]", "[env var: FT_ATLAS_KB]".
CLICK_WORDS = (N_("default: "), N_("env var: "), N_("required"))
# click's own help of -h/--help and the usage line's placeholder, translated where they are shown.
CLICK_HELP = N_("Show this message and exit.")
CLICK_OPTIONS = N_("[OPTIONS]")


def _described(param: Parameter, description: str) -> str:
    """The option's help in the current language, with click's bracketed notes after it."""
    own = str(getattr(param, "help", "") or "")
    if not own or not description.startswith(own):
        return description
    rest = description[len(own) :]
    for word in CLICK_WORDS:
        rest = rest.replace(word, t(word))
    return t(own) + rest


def _usage(line: str) -> str:
    if not line.startswith("Usage:"):
        return line
    return t("Usage:") + line.removeprefix("Usage:").replace(CLICK_OPTIONS, t(CLICK_OPTIONS))


def _is_argument(param: Parameter) -> bool:
    return bool(param.param_type_name == "argument")


def _record(param: Parameter, ctx: Any) -> tuple[str, str]:
    """The option's names with its value's type, and its help with the default (click's own
    help record, which typer fills in)."""
    record = param.get_help_record(ctx)
    if record is None:  # an argument typer shows only in the usage line
        return str(param.display_name_raw or param.name).upper(), str(getattr(param, "help", "") or "")
    names, description = record
    return str(names), _described(param, str(description or ""))


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

    parts: list[RenderableType] = [Text(_usage(command.get_usage(ctx)), style="bold"), Text("")]
    for kind, text in _translated_parts(command.help or ""):
        if kind == "command":
            parts.append(Verbatim("  " + text, style="cyan"))
        else:
            parts += [Text(""), Text(text)] if len(parts) > 2 else [Text(text)]
    for panel, params in _panels(command, ctx).items():
        parts += [Text(""), Text(t(panel), style="bold")]
        for param in params:
            names, description = _record(param, ctx)
            parts.append(Text("  " + names, style="cyan"))
            if description:
                parts.append(Padding(Text(description), (0, 0, 0, HELP_INDENT), expand=False))
    return Group(*parts)


def summary(command: Command) -> str:
    """A command's first sentence or two, for the overview: its first paragraph of prose without
    a trailing "Example:"."""
    for kind, text in _translated_parts(command.help or ""):
        if kind == "prose":
            words = text.split()
            return " ".join(words[:-1] if len(words) > 1 and words[-1].endswith(":") else words)
    return ""


def group_help_view(group: Command, ctx: Any) -> RenderableType:
    """`ft-atlas --help`: usage, what ft-atlas does with examples, the options, and the commands
    by panel with their summaries."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from atlas_cli.render.paste import Verbatim

    parts: list[RenderableType] = [Text(_usage(group.get_usage(ctx)), style="bold"), Text("")]
    for kind, text in _translated_parts(group.help or ""):
        if kind == "command":
            parts.append(Verbatim("  " + text, style="cyan"))
        else:
            parts += [Text(""), Text(text)] if len(parts) > 2 else [Text(text)]
    parts += [Text(""), Text(t(DEFAULT_PANEL), style="bold")]
    for param in group.get_params(ctx):
        if not getattr(param, "hidden", False):
            names, description = _record(param, ctx)
            parts.append(Text("  " + names, style="cyan"))
            parts.append(Padding(Text(description), (0, 0, 0, HELP_INDENT), expand=False))
    panels: dict[str, list[tuple[str, str]]] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or getattr(command, "hidden", False):
            continue
        panel = getattr(command, "rich_help_panel", None) or "Commands"
        panels.setdefault(panel, []).append((name, summary(command)))
    width = max((len(name) for rows in panels.values() for name, _ in rows), default=0)
    for panel, rows in panels.items():
        parts += [Text(""), Text(t(panel), style="bold")]
        table = Table.grid(padding=(0, 2))
        table.add_column(style="cyan", no_wrap=True, min_width=width)
        table.add_column()
        for name, text in rows:
            table.add_row(name, text)
        parts.append(Padding(table, (0, 0, 0, 2)))
    return Group(*parts)


def help_texts(group: Command, ctx: Any) -> Iterator[tuple[str, str]]:
    """Every English text `--help` shows, with where it comes from: the app's and each command's
    prose, panels and option help (validate --strict checks that each has its Russian)."""
    yield "ft-atlas --help", "Usage:"
    for word in CLICK_WORDS:
        yield "ft-atlas --help", word
    yield "ft-atlas --help", DEFAULT_PANEL
    yield "ft-atlas --help", "Arguments"
    for kind, text in docstring_parts(group.help or ""):
        if kind == "prose":
            yield "ft-atlas --help", text
    commands = [group, *(group.get_command(ctx, name) for name in group.list_commands(ctx))]
    for command in commands:
        if command is None:
            continue
        where = "ft-atlas --help" if command is group else f"ft-atlas {command.name} --help"
        for kind, text in docstring_parts(command.help or ""):
            if kind == "prose" and command is not group:
                yield where, text
        if getattr(command, "rich_help_panel", None):
            yield where, str(command.rich_help_panel)
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            if getattr(param, "help", None):
                yield f"{where} {param.opts[0] if param.opts else param.name}", str(param.help)
            if getattr(param, "rich_help_panel", None):
                yield where, str(param.rich_help_panel)
