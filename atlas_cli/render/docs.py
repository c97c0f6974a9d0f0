"""Sections of docs/ that are generated from the code's own definitions, between markers:

    <!-- generated: NAME -->
    ...
    <!-- end: NAME -->

`python scripts/regenerate_docs.py` rewrites them; tests/test_docs.py fails when one is stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from atlas_cli.kb.facts import FACTS
from atlas_cli.render.grid import code_span


def facts_table() -> str:
    """docs/rules.md: every fact a condition may read, from kb/facts.py."""
    lines = ["| fact | type | values | meaning |", "|---|---|---|---|"]
    for spec in FACTS:
        name = (
            f"{spec.name}.<method>"
            if spec.per_method
            else f"{spec.name}.<objective>"
            if spec.per_stage
            else spec.name
        )
        values = ", ".join(code_span(v) for v in spec.values) if spec.values else ""
        if spec.refers_to:
            values = f"an id of `{spec.refers_to}`"
        lines.append(f"| {code_span(name)} | {spec.type} | {values} | {spec.description} |")
    return "\n".join(lines)


def json_contracts() -> str:
    """docs/json.md: every JSON output, its top-level keys and where its full schema is."""
    from atlas_cli.render.schemas import all_schemas

    lines = [
        "| output | top-level keys | its JSON Schema |",
        "|---|---|---|",
    ]
    for name, schema in all_schemas()["outputs"].items():
        variants: list[dict[str, object]] = schema.get("anyOf", [schema])
        keys = dict.fromkeys(key for variant in variants for key in _properties(_resolved(schema, variant)))
        shown = ", ".join(code_span(k) for k in keys)
        lines.append(f"| `{name}` | {shown} | `ft-atlas schema \\| jq '.outputs.{name}'` |")
    return "\n".join(lines)


def _properties(schema: dict[str, object]) -> list[str]:
    found = schema.get("properties", {})
    return list(found) if isinstance(found, dict) else []


def _resolved(schema: dict[str, object], variant: dict[str, object]) -> dict[str, object]:
    """A `$ref` to one of the schema's `$defs`, followed (pydantic puts union members there)."""
    ref = variant.get("$ref")
    if isinstance(ref, str):
        defs = schema.get("$defs", {})
        assert isinstance(defs, dict)
        found = defs[ref.rsplit("/", 1)[-1]]
        assert isinstance(found, dict)
        return found
    return variant


SECTIONS: dict[str, Callable[[], str]] = {"facts": facts_table, "json-contracts": json_contracts}
_MARKED = re.compile(r"(<!-- generated: (\w[\w-]*) -->\n)(.*?)(<!-- end: \2 -->)", re.S)


Sections = dict[str, Callable[[], str]]


def regenerate(text: str, extra: Sections | None = None) -> str:
    """The text with every generated section written anew (`extra`: sections generated outside
    the package, such as benchmarks/published.py's calibration tables)."""
    sections = {**SECTIONS, **(extra or {})}
    return _MARKED.sub(lambda m: m.group(1) + sections[m.group(2)]().rstrip("\n") + "\n" + m.group(4), text)


def stale(path: Path, extra: Sections | None = None) -> bool:
    text = path.read_text(encoding="utf-8")
    return regenerate(text, extra) != text
