"""Rewrite the generated sections of docs/*.md and README.md (see atlas_cli/render/docs.py)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas_cli.render.docs import Sections, regenerate  # noqa: E402
from benchmarks.published import load_catalog, report, throughput_table  # noqa: E402


def benchmark_sections() -> Sections:
    """Sections generated from benchmarks/ (outside the package)."""
    return {
        "memory-calibration": lambda: report(load_catalog()),
        "time-calibration": lambda: throughput_table(load_catalog()),
    }


if __name__ == "__main__":
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        fresh = regenerate(text, benchmark_sections())
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            print(f"regenerated {path.relative_to(REPO)}")
