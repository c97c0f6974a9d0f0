"""Load and validate the knowledge base (KB): YAML with positions, the pydantic schema, and the
cross-references the schema cannot see (unique ids and aliases, every referenced id exists).
Every problem is reported as `path:line:column: field.path: message`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atlas_cli.errors import KnowledgeBaseError, interrupts_deferred, one_line
from atlas_cli.kb import schema
from atlas_cli.kb.behaviour import looks_numeric
from atlas_cli.kb.catalog import normalize
from atlas_cli.kb.facts import fact_spec
from atlas_cli.kb.files import KbFile, read_kb
from atlas_cli.kb.records import KnowledgeBase, from_model
from atlas_cli.kb.vocabulary import (
    DEFAULT_PIPELINE,
    GPU_MEMORY,
    HYPER_KIND_WORDS,
    RECIPE_HYPERPARAMETERS,
    HyperKind,
    means_no_gpu,
)
from atlas_cli.kb.yamlsafe import PathKey, Position, Problem, YamlProblems, dotted, load_yaml_bytes


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


def _merge_sections(files: list[KbFile]) -> tuple[dict[str, Any], _Sources]:
    merged: dict[str, Any] = {}
    sources = _Sources({}, {})
    problems: list[Problem] = []
    for file in files:
        try:
            loaded = load_yaml_bytes(file)
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


@dataclass(frozen=True)
class _Issue:
    path: PathKey  # in the file's terms, union-branch names removed
    branch: tuple[PathKey, str] | None  # (where a union was tried, the branch's tag), innermost
    kind: str
    message: str


def _issue(item: Any, data: Any) -> _Issue:
    """Walk pydantic's `loc` through the data; a part that indexes nothing names a union branch
    (a discriminated union's tag, or a plain union's member type)."""
    here: Any = data
    path: list[str | int] = []
    branch: tuple[PathKey, str] | None = None
    loc = item["loc"]
    for i, part in enumerate(loc):
        in_dict = isinstance(here, dict) and isinstance(part, str) and part in here
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_dict or in_list:
            here = here[part]
        elif not (i == len(loc) - 1 and item["type"] == "missing" and isinstance(here, dict)):
            branch = (tuple(path), str(part))
            continue
        path.append(part)  # a key or index of the data, or the name of a missing field
    return _Issue(tuple(path), branch, item["type"], item["msg"] + _number_as_text(item))


# A number YAML 1.1 reads as text: an exponent needs a '.' in the mantissa and a sign (1.0e+15).
_TEXT_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")


def _number_as_text(item: Any) -> str:
    """Where a number was wanted and YAML read one as text (1e15), how to write it: a whole number
    in full (an integer field takes no exponent), any other in the form YAML reads as a float."""
    given = item.get("input")
    if item["type"] not in ("float_type", "int_type") or not isinstance(given, str):
        return ""
    if not _TEXT_NUMBER.fullmatch(given):
        return ""
    if item["type"] == "int_type":
        value = float(given)
        return f" (YAML reads {given} as text: write {int(value)})" if value.is_integer() else ""
    mantissa, _, exponent = given.lower().partition("e")
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    sign = "" if exponent[:1] in "+-" else "+"
    return f" (YAML reads {given} as text: write {mantissa}e{sign}{exponent})"


def _join(messages: list[str]) -> str:
    messages = list(dict.fromkeys(messages))
    prefix = "Input should be "
    if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
        tails = [m[len(prefix) :] for m in messages]
        return prefix + ", ".join(tails[:-1]) + " or " + tails[-1]
    return "; ".join(messages)


def _lines(issues: list[_Issue]) -> list[tuple[PathKey, str, bool]]:
    """(path, message, point at the key?) per problem. A value that no member of a plain union
    takes (`value: {a: 1}` is neither a string, a number nor a list) gets one line listing what
    each member wanted. Conditions are discriminated unions: only their own form reports."""
    groups: dict[tuple[Any, ...], list[_Issue]] = {}
    for index, issue in enumerate(issues):
        union_level = issue.branch is not None and issue.path == issue.branch[0]
        key = ("union", issue.path) if union_level else ("one", index)
        groups.setdefault(key, []).append(issue)
    lines: list[tuple[PathKey, str, bool]] = []
    for key, group in groups.items():
        if key[0] == "union":
            lines.append((group[0].path, _join([i.message for i in group]), False))
        else:
            # An unknown field is pointed at by its key; anything else by its value.
            lines.extend((i.path, i.message, i.kind == "extra_forbidden") for i in group)
    return lines


def _validation_problems(error: ValidationError, data: Any, sources: _Sources) -> list[str]:
    issues = [_issue(item, data) for item in error.errors(include_url=False)]
    return list(dict.fromkeys(sources.line(*line) for line in _lines(issues)))


def load_knowledge_base(path: Path, files: list[KbFile] | None = None) -> KnowledgeBase:
    """Read, validate and cross-check a KB; raise KnowledgeBaseError listing every problem.
    `files` are the KB's files already read (kb/cache.py hashes them first), else they are read.

    Schema problems and cross-reference problems are reported together: the cross-checks read
    the raw data and skip whatever is too malformed to check.
    """
    return load_located(path, files)[0]


def load_located(
    path: Path, files: list[KbFile] | None = None
) -> tuple[KnowledgeBase, Callable[[PathKey], Position]]:
    """The KB, and where each of its values is (`file:line:column` of a field path)."""
    data, sources = _merge_sections(read_kb(path) if files is None else files)
    with interrupts_deferred():  # reading a stalled file stays interruptible
        return _validated(data, sources), sources.locate


def _validated(data: dict[str, Any], sources: _Sources) -> KnowledgeBase:
    """The KB's records, once the models have validated it: what every command works with, as a
    cached KB is (kb/cache.py), so that a cache hit and a miss behave alike."""
    kb: KnowledgeBase | None = None
    problems: list[str] = []
    try:
        kb = from_model(schema.KnowledgeBase.model_validate(data))
    except ValidationError as error:
        problems = _validation_problems(error, data, sources)
    found = cross_reference_problems(data) + ([] if kb is None else selection_problems(kb))
    problems += [sources.line(where, message) for where, message in found]
    if problems or kb is None:
        raise KnowledgeBaseError(list(dict.fromkeys(problems)))
    return kb


def selection_problems(kb: KnowledgeBase) -> list[Found]:
    """A rule that selects no method never fires: a selector with a typo in it."""
    return [
        (("rules", i, "methods"), "selects no method")
        for i, rule in enumerate(kb.rules)
        if not isinstance(rule.methods, list) and not any(rule.selects(m) for m in kb.methods)
    ]


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


def _repeated_families(families: list[tuple[int, dict[str, Any]]]) -> Iterator[Found]:
    """A model family is described once: two entries could say opposite things of it."""
    seen: dict[str, int] = {}
    for index, item in families:
        family = item.get("family")
        if isinstance(family, str) and seen.setdefault(family, index) != index:
            message = f"family '{family}' is already described by model_families[{seen[family]}]"
            yield ("model_families", index, "family"), message


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


SECTION_ITEM = {
    "gpus": "GPU",
    "models": "model",
    "methods": "method",
    "categories": "category",
    "providers": "provider",
}

# Conditions compile to one Python expression each and run for every candidate plan: a few
# lines of YAML aliases can stand for 100,000 comparisons, which made every `recommend` take
# seconds. The bundled KB has at most 6 per rule and about 170 in all; a 1,000-method KB ~10,000.
MAX_RULE_COMPARISONS = 100
MAX_KB_COMPARISONS = 25_000
MIN_TYPO_LENGTH = 4  # names shorter than this are not matched for typos


def _comparison_count(condition: Any, limit: int) -> int:
    """Comparisons in a condition, each alias counted as written out, stopping past `limit`."""
    return sum(1 for _ in itertools.islice(_comparisons(condition, ()), limit + 1))


def _condition_sizes(rules: list[tuple[int, dict[str, Any]]], section: str) -> tuple[list[Found], int]:
    found: list[Found] = []
    total = 0
    for i, rule in rules:
        count = _comparison_count(rule.get("when"), MAX_RULE_COMPARISONS)
        if count > MAX_RULE_COMPARISONS:
            message = f"more than {MAX_RULE_COMPARISONS} comparisons (aliases written out): split the rule"
            found.append(((section, i, "when"), message))
        total += count
    return found, total


def _hyper_problem(kind: HyperKind, value: Any) -> bool:
    """Whether `value` is not something a hyperparameter of this kind may hold."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    whole = number and (isinstance(value, int) or float(value).is_integer())
    if kind == "count":
        return not (whole and value >= 1)
    if kind == "whole":
        return not (whole and value >= 0)
    if kind == "number":
        return not number
    if kind == "positive":
        return not (number and value > 0)
    if kind == "nonnegative":
        return not (number and value >= 0)
    if kind == "fraction":
        return not (number and 0 <= value <= 1)
    if kind == "flag":
        return not isinstance(value, bool)
    if kind == "text":
        return not isinstance(value, str)
    if kind == "texts":
        return not (isinstance(value, str) or (isinstance(value, list) and value))
    return not ((whole and value >= 1) or value in ("r", "2r"))


def _hyperparameter_problems(methods: list[tuple[int, dict[str, Any]]]) -> Iterator[Found]:
    for i, method in methods:
        table = method.get("hyperparameters")
        for key, entry in table.items() if isinstance(table, dict) else ():
            kind = RECIPE_HYPERPARAMETERS.get(key)
            if kind is None:
                yield from _misspelt(("methods", i, "hyperparameters", key), key)
                continue
            if not isinstance(entry, dict):
                continue
            for field in ("value", "with_peft"):
                value = entry.get(field)
                if isinstance(value, str) and looks_numeric(value):
                    continue  # the schema explains that one (YAML reads 2e-5 as text)
                if value is not None and _hyper_problem(kind, value):
                    where = ("methods", i, "hyperparameters", key, field)
                    yield where, f"recipes use {key} as {HYPER_KIND_WORDS[kind]}, not {value!r:.60}"


def _misspelt(where: PathKey, key: str) -> Iterator[Found]:
    """A key one letter from one recipes read (one dropped, added, changed or two swapped): a typo
    there would leave the recipe taking the value from elsewhere, silently (a review renamed
    learning_rate to learning_rte). A name that extends one (beta1, learning_rates, deltaT's delta,
    num_generations_eval) is a trainer's own argument, shown as written."""
    near = next((known for known in RECIPE_HYPERPARAMETERS if _one_edit_apart(key, known)), None)
    if near is not None:
        yield where, f"'{key}' is not a hyperparameter recipes read: did you mean '{near}'?"


def _one_edit_apart(typed: str, known: str) -> bool:
    if len(known) < MIN_TYPO_LENGTH or typed.startswith(known) or known.startswith(typed):
        return False  # "r" is a letter from many a short name
    if len(typed) == len(known):
        differ = [i for i, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
        swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and typed[differ[0]] == known[differ[1]]
        return len(differ) == 1 or (swapped and typed[differ[1]] == known[differ[0]])
    longer, shorter = (typed, known) if len(typed) > len(known) else (known, typed)
    if len(longer) - len(shorter) != 1:
        return False
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _condition_references(condition: Any, path: PathKey, known: dict[str, set[str]]) -> Iterator[Found]:
    """Facts that name KB items (`gpu`, `model`, `fits.<method>`...) must name ones that exist."""
    for where, comparison in _comparisons(condition, path):
        fact = comparison["fact"]
        spec = fact_spec(fact)
        if spec is None:
            continue  # the schema reports an unknown fact
        if spec.per_method or spec.per_stage:
            method = fact.partition(".")[2]
            family = "objectives" if spec.per_stage else "methods"
            if method not in known[family]:
                what = "objective" if spec.per_stage else "method"
                yield (*where, "fact"), f"unknown {what} '{method}' in fact '{fact}'"
        elif spec.refers_to is not None:
            value = comparison.get("value")
            yield from _unknown((*where, "value"), value, known[spec.refers_to], SECTION_ITEM[spec.refers_to])


def _selector_references(
    selector: Any, where: PathKey, methods: list[tuple[int, dict[str, Any]]], known: dict[str, set[str]]
) -> Iterator[Found]:
    """A rule's `methods`: ids that exist; a selector's category and tags that some method has,
    and at least one method selected (a selector that selects nothing is a typo)."""
    if isinstance(selector, list):
        if not selector:
            yield where, "an empty list selects no method: name at least one, or use a selector"
        yield from _unknown(where, selector, known["methods"], "method")
        for j, ref in enumerate(selector):
            if isinstance(ref, str) and ref in known["objectives"]:
                yield (*where, j), f"'{ref}' is an objective, a stage and never a plan: read stage.{ref}"
        return
    if not isinstance(selector, dict):
        return
    for key in ("ids", "except"):
        yield from _unknown((*where, key), selector.get(key), known["methods"], "method")
    yield from _unknown((*where, "category"), selector.get("category"), known["categories"], "category")
    tags = {t for _, m in methods for t in _strings(m.get("tags"))}
    yield from _unknown((*where, "tags"), selector.get("tags"), tags, "tag (no method has it)")


def _unusable_names(gpus: list[tuple[int, dict[str, Any]]]) -> Iterator[Found]:
    """A GPU id or alias `--gpu` reads as something else: "no GPU" (none, cpu, api), a memory size
    (80GB is --vram 80), or nothing at all (separators only)."""
    for i, gpu in gpus:
        aliases = gpu.get("aliases")
        names: list[tuple[PathKey, Any]] = [(("id",), gpu.get("id"))]
        names += [(("aliases", j), a) for j, a in enumerate(aliases if isinstance(aliases, list) else [])]
        for field, name in names:
            if not isinstance(name, str):
                continue
            if not normalize(name):
                yield ("gpus", i, *field), f"'{name}' has no letter or digit"
            elif means_no_gpu(name):
                yield ("gpus", i, *field), f"--gpu reads '{name}' as no GPU"
            elif GPU_MEMORY.match(name):
                yield ("gpus", i, *field), f"--gpu reads '{name}' as a memory size (--vram)"


def _shared_rule_ids(
    rules: list[tuple[int, dict[str, Any]]], pipelines: list[tuple[int, dict[str, Any]]]
) -> Iterator[Found]:
    """Rules and pipeline rules share one namespace: --explain and the guide name them by id."""
    rule_ids = {r["id"] for _, r in rules if isinstance(r.get("id"), str)}
    for i, p in pipelines:
        pipeline_id = p.get("id")
        if isinstance(pipeline_id, str) and pipeline_id in rule_ids:
            yield ("pipelines", i, "id"), f"id '{pipeline_id}' is already used by a rule"


def _repeated_stages(pipeline: Any, path: PathKey) -> Iterator[Found]:
    """A pipeline runs each objective once: recipes write one file and one output folder per
    stage, and a second `sft` would overwrite the first."""
    seen: set[str] = set()
    for j, objective in enumerate(pipeline if isinstance(pipeline, list) else []):
        if not isinstance(objective, str):
            continue
        if objective in seen:
            yield (*path, j), f"objective '{objective}' is already a stage of this pipeline"
        seen.add(objective)


def _not_hosted(path: PathKey, objectives: Any, methods: list[tuple[int, Any]]) -> Iterator[Found]:
    """What a provider runs instead of an objective must be objectives it runs (hosted_service)."""
    ids = [(m.get("id"), m.get("hosted_service")) for _, m in methods]
    served = {i for i, service in ids if isinstance(i, str) and service}
    known = {i for i, _ in ids if isinstance(i, str)}
    for j, objective in enumerate(objectives if isinstance(objectives, list) else []):
        if isinstance(objective, str) and objective in known and objective not in served:
            yield (*path, j), f"objective '{objective}' has no hosted_service: no provider runs it either"


def _matmul_share_sources(gpus: list[tuple[int, dict[str, Any]]]) -> Iterator[Found]:
    """A GPU's matmul_share_from names another GPU that has a measured matmul rate, and the GPU has
    none of its own to take instead."""
    # Strings only: any other value is the schema's to refuse (a diff review: a list crashed here).
    measured = {
        (g.get("id"), g.get("vendor"))
        for _, g in gpus
        if isinstance(g.get("id"), str) and g.get("tflops_bf16_measured") is not None
    }
    for i, gpu in gpus:
        source = gpu.get("matmul_share_from")
        if not isinstance(source, str):
            continue
        where = ("gpus", i, "matmul_share_from")
        if gpu.get("tflops_bf16_measured") is not None:
            yield where, "this GPU has a measured matmul rate of its own (tflops_bf16_measured)"
        elif not any(name == source for name, _ in measured):
            yield where, f"'{source}' is no GPU with a measured matmul rate (tflops_bf16_measured)"
        elif (source, gpu.get("vendor")) not in measured:
            yield where, f"'{source}' is another vendor's GPU: its share says nothing of this one's libraries"


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
    known = {
        "gpus": _ids(gpus),
        "models": _ids(models),
        "methods": method_ids,
        "categories": category_ids,
        "objectives": objective_ids,
        "providers": {
            o["provider"]
            for _, m in methods
            for _, o in _items(m, "providers")
            if isinstance(o.get("provider"), str)
        },
    }

    found: list[Found] = []
    found.extend(_unusable_names(gpus))
    found.extend(_shared_rule_ids(rules, pipelines))
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
        found.extend(_selector_references(r.get("methods"), ("rules", i, "methods"), methods, known))
        found.extend(_condition_references(r.get("when"), ("rules", i, "when"), known))
    for i, m in methods:
        instead = m.get("hosted_as")
        if isinstance(instead, dict):
            stages: PathKey = ("methods", i, "hosted_as", "objectives")
            found.extend(_unknown(stages, instead.get("objectives"), objective_ids, "objective"))
            found.extend(_repeated_stages(instead.get("objectives"), stages))
            found.extend(_not_hosted(stages, instead.get("objectives"), methods))
        for j, lib in _items(m, "libraries"):
            found.extend(
                _condition_references(lib.get("when"), ("methods", i, "libraries", j, "when"), known)
            )
        for j, pitfall in _items(m, "pitfalls"):
            where = ("methods", i, "pitfalls", j, "when")
            found.extend(_condition_references(pitfall.get("when"), where, known))
    for i, advice in _items(data, "evaluation"):
        found.extend(_condition_references(advice.get("when"), ("evaluation", i, "when"), known))
    found.extend(_duplicates("evaluation", _items(data, "evaluation"), False))
    for i, p in pipelines:
        found.extend(_unknown(("pipelines", i, "pipeline"), p.get("pipeline"), objective_ids, "objective"))
        found.extend(_repeated_stages(p.get("pipeline"), ("pipelines", i, "pipeline")))
        found.extend(_condition_references(p.get("when"), ("pipelines", i, "when"), known))
    for objective in DEFAULT_PIPELINE:
        if methods and objective not in objective_ids:
            message = (
                f"no objective '{objective}': a training plan runs it when no pipeline rule matches "
                "the profile"
            )
            found.append((("methods",), message))
    total = 0
    for section, items in (("rules", rules), ("pipelines", pipelines)):
        too_big, count = _condition_sizes(items, section)
        found.extend(too_big)
        total += count
    if total > MAX_KB_COMPARISONS:
        message = f"the conditions hold more than {MAX_KB_COMPARISONS:,} comparisons (aliases written out)"
        found.append((("rules",), message))
    found.extend(_hyperparameter_problems(methods))
    for part, i, g in guide_rules:
        found.extend(_unknown(("guide", part, i, "methods"), g.get("methods"), method_ids, "method"))
        found.extend(_unknown(("guide", part, i, "engine_rules"), g.get("engine_rules"), rule_ids, "rule"))
    found.extend(_matmul_share_sources(gpus))
    for i, price in _items(data, "prices"):
        found.extend(_unknown(("prices", i, "gpu"), price.get("gpu"), known["gpus"], "GPU"))
    found.extend(_repeated_families(_items(data, "model_families")))
    for part in ("comparison", "stages", "tools"):
        for i, row in _items(data, "guide", part):
            found.extend(_unknown(("guide", part, i, "methods"), row.get("methods"), method_ids, "method"))
    return found
