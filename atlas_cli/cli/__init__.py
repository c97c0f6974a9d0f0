"""The `ft-atlas` command line: thin wiring only — parse, call the core, render.

- app.py: the typer app, global options, and the one place that decides rendering;
- options.py: options shared by several commands (the profile's flags, the estimator's);
- one module per group of commands: lookup.py, knowledge_base.py, export.py, advise.py, ask.py.

Heavy modules (rich renderables, pydantic models, YAML) are imported inside the commands that
need them, so `--help` and `--version` stay fast (see tests/test_imports.py). A command's group
module is imported only when that command runs (all of them for `--help`).
"""

import importlib
import os
import sys

import typer

from atlas_cli.cli.app import app, state
from atlas_cli.cli.clickerrors import show as show_usage_error
from atlas_cli.consoles import console_environment
from atlas_cli.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    debug_env,
    fail,
    flush_stdout,
    prepare_streams,
    printable,
    report,
)
from atlas_cli.i18n import N_, Lang, parse_language, t

# Which module defines each command, so that running one imports only its group.
COMMAND_GROUPS = {
    "methods": "lookup",
    "show": "lookup",
    "compare": "lookup",
    "categories": "lookup",
    "tools": "lookup",
    "gpus": "lookup",
    "models": "lookup",
    "model": "lookup",
    "guide": "lookup",
    "validate": "knowledge_base",
    "schema": "knowledge_base",
    "export": "export",
    "estimate": "advise",
    "recommend": "advise",
    "recipe": "advise",
    "ask": "ask",
}
GROUP_ORDER = ("lookup", "knowledge_base", "export", "advise", "ask")  # as --help lists them
# Commands people try that ft-atlas names otherwise: where each thing is (a newcomer's review typed
# `ft-atlas explain dpo` and read only "No such command").
COMMAND_HINTS = {
    "explain": N_(
        "`ft-atlas show ID` prints a method's card (ft-atlas show dpo); `ft-atlas recommend ... "
        "--explain` says why each plan ranks where it does"
    ),
    "info": N_("`ft-atlas show ID` prints a method's card; `ft-atlas model ID` a model's shape"),
    "list": N_("`ft-atlas methods`, `ft-atlas models` and `ft-atlas gpus` list what ft-atlas knows"),
    "batch": N_("`ft-atlas recommend --batch FILE` answers a JSONL file of profiles, a JSON line each"),
    "help": N_(
        "`ft-atlas --help` lists the commands and `ft-atlas COMMAND --help` explains one; `ft-atlas ask` "
        "asks a few questions and recommends a plan"
    ),
}


GLOBAL_VALUED = ("--kb", "--lang")  # global options that take a value


def command_name(args: list[str]) -> str | None:
    """The first word that is neither an option nor a global option's value."""
    words = iter(args)
    for word in words:
        if word in GLOBAL_VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def explicit_language(args: list[str]) -> Lang | None:
    """The last --lang in `args` (typer parses it again; this is for what runs before the
    command does: --help and typer's own messages)."""
    found: Lang | None = None
    words = iter(args)
    for word in words:
        if word == "--lang":
            found = parse_language(next(words, None)) or found
        elif word.startswith("--lang="):
            found = parse_language(word.partition("=")[2]) or found
    return found


def load_commands(args: list[str]) -> None:
    """Import the group of the command in `args`, or every group (for --help and typos)."""
    named = command_name(args)
    groups = (COMMAND_GROUPS[named],) if named in COMMAND_GROUPS else GROUP_ORDER
    for group in groups:
        importlib.import_module(f"atlas_cli.cli.{group}")


def _output_identity() -> tuple[object, tuple[int, int] | None]:
    """stdout's object and the file behind its descriptor, to tell whether click or rich swapped
    either because the reader went away."""
    try:
        info = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return sys.stdout, None
    return sys.stdout, (info.st_dev, info.st_ino)


def main(argv: list[str] | None = None) -> None:
    """Run the app, turning every failure into a message on stderr and a documented exit code."""
    prepare_streams()
    args = sys.argv[1:] if argv is None else argv
    plain = bool(os.environ.get("NO_COLOR")) or "--no-color" in args
    output = _output_identity()
    try:
        state.explicit_lang = explicit_language(args)
        state.told_no_cyrillic = False
        state.use_language(for_people=True)
        name = command_name(args)
        if name in COMMAND_HINTS:
            raise UsageError(t("no command '{name}': {hint}", name=name, hint=t(COMMAND_HINTS[name])))
        load_commands(args)
        with console_environment(plain):
            result = app(args=args, prog_name="ft-atlas", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a command into Exit(130)
            fail(t("Aborted."), code)
    except typer.Exit as exit_:
        code = exit_.exit_code
    except typer.TyperException as error:
        # click's messages echo what was typed ("No such command 'x'"): escaped like our own, and
        # in the user's language.
        if hasattr(error, "show"):
            show_usage_error(error)
        else:
            fail(printable(error.format_message()), 0)
        code = error.exit_code
    except typer.Abort:
        code = fail(t("Aborted."), EXIT_INTERRUPTED)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else EXIT_INTERNAL
        # When the reader of stdout goes away, click (wrapping sys.stdout) and rich (pointing the
        # descriptor at /dev/null) end with exit 1, as in `ft-atlas --help | head -1`; ft-atlas
        # documents exit 0 for that.
        if code == EXIT_INTERNAL and _output_identity() != output:
            code = EXIT_OK
    except (KeyboardInterrupt, Exception) as error:  # noqa: BLE001 - report() sorts them out
        code = report(error, state.debug or debug_env())
    sys.exit(flush_stdout() or code)
