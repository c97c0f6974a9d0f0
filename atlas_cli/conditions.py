"""The rule condition language: `all` / `any` / `not` over `{fact, op, value}` comparisons.

Conditions are compiled once into closures. A missing or null fact makes an ordering comparison
false (an unknown example count is neither "< 1000" nor ">= 1000").
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from atlas_cli.models import AllOf, AnyOf, Comparison, Condition, NotOf

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _always(_: Facts) -> bool:
    return True


def _compare(c: Comparison) -> Predicate:
    fact, value = c.fact, c.value
    if c.op == "eq":
        return lambda facts: facts.get(fact) == value
    if c.op == "ne":
        return lambda facts: facts.get(fact) != value
    if c.op in ("in", "not_in"):
        options = frozenset(value) if isinstance(value, list) else frozenset([value])
        wanted = c.op == "in"
        return lambda facts: (facts.get(fact) in options) == wanted
    order = _ORDERING[c.op]

    def ordered(facts: Facts) -> bool:
        seen = facts.get(fact)
        if seen is None or isinstance(seen, bool) or not isinstance(seen, (int, float)):
            return False
        return bool(order(seen, value))

    return ordered


def compile_condition(condition: Condition | None) -> Predicate:
    if condition is None:
        return _always
    if isinstance(condition, Comparison):
        return _compare(condition)
    if isinstance(condition, AllOf):
        parts = [compile_condition(c) for c in condition.all]
        return lambda facts: all(p(facts) for p in parts)
    if isinstance(condition, AnyOf):
        parts = [compile_condition(c) for c in condition.any]
        return lambda facts: any(p(facts) for p in parts)
    assert isinstance(condition, NotOf)
    inner = compile_condition(condition.not_)
    return lambda facts: not inner(facts)


def facts_used(condition: Condition | None) -> list[str]:
    """The fact names a condition reads, for the explanation trace."""
    if condition is None:
        return []
    if isinstance(condition, Comparison):
        return [condition.fact]
    if isinstance(condition, AllOf):
        return [f for c in condition.all for f in facts_used(c)]
    if isinstance(condition, AnyOf):
        return [f for c in condition.any for f in facts_used(c)]
    return facts_used(condition.not_)
