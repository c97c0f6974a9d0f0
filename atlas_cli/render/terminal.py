"""The rich console that views are printed on."""

from __future__ import annotations

from rich.console import Console

from atlas_cli.errors import OutputClosed


class Terminal(Console):
    """rich's Console, except that a reader going away (`ft-atlas methods | head -1`) ends the
    command quietly with exit 0 like everywhere else in ft-atlas; rich itself exits with 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise OutputClosed
