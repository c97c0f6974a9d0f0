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
import sys
from collections import deque
from collections.abc import Iterator
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


def _chunks(lines: Iterator[str]) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(lines, CHUNK_LINES)):
        yield chunk


def encode_chunk(
    engine: Engine, encoder: LineEncoder, first: int, chunk: list[str], top: int, explain: bool
) -> tuple[str, int]:
    """Consecutive input lines (the first numbered `first`) -> their output text and error count."""
    out: list[str] = []
    failed = 0
    for number, line in enumerate(chunk, start=first):
        record, is_error = process_line(engine, encoder, number, line, top, explain)
        out.append(record + "\n")
        failed += is_error
    return "".join(out), failed


def worker_count(source: str) -> int:
    """Helper processes besides this one: none for stdin, which must answer line by line (a
    caller may wait for each answer before writing the next line), and none on one core."""
    wanted = os.environ.get("FT_ATLAS_JOBS", "").strip()
    if wanted and not (wanted.isdigit() and 1 <= int(wanted) <= MAX_JOBS):
        raise UsageError(f"FT_ATLAS_JOBS: '{wanted}' is not a number of processes from 1 to {MAX_JOBS}")
    if source == "-" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (int(wanted) if wanted else min(cores, MAX_PROCESSES)) - 1


@dataclass(frozen=True, slots=True)
class _Job:
    """What every process of one batch run shares; a forked worker inherits it."""

    engine: Engine
    top: int
    explain: bool

    def encode(self, encoder: LineEncoder, first: int, chunk: list[str]) -> tuple[str, int]:
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
            answer: tuple[str, int] | str = job.encode(encoder, first, chunk)
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


def _write(stream: IO[str], text: str, lines: int, progress: _Progress | None) -> None:
    stream.write(text)
    if progress:
        progress.advance(lines)


def _run_sequential(
    engine: Engine,
    chunks: Iterator[list[str]],
    top: int,
    explain: bool,
    stream: IO[str],
    progress: _Progress | None,
) -> int:
    encoder, failed, first = LineEncoder(), 0, 1
    for chunk in chunks:
        text, bad = encode_chunk(engine, encoder, first, chunk, top, explain)
        _write(stream, text, len(chunk), progress)
        failed, first = failed + bad, first + len(chunk)
    return failed


def _run_parallel(job: _Job, chunks: Iterator[list[str]], workers: int, stream: IO[str]) -> int:
    """Share the chunks out to worker processes and write their output in input order. Pipes
    are written and read by this thread only, so no worker waits for a helper thread."""
    context = multiprocessing.get_context("fork")
    links: list[Connection] = []
    processes = []
    for _ in range(workers):  # forked before the progress display starts its thread
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(job, theirs, [*links, ours]), daemon=True)
        process.start()
        theirs.close()
        links.append(ours)
        processes.append(process)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        return _Dispatch(job, links, chunks, stream, progress).run()
    finally:
        if progress:
            progress.stop()
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
        self,
        job: _Job,
        links: list[Connection],
        chunks: Iterator[list[str]],
        stream: IO[str],
        progress: _Progress | None,
    ) -> None:
        self.job, self.links, self.chunks, self.stream, self.progress = job, links, chunks, stream, progress
        self.encoder = LineEncoder()
        self.order: deque[tuple[Connection | None, str, int]] = deque()  # (worker or None, text, lines)
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
                self.order.append((link, "", len(chunk)))
                self.first += len(chunk)

    def _encode_here(self) -> bool:
        if self.local >= MAX_LOCAL or (chunk := self._next_chunk()) is None:
            return False
        text, bad = self.job.encode(self.encoder, self.first, chunk)
        self.order.append((None, text, len(chunk)))
        self.first += len(chunk)
        self.failed += bad
        self.local += 1
        return True

    def _write_head(self, wait: bool) -> bool:
        """Write the next chunk in order if it is ready (or, with `wait`, once it is)."""
        link, text, lines = self.order[0]
        if link is not None:
            if not (wait or link.poll()):
                return False
            text, bad = _receive(link)
            self.sent[link] -= 1
            self.failed += bad
        else:
            self.local -= 1
        self.order.popleft()
        _write(self.stream, text, lines, self.progress)
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


def _receive(link: Connection) -> tuple[str, int]:
    try:
        answer: tuple[str, int] | str = link.recv()
    except (EOFError, OSError):
        raise RuntimeError("a batch worker process ended unexpectedly") from None
    if isinstance(answer, str):
        raise RuntimeError(f"in a batch worker: {answer}")
    return answer


def run_batch(engine: Engine, source: str, top: int, explain: bool, out: IO[str] | None = None) -> int:
    stream = out or sys.stdout
    try:
        chunks = _chunks(_lines(source))
        workers = worker_count(source)
        if workers:
            failed = _run_parallel(_Job(engine, top, explain), chunks, workers, stream)
        else:
            progress = _Progress() if sys.stderr.isatty() else None
            try:
                failed = _run_sequential(engine, chunks, top, explain, stream, progress)
            finally:
                if progress:
                    progress.stop()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as error:
        raise UsageError(f"--batch: cannot read {source}: {error.strerror}") from error
    return EXIT_USAGE if failed else EXIT_OK
