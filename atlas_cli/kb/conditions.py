"""The rule condition language: `all` / `any` / `not` over `{fact, op, value}` comparisons.

A condition's form is told by the behaviour class its records and models share (kb/behaviour.py),
so that a condition built with the models compiles as one decoded from a cached KB does.

Conditions are compiled once into Python functions. A missing or null fact makes an ordering
comparison false (an unknown example count is neither "< 1000" nor ">= 1000").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atlas_cli.kb.behaviour import AllOfBehaviour, AnyOfBehaviour, ComparisonBehaviour, NotOfBehaviour
from atlas_cli.kb.records import Comparison, Condition

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]

_ORDERING = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _always(_: Facts) -> bool:
    return True


class _Source:
    """Python source for a condition. Fact names are written as string literals (repr of a str
    is always a plain literal); values are never written into the source, only referenced as
    constants c0, c1, ... of the namespace the code runs in."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {"_NUMBER": (int, float)}

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants) - 1}"
        self.constants[name] = value
        return name

    def comparison(self, c: Comparison) -> str:
        seen = f"f.get({c.fact!r})"
        if c.op in ("eq", "ne"):
            return f"({seen} {'==' if c.op == 'eq' else '!='} {self.constant(c.value)})"
        if c.op in ("in", "not_in"):
            options = frozenset(c.value) if isinstance(c.value, list) else frozenset([c.value])
            return f"({seen} {'in' if c.op == 'in' else 'not in'} {self.constant(options)})"
        # A missing, null or non-numeric fact is neither below nor above anything.
        return (
            f"(isinstance(_v := {seen}, _NUMBER) and not isinstance(_v, bool) "
            f"and _v {_ORDERING[c.op]} {self.constant(c.value)})"
        )

    def condition(self, condition: Condition) -> str:
        if isinstance(condition, ComparisonBehaviour):
            return self.comparison(condition)
        if isinstance(condition, AllOfBehaviour):
            return "(" + " and ".join(map(self.condition, condition.all)) + ")"
        if isinstance(condition, AnyOfBehaviour):
            return "(" + " or ".join(map(self.condition, condition.any)) + ")"
        assert isinstance(condition, NotOfBehaviour)
        return f"(not {self.condition(condition.not_)})"


def compile_condition(condition: Condition | None) -> Predicate:
    """One Python function per condition, so that evaluating a rule costs no calls per part:
    batch mode evaluates dozens of rules per profile. Rules often repeat a condition (a large
    KB has thousands), so equal conditions share one function."""
    if condition is None:
        return _always
    source = _Source()
    body = source.condition(condition)
    key = (
        body,
        tuple((type(v).__name__, tuple(v) if isinstance(v, list) else v) for v in source.constants.values()),
    )
    predicate = _compiled.get(key)
    if predicate is None:
        if len(_compiled) >= COMPILED_LIMIT:
            _compiled.clear()
        # Safe to eval: the source holds only operators, string literals and the constants' names.
        predicate = _compiled[key] = eval(f"lambda f: bool({body})", source.constants)
    return predicate


COMPILED_LIMIT = 4096
_compiled: dict[tuple[str, tuple[Any, ...]], Predicate] = {}


def comparisons(condition: Condition | None) -> list[Comparison]:
    """Every comparison in a condition, in order."""
    if condition is None:
        return []
    if isinstance(condition, ComparisonBehaviour):
        return [condition]
    if isinstance(condition, AllOfBehaviour):
        return [c for part in condition.all for c in comparisons(part)]
    if isinstance(condition, AnyOfBehaviour):
        return [c for part in condition.any for c in comparisons(part)]
    return comparisons(condition.not_)


def facts_used(condition: Condition | None) -> list[str]:
    """The fact names a condition reads, for the explanation trace."""
    return [c.fact for c in comparisons(condition)]


def facts_that_held(condition: Condition | None, facts: Facts) -> list[str]:
    """The fact names a condition that holds reads where it matters: of an `any`, only the
    branches that hold (an API user's "minimal resources" branch, not the GPU fact beside it)."""
    if isinstance(condition, AnyOfBehaviour):
        held = [part for part in condition.any if compile_condition(part)(facts)]
        return [name for part in held or condition.any for name in facts_that_held(part, facts)]
    if isinstance(condition, AllOfBehaviour):
        return [name for part in condition.all for name in facts_that_held(part, facts)]
    return facts_used(condition)
