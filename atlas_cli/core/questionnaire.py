"""The guided questionnaire behind `ft-atlas ask`: which questions, in which order, and how a
typed answer becomes a profile value.

Questions, choices and defaults come from PROFILE_FIELDS; this module adds only the order-aware
skip logic and friendly parsing. Terminal input and output go through the `Terminal` protocol,
so the logic is tested without a terminal and the CLI decides where prompts are written.
"""

from __future__ import annotations

import re
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
from atlas_cli.kb.schema import Gpu
from atlas_cli.kb.vocabulary import (
    BACK_WORDS,
    DONT_KNOW_WORDS,
    HELP_WORDS,
    NO_WORDS,
    TYPICAL_DATA,
    YES_WORDS,
    means_no_gpu,
)

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
    # Asked with an API too: documents decide RAG, examples decide few-shot or provider tuning.
    "data_kind": _never,
    "sft_data": lambda a: a.get("data_kind") != "preferences",
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


# Example answers that `?` shows, beyond the profile field's own example.
EXAMPLE_ANSWERS = {
    "gpu": "3090, RTX 4090, A100 80GB, M3 Max, 24gb, none",
    "model": "llama-3.1-8b, Qwen/Qwen3-8B, ./my-model/, 7b, 500m",
    "examples": "500, 10k, 1.5m",
    "seq_len": "512, 2k, 4k, 32k",
    "tokens_per_example": "200, 512, 1k",
    "epochs": "1, 2, 3",
}
MAX_GPU_GUESSES = 5


@dataclass
class Interview:
    """Asks every question that applies and is not prefilled; records what was defaulted.

    At every question `?` explains it, `<` goes back to the previous one, and "I don't know" (or
    Enter) takes the default and says what it is. A summary is confirmed before the plan."""

    catalog: Catalog
    terminal: Terminal
    answers: Answers = field(default_factory=dict)
    defaulted: list[str] = field(default_factory=list)
    # Questions answered with "I don't know" that have no default: shown in the summary.
    unset: list[str] = field(default_factory=list)

    def questions(self) -> list[ProfileField]:
        return [f for f in PROFILE_FIELDS if f.alternative_to is None]

    def already_answered(self, spec: ProfileField) -> bool:
        alternatives = [f.name for f in PROFILE_FIELDS if f.alternative_to == spec.name]
        return any(self.answers.get(name) is not None for name in [spec.name, *alternatives])

    def applies(self, spec: ProfileField) -> bool:
        return not self.already_answered(spec) and not SKIP.get(spec.name, _never)(self.answers)

    def run(self, interactive: bool) -> Answers:
        if interactive:
            self._interview()
        else:
            for spec in self.questions():
                if self.applies(spec):
                    self._default(spec)
        return self.answers

    def _interview(self) -> None:
        specs = self.questions()
        # Each question asked, with the answers as they were before it: going back restores them,
        # so that a later question skipped or asked because of an earlier answer follows the change.
        asked: list[tuple[int, Answers, list[str]]] = []
        index = 0
        while True:
            if index == len(specs):
                if not asked or self._confirmed():
                    return
                index = self._back(asked)
                continue
            spec = specs[index]
            if not self.applies(spec):
                index += 1
                continue
            before = (index, dict(self.answers), list(self.unset))
            if self._ask_until_valid(spec):
                asked.append(before)
                index += 1
            elif asked:
                index = self._back(asked)
            else:
                self.terminal.say("  This is the first question: there is nothing to go back to.")

    def _back(self, asked: list[tuple[int, Answers, list[str]]]) -> int:
        index, self.answers, self.unset = asked.pop()
        return index

    def _default(self, spec: ProfileField) -> None:
        """Without a terminal nothing is stored: the engine applies the same defaults."""
        value = default_for(spec, self.answers)
        self.defaulted.append(f"{spec.flag}={'(not set)' if value is None else _show(value)}")

    def _ask_until_valid(self, spec: ProfileField) -> bool:
        """Ask until the answer is valid; False when the user asked to go back."""
        default = default_for(spec, self.answers)
        self._explain(spec)
        # A question without a default says what Enter does: a blank answer is not a silent guess.
        shown = "Enter: I don't know" if default is None else _show(default)
        prompt = f"{spec.question} [{shown}]: "
        while True:
            text = self.terminal.ask(prompt).strip()
            word = _word(text)
            if word in HELP_WORDS:
                self._help(spec)
                continue
            if word in BACK_WORDS:
                return False
            if not text or word in DONT_KNOW_WORDS:
                self._take_default(spec, default, typed=bool(text))
                return True
            try:
                self.answers.update(self.parse(spec, text))
                return True
            except UsageError as error:
                self.terminal.say(f"  ✗ {_without_flag(str(error))} (? for help, < to go back)")

    def _take_default(self, spec: ProfileField, default: Any, typed: bool) -> None:
        if default is not None:
            self.answers[spec.name] = default
            if typed:
                self.terminal.say(f"  → {_show(default)}, the default.")
            return
        self.unset.append(spec.name)
        self.terminal.say(f"  → not set: {spec.if_unset or 'the default applies'}.")

    def _explain(self, spec: ProfileField) -> None:
        for number, choice in enumerate(spec.choices, start=1):
            self.terminal.say(f"  {number}. {choice.value:<16} {choice.help}")

    def _help(self, spec: ProfileField) -> None:
        self.terminal.say(f"  {spec.help}")
        if spec.choices:
            self.terminal.say("  Answer with a number or a name from the list above.")
        elif spec.kind == "flag":
            self.terminal.say("  Answer y or n.")
        examples = EXAMPLE_ANSWERS.get(spec.name, spec.example)
        if examples:
            self.terminal.say(f"  For example: {examples}")
        default = default_for(spec, self.answers)
        unknown = _show(default) if default is not None else f"not set ({spec.if_unset})"
        self.terminal.say(f'  "I don\'t know" or Enter: {unknown}. < goes back to the previous question.')

    def _confirmed(self) -> bool:
        """Show every answer and ask before computing: False to go back and change the last one."""
        self.terminal.say("")
        self.terminal.say("Your answers:")
        for spec in PROFILE_FIELDS:
            value = self.answers.get(spec.name)
            label = spec.name.replace("_", " ")
            if value is not None:
                self.terminal.say(f"  {label}: {_show_value(spec, value)}")
            elif spec.name in self.unset:
                self.terminal.say(f"  {label}: not set ({spec.if_unset})")
        while True:
            reply = _word(self.terminal.ask("Compute the plan? [Y/n; < to change the last answer]: "))
            if reply in ("", "y", "yes"):
                return True
            if reply in BACK_WORDS or reply in ("n", "no"):
                return False
            self.terminal.say("  Enter computes the plan; < (or n) goes back one question, and again.")

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
        """A GPU by name, or its memory. A guess is never taken on Enter: a wrong GPU silently
        changes every plan, so a bare number and a near name are both confirmed."""
        if means_no_gpu(text):
            return {"gpu": "none"}
        try:
            return {"gpu": self.catalog.gpu(text).id}
        except UsageError:
            pass
        memory = gpu_memory(text)
        if memory is not None:
            return {"vram": parse_vram(memory, "GPU memory")}
        if _bare_memory(text):
            if self._confirm(f"  A GPU with {text} GB of memory? [y/N]: "):
                return {"vram": parse_vram(text, "GPU memory")}
            raise UsageError(
                f"'{text}' is not a GPU: type its model (e.g. 3090) or its memory with a unit (e.g. {text}gb)"
            )
        guesses = self.catalog.gpu_guesses(text, MAX_GPU_GUESSES)
        if guesses:
            return self._pick_gpu(text, guesses)
        raise UsageError(
            f"unknown GPU '{text}': type its model (e.g. 3090, A100 80GB, M3 Max), "
            "its memory (e.g. 24gb), or none"
        )

    def _pick_gpu(self, text: str, guesses: list[Gpu]) -> Answers:
        self.terminal.say(f"  ft-atlas does not know a GPU called '{text}'. Is it one of these?")
        for number, gpu in enumerate(guesses, start=1):
            self.terminal.say(f"    {number}. {gpu.name}")
        reply = self.terminal.ask(
            f"  Its number (1-{len(guesses)}), or its memory such as 24gb [Enter: none of these]: "
        ).strip()
        if reply.isdigit() and 1 <= int(reply) <= len(guesses):
            return {"gpu": guesses[int(reply) - 1].id}
        memory = gpu_memory(reply)
        if memory is not None:
            return {"vram": parse_vram(memory, "GPU memory")}
        raise UsageError("no GPU chosen: type its model (e.g. 4090, M3 Max), its memory (e.g. 24gb), or none")

    def _confirm(self, prompt: str) -> bool:
        return self.terminal.ask(prompt).strip().lower() in YES_WORDS

    def _parse_model(self, text: str) -> Answers:
        """A catalog name (stored as its id), a config path or a Hub id (stored as typed; see
        core/models.py), else a size such as 7b."""
        try:
            found = find_model(self.catalog, text)
            return {"model": found.model.id if found.kind == "catalog" else text.strip()}
        except UsageError as unknown:
            if text.strip()[:1].isdigit():  # meant as a size: say what is wrong with it
                return {"model_size": parse_size(text, "model size")}
            if not str(unknown).startswith("unknown model"):
                raise
        raise UsageError(
            f"unknown model '{text}'{self.catalog.model_hint(text)} Type a catalog name "
            "(ft-atlas models lists them), a Hub id (org/name), a model directory, or a size such as 7b"
        )


MAX_BARE_MEMORY_GB = 256  # a bare number above any GPU's memory is a model number ("309")


def _bare_memory(text: str) -> bool:
    """'24' or '4' may be memory sizes (confirmed first); '3090' or '309' are GPU names."""
    key = normalize(text)
    return _ascii_number(key) and 0 < float(key) <= MAX_BARE_MEMORY_GB


def _ascii_number(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also takes other scripts' digits, which float() reads."""
    digits = text.replace(".", "", 1)
    return digits.isascii() and digits.isdigit()


def _word(text: str) -> str:
    """An answer as the word lists compare it: "I don't know." -> "idontknow"."""
    return re.sub(r"[^a-z0-9?<]", "", text.casefold())


_FLAG_PREFIX = re.compile(r"^(--[a-z-]+|GPU memory|model size|model): ")


def _without_flag(message: str) -> str:
    """Parsers name the flag ("--gpus: ..."); the questionnaire's user never typed one."""
    return _FLAG_PREFIX.sub("", message)


def _show_value(spec: ProfileField, value: Any) -> str:
    if spec.kind == "size":
        return f"{value:g}B parameters"
    if spec.kind == "vram":
        return f"{value:g} GB per GPU"
    if spec.kind == "flag":
        return "yes" if value else "no"
    return str(value)


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
