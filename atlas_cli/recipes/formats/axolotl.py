"""axolotl YAML: one config per stage, run with `axolotl train`."""

from __future__ import annotations

from typing import Any

from atlas_cli.recipes.registry import TrainerFormat, register
from atlas_cli.recipes.settings import Recipe
from atlas_cli.recipes.yamlout import precision_keys, yaml_block, yaml_documents

VERSION = "0.19.0"
WRITTEN_FOR = f"Written for: axolotl {VERSION} (keys checked against its config schema)."

AX_RL = {"dpo": "dpo", "kto": "kto", "grpo": "grpo", "simpo": "simpo"}


def gap(recipe: Recipe) -> str | None:
    if "orpo" in recipe.stages:
        return (
            "axolotl reads ORPO data through its own chat-template dataset types, not the prompt / "
            "chosen / rejected fields these recipes write; use --trainer llamafactory (pref_loss: orpo)"
        )
    if recipe.family not in ("weights", "lora"):
        return (
            "axolotl trains full weights, LoRA / QLoRA (and DoRA via peft_use_dora), or the parameters "
            f"matched by unfrozen_parameters; {recipe.plan.name} is not among them; use --format python"
        )
    return None


def _ax_dataset(stage: str) -> dict[str, Any]:
    if stage == "sft":
        kind: Any = {
            "field_instruction": "prompt",
            "field_output": "completion",
            "format": "{instruction}",
            "no_input_format": "{instruction}",
        }
        return {"path": "sft.jsonl", "type": kind}
    if stage == "continued-pretraining":
        return {"path": "text.jsonl", "type": "completion", "field": "text"}
    if stage in ("dpo", "simpo"):
        return {
            "path": "dpo.jsonl",
            "split": "train",
            "type": {"field_prompt": "prompt", "field_chosen": "chosen", "field_rejected": "rejected"},
        }
    if stage == "kto":
        return {
            "path": "kto.jsonl",
            "split": "train",
            "type": {"field_prompt": "prompt", "field_completion": "completion", "field_label": "label"},
        }
    return {"path": "grpo.jsonl", "split": "train"}


def _ax_unfrozen(recipe: Recipe) -> list[str] | None:
    if recipe.memory_model == "bitfit":
        return [r"^.*\.bias$"]
    if recipe.memory_model != "partial" or recipe.model is None or not recipe.has("partial.fraction"):
        return None
    layers = recipe.model.layers
    first = layers - max(1, round(layers * float(recipe.value("partial.fraction"))))
    block = "h" if recipe.model.family == "gpt2" else "layers"
    return [f"{block}.{i}." for i in range(first, layers)]


def _ax_model(recipe: Recipe, previous: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"base_model": previous or recipe.model_hint}
    if recipe.family == "lora":
        quantized = recipe.memory_model == "qlora"
        values["adapter"] = "qlora" if quantized else "lora"
        if quantized:
            values["load_in_4bit"] = True
        if recipe.has("lora.r"):
            values["lora_r"] = recipe.value("lora.r")
        targets = recipe.value("lora.targets") if recipe.has("lora.targets") else "all-linear"
        if targets == "all-linear":
            values["lora_target_linear"] = True
        else:
            values["lora_target_modules"] = targets if isinstance(targets, list) else str(targets).split(",")
        for key, name in (
            ("lora.alpha", "lora_alpha"),
            ("lora.dropout", "lora_dropout"),
            ("lora.use_dora", "peft_use_dora"),
        ):
            if recipe.has(key):
                values[name] = recipe.value(key)
    unfrozen = _ax_unfrozen(recipe)
    if unfrozen:
        values["unfrozen_parameters"] = unfrozen
    return values


def _ax_train(recipe: Recipe, stage: str, output: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sequence_len": recipe.value("seq_len"),
        "micro_batch_size": recipe.batch(stage),
        "gradient_accumulation_steps": recipe.value("grad_accum"),
        "num_epochs": recipe.value("epochs"),
        "optimizer": recipe.value("optim"),
        "gradient_checkpointing": recipe.value("gradient_checkpointing"),
        "output_dir": output,
    }
    if recipe.has(f"lr.{stage}"):
        values["learning_rate"] = recipe.value(f"lr.{stage}")
    values.update(precision_keys(recipe))
    if recipe.memory_model == "galore" and recipe.has("galore.targets"):
        values["optim_target_modules"] = recipe.value("galore.targets")
        args = [
            f"{k}={recipe.value('galore.' + k)}"
            for k in ("rank", "update_proj_gap", "scale")
            if recipe.has("galore." + k)
        ]
        if args:
            values["optim_args"] = ",".join(args)
    return values


def _ax_stage(recipe: Recipe, stage: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "datasets": [_ax_dataset(stage)],
        "dataset_prepared_path": f"last_run_prepared/{stage}",
    }
    if stage in AX_RL:
        values["rl"] = AX_RL[stage]
    if stage in ("dpo", "kto", "simpo") and recipe.has(f"{stage}.beta"):
        values["rl_beta"] = recipe.value(f"{stage}.beta")
    if stage == "simpo" and recipe.has("simpo.simpo_gamma"):
        values["simpo_gamma"] = recipe.value("simpo.simpo_gamma")
    if stage == "kto":
        for key in ("desirable_weight", "undesirable_weight"):
            if recipe.has(f"kto.{key}"):
                values[f"kto_{key}"] = recipe.value(f"kto.{key}")
    if stage == "grpo":
        trl: dict[str, Any] = {"reward_funcs": ["rewards.matches_solution"]}
        for key in ("beta", "num_generations", "max_completion_length"):
            if recipe.has(f"grpo.{key}"):
                trl[key] = recipe.value(f"grpo.{key}")
        values["trl"] = trl
    return values


AX_REWARD = '''# rewards.py next to the config (axolotl imports trl.reward_funcs by module path):
#   def matches_solution(completions, solution, **kwargs):
#       """1.0 when the completion contains the reference answer; REPLACE with your checker."""
#       texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
#       return [1.0 if str(s).strip() and str(s).strip() in t else 0.0 for t, s in zip(texts, solution)]
'''


def render(recipe: Recipe) -> str:
    documents: list[tuple[str, str]] = []
    previous: str | None = None
    for stage in recipe.stages:
        output = f"./outputs/{stage}"
        body = "".join(
            [
                AX_REWARD if stage == "grpo" else "",
                yaml_block("model", _ax_model(recipe, previous)),
                yaml_block("data", _ax_stage(recipe, stage)),
                yaml_block("training", _ax_train(recipe, stage, output)),
            ]
        )
        documents.append((f"{stage}.yaml", body))
        # A later stage starts from the previous stage's weights: adapters are merged first
        # (`axolotl merge-lora`), which writes them to <output_dir>/merged.
        previous = f"{output}/merged" if recipe.family == "lora" else output
    steps = []
    for i, (name, _) in enumerate(documents):
        steps.append(f"axolotl train {name}")
        if recipe.family == "lora" and i < len(documents) - 1:
            steps.append(f"axolotl merge-lora {name}")
    return yaml_documents(recipe, "axolotl", WRITTEN_FOR, " && ".join(steps), documents)


register(TrainerFormat("axolotl", "axolotl YAML (axolotl train)", render, gap))
