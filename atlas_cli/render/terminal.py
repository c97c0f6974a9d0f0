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
        for segment in super().render(renderable, options):
            if segment.control is None and printable(segment.text) != segment.text:
                yield Segment(printable(segment.text), segment.style)
            else:
                yield segment
