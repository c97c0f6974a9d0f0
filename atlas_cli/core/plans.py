"""The engine's outputs: ranked plans, the rules behind them, and the recommendation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atlas_cli.core.estimates import Estimate
from atlas_cli.kb.conditions import facts_used
from atlas_cli.kb.schema import Rule, Scalar

if TYPE_CHECKING:
    from atlas_cli.core.resolve import ModelInfo


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired for a plan, with the facts it read (the explanation trace)."""

    rule: str
    action: str
    weight: float
    because: str
    source: str
    facts: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class ToolRef:
    library: str
    entry: str
    status: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A ranked candidate. Its reasons and caveats are worded on demand: batch mode scores every
    candidate but prints only the top few. A plan holds no profile facts, so one plan object
    serves every profile that leads to it (see Engine._plan)."""

    method: str
    name: str
    kind: str
    category: str
    pipeline: tuple[str, ...]
    score: float
    fits: bool | None
    memory_gb: float | None
    fired: tuple[Rule, ...]  # the rules that matched, in the order they were evaluated
    pipeline_rule: str | None
    tools: tuple[ToolRef, ...]
    estimate: Estimate | None
    capacity_gb: float | None
    pipeline_because: str | None
    warnings: tuple[str, ...]
    pitfalls: tuple[str, ...]

    @property
    def rules(self) -> tuple[str, ...]:
        ids = tuple(r.id for r in self.fired)
        return (*ids, self.pipeline_rule) if self.pipeline_rule else ids

    def own_facts(self) -> dict[str, Scalar]:
        """The candidate's facts (`plan.*`)."""
        from atlas_cli.core.facts import plan_facts

        return plan_facts(self)

    @property
    def reasons(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.fits is True:
            found.append(f"Fits: needs about {self.memory_gb:g} GB per GPU of {self.capacity_gb:g} GB.")
        if self.fits is not False:
            found.extend(r.because.en for r in self.fired if r.effect.action == "prefer")
        if self.pipeline_because:
            found.append(self.pipeline_because)
        return tuple(dict.fromkeys(found))

    @property
    def caveats(self) -> tuple[str, ...]:
        found = list(self.warnings)
        if self.fits is False:
            need, have = self.memory_gb, self.capacity_gb
            found.append(f"Does not fit: needs about {need:g} GB per GPU, the GPU has {have:g} GB.")
        for rule in self.fired:
            action, because = rule.effect.action, rule.because.en
            if action == "avoid":
                found.append(because)
            elif action == "prefer" and self.fits is False:
                found.append(f"{because} — but memory wins: it does not fit ({rule.source}).")
        found.extend(self.pitfalls)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Recommendation:
    profile: dict[str, Any]
    facts: dict[str, Scalar]
    notes: tuple[str, ...]
    plans: tuple[Plan, ...]
    excluded: tuple[Plan, ...]
    model: ModelInfo | None = None  # the resolved model (what a recipe loads, where it came from)

    def trace(self, plan: Plan) -> tuple[RuleHit, ...]:
        """Each rule that fired for the plan, with the values of the facts it read."""
        seen = {**self.facts, **plan.own_facts()}
        return tuple(
            RuleHit(
                r.id,
                r.effect.action,
                r.effect.weight,
                r.because.en,
                r.source,
                {name: seen.get(name) for name in dict.fromkeys(facts_used(r.when))},
            )
            for r in plan.fired
        )
