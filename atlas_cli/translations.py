"""Which English texts have no Russian yet, and where they are: `ft-atlas validate --strict`,
`python scripts/missing_translations.py` and tests/test_translations.py all ask this module.

A text to translate is
- a knowledge-base text: every `Text` (summaries, use/avoid, data, hardware, pitfalls,
  hyperparameter notes, categories, comparison labels, tool notes, rules' `because`, the guide's
  corrections...), and the few plain strings shown translated (library notes, trainable shares,
  variant labels); one with its own `ru:` (the guide's wording) needs nothing more;
- a text of the program: the literal of every `t("...")`, `N_("...")` and `pt("...", "...")` call
  in atlas_cli/ (found by reading the source), and the plural of every `nt("...", "...", n)`, once
  for each Russian form (i18n.PLURAL_CONTEXTS), the profile's questions, help and labels, the
  vocabulary's choices, the rating words, and every text `--help` shows (given by the command
  line, which knows its commands).

Each is looked up in the catalog (data/translations/ru/*.yaml, see i18n.py), which is checked too:
entries are `{en, ru[, context]}`, each English text once, and a template's placeholders are the
same in both languages.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_cli.errors import one_line
from atlas_cli.i18n import CONTEXT_SEPARATOR, PLURAL_CONTEXTS, catalog_key, translations_dir
from atlas_cli.kb.behaviour import MEMORY_SCALE, QUALITY_SCALE, SPEED_SCALE, Record
from atlas_cli.kb.records import (
    HostedOffer,
    Hyperparameter,
    KnowledgeBase,
    LargeSets,
    LibraryEntry,
    Method,
    RatingCorrection,
    Text,
    TrainableShare,
    Variant,
)
from atlas_cli.kb.yamlsafe import PathKey, Position

PACKAGE = Path(__file__).resolve().parent
UI_FILE = "ui.yaml"  # the program's own texts; a KB file's texts go to the catalog file of its name
HELP_FILE = "help.yaml"  # what --help shows
# Plain strings of the KB that are shown translated (by i18n.translated, where they are shown).
SHOWN_TRANSLATED: tuple[tuple[type[Record], str], ...] = (
    (HostedOffer, "models"),
    (Hyperparameter, "source"),
    (LargeSets, "source"),
    (LibraryEntry, "entry"),
    (LibraryEntry, "note"),
    (Method, "name"),
    (RatingCorrection, "source"),
    (TrainableShare, "text"),
    (Variant, "label"),
)


@dataclass(frozen=True, slots=True)
class Source:
    """One English text and where it is."""

    where: str  # file:line:column, or what defines it ("profile field gpu: question")
    text: str
    catalog_file: str  # the catalog file its translation belongs in (ui.yaml, methods.yaml, ...)
    context: str | None = None  # pt()'s context: the same English word translated differently
    has_russian: bool = False  # carries its own Russian (a KB text's `ru:`)

    @property
    def key(self) -> str:
        return catalog_key(self.text, self.context)


# --- the knowledge base ---------------------------------------------------------------------


def kb_texts(kb: KnowledgeBase, locate: Callable[[PathKey], Position]) -> list[Source]:
    """Every text of the KB, with the file, line and column it was read from."""
    found: list[Source] = []
    for path, value, is_text in _walk(kb, ()):
        where = _relative(locate(path))
        catalog_file = Path(where.file).name if where.file.endswith(".yaml") else UI_FILE
        if is_text:
            assert isinstance(value, Text)
            found.append(Source(f"{where}", value.en, catalog_file, has_russian=bool(value.ru)))
        else:
            found.append(Source(f"{where}", str(value), catalog_file))
    return found


def _relative(position: Position) -> Position:
    """`data/methods.yaml:12:5` rather than the absolute path, when the file is under the current
    directory."""
    try:
        return position._replace(file=Path(position.file).resolve().relative_to(Path.cwd()).as_posix())
    except ValueError:
        return position


def _walk(item: Any, path: PathKey) -> Iterator[tuple[PathKey, Any, bool]]:
    if isinstance(item, Text):
        yield path, item, True
        return
    if isinstance(item, Record):
        shown = {name for model, name in SHOWN_TRANSLATED if isinstance(item, model)}
        for name, key in item.FIELDS:
            value = getattr(item, name)
            if name in shown and isinstance(value, str):
                yield (*path, key), value, False
            elif name in shown and isinstance(value, list):
                yield from (((*path, key, index), text, False) for index, text in enumerate(value))
            else:
                yield from _walk(value, (*path, key))
    elif isinstance(item, list | tuple):
        for index, value in enumerate(item):
            yield from _walk(value, (*path, index))
    elif isinstance(item, dict):
        for key, value in item.items():
            yield from _walk(value, (*path, key))


# --- the program ----------------------------------------------------------------------------

MARKERS = {"t", "N_"}


def code_texts(package: Path = PACKAGE) -> tuple[list[Source], list[str]]:
    """The literals of every t(), N_(), pt() and nt() call in the package's source, and the
    problems found on the way (an f-string passed to t() cannot be looked up: it must be a
    template)."""
    found: list[Source] = []
    problems: list[str] = []
    for file in sorted(package.rglob("*.py")):
        relative = file.relative_to(package.parent).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=relative)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            where = f"{relative}:{node.lineno}:{node.col_offset + 1}"
            name, args = node.func.id, node.args
            if name in MARKERS:
                texts = _literals(args[0])
                if texts is None:
                    problems.append(f"{where}: {name}() of an f-string: pass a template and its values")
                found += [Source(where, text, UI_FILE) for text in texts or ()]
            elif name == "pt" and len(args) == 2 and all(isinstance(a, ast.Constant) for a in args):
                context, text = (a.value for a in args)  # type: ignore[attr-defined]
                if isinstance(context, str) and isinstance(text, str):
                    found.append(Source(where, text, UI_FILE, context))
            elif name == "nt":
                plural = _plural(args)
                if plural is None:
                    problems.append(f"{where}: nt() takes the literals of its two forms")
                else:
                    found += [Source(where, plural, UI_FILE, ctx) for ctx in PLURAL_CONTEXTS.values()]
    return found, problems


def _plural(args: list[ast.expr]) -> str | None:
    """nt()'s English plural, the key of its Russian forms; None unless both forms are literals (a
    variable could not be found in the catalog)."""
    forms = [a.value for a in args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return forms[1] if len(forms) == 2 else None


def _literals(node: ast.expr) -> list[str] | None:
    """The texts a t() argument can be: a literal, either literal of `a if c else b`; [] for a
    variable (marked where it is defined); None for an f-string (which cannot be looked up)."""
    if isinstance(node, ast.JoinedStr):
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return []


def defined_texts() -> list[Source]:
    """Texts the program keeps as data: the profile's questions, the vocabulary's choices, the
    words of ratings, kinds and sources that tables show (pt() with a variable)."""
    from atlas_cli.core.profile import PROFILE_FIELDS
    from atlas_cli.kb import vocabulary
    from atlas_cli.kb.vocabulary import METHOD_KINDS, MODEL_VARIANTS

    found: list[Source] = []
    for field in PROFILE_FIELDS:
        for part in ("help", "question", "if_unset", "label"):
            text = getattr(field, part)
            if text:
                found.append(Source(f"profile field {field.name}: {part}", text, UI_FILE))
    # Every tuple of choices the vocabulary defines, found rather than listed: a new one is
    # checked without editing this function.
    for name, choices in vars(vocabulary).items():
        if not (
            isinstance(choices, tuple) and choices and all(isinstance(c, vocabulary.Choice) for c in choices)
        ):
            continue
        found += [Source(f"vocabulary {name} {c.value}: help", c.help, UI_FILE) for c in choices]
    words: dict[str, Iterable[str]] = {
        "memory": MEMORY_SCALE,
        "speed": SPEED_SCALE,
        "quality": ("context-dependent", *QUALITY_SCALE),
        "method kind": METHOD_KINDS,
        "library status": ("experimental", "removed", "external"),
        "model variant": MODEL_VARIANTS,
        "architecture": ("decoder", "encoder", "encoder-decoder"),
        "model source": ("catalog", "file", "cache", "hub", "bare size", "api"),
    }
    for context, values in words.items():
        found += [Source(f"word ({context})", value, UI_FILE, context) for value in values]
    return found


def ui_texts(extra: Iterable[tuple[str, str]] = ()) -> tuple[list[Source], list[str]]:
    """The program's texts (code and definitions) and `extra` (--help's, from the command line)."""
    found, problems = code_texts()
    found += defined_texts()
    found += [Source(where, text, HELP_FILE) for where, text in extra]
    return found, problems


# --- the catalog ----------------------------------------------------------------------------


@dataclass
class Catalog:
    """The Russian catalog as files hold it: every entry with where it is, and its problems."""

    entries: dict[str, str]  # key (context + English) -> Russian
    where: dict[str, str]  # key -> file:line of the entry
    problems: list[str]


def read_catalog(folder: Path | None = None) -> Catalog:
    from atlas_cli.kb.yamlsafe import YamlProblems, load_yaml

    folder = folder or translations_dir()
    result = Catalog({}, {}, [])
    for file in sorted(folder.glob("*.yaml")):
        try:
            loaded = load_yaml(file)
        except YamlProblems as error:
            result.problems += [str(p) for p in error.problems]
            continue
        entries = loaded.value
        if entries is None:
            continue
        if not isinstance(entries, list):
            result.problems.append(f"{file}:1:1: a catalog file is a list of {{en, ru}} entries")
            continue
        for index, entry in enumerate(entries):
            where = str(loaded.positions.get((index,), Position(str(file), 1, 1)))
            problem = _entry_problem(entry)
            if problem:
                result.problems.append(one_line(f"{where}: {problem}"))
                continue
            key = catalog_key(entry["en"], entry.get("context"))
            if key in result.where:
                result.problems.append(
                    one_line(f"{where}: '{entry['en']}' is translated already at {result.where[key]}")
                )
                continue
            result.where[key] = where
            if entry.get("ru"):
                result.entries[key] = entry["ru"]
                mismatch = _placeholder_problem(entry["en"], entry["ru"])
                if mismatch:
                    result.problems.append(one_line(f"{where}: {mismatch}"))
    return result


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "an entry is a mapping {en, ru}"
    unknown = set(entry) - {"en", "ru", "context"}
    if unknown:
        return f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (an entry has en, ru and context)"
    if not isinstance(entry.get("en"), str) or not entry["en"]:
        return "en: the English text is missing"
    for key in ("ru", "context"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{key}: must be text"
    return None


def placeholders(text: str) -> set[str] | None:
    """The names of a template's placeholders; None when the text is no template (a KB text with a
    lone brace)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return None


def _edges(text: str) -> tuple[str, str]:
    return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]


def _placeholder_problem(english: str, russian: str) -> str | None:
    """A template's placeholders, and the spaces at its edges (" on {hardware}" is appended to
    another text), must be the same in both languages."""
    if _edges(english) != _edges(russian):
        return f"'{english}': the Russian must start and end with the same spaces as the English"
    wanted, got = placeholders(english), placeholders(russian)
    if wanted is None or (not wanted and not got):
        return None
    if got != wanted:
        return (
            f"'{english}': the Russian has placeholders {{{', '.join(sorted(got or []))}}}, "
            f"the English {{{', '.join(sorted(wanted))}}}"
        )
    return None


# --- the report -----------------------------------------------------------------------------


def missing(sources: Iterable[Source], known: Catalog) -> list[Source]:
    """The sources without Russian, each English text once (at its first place)."""
    seen: set[str] = set()
    found = []
    for source in sources:
        if source.has_russian or source.key in known.entries or source.key in seen:
            continue
        seen.add(source.key)
        found.append(source)
    return found


def unused(sources: Iterable[Source], known: Catalog) -> list[str]:
    """Catalog entries no text uses any more (their English changed): where they are."""
    used = {source.key for source in sources}
    return [
        f"{known.where[key]}: {key.split(CONTEXT_SEPARATOR)[-1]}" for key in known.where if key not in used
    ]


def describe(source: Source) -> str:
    context = f" ({source.context})" if source.context else ""
    return one_line(
        f"{source.where}: no Russian for '{source.text}'{context} "
        f"(add it to data/translations/ru/{source.catalog_file})"
    )
