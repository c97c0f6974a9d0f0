"""`ft-atlas ask`: the guided questionnaire, prompting on stderr."""

import os
import re
import shutil
import sys
import textwrap
from typing import TYPE_CHECKING, Annotated, Any

import typer

from atlas_cli.cli.advise import render_recommendation
from atlas_cli.cli.app import Format, FormatOption, JsonOption, chosen_format, command, print_json, state
from atlas_cli.cli.options import profile_options, top_count
from atlas_cli.consoles import COLUMNS_BOUNDS
from atlas_cli.errors import InputEnded, UsageError, printable, stderr_closed
from atlas_cli.i18n import t
from atlas_cli.kb.vocabulary import DEFAULT_TOP, MAX_NAME_CHARS, MAX_TOP

if TYPE_CHECKING:
    from atlas_cli.kb.catalog import Catalog

# An option line ("  2. api              only a hosted API: ..."): its help hangs under itself.
OPTION_LINE = re.compile(r" *\d+\. +\S+ +")


def wrapped(text: str) -> str:
    """Text for a terminal, wrapped at its width, each line hanging under its own indent (an
    option's under its help): at 80 columns a 96-character option broke mid-word (a newcomer's
    review). Not a terminal (piped, a log): as it is."""
    if not sys.stderr.isatty():
        return text
    low, high = COLUMNS_BOUNDS
    width = min(max(_stderr_columns(), low), high) - 1
    lines = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        option = OPTION_LINE.match(line)
        hang = option.end() if option and option.end() < width // 2 else len(line) - len(line.lstrip()) + 2
        broken = textwrap.wrap(
            line, width, subsequent_indent=" " * hang, break_long_words=False, break_on_hyphens=False
        ) or [line]
        # A prompt keeps its trailing space: the answer is typed after it.
        lines += [*broken[:-1], broken[-1] + line[len(line.rstrip()) :]]
    return "\n".join(lines)


def _stderr_columns() -> int:
    """The width of the terminal the prompts go to (stderr's: stdout is often a file, as in
    `ft-atlas ask --json > plan.json`), else COLUMNS, else 80."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return shutil.get_terminal_size().columns


class StderrTerminal:
    """Prompts on stderr, answers from stdin: stdout stays free for the result."""

    def __init__(self) -> None:
        self.lines = 0  # answers read, for the message that names a refused piped one

    def ask(self, prompt: str) -> str:
        if stderr_closed() and sys.stdin is not None and sys.stdin.isatty():
            # A person at the terminal would answer questions never shown (`ask 2>&-`: a
            # newcomer's review): as when stderr's reader goes away, exit 1 (docs/security.md).
            raise BrokenPipeError
        sys.stderr.write(printable(wrapped(prompt)))
        sys.stderr.flush()
        if sys.stdin is None:  # started with stdin closed (`<&-`): no answer will come
            raise EOFError
        # At most one character past the limit, so that an endless line (`ask < /dev/zero`) is
        # refused, not read into memory (an attacker's review).
        line = sys.stdin.readline(MAX_NAME_CHARS + 2)
        if not line:
            raise EOFError
        self.lines += 1
        answer = line.rstrip("\r\n")
        if len(answer) > MAX_NAME_CHARS:
            raise UsageError(
                t("an answer longer than {limit} characters: no question takes one", limit=MAX_NAME_CHARS)
            )
        return answer

    def say(self, text: str) -> None:
        sys.stderr.write(printable(wrapped(text)) + "\n")


@command("Advise", prompts=True)
@profile_options()
def ask(
    raw: dict[str, Any],
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; use flags and defaults.")
    ] = False,
    top: Annotated[str, typer.Option(help=f"How many plans to show (1 to {MAX_TOP}).")] = str(DEFAULT_TOP),
    explain: Annotated[bool, typer.Option(help="Show every rule that fired.")] = False,
    fmt: FormatOption = Format.table,
    as_json: JsonOption = False,
) -> None:
    """Answer a few questions and get a plan, plus the `recommend` command that reproduces it.

    Flags prefill answers. Example: ft-atlas ask --gpu 3090 --json > plan.json
    """
    from atlas_cli.core.engine import Engine
    from atlas_cli.core.profile import command_line, parse_values, profile_from_values
    from atlas_cli.core.questionnaire import Interview
    from atlas_cli.render.documents import recommendation_json

    shown = top_count(top)
    catalog = state.catalog()
    prefilled = parse_values(raw)
    # Contradictory flags fail before any question is asked.
    profile_from_values(prefilled, gpus_to_come=not no_input)
    typed = sys.stdin is not None and sys.stdin.isatty()  # else answers come from a pipe or file
    terminal = StderrTerminal()
    interview = Interview(catalog, terminal, prefilled, piped=not typed)
    interview.check_prefilled()
    input_ended = False
    try:
        # Answers piped in (`printf 'weights\n3090\n' | ft-atlas ask`) are read as typed ones.
        answers = interview.run(interactive=not no_input)
    except UsageError as refused:
        if typed:
            raise
        raise UsageError(t("piped answer {line}: {error}", line=terminal.lines, error=refused)) from None
    except EOFError:
        if typed:  # Ctrl-D at a prompt: the person left
            raise InputEnded(t("input ended before the questionnaire was finished")) from None
        input_ended = True
        answers = interview.run(interactive=False)  # the questions left take their defaults
    if no_input or input_ended:
        reason = "--no-input" if no_input else t("stdin ended")
        defaulted = ", ".join(interview.defaulted)
        sys.stderr.write(
            printable(
                ("\n" if input_ended else "")  # the prompt the input ended at has no line end
                + "ft-atlas: "
                + t("not asking ({reason}); defaulted: {flags}", reason=reason, flags=defaulted)
                + "\n"
            )
        )
    chosen = chosen_format(fmt, as_json)
    # The questions were asked in the people's language; JSON never follows the locale.
    state.use_language(for_people=chosen is not Format.json)
    profile = profile_from_values(answers)
    rec = Engine(catalog).recommend(profile)
    command = command_line({**profile.to_dict(), **_catalog_gpu(catalog, profile.gpu, rec.profile)})
    if chosen is Format.json:
        print_json({**recommendation_json(rec, shown, explain), "command": command})
        return
    render_recommendation(rec, chosen, shown, explain)
    sys.stdout.write(printable("\n" + t("To get this again without questions:") + f"\n  {command}\n"))


def _catalog_gpu(catalog: "Catalog", typed: str | None, planned: dict[str, Any]) -> dict[str, Any]:
    """The GPU as the catalog names it, with the memory its words gave where that is not the card's
    own ("M3 Max 64GB": an attacker's review read the command back as a 36 GB Mac); a card the
    catalog does not hold ("4070 laptop 8gb") as it was typed."""
    card = catalog.gpus.get(str(planned.get("gpu")))
    if typed is None or card is None:  # also a free tier's name ("colab t4"), which says more
        return {}
    own = {"gpu": card.id}
    return own if planned.get("vram") in (None, card.memory_gib) else {**own, "vram": planned["vram"]}
