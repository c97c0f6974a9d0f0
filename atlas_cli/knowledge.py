"""Load and validate the knowledge base (KB), and look things up in it.

A KB is either one YAML file holding every section, or a directory whose `*.yaml` files each hold
some of the sections (the bundled KB in `data/` is such a directory). `--kb PATH` or the
`FT_ATLAS_KB` environment variable choose another one.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atlas_cli.errors import KnowledgeBaseError, UsageError
from atlas_cli.models import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Gpu,
    KnowledgeBase,
    LlmModel,
    Method,
    NotOf,
)
from atlas_cli.yamlsafe import PathKey, Position, Problem, YamlProblems, dotted, load_yaml, one_line

KB_ENV = "FT_ATLAS_KB"


def bundled_kb_path() -> Path:
    """The KB inside the wheel, or `data/` of a source checkout (editable installs)."""
    packaged = Path(__file__).with_name("data")
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "data"


def resolve_kb_path(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get(KB_ENV)
    return Path(env) if env else bundled_kb_path()


def _kb_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise KnowledgeBaseError([one_line(f"{path}:1:1: no *.yaml files in this directory")])
        return files
    if not path.exists():
        raise KnowledgeBaseError([one_line(f"{path}:1:1: no such file or directory")])
    return [path]


def _merge_sections(path: Path) -> tuple[dict[str, Any], dict[PathKey, Position]]:
    merged: dict[str, Any] = {}
    positions: dict[PathKey, Position] = {}
    problems: list[Problem] = []
    for file in _kb_files(path):
        try:
            loaded = load_yaml(file)
        except YamlProblems as error:
            problems.extend(error.problems)
            continue
        here = loaded.positions[()]
        if not isinstance(loaded.value, dict):
            problems.append(Problem(here, "", "top level must be a mapping of sections"))
            continue
        for key, value in loaded.value.items():
            if key in merged:
                where = positions[(key,)]
                problems.append(Problem(loaded.positions[(key,)], key, f"section also in {where}"))
                continue
            merged[key] = value
        positions.update(loaded.positions)
    if problems:
        raise KnowledgeBaseError([str(p) for p in problems])
    return merged, positions


def _locate(positions: dict[PathKey, Position], path: PathKey) -> Position:
    for end in range(len(path), -1, -1):
        if path[:end] in positions:
            return positions[path[:end]]
    return next(iter(positions.values()))


def _line(positions: dict[PathKey, Position], path: PathKey, message: str) -> str:
    return one_line(f"{_locate(positions, path)}: {dotted(path) or '(top)'}: {message}")


# --- pydantic errors -> located problems ----------------------------------------------------

Choice = tuple[PathKey, str]  # (where a union was tried, the name of the branch)


@dataclass(frozen=True)
class _Issue:
    path: PathKey  # in the file's terms, union-branch names removed
    choices: tuple[Choice, ...]  # the union branches this error was found in, outermost first
    kind: str
    message: str


def _issue(item: Any, data: Any) -> _Issue:
    """Walk pydantic's `loc` through the data; a part that indexes nothing names a union branch."""
    here: Any = data
    path: list[str | int] = []
    choices: list[Choice] = []
    loc = item["loc"]
    for i, part in enumerate(loc):
        in_dict = isinstance(here, dict) and isinstance(part, str) and part in here
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_dict or in_list:
            here = here[part]
        elif not (i == len(loc) - 1 and item["type"] == "missing" and isinstance(here, dict)):
            choices.append((tuple(path), str(part)))
            continue
        path.append(part)  # a key or index of the data, or the name of a missing field
    return _Issue(tuple(path), tuple(choices), item["type"], item["msg"])


def _shape_error(issue: _Issue, point: PathKey) -> bool:
    """Does this error say the value has the wrong shape for its branch (not a bad detail)?"""
    if issue.path == point:
        return True
    return issue.kind in ("missing", "extra_forbidden") and issue.path[:-1] == point


def _best_branches(issues: list[_Issue]) -> list[_Issue]:
    """Keep only the errors of the union branches the value fits best.

    Pydantic reports every branch of a union (`when: {fact, op, value}` also gets "all: Field
    required" from the AllOf branch); the useful ones come from the branch whose keys match.
    """
    scores: dict[tuple[tuple[Choice, ...], PathKey], dict[str, int]] = {}
    for issue in issues:
        for depth, (point, label) in enumerate(issue.choices):
            branch = scores.setdefault((issue.choices[:depth], point), {})
            branch[label] = branch.get(label, 0) + _shape_error(issue, point)

    def kept(issue: _Issue) -> bool:
        for depth, (point, label) in enumerate(issue.choices):
            branch = scores[(issue.choices[:depth], point)]
            if branch[label] > min(branch.values()):
                return False
        return True

    return [issue for issue in issues if kept(issue)]


def _join(messages: list[str]) -> str:
    messages = list(dict.fromkeys(messages))
    prefix = "Input should be "
    if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
        tails = [m[len(prefix) :] for m in messages]
        return prefix + ", ".join(tails[:-1]) + " or " + tails[-1]
    return "; ".join(messages)


def _merge_alternatives(issues: list[_Issue]) -> list[tuple[PathKey, str]]:
    """One line for the same complaint from several equally good union branches."""
    groups: dict[tuple[Any, ...], list[_Issue]] = {}
    for index, issue in enumerate(issues):
        key: tuple[Any, ...] = ("one", index)
        if issue.choices:
            outer, (point, _) = issue.choices[:-1], issue.choices[-1]
            if issue.path == point:
                key = ("type", outer, point)
            elif issue.kind == "missing" and issue.path[:-1] == point:
                key = ("missing", outer, point)
        groups.setdefault(key, []).append(issue)
    lines: list[tuple[PathKey, str]] = []
    for key, group in groups.items():
        labels = {issue.choices[-1][1] for issue in group if issue.choices}
        if key[0] == "type" and len(labels) > 1:
            lines.append((group[0].path, _join([issue.message for issue in group])))
        elif key[0] == "missing" and len(labels) > 1:
            fields = ", ".join(dict.fromkeys(str(issue.path[-1]) for issue in group))
            lines.append((key[2], f"Field required: one of {fields}"))
        else:
            lines.extend((issue.path, issue.message) for issue in group)
    return lines


def _validation_problems(error: ValidationError, data: Any, positions: dict[PathKey, Position]) -> list[str]:
    issues = [_issue(item, data) for item in error.errors(include_url=False)]
    lines = [_line(positions, path, message) for path, message in _merge_alternatives(_best_branches(issues))]
    return list(dict.fromkeys(lines))


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read, validate and cross-check a KB; raise KnowledgeBaseError listing every problem."""
    data, positions = _merge_sections(path)
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as error:
        raise KnowledgeBaseError(_validation_problems(error, data, positions)) from error
    problems = [_line(positions, where, message) for where, message in cross_reference_problems(kb)]
    if problems:
        raise KnowledgeBaseError(list(dict.fromkeys(problems)))
    return kb


# --- cross references ----------------------------------------------------------------------


def _duplicates(section: str, items: Iterable[tuple[list[str], list[str]]]) -> Iterator[tuple[PathKey, str]]:
    """Ids, names and aliases must name one item each (compared as `normalize` does)."""
    seen: dict[str, int] = {}
    reported: set[tuple[int, int]] = set()
    for index, (fields, names) in enumerate(items):
        for field, name in zip(fields, names, strict=True):
            norm = normalize(name)
            other = seen.setdefault(norm, index)
            if other == index or (index, other) in reported:
                continue
            reported.add((index, other))
            where: PathKey = (section, index, *(int(f) if f.isdigit() else f for f in field.split(".")))
            what = "id" if field == "id" else "name or alias"
            yield where, f"{what} '{name}' is already used by {section}[{other}]"


def _names(item: Method | Gpu | LlmModel) -> tuple[list[str], list[str]]:
    fields = ["id", "name", *(f"aliases.{i}" for i in range(len(item.aliases)))]
    return fields, [item.id, item.name, *item.aliases]


def _unknown(where: PathKey, ids: Iterable[str], known: set[str], what: str) -> Iterator[tuple[PathKey, str]]:
    for ref in ids:
        if ref not in known:
            yield where, f"unknown {what} '{ref}'"


def _comparisons(condition: Condition | None, path: PathKey) -> Iterator[tuple[PathKey, Comparison]]:
    if isinstance(condition, Comparison):
        yield path, condition
    elif isinstance(condition, AllOf):
        for i, part in enumerate(condition.all):
            yield from _comparisons(part, (*path, "all", i))
    elif isinstance(condition, AnyOf):
        for i, part in enumerate(condition.any):
            yield from _comparisons(part, (*path, "any", i))
    elif isinstance(condition, NotOf):
        yield from _comparisons(condition.not_, (*path, "not"))


def _condition_references(
    kb: KnowledgeBase, when: Condition | None, path: PathKey
) -> Iterator[tuple[PathKey, str]]:
    """Facts that name a KB item (`gpu`, `model`, `fits.<method>`...) must name one that exists."""
    known = {
        "gpu": ({g.id for g in kb.gpus}, "GPU"),
        "model": ({m.id for m in kb.models}, "model"),
    }
    method_ids = {m.id for m in kb.methods}
    for where, comparison in _comparisons(when, path):
        prefix, dot, method = comparison.fact.partition(".")
        if dot and prefix in ("fits", "memory_gb") and method not in method_ids:
            yield (*where, "fact"), f"unknown method '{method}' in fact '{comparison.fact}'"
        if comparison.fact in known:
            ids, what = known[comparison.fact]
            values = comparison.value if isinstance(comparison.value, list) else [comparison.value]
            refs = [v for v in values if isinstance(v, str)]
            yield from _unknown((*where, "value"), refs, ids, what)


def cross_reference_problems(kb: KnowledgeBase) -> list[tuple[PathKey, str]]:
    """Duplicate ids/aliases and references to things that do not exist."""
    method_ids = {m.id for m in kb.methods}
    objective_ids = {m.id for m in kb.methods if m.kind == "objective"}
    category_ids = {c.id for c in kb.categories}
    rule_ids = {r.id for r in kb.rules} | {p.id for p in kb.pipelines}
    found: list[tuple[PathKey, str]] = []
    found.extend(_duplicates("methods", map(_names, kb.methods)))
    found.extend(_duplicates("gpus", map(_names, kb.gpus)))
    found.extend(_duplicates("models", map(_names, kb.models)))
    found.extend(_duplicates("categories", ((["id"], [c.id]) for c in kb.categories)))
    found.extend(_duplicates("rules", ((["id"], [r.id]) for r in kb.rules)))
    found.extend(_duplicates("pipelines", ((["id"], [p.id]) for p in kb.pipelines)))
    guide_rules = [("choose", i, g) for i, g in enumerate(kb.guide.choose)]
    guide_rules += [("recommendations", i, g) for i, g in enumerate(kb.guide.recommendations)]
    seen_guide: dict[str, PathKey] = {}
    for part, i, g in guide_rules:
        first = seen_guide.setdefault(g.id, ("guide", part, i))
        if first != ("guide", part, i):
            found.append((("guide", part, i, "id"), f"id '{g.id}' is already used by {dotted(first)}"))
    for i, m in enumerate(kb.methods):
        found.extend(_unknown(("methods", i, "category"), [m.category], category_ids, "category"))
    by_id = {m.id: m for m in kb.methods}
    for i, c in enumerate(kb.categories):
        found.extend(_unknown(("categories", i, "methods"), c.methods, method_ids, "method"))
        for j, ref in enumerate(c.methods):
            if ref in by_id and by_id[ref].category != c.id:
                message = f"method '{ref}' belongs to category '{by_id[ref].category}', not '{c.id}'"
                found.append((("categories", i, "methods", j), message))
    for i, r in enumerate(kb.rules):
        found.extend(_unknown(("rules", i, "methods"), r.methods, method_ids, "method"))
        found.extend(_condition_references(kb, r.when, ("rules", i, "when")))
    for i, p in enumerate(kb.pipelines):
        found.extend(_unknown(("pipelines", i, "pipeline"), p.pipeline, objective_ids, "objective"))
        found.extend(_condition_references(kb, p.when, ("pipelines", i, "when")))
    guide = kb.guide
    for part, i, g in guide_rules:
        found.extend(_unknown(("guide", part, i, "methods"), g.methods, method_ids, "method"))
        found.extend(_unknown(("guide", part, i, "engine_rules"), g.engine_rules, rule_ids, "rule"))
    for part, refs in (
        ("comparison", [row.methods for row in guide.comparison]),
        ("stages", [s.methods for s in guide.stages]),
        ("tools", [t.methods for t in guide.tools]),
    ):
        for i, ids in enumerate(refs):
            found.extend(_unknown(("guide", part, i, "methods"), ids, method_ids, "method"))
    return found


# --- look-ups ------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s_\-/]+")


def normalize(name: str) -> str:
    """Case- and separator-insensitive key: "RTX 3090", "rtx-3090" and "RTX3090" agree."""
    return _SEPARATORS.sub("", name.casefold())


@dataclass(frozen=True)
class Match:
    kind: str
    query: str
    suggestions: tuple[str, ...]


def _index(items: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for item_id, names in items:
        for name in names:
            index.setdefault(normalize(name), item_id)
    return index


class Catalog:
    """The validated KB plus name indexes for methods, GPUs and models."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.methods = {m.id: m for m in kb.methods}
        self.gpus = {g.id: g for g in kb.gpus}
        self.models = {m.id: m for m in kb.models}

    @cached_property
    def _method_names(self) -> dict[str, str]:
        return _index((m.id, [m.id, m.name, *m.aliases]) for m in self.kb.methods)

    @cached_property
    def _gpu_names(self) -> dict[str, str]:
        return _index((g.id, [g.id, g.name, *g.aliases]) for g in self.kb.gpus)

    @cached_property
    def _model_names(self) -> dict[str, str]:
        return _index((m.id, [m.id, m.name, *m.aliases]) for m in self.kb.models)

    def method(self, query: str) -> Method:
        return self.methods[_find(self._method_names, "method", query)]

    def gpu(self, query: str) -> Gpu:
        return self.gpus[_find(self._gpu_names, "GPU", query)]

    def model(self, query: str) -> LlmModel:
        return self.models[_find(self._model_names, "model", query)]

    def gpu_guess(self, query: str) -> Gpu | None:
        """The closest GPU for a fuzzy answer ("309" -> RTX 3090), for a confirm prompt."""
        close = difflib.get_close_matches(normalize(query), self._gpu_names, n=1, cutoff=0.6)
        return self.gpus[self._gpu_names[close[0]]] if close else None


def _find(index: dict[str, str], kind: str, query: str) -> str:
    key = normalize(query)
    if key in index:
        return index[key]
    close = difflib.get_close_matches(key, index, n=5, cutoff=0.5)
    suggestions = tuple(dict.fromkeys(index[c] for c in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UsageError(f"unknown {kind} '{query}'{hint}", suggestions=suggestions)
