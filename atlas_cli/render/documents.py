"""Stable JSON shapes for scripts. The TypedDicts are the contract: `ft-atlas schema` derives the
published JSON Schemas from them, and mypy checks that the converters produce exactly them.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, NotRequired

from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12 (`ft-atlas schema`)

from atlas_cli.core.estimates import Breakdown, Estimate
from atlas_cli.core.plans import Plan, Recommendation, RuleHit
from atlas_cli.kb.schema import Method
from atlas_cli.kb.vocabulary import OUTPUT_SCHEMA_VERSION

if TYPE_CHECKING:
    from atlas_cli.core.resolve import ModelInfo

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


class ModelSourceJson(TypedDict):
    """Which model an estimate or a recommendation is for, and where it came from."""

    name: str
    catalog_id: str | None
    source: str  # catalog, file, cache, hub, bare size or api
    where: str | None  # the catalog id, the config.json's path, or its Hub URL
    variant: str | None
    params_b: float | None
    active_params_b: float | None
    is_moe: bool | None
    notes: list[str]
    warnings: list[str]


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
    model_source: NotRequired[ModelSourceJson]  # `estimate --method`: the model it is for


class EstimateListJson(TypedDict):
    schema_version: int
    model: str
    model_source: ModelSourceJson
    estimates: list[EstimateJson]


class ExpertsJson(TypedDict):
    routed: int
    active: int
    shared: int
    expert_intermediate_size: int
    shared_intermediate_size: int | None
    moe_layers: int
    dense_layers: int


class LatentAttentionJson(TypedDict):
    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


class ModelJson(TypedDict):
    """`ft-atlas model`: a model's shape as ft-atlas reads it, and where it came from."""

    schema_version: int
    model: ModelSourceJson
    family: str
    architecture: str
    params_b: float
    active_params_b: float
    published_params_b: float | None  # the catalog's published figure (None outside the catalog)
    layers: int
    decoder_layers: int | None
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    intermediate_size: int
    gated_mlp: bool
    vocab_size: int
    tied_embeddings: bool
    bias: str | None  # which linear layers carry biases: all-linear, qkv, attention; None: none
    experts: ExpertsJson | None
    latent_attention: LatentAttentionJson | None
    weights_dtype: str
    context_length: int | None
    repo: str | None  # what a recipe loads: a Hub id or a local directory


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


def dumps(data: Any, ascii_only: bool = False) -> str:
    return json.dumps(data, ensure_ascii=ascii_only, indent=2)


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


def model_source_json(info: ModelInfo) -> ModelSourceJson:
    return {
        "name": info.label,
        "catalog_id": info.model_id,
        "source": info.source,
        "where": info.where,
        "variant": info.variant,
        "params_b": info.params_b,
        "active_params_b": info.active_params_b,
        "is_moe": info.is_moe,
        "notes": list(info.notes),
        "warnings": list(info.warnings),
    }


def model_json(info: ModelInfo) -> ModelJson:
    """A sized model's document (an API model has no shape: the caller refuses it)."""
    m, shape = info.spec, info.sized
    assert m is not None  # every sized model carries its LlmModel
    moe, mla = m.moe, m.latent_attention
    experts: ExpertsJson | None = None
    if moe is not None:
        experts = {
            "routed": moe.experts,
            "active": moe.active,
            "shared": moe.shared_experts,
            "expert_intermediate_size": moe.intermediate_size,
            "shared_intermediate_size": moe.shared_intermediate_size,
            "moe_layers": m.layers + (m.decoder_layers or 0) - moe.dense_layers,
            "dense_layers": moe.dense_layers,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_source_json(info),
        "family": m.family,
        "architecture": m.architecture,
        "params_b": round(shape.params / 1e9, 3),
        "active_params_b": round(shape.active_params / 1e9, 3),
        "published_params_b": m.params_b if info.source == "catalog" else None,
        "layers": m.layers,
        "decoder_layers": m.decoder_layers,
        "hidden_size": m.hidden_size,
        "attention_heads": m.attention_heads,
        "kv_heads": m.kv_heads,
        "head_dim": m.head_dim or m.hidden_size // m.attention_heads,
        "intermediate_size": m.intermediate_size,
        "gated_mlp": m.gated_mlp,
        "vocab_size": m.vocab_size,
        "tied_embeddings": m.tied_embeddings,
        "bias": m.bias_scope if m.has_bias else None,
        "experts": experts,
        "latent_attention": None
        if mla is None
        else {
            "q_lora_rank": mla.q_lora_rank,
            "kv_lora_rank": mla.kv_lora_rank,
            "qk_nope_head_dim": mla.qk_nope_head_dim,
            "qk_rope_head_dim": mla.qk_rope_head_dim,
            "v_head_dim": mla.v_head_dim,
        },
        "weights_dtype": m.weights_dtype,
        "context_length": m.context_length,
        "repo": info.repo,
    }
