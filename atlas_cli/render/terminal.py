"""The rich console that views are printed on."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich import _wrap
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment

from atlas_cli.errors import OutputClosed, printable

# rich wraps lines at every `\s`, the no-break space included (Textualize/rich#3545, open), and
# Russian groups thousands with it: "12 345" would break into "12" and "345" on two lines. The
# word pattern of the fix proposed upstream (Textualize/rich#3990) keeps the groups together.
_wrap.re_word = re.compile(r"[^\S\xa0]*[\S\xa0]+[^\S\xa0]*")


class Terminal(Console):
    """rich's Console, except that
    - a reader going away (`ft-atlas methods | head -1`) ends the command quietly with exit 0 like
      everywhere else in ft-atlas; rich itself exits with 1;
    - no control character from the text it shows reaches the terminal raw: rich passes ESC
      through, so a knowledge-base string could clear the screen, hide text or plant an OSC 8
      link. Every text segment is escaped here, whatever view produced it; rich's own styles and
      cursor moves are not text segments and are kept."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise OutputClosed

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        line: list[Segment] = []  # the segments of the line being written, held until its end
        for segment in super().render(renderable, options):
            if segment.control is not None:
                yield from line
                line = []
                yield segment
                continue
            text = printable(segment.text)
            *ended, rest = text.split("\n")
            for piece in ended:
                yield from _without_trailing_blanks([*line, Segment(piece, segment.style)])
                yield Segment("\n", segment.style)
                line = []
            if rest:
                line.append(Segment(rest, segment.style))
        yield from line


def _without_trailing_blanks(line: list[Segment]) -> list[Segment]:
    """A line without the spaces rich pads it with to the width: they end up in files and pipes
    (a newcomer's review: 36 of 91 lines of `recommend | grep ' $'`). Spaces with a background
    colour are drawn, and kept."""
    while line and not line[-1].text.rstrip(" ") and not _painted(line[-1]):
        line = line[:-1]
    if line and not _painted(line[-1]) and line[-1].text.endswith(" "):
        line = [*line[:-1], Segment(line[-1].text.rstrip(" "), line[-1].style)]
    return line


def _painted(segment: Segment) -> bool:
    return segment.style is not None and segment.style.bgcolor is not None
