"""`ft-atlas recipe`: wiring of the profile flags, --plan, --format and --out."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from tests.conftest import Runner

PROFILE = ["--gpu", "rtx-3090", "--model", "mistral-7b", "--data-kind", "preferences", "--examples", "5k"]


def test_python_recipe_for_the_top_plan_parses(run: Runner) -> None:
    result = run("recipe", *PROFILE)
    assert result.exit_code == 0, result.stderr
    assert "Plan 1 of" in result.stdout and "sft -> dpo" in result.stdout
    ast.parse(result.stdout)


def test_trainer_configs_are_yaml(run: Runner) -> None:
    for fmt in ("llamafactory", "axolotl"):
        result = run("recipe", *PROFILE, "--format", fmt)
        assert result.exit_code == 0, (fmt, result.stderr)
        documents = [d for d in yaml.safe_load_all(result.stdout) if d]
        assert documents and all(isinstance(d, dict) for d in documents)


def test_out_writes_the_file_and_says_so(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    result = run("recipe", *PROFILE, "--out", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert f"wrote {target}" in result.stderr
    ast.parse(target.read_text(encoding="utf-8"))


def test_bad_rank_and_unknown_format_are_usage_errors_an_unwritable_out_a_write_error(
    run: Runner, tmp_path: Path
) -> None:
    assert run("recipe", *PROFILE, "--plan", "99").exit_code == 2
    blocked = tmp_path / "file"
    blocked.write_text("x")
    result = run("recipe", *PROFILE, "--out", str(blocked / "train.py"))
    assert result.exit_code == 1 and "--out" in result.stderr  # as a failed write to stdout
    assert run("recipe", *PROFILE, "--format", "notebook").exit_code == 2


def test_no_training_plan_gets_a_prompting_example(run: Runner) -> None:
    result = run("recipe", "--gpu", "none", "--model-size", "7b", "--examples", "20")
    assert result.exit_code == 0, result.stderr
    ast.parse(result.stdout)
