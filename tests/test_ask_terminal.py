"""`ft-atlas ask` in a real pseudo-terminal (pexpect), as a person at a keyboard would use it."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.slow

COMMAND = [sys.executable, "-m", "atlas_cli"]
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONIOENCODING": "utf-8"}


def spawn(*args: str, shell_redirect: Path | None = None, columns: int = 100) -> pexpect.spawn:
    if shell_redirect is None:
        command, argv = COMMAND[0], [*COMMAND[1:], "ask", *args]
    else:
        line = " ".join(shlex.quote(a) for a in [*COMMAND, "ask", *args])
        command, argv = "/bin/sh", ["-c", f"{line} > {shlex.quote(str(shell_redirect))}"]
    env = {**ENV, "COLUMNS": str(columns)}
    child = pexpect.spawn(
        command,
        argv,
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, columns),
        # A suite started in the background (`cmd &` in a script) passes SIGINT on ignored, and
        # Python then leaves Ctrl-C ignored: the session gets the terminal's default back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    child.logfile_read = io.StringIO()  # the whole session, for assertions about everything shown
    return child


def transcript(child: pexpect.spawn) -> str:
    return str(child.logfile_read.getvalue()).replace("\r\n", "\n")


def answer(child: pexpect.spawn, script: list[tuple[str, str]]) -> None:
    for prompt, reply in script:
        child.expect(prompt)
        child.sendline(reply)


FULL_RUN = [
    ("access the model's weights", ""),
    ("Which GPU", "3090"),
    ("How many GPUs", ""),
    ("Which model", "7B"),
    ("your goal", "chat"),
    ("What data", "demonstrations"),
    ("How many examples", "10k"),
    ("longest examples", ""),
    ("average example", ""),
    ("epochs", ""),
    ("pack", ""),
    ("many tasks", "n"),
    ("matters most", ""),
    ("Compute the plan", ""),
]


def test_full_run_ends_in_a_plan_and_the_command_line() -> None:
    child = spawn()
    answer(child, FULL_RUN)
    child.expect("Recommended plans")
    child.expect("ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_invalid_answer_is_asked_again() -> None:
    child = spawn("--gpu", "rtx-4090", "--model-size", "7b")
    answer(child, [("access the model's weights", ""), ("How many GPUs", ""), ("your goal", "banana")])
    child.expect("is not one of")
    child.expect("your goal")
    child.sendline("adapt")
    answer(
        child,
        [
            ("What data", ""),
            ("How many examples", "5k"),
            ("longest examples", ""),
            ("average example", ""),
            ("epochs", ""),
            ("pack", ""),
            ("many tasks", ""),
            ("matters most", ""),
            ("Compute the plan", ""),
        ],
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize(
    ("key", "message", "code"),
    [("ctrl-c", "Aborted.", 130), ("ctrl-d", "input ended", 130)],
    ids=["ctrl-c-exits-130", "ctrl-d-exits-130"],
)
def test_interrupt_and_end_of_input(key: str, message: str, code: int) -> None:
    child = spawn()
    child.expect("access the model's weights")
    child.sendintr() if key == "ctrl-c" else child.sendeof()
    child.expect(message)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == code
    assert "Traceback" not in (child.before or "")


def test_json_keeps_stdout_pure_while_prompting(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    child = spawn("--json", shell_redirect=out)
    answer(child, FULL_RUN)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["schema_version"] == 2
    assert plan["recommendations"][0]["method"] in ("lora", "qlora")
    assert plan["command"].startswith("ft-atlas recommend --gpu rtx-3090")


def piped_ask(args: list[str], answers: str) -> subprocess.CompletedProcess[str]:
    """`ft-atlas ask ARGS` with `answers` on a pipe (empty: the pipe ends at once)."""
    result = subprocess.run(
        [*COMMAND, "ask", *args], input=answers, capture_output=True, text=True, env=ENV, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result


def test_empty_stdin_takes_every_default() -> None:
    result = piped_ask(["--gpu", "rtx-3090", "--model-size", "7b", "--json"], "")
    assert "Which GPU" not in result.stderr and "?" not in result.stdout.split("{", 1)[0]
    assert "not asking (stdin ended)" in result.stderr
    assert "--goal=adapt" in result.stderr
    assert json.loads(result.stdout)["profile"]["gpu"] == "rtx-3090"


def test_piped_answers_are_read_as_typed_ones() -> None:
    """`printf ... | ft-atlas ask` took every default and exited 0 (a newcomer's review): the
    answers are read in order, and the questions left after them take their defaults."""
    result = piped_ask(["--json"], "weights\n3090\n1\nllama-3.1-8b\nchat\n")
    profile = json.loads(result.stdout)["profile"]
    assert (profile["gpu"], profile["model"], profile["goal"]) == ("rtx-3090", "llama-3.1-8b", "chat")
    assert "not asking (stdin ended)" in result.stderr and "--data-kind=demonstrations" in result.stderr


def test_no_input_flag_never_prompts_even_on_a_terminal() -> None:
    child = spawn("--no-input", "--gpu", "a100-80gb", "--model", "bert-base", "--goal", "classify")
    child.expect("not asking \\(--no-input\\)")
    child.expect("Recommended plans")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# One person of each kind, answering as a newcomer would (numbers, "I don't know", Enter).
PEOPLE = {
    "no-gpu": [
        ("access the model's weights", ""),
        ("Which GPU", "none"),
        ("Which model", "idk"),
        ("your goal", "knowledge"),
        ("What data", "text"),
        ("How many examples", "I don't know"),
        ("longest examples", ""),
        ("facts change", "y"),
        ("matters most", ""),
        ("Compute the plan", ""),
    ],
    "laptop": [
        ("access the model's weights", ""),
        ("Which GPU", "macbook"),
        ("Its number", "2"),
        ("How much memory", ""),  # the chip's smallest
        ("Which model", "3b"),  # a Mac's chip is one a machine: no GPU count
        ("your goal", "3"),
        ("What data", ""),
        ("How many examples", "2k"),
        ("longest examples", "dont know"),
        ("average example", ""),
        ("epochs", ""),
        ("pack", ""),
        ("many tasks", ""),
        ("matters most", "cost"),
        ("Compute the plan", "y"),
    ],
    "consumer-gpu": [
        ("access the model's weights", ""),
        ("Which GPU", "4090"),
        ("How many GPUs", ""),
        ("Which model", "llama-3.1-8b"),
        ("your goal", "chat"),
        ("What data", "demonstrations"),
        ("How many examples", "10k"),
        ("longest examples", "4k"),
        ("average example", "?"),
        ("average example", "idk"),
        ("epochs", "2"),
        ("pack", ""),
        ("many tasks", "n"),
        ("matters most", ""),
        ("Compute the plan", ""),
    ],
    "cluster": [
        ("access the model's weights", ""),
        ("Which GPU", "h100"),
        ("How many GPUs", "8"),
        ("Which model", "llama-3.1-70b"),
        ("your goal", "align"),
        ("What data", "preferences"),
        ("for an SFT stage", ""),  # asked after preference pairs only (--sft-data)
        ("How many examples", "50k"),
        ("longest examples", ""),
        ("average example", ""),
        ("epochs", "1"),
        ("pack", ""),
        ("many tasks", ""),
        ("matters most", "quality"),
        ("Compute the plan", ""),
    ],
    "api-only": [
        ("access the model's weights", "api"),
        ("Which hosted model", "gpt-4.1-mini"),
        ("your goal", "chat"),
        ("What data", ""),
        ("How many examples", "100"),
        ("matters most", ""),
        ("Compute the plan", ""),
    ],
}


@pytest.mark.parametrize("person", PEOPLE)
def test_every_kind_of_user_completes_ask_without_the_docs(person: str) -> None:
    child = spawn(columns=80)
    answer(child, PEOPLE[person])
    child.expect("Recommended plans")
    child.expect("To get this again without questions:")
    child.expect(pexpect.EOF)
    child.close()
    shown = transcript(child)
    assert child.exitstatus == 0, shown[-2000:]
    assert "Traceback" not in shown
    # Notes name flags the person never typed ("--data-kind not given") only for questions
    # they were not asked.
    assert "--data-kind not given" not in shown


def test_help_back_and_i_dont_know_in_a_terminal() -> None:
    child = spawn()
    answer(child, [("access the model's weights", ""), ("Which GPU", "?")])
    child.expect("For example: 3090")
    answer(child, [("Which GPU", "3090"), ("How many GPUs", "<"), ("Which GPU", "a100")])
    answer(child, [("How many GPUs", "I don't know")])
    child.expect("1, the default")
    answer(child, [("Which model", "7b"), ("your goal", "chat"), ("What data", "")])
    answer(child, [("How many examples", "")])
    answer(child, [("longest examples", ""), ("many tasks", ""), ("matters most", "")])
    child.expect("Your answers:")
    child.expect("gpu: a100-80gb")
    child.sendline("")
    child.expect("ft-atlas recommend --gpu a100-80gb --model-size 7b --goal chat")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_the_command_to_get_this_again_is_one_unbroken_line(columns: int) -> None:
    child = spawn("--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--no-input", columns=columns)
    child.expect(pexpect.EOF)
    child.close()
    lines = transcript(child).splitlines()
    wanted = "ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat"
    assert any(line.strip() == wanted for line in lines), lines[-5:]


RUSSIAN_RUN = [
    ("доступ к весам модели", "да"),
    ("На каком GPU", "3090"),
    ("Сколько GPU", ""),
    ("Какая модель", "7 млрд"),
    ("Какова ваша цель", "чат"),
    ("Какие у вас данные", ""),
    ("Сколько примеров", "10 тыс."),
    ("самые длинные примеры", ""),
    ("средний пример", ""),
    ("эпох", ""),
    ("упаковывать", ""),
    ("много задач", "нет"),
    ("Что важнее всего", ""),
]


def test_ask_in_russian_takes_russian_answers() -> None:
    """--lang ru: the questions are Russian, and so may the answers be (да, 7 млрд, чат, 10 тыс.,
    нет); the plan and the command to repeat it come out as with English answers."""
    child = spawn("--lang", "ru")
    answer(child, RUSSIAN_RUN)
    child.expect(r"\[")  # the summary asks to confirm; an empty line accepts it
    child.sendline("")
    child.expect("Рекомендованные планы")
    child.expect(
        "ft-atlas recommend --gpu rtx-3090 --model-size 7b --goal chat --data-kind demonstrations "
        "--examples 10000"
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_recipe_printed_to_a_terminal_says_how_to_write_it_to_a_file() -> None:
    """A newcomer's review: `ft-atlas recipe` in a terminal scrolled ~600 lines past, its Run: line
    naming a recipe.py that no one wrote; piped, it says nothing (a script reads it)."""
    child = pexpect.spawn(
        COMMAND[0],
        [*COMMAND[1:], "recipe", "--gpu", "rtx-3090", "--model-size", "7b"],
        env=ENV,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 100),
    )
    child.logfile_read = io.StringIO()
    child.expect(pexpect.EOF)
    assert "--out FILE (or DIR/) writes it where its Run: line runs it" in " ".join(transcript(child).split())
    piped = subprocess.run(
        [*COMMAND, "recipe", "--gpu", "rtx-3090", "--model-size", "7b"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0 and "--out FILE" not in piped.stderr


def test_questions_are_wrapped_to_an_80_column_terminal() -> None:
    """A newcomer's review: at 80 columns an option of 96 characters broke mid-word ("fine-" /
    "tuning") and a help line ran to 299; each line is wrapped to the terminal, an option's help
    hanging under itself, and a prompt keeps the space its answer is typed after."""
    child = spawn(columns=80)
    answer(child, [("access the model's weights", "?"), ("access the model's weights", "")])
    child.expect("Which GPU")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    shown = transcript(child)
    assert max(len(line) for line in shown.splitlines()) < 80
    assert "only a hosted API: prompting, retrieval and the\n" in shown
    assert re.search(r"\n {10,}provider's own fine-tuning", shown)
    assert "[Enter: I don't know]: " in shown


def test_questions_are_wrapped_to_the_terminal_the_prompts_go_to(tmp_path: Path) -> None:
    """A diff review: with stdout redirected (`ft-atlas ask --json > plan.json`, as the README
    shows) the width was stdout's, 80 whatever the terminal."""
    line = " ".join(shlex.quote(a) for a in [*COMMAND, "ask", "--json"])
    env = {k: v for k, v in ENV.items() if k != "COLUMNS"}  # the terminal's own width, as a shell has
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", f"{line} > {shlex.quote(str(tmp_path / 'plan.json'))}"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 60),
    )
    child.logfile_read = io.StringIO()
    answer(child, [("access the model's weights", "")])
    child.expect("Which GPU")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    shown = transcript(child).split("^C")[0]
    assert max(len(line) for line in shown.splitlines()) < 60


def test_ask_at_a_terminal_without_stderr_exits_1() -> None:
    """A newcomer's review: `ft-atlas ask 2>&-` at a terminal waited for answers to questions it
    could not show, and after a dozen Enters printed a plan with exit 0 (docs/security.md: ask
    whose prompts cannot be shown exits 1)."""
    line = " ".join(shlex.quote(a) for a in [*COMMAND, "ask"])
    shell = ["-c", f"{line} 2>&-; echo EXIT=$?"]
    child = pexpect.spawn("/bin/sh", shell, env=ENV, encoding="utf-8", timeout=30)
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "1"
