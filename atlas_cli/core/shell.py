"""Commands ft-atlas prints for the user to paste into a shell (a recipe's run line, the command
that reproduces a profile). Every word that comes from the user is quoted, so that no path or
name can split into several arguments, open a quote, end the line or run a command; every number
is written in a form ft-atlas reads back as the same value."""

from __future__ import annotations

import re
import shlex
from decimal import Decimal

# Characters a pasted line must not hold raw: C0/C1 controls and Unicode line breaks.
_UNPASTEABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shell_word(text: str) -> str:
    """One shell word: POSIX single quotes where needed (shlex.quote), or bash's $'...' with
    escapes when the text holds a control character or a line break."""
    if not _UNPASTEABLE.search(text):
        return shlex.quote(text)
    return "$'" + "".join(_escaped(c) for c in text) + "'"


def _escaped(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if _UNPASTEABLE.match(char):
        return f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}"
    return char


def plain_decimal(value: float) -> str:
    """A number without an exponent and with every digit its shortest repr has (1e-06 ->
    0.000001, 1234567890123.0 -> 1234567890123): ft-atlas's number grammar refuses exponents
    in most options, and rounding would name a different profile."""
    if value == int(value):
        return str(int(value))
    return format(Decimal(repr(value)), "f")
