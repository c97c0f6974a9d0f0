"""Plural forms (review M1): a number before a counted noun agrees with it, "1 example" and
"2 examples" in English, «1 пример», «2 примера», «5 примеров» in Russian (CLDR's rules), never
"1 examples", "on 1 GPU(s)" or «21 примеров»."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_cli.i18n import PLURAL_CONTEXTS, english_form, nt, russian_form, set_language, significant, t
from atlas_cli.translations import code_texts
from tests.conftest import Runner, ok

RECOMMEND = ("recommend", "--model-size", "7b", "--gpu", "4090")
WIDE = {"COLUMNS": "200"}


@pytest.mark.parametrize(
    "count, form",
    [
        (0, "many"),
        (1, "one"),
        (2, "few"),
        (4, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (21, "one"),
        (22, "few"),
        (25, "many"),
        (101, "one"),
        (111, "many"),
        (1.5, "few"),  # CLDR's "other" for fractions, which Russian writes as few: «1,5 примера»
        (2.0, "few"),  # a whole float is shown as "2"
    ],
)
def test_russian_plural_forms_follow_cldr(count: float, form: str) -> None:
    assert russian_form(count) == form


@pytest.mark.parametrize(
    "count, form", [(0, "other"), (1, "one"), (1.0, "one"), (1.5, "other"), (2, "other")]
)
def test_english_plural_forms(count: float, form: str) -> None:
    assert english_form(count) == form


def test_english_picks_one_or_other() -> None:
    assert nt("{n:,} example", "{n:,} examples", 1, n=1) == "1 example"
    assert nt("{n:,} example", "{n:,} examples", 2, n=2) == "2 examples"
    assert nt("{n:,} example", "{n:,} examples", 2000, n=2000) == "2,000 examples"
    assert nt("{n} GPU", "{n} GPUs", 1, n=1) == "1 GPU"


@pytest.mark.parametrize(
    "count, russian",
    [
        (1, "1 пример"),
        (2, "2 примера"),
        (5, "5 примеров"),
        (11, "11 примеров"),
        (21, "21 пример"),
        (22, "22 примера"),
        (25, "25 примеров"),
        (101, "101 пример"),
        (1.5, "1,5 примера"),
        (12345, "12\u00a0345 примеров"),
    ],
)
def test_russian_takes_the_form_of_the_count_from_the_catalog(count: float, russian: str) -> None:
    set_language("ru")
    assert nt("{n:,} example", "{n:,} examples", count, n=count) == russian


def test_russian_forms_of_a_whole_template() -> None:
    set_language("ru")
    one = "{n} line was refused as bad input; its error record in the output says why"
    plural = "{n} lines were refused as bad input; their error records in the output say why"
    said = {n: nt(one, plural, n, n=n) for n in (1, 2, 5)}
    assert said[1].startswith("1 строка отклонена")
    assert said[2].startswith("2 строки отклонены")
    assert said[5].startswith("5 строк отклонено")


def test_an_untranslated_plural_falls_back_to_its_english_form() -> None:
    set_language("ru")
    assert nt("{n} zorp", "{n} zorps", 1, n=1) == "1 zorp"
    assert nt("{n} zorp", "{n} zorps", 3, n=3) == "3 zorps"


def test_the_plural_is_found_in_the_source_once_for_each_russian_form(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        "from atlas_cli.i18n import nt\nx = 1\nnt('{n} row', '{n} rows', x, n=x)\nnt(x, '{n} rows', x)\n",
        "utf-8",
    )
    found, problems = code_texts(package)
    assert {(s.text, s.context) for s in found} == {("{n} rows", c) for c in PLURAL_CONTEXTS.values()}
    assert len(problems) == 1 and "nt() takes the literals" in problems[0]


# --- the commands the review ran ---------------------------------------------------------------


@pytest.mark.parametrize(
    "examples, said",
    [("1", "1 example of ~512 tokens"), ("2", "2 examples of ~512 tokens")],
)
def test_recommend_counts_examples_in_english(run: Runner, examples: str, said: str) -> None:
    out = " ".join(ok(run(*RECOMMEND, "--examples", examples, env=WIDE)).stdout.split())
    assert said in out


def test_one_gpu_is_one_gpu(run: Runner) -> None:
    out = " ".join(ok(run(*RECOMMEND, "--examples", "1", "--explain", env=WIDE)).stdout.split())
    assert "on 1 GPU." in out and "GPU(s)" not in out


@pytest.mark.parametrize(
    "examples, said",
    [("1", "1 пример по ~512 токенов"), ("21", "21 пример по ~512 токенов"), ("22", "22 примера по")],
)
def test_recommend_counts_examples_in_russian(run: Runner, examples: str, said: str) -> None:
    out = " ".join(ok(run("--lang", "ru", *RECOMMEND, "--examples", examples, env=WIDE)).stdout.split())
    assert f"Время и стоимость: {said}" in out


@pytest.mark.parametrize(
    ("value", "english", "russian"),
    [
        (67_712.4, "67,700", "67\u00a0700"),
        (3.814, "3.81", "3,81"),
        (2.0, "2", "2"),
        (21.04, "21", "21"),
        (0.5, "0.5", "0,5"),
        (0.0576, "0.0576", "0,0576"),
        (0.0000576, "<0.001", "<0,001"),
        (0, "0", "0"),
    ],
)
def test_quantities_are_written_out_not_in_scientific_notation(
    value: float, english: str, russian: str
) -> None:
    """67,700 GPU-hours and 5.76e-05 GPU-h were printed as 6.77e+04 and 5.76e-05 (a newcomer's
    review)."""
    try:
        set_language("en")
        assert significant(value) == english
        set_language("ru")
        assert significant(value) == russian
        # Filled into a sentence, it stays as written: "<0,001" read "<0 001" (a review).
        assert t("{hours} GPU-hours", hours=significant(value)) == f"{russian} GPU·ч"
    finally:
        set_language("en")
