"""The command line's own usage errors (unknown options and commands, missing values) in the
user's language. typer parses the command line with the click it vendors, whose messages are
English f-strings: they are matched here, and shown in Russian with `--lang ru` (a newcomer's
review: `--lang ru recommend --nosuch` answered in English). English output is click's own."""

from __future__ import annotations

import re
import sys
from typing import Protocol

from atlas_cli.errors import printable
from atlas_cli.i18n import N_, language, t

# typer 0.2x's vendored click (typer/_click/exceptions.py, core.py, parser.py): each message's
# whole text, and ft-atlas's wording of it.
MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"No such option: (?P<name>.+?) \(Possible options: (?P<options>.+)\)"),
        N_("no such option: {name} (possible options: {options})"),
    ),
    (re.compile(r"No such option: (?P<name>.+)"), N_("no such option: {name}")),
    (
        re.compile(r"No such command ['\"](?P<name>.*)['\"]\. Did you mean (?P<names>.+)\?"),
        N_("no such command '{name}'; did you mean {names}?"),
    ),
    (re.compile(r"No such command ['\"](?P<name>.*)['\"]\."), N_("no such command '{name}'")),
    (re.compile(r"Option '(?P<name>.+)' requires an argument\."), N_("option '{name}' needs a value")),
    (re.compile(r"Option '(?P<name>.+)' does not take a value\."), N_("option '{name}' takes no value")),
    (re.compile(r"Missing argument '(?P<name>.+)'\."), N_("missing argument '{name}'")),
    (re.compile(r"Missing command\."), N_("missing command")),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((?P<arguments>.*)\)"),
        N_("unexpected extra arguments ({arguments})"),
    ),
    (
        re.compile(r"Invalid value for (?P<name>.+?): (?P<problem>.+)"),
        N_("invalid value for {name}: {problem}"),
    ),
    # A choice option's problem, inside the message above (typer's Choice: --format, --lang).
    (re.compile(r"'(?P<value>.*)' is not one of (?P<choices>.+)\."), N_("'{value}' is not one of {choices}")),
)
USAGE = N_("Usage:")
HELP_HINT = N_("Try '{command} {option}' for help.")
ERROR = N_("Error: {message}")


class Context(Protocol):
    command_path: str
    help_option_names: list[str]

    def get_usage(self) -> str: ...


class ClickError(Protocol):
    def format_message(self) -> str: ...

    def show(self) -> None: ...


def localized(message: str) -> str:
    """One of click's messages in the current language (an unknown one as it is)."""
    for pattern, wording in MESSAGES:
        found = pattern.fullmatch(message)
        if found is not None:
            parts = found.groupdict()
            if "problem" in parts:  # a problem is one of click's messages too
                parts["problem"] = localized(parts["problem"])
            return t(wording, **parts)
    return message


def show(error: ClickError) -> None:
    """What click's show() prints (usage, a hint, the error), every text escaped as our own are,
    and in Russian when that is the language."""
    # typer's pydantic validators prefix their messages so (a review: "Invalid value for
    # '--lang': Value error, 'de' is not one of 'en', 'ru'.").
    message = printable(error.format_message().replace(": Value error, ", ": ", 1))
    ctx: Context | None = getattr(error, "ctx", None)  # a usage error's; other errors have none
    elsewhere = _other_commands_option(ctx, message)
    if language() == "en":
        message += elsewhere and " " + elsewhere
        setattr(error, "format_message", lambda: message)  # noqa: B010 - show() calls it
        error.show()
        return
    if ctx is not None:
        usage = ctx.get_usage().removeprefix("Usage:")
        hint = t(HELP_HINT, command=ctx.command_path, option=ctx.help_option_names[0])
        sys.stderr.write(f"{t(USAGE)}{usage}\n{hint}\n\n")
    sys.stderr.write(t(ERROR, message=localized(message)) + (elsewhere and " " + elsewhere) + "\n")


def _other_commands_option(ctx: Context | None, message: str) -> str:
    """Where an option this command lacks belongs ("--optimizer is an option of ft-atlas estimate":
    a newcomer's review typed it to recommend), among the commands loaded with it; else ''."""
    found = re.match(r"No such option: (\S+)", message)
    group = getattr(getattr(ctx, "parent", None), "command", None)
    if found is None or group is None:
        return ""
    option = found.group(1)
    commands = getattr(group, "commands", {})
    owners = [name for name, command in commands.items() if any(option in p.opts for p in command.params)]
    if not owners:
        return ""
    return t(
        "({option} is an option of {commands})",
        option=option,
        commands=", ".join(f"ft-atlas {n}" for n in owners),
    )
