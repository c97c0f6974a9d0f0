"""The environment rich reads, set for a command's run: by the full command line (typer's
own --help and error panels are rich's) and by the typer-free path (a batch's progress display).
No rich is imported here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

# rich takes COLUMNS as given: 0 printed nothing at all (exit 0), 100000 padded every line of
# --help to 100,000 characters (a review). Widths past these bounds are taken as the nearest.
COLUMNS_BOUNDS = (40, 1000)


@contextmanager
def console_environment(plain: bool) -> Iterator[None]:
    """The environment typer's and our rich consoles read, for the run (and restored, for
    in-process callers): with `plain`, TERM=dumb, on which rich drops every style, so that typer's
    own --help and error panels follow our colour rules (importing typer's rich module to configure
    it would cost more than the whole command); COLUMNS within COLUMNS_BOUNDS."""
    wanted = {"TERM": "dumb"} if plain else {}
    columns = os.environ.get("COLUMNS", "")
    # A dumb terminal the user set (TERM=dumb) is sized by rich as 80 x 25 too (a diff review).
    dumb = plain or os.environ.get("TERM") == "dumb"
    size = _terminal_size() if dumb else None
    if dumb and size is not None:
        # rich sizes a dumb terminal 80 x 25 unless COLUMNS and LINES both say otherwise: plain
        # output on a 40- or 120-column terminal was 80 wide (a newcomer's review).
        columns = columns if columns.isdigit() else str(size.columns)
        wanted["LINES"] = (
            os.environ.get("LINES", "") if os.environ.get("LINES", "").isdigit() else str(size.lines)
        )
    if columns.isdigit():  # as rich reads it, which int() fails on for other scripts' digits ("²")
        low, high = COLUMNS_BOUNDS
        wanted["COLUMNS"] = str(min(max(int(columns), low), high)) if columns.isascii() else str(low * 2)
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _terminal_size() -> os.terminal_size | None:
    """The terminal's size, read from the streams rich reads it from; None off a terminal."""
    for descriptor in (1, 2, 0):
        try:
            size = os.get_terminal_size(descriptor)
        except (OSError, ValueError):
            continue
        if size.columns and size.lines:  # a pseudo-terminal may report 0 x 0
            return size
    return None
