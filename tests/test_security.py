"""Issue 13: nothing ft-atlas reads or caches can run code, nothing it writes is lost or forged.

One section per numbered point of the issue; each test reproduces the attack or the bug.
"""

from __future__ import annotations

import ast
import copy
import errno
import functools
import hashlib
import io
import itertools
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from atlas_cli import files
from atlas_cli.batch import runner
from atlas_cli.batch.jsonline import LineEncoder
from atlas_cli.batch.runner import run_batch
from atlas_cli.batch.workers import worker_count
from atlas_cli.cli.ask import StderrTerminal
from atlas_cli.core.engine import Engine
from atlas_cli.core.plans import Recommendation
from atlas_cli.core.profile import COUNT, SIZE, Profile, build_profile, parse_count, parse_number, parse_size
from atlas_cli.errors import EXIT_INTERNAL, EXIT_USAGE, UsageError
from atlas_cli.kb import cache as kbcache
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.facts import FACTS
from atlas_cli.kb.files import bundled_kb_path, read_kb
from atlas_cli.kb.loading import load_knowledge_base
from atlas_cli.kb.records import from_model
from atlas_cli.kb.schema import MAX_STRING_CHARS, KnowledgeBase
from atlas_cli.kb.vocabulary import MEMORY_MODELS, RECIPE_HYPERPARAMETERS
from atlas_cli.recipes.writer import render_recipe
from atlas_cli.render.documents import escape_breaks, recommendation_json
from tests.conftest import Runner, fails, ok
from tests.test_kb_fuzz import fuzz_base
from tests.test_knowledge import bundled_sections, dump, problems_of
from tests.test_recipes import rank_of

PROFILE = ["--gpu", "rtx-3090", "--model-size", "7b"]

# --- 14. one number parser ---------------------------------------------------------------------

OTHER_DIGITS = ["\uff12", "\u0662", "\u00b2", "\u09e8"]  # fullwidth, Arabic-Indic, superscript, Bengali


@pytest.mark.parametrize("digit", OTHER_DIGITS)
@pytest.mark.parametrize(
    ("flag", "template", "base"),
    [
        ("--vram", "{}4", ["--model-size", "7b"]),
        ("--gpus", "{}", PROFILE),
        ("--model-size", "{}b", ["--gpu", "rtx-3090"]),
        ("--examples", "1{}k", PROFILE),
        ("--top", "{}", PROFILE),
    ],
)
def test_every_number_flag_refuses_other_scripts_digits(
    run: Runner, flag: str, template: str, base: list[str], digit: str
) -> None:
    result = run("recommend", *base, flag, template.format(digit), "--json")
    assert result.exit_code == 2, result.stdout
    assert flag in result.stderr and "write it like" in result.stderr


@pytest.mark.parametrize(
    ("command", "flag", "text"),
    [
        ("estimate", "--lora-rank", "1_6"),
        ("estimate", "--lora-rank", "+16"),
        ("estimate", "--quant-bits", "0x8"),
        ("estimate", "--lora-dropout", "nan"),
        ("estimate", "--lora-dropout", "1e-1"),
        ("recipe", "--plan", ""),
        ("recipe", "--plan", "\uff12"),
    ],
)
def test_estimate_and_recipe_numbers_are_read_by_the_shared_parser(
    run: Runner, command: str, flag: str, text: str
) -> None:
    """An attacker's review: click's int() took --lora-rank 1_6 and +16 as 16, --lora-dropout nan was
    told "less than or equal to 0.99", and --plan '' got pydantic's wording."""
    method = ["--method", "qlora"] if command == "estimate" else ["--out", "-"]
    result = run(command, *PROFILE, *method, flag, text)
    assert result.exit_code == 2, result.stdout[:200]
    assert f"ft-atlas: {flag}: '{text}' is not" in result.stderr and "write it like" in result.stderr
    assert ok(run("estimate", *PROFILE, "--method", "qlora", "--lora-rank", "16", "--lora-dropout", "0.05"))


@pytest.mark.parametrize("text", ["1,5m", "1,50", "15,00", ",500", "1,500.", "1_000", "1.5.0", "0x10"])
def test_a_comma_is_only_a_thousands_separator(text: str) -> None:
    with pytest.raises(UsageError, match=re.escape("',' only between groups of three digits")):
        parse_count(text)


@pytest.mark.parametrize(("text", "count"), [("1,500", 1_500), ("1,500,000", 1_500_000), ("1.5m", 1_500_000)])
def test_thousands_separators_are_read(text: str, count: int) -> None:
    assert parse_count(text) == count


def test_examples_one_comma_five_m_is_refused_not_read_as_fifteen_million(run: Runner) -> None:
    result = run("recommend", *PROFILE, "--examples", "1,5m", "--json")
    assert result.exit_code == 2 and "--examples" in result.stderr and "1.5m" in result.stderr


def test_epochs_have_a_ceiling_as_every_other_number_does(run: Runner) -> None:
    """A review: --epochs 1000000000 was estimated at 22,774,342-56,935,855 days."""
    args = ("estimate", "--gpu", "rtx-4090", "--model-size", "7b", "--examples", "1000", "--epochs")
    refused = run(*args, "1000000000")
    assert refused.exit_code == 2 and "--epochs: '1000000000' must be at most 1,000" in refused.stderr
    assert ok(run(*args, "1000"))
    # And a floor: 1e-321 epochs (0.000...1 written out) went into every recipe (an attacker's review).
    tiny = "0." + "0" * 320 + "1"
    refused = run(*args, tiny)
    assert refused.exit_code == 2 and "must be at least 0.01" in refused.stderr
    assert ok(run(*args, "0.01"))


def test_sizes_keep_their_documented_forms() -> None:
    assert parse_size("7e9") == pytest.approx(7.0)
    assert parse_size("1,500m") == pytest.approx(1.5)
    assert parse_size("0.5T") == pytest.approx(500.0)
    assert parse_number("2k", "--examples", COUNT) == (2000.0, "k")
    with pytest.raises(UsageError, match="write it like"):
        parse_number("7e9", "--examples", COUNT)  # an exponent only where documented: model sizes
    with pytest.raises(UsageError):
        parse_number("7 bn", "--model-size", SIZE)


def test_batch_values_use_the_same_parser(run: Runner, tmp_path: Path) -> None:
    lines = [
        {"gpu": "rtx-3090", "model_size": "7b", "examples": "1,5m"},
        {"gpu": "rtx-3090", "model_size": "7b", "gpus": "\u0662"},
        {"gpu": "rtx-3090", "model_size": 7e9, "examples": 1500},
        {"gpu": "rtx-3090", "model_size": "7b", "examples": 10**400},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = run("recommend", "--batch", str(source), "--top", "1")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in r) for r in records] == [True, True, False, True]
    assert "write it like" in records[0]["error"]["message"]
    assert records[2]["profile"]["examples"] == 1500
    assert result.exit_code == 2


@pytest.mark.parametrize("value", ["\u0662", "1,0", "4k"])
def test_jobs_setting_uses_the_same_parser(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FT_ATLAS_JOBS", value)
    with pytest.raises(UsageError, match="FT_ATLAS_JOBS"):
        worker_count()


# --- 12. an empty --kb, and dot-files in a KB directory -------------------------------------------


def test_an_empty_kb_path_is_refused_not_read_as_the_current_directory(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.yaml").write_text("just: some yaml\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for args in (["--kb", "", "methods"], ["--kb", " ", "gpus"], ["validate", ""], ["gpus", "--kb", " "]):
        result = run(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "the path is empty" in result.stderr
    # Every spelling says the same (an attacker's review: the fast path and a command-level --kb
    # read " " as a file, exit 3): FT_ATLAS_KB, before or after the command, with --json or not.
    profile = ["recommend", "--gpu", "3090", "--model-size", "7b"]
    monkeypatch.setenv("FT_ATLAS_KB", " ")
    for args in ([*profile, "--json"], profile):
        result = subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stderr) == (
            2,
            "ft-atlas: --kb: the path is empty; give a KB file or directory\n",
        )
    monkeypatch.delenv("FT_ATLAS_KB")
    for args in ([*profile, "--kb", " ", "--json"], ["--kb", " ", *profile, "--json"]):
        assert subprocess.run([*COMMAND, *args], capture_output=True, timeout=60).returncode == 2
    fails(run("export", "--out", ""), 2, "--out: empty path")
    assert list(tmp_path.iterdir()) == [tmp_path / "notes.yaml"]  # nothing written here


def test_knowledge_base_text_is_shown_as_text_in_markdown(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a knowledge base that validates put a working javascript: link, an
    image and a top-level heading into `recommend --format markdown` and `show --format markdown`,
    which `export` escaped. Every piece of its text is now shown as it is, one item on one line."""
    from markdown_it import MarkdownIt

    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    hostile = "X [Download](https://evil.example/p) ![i](javascript:alert(4))\\n\\n# Fake heading"
    rules = (kb / "rules.yaml").read_text(encoding="utf-8")
    said = "\"LoRA on all linear layers is the practitioners' default"
    (kb / "rules.yaml").write_text(rules.replace(said, f'"{hostile} {said[1:]}', 1), encoding="utf-8")
    methods = (kb / "methods.yaml").read_text(encoding="utf-8")
    summary = '"Updates every weight of the pre-trained model'
    methods = methods.replace(summary, f'"{hostile} {summary[1:]}', 1)
    (kb / "methods.yaml").write_text(methods, encoding="utf-8")
    assert run("validate", str(kb)).exit_code == 0
    recommended = ok(run("--kb", str(kb), "recommend", "--gpu", "rtx-4090", "--model", "llama-3.1-8b",
                         "--format", "markdown", "--explain")).stdout  # fmt: skip
    shown = ok(run("--kb", str(kb), "show", "full-ft", "--format", "markdown")).stdout
    for page in (recommended, shown):
        assert "Download" in page and "Fake heading" in page
        tokens = MarkdownIt("commonmark").parse(page)
        kinds = {c.type for token in tokens for c in (token.children or [])}
        assert not {"link_open", "image"} & kinds
        headings = [tokens[i + 1].content for i, token in enumerate(tokens) if token.type == "heading_open"]
        assert not any("Fake heading" in h for h in headings)


def test_an_empty_model_or_trainer_is_refused(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker's review: `model ''` read the current directory as a model folder, and
    `recipe --trainer ''` wrote the default trainer, where every other list option refuses ''."""
    monkeypatch.chdir(tmp_path)
    fails(run("model", ""), 2, "model: empty name")
    fails(run("model", " "), 2, "model: empty name")
    fails(run("recipe", "--gpu", "rtx-4090", "--trainer", "", "--out", "-"), 2, "--trainer: '' is not one of")


def test_editor_lock_files_and_appledouble_files_are_not_part_of_a_kb(run: Runner, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    (kb / ".#methods.yaml").write_text("user@host.1234:1700000000", encoding="utf-8")
    (kb / "._methods.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    result = run("validate", str(kb))
    assert result.exit_code == 0, result.stderr
    assert run("--kb", str(kb), "methods", "--json").exit_code == 0


def test_a_kb_string_too_long_to_print_quickly_is_refused(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a 4.5 MB `because` passed validate and took recommend 31 s to wrap.
    Any one string of a KB is at most MAX_STRING_CHARS, where it is refused with its place."""
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    rules = kb / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    long = "x" * (MAX_STRING_CHARS + 1)
    rules.write_text(text.replace('because: "', f'because: "{long} ', 1), encoding="utf-8")
    fails(run("validate", str(kb)), 3, f"because: String should have at most {MAX_STRING_CHARS} characters")


def test_a_kb_directory_does_not_read_files_outside_it_through_links(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a cloned KB with `zz.yaml -> /etc/shadow` made `validate` quote every
    line of it. A link to a file outside the directory is refused unread; one within it is read."""
    secret = tmp_path / "secret.json"
    secret.write_text('{"hunter2": 1}', encoding="utf-8")
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    (kb / "zz.yaml").symlink_to(secret)
    result = fails(
        run("validate", str(kb)), 3, "cannot read: a symbolic link to a file outside the knowledge base"
    )
    assert "hunter2" not in result.stderr
    (kb / "zz.yaml").unlink()
    (kb / "zz.yaml").symlink_to("gpus.yaml")
    fails(run("validate", str(kb)), 3, "gpus: section also in")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_kb_directory_is_refused_not_waited_for(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    os.mkfifo(kb / "zz.yaml")  # nobody will ever write to it
    command = [sys.executable, "-m", "atlas_cli", "validate", str(kb)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert f"{kb / 'zz.yaml'}:1:1: cannot read: not a regular file" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_as_the_kb_that_nothing_writes_to_is_named_for_what_it_is(tmp_path: Path) -> None:
    """It read as empty at once and was reported as "file is empty" (a review)."""
    fifo = tmp_path / "kb.yaml"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "atlas_cli", "--kb", str(fifo), "methods"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert f"{fifo}:1:1: cannot read: not a regular file, and nothing was written to it" in result.stderr


# --- 11. closed stdin, a full disk and a reader that went away ----------------------------------

COMMAND = [sys.executable, "-m", "atlas_cli"]


def _run_into_closed_pipe(args: list[str]) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before ft-atlas writes a byte
    try:
        return subprocess.run(
            [*COMMAND, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args", [["--version"], ["--no-color", "--version"], ["--help"], [], ["recommend", "--help"]], ids=str
)
def test_a_reader_that_went_away_ends_help_and_version_with_exit_0(args: list[str]) -> None:
    result = _run_into_closed_pipe(args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def _run_with_stderr_closed(args: list[str], answers: str = "") -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader of stderr is gone: stdout is still read
    try:
        return subprocess.run(
            [*COMMAND, *args], input=answers, stdout=subprocess.PIPE, stderr=write_end, text=True, timeout=60
        )
    finally:
        os.close(write_end)


def test_a_reader_of_stderr_that_went_away_keeps_the_exit_code(tmp_path: Path) -> None:
    """`validate 2>&1 | head -1` exited 1 instead of 3, bad input 1 instead of 2, and `ask --json`
    exited 0 with nothing written when its prompts could not be shown (an attacker's review): a
    broken stderr is not stdout's reader leaving."""
    assert _run_with_stderr_closed(["recommend", "--gpu", "bogus-gpu", "--json"]).returncode == 2
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    models = kb / "models.yaml"
    bad = "".join(f"  - {{id: bad{i}, name: B{i}}}\n" for i in range(3000))  # pages of problems
    models.write_text(models.read_text(encoding="utf-8").rstrip("\n") + "\n" + bad, encoding="utf-8")
    assert _run_with_stderr_closed(["--kb", str(kb), "validate"]).returncode == 3
    asked = _run_with_stderr_closed(["ask", "--no-color", "--json"], "weights\n3090\n\n")
    assert asked.returncode == 1 and asked.stdout == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args", [["--version"], ["--no-color", "--version"], [*["recommend"], *PROFILE, "--json"]]
)
def test_a_full_disk_is_a_write_error_not_a_traceback(args: list[str]) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run([*COMMAND, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 1
    assert "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_ask_with_stdin_closed_does_not_crash() -> None:
    result = subprocess.run(
        [*COMMAND, "ask", "--no-input", "--gpu", "3090", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),  # `<&-`: Python starts with sys.stdin None
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["profile"]["gpu"] == "rtx-3090"
    assert "internal error" not in result.stderr


# --- a knowledge base with hostile text in it ---------------------------------------------------

# YAML and str.splitlines() line breaks, a C1 control (CSI), and a bidirectional override and isolate
BREAKS = "\u2028\u2029\u0085\u009b\u202e\u2066"
ESCAPES = "\x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07\x07\x08"  # clear screen, OSC 8


def test_an_alias_with_a_control_character_is_refused(tmp_path: Path) -> None:
    """An attacker's review: `validate` passed a model alias ending in a newline, and recipes took
    it as a Hub id ('meta-llama/Evil-Instruct\\n' as the script's default model)."""
    data = bundled_sections()
    model = next(m for m in data["models"] if m["id"] == "llama-3-8b")
    model["aliases"] = [*model.get("aliases", []), "meta-llama/Evil-Instruct\n"]
    path = tmp_path / "kb.yaml"
    path.write_text(dump(data), encoding="utf-8")
    assert any("aliases" in problem for problem in problems_of(path))


def hostile_kb(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    """The bundled KB as one file, with `text` in the names and prose that reach output."""
    data = bundled_sections()
    methods = {m["id"]: m for m in data["methods"]}
    lora = methods["lora"]
    lora["name"] = f"LoRA {text} (see C:\\Users\\docs)"
    lora["summary"] = f"Low-rank {text} adapters."
    lora["pitfalls"] = [f"pitfall {text}", *lora["pitfalls"]]
    for variant in lora.get("variants", []):  # estimate's sweep shows their labels
        variant["label"] = f"{variant['label']} {text}"
    for hyper in lora["hyperparameters"].values():
        if isinstance(hyper, dict):
            hyper["note"] = f"note {text} end"
            if hyper.get("source"):
                hyper["source"] = f"source {text} end"
    for rule in data["rules"]:
        rule["because"] = f"{rule['because']} {text}"
    data["gpus"][0]["name"] = f"GPU {text}"
    data["models"][0]["name"] = f"Model {text}"
    data["categories"][0]["changes"] = f"changes {text}"
    guide = data["guide"]
    guide["title"] = f"Atlas {text}"
    guide["comparison"][0]["label"] = f"row {text}"
    guide["tools"][0]["library"] = f"lib {text}"
    guide["choose"][0]["text"] = f"choose {text}"
    path = tmp_path / name
    path.write_text(dump(data), encoding="utf-8")
    return path


# --- 13. JSON Lines: one record per line, whatever the text; duplicate keys --------------------


def test_batch_lines_escape_line_separators_and_c1_controls(run: Runner, tmp_path: Path) -> None:
    kb = hostile_kb(tmp_path, BREAKS)
    assert run("validate", str(kb)).exit_code == 0
    profile = {"gpu": "rtx-3090", "model_size": "7b", "goal": "chat"}
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps(profile) + "\n" + json.dumps({"gpu": f"x{BREAKS}y"}) + "\n", encoding="utf-8"
    )
    result = run("--kb", str(kb), "recommend", "--batch", str(source), "--top", "100")
    assert result.exit_code == 2
    assert not set(BREAKS) & set(result.stdout)
    lines = result.stdout.splitlines()  # splits at U+2028 and U+0085 too
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert any(BREAKS in plan["name"] for plan in first["recommendations"])
    # The refused name is echoed with each of them escaped (one_line), not raw.
    escaped = BREAKS.encode("unicode_escape").decode("ascii")
    assert f"'x{escaped}y' holds a control character" in second["error"]["message"]
    # The same document as `recommend --json`, which escapes the same characters.
    args = ["--kb", str(kb), "recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"]
    single = run(*args, "--top", "100", "--json")
    assert not set(BREAKS) & set(single.stdout)
    assert {"line": 1, **json.loads(single.stdout)} == first


def test_batch_line_is_the_compact_single_profile_document_with_those_escapes(tmp_path: Path) -> None:
    catalog = Catalog(load_knowledge_base(hostile_kb(tmp_path, BREAKS)))
    engine = Engine(catalog)
    rec = engine.recommend(build_profile({"gpu": "rtx-3090", "model_size": "7b"}))
    line = LineEncoder().line(1, rec, 5).decode()
    plain = json.dumps(
        {"line": 1, **recommendation_json(rec, 5, False)}, ensure_ascii=False, separators=(",", ":")
    )
    assert line != plain and line == escape_breaks(plain)
    assert line.encode("utf-8") == escape_breaks(plain).encode("utf-8")


def test_duplicate_keys_in_a_batch_line_are_an_error_record(run: Runner) -> None:
    lines = '{"gpu": "rtx-3090", "model_size": "7b", "gpu": "t4"}\n{"gpu": "rtx-3090", "model_size": "7b"}\n'
    result = run("recommend", "--batch", "-", "--top", "1", input=lines)
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["error"]["code"] == "bad_input" and "duplicate key 'gpu'" in first["error"]["message"]
    assert second["profile"]["gpu"] == "rtx-3090"
    assert result.exit_code == 2


# --- 6. every batch line gets exactly one record ----------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_crash_in_one_batch_line_loses_no_other_line(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    real = runner.build_profile

    def crash_on_t4(raw: dict[str, object]) -> Profile:
        if raw.get("gpu") == "t4":
            raise RuntimeError("kaboom")
        return real(raw)

    monkeypatch.setattr(runner, "build_profile", crash_on_t4)  # a bug that only line 3 reaches
    monkeypatch.setenv("FT_ATLAS_JOBS", jobs)
    profiles = [{"gpu": "rtx-3090"}, {"gpu": "a100-80gb"}, {"gpu": "t4"}, {"gpu": "l4"}, {"gpu": "nope"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in profiles * 40), encoding="utf-8")
    out = io.StringIO()
    code = run_batch(Engine(catalog), str(source), top=1, explain=False, out=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["line"] for r in records] == list(range(1, 201))
    outcomes = [r["error"]["code"] if "error" in r else "ok" for r in records[:5]]
    assert outcomes == ["ok", "ok", "internal", "ok", "bad_input"]
    assert "kaboom" in records[2]["error"]["message"]
    assert code == EXIT_INTERNAL


def test_only_bad_lines_exit_2(catalog: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"gpu": "nope"}\n{"gpu": "rtx-3090"}\n', encoding="utf-8")
    assert run_batch(Engine(catalog), str(source), top=1, explain=False, out=io.StringIO()) == EXIT_USAGE


# --- 7. recipe --out: atomic, no silent overwrite, no writing through links ---------------------


def test_out_refuses_to_overwrite_an_existing_file(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_text("# my own script\n", encoding="utf-8")
    result = run("recipe", *PROFILE, "--out", str(target))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert target.read_text(encoding="utf-8") == "# my own script\n"
    forced = run("recipe", *PROFILE, "--out", str(target), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "ft-atlas recipe (python)" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]  # no temporary file left


def test_out_never_writes_through_a_symbolic_link(run: Runner, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "train.py"
    link.symlink_to(victim)
    result = run("recipe", *PROFILE, "--out", str(link))
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    assert link.is_symlink() and victim.read_text(encoding="utf-8") == "precious\n"
    assert run("recipe", *PROFILE, "--out", str(link), "--force").exit_code == 0
    assert not link.is_symlink() and "ft-atlas recipe" in link.read_text(encoding="utf-8")
    assert victim.read_text(encoding="utf-8") == "precious\n"


def test_out_refuses_devices_and_writes_into_directories_without_replacing(
    run: Runner, tmp_path: Path
) -> None:
    result = run("recipe", *PROFILE, "--out", os.devnull, "--force")
    assert result.exit_code == 2 and "use - for stdout" in result.stderr
    # An existing directory is a target directory (issue 18: one file per stage and config);
    # what it already holds is still never replaced unasked.
    assert run("recipe", *PROFILE, "--out", str(tmp_path)).exit_code == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["recipe.py"]
    again = run("recipe", *PROFILE, "--out", str(tmp_path))
    assert again.exit_code == 2 and "already exists" in again.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs resource limits in a child process")
def test_a_write_error_keeps_the_old_file_and_exits_1(tmp_path: Path) -> None:
    import resource

    target = tmp_path / "train.py"
    target.write_text("# my own script\n", encoding="utf-8")

    def small_files() -> None:  # in the child: any file beyond 4 KiB fails (EFBIG), as a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [*COMMAND, "recipe", *PROFILE, "--out", str(target), "--force"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_files,
    )
    assert result.returncode == 1, result.stderr
    assert "--out: cannot write" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text(encoding="utf-8") == "# my own script\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


def test_a_set_of_files_is_written_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-file recipe (stage configs and the DeepSpeed file they name) that fills the disk on
    its last file left the first ones behind, and a rerun then asked for --force (an attacker's
    review). The disk fills on the second file here: neither may remain, nor any temporary."""
    import errno

    from atlas_cli.errors import WriteFailed
    from atlas_cli.files import write_new_files

    synced: list[int] = []
    real_fsync = os.fsync

    def full_on_second(fd: int) -> None:
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_on_second)
    files = {tmp_path / "sft.yaml": "deepspeed: ds_z3_config.json\n", tmp_path / "ds_z3_config.json": "{}"}
    with pytest.raises(WriteFailed, match="No space left"):
        write_new_files(files)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(os, "fsync", real_fsync)
    write_new_files(files)  # the rerun needs no --force
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds_z3_config.json", "sft.yaml"]
    # With --force, a failure halfway also puts back the files it had replaced.
    renamed: list[str] = []
    real_replace = os.replace

    def fail_second_rename(source: Any, target: Any) -> None:
        if str(source).endswith(".tmp"):
            renamed.append(str(target))
            if len(renamed) == 2:
                raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", fail_second_rename)
    newer = {path: text + "# newer\n" for path, text in files.items()}
    with pytest.raises(WriteFailed, match="Input/output error"):
        write_new_files(newer, force=True)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {p.name: t for p, t in files.items()}


def test_an_out_the_disk_refuses_is_an_io_error_exit_1(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device error is the system's, not the user's: exit 1 with its words (a path that names no
    file, such as one under a file, is bad input: test_a_path_too_long_for_the_system_is_bad_input)."""

    def failing(*_: object, **__: object) -> tuple[int, str]:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(tempfile, "mkstemp", failing)
    result = run("recipe", *PROFILE, "--out", str(tmp_path / "train.py"))
    assert result.exit_code == 1 and "--out: cannot write" in result.stderr
    assert "Input/output error" in result.stderr


def _owned_by_another_user(link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root gives the link away; anyone else is told by os.getuid that they are someone else."""
    if os.geteuid() == 0:
        os.lchown(link, 4242, 4242)
    else:
        uid = os.geteuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)


def test_out_never_writes_through_another_users_link_to_a_directory(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out shared/out/ where `out` is another user's link to your directory replaced your
    recipe.py with --force, and wrote new files there without it (an attacker's review); a file
    named inside that link is refused alike."""
    victim, shared = tmp_path / "victim", tmp_path / "shared"
    victim.mkdir()
    shared.mkdir()
    (victim / "recipe.py").write_text("ORIG", encoding="utf-8")
    (shared / "out").symlink_to(victim)
    _owned_by_another_user(shared / "out", monkeypatch)
    # ... and one directory down, new or not (a diff review: shared/out/sub/ was written).
    (victim / "sub").mkdir()
    outs = (f"{shared / 'out'}/", str(shared / "out" / "b.py"), str(shared / "out" / "sub" / "b.py"))
    outs += (f"{shared / 'out' / 'new'}/", f"{shared / 'out' / 'sub'}/")
    for out, force in itertools.product(outs, ((), ("--force",))):
        result = run("recipe", *PROFILE, "--out", out, *force)
        assert result.exit_code == 2 and "one another user owns" in " ".join(result.stderr.split()), out
    assert sorted(p.name for p in victim.iterdir()) == ["recipe.py", "sub"]
    assert not any((victim / "sub").iterdir())
    assert (victim / "recipe.py").read_text(encoding="utf-8") == "ORIG"


def test_out_never_replaces_the_systems_own_files(run: Runner) -> None:
    """An attacker's review: --out /dev/stdout said "--force replaces the link itself", and with
    --force (as root in a container) /dev/stdout became a file. Paths in /dev, /proc and /sys are
    refused with the way to print: -."""
    before = _identity("/dev/stdout") if os.path.lexists("/dev/stdout") else None
    for out in ("/dev/fd/1", "/proc/self/fd/1", "/dev/stdout"):
        for force in ((), ("--force",)):
            result = run("recipe", *PROFILE, "--out", out, *force)
            assert result.exit_code == 2, (out, result.stderr)
            assert f"{out} is not a regular file; use - for stdout" in result.stderr, result.stderr
    if before is not None:
        assert _identity("/dev/stdout") == before


def _identity(path: str) -> tuple[int, int, int, int]:
    """What replacing a file changes; not its times, which any reader of the link moves (the whole
    stat compared failed while another process read /dev/stdout)."""
    info = os.lstat(path)
    return info.st_dev, info.st_ino, info.st_mode, info.st_size


def test_out_writes_into_a_directory_through_the_users_own_link(run: Runner, tmp_path: Path) -> None:
    """A review: --out linkdir/b.py wrote through the user's own link to a directory while --out
    linkdir/ was refused; macOS's /tmp is such a link (root's). Both write into the directory."""
    (tmp_path / "real").mkdir()
    (tmp_path / "linkdir").symlink_to(tmp_path / "real")
    assert run("recipe", *PROFILE, "--out", f"{tmp_path / 'linkdir'}/").exit_code == 0
    assert run("recipe", *PROFILE, "--out", str(tmp_path / "linkdir" / "b.py")).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["b.py", "recipe.py"]
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")  # a link to no directory: still refused
    result = run("recipe", *PROFILE, "--out", f"{tmp_path / 'gone'}/")
    assert result.exit_code == 2 and "a symbolic link to no directory" in " ".join(result.stderr.split())


def test_a_path_too_long_for_the_system_is_bad_input(run: Runner, tmp_path: Path) -> None:
    """A 300-character file name exited 1, as an internal error (an attacker's review)."""
    long_name = str(tmp_path / ("a" * 300))
    assert run("recipe", *PROFILE, "--out", long_name).exit_code == 2
    assert run("--kb", long_name, "validate").exit_code == 2
    # A file where a directory should be, and a loop of links: the path given names no file
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for out in (tmp_path / "afile" / "x.py", tmp_path / "loop" / "x.py"):
        result = run("recipe", *PROFILE, "--out", str(out))
        assert result.exit_code == 2 and "Traceback" not in result.stderr, (out, result.stderr)


def test_an_out_file_in_a_missing_directory_is_refused_exit_2(run: Runner, tmp_path: Path) -> None:
    """--out into a directory that does not exist exited 1, an internal-looking I/O error, for a
    mistyped path (a review): it is bad input, refused with the directory named, and nothing is
    made. --out DIR/ still makes its directory."""
    missing = tmp_path / "missing" / "dir"
    result = run("recipe", *PROFILE, "--out", str(missing / "train.py"))
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"the directory {missing} does not exist; create it first" in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []
    made = run("recipe", *PROFILE, "--out", f"{missing}/")
    assert made.exit_code == 0 and sorted(p.name for p in missing.iterdir()) == ["recipe.py"]
    # Its header's Run: line names the files as they sit together (a review ran it elsewhere).
    assert f"(run the Run: line of its header there: cd {missing})" in " ".join(made.stderr.split())
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "nowhere")  # a link to a directory that is gone: the same mistake
    assert run("recipe", *PROFILE, "--out", str(dangling / "train.py")).exit_code == 2


def test_a_line_break_typed_in_a_path_cannot_forge_a_line_of_output(run: Runner, tmp_path: Path) -> None:
    """A review: `--out $'a\\nb.py'` printed "wrote a", then "b.py" on a line of its own, and error
    messages echoed such paths the same way; each message stays one line, the break escaped."""
    named = tmp_path / "a\nb.py"
    written = run("recipe", *PROFILE, "--out", str(named))
    assert written.exit_code == 0 and named.exists()
    assert written.stderr.strip().splitlines() == [f"ft-atlas: wrote {tmp_path}/a\\nb.py"]
    missing = ("recommend", "--batch", str(tmp_path / "x\ny"))
    for args in (missing, ("recipe", *PROFILE, "--out", f"{named}/c.py")):
        refused = run(*args)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_a_file_that_appears_while_writing_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "train.py"
    real_mkstemp = tempfile.mkstemp

    def racing_mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        made = real_mkstemp(*args, **kwargs)
        target.write_text("# written by someone else meanwhile\n", encoding="utf-8")
        return made

    monkeypatch.setattr(files.tempfile, "mkstemp", racing_mkstemp)
    with pytest.raises(UsageError, match="already exists"):
        files.write_new(target, "new text\n")
    assert target.read_text(encoding="utf-8") == "# written by someone else meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"]


def test_a_directory_output_changes_nothing_when_one_file_exists(tmp_path: Path) -> None:
    (tmp_path / "dpo.yaml").write_text("mine\n", encoding="utf-8")
    outputs = {tmp_path / "sft.yaml": "a: 1\n", tmp_path / "dpo.yaml": "b: 2\n"}
    with pytest.raises(UsageError, match=r"dpo\.yaml already exists"):
        files.write_new_files(outputs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dpo.yaml"]
    files.write_new_files(outputs, force=True)
    assert (tmp_path / "sft.yaml").read_text(encoding="utf-8") == "a: 1\n"
    assert (tmp_path / "dpo.yaml").read_text(encoding="utf-8") == "b: 2\n"
    assert (tmp_path / "sft.yaml").stat().st_mode & 0o777 == 0o666 & ~_current_umask()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- 9. no raw control characters reach a terminal -------------------------------------------------

SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours, when a terminal is forced
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
VIEWS = [
    ["methods"],
    ["show", "lora"],
    ["compare"],
    ["compare", "lora", "qlora"],
    ["categories"],
    ["tools"],
    ["guide"],
    ["gpus"],
    ["models"],
    ["recommend", *PROFILE, "--explain", "--top", "100"],
    ["estimate", *PROFILE],
    ["estimate", *PROFILE, "--method", "lora"],
    ["ask", "--no-input", *PROFILE],
]


def _raw_controls(text: str, bidi: bool = True) -> list[str]:
    found = RAW_CONTROL.findall(SGR.sub("", text))
    # JSON is data: bidirectional marks stay as they are (they drive no terminal sequence).
    return found if bidi else [c for c in found if not "\u202a" <= c <= "\u2069"]


@pytest.fixture(scope="module")
def escaping_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_kb(tmp_path_factory.mktemp("escapes"), ESCAPES + BREAKS + "\u202e")


@pytest.mark.parametrize("args", VIEWS, ids=" ".join)
@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_kb_text_never_reaches_the_terminal_raw(
    run: Runner, escaping_kb: Path, args: list[str], fmt: str
) -> None:
    result = run("--kb", str(escaping_kb), *args, "--format", fmt, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert _raw_controls(result.stdout, bidi=fmt != "json") == [] and _raw_controls(result.stderr) == []
    assert "\\x1b" in result.stdout or "\\u001b" in result.stdout  # shown, escaped


@pytest.mark.parametrize(
    "args", [["methods"], ["show", "lora"], ["guide"], ["recommend", *PROFILE, "--explain"]]
)
def test_rich_styles_survive_while_kb_escapes_do_not(run: Runner, escaping_kb: Path, args: list[str]) -> None:
    result = run("--kb", str(escaping_kb), *args, env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert result.exit_code == 0, result.stderr
    assert SGR.search(result.stdout)  # the terminal still gets colours
    assert _raw_controls(result.stdout) == []


@pytest.mark.parametrize("args", [["show", "lora"], ["guide"], ["methods"]])
def test_emoji_codes_in_kb_text_are_shown_as_written(run: Runner, tmp_path: Path, args: list[str]) -> None:
    """`show`'s card title turned a method named ":smile:" into an emoji, while its body kept the
    text (an attacker's review): every view shows the text as written."""
    result = run("--kb", str(hostile_kb(tmp_path, ":smile: :thumbs_up:")), *args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert (
        ":smile:" in result.stdout and "\U0001f604" not in result.stdout and "\U0001f44d" not in result.stdout
    )


@pytest.mark.parametrize(
    "args",
    [
        ["recommend", "--gpu", "x\x1b[2J\x1b]8;;http://e\x07", "--model-size", "7b"],
        ["recommend", *PROFILE, "--examples", "\x1b[2J"],
        ["no\x1b[2Jsuch-command"],
        ["show", "\x9b2J"],
        ["--kb", "missing\x1b[2J.yaml", "methods"],
    ],
)
def test_user_input_echoed_in_errors_is_escaped(run: Runner, args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code in (2, 3)
    assert _raw_controls(result.stderr) == [] and _raw_controls(result.stdout) == []
    assert "\\x1b" in result.stderr or "\\x9b" in result.stderr


def test_an_invisible_character_in_echoed_input_is_shown(run: Runner) -> None:
    """An attacker's review: --gpu "40<zero-width space>90" was refused as "unknown GPU '4090'",
    the reason invisible; zero-width and directional marks are escaped as controls are, and a name
    holding one is refused as such (a later review forged a table line with a newline in --model)."""
    for invisible in ("\u200b", "\u200e", "\u2060", "\ufeff"):
        result = run("recommend", "--gpu", f"40{invisible}90")
        assert result.exit_code == 2 and invisible not in result.stderr
        assert f"unknown GPU '40{invisible.encode('unicode_escape').decode()}90'" in result.stderr
    for control in ("\n", "\x1b", "\u2028", "\u202e"):
        for flag in ("--gpu", "--model"):
            result = run("recommend", flag, f"40{control}90")
            assert result.exit_code == 2 and control not in result.stderr.rstrip("\n")
            shown = control.encode("unicode_escape").decode()
            assert f"{flag}: '40{shown}90' holds a control character" in result.stderr
    # A zero-width non-joiner is a letter of Persian names, a tab a character of some paths: kept.
    assert "holds a control" not in run("recommend", "--model", "/no/such/می\u200cخواهم").stderr


# --- 2 and 3. generated recipes hold KB text as data only ------------------------------------------

NASTY = [
    '"""', "'''", '"', "'", "\\", "\\N{", "\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85",
    "\x9b", "\u2028", "\u2029", "\ufeff", "\u202e", "\ufffe", "\uffff", "#", "# ", "\n#", "coding: latin-1",
    ": ", "- ", "---",
    "...", "{", "}", "[", "]", "!!python/object:os.system", "&a", "*a", "%", "@", "`", "\t", " ", "é",
    "\U0001f600", "trust_remote_code: true", "\nimport os\nos.system('id')\n", '"""; import os; """',
]  # fmt: skip
hostile_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=6)), max_size=8).map("".join)
hub_part = st.from_regex(r"[\w.\-]{1,12}", fullmatch=True).filter(lambda s: s not in (".", ".."))


@dataclass(frozen=True)
class RecipeInputs:
    """The KB fields that reach a recipe, and the profile's model id."""

    name: str
    note: str
    source: str
    targets: str
    dropout: float
    hub: str
    model_id: str


PLACEHOLDERS = RecipeInputs(
    "ZZNAMEZZ", "ZZNOTEZZ", "ZZSOURCEZZ", "ZZTARGETSZZ", 0.125, "zzorg/zzrepo", "zz-model"
)


def _recipe_kb(base: dict[str, Any], given: RecipeInputs) -> Catalog | None:
    data = copy.deepcopy(base)
    lora = next(m for m in data["methods"] if m["id"] == "lora")
    lora["name"] = given.name
    hyper = lora["hyperparameters"]
    for entry in hyper.values():
        entry["note"], entry["source"] = given.note, given.source
    hyper["target_modules"]["value"] = given.targets
    hyper["lora_dropout"]["value"] = given.dropout
    hyper["sharding"] = {"note": given.note}  # the note a multi-GPU recipe quotes
    for method in data["methods"]:
        if method["id"] in ("sft", "dpo"):
            for entry in method["hyperparameters"].values():
                if entry.get("source"):
                    entry["source"] = given.source
    model = copy.deepcopy(next(m for m in data["models"] if m["id"] == "llama-3.1-8b"))
    model.update(
        id=given.model_id, name=given.name, aliases=[], source=f"https://huggingface.co/{given.hub}/"
    )
    data["models"].append(model)
    try:
        return Catalog(from_model(KnowledgeBase.model_validate(data)))
    except ValidationError:
        return None  # e.g. a target that reads as a number: validate refuses it, as it should


def _recipes(catalog: Catalog, model_id: str) -> dict[str, str]:
    # A base model, however its generated id reads ("it" reads as instruct, whose preference data
    # trains DPO alone): the SFT -> DPO recipe is the one whose strings are checked.
    profile = {"gpu": "rtx-3090", "gpus": "2", "model": model_id, "model_variant": "base"}
    profile["data_kind"] = "preferences"
    rec = Engine(catalog).recommend(build_profile(profile))
    rank = rank_of(rec, "lora", ("sft", "dpo"))
    return {fmt: _rendered(catalog, rec, rank, fmt) for fmt in ("python", "llamafactory", "axolotl")}


def _rendered(catalog: Catalog, rec: Recommendation, rank: int, fmt: str) -> str:
    """The recipe, or REFUSED where LLaMA-Factory's loader would read a KB value as an OmegaConf
    interpolation: the one refusal a validated KB's text may cause (the fuzzer found targets '${')."""
    try:
        return render_recipe(catalog, rec, rank, fmt)
    except UsageError as error:
        assert fmt == "llamafactory" and "OmegaConf" in str(error), error
        return REFUSED


REFUSED = "refused"


def _substituted(value: Any, given: RecipeInputs) -> Any:
    """The benign rendering's values with each placeholder replaced by what the KB really said."""
    plain = {
        getattr(PLACEHOLDERS, f): getattr(given, f) for f in ("name", "note", "source", "targets", "hub")
    }
    if isinstance(value, str):
        return plain.get(value, value)
    if isinstance(value, float) and value == PLACEHOLDERS.dropout:
        return given.dropout
    if value == [PLACEHOLDERS.targets]:  # axolotl lists the targets
        return given.targets.split(",")
    if isinstance(value, list):
        return [_substituted(v, given) for v in value]
    if isinstance(value, dict):
        return {k: _substituted(v, given) for k, v in value.items()}
    return value


class _Literals(ast.NodeTransformer):
    def __init__(self, given: RecipeInputs) -> None:
        self.given = given

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant(_substituted(node.value, self.given))


def _check_recipes(base: dict[str, Any], given: RecipeInputs) -> bool:
    hostile, benign = (
        _recipe_kb(base, given),
        _recipe_kb(base, replace(PLACEHOLDERS, model_id=given.model_id)),
    )
    if hostile is None:
        return False
    assert benign is not None
    got, want = _recipes(hostile, given.model_id), _recipes(benign, given.model_id)
    # Python: it compiles, and its syntax tree is the benign one with exactly the KB's literals.
    code = compile(got["python"], "recipe.py", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    compile(got["python"], "recipe.py", "exec", dont_inherit=True)
    expected = _Literals(given).visit(ast.parse(want["python"]))
    assert ast.dump(code) == ast.dump(expected)
    assert ast.literal_eval(next(n.value for n in code.body if _assigns(n, "PLAN"))) == given.name
    head = got["python"].split('"""', 1)[0].splitlines()
    assert all(line.startswith("#") or not line for line in head)  # the header stays comments
    # YAML: every document reads back as the intended mapping, with no key added or lost.
    assert (got["llamafactory"] == REFUSED) == ("${" in given.targets)
    for fmt in ("llamafactory", "axolotl")[got["llamafactory"] == REFUSED :]:
        documents = list(yaml.safe_load_all(got[fmt]))
        assert documents == _substituted(list(yaml.safe_load_all(want[fmt])), given), fmt
    return True


def _assigns(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in node.targets
    )


recipe_inputs = st.builds(
    RecipeInputs,
    name=hostile_text,
    note=hostile_text.filter(bool),
    source=hostile_text.filter(bool),
    targets=hostile_text.filter(lambda s: s and len(s) <= 200),
    dropout=st.floats(min_value=0, max_value=1e15, allow_nan=False),
    hub=st.builds("{}/{}".format, hub_part, hub_part),
    model_id=st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,20}", fullmatch=True),
)


@functools.cache
def _recipe_base() -> dict[str, Any]:
    return bundled_sections()


@pytest.mark.slow  # fuzzing: .ci/run runs it
@settings(max_examples=40, deadline=None)
@given(recipe_inputs)
def test_kb_text_reaches_recipes_only_as_data(inputs: RecipeInputs) -> None:
    _check_recipes(_recipe_base(), inputs)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(recipe_inputs)
def test_kb_text_reaches_recipes_only_as_data_many(inputs: RecipeInputs) -> None:
    _check_recipes(_recipe_base(), inputs)


@pytest.mark.parametrize(
    "name",
    [
        'LoRA"""\nimport os; os.system("echo pwned")\n"""',
        "LoRA (see C:\\Users\\docs)",
        "LoRA\x00",
        "LoRA\u2028trust_remote_code: true",
    ],
)
def test_the_reported_method_names_are_inert(name: str) -> None:
    given = replace(PLACEHOLDERS, name=name, note=f"note {name}", source=f"source {name}")
    assert _check_recipes(_recipe_base(), given)


def test_targets_llama_factory_would_read_as_an_interpolation_refuse_only_its_recipe() -> None:
    """The fuzzer's case (CI, round 53): targets '${' refuse the LLaMA-Factory recipe, by design;
    the Python and axolotl recipes still carry them as data."""
    assert _check_recipes(_recipe_base(), replace(PLACEHOLDERS, targets="${", note="${x}"))


def test_a_line_separator_in_a_note_adds_no_yaml_key() -> None:
    given = replace(PLACEHOLDERS, note="see\u2028trust_remote_code: true\x85also: 1")
    catalog = _recipe_kb(_recipe_base(), given)
    assert catalog is not None
    for fmt, text in _recipes(catalog, given.model_id).items():
        if fmt != "python":
            keys = {key for document in yaml.safe_load_all(text) for key in document}
            assert "trust_remote_code" not in keys and "also" not in keys
        assert "\u2028" not in text and "\x85" not in text


def test_characters_no_yaml_reader_takes_are_escaped_in_recipe_comments() -> None:
    """U+FFFE and U+FFFF in KB text reached the YAML recipes' header comments raw, and PyYAML
    (which axolotl, LLaMA-Factory and mlx-lm read configs with) refused the whole file (an
    attacker's review); a KB that `validate` accepts must give recipes that load."""
    given = replace(PLACEHOLDERS, note="see \ufffe here \uffff", source="source \ufffe")
    catalog = _recipe_kb(_recipe_base(), given)
    assert catalog is not None
    for fmt, text in _recipes(catalog, given.model_id).items():
        assert "\ufffe" not in text and "\uffff" not in text, fmt
        if fmt != "python":
            assert all(isinstance(d, dict) for d in yaml.safe_load_all(text) if d is not None), fmt


# --- 5. a KB that validates never makes a command fail with an internal error -------------------------

NUMBERS: list[Any] = [0, 1, -1, 2, 3, 0.5, 1e-9, 1e-300, 7, 64, 100, 4096, 1e15, -1e15, 10**15, 2.5e-4]
ODD_TEXT = [
    "",
    " ",
    "[/x]",
    "[bold]x",
    "%s %d",
    "{0} {x}",
    "$x ${y}",
    "\\",
    "é ✓ 漢字",
    "\x1b[2J",
    "a\u2028b",
    "x" * 300,
]
HYPER_VALUES: list[Any] = [*NUMBERS, "r", "2r", "TEXT", "RANDOM", "all-linear", "q_proj,v_proj", True, False]
HYPER_VALUES += [["q_proj", "v_proj"], ["x"], "nf4", "adamw_torch", "galore_adamw", "text"]


FAST_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _random_comparison(rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    fact = rng.choice(FACTS)
    name = f"{fact.name}.{rng.choice(data['methods'])['id']}" if fact.per_method else fact.name
    if fact.type == "number":
        op, value = rng.choice(["lt", "le", "gt", "ge", "eq", "ne"]), rng.choice([*NUMBERS, None])
    elif fact.type == "bool":
        op, value = rng.choice(["eq", "ne"]), rng.choice([True, False, None])
    else:
        refs = {"gpus": data["gpus"], "models": data["models"], "methods": data["methods"]}
        pool = list(fact.values or ()) or [
            i["id"] for i in refs.get(fact.refers_to or "", data["categories"])
        ]
        op, value = rng.choice(["eq", "ne"]), rng.choice([*pool, None])
    if rng.random() < 0.3 and value is not None:
        op, value = rng.choice(["in", "not_in"]), [value]
    return {"fact": name, "op": op, "value": value}


def _random_condition(rng: random.Random, data: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    kind = rng.choice(["cmp", "cmp", "all", "any", "not"]) if depth < 3 else "cmp"
    if kind == "cmp":
        return _random_comparison(rng, data)
    if kind == "not":
        return {"not": _random_condition(rng, data, depth + 1)}
    return {kind: [_random_condition(rng, data, depth + 1) for _ in range(rng.randint(1, 3))]}


def _mutate(rng: random.Random, data: dict[str, Any]) -> str:
    """One change that usually keeps the KB valid, so that its meaning (not its syntax) is tested."""
    methods, objectives = data["methods"], [m["id"] for m in data["methods"] if m["kind"] == "objective"]
    choice = rng.choice([0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8])
    if choice == 0:
        path, _ = rng.choice([leaf for leaf in _leaves(data) if isinstance(leaf[1], int | float)])
        value = rng.choice([v for v in NUMBERS if not isinstance(v, bool)])
        _set(data, path, value)
        return f"number {path} = {value!r}"
    if choice == 1:
        method = rng.choice(methods)
        hyper = method.setdefault("hyperparameters", {})
        used = [k for k in hyper if k in RECIPE_HYPERPARAMETERS]
        key = rng.choice(used if used and rng.random() < 0.7 else [*RECIPE_HYPERPARAMETERS, "x"])
        entry = {"value": rng.choice(HYPER_VALUES), "source": "fuzz"}
        if rng.random() < 0.3:
            entry["with_peft"] = rng.choice(HYPER_VALUES)
        if rng.random() < 0.2:
            entry = {"note": "only a note"}
        hyper[key] = entry
        return f"hyperparameter {method['id']}.{key} = {entry}"
    if choice == 2:
        rule = rng.choice([*data["rules"], *data["pipelines"]])
        rule["when"] = _random_condition(rng, data)
        return f"condition of {rule['id']}: {rule['when']}"
    if choice == 3:
        pipeline = rng.choice(data["pipelines"])
        pipeline["pipeline"] = rng.sample(objectives, rng.randint(1, 3))
        return f"pipeline {pipeline['id']} = {pipeline['pipeline']}"
    if choice == 4:
        method = rng.choice([m for m in methods if m["kind"] != "objective"])
        method["memory_model"] = rng.choice(list(MEMORY_MODELS))
        if rng.random() < 0.5:
            method["variants"] = [{"label": "v", "optimizer": rng.choice(["adamw", "adamw-8bit", "sgd"])}]
        return f"memory model of {method['id']} = {method['memory_model']}"
    if choice == 5:
        model = rng.choice(data["models"])
        field = rng.choice(
            ["layers", "hidden_size", "attention_heads", "kv_heads", "intermediate_size", "vocab_size"]
        )
        model[field] = rng.choice([1, 2, 7, 64, 1000])
        if rng.random() < 0.5:
            model["architecture"] = rng.choice(["decoder", "encoder", "encoder-decoder"])
        return f"model {model['id']}.{field}"
    if choice == 6:
        gpu = rng.choice(data["gpus"])
        gpu["memory_gib"] = rng.choice([0.001, 1, 24, 80, 100_000])
        gpu["bf16"], gpu["cuda"] = rng.random() < 0.5, rng.random() < 0.5
        return f"gpu {gpu['id']}"
    if choice == 7:
        rule = rng.choice(data["rules"])
        rule["effect"] = {
            "action": rng.choice(["prefer", "avoid", "exclude"]),
            "weight": rng.choice([0, 0.5, 100]),
        }
        return f"effect of {rule['id']}"
    path, _ = rng.choice([leaf for leaf in _leaves(data) if isinstance(leaf[1], str) and "id" not in leaf[0]])
    text = rng.choice(ODD_TEXT)
    _set(data, path, text)
    return f"text {path} = {text!r}"


def _commands(data: dict[str, Any], rng: random.Random) -> list[tuple[list[str], str | None]]:
    gpu, model = rng.choice(data["gpus"])["id"], rng.choice(data["models"])["id"]
    method = rng.choice(data["methods"])["id"]
    trained = rng.choice([m["id"] for m in data["methods"] if m["kind"] != "objective"])
    hardware_model = ["--gpu", gpu, "--model", model]
    batch = "".join(
        json.dumps(p) + "\n"
        for p in (
            {"gpu": gpu, "model": model},
            {"vram": 24, "model_size": "7b", "goal": "chat"},
            {"gpu": "none"},
        )
    )
    commands: list[tuple[list[str], str | None]] = [
        (["methods"], None),
        (["show", method], None),
        (["show", method, "--format", "markdown"], None),
        (["compare"], None),
        (["compare", method, trained], None),
        (["categories"], None),
        (["tools"], None),
        (["guide"], None),
        (["gpus"], None),
        (["models", "--json"], None),
        (["recommend", *hardware_model, "--explain", "--top", "100"], None),
        (["recommend", *hardware_model, "--json", "--explain", "--data-kind", "preferences"], None),
        (["recommend", "--vram", "24", "--model-size", "7b", "--format", "markdown"], None),
        (["recommend", "--gpu", "none", "--model-size", "1b", "--examples", "20"], None),
        (["recommend", "--batch", "-", "--top", "3"], batch),
        (["estimate", *hardware_model], None),
        (["estimate", *hardware_model, "--method", trained, "--json"], None),
        (["ask", "--no-input", *hardware_model], None),
    ]
    for plan in ("1", "2", "3"):
        for trainer in ("python", "llamafactory", "axolotl"):
            commands.append((["recipe", *hardware_model, "--plan", plan, "--trainer", trainer], None))
    commands.append((["recipe", "--gpu", "none", "--model", model, "--data-kind", "preferences"], None))
    return commands


def _mutated_kb(rng: random.Random, tmp_path: Path) -> tuple[Path, dict[str, Any], list[str]]:
    data = fuzz_base()
    done = [_mutate(rng, data) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.5:  # training plans without a GPU, so without a memory estimate
        for rule in data["rules"]:
            if rule["effect"]["action"] == "exclude":
                rule["effect"]["action"] = "avoid"
        done.append("no exclusions")
    path = tmp_path / f"kb-{rng.getrandbits(64):016x}.yaml"
    text = yaml.dump(data, Dumper=FAST_DUMPER, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path, data, done


def _check_valid_kb_commands(rng: random.Random, tmp_path: Path, run: Runner) -> None:
    path, data, done = _mutated_kb(rng, tmp_path)
    verdict = run("validate", str(path))
    assert verdict.exit_code in (0, 3), (done, verdict.stderr[-2000:])
    if verdict.exit_code:
        return
    for args, stdin in _commands(data, rng):
        result = run("--kb", str(path), *args, input=stdin)
        assert result.exit_code in (0, 2), (done, args, result.stderr[-2000:])
        assert "internal error" not in result.stderr, (done, args, result.stderr[-2000:])
    # `recipe` for every plan of a few profiles, through the function the command calls.
    catalog = Catalog(load_knowledge_base(path))
    engine, model = Engine(catalog), rng.choice(data["models"])["id"]
    for hardware in ({"gpu": "none"}, {"gpu": rng.choice(data["gpus"])["id"]}, {"vram": "24"}):
        for data_kind in ("demonstrations", "preferences", "labeled"):
            rec = engine.recommend(build_profile({**hardware, "model": model, "data_kind": data_kind}))
            for rank in range(1, len(rec.plans) + 1):
                for trainer in ("python", "llamafactory", "axolotl"):
                    try:
                        text = render_recipe(catalog, rec, rank, trainer)
                    except UsageError:
                        continue  # a plan this trainer cannot express: exit 2, with the reason
                    if trainer == "python":
                        compile(text, "recipe.py", "exec", dont_inherit=True)
                    else:
                        assert all(isinstance(d, dict) for d in yaml.safe_load_all(text))


@pytest.mark.slow  # fuzzing: .ci/run runs it
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_a_kb_that_validates_never_causes_an_internal_error(
    rng: random.Random, tmp_path: Path, run: Runner
) -> None:
    _check_valid_kb_commands(rng, tmp_path, run)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_a_kb_that_validates_never_causes_an_internal_error_many(
    rng: random.Random, tmp_path: Path, run: Runner
) -> None:
    _check_valid_kb_commands(rng, tmp_path, run)


@pytest.mark.slow  # fuzzing: .ci/run runs it
def test_most_mutations_keep_the_kb_valid(tmp_path: Path, run: Runner) -> None:
    """The property above tests meaning only if most mutated KBs still validate."""
    paths = [_mutated_kb(random.Random(seed), tmp_path)[0] for seed in range(20)]
    assert sum(run("validate", str(path)).exit_code == 0 for path in paths) >= 10


def _kb_text(tmp_path: Path, edit: Any, raw: dict[str, str] | None = None) -> Path:
    """The bundled KB as one file after `edit(data)`; each placeholder string in `raw` is then
    replaced by raw YAML text (numbers no dumper writes, anchors and aliases)."""
    data = bundled_sections()
    edit(data)
    text = dump(data)
    for placeholder, yaml_text in (raw or {}).items():
        assert placeholder in text
        text = text.replace(f"'{placeholder}'", yaml_text).replace(placeholder, yaml_text)
    path = tmp_path / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _method(data: dict[str, Any], method_id: str) -> dict[str, Any]:
    return next(m for m in data["methods"] if m["id"] == method_id)


def _when(value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["rules"][0]["when"] = value

    return edit


def _hyper(method_id: str, key: str, value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        _method(data, method_id)["hyperparameters"][key] = {"value": value, "source": "test"}

    return edit


LOCATED_AT = re.compile(r"^.+:\d+:\d+: (?P<where>\S+): (?P<message>.+)$")
CRASHING_KBS: dict[str, tuple[Any, dict[str, str], str, str]] = {
    # name: (edit, raw YAML for placeholders, where the problem is reported, words of the message)
    "number vs string": (
        _when({"fact": "examples", "op": "ge", "value": "10000"}),
        {},
        "rules[0].when",
        "number",
    ),
    "null": (_when({"fact": "examples", "op": "ge", "value": None}), {}, "rules[0].when", "compares numbers"),
    "list": (_when({"fact": "examples", "op": "ge", "value": [1]}), {}, "rules[0].when", "not a list"),
    "empty pipeline": (
        lambda data: data["pipelines"][0].update(pipeline=[]),
        {},
        "pipelines[0].pipeline",
        "at least 1",
    ),
    "rank as text": (
        _hyper("lora", "r", "sixteen"),
        {},
        "methods[7].hyperparameters.r.value",
        "whole number",
    ),
    "fraction as text": (
        _hyper("partial-ft", "trainable_layers", "top"),
        {},
        "methods[1].hyperparameters.trainable_layers.value",
        "from 0 to 1",
    ),
    "parameterization without training memory": (
        lambda data: _method(data, "lora").update(memory_model="inference"),
        {},
        "methods[7]",
        "no-training",
    ),
    "5,000-digit integer": (
        _hyper("lora", "r", "__BIG__"),
        {"__BIG__": "9" * 5000},
        "methods[7]",
        "bad value",
    ),
    "4,000-digit integer": (
        _hyper("lora", "r", "__BIG__"),
        {"__BIG__": "9" * 4000},
        "methods[7]",
        "out of range",
    ),
    "4,000-digit value in a condition": (
        _when({"fact": "examples", "op": "ge", "value": "__BIG__"}),
        {"__BIG__": "9" * 4000},
        "rules[0].when",
        "out of range",
    ),
    "1e99999": (
        _hyper("lora", "learning_rate", "__HUGE__"),
        {"__HUGE__": "1.0e+99999"},
        "methods[7].hyperparameters.learning_rate",
        "finite",
    ),
}


@pytest.mark.parametrize("case", CRASHING_KBS, ids=str)
def test_kbs_that_used_to_pass_validate_and_crash_are_refused_with_a_location(
    run: Runner, tmp_path: Path, case: str
) -> None:
    edit, raw, where, words = CRASHING_KBS[case]
    path = _kb_text(tmp_path, edit, raw)
    result = run("validate", str(path))
    assert result.exit_code == 3, result.stderr[-500:]
    problems = [LOCATED_AT.match(line) for line in result.stderr.splitlines()[:-1]]
    assert problems and all(problems), result.stderr[-500:]
    assert any(p["where"].startswith(where) and words in p["message"] for p in problems if p), result.stderr


def test_a_prompt_tuning_method_without_num_virtual_tokens_still_gets_a_recipe(
    run: Runner, tmp_path: Path
) -> None:
    path = _kb_text(
        tmp_path, lambda data: _method(data, "prompt-tuning")["hyperparameters"].pop("num_virtual_tokens")
    )
    assert run("validate", str(path)).exit_code == 0
    catalog = Catalog(load_knowledge_base(path))
    rec = Engine(catalog).recommend(build_profile({"gpu": "a100-80gb", "model": "llama-3.1-8b"}))
    text = render_recipe(catalog, rec, rank_of(rec, "prompt-tuning", ("sft",)), "python")
    compile(text, "recipe.py", "exec", dont_inherit=True)


def test_lora_targets_given_as_a_list_reach_every_trainer_as_a_list(tmp_path: Path) -> None:
    path = _kb_text(tmp_path, _hyper("lora", "target_modules", ["q_proj", "v_proj"]))
    catalog = Catalog(load_knowledge_base(path))
    rec = Engine(catalog).recommend(build_profile({"gpu": "rtx-3090", "model": "llama-3.1-8b"}))
    rank = rank_of(rec, "lora", ("sft",))
    assert "'target_modules': ['q_proj', 'v_proj']" in render_recipe(catalog, rec, rank, "python")
    (factory,) = [d for d in yaml.safe_load_all(render_recipe(catalog, rec, rank, "llamafactory")) if d]
    assert factory["lora_target"] == "q_proj,v_proj"
    (axolotl,) = [d for d in yaml.safe_load_all(render_recipe(catalog, rec, rank, "axolotl")) if d]
    assert axolotl["lora_target_modules"] == ["q_proj", "v_proj"]


# --- 10. the size of conditions is capped ----------------------------------------------------------


def _aliased_condition(levels: int, fan_out: int = 10) -> str:
    """A flow-style condition that is a few lines of YAML and fan_out**levels comparisons."""
    text = "&c0 {fact: examples, op: ge, value: 1}"
    for level in range(1, levels + 1):
        text = f"&c{level} {{all: [{text}" + f", *c{level - 1}" * (fan_out - 1) + "]}"
    return text.split(" ", 1)[1]  # the outermost anchor is never used


def test_a_rule_that_aliases_out_to_100k_comparisons_is_refused(run: Runner, tmp_path: Path) -> None:
    path = _kb_text(tmp_path, _when("__WHEN__"), {"__WHEN__": _aliased_condition(5)})
    assert len(path.read_text(encoding="utf-8")) < len(dump(bundled_sections())) + 1000
    result = run("validate", str(path))
    assert result.exit_code == 3
    assert re.search(r":\d+:\d+: rules\[0\]\.when: more than 100 comparisons", result.stderr), result.stderr
    assert run("--kb", str(path), "recommend", *PROFILE, "--json").exit_code == 3


def test_the_comparisons_of_all_rules_together_are_capped(run: Runner, tmp_path: Path) -> None:
    def many_rules(data: dict[str, Any]) -> None:
        template = data["rules"][0]
        data["rules"] += [{**template, "id": f"bulk-{i}", "when": "__WHEN__"} for i in range(260)]

    hundred = "{all: [" + ", ".join(["{fact: examples, op: ge, value: 1}"] * 100) + "]}"
    path = _kb_text(tmp_path, many_rules, {"__WHEN__": hundred})
    result = run("validate", str(path))
    assert result.exit_code == 3
    assert re.search(r":\d+:\d+: rules: the conditions hold more than 25,000 comparisons", result.stderr)
    assert "rules[41].when" not in result.stderr  # each rule alone is within its cap


# --- 1, 4 and 8. the KB cache ----------------------------------------------------------------------

MARKER_PAYLOAD = """
import os, pickle, sys
class Boom:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[1],))
sys.stdout.buffer.write(pickle.dumps(Boom()))
"""


@pytest.fixture
def small_kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb" / "kb.yaml"
    path.parent.mkdir()
    path.write_text(
        yaml.dump(fuzz_base(), Dumper=FAST_DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return path


@pytest.fixture
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(kbcache.CACHE_ENV, str(directory))
    monkeypatch.delenv(kbcache.NO_CACHE_ENV, raising=False)
    return directory


def _entry_path(directory: Path, kb: Path) -> Path:
    return directory / kbcache.entry_name(kbcache.cache_key(read_kb(kb)))


def _forged_entry(kb: Path) -> bytes:
    """A well-formed entry for `kb`'s key whose first GPU claims 99 GiB."""
    real = load_knowledge_base(kb)
    gpus = [real.gpus[0].model_copy(update={"memory_gib": 99.0, "name": "FORGED"}), *real.gpus[1:]]
    return kbcache.encode_entry(kbcache.cache_key(read_kb(kb)), real.model_copy(update={"gpus": gpus}))


def _plant(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    path.chmod(0o600)


def test_a_planted_pickle_is_never_run(small_kb: Path, cache_env: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    made = subprocess.run(
        [sys.executable, "-c", MARKER_PAYLOAD, str(marker)], capture_output=True, check=True
    )
    cache_env.mkdir(mode=0o700)
    _plant(_entry_path(cache_env, small_kb), made.stdout)
    catalog = kbcache.load_cached_catalog(small_kb)
    assert not marker.exists()
    assert catalog.kb == load_knowledge_base(small_kb)
    # The damaged entry was replaced by a data-only one.
    header = _entry_path(cache_env, small_kb).read_bytes().partition(b"\n")[0]
    assert json.loads(header)["format"] == kbcache.ENTRY_FORMAT


def test_a_well_formed_entry_in_our_own_directory_is_used_without_validation(
    small_kb: Path, cache_env: Path
) -> None:
    # The control for the tests below: this forged entry would be believed where it is trusted.
    cache_env.mkdir(mode=0o700)
    _plant(_entry_path(cache_env, small_kb), _forged_entry(small_kb))
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name == "FORGED"


def test_a_cache_below_a_directory_others_can_write_is_foreign(
    small_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # another user could rename our cache directory and put theirs there
    directory = shared / "cache"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv(kbcache.CACHE_ENV, str(directory))
    _plant(_entry_path(directory, small_kb), _forged_entry(small_kb))
    for _ in range(2):
        assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name != "FORGED"
    assert sorted(p.name for p in directory.iterdir()) == [
        _entry_path(directory, small_kb).name
    ]  # none written
    # With the sticky bit (as /tmp has), others cannot rename what is ours: the cache is used.
    shared.chmod(0o1777)
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name == "FORGED"


@pytest.mark.parametrize("mode", [0o777, 0o703])
def test_a_cache_directory_others_can_write_is_foreign(small_kb: Path, cache_env: Path, mode: int) -> None:
    cache_env.mkdir()
    _plant(_entry_path(cache_env, small_kb), _forged_entry(small_kb))
    cache_env.chmod(mode)
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name != "FORGED"


def test_an_entry_others_can_write_or_that_is_a_link_is_not_read(
    small_kb: Path, cache_env: Path, tmp_path: Path
) -> None:
    cache_env.mkdir(mode=0o700)
    entry = _entry_path(cache_env, small_kb)
    _plant(entry, _forged_entry(small_kb))
    entry.chmod(0o622)
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name != "FORGED"
    elsewhere = tmp_path / "forged.json"
    _plant(elsewhere, _forged_entry(small_kb))
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name != "FORGED"


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file away needs root")
def test_an_entry_owned_by_another_user_is_not_read(small_kb: Path, cache_env: Path) -> None:
    cache_env.mkdir(mode=0o700)
    entry = _entry_path(cache_env, small_kb)
    _plant(entry, _forged_entry(small_kb))
    os.chown(entry, 12345, 12345)
    assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].name != "FORGED"


SWAPPER = """
import os, sys, time
link, first, second, stop = sys.argv[1:]
while not os.path.exists(stop):
    for target in (first, second):
        os.symlink(target, link + ".new")
        os.replace(link + ".new", link)
"""


def test_a_symlink_swapped_by_a_second_process_never_serves_its_entry(
    small_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported attack, with a directory we control standing in for the other user's: the
    cache directory is a link in a world-writable directory that another process keeps pointing
    at our real cache and at a directory holding a forged entry."""
    shared, ours, theirs = tmp_path / "shared", tmp_path / "ours", tmp_path / "theirs"
    for directory in (shared, ours, theirs):
        directory.mkdir(mode=0o700)
    shared.chmod(0o777)
    _plant(_entry_path(theirs, small_kb), _forged_entry(small_kb))
    link, stop = shared / "cache", tmp_path / "stop"
    monkeypatch.setenv(kbcache.CACHE_ENV, str(link))
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(link), str(ours), str(theirs), str(stop)])
    try:
        names = {kbcache.load_cached_catalog(small_kb).kb.gpus[0].name for _ in range(8)}
    finally:
        stop.touch()
        swapper.wait(timeout=30)
    assert "FORGED" not in names
    assert list(ours.iterdir()) == []  # nothing written through the link either


AUDIT_OPENS = """
import sys
from pathlib import Path
kb = sys.argv[1]
opened = []
def hook(event, args):
    if event == "open" and str(args[0]) == kb:
        opened.append(kb)
sys.addaudithook(hook)
from atlas_cli.kb.cache import load_cached_catalog
for _ in range(2):  # a miss, then a hit
    load_cached_catalog(Path(kb))
    print(len(opened))
    opened.clear()
"""


def test_each_kb_file_is_read_once_per_load(small_kb: Path, cache_env: Path) -> None:
    """Hash the bytes that are parsed: one read of each file serves the key and, on a miss, the
    loader. A second read would let an edit in between store one KB under another's key."""
    result = subprocess.run(
        [sys.executable, "-c", AUDIT_OPENS, str(small_kb)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["1", "1"]


EDITOR = """
import os, sys, time
path, versions, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
template = open(path, encoding="utf-8").read()
for i in range(versions):
    text = template.replace("VERSION-MARK", f"version-{i}")
    with open(path + ".new", "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(path + ".new", path)
    time.sleep(0.02)
open(stop, "w").close()
"""


def test_an_edit_racing_the_cache_never_stores_a_kb_under_another_kbs_key(
    small_kb: Path, cache_env: Path, tmp_path: Path
) -> None:
    data = fuzz_base()
    data["gpus"][0]["aliases"] = ["VERSION-MARK"]
    template = yaml.dump(data, Dumper=FAST_DUMPER, allow_unicode=True, sort_keys=False)
    small_kb.write_text(template, encoding="utf-8")
    stop = tmp_path / "stop"
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(small_kb), "12", str(stop)])
    try:
        while not stop.exists():
            kbcache.load_cached_catalog(small_kb)
    finally:
        editor.wait(timeout=60)
    for i in range(12):  # every version now, from the cache where it is there
        small_kb.write_text(template.replace("VERSION-MARK", f"version-{i}"), encoding="utf-8")
        assert kbcache.load_cached_catalog(small_kb).kb.gpus[0].aliases == [f"version-{i}"]


def test_the_key_covers_the_version_and_the_source(small_kb: Path, tmp_path: Path) -> None:
    files = read_kb(small_kb)
    key = kbcache.cache_key(files, version="1.0", identity="a")
    assert key != kbcache.cache_key(files, version="1.1", identity="a")
    assert key != kbcache.cache_key(files, version="1.0", identity="b")
    package = tmp_path / "atlas_cli"
    shutil.copytree(
        Path(kbcache.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = kbcache.package_identity(package)
    schema = package / "kb" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert kbcache.package_identity(package) != before


def test_a_failed_cache_write_leaves_no_temporary_file(small_kb: Path, tmp_path: Path) -> None:
    import resource

    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    entry_size = len(_forged_entry(small_kb))

    def small_files() -> None:  # as a full disk: the entry cannot be written whole
        resource.setrlimit(resource.RLIMIT_FSIZE, (entry_size // 2, entry_size // 2))

    probe = "import sys; from pathlib import Path; from atlas_cli.kb.cache import load_cached_catalog; "
    probe += "print(len(load_cached_catalog(Path(sys.argv[1])).kb.methods))"
    result = subprocess.run(
        [sys.executable, "-c", probe, str(small_kb)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, kbcache.CACHE_ENV: str(directory)},
        preexec_fn=small_files,
    )
    assert result.returncode == 0, result.stderr
    assert list(directory.iterdir()) == []


def _entry(header: dict[str, Any], kb: dict[str, Any], checksum: bool = True) -> bytes:
    """An entry with this header and KB body; its checksum the body's unless told otherwise."""
    body = json.dumps(kb).encode()
    return json.dumps(
        {**header, **({"sha256": hashlib.sha256(body).hexdigest()} if checksum else {})}
    ).encode() + (b"\n" + body)


def test_an_entry_of_the_wrong_shape_is_a_miss(small_kb: Path, cache_env: Path) -> None:
    cache_env.mkdir(mode=0o700)
    key = kbcache.cache_key(read_kb(small_kb))
    head, _, body = kbcache.encode_entry(key, load_knowledge_base(small_kb)).partition(b"\n")
    header, kb = json.loads(head), json.loads(body)
    wrong_shapes = [
        _entry(header, {**kb, "methods": "not a list"}),
        _entry(header, {**kb, "gpus": [{"id": "x"}]}),  # a model missing its fields
        _entry(header, {**kb, "extra": 1}),
        _entry({**header, "key": "0" * 64}, kb),  # another KB's entry under this name
        _entry({**header, "format": 2}, kb),
        json.dumps({**header, "kb": kb}).encode(),  # format 2's one document
        # NaN, which JSON cannot hold and the models refuse (a review: it was shown as "nan")
        _entry(header, {**kb, "gpus": [{**kb["gpus"][0], "memory_gib": math.nan}, *kb["gpus"][1:]]}),
    ]
    for entry in wrong_shapes:
        _plant(_entry_path(cache_env, small_kb), entry)
        assert kbcache.load_cached_catalog(small_kb).kb == load_knowledge_base(small_kb)


def test_an_edited_entry_is_a_miss_not_an_internal_error(cache_env: Path) -> None:
    """An entry is rebuilt without validation: a rule operator edited to one the engine does not
    know ("ge" to "gx" with sed) failed every later command with exit 1 until the cache was
    deleted (an attacker's review). The body's checksum makes it a miss."""
    kbcache.load_cached_catalog(bundled_kb_path())  # validated, then written
    (entry,) = cache_env.glob("kb-*.json")
    edited = entry.read_bytes().replace(b'"op":"ge"', b'"op":"gx"', 1)
    assert edited != entry.read_bytes()
    entry.write_bytes(edited)
    Engine(kbcache.load_cached_catalog(bundled_kb_path()))  # compiles every rule's condition


def test_the_cache_keeps_its_newest_entries_only(cache_env: Path, tmp_path: Path) -> None:
    """Every edited KB and every --kb copy writes an entry that is never read again: 102 entries
    (49 MB) built up in a day (an attacker's review). A write keeps the newest KEPT_ENTRIES."""
    cache_env.mkdir(mode=0o700)
    for i in range(kbcache.KEPT_ENTRIES + 3):
        _plant(cache_env / f"kb-{i:032d}.json", b"{}")
        os.utime(cache_env / f"kb-{i:032d}.json", (1_000_000 + i, 1_000_000 + i))
    kbcache.load_cached_catalog(bundled_kb_path())  # a miss: written, then the oldest dropped
    kept = sorted(p.name for p in cache_env.glob("kb-*.json"))
    assert len(kept) == kbcache.KEPT_ENTRIES and "kb-" + "0" * 32 + ".json" not in kept


def test_pruning_the_cache_spares_files_that_are_not_its_entries(cache_env: Path) -> None:
    """An attacker's review: with FT_ATLAS_CACHE_DIR on a directory of the user's own, pruning
    deleted their old kb-export-*.json files; only entry names (kb-<32 hex>.json) are pruned."""
    cache_env.mkdir(mode=0o700)
    theirs = [cache_env / f"kb-export-{i}.json" for i in range(kbcache.KEPT_ENTRIES + 3)]
    for i, path in enumerate(theirs):
        _plant(path, b'{"my": "data"}')
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    kbcache.load_cached_catalog(bundled_kb_path())
    assert all(path.exists() for path in theirs)


def test_a_cache_hit_is_the_validated_kb(cache_env: Path) -> None:
    first = kbcache.load_cached_catalog(bundled_kb_path())  # validated, then written
    second = kbcache.load_cached_catalog(bundled_kb_path())  # rebuilt from the entry
    assert second.kb == first.kb
    assert json.dumps(second.kb.model_dump(mode="json")) == json.dumps(first.kb.model_dump(mode="json"))


# --- an attacker's review, fourteenth round ---------------------------------------------------


def test_a_very_long_gpu_name_is_refused_before_any_pattern_reads_it(run: Runner, tmp_path: Path) -> None:
    """16,000 digits as --gpu took 18 s in three backtracking patterns (27 s a batch line)."""
    digits = "4" * 16_000
    refused = run("estimate", "--gpu", digits, "--model-size", "7b")
    assert refused.exit_code == EXIT_USAGE and "longer than 200 characters" in refused.stderr
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"gpu": digits, "model_size": "7b"}) + "\n", encoding="utf-8")
    record = json.loads(run("recommend", "--batch", str(lines)).stdout)
    assert "longer than 200 characters" in json.dumps(record)


def test_a_name_or_an_answer_past_a_paths_length_is_refused_short(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: an API model named with 100,000 characters was answered in 307 KB of
    output, and a 2 MB piped answer to `ask` was echoed whole to stderr. A name, path or answer
    is at most 4,096 characters (PATH_MAX), and the refusal does not repeat it."""
    name = "A" * 5000
    refused = run("recommend", "--model-access", "api", "--model", name, "--top", "1")
    assert refused.exit_code == EXIT_USAGE and len(refused.stderr) < 200, refused.stderr
    assert "--model: longer than 4096 characters" in refused.stderr
    assert run("recommend", "--model-access", "api", "--model", "A" * 4096, "--top", "1").exit_code == 0
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"model_access": "api", "model": name}) + "\n", encoding="utf-8")
    record = json.loads(run("recommend", "--batch", str(lines)).stdout)
    assert record["error"]["code"] == "bad_input" and len(json.dumps(record)) < 200
    asked = run("ask", input="x" * 2_000_000 + "\n")
    assert asked.exit_code == EXIT_USAGE and len(asked.stderr) < 5000
    assert "an answer longer than 4096 characters: no question takes one" in asked.stderr


class EndlessLine(io.TextIOBase):
    """stdin that never ends its line (`ask < /dev/zero`): only a bounded read returns."""

    def readline(self, size: int | None = -1) -> str:
        assert size is not None and 0 < size <= 4098, "an unbounded read of an endless line"
        return "x" * size


def test_ask_reads_an_endless_answer_only_to_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An attacker's review: `ft-atlas ask < /dev/zero` grew to 5 GB in 20 s, reading the line whole
    before its 4,096-character check."""
    monkeypatch.setattr(sys, "stdin", EndlessLine())
    with pytest.raises(UsageError, match="an answer longer than 4096 characters"):
        StderrTerminal().ask("? ")


def test_a_fifo_beside_a_models_config_is_not_waited_for(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    config = {"model_type": "llama", "hidden_size": 512, "num_hidden_layers": 2, "num_attention_heads": 8}
    config |= {"intermediate_size": 1024, "vocab_size": 1000, "architectures": ["LlamaForCausalLM"]}
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    os.mkfifo(model / "tokenizer_config.json")  # nobody will ever write to it
    result = subprocess.run([*COMMAND, "model", str(model)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_file_made_while_out_is_written_is_never_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process made the file between the check and the link: the refusal's roll-back
    deleted that process's file."""
    target = tmp_path / "train.py"
    link = os.link

    def racing(source: str | Path, destination: str | Path, **kwargs: Any) -> None:
        Path(destination).write_text("precious", encoding="utf-8")
        link(source, destination, **kwargs)

    monkeypatch.setattr(os, "link", racing)
    with pytest.raises(UsageError):
        files.write_new_files({target: "mine"})
    assert target.read_text(encoding="utf-8") == "precious"


def test_an_interrupted_write_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(_: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_new_files({tmp_path / "train.py": "text"})
    assert list(tmp_path.iterdir()) == []


def test_an_out_path_that_is_not_utf8_is_written(tmp_path: Path) -> None:
    out = os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff.py")
    args = [*COMMAND, "recipe", "--gpu", "rtx-4090", "--model-size", "7b", "--out", out]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    ast.parse(Path(out).read_bytes())  # still UTF-8: the path is escaped in the header


def test_export_and_guide_keep_kb_text_from_the_terminal(run: Runner, tmp_path: Path) -> None:
    kb = hostile_kb(tmp_path, "\x1b[2J\x1b]8;;https://evil.example\x1b\\click\u009b\u202e")
    for fmt in ("markdown", "html"):
        shown = run("--kb", str(kb), "export", "--format", fmt)
        assert shown.exit_code == 0, shown.stderr
        assert not re.search("[\x1b\u009b\u202e]", shown.stdout)
    data = bundled_sections()
    data["guide"]["version"] = "1.4 [/bold] [link=https://evil.example]x[/link]"
    markup = tmp_path / "markup.yaml"
    markup.write_text(dump(data), encoding="utf-8")
    guide = run("--kb", str(markup), "guide")
    assert guide.exit_code == 0 and "[/bold]" in guide.stdout


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_size": 1e400},
        {"num_hidden_layers": 10**400},
        {"vision_config": {"num_hidden_layers": 2, "hidden_size": 8, "intermediate_size": "abc"}},
        {"vision_config": {"num_hidden_layers": 2, "hidden_size": 8, "intermediate_size": [1]}},
        {"vision_config": {"num_hidden_layers": 1, "hidden_size": 300_000_000, "mlp_ratio": "4"}},
        {"vision_config": {"num_hidden_layers": 1, "hidden_size": 10**400}},
        # an attacker's review: an unhashable activation was an internal error, in batch runs too
        {"vision_config": {"num_hidden_layers": 2, "hidden_size": 8, "hidden_act": ["silu"]}},
        {"vision_config": {"num_hidden_layers": 2, "hidden_size": 8, "hidden_act": {"a": 1}}},
    ],
)
def test_a_hostile_config_is_bad_input_not_an_internal_error(
    run: Runner, tmp_path: Path, change: dict[str, Any]
) -> None:
    config = {"model_type": "llama", "hidden_size": 512, "num_hidden_layers": 2, "num_attention_heads": 8}
    config |= {"intermediate_size": 1024, "vocab_size": 1000, "architectures": ["LlamaForCausalLM"]}
    (tmp_path / "config.json").write_text(json.dumps(config | change), encoding="utf-8")
    result = run("model", str(tmp_path))
    assert result.exit_code in (0, EXIT_USAGE), result.stderr


def test_a_long_model_type_or_name_is_not_echoed_whole(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a config.json whose model_type ran to 3,000,000 characters was taken
    and printed in 37,595 lines; an unknown --model of 5,000 characters was echoed in full."""
    config = {"model_type": "x" * 3_000_000, "hidden_size": 512, "num_hidden_layers": 2}
    config |= {"num_attention_heads": 8, "intermediate_size": 1024, "vocab_size": 1000}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    refused = fails(run("recommend", "--gpu", "rtx-4090", "--model", str(tmp_path)), 2, "is not a model type")
    assert len(refused.stderr) < 500
    for odd in ("llama\n", "qwen 3", "a/b"):
        (tmp_path / "config.json").write_text(json.dumps(config | {"model_type": odd}), encoding="utf-8")
        fails(run("model", str(tmp_path)), 2, "is not a model type")
    # a layer type of 3,000 characters (an attacker's review: 3 MB of stderr from one config)
    typed = config | {"model_type": "llama", "layer_types": ["x" * 3000]}
    (tmp_path / "config.json").write_text(json.dumps(typed), encoding="utf-8")
    assert len(fails(run("model", str(tmp_path)), 2, "layers of type").stderr) < 600
    unknown = fails(run("recommend", "--gpu", "rtx-4090", "--model", "a" * 4000), 2, "unknown model")
    assert len(unknown.stderr) < 600
    # Every refused value is echoed so (the review's --goal, --trainer and number flags too).
    for args in (
        ["recommend", "--goal", "a" * 5000],
        ["recommend", "--examples", "1" * 5000 + "x"],
        ["recipe", "--trainer", "a" * 5000],
        ["estimate", "--lora-rank", "a" * 5000],
    ):
        assert len(fails(run(*args), 2).stderr) < 600, args


def test_odd_model_paths_and_endpoints_are_bad_input(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    user = run("model", "~nosuchuser-ft-atlas/x")
    assert user.exit_code == EXIT_USAGE and "no such file or directory" in user.stderr
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the endpoint is refused before any network
    monkeypatch.setenv("HF_ENDPOINT", "http://[::1")
    endpoint = run("model", "someorg/somemodel")
    assert endpoint.exit_code == EXIT_USAGE and "HF_ENDPOINT" in endpoint.stderr


def test_an_out_name_like_an_option_is_run_as_a_file(tmp_path: Path) -> None:
    """--out=-x.py wrote the run line 'python -x.py', which Python reads as options."""
    args = [*COMMAND, "recipe", "--gpu", "rtx-4090", "--model-size", "7b", "--out=-x.py"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# Run: python ./-x.py " in (tmp_path / "-x.py").read_text(encoding="utf-8")


def test_the_cache_keeps_the_entry_it_reads_however_old(cache_env: Path) -> None:
    """Pruning went by write time, so the bundled KB's entry, read on every run, could go
    first (a review): a hit marks its entry used."""
    kbcache.load_cached_catalog(bundled_kb_path())
    (entry,) = cache_env.glob("kb-*.json")
    os.utime(entry, (1_000_000, 1_000_000))
    kbcache.load_cached_catalog(bundled_kb_path())  # a hit
    assert entry.stat().st_mtime > 1_000_000


def test_a_path_too_long_is_echoed_cut_and_an_empty_batch_path_is_named(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a 300-character --out file name was echoed whole in "File name too
    long", and `recommend --batch ""` said "cannot read : No such file"."""
    long = tmp_path / ("a" * 300 + ".py")
    refused = fails(run("recipe", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--out", str(long)), 2)
    assert "a" * 150 not in refused.stderr and refused.stderr.rstrip().endswith("...")
    fails(run("recommend", "--batch", ""), 2, "--batch: empty path")


def test_a_json_file_named_as_a_model_never_has_its_strings_echoed(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a batch line naming any readable JSON file as its model got the
    file's strings back ("config.json's hidden_size is 'AKIA...'"): values that are not numbers
    are described by their JSON type only, model_type too."""
    secret = "AKIAEXAMPLESECRET"
    for key in ("hidden_size", "tie_word_embeddings", "model_type"):
        (tmp_path / key).mkdir()
        (tmp_path / key / "config.json").write_text(json.dumps({"model_type": "llama", key: secret}))
        line = json.dumps({"model": str(tmp_path / key), "gpu": "rtx-4090"})
        result = run("recommend", "--batch", "-", input=line + "\n")
        assert result.exit_code == 2 and secret not in result.stdout + result.stderr, key
    said = run("recommend", "--batch", "-", input=json.dumps({"model": str(tmp_path / "hidden_size")}) + "\n")
    assert "config.json's hidden_size is a string, not a whole number" in said.stdout
    # A whole config, so that its warnings are reached (a diff review: they echoed these three).
    shape = {"hidden_size": 512, "num_hidden_layers": 2, "num_attention_heads": 8, "intermediate_size": 1024}
    shape |= {"vocab_size": 1000, "num_key_value_heads": 8}
    for key in ("model_type", "torch_dtype", "quantization_config"):
        value: object = {"quant_method": secret} if key == "quantization_config" else secret
        folder = tmp_path / f"whole-{key}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": "llama", **shape, key: value}))
        line = json.dumps({"model": str(folder), "gpu": "rtx-4090"})
        answered = run("recommend", "--batch", "-", input=line + "\n")
        assert answered.exit_code == 0 and secret not in answered.stdout + answered.stderr, key
