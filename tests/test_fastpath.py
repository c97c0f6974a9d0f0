"""`recommend ... --json` without typer must be indistinguishable from the full command line:
same bytes on stdout and stderr, same exit code, or it must hand over to the full command line."""

from __future__ import annotations

import gc
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_cli.batch import fastpath
from atlas_cli.batch.fastpath import recommend_json
from atlas_cli.cli import main
from atlas_cli.kb.files import bundled_kb_path

# A good line, a bad one and a blank one: a batch's answers, its error records and its exit 2.
PROFILES = Path(__file__).parent / "fixtures" / "profiles.jsonl"

Outcome = tuple[int, str, str]


def _fast(args: list[str]) -> Outcome | None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = recommend_json(args)
    return None if code is None else (code, out.getvalue(), err.getvalue())


def _full(args: list[str]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as ended:
        main(args)
    code = ended.value.code
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()


_values = {
    "--gpu": ["rtx-3090", "4090", "none", "no-such-gpu", "A100 80GB"],
    "--vram": ["24", "0", "-3", "lots"],
    "--gpus": ["1", "4", "0", "2.5"],
    "--model": ["llama-3.1-8b", "bert-base", "unknown-model"],
    "--model-size": ["7b", "0.5b", "125m", "7", "99t"],
    "--model-access": ["weights", "api", "maybe"],
    "--goal": ["chat", "classify", "align", "knowledge", "dance"],
    "--data-kind": ["demonstrations", "preferences", "none", "reward-function", "??"],
    "--examples": ["20", "10k", "1.5m", "0", "many"],
    "--priority": ["quality", "cost", "speed", "fast"],
    "--top": ["1", "3", "05", "0", "101", "x"],
    "--format": ["json", "JSON", "table", "markdown", "yaml"],
    "-f": ["json", "table"],
    "--kb": [str(bundled_kb_path()), "no-such-kb.yaml", " "],
    "--batch": [str(PROFILES), "no-such-profiles.jsonl"],
}
_flags = ["--explain", "--no-explain", "--knowledge-changes", "--many-tasks"]
_odd = ["--help", "--", "-x", "--gpu", "--json", "--top=", "--goal=--json"]


@st.composite
def _arguments(draw: st.DrawFn) -> list[str]:
    """Mostly well-formed calls (so that many take the fast path), some with an odd token."""
    args = ["recommend"]
    if draw(st.integers(0, 4)) == 0:  # the global option before the command
        value = draw(st.sampled_from(_values["--kb"]))
        args = [f"--kb={value}", *args] if draw(st.booleans()) else ["--kb", value, *args]
    for option in draw(st.lists(st.sampled_from(sorted(_values)), unique=True, max_size=5)):
        value = draw(st.sampled_from(_values[option]))
        joined = option.startswith("--") and draw(st.booleans())
        args += [f"{option}={value}"] if joined else [option, value]
    args += draw(st.lists(st.sampled_from(_flags), unique=True, max_size=2))
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(args.index("recommend") + 1, len(args))), draw(st.sampled_from(_odd)))
    if draw(st.integers(0, 4)):
        args.append("--json")
    return args


@settings(max_examples=120, deadline=None)
@given(_arguments())
def test_the_fast_path_prints_what_the_full_command_line_prints(args: list[str]) -> None:
    fast = _fast(args)
    if fast is not None:
        assert fast == _full(args)


@pytest.mark.parametrize(
    "args",
    [
        ["recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--json"],
        ["recommend", "--gpu=a100-80gb", "--model", "llama-3.1-70b", "-f", "json", "--top", "2", "--explain"],
        ["recommend", "--json", "--gpu", "no-such-gpu"],
        ["recommend", "--json", "--examples", "many"],
        ["recommend", "--vram", "24", "--gpu", "rtx-3090", "--json"],
        ["--kb", str(bundled_kb_path()), "recommend", "--gpu", "rtx-3090", "--json"],
        ["recommend", "--json", f"--kb={bundled_kb_path()}"],
        ["--kb", "no-such-kb.yaml", "recommend", "--json"],
        ["recommend", "--batch", str(PROFILES)],
        ["recommend", f"--batch={PROFILES}", "--top", "1", "--explain", "--json"],
        ["recommend", "--batch", str(PROFILES), "--format", "table"],
        ["recommend", "--batch", "no-such-profiles.jsonl"],
    ],
)
def test_typical_calls_take_the_fast_path_with_the_same_output(args: list[str]) -> None:
    fast = _fast(args)
    assert fast is not None
    assert gc.isenabled()  # paused for the one recommendation only
    assert fast == _full(args)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["show", "lora"],
        ["recommend", "--gpu", "rtx-3090"],  # a table
        ["recommend", "--json", "--help"],
        ["recommend", "--json", "--gpu", "rtx-3090", "--gpu", "t4"],
        ["recommend", "--json", "--explain", "--no-explain"],
        ["recommend", "--json", "--top", "0"],
        ["recommend", "--json", "--gpu"],
        ["recommend", "--json", "--gpu", "--goal"],
        ["recommend", "--json", "-f=json"],
        ["recommend", "--json", "--knowledge-changes=yes"],
        ["recommend", "--json", "--format", "yaml"],
        ["recommend", "--batch", "profiles.jsonl", "--gpu", "t4"],  # the full command's message
        ["recommend", "--batch", "profiles.jsonl", "--format", "markdown"],
        ["recommend", "--batch", "--json"],
        ["--kb", "recommend", "--json"],
        ["--kb=", "recommend", "--json"],
        ["--kb", "a.yaml", "recommend", "--json", "--kb", "b.yaml"],
        ["--no-color", "recommend", "--json"],
    ],
)
def test_everything_else_goes_to_the_full_command_line(args: list[str]) -> None:
    assert recommend_json(args) is None


def test_a_broken_knowledge_base_is_reported_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "kb.yaml"
    broken.write_text("methods: [\n", encoding="utf-8")
    monkeypatch.setenv("FT_ATLAS_KB", str(broken))
    args = ["recommend", "--json"]
    fast = _fast(args)
    assert fast is not None and fast[0] == 3
    assert fast == _full(args)


def test_an_internal_error_is_reported_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr("atlas_cli.core.engine.Engine.recommend", broken)
    args = ["recommend", "--json"]
    fast = _fast(args)
    assert fast is not None and fast[0] == 1 and "internal error: ValueError: boom" in fast[2]
    assert fast == _full(args)


def test_the_top_limit_is_the_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    # If cli.py's `--top` range changes, the fast path's copy must follow.
    assert _full(["recommend", "--json", "--top", str(fastpath.MAX_TOP)])[0] == 0
    assert _full(["recommend", "--json", "--top", str(fastpath.MAX_TOP + 1)])[0] == 2
