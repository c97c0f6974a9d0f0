"""Load and validate the knowledge base (KB): YAML with positions, the pydantic schema, and the
cross-references the schema cannot see (unique ids and aliases, every referenced id exists).
Every problem is reported as `path:line:column: field.path: message`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atlas_cli.catalog import kb_files, normalize
from atlas_cli.errors import KnowledgeBaseError, one_line
from atlas_cli.models import KnowledgeBase
from atlas_cli.yamlsafe import PathKey, Position, Problem, YamlProblems, dotted, load_yaml


@dataclass
class _Sources:
    """Where each value (and each mapping key) of the merged KB came from."""

    values: dict[PathKey, Position]
    keys: dict[PathKey, Position]

    def locate(self, path: PathKey, at_key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that has one."""
        if at_key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return next(iter(self.values.values()))

    def line(self, path: PathKey, message: str, at_key: bool = False) -> str:
        return one_line(f"{self.locate(path, at_key)}: {dotted(path) or '(top)'}: {message}")


def _merge_sections(path: Path) -> tuple[dict[str, Any], _Sources]:
    merged: dict[str, Any] = {}
    sources = _Sources({}, {})
    problems: list[Problem] = []
    for file in kb_files(path):
        try:
            loaded = load_yaml(file)
        except YamlProblems as error:
            problems.extend(error.problems)
            continue
        here = loaded.positions[()]
        if not isinstance(loaded.value, dict):
            problems.append(Problem(here, "", "top level must be a mapping of sections"))
            continue
        sources.values[()] = here
        taken: set[str | int] = set()
        for key, value in loaded.value.items():
            if key in merged:
                where = sources.keys[(key,)]
                problems.append(Problem(loaded.key_positions[(key,)], key, f"section also in {where}"))
                continue
            merged[key] = value
            taken.add(key)
        for table, found in ((sources.values, loaded.positions), (sources.keys, loaded.key_positions)):
            table.update((p, position) for p, position in found.items() if p and p[0] in taken)
    if problems:
        raise KnowledgeBaseError([str(p) for p in problems])
    return merged, sources


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


def _merge_alternatives(issues: list[_Issue]) -> list[tuple[PathKey, str, bool]]:
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
    lines: list[tuple[PathKey, str, bool]] = []
    for key, group in groups.items():
        labels = {issue.choices[-1][1] for issue in group if issue.choices}
        if key[0] == "type" and len(labels) > 1:
            lines.append((group[0].path, _join([issue.message for issue in group]), False))
        elif key[0] == "missing" and len(labels) > 1:
            fields = ", ".join(dict.fromkeys(str(issue.path[-1]) for issue in group))
            lines.append((key[2], f"Field required: one of {fields}", False))
        else:
            # An unknown field is pointed at by its key; anything else by its value.
            lines.extend((i.path, i.message, i.kind == "extra_forbidden") for i in group)
    return lines


def _validation_problems(error: ValidationError, data: Any, sources: _Sources) -> list[str]:
    issues = [_issue(item, data) for item in error.errors(include_url=False)]
    lines = [sources.line(*line) for line in _merge_alternatives(_best_branches(issues))]
    return list(dict.fromkeys(lines))


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read, validate and cross-check a KB; raise KnowledgeBaseError listing every problem.

    Schema problems and cross-reference problems are reported together: the cross-checks read
    the raw data and skip whatever is too malformed to check.
    """
    data, sources = _merge_sections(path)
    kb: KnowledgeBase | None = None
    problems: list[str] = []
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as error:
        problems = _validation_problems(error, data, sources)
    problems += [sources.line(where, message) for where, message in cross_reference_problems(data)]
    if problems or kb is None:
        raise KnowledgeBaseError(list(dict.fromkeys(problems)))
    return kb


# --- cross references (on the raw data, so that they run even when the schema fails) --------

Found = tuple[PathKey, str]  # where, what is wrong


def _items(data: Any, *path: str) -> list[tuple[int, dict[str, Any]]]:
    """The mappings in the list at `path` (with their indexes); nothing if it is not a list."""
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    if not isinstance(data, list):
        return []
    return [(i, item) for i, item in enumerate(data) if isinstance(item, dict)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _ids(items: list[tuple[int, dict[str, Any]]]) -> set[str]:
    return {item["id"] for _, item in items if isinstance(item.get("id"), str)}


def _duplicates(section: str, items: list[tuple[int, dict[str, Any]]], named: bool) -> Iterator[Found]:
    """Ids (and names and aliases) must name one item each (compared as `normalize` does)."""
    seen: dict[str, int] = {}
    reported: set[tuple[int, int]] = set()
    for index, item in items:
        names: list[tuple[PathKey, Any]] = [(("id",), item.get("id"))]
        if named:
            names.append((("name",), item.get("name")))
            aliases = item.get("aliases")
            names += [(("aliases", i), a) for i, a in enumerate(aliases if isinstance(aliases, list) else [])]
        for field, name in names:
            if not isinstance(name, str):
                continue
            other = seen.setdefault(normalize(name), index)
            if other == index or (index, other) in reported:
                continue
            reported.add((index, other))
            what = "id" if field == ("id",) else "name or alias"
            yield (section, index, *field), f"{what} '{name}' is already used by {section}[{other}]"


def _unknown(where: PathKey, value: Any, known: set[str], what: str) -> Iterator[Found]:
    for ref in _strings(value):
        if ref not in known:
            yield where, f"unknown {what} '{ref}'"


def _comparisons(condition: Any, path: PathKey) -> Iterator[tuple[PathKey, dict[str, Any]]]:
    if not isinstance(condition, dict):
        return
    if isinstance(condition.get("fact"), str):
        yield path, condition
    for key in ("all", "any"):
        parts = condition.get(key)
        for i, part in enumerate(parts if isinstance(parts, list) else []):
            yield from _comparisons(part, (*path, key, i))
    if "not" in condition:
        yield from _comparisons(condition["not"], (*path, "not"))


def _condition_references(
    condition: Any, path: PathKey, known: dict[str, tuple[set[str], str]], method_ids: set[str]
) -> Iterator[Found]:
    """Facts that name a KB item (`gpu`, `model`, `fits.<method>`...) must name one that exists."""
    for where, comparison in _comparisons(condition, path):
        fact = comparison["fact"]
        prefix, dot, method = fact.partition(".")
        if dot and prefix in ("fits", "memory_gb") and method not in method_ids:
            yield (*where, "fact"), f"unknown method '{method}' in fact '{fact}'"
        if fact in known:
            ids, what = known[fact]
            yield from _unknown((*where, "value"), comparison.get("value"), ids, what)


def cross_reference_problems(data: Any) -> list[Found]:
    """Duplicate ids/aliases and references to things that do not exist, in a KB's raw data."""
    methods, gpus, models = _items(data, "methods"), _items(data, "gpus"), _items(data, "models")
    categories, rules, pipelines = (
        _items(data, "categories"),
        _items(data, "rules"),
        _items(data, "pipelines"),
    )
    guide_rules = [("choose", i, g) for i, g in _items(data, "guide", "choose")]
    guide_rules += [("recommendations", i, g) for i, g in _items(data, "guide", "recommendations")]
    method_ids, category_ids = _ids(methods), _ids(categories)
    objective_ids = {
        m["id"] for _, m in methods if isinstance(m.get("id"), str) and m.get("kind") == "objective"
    }
    rule_ids = _ids(rules) | _ids(pipelines)
    facts = {"gpu": (_ids(gpus), "GPU"), "model": (_ids(models), "model")}

    found: list[Found] = []
    for section, items, named in (
        ("methods", methods, True),
        ("gpus", gpus, True),
        ("models", models, True),
        ("categories", categories, False),
        ("rules", rules, False),
        ("pipelines", pipelines, False),
    ):
        found.extend(_duplicates(section, items, named))
    seen_guide: dict[str, PathKey] = {}
    for part, i, g in guide_rules:
        if isinstance(g.get("id"), str):
            first = seen_guide.setdefault(g["id"], ("guide", part, i))
            if first != ("guide", part, i):
                found.append((("guide", part, i, "id"), f"id '{g['id']}' is already used by {dotted(first)}"))

    category_of = {m["id"]: m.get("category") for _, m in methods if isinstance(m.get("id"), str)}
    for i, m in methods:
        found.extend(_unknown(("methods", i, "category"), m.get("category"), category_ids, "category"))
    for i, c in categories:
        listed = c.get("methods")
        found.extend(_unknown(("categories", i, "methods"), listed, method_ids, "method"))
        for j, ref in enumerate(listed if isinstance(listed, list) else []):
            owner = category_of.get(ref) if isinstance(ref, str) else None
            if isinstance(owner, str) and owner != c.get("id"):
                message = f"method '{ref}' belongs to category '{owner}', not '{c.get('id')}'"
                found.append((("categories", i, "methods", j), message))
    for i, r in rules:
        found.extend(_unknown(("rules", i, "methods"), r.get("methods"), method_ids, "method"))
        found.extend(_condition_references(r.get("when"), ("rules", i, "when"), facts, method_ids))
    for i, p in pipelines:
        found.extend(_unknown(("pipelines", i, "pipeline"), p.get("pipeline"), objective_ids, "objective"))
        found.extend(_condition_references(p.get("when"), ("pipelines", i, "when"), facts, method_ids))
    for part, i, g in guide_rules:
        found.extend(_unknown(("guide", part, i, "methods"), g.get("methods"), method_ids, "method"))
        found.extend(_unknown(("guide", part, i, "engine_rules"), g.get("engine_rules"), rule_ids, "rule"))
    for part in ("comparison", "stages", "tools"):
        for i, row in _items(data, "guide", part):
            found.extend(_unknown(("guide", part, i, "methods"), row.get("methods"), method_ids, "method"))
    return found
