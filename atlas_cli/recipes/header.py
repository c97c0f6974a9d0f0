"""The comment block at the top of every recipe: profile, plan, memory estimate, every setting
with its source, the library versions it was written for, and how to run it."""

from __future__ import annotations

import ast
import json
import shlex
import textwrap
from typing import Any

from atlas_cli.core.plans import Plan
from atlas_cli.errors import one_line
from atlas_cli.kb.vocabulary import MEMORY_MODELS
from atlas_cli.recipes.settings import Recipe, Value

WIDTH = 100


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


def _memory_line(plan: Plan) -> str:
    estimate = plan.estimate
    if estimate is None:
        return "Memory estimate: none (no local GPU in the profile, or API access only)."
    s = estimate.settings
    fits = {True: "fits", False: "DOES NOT FIT", None: "fit not checked"}[estimate.fits]
    details = (
        f"{s.precision}, {s.optimizer}, "
        f"gradient checkpointing {'on' if s.gradient_checkpointing else 'off'}, "
        f"sequence length {s.seq_len}, batch {s.batch_size} per GPU, {s.gpus} GPU(s)"
    )
    if MEMORY_MODELS[estimate.memory_model].family in ("lora", "adalora"):
        details += f", rank {s.lora_rank}"
    stage = f" at its largest stage ({estimate.objective})" if estimate.objective else ""
    return (
        f"Memory estimate: about {_gb(estimate.per_gpu_gb)} per GPU{stage} of {_gb(estimate.capacity_gb)}: "
        f"{fits} ({details}). How it is computed: docs/memory.md."
    )


def _profile_line(profile: dict[str, Any]) -> str:
    given = [f"{k}={v}" for k, v in profile.items() if v is not None and v is not False]
    return "Profile: " + ", ".join(given) + "."


def _plan_line(recipe: Recipe) -> str:
    plan = recipe.plan
    stages = " -> ".join(plan.pipeline) if plan.pipeline else "no training"
    return f"Plan {recipe.rank} of {recipe.total}: {plan.name} ({stages}); score {plan.score:g}."


def header(recipe: Recipe, fmt: str, written_for: str, run: str) -> str:
    lines = ["# " + "=" * (WIDTH - 2), f"# ft-atlas recipe ({fmt})"]
    for text in (_profile_line(recipe.profile), _plan_line(recipe), _memory_line(recipe.plan)):
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
