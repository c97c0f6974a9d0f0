"""Commands printed for pasting: every user word quoted, every number read back as itself."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_cli.core.profile import AMOUNT, SIZE, build_profile, command_line, parse_number
from atlas_cli.core.shell import plain_decimal, shell_word
from tests.conftest import Runner
from tests.test_model_sources import FIXTURES

ODD = ["s'q", "a b", "#c", "$(touch x)", "`id`", "*", "nl\nx", "tab\tx", "\u2028", '"""', "", "-rf"]


@pytest.mark.parametrize("text", ODD)
def test_a_printable_word_splits_back_to_itself(text: str) -> None:
    word = shell_word(text)
    if "\n" not in text and "\t" not in text and "\u2028" not in text:
        assert shlex.split(word) == [text]
    assert "\n" not in word and "\u2028" not in word  # one pasted line


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s))
def test_bash_reads_every_word_back_as_the_text(text: str) -> None:
    out = subprocess.run(
        ["bash", "-c", f"printf %s {shell_word(text)}"],
        capture_output=True,
        check=True,
        env={"LC_ALL": "C.UTF-8"},  # $'\\u....' is written in the locale's encoding
    ).stdout
    assert out.decode("utf-8", "surrogateescape") == text


@pytest.mark.parametrize("value", [1e-06, 0.1, 1.5, 3.0, 1234567890123.0, 7.123456, 2.5e-05])
def test_numbers_are_written_without_an_exponent_and_read_back_exactly(value: float) -> None:
    text = plain_decimal(value)
    assert "e" not in text
    assert parse_number(text, "--epochs", AMOUNT)[0] == value


def test_the_reproducing_command_keeps_odd_paths_and_small_numbers() -> None:
    answers = {"model": "./s'q dir", "model_size": 7.123456, "max_hours": 1e-06, "examples": 10_000}
    words = shlex.split(command_line(answers))
    flags = dict(zip(words[2::2], words[3::2], strict=True))
    assert flags == {
        "--model": "./s'q dir",
        "--model-size": "7.123456b",
        "--max-hours": "0.000001",
        "--examples": "10000",
    }
    assert parse_number(flags["--model-size"], "--model-size", SIZE)[0] == 7.123456e9
    profile = build_profile({"max_hours": flags["--max-hours"], "model_size": flags["--model-size"]})
    assert profile.max_hours == 1e-06


@pytest.mark.parametrize("trainer", ["python", "llamafactory", "axolotl"])
def test_a_recipe_launch_line_keeps_an_odd_model_path_one_word(
    run: Runner, tmp_path: Path, trainer: str
) -> None:
    folder = tmp_path / "s'q $(touch x) #c"
    folder.mkdir()
    shutil.copy(FIXTURES / "meta-llama--Llama-3.1-8B.json", folder / "config.json")
    (folder / "model.safetensors").write_bytes(b"")  # a downloaded model: the recipe loads the folder
    out = run("recipe", "--gpu", "a100-80gb", "--model", str(folder), "--trainer", trainer, "--json")
    launch = json.loads(out.stdout)["launch"]
    if trainer == "python":
        words = shlex.split(launch)
        assert words[words.index("--model") + 1] == str(folder)
    assert "$(touch x)" not in launch.replace(shell_word(str(folder)), "")
