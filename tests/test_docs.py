"""Generated sections of the documentation match the code they come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_cli.kb.facts import FACTS
from atlas_cli.render.docs import stale
from tests.conftest import REPO

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
