"""Rewrite the generated sections of docs/*.md and README.md (see atlas_cli/render/docs.py)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas_cli.core.engine import Engine  # noqa: E402
from atlas_cli.core.profile import build_profile  # noqa: E402
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


if __name__ == "__main__":
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        fresh = regenerate(text, benchmark_sections())
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            print(f"regenerated {path.relative_to(REPO)}")
