"""Bounded, safe, position-aware YAML loading (atlas_cli/kb/yamlsafe.py): hostile and broken files
give located problems quickly, never a traceback, a hang or a constructed Python object."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest
import yaml

from atlas_cli.kb import yamlsafe
from atlas_cli.kb.yamlsafe import Position, Problem, YamlProblems, dotted, load_yaml
from tests.conftest import Runner
from tests.test_knowledge import LOCATED, assert_cli_invalid, bundled_text, problems_of

# --- helpers -------------------------------------------------------------------------------------


def write(tmp_path: Path, content: str | bytes, name: str = "kb.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def yaml_problems(path: Path) -> list[str]:
    """load_yaml must refuse the file; every problem is one located line."""
    with pytest.raises(YamlProblems) as caught:
        load_yaml(path)
    lines = [str(p) for p in caught.value.problems]
    assert lines
    for line in lines:
        assert LOCATED.match(line), line
        assert "\n" not in line and "\r" not in line, line
    return lines


def only_problem(path: Path) -> str:
    [line] = yaml_problems(path)
    return line


# --- the loader itself ---------------------------------------------------------------------------


def test_uses_the_safe_c_loader_when_available() -> None:
    if hasattr(yaml, "CSafeLoader"):
        assert yamlsafe.SafeLoader is yaml.CSafeLoader
    assert issubclass(yamlsafe.SafeLoader, yaml.constructor.SafeConstructor)
    assert not issubclass(yamlsafe.SafeLoader, yaml.constructor.FullConstructor)


def test_values_and_positions(tmp_path: Path) -> None:
    path = write(tmp_path, "top:\n  name: x\n  list:\n    - 1\n    - {a: true, b: null, c: 2.5}\n")
    loaded = load_yaml(path)
    assert loaded.value == {"top": {"name": "x", "list": [1, {"a": True, "b": None, "c": 2.5}]}}
    assert loaded.positions[("top", "name")] == Position(str(path), 2, 9)
    assert loaded.positions[("top", "list", 1, "c")] == Position(str(path), 5, 29)
    assert loaded.key_positions[("top", "list")] == Position(str(path), 3, 3)


def test_dotted_paths() -> None:
    assert dotted(("methods", 3, "name")) == "methods[3].name"
    assert dotted(("guide", "choose", 0)) == "guide.choose[0]"
    assert dotted(()) == ""


def test_problem_is_always_one_line() -> None:
    problem = Problem(Position("kb.yaml", 2, 3), "a\nb", "bad\r\nvalue\u2028")
    assert str(problem) == "kb.yaml:2:3: a\\nb: bad\\r\\nvalue\\u2028"


def test_plain_scalars_and_explicit_core_tags(tmp_path: Path) -> None:
    path = write(tmp_path, "a: !!str 5\nb: !!int '7'\nc: !!float 1\nd: yes\ne: ~\nf: 0x10\n")
    assert load_yaml(path).value == {"a": "5", "b": 7, "c": 1.0, "d": True, "e": None, "f": 16}


def test_keys_are_their_text(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "1: a\n~: b\nyes: c\n")).value == {"1": "a", "~": "b", "yes": "c"}


def test_aliases_within_the_limits_work(tmp_path: Path) -> None:
    path = write(tmp_path, "base: &b {x: 1, y: [1, 2]}\ncopy: *b\n")
    assert load_yaml(path).value == {"base": {"x": 1, "y": [1, 2]}, "copy": {"x": 1, "y": [1, 2]}}


def test_a_long_string_aliased_many_times_is_refused(tmp_path: Path) -> None:
    """A 1 MB anchored string and 20,000 aliases of it passed validate as ~20,000 values, then
    every command ran out of memory writing it out (an attacker's review): text counts as what it
    expands to, in the anchor's collections as well."""
    big = "x" * 100_000
    aliases = "\n".join(["- *s"] * 500)
    path = write(tmp_path, f"a: &s {big}\nb:\n{aliases}\n")
    assert any("characters of text once aliases are expanded" in p for p in yaml_problems(path))
    nested = write(tmp_path, f"a: &m {{t: {big}}}\nb: [{', '.join(['*m'] * 200)}]\n")
    assert any("characters of text" in p for p in yaml_problems(nested))
    few = write(tmp_path, f"a: &s {big}\nb: [*s, *s]\n")
    assert load_yaml(few).value["b"] == [big, big]


# --- broken files --------------------------------------------------------------------------------


def test_duplicate_keys_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert yaml_problems(path) == [
        f"{path}:4:3: b.c: duplicate key 'c'",
        f"{path}:5:1: a: duplicate key 'a'",
    ]


def test_duplicate_keys_written_differently(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\n'a': 2\n")
    assert only_problem(path) == f"{path}:2:1: a: duplicate key 'a'"


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b"", "1:1", "file is empty"),
        (b"a: 1\nb: \xff\xfe\n", "2:4", "not valid UTF-8 (byte 0xff)"),
        ("é: 1\n".encode("utf-16"), "1:1", "not valid UTF-8 (byte 0xff)"),
        (b"a: [1\n", "1:6", "YAML syntax: did not find expected ',' or ']'"),
        (b"a:\n\t- 1\n", "2:1", "YAML syntax: found character that cannot start any token"),
        (b"a: 1\n---\nb: 2\n", "2:1", "only one YAML document is allowed"),
        (b"a: *nowhere\n", "1:4", "a: alias *nowhere names no anchor (&nowhere) above it"),
        (b"a: b: c\n", "1:5", "YAML syntax: mapping values are not allowed"),
        ("é: 'x\x00'\n".encode(), "1:6", "control characters are not allowed (#x0000)"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, where: str, message: str) -> None:
    path = write(tmp_path, content)
    line = only_problem(path)
    assert line.startswith(f"{path}:{where}: "), line
    assert message in line


def test_binary_garbage(tmp_path: Path) -> None:
    garbage = bytes((i * 131 + 17) % 256 for i in range(4096))
    only_problem(write(tmp_path, garbage))


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system ['touch {marker}']\n",
        "a: !!python/name:os.system\n",
        "a: !!python/tuple [1, 2]\n",
        "a: !custom value\n",
        "a: !custom {b: 1}\n",
        "a: !custom [1]\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
        "a: !!pairs [x: 1]\n",
    ],
)
def test_tags_are_refused_not_constructed(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "constructed"
    path = write(tmp_path, text.replace("{marker}", str(marker)))
    line = only_problem(path)
    assert line.startswith(f"{path}:1:4: a: tag '"), line
    assert "is not allowed" in line
    assert not marker.exists()


def test_tagged_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "!!python/str a: 1\n")
    assert "keys must be plain strings" in only_problem(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", "3:3"),
        ("other:\n  <<: [{x: 1}]\n", "2:3"),
        ("a: <<\n", "1:4"),
    ],
)
def test_merge_keys_are_refused(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{where}: "), line
    assert "'<<' (a YAML merge key) is not supported" in line


def test_complex_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "? [a, b]\n: c\n{x: 1}: d\n")
    lines = yaml_problems(path)
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:1:3", f"{path}:3:1"]
    assert all(line.endswith("keys must be plain strings") for line in lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Python cannot read or print an int of 5,000 digits; hex reads, but cannot be shown.
        ("a: " + "9" * 5000 + "\n", "bad value: a number 5000 characters long is out of range"),
        ("a: 0x" + "f" * 5000 + "\n", "bad value: a number 5002 characters long is out of range"),
        ("a: 2001-13-45\n", "bad value: month must be in 1..12"),
    ],
)
def test_scalars_python_cannot_build(tmp_path: Path, text: str, message: str) -> None:
    line = only_problem(write(tmp_path, text))
    assert line.startswith(f"{tmp_path / 'kb.yaml'}:1:4: a: {message}"), line


def test_key_with_line_break_stays_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '"a\\nb": 1\n"a\\nb": 2\n')
    assert only_problem(path) == f"{path}:2:1: a\\nb: duplicate key 'a\\nb'"


# --- bounded work --------------------------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _measure(path: Path) -> tuple[int, list[str]]:
    """Peak bytes allocated while the file is refused, and the problems. (How long it takes is
    measured in benchmarks/, not asserted here: memory bounds the work done.)"""
    tracemalloc.start()
    try:
        with pytest.raises(YamlProblems) as caught:
            load_yaml(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, [str(p) for p in caught.value.problems]


def test_billion_laughs_is_refused_with_little_memory(tmp_path: Path) -> None:
    path = write(tmp_path, _laughs())  # 10**9 values once expanded
    peak, [line] = _measure(path)
    assert peak < 5_000_000, peak
    assert re.match(rf"^{re.escape(str(path))}:\d:\d+: l\d\[\d\]: ", line), line
    assert f"more than {yamlsafe.MAX_NODES} values once aliases are expanded" in line


def test_billion_laughs_through_the_cli(tmp_path: Path, run: Runner) -> None:
    path = write(tmp_path, _laughs())
    assert_cli_invalid(run("validate", str(path)), "aliases are expanded")
    assert_cli_invalid(run("--kb", str(path), "gpus"), "aliases are expanded")


def test_many_plain_values_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "MAX_NODES", 100_000)  # the rule, at a size that runs fast
    path = write(tmp_path, "a: [" + ",".join(["1"] * (yamlsafe.MAX_NODES + 10)) + "]\n")
    _, [line] = _measure(path)
    assert f"more than {yamlsafe.MAX_NODES} values" in line


def test_alias_into_itself_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a: &a [1, *a]\nb: &b {c: *b}\n")
    line = only_problem(path)
    assert line == f"{path}:1:11: a[1]: alias *a refers to a value that contains it"


def test_nesting_depth_limit(tmp_path: Path) -> None:
    def nested(levels: int) -> str:
        return "".join("  " * i + "k:\n" for i in range(levels)) + "  " * levels + "v\n"

    assert load_yaml(write(tmp_path, nested(60), "ok.yaml")).value is not None
    line = only_problem(write(tmp_path, nested(80)))
    assert f"nested deeper than {yamlsafe.MAX_DEPTH} levels" in line
    flow = only_problem(write(tmp_path, "a: " + "[" * 20_000 + "]" * 20_000 + "\n", "flow.yaml"))
    assert LOCATED.match(flow)


def test_aliases_cannot_build_deeper_than_the_limit(tmp_path: Path) -> None:
    deep = "[" * 40 + "1" + "]" * 40
    path = write(tmp_path, f"a: &a {deep}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n")
    assert f"nested deeper than {yamlsafe.MAX_DEPTH} levels" in only_problem(path)


def test_file_size_cap(tmp_path: Path) -> None:
    limit = yamlsafe.MAX_FILE_BYTES
    path = write(tmp_path, "# padding\n" * (limit // 10 + 1))
    assert only_problem(path) == f"{path}:1:1: file is larger than the {limit}-byte limit"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_stream_is_cut_at_the_cap() -> None:
    """Cut at the cap, and said to be no file (a newcomer's review: "file is larger than")."""
    line = only_problem(Path("/dev/zero"))
    assert line.startswith("/dev/zero:1:1: cannot read: not a regular file, and it gave more than")


def test_very_long_lines(tmp_path: Path) -> None:
    text = "a: " + "x" * 2_000_000 + "\n"
    assert len(load_yaml(write(tmp_path, text)).value["a"]) == 2_000_000
    garbage = write(tmp_path, "a: [" + "x" * 2_000_000 + "\n", "bad.yaml")
    line = only_problem(garbage)
    assert re.match(rf"^{re.escape(str(garbage))}:\d+:\d+: YAML syntax: ", line)


# --- the same files as a KB, through the CLI -------------------------------------------------------

HOSTILE: dict[str, str | bytes] = {
    "empty": b"",
    "invalid utf-8": b"methods: [\xc3\x28]\n",
    "binary garbage": bytes(range(256)) * 8,
    "tabs": "methods:\n\t- id: lora\n",
    "duplicate key": "gpus: []\ngpus: []\n",
    "merge key": "base: &b {a: 1}\ngpus:\n  - <<: *b\n",
    "python tag": "gpus: !!python/object/apply:os.system ['echo hi']\n",
    "custom tag": "gpus: !gpu-list []\n",
    "wrong top level": "- gpus\n",
    "billion laughs": _laughs(),
    "deep": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "long line": "methods: " + "y" * 1_000_000 + "\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_kb_files_exit_3_with_located_messages(tmp_path: Path, run: Runner, case: str) -> None:
    path = write(tmp_path, HOSTILE[case])
    problems_of(path)  # in-process: KnowledgeBaseError with located lines
    assert_cli_invalid(run("validate", str(path)), f"{path}:")
    assert_cli_invalid(run("--kb", str(path), "methods", "--json"), f"{path}:")


def test_problems_in_a_real_kb_text_keep_their_lines(tmp_path: Path) -> None:
    text = bundled_text()
    line = text.count("\n", 0, text.index("  - id: rtx-3090")) + 1
    broken = text.replace("  - id: rtx-3090\n", "  - id: rtx-3090\n    id: rtx-3090-again\n", 1)
    [problem] = problems_of(write(tmp_path, broken))
    assert problem.startswith(f"{tmp_path / 'kb.yaml'}:{line + 1}:5: gpus[")
    assert problem.endswith(".id: duplicate key 'id'")
