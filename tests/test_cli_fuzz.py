"""Hypothesis over command-line values: any value gives a result or a documented error, never an
uncaught exception (exit 1) or a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["7b", "0.5B", "125m", "7e9", "1e9b", "-5", "0", "nan", "inf", "10k", "1.5m", "24gb", ""]
    ),
    st.text(max_size=12),
)
NAMES = st.one_of(
    st.sampled_from(["3090", "RTX 3090", "a100", "none", "llama-3.1-8b", "bert-base", "lorra", "qlora"]),
    st.text(max_size=16),
)
FLAGS = {
    "--gpu": NAMES,
    "--vram": NUMBERS,
    "--gpus": NUMBERS,
    "--model": NAMES,
    "--model-size": NUMBERS,
    "--examples": NUMBERS,
    "--goal": NAMES,
    "--data-kind": NAMES,
    "--priority": NAMES,
    "--model-access": NAMES,
}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def recommend_args(draw: st.DrawFn) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=4, unique=True))
    args = ["recommend", "--json"]
    for flag in chosen:
        args.append(f"{flag}={draw(FLAGS[flag])}")
    return args


def _documented(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stderr.strip(), args
    else:
        assert result.json()["schema_version"] == 2


@pytest.mark.slow  # fuzzing: .ci/run runs it
@FUZZ
@given(recommend_args())
def test_recommend_values(args: list[str]) -> None:
    _documented(args)


@pytest.mark.slow  # fuzzing: .ci/run runs it
@FUZZ
@given(
    st.sampled_from(["--model-size", "--model"]),
    NUMBERS,
    st.sampled_from(["--seq-len", "--batch-size", "--lora-rank", "--quant-bits", "--gpus", "--vram"]),
    NUMBERS,
)
def test_estimate_values(model_flag: str, model: str, option: str, value: str) -> None:
    _documented(["estimate", "--json", f"{model_flag}={model}", f"{option}={value}"])


@pytest.mark.slow  # fuzzing: .ci/run runs it
@FUZZ
@given(st.text(max_size=20))
def test_show_any_name(name: str) -> None:
    _documented(["show", "--json", "--", name])
