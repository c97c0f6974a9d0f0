"""The project's exceptions and the exit codes they map to (documented in the README)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import select
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from atlas_cli.i18n import nt, t

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INVALID_KB = 3
EXIT_INTERRUPTED = 130
BAD_PATH_ERRORS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR, errno.ELOOP})


class AtlasError(Exception):
    exit_code = EXIT_INTERNAL
    code = "internal"


class UsageError(AtlasError):
    """Bad command-line value, unknown name, or a bad batch line."""

    exit_code = EXIT_USAGE
    code = "bad_input"

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


# How much of a refused value a message repeats: a 5,000-character --model, --goal or number was
# echoed whole (an attacker's review), and a config.json's model_type of millions.
ECHOED_CHARS = 120


def echoed(value: object) -> str:
    """A refused value as a message repeats it: cut to ECHOED_CHARS characters."""
    text = str(value)
    return text if len(text) <= ECHOED_CHARS else text[:ECHOED_CHARS] + "..."


def not_one_of(flag: str, value: object, allowed: Iterable[str], suggest: bool = True) -> str:
    """The message for a value outside its choices, in the current language, with the one it
    most likely means (`--optimizer adam`: adamw)."""
    names = list(allowed)
    message = t(
        "{flag}: '{value}' is not one of {choices}", flag=flag, value=echoed(value), choices=", ".join(names)
    )
    meant = closest_name(str(value).casefold(), names) if suggest else None
    return meaning(message, meant)


def meaning(message: str, meant: str | None) -> str:
    """A refusal with the value it most likely means, where there is one."""
    return message if meant is None else message + t("; did you mean {value}?", value=meant)


def swapped_name(key: str, names: Iterable[str]) -> str | None:
    """The one name spelt with `key`'s letters in another order (dop for dpo, 3900 for 3090)."""
    swapped = [n for n in names if sorted(n) == sorted(key)]
    return swapped[0] if len(swapped) == 1 else None


def closest_name(key: str, names: list[str]) -> str | None:
    """The one name `key` is close to (a typo), or spells with its letters swapped, else the one
    name that begins with its first four letters (an abbreviation); None where that is not one."""
    import difflib

    close = difflib.get_close_matches(key, names, n=2, cutoff=0.75)
    if len(close) == 1 or (close and difflib.SequenceMatcher(None, key, close[0]).ratio() >= 0.85):
        return close[0]
    swapped = swapped_name(key, names)  # letters swapped: dop for dpo
    if swapped is not None:
        return swapped
    begun = [n for n in names if len(key) >= 4 and n.startswith(key[:4])]
    return begun[0] if len(begun) == 1 else None


class UnknownName(UsageError):
    """A name the catalog does not know; `kind` says which catalog (method, GPU, model)."""

    def __init__(self, message: str, kind: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message, suggestions)
        self.kind = kind


class KnowledgeBaseError(AtlasError):
    """The knowledge base failed to load; `problems` are `path:line:col: field: message`."""

    exit_code = EXIT_INVALID_KB
    code = "invalid_kb"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def summary(self) -> str:
        count = len(self.problems)
        return nt(
            "invalid knowledge base ({count} problem)",
            "invalid knowledge base ({count} problems)",
            count,
            count=count,
        )


class MissingTranslations(KnowledgeBaseError):
    """validate --strict: texts without their Russian, or a broken translation catalog."""

    def summary(self) -> str:
        return nt(
            "{count} translation problem; python scripts/missing_translations.py prints the missing "
            "one as an entry to fill in",
            "{count} translation problems; python scripts/missing_translations.py prints the missing "
            "ones as entries to fill in",
            len(self.problems),
            count=len(self.problems),
        )


class InputEnded(AtlasError):
    """End of input (Ctrl-D) in the middle of the questionnaire: the user stopped it, as with
    Ctrl-C; 1 would read as a bug."""

    exit_code = EXIT_INTERRUPTED
    code = "input_ended"


class WriteFailed(AtlasError):
    """The output could not be written (a full disk, a failing device)."""

    exit_code = EXIT_INTERNAL
    code = "write_failed"


class OutputClosed(AtlasError):
    """The reader of stdout went away (`ft-atlas ... | head -1`): stop quietly, exit 0.

    Raised instead of BrokenPipeError where typer would otherwise turn the pipe error into exit 1.
    """

    exit_code = EXIT_OK
    code = "output_closed"


# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC starts screen
# clears and OSC 8 links, U+009B is CSI), DEL, the Unicode line and paragraph separators, and
# the bidirectional overrides and isolates that reorder (and so hide) text.
# Control characters, line and paragraph separators, bidirectional overrides, and what no YAML
# reader takes even in a comment (PyYAML's NON_PRINTABLE: lone surrogates, U+FFFE, U+FFFF): a
# recipe's header comments carry knowledge-base text and paths.
# Invisible characters are escaped too (zero-width spaces and joiners, directional marks, the
# Arabic letter mark, word joiners, a soft hyphen, a byte-order mark): "40\u200b90" was refused
# as a GPU that looked like "4090" (an attacker's review).
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u2060-\u2064\ufeff"
_CONTROL = re.compile(
    rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069{_INVISIBLE}\ud800-\udfff\ufffe\uffff]"
)
_CONTROL_IN_TEXT = re.compile(
    rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069{_INVISIBLE}\ud800-\udfff\ufffe\uffff]"
)


# What forges or reorders a line where a name is shown: controls (a newline, ESC; not a tab), the
# Unicode line separators and the bidirectional overrides and isolates. Zero-width joiners are
# ordinary letters in Persian and Indic names, and a filename's undecodable bytes are its own.
_FORGING = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def forges_lines(text: str) -> bool:
    """Whether a name holds a character that would forge or reorder a line where it is shown."""
    return _FORGING.search(text) is not None


def _escaped(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape").decode("ascii")


def one_line(text: str) -> str:
    """Escape line breaks and other control characters: one problem is one line of output."""
    return _CONTROL.sub(_escaped, text)


def printable(text: str) -> str:
    """Text for a terminal: control characters (except newline and tab) become visible escapes
    such as \\x1b, so that text from a knowledge base or the command line cannot clear the
    screen, hide itself or plant a link."""
    return _CONTROL_IN_TEXT.sub(_escaped, text)


class _ClosedOutput(io.TextIOBase):
    """Stdout when ft-atlas was started with it closed (`ft-atlas methods >&-`): a command that
    writes its answer there fails as on a full disk, exit 1 (as `echo hi >&-` does), instead of
    exit 0 with the answer lost (an attacker's review); one that writes only files never notices."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise output_failed(t("standard output is closed"))


class _ClosedStderr(io.TextIOWrapper):
    """/dev/null standing in for a stderr the process was started without (stderr_closed)."""


def prepare_streams() -> None:
    # Started with stderr closed (`ft-atlas ... 2>&-`): what would go there is lost, as when the
    # reader goes away. Stdout: see _ClosedOutput.
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:
        sys.stderr = _ClosedStderr(open(os.devnull, "wb"), encoding="utf-8")  # noqa: SIM115 - for the whole run
    for stream in (sys.stdout, sys.stderr):
        # A C locale without UTF-8 mode must not turn the guide's Cyrillic into a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def stderr_closed() -> bool:
    """Whether the process started without a stderr: nothing written there is seen (`ask`'s prompts)."""
    return isinstance(sys.stderr, _ClosedStderr)


def silence_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered for a reader that went away (or a full
    disk) is dropped at exit instead of failing again with a traceback."""
    _silence(sys.stdout)


def _silence(stream: TextIO | None) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no descriptor behind it
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())  # type: ignore[union-attr]
        finally:
            os.close(devnull)


def _to_stderr(text: str) -> None:
    """Write a message; a reader of stderr that went away (`ft-atlas validate 2>&1 | head -1`)
    leaves the exit code as it was: the rest is dropped, not turned into a traceback (exit 1)."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        _silence(sys.stderr)


def stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader went away (the write end polls as an error): a
    broken pipe on stderr alone must not end a command as if its output had been read."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return True  # no stdout to write to
    if not hasattr(select, "poll"):  # Windows: no way to ask, so any broken pipe is stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def output_failed(reason: str) -> WriteFailed:
    """The output could not be written (a full disk, a closed stdout): exit 1, said one way."""
    return WriteFailed(t("cannot write the output: {reason}", reason=reason))


def flush_stdout() -> int:
    """Flush stdout now, while a failure can still be reported; the exit code it leads to."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return report(OutputClosed(), debug=False)
    except OSError as error:
        return report(output_failed(error.strerror or str(error)), debug=False)
    return EXIT_OK


def write_stdout(text: str) -> int:
    """Write and flush `text`; the exit code (a full disk is 1, a reader gone away 0)."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        return report(OutputClosed(), debug=False)
    except OSError as error:
        return report(output_failed(error.strerror or str(error)), debug=False)
    except WriteFailed as error:
        return report(error, debug=False)
    return flush_stdout()


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C held until the block ends, then raised. pydantic's validators and serializers run
    in Rust: a KeyboardInterrupt raised in a Python call they make is swallowed ("Exception
    ignored in ...") and the value fails validation instead, so an interrupted load read as an
    invalid knowledge base (exit 3) or an internal error (a review), never as exit 130. Only
    Python's own Ctrl-C handling is deferred: a SIGINT ignored (a background job) or handled by an
    in-process caller stays so, as does any signal outside the main thread."""
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if caught:  # whatever else the block raised, it was interrupted
            raise KeyboardInterrupt


def debug_env() -> bool:
    return os.environ.get("FT_ATLAS_DEBUG", "") not in ("", "0")


def status(message: str) -> None:
    """A line on stderr ("ft-atlas: wrote train.py"); a stderr that cannot be written loses it,
    and the command's result stands (an attacker's review: `recipe --out r.py 2>/dev/full` wrote
    r.py and exited 1)."""
    _to_stderr(f"ft-atlas: {printable(message)}\n")


def fail(message: str, code: int) -> int:
    status(message)
    return code


def report(error: BaseException, debug: bool) -> int:
    """Tell the user about the error that ended a command, and return the exit code. With
    `debug`, an internal error is raised again for its traceback."""
    if isinstance(error, KeyboardInterrupt):
        return fail(t("Aborted."), EXIT_INTERRUPTED)
    if isinstance(error, OutputClosed) or (isinstance(error, BrokenPipeError) and stdout_reader_gone()):
        # The reader went away (`ft-atlas methods | head -1`): nothing more to say to it.
        silence_stdout()
        return EXIT_OK
    if isinstance(error, BrokenPipeError):  # stderr's reader went away: no result was written
        return report(WriteFailed(t("the reader of stderr went away")), debug=False)
    if isinstance(error, WriteFailed):
        silence_stdout()  # the rest of the output could not be written either
    if isinstance(error, KnowledgeBaseError):
        _to_stderr("".join(f"{one_line(problem)}\n" for problem in error.problems))
        return fail(error.summary(), error.exit_code)
    if isinstance(error, AtlasError):
        # One error, one line: a path or a value typed with a line break in it must not end the
        # message and start what reads as another (a review forged a line so).
        return fail(one_line(str(error)), error.exit_code)
    if isinstance(error, OSError) and error.strerror and not debug:
        # The system's own words (a full disk, a device error) say more than "internal error"; a
        # path that cannot name a file (too long, a file where a directory should be, a loop of
        # links) was given by the user: bad input.
        # Cut as a refused value is (a 6,000-character --out was echoed whole: an attacker's review).
        where = f": {one_line(echoed(error.filename))}" if error.filename else ""
        code = EXIT_USAGE if error.errno in BAD_PATH_ERRORS else EXIT_INTERNAL
        return fail(f"{error.strerror}{where}", code)
    if debug:
        raise error
    return fail(
        t(
            "internal error: {kind}: {error} (rerun with --debug or FT_ATLAS_DEBUG=1 for a traceback)",
            kind=type(error).__name__,
            error=error,
        ),
        EXIT_INTERNAL,
    )
