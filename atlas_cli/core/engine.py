"""Decision engine: profile -> facts -> every rule that fires -> scored, ranked, explained plans.

The rules and pipelines live in the knowledge base (data/rules.yaml); this module only evaluates
them. Every rule that matches is collected (no first-hit order), so each plan carries the full
trace of which rules fired, what they saw, and why.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from atlas_cli.core.estimates import Estimate, EstimateSettings, loads_quantized_shards
from atlas_cli.core.facts import Candidate, hosted_facts, method_facts, plan_facts, profile_facts, stage_facts
from atlas_cli.core.lengths import idle_gpus_note, length_notes
from atlas_cli.core.memory.estimate import (
    EXPERT_ADAPTER_MODELS,
    MAX_PROMPT,
    completion_length,
    generation_per_gpu,
    gib_to_gb,
    may_precompute_reference,
    offloads_activations,
)
from atlas_cli.core.memory.parallel import resolved_sharding
from atlas_cli.core.memory.search import (
    GPU_COUNTS,
    STRATEGIES,
    Change,
    Estimator,
    estimator,
    fitting_prompt,
    on_gpus,
    on_stack,
    shorter_prompt_note,
    with_strategy,
)
from atlas_cli.core.memory.states import plan_experts_quantized, quantized_bytes
from atlas_cli.core.nodes import GPUS_PER_NODE, node_layout
from atlas_cli.core.plans import OFFLOADED, Plan, Recommendation, ToolRef, change_text, hours_text
from atlas_cli.core.profile import FIELDS_BY_NAME, Profile, command_line, trains_classifier
from atlas_cli.core.resolve import (
    Hardware,
    ModelInfo,
    idle_options,
    on_a_mac,
    resolve_hardware,
    resolve_model,
    run_server_gpus,
    settings_for,
    strategy_warnings,
    training_stack,
    usual_seq_len,
)
from atlas_cli.core.shapes import Shape
from atlas_cli.core.throughput.plans import (
    NO_TIME,
    Epochs,
    Timed,
    TimeInputs,
    share_within_limits,
    time_and_cost,
    time_inputs,
    usual_epochs,
)
from atlas_cli.core.throughput.timing import StageTime
from atlas_cli.core.throughput.workload import MIN_STEPS
from atlas_cli.core.variants import (
    applies,
    card_rank,
    estimated_variants,
    preferred,
    variant_of,
    with_method,
    with_variant,
)
from atlas_cli.i18n import N_, language, nt, number, pt, significant, stage_label, t, translated
from atlas_cli.kb.behaviour import (
    MEMORY_SCALE,
    QUALITY_SCALE,
    SPEED_SCALE,
    AllOfBehaviour,
    MethodIndex,
    Scalar,
)
from atlas_cli.kb.catalog import SERVING, Catalog, Objective, Sampling
from atlas_cli.kb.conditions import Facts, Predicate, comparisons, compile_condition, facts_used
from atlas_cli.kb.facts import PLAN_FACTS
from atlas_cli.kb.heap import collector_paused
from atlas_cli.kb.records import (
    Advice,
    AllOf,
    Condition,
    Gpu,
    LibraryEntry,
    Method,
    PipelineRule,
    Pitfall,
    Rule,
    Variant,
)
from atlas_cli.kb.vocabulary import (
    DEFAULT_PIPELINE,
    DEFAULT_TOP,
    FIT_MARGIN,
    NO_CLASSIFIER_STACKS,
    NO_DEEPSPEED_STACKS,
    OPTIMIZERS,
    STACK_OPTIMIZERS,
)

# What each priority weighs: (quality, speed, memory thrift).
PRIORITY_WEIGHTS = {
    "quality": (0.7, 0.1, 0.2),
    "balanced": (0.4, 0.3, 0.3),
    "cost": (0.2, 0.2, 0.6),
    "speed": (0.2, 0.6, 0.2),
}
RULE_POINTS = 0.1  # one unit of rule weight moves the raw score by this much
EFFECT_SIGN = {"prefer": 1.0, "avoid": -1.0}  # exclude removes the plan instead
FIT_ORDER = {"yes": 0, "tight": 1, None: 2, "no": 3}  # unknown (no capacity) before "does not fit"
OFFLOAD_ORDER = {None: 0, "none": 0, "optimizer": 1, "params": 2}
# The priorities whose plans train without gradient checkpointing where they still fit (MemoryKey).
UNCHECKED_PRIORITIES = frozenset({"cost", "speed"})
CHECKING_EXAMPLES = 10_000  # the nominal data checking_inputs times both ways
HOST_RAM_STEP_GB = 64  # offloaded plans: one rank step per doubling of the CPU RAM they need past it
# Resolved hardware/models (with every candidate's memory estimates, ~50 KB each) and plans are
# remembered between the profiles of a batch; past this many entries a memo starts afresh, so
# memory stays flat whatever the input.
MEMO_LIMIT = 256
PLAN_MEMO_LIMIT = 4096
ESTIMATE_MEMO_LIMIT = 4096


def _scale_points(value: str, scale: tuple[str, ...]) -> float:
    """Position on an ordered scale mapped to (0, 1]; 'context-dependent' counts as the middle."""
    if value not in scale:
        return 0.5
    return (scale.index(value) + 1) / len(scale)


def base_score(method: Method, priority: str) -> float:
    """The score a plan starts from: the method's ratings (the guide's §4, with ft-atlas's cited
    corrections applied: `scoring` in data/methods.yaml) weighted by the priority."""
    q, s, m = PRIORITY_WEIGHTS[priority]
    r = method.scored_ratings
    thrift = 1 - _scale_points(r.memory, MEMORY_SCALE) + 1 / len(MEMORY_SCALE)
    return q * _scale_points(r.quality, QUALITY_SCALE) + s * _scale_points(r.speed, SPEED_SCALE) + m * thrift


def basis(method: Method, priority: str) -> tuple[str, str]:
    """The base score in words, with its source: what --explain shows first for every plan."""
    r = method.scored_ratings
    q, s, m = PRIORITY_WEIGHTS[priority]
    words = t(
        "Starts from its ratings memory {memory}, speed {speed}, quality {quality}, weighted for "
        "priority {priority} (quality {q:g}, speed {s:g}, memory {m:g}): {score:.3f}.",
        memory=pt("memory", r.memory),
        speed=pt("speed", r.speed),
        quality=pt("quality", r.quality),
        priority=pt("priority", priority),
        q=q,
        s=s,
        m=m,
        score=base_score(method, priority),
    )
    if method.scoring is None:
        return words, "atlas-v1.4 §4" if method.kind != "objective" else "data/methods.yaml"
    return (
        t(
            "{words} ft-atlas corrects the guide's table here: {because}",
            words=words,
            because=method.scoring.because.get(),
        ),
        translated(method.scoring.source),
    )


def squash(raw: float) -> float:
    """Map the unbounded raw score to (0, 1) monotonically, for display and JSON. Shown with three
    decimals, kept inside (0, 1): a plan that many rules weigh against shows 0.001, never 0 (the
    order still follows the raw score)."""
    return min(max(round(1 / (1 + math.exp(-4 * (raw - 0.5))), 3), 0.001), 0.999)


class CompiledRule(NamedTuple):
    rule: Rule
    predicate: Predicate
    per_plan: bool  # reads the candidate's own facts: evaluated for each plan, not once
    points: float  # what firing adds to the raw score
    excludes: bool
    in_measure: bool  # said by the measure --priority cost|speed ranks by: not advice then (Effect)
    # A per-plan rule whose condition is `all` of parts, some reading only profile facts: those
    # parts, checked once per profile (Engine.guards); when they fail the rule is not evaluated
    # for any plan.
    guard: Condition | None = None


# A rule's place in its method's list of rules (Engine.rule_bits), and the rule.
RulePlace = tuple[int, CompiledRule]


def _place(entry: RulePlace) -> int:
    return entry[0]


def _reads_plan(condition: Condition) -> bool:
    return any(name.startswith("plan.") for name in facts_used(condition))


def _names(method: Method, library: str) -> bool:
    return any(lib.library == library for lib in method.libraries)


def _not_vendor_only(lib: LibraryEntry) -> bool:
    """Sort key: False (first) for an entry only for some GPU vendor (mlx-lm: gpu_vendor = apple),
    not for one that leaves a vendor out (8-bit AdamW: not on Apple silicon)."""
    return not any(c.fact == "gpu_vendor" and c.op == "eq" for c in comparisons(lib.when))


def compile_rule(rule: Rule) -> CompiledRule:
    per_plan = rule.when is not None and _reads_plan(rule.when)
    points = EFFECT_SIGN.get(rule.effect.action, 0.0) * rule.effect.weight * RULE_POINTS
    guard: Condition | None = None
    if per_plan and isinstance(rule.when, AllOfBehaviour):
        profile_parts = [part for part in rule.when.all if not _reads_plan(part)]
        if profile_parts:
            # The parts were validated with the rule.
            guard = AllOf(all=profile_parts)
    predicate = compile_condition(rule.when)
    return CompiledRule(
        rule, predicate, per_plan, points, rule.effect.excludes, rule.effect.in_measure, guard
    )


def rules_leaving_out(catalog: Catalog, method_ids: Iterable[str], facts: Facts) -> dict[str, list[Rule]]:
    """The rules that leave each method out, judged from `facts` alone (`estimate`, which has a
    profile and an objective but no pipeline or plan): a rule that reads a fact not known there is
    not judged."""
    index = MethodIndex(catalog.kb.methods)
    wanted = set(method_ids)
    found: dict[str, list[Rule]] = {m: [] for m in method_ids}
    for rule in catalog.kb.rules:
        if not rule.effect.excludes or any(facts.get(name) is None for name in facts_used(rule.when)):
            continue
        chosen = [m.id for m in index.select(rule.methods) if m.id in wanted]
        if chosen and compile_condition(rule.when)(facts):
            for method_id in chosen:
                found[method_id].append(rule)
    return found


class Checks:
    """Conditions over profile facts evaluated into a bit mask (bit i: the i-th holds),
    remembered by the values of the facts they read: batch files repeat the same few.

    The conditions that read the amount of data (AMOUNT_FACTS) are remembered apart from the
    others: a sweep changes the amount on every line, and a key holding it would make every line
    miss, re-evaluating every condition (~100 of the shared rules) where a handful read it."""

    def __init__(self, conditions: list[Condition | None]) -> None:
        stable: list[tuple[int, Condition | None]] = []
        amount: list[tuple[int, Condition | None]] = []
        for i, c in enumerate(conditions):
            (amount if AMOUNT_FACTS.intersection(facts_used(c)) else stable).append((1 << i, c))
        self._groups = [_CheckGroup(group) for group in (stable, amount) if group]

    def mask(self, facts: Facts) -> int:
        found = 0
        for group in self._groups:
            found |= group.mask(facts)
        return found


# Profile facts that follow the amount of data, which a sweep varies line by line (Checks).
AMOUNT_FACTS = frozenset({"examples", "dataset_tokens_b"})


class _CheckGroup:
    """Some of a Checks' conditions, each with its bit, remembered by the facts they read."""

    def __init__(self, conditions: list[tuple[int, Condition | None]]) -> None:
        self.predicates = [(bit, compile_condition(c)) for bit, c in conditions]
        self.reads = tuple(dict.fromkeys(name for _, c in conditions for name in facts_used(c)))
        self._memo: dict[tuple[Any, ...], int] = {}

    def mask(self, facts: Facts) -> int:
        key = tuple(map(facts.get, self.reads))
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= PLAN_MEMO_LIMIT:
                self._memo.clear()
            found = 0
            for bit, holds in self.predicates:
                if holds(facts):
                    found |= bit
            self._memo[key] = found
        return found


class Scored(NamedTuple):
    rank: tuple[float, ...]  # the sort key: fit first, then by priority (see rank_key)
    plan: Plan
    excluded: bool
    # What the rules that fired add to the score, less those a measure counts (Effect.in_measure):
    # below 0, they weigh against the plan.
    advice: float
    timed: Timed = NO_TIME  # set when time ranks or excludes plans (cost, speed, limits)


# --priority cost and speed rank by USD (GPU-hours without a price) and by hours. Estimates of
# different methods within 15 % of each other are not told apart (the calibration's spread is
# larger): such plans tie, and the tie goes to fewer GPUs, then to the score.
TIE_RATIO = 1.15
# --priority balanced: a plan this many times faster than the first, for no more money, is named
# (_faster_plan_note); past the ~1.5x spread of one estimate, the same time model's estimates of two
# plans on one machine err alike.
FASTER_WORTH_SAYING = 1.5
LEAST_SAVING_HOURS = 1 / 6  # ... and saves at least 10 minutes (a review: "<1 min against <1 min")
# ... and one that takes this many times the hours of a plan ranked below it, for no less money,
# ranks below that plan (slow_plans_demoted): an order of magnitude is past any score's worth.
SLOWER_BY_FAR = 10.0
MEASURED_PRIORITIES = {"cost", "speed"}
# Why a plan takes fewer of the GPUs without --priority cost (Engine._fastest_count).
OVER_THE_LIMITS_ON_ALL = N_(
    "On {used} of your {gpus} GPUs: on all {gpus} it would be over --max-hours/--budget-usd."
)
SLOWER_ON_ALL = N_(
    "On {used} of your {gpus} GPUs: all {gpus} would take {slower} where these take {faster}, as the "
    "traffic between them would outweigh their compute."
)
# --priority quality or balanced: a variant its method ranks after the one that fits on all the
# GPUs (pure bf16 after mixed precision, 8-bit AdamW after AdamW) is taken for its speed only this
# many times faster (expert reviews: quality took 8-bit AdamW on 4 RTX 4090s to save 7 minutes, and
# balanced took pure bf16 with torchao's optimizer on 8 A100s for 25 %); speed takes the fastest.
FIRST_VARIANT_GAIN = 1.5
FIRST_VARIANT_SLOWER = N_(
    "{label} fits on your {gpus} GPUs too, but would take {slower} where this takes {faster}."
)
FIRST_VARIANT_OVER_THE_LIMITS = N_(
    "{label} fits on your {gpus} GPUs too, but would be over --max-hours/--budget-usd."
)
NO_FASTER_ON_ALL = N_(
    "On {used} of your {gpus} GPUs: all {gpus} would take about as long ({slower} against {faster}), so "
    "the others stay free."
)
# --priority cost on several GPUs: one plan on GPU counts whose costs are within 5 % of the least
# is taken on the fastest of them (8x faster for 0.7 % more is what a practitioner picks); past
# that, the cheaper count (LoRA of a 70B on 4 of 8 H100s, 12 % less than on 8, though slower).
# Other priorities take the fastest count, counts within 5 % of it tying to fewer GPUs.
GPU_COUNT_TIE = 1.05
T = TypeVar("T")


def fewer_gpu_counts(gpus: int) -> Iterator[int]:
    """1, 2, 4, ... below `gpus`: the counts a plan on several GPUs is also tried on."""
    count = 1
    while count < gpus:
        yield count
        count *= 2


def fastest_within_tie(timed: Sequence[tuple[float, T]]) -> tuple[float, T] | None:
    """Of (hours, option) pairs, fewest GPUs first, the first within GPU_COUNT_TIE of the fastest;
    None when none is timed."""
    fastest = min((hours for hours, _ in timed), default=math.inf)
    if not math.isfinite(fastest):
        return None
    return next(pair for pair in timed if pair[0] <= fastest * GPU_COUNT_TIE)


def rank_key(plan: Plan, raw: float, order: int) -> tuple[float, ...]:
    """Plans that fit first, then tight ones; those on the GPUs alone before those that offload;
    then by score; ties keep the KB's order. Plans that offload to CPU RAM (only where no training
    plan fits on the GPUs alone: Engine._memory) compete among themselves, within the margin or
    tight alike, by offload_rank. (An expert's review: a partial fine-tune within the margin at
    571 GB of RAM ranked above QLoRA, tight at 141 GB and twice as fast, on two RTX 3090s.)"""
    kind = OFFLOAD_ORDER[plan.offload]
    host = int(math.log2(max(plan.ram_gb or 0.0, HOST_RAM_STEP_GB) / HOST_RAM_STEP_GB)) if kind else 0
    if kind and plan.fit in ("yes", "tight"):
        return (FIT_ORDER["yes"], offload_rank(host, kind, FIT_ORDER[plan.fit]), host, -raw, order)
    return (FIT_ORDER[plan.fit], kind, host, -raw, order)


def offload_rank(host: int, kind: int, fit: int) -> int:
    """An offloading plan's place among those that offload (always past 0, the GPUs alone): by the
    doublings of CPU RAM it needs past HOST_RAM_STEP_GB (half the RAM ranks first; needs a few GB
    apart tie), then optimizer states before parameters, then within the margin before tight."""
    return 1 + 4 * host + 2 * (kind - 1) + fit


def measure(timed: Timed, priority: str) -> float:
    """What --priority cost|speed ranks a plan by (infinite when unknown)."""
    value = timed.usd_or_gpu_hours if priority == "cost" else timed.hours
    return math.inf if value is None else value


def tied_groups(scored: list[Scored], priority: str) -> list[list[Scored]]:
    """Plans in order of fit, then of rule advice, then of measure; a plan within TIE_RATIO of
    its group's first joins that group."""

    keyed = sorted(
        (((s.rank[0], s.advice < 0, measure(s.timed, priority)), s) for s in scored), key=lambda pair: pair[0]
    )
    groups: list[list[Scored]] = []
    head: tuple[float, ...] = ()
    for key, s in keyed:
        if head and head[:2] == key[:2] and key[2] <= head[2] * TIE_RATIO:
            groups[-1].append(s)
        else:
            head = key
            groups.append([s])
    return groups


def time_notes(
    kept: list[Scored],
    excluded: list[Scored],
    profile: Profile,
    other_ways: Callable[[Scored], list[str]] | None = None,
) -> list[str]:
    """How --priority cost|speed ranked, by how much the first plan wins, and what the limits
    excluded; when none is left, what would fit them: less data, or (`other_ways`: notes on a plan
    the limits excluded) more GPUs or faster sampling."""
    notes = []
    # Compared within the first plan's fit, and never between plans that do not fit at all.
    measured = [
        s for s in kept if s.timed.time is not None and s.plan.kind != "no-training" and s.plan.fit != "no"
    ]
    measured = [s for s in measured if s.rank[0] == measured[0].rank[0]] if measured else []
    if profile.priority in MEASURED_PRIORITIES and len(measured) >= 2:
        first, second = measured[0], measured[1]
        cost = profile.priority == "cost"
        a, b = measure(first.timed, profile.priority), measure(second.timed, profile.priority)
        if math.isfinite(a) and math.isfinite(b) and b > 0:
            figures = {
                "first": translated(first.plan.name),
                "a": _measure(a, cost, first.timed),
                "second": translated(second.plan.name),
                "b": _measure(b, cost, second.timed),
            }
            if b > a * TIE_RATIO:
                comparison = t(
                    "{first} needs {a}, {percent} % less than {second} ({b})",
                    percent=round(100 * (1 - a / b)),
                    **figures,
                )
            else:
                tie = (
                    N_(
                        "{first} needs {a} and {second} {b}: within {percent} %, a tie that the hours, "
                        "themselves tied within {percent} %, then the score, decide"
                    )
                    if cost
                    else N_(
                        "{first} needs {a} and {second} {b}: within {percent} %, a tie that fewer GPUs, then "
                        "the score, decide"
                    )
                )
                comparison = t(tie, percent=round(100 * (TIE_RATIO - 1)), **figures)
            notes.append(
                t(
                    "--priority {priority}: training plans are ranked by {unit} within each fit (plans the "
                    "rules weigh against come after); {comparison}.",
                    priority=profile.priority,
                    unit=pt("ranked by", "cost") if cost else pt("ranked by", "hours"),
                    comparison=comparison,
                )
            )
    if profile.examples is None and any(s.plan.kind != "no-training" for s in kept):
        limited = profile.max_hours is not None or profile.budget_usd is not None
        notes.append(
            t(
                # A newcomer's review: --max-hours 0.001 kept every plan without a word.
                "--max-hours/--budget-usd check nothing without --examples: give it (and "
                "--tokens-per-example, --epochs) for training time and cost."
            )
            if limited
            else t("Give --examples (and --tokens-per-example, --epochs) for training time and cost.")
        )
    # A provider's service bills a hosted plan: the limits cannot judge it (a review read one as
    # within --budget-usd).
    unchecked = [
        translated(s.plan.name) for s in kept if s.plan.runs == "hosted" and s.plan.kind != "no-training"
    ]
    if unchecked and (profile.max_hours is not None or profile.budget_usd is not None):
        notes.append(
            t(
                "{plans}: the provider's service runs and bills it, so --max-hours/--budget-usd do not "
                "check it; compare with its price list.",
                plans=", ".join(unchecked),
            )
        )
    notes += _band_past_limits(kept, profile) + _unpriced_budget_note(kept, profile)
    notes += _untimed_limits_note(kept, profile)
    # A plan a rule left out (BitFit without biases) is not one the limits excluded.
    over = [s for s in excluded if s.timed.over_limit is not None and not _excluded_by_rule(s)]
    if over:
        notes.append(
            nt(
                "{count} plan excluded by --max-hours/--budget-usd: {plans} (--explain lists them).",
                "{count} plans excluded by --max-hours/--budget-usd: {plans} (--explain lists them).",
                len(over),
                count=len(over),
                plans="; ".join(f"{translated(s.plan.name)} {s.timed.over_limit}" for s in over[:3])
                + ("" if len(over) <= 3 else "; ..."),
            )
        )
        # Only a hosted plan left (its time is the provider's) counts as none left.
        training = [s for s in kept if s.plan.kind != "no-training" and s.timed.time is not None]
        only_over = [s for s in over if _only_over_limit(s)]
        inputs = time_inputs(profile)

        def fitted(chosen: tuple[float, Scored] | None, why: str) -> list[str]:
            ways = [] if chosen is None or other_ways is None else other_ways(chosen[1])
            return _within_limits_note(chosen, profile, why) + ways

        if not training:
            nearest = _nearest(only_over, inputs)
            notes += fitted(nearest, "nearest")
            # The nearest may be a weak method (soft prompts for chat): the best one's share too.
            top = min(only_over, key=lambda s: s.rank, default=None)
            if nearest is not None and top is not None and top is not nearest[1]:
                notes += fitted(_nearest([top], inputs), "best")
        else:
            # A plan the limits excluded that scores above every one kept: how it would fit them.
            best = max(s.plan.score for s in training)
            better = [s for s in only_over if s.plan.score > best]
            if better:
                top = max(better, key=lambda s: s.plan.score)
                notes += fitted(_nearest([top], inputs), "better_than_kept")
    return notes


def _band_past_limits(kept: list[Scored], profile: Profile) -> list[str]:
    """The limits judge each plan's central estimate; where the best-ranked plan's band reaches
    past them, it is named with how far (a review: "2.2-5.6 h" kept under --max-hours 4, with no
    word on it), and how many other plans do the same."""
    reaching = [(s, past) for s in kept if (past := _past_limits(s, profile))]
    if not reaching:
        return []
    (first, past), others = reaching[0], len(reaching) - 1
    return [
        nt(
            "--max-hours/--budget-usd are checked against each plan's central estimate: {plan}'s band "
            "reaches {figures} (and so does {others} other plan's); keep a margin if the limit is hard.",
            "--max-hours/--budget-usd are checked against each plan's central estimate: {plan}'s band "
            "reaches {figures} (and so do {others} other plans'); keep a margin if the limit is hard.",
            others,
            plan=translated(first.plan.name),
            figures=", ".join(past),
            others=others,
        )
        if others
        else t(
            "--max-hours/--budget-usd are checked against each plan's central estimate: {plan}'s band "
            "reaches {figures}; keep a margin if the limit is hard.",
            plan=translated(first.plan.name),
            figures=", ".join(past),
        )
    ]


def _unpriced_budget_note(kept: list[Scored], profile: Profile) -> list[str]:
    """No price: the budget cannot judge a plan (a review saw 4.4 GPU-hours kept under $1)."""
    unpriced = [
        translated(s.plan.name)
        for s in kept
        if _trains_here(s) and s.timed.cost is not None and s.timed.cost.usd is None
    ]
    if not unpriced or profile.budget_usd is None:
        return []
    return [
        t(
            "--budget-usd {usd:,.12g}: no price per GPU-hour for {plans} (their cost is in GPU-hours), "
            "so the budget does not check them; give --price-per-hour to apply it.",
            usd=profile.budget_usd,
            plans=", ".join(unpriced),
        )
    ]


def _untimed_limits_note(kept: list[Scored], profile: Profile) -> list[str]:
    """Training plans with no time (a GPU without a published peak, an Apple GPU, memory given
    alone): the limits cannot judge them, said (an expert's review saw --max-hours 1 keep an
    untimed QLoRA first without a word)."""
    if profile.examples is None or (profile.max_hours is None and profile.budget_usd is None):
        return []
    if not any(
        s.plan.runs == "local" and s.plan.kind != "no-training" and s.timed.time is None for s in kept
    ):
        return []
    return [
        t(
            "--max-hours/--budget-usd: no training time is estimated on this hardware, so the limits do "
            "not check the training plans; time a few steps before a long run."
        )
    ]


def _trains_here(s: Scored) -> bool:
    """A plan timed as training on the profile's GPUs (prompting trains nothing, and costs nothing
    to set up; a hosted plan is billed by its provider)."""
    return s.plan.runs == "local" and s.timed.time is not None and bool(s.timed.time.stages)


def _past_limits(s: Scored, profile: Profile) -> list[str]:
    """The top of a local plan's band, in hours and dollars, where it is past a limit."""
    time, cost = s.timed.time, s.timed.cost
    if not _trains_here(s) or time is None:
        return []
    past = []
    if profile.max_hours is not None and time.hours_band[1] > profile.max_hours:
        top = hours_text(time.hours_band[1])
        # 2.14 h past --max-hours 2.1 is not "2.1 h": as many decimals as tell them apart.
        if top == hours_text(profile.max_hours):
            top = t("{hours:,.2f} h", hours=time.hours_band[1])
        past.append(top)
    usd = None if cost is None or cost.usd is None else cost.high
    if profile.budget_usd is not None and usd is not None and usd > profile.budget_usd:
        past.append(f"${usd:,.2f}")
    return past


def _excluded_by_rule(s: Scored) -> bool:
    return any(rule.effect.excludes for rule in s.plan.fired)


def _only_over_limit(s: Scored) -> bool:
    """A training plan that fits in memory and that only the limits excluded: less data is
    then all it needs."""
    fits = s.plan.fit in ("yes", "tight", None)
    return s.plan.kind != "no-training" and fits and not _excluded_by_rule(s)


# The share of a plan's memory the fp32 logits must reach before a loss that never materialises
# them (Liger's fused linear cross-entropy, TRL's) is worth naming: long sequences over a
# 128k-250k vocabulary, where they are tens of GB.
LOGITS_SHARE = 0.25
# The stacks a note offers, in order: Liger's fused loss alone, then Unsloth, which also moves the
# checkpoints to CPU RAM (what long sequences need once the logits are gone).
LEANER_STACKS = ("liger", "unsloth")


def _leaner_stack_note(kept: list[Scored]) -> list[str]:
    """The best local training plan does not fit comfortably because transformers' own loss holds
    the fp32 logits: what it needs with a fused loss, which the user may not know exists."""
    local = [s.plan for s in kept if s.plan.kind != "no-training" and s.plan.estimate is not None]
    best = max(local, key=lambda plan: plan.score, default=None)  # the plan the rules rate highest
    if best is None or best.fit in ("yes", None) or best.estimate is None:
        return []
    e = best.estimate
    if e.settings.stack != "hf" or e.breakdown["logits_gb"] < LOGITS_SHARE * e.per_gpu_gb:
        return []
    run = estimator(e.method, e.memory_model, e.shape)
    leaner = (with_strategy(run, on_stack(e.settings, stack)) for stack in LEANER_STACKS)
    # Liger fuses the next-token loss only: a preference stage keeps its logits there.
    fused = (
        found for found in leaner if found.breakdown["logits_gb"] < LOGITS_SHARE * e.breakdown["logits_gb"]
    )
    lean = next((found for found in fused if found.fit in ("yes", "tight")), None)
    if lean is None or lean.per_gpu_gb >= e.per_gpu_gb:
        return []
    verdict = t("is tight") if best.fit == "tight" else t("does not fit")
    how = {
        "liger": t(
            "with --stack liger (Liger Kernel: use_liger_kernel=True in transformers, enable_liger_kernel "
            "in LLaMA-Factory) it needs {lean:g} GB; TRL's SFTTrainer does the same (--stack trl).",
            lean=lean.per_gpu_gb,
        ),
        "unsloth": t(
            "with --stack unsloth (Unsloth: its chunked cross-entropy, and checkpoints offloaded to CPU "
            "RAM, as long sequences need) it needs {lean:g} GB.",
            lean=lean.per_gpu_gb,
        ),
    }
    return [
        t(
            "{plan} {verdict} at {need:g} GB, of which {logits:g} GB are the fp32 logits that "
            "transformers' own loss materialises (--stack hf, assumed). A fused cross-entropy never "
            "builds them: {how}",
            plan=translated(best.name),
            verdict=verdict,
            need=e.per_gpu_gb,
            logits=e.breakdown["logits_gb"],
            how=how[lean.settings.stack],
        )
    ]


# Changes that keep the user's GPUs (the others: more GPUs, or a larger GPU).
MOST_GPUS_SUGGESTED = 64  # eight nodes of eight
# Plans within this factor of the fastest's hours count as as fast: the best-ranked is named.
ABOUT_AS_FAST = 1.1
# The least share of the time, and the least hours, a setting must save plan 1 for a note to name it
# (without gradient checkpointing, packed, sampling more at once): a diff review read "about <1 min
# instead of <1 min, 45 % less".
FASTER_SETTING_SAVING = 0.15
FASTER_SETTING_HOURS = 1 / 6
# The generation round a note tries beside an online plan's default: four times as many
# completions (16 a GPU become 64; TRL's own examples sample hundreds a step).
LARGER_GENERATION = 4
# The optimizer whose smaller states leave room for a mixture's expert adapters (_experts_note).
EXPERTS_LEANER_OPTIMIZER = "adamw-8bit"
SAME_HARDWARE = frozenset(
    {"seq_len", "batch_size", "gradient_checkpointing", "optimizer", "stack", "method"}
    | {"vllm", "vllm_server_gpus", "generation_batch", "activation_offloading", "quantized_experts"}
    | {"tiled_mlp"}
)
# Changes of how the profile trains that recommend takes as flags, not of what it trains on (its
# data's length, its batch, its method; --quantize-experts and --tiled-mlp are estimate's): a
# better-scored plan that fits after one of them is worth a note (_better_plan_note).
HOW_IT_TRAINS = SAME_HARDWARE - {"seq_len", "batch_size", "method", "quantized_experts", "tiled_mlp"}


def _packable_stages(e: Estimate) -> list[str]:
    """The plan's stages whose trainer packs when asked and does not by default (SFT, not DPO)."""
    objectives = [s.settings.objective for s in (e, *e.other_stages)]
    return [stage_label(o.name) for o in objectives if o.packs(True) and not o.packs(False)]


def _saving_words(saving: tuple[float, float]) -> dict[str, str | int]:
    """A faster setting's note: its hours (`after`), the plan's (`before`), and the share saved."""
    after, before = saving
    return {
        "after": hours_text(after),
        "before": hours_text(before),
        "percent": round(100 * (1 - after / before)),
    }


def _fits_with_ram(offloaded: Estimate | None, ram_gb: float | None) -> bool:
    """An offloaded plan fits on the GPUs and, where --ram gives the machine's, in its CPU RAM."""
    if offloaded is None or offloaded.fit not in ("yes", "tight"):
        return False
    return ram_gb is None or (offloaded.ram_gb or 0.0) <= ram_gb


def slow_plans_demoted(kept: list[Scored], timing: Callable[[Plan], Plan]) -> tuple[list[Scored], list[str]]:
    """Under --priority balanced, a training plan shown by default that takes SLOWER_BY_FAR times
    the hours of one ranked below it, on the same footing (fit and offload), for no less money,
    ranks below every such plan, and a note names the fastest of those it passed: the score weighs
    the methods' ratings and the rules, and a few hundredths of it are not worth ten times the time
    (an expert's review: full fine-tuning of a 70B over 100 Gb Ethernet ranked first at 32-79 days
    and $47k-117k, LoRA second at 5-13 h and $321-803). --priority quality keeps the score's order."""
    order = list(kept)
    shown = [s for s in kept[:DEFAULT_TOP] if s.plan.kind != "no-training" and s.plan.runs != "hosted"]
    timed = [(s, timing(s.plan)) for s in shown if s.plan.fit in ("yes", "tight")]
    timed = [(s, p) for s, p in timed if p.hours is not None and p.usd_or_gpu_hours is not None]

    def outpaces(fast: tuple[Scored, Plan], slow: tuple[Scored, Plan]) -> bool:
        (quick, quick_plan), (late, late_plan) = fast, slow
        hours, slow_hours = quick_plan.hours or 0.0, late_plan.hours or 0.0
        return (
            (quick.rank[0], quick.plan.offload) == (late.rank[0], late.plan.offload)
            and hours * SLOWER_BY_FAR <= slow_hours
            and (quick_plan.usd_or_gpu_hours or 0.0) <= (late_plan.usd_or_gpu_hours or 0.0)
            and slow_hours - hours >= LEAST_SAVING_HOURS
        )

    # Each move puts a plan below every plan that outpaces it, until none is above one that does
    # (a chain of three: A 100 h, B 10 h, C 1 h ends C, B, A; a diff review found A, C, B).
    moved = True
    while moved:
        moved = False
        for pair in sorted(timed, key=lambda pair: order.index(pair[0])):
            below = [f for f in timed if order.index(f[0]) > order.index(pair[0]) and outpaces(f, pair)]
            if below:
                order.remove(pair[0])
                order.insert(max(order.index(f[0]) for f in below) + 1, pair[0])
                moved = True
                break
    notes = []
    for slow, plan in sorted(timed, key=lambda pair: order.index(pair[0])):
        # the plans it now ranks below that ranked below it by score
        passed = [
            f for f in timed if kept.index(f[0]) > kept.index(slow) and order.index(f[0]) < order.index(slow)
        ]
        above = [f for f in passed if outpaces(f, (slow, plan))]
        if not above:
            continue
        quick = min((f[1] for f in above), key=lambda p: p.hours or 0.0)
        notes.append(
            t(
                "{slow} would rank above {fast} on the methods' ratings and the rules, but takes about "
                "{hours} ({cost}) against {fast_hours} ({fast_cost}), {times:.0f} times as long: it ranks "
                "below it. --priority quality ranks by the ratings and the rules alone.",
                slow=translated(plan.name),
                fast=translated(quick.name),
                hours=hours_text(plan.hours or 0.0),
                cost=_measure(plan.usd_or_gpu_hours or 0.0, True, plan.timed),
                fast_hours=hours_text(quick.hours or 0.0),
                fast_cost=_measure(quick.usd_or_gpu_hours or 0.0, True, quick.timed),
                times=(plan.hours or 0.0) / (quick.hours or 1.0),
            )
        )
    return order, notes


def _faster_plan_note(kept: list[Scored], timing: Callable[[Plan], Plan], priority: str) -> list[str]:
    """Under --priority balanced, the fastest training plan shown by default below the first, on
    the same footing, that trains in at most 1/FASTER_WORTH_SAYING of its hours for no more money:
    the score ranks by the methods' ratings and the rules, and a user weighing time and cost should
    hear it (an expert's review: on 8 RTX 4090s, LoRA of a 32B sharded over PCIe ranked first at
    10 h and $55, QLoRA second at 4.8 h and $26). Only the plans shown by default are looked at: a
    faster one further down is one the user does not see."""
    if priority != "balanced":
        return []
    trained = [
        (i, s)
        for i, s in enumerate(kept[:DEFAULT_TOP])
        if s.plan.kind != "no-training" and s.plan.runs != "hosted"
    ]
    if not trained or trained[0][1].plan.fit not in ("yes", "tight"):
        return []
    lead_position, lead = trained[0]
    first = timing(lead.plan)
    if first.hours is None or first.usd_or_gpu_hours is None:
        return []
    faster = []
    for position, s in trained[1:]:
        if s.rank[0] != lead.rank[0] or s.plan.offload != lead.plan.offload:
            continue
        plan = timing(s.plan)
        if plan.hours is None or plan.usd_or_gpu_hours is None:
            continue
        cheaper = plan.usd_or_gpu_hours <= first.usd_or_gpu_hours
        saving = first.hours - plan.hours >= LEAST_SAVING_HOURS
        if cheaper and saving and plan.hours * FASTER_WORTH_SAYING <= first.hours:
            faster.append((plan.hours, position, plan.usd_or_gpu_hours, plan))
    if not faster:
        return []
    # The best-ranked of those about as fast as the fastest (an expert's review: prompt tuning,
    # plan 5, was named over LoRA, plan 2, for 0.004 h).
    fastest = min(found[0] for found in faster)
    near = [found for found in faster if found[0] <= fastest * ABOUT_AS_FAST]
    hours, position, cost, plan = min(near, key=lambda found: found[1])
    return [
        t(
            "{name}, plan {position}, trains in about {hours} ({cost}), {percent} % less time than plan "
            "{first_position}, {first} ({first_hours}, {first_cost}); it ranks lower on the methods' "
            "ratings and the rules that fired. --priority speed or cost ranks by the time or the cost.",
            name=translated(plan.name),
            position=position + 1,
            first_position=lead_position + 1,
            hours=hours_text(hours),
            cost=_measure(cost, True, plan.timed),
            # 99.6, not "100 % less time" (a review of a 26-day plan against 2.4 h)
            percent=number(math.floor(1000 * (1 - hours / first.hours)) / 10, "g"),
            first=translated(first.name),
            first_hours=hours_text(first.hours),
            first_cost=_measure(first.usd_or_gpu_hours, True, first.timed),
        )
    ]


def _across_nodes_note(plan: Plan, profile: Profile) -> list[str]:
    """A plan on GPUs in several nodes whose micro-step waits on the links between them (the
    exchange outlasts the work; an expert's review: nothing said why 16 H100s were slower than 8).
    The ways out it names are the ones that apply: hybrid sharding where the sharded states fit
    one node, packing and --priority cost only if not already chosen."""
    e = plan.estimate
    if e is None or plan.time is None or not plan.time.stages or (plan.gpus or 1) <= GPUS_PER_NODE:
        return []
    step = max(plan.time.stages, key=lambda stage: stage.seconds).step
    work = max(step.compute + step.memory, step.launch)
    if step.communication <= work:
        return []  # the work, not the links, sets the pace
    one_node = e.settings._replace(gpus=GPUS_PER_NODE)
    fits_one_node = with_strategy(estimator(e.method, e.memory_model, e.shape), one_node).fit in (
        "yes",
        "tight",
    )
    # One node is no way here: where it is as fast and fits, the plan is already on it
    # (Engine._on_fewer_gpus); where it is only tight, slower or dearer, it is no cheaper.
    ways = []
    if fits_one_node and resolved_sharding(e.settings, e.memory_model) == "zero3":
        # Each node holds a whole sharded copy: gathers stay on NVLink, gradients alone cross nodes.
        ways.append(
            t(
                "hybrid sharding, which shards within a node and replicates across nodes, so that weights "
                "are gathered within the node and only gradients cross nodes (FSDP's HYBRID_SHARD, "
                "DeepSpeed's MiCS with mics_shard_size 8, arXiv 2205.00119; not timed here)"
            )
        )
    ways.append(t("a larger --batch-size") if profile.packing else t("--packing or a larger --batch-size"))
    if profile.priority != "cost":
        ways.append(t("--priority cost (the number of GPUs that costs least)"))
    pace = t(
        "{plan} on {gpus} GPUs spans {nodes} nodes, and the links between them set the pace: each GPU "
        "computes for {percent} % of a step and waits for weights and gradients the rest.",
        plan=translated(plan.name),
        gpus=plan.gpus,
        nodes=node_layout(plan.gpus or 1)[0],
        # DeepSpeed waits for the exchange after the work; DDP's and FSDP's overlap it. Two
        # significant digits: "0 % of a step" read as none (a review, over 100 Gb Ethernet).
        percent=significant(100 * work / (step.seconds - step.offload), 2),
    )
    return [" ".join([pace, t("Cheaper: {ways}.", ways="; ".join(ways))])]


def _activations_offloaded_note(kept: list[Scored]) -> list[str]:
    """The training plans fit only with their checkpoints in CPU RAM (Engine._activations_offloaded),
    which the profile did not ask for: say so, and what it costs."""
    offloaded = [
        s.plan for s in kept if s.plan.estimate is not None and offloads_activations(s.plan.estimate.settings)
    ]
    if not offloaded:
        return []
    return [
        t(
            "No training plan fits with its activations on the GPUs: {plan} and the others marked +N GB RAM "
            "keep gradient checkpointing's checkpoints in CPU RAM (TRL's activation_offloading, which "
            "their recipes turn on), {gb:g} GB of it, copied a layer at a time beside the compute.",
            plan=translated(offloaded[0].name),
            gb=offloaded[0].ram_gb or 0.0,
        )
    ]


def _better_plan_note(kept: list[Scored]) -> list[str]:
    """A training plan that scores above the best one that fits, and would fit after one change of
    how the profile trains (HOW_IT_TRAINS): name it (an expert's review: GRPO of a 32B on 8 H100s
    with colocated vLLM ranked BitFit first, while LoRA fits with a vLLM server on 2 of them)."""
    training = [s.plan for s in kept if s.plan.kind != "no-training" and s.plan.fit is not None]
    fitting = next((p for p in training if p.fit != "no"), None)
    if fitting is None:
        return []
    for plan in training:
        if plan.fit != "no" or plan.score <= fitting.score:
            continue
        # Every such change, not the first: Unsloth's stack came before a vLLM server, which keeps
        # the user's trainer (an expert's review).
        changes = [change_text(c) for c in plan.to_fit() if c.change in HOW_IT_TRAINS]
        if changes:
            return [
                t(
                    "{plan} scores above {fitting} ({score:.2f} against {other:.2f}) but does not fit as "
                    "asked; it fits with {change}.",
                    plan=translated(plan.name),
                    fitting=translated(fitting.name),
                    score=plan.score,
                    other=fitting.score,
                    change=t(" or ").join(changes),
                )
            ]
    return []


def _tiled_mlp_note(kept: list[Scored]) -> list[str]:
    """The training plans fit only with Unsloth's TiledMLP (Engine._activations_offloaded): say so,
    how to turn it on in Unsloth's script, and what it costs."""
    tiled = [
        s.plan
        for s in kept
        if s.plan.estimate is not None and s.plan.estimate.settings.tiled_mlp and s.plan.fit != "no"
    ]
    if not tiled:
        return []
    return [
        t(
            "No training plan fits with Unsloth's MLPs whole. What fits with its tiled MLP "
            "(FastLanguageModel.from_pretrained(..., unsloth_tiled_mlp=True)), which runs each MLP a tile "
            "of tokens at a time and again in the backward, one more MLP forward per step (counted in "
            "time): {plans}.",
            plans=", ".join(translated(p.name) for p in tiled),
        )
    ]


def _offload_note(offloaded: list[Plan], unsloth: Plan | None, largest_gib: float) -> list[str]:
    """Every training plan offloads to CPU RAM: say so, and name the ways to train on these GPUs
    alone or on more (_ways_to_fit): Llama 3.1 70B on one RTX 4090, on 4 of them. `unsloth`: the best
    plan that fits on these GPUs alone with --stack unsloth when none of the plans' own changes
    keeps the hardware (gpt-oss's QLoRA, which a rule leaves out unless Unsloth loads its 4-bit
    upload)."""
    if not offloaded:
        return []
    leanest = min(offloaded, key=lambda p: p.ram_gb or 0.0)
    head = t(
        "Nothing trains on the GPUs alone: the training plans below offload to CPU RAM and run several "
        "times slower.",
    )
    ram, states = leanest.ram_gb or 0.0, leanest.estimate.host["offload_gb"] if leanest.estimate else 0.0
    e = leanest.estimate
    if ram > states and e is not None and loads_quantized_shards(e.memory_model, e.settings):
        # The quantized base and the files it loads from stay in RAM while FSDP builds the
        # offloaded shards beside them (Estimate.ram_gb).
        head += " " + t(
            "They need at least {gb:g} GB of it: {states:g} GB of offloaded states, and the 4-bit base "
            "with a checkpoint file per process, which loading holds there while they are built.",
            gb=ram,
            states=states,
        )
    elif ram > states:
        # Loading holds the 16-bit checkpoint in RAM before it is sharded: more than is offloaded.
        head += " " + t(
            "They need at least {gb:g} GB of it: {states:g} GB of offloaded states, and the 16-bit "
            "checkpoint, which loading holds there first.",
            gb=ram,
            states=states,
        )
    else:
        head += " " + t("They need at least {gb:g} GB of it.", gb=ram)
    leaner = None if unsloth is None else (unsloth, Change("stack", "unsloth", unsloth.memory_gb or 0.0))
    ways = _ways_to_fit(offloaded, leaner, largest_gib)
    return [
        " ".join(
            [
                head,
                *([t("Without offload: {ways}.", ways=ways)] if ways else []),
            ]
        )
    ]


def _too_large_note(
    kept: list[Scored],
    on_a_mac: Callable[[Change], Change] | None = None,
    without_vllm: Callable[[], Plan | None] | None = None,
    *,
    ram_gb: float | None,
    largest_gib: float,
) -> list[str]:
    """No training plan fits, offloaded or not, while prompting does and so ranks first: name the
    changes that would let one train (a review: ORPO at 8k on two RTX 4090s ranked few-shot
    prompting first and named no change that lets a plan train). `without_vllm`: the best plan
    that fits when sampling without --vllm, whose engine holds a share of every GPU, its 16-bit
    weights and cache on each (an expert's review: GRPO of a 14B on two RTX 4090s with --vllm was
    told to use 16 GPUs, while QLoRA without vLLM fits the two). `ram_gb`: the machine's CPU RAM
    (--ram), where CPU offload is no way: the plans that offload within it would fit."""
    training = [s.plan for s in kept if s.plan.kind != "no-training" and s.plan.fit is not None]
    if not training or any(plan.fit != "no" for plan in training):
        return []
    plain = without_vllm() if without_vllm is not None else None
    leaner = None if plain is None else (plain, Change("vllm", False, plain.memory_gb or 0.0))
    ways = _ways_to_fit(training, leaner, largest_gib, on_a_mac, offload=ram_gb is None)
    ram_note = []
    if ram_gb is not None and any(c.change == "offload" for plan in training for c in plan.to_fit()):
        ram_note = [t("Offloading to CPU RAM would need more than the {ram:g} GB --ram gives.", ram=ram_gb)]
    if not ways:
        return ram_note
    note = " ".join([t("No training plan fits these GPUs. To train: {ways}.", ways=ways), *ram_note])
    e = training[0].estimate
    if e is not None and e.settings.gpus > 1 and e.settings.stack in NO_DEEPSPEED_STACKS:
        note += " " + t(
            'Unsloth can also split one model over the GPUs in one process (device_map="balanced", as '
            "its notebooks for two T4s do), each GPU holding some of the layers and computing in turn, at "
            "one GPU's speed: ft-atlas does not size that split."
        )
    return [note]


def _ways_to_fit(
    plans: list[Plan],
    leaner: tuple[Plan, Change] | None,
    largest_gib: float,
    on_a_mac: Callable[[Change], Change] | None = None,
    offload: bool = True,
) -> str:
    """The best-ranked way to train on these GPUs alone (a leaner stack, QLoRA, shorter
    sequences...) and the fewest more GPUs (up to MOST_GPUS_SUGGESTED, else the smallest larger
    GPU, or on a Mac the least unified memory whose GPU share holds it: `on_a_mac`), from the
    plans' own to_fit; `leaner`: a plan that fits after a change to the whole profile (--stack
    unsloth, or no --vllm), and that change."""
    ways: dict[bool, str] = {}
    # The best-ranked plan after the whole profile's change comes first (an expert's review: GRPO
    # of a 70B on 8 H100s with --vllm was told partial fine-tuning, where QLoRA without vLLM fits).
    if leaner is not None and leaner[0].memory_gb is not None:
        plan, change = leaner
        way = t("{plan} with {change}", plan=translated(plan.name), change=change_text(change))
        if plan.fit == "tight":
            way += t(" (tight: past the safety margin, within the card)")
        ways[True] = way
    changes = [(p, c) for p in plans for c in p.to_fit() if offload or c.change != "offload"]
    # On this hardware: the best-ranked plan's change; with more GPUs: the fewest any plan needs
    # (QLoRA on 4 rather than the best-ranked plan's partial fine-tuning on 512).
    shown = {p.method for p in plans}  # a method shown as its own plan says itself what it needs
    for plan, change in changes:
        if change.change == "method" and change.value in shown:
            continue
        if change.change not in ("gpu_memory", "gpus"):
            same = change.change in SAME_HARDWARE
            ways.setdefault(
                same, t("{plan} with {change}", plan=translated(plan.name), change=change_text(change))
            )
    # Past one rack of nodes more GPUs is no answer for whoever asks about theirs: a larger GPU is.
    more = [(p, c) for p, c in changes if c.change == "gpus" and int(c.value) <= MOST_GPUS_SUGGESTED]
    larger = [(p, c) for p, c in changes if c.change == "gpu_memory"]
    # The fewest more GPUs and the least larger GPU that exists (`largest_gib`, the catalog's):
    # whichever adds up to less GPU memory (an expert's review: a 70B's LoRA on 8 A100 40GB was
    # named where its QLoRA fits one 80 GB card); past both, a larger GPU than any made today.
    made = [(p, c) for p, c in larger if float(c.value) <= largest_gib]
    least = [min(found, key=lambda pair: float(pair[1].value)) for found in (more, made) if found]
    if not least and larger:
        least = [min(larger, key=lambda pair: float(pair[1].value))]
    if least and False not in ways:
        plan, change = min(least, key=lambda pair: _gpu_memory_needed(*pair))
        if on_a_mac is not None:
            change = on_a_mac(change)
        ways[False] = t("{plan} with {change}", plan=translated(plan.name), change=change_text(change))
    return "; ".join(ways[same] for same in (True, False) if same in ways)


def _gpu_memory_needed(plan: Plan, change: Change) -> float:
    """The GPU memory, in GB over every GPU, that a change of GPUs (more of them, or larger ones)
    takes the plan to."""
    e = plan.estimate
    if e is None:
        return math.inf
    if change.change == "gpus":
        return int(change.value) * (e.capacity_gb or 0.0)
    return gib_to_gb(int(change.value)) * e.settings.gpus


def _percent(value: float) -> str:
    """A share under 100 %: two significant digits when small (0.016 %), whole ones from 10 %
    (never rounded up to 100 %)."""
    return f"{number(value, '.2g')} %" if value < 10 else f"{math.floor(value)} %"


# Sizes below the 7B a profile without a model is sized at, that most model families come in
# (Llama 3.2 3B and 1B, Qwen2.5 3B, 1.5B and 0.5B): the largest that trains on the GPUs alone is
# named (Engine._smaller_model_note).
SMALLER_SIZES = (3.0, 1.5, 0.5)
# Room a rented card needs beyond a QLoRA base's 4-bit weights: the adapter, its optimizer states,
# activations and the CUDA context, about two fifths more at 2k tokens (Qwen3 8B QLoRA: 8.6 GB for
# 6.1 GB of 4-bit weights).
RENTED_ROOM = 1.4


def _rented_gpu_note(
    rentable: Sequence[tuple[float, Gpu]], profile: Profile, shape: Shape, left_out: Sequence[Scored]
) -> list[str]:
    """Without a GPU, where training plans were left out for it: the cheapest card of the price
    list with room for the model's 4-bit weights, and the command that plans on it (an expert's
    review: a user without a GPU and a $50 budget heard of hosted tuning and prompting only)."""
    if not any(s.plan.kind != "no-training" and s.plan.runs == "local" for s in left_out):
        return []
    quantized = shape.linear_params - shape.expert_params  # bitsandbytes leaves fused experts 16-bit
    weights_gb = (quantized * quantized_bytes(4) + (shape.params - quantized) * 2.0) / 1e9
    for price, gpu in rentable:
        if weights_gb * RENTED_ROOM <= FIT_MARGIN * gib_to_gb(gpu.usable_gib):
            command = command_line({**profile.to_dict(), "gpu": gpu.id})
            return [
                t(
                    "To train it yourself, rent a GPU: the cheapest in data/prices.yaml with room for the "
                    "model's 4-bit weights is the {gpu} (about ${price:.2f}/GPU-hour). {command} sizes, "
                    "times and prices every plan on it.",
                    gpu=gpu.name,
                    price=price,
                    command=command,
                )
            ]
    return []


def _large_set_note(
    kept: list[Scored], profile: Profile, epochs: Mapping[str, Epochs], timed: bool
) -> list[str]:
    """A stage timed at its card's passes for a large set (`large_sets`: SFT trains 100k examples
    once) rather than the trainers' default, said with the default's cost; `timed`: a GPU with a
    published peak."""
    if not timed or profile.epochs is not None or profile.examples is None:
        return []
    trained = [s.plan.estimate for s in kept if s.plan.kind != "no-training" and s.plan.estimate is not None]
    classifier = bool(trained) and all(e.trains_classifier for e in trained)
    # Only stages timed here: a provider's (hosted fine-tuning: SFT then DPO where ORPO trains
    # locally) is not, and its SFT was said to be timed at 3 epochs beside ORPO plans alone.
    local = [s for s in kept if s.plan.runs != "hosted"]
    named = {o: n for s in local for o, n in zip(s.plan.pipeline, s.plan.stage_names, strict=True)}
    notes = (
        epochs[stage].note(stage_label(name), profile.examples, classifier)
        for stage, name in named.items()
        if stage in epochs
    )
    return [note for note in notes if note is not None]


def _reasoning_length_note(
    kept: list[Scored], pipeline: tuple[Objective, ...], profile: Profile, info: ModelInfo
) -> list[str]:
    """Reinforcement learning for reasoning at the default length samples TRL's 512-token
    completions (2,048 for a model that thinks): chains of thought run longer, and are cut there."""
    if profile.goal != "reasoning" or profile.seq_len is not None or not any(o.online for o in pipeline):
        return []
    if not any(s.plan.kind != "no-training" and s.plan.estimate is not None for s in kept):
        return []  # nothing samples on a local GPU
    return [
        t(
            "Online RL samples completions of up to {completion} tokens here (TRL's max_completion_length "
            "after a prompt of up to {prompt}): reasoning traces usually run longer and are cut there. "
            "Give --seq-len as prompt + completion (e.g. 4k) to size memory and the recipe for them, and "
            "--tokens-per-example (their average prompt + completion) to time them.",
            completion=completion_length(info.online_seq_len),
            prompt=MAX_PROMPT,
        )
    ]


def _nearest(over: list[Scored], inputs: TimeInputs) -> tuple[float, Scored] | None:
    """Of the plans the limits excluded, the one nearest to them, with the share of its training
    they allow: shares within the calibration's spread (TIE_RATIO) are not told apart, and the
    better-ranked plan is taken."""
    shares = [(share, s) for s in over if (share := share_within_limits(s.timed, inputs)) is not None]
    if not shares:
        return None
    most = max(share for share, _ in shares)
    return min(((sh, s) for sh, s in shares if sh * TIE_RATIO >= most), key=lambda pair: pair[1].rank)


# What a plan the limits excluded would fit them with, by why it is named.
WITHIN_LIMITS_NOTES = {
    "nearest": N_(
        "No training plan is within --max-hours/--budget-usd. The nearest, {plan}, fits with about "
        "{percent} of the training: {examples}{epochs}."
    ),
    "best": N_(
        "Of the plans the limits excluded, the best-ranked, {plan}, fits them with about {percent}: "
        "{examples}{epochs}."
    ),
    "better_than_kept": N_(
        "{plan} scores above every training plan within --max-hours/--budget-usd and fits them with "
        "about {percent} of the training: {examples}{epochs}."
    ),
}


def _fewer_epochs(share: float, stages: Sequence[StageTime]) -> str:
    """The epochs the limits allow, when at least one and fewer than some stage runs: --epochs sets
    every stage's, so a pipeline's one-epoch stage (DPO after SFT) takes it too (a review: "1 epoch
    instead of 3" for SFT then DPO still missed --max-hours)."""
    per_epoch = sum(s.seconds / s.workload.epochs for s in stages if s.workload.epochs > 0)
    if not per_epoch:
        return ""
    fit = math.floor(share * sum(s.seconds for s in stages) / per_epoch)
    most = max(s.workload.epochs for s in stages)
    if fit < 1 or fit >= most:
        return ""
    if len(stages) == 1:
        return nt(
            ", or {fit:g} epoch instead of {usual:g}",
            ", or {fit:g} epochs instead of {usual:g}",
            fit,
            fit=fit,
            usual=most,
        )
    return t(
        ", or --epochs {fit} for every stage (now {stages})",
        fit=fit,
        stages=", ".join(f"{stage_label(s.objective.name)} {s.workload.epochs:g}" for s in stages),
    )


def _within_limits_note(chosen: tuple[float, Scored] | None, profile: Profile, why: str) -> list[str]:
    """How much data (or how many epochs) of the chosen plan the limits allow; nothing when not
    even one example would fit."""
    if chosen is None or profile.examples is None:
        return []
    share, plan = chosen
    examples = math.floor(profile.examples * share)
    if examples < 1:
        return []
    assert plan.timed.time is not None  # a plan over a limit has its time
    return [
        t(
            WITHIN_LIMITS_NOTES[why],
            plan=translated(plan.plan.name),
            percent=_percent(100 * share),
            examples=nt(
                "{n:,} example instead of {given:,}",
                "{n:,} examples instead of {given:,}",
                examples,
                n=examples,
                given=profile.examples,
            ),
            epochs=_fewer_epochs(share, plan.timed.time.stages),
        )
    ]


def _on_more_gpus_note(found: tuple[Scored, int, Timed] | None) -> list[str]:
    """The whole training within the limits on more GPUs of the profile's kind (a review: the
    notes offered only less data or fewer epochs)."""
    if found is None:
        return []
    s, gpus, timed = found
    return [
        t(
            "Or all of the training on more GPUs of this kind: {plan} on {gpus} takes about {hours}{cost} "
            "(--gpus {gpus}).",
            plan=translated(s.plan.name),
            gpus=gpus,
            **_time_and_cost(timed),
        )
    ]


# A change that trains all of the data within the limits, by the option that makes it.
ALL_WITHIN_LIMITS_NOTES = {
    "--vllm": N_(
        "Or sample the completions with vLLM (TRL's use_vllm=True, a colocated engine): {plan} then "
        "trains all of the data in about {hours}{cost} (--vllm)."
    ),
    "--packing": N_(
        "Or pack the examples into full sequences: {plan} then trains all of the data in about "
        "{hours}{cost} (--packing)."
    ),
}


def _all_within_limits_note(found: tuple[Scored, Timed] | None, option: str) -> list[str]:
    """All of the training within the limits with `option` (ALL_WITHIN_LIMITS_NOTES)."""
    if found is None:
        return []
    s, timed = found
    return [t(ALL_WITHIN_LIMITS_NOTES[option], plan=translated(s.plan.name), **_time_and_cost(timed))]


def _time_and_cost(timed: Timed) -> dict[str, str]:
    """A way within the limits' {hours} and {cost} (", $x" when priced) in a note."""
    assert timed.time is not None  # found within the limits, so timed
    usd = None if timed.cost is None else timed.cost.usd
    return {"hours": hours_text(timed.time.hours), "cost": "" if usd is None else f", ${usd:,.2f}"}


def _measure(value: float, cost: bool, timed: Timed) -> str:
    if not cost:
        return hours_text(value)
    priced = timed.cost is not None and timed.cost.usd is not None
    if not priced:
        return t("{hours} GPU-hours", hours=significant(value))
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"  # cents past $100 are noise


def ranked(scored: list[Scored], priority: str) -> list[Scored]:
    scored = _untrained_with_training(scored)
    if priority not in MEASURED_PRIORITIES or all(s.timed.time is None for s in scored):
        return sorted(scored, key=lambda s: s.rank)
    return [s for group in tied_groups(scored, priority) for s in _within_tie(group, priority)]


def _within_tie(group: list[Scored], priority: str) -> list[Scored]:
    """Within a tie by hours: fewer GPUs first, as they cost less, then the score and the KB's
    order (the standard key's last two). By cost: the faster first, as each plan already takes the
    fastest of the GPU counts that cost alike (Engine._on_fewer_gpus): fewer GPUs first undid that
    (QLoRA on 8 ranked above LoRA on 16, twice as fast, for 2 % less), and the score counts the
    rules that favour fewer GPUs (full fine-tuning on 1 of 8 H100s, 7.4 h, above LoRA on 8, 49 min);
    hours within TIE_RATIO of each other tie too, and the score decides (an expert's review: prompt
    tuning at 0.746 h ranked above LoRA at 0.747 h, at the same cost, for 0.16 less score)."""
    if priority == "speed":
        return sorted(group, key=lambda s: (s.plan.gpus or 0, *s.rank[-2:]))
    faster = sorted(group, key=lambda s: (measure(s.timed, "speed"), *s.rank[-2:]))
    if len(faster) < 2:
        return faster
    like = [s for s in faster if measure(s.timed, "speed") <= measure(faster[0].timed, "speed") * TIE_RATIO]
    return sorted(like, key=lambda s: s.rank[-2:]) + _within_tie(faster[len(like) :], priority)


def _untrained_with_training(scored: list[Scored]) -> list[Scored]:
    """When the best training plan is only tight, or offloads to CPU RAM, prompting and retrieval
    compete with it by score instead of ranking ahead for fitting comfortably: a QLoRA at 93 % of
    a 12 GB card, or one with its optimizer in RAM, is still the answer to a chat goal with
    demonstrations, RAG is not. Both ways: a tight retrieval plan on the GPUs alone is no worse
    off than a training plan several times slower from CPU RAM, so it is lifted to compete with
    it, as is one that needs no GPU memory at all (embeddings and a small classifier: a review
    ranked it below every tight plan for 300 labels). When no training plan runs at all, those that
    fit rank first."""
    best = min((s.rank[:3] for s in scored if s.plan.kind != "no-training"), default=None)
    if best is None or best[0] not in (FIT_ORDER["yes"], FIT_ORDER["tight"]):
        return scored
    offloads = best[1] != OFFLOAD_ORDER["none"]

    def level(own: tuple[float, ...]) -> bool:
        if own[0] == FIT_ORDER[None]:
            return True
        return own < best or (offloads and own[0] == FIT_ORDER["tight"] and own[1] == OFFLOAD_ORDER["none"])

    return [
        s._replace(rank=(*best, *s.rank[3:])) if s.plan.kind == "no-training" and level(s.rank[:3]) else s
        for s in scored
    ]


# Every candidate's memory need, and the `fits.<method>` / `memory_gb.<method>` facts rules read.
MemoryView = tuple[dict[str, tuple[Estimate | None, list[str]]], dict[str, Scalar]]


class MemoryKey(NamedTuple):
    """What a memory view depends on besides the hardware and model."""

    pipeline: tuple[str, ...]
    local: bool  # a local GPU to estimate for
    seq_len: int | None
    batch_size: int
    stack: str
    vllm: bool  # online stages sample with a colocated vLLM engine
    vllm_server_gpus: int  # or with a vLLM server on this many GPUs of their own (0: none)
    activation_offloading: bool  # the checkpoints wait in CPU RAM (TRL activation_offloading)
    lora_experts: bool  # LoRA adapts the routed experts too
    sampling: Sampling  # how online stages sample (--num-generations, --generation-batch)
    fewest: bool  # plans may use fewer of the GPUs (--priority cost)
    # --priority quality or balanced on several GPUs: a method's later variant only where much
    # faster (Engine._fastest_count); False on one GPU, whose memory view every priority shares
    prefers_first_variant: bool
    # With --priority cost or speed and --examples: the data that times each plan with and without
    # gradient checkpointing (checking_inputs), and it trains the faster way that fits within the margin.
    unchecked: TimeInputs | None
    classifier: bool  # a decoder's SFT trains a sequence classifier (profile.trains_classifier)
    ram_gb: float | None  # the machine's CPU RAM (--ram): an offloading plan that needs more does not fit
    # --max-hours / --budget-usd: a plan takes a number of the GPUs only within them
    limits: TimeInputs | None = None
    # With --examples: the data that times each number of GPUs a plan may take (the cheapest with
    # --priority cost, else the fastest)
    counted: TimeInputs | None = None


Stages = dict[str, tuple[EstimateSettings, list[str]]]


class _RankedPlans(NamedTuple):
    """A profile's plans, scored and ranked (Engine._ranked), and what its notes read."""

    kept: list[Scored]
    left_out: list[Scored]
    context: Context
    timing: Callable[[Plan], Plan] | None
    info: ModelInfo
    local: bool  # trains on the user's own GPUs (not an API model, not without a GPU)


class Context(NamedTuple):
    """What every plan of one profile shares."""

    facts: dict[str, Scalar]  # the profile's facts; each plan's own are added while it is scored
    shared: int  # the bits of the rules that read only profile facts and fired
    priority: str
    pipeline: tuple[str, ...]
    pipeline_rule: str | None
    pipeline_because: str | None
    inputs: TimeInputs
    hardware: Hardware
    libraries: int = 0  # the bits of the library entries' conditions that hold
    guards: int = 0  # the bits of the per-plan rules' profile guards that hold
    available: int | None = None  # the user's GPUs (None: nothing runs on a local GPU)


@dataclass(slots=True)
class Resolved:
    """What a profile's hardware and model resolve to, and memory views on them by pipeline."""

    hardware: Hardware
    info: ModelInfo
    memory: dict[MemoryKey, MemoryView] = field(default_factory=dict)


def candidate(method: Method, result: Estimate | None, available: int | None = None) -> Candidate:
    if result is None:
        return Candidate(method.id, method.kind, method.category, None, None, None, None)
    offloaded = result.settings.offload
    host = result.host["offload_gb"]
    used = result.settings.all_gpus
    spare = None if available is None else max(available - used, 0)
    return Candidate(
        method.id,
        method.kind,
        method.category,
        result.fit,
        result.per_gpu_gb,
        offloaded,
        host,
        used,
        spare,
        result.settings.precision,
        result.served_bits,
        result.ram_gb,
        result.settings.sharding,
        plan_experts_quantized(result),
        result.settings.reference_precomputed,
    )


def _reference_precomputed_to_fit(
    run: Estimator, method: Method, shape: Shape, sized: list[Estimate]
) -> list[Estimate]:
    """A pipeline whose DPO or KTO on a base that trains misses the margin, sized again without the
    reference copy where that fits better (TRL computes its log-probabilities before training:
    may_precompute_reference), before a variant that changes the optimizer or the precision is
    tried (an expert's review: the copy was never dropped, and 8-bit AdamW taken instead; Qwen2.5-14B
    full DPO on 4 H100s now trains with AdamW, its copy's 7 GB a GPU freed)."""
    worst = _heaviest_stage(sized)
    if worst is None or worst.fit == "yes":
        return sized
    if not any(may_precompute_reference(e.memory_model, e.settings) for e in sized):
        return sized
    # Every stage carries the flag, its SFT too: the plan's facts and recipe read the heaviest one.
    dropped = [
        cached_estimate(run, e.settings._replace(reference_precomputed=True), method, shape) for e in sized
    ]
    dropped = on_one_strategy(run, dropped)
    better = _heaviest_stage(dropped)
    return dropped if better is not None and FIT_ORDER[better.fit] < FIT_ORDER[worst.fit] else sized


def _heaviest_stage(sized: list[Estimate]) -> Estimate | None:
    """A pipeline's stages as one estimate: the stage that needs the most memory per GPU, carrying
    the others (Estimate.other_stages); a single stage's estimate is returned as it is (memos key
    estimates by identity)."""
    worst = max(sized, key=lambda e: e.per_gpu_gb, default=None)
    if worst is None or len(sized) == 1:
        return worst
    return worst._replace(other_stages=tuple(e for e in sized if e is not worst))


def _first_on_the_gpus(plans: Sequence[Plan], verdicts: tuple[str, ...]) -> Plan | None:
    """The best-ranked training plan that runs on the GPUs alone (no CPU offload) with the first
    of `verdicts` any has (fits with room, else tight)."""
    trained = [p for p in plans if p.kind != "no-training" and p.offload not in OFFLOADED]
    on_gpus = [p for p in trained if p.fit in verdicts]
    return min(on_gpus, key=lambda p: verdicts.index(str(p.fit)), default=None)


def unchecks(e: Estimate) -> bool:
    """Whether the plan could train without gradient checkpointing: it checkpoints now, keeps its
    states on the GPUs, and does not offload the checkpoints themselves (activation offloading
    moves them to CPU RAM: it needs them)."""
    s = e.settings
    return s.gradient_checkpointing and not s.activation_offloading and s.offload == "none"


def checking_inputs(inputs: TimeInputs) -> TimeInputs:
    """What decides whether a plan trains faster without gradient checkpointing: its examples'
    length, packing and sampling. Both ways take the same epochs and price per GPU-hour, and a
    nominal amount of data stands for any (only a set smaller than a global batch would cap the
    micro-batch), so every amount of a sweep shares one memory view."""
    return inputs._replace(
        examples=CHECKING_EXAMPLES, epochs=None, price_per_hour=None, max_hours=None, budget_usd=None
    )


def _any_fit(results: Iterable[Estimate | None]) -> bool:
    return any(r is not None and r.fit in ("yes", "tight") for r in results)


_ESTIMATES: dict[tuple[str, Shape, EstimateSettings], Estimate] = {}
# Stages moved to another stage's strategy (on_one_strategy): apart from _ESTIMATES, whose keys are
# the settings before a strategy is chosen.
_PLACED: dict[tuple[str, Shape, EstimateSettings], Estimate] = {}


def _shorter_prompt(
    run: Estimator, method: Method, shape: Shape, found: tuple[Estimate | None, list[str]]
) -> tuple[Estimate | None, list[str]]:
    """A no-training plan served with the longest prompt that fits (search.fitting_prompt), said
    in its warnings. The recipe's CONTEXT_TOKENS follows the estimate's length."""
    e, warnings = found
    tokens = None if e is None else fitting_prompt(run, e)
    if e is None or tokens is None:
        return found
    shorter = cached_estimate(run, e.settings._replace(seq_len=tokens, prompt_len=tokens), method, shape)
    return shorter, [*warnings, shorter_prompt_note(tokens, e.settings.seq_len)]


def cached_estimate(run: Estimator, settings: EstimateSettings, method: Method, shape: Shape) -> Estimate:
    """The estimate at the strategy that fits, remembered across the profiles of a batch. Memory
    follows the method's memory model, not the method: methods that share one (a large KB has
    many) share the estimate, labelled with each method's id."""
    assert method.memory_model is not None
    key = (method.memory_model, shape, settings)
    return _remembered(_ESTIMATES, key, lambda: with_strategy(run, settings), method.id)


def on_one_strategy(run: Estimator, stages: list[Estimate]) -> list[Estimate]:
    """A pipeline's stages on the heaviest multi-GPU strategy any one needs: one launcher config
    runs them all, as the recipes write it (a review: SFT sized data parallel beside KTO, which fits
    only under ZeRO-3, was described and timed as data parallel). Remembered across a batch."""
    heaviest = max(stages, key=lambda e: STRATEGIES.index(e.settings.sharding), default=None)
    if heaviest is None:
        return stages
    like = heaviest.settings
    return [e if e.settings.sharding == like.sharding else _placed_like(run, e, like) for e in stages]


def _unchecked(run: Estimator, e: Estimate) -> Estimate:
    """The estimate without gradient checkpointing (its time is remembered by its identity)."""
    return _placed(run, e, e.settings._replace(gradient_checkpointing=False))


def _placed_like(run: Estimator, e: Estimate, like: EstimateSettings) -> Estimate:
    return _placed(run, e, e.settings._replace(sharding=like.sharding, hierarchical=like.hierarchical))


def _placed(run: Estimator, e: Estimate, settings: EstimateSettings) -> Estimate:
    """`e`'s method at other settings, exactly (no strategy search), remembered across a batch."""
    return _remembered(_PLACED, (e.memory_model, e.shape, settings), lambda: run(settings), e.method)


def _remembered(
    memo: dict[tuple[str, Shape, EstimateSettings], Estimate],
    key: tuple[str, Shape, EstimateSettings],
    make: Callable[[], Estimate],
    method_id: str,
) -> Estimate:
    """An estimate remembered across a batch's profiles (the memo cleared at its bound), labelled
    with `method_id`: methods that share a memory model share the estimate."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= ESTIMATE_MEMO_LIMIT:
            memo.clear()
        found = memo[key] = make()
    return found if found.method == method_id else found._replace(method=method_id)


_TRAINER = re.compile(r"\b(\w+Trainer)\b")


@functools.lru_cache(maxsize=4096)
def _trainers(entry: str) -> tuple[str, ...]:
    """The trainer classes a library entry names (SFTTrainer, DPOTrainer, ...)."""
    return tuple(_TRAINER.findall(entry))


class Engine:
    """Compiles a catalog's rules once; `recommend` is then a pure function of the profile."""

    @collector_paused
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.candidates = [m for m in catalog.kb.methods if m.kind != "objective"]
        # What `to_fit` tries instead of a 16-bit method that does not fit: a 4-bit base.
        quantized = tuple((m.id, card_rank(m)) for m in self.candidates if m.memory_model == "qlora")
        self.alternatives = {
            m.id: quantized if m.memory_model in ("full", "lora", "dora") else () for m in self.candidates
        }
        self.order = {m.id: i for i, m in enumerate(self.candidates)}
        self._compile_rules(catalog)
        self.pipelines = [(p, compile_condition(p.when)) for p in catalog.kb.pipelines]
        self.pipeline_reads = tuple(
            dict.fromkeys(n for p in catalog.kb.pipelines for n in facts_used(p.when))
        )
        self.pipeline_specs = {p.id: p for p in catalog.kb.pipelines}
        self.objectives = tuple(m.id for m in catalog.kb.methods if m.kind == "objective")
        self.stage_names = {m.id: m.name for m in catalog.kb.methods if m.kind == "objective"}
        self.hosted_services = {m.id: m.hosted_service for m in catalog.kb.methods if m.hosted_service}
        self.hosted_as = {m.id: m.hosted_as for m in catalog.kb.methods if m.hosted_as}
        self._hosted_pipelines: dict[tuple[str, ...], tuple[tuple[str, ...], str | None]] = {}
        # The most memory a GPU the catalog knows has: a larger GPU suggested past it is none to buy.
        # Apple's unified memory (512 GB) is no card (a diff review saw a 504 GiB GPU named on an
        # H100); a Mac is told its unified memory apart (on_a_mac).
        self.largest_gpu_gib = max(
            (g.memory_gib for g in catalog.gpus.values() if g.vendor != "apple"), default=0.0
        )
        self.experimental = {
            m.id
            for m in catalog.kb.methods
            if m.kind == "objective"
            and any(lib.library == "trl" and lib.status == "experimental" for lib in m.libraries)
        }
        self.usual_epochs = usual_epochs(catalog.kb.methods)
        # Without a GPU, the cards one can rent, cheapest first (_rented_gpu_note).
        self.rentable = sorted(
            (
                (price[0], g)
                for g in catalog.gpus.values()
                if not g.unified and (price := catalog.reference_price(g.id)) is not None
            ),
            key=operator.itemgetter(0),
        )
        self._times: dict[tuple[int, tuple[str, ...], int, TimeInputs, bool], tuple[Any, Any, Timed]] = {}
        self._score_starts()
        self._library_conditions(catalog)
        self.evaluation = catalog.kb.evaluation
        self.evaluation_checks = Checks([a.when for a in self.evaluation])
        self._stage_facts: dict[tuple[str, ...], dict[str, Scalar]] = {}
        self._pipeline_memo: dict[tuple[Any, ...], list[str]] = {}
        self._tools_cache: dict[tuple[str, tuple[str, ...], int], tuple[ToolRef, ...]] = {}
        # Frameworks that run a training stage from a config of their own (LLaMA-Factory, axolotl):
        # the external libraries the objectives name. One runs a plan only if it runs every part.
        self.stage_frameworks = frozenset(
            lib.library
            for m in catalog.kb.methods
            if m.kind == "objective"
            for lib in m.libraries
            if lib.status == "external"
        )
        self._resolved: dict[tuple[Scalar, ...], Resolved] = {}
        self._plans: dict[
            tuple[str, int, int, str, str | None, tuple[str, ...], int, int, int], tuple[Any, Scored]
        ] = {}
        self._timed_plans: dict[tuple[int, TimeInputs], tuple[Plan, Plan]] = {}
        self._unchecked: dict[tuple[int, TimeInputs, int, str], tuple[Estimate, Hardware, list[str]]] = {}
        self._own_facts: dict[int, tuple[Any, Facts]] = {}
        self._pitfall_cache: dict[tuple[str, int], tuple[str, ...]] = {}
        self._language = language()

    def _in_this_language(self) -> None:
        """The memos hold text (notes, reasons, caveats) worded in the language of the run that
        made them: after --lang changes in this process they are made again (a shared engine gave
        English recommendations Russian reasons once a Russian run had come before)."""
        if language() == self._language:
            return
        self._language = language()
        memos: tuple[dict[Any, Any], ...] = (
            self._times,
            self._hosted_pipelines,
            self._pipeline_memo,
            self._tools_cache,
            self._resolved,
            self._plans,
            self._timed_plans,
            self._unchecked,
            self._own_facts,
            self._pitfall_cache,
        )
        for memo in memos:
            memo.clear()
        self._score_starts()  # the base scores' wording, made when the engine was

    def _compile_rules(self, catalog: Catalog) -> None:
        """Each rule compiled once, with its bit in the per-profile mask (rules that read only the
        profile) or in each method's own mask (rules that read the candidate's facts)."""
        # Each method's rules in KB order, with the bit of each in the shared or the own mask.
        self.rule_bits: dict[str, list[tuple[int, int, CompiledRule]]] = {m.id: [] for m in self.candidates}
        # Rules that read only profile facts are evaluated once per profile into one bit mask
        # (bit i = the i-th of them fired); a method's share of it is one `&` with its bits.
        shared_conditions: list[Condition | None] = []
        self.shared_bits = dict.fromkeys(self.rule_bits, 0)
        # Rules that read the candidate's own facts, with their bit in the method's own mask and
        # the bit of their profile guard (0: no guard, always evaluated).
        self.own_rules: dict[str, list[tuple[int, int, CompiledRule]]] = {m.id: [] for m in self.candidates}
        guard_conditions: list[Condition | None] = []
        index = MethodIndex(self.candidates)
        for rule in catalog.kb.rules:
            compiled = compile_rule(rule)
            shared_bit = 0 if compiled.per_plan else 1 << len(shared_conditions)
            if shared_bit:
                shared_conditions.append(rule.when)
            guard_bit = 0
            if compiled.guard is not None:
                guard_bit = 1 << len(guard_conditions)
                guard_conditions.append(compiled.guard)
            for method_id in (m.id for m in index.select(rule.methods)):
                own_bit = 0
                if shared_bit:
                    self.shared_bits[method_id] |= shared_bit
                else:
                    own = self.own_rules[method_id]
                    own_bit = 1 << len(own)
                    own.append((own_bit, guard_bit, compiled))
                self.rule_bits[method_id].append((shared_bit, own_bit, compiled))
        self.guards = Checks(guard_conditions)
        self.shared_checks = Checks(shared_conditions)
        # The profile rules that leave out each method: a 4-bit alternative they leave out (QLoRA
        # sampled by TRL's vLLM) is no change `to_fit` may suggest.
        self.excluding_bits = {
            m: functools.reduce(operator.or_, (shared for shared, _, c in rules if c.excludes), 0)
            for m, rules in self.rule_bits.items()
        }
        self.alternatives_excluding = functools.reduce(
            operator.or_, (self.excluding_bits[a] for alts in self.alternatives.values() for a, _ in alts), 0
        )
        # Each method's rules that leave it out once online stages sample with vLLM: a plan that
        # samples with transformers' generate suggests --vllm only where none of them would fire.
        self.vllm_excluders = {
            m: [c for _, _, c in rules if c.excludes and "vllm" in facts_used(c.rule.when)]
            for m, rules in self.rule_bits.items()
        }
        # Each method's own rules without a guard (always evaluated), and the guard bits it has.
        self.unguarded = {
            m: [(bit, c) for bit, guard, c in rules if not guard] for m, rules in self.own_rules.items()
        }
        self.guard_bits = {m: sum(guard for _, guard, _ in rules) for m, rules in self.own_rules.items()}
        # Each method's rules by their bit in the shared and in the own mask, with their place in
        # the method's list (_fired walks the few bits that are set, not every rule).
        self.rules_by_bit: dict[str, tuple[dict[int, RulePlace], dict[int, RulePlace]]] = {}
        for m, rules in self.rule_bits.items():
            by_shared: dict[int, RulePlace] = {}
            by_own: dict[int, RulePlace] = {}
            for place, (shared_bit, own_bit, c) in enumerate(rules):
                if shared_bit:
                    by_shared[shared_bit] = (place, c)
                else:
                    by_own[own_bit] = (place, c)
            self.rules_by_bit[m] = (by_shared, by_own)

    def _score_starts(self) -> None:
        """Each method's base score and its wording, per priority."""
        self.base_scores: dict[tuple[str, str], float] = {}
        self.bases: dict[tuple[str, str], tuple[str, str]] = {}
        # Methods rated alike start alike: scored and worded once (a large KB repeats ratings).
        starts: dict[tuple[Any, ...], tuple[float, tuple[str, str]]] = {}
        for m in self.candidates:
            for p in PRIORITY_WEIGHTS:
                key = (m.scored_ratings, m.scoring, m.kind, p)
                if key not in starts:
                    starts[key] = (base_score(m, p), basis(m, p))
                self.base_scores[m.id, p], self.bases[m.id, p] = starts[key]

    def _library_conditions(self, catalog: Catalog) -> None:
        """Library entries and pitfalls that apply only when a condition holds (mlx-lm on Apple,
        ZeRO-3 on several GPUs, PEFT's defaults off Apple): each distinct condition is one bit of
        a per-profile mask."""
        conditions: list[Condition | None] = []
        # Each conditional entry's bit, by the entry's id (the entries live as long as the catalog).
        self.library_bits: dict[int, int] = {}
        for method in catalog.kb.methods:
            entries: list[LibraryEntry | Pitfall] = [*method.libraries, *method.pitfalls]
            for entry in entries:
                if entry.when is not None:
                    if entry.when not in conditions:
                        conditions.append(entry.when)
                    self.library_bits[id(entry)] = 1 << conditions.index(entry.when)
        self.library_checks = Checks(conditions)

    # --- facts ---------------------------------------------------------------------------

    def choose_pipeline(self, facts: Facts) -> tuple[tuple[str, ...], str | None, str | None]:
        """The objectives a training plan runs: the highest-weight matching pipeline rule."""
        best = self._best_pipeline(facts)
        if best is None:
            return DEFAULT_PIPELINE, None, None
        return tuple(best.pipeline), best.id, best.because.get()

    def _best_pipeline(self, facts: Facts) -> PipelineRule | None:
        best = None
        for rule, predicate in self.pipelines:
            if predicate(facts) and (best is None or rule.weight > best.weight):
                best = rule
        return best

    def other_pipelines(self, facts: Facts, chosen: tuple[str, ...]) -> list[PipelineRule]:
        """Pipeline rules that also hold for this profile but lost to a heavier one, one per
        distinct pipeline, heaviest first: the alternatives a note names."""
        found: dict[tuple[str, ...], PipelineRule] = {}
        for rule, predicate in sorted(self.pipelines, key=lambda p: -p[0].weight):
            stages = tuple(rule.pipeline)
            if stages != chosen and stages not in found and predicate(facts):
                found[stages] = rule
        return list(found.values())

    # --- plans ---------------------------------------------------------------------------

    def _estimate(
        self,
        method: Method,
        info: ModelInfo,
        hardware: Hardware,
        stages: Stages,
        offload: str,
        only: Variant | None = None,
    ) -> tuple[Estimate | None, list[str]]:
        """The method's best setup: of its variants (KB order; `only` that one), the first that
        fits within the margin, else the first that fits at all, else the first; each at the
        multi-GPU strategy with the least communication that fits, and sized for its largest
        stage."""
        assert method.memory_model is not None
        objectives = [o for o in stages if (o == SERVING.id) == (method.kind == "no-training")]
        run = estimator(method.id, method.memory_model, info.sized)
        tried: list[tuple[Estimate, list[str]]] = []
        online = any(stages[o][0].objective.online for o in objectives)
        variants = estimated_variants(method, info.weights_dtype) if only is None else [only]
        for variant in variants:
            if not applies(variant, hardware, online, info.weights_dtype, info.sized.expert_params > 0):
                continue
            warnings: list[str] = []
            sized: list[Estimate] = []
            for objective in objectives:
                base, stage_warnings = stages[objective]
                varied, extra = with_variant(
                    variant, with_method(method, base._replace(offload=offload)), hardware
                )
                sized.append(cached_estimate(run, varied, method, info.sized))
                warnings += stage_warnings + extra
            sized = _reference_precomputed_to_fit(run, method, info.sized, on_one_strategy(run, sized))
            warnings += [w for e in sized for w in strategy_warnings(e)]
            worst = _heaviest_stage(sized)
            if worst is not None:
                tried.append((worst, list(dict.fromkeys(warnings))))
                if worst.fit == "yes":  # `preferred` takes the first that fits: the rest are not needed
                    break
        if not tried:
            return None, []
        served = method.kind == "no-training"  # its widths only trade memory: show the least
        best = preferred(tried, lambda row: row[0].fit, (lambda row: row[0].per_gpu_gb) if served else None)
        return _shorter_prompt(run, method, info.sized, best) if served else best

    def _on_fewer_gpus(
        self,
        method: Method,
        info: ModelInfo,
        hardware: Hardware,
        stages: Stages,
        found: tuple[Estimate | None, list[str]],
        key: MemoryKey,
    ) -> tuple[Estimate | None, list[str]]:
        """On several GPUs, the same plan on the number of them (1, 2, 4, ... or all) that fits
        within the margin and:
        - with --priority cost, costs least and, under --max-hours or --budget-usd, finishes
          within them; counts within GPU_COUNT_TIE of the least cost tie, and the fastest of them
          is taken (LoRA on 1 of 8 H100s took 6.5 h for $24.93 where all 8 took 49 min for
          $25.10: an expert's review); without --examples to price them, the fewest GPUs that fit;
        - else, with --examples, runs fastest within --max-hours and --budget-usd, counts within
          GPU_COUNT_TIE of it tying to fewer GPUs: more GPUs whose traffic outweighs their compute
          only make a plan slower and dearer (8B full fine-tuning at micro-batch 1 took 2.2 h on
          16 H100s, 45 min on 8), and a budget that all of them exceed may hold fewer.
        On each count the method's first variant that fits there, and each variant that fits on
        fewer GPUs on the larger counts too (_variants_on_more_gpus). Else `found` unchanged."""
        result = found[0]
        if result is None or result.fit != "yes" or result.settings.offload != "none" or key.vllm_server_gpus:
            return found
        if not key.fewest and method.kind == "no-training":
            return found  # nothing to time: serving sizes itself
        fewer = [
            tried
            for count in fewer_gpu_counts(hardware.gpus)
            if (tried := self._on_count(method, info, hardware, stages, count)) is not None
        ]
        if key.counted is None:  # nothing timed, nor limited: the fewest GPUs, or all of them
            return fewer[0] if fewer and key.fewest else found
        options = [
            o
            for o in self._variants_on_more_gpus(method, info, hardware, stages, [*fewer, found])
            if o[0] is not None
            and self._within_limits(method, o[0], hardware._replace(gpus=o[0].settings.gpus), key)
        ]
        if not options:
            return found
        pipeline = key.pipeline if method.kind != "no-training" else ()
        # The estimate carries its number of GPUs; the hardware gives the device and its price.
        timed = [self._timed(o[0], pipeline, hardware, key.counted) for o in options]
        priced = [(measure(x, "cost"), measure(x, "speed"), o) for x, o in zip(timed, options, strict=True)]
        if not key.fewest:
            return self._fastest_count(method, priced, found, hardware.gpus, key.prefers_first_variant)
        least = min(cost for cost, _, _ in priced)
        if not math.isfinite(least):
            return options[0]
        return min((p for p in priced if p[0] <= least * GPU_COUNT_TIE), key=lambda p: p[1])[2]

    def _on_count(
        self,
        method: Method,
        info: ModelInfo,
        hardware: Hardware,
        stages: Stages,
        count: int,
        only: Variant | None = None,
    ) -> tuple[Estimate | None, list[str]] | None:
        """The plan on `count` of the GPUs (of its variants, `only` that one) where it fits within
        the margin, else None."""
        on = hardware._replace(gpus=count)
        staged = {o: (s._replace(gpus=count), w) for o, (s, w) in stages.items()}
        tried = self._estimate(method, info, on, staged, "none", only)
        return tried if tried[0] is not None and tried[0].fit == "yes" else None

    def _variants_on_more_gpus(
        self,
        method: Method,
        info: ModelInfo,
        hardware: Hardware,
        stages: Stages,
        options: list[tuple[Estimate | None, list[str]]],
    ) -> list[tuple[Estimate | None, list[str]]]:
        """`options` (the plan on each GPU count, at the first variant that fits there), fewest
        GPUs first, with each variant that fits on fewer GPUs tried on the larger counts too, after
        the plan there: what fits on fewer GPUs fits on more under data parallel, where it can
        train faster than the variant ranked before it, sharded (an expert's review: 8B full
        fine-tuning on 2 H100s took mixed precision under ZeRO-3, 3.6 h, or pure bf16 on one GPU,
        2.1 h, where pure bf16 on both takes 1.0 h)."""
        # In the options' order, not a set's: records hash their strings, whose order varies by process.
        seeds = [(o[0].settings.gpus, variant_of(method, o[0])) for o in options if o[0] is not None]
        planned = set(seeds)
        counts = [*fewer_gpu_counts(hardware.gpus), hardware.gpus]
        more = []
        for gpus, variant in seeds:
            for count in counts:
                if count <= gpus or variant is None or (count, variant) in planned:
                    continue
                planned.add((count, variant))
                tried = self._on_count(method, info, hardware, stages, count, variant)
                if tried is not None:
                    more.append(tried)
        return sorted(options + more, key=lambda o: o[0].settings.gpus if o[0] is not None else 0)

    @staticmethod
    def _fastest_count(
        method: Method,
        priced: list[tuple[float, float, tuple[Estimate | None, list[str]]]],
        found: tuple[Estimate | None, list[str]],
        gpus: int,
        prefers_first_variant: bool,
    ) -> tuple[Estimate | None, list[str]]:
        """Of a plan on each number of the GPUs (fewest first), the fastest, counts within
        GPU_COUNT_TIE of it tying to fewer; with `prefers_first_variant`, a variant other than the
        one on all the GPUs only FIRST_VARIANT_GAIN times faster than it. A plan moved to fewer GPUs,
        or to another variant on all of them, says why in its caveats."""
        first = next((h for _, h, o in priced if o is found), None)  # on all the GPUs
        if prefers_first_variant and first is not None:
            kept = variant_of(method, found[0])
            priced = [
                p for p in priced if variant_of(method, p[2][0]) == kept or p[1] * FIRST_VARIANT_GAIN <= first
            ]
        picked = fastest_within_tie([(h, o) for _, h, o in priced])
        if picked is None:
            return found
        hours, chosen = picked
        if chosen is found or chosen[0] is None:
            return chosen
        if chosen[0].settings.gpus == gpus:  # another variant
            variant = variant_of(method, found[0])
            if variant is None:
                return chosen
            on = {"label": translated(variant.label), "gpus": gpus}
            if first is None:
                return chosen[0], [*chosen[1], t(FIRST_VARIANT_OVER_THE_LIMITS, **on)]
            times = {"slower": hours_text(first), "faster": hours_text(hours)}
            return chosen[0], [*chosen[1], t(FIRST_VARIANT_SLOWER, **on, **times)]
        # On all the GPUs: the same variant where it fits there, else the plan found there.
        variant = variant_of(method, chosen[0])
        alike = (
            h
            for _, h, o in priced
            if o[0] and o[0].settings.gpus == gpus and variant_of(method, o[0]) == variant
        )
        on_all = next(alike, first)
        on = {"used": chosen[0].settings.all_gpus, "gpus": gpus}
        if on_all is None:
            why = t(OVER_THE_LIMITS_ON_ALL, **on)
        else:
            slower = SLOWER_ON_ALL if on_all > hours * GPU_COUNT_TIE else NO_FASTER_ON_ALL
            why = t(slower, **on, slower=hours_text(on_all), faster=hours_text(hours))
        return chosen[0], [*chosen[1], why]

    def _faster_unchecked_plan(
        self, method: Method, found: tuple[Estimate | None, list[str]], hardware: Hardware, key: MemoryKey
    ) -> tuple[Estimate | None, list[str]]:
        """The plan without gradient checkpointing where every stage still fits within the margin
        and it trains faster so (no forward pass recomputed, but a larger micro-batch may no longer
        fit): with --priority cost or speed, the run those users ask for. An expert's review: prefix
        tuning, which never checkpoints, ranked 33 % cheaper than LoRA, which fits without
        checkpointing and then costs the same."""
        e, warnings = found
        if e is None or e.fit != "yes" or not unchecks(e):
            return found
        run = estimator(e.method, e.memory_model, e.shape)
        sized = [_unchecked(run, stage) for stage in (e, *e.other_stages)]
        unchecked = _heaviest_stage(sized)
        if unchecked is None or any(stage.fit != "yes" for stage in sized):
            return found
        if key.unchecked is None or not self._within_limits(method, unchecked, hardware, key):
            return found
        before, after = (self._timed(x, key.pipeline, hardware, key.unchecked).hours for x in (e, unchecked))
        faster = after is not None and (before is None or after < before)
        return (unchecked, warnings) if faster else found

    def _within_limits(self, method: Method, result: Estimate, hardware: Hardware, key: MemoryKey) -> bool:
        """Whether the plan on this hardware stays within the profile's --max-hours/--budget-usd."""
        if key.limits is None:
            return True
        pipeline = key.pipeline if method.kind != "no-training" else ()
        return self._timed(result, pipeline, hardware, key.limits).over_limit is None

    def _stage_settings(
        self, info: ModelInfo, hardware: Hardware, pipeline: tuple[str, ...], key: MemoryKey
    ) -> Stages:
        """Estimator settings for every stage, computed once per profile (not once per method)."""
        return {
            o: settings_for(
                info,
                hardware,
                objective=key.sampling.apply(self.catalog.objectives[o]),
                seq_len=key.seq_len,
                batch_size=key.batch_size,
                optimizer=STACK_OPTIMIZERS.get(key.stack, "adamw"),
                stack=key.stack,
                vllm=key.vllm,
                vllm_server_gpus=key.vllm_server_gpus if o != SERVING.id else 0,
                activation_offloading=key.activation_offloading,
                lora_experts=key.lora_experts,
                classifier_head=key.classifier and o != SERVING.id,
                host_ram_gb=key.ram_gb,
            )
            for o in (*pipeline, SERVING.id)
        }

    def _resolve(self, profile: Profile) -> Resolved:
        api = profile.model_access == "api"
        variant = profile.model_variant
        gpus = (profile.gpu, profile.vram, profile.gpus, profile.network_gbps)
        key = (*gpus, profile.model, profile.model_size, api, variant)
        found = self._resolved.get(key)
        if found is None:
            hardware = resolve_hardware(self.catalog, *gpus)
            model = resolve_model(self.catalog, profile.model, profile.model_size, api=api)
            if variant is not None and variant != model.variant:  # --model-variant says so
                model = model._replace(variant=variant)  # type: ignore[arg-type]
            found = Resolved(hardware, model)
            if len(self._resolved) >= MEMO_LIMIT:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _memory_view(self, resolved: Resolved, key: MemoryKey) -> MemoryView:
        """Every candidate's best setup. Without a local GPU (CPU, hosted API) nothing is
        estimated: fits and memory are None. When no training plan fits on the GPUs alone, the
        training plans are estimated again with CPU offload (optimizer states, then parameters)."""
        found = resolved.memory.get(key)
        if found is not None:
            return found
        hardware, info = resolved.hardware, resolved.info
        pipeline, local, fewest = key.pipeline, key.local, key.fewest
        stages = self._stage_settings(info, hardware, pipeline, key) if local else {}
        estimates = {
            m.id: self._estimate(m, info, hardware, stages, "none")
            if local and m.runs == "local"
            else (None, [])
            for m in self.candidates
        }
        counts = fewest or key.counted is not None
        if counts and local and hardware.gpus > 1 and hardware.capacity_gb is not None:
            for m in self.candidates:
                if m.runs == "local":
                    estimates[m.id] = self._on_fewer_gpus(m, info, hardware, stages, estimates[m.id], key)
        training = [m for m in self.candidates if m.kind != "no-training" and m.runs == "local"]
        if local and key.unchecked is not None:
            for m in training:
                estimates[m.id] = self._faster_unchecked_plan(m, estimates[m.id], hardware, key)
        # Checkpoints to CPU RAM unless the profile offloads them already; Unsloth tiles its MLP instead.
        escalates = key.stack == "unsloth" or not key.activation_offloading
        if local and escalates and not hardware.unified and training:
            estimates.update(self._activations_offloaded(info, hardware, key, training, estimates))
        # Unified memory (Apple silicon): CPU RAM is the GPU's own pool, nothing to offload to.
        for offload in ("optimizer", "params"):
            if (
                not local
                or hardware.capacity_gb is None
                or hardware.unified
                or key.stack in NO_DEEPSPEED_STACKS
                or _any_fit(estimates[m.id][0] for m in training)
            ):
                break
            offloaded = {m.id: self._estimate(m, info, hardware, stages, offload) for m in training}
            estimates.update({k: v for k, v in offloaded.items() if _fits_with_ram(v[0], key.ram_gb)})
        facts: dict[str, Scalar] = {}
        for method_id, (result, _) in estimates.items():
            facts.update(method_facts(method_id, result))
        resolved.memory[key] = (estimates, facts)
        return estimates, facts

    def _activations_offloaded(
        self,
        info: ModelInfo,
        hardware: Hardware,
        key: MemoryKey,
        training: list[Method],
        estimates: Mapping[str, tuple[Estimate | None, list[str]]],
    ) -> dict[str, tuple[Estimate | None, list[str]]]:
        """Where no training plan fits on the GPUs, those that fit with gradient checkpointing's
        checkpoints waiting in CPU RAM (TRL's activation_offloading, where the stage's trainer
        offers it), within --ram: they stream one layer's input at a time, far faster than
        offloading optimizer states or parameters (an expert's review: Llama 3.1 70B DPO at 32k
        tokens on 8 H100s got a partial fine-tune with 783 GB of RAM, where LoRA fits so with 86).
        With --stack unsloth, which offloads its checkpoints itself, those that fit with its TiledMLP
        (unsloth_tiled_mlp=True), which keeps no MLP intermediates of a long sequence: its
        notebook trains gpt-oss-20b on 486,607 tokens in 70.5 GiB of an A100 so."""
        if _any_fit(estimates[m.id][0] for m in training):
            return {}
        if key.stack == "unsloth":
            stages = {
                objective: (settings._replace(tiled_mlp=objective != SERVING.id), warnings)
                for objective, (settings, warnings) in self._stage_settings(
                    info, hardware, key.pipeline, key
                ).items()
            }
        else:
            offloaded = key._replace(activation_offloading=True)
            stages = self._stage_settings(info, hardware, key.pipeline, offloaded)
        found = {}
        for m in training:
            result = self._estimate(m, info, hardware, stages, "none")
            e = result[0]
            changed = e is not None and (e.settings.tiled_mlp or offloads_activations(e.settings))
            if changed and _fits_with_ram(e, key.ram_gb):
                found[m.id] = result
        return found

    def _on_unsloth(self, profile: Profile, facts: Mapping[str, Any]) -> Plan | None:
        """The best training plan that fits on an NVIDIA GPU alone with --stack unsloth, where the
        profile named no stack: a rule may leave out the plan that would (gpt-oss's QLoRA loads
        Unsloth's 4-bit upload of an MXFP4 checkpoint only), so no plan's own change names it.
        A tight one if none fits with room: Unsloth sizes its loss chunks to the memory left, and
        its README fits Llama-3.3-70B QLoRA at 12k tokens in 48 GB (an expert's review: a 70B at
        8k on one L40S was offered only CPU offload, several times slower)."""
        if profile.stack is not None or facts.get("gpu_vendor") != "nvidia":
            return None
        # Unsloth samples with its own vLLM on the training GPU: no server of its own.
        leaner = self._ranked(dataclasses.replace(profile, stack="unsloth", vllm_server_gpus=None))
        return _first_on_the_gpus(tuple(s.plan for s in leaner.kept), ("yes", "tight"))

    def _smaller_model_note(self, profile: Profile) -> list[str]:
        """No model given, and the default size trains only offloaded: the largest smaller size
        that trains on the GPUs alone (a newcomer's review: a 6 GB laptop card got a 7B plan with
        14 GB of CPU RAM, and no word of a 3B model)."""
        for size in SMALLER_SIZES:
            ranked = self._ranked(dataclasses.replace(profile, model_size=size))
            first = _first_on_the_gpus(tuple(s.plan for s in ranked.kept), ("yes",))
            if first is not None and first.memory_gb is not None:
                return [
                    t(
                        "No model was given: a {size:g}B model trains on these GPUs alone, {plan} in "
                        "{gb:.1f} GB per GPU (--model-size {size:g}b, or a model of that size: ft-atlas "
                        "models lists them).",
                        size=size,
                        plan=translated(first.name),
                        gb=first.memory_gb,
                    )
                ]
        return []

    def _without_vllm(self, profile: Profile) -> Plan | None:
        """The best training plan that fits these GPUs alone when the online stages sample
        without vLLM (transformers' generate, on the training GPUs)."""
        plain = self._ranked(dataclasses.replace(profile, vllm=False, vllm_server_gpus=None))
        return _first_on_the_gpus(tuple(s.plan for s in plain.kept), ("yes",))

    def _ranked(self, profile: Profile) -> _RankedPlans:
        """The profile's plans scored and ranked, before any note is worded: what a note that asks
        for the best plan under another profile (_on_unsloth, _without_vllm) reads."""
        self._in_this_language()
        resolved = self._resolve(profile)
        hardware, info = resolved.hardware, resolved.info
        facts = profile_facts(profile, hardware, info)
        pipeline, pipeline_rule, pipeline_because = self.choose_pipeline(facts)
        staged = self._stage_facts.get(pipeline)
        if staged is None:
            staged = self._stage_facts.setdefault(pipeline, stage_facts(self.objectives, pipeline))
        facts.update(staged)
        facts.update(hosted_facts(pipeline, self.hosted_services, info))
        local = hardware.has_gpu and profile.model_access != "api"
        inputs = time_inputs(profile)
        several = local and hardware.gpus > 1
        timed = inputs.examples is not None and profile.priority in UNCHECKED_PRIORITIES
        key = MemoryKey(
            pipeline,
            local,
            profile.sized_seq_len,
            profile.micro_batch,
            training_stack(
                profile.stack, hardware, info, tuple(self.catalog.objectives[o] for o in pipeline)
            ),
            profile.vllm,
            run_server_gpus(profile, tuple(self.catalog.objectives[o] for o in pipeline)),
            profile.activation_offloading,
            profile.lora_experts,
            inputs.sampling,
            fewest=profile.priority == "cost",
            prefers_first_variant=profile.priority in ("quality", "balanced") and several,
            unchecked=checking_inputs(inputs) if timed else None,
            classifier=local
            and trains_classifier(profile.goal, profile.data_kind, info.sized.architecture, pipeline),
            ram_gb=profile.ram,
            # Only a plan on several GPUs is timed on fewer (_on_fewer_gpus): one GPU's memory view
            # is shared by every amount of data.
            limits=inputs if inputs.limited and several else None,
            counted=inputs if inputs.examples is not None and several else None,
        )
        estimates, memory_facts = self._memory_view(resolved, key)
        facts.update(memory_facts)
        shared = self.shared_checks.mask(facts)
        libraries = self.library_checks.mask(facts)
        guards = self.guards.mask(facts)
        context = Context(
            facts,
            shared,
            profile.priority,
            pipeline,
            pipeline_rule,
            pipeline_because,
            inputs,
            hardware,
            libraries,
            guards,
            hardware.gpus if local else None,
        )
        at_provider = self._at_provider(context, info)
        scored = [
            self._plan(method, estimates[method.id], at_provider if method.runs == "hosted" else context)
            for method in self.candidates
        ]
        for spec in PLAN_FACTS:
            facts.pop(spec.name, None)
        # Time decides the order and exclusions under --priority cost|speed or a limit; either
        # way it is added to a plan only when the plan is shown (Recommendation.shown).
        timing: Callable[[Plan], Plan] | None = None
        if inputs.examples is not None:
            timing = functools.partial(self._timed_plan, context=context)
            if profile.priority in MEASURED_PRIORITIES or inputs.limited:
                scored = [self._with_time(s, context) for s in scored]
        kept = ranked([s for s in scored if not s.excluded], profile.priority)
        left_out = [s for s in scored if s.excluded]
        return _RankedPlans(kept, left_out, context, timing, info, local)

    def recommend(self, profile: Profile) -> Recommendation:
        kept, left_out, context, timing, info, local = self._ranked(profile)
        facts, pipeline, inputs, hardware = context.facts, context.pipeline, context.inputs, context.hardware
        demoted: list[str] = []
        if timing is not None and profile.priority == "balanced":
            kept, demoted = slow_plans_demoted(kept, timing)
        notes = self._notes(profile, inputs, hardware, info, facts, pipeline)
        notes += self._pipeline_notes(facts, pipeline)
        other_ways = functools.partial(self._other_ways, context=context) if local else None
        notes += time_notes(kept, left_out, profile, other_ways)
        timed = local and hardware.device is not None
        notes += _large_set_note(kept, profile, self.usual_epochs, timed)
        notes += _reasoning_length_note(kept, self.stages_of(pipeline, profile.sampling), profile, info)
        leaner = _leaner_stack_note(kept)
        notes += leaner
        offloaded = [s.plan for s in kept if s.plan.offload in OFFLOADED]
        unsloth = self._on_unsloth(profile, facts) if offloaded else None
        notes += _offload_note(offloaded, unsloth, self.largest_gpu_gib)
        if offloaded and profile.model is None and profile.model_size is None:
            notes += self._smaller_model_note(profile)
        notes += [] if profile.activation_offloading else _activations_offloaded_note(kept)
        notes += _tiled_mlp_note(kept)
        notes += _better_plan_note(kept)
        # A plan that only --max-hours/--budget-usd excluded still fits: less data is its answer.
        over_limit = [s for s in left_out if s.timed.over_limit is not None]
        # ... so no training plan "does not fit" (an expert's review: QLoRA of a Qwen3-8B fits a T4,
        # but --max-hours 4 left it out and the note asked for a 35 GiB GPU).
        if not leaner and local and not any(s.plan.fit in ("yes", "tight") for s in over_limit):
            notes += _too_large_note(
                kept,
                functools.partial(on_a_mac, self.catalog) if hardware.unified else None,
                functools.partial(self._without_vllm, profile) if profile.vllm else None,
                ram_gb=profile.ram,
                largest_gib=self.largest_gpu_gib,
            )
        if timing is not None and kept:  # the first plan is shown, so timed, anyway
            first = timing(kept[0].plan)
            notes += _across_nodes_note(first, profile)
            notes += self._unchecked_note(first, context) if local else []
            notes += self._larger_generation_note(first, context) if local else []
            notes += self._packed_note(first, context) if local else []
            notes += self._experts_note(first, context) if local else []
            notes += demoted + _faster_plan_note(kept, timing, profile.priority)
        if not hardware.has_gpu and profile.model_access == "weights" and not profile.hardware_unused:
            notes += _rented_gpu_note(self.rentable, profile, info.sized, left_out)
        if not kept and not over_limit:
            # Every method was left out by a rule (an encoder asked to chat): memory is not why.
            notes.append(
                t(
                    "No plan applies to this profile: a rule leaves out every method (--explain gives "
                    "each one's reason)."
                )
            )
        # A fused loss that makes the best plan fit is the answer (said just before).
        elif (
            local  # an API user's hosted model is not on this GPU
            and hardware.capacity_gb is not None
            and not leaner
            and not any(s.plan.fit in ("yes", "tight") for s in (*kept, *over_limit))
        ):
            notes.append(
                t(
                    "Nothing fits this GPU: pick a smaller model, train on a GPU with more memory, or use "
                    "a hosted model with prompting or RAG. Unsloth runs data parallel only, a whole model "
                    "on each GPU; with another --stack (trl), more GPUs shard full FT and LoRA with "
                    "ZeRO-3/FSDP."
                )
                if profile.stack in NO_DEEPSPEED_STACKS
                else t(
                    "Nothing fits this Mac: pick a smaller model, a Mac with more unified memory, or a "
                    "hosted model with prompting or RAG (one Mac trains on its one GPU)."
                )
                if hardware.unified
                else t(
                    "Nothing fits this GPU: add GPUs (full FT and LoRA shard with ZeRO-3/FSDP), "
                    "pick a smaller model, or use a hosted model with prompting or RAG."
                )
            )
        return Recommendation(
            profile=self._normalized(profile, hardware, info),
            facts=facts,
            notes=tuple(notes),
            plans=tuple(s.plan for s in kept),
            excluded=tuple(s.plan if timing is None else timing(s.plan) for s in left_out),
            model=info,
            request=profile,
            evaluation=self._advice(facts, kept[0].plan if kept else None),
            timing=timing,
        )

    def _advice(self, facts: Facts, best: Plan | None) -> tuple[Advice, ...]:
        """The evaluation advice for this profile and its top plan: `plan.*` facts tell advice
        on training (when to stop, what it may forget) from that on a RAG or prompting answer."""
        mask = self.evaluation_checks.mask(facts if best is None else {**facts, **plan_facts(best)})
        return tuple(a for i, a in enumerate(self.evaluation) if mask >> i & 1)

    def _stages_text(self, pipeline: Sequence[str]) -> str:
        return " → ".join(stage_label(self.stage_names[s]) for s in pipeline)

    def _at_provider(self, context: Context, info: ModelInfo) -> Context:
        """The context of a plan trained at a provider: where the pipeline has an objective no
        provider runs (ORPO), the stages one runs instead (hosted_pipeline), and the facts and rules
        that read the stages, with the reason in place of the pipeline rule's (a review: the hosted
        plan took ORPO's rules and a penalty for ORPO it no longer runs)."""
        stages, instead = self.hosted_pipeline(context.pipeline)
        if instead is None:
            return context
        facts = {**context.facts, **stage_facts(self.objectives, stages)}
        facts.update(hosted_facts(stages, self.hosted_services, info))
        return context._replace(
            facts=facts,
            shared=self.shared_checks.mask(facts),
            pipeline=stages,
            pipeline_rule=None,
            pipeline_because=instead,
            libraries=self.library_checks.mask(facts),
            guards=self.guards.mask(facts),
        )

    def hosted_pipeline(self, pipeline: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
        """The stages a provider runs for `pipeline`, and why they differ from it (None: they do
        not): an objective no provider offers (ORPO) becomes the ones its `hosted_as` names."""
        found = self._hosted_pipelines.get(pipeline)
        if found is None:
            stages: list[str] = []
            reasons: list[str] = []
            for objective in pipeline:
                instead = self.hosted_as.get(objective)
                stages += instead.objectives if instead else [objective]
                if instead:
                    reasons.append(instead.because.get())
            # dict.fromkeys: SFT then ORPO at a provider is SFT then DPO, one SFT job.
            found = (tuple(dict.fromkeys(stages)), " ".join(reasons) or None)
            self._hosted_pipelines[pipeline] = found  # one entry per pipeline rule at most
        return found

    def _pipeline_notes(self, facts: Facts, pipeline: tuple[str, ...]) -> list[str]:
        """The other pipelines this data allows, with why and when they would win."""
        key = tuple(map(facts.get, self.pipeline_reads))
        found = self._pipeline_memo.get(key)
        if found is None:
            if len(self._pipeline_memo) >= PLAN_MEMO_LIMIT:
                self._pipeline_memo.clear()
            others = self.other_pipelines(facts, pipeline)
            listed = "; ".join(
                f"{self._stages_text(p.pipeline)}: {p.because.get()} ({p.source})" for p in others
            )
            found = self._pipeline_memo[key] = (
                [t("Other pipelines for this data: {listed}", listed=listed)] if others else []
            )
        return list(found)

    def _plan(self, method: Method, estimated: tuple[Estimate | None, list[str]], context: Context) -> Scored:
        facts, shared = context.facts, context.shared
        own = 0
        active = self.unguarded[method.id]
        if context.guards & self.guard_bits[method.id]:
            guards = context.guards
            active = [(bit, c) for bit, guard, c in self.own_rules[method.id] if not guard or guard & guards]
        if active:
            # The candidate's own facts go into the shared dict (no copy per plan: this is the
            # hot loop of batch mode); recommend() removes them when every plan is scored.
            facts.update(self._candidate_facts(method, estimated, context.available))
            for bit, compiled in active:
                if compiled.predicate(facts):
                    own |= bit
        # A plan is a function of these alone: the estimate entry stands for the hardware, the
        # model and the pipeline's stages; the pipeline rule for the pipeline and its reason. The
        # memo keeps the entry alive, so its id cannot be reused while the plan is remembered.
        key = (
            method.id,
            shared & self.shared_bits[method.id],
            own,
            context.priority,
            context.pipeline_rule,
            context.pipeline,  # a plan at a provider runs its own (Engine._at_provider)
            id(estimated),
            context.libraries,
            shared & self.alternatives_excluding,
        )
        found = self._plans.get(key)
        if found is None:
            scored = self._new_plan(method, self._fired(method, shared, own), estimated, context)
            if len(self._plans) >= PLAN_MEMO_LIMIT:
                self._plans.clear()
            found = self._plans[key] = (estimated, scored)
        return found[1]

    def _candidate_facts(
        self, method: Method, estimated: tuple[Estimate | None, list[str]], available: int | None
    ) -> Facts:
        """A candidate's own facts, remembered per estimate entry (kept alive with its facts); an
        entry belongs to one memory view, so to one hardware and its GPU count."""
        found = self._own_facts.get(id(estimated))
        if found is None:
            if len(self._own_facts) >= PLAN_MEMO_LIMIT:
                self._own_facts.clear()
            own = plan_facts(candidate(method, estimated[0], available))
            found = self._own_facts[id(estimated)] = (estimated, own)
        return found[1]

    def _with_time(self, base: Scored, context: Context) -> Scored:
        """The scored plan with the time that ranks or excludes it (the plan is copied only when
        it is shown)."""
        plan = base.plan
        hosted = plan.runs == "hosted"
        timed = self._timed(plan.estimate, plan.pipeline, context.hardware, context.inputs, hosted)
        # Built directly: _replace costs twice as much, and this runs for every candidate.
        excluded = base.excluded or timed.over_limit is not None
        return Scored(rank=base.rank, plan=base.plan, excluded=excluded, advice=base.advice, timed=timed)

    def _unchecked_note(self, plan: Plan, context: Context) -> list[str]:
        """The first plan fits without gradient checkpointing too, and trains faster so: say by how
        much (an expert's review: a DPO recipe on an A100 80GB kept checkpointing at 20 GB of 86,
        where without it the plan needs 45 GB and runs a third faster)."""
        return self._faster_setting_note(plan, context, "unchecked", unchecks, self._faster_unchecked)

    def _faster_setting_note(
        self,
        plan: Plan,
        context: Context,
        setting: str,
        applies: Callable[[Estimate], bool],
        note: Callable[[Plan, Estimate, Context], list[str]],
    ) -> list[str]:
        """The note on a setting that makes plan 1, which fits on its GPUs and is timed, train
        faster: `note` words it where `applies`; remembered per estimate, profile inputs, hardware
        and setting."""
        e = plan.estimate
        if e is None or plan.fit != "yes" or plan.offload in OFFLOADED or not plan.hours or not applies(e):
            return []
        key = (id(e), context.inputs, id(context.hardware), setting)
        found = self._unchecked.get(key)
        if found is None:
            if len(self._unchecked) >= PLAN_MEMO_LIMIT:
                self._unchecked.clear()
            # The estimate and hardware are kept alive with the entry: their ids stay theirs.
            found = self._unchecked[key] = (e, context.hardware, note(plan, e, context))
        return found[2]

    def _faster_unchecked(self, plan: Plan, e: Estimate, context: Context) -> list[str]:
        run = estimator(e.method, e.memory_model, e.shape)
        sized = [run(s.settings._replace(gradient_checkpointing=False)) for s in (e, *e.other_stages)]
        if any(s.fit != "yes" for s in sized):
            return []
        worst = _heaviest_stage(sized)
        assert worst is not None  # one stage at least: the plan's own
        saving = self._saving_hours(plan, worst, context.hardware, context.inputs)
        if saving is None:
            return []
        return [
            t(
                "Plan 1 also fits without gradient checkpointing ({gb:g} GB per GPU): turned off "
                "(GRADIENT_CHECKPOINTING = False in its Python recipe; axolotl's gradient_checkpointing: "
                "false, LLaMA-Factory's disable_gradient_checkpointing: true, mlx-lm's grad_checkpoint: "
                "false; `ft-atlas estimate ... --no-gradient-checkpointing` sizes it), it trains in "
                "about {after} instead of {before}, {percent} % less. It is sized and timed with "
                "checkpointing on (TRL's, axolotl's and LLaMA-Factory's default), which leaves memory "
                "to spare.",
                gb=worst.per_gpu_gb,
                **_saving_words(saving),
            )
        ]

    def _saving_hours(
        self, plan: Plan, changed: Estimate, hardware: Hardware, inputs: TimeInputs
    ) -> tuple[float, float] | None:
        """The hours of `plan` with its stages sized as `changed` and sampled as `inputs` says, and
        its own, where they save FASTER_SETTING_SAVING of its own and FASTER_SETTING_HOURS; else None."""
        stages = self.stages_of(plan.pipeline, inputs.sampling)
        timed = time_and_cost(changed, stages, hardware.device, hardware.price, inputs, self.usual_epochs)
        hours, before = timed.hours, plan.hours or 0.0
        if (
            hours is None
            or hours > before * (1 - FASTER_SETTING_SAVING)
            or before - hours < FASTER_SETTING_HOURS
        ):
            return None
        return hours, before

    def _larger_generation_note(self, plan: Plan, context: Context) -> list[str]:
        """Plan 1 samples online without --generation-batch: where sampling LARGER_GENERATION times
        as many completions a round still fits and trains at least FASTER_SETTING_SAVING faster, say so
        (an expert's review: GRPO of a 7B on one H100 took 18 h at 16 completions a step, two
        prompts, and about 11 h at 64)."""
        if context.inputs.sampling.generation_batch is not None:
            return []

        def online(e: Estimate) -> bool:
            return any(s.settings.objective.samples_groups for s in (e, *e.other_stages))

        return self._faster_setting_note(plan, context, "generation", online, self._faster_generation)

    def _packed_note(self, plan: Plan, context: Context) -> list[str]:
        """Plan 1 trains unpacked examples that its trainer could pack: where packing saves enough
        (_saving_hours), say so (an expert's review: SFT of 5M examples on 8 H100s took 18-45 h
        unpacked and 10-25 h packed, with nothing said). Not timed where it cannot save: examples
        as long as the sequence, a classifier's rows (never packed), a sequence split over GPUs."""
        inputs = context.inputs
        if inputs.packing:
            return []

        def unpacked(e: Estimate) -> bool:
            s = e.settings
            if s.classifier_head or s.sequence_parallel > 1 or inputs.tokens() >= s.seq_len:
                return False
            return bool(_packable_stages(e))

        return self._faster_setting_note(plan, context, "packed", unpacked, self._faster_packed)

    def _faster_packed(self, plan: Plan, e: Estimate, context: Context) -> list[str]:
        # Packed rows are as long as the sequence length the plan is already sized for.
        saving = self._saving_hours(plan, e, context.hardware, context.inputs._replace(packing=True))
        if saving is None:
            return []
        return [
            t(
                "Plan 1's {stages} stage trains its examples unpacked, each micro-batch padded to its "
                "longest. Packed into full sequences (--packing: TRL's packing=True, whose bfd strategy "
                "keeps the examples apart under FlashAttention, which the recipes load where the GPU has "
                "it; axolotl's sample_packing, LLaMA-Factory's neat_packing), plan 1 trains in about "
                "{after} instead of {before}, {percent} % less.",
                stages=", ".join(_packable_stages(e)),
                **_saving_words(saving),
            )
        ]

    def _faster_generation(self, plan: Plan, e: Estimate, context: Context) -> list[str]:
        online = next(s.settings for s in (e, *e.other_stages) if s.settings.objective.samples_groups)
        now = generation_per_gpu(online.objective, online.replicas, online.batch_size) * online.replicas
        larger = Sampling(context.inputs.sampling.num_generations, now * LARGER_GENERATION)
        run = estimator(e.method, e.memory_model, e.shape)
        stages_now = (e, *e.other_stages)
        sized = [run(s.settings._replace(objective=larger.apply(s.settings.objective))) for s in stages_now]
        worst = _heaviest_stage(sized)
        if worst is None or any(s.fit != "yes" for s in sized):
            return []
        group = max(1, online.objective.samples_per_prompt)
        # Each step takes a round's prompts: a run too short for MIN_STEPS of them is left alone.
        examples = context.inputs.examples or 0
        usual = self.usual_epochs.get(online.objective.id)
        epochs = context.inputs.epochs or (usual.of(examples) if usual is not None else 1.0)
        if examples * epochs * group < MIN_STEPS * now * LARGER_GENERATION:
            return []
        saving = self._saving_hours(plan, worst, context.hardware, context.inputs._replace(sampling=larger))
        if saving is None:
            return []
        return [
            t(
                "Plan 1 also fits sampling {larger} completions a step ({prompts} prompts' groups of "
                "{group}) instead of {now} ({gb:g} GB per GPU; --generation-batch {larger} sizes and "
                "times it): about {after} instead of {before}, {percent} % less, in fewer, larger steps. "
                "DeepSeekMath's GRPO trained with a batch of 1,024, 64 samples a question (arXiv "
                "2402.03300, 4.1.4).",
                larger=now * LARGER_GENERATION,
                prompts=now * LARGER_GENERATION // group,
                group=group,
                now=now,
                gb=worst.per_gpu_gb,
                **_saving_words(saving),
            )
        ]

    def _experts_note(self, plan: Plan, context: Context) -> list[str]:
        """Plan 1 is LoRA on a mixture of experts that leaves its routed experts frozen: where
        adapting them too (--lora-experts) also fits, with its optimizer or 8-bit AdamW, say so with
        its memory and time (an expert's review: Qwen3-30B-A3B's plan 1 trained attention alone on
        an H100 where the experts' adapters fit in 75 GB with 8-bit AdamW)."""

        def frozen(e: Estimate) -> bool:
            # On one GPU only: over several, --lora-experts searches the strategies again, which
            # plan 1's settings re-sized here would not say (a diff review).
            one_gpu = e.settings.gpus == 1
            return one_gpu and plan.experts_frozen is not None and e.memory_model in EXPERT_ADAPTER_MODELS

        return self._faster_setting_note(plan, context, "experts", frozen, self._with_experts)

    def _with_experts(self, plan: Plan, e: Estimate, context: Context) -> list[str]:
        run = estimator(e.method, e.memory_model, e.shape)
        stages_now = (e, *e.other_stages)
        optimizers = dict.fromkeys((e.settings.optimizer, EXPERTS_LEANER_OPTIMIZER))
        for optimizer in optimizers:
            sized = [run(s.settings._replace(lora_experts=True, optimizer=optimizer)) for s in stages_now]
            worst = _heaviest_stage(sized)
            if worst is not None and all(s.fit == "yes" for s in sized):
                break
        else:
            return []
        hardware, inputs = context.hardware, context.inputs
        stages = self.stages_of(plan.pipeline, inputs.sampling)
        timed = time_and_cost(worst, stages, hardware.device, hardware.price, inputs, self.usual_epochs)
        if timed.hours is None or not plan.hours:
            return []
        leaner = (
            "" if optimizer == e.settings.optimizer else t(" with {label}", label=OPTIMIZERS[optimizer].label)
        )
        return [
            t(
                "Plan 1 adapts this mixture of experts' attention, not its routed experts. Adapting them "
                "too also fits{leaner}: {gb:g} GB per GPU, about {after} instead of {before} "
                "(--lora-experts sizes it and writes PEFT's target_parameters into the recipe). LoRA "
                "matched full fine-tuning only where it adapted the MLP and mixture-of-experts layers "
                "(Schulman et al., 'LoRA Without Regret', Thinking Machines 2025).",
                leaner=leaner,
                gb=worst.per_gpu_gb,
                after=hours_text(timed.hours),
                before=hours_text(plan.hours),
            )
        ]

    def _timed_plan(self, base: Plan, context: Context) -> Plan:
        """The plan with its time and cost for this profile's data (the same plan serves many
        amounts of data: the time is added to a copy, remembered per amount)."""
        inputs = context.inputs
        key = (id(base), inputs)
        found = self._timed_plans.get(key)
        if found is None:
            timed = self._timed(base.estimate, base.pipeline, context.hardware, inputs, base.runs == "hosted")
            if len(self._timed_plans) >= PLAN_MEMO_LIMIT:
                self._timed_plans.clear()
            # `base` is kept alive with its entry: its id stays its own.
            found = self._timed_plans[key] = (base, base.with_time(timed))
        return found[1]

    def _fired(self, method: Method, shared: int, own: int) -> list[CompiledRule]:
        """The method's rules that fired, in the knowledge base's order: a few of its ~50 fire, so
        the set bits are walked (lowest first) and their rules put back in order."""
        by_shared, by_own = self.rules_by_bit[method.id]
        hits: list[RulePlace] = []
        bits = shared & self.shared_bits[method.id]
        while bits:
            low = bits & -bits
            hits.append(by_shared[low])
            bits ^= low
        while own:
            low = own & -own
            hits.append(by_own[low])
            own ^= low
        hits.sort(key=_place)
        return [c for _, c in hits]

    def _new_plan(
        self,
        method: Method,
        rules: list[CompiledRule],
        estimated: tuple[Estimate | None, list[str]],
        context: Context,
    ) -> Scored:
        result, warnings = estimated
        priority = context.priority
        # Rounded so that scores equal on paper tie exactly (and keep the KB's order) whatever
        # the order of the float additions.
        points = round(sum(c.points for c in rules), 9)  # exact zero when prefer and avoid cancel
        raw = round(self.base_scores[method.id, priority] + points, 9)
        advice = round(sum(c.points for c in rules if not c.in_measure), 9)
        trains = method.kind != "no-training"
        plan_pipeline = context.pipeline if trains else ()
        plan = Plan(
            method=method.id,
            name=method.name,
            kind=method.kind,
            category=method.category,
            pipeline=plan_pipeline,
            score=squash(raw),
            fit=None if result is None else result.fit,
            memory_gb=None if result is None else result.per_gpu_gb,
            fired=tuple(c.rule for c in rules),
            pipeline_rule=context.pipeline_rule if trains else None,
            tools=self._tools(method, plan_pipeline, context.libraries),
            estimate=result,
            capacity_gb=None if result is None else result.capacity_gb,
            pipeline_because=context.pipeline_because if trains else None,
            warnings=tuple(warnings),
            pitfalls=self._pitfalls(method, context.libraries),
            variant=self._variant(method, result),
            alternatives=tuple(
                a for a in self.alternatives[method.id] if not context.shared & self.excluding_bits[a[0]]
            ),
            gpus_available=context.available,
            fewer_gpus_explained=trains and self._count_chosen_by_time(result, context),
            runs=method.runs,
            experimental_stages=tuple(s for s in plan_pipeline if s in self.experimental),
            basis=self.bases[method.id, priority],
            pipeline_spec=self.pipeline_specs.get(context.pipeline_rule or "") if trains else None,
            stage_names=tuple(self.stage_names[s] for s in plan_pipeline),
            vllm_excluded=self._excluded_with_vllm(method, context.facts),
        )
        excluded = any(c.excludes for c in rules)
        return Scored(rank_key(plan, raw, self.order[method.id]), plan, excluded, advice)

    @staticmethod
    def _count_chosen_by_time(result: Estimate | None, context: Context) -> bool:
        """Whether the plan's number of GPUs was chosen by its time (Engine._fastest_count, whose
        caveat says why), not by a variant that runs on one GPU."""
        if result is None or context.priority == "cost" or context.inputs.examples is None:
            return False
        return not result.settings.optimizer_in_backward

    def _excluded_with_vllm(self, method: Method, facts: Facts) -> bool:
        """Whether --vllm would leave this plan out (gpt-oss, QLoRA sampled by TRL): the plan's key
        holds its estimate entry, so the model and stack these rules read."""
        excluders = self.vllm_excluders[method.id]
        if not excluders or facts.get("vllm") is not False:
            return False
        with_vllm = {**facts, "vllm": True}
        return any(c.predicate(with_vllm) for c in excluders)

    def _other_ways(self, s: Scored, context: Context) -> list[str]:
        """How a plan the limits excluded would train all of its data within them."""
        return (
            _on_more_gpus_note(self._on_more_gpus(s, context))
            + _all_within_limits_note(self._sampled_with_vllm(s, context), "--vllm")
            + _all_within_limits_note(self._packed_within_limits(s, context), "--packing")
        )

    def _packed_within_limits(self, s: Scored, context: Context) -> tuple[Scored, Timed] | None:
        """A plan the limits excluded that trains unpacked examples, within them packed: no padding
        to the longest of each micro-batch, and fuller micro-batches."""
        e, time, inputs = s.plan.estimate, s.timed.time, context.inputs
        if e is None or time is None or inputs.packing:
            return None
        unpacked = (st for st in time.stages if not st.objective.packs(st.workload.packing))
        if not any(st.objective.packs(True) for st in unpacked):
            return None
        packed = inputs._replace(packing=True)
        timed = self._timed(e, s.plan.pipeline, context.hardware, packed)
        share = share_within_limits(timed, packed)
        return (s, timed) if share is not None and share >= 1 else None

    def _sampled_with_vllm(self, s: Scored, context: Context) -> tuple[Scored, Timed] | None:
        """A plan the limits excluded that samples with transformers' generate, within them when a
        colocated vLLM engine samples and the plan still fits beside it (an expert's review: GRPO of
        a 7B on an H100 was sent to less data, where vLLM samples several times faster). Not where
        a rule leaves the plan out with --vllm (Plan.vllm_excluded), nor with a vLLM server."""
        e, time, inputs = s.plan.estimate, s.timed.time, context.inputs
        if e is None or time is None or e.settings.vllm or context.facts.get("vllm_server"):
            return None
        if s.plan.vllm_excluded or not time.vllm_would_sample:
            return None
        found = with_strategy(estimator(e.method, e.memory_model, e.shape), e.settings._replace(vllm=True))
        if found.fit != "yes":
            return None
        timed = self._timed(found, s.plan.pipeline, context.hardware, inputs)
        share = share_within_limits(timed, inputs)
        return (s, timed) if share is not None and share >= 1 else None

    def _on_more_gpus(self, s: Scored, context: Context) -> tuple[Scored, int, Timed] | None:
        """The fewest GPUs of the profile's kind past its own, within one node, on which a plan
        --max-hours excluded trains all of its data within the limits, with that time. More GPUs
        shorten the hours, not the GPU-hours: a budget alone is never met by them. Not for one
        chip that is the machine's memory (a Mac), nor a free tier's fixed GPUs."""
        e, hardware, inputs = s.plan.estimate, context.hardware, context.inputs
        if e is None or inputs.max_hours is None or hardware.unified or hardware.free_tier:
            return None
        run = estimator(e.method, e.memory_model, e.shape)
        for gpus in (n for n in GPU_COUNTS if max(e.settings.all_gpus, hardware.gpus) < n <= GPUS_PER_NODE):
            found = with_strategy(run, on_gpus(e.settings, gpus))
            if found.fit != "yes":
                continue
            timed = self._timed(found, s.plan.pipeline, hardware, inputs)
            share = share_within_limits(timed, inputs)
            if share is not None and share >= 1:
                return s, gpus, timed
        return None

    def _timed(
        self,
        result: Estimate | None,
        pipeline: tuple[str, ...],
        hardware: Hardware,
        inputs: TimeInputs,
        hosted: bool = False,
    ) -> Timed:
        """Time and cost, remembered: plans that differ only in their rules share them; `hosted`:
        the plan trains at a provider."""
        key = (id(result), pipeline, id(hardware), inputs, hosted)
        found = self._times.get(key)
        if found is None:
            if len(self._times) >= PLAN_MEMO_LIMIT:
                self._times.clear()
            timed = time_and_cost(
                result,
                self.stages_of(pipeline, inputs.sampling),
                hardware.device,
                hardware.price,
                inputs,
                self.usual_epochs,
                hosted,
            )
            # The estimate and hardware are kept alive with the entry: their ids stay theirs.
            found = self._times[key] = (result, hardware, timed)
        return found[2]

    def stages_of(self, pipeline: tuple[str, ...], sampling: Sampling) -> tuple[Objective, ...]:
        """The pipeline's objectives, as memory and time read them."""
        return tuple(sampling.apply(self.catalog.objectives[o]) for o in pipeline)

    @staticmethod
    def _variant(method: Method, result: Estimate | None) -> str | None:
        """The label of the variant an estimate used, unless it is the method's default setup."""
        variant = variant_of(method, result)
        return None if variant is None or variant is method.variants[0] else variant.label

    def _tools(self, method: Method, pipeline: tuple[str, ...], libraries: int = 0) -> tuple[ToolRef, ...]:
        key = (method.id, pipeline, libraries)
        if key not in self._tools_cache:
            self._tools_cache[key] = self._collect_tools(method, pipeline, libraries)
        return self._tools_cache[key]

    def _applies(self, entry: LibraryEntry | Pitfall, libraries: int) -> bool:
        bit = self.library_bits.get(id(entry))
        return bit is None or bool(bit & libraries)

    def _pitfalls(self, method: Method, libraries: int) -> tuple[str, ...]:
        """The first two pitfalls that apply to this profile: every plan's standing caveats."""
        key = (method.id, libraries)
        found = self._pitfall_cache.get(key)
        if found is None:
            applying = (p for p in method.pitfalls if self._applies(p, libraries))
            found = self._pitfall_cache[key] = tuple(p.get() for p in itertools.islice(applying, 2))
        return found

    def _collect_tools(
        self, method: Method, pipeline: tuple[str, ...], libraries: int
    ) -> tuple[ToolRef, ...]:
        """The library entries that apply to this plan, without repeats: the method's own, then
        each stage's (a hosted method's provider API does every stage). An entry whose `when`
        does not hold for the profile is left out; a stage's entry that names a trainer the
        method's own entries already name (SFTTrainer(peft_config=...)) is a repeat."""
        methods = (
            [method] if method.runs == "hosted" else [method, *(self.catalog.methods[o] for o in pipeline)]
        )
        # A method's own entries show it inside SFTTrainer; a pipeline without SFT (GRPO,
        # continued pre-training) uses its stage's trainer instead.
        skip_sft = bool(pipeline) and "sft" not in pipeline
        # LLaMA-Factory has no GRPO stage: its LoRA entry would point a GRPO plan at it.
        unable = {f for f in self.stage_frameworks if pipeline and not all(_names(m, f) for m in methods)}
        refs: list[ToolRef] = []
        named: set[tuple[str, str]] = set()  # (library, trainer class) of the entries kept so far
        for m in methods:
            # An entry for this hardware only (mlx-lm on Apple silicon) is its native trainer:
            # it comes first, before the CUDA-first libraries that also run there.
            for lib in sorted(m.libraries, key=_not_vendor_only):
                if lib.status not in ("stable", "external") or not self._applies(lib, libraries):
                    continue
                if lib.library in unable:
                    continue
                if skip_sft and m is method and "SFT" in lib.entry:
                    continue
                trainers = {(lib.library, t) for t in _trainers(lib.entry)}
                if m is not method and trainers and trainers <= named:
                    continue
                named |= trainers
                refs.append(ToolRef(lib.library, lib.entry, lib.status))
        return tuple(dict.fromkeys(refs))

    def _notes(
        self,
        profile: Profile,
        inputs: TimeInputs,
        hardware: Hardware,
        info: ModelInfo,
        facts: Facts,
        pipeline: tuple[str, ...],
    ) -> list[str]:
        notes = [] if profile.hardware_unused else [t("Hardware: {note}.", note=hardware.note)]
        if info.template and profile.model_access == "api":
            notes.append(
                t("Model: a hosted model, used through its provider's API: it has no weights here to size.")
            )
        elif info.template:
            given = "" if profile.model_size is not None else t(" (--model/--model-size not given)")
            notes.append(
                t(
                    "Model: {model}{given}, assumed to have {shape}.",
                    model=info.label,
                    given=given,
                    shape=info.template,
                )
            )
            if given and facts["goal"] == "classify" and facts["data_kind"] == "labeled":
                notes.append(
                    t(
                        "No model given for labelled classification: a small encoder trained whole is "
                        "the usual first model, fast to train and cheap to serve (for English or code, "
                        "ModernBERT-base, 0.15B: --model answerdotai/ModernBERT-base; for other languages "
                        "a multilingual encoder such as XLM-RoBERTa: --model FacebookAI/xlm-roberta-base); "
                        "compare it with a decoder on the held-out split."
                    )
                )
        elif info.other_checkpoint is not None:  # the entry's name says the other variant
            notes.append(t("Model: {origin}.", origin=info.origin))
        else:
            variant = f", {pt('model variant', info.variant)}" if info.variant else ""
            notes.append(
                t(
                    "Model: {model}{variant} ({origin}).",
                    model=info.label,
                    variant=variant,
                    origin=info.origin,
                )
            )
        notes.extend(t("Model: {note}.", note=note) for note in info.notes)
        if info.api_open_weights and not profile.hardware_unused:
            notes.append(
                t(
                    "--model-access api with a GPU: {model} is an open-weights model, but only what works "
                    "through an API is ranked (a provider's tuning, prompting, retrieval). If you can "
                    "download its weights, drop --model-access api to see the plans that train it on "
                    "your GPU.",
                    model=info.label,
                )
            )
        elif profile.model_access == "api" and not profile.hardware_unused and hardware.has_gpu:
            # An expert's review: an API user with a GPU heard nothing of training an open model on it.
            notes.append(
                t(
                    "--model-access api with a GPU: {model} trains only at its provider. An open-weights "
                    "model can be trained on your GPU instead: --model-access weights with --model (a "
                    "Hugging Face id or a catalog name) or --model-size ranks the plans that train it.",
                    model=info.label,
                )
            )
        stages = self.stages_of(pipeline or DEFAULT_PIPELINE, profile.sampling)
        usual = max(usual_seq_len(info, o) for o in stages) if info.shape is not None else None
        # Nothing is trained locally without weights or a GPU: no length is truncated or packed here.
        local = hardware.capacity_gb is not None and profile.model_access != "api"
        limit = (profile.sized_seq_len or usual) if local else None
        architecture = info.shape.architecture if info.shape is not None else None
        classifier = local and (
            architecture == "encoder"
            or (  # mlx-lm trains the labels as answers (kb/vocabulary.py)
                trains_classifier(profile.goal, profile.data_kind, architecture, pipeline)
                and facts["stack"] not in NO_CLASSIFIER_STACKS
            )
        )
        notes += length_notes(profile, info, limit, self.stages_of(pipeline, profile.sampling), classifier)
        notes += idle_options(profile, info.shape, self.stages_of(pipeline, profile.sampling))
        if local:
            stages = self.stages_of(pipeline, profile.sampling)
            notes += idle_gpus_note(inputs, hardware.gpus, limit, stages)
        notes.extend(t("Model warning: {warning}.", warning=warning) for warning in info.warnings)
        if profile.data_kind is None:
            said = N_("--data-kind not given: assumed '{data}', usual for goal '{goal}'.")
            if profile.goal == FIELDS_BY_NAME["goal"].default:
                # A newcomer's review: the goal assumed was never said.
                said = N_(
                    "--data-kind not given: assumed '{data}', usual for goal '{goal}', itself the default "
                    "(--goal says yours)."
                )
            notes.append(t(said, data=facts["data_kind"], goal=profile.goal))
        return notes

    def _normalized(self, profile: Profile, hardware: Hardware, info: ModelInfo) -> dict[str, Scalar]:
        normalized = profile.to_dict()
        normalized.update(
            {
                # A free tier keeps its name: it is what prices the plans at nothing.
                "gpu": (hardware.free_tier or hardware.gpu_id) if hardware.has_gpu else "none",
                "vram": hardware.memory_gib,
                "gpus": hardware.gpus,
                "model": info.reference,
                "model_size": info.params_b,
                "model_variant": info.variant,
            }
        )
        return normalized
