"""`recommend --batch`: JSON Lines of profiles in, one JSON line out per input line, in order.

A bad line becomes `{"line": N, "error": {...}}` and processing continues; the exit code says
at the end whether any line failed. Input is streamed, so memory does not grow with the file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from atlas_cli.engine import Engine
from atlas_cli.errors import EXIT_OK, EXIT_USAGE, AtlasError, OutputClosed, UsageError
from atlas_cli.profile import build_profile
from atlas_cli.render.jsonout import recommendation_json

MAX_LINE_CHARS = 1_000_000


def _error(number: int, code: str, message: str) -> dict[str, Any]:
    return {"line": number, "error": {"code": code, "message": message}}


def process_line(engine: Engine, number: int, line: str, top: int, explain: bool) -> dict[str, Any]:
    """One input line -> one output record (a recommendation or an error)."""
    text = line.strip()
    if not text:
        return _error(number, "bad_input", "empty line")
    if len(text) > MAX_LINE_CHARS:
        return _error(number, "bad_input", f"line longer than {MAX_LINE_CHARS} characters")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        return _error(number, "bad_json", f"not valid JSON: {error}")
    if not isinstance(raw, dict):
        return _error(number, "bad_input", "each line must be a JSON object of profile keys")
    try:
        rec = engine.recommend(build_profile(raw))
    except AtlasError as error:
        return _error(number, error.code, str(error))
    return {"line": number, **recommendation_json(rec, top, explain)}


def _lines(source: str) -> Iterator[str]:
    if source == "-":
        yield from sys.stdin
        return
    with open(source, encoding="utf-8", errors="replace") as handle:
        yield from handle


class _Progress:
    """A line counter on stderr, only when a person is watching it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self.bar = Progress(
            SpinnerColumn(), TextColumn("{task.completed} profiles"), console=Console(stderr=True)
        )
        self.task = self.bar.add_task("batch", total=None)
        self.bar.start()

    def advance(self) -> None:
        self.bar.advance(self.task)

    def stop(self) -> None:
        self.bar.stop()


def run_batch(engine: Engine, source: str, top: int, explain: bool, out: IO[str] | None = None) -> int:
    stream = out or sys.stdout
    failed = 0
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        lines = _lines(source)
        for number, line in enumerate(lines, start=1):
            record = process_line(engine, number, line, top, explain)
            failed += "error" in record
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            if progress:
                progress.advance()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as error:
        raise UsageError(f"--batch: cannot read {source}: {error.strerror}") from error
    finally:
        if progress:
            progress.stop()
    return EXIT_USAGE if failed else EXIT_OK
