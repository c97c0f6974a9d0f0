"""LLaMA-Factory YAML: one config per stage, run with `llamafactory-cli train`."""

from __future__ import annotations

import json
from typing import Any

from atlas_cli.core.nodes import node_layout
from atlas_cli.core.shell import shell_word
from atlas_cli.errors import UsageError, echoed
from atlas_cli.i18n import N_, t, translated
from atlas_cli.recipes.header import wrapped
from atlas_cli.recipes.launchers import MASTER_PORT, deepspeed_file, distributed
from atlas_cli.recipes.registry import Rendered, TrainerFormat, register
from atlas_cli.recipes.settings import (
    INSTRUCT_SFT_DATA,
    LIKED_AS_SFT,
    ROCM_TORCH,
    Recipe,
    bitsandbytes_optimizer,
    labels_as_answers,
    packed_apart_by_fa2,
    torchao_optimizer,
    untrained_chat_tokens,
)
from atlas_cli.recipes.yamlout import precision_keys, yaml_block, yaml_files

VERSION = "0.9.5"
# hiyouga/LlamaFactory@v0.9.5 README.md, Install from Source ("Installation is mandatory"; DeepSpeed
# and bitsandbytes are optional requirement files).
LF_SETUP = N_("Setup: {clone}, then in LlamaFactory/ pip install -e . {requirements}")
LF_IN_CLONE = N_("-e . {requirements} in LlamaFactory/ ({clone})")
LF_FLASH_ATTENTION = N_("{setup}, then pip install --no-build-isolation flash-attn (packed rows stay apart)")
# Its setup.py pins (<=5.6.0) less transformers 5.6.0, whose FlashAttention path fails
# for every model without attention sinks (s_aux None: huggingface/transformers#45588, fixed in
# 5.7.0; LLaMA-Factory's main excludes it, hiyouga/LlamaFactory#10634). .ci/validators.sh runs its
# parser on 5.6.0, which parses configs alike.
PINS = "transformers >=4.55,<5.6.0, trl <=0.24.0, peft <=0.18.1, accelerate <=1.11.0, datasets <=4.0.0"
WRITTEN_FOR = N_(
    "Written for: LLaMA-Factory {version} (checked by its own argument parser), in an environment with "
    "its pins: {pins}."
)

LF_STAGE = {
    "sft": "sft",
    "continued-pretraining": "pt",
    "dpo": "dpo",
    "kto": "kto",
    "orpo": "dpo",
    "simpo": "dpo",
    "reward-model": "rm",
}
# The preference loss of each stage LLaMA-Factory runs as `stage: dpo`; orpo and simpo load no
# reference model (finetuning_args.py: use_ref_model is false for them).
LF_PREF_LOSS = {"dpo": "sigmoid", "orpo": "orpo", "simpo": "simpo"}
LF_FINETUNING = {
    "full": "full",
    "galore": "full",
    "partial": "freeze",
    "lora": "lora",
    "qlora": "lora",
    "dora": "lora",
}
# LLaMA-Factory's GaLore optimizer builder (train/trainer_utils.py _create_galore_optimizer) takes
# these transformers names; galore_adamw is not one of them ("Unknown optim").
LF_GALORE_OPTIM = {"galore_adamw": "adamw_torch", "galore_adamw_8bit": "adamw_bnb_8bit"}
LF_GALORE_OPTIM.update({f"{name}_layerwise": optim for name, optim in LF_GALORE_OPTIM.items()})
# LLaMA-Factory's chat template for a model (the names in src/llamafactory/data/template.py,
# hiyouga/LLaMA-Factory@ff6d4d1), found in the model's name: the catalog id, or the last part of
# its Hub id or directory. The more specific names come first ("deepseek-r1-distill-qwen" is
# DeepSeek-R1's format, not Qwen's). A name none of them is in gets LLaMA-Factory's generic
# template, with a note: a config's family alone does not tell a fine-tune's chat format.
LF_TEMPLATES = (
    ("deepseek-r1", "deepseekr1"),
    ("deepseek-v3", "deepseek3"),
    # Vision-language checkpoints take their multimodal templates (extras/constants.py registers
    # Llama-3.2-*-Vision with mllama, Qwen2-VL and Qwen2.5-VL with qwen2_vl, Qwen3-VL's Instruct
    # models with qwen3_vl_nothink and its Thinking ones with qwen3_vl),
    # matched before the text models' names they contain.
    ("llama-3.2-11b-vision", "mllama"),
    ("llama-3.2-90b-vision", "mllama"),
    ("llama-2", "llama2"),
    ("llama-3", "llama3"),
    ("llama-4", "llama4"),
    ("phi-4-mini", "phi4_mini"),
    ("phi-4", "phi4"),
    ("phi-3", "phi"),
    ("mistral-small", "mistral_small"),
    ("mixtral", "mistral"),
    ("mistral", "mistral"),
    # Qwen3's July 2025 instruct models do not think: LLaMA-Factory registers them (extras/
    # constants.py, Qwen3-*-Instruct-2507) with qwen3_nothink; its "qwen3" is the thinking format.
    ("instruct-2507", "qwen3_nothink"),
    ("qwen3-vl*thinking", "qwen3_vl"),  # both parts named; its Instruct models do not think
    ("qwen3-vl", "qwen3_vl_nothink"),
    ("qwen2.5-vl", "qwen2_vl"),
    ("qwen2-vl", "qwen2_vl"),
    ("qwen3", "qwen3"),
    ("qwen2.5", "qwen"),
    # Gemma 4's 26B-A4B and 31B (extras/constants.py @ff6d4d1 registers them with gemma4; E2B/E4B,
    # which ft-atlas refuses, with gemma4n).
    ("gemma-4", "gemma4"),
    ("gemma-3", "gemma3"),
    ("gemma-2", "gemma2"),
    ("gpt-oss", "gpt_oss"),
    ("smollm2", "smollm2"),
)
# dataset_info.json entries that read the same JSON Lines files as the Python recipe.
PAIRS = {
    "file_name": "dpo.jsonl",
    "ranking": True,
    "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
}
# An instruct model's SFT data: conversations of one or many turns in OpenAI's messages format,
# rendered with the model's template (LLaMA-Factory data/README.md: sharegpt formatting with
# role/content tags); the alpaca columns below hold one prompt and one response.
LF_CONVERSATIONS = {
    "file_name": "sft.jsonl",
    "formatting": "sharegpt",
    "columns": {"messages": "messages"},
    "tags": {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "system_tag": "system",
    },
}
# Tool calls in sharegpt rows (an expert's review: the OpenAI rows the Python recipe reads were
# skipped, every one, by LLaMA-Factory's converter.py; its "openai" formatting reads them but adds
# "detailed thinking off" to every system prompt of a row without tools, in v0.9.5).
LF_TOOL_ROWS = N_(
    'Tool calls: LLaMA-Factory reads a call as a turn of its own, {"role": "function_call", '
    '"content": "<the call as JSON>"}, its result as {"role": "observation", ...}, and the '
    'functions from a column mapped in "columns" ("tools": "tools"). A row in OpenAI\'s layout '
    '(an assistant turn with "tool_calls", results as "tool" turns) is skipped as abnormal: '
    "convert such rows first."
)
# SFT on the preference pairs' chosen answers (no demonstrations): the pairs' own file.
LF_CHOSEN = {"file_name": "dpo.jsonl", "columns": {"prompt": "prompt", "response": "chosen"}}
LF_DATASETS = {
    "sft": {"file_name": "sft.jsonl", "columns": {"prompt": "prompt", "response": "completion"}},
    "pt": {"file_name": "text.jsonl", "columns": {"prompt": "text"}},
    "dpo": PAIRS,
    "rm": PAIRS,
    "kto": {
        "file_name": "kto.jsonl",
        "columns": {"prompt": "prompt", "response": "completion", "kto_tag": "label"},
    },
}


def gap(recipe: Recipe) -> str | None:
    if "${" in recipe.model_hint:
        # An attacker's review: LLaMA-Factory loads its YAML with OmegaConf, whose parser refuses
        # an unfinished interpolation (weights${v1) in any value, and a legal directory name holds one.
        return t(
            "the model's path holds '${', which LLaMA-Factory's config loader (OmegaConf) reads as an "
            "interpolation; rename the directory, or use --trainer python or axolotl"
        )
    if "grpo" in recipe.stages or "rloo" in recipe.stages:
        return t("LLaMA-Factory has no online RL stage (its stages: pt, sft, rm, ppo, dpo, kto)")
    if recipe.sequence_parallel > 1:
        return t(
            "the plan fits only with each sequence split over {parts} GPUs, which "
            "LLaMA-Factory does only under its Megatron backend (context_parallel_size), not with its "
            "Trainer and DeepSpeed; use --trainer python (DeepSpeed Ulysses)",
            parts=recipe.sequence_parallel,
        )
    if recipe.has("lora.expert_parameters"):
        return t(
            "LLaMA-Factory has no option for LoRA on a mixture of experts' fused expert weights (PEFT "
            "target_parameters), which --lora-experts asks for; use --trainer python or axolotl"
        )
    if recipe.plan.estimate is not None and recipe.has("precision") and recipe.value("precision") == "fp32":
        return t(
            "the plan trains in fp32 (Gemma 3 overflows fp16 on a GPU without bf16), and LLaMA-Factory "
            "with neither bf16 nor fp16 set picks the GPU's own 16-bit type (infer_optim_dtype); use "
            "--trainer python or axolotl"
        )
    if recipe.model is not None and recipe.model.family == "gpt_oss":
        return t(
            "LLaMA-Factory loads gpt-oss only with the FlashAttention 3 hub kernel, through a function "
            "transformers 5 renamed (an ImportError on every GPU: hiyouga/LlamaFactory#10256, open), and "
            "that kernel runs attention sinks on Hopper GPUs only; use --trainer python or axolotl"
        )
    if _neat_packing_refused(recipe):
        return t(
            "LLaMA-Factory refuses to keep packed examples apart for Gemma 4 (data/collator.py @ff6d4d1: "
            "'Neat packing is not supported for gemma4, gpt_oss models for now'), and plain packing "
            "lets them attend to each other; use --trainer python or axolotl, or drop --packing"
        )
    if recipe.memory_model not in LF_FINETUNING:
        return t(
            "its finetuning types are lora (with use_dora / quantization_bit), freeze, "
            "full (with use_galore) "
            "and oft; {name} is not among them; use --trainer python",
            name=translated(recipe.plan.name),
        )
    return None


def _neat_packing_refused(recipe: Recipe) -> bool:
    """Packed SFT of a model whose checkpoint type LLaMA-Factory's collator refuses neat_packing for."""
    model = recipe.model
    if model is None or model.checkpoint_type not in ("gemma4", "gemma4_text"):
        return False
    return "sft" in recipe.stages and recipe.has("packing.sft") and bool(recipe.stage_value("packing", "sft"))


def _lf_template(recipe: Recipe) -> tuple[str, str]:
    name = recipe.typed_name
    untrained = untrained_chat_tokens(recipe)
    for part, template in LF_TEMPLATES:
        if part == untrained:  # a base model trains on "default" instead
            return "default", t(
                "LLaMA-Factory's generic template: the {part} base model never trained the special "
                "tokens of its {template} chat template (its maintainer: 'base model: default, "
                "instruct model: llama3', hiyouga/LlamaFactory#6436); serve the result with the same",
                part=part,
                template=template,
            )
        if _named(part, name) and template == "gemma3" and _text_only(recipe):
            return "gemma2", t(
                "LLaMA-Factory's template for text-only Gemma 3 models (its gemma3 template's image "
                "plugin raises 'Processor was not found' without a vision processor, "
                "data/mm_plugin.py; it registers Gemma-3-270M and -1B with gemma2, extras/constants.py "
                "@ff6d4d1)"
            )
        if _named(part, name):
            return template, t("LLaMA-Factory's template for {part} models", part=part.replace("*", " "))
    return "default", t(
        "LLaMA-Factory's generic template: ft-atlas knows no template for this model; set the "
        "model's own (LLaMA-Factory's README lists them), or an instruct model learns a format "
        "it is not served with"
    )


def _named(part: str, name: str) -> bool:
    """An LF_TEMPLATES name part within a model's name; "a*b": both pieces, in that order."""
    first, _, rest = part.partition("*")
    found = name.find(first)
    return found >= 0 and (not rest or _named(rest, name[found + len(first) :]))


def _text_only(recipe: Recipe) -> bool:
    """A model known to have no vision tower (Gemma 3's 270M and 1B: gemma3_text configs). Unknown
    (no catalog entry or config): not text-only, the family's own template."""
    return recipe.model is not None and not recipe.model.vision_params_b


def _lf_method(recipe: Recipe) -> dict[str, Any]:
    values: dict[str, Any] = {"finetuning_type": LF_FINETUNING[recipe.memory_model]}
    if recipe.family == "lora":
        if recipe.has("lora.r"):  # without it (a KB with no rank, no estimate) LLaMA-Factory's default
            values["lora_rank"] = recipe.value("lora.r")
        values["lora_target"] = _lf_targets(recipe)
        for key, name in (("lora.alpha", "lora_alpha"), ("lora.dropout", "lora_dropout")):
            if recipe.has(key):
                values[name] = recipe.value(key)
        if recipe.has("lora.use_dora"):
            values["use_dora"] = recipe.value("lora.use_dora")
    if recipe.memory_model == "partial" and recipe.model is not None and recipe.has("partial.fraction"):
        values["freeze_trainable_layers"] = max(
            1, round(recipe.model.layers * float(recipe.value("partial.fraction")))
        )
    if recipe.memory_model == "galore":
        values.update(use_galore=True, galore_target="all")
        for key, name in (
            ("rank", "galore_rank"),
            ("update_proj_gap", "galore_update_interval"),
            ("scale", "galore_scale"),
        ):
            if recipe.has(f"galore.{key}"):
                values[name] = recipe.value(f"galore.{key}")
        if recipe.has("galore.layerwise"):
            values["galore_layerwise"] = True
    return values


def _lf_block(title: str, values: dict[str, Any]) -> str:
    """A YAML block of the stage's config, refused where a value holds '${': LLaMA-Factory loads
    its YAML with OmegaConf, which reads it as an interpolation, and a knowledge base's text may
    hold one (an attacker's review: a LoRA target 'q_proj${' made a config its loader refuses)."""
    for key, value in values.items():
        if isinstance(value, str) and "${" in value:
            raise UsageError(
                t(
                    "{key}: '{value}' holds '${{', which LLaMA-Factory's config loader (OmegaConf) reads "
                    "as an interpolation; use --trainer python or axolotl",
                    key=key,
                    value=echoed(value),
                )
            )
    return yaml_block(title, values)


def _lf_targets(recipe: Recipe) -> str:
    """LLaMA-Factory calls PEFT's "all-linear" "all"; other targets are a comma-separated list,
    which a name holding a comma would split."""
    targets = recipe.value("lora.targets") if recipe.has("lora.targets") else "all-linear"
    if isinstance(targets, list):
        split = next((str(name) for name in targets if "," in str(name)), None)
        if split is not None:
            raise UsageError(
                t(
                    "lora_target: LLaMA-Factory takes the LoRA targets as one comma-separated list, and "
                    "'{name}' holds a comma; use --trainer python or axolotl",
                    name=echoed(split),
                )
            )
        return ",".join(targets)
    return "all" if targets == "all-linear" else str(targets)


def _lf_stage(recipe: Recipe, stage: str) -> dict[str, Any]:
    lf_stage = LF_STAGE[stage]
    values: dict[str, Any] = {"stage": lf_stage, "do_train": True}
    values.update(_lf_method(recipe))
    if stage in ("dpo", "kto", "orpo", "simpo") and recipe.has(f"{stage}.beta"):
        values["pref_beta"] = recipe.value(f"{stage}.beta")
    if stage in LF_PREF_LOSS:
        values["pref_loss"] = LF_PREF_LOSS[stage]
    if stage == "simpo" and recipe.has("simpo.simpo_gamma"):
        values["simpo_gamma"] = recipe.value("simpo.simpo_gamma")
    if stage == "kto":
        for key, name in (
            ("desirable_weight", "kto_chosen_weight"),
            ("undesirable_weight", "kto_rejected_weight"),
        ):
            if recipe.has(f"kto.{key}"):
                values[name] = recipe.value(f"kto.{key}")
    return values


# The model types whose router loss LLaMA-Factory's moe_aux_loss_coef turns on (hiyouga/
# LlamaFactory@ff6d4d12 src/llamafactory/model/model_utils/moe.py configure_moe; Qwen3-VL-MoE's text
# model reads as qwen3_moe): for another, the key does nothing, and the header says so.
LF_AUX_LOSS_TYPES = frozenset(
    {"dbrx", "ernie4_5_moe", "granitemoe", "jamba", "jetmoe", "llama4", "mixtral", "olmoe", "phimoe"}
    | {"qwen2_moe", "qwen3_moe"}
)


def _lf_turns_on_aux_loss(recipe: Recipe) -> bool:
    return recipe.model is not None and recipe.model.family in LF_AUX_LOSS_TYPES


def _lf_resumes(recipe: Recipe) -> bool:
    """A later stage resumes the earlier adapter rather than merging it and training a new one:
    LLaMA-Factory merges no adapter into a 4-bit model nor under DeepSpeed ZeRO-3, and then
    ignores create_new_adapter (model/adapter.py init_adapter: is_mergeable false)."""
    return recipe.memory_model == "qlora" or recipe.sharding == "zero3"


def _lf_exports(recipe: Recipe) -> bool:
    """A later LoRA stage merges the earlier adapter by an export step first, where LLaMA-Factory
    cannot merge it at load (_lf_resumes): into a 16-bit copy on the CPU, which it makes only of a
    checkpoint stored in 16 bits ("Cannot merge adapters to a quantized model", train/tuner.py),
    on one node (every node would run it into the same directory), within --ram where given."""
    if recipe.family != "lora" or len(recipe.stages) < 2 or not _lf_resumes(recipe):
        return False
    ram = recipe.profile.get("ram")
    fits = not isinstance(ram, (int, float)) or recipe.sixteen_bit_gb <= ram
    return not recipe.stored_quantized and node_layout(recipe.gpus)[0] == 1 and fits


def _lf_model(recipe: Recipe, previous: str | None, loaded: str) -> dict[str, Any]:
    """The model a stage loads: `loaded` (the base, or the earlier stages merged by an export step:
    _lf_exports) with the previous stage's adapter merged and a new one on top (LoRA: the merged
    SFT model is the reference), or resumed where nothing merges it (the base is the reference),
    or the previous stage's whole model."""
    values: dict[str, Any] = {"model_name_or_path": loaded}
    if previous is not None and recipe.family == "lora":
        values["adapter_name_or_path"] = previous
        values["create_new_adapter"] = not _lf_resumes(recipe)
    elif previous is not None:
        values["model_name_or_path"] = previous
    if recipe.memory_model == "qlora":
        bits = recipe.value("quant.bits") if recipe.has("quant.bits") else 4
        values.update(quantization_bit=bits, quantization_method="bnb")
        if bits == 4 and recipe.has("quant.double"):
            values["double_quantization"] = recipe.value("quant.double")
        if bits == 4 and recipe.has("quant.type"):
            values["quantization_type"] = recipe.value("quant.type")
    if recipe.has("router_aux_loss") and _lf_turns_on_aux_loss(recipe):
        # configure_moe turns on output_router_logits and sets the coefficient (model_utils/moe.py).
        values["moe_aux_loss_coef"] = recipe.value("router_aux_loss")
    if not recipe.value("gradient_checkpointing"):
        values["disable_gradient_checkpointing"] = True  # LLaMA-Factory checkpoints by default
    elif recipe.has("activation_offloading"):
        # Each checkpointed layer input goes to CPU RAM as the estimate's offloaded activations do
        # (model_utils/checkpointing.py get_unsloth_gradient_checkpointing_func; no unsloth needed).
        values["use_unsloth_gc"] = True
    if recipe.stack == "liger":  # its fused linear cross-entropy in SFT: no logits materialised
        values["enable_liger_kernel"] = True
    return values


def _lf_optim(recipe: Recipe) -> str:
    name = str(recipe.value("optim"))
    return LF_GALORE_OPTIM.get(name, name) if recipe.memory_model == "galore" else name


def _lf_train(recipe: Recipe, stage: str, ds_file: str | None) -> dict[str, Any]:
    # One packed row with neat_packing and FlashAttention 2: the recipe was sized so (one_packed_row).
    batch, accumulation = recipe.stage_value("batch", stage), recipe.stage_value("grad_accum", stage)
    values: dict[str, Any] = {
        "per_device_train_batch_size": batch,
        "gradient_accumulation_steps": accumulation,
        "num_train_epochs": recipe.stage_value("epochs", stage),
        "optim": _lf_optim(recipe),
        "lr_scheduler_type": recipe.value("lr_scheduler"),
        "warmup_ratio": recipe.value("warmup_ratio"),
    }
    if recipe.has(f"lr.{stage}"):
        values["learning_rate"] = recipe.value(f"lr.{stage}")
    values["save_steps"] = recipe.value("save.every")  # below 1: a share of the training steps
    values["save_total_limit"] = recipe.value("save.keep")
    if recipe.evaluates(stage):
        # Evaluated at the training micro-batch: transformers' default of 8 may not fit.
        values["per_device_eval_batch_size"] = batch
        values["eval_strategy"] = "steps"
        values["eval_steps"] = recipe.value("eval.every")
    values.update(precision_keys(recipe))
    # GaLore is sized with bf16 weights and no fp32 copy of its projected matrices, as its paper
    # trains and LLaMA-Factory's GaLore examples run it; without pure_bf16 LLaMA-Factory would cast
    # every trained weight to fp32 (cast_trainable_params_to_fp32).
    galore_bf16 = recipe.memory_model == "galore" and recipe.value("precision") == "bf16"
    if recipe.value("precision") == "pure-bf16" or galore_bf16:
        values["pure_bf16"] = True
    if recipe.has("optim_args"):
        values["optim_args"] = recipe.value("optim_args")
    if ds_file is not None:
        values["deepspeed"] = ds_file
    return values


def _lf_dataset(recipe: Recipe, stage: str, template: str) -> dict[str, Any]:
    lf_stage = LF_STAGE[stage]
    values: dict[str, Any] = {
        "dataset": f"ft_atlas_{lf_stage}",
        "dataset_dir": "data",
        "template": template,
        "cutoff_len": recipe.value("seq_len"),
    }
    if recipe.evaluates(stage):
        values["val_size"] = recipe.value("eval.share")  # held out to evaluate on
    if recipe.stage_value("packing", stage):
        # Continued pre-training concatenates documents into full cutoff_len sequences;
        # unpacked, each document would be cut at cutoff_len and the rest dropped.
        values["packing"] = True
    if stage == "sft" and values.get("packing"):
        # Plain packing lets a row's examples attend to each other; neat_packing keeps them apart,
        # at no cost with FlashAttention 2 (else through a seq x seq mask).
        values["neat_packing"] = True
        if packed_apart_by_fa2(recipe, stage):
            values["flash_attn"] = "fa2"
    return values


def render(recipe: Recipe, main: str) -> Rendered:
    template, template_source = _lf_template(recipe)
    recipe.notes.append(t("template: {template} <- {source}.", template=template, source=template_source))
    ds_file = deepspeed_file(recipe)
    documents: list[tuple[str, str]] = []
    exports: set[str] = set()  # the documents llamafactory-cli export runs
    previous: str | None = None
    loaded = recipe.model_hint
    merges = _lf_exports(recipe)
    for stage in recipe.stages:
        if previous is not None and merges:
            name, merged = f"merge_{previous.rsplit('/', 1)[-1]}.yaml", f"{previous}-merged"
            documents.append((name, _lf_export(loaded, previous, merged, template)))
            exports.add(name)
            loaded, previous = merged, None
        lf_stage = LF_STAGE[stage]
        output = f"saves/ft-atlas/{stage}"
        conversations = stage == "sft" and recipe.post_trained
        dataset = LF_CHOSEN if stage == "sft" and recipe.sft_on_chosen else LF_DATASETS[lf_stage]
        info = {f"ft_atlas_{lf_stage}": LF_CONVERSATIONS if conversations else dataset}
        body = "".join(
            [
                f"# data/dataset_info.json must hold: {json.dumps(info)}\n",
                "".join(f"{line}\n" for line in wrapped(t(LF_TOOL_ROWS), "# ")) if conversations else "",
                _lf_block("model", _lf_model(recipe, previous, loaded)),
                _lf_block("method", _lf_stage(recipe, stage)),
                _lf_block("dataset", _lf_dataset(recipe, stage, template)),
                yaml_block("output", {"output_dir": output, "logging_steps": 10, "plot_loss": True}),
                _lf_block("train", _lf_train(recipe, stage, ds_file)),
            ]
        )
        name = main if main and len(recipe.stages) == 1 else f"{stage}.yaml"
        documents.append((name, body))
        previous = output
    recipe.after_training = _after_training(recipe, template, loaded)
    launcher = "llamafactory-cli train"
    if distributed(recipe):
        # LLaMA-Factory starts one process per GPU through torchrun when asked to.
        nodes, per_node = node_layout(recipe.gpus)
        ranks = (
            f"NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR MASTER_PORT={MASTER_PORT} " if nodes > 1 else ""
        )
        launcher = f"FORCE_TORCHRUN=1 NNODES={nodes} {ranks}NPROC_PER_NODE={per_node} {launcher}"
    commands = [("llamafactory-cli export" if name in exports else launcher, name) for name, _ in documents]
    run = " && ".join(f"{command} {shell_word(name)}" for command, name in commands)
    if "sft" in recipe.stages and recipe.post_trained:
        recipe.notes.append(t(INSTRUCT_SFT_DATA))
    recipe.notes += labels_as_answers(recipe, "LLaMA-Factory")
    if recipe.has("router_aux_loss") and not _lf_turns_on_aux_loss(recipe):
        recipe.notes.append(
            t(
                "LLaMA-Factory's moe_aux_loss_coef turns the routers' load-balancing loss on for a fixed "
                "list of model types, not this one: set output_router_logits: true in the model's "
                "config.json first, or the routers train without it."
            )
        )
    if recipe.sft_on_liked:
        recipe.notes.append(t(LIKED_AS_SFT))
    if recipe.family == "lora" and len(recipe.stages) > 1 and _lf_resumes(recipe) and not exports:
        recipe.notes.append(
            t(
                "LLaMA-Factory merges no adapter into a 4-bit model nor under DeepSpeed ZeRO-3 "
                "(model/adapter.py), and this checkpoint cannot be merged by an export step here (it is "
                "stored quantized, the run spans nodes, or its 16-bit copy is more than --ram), so the "
                "later stage resumes the SFT adapter and its reference model is the base model, not the "
                "SFT model."
            )
        )
    if exports:
        # An expert's review: the later stage resumed the SFT adapter, so its reference (the model
        # with the adapter disabled, train/dpo/trainer.py) was the base model, not the SFT model.
        recipe.notes.append(
            t(
                "LLaMA-Factory merges no adapter into a 4-bit model nor under DeepSpeed ZeRO-3 "
                "(model/adapter.py), so {exports} merges each stage's adapter into a 16-bit copy of its "
                "model on the CPU first (llamafactory-cli export: about {gb:.0f} GB of CPU RAM and of disk), "
                "and the next stage trains a new adapter on it, the merged model its reference.",
                exports=", ".join(sorted(exports)),
                gb=recipe.sixteen_bit_gb,
            )
        )
    written_for = t(WRITTEN_FOR, version=VERSION, pins=PINS)
    return yaml_files(recipe, "llamafactory", written_for, run, documents, ds_file, _setup(recipe, ds_file))


def _setup(recipe: Recipe, ds_file: str | None) -> str:
    """LLaMA-Factory installed from its source at the version written for, with the optional
    requirement files the config needs: its parser refuses a deepspeed config without DeepSpeed
    or GaLore and Liger without theirs (hparams/parser.py _check_extra_dependencies), and bitsandbytes,
    torchao and flash-attn are optional too
    (an expert's review: the recipe had no Setup line); on AMD, torch built for ROCm first."""
    files = ["metrics", *(["deepspeed"] if ds_file else [])]
    if recipe.memory_model == "qlora" or bitsandbytes_optimizer(recipe):
        files.append("bitsandbytes")
    if recipe.memory_model == "galore":  # use_galore: check_version("galore_torch", mandatory=True)
        files.append("galore")
    if recipe.stack == "liger":  # enable_liger_kernel: check_version("liger-kernel", mandatory=True)
        files.append("liger-kernel")
    # torchao is no dependency of LLaMA-Factory's (only requirements/fp8.txt names it, with accelerate).
    packages = ["torchao"] if torchao_optimizer(recipe) else []
    requirements = " ".join([*(f"-r requirements/{name}.txt" for name in files), *packages])
    clone = f"git clone --depth 1 --branch v{VERSION} https://github.com/hiyouga/LlamaFactory.git"
    if recipe.facts.get("gpu_vendor") == "amd":
        setup = t(ROCM_TORCH, packages=t(LF_IN_CLONE, requirements=requirements, clone=clone))
    else:
        setup = t(LF_SETUP, clone=clone, requirements=requirements)
    # Without flash-attn, `flash_attn: fa2` only warns and keeps the default attention, and the
    # collator keeps packed rows apart with a 4D block-diagonal mask instead: s x s values a
    # sequence, which the estimate does not size (model_utils/attention.py, data/collator.py).
    if any(packed_apart_by_fa2(recipe, stage) for stage in recipe.stages):
        return t(LF_FLASH_ATTENTION, setup=setup)
    return setup


def _lf_export(model: str, adapter: str, merged: str, template: str) -> str:
    """An export step: the adapter merged into a 16-bit copy of the model it trained on, on the CPU
    (LLaMA-Factory's examples/merge_lora: no quantization_bit, which it refuses to merge into)."""
    return yaml_block("model", {"model_name_or_path": model, "adapter_name_or_path": adapter}) + yaml_block(
        "export",
        {
            "template": template,
            "finetuning_type": "lora",
            "export_dir": merged,
            "export_size": 5,
            "export_device": "cpu",
            "export_legacy_format": False,
        },
    )


def _after_training(recipe: Recipe, template: str, loaded: str) -> str:
    """How to try and merge the result with llamafactory-cli's chat and export, which take the
    same arguments on the command line as in a YAML (launcher.py, hparams/parser.py read_args)."""
    outputs = [f"saves/ft-atlas/{stage}" for stage in recipe.stages]
    if recipe.family != "lora":
        return t(
            "{dir} holds the whole model: try it with llamafactory-cli chat --model_name_or_path {dir} "
            "--template {template}; vllm serve {dir} serves it.",
            dir=outputs[-1],
            template=template,
        )
    # A later LoRA stage trains a new adapter on the merged earlier ones (create_new_adapter), so
    # the model is the base with every stage's adapter, in order; after an export step, the merged
    # model with the last stage's adapter.
    adapters = ",".join(outputs[-1:] if _lf_resumes(recipe) else outputs)  # resumed or merged: the last
    return t(
        "{dir} holds the adapter, not the model. Try it: llamafactory-cli chat --model_name_or_path {base} "
        "--adapter_name_or_path {adapters} --template {template} --finetuning_type lora. The same "
        "arguments to llamafactory-cli export, with --export_dir merged, write one merged model, which "
        "vllm serve loads (without quantization_bit: LLaMA-Factory merges into the 16-bit base only, "
        "QLoRA's too).",
        dir=outputs[-1],
        base=shell_word(loaded),
        adapters=adapters,
        template=template,
    )


register(
    TrainerFormat(
        "llamafactory",
        "LLaMA-Factory YAML (llamafactory-cli train)",
        render,
        gap,
        frozenset(LF_STAGE),
        "",
        liger=True,
        one_packed_row=True,
        kbit_preparation="none",
    )
)
