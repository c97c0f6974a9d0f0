"""Answers -> profile logic and skip logic of the questionnaire, without a terminal."""

from __future__ import annotations

from collections import deque

import pytest

from atlas_cli.core.profile import PROFILE_FIELDS, build_profile
from atlas_cli.core.questionnaire import Interview, command_line
from atlas_cli.kb.catalog import Catalog


class ScriptedTerminal:
    """Answers prompts from a script; records every prompt and message."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = deque(answers)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.popleft()

    def say(self, text: str) -> None:
        self.said.append(text)


def interview(
    catalog: Catalog, answers: list[str], **prefilled: object
) -> tuple[dict[str, object], ScriptedTerminal]:
    terminal = ScriptedTerminal(answers)
    result = Interview(catalog, terminal, dict(prefilled)).run(interactive=True)
    return result, terminal


def test_every_question_comes_from_the_profile_definition(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 20)
    asked = "".join(terminal.prompts)
    for field in PROFILE_FIELDS:
        # Not asked by default: set by flags, or asked only after an answer that needs them.
        skipped = ("gpus", "knowledge_changes", "examples", "batch_size", "stack", "tokens_per_example")
        skipped += ("epochs", "packing", "price_per_hour", "max_hours", "budget_usd", "model_variant")
        if field.alternative_to is None and field.name not in skipped:
            assert field.question in asked, field.name


def test_full_run_builds_the_profile(catalog: Catalog) -> None:
    script = ["weights", "3090", "2", "llama-3.1-8b", "chat", "preferences", "10k", "4k", "600", "2", "y"]
    answers, _ = interview(catalog, [*script, "n", "quality"])
    assert answers == {
        "model_access": "weights",
        "gpu": "rtx-3090",
        "gpus": 2,
        "model": "llama-3.1-8b",
        "goal": "chat",
        "data_kind": "preferences",
        "examples": 10_000,
        "seq_len": 4096,
        "tokens_per_example": 600,
        "epochs": 2.0,
        "packing": True,
        "many_tasks": False,
        "priority": "quality",
    }


def test_friendly_answers(catalog: Catalog) -> None:
    answers, _ = interview(catalog, ["", "24gb", "", "7B", "3", "", "1.5k", "", "", "", "", "y", "4"])
    assert answers["vram"] == 24.0
    assert answers["model_size"] == 7.0
    assert answers["goal"] == "chat"  # by number
    assert answers["data_kind"] == "demonstrations"  # the goal's usual data is the default
    assert answers["examples"] == 1500
    assert answers["many_tasks"] is True
    assert answers["priority"] == "speed"


def test_invalid_answer_is_asked_again_with_the_reason(catalog: Catalog) -> None:
    answers, terminal = interview(
        catalog, ["", "none", "seven", "7b", "banana", "chat", "", "-3", "10", "", ""]
    )
    assert answers["model_size"] == 7.0
    assert answers["goal"] == "chat"
    assert answers["examples"] == 10
    reasons = " ".join(terminal.said)
    assert "unknown model 'seven'" in reasons
    assert "'banana' is not one of" in reasons
    assert "--examples" in reasons


def test_fuzzy_gpu_asks_for_confirmation(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "309", "y"] + [""] * 10)
    assert answers["gpu"] == "rtx-3090"
    assert any("Did you mean" in p for p in terminal.prompts)


def test_refused_fuzzy_gpu_is_asked_again(catalog: Catalog) -> None:
    answers, _ = interview(catalog, ["", "309", "n", "4090"] + [""] * 10)
    assert answers["gpu"] == "rtx-4090"


def test_no_gpu_skips_gpu_count(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["", "none"] + [""] * 10)
    assert not any("How many GPUs" in p for p in terminal.prompts)


def test_api_only_skips_training_questions(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["api", "chat", "20", ""])
    asked = "".join(terminal.prompts)
    for skipped in ("Which GPU", "How many GPUs", "Which model", "What data"):
        assert skipped not in asked


def test_knowledge_goal_asks_whether_facts_change(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "a100", "", "7b", "knowledge", "", "", "", "y", "n", ""])
    assert any("facts change" in p for p in terminal.prompts)
    assert answers["knowledge_changes"] is True


def test_length_and_epochs_are_asked_once_examples_are_known(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "a100", "", "7b", "chat", "", "5k", "", "", "", "", "", ""])
    assert any("average example" in p for p in terminal.prompts)
    assert any("epochs" in p for p in terminal.prompts)
    assert any("pack" in p for p in terminal.prompts)
    assert "tokens_per_example" not in answers and "epochs" not in answers


def test_other_goals_do_not_ask_about_changing_facts(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 12)
    assert not any("facts change" in p for p in terminal.prompts)


def test_prefilled_flags_skip_their_questions(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 10, gpu="rtx-4090", model_size=7.0, goal="chat")
    asked = "".join(terminal.prompts)
    assert "Which GPU" not in asked and "Which model" not in asked and "your goal" not in asked


def test_end_of_input_raises_eof(catalog: Catalog) -> None:
    with pytest.raises(EOFError):
        interview(catalog, ["weights"])


def test_non_interactive_asks_nothing_and_lists_defaults(catalog: Catalog) -> None:
    terminal = ScriptedTerminal([])
    run = Interview(catalog, terminal, {"gpu": "rtx-3090"})
    assert run.run(interactive=False) == {"gpu": "rtx-3090"}
    assert terminal.prompts == []
    assert "--goal=adapt" in run.defaulted
    assert "--data-kind=demonstrations" in run.defaulted


def test_command_line_reproduces_the_profile() -> None:
    answers = {"gpu": "rtx-3090", "model_size": 7.0, "goal": "chat", "examples": 10_000, "many_tasks": True}
    line = command_line(answers)
    assert (
        line == "ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat --examples 10000 --many-tasks"
    )
    flags = line.split()[2:]
    raw = {}
    while flags:
        name = flags.pop(0)[2:].replace("-", "_")
        raw[name] = True if name == "many_tasks" else flags.pop(0)
    assert build_profile(raw).to_dict() == build_profile({**answers, "model_size": "7b"}).to_dict()
