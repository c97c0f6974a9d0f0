"""`recommend --batch`: JSON Lines of profiles in, one JSON line out per input line, in order.

A bad line becomes `{"line": N, "error": {...}}` and processing continues; the exit code says
at the end whether any line failed. Input is streamed and lines are read with a length limit,
so memory does not grow with the file. A file is shared out to worker processes (workers.py);
a pipe or terminal on stdin is answered line by line, flushed, for callers that wait for each
answer before they write the next line.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import math
import os
import re
import stat
import sys
import traceback
from collections.abc import Iterator
from typing import IO, Any

from atlas_cli.batch.jsonline import LineEncoder, line_bytes
from atlas_cli.batch.workers import Chunk, Dispatch, Encode, Encoded, Write, forked, worker_count
from atlas_cli.core.engine import Engine
from atlas_cli.core.models import KeyGivenTwice, unique_keys_object
from atlas_cli.core.profile import FIELDS_BY_NAME, build_profile
from atlas_cli.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    AtlasError,
    OutputClosed,
    UsageError,
    fail,
    output_failed,
)
from atlas_cli.i18n import N_, catalog, grouped, language, nt, t
from atlas_cli.kb.heap import collector_paused
from atlas_cli.render.documents import recommendation_json

MAX_LINE_CHARS = 100_000  # a profile is a few hundred characters
MAX_SKIPPED_CHARS = 100_000_000  # an overlong line is read past up to this, then the batch stops
# What decoding with errors="surrogateescape" makes of bytes that are not UTF-8 (a literal U+FFFD,
# which errors="replace" also made of them, is valid text: an attacker's review).
UNDECODED = re.compile("[\udc80-\udcff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
CHUNK_LINES = 64  # lines are encoded (and shared out) in chunks of up to this many
CHUNK_CHARS = 64 << 10  # or of about this many characters
# While a batch runs the collector is paused; every this many chunks it collects the young
# objects only (the memos' new entries and any garbage cycle), never the old ones again.
YOUNG_COLLECTION_CHUNKS = 16
FULL_COLLECTION_CHUNKS = 1024  # and all of them, rarely: a cycle that was still alive then


# What became of a line: answered, refused (bad input), or an internal error (a bug).
ANSWERED, BAD, INTERNAL = 0, 1, 2


class _AsWritten(float):
    """A JSON number no float holds (1e400 reads as inf), or NaN / Infinity: a float still, as
    the profile checks it, which messages quote as the line wrote it rather than as 'inf'."""

    text: str

    def __new__(cls, text: str) -> _AsWritten:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _finite_or_as_written(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _AsWritten(text)


class _LongNumber(ValueError):
    pass


def _whole(text: str) -> int:
    """A JSON integer; one past the digits Python converts (4,300) is said as such, not with the
    interpreter's advice to call sys.set_int_max_str_digits()."""
    digits = len(text.lstrip("-"))
    if digits > sys.get_int_max_str_digits() > 0:
        long = t("a number of {digits} digits: no profile value is that long", digits=grouped(digits))
        raise _LongNumber(long)
    return int(text)


def _error(number: int, code: str, message: str, outcome: int = BAD) -> tuple[bytes, int]:
    return line_bytes({"line": number, "error": {"code": code, "message": message}}), outcome


def process_line(
    engine: Engine,
    encoder: LineEncoder,
    number: int,
    line: str | None,
    top: int,
    explain: bool,
    debug: bool = False,
) -> tuple[bytes, int]:
    """One input line (None: too long to read) -> one output line (UTF-8) without its newline, and
    its outcome (ANSWERED, BAD or INTERNAL). Never raises for one line's sake: an unexpected
    exception becomes that line's `internal` error record, and the next line is tried."""
    try:
        return _answer(engine, encoder, number, line, top, explain)
    except Exception as error:  # noqa: BLE001 - one line's bug must not lose the other lines
        if debug:
            traceback.print_exc(file=sys.stderr)
        message = (
            f"internal error: {type(error).__name__}: {error} "
            "(rerun with --debug or FT_ATLAS_DEBUG=1 for a traceback)"
        )
        return _error(number, "internal", message, INTERNAL)


def _answer(
    engine: Engine, encoder: LineEncoder, number: int, line: str | None, top: int, explain: bool
) -> tuple[bytes, int]:
    if line is None:
        return _error(number, "bad_input", t("line longer than {count} characters", count=MAX_LINE_CHARS))
    text = line.strip()
    # A byte-order mark some editors write, also inside joined files (`cat a.jsonl b.jsonl`): it
    # is never JSON (an attacker's review: line 2 was refused in json's own words).
    text = text.removeprefix("\ufeff")
    # Bytes that are not UTF-8 inside a string decode too (an attacker's review: "gpt-4o\xff" was
    # answered as "gpt-4o\ufffd").
    if UNDECODED.search(text):
        return _error(number, "bad_json", t("not UTF-8 text: JSON lines are read as UTF-8"))
    try:
        raw = json.loads(
            text,
            object_pairs_hook=unique_keys_object,
            parse_float=_finite_or_as_written,
            parse_int=_whole,
            parse_constant=_AsWritten,
        )
    except KeyGivenTwice as error:
        return _error(number, "bad_input", f"{error}: give each profile key once")
    except _LongNumber as error:
        return _error(number, "bad_input", str(error))
    except (ValueError, RecursionError) as error:
        return _error(number, "bad_json", t("not valid JSON: {error}", error=error))
    if not isinstance(raw, dict):
        return _error(number, "bad_input", t("each line must be a JSON object of profile keys"))
    # A \ud800 escape alone decodes to no character: echoed back, it made output that strict
    # JSON readers refuse (an attacker's review). A pair of escapes is one character, and fine.
    if "\\u" in text and any(LONE_SURROGATE.search(s) for s in _strings(raw)):
        return _error(number, "bad_input", t("a \\u escape of half a surrogate pair is not text"))
    try:
        rec = engine.recommend(build_profile(raw))
    except AtlasError as error:
        return _error(number, error.code, as_batch_keys(str(error)))
    if explain:
        return line_bytes({"line": number, **recommendation_json(rec, top, explain)}), ANSWERED
    return encoder.line(number, rec, top), ANSWERED


_FLAG = re.compile(r"--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\b")


def as_batch_keys(message: str) -> str:
    """An error message as a batch line's author reads it: the profile flags it names as their JSON
    keys ("--gpus" as "gpus"; a newcomer's review: "give the count apart: --gpu rtx-4090 --gpus 2"
    answered a JSON line). Other flags (--batch, --kb), and a command quoted in backticks, stay."""

    def key(match: re.Match[str]) -> str:
        name = match.group(1).replace("-", "_")
        return f'"{name}"' if name in FIELDS_BY_NAME else match.group(0)

    # A command in backticks is run as it stands: its flags stay.
    parts = message.split("`")
    return "`".join(part if i % 2 else _FLAG.sub(key, part) for i, part in enumerate(parts))


def _strings(raw: dict[str, Any]) -> Iterator[str]:
    """A profile line's keys and its string values (a profile holds no nested ones)."""
    for key, value in raw.items():
        yield key
        if isinstance(value, str):
            yield value


def encode_chunk(
    engine: Engine,
    encoder: LineEncoder,
    first: int,
    chunk: Chunk,
    top: int,
    explain: bool,
    debug: bool = False,
) -> Encoded:
    """Consecutive input lines (the first numbered `first`) -> their output, with how many were
    bad input and how many hit an internal error."""
    out: list[bytes] = []
    counts = [0, 0, 0]
    # The previous line of the chunk and its answer after the line number: a sweep may repeat a
    # profile on consecutive lines (a grid whose rows without data have no amount to vary), and
    # the answer is a function of the line's text, so the repeat is answered without the engine.
    previous: tuple[str, bytes] | None = None
    for number, line in enumerate(chunk, start=first):
        if line is not None and not line.strip().removeprefix("\ufeff"):
            continue  # a blank line (the one an editor leaves at the end) holds no profile
        if previous is not None and line == previous[0]:
            record, outcome = b'{"line":%d%b' % (number, previous[1]), ANSWERED
        else:
            record, outcome = process_line(engine, encoder, number, line, top, explain, debug)
            previous = _repeatable(number, line, record, outcome)
        out.append(record)
        counts[outcome] += 1
    out.append(b"")  # the last line's newline
    return b"\n".join(out), counts[BAD], counts[INTERNAL]


def _repeatable(number: int, line: str | None, record: bytes, outcome: int) -> tuple[str, bytes] | None:
    """The line and its record after its number, when a repeat of the line gets the same answer:
    an answered line."""
    head = b'{"line":%d' % number
    if line is None or outcome != ANSWERED or not record.startswith(head):
        return None
    return line, record[len(head) :]


# --- input -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(source: str) -> Iterator[IO[str]]:
    """The input as text: UTF-8 (undecodable bytes become lone surrogates, refused line by line),
    lines ended by "\\n" only, so that a stray carriage return inside a line cannot shift the line
    numbers."""
    if not source.strip():
        raise UsageError(t("--batch: empty path (give a file, or - for standard input)"))
    if source != "-":
        try:
            handle = open(source, encoding="utf-8", errors="surrogateescape", newline="\n")  # noqa: SIM115
        except OSError as error:
            if source.startswith("-") and not os.path.lexists(source):
                # An option taken as the file (`recommend --batch --help`: a newcomer's review).
                message = N_("--batch takes a file (or - for standard input), not the option {option}")
                raise UsageError(t(message, option=source)) from error
            raise UsageError(
                t("--batch: cannot read {path}: {reason}", path=source, reason=error.strerror)
            ) from error
        with handle:
            yield handle
        return
    if sys.stdin is None:  # started with stdin closed (`<&-`)
        raise UsageError(t("--batch -: there is no standard input to read"))
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    with contextlib.suppress(ValueError, OSError):  # already read from: keep it as it is
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="surrogateescape", newline="\n")
    yield sys.stdin


def answers_each_line(handle: IO[str]) -> bool:
    """Whether the input is a pipe or a terminal (rather than a regular file)."""
    try:
        return not stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (OSError, ValueError):  # no file descriptor: an in-memory stream
        return True


def _bounded_lines(handle: IO[str], source: str, ended: list[str]) -> Iterator[str | None]:
    """The input's lines; None for a line longer than MAX_LINE_CHARS, said at once and then read
    past in pieces, never held whole, up to MAX_SKIPPED_CHARS: a line with no end (/dev/zero, a
    file of one endless line) ends the input there, said in `ended`, instead of being read for
    ever."""
    limit = MAX_LINE_CHARS + 2  # room for "\r\n"
    try:
        while line := handle.readline(limit):
            if len(line) == limit and not line.endswith("\n"):
                yield None
                skipped = len(line)
                while (rest := handle.readline(limit)) and not rest.endswith("\n"):
                    skipped += len(rest)
                    if skipped > MAX_SKIPPED_CHARS:
                        ended.append(
                            t(
                                "--batch: {path} has a line of more than {chars} characters with no "
                                "end: stopped there",
                                path=source,
                                chars=f"{MAX_SKIPPED_CHARS:,}",
                            )
                        )
                        return
            else:
                yield (
                    line
                    if len(line) <= MAX_LINE_CHARS or len(line.rstrip("\r\n")) <= MAX_LINE_CHARS
                    else None
                )
    except OSError as error:
        raise UsageError(
            t("--batch: cannot read {path}: {reason}", path=source, reason=error.strerror)
        ) from error


def _chunks(lines: Iterator[str | None], size: int) -> Iterator[Chunk]:
    """Up to `size` lines at a time, fewer when they add up to CHUNK_CHARS characters."""
    while True:
        chunk: Chunk = []
        chars = 0
        for line in itertools.islice(lines, size):
            chunk.append(line)
            chars += len(line or "")
            if chars >= CHUNK_CHARS:
                break
        if not chunk:
            return
        yield chunk


# --- output ------------------------------------------------------------------------------------


class _Progress:
    """A line counter on stderr, only when a person is watching it."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from atlas_cli.render.terminal import Terminal

        self.bar = Progress(
            SpinnerColumn(), TextColumn("{task.completed} " + t("profiles")), console=Terminal(stderr=True)
        )
        self.task = self.bar.add_task("batch", total=None)
        self.bar.start()

    def advance(self, lines: int) -> None:
        self.bar.advance(self.task, lines)

    def stop(self) -> None:
        self.bar.stop()


class _Output:
    """Writes encoded lines to the stream's binary layer (to the stream itself, decoded, when
    it has none, as in tests), flushing after each write when a caller waits for each line."""

    def __init__(self, stream: IO[str], progress: _Progress | None, flush: bool) -> None:
        self.stream, self.progress, self.flush = stream, progress, flush
        self.buffer: IO[bytes] | None = getattr(stream, "buffer", None)
        stream.flush()

    def write(self, data: bytes, lines: int) -> None:
        try:
            if self.buffer is None:
                self.stream.write(data.decode("utf-8"))
            else:
                self.buffer.write(data)
            if self.flush:
                (self.buffer or self.stream).flush()
        except BrokenPipeError:
            raise OutputClosed from None
        except OSError as error:
            raise output_failed(error.strerror or str(error)) from error
        if self.progress:
            self.progress.advance(lines)


# --- the run -----------------------------------------------------------------------------------


@collector_paused
def run_batch(
    engine: Engine, source: str, top: int, explain: bool, out: IO[str] | None = None, debug: bool = False
) -> int:
    """Answer every line; the exit code: 0, 2 when only input lines were bad, 1 when any line hit
    an internal error (each such line has its own error record). Forked workers inherit the
    paused collector."""
    workers_wanted = worker_count()  # a bad FT_ATLAS_JOBS is reported before any work
    if language() == "ru":
        catalog()  # read once, before the workers are forked
    encoder = LineEncoder()
    # The catalog and the engine live as long as the run: out of the collector's reach, no
    # collection walks them again, and the workers forked below keep sharing their pages (the
    # Python docs' advice for fork). Collected first, so that no garbage is kept with them.
    gc.collect()
    gc.freeze()
    encoded = itertools.count(1)

    def encode(first: int, chunk: Chunk) -> Encoded:
        # A full collection would walk every remembered plan and piece again and again (~8 % of
        # a batch's CPU); what one line leaves behind is young when it becomes garbage.
        number = next(encoded)
        if number % YOUNG_COLLECTION_CHUNKS == 0:
            gc.collect(2 if number % FULL_COLLECTION_CHUNKS == 0 else 1)
        return encode_chunk(engine, encoder, first, chunk, top, explain, debug)

    with _opened(source) as handle:
        each_line = answers_each_line(handle)
        ended: list[str] = []
        chunks = _chunks(_bounded_lines(handle, source, ended), 1 if each_line else CHUNK_LINES)
        # Forked before the progress display starts its thread.
        with forked(encode, 0 if each_line else workers_wanted) as (workers, limit):
            progress = _Progress() if sys.stderr.isatty() else None
            try:
                write = _Output(out or sys.stdout, progress, flush=each_line).write
                if workers:
                    bad, internal = Dispatch(encode, workers, limit, chunks, write).run()
                else:
                    bad, internal = _run_here(encode, chunks, write)
            finally:
                if progress:
                    progress.stop()
    if internal:
        return fail(f"{internal} line(s) hit an internal error; see their error records", EXIT_INTERNAL)
    if ended:
        return fail(ended[0], EXIT_USAGE)
    if bad:
        # The output says which lines and why; the terminal says that some did (a review: exit 2
        # with nothing on stderr read as a failure without a message).
        return fail(
            nt(
                "{n} line was refused as bad input; its error record in the output says why",
                "{n} lines were refused as bad input; their error records in the output say why",
                bad,
                n=bad,
            ),
            EXIT_USAGE,
        )
    return EXIT_OK


def _run_here(encode: Encode, chunks: Iterator[Chunk], write: Write) -> tuple[int, int]:
    bad = internal = 0
    first = 1
    for chunk in chunks:
        data, bad_here, internal_here = encode(first, chunk)
        write(data, len(chunk))
        bad, internal, first = bad + bad_here, internal + internal_here, first + len(chunk)
    return bad, internal
