"""Batch mode's output line, assembled from pieces encoded once.

Every line of a batch repeats the same few plans; encoding each plan once and joining the pieces
is several times faster than `json.dumps` of the whole document. The line is the UTF-8 of the
compact `json.dumps` of `{"line": N, **recommendation_json(rec, top, explain=False)}` with
line-breaking characters escaped (`escape_breaks`; tests/test_batch.py checks this over a grid
of profiles), and each plan's pieces come from render/documents.py, the one definition of the
document. Pieces are kept as UTF-8 bytes: encoding each once, rather than every ~19 KB line,
saves ~5 % of a batch.
"""

from __future__ import annotations

import json
from typing import Any

from atlas_cli.core.plans import Plan, Recommendation
from atlas_cli.core.throughput.plans import Timed
from atlas_cli.render.documents import (
    SCHEMA_VERSION,
    advice_json,
    escape_breaks,
    grouped_tools,
    next_steps_json,
    plan_time_json,
    untimed_plan_json,
)

# Past this many remembered pieces the encoder starts afresh, so memory stays flat on any input.
PIECE_LIMIT = 2048
# One encoder for every line: json.dumps with options builds a new one per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps_line(data: Any) -> str:
    """Compact JSON, as every batch line is written: one record is exactly one line, also for
    readers that split lines at U+2028 or U+0085 (see escape_breaks)."""
    return escape_breaks(_COMPACT.encode(data))


def utf8(text: str) -> bytes:
    """Output bytes: UTF-8 whatever the locale; a lone surrogate (from a JSON escape in the
    input) becomes a JSON escape again."""
    return text.encode("utf-8", "backslashreplace")


def line_bytes(data: Any) -> bytes:
    return utf8(dumps_line(data))


class LineEncoder:
    """Encodes recommendations as JSON lines, remembering the encoding of every repeated piece."""

    def __init__(self) -> None:
        # The engine hands out one untimed plan object for every profile that leads to the same
        # plan, and one time object for every amount of data; each is kept in its entry so that
        # its id cannot be reused while the entry lives.
        self._plans: dict[int, tuple[Plan, bytes]] = {}
        self._times: dict[int, tuple[Timed, bytes]] = {}
        # next_steps pieces: the top plan's tools (the plan kept alive in the entry), and the
        # evaluation advice chosen (by the ids of the KB's advice entries, which live as long).
        self._tools: dict[int, tuple[Plan, bytes]] = {}
        self._advice: dict[tuple[int, ...], bytes] = {}

    def _plan(self, plan: Plan, rank: int) -> bytes:
        """The pieces of render/documents.py's plan_json, the one definition of the document:
        its untimed fields, then its time fields, each encoded once."""
        untimed = plan.untimed or plan
        found = self._plans.get(id(untimed))
        if found is None:
            if len(self._plans) >= PIECE_LIMIT:
                self._plans.clear()
            found = self._plans[id(untimed)] = (untimed, line_bytes(untimed_plan_json(untimed))[1:-1])
        time = self._times.get(id(plan.timed))
        if time is None:
            if len(self._times) >= PIECE_LIMIT:
                self._times.clear()
            time = self._times[id(plan.timed)] = (plan.timed, line_bytes(plan_time_json(plan))[1:-1])
        return b'{"rank":%d,%b,%b}' % (rank, found[1], time[1])

    def _steps(self, rec: Recommendation) -> bytes:
        """render/documents.py's next_steps_json, from pieces: the tools encoded once per top
        plan, the advice once per choice of advice; the recipe line is the profile's own."""
        steps = next_steps_json(rec, with_lists=False)
        if steps is None:
            return b"null"
        best = rec.plans[0]
        tools = self._tools.get(id(best))
        if tools is None:
            if len(self._tools) >= PIECE_LIMIT:
                self._tools.clear()
            tools = self._tools[id(best)] = (best, line_bytes(grouped_tools(best)))
        key = tuple(id(a) for a in rec.evaluation)
        advice = self._advice.get(key)
        if advice is None:
            if len(self._advice) >= PIECE_LIMIT:
                self._advice.clear()
            advice = self._advice[key] = line_bytes(advice_json(rec.evaluation))
        head = line_bytes({"plan": steps["plan"], "method": steps["method"]})[:-1]
        tail = line_bytes(
            {"recipe": steps["recipe"], "recipe_note": steps["recipe_note"], "example": steps["example"]}
        )[1:-1]
        return b'%b,"tools":%b,%b,"evaluation":%b}' % (head, tools[1], tail, advice)

    def line(self, number: int, rec: Recommendation, top: int) -> bytes:
        """The recommendation's output line, as UTF-8 without its newline."""
        head = {
            "line": number,
            "schema_version": SCHEMA_VERSION,
            "profile": rec.profile,
            "notes": list(rec.notes),
        }
        plans = b",".join([self._plan(plan, rank) for rank, plan in enumerate(rec.shown(top), start=1)])
        steps = self._steps(rec)
        return b'%b,"next_steps":%b,"recommendations":[%b]}' % (line_bytes(head)[:-1], steps, plans)
