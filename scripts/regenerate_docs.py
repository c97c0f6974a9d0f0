"""Rewrite the generated sections of docs/*.md and README.md (see atlas_cli/render/docs.py), and
the generated atlas in docs/atlas/ (`ft-atlas export`'s English Markdown pages)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas_cli.core.engine import Engine  # noqa: E402
from atlas_cli.core.profile import build_profile  # noqa: E402
from atlas_cli.export.content import build_atlas  # noqa: E402
from atlas_cli.export.registry import export_formats  # noqa: E402
from atlas_cli.recipes.writer import render_recipe  # noqa: E402
from atlas_cli.render.docs import Sections, regenerate  # noqa: E402
from benchmarks.published import load_catalog, report, throughput_table  # noqa: E402

# docs/recipes.md's examples: one recipe per format, for a chat and a preference profile.
RECIPE_EXAMPLES = {
    "python": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "goal": "chat"},
    "llamafactory": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "data_kind": "preferences"},
    "axolotl": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "data_kind": "preferences"},
}


def _recipe_block(fmt: str) -> str:
    catalog = load_catalog()
    rec = Engine(catalog).recommend(build_profile(RECIPE_EXAMPLES[fmt]))
    text = render_recipe(catalog, rec, 1, fmt)
    return f"```{'python' if fmt == 'python' else 'yaml'}\n{text.rstrip()}\n```"


def benchmark_sections() -> Sections:
    """Sections generated outside the package: benchmarks/' calibration tables and the recipes
    docs/recipes.md shows."""
    return {
        "memory-calibration": lambda: report(load_catalog()),
        "time-calibration": lambda: throughput_table(load_catalog()),
        **{f"recipe-{fmt}": partial(_recipe_block, fmt) for fmt in RECIPE_EXAMPLES},
    }


ATLAS_DIR = REPO / "docs" / "atlas"


def atlas_pages() -> dict[Path, str]:
    """docs/atlas/: what `ft-atlas export --out docs/atlas` writes for the bundled KB in English."""
    atlas = build_atlas(load_catalog(), "en")
    return {ATLAS_DIR / name: text for name, text in export_formats()["markdown"].files(atlas).items()}


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"regenerated {path.relative_to(REPO)}")


def main() -> None:
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        write_if_changed(path, regenerate(text, benchmark_sections()))
    pages = atlas_pages()
    for path, text in pages.items():
        write_if_changed(path, text)
    for old in sorted(ATLAS_DIR.glob("*.md")):
        if old not in pages:
            old.unlink()
            print(f"removed {old.relative_to(REPO)}")


if __name__ == "__main__":
    main()
