"""Batch mode's output line, assembled from pieces encoded once.

Every line of a batch repeats the same few plans; encoding each plan once and joining the pieces
is several times faster than `json.dumps` of the whole document. The line is byte-identical to
the compact `json.dumps` of `{"line": N, **recommendation_json(rec, top, explain=False)}`
with line-breaking characters escaped (`escape_breaks`; tests/test_batch.py checks this over a
grid of profiles), and each plan's pieces come from render/documents.py, the one definition of
the document.
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


def dumps_line(data: Any) -> str:
    """Compact JSON, as every batch line is written: one record is exactly one line, also for
    readers that split lines at U+2028 or U+0085 (see escape_breaks)."""
    return escape_breaks(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


class LineEncoder:
    """Encodes recommendations as JSON lines, remembering the encoding of every repeated piece."""

    def __init__(self) -> None:
        # The engine hands out one untimed plan object for every profile that leads to the same
        # plan, and one time object for every amount of data; each is kept in its entry so that
        # its id cannot be reused while the entry lives.
        self._plans: dict[int, tuple[Plan, str]] = {}
        self._times: dict[int, tuple[Timed, str]] = {}
        # next_steps pieces: the top plan's tools (the plan kept alive in the entry), and the
        # evaluation advice chosen (by the ids of the KB's advice entries, which live as long).
        self._tools: dict[int, tuple[Plan, str]] = {}
        self._advice: dict[tuple[int, ...], str] = {}

    def _plan(self, plan: Plan, rank: int) -> str:
        """The pieces of render/documents.py's plan_json, the one definition of the document:
        its untimed fields, then its time fields, each encoded once."""
        untimed = plan.untimed or plan
        found = self._plans.get(id(untimed))
        if found is None:
            if len(self._plans) >= PIECE_LIMIT:
                self._plans.clear()
            found = self._plans[id(untimed)] = (untimed, dumps_line(untimed_plan_json(untimed))[1:-1])
        time = self._times.get(id(plan.timed))
        if time is None:
            if len(self._times) >= PIECE_LIMIT:
                self._times.clear()
            time = self._times[id(plan.timed)] = (plan.timed, dumps_line(plan_time_json(plan))[1:-1])
        return f'{{"rank":{rank},{found[1]},{time[1]}}}'

    def _steps(self, rec: Recommendation) -> str:
        """render/documents.py's next_steps_json, from pieces: the tools encoded once per top
        plan, the advice once per choice of advice; the recipe line is the profile's own."""
        steps = next_steps_json(rec, with_lists=False)
        if steps is None:
            return "null"
        best = rec.plans[0]
        tools = self._tools.get(id(best))
        if tools is None:
            if len(self._tools) >= PIECE_LIMIT:
                self._tools.clear()
            tools = self._tools[id(best)] = (best, dumps_line(grouped_tools(best)))
        key = tuple(id(a) for a in rec.evaluation)
        advice = self._advice.get(key)
        if advice is None:
            if len(self._advice) >= PIECE_LIMIT:
                self._advice.clear()
            advice = self._advice[key] = dumps_line(advice_json(rec.evaluation))
        head = dumps_line({"plan": steps["plan"], "method": steps["method"]})[:-1]
        tail = dumps_line({"recipe": steps["recipe"], "example": steps["example"]})[1:-1]
        return f'{head},"tools":{tools[1]},{tail},"evaluation":{advice}}}'

    def line(self, number: int, rec: Recommendation, top: int) -> str:
        head = {
            "line": number,
            "schema_version": SCHEMA_VERSION,
            "profile": rec.profile,
            "notes": list(rec.notes),
        }
        encoded = dumps_line(head)
        plans = ",".join(self._plan(plan, rank) for rank, plan in enumerate(rec.shown(top), start=1))
        steps = self._steps(rec)
        return f'{encoded[:-1]},"next_steps":{steps},"recommendations":[{plans}]}}'
