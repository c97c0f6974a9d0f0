"""Worker processes for `recommend --batch FILE`: chunks of input lines are shared out to forked
processes, and their answers are written in input order.

Free of deadlock by construction. Towards the workers, this process blocks in two places only:
sending to a worker that has no unanswered chunk (so it is waiting to read), and receiving the
oldest unanswered answer (which its worker is computing or sending). A chunk is queued to a
busy worker only if it fits in the socket buffer together with everything already queued
there. Pipes are written and read by this thread alone, so no worker waits on a helper thread.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from atlas_cli.core.profile import parse_whole

Chunk = list[str | None]  # lines; None for a line too long to read
Encoded = tuple[bytes, int, int]  # (output, lines of bad input, lines that hit an internal error)
Encode = Callable[[int, Chunk], Encoded]  # (first line number, chunk) -> its output and counts
Write = Callable[[bytes, int], None]  # (output, lines)

MAX_PROCESSES = 4  # by default: one per core up to this (~40 MB each)
MAX_JOBS = 64  # FT_ATLAS_JOBS may ask for up to this many
AHEAD = 2  # chunks queued to each worker, so that it never waits for the next one
MAX_LOCAL = 4  # chunks this process encodes ahead of a slower worker's answer
SEND_BUFFER_BYTES = 4 << 20  # asked of the kernel (capped by net.core.wmem_max)
QUEUE_BYTES = 64 << 10  # at most this much queued to a busy worker
JOIN_SECONDS = 2.0


def worker_count() -> int:
    """Helper processes besides this one: one per core up to MAX_PROCESSES, or FT_ATLAS_JOBS
    minus one. Linux only: elsewhere forking a process is not the platform's safe default."""
    wanted = os.environ.get("FT_ATLAS_JOBS", "").strip()
    jobs = parse_whole(wanted, "FT_ATLAS_JOBS", 1, MAX_JOBS) if wanted else None
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (jobs or min(cores, MAX_PROCESSES)) - 1


def _send_buffer(conn: Connection) -> int:
    """Enlarge the socket's send buffer, so that answers wait in it rather than stall their
    worker; return the size granted (0 when it cannot be read)."""
    try:
        with socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    except OSError:
        return 0


def _serve(encode: Encode, conn: Connection, parent_ends: list[Connection], parent: int) -> None:
    """A worker: encode each chunk it is sent, until the parent closes the pipe or is gone."""
    # Ctrl-C reaches the whole process group; the parent alone reports it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    for end in parent_ends:  # inherited copies would keep the pipes open after the parent ends
        end.close()
    _send_buffer(conn)
    while True:
        try:
            first, chunk = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):  # the parent is done, or gone
            return
        try:
            answer = pickle.dumps(encode(first, chunk))
        except Exception as error:  # noqa: BLE001 - a bug: the parent reports it as it would its own
            answer = _pickled_error(error)
        try:
            conn.send_bytes(answer)
        except OSError:  # the parent is gone: its reader closed the output, or Ctrl-C
            return


# prctl(2): the signal the kernel sends this process when its parent ends.
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """End with the parent however it ends: a SIGTERM (kill, systemd, a cancelled CI job) or
    SIGKILL never runs its `finally`, and an orphaned worker went on encoding its chunk (an
    attacker's review): the kernel is asked to (workers run on Linux only, worker_count)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the request
        os._exit(0)


def _pickled_error(error: Exception) -> bytes:
    try:
        pickled = pickle.dumps(error)
        pickle.loads(pickled)  # some exceptions pickle but cannot be rebuilt from their args
        return pickled
    except Exception:  # noqa: BLE001 - then keep its words
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


@dataclass(slots=True)
class Worker:
    conn: Connection
    process: BaseProcess
    queued: deque[int] = field(default_factory=deque)  # sizes of the unanswered chunks, in order

    def can_take(self, size: int, limit: int) -> bool:
        return not self.queued or (len(self.queued) < AHEAD and sum(self.queued) + size <= limit)

    def send(self, message: bytes) -> None:
        try:
            self.conn.send_bytes(message)
        except OSError:  # not BrokenPipeError: that would read as "the output was closed"
            raise RuntimeError("a batch worker process ended unexpectedly") from None
        self.queued.append(len(message))

    def receive(self) -> Encoded:
        try:
            answer = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            raise RuntimeError("a batch worker process ended unexpectedly") from None
        self.queued.popleft()
        if isinstance(answer, BaseException):
            raise answer
        data, bad, internal = answer
        return data, bad, internal


@contextmanager
def forked(encode: Encode, count: int) -> Iterator[tuple[list[Worker], int]]:
    """`count` forked workers, and how many bytes may be queued to a busy one."""
    context = multiprocessing.get_context("fork")
    workers: list[Worker] = []
    limit = QUEUE_BYTES
    try:
        for _ in range(count):
            ours, theirs = context.Pipe()
            parent_ends = [w.conn for w in workers] + [ours]
            process = context.Process(
                target=_serve, args=(encode, theirs, parent_ends, os.getpid()), daemon=True
            )
            process.start()
            theirs.close()
            workers.append(Worker(ours, process))
            # Unix sockets count a message's overhead too: keep well inside what was granted.
            limit = min(limit, _send_buffer(ours) // 4)
        yield workers, limit
    finally:
        _stop(workers)


def _stop(workers: list[Worker]) -> None:
    for worker in workers:
        worker.conn.close()  # a worker waiting for work reads the end of its pipe and returns
    deadline = time.monotonic() + JOIN_SECONDS
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join()


class Dispatch:
    """Keeps every worker AHEAD chunks ahead and, rather than wait for the next answer in
    order, encodes a chunk in this process: the load balances itself whatever the speed of
    each process. Output waits in `order` (input order) until everything before it is written."""

    def __init__(
        self, encode: Encode, workers: list[Worker], limit: int, chunks: Iterator[Chunk], write: Write
    ) -> None:
        self.encode, self.workers, self.limit, self.chunks, self.write = encode, workers, limit, chunks, write
        self.order: deque[tuple[Worker | None, bytes, int]] = deque()  # (worker or None, output, lines)
        self.pending: tuple[int, Chunk, bytes] | None = None  # read, not yet given out
        self.local = 0  # chunks encoded here that wait in `order`
        self.first = 1  # number of the next line to read
        self.bad = self.internal = 0
        self.exhausted = False

    def run(self) -> tuple[int, int]:
        """Encode every chunk; return how many lines were bad input and how many hit an
        internal error."""
        while True:
            self._feed_workers()
            if not self.order and self._next() is None:
                return self.bad, self.internal
            if self.order and self._write_head(wait=False):
                continue
            if not self._encode_here():
                self._write_head(wait=True)

    def _next(self) -> tuple[int, Chunk, bytes] | None:
        """The next chunk in input order (first line number, lines, message to a worker)."""
        if self.pending is None and not self.exhausted:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.exhausted = True
            else:
                self.pending = (self.first, chunk, pickle.dumps((self.first, chunk)))
                self.first += len(chunk)
        return self.pending

    def _feed_workers(self) -> None:
        for worker in self.workers:
            while (pending := self._next()) is not None and worker.can_take(len(pending[2]), self.limit):
                worker.send(pending[2])
                self.order.append((worker, b"", len(pending[1])))
                self.pending = None

    def _encode_here(self) -> bool:
        if self.local >= MAX_LOCAL or (pending := self._next()) is None:
            return False
        first, chunk, _ = pending
        try:
            data, bad, internal = self.encode(first, chunk)
        except Exception:
            # As in one process: everything before the failing chunk is written first.
            while self.order:
                self._write_head(wait=True)
            raise
        self.order.append((None, data, len(chunk)))
        self.pending = None
        self.bad, self.internal = self.bad + bad, self.internal + internal
        self.local += 1
        return True

    def _write_head(self, wait: bool) -> bool:
        """Write the next output in order if it is ready (or, with `wait`, once it is)."""
        worker, data, lines = self.order[0]
        if worker is not None:
            if not (wait or worker.conn.poll()):
                return False
            data, bad, internal = worker.receive()
            self.bad, self.internal = self.bad + bad, self.internal + internal
        else:
            self.local -= 1
        self.order.popleft()
        self.write(data, lines)
        return True
