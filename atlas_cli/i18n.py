"""The language of ft-atlas's output: English, or Russian from a translation catalog.

Every text ft-atlas shows is written in English in the code or the knowledge base; the English
text is also its key in the Russian catalog (gettext style), `data/translations/ru/*.yaml`:

    - en: "{flag}: '{value}' is not one of {choices}"
      ru: "{flag}: '{value}' — не из списка: {choices}"

`t(english, **values)` returns the text in the current language, with the values filled in (the
two languages share the placeholders); a text without a translation falls back to English.
`N_(english)` only marks a text that is translated later, where it is shown, with `t(variable)`.
A text with a count in it is `nt(one, other, count, **values)` (gettext's ngettext): English picks
`one` or `other`, Russian one of three catalog entries of `other`, told apart by their context
(PLURAL_CONTEXTS: «1 пример», «2 примера», «5 примеров»).
Knowledge-base texts that carry their own `ru:` (the guide's wording) use it; the others are
looked up in the same catalog (kb/schema.py's Text).

The language is chosen once per command (cli/app.py): `--lang`, else FT_ATLAS_LANG, else — for
output read by people only — the locale. English costs nothing: the catalog is read only when
the language is Russian. `python scripts/missing_translations.py` lists what is missing.

This module imports nothing of ft-atlas at import time, so every layer may use it.
"""

from __future__ import annotations

import functools
import math
import os
import re
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, get_args

Lang = Literal["en", "ru"]
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)
LANG_ENV: Final = "FT_ATLAS_LANG"
# The locale variables, in the order POSIX gives them precedence.
LOCALE_ENV: Final = ("LC_ALL", "LC_MESSAGES", "LANG")

CONTEXT_SEPARATOR: Final = "\x04"  # between a context and its text in catalog keys, as in gettext

_current: Lang = "en"


def language() -> Lang:
    return _current


def set_language(lang: Lang) -> None:
    global _current
    _current = lang


def parse_language(text: str | None) -> Lang | None:
    """'ru', 'RU', ' en ', and a locale's name ('ru_RU.UTF-8', 'en_US': what a LANG-style variable
    holds, an attacker's review found refused) -> the language; anything else (or nothing) -> None."""
    found = re.fullmatch(r"(ru|en)(?:[_.@-][\w.@-]*)?", (text or "").strip().lower())
    return None if found is None else "ru" if found.group(1) == "ru" else "en"


def env_language() -> Lang | None:
    """FT_ATLAS_LANG, when it names a language (checked by the command line, which says so)."""
    return parse_language(os.environ.get(LANG_ENV))


def locale_language() -> Lang:
    """The language of the user's locale: ru for ru_RU.UTF-8, ru_UA, ru; en otherwise (C, POSIX,
    en_US.UTF-8, de_DE...). The first of LC_ALL, LC_MESSAGES and LANG that is set decides."""
    for name in LOCALE_ENV:
        value = os.environ.get(name)
        if value:
            return "ru" if re.match(r"ru(?:[_.@-]|$)", value, re.IGNORECASE) else "en"
    return "en"


def choose_language(explicit: Lang | None, for_people: bool) -> Lang:
    """--lang (explicit), else FT_ATLAS_LANG, else the locale for output people read. Scripts'
    output (JSON) never follows the locale: it must not change with the user's environment."""
    if explicit is not None:
        return explicit
    from_env = env_language()
    if from_env is not None:
        return from_env
    return locale_language() if for_people else "en"


def N_(text: str) -> str:
    """Marks `text` for the translation catalog (gettext's name); `t(variable)` translates it where
    it is shown."""
    return text


# In Russian a comma between digits is a decimal comma: thousands are grouped with a space.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
CYRILLIC: Final = re.compile("[А-Яа-яЁё]")  # text written in Russian


class _RussianNumbers(string.Formatter):
    """Fills a Russian template. A comma that groups thousands in a value ({usd:,.2f}, a count
    already formatted as "1,846") becomes a no-break space, as Russian writes it (a comma there
    is the decimal comma); what the user typed (the `text` placeholder of error messages) is
    shown as typed."""

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        value = super().get_value(key, args, kwargs)
        return _AsTyped(value) if key == "text" and isinstance(value, str) else value

    def format_field(self, value: Any, format_spec: str) -> str:
        text: str = super().format_field(value, format_spec)
        if isinstance(value, (_AsTyped, _Localized)) or (isinstance(value, str) and CYRILLIC.search(value)):
            return text  # written in Russian already (joined texts lose the _Localized mark)
        if isinstance(value, float):  # a computed figure: Russian writes its decimal comma
            return _DECIMAL_POINT.sub(",", _THOUSANDS.sub("\u00a0", text))
        return _THOUSANDS.sub("\u00a0", text)


class _AsTyped(str):
    pass


class _Localized(str):
    """Text t() or number() already wrote in Russian: filled into another template as it is (its
    "0,675" is a decimal comma, not thousands to group)."""


_RUSSIAN_NUMBERS: Final = _RussianNumbers()


def t(text: str, /, **values: object) -> str:
    """`text` in the current language, with `values` filled into its placeholders."""
    if _current == "en":
        return text.format(**values) if values else text
    russian = catalog().get(text)
    if russian is None:
        return text.format(**values) if values else text
    if not values:
        return russian
    try:
        return _Localized(_RUSSIAN_NUMBERS.format(russian, **values))
    except (KeyError, IndexError, ValueError):  # a broken translation: validate --strict reports it
        return text.format(**values)


def grouped(value: float) -> str:
    """A whole number with its thousands grouped: 12,345 in English, 12 345 in Russian."""
    return number(value, ",.0f")


def number(value: float, spec: str) -> str:
    """`value` formatted by `spec` as the current language writes it: 1,234.5 in English,
    1 234,5 in Russian."""
    return _in_language(format(value, spec))


def _in_language(text: str) -> str:
    """A number written the English way (1,234.5), as the current language writes it."""
    return text if _current == "en" else _Localized(_DECIMAL_POINT.sub(",", _THOUSANDS.sub("\u00a0", text)))


def parameters(billions: float) -> str:
    """A parameter count given in billions as people write it: 70.554B, 0.135B, and below a
    million in thousands (8.1K), never 0B."""
    if billions == 0 or billions >= 0.001:
        return number(billions, "g") + "B"
    return number(billions * 1e6, "g") + "K"


def significant(value: float, digits: int = 3) -> str:
    """`value` to at most `digits` significant digits, written out as people read a quantity
    (67,700, 0.0576 and 2, never 6.77e+04, 5.76e-05 or 2.00), in the current language; below
    0.001, "<0.001"."""
    if value == 0:
        return number(0, "d")
    if abs(value) < SMALLEST_SHOWN:
        # Already in the language: filled into a template, its "0,001" is not thousands to group.
        return _Localized("<" + number(SMALLEST_SHOWN, "g"))
    places = digits - 1 - math.floor(math.log10(abs(value)))  # decimals that keep `digits` digits
    text = format(round(value, places), f",.{max(0, places)}f")
    return _in_language(text.rstrip("0").rstrip(".") if "." in text else text)


SMALLEST_SHOWN = 0.001


# The CLDR plural categories of the two languages: English one/other, Russian one/few/many (its
# "other", for fractions, reads like few: «1,5 эпохи», so fractions take few).
RussianForm = Literal["one", "few", "many"]
# The context of each Russian form's catalog entry; it names the counts the form is for, which is
# what a translator needs to write it.
PLURAL_CONTEXTS: Final[dict[RussianForm, str]] = {
    "one": "count: one (1, 21, 101)",
    "few": "count: few (2-4, 22-24, 1.5)",
    "many": "count: many (0, 5-20, 25-30, 111)",
}


def english_form(count: float) -> Literal["one", "other"]:
    """The CLDR plural category of `count` in English; a whole float (2.0) counts as its integer."""
    return "one" if count == 1 else "other"


def russian_form(count: float) -> RussianForm:
    """The CLDR plural category of `count` in Russian; fractions read like few («1,5 эпохи»)."""
    if count != int(count):
        return "few"
    n = abs(int(count))
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "many"


def nt(one: str, other: str, count: float, /, **values: object) -> str:
    """The template for `count` (gettext's ngettext), with `values` filled in: `one` or `other` in
    English; in Russian the catalog entry of `other` whose context is the count's form. `count`
    only chooses the form: pass it among `values` too where the template shows it."""
    english = one if english_form(count) == "one" else other
    if _current == "en":
        return english.format(**values)
    russian = catalog().get(catalog_key(other, PLURAL_CONTEXTS[russian_form(count)]))
    if russian is None:  # not translated yet: English, in its own form
        return english.format(**values)
    try:
        return _Localized(_RUSSIAN_NUMBERS.format(russian, **values))
    except (KeyError, IndexError, ValueError):  # a broken translation: validate --strict reports it
        return english.format(**values)


def pt(context: str, text: str) -> str:
    """A short word whose translation depends on what it describes (gettext's pgettext): the
    rating "high" is «высокая» память but «высокое» качество. Catalog entries carry `context:`."""
    if _current == "en":
        return text
    return catalog().get(f"{context}{CONTEXT_SEPARATOR}{text}", text)


def translated(text: str) -> str:
    """A knowledge-base text (never a template) in the current language."""
    if _current == "en":
        return text
    return catalog().get(text, text)


def stage_label(name: str) -> str:
    """How a plan shows one of its stages, from the objective's knowledge-base name, in the current
    language: the acronym the name ends with ("Direct Preference Optimization (DPO)": DPO), else
    the name in lower case ("continued pre-training"; "RLHF with PPO" keeps its capitals)."""
    text = translated(name)
    if text.endswith(")") and " (" in text:
        return text.rsplit(" (", 1)[1][:-1]
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def translations_dir() -> Path:
    """data/translations/ru beside the bundled knowledge base (inside the wheel, or the checkout)."""
    from atlas_cli.kb.files import bundled_kb_path

    return bundled_kb_path() / "translations" / "ru"


@functools.cache
def catalog() -> dict[str, str]:
    """English -> Russian, read once, on first use (only ever in Russian)."""
    return load_catalog(translations_dir())


def catalog_key(english: str, context: object = None) -> str:
    return f"{context}{CONTEXT_SEPARATOR}{english}" if isinstance(context, str) and context else english


def load_catalog(folder: Path) -> dict[str, str]:
    """Every `- {en, ru}` entry of the folder's YAML files; an empty `ru` counts as missing.
    Unreadable files are skipped here (output falls back to English); validate --strict reports
    them."""
    import yaml

    try:
        from yaml import CSafeLoader as Loader
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        from yaml import SafeLoader as Loader  # type: ignore[assignment]

    found: dict[str, str] = {}
    for file in sorted(folder.glob("*.yaml")):
        try:
            entries = yaml.load(file.read_text(encoding="utf-8"), Loader=Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("en"), str) and entry.get("ru"):
                found[catalog_key(entry["en"], entry.get("context"))] = str(entry["ru"])
    return found
