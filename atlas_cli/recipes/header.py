"""The comment block at the top of every recipe: profile, plan, the memory, time and cost of the
recipe's own settings, every setting with its source, the library versions it was written for,
and how to run it."""

from __future__ import annotations

import ast
import json
import textwrap
from typing import Any

from atlas_cli.core.estimates import Estimate
from atlas_cli.core.plans import band_text, hours_text
from atlas_cli.errors import one_line
from atlas_cli.kb.vocabulary import MEMORY_MODELS
from atlas_cli.recipes.settings import Recipe, Value

WIDTH = 100
VERDICT = {"yes": "fits", "tight": "TIGHT (inside the 10 % safety margin)", "no": "DOES NOT FIT"}
SHARDING = {"ddp": "data parallel", "zero2": "ZeRO-2", "zero3": "ZeRO-3"}


def wrapped(text: str, indent: str = "#   ", first: str = "# ") -> list[str]:
    """`text` as comment lines. Every header line passes through here, and its text comes from
    the KB and the profile: control characters and line separators are escaped first (one_line),
    because YAML ends a comment at U+0085, U+2028 and U+2029 (a note could start a new key) and
    Python refuses a NUL anywhere in a script."""
    return textwrap.wrap(
        one_line(text), WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False
    )


def _gb(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f} GB"


def _conditions(e: Estimate) -> str:
    s = e.settings
    details = (
        f"{s.precision}, {s.optimizer}, stack {s.stack}, "
        f"gradient checkpointing {'on' if s.gradient_checkpointing else 'off'}, "
        f"sequence length {s.seq_len}, {s.gpus} GPU(s)"
    )
    if s.gpus > 1:
        details += f" with {SHARDING.get(s.sharding, s.sharding)}"
    if s.offload != "none":
        details += f", {s.offload} offloaded to the CPU"
    if MEMORY_MODELS[e.memory_model].family in ("lora", "adalora"):
        details += f", rank {s.lora_rank}"
    return details


def memory_lines(recipe: Recipe) -> list[str]:
    """The recipe's own estimate per stage, and the ranking's estimate when it differs."""
    plan = recipe.plan
    if not recipe.estimates:
        if plan.estimate is None:
            return ["Memory estimate: none (no local GPU in the profile, or API access only)."]
        e = plan.estimate
        fit = VERDICT.get(str(e.fit), "fit not checked")
        return [
            f"Memory estimate: about {_gb(e.per_gpu_gb)} per GPU of {_gb(e.capacity_gb)}: {fit} "
            f"({_conditions(e)}). How it is computed: docs/memory.md."
        ]
    stages = "; ".join(
        f"{stage} {_gb(e.per_gpu_gb)} at batch {e.settings.batch_size}: "
        f"{VERDICT.get(str(e.fit), 'fit not checked')}"
        for stage, e in recipe.estimates.items()
    )
    first = next(iter(recipe.estimates.values()))
    lines = [
        f"Memory estimate for this recipe's settings, per GPU of {_gb(first.capacity_gb)}: {stages} "
        f"({_conditions(first)}). How it is computed: docs/memory.md."
    ]
    ranked = plan.estimate
    if ranked is not None and (ranked.per_gpu_gb, ranked.settings.stack) != (
        max(e.per_gpu_gb for e in recipe.estimates.values()),
        first.settings.stack,
    ):
        lines.append(
            f"(`ft-atlas recommend` ranked the plan at {_gb(ranked.per_gpu_gb)}: batch "
            f"{ranked.settings.batch_size}, stack {ranked.settings.stack}, {ranked.settings.optimizer}.)"
        )
    return lines


def time_line(recipe: Recipe) -> str:
    timed = recipe.timed
    if timed is None or timed.time is None:
        why = timed.note if timed is not None and timed.note else "no time estimate"
        return f"Time and cost: unknown ({why})."
    time, cost = timed.time, timed.cost
    low, high = time.hours_band
    stages = ", ".join(f"{s.objective} {hours_text(s.seconds / 3600)}" for s in time.stages)
    text = (
        f"Time and cost for these settings: about {hours_text(time.hours)} ({band_text(low, high)}; "
        f"{stages}) on {time.gpus} GPU(s) at {time.tokens_per_second:,.0f} tokens/s"
    )
    if cost is not None and cost.usd is not None and cost.price is not None:
        text += f"; about ${cost.usd:,.2f} at ${cost.price.usd_per_gpu_hour:g}/GPU-hour ({cost.price.source})"
    elif cost is not None:
        text += f"; {cost.gpu_hours:.3g} GPU-hours"
    return text + ". How it is computed: docs/time.md."


def _profile_line(profile: dict[str, Any]) -> str:
    given = [f"{k}={v}" for k, v in profile.items() if v is not None and v is not False]
    return "Profile: " + ", ".join(given) + "."


def _plan_line(recipe: Recipe) -> str:
    plan = recipe.plan
    stages = " -> ".join(plan.pipeline) if plan.pipeline else "no training"
    return f"Plan {recipe.rank} of {recipe.total}: {plan.name} ({stages}); score {plan.score:g}."


def header(recipe: Recipe, fmt: str, written_for: str, run: str) -> str:
    lines = ["# " + "=" * (WIDTH - 2), f"# ft-atlas recipe ({fmt})"]
    texts = [_profile_line(recipe.profile), _plan_line(recipe), *memory_lines(recipe)]
    if recipe.plan.kind != "no-training":
        texts.append(time_line(recipe))
    for text in texts:
        lines += wrapped(text)
    if recipe.settings:
        lines.append("# Settings, each with where its value comes from:")
        for key, setting in recipe.settings.items():
            lines += wrapped(f"{key} = {show_value(setting.value)}  <- {setting.source}", "#       ", "#   ")
    lines += wrapped(written_for)
    lines += wrapped("Run: " + run)
    for note in recipe.notes:
        lines += wrapped("Note: " + note)
    lines.append("# " + "=" * (WIDTH - 2))
    return "\n".join(lines) + "\n"


def literal(value: Any) -> str:
    """`value` as Python source, built by repr() and checked to read back as exactly `value`:
    what reaches a generated script from the KB or the profile is data, never code. A value
    with no exact literal (inf, nan) is a bug upstream (validation refuses such KBs)."""
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        same = False
    if not same:
        raise ValueError(f"no exact Python literal for {text[:80]}")
    return text


def show_value(value: Value) -> str:
    return json.dumps(value) if isinstance(value, (str, list)) else repr(value)
