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
from atlas_cli.models import Gpu, KnowledgeBase, LlmModel, Method
from atlas_cli.yamlsafe import PathKey, Position, Problem, YamlProblems, dotted, load_yaml

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
            raise KnowledgeBaseError([f"{path}: no *.yaml files in this directory"])
        return files
    if not path.exists():
        raise KnowledgeBaseError([f"{path}: no such file or directory"])
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


def _validation_problems(error: ValidationError, positions: dict[PathKey, Position]) -> list[str]:
    lines: list[str] = []
    for item in error.errors(include_url=False):
        # Drop pydantic's union-branch labels (e.g. "AllOf") so paths match the file.
        path = tuple(p for p in item["loc"] if isinstance(p, int) or not p[:1].isupper())
        lines.append(f"{_locate(positions, path)}: {dotted(path) or '(top)'}: {item['msg']}")
    return sorted(set(lines), key=lines.index)


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read, validate and cross-check a KB; raise KnowledgeBaseError listing every problem."""
    data, positions = _merge_sections(path)
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as error:
        raise KnowledgeBaseError(_validation_problems(error, positions)) from error
    problems = [
        f"{_locate(positions, where)}: {dotted(where)}: {message}"
        for where, message in cross_reference_problems(kb)
    ]
    if problems:
        raise KnowledgeBaseError(problems)
    return kb


# --- cross references ----------------------------------------------------------------------


def _duplicates(section: str, names: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[PathKey, str]]:
    seen: dict[str, int] = {}
    for index, keys in names:
        for key in keys:
            norm = normalize(key)
            if norm in seen and seen[norm] != index:
                yield (section, index), f"name or alias '{key}' also used by {section}[{seen[norm]}]"
            seen.setdefault(norm, index)


def _unknown(where: PathKey, ids: Iterable[str], known: set[str], what: str) -> Iterator[tuple[PathKey, str]]:
    for ref in ids:
        if ref not in known:
            yield where, f"unknown {what} '{ref}'"


def cross_reference_problems(kb: KnowledgeBase) -> list[tuple[PathKey, str]]:
    """Duplicate ids/aliases and references to things that do not exist."""
    method_ids = {m.id for m in kb.methods}
    objective_ids = {m.id for m in kb.methods if m.kind == "objective"}
    category_ids = {c.id for c in kb.categories}
    rule_ids = {r.id for r in kb.rules} | {p.id for p in kb.pipelines}
    found: list[tuple[PathKey, str]] = []
    for section, items in (
        ("methods", [(m.id, [m.id, m.name, *m.aliases]) for m in kb.methods]),
        ("gpus", [(g.id, [g.id, g.name, *g.aliases]) for g in kb.gpus]),
        ("models", [(m.id, [m.id, m.name, *m.aliases]) for m in kb.models]),
        ("categories", [(c.id, [c.id]) for c in kb.categories]),
        ("rules", [(r.id, [r.id]) for r in kb.rules]),
        ("pipelines", [(p.id, [p.id]) for p in kb.pipelines]),
    ):
        found.extend(_duplicates(section, ((i, names) for i, (_, names) in enumerate(items))))
    for i, m in enumerate(kb.methods):
        found.extend(_unknown(("methods", i, "category"), [m.category], category_ids, "category"))
    for i, c in enumerate(kb.categories):
        found.extend(_unknown(("categories", i, "methods"), c.methods, method_ids, "method"))
    for i, r in enumerate(kb.rules):
        found.extend(_unknown(("rules", i, "methods"), r.methods, method_ids, "method"))
    for i, p in enumerate(kb.pipelines):
        found.extend(_unknown(("pipelines", i, "pipeline"), p.pipeline, objective_ids, "objective"))
    guide = kb.guide
    for part, rows in (("choose", guide.choose), ("recommendations", guide.recommendations)):
        for i, g in enumerate(rows):
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
