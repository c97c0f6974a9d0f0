"""One table model, two renderers: rich (terminal) and GitHub-flavoured Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from atlas_cli.errors import printable
from atlas_cli.i18n import t

WIDE_TERMINAL = 120  # columns a Grid's `wide_only` columns need to be shown
# Box-drawn tables spend one character on the left edge and three per column (padding and rule).
EDGE = 1
PER_COLUMN = 3
LONGEST_WORD = 30  # a longer "word" (a URL, a path) may fold: keeping it whole could hide columns


@dataclass
class Grid:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    # Columns kept on one line in the terminal (ids, numbers, ratings); the others wrap at spaces.
    compact: tuple[str, ...] = ()
    # Columns a terminal narrower than WIDE_TERMINAL drops (Markdown and JSON keep everything).
    wide_only: tuple[str, ...] = ()
    # Columns to drop, first to last, when the rest do not fit the terminal without breaking a
    # word (names missing from the grid are skipped, so a column added later can be listed now).
    # Not given: rightmost first. The first column (the id or name) is never dropped.
    drop_order: tuple[str, ...] = ()

    def without(self, dropped: set[str]) -> Grid:
        keep = [i for i, name in enumerate(self.columns) if name not in dropped]
        return Grid(
            self.title,
            [self.columns[i] for i in keep],
            [[row[i] for i in keep] for row in self.rows],
            self.caption,
            self.compact,
            (),
            self.drop_order,
        )

    def for_width(self, width: int | None) -> Grid:
        """The grid a terminal this wide shows: without the wide-only columns when narrow, then
        without as many droppable columns as it takes for every id and word to stay whole."""
        if width is None:
            return self
        dropped = set(self.wide_only) if width < WIDE_TERMINAL else set()
        for name in self._drop_candidates():
            # Never the last column beside the first: a name without its value says nothing (a
            # newcomer's review: `model` at 40 columns listed its properties alone).
            if _minimum_width(self.without(dropped)) <= width or len(self.columns) - len(dropped) <= 2:
                break
            dropped.add(name)
        if not dropped:
            return self
        narrowed = self.without(dropped)
        hidden = [c for c in self.columns if c in dropped]
        note = t(
            "Not shown at this width: {columns} (--format markdown has every column).",
            columns=", ".join(hidden),
        )
        narrowed.caption = f"{self.caption} {note}" if self.caption else note
        return narrowed

    def _drop_candidates(self) -> list[str]:
        order = self.drop_order or tuple(reversed(self.columns[1:]))
        return [c for c in order if c in self.columns[1:]]


def _words(text: str) -> int:
    return max((min(len(word), LONGEST_WORD) for word in text.split()), default=1)


def _column_range(grid: Grid, index: int) -> tuple[int, int]:
    """The narrowest width that keeps the column's words (compact: cells) whole, and its widest."""
    cells = [grid.columns[index], *(printable(row[index]) for row in grid.rows)]
    widest = max(max((len(line) for line in cell.splitlines()), default=0) for cell in cells)
    if grid.columns[index] in grid.compact:
        return widest, widest
    return max(_words(cell) for cell in cells), widest


def _minimum_width(grid: Grid) -> int:
    return EDGE + sum(_column_range(grid, i)[0] + PER_COLUMN for i in range(len(grid.columns)))


def _widths(grid: Grid, width: int) -> list[int]:
    """Every column at least its narrowest; what is left goes to the columns that wrap, in
    proportion to how much more they could use."""
    ranges = [_column_range(grid, i) for i in range(len(grid.columns))]
    widths = [low for low, _ in ranges]
    spare = width - EDGE - PER_COLUMN * len(widths) - sum(widths)
    wants = [high - low for low, high in ranges]
    total = sum(wants)
    if spare <= 0 or total == 0:
        return widths
    if spare >= total:
        return [high for _, high in ranges]
    given = [want * spare // total for want in wants]
    for i in sorted(range(len(wants)), key=lambda i: wants[i] - given[i], reverse=True)[: spare - sum(given)]:
        given[i] += 1
    return [w + g for w, g in zip(widths, given, strict=True)]


class FittedTable:
    """A Grid as a rich table sized when it is printed, to the width it is printed in (a
    terminal, or a panel inside one)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid = self.grid.for_width(options.max_width)
        widths = _widths(grid, options.max_width)
        # Text, not str: rich would read "[...]" in knowledge-base text as markup (and crash on "[/x]").
        table = Table(
            title=Text(printable(grid.title)) if grid.title else None,
            caption=Text(printable(grid.caption)) if grid.caption else None,
            # A caption is a paragraph of notes: centred, both its edges are ragged.
            caption_justify="left",
            show_lines=False,
        )
        for name, width in zip(grid.columns, widths, strict=True):
            table.add_column(Text(name), width=width, no_wrap=name in grid.compact, overflow="fold")
        for row in grid.rows:
            table.add_row(*(Text(printable(cell)) for cell in row))
        yield table


def rich_table(grid: Grid) -> FittedTable:
    return FittedTable(grid)


# What Markdown would read as markup inside a line (and HTML's own specials, as entities).
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<>&|~]|(?<!\w)_|_(?!\w)")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def markdown_inline(text: str) -> str:
    """Plain text as Markdown that shows exactly that text, also inside a table cell: never a
    link, an image, emphasis or HTML (an attacker's review: a knowledge base's "because" put a
    working javascript: link and a heading into `recommend --format markdown`, which `export`
    escaped). Line breaks become spaces: one item stays one item."""
    text = re.sub(r"\s+", " ", text)
    return _MARKDOWN_SPECIAL.sub(lambda m: _ENTITIES.get(m.group(0), "\\" + m.group(0)), text)


def line_start_safe(markdown: str) -> str:
    """Markdown whose first characters would start a heading, a list, a numbered list, a quote
    or a rule, shown as they are."""
    numbered = re.match(r"\d+(?=[.)])", markdown)
    if numbered:
        return markdown[: numbered.end()] + "\\" + markdown[numbered.end() :]
    return "\\" + markdown if markdown[:1] in ("#", "+", "=", "-") else markdown


def markdown_text(text: str) -> str:
    """Plain text as a Markdown line, list item or heading that shows exactly that text."""
    return line_start_safe(markdown_inline(text))


def _cell(text: str) -> str:
    """A Markdown table cell that shows exactly `text`, its lines kept apart."""
    return "<br>".join(markdown_inline(line) for line in text.split("\n")) or " "


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
        # A caption's lines are separate notes: separate paragraphs in Markdown.
        lines += ["", "\n\n".join(markdown_text(line) for line in grid.caption.split("\n"))]
    return "\n".join(lines) + "\n"
