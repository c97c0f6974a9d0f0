"""What the YAML formats share: one YAML document per stage, values quoted by the YAML library."""

from __future__ import annotations

from typing import Any

from atlas_cli.recipes.header import header, wrapped
from atlas_cli.recipes.settings import Recipe


def yaml_block(title: str, values: dict[str, Any]) -> str:
    import yaml  # only the YAML formats need it; `--format python` stays light

    # Values come from the KB: only the YAML library writes them. Without allow_unicode, anything
    # beyond ASCII is a double-quoted escape; with it, PyYAML writes U+0085 raw inside quotes,
    # which its own reader then misreads.
    body = yaml.safe_dump(values, sort_keys=False, allow_unicode=False, width=1000)
    return f"### {title}\n{body}"


def yaml_documents(
    recipe: Recipe, fmt: str, written_for: str, run: str, documents: list[tuple[str, str]]
) -> str:
    """One YAML document per stage; several stages mean several files, in order."""
    text = header(recipe, fmt, written_for, run)
    if len(documents) > 1:
        names = ", ".join(name for name, _ in documents)
        note = (
            f"This file holds {len(documents)} YAML documents, one per stage: save each one "
            f"(separated by ---) as its own file ({names}) and train them in that order."
        )
        text += "\n".join(wrapped(note)) + "\n"
    parts = [f"# --- {name}\n{body}" for name, body in documents]
    return text + "---\n".join(parts)


def precision_keys(recipe: Recipe) -> dict[str, bool]:
    precision = recipe.value("precision")
    keys = {"bf16": precision in ("bf16", "pure-bf16"), "fp16": precision == "fp16"}
    return keys
