"""The guided questionnaire behind `ft-atlas ask`: which questions, in which order, and how a
typed answer becomes a profile value.

Questions, choices and defaults come from PROFILE_FIELDS; this module adds only the order-aware
skip logic and friendly parsing. Terminal input and output go through the `Terminal` protocol,
so the logic is tested without a terminal and the CLI decides where prompts are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas_cli.core.models import find_model
from atlas_cli.core.profile import (
    FIELDS_BY_NAME,
    PROFILE_FIELDS,
    ProfileField,
    gpu_memory,
    parse_size,
    parse_value,
    parse_vram,
)
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog, normalize
from atlas_cli.kb.vocabulary import NO_WORDS, TYPICAL_DATA, YES_WORDS, means_no_gpu

Answers = dict[str, Any]


class Terminal(Protocol):
    def ask(self, prompt: str) -> str:
        """Show the prompt and return one typed line (EOFError at end of input)."""

    def say(self, text: str) -> None:
        """Show a line of explanation."""


def _api_only(answers: Answers) -> bool:
    return answers.get("model_access") == "api"


def _no_gpu(answers: Answers) -> bool:
    return means_no_gpu(str(answers.get("gpu", "")))


def _trains_nothing(answers: Answers) -> bool:
    """No local training: API only, no GPU, or no data."""
    return _api_only(answers) or _no_gpu(answers) or answers.get("data_kind") == "none"


def _never(_: Answers) -> bool:
    return False


# A question is skipped when its predicate holds for the answers so far.
SKIP: dict[str, Callable[[Answers], bool]] = {
    "gpu": _api_only,
    "gpus": lambda a: _api_only(a) or _no_gpu(a),
    "model": _api_only,
    # Read from the model's name, catalog entry or chat template; a flag overrides it.
    "model_variant": lambda a: True,
    "data_kind": _api_only,
    "examples": lambda a: a.get("data_kind") == "none",
    "seq_len": lambda a: _api_only(a) or a.get("data_kind") == "none",
    "tokens_per_example": lambda a: _trains_nothing(a) or a.get("examples") is None,
    "epochs": lambda a: _trains_nothing(a) or a.get("examples") is None,
    # Set by flags when they matter; a newcomer is not asked about prices, limits, micro-batches
    # or software.
    "packing": lambda a: _trains_nothing(a) or a.get("examples") is None,
    "price_per_hour": lambda a: True,
    "max_hours": lambda a: True,
    "budget_usd": lambda a: True,
    "batch_size": lambda a: True,
    "stack": lambda a: True,
    "knowledge_changes": lambda a: a.get("goal") != "knowledge",
    "many_tasks": lambda a: _api_only(a) or _no_gpu(a) or a.get("data_kind") == "none",
}


def default_for(spec: ProfileField, answers: Answers) -> Any:
    if spec.name == "data_kind":
        return TYPICAL_DATA[answers.get("goal") or FIELDS_BY_NAME["goal"].default]
    return spec.default


@dataclass
class Interview:
    """Asks every question that applies and is not prefilled; records what was defaulted."""

    catalog: Catalog
    terminal: Terminal
    answers: Answers = field(default_factory=dict)
    defaulted: list[str] = field(default_factory=list)

    def questions(self) -> list[ProfileField]:
        return [f for f in PROFILE_FIELDS if f.alternative_to is None]

    def already_answered(self, spec: ProfileField) -> bool:
        alternatives = [f.name for f in PROFILE_FIELDS if f.alternative_to == spec.name]
        return any(self.answers.get(name) is not None for name in [spec.name, *alternatives])

    def run(self, interactive: bool) -> Answers:
        for spec in self.questions():
            if self.already_answered(spec) or SKIP.get(spec.name, _never)(self.answers):
                continue
            if interactive:
                self._ask_until_valid(spec)
            else:
                self._default(spec)
        return self.answers

    def _default(self, spec: ProfileField) -> None:
        """Without a terminal nothing is stored: the engine applies the same defaults."""
        value = default_for(spec, self.answers)
        self.defaulted.append(f"{spec.flag}={'(not set)' if value is None else _show(value)}")

    def _ask_until_valid(self, spec: ProfileField) -> None:
        default = default_for(spec, self.answers)
        self._explain(spec)
        while True:
            shown = "" if default is None else f" [{_show(default)}]"
            text = self.terminal.ask(f"{spec.question}{shown}: ").strip()
            if not text:
                if default is not None:
                    self.answers[spec.name] = default
                return
            try:
                self.answers.update(self.parse(spec, text))
                return
            except UsageError as error:
                self.terminal.say(f"  ✗ {error} — please try again.")

    def _explain(self, spec: ProfileField) -> None:
        for number, choice in enumerate(spec.choices, start=1):
            self.terminal.say(f"  {number}. {choice.value:<16} {choice.help}")

    def parse(self, spec: ProfileField, text: str) -> Answers:
        """One typed answer -> the profile values it sets (may be an alternative field)."""
        if spec.choices:
            return {spec.name: _pick_choice(spec, text)}
        if spec.name == "gpu":
            return self._parse_gpu(text)
        if spec.name == "model":
            return self._parse_model(text)
        if spec.kind == "flag":
            return {spec.name: parse_value(spec, _yes_no(text))}
        return {spec.name: parse_value(spec, text)}

    def _parse_gpu(self, text: str) -> Answers:
        if means_no_gpu(text):
            return {"gpu": "none"}
        try:
            return {"gpu": self.catalog.gpu(text).id}
        except UsageError:
            pass
        if _looks_like_memory(text):
            return {"vram": parse_vram(text, "GPU memory")}
        guess = self.catalog.gpu_guess(text)
        if guess is not None:
            reply = self.terminal.ask(f"Did you mean {guess.name}? [Y/n]: ").strip().lower()
            if reply in ("", "y", "yes"):
                return {"gpu": guess.id}
        raise UsageError(
            f"unknown GPU '{text}': give a name such as 3090 or A100 80GB, a size such as 24gb, or none"
        )

    def _parse_model(self, text: str) -> Answers:
        """A catalog name (stored as its id), a config path or a Hub id (stored as typed; see
        core/models.py), else a size such as 7b."""
        try:
            found = find_model(self.catalog, text)
            return {"model": found.model.id if found.kind == "catalog" else text.strip()}
        except UsageError as unknown:
            try:
                return {"model_size": parse_size(text, "model")}
            except UsageError:
                raise unknown from None


MAX_BARE_MEMORY_GB = 256  # a bare number above any GPU's memory is a model number ("309")


def _looks_like_memory(text: str) -> bool:
    """'24gb', '80 GiB', '24' are memory sizes; '3090' or '309' are GPU names."""
    if gpu_memory(text) is not None:
        return True
    key = normalize(text)
    return key.replace(".", "", 1).isdigit() and float(key) <= MAX_BARE_MEMORY_GB


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "y" if value else "n"
    return str(value)


def _yes_no(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in YES_WORDS:
        return True
    if lowered in NO_WORDS:
        return False
    raise UsageError(f"'{text}' is not yes or no")


def _pick_choice(spec: ProfileField, text: str) -> str:
    """Accept a choice by number, by value, or by a unique prefix."""
    values = [c.value for c in spec.choices]
    lowered = text.strip().lower()
    if lowered.isdigit() and 1 <= int(lowered) <= len(values):
        return values[int(lowered) - 1]
    if lowered in values:
        return lowered
    matches = [v for v in values if v.startswith(lowered)]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"'{text}' is not one of {', '.join(values)} (or 1-{len(values)})")


def command_line(answers: Answers, command: str = "recommend") -> str:
    """The `ft-atlas recommend` (or `recipe`) command that reproduces these answers."""
    parts = [f"ft-atlas {command}"]
    for spec in PROFILE_FIELDS:
        value = answers.get(spec.name)
        if value is None or value == spec.default:
            continue
        if spec.kind == "flag":
            parts.append(spec.flag if value else "")
            continue
        if spec.kind == "size":
            value = f"{value:g}b"
        elif spec.kind == "vram":
            value = f"{value:g}"
        parts.append(f"{spec.flag} {_quote(str(value))}")
    return " ".join(p for p in parts if p)


def _quote(text: str) -> str:
    return text if text.replace("-", "").replace(".", "").isalnum() else f"'{text}'"
