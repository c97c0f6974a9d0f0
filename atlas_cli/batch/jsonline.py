"""Batch mode's output line, assembled from pieces encoded once.

Every line of a batch repeats the same method names, rule explanations, pitfalls and tool
lists; encoding each of them once and joining the pieces is several times faster than
`json.dumps` of the whole document. The line is byte-identical to the compact `json.dumps` of
`{"line": N, **recommendation_json(rec, top, explain=False)}` with line-breaking characters
escaped (`escape_breaks`; tests/test_batch.py checks this over a grid of profiles), so
`jsonout` stays the one definition of the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from atlas_cli.core.plans import Plan, Recommendation, ToolRef
from atlas_cli.kb.schema import Scalar
from atlas_cli.render.documents import SCHEMA_VERSION, escape_breaks

# Past this many remembered pieces the encoder starts afresh, so memory stays flat on any input.
PIECE_LIMIT = 2048


def dumps_line(data: Any) -> str:
    """Compact JSON, as every batch line is written: one record is exactly one line, also for
    readers that split lines at U+2028 or U+0085 (see escape_breaks)."""
    return escape_breaks(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _scalar(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return escape_breaks(json.dumps(value, ensure_ascii=False))
    return repr(value)  # what json writes for a finite int or float


class LineEncoder:
    """Encodes recommendations as JSON lines, remembering the encoding of every repeated piece."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        # Keyed by identity (the engine reuses one tuple per method and pipeline); the tuple is
        # kept in the entry so that its id cannot be reused while the entry lives.
        self._tools: dict[int, tuple[tuple[ToolRef, ...], str]] = {}
        # The engine hands out one plan object for every profile that leads to the same plan.
        self._plans: dict[int, tuple[Plan, str]] = {}

    def _text(self, text: str) -> str:
        found = self._texts.get(text)
        if found is None:
            if len(self._texts) >= PIECE_LIMIT:
                self._texts.clear()
            found = self._texts[text] = escape_breaks(json.dumps(text, ensure_ascii=False))
        return found

    def _list(self, texts: Iterable[str]) -> str:
        return "[" + ",".join(map(self._text, texts)) + "]"

    def _tool_list(self, tools: tuple[ToolRef, ...]) -> str:
        found = self._tools.get(id(tools))
        if found is None:
            if len(self._tools) >= PIECE_LIMIT:
                self._tools.clear()
            items = [{"library": t.library, "entry": t.entry} for t in tools]
            found = self._tools[id(tools)] = (
                tools,
                dumps_line(items),
            )
        return found[1]

    def _plan(self, plan: Plan, rank: int) -> str:
        found = self._plans.get(id(plan))
        if found is None:
            if len(self._plans) >= PIECE_LIMIT:
                self._plans.clear()
            found = self._plans[id(plan)] = (plan, self._plan_fields(plan))
        return f'{{"rank":{rank},{found[1]}'

    def _plan_fields(self, plan: Plan) -> str:
        """The plan's document after its rank, up to its closing brace."""
        text = self._text
        return (
            f'"method":{text(plan.method)},"name":{text(plan.name)},'
            f'"kind":{text(plan.kind)},"pipeline":{self._list(plan.pipeline)},'
            f'"score":{_scalar(plan.score)},"fits":{_scalar(plan.fits)},'
            f'"memory_gb":{_scalar(plan.memory_gb)},"reasons":{self._list(plan.reasons)},'
            f'"rules":{self._list(plan.rules)},"caveats":{self._list(plan.caveats)},'
            f'"tools":{self._tool_list(plan.tools)}}}'
        )

    def line(self, number: int, rec: Recommendation, top: int) -> str:
        head = {
            "line": number,
            "schema_version": SCHEMA_VERSION,
            "profile": rec.profile,
            "notes": list(rec.notes),
        }
        encoded = dumps_line(head)
        plans = ",".join(self._plan(plan, rank) for rank, plan in enumerate(rec.plans[:top], start=1))
        return f'{encoded[:-1]},"recommendations":[{plans}]}}'
