"""`recommend --batch`: JSON Lines of profiles in, one JSON line out per input line, in order.

A bad line becomes `{"line": N, "error": {...}}` and processing continues; the exit code says
at the end whether any line failed. Input is streamed, so memory does not grow with the file. A
file (not stdin) is encoded by several processes, one per core (see CHUNK_LINES below);
FT_ATLAS_JOBS=N sets their number (1 = this process only).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import signal
import socket
import stat
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import IO, Any

from atlas_cli.engine import Engine
from atlas_cli.errors import EXIT_OK, EXIT_USAGE, AtlasError, OutputClosed, UsageError
from atlas_cli.profile import build_profile
from atlas_cli.render.jsonline import LineEncoder
from atlas_cli.render.jsonout import recommendation_json

MAX_LINE_CHARS = 1_000_000
# Lines are encoded in chunks of this many; a file is shared out, a chunk at a time, to one
# process per core (this one included) but at most MAX_PROCESSES (~40 MB each), or to
# FT_ATLAS_JOBS of them.
CHUNK_LINES = 32
MAX_PROCESSES = 4
MAX_JOBS = 64
SEND_BUFFER_BYTES = 4 << 20
AHEAD = 2  # chunks queued to each worker, so that it never waits for the next one
MAX_LOCAL = 4  # chunks this process encodes ahead of a slower worker's output


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _error(number: int, code: str, message: str) -> tuple[str, bool]:
    return _dumps({"line": number, "error": {"code": code, "message": message}}), True


def process_line(
    engine: Engine, encoder: LineEncoder, number: int, line: str, top: int, explain: bool
) -> tuple[str, bool]:
    """One input line -> one output line without its newline (a recommendation or an error),
    and whether it is an error."""
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
    if explain:
        return _dumps({"line": number, **recommendation_json(rec, top, explain)}), False
    return encoder.line(number, rec, top), False


def _lines(source: str) -> Iterator[str]:
    if source == "-":
        yield from sys.stdin
        return
    with open(source, encoding="utf-8", errors="replace") as handle:
        yield from handle


def _chunks(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(lines, size)):
        yield chunk


def answers_each_line(source: str) -> bool:
    """A pipe or a terminal on stdin may be a caller that waits for each answer before it
    writes the next line: answer it line by line, flushed. A file (also as `- < file`) is
    read in chunks and shared out to worker processes."""
    if source != "-":
        return False
    try:
        return not stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError):  # no real file descriptor (an in-process test, a closed stdin)
        return True


def encode_chunk(
    engine: Engine, encoder: LineEncoder, first: int, chunk: list[str], top: int, explain: bool
) -> tuple[bytes, int]:
    """Consecutive input lines (the first numbered `first`) -> their output and error count.
    JSON Lines are UTF-8 whatever the locale; a lone surrogate from undecodable input becomes a
    JSON escape (backslashreplace writes `\\udcxx`)."""
    out: list[str] = []
    failed = 0
    for number, line in enumerate(chunk, start=first):
        record, is_error = process_line(engine, encoder, number, line, top, explain)
        out.append(record + "\n")
        failed += is_error
    return "".join(out).encode("utf-8", "backslashreplace"), failed


def worker_count() -> int:
    """Helper processes besides this one for a file: one per core up to MAX_PROCESSES, or as
    FT_ATLAS_JOBS says; none where processes cannot be forked."""
    wanted = os.environ.get("FT_ATLAS_JOBS", "").strip()
    if wanted and not (wanted.isdigit() and 1 <= int(wanted) <= MAX_JOBS):
        raise UsageError(f"FT_ATLAS_JOBS: '{wanted}' is not a number of processes from 1 to {MAX_JOBS}")
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (int(wanted) if wanted else min(cores, MAX_PROCESSES)) - 1


@dataclass(frozen=True, slots=True)
class _Job:
    """What every process of one batch run shares; a forked worker inherits it."""

    engine: Engine
    top: int
    explain: bool

    def encode(self, encoder: LineEncoder, first: int, chunk: list[str]) -> tuple[bytes, int]:
        return encode_chunk(self.engine, encoder, first, chunk, self.top, self.explain)


def _enlarge_send_buffer(conn: Connection) -> None:
    """Let finished chunks (~7 KB of JSON per line) wait in the socket, so that the worker goes
    on to its next chunk instead of waiting for the parent to read. The kernel caps the size
    (net.core.wmem_max); on any refusal the default buffer just means more waiting."""
    try:
        with socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    except OSError:
        pass


def _serve(job: _Job, conn: Connection, parent_ends: list[Connection]) -> None:
    """A worker: encode each chunk it is sent, until the parent closes the pipe."""
    # Ctrl-C reaches the whole process group; the parent alone reports it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in parent_ends:  # inherited copies would keep the pipes open after the parent ends
        end.close()
    _enlarge_send_buffer(conn)
    encoder = LineEncoder()
    while True:
        try:
            first, chunk = conn.recv()
        except (EOFError, OSError):  # the parent is done, or gone
            return
        try:
            answer: tuple[bytes, int] | str = job.encode(encoder, first, chunk)
        except Exception as error:  # noqa: BLE001 - a bug: the parent reports it as an internal error
            answer = f"{type(error).__name__}: {error}"
        try:
            conn.send(answer)
        except OSError:  # the parent is gone: its reader closed the output, or Ctrl-C
            return
        if isinstance(answer, str):
            return


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
        if self.buffer is None:
            self.stream.write(data.decode("utf-8"))
        else:
            self.buffer.write(data)
        if self.flush:
            (self.buffer or self.stream).flush()
        if self.progress:
            self.progress.advance(lines)


def _run_sequential(
    engine: Engine, chunks: Iterator[list[str]], top: int, explain: bool, output: _Output
) -> int:
    encoder, failed, first = LineEncoder(), 0, 1
    for chunk in chunks:
        data, bad = encode_chunk(engine, encoder, first, chunk, top, explain)
        output.write(data, len(chunk))
        failed, first = failed + bad, first + len(chunk)
    return failed


@contextmanager
def _workers(job: _Job, count: int) -> Iterator[list[Connection]]:
    """Forked worker processes, each at the other end of a pipe. Pipes are written and read by
    this thread only, so no worker waits for a helper thread."""
    context = multiprocessing.get_context("fork")
    links: list[Connection] = []
    processes = []
    try:
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(job, theirs, [*links, ours]), daemon=True)
            process.start()
            theirs.close()
            links.append(ours)
            processes.append(process)
        yield links
    finally:
        for link in links:
            link.close()
        for process in processes:
            process.join(timeout=1)
            if process.is_alive():
                process.terminate()


class _Dispatch:
    """Keeps every worker AHEAD chunks ahead and, rather than wait for the next chunk in
    order, encodes a chunk in this process: the load balances itself whatever the speed of
    each process. Output waits in `order` (input order) until everything before it is written;
    at most AHEAD chunks per worker plus MAX_LOCAL encoded here are held at any time."""

    def __init__(
        self, job: _Job, links: list[Connection], chunks: Iterator[list[str]], output: _Output
    ) -> None:
        self.job, self.links, self.chunks, self.output = job, links, chunks, output
        self.encoder = LineEncoder()
        self.order: deque[tuple[Connection | None, bytes, int]] = deque()  # (worker or None, output, lines)
        self.sent = dict.fromkeys(links, 0)  # chunks each worker has not answered yet
        self.local = 0  # chunks encoded here waiting in `order`
        self.first = 1  # number of the next input line
        self.failed = 0
        self.exhausted = False

    def _next_chunk(self) -> list[str] | None:
        chunk = None if self.exhausted else next(self.chunks, None)
        self.exhausted = chunk is None
        return chunk

    def _feed_workers(self) -> None:
        for link in self.links:
            while self.sent[link] < AHEAD and (chunk := self._next_chunk()) is not None:
                _send(link, (self.first, chunk))
                self.sent[link] += 1
                self.order.append((link, b"", len(chunk)))
                self.first += len(chunk)

    def _encode_here(self) -> bool:
        if self.local >= MAX_LOCAL or (chunk := self._next_chunk()) is None:
            return False
        data, bad = self.job.encode(self.encoder, self.first, chunk)
        self.order.append((None, data, len(chunk)))
        self.first += len(chunk)
        self.failed += bad
        self.local += 1
        return True

    def _write_head(self, wait: bool) -> bool:
        """Write the next chunk in order if it is ready (or, with `wait`, once it is)."""
        link, data, lines = self.order[0]
        if link is not None:
            if not (wait or link.poll()):
                return False
            data, bad = _receive(link)
            self.sent[link] -= 1
            self.failed += bad
        else:
            self.local -= 1
        self.order.popleft()
        self.output.write(data, lines)
        return True

    def run(self) -> int:
        while True:
            self._feed_workers()
            if not self.order and self.exhausted:
                return self.failed
            if self.order and self._write_head(wait=False):
                continue
            if not self._encode_here() and self.order:
                self._write_head(wait=True)


def _send(link: Connection, work: tuple[int, list[str]]) -> None:
    try:
        link.send(work)
    except OSError:  # not BrokenPipeError: that would read as "the output was closed"
        raise RuntimeError("a batch worker process ended unexpectedly") from None


def _receive(link: Connection) -> tuple[bytes, int]:
    try:
        answer: tuple[bytes, int] | str = link.recv()
    except (EOFError, OSError):
        raise RuntimeError("a batch worker process ended unexpectedly") from None
    if isinstance(answer, str):
        raise RuntimeError(f"in a batch worker: {answer}")
    return answer


def run_batch(engine: Engine, source: str, top: int, explain: bool, out: IO[str] | None = None) -> int:
    each_line = answers_each_line(source)
    workers = 0 if each_line else worker_count()
    job = _Job(engine, top, explain)
    try:
        chunks = _chunks(_lines(source), 1 if each_line else CHUNK_LINES)
        with _workers(job, workers) as links:  # forked before the progress display's thread
            progress = _Progress() if sys.stderr.isatty() else None
            try:
                output = _Output(out or sys.stdout, progress, flush=each_line)
                if links:
                    failed = _Dispatch(job, links, chunks, output).run()
                else:
                    failed = _run_sequential(engine, chunks, top, explain, output)
            finally:
                if progress:
                    progress.stop()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as error:
        raise UsageError(f"--batch: cannot read {source}: {error.strerror}") from error
    return EXIT_USAGE if failed else EXIT_OK
