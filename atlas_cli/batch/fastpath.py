"""`ft-atlas recommend ... --json` and `recommend --batch FILE` without typer, for scripts.

typer builds a pydantic validator for every option of a command each time it runs, which costs
more than the recommendation itself. A plain `recommend` whose output is JSON needs none of
that: its options are the profile's (from PROFILE_FIELDS, as for the full command line) plus
--top, --explain, the output format and the knowledge base (--kb, also before the command).
A batch needs none of it either, and typer with pydantic would stay in each of its processes
(~14 MB of resident memory apiece). Anything else (--help, another global option, another
command, a repeated or malformed option, an out-of-range --top) is left to the full command
line, so that every message and exit code stays typer's. tests/test_fastpath.py checks that
both paths print the same bytes and exit with the same code.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from atlas_cli.core.profile import FIELDS_BY_NAME
from atlas_cli.i18n import LANG_ENV, parse_language, set_language
from atlas_cli.kb.vocabulary import DEFAULT_TOP, MAX_TOP

if TYPE_CHECKING:
    from atlas_cli.core.engine import Engine

_BARE = {"--json": ("json", True), "--explain": ("explain", True), "--no-explain": ("explain", False)}
_VALUED = {"--top": "top", "--format": "format", "-f": "format", "--kb": "kb", "--batch": "batch"}


def _options() -> tuple[dict[str, str], dict[str, tuple[str, bool]]]:
    """Options that take a value, and bare flags with the value they set."""
    valued, flags = dict(_VALUED), dict(_BARE)
    for field in FIELDS_BY_NAME.values():
        if field.kind == "flag":
            flags[field.flag] = (field.name, True)
        else:
            valued[field.flag] = field.name
    return valued, flags


def _parse(args: list[str]) -> dict[str, str | bool] | None:
    """`--name value`, `--name=value`, `-f value` and bare flags, each at most once; else None."""
    valued, flags = _options()
    given: dict[str, str | bool] = {}
    tokens = iter(args)
    for token in tokens:
        name, has_value, value = token.partition("=") if token.startswith("--") else (token, "", "")
        parsed: str | bool
        if name in flags and not has_value:
            key, parsed = flags[name]
        elif name in valued:
            key, text = valued[name], value if has_value else next(tokens, "")
            if not text or (text.startswith("-") and (key, text) != ("batch", "-")):
                return None  # typer decides what a missing or dash-led value means
            parsed = text
        else:
            return None
        if key in given:
            return None
        given[key] = parsed
    return given


def recommend_json(args: list[str]) -> int | None:
    """Run `recommend` when `args` ask for JSON or a batch and nothing else this module
    handles; return its exit code, or None for the full command line to take over."""
    split = _global_kb(args)
    if split is None:
        return None
    kb, args = split
    if not args or args[0] != "recommend":
        return None
    given = _parse(args[1:])
    if given is None or not _handled(given) or (kb is not None and "kb" in given):
        return None
    if "kb" in given:
        kb = str(given.pop("kb"))
    if kb is not None and not kb.strip():
        return None  # the full command line's message for an empty path
    top = str(given.pop("top", DEFAULT_TOP))
    if not (top.isascii() and top.isdigit() and 1 <= int(top) <= MAX_TOP):
        return None
    explain = given.pop("explain", False) is True
    lang = os.environ.get(LANG_ENV)
    if lang and parse_language(lang) is None:
        return None  # the full command line says what is wrong with it
    set_language(parse_language(lang) or "en")  # JSON: never the locale's language
    if "batch" in given:
        return _run_batch(str(given["batch"]), int(top), explain, kb)
    # In PROFILE_FIELDS order, as the full command line passes them: with several bad values,
    # the first one reported is the same.
    profile = {name: given[name] for name in FIELDS_BY_NAME if name in given}
    return _run(profile, int(top), explain, kb)


def _global_kb(args: list[str]) -> tuple[str | None, list[str]] | None:
    """A leading global `--kb PATH` (or `--kb=PATH`) apart from the arguments after it; None
    when it has no value."""
    first = args[0] if args else ""
    if first == "--kb":
        if len(args) < 2 or args[1].startswith("-"):
            return None
        return args[1], args[2:]
    if first.startswith("--kb="):
        return first.removeprefix("--kb="), args[1:]
    return None, args


def _handled(given: dict[str, str | bool]) -> bool:
    """JSON asked for; or a batch, which writes JSON Lines whatever the format, where the full
    command line has the messages for profile options and Markdown beside it."""
    fmt = given.get("format")
    if fmt is not None and str(fmt).lower() not in ("json", "table", "markdown"):
        return False  # an invalid --format: typer's message
    if "batch" in given:
        return str(fmt).lower() != "markdown" and not any(name in given for name in FIELDS_BY_NAME)
    if given.get("json") is True and str(fmt).lower() == "markdown":
        return False  # both: the full command line says which is used
    return given.get("json") is True or str(fmt).lower() == "json"


def _run(raw: dict[str, str | bool], top: int, explain: bool, kb: str | None) -> int:
    from atlas_cli.kb.heap import collector_paused

    # One recommendation, then the process ends: the cyclic collector would only walk the
    # modules and the KB as they load, looking for cycles (~15 ms of a ~220 ms run).
    return collector_paused(_recommend)(raw, top, explain, kb)


def _run_batch(source: str, top: int, explain: bool, kb: str | None) -> int:
    from atlas_cli.errors import debug_env, flush_stdout, report

    debug = debug_env()
    try:
        from atlas_cli.batch.runner import run_batch
        from atlas_cli.consoles import console_environment

        # The progress display on a terminal is rich's, as under the full command line.
        with console_environment(bool(os.environ.get("NO_COLOR"))):
            code = run_batch(_engine(kb), source, top=top, explain=explain, debug=debug)
        return flush_stdout() or code
    except (KeyboardInterrupt, Exception) as error:  # noqa: BLE001 - report() sorts them out
        return report(error, debug)


def _engine(kb: str | None) -> Engine:
    from pathlib import Path

    from atlas_cli.core.engine import Engine
    from atlas_cli.kb.cache import load_cached_catalog
    from atlas_cli.kb.files import resolve_kb_path

    return Engine(load_cached_catalog(resolve_kb_path(None if kb is None else Path(kb))))


def _recommend(raw: dict[str, str | bool], top: int, explain: bool, kb: str | None) -> int:
    from atlas_cli.errors import debug_env, flush_stdout, report

    try:
        from atlas_cli.core.profile import build_profile
        from atlas_cli.render.documents import recommendation_json, write_json

        rec = _engine(kb).recommend(build_profile(raw))
        write_json(recommendation_json(rec, top, explain))
        return flush_stdout()
    except (KeyboardInterrupt, Exception) as error:  # noqa: BLE001 - report() sorts them out
        return report(error, debug_env())
