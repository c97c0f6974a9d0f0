"""The comment block at the top of every recipe: profile, plan, memory estimate, every setting
with its source, the library versions it was written for, and how to run it."""

from __future__ import annotations

import json
import shlex
import textwrap
from typing import Any

from atlas_cli.core.plans import Plan
from atlas_cli.i18n import t
from atlas_cli.kb.vocabulary import MEMORY_MODELS
from atlas_cli.recipes.settings import Recipe, Value

WIDTH = 100


def wrapped(text: str, indent: str = "#   ", first: str = "# ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False)


def _gb(value: float | None) -> str:
    return t("unknown") if value is None else t("{gb:.2f} GB", gb=value)


def _memory_line(plan: Plan) -> str:
    estimate = plan.estimate
    if estimate is None:
        return t("Memory estimate: none (no local GPU in the profile, or API access only).")
    s = estimate.settings
    fits = {True: t("fits"), False: t("DOES NOT FIT"), None: t("fit not checked")}[estimate.fits]
    details = t(
        "{precision}, {optimizer}, gradient checkpointing {checkpointing}, sequence length {seq}, "
        "batch {batch} per GPU, {gpus} GPU(s)",
        precision=s.precision,
        optimizer=s.optimizer,
        checkpointing=t("on") if s.gradient_checkpointing else t("off"),
        seq=s.seq_len,
        batch=s.batch_size,
        gpus=s.gpus,
    )
    if MEMORY_MODELS[estimate.memory_model].family in ("lora", "adalora"):
        details += t(", rank {rank}", rank=s.lora_rank)
    stage = t(" at its largest stage ({stage})", stage=estimate.objective) if estimate.objective else ""
    return t(
        "Memory estimate: about {need} per GPU{stage} of {have}: {fits} ({details}). How it is computed: "
        "docs/memory.md.",
        need=_gb(estimate.per_gpu_gb),
        stage=stage,
        have=_gb(estimate.capacity_gb),
        fits=fits,
        details=details,
    )


def _profile_line(profile: dict[str, Any]) -> str:
    given = [f"{k}={v}" for k, v in profile.items() if v is not None and v is not False]
    return t("Profile: {profile}.", profile=", ".join(given))


def _plan_line(recipe: Recipe) -> str:
    plan = recipe.plan
    stages = " -> ".join(plan.pipeline) if plan.pipeline else t("no training")
    return t(
        "Plan {rank} of {total}: {name} ({stages}); score {score:g}.",
        rank=recipe.rank,
        total=recipe.total,
        name=plan.name,
        stages=stages,
        score=plan.score,
    )


def header(recipe: Recipe, fmt: str, written_for: str, run: str) -> str:
    lines = ["# " + "=" * (WIDTH - 2), "# " + t("ft-atlas recipe ({format})", format=fmt)]
    for text in (_profile_line(recipe.profile), _plan_line(recipe), _memory_line(recipe.plan)):
        lines += wrapped(text)
    if recipe.settings:
        lines.append("# " + t("Settings, each with where its value comes from:"))
        for key, setting in recipe.settings.items():
            lines += wrapped(f"{key} = {show_value(setting.value)}  <- {setting.source}", "#       ", "#   ")
    lines += wrapped(written_for)
    lines += wrapped(t("Run: {command}", command=run))
    for note in recipe.notes:
        lines += wrapped(t("Note: {note}", note=note))
    lines.append("# " + "=" * (WIDTH - 2))
    return "\n".join(lines) + "\n"


def show_value(value: Value) -> str:
    return json.dumps(value) if isinstance(value, (str, list)) else repr(value)


SCRIPT_NAME = "recipe.py"  # what the Python format's run line calls the script
_DOCUMENT = "# --- "  # a YAML recipe's document name (yamlout.yaml_documents)


def name_written_file(text: str, out: str) -> str:
    """The header's run line and notes name the file actually written (`--out train.py` ->
    `python train.py`): the Python script, or a YAML recipe's one document. A YAML recipe of
    several documents keeps their names, since each must be saved as its own file."""
    lines = text.split("\n")
    rules = [i for i, line in enumerate(lines) if line.startswith("# " + "=" * 10)]
    if len(rules) < 2:
        return text
    documents = [line.removeprefix(_DOCUMENT) for line in lines if line.startswith(_DOCUMENT)]
    default = SCRIPT_NAME if not documents else documents[0] if len(documents) == 1 else None
    if default is None:
        return text
    written = shlex.quote(out)
    header = [line.replace(default, written) for line in lines[rules[0] : rules[1]]]
    return "\n".join([*lines[: rules[0]], *header, *lines[rules[1] :]])
