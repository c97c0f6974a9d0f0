"""Batch mode's fast paths: the pre-encoded JSON line and the worker processes must change
nothing but the speed."""

from __future__ import annotations

import gc
import io
import itertools
import json
import os
import select
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from atlas_cli.batch import jsonline, workers
from atlas_cli.batch import runner as batch
from atlas_cli.batch.jsonline import LineEncoder
from atlas_cli.batch.runner import answers_each_line, run_batch
from atlas_cli.batch.workers import worker_count
from atlas_cli.core.engine import Engine
from atlas_cli.core.profile import build_profile
from atlas_cli.errors import EXIT_OK, EXIT_USAGE, UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.render.documents import recommendation_json
from benchmarks.run import synthetic_kb
from tests.conftest import Run, Runner, assert_recommendation, fails, ok

GRID = [
    {
        key: value
        for key, value in zip(
            ("gpu", "model_size", "goal", "data_kind", "priority", "examples"), values, strict=True
        )
        if not (key == "examples" and values[3] == "none")  # no data to count
    }
    for values in itertools.product(
        ["rtx-3090", "a100-80gb", "t4", "none"],
        ["0.5b", "7b", "70b"],
        ["classify", "chat", "align", "knowledge", "reasoning"],
        ["none", "demonstrations", "preferences", "reward-function"],
        ["quality", "cost"],
        ["20", "50k"],
    )
]


def _expected_line(engine: Engine, number: int, raw: dict[str, str], top: int) -> str:
    record = {"line": number, **recommendation_json(engine.recommend(build_profile(raw)), top, False)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("top", [1, 5, 100])
def test_encoded_lines_are_byte_identical_to_json_dumps(catalog: Catalog, top: int) -> None:
    # A reference engine of its own: its memos are not the encoder's (an answer's independence of
    # the lines before it is tested apart, in fresh processes).
    engine, encoder, reference = Engine(catalog), LineEncoder(), Engine(catalog)
    for number, raw in enumerate(GRID[::3], start=1):
        line = encoder.line(number, engine.recommend(build_profile(raw)), top).decode()
        assert line == _expected_line(reference, number, raw, top)


def test_lines_stay_right_when_the_encoder_memo_restarts(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo restarts past its limit (flat memory: benchmarks/run.py measures it); lines stay
    the same whenever it does."""
    monkeypatch.setattr(jsonline, "PIECE_LIMIT", 8)
    engine, encoder = Engine(catalog), LineEncoder()
    for number, raw in enumerate(GRID[:60], start=1):
        assert encoder.line(number, engine.recommend(build_profile(raw)), 5).decode() == _expected_line(
            engine, number, raw, 5
        )


def _answers_in_fresh_process(tmp_path: Path, profiles: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One process per call, so that no memo of this one (or of an earlier test) is shared."""
    source = tmp_path / "order.jsonl"
    source.write_text("".join(json.dumps(raw) + "\n" for raw in profiles), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "atlas_cli", "recommend", "--batch", str(source)],
        capture_output=True,
        check=True,
        env={**os.environ, "FT_ATLAS_JOBS": "1"},
    )
    return [{k: v for k, v in json.loads(line).items() if k != "line"} for line in done.stdout.splitlines()]


def test_an_answer_does_not_depend_on_the_profiles_before_it(tmp_path: Path) -> None:
    """The plans, estimates and micro-batches a batch remembers are keyed by all they depend on:
    20 examples take a smaller global batch than 500, and the 500's GaLore plan once trained
    at the 20's micro-batch (16 instead of 8) when it came second."""
    small = {"gpu": "rtx-3090", "model_size": "1b", "goal": "adapt", "data_kind": "text", "examples": "20"}
    profiles = [small, {**small, "examples": "500"}, *GRID[::7]]
    forward = _answers_in_fresh_process(tmp_path, profiles)
    backward = _answers_in_fresh_process(tmp_path, profiles[::-1])
    assert forward == backward[::-1]


def _input(tmp_path: Path) -> Path:
    lines = [json.dumps(raw) for raw in GRID]
    # Bad lines land in different chunks, some of them in a worker's.
    for at in (0, 7, 100, 333, len(lines) - 1):
        lines.insert(at, '{"gpu": "no-such-gpu"}' if at % 2 else "not json")
    path = tmp_path / "profiles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(
    catalog: Catalog, source: Path, jobs: str, monkeypatch: pytest.MonkeyPatch, explain: bool = False
) -> tuple[int, str]:
    monkeypatch.setenv("FT_ATLAS_JOBS", jobs)
    out = io.StringIO()
    code = run_batch(Engine(catalog), str(source), top=5, explain=explain, out=out)
    return code, out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["2", "3"])
@pytest.mark.parametrize("explain", [False, True])
def test_worker_processes_write_the_same_lines_in_the_same_order(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str, explain: bool
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 16)  # many rounds from a small file
    source = _input(tmp_path)
    alone = _run(catalog, source, "1", monkeypatch, explain)
    shared = _run(catalog, source, jobs, monkeypatch, explain)
    assert shared == alone
    code, text = alone
    assert code == EXIT_USAGE  # the bad lines
    numbers = [json.loads(line)["line"] for line in text.splitlines()]
    assert numbers == list(range(1, len(GRID) + 6))


def test_a_clean_file_through_workers_exits_zero(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 8)
    source = tmp_path / "good.jsonl"
    source.write_text("\n".join(json.dumps(raw) for raw in GRID[:50]) + "\n", encoding="utf-8")
    code, text = _run(catalog, source, "2", monkeypatch)
    assert code == EXIT_OK
    assert len(text.splitlines()) == 50


def test_a_failing_worker_is_reported_like_a_failure_here(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 8)
    real, parent = batch.encode_chunk, os.getpid()

    def broken(engine: Engine, encoder: LineEncoder, first: int, *rest: object) -> tuple[bytes, int]:
        if os.getpid() != parent:  # in the worker only
            raise ValueError("boom")
        return real(engine, encoder, first, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "encode_chunk", broken)
    with pytest.raises(ValueError, match=r"^boom$"):
        _run(catalog, _input(tmp_path), "2", monkeypatch)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_batch_pauses_the_collector_yet_collects_the_cycles_lines_leave(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 1)
    monkeypatch.setattr(batch, "YOUNG_COLLECTION_CHUNKS", 4)
    real, seen = batch.encode_chunk, []
    cycles: weakref.WeakSet[_Cycle] = weakref.WeakSet()

    def leaving_a_cycle(*args: Any) -> tuple[bytes, int, int]:
        seen.append(gc.isenabled())
        cycles.add(_Cycle())  # garbage only the cyclic collector can free
        return real(*args)

    monkeypatch.setattr(batch, "encode_chunk", leaving_a_cycle)
    source = tmp_path / "good.jsonl"
    source.write_text("\n".join(json.dumps(raw) for raw in GRID[:12]) + "\n", encoding="utf-8")
    assert _run(catalog, source, "1", monkeypatch)[0] == EXIT_OK
    assert seen == [False] * 12  # no full collection walks the memos while lines are answered
    assert len(cycles) < 4  # yet the cycles of all but the last few chunks were collected
    assert gc.isenabled()


class _NeedsTwoArguments(Exception):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}-{b}")


@pytest.mark.parametrize("failure", [ValueError("boom"), _NeedsTwoArguments("1", "2")], ids=["plain", "odd"])
@pytest.mark.parametrize("jobs", ["1", "2", "4"])
def test_a_failure_ends_the_run_after_everything_before_it_is_written(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str, failure: Exception
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 8)
    real = batch.encode_chunk

    def broken(engine: Engine, encoder: LineEncoder, first: int, *rest: object) -> tuple[bytes, int]:
        if first > 300:  # wherever that chunk is encoded: here or in a worker
            raise failure
        return real(engine, encoder, first, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "encode_chunk", broken)
    source = tmp_path / "good.jsonl"
    source.write_text("\n".join(json.dumps(raw) for raw in GRID[:400]) + "\n", encoding="utf-8")
    monkeypatch.setenv("FT_ATLAS_JOBS", jobs)
    out = io.StringIO()
    with pytest.raises(Exception, match=r"boom|1-2") as raised:
        run_batch(Engine(catalog), str(source), top=1, explain=False, out=out)
    assert type(raised.value).__name__ in ("ValueError", "_NeedsTwoArguments", "RuntimeError")
    assert len(out.getvalue().splitlines()) == 304  # the chunks before the one from line 305


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_lines_too_long_are_errors_read_past_in_pieces(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    monkeypatch.setattr(batch, "MAX_LINE_CHARS", 1000)
    good = json.dumps({"gpu": "rtx-3090"})
    # Blanks count: a line is judged by its length as read, not after stripping.
    lines = [good, " " * 5000 + good, '{"goal": "' + "x" * 3000 + '"}', good, " " * 900 + good]
    source = tmp_path / "long.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text = _run(catalog, source, jobs, monkeypatch)
    records = [json.loads(line) for line in text.splitlines()]
    too_long = {"code": "bad_input", "message": "line longer than 1000 characters"}
    assert [r.get("error") for r in records] == [None, too_long, too_long, None, None]
    assert code == EXIT_USAGE


def test_a_line_with_no_end_stops_the_batch_after_its_error(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`recommend --batch /dev/zero` read for ever before it wrote line 1's error (an attacker's
    review): the error comes at once, and past MAX_SKIPPED_CHARS the batch stops, exit 2."""
    monkeypatch.setattr(batch, "MAX_LINE_CHARS", 1000)
    monkeypatch.setattr(batch, "MAX_SKIPPED_CHARS", 50_000)
    source = tmp_path / "endless.jsonl"
    source.write_text(json.dumps({"gpu": "rtx-3090"}) + "\n" + " " * 200_000, encoding="utf-8")
    out = io.StringIO()
    monkeypatch.setenv("FT_ATLAS_JOBS", "1")
    assert run_batch(Engine(catalog), str(source), top=5, explain=False, out=out) == EXIT_USAGE
    assert "with no end: stopped there" in capsys.readouterr().err
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0].get("error") is None and records[1]["error"]["code"] == "bad_input"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_huge_answer_and_a_huge_chunk_do_not_deadlock_the_workers(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    # Chunks far larger than any socket buffer, and answers too (--explain --top 100).
    monkeypatch.setattr("atlas_cli.batch.workers.SEND_BUFFER_BYTES", 4096)
    padded = [json.dumps(raw) + " " * 60_000 for raw in GRID[:40]]
    source = tmp_path / "padded.jsonl"
    source.write_text("\n".join(padded) + "\n", encoding="utf-8")
    monkeypatch.setenv("FT_ATLAS_JOBS", jobs)
    out = io.StringIO()
    code = run_batch(Engine(catalog), str(source), top=100, explain=True, out=out)
    assert code == EXIT_OK
    assert [json.loads(line)["line"] for line in out.getvalue().splitlines()] == list(range(1, 41))


def test_a_json_number_python_refuses_is_a_bad_line_not_a_crash(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "bigint.jsonl"
    good = json.dumps({"gpu": "rtx-3090"})
    source.write_text(f'{good}\n{{"gpus": {"9" * 5000}}}\n{good}\n', encoding="utf-8")
    code, text = _run(catalog, source, "1", monkeypatch)
    records = [json.loads(line) for line in text.splitlines()]
    assert code == EXIT_USAGE
    assert [r.get("error", {}).get("code") for r in records] == [None, "bad_input", None]
    # Valid JSON with a bad value; Python's advice to call sys.set_int_max_str_digits() leaked.
    assert records[1]["error"]["message"] == "a number of 5,000 digits: no profile value is that long"


def test_a_line_that_is_not_utf_8_says_so(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: bytes that are not UTF-8 were reported as 'Expecting value: line 1 column 1'; inside
    a string they were read as U+FFFD and answered (an attacker's review: "gpt-4o\xff")."""
    source = tmp_path / "latin1.jsonl"
    source.write_bytes(
        b'{"gpu": "rtx-3090"}\n\xff\xfe{"gpu": "rtx-3090"}\n{"gpu": "rtx-3090\xff"}\n'
        # a literal U+FFFD is valid UTF-8: answered (here, as an unknown GPU)
        b'{"gpu": "rtx-3090\xef\xbf\xbd"}\n'
    )
    _, text = _run(catalog, source, "1", monkeypatch)
    said = {"code": "bad_json", "message": "not UTF-8 text: JSON lines are read as UTF-8"}
    errors = [json.loads(line).get("error") for line in text.splitlines()]
    assert errors[:3] == [None, said, said] and errors[3] is not None and errors[3]["code"] != "bad_json"


def test_half_a_surrogate_pair_is_refused_and_a_whole_pair_answered(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker's review: "\\ud800" alone was answered and echoed back, which strict JSON
    readers refuse; an escaped pair ("\\ud83d\\ude00", one emoji) is one character of text."""
    source = tmp_path / "surrogates.jsonl"
    source.write_text(
        '{"model_access": "api", "model": "a\\ud800b"}\n'
        '{"model_access": "api", "model": "a\\ud83d\\ude00b"}\n'
        '{"model_access": "api", "\\udfff": 1}\n',
        encoding="utf-8",
    )
    _, text = _run(catalog, source, "1", monkeypatch)
    errors = [json.loads(line).get("error") for line in text.splitlines()]
    said = {"code": "bad_input", "message": "a \\u escape of half a surrogate pair is not text"}
    assert errors == [said, None, said]
    text.encode("utf-8")  # every output line is text


def test_a_byte_order_mark_and_a_stray_carriage_return_do_not_shift_lines(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = json.dumps({"gpu": "rtx-3090"})
    source = tmp_path / "odd.jsonl"
    source.write_bytes(("\ufeff" + good + "\r\n" + '{"gpu": "a\rb"}\n' + good + "\n").encode("utf-8"))
    _, text = _run(catalog, source, "1", monkeypatch)
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3]
    assert "error" not in records[0] and "error" in records[1] and "error" not in records[2]


@pytest.mark.parametrize("explain", [False, True])
def test_a_repeated_line_is_answered_as_if_it_were_new(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, explain: bool
) -> None:
    """Consecutive equal lines share one answer, each with its own number; a failed line is
    answered again. A byte-order mark is removed from any line (joined files carry theirs)."""
    good = json.dumps({"gpu": "rtx-3090", "model_size": "1b", "goal": "chat", "data_kind": "none"})
    other = json.dumps({"gpu": "t4", "model_size": "1b", "goal": "chat", "data_kind": "none"})
    lines = ["\ufeff" + good, "\ufeff" + good, good, good, "not json", "not json", good, other, other]
    source = tmp_path / "repeats.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, text = _run(catalog, source, "1", monkeypatch, explain)
    expected = []
    for number, line in enumerate(lines, start=1):
        alone = tmp_path / "alone.jsonl"
        alone.write_text(("" if number == 1 else "\n") + line + "\n", encoding="utf-8")
        record = json.loads(_run(catalog, alone, "1", monkeypatch, explain)[1].splitlines()[-1])
        expected.append({**record, "line": number})
    assert [json.loads(line) for line in text.splitlines()] == expected
    assert not any("error" in record for record in expected[:4])


def test_jobs_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_ATLAS_JOBS", "4")
    assert worker_count() == 3
    monkeypatch.setenv("FT_ATLAS_JOBS", "1")
    assert worker_count() == 0


def test_a_regular_file_is_shared_out_but_a_pipe_is_answered_line_by_line(tmp_path: Path) -> None:
    source = tmp_path / "profiles.jsonl"
    source.write_text("{}\n", encoding="utf-8")
    with open(source, encoding="utf-8") as regular:
        assert not answers_each_line(regular)
    reading, writing = os.pipe()
    with open(reading, encoding="utf-8") as piped:
        assert answers_each_line(piped)
    os.close(writing)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with open(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK), encoding="utf-8") as named:  # no writer yet
        assert answers_each_line(named)


def test_a_caller_on_a_pipe_gets_each_answer_before_sending_the_next_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "atlas_cli", "recommend", "--batch", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for number, gpu in enumerate(["rtx-3090", "a100-80gb", "t4"], start=1):
            process.stdin.write(json.dumps({"gpu": gpu, "model_size": "7b"}).encode() + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, f"no answer to line {number} while the caller waits"
            assert json.loads(process.stdout.readline())["line"] == number
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0


@pytest.mark.parametrize("value", ["0", "-1", "two", "65", "\u00b2"])
def test_a_bad_jobs_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FT_ATLAS_JOBS", value)
    with pytest.raises(UsageError, match="FT_ATLAS_JOBS"):
        worker_count()


def test_jobs_default_to_the_cores_up_to_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FT_ATLAS_JOBS", raising=False)
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda _: set(range(64)), raising=False)
    assert worker_count() == workers.MAX_PROCESSES - 1


# --- recommend --batch --------------------------------------------------------------------

GOOD = {"gpu": "3090", "model_size": "7b", "goal": "chat"}


def batch_records(result: Run) -> list[dict[str, Any]]:
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert result.stdout.endswith("\n") or not lines
    return [json.loads(line) for line in lines]


def assert_error(record: dict[str, Any], line: int) -> None:
    assert set(record) == {"line", "error"}
    assert record["line"] == line
    assert set(record["error"]) == {"code", "message"}
    assert isinstance(record["error"]["code"], str) and record["error"]["code"]
    assert isinstance(record["error"]["message"], str) and record["error"]["message"]


def assert_success(record: dict[str, Any], line: int) -> None:
    assert record["line"] == line
    assert "error" not in record
    assert_recommendation({k: v for k, v in record.items() if k != "line"})


def write_lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text("".join(line + newline for line in lines), encoding="utf-8")
    return path


def test_batch_all_good(run: Runner, tmp_path: Path) -> None:
    profiles = [
        GOOD,
        {"vram": 80, "model": "llama-3.1-8b", "examples": "10k"},
        {"gpu": "none", "model_size": 7e9},
    ]
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(p) for p in profiles])
    result = run("recommend", "--batch", str(source), "--top", "2")
    assert result.exit_code == 0, result.stderr
    records = batch_records(result)
    assert len(records) == 3
    for number, record in enumerate(records, start=1):
        assert_success(record, number)
        assert len(record["recommendations"]) <= 2
    assert records[1]["profile"]["examples"] == 10_000
    assert records[2]["profile"]["gpu"] == "none"


def test_batch_each_bad_line_gets_an_error_record(run: Runner, tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),  # 1
        "not json",  # 2
        "",  # 3 empty: skipped
        "   ",  # 4 blank: skipped
        '{"gpu": ["rtx-3090"]}',  # 5 wrong type
        '{"gpus": "two", "model_size": "7b"}',  # 6 wrong type
        '{"knowledge_changes": "maybe"}',  # 7 wrong type
        '{"colour": "blue"}',  # 8 unknown key
        "[1, 2, 3]",  # 9 not an object
        '"just a string"',  # 10
        '{"gpu": "rtx-3090", "vram": 16}',  # 11 conflicting keys
        '{"vram": -5, "model_size": "7b"}',  # 12 bad value
        '{"model_size": NaN}',  # 13 NaN
        '{"examples": 1e400, "model_size": "7b"}',  # 14 inf
        '{"gpu": "309x", "model_size": "7b"}',  # 15 unknown GPU
        '{"model_size": "7b"',  # 16 truncated
        "[" * 100_000,  # 17 deeply nested
        json.dumps(GOOD),  # 18
    ]
    source = write_lines(tmp_path / "in.jsonl", lines)
    result = run("recommend", "--batch", str(source), "--top", "1")
    assert result.exit_code == 2
    # Exit 2 says why on stderr too (a review: it said nothing there).
    said = "ft-atlas: 14 lines were refused as bad input; their error records in the output say why\n"
    assert result.stderr == said
    records = {r["line"]: r for r in batch_records(result)}
    # A blank line holds no profile and gets no record (a newcomer's review: the blank line an
    # editor leaves at the end made a whole sweep exit 2); the others keep their line numbers.
    assert sorted(records) == [n for n in range(1, len(lines) + 1) if n not in (3, 4)]
    assert_success(records[1], 1)
    assert_success(records[len(lines)], len(lines))
    for number in set(records) - {1, len(lines)}:
        assert_error(records[number], number)
    assert records[12]["error"]["message"].startswith('"vram": ')  # the key, not the flag
    assert "did you mean" in records[15]["error"]["message"]


def test_batch_huge_line(run: Runner, tmp_path: Path) -> None:
    huge = json.dumps({"gpu": "x" * (10 * 1024 * 1024)})
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD), huge, json.dumps(GOOD)])
    result = run("recommend", "--batch", str(source), "--top", "1")
    assert result.exit_code == 2
    records = batch_records(result)
    assert len(records) == 3
    assert_success(records[0], 1)
    assert_error(records[1], 2)
    assert_success(records[2], 3)
    assert len(result.stdout) < 1_000_000  # the error does not echo the line back


def test_batch_from_stdin_matches_file(run: Runner, tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), "oops", json.dumps({"vram": "48", "model_size": "13b"})]
    source = write_lines(tmp_path / "in.jsonl", lines)
    from_file = run("recommend", "--batch", str(source))
    from_stdin = run("recommend", "--batch", "-", input="".join(line + "\n" for line in lines))
    assert from_file.exit_code == from_stdin.exit_code == 2
    assert from_file.stdout == from_stdin.stdout
    assert len(batch_records(from_stdin)) == 3


def test_batch_last_line_without_newline_and_crlf(run: Runner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes((json.dumps(GOOD) + "\r\n" + json.dumps(GOOD)).encode())
    result = run("recommend", "--batch", str(source), "--top", "1")
    assert result.exit_code == 0, result.stdout
    records = batch_records(result)
    assert [r["line"] for r in records] == [1, 2]
    assert all("error" not in r for r in records)


def test_batch_invalid_utf8_is_an_error_record(run: Runner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(json.dumps(GOOD).encode() + b"\n\xff\xfe{\n" + json.dumps(GOOD).encode() + b"\n")
    result = run("recommend", "--batch", str(source), "--top", "1")
    assert result.exit_code == 2
    records = batch_records(result)
    assert len(records) == 3
    assert_error(records[1], 2)


def test_batch_empty_input(run: Runner, tmp_path: Path) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("", encoding="utf-8")
    result = run("recommend", "--batch", str(source))
    assert (result.exit_code, result.stdout) == (0, "")
    result = run("recommend", "--batch", "-", input="")
    assert (result.exit_code, result.stdout) == (0, "")


def test_batch_with_explain(run: Runner, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD)])
    records = batch_records(ok(run("recommend", "--batch", str(source), "--explain", "--top", "2")))
    assert all("trace" in plan for plan in records[0]["recommendations"])


def test_batch_usage_errors(run: Runner, tmp_path: Path) -> None:
    fails(run("recommend", "--batch", str(tmp_path / "missing.jsonl")), 2, "missing.jsonl")
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD)])
    fails(run("recommend", "--batch", str(source), "--gpu", "rtx-3090"), 2, "--gpu")
    fails(run("recommend", "--batch", str(tmp_path)), 2)


def test_fractional_or_zero_examples_are_refused(run: Runner) -> None:
    for value in ("0.4", "0", "2.5"):
        result = run("recommend", "--examples", value)
        assert result.exit_code == 2 and "--examples" in result.stderr, value


def test_batch_refuses_markdown(run: Runner, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"gpu": "3090"}\n', encoding="utf-8")
    result = run("recommend", "--batch", str(source), "--format", "markdown")
    assert result.exit_code == 2 and "JSON Lines" in result.stderr


def test_batch_lines_match_their_published_schema(run: Runner, tmp_path: Path) -> None:
    from pydantic import TypeAdapter

    from atlas_cli.render.contracts import OUTPUTS

    source = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD), '{"gpu": "nope"}', "not json"])
    contract = TypeAdapter(OUTPUTS["recommend_batch_line"])
    for record in batch_records(run("recommend", "--batch", str(source), "--top", "2")):
        contract.validate_python(record)


def _children(pid: int) -> list[int]:
    """A process's children (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(child) for child in children.read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_end_with_a_parent_killed_by_sigterm(tmp_path: Path) -> None:
    """kill, systemd or a cancelled CI job send SIGTERM, which runs no `finally`: the workers
    were re-parented to init and went on encoding (an attacker's review)."""
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps(raw) + "\n" for raw in GRID * 20), encoding="utf-8")
    # A KB of 1,300 methods (near the 5 MB a KB file may hold) keeps a worker on one chunk of 64
    # lines for ~6 s, over twice the wait below: an orphan outlives it where nothing ends it.
    kb = synthetic_kb(1000, tmp_path)  # the benchmark's largest: slow to load, within the text limit
    parent = subprocess.Popen(
        [sys.executable, "-m", "atlas_cli", "--kb", str(kb), "recommend", "--batch", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FT_ATLAS_JOBS": "3"},  # two workers besides the parent
    )
    workers_seen: list[int] = []
    for _ in range(1200):  # until both workers are up (loading the large KB takes a while)
        workers_seen = _children(parent.pid)
        if len(workers_seen) >= 2 or parent.poll() is not None:
            break
        select.select([], [], [], 0.05)
    assert len(workers_seen) >= 2
    parent.terminate()
    parent.wait()
    for _ in range(50):  # the kernel ends them at once
        if not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in workers_seen):
            break
        select.select([], [], [], 0.05)
    assert not [pid for pid in workers_seen if Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)]


def _state(pid: int) -> str:
    try:
        return next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State")
        )
    except (OSError, StopIteration):
        return "zombie"  # gone


def test_a_json_number_past_a_float_says_so(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON's 1e400 reads as infinity: it was refused as "'inf' must be a positive number"; and
    the message quotes what the line says (-1e400, NaN), not 'inf' or 'nan'."""
    source = tmp_path / "huge.jsonl"
    lines = ("1e400", "-1e400", "NaN", "-Infinity")
    source.write_text("".join(f'{{"gpu": "rtx-3090", "examples": {n}}}\n' for n in lines), encoding="utf-8")
    _, text = _run(catalog, source, "1", monkeypatch)
    messages = [json.loads(line)["error"]["message"] for line in text.splitlines()]
    assert "'1e400' is past the largest number a float holds" in messages[0]
    assert [f"'{n}'" in m for n, m in zip(lines, messages, strict=True)] == [True] * 4


def test_an_echoed_profile_naming_a_model_is_fed_back_to_the_same_answer(catalog: Catalog) -> None:
    """docs/json.md: `profile` can be fed back as a batch line and gives the same recommendations.
    A newcomer's review: every echo naming a model was refused, its model_size (the model's own,
    echoed beside it) taken as a second model. A size that is not the model's still is."""
    from atlas_cli.errors import UsageError

    engine = Engine(catalog)
    first = engine.recommend(build_profile({"model": "qwen3-8b", "gpu": "4090", "goal": "chat"}))
    echoed = {k: v for k, v in first.profile.items() if v is not None}
    again = engine.recommend(build_profile(echoed))
    assert [p.method for p in again.plans] == [p.method for p in first.plans]
    with pytest.raises(UsageError, match=r"qwen3-8b has 8\.191B parameters, not 7B"):
        engine.recommend(build_profile({**echoed, "model_size": 7}))
    with pytest.raises(UsageError, match="alternatives"):  # a hosted model: nothing to check it by
        engine.recommend(build_profile({"model_access": "api", "model": "gpt-4o-mini", "model_size": 7}))


def test_batch_errors_name_the_json_keys_not_the_flags(tmp_path: Path) -> None:
    """A newcomer's review: a batch line {"gpu": "2x4090"} was told "give the count apart: --gpu
    rtx-4090 --gpus 2", flags a JSON line has none of. Profile flags read as their keys; others
    (--batch) stay."""
    source = tmp_path / "lines.jsonl"
    source.write_text('{"gpu": "2x4090"}\n{"examples": "lots"}\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "atlas_cli", "recommend", "--batch", str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    first, second = (json.loads(line)["error"]["message"] for line in done.stdout.splitlines())
    assert '"gpu" rtx-4090 "gpus" 2' in first and "--gpu" not in first
    assert second.startswith('"examples": ')
    said = batch.as_batch_keys("--batch and --kb stay; --seq-len goes; `ft-atlas recommend --gpus 2` stays")
    assert said == '--batch and --kb stay; "seq_len" goes; `ft-atlas recommend --gpus 2` stays'


def test_a_trailing_blank_line_is_no_bad_input(run: Runner) -> None:
    """A newcomer's review: the blank line an editor leaves at the end of a file was refused as bad
    input, so a sweep with every profile answered exited 2."""
    result = run("recommend", "--batch", "-", "--top", "1", input=json.dumps(GOOD) + "\n\n  \n")
    assert result.exit_code == 0 and result.stderr == ""
    assert [r["line"] for r in batch_records(result)] == [1]
