"""The comment block at the top of every recipe: profile, plan, the memory, time and cost of the
recipe's own settings, every setting with its source, the library versions it was written for,
and how to run it."""

from __future__ import annotations

import ast
import json
import textwrap
from typing import Any

from atlas_cli.core.estimates import Estimate
from atlas_cli.core.memory.estimate import hierarchical
from atlas_cli.core.nodes import node_layout
from atlas_cli.core.plans import band_text, hours_text
from atlas_cli.errors import one_line
from atlas_cli.i18n import N_, nt, significant, t, translated
from atlas_cli.kb.vocabulary import MEMORY_MODELS
from atlas_cli.recipes.settings import Recipe, Value

WIDTH = 100
VERDICT = {"yes": N_("fits"), "tight": N_("TIGHT (inside the 10 % safety margin)"), "no": N_("DOES NOT FIT")}
SHARDING = {"ddp": N_("data parallel"), "zero2": "ZeRO-2", "zero3": "ZeRO-3"}


def _verdict(fit: object) -> str:
    return t(VERDICT.get(str(fit), N_("fit not checked")))


def wrapped(text: str, indent: str = "#   ", first: str = "# ") -> list[str]:
    """`text` as comment lines. Every header line passes through here, and its text comes from
    the KB and the profile: control characters and line separators are escaped first (one_line),
    because YAML ends a comment at U+0085, U+2028 and U+2029 (a note could start a new key) and
    Python refuses a NUL anywhere in a script. A word longer than a line (a line of code:
    AutoTokenizer.from_pretrained('ft-atlas-output/...')...) stays whole on a line of its own:
    cut, it was copied as a wrong path (a newcomer's review)."""
    return textwrap.wrap(
        one_line(text),
        WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def commented_file(text: str) -> str:
    """A file of the recipe shown as comments after the main one (on stdout), each line indented,
    an empty line without trailing blanks. The file's text is ft-atlas's own (configs, reward
    functions), escaped where it was written."""
    return "".join(f"#   {line}".rstrip(" ") + "\n" for line in text.splitlines())


def _gb(value: float | None) -> str:
    return t("unknown") if value is None else t("{gb:.2f} GB", gb=value)


def _conditions(e: Estimate) -> str:
    s = e.settings
    if e.memory_model == "inference":
        return nt(
            "{weights} weights, prompts of {seq} tokens, {gpus} GPU",
            "{weights} weights, prompts of {seq} tokens, {gpus} GPUs",
            s.gpus,
            weights=e.weights_words,
            seq=s.seq_len,
            gpus=s.gpus,
        )
    details = nt(
        "{precision}, {optimizer}, stack {stack}, gradient checkpointing {checkpointing}, "
        "sequence length {seq}, {gpus} GPU",
        "{precision}, {optimizer}, stack {stack}, gradient checkpointing {checkpointing}, "
        "sequence length {seq}, {gpus} GPUs",
        s.gpus,
        precision=s.precision,
        optimizer=s.optimizer,
        stack=s.stack,
        checkpointing=t("on") if s.gradient_checkpointing else t("off"),
        seq=s.seq_len,
        gpus=s.gpus,
    )
    if s.gpus > 1 and s.sharded_loading:
        details += t(" with FSDP, the 4-bit base loaded shard by shard")
    elif s.gpus > 1:
        details += t(" with {sharding}", sharding=t(SHARDING.get(s.sharding, s.sharding)))
    if hierarchical(s):
        details += t(
            " (hierarchical: a second copy sharded within each node of {per_node})",
            per_node=node_layout(s.gpus)[1],
        )
    if s.offload != "none":
        details += t(", {what} offloaded to the CPU", what=s.offload)
    if MEMORY_MODELS[e.memory_model].low_rank:
        details += t(", rank {rank}", rank=s.lora_rank)
    return details


def memory_lines(recipe: Recipe) -> list[str]:
    """The recipe's own estimate per stage, and the ranking's estimate when it differs."""
    plan = recipe.plan
    if not recipe.estimates:
        if plan.estimate is None:
            return [t("Memory estimate: none (no local GPU in the profile, or API access only).")]
        e = plan.estimate
        return [
            t(
                "Memory estimate: about {need} per GPU of {have}: {fits} ({details}). How it is "
                "computed: docs/memory.md.",
                need=_gb(e.per_gpu_gb),
                have=_gb(e.capacity_gb),
                fits=_verdict(e.fit),
                details=_conditions(e),
            )
        ]
    stages = "; ".join(
        t(
            "{stage} {need} at batch {batch}: {fits}",
            stage=stage,
            need=_gb(e.per_gpu_gb),
            batch=e.settings.batch_size,
            fits=_verdict(e.fit),
        )
        for stage, e in recipe.estimates.items()
    )
    first = next(iter(recipe.estimates.values()))
    lines = [
        t(
            "Memory estimate for this recipe's settings, per GPU of {have}: {stages} ({details}). How "
            "it is computed: docs/memory.md.",
            have=_gb(first.capacity_gb),
            stages=stages,
            details=_conditions(first),
        )
    ]
    ranked = plan.estimate
    if ranked is not None and (ranked.per_gpu_gb, ranked.settings.stack) != (
        max(e.per_gpu_gb for e in recipe.estimates.values()),
        first.settings.stack,
    ):
        lines.append(
            t(
                "(`ft-atlas recommend` ranked the plan at {need}: batch {batch}, stack {stack}, "
                "{optimizer}.)",
                need=_gb(ranked.per_gpu_gb),
                batch=ranked.settings.batch_size,
                stack=ranked.settings.stack,
                optimizer=ranked.settings.optimizer,
            )
        )
    return lines


def time_line(recipe: Recipe) -> str:
    timed = recipe.timed
    if timed is None or timed.time is None:
        why = t(timed.note) if timed is not None and timed.note else t("no time estimate")
        return t("Time and cost: unknown ({why}).", why=why)
    time, cost = timed.time, timed.cost
    low, high = time.hours_band
    stages = ", ".join(f"{s.objective.id} {hours_text(s.seconds / 3600)}" for s in time.stages)
    text = nt(
        "Time and cost for these settings: about {hours} ({band}; {stages}) on {gpus} GPU at "
        "{rate:,.0f} tokens/s",
        "Time and cost for these settings: about {hours} ({band}; {stages}) on {gpus} GPUs at "
        "{rate:,.0f} tokens/s",
        time.gpus,
        hours=hours_text(time.hours),
        band=band_text(low, high),
        stages=stages,
        gpus=time.gpus,
        rate=time.tokens_per_second,
    )
    if cost is not None and cost.usd is not None and cost.price is not None:
        text += t(
            "; about ${usd:,.2f} at ${price:,.12g}/GPU-hour ({source})",
            usd=cost.usd,
            price=cost.price.usd_per_gpu_hour,
            source=cost.price.source,
        )
    elif cost is not None:
        text += t("; {gpu_hours} GPU-hours", gpu_hours=significant(cost.gpu_hours))
    return text + t(". How it is computed: docs/time.md.")


def _profile_line(profile: dict[str, Any]) -> str:
    given = [f"{k}={v}" for k, v in profile.items() if v is not None and v is not False]
    return t("Profile: {profile}.", profile=", ".join(given))


def _plan_line(recipe: Recipe) -> str:
    plan = recipe.plan
    stages = plan.stages_text(" -> ") if plan.pipeline else t("no training")
    return t(
        "Plan {rank} of {total}: {name} ({stages}); score {score:g}.",
        rank=recipe.rank,
        total=recipe.total,
        name=translated(plan.name),
        stages=stages,
        score=plan.score,
    )


def header(recipe: Recipe, fmt: str, written_for: str, run: str, setup: str = "") -> str:
    lines = ["# " + "=" * (WIDTH - 2), "# " + t("ft-atlas recipe ({format})", format=fmt)]
    texts = [_profile_line(recipe.profile), _plan_line(recipe), *memory_lines(recipe)]
    if recipe.plan.kind != "no-training":
        texts.append(time_line(recipe))
    for text in texts:
        lines += wrapped(text)
    if recipe.settings:
        lines.append("# " + t("Settings, each with where its value comes from:"))
        for key, setting in recipe.settings.items():
            lines += wrapped(f"{key} = {show_value(setting.value)}  <- {setting.source}", "#       ", "#   ")
    lines += wrapped(written_for)
    # Commands stay on one line, however long, so that they paste as they are (README).
    if setup:  # what a clean machine installs first
        lines.append("# " + one_line(setup))
    lines.append("# " + one_line(t("Run: {command}", command=run)))
    if recipe.after_training:
        lines += wrapped(t("After training: {how}", how=recipe.after_training))
    for note in recipe.notes:
        lines += wrapped(t("Note: {note}", note=note))
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
