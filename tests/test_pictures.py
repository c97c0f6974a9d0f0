"""The pictures in docs/images/ are of the current output: each capture's command runs again and
its text is compared with the text kept beside the SVG (not the SVG, whose bytes change with rich
releases); the plots, written by scripts/pictures.py itself, are compared whole."""

from __future__ import annotations

import re

import pytest

from atlas_cli.kb.catalog import Catalog
from scripts.pictures import CAPTURES, IMAGES, PLOTS, Capture, plain, run_capture
from tests.conftest import REPO

STALE = "run `python scripts/pictures.py`"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda c: c.name)
def test_capture_text_is_current(capture: Capture) -> None:
    kept = IMAGES / f"{capture.name}.txt"
    assert kept.exists(), STALE
    assert plain(run_capture(capture)) == kept.read_text(encoding="utf-8"), f"{capture.name}: {STALE}"
    svg = (IMAGES / f"{capture.name}.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and capture.title.split()[1] in svg


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plots_are_current(name: str, catalog: Catalog) -> None:
    assert PLOTS[name](catalog) == (IMAGES / f"{name}.svg").read_text(encoding="utf-8"), STALE


def test_ask_picture_is_a_transcript() -> None:
    text = (IMAGES / "ask.txt").read_text(encoding="utf-8")
    assert "Which GPU will you train on?" in text and ": 3090" in text  # the echoed answer
    assert "Recommended plans" in text


def test_readme_shows_pictures_and_links_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"!\[[^\]]*\]\((docs/images/[^)]+\.svg)\)", readme))
    assert len(shown) >= 4
    assert all((REPO / path).exists() for path in shown)
    for page in (REPO / "docs").glob("*.md"):
        assert f"(docs/{page.name})" in readme, page.name
    for page in ("CONTRIBUTING.md", "CHANGELOG.md", "docs/atlas/README.md"):
        assert f"({page})" in readme, page
