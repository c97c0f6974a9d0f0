"""Rewrite the generated sections of docs/*.md and README.md (see atlas_cli/render/docs.py)."""

from __future__ import annotations

from pathlib import Path

from atlas_cli.render.docs import regenerate

REPO = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        fresh = regenerate(text)
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            print(f"regenerated {path.relative_to(REPO)}")
