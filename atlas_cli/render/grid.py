"""One table model, two renderers: rich (terminal) and GitHub-flavoured Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from atlas_cli.errors import printable

MIN_PROSE_WIDTH = 16
WIDE_TERMINAL = 120  # columns a Grid's `wide_only` columns need to be shown


@dataclass
class Grid:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    # Columns kept on one line in the terminal (short ids and ratings); the others wrap.
    compact: tuple[str, ...] = ()
    # Columns a narrow terminal drops (Markdown and JSON keep everything).
    wide_only: tuple[str, ...] = ()

    def for_width(self, width: int | None) -> Grid:
        """The grid a terminal this wide shows: without the wide-only columns when narrow."""
        if width is None or width >= WIDE_TERMINAL or not self.wide_only:
            return self
        keep = [i for i, name in enumerate(self.columns) if name not in self.wide_only]
        return Grid(
            self.title,
            [self.columns[i] for i in keep],
            [[row[i] for i in keep] for row in self.rows],
            self.caption,
            self.compact,
        )


def rich_table(grid: Grid, width: int | None = None) -> Table:
    grid = grid.for_width(width)
    # Text, not str: rich would read "[...]" in knowledge-base text as markup (and crash on "[/x]").
    # Escaped before layout, so that columns are as wide as what the terminal shows.
    table = Table(
        title=Text(printable(grid.title)) if grid.title else None,
        caption=Text(printable(grid.caption)) if grid.caption else None,
        show_lines=False,
        expand=bool(grid.compact),
    )
    for name in grid.columns:
        if name in grid.compact:
            table.add_column(Text(name), no_wrap=True)
        elif grid.compact:  # the prose column takes what the compact ones leave
            table.add_column(Text(name), overflow="fold", ratio=1, min_width=MIN_PROSE_WIDTH)
        else:
            table.add_column(Text(name), overflow="fold")
    for row in grid.rows:
        table.add_row(*(Text(printable(cell)) for cell in row))
    return table


def _cell(text: str) -> str:
    """Escape what would break a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>") or " "


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def fenced(code: str, language: str) -> list[str]:
    """A fenced code block whose fence is longer than any backtick run inside the code."""
    fence = "`" * max(3, _longest_backtick_run(code) + 1)
    return [fence + language, code.rstrip("\n"), fence]


def code_span(text: str) -> str:
    """Inline code that survives backticks in the text (CommonMark: a longer delimiter)."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def markdown_table(grid: Grid) -> str:
    lines = [f"### {grid.title}", ""] if grid.title else []
    lines.append("| " + " | ".join(_cell(c) for c in grid.columns) + " |")
    lines.append("|" + "|".join("---" for _ in grid.columns) + "|")
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in grid.rows)
    if grid.caption:
        lines += ["", grid.caption]
    return "\n".join(lines) + "\n"
