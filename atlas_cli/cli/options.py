"""Options defined once and shared by commands: the profile's fields as flags (from
PROFILE_FIELDS), and the estimator's settings. Two commands can never disagree about a flag."""

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, Optional

import typer
import typer.core

from atlas_cli.core.profile import FIELDS_BY_NAME, PROFILE_FIELDS, ProfileField, parse_whole
from atlas_cli.errors import UsageError, not_one_of, printable
from atlas_cli.i18n import t
from atlas_cli.kb.vocabulary import MAX_TOP


def _profile_option(field: ProfileField) -> inspect.Parameter:
    panel = f"Profile: {field.group}"
    if field.kind == "flag":
        option = typer.Option(field.flag, help=field.help, rich_help_panel=panel)
        annotation: Any = Annotated[Optional[bool], option]
    else:
        # Separated by spaces so that help text wraps between the choices.
        choices = f" One of: {', '.join(c.value for c in field.choices)}." if field.choices else ""
        option = typer.Option(field.flag, help=field.help + choices, rich_help_panel=panel)
        annotation = Annotated[Optional[str], option]
    return inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def profile_options(
    names: Sequence[str] | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command one option per profile field (all, or the named ones); the values reach it
    as a dict `raw` keyed by field name, None where the flag was not given."""
    fields = PROFILE_FIELDS if names is None else tuple(FIELDS_BY_NAME[n] for n in names)

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        def wrapper(**kwargs: Any) -> None:
            raw = {f.name: kwargs.pop(f.name) for f in fields}
            func(raw=raw, **kwargs)

        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "raw"]
        signature = inspect.Signature(
            [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
            + [_profile_option(f) for f in fields]
        )
        setattr(wrapper, "__signature__", signature)  # noqa: B010 - typer reads it
        wrapper.__doc__ = func.__doc__
        wrapper.__name__ = func.__name__
        return wrapper

    return decorate


def one_of(flag: str, value: str | None, names: Sequence[str]) -> str | None:
    """A value that must be one of `names` (a vocabulary table's keys), or None."""
    if value is not None and value not in names:
        raise UsageError(not_one_of(flag, value, names))
    return value


def top_count(text: str) -> int:
    """--top: how many plans to show, read like every other number (core/profile.py)."""
    return parse_whole(text, "--top", 1, MAX_TOP)


def given_values(params: Sequence[Any], args: Sequence[str]) -> dict[str, list[str]]:
    """The values given to each option that takes one value, in order, under its long name (as
    people type it: -f is --format)."""
    single = {
        name: param
        for param in params
        if isinstance(param, typer.core.TyperOption)
        and not (param.is_flag or param.multiple or param.count)
        and param.nargs == 1
        for name in param.opts
    }
    seen: dict[str, list[str]] = {}
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            break
        name, value = _option_value(token, single, tokens)
        if name is not None and value:
            seen.setdefault(max(single[name].opts, key=len), []).append(value)
    return seen


def repeated_warnings(
    seen: dict[str, list[str]], args: Sequence[str], card_of: Callable[[str], str | None]
) -> list[str]:
    """Warnings for an option that takes one value given more than once (`seen`: given_values).
    click keeps the last, which lets a script or alias override a default (kept), but a senior
    reviewer's `--gpu 4090 --gpu 3090`, meaning two cards, was answered for one RTX 3090 without a
    word. `card_of` names the catalog GPU a --gpu value is (None for no card), so that `--gpu 4090
    --gpu rtx-4090` is one kind of card, not a mix."""
    given_gpus = any(token == "--gpus" or token.startswith("--gpus=") for token in args)
    warnings = []
    for flag, values in seen.items():
        same = _one_value(values, card_of if flag == "--gpu" else None)
        # The same value again is news only as --gpu without --gpus (two cards meant, one planned).
        if not same or (flag == "--gpu" and len(values) > 1 and not given_gpus):
            warnings.append(_repeated_warning(flag, values, same))
    return warnings


def _one_value(values: list[str], card_of: Callable[[str], str | None] | None) -> bool:
    if len({v.casefold() for v in values}) == 1:
        return True
    # Only a --gpu given as different words asks the catalog (loaded then, not on every start).
    cards = {card_of(v) for v in values} if card_of is not None else {None}
    return len(cards) == 1 and None not in cards


def _option_value(token: str, single: dict[str, Any], tokens: Iterator[str]) -> tuple[str | None, str]:
    """The option `token` names and its value: `--name value`, `--name=value`, `-f value`, `-fvalue`."""
    name, has_value, value = token.partition("=")
    if name in single:
        return name, value if has_value else next(tokens, "")
    short = token[:2]
    if not token.startswith("--") and len(token) > 2 and short in single:
        return short, token[2:]
    return None, ""


def _repeated_warning(flag: str, values: list[str], same: bool) -> str:
    shown = ", ".join(f"'{printable(v)}'" for v in values)
    if flag != "--gpu":
        return t(
            "warning: {flag} is given more than once ({values}): the last is used",
            flag=flag,
            values=shown,
        )
    if same:
        return t(
            "warning: --gpu is given more than once: one GPU is planned for; for several of one kind, give "
            "--gpus (--gpu {gpu} --gpus {count})",
            gpu=printable(values[0]),
            count=len(values),
        )
    return t(
        "warning: --gpu is given more than once ({values}): the last is used. ft-atlas plans for GPUs of one "
        "kind: for a mix, give the card with the least memory and --gpus for how many (training spread over "
        "the cards fits in the smallest), then check the time and precision with the slowest or oldest "
        "card as --gpu (a V100 or T4 has no bf16)",
        values=shown,
    )
