"""Every emitted config, checked by the trainers' own code: axolotl's config validation and freeze
helper, LLaMA-Factory's argument parser (and, for first stages, its loaders up to the optimizer),
accelerate's and DeepSpeed's config loaders for the launcher files; the Python recipes run at
the minimum library versions their header states.

The trainers pin conflicting library versions, so each runs in its own virtual environment
(tests/validators/README.md), made by `.ci/validators.sh` and named by FT_ATLAS_VALIDATORS.
Without it these tests are skipped, except under CI, where they must run.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_cli.errors import UsageError
from atlas_cli.recipes.registry import Rendered
from atlas_cli.recipes.settings import MINIMUM_VERSIONS, Recipe
from atlas_cli.recipes.writer import write_recipe
from tests.test_recipes import CASES, CATALOG, Case, recommend

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent / "validators"
# Multi-GPU profiles: ZeRO-3 (a 70B model on four A100s), CPU offload (on two RTX 4090s), data
# parallel (an 8B model on two A100s), two nodes (16 H100s) and sequence parallelism, so that every
# launcher config is checked.
MULTI_GPU = [
    {"gpu": "a100-80gb", "gpus": "4", "model": "llama-3.1-70b", "data_kind": "preferences"},
    {"gpu": "rtx-4090", "gpus": "2", "model": "llama-3.1-70b", "goal": "chat"},
    {"gpu": "a100-80gb", "gpus": "2", "model": "llama-3.1-8b", "data_kind": "ratings"},
    {"gpu": "h100-80gb", "gpus": "16", "model": "llama-3.1-70b", "goal": "chat"},  # two nodes
    # 256k tokens: each sequence split over GPUs (DeepSpeed Ulysses, accelerate's parallelism_config)
    {
        "gpu": "h100-80gb",
        "gpus": "8",
        "model": "llama-3.1-8b",
        "data_kind": "demonstrations",
        "seq_len": "256k",
    },
    # GRPO over 4 GPUs: axolotl checks one GPU's micro-batch x accumulation against
    # num_generations x world size unless trl.generation_batch_size is written.
    {"gpu": "h100-80gb", "gpus": "4", "model": "qwen3-8b", "data_kind": "reward-function", "examples": "5k"},
]


def environment(name: str) -> Path:
    root = os.environ.get("FT_ATLAS_VALIDATORS")
    python = Path(root or ".") / name / "bin" / "python"
    if root and python.exists():
        return python
    if os.environ.get("CI"):
        pytest.fail(f"FT_ATLAS_VALIDATORS names no {name} environment: .ci/run makes it (.ci/validators.sh)")
    pytest.skip("FT_ATLAS_VALIDATORS is not set: run .ci/validators.sh DIR and set it to DIR")


@dataclass(frozen=True)
class Emitted:
    name: str
    recipe: Recipe
    rendered: Rendered


def multi_gpu_cases() -> list[Case]:
    cases: dict[str, Case] = {}
    for raw in MULTI_GPU:
        rec = recommend(**raw)
        for rank, plan in enumerate(rec.plans, 1):
            if plan.kind != "no-training":
                cases.setdefault(
                    f"{plan.method}-{'+'.join(plan.pipeline)}-{raw['gpus']}gpu", Case("", rec, rank)
                )
    return [Case(name, c.rec, c.rank) for name, c in sorted(cases.items())]


# Mixtures of experts: axolotl quantizes a QLoRA base's fused experts (quantize_moe_experts),
# which its validation accepts only with the nn.Linear layers named (no lora_target_linear); and
# gpt-oss, which has no SDPA kernel, loads a hub kernel (attn_implementation).
MOE = [
    {"gpu": "h100-80gb", "model": "qwen3-30b-a3b", "goal": "chat", "examples": "5k"},
    {"gpu": "h100-80gb", "model": "gpt-oss-20b", "goal": "chat", "examples": "5k"},
]
# A vision-language model: axolotl's LoRA on the text model's layers only, named by a path regex.
# (LLaMA-Factory's loader needs the model's own image processor, which the tiny stand-in lacks.)
VISION = [{"gpu": "rtx-4090", "model": "gemma-3-12b-it", "goal": "adapt", "data_kind": "demonstrations"}]
# QLoRA under ZeRO-3, SFT then DPO (a 70B model on two 48 GB L40S, which hold its 4-bit base whole
# within the safety margin, as the DeepSpeed recipes load it): the SFT config checkpoints
# reentrantly, the DPO one keeps axolotl's non-reentrant default for rl stages.
ZERO3_QLORA = [{"gpu": "l40s", "gpus": "2", "model": "llama-3.1-70b", "data_kind": "preferences"}]
# QLoRA that fits only with its 4-bit base loaded shard by shard: FSDP1 with
# qlora_sharded_model_loading (70B on two 40 GB cards, where axolotl's own loss still fits), and
# with its parameters offloaded too (70B on two 24 GB cards: fsdp_config offload_params).
SHARD_LOADED_QLORA = [
    {
        "gpu": "a100-40gb",
        "gpus": "2",
        "model": "llama-3.1-70b",
        "goal": "chat",
        "data_kind": "demonstrations",
    },
    {"gpu": "rtx-3090", "gpus": "2", "model": "llama-2-70b", "goal": "chat", "data_kind": "demonstrations"},
]


def lora_cases(profiles: list[dict[str, str]]) -> list[Case]:
    cases = []
    for raw in profiles:
        rec = recommend(**raw)
        cases += [
            Case(f"{plan.method}-{'+'.join(plan.pipeline)}-{raw['model']}", rec, rank)
            for rank, plan in enumerate(rec.plans, 1)
            if plan.method in ("lora", "qlora")
        ]
    return cases


def emitted(fmt: str) -> Iterator[Emitted]:
    own = [] if fmt != "axolotl" else lora_cases(VISION + ZERO3_QLORA + SHARD_LOADED_QLORA)
    for case in [*CASES, *multi_gpu_cases(), *lora_cases(MOE), *own]:
        try:
            recipe, rendered = write_recipe(CATALOG, case.rec, case.rank, fmt)
        except UsageError:
            continue
        if recipe.plan.kind != "no-training":
            yield Emitted(case.name, recipe, rendered)


def write(root: Path, item: Emitted) -> Path:
    folder = root / item.name
    folder.mkdir(parents=True)
    for file in item.rendered.files:
        (folder / file.name).write_text(file.text, encoding="utf-8")
    write_data(folder)
    return folder


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def write_data(folder: Path) -> None:
    """The files the configs name (sft.jsonl, ...) and LLaMA-Factory's dataset_info.json."""
    data = folder / "data"
    data.mkdir()
    sentence = "the sky is blue and the grass is green. "
    # Both SFT formats in each row: prompt and completion (a base model's), and a conversation (an
    # instruct model's, which LLaMA-Factory reads as sharegpt messages); short, so that the recipes'
    # smoke runs keep the answer within their --max-length.
    turns = [{"role": "user", "content": "what is the sky"}, {"role": "assistant", "content": "blue"}]
    _jsonl(data / "sft.jsonl", [{"prompt": "what is the sky", "completion": " blue", "messages": turns}] * 8)
    _jsonl(data / "text.jsonl", [{"text": sentence * 400}] * 4)  # longer than cutoff_len: packed
    _jsonl(data / "dpo.jsonl", [{"prompt": "the sky is", "chosen": " blue", "rejected": " red"}] * 8)
    _jsonl(
        data / "kto.jsonl",
        [{"prompt": "the sky is", "completion": c, "label": c == " blue"} for c in (" blue", " red")] * 4,
    )
    info: dict[str, Any] = {}
    for text in (p.read_text(encoding="utf-8") for p in folder.glob("*.yaml")):
        for line in text.splitlines():
            if line.startswith("# data/dataset_info.json must hold: "):
                info.update(json.loads(line.split(": ", 1)[1]))
    (data / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    for name in ("sft.jsonl", "text.jsonl", "dpo.jsonl", "kto.jsonl"):
        (folder / name).write_text((data / name).read_text(encoding="utf-8"), encoding="utf-8")


def run_validator(
    python: Path, script: str, manifest: list[dict[str, Any]], tmp: Path, **env: str
) -> list[str]:
    """The failures the validator reports, as 'path: message'."""
    listing = tmp / f"{script}.{len(list(tmp.glob('*.json')))}.json"
    listing.write_text(json.dumps(manifest), encoding="utf-8")
    result = subprocess.run(
        [str(python), str(HERE / script), str(listing)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **env},
        timeout=1800,
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(manifest), result.stdout[-2000:] + result.stderr[-4000:]
    return [f"{r['path']}: {r['message']}" for r in lines if not r["ok"]]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    python = environment("axolotl")
    root = tmp_path_factory.mktemp("tiny")
    models = {}
    for arch in ("llama", "qwen2"):
        subprocess.run(
            [str(python), str(HERE / "make_tiny_model.py"), str(root / arch), arch], check=True, timeout=600
        )
        models[arch] = str(root / arch)
    return models


def tiny_for(recipe: Recipe, models: dict[str, str]) -> str:
    """A tiny model of the same family where it matters (Qwen2's biases for BitFit)."""
    family = recipe.model.family if recipe.model is not None else "llama"
    return models["qwen2" if family.startswith("qwen2") else "llama"]


def yaml_names(item: Emitted) -> list[str]:
    return [f.name for f in item.rendered.files if f.name.endswith(".yaml")]


def axolotl_manifest(root: Path, items: list[Emitted], models: dict[str, str]) -> list[dict[str, Any]]:
    manifest = []
    for item in items:
        folder = write(root, item)
        layers = item.recipe.model.layers if item.recipe.model is not None else 2
        for name in yaml_names(item):
            manifest.append(
                {
                    "path": str(folder / name),
                    "model": tiny_for(item.recipe, models),
                    "layers": layers,
                    "bf16": item.recipe.value("precision") in ("bf16", "pure-bf16"),
                    "gpus": item.recipe.gpus,
                }
            )
    return manifest


def test_axolotl_accepts_every_config_and_trains_what_it_says(
    tiny_models: dict[str, str], tmp_path: Path
) -> None:
    """axolotl's own validation (KTO needs remove_unused_columns: false) and its freeze helper
    (unfrozen_parameters must spell model.layers.N. and ^.+bias$) on every config."""
    items = list(emitted("axolotl"))
    assert len(items) > 30
    assert any(i.recipe.sharded_loading for i in items)  # FSDP1 with qlora_sharded_model_loading
    assert any(i.recipe.sharded_loading and i.recipe.offload == "params" for i in items)  # and offload
    manifest = axolotl_manifest(tmp_path / "configs", items, tiny_models)
    failures = run_validator(environment("axolotl"), "validate_axolotl.py", manifest, tmp_path)
    assert not failures, "\n".join(failures)


def test_axolotl_validation_catches_what_the_review_found(
    tiny_models: dict[str, str], tmp_path: Path
) -> None:
    """The forms ft-atlas used to emit fail the same check: it would have caught them."""
    items = {i.name: i for i in emitted("axolotl")}
    manifest = axolotl_manifest(
        tmp_path / "configs",
        [items["partial-ft-sft-decoder"], items["lora-sft+kto-decoder"], items["bitfit-sft-decoder"]],
        tiny_models,
    )
    broken = []
    for entry in manifest:
        config = yaml.safe_load(Path(entry["path"]).read_text(encoding="utf-8"))
        if "unfrozen_parameters" in config:
            old = [
                p.replace("model.layers.", "layers.").replace("^.+bias$", r"^.*\.bias$")
                for p in config["unfrozen_parameters"]
            ]
            config["unfrozen_parameters"] = old
        elif config.get("rl") == "kto":
            del config["remove_unused_columns"]
        else:
            continue
        Path(entry["path"]).write_text(yaml.safe_dump(config), encoding="utf-8")
        broken.append(entry)
    failures = run_validator(environment("axolotl"), "validate_axolotl.py", broken, tmp_path)
    assert len(failures) == len(broken) == 3, failures
    assert any("remove_unused_columns" in f for f in failures)
    assert sum("match no parameter" in f for f in failures) == 2


def test_axolotl_qlora_under_zero3_checkpoints_as_axolotl_asks(
    tiny_models: dict[str, str], tmp_path: Path
) -> None:
    """axolotl warns that QLoRA under ZeRO-3 with use_reentrant: false "may result in a
    CheckpointError" (warn_qlora_zero3_w_use_reentrant, which sees ZeRO-3 in a deepspeed file
    name holding "zero3"), and refuses use_reentrant: true for QLoRA with rl on several GPUs
    (check_rl_config_gradient_checkpointing). With the DeepSpeed file named so that the check
    sees ZeRO-3, the SFT config as written passes, false in it is caught, and true in the DPO
    config is refused: why the DPO config keeps axolotl's default."""
    (item,) = [i for i in emitted("axolotl") if i.name == "qlora-sft+dpo-llama-3.1-70b"]
    assert item.recipe.sharding == "zero3"
    entries = {Path(e["path"]).stem: e for e in axolotl_manifest(tmp_path / "configs", [item], tiny_models)}
    folder = Path(entries["sft"]["path"]).parent
    (folder / "ds_zero3_config.json").write_text((folder / "ds_z3_config.json").read_text(encoding="utf-8"))
    variants = []
    for stage, reentrant in (("sft", None), ("sft", False), ("dpo", True)):
        config = yaml.safe_load(Path(entries[stage]["path"]).read_text(encoding="utf-8"))
        assert config["deepspeed"] == "ds_z3_config.json"
        config["deepspeed"] = "ds_zero3_config.json"
        if reentrant is not None:
            config["gradient_checkpointing_kwargs"] = {"use_reentrant": reentrant}
        variant = folder / f"{stage}-{reentrant}.yaml"
        variant.write_text(yaml.safe_dump(config), encoding="utf-8")
        variants.append({**entries[stage], "path": str(variant)})
    failures = run_validator(environment("axolotl"), "validate_axolotl.py", variants, tmp_path)
    assert len(failures) == 2, failures
    assert "sft-False.yaml" in failures[0] and "CheckpointError" in failures[0]
    assert "dpo-True.yaml" in failures[1] and "use_reentrant: True" in failures[1]


def llamafactory_manifest(root: Path, items: list[Emitted], models: dict[str, str]) -> list[dict[str, Any]]:
    manifest = []
    for item in items:
        folder = write(root, item)
        for i, name in enumerate(yaml_names(item)):
            # The loaders run on first stages (a later one needs the earlier stage's output);
            # a 4-bit base needs bitsandbytes' kernels, which its CPU backend provides.
            manifest.append(
                {"path": str(folder / name), "model": tiny_for(item.recipe, models), "load": i == 0}
            )
    return manifest


DISTRIBUTED = {
    "LOCAL_RANK": "0",
    "RANK": "0",
    "WORLD_SIZE": "1",
    "LOCAL_WORLD_SIZE": "1",
    "MASTER_ADDR": "127.0.0.1",
    "MASTER_PORT": "29517",
}


def test_llamafactory_parses_and_loads_every_config(tiny_models: dict[str, str], tmp_path: Path) -> None:
    """LLaMA-Factory's argument parser on every config; its loaders and GaLore's optimizer (which
    refuses optim: galore_adamw) on every first stage. DeepSpeed configs are parsed in a
    one-process distributed run on loopback, as LLaMA-Factory checks them only there."""
    items = list(emitted("llamafactory"))
    assert len(items) > 25
    plain = [i for i in items if len(i.rendered.files) == len(yaml_names(i))]
    sharded = [i for i in items if i not in plain]
    python = environment("llamafactory")
    failures = run_validator(
        python,
        "validate_llamafactory.py",
        llamafactory_manifest(tmp_path / "plain", plain, tiny_models),
        tmp_path,
    )
    manifest = llamafactory_manifest(tmp_path / "sharded", sharded, tiny_models)
    for entry in manifest:
        entry["load"] = False
    failures += run_validator(python, "validate_llamafactory.py", manifest, tmp_path, **DISTRIBUTED)
    assert sharded and not failures, "\n".join(failures)


def test_llamafactory_loading_catches_the_galore_optimizer_the_review_found(
    tiny_models: dict[str, str], tmp_path: Path
) -> None:
    item = next(i for i in emitted("llamafactory") if i.recipe.memory_model == "galore")
    manifest = llamafactory_manifest(tmp_path / "configs", [item], tiny_models)
    path = Path(manifest[0]["path"])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["optim"] in ("adamw_torch", "adamw_bnb_8bit")  # what LLaMA-Factory's GaLore builder takes
    path.write_text(yaml.safe_dump({**config, "optim": "galore_adamw"}), encoding="utf-8")
    failures = run_validator(environment("llamafactory"), "validate_llamafactory.py", manifest[:1], tmp_path)
    assert failures and "galore" in failures[0].lower()


def test_launcher_configs_load_with_accelerate_and_deepspeed(
    tiny_models: dict[str, str], tmp_path: Path
) -> None:
    manifest = []
    for fmt in ("python", "llamafactory", "axolotl"):
        for item in emitted(fmt):
            if item.recipe.gpus == 1:
                continue
            folder = write(tmp_path / fmt, item)
            first = item.recipe.stages[0]
            for file in item.rendered.files:
                if file.name == "accelerate.yaml" or file.name.endswith(".json"):
                    manifest.append(
                        {
                            "path": str(folder / file.name),
                            "model": tiny_models["llama"],
                            "gpus": item.recipe.gpus,
                            "batch": item.recipe.stage_value("batch", first),
                            "accumulation": item.recipe.stage_value("grad_accum", first),
                            "bf16": item.recipe.value("precision") in ("bf16", "pure-bf16"),
                        }
                    )
    kinds = {Path(e["path"]).name for e in manifest}
    assert "accelerate.yaml" in kinds and {"ds_z3_config.json"} <= kinds, kinds
    failures = run_validator(environment("axolotl"), "validate_launchers.py", manifest, tmp_path)
    assert not failures, "\n".join(failures)


MINIMUM_RUNS = ["lora-sft+dpo-decoder", "full-ft-sft+kto-decoder", "lora-grpo-decoder", "qwen-bitfit"]


@pytest.mark.parametrize("name", ["lora-sft+dpo-decoder", "full-ft-sft+kto-decoder", "lora-grpo-decoder"])
def test_python_recipes_train_at_their_minimum_library_versions(
    name: str, tiny_models: dict[str, str], tmp_path: Path
) -> None:
    """The header's "Needs at least" versions are real: the recipe trains with them (the axolotl
    environment holds exactly transformers, trl, peft and datasets at those versions)."""
    python = environment("axolotl")
    versions = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
            f"{sorted(MINIMUM_VERSIONS)!r}}}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(versions.stdout) == MINIMUM_VERSIONS
    case = next(c for c in CASES if c.name == name)
    _, rendered = write_recipe(CATALOG, case.rec, case.rank, "python")
    folder = tmp_path / "recipe"
    folder.mkdir()
    write_data(folder)
    (folder / "recipe.py").write_text(rendered.files[0].text, encoding="utf-8")
    grpo = folder / "prompts.jsonl"
    _jsonl(grpo, [{"prompt": "what is the sky", "solution": "blue"}] * 8)
    data = {"sft": "sft.jsonl", "dpo": "dpo.jsonl", "kto": "kto.jsonl", "grpo": "prompts.jsonl"}
    stages = name.split("-")[-2].split("+") if "+" in name else [name.split("-")[1]]
    args = ["--model", tiny_models["llama"], "--output-dir", "out", "--max-steps", "1", "--max-length", "32"]
    for i, stage in enumerate(stages):
        args += [f"--{'dataset' if i == 0 else stage + '-dataset'}", data[stage]]
    result = subprocess.run(
        [str(python), "recipe.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""},
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for stage in stages:
        assert (folder / "out" / stage / "train_results.json").is_file(), stage
