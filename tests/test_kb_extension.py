"""A method, rule, GPU or model added to the knowledge base as data alone reaches every command."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_cli.kb.files import bundled_kb_path
from tests.conftest import Runner, fails, ok

LORA_PLUS = {
    "id": "lora-plus",
    "name": "LoRA+",
    "category": "peft",
    "kind": "parameterization",
    "tags": ["low-rank", "adapter"],
    "memory_model": "lora",
    "summary": "LoRA with a larger learning rate for B than for A.",
    "trains": "Low-rank matrices A and B",
    "ratings": {"memory": "low", "speed": "fast", "quality": "near-full"},
    "use_when": ["As LoRA"],
    "avoid_when": ["As LoRA"],
    "data": "As LoRA",
    "hardware": "As LoRA",
    "libraries": [{"library": "peft", "entry": "peft.LoraConfig + loraplus optimizer"}],
    "hyperparameters": {"learning_rate": {"value": 2.0e-4, "source": "a test"}},
    "snippet": "print('LoRA+')",
    "source": ["a test"],
}


@pytest.fixture(scope="module")
def kb_with_lora_plus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled KB with one method added to data/methods.yaml, and nothing else changed."""
    kb = tmp_path_factory.mktemp("kb") / "data"
    shutil.copytree(bundled_kb_path(), kb)
    methods = yaml.safe_load((kb / "methods.yaml").read_text(encoding="utf-8"))
    methods["methods"].append(LORA_PLUS)
    (kb / "methods.yaml").write_text(yaml.safe_dump(methods, allow_unicode=True), encoding="utf-8")
    guide = yaml.safe_load((kb / "guide.yaml").read_text(encoding="utf-8"))
    peft = next(c for c in guide["categories"] if c["id"] == "peft")
    peft["methods"].append("lora-plus")
    (kb / "guide.yaml").write_text(yaml.safe_dump(guide, allow_unicode=True), encoding="utf-8")
    return kb


def test_a_method_added_as_data_reaches_every_command(run: Runner, kb_with_lora_plus: Path) -> None:
    kb = ["--kb", str(kb_with_lora_plus)]
    ok(run(*kb, "validate"))
    assert "lora-plus" in [m["id"] for m in ok(run(*kb, "methods", "--json")).json()["methods"]]
    assert ok(run(*kb, "show", "lora-plus", "--json")).json()["method"]["name"] == "LoRA+"
    assert "LoRA+" in ok(run(*kb, "compare", "lora", "lora-plus")).stdout
    labels = [
        e["label"] for e in ok(run(*kb, "estimate", "--model-size", "7b", "--json")).json()["estimates"]
    ]
    assert "LoRA+" in labels
    profile = ["--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--goal", "chat"]
    ranked = ok(run(*kb, "recommend", *profile, "--top", "30", "--json")).json()["recommendations"]
    assert "lora-plus" in [p["method"] for p in ranked]
    rank = next(p["rank"] for p in ranked if p["method"] == "lora-plus")
    recipe = ok(run(*kb, "recipe", *profile, "--plan", str(rank)))
    compile(recipe.stdout, "recipe.py", "exec")


def test_a_method_added_as_data_obeys_class_rules(run: Runner, kb_with_lora_plus: Path) -> None:
    kb = ["--kb", str(kb_with_lora_plus)]
    api = ok(
        run(*kb, "recommend", "--model-access", "api", "--model-size", "7b", "--explain", "--json")
    ).json()
    assert "lora-plus" not in [p["method"] for p in api["recommendations"]]
    excluded = next(p for p in api["excluded"] if p["method"] == "lora-plus")
    assert "api-only-no-training" in excluded["rules"]
    no_gpu = ok(run(*kb, "recommend", "--gpu", "none", "--model-size", "7b", "--json")).json()
    assert "lora-plus" not in [p["method"] for p in no_gpu["recommendations"]]


def test_a_format_module_registering_another_name_is_named_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--trainer offers module names without importing them; a module registering another name
    ('torchtune' in torchtune_yaml.py) was refused by one name and crashed with a KeyError on the
    other (a maintainer's review): the mismatch is named where the formats load."""
    import importlib

    from atlas_cli.plugins import Plugins

    package = tmp_path / "some_formats"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "torchtune_yaml.py").write_text(
        "from types import SimpleNamespace\nimport registry_under_test\n"
        "registry_under_test.PLUGINS.register(SimpleNamespace(name='torchtune'))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    holder = tmp_path / "registry_under_test.py"
    holder.write_text("PLUGINS = None\n")
    registry = importlib.import_module("registry_under_test")
    registry.PLUGINS = Plugins(importlib.import_module("some_formats"))
    with pytest.raises(RuntimeError, match="do not match: torchtune, torchtune_yaml"):
        registry.PLUGINS.loaded()


def test_a_cards_rank_and_soft_prompt_length_size_the_plan_as_they_write_it(
    run: Runner, tmp_path: Path
) -> None:
    """A maintainer set LoRA's r to 64 and prefix tuning's num_virtual_tokens to 2000: `show`
    printed them, the recipe wrote 2000, but every estimate used 16 and 20, Python constants."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    methods = yaml.safe_load((kb / "methods.yaml").read_text(encoding="utf-8"))
    cards = {m["id"]: m for m in methods["methods"]}
    cards["lora"]["hyperparameters"]["r"]["value"] = 64
    cards["prefix-tuning"]["hyperparameters"]["num_virtual_tokens"]["value"] = 2000
    (kb / "methods.yaml").write_text(yaml.safe_dump(methods, allow_unicode=True), encoding="utf-8")
    args = ("--kb", str(kb), "estimate", "--model", "llama-3.1-8b", "--gpu", "a100-80gb", "--json")
    lora = ok(run(*args, "--method", "lora")).json()
    assert lora["assumptions"]["lora_rank"] == 64
    assert ok(run(*args, "--method", "lora", "--lora-rank", "8")).json()["assumptions"]["lora_rank"] == 8
    bundled = (
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "a100-80gb",
        "--method",
        "prefix-tuning",
        "--json",
    )
    longer = ok(run(*args, "--method", "prefix-tuning")).json()["trainable_params_b"]
    assert longer == pytest.approx(100 * ok(run(*bundled)).json()["trainable_params_b"], rel=0.01)
    plans = ok(run("--kb", str(kb), "recommend", "--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--json"))
    first = next(p for p in plans.json()["recommendations"] if p["method"] == "lora")
    assert first["assumptions"]["lora_rank"] == 64


def test_ranks_are_read_as_their_recipes_write_them(run: Runner, tmp_path: Path) -> None:
    """A maintainer's review of the card ranks: r written 64.0 was ignored (16 used); AdaLoRA with
    both r and init_r was sized by r while its recipe writes init_r; the QLoRA a LoRA plan is told
    to try was sized at LoRA's rank, not QLoRA's own."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    methods = yaml.safe_load((kb / "methods.yaml").read_text(encoding="utf-8"))
    cards = {m["id"]: m for m in methods["methods"]}
    cards["lora"]["hyperparameters"]["r"]["value"] = 512.0
    cards["adalora"]["hyperparameters"]["r"] = {"value": 4, "source": "a test"}
    (kb / "methods.yaml").write_text(yaml.safe_dump(methods, allow_unicode=True), encoding="utf-8")
    args = ("--kb", str(kb), "estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--json")
    lora = ok(run(*args, "--method", "lora")).json()
    assert lora["assumptions"]["lora_rank"] == 512
    assert ok(run(*args, "--method", "adalora")).json()["assumptions"]["lora_rank"] == 12
    qlora = ok(run(*args, "--method", "qlora")).json()
    suggested = next(c for c in lora["to_fit"] if c["change"] == "method")
    assert suggested["per_gpu_gb"] == pytest.approx(qlora["per_gpu_gb"], abs=0.01)


def _objective_copy(methods: dict[str, list[dict[str, object]]], of: str, new_id: str) -> dict[str, object]:
    card = dict(next(m for m in methods["methods"] if m["id"] == of))
    card.update(id=new_id, name=new_id.upper(), aliases=[])
    return card


@pytest.fixture(scope="module")
def kb_with_objectives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled KB with two objectives added as data: IPO, trained as DPO is (pairs, a
    reference model), and a GRPO that samples 4 completions per prompt instead of 8."""
    kb = tmp_path_factory.mktemp("kb") / "data"
    shutil.copytree(bundled_kb_path(), kb)
    methods = yaml.safe_load((kb / "methods.yaml").read_text(encoding="utf-8"))
    ipo = _objective_copy(methods, "dpo", "ipo")
    fewer = _objective_copy(methods, "grpo", "grpo-four")
    hyperparameters = dict(fewer["hyperparameters"])  # type: ignore[call-overload]
    hyperparameters["num_generations"] = {"value": 4, "source": "a test"}
    fewer["hyperparameters"] = hyperparameters
    methods["methods"] += [ipo, fewer]
    (kb / "methods.yaml").write_text(yaml.safe_dump(methods, allow_unicode=True), encoding="utf-8")
    guide = yaml.safe_load((kb / "guide.yaml").read_text(encoding="utf-8"))
    category = next(c for c in guide["categories"] if "dpo" in c["methods"])
    category["methods"] += ["ipo", "grpo-four"]
    (kb / "guide.yaml").write_text(yaml.safe_dump(guide, allow_unicode=True), encoding="utf-8")
    return kb


def test_an_objective_added_as_data_is_sized_by_its_training_block(
    run: Runner, kb_with_objectives: Path
) -> None:
    """Memory and time read how an objective trains from its card: a YAML-only objective used to
    be sized as SFT (one sequence, no reference model, no sampling)."""
    kb = ["--kb", str(kb_with_objectives)]
    ok(run(*kb, "validate"))  # --strict also asks for the new names in Russian
    plan = ["--model", "llama-3.1-8b", "--gpu", "a100-80gb", "--examples", "1000", "--json"]

    def estimated(method: str, objective: str) -> dict[str, Any]:
        found: dict[str, Any] = ok(
            run(*kb, "estimate", *plan, "--method", method, "--objective", objective)
        ).json()
        return found

    ipo, dpo, sft = (estimated("full-ft", o) for o in ("ipo", "dpo", "sft"))
    assert ipo["breakdown"] == dpo["breakdown"] != sft["breakdown"]
    assert ipo["time"]["hours"] == dpo["time"]["hours"]
    four, eight = estimated("lora", "grpo-four"), estimated("lora", "grpo")
    # Half the completions per prompt: sampling takes less time, but some (it samples at once).
    assert 0 < four["time"]["generation_hours"] < eight["time"]["generation_hours"]


def test_an_objective_without_a_training_block_is_refused_where_it_is_written(
    run: Runner, tmp_path: Path
) -> None:
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "methods.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: orpo\n")
    block = text.index("    training:", start)
    end = text.index("    libraries:", block)
    path.write_text(text[:block] + text[end:], encoding="utf-8")
    result = run("--kb", str(kb), "validate")
    assert result.exit_code == 3
    assert "methods.yaml" in result.stderr and "training" in result.stderr


@pytest.mark.parametrize("count", ["1000000000", "1"])
def test_num_generations_is_bounded(run: Runner, tmp_path: Path, count: str) -> None:
    """A billion completions per prompt passed validate and gave a 90-million-day estimate; one
    passed too, and the recipe wrote a num_generations TRL refuses (fewer than 2)."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "methods.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("num_generations: {value: 8,", f"num_generations: {{value: {count},"), encoding="utf-8"
    )
    result = run("--kb", str(kb), "validate")
    assert result.exit_code == 3 and "num_generations" in result.stderr


def test_a_denormal_training_mfu_is_refused(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: mfu_vs_a100 5e-324 passed validate (gt=0) and the time model divided by
    it, exit 1 in recommend, estimate, recipe and export."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "gpus.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    mfu_vs_a100: 0.71\n", "    mfu_vs_a100: 5.0e-324\n", 1), encoding="utf-8"
    )
    result = run("--kb", str(kb), "validate")
    assert result.exit_code == 3 and "mfu_vs_a100" in result.stderr


@pytest.mark.parametrize(
    ("targets", "said"),
    [
        ('["q_proj${", "v_proj"]', "reads as an interpolation"),
        ('["q_proj,k_proj", "v_proj"]', "holds a comma"),
    ],
)
def test_a_kb_value_llamafactory_would_misread_is_refused_for_it(
    run: Runner, tmp_path: Path, targets: str, said: str
) -> None:
    """An attacker's review: LoRA targets from a KB that validate accepts reached LLaMA-Factory's
    YAML as 'q_proj${' (its OmegaConf loader refuses the file) or split at a comma."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "methods.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('target_modules: {value: "all-linear",', f"target_modules: {{value: {targets},", 1)
    )
    ok(run("--kb", str(kb), "validate"))
    profile = ("recipe", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--out", "-")
    fails(run("--kb", str(kb), *profile, "--trainer", "llamafactory"), 2, said, "--trainer python or axolotl")
    ok(run("--kb", str(kb), *profile, "--trainer", "python"))


def test_how_an_objective_packs_is_read_from_its_card(run: Runner, tmp_path: Path) -> None:
    """Continued pre-training's "wrapped" packing (documents cut into full rows that attention
    spans whole) was decided by its id in the recipes and by its packing default in the time
    model: a card that packs "bfd" must change both, and "wrapped" without packing is refused."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "methods.yaml"
    text = path.read_text(encoding="utf-8")
    wrapped = "      packing_strategy: wrapped"
    assert text.count(wrapped) == 1
    path.write_text(text.replace(wrapped, "      packing_strategy: bfd"), encoding="utf-8")
    plan = ("--model", "llama-3.1-8b", "--gpu", "a100-80gb", "--method", "lora", "--objective")
    timed = (*plan, "continued-pretraining", "--examples", "1000", "--tokens-per-example", "500")
    long = ("--seq-len", "32768", "--json")
    bfd = ok(run("--kb", str(kb), "estimate", *timed, *long)).json()["time"]["hours"]
    bundled = ok(run("estimate", *timed, *long)).json()["time"]["hours"]
    assert bfd < bundled  # each 500-token document attends to itself, not to a 32k row
    text_data = ("--model", "llama-3.1-8b", "--gpu", "a100-80gb", "--data-kind", "text")
    script = ok(run("--kb", str(kb), "recipe", *text_data, "--trainer", "python"))
    assert "STAGES = ('continued-pretraining',)" in script.stdout
    assert "packing_strategy" not in script.stdout and "packing" in script.stdout
    unpacked = text.replace("      packing: true\n" + wrapped, "      packing: false\n" + wrapped)
    path.write_text(unpacked, encoding="utf-8")
    refused = run("--kb", str(kb), "validate")
    assert refused.exit_code == 3 and "packing_strategy" in refused.stderr


def test_only_a_paired_objective_may_drop_long_examples(run: Runner, tmp_path: Path) -> None:
    """A diff review: drops_long on SFT passed validate, and its recipe then said longer pairs were
    left out where SFT cuts them."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / "methods.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: sft\n")
    block = text.index("    training:", start) + len("    training:")
    line_end = text.index("\n", block)
    added = text[: line_end + 1] + "      drops_long: true\n" + text[line_end + 1 :]
    path.write_text(added, encoding="utf-8")
    result = run("--kb", str(kb), "validate")
    assert result.exit_code == 3 and "drops_long" in result.stderr


def _kb_without(tmp_path: Path, file: str, line: str) -> list[str]:
    """The bundled KB with every line of `file` that starts `line` (after its indent) removed."""
    kb = tmp_path / "data"
    shutil.copytree(bundled_kb_path(), kb)
    path = kb / file
    kept = [row for row in path.read_text(encoding="utf-8").splitlines() if not row.lstrip().startswith(line)]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return ["--kb", str(kb)]


def test_a_kb_that_measured_no_macs_working_set_still_sizes_a_mac(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a KB without reported_memory_mib passed validate, then every command
    that picked an Apple chip exited 1 (min() of no measured Mac)."""
    kb = _kb_without(tmp_path, "gpus.yaml", "reported_memory_mib:")
    ok(run(*kb, "validate"))
    ok(run(*kb, "gpus"))
    mac = ok(run(*kb, "recommend", "--gpu", "M3 Pro 18GB", "--model-size", "1b", "--json")).json()
    assert mac["recommendations"]


def test_a_kb_without_learning_rates_still_writes_an_mlx_recipe(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a KB without learning_rate passed validate, then the Mac recipe exited 1
    (KeyError 'lr.sft'); it takes mlx-lm's own default, as the other formats fall back to theirs."""
    kb = _kb_without(tmp_path, "methods.yaml", "learning_rate:")
    ok(run(*kb, "validate"))
    profile = ("--gpu", "M3 Pro 18GB", "--model", "llama-3.2-1b", "--goal", "chat", "--examples", "2000")
    assert (
        "learning_rate: 1.0e-05" in ok(run(*kb, "recipe", *profile, "--trainer", "mlx", "--out", "-")).stdout
    )
