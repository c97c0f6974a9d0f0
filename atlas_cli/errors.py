"""The project's exceptions and the exit codes they map to (documented in the README)."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INVALID_KB = 3
EXIT_INTERRUPTED = 130


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


class KnowledgeBaseError(AtlasError):
    """The knowledge base failed to load; `problems` are `path:line:col: field: message`."""

    exit_code = EXIT_INVALID_KB
    code = "invalid_kb"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InputEnded(AtlasError):
    """End of input (Ctrl-D) in the middle of the questionnaire."""

    exit_code = EXIT_INTERNAL
    code = "input_ended"


class OutputClosed(AtlasError):
    """The reader of stdout went away (`ft-atlas ... | head -1`): stop quietly, exit 0.

    Raised instead of BrokenPipeError where typer would otherwise turn the pipe error into exit 1.
    """

    exit_code = EXIT_OK
    code = "output_closed"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Escape line breaks and other control characters: one problem is one line of output."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
