"""The command line's contract, through the real entry point (in-process, see conftest.run).

Every command: --help with an example, --format table|json|markdown, --json, schema_version 1,
valid GitHub-flavoured Markdown, no ANSI escapes off a terminal, 80-column tables, exit codes
0/1/2/3/130, results on stdout and messages on stderr. Then each command's own behaviour, and
`recommend` (flags, values, batch mode) in detail.

Tests marked xfail(strict=True) document a requirement that the commands (atlas_cli/cli/) do not
meet yet; fix them, then drop the marker.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from atlas_cli import __version__
from atlas_cli.cli import COMMAND_GROUPS
from atlas_cli.core.shapes import bare_model, shape_of
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from tests.conftest import Run, Runner, assert_recommendation, fails, ok


def xfail_cli(what: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(reason=f"cli: {what}", strict=True)


# Arguments that make each command succeed on the bundled knowledge base.
COMMANDS: dict[str, list[str]] = {
    "methods": [],
    "show": ["lora"],
    "compare": [],
    "categories": [],
    "tools": [],
    "gpus": [],
    "models": [],
    "guide": [],
    "validate": [],
    "schema": [],
    "estimate": ["--model-size", "7b", "--gpu", "rtx-3090"],
    "recommend": ["--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"],
}

NO_EXAMPLE: set[str] = set()
NO_FORMAT: set[str] = set()

# More invocations whose output is rendered (tables, cards, charts, trees).
EXTRA_VIEWS: list[list[str]] = [
    ["show", "qlora"],
    ["compare", "lora", "qlora", "dpo"],
    ["estimate", "--method", "qlora", "--model", "llama-3.1-8b", "--gpu", "rtx-4090"],
    ["estimate", "--model-size", "70b", "--gpu", "h100-80gb", "--gpus", "8"],
    ["recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--explain"],
    ["--lang", "ru", "guide"],
    ["--lang", "ru", "categories"],
]

ANSI = re.compile(r"\x1b\[")


def param(command: str, unsupported: set[str], why: str) -> Any:
    marks = [xfail_cli(f"{command}: {why}")] if command in unsupported else []
    return pytest.param(command, marks=marks, id=command)


def invocation(command: str) -> list[str]:
    return [command, *COMMANDS[command]]


# --- Markdown ------------------------------------------------------------------------------

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_SEPARATOR_CELL = re.compile(r"^\s*:?-{3,}:?\s*$")


def _cells(line: str) -> list[str]:
    """Split a table row on its unescaped pipes (a backslash escapes the next character), without
    the outer ones."""
    body = line.strip()
    assert body.startswith("|"), line
    cells, current, i = [], "", 1
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        i += 1
    assert current.strip() == "", f"row does not end with an unescaped pipe: {line}"
    return cells


def _outside_code(text: str) -> list[str]:
    """The lines, with those inside fenced code blocks blanked; asserts every fence is closed."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            match = _FENCE.match(stripped)
            if match:
                fence = match.group(1)
                out.append("")
            else:
                out.append(line)
        else:
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            out.append("")
    assert fence is None, "unclosed code fence"
    return out


def assert_gfm(text: str) -> int:
    """Check Markdown as GitHub renders it: closed code fences; each table with a blank line before
    it, a header, a separator row with as many cells, and rows as wide; pipes in cells escaped.
    A CommonMark parser with GFM tables must find the same tables. Returns the number of tables."""
    lines = _outside_code(text)
    tables: list[list[str]] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("|"):
            i += 1
            continue
        assert i == 0 or lines[i - 1].strip() == "", f"no blank line before table: {lines[i]}"
        start = i
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            i += 1
        rows = lines[start:i]
        tables.append(rows)
        assert len(rows) >= 2, f"table without separator row: {rows}"
        header = _cells(rows[0])
        separator = _cells(rows[1])
        assert all(_SEPARATOR_CELL.match(c) for c in separator), rows[1]
        assert len(separator) == len(header), (rows[0], rows[1])
        for row in rows[2:]:
            assert len(_cells(row)) == len(header), f"{len(header)} columns in header, row: {row}"
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    assert sum(t.type == "table_open" for t in tokens) == len(tables), "tables the parser sees differ"
    assert sum(t.type == "tr_open" for t in tokens) == sum(len(rows) - 1 for rows in tables)
    return len(tables)


# --- every command -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [param(c, NO_EXAMPLE, "--help has no example") for c in COMMAND_GROUPS])
def test_help_has_an_example(run: Runner, command: str) -> None:
    result = ok(run(command, "--help", env={"COLUMNS": "200"}))
    assert "Usage:" in result.stdout
    assert re.search(r"\bexamples?\b", result.stdout, re.IGNORECASE), result.stdout
    examples = [
        line for line in result.stdout.splitlines() if f"ft-atlas {command}" in line and "Usage:" not in line
    ]
    assert examples, f"no 'ft-atlas {command} ...' example in --help"
    # Each example on a line of its own (export's two ran together as one invalid command).
    assert all(line.count("ft-atlas ") == 1 for line in examples), examples


def test_short_help_option(run: Runner) -> None:
    assert ok(run("methods", "-h")).stdout == ok(run("methods", "--help")).stdout


def test_top_level_help_lists_commands_and_examples(run: Runner) -> None:
    result = ok(run("--help", env={"COLUMNS": "200"}))
    for command in COMMANDS:
        assert re.search(rf"\b{command}\b", result.stdout), command
    assert "ft-atlas recommend --gpu" in result.stdout


def test_version(run: Runner) -> None:
    result = ok(run("--version"))
    assert result.stdout == f"ft-atlas {__version__}\n"
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
@pytest.mark.parametrize("command", [param(c, NO_FORMAT, "no --format option") for c in COMMANDS])
def test_every_format(run: Runner, command: str, fmt: str) -> None:
    result = ok(run(*invocation(command), "--format", fmt, env={"COLUMNS": "80"}))
    assert result.stdout.strip()
    assert result.stderr == ""
    if fmt == "json":
        assert json.loads(result.stdout)["schema_version"] == 2
    elif fmt == "markdown":
        assert_gfm(result.stdout)


@pytest.mark.parametrize("command", [param(c, NO_FORMAT, "no --json option") for c in COMMANDS])
def test_json_flag_is_format_json(run: Runner, command: str) -> None:
    as_flag = ok(run(*invocation(command), "--json"))
    assert as_flag.stdout == ok(run(*invocation(command), "--format", "json")).stdout
    assert as_flag.stdout == ok(run(*invocation(command), "-f", "json")).stdout
    data = as_flag.json()
    assert isinstance(data, dict)
    assert data["schema_version"] == 2


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in NO_FORMAT])
def test_json_does_not_depend_on_terminal_width(run: Runner, command: str) -> None:
    narrow = ok(run(*invocation(command), "--json", env={"COLUMNS": "20"}))
    wide = ok(run(*invocation(command), "--json", env={"COLUMNS": "250"}))
    assert narrow.stdout == wide.stdout


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in NO_FORMAT])
def test_markdown_does_not_depend_on_terminal_width(run: Runner, command: str) -> None:
    narrow = ok(run(*invocation(command), "--format", "markdown", env={"COLUMNS": "20"}))
    wide = ok(run(*invocation(command), "--format", "markdown", env={"COLUMNS": "250"}))
    assert narrow.stdout == wide.stdout


def test_schema_command_is_json(run: Runner) -> None:
    data = ok(run("schema")).json()
    assert data["schema_version"] == 2
    assert data["knowledge_base"]["type"] == "object"
    assert set(data["profile"]["properties"]) >= {"gpu", "vram", "model", "model_size", "examples", "goal"}
    assert data["profile"]["additionalProperties"] is False
    outputs = data["outputs"]
    assert {"recommend", "estimate", "compare"} <= set(outputs)
    recommend = outputs["recommend"]
    assert {"schema_version", "profile", "recommendations"} <= set(recommend["properties"])


VIEWS = [invocation(c) for c in COMMANDS if c not in ("validate", "schema")] + EXTRA_VIEWS


# Widths (60, 80, 120 columns) are tested in tests/test_terminal_width.py.


@pytest.mark.parametrize("args", [*VIEWS, ["methods", "--help"], ["recommend", "--help"]], ids=" ".join)
@pytest.mark.parametrize(
    "how",
    [
        pytest.param({}, id="not-a-tty"),
        pytest.param({"NO_COLOR": "1"}, id="NO_COLOR"),
        pytest.param({"TERM": "dumb"}, id="TERM=dumb"),
        pytest.param({"--no-color": ""}, id="--no-color"),
    ],
)
def test_no_ansi_escapes_off_a_terminal(run: Runner, args: list[str], how: dict[str, str]) -> None:
    env = {k: v for k, v in how.items() if not k.startswith("--")}
    flags = [k for k in how if k.startswith("--")]
    result = ok(run(*flags, *args, env=env))
    assert not ANSI.search(result.stdout)
    assert not ANSI.search(result.stderr)


@pytest.mark.parametrize(
    "args", [*VIEWS, ["recommend", "--help"], ["--lang", "ru", "recommend", "--gpu", "4090"]]
)
def test_no_line_ends_in_blanks(run: Runner, args: list[str]) -> None:
    """A newcomer's review: rich padded 36 of 91 lines of `recommend | grep ' $'` to the width,
    and the padding ended up in files and diffs."""
    result = ok(run(*args, env={"COLUMNS": "60"}))
    assert not [line for line in result.stdout.splitlines() if line.endswith(" ")]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_markdown_and_table_carry_non_ascii_text(run: Runner, fmt: str) -> None:
    result = ok(run("--lang", "ru", "guide", "--format", fmt, env={"COLUMNS": "100"}))
    assert re.search("[а-яА-Я]", result.stdout)
    assert "§3" in result.stdout


# --- exit codes and streams ----------------------------------------------------------------


def test_no_arguments_shows_help(run: Runner) -> None:
    result = run()
    assert result.exit_code in (0, 2)
    assert "Usage" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["methods", "--no-such-option"],
        ["methods", "--format", "xml"],
        ["show"],
        ["recommend", "--top", "0"],
        ["estimate", "--gpus", "0"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(run: Runner, args: list[str]) -> None:
    fails(run(*args), 2)


@pytest.mark.parametrize("flag", ["--gpus", "--epochs", "--examples", "--seq-len"])
def test_a_negative_number_is_refused_as_below_zero_not_as_malformed(run: Runner, flag: str) -> None:
    """'--gpus -1' said "'-1' is not a whole number; write it like 1, 8 or 1,024": it is one."""
    result = fails(run("recommend", "--model", "llama-3.1-8b", flag, "-1"), 2)
    assert "'-1' must be a positive number" in result.stderr and "write it like" not in result.stderr


def test_a_malformed_whole_number_is_not_told_about_decimals(run: Runner) -> None:
    """A newcomer's review: --gpus 1e9 and --top 1e2 were told "'.' for decimals", which they
    refuse; a count with a unit (1.5k) keeps it."""
    for flag in ("--gpus", "--top"):
        result = fails(run("recommend", flag, "1e2"), 2, "is not a whole number")
        assert "for decimals" not in result.stderr
    assert "'.' for decimals" in fails(run("recommend", "--examples", "1x"), 2).stderr


@pytest.mark.parametrize("text", ["2x4090", "4090 x2", "2 × RTX 4090"])
def test_a_count_written_into_the_gpu_name_is_shown_apart(run: Runner, text: str) -> None:
    """'4090 x2' was an unknown GPU with no word about --gpus."""
    fails(run("recommend", "--gpu", text), 2, "--gpu rtx-4090 --gpus 2")


@pytest.mark.parametrize("text", ["0x4090", "100001x4090", "2x M3 Max"])
def test_no_count_hint_names_a_count_gpus_refuses(run: Runner, text: str) -> None:
    """The hint said '--gpus 0', '--gpus 100001' and '--gpus 2' for a Mac, each refused in turn."""
    assert "--gpus" not in fails(run("recommend", "--gpu", text), 2).stderr


def test_minus_zero_is_zero(run: Runner) -> None:
    """'--price-per-hour -0' was echoed as -0.0 into profiles and recipe headers."""
    out = ok(run("recommend", "--model", "llama-3.1-8b", "--price-per-hour", "-0", "--json")).json()
    assert str(out["profile"]["price_per_hour"]) == "0.0"


def test_internal_error_exits_1_without_traceback(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("atlas_cli.render.views.methods_grid", boom)
    monkeypatch.delenv("FT_ATLAS_DEBUG", raising=False)
    result = fails(run("methods"), 1, "internal error", "kaboom")
    assert "--debug" in result.stderr


def test_interrupt_exits_130(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("atlas_cli.render.views.methods_grid", interrupted)
    fails(run("methods"), 130)


def test_warnings_go_to_stderr_results_to_stdout(run: Runner) -> None:
    result = ok(
        run(
            "estimate",
            "--method",
            "lora",
            "--model-size",
            "7b",
            "--gpu",
            "v100-16gb",
            "--precision",
            "bf16",
            "--json",
        )
    )
    assert "bf16" in result.stderr
    data = result.json()
    assert data["method"] == "lora"
    assert data["assumptions"]["precision"] == "fp16"


# --- knowledge base selection: --kb and FT_ATLAS_KB ----------------------------------------

EXTRA_GPU = """
  - id: test-gpu-77
    name: "Test GPU 77 | pipe \\\\ backslash [/red] [bold]"
    aliases: ["tg77"]
    vendor: nvidia
    memory_gib: 77
    bf16: true
    cuda: true
    architecture: Testwell
    source: https://example.org/test-gpu
"""


@pytest.fixture
def custom_kb(tmp_path: Path) -> Path:
    """A copy of the bundled KB with one more GPU whose name has Markdown and rich markup in it."""
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    with (kb / "gpus.yaml").open("a", encoding="utf-8") as handle:
        handle.write(EXTRA_GPU)
    return kb


@pytest.fixture
def broken_kb(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("gpus: [\n", encoding="utf-8")
    return path


def _gpu_ids(result: Run) -> set[str]:
    return {g["id"] for g in ok(result).json()["gpus"]}


def test_kb_option_and_environment(run: Runner, custom_kb: Path) -> None:
    assert "test-gpu-77" not in _gpu_ids(run("gpus", "--json"))
    assert "test-gpu-77" in _gpu_ids(run("--kb", str(custom_kb), "gpus", "--json"))
    assert "test-gpu-77" in _gpu_ids(run("gpus", "--json", env={"FT_ATLAS_KB": str(custom_kb)}))
    # The option wins over the environment.
    assert "test-gpu-77" not in _gpu_ids(
        run("--kb", str(bundled_kb_path()), "gpus", "--json", env={"FT_ATLAS_KB": str(custom_kb)})
    )
    # And the KB really is used by the engine, not only by the listings.
    result = ok(run("--kb", str(custom_kb), "recommend", "--gpu", "tg77", "--model-size", "7b", "--json"))
    assert result.json()["profile"]["gpu"] == "test-gpu-77"


# Every command, with arguments that make it succeed (ask without a terminal never prompts).
EVERY_COMMAND = [
    *(invocation(c) for c in COMMANDS),
    ["show", "qlora"],
    ["compare", "lora", "qlora"],
    ["model", "llama-3.1-8b"],
    ["recipe", "--gpu", "rtx-3090", "--model-size", "7b"],
    ["ask", "--gpu", "rtx-3090", "--model-size", "7b", "--no-input"],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda a: a[0])
def test_global_options_work_after_the_command_too(run: Runner, args: list[str]) -> None:
    before = ok(run("--lang", "ru", "--no-color", "--debug", *args, env={"COLUMNS": "100"}))
    after = ok(run(*args, "--lang", "ru", "--no-color", "--debug", env={"COLUMNS": "100"}))
    assert after.stdout == before.stdout


def test_global_options_after_the_command_take_effect(run: Runner, custom_kb: Path) -> None:
    assert "test-gpu-77" in _gpu_ids(run("gpus", "--json", "--kb", str(custom_kb)))
    russian = ok(run("categories", "--lang", "ru", env={"COLUMNS": "200"}))
    assert re.search("[а-яА-Я]", russian.stdout)
    # After the command it wins over the same option before it.
    assert "test-gpu-77" not in _gpu_ids(
        run("--kb", str(custom_kb), "gpus", "--json", "--kb", str(bundled_kb_path()))
    )


def test_global_options_are_listed_in_every_commands_help(run: Runner) -> None:
    text = ok(run("categories", "--help", env={"COLUMNS": "120"})).stdout
    assert "--lang" in text and "--no-color" in text and "--kb" in text


def test_kb_text_is_escaped_in_every_format(run: Runner, custom_kb: Path) -> None:
    name = "Test GPU 77 | pipe \\ backslash [/red] [bold]"
    table = ok(run("--kb", str(custom_kb), "gpus", env={"COLUMNS": "320"}))  # every alias on one line
    assert name in table.stdout
    markdown = ok(run("--kb", str(custom_kb), "gpus", "--format", "markdown"))
    assert_gfm(markdown.stdout)
    assert "Test GPU 77 \\| pipe" in markdown.stdout
    chart = ok(
        run("--kb", str(custom_kb), "estimate", "--gpu", "tg77", "--model-size", "7b", env={"COLUMNS": "250"})
    )
    assert "[/red]" in chart.stdout
    ok(run("--kb", str(custom_kb), "recommend", "--gpu", "tg77", "--model-size", "7b"))


def test_invalid_kb_exits_3(run: Runner, broken_kb: Path) -> None:
    result = fails(run("--kb", str(broken_kb), "methods"), 3)
    assert re.search(rf"{re.escape(str(broken_kb))}:\d+:\d+:", result.stderr), result.stderr
    fails(run("methods", env={"FT_ATLAS_KB": str(broken_kb)}), 3)


# --- validate -----------------------------------------------------------------------------


def test_validate_default_and_path(run: Runner, custom_kb: Path, catalog: Catalog) -> None:
    result = ok(run("validate"))
    assert "valid" in result.stdout
    assert result.stderr == ""
    assert str(bundled_kb_path()) in result.stdout
    result = ok(run("validate", str(custom_kb)))
    assert str(custom_kb) in result.stdout
    assert f"{len(catalog.kb.gpus) + 1} GPUs" in result.stdout


def test_validate_reports_problems_with_positions(run: Runner, broken_kb: Path, tmp_path: Path) -> None:
    result = fails(run("validate", str(broken_kb)), 3)
    assert re.search(rf"{re.escape(str(broken_kb))}:[12]:\d+:", result.stderr), result.stderr
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("methods: 5\n", encoding="utf-8")
    result = fails(run("validate", str(wrong)), 3)
    assert re.search(rf"{re.escape(str(wrong))}:1:\d+: methods: ", result.stderr), result.stderr


def test_validate_path_ignores_a_broken_environment_kb(run: Runner, broken_kb: Path) -> None:
    ok(run("validate", str(bundled_kb_path()), env={"FT_ATLAS_KB": str(broken_kb)}))


# --- methods ------------------------------------------------------------------------------


def test_methods_lists_all(run: Runner, catalog: Catalog) -> None:
    data = ok(run("methods", "--json")).json()
    assert [m["id"] for m in data["methods"]] == [m.id for m in catalog.kb.methods]
    for m in data["methods"]:
        assert {"id", "name", "kind", "category", "summary", "memory", "speed", "quality"} <= set(m)
    table = ok(run("methods", env={"COLUMNS": "250"})).stdout
    assert all(m.id in table for m in catalog.kb.methods)
    markdown = ok(run("methods", "--format", "markdown")).stdout
    assert assert_gfm(markdown) == 1
    assert markdown.count("\n| ") == len(catalog.kb.methods) + 1


@pytest.mark.parametrize("kind", ["parameterization", "objective", "no-training"])
def test_methods_by_kind(run: Runner, catalog: Catalog, kind: str) -> None:
    listed = ok(run("methods", "--kind", kind, "--json")).json()["methods"]
    assert listed
    assert {m["kind"] for m in listed} == {kind}
    assert len(listed) == sum(m.kind == kind for m in catalog.kb.methods)


def test_methods_by_category(run: Runner, catalog: Catalog) -> None:
    for category in catalog.kb.categories:
        listed = ok(run("methods", "--category", category.id, "--json")).json()["methods"]
        assert [m["id"] for m in listed] == [m.id for m in catalog.kb.methods if m.category == category.id]
    both = ok(run("methods", "--category", "peft", "--kind", "parameterization", "--json")).json()
    assert {m["id"] for m in both["methods"]} >= {"lora", "qlora"}


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--kind", "magic"], "--kind"), (["--category", "nope"], "--category"), (["--kind", ""], "--kind")],
)
def test_methods_bad_filters_exit_2(run: Runner, args: list[str], flag: str) -> None:
    fails(run("methods", *args), 2, flag)


# --- show ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "method"),
    [
        ("lora", "lora"),
        ("LoRA", "lora"),
        ("low-rank adaptation", "lora"),
        ("Low-Rank Adaptation", "lora"),
        ("QLORA", "qlora"),
        ("qlora", "qlora"),
        ("DPO", "dpo"),
    ],
)
def test_show_matches_id_name_or_alias(run: Runner, query: str, method: str) -> None:
    data = ok(run("show", query, "--json")).json()
    assert data["schema_version"] == 2
    assert data["method"]["id"] == method


def test_show_card_in_each_format(run: Runner, catalog: Catalog) -> None:
    lora = catalog.method("lora")
    table = ok(run("show", "lora", env={"COLUMNS": "100"})).stdout
    assert lora.name in table
    assert "Snippet" in table
    markdown = ok(run("show", "lora", "--format", "markdown")).stdout
    assert markdown.startswith(f"## {lora.name}")
    assert "```python" in markdown
    assert_gfm(markdown)


@pytest.mark.parametrize("query", ["lorra", "qlroa", "LORAA"])
def test_show_unknown_suggests(run: Runner, query: str) -> None:
    result = fails(run("show", query), 2, "did you mean", "lora")
    assert query in result.stderr


@pytest.mark.parametrize(
    ("query", "key"),
    [("PiSSA", "init_lora_weights"), ("rsLoRA", "use_rslora"), ("LoRA+", "loraplus_lr_ratio")],
)
def test_a_variant_named_in_a_hyperparameter_points_to_its_method(run: Runner, query: str, key: str) -> None:
    fails(run("show", query), 2, "not a method of its own", f"option of lora (hyperparameter {key}")
    fails(run("estimate", "--method", query, "--gpu", "4090", "--model-size", "7b"), 2, "show lora")


@pytest.mark.parametrize("query", ["default", "model", "Llama", "typical", "bf16"])
def test_a_word_in_a_hyperparameters_note_is_no_variant_name(run: Runner, query: str) -> None:
    """A maintainer's review: 'show default' said it was an option of full-ft (a word of its
    learning_rate note); only the names an option is asked for by (asked_as) point to it."""
    result = fails(run("show", query), 2, "unknown method")
    assert "option of" not in result.stderr


def test_show_nothing_close_still_exits_2(run: Runner) -> None:
    fails(run("show", "zzzzzzzzzz"), 2, "zzzzzzzzzz")


# --- compare ------------------------------------------------------------------------------


def test_compare_default_is_the_guides_table(run: Runner) -> None:
    data = ok(run("compare", "--json")).json()
    assert data["schema_version"] == 2
    rows = data["rows"]
    assert len(rows) == 7
    for row in rows:
        assert {"methods", "label", "memory", "speed", "quality", "best_for"} <= set(row)
        assert row["methods"] and all(isinstance(m, str) for m in row["methods"])
        assert all(
            isinstance(row[k], str) and row[k] for k in ("label", "memory", "speed", "quality", "best_for")
        )
    lora = next(row for row in rows if row["methods"] == ["lora", "qlora"])
    assert lora["label"] == "LoRA / QLoRA"
    assert (lora["memory"], lora["speed"], lora["quality"]) == ("low", "fast", "near-full")
    table = ok(run("compare", env={"COLUMNS": "200"})).stdout
    assert "§4" in table
    assert all(row["label"] in table for row in rows)
    markdown = ok(run("compare", "--format", "markdown")).stdout
    assert assert_gfm(markdown) == 1
    assert sum(line.startswith("| ") for line in markdown.splitlines()) == 1 + 7


def test_compare_keeps_the_guides_table_and_notes_where_ft_atlas_differs(run: Runner, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    methods = kb / "methods.yaml"
    text = methods.read_text(encoding="utf-8")
    marker = (
        "    ratings: {memory: low, speed: fast, quality: near-full}\n    scoring:\n      speed: medium\n"
        '      because: "QLoRA is slower'
    )
    assert text.count(marker) == 1  # QLoRA's card
    methods.write_text(text.replace(marker, marker.replace("speed: fast", "speed: medium")), encoding="utf-8")
    # The bundled cards keep the guide's ratings; only their `scoring` corrections are noted.
    assert all(n.startswith("ft-atlas scores ") for n in ok(run("compare", "--json")).json()["notes"])
    data = ok(run("--kb", str(kb), "compare", "--json")).json()
    lora = next(row for row in data["rows"] if row["methods"] == ["lora", "qlora"])
    assert lora["speed"] == "fast"  # the guide's table, verbatim
    assert data["notes"][0] == (
        "ft-atlas rates QLoRA speed medium (the guide's 'LoRA / QLoRA': fast); ft-atlas show qlora says why."
    )
    assert not any(n.startswith("ft-atlas scores QLoRA") for n in data["notes"])  # no longer a correction
    table = " ".join(ok(run("--kb", str(kb), "compare", env={"COLUMNS": "100"})).stdout.split())
    assert "ft-atlas rates QLoRA speed medium" in table
    # The card and `compare qlora` agree with each other.
    card = ok(run("--kb", str(kb), "show", "qlora", "--json")).json()["method"]["ratings"]["speed"]
    assert (
        card == ok(run("--kb", str(kb), "compare", "qlora", "--json")).json()["rows"][0]["speed"] == "medium"
    )


def test_compare_methods_side_by_side(run: Runner) -> None:
    data = ok(run("compare", "lora", "QLoRA", "dpo", "--json")).json()
    assert [row["methods"] for row in data["rows"]] == [["lora"], ["qlora"], ["dpo"]]
    assert all("trainable_share" in row for row in data["rows"])
    assert data["rows"][0]["trainable_share"]
    table = ok(run("compare", "lora", "qlora", env={"COLUMNS": "200"})).stdout
    assert "trainable share" in table
    markdown = ok(run("compare", "lora", "qlora", "--format", "markdown")).stdout
    assert_gfm(markdown)
    assert "trainable share" in markdown


def test_compare_unknown_method(run: Runner) -> None:
    fails(run("compare", "lora", "lorra"), 2, "did you mean")


# --- catalog listings ---------------------------------------------------------------------


def test_categories(run: Runner, catalog: Catalog) -> None:
    data = ok(run("categories", "--json")).json()
    assert [c["id"] for c in data["categories"]] == [c.id for c in catalog.kb.categories]
    assert len(data["categories"]) == 5
    table = ok(run("categories", env={"COLUMNS": "200"})).stdout
    assert all(c.id in table for c in catalog.kb.categories)


def test_tools_gpus_models(run: Runner, catalog: Catalog) -> None:
    tools = ok(run("tools", "--json")).json()["tools"]
    assert {t["library"] for t in tools} >= {"peft", "trl"}
    gpus = ok(run("gpus", "--json")).json()["gpus"]
    assert [g["id"] for g in gpus] == [g.id for g in catalog.kb.gpus]
    assert "rtx-3090" in {g["id"] for g in gpus}
    models = ok(run("models", "--json")).json()["models"]
    assert [m["id"] for m in models] == [m.id for m in catalog.kb.models]


def test_guide_is_a_tree_of_rules_naming_methods(run: Runner, catalog: Catalog) -> None:
    data = ok(run("guide", "--json")).json()
    assert data["choose"] and data["recommendations"]
    for rule in data["choose"] + data["recommendations"]:
        assert rule["methods"], rule["id"]
        assert set(rule["methods"]) <= set(catalog.methods), rule["id"]
    tree = ok(run("guide", env={"COLUMNS": "200"})).stdout
    assert "§3" in tree and "§7" in tree
    for rule in data["choose"] + data["recommendations"]:
        leaf = next(line for line in tree.splitlines() if rule["id"] in line)
        assert all(method in leaf for method in rule["methods"]), leaf
    markdown = ok(run("guide", "--format", "markdown")).stdout
    assert_gfm(markdown)
    assert "## §3" in markdown and "## §7" in markdown


def test_guide_in_russian(run: Runner) -> None:
    tree = ok(run("--lang", "ru", "guide", env={"COLUMNS": "200"})).stdout
    assert re.search("[а-яА-Я]", tree)


# --- estimate -----------------------------------------------------------------------------


def test_estimate_all_methods(run: Runner) -> None:
    data = ok(run("estimate", "--model-size", "7b", "--gpu", "3090", "--json")).json()
    assert data["schema_version"] == 2
    methods = {e["method"] for e in data["estimates"]}
    assert {"lora", "qlora", "full-ft"} <= methods
    for e in data["estimates"]:
        assert e["per_gpu_gb"] > 0
        assert isinstance(e["fits"], bool)
        assert set(e["breakdown"]) == {
            "weights_gb",
            "gradients_gb",
            "optimizer_gb",
            "activations_gb",
            "logits_gb",
            "buffers_gb",
            "overhead_gb",
        }


def test_estimate_one_method(run: Runner) -> None:
    data = ok(
        run("estimate", "--method", "qlora", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--json")
    ).json()
    assert data["schema_version"] == 2
    assert data["method"] == "qlora"
    assert data["fits"] is True
    assert data["capacity_gb"] > data["per_gpu_gb"]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--gpu", "rtx-3090", "--vram", "16"], "--vram"),  # its 24 GiB, given twice, is taken
        (["--model", "llama-3.1-8b", "--model-size", "8b", "--gpu", "rtx-3090"], "--model"),
        (["--vram", "-5", "--model-size", "7b"], "--vram"),
        (["--model-size", "1e9b"], "--model-size"),
        (["--method", "lorra", "--model-size", "7b"], "lorra"),
        (["--gpu", "309x", "--model-size", "7b"], "did you mean"),
    ],
)
def test_estimate_bad_input_exit_2(run: Runner, args: list[str], flag: str) -> None:
    fails(run("estimate", *args), 2, flag)


def test_an_option_of_another_command_says_which(run: Runner) -> None:
    """A newcomer's review: `recommend --optimizer adam` read only "No such option: --optimizer"."""
    fails(run("recommend", "--optimizer", "adam"), 2, "(--optimizer is an option of ft-atlas estimate)")
    said = fails(run("recommend", "--nosuch"), 2).stderr
    assert "is an option of" not in said


def test_the_estimate_charts_title_is_whole_at_40_columns(run: Runner) -> None:
    """A newcomer's review: at 40 columns the title was wrapped at the table's width and cut,
    losing ") on" and "3.99"."""
    shown = ok(run("estimate", "--model", "llama-3.1-8b", "--gpu", "4090", env={"COLUMNS": "40"})).stdout
    assert "(catalog) on NVIDIA GeForce RTX 4090 24GB, 24 GiB (23.99 GiB usable)" in " ".join(shown.split())


@pytest.mark.parametrize("command", [["recommend", "--gpu", "4090"], ["estimate", "--model-size", "7b"]])
def test_json_beside_markdown_is_json_and_says_so(run: Runner, command: list[str]) -> None:
    """A newcomer's review: `--format markdown --json` wrote JSON without a word."""
    result = ok(run(*command, "--format", "markdown", "--json"))
    assert result.json()["schema_version"] == 2
    assert "warning: --json and --format markdown: --json is used" in result.stderr
    assert "warning" not in ok(run(*command, "--json")).stderr


def test_a_misspelt_estimator_option_suggests_the_closest_value(run: Runner) -> None:
    fails(run("estimate", "--optimizer", "adam", "--model-size", "7b"), 2, "did you mean adamw?")
    fails(run("estimate", "--objective", "dop", "--model-size", "7b"), 2, "did you mean dpo?")


@pytest.mark.parametrize(
    "name", ["sdpa", " SDPA", "flash_attention_2", "Flash-Attention-2", "flex_attention"]
)
def test_attention_takes_transformers_kernel_names(run: Runner, name: str) -> None:
    kernel = ok(run("estimate", "--attention", "kernel", "--model-size", "7b", "--json")).json()
    assert ok(run("estimate", "--attention", name, "--model-size", "7b", "--json")).json() == kernel


@pytest.mark.parametrize(
    ("args", "in_stderr", "kept"),
    [
        # click keeps the last of a repeated option: this was answered for one RTX 3090, silently
        (
            ["--gpu", "4090", "--gpu", "3090"],
            ("'4090', '3090'", "least memory", "slowest"),
            ("gpu", "rtx-3090"),
        ),
        (["--gpu", "4090", "--gpu=4090"], ("--gpu 4090 --gpus 2",), ("gpus", 1)),
        # one card named two ways is the same card, not a mix (a review)
        (["--gpu", "4090", "--gpu", "rtx-4090"], ("--gpu 4090 --gpus 2",), ("gpu", "rtx-4090")),
        # a name no card has is not one of them: the command says why
        (["--gpu", "4090", "--gpu", "a100", "--gpus", "2"], ("'4090', 'a100'",), ("gpus", 2)),
        (["--gpu", "4090", "--top", "3", "--top", "4"], ("--top", "the last is used"), None),
        # named as typed in full, whichever form was used; an attached short value counts
        (["--gpu", "4090", "-fjson", "--format", "json"], (), None),
        (["--gpu", "4090", "--format", "table", "-f", "json"], ("--format is given more than once",), None),
    ],
)
def test_an_option_given_twice_is_warned_about_and_the_last_used(
    run: Runner, args: list[str], in_stderr: tuple[str, ...], kept: tuple[str, object] | None
) -> None:
    result = ok(run("recommend", *args, "--json") if "-f" not in " ".join(args) else run("recommend", *args))
    for text in in_stderr:
        assert text in result.stderr
    if not in_stderr:
        assert "warning" not in result.stderr  # the same value twice says nothing new
    if kept is not None:
        assert result.json()["profile"][kept[0]] == kept[1]
    if "--top" in args:
        assert len(result.json()["recommendations"]) == 4


def test_the_same_gpu_twice_with_a_count_is_not_warned_about(run: Runner) -> None:
    """A review: `--gpu 4090 --gpus 4 --gpu 4090` plans four GPUs, and was told one is planned for."""
    result = ok(run("recommend", "--gpu", "4090", "--gpus", "4", "--gpu", "4090", "--json"))
    assert "warning" not in result.stderr and result.json()["profile"]["gpus"] == 4


def test_a_repeated_gpu_is_named_by_the_kb_given_after_the_command(run: Runner, tmp_path: Path) -> None:
    """A review: the check of two --gpu values read the bundled KB although --kb came after the
    command, so a card the user's KB names two ways was called a mix."""
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    gpus = kb / "gpus.yaml"
    gpus.write_text(gpus.read_text().replace('aliases: ["4090", ', 'aliases: ["lab card", "4090", ', 1))
    result = ok(run("recommend", "--gpu", "lab card", "--gpu", "4090", "--kb", str(kb), "--json"))
    assert "--gpu lab card --gpus 2" in result.stderr and "least memory" not in result.stderr


def test_a_repeated_gpu_leaves_a_piped_kb_to_the_command(run: Runner, tmp_path: Path) -> None:
    """A diff review: the repeated --gpu check read a --kb pipe first, and the command then read it
    empty ("nothing was written to it") instead of the YAML sent."""
    pipe = tmp_path / "kb.yaml"
    os.mkfifo(pipe)

    def send() -> None:
        with pipe.open("w", encoding="utf-8") as writer:
            writer.write("gpus: [\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    result = run("recommend", "--gpu", "4090", "--gpu", "3090", "--kb", str(pipe), "--json")
    sender.join(timeout=10)
    assert result.exit_code == 3 and "YAML syntax" in result.stderr, result.stderr


def test_estimate_names_a_repeated_method(run: Runner) -> None:
    args = ("estimate", "--method", "lora", "--method", "qlora", "--model-size", "7b", "--json")
    result = ok(run(*args))
    assert "--method is given more than once ('lora', 'qlora')" in result.stderr
    assert result.json()["method"] == "qlora"


def test_an_option_given_twice_warns_with_what_was_typed_escaped(run: Runner) -> None:
    result = run("recommend", "--gpu", "4090", "--goal", "chat", "--goal", "chat\x1b[2J", "--json")
    assert "warning: --goal" in result.stderr
    assert "\x1b" not in result.stderr


# --- recommend ----------------------------------------------------------------------------


def recommend(run: Runner, *args: str) -> dict[str, Any]:
    data = ok(run("recommend", *args, "--json")).json()
    assert isinstance(data, dict)
    return data


def test_recommend_json_contract(run: Runner) -> None:
    data = recommend(run, "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat")
    assert_recommendation(data)
    assert data["profile"]["gpu"] == "rtx-3090"
    assert data["profile"]["model_size"] == 7.0
    assert data["profile"]["goal"] == "chat"
    assert data["recommendations"][0]["method"] in ("lora", "qlora")
    assert data["recommendations"][0]["fits"] is True
    assert data["recommendations"][0]["tools"]


def test_recommend_explain_adds_a_trace(run: Runner) -> None:
    data = recommend(run, "--gpu", "rtx-3090", "--model-size", "7b", "--explain")
    assert_recommendation(data, explain=True)
    for hit in data["recommendations"][0]["trace"]:
        assert {"rule", "action", "weight", "because", "source", "facts"} <= set(hit)
    table = ok(
        run("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--explain", env={"COLUMNS": "120"})
    )
    assert "trace" in table.stdout.lower()
    markdown = ok(
        run("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--explain", "--format", "markdown")
    )
    assert_gfm(markdown.stdout)
    assert "Rule trace" in markdown.stdout


@pytest.mark.parametrize("top", [1, 3, 7])
def test_recommend_top(run: Runner, top: int) -> None:
    data = recommend(run, "--gpu", "a100-80gb", "--model-size", "7b", "--top", str(top))
    assert 1 <= len(data["recommendations"]) <= top
    if top == 1:
        assert len(data["recommendations"]) == 1


@pytest.mark.parametrize("gpu", ["3090", "RTX 3090", "rtx3090", "rtx-3090", "NVIDIA GeForce RTX 3090 24GB"])
def test_recommend_gpu_is_fuzzy(run: Runner, gpu: str) -> None:
    assert recommend(run, "--gpu", gpu, "--model-size", "7b")["profile"]["gpu"] == "rtx-3090"


def test_recommend_unknown_gpu_suggests(run: Runner) -> None:
    fails(run("recommend", "--gpu", "309x", "--model-size", "7b"), 2, "did you mean", "rtx-3090")
    fails(run("recommend", "--gpu", "qqqqqqqq", "--model-size", "7b"), 2, "qqqqqqqq")


def test_a_family_name_suggests_what_its_aliases_name(run: Runner) -> None:
    """A maintainer's review: "MacBook Air" was offered an M4 Max (by spelling) as its fifth guess,
    a chip no MacBook Air has; names that contain the whole query come first, and alone."""
    result = fails(run("recommend", "--gpu", "MacBook Air", "--model-size", "7b"), 2, "did you mean")
    assert "apple-m1, apple-m2, apple-m3, apple-m4?" in result.stderr and "max" not in result.stderr


def test_recommend_without_a_gpu(run: Runner) -> None:
    data = recommend(run, "--gpu", "none", "--model-size", "7b")
    assert_recommendation(data)
    assert data["profile"]["gpu"] == "none"
    assert data["recommendations"]
    assert all(p["fits"] is not False for p in data["recommendations"])


def test_recommend_with_vram(run: Runner) -> None:
    data = recommend(run, "--vram", "24", "--model-size", "7b")
    assert data["profile"]["vram"] == 24.0
    assert data["profile"]["gpu"] is None


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        (["--gpu", "rtx-3090", "--vram", "16"], ("--gpu", "--vram")),
        (["--model", "llama-3.1-8b", "--model-size", "8b"], ("--model", "--model-size")),
        (["--gpu", "none", "--gpus", "2", "--model-size", "7b"], ("--gpus",)),
    ],
)
def test_recommend_conflicting_flags_exit_2(run: Runner, args: list[str], flags: tuple[str, ...]) -> None:
    fails(run("recommend", *args), 2, *flags)


@pytest.mark.parametrize(
    ("text", "count"), [("10k", 10_000), ("1.5m", 1_500_000), ("500", 500), ("2K", 2_000)]
)
def test_recommend_examples_suffixes(run: Runner, text: str, count: int) -> None:
    data = recommend(run, "--gpu", "rtx-3090", "--model-size", "7b", "--examples", text)
    assert data["profile"]["examples"] == count


@pytest.mark.parametrize(("text", "tokens"), [("4k", 4096), ("32K", 32768), ("1m", 1_048_576), ("512", 512)])
def test_sequence_lengths_count_in_powers_of_two(run: Runner, text: str, tokens: int) -> None:
    """A newcomer's review: --seq-len 1m was refused where 1000000 was taken."""
    data = recommend(run, "--gpu", "h100", "--model", "llama-3.1-8b", "--seq-len", text)
    assert data["profile"]["seq_len"] == tokens


@pytest.mark.parametrize(("text", "size"), [("7b", 7.0), ("0.5B", 0.5), ("125m", 0.125), ("7e9", 7.0)])
def test_recommend_model_size_forms(run: Runner, text: str, size: float) -> None:
    data = recommend(run, "--gpu", "rtx-3090", "--model-size", text)
    assert data["profile"]["model_size"] == pytest.approx(size)


def test_a_model_size_below_any_decoder_shape_is_refused(run: Runner) -> None:
    """--model-size 1m was sized as a 29M model (the vocabulary alone) and shown as "0.001B model,
    0.029B parameters" (a newcomer's review)."""
    fails(
        run("estimate", "--model-size", "1m", "--method", "full-ft"), 2, "smaller than any decoder", "--model"
    )
    assert recommend(run, "--gpu", "rtx-3090", "--model-size", "30m")["profile"]["model_size"] == 0.03
    fails(run("estimate", "--model-size", "3m", "--method", "full-ft"), 2, "make 3.21M parameters")


def test_the_smallest_bare_size_accepted_is_one_threshold() -> None:
    """Rounding a tiny size's hidden size up to a second head refused 5M and 6M while it accepted
    4M and 7M (a review): from the threshold up, every size has a shape of about that size."""
    for tenths in range(33, 200):  # 3.3M to 20M
        assert shape_of(bare_model(tenths * 1e5)).params == pytest.approx(tenths * 1e5, rel=0.01)


BAD_VALUES = [
    ("--vram", "-5"),
    ("--vram", "0"),
    ("--vram", "0.0000001"),  # sized as a 100-byte GPU (a review)
    ("--gpu", "0.5gb"),
    ("--vram", "nan"),
    ("--vram", "inf"),
    ("--vram", "1e30"),
    ("--vram", "lots"),
    ("--model-size", "1e9b"),
    ("--model-size", "-7b"),
    ("--model-size", "0b"),
    ("--model-size", "nan"),
    ("--model-size", "infb"),
    ("--model-size", "7"),
    ("--model-size", "huge"),
    ("--examples", "-1"),
    ("--examples", "0"),
    ("--examples", "nan"),
    ("--examples", "inf"),
    ("--examples", "1e30"),
    ("--examples", "many"),
    ("--gpus", "0"),
    ("--gpus", "-1"),
    ("--gpus", "1.5"),
    ("--gpus", "1e9"),
    ("--goal", "world-domination"),
    ("--priority", "everything"),
    ("--data-kind", "vibes"),
    ("--model-access", "telepathy"),
]


@pytest.mark.parametrize(("flag", "value"), BAD_VALUES, ids=[f"{f}={v}" for f, v in BAD_VALUES])
def test_recommend_bad_values_name_the_flag(run: Runner, flag: str, value: str) -> None:
    given = {"--gpu": "rtx-3090", "--model-size": "7b"}
    given.pop(flag, None)
    if flag == "--vram":
        given.pop("--gpu")
    base = [part for pair in given.items() for part in pair]
    fails(run("recommend", *base, f"{flag}={value}"), 2, flag)
    fails(run("recommend", *base, flag, value), 2, flag)


def test_recommend_output_formats_agree(run: Runner) -> None:
    args = ["recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--top", "3"]
    data = ok(run(*args, "--json")).json()
    table = ok(run(*args, env={"COLUMNS": "200"})).stdout
    markdown = ok(run(*args, "--format", "markdown")).stdout
    assert assert_gfm(markdown) >= 1
    for plan in data["recommendations"]:
        assert plan["name"] in table
        assert plan["name"] in markdown
    # Each note is its own paragraph, not run together with the next one.
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    depth, quoted = 0, 0
    for token in tokens:
        depth += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
        quoted += depth > 0 and token.type == "paragraph_open"
    assert data["notes"] and quoted == len(data["notes"])


def test_markdown_helpers_escape() -> None:
    from atlas_cli.render.grid import Grid, code_span, fenced, markdown_table

    grid = Grid("T", ["a|b", "c"], [["x | y", "back\\slash\\"], ["two\nlines", ""]])
    text = markdown_table(grid)
    assert assert_gfm(text) == 1
    cells = [t.content for t in MarkdownIt("commonmark").enable("table").parse(text) if t.type == "inline"]
    assert cells[1:] == ["a|b", "c", "x | y", "back\\\\slash\\\\", "two<br>lines", ""]
    code = "print('```')\n````\n"
    block = "\n".join(["text", "", *fenced(code, "python"), "", "| a |", "|---|", "| b |", ""])
    assert assert_gfm(block) == 1
    [fence] = [t for t in MarkdownIt("commonmark").parse(block) if t.type == "fence"]
    assert fence.content == code
    for text in ("plain", "a`b", "``x``", "`edge"):
        [inline] = [t for t in MarkdownIt("commonmark").parse(code_span(text)) if t.type == "inline"]
        assert [c.content for c in inline.children or [] if c.type == "code_inline"] == [text]


def test_recipe_out_dash_is_stdout(run: Runner) -> None:
    result = run("recipe", "--gpu", "rtx-3090", "--model-size", "7b", "--out", "-")
    assert result.exit_code == 0 and result.stdout.startswith("# ====")


# --- every JSON document has a published contract ----------------------------------------------

CONTRACTS: dict[str, tuple[str, list[str]]] = {
    "methods": ("methods", []),
    "show": ("show", ["lora"]),
    "compare": ("compare", []),
    "compare methods": ("compare", ["lora", "qlora"]),
    "categories": ("categories", []),
    "tools": ("tools", []),
    "gpus": ("gpus", []),
    "models": ("models", []),
    "guide": ("guide", []),
    "validate": ("validate", []),
    "estimate": ("estimate_all", ["--model-size", "7b", "--gpu", "rtx-3090"]),
    "estimate one": ("estimate", ["--method", "lora", "--model-size", "7b", "--gpu", "rtx-3090"]),
    "recommend": ("recommend", ["--gpu", "rtx-3090", "--model-size", "7b", "--explain"]),
    "ask": ("ask", ["--no-input", "--gpu", "rtx-3090"]),
    "model": ("model", ["llama-3.1-8b"]),
}


@pytest.mark.parametrize("name", CONTRACTS)
def test_json_output_matches_its_published_schema(run: Runner, name: str) -> None:
    from pydantic import TypeAdapter

    from atlas_cli.render.contracts import OUTPUTS

    contract, args = CONTRACTS[name]
    command = name.split()[0]
    data = ok(run(command, *args, "--json")).json()
    TypeAdapter(OUTPUTS[contract]).validate_python(data, strict=False)
    published = ok(run("schema")).json()["outputs"]
    assert set(published) == set(OUTPUTS)


def test_invalid_kb_report_matches_its_schema(run: Runner, tmp_path: Path) -> None:
    from pydantic import TypeAdapter

    from atlas_cli.render.contracts import OUTPUTS

    broken = tmp_path / "kb.yaml"
    broken.write_text("methods: []\n", encoding="utf-8")
    result = run("validate", str(broken), "--json")
    assert result.exit_code == 3
    TypeAdapter(OUTPUTS["validate"]).validate_python(result.json())


# --- forgiving input and numbers explained (a newcomer's first hour) ---------------------------


@pytest.mark.parametrize("gpu", ["24GB", "24 GB", "24gb", "24 GiB"])
def test_gpu_given_as_memory_is_vram(run: Runner, gpu: str) -> None:
    data = ok(run("recommend", "--gpu", gpu, "--model-size", "7b", "--json")).json()
    assert data["profile"]["vram"] == 24.0 and data["profile"]["gpu"] is None
    chart = ok(run("estimate", "--gpu", gpu, "--model-size", "7b", env={"COLUMNS": "120"})).stdout
    assert "on 24 GB GPU" in chart


def test_estimate_with_no_gpu_says_so_rather_than_not_given(run: Runner) -> None:
    shown = ok(run("estimate", "--model-size", "70b", "--gpu", "none", env={"COLUMNS": "120"})).stdout
    assert "No local GPU (--gpu none)" in shown
    assert "No GPU given" not in shown and "not given" not in shown.splitlines()[0]
    without = ok(run("estimate", "--model-size", "70b", env={"COLUMNS": "120"})).stdout
    assert "GPU not given" not in without.splitlines()[0]  # the title names no GPU it lacks
    assert "No GPU given: pass --gpu or --vram" in without


def test_estimate_with_no_gpu_sizes_the_ram_of_fp32_training_on_the_cpu(run: Runner) -> None:
    """recommend --gpu none says `estimate --gpu none` sizes the RAM a CPU run needs, which was sized
    as a GPU's: fp16 weights, 2.05 GB for a 0.5B LoRA that took 4.4-4.9 GB of RSS on the CPU in
    fp32 (measured here, sequences of 512), as the recipes train without a GPU."""
    args = ("estimate", "--gpu", "none", "--model", "qwen2.5-0.5b", "--method", "lora", "--seq-len", "512")
    data = ok(run(*args, "--stack", "hf", "--json")).json()
    assert data["assumptions"]["precision"] == "fp32" and data["assumptions"]["on_cpu"] is True
    assert data["breakdown"]["weights_gb"] >= 4 * data["model_params_b"]  # 4 bytes a weight
    assert 3.5 <= data["per_gpu_gb"] <= 4.9
    chart = " ".join(ok(run(*args, env={"COLUMNS": "120"})).stdout.split())
    assert "GB of RAM" in chart and "total RAM" in chart and "on the CPU, without a GPU" in chart
    assert "CUDA context" not in chart
    asked = ok(run(*args, "--precision", "bf16", "--json"))
    assert asked.json()["assumptions"]["precision"] == "fp32" and "sized in fp32" in asked.stderr
    markdown = ok(run("estimate", "--gpu", "none", "--model", "qwen2.5-0.5b", "--format", "markdown")).stdout
    assert "RAM GB" in markdown and "per GPU GB" not in markdown  # a diff review
    gpu = ok(run("estimate", "--gpu", "4090", "--model", "qwen2.5-0.5b", "--method", "lora", "--json")).json()
    assert gpu["assumptions"]["on_cpu"] is False and gpu["assumptions"]["precision"] == "bf16"


@pytest.mark.parametrize("gpu", ["nope", "rtx-3091"])
def test_unknown_gpu_suggests_the_fallback_flags_too(run: Runner, gpu: str) -> None:
    result = fails(run("recommend", "--gpu", gpu), 2, "--vram N", "--gpu NGB")
    assert ("did you mean" in result.stderr) is (gpu == "rtx-3091")


def test_a_bare_number_as_gpu_and_an_everyday_goal_say_what_they_mean(run: Runner) -> None:
    """A newcomer's review: --gpu 24 was offered t4 and apple-m4 for a card's memory, and --goal
    chatbot was refused without the choice `ask` reads it as. A name that is digits stays a card."""
    said = fails(run("recommend", "--gpu", "24"), 2, "--vram 24 (or --gpu 24GB)").stderr
    assert "did you mean" not in said
    assert "gpu=rtx-3090" in ok(run("recommend", "--gpu", "3090")).stdout
    # A card's model number the catalog lacks is no memory: --vram 3070 was offered, then refused
    # (the RTX 3070 has since joined the catalog: a GTX 1080 has not).
    for number in ("1080", "970"):  # past the most memory any GPU comes with
        model_number = fails(run("recommend", "--gpu", number), 2, "--vram 8 for an 8 GB card").stderr
        assert f"--vram {number}" not in model_number
    fails(run("recommend", "--goal", "chatbot"), 2, "is not one of", "did you mean chat?")
    # A newcomer's review: 'chat bot', a typo and a short name got no suggestion; still refused.
    for typed, meant in (("chat bot", "chat"), ("chatt", "chat"), ("demos", "demonstrations")):
        flag = "--data-kind" if meant == "demonstrations" else "--goal"
        fails(run("recommend", flag, typed), 2, "is not one of", f"did you mean {meant}?")
    assert "did you mean" not in fails(run("recommend", "--goal", "teach"), 2).stderr


def test_inference_estimate_lists_no_training_assumptions(run: Runner) -> None:
    args = ["estimate", "--method", "icl", "--model-size", "7b", "--gpu", "rtx-3090"]
    shown = " ".join(ok(run(*args, env={"COLUMNS": "200"})).stdout.split())
    assert "Inference:" in shown
    for training in ("adamw", "LoRA rank", "gradient checkpointing", "Logits:"):
        assert training not in shown, training
    lora = " ".join(ok(run(*args[:2], "lora", *args[3:], env={"COLUMNS": "200"})).stdout.split())
    assert "LoRA rank 16" in lora and "adamw" in lora


def test_vram_is_shown_in_gib_with_the_gb_it_is_checked_against(run: Runner) -> None:
    args = ["recommend", "--gpu", "rtx-3090", "--model-size", "7b"]
    shown = " ".join(ok(run(*args, env={"COLUMNS": "200"})).stdout.split())
    assert "vram=24 GiB (= 25.77 GB)" in shown and "of 25.77 GB" in shown


def test_why_training_was_left_out_shows_without_explain(run: Runner) -> None:
    shown = " ".join(ok(run("recommend", "--gpu", "none", "--model-size", "7b")).stdout.split())
    assert "Left out:" in shown and "lora" in shown and "No GPU" in shown
    markdown = ok(run("recommend", "--gpu", "none", "--model-size", "7b", "--format", "markdown")).stdout
    assert "- Left out:" in markdown


def test_score_is_explained_in_the_footer_and_in_explain(run: Runner) -> None:
    args = ["recommend", "--gpu", "rtx-3090", "--model-size", "7b"]
    footer = " ".join(ok(run(*args, env={"COLUMNS": "200"})).stdout.split())
    assert "Score 0-1: the method's ratings weighted by your priority" in footer
    explained = " ".join(ok(run(*args, "--explain", env={"COLUMNS": "200"})).stdout.split())
    assert "the method's memory, speed and quality ratings weighted by your priority (balanced)" in explained


def test_every_json_output_has_a_published_contract_and_readme_says_which_take_format(run: Runner) -> None:
    from atlas_cli.cli import COMMAND_GROUPS

    # `recipe` writes a script or a trainer's YAML, `export` Markdown or HTML pages; `schema`
    # prints the contracts themselves.
    without_contract = {"recipe", "export", "schema"}
    assert set(COMMAND_GROUPS) - without_contract <= {name.split()[0] for name in CONTRACTS}
    for command in set(COMMAND_GROUPS) - {"recipe"}:  # export's --format is markdown or html
        assert "--format" in ok(run(command, "--help", env={"COLUMNS": "200"})).stdout, command
    readme = " ".join(
        (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").split()
    )
    assert "Every command but `recipe` and `export` takes `--format table|json|markdown`" in readme


def test_examples_without_data_are_a_contradiction(run: Runner) -> None:
    result = run("recommend", "--data-kind", "none", "--examples", "10k", "--goal", "chat")
    fails(result, 2, "--data-kind none")


def test_bitfit_on_a_model_without_biases_is_refused_as_recommend_leaves_it_out(run: Runner) -> None:
    fails(run("estimate", "--model", "llama-3.1-8b", "--gpu", "4090", "--method", "bitfit"), 2, "has none")
    ok(run("estimate", "--model", "gpt2", "--gpu", "4090", "--method", "bitfit"))


def test_lengths_that_disagree_are_said(run: Runner) -> None:
    """Past the model's positions, or examples longer than the length training truncates to."""
    bert = ("recommend", "--model", "bert-base", "--goal", "classify", "--data-kind", "labeled")
    notes = ok(run(*bert, "--seq-len", "4k", "--gpu", "4090", "--json")).json()["notes"]
    assert any("512 positions" in n for n in notes)
    long = (
        "recommend",
        "--model-size",
        "7b",
        "--gpu",
        "4090",
        "--examples",
        "10k",
        "--tokens-per-example",
        "3000",
    )
    notes = ok(run(*long, "--json")).json()["notes"]
    assert any("truncates them to 2048" in n for n in notes)
    assert not any("left out (TRL's DPO trainer drops it)" in n for n in notes)
    # A preference pair whose prompt fills the length is dropped, not cut (an expert's review).
    paired = ok(run(*long, "--goal", "align", "--data-kind", "preferences", "--json")).json()["notes"]
    assert any("reaches 2048 tokens is not cut but left out" in n for n in paired)
    # Not for ORPO, whose trainer drops nothing so (a diff review)
    sized = ("estimate", "--method", "lora", *long[1:], "--json")
    orpo = ok(run(*sized, "--objective", "orpo")).json()["warnings"]
    assert any("truncates them" in w for w in orpo) and not any("not cut but left out" in w for w in orpo)
    # A reward model's trainer cuts nothing: it leaves a longer pair out whole.
    reward = ok(run(*sized, "--objective", "reward-model")).json()["warnings"]
    assert any("longer than 2048 (--seq-len) is not cut but left out whole" in w for w in reward)
    assert not any("truncates them" in w for w in reward)
    wrapped = ("--data-kind", "text", "--tokens-per-example", "8000", "--packing")  # TRL wraps: nothing cut
    assert not any("truncates" in n for n in ok(run(*long[:5], *wrapped, "--json")).json()["notes"])
    # Continued pre-training packs by default: text needs no --packing to be wrapped.
    assert not any("truncates" in n for n in ok(run(*long[:5], *wrapped[:-1], "--json")).json()["notes"])
    gpt2 = ok(run("estimate", "--model", "gpt2", "--method", "full-ft", "--gpu", "4090", "--json")).json()
    assert gpt2["assumptions"]["seq_len"] == 1024  # its learned positions, not the usual 2048


def test_labelled_examples_are_sized_short_unless_seq_len_is_given(run: Runner) -> None:
    """Classification inputs are short: memory is sized for 512 tokens, not a chat's 2048."""
    classify = ("--model", "llama-3.1-8b", "--gpu", "a100-80gb", "--goal", "classify", "--json")

    def lengths(*args: str, trained: bool = True) -> set[int]:
        plans = ok(run("recommend", *classify, *args)).json()["recommendations"]
        return {
            p["assumptions"]["seq_len"]
            for p in plans
            if p["assumptions"] and (p["kind"] != "no-training") == trained
        }

    assert lengths("--data-kind", "labeled") == {512}
    # A few-shot prompt holds many examples: served at 8,192 tokens (an expert's review).
    assert lengths("--data-kind", "labeled", trained=False) == {8192}
    assert lengths("--data-kind", "labeled", "--seq-len", "4k") == {4096}
    assert lengths("--data-kind", "demonstrations") == {2048}
    single = ("estimate", "--method", "lora", "--model", "llama-3.1-8b", "--json")
    assert ok(run(*single, "--data-kind", "labeled")).json()["assumptions"]["seq_len"] == 512
    assert ok(run(*single)).json()["assumptions"]["seq_len"] == 2048


def test_estimate_says_the_same_length_warnings_as_recommend(run: Runner) -> None:
    single = ("estimate", "--method", "lora", "--gpu", "4090", "--examples", "10k", "--json")
    past = ok(run(*single, "--model", "gpt2", "--seq-len", "4k")).json()["warnings"]
    assert any("1024 positions" in w for w in past)
    cut = ok(run(*single, "--model-size", "7b", "--tokens-per-example", "3000")).json()["warnings"]
    assert any("truncates them to 2048" in w for w in cut)
    long = ok(run(*single, "--model-size", "1b", "--seq-len", "32k"))
    assert any("typical 512-token example" in w for w in long.json()["warnings"])
    assert "warning: Memory is sized for --seq-len 32768" in long.stderr


def test_an_api_user_is_not_told_about_local_weights(run: Runner) -> None:
    data = ok(run("recommend", "--model-access", "api", "--goal", "chat", "--json")).json()
    assert not any("Llama-3-style shape" in n for n in data["notes"])
    steps = data["next_steps"]
    assert not any(tool.startswith("transformers:") for tool in steps["tools"])
    table = ok(run("recommend", "--model-access", "api", "--goal", "chat")).stdout
    assert "--out icl.py" in table and "--out train.py" not in table  # nothing trains


def test_an_unknown_name_with_a_known_prefix_suggests_that_name_first(run: Runner) -> None:
    """'qwen3-8b-instruct' is not a catalog name, but qwen3-8b (whose Hub id is the post-trained
    model) is what the user meant: it comes first, before spellings merely close to it."""
    result = run("recommend", "--model", "qwen3-8b-instruct")
    assert result.exit_code == 2 and "did you mean qwen3-8b," in result.stderr


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("qwen 7b", "qwen2.5-7b"),
        ("qwen3 30b", "qwen3-30b-a3b"),
        ("llama 1b", "llama-3.2-1b"),
        ("smollm 360m", "smollm2-360m-instruct"),
    ],
)
def test_an_unknown_name_with_a_size_suggests_a_model_of_that_size_first(
    run: Runner, query: str, first: str
) -> None:
    """By spelling alone 'qwen 7b' is closest to qwen3-1.7b; the size the user typed decides."""
    result = run("recommend", "--model", query)
    assert result.exit_code == 2 and f"did you mean {first}," in result.stderr


def test_a_refused_piped_answer_stops_ask_with_its_line(run: Runner) -> None:
    """Asked again, a refused piped answer took the next line for itself and shifted every later
    answer onto the wrong question, and the run ended 0 (a review of the change that reads piped
    answers): it stops instead, naming the line and the question."""
    result = run("ask", "--json", input="weights\nno-such-gpu-name\n1\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert "piped answer 2: Which GPU" in result.stderr
    fine = run("ask", "--json", input="weights\n3090\n1\nllama-3.1-8b\nchat\n")
    assert fine.exit_code == 0 and json.loads(fine.stdout)["profile"]["goal"] == "chat"


def test_a_recipe_on_several_gpus_is_written_to_a_directory(run: Runner, tmp_path: Path) -> None:
    """Its run line names accelerate.yaml, which `--out train.py` wrote only as comments at the end
    of train.py (a review copied the run line and it failed): the next step says --out recipe/,
    and the command it prints writes both files there."""
    profile = ("--gpu", "4090", "--gpus", "2", "--model", "llama-3.1-8b", "--goal", "chat")
    table = " ".join(ok(run("recommend", *profile, "--data-kind", "demonstrations")).stdout.split())
    assert "--out recipe/" in table and "--out train.py" not in table
    ok(run("recipe", *profile, "--data-kind", "demonstrations", "--out", f"{tmp_path}/recipe/"))
    assert {p.name for p in (tmp_path / "recipe").iterdir()} == {"recipe.py", "accelerate.yaml"}


@pytest.mark.parametrize(
    ("typed", "pointer"),
    [
        ("explain", "ft-atlas show ID"),
        ("list", "ft-atlas methods"),
        ("batch", "ft-atlas recommend --batch FILE"),
        ("help", "ft-atlas --help"),  # a newcomer's review, the fifty-sixth round
    ],
)
def test_a_command_people_try_points_to_the_one_that_does_it(run: Runner, typed: str, pointer: str) -> None:
    """`ft-atlas explain dpo` said only "No such command 'explain'" (a newcomer's review)."""
    fails(run(typed, "dpo"), 2, f"no command '{typed}'", pointer)


def test_the_default_goal_is_said_when_it_decides_the_data_assumed(run: Runner) -> None:
    """A newcomer's review: the data assumed was said, the goal it was assumed from was not."""
    plain = ok(run("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--json")).json()
    (note,) = [n for n in plain["notes"] if n.startswith("--data-kind not given")]
    assert "goal 'adapt', itself the default (--goal says yours)" in note
    chat = ok(run("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--json")).json()
    (note,) = [n for n in chat["notes"] if n.startswith("--data-kind not given")]
    assert note.endswith("usual for goal 'chat'.")


@pytest.mark.parametrize(
    "command",
    [("methods",), ("recommend", "--gpu", "rtx-4090", "--model-size", "7b", "--json"), ("--version",)],
)
def test_a_closed_stdout_is_a_failed_write_not_a_success(command: tuple[str, ...]) -> None:
    """An attacker's review: `ft-atlas methods >&-` exited 0 with the answer lost; `echo hi >&-`
    fails. A command whose answer goes to stdout says why and exits 1; one that writes a file
    does not notice."""
    shell = shutil.which("sh")
    if shell is None:
        pytest.skip("needs a POSIX shell")
    line = " ".join(shlex.quote(part) for part in (sys.executable, "-m", "atlas_cli", *command))
    result = subprocess.run([shell, "-c", f"{line} >&-"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "standard output is closed" in result.stderr and "Traceback" not in result.stderr


def test_method_summaries_are_cut_at_a_word(run: Runner) -> None:
    """A newcomer's review: `methods` read 'with gradient descent o…' at any width."""
    rows = ok(run("methods", "--format", "markdown")).stdout.splitlines()
    cut = [row.split("|")[-2].strip() for row in rows if row.rstrip("| ").endswith("…")]
    summaries = [m["summary"] for m in ok(run("methods", "--json")).json()["methods"]]
    assert cut
    for text in cut:
        words = text.rstrip("…").split()
        whole = next(s for s in summaries if s.startswith(" ".join(words)))
        assert whole.split()[len(words) - 1].rstrip(",;:") == words[-1]


def test_a_cards_library_entry_points_are_printed_whole_outside_its_box(run: Runner) -> None:
    """A newcomer's review: at 80 columns `show qlora` split BitsAndBytesConfig(...) over three
    boxed lines, so a copy picked up the box's │; the README says code is never wrapped or boxed."""
    out = ok(run("show", "qlora", env={"COLUMNS": "80"})).stdout
    entry = (
        'transformers: transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", '
        "bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)"
    )
    assert f"\n• {entry}\n" in out
    box_end = out.index("╰")
    assert out.index("\nLibraries\n") > box_end


@pytest.mark.parametrize("flag", ["--gpu", "--vram"])
@pytest.mark.parametrize("memory", ["24564MiB", "24564 МиБ"])
def test_gpu_memory_as_nvidia_smi_prints_it_is_taken(run: Runner, flag: str, memory: str) -> None:
    """A newcomer's review: the questionnaire's help says nvidia-smi shows the memory in MiB, and
    '24564MiB' was refused as an unknown GPU. MiB are read as GiB (24564 / 1024), alike by both
    flags (a diff review: --gpu rounded, --vram did not, and only --gpu took Russian)."""
    data = ok(run("recommend", flag, memory, "--model-size", "7b", "--json")).json()
    assert data["profile"]["vram"] == 24564 / 1024


def test_a_refused_language_is_said_without_the_validators_prefix(run: Runner) -> None:
    """A review: `--lang de` said "Invalid value for '--lang': Value error, 'de' is not one of...",
    pydantic's wording leaking through typer."""
    result = fails(run("--lang", "de", "categories"), 2, "Invalid value for '--lang': 'de' is not one of")
    assert "Value error" not in result.stderr


def test_ctrl_c_while_the_modules_load_ends_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An attacker's review: Ctrl-C in the first ~50-90 ms (while the streams were prepared,
    outside the launcher's guard) printed a traceback; exit 130 with 'Aborted.' is the rule."""
    import atlas_cli.errors
    from atlas_cli import launcher

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atlas_cli.errors, "prepare_streams", interrupted)
    monkeypatch.setattr(sys, "argv", ["ft-atlas", "gpus"])
    with pytest.raises(SystemExit) as ended:
        launcher.main()
    assert ended.value.code == 130 and "Aborted." in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ("recommend", "--examples"),
        ("recommend", "--vram"),
        ("recommend", "--seq-len"),
        ("recommend", "--gpus"),
        ("recommend", "--network-gbps"),
        ("estimate", "--lora-dropout"),
    ],
)
def test_a_refused_number_is_echoed_cut_short(run: Runner, args: tuple[str, ...]) -> None:
    """An attacker's review: a 5,000-digit --examples came back whole in a 5 KB message (and in a
    batch's error record), where docs/security.md says a refused value is echoed to 120 characters."""
    result = run(*args, "9" * 5000)
    assert result.exit_code == 2 and len(result.stderr) < 600
    record = run("recommend", "--batch", "-", input=json.dumps({"examples": "9" * 5000}) + "\n")
    assert len(record.stdout) < 600


def test_a_gpu_given_by_its_mib_is_shown_rounded(run: Runner) -> None:
    """A newcomer's review: --vram 24564MiB (as nvidia-smi prints it) was shown as '23.9883 GB GPU'."""
    shown = ok(run("recommend", "--vram", "24564MiB", "--model-size", "7b")).stdout
    assert "Hardware: 23.99 GB GPU." in shown and "vram=23.99 GiB" in shown and "23.9883" not in shown


def test_a_model_number_with_its_digits_swapped_gets_the_card_it_means(run: Runner) -> None:
    """A newcomer's review: --gpu 3900 got no suggestion where --gpu rtx-309 got one."""
    fails(run("recommend", "--gpu", "3900"), 2, "did you mean 3090?")
    fails(run("recommend", "--gpu", "4900"), 2, "did you mean 4090?")
    assert "did you mean" not in run("recommend", "--gpu", "970").stderr  # no card is meant
    for real in ("2000", "5880"):  # the RTX 2000 and 5880 Ada, not a 2060 or a 5080 (a diff review)
        assert "did you mean" not in run("recommend", "--gpu", real).stderr


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("0b", "must be a positive number"),
        ("0 млрд", "must be a positive number"),
        ("1e-9b", "outside 1m-10t"),
    ],
)
def test_model_given_a_size_out_of_range_says_so(run: Runner, name: str, said: str) -> None:
    """A newcomer's review: `ft-atlas model 0b` was an unknown model, and `model 1e-9b` was asked
    whether it meant gemma-2-9b; `model` takes sizes, and refuses one out of range as a size."""
    result = fails(run("model", name), 2, said)
    assert "did you mean" not in result.stderr and "unknown model" not in result.stderr


def test_lora_on_the_routed_experts_says_so(run: Runner) -> None:
    """An expert's review: `estimate --lora-experts` sized the experts but its footer and JSON said
    "LoRA rank 16 (attention)" only."""
    args = ("estimate", "--method", "lora", "--gpu", "h100", "--gpus", "8", "--model", "qwen3-30b-a3b")
    experts = ok(run(*args, "--lora-experts", "--json")).json()["assumptions"]
    assert (experts["lora_targets"], experts["lora_experts"]) == ("attention", True)
    assert ok(run(*args, "--json")).json()["assumptions"]["lora_experts"] is False
    shown = " ".join(ok(run(*args, "--lora-experts", env={"COLUMNS": "100"})).stdout.split())
    assert "LoRA rank 16 (attention and the routed experts)" in shown


def test_a_plan_without_a_gpu_says_why_it_has_no_time(run: Runner) -> None:
    """A newcomer's review: with no --gpu, the time note blamed a GPU without a published peak."""
    plans = ok(run("recommend", "--model", "llama-3.1-8b", "--examples", "10k", "--json")).json()
    assert plans["recommendations"][0]["time_note"] == "no GPU given (--gpu): no training time"
    laptop = ok(run("recommend", "--vram", "12", "--model", "llama-3.1-8b", "--examples", "10k", "--json"))
    assert "no published peak" in laptop.json()["recommendations"][0]["time_note"]


def test_an_option_given_as_the_batch_file_says_so(run: Runner) -> None:
    """A newcomer's review: `recommend --batch --help` said "cannot read --help"."""
    fails(run("recommend", "--batch", "--help"), 2, "--batch takes a file", "not the option --help")


def test_every_methods_estimate_keeps_what_recommend_leaves_out_in_its_rows(run: Runner) -> None:
    """A diff review: leaving bottleneck adapters out for a decoder put a 5-line warning on stderr of
    every estimate without --method; the row's JSON says it, --method adapters says it aloud."""
    every = ok(run("estimate", "--model", "llama-3.1-8b", "--gpu", "4090", "--json"))
    assert every.stderr == ""
    adapters = next(e for e in every.json()["estimates"] if e["method"] == "adapters")
    assert any("adapters-outside-peft" in w for w in adapters["warnings"])
    one = ok(run("estimate", "--method", "adapters", "--model", "llama-3.1-8b", "--gpu", "4090"))
    assert "recommend leaves this out" in one.stderr
