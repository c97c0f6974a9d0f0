"""axolotl YAML: one config per stage, run with `axolotl train`."""

from __future__ import annotations

import re
from typing import Any

from atlas_cli.core.memory.activations import kv_cache_bytes
from atlas_cli.core.nodes import node_layout
from atlas_cli.core.shell import shell_word
from atlas_cli.i18n import N_, t, translated
from atlas_cli.recipes.launchers import MASTER_PORT, beside_vllm_server, deepspeed_file, distributed
from atlas_cli.recipes.registry import RecipeFile, Rendered, TrainerFormat, register
from atlas_cli.recipes.settings import (
    DROPS_THINKING_GAP,
    FLASH_ATTENTION,
    INSTRUCT_RL_PROMPTS,
    INSTRUCT_SFT_DATA,
    LIKED_AS_SFT,
    ROCM_TORCH,
    Recipe,
    Setting,
    labels_as_answers,
    linear_module_names,
    optimizer_arguments,
    runs_flash_attention_2,
    samples_with_vllm,
    trains_answers_without_thinking,
)
from atlas_cli.recipes.templates import training
from atlas_cli.recipes.yamlout import precision_keys, yaml_block, yaml_files

VERSION = "0.19.0"
# Its pinned dependencies (and what tests/test_recipes_validate.py installs to run its validation).
PINS = "transformers 5.16.1, trl 1.9.0, peft 0.20.0, accelerate 1.13.0, datasets 4.8.4"
WRITTEN_FOR = N_(
    "Written for: axolotl {version} (checked by its own config validation and freeze helper), in an "
    "environment with its pins: {pins}."
)
# axolotl-ai-cloud/axolotl@067b021c README.md, Installation (torch first, then axolotl unisolated).
SETUP = N_("Setup: pip install torch, then pip install --no-build-isolation {packages}")

AX_RL = {"dpo": "dpo", "kto": "kto", "grpo": "grpo", "simpo": "simpo"}
AX_OBJECTIVES = frozenset({"sft", "continued-pretraining", *AX_RL})
# axolotl matches each unfrozen_parameters pattern with re.match, anchored at the start of the
# parameter name, after escaping every "." not followed by "+" (axolotl/utils/freeze.py): a
# pattern must spell the module path from the top ("model.layers.31."), and "^.+bias$" is the
# form of "any bias" that survives the escaping.
AX_BITFIT = ["^.+bias$"]


# Where a vision-language model keeps its text layers, and their MLP's module names, where they
# differ from model.language_model.layers.N.(self_attn|mlp) (transformers' Gemma 3, Mistral 3,
# Qwen-VL): Llama 4 keeps language_model.model.layers.N.feed_forward(.shared_expert) (axolotl's
# examples/llama-4 configs).
AX_TEXT_LAYERS = {
    "llama4": ("language_model.model.layers.", r"self_attn|feed_forward|feed_forward\.shared_expert"),
}

# The token a family's chat template ends each turn with, where it is not the tokenizer's
# eos_token: axolotl's chat_template type trains [eos_token] at each turn's end unless eot_tokens
# says otherwise (prompt_strategies/chat_template.py), and Gemma's templates end turns with
# <end_of_turn> and never write <eos>, so the turn terminator would go untrained. axolotl's own
# Gemma examples set it (axolotl-ai-cloud/axolotl@067b021:examples/gemma3/gemma-3-1b-qlora.yml,
# examples/gemma2/qlora.yml).
# gpt-oss's harmony template ends every turn but the last with <|end|>, its eos_token being
# <|return|> (axolotl's examples/gpt-oss/*.yaml set eot_tokens ["<|end|>"]).
AX_TURN_END = {"gemma2": "<end_of_turn>", "gemma3": "<end_of_turn>", "gpt_oss": "<|end|>"}
# The message key a family's chat template reads an answer's reasoning from, where it is not
# axolotl's default reasoning_content (prompt_strategies/chat_template.py field_thinking and
# template_thinking_key; transform_message copies only the mapped keys): gpt-oss renders its
# analysis channel from `thinking` (axolotl's examples/gpt-oss/gpt-oss-20b-sft-lora-singlegpu.yaml).
AX_THINKING_KEY = {"gpt_oss": "thinking"}

AX_ROCM_DEEPSPEED = N_(
    "On ROCm: axolotl's AMD guide (docs/amd_hpc.qmd) says 'Deepspeed did not work at the time of "
    "testing' and trains with FSDP; try a few steps of this DeepSpeed config before a long run."
)

AX_APPLE = N_(
    "On Apple silicon: axolotl's Mac guide (docs/mac.qmd) calls it partially usable there: no "
    "bitsandbytes, DeepSpeed or flash-attn, and FP16/BF16 listed as awaiting PyTorch's AMP on MPS. "
    "Try a few steps before a long run; the Python recipe (--trainer python) sets its precision and "
    "optimizer for MPS."
)

AX_LIGER_PLUGIN = "axolotl.integrations.liger.LigerPlugin"
# axolotl/integrations/liger/args.py (LigerArgs): the fused linear cross-entropy never builds the
# logits, as the memory estimate's "liger" stack assumes.
AX_LIGER_KEYS = ("liger_rope", "liger_rms_norm", "liger_glu_activation", "liger_fused_linear_cross_entropy")


def gap(recipe: Recipe) -> str | None:
    if "orpo" in recipe.stages:
        return t(
            "axolotl reads ORPO data through its own chat-template dataset types, not the prompt / "
            "chosen / rejected fields these recipes write; use --trainer llamafactory (pref_loss: orpo)"
        )
    if "reward-model" in recipe.stages:
        return t(
            "axolotl's reward-model datasets are chat-template conversations (bradley_terry.chat_template), "
            "not the prompt / chosen / rejected pairs these recipes write"
        )
    if "kto" in recipe.stages and recipe.post_trained:
        return t(
            "axolotl's KTO datasets are a user-defined format, which would train an instruct model on "
            "bare text, or fixed ChatML / Llama 3 strings, not the model's own chat template; use "
            "--trainer python or llamafactory, which render it"
        )
    if "rloo" in recipe.stages:
        return t("axolotl's rl: options are dpo, ipo, orpo, kto, simpo, grpo, gdpo and ebft, not RLOO")
    trl_stages = [stage for stage in recipe.stages if stage not in ("sft", "continued-pretraining")]
    if recipe.router_logits_without_loss and trl_stages:
        return t(
            "axolotl's rl: stages run trl 1.9's trainers, which ask {family}'s model for the "
            "load-balancing loss its config declares and read outputs.aux_loss, which it never returns "
            "(AttributeError at the first step); use --trainer python, which turns that loss off",
            family=recipe.model.family if recipe.model is not None else "",
        )
    if recipe.sequence_parallel > 1:
        return t(
            "the plan fits only with each sequence split over {parts} GPUs; axolotl's "
            "context_parallel_size does that with ring-flash-attn and a micro-batch of 1 when packing, which "
            "these recipes do not write yet; use --trainer python (DeepSpeed Ulysses)",
            parts=recipe.sequence_parallel,
        )
    if recipe.shards_expert_lora:
        return t(
            "LoRA on the fused experts (lora_target_parameters) under ZeRO-3 needs peft 0.21.0 or newer, "
            "which reads a partitioned parameter's shape (huggingface/peft#3576), and axolotl 0.19.0 pins "
            "peft 0.20.0, which raises IndexError as it wraps them; use --trainer python"
        )
    if recipe.family == "weights" and recipe.has("precision") and recipe.value("precision") == "fp16":
        return t(
            "axolotl loads the weights it trains in fp16 with fp16: true (no fp32 master copy), and "
            "fp16 mixed precision refuses fp16 gradients ('Attempting to unscale FP16 gradients'); use "
            "--trainer llamafactory or python, which keep an fp32 copy, or a LoRA plan"
        )
    if any(recipe.has(f"{stage}.chat_template_kwargs") for stage in recipe.stages):
        # Its schema has trl.chat_template_kwargs, but its GRPO strategy never hands it to
        # GRPOConfig (axolotl 0.19.0 core/trainers/grpo/__init__.py set_training_args_kwargs;
        # unchanged at axolotl-ai-cloud/axolotl@067b021): written, it would be ignored.
        return t(
            "the plan's completion budget cuts this model's thoughts, so it samples without thinking "
            "(chat_template_kwargs), which axolotl's GRPO does not pass on to TRL; use --trainer python, "
            "or give --seq-len as prompt + a completion budget of several thousand tokens"
        )
    if trains_answers_without_thinking(recipe):
        also = t(" (its own deepseek_v3 template alike)")
        return t(DROPS_THINKING_GAP, trainer="axolotl", also=also)
    whole_context = _whole_context_cache(recipe)
    if whole_context:
        return whole_context
    if recipe.family not in ("weights", "lora"):
        return t(
            "axolotl trains full weights, LoRA / QLoRA (and DoRA via peft_use_dora), or the parameters "
            "matched by unfrozen_parameters; {name} is not among them; use --trainer python",
            name=translated(recipe.plan.name),
        )
    return None


def block_prefix(recipe: Recipe) -> str:
    """Where the decoder blocks sit in the parameter names of the model AutoModelForCausalLM loads."""
    model = recipe.model
    if model is not None and model.family == "gpt2":
        return "transformer.h."
    if model is not None and model.vision_params_b:
        return "model.language_model.layers."  # multimodal wrappers keep the text model inside
    return "model.layers."


def _whole_context_cache(recipe: Recipe) -> str | None:
    """axolotl hands a colocated vLLM engine no vllm_max_model_length (its GRPO strategy passes
    only the share and the tensor-parallel size), so vLLM sizes for the model's whole context and
    refuses to start when the KV cache of one such sequence does not fit its share beside the
    16-bit weights (vLLM's _check_enough_kv_cache_memory): Llama 3.2 3B's 131,072 tokens need
    ~15 GB of cache, more than 30 % of a 24 GB card holds. Checked once the recipe's estimate has
    set the share; None where it fits, or nothing is sampled with vLLM."""
    found = recipe.estimates.get("grpo")
    if found is None or recipe.model is None or not recipe.has("grpo.vllm_gpu_memory_utilization"):
        return None
    # vLLM's default max_model_len: the config's positions, which may pass the native context.
    context, capacity = recipe.model.config_positions or recipe.model.context_length, found.capacity_gb
    if context is None or capacity is None:
        return None
    share = float(recipe.value("grpo.vllm_gpu_memory_utilization"))
    split = int(recipe.value("grpo.vllm_tensor_parallel_size"))
    need = (found.shape.params * 2 + kv_cache_bytes(found.shape, context)) / split / 1e9
    if need <= share * capacity:
        return None
    return t(
        "axolotl passes no vllm_max_model_length to its colocated vLLM engine, so vLLM sizes for the "
        "model's whole {context:,}-token context and refuses to start when one such sequence's KV cache "
        "does not fit its share beside the weights: {need:.1f} GB per GPU against {have:.1f} GB "
        "(vllm.gpu_memory_utilization {share:g}); use --trainer python, which sets vllm_max_model_length",
        context=context,
        need=need,
        have=share * capacity,
        share=share,
    )


def _ax_dataset(recipe: Recipe, stage: str) -> dict[str, Any]:
    if stage == "sft" and recipe.post_trained:
        # An instruct model keeps the chat template it is served with: conversations rendered by
        # the tokenizer's own template, the loss on the assistant's turns (axolotl's chat_template
        # type; a user-defined format would train it on bare prompt text).
        thinking = AX_THINKING_KEY.get(recipe.model.family) if recipe.model is not None else None
        return {
            "path": "sft.jsonl",
            "type": "chat_template",
            "chat_template": "tokenizer_default",
            "field_messages": "messages",
            **({"field_thinking": thinking, "template_thinking_key": thinking} if thinking else {}),
            "roles_to_train": ["assistant"],
            "train_on_eos": "turn",
        }
    if stage == "sft":
        chosen = recipe.sft_on_chosen  # no demonstrations: the pairs' chosen answers
        kind: Any = {
            "field_instruction": "prompt",
            "field_output": "chosen" if chosen else "completion",
            "format": "{instruction}",
            "no_input_format": "{instruction}",
        }
        return {"path": "dpo.jsonl" if chosen else "sft.jsonl", "type": kind}
    if stage == "continued-pretraining":
        return {"path": "text.jsonl", "type": "completion", "field": "text"}
    if stage in ("dpo", "simpo") and recipe.post_trained:
        # The prompt, chosen and rejected strings rendered with the model's own chat template
        # (axolotl's dpo/chat_template.py, whose default template is the tokenizer's, takes a
        # string prompt as the user's turn); a user-defined type would train on bare text.
        return {
            "path": "dpo.jsonl",
            "split": "train",
            "type": "chat_template.default",
            "field_messages": "prompt",
            "field_chosen": "chosen",
            "field_rejected": "rejected",
        }
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


def _turn_end(recipe: Recipe, stage: str) -> str | None:
    """The eot_tokens entry of a stage trained in the model's own chat template (_ax_dataset's
    chat_template type), where that template's turn end is not its eos_token (AX_TURN_END)."""
    if stage != "sft" or not recipe.post_trained or recipe.model is None:
        return None
    return AX_TURN_END.get(recipe.model.family)


def _ax_unfrozen(recipe: Recipe) -> list[str] | None:
    if recipe.memory_model == "bitfit":
        return list(AX_BITFIT)
    if recipe.memory_model != "partial" or recipe.model is None or not recipe.has("partial.fraction"):
        return None
    layers = recipe.model.layers
    first = layers - max(1, round(layers * float(recipe.value("partial.fraction"))))
    return [f"{block_prefix(recipe)}{i}." for i in range(first, layers)]


def _ax_model(recipe: Recipe, previous: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"base_model": previous or recipe.model_hint}
    if recipe.stack == "liger":  # axolotl's Liger plugin: fused kernels and linear cross-entropy
        values.update(plugins=[AX_LIGER_PLUGIN], **dict.fromkeys(AX_LIGER_KEYS, True))
    if recipe.dequantizing_config is not None:  # as axolotl's examples/gpt-oss configs load MXFP4
        values.update(
            model_quantization_config=recipe.dequantizing_config,
            model_quantization_config_kwargs={"dequantize": True},
        )
    if recipe.family == "lora":
        values["adapter"] = "qlora" if _qlora_adapter(recipe) else "lora"
        if recipe.memory_model == "qlora":
            values["load_in_4bit" if _quant_bits(recipe) == 4 else "load_in_8bit"] = True
        if recipe.quantized_experts:
            values["quantize_moe_experts"] = True
        if recipe.has("lora.r"):
            values["lora_r"] = recipe.value("lora.r")
        targets = recipe.value("lora.targets") if recipe.has("lora.targets") else "all-linear"
        named = isinstance(targets, list) or targets == "all-linear"
        if named and recipe.has("lora.exclude") and recipe.plan.estimate is not None:
            # axolotl's all-linear, like a name, takes every leaf nn.Linear of that name, the vision
            # tower's too: the text model's layers by path instead, as its Gemma 3 vision example does.
            listed = targets if isinstance(targets, list) else linear_module_names(recipe.plan.estimate.shape)
            names = "|".join(listed)
            family = recipe.model.family if recipe.model is not None else ""
            prefix, blocks = AX_TEXT_LAYERS.get(family, (block_prefix(recipe), "self_attn|mlp"))
            values["lora_target_modules"] = re.escape(prefix) + rf"\d+\.({blocks})\.({names})"
        elif targets == "all-linear":
            values["lora_target_linear"] = True
        else:
            values["lora_target_modules"] = targets if isinstance(targets, list) else str(targets).split(",")
        for key, name in (
            ("lora.alpha", "lora_alpha"),
            ("lora.dropout", "lora_dropout"),
            ("lora.use_dora", "peft_use_dora"),
            ("lora.expert_parameters", "lora_target_parameters"),
        ):
            if recipe.has(key):
                values[name] = recipe.value(key)
    unfrozen = _ax_unfrozen(recipe)
    if unfrozen:
        values["unfrozen_parameters"] = unfrozen
    return values


def _quant_bits(recipe: Recipe) -> int:
    return int(recipe.value("quant.bits")) if recipe.has("quant.bits") else 4


def _qlora_adapter(recipe: Recipe) -> bool:
    """axolotl's "qlora" adapter is the 4-bit one; LoRA on an 8-bit base is "lora" + load_in_8bit."""
    return recipe.memory_model == "qlora" and _quant_bits(recipe) == 4


# axolotl 0.19's validation (utils/schemas/validation.py): warn_qlora_zero3_w_use_reentrant warns
# that a qlora adapter under ZeRO-3 with use_reentrant: false "may result in a CheckpointError about
# recomputed values" (its docs/grpo.qmd: tensor metadata mismatches with ZeRO-3's parameter
# partitioning), and check_rl_config_gradient_checkpointing refuses use_reentrant: true for QLoRA
# with rl: on several GPUs. Non-RL stages get the reentrant form, axolotl's own default for them,
# written out; RL stages keep axolotl's default for them, non-reentrant, and the header says so.
AX_REENTRANT_SOURCE = (
    "axolotl utils/schemas/validation.py warn_qlora_zero3_w_use_reentrant: qlora + zero3 with "
    "use_reentrant: false may result in a CheckpointError about recomputed values (true is also "
    "axolotl's default for a stage without rl:, utils/config normalize_config)"
)
AX_SHARD_LOADED_REENTRANT = (
    "axolotl examples/llama-3/qlora-fsdp-70b.yaml (QLoRA under FSDP1, loaded shard by shard): "
    "gradient_checkpointing_kwargs use_reentrant: true"
)
AX_NON_REENTRANT_RL = N_(
    "Gradient checkpointing in {stages} (QLoRA under ZeRO-3) is non-reentrant, axolotl's default "
    "for stages with rl; it refuses use_reentrant: true for QLoRA with rl on several GPUs "
    "(check_rl_config_gradient_checkpointing), though its validation warns that non-reentrant "
    "recomputation under ZeRO-3 may fail with a CheckpointError about recomputed values "
    "(warn_qlora_zero3_w_use_reentrant)."
)


def _reentrant_checkpointing(recipe: Recipe) -> None:
    """use_reentrant: true for the non-RL stages of a QLoRA plan under ZeRO-3, with its source;
    for its RL stages, which axolotl refuses it for, a note (the comment above AX_REENTRANT_SOURCE)."""
    checkpointed = bool(recipe.value("gradient_checkpointing"))
    if not (checkpointed and _qlora_adapter(recipe) and recipe.sharding == "zero3"):
        return
    source = AX_SHARD_LOADED_REENTRANT if recipe.sharded_loading else AX_REENTRANT_SOURCE
    for stage in recipe.stages:
        if stage not in AX_RL:
            recipe.set(f"use_reentrant.{stage}", Setting(True, source))
    rl = [stage for stage in recipe.stages if stage in AX_RL]
    if rl:
        recipe.notes.append(t(AX_NON_REENTRANT_RL, stages=", ".join(rl)))


def _ax_train(recipe: Recipe, stage: str, output: str, ds_file: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sequence_len": recipe.value("seq_len"),
        "micro_batch_size": recipe.stage_value("batch", stage),
        "gradient_accumulation_steps": recipe.stage_value("grad_accum", stage),
        "num_epochs": recipe.stage_value("epochs", stage),
        "optimizer": recipe.value("optim"),
        "lr_scheduler": recipe.value("lr_scheduler"),
        "gradient_checkpointing": recipe.value("gradient_checkpointing"),
        "output_dir": output,
    }
    if recipe.has("activation_offloading") and stage in recipe.offloading_stages:
        # The checkpointed layer inputs only, as the estimate sizes them; `true` turns checkpointing
        # off for adapters and offloads every activation (core/builders/base.py, schemas/config.py).
        values["activation_offloading"] = "hidden_states"
    if recipe.has(f"use_reentrant.{stage}"):
        values["gradient_checkpointing_kwargs"] = {
            "use_reentrant": recipe.stage_value("use_reentrant", stage)
        }
    if stage != "simpo":  # axolotl's SimPO refuses warmup_ratio (it takes only a step count)
        values["warmup_ratio"] = recipe.value("warmup_ratio")
    if recipe.stage_value("packing", stage):
        # Several documents per sequence; a document longer than sequence_len is split into
        # chunks by the completion type, not cut.
        values["sample_packing"] = True
    if recipe.has("attention"):
        # FlashAttention 2 keeps packed rows apart; a family without an SDPA kernel (gpt-oss) gets
        # one without s x s matrices (axolotl passes hub-kernel paths on to transformers).
        chosen = str(recipe.value("attention"))
        values["attn_implementation"] = "flash_attention_2" if chosen == FLASH_ATTENTION else chosen
    if recipe.has("router_aux_loss"):
        # The routers train with their load-balancing loss (loaders/utils.py applies model_config
        # to the model's config; examples/mistral/mixtral/mixtral.yml sets it so).
        coefficient = recipe.value("router_aux_loss")
        values["model_config"] = {"output_router_logits": True, "router_aux_loss_coef": coefficient}
    if recipe.has(f"lr.{stage}"):
        values["learning_rate"] = recipe.value(f"lr.{stage}")
    values["save_steps"] = recipe.value("save.every")  # a float: a share of the training steps
    values["save_total_limit"] = recipe.value("save.keep")
    if recipe.evaluates(stage):
        # A share of the rows (axolotl's preference loader takes no count); the evaluation
        # micro-batch defaults to micro_batch_size.
        values["val_set_size"] = recipe.value("eval.share")
        values["eval_steps"] = recipe.value("eval.every")
    values.update(precision_keys(recipe))
    values.update(optimizer_arguments(recipe))
    if ds_file is not None:
        values["deepspeed"] = ds_file
    if recipe.sharded_loading:
        values.update(_ax_shard_loaded_fsdp(recipe))
    return values


def _ax_shard_loaded_fsdp(recipe: Recipe) -> dict[str, Any]:
    """FSDP1 with the 4-bit base loaded shard by shard, as axolotl's
    examples/llama-3/qlora-fsdp-70b.yaml sets it, with its parameter offload where the estimate
    keeps them in CPU RAM, and in the fsdp_config names its schema takes (utils/schemas/fsdp.py)."""
    return {
        "qlora_sharded_model_loading": True,
        "fsdp_version": 1,
        "fsdp_config": {
            "offload_params": recipe.offload == "params",
            "cpu_ram_efficient_loading": True,
            "sync_module_states": True,
            "use_orig_params": False,
            "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "transformer_layer_cls_to_wrap": recipe.fsdp_qlora_layer,
            "state_dict_type": "FULL_STATE_DICT",
        },
    }


def _setup(recipe: Recipe, deepspeed: bool) -> str:
    """What a clean machine installs: axolotl with its DeepSpeed extra where the config names a
    DeepSpeed file, its flash-attn extra when
    the config names FlashAttention 2, its vLLM extra when a stage samples with vLLM (TRL raises
    "vLLM is not available" otherwise; axolotl's docs/rlhf.qmd: pip install axolotl[vllm]), and
    math-verify for GRPO's rewards.py, which imports it and is no dependency of axolotl's (an
    expert's review: both crashed); on AMD, torch built for ROCm first."""
    extras = ",".join(
        [
            *(["deepspeed"] if deepspeed else []),
            *(["vllm"] if samples_with_vllm(recipe) else []),
            # attn_implementation flash_attention_2 needs the flash-attn package (docs/attention.qmd);
            # the extra pins the release axolotl is tested with (pyproject.toml: flash-attn==2.8.3).
            *(["flash-attn"] if runs_flash_attention_2(recipe) else []),
        ]
    )
    axolotl = f"axolotl[{extras}]=={VERSION}" if extras else f"axolotl=={VERSION}"
    packages = [axolotl, *(["math-verify"] if "grpo" in recipe.stages else [])]
    words = " ".join(shell_word(p) for p in packages)
    if recipe.facts.get("gpu_vendor") == "amd":
        return t(ROCM_TORCH, packages=f"--no-build-isolation {words}")
    return t(SETUP, packages=words)


def _data_note(recipe: Recipe) -> str:
    """Each stage's data file and the keys of its lines (a newcomer's review: the config named
    prompt/completion fields nowhere said, and chat logs failed only in axolotl). Online RL's
    prompts are another note's (INSTRUCT_RL_PROMPTS) and the reward function's."""
    files: dict[str, list[str]] = {}
    for stage in recipe.stages:
        dataset = _ax_dataset(recipe, stage)
        kind = dataset.get("type")
        if kind == "chat_template" and "field_thinking" in dataset:
            thinking = dataset["field_thinking"]
            turns = t('a list of role/content turns, an answer\'s reasoning in its "{key}"', key=thinking)
            keys = [f'"{dataset["field_messages"]}" ({turns})']
        elif kind == "chat_template":
            keys = [f'"{dataset["field_messages"]}" ({t("a list of role/content turns")})']
        elif kind == "completion":
            keys = [f'"{dataset["field"]}"']
        elif kind == "chat_template.default":
            keys = [f'"{dataset[k]}"' for k in ("field_messages", "field_chosen", "field_rejected")]
        elif isinstance(kind, dict):
            keys = [f'"{v}"' for k, v in kind.items() if k.startswith("field_")]
        else:
            continue
        # Stages sharing a file (SFT on the chosen answers, then DPO) each read their own keys.
        known = files.setdefault(dataset["path"], [])
        known += [key for key in keys if key not in known]
    described = "; ".join(f"{path}: {', '.join(keys)}" for path, keys in files.items())
    if not files:
        return ""
    note = t("Data, one JSON object per line: {files}.", files=described)
    if not recipe.post_trained and any(
        isinstance(_ax_dataset(recipe, s).get("type"), dict) for s in recipe.stages
    ):
        # axolotl's user-defined formats join the fields with nothing between them (an expert's
        # review: the prompt format a base model learns was nowhere said).
        note += " " + t(
            "A base model trains on each prompt and answer as written, joined with nothing between: end "
            'the prompts with the separator you will prompt it with (e.g. "\\n\\n### Assistant:\\n", '
            "the Python recipe's plain template), or start the answers with a space."
        )
    return note


def _ax_stage(recipe: Recipe, stage: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "datasets": [_ax_dataset(recipe, stage)],
        "dataset_prepared_path": f"last_run_prepared/{stage}",
    }
    turn_end = _turn_end(recipe, stage)
    if turn_end is not None:
        values["eot_tokens"] = [turn_end]
    if stage in AX_RL:
        values["rl"] = AX_RL[stage]
    if stage in ("dpo", "kto", "simpo") and recipe.has(f"{stage}.beta"):
        values["rl_beta"] = recipe.value(f"{stage}.beta")
    if stage == "simpo":
        for key in ("simpo_gamma", "cpo_alpha"):
            if recipe.has(f"simpo.{key}"):
                values[key] = recipe.value(f"simpo.{key}")
    if stage == "kto":
        # axolotl's validation refuses KTO without it: KTO's collator needs the label column.
        values["remove_unused_columns"] = False
        for key in ("desirable_weight", "undesirable_weight"):
            if recipe.has(f"kto.{key}"):
                values[f"kto_{key}"] = recipe.value(f"kto.{key}")
    if stage == "grpo":
        trl: dict[str, Any] = {"reward_funcs": ["rewards.reward_matches_solution"]}
        for key in (
            "beta",
            "num_generations",
            "max_completion_length",
            "use_vllm",
            "vllm_mode",
            "vllm_server_timeout",
        ):
            if recipe.has(f"grpo.{key}"):
                trl[key] = recipe.value(f"grpo.{key}")
        if recipe.gpus > 1:
            # TRL's own generation batch, all GPUs' micro-batches over the accumulation, written
            # out: axolotl otherwise checks one GPU's micro_batch_size x gradient_accumulation_steps
            # against num_generations x world size (check_grpo_batch_size_divisibility).
            per_gpu = int(recipe.stage_value("batch", stage)) * int(recipe.stage_value("grad_accum", stage))
            trl["generation_batch_size"] = per_gpu * recipe.gpus
        values["trl"] = trl
        if recipe.vllm_server_gpus:
            # `axolotl vllm-serve` starts the server from this file's vllm: section (its
            # gpu_memory_utilization defaults to 0.9, `trl vllm-serve`'s, as the estimate sizes it).
            values["vllm"] = {
                "tensor_parallel_size": recipe.vllm_server_gpus,
                "max_model_len": recipe.value("grpo.vllm_server_max_model_len"),
            }
        elif recipe.has("grpo.vllm_gpu_memory_utilization"):
            # axolotl reads the colocated engine's share from its own vllm: section (default 0.9)
            # Both always: axolotl hands its vllm: values to TRL as they are, and TRL multiplies by
            # the tensor-parallel size (None when unset).
            values["vllm"] = {
                "gpu_memory_utilization": recipe.value("grpo.vllm_gpu_memory_utilization"),
                "tensor_parallel_size": recipe.value("grpo.vllm_tensor_parallel_size"),
            }
            # Not a setting this file writes: the header lists only what it does.
            length = recipe.settings.pop("grpo.vllm_max_model_length").value
            recipe.notes.append(
                "vLLM: axolotl does not pass TRL's vllm_max_model_length to a colocated engine, so vLLM "
                "sizes for the model's whole context and refuses to start when the KV cache of one such "
                "sequence does not fit vllm.gpu_memory_utilization: raise it, or use the Python recipe, "
                f"which sets {length} tokens."
            )
    return values


# rewards.py beside the config, which axolotl imports trl.reward_funcs from by module path: the
# reward function the Python recipes write (--out DIR/ writes it; on stdout it follows as comments).
AX_REWARD = RecipeFile(
    "rewards.py",
    '"""GRPO reward functions for the axolotl config beside this file (trl.reward_funcs)."""\n\n'
    + "import re\nfrom typing import Any\n"
    + training.REWARD_FUNCTION,
)


def _named_targets(recipe: Recipe) -> None:
    """With quantize_moe_experts (as the recipe's estimate settled it), the nn.Linear layers PEFT's
    all-linear adapts, by name: axolotl refuses lora_target_linear with it. (The routed experts
    are fused parameters, not among them.)"""
    estimate = recipe.plan.estimate
    if not recipe.quantized_experts or recipe.value("lora.targets") != "all-linear" or estimate is None:
        return
    recipe.set(
        "lora.targets",
        Setting(
            linear_module_names(estimate.shape),
            "all-linear's nn.Linear layers by name: axolotl refuses lora_target_linear with "
            "quantize_moe_experts (utils/schemas/config.py check_quantize_moe_experts)",
        ),
    )


def render(recipe: Recipe, main: str) -> Rendered:
    ds_file = None if recipe.sharded_loading else deepspeed_file(recipe)
    _named_targets(recipe)
    _reentrant_checkpointing(recipe)
    documents: list[tuple[str, str]] = []
    previous: str | None = None
    for stage in recipe.stages:
        output = f"./outputs/{stage}"
        body = "".join(
            [
                yaml_block("model", _ax_model(recipe, previous)),
                yaml_block("data", _ax_stage(recipe, stage)),
                yaml_block("training", _ax_train(recipe, stage, output, ds_file)),
            ]
        )
        name = main if main and len(recipe.stages) == 1 else f"{stage}.yaml"
        documents.append((name, body))
        # A later stage starts from the previous stage's weights: adapters are merged first
        # (`axolotl merge-lora`), which writes them to <output_dir>/merged.
        previous = f"{output}/merged" if recipe.family == "lora" else output
    launch = ""
    if distributed(recipe):
        nodes, per_node = node_layout(recipe.gpus)
        ranks = (
            f" --nnodes {nodes} --node_rank $NODE_RANK --master_addr $MASTER_ADDR --master_port {MASTER_PORT}"
            if nodes > 1
            else ""
        )
        launch = f" --launcher torchrun --{ranks} --nproc_per_node {per_node}"
    steps = []
    for i, (name, _) in enumerate(documents):
        train = f"axolotl train {shell_word(name)}{launch}"
        serves = name == documents[-1][0] and recipe.vllm_server_gpus
        steps.append(
            beside_vllm_server(recipe, train, f"axolotl vllm-serve {shell_word(name)}") if serves else train
        )
        if recipe.family == "lora" and i < len(documents) - 1:
            steps.append(f"axolotl merge-lora {shell_word(name)}")
    if "sft" in recipe.stages and recipe.post_trained:
        recipe.notes.append(t(INSTRUCT_SFT_DATA))
    recipe.notes += labels_as_answers(recipe, "axolotl")
    if "grpo" in recipe.stages and recipe.post_trained:
        recipe.notes.append(t(INSTRUCT_RL_PROMPTS))
    if recipe.sft_on_liked:
        recipe.notes.append(t(LIKED_AS_SFT))
    attention = str(recipe.value("attention")) if recipe.has("attention") else ""
    if attention.startswith("kernels-community/"):
        recipe.notes.append(f"attn_implementation {attention} is a prebuilt hub kernel: pip install kernels.")
    if "grpo" in recipe.stages and recipe.has("grpo.max_completion_length"):
        # TRL samples after the whole prompt; the estimate sized prompt + completion.
        completion = recipe.value("grpo.max_completion_length")
        prompt = recipe.value("seq_len") - completion
        recipe.notes.append(
            f"GRPO: keep prompts within {prompt} tokens (filter the dataset first): TRL no longer "
            f"truncates them, and memory was sized for {prompt} prompt plus {completion} completion tokens."
        )
    if "simpo" in recipe.stages:
        recipe.notes.append(
            "SimPO: axolotl refuses warmup_ratio with SimPO; set warmup_steps to about a tenth of the "
            "training steps."
        )
    if recipe.facts.get("gpu_vendor") == "amd" and ds_file:
        # axolotl's only AMD guide (docs/amd_hpc.qmd, ROCm 5.7 on MI250) reports it. (Its xformers
        # SwiGLU patch concerns flash_attn_fuse_mlp, which these configs never set.)
        recipe.notes.append(t(AX_ROCM_DEEPSPEED))
    if recipe.facts.get("gpu_vendor") == "apple":
        recipe.notes.append(t(AX_APPLE))
    data = _data_note(recipe)
    if data:
        recipe.notes.insert(0, data)
    recipe.after_training = _after_training(recipe, documents[-1][0], f"./outputs/{recipe.stages[-1]}")
    written_for = t(WRITTEN_FOR, version=VERSION, pins=PINS)
    setup = _setup(recipe, ds_file is not None)
    beside = (AX_REWARD,) if "grpo" in recipe.stages else ()
    return yaml_files(recipe, "axolotl", written_for, " && ".join(steps), documents, ds_file, setup, beside)


def _after_training(recipe: Recipe, config: str, output: str) -> str:
    """How to try, merge and serve the last stage's output with axolotl's own commands
    (docs/inference.qmd: inference --lora-model-dir / --base-model, merge-lora to <output_dir>/merged)."""
    if recipe.family == "lora":
        return t(
            "{dir} holds the adapter, not the model. Try it: axolotl inference {config} "
            "--lora-model-dir={dir} --chat. axolotl merge-lora {config} merges it into the base, loaded in "
            "16 bits (QLoRA's too), and writes {dir}/merged, which vllm serve loads.",
            dir=output,
            config=shell_word(config),
        )
    return t(
        "{dir} holds the whole model: try it with axolotl inference {config} --base-model={dir} --chat; "
        "vllm serve {dir} serves it.",
        dir=output,
        config=shell_word(config),
    )


register(
    TrainerFormat(
        "axolotl",
        "axolotl YAML (axolotl train)",
        render,
        gap,
        AX_OBJECTIVES,
        "",
        liger=True,
        quantizes_experts=True,
        loads_quantized_shards=True,
        master_copy=False,
        packs_apart=True,
        # prepare_model_for_kbit_training upcasts the unquantized weights to fp32, and axolotl casts
        # the norms, embeddings and LM head back to the training dtype for any LoRA run
        # (loaders/model.py: should_convert, _convert_embedding_modules_dtype), not the experts.
        kbit_preparation="recast",
    )
)
