"""The typer app, the state of one invocation, and the one place that decides how results are
rendered. Command groups (lookup.py, knowledge_base.py, advise.py, ask.py) register on `app`.

Modules of this package do not postpone annotations (`from __future__ import annotations`):
typer would then evaluate every option's annotation string at start-up.
"""

import functools
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
import typer.core

from atlas_cli import __version__
from atlas_cli.errors import (
    OutputClosed,
    UsageError,
    WriteFailed,
    debug_env,
    printable,
    status,
    stdout_reader_gone,
    write_stdout,
)
from atlas_cli.i18n import LANG_ENV, choose_language, language, parse_language, set_language, t
from atlas_cli.kb.vocabulary import OUTPUT_SCHEMA_VERSION

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from atlas_cli.kb.catalog import Catalog
    from atlas_cli.kb.vocabulary import Lang
    from atlas_cli.render.grid import Grid


class Group(typer.core.TyperGroup):
    """The app: its --help is laid out like the commands' (cli/helptext.py), in the output language."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from atlas_cli.cli.helptext import group_help_view
        from atlas_cli.render.paste import print_view

        print_view(console(), group_help_view(self, ctx))


app = typer.Typer(
    name="ft-atlas",
    cls=Group,
    help="Advice on adapting a large language model to your GPU, model, data and goal.\n\n"
    "Examples:\n\n"
    "  ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat\n\n"
    "  ft-atlas estimate --model llama-3.1-8b --gpu 4090\n\n"
    "  ft-atlas show qlora",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Language(StrEnum):
    en = "en"
    ru = "ru"


class State:
    """Global options of this invocation, and the knowledge base they select (loaded once)."""

    def __init__(self) -> None:
        self.kb: Path | None = None
        self.no_color = False
        self.debug = False
        self.explicit_lang: Lang | None = None  # --lang, before or after the command
        self.told_no_cyrillic = False  # the language is chosen twice: before and in the command
        self._catalogs: dict[Path, Catalog] = {}

    @property
    def lang(self) -> "Lang":
        """The language of this command's output (chosen by use_language)."""
        return language()

    def use_language(self, for_people: bool) -> None:
        """--lang, else FT_ATLAS_LANG, else (for output people read) the locale. A terminal that
        cannot show Cyrillic gets English, and is told so."""
        env = os.environ.get(LANG_ENV)
        if env and parse_language(env) is None:
            raise UsageError(t("{name}: '{value}' is not en or ru", name=LANG_ENV, value=env))
        lang = choose_language(self.explicit_lang, for_people)
        if lang == "ru" and for_people and not _shows_cyrillic(sys.stdout):
            set_language("en")
            if not self.told_no_cyrillic:
                self.told_no_cyrillic = True
                sys.stderr.write(
                    f"ft-atlas: the terminal's encoding ({sys.stdout.encoding}) cannot show Russian; "
                    "output is in English (set a UTF-8 locale, e.g. LANG=ru_RU.UTF-8)\n"
                )
            return
        set_language(lang)

    def catalog(self, kb: Path | None = None) -> "Catalog":
        """The catalog of `kb`, else of the KB the command line chose."""
        from atlas_cli.kb.cache import load_cached_catalog
        from atlas_cli.kb.files import resolve_kb_path

        path = resolve_kb_path(kb or self.kb)
        if path not in self._catalogs:
            self._catalogs[path] = load_cached_catalog(path)
        return self._catalogs[path]


state = State()


def _shows_cyrillic(stream: Any) -> bool:
    try:
        "Ёё".encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", case_sensitive=False, help="Output format: table, json or markdown."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]


def chosen_format(fmt: Format, as_json: bool) -> Format:
    """--json, else --format; --json beside --format markdown is said (a newcomer's review got JSON
    without a word)."""
    if as_json and fmt is Format.markdown:
        status(t("warning: --json and --format markdown: --json is used"))
    return Format.json if as_json else fmt


def _plain() -> bool:
    """No colour and no styles: --no-color, NO_COLOR (https://no-color.org) or TERM=dumb."""
    return state.no_color or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def console(stderr: bool = False) -> "Console":
    from atlas_cli.render.terminal import Terminal

    # emoji=False: a ":smile:" in a knowledge-base text is shown as written, not as an emoji.
    return Terminal(stderr=stderr, color_system=None if _plain() else "auto", highlight=False, emoji=False)


def print_json(data: Any) -> None:
    from atlas_cli.render.documents import write_json

    write_json(data)


def emit(fmt: Format, data: Any, view: "Callable[[], RenderableType]", markdown: Callable[[], str]) -> None:
    """One place decides rendering: JSON, Markdown or a rich view, always to stdout."""
    if fmt is Format.json:
        print_json(data)
    elif fmt is Format.markdown:
        sys.stdout.write(printable(markdown()))
    else:
        from atlas_cli.render.paste import print_view

        print_view(console(), view())


def emit_grid(fmt: Format, data: Any, grid: "Grid") -> None:
    from atlas_cli.render.grid import markdown_table, rich_table

    emit(fmt, data, lambda: rich_table(grid), lambda: markdown_table(grid))


def emit_listing(fmt: Format, key: str, items: Sequence[Any], grid: "Grid") -> None:
    """A catalog listing: the KB entries as stored (JSON) or as a table."""
    from atlas_cli.render.documents import dumped

    emit_grid(
        fmt,
        {"schema_version": OUTPUT_SCHEMA_VERSION, key: dumped(items)},
        grid,
    )


GLOBAL_PANEL = "Global options (also before the command)"
KbOption = typer.Option(
    "--kb", help="Knowledge base: a YAML file or directory.", rich_help_panel=GLOBAL_PANEL
)
NoColorOption = typer.Option("--no-color", help="Plain output without colour.", rich_help_panel=GLOBAL_PANEL)
LANG_HELP = (
    "Output language: en or ru (default: FT_ATLAS_LANG, else the locale; JSON: English unless "
    "--lang or FT_ATLAS_LANG says ru)."
)
LangOption = typer.Option("--lang", help=LANG_HELP, rich_help_panel=GLOBAL_PANEL)
DebugOption = typer.Option(
    "--debug", help="Show tracebacks of internal errors.", rich_help_panel=GLOBAL_PANEL
)

# The global options, accepted after the command as well: `ft-atlas categories --lang ru` is
# what people type (and what the commands' own examples show).
_GLOBAL_PARAMETERS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, default, annotation in (
        ("global_kb", None, Annotated[Optional[str], KbOption]),
        ("global_no_color", False, Annotated[bool, NoColorOption]),
        ("global_lang", None, Annotated[Optional[Language], LangOption]),
        ("global_debug", False, Annotated[bool, DebugOption]),
    )
]


def _apply_global_options(kwargs: dict[str, Any]) -> None:
    """Global options given after the command override those given before it."""
    kb, lang = kwargs.pop("global_kb"), kwargs.pop("global_lang")
    if kb is not None:
        from atlas_cli.kb.files import given_kb_path

        state.kb = given_kb_path(kb)  # an empty path is refused wherever --kb is given
    if lang is not None:
        state.explicit_lang = "ru" if lang is Language.ru else "en"
    state.no_color = kwargs.pop("global_no_color") or state.no_color
    state.debug = kwargs.pop("global_debug") or state.debug


class Command(typer.core.TyperCommand):
    """A command whose --help reads well at any width (cli/helptext.py)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from atlas_cli.cli.helptext import help_view
        from atlas_cli.render.paste import print_view

        print_view(console(), help_view(self, ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from atlas_cli.cli.options import given_values, repeated_warnings

        seen = given_values(self.params, args)
        kb = seen["--kb"][-1] if "--kb" in seen else None  # a --kb after the command is the one read
        for warning in repeated_warnings(seen, args, functools.partial(_card_of, kb=kb)):
            status(warning)
        return super().parse_args(ctx, args)


def _card_of(gpu: str, kb: str | None) -> str | None:
    """The catalog GPU `gpu` names in the KB the command reads (`kb`: a --kb given after the
    command), None where it names none (or the knowledge base cannot be read: the command itself
    then says why)."""
    from atlas_cli.errors import AtlasError
    from atlas_cli.kb.files import given_kb_path

    try:
        path = None if kb is None else given_kb_path(kb)
        if path is not None and not (path.is_file() or path.is_dir()):
            return None  # a pipe (--kb <(...)) is the command's to read, once (a diff review)
        return state.catalog(path).gpu(gpu).id
    except AtlasError:
        return None


def for_scripts(kwargs: dict[str, Any]) -> bool:
    """Whether a command's output is for scripts (JSON, JSON Lines): its language never follows
    the locale."""
    return bool(kwargs.get("as_json")) or kwargs.get("fmt") is Format.json or kwargs.get("batch") is not None


def command(panel: str, prompts: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command under a --help panel, with the global options. A reader that goes
    away (`ft-atlas methods | head -1`) ends it quietly with exit 0: click would turn the
    BrokenPipeError into exit 1. A command that `prompts` asks in the people's language, and
    chooses its output's language itself."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> None:
            _apply_global_options(kwargs)
            state.use_language(for_people=prompts or not for_scripts(kwargs))
            try:
                func(*args, **kwargs)
            except BrokenPipeError:
                if stdout_reader_gone():
                    raise OutputClosed from None
                # stderr's reader went away (ask's prompts): the result was never written
                raise WriteFailed(t("the reader of stderr went away")) from None

        own = inspect.signature(func, eval_str=True)
        setattr(run, "__signature__", own.replace(parameters=[*own.parameters.values(), *_GLOBAL_PARAMETERS]))  # noqa: B010
        app.command(cls=Command, rich_help_panel=panel)(run)
        return run

    return register


def _version(value: bool) -> None:
    if value:
        raise typer.Exit(write_stdout(f"ft-atlas {__version__}\n"))


@app.callback()
def main_options(
    kb: Annotated[
        Optional[str],
        typer.Option("--kb", envvar="FT_ATLAS_KB", help="Knowledge base: a YAML file or directory."),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain output without colour.")] = False,
    lang: Annotated[Optional[Language], typer.Option("--lang", help=LANG_HELP)] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    from atlas_cli.kb.files import given_kb_path

    state.kb = None if kb is None else given_kb_path(kb)
    state.no_color = no_color
    state.explicit_lang = None if lang is None else "ru" if lang is Language.ru else "en"
    state.debug = debug or debug_env()


# --- catalog commands ------------------------------------------------------------------------
