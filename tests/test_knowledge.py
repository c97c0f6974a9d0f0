"""Loading, validating and cross-checking the knowledge base (KB), and choosing it with --kb or
FT_ATLAS_KB. Broken KBs must give `path:line:column: field.path: message` lines and exit 3."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_cli.errors import EXIT_INVALID_KB, KnowledgeBaseError, UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base
from tests.conftest import Runner, fails

DATA = bundled_kb_path()
LOCATED = re.compile(r"^.+:\d+:\d+: ")
# A problem about a value also names the field: `file:line:col: methods[3].name: message`.
FIELD_LOCATED = re.compile(r"^.+:\d+:\d+: [^:\s]+: \S")
SUMMARY = re.compile(r"^ft-atlas: invalid knowledge base \(\d+ problems?\)$")


# --- helpers shared with the other KB tests ---------------------------------------------------


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


@functools.cache
def _bundled_sections() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merged: dict[str, Any] = {}
    for file in sorted(DATA.glob("*.yaml")):
        merged.update(yaml.load(file.read_text(encoding="utf-8"), Loader=loader))
    return merged


def bundled_sections() -> dict[str, Any]:
    """Every top-level section of the bundled KB, merged (as a single-file KB holds them); a
    fresh copy that the caller may change."""
    return copy.deepcopy(_bundled_sections())


def bundled_text() -> str:
    """The bundled KB as one file: its files' texts one after another (each is a mapping)."""
    return "".join(f.read_text(encoding="utf-8").rstrip("\n") + "\n" for f in sorted(DATA.glob("*.yaml")))


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=100)


def write_kb(directory: Path, data: Any, name: str = "kb.yaml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else dump(data), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    """The loader's problems for a KB that must be invalid; each must be located."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(path)
    problems = caught.value.problems
    assert problems, "a KnowledgeBaseError must list at least one problem"
    for problem in problems:
        assert LOCATED.match(problem), problem
        assert "\n" not in problem, problem
    return problems


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    """1-based line number of the `occurrence`-th match of `needle` in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return text.count("\n", 0, start) + 1


def index_of(items: list[dict[str, Any]], item_id: str) -> int:
    return next(i for i, item in enumerate(items) if item.get("id") == item_id)


def assert_cli_invalid(result: Any, *expected: str) -> list[str]:
    """Exit 3, every stderr line located (and naming a field) but the summary, no traceback."""
    assert result.exit_code == EXIT_INVALID_KB, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    for line in lines[:-1]:
        assert LOCATED.match(line), line
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    return lines[:-1]


# --- the bundled KB ----------------------------------------------------------------------------


def test_bundled_kb_is_valid(catalog: Catalog) -> None:
    kb = catalog.kb
    assert len(kb.methods) >= 24
    assert len(kb.gpus) >= 16
    assert len(kb.models) >= 20


def test_validate_command_accepts_bundled_kb(run: Runner) -> None:
    result = run("validate")
    assert result.exit_code == 0, result.stderr
    assert "valid" in result.stdout


def test_single_file_kb_equals_directory_kb(tmp_path: Path) -> None:
    from_dir = load_knowledge_base(DATA)
    from_text = load_knowledge_base(write_kb(tmp_path, bundled_text()))
    from_dump = load_knowledge_base(write_kb(tmp_path, bundled_sections(), "dumped.yaml"))
    assert from_text.model_dump() == from_dir.model_dump()
    assert from_dump.model_dump() == from_dir.model_dump()


def test_sections_split_over_any_files(tmp_path: Path) -> None:
    data = bundled_sections()
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    for section, value in data.items():
        write_kb(kb_dir, {section: value}, f"{section}.yaml")
    (kb_dir / "notes.txt").write_text("not a KB file: ignored\n")
    assert load_knowledge_base(kb_dir).model_dump() == load_knowledge_base(DATA).model_dump()


# --- where the KB is and whether it can be read ---------------------------------------------------


def test_a_missing_path_is_bad_usage(tmp_path: Path, run: Runner) -> None:
    """An attacker's review: `--kb /nonexistent` exited 3, "invalid knowledge base", where a
    mistyped path is bad usage (2), as a mistyped --model path is; every spelling agrees."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(UsageError, match="no such file or directory"):
        load_knowledge_base(missing)
    for args in (["validate", str(missing)], ["--kb", str(missing), "methods"]):
        fails(run(*args), 2, "no such file or directory")
    fails(run("recommend", "--gpu", "t4", "--json", env={"FT_ATLAS_KB": str(missing)}), 2, "no such file")


def test_empty_directory_is_a_located_error(tmp_path: Path, run: Runner) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    [problem] = problems_of(empty)
    assert problem.startswith(f"{empty}:1:1: ")
    assert "no *.yaml files" in problem
    (empty / "kb.yml").write_text(bundled_text())  # only *.yaml files count
    assert_cli_invalid(run("validate", str(empty)), "no *.yaml files")


def test_unreadable_entry_in_directory(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    write_kb(kb_dir, bundled_text())
    (kb_dir / "sub.yaml").mkdir()  # a directory with a KB-like name
    [problem] = problems_of(kb_dir)
    assert problem.startswith(f"{kb_dir / 'sub.yaml'}:1:1: cannot read")


def test_section_in_two_files(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    write_kb(kb_dir, bundled_text(), "a.yaml")
    write_kb(kb_dir, "# extra GPUs\ngpus: []\n", "b.yaml")
    [problem] = problems_of(kb_dir)
    assert problem.startswith(f"{kb_dir / 'b.yaml'}:2:1: gpus: section also in {kb_dir / 'a.yaml'}:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("# only a comment\n", "file is empty"),
        ("- methods\n- gpus\n", "top level must be a mapping of sections"),
        ("just a string\n", "top level must be a mapping of sections"),
    ],
)
def test_file_with_no_sections(tmp_path: Path, text: str, message: str) -> None:
    [problem] = problems_of(write_kb(tmp_path, text))
    assert problem == f"{tmp_path / 'kb.yaml'}:1:1: {message}"


# --- schema errors, located at the offending line --------------------------------------------------


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def test_unknown_top_level_section(tmp_path: Path) -> None:
    text = bundled_text() + "extras:\n  foo: 1\n"
    path = write_kb(tmp_path, text)
    [problem] = problems_of(path)
    assert problem == f"{path}:{line_of(text, 'extras:')}:1: extras: Extra inputs are not permitted"


def test_unknown_field_in_a_method(tmp_path: Path) -> None:
    text = _replace_once(
        bundled_text(), "    kind: parameterization\n", "    kind: parameterization\n    kidn: x\n"
    )
    path = write_kb(tmp_path, text)
    [problem] = problems_of(path)
    assert problem == f"{path}:{line_of(text, 'kidn: x')}:5: methods[0].kidn: Extra inputs are not permitted"


def test_unknown_language_in_a_text(tmp_path: Path) -> None:
    old = '    trains: {en: "All model weights", ru: "Все веса модели"}'
    german = 'de: "Alle Gewichte"'
    text = _replace_once(bundled_text(), old, old[:-1] + f", {german}}}")
    path = write_kb(tmp_path, text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, german)}:")
    assert problem.endswith("methods[0].trains.de: Extra inputs are not permitted")


def test_bad_enum_value(tmp_path: Path) -> None:
    old = "ratings: {memory: high, speed: medium, quality: excellent}"
    text = _replace_once(bundled_text(), old, old.replace("memory: high", "memory: huge"))
    path = write_kb(tmp_path, text)
    [problem] = problems_of(path)
    line = line_of(text, "memory: huge")
    assert re.match(
        rf"^{re.escape(str(path))}:{line}:\d+: methods\[0\]\.ratings\.memory: Input should be ", problem
    )
    assert "'very-low'" in problem


def test_wrong_type(tmp_path: Path) -> None:
    text = bundled_text()
    start = text.index("  - id: rtx-3090\n")
    old = "    memory_gib: 24\n"
    at = text.index(old, start)
    text = text[:at] + "    memory_gib: plenty\n" + text[at + len(old) :]
    path = write_kb(tmp_path, text)
    gpu = index_of(bundled_sections()["gpus"], "rtx-3090")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'memory_gib: plenty')}:17: gpus[{gpu}].memory_gib: ")
    assert "valid number" in problem


def test_a_free_tier_name_must_be_one_of_the_cards_aliases(tmp_path: Path) -> None:
    data = bundled_sections()
    t4 = data["gpus"][index_of(data["gpus"], "t4")]
    t4["free_tier_aliases"] = [*t4["free_tier_aliases"], "paperspace free"]
    [problem] = problems_of(write_kb(tmp_path, data))
    assert "free_tier_aliases: paperspace free not in aliases" in problem


def test_a_number_yaml_reads_as_text_says_how_to_write_it(tmp_path: Path) -> None:
    """An attacker's review: memory_gib: 1e15 got only 'Input should be a valid number' (YAML 1.1
    reads an exponent without '.' and sign as text)."""
    text = bundled_text()
    start = text.index("  - id: rtx-3090\n")
    at = text.index("    memory_gib: 24\n", start)
    text = text[:at] + "    memory_gib: 1e15\n" + text[at + len("    memory_gib: 24\n") :]
    [problem] = problems_of(write_kb(tmp_path, text))
    assert problem.endswith("Input should be a valid number (YAML reads 1e15 as text: write 1.0e+15)")
    start = text.index("  - id: llama-3.1-8b\n")
    at = text.index("    layers: 32\n", start)
    text = text[:at] + "    layers: 3.2e1\n" + text[at + len("    layers: 32\n") :]
    problems = problems_of(write_kb(tmp_path, text))
    assert any(p.endswith("(YAML reads 3.2e1 as text: write 32)") for p in problems)  # a whole number


@pytest.mark.parametrize(
    ("section", "entry", "field", "value"),
    [("models", "llama-3.1-8b", "layers", True), ("gpus", "rtx-3090", "memory_gib", "24")],
)
def test_a_value_of_another_type_is_refused_not_converted(
    tmp_path: Path, section: str, entry: str, field: str, value: object
) -> None:
    """`layers: true` was read as 1 layer (an 8B model sized at 1.27B) and a quoted "24" as 24,
    without a word (a maintainer's review)."""
    data = bundled_sections()
    at = index_of(data[section], entry)
    data[section][at][field] = value
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f"{section}[{at}].{field}: " in problem


def test_missing_required_field(tmp_path: Path) -> None:
    data = bundled_sections()
    del data["gpus"][0]["vendor"]
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith(": gpus[0].vendor: Field required")


def test_dict_keys_are_kept_in_field_paths(tmp_path: Path) -> None:
    data = bundled_sections()
    data["methods"][0]["hyperparameters"]["Warmup"] = 10  # must be {value, note, source}
    [problem] = problems_of(write_kb(tmp_path, data))
    assert ": methods[0].hyperparameters.Warmup: Input should be a valid dictionary" in problem


def test_a_negative_rate_or_a_misspelt_hyperparameter_is_refused(tmp_path: Path) -> None:
    """A review: learning_rate -0.5 validated and went into recipes (torch's AdamW refuses it), and
    learning_rte validated while the recipe took its rate from elsewhere."""
    data = bundled_sections()
    lora = next(m for m in data["methods"] if m["id"] == "lora")
    lora["hyperparameters"]["learning_rate"]["value"] = -0.5
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith("recipes use learning_rate as a number greater than 0, not -0.5")
    # A trainer's own argument that extends one recipes read is no typo (a review: beta1, delta).
    extending = {"value": 0.9, "source": "torch.optim.AdamW betas"}
    lora["hyperparameters"] |= {name: dict(extending) for name in ("beta1", "delta", "num_generations_eval")}
    lora["hyperparameters"]["learning_rate"]["value"] = 2.0e-4
    assert load_knowledge_base(write_kb(tmp_path, data))
    lora["hyperparameters"]["learning_rte"] = lora["hyperparameters"].pop("learning_rate")
    lora["hyperparameters"]["learning_rte"]["value"] = 2.0e-4
    del lora["hyperparameters"]["learning_rte"]["large_models"]  # read for learning_rate only
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith(
        "'learning_rte' is not a hyperparameter recipes read: did you mean 'learning_rate'?"
    )


def test_condition_errors_come_from_the_branch_that_fits(tmp_path: Path) -> None:
    """`when` is a union (comparison / all / any / not): report the branch the value means."""
    data = bundled_sections()
    data["rules"][0]["when"] = {"all": [{"fact": "goal", "op": "equals", "value": "chat"}]}
    problems = problems_of(write_kb(tmp_path, data))
    assert len(problems) == 1, problems
    assert problems[0].endswith(
        ": rules[0].when.all[0].op: Input should be 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in' or 'not_in'"
    )

    data["rules"][0]["when"] = {"fact": "goal", "op": "eq", "value": {"chat": True}}
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith(
        ": rules[0].when.value: Input should be a valid string, a valid boolean, "
        "a valid integer, a valid number or a valid list"
    )

    data["rules"][0]["when"] = {"every": []}
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith(
        ": rules[0].when: a condition is {fact, op, value}, {all: [...]}, {any: [...]} or {not: ...}"
    )


def test_model_validator_error_is_located(tmp_path: Path) -> None:
    data = bundled_sections()
    lora = index_of(data["methods"], "lora")
    del data["methods"][lora]["memory_model"]
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f": methods[{lora}]: Value error, a parameterization method needs a memory_model" in problem


def test_in_measure_is_refused_on_an_exclude(tmp_path: Path) -> None:
    """in_measure says a rule's weight is already in the cost that ranks plans: an excluded plan
    is not ranked, so on an exclude it would mean nothing."""
    data = bundled_sections()
    rule = next(i for i, r in enumerate(data["rules"]) if r["effect"]["action"] == "exclude")
    data["rules"][rule]["effect"]["in_measure"] = True
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f"rules[{rule}].effect: Value error, in_measure is for prefer and avoid" in problem


def test_a_mixture_of_experts_keeps_a_layer_with_experts(tmp_path: Path) -> None:
    """dense_layers equal to layers divided by zero in recommend --lora-experts, and above it gave
    Mixtral -76.6B parameters (a maintainer's review)."""
    data = bundled_sections()
    moe = next(i for i, m in enumerate(data["models"]) if m.get("moe"))
    data["models"][moe]["moe"]["dense_layers"] = data["models"][moe]["layers"]
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f"models[{moe}]: Value error, moe.dense_layers must leave a layer with experts" in problem


def test_a_kb_validate_accepts_cannot_crash_the_engine(tmp_path: Path) -> None:
    """Three KBs validate accepted and recommend then crashed on (a maintainer's review): no `sft`
    objective (the pipeline when no rule matches), a pipeline naming a stage twice (recipes wrote
    its files over each other), a GPU of 1e-300 GB/s (an overflow in the time model)."""
    data = bundled_sections()
    sft = index_of(data["methods"], "sft")
    data["methods"][sft]["kind"] = "parameterization"
    data["methods"][sft]["memory_model"] = "lora"
    problems = problems_of(write_kb(tmp_path, data))
    assert any(
        "no objective 'sft': a training plan runs it when no pipeline rule matches" in p for p in problems
    )
    data = bundled_sections()
    data["pipelines"][0]["pipeline"] = ["sft", "dpo", "sft"]
    [problem] = problems_of(write_kb(tmp_path, data))
    assert "pipelines[0].pipeline[2]: objective 'sft' is already a stage of this pipeline" in problem
    data = bundled_sections()
    data["gpus"][index_of(data["gpus"], "rtx-4090")]["memory_bandwidth_gbs"] = 1e-300
    [problem] = problems_of(write_kb(tmp_path, data))
    assert ".memory_bandwidth_gbs: " in problem


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["rules"][0].update(methods=[]), "rules[0].methods: an empty list selects no method"),
        (lambda d: d["rules"][0].update(methods=["sft"]), "rules[0].methods[0]: 'sft' is an objective"),
        (lambda d: d["methods"][0].update(name=""), "methods[0].name: "),
        (lambda d: d["methods"][0].update(name="  "), "methods[0].name: "),
        (lambda d: d["gpus"][0].update(aliases=["none"]), "gpus[0].aliases[0]: --gpu reads 'none' as no GPU"),
        (lambda d: d["gpus"][0].update(id="cpu"), "gpus[0].id: --gpu reads 'cpu' as no GPU"),
        (
            lambda d: d["gpus"][0].update(aliases=["80GB"]),
            "gpus[0].aliases[0]: --gpu reads '80GB' as a memory",
        ),
        (lambda d: d["gpus"][0].update(aliases=["---"]), "gpus[0].aliases[0]: '---' has no letter"),
        (
            lambda d: d["pipelines"][0].update(id=d["rules"][0]["id"]),
            "pipelines[0].id: id '",
        ),
        (
            lambda d: d["model_families"].append({**d["model_families"][0], "hybrid_thinking": False}),
            ".family: family 'qwen3' is already described by model_families[0]",
        ),
    ],
)
def test_what_validate_let_through_and_nothing_could_use(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    """A maintainer's review: a rule selecting nothing, an empty name (a plan shown as ' (sft)'),
    GPU aliases --gpu can never reach, a pipeline rule sharing a rule's id; a model family
    described twice, saying opposite things."""
    data = bundled_sections()
    mutate(data)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(expected in p for p in problems), problems


def test_a_base_checkpoint_belongs_to_a_post_trained_entry(tmp_path: Path) -> None:
    data = bundled_sections()
    base = next(i for i, m in enumerate(data["models"]) if m.get("variant", "base") == "base")
    data["models"][base]["base_checkpoint"] = "Org/Model-Base"
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f"models[{base}]: Value error, base_checkpoint names the base of a post-trained entry" in problem
    data["models"][base].update(variant="instruct", base_checkpoint="not a hub id")
    [problem] = problems_of(write_kb(tmp_path, data))
    assert f"models[{base}].base_checkpoint" in problem


# --- cross references ---------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _method(method_id: str, key: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["methods"][index_of(data["methods"], method_id)][key] = value

    return mutate


def _rule_when(rule_id: str, when: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["rules"][index_of(data["rules"], rule_id)]["when"] = when

    return mutate


DANGLING: dict[str, tuple[Mutation, str, str]] = {
    "method category": (
        _method("lora", "category", "peft-ish"),
        "methods[{lora}].category",
        "unknown category 'peft-ish'",
    ),
    "category method": (
        _set(("categories", 0, "methods", 0), "full-fine"),
        "categories[0].methods",
        "unknown method 'full-fine'",
    ),
    "rule method": (
        _set(("rules", 0, "methods"), ["lora", "lorax"]),
        "rules[0].methods",
        "unknown method 'lorax'",
    ),
    "pipeline objective": (
        _set(("pipelines", 0, "pipeline"), ["lora"]),
        "pipelines[0].pipeline",
        "unknown objective 'lora'",
    ),
    "guide choose method": (
        _set(("guide", "choose", 0, "methods"), ["fullft"]),
        "guide.choose[0].methods",
        "unknown method 'fullft'",
    ),
    "guide engine rule": (
        _set(("guide", "recommendations", 0, "engine_rules"), ["atlas-9"]),
        "guide.recommendations[0].engine_rules",
        "unknown rule 'atlas-9'",
    ),
    "comparison method": (
        _set(("guide", "comparison", 2, "methods"), ["lora", "qlora2"]),
        "guide.comparison[2].methods",
        "unknown method 'qlora2'",
    ),
    "stage method": (
        _set(("guide", "stages", 0, "methods"), ["sfft"]),
        "guide.stages[0].methods",
        "unknown method 'sfft'",
    ),
    "tool method": (
        _set(("guide", "tools", 0, "methods"), ["full-ft", "x"]),
        "guide.tools[0].methods",
        "unknown method 'x'",
    ),
    "condition GPU": (
        _rule_when(
            "atlas-7.1-big-gpu-full-ft", {"fact": "gpu", "op": "in", "value": ["a100-80gb", "rtx-9090"]}
        ),
        "rules[{atlas-7.1-big-gpu-full-ft}].when.value",
        "unknown GPU 'rtx-9090'",
    ),
    "condition model": (
        _rule_when("atlas-7.1-big-gpu-full-ft", {"not": {"fact": "model", "op": "eq", "value": "llama-9"}}),
        "rules[{atlas-7.1-big-gpu-full-ft}].when.not.value",
        "unknown model 'llama-9'",
    ),
    "condition provider": (
        _rule_when("atlas-7.1-big-gpu-full-ft", {"fact": "api_model_provider", "value": "OpenAl"}),
        "rules[{atlas-7.1-big-gpu-full-ft}].when.value",
        "unknown provider 'OpenAl'",
    ),
    "condition method fact": (
        _rule_when("atlas-7.1-big-gpu-full-ft", {"any": [{"fact": "fits.fullft", "value": True}]}),
        "rules[{atlas-7.1-big-gpu-full-ft}].when.any[0].fact",
        "unknown method 'fullft' in fact 'fits.fullft'",
    ),
}


def _expand(template: str, data: dict[str, Any]) -> str:
    """`methods[{lora}]` -> `methods[7]`: ids in braces become that item's index."""

    def index(match: re.Match[str]) -> str:
        section = match.group(1)
        return f"{section}[{index_of(data[section], match.group(2))}]"

    return re.sub(r"(\w+)\[\{([^}]+)\}\]", index, template)


@pytest.mark.parametrize("case", sorted(DANGLING))
def test_dangling_reference(tmp_path: Path, case: str) -> None:
    mutate, where, message = DANGLING[case]
    data = bundled_sections()
    where = _expand(where, data)
    mutate(data)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(p.endswith(f": {where}: {message}") for p in problems), problems


def _copy_item(section: str, item_id: str, changes: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        item = copy.deepcopy(data[section][index_of(data[section], item_id)])
        item.update(changes)
        data[section].append(item)

    return mutate


def _add_alias(section: str, item_id: str, alias: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        item = data[section][index_of(data[section], item_id)]
        item["aliases"] = [*item.get("aliases", []), alias]

    return mutate


DUPLICATES: dict[str, tuple[Mutation, str, str]] = {
    "method id": (
        _copy_item("methods", "lora", {"name": "Other", "aliases": []}),
        "methods[-1].id",
        "id 'lora' is already used by methods[{lora}]",
    ),
    "method name": (
        _copy_item("methods", "lora", {"id": "lora2", "aliases": []}),
        "methods[-1].name",
        "is already used by methods[{lora}]",
    ),
    "gpu id": (
        _copy_item("gpus", "l4", {"name": "x", "aliases": []}),
        "gpus[-1].id",
        "id 'l4' is already used by gpus[{l4}]",
    ),
    "gpu alias, normalised": (
        _add_alias("gpus", "rtx-4090", "RTX 3090"),
        "gpus[{rtx-4090}].aliases",
        "name or alias 'RTX 3090' is already used by gpus[{rtx-3090}]",
    ),
    "model alias": (
        _add_alias("models", "mistral-7b", "llama_2_7b"),
        "models[{mistral-7b}].aliases",
        "is already used by models[{llama-2-7b}]",
    ),
    "category id": (
        _copy_item("categories", "peft", {}),
        "categories[-1].id",
        "id 'peft' is already used by categories[2]",
    ),
    "rule id": (
        _copy_item("rules", "atlas-3.4-bitfit", {}),
        "rules[-1].id",
        "id 'atlas-3.4-bitfit' is already used by rules[{atlas-3.4-bitfit}]",
    ),
    "pipeline id": (
        _copy_item("pipelines", "ratings-kto", {}),
        "pipelines[-1].id",
        "id 'ratings-kto' is already used by pipelines[{ratings-kto}]",
    ),
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_duplicate_ids_and_aliases(tmp_path: Path, case: str) -> None:
    mutate, where, message = DUPLICATES[case]
    data = bundled_sections()
    section = where.split("[")[0]
    where = _expand(where, data).replace("[-1]", f"[{len(data[section])}]")
    message = _expand(message, data)
    mutate(data)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(f": {where}" in p and p.endswith(message) for p in problems), problems


def test_duplicate_is_reported_once_per_pair(tmp_path: Path) -> None:
    data = bundled_sections()
    data["methods"].append(copy.deepcopy(data["methods"][0]))  # same id, name and every alias
    last = len(data["methods"]) - 1
    [problem] = problems_of(write_kb(tmp_path, data))
    assert problem.endswith(f": methods[{last}].id: id 'full-ft' is already used by methods[0]")


def test_duplicate_guide_rule_id(tmp_path: Path) -> None:
    data = bundled_sections()
    data["guide"]["recommendations"][0]["id"] = "atlas-3.1"
    problems = problems_of(write_kb(tmp_path, data))
    assert any(
        p.endswith(": guide.recommendations[0].id: id 'atlas-3.1' is already used by guide.choose[0]")
        for p in problems
    ), problems


def test_category_lists_a_method_of_another_category(tmp_path: Path) -> None:
    data = bundled_sections()
    data["categories"][0]["methods"].append("lora")
    problems = problems_of(write_kb(tmp_path, data))
    position = len(data["categories"][0]["methods"]) - 1
    assert any(
        p.endswith(
            f": categories[0].methods[{position}]: method 'lora' belongs to category 'peft', not 'full-ft'"
        )
        for p in problems
    ), problems


# --- several problems at once ----------------------------------------------------------------------


def test_every_schema_problem_is_listed(tmp_path: Path) -> None:
    data = bundled_sections()
    data["gpus"][0]["vendor"] = "intel"
    data["models"][3]["layers"] = -1
    data["methods"][5]["typo"] = True
    problems = problems_of(write_kb(tmp_path, data))
    assert len(problems) == 3, problems
    assert [p.split(": ")[1] for p in problems] == ["methods[5].typo", "gpus[0].vendor", "models[3].layers"]


def test_every_cross_reference_problem_is_listed(tmp_path: Path) -> None:
    data = bundled_sections()
    data["methods"][0]["category"] = "nope"
    data["rules"][1]["methods"] = ["nope"]
    data["gpus"].append(copy.deepcopy(data["gpus"][0]))
    problems = problems_of(write_kb(tmp_path, data))
    tails = sorted(p.split(": ", 1)[1] for p in problems)
    assert tails == [
        "categories[0].methods[0]: method 'full-ft' belongs to category 'nope', not 'full-ft'",
        f"gpus[{len(data['gpus']) - 1}].id: id 'v100-16gb' is already used by gpus[0]",
        "methods[0].category: unknown category 'nope'",
        "rules[1].methods: unknown method 'nope'",
    ]


def test_schema_and_cross_reference_problems_are_listed_together(tmp_path: Path) -> None:
    data = bundled_sections()
    lora, bitfit = index_of(data["methods"], "lora"), index_of(data["methods"], "bitfit")
    data["gpus"][0]["memory_gib"] = "lots"  # schema
    data["rules"][1]["methods"] = ["nope"]  # cross reference
    data["methods"][bitfit]["kind"] = None  # schema, in an item whose id others still use
    data["methods"].append({"id": "lora", "name": 3})  # both
    problems = problems_of(write_kb(tmp_path, data))
    tails = [p.split(": ", 1)[1] for p in problems]
    last = len(data["methods"]) - 1
    assert "rules[1].methods: unknown method 'nope'" in tails
    assert f"methods[{last}].id: id 'lora' is already used by methods[{lora}]" in tails
    assert any(t.startswith("gpus[0].memory_gib: ") for t in tails)
    assert any(t.startswith(f"methods[{bitfit}].kind: ") for t in tails)
    assert not any("unknown method 'bitfit'" in t for t in tails)  # its id still counts


def test_every_yaml_problem_in_every_file_is_listed(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    write_kb(kb_dir, "gpus:\n  - id: a\n    id: b\n  - name: c\n    name: d\n", "a.yaml")
    write_kb(kb_dir, "models: [1, 2\n", "b.yaml")
    write_kb(kb_dir, "methods: !!python/object:os.system {}\n", "c.yaml")
    problems = problems_of(kb_dir)
    assert [p.split(": ")[0] for p in problems] == [
        f"{kb_dir / 'a.yaml'}:3:5",
        f"{kb_dir / 'a.yaml'}:5:5",
        f"{kb_dir / 'b.yaml'}:1:14",
        f"{kb_dir / 'c.yaml'}:1:10",
    ]


def test_cli_lists_every_problem_with_field_paths(tmp_path: Path, run: Runner) -> None:
    data = bundled_sections()
    data["gpus"][0]["memory_gib"] = "lots"
    data["methods"][1]["ratings"]["speed"] = "warp"
    path = write_kb(tmp_path, data)
    lines = assert_cli_invalid(run("validate", str(path)), "gpus[0].memory_gib", "methods[1].ratings.speed")
    assert len(lines) == 2
    for line in lines:
        assert FIELD_LOCATED.match(line), line
    assert "(2 problems)" in run("validate", str(path)).stderr


# --- choosing the KB: --kb and FT_ATLAS_KB -------------------------------------------------------


@pytest.fixture
def tiny_kb(tmp_path: Path) -> Path:
    """The bundled KB with LoRA renamed: a KB whose output shows that it was used."""
    data = bundled_sections()
    data["methods"][index_of(data["methods"], "lora")]["name"] = "LoRA from the tiny KB"
    return write_kb(tmp_path, data, "tiny.yaml")


@pytest.fixture
def broken_kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path, "methods: [\n", "broken.yaml")


def _lora_name(stdout_json: Any) -> str:
    return str(next(m["name"] for m in stdout_json["methods"] if m["id"] == "lora"))


def test_kb_option_switches_the_kb(run: Runner, tiny_kb: Path) -> None:
    result = run("--kb", str(tiny_kb), "methods", "--json")
    assert result.exit_code == 0, result.stderr
    assert _lora_name(result.json()) == "LoRA from the tiny KB"
    default = run("methods", "--json")
    assert _lora_name(default.json()) != "LoRA from the tiny KB"


def test_env_var_switches_the_kb(run: Runner, tiny_kb: Path) -> None:
    result = run("methods", "--json", env={"FT_ATLAS_KB": str(tiny_kb)})
    assert result.exit_code == 0, result.stderr
    assert _lora_name(result.json()) == "LoRA from the tiny KB"
    shown = run("show", "lora", "--json", env={"FT_ATLAS_KB": str(tiny_kb)})
    assert shown.exit_code == 0, shown.stderr
    assert "LoRA from the tiny KB" in shown.stdout


def test_kb_option_wins_over_env_var(run: Runner, tiny_kb: Path, broken_kb: Path) -> None:
    result = run("--kb", str(tiny_kb), "methods", "--json", env={"FT_ATLAS_KB": str(broken_kb)})
    assert result.exit_code == 0, result.stderr
    assert _lora_name(result.json()) == "LoRA from the tiny KB"


def test_empty_env_var_means_bundled_kb(run: Runner) -> None:
    result = run("methods", "--json", env={"FT_ATLAS_KB": ""})
    assert result.exit_code == 0, result.stderr


def test_validate_checks_the_selected_kb(run: Runner, tiny_kb: Path, broken_kb: Path) -> None:
    assert run("--kb", str(tiny_kb), "validate").stdout.startswith(f"{tiny_kb}: valid")
    assert_cli_invalid(run("validate", env={"FT_ATLAS_KB": str(broken_kb)}), f"{broken_kb}:1:11:")
    # An explicit PATH argument wins over both.
    assert run("--kb", str(broken_kb), "validate", str(tiny_kb)).exit_code == 0


# Arguments that let each command get as far as loading the KB; `schema` does not use the KB.
KB_COMMANDS: dict[str, tuple[str, ...]] = {
    "methods": ("--json",),
    "show": ("lora",),
    "compare": ("lora", "qlora"),
    "categories": (),
    "tools": (),
    "gpus": (),
    "models": (),
    "model": ("llama-3.1-8b",),
    "guide": (),
    "validate": (),
    "estimate": ("--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--method", "lora"),
    "recommend": ("--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"),
    "ask": ("--no-input", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"),
    "recipe": ("--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat"),
    "export": ("--format", "html"),
}
NO_KB_COMMANDS = {"schema"}


def test_every_command_is_covered_by_the_kb_switch_tests() -> None:
    import typer.main

    from atlas_cli.cli import app

    group = typer.main.get_command(app)
    names = set(getattr(group, "commands", {}))
    assert names - NO_KB_COMMANDS <= set(KB_COMMANDS), "add the new command to KB_COMMANDS"


@pytest.mark.parametrize("command", sorted(KB_COMMANDS))
def test_every_command_uses_the_selected_kb(
    run: Runner, broken_kb: Path, tiny_kb: Path, command: str
) -> None:
    args = KB_COMMANDS[command]
    assert_cli_invalid(run("--kb", str(broken_kb), command, *args), f"{broken_kb}:1:11:")
    assert_cli_invalid(run(command, *args, env={"FT_ATLAS_KB": str(broken_kb)}), f"{broken_kb}:1:11:")
    fine = run("--kb", str(tiny_kb), command, *args, input="")
    assert fine.exit_code == 0, (command, fine.stderr)


# --- look-ups --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "gpu_id"),
    [
        ("3090", "rtx-3090"),
        ("RTX3090", "rtx-3090"),
        ("rtx 3090", "rtx-3090"),
        ("RTX-3090", "rtx-3090"),
        ("A100 80GB", "a100-80gb"),
        ("a100_80gb", "a100-80gb"),
        ("H100", "h100-80gb"),
        ("4090", "rtx-4090"),
    ],
)
def test_gpu_aliases(catalog: Catalog, query: str, gpu_id: str) -> None:
    assert catalog.gpu(query).id == gpu_id


def test_unknown_gpu_suggests_close_names(catalog: Catalog) -> None:
    with pytest.raises(UsageError) as caught:
        catalog.gpu("rtx 3095")
    assert "rtx-3090" in caught.value.suggestions
    assert "did you mean" in str(caught.value)


def test_method_and_model_names(catalog: Catalog) -> None:
    assert catalog.method("LoRA").id == "lora"
    assert catalog.method("Full Fine-Tuning").id == "full-ft"
    assert catalog.model("bert-base-uncased").id == "bert-base"
    with pytest.raises(UsageError):
        catalog.method("no such method at all")


SCHEMA_PROBLEMS: dict[str, tuple[Mutation, str, str]] = {
    "unknown field": (
        _set(("methods", 0, "typo"), True),
        "methods[0].typo",
        "Extra inputs are not permitted",
    ),
    "bad enum value": (_set(("gpus", 1, "vendor"), "intel"), "gpus[1].vendor", "Input should be 'nvidia'"),
    "wrong type": (_set(("models", 2, "layers"), "many"), "models[2].layers", "valid integer"),
    "dangling reference": (
        _set(("rules", 2, "methods"), ["nope"]),
        "rules[2].methods",
        "unknown method 'nope'",
    ),
    "duplicate id": (_copy_item("rules", "atlas-3.4-bitfit", {}), "rules[", "is already used by rules["),
    "duplicate alias": (_add_alias("gpus", "l4", "4090"), "gpus[", "name or alias '4090' is already used"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_PROBLEMS))
def test_schema_problems_through_the_cli(tmp_path: Path, run: Runner, case: str) -> None:
    mutate, where, message = SCHEMA_PROBLEMS[case]
    data = bundled_sections()
    mutate(data)
    path = write_kb(tmp_path, data)
    for result in (run("validate", str(path)), run("--kb", str(path), "gpus", "--json")):
        [line] = assert_cli_invalid(result, where, message)
        assert FIELD_LOCATED.match(line), line
        assert line.startswith(f"{path}:")


def test_problem_inside_an_alias_is_located_at_the_alias(tmp_path: Path) -> None:
    data = bundled_sections()
    gpus = data.pop("gpus")
    text = dump(data) + "gpus:\n" + f"  - &first {json.dumps(gpus[0])}\n"
    text += "".join(f"  - {json.dumps(g)}\n" for g in gpus[1:]) + "  - *first\n"
    path = write_kb(tmp_path, text)
    [problem] = problems_of(path)
    alias_line = text.count("\n", 0, text.index("*first")) + 1
    assert problem.startswith(f"{path}:{alias_line}:5: gpus[{len(gpus)}].id: id 'v100-16gb' is already used")


def test_a_value_for_large_sets_is_read_only_for_the_passes_over_the_data(tmp_path: Path) -> None:
    """Time and recipes read `large_sets` of num_train_epochs alone: on another hyperparameter it
    would be accepted and silently ignored (a maintainer's review)."""
    data = bundled_sections()
    sft = next(m for m in data["methods"] if m["id"] == "sft")
    rate = sft["hyperparameters"]["learning_rate"]
    rate["large_sets"] = {"examples": 100000, "value": 1.0e-5, "source": "a test"}
    problems = problems_of(write_kb(tmp_path, data))
    assert any("large_sets is read for num_train_epochs only, not for learning_rate" in p for p in problems)


def test_a_value_for_large_models_is_read_only_for_the_learning_rate(tmp_path: Path) -> None:
    """The recipes read a model's size for its learning rate alone: elsewhere `large_models` would
    be accepted and silently ignored; and it must give a value."""
    data = bundled_sections()
    sft = next(m for m in data["methods"] if m["id"] == "sft")
    sized = {"params_b": 30, "value": 512.0, "source": "a test"}
    sft["hyperparameters"]["max_length"]["large_models"] = sized
    problems = problems_of(write_kb(tmp_path, data, "other.yaml"))
    assert any("large_models is read for learning_rate only, not for max_length" in p for p in problems)
    del sft["hyperparameters"]["max_length"]["large_models"]
    sft["hyperparameters"]["learning_rate"]["large_models"] = {"params_b": 30, "source": "a test"}
    problems = problems_of(write_kb(tmp_path, data, "empty.yaml"))
    assert any("give value, with_peft, or both" in p for p in problems)
