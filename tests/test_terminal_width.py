"""What a person sees at 60, 80 and 120 columns: tables keep ids and words whole (dropping the
less important columns, and saying so), help stays readable, and every command and snippet the
tool prints can be pasted as is."""

from __future__ import annotations

import os
import re

import pytest

from atlas_cli.consoles import console_environment
from atlas_cli.kb.catalog import Catalog
from atlas_cli.render.grid import Grid, rich_table
from tests.conftest import Run, Runner, ok
from tests.test_cli import COMMANDS, VIEWS

WIDTHS = [60, 80, 120]
BOX = re.compile(r"[│┃╭╰]")


def at(run: Runner, width: int, *args: str) -> Run:
    return ok(run(*args, env={"COLUMNS": str(width)}))


def pastable(catalog: Catalog) -> set[str]:
    """Lines printed verbatim (snippets, library entry points): they may run past the edge."""
    lines = {line.rstrip() for m in catalog.kb.methods for line in m.snippet.splitlines()}
    lines |= {f"• {lib.library}: {lib.entry}" for m in catalog.kb.methods for lib in m.libraries}
    return lines


# Next steps print each library's entries on one line, the recipe command and the cards to show:
# pasted into a shell or an editor, so printed whole whatever the width.
NEXT_STEP = re.compile(r"^• (Recipe: ft-atlas recipe |Cards and example code: ft-atlas show |[\w.-]+: )")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", VIEWS, ids=" ".join)
def test_views_fit_the_terminal(run: Runner, catalog: Catalog, args: list[str], width: int) -> None:
    allowed = pastable(catalog)
    lines = at(run, width, *args).stdout.splitlines()
    too_long = [
        line
        for line in lines
        if len(line) > width and line.rstrip() not in allowed and not NEXT_STEP.match(line)
    ]
    assert not too_long, too_long[:3]


@pytest.mark.parametrize("width", WIDTHS)
def test_listings_keep_every_id_whole(run: Runner, catalog: Catalog, width: int) -> None:
    listings = {
        "methods": [m.id for m in catalog.kb.methods],
        "gpus": [g.id for g in catalog.kb.gpus],
        "models": [m.id for m in catalog.kb.models],
        "categories": [c.id for c in catalog.kb.categories],
        "tools": [t.library.split()[0] for t in catalog.kb.guide.tools],
    }
    for command, ids in listings.items():
        shown = at(run, width, command).stdout
        missing = [i for i in ids if not re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", shown)]
        assert not missing, (command, missing[:5])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [["compare"], ["compare", "lora", "qlora", "dpo", "icl"]], ids=" ".join)
def test_comparison_keeps_method_names_whole(run: Runner, args: list[str], width: int) -> None:
    rows = at(run, width, *args, "--json").json()["rows"]
    shown = at(run, width, *args).stdout
    for row in rows:
        for word in row["label"].split():
            assert word in shown, word


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_names_stay_whole_in_the_ranking(run: Runner, width: int) -> None:
    args = ["recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--top", "8"]
    plans = at(run, width, *args, "--json").json()["recommendations"]
    shown = at(run, width, *args).stdout
    for plan in plans:
        for word in plan["name"].split():
            assert word in shown, word


def test_narrow_tables_say_which_columns_they_leave_out(run: Runner) -> None:
    narrow = " ".join(at(run, 60, "methods").stdout.split())
    assert "Not shown at this width:" in narrow and "memory / speed / quality (--format" in narrow
    assert "┃ summary ┃" in narrow  # the method's summary outlasts its kind and ratings
    assert "Not shown at this width" not in at(run, 200, "methods").stdout


def test_columns_are_dropped_in_the_given_order_and_unknown_names_are_ignored() -> None:
    # A column added later (the ranking's "time" and "cost") can be named before it exists.
    grid = Grid("t", ["id", "a", "b", "c"], [["x" * 10, "aaaa " * 4, "bbbb " * 4, "cccc " * 4]])
    grid.drop_order = ("cost", "b", "a", "c")
    # Each column needs its longest word and 3 characters of rule and padding, plus 1.
    assert grid.for_width(28).columns == ["id", "a", "c"]
    assert grid.for_width(21).columns == ["id", "c"]
    assert "Not shown at this width: a, b" in grid.for_width(21).caption
    assert grid.for_width(200).columns == ["id", "a", "b", "c"]
    assert grid.for_width(10).columns == ["id", "c"]  # never down to the first column alone
    assert rich_table(grid).grid is grid


def test_a_property_table_keeps_its_values_at_any_width(run: Runner) -> None:
    """A newcomer's review: `model` at 40 columns listed its properties without their values."""
    shown = at(run, 40, "model", "qwen3-30b-a3b").stdout
    assert "value" in shown and "30.532B" in shown and "Not shown at this width" not in shown


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", [*COMMANDS, "ask", "recipe", "show", "model"])
def test_help_fits_and_keeps_descriptions_readable(run: Runner, command: str, width: int) -> None:
    text = at(run, width, command, "--help").stdout
    examples = [line.strip() for line in text.splitlines() if line.strip().startswith("ft-atlas ")]
    assert examples, "no example on a line of its own"
    for line in text.splitlines():
        assert len(line) <= width or line.strip() in examples, line
    # A description gets the width less a small indent, not a sliver beside a type column: every
    # line of it but the last is filled.
    runs: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("      ") and line.strip():
            runs[-1].append(line.rstrip())
        elif runs[-1]:
            runs.append([])
    for lines in runs:
        assert all(len(line) >= width - 30 for line in lines[:-1]), lines


def test_help_shows_bracketed_choices_literally(run: Runner) -> None:
    text = at(run, 120, "estimate", "--help").stdout
    assert "[bf16|fp16|fp32|pure-bf16]. Default: bf16 where supported" in text
    assert "Method id (lora, qlora, full-ft, rag, ...). Omit for all." in text


@pytest.mark.parametrize("width", WIDTHS)
def test_help_examples_are_whole_lines(run: Runner, width: int) -> None:
    text = at(run, width, "estimate", "--help").stdout
    lines = [line.strip() for line in text.splitlines()]
    assert "ft-atlas estimate --method qlora --model llama-3.1-70b --gpu a100-80gb --json" in lines
    assert not any(line.endswith("·") for line in lines)


# --- output you can paste -----------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_next_steps_are_printed_unwrapped_and_unboxed(run: Runner, catalog: Catalog, width: int) -> None:
    """The recipe command and the tools of the next steps paste as printed (the generic snippet
    is `show`'s: the next steps name the card instead)."""
    args = ["recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"]
    steps = at(run, width, *args, "--json").json()["next_steps"]
    lines = [line.rstrip() for line in at(run, width, *args).stdout.splitlines()]
    recipe = next(line for line in lines if line.startswith("• Recipe: "))
    assert recipe.startswith(f"• Recipe: {steps['recipe']} --out train.py")
    assert not BOX.search(recipe)
    assert f"• {steps['tools'][0]}" in lines
    assert f"• Cards and example code: {steps['example']}" in lines


@pytest.mark.parametrize("width", WIDTHS)
def test_card_snippet_is_printed_unwrapped_and_unboxed(run: Runner, catalog: Catalog, width: int) -> None:
    lines = [line.rstrip() for line in at(run, width, "show", "qlora").stdout.splitlines()]
    for code in catalog.methods["qlora"].snippet.rstrip().splitlines():
        assert code.rstrip() in lines, code
    snippet_start = lines.index("Snippet")
    assert not any(BOX.search(line) for line in lines[snippet_start:])


@pytest.mark.parametrize("width", [44, 82, 88])  # each broke a number before (rich at its \s)
def test_russian_numbers_stay_whole_on_one_line(run: Runner, width: int) -> None:
    args = ("--lang", "ru", "recommend", "--gpu", "a100-80gb", "--model", "llama-3.1-8b")
    args += ("--examples", "123456")
    grouped = re.compile(r"\d+(?:\u00a0\d{3})+")  # Russian thousands: groups joined by a no-break space
    wide = grouped.findall(at(run, 200, *args, "--explain").stdout)
    assert "123\u00a0456" in wide
    assert grouped.findall(at(run, width, *args, "--explain").stdout) == wide


@pytest.mark.parametrize("columns", ["0", "5", "100000"])
def test_an_impossible_width_is_taken_as_the_nearest_one(run: Runner, columns: str) -> None:
    """A review: rich takes COLUMNS as given, so COLUMNS=0 printed nothing (exit 0) and 100000
    padded every line of --help to 100,000 characters."""
    for args in (("--help",), ("recommend", "--gpu", "rtx-3090", "--model-size", "7b")):
        lines = ok(run(*args, env={"COLUMNS": columns})).stdout.splitlines()
        assert sum(len(line) > 30 for line in lines) > 3  # laid out, not an empty page
        assert max(len(line) for line in lines) <= 1000


@pytest.mark.parametrize("columns", [40, 120])
def test_plain_output_keeps_the_terminals_width(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """A newcomer's review: with NO_COLOR (or --no-color, TERM=dumb) output was 80 columns on a 40-
    or 120-column terminal, since rich sizes a dumb terminal 80 x 25 unless COLUMNS and LINES both
    say otherwise. Plain output reads the terminal's size; off a terminal nothing is set."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((columns, 30)))
    with console_environment(plain=True):
        assert (os.environ["COLUMNS"], os.environ["LINES"]) == (str(columns), "30")
    assert "COLUMNS" not in os.environ

    def no_terminal(fd: int = 1) -> os.terminal_size:
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    with console_environment(plain=True):
        assert "COLUMNS" not in os.environ
    # TERM=dumb set by the user, colour otherwise on: rich sizes that 80 x 25 too (a diff review)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((columns, 30)))
    monkeypatch.setenv("TERM", "dumb")
    with console_environment(plain=False):
        assert os.environ["COLUMNS"] == str(columns)


@pytest.mark.parametrize("width", [40, 44, 50])
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_estimate_charts_verdicts_stay_whole(run: Runner, width: int, lang: str) -> None:
    """A newcomer's review: at 40-45 columns the chart cut its verdict to "does no" ("не поме"),
    which reads as something else. The verdict stays whole; the bar and the time go first, and
    the chart says which."""
    args = ("--lang", lang, "estimate", "--model-size", "7b", "--gpu", "3060", "--examples", "5k")
    shown = ok(run(*args, env={"COLUMNS": str(width)})).stdout
    whole = "does not fit" if lang == "en" else "не помещается"
    rows = [line for line in shown.splitlines() if whole[:6] in line]
    assert rows and all(line.rstrip().endswith(whole) or whole in line for line in rows)
    assert all(len(line) <= width for line in shown.splitlines())
    if width == 40:
        said = " ".join(shown.split())
        assert ("Not shown at this width" if lang == "en" else "не показан") in said
        assert "--json" in said  # its markdown table has no time column either (a diff review)
