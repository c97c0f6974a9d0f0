"""Stable JSON shapes for scripts. The TypedDicts are the contract: `ft-atlas schema` derives the
published JSON Schemas from them, and mypy checks that the converters produce exactly them.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12 (`ft-atlas schema`)

from atlas_cli.core.estimates import Breakdown, Estimate
from atlas_cli.core.plans import Plan, Recommendation, RuleHit
from atlas_cli.kb.schema import Method
from atlas_cli.kb.vocabulary import OUTPUT_SCHEMA_VERSION

SCHEMA_VERSION = OUTPUT_SCHEMA_VERSION


class AssumptionsJson(TypedDict):
    seq_len: int
    batch_size: int
    precision: str
    optimizer: str
    gradient_checkpointing: bool
    lora_rank: int
    quant_bits: int
    gpus: int
    sharding: str
    attention: str
    gb: str


class EstimateJson(TypedDict):
    schema_version: int
    method: str
    label: str
    objective: str | None
    model_params_b: float
    trainable_params_b: float
    total_gb: float
    per_gpu_gb: float
    breakdown: Breakdown
    assumptions: AssumptionsJson
    capacity_gb: float | None
    fits: bool | None
    warnings: list[str]


class EstimateListJson(TypedDict):
    schema_version: int
    model: str
    estimates: list[EstimateJson]


class ToolJson(TypedDict):
    library: str
    entry: str


class TraceJson(TypedDict):
    rule: str
    action: str
    weight: float
    because: str
    source: str
    facts: dict[str, Any]


class PlanJson(TypedDict, total=False):
    rank: int
    method: str
    name: str
    kind: str
    pipeline: list[str]
    score: float
    fits: bool | None
    memory_gb: float | None
    reasons: list[str]
    rules: list[str]
    caveats: list[str]
    tools: list[ToolJson]
    trace: list[TraceJson]


class RecommendationJson(TypedDict, total=False):
    schema_version: int
    profile: dict[str, Any]
    notes: list[str]
    recommendations: list[PlanJson]
    excluded: list[PlanJson]
    facts: dict[str, Any]


class CompareRowJson(TypedDict):
    methods: list[str]
    label: str
    memory: str
    speed: str
    quality: str
    best_for: str
    trainable_share: str | None


class CompareJson(TypedDict):
    schema_version: int
    source: str
    rows: list[CompareRowJson]


# Characters json.dumps leaves raw that still break lines or drive a terminal: Python's
# str.splitlines() (and JavaScript before ES2019) end a line at U+0085, U+2028 and U+2029, and
# C1 controls (U+0080-U+009F) such as U+009B (CSI) are escape sequences to some terminals.
_RAW_BREAKS = re.compile("[\x7f-\x9f\u2028\u2029]")


def escape_breaks(encoded: str) -> str:
    """JSON text with those characters written as \\uXXXX escapes, as ensure_ascii would."""
    return _RAW_BREAKS.sub(lambda found: f"\\u{ord(found.group()):04x}", encoded)


def dumps(data: Any, ascii_only: bool = False) -> str:
    return escape_breaks(json.dumps(data, ensure_ascii=ascii_only, indent=2))


def write_json(data: Any) -> None:
    """Indented JSON on stdout; non-ASCII is escaped unless stdout is UTF-8."""
    utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    sys.stdout.write(dumps(data, ascii_only=not utf8) + "\n")


def estimate_json(e: Estimate, label: str, warnings: list[str]) -> EstimateJson:
    s = e.settings
    sharding = (
        f"ZeRO-3/FSDP across {s.gpus} GPUs (weights, gradients, optimizer states)"
        if s.gpus > 1 and e.memory_model != "qlora"
        else ("none: each GPU holds the full quantized model" if s.gpus > 1 else "single GPU")
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "method": e.method,
        "label": label,
        "objective": e.objective,
        "model_params_b": e.model_params_b,
        "trainable_params_b": e.trainable_params_b,
        "total_gb": e.total_gb,
        "per_gpu_gb": e.per_gpu_gb,
        "breakdown": e.breakdown.copy(),
        "assumptions": {
            "seq_len": s.seq_len,
            "batch_size": s.batch_size,
            "precision": s.precision,
            "optimizer": s.optimizer,
            "gradient_checkpointing": s.gradient_checkpointing,
            "lora_rank": s.lora_rank,
            "quant_bits": s.quant_bits,
            "gpus": s.gpus,
            "sharding": sharding,
            "attention": "memory-efficient (SDPA/flash): no s^2 attention matrix",
            "gb": "10^9 bytes",
        },
        "capacity_gb": e.capacity_gb,
        "fits": e.fits,
        "warnings": warnings,
    }


def _trace(hit: RuleHit) -> TraceJson:
    return {
        "rule": hit.rule,
        "action": hit.action,
        "weight": hit.weight,
        "because": hit.because,
        "source": hit.source,
        "facts": dict(hit.facts),
    }


def plan_json(plan: Plan, rank: int | None, trace: tuple[RuleHit, ...] | None) -> PlanJson:
    """A plan's document; with `trace` (--explain), the rules that fired and what they saw."""
    out: PlanJson = {
        "method": plan.method,
        "name": plan.name,
        "kind": plan.kind,
        "pipeline": list(plan.pipeline),
        "score": plan.score,
        "fits": plan.fits,
        "memory_gb": plan.memory_gb,
        "reasons": list(plan.reasons),
        "rules": list(plan.rules),
        "caveats": list(plan.caveats),
        "tools": [{"library": t.library, "entry": t.entry} for t in plan.tools],
    }
    if rank is not None:
        out = {"rank": rank, **out}
    if trace is not None:
        out["trace"] = [_trace(h) for h in trace]
    return out


def recommendation_json(rec: Recommendation, top: int, explain: bool) -> RecommendationJson:
    out: RecommendationJson = {
        "schema_version": SCHEMA_VERSION,
        "profile": rec.profile,
        "notes": list(rec.notes),
        "recommendations": [
            plan_json(p, i, rec.trace(p) if explain else None) for i, p in enumerate(rec.plans[:top], start=1)
        ],
    }
    if explain:
        out["excluded"] = [plan_json(p, None, rec.trace(p)) for p in rec.excluded]
        out["facts"] = dict(rec.facts)
    return out


def method_json(method: Method) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "method": method.model_dump(mode="json")}
