"""Shared fixtures: run the real entry point (`atlas_cli.cli.main`) in-process, so exit codes and
stderr messages are the ones users see, not typer's test defaults."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from atlas_cli.cli import main
from atlas_cli.i18n import set_language
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base

REPO = Path(__file__).resolve().parent.parent

# Keep the KB cache of test runs (and of the subprocesses they start) out of the user's home; the
# directories go when the process that made them exits (xdist's workers use the parent's).
_CACHE = tempfile.TemporaryDirectory(prefix="ft-atlas-test-cache-")
os.environ.setdefault("FT_ATLAS_CACHE_DIR", _CACHE.name)
# Tests never read the user's Hugging Face cache nor reach the Hub: a Hub id that is not in this
# empty cache fails fast. The tests of the cache and of fetching set their own (tests/test_model_sources.py).
_HUB_CACHE = tempfile.TemporaryDirectory(prefix="ft-atlas-test-hf-")
os.environ["HF_HUB_CACHE"] = _HUB_CACHE.name
os.environ["HF_HUB_OFFLINE"] = "1"
# The output language follows the locale and FT_ATLAS_LANG: tests (and the subprocesses they start)
# run in English whatever the user's environment; tests of the language set their own.
for _name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "FT_ATLAS_LANG"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"


# A reasoning model trained with a reward function (GRPO): its top plan, as several tests ask.
GRPO_TOP_PLAN = (
    *("recommend", "--gpu", "h100-80gb", "--model", "qwen3-8b", "--goal", "reasoning"),
    *("--data-kind", "reward-function", "--examples", "5k", "--top", "1"),
)


@dataclass
class Run:
    stdout: str
    stderr: str
    exit_code: int

    def json(self) -> Any:
        return json.loads(self.stdout)


Runner = Callable[..., Run]


def run_cli(*args: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Run:
    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env or {})) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return Run(out.getvalue().decode(), err.getvalue().decode(), code)


@pytest.fixture
def run() -> Runner:
    return run_cli


@pytest.fixture(autouse=True)
def english() -> None:
    """Every test starts in English: a command run in-process leaves its language set."""
    set_language("en")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(load_knowledge_base(bundled_kb_path()))


# --- assertions shared by the command-line tests ---------------------------------------------


def ok(result: Run) -> Run:
    assert result.exit_code == 0, f"exit {result.exit_code}; stderr: {result.stderr}"
    return result


def fails(result: Run, code: int, *in_stderr: str) -> Run:
    """A failure: the documented code, a message on stderr (no traceback), nothing on stdout."""
    assert result.exit_code == code, f"exit {result.exit_code}; stderr: {result.stderr}"
    assert result.stdout == ""
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    for text in in_stderr:
        assert text.lower() in result.stderr.lower(), result.stderr
    return result


PLAN_KEYS = {
    "rank",
    "method",
    "name",
    "kind",
    "pipeline",
    "score",
    "fits",
    "memory_gb",
    "reasons",
    "rules",
    "caveats",
    "tools",
}


def assert_recommendation(data: dict[str, Any], explain: bool = False) -> None:
    assert data["schema_version"] == 2
    assert isinstance(data["profile"], dict)
    plans = data["recommendations"]
    assert [p["rank"] for p in plans] == list(range(1, len(plans) + 1))
    for plan in plans:
        assert set(plan) >= PLAN_KEYS
        assert ("trace" in plan) is explain
        assert isinstance(plan["method"], str) and isinstance(plan["name"], str)
        assert isinstance(plan["score"], (int, float))
        assert plan["fits"] in (True, False, None)
        assert plan["memory_gb"] is None or plan["memory_gb"] > 0
        assert all(
            isinstance(s, str) for s in plan["pipeline"] + plan["reasons"] + plan["rules"] + plan["caveats"]
        )
        for tool in plan["tools"]:
            assert set(tool) == {"library", "entry"}
