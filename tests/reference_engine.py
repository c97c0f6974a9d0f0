"""The engine's documented semantics, evaluated the slow, obvious way: every rule, for every
candidate, with a condition interpreter instead of compiled functions, bit masks and memos.
tests/test_engine.py checks that the real engine ranks, scores and excludes exactly as this does."""

from __future__ import annotations

import math
from typing import Any

from atlas_cli.core.engine import (
    FIT_ORDER,
    HOST_RAM_STEP_GB,
    OFFLOAD_ORDER,
    RULE_POINTS,
    TIE_RATIO,
    base_score,
    squash,
)
from atlas_cli.core.plans import Recommendation

# The forms a condition takes, as the models and the records both have them (tests build either).
from atlas_cli.kb.behaviour import AllOfBehaviour as AllOf
from atlas_cli.kb.behaviour import AnyOfBehaviour as AnyOf
from atlas_cli.kb.behaviour import NotOfBehaviour as NotOf
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import Rule

SIGN = {"prefer": 1.0, "avoid": -1.0, "exclude": 0.0}


def holds(condition: Any, facts: dict[str, Any]) -> bool:
    """The condition language as docs/rules.md defines it."""
    if condition is None:
        return True
    if isinstance(condition, AllOf):
        return all(holds(c, facts) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(holds(c, facts) for c in condition.any)
    if isinstance(condition, NotOf):
        return not holds(condition.not_, facts)
    seen, value = facts.get(condition.fact), condition.value
    if condition.op in ("in", "not_in"):
        options = value if isinstance(value, list) else [value]
        return (seen in options) == (condition.op == "in")
    if condition.op in ("eq", "ne"):
        return (seen == value) == (condition.op == "eq")
    if seen is None or isinstance(seen, bool) or not isinstance(seen, int | float):
        return False
    return {"lt": seen < value, "le": seen <= value, "gt": seen > value, "ge": seen >= value}[condition.op]


def rank_plainly(catalog: Catalog, rec: Recommendation, priority: str) -> dict[str, Any]:
    """From the facts the engine published: each candidate's fired rules, score, exclusion, and
    the order of the plans that are kept."""
    fired: dict[str, list[Rule]] = {}
    raw: dict[str, float] = {}
    plans = {p.method: p for p in (*rec.shown(len(rec.plans)), *rec.excluded)}  # with their time
    order = {m.id: i for i, m in enumerate(catalog.kb.methods)}
    objectives = [m.id for m in catalog.kb.methods if m.kind == "objective"]
    for method in catalog.kb.methods:
        if method.id not in plans:
            continue
        plan = plans[method.id]
        # A plan at a provider is judged on the stages it runs there (ORPO: SFT, then DPO).
        stages = {f"stage.{o}": o in plan.pipeline for o in objectives} if method.runs == "hosted" else {}
        facts = {**rec.facts, **(stages if plan.pipeline else {}), **plan.own_facts()}
        fired[method.id] = [r for r in catalog.kb.rules if r.selects(method) and holds(r.when, facts)]
        points = sum(SIGN[r.effect.action] * r.effect.weight * RULE_POINTS for r in fired[method.id])
        raw[method.id] = round(base_score(method, priority) + points, 9)
    excluded = {m for m, rules in fired.items() if any(r.effect.action == "exclude" for r in rules)}
    excluded |= {m for m in fired if plans[m].over_limit is not None}  # --max-hours, --budget-usd
    measured = priority in ("cost", "speed") and any(p.time is not None for p in plans.values())

    candidates = [m for m in fired if m not in excluded]

    def runs(m: str) -> tuple[int, int, int]:
        plan = plans[m]
        # doublings of the CPU RAM an offloaded plan needs past HOST_RAM_STEP_GB (docs: engine.rank_key);
        # a plan on the GPUs alone ranks apart from the RAM it loads with
        kind = OFFLOAD_ORDER[plan.offload]
        ram = plan.ram_gb or 0.0 if kind else 0.0
        host = math.floor(math.log2(max(ram, HOST_RAM_STEP_GB) / HOST_RAM_STEP_GB))
        if kind == 0 or plan.fit not in ("yes", "tight"):
            return (FIT_ORDER[plan.fit], kind, host)
        # Plans that offload compete among themselves, within the margin or tight alike: by RAM
        # doublings, then optimizer states before parameters, then within the margin first.
        return (FIT_ORDER["yes"], 1 + 4 * host + 2 * (kind - 1) + FIT_ORDER[plan.fit], host)

    # When the best training plan is only tight or offloads, prompting and retrieval rank level
    # with it, by score, as does a plan that needs no GPU memory (embeddings and a classifier);
    # when no training plan runs, those that fit rank first.
    best = min((runs(m) for m in candidates if plans[m].kind != "no-training"), default=None)
    trains = best is not None and best[0] in (FIT_ORDER["yes"], FIT_ORDER["tight"])

    def level(m: str) -> tuple[int, int, int]:
        own = runs(m)
        if not trains or plans[m].kind != "no-training" or best is None:
            return own
        # ... and a tight one on the GPUs alone is lifted to an offloaded best training plan.
        lifted = best[1] != OFFLOAD_ORDER["none"] and own[:2] == (FIT_ORDER["tight"], OFFLOAD_ORDER["none"])
        return best if own < best or lifted or own[0] == FIT_ORDER[None] else own

    def fit(m: str) -> int:
        return level(m)[0]

    def standard(m: str) -> tuple[float, ...]:
        return (*level(m), -raw[m], order[m])

    if not measured:
        kept = sorted(candidates, key=standard)
    else:
        # docs/time.md: by fit, then plans the rules do not weigh against (leaving out the rules
        # the measure counts: in_measure), then by USD (or hours); a plan within 15 % of the first
        # of its run ties with it; ties by hours, themselves tied within 15 % (by GPUs when ranked by
        # hours), then score, KB order.
        def value(m: str) -> float:
            v = plans[m].usd_or_gpu_hours if priority == "cost" else plans[m].hours
            return math.inf if v is None else v

        def klass(m: str) -> tuple[int, bool]:
            advice = sum(SIGN[r.effect.action] * r.effect.weight for r in fired[m] if not r.effect.in_measure)
            return (fit(m), advice < 0)

        def hours(m: str) -> float:
            h = plans[m].hours
            return math.inf if h is None else h

        def untie(run: list[str]) -> list[str]:
            # By hours: fewer GPUs, score, KB order. By cost: runs of hours within 15 % of their
            # fastest, each by score, KB order.
            if priority != "cost":
                return sorted(run, key=lambda m: (plans[m].gpus or 0, -raw[m], order[m]))
            done: list[str] = []
            rest = sorted(run, key=lambda m: (hours(m), -raw[m], order[m]))
            while rest:
                like = [m for m in rest if hours(m) <= hours(rest[0]) * TIE_RATIO]
                done += sorted(like, key=lambda m: (-raw[m], order[m]))
                rest = rest[len(like) :]
            return done

        kept, run = [], []
        for m in sorted(candidates, key=lambda m: (*klass(m), value(m))):
            if run and (klass(run[0]) != klass(m) or value(m) > value(run[0]) * TIE_RATIO):
                kept += untie(run)
                run = []
            run.append(m)
        kept += untie(run)
    return {
        "order": kept,
        "excluded": sorted(excluded),
        "fired": {m: [r.id for r in rules] for m, rules in fired.items()},
        "scores": {m: squash(raw[m]) for m in fired},
    }
