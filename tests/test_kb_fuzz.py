"""A seeded mutation fuzzer over the bundled knowledge base.

Each case breaks a single-file copy of the KB, either as data (delete keys, swap types, duplicate
ids, dangle references, bad enum values, unknown keys...) or as text (truncate, delete or repeat
lines, re-indent, splice in YAML syntax, flip bytes), and loads it. Every outcome must be a valid
KB or a KnowledgeBaseError whose every problem is one `path:line:column: ...` line inside the
file; anything else (a traceback, a hang) is a bug. A smaller batch goes through the real CLI
(`validate PATH`): exit 0 or 3, located stderr, no traceback.

A failure message names the case's seed and mutations; `_case(seed)` rebuilds that file.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_cli.errors import KnowledgeBaseError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.loading import load_knowledge_base
from tests.conftest import Runner
from tests.test_knowledge import LOCATED, bundled_sections

SEED = 20_251_128
IN_PROCESS_CASES = 1200
CLI_CASES = 60

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_POSITION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): ")


# --- the KB under test -----------------------------------------------------------------------------


def _trim(value: Any, depth: int = 0) -> Any:
    """Keep every id, reference and shape; cut prose so that each load is quick."""
    if isinstance(value, str):
        return value[:40]
    if isinstance(value, list):
        keep = value if depth < 3 or any(isinstance(v, dict) and "fact" in v for v in value) else value[:1]
        return [_trim(v, depth + 1) for v in keep]
    if isinstance(value, dict):
        return {k: _trim(v, depth + 1) for k, v in value.items()}
    return value


def fuzz_base() -> dict[str, Any]:
    """A small but complete KB: every section, every kind of item and condition, all methods
    (everything refers to them), the GPUs that rules name, a few models and the rules the guide
    cites plus some more. Small, so that a thousand loads stay quick."""
    full = bundled_sections()
    data = _trim(full)
    for method, tags in zip(data["methods"], (m.get("tags", []) for m in full["methods"]), strict=True):
        method["tags"] = tags  # selectors name tags: keep every one
    for method, full_method in zip(data["methods"], full["methods"], strict=True):
        if "providers" in full_method:  # conditions name every provider, and tunes its services
            method["providers"] = [
                {**_trim(offer, 4), "services": offer["services"]} for offer in full_method["providers"]
            ]
    cited = {
        r for g in [*data["guide"]["choose"], *data["guide"]["recommendations"]] for r in g["engine_rules"]
    }
    data["rules"] = [r for i, r in enumerate(data["rules"]) if r["id"] in cited or i % 4 == 0]
    data["pipelines"] = data["pipelines"][:4] + [p for p in data["pipelines"][4:] if p["id"] in cited]
    named = set(re.findall(r"[a-z0-9][a-z0-9.-]+", json.dumps([r.get("when") for r in data["rules"]])))
    data["gpus"] = [g for i, g in enumerate(data["gpus"]) if g["id"] in named or i < 3]
    aliases = {g["id"]: g.get("aliases", []) for g in full["gpus"]}
    for gpu in data["gpus"]:
        if "free_tier_aliases" in gpu:  # each must stay one of the card's aliases
            gpu["aliases"] = aliases[gpu["id"]]
    data["models"] = [
        m for m in data["models"] if m["id"] in {"bert-base", "gpt2", "t5-small", "llama-3.1-8b"}
    ]
    kept = {g["id"] for g in data["gpus"]}
    data["prices"] = [p for p in data["prices"] if p["gpu"] in kept][:4]
    return data


def _dump(data: Any) -> str:
    return str(yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120))


def _dump_fast(data: Any, rng: random.Random) -> bytes:
    """Mostly JSON (valid YAML, and written by C code: much quicker), sometimes block YAML."""
    if rng.random() < 0.2:
        return _dump(data).encode("utf-8")
    return _json_lines(data).encode("utf-8", errors="surrogatepass")


def _json_lines(data: Any) -> str:
    """JSON with one section item per line: realistic line numbers, C-speed encoding."""
    if not isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False)
    parts = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            body = "[\n" + ",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in value) + "\n]"
        elif isinstance(value, dict) and value:
            rows = (
                f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                for k, v in value.items()
            )
            body = "{\n" + ",\n".join(rows) + "\n}"
        else:
            body = json.dumps(value, ensure_ascii=False)
        parts.append(f"{json.dumps(key, ensure_ascii=False)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(the fuzz KB as JSON, for quick copies; the same as YAML text). It must be valid."""
    data = fuzz_base()
    text = _dump(data)
    path = tmp_path_factory.mktemp("fuzz-base") / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    kb = load_knowledge_base(path)
    assert len(kb.methods) >= 24 and kb.rules and kb.pipelines and kb.guide.choose and kb.models
    return json.dumps(data), text


# --- data mutations ----------------------------------------------------------------------------------

Slot = tuple[Any, Any]  # (container, key or index)
ID_LISTS = (
    ("methods",),
    ("gpus",),
    ("models",),
    ("rules",),
    ("pipelines",),
    ("categories",),
    ("guide", "choose"),
    ("guide", "recommendations"),
)
ENUM_FIELDS = {
    "kind", "memory", "speed", "quality", "vendor", "architecture", "action", "op", "memory_model", "status",
}  # fmt: skip
REFERENCE_FIELDS = {"methods", "engine_rules", "category", "pipeline"}
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**30, -(10**30), float("inf"), "", " ", "x" * 5000, "ünï€ødé ✓",
    "line\nbreak", "a: b", "*star", "&anchor", "!tag", "- dash", "0x1F", "1e3", "yes", "~", [], {},
    ["x"], [None], {"x": 1}, {"en": ""}, [[[]]], {"id": "lora"},
]  # fmt: skip


def _slots(value: Any) -> list[Slot]:
    """Every (container, key) in the tree."""
    found: list[Slot] = []
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            found.append((node, key))
            stack.append(child)
    return found


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def delete_key(rng: random.Random, data: Any) -> str:
    slots = [(c, k) for c, k in _slots(data) if isinstance(c, dict)]
    container, key = rng.choice(slots)
    del container[key]
    return f"delete {key!r}"


def swap_type(rng: random.Random, data: Any) -> str:
    container, key = rng.choice(_slots(data))
    new = rng.choice(ODD_VALUES)
    container[key] = json.loads(json.dumps(new)) if isinstance(new, (list, dict)) else new
    return f"set {key!r} to {str(new)[:20]!r}"


def duplicate_id(rng: random.Random, data: Any) -> str:
    items = _lookup(data, rng.choice(ID_LISTS))
    if not isinstance(items, list) or not items:
        return "duplicate: nothing"
    source = rng.choice(items)
    if rng.random() < 0.5 or len(items) < 2:
        items.append(json.loads(json.dumps(source)))
        return "duplicate an item"
    target = rng.choice(items)
    if isinstance(target, dict) and isinstance(source, dict) and "id" in source:
        field = rng.choice(["id", "name", "aliases"]) if "aliases" in source else "id"
        target[field] = json.loads(json.dumps(source.get(field)))
        return f"copy {field} to another item"
    return "duplicate: no ids"


def dangle_reference(rng: random.Random, data: Any) -> str:
    slots = [(c, k) for c, k in _slots(data) if isinstance(c, dict) and k in REFERENCE_FIELDS]
    container, key = rng.choice(slots)
    ghost = rng.choice(["ghost", "lora ", "LoRA", "rtx-3090", "sft2", "", "atlas-3.9"])
    if isinstance(container[key], list) and container[key]:
        container[key][rng.randrange(len(container[key]))] = ghost
    else:
        container[key] = ghost
    return f"dangle {key!r} -> {ghost!r}"


def bad_enum(rng: random.Random, data: Any) -> str:
    slots = [(c, k) for c, k in _slots(data) if isinstance(c, dict) and k in ENUM_FIELDS]
    container, key = rng.choice(slots)
    container[key] = rng.choice(["HIGH", "huge", "", "very low", "lora", 3, None])
    return f"enum {key!r}"


def unknown_key(rng: random.Random, data: Any) -> str:
    mappings = [data] + [c[k] for c, k in _slots(data) if isinstance(c[k], dict)]
    target = rng.choice(mappings)
    key = rng.choice(["extra", "idd", "Name", "aliases ", "source_", "__proto__", "<<", "1", ""])
    target[key] = rng.choice(["x", 1, None, []])
    return f"add key {key!r}"


def rename_key(rng: random.Random, data: Any) -> str:
    slots = [(c, k) for c, k in _slots(data) if isinstance(c, dict)]
    container, key = rng.choice(slots)
    new = rng.choice([key.upper(), key + "s", key[:-1], key.replace("_", "-"), f"{key} "])
    if new not in container:
        container[new] = container.pop(key)
    return f"rename {key!r} -> {new!r}"


def empty_or_wrap(rng: random.Random, data: Any) -> str:
    container, key = rng.choice(_slots(data))
    value = container[key]
    choice = rng.randrange(3)
    container[key] = [] if choice == 0 else [value] if choice == 1 else {"value": value}
    return f"reshape {key!r}"


def drop_section(rng: random.Random, data: Any) -> str:
    section = rng.choice(sorted(data))
    del data[section]
    return f"drop section {section}"


DATA_MUTATIONS: list[Callable[[random.Random, Any], str]] = [
    delete_key, swap_type, duplicate_id, dangle_reference, bad_enum, unknown_key, rename_key,
    empty_or_wrap, drop_section,
]  # fmt: skip
DATA_WEIGHTS = [4, 4, 3, 3, 3, 2, 2, 2, 1]


# --- text mutations ----------------------------------------------------------------------------------

SPLICES = [
    "&a ", "*a", "*nowhere", "!!python/object:os.system ", "!!python/name:os.system ", "!tag ", "!!binary ",
    "<<: *a\n", "{", "}", "[", "]", ": ", "- ", "'", '"', "|\n", ">-\n", "%YAML 1.1\n", "---\n", "...\n",
    "\t", "\x00", "\x07", "\ufeff", "\u2028", "# ", "? ", "&x [*x]", ",", "@", "`", "\\", "\r", "\r\n",
    "9" * 5000, "2001-13-45", ".inf", ".nan", "0o777",
]  # fmt: skip


def truncate(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    cut = rng.randrange(len(text) + 1)
    return text[:cut], f"truncate at {cut}"


def delete_line(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    lines = text.split(b"\n")
    i = rng.randrange(len(lines))
    return b"\n".join(lines[:i] + lines[i + 1 :]), f"delete line {i + 1}"


def repeat_lines(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    lines = text.split(b"\n")
    i = rng.randrange(len(lines))
    n = rng.randint(1, 4)
    return b"\n".join(lines[: i + n] + lines[i : i + n] + lines[i + n :]), f"repeat lines {i + 1}+{n}"


def swap_lines(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    lines = text.split(b"\n")
    i = rng.randrange(max(1, len(lines) - 1))
    if i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return b"\n".join(lines), f"swap lines {i + 1}"


def reindent(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    lines = text.split(b"\n")
    i = rng.randrange(len(lines))
    prefix = rng.choice([b" ", b"  ", b"\t", b"    "])
    lines[i] = prefix + lines[i] if rng.random() < 0.6 else lines[i][rng.randint(1, 3) :]
    return b"\n".join(lines), f"reindent line {i + 1}"


def splice(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(text) + 1)
    piece = rng.choice(SPLICES).encode()
    return text[:at] + piece + text[at:], f"splice {piece[:12]!r} at {at}"


def flip_byte(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(text))
    return text[:at] + bytes([rng.randrange(256)]) + text[at + 1 :], f"byte at {at}"


def anchor_games(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    """Give a random value an anchor and refer to it elsewhere (or to itself)."""
    spots = [m.end() for m in re.finditer(rb": (?=[\[{\w])", text)]
    if len(spots) < 2:
        return text, "anchor: no spot"
    first, second = sorted(rng.sample(spots, 2))
    text = text[:first] + b"&z " + text[first:]
    second += 3
    end = text.find(b"\n", second)
    end = len(text) if end < 0 else end
    return text[:second] + b"*z" + text[end:], "anchor and alias"


TEXT_MUTATIONS: list[Callable[[random.Random, bytes], tuple[bytes, str]]] = [
    truncate, delete_line, repeat_lines, swap_lines, reindent, splice, flip_byte, anchor_games,
]  # fmt: skip
TEXT_WEIGHTS = [2, 3, 3, 2, 3, 4, 2, 2]


# --- running cases -----------------------------------------------------------------------------------


@dataclass
class Case:
    seed: int
    content: bytes
    mutations: list[str]


def _case(seed: int, base_json: str, base_text: str) -> Case:
    rng = random.Random(seed)
    count = rng.choice([1, 1, 1, 2, 3])
    if rng.random() < 0.6:
        data = json.loads(base_json)
        done = [rng.choices(DATA_MUTATIONS, DATA_WEIGHTS)[0](rng, data) for _ in range(count) if data]
        return Case(seed, _dump_fast(data, rng), done)
    content = base_text.encode("utf-8")
    done = []
    for _ in range(count):
        if content:
            content, what = rng.choices(TEXT_MUTATIONS, TEXT_WEIGHTS)[0](rng, content)
            done.append(what)
    return Case(seed, content, done)


def _located_inside(problem: str, path: Path, content: bytes) -> str | None:
    """Why `problem` is not a proper located line inside `path`, or None when it is."""
    if "\n" in problem or "\r" in problem or not LOCATED.match(problem):
        return "not one located line"
    match = _POSITION.match(problem)
    assert match is not None
    if match["file"] != str(path):
        return "names another file"
    lines = max(1, len(content.decode("utf-8", errors="replace").splitlines()))
    if not (1 <= int(match["line"]) <= lines and int(match["column"]) >= 1):
        return f"line {match['line']} is outside the file ({lines} lines)"
    return None


def _check(case: Case, path: Path) -> tuple[str, str | None]:
    """('valid' | 'invalid', what went wrong or None)."""
    path.write_bytes(case.content)
    try:
        kb = load_knowledge_base(path)
    except KnowledgeBaseError as error:
        if not error.problems:
            return "invalid", "KnowledgeBaseError without problems"
        for problem in error.problems:
            wrong = _located_inside(problem, path, case.content)
            if wrong:
                return "invalid", f"{wrong}: {problem[:300]!r}"
        return "invalid", None
    except Exception as error:  # noqa: BLE001 - any other exception is the bug being looked for
        return "crash", f"{type(error).__name__}: {error}"[:300]
    Catalog(kb)  # a valid KB must also index
    return "valid", None


@pytest.mark.slow
def test_fuzz_loader_in_process(base: tuple[str, str], tmp_path: Path) -> None:
    base_json, base_text = base
    outcomes = {"valid": 0, "invalid": 0, "crash": 0}
    failures: list[str] = []
    for i in range(IN_PROCESS_CASES):
        case = _case(SEED + i, base_json, base_text)
        path = tmp_path / f"case-{case.seed}.yaml"
        outcome, wrong = _check(case, path)
        outcomes[outcome] += 1
        if wrong:
            failures.append(f"seed {case.seed} {case.mutations}: {wrong}")
        else:
            path.unlink()  # failing cases stay in tmp_path for a look
    assert not failures, f"{len(failures)} bad outcomes, e.g.:\n" + "\n".join(failures[:10])
    assert outcomes["valid"] >= IN_PROCESS_CASES // 50, outcomes  # some mutations are harmless
    assert outcomes["invalid"] >= IN_PROCESS_CASES // 2, outcomes


@pytest.mark.slow  # fuzzing: .ci/run runs it
def test_fuzz_validate_command(base: tuple[str, str], tmp_path: Path, run: Runner) -> None:
    base_json, base_text = base
    exits: dict[int, int] = {}
    for i in range(CLI_CASES):
        case = _case(SEED + 1_000_000 + i, base_json, base_text)
        path = tmp_path / f"case-{case.seed}.yaml"
        path.write_bytes(case.content)
        result = run("validate", str(path))
        label = f"seed {case.seed} {case.mutations}"
        exits[result.exit_code] = exits.get(result.exit_code, 0) + 1
        assert result.exit_code in (0, 3), (label, result.exit_code, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, label
        if result.exit_code == 3:
            *problems, summary = result.stderr.strip().splitlines()
            assert summary.startswith("ft-atlas: invalid knowledge base ("), label
            assert problems, label
            for problem in problems:
                assert _located_inside(problem, path, case.content) is None, (label, problem)
        else:
            assert result.stdout.startswith(f"{path}: valid"), label
    assert exits.get(3, 0) >= CLI_CASES // 2, exits
