"""`ft-atlas export`: the atlas regenerated from the knowledge base (atlas_cli/export/), in both
formats and both languages; docs/atlas/ is its current English Markdown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from atlas_cli.export.document import Atlas, Bullets, Code, Heading, Link, Page, Paragraph, Table, line
from atlas_cli.export.formats import html as html_format
from atlas_cli.export.formats import markdown as markdown_format
from atlas_cli.export.registry import export_formats, format_names
from atlas_cli.kb.catalog import Catalog
from atlas_cli.render.grid import markdown_inline
from tests.conftest import REPO, Runner, fails, ok
from tests.test_cli import assert_gfm
from tests.test_knowledge import bundled_sections, index_of, write_kb

HOSTILE = '<script>alert("x")</script> **bold** [link](javascript:x) | pipe & `tick` # _u_'


def test_every_format_module_registers_itself() -> None:
    assert format_names() == ["html", "markdown"]
    assert set(export_formats()) == set(format_names())


def test_docs_atlas_is_current() -> None:
    from scripts.regenerate_docs import ATLAS_DIR, atlas_pages

    pages = atlas_pages()
    stale = [p.name for p, text in pages.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p.name for p in ATLAS_DIR.glob("*.md") if p not in pages]
    assert not stale and not extra, (
        f"docs/atlas is stale ({stale or extra}): run `python scripts/regenerate_docs.py`"
    )


def test_markdown_pages_cover_every_section_card_and_correction(catalog: Catalog) -> None:
    pages = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "docs" / "atlas").glob("*.md")}
    guide = pages["README.md"]
    for section in catalog.kb.guide.sections:
        assert f"## §{section.number} {section.title.en}" in guide
    for category in catalog.kb.categories:
        assert category.changes.en in guide
    for row in catalog.kb.guide.comparison:
        assert f"| {row.label} |" in guide
    for tool in catalog.kb.guide.tools:
        assert tool.library in guide
    for method in catalog.kb.methods:
        assert f'<a id="{method.id}"></a>' in pages["methods.md"], method.id
    for rule in [*catalog.kb.guide.choose, *catalog.kb.guide.recommendations]:
        assert f'<a id="{rule.id}"></a>' in pages["corrections.md"]
    assert "Sized for sequences of 2048 tokens, micro-batch 1, bf16" in pages["estimates.md"]
    assert "LoRA: Low-Rank Adaptation of Large Language Models" in pages["references.md"]
    for text in pages.values():
        assert_gfm(text)


def test_links_between_pages_resolve() -> None:
    atlas_dir = REPO / "docs" / "atlas"
    anchors = {
        p.name: set(re.findall(r'<a id="([^"]+)"></a>', p.read_text(encoding="utf-8")))
        for p in atlas_dir.glob("*.md")
    }
    for page in atlas_dir.glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+\.md)#([^)]+)\)", page.read_text(encoding="utf-8")):
            assert target[1] in anchors[target[0]], (page.name, target)


def _hostile_atlas() -> Atlas:
    page = Page("README", HOSTILE)
    page.add(
        Heading(1, HOSTILE, "top"),
        Paragraph(line(HOSTILE, Link(HOSTILE, url="javascript:alert(1)"))),
        Paragraph(line("- not a list"), quote=True),
        Bullets((line("1. not numbered", Link(HOSTILE, "README", "top")),)),
        Table((HOSTILE,), ((line(HOSTILE),),)),
        Code("</code></pre><script>x</script>", "python"),
    )
    return Atlas("en", HOSTILE, (page,))


def test_html_escapes_every_string() -> None:
    page = html_format.document(_hostile_atlas())
    assert "<script>" not in page
    assert 'href="javascript' not in page  # a link only to an anchor or an http(s) URL
    assert "&lt;script&gt;" in page


def test_markdown_shows_knowledge_base_text_as_text() -> None:
    text = markdown_format.document(_hostile_atlas())
    prose = text.split("```")[0]  # in a code block the text is shown as code
    assert "<script>" not in prose and "](javascript:alert" not in prose
    assert "\\[link\\](javascript:x)" in text  # shown, not a link
    assert "\\*\\*bold\\*\\*" in text and "\\| pipe" in text
    assert "1\\. not numbered" in text and "> \\- not a list" in text
    assert_gfm(text)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_html_is_one_self_contained_page(run: Runner, tmp_path: Path, lang: str) -> None:
    result = ok(run("export", "--format", "html", "--lang", lang, "--out", str(tmp_path)))
    assert f"atlas.{lang}.html" in result.stderr
    page = (tmp_path / f"atlas.{lang}.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page and "<style>" in page
    # Nothing is fetched: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(", page)
    assert [p.name for p in tmp_path.iterdir()] == [f"atlas.{lang}.html"]


def test_russian_atlas_quotes_the_guide(run: Runner, catalog: Catalog) -> None:
    text = ok(run("export", "--lang", "ru")).stdout
    assert "## §1 Введение" in text and "## Содержание" in text
    for rule in catalog.kb.guide.choose:
        assert rule.text.ru is not None and markdown_inline(rule.text.ru) in text
    assert "### Что обучается" in text  # a card's headings
    english = ok(run("export")).stdout
    assert "## §1 Introduction" in english and "Введение" not in english


def test_russian_atlas_words_names_ratings_and_kinds_in_russian(run: Runner) -> None:
    text = ok(run("export", "--lang", "ru")).stdout
    assert "| Full Fine-Tuning | высокая | средняя | отличное |" in text  # §4, was "high | medium"
    assert "память: очень низкая &lt; низкая" in text  # the scales under §4
    assert "### Полное дообучение (Full Fine-Tuning) (full-ft)" in text  # was "Full fine-tuning"
    assert "параметризация" in text and "| parameterization |" not in text
    assert not re.search(r"\b(very-low|near-full|context-dependent)\b", text)


def test_russian_estimates_page_writes_units_verdicts_and_data_in_russian(
    run: Runner, tmp_path: Path
) -> None:
    """A Russian speaker's review: cells read '24.9 GB tight · 47 мин-1,9 ч · $0.16-0.41' and the
    conditions 'Data: 10,000 examples ...', three conventions in one cell."""
    result = ok(run("export", "--lang", "ru", "--out", str(tmp_path)))
    assert "записан" in result.stderr and "wrote" not in result.stderr
    page = (tmp_path / "estimates.ru.md").read_text(encoding="utf-8")
    assert "ГБ впритык ·" in page and "ГБ НЕТ · —" in page and "Данные: 10 000 примеров" in page
    assert not re.search(r"\d GB|\btight\b|Data:|\$\d+\.\d", page)


def test_out_with_a_page_name_asks_for_a_directory(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: --out page.html made a directory named page.html."""
    page = tmp_path / "page.html"
    fails(run("export", "--format", "html", "--out", str(page)), 2, "writes a directory of pages", "> ")
    assert not page.exists()
    named = tmp_path / "site.html"  # a directory the user made so is theirs to name
    named.mkdir()
    ok(run("export", "--format", "html", "--out", str(named)))


def test_out_writes_pages_and_never_overwrites_silently(run: Runner, tmp_path: Path) -> None:
    out = tmp_path / "atlas"
    ok(run("export", "--out", str(out)))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["README.md", "corrections.md", "estimates.md", "methods.md", "references.md"]
    published = (REPO / "docs" / "atlas" / "README.md").read_text(encoding="utf-8")
    assert (out / "README.md").read_text(encoding="utf-8") == published
    (out / "README.md").write_text("mine", encoding="utf-8")
    fails(run("export", "--out", str(out)), 2, "already exists", "--force")
    assert (out / "README.md").read_text(encoding="utf-8") == "mine"
    ok(run("export", "--out", str(out), "--force"))
    assert (out / "README.md").read_text(encoding="utf-8") != "mine"
    # Another language sits beside English.
    ok(run("export", "--lang", "ru", "--out", str(out)))
    assert (out / "README.ru.md").exists() and (out / "methods.ru.md").exists()
    # A file where the directory should be is the user's to change: bad usage, not an I/O error.
    fails(run("export", "--out", str(out / "README.md")), 2, "is a file, not a directory")


def test_unknown_format_is_refused(run: Runner) -> None:
    fails(run("export", "--format", "pdf"), 2, "--format", "markdown")


def test_markdown_output_escapes_knowledge_base_text(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a method named "LoRA</td><script>..." reached `recommend`, `methods`
    and `show --format markdown` as raw HTML, which MkDocs or a wiki would run; `export` escaped
    it. Every Markdown page escapes it now."""
    sections = bundled_sections()
    lora = index_of(sections["methods"], "lora")
    sections["methods"][lora]["name"] = "LoRA</td><script>alert(4)</script>"
    sections["methods"][lora]["summary"] = "<img src=x onerror=alert(5)> a summary"
    kb = str(write_kb(tmp_path, sections))
    profile = ("--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--data-kind", "demonstrations")
    pages = [
        ok(run("recommend", *profile, "--format", "markdown", "--explain", "--kb", kb)).stdout,
        ok(run("show", "lora", "--format", "markdown", "--kb", kb)).stdout,
        ok(run("methods", "--format", "markdown", "--kb", kb)).stdout,
        ok(run("compare", "--format", "markdown", "--kb", kb)).stdout,
    ]
    for page in pages:
        assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in pages[0]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_directory_the_system_will_not_make_is_bad_input(run: Runner) -> None:
    """`export --out /proc/x` exited 1, the code of an internal error (a review); a recipe written
    there is refused alike (a diff review: it exited 1 where export exited 2)."""
    fails(run("export", "--out", "/proc/ft-atlas-export"), 2, "--out: cannot create /proc/ft-atlas-export")
    recipe = run("recipe", "--gpu", "rtx-4090", "--model-size", "7b", "--out", "/proc/ft-atlas-recipe.py")
    fails(recipe, 2, "--out: cannot write /proc/ft-atlas-recipe.py")


@pytest.mark.skipif(
    not Path("/sys/kernel").is_dir() or os.geteuid() != 0, reason="needs Linux's /sys as root"
)
def test_a_directory_the_system_will_not_let_us_make_is_a_failed_write(run: Runner) -> None:
    """An attacker's review: `export --out /sys/atlas` exited 2 where `recipe --out /sys/x.py`
    exited 1 for the same refusal; both are output that could not be written (exit 1)."""
    fails(run("export", "--out", "/sys/ft-atlas-export"), 1, "--out: cannot create /sys/ft-atlas-export")
