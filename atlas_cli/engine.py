"""Decision engine: profile -> facts -> every rule that fires -> scored, ranked, explained plans.

The rules and pipelines live in the knowledge base (data/rules.yaml); this module only evaluates
them. Every rule that matches is collected (no first-hit order), so each plan carries the full
trace of which rules fired, what they saw, and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from atlas_cli.catalog import Catalog
from atlas_cli.conditions import Facts, Predicate, compile_condition, facts_used
from atlas_cli.memory import Shape
from atlas_cli.memory import estimate as estimate_memory
from atlas_cli.models import (
    MEMORY_SCALE,
    QUALITY_SCALE,
    SPEED_SCALE,
    Estimate,
    EstimateSettings,
    MemoryModel,
    Method,
    Plan,
    Recommendation,
    Rule,
    RuleHit,
    Scalar,
    ToolRef,
)
from atlas_cli.profile import TYPICAL_DATA, Profile
from atlas_cli.resolve import Hardware, ModelInfo, resolve_hardware, resolve_model, settings_for

# What each priority weighs: (quality, speed, memory thrift).
PRIORITY_WEIGHTS = {
    "quality": (0.7, 0.1, 0.2),
    "balanced": (0.4, 0.3, 0.3),
    "cost": (0.2, 0.2, 0.6),
    "speed": (0.2, 0.6, 0.2),
}
RULE_POINTS = 0.1  # one unit of rule weight moves the raw score by this much
FIT_ORDER = {True: 0, None: 1, False: 2}


def _scale_points(value: str, scale: tuple[str, ...]) -> float:
    """Position on an ordered scale mapped to (0, 1]; 'context-dependent' counts as the middle."""
    if value not in scale:
        return 0.5
    return (scale.index(value) + 1) / len(scale)


def base_score(method: Method, priority: str) -> float:
    q, s, m = PRIORITY_WEIGHTS[priority]
    r = method.ratings
    thrift = 1 - _scale_points(r.memory, MEMORY_SCALE) + 1 / len(MEMORY_SCALE)
    return q * _scale_points(r.quality, QUALITY_SCALE) + s * _scale_points(r.speed, SPEED_SCALE) + m * thrift


def squash(raw: float) -> float:
    """Map the unbounded raw score to (0, 1) monotonically, for display and JSON."""
    return round(1 / (1 + math.exp(-4 * (raw - 0.5))), 3)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    predicate: Predicate
    reads: tuple[str, ...]


@lru_cache(maxsize=65536)
def cached_estimate(method_id: str, model: MemoryModel, shape: Shape, settings: EstimateSettings) -> Estimate:
    return estimate_memory(method_id, model, shape, settings)


class Engine:
    """Compiles a catalog's rules once; `recommend` is then a pure function of the profile."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.candidates = [m for m in catalog.kb.methods if m.kind != "objective"]
        self.rules_by_method: dict[str, list[CompiledRule]] = {m.id: [] for m in self.candidates}
        for rule in catalog.kb.rules:
            compiled = CompiledRule(
                rule, compile_condition(rule.when), tuple(dict.fromkeys(facts_used(rule.when)))
            )
            for method_id in rule.methods:
                if method_id in self.rules_by_method:
                    self.rules_by_method[method_id].append(compiled)
        self.pipelines = [(p, compile_condition(p.when)) for p in catalog.kb.pipelines]

    # --- facts ---------------------------------------------------------------------------

    def profile_facts(self, profile: Profile, hardware: Hardware, info: ModelInfo) -> dict[str, Scalar]:
        data_kind = profile.data_kind or TYPICAL_DATA[profile.goal]
        capacity = hardware.capacity_gb
        return {
            "has_gpu": hardware.has_gpu,
            "gpu": hardware.gpu_id,
            "gpus": hardware.gpus,
            "gpu_memory_gib": hardware.memory_gib,
            "vram_gb": capacity,
            "total_vram_gb": None if capacity is None else round(capacity * hardware.gpus, 2),
            "bf16": hardware.bf16,
            "model": info.model_id,
            "model_params_b": round(info.params_b, 3),
            "model_has_bias": info.shape.has_bias,
            "model_architecture": info.shape.architecture,
            "model_access": profile.model_access,
            "data_kind": data_kind,
            "data_kind_given": profile.data_kind is not None,
            "examples": profile.examples,
            "goal": profile.goal,
            "knowledge_changes": profile.knowledge_changes,
            "many_tasks": profile.many_tasks,
            "priority": profile.priority,
        }

    def choose_pipeline(self, facts: Facts) -> tuple[tuple[str, ...], str | None, str | None]:
        """The objectives a training plan runs: the highest-weight matching pipeline rule."""
        best = None
        for rule, predicate in self.pipelines:
            if predicate(facts) and (best is None or rule.weight > best.weight):
                best = rule
        if best is None:
            return ("sft",), None, None
        return tuple(best.pipeline), best.id, best.because.en

    # --- plans ---------------------------------------------------------------------------

    def _estimate(
        self,
        method: Method,
        info: ModelInfo,
        hardware: Hardware,
        pipeline: tuple[str, ...],
        model_access: str,
    ) -> tuple[Estimate | None, list[str]]:
        """The largest memory need over the plan's stages; None when no GPU will run it."""
        assert method.memory_model is not None
        if not hardware.has_gpu or model_access == "api":
            return None, []  # nothing runs on a local GPU: hosted, CPU, or not at all
        stages = pipeline if method.kind != "no-training" else ("inference",)
        worst: Estimate | None = None
        warnings: list[str] = []
        for objective in stages:
            settings, warnings = settings_for(info, hardware, objective=objective)
            result = cached_estimate(method.id, method.memory_model, info.shape, settings)
            if worst is None or result.per_gpu_gb > worst.per_gpu_gb:
                worst = result
        return worst, warnings

    def recommend(self, profile: Profile) -> Recommendation:
        hardware = resolve_hardware(self.catalog, profile.gpu, profile.vram, profile.gpus)
        info = resolve_model(self.catalog, profile.model, profile.model_size)
        facts = self.profile_facts(profile, hardware, info)
        pipeline, pipeline_rule, pipeline_because = self.choose_pipeline(facts)
        estimates = {
            m.id: self._estimate(m, info, hardware, pipeline, profile.model_access) for m in self.candidates
        }
        for method_id, (result, _) in estimates.items():
            facts[f"fits.{method_id}"] = None if result is None else result.fits
            facts[f"memory_gb.{method_id}"] = None if result is None else result.per_gpu_gb
        kept: list[tuple[float, Plan]] = []
        excluded: list[Plan] = []
        for method in self.candidates:
            result, warnings = estimates[method.id]
            raw, plan, is_excluded = self._plan(
                method, facts, pipeline, pipeline_rule, pipeline_because, result, warnings
            )
            (excluded.append(plan) if is_excluded else kept.append((raw, plan)))
        kept.sort(key=lambda item: (FIT_ORDER[item[1].fits], -item[0], item[1].method))
        notes = self._notes(profile, hardware, info, facts)
        if hardware.capacity_gb is not None and not any(plan.fits for _, plan in kept):
            notes.append(
                "Nothing fits this GPU: add GPUs (full FT and LoRA shard with ZeRO-3/FSDP), "
                "pick a smaller model, or use a hosted model with prompting or RAG."
            )
        return Recommendation(
            profile=self._normalized(profile, hardware, info),
            facts=facts,
            notes=tuple(notes),
            plans=tuple(p for _, p in kept),
            excluded=tuple(excluded),
        )

    def _plan(
        self,
        method: Method,
        profile_facts: dict[str, Scalar],
        pipeline: tuple[str, ...],
        pipeline_rule: str | None,
        pipeline_because: str | None,
        result: Estimate | None,
        warnings: list[str],
    ) -> tuple[float, Plan, bool]:
        fits = None if result is None else result.fits
        memory = None if result is None else result.per_gpu_gb
        capacity = profile_facts["vram_gb"]
        facts = dict(profile_facts)
        facts.update(
            {
                "plan.method": method.id,
                "plan.kind": method.kind,
                "plan.category": method.category,
                "plan.fits": fits,
                "plan.memory_gb": memory,
            }
        )
        hits: list[RuleHit] = []
        for compiled in self.rules_by_method[method.id]:
            if compiled.predicate(facts):
                rule = compiled.rule
                hits.append(
                    RuleHit(
                        rule.id,
                        rule.effect.action,
                        rule.effect.weight,
                        rule.because.en,
                        rule.source,
                        {name: facts.get(name) for name in compiled.reads},
                    )
                )
        raw = base_score(method, str(profile_facts["priority"]))
        reasons: list[str] = []
        caveats: list[str] = list(warnings)
        if fits is True:
            reasons.append(f"Fits: needs about {memory:g} GB per GPU of {capacity:g} GB.")
        elif fits is False:
            caveats.append(f"Does not fit: needs about {memory:g} GB per GPU, the GPU has {capacity:g} GB.")
        for hit in hits:
            if hit.action == "prefer":
                raw += hit.weight * RULE_POINTS
                if fits is False:
                    caveats.append(f"{hit.because} — but memory wins: it does not fit ({hit.source}).")
                else:
                    reasons.append(hit.because)
            elif hit.action == "avoid":
                raw -= hit.weight * RULE_POINTS
                caveats.append(hit.because)
        trains = method.kind != "no-training"
        plan_pipeline = pipeline if trains else ()
        if trains and pipeline_because:
            reasons.append(pipeline_because)
        caveats.extend(p.en for p in method.pitfalls[:2])
        rule_ids = [h.rule for h in hits]
        if trains and pipeline_rule:
            rule_ids.append(pipeline_rule)
        plan = Plan(
            method=method.id,
            name=method.name,
            kind=method.kind,
            pipeline=plan_pipeline,
            score=squash(raw),
            fits=fits,
            memory_gb=memory,
            reasons=tuple(dict.fromkeys(reasons)),
            rules=tuple(rule_ids),
            caveats=tuple(dict.fromkeys(caveats)),
            tools=self._tools(method, plan_pipeline),
            trace=tuple(hits),
            estimate=result,
        )
        return raw, plan, any(h.action == "exclude" for h in hits)

    def _tools(self, method: Method, pipeline: tuple[str, ...]) -> tuple[ToolRef, ...]:
        methods = [method, *(self.catalog.methods[o] for o in pipeline)]
        refs = (
            ToolRef(lib.library, lib.entry, lib.status)
            for m in methods
            for lib in m.libraries
            if lib.status in ("stable", "external")
        )
        return tuple(dict.fromkeys(refs))

    def _notes(self, profile: Profile, hardware: Hardware, info: ModelInfo, facts: Facts) -> list[str]:
        notes = [f"Hardware: {hardware.note}."]
        if info.template:
            notes.append(f"Model: {info.label}, assumed to have {info.template}.")
        if profile.data_kind is None:
            notes.append(
                f"--data-kind not given: assumed '{facts['data_kind']}', usual for goal '{profile.goal}'."
            )
        return notes

    def _normalized(self, profile: Profile, hardware: Hardware, info: ModelInfo) -> dict[str, Scalar]:
        normalized = profile.to_dict()
        normalized.update(
            {
                "gpu": hardware.gpu_id if hardware.has_gpu else "none",
                "vram": hardware.memory_gib,
                "gpus": hardware.gpus,
                "model": info.model_id,
                "model_size": round(info.params_b, 3),
            }
        )
        return normalized
