"""Text people copy and paste (commands, code): printed as is, never wrapped, cropped or boxed.

rich wraps and crops every line to the terminal's width, and a panel's border would be copied
along with the code inside it. A `Verbatim` part of a view is printed on its own with soft
wrapping: the terminal may fold a long line on screen, but the copied text is the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text


@dataclass(frozen=True, slots=True)
class Verbatim:
    text: str
    language: str | None = None  # highlighted as this language (no styles without colour)
    style: str = ""

    def __rich__(self) -> Text:
        # Inside another renderable it cannot escape wrapping; print_view prints it on its own.
        return self.as_text()

    def as_text(self) -> Text:
        if self.language is None:
            return Text(self.text, style=self.style)
        highlighted = Syntax(self.text, self.language, theme="ansi_dark").highlight(self.text)
        highlighted.rstrip()
        return highlighted


def print_view(console: Console, view: RenderableType) -> None:
    """Print a view; the Verbatim parts of a top-level Group are printed unwrapped."""
    parts = list(view.renderables) if isinstance(view, Group) else [view]
    for part in parts:
        if isinstance(part, Verbatim):
            console.print(part.as_text(), soft_wrap=True)
        else:
            console.print(part)
