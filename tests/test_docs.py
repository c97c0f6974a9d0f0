"""Generated sections of the documentation match the code they come from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atlas_cli.kb.facts import FACTS
from atlas_cli.render.docs import stale
from tests.conftest import REPO, Runner, ok

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_generated_sections_are_current(page: Path) -> None:
    from scripts.regenerate_docs import benchmark_sections

    assert not stale(page, benchmark_sections()), (
        f"{page.name} is stale: run `python scripts/regenerate_docs.py`"
    )


def test_rules_doc_lists_every_fact() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for spec in FACTS:
        assert f"`{spec.name}" in text, spec.name


def test_the_figures_the_pages_quote_from_a_run_are_the_runs(run: Runner) -> None:
    """A newcomer's review: docs/memory.md said the RTX 4090 holds 30,044 tokens where the command it
    names printed 30,457, and docs/time.md's example scored DoRA 0.73 where it printed 0.67."""
    memory = (REPO / "docs" / "memory.md").read_text(encoding="utf-8")
    held = re.search(r"the same card holds ([\d,]+) tokens", memory)
    args = ("--method", "qlora", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--lora-rank", "32")
    longest = ok(run("estimate", *args, "--max", "seq-len", "--json")).json()["max_seq_len"]
    assert held and int(held.group(1).replace(",", "")) == longest
    time = (REPO / "docs" / "time.md").read_text(encoding="utf-8")
    shown = re.findall(
        r"│ (\d) │ [^│]*│ [^│]*│ [^│]*│ [^│]*│ [^│]*│ ([\d.]+) +│", time.split("## What you tell it")[0]
    )
    args = ("--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "chat", "--examples", "20k")
    ranked = ok(run("recommend", *args, "--tokens-per-example", "600", "--top", "3", "--json")).json()
    assert [(str(p["rank"]), f"{p['score']:.2f}") for p in ranked["recommendations"]] == shown
