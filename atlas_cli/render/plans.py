"""Recommendations for people: ranked table, why the top plan, next steps, and the rule trace."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from atlas_cli.core.engine import MEASURED_PRIORITIES, TIE_RATIO
from atlas_cli.core.estimates import loads_quantized_shards
from atlas_cli.core.memory import gib_to_gb
from atlas_cli.core.nodes import GPUS_PER_NODE, network_per_node
from atlas_cli.core.plans import Plan, Recommendation, band_text, change_text
from atlas_cli.core.throughput.plans import NO_TIME, epochs_text
from atlas_cli.core.throughput.timing import FAST_FACTOR, SLOW_FACTOR, StageTime
from atlas_cli.i18n import N_, nt, number, pt, significant, stage_label, t, translated
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.vocabulary import FIT_MARGIN
from atlas_cli.render.charts import served_prompt_text, shared_conditions
from atlas_cli.render.documents import (
    apple_quantized_base,
    assumptions_json,
    drops_answers_thinking,
    next_steps_json,
)
from atlas_cli.render.grid import Grid, markdown_inline, markdown_table, markdown_text, rich_table
from atlas_cli.render.paste import Verbatim

FIT_LABELS = {"yes": N_("yes"), "tight": N_("tight"), "no": N_("NO"), None: "—"}
CENT = 0.005  # below this a cost rounds to $0.00: shown as "<$0.01"


def _plan_label(plan: Plan) -> str:
    return plan.label


def ranking_grid(rec: Recommendation, top: int) -> Grid:
    shown = rec.shown(top)
    fits, memory_column, time_column, cost_column, score = (
        t("fits"),
        t("memory/GPU"),
        t("time"),
        t("cost"),
        t("score"),
    )
    grid = Grid(
        t("Recommended plans"),
        ["#", t("plan"), fits, memory_column, time_column, cost_column, score],
        caption=_caption(shown, str(rec.profile.get("priority"))),
        # Figures stay on one line; a narrow terminal drops these first (the caption says which):
        # rank, plan and fit stay.
        compact=("#", fits, memory_column, time_column, cost_column, score),
        drop_order=(score, cost_column, time_column, memory_column),
    )
    for rank, plan in enumerate(shown, start=1):
        memory = "—" if plan.memory_gb is None else t("{gb:.1f} GB", gb=plan.memory_gb)
        if plan.memory_gb is not None and plan.ram_gb:
            # On the GPU it needs little; what it moves to the CPU is the other half of its need.
            memory += " " + t("+{gb:.1f} GB RAM", gb=plan.ram_gb)
        time, cost = _time_cells(plan)
        fit = FIT_LABELS[plan.fit]
        grid.rows.append(
            [str(rank), _plan_label(plan), t(fit), memory, time, cost, number(plan.score, ".2f")]
        )
    return grid


def _time_cells(plan: Plan) -> tuple[str, str]:
    """The time and cost band of a plan, or a dash."""
    time, cost = plan.time, plan.cost
    if time is None or cost is None:
        return "—", "—"
    if not time.stages:  # nothing trains: no money where no price is known either (as the JSON)
        return pt("time", "none"), "$0" if cost.usd is not None else t("{hours} GPU-h", hours=0)
    low, high = time.hours_band
    hours = band_text(low, high)
    if cost.usd is None:
        return hours, t("{low}-{high} GPU-h", low=significant(cost.low), high=significant(cost.high))
    if cost.high == 0:  # a free tier (Colab's, Kaggle's T4)
        return hours, "$0"
    if cost.high < CENT:
        return hours, f"<${number(CENT, '.2f')}"
    return hours, f"${money(cost.low)}-{money(cost.high)}"


def money(usd: float) -> str:
    """Dollars as the tables write them: cents below 10, whole dollars above."""
    return number(usd, ",.2f" if usd < 10 else ",.0f")


def _caption(plans: tuple[Plan, ...], priority: str) -> str:
    """What the table's numbers mean, and the conditions they hold for."""
    order = t("by score")
    if priority == "balanced" and any(p.time is not None for p in plans):
        # engine.slow_plans_demoted: the note says which plan moved, and why
        order = t(
            "by score, except that a plan taking ten times the hours of one below it, for no less money, "
            "ranks below it"
        )
    if priority in MEASURED_PRIORITIES and any(p.time is not None for p in plans):
        tie = (
            N_(
                "by {measure} (plans the rules weigh against after the others; within {tie} % a tie, "
                "decided by the hours, themselves tied within {tie} %, then by score)"
            )
            if priority == "cost"
            else N_(
                "by {measure} (plans the rules weigh against after the others; within {tie} % a tie, "
                "decided by fewer GPUs, then by score)"
            )
        )
        order = t(
            tie,
            measure=t("training cost") if priority == "cost" else t("training hours"),
            tie=round(100 * (TIE_RATIO - 1)),
        )
    text = t(
        "Memory in GB (10^9 bytes) per GPU; fits = within {margin} % of usable memory, tight = past "
        "that margin. Plans that fit rank first (prompting and retrieval level with the best training "
        "plan when it is only tight or offloads to CPU RAM), then {order}. Score 0-1: the method's ratings "
        "weighted by your priority, plus the rules that fired (--explain shows them).",
        margin=round(FIT_MARGIN * 100),
        order=order,
    )
    if any(p.ram_gb for p in plans):
        text += " " + t(
            "+N GB RAM: the plan keeps that much in CPU memory besides the GPU's (DeepSpeed's or FSDP's "
            "offload: with its parameters offloaded, about the 16-bit checkpoint it loads; or the "
            "layers' checkpoints, Unsloth's and --activation-offloading); its time counts the transfers. "
            "A 4-bit base loaded shard by shard holds its quantized base and a checkpoint file per "
            "process there while it loads, and while FSDP builds its offloaded shards beside them."
        )
    sized = [
        assumptions_json(p.estimate) for p in plans if p.estimate is not None and p.kind != "no-training"
    ]
    text = f"{text} {shared_conditions(sized)}" if sized else text
    served = next((p.estimate for p in plans if p.estimate is not None and p.kind == "no-training"), None)
    if served is not None:
        text += " " + served_prompt_text(served.settings.seq_len)
    # The training plans' conditions (epochs, packing); a retrieval plan's setup embeds once.
    timed = next((p for p in plans if p.time is not None and p.time.stages and p.kind != "no-training"), None)
    if timed is not None:
        return f"{text} {time_conditions(timed)}{_network(plans)}"
    # No training plan has a time: the table's "—" needs its reason (the JSON's time_note), and a
    # hosted plan's is what its provider bills.
    why = next(
        (p.timed.note for p in plans if p.kind != "no-training" and p.runs == "local" and p.timed.note), None
    )
    hosted = next(
        (p for p in plans if p.runs == "hosted" and p.kind != "no-training" and p.timed.note != NO_TIME.note),
        None,
    )
    if hosted is not None and hosted.timed.note:
        text += " " + t(
            "Time and cost of {plan}: —, {why}.", plan=translated(hosted.name), why=t(hosted.timed.note)
        )
    if why is None or why == NO_TIME.note:  # a note already asks for --examples
        return text
    return f"{text} {t('Time and cost: —, {why}.', why=t(why))}"


def _network(plans: tuple[Plan, ...]) -> str:
    """The network between nodes that a plan spanning them is timed with, which no column shows."""
    spanning = next((p.time for p in plans if p.time is not None and p.time.gpus > GPUS_PER_NODE), None)
    if spanning is None:
        return ""
    gbps = network_per_node(spanning.device.network_gbs)
    return " " + t("Between nodes: {gbps:,g} Gb/s per node (--network-gbps gives yours).", gbps=gbps)


def time_conditions(plan: Plan) -> str:
    """What the time and cost columns assume, in one sentence."""
    time, cost = plan.time, plan.cost
    assert time is not None and cost is not None
    work = time.stages[0].workload
    epochs = epochs_text((stage_label(s.objective.name), s.workload.epochs) for s in time.stages)
    price = (
        t("at ${usd:,.12g}/GPU-hour ({source})", usd=cost.price.usd_per_gpu_hour, source=cost.price.source)
        if cost.price is not None
        else t("in GPU-hours (no price)")
    )
    return t(
        "Time and cost: {examples} of {tokens}, epochs {epochs}, {packing}, each "
        "plan at the fastest micro-batch that fits unless --batch-size is given; a band of "
        "{fast:g}-{slow:g}x the estimate (docs/time.md); cost {price}.",
        # Counted apart: each number has its own plural ("1 example of ~512 tokens").
        examples=nt("{n:,} example", "{n:,} examples", work.examples, n=work.examples),
        tokens=nt("~{n} token", "~{n} tokens", work.tokens_per_example, n=work.tokens_per_example),
        epochs=epochs,
        packing=_packing(time.stages),
        fast=FAST_FACTOR,
        slow=SLOW_FACTOR,
        price=price,
    )


def _packing(stages: tuple[StageTime, ...]) -> str:
    """Packed or unpacked, by stage where they differ (SFT packed, then DPO's pairs unpacked)."""
    words = [t("packed") if s.packed else t("unpacked") for s in stages]
    if len(set(words)) == 1:
        return words[0]
    return ", ".join(f"{stage_label(s.objective.name)} {word}" for s, word in zip(stages, words, strict=True))


def to_fit_lines(plan: Plan) -> list[str]:
    changes = plan.to_fit()
    if not changes:
        return []
    words = "; ".join(change_text(c) for c in changes)
    return [t("To make it fit, any one of: {changes}.", changes=words)]


def _profile_line(rec: Recommendation) -> str:
    unused = _unused(rec)
    shown = {k: v for k, v in rec.profile.items() if v is not None and v is not False and k not in unused}
    return " · ".join(f"{k}={_profile_value(k, v)}" for k, v in shown.items())


def _unused(rec: Recommendation) -> frozenset[str]:
    """What an API user's run has no use for: no trainer's software, and no GPU they did not name."""
    if rec.request is None or rec.request.model_access != "api":
        return frozenset()
    return frozenset({"gpu", "vram", "gpus", "stack"} if rec.request.hardware_unused else {"stack"})


def _profile_value(name: str, value: object) -> str:
    # A GPU's advertised "24 GB" is GiB; fit is checked in GB (10^9 bytes), as the plans say.
    if name == "vram" and isinstance(value, (int, float)):
        return t("{gib:.4g} GiB (= {gb:.2f} GB)", gib=value, gb=gib_to_gb(value))
    return str(value)


def excluded_lines(rec: Recommendation) -> list[str]:
    """Which methods were left out and why, one line per reason: a person who sees no training
    plan learns why without --explain."""
    reasons: dict[str, list[str]] = {}
    for plan in rec.excluded:
        hits = [hit for hit in rec.trace(plan) if hit.action == "exclude"]
        if hits:
            reason = hits[0].because
        elif plan.over_limit is not None:
            reason = t("over {limits} (the notes say what would fit)", limits=_limits(rec))
        else:
            reason = t("excluded by a rule")
        reasons.setdefault(reason, []).append(plan.method)
    return [
        t("Left out: {methods} — {reason}", methods=", ".join(methods), reason=reason)
        for reason, methods in reasons.items()
    ]


def _limits(rec: Recommendation) -> str:
    """The limits the profile sets, as their options."""
    given = {"--max-hours": rec.profile.get("max_hours"), "--budget-usd": rec.profile.get("budget_usd")}
    return "/".join(name for name, value in given.items() if value is not None)


SCORE_NOTE = N_(
    "score {score:.2f} (0-1): the method's memory, speed and quality ratings weighted by your "
    "priority ({priority}), raised by the rules that prefer it and lowered by those that avoid it:"
)


def _score_line(rec: Recommendation, plan: Plan) -> str:
    return t(SCORE_NOTE, score=plan.score, priority=rec.profile.get("priority"))


# The YAML recipe formats (`recipe --trainer`), by the library name the knowledge base gives the
# framework: offered for a plan whose tools name it (the engine lists a framework only when it
# runs the method and every stage).
YAML_TRAINERS = {"LLaMA-Factory": "llamafactory", "axolotl": "axolotl"}


def next_steps(rec: Recommendation) -> tuple[list[str], list[str]]:
    """What to do with the top plan, as (steps, evaluation lines): the libraries that apply to
    this plan (one line per library), the exact `ft-atlas recipe ...` command for this profile,
    where the example code is, and how to evaluate the result (each line with its source)."""
    found = next_steps_json(rec)
    if found is None:
        return [], []
    steps = list(found["tools"])
    best = rec.plans[0]
    if found["recipe"] is not None:
        yaml = best.kind != "no-training" and rec.facts.get("model_architecture") in ("decoder", None)
        # On Apple silicon a training plan's recipe is mlx-lm's YAML where it writes the plan, else
        # the Python script (the mlx format's default_on): a directory, where each is named by its
        # format, holds either.
        apple = rec.facts.get("gpu_vendor") == "apple" and best.kind != "no-training"
        # On several GPUs the launcher's config (accelerate, DeepSpeed) is a file of its own, which
        # the run line names: a directory holds both (a review copied a run line whose
        # accelerate.yaml was only comments at the end of train.py).
        several = best.kind != "no-training" and (best.gpus or 1) > 1
        # Routed experts loaded in 4 bits: the recipe falls back to axolotl's YAML (an expert's
        # review: `--out train.py` was refused), which a directory names.
        out = (
            "recipe/"
            if apple or several or best.quantized_experts
            else "train.yaml"
            if best.experimental_stages
            else "train.py"
            if best.kind != "no-training"
            else f"{best.method}.py"
        )
        steps.append(t("Recipe: {command}", command=f"{found['recipe']} --out {out}"))
        trainers = [
            name
            for library, name in YAML_TRAINERS.items()
            if any(r.library == library for r in best.tools)
            # LLaMA-Factory cannot be told fp32 (recipes/formats/llamafactory.py refuses such plans),
            # nor to load a 4-bit base shard by shard (axolotl's qlora_sharded_model_loading does)
            # nor to load routed experts in 4 bits (axolotl's quantize_moe_experts does)
            and not (
                name == "llamafactory"
                and (best.recipe_precision == "fp32" or _shard_loaded(best) or best.quantized_experts)
            )
            # axolotl renders answers with a DeepSeek-R1 template, which drops their reasoning.
            and not (name == "axolotl" and drops_answers_thinking(rec, best))
        ]
        # QLoRA on a Mac: bitsandbytes' YAML trainers refuse it there (mlx's line is the recipe).
        if yaml and trainers and not best.experimental_stages and not apple_quantized_base(rec, best):
            steps.append(
                t(
                    "As YAML: --trainer {trainers} (sized again)",
                    trainers=t(" or ").join(trainers),
                )
            )
        if rec.request is not None and rec.request.stack == "unsloth" and best.kind != "no-training":
            steps.append(
                t(
                    "The recipe trains with TRL, not Unsloth (ft-atlas writes no Unsloth scripts): its "
                    "header sizes the plan again for TRL, and says so when it does not fit there."
                )
            )
    else:
        steps.append(t("Recipe: {command}", command=found["recipe_note"] or ""))
    steps.append(t("Cards and example code: {commands}", commands=found["example"]))
    evaluation = [f"{a['text']} ({a['source']})" for a in found["evaluation"]]
    return steps, evaluation


def _shard_loaded(plan: Plan) -> bool:
    e = plan.estimate
    return e is not None and loads_quantized_shards(e.memory_model, e.settings)


def _reasons(plan: Plan) -> list[str]:
    """The plan's reasons, and its time and cost in words."""
    line = plan.time_line()
    return [*plan.reasons, *([line] if line else [])]


def _trace_lines(rec: Recommendation, plan: Plan) -> list[str]:
    lines = []
    for hit in rec.trace(plan):
        seen = ", ".join(f"{k}={v}" for k, v in hit.facts.items())
        lines.append(f"{hit.action} {hit.weight:g}  {hit.rule}  [{seen}]  — {hit.because} ({hit.source})")
    return lines or [t("no rule fired")]


def recommendation_view(catalog: Catalog, rec: Recommendation, top: int, explain: bool) -> RenderableType:
    parts: list[RenderableType] = [Text(_profile_line(rec), style="dim")]
    parts += [Text(note, style="dim") for note in rec.notes]
    if rec.plans:
        parts.append(rich_table(ranking_grid(rec, top)))
    parts += [Text(line, style="dim") for line in excluded_lines(rec)]
    if rec.plans:
        best = rec.shown(1)[0]
        why = [f"• {escape(r)}" for r in _reasons(best)] + [
            f"[yellow]! {escape(c)}[/yellow]" for c in best.caveats
        ]
        why += [f"[cyan]→ {escape(line)}[/cyan]" for line in to_fit_lines(best)]
        parts.append(
            Panel(
                "\n".join(why) or "—",
                title=escape(t("Why {plan}", plan=_plan_label(best))),
                title_align="left",
            )
        )
        steps, evaluation = next_steps(rec)
        # Unboxed and unwrapped: the tools and the recipe command are pasted into a shell or an
        # editor; the evaluation advice is prose and wraps.
        parts.append(Text(t("Next steps"), style="bold"))
        parts.append(Verbatim("\n".join(f"• {line}" for line in steps)))
        if evaluation:
            parts.append(Text(t("Evaluate:") + "\n" + "\n".join(f"• {line}" for line in evaluation)))
    if explain:
        for rank, plan in enumerate(rec.shown(top), start=1):
            parts.append(
                Panel(
                    Text("\n".join([_score_line(rec, plan), *_trace_lines(rec, plan)])),
                    title=escape(t("Rule trace #{rank} {plan}", rank=rank, plan=translated(plan.name))),
                    title_align="left",
                )
            )
        for plan in rec.excluded:
            parts.append(
                Text(
                    t(
                        "excluded {method}: {trace}",
                        method=plan.method,
                        trace="; ".join(_trace_lines(rec, plan)),
                    ),
                    style="dim",
                )
            )
    return Group(*parts)


def recommendation_markdown(catalog: Catalog, rec: Recommendation, top: int, explain: bool) -> str:
    # Knowledge-base text and the profile's names are escaped as they are placed (markdown_text,
    # markdown_inline); the table's cells by markdown_table.
    out = [t("*Profile:* {profile}", profile=markdown_inline(_profile_line(rec))), ""]
    # One blockquote paragraph per note: consecutive "> " lines would run together into one.
    out += "\n>\n".join(f"> {markdown_text(note)}" for note in rec.notes).splitlines()
    out += ["", markdown_table(ranking_grid(rec, top))] if rec.plans else [""]
    out += [f"- {markdown_text(line)}" for line in excluded_lines(rec)] + ([""] if rec.excluded else [])
    if rec.plans:
        best = rec.shown(1)[0]
        out += ["### " + t("Why {plan}", plan=markdown_inline(_plan_label(best))), ""]
        out += [f"- {markdown_text(r)}" for r in _reasons(best)] + [
            f"- ⚠ {markdown_text(c)}" for c in best.caveats
        ]
        out += [f"- → {markdown_text(line)}" for line in to_fit_lines(best)]
        steps, evaluation = next_steps(rec)
        out += ["", "### " + t("Next steps"), ""] + [f"- {markdown_text(line)}" for line in steps]
        if evaluation:
            out += ["", "#### " + t("Evaluate"), ""] + [f"- {markdown_text(line)}" for line in evaluation]
        out.append("")
    if explain:
        for rank, plan in enumerate(rec.shown(top), start=1):
            name = markdown_text(translated(plan.name))
            out += ["#### " + t("Rule trace #{rank} {plan}", rank=rank, plan=name), ""]
            out += [markdown_text(_score_line(rec, plan)), ""]
            out += [f"- {markdown_text(line)}" for line in _trace_lines(rec, plan)]
            out.append("")
        if rec.excluded:
            out += ["#### " + t("Excluded"), ""]
            out += [
                f"- {plan.method}: " + markdown_inline("; ".join(_trace_lines(rec, plan)))
                for plan in rec.excluded
            ]
            out.append("")
    return "\n".join(out)
