"""Answers -> profile logic and skip logic of the questionnaire, without a terminal."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
from collections import deque
from pathlib import Path

import pytest

from atlas_cli.core.engine import Engine
from atlas_cli.core.profile import (
    FIELDS_BY_NAME,
    PROFILE_FIELDS,
    answers_in_russian,
    build_profile,
    command_line,
    parse_size,
)
from atlas_cli.core.questionnaire import EXAMPLE_ANSWERS, Interview, pick_choice
from atlas_cli.errors import UsageError
from atlas_cli.i18n import set_language, t
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.vocabulary import SYSTEM_RAM_CLAUSE
from tests.conftest import Runner, fails, ok


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


def asked_after(catalog: Catalog, answers: dict[str, str]) -> str:
    """Every prompt of an interview that starts from these answers and takes each default."""
    _, terminal = interview(catalog, [""] * 30, **answers)
    return "".join(terminal.prompts)


def test_vllm_is_asked_of_online_rl_only(catalog: Catalog) -> None:
    question = FIELDS_BY_NAME["vllm"].question
    answers = {"gpu": "a100-80gb", "model": "qwen2.5-7b", "goal": "reasoning", "data_kind": "reward-function"}
    assert question in asked_after(catalog, answers)
    assert question not in asked_after(catalog, {**answers, "data_kind": "demonstrations"})
    assert question not in asked_after(catalog, {**answers, "gpu": "none"})


def test_a_vllm_server_is_asked_of_who_samples_with_vllm_on_several_gpus(catalog: Catalog) -> None:
    question = FIELDS_BY_NAME["vllm_server_gpus"].question
    answers = {"gpu": "h100-80gb", "gpus": 8, "model": "qwen2.5-7b", "goal": "reasoning"}
    answers |= {"data_kind": "reward-function", "vllm": True}
    assert question in asked_after(catalog, answers)
    assert question not in asked_after(catalog, {**answers, "vllm": False})
    assert question not in asked_after(catalog, {**answers, "gpus": 1})
    _, terminal = interview(catalog, [""] * 30, **answers)
    at = next(i for i, p in enumerate(terminal.prompts) if question in p)
    # Refused as they are answered, and asked again: no GPU left to train, heads that do not split.
    told, terminal = interview(catalog, [*[""] * at, "8", "3", "1", *[""] * 30], **answers)
    said = " ".join(terminal.said)
    assert (
        "leaves no GPU to train on" in said and "28 query and 4 key/value heads do not split over 3" in said
    )
    assert told["vllm_server_gpus"] == 1


def test_the_network_is_asked_of_who_trains_across_nodes(catalog: Catalog) -> None:
    """An expert's review: multi-node plans assumed InfiniBand, and 100 Gb Ethernet was not a thing
    one could say. More GPUs than a node holds are asked how fast their network is."""
    question = FIELDS_BY_NAME["network_gbps"].question
    answers = {"gpu": "h100-80gb", "gpus": 16, "model": "llama-3.1-70b", "goal": "chat"}
    assert question in asked_after(catalog, answers)
    assert question not in asked_after(catalog, {**answers, "gpus": 8})


def test_every_question_comes_from_the_profile_definition(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 20)
    asked = "".join(terminal.prompts)
    for field in PROFILE_FIELDS:
        # Not asked by default: set by flags, or asked only after an answer that needs them.
        skipped = ("gpus", "knowledge_changes", "examples", "batch_size", "stack", "tokens_per_example")
        skipped += ("epochs", "packing", "price_per_hour", "max_hours", "budget_usd", "model_variant", "ram")
        skipped += ("sft_data",)  # only after preference pairs (test_full_run_builds_the_profile)
        skipped += ("vllm",)  # only after a reward function (test_vllm_is_asked_of_online_rl_only)
        skipped += ("vllm_server_gpus",)  # only after vLLM on several GPUs (test_a_vllm_server_is_asked_...)
        skipped += ("network_gbps",)  # only of more GPUs than a node holds (test_the_network_is_asked_...)
        skipped += (
            "lora_experts",
            "num_generations",
            "generation_batch",
            "activation_offloading",
        )  # expert flags
        if field.alternative_to is None and field.name not in skipped:
            assert field.question in asked, field.name


def test_full_run_builds_the_profile(catalog: Catalog) -> None:
    script = ["weights", "3090", "2", "llama-3.1-8b", "chat", "preferences", "no", "10k", "4k", "600", "2"]
    answers, terminal = interview(catalog, [*script, "y", "n", "quality", ""])
    assert any("for an SFT stage?" in p for p in terminal.prompts)
    assert answers == {
        "model_access": "weights",
        "gpu": "rtx-3090",
        "gpus": 2,
        "model": "llama-3.1-8b",
        "goal": "chat",
        "data_kind": "preferences",
        "sft_data": "no",
        "examples": 10_000,
        "seq_len": 4096,
        "tokens_per_example": 600,
        "epochs": 2.0,
        "packing": True,
        "many_tasks": False,
        "priority": "quality",
    }


def test_friendly_answers(catalog: Catalog) -> None:
    answers, _ = interview(catalog, ["", "24gb", "", "7B", "3", "", "1.5k", "", "", "", "", "y", "4", ""])
    assert answers["vram"] == 24.0
    assert answers["model_size"] == 7.0
    assert answers["goal"] == "chat"  # by number
    assert answers["data_kind"] == "demonstrations"  # the goal's usual data is the default
    assert answers["examples"] == 1500
    assert answers["many_tasks"] is True
    assert answers["priority"] == "speed"


@pytest.mark.parametrize("memory", ["24gb", "24 GB", "24GiB", "24 g"])
def test_memory_with_a_unit_is_taken_as_is(catalog: Catalog, memory: str) -> None:
    answers, terminal = interview(catalog, ["", memory] + [""] * 12)
    assert answers["vram"] == 24.0
    assert not any("[y/N]" in p for p in terminal.prompts)


def test_invalid_answer_is_asked_again_with_the_reason(catalog: Catalog) -> None:
    answers, terminal = interview(
        catalog, ["", "none", "seven", "7b", "banana", "chat", "", "-3", "10", "", "", ""]
    )
    assert answers["model_size"] == 7.0
    assert answers["goal"] == "chat"
    assert answers["examples"] == 10
    reasons = " ".join(terminal.said)
    assert "unknown model 'seven'" in reasons
    assert "'banana' is not one of" in reasons
    assert "'-3'" in reasons


def test_a_number_too_long_for_int_is_asked_again(catalog: Catalog) -> None:
    """int() refuses more than 4,300 digits: an answer that long to a choice was an internal error."""
    answers, terminal = interview(catalog, ["9" * 5000, "weights"] + [""] * 20)
    assert answers["model_access"] == "weights"
    assert any("is not one of weights, api" in said for said in terminal.said)


def test_an_unknown_model_is_picked_from_its_closest_names_by_number(catalog: Catalog) -> None:
    """'qwen3' listed qwen3-8b and others as "did you mean", and '1' was then read as a size
    without a unit (a newcomer's review): the names are numbered and a number picks one."""
    guesses = catalog.model_guesses("qwen3")
    answers, terminal = interview(catalog, ["", "t4", "", "qwen3", "1"] + [""] * 14)
    assert answers["model"] == guesses[0]
    assert f"    1. {guesses[0]}" in terminal.said
    sized, _ = interview(catalog, ["", "t4", "", "qwen3", "7b"] + [""] * 14)  # a size typed instead
    assert sized["model_size"] == 7.0
    past, terminal = interview(catalog, ["", "t4", "", "qwen3", "9", "qwen3", "2"] + [""] * 14)
    assert past["model"] == guesses[1] and any("pick a number from 1 to" in s for s in terminal.said)
    none, terminal = interview(catalog, ["", "t4", "", "qwen3", ""] + [""] * 14)  # Enter: none of these
    assert "model" not in none and any("no model chosen" in s for s in terminal.said)


def test_errors_name_no_flags_the_user_never_typed(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["", "3090", "rtx3090", "", "seven", "7", "7b"] + [""] * 12)
    errors = [line for line in terminal.said if "✗" in line]
    assert len(errors) == 3, errors
    assert "'rtx3090' is not a whole number" in errors[0]
    assert "needs a unit" in errors[2]
    assert not any("--" in line for line in errors), errors


def test_a_near_gpu_name_is_offered_never_taken_on_enter(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "309", "", "309", "1"] + [""] * 12)
    assert answers["gpu"] == "rtx-3090"
    assert "RTX 3090" in " ".join(terminal.said)
    assert sum("Which GPU" in p for p in terminal.prompts) == 2  # Enter refused the guess


def test_a_family_name_asks_which_model_or_how_much_memory(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "geforce", "24gb"] + [""] * 12)
    assert any("memory" in p and "Enter: none of these" in p for p in terminal.prompts)
    assert answers["vram"] == 24.0 and "gpu" not in answers


def test_a_mac_is_a_chip_and_its_memory_never_memory_alone(catalog: Catalog) -> None:
    """ "macbook" then "36gb" gave a 36 GB card with CUDA: bitsandbytes plans for a Mac (a
    review). Memory alone keeps the first chip offered that comes with it, and says so; "5 48gb"
    picks the chip."""
    answers, terminal = interview(catalog, ["", "macbook", "36gb"] + [""] * 12)
    offered = " ".join(terminal.said)
    assert "Apple M4 (32 GB" in offered and "Apple M4 Max" in offered  # a MacBook Air's, and a Pro's
    # The example is a size the first chip offered comes with (a review: "1 36gb" for an M4).
    first = catalog.gpu_guesses("macbook", 5)[0]
    assert any(f"such as 1 {first.memory_sizes_gb[0]:g}gb" in p for p in terminal.prompts)
    assert first.memory_sizes_gb[0] != 36
    assert answers["vram"] == 36.0 and answers["gpu"].startswith("apple-")
    assert any("the chip changes only the time estimate" in line for line in terminal.said)
    picked, _ = interview(catalog, ["", "macbook", "5 48gb"] + [""] * 12)
    assert picked["vram"] == 48.0 and picked["gpu"] == catalog.gpu_guesses("macbook", 5)[4].id
    # Memory none of the chips offered comes with: a Mac chip that does (a newcomer's review: 96 GB
    # was refused as "the Apple M4 comes with 16, 24 or 32 GB", a chip never picked).
    large, _ = interview(catalog, ["", "macbook", "96gb"] + [""] * 12)
    assert large["vram"] == 96.0 and 96 in catalog.gpus[large["gpu"]].memory_sizes_gb


@pytest.mark.parametrize("typed", ["M3 Max 36GB", "m3-max 36 gb", "apple m3 max 36gb"])
def test_an_apple_chip_named_with_its_memory_is_that_chip_with_that_memory(
    catalog: Catalog, run: Runner, typed: str
) -> None:
    answers, _ = interview(catalog, ["", typed] + [""] * 12)
    assert (answers["gpu"], answers["vram"]) == ("apple-m3-max", 36.0)
    profile = ok(run("recommend", "--gpu", typed, "--model-size", "8b", "--json")).json()["profile"]
    assert (profile["gpu"], profile["vram"]) == ("apple-m3-max", 36.0)
    # A card sold with one size says so.
    fails(run("recommend", "--gpu", "rtx 3090 48gb"), 2, "RTX 3090 24GB with 24 GiB only")


@pytest.mark.parametrize(("reply", "vram"), [("", 8.0), ("16", 16.0), ("24gb", 24.0)])
def test_a_chip_sold_with_several_memories_is_asked_which(catalog: Catalog, reply: str, vram: float) -> None:
    """ "M3" was taken as the 24 GB chip without a word, and an 8 GB MacBook Air was told an 8B
    QLoRA fits (a newcomer's review): its memory is asked, Enter takes the smallest, a size Apple
    never sold is refused and asked again, and the answer is echoed."""
    answers, terminal = interview(catalog, ["", "M3", "18", reply] + [""] * 12)
    assert (answers["gpu"], answers["vram"]) == ("apple-m3", vram)
    assert any("comes with 8, 16 or 24 GB" in line for line in terminal.said)
    assert any(f"Taken as Apple M3 with {vram:g} GB." in line for line in terminal.said)


@pytest.mark.parametrize(
    ("typed", "gpu", "vram"),
    [
        ("MacBook Pro M3 Pro 18GB", "apple-m3-pro", 18.0),
        ("MacBook Air M2 16GB", "apple-m2", 16.0),
        ("Mac Studio M2 Ultra 192GB", "apple-m2-ultra", 192.0),
        ("Mac mini M4 Pro 48GB", "apple-m4-pro", 48.0),
        ('MacBook Pro 14" M3 Max 36GB', "apple-m3-max", 36.0),
        ("macbook air m1", "apple-m1", None),
        ("Mac M3", "apple-m3", None),  # refused before (a newcomer's review)
        ("мак м3", "apple-m3", None),
        ("макбук эйр м3 16 гб", "apple-m3", 16.0),
        ("мак мини м4 про", "apple-m4-pro", None),  # the tier in Russian (a newcomer's review)
        ("м3 макс 36 гб", "apple-m3-max", 36.0),
    ],
)
def test_a_mac_named_with_its_chip_is_that_chip(
    catalog: Catalog, run: Runner, typed: str, gpu: str, vram: float | None
) -> None:
    """ "MacBook Pro M3 Pro 18GB" offered only the M3 Max and M4 Max and dropped the 18 GB, though
    --gpu "M3 Pro 18GB" names the chip and its memory (a review): the Mac before the chip is
    passed over, in ask and on the command line."""
    answers, terminal = interview(catalog, ["", typed] + [""] * 12)
    # Named without its memory, ask asks it, and Enter takes the smallest (8 GB; the M4 Pro's 24).
    smallest = min(catalog.gpus[gpu].memory_sizes_gb)
    assert (answers["gpu"], answers.get("vram")) == (gpu, smallest if vram is None else vram)
    assert not any("Is it one of these?" in line for line in terminal.said)
    profile = ok(run("recommend", "--gpu", typed, "--model-size", "8b", "--json")).json()["profile"]
    assert profile["gpu"] == gpu and (vram is None or profile["vram"] == vram)
    # A size the chip was never sold with is refused, the Mac's name notwithstanding.
    fails(run("recommend", "--gpu", "MacBook Pro M3 Pro 16GB"), 2, "comes with 18 or 36 GB")


def test_a_laptop_gpu_is_asked_for_its_memory_not_offered_its_desktop_namesake(catalog: Catalog) -> None:
    """ "rtx 3060 laptop" was offered the desktop RTX 3060 12GB first; the laptop card has 6 GB (an
    expert's review): the answer is refused with why, and its memory is asked for."""
    answers, terminal = interview(catalog, ["", "rtx 3060 laptop", "6gb"] + [""] * 12)
    assert answers["vram"] == 6.0 and "gpu" not in answers
    assert not any("RTX 3060 12GB" in line for line in terminal.said)
    assert any("is a laptop GPU" in line for line in terminal.said)


def test_a_laptop_gpu_on_the_command_line_is_refused_with_why(run: Runner) -> None:
    laptops = ("rtx 3060 laptop", "RTX 4090 Mobile", "rtx-2080-max-q", "rtx 3060m", "rtx3060m")
    for name in (*laptops, "rtx 3060 ноутбук", "RTX PRO 5000 Blackwell Laptop"):
        message = fails(run("recommend", "--gpu", name, "--model", "qwen3-0.6b"), 2, "is a laptop GPU").stderr
        assert "--vram" in message and "did you mean" not in message
    # Not laptop cards (a review): a Max-Q workstation card, a Kaggle notebook's T4, a MacBook's chip.
    for name in ("RTX PRO 6000 Max-Q", "kaggle notebook t4", "m3 max laptop", "kaggle t4"):
        assert "is a laptop GPU" not in run("recommend", "--gpu", name, "--model", "qwen3-0.6b").stderr


def test_a_laptop_gpu_named_with_its_memory_is_sized_by_it(catalog: Catalog, run: Runner) -> None:
    """'RTX 4060 Laptop 8GB' and 'ноутбук с 4060 на 8 гигов' were refused although they say the
    memory, and a newcomer's fallback to '8 ГБ' lost the laptop (a review): sized by that memory,
    and the note says why there is no time."""
    for name in (
        "RTX 4060 Laptop 8GB",
        "ноутбук с 4060 на 8 гигов",
        "rtx 4060 8GB laptop",
        "RTX 4060 8GB Laptop GPU",
    ):
        doc = ok(run("recommend", "--gpu", name, "--model", "qwen3-0.6b", "--json")).json()
        assert doc["profile"]["vram"] == 8.0
        assert any("laptop GPU with 8 GB" in note for note in doc["notes"])
    flagged = ok(run("recommend", "--gpu", "rtx 4060 laptop", "--vram", "8", "--json")).json()
    assert any("laptop GPU with 8 GB" in note for note in flagged["notes"])
    answers, _ = interview(catalog, ["", "RTX 4060 Laptop 8GB"] + [""] * 14)
    assert answers["gpu"] == "RTX 4060 Laptop 8GB"
    answers, _ = interview(catalog, ["", "rtx 4060 8GB laptop"] + [""] * 14)  # the memory first
    assert answers["gpu"] == "rtx 4060 8GB laptop"
    # Checked as it is typed, and never read from inside another number (a maintainer's review)
    zero, terminal = interview(catalog, ["", "RTX 4060 Laptop 0GB", "RTX 4060 Laptop 8GB"] + [""] * 14)
    assert zero["gpu"] == "RTX 4060 Laptop 8GB" and any("must be a positive" in s for s in terminal.said)
    fails(run("recommend", "--gpu", "laptop 1e9GB"), 2, "is a laptop GPU")
    fails(run("recommend", "--gpu", "RTX 4060 Laptop 8GB", "--vram", "16"), 2, "give the memory once")


def test_a_bare_number_is_confirmed_as_memory_and_no_is_the_default(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "4", "", "4", "y"] + [""] * 12)
    assert answers["vram"] == 4.0
    assert sum("A GPU with 4 GB of memory? [y/N]" in p for p in terminal.prompts) == 2


def test_a_question_mark_at_the_memory_confirmation_explains_it(catalog: Catalog) -> None:
    """`?` answers every question with its explanation; at "A GPU with 1 GB of memory? [y/N]" it
    was taken as No (a newcomer's review)."""
    answers, terminal = interview(catalog, ["", "1", "?", "y"] + [""] * 12)
    assert answers["vram"] == 1.0
    assert any("a bare number: y takes it as the GPU's memory" in line for line in terminal.said)


def test_a_known_gpu_name_is_taken_where_a_guess_is_offered(catalog: Catalog) -> None:
    """Offered a list for "macbook", a newcomer typed the GPU they have: it was refused."""
    answers, _ = interview(catalog, ["", "macbook", "3090"] + [""] * 12)
    assert answers["gpu"] == "rtx-3090"


@pytest.mark.parametrize("signed", ["-1", "+4", "-24", "-2", "-3"])
def test_a_signed_number_is_no_memory_size_to_confirm(catalog: Catalog, signed: str) -> None:
    _, terminal = interview(catalog, ["", signed, "4090"] + [""] * 12)
    assert not any("A GPU with" in p for p in terminal.prompts)
    assert sum("Which GPU" in p for p in terminal.prompts) == 2  # refused, asked again


def test_refused_guess_is_asked_again(catalog: Catalog) -> None:
    answers, _ = interview(catalog, ["", "309", "n", "4090"] + [""] * 12)
    assert answers["gpu"] == "rtx-4090"


@pytest.mark.parametrize(
    "unknown",
    # a newcomer's review, the fifty-sixth round: the longer ones were read as names
    [
        "I don't know",
        "dont know",
        "idk",
        "Not sure.",
        "I DON’T KNOW",
        "I don't know which",
        "whatever you think",
    ],
)
def test_i_dont_know_takes_the_default_and_says_so(catalog: Catalog, unknown: str) -> None:
    answers, terminal = interview(catalog, ["", "a100", "", "7b", unknown] + [""] * 12)
    assert answers["goal"] == "adapt"
    assert "  → adapt, the default." in terminal.said


@pytest.mark.parametrize("said", ["spam filter", "фильтр спама", "classify emails as spam or not"])
def test_a_spam_filter_is_a_classifier(said: str) -> None:
    assert pick_choice(FIELDS_BY_NAME["goal"], said) == "classify"


def test_a_model_left_to_ft_atlas_is_not_set(catalog: Catalog) -> None:
    """A newcomer's review: "I don't know which model" was refused as an unknown model."""
    for said in ("I don't know which model", "не знаю, какую модель"):
        answers, _ = interview(catalog, ["", "a100", "", said] + [""] * 12)
        assert "model" not in answers and "model_size" not in answers, said


def test_i_dont_know_without_a_default_leaves_it_unset_and_says_what_follows(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "idk"] + [""] * 12)
    assert "gpu" not in answers and "vram" not in answers
    assert "  → not set: the fit in memory is not checked." in terminal.said
    summary = terminal.said[terminal.said.index("Your answers:") :]
    assert "  gpu: not set (the fit in memory is not checked)" in summary


def test_questions_without_a_default_say_what_enter_does(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 14)
    gpu = next(p for p in terminal.prompts if "Which GPU" in p)
    assert gpu.endswith("[Enter: I don't know]: ")


def test_every_question_without_a_default_says_what_is_assumed() -> None:
    for field in PROFILE_FIELDS:
        if field.alternative_to is None and field.default is None and not field.choices:
            assert field.if_unset, field.name


def test_question_mark_explains_the_question_with_examples(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "?", "3090"] + [""] * 12)
    assert answers["gpu"] == "rtx-3090"
    help_text = " ".join(terminal.said)
    assert FIELDS_BY_NAME["gpu"].help in help_text
    assert "For example: 3090" in help_text and "24gb" in help_text
    assert sum("Which GPU" in p for p in terminal.prompts) == 2


def test_back_returns_to_the_previous_question_and_forgets_its_answer(catalog: Catalog) -> None:
    # none -> no GPU count; going back and answering 3090 asks for the count after all.
    script = ["", "none", "<", "3090", "2", "<", "<", "<", "api", "", "chat", "", "", "", ""]
    answers, terminal = interview(catalog, script)
    assert answers["model_access"] == "api"
    assert "gpu" not in answers and "gpus" not in answers
    asked = [p.split("?")[0] for p in terminal.prompts]
    assert asked[:6] == [
        "Can you access the model's weights",
        "Which GPU will you train on",
        "Which model",  # skipped the count: no GPU
        "Which GPU will you train on",
        "How many GPUs",  # 3090: now it is asked
        "Which model",
    ]


def test_back_at_the_first_question_says_so(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["back", ""] + [""] * 12)
    assert any("first question" in line for line in terminal.said)


def test_summary_is_confirmed_before_the_plan_and_can_go_back(catalog: Catalog) -> None:
    script = ["", "3090", "", "7b", "chat", "", "", "", "", ""]
    answers, terminal = interview(catalog, [*script, "<", "quality", ""])
    assert answers["priority"] == "quality"
    assert sum("Compute the plan?" in p for p in terminal.prompts) == 2
    summary = terminal.said[terminal.said.index("Your answers:") :]
    assert "  gpu: rtx-3090" in summary and "  model size: 7B parameters" in summary


def test_no_summary_when_nothing_was_asked(catalog: Catalog) -> None:
    terminal = ScriptedTerminal([])
    values = {
        "model_access": "api",
        "model": "gpt-4.1",
        "goal": "chat",
        "data_kind": "none",
        "priority": "balanced",
    }
    assert Interview(catalog, terminal, dict(values)).run(interactive=True) == values
    assert terminal.prompts == []


def test_no_gpu_skips_gpu_count(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["", "none"] + [""] * 10)
    assert not any("How many GPUs" in p for p in terminal.prompts)


def test_colab_names_its_free_tiers_t4(run: Runner) -> None:
    """A newcomer's review: 'free Colab T4' was an unknown GPU."""
    for said in ("colab", "free colab t4", "бесплатный колаб"):  # and in Russian (round 21)
        data = ok(run("recommend", "--gpu", said, "--model-size", "1b", "--json")).json()
        assert data["profile"]["gpu"] == said and data["profile"]["vram"] == 16.0  # a T4, free


def test_a_mac_skips_gpu_count(catalog: Catalog) -> None:
    """A newcomer's review: 'How many GPUs?' after a MacBook's chip, which is one per machine."""
    answers, terminal = interview(catalog, ["", "M3 16gb"] + [""] * 10)
    assert answers["gpu"] == "apple-m3" and not any("How many GPUs" in p for p in terminal.prompts)


def test_api_only_skips_training_questions_but_asks_about_data(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["api", "", "chat", "", "20", "", ""])
    asked = "".join(terminal.prompts)
    for skipped in ("Which GPU", "How many GPUs", "Which model?", "longest examples", "epochs"):
        assert skipped not in asked
    # The plan's note about the data kind must not name a question that was never asked.
    assert answers["data_kind"] == "demonstrations"


def test_api_only_asks_which_hosted_model(catalog: Catalog) -> None:
    """The hosted model decides which provider tunes it and which endpoint serves it: an API user
    is asked for its name, and any name is taken as typed (it is never sized)."""
    answers, terminal = interview(catalog, ["api", "?", "gpt-4.1-mini", "chat", "", "2k", "", ""])
    assert any("Which hosted model?" in p for p in terminal.prompts)
    assert answers["model"] == "gpt-4.1-mini"
    said = " ".join(terminal.said)
    assert "gemini-3.5-flash" in said and "7B" not in said  # its own help, not the local weights'"


def test_knowledge_goal_asks_whether_facts_change(catalog: Catalog) -> None:
    answers, terminal = interview(catalog, ["", "a100", "", "7b", "knowledge", "", "", "", "y", "n", "", ""])
    assert any("facts change" in p for p in terminal.prompts)
    assert answers["knowledge_changes"] is True


def test_length_and_epochs_are_asked_once_examples_are_known(catalog: Catalog) -> None:
    answers, terminal = interview(
        catalog, ["", "a100", "", "7b", "chat", "", "5k", "", "", "", "", "", "", ""]
    )
    assert any("average example" in p for p in terminal.prompts)
    assert any("epochs" in p for p in terminal.prompts)
    assert any("pack" in p for p in terminal.prompts)
    assert "tokens_per_example" not in answers and "epochs" not in answers


def test_other_goals_do_not_ask_about_changing_facts(catalog: Catalog) -> None:
    _, terminal = interview(catalog, [""] * 14)
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


def test_a_hub_id_typed_at_the_prompt_keeps_its_instruct_checkpoint(catalog: Catalog) -> None:
    """The catalog knows meta-llama/Llama-3.2-3B-Instruct as llama-3.2-3b; storing the id would
    lose "Instruct" (the variant, and the checkpoint the recipe loads): the answer is kept as
    typed, as the --model flag keeps it. A catalog name is still stored as its id."""
    typed = "meta-llama/Llama-3.2-3B-Instruct"
    answers, _ = interview(catalog, ["weights", "3090", "1", typed, *[""] * 12])
    assert answers["model"] == typed
    assert build_profile(answers).model == typed
    named, _ = interview(catalog, ["weights", "3090", "1", "Llama 3.2 3B", *[""] * 12])
    assert named["model"] == "llama-3.2-3b"


def test_a_kaggle_or_colab_t4_is_a_t4(run: Runner) -> None:
    """Sized as the T4 it is, and named as the free tier it is (which prices it at nothing)."""
    for name in ("kaggle t4", "colab t4"):
        args = ("recommend", "--gpu", name, "--model", "qwen3-0.6b", "--examples", "1k", "--json")
        data = ok(run(*args)).json()
        assert data["profile"]["gpu"] == name and data["profile"]["vram"] == 16.0
        assert data["recommendations"][0]["cost"]["usd"] == 0


def test_memory_typed_with_a_family_name_is_kept_and_checked(catalog: Catalog, run: Runner) -> None:
    """ "macbook pro 36gb" then "1" sized the 128 GB chip; "1 36gb" on a list of NVIDIA cards was
    dropped silently; "M3 Max 512GB" failed only after every question (a review)."""
    answers, _ = interview(catalog, ["", "macbook pro 36gb", "1"] + [""] * 12)
    assert answers["gpu"].startswith("apple-") and answers["vram"] == 36.0
    answers, terminal = interview(catalog, ["", "geforce", "1 36gb", "1"] + [""] * 12)
    assert "vram" not in answers
    assert any("the catalog knows" in line and "--vram N" in line for line in terminal.said)
    answers, terminal = interview(catalog, ["", "M3 Max 512GB", "m3 max 48gb"] + [""] * 12)
    assert (answers["gpu"], answers["vram"]) == ("apple-m3-max", 48.0)
    assert any("comes with 36, 48, 64, 96 or 128 GB" in line for line in terminal.said)
    # On the command line --vram may repeat the memory --gpu names, not contradict it.
    profile = ok(run("recommend", "--gpu", "m3 max 36gb", "--vram", "36", "--json")).json()["profile"]
    assert profile["vram"] == 36.0
    fails(run("recommend", "--gpu", "m3 max 36gb", "--vram", "48"), 2, "give the memory once")


def test_a_card_named_with_its_own_memory_is_that_card(catalog: Catalog, run: Runner) -> None:
    """After the Apple fix, "4090 24gb" in ask read as an unknown GPU called '4090' (a review)."""
    answers, _ = interview(catalog, ["", "4090 24gb"] + [""] * 12)
    assert answers["gpu"] == "rtx-4090" and "vram" not in answers
    assert ok(run("recommend", "--gpu", "4090 24gb", "--json")).json()["profile"]["gpu"] == "rtx-4090"
    fails(run("recommend", "--gpu", "a100 48gb"), 2, "with other memory", "--vram N")
    fails(run("recommend", "--gpu", "3060 8GB"), 2, "an RTX 3060 8GB")


@pytest.mark.parametrize(
    ("said", "goal"),
    [
        ("отвечать клиентам в стиле нашей поддержки", "adapt"),
        ("следовать стилю", "adapt"),  # the menu's own words, as a Russian speaker reads them
        ("наш стиль", "adapt"),
        ("бот поддержки", "chat"),
        ("answer customers in our support style", "adapt"),
    ],
)
def test_a_goal_in_russian_words_is_read_in_any_case_form(said: str, goal: str) -> None:
    """Russian inflects: 'в стиле', 'стилю' were refused, the menu's own label too (a review)."""
    assert pick_choice(FIELDS_BY_NAME["goal"], said) == goal


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", ["goal", "data_kind"])
def test_a_choice_described_in_words_is_the_one_its_example_names(lang: str, name: str) -> None:
    """'customer support chatbot' and 'Q&A pairs' were refused (a newcomer's review): an answer in
    words is taken when it names one choice, and every example `?` quotes reads as its choice."""
    set_language(lang)
    try:
        spec = next(f for f in PROFILE_FIELDS if f.name == name)
        quoted = re.findall(r'([a-z-]+) \(["«]([^"»]+)["»]\)', t(EXAMPLE_ANSWERS[name]))
        assert len(quoted) >= 4
        for value, said in quoted:
            assert pick_choice(spec, said) == value, said
    finally:
        set_language("en")


def test_an_answer_naming_two_choices_is_asked_again(catalog: Catalog) -> None:
    spec = next(f for f in PROFILE_FIELDS if f.name == "data_kind")
    with pytest.raises(UsageError):
        pick_choice(spec, "labels and raw text")
    answers, terminal = interview(
        catalog, ["", "4090", "", "8b", "customer support chatbot", "Q&A pairs", "2k", *[""] * 20]
    )
    assert (answers["goal"], answers["data_kind"]) == ("chat", "demonstrations")
    said = " ".join(terminal.said)  # what words decided is said at once, not only in the summary
    assert "Taken as chat." in said and "Taken as demonstrations." in said
    for denied in ("no labeled data", "tickets without labels"):  # never the very thing denied
        with pytest.raises(UsageError):
            pick_choice(spec, denied)


@pytest.mark.parametrize(
    ("name", "said", "value"),
    [
        ("data_kind", "no data", "none"),
        ("data_kind", "nothing yet", "none"),
        ("data_kind", "данных нет", "none"),
        ("data_kind", "company wiki pages", "text"),
        ("data_kind", "our past chats", "demonstrations"),
        ("data_kind", "3000 размеченных примеров", "labeled"),
        ("data_kind", "пары предпочтений", "preferences"),
        ("goal", "sort emails into categories", "classify"),
        ("goal", "a support chatbot to sort out billing problems", "chat"),
        ("goal", "route tickets to the right team", "classify"),
        ("goal", "ответы по нашим документам", "knowledge"),
    ],
)
def test_a_newcomers_everyday_answer_is_read(name: str, said: str, value: str) -> None:
    """A newcomer's review: 'no data' was refused (a denial is not read for a choice), and so were
    inflected Russian ('3000 размеченных примеров') and 'sort emails into categories'."""
    assert pick_choice(FIELDS_BY_NAME[name], said) == value


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", ["goal", "data_kind", "priority"])
def test_a_choices_own_description_copied_as_the_answer_is_that_choice(lang: str, name: str) -> None:
    """An expert's review: 'a program that checks or scores answers', the menu's own words for
    reward-function, was refused, and the piped session ended."""
    set_language(lang)
    try:
        for choice in FIELDS_BY_NAME[name].choices:
            assert pick_choice(FIELDS_BY_NAME[name], t(choice.help)) == choice.value, choice.help
    finally:
        set_language("en")


@pytest.mark.parametrize(
    "said",
    [
        "a program that checks answers",
        "a script that scores answers",
        "программа, которая проверяет ответы",
    ],
)
def test_data_a_program_can_check_is_a_reward_function(said: str) -> None:
    assert pick_choice(FIELDS_BY_NAME["data_kind"], said) == "reward-function"


def test_answers_a_program_could_check_are_not_a_reward_function_by_those_words_alone() -> None:
    """A diff review: 'math problems with worked solutions and numeric answers' and 'grammar checker
    corrections' were read as reward functions (GRPO plans) for supervised data."""
    for said in ("math problems with worked solutions and numeric answers", "grammar checker corrections"):
        with contextlib.suppress(UsageError):
            assert pick_choice(FIELDS_BY_NAME["data_kind"], said) != "reward-function", said


def test_an_answer_naming_two_choices_says_which_it_names() -> None:
    """The refusal said only 'not one of ...': the newcomer could not tell what to mend."""
    with pytest.raises(UsageError, match="names more than one: adapt, chat"):
        pick_choice(FIELDS_BY_NAME["goal"], "a chatbot that answers in my company's style")


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("goal", "r", "reasoning"), ("data_kind", "d", "demonstrations"), ("data_kind", "t", "text")],
)
def test_a_letter_still_abbreviates_a_choice_after_everyday_words_were_added(
    name: str, text: str, value: str
) -> None:
    """'r' meant reasoning until 'rag' and friends became goal aliases (an attacker's review)."""
    assert pick_choice(next(f for f in PROFILE_FIELDS if f.name == name), text) == value


@pytest.mark.parametrize(
    ("name", "text"), [("data_kind", "¹"), ("goal", "②"), ("goal", "t"), ("data_kind", "k")]
)
def test_a_superscript_or_an_english_words_letter_is_asked_again_not_a_crash(name: str, text: str) -> None:
    """'¹' passed str.isdigit() and int() raised (exit 1); goal 't' and data kind 'k' silently
    meant 'tagging' and 'kto'."""
    with pytest.raises(UsageError):
        pick_choice(next(f for f in PROFILE_FIELDS if f.name == name), text)


@pytest.mark.parametrize("typed", ["2x4090", "2x4090 24gb", "two 4090s", "две 4090"])
def test_a_gpu_count_typed_into_the_gpu_answer_is_taken(catalog: Catalog, typed: str) -> None:
    """'2x4090' in ask became one RTX 4090 after a guess list (--gpu gives a hint; ask can take it);
    '2x4090 24gb', the card named with its own memory, lost its count; «две 4090» offered guesses."""
    answers, terminal = interview(catalog, ["", typed, "8b", "chat", *[""] * 20])
    assert (answers["gpu"], answers["gpus"]) == ("rtx-4090", 2)
    assert not any("How many GPUs" in p for p in terminal.prompts)


@pytest.mark.parametrize(("typed", "gpu"), [("4070 на 12 гигов", "rtx-4070"), ("3090 with 24gb", "rtx-3090")])
def test_a_word_between_a_gpu_and_its_memory_is_read_past(catalog: Catalog, typed: str, gpu: str) -> None:
    """«4070 на 12 гигов» offered five guesses (a newcomer's review): "4070 12 гигов" was known."""
    answers, terminal = interview(catalog, ["", typed, *[""] * 20])
    assert answers["gpu"] == gpu
    assert not any("Is it one of these?" in line for line in terminal.said)


@pytest.mark.parametrize(
    ("typed", "gpu", "vram"),
    [
        ("4060 ti 16", "rtx-4060-ti-16gb", None),
        ("3060 12", "rtx-3060-12gb", None),
        ("m3 max 64", "apple-m3-max", 64.0),
        ("макбук м3 макс 64", "apple-m3-max", 64.0),
    ],
)
def test_a_gpu_named_with_its_memory_but_no_unit_is_read(
    catalog: Catalog, typed: str, gpu: str, vram: float | None
) -> None:
    """«4060 ti 16» and «м3 макс 64» offered guess lists (a newcomer's review); «4060 ti 16gb» was known."""
    answers, terminal = interview(catalog, ["", typed, *[""] * 20])
    assert (answers["gpu"], answers.get("vram")) == (gpu, vram)
    assert not any("Is it one of these?" in line for line in terminal.said)


def test_a_bare_number_after_a_gpu_that_is_not_its_memory_still_asks(catalog: Catalog) -> None:
    """'4090 2' is not a 2 GB RTX 4090: the guesses are offered as before, not a refusal."""
    _, terminal = interview(catalog, ["", "4090 2", "1", *[""] * 20])
    assert any("Is it one of these?" in line for line in terminal.said)


def test_one_guessed_model_is_offered_as_a_yes_not_a_list_of_one(catalog: Catalog) -> None:
    """A newcomer's review: a single guess read "Its number (1-1)"."""
    answers, terminal = interview(catalog, ["weights", "t4", "1", "modernbertt", "1", *[""] * 12])
    assert answers["model"] == "modernbert-base"
    assert any("1 if it is, or another name or size" in p for p in terminal.prompts)
    assert not any("(1-1)" in p for p in terminal.prompts)


def _summary(terminal: ScriptedTerminal) -> list[str]:
    return terminal.said[terminal.said.index("Your answers:") :]


@pytest.mark.parametrize("typed", ["llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", "llama 3.1 8b instruct"])
def test_an_instruct_name_typed_at_the_prompt_keeps_its_variant(catalog: Catalog, typed: str) -> None:
    """'llama-3.1-8b-instruct' was stored as the id llama-3.1-8b: the plan, the summary and the
    reproduce line all named the base checkpoint (a newcomer's review)."""
    answers, terminal = interview(catalog, ["weights", "t4", "1", typed, *[""] * 12])
    assert (answers["model"], answers["model_variant"]) == ("llama-3.1-8b", "instruct")
    assert "  model variant: instruct" in _summary(terminal)
    assert build_profile(answers).model_variant == "instruct"
    assert "--model llama-3.1-8b --model-variant instruct" in command_line(answers)


def test_a_base_name_keeps_the_base_and_the_summary_says_so(catalog: Catalog) -> None:
    """A base answer sets no --model-variant (prompting plans then serve the instruct checkpoint),
    but the summary still says which variant the model was read as."""
    answers, terminal = interview(catalog, ["weights", "t4", "1", "llama-3.1-8b", *[""] * 12])
    assert "model_variant" not in answers
    assert "  model variant: base (read from the model)" in _summary(terminal)
    _, prefilled = interview(catalog, [""] * 12, model="llama-3.1-8b-instruct")
    assert "  model variant: instruct (read from the model)" in _summary(prefilled)


def test_an_instruct_display_name_on_the_command_line_is_instruct(run: Runner) -> None:
    """`--model "Llama 3.1 8B Instruct"` trained the base: a space did not separate "Instruct"."""
    for name in ("Llama 3.1 8B Instruct", "llama 3.1 8b instruct"):
        profile = ok(run("recommend", "--gpu", "t4", "--model", name, "--goal", "chat", "--json")).json()
        assert profile["profile"]["model_variant"] == "instruct", name
    piped = ok(run("ask", "--json", input="weights\ncolab t4\n1\nllama-3.1-8b-instruct\n")).json()
    assert piped["profile"]["model_variant"] == "instruct"
    assert "--model-variant instruct" in piped["command"]


@pytest.mark.parametrize(
    ("typed", "again"),
    [
        ("M3 Max 64GB", "--gpu apple-m3-max --vram 64"),  # was --gpu apple-m3-max: a 36 GB Mac
        ("4070 laptop 8gb", "--gpu '4070 laptop 8gb'"),  # was no GPU at all
        ("4090", "--gpu rtx-4090"),
    ],
)
def test_the_command_to_ask_again_plans_the_same_gpu(run: Runner, typed: str, again: str) -> None:
    """An attacker's review: `ask`'s command to get the answer again without questions named the
    catalog's card without the memory its words gave, or dropped a card the catalog lacks."""
    asked = ok(run("ask", "--gpu", typed, "--no-input", "--json")).json()
    assert f"ft-atlas recommend {again}" in asked["command"] and "--vram 24" not in asked["command"]
    command = shlex.split(asked["command"])[1:]
    assert ok(run(*command, "--json")).json()["profile"] == asked["profile"]


@pytest.mark.parametrize("typed", ["RTX 4060 Ti 16 ГБ", "4060 ti 16 гб", "RTX 4060 Ti 16Гб"])
def test_a_gpu_named_with_russian_gigabytes_is_that_gpu(catalog: Catalog, run: Runner, typed: str) -> None:
    """'16 ГБ' was dropped and a pick list offered, the 4070 Ti first; --gpu refused it."""
    answers, _ = interview(catalog, ["", typed, *[""] * 14])
    assert answers["gpu"] == "rtx-4060-ti-16gb"
    assert ok(run("recommend", "--gpu", typed, "--json")).json()["profile"]["gpu"] == "rtx-4060-ti-16gb"


@pytest.mark.parametrize(
    "said",
    [
        "2,000 support tickets with agent replies",
        "support tickets",
        "questions and answers",
        "Q&A pairs",
        "chat logs",
        "тикеты поддержки",
        "вопросы и ответы",
        "диалоги",
        "2 000 тикетов поддержки",
    ],
)
def test_support_tickets_and_chat_logs_are_demonstrations(said: str) -> None:
    """A newcomer's tickets with replies were refused at the data question (a review)."""
    assert pick_choice(FIELDS_BY_NAME["data_kind"], said) == "demonstrations"


def test_a_count_in_the_data_answer_is_offered_for_the_examples(catalog: Catalog) -> None:
    """'2,000 support tickets' was read as the data kind and its 2,000 lost: it is now the default
    of the examples question (asked still, so that piped answers keep their order)."""
    script = ["", "t4", "", "8b", "chat", "2,000 support tickets with agent replies"]
    answers, terminal = interview(catalog, [*script, *[""] * 12])
    assert (answers["data_kind"], answers["examples"]) == ("demonstrations", 2000)
    assert any(p.startswith("How many examples") and p.endswith("[2000]: ") for p in terminal.prompts)
    assert "  Taken as demonstrations, 2000 examples." in terminal.said
    typed, _ = interview(catalog, [*script, "500", *[""] * 12])
    assert typed["examples"] == 500
    # Going back to the data question forgets the count its first answer carried.
    back, _ = interview(catalog, [*script, "<", "conversations", *[""] * 12])
    assert back["data_kind"] == "demonstrations" and "examples" not in back
    # Input ending before the examples question still keeps it.
    ended = Interview(catalog, ScriptedTerminal(script), {})
    with pytest.raises(EOFError):
        ended.run(interactive=True)
    assert ended.run(interactive=False)["examples"] == 2000
    # In Russian too: "2,000 тикетов" was read as 2 examples (a newcomer's review)
    russian = ["", "t4", "", "8b", "chat", "2,000 тикетов с ответами операторов"]
    with answers_in_russian(True):
        read, _ = interview(catalog, [*russian, *[""] * 12])
    assert read["examples"] == 2000


@pytest.mark.parametrize("said", ["no gpu, just a laptop", "cpu only", "у меня нет видеокарты", "без GPU"])
def test_no_gpu_said_in_a_sentence_is_none_not_a_laptop_gpu(catalog: Catalog, said: str) -> None:
    """A newcomer's review: "no gpu, just a laptop" was refused as a laptop GPU."""
    answers, terminal = interview(catalog, ["", said] + [""] * 12)
    assert answers["gpu"] == "none"
    assert any("Taken as none" in line for line in terminal.said)


@pytest.mark.parametrize(
    ("said", "gpu"),
    [
        ("no graphics card, MacBook Pro M1 Pro 32gb", "apple-m1-pro"),
        ("без видеокарты, MacBook Air M2", "apple-m2"),
    ],
)
def test_no_graphics_card_beside_a_macs_chip_is_the_chip(catalog: Catalog, said: str, gpu: str) -> None:
    """A maintainer's review: a Mac's owner who said "no graphics card" got CPU-only advice."""
    answers, _ = interview(catalog, ["", said, "1"] + [""] * 12)
    assert answers["gpu"] == gpu


def test_the_computers_ram_said_beside_the_gpu_is_left_out(catalog: Catalog) -> None:
    answers, _ = interview(catalog, ["", "3090 24gb, 64gb ram"] + [""] * 12)
    assert answers["gpu"] == "rtx-3090"


@pytest.mark.parametrize("said", ["my laptop has 16GB RAM", "16 гб оперативки"])
def test_the_computers_ram_is_not_taken_for_gpu_memory(catalog: Catalog, said: str) -> None:
    """Typed as the GPU's memory, 16 GB of system RAM would size every plan for a GPU that has none
    of it: the answer is refused with what to type, and the question asked again."""
    answers, terminal = interview(catalog, ["", said, "rtx 3060 laptop 6gb"] + [""] * 12)
    assert any("is the computer's RAM, not its GPU's memory" in line for line in terminal.said)
    assert answers["gpu"] == "rtx 3060 laptop 6gb"


def test_a_macbook_air_is_offered_the_chips_it_ships_with(catalog: Catalog) -> None:
    """It was offered M4 Max and M3 Max only; no MacBook Air has a Max chip."""
    _, terminal = interview(catalog, ["", "macbook air"] + [""] * 14)
    offered = [line for line in terminal.said if "Apple M" in line]
    assert offered[0].strip().startswith("1. Apple M4 (32 GB") and "Max" not in " ".join(offered[:4])


def test_help_on_the_gpu_question_says_how_to_find_it(catalog: Catalog) -> None:
    _, terminal = interview(catalog, ["", "?", "3090"] + [""] * 12)
    assert any("nvidia-smi prints an NVIDIA GPU's name and memory" in line for line in terminal.said)


@pytest.mark.parametrize(
    ("field", "said", "value"),
    [
        ("goal", "summarize documents", "adapt"),
        ("goal", "суммаризация документов", "adapt"),
        ("goal", "answer questions from our documents", "knowledge"),
        ("data_kind", "support tickets with agent replies", "demonstrations"),
        # A newcomer's review: both were refused as naming two choices, and a piped `ask` ended.
        ("goal", "a chatbot that knows my company docs", "knowledge"),
        # A newcomer's review: a chatbot over documents was asked to pick chat or knowledge, or
        # (documentation unknown) read as chat; docs, manuals and PDFs were not data.
        ("goal", "a chatbot on my company docs", "knowledge"),
        ("goal", "a support bot that answers from our manuals", "knowledge"),
        ("goal", "chatbot over our documentation", "knowledge"),
        ("data_kind", "our company docs", "text"),
        ("data_kind", "PDFs of our manuals", "text"),
        ("goal", "бот, который знает нашу документацию", "knowledge"),
        ("data_kind", "2,000 support tickets labelled by category", "labeled"),
        ("data_kind", "3000 support tickets labeled by category", "labeled"),
        ("data_kind", "тикеты поддержки, размеченные по категориям", "labeled"),
        # An expert's review: asked to pick classify or knowledge.
        ("goal", "classify long legal documents", "classify"),
        ("goal", "классифицировать документы по отделам", "classify"),
    ],
)
def test_a_task_settles_an_answer_that_names_its_data(field: str, said: str, value: str) -> None:
    """ "summarize documents" was read as knowledge (retrieval first): the task decides."""
    assert pick_choice(FIELDS_BY_NAME[field], said) == value


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("goal", "rag over documents with summaries"),
        ("goal", "a chatbot that answers from our documents and can summarize them"),
        ("data_kind", "thumbs up/down labeled responses"),
        ("data_kind", "conversations labeled good or bad"),
    ],
)
def test_a_task_word_does_not_override_a_choice_named_outright(field: str, said: str) -> None:
    """A maintainer's review: "rag ... with summaries" became adapt, and ratings "labeled good or
    bad" became labelled data; an answer that names two choices is asked again, naming them."""
    with pytest.raises(UsageError, match="names more than one"):
        pick_choice(FIELDS_BY_NAME[field], said)


def test_a_gpu_named_by_an_alias_says_which_card_it_took(catalog: Catalog) -> None:
    """A newcomer's review: "free colab" became a T4 with nothing said ("a guess is never taken
    silently")."""
    answers, terminal = interview(catalog, ["", "free colab"] + [""] * 12)
    # The tier keeps its name (it prices the plans at nothing); the card taken is said.
    assert answers["gpu"] == "free colab" and any("Taken as NVIDIA T4" in line for line in terminal.said)


def test_the_ram_clause_takes_whole_words_only() -> None:
    """The clause left out beside a GPU is the words SYSTEM_RAM reads, whole: "vram" is the GPU's."""
    assert SYSTEM_RAM_CLAUSE.sub("", "rtx 3060 12gb vram") == "rtx 3060 12gb vram"
    assert SYSTEM_RAM_CLAUSE.sub("", "3090 24gb, 64gb ram") == "3090 24gb"


@pytest.mark.parametrize(("first", "access"), [("we use OpenAI", "api"), ("I want to use llama", "weights")])
def test_a_bare_no_to_the_weights_question_is_asked_again(catalog: Catalog, first: str, access: str) -> None:
    """A newcomer who has not downloaded a model yet answers "no" to "can you access the model's
    weights?", which took every local method away as api (a newcomer's review): it is asked
    again with what each answer means, and a provider or an open model named answers it."""
    answers, terminal = interview(catalog, ["no", "нет", first] + [""] * 20)
    assert answers["model_access"] == access
    assert sum("not downloaded yet is fine" in line for line in terminal.said) == 2


def test_an_instruct_model_picked_from_guesses_keeps_its_variant(catalog: Catalog) -> None:
    """ "mistral 7b instruct" was offered mistral-7b, and picking it dropped "instruct": a chat
    plan then trained the base checkpoint (a newcomer's review)."""
    answers, terminal = interview(catalog, ["", "4090", "", "mistral 7b instruct", "1"] + [""] * 20)
    assert (answers["model"], answers["model_variant"]) == ("mistral-7b", "instruct")
    assert any("its instruct checkpoint" in line for line in terminal.said)


@pytest.mark.parametrize(
    "said", ["about 2k chat logs from zendesk", "we have about 2000 past chats", "~2000 chats"]
)
def test_a_count_said_with_about_is_still_read(catalog: Catalog, said: str) -> None:
    """ "about 2k chat logs" lost its count, which "2000 past chats" kept (a newcomer's review)."""
    answers, _ = interview(catalog, ["", "t4", "", "8b", "chat", said, *[""] * 12])
    assert answers["examples"] == 2000


def test_piped_answers_to_the_chip_memory_question_behave_as_every_piped_answer(catalog: Catalog) -> None:
    """A size the chip is not sold with was asked again, taking the next piped line for it, and
    input ending at the question dropped the chip (a review): refused, or the smallest taken."""
    wrong = Interview(catalog, ScriptedTerminal(["", "m3", "48", "7b"]), {}, piped=True)
    with pytest.raises(UsageError, match="comes with 8, 16 or 24 GB"):
        wrong.run(interactive=True)
    ended = Interview(catalog, ScriptedTerminal(["", "m3"]), {}, piped=True)
    with pytest.raises(EOFError):  # at the question after the chip's memory
        ended.run(interactive=True)
    answers = ended.run(interactive=False)
    assert (answers["gpu"], answers["vram"]) == ("apple-m3", 8.0)


def test_an_unnamed_hosted_model_assumes_no_size(catalog: Catalog) -> None:
    """An API user who skips the model question read "ft-atlas assumes a 7B model" (a newcomer's
    review): a hosted model has no size; every provider's tuning is shown."""
    _, terminal = interview(catalog, ["api", ""] + [""] * 12)
    said = " ".join(terminal.said)
    assert "every provider's hosted tuning is shown" in said and "assumes a 7B model" not in said
    _, local = interview(catalog, ["", "4090", "", ""] + [""] * 12)
    assert "assumes a 7B model" in " ".join(local.said)


@pytest.mark.parametrize(
    ("typed", "priority"),
    [
        ("минимум денег", "cost"),
        ("подешевле", "cost"),
        ("быстрее", "speed"),
        ("as cheap as possible", "cost"),
    ],
)
def test_a_priority_said_in_everyday_words_is_read(catalog: Catalog, typed: str, priority: str) -> None:
    """«минимум денег» was refused though the option's own description says it (a newcomer's review)."""
    script = ["weights", "3090", "2", "llama-3.1-8b", "chat", "preferences", "no", "10k", "4k", "600", "2"]
    answers, _ = interview(catalog, [*script, "y", "n", typed, ""])
    assert answers["priority"] == priority


@pytest.mark.parametrize(
    ("typed", "goal"),
    [
        ("бот для базы знаний", "knowledge"),
        ("a bot over our knowledge base", "knowledge"),
        ("определять тональность отзывов", "classify"),
        ("распределять тикеты по отделам", "classify"),
    ],
)
def test_a_goal_said_in_russian_words_is_read(catalog: Catalog, typed: str, goal: str) -> None:
    """«бот для базы знаний» became chat (RAG left out) and «тональность» was refused, though the
    classify option's description names it (a newcomer's review)."""
    answers, _ = interview(catalog, ["weights", "3090", "1", "8b", typed, *[""] * 20])
    assert answers["goal"] == goal


@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("extract fields from scanned invoice images", True),
        ("описывать фото товаров", True),
        ("a chatbot for our support tickets", False),
        ("explain photosynthesis to students", False),  # a diff review: read as photos
        ("a Scandinavian customer support chatbot", False),
    ],
)
def test_a_goal_about_images_hears_that_only_text_is_planned(
    catalog: Catalog, typed: str, told: bool
) -> None:
    """An expert's review: "extract fields from scanned invoice images" was taken as adapt, and the
    plans, sized for text, never said that images were not part of them."""
    _, terminal = interview(catalog, ["weights", "3090", "1", "8b", typed, *[""] * 20])
    said = [line for line in terminal.said if "Images: ft-atlas plans training on text" in line]
    assert len(said) == (1 if told else 0)


@pytest.mark.parametrize(
    ("typed", "count"),
    [
        ("5000 штук", 5000),
        ("около 3000", 3000),
        ("~5000", 5000),
        ("5k примеров", 5000),
        ("about 2k chats", 2000),
    ],
)
def test_a_count_said_in_words_answers_how_many_examples(catalog: Catalog, typed: str, count: int) -> None:
    """Each was refused at the examples question, though the data question read «2 000 тикетов»
    (a newcomer's review)."""
    answers, terminal = interview(
        catalog, ["weights", "3090", "1", "8b", "chat", "demonstrations", typed, *[""] * 15]
    )
    assert answers["examples"] == count
    assert f"Taken as {count:,}." in [line.strip() for line in terminal.said]


@pytest.mark.parametrize(("typed", "gpus"), [("одна", 1), ("две", 2), ("two", 2), ("eight", 8)])
def test_a_gpu_count_said_in_words_is_read(catalog: Catalog, typed: str, gpus: int) -> None:
    answers, _ = interview(catalog, ["weights", "3090", typed, "8b", *[""] * 15])
    assert answers["gpus"] == gpus


@pytest.mark.parametrize(
    ("typed", "model"),
    [
        ("лама 3 8б", "llama-3-8b"),
        ("мистраль 7б", "mistral-7b"),
        ("Квен3 8б", "qwen3-8b"),
        ("квен2.5 7б", "qwen2.5-7b"),
    ],
)
def test_a_model_named_in_russian_is_read(catalog: Catalog, typed: str, model: str) -> None:
    """«квен 7б», «лама 3 8б» and «мистраль 7б» were refused, though «7 млрд» was read (a
    newcomer's review)."""
    answers, _ = interview(catalog, ["weights", "3090", "1", typed, *[""] * 15])
    assert answers["model"] == model


def test_a_size_with_a_russian_b_is_read() -> None:
    assert parse_size("7б", "model size") == 7.0


def test_a_question_asked_back_gets_the_help_not_a_reading(catalog: Catalog) -> None:
    """«что такое веса?» at the first question was taken as "weights" (a newcomer's review)."""
    answers, terminal = interview(catalog, ["что такое веса?", "api", *[""] * 20])
    assert answers["model_access"] == "api"
    assert sum("Can you access the model's weights?" in p for p in terminal.prompts) == 2


def test_a_classifier_is_not_asked_about_packing(catalog: Catalog) -> None:
    """Ticket classification was asked whether to pack short examples into full-length rows, which a
    sequence classifier never does (a newcomer's review)."""
    packing = FIELDS_BY_NAME["packing"].question
    assert packing not in asked_after(catalog, {"goal": "classify", "data_kind": "labeled", "examples": 5000})
    assert packing in asked_after(catalog, {"goal": "chat", "data_kind": "demonstrations", "examples": 5000})


def test_a_model_directory_named_in_russian_is_kept_as_typed(catalog: Catalog, tmp_path: Path) -> None:
    """Russian model words are read as their Latin names («квен» as qwen), but not inside a path: a
    directory called квен-7б stays the directory typed."""
    folder = tmp_path / "квен-7б"
    folder.mkdir()
    fixture = Path(__file__).parent / "fixtures" / "configs" / "HuggingFaceTB--SmolLM2-135M-Instruct.json"
    shutil.copy(fixture, folder / "config.json")
    answers, _ = interview(catalog, ["weights", "3090", "1", str(folder), *[""] * 15])
    assert answers["model"] == str(folder)


def test_the_macs_memory_question_answers_help_and_goes_back(catalog: Catalog) -> None:
    """A newcomer's review: after "M3 Max", the memory question read "?" and "<" as sizes ("'<' is
    not a memory size in GB"), though every other question explains itself and goes back."""
    answers, terminal = interview(catalog, ["", "M3 Max", "?", "48"] + [""] * 12)
    assert (answers["gpu"], answers["vram"]) == ("apple-m3-max", 48.0)
    assert any("About This Mac" in line and "is sold with" in line for line in terminal.said)
    assert not any("is not a memory size" in line for line in terminal.said)
    answers, terminal = interview(catalog, ["", "M3 Max", "<", "rtx-4090"] + [""] * 12)
    assert answers["gpu"] == "rtx-4090" and "vram" not in answers
    assert any("back to the GPU question" in line for line in terminal.said)


def test_the_gpu_pick_list_answers_help_and_goes_back(catalog: Catalog) -> None:
    """An attacker's review: at "Is it one of these?", ? and < were read as answers ("no GPU
    chosen"), and a piped session ended there."""
    answers, terminal = interview(catalog, ["", "macbook", "?", "1 16gb"] + [""] * 12)
    assert answers["vram"] == 16.0
    assert any("nearest to what you typed" in line for line in terminal.said)
    assert not any("no GPU chosen" in line for line in terminal.said)
    answers, terminal = interview(catalog, ["", "macbook", "<", "rtx-4090"] + [""] * 12)
    assert answers["gpu"] == "rtx-4090"
    assert any("back to the GPU question" in line for line in terminal.said)


def test_a_card_name_typed_with_a_unit_is_asked_again(catalog: Catalog) -> None:
    """'3080gb' answered for the GPU was read as 3,080 GB of memory."""
    answers, terminal = interview(catalog, ["", "3080gb", "24gb"] + [""] * 20)
    assert answers["vram"] == 24.0
    assert any("'3080 GB' is more memory than any GPU has" in said for said in terminal.said)


def test_the_length_assumed_when_unset_names_online_rls_own(catalog: Catalog) -> None:
    """ask's summary said 2048 tokens for a GRPO profile, whose plans are sized at 1024 (2560 for a
    model that thinks)."""
    for model, length in (("qwen2.5-7b", 1024), ("qwen3-8b", 2560)):
        profile = build_profile({"model": model, "goal": "reasoning", "data_kind": "reward-function"})
        plans = Engine(catalog).recommend(profile).plans
        estimates = [p.estimate for p in plans if p.estimate is not None]
        assert {e.settings.seq_len for e in estimates if e.settings.objective.online} == {length}
    note = FIELDS_BY_NAME["seq_len"].if_unset
    assert "1024, a prompt and its completion of 512 each, for online RL" in note
    assert "2560 for a model that thinks" in note


def test_a_length_in_tokens_says_how_to_count_tokens(catalog: Catalog) -> None:
    """A newcomer's review: the token questions never said how to estimate a length in tokens."""

    class AsksOnTokens(ScriptedTerminal):
        def ask(self, prompt: str) -> str:
            self.prompts.append(prompt)
            if "in tokens" in prompt and sum("in tokens" in p for p in self.prompts) == 1:
                return "?"
            if len(self.prompts) > 40:
                raise EOFError
            return ""

    terminal = AsksOnTokens([])
    Interview(catalog, terminal, {"gpu": "rtx-4090", "model": "llama-3.1-8b"}).run(interactive=True)
    said = " ".join(terminal.said)
    assert "A token is about 4 characters of English text, or 3/4 of a word" in said


def test_a_one_or_two_letter_answer_is_never_an_abbreviated_russian_alias() -> None:
    """A newcomer's review: "да" (yes) to "What data do you have?" began "данных нет" (no data)
    and was taken as none; "д" as chat, "б" as none. Aliases are read from three letters on
    (values from one); the yes/no question takes да/нет."""
    from atlas_cli.core.profile import FIELDS_BY_NAME

    for name, answer in (("data_kind", "да"), ("data_kind", "б"), ("goal", "д"), ("priority", "д")):
        with pytest.raises(UsageError):
            pick_choice(FIELDS_BY_NAME[name], answer)
    assert pick_choice(FIELDS_BY_NAME["data_kind"], "дем") == "demonstrations"
    assert pick_choice(FIELDS_BY_NAME["goal"], "cl") == "classify"
    answers = {"да": "yes", "д": "yes", "нет": "no", "y": "yes", "n": "no"}
    assert {a: pick_choice(FIELDS_BY_NAME["sft_data"], a) for a in answers} == answers


def test_a_gpu_said_in_a_sentence_is_read(catalog: Catalog) -> None:
    """A newcomer's review: "I have a 4090" was an unknown GPU, though sentences are read for the
    goal and the data."""
    for said in ("I have a 4090", "у меня 4090", "my 4090", "a 4090", "the 4090"):
        answers, _ = interview(catalog, ["", said] + [""] * 12)
        assert answers["gpu"] == "rtx-4090", said
    # ... but "A 100" is the A100 and "a 10" the A10, not "100" and "10" (a diff review).
    for said, gpu in (("A 100", "a100"), ("a 10", "a10"), ("A 6000", "rtx-a6000")):
        answers, _ = interview(catalog, ["", said, "y"] + [""] * 12)
        assert str(answers.get("gpu", "")).startswith(gpu), (said, answers)
    # An attacker's review: "24 gigs" was an unknown GPU in English where "24 гига" was read, and
    # "m2 air 16gb" was offered a V100 and a T4. (A bare memory is confirmed: "y".)
    for said, gpu, vram in (
        ("24 gigs", None, 24.0),
        ("24gb of vram", None, 24.0),
        ("m2 air 16gb", "apple-m2", 16.0),
    ):
        answers, _ = interview(catalog, ["", said, "y"] + [""] * 12)
        assert (answers.get("gpu"), float(answers["vram"])) == (gpu, vram), (said, answers)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (("--gpu", "3900"), "names no GPU in the catalog"),
        (("--model", "lama-3.1-8b"), "did you mean llama-3.1-8b"),
        (("--gpu", "2x4090"), "give the count apart"),
    ],
)
def test_a_prefilled_name_that_resolves_to_nothing_fails_before_the_first_question(
    run: Runner, flags: tuple[str, ...], said: str
) -> None:
    """A newcomer's review: `ask --gpu 3900` skipped the GPU question, asked the other ten, and
    refused the name after "Compute the plan? y", every answer lost."""
    result = run("ask", *flags, input="\n" * 15, env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 2 and said in result.stderr
    assert "?" not in result.stderr.split("ft-atlas:")[0]  # no question was asked before it


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("3000 tickets and our answers", "demonstrations"),
        ("emails with replies", "demonstrations"),
        ("3000 тикетов с ответами", "demonstrations"),
        ("3000 обращений с ответами", "demonstrations"),
        ("tickets labelled by category", "labeled"),
        ("chosen and rejected answers", "preferences"),
        ("thumbs up answers", "ratings"),
        ("тикеты с лайками", "ratings"),
        # a diff review: bare "answers" or "tickets" had taken these from their own kinds
        ("tickets with labels", "labeled"),
        ("тикеты с метками", "labeled"),
        ("answers labelled good or bad", "labeled"),
        ("ratings of answers", "ratings"),
        ("reward answers", "reward-function"),
        ("documents with answers", "text"),
        ("документы с ответами", "text"),
        # a newcomer's review, the fifty-sixth round: all of these were refused
        ("questions with answers", "demonstrations"),
        ("300 emails labelled spam / not spam", "labeled"),
        ("письма с метками спам или не спам", "labeled"),
        ("question and answer pairs", "demonstrations"),
        ("FAQ", "demonstrations"),
        ("300 emails labelled spam or not", "labeled"),
        ("a pdf manual", "text"),
    ],
)
def test_data_said_in_a_newcomers_words_is_read(said: str, value: str) -> None:
    """A newcomer's review: "3000 tickets and our answers", "emails with replies" and "3000 тикетов с
    ответами" were refused; answers said chosen or rated stay pairs and ratings, and what another
    kind names stays that kind."""
    assert pick_choice(FIELDS_BY_NAME["data_kind"], said) == value


@pytest.mark.parametrize(
    "said",
    # "or no" denies (a diff review: 'raw text or no data' was read as text)
    ["answers rated good or bad", "tickets with categories", "no labels", "raw text or no data"],
)
def test_data_said_ambiguously_is_asked_again_not_taken_as_demonstrations(said: str) -> None:
    with pytest.raises(UsageError):
        pick_choice(FIELDS_BY_NAME["data_kind"], said)


def test_a_card_answered_as_the_count_is_told_in_the_questionnaires_words(catalog: Catalog) -> None:
    """A newcomer's review: "3060" to "How many GPUs?" was told to give --gpu and --gpus flags,
    which the questionnaire asks for itself; it says what to answer, and asks again."""
    answers, terminal = interview(catalog, ["", "4090", "3060", "2", *[""] * 25])
    assert answers["gpus"] == 2
    said = " ".join(terminal.said)
    assert "3060 is the model number of NVIDIA GeForce RTX 3060" in said and "answer how many" in said
    assert "--gpus N" not in said


def test_an_api_served_model_given_without_access_is_asked_about_not_refused(run: Runner) -> None:
    """A diff review: `ask --model gpt-4o` was refused before the first question, which asks
    whether the weights are available; answered 'api', it is planned."""
    result = run("ask", "--model", "gpt-4o", "--json", input="api\n" + "\n" * 20, env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 0, result.stderr
    assert result.json()["profile"]["model_access"] == "api"
