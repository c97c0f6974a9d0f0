"""Recipes (`atlas_cli.recipes`): every plan kind in every format either renders or is refused
with a reason; Python recipes parse and lint clean; YAML configs use only the keys their trainer
documents; headers carry the profile, the plan, the memory estimate, the sources and the versions;
V100/T4 get fp16; PPO never appears. No ML library is needed (tests/test_recipes_run.py runs them).
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from atlas_cli.core.engine import Engine
from atlas_cli.core.memory.search import estimator
from atlas_cli.core.plans import Recommendation, hours_text
from atlas_cli.core.profile import build_profile
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base
from atlas_cli.kb.records import from_model
from atlas_cli.kb.schema import Hyperparameter, KnowledgeBase
from atlas_cli.kb.vocabulary import STACKS
from atlas_cli.recipes.registry import Rendered, format_names
from atlas_cli.recipes.settings import (
    FUSED_LM_HEAD_TRL,
    MINIMUM_VERSIONS,
    VISION_MODULES,
    WRITTEN_FOR,
    Recipe,
    held_out_rows,
    hybrid_thinking,
)
from atlas_cli.recipes.writer import render_recipe, write_recipe
from atlas_cli.render.documents import recipe_command, recipe_note
from tests.conftest import Runner, fails, ok
from tests.test_knowledge import bundled_sections, write_kb

FORMATS = format_names()
# The formats whose trainers run on PyTorch wherever it runs; mlx-lm runs on Apple silicon only.
APPLE_ONLY = {"mlx"}
PYTORCH_FORMATS = [fmt for fmt in FORMATS if fmt not in APPLE_ONLY]

CATALOG = Catalog(load_knowledge_base(bundled_kb_path()))
ENGINE = Engine(CATALOG)

# Profiles that between them yield every (method, pipeline, architecture) the engine can rank.
PROFILES: list[dict[str, str]] = [
    *(
        {"gpu": "rtx-3090", "model": "llama-3.1-8b", "data_kind": k}
        for k in ("demonstrations", "preferences", "ratings", "reward-function", "text")
    ),
    *(
        {"gpu": "a100-80gb", "model": "qwen2.5-0.5b", "data_kind": k}
        for k in ("demonstrations", "preferences", "ratings", "reward-function", "text")
    ),
    {"gpu": "rtx-3090", "model": "bert-base", "goal": "classify"},
    {"gpu": "rtx-3090", "model": "t5-base", "goal": "adapt"},
    {"model_access": "api", "goal": "knowledge"},
    {"gpu": "none", "model-size": "1b", "goal": "chat"},
    # An instruct model: the preference stage alone; cost or speed first: ORPO / SimPO.
    *(
        {"gpu": "a100-80gb", "model": "qwen3-0.6b", "data_kind": k, "examples": "5k"}
        for k in ("preferences", "ratings")
    ),
    # An instruct model with its user's own demonstrations: SFT in its chat template, then DPO.
    {"gpu": "a100-80gb", "model": "qwen3-0.6b", "data_kind": "demonstrations", "examples": "5k"},
    {"gpu": "a100-80gb", "model": "qwen2.5-0.5b", "data_kind": "preferences", "priority": "speed"},
    {"gpu": "a100-80gb", "model": "qwen3-0.6b", "data_kind": "preferences", "priority": "cost"},
    {"model_access": "api", "model": "gemini-3.5-flash", "goal": "classify", "data_kind": "labeled"},
    # Online RL sampling with a colocated vLLM engine.
    {"gpu": "a100-80gb", "model": "qwen2.5-0.5b", "data_kind": "reward-function", "vllm": "true"},
    # Apple silicon, where mlx-lm writes the supervised plans it trains: an instruct model's SFT
    # (its preferences go to the PyTorch recipes), a base model's SFT and continued pre-training.
    *(
        {"gpu": "m4-max", "model": "qwen3-1.7b", "data_kind": k, "examples": "2k"}
        for k in ("demonstrations", "preferences")
    ),
    *(
        {"gpu": "m4-max", "model": "llama-3.1-8b", "data_kind": k, "examples": "2k"}
        for k in ("demonstrations", "text")
    ),
]


@dataclass(frozen=True)
class Case:
    name: str
    rec: Recommendation
    rank: int


def recommend(**raw: str) -> Recommendation:
    return ENGINE.recommend(build_profile({k.replace("-", "_"): v for k, v in raw.items()}))


def all_cases() -> list[Case]:
    cases: dict[str, Case] = {}
    for raw in PROFILES:
        rec = recommend(**raw)
        for rank, plan in enumerate(rec.plans, 1):
            arch = str(rec.facts["model_architecture"])
            variant = "-instruct" if rec.profile.get("model_variant") == "instruct" else ""
            vllm = "-vllm" if rec.profile.get("vllm") else ""
            apple = "-apple" if rec.facts.get("gpu_vendor") == "apple" else ""
            name = f"{plan.method}-{'+'.join(plan.pipeline) or 'none'}-{arch}{variant}{vllm}{apple}"
            cases.setdefault(name, Case(name, rec, rank))
    return sorted(cases.values(), key=lambda c: c.name)


CASES = all_cases()


def rank_of(rec: Recommendation, method: str, pipeline: tuple[str, ...] | None = None) -> int:
    for rank, plan in enumerate(rec.plans, 1):
        if plan.method == method and (pipeline is None or plan.pipeline == pipeline):
            return rank
    raise AssertionError(f"no {method} {pipeline} plan in {[p.method for p in rec.plans]}")


def words(text: str) -> set[str]:
    return set(text.split())


# --- the keys each trainer documents ---------------------------------------------------------

# LLaMA-Factory 0.9.5: every field of the dataclasses its `llamafactory-cli train` parses
# (ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments, and its own
# TrainingArguments fields), extracted from llamafactory/hparams/*.py of the llamafactory 0.9.5
# wheel on PyPI. Its TrainingArguments also extends transformers' Seq2SeqTrainingArguments:
# TRANSFORMERS_KEYS are the fields of it that recipes use (all in transformers 4.55 to 5.6, the
# range LLaMA-Factory 0.9.5 requires).
LLAMAFACTORY_KEYS = words(
    """
    adapter_folder adapter_name_or_path add_special_tokens add_tokens additional_target
    apollo_layerwise apollo_proj apollo_proj_type apollo_rank apollo_scale apollo_scale_front
    apollo_scale_type apollo_target apollo_update_interval asft_alpha audio_sampling_rate
    badam_mask_mode badam_mode badam_start_block badam_switch_interval badam_switch_mode
    badam_update_ratio badam_verbose block_diag_attn buffer_size cache_dir compute_accuracy
    compute_dtype create_new_adapter crop_to_patches cutoff_len data_shared_file_system dataset
    dataset_dir default_system device_map disable_gradient_checkpointing disable_shuffling do_sample
    double_quantization dpo_label_smoothing eaft_alpha early_stopping_steps enable_liger_kernel
    enable_thinking enable_torch_profiler eval_dataset eval_num_beams eval_on_each_dataset
    export_device export_dir export_hub_model_id export_legacy_format export_quantization_bit
    export_quantization_dataset export_quantization_maxlen export_quantization_nsamples export_size
    finetuning_type flash_attn fp8 fp8_backend fp8_enable_fsdp_float8_all_gather
    freeze_extra_modules freeze_language_model freeze_multi_modal_projector freeze_trainable_layers
    freeze_trainable_modules freeze_vision_tower galore_layerwise galore_proj_type galore_rank
    galore_scale galore_target galore_update_interval hf_hub_token hyper_parallel_args
    ignore_pad_token_for_loss image_do_pan_and_scan image_max_pixels image_min_pixels
    include_effective_tokens_per_second infer_backend infer_dtype init_special_tokens
    interleave_probs kt_expert_checkpoint_path kt_lora_expert_intermediate_size kt_lora_expert_num
    kt_use_lora_experts kt_weight_path kto_chosen_weight kto_rejected_weight ld_alpha length_penalty
    lora_alpha lora_dropout lora_rank lora_target loraplus_lr_embedding loraplus_lr_ratio
    low_cpu_mem_usage mask_history master_addr master_port max_length max_new_tokens max_samples
    media_dir mix_strategy mixture_of_depths model_max_length model_name_or_path model_revision
    module_dropout moe_aux_loss_coef ms_hub_token neat_packing new_special_tokens_config num_beams
    offload_folder oft_block_size oft_rank oft_target om_hub_token overwrite_cache
    overwrite_output_dir packing pissa_convert pissa_init pissa_iter plot_loss ppo_buffer_size
    ppo_epochs ppo_score_norm ppo_target ppo_whiten_rewards pref_bco_weight pref_beta pref_ftx
    pref_loss preprocessing_batch_size preprocessing_num_workers preserve_thinking
    print_param_status profile_modules profiler_active_steps profiler_output_dir
    profiler_profile_memory profiler_record_shapes profiler_repeat profiler_wait_steps
    profiler_warmup_steps profiler_with_stack pure_bf16 quantization_bit quantization_device_map
    quantization_method quantization_type ray_init_kwargs ray_num_workers ref_model
    ref_model_adapters ref_model_quantization_bit repetition_penalty resize_vocab reward_model
    reward_model_adapters reward_model_quantization_bit reward_model_type rope_scaling sglang_config
    sglang_lora_backend sglang_maxlen sglang_mem_fraction sglang_tp_size shift_attn simpo_gamma
    skip_special_tokens split_special_tokens stage streaming swanlab_api_key swanlab_lark_secret
    swanlab_lark_webhook_url swanlab_logdir swanlab_mode swanlab_project swanlab_run_name
    swanlab_workspace temperature template tokenized_path tool_format top_k top_p train_from_scratch
    train_on_prompt trust_remote_code upcast_layernorm upcast_lmhead_output use_adam_mini use_apollo
    use_asft_loss use_audio_in_video use_badam use_dft_loss use_dora use_eaft_loss
    use_fast_tokenizer use_galore use_hyper_parallel use_kt use_kv_cache use_llama_pro use_mca
    use_muon use_reentrant_gc use_rslora use_swanlab use_unsloth use_unsloth_gc use_v1_kernels
    val_size video_fps video_max_pixels video_maxlen video_min_pixels vllm_config vllm_enforce_eager
    vllm_gpu_util vllm_max_lora_rank vllm_maxlen
    """
)
TRANSFORMERS_KEYS = {
    "deepspeed",
    "lr_scheduler_type",
    "warmup_ratio",
    "output_dir",
    "do_train",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "num_train_epochs",
    "bf16",
    "fp16",
    "optim",
    "logging_steps",
    "eval_strategy",
    "eval_steps",
    "per_device_eval_batch_size",
    "save_steps",
    "save_total_limit",
}
LF_REQUIRED = {
    "model_name_or_path",
    "stage",
    "do_train",
    "finetuning_type",
    "dataset",
    "template",
    "output_dir",
}

# axolotl 0.19.0: the fields of AxolotlInputConfig (axolotl/utils/schemas/config.py and the
# mixins it extends) without the deprecated and remapped ones, and of the dataset and TRL models
# it nests, extracted from axolotl/utils/schemas/*.py of the axolotl 0.19.0 wheel on PyPI.
AXOLOTL_KEYS = words(
    """
    accelerator_config activation_offloading adam_beta1 adam_beta2 adam_beta3 adam_epsilon
    adam_epsilon2 adapter added_tokens_overrides attn_implementation auto_find_batch_size
    auto_resume_from_checkpoints axolotl_config_path base_model base_model_config batch_flattening
    batch_size bench_dataset bench_split bf16 bfloat16 bnb_config_kwargs center_rewards_coefficient
    chat_template chat_template_jinja chat_template_kwargs chunked_cross_entropy
    chunked_cross_entropy_num_chunks cls_model_config comet_api_key comet_experiment_config
    comet_experiment_key comet_mode comet_online comet_project_name comet_workspace
    context_parallel_size cosine_constant_lr_ratio cosine_min_lr_ratio cpo_alpha curriculum_sampling
    dataloader_drop_last dataloader_num_workers dataloader_pin_memory dataloader_prefetch_factor
    dataset_exact_deduplication dataset_keep_in_memory dataset_num_proc dataset_prepared_path
    dataset_processes dataset_shard_idx dataset_shard_num datasets ddp ddp_broadcast_buffers
    ddp_bucket_cap_mb ddp_find_unused_parameters ddp_timeout deepcompile deepspeed
    default_system_message device device_map dion_lr dion_momentum dion_rank_fraction
    dion_rank_multiple_of do_bench_eval do_causal_lm_eval dp_replicate_size dp_shard_size
    dpo_label_smoothing dpo_loss_type dpo_loss_weights dpo_padding_free dpo_use_liger_kernel
    dpo_use_weighting dynamic_checkpoint eaft_alpha eaft_k eager_attention early_stopping_patience
    ebft embedding_lr embedding_lr_scale embeddings_skip_upcast eot_tokens eval_batch_size
    eval_causal_lm_metrics eval_sample_packing eval_sequence_len eval_steps eval_strategy
    evals_per_epoch excess_length_strategy experimental_skip_move_to_device experts_implementation
    fix_untrained_tokens flash_attention flash_attn_cross_entropy flash_attn_d512
    flash_attn_fuse_mlp flash_optimum flex_attention flex_attn_compile_kwargs float16 float32 fp16
    fp32_norm_classes fp32_norms fp8 fp8_config fp8_enable_fsdp_float8_all_gather freeze_mm_modules
    fsdp fsdp_config fsdp_final_state_dict_type fsdp_version fused_attn_kernel gc_collect_steps
    gc_steps gemma4_hybrid_attn_impl generate_samples generation_do_sample generation_max_new_tokens
    generation_prompt_ratio generation_temperature generation_top_k generation_top_p gptq
    gpu_memory_limit gradient_accumulation_steps gradient_checkpointing
    gradient_checkpointing_kwargs gradio_max_new_tokens gradio_server_name gradio_server_port
    gradio_share gradio_temperature gradio_title greater_is_better group_by_length heads_k_stride
    hf_mlflow_log_artifacts hf_use_auth_token hub_model_id hub_revision hub_strategy
    image_resize_algorithm image_size include_tkps include_tokens_per_second is_falcon_derived_model
    is_llama_derived_model is_mistral_derived_model is_preprocess is_qwen_derived_model
    jagged_restart_anneal_steps jagged_restart_steps jagged_restart_warmup_steps
    kto_desirable_weight kto_undesirable_weight large_head_attention layer_offloading learning_rate
    lisa_layers_attribute lisa_n_layers lisa_step_interval llama4_linearized_experts
    load_best_model_at_end load_in_4bit load_in_8bit local_rank logging_steps lora_alpha
    lora_alpha_pattern lora_dropout lora_embedding_kernel lora_fan_in_fan_out lora_mlp_kernel
    lora_model_dir lora_modules_to_save lora_o_kernel lora_on_cpu lora_qkv_kernel lora_r
    lora_rank_pattern lora_target_linear lora_target_modules lora_target_parameters
    loraplus_lr_embedding loraplus_lr_ratio loss_watchdog_patience loss_watchdog_threshold
    low_cpu_mem_usage lr_div_factor lr_groups lr_quadratic_warmup lr_scheduler lr_scheduler_kwargs
    max_grad_norm max_memory max_prompt_len max_steps mean_resizing_embeddings merge_lora
    merge_method metric_for_best_model micro_batch_size min_sample_len mlflow_experiment_name
    mlflow_run_name mlflow_tracking_uri model_quantization_config model_quantization_config_kwargs
    multipack_real_batches neftune_noise_alpha num_dataset_shards_to_save num_epochs
    num_generation_samples num_labels optim_args optim_target_modules optimizer orpo_alpha
    otel_metrics_host otel_metrics_port output_dir pad_to_multiple_of pad_to_sequence_len peft
    peft_autocast_adapter_dtype peft_ensure_weight_tying peft_init_lora_weights
    peft_layer_replication peft_layers_pattern peft_layers_to_transform peft_trainable_token_indices
    peft_use_dora peft_use_rslora ple_cpu_offload plugins pose_max_context_len pose_num_chunks
    pose_split_on_token_ids precompute_ref_log_probs preprocess_iterable pretrain_multipack_attn
    pretrain_multipack_buffer_size pretraining_dataset pretraining_sample_concatenation
    process_reward_model processor_kwargs processor_type profiler_steps profiler_steps_start
    push_dataset_to_hub qat qgalore_cos_threshold qgalore_gamma_proj qgalore_proj_bits
    qgalore_proj_group_size qgalore_proj_quant qgalore_proj_type qgalore_queue_size qgalore_rank
    qgalore_scale qgalore_update_proj_gap qlora_sharded_model_loading quantization
    quantize_moe_experts ray_num_workers ray_run_name reinit_weights relora relora_cpu_offload
    relora_prune_method relora_prune_ratio remove_unused_columns resize_token_embeddings_to_32x
    resources_per_worker resume_from_checkpoint reward_model ring_attn_func rl rl_beta
    role_boundaries sage_attention sample_packing sample_packing_bin_size sample_packing_eff_est
    sample_packing_group_size sample_packing_mp_start_method sample_packing_sequentially
    save_first_step save_only_model save_safetensors save_steps save_strategy save_total_limit
    saves_per_epoch scaling_softmax scaling_softmax_bias scaling_softmax_factor sdp_attention
    sdpa_varlen seed selective_checkpointing sequence_len sequence_parallel_degree shrink_embeddings
    shuffle_before_merging_datasets shuffle_merged_datasets simpo_gamma skip_prepare_dataset
    special_tokens streaming streaming_multipack_buffer_size strict tensor_parallel_size
    test_datasets tf32 tiled_mlp tiled_mlp_num_shards tiled_mlp_use_original_mlp tokenizer_config
    tokenizer_legacy tokenizer_save_jinja_files tokenizer_type tokenizer_use_fast
    tokenizer_use_mistral_common tokens torch_compile torch_compile_backend torch_compile_mode
    torch_compile_options torch_empty_cache_steps torchdistx_path total_num_tokens
    total_supervised_tokens trackio_project_name trackio_run_name trackio_space_id train_on_inputs
    trainer_cls trl trust_remote_code unfrozen_parameters use_comet use_eaft use_kernels use_mlflow
    use_onebitllms use_otel_metrics use_pose use_ray use_tensorboard use_trackio use_wandb
    val_set_size vllm wandb_entity wandb_log_model wandb_mode wandb_name wandb_project wandb_run_id
    wandb_watch warmup_ratio warmup_steps weight_decay world_size xformers_attention
    """
)
AX_SFTDATASET = words(
    """
    chat_template chat_template_jinja conversation data_files drop_system_message ds_type field
    field_human field_messages field_model field_thinking field_tools input_format input_transform
    logprobs_field message_field_content message_field_role message_field_training
    message_field_training_detail message_property_mappings name path preprocess_shards revision
    roles roles_to_train shards shards_idx split split_thinking temperature template_thinking_key
    train_on_eos train_on_eot trust_remote_code type
    """
)
AX_DPODATASET = words(
    """
    data_files field_chosen field_messages field_rejected path revision split type
    """
)
AX_KTODATASET = words(
    """
    data_files path revision split trust_remote_code type
    """
)
AX_USERDEFINEDPROMPTERTYPE = words(
    """
    field_input field_instruction field_output field_system format no_input_format system_format
    system_prompt
    """
)
AX_USERDEFINEDDPOTYPE = words(
    """
    chosen_format field_chosen field_prompt field_rejected field_system prompt_format
    rejected_format
    """
)
AX_USERDEFINEDKTOTYPE = words(
    """
    completion_format field_completion field_label field_prompt field_system prompt_format
    """
)
AX_TRLCONFIG = words(
    """
    async_prefetch beta chat_template_kwargs entropy_coef entropy_coef_delta entropy_coef_max
    entropy_coef_min entropy_target epsilon epsilon_high generation_batch_size generation_kwargs
    importance_sampling_level log_completions log_multimodal loss_type mask_truncated_completions
    max_completion_length min_p multi_objective_aggregation num_completions_to_print num_generations
    num_iterations off_policy_mask_threshold prefetch_depth ref_model_mixup_alpha
    ref_model_sync_steps repetition_penalty replay_buffer_size replay_recompute_logps
    reroll_max_groups reroll_start_fraction reward_funcs reward_num_workers reward_weights
    rollout_func scale_rewards skip_zero_advantage_batches streaming_min_groups
    streaming_partial_batch sync_ref_model temperature top_k top_p use_adaptive_entropy
    use_bias_correction_kl use_data_producer use_liger_loss use_vllm vllm_enable_sleep_mode
    vllm_guided_decoding_regex vllm_importance_sampling_cap vllm_importance_sampling_clip_max
    vllm_importance_sampling_clip_min vllm_importance_sampling_correction
    vllm_importance_sampling_mode vllm_lora_sync vllm_mode vllm_server_host vllm_server_port
    vllm_server_timeout vllm_sync_interval
    """
)
AX_REQUIRED = {"base_model", "datasets", "micro_batch_size", "gradient_accumulation_steps", "output_dir"}

# mlx-lm at ml-explore/mlx-lm@d78bf58e217c904ec282ed8da9b947491f78c022 (2026-08-22, _version.py
# 0.32.0): the keys of mlx_lm/lora.py CONFIG_DEFAULTS, which hold every dest of its build_parser.
# `mlx_lm.lora --config` copies any key of the file into its arguments and never reads an unknown
# one, so a misspelt key would be dropped silently: the configs may use these only.
MLX_KEYS = words(
    """
    adapter_path batch_size clear_cache_threshold config data fine_tune_type grad_accumulation_steps
    grad_checkpoint iters learning_rate lora_parameters lr_schedule mask_prompt max_seq_length model
    num_layers optimizer optimizer_config project_name report_to resume_adapter_file save_every seed
    steps_per_eval steps_per_report test test_batches train trust_remote_code val_batches
    """
)
# What the nested values take at that commit: tuner/utils.py linear_to_lora_layers reads rank,
# scale and dropout (all three: the file's dict replaces the default one) and keys;
# build_schedule reads name, arguments, warmup and warmup_init; lora.py build_parser's choices.
MLX_LORA_PARAMETERS = {"rank", "scale", "dropout", "keys"}
MLX_LORA_REQUIRED = {"rank", "scale", "dropout"}
MLX_SCHEDULE = {"name", "arguments", "warmup", "warmup_init"}
MLX_FINE_TUNE_TYPES = {"lora", "dora", "full"}
MLX_OPTIMIZERS = {"adam", "adamw", "muon", "sgd", "adafactor"}
# mlx.optimizers.AdamW's arguments besides the learning rate (ml-explore/mlx@022eabb7
# python/mlx/optimizers/optimizers.py), and the schedules build_schedule looks up there
# (schedulers.py: name -> the arguments it takes).
MLX_ADAMW = {"betas", "eps", "weight_decay", "bias_correction"}
MLX_SCHEDULES = {"cosine_decay": 3, "linear_schedule": 3, "exponential_decay": 2, "step_decay": 3}
# argparse types of the options these keys stand for (type=int; store_true flags).
MLX_INTS = {
    "num_layers",
    "batch_size",
    "iters",
    "val_batches",
    "steps_per_report",
    "steps_per_eval",
    "grad_accumulation_steps",
    "save_every",
    "test_batches",
    "max_seq_length",
    "seed",
}
MLX_BOOLS = {"train", "mask_prompt", "grad_checkpoint", "test", "trust_remote_code"}

# The support matrix, stated independently of the implementation.
PYTHON_REFUSED = {"adapters"}  # the `adapters` library needs transformers 4.57.x
HOSTED = {"hosted-ft"}  # a provider runs it: no script to write
EMBEDS_ONLY = {"embeddings-classifier"}  # python writes a script that runs an encoder, no LLM
LF_METHODS = {"full-ft", "partial-ft", "lora", "qlora", "dora", "galore"}
AX_METHODS = {"full-ft", "partial-ft", "bitfit", "lora", "qlora", "dora", "galore"}
PYTHON_OBJECTIVES = {"sft", "continued-pretraining", "dpo", "kto", "grpo", "rloo", "reward-model"}
LF_OBJECTIVES = {"sft", "continued-pretraining", "dpo", "kto", "orpo", "simpo", "reward-model"}
AX_OBJECTIVES = {"sft", "continued-pretraining", "dpo", "kto", "grpo", "simpo"}
# mlx-lm: Apple silicon only, one supervised stage, its length counted from --examples.
MLX_METHODS = {"lora", "qlora", "dora", "full-ft", "partial-ft"}
MLX_OBJECTIVES = {"sft", "continued-pretraining"}
# What the PyTorch recipes refuse on Apple silicon: bitsandbytes' QLoRA, and axolotl's pure bf16
# (torchao's stochastic rounding is untested on MPS).
APPLE_REFUSED = {"qlora"}
AX_APPLE_REFUSED = {"full-ft", "partial-ft", "bitfit"}


def refused(case: Case, fmt: str) -> bool:
    plan, arch = case.rec.plans[case.rank - 1], case.rec.facts["model_architecture"]
    apple = case.rec.facts.get("gpu_vendor") == "apple"
    if fmt == "mlx":
        one_stage = len(plan.pipeline) == 1 and set(plan.pipeline) <= MLX_OBJECTIVES
        counted = case.rec.profile.get("examples") is not None
        return not (apple and arch == "decoder" and plan.method in MLX_METHODS and one_stage and counted)
    if plan.method in EMBEDS_ONLY:
        return fmt != "python"
    if arch == "encoder-decoder" or plan.method in PYTHON_REFUSED | HOSTED:
        return True
    if apple and (plan.method in APPLE_REFUSED or (fmt == "axolotl" and plan.method in AX_APPLE_REFUSED)):
        return True
    objectives = {"python": PYTHON_OBJECTIVES, "llamafactory": LF_OBJECTIVES, "axolotl": AX_OBJECTIVES}[fmt]
    if not set(plan.pipeline) <= objectives:
        return True
    if fmt == "python":
        soft_prompt = plan.method in {"prefix-tuning", "prompt-tuning", "p-tuning"}
        chained = soft_prompt and len(plan.pipeline) > 1  # PEFT cannot resume a soft prompt
        prefix_encoder = plan.method == "prefix-tuning" and arch == "encoder"  # no past key values
        # A model behind an API has no architecture in the facts: it is a generative model.
        return chained or prefix_encoder or (plan.kind == "no-training" and arch not in ("decoder", None))
    if plan.kind == "no-training" or arch == "encoder":
        return True
    if fmt == "llamafactory":
        return plan.method not in LF_METHODS
    # axolotl's KTO types would train an instruct model on bare text.
    instruct_kto = "kto" in plan.pipeline and case.rec.profile.get("model_variant") == "instruct"
    return plan.method not in AX_METHODS or instruct_kto


def render(case: Case, fmt: str) -> str:
    return render_recipe(CATALOG, case.rec, case.rank, fmt)


def yaml_documents(text: str) -> list[dict[str, Any]]:
    documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    assert documents and all(isinstance(doc, dict) for doc in documents)
    return documents


def check_python(text: str, case: Case) -> None:
    tree = ast.parse(text)
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"main", "parse_args"} <= functions
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            # Only the libraries' stable top-level APIs: no trl.experimental, no private modules.
            # safetensors (a transformers dependency) stores retrieval's vectors and the embeddings
            # classifier's weights (safe_open reads its labels back): tensors and text only;
            # math_verify (TRL's accuracy_reward's checker) compares the online-RL reward's answers;
            # transformers.integrations (its DeepSpeed guide imports HfDeepSpeedConfig from there)
            # sets a previous stage's ZeRO-3 aside before a merge.
            assert node.module in {
                "__future__",
                "argparse",
                "collections",
                "hashlib",
                "pathlib",
                "typing",
            } or (
                node.module
                in {
                    "datasets",
                    "peft",
                    "transformers",
                    "transformers.integrations",
                    "trl",
                    "accelerate",
                    "openai",
                    "safetensors",
                    "safetensors.torch",
                    "math_verify",
                }
            ), node.module


def check_llamafactory(text: str, case: Case) -> None:
    # An export step merges an adapter into a 16-bit copy between stages where LLaMA-Factory cannot
    # merge it at load (a 4-bit base, ZeRO-3): LLaMA-Factory's export keys, no quantization.
    documents = [d for d in yaml_documents(text) if "export_dir" not in d]
    for export in (d for d in yaml_documents(text) if "export_dir" in d):
        assert set(export) <= LLAMAFACTORY_KEYS, set(export) - LLAMAFACTORY_KEYS
        assert "quantization_bit" not in export and export["export_device"] == "cpu"
    plan = case.rec.plans[case.rank - 1]
    assert len(documents) == len(plan.pipeline)
    for doc, stage in zip(documents, plan.pipeline, strict=True):
        assert set(doc) <= LLAMAFACTORY_KEYS | TRANSFORMERS_KEYS, (
            set(doc) - LLAMAFACTORY_KEYS - TRANSFORMERS_KEYS
        )
        assert set(doc) >= LF_REQUIRED, LF_REQUIRED - set(doc)
        lf_stages = {"continued-pretraining": "pt", "orpo": "dpo", "simpo": "dpo", "reward-model": "rm"}
        assert doc["stage"] == lf_stages.get(stage, stage)
        if stage in ("orpo", "simpo"):  # reference-free losses of LLaMA-Factory's dpo stage
            assert doc["pref_loss"] == stage
        assert doc["finetuning_type"] in {"lora", "freeze", "full"}
        assert isinstance(doc["learning_rate"], float) and 0 < doc["learning_rate"] < 1
        assert isinstance(doc["cutoff_len"], int)


def check_axolotl(text: str, case: Case) -> None:
    documents = yaml_documents(text)
    plan = case.rec.plans[case.rank - 1]
    assert len(documents) == len(plan.pipeline)
    for doc, stage in zip(documents, plan.pipeline, strict=True):
        assert set(doc) <= AXOLOTL_KEYS, set(doc) - AXOLOTL_KEYS
        assert set(doc) >= AX_REQUIRED, AX_REQUIRED - set(doc)
        assert doc.get("rl") == {"dpo": "dpo", "kto": "kto", "grpo": "grpo", "simpo": "simpo"}.get(stage)
        # Plain SimPO: axolotl leaves CPOConfig's cpo_alpha of 1.0 (CPO-SimPO) unless it is written.
        assert stage != "simpo" or doc["cpo_alpha"] == 0.0
        assert doc.get("adapter") in {None, "lora", "qlora"}
        assert isinstance(doc["learning_rate"], float) and 0 < doc["learning_rate"] < 1
        for dataset in doc["datasets"]:
            allowed = {"dpo": AX_DPODATASET, "simpo": AX_DPODATASET, "kto": AX_KTODATASET}.get(
                stage, AX_SFTDATASET
            )
            assert set(dataset) <= allowed, set(dataset) - allowed
            kind = dataset.get("type")
            if isinstance(kind, dict):
                typed = {
                    "dpo": AX_USERDEFINEDDPOTYPE,
                    "simpo": AX_USERDEFINEDDPOTYPE,
                    "kto": AX_USERDEFINEDKTOTYPE,
                }.get(stage, AX_USERDEFINEDPROMPTERTYPE)
                assert set(kind) <= typed, set(kind) - typed
        assert set(doc.get("trl", {})) <= AX_TRLCONFIG


def check_mlx(text: str, case: Case) -> None:
    (doc,) = yaml_documents(text)
    check_mlx_keys(doc)
    (stage,) = case.rec.plans[case.rank - 1].pipeline
    assert doc["train"] is True and doc["data"] == "data" and doc["iters"] >= 1
    # The completion, or every token of a document (or of a row joined for a Llama 3 base).
    joined = "this base model never trained the special tokens" in re.sub(r"\n#\s+", " ", text)
    assert doc["mask_prompt"] is (stage == "sft" and not joined)
    assert isinstance(doc["learning_rate"], float) and 0 < doc["learning_rate"] < 1


def check_mlx_keys(doc: dict[str, Any]) -> None:
    """Every key and value one that mlx-lm (at the commit above) reads."""
    assert set(doc) <= MLX_KEYS, set(doc) - MLX_KEYS
    assert doc["fine_tune_type"] in MLX_FINE_TUNE_TYPES and doc["optimizer"] in MLX_OPTIMIZERS
    for key in MLX_INTS & set(doc):
        assert isinstance(doc[key], int) and not isinstance(doc[key], bool), key
    for key in MLX_BOOLS & set(doc):
        assert isinstance(doc[key], bool), key
    lora = doc.get("lora_parameters")
    assert (lora is not None) == (doc["fine_tune_type"] != "full")
    if lora is not None:
        assert MLX_LORA_REQUIRED <= set(lora) <= MLX_LORA_PARAMETERS, set(lora)
        assert isinstance(lora["rank"], int) and isinstance(lora["scale"], float)
    schedule = doc.get("lr_schedule")
    if schedule is not None:
        assert set(schedule) <= MLX_SCHEDULE and len(schedule["arguments"]) == MLX_SCHEDULES[schedule["name"]]
    config = doc.get("optimizer_config", {})
    assert set(config) <= MLX_OPTIMIZERS and set(config.get("adamw", {})) <= MLX_ADAMW


CHECKS = {
    "python": check_python,
    "llamafactory": check_llamafactory,
    "axolotl": check_axolotl,
    "mlx": check_mlx,
}


# --- every plan kind in every format ------------------------------------------------------------


def test_cases_cover_every_method_and_pipeline() -> None:
    methods = {name.split("-sft")[0] for name in (c.name for c in CASES)}
    assert len(CASES) > 80, len(CASES)
    kb_methods = {m.id for m in CATALOG.kb.methods if m.kind != "objective"}
    assert {c.rec.plans[c.rank - 1].method for c in CASES} == kb_methods, methods
    pipelines = {c.rec.plans[c.rank - 1].pipeline for c in CASES}
    assert pipelines == {
        (),
        ("sft",),
        ("sft", "dpo"),
        ("sft", "kto"),
        ("dpo",),
        ("kto",),
        ("orpo",),
        ("simpo",),
        ("grpo",),
        ("continued-pretraining",),
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_plan_renders_or_says_why(case: Case, fmt: str) -> None:
    if refused(case, fmt):
        with pytest.raises(UsageError) as error:
            render(case, fmt)
        assert len(str(error.value)) > 40, str(error.value)
        return
    text = render(case, fmt)
    assert text.startswith("# ====")
    assert not re.search(r"PPO(Trainer|Config)|stage: ppo|rl: ppo|trl\.experimental", text)
    CHECKS[fmt](text, case)


def python_recipes() -> Iterator[tuple[str, str]]:
    for case in CASES:
        if not refused(case, "python"):
            yield case.name, render(case, "python")


def ruff() -> str | None:
    found = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return found if Path(found).exists() else None


def test_python_recipes_lint_clean(tmp_path: Path) -> None:
    """Pyflakes-level checks (undefined or unused names, syntax) on every Python recipe: this
    catches a wrong name in the plan kinds the end-to-end tests do not train."""
    binary = ruff()
    if binary is None:
        pytest.skip("ruff is not installed")
    for name, text in python_recipes():
        (tmp_path / f"{name.replace('.', '_').replace('-', '_')}.py").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [
            binary,
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "F,E9,B",
            "--target-version",
            "py311",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- header -------------------------------------------------------------------------------------


def header_of(text: str) -> str:
    """The header comments as one line of text (wrapping undone)."""
    lines = itertools.takewhile(lambda line: line.startswith("#"), text.splitlines())
    return " ".join(line.lstrip("#").strip() for line in lines)


@pytest.mark.parametrize("fmt", PYTORCH_FORMATS)
def test_header_states_profile_plan_memory_sources_and_versions(fmt: str) -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="preferences")
    rank = rank_of(rec, "lora", ("sft", "dpo"))
    head = header_of(render_recipe(CATALOG, rec, rank, fmt))
    for given in ("gpu=rtx-3090", "vram=24.0", "gpus=1", "model=llama-3.1-8b"):
        assert given in head.split("Plan ")[0], given
    assert "data_kind=preferences" in head
    assert f"Plan {rank} of {len(rec.plans)}: LoRA (SFT -> DPO)" in head
    recipe, _ = write_recipe(CATALOG, rec, rank, fmt)
    assert "Memory estimate for this recipe's settings, per GPU of 25.77 GB" in head
    for stage, estimate in recipe.estimates.items():
        batch = estimate.settings.batch_size
        verdict = {"yes": "fits", "tight": "TIGHT", "no": "DOES NOT FIT"}[str(estimate.fit)]
        assert f"{stage} {estimate.per_gpu_gb:.2f} GB at batch {batch}: {verdict}" in head, stage
    assert recipe.timed is not None and "Time and cost: unknown (no --examples given" in head
    for source in (
        "methods.yaml lora.hyperparameters.learning_rate",
        "methods.yaml dpo.hyperparameters.learning_rate",
        "methods.yaml dpo.hyperparameters.beta",
        "methods.yaml lora.hyperparameters.lora_alpha",
        "the plan's memory estimate (LoRA rank it assumed)",
        "LLaMA-Factory examples/train_lora/llama3_lora_sft.yaml",
        "methods.yaml sft.hyperparameters.num_train_epochs",
        "methods.yaml dpo.hyperparameters.num_train_epochs",
    ):
        assert source in head, source
    versions = {
        "python": [f"{lib} {version}" for lib, version in WRITTEN_FOR.items()]
        + [f"{lib} {version}" for lib, version in MINIMUM_VERSIONS.items()],
        "llamafactory": [
            "LLaMA-Factory 0.9.5",
            "transformers >=4.55,<5.6.0",  # 5.6.0's FlashAttention fails (huggingface/transformers#45588)
            "trl <=0.24.0",
            "peft <=0.18.1",
        ],
        "axolotl": ["axolotl 0.19.0", "transformers 5.16.1", "trl 1.9.0", "peft 0.20.0"],
    }[fmt]
    assert all(v in head for v in versions), head


def test_header_lists_every_value_the_python_recipe_sets() -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="ratings")
    recipe, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft", "kto")), "python")
    text = rendered.text
    for key, setting in recipe.settings.items():
        assert f"{key} = " in header_of(text), key
        assert setting.source
    assert (
        "ADAPTER_SETTINGS = {'r': 16, 'lora_alpha': 32, 'lora_dropout': 0.0, 'target_modules': 'all-linear'}"
        in text
    )
    assert (
        "'kto': {'max_length': 2048, 'beta': 0.1, 'desirable_weight': 1.0, 'undesirable_weight': 1.0}" in text
    )
    # An adapter's KTO rate is the top of the range TRL's KTO docs recommend, not the full-FT 1e-6.
    assert "LEARNING_RATE = {'sft': 0.0002, 'kto': 5e-06}" in text
    assert "EPOCHS = {'sft': 3.0, 'kto': 1.0}" in text  # num_train_epochs per objective in the KB


def test_a_training_plan_without_an_estimate_trains_in_full_precision() -> None:
    """The engine only estimates plans for a local GPU; a recipe without one still runs (on CPU)."""
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")
    rec = rec._replace(plans=(rec.plans[0]._replace(estimate=None, fit=None),))
    text = render_recipe(CATALOG, rec, 1, "python")
    assert "Memory estimate: none" in header_of(text)
    assert "PRECISION = 'fp32'" in text
    assert "MAX_LENGTH = 1024" in text  # TRL's default, named as the source in the header
    assert "TRL SFTConfig's default max_length 1024" in header_of(text)


def test_a_plan_that_does_not_fit_says_so() -> None:
    rec = recommend(gpu="t4", model="llama-3.1-8b", goal="chat")
    rank = next(i for i, p in enumerate(rec.plans, 1) if p.fits is False and p.kind != "no-training")
    text = render_recipe(CATALOG, rec, rank, "python")
    assert "DOES NOT FIT" in header_of(text)
    assert "does NOT fit the GPU" in header_of(text)


def test_several_gpus_get_the_launcher_config_their_estimate_assumes() -> None:
    """A ZeRO-3 estimate launched as plain data parallel would hold the whole model on every GPU:
    the recipe ships the accelerate / DeepSpeed config of the strategy its header states."""
    rec = recommend(gpu="a100-80gb", gpus="4", model="llama-3.1-70b", goal="chat")
    recipe, rendered = write_recipe(CATALOG, rec, rank_of(rec, "full-ft"), "python")
    assert recipe.sharding == "zero3" and all(
        e.settings.sharding == "zero3" for e in recipe.estimates.values()
    )
    head = header_of(rendered.files[0].text)
    assert "accelerate launch --config_file accelerate.yaml recipe.py" in head
    assert "4 GPUs: DeepSpeed ZeRO-3" in head and "with ZeRO-3" in head
    names = [f.name for f in rendered.files]
    assert names == ["recipe.py", "accelerate.yaml", "ds_z3_config.json"]
    config = yaml.safe_load(rendered.files[1].text)
    assert config["distributed_type"] == "DEEPSPEED" and config["num_processes"] == 4
    assert config["deepspeed_config"]["deepspeed_config_file"] == "ds_z3_config.json"
    # The JSON holds the whole DeepSpeed config: accelerate's own keys have no buckets, and
    # DeepSpeed's default reduce bucket (5e8 elements, 1 GB in bf16) is not what the estimate
    # counts; "auto" is filled with hidden^2 by the trainer (an expert's review).
    ds = json.loads(rendered.files[2].text)["zero_optimization"]
    assert ds["stage"] == 3 and ds["reduce_bucket_size"] == "auto"
    ast.parse(rendered.text)  # on stdout the config follows the script as comments
    for fmt in ("llamafactory", "axolotl"):
        _, yaml_rendered = write_recipe(CATALOG, rec, rank_of(rec, "full-ft"), fmt)
        files = {f.name: f.text for f in yaml_rendered.files}
        ds = json.loads(files["ds_z3_config.json"])
        assert ds["zero_optimization"]["stage"] == 3
        first = yaml.safe_load(next(iter(files.values())))
        assert first["deepspeed"] == "ds_z3_config.json", fmt
    assert "NPROC_PER_NODE=4" in write_recipe(CATALOG, rec, rank_of(rec, "full-ft"), "llamafactory")[1].launch


def test_past_eight_gpus_the_launchers_span_nodes() -> None:
    """accelerate starts num_processes / num_machines processes per node and torchrun
    --nproc_per_node per node: 16 GPUs are 2 nodes of 8, each started with its rank; a QLoRA
    process picks its GPU by its rank on the node."""
    rec = recommend(gpu="h100-80gb", gpus="16", model="llama-3.1-70b", goal="chat")
    rank = rank_of(rec, "full-ft")
    _, rendered = write_recipe(CATALOG, rec, rank, "python")
    config = yaml.safe_load(rendered.files[1].text)
    assert (config["num_machines"], config["num_processes"]) == (2, 16)
    head = " ".join(header_of(rendered.files[0].text).replace("#", " ").split())
    assert "--machine_rank $NODE_RANK --main_process_ip $MASTER_ADDR --main_process_port 29500" in head
    assert "2 nodes of 8 GPUs" in head and "NODE_RANK=<0 on that node, 1 on the other>" in head
    axolotl = " ".join(write_recipe(CATALOG, rec, rank, "axolotl")[1].launch.split())
    assert "--nnodes 2 --node_rank $NODE_RANK" in axolotl and "--nproc_per_node 8" in axolotl
    factory = write_recipe(CATALOG, rec, rank, "llamafactory")[1].launch
    assert "NNODES=2 NODE_RANK=$NODE_RANK" in factory and "NPROC_PER_NODE=8" in factory
    one_node = recommend(gpu="h100-80gb", gpus="8", model="llama-3.1-70b", goal="chat")
    launch = write_recipe(CATALOG, one_node, rank_of(one_node, "full-ft"), "llamafactory")[1].launch
    assert "NNODES=1 NPROC_PER_NODE=8" in launch
    qlora = recommend(gpu="rtx-4090", gpus="2", model="llama-3.1-8b", goal="chat")
    script = render_recipe(CATALOG, qlora, rank_of(qlora, "qlora"), "python")
    assert "PartialState().local_process_index" in script and "PartialState().process_index" not in script


def test_offloaded_plans_offload_in_their_launcher_config() -> None:
    rec = recommend(gpu="rtx-4090", gpus="2", model="llama-3.1-70b", goal="chat")
    # QLoRA offloads under FSDP (test_qlora_with_its_base_in_cpu_ram_runs_under_fsdp_as_peft_documents).
    rank = next(
        i for i, p in enumerate(rec.plans, 1) if p.offload in ("optimizer", "params") and p.method != "qlora"
    )
    recipe, rendered = write_recipe(CATALOG, rec, rank, "python")
    zero = json.loads(rendered.files[2].text)["zero_optimization"]
    assert zero["offload_optimizer"]["device"] == "cpu"
    assert ("offload_param" in zero) == (recipe.offload == "params")
    _, lf = write_recipe(CATALOG, rec, rank, "llamafactory")
    ds = json.loads(lf.files[-1].text)
    assert ds["zero_optimization"]["offload_optimizer"]["device"] == "cpu"


def test_one_gpu_has_no_launcher_config() -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")
    _, rendered = write_recipe(CATALOG, rec, 1, "python")
    assert [f.name for f in rendered.files] == ["recipe.py"] and rendered.launch.startswith(
        "python recipe.py"
    )


# --- precision, stable APIs, ranks --------------------------------------------------------------


@pytest.mark.parametrize("gpu", ["v100-16gb", "t4"])
def test_fp16_on_gpus_without_bf16(gpu: str) -> None:
    rec = recommend(gpu=gpu, model="qwen2.5-0.5b", data_kind="demonstrations")
    rank = rank_of(rec, "lora", ("sft",))
    assert "PRECISION = 'fp16'" in render_recipe(CATALOG, rec, rank, "python")
    for fmt in ("llamafactory", "axolotl"):
        (doc,) = yaml_documents(render_recipe(CATALOG, rec, rank, fmt))
        assert doc["fp16"] is True and doc["bf16"] is False, fmt


def test_axolotl_trains_an_instruct_model_in_its_own_chat_template() -> None:
    instruct = recommend(gpu="a100-80gb", model="qwen3-0.6b", data_kind="demonstrations", examples="5k")
    text = render_recipe(CATALOG, instruct, rank_of(instruct, "lora", ("sft",)), "axolotl")
    (dataset,) = yaml_documents(text)[0]["datasets"]
    assert dataset["type"] == "chat_template" and dataset["chat_template"] == "tokenizer_default"
    assert dataset["field_messages"] == "messages" and dataset["roles_to_train"] == ["assistant"]
    assert '{"messages": [{"role":' in text  # the data format it now needs is said
    base = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="demonstrations")
    (doc,) = yaml_documents(render_recipe(CATALOG, base, rank_of(base, "lora", ("sft",)), "axolotl"))
    assert doc["datasets"][0]["type"]["field_instruction"] == "prompt"  # a base model: plain text
    chat = "give its data in the conversational form"
    assert chat in render_recipe(CATALOG, instruct, rank_of(instruct, "lora", ("sft",)), "python")
    assert chat not in render_recipe(CATALOG, base, rank_of(base, "lora", ("sft",)), "python")


@pytest.mark.parametrize(
    ("model", "turn_end"),
    [("gemma-3-12b-it", "<end_of_turn>"), ("qwen3-0.6b", None), ("gpt-oss-20b", "<|end|>")],
)
def test_axolotl_trains_the_turn_end_of_the_models_chat_template(model: str, turn_end: str | None) -> None:
    """axolotl trains the tokenizer's eos_token at each turn's end unless eot_tokens names another;
    Gemma's template ends turns with <end_of_turn> and never writes <eos>, so without it the turn
    terminator is never trained. Qwen3's eos_token (<|im_end|>) is its turn end: nothing to add.
    gpt-oss ends all but the last turn with <|end|> (its eos is <|return|>) and renders its
    analysis channel from a message's `thinking`, which axolotl copies only when mapped (an
    expert's review: the reasoning the tool's own advice asks for was dropped)."""
    rec = recommend(gpu="h100", model=model, goal="chat", data_kind="demonstrations", examples="10k")
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, 1, "axolotl"))
    dataset = doc["datasets"][0]
    assert dataset["type"] == "chat_template" and dataset["train_on_eos"] == "turn"
    assert doc.get("eot_tokens") == ([turn_end] if turn_end else None)
    thinking = "thinking" if model == "gpt-oss-20b" else None
    assert dataset.get("field_thinking") == dataset.get("template_thinking_key") == thinking


def test_axolotl_refuses_a_template_that_drops_the_answers_reasoning() -> None:
    """An expert's review: DeepSeek-R1's template (its distills', and axolotl's deepseek_v3) cuts
    an answer at </think>, so axolotl's chat_template dataset trained R1 distills without their
    reasoning; LLaMA-Factory's deepseekr1 template keeps it and the Python script checks it."""
    rec = recommend(
        gpu="a100-80gb", model="deepseek-r1-distill-qwen-7b", goal="reasoning", data_kind="demonstrations",
        examples="10k",
    )  # fmt: skip
    with pytest.raises(UsageError, match=r"drops an answer's reasoning before </think>"):
        render_recipe(CATALOG, rec, 1, "axolotl")
    assert "template: deepseekr1" in render_recipe(CATALOG, rec, 1, "llamafactory")
    qwen = recommend(
        gpu="a100-80gb", model="qwen3-8b", goal="reasoning", data_kind="demonstrations", examples="10k"
    )
    assert "chat_template: tokenizer_default" in render_recipe(CATALOG, qwen, 1, "axolotl")
    # mlx-lm renders answers with the tokenizer's template too (a diff review); labels carry no thought.
    mac = recommend(
        gpu="m4-max", model="deepseek-r1-distill-qwen-7b", goal="reasoning", data_kind="demonstrations"
    )
    with pytest.raises(UsageError, match="which mlx-lm renders answers with, drops"):
        render_recipe(CATALOG, mac, rank_of(mac, "lora"), "mlx")
    labels = recommend(
        gpu="a100-80gb", model="deepseek-r1-distill-qwen-7b", goal="classify", data_kind="labeled"
    )
    assert "chat_template" in render_recipe(CATALOG, labels, rank_of(labels, "lora"), "axolotl")


@pytest.mark.parametrize(
    ("examples", "held"), [(99, 0), (100, 20), (300, 20), (400, 20), (5000, 250), (50000, 500)]
)
def test_a_held_out_share_is_20_to_500_rows(examples: int, held: int) -> None:
    """5 % within 20 and 500 rows; none where 20 rows would be over a fifth of the data (300
    examples held none out, below the tool's own 20 % advice: a review)."""
    assert held_out_rows(examples) == held


@pytest.mark.parametrize("fmt", ["llamafactory", "axolotl"])
def test_offline_stages_hold_rows_out_to_evaluate_on(fmt: str) -> None:
    share, every = {"llamafactory": ("val_size", "eval_steps"), "axolotl": ("val_set_size", "eval_steps")}[
        fmt
    ]
    prefs = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences", examples="20k")
    for doc in yaml_documents(render_recipe(CATALOG, prefs, rank_of(prefs, "lora", ("sft", "dpo")), fmt)):
        assert doc[share] == 500 / 20_000 and doc[every] == 0.2  # capped at 500 rows
        if fmt == "llamafactory":  # at the training micro-batch, not transformers' 8
            assert doc["per_device_eval_batch_size"] == doc["per_device_train_batch_size"]
    few = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences", examples="90")
    text = render_recipe(CATALOG, few, rank_of(few, "lora", ("sft", "dpo")), fmt)
    assert all(share not in doc for doc in yaml_documents(text))
    assert "too few to hold out 20 rows" in text
    unsized = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences")
    text = render_recipe(CATALOG, unsized, rank_of(unsized, "lora", ("sft", "dpo")), fmt)
    assert all(doc[share] == 0.05 for doc in yaml_documents(text)) and "with no cap of" in text
    if fmt == "axolotl":  # LLaMA-Factory has no online RL stage
        online = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function", examples="5k")
        (doc,) = yaml_documents(render_recipe(CATALOG, online, rank_of(online, "lora", ("grpo",)), fmt))
        assert share not in doc and every not in doc  # GRPO scores its own generations


def test_python_recipes_evaluate_offline_stages_only() -> None:
    prefs = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences", examples="300")
    script = render_recipe(CATALOG, prefs, rank_of(prefs, "lora", ("sft", "dpo")), "python")
    # The script applies the bounds to the rows it reads, whatever --examples said.
    assert "EVAL_STAGES = ('sft', 'dpo')" in script and "EVAL_ROWS = (20, 500)" in script
    assert '"--eval-share"' in script and "eval_dataset=evaluation" in script
    online = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function")
    script = render_recipe(CATALOG, online, rank_of(online, "lora", ("grpo",)), "python")
    assert "EVAL_" not in script and "eval_dataset=" not in script and "--eval-share" not in script


def test_a_stack_the_trainer_does_not_run_is_said_where_it_is_dropped() -> None:
    """--stack liger ranked a plan at 32.7 GB; the Python recipe runs TRL's fused LM head without
    Liger's kernels and is sized for that (34.6 GB): the header says so, and where Liger runs."""
    rec = recommend(gpu="h100-80gb", model="llama-3.1-8b", data_kind="demonstrations", stack="liger")
    rank = rank_of(rec, "lora", ("sft",))
    assert "--stack liger: this recipe's trainer does not run it" in render_recipe(
        CATALOG, rec, rank, "python"
    )
    assert "--stack liger:" not in render_recipe(CATALOG, rec, rank, "llamafactory")  # it runs Liger


def test_bf16_on_ampere() -> None:
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="demonstrations")
    rank = rank_of(rec, "lora", ("sft",))
    assert "PRECISION = 'bf16'" in render_recipe(CATALOG, rec, rank, "python")
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert doc["bf16"] is True and doc["fp16"] is False


OBJECTIVE_SUPPORT = {
    # stage: {format: what it writes, or the words of its refusal}
    "orpo": {"python": "trl.experimental", "llamafactory": "pref_loss: orpo", "axolotl": "chat-template"},
    "simpo": {"python": "trl.experimental", "llamafactory": "pref_loss: simpo", "axolotl": "rl: simpo"},
    "reward-model": {"python": "RewardTrainer", "llamafactory": "stage: rm", "axolotl": "bradley_terry"},
    "rloo": {"python": "RLOOTrainer", "llamafactory": "no online RL", "axolotl": "not RLOO"},
    "rlhf-ppo": {"python": "PPO left", "llamafactory": "PPO left", "axolotl": "PPO left"},
}
WRITES = {"pref_loss: orpo", "pref_loss: simpo", "rl: simpo", "RewardTrainer", "stage: rm", "RLOOTrainer"}


@pytest.mark.parametrize("stage", sorted(OBJECTIVE_SUPPORT))
def test_every_objective_is_written_where_a_trainer_has_it_and_refused_with_the_reason(stage: str) -> None:
    """ORPO and SimPO: LLaMA-Factory's pref_loss, axolotl's rl: simpo; reward models: TRL's
    RewardTrainer and LLaMA-Factory's stage rm; RLOO: TRL; PPO: nowhere, and each says why."""
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="preferences")
    pipeline = (stage,) if stage in ("reward-model", "rloo") else ("sft", stage)
    rec = rec._replace(
        plans=((rec.plans[rank_of(rec, "lora", ("sft", "dpo")) - 1])._replace(pipeline=pipeline),)
    )
    for fmt in PYTORCH_FORMATS:  # mlx-lm's on Apple: test_mlx_trains_one_supervised_stage_...
        expected = OBJECTIVE_SUPPORT[stage][fmt]
        if expected in WRITES:
            text = render_recipe(CATALOG, rec, 1, fmt)
            assert expected in text, (fmt, stage)
            assert "trl.experimental" not in text
        else:
            with pytest.raises(UsageError, match=expected):
                render_recipe(CATALOG, rec, 1, fmt)


def test_recipe_without_a_trainer_writes_orpo_with_llamafactory_and_names_only_who_writes_it(
    run: Runner,
) -> None:
    """An expert's review: `recipe` without --trainer refused the ORPO plan recommend ranked first
    (python keeps to stable TRL), where recommend's line named LLaMA-Factory; and the refusal
    offered axolotl's rl: simpo for ORPO, whose data axolotl reads otherwise. It now writes
    LLaMA-Factory's YAML, and names only LLaMA-Factory for ORPO."""
    args = ("recipe", "--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "align")
    args += ("--data-kind", "preferences", "--sft-data", "no", "--examples", "10k", "--out", "-")
    written = ok(run(*args))
    (doc,) = yaml_documents(written.stdout)
    assert (doc["stage"], doc["pref_loss"]) == ("dpo", "orpo")
    said = " ".join(written.stderr.split())
    assert (
        "so this is --trainer llamafactory" in said and "use --trainer llamafactory (pref_loss orpo)," in said
    )
    assert "rl: simpo" not in said


@pytest.mark.parametrize("stage", ["orpo", "simpo"])
def test_reference_free_objectives_are_yaml_only(stage: str) -> None:
    """ORPO and SimPO live in trl.experimental: the Python recipe refuses them and says where
    they are; LLaMA-Factory trains both as pref_loss of its dpo stage, axolotl SimPO as rl: simpo."""
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences")
    rec = rec._replace(plans=(rec.plans[0]._replace(pipeline=(stage,)),))
    with pytest.raises(UsageError, match=r"trl\.experimental"):
        render_recipe(CATALOG, rec, 1, "python")
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, 1, "llamafactory"))
    assert (doc["stage"], doc["pref_loss"]) == ("dpo", stage)
    if stage == "simpo":
        (doc,) = yaml_documents(render_recipe(CATALOG, rec, 1, "axolotl"))
        # γ/β = 0.5, the SimPO authors' starting point: axolotl passes simpo_gamma to TRL, which
        # divides it by beta.
        assert doc["rl"] == "simpo" and doc["rl_beta"] == 2.0 and doc["simpo_gamma"] == 1.0
        assert "adapter" not in doc and doc["learning_rate"] == 5e-7  # full fine-tuning
        lora = rec._replace(
            plans=(
                recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences")
                .plans[1]
                ._replace(pipeline=(stage,)),
            )
        )
        (doc,) = yaml_documents(render_recipe(CATALOG, lora, 1, "axolotl"))
        assert doc["adapter"] == "lora" and doc["learning_rate"] == 5e-6  # ~10x, as for DPO
    else:
        with pytest.raises(UsageError, match="llamafactory"):
            render_recipe(CATALOG, rec, 1, "axolotl")


@pytest.mark.parametrize("rank", [0, -1, 999])
def test_a_rank_out_of_range_is_a_usage_error(rank: int) -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")
    with pytest.raises(UsageError, match=f"--plan: {rank} is not a plan rank; this profile has plans 1 to"):
        render_recipe(CATALOG, rec, rank, "python")


def test_an_unknown_format_is_a_usage_error() -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")
    with pytest.raises(
        UsageError, match="--trainer: 'toml' is not one of axolotl, llamafactory, mlx, python"
    ):
        render_recipe(CATALOG, rec, 1, "toml")


def test_no_plans_is_a_usage_error() -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")._replace(plans=())
    with pytest.raises(UsageError, match="no plan"):
        render_recipe(CATALOG, rec, 1, "python")


# --- values come from the knowledge base ------------------------------------------------------


def with_values(method_id: str, **values: float | None) -> Catalog:
    """The bundled catalog with some hyperparameter values of one method changed (None removes)."""
    methods = []
    entries = {
        k: None if v is None else Hyperparameter(value=v, source="a test value") for k, v in values.items()
    }
    for method in CATALOG.kb.methods:
        if method.id == method_id:
            changed = {k: v for k, v in {**method.hyperparameters, **entries}.items() if v is not None}
            method = method.model_copy(update={"hyperparameters": changed})
        methods.append(method)
    return Catalog(CATALOG.kb.model_copy(update={"methods": methods}))


def test_hyperparameters_are_read_from_the_knowledge_base() -> None:
    catalog = with_values("lora", learning_rate=3e-4, lora_dropout=0.1)
    rec = Engine(catalog).recommend(build_profile({"gpu": "rtx-3090", "model": "llama-3.1-8b"}))
    rank = rank_of(rec, "lora", ("sft",))
    text = render_recipe(catalog, rec, rank, "python")
    assert "LEARNING_RATE = {'sft': 0.0003}" in text
    assert "'lora_dropout': 0.1" in text
    assert "methods.yaml lora.hyperparameters.learning_rate.value (a test value)" in header_of(text)
    (doc,) = yaml_documents(render_recipe(catalog, rec, rank, "llamafactory"))
    assert doc["learning_rate"] == 0.0003 and doc["lora_dropout"] == 0.1


def test_a_value_the_knowledge_base_lacks_is_left_to_the_library() -> None:
    catalog = with_values("lora", lora_alpha=None, lora_dropout=None, learning_rate=None)
    rec = Engine(catalog).recommend(build_profile({"gpu": "rtx-3090", "model": "llama-3.1-8b"}))
    text = render_recipe(catalog, rec, rank_of(rec, "lora", ("sft",)), "python")
    assert "lora_alpha" not in text.split("ADAPTER_SETTINGS = ")[1].splitlines()[0]
    assert "lora.alpha" not in header_of(text)
    # Without the method's own rate, the SFT objective's PEFT rate applies, and says so.
    assert "LEARNING_RATE = {'sft': 0.0002}" in text
    assert "methods.yaml sft.hyperparameters.learning_rate" in header_of(text)


# --- stages chain ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "gpu", "expected"),
    [
        ("lora", "rtx-3090", {"adapter_name_or_path": "saves/ft-atlas/sft", "create_new_adapter": True}),
        ("qlora", "t4", {"model_name_or_path": "saves/ft-atlas/sft-merged"}),
        ("full-ft", "a100-80gb", {"model_name_or_path": "saves/ft-atlas/sft"}),
    ],
)
def test_llamafactory_second_stage_starts_from_the_first(
    method: str, gpu: str, expected: dict[str, Any]
) -> None:
    """QLoRA: LLaMA-Factory merges no adapter into a 4-bit model, so an export step merges the SFT
    adapter into a 16-bit copy first, and DPO trains a new adapter on it, the SFT model its
    reference (an expert's review: it resumed the SFT adapter, the base model its reference)."""
    rec = recommend(gpu=gpu, model="qwen2.5-0.5b", data_kind="preferences")
    *documents, dpo = yaml_documents(
        render_recipe(CATALOG, rec, rank_of(rec, method, ("sft", "dpo")), "llamafactory")
    )
    sft = documents[0]
    if method == "qlora":
        merge = documents[1]
        assert merge["adapter_name_or_path"] == "saves/ft-atlas/sft" and "quantization_bit" not in merge
        assert merge["export_dir"] == "saves/ft-atlas/sft-merged" and "adapter_name_or_path" not in dpo
    assert sft["stage"] == "sft" and dpo["stage"] == "dpo"
    assert dpo.items() >= expected.items()
    assert dpo["pref_beta"] == 0.1 and dpo["learning_rate"] < sft["learning_rate"]


def test_llamafactory_under_zero3_merges_the_sft_adapter_by_an_export_step() -> None:
    """An expert's review: under DeepSpeed ZeRO-3 LLaMA-Factory merges no adapter and ignores
    create_new_adapter (model/adapter.py init_adapter: is_mergeable false), so the DPO stage
    trained the SFT adapter further with the base model as its reference, and the after-training
    line loaded "sft,dpo", applying the SFT update twice. An export step now merges the SFT adapter
    first (llamafactory-cli export), DPO trains a new adapter on the merged model, and the run and
    after-training lines follow it."""
    rec = recommend(
        gpu="a100-80gb", gpus="8", model="llama-3.1-70b", goal="align", data_kind="preferences", seq_len="4k"
    )
    recipe, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft", "dpo")), "llamafactory")
    assert recipe.sharding == "zero3"
    _, merge, dpo = yaml_documents(rendered.text)
    assert merge["export_device"] == "cpu" and dpo["model_name_or_path"] == "saves/ft-atlas/sft-merged"
    assert "adapter_name_or_path" not in dpo and "create_new_adapter" not in dpo
    assert "&& llamafactory-cli export merge_sft.yaml && " in rendered.launch
    assert "--model_name_or_path saves/ft-atlas/sft-merged --adapter_name_or_path saves/ft-atlas/dpo " in (
        recipe.after_training
    )
    assert any(n.startswith("LLaMA-Factory merges no adapter into a 4-bit model") for n in recipe.notes)


def test_llamafactory_resumes_the_sft_adapter_where_no_export_step_can_merge_it(run: Runner) -> None:
    """A diff review: the export step needs the 16-bit copy in CPU RAM (more than --ram 12 on a
    T4's host), runs once on one node (every node would write the same directory), and cannot
    merge into a checkpoint stored quantized; there the DPO stage resumes the SFT adapter, the
    base model its reference, and says why."""
    t4 = ("--gpu", "t4", "--model", "llama-3.1-8b", "--data-kind", "preferences", "--seq-len", "1k")
    nodes = ("--gpu", "a100-80gb", "--gpus", "16", "--model", "llama-3.1-70b", "--goal", "align")
    nodes += ("--data-kind", "preferences", "--seq-len", "4k")
    for args in ((*t4, "--ram", "12"), nodes):
        written = ok(run("recipe", *args, "--trainer", "llamafactory", "--out", "-")).stdout
        dpo = yaml_documents(written)[-1]
        assert "export_dir: " not in written and dpo["create_new_adapter"] is False, args
        assert "cannot be merged by an export step here" in " ".join(written.split())
    assert (
        "export_dir: saves/ft-atlas/sft-merged" in ok(run("recipe", *t4, "--trainer", "llamafactory")).stdout
    )


@pytest.mark.parametrize(("method", "base"), [("lora", "./outputs/sft/merged"), ("full-ft", "./outputs/sft")])
def test_axolotl_second_stage_starts_from_the_first(method: str, base: str) -> None:
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="ratings")
    text = render_recipe(CATALOG, rec, rank_of(rec, method, ("sft", "kto")), "axolotl")
    _, kto = yaml_documents(text)
    assert kto["base_model"] == base and kto["rl"] == "kto" and kto["micro_batch_size"] >= 2
    # axolotl's own validation refuses KTO without it (its check_kto_config).
    assert kto["remove_unused_columns"] is False
    assert ("axolotl merge-lora sft.yaml" in header_of(text)) == (method == "lora")


def test_grpo_in_axolotl_names_the_reward_function_and_llamafactory_refuses() -> None:
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function")
    rank = rank_of(rec, "lora", ("grpo",))
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert doc["rl"] == "grpo"
    assert doc["trl"] == {
        "reward_funcs": ["rewards.reward_matches_solution"],
        "beta": 0.0,
        "num_generations": 8,
        "max_completion_length": 512,
    }
    # TRL no longer truncates prompts: the header says how long they may be.
    text = render_recipe(CATALOG, rec, rank, "axolotl")
    assert "keep prompts within 512 tokens (filter the dataset first)" in header_of(text)
    with pytest.raises(UsageError, match="LLaMA-Factory has no online RL stage"):
        render_recipe(CATALOG, rec, rank, "llamafactory")


def test_the_sft_script_says_how_tool_calls_are_given() -> None:
    """An expert's review: nothing said how to train tool calling. TRL renders a row's "tools"
    column with the chat template (SFTTrainer's tokenize_fn), which the script's data loading keeps:
    its docstring says so for conversations."""
    rec = recommend(gpu="a100-80gb", model="qwen2.5-7b", goal="chat", examples="5k")
    script = render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
    doc = " ".join(script.split('"""', 2)[1].split())
    assert 'tool calling: a "tools" column beside it' in doc and '"tool_calls"' in doc


def test_grpo_recipes_sample_as_the_profile_says() -> None:
    """--num-generations 6 --generation-batch 6 (one prompt's group a step, as Unsloth's notebooks
    train): the recipes write those, and accumulate 6 micro-batches of 1 into one generation batch."""
    rec = recommend(
        gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function", num_generations="6",
        generation_batch="6", batch_size="1",
    )  # fmt: skip
    rank = rank_of(rec, "lora", ("grpo",))
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert doc["trl"]["num_generations"] == 6
    assert (doc["micro_batch_size"], doc["gradient_accumulation_steps"]) == (1, 6)
    script = render_recipe(CATALOG, rec, rank, "python")
    assert "'num_generations': 6" in script and "GRAD_ACCUM = {'grpo': 6}" in script
    assert "the profile's --generation-batch 6, in whole micro-batches and groups of 6" in " ".join(
        header_of(script).replace("#", " ").split()
    )


def test_a_recipe_says_which_options_its_stages_ignore(run: Runner) -> None:
    """--generation-batch on an SFT plan was dropped without a word by `recipe` (recommend said
    it): now said on stderr, as recommend words it; an online plan is told how its batch rounds."""
    sft = ok(run("recipe", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--generation-batch", "64"))
    assert "--generation-batch: nothing here samples groups of completions" in sft.stderr
    grpo = ("--gpu", "h100-80gb", "--model", "qwen2.5-7b", "--data-kind", "reward-function")
    rounded = ok(run("recipe", *grpo, "--generation-batch", "30"))
    assert "--generation-batch 30: grpo samples 32 at once" in " ".join(rounded.stderr.split())
    assert ok(run("recipe", *grpo)).stderr == ""


def test_vllm_sampling_past_the_native_positions_is_refused_where_trl_gives_it_no_yarn(run: Runner) -> None:
    """An expert's review: Qwen2.5-7B-Instruct's config reads 32,768 positions (its card: YaRN up
    to 131,072), and the GRPO recipe at --seq-len 48k set vllm_max_model_length 49152, which vLLM
    refuses; TRL passes its engine no RoPE scaling. The Python recipe says so; within 32k, or
    sampling without vLLM (transformers' generate, on the YaRN-configured policy), it is written."""
    args = ("recipe", "--gpu", "h100-80gb", "--gpus", "8", "--model", "Qwen/Qwen2.5-7B-Instruct")
    args += ("--goal", "reasoning", "--data-kind", "reward-function", "--examples", "2k", "--out", "-")
    fails(
        run(*args, "--vllm", "--seq-len", "48k"), 2, "keep --seq-len within 32768, or sample without --vllm"
    )
    ok(run(*args, "--vllm", "--seq-len", "16k"))
    assert "rope.yarn_factor = 1.5" in ok(run(*args, "--seq-len", "48k")).stdout


def test_axolotl_refuses_a_vllm_engine_sized_for_a_context_its_share_cannot_hold(run: Runner) -> None:
    """An expert's review: axolotl hands its colocated vLLM no vllm_max_model_length, so vLLM
    sizes for Llama 3.2 3B's whole 131,072-token context (~15 GB of cache beside 6.4 GB of
    weights) and refuses to start within 30 % of a 24 GB card, while the recipe said "fits". On
    an 80 GB card it starts, and the Python recipe, which sets the length, is written on both."""
    args = ("recipe", "--model", "llama-3.2-3b", "--model-variant", "instruct", "--goal", "reasoning")
    args += ("--data-kind", "reward-function", "--examples", "2k", "--vllm", "--out", "-")
    refused = fails(run(*args, "--gpu", "rtx-4090", "--trainer", "axolotl"), 2, "131,072-token context")
    assert "use --trainer python, which sets vllm_max_model_length" in " ".join(refused.stderr.split())
    ok(run(*args, "--gpu", "a100-80gb", "--trainer", "axolotl"))
    assert "'vllm_max_model_length':" in ok(run(*args, "--gpu", "rtx-4090")).stdout
    # vLLM sizes for the config's max_position_embeddings, not the native context (an expert's
    # review: Qwen3-1.7B's 40,960 positions need 4.7 GB of cache; its native 32,768 would fit).
    qwen = ("recipe", "--model", "qwen3-1.7b", "--goal", "reasoning", "--data-kind", "reward-function")
    qwen += ("--examples", "5k", "--vllm", "--seq-len", "4k", "--gpu", "rtx-4090", "--trainer", "axolotl")
    fails(run(*qwen, "--out", "-"), 2, "40,960-token context")


def test_vllm_samples_on_the_training_gpus_in_every_format_that_runs_grpo() -> None:
    """--vllm writes TRL's use_vllm in colocate mode with the share of the GPU the memory estimate
    reserves; axolotl takes that share from its own vllm: section, whose default is 0.9."""
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function", vllm="true")
    rank = rank_of(rec, "lora", ("grpo",))
    text = render_recipe(CATALOG, rec, rank, "axolotl")
    (doc,) = yaml_documents(text)
    assert doc["trl"]["use_vllm"] is True and doc["trl"]["vllm_mode"] == "colocate"
    # axolotl passes tensor_parallel_size to TRL as it is: unset, TRL multiplies by None.
    assert doc["vllm"] == {"gpu_memory_utilization": 0.3, "tensor_parallel_size": 1}
    # ... and not vllm_max_model_length: its header lists no setting the file does not write
    assert "vllm_max_model_length =" not in header_of(text) and "sets 1024 tokens" in text
    script = render_recipe(CATALOG, rec, rank, "python")
    assert "'use_vllm': True, 'vllm_mode': 'colocate', 'vllm_gpu_memory_utilization': 0.3" in script
    assert "'vllm_max_model_length': 1024" in script  # else vLLM sizes for the whole context
    assert "'vllm_tensor_parallel_size': 1" in script
    # TRL's vllm extra pins the vLLM releases it supports (an unpinned vllm resolved past them).
    assert "pip install trl[vllm]" in script and "'trl[vllm]>=1.15.0'" in script
    # An 8B model's 16-bit weights and the cache of a prompt's 8 completions (1.07 GB at 1,024
    # tokens) need more than TRL's 0.3 of a 40 GB card: the recipe gives vLLM the share the
    # estimate reserved (more than the weights and one sequence that start it: vLLM's profiling
    # run, sampler and graphs need room too, a diff review).
    small = recommend(gpu="a100-40gb", model="llama-3.1-8b", data_kind="reward-function", vllm="true")
    recipe, _ = write_recipe(CATALOG, small, rank_of(small, "lora", ("grpo",)), "python")
    share = recipe.value("grpo.vllm_gpu_memory_utilization")
    assert share > 0.3 and share * 42.95 >= 16.06 + 1.07  # of 42.95 GB usable
    # A 32B model's weights span 4 of 8 H100s' vLLM shares.
    large = recommend(
        gpu="h100-80gb", gpus="8", model="qwen2.5-32b", data_kind="reward-function", vllm="true"
    )
    rank = rank_of(large, "lora", ("grpo",))
    assert write_recipe(CATALOG, large, rank, "python")[0].value("grpo.vllm_tensor_parallel_size") == 4
    (doc,) = yaml_documents(render_recipe(CATALOG, large, rank, "axolotl"))
    assert doc["vllm"]["tensor_parallel_size"] == 4
    plain = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="reward-function")
    assert "use_vllm" not in render_recipe(CATALOG, plain, rank_of(plain, "lora", ("grpo",)), "python")


def test_packed_sft_keeps_its_examples_apart_with_flash_attention() -> None:
    """Packed rows are told apart by their positions: FlashAttention 2 does it without the
    seq x seq mask transformers builds for SDPA; LLaMA-Factory needs neat_packing not to let
    them attend to each other. A GPU FlashAttention 2 does not run on gets a note instead."""
    profile = {"model": "llama-3.1-8b", "goal": "adapt", "data_kind": "demonstrations", "packing": "true"}
    rec = recommend(gpu="h100-80gb", **profile)
    rank = rank_of(rec, "lora", ("sft",))
    script = render_recipe(CATALOG, rec, rank, "python")
    assert "kwargs[\"attn_implementation\"] = 'kernels-community/flash-attn2'" in script
    assert "pip install kernels" in script
    # The Hub's kernel is CUDA only: a smoke test on the CPU failed loading it (an expert's review).
    loader = ast.get_source_segment(script, _function(script, "load_model")) or ""
    assert (
        "if not torch.cuda.is_available():" in loader and "kwargs[\"attn_implementation\"] = 'sdpa'" in loader
    )
    (axolotl,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert axolotl["sample_packing"] and axolotl["attn_implementation"] == "flash_attention_2"
    recipe, rendered = write_recipe(CATALOG, rec, rank, "llamafactory")
    (factory,) = yaml_documents(rendered.text)
    assert factory["neat_packing"] and factory["flash_attn"] == "fa2"
    # Its collator asserts one packed row per step with FlashAttention 2: the same sequences per step.
    assert factory["per_device_train_batch_size"] == 1
    sequences = recipe.stage_value("batch", "sft") * recipe.stage_value("grad_accum", "sft")
    assert factory["gradient_accumulation_steps"] == sequences
    unpacked = recommend(gpu="h100-80gb", **{**profile, "packing": "false"})
    assert "attn_implementation" not in render_recipe(
        CATALOG, unpacked, rank_of(unpacked, "lora", ("sft",)), "python"
    )
    turing = recommend(gpu="t4", **profile, seq_len="2k")
    script = render_recipe(CATALOG, turing, rank_of(turing, "qlora", ("sft",)), "python")
    assert "attn_implementation" not in script
    assert "Packing without FlashAttention 2" in " ".join(header_of(script).replace("#", " ").split())


@pytest.mark.parametrize(("gpu", "attention"), [("a100-80gb", "flash_attention_2"), ("t4", "sdpa")])
def test_axolotl_names_an_attention_backend_wherever_it_packs(gpu: str, attention: str) -> None:
    """axolotl's sample_packing restarts positions at each packed document and keeps documents
    apart only with an attention backend named: continued pre-training packs by default, so it
    gets the backend packed SFT gets (SDPA where FlashAttention 2 does not run). The Python recipe
    wraps documents with running positions (TRL's 'wrapped'): it names none."""
    rec = recommend(gpu=gpu, model="qwen2.5-0.5b", data_kind="text", goal="knowledge", examples="10k")
    rank = rank_of(rec, "lora", ("continued-pretraining",))
    (doc,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert doc["sample_packing"] is True and doc["attn_implementation"] == attention
    assert "attn_implementation" not in render_recipe(CATALOG, rec, rank, "python")
    packed = recommend(gpu=gpu, model="qwen2.5-0.5b", data_kind="demonstrations", packing="true")
    (sft,) = yaml_documents(render_recipe(CATALOG, packed, rank_of(packed, "lora", ("sft",)), "axolotl"))
    assert sft["sample_packing"] is True and sft["attn_implementation"] == attention


def test_grpo_samples_a_hybrid_reasoning_model_without_thinking_when_its_thoughts_would_be_cut() -> None:
    """Qwen3 thinks by default; at a 512-token completion budget every thought is cut before its
    answer and earns no reward. The recipe samples it without thinking and says so with the budget
    it writes; the rule note that blames a cut budget is not repeated. With room for thoughts (the
    default, 2,048 tokens of completion), or for a model that always thinks, nothing is turned off.
    axolotl's GRPO ignores trl.chat_template_kwargs: it refuses the plan rather than train on cut
    thoughts."""
    profile = {"gpu": "h100-80gb", "data_kind": "reward-function", "examples": "5k"}
    default = recommend(model="qwen3-8b", **profile)
    written = constants(render_recipe(CATALOG, default, rank_of(default, "lora", ("grpo",)), "python"))
    stage = written["STAGE_SETTINGS"]["grpo"]
    assert stage["max_completion_length"] == 2048 and "chat_template_kwargs" not in stage
    rec = recommend(model="qwen3-8b", seq_len="1k", **profile)
    rank = rank_of(rec, "lora", ("grpo",))
    script = render_recipe(CATALOG, rec, rank, "python")
    grpo = constants(script)["STAGE_SETTINGS"]["grpo"]
    assert grpo["chat_template_kwargs"] == {"enable_thinking": False} and grpo["max_completion_length"] == 512
    header = " ".join(header_of(script).replace("#", " ").split())
    assert "samples without thinking" in header and "capped at 512 tokens" in header
    assert "under the 2,048 tokens this caveat takes" not in header
    with pytest.raises(UsageError, match="chat_template_kwargs"):
        render_recipe(CATALOG, rec, rank, "axolotl")
    # Its base checkpoint has no thinking to turn off (a diff review).
    base = recommend(model="qwen3-8b", model_variant="base", seq_len="1k", **profile)
    plain = constants(render_recipe(CATALOG, base, rank_of(base, "lora", ("grpo",)), "python"))
    assert "chat_template_kwargs" not in plain["STAGE_SETTINGS"]["grpo"]
    roomy = recommend(model="qwen3-8b", seq_len="4k", **profile)
    rank = rank_of(roomy, "lora", ("grpo",))
    assert (
        "chat_template_kwargs"
        not in constants(render_recipe(CATALOG, roomy, rank, "python"))["STAGE_SETTINGS"]["grpo"]
    )
    (doc,) = yaml_documents(render_recipe(CATALOG, roomy, rank, "axolotl"))
    assert doc["trl"]["max_completion_length"] >= 2048 and "chat_template_kwargs" not in doc["trl"]
    thinking = recommend(model="qwen3-4b-thinking-2507", seq_len="1k", **profile)
    script = render_recipe(CATALOG, thinking, rank_of(thinking, "lora", ("grpo",)), "python")
    assert "chat_template_kwargs" not in constants(script)["STAGE_SETTINGS"]["grpo"]
    assert "under the 2,048 tokens this caveat takes" in " ".join(header_of(script).replace("#", " ").split())


def test_a_split_sequence_runs_under_deepspeed_ulysses_in_the_python_recipe() -> None:
    """256k-token SFT of an 8B model on 8 H100s fits with each sequence split over GPUs: the
    accelerate config carries the parallelism_config of transformers' ALST docs, SFT pads to a
    multiple of the split, the replicas (not the GPUs) set the accumulation; LLaMA-Factory and
    axolotl are refused with the reason."""
    rec = recommend(
        gpu="h100-80gb",
        gpus="8",
        model="llama-3.1-8b",
        goal="adapt",
        data_kind="demonstrations",
        seq_len="256k",
        packing="true",
    )
    rank = rank_of(rec, "lora", ("sft",))
    recipe, rendered = write_recipe(CATALOG, rec, rank, "python")
    split = recipe.sequence_parallel
    assert split > 1 and all(e.settings.sequence_parallel == split for e in recipe.estimates.values())
    config = yaml.safe_load(rendered.files[1].text)["parallelism_config"]
    assert config == {
        "parallelism_config_sp_size": split,
        "parallelism_config_dp_replicate_size": 8 // split,
        "parallelism_config_sp_backend": "deepspeed",
        "parallelism_config_sp_seq_length_is_variable": True,
        "parallelism_config_sp_attn_implementation": "flash_attention_2",
    }
    script = rendered.files[0].text
    assert f"'pad_to_multiple_of': {split}" in script and "pip install flash-attn" in script
    # The versions that split sequences (accelerate's parallelism_config, TRL's position_ids).
    assert "'trl': '1.16.0'" in script and "'accelerate': '1.12.0'" in script
    assert recipe.stage_value("batch", "sft") * (8 // split) * recipe.stage_value("grad_accum", "sft") == 16
    for fmt in ("llamafactory", "axolotl"):
        with pytest.raises(UsageError, match="each sequence split over"):
            write_recipe(CATALOG, rec, rank, fmt)


# axolotl/integrations/liger/args.py (LigerArgs), fields its Liger plugin adds to the config.
AXOLOTL_LIGER_KEYS = words(
    """
    liger_rope liger_rms_norm liger_rms_norm_gated liger_layer_norm liger_swiglu liger_glu_activation
    liger_cross_entropy liger_fused_linear_cross_entropy liger_use_token_scaling
    """
)


def test_stack_liger_writes_liger_kernel_into_the_yaml_recipes() -> None:
    """--stack liger sizes memory with a fused linear cross-entropy: LLaMA-Factory's
    enable_liger_kernel and axolotl's Liger plugin train that way (for SFT; their preference
    stages keep the logits, so those are sized and written without it)."""
    rec = recommend(gpu="rtx-4090", model="llama-3.1-8b", goal="adapt", seq_len="16k", stack="liger")
    rank = rank_of(rec, "qlora", ("sft",))
    (factory,) = yaml_documents(render_recipe(CATALOG, rec, rank, "llamafactory"))
    assert factory["enable_liger_kernel"] is True
    recipe, rendered = write_recipe(CATALOG, rec, rank, "axolotl")
    (axolotl,) = yaml_documents(rendered.text)
    assert recipe.stack == "liger" and axolotl["plugins"] == ["axolotl.integrations.liger.LigerPlugin"]
    liger = {k for k in axolotl if k.startswith("liger_")}
    assert "liger_fused_linear_cross_entropy" in liger and liger <= AXOLOTL_LIGER_KEYS
    pairs = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", data_kind="preferences", stack="liger")
    recipe, _ = write_recipe(CATALOG, pairs, rank_of(pairs, "lora", ("sft", "dpo")), "llamafactory")
    assert recipe.stack == "hf"


def test_a_yaml_recipe_turns_liger_on_where_it_keeps_the_plan_an_expert_runs(run: Runner) -> None:
    """LLaMA-Factory and axolotl rank with transformers' fp32 logits: at 32k tokens on a
    152k-vocabulary MoE every LoRA plan misses, and plan 1 becomes retrieval (level with the
    offloaded partial fine-tune, and scored higher), which has no trainer config. Their Liger
    option keeps LoRA first: the recipe turns it on and stderr says so; with --stack given, or
    when Liger changes nothing, it is quiet and plain."""
    profile = ("--gpu", "h100", "--model", "qwen3-30b-a3b", "--goal", "chat", "--examples", "10k")
    long = (*profile, "--data-kind", "demonstrations", "--seq-len", "32k", "--trainer", "llamafactory")
    result = ok(run("recipe", *long, "--out", "-"))
    assert re.search(r"plan 1 is then Q?LoRA, ", result.stderr) and "--stack hf" in result.stderr
    assert "enable_liger_kernel: true" in result.stdout
    assert "-r requirements/liger-kernel.txt" in " ".join(result.stdout.replace("#", " ").split())
    assert "written with Liger" not in ok(run("recipe", *long, "--stack", "liger")).stderr
    short = (*profile, "--data-kind", "demonstrations", "--seq-len", "2k", "--trainer", "axolotl")
    plain = ok(run("recipe", *short, "--out", "-"))
    assert "written with Liger" not in plain.stderr and "LigerPlugin" not in plain.stdout


def test_a_yaml_recipe_turns_liger_on_where_the_same_plan_then_fits_on_the_gpus(run: Runner) -> None:
    """Qwen3-32B QLoRA on two RTX 4090s at 3-4k tokens was written tight, its optimizer offloaded to
    CPU RAM, where the trainer's Liger option fits it within the margin (an expert's review): the
    plan stays first either way, and now it is written with Liger."""
    args = ("--gpu", "rtx-4090", "--gpus", "2", "--model", "qwen3-32b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "10k", "--seq-len", "3k", "--out", "-")
    result = ok(run("recipe", *args, "--trainer", "llamafactory"))
    assert "plan 1 (QLoRA) then needs" in result.stderr and "only tight or offloads" in result.stderr
    assert "enable_liger_kernel: true" in result.stdout
    hf = ok(run("recipe", *args, "--trainer", "llamafactory", "--stack", "hf"))
    assert "written with Liger" not in hf.stderr and "enable_liger_kernel" not in hf.stdout


def test_a_yaml_recipe_of_8b_at_8k_on_a_24_gb_card_is_written_not_refused(run: Runner) -> None:
    """An expert's review: Llama 3.1 8B at 8k tokens on an RTX 4090 was refused by both YAML
    trainers (plan 1 under their own loss was QLoRA with its base in CPU RAM, which they do not
    write) while LoRA with their Liger option fits on the card: they now write that."""
    args = ("--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--data-kind", "demonstrations")
    args += ("--examples", "5000", "--seq-len", "8k", "--out", "-")
    turned_on = {
        "axolotl": "liger_fused_linear_cross_entropy: true",
        "llamafactory": "enable_liger_kernel: true",
    }
    for trainer, on in turned_on.items():
        result = ok(run("recipe", *args, "--trainer", trainer))
        assert "Plan 1 of" in result.stdout and "LoRA (SFT)" in result.stdout and on in result.stdout
        assert "sft 21.73 GB at batch 1: fits" in result.stdout


def test_liger_is_not_turned_on_for_a_family_the_trainers_do_not_patch(run: Runner) -> None:
    """LLaMA-Factory's Liger option knows a list of model types, and Llama 4 is not on it (it logs
    "Current model does not support liger kernel" and trains unpatched): the recipe neither turns
    it on by itself nor, given --stack liger, sizes the plan as if it ran."""
    args = ("--gpu", "h100", "--gpus", "8", "--model", "llama-4-scout", "--data-kind", "demonstrations")
    args += ("--examples", "5000", "--seq-len", "8k", "--trainer", "llamafactory", "--out", "-")
    result = ok(run("recipe", *args))
    assert "written with Liger" not in result.stderr and "enable_liger_kernel" not in result.stdout
    given = ok(run("recipe", *args, "--stack", "liger"))
    assert "enable_liger_kernel" not in given.stdout and "stack hf" in given.stdout
    assert "do not patch llama4 models" in " ".join(given.stdout.replace("#", " ").split())


def test_a_recipe_past_the_models_trained_positions_says_so() -> None:
    """Mistral 7B was trained with 32,768 positions and its card gives no way past them: a 64k
    recipe sets no RoPE scaling, and its header says the reader must (Qwen's YaRN is set:
    test_past_its_positions_a_yarn_family_is_scaled_or_told_how)."""
    rec = recommend(
        gpu="h100-80gb", model="mistral-7b", goal="adapt", data_kind="demonstrations", seq_len="64k"
    )
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
    assert any("longer than the 32768 positions" in n and "RoPE scaling" in n for n in recipe.notes)
    within = recommend(
        gpu="h100-80gb", model="mistral-7b", goal="adapt", data_kind="demonstrations", seq_len="32k"
    )
    recipe, _ = write_recipe(CATALOG, within, rank_of(within, "lora", ("sft",)), "python")
    assert not any("positions" in n for n in recipe.notes)


def test_qlora_python_quantizes_and_needs_cuda() -> None:
    rec = recommend(gpu="t4", model="llama-3.1-8b", goal="chat")
    text = render_recipe(CATALOG, rec, rank_of(rec, "qlora", ("sft",)), "python")
    assert "BitsAndBytesConfig(" in text and "NEEDS_CUDA = True" in text
    # TRL prepares a quantized model itself without upcasting the embeddings and LM head to fp32,
    # as PEFT's prepare_model_for_kbit_training would (~2 GB for Llama-3.1-8B): the estimate's trl stack.
    assert "prepare_model_for_kbit_training" not in text
    assert "QUANTIZATION = {'bnb_4bit_quant_type': 'nf4', 'bnb_4bit_use_double_quant': True}" in text
    assert "OPTIM = 'paged_adamw_32bit'" in text
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "qlora", ("sft",)), "python")
    # The header's estimate is of the optimizer the script uses, not the ranking's plain AdamW.
    assert all(e.settings.optimizer == "paged-adamw-32bit" for e in recipe.estimates.values())
    assert f"QUANT_BITS = {recipe.value('quant.bits')}" in text


def test_no_training_plans_give_a_prompting_example() -> None:
    """With local weights the examples generate with transformers; with API access only they call
    the provider's model (test_an_api_only_prompting_recipe_calls_the_providers_model)."""
    for rec, generates in (
        (recommend(gpu="rtx-4090", model="llama-3.1-8b", goal="knowledge"), 'pipeline("text-generation"'),
        (recommend(model_access="api", goal="knowledge"), "chat.completions.create("),
    ):
        rag = render_recipe(CATALOG, rec, rank_of(rec, "rag"), "python")
        icl = render_recipe(CATALOG, rec, rank_of(rec, "icl"), "python")
        assert generates in rag and "def rank(" in rag and generates in icl
        assert "def build_prompt(" in icl and "--examples" in icl
        assert "example values" in header_of(rag)
        with pytest.raises(UsageError, match="trains nothing"):
            render_recipe(CATALOG, rec, rank_of(rec, "rag"), "axolotl")


FAKE_OPENAI = """
import json, os

class OpenAI:
    def __init__(self, api_key, base_url=None):
        self.chat = self.completions = self
        self.key, self.url = api_key, base_url

    def create(self, **request):
        with open(os.environ["CALLS"], "w", encoding="utf-8") as out:
            json.dump({**request, "key": self.key, "url": self.url}, out)
        message = type("M", (), {"content": " positive "})
        return type("R", (), {"choices": [type("C", (), {"message": message})]})
"""


def test_an_api_only_prompting_recipe_calls_the_providers_model(tmp_path: Path) -> None:
    """A user with only an API key gets a script that calls the named hosted model through the
    OpenAI SDK's chat completions (OpenAI's, or another provider's compatible endpoint: by
    default the one that serves the model, so Claude is not sent to OpenAI), never a local
    transformers pipeline that would try to download weights that do not exist."""
    rec = recommend(model_access="api", model="claude-sonnet-4", goal="classify", data_kind="labeled")
    script = tmp_path / "icl.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, "icl"), "python"), encoding="utf-8")
    assert "transformers" not in script.read_text(encoding="utf-8").split("# ===", 2)[2]
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "__init__.py").write_text(FAKE_OPENAI, encoding="utf-8")
    shots = tmp_path / "shots.jsonl"
    shots.write_text('{"input": "great", "output": "positive"}\n', encoding="utf-8")
    calls = tmp_path / "calls.json"
    env = {"PYTHONPATH": str(tmp_path), "CALLS": str(calls), "ANTHROPIC_API_KEY": "sk-test", "PATH": ""}
    args = ["--examples", str(shots), "--query", "fine"]
    command = [sys.executable, str(script), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "positive"
    request = json.loads(calls.read_text(encoding="utf-8"))
    assert request["model"] == "claude-sonnet-4" and request["key"] == "sk-test"
    assert request["url"] == "https://api.anthropic.com/v1/" and request["max_completion_tokens"] == 4096
    assert "Input: great\nOutput: positive" in request["messages"][0]["content"]
    unset = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    missing = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=unset)
    assert missing.returncode == 1 and "set ANTHROPIC_API_KEY to your provider's API key" in missing.stderr
    openai = recommend(model_access="api", model="gpt-4.1-mini", goal="classify", data_kind="labeled")
    text = render_recipe(CATALOG, openai, rank_of(openai, "icl"), "python")
    assert 'default=os.environ.get("OPENAI_BASE_URL")' in text and "default='OPENAI_API_KEY'" in text


def test_an_api_rag_recipe_ranks_passages_by_bm25(tmp_path: Path) -> None:
    """With API access the RAG script ranks passages by their words: Okapi BM25, the usual
    keyword baseline, whose term frequency saturates. TF-IDF cosine, used before, ranked a passage
    that repeats one of the question's words above one that holds both."""
    rec = recommend(model_access="api", model="claude-sonnet-4", goal="knowledge", data_kind="text")
    script = tmp_path / "rag.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, "rag"), "python"), encoding="utf-8")
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "__init__.py").write_text(FAKE_OPENAI, encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    both = "the warranty is valid for two years and covers parts labour and shipping to any address"
    for name, text in (("a", "warranty warranty warranty warranty"), ("b", both), ("c", "returns are free")):
        (docs / f"{name}.txt").write_text(text, encoding="utf-8")
    calls = tmp_path / "calls.json"
    env = {"PYTHONPATH": str(tmp_path), "CALLS": str(calls), "ANTHROPIC_API_KEY": "sk-test", "PATH": ""}
    command = [sys.executable, str(script), "--docs", str(docs), "--question", "warranty years"]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    prompt = json.loads(calls.read_text(encoding="utf-8"))["messages"][0]["content"]
    assert f"[1] {both}" in prompt


# One row of demonstrations in each format the training recipes read (TRL's).
DEMONSTRATIONS = {
    "text": {"text": "The sky is blue."},
    "prompt-completion": {"prompt": "What colour is the sky?", "completion": " The sky is blue."},
    "conversational": {
        "messages": [
            {"role": "user", "content": "What colour is the sky?"},
            {"role": "assistant", "content": "The sky is blue."},
        ]
    },
}


def test_a_few_shot_recipe_says_how_many_examples_it_shows_and_how_to_install(run: Runner) -> None:
    """A newcomer's review: with 2,000 support tickets and an API key, the advice said to retrieve
    the most similar examples per query, while the recipe took the first ones of the file for
    every query without saying so; and it had no install line, as the training recipes have."""
    args = (
        "--model-access",
        "api",
        "--model",
        "gpt-4o-mini",
        "--goal",
        "chat",
        "--data-kind",
        "demonstrations",
    )
    header = " ".join(ok(run("recipe", *args, "--examples", "2000", "--out", "-")).stdout.split())
    assert "# Setup: pip install openai #" in header
    assert "Of your 2,000 examples about 16 fit (at ~512 tokens each), the first in the file" in header
    few = " ".join(ok(run("recipe", *args, "--examples", "10", "--out", "-")).stdout.split())
    assert "Of your" not in few and "# Setup: pip install openai #" in few
    # A local model's prompt is the recipe's own context (a diff review: 32k tokens said 16 fit).
    local = ("--gpu", "a100-80gb", "--model", "llama-3.1-8b-instruct", "--goal", "chat", "--seq-len", "32k")
    plans = ok(run("recommend", *local, "--examples", "2000", "--top", "20", "--json")).json()
    icl = next(str(p["rank"]) for p in plans["recommendations"] if p["method"] == "icl")
    shots = ok(run("recipe", *local, "--examples", "2000", "--plan", icl, "--out", "-")).stdout
    assert "Of your 2,000 examples about 64 fit" in " ".join(shots.split())


@pytest.mark.parametrize("method", ["rag", "icl"])
def test_prompting_recipes_read_the_data_the_training_recipes_read(method: str, tmp_path: Path) -> None:
    """The RAG script read JSON Lines with a "text" field only and crashed with KeyError: 'text' on
    the prompt-completion or conversational demonstrations every training recipe accepts (a
    review); few-shot read "input" / "output" only. Both read those formats, and a line with none
    of their fields stops the script with a message naming them, not a traceback."""
    rec = recommend(model_access="api", model="claude-sonnet-4", goal="knowledge", data_kind="demonstrations")
    script = tmp_path / f"{method}.py"
    script.write_text(render_recipe(CATALOG, rec, rank_of(rec, method), "python"), encoding="utf-8")
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "__init__.py").write_text(FAKE_OPENAI, encoding="utf-8")
    calls = tmp_path / "calls.json"
    env = {"PYTHONPATH": str(tmp_path), "CALLS": str(calls), "ANTHROPIC_API_KEY": "sk-test", "PATH": ""}
    option, ask = ("--docs", "--question") if method == "rag" else ("--examples", "--query")
    readable = DEMONSTRATIONS if method == "rag" else {k: v for k, v in DEMONSTRATIONS.items() if k != "text"}
    data = tmp_path / "data.jsonl"

    def answer(rows: list[Any]) -> subprocess.CompletedProcess[str]:
        data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        command = [sys.executable, str(script), option, str(data), ask, "What colour is the sky?"]
        return subprocess.run(command, capture_output=True, text=True, env=env)

    for name, row in readable.items():
        result = answer([row])
        assert result.returncode == 0, (name, result.stderr)
        prompt = json.loads(calls.read_text(encoding="utf-8"))["messages"][0]["content"]
        assert "The sky is blue." in prompt, name
        if method == "icl":
            assert "Input: What colour is the sky?\nOutput: The sky is blue." in prompt, name
    unreadable = [{"question": "What colour is the sky?", "answer": "blue"}]
    for rows in (unreadable, *([[DEMONSTRATIONS["text"]]] if method == "icl" else [])):
        refused = answer([readable["prompt-completion"], *rows])
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert f"{data}:2: no " in refused.stderr and "'prompt' and 'completion'" in refused.stderr
    # A line separator inside a string is not the end of a line, as for the training recipes'
    # datasets.load_dataset("json") (an attacker's review: str.splitlines() split it).
    separated = {
        k: v.replace("sky", "sky\u2028") if isinstance(v, str) else v
        for k, v in readable["prompt-completion"].items()
    }
    data.write_text(json.dumps(separated, ensure_ascii=False) + "\n", encoding="utf-8")
    command = [sys.executable, str(script), option, str(data), ask, "?"]
    assert subprocess.run(command, capture_output=True, text=True, env=env).returncode == 0
    for content, said in (
        (b"{not json\n", f"{data}:1: not JSON"),
        (b'{"prompt": ' + b"9" * 5000 + b"}\n", f"{data}:1: not JSON"),  # beyond int() digits
        (b"[" * 200_000 + b"\n", f"{data}:1: not JSON"),  # nested past the recursion limit
        (b"\xff\xfe\n", f"{data}: not UTF-8"),
    ):
        data.write_bytes(content)
        broken = subprocess.run(command, capture_output=True, text=True, env=env)
        assert broken.returncode == 1 and said in broken.stderr and "Traceback" not in broken.stderr, (
            broken.stderr
        )


def test_prefix_tuning_turns_gradient_checkpointing_off_and_says_why() -> None:
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b")
    text = render_recipe(CATALOG, rec, rank_of(rec, "prefix-tuning", ("sft",)), "python")
    assert "GRADIENT_CHECKPOINTING = False" in text
    assert "prefix tuning does not work with gradient checkpointing" in header_of(text)


def test_prefix_tuning_is_ranked_as_its_recipe_runs_it() -> None:
    """recommend sized prefix tuning with gradient checkpointing, which its recipe cannot use:
    'fits' at 21.9 GB became 71 GB, DOES NOT FIT, in the recipe (a fuzzer's finding)."""
    rec = recommend(
        gpu="rtx-4090", model="llama-3.1-8b", goal="chat", data_kind="demonstrations", seq_len="8k"
    )
    rank = rank_of(rec, "prefix-tuning", ("sft",))
    plan = rec.plans[rank - 1]
    assert plan.estimate is not None and not plan.estimate.settings.gradient_checkpointing
    recipe, _ = write_recipe(CATALOG, rec, rank, "python")
    assert recipe.estimates["sft"].fit == plan.fit


def test_only_the_recipe_that_trains_a_classifier_head_is_sized_without_logits() -> None:
    """The Python recipe trains labelled examples on a decoder as AutoModelForSequenceClassification
    (no vocabulary logits); axolotl trains the label as text, with the language model's logits:
    each recipe's own estimate says what its trainer holds."""
    rec = recommend(gpu="l40s", model="qwen3-8b", goal="classify", data_kind="labeled", examples="5k")
    assert rec.plans[0].estimate is not None and rec.plans[0].estimate.settings.classifier_head
    python, _ = write_recipe(CATALOG, rec, 1, "python")
    axolotl, _ = write_recipe(CATALOG, rec, 1, "axolotl")
    assert python.classifier and not axolotl.classifier
    assert python.estimates["sft"].breakdown["logits_gb"] == 0
    assert axolotl.estimates["sft"].breakdown["logits_gb"] > 0


@pytest.mark.parametrize(("model", "rows"), [("qwen3-0.6b", "'messages'"), ("qwen2.5-0.5b", "'prompt'")])
def test_a_trainer_without_a_classifier_head_says_it_trains_labels_as_answers(model: str, rows: str) -> None:
    """axolotl and LLaMA-Factory have no sequence-classifier trainer: their recipe for labelled
    examples says it trains each label as generated text and turns the {text, label} rows into the
    SFT rows it reads (conversations for an instruct model, prompt and completion for a base one);
    before, it asked for conversations the user did not have, without a word (an expert's review).
    A classifier loses no reasoning ability worth a warning."""
    rec = recommend(gpu="rtx-4090", model=model, goal="classify", data_kind="labeled", examples="20k")
    for trainer in ("axolotl", "llamafactory"):
        recipe, rendered = write_recipe(CATALOG, rec, 1, trainer)
        text = "\n".join(f.text for f in rendered.files)
        assert recipe.labels_as_text and "classification as generation" in text, trainer
        assert f"json.dumps({{{rows}" in text.replace("\n#   ", " ")
    python, rendered = write_recipe(CATALOG, rec, 1, "python")
    assert not python.labels_as_text
    assert "classification as generation" not in rendered.files[0].text
    assert "reasoning model" not in rendered.files[0].text


def test_a_recipe_that_trains_the_routers_keeps_their_load_balancing_loss() -> None:
    """Full fine-tuning of Qwen3-30B-A3B trains its 48 routers; transformers adds their
    load-balancing loss only with output_router_logits, which the checkpoint ships false, so every
    format turns it on with the checkpoint's weight (an expert's review: none did). LoRA leaves
    the routers frozen."""
    raw = {"gpu": "h100", "gpus": "8", "model": "qwen3-30b-a3b", "goal": "chat", "examples": "50k"}
    rec = recommend(**raw, data_kind="demonstrations", seq_len="4k", priority="quality")
    full = rank_of(rec, "full-ft")
    _, python = write_recipe(CATALOG, rec, full, "python")
    assert "kwargs.update(output_router_logits=True, router_aux_loss_coef=0.001)" in python.files[0].text
    _, axolotl = write_recipe(CATALOG, rec, full, "axolotl")
    config = yaml_documents(axolotl.files[0].text)[0]
    assert config["model_config"] == {"output_router_logits": True, "router_aux_loss_coef": 0.001}
    _, llamafactory = write_recipe(CATALOG, rec, full, "llamafactory")
    assert yaml_documents(llamafactory.files[0].text)[0]["moe_aux_loss_coef"] == 0.001
    lora, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora"), "python")
    assert not lora.has("router_aux_loss")
    mixtral = recommend(**{**raw, "model": "mixtral-8x7b"}, data_kind="demonstrations", priority="quality")
    recipe, _ = write_recipe(CATALOG, mixtral, rank_of(mixtral, "full-ft"), "python")
    assert recipe.value("router_aux_loss") == 0.02
    scout = recommend(**{**raw, "model": "llama-4-scout"}, data_kind="demonstrations", priority="quality")
    recipe, _ = write_recipe(CATALOG, scout, rank_of(scout, "full-ft"), "python")
    assert not recipe.has("router_aux_loss")  # Llama 4's model adds no such loss
    # ... which TRL would add from its config's coefficient, reading a num_experts it lacks (an
    # expert's review: AttributeError at step 1); axolotl's Trainer adds none.
    _, rendered = write_recipe(CATALOG, scout, rank_of(scout, "lora"), "python")
    assert "'router_aux_loss_coef': 0.0" in rendered.files[0].text
    assert not write_recipe(CATALOG, scout, rank_of(scout, "lora"), "axolotl")[0].has("no_router_aux_loss")
    assert "router_aux_loss_coef': 0.0" not in python.files[0].text
    # A sequence classifier's model adds none either (a review: the header claimed it).
    labels = recommend(**{**raw, "goal": "classify"}, data_kind="labeled", priority="quality")
    recipe, _ = write_recipe(CATALOG, labels, rank_of(labels, "full-ft"), "python")
    assert recipe.classifier and not recipe.has("router_aux_loss")


def test_past_its_positions_a_yarn_family_is_scaled_or_told_how() -> None:
    """Qwen3's model cards (4B and up) extend 32,768 positions by YaRN to 131,072: the Python
    recipe sets the factor that covers --seq-len (1.25 for 40k), the YAML formats give the
    config.json edit; past 131,072 it says so; a model whose card says nothing of YaRN (Qwen3-0.6B)
    keeps the general note."""
    chat = {"goal": "chat", "data_kind": "demonstrations"}
    rec = recommend(gpu="h100", model="qwen3-4b", seq_len="40k", **chat)
    python, _ = write_recipe(CATALOG, rec, 1, "python")
    assert (python.value("rope.yarn_factor"), python.value("rope.native")) == (1.25, 32768)
    assert not any("RoPE scaling set for it" in n for n in python.notes)
    llamafactory, _ = write_recipe(CATALOG, rec, 1, "llamafactory")
    assert not llamafactory.has("rope.yarn_factor")
    assert any('"rope_type": "yarn", "factor": 1.25' in n for n in llamafactory.notes)
    within = recommend(gpu="h100", model="qwen3-4b", seq_len="8k", **chat)
    assert not write_recipe(CATALOG, within, 1, "python")[0].has("rope.yarn_factor")
    small = recommend(gpu="h100", model="qwen3-0.6b", seq_len="40k", **chat)
    recipe, _ = write_recipe(CATALOG, small, 1, "python")
    assert not recipe.has("rope.yarn_factor") and any("RoPE scaling set for it" in n for n in recipe.notes)
    far = recommend(gpu="h100", gpus="8", model="qwen3-4b", seq_len="256k", **chat)
    recipe, _ = write_recipe(CATALOG, far, 1, "python")
    assert recipe.value("rope.yarn_factor") == 8.0
    assert "past the 131072 its card validates" in recipe.settings["rope.yarn_factor"].source


def test_an_adapter_trained_with_yarn_says_its_base_must_load_with_it() -> None:
    """A review: the header said the YaRN scaling "is saved with the model", but an adapter saves no
    config.json: its base loads without YaRN unless told."""
    chat = {"goal": "chat", "data_kind": "demonstrations"}
    rec = recommend(gpu="h100", model="qwen3-4b", seq_len="40k", **chat)
    rank = rank_of(rec, "lora", ("sft",))
    header = " ".join(header_of(render(Case("yarn", rec, rank), "python")).replace("#", " ").split())
    assert "It trained with YaRN" in header and '"factor": 1.25' in header
    assert "--max-model-len 40960" in header
    full = rank_of(rec, "full-ft", ("sft",))
    assert "It trained with YaRN" not in render(Case("yarn-full", rec, full), "python")  # saves its config


def test_an_offload_the_recipe_drops_is_checked_at_the_batch_it_runs() -> None:
    """The recipe dropped the plan's CPU offload after checking the least batch, then ran the
    profile's --batch-size 32 without it: 'fits' became DOES NOT FIT (a fuzzer's finding)."""
    rec = recommend(
        gpu="a100-40gb", gpus="2", model="gpt-oss-20b", data_kind="demonstrations", batch_size="32"
    )
    assert rec.plans[0].estimate is not None and rec.plans[0].estimate.settings.offload != "none"
    recipe, _ = write_recipe(CATALOG, rec, 1, "python")
    assert recipe.estimates["sft"].fit in ("yes", "tight")


def test_llamafactory_neat_packing_is_sized_at_the_batch_it_writes() -> None:
    """neat_packing with FlashAttention 2 takes one packed row per device: the header said
    batch 8 x 2 and sized memory at 8 while the YAML wrote 1 x 16 (a fuzzer's finding)."""
    rec = recommend(gpu="a40", model_size="13b", goal="chat", data_kind="labeled", packing="yes")
    recipe, rendered = write_recipe(CATALOG, rec, 1, "llamafactory")
    config = yaml_documents(rendered.files[0].text)[0]
    assert config.get("neat_packing") is True
    assert config["per_device_train_batch_size"] == recipe.value("batch.sft") == 1
    assert config["gradient_accumulation_steps"] == recipe.value("grad_accum.sft")
    assert recipe.estimates["sft"].settings.batch_size == 1


def test_docs_show_the_recipes_the_code_writes() -> None:
    """docs/recipes.md shows one recipe per format; they must be what ft-atlas writes today."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "recipes.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(python|yaml)\n(.*?)\n```", text, flags=re.S)
    chat = recommend(gpu="rtx-3090", model="llama-3.1-8b", goal="chat")
    prefs = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="preferences")
    expected = [
        ("python", render_recipe(CATALOG, chat, 1, "python")),
        ("yaml", render_recipe(CATALOG, prefs, 1, "llamafactory")),
        ("yaml", render_recipe(CATALOG, prefs, 1, "axolotl")),
        (
            "yaml",
            render_recipe(
                CATALOG, recommend(**{**MAC, "gpu": "M3 Max 64GB"}, model="gemma-3-27b-it"), 1, "mlx"
            ),
        ),
    ]
    assert [(kind, body + "\n") for kind, body in blocks] == [(k, v.rstrip() + "\n") for k, v in expected]


# --- the recipe command: profile flags, --plan, --trainer and --out -----------------------------

COMMAND_PROFILE = [
    "--gpu",
    "rtx-3090",
    "--model",
    "mistral-7b",
    "--data-kind",
    "preferences",
    "--examples",
    "5k",
]


def test_python_recipe_for_the_top_plan_parses(run: Runner) -> None:
    result = run("recipe", *COMMAND_PROFILE)
    assert result.exit_code == 0, result.stderr
    assert "Plan 1 of" in result.stdout and "SFT -> DPO" in result.stdout
    ast.parse(result.stdout)


def test_trainer_configs_are_yaml(run: Runner) -> None:
    for fmt in ("llamafactory", "axolotl"):
        result = run("recipe", *COMMAND_PROFILE, "--format", fmt)
        assert result.exit_code == 0, (fmt, result.stderr)
        documents = [d for d in yaml.safe_load_all(result.stdout) if d]
        assert documents and all(isinstance(d, dict) for d in documents)


def test_out_writes_the_file_and_says_so(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    result = run("recipe", *COMMAND_PROFILE, "--out", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert f"wrote {target}" in result.stderr
    ast.parse(target.read_text(encoding="utf-8"))


def test_bad_rank_unknown_format_and_an_out_under_a_file_are_usage_errors(
    run: Runner, tmp_path: Path
) -> None:
    assert run("recipe", *COMMAND_PROFILE, "--plan", "99").exit_code == 2
    blocked = tmp_path / "file"
    blocked.write_text("x")
    result = run("recipe", *COMMAND_PROFILE, "--out", str(blocked / "train.py"))
    assert result.exit_code == 2 and "--out" in result.stderr  # a path under a file names no file
    assert run("recipe", *COMMAND_PROFILE, "--format", "notebook").exit_code == 2


@pytest.mark.parametrize(
    ("trainer", "name", "hint"),
    [
        ("python", "train.yaml", "name the file train.py"),
        ("axolotl", "train.py", "name the file train.yaml"),
        # LLaMA-Factory reads a .json config as JSON (a review)
        ("llamafactory", "train.json", "writes YAML, not JSON; name the file train.yaml"),
    ],
)
def test_an_out_file_named_as_another_kind_of_file_is_refused(
    run: Runner, tmp_path: Path, trainer: str, name: str, hint: str
) -> None:
    """A newcomer's `--out train.yaml` got a Python script, which they would feed to axolotl."""
    result = run("recipe", *COMMAND_PROFILE, "--trainer", trainer, "--out", str(tmp_path / name))
    assert result.exit_code == 2 and hint in result.stderr, result.stderr
    assert not (tmp_path / name).exists()
    # The same kind under its other spelling, and a suffix that names no kind, are written.
    one_stage = ("--gpu", "rtx-3090", "--model-size", "7b")
    assert ok(run("recipe", *one_stage, "--trainer", "axolotl", "--out", str(tmp_path / "a.yml")))
    assert ok(run("recipe", *COMMAND_PROFILE, "--out", str(tmp_path / "recipe.txt")))


@pytest.mark.parametrize(
    ("trainer", "name", "run_line"),
    [
        ("python", "train.py", "# Run: python train.py --model"),
        ("python", "my run.py", "# Run: python 'my run.py' --model"),
        ("llamafactory", "lf.yaml", "# Run: llamafactory-cli train lf.yaml"),
    ],
)
def test_the_header_names_the_file_written(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trainer: str, name: str, run_line: str
) -> None:
    monkeypatch.chdir(tmp_path)
    profile = ["--gpu", "rtx-3090", "--model", "mistral-7b", "--data-kind", "demonstrations"]
    result = run("recipe", *profile, "--trainer", trainer, "--out", name)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert run_line in text
    assert "recipe.py" not in text
    # On stdout nothing was named: the run line keeps the default name.
    assert "recipe.py" in run("recipe", *profile).stdout


def test_the_headers_commands_stay_on_one_line(run: Runner) -> None:
    """A newcomer pasted the header's Run: line, wrapped over two comment lines, and got
    "--output-dir: expected one argument": the Setup: and Run: commands are never wrapped."""
    profile = ("--gpu", "rtx-4090", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--goal", "chat")
    result = ok(run("recipe", *profile, "--examples", "3000", "--json")).json()
    first = result["files"][0]["text"]
    (run_line,) = [line for line in first.splitlines() if line.startswith("# Run: ")]
    assert run_line == "# Run: " + result["launch"] and len(run_line) > 100
    (setup,) = [line for line in first.splitlines() if line.startswith("# Setup: ")]
    assert first.splitlines()[first.splitlines().index(setup) + 1].startswith("# Run: ")


def test_a_recipe_of_several_yaml_documents_keeps_their_names(run: Runner, tmp_path: Path) -> None:
    out = tmp_path / "both"
    assert run("recipe", *COMMAND_PROFILE, "--trainer", "llamafactory", "--out", f"{out}/").exit_code == 0
    text = (out / "sft.yaml").read_text(encoding="utf-8")
    assert "both" not in text and "llamafactory-cli train sft.yaml" in text


def test_no_training_plan_gets_a_prompting_example(run: Runner) -> None:
    result = run("recipe", "--gpu", "none", "--model-size", "7b", "--examples", "20")
    assert result.exit_code == 0, result.stderr
    ast.parse(result.stdout)


# --- one source of truth: the settings a recipe uses are the ones it estimates -----------------


def case_named(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def constants(text: str) -> dict[str, Any]:
    """The generated script's top-level constants, read back as values."""
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["lora-sft+kto-decoder", "prefix-tuning-sft-decoder", "qlora-sft-decoder"])
def test_every_stage_is_estimated_with_the_settings_the_recipe_writes(name: str, fmt: str) -> None:
    """KTO's batch of 2, prefix tuning without checkpointing, QLoRA's paged optimizer: the header's
    verdict is the estimate of exactly what the recipe runs, stage by stage."""
    case = case_named(name)
    try:
        recipe, rendered = write_recipe(CATALOG, case.rec, case.rank, fmt)
    except UsageError:
        assert refused(case, fmt)
        return
    head = header_of(rendered.text)
    for stage, estimate in recipe.estimates.items():
        s = estimate.settings
        assert s.batch_size == recipe.stage_value("batch", stage)
        assert s.gradient_checkpointing == recipe.value("gradient_checkpointing")
        assert s.stack == ("trl" if fmt == "python" else "hf")
        assert s.seq_len == recipe.value("seq_len")
        assert f"{stage} {estimate.per_gpu_gb:.2f} GB at batch {s.batch_size}" in head
    if "kto" in recipe.stages:
        assert recipe.stage_value("batch", "kto") >= 2
        assert recipe.estimates["kto"].settings.batch_size >= 2
    if recipe.memory_model == "prefix":
        assert recipe.value("gradient_checkpointing") is False
        assert not recipe.estimates["sft"].settings.gradient_checkpointing


def test_the_micro_batch_fills_the_memory_left_within_the_margin() -> None:
    """A BERT classifier used 2.5 of 12.9 GB at micro-batch 1: it now takes the largest power of
    two that fits within the safety margin, up to one global batch of 16."""
    case = case_named("full-ft-sft-encoder")
    recipe, rendered = write_recipe(CATALOG, case.rec, case.rank, "python")
    values = constants(rendered.text)
    assert values["BATCH_SIZE"]["sft"] > 1
    assert values["BATCH_SIZE"]["sft"] * values["GRAD_ACCUM"]["sft"] == 16
    assert recipe.estimates["sft"].fit == "yes"
    doubled = recipe.estimates["sft"].settings.batch_size * 2
    if doubled <= 16:  # the next power of two would leave the margin
        from atlas_cli.core.memory.search import estimator

        e = recipe.estimates["sft"]
        bigger = estimator(e.method, e.memory_model, e.shape)(e.settings._replace(batch_size=doubled))
        assert bigger.fit != "yes"


def test_the_profiles_batch_size_is_kept_when_given() -> None:
    rec = recommend(gpu="a100-80gb", model="qwen2.5-0.5b", batch_size="2")
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
    assert recipe.stage_value("batch", "sft") == 2 and recipe.stage_value("grad_accum", "sft") == 8
    assert "--batch-size" in recipe.settings["batch.sft"].source


def test_time_and_cost_are_those_of_the_recipes_own_settings() -> None:
    rec = recommend(gpu="rtx-4090", model="llama-3.1-8b", data_kind="ratings", examples="10k")
    rank = rank_of(rec, "lora", ("sft", "kto"))
    recipe, rendered = write_recipe(CATALOG, rec, rank, "python")
    assert recipe.timed is not None and recipe.timed.time is not None
    stages = {s.objective.id: s for s in recipe.timed.time.stages}
    assert set(stages) == {"sft", "kto"}
    for stage, timed in stages.items():
        assert timed.workload.epochs == recipe.stage_value("epochs", stage)
        assert timed.workload.examples == 10_000
    head = header_of(rendered.text)
    assert f"about {hours_text(recipe.timed.time.hours)}" in head and "docs/time.md" in head
    assert recipe.timed.cost is not None and recipe.timed.cost.usd is not None
    assert f"${recipe.timed.cost.usd:,.2f}" in head


def test_epochs_follow_the_profile_when_given() -> None:
    rec = recommend(gpu="rtx-4090", model="llama-3.1-8b", data_kind="preferences", epochs="2")
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft", "dpo")), "llamafactory")
    assert recipe.stage_value("epochs", "sft") == recipe.stage_value("epochs", "dpo") == 2.0


def test_grpo_accumulation_makes_whole_groups_of_generations() -> None:
    for gpus in ("1", "3"):
        rec = recommend(gpu="a100-80gb", gpus=gpus, model="qwen2.5-0.5b", data_kind="reward-function")
        recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("grpo",)), "python")
        generation_batch = (
            recipe.stage_value("batch", "grpo") * int(gpus) * recipe.stage_value("grad_accum", "grpo")
        )
        assert generation_batch % recipe.value("grpo.num_generations") == 0, gpus


def test_the_accumulation_states_the_batch_each_optimizer_step_really_takes() -> None:
    """Micro-batch x GPUs x accumulation, multiplied out: online RL keeps 16 completions per GPU,
    so 8 GPUs take 128 per step, and the recipe must not claim 16."""
    rec = recommend(gpu="h100-80gb", gpus="8", model="qwen2.5-7b", data_kind="reward-function")
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("grpo",)), "python")
    batch, accumulation = recipe.stage_value("batch", "grpo"), recipe.stage_value("grad_accum", "grpo")
    assert (
        f"x 8 GPU(s) x {accumulation} = {batch * 8 * accumulation};"
        in recipe.settings["grad_accum.grpo"].source
    )
    assert batch * 8 * accumulation == 128


def test_axolotl_preference_data_of_an_instruct_model_keeps_its_chat_template() -> None:
    """axolotl maps a dict `type` to user_defined.default, which trains bare prompt and answer text:
    an instruct model's DPO pairs are rendered with its own template (chat_template.default)."""
    rec = recommend(gpu="h100-80gb", model="qwen3-8b", data_kind="preferences", examples="10k")
    _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("dpo",)), "axolotl")
    (dataset,) = yaml.safe_load(rendered.files[0].text)["datasets"]
    assert dataset["type"] == "chat_template.default" and dataset["field_messages"] == "prompt"
    base = recommend(gpu="h100-80gb", model="qwen3-8b", model_variant="base", data_kind="preferences")
    _, plain = write_recipe(CATALOG, base, rank_of(base, "lora", ("sft", "dpo")), "axolotl")
    assert isinstance(yaml.safe_load(plain.files[-1].text)["datasets"][0]["type"], dict)


def test_pure_bf16_full_fine_tuning_rounds_its_updates_stochastically() -> None:
    """A bf16 weight of 0.02 moves in steps of 1.2e-4: plain AdamW's ~1e-5 updates would mostly
    round away. Pure bf16 trains with torchao's 8-bit AdamW and bf16 stochastic rounding, in every
    format, and the Python script checks that torchao is installed."""
    rec = recommend(gpu="a100-80gb", model="llama-3.1-8b", data_kind="demonstrations", priority="quality")
    rank = next(
        i for i, p in enumerate(rec.plans, 1) if p.estimate and p.estimate.settings.precision == "pure-bf16"
    )
    assert rec.plans[rank - 1].estimate is not None
    assert rec.plans[rank - 1].estimate.settings.optimizer == "adamw-8bit-sr"
    script = constants(render(Case("pure-bf16", rec, rank), "python"))
    assert script["OPTIM"] == "adamw_torch_8bit" and "torchao" in script["REQUIRED_MODULES"]
    assert script["EXTRA_TRAINING_ARGUMENTS"]["optim_args"] == "bf16_stochastic_round=True"
    for trainer in ("llamafactory", "axolotl"):
        (config,) = yaml_documents(render(Case("pure-bf16", rec, rank), trainer))
        assert config["optim" if trainer == "llamafactory" else "optimizer"] == "adamw_torch_8bit"
        assert config["optim_args"] == "bf16_stochastic_round=True", trainer


def test_an_instruct_model_s_plain_string_prompts_are_called_out(capsys: pytest.CaptureFixture[str]) -> None:
    """TRL applies the chat template to conversational rows only: one dpo.jsonl of string prompts
    trained an instruct model without its template in the Python recipe and with it in axolotl's
    and LLaMA-Factory's (a recipes review). An instruct model's script says so when it loads such
    rows; a base model's (whose tokenizer may ship a template too) trains on text and says nothing."""
    from atlas_cli.recipes.templates import training

    space: dict[str, Any] = {"sys": sys, "Dataset": Any}
    exec(training.PLAIN_PROMPTS_CHECK, space)  # the script's own source
    warn = space["warn_plain_prompts"]

    class Rows(list[dict[str, Any]]):
        column_names: ClassVar = ("prompt", "chosen", "rejected")

    warn(Rows([{"prompt": "Hi", "chosen": "a", "rejected": "b"}]), "dpo")
    assert "dpo: the prompts are plain strings" in capsys.readouterr().err
    warn(Rows([{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [], "rejected": []}]), "dpo")
    assert capsys.readouterr().err == ""
    instruct = recommend(gpu="a100-80gb", model="llama-3.1-8b-instruct", data_kind="preferences")
    base = recommend(gpu="a100-80gb", model="llama-3.1-8b", data_kind="preferences")
    for rec, checked in ((instruct, True), (base, False)):
        script = render(Case("pairs", rec, rank_of(rec, "lora")), "python")
        assert ("warn_plain_prompts(rows, stage)" in script) is checked


def test_the_placeholder_reward_scores_a_stated_final_answer_only() -> None:
    """A substring test rewards "0123456789" for any one-digit answer, which GRPO finds quickly:
    the placeholder compares the completion's final answer (\\boxed{}, ####, "answer:") alone, and
    as mathematics (math_verify, as TRL's accuracy_reward: an exact string match gave 0 for 0.5
    against \\frac{1}{2}, an expert's review). math_verify comes with the `recipes` extra."""
    pytest.importorskip("math_verify")
    from atlas_cli.recipes.templates import training

    space: dict[str, Any] = {"re": re, "Any": Any}
    exec(training.REWARD_FUNCTION, space)  # the recipe's own source, as the script runs it
    reward = space["reward_matches_solution"]
    completions = ["0123456789", "so \\boxed{5}", "#### 5", "The answer is 5.", "answer: 55", "5"]
    assert reward(completions, ["5"] * 6) == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    stated = ["The answer is: 5", "**Answer:** 5", "I answer: 3. Answer: 5", "\\boxed{\\frac{1}{2}}"]
    assert reward(stated, ["5", "5", "5", "\\frac{1}{2}"]) == [1.0] * 4  # the last mark; nested braces
    assert reward([[{"role": "assistant", "content": "\\boxed{7}"}]], ["7"]) == [1.0]
    equal = ["\\boxed{0.5}", "#### 3,000", "The answer is x+1", "answer: \\sqrt{4}", "\\boxed{0.25}"]
    assert reward(equal, ["\\frac{1}{2}", "3000", "1+x", "2", "\\frac{1}{3}"]) == [1.0] * 4 + [0.0]


def test_lora_experts_targets_the_fused_expert_weights_where_the_trainer_can() -> None:
    """transformers 5 stores routed experts as 3-D parameters, which all-linear misses: with
    --lora-experts the Python recipe passes PEFT's target_parameters and axolotl its
    lora_target_parameters; LLaMA-Factory has no such option and is refused."""
    rec = recommend(gpu="b200", model="qwen3-30b-a3b", data_kind="demonstrations", lora_experts="true")
    rank = rank_of(rec, "lora", ("sft",))
    assert rec.plans[rank - 1].estimate is not None and rec.plans[rank - 1].estimate.settings.lora_experts
    script = constants(render(Case("experts", rec, rank), "python"))
    assert script["ADAPTER_SETTINGS"]["target_parameters"] == ["experts.gate_up_proj", "experts.down_proj"]
    assert script["ADAPTER_SETTINGS"]["lora_dropout"] == 0.0  # ParamWrapper refuses dropout
    config = yaml_documents(render(Case("experts", rec, rank), "axolotl"))[0]
    assert config["lora_target_parameters"] == ["experts.gate_up_proj", "experts.down_proj"]
    with pytest.raises(UsageError, match="target_parameters"):
        write_recipe(CATALOG, rec, rank, "llamafactory")
    dora = next(p for p in rec.plans if p.method == "dora")
    assert "lora-experts-plain-lora-only" in dora.rules


def test_lora_on_fused_experts_under_zero3_needs_the_peft_that_reads_their_shards() -> None:
    """A review: under ZeRO-3 peft 0.20 raises IndexError as it wraps partitioned expert weights
    (huggingface/peft#3576, in 0.21.0): the Python script checks for 0.21.0, and axolotl, which
    pins 0.20.0, is refused."""
    rec = recommend(
        gpu="h100-80gb", gpus="2", model="qwen3-30b-a3b", data_kind="demonstrations", lora_experts="true"
    )
    rank = rank_of(rec, "lora", ("sft",))
    recipe, _ = write_recipe(CATALOG, rec, rank, "python")
    assert recipe.sharding == "zero3"
    assert constants(render(Case("experts", rec, rank), "python"))["MINIMUM_VERSIONS"]["peft"] == "0.21.0"
    with pytest.raises(UsageError, match="huggingface/peft#3576"):
        write_recipe(CATALOG, rec, rank, "axolotl")


def test_lora_on_a_mixture_of_experts_names_the_attention_it_adapts() -> None:
    """PEFT on transformers 5 reads target_modules='all-linear' (and any MLP name) of Qwen3-MoE,
    Mixtral or DeepSeek as the routed experts and router of transformers 4 and adapts them: the
    Python recipe sized attention-only LoRA for Qwen3-30B-A3B and would have trained ~1 billion
    parameters. Every format names the attention projections; --lora-experts adds the experts by
    parameter, never the router."""
    attention = ["q_proj", "k_proj", "v_proj", "o_proj"]
    for experts in ("false", "true"):
        rec = recommend(gpu="b200", model="qwen3-30b-a3b", data_kind="demonstrations", lora_experts=experts)
        case = Case("moe", rec, rank_of(rec, "lora", ("sft",)))
        adapter = constants(render(case, "python"))["ADAPTER_SETTINGS"]
        assert adapter["target_modules"] == attention, experts
        assert ("target_parameters" in adapter) is (experts == "true")
        assert yaml_documents(render(case, "axolotl"))[0]["lora_target_modules"] == attention
    dense = recommend(gpu="h100-80gb", model="qwen3-8b", data_kind="demonstrations")
    plain = constants(render(Case("dense", dense, rank_of(dense, "lora", ("sft",))), "python"))
    assert plain["ADAPTER_SETTINGS"]["target_modules"] == "all-linear"


def test_the_model_families_a_recipe_reads_are_knowledge_base_data() -> None:
    """Which families PEFT reads "all-linear" of as their routed experts, and which think hybrid,
    were lists in settings.py; they are data/families.yaml's, with their sources: a KB without
    them reads Qwen3-30B-A3B as any mixture and lets Qwen3 8B think (a review's twins)."""
    bare = Catalog(CATALOG.kb.model_copy(update={"model_families": []}))
    qwen3 = CATALOG.models["qwen3-8b"]
    assert hybrid_thinking(CATALOG, qwen3) and not hybrid_thinking(bare, qwen3)
    assert not hybrid_thinking(CATALOG, CATALOG.models["qwen3-4b-thinking-2507"])  # always thinks
    assert CATALOG.model_families["qwen3_moe"].peft_remaps_experts
    assert not CATALOG.model_families["gpt_oss"].peft_remaps_experts  # its experts were stored fused
    rec = recommend(gpu="h100-80gb", gpus="2", model="qwen3-30b-a3b", data_kind="demonstrations")
    rank = rank_of(rec, "lora", ("sft",))
    named = constants(render_recipe(CATALOG, rec, rank, "python"))["ADAPTER_SETTINGS"]["target_modules"]
    assert named == ["q_proj", "k_proj", "v_proj", "o_proj"]
    # Without the family's entry its layers are named without the router, as for Llama 4.
    assert "every linear layer but the router" in render_recipe(bare, rec, rank, "python")


def test_axolotl_quantizes_a_mixture_of_experts_qlora_base_and_sizes_it_so() -> None:
    """bitsandbytes leaves transformers 5's fused experts 16-bit, but axolotl quantizes them as
    they load (quantize_moe_experts, an expert's review: "required for QLoRA", else the run OOMs):
    its recipe sets it, names the nn.Linear targets (it refuses lora_target_linear with it) and
    sizes the 4-bit experts; the Python recipe (TRL) keeps them 16-bit, as bitsandbytes does."""
    rec = recommend(gpu="h100-80gb", model="qwen3-30b-a3b", goal="chat", examples="5k")
    rank = rank_of(rec, "qlora", ("sft",))
    axolotl, rendered = write_recipe(CATALOG, rec, rank, "axolotl")
    config = yaml_documents(rendered.files[0].text)[0]
    assert config["quantize_moe_experts"] is True and "lora_target_linear" not in config
    assert config["lora_target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj"]  # no dense MLP
    shared = Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen1.5-MoE-A2.7B-Chat.partial.json"
    with_shared = recommend(gpu="rtx-4090", model=str(shared), goal="chat", examples="5k")
    _, written = write_recipe(CATALOG, with_shared, rank_of(with_shared, "qlora", ("sft",)), "axolotl")
    targets = yaml_documents(written.files[0].text)[0]["lora_target_modules"]
    # Not its shared expert's MLP: PEFT on transformers 5 would read gate_proj as the routed experts.
    assert targets == ["q_proj", "k_proj", "v_proj", "o_proj"]
    python, script = write_recipe(CATALOG, rec, rank, "python")
    assert "quantize_moe_experts" not in script.files[0].text
    sixteen_bit = python.estimates["sft"].settings._replace(batch_size=1, stack="hf")
    quantized = sixteen_bit._replace(quantized_experts=True)
    run = estimator("qlora", "qlora", python.estimates["sft"].shape)
    saved = run(sixteen_bit).per_gpu_gb - run(quantized).per_gpu_gb
    assert saved > 0.7 * rec.plans[rank - 1].estimate.shape.expert_params * 2 / 1e9  # ~3/4 of 16 bits
    assert axolotl.estimates["sft"].settings.quantized_experts
    # Its forward holds one layer's experts dequantized (bitsandbytes caches each parametrized
    # tensor for the module's forward, a review): all of them, not the largest alone.
    shape = python.estimates["sft"].shape
    layer_experts_gb = shape.expert_params / shape.moe_layers * 2 / 1e9
    assert run(quantized).breakdown["buffers_gb"] >= layer_experts_gb
    dense = recommend(gpu="h100-80gb", model="qwen3-8b", goal="chat", examples="5k")
    dense_recipe, _ = write_recipe(CATALOG, dense, rank_of(dense, "qlora", ("sft",)), "axolotl")
    assert not dense_recipe.quantized_experts  # a dense model has no experts to quantize
    # Under DeepSpeed ZeRO-3 the experts load off the GPU, unquantized, and axolotl documents the
    # option with FSDP2 only (a review): quantized, a plan runs data parallel, a whole model per GPU.
    large = recommend(gpu="rtx-4090", gpus="2", model="qwen3-30b-a3b", goal="chat", examples="5k")
    parallel, rendered = write_recipe(CATALOG, large, rank_of(large, "qlora", ("sft",)), "axolotl")
    assert parallel.sharding == "ddp" and parallel.quantized_experts
    assert "quantize_moe_experts: true" in rendered.files[0].text


def test_a_plan_with_its_experts_quantized_is_written_by_axolotl_whatever_the_stack(run: Runner) -> None:
    """An expert's review: ranked with --stack unsloth (which quantizes routed experts), Qwen3-30B-
    A3B QLoRA on a 4090 got the Python recipe, TRL with bitsandbytes, whose experts stay 16-bit:
    64 GB on 24. It falls back to axolotl as without --stack; recommend's recipe line writes into
    a directory (`--out train.py` was refused for axolotl's YAML) and offers no LLaMA-Factory."""
    args = ("--gpu", "rtx-4090", "--model", "qwen3-30b-a3b", "--goal", "chat", "--examples", "10k")
    args += ("--data-kind", "demonstrations")
    for stack in ((), ("--stack", "unsloth")):
        written = ok(run("recipe", *args, *stack, "--out", "-"))
        assert (
            "# ft-atlas recipe (axolotl)" in written.stdout and "quantize_moe_experts: true" in written.stdout
        )
        assert "--trainer axolotl" in written.stderr
    steps = " ".join(ok(run("recommend", *args)).stdout.split())
    assert "--examples 10000 --out recipe/" in steps
    assert "As YAML: --trainer axolotl (sized again)" in steps


def test_axolotl_trains_full_weights_in_pure_bf16_with_stochastic_rounding_and_refuses_fp16() -> None:
    """axolotl's bf16: true loads every weight in bf16 (utils/config resolve_dtype), so its full
    fine-tuning keeps no fp32 master copy: the recipe says so, rounds stochastically (nearest
    rounding cancels small updates) and is sized in pure bf16, smaller than the mixed-precision
    plan; the other formats keep the plan's fp32 copy. In fp16 the gradients of fp16 weights are
    refused by the grad scaler: that plan is refused with the formats that run it. Under DeepSpeed
    ZeRO the optimizer keeps fp32 master partitions itself: the plan's mixed precision stands."""
    rec = recommend(gpu="h100-80gb", model="qwen2.5-1.5b", data_kind="demonstrations", priority="quality")
    rank = rank_of(rec, "full-ft")
    axolotl, rendered = write_recipe(CATALOG, rec, rank, "axolotl")
    config = yaml_documents(rendered.files[0].text)[0]
    assert config["bf16"] is True and config["optimizer"] == "adamw_torch_8bit"
    assert config["optim_args"] == "bf16_stochastic_round=True"
    assert axolotl.estimates["sft"].settings.precision == "pure-bf16"
    assert any("no fp32 master copy" in note for note in axolotl.notes)
    python, _ = write_recipe(CATALOG, rec, rank, "python")
    assert python.estimates["sft"].settings.precision == "bf16"
    assert axolotl.estimates["sft"].per_gpu_gb < python.estimates["sft"].per_gpu_gb
    lora, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora"), "axolotl")
    assert lora.value("precision") == "bf16"  # PEFT keeps the adapters in fp32 itself
    sharded = recommend(
        gpu="h100-80gb", gpus="8", model="qwen3-32b", data_kind="demonstrations", priority="quality"
    )
    zero, rendered = write_recipe(CATALOG, sharded, rank_of(sharded, "full-ft"), "axolotl")
    assert zero.sharding != "ddp" and zero.value("precision") == "bf16"
    assert "optim_args" not in yaml_documents(rendered.files[0].text)[0]
    assert not any("no fp32 master copy" in note for note in zero.notes)
    t4 = recommend(gpu="t4", model="qwen2.5-0.5b", data_kind="demonstrations", priority="quality")
    with pytest.raises(UsageError, match="Attempting to unscale FP16 gradients"):
        write_recipe(CATALOG, t4, rank_of(t4, "full-ft"), "axolotl")
    write_recipe(CATALOG, t4, rank_of(t4, "full-ft"), "llamafactory")


def test_an_instruct_model_s_rl_and_kto_data_keep_its_chat_template() -> None:
    """TRL's GRPO renders the chat template for conversational prompts only: an instruct model's
    recipes say so, and show the form. axolotl's KTO types are a user-defined format (bare text)
    or fixed ChatML / Llama 3 strings: its KTO recipe for an instruct model is refused, and the
    formats that render the template write it."""
    rl = recommend(  # room for its thoughts: axolotl refuses to cut them (chat_template_kwargs)
        gpu="h100-80gb",
        model="qwen3-8b",
        goal="reasoning",
        data_kind="reward-function",
        examples="5k",
        seq_len="4k",
    )
    rank = rank_of(rl, "lora", ("grpo",))
    for fmt in ("python", "axolotl"):
        recipe, rendered = write_recipe(CATALOG, rl, rank, fmt)
        shown = [rendered.files[0].text, *recipe.notes]
        assert any('{"prompt": [{"role": "user"' in text for text in shown), fmt
    kto = recommend(gpu="a100-80gb", model="qwen3-8b", goal="align", data_kind="ratings", examples="10k")
    with pytest.raises(UsageError, match="KTO datasets"):
        write_recipe(CATALOG, kto, rank_of(kto, "lora"), "axolotl")
    for fmt in ("python", "llamafactory"):
        write_recipe(CATALOG, kto, rank_of(kto, "lora"), fmt)


def test_a_plan_on_fewer_gpus_than_the_profile_has_is_launched_on_them() -> None:
    """--priority cost trains on the number of GPUs that costs least (the fastest of those within
    5 %), and layer-wise GaLore (which transformers and LLaMA-Factory refuse under DDP) on one:
    the recipe launches that many, sizes and times them, and says which GPUs stay free. On 2 GPUs
    layer-wise GaLore fits as on one, where it was once left out (its 16-bit variant on 2 GPUs did
    not fit)."""
    cheap = recommend(
        gpu="a100-80gb",
        gpus="8",
        model="qwen2.5-1.5b",
        data_kind="demonstrations",
        examples="5k",
        priority="cost",
    )
    full = rank_of(cheap, "full-ft")
    recipe, rendered = write_recipe(CATALOG, cheap, full, "python")
    # Full fine-tuning on 2 of them: within 5 % of the cost on one, and the fastest such (4 and 8
    # cost more, their gradients' exchange growing).
    estimate = cheap.plans[full - 1].estimate
    assert estimate is not None and estimate.settings.gpus == 2
    assert recipe.gpus == 2 and rendered.launch.startswith("accelerate launch ")
    assert recipe.timed.time is not None and recipe.timed.time.gpus == 2
    assert any("2 of your 8 GPUs" in note for note in recipe.notes)
    for gpus in ("1", "2"):
        rec = recommend(gpu="rtx-3090-ti", gpus=gpus, model="mistral-7b", data_kind="demonstrations")
        galore = rec.plans[rank_of(rec, "galore") - 1]
        assert galore.fit == "yes" and galore.estimate is not None and galore.estimate.settings.gpus == 1
    layerwise, rendered = write_recipe(CATALOG, rec, rank_of(rec, "galore"), "llamafactory")
    assert layerwise.gpus == 1 and "NPROC_PER_NODE" not in rendered.launch


def test_an_axolotl_recipe_on_rocm_says_what_axolotls_amd_guide_found_of_deepspeed() -> None:
    """An expert's review: axolotl's AMD guide (docs/amd_hpc.qmd) says DeepSpeed did not work when
    tested; an MI300X recipe written with DeepSpeed did not say so. (Its xformers patch concerns
    flash_attn_fuse_mlp, which these configs never set: a diff review.)"""
    sharded = recommend(gpu="mi300x", gpus="8", model="llama-3.1-405b", goal="chat", priority="quality")
    text = " ".join(render_recipe(CATALOG, sharded, 1, "axolotl").replace("#", " ").split())
    assert "deepspeed: ds_z3_config.json" in text
    assert "'Deepspeed did not work at the time of testing'" in text and "xformers" not in text
    alone = recommend(gpu="mi300x", model="llama-3.1-8b", goal="chat")
    assert "Deepspeed did not work" not in render_recipe(CATALOG, alone, 1, "axolotl")
    nvidia = recommend(gpu="h100", model="llama-3.1-8b", goal="chat")
    assert "amd_hpc" not in render_recipe(CATALOG, nvidia, 1, "axolotl")


def test_an_axolotl_recipe_on_apple_silicon_says_what_axolotls_mac_guide_lists() -> None:
    """An expert's review: a GRPO refusal on an M4 Max sent the user to axolotl, whose YAML said
    nothing of its Mac guide (docs/mac.qmd: partially usable, no bitsandbytes or DeepSpeed)."""
    mac = recommend(**{**MAC, "model": "qwen3-1.7b", "goal": "reasoning", "data_kind": "reward-function"})
    text = " ".join(render_recipe(CATALOG, mac, 1, "axolotl").replace("#", " ").split())
    assert "axolotl's Mac guide (docs/mac.qmd) calls it partially usable" in text
    nvidia = recommend(gpu="h100", model="qwen3-1.7b", goal="reasoning", data_kind="reward-function")
    assert "docs/mac.qmd" not in render_recipe(CATALOG, nvidia, 1, "axolotl")


def test_a_setup_installs_flash_attention_and_galore_where_the_config_names_them() -> None:
    """An expert's review: axolotl's flash_attention_2 needs the flash-attn package (its extra),
    LLaMA-Factory's `flash_attn: fa2` without it falls back to a seq x seq mask, its parser
    refuses use_galore and enable_liger_kernel without their packages (hparams/parser.py
    _check_extra_dependencies), and transformers builds adamw_torch_8bit from torchao."""

    def setup(rec: Recommendation, rank: int, trainer: str) -> str:
        text = " ".join(render_recipe(CATALOG, rec, rank, trainer).split())
        return text.split("# Setup: ", 1)[1].split(" # Run:", 1)[0]

    packed = recommend(
        gpu="a100-80gb", model="llama-3.1-8b", goal="chat", examples="20000", seq_len="4096", packing="yes"
    )  # fmt: skip
    unpacked = recommend(gpu="a100-80gb", model="llama-3.1-8b", goal="chat", examples="20000")
    assert "'axolotl[flash-attn]==" in setup(packed, 1, "axolotl")
    assert "flash-attn" not in setup(unpacked, 1, "axolotl")
    assert setup(packed, 1, "llamafactory").endswith(
        "then pip install --no-build-isolation flash-attn (packed rows stay apart)"
    )
    assert "flash-attn" not in setup(unpacked, 1, "llamafactory")
    rec = recommend(gpu="rtx-3090-ti", model="mistral-7b", data_kind="demonstrations")
    assert "-r requirements/galore.txt" in setup(rec, rank_of(rec, "galore"), "llamafactory")
    assert "galore" not in setup(unpacked, 1, "llamafactory")
    # torchao's 8-bit AdamW, which pure bf16 trains with, is no dependency of LLaMA-Factory's.
    reasoning = recommend(
        gpu="a100-80gb", model="deepseek-r1-distill-qwen-7b", goal="reasoning", data_kind="demonstrations",
        examples="10000", seq_len="16k", stack="liger",
    )  # fmt: skip
    written = setup(reasoning, 1, "llamafactory")
    assert written.endswith(" torchao") and "-r requirements/liger-kernel.txt" in written
    assert "torchao" not in setup(unpacked, 1, "llamafactory")


def test_full_fine_tuning_of_a_vision_language_model_freezes_its_vision_tower() -> None:
    """Text data never reaches a vision tower: trainable, its parameters would have no gradient,
    which DDP refuses under gradient checkpointing (transformers sets find_unused_parameters off
    then). The script freezes it; a text-only model's script has nothing to freeze."""
    for model, frozen in (("gemma-3-4b-it", True), ("qwen3-0.6b", False)):
        rec = recommend(
            gpu="h100-80gb", gpus="2", model=model, data_kind="demonstrations", priority="quality"
        )
        script = render(Case("full", rec, rank_of(rec, "full-ft")), "python")
        assert ("freeze_vision_tower(model)" in script) is frozen, model


def test_continued_pretraining_packs_documents_in_every_format() -> None:
    case = case_named("lora-continued-pretraining-decoder")
    stage = constants(render(case, "python"))["STAGE_SETTINGS"]["continued-pretraining"]
    assert stage["packing"] is True and stage["packing_strategy"] == "wrapped"
    (lf,) = yaml_documents(render(case, "llamafactory"))
    assert lf["stage"] == "pt" and lf["packing"] is True
    axolotl = render(case, "axolotl")
    (ax,) = yaml_documents(axolotl)
    assert ax["sample_packing"] is True and ax["datasets"][0]["type"] == "completion"
    # axolotl's sample_packing keeps documents apart: its header claims no "wrapped" packing.
    assert "wrapped" not in axolotl


def test_warmup_and_schedule_in_every_format() -> None:
    case = case_named("lora-sft-decoder")
    values = constants(render(case, "python"))
    assert values["WARMUP_RATIO"] == 0.1 and values["LR_SCHEDULER"] == "cosine"
    (lf,) = yaml_documents(render(case, "llamafactory"))
    assert lf["warmup_ratio"] == 0.1 and lf["lr_scheduler_type"] == "cosine"
    (ax,) = yaml_documents(render(case, "axolotl"))
    assert ax["warmup_ratio"] == 0.1 and ax["lr_scheduler"] == "cosine"


def test_adalora_warms_up_before_pruning_and_adapts_every_linear_layer() -> None:
    """PEFT's tinit = tfinal = 0 pruned from the first step (q_proj went to rank 0 in a 2-step run)."""
    values = constants(render(case_named("adalora-sft+dpo-decoder"), "python"))
    assert values["ADALORA_PHASES"] == {"tinit": 0.1, "tfinal": 0.2}
    assert values["ADAPTER_SETTINGS"]["target_modules"] == "all-linear"
    assert "tinit" not in values["ADAPTER_SETTINGS"]


def test_preference_rates_scale_with_the_methods_own_rate() -> None:
    """IA3 trains at 15x LoRA's SFT rate, so its DPO rate is 15x the adapters' DPO rate too."""
    values = constants(render(case_named("ia3-sft+dpo-decoder"), "python"))
    assert values["LEARNING_RATE"] == {"sft": 0.003, "dpo": 7.5e-05}
    lora = constants(render(case_named("lora-sft+dpo-decoder"), "python"))
    assert lora["LEARNING_RATE"]["dpo"] == 5e-06


def test_a_header_never_cuts_a_word_longer_than_a_line() -> None:
    """A newcomer's review: a header line ended AutoTokenizer.from_pretrained('ft-atlas-o and the
    next began utput/continued-pretraining'): copied, a wrong path. Such a word keeps a line."""
    from atlas_cli.recipes.header import WIDTH, wrapped

    code = "AutoTokenizer.from_pretrained('ft-atlas-output/continued-pretraining').save_pretrained('merged')"
    lines = wrapped(f"Merge it: {code}, then serve it.")
    assert any(line.endswith(code + ",") for line in lines)
    assert all(len(line) <= WIDTH for line in wrapped("words " * 50))


def test_a_large_model_trains_at_a_lower_rate() -> None:
    """An expert's review: a 70B full fine-tune was written at SFT's 2e-5, ~10x Tulu 3's 70B rate
    (2e-6), and a 70B QLoRA at 2e-4 where the QLoRA paper trained 33B and 65B at 1e-4. An 8B keeps
    the usual rates; a preference stage keeps its adapter rate (the ratio to SFT's holds)."""

    def rates(model: str, method: str, **raw: str) -> dict[str, float]:
        profile = {"gpu": "h100", "gpus": "16", "model": model, "goal": "adapt"}
        rec = recommend(**{**profile, "data_kind": "demonstrations", **raw})
        written: dict[str, float] = constants(render(Case(model, rec, rank_of(rec, method)), "python"))[
            "LEARNING_RATE"
        ]
        return written

    assert rates("llama-3.1-70b", "full-ft")["sft"] == 2e-06
    assert rates("llama-3.1-70b", "qlora")["sft"] == 1e-04
    assert rates("llama-3.1-8b", "full-ft")["sft"] == 2e-05
    assert rates("llama-3.1-8b", "qlora")["sft"] == 2e-04
    aligned = rates("llama-3.1-70b", "lora", goal="align", data_kind="preferences", model_variant="instruct")
    assert aligned["dpo"] == 5e-06
    # A diff review: the full-weight DPO rate rose 10x, scaled by full-ft's 2e-5 over SFT's 2e-6.
    full = rates("llama-3.1-70b", "full-ft", goal="align", data_kind="preferences")
    assert full == {"sft": 2e-06, "dpo": 5e-07}
    # A mixture is sized by what a token uses: Qwen3-30B-A3B (3.3B active) at the usual rates.
    assert rates("qwen3-30b-a3b", "full-ft")["sft"] == 2e-05
    assert rates("qwen3-30b-a3b", "qlora")["sft"] == 2e-04


def test_full_weight_dpo_compares_with_a_16_bit_reference() -> None:
    """TRL would copy the fp32-loaded policy as the reference; the estimate holds a 16-bit one."""
    values = constants(render(case_named("full-ft-sft+dpo-decoder"), "python"))
    assert values["REFERENCE_STAGES"] == ("dpo",)
    assert constants(render(case_named("lora-sft+dpo-decoder"), "python"))["REFERENCE_STAGES"] == ()


def test_prompting_fills_the_context_the_estimate_was_sized_for() -> None:
    """Few-shot and RAG prompts filled max_position_embeddings (131,072 tokens for Llama 3.1)
    under a 2,048-token estimate."""
    for name in ("icl-none-decoder", "rag-none-decoder"):
        case = case_named(name)
        plan = case.rec.plans[case.rank - 1]
        assert plan.estimate is not None
        assert constants(render(case, "python"))["CONTEXT_TOKENS"] == plan.estimate.settings.seq_len


def test_a_shrunk_prompt_is_said_below_the_prompt_the_profile_asked_for(run: Runner) -> None:
    """--seq-len 16384 asks retrieval for prompts of 16,384 tokens: where the KV cache of a shorter
    one fits, the header says it is below those 16,384, not below the 8,192 asked by default."""
    text = ok(
        run(
            "recipe",
            "--gpu",
            "rtx-4090",
            "--model",
            "qwen2.5-32b",
            "--goal",
            "knowledge",
            "--seq-len",
            "16384",
            "--out",
            "-",
        )
    ).stdout
    header = " ".join(header_of(text).replace("#", " ").split())
    assert "the longest prompt whose KV cache fits, below the usual 16384" in header


def test_a_quantized_serving_plan_loads_its_weights_as_the_estimate_sized_them(
    run: Runner, tmp_path: Path
) -> None:
    """Retrieval for Qwen2.5-32B on a 24 GB card is sized with 4-bit weights, and for Qwen2.5-72B
    on two 48 GB cards with 8-bit weights split over both: the script loads them so (it loaded
    16-bit weights on the first GPU alone), in the estimate's dtype, and its header says so."""
    text = ok(
        run("recipe", "--gpu", "rtx-4090", "--model", "qwen2.5-32b", "--goal", "knowledge", "--out", "-")
    ).stdout
    compile(text, "recipe.py", "exec")
    assert "load_in_4bit=True" in text and 'bnb_4bit_quant_type="nf4"' in text
    assert "bnb_4bit_use_double_quant=True" in text and "bnb_4bit_compute_dtype=torch.bfloat16" in text
    load = 'pipeline("text-generation", model=args.model, dtype=torch.bfloat16, device_map="auto", '
    assert load + 'model_kwargs={"quantization_config": QUANTIZATION})' in text
    assert "from transformers import AutoModel, AutoTokenizer, BitsAndBytesConfig, pipeline" in text
    header = " ".join(header_of(text).replace("#", " ").split())
    # 8,192-token prompts were only tight: the plan serves the longest prompt that fits instead.
    assert re.search(r"4-bit \(bitsandbytes\) weights, prompts of [2-7][0-9]{3} tokens, 1 GPU\b", header)
    assert "the longest prompt whose KV cache fits, below the usual 8192" in header
    assert "--model Qwen/Qwen2.5-32B-Instruct" in header  # it answers: the instruct checkpoint
    gpt2 = ok(
        run("recipe", "--gpu", "rtx-4090", "--model", "gpt2", "--goal", "knowledge", "--out", "-")
    ).stdout
    assert "--model openai-community/gpt2 " in gpt2  # no instruct checkpoint: the entry's own
    assert "serving_bits = 4" in header and "; bitsandbytes." in header
    two = ("--gpu", "rtx-a6000", "--gpus", "2", "--model", "qwen2.5-72b", "--goal", "knowledge")
    eight = ok(run("recipe", *two, "--out", "-")).stdout
    assert "BitsAndBytesConfig(load_in_8bit=True)" in eight and 'device_map="auto"' in eight
    # Where 16-bit weights fit, nothing is quantized; the dtype is still the estimate's.
    plain = ok(
        run("recipe", "--gpu", "h100", "--model", "qwen2.5-32b", "--goal", "knowledge", "--out", "-")
    ).stdout
    assert "BitsAndBytesConfig" not in plain and "device_map" not in plain
    assert 'pipeline("text-generation", model=args.model, dtype=torch.bfloat16)' in plain
    # A checkpoint stored in 4 bits (AWQ) is served as stored, by its own quantization_config.
    fixture = Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen2.5-32B.json"
    config = json.loads(fixture.read_text(encoding="utf-8"))
    config["quantization_config"] = {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    awq = ok(
        run("recipe", "--gpu", "h100", "--model", str(tmp_path), "--goal", "knowledge", "--out", "-")
    ).stdout
    assert "serving_bits = 4  <- the plan's memory estimate (the checkpoint is stored so)" in awq
    assert "4-bit (as stored) weights" in " ".join(header_of(awq).replace("#", " ").split())
    assert "BitsAndBytesConfig" not in awq and "Served quantized by bitsandbytes" not in awq
    # A T4 has no bf16: loaded as its checkpoint says (bf16), SDPA would run its s x s math kernel.
    t4 = ok(
        run("recipe", "--gpu", "t4", "--model", "llama-3.1-8b", "--goal", "knowledge", "--out", "-")
    ).stdout
    assert "dtype=torch.float16" in t4 and "bfloat16" not in t4.split("QUANTIZATION", 1)[1]


def test_axolotl_unfreezes_parameters_by_their_full_names() -> None:
    """axolotl anchors each pattern at the start of the name and escapes dots: "layers.24." and
    "^.*\\.bias$" matched nothing, so partial fine-tuning and BitFit trained nothing."""
    case = case_named("partial-ft-sft-decoder")
    (doc,) = yaml_documents(render(case, "axolotl"))
    layers = case.rec.plans[case.rank - 1]
    assert layers.method == "partial-ft"
    assert doc["unfrozen_parameters"] == [f"model.layers.{i}." for i in range(24, 32)]
    (bitfit,) = yaml_documents(render(case_named("bitfit-sft-decoder"), "axolotl"))
    assert bitfit["unfrozen_parameters"] == ["^.+bias$"]


def test_llamafactory_galore_uses_an_optimizer_its_galore_builder_takes() -> None:
    case = case_named("galore-sft-decoder")
    (doc,) = yaml_documents(render(case, "llamafactory"))
    assert doc["use_galore"] is True and doc["optim"] in ("adamw_torch", "adamw_bnb_8bit")
    # bf16 weights, as GaLore is sized: without pure_bf16 LLaMA-Factory casts them to fp32
    assert doc["pure_bf16"] is True
    (ax,) = yaml_documents(render(case, "axolotl"))
    assert ax["optimizer"].startswith("galore_adamw")


def layer_wise_galore() -> Case:
    """Llama 2 7B's GaLore on an RTX 3090 takes the layer-wise 8-bit variant, as the GaLore paper
    trains a 7B model on 24 GB (Llama 3.1 8B's 2 GB LM head and its gradient no longer fit so)."""
    rec = recommend(gpu="rtx-3090", model="llama-2-7b")
    return Case("galore-layer-wise", rec, rank_of(rec, "galore", ("sft",)))


def test_layer_wise_galore_never_accumulates_gradients() -> None:
    """Layer-wise GaLore steps each layer as its gradient appears: LLaMA-Factory refuses gradient
    accumulation with it, and so does transformers; every format writes 1."""
    case = layer_wise_galore()
    (doc,) = yaml_documents(render(case, "llamafactory"))
    assert doc["galore_layerwise"] is True and doc["gradient_accumulation_steps"] == 1
    (ax,) = yaml_documents(render(case, "axolotl"))
    assert ax["optimizer"].endswith("_layerwise") and ax["gradient_accumulation_steps"] == 1
    assert constants(render(case, "python"))["GRAD_ACCUM"] == {"sft": 1}


def test_an_8_bit_base_is_loaded_in_8_bits_in_every_format() -> None:
    """The engine may choose QLoRA's 8-bit variant: the recipe must not load 4 bits under it."""
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="ratings")
    rank = rank_of(rec, "qlora", ("sft", "kto"))
    plan = rec.plans[rank - 1]
    assert plan.estimate is not None
    bits = plan.estimate.settings.quant_bits
    assert constants(render_recipe(CATALOG, rec, rank, "python"))["QUANT_BITS"] == bits
    lf, *_, kto = yaml_documents(render_recipe(CATALOG, rec, rank, "llamafactory"))
    assert lf["quantization_bit"] == kto["quantization_bit"] == bits
    ax, _ = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert ax.get("load_in_8bit" if bits == 8 else "load_in_4bit") is True
    assert ax["adapter"] == ("lora" if bits == 8 else "qlora")


def test_headers_name_the_trainers_pins_and_the_scripts_minimum_versions() -> None:
    case = case_named("lora-sft-decoder")
    python = render(case, "python")
    assert constants(python)["MINIMUM_VERSIONS"] == {k: v for k, v in MINIMUM_VERSIONS.items()}
    assert constants(python)["FUSED_LM_HEAD"] == {"trl": "1.15.0"}  # the memory estimate assumes it
    assert "assumes trl >= 1.15.0" in header_of(python)
    assert "version_tuple(installed) < version_tuple(minimum)" in python
    # transformers 5.23 renamed the checkpointing argument; older 5.x know only the old name.
    assert "CHECKPOINTING_ARGUMENT" in python and "activation_checkpointing=" not in python


def test_the_sft_docstring_example_completion_continues_the_prompt() -> None:
    text = render(case_named("lora-sft-decoder"), "python")
    assert '"completion": " A low-rank adapter' in text


# --- escaping: KB text reaches generated code and YAML as data only ---------------------------


HOSTILE = 'q_proj"]\nimport os; os.system("echo owned")  # \u2028 --- !!python/object'


def test_kb_strings_reach_the_recipes_as_data_in_every_format() -> None:
    methods = []
    for method in CATALOG.kb.methods:
        if method.id == "lora":
            entry = Hyperparameter(value=HOSTILE, source='a "source" with\nnew lines')
            method = method.model_copy(
                update={"hyperparameters": {**method.hyperparameters, "target_modules": entry}}
            )
        methods.append(method)
    catalog = Catalog(CATALOG.kb.model_copy(update={"methods": methods}))
    rec = Engine(catalog).recommend(build_profile({"gpu": "rtx-3090", "model": "llama-3.1-8b"}))
    rank = rank_of(rec, "lora", ("sft",))
    python = render_recipe(catalog, rec, rank, "python")
    assert constants(python)["ADAPTER_SETTINGS"]["target_modules"] == HOSTILE
    assert "\nimport os" not in python
    (lf,) = yaml_documents(render_recipe(catalog, rec, rank, "llamafactory"))
    assert lf["lora_target"] == HOSTILE
    (ax,) = yaml_documents(render_recipe(catalog, rec, rank, "axolotl"))
    assert ax["lora_target_modules"] == HOSTILE.split(",")


# --- the command: files, names, JSON ----------------------------------------------------------


def test_the_run_line_names_the_file_written(run: Runner, tmp_path: Path) -> None:
    target = tmp_path / "train_lora.py"
    assert run("recipe", "--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--out", str(target)).exit_code == 0
    assert f"Run: python {target} --model" in header_of(target.read_text(encoding="utf-8"))


def test_out_dir_writes_one_file_per_stage_and_config(run: Runner, tmp_path: Path) -> None:
    """Multi-file outputs (SFT then DPO, a DeepSpeed config) are separate files with --out DIR."""
    profile = ["--gpu", "a100-80gb", "--gpus", "4", "--model", "llama-3.1-70b", "--data-kind", "preferences"]
    out = tmp_path / "lf"
    result = run("recipe", *profile, "--trainer", "llamafactory", "--out", f"{out}/")
    assert result.exit_code == 0, result.stderr
    # ZeRO-3 LoRA: the SFT adapter is merged by an export step before DPO
    assert sorted(p.name for p in out.iterdir()) == [
        "dpo.yaml",
        "ds_z3_config.json",
        "merge_sft.yaml",
        "sft.yaml",
    ]
    assert yaml.safe_load((out / "dpo.yaml").read_text(encoding="utf-8"))["stage"] == "dpo"
    assert "Run: FORCE_TORCHRUN=1" in header_of((out / "sft.yaml").read_text(encoding="utf-8"))
    again = run("recipe", *profile, "--trainer", "llamafactory", "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.stderr  # never overwritten silently
    # Into one file its Run: line would name files that do not exist (a newcomer's review: exit 0
    # and nothing to run): refused, with the directory to give instead.
    single = run("recipe", *profile, "--trainer", "llamafactory", "--out", str(tmp_path / "one.yaml"))
    assert single.exit_code == 2 and "--out DIR/" in single.stderr and "several files" in single.stderr
    assert not (tmp_path / "one.yaml").exists()
    # On stdout, to read, the stages are YAML documents and the DeepSpeed config follows as comments.
    printed = run("recipe", *profile, "--trainer", "llamafactory", "--out", "-").stdout
    documents = [d for d in yaml.safe_load_all(printed) if d]
    assert [d.get("stage", "export") for d in documents] == ["sft", "export", "dpo"]


def test_axolotl_grpo_writes_the_reward_functions_it_imports_beside_its_config(
    run: Runner, tmp_path: Path
) -> None:
    """An expert's review: --out DIR/ wrote grpo.yaml alone, whose trl.reward_funcs import
    rewards.reward_matches_solution from a rewards.py that existed only as comments inside it."""
    profile = ["--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen3-8b", "--goal", "reasoning"]
    profile += ["--data-kind", "reward-function", "--examples", "5k", "--vllm-server-gpus", "2"]
    out = tmp_path / "ax"
    assert run("recipe", *profile, "--trainer", "axolotl", "--out", f"{out}/").exit_code == 0
    rewards = (out / "rewards.py").read_text(encoding="utf-8")
    compile(rewards, "rewards.py", "exec")
    assert "def reward_matches_solution(" in rewards
    config = yaml.safe_load((out / "grpo.yaml").read_text(encoding="utf-8"))
    assert config["trl"]["reward_funcs"] == ["rewards.reward_matches_solution"]
    stdout = ok(run("recipe", *profile, "--trainer", "axolotl")).stdout
    assert "--- rewards.py (--out DIR writes it as its own file):" in stdout


def test_axolotl_says_a_base_models_prompt_and_answer_are_joined_as_written(run: Runner) -> None:
    """An expert's review: axolotl's user-defined format joins prompt and answer with nothing
    between, a format the header never stated, where the other trainers add a template."""
    profile = ("--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--goal", "chat", "--data-kind", "preferences")
    said = _comments(ok(run("recipe", *profile, "--sft-data", "yes", "--trainer", "axolotl")).stdout)
    assert "A base model trains on each prompt and answer as written, joined with nothing between" in said
    instruct = ("--gpu", "rtx-3090", "--model", "llama-3.1-8b-instruct", "--goal", "chat")
    written = ok(run("recipe", *instruct, "--data-kind", "demonstrations", "--trainer", "axolotl")).stdout
    assert "joined with nothing between" not in _comments(written)


def _comments(text: str) -> str:
    """A recipe's comment lines as one line of words."""
    return " ".join(" ".join(line.lstrip("#").split()) for line in text.splitlines() if line.startswith("#"))


def test_recipe_json_has_plan_settings_memory_files_and_launch(run: Runner) -> None:
    from pydantic import TypeAdapter

    from atlas_cli.render.contracts import RecipeJson

    result = run("recipe", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--examples", "10k", "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    TypeAdapter(RecipeJson).validate_python(document, strict=True)
    assert document["trainer"] == "python" and document["files"][0]["name"] == "recipe.py"
    assert document["launch"].startswith("python recipe.py")
    assert document["memory"][0]["assumptions"]["stack"] == "trl"
    assert document["settings"]["lr.sft"]["source"].startswith("methods.yaml")
    assert document["time"]["hours"] > 0
    ast.parse(document["files"][0]["text"])


def test_galore_recipes_run_data_parallel_however_many_gpus() -> None:
    """LLaMA-Factory's own parser refused GaLore under DeepSpeed ('GaLore and APOLLO are
    incompatible with DeepSpeed yet'; galore-torch documents data parallel only): the plan is
    placed with data parallel, and every format writes it without DeepSpeed."""
    rec = recommend(gpu="a100-80gb", gpus="4", model="llama-3.1-70b", data_kind="preferences")
    rank = rank_of(rec, "galore")
    for fmt in PYTORCH_FORMATS:
        text = render_recipe(CATALOG, rec, rank, fmt)
        # No DeepSpeed config, launcher or requirement (the Python script's fp16 helper names it).
        for sign in ("ds_z", "distributed_type: DEEPSPEED", "deepspeed:", "'deepspeed': 'pip install"):
            assert sign not in text, (fmt, sign)


@pytest.mark.parametrize(
    "profile",
    [
        {"model": "llama-3.1-8b-instruct"},
        {"model": "llama-3.1-8b", "model_variant": "instruct"},
    ],
)
def test_an_instruct_model_trains_its_instruct_checkpoint_in_every_format(profile: dict[str, str]) -> None:
    """The plan for an instruct model skips SFT (the model is already post-trained), but the recipe
    loaded the catalog entry's base checkpoint (meta-llama/Llama-3.1-8B): DPO on a base model."""
    rec = recommend(gpu="a100-80gb", data_kind="preferences", **profile)
    rank = rank_of(rec, "lora", ("dpo",))
    assert "meta-llama/Llama-3.1-8B-Instruct" in header_of(render_recipe(CATALOG, rec, rank, "python"))
    assert "--model meta-llama/Llama-3.1-8B-Instruct" in render_recipe(CATALOG, rec, rank, "python")
    (lf,) = yaml_documents(render_recipe(CATALOG, rec, rank, "llamafactory"))
    assert lf["model_name_or_path"] == "meta-llama/Llama-3.1-8B-Instruct"
    (ax,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert ax["base_model"] == "meta-llama/Llama-3.1-8B-Instruct"


def test_an_instruct_variant_the_catalog_cannot_name_is_asked_for_not_replaced_by_the_base() -> None:
    rec = recommend(gpu="a100-80gb", model="mixtral-8x22b", model_variant="instruct", data_kind="preferences")
    text = render_recipe(CATALOG, rec, 1, "python")
    assert "--model MODEL_ID_OR_PATH" in text
    assert "names no instruct checkpoint" in header_of(text)
    assert "mistralai/Mixtral-8x22B-v0.1" not in text.split('"""', 1)[1]  # the script below the header
    # The catalog names Mixtral 8x7B's instruct checkpoint: the recipe loads it.
    named = recommend(
        gpu="a100-80gb", model="mixtral-8x7b", model_variant="instruct", data_kind="preferences"
    )
    instruct = "mistralai/Mixtral-8x7B-Instruct-v0.1"  # plan 1 quantizes its experts: axolotl's
    assert instruct in render_recipe(CATALOG, named, 1, "axolotl")


def test_apple_silicon_refuses_bitsandbytes_plans_and_keeps_mixed_precision_on_mps() -> None:
    """On a Mac the QLoRA recipe loaded a bitsandbytes 4-bit base with a paged optimizer (neither
    runs on MPS), and the Python script fell back to fp32 on any GPU but CUDA: twice the memory of
    the estimate in its header. bf16 runs through MPS on macOS 14 or later (accelerate and
    transformers check exactly that); the script falls back to fp16 on an older macOS."""
    rec = recommend(gpu="m1-max", model="llama-3.1-8b", goal="chat")
    for fmt in PYTORCH_FORMATS:  # each names the format that trains QLoRA there
        with pytest.raises(UsageError, match=r"Apple silicon \(MPS\).*; --trainer mlx, which quantizes"):
            render_recipe(CATALOG, rec, rank_of(rec, "qlora", ("sft",)), fmt)
    text = render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
    assert "PRECISION = 'bf16'" in text
    assert "not (torch.cuda.is_available() or torch.backends.mps.is_available())" in text
    assert "torch.backends.mps.is_macos_or_newer(14, 0)" in text
    # Its source speaks of Apple silicon, not of NVIDIA's generations (a newcomer's review).
    said = " ".join(header_of(text).replace("#", " ").split())
    assert "bf16 on Apple silicon" in said and "Ampere" not in said
    # A CUDA machine keeps its QLoRA plans.
    cuda = recommend(gpu="rtx-3090", model="llama-3.1-8b", goal="chat")
    assert "BitsAndBytesConfig(" in render_recipe(CATALOG, cuda, rank_of(cuda, "qlora", ("sft",)), "python")


def test_recipe_format_json_and_table_mean_what_they_mean_elsewhere(run: Runner) -> None:
    """`--json` said "Same as --format json", which failed ('json' is not a trainer)."""
    profile = ["--gpu", "rtx-3090", "--model", "llama-3.1-8b"]
    result = run("recipe", *profile, "--format", "json")
    assert result.exit_code == 0 and "use --json" in result.stderr
    assert result.json() == run("recipe", *profile, "--json").json()
    table = run("recipe", *profile, "--format", "table")
    assert table.exit_code == 2 and "--json prints it as JSON" in table.stderr
    assert "Same as --format json" not in run("recipe", "--help").stdout


def test_a_post_trained_catalog_model_is_its_own_hub_id(run: Runner) -> None:
    """Qwen/Qwen3-8B is the post-trained checkpoint (the base is Qwen3-8B-Base): the recipe loads
    it instead of asking for an instruct checkpoint."""
    args = ("recipe", "--gpu", "rtx-4090", "--model", "Qwen/Qwen3-8B", "--goal", "chat", "--examples", "2k")
    script = run(*args).stdout
    assert "default='Qwen/Qwen3-8B'" in script and "names no instruct checkpoint" not in script


@pytest.mark.parametrize(
    ("model", "template"),
    [
        ("Qwen/Qwen3-8B", "qwen3"),
        ("google/gemma-3-4b-it", "gemma3"),
        # Text-only: gemma3's image plugin finds no processor (LLaMA-Factory registers it as gemma2).
        ("gemma-3-1b-it", "gemma2"),
        ("qwen3-30b-a3b", "qwen3"),
        ("qwen3-4b-instruct-2507", "qwen3_nothink"),  # no thinking: LLaMA-Factory's own registration
        ("Qwen/Qwen3-30B-A3B-Thinking-2507", "qwen3"),
        ("llama-3.1-8b-instruct", "llama3"),
        # A base Llama 3 never trained its chat template's special tokens (hiyouga/LlamaFactory#6436).
        ("llama-3.1-8b", "default"),
    ],
)
def test_llamafactory_uses_the_model_family_template(run: Runner, model: str, template: str) -> None:
    args = ("recipe", "--gpu", "h100-80gb", "--model", model, "--goal", "chat", "--trainer", "llamafactory")
    assert f"\ntemplate: {template}\n" in run(*args).stdout


@pytest.mark.parametrize(
    ("folder", "config", "template"),
    [
        ("DeepSeek-R1-Distill-Qwen-7B", "Qwen--Qwen2.5-1.5B.json", "deepseekr1"),  # not Qwen's format
        ("TinyLlama-1.1B-Chat-v1.0", "meta-llama--Llama-3.1-8B.json", "default"),  # no Llama-3 tokens
        # LLaMA-Factory's gemma3 template loads an image processor that a text-only Gemma 3 (270M,
        # 1B: no vision tower) has not ("Processor was not found"): the shape decides, not the name.
        ("gemma-3-270m-it", "google--gemma-3-1b-it.json", "gemma2"),
        ("gemma-3-270m-it", "google--gemma-3-4b-it.json", "gemma3"),
        # An expert's review: vision-language checkpoints got their text models' templates (qwen,
        # llama3), which leave out LLaMA-Factory's multimodal plugin.
        ("Qwen2.5-VL-7B-Instruct", "Qwen--Qwen2.5-7B.json", "qwen2_vl"),
        ("Qwen3-VL-8B-Instruct", "Qwen--Qwen3-8B.json", "qwen3_vl_nothink"),
        ("Qwen3-VL-8B-Thinking", "Qwen--Qwen3-8B.json", "qwen3_vl"),
        ("Llama-3.2-11B-Vision-Instruct", "meta-llama--Llama-3.1-8B.json", "mllama"),
    ],
)
def test_a_fine_tune_is_templated_by_its_name_not_its_family(
    run: Runner, tmp_path: Path, folder: str, config: str, template: str
) -> None:
    model = tmp_path / folder
    model.mkdir()
    shutil.copyfile(Path(__file__).parent / "fixtures" / "configs" / config, model / "config.json")
    args = (
        "recipe",
        "--gpu",
        "h100-80gb",
        "--model",
        str(model),
        "--goal",
        "chat",
        "--trainer",
        "llamafactory",
    )
    assert f"\ntemplate: {template}\n" in run(*args).stdout


def test_a_quantized_checkpoint_gets_no_qlora_plan_and_lora_dequantizes_it(
    run: Runner, tmp_path: Path
) -> None:
    """gpt-oss is stored in MXFP4: transformers refuses a second quantization_config, so QLoRA
    cannot load it (recommend leaves it out; recipe refuses it on a KB without that rule); LoRA
    trains on the weights dequantized to 16 bit."""
    base = ("--gpu", "h100-80gb", "--model", "gpt-oss-20b", "--goal", "chat", "--examples", "1k")
    data = json.loads(run("recommend", *base, "--top", "30", "--json").stdout)
    assert "qlora" not in [p["method"] for p in data["recommendations"]]
    lora = next(p["rank"] for p in data["recommendations"] if p["method"] == "lora")
    script = run("recipe", *base, "--plan", str(lora)).stdout
    assert "Mxfp4Config(dequantize=True)" in script
    ast.parse(script)
    axolotl = yaml.safe_load(run("recipe", *base, "--plan", str(lora), "--trainer", "axolotl").stdout)
    assert axolotl["model_quantization_config"] == "Mxfp4Config"
    assert axolotl["model_quantization_config_kwargs"] == {"dequantize": True}
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    rules = (kb / "rules.yaml").read_text(encoding="utf-8")
    start = rules.index("  - id: qlora-needs-a-16-bit-checkpoint")
    (kb / "rules.yaml").write_text(
        rules[:start] + rules[rules.index("  - id: ", start + 10) :], encoding="utf-8"
    )
    plans = json.loads(run("--kb", str(kb), "recommend", *base, "--top", "30", "--json").stdout)
    qlora = next(p["rank"] for p in plans["recommendations"] if p["method"] == "qlora")
    refused = run("--kb", str(kb), "recipe", *base, "--plan", str(qlora))
    assert refused.exit_code == 2 and "stored as mxfp4" in refused.stderr


def test_an_encoder_gets_no_recipe_for_a_goal_that_needs_generated_text(run: Runner) -> None:
    refused = run("recipe", "--model", "bert-base", "--goal", "chat", "--gpu", "4090")
    assert refused.exit_code == 2 and "does not generate text" in refused.stderr
    assert run("recipe", "--model", "bert-base", "--goal", "classify", "--gpu", "4090").exit_code == 0


def test_an_offloaded_plan_on_one_gpu_runs_under_deepspeed(run: Runner) -> None:
    """The estimate offloads parameters to fit one GPU: the recipe must launch DeepSpeed ZeRO-3
    with that offload, or it loads the whole model onto the GPU."""
    args = ("recipe", "--model", "llama-3.1-70b", "--gpu", "rtx-5090", "--goal", "chat", "--examples", "1k")
    script = run(*args, "--plan", "2").stdout  # LoRA; QLoRA's offloaded 4-bit base is FSDP-QLoRA
    assert "accelerate launch --config_file accelerate.yaml" in script
    assert '"offload_param": {' in script and '"stage": 3' in script


def test_orpo_trains_at_the_handbooks_rates() -> None:
    """ORPO from a base model is also its SFT stage: the alignment handbook's Zephyr-141B recipes
    train it at 5e-6 (full) and 5e-5 (QLoRA), not TRL's default 1e-6 or DPO's LoRA 5e-6."""
    rec = recommend(
        gpu="a100-80gb", model="qwen3-8b", model_variant="base", data_kind="preferences", sft_data="no"
    )
    rates = {}
    for method in ("lora", "full-ft"):
        recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, method, ("orpo",)), "llamafactory")
        rates[method] = recipe.stage_value("lr", "orpo")
    assert rates == {"lora": 5e-5, "full-ft": 5e-6}


def test_recommend_ranks_with_the_stack_of_the_default_recipe() -> None:
    """`recipe`'s default Python script trains with TRL, which never materialises the fp32 logits:
    `recommend` sizes plans the same way, so long reasoning traces on a 24 GB card rank a training
    plan first (not retrieval) and the recipe needs what the ranking said."""
    rec = recommend(
        gpu="rtx-4090",
        model="deepseek-r1-distill-qwen-7b",
        goal="reasoning",
        data_kind="demonstrations",
        examples="5k",
        seq_len="16k",
    )
    first = rec.plans[0]
    assert first.kind != "no-training" and first.fit == "yes" and first.estimate is not None
    assert first.estimate.settings.stack == "trl"
    recipe, rendered = write_recipe(CATALOG, rec, 1, "python")
    # Only the optimizer differs: QLoRA's recipe writes the paper's paged 32-bit AdamW, whose
    # states stay fp32 beside TRL's bf16 adapters (a fraction of a GB here).
    assert re.search(r"ranked the plan at [\d.]+ GB: batch 1, stack trl, adamw\.", header_of(rendered.text))
    assert recipe.estimates["sft"].per_gpu_gb == pytest.approx(first.estimate.per_gpu_gb, abs=0.5)


def test_a_recipe_drops_an_offload_its_own_stack_does_not_need() -> None:
    """The ranking (stack hf, fp32 logits) offloads QLoRA on a 12 GB card; the Python recipe's TRL
    fused LM head fits on the GPU alone, so it neither offloads nor needs DeepSpeed."""
    rec = recommend(
        gpu="rtx-3060-12gb", model="llama-3.1-8b", data_kind="demonstrations", examples="10k", stack="hf"
    )
    rank = rank_of(rec, "qlora", ("sft",))
    assert rec.plans[rank - 1].offload == "params"
    recipe, rendered = write_recipe(CATALOG, rec, rank, "python")
    assert recipe.offload == "none" and all(e.settings.offload == "none" for e in recipe.estimates.values())
    assert rendered.launch.startswith("python ") and "fits on the GPUs alone: no offload" in header_of(
        rendered.text
    )


@pytest.mark.parametrize("fmt", ["python", "axolotl", "llamafactory"])
def test_an_offloaded_recipe_says_accelerate_swaps_in_deepspeeds_cpu_adam(fmt: str) -> None:
    """accelerate's map_pytorch_optim_to_deepspeed replaces the configured optimizer when the
    optimizer states live in CPU RAM: the header names what runs instead, and what it needs."""
    rec = recommend(gpu="rtx-3090", gpus="2", model="llama-2-70b", data_kind="demonstrations")
    rank = rank_of(rec, "lora", ("sft",))  # DeepSpeed's offload (QLoRA's runs under FSDP)
    recipe, rendered = write_recipe(CATALOG, rec, rank, fmt)
    assert recipe.offload in ("optimizer", "params")
    head = header_of(rendered.text)
    assert f"accelerate swaps {recipe.value('optim')} for DeepSpeed's CPU Adam (DeepSpeedCPUAdam)" in head


@pytest.mark.parametrize("trainer", ["python", "llamafactory", "axolotl"])
def test_the_first_plan_fits_as_each_trainer_runs_it(run: Runner, trainer: str) -> None:
    """Without --stack, `recipe` ranks with the software the recipe runs: LLaMA-Factory and axolotl
    hold transformers' fp32 logits, so on a 24 GB card their first plan is QLoRA, which fits, not
    the 16-bit LoRA TRL's fused loss fits (and theirs does not)."""
    args = ("recipe", "--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--data-kind", "preferences")
    data = json.loads(run(*args, "--trainer", trainer, "--json").stdout)
    assert all(stage["fit"] == "yes" for stage in data["memory"]), data["memory"]
    stacks = {stage["assumptions"]["stack"] for stage in data["memory"]}
    assert stacks == ({"trl"} if trainer == "python" else {"hf"})
    assert data["profile"]["stack"] == stacks.pop()


def test_full_fine_tuning_of_gpt_oss_keeps_its_attention_sinks_trainable() -> None:
    """An expert's review: full fine-tuning of gpt-oss on Hopper loaded TRL's FlashAttention 3
    kernel, whose backward returns no gradient for the attention sinks (s_aux), so they never
    trained; a plan that trains them loads flex attention, and LoRA (sinks frozen) keeps the
    kernel."""
    rec = recommend(gpu="h100-80gb", gpus="8", model="gpt-oss-20b", goal="reasoning", priority="quality")
    rank = next(i for i, p in enumerate(rec.plans, 1) if p.method == "full-ft")
    python = render_recipe(CATALOG, rec, rank, "python")
    assert "kwargs[\"attn_implementation\"] = 'flex_attention'" in python
    header = " ".join(header_of(python).replace("#", " ").split())
    assert "backward gives the attention sinks no gradient" in header


@pytest.mark.parametrize(
    ("model", "gpu", "kernel"),
    [
        ("gpt-oss-20b", "h100-80gb", "kernels-community/vllm-flash-attn3"),
        ("gpt-oss-20b", "a100-80gb", "flex_attention"),
        ("gemma-2-9b", "h100-80gb", "flex_attention"),  # soft-capping: no SDPA kernel either
    ],
)
def test_a_model_without_sdpa_trains_with_a_kernel_that_holds_no_s_by_s_matrix(
    model: str, gpu: str, kernel: str
) -> None:
    """gpt-oss (attention sinks) and Gemma 2 (soft-capping) have no SDPA kernel: transformers'
    default, eager, held an s x s matrix per head and made a 16k gpt-oss LoRA plan 195 GB (an
    expert's review); TRL's sft_gpt_oss.py loads FlashAttention 3 with sinks on Hopper, and flex
    attention applies sinks and soft-capping elsewhere."""
    rec = recommend(gpu=gpu, model=model, goal="reasoning", seq_len="16k", examples="5k")
    assert rec.plans[0].method == "lora" and rec.plans[0].fit == "yes"
    python = render_recipe(CATALOG, rec, 1, "python")
    assert f"kwargs[\"attn_implementation\"] = '{kernel}'" in python
    assert ("'kernels': " in python) == kernel.startswith("kernels-community/")
    # LLaMA-Factory's flash_attn takes no such kernel: it keeps transformers' default, sized as
    # such; for gpt-oss it forces FlashAttention 3 through a function transformers 5 renamed (a
    # review), so that recipe is refused.
    if model.startswith("gpt-oss"):
        with pytest.raises(UsageError, match=r"hiyouga/LlamaFactory#10256"):
            render_recipe(CATALOG, rec, 1, "llamafactory")
        return
    (lf,) = yaml_documents(render_recipe(CATALOG, rec, 1, "llamafactory"))
    assert "flash_attn" not in lf


def test_a_base_variant_of_a_post_trained_entry_trains_its_base_checkpoint() -> None:
    """`--model qwen3-8b --model-variant base` loaded Qwen/Qwen3-8B, the post-trained model, while
    the plan reasoned as for a base model (an expert's review): the entry's base_checkpoint is
    loaded, and without one the recipe asks for it."""
    rec = recommend(gpu="h100-80gb", model="qwen3-8b", model_variant="base", goal="chat")
    python = render_recipe(CATALOG, rec, 1, "python")
    assert "default='Qwen/Qwen3-8B-Base'" in python
    (lf,) = yaml_documents(render_recipe(CATALOG, rec, 1, "llamafactory"))
    assert lf["model_name_or_path"] == "Qwen/Qwen3-8B-Base"
    unknown = recommend(gpu="h100-80gb", model="qwen3-32b", model_variant="base", goal="chat")
    text = render_recipe(CATALOG, unknown, 1, "python")
    assert "names no base checkpoint of Qwen3 32B" in header_of(text) and "'Qwen/Qwen3-32B'" not in text


def test_an_instruct_hub_id_with_the_base_variant_trains_the_base_checkpoint(run: Runner) -> None:
    """A newcomer's review: `--model meta-llama/Llama-3.1-8B-Instruct --model-variant base` said
    "Llama 3.1 8B, base", while every recipe loaded the Instruct checkpoint and the Python one
    replaced its chat template. The base checkpoint is loaded, and recommend's Model line names it,
    as the reverse (a base id with --model-variant instruct) does."""
    args = ("--gpu", "rtx-4090", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--goal", "chat")
    said = " ".join(ok(run("recommend", *args, "--model-variant", "base")).stdout.split())
    assert "Model: meta-llama/Llama-3.1-8B, the base checkpoint of catalog entry llama-3.1-8b." in said
    rec = recommend(
        gpu="rtx-4090", model="meta-llama/Llama-3.1-8B-Instruct", model_variant="base", goal="chat"
    )
    assert "default='meta-llama/Llama-3.1-8B'" in render_recipe(CATALOG, rec, 1, "python")
    (ax,) = yaml_documents(render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "axolotl"))
    assert ax["base_model"] == "meta-llama/Llama-3.1-8B"
    instruct = recommend(gpu="rtx-4090", model="meta-llama/Llama-3.1-8B-Instruct", goal="chat")
    assert "default='meta-llama/Llama-3.1-8B-Instruct'" in render_recipe(CATALOG, instruct, 1, "python")


def test_a_base_checkpoint_typed_by_its_hub_id_trains_itself_and_answers_with_the_instruct_one() -> None:
    """`--model google/gemma-3-4b-pt` names entry gemma-3-4b-it as its base variant: SFT trains the
    checkpoint typed, while retrieval, which answers questions, serves the instruct one (it loaded
    the base checkpoint, though the plan said it serves the instruct one)."""
    chat = recommend(gpu="a100-80gb", model="google/gemma-3-4b-pt", goal="chat")
    assert "default='google/gemma-3-4b-pt'" in render_recipe(CATALOG, chat, 1, "python")
    rag = recommend(gpu="a100-80gb", model="google/gemma-3-4b-pt", goal="knowledge", data_kind="text")
    assert rag.plans[0].method == "rag"
    assert "default='google/gemma-3-4b-it'" in render_recipe(CATALOG, rag, 1, "python")
    told = recommend(gpu="a100-80gb", model="google/gemma-3-4b-pt", model_variant="instruct", goal="chat")
    assert "default='google/gemma-3-4b-it'" in render_recipe(CATALOG, told, 1, "python")


@pytest.mark.parametrize(("base", "instruct"), [("Qwen/Qwen3-8B-Base", "Qwen/Qwen3-8B")])
def test_a_post_trained_entry_whose_name_does_not_say_instruct_is_its_instruct_checkpoint(
    base: str, instruct: str
) -> None:
    """Qwen/Qwen3-8B is the instruct checkpoint though its name does not say so: the RAG recipe for
    Qwen/Qwen3-8B-Base loaded the base checkpoint, and --model-variant instruct said the catalog
    names no instruct checkpoint (a review of the thirty-seventh round)."""
    rag = recommend(gpu="a100-80gb", model=base, goal="knowledge", data_kind="text")
    assert f"default='{instruct}'" in render_recipe(CATALOG, rag, 1, "python")
    told = recommend(gpu="a100-80gb", model=base, model_variant="instruct", goal="chat")
    text = render_recipe(CATALOG, told, 1, "python")
    assert f"default='{instruct}'" in text and "names no instruct checkpoint" not in text


def test_a_post_trained_entry_loads_its_instruct_checkpoint_where_its_config_url_is_the_base_one(
    run: Runner,
) -> None:
    """gemma-3-270m-it cites the base checkpoint's config.json (the same shape): `model` said it
    loads as google/gemma-3-270m while its recipe loads google/gemma-3-270m-it."""
    assert ok(run("model", "gemma-3-270m-it", "--json")).json()["repo"] == "google/gemma-3-270m-it"


def test_a_recipe_whose_own_estimate_does_not_fit_says_so_on_stderr(run: Runner, tmp_path: Path) -> None:
    """A plan picked with --plan that does not fit: the header said so on its line 8, the command
    nothing (an expert's review). One ranked on a stack the recipe does not run (QLoRA of Qwen3-32B
    at 8k tokens with --stack unsloth on a 4090, 31 GB with TRL's software) is refused instead."""
    args = ("--gpu", "rtx-4090", "--model", "qwen3-8b", "--goal", "chat", "--plan", "13")
    result = ok(run("recipe", *args, "--out", str(tmp_path / "train.py")))
    assert "plan 13's sft stage does not fit with this recipe's settings (stack trl)" in result.stderr
    args = ("--gpu", "rtx-4090", "--model", "qwen3-32b", "--goal", "chat", "--seq-len", "8k")
    refused = fails(
        run("recipe", *args, "--stack", "unsloth", "--out", str(tmp_path / "b.py")), 2, "with stack trl"
    )
    assert not (tmp_path / "b.py").exists() and "does not fit" not in refused.stderr
    quiet = ok(run("recipe", "--gpu", "h100-80gb", "--model", "qwen3-8b", "--goal", "chat", "--out", "-"))
    assert "does not fit" not in quiet.stderr


def test_a_gpu_given_by_its_memory_also_gets_the_kernel_without_s_by_s_matrices() -> None:
    """--vram 80 names no GPU: the recipe wrote no attn_implementation (eager) for Gemma 2 while
    its estimate assumed flex attention (a review)."""
    rec = recommend(vram="80", model="gemma-2-9b", goal="chat")
    assert "kwargs[\"attn_implementation\"] = 'flex_attention'" in render_recipe(CATALOG, rec, 1, "python")


def test_packed_sft_keeps_flash_attention_where_the_family_takes_it() -> None:
    """Gemma 2 (soft-capping) runs FlashAttention 2 for packed rows in axolotl as before; gpt-oss
    cannot (its sinks: transformers refuses it), so the recipe says what keeps its rows apart."""
    args = {"gpu": "a100-80gb", "goal": "chat", "examples": "5k", "packing": "true"}
    gemma = recommend(model="gemma-2-9b", **args)
    recipe, rendered = write_recipe(CATALOG, gemma, rank_of(gemma, "lora", ("sft",)), "axolotl")
    (doc,) = yaml_documents(rendered.text)
    assert doc["sample_packing"] is True and doc["attn_implementation"] == "flash_attention_2"
    # ... and is sized with it: no eager s x s term in the header's estimate (a review).
    assert all(e.settings.attention_kernel for e in recipe.estimates.values())
    assert "eager (transformers" not in header_of(rendered.text)
    oss = recommend(model="gpt-oss-20b", **args)
    text = render_recipe(CATALOG, oss, rank_of(oss, "lora", ("sft",)), "axolotl")
    (doc,) = yaml_documents(text)
    assert "attn_implementation" not in doc and "Packing without FlashAttention 2" in header_of(text)


def test_axolotl_qlora_under_zero3_checkpoints_reentrantly_where_axolotl_allows_it() -> None:
    """axolotl's validation warns that QLoRA under ZeRO-3 with use_reentrant: false may end in a
    CheckpointError, and the config left it to axolotl's defaults (a review); it also refuses
    use_reentrant: true for QLoRA with rl on several GPUs (both checked with axolotl itself in
    tests/test_recipes_validate.py). SFT writes true, with its source; DPO keeps axolotl's default
    and the header says why. LoRA under ZeRO-3 and QLoRA on one GPU write nothing."""
    # At 8k tokens ZeRO-3 holds what the whole 4-bit base each GPU loads first leaves room for.
    rec = recommend(gpu="h100-80gb", gpus="2", model="llama-3.1-70b", data_kind="preferences", seq_len="8k")
    text = render_recipe(CATALOG, rec, rank_of(rec, "qlora", ("sft", "dpo")), "axolotl")
    sft, dpo = yaml_documents(text)
    assert sft["adapter"] == dpo["adapter"] == "qlora" and sft["deepspeed"] == "ds_z3_config.json"
    assert sft["gradient_checkpointing_kwargs"] == {"use_reentrant": True}
    assert dpo["rl"] == "dpo" and "gradient_checkpointing_kwargs" not in dpo
    head = " ".join(header_of(text).split())
    assert (
        "use_reentrant.sft = True <- axolotl utils/schemas/validation.py warn_qlora_zero3_w_use_reentrant"
        in head
    )
    assert "Gradient checkpointing in dpo (QLoRA under ZeRO-3) is non-reentrant" in head
    one_gpu = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="demonstrations")
    for other, rank in ((rec, rank_of(rec, "lora", ("sft", "dpo"))), (one_gpu, rank_of(one_gpu, "qlora"))):
        written = render_recipe(CATALOG, other, rank, "axolotl")
        assert not any("gradient_checkpointing_kwargs" in doc for doc in yaml_documents(written))
        assert "use_reentrant" not in written


def test_qlora_loaded_shard_by_shard_is_written_for_axolotl_under_fsdp(run: Runner) -> None:
    """A plan that fits only with its 4-bit base loaded shard by shard (70B on four 24 GB cards, as
    Answer.AI trained it) was refused by every format. axolotl loads a Llama or Mistral base so
    (qlora_sharded_model_loading under FSDP1, families.yaml fsdp_qlora_layer): `recipe` writes it
    with axolotl, sized so, without a DeepSpeed file; the DeepSpeed formats refuse it and name
    axolotl; recommend's recipe line and its YAML line say the same."""
    args = ("--gpu", "rtx-4090", "--gpus", "4", "--model", "llama-3.3-70b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "10k")
    written = ok(run("recipe", *args, "--trainer", "axolotl", "--out", "-"))
    config = yaml.safe_load(written.stdout.split("# --- sft.yaml", 1)[-1])
    assert config["qlora_sharded_model_loading"] is True and config["fsdp_version"] == 1
    fsdp = config["fsdp_config"]
    assert fsdp["cpu_ram_efficient_loading"] and fsdp["sync_module_states"] and not fsdp["use_orig_params"]
    assert fsdp["transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer" and "deepspeed" not in config
    head = " ".join(written.stdout.replace("#", " ").split())
    sized = r"sft [\d.]+ GB at batch \d+: fits .* with FSDP, the 4-bit base loaded shard by shard"
    assert re.search(sized, head)
    assert "PyTorch FSDP1 full sharding" in head and "ZeRO" not in head
    refused = run("recipe", *args, "--trainer", "python", "--out", "-")
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 2 and "--trainer axolotl writes it (FSDP)" in said
    # Without --trainer, the Python recipe passes it to axolotl where its own loss still fits (two
    # A100 40GB); where that is tight (four RTX 4090s), with the checkpoints in CPU RAM (a review:
    # the fall-over once wrote "DOES NOT FIT").
    a100 = ("--gpu", "a100-40gb", "--gpus", "2", "--model", "llama-3.1-70b", *args[6:])
    defaulted = ok(run("recipe", *a100, "--out", "-"))
    assert "so this is --trainer axolotl" in " ".join(defaulted.stderr.split())
    assert "qlora_sharded_model_loading: true" in defaulted.stdout
    offloaded = ok(run("recipe", *args, "--out", "-")).stdout
    assert "activation_offloading: hidden_states" in offloaded and "DOES NOT FIT" not in offloaded
    axolotl = ("recipe", *args, "--trainer", "axolotl", "--stack", "trl", "--out", "-")
    own_loss = fails(run(*axolotl, "--seq-len", "4k"), 2).stderr
    assert "even so this recipe's own settings need" in " ".join(own_loss.split())
    steps = ok(run("recommend", *args, "--json")).json()["next_steps"]
    assert steps["recipe"] is not None and steps["recipe_note"] is None
    shown = " ".join(ok(run("recommend", *args)).stdout.split())
    assert "As YAML: --trainer axolotl (sized again)" in shown


def test_qlora_loaded_shard_by_shard_is_refused_where_no_loader_documents_it(run: Runner) -> None:
    """A model type axolotl does not document that loading for (Qwen2), and a stage that is not
    supervised (DPO), are refused with why; loaded whole it would come within the cards' memory
    only past the safety margin, and no batch size lowers a loading peak (a review)."""
    base = ("--gpu", "a100-40gb", "--gpus", "2", "--examples", "10k")
    qwen = (*base, "--model", "qwen2.5-72b", "--goal", "chat", "--data-kind", "demonstrations")
    refused = run("recipe", *qwen, "--out", "-")
    said = " ".join(refused.stderr.split())
    assert refused.exit_code == 2 and "fits only with its 4-bit base loaded shard by shard" in said
    assert "not qwen2" in said and "docs/fsdp_qlora.qmd" in said
    assert ok(run("recommend", *qwen, "--json")).json()["next_steps"]["recipe"] is None
    shown = " ".join(ok(run("recommend", *qwen)).stdout.split())
    assert "Recipe: none: QLoRA with its base loaded shard by shard" in shown
    dpo = ("--gpu", "a100-40gb", "--gpus", "4", "--model", "llama-3.1-70b", "--goal", "align")
    told = run("recipe", *dpo, "--data-kind", "preferences", "--trainer", "axolotl", "--out", "-")
    assert told.exit_code == 2 and "for supervised stages only" in " ".join(told.stderr.split())


def test_qlora_with_its_base_in_cpu_ram_is_written_by_axolotl_and_refused_elsewhere() -> None:
    """The offload estimate is calibrated on FSDP-QLoRA runs (PEFT's 70B on 2x24 GB), but the
    recipe launched DeepSpeed ZeRO-3 with parameter offload, which with QLoRA uses more GPU memory
    than without offload (PEFT docs; an expert's review); an FSDP recipe would load the whole 4-bit
    model onto one GPU under transformers 5 (a review of one). axolotl loads it shard by shard and
    offloads it as its examples/llama-3/qlora-fsdp-70b.yaml does, so it writes the plan (another
    expert's review: "the canonical 70B at home case" had no recipe), with a torch optimizer: the
    offloaded parameters step on the CPU, which bitsandbytes' paged AdamW cannot."""
    rec = recommend(gpu="rtx-3090", gpus="2", model="llama-2-70b", goal="chat")
    assert rec.plans[0].method == "qlora" and rec.plans[0].offload == "params"
    for fmt in set(PYTORCH_FORMATS) - {"axolotl"}:
        with pytest.raises(UsageError, match="that is FSDP-QLoRA, which PEFT documents") as refused:
            render_recipe(CATALOG, rec, 1, fmt)
        said = " ".join(str(refused.value).split())
        assert "axolotl ships as examples/llama-3/qlora-fsdp-70b.yaml" in said  # a config that runs it
        assert "or --trainer axolotl, which writes it," in said
    text = render_recipe(CATALOG, rec, 1, "axolotl")
    (doc,) = yaml_documents(text)
    assert doc["fsdp_config"]["offload_params"] is True and doc["qlora_sharded_model_loading"] is True
    assert doc["optimizer"] == "adamw_torch_fused" and "deepspeed" not in doc
    said = " ".join(text.replace("#", " ").split())
    # A diff review: the RAM it needs is said, and DeepSpeed's CPU Adam, which FSDP never swaps in, is not.
    assert "the node needs about 10" in said and "DeepSpeedCPUAdam" not in said
    assert recipe_command(rec, 1) is not None
    # The plan without offload keeps QLoRA's paged AdamW (a diff review: it had been swapped too).
    l4 = recommend(gpu="l4", model="llama-3.1-8b", seq_len="8k", goal="chat", stack="hf")
    assert l4.plans[0].offload == "params" and 'optim = "paged_adamw_32bit"' in render_recipe(
        CATALOG, l4, 1, "python"
    )
    # A DeepSeek-R1 distill's answers are refused by axolotl too: no recipe line offered.
    r1 = recommend(gpu="rtx-3090", gpus="2", model="deepseek-r1-distill-llama-70b", goal="reasoning")
    assert r1.plans[0].offload == "params" and recipe_command(r1, 1) is None
    # Qwen's family names no decoder layer axolotl wraps: no recipe, and the note says what runs it.
    qwen = recommend(gpu="rtx-3090", gpus="2", model="qwen2.5-72b", goal="chat", data_kind="demonstrations")
    assert qwen.plans[0].method == "qlora" and qwen.plans[0].offload == "params"
    assert recipe_command(qwen, 1) is None and "FSDP-QLoRA" in (recipe_note(qwen, qwen.plans[0]) or "")


def test_the_next_steps_of_an_fsdp_qlora_plan_name_what_runs_it(run: Runner) -> None:
    """With no recipe to write, the next steps said 'the provider runs the training' (a hosted
    plan's words) for QLoRA with its base in CPU RAM."""
    out = ok(run("recommend", "--gpu", "rtx-3090", "--gpus", "2", "--model", "qwen2.5-72b", "--goal", "chat"))
    said = " ".join(out.stdout.split())
    assert "Recipe: none: FSDP-QLoRA (the quantized base in CPU RAM) runs with PEFT's" in said
    assert "or axolotl's examples/llama-3/qlora-fsdp-70b.yaml" in said
    assert "the provider runs the training" not in out.stdout


def test_a_plan_ranked_with_another_stack_keeps_its_recipe_line(run: Runner) -> None:
    """Ranked with --stack hf, QLoRA offloads its base; the Python recipe, sized with TRL's fused
    loss, fits it on the GPU alone and writes it: recommend said there was no recipe (a review).
    The YAML trainers, which run transformers' loss, refuse it and point at the Python recipe (with
    --stack hf; by themselves they turn their Liger option on and write LoRA)."""
    args = ("--model", "llama-3.1-8b", "--gpu", "l4", "--seq-len", "8k", "--goal", "chat")
    plans = ok(run("recommend", *args, "--stack", "hf", "--json")).json()
    assert plans["recommendations"][0]["assumptions"]["offload"] == "params"
    assert plans["next_steps"]["recipe"] is not None
    assert ok(run("recipe", *args, "--stack", "hf", "--out", "-")).stdout
    refused = run("recipe", *args, "--stack", "hf", "--trainer", "axolotl", "--out", "-")
    assert refused.exit_code == 2 and "or --trainer python, which writes it" in refused.stderr
    assert "LigerPlugin" in ok(run("recipe", *args, "--trainer", "axolotl", "--out", "-")).stdout


def test_an_fsdp_qlora_refusal_names_only_trainers_that_write_the_plan() -> None:
    """Llama-3.3-70B on 2 x RTX 3090 at 2k tokens: axolotl and LLaMA-Factory refused QLoRA with
    its base in CPU RAM and pointed at --trainer python, "whose fused loss may fit it", which
    refused the same plan (a review). Each format named is asked, and writes it; with the Python
    recipe's own fit (an 8B model at 8k on an L4), it is still named."""
    profiles = (
        dict(gpu="rtx-3090", gpus="2", model="llama-3.3-70b", goal="chat", data_kind="demonstrations"),
        dict(gpu="l4", model="llama-3.1-8b", seq_len="8k", goal="chat", stack="hf"),
    )
    named_somewhere = set()
    for raw in profiles:
        rec = recommend(examples="5k", **{"seq_len": "2k", **raw})
        assert rec.plans[0].method == "qlora" and rec.plans[0].offload == "params"
        writes = {fmt for fmt in PYTORCH_FORMATS if not fails_to_write(rec, fmt)}
        for fmt in set(PYTORCH_FORMATS) - writes:
            with pytest.raises(UsageError, match="that is FSDP-QLoRA") as refusal:
                render_recipe(CATALOG, rec, 1, fmt)
            offered = re.search(r"--trainer ([\w ]+), which writes it", str(refusal.value))
            named = set(offered.group(1).split(" or ")) if offered else set()
            assert named == writes - {fmt}, (raw, fmt, str(refusal.value))
            named_somewhere |= named
    # Not vacuous: the L4 plan names the Python recipe, the 70B's axolotl (FSDP with offload).
    assert named_somewhere == {"python", "axolotl"}


def fails_to_write(rec: Recommendation, fmt: str) -> bool:
    try:
        write_recipe(CATALOG, rec, 1, fmt)
    except UsageError:
        return True
    return False


def test_qlora_on_apple_silicon_offers_mlx_lm_not_a_recipe_it_refuses(run: Runner, tmp_path: Path) -> None:
    """On a Mac, QLoRA ranked first with `ft-atlas recipe ...` as its next step, which then refused
    it (bitsandbytes has no paged optimizer nor optimized 4-bit kernels on MPS: an expert's
    review). The next step is mlx-lm's recipe (`--trainer mlx`, LoRA on a model mlx_lm.convert
    quantizes, every layer adapted), into a directory; without --examples, which mlx-lm needs to
    count its iterations, it says so instead of offering a command that fails."""
    args = (
        "--gpu",
        "M3 Max 64GB",
        "--model",
        "gemma-3-27b-it",
        "--goal",
        "chat",
        "--data-kind",
        "demonstrations",
    )
    data = ok(run("recommend", *args, "--json")).json()
    assert data["recommendations"][0]["method"] == "qlora" and data["next_steps"]["recipe"] is None
    assert "none without --examples" in data["next_steps"]["recipe_note"]
    assert "--num-layers -1" in " ".join(ok(run("recommend", *args)).stdout.split())
    fails(run("recipe", *args), 2, "give --examples")
    counted = (*args, "--examples", "2k")
    steps = ok(run("recommend", *counted, "--json")).json()["next_steps"]
    assert steps["recipe"].endswith("--examples 2000 --trainer mlx") and steps["recipe_note"] is None
    printed = " ".join(ok(run("recommend", *counted)).stdout.split())
    assert f"Recipe: {steps['recipe']} --out recipe/" in printed
    assert "As YAML" not in printed  # LLaMA-Factory's QLoRA is bitsandbytes'
    command = shlex.split(steps["recipe"])[1:]  # what the user pastes, without the program name
    ok(run(*command, "--out", str(tmp_path / "recipe") + "/"))
    (config,) = yaml_documents((tmp_path / "recipe" / "sft.yaml").read_text(encoding="utf-8"))
    assert config["model"] == converted("google/gemma-3-27b-it", "4bit") and config["num_layers"] == -1
    assert f"mlx_lm.convert --model google/gemma-3-27b-it --mlx-path {config['model']} -q" in (
        tmp_path / "recipe" / "sft.yaml"
    ).read_text(encoding="utf-8")


def test_qlora_of_a_prequantized_checkpoint_offers_no_recipe_line(run: Runner) -> None:
    """With --stack unsloth, QLoRA of gpt-oss-20b ranks first (Unsloth trains a bitsandbytes copy
    of the checkpoint), but `recipe` refuses MXFP4 weights: recommend printed the recipe command
    for it (an expert's review). It says what to pass instead."""
    args = ("--gpu", "rtx-4090", "--model", "gpt-oss-20b", "--goal", "chat", "--data-kind", "demonstrations")
    data = ok(run("recommend", *args, "--stack", "unsloth", "--json")).json()
    assert data["recommendations"][0]["method"] == "qlora" and data["next_steps"]["recipe"] is None
    assert "stored as mxfp4" in data["next_steps"]["recipe_note"]
    lora = ok(run("recommend", *args, "--json")).json()["next_steps"]
    assert lora["recipe"] is not None and lora["recipe_note"] is None
    out = " ".join(ok(run("recommend", *args, "--stack", "unsloth")).stdout.split())
    assert "Recipe: none for this checkpoint: it is stored as mxfp4" in out
    fails(run("recipe", *args, "--stack", "unsloth"), 2, "stored as mxfp4")


def test_a_recipe_line_under_unsloth_says_the_recipe_trains_with_trl(run: Runner) -> None:
    """Unsloth quantizes Qwen3-30B-A3B's experts, so QLoRA fits a 4090 under --stack unsloth; the
    recipe is a TRL script that sizes it again (64 GB): the next steps say so (an expert's review)."""
    args = ("--gpu", "rtx-4090", "--model", "qwen3-30b-a3b", "--goal", "chat")
    args += ("--data-kind", "demonstrations")
    out = " ".join(ok(run("recommend", *args, "--stack", "unsloth")).stdout.split())
    assert "Recipe: ft-atlas recipe" in out and "The recipe trains with TRL, not Unsloth" in out
    assert "The recipe trains with TRL" not in " ".join(ok(run("recommend", *args)).stdout.split())


def test_an_fp8_checkpoint_trains_dequantized_as_mxfp4_does(run: Runner, tmp_path: Path) -> None:
    """DeepSeek-V3 is stored in FP8: loaded as stored, DeepSpeed casts the weights to bf16 and
    drops their scales (an expert's review); the recipes load it with FineGrainedFP8Config(
    dequantize=True), as LLaMA-Factory does, the way gpt-oss's MXFP4 loads with Mxfp4Config.
    (A Qwen3-8B stored in FP8 here: DeepSeek-V3 on one node needs more CPU RAM than it holds.)"""
    config = json.loads(
        (Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen3-8B.json").read_text("utf-8")
    )
    config["quantization_config"] = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    base = ("--gpu", "h100-80gb", "--gpus", "8", "--model", str(tmp_path), "--goal", "chat")
    base += ("--data-kind", "demonstrations")
    script = ok(run("recipe", *base)).stdout
    tree = ast.parse(script)
    assert "FineGrainedFP8Config(dequantize=True)" in script and "Mxfp4Config" not in script
    assert any(isinstance(n, ast.alias) and n.name == "FineGrainedFP8Config" for n in ast.walk(tree))
    axolotl = yaml.safe_load(ok(run("recipe", *base, "--trainer", "axolotl")).stdout)
    assert axolotl["model_quantization_config"] == "FineGrainedFP8Config"
    assert axolotl["model_quantization_config_kwargs"] == {"dequantize": True}


def test_rules_marked_for_recipes_are_repeated_in_the_header(run: Runner) -> None:
    """What the run itself runs into is said where the run starts: a rule with in_recipe puts
    its reason in the recipe header (Gemma 3 in fp16 on a T4; continued pre-training of an
    instruct model; all-linear LoRA that leaves a mixture of experts' experts out, unless
    --lora-experts writes them in)."""
    gemma = ("recipe", "--model", "gemma-3-4b-it", "--gpu", "t4", "--examples", "2k", "--out", "-")
    assert "# Note: Gemma 3 and 4 overflow in fp16" in run(*gemma).stdout
    # The recipe trains with TRL, not Unsloth: the rule holds for it whatever --stack ranked with
    # (on a V100, where TRL's software fits too; on the T4 only Unsloth's does).
    v100 = tuple("v100-32gb" if word == "t4" else word for word in gemma)
    assert "# Note: Gemma 3 and 4 overflow in fp16" in run(*v100, "--stack", "unsloth").stdout
    cpt = (
        "recipe",
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--gpu",
        "a100-80gb",
        "--goal",
        "knowledge",
    )
    cpt += (
        "--data-kind",
        "text",
        "--examples",
        "200k",
        "--plan",
        "2",
        "--trainer",
        "llamafactory",
        "--out",
        "-",
    )
    assert "# Note: Continued pre-training on raw text trains an instruct model away" in run(*cpt).stdout
    moe = ("recipe", "--model", "qwen3-30b-a3b", "--gpu", "h100-80gb", "--examples", "5k", "--out", "-")
    assert "# Note: LoRA adapts this mixture of experts' attention" in run(*moe).stdout
    assert "adapts this mixture of experts' attention" not in run(*moe, "--lora-experts").stdout


def test_online_rl_never_takes_layer_wise_galore() -> None:
    """GRPO's generation batch must be a multiple of num_generations, which gradient accumulation
    makes at micro-batch 1; layer-wise GaLore forbids accumulation, so GRPO plans take plain GaLore
    (the CPU training test caught 'generation_batch_size (1) must be divisible by 8')."""
    rec = recommend(gpu="rtx-3090", model="llama-3.1-8b", data_kind="reward-function")
    plan = rec.plans[rank_of(rec, "galore", ("grpo",)) - 1]
    assert plan.estimate is not None and not plan.estimate.settings.optimizer_in_backward
    sft = layer_wise_galore()
    offline = sft.rec.plans[sft.rank - 1]
    assert offline.estimate is not None and offline.estimate.settings.optimizer_in_backward


def test_axolotl_loads_a_kernel_for_a_family_without_sdpa() -> None:
    """gpt-oss has no SDPA kernel: axolotl recipes kept transformers' eager attention (an s x s
    matrix per head, sized so: 1.16x a measured axolotl run that loads FlashAttention 3, a review);
    they load the hub kernel axolotl's gpt-oss examples use, and are sized without the matrices."""
    rec = recommend(gpu="h100-80gb", model="gpt-oss-20b", goal="chat", examples="5k")
    recipe, rendered = write_recipe(CATALOG, rec, 1, "axolotl")
    config = yaml_documents(rendered.files[0].text)[0]
    assert config["attn_implementation"] == "kernels-community/vllm-flash-attn3"
    assert all(e.settings.attention_kernel for e in recipe.estimates.values())
    assert "pip install kernels" in " ".join(rendered.files[0].text.replace("#", " ").split())


def test_llamafactory_trains_an_instruct_model_on_conversations() -> None:
    """LLaMA-Factory's SFT read one prompt and one response per row (alpaca columns), so a chat
    recipe could not hold multi-turn conversations (an expert's review): an instruct model's SFT
    reads OpenAI-style messages (sharegpt formatting), as the axolotl and Python recipes do; a
    base model keeps prompt and completion."""

    def dataset_info(model: str) -> dict[str, Any]:
        rec = recommend(gpu="rtx-4090", model=model, goal="chat", data_kind="demonstrations", examples="5k")
        _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "llamafactory")
        line = next(ln for ln in rendered.files[0].text.splitlines() if "dataset_info.json must hold" in ln)
        found: dict[str, Any] = json.loads(line.split(": ", 1)[1])["ft_atlas_sft"]
        return found

    instruct = dataset_info("qwen3-8b")
    assert instruct["formatting"] == "sharegpt" and instruct["columns"] == {"messages": "messages"}
    assert instruct["tags"]["user_tag"] == "user" and instruct["tags"]["assistant_tag"] == "assistant"
    assert dataset_info("llama-3.1-8b")["columns"] == {"prompt": "prompt", "response": "completion"}


def test_llamafactory_conversations_say_how_tool_calls_are_read() -> None:
    """An expert's review: the Python recipe documents OpenAI-style tool rows, and LLaMA-Factory's
    sharegpt converter skips every such row as abnormal ('Invalid role tag'): the instruct recipe
    says the layout it reads (function_call and observation turns, a tools column)."""

    def text(model: str) -> str:
        rec = recommend(gpu="rtx-4090", model=model, goal="chat", data_kind="demonstrations", examples="5k")
        _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "llamafactory")
        return " ".join(rendered.files[0].text.split())

    said = text("qwen3-8b")
    assert '{"role": "function_call",' in said and '{"role": "observation",' in said
    assert "skipped as abnormal" in said
    assert "Tool calls" not in text("llama-3.1-8b")  # prompt and completion columns: no turns


@pytest.mark.parametrize(("method", "refused"), [("gptq", True), ("awq", True), ("bitsandbytes", False)])
def test_a_checkpoint_stored_in_4_bits_trains_adapters_and_gets_a_recipe_it_loads(
    tmp_path: Path, method: str, refused: bool
) -> None:
    """A GPTQ or AWQ 4-bit checkpoint ranked full fine-tuning first and wrote recipes that crash:
    the Trainer refuses purely quantized weights, and a BitsAndBytesConfig on a GPTQ checkpoint is
    an error at load (an expert's review). Full-parameter plans are left out, and no recipe is
    written for GPTQ or AWQ, whose kernels the recipes do not set up; a bitsandbytes one loads."""
    fixture = Path(__file__).parent / "fixtures" / "configs" / "meta-llama--Llama-3.1-8B.json"
    config = json.loads(fixture.read_text())
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    quant: dict[str, Any] = {"quant_method": method, "bits": 4}
    if method == "bitsandbytes":
        quant = {"quant_method": method, "load_in_4bit": True}
    (tmp_path / "config.json").write_text(json.dumps({**config, "quantization_config": quant}))
    rec = recommend(gpu="h100-80gb", model=str(tmp_path), goal="adapt", data_kind="demonstrations")
    assert not {"full-ft", "partial-ft", "galore", "bitfit"} & {p.method for p in rec.plans}
    full = next(p for p in rec.excluded if p.method == "full-ft")
    assert "quantized-checkpoint-trains-adapters-only" in full.rules
    rank = rank_of(rec, "qlora", ("sft",))
    assert rec.plans[rank - 1].estimate is not None
    assert rec.plans[rank - 1].estimate.settings.quant_bits == 4  # as stored
    if refused:
        with pytest.raises(UsageError, match=f"stored in 4 or 8 bits by {method}"):
            write_recipe(CATALOG, rec, rank, "python")
        assert recipe_command(rec, rank) is None
    else:
        write_recipe(CATALOG, rec, rank, "python")
        assert recipe_command(rec, rank) is not None


def test_axolotl_adapts_a_vision_language_model_s_text_layers_only() -> None:
    """axolotl's all-linear collects every leaf nn.Linear name, so SigLIP's projections got
    adapters too, though the header excluded the vision tower (an expert's review): the recipe
    names the text model's layers by path, as axolotl's Gemma 3 vision example does."""
    rec = recommend(gpu="rtx-4090", model="gemma-3-12b-it", goal="adapt", data_kind="demonstrations")
    _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "qlora", ("sft",)), "axolotl")
    config = yaml_documents(rendered.files[0].text)[0]
    assert "lora_target_linear" not in config
    pattern = re.compile(config["lora_target_modules"])
    assert pattern.fullmatch("model.language_model.layers.11.mlp.down_proj")
    assert pattern.fullmatch("model.language_model.layers.0.self_attn.q_proj")
    assert not pattern.fullmatch("model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj")
    # Llama 4 keeps its text layers elsewhere, and names its MLP feed_forward (a review).
    scout = (
        Path(__file__).parent
        / "fixtures"
        / "configs"
        / "meta-llama--Llama-4-Scout-17B-16E-Instruct.partial.json"
    )
    rec = recommend(
        gpu="h200", gpus="8", model=str(scout), goal="adapt", data_kind="demonstrations", stack="hf"
    )
    _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "axolotl")
    llama4 = re.compile(yaml_documents(rendered.files[0].text)[0]["lora_target_modules"])
    assert llama4.fullmatch("language_model.model.layers.3.feed_forward.shared_expert.down_proj")
    assert llama4.fullmatch("language_model.model.layers.3.self_attn.q_proj")


def test_a_checkpoint_stored_in_8_bits_by_bitsandbytes_is_sized_as_an_8_bit_base(tmp_path: Path) -> None:
    """transformers keeps the checkpoint's own quantization_config: an 8-bit bitsandbytes
    checkpoint trains on its 8-bit base, which the QLoRA estimate sized at 4 bits (a review)."""
    fixture = Path(__file__).parent / "fixtures" / "configs" / "meta-llama--Llama-3.1-8B.json"
    config = {k: v for k, v in json.loads(fixture.read_text()).items() if not k.startswith("_")}
    quant = {"quant_method": "bitsandbytes", "load_in_8bit": True}
    (tmp_path / "config.json").write_text(json.dumps({**config, "quantization_config": quant}))
    rec = recommend(gpu="h100-80gb", model=str(tmp_path), goal="adapt", data_kind="demonstrations")
    qlora = rec.plans[rank_of(rec, "qlora", ("sft",)) - 1]
    assert qlora.estimate is not None and qlora.estimate.settings.quant_bits == 8


def test_a_few_shot_plan_serves_a_prompt_that_holds_its_examples(run: Runner) -> None:
    """50 examples "fit in the prompt", yet the plan and its script were sized at 2,048 tokens,
    three 512-token examples (an expert's review): no-training plans serve 8,192 unless --seq-len."""
    profile = (
        "--gpu",
        "rtx-4090",
        "--model",
        "llama-3.1-8b",
        "--data-kind",
        "demonstrations",
        "--examples",
        "50",
    )
    plans = ok(run("recommend", *profile, "--json")).json()["recommendations"]
    served = {p["assumptions"]["seq_len"] for p in plans if p["kind"] == "no-training"}
    assert served == {8192}
    table = " ".join(ok(run("recommend", *profile, env={"COLUMNS": "200"})).stdout.split())
    assert "Prompting and retrieval: sized to serve prompts of 8192 tokens." in table
    icl = next(i for i, p in enumerate(plans, start=1) if p["method"] == "icl")
    assert "CONTEXT_TOKENS = 8192" in ok(run("recipe", *profile, "--plan", str(icl))).stdout
    # --seq-len is one training example's length: a prompt holds many, and a longer one whole.
    for given, served in (("512", 8192), ("16k", 16384)):
        plans = ok(run("recommend", *profile, "--seq-len", given, "--json")).json()["recommendations"]
        assert {p["assumptions"]["seq_len"] for p in plans if p["kind"] == "no-training"} == {served}
    rag = ok(
        run("estimate", "--method", "rag", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--json")
    ).json()
    assert rag["assumptions"]["seq_len"] == 8192  # estimate sizes it as recommend does
    # The longest prompt that fits is searched as such (--max), and a bare size keeps --seq-len.
    icl = ("estimate", "--method", "icl", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--json")
    assert 8192 < ok(run(*icl, "--max", "seq-len")).json()["max_seq_len"] < 1_000_000
    bare = ok(run("recommend", "--gpu", "h100", "--model-size", "8b", "--seq-len", "16k", "--json")).json()
    assert {p["assumptions"]["seq_len"] for p in bare["recommendations"] if p["kind"] == "no-training"} == {
        16384
    }


def test_sft_on_the_chosen_answers_has_a_data_path(run: Runner, tmp_path: Path) -> None:
    """SFT then DPO without demonstrations trains the SFT stage on the chosen answers, as the plan
    says, but the recipe asked for an sft.jsonl it never explained (an expert's review)."""
    profile = (
        "--gpu",
        "rtx-4090",
        "--model",
        "llama-3.1-8b",
        "--goal",
        "align",
        "--data-kind",
        "preferences",
    )
    script = ok(run("recipe", *profile)).stdout
    command = script[script.index("  python -c") : script.index("> sft.jsonl") + len("> sft.jsonl")]
    (tmp_path / "dpo.jsonl").write_text('{"prompt": "Q", "chosen": " A", "rejected": " B"}\n')
    subprocess.run(["bash", "-c", command.replace("python", sys.executable, 1)], cwd=tmp_path, check=True)
    assert json.loads((tmp_path / "sft.jsonl").read_text()) == {"prompt": "Q", "completion": " A"}
    assert "No demonstrations?" not in ok(run("recipe", *profile, "--sft-data", "yes")).stdout
    # The YAML trainers read the chosen answers from the pairs' own file.
    factory = ok(run("recipe", *profile, "--trainer", "llamafactory")).stdout
    assert (
        '"ft_atlas_sft": {"file_name": "dpo.jsonl", "columns": {"prompt": "prompt", "response": "chosen"}}'
        in factory
    )
    sft_stage = next(yaml.safe_load_all(ok(run("recipe", *profile, "--trainer", "axolotl")).stdout))
    assert sft_stage["datasets"][0]["path"] == "dpo.jsonl"
    assert sft_stage["datasets"][0]["type"]["field_output"] == "chosen"


def test_sft_on_the_liked_answers_has_a_data_path(run: Runner, tmp_path: Path) -> None:
    """SFT then KTO for a base model with ratings only: the SFT stage asked for an sft.jsonl the
    data does not hold. Every recipe says how to make it from the thumbs-up answers (the
    thumbs-down ones must not be imitated); the YAML trainers cannot filter by label, so they
    say it in a note."""
    profile = ("--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "align", "--data-kind", "ratings")
    rows = [
        {"prompt": "Q", "completion": " good", "label": True},
        {"prompt": "Q", "completion": " bad", "label": False},
    ]
    (tmp_path / "kto.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for trainer in ("python", "axolotl", "llamafactory"):
        text = " ".join(ok(run("recipe", *profile, "--trainer", trainer)).stdout.replace("#", " ").split())
        command = text[text.index("python -c") : text.index("> sft.jsonl") + len("> sft.jsonl")]
        subprocess.run(["bash", "-c", command.replace("python", sys.executable, 1)], cwd=tmp_path, check=True)
        assert json.loads((tmp_path / "sft.jsonl").read_text()) == {"prompt": "Q", "completion": " good"}
    assert "No demonstrations?" not in ok(run("recipe", *profile, "--sft-data", "yes")).stdout


@pytest.mark.parametrize("model", ["phi-4", "gemma-3-12b-it", "qwen3-30b-a3b"])
def test_ia3_names_its_modules_for_model_types_peft_has_no_default_for(model: str) -> None:
    """PEFT's IA3 defaults cover some model types only: for phi3, gemma3 and qwen3_moe
    IA3Config(task_type=...) alone raises 'Please specify target_modules' (an expert's review).
    The recipe writes the paper's keys, values and feed-forward input by name, and keeps a
    vision tower out, as it does for LoRA."""
    rec = recommend(gpu="h100-80gb", model=model, goal="chat", data_kind="demonstrations", examples="20k")
    rank = next(i for i, p in enumerate(rec.plans, start=1) if p.method == "ia3")
    settings = constants(render_recipe(CATALOG, rec, rank, "python"))["ADAPTER_SETTINGS"]
    assert {"k_proj", "v_proj", "down_proj"} <= set(settings["target_modules"])
    assert settings["feedforward_modules"] == ["down_proj"]
    assert ("exclude_modules" in settings) == (model == "gemma-3-12b-it")


@pytest.mark.parametrize(("model", "goal"), [("bert-base", "classify"), ("gpt2", "chat")])
def test_ia3_keeps_peft_defaults_where_it_has_them(model: str, goal: str) -> None:
    """BERT's attention is key/value/output.dense and GPT-2's c_attn/mlp.c_proj: Llama-style names
    matched nothing there (a review). PEFT's own defaults stand for the types it knows, and an
    encoder it does not know is refused (ModernBERT's modules are Wqkv, Wi, Wo)."""
    rec = recommend(gpu="rtx-3090", model=model, goal=goal, examples="5k")
    rank = next(i for i, p in enumerate(rec.plans, start=1) if p.method == "ia3")
    assert constants(render_recipe(CATALOG, rec, rank, "python"))["ADAPTER_SETTINGS"] == {}


def test_ia3_of_an_encoder_peft_has_no_defaults_for_is_refused(run: Runner) -> None:
    profile = ("--gpu", "rtx-4090", "--model", "answerdotai/ModernBERT-base", "--goal", "classify")
    data = ok(run("recommend", *profile, "--examples", "5k", "--top", "15", "--json")).json()
    rank = next(i for i, p in enumerate(data["recommendations"], start=1) if p["method"] == "ia3")
    fails(
        run("recipe", *profile, "--examples", "5k", "--plan", str(rank)),
        2,
        "no default modules for modernbert",
    )


def test_a_bitsandbytes_optimizer_is_a_required_module() -> None:
    """8-bit AdamW is bitsandbytes': without it the script failed inside create_optimizer, after
    loading the model, instead of at its own early check (a review)."""
    profile = {"gpu": "rtx-4090", "gpus": "2", "model": "llama-3.2-3b", "goal": "chat", "examples": "10k"}
    rec = recommend(**profile, priority="quality")
    values = constants(render_recipe(CATALOG, rec, 1, "python"))
    assert values["OPTIM"] == "adamw_bnb_8bit"
    assert "bitsandbytes" in values["REQUIRED_MODULES"]


def test_yaml_trainers_keep_a_qlora_bases_unquantized_weights_in_16_bit() -> None:
    """LLaMA-Factory never runs PEFT's prepare_model_for_kbit_training (it casts only trainable
    parameters to fp32), and axolotl runs it but casts the norms, embeddings and LM head back to the
    training dtype for any LoRA run (loaders/model.py should_convert): Qwen3-14B's stay bf16 in
    both, where plain transformers with PEFT (--stack hf) trains them in fp32. Reviews found
    each recipe sized ~3 GB too large."""
    rec = recommend(gpu="rtx-4090", model="qwen3-14b", goal="chat", data_kind="demonstrations", examples="5k")
    rank = rank_of(rec, "qlora")
    factory, _ = write_recipe(CATALOG, rec, rank, "llamafactory")
    axolotl, _ = write_recipe(CATALOG, rec, rank, "axolotl")
    weights = {r.estimates["sft"].breakdown["weights_gb"] for r in (factory, axolotl)}
    assert len(weights) == 1
    shape = factory.estimates["sft"].shape
    unquantized_gb = (shape.params - shape.linear_params) / 1e9
    sized = factory.estimates["sft"]
    upcast = estimator(sized.method, sized.memory_model, shape)(
        sized.settings._replace(kbit_preparation="upcast", stack="hf")
    )
    assert upcast.breakdown["weights_gb"] - weights.pop() == pytest.approx(2 * unquantized_gb, rel=0.05)


def test_apple_silicon_plans_only_optimizers_that_run_there() -> None:
    """Full fine-tuning in pure bf16 takes torchao's 8-bit AdamW, which compiles its step and is
    tested on CPU and CUDA only: a Mac ranked it as fitting, then its recipe was refused as
    'bitsandbytes'' (an expert's review). It is not planned there; axolotl's pure bf16 (it keeps
    no fp32 copy) is refused naming torchao and the trainers that write the plan."""
    profile = {"gpu": "m4-max", "goal": "chat", "data_kind": "demonstrations", "examples": "2k"}
    mac = recommend(**profile, model="qwen3-8b")
    assert all(p.estimate is None or p.estimate.settings.optimizer != "adamw-8bit-sr" for p in mac.plans)
    small = recommend(**profile, model="qwen3-1.7b")
    with pytest.raises(
        UsageError, match=r"torchao's adamw_torch_8bit, .* use --trainer python or llamafactory"
    ):
        render_recipe(CATALOG, small, rank_of(small, "full-ft", ("sft",)), "axolotl")
    assert "OPTIM = 'adamw_torch_fused'" in render_recipe(
        CATALOG, small, rank_of(small, "full-ft", ("sft",)), "python"
    )


def test_layer_wise_galore_trains_at_the_largest_micro_batch_that_fits() -> None:
    """Without accumulation its micro-batch is its whole batch: the fastest by the time model was
    1, 30,000 full-parameter updates of one sequence each (an expert's review); 8 fits."""
    rec = recommend(
        gpu="a100-40gb",
        model="qwen3-8b",
        goal="chat",
        data_kind="demonstrations",
        examples="10k",
        priority="speed",
    )
    rank = rank_of(rec, "galore")
    plan = rec.plans[rank - 1]
    assert plan.estimate is not None and plan.estimate.settings.optimizer_in_backward
    values = constants(render_recipe(CATALOG, rec, rank, "python"))
    assert values["BATCH_SIZE"] == {"sft": 8} and values["GRAD_ACCUM"] == {"sft": 1}


def test_galore_fine_tunes_at_the_papers_fine_tuning_scale() -> None:
    """transformers' default scale 0.25 is GaLore's pre-training value (lr 0.01): at 2e-5 it moves
    bf16 weights by less than their rounding step (a review). Fine-tuning takes 2, as the paper's
    GLUE runs and LLaMA-Factory do."""
    case = case_named("galore-sft-decoder")
    (doc,) = yaml_documents(render(case, "llamafactory"))
    assert doc["galore_scale"] == 2.0
    assert "scale=2.0" in constants(render(case, "python"))["EXTRA_TRAINING_ARGUMENTS"]["optim_args"]


def test_every_format_saves_five_checkpoints_and_keeps_two() -> None:
    """transformers saves every 500 steps and keeps them all: an 8B full fine-tune of 6,000 steps
    wrote 12 checkpoints of ~112 GB (a review). Each format saves at a share of the steps and
    keeps the latest two."""
    case = case_named("full-ft-sft-decoder")
    settings = constants(render(case, "python"))
    assert (settings["SAVE_EVERY"], settings["SAVE_KEEP"]) == (0.2, 2)
    for fmt in ("llamafactory", "axolotl"):
        (doc,) = yaml_documents(render(case, fmt))
        assert (doc["save_steps"], doc["save_total_limit"]) == (0.2, 2), fmt


def test_a_providers_endpoint_comes_from_the_knowledge_base(run: Runner, tmp_path: Path) -> None:
    """The endpoint and key variable a prompting recipe calls are the hosted offer's (data, not a
    list in Python), and its provider's name stays inside a comment whatever it holds."""
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    methods = kb / "methods.yaml"
    text = methods.read_text(encoding="utf-8")
    text = text.replace('"https://api.anthropic.com/v1/"', '"https://llm.example.test/v1/"')
    text = text.replace("provider: Anthropic API", 'provider: "Anthropic\\nimport os  # API"')
    methods.write_text(text, encoding="utf-8")
    args = ("--kb", str(kb), "recipe", "--model-access", "api", "--model", "claude-sonnet-4-5", "--out", "-")
    script = ok(run(*args, "--goal", "chat", "--data-kind", "demonstrations", "--examples", "300")).stdout
    compile(script, "icl.py", "exec")
    assert "default='https://llm.example.test/v1/'" in script and "default='ANTHROPIC_API_KEY'" in script
    assert not any(line.startswith("import os  #") for line in script.splitlines())


# --- mlx-lm on Apple silicon (--trainer mlx) ----------------------------------------------------

MAC = {"gpu": "m4-max", "goal": "chat", "data_kind": "demonstrations", "examples": "2k"}


def mlx_config(rec: Recommendation, rank: int) -> tuple[Recipe, dict[str, Any], Rendered]:
    recipe, rendered = write_recipe(CATALOG, rec, rank, "mlx")
    (doc,) = yaml_documents(rendered.text)
    check_mlx_keys(doc)
    return recipe, doc, rendered


def test_mlx_writes_lora_with_every_setting_from_the_plan() -> None:
    """mlx-lm trains for a number of iterations (batches), not epochs, and its LoRA adds
    scale * x A B where PEFT adds alpha / r times the same: every value of the config is the plan's,
    counted as mlx-lm counts it, and the header lists each with its source."""
    rec = recommend(**MAC, model="qwen3-1.7b")
    recipe, doc, rendered = mlx_config(rec, rank_of(rec, "lora", ("sft",)))
    rank, alpha = recipe.value("lora.r"), recipe.value("lora.alpha")
    assert (doc["model"], doc["fine_tune_type"], doc["num_layers"]) == ("Qwen/Qwen3-1.7B", "lora", -1)
    assert doc["lora_parameters"] == {
        "rank": rank,
        "scale": alpha / rank,
        "dropout": recipe.value("lora.dropout"),
    }
    batch, accumulation = recipe.value("batch.sft"), recipe.value("grad_accum.sft")
    assert (doc["batch_size"], doc["grad_accumulation_steps"]) == (batch, accumulation)
    assert doc["learning_rate"] == recipe.value("lr.sft") == 2e-4
    assert doc["max_seq_length"] == recipe.value("seq_len") and doc["grad_checkpoint"] is True
    # 2,000 rows, 100 held out; mlx-lm drops an epoch's last partial batch and steps the optimizer
    # every grad_accumulation_steps iterations: whole optimizer steps covering 3 epochs.
    steps = math.ceil(math.ceil(3 * (1900 // batch)) / accumulation)
    assert doc["iters"] == steps * accumulation
    warmup = math.ceil(0.1 * steps)
    assert doc["lr_schedule"] == {
        "name": "cosine_decay",
        "warmup": warmup,
        "warmup_init": 0.0,
        "arguments": [2e-4, steps - warmup, 0.0],
    }
    assert doc["steps_per_eval"] == doc["save_every"] == math.ceil(doc["iters"] / 5)
    assert doc["val_batches"] == -1 and doc["adapter_path"] == "adapters/sft"
    assert (doc["data"], doc["mask_prompt"]) == ("data", True)
    assert doc["optimizer_config"] == {"adamw": {"weight_decay": 0.0, "bias_correction": True}}
    assert rendered.launch == "mlx_lm.lora --config sft.yaml"
    head = header_of(rendered.text)
    assert "Written for: mlx-lm 0.32.0 (ml-explore/mlx-lm@d78bf58e21" in head
    for key in recipe.settings:
        assert f"{key} = " in head, key
    assert f"iters.sft = {doc['iters']}  <- 3 epochs x {1900 // batch} batches of {batch}" in head
    assert "save.keep" not in recipe.settings  # mlx-lm keeps every checkpoint, and says so
    assert "keeps them all (no save_total_limit)" in head
    (estimate,) = recipe.estimates.values()
    assert (estimate.settings.stack, estimate.settings.optimizer) == ("mlx", "adamw")
    assert recipe.value("optim") == "adamw" and 'optim = "adamw"  <- mlx-lm\'s adamw' in head
    assert "mlx-lm evaluates the whole valid.jsonl (val_batches: -1) at the first iteration" in head
    assert "Memory: estimated as mlx-lm runs these settings (stack mlx: its bf16 logits" in head


def test_mlx_sizes_its_own_optimizer_and_keeps_mlx_lm_s_scale_without_an_alpha() -> None:
    """Whatever optimizer the plan was sized with, mlx-lm runs its AdamW, and the recipe is sized
    with that; a knowledge base without LoRA's alpha leaves mlx-lm's own scale (its default, 20)."""
    rec = recommend(**MAC, model="qwen3-1.7b")
    plan = rec.plans[rank_of(rec, "lora", ("sft",)) - 1]
    assert plan.estimate is not None
    sgd = plan.estimate._replace(settings=plan.estimate.settings._replace(optimizer="sgd"))
    recipe, _, _ = mlx_config(rec._replace(plans=(plan._replace(estimate=sgd),)), 1)
    assert recipe.estimates["sft"].settings.optimizer == "adamw"
    catalog = with_values("lora", lora_alpha=None)
    plain = Engine(catalog).recommend(build_profile({**MAC, "model": "qwen3-1.7b"}))
    _, rendered = write_recipe(catalog, plain, rank_of(plain, "lora", ("sft",)), "mlx")
    (doc,) = yaml_documents(rendered.text)
    assert doc["lora_parameters"]["scale"] == 20.0 and "mlx-lm's default" in header_of(rendered.text)


def test_mlx_splits_the_data_into_the_files_it_reads(tmp_path: Path) -> None:
    """mlx-lm reads data/train.jsonl and data/valid.jsonl and holds nothing out: the config's
    first comment makes them, seeded, from the rows the other formats read."""
    rec = recommend(**MAC, model="qwen3-1.7b")
    _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "mlx")
    (command,) = re.findall(r"^#   (python -c .*)$", rendered.text, flags=re.M)
    rows = [json.dumps({"prompt": f"q{i}", "completion": f" a{i}"}) for i in range(2000)]
    (tmp_path / "sft.jsonl").write_text("\n".join(rows) + "\n\n", encoding="utf-8")  # a blank line
    subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, check=True)
    split = {
        name: (tmp_path / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        for name in ("train", "valid")
    }
    assert (len(split["train"]), len(split["valid"])) == (1900, 100)
    assert sorted(split["train"] + split["valid"]) == sorted(rows)
    # Run again, it refuses to write over the split it made (or the user's own files).
    again = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode != 0 and "move them away to split again" in again.stderr
    (tmp_path / "data" / "valid.jsonl").unlink()  # the user's own train.jsonl alone: nothing written
    refused = subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, capture_output=True)
    assert refused.returncode != 0 and not (tmp_path / "data" / "valid.jsonl").exists()
    assert (tmp_path / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines() == split["train"]


def test_mlx_joins_a_llama_3_base_models_rows_into_text(tmp_path: Path) -> None:
    """An expert's review: for Llama 3.1 base the mlx recipe wrapped prompt/completion rows in the
    llama3 chat template, whose special tokens the base never trained (the Python recipe swaps in
    a plain template, LLaMA-Factory's writes template: default); it only warned. The split joins
    each row into {"text": prompt + completion} and trains all of it."""
    rec = recommend(**MAC, model="llama-3.1-8b")
    _, rendered = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "mlx")
    assert "mask_prompt: false" in rendered.text and "this base model never trained" in rendered.text
    (command,) = re.findall(r"^#   (python -c .*)$", rendered.text, flags=re.M)
    rows = [json.dumps({"prompt": f"q{i}", "completion": f" a{i}"}) for i in range(200)]
    (tmp_path / "sft.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, check=True)
    written = [
        json.loads(line)
        for name in ("train", "valid")
        for line in (tmp_path / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(r["text"] for r in written) == sorted(f"q{i} a{i}" for i in range(200))
    instruct = recommend(**MAC, model="qwen3-1.7b")
    _, kept = write_recipe(CATALOG, instruct, rank_of(instruct, "lora", ("sft",)), "mlx")
    assert "mask_prompt: true" in kept.text


def test_mlx_qlora_is_lora_on_a_model_mlx_lm_quantizes() -> None:
    """mlx-lm trains QLoRA when its model is quantized: the recipe converts the checkpoint once
    (4 bits, groups of 64, as the plan assumed), trains LoRA on it, and drops bitsandbytes' NF4
    settings, which it does not use; nothing of the quantized model is upcast."""
    rec = recommend(**{**MAC, "gpu": "M3 Max 64GB"}, model="gemma-3-27b-it")
    assert rec.plans[0].method == "qlora"
    recipe, doc, rendered = mlx_config(rec, 1)
    path = converted("google/gemma-3-27b-it", "4bit")
    assert doc["model"] == path and doc["fine_tune_type"] == "lora" and doc["num_layers"] == -1
    convert = (
        f"mlx_lm.convert --model google/gemma-3-27b-it --mlx-path {path} -q --q-bits 4 --q-group-size 64"
    )
    assert rendered.launch == f"test -d {path} || {convert} && mlx_lm.lora --config sft.yaml"
    assert f"#   {convert}\n" in rendered.text
    assert recipe.value("quant.bits") == 4 and recipe.value("quant.group_size") == 64
    assert not {"quant.type", "quant.double", "lora.exclude"} & set(recipe.settings)
    assert recipe.estimates["sft"].settings.kbit_preparation == "none"
    assert "with mask_prompt mlx-lm trains the last message only" in header_of(rendered.text)
    assert "4.5 bits, where NF4 takes 4.13" in header_of(rendered.text)


def test_mlx_trains_full_weights_in_fp32_and_partial_fine_tuning_on_the_top_blocks() -> None:
    """mlx-lm's optimizers update a weight in its own dtype: bf16 weights would round lr ~1e-5
    updates away (no master copy), so full and partial fine-tuning convert the model to fp32 and
    are sized so; partial fine-tuning is `full` on the top --num-layers blocks."""
    rec = recommend(**MAC, model="qwen3-1.7b")
    full, doc, rendered = mlx_config(rec, rank_of(rec, "full-ft", ("sft",)))
    assert (doc["model"], doc["fine_tune_type"], doc["num_layers"]) == (
        converted("Qwen/Qwen3-1.7B", "fp32"),
        "full",
        -1,
    )
    assert "lora_parameters" not in doc and "--dtype float32 && mlx_lm.lora" in rendered.launch
    assert full.value("precision") == full.estimates["sft"].settings.precision == "fp32"
    assert "not the embeddings, the final norm or the LM head" in header_of(rendered.text)
    python, _ = write_recipe(CATALOG, rec, rank_of(rec, "full-ft", ("sft",)), "python")
    assert python.value("precision") == "bf16"  # PyTorch keeps an fp32 master copy instead
    partial, doc, _ = mlx_config(rec, rank_of(rec, "partial-ft", ("sft",)))
    assert partial.model is not None and partial.model.layers == 28
    assert (doc["fine_tune_type"], doc["num_layers"]) == ("full", 7)  # the top quarter


def test_mlx_masks_prompts_and_reads_the_rows_the_other_formats_read() -> None:
    """SFT trains the completion (a base model's prompt/completion rows) or a conversation's last
    message (an instruct model's); continued pre-training trains every token of text.jsonl, which
    mlx-lm neither packs nor splits."""
    base = recommend(**MAC, model="qwen2.5-1.5b")
    _, doc, rendered = mlx_config(base, rank_of(base, "lora", ("sft",)))
    assert doc["mask_prompt"] is True and "open('sft.jsonl'" in rendered.text
    assert 'sft.jsonl rows are {"prompt": "...", "completion": "..."}' in header_of(rendered.text)
    text = recommend(**{**MAC, "data_kind": "text"}, model="llama-3.1-8b")
    recipe, doc, rendered = mlx_config(text, rank_of(text, "lora", ("continued-pretraining",)))
    assert doc["mask_prompt"] is False and "open('text.jsonl'" in rendered.text
    assert recipe.value("packing.continued-pretraining") is False
    assert "split documents into pieces of at most 2048 tokens first" in header_of(rendered.text)


def test_mlx_pads_each_example_alone() -> None:
    """mlx-lm has no packing: --packing is not written, nor sized, and no packing note follows."""
    rec = recommend(**MAC, model="qwen3-1.7b", packing="true")
    rank = rank_of(rec, "lora", ("sft",))
    recipe, _, rendered = mlx_config(rec, rank)
    assert recipe.value("packing.sft") is False and "mlx-lm pads each example alone" in header_of(
        rendered.text
    )
    assert "Packing without FlashAttention 2" not in rendered.text
    assert write_recipe(CATALOG, rec, rank, "python")[0].value("packing.sft") is True


def test_mlx_holds_out_at_least_one_batch_or_nothing() -> None:
    """mlx-lm evaluates in whole batches and stops on a set smaller than one: the held-out rows
    are at least a batch, or none (too few examples), and then nothing is evaluated."""
    rec = recommend(**{**MAC, "examples": "400", "batch_size": "32"}, model="qwen3-1.7b")
    recipe, doc, rendered = mlx_config(rec, rank_of(rec, "lora", ("sft",)))
    assert doc["batch_size"] == 32 and recipe.value("eval.rows.sft") == 32
    assert "''.join(rows[:32])" in rendered.text and doc["iters"] == 3 * (368 // 32)
    few = recommend(**{**MAC, "examples": "60"}, model="qwen3-1.7b")
    recipe, doc, rendered = mlx_config(few, rank_of(few, "lora", ("sft",)))
    assert (
        not {"steps_per_eval", "val_batches"} & set(doc) and "valid.jsonl').write_text" not in rendered.text
    )
    assert "every row training" in header_of(rendered.text)


def test_mlx_loads_a_checkpoint_stored_in_fp32_as_bf16() -> None:
    """mlx-lm computes in the dtype it loads: GPT-2's fp32 checkpoint is converted to the bf16
    the plan was sized for; a bf16 checkpoint loads as it is (test above)."""
    rec = recommend(**MAC, model="gpt2")
    _, doc, rendered = mlx_config(rec, rank_of(rec, "lora", ("sft",)))
    assert (
        doc["model"] == converted("openai-community/gpt2", "bf16")
        and "--dtype bfloat16 && mlx_lm.lora" in rendered.launch
    )
    _, _, rendered = mlx_config(rec, rank_of(rec, "qlora", ("sft",)))  # its unquantized norms too
    assert "-q --q-bits 4 --q-group-size 64 --dtype bfloat16 && mlx_lm.lora" in rendered.launch


def test_mlx_lora_on_a_mixture_of_experts_counts_its_routed_experts() -> None:
    """mlx-lm's LoRA adapts every linear layer of a block, the routed experts too
    (LoRASwitchLinear): the plan `recommend` ranks on the mlx stack and the recipe are sized with
    them (a review: 66 GB ranked, 35 GB in the recipe), and the mlx config says nothing of PEFT's
    target_parameters; the Python recipe of that plan adapts them with PEFT's. DoRA cannot adapt
    them, so a DoRA plan is refused."""
    rec = recommend(**MAC, model="qwen3-30b-a3b")
    rank = rank_of(rec, "lora", ("sft",))
    ranked = rec.plans[rank - 1].estimate
    assert ranked is not None and ranked.settings.lora_experts
    recipe, _, rendered = mlx_config(rec, rank)
    assert recipe.lora_experts and recipe.estimates["sft"].settings.lora_experts
    assert recipe.value("lora.experts") is True and "target_parameters" not in rendered.text
    python, text = write_recipe(CATALOG, rec, rank, "python")
    assert python.estimates["sft"].settings.lora_experts and "target_parameters" in text.text
    qlora, _, _ = mlx_config(rec, rank_of(rec, "qlora", ("sft",)))
    assert qlora.estimates["sft"].settings.quantized_experts  # mlx_lm.convert -q quantizes them
    ranked_qlora = rec.plans[rank_of(rec, "qlora", ("sft",)) - 1]  # and recommend counts them so
    assert ranked_qlora.quantized_experts and ranked_qlora.memory_gb is not None
    assert ranked_qlora.memory_gb == pytest.approx(qlora.estimates["sft"].per_gpu_gb, rel=0.05)
    with pytest.raises(UsageError, match="SwitchLinear doesn't support DoRA yet"):
        render_recipe(CATALOG, rec, rank_of(rec, "dora", ("sft",)), "mlx")
    asked = recommend(**MAC, model="qwen3-30b-a3b", lora_experts="true")  # PEFT's names: not mlx-lm's
    recipe, _, rendered = mlx_config(asked, rank_of(asked, "lora", ("sft",)))
    assert "lora.expert_parameters" not in recipe.settings and "target_parameters" not in rendered.text


def test_mlx_trains_one_supervised_stage_counted_from_the_examples_and_says_why_not() -> None:
    """mlx-lm has no preference or RL trainer, trains one stage a run, counts iterations (so it
    needs --examples), loads a pre-quantized checkpoint in a form of its own, and names the
    layers it adapts by their path in a block: each is refused with its reason."""
    prefs = recommend(**{**MAC, "data_kind": "preferences"}, model="qwen3-1.7b")
    with pytest.raises(UsageError, match=r"no preference or reinforcement-learning trainer.*not DPO"):
        render_recipe(CATALOG, prefs, rank_of(prefs, "lora", ("dpo",)), "mlx")
    uncounted = recommend(**{**MAC, "examples": None}, model="qwen3-1.7b")
    with pytest.raises(UsageError, match="give --examples N"):
        render_recipe(CATALOG, uncounted, 1, "mlx")
    rec = recommend(**MAC, model="qwen3-1.7b")
    lora = rec.plans[rank_of(rec, "lora", ("sft",)) - 1]
    two = rec._replace(plans=(lora._replace(pipeline=("continued-pretraining", "sft")),))
    with pytest.raises(UsageError, match="one stage per run"):
        render_recipe(CATALOG, two, 1, "mlx")
    mxfp4 = recommend(**MAC, model="gpt-oss-20b")
    with pytest.raises(UsageError, match="stored as mxfp4"):
        render_recipe(CATALOG, mxfp4, rank_of(mxfp4, "lora", ("sft",)), "mlx")
    catalog = with_values("lora", target_modules=["q_proj", "v_proj"])  # type: ignore[arg-type]
    named = Engine(catalog).recommend(build_profile({**MAC, "model": "qwen3-1.7b"}))
    with pytest.raises(UsageError, match=r"lora_parameters\.keys"):
        render_recipe(catalog, named, rank_of(named, "lora", ("sft",)), "mlx")


def test_the_kto_script_balances_imbalanced_labels(run: Runner) -> None:
    """An expert's review: the KTO recipe wrote desirable_weight = undesirable_weight = 1.0 for
    thumbs-up/down logs, which are rarely balanced; TRL's docs ask for 1:1 to 4:3 once weighted."""
    args = (
        "--gpu",
        "a100-80gb",
        "--model",
        "qwen2.5-7b-instruct",
        "--goal",
        "align",
        "--data-kind",
        "ratings",
    )
    script = ok(run("recipe", *args, "--examples", "20k")).stdout
    assert "Thumbs-up/down logs are rarely balanced" in script  # the rule, in the header
    tree = ast.parse(script)
    (function,) = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "balanced_kto_weights"
    ]
    namespace: dict[str, Any] = {"Dataset": object, "Any": Any}
    exec(compile(ast.Module([function], []), "recipe", "exec"), namespace)  # the script's own function

    class Rows(dict[str, list[bool]]):
        @property
        def column_names(self) -> list[str]:
            return list(self)

        def __len__(self) -> int:
            return len(next(iter(self.values())))

    def weigh(rows: Rows, **configured: float) -> dict[str, float]:
        return dict(namespace["balanced_kto_weights"](rows, configured))

    assert weigh(Rows(chosen=[True], rejected=[True])) == {}  # pairs: TRL unpairs them, balanced
    assert weigh(Rows(label=[True] * 900 + [False] * 100)) == {
        "desirable_weight": 1.0,
        "undesirable_weight": 9.0,
    }
    assert weigh(Rows(label=[True] * 100 + [False] * 400))["desirable_weight"] == 4.0
    assert weigh(Rows(label=[True] * 120 + [False] * 100)) == {
        "desirable_weight": 1.0,
        "undesirable_weight": 1.0,
    }
    # The knowledge base's weights are the start (an attacker's note: they were replaced by 1.0):
    # balanced once weighted, they are kept; else the rarer one is set against the other's.
    assert weigh(Rows(label=[True] * 100 + [False] * 100), desirable_weight=1.2) == {
        "desirable_weight": 1.2,
        "undesirable_weight": 1.0,
    }
    assert weigh(Rows(label=[True] * 100 + [False] * 400), desirable_weight=2.0)["desirable_weight"] == 4.0
    assert (
        "settings.update(balanced_kto_weights(rows, settings))" in script
        and "stage_settings(args, stage, rows)" in script
    )
    assert "kto.desirable_weight = 1.0  <- the rarer label's weight is set from the data's counts" in script


@pytest.mark.parametrize("stack", [c.value for c in STACKS])
def test_every_stack_gets_a_recipe_or_a_note_on_a_cuda_gpu(run: Runner, stack: str) -> None:
    """`recipe --stack mlx` on an RTX 4090 was an internal error (no note said where mlx-lm runs);
    then it sized mlx-lm's memory for a card mlx-lm cannot run on (a review): refused."""
    args = ("--gpu", "rtx-4090", "--model-size", "3b", "--goal", "chat", "--data-kind", "demonstrations")
    given = run("recipe", *args, "--examples", "500", "--stack", stack)
    if stack == "mlx":
        fails(given, 2, "--stack mlx does not run on rtx-4090: mlx-lm trains on Apple silicon only")
        return
    written = ok(given).stdout
    if stack in ("liger", "unsloth"):  # no Python recipe runs them: the header says where
        assert f"--stack {stack}: this recipe's trainer does not run it here" in " ".join(written.split())


def test_mlx_is_refused_on_a_gpu_known_by_its_memory_alone(run: Runner) -> None:
    """A review: --vram 24 --gpus 4 --stack mlx sized mlx-lm's memory as data parallel over 4."""
    given = run("recommend", "--vram", "24", "--gpus", "4", "--stack", "mlx")
    fails(given, 2, "--stack mlx does not run on a GPU known by its memory alone")
    ok(run("recommend", "--vram", "24", "--stack", "liger", "--json"))  # it may be NVIDIA's or AMD's


@pytest.mark.parametrize("stack", ["liger", "unsloth"])
def test_a_triton_stack_is_refused_on_a_mac(run: Runner, stack: str) -> None:
    fails(
        run("recommend", "--gpu", "M3 Max 36GB", "--model", "llama-3.1-8b", "--stack", stack),
        2,
        f"--stack {stack} does not run on apple-m3-max: its kernels are Triton's",
    )


def test_mlx_runs_on_apple_silicon_only_and_names_the_formats_that_write_the_plan(run: Runner) -> None:
    args = ("recipe", "--model", "llama-3.1-8b", "--goal", "chat", "--trainer", "mlx")
    fails(
        run(*args, "--gpu", "rtx-3090"),
        2,
        "--trainer mlx runs on GPUs by apple only, and this profile's GPU is rtx-3090, by nvidia",
        "--trainer axolotl or llamafactory or python writes this plan",
    )
    fails(run(*args, "--vram", "24"), 2, "this profile's GPU is known by its memory alone")
    fails(run(*args, "--gpu", "none"), 2, "this profile has no GPU")


def test_the_mlx_validator_refuses_what_mlx_lm_would_ignore_or_reject() -> None:
    """Negative controls: mlx_lm.lora copies a config's keys into its arguments and never reads an
    unknown one, so a misspelt or PyTorch-only key trains with mlx-lm's default silently."""
    rec = recommend(**MAC, model="qwen3-1.7b")
    _, doc, _ = mlx_config(rec, rank_of(rec, "lora", ("sft",)))
    for wrong in (
        {"epochs": 3},
        {"lora_rank": 16},
        {"optimizer": "paged_adamw_32bit"},
        {"lora_parameters": {"rank": 16, "dropout": 0.0}},  # no scale: mlx-lm's KeyError
        {"lora_parameters": {**doc["lora_parameters"], "alpha": 32}},
        {"optimizer_config": {"adamw": {"weight_decay": 0.0, "fused": True}}},
        {"lr_schedule": {**doc["lr_schedule"], "warmup_ratio": 0.1}},
        {"iters": 10.5},
        {"mask_prompt": "yes"},
    ):
        with pytest.raises(AssertionError):
            check_mlx_keys({**doc, **wrong})


def converted(model: str, kind: str) -> str:
    """Where an mlx recipe converts `model` to: its last path part and a digest of the whole."""
    last = model.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip("-.")
    return f"mlx_models/{name}-{hashlib.sha256(model.encode()).hexdigest()[:8]}-{kind}"


def test_mlx_models_of_one_name_convert_apart(tmp_path: Path) -> None:
    """An attacker's review: the Run line converts only where the directory is missing, and
    runs/a/model and runs/b/model (or meta-llama/X and unsloth/X) shared one converted copy: the
    second recipe trained the first model."""
    paths = []
    for run in ("a", "b"):
        model = tmp_path / run / "model"
        model.mkdir(parents=True)
        shutil.copyfile(
            Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen3-1.7B.json", model / "config.json"
        )
        (model / "model.safetensors").write_bytes(b"")
        rec = recommend(**MAC, model=str(model))
        paths.append(mlx_config(rec, rank_of(rec, "qlora", ("sft",)))[1]["model"])
    assert paths[0] != paths[1] and all(p.startswith("mlx_models/model-") for p in paths)


def test_a_path_llama_factory_would_read_as_an_interpolation_is_refused_for_it(tmp_path: Path) -> None:
    """An attacker's review: LLaMA-Factory loads its YAML with OmegaConf, whose parser refuses an
    unfinished interpolation in any value; a directory named weights${v1 was written (exit 0) and
    failed there. The other trainers write it as data."""
    model = tmp_path / "weights${v1"
    model.mkdir()
    shutil.copyfile(
        Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen3-1.7B.json", model / "config.json"
    )
    (model / "model.safetensors").write_bytes(b"")
    rec = recommend(gpu="a100-80gb", model=str(model), goal="chat")
    with pytest.raises(UsageError, match="OmegaConf"):
        write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "llamafactory")
    assert str(model) in write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "axolotl")[1].text


def test_a_model_path_reaches_the_mlx_recipe_as_data(tmp_path: Path) -> None:
    """A --model directory's name goes into the config (YAML-quoted), the run line (shell-quoted:
    bash runs it with the commands stubbed, and they get exactly the path) and a comment
    (escaped); the converted model's directory is named in safe characters. A name with a line
    break is refused: it would forge a line of the notes (an attacker's review)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    with pytest.raises(UsageError, match="holds a control character"):
        recommend(**MAC, model=str(tmp_path / "a\nb"))
    model = tmp_path / 'my model\'s "dir"; $(touch owned) x'
    model.mkdir()
    fixture = Path(__file__).parent / "fixtures" / "configs" / "Qwen--Qwen3-1.7B.json"
    (model / "config.json").write_text(fixture.read_text(encoding="utf-8"), encoding="utf-8")
    (model / "model.safetensors").write_bytes(b"")  # a downloaded model: the recipe loads the folder
    rec = recommend(**MAC, model=str(model))
    _, doc, rendered = mlx_config(rec, rank_of(rec, "qlora", ("sft",)))
    converted_to = converted(str(model), "4bit")
    assert converted_to.startswith("mlx_models/my-model-s-dir-touch-owned-x-")
    assert doc["model"] == converted_to and "\n" not in rendered.launch
    stubs = 'test() { return 1; }; mlx_lm.convert() { printf "%s\\0" "$@" > args; }; mlx_lm.lora() { :; }; '
    subprocess.run([bash, "-c", stubs + rendered.launch], cwd=tmp_path, check=True)
    args = (tmp_path / "args").read_text(encoding="utf-8").split("\0")[:-1]
    assert (
        args[:4] == ["--model", str(model), "--mlx-path", converted_to] and not (tmp_path / "owned").exists()
    )
    _, lora, _ = mlx_config(rec, rank_of(rec, "lora", ("sft",)))  # loaded as it is
    assert lora["model"] == str(model)


def test_a_python_recipe_says_what_to_install_first(run: Runner) -> None:
    """A newcomer's review: on a clean machine the script died at `import torch`, before its own
    version check could say anything; the header now gives the install line, with trl at the
    version whose fused LM head the memory estimate assumes."""
    args = ("recipe", "--gpu", "rtx-3060-12gb", "--model", "llama-3-8b", "--goal", "chat")
    head = " ".join(ok(run(*args, "--data-kind", "demonstrations", "--examples", "2000")).stdout.split())
    setup = head.split("# Setup: pip install ", 1)[1].split(" # Run:", 1)[0].replace(" #", "")
    floors = {**MINIMUM_VERSIONS, "trl": FUSED_LM_HEAD_TRL}
    checked = [f"'{name}>={floors[name]}'" if name in floors else name for name in WRITTEN_FOR]
    assert setup.split() == [*checked, "bitsandbytes", "accelerate"]


def test_a_recipe_on_apple_silicon_defaults_to_mlx_where_it_writes_the_plan(run: Runner) -> None:
    """On a Mac the plans' own reasons call mlx-lm the practical trainer, yet `recipe` wrote a
    PyTorch script for MPS. Without --trainer it now writes mlx-lm's config where mlx-lm trains
    the plan, and the Python recipe, with a note saying why, where it does not; the plan is the
    one `recommend` ranked N (ranked as recommend ranks, mlx-lm's memory estimated in its header),
    and recommend's recipe line writes into a directory, which names each format's file."""
    mac = ("--gpu", "m4-max", "--model", "qwen3-1.7b", "--goal", "chat", "--examples", "2k")
    sft = (*mac, "--data-kind", "demonstrations")
    written = ok(run("recipe", *sft))
    assert "# ft-atlas recipe (mlx)" in written.stdout and written.stderr == ""
    listed = ok(run("recommend", *sft, "--json", "--top", "30")).json()
    full = next(i for i, p in enumerate(listed["recommendations"], 1) if p["method"] == "full-ft")
    for trainer in ((), ("--trainer", "mlx")):
        document = ok(run("recipe", *sft, "--plan", str(full), *trainer, "--json")).json()
        assert (document["trainer"], document["method"]) == ("mlx", "full-ft")
        assert document["profile"].get("stack") in (None, "mlx")  # ranked as recommend ranks: mlx-lm
        assert {stage["assumptions"]["stack"] for stage in document["memory"]} == {"mlx"}
    printed = " ".join(ok(run("recommend", *sft)).stdout.split())
    assert "--examples 2000 --out recipe/" in printed
    prefs = ok(run("recipe", *mac, "--data-kind", "preferences"))
    assert "# ft-atlas recipe (python)" in prefs.stdout
    assert (
        "--trainer mlx, the default on this GPU, does not write this plan, so this is --trainer python"
        in (" ".join(prefs.stderr.split()))
    )
    listed_icl = next(i for i, p in enumerate(listed["recommendations"], 1) if p["method"] == "icl")
    icl = ok(run("recipe", *sft, "--plan", str(listed_icl)))
    assert "# ft-atlas recipe (python)" in icl.stdout and icl.stderr == ""  # mlx-lm trains only
    uncounted = ok(run("recipe", "--gpu", "m4-max", "--model", "qwen3-1.7b", "--goal", "chat"))
    assert "# ft-atlas recipe (python)" in uncounted.stdout and "give --examples N" in uncounted.stderr
    cuda = ok(
        run("recipe", "--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--goal", "chat", "--examples", "2k")
    )
    assert "# ft-atlas recipe (python)" in cuda.stdout and cuda.stderr == ""


def test_the_mlx_recipe_sizes_mlx_lms_bf16_logits_and_agrees_with_the_ranking(run: Runner) -> None:
    """A newcomer's review: on a 16 GB MacBook Air `recommend` said LoRA fits (8.5 GB, TRL's fused
    head) and the mlx-lm recipe it pointed to said DOES NOT FIT (11.6 GB, transformers' fp32
    logits, an upper bound): mlx-lm's loss keeps bf16 logits (stack mlx), and recommend sizes a Mac's
    plans with it unless --stack says otherwise (it ranked with TRL's fused head, 1.5 GB less)."""
    mac = ("--gpu", "MacBook Air M2 16GB", "--model", "llama-3.2-3b", "--goal", "chat")
    sft = (*mac, "--data-kind", "demonstrations", "--examples", "500")
    top = ok(run("recommend", *sft, "--json")).json()["recommendations"][0]
    assert (top["method"], top["fit"]) == ("lora", "yes")
    written = ok(run("recipe", *sft, "--json")).json()
    (stage,) = written["memory"]
    assert (stage["assumptions"]["stack"], stage["fit"]) == ("mlx", "yes")
    hf = ok(
        run("estimate", *mac[:4], "--method", "lora", "--stack", "hf", "--seq-len", "2048", "--json")
    ).json()
    assert top["memory_gb"] == stage["per_gpu_gb"] < hf["per_gpu_gb"]  # mlx-lm's bf16 logits, not fp32
    trl = ok(run("recommend", *sft, "--stack", "trl", "--json")).json()["recommendations"][0]
    assert trl["memory_gb"] < top["memory_gb"]  # a stack given is kept
    timed = ok(run("estimate", *mac[:4], "--method", "lora", "--examples", "100", "--json")).json()
    assert timed["time"] is None and "none for Apple silicon" in timed["time_note"]


def test_qlora_with_a_preference_stage_on_apple_silicon_is_left_out() -> None:
    """An expert's review: a Mac's QLoRA DPO plan ranked 2nd without a word, and `recipe` refused
    it (mlx-lm trains no DPO; bitsandbytes has no fast 4-bit kernels on MPS): recommend leaves it
    out (rule apple-silicon-qlora-outside-mlx); its SFT plan stays."""
    rec = recommend(**{**MAC, "data_kind": "preferences"}, model="qwen3-1.7b")
    assert all(p.method != "qlora" for p in rec.plans)
    assert rank_of(recommend(**MAC, model="qwen3-1.7b"), "qlora", ("sft",))


def without_rule(rule: str) -> Engine:
    """An engine over the bundled knowledge base less one rule: what a knowledge base of one's own
    without it ranks."""
    data = bundled_sections()
    data["rules"] = [r for r in data["rules"] if r["id"] != rule]
    return Engine(Catalog(from_model(KnowledgeBase.model_validate(data))))


def write_kb_without_rule(directory: Path, rule: str) -> str:
    data = bundled_sections()
    data["rules"] = [r for r in data["rules"] if r["id"] != rule]
    return str(write_kb(directory, data))


def test_qlora_with_a_preference_stage_on_apple_silicon_offers_no_recipe_line() -> None:
    """mlx-lm trains QLoRA on a Mac, but no preference stage: such a plan, where a knowledge base
    ranks it, has no recipe command."""
    engine = without_rule("apple-silicon-qlora-outside-mlx")
    rec = engine.recommend(build_profile({**MAC, "data_kind": "preferences", "model": "qwen3-1.7b"}))
    rank = rank_of(rec, "qlora", ("dpo",))
    assert recipe_command(rec, rank) is None
    note = recipe_note(rec, rec.plans[rank - 1])
    assert note is not None and note.startswith("none on Apple silicon") and "one SFT or continued" in note
    with pytest.raises(UsageError) as refusal:  # no format trains it there: none is offered
        render_recipe(CATALOG, rec, rank, "python")
    said = str(refusal.value)
    assert "does not train the plan's dpo stage" in said
    assert "use mlx-lm's LoRA" not in said and "--trainer mlx" not in said


def test_a_trainer_without_plan_writes_the_best_plan_it_can_express(run: Runner) -> None:
    """Qwen3-30B-A3B with --lora-experts, ranked with transformers' loss: plan 1 (QLoRA with its
    experts in 4 bits) and plans 2-4 (prompt tuning, P-tuning, IA3) are
    plans LLaMA-Factory has no way to write, and a trainer refused plan 1 instead of writing the
    best plan it expresses (a review); in-context learning ranked between them is passed over, not a
    reason to stop. --plan 1 still refuses."""
    args = ("--gpu", "a100-80gb", "--model", "qwen3-30b-a3b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "20k", "--lora-experts")
    args += ("--trainer", "llamafactory", "--stack", "hf", "--json")  # without it, Liger's ranking
    written = ok(run("recipe", *args))
    assert written.json()["rank"] == 6 and written.json()["method"] == "dora"
    said = " ".join(written.stderr.split())
    assert "llamafactory cannot express plan 1 (QLoRA, SFT): the plan fits because the routed experts" in said
    passed = "nor plan 2 (Prompt tuning (soft prompts)), 3 (P-tuning), 4 (IA3)"
    # in-context learning, ranked 5th, is passed over as a training recipe's trainer writes no prompting
    assert f"{passed}, 5 (In-context learning (few-shot prompting)); so this is plan 6" in said
    refused = run("recipe", *args, "--plan", "1")
    assert refused.exit_code == 2 and "llamafactory cannot express plan 1" in refused.stderr


def test_a_trainer_passes_over_a_plan_that_trains_nothing(run: Runner) -> None:
    """Knowledge from documents ranks RAG first; LLaMA-Factory writes no RAG example, so --trainer
    llamafactory writes the best training plan and says why plan 1 was passed over."""
    args = ("--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--goal", "knowledge", "--examples", "2000")
    written = ok(run("recipe", *args, "--trainer", "llamafactory", "--json"))
    assert written.json()["rank"] == 2
    said = " ".join(written.stderr.split())
    assert "plan 1 (Retrieval-augmented generation (RAG)) trains nothing" in said
    assert "so this is plan 2, the best-ranked plan --trainer llamafactory writes" in said


def _after_training(text: str) -> str:
    """The header's "After training" line, its wrapped comment lines joined."""
    lines = text.split("# After training: ", 1)[1].splitlines()
    words = [lines[0]] + [line.removeprefix("#").strip() for line in lines[1:] if line.startswith("#   ")]
    return " ".join(" ".join(words).split())


@pytest.mark.parametrize(
    ("plan", "said", "unsaid"),
    [
        ("lora", "vllm serve meta-llama/Llama-3.1-8B --enable-lora --lora-modules tuned=", "4-bit"),
        ("qlora", "in 16 bits (not the 4-bit base it trained on", "vLLM loads plain"),
        ("dora", "merge it first (vLLM loads plain LoRA adapters only)", "--enable-lora"),
        # the merged folder needs the tokenizer too, which vLLM reads (an expert's review)
        ("lora", "AutoTokenizer.from_pretrained('ft-atlas-output/sft').save_pretrained('merged')", "4-bit"),
        ("full-ft", "ft-atlas-output/sft holds the whole model and its tokenizer", "adapter"),
        ("prompt-tuning", "They cannot be merged into the weights", "merge_and_unload"),
    ],
)
def test_a_python_recipe_says_how_to_use_what_it_trains(
    run: Runner, plan: str, said: str, unsaid: str
) -> None:
    """A newcomer's review: the recipe trained an adapter and never said how to load, merge or
    serve it. Each kind of result gets its own way (an adapter vLLM serves, one to merge first,
    virtual tokens that cannot be merged, a whole model)."""
    args = ("--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "chat", "--examples", "5000", "--json")
    plans = ok(run("recommend", *args, "--top", "20")).json()["recommendations"]
    rank = next(p["rank"] for p in plans if p["method"] == plan and p["pipeline"] == ["sft"])
    text = ok(run("recipe", *args, "--plan", str(rank))).json()["files"][0]["text"]
    after = _after_training(text)
    assert said in after and unsaid not in after


@pytest.mark.parametrize(("model", "vision"), [("mistral-small-3.2-24b", True), ("llama-3.1-8b", False)])
def test_a_vision_language_recipe_says_to_load_the_result_as_it_trained(
    run: Runner, model: str, vision: bool
) -> None:
    """An expert's review: the header said AutoPeftModelForCausalLM loads the adapter, which raises
    'Unrecognized configuration class' for Mistral Small 3.x and Qwen2.5-VL (no causal-LM mapping):
    the script trains them as image-text-to-text models, and says to load them so."""
    args = ("--gpu", "a100-80gb", "--model", model, "--goal", "chat", "--examples", "5000", "--out", "-")
    after = _after_training(ok(run("recipe", *args)).stdout)
    assert ("AutoModelForImageTextToText.from_pretrained(" in after) == vision
    assert ("is a vision-language model" in after) == vision


def test_a_vision_language_recipe_of_merged_stages_loads_the_last_adapter_on_the_merged_weights(
    run: Runner,
) -> None:
    """A diff review: SFT then DPO with AdaLoRA (the DPO stage trains on the SFT adapter merged in)
    told the user to load the DPO adapter onto the Hub base, dropping the SFT stage."""
    args = ("--gpu", "h100-80gb", "--model", "mistral-small-3.2-24b", "--goal", "align")
    args += ("--data-kind", "preferences", "--sft-data", "yes", "--examples", "5000")
    plans = ok(run("recommend", *args, "--top", "20", "--json")).json()["recommendations"]
    rank = next(p["rank"] for p in plans if p["method"] == "adalora" and p["pipeline"] == ["sft", "dpo"])
    after = _after_training(ok(run("recipe", *args, "--plan", str(rank), "--out", "-")).stdout)
    assert "AutoModelForImageTextToText.from_pretrained('ft-atlas-output/sft-merged')" in after


def test_yaml_recipes_say_how_to_use_the_last_stage(run: Runner) -> None:
    """LoRA SFT then DPO: LLaMA-Factory's DPO stage trains a new adapter on the merged SFT one, so
    its chat command loads both, in order; axolotl's commands read the last stage's own config."""
    args = ("--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "chat", "--data-kind", "preferences")
    args += ("--sft-data", "yes", "--examples", "5000", "--out", "-")
    llamafactory = _after_training(ok(run("recipe", *args, "--trainer", "llamafactory")).stdout)
    assert "--adapter_name_or_path saves/ft-atlas/sft,saves/ft-atlas/dpo" in llamafactory
    assert "llamafactory-cli export, with --export_dir merged" in llamafactory
    axolotl = _after_training(ok(run("recipe", *args, "--trainer", "axolotl")).stdout)
    assert "axolotl inference dpo.yaml --lora-model-dir=./outputs/dpo --chat" in axolotl
    assert "axolotl merge-lora dpo.yaml" in axolotl


def test_an_mlx_recipe_says_how_to_generate_and_fuse(run: Runner) -> None:
    args = ("--gpu", "m4-max", "--model", "llama-3.2-3b", "--goal", "chat", "--examples", "5000")
    after = _after_training(ok(run("recipe", *args, "--out", "-")).stdout)
    model = "--model meta-llama/Llama-3.2-3B --adapter-path adapters/sft"
    assert f"mlx_lm.generate {model}" in after and f"mlx_lm.fuse {model} --save-path fused" in after


@pytest.mark.parametrize(
    ("trainer", "written"),
    [
        (
            "python",
            "'target_modules': ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']",
        ),
        (  # its text layers only: axolotl loads the vision tower too (examples/llama-4)
            "axolotl",
            "lora_target_modules: language_model\\.model\\.layers\\.\\d+\\.(self_attn|feed_forward|"
            "feed_forward\\.shared_expert)\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)",
        ),
        ("llamafactory", "lora_target: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"),
    ],
)
def test_lora_on_llama_4_names_its_layers_and_leaves_the_router_alone(
    run: Runner, trainer: str, written: str
) -> None:
    """An expert's review: Llama 4's router is an nn.Linear (transformers' Llama4Router), so
    all-linear (and axolotl's lora_target_linear, LLaMA-Factory's lora_target: all) trained it in
    every format. The recipes name the linear layers the estimate counts instead."""
    args = ("--gpu", "h100", "--gpus", "8", "--model", "llama-4-scout", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "5k", "--trainer", trainer, "--out", "-")
    text = ok(run("recipe", *args)).stdout
    assert written in text
    assert "all-linear'" not in text.split("# ===", 2)[-1] and "lora_target_linear" not in text


def test_packed_rows_on_an_amd_instinct_use_flash_attention_2_from_rocm(run: Runner) -> None:
    """An expert's review: an MI300X recipe said FlashAttention 2 does not run there (its README's
    composable_kernel backend supports MI200x to MI355x) and warned of a packing mask. The Python
    recipe loads the flash-attn package there (the Hub's kernel is built for CUDA only)."""
    args = ("--gpu", "mi300x", "--model", "llama-3.1-8b", "--goal", "chat", "--data-kind", "demonstrations")
    text = ok(run("recipe", *args, "--examples", "5k", "--seq-len", "4k", "--packing", "--out", "-")).stdout
    assert "packed rows need it (FlashAttention 2 runs on CDNA 3 GPUs" in " ".join(text.split())
    assert "kwargs[\"attn_implementation\"] = 'flash_attention_2'" in text
    assert "on ROCm it builds its composable_kernel backend" in text
    assert "Packing without FlashAttention 2" not in text


def test_a_qlora_recipe_on_an_amd_instinct_does_not_call_bitsandbytes_cuda_only(run: Runner) -> None:
    """An expert's review: an MI300X QLoRA recipe installed ROCm's torch and bitsandbytes, then said
    bitsandbytes runs on CUDA GPUs only (its 0.50 installation guide supports AMD GPUs officially)."""
    args = ("--gpu", "mi300x", "--model", "qwen3-32b", "--goal", "chat", "--data-kind", "demonstrations")
    text = " ".join(ok(run("recipe", *args, "--examples", "10k", "--plan", "2", "--out", "-")).stdout.split())
    assert "bitsandbytes (NVIDIA or AMD GPUs)" in text and "CUDA GPUs only" not in text
    assert "no CUDA or ROCm GPU was found" in text


def test_split_sequences_stay_packed_with_flash_attention_inside(run: Runner) -> None:
    """70B at 128k tokens on 8 GPUs: DeepSpeed Ulysses splits each sequence. An expert's review:
    the recipe turned packing off ("Ulysses cannot shard TRL's cu_seq_lens"), so a 128k
    continued pre-training trained each ~1k document as its own row, while its header timed full
    rows; TRL's padding-free batches carry position_ids, which Ulysses gathers whole (TRL's own
    Ulysses example packs). The header says FlashAttention 2 runs inside."""
    args = ("--gpu", "h100", "--gpus", "8", "--model", "llama-3.1-70b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "5k", "--seq-len", "128k")
    text = ok(run("recipe", *args, "--tokens-per-example", "32k", "--packing", "--out", "-")).stdout
    said = " ".join(text.split())
    assert "'packing': True" in text and "DeepSpeed Ulysses (each sequence" not in said
    assert 'attention = "flash-attention-2" <- DeepSpeed Ulysses runs FlashAttention 2 inside' in said
    assert "Packing without FlashAttention 2" not in said
    knowledge = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen3-8b", "--goal", "knowledge")
    knowledge += ("--data-kind", "text", "--examples", "20k", "--seq-len", "128k", "--packing")
    cpt = ok(run("recipe", *knowledge, "--plan", "2", "--out", "-")).stdout
    assert "parallelism_config_sp_size" in cpt and "'packing': True" in cpt, cpt[:3000]


@pytest.mark.parametrize(
    ("trainer", "where"), [("python", "ds_z3_config.json"), ("axolotl", "ds_z3_config.json")]
)
def test_zero_3_across_nodes_names_hierarchical_partitioning(run: Runner, trainer: str, where: str) -> None:
    """An expert's review: on 32 GPUs the recipes shard flat, gathering every weight across nodes,
    while recommend's own note names hybrid sharding; the header says how (ZeRO++'s
    zero_hpz_partition_size, accelerate's DeepSpeed guide) and what it costs. Full fine-tuning's
    copy of the 141 GB of 16-bit weights over 8 GPUs (17.6 GB, with the allocator's slack) does
    not fit beside the Python recipe's states at 8k tokens: it shards flat and says what the other
    would take."""
    args = ("--gpu", "h100", "--gpus", "32", "--model", "llama-3.1-70b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "100k", "--trainer", trainer, "--out", "-")
    args += ("--seq-len", "8k") if trainer == "python" else ()
    text = ok(run("recipe", *args)).stdout
    said = " ".join(text.replace("#", " ").split())
    assert '"zero_hpz_partition_size": 8 in zero_optimization in' in said and where in said
    if trainer == "python":
        assert re.search(r"GB per GPU instead of [\d.]+ GB: past what fits \(it would take about", said), said
        assert "The memory and time above are for flat sharding, as written." in said
        assert "zero_hpz_partition_size" not in text.split("ds_z3_config.json (--out DIR")[-1]
    else:
        assert "The memory and time above are for it; without the key, ZeRO-3 shards flat" in said
        assert '"zero_hpz_partition_size": 8 }' in said  # in the DeepSpeed JSON it names
    one_node = ok(run("recipe", *args[:3], "8", *args[4:])).stdout
    assert "zero_hpz_partition_size" not in one_node


def test_hierarchical_partitioning_is_written_where_it_fits(run: Runner, tmp_path: Path) -> None:
    """An expert's review: the recipe named ZeRO++ hierarchical partitioning and what it saves, but
    wrote flat sharding. LoRA on 70B over 4 nodes sends next to no gradients: with the gathers on
    NVLink its time drops below a third of flat sharding's, which waits on the network; its second
    copy of the weights fits, so the recipe writes it, sized and timed with it. accelerate takes it
    only from a DeepSpeed JSON it names, beside which it refuses its own ZeRO, offload and
    precision keys. (Nodes joined by a cloud's 400 Gb/s, AWS p4d's EFA, where the gathers weigh.)"""
    args = ("--gpu", "h100", "--gpus", "32", "--model", "llama-3.1-70b", "--goal", "chat", "--batch-size")
    args += ("1", "--data-kind", "demonstrations", "--examples", "100k", "--network-gbps", "400")
    ranked = ok(run("recommend", *args, "--top", "5", "--json")).json()["recommendations"]
    args += ("--plan", str(next(p["rank"] for p in ranked if p["method"] == "lora")))
    said = " ".join(ok(run("recipe", *args, "--out", "-")).stdout.replace("#", " ").split())
    pattern = r"([\d.]+) GB per GPU instead of ([\d.]+) GB, about ([\d.]+) h instead of ([\d.]+) h"
    found = re.search(pattern, said)
    assert found, said
    layered_gb, flat_gb, layered_h, flat_h = map(float, found.groups())
    assert layered_gb == pytest.approx(flat_gb + 141.1 / 8 * 1.05, abs=0.5)
    assert 3 * layered_h < flat_h
    assert (
        f"sft {layered_gb:.1f}" in said
        and "(hierarchical: a second copy sharded within each node of 8)" in said
    )
    assert f"Time and cost for these settings: about {layered_h:g} h" in said
    ok(run("recipe", *args, "--out", f"{tmp_path}/"))
    launcher = yaml.safe_load((tmp_path / "accelerate.yaml").read_text(encoding="utf-8"))
    assert launcher["deepspeed_config"]["deepspeed_config_file"] == "ds_z3_config.json"
    assert not {"zero_stage", "offload_optimizer_device"} & set(launcher["deepspeed_config"])
    assert "mixed_precision" not in launcher
    deepspeed = json.loads((tmp_path / "ds_z3_config.json").read_text(encoding="utf-8"))
    assert deepspeed["zero_optimization"]["zero_hpz_partition_size"] == 8
    assert deepspeed["zero_optimization"]["stage"] == 3
    # On 30 GPUs, which 8 does not divide, LoRA takes 16 with it, faster than 30 sharded flat;
    # full fine-tuning, which needs all 30, shards flat.
    on_30 = (*args[:3], "30", *args[4:-2])
    lora = " ".join(ok(run("recipe", *args[:3], "30", *args[4:], "--out", "-")).stdout.split())
    assert "This plan trains on 16 of your 30 GPUs (the fastest number of them within any --max-hours" in lora
    assert "zero_hpz_partition_size" in lora
    full = ok(run("recipe", *on_30, "--plan", "1", "--out", "-")).stdout
    assert "30 GPUs" in full and "zero_hpz_partition_size" not in full


def test_a_recipe_without_a_model_suggests_models_of_its_size(run: Runner) -> None:
    """A newcomer's review: the run line said --model MODEL_ID_OR_PATH and named no model; the
    header names catalog models of the size the estimate assumed: no reasoning model (an R1
    distillation was offered for a chatbot), ungated ones first, instruct checkpoints for a plan
    that answers questions."""
    chat = ok(run("recipe", "--gpu", "rtx-3090", "--goal", "chat", "--out", "-")).stdout
    said = " ".join(chat.replace("#", " ").split())
    assert "Note: No --model given: the estimates are for a 7B model" in said
    assert "e.g. mistralai/Mistral-7B-v0.3, Qwen/Qwen2.5-7B, meta-llama/" in said
    assert "DeepSeek-R1-Distill" not in said
    rag = ("recipe", "--gpu", "rtx-3090", "--goal", "knowledge", "--data-kind", "text", "--examples", "5k")
    answers = " ".join(ok(run(*rag, "--out", "-")).stdout.replace("#", " ").split())
    assert "e.g. mistralai/Mistral-7B-Instruct-v0.3, Qwen/Qwen2.5-7B-Instruct," in answers
    named = ok(run("recipe", "--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--out", "-")).stdout
    assert "No --model given" not in named


def test_a_trainer_passes_over_no_plan_for_a_hardware_refusal_nor_to_prompting(run: Runner) -> None:
    """A maintainer's review: axolotl at 64k tokens on 8 H100s passed over ten plans that need
    each sequence split over GPUs (which it does not write) and wrote GaLore at 177 GB per GPU;
    Python passed over ORPO plans to the few-shot prompting script. Both refuse with plan 1's why
    (axolotl with its own loss, --stack hf: by itself it turns Liger on, and that LoRA fits on
    each GPU without splitting its sequences, so it is written, saying why)."""
    long = ("--model", "llama-3.1-8b", "--gpu", "h100", "--gpus", "8", "--goal", "adapt")
    long += ("--data-kind", "demonstrations", "--seq-len", "65536", "--priority", "quality", "--out", "-")
    refused = run("recipe", *long, "--trainer", "axolotl", "--stack", "hf")
    assert refused.exit_code == 2 and "axolotl cannot express plan 1 (LoRA, SFT)" in refused.stderr
    fused = ok(run("recipe", *long, "--trainer", "axolotl"))
    said = " ".join(fused.stderr.split())
    assert (
        "written with Liger Kernel's fused loss" in said and "plan 1 is not written: axolotl cannot" in said
    )
    assert (
        "Plan 1 of 13: LoRA (SFT)" in fused.stdout
        and "liger_fused_linear_cross_entropy: true" in fused.stdout
    )
    orpo = ("--gpu", "h100", "--model", "llama-3.1-8b", "--goal", "align", "--data-kind", "preferences")
    refused = run(
        "recipe", *orpo, "--sft-data", "no", "--examples", "2000", "--trainer", "python", "--out", "-"
    )
    assert refused.exit_code == 2 and "python cannot train the plan's 'orpo' stage" in refused.stderr


def test_a_two_stage_adalora_says_to_merge_the_first_adapter_before_the_second(run: Runner) -> None:
    """A maintainer's review: AdaLoRA's DPO stage trains a new adapter on the model with the SFT
    one merged in, and the header told the user to load the DPO adapter on the bare base."""
    args = ("--gpu", "h100", "--model", "llama-3.1-8b", "--goal", "align", "--data-kind", "preferences")
    args += ("--sft-data", "yes", "--examples", "2000", "--json")
    plans = ok(run("recommend", *args, "--top", "20")).json()["recommendations"]
    rank = next(p["rank"] for p in plans if p["method"] == "adalora")
    text = ok(run("recipe", *args, "--plan", str(rank))).json()["files"][0]["text"]
    after = _after_training(text)
    assert "ft-atlas-output/dpo holds the last stage's adapter" in after
    assert "with ft-atlas-output/sft merged into it" in after


def test_an_adapter_on_fused_experts_is_merged_before_a_stage_that_needs_a_reference(run: Runner) -> None:
    """An expert's review: PEFT allows one adapter per model when it targets parameters, so TRL's
    DPO scored the SFT adapter's reference with the adapters off, the base model, while the script
    said the reference was the SFT policy. The DPO stage trains a new adapter on the base with the
    SFT adapter merged in (by the main process, on the CPU: ZeRO-3 shards what it loads); without
    fused experts a later stage continues the adapter."""
    args = ("--gpu", "h100", "--gpus", "2", "--model", "qwen3-30b-a3b", "--goal", "align")
    args += ("--data-kind", "preferences", "--sft-data", "yes", "--examples", "10k", "--json")
    plans = ok(run("recommend", *args, "--lora-experts")).json()["recommendations"]
    rank = next(p["rank"] for p in plans if p["method"] == "lora")
    text = ok(run("recipe", *args, "--lora-experts", "--plan", str(rank))).json()["files"][0]["text"]
    build = ast.get_source_segment(text, _function(text, "build_model")) or ""
    assert "trained_on(args, stage)" in build and "PeftModel.from_pretrained(model, previous" not in build
    merge = ast.get_source_segment(text, _function(text, "merge_earlier")) or ""
    # Before the stage's config, whose ZeRO-3 would shard the load: the previous one set aside.
    assert "unset_hf_deepspeed_config()" in merge and "wait_for_everyone()" in merge
    main = ast.get_source_segment(text, _function(text, "main")) or ""
    assert main.index("merge_earlier(args, stage)") < main.index("run_stage(stage")
    assert "trained on ft-atlas-output/sft-merged" in " ".join(_after_training(text).split())
    said = " ".join(text.replace("#", " ").split())
    assert "it needs CPU RAM and disk for the 16-bit model, 61 GB" in said
    # The merge holds the whole 16-bit model in CPU RAM (a review: --ram 32 was written silently).
    fails(
        run("recipe", *args, "--lora-experts", "--plan", str(rank), "--ram", "32"),
        2,
        "the 16-bit model, 61 GB, is more than --ram 32 GB",
    )
    plain = ok(run("recipe", *args, "--plan", str(rank))).json()["files"][0]["text"]
    assert "def merge_earlier" not in plain and "PeftModel.from_pretrained(model, previous" in plain


def test_ia3_is_merged_before_a_stage_that_needs_a_reference() -> None:
    """An expert's review: TRL copies the SFT adapter into DPO's and KTO's reference by names
    holding '.default.', which IA3's (ia3_l.default) do not: the reference was the base model."""
    for data in ("preferences", "ratings"):
        rec = recommend(gpu="a100-80gb", model="llama-3.1-8b", goal="align", data_kind=data, sft_data="yes")
        text = render_recipe(CATALOG, rec, rank_of(rec, "ia3"), "python")
        assert "ia3_l.default" in (ast.get_source_segment(text, _function(text, "build_model")) or "")
        assert "merge_earlier(args, stage)" in text


def _function(text: str, name: str) -> ast.FunctionDef:
    return next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)


def test_a_plan_that_fits_only_on_a_stack_no_recipe_runs_is_refused(run: Runner) -> None:
    """An expert's review: GRPO ranked with Unsloth at 19.5 GB on an RTX 4090 was written as a TRL
    script that its own header said takes 34.5 GB, with vLLM's share sized for Unsloth. Refused,
    saying what fits where; a plan that fits as the recipe trains it is still written."""
    args = ("--gpu", "rtx-4090", "--model", "qwen2.5-7b-instruct", "--goal", "reasoning", "--vllm")
    args += ("--data-kind", "reward-function", "--examples", "2k", "--seq-len", "1536", "--out", "-")
    refused = fails(run("recipe", *args, "--stack", "unsloth"), 2, "plan 1 fits with --stack unsloth")
    assert "its grpo stage takes 34.46 GB per GPU of 25.76 GB" in refused.stderr and not refused.stdout
    sft = ("--gpu", "rtx-4090", "--model", "qwen2.5-7b", "--goal", "chat", "--data-kind", "demonstrations")
    assert "Unsloth's own" in ok(run("recipe", *sft, "--stack", "unsloth", "--out", "-")).stdout


def test_a_plan_written_without_the_experts_asked_for_says_so(run: Runner) -> None:
    """An expert's review: --lora-experts with --trainer llamafactory, which has no key for fused
    experts, wrote DoRA (which PEFT cannot put on them) on attention, and nothing said the experts
    were left out."""
    args = ("--gpu", "h100", "--model", "qwen3-30b-a3b", "--goal", "chat", "--data-kind", "demonstrations")
    args += ("--examples", "20k", "--seq-len", "4k", "--lora-experts", "--out", "-")
    said = " ".join(ok(run("recipe", *args, "--trainer", "llamafactory")).stdout.replace("#", " ").split())
    assert "--lora-experts: this plan (DoRA) adapts no routed experts" in said
    axolotl = ok(run("recipe", *args, "--trainer", "axolotl")).stdout
    assert "lora_target_parameters" in axolotl and "adapts no routed experts" not in axolotl


def test_an_adapter_on_fused_experts_is_merged_before_serving(run: Runner) -> None:
    """A maintainer's review: vLLM is reported to drop PEFT target_parameters adapters on fused
    experts (vllm-project/vllm PR #41384), so --lora-experts is not told to serve it unmerged."""
    args = ("--gpu", "h100", "--gpus", "2", "--model", "qwen3-30b-a3b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "20k", "--lora-experts", "--json")
    plans = ok(run("recommend", *args)).json()["recommendations"]
    rank = next(p["rank"] for p in plans if p["method"] == "lora")
    after = _after_training(ok(run("recipe", *args, "--plan", str(rank))).json()["files"][0]["text"])
    assert "merge it first" in after and "--enable-lora" not in after


def test_a_recipe_for_a_gated_repository_says_how_to_get_access(run: Runner) -> None:
    """A Llama recipe failed with a 401 after its imports (a newcomer's review): the licence to
    accept and the login come first, from data/models.yaml gated_repositories."""
    llama = ok(run("recipe", "--gpu", "rtx-4090", "--model", "llama-3.1-8b")).stdout
    assert "meta-llama/Llama-3.1-8B is gated" in llama and "hf auth login" in llama
    qwen = ok(run("recipe", "--gpu", "rtx-4090", "--model", "qwen3-8b")).stdout
    assert "is gated" not in qwen


def test_a_rag_recipe_retrieves_in_any_language_by_default() -> None:
    """A Russian user's documents were embedded with BAAI/bge-large-en-v1.5, an English-only encoder,
    and every question got its English instruction (a newcomer's review): the default is BAAI/bge-m3,
    which takes 100+ languages and no instruction."""
    rec = recommend(gpu="rtx-4090", model="llama-3.1-8b", goal="knowledge", data_kind="text", examples="5k")
    text = render_recipe(CATALOG, rec, rank_of(rec, "rag"), "python")
    assert "EMBEDDER = 'BAAI/bge-m3'" in text
    assert "Represent this sentence" not in text.split("def parse_args")[0]


def test_an_mlx_recipe_without_a_model_shows_where_it_goes_on_the_run_line(run: Runner) -> None:
    """The YAML said model: MODEL_ID_OR_PATH and the run line `mlx_lm.lora --config sft.yaml`
    downloaded that name (a newcomer's review): mlx-lm takes --model over the config's."""
    args = (
        "recipe",
        "--gpu",
        "apple-m3-max",
        "--vram",
        "64",
        "--goal",
        "chat",
        "--data-kind",
        "demonstrations",
    )
    unnamed = ok(run(*args, "--examples", "5k", "--out", "-")).stdout
    assert "# Run: mlx_lm.lora --config sft.yaml --model MODEL_ID_OR_PATH" in unnamed
    named = ok(run(*args, "--examples", "5k", "--model", "qwen2.5-7b", "--out", "-")).stdout
    assert "--model MODEL_ID_OR_PATH" not in named


def test_peft_under_zero3_checkpoints_reentrant_by_the_arguments_name() -> None:
    """A recipe review: TRL forces use_reentrant=True for PEFT under ZeRO-3 in
    gradient_checkpointing_kwargs, which transformers 5.23+ (activation_checkpointing_kwargs) no
    longer reads after __post_init__, so non-reentrant recomputation of the sharded frozen weights
    could fail at the first backward. The script sets it under whichever name its transformers has."""
    import argparse

    from atlas_cli.recipes.templates.training import TRAINING_ARGUMENTS

    rec = recommend(gpu="rtx-4090", gpus="2", model="qwen3-32b", goal="chat", data_kind="demonstrations")
    rank = rank_of(rec, "qlora", ("sft",))
    script = render_recipe(CATALOG, rec, rank, "python")
    found = constants(script)
    assert found["USES_PEFT"] and found["SHARDED"]
    args = argparse.Namespace(
        output_dir="out", resume=False, batch_size=None, grad_accum=None, max_steps=-1, precision="bf16"
    )
    for name in ("activation_checkpointing", "gradient_checkpointing"):
        stub = type("TrainingArguments", (), {"__dataclass_fields__": {name: None}})
        scope: dict[str, Any] = {**found, "TrainingArguments": stub, "Path": Path, "Any": Any}
        exec(TRAINING_ARGUMENTS, scope)
        assert scope["training_arguments"](args, "sft")[name + "_kwargs"] == {"use_reentrant": True}
    single = recommend(gpu="h100", model="qwen3-8b", goal="chat", data_kind="demonstrations")
    plain = constants(render_recipe(CATALOG, single, rank_of(single, "lora", ("sft",)), "python"))
    assert plain["USES_PEFT"] and not plain["SHARDED"]


def test_a_llama_3_base_renders_conversations_with_the_plain_template() -> None:
    """A recipe review: the Python recipe used the chat template a Llama 3.x base tokenizer
    ships, whose header and end-of-turn tokens the base never trained (unsloth#915), and LoRA
    leaves the embeddings as they are; LLaMA-Factory's recipe already trained it on "default".
    The script now renders that base's conversations with its plain template, and says why."""
    import io
    import sys as system

    from atlas_cli.recipes.templates.training import LOAD_TOKENIZER

    def flag(model: str) -> bool:
        rec = recommend(gpu="h100", model=model, goal="chat", data_kind="demonstrations")
        return bool(
            constants(render_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python"))[
                "UNTRAINED_CHAT_TOKENS"
            ]
        )

    assert flag("llama-3.1-8b") and not flag("llama-3.1-8b-instruct") and not flag("qwen3-8b")

    class Tokenizer:
        pad_token, eos_token, chat_template = "<pad>", "</s>", "{{ meta's template }}"

    for untrained, kept in ((True, False), (False, True)):
        scope: dict[str, Any] = {
            "AutoTokenizer": type(
                "AutoTokenizer", (), {"from_pretrained": staticmethod(lambda _: Tokenizer())}
            ),
            "PreTrainedTokenizerBase": object,
            "sys": system,
            "UNTRAINED_CHAT_TOKENS": untrained,
        }
        exec(LOAD_TOKENIZER, scope)
        said, system.stderr = system.stderr, io.StringIO()
        try:
            loaded = scope["load_tokenizer"]("model")
            printed = system.stderr.getvalue()
        finally:
            system.stderr = said
        assert (loaded.chat_template == Tokenizer.chat_template) == kept
        assert ("never trained its chat template's special tokens" in printed) == untrained


def test_liger_is_turned_on_only_where_it_runs_and_its_plan_is_written(run: Runner) -> None:
    """An expert's review of the automatic Liger option: it was turned on on Apple silicon (Triton:
    CUDA and ROCm only), for Mistral Small 3.1 (a mistral3 checkpoint, which neither trainer's Liger
    list has, though its text model is mistral), and where Liger's plan 1 was then refused (a
    mixture of experts' QLoRA loaded shard by shard), where the trainer's own ranking writes one."""
    base = ("--goal", "chat", "--data-kind", "demonstrations", "--examples", "10k", "--out", "-")
    mac = run("recipe", "--trainer", "llamafactory", "--gpu", "apple-m3-pro", "--model", "llama-3.1-8b",
              *base, "--seq-len", "8k")  # fmt: skip
    assert "Liger" not in mac.stderr and "enable_liger_kernel" not in mac.stdout
    mistral = ("--gpu", "h100", "--model", "mistral-small-3.1-24b", *base, "--seq-len", "16k")
    wrapped = ok(run("recipe", "--trainer", "llamafactory", *mistral))
    assert "written with Liger" not in wrapped.stderr and "enable_liger_kernel" not in wrapped.stdout
    told = ok(run("recipe", "--trainer", "llamafactory", "--stack", "liger", *mistral)).stdout
    assert "do not patch mistral3 models" in " ".join(told.replace("#", " ").split())
    moe = ("--gpu", "a100-80gb", "--gpus", "8", "--model", "qwen3-235b-a22b", *base, "--seq-len", "2k")
    plain = ok(run("recipe", "--trainer", "axolotl", *moe))
    assert "written with Liger" not in plain.stderr and "LigerPlugin" not in plain.stdout


def test_a_preference_plan_is_not_written_from_ligers_ranking(run: Runner) -> None:
    """An expert's review: Gemma 3 12B DPO on an RTX 4090 with axolotl was refused with the trainer's
    own loss, then written from Liger's ranking, which the recipes never apply to a preference
    stage: it came out sized without Liger, offloaded for nothing and "DOES NOT FIT". The refusal
    stands, and names the Python recipe, whose TRL fits it."""
    args = ("recipe", "--gpu", "rtx-4090", "--model", "gemma-3-12b-it", "--goal", "align")
    args += ("--data-kind", "preferences", "--examples", "10k", "--sft-data", "no", "--out", "-")
    for trainer in ("axolotl", "llamafactory"):
        refused = fails(run(*args, "--trainer", trainer), 2, "--trainer python")
        assert "written with Liger" not in refused.stderr


def test_a_plan_ranked_loaded_shard_by_shard_is_written_where_deepspeed_fits_it(run: Runner) -> None:
    """An expert's review: Qwen2.5-72B QLoRA on two L40S was written at bc32e41 (its recipe's paged
    optimizer fits it, 43.5 GB) and was refused once the ranking sized it loaded shard by shard.
    The recipe sizes its own DeepSpeed load, whole on every GPU: where that fits it is written,
    and says how it loads; where not (70B on four RTX 4090s), it is refused."""
    args = ("--gpu", "l40s", "--gpus", "2", "--model", "qwen2.5-72b", "--goal", "chat")
    args += ("--data-kind", "demonstrations", "--examples", "10k", "--seq-len", "1k", "--out", "-")
    written = ok(run("recipe", *args)).stdout
    assert "Plan 1 of 14: QLoRA (SFT)" in written and re.search(r"at batch (4|8): fits", written)
    said = " ".join(written.replace("#", " ").split())
    assert "recommend sized this plan with its 4-bit base loaded shard by shard" in said


def test_a_small_set_is_not_promised_more_steps_than_it_has(run: Runner) -> None:
    """A review: 20 examples at 8 sequences a step were said to take 'at least 40 optimizer steps'."""
    args = ("--gpu", "l4", "--gpus", "2", "--model", "llama-3.1-8b", "--goal", "align")
    args += ("--data-kind", "ratings", "--examples", "20", "--plan", "2", "--json")
    sources = [
        s["source"]
        for k, s in ok(run("recipe", *args)).json()["settings"].items()
        if k.startswith("grad_accum")
    ]
    assert sources and all("at least 40" not in s for s in sources)
    assert any("toward 40, as many as the set allows" in s for s in sources)


def test_each_objectives_accumulation_cites_its_own_published_batches() -> None:
    """DPO's accumulation cited the handbook's Zephyr *SFT* batches (an expert's review): each
    objective cites its own, in its own unit (a DPO step counts pairs)."""
    rec = recommend(gpu="a100-80gb", model="llama-3.1-8b", data_kind="preferences", examples="5k")
    recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft", "dpo")), "python")
    sft, dpo = (recipe.settings[f"grad_accum.{stage}"].source for stage in ("sft", "dpo"))
    assert sft.startswith("sequences per optimizer step") and "zephyr-7b-beta/sft" in sft
    assert dpo.startswith("pairs per optimizer step") and "zephyr-7b-beta/dpo" in dpo and "SFT" not in dpo
    scorer = recommend(gpu="a100-80gb", model="llama-3.1-8b", goal="classify", data_kind="preferences")
    recipe, _ = write_recipe(CATALOG, scorer, rank_of(scorer, "lora", ("reward-model",)), "python")
    assert "arXiv:2203.02155" in recipe.settings["grad_accum.reward-model"].source  # InstructGPT's RM
    instruct = {"model": "llama-3.1-8b-instruct", "data_kind": "preferences", "priority": "cost"}
    simpo = recommend(gpu="a100-80gb", examples="5k", **instruct)
    recipe, _ = write_recipe(CATALOG, simpo, rank_of(simpo, "lora", ("simpo",)), "llamafactory")
    assert "princeton-nlp/SimPO" in recipe.settings["grad_accum.simpo"].source


def test_a_recipe_that_trains_nothing_says_why_no_training_plan_is_left(run: Runner) -> None:
    """gpt-oss sampled with vLLM leaves every plan that trains out; the recipe then writes the
    prompting plan ranked first, and says so on stderr with the rule's reason, as `recommend`
    lists it. Where a training plan is left (no data: prompting simply ranks first), it is silent."""
    args = ("--gpu", "h100", "--model", "gpt-oss-20b", "--data-kind", "reward-function")
    written = ok(run("recipe", *args, "--vllm"))
    said = " ".join(written.stderr.split())
    assert "no plan that trains on your GPUs is left, so this recipe (In-context learning" in said
    assert "vllm-project/vllm#23577" in said
    assert ok(run("recipe", *args)).stderr == ""
    unasked = ok(run("recipe", "--gpu", "h100", "--model", "llama-3.1-8b", "--data-kind", "none"))
    assert "no plan that trains" not in unasked.stderr


# --- Gemma 4 ------------------------------------------------------------------------------------


def test_gemma4_lora_names_its_text_layers_and_keeps_its_towers_out() -> None:
    """AutoModelForCausalLM maps gemma4 to Gemma4ForConditionalGeneration (modeling_auto.py), which
    holds a vision tower of Gemma4ClippableLinear layers and embed_vision's projection: PEFT's
    all-linear, or the q_proj...down_proj names, reach them too, so the recipe excludes them. The
    26B-A4B's router is an nn.Linear (Gemma4TextRouter.proj) and its experts fused 3-D parameters:
    LoRA names the attention and the dense MLP beside them, as for Llama 4."""
    exclude = re.compile(VISION_MODULES)
    for name in (
        "model.vision_tower.encoder.layers.0.self_attn.q_proj.linear",
        "model.embed_vision.embedding_projection",
    ):
        assert exclude.fullmatch(name), name
    assert not exclude.fullmatch("model.language_model.layers.0.self_attn.q_proj")
    for model_id, targets in (
        ("gemma-4-31b-it", "all-linear"),
        ("gemma-4-26b-a4b-it", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
    ):
        rec = recommend(
            gpu="h100-80gb", model=model_id, goal="chat", data_kind="demonstrations", examples="5k"
        )
        recipe, _ = write_recipe(CATALOG, rec, rank_of(rec, "lora", ("sft",)), "python")
        assert recipe.value("lora.targets") == targets, model_id
        assert recipe.value("lora.exclude") == VISION_MODULES, model_id


def test_gemma4_packs_without_flashattention_2_whose_heads_stop_at_256() -> None:
    """Gemma 4's full-attention heads are 512 wide; FlashAttention 2 takes 256 at most. Packed SFT
    keeps its rows apart with SDPA in axolotl; LLaMA-Factory's collator refuses neat_packing for
    gemma4 (the recipe says so); LLaMA-Factory's template is gemma4."""
    rec = recommend(
        gpu="h100-80gb", model="gemma-4-31b-it", data_kind="demonstrations", examples="5k", packing="true"
    )
    rank = rank_of(rec, "qlora", ("sft",))
    (sft,) = yaml_documents(render_recipe(CATALOG, rec, rank, "axolotl"))
    assert sft["sample_packing"] is True and sft["attn_implementation"] == "sdpa"
    recipe, _ = write_recipe(CATALOG, rec, rank, "python")
    assert not recipe.has("attention") or recipe.value("attention") != "flash-attention-2"
    assert "Packing without FlashAttention 2 (Gemma 4 31B (instruction-tuned)'s heads of 512" in (
        recipe.packing_mask_note or ""
    )
    with pytest.raises(UsageError, match="Neat packing is not supported for gemma4"):
        render_recipe(CATALOG, rec, rank, "llamafactory")
    unpacked = recommend(gpu="h100-80gb", model="gemma-4-31b-it", data_kind="demonstrations", examples="5k")
    assert "\ntemplate: gemma4\n" in render_recipe(
        CATALOG, unpacked, rank_of(unpacked, "qlora", ("sft",)), "llamafactory"
    )


def test_gemma4_sequence_parallelism_runs_sdpa_inside_ulysses() -> None:
    """DeepSpeed Ulysses runs the model's attention on whole heads: FlashAttention 2 would refuse
    Gemma 4's 512-wide ones, so accelerate's sp_attn_implementation and the model load SDPA
    (accelerate ParallelismConfig takes 'flash_attention_2', 'flash_attention_3' or 'sdpa')."""
    rec = recommend(
        gpu="h100-80gb", gpus="8", model="gemma-4-31b-it", data_kind="demonstrations", seq_len="128k"
    )
    recipe, out = write_recipe(CATALOG, rec, 1, "python")
    assert recipe.sequence_parallel > 1
    assert "parallelism_config_sp_attn_implementation: sdpa" in out.text
    assert "kwargs[\"attn_implementation\"] = 'sdpa'" in out.text
    assert "flash_attention_2" not in out.text


def test_a_vision_language_gemma_trains_text_with_zero_token_types(run: Runner) -> None:
    """A review: transformers' Gemma 3 forward raises "`token_type_ids` is required as a model
    input when training", which TRL's text collators never pass (huggingface/trl#5032, #5807), so
    every Python recipe for gemma-3-4b-it and up failed at its first step. The script adds them
    as zeros on the model itself (Gemma 4: mm_token_type_ids, which earlier transformers 5
    releases asked for); a text-only Gemma 3 needs none."""
    args = ("recipe", "--gpu", "h100", "--goal", "chat", "--examples", "2k", "--out", "-")
    gemma3 = ok(run(*args, "--model", "gemma-3-27b-it")).stdout
    assert 'token_types = "token_type_ids"' in gemma3
    assert "kwargs['token_type_ids'] = torch.zeros_like(input_ids)" in gemma3
    assert "model.register_forward_pre_hook(text_token_types, with_kwargs=True)" in gemma3
    ast.parse(gemma3)
    gemma4 = ok(run(*args, "--model", "gemma-4-31b-it")).stdout
    assert "kwargs['mm_token_type_ids'] = torch.zeros_like(input_ids)" in gemma4
    assert "token_type" not in ok(run(*args, "--model", "gemma-3-1b-it")).stdout  # Gemma3ForCausalLM
    assert "token_type" not in ok(run(*args, "--model", "llama-3.1-8b")).stdout


def test_a_plan_that_fits_only_with_its_checkpoints_in_ram_is_written_so() -> None:
    """recommend ranks Llama 3.1 70B LoRA DPO at 32k tokens on 8 H100s with TRL's
    activation_offloading, unasked (nothing fits otherwise): its recipe turns it on for every stage
    and says why."""
    rec = recommend(
        gpu="h100-80gb", gpus="8", model="llama-3.1-70b", goal="align", data_kind="preferences",
        examples="20000", seq_len="32k",
    )  # fmt: skip
    text = render_recipe(CATALOG, rec, 1, "python")
    stages = constants(text)["STAGE_SETTINGS"]
    assert all(stage["activation_offloading"] for stage in stages.values())
    assert "activation_offloading = True  <- the plan's memory estimate (--activation-offloading, or" in text


def test_an_axolotl_recipe_says_what_its_data_lines_hold_and_how_to_install(run: Runner) -> None:
    """A newcomer's review: the axolotl config read prompt/completion fields its header never
    named (chat logs failed only inside axolotl), and had no install line."""
    args = ("--gpu", "rtx-4090", "--goal", "chat", "--examples", "2000", "--trainer", "axolotl", "--out", "-")
    base = " ".join(ok(run("recipe", "--model", "llama-3-8b", *args)).stdout.split())
    # One GPU, no DeepSpeed file: axolotl without its DeepSpeed extra (a newcomer's review).
    assert "# Setup: pip install torch, then pip install --no-build-isolation axolotl==0.19.0" in base
    assert 'Data, one JSON object per line: sft.jsonl: "prompt", "completion".' in base
    instruct = " ".join(ok(run("recipe", "--model", "llama-3.1-8b-instruct", *args)).stdout.split())
    assert 'sft.jsonl: "messages" (a list of role/content turns)' in instruct
    # SFT on the chosen answers, then DPO, read one file: the keys of both (a diff review).
    pairs = ("--gpu", "rtx-3090", "--model", "llama-3.1-8b", "--data-kind", "preferences", "--examples", "5k")
    both = " ".join(ok(run("recipe", *pairs, "--trainer", "axolotl", "--out", "-")).stdout.split())
    assert 'dpo.jsonl: "prompt", "chosen", "rejected".' in both


def test_every_trainers_setup_installs_what_its_recipe_imports(run: Runner) -> None:
    """An expert's review: axolotl's GRPO recipes installed neither vLLM (its extra; TRL raises
    "vLLM is not available") nor math-verify (rewards.py imports it); LLaMA-Factory recipes had no
    Setup line, though its parser refuses a deepspeed config without DeepSpeed; on an MI300X every
    Setup line installed PyPI's CUDA torch; a classifier's header named trl, which its script never
    checks."""
    grpo = ("--gpu", "h100-80gb", "--gpus", "4", "--model", "qwen2.5-7b", "--goal", "reasoning")
    grpo += ("--data-kind", "reward-function", "--examples", "5k", "--vllm", "--trainer", "axolotl")
    said = " ".join(ok(run("recipe", *grpo, "--out", "-")).stdout.split())
    assert "--no-build-isolation 'axolotl[vllm]==0.19.0' math-verify" in said  # 4 GPUs, data parallel
    sharded = ("--gpu", "a100-80gb", "--gpus", "8", "--model", "llama-3.1-70b", "--goal", "chat")
    zero3 = " ".join(
        ok(
            run("recipe", *sharded, "--priority", "quality", "--trainer", "axolotl", "--out", "-")
        ).stdout.split()
    )
    assert "deepspeed: ds_z3_config.json" in zero3 and "'axolotl[deepspeed]==0.19.0'" in zero3
    chat = ("--goal", "chat", "--data-kind", "demonstrations", "--trainer", "llamafactory", "--out", "-")
    sharded = ok(run("recipe", "--gpu", "a100-80gb", "--gpus", "8", "--model", "llama-3.1-70b", *chat))
    assert "-r requirements/metrics.txt -r requirements/deepspeed.txt" in " ".join(sharded.stdout.split())
    t4 = " ".join(ok(run("recipe", "--gpu", "t4", "--model", "llama-3.1-8b", *chat)).stdout.split())
    assert "git clone --depth 1 --branch v0.9.5" in t4 and "-r requirements/bitsandbytes.txt" in t4
    for trainer in ("python", "axolotl", "llamafactory"):
        amd = ("--gpu", "mi300x", "--model", "llama-3.1-8b", "--trainer", trainer, "--out", "-")
        setup = " ".join(ok(run("recipe", *amd)).stdout.split())
        assert "# Setup: torch built for ROCm first (the rocm/pytorch image" in setup, trainer
        assert "pip install torch," not in setup and "pip install torch 'transformers" not in setup
    classify = (
        "--gpu",
        "rtx-4090",
        "--model",
        "modernbert-base",
        "--goal",
        "classify",
        "--data-kind",
        "labeled",
    )
    header = " ".join(ok(run("recipe", *classify, "--examples", "2k", "--out", "-")).stdout.split())
    assert "trl" not in header.split("# Written for:")[1].split("# Setup")[0]


def test_a_recipe_that_misses_as_written_offloads_its_checkpoints_where_that_fits(run: Runner) -> None:
    """An expert's review: recommend ranked Qwen3-8B LoRA at 32k tokens on an RTX 4090 tight, and
    the Python recipe (TRL's stack) took 25.85 GB of 25.76, warned it did not fit and pointed to
    another plan, where its own checkpoints in CPU RAM fit it at ~17 GB (a change its estimate
    lists). The recipe turns activation_offloading on then, and says why; within --ram only."""
    profile = ("--gpu", "rtx-4090", "--model", "qwen3-8b", "--goal", "chat", "--data-kind", "demonstrations")
    profile += ("--examples", "2k", "--seq-len", "32k")
    written = ok(run("recipe", *profile))
    assert "does not fit" not in written.stderr
    assert "'activation_offloading': True" in written.stdout
    assert "activation_offloading = True  <- this recipe's own estimate" in written.stdout
    short = ok(run("recipe", *profile[:-2], "--seq-len", "4k")).stdout
    assert "'activation_offloading': True" not in short
    tight = ok(run("recipe", *profile, "--ram", "2"))
    assert "'activation_offloading': True" not in tight.stdout


def test_a_macs_refused_plan_says_why_here_and_names_a_plan_above_it_too(run: Runner, tmp_path: Path) -> None:
    """An expert's review: on a Mac, `recipe --plan 2` of a QLoRA DPO plan said mlx-lm has no DPO
    trainer and to use axolotl (CUDA's), while plans 1 and 3 fell back to the Python recipe; and
    the better plan to pick, plan 1, was never named (only plans below were). The bundled rules
    leave that plan out; a knowledge base without the rule still gets the refusal."""
    kb = write_kb_without_rule(tmp_path, "apple-silicon-qlora-outside-mlx")
    profile = ("--gpu", "M3 Max 64GB", "--model", "qwen3-4b-instruct-2507", "--goal", "align")
    profile += ("--data-kind", "preferences", "--examples", "5k")
    said = " ".join(fails(run("--kb", kb, "recipe", *profile, "--plan", "2"), 2).stderr.split())
    assert "bitsandbytes" in said and "axolotl" not in said and "mlx-lm's LoRA" not in said
    assert "mlx quantizes the base without bitsandbytes but does not train the plan's dpo stage" in said
    assert "(another plan that trains here: --plan 1, LoRA)" in said


def test_a_tight_long_context_recipe_keeps_its_checkpoints_in_cpu_ram(run: Runner) -> None:
    """An expert's review: a 26-hour QLoRA recipe at 32k on an RTX 4090 was written at 24.19 of
    25.76 GB (tight, past the 90 % margin) with activation offloading off, while with it the plan
    needs 16.4 GB. A tight stage turns it on where every stage then fits within the margin."""
    profile = ("--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--goal", "chat", "--seq-len", "32k")
    written = ok(run("recipe", *profile, "--examples", "2k", "--tokens-per-example", "20000")).stdout
    assert "'activation_offloading': True" in written
    header = " ".join(written.replace("#", " ").split())
    memory = re.search(
        r"Memory estimate for this recipe's settings, per GPU of [\d.]+ GB: sft [\d.]+ GB at batch 1: (\w+)",
        header,
    )
    assert memory is not None and memory.group(1) == "fits"  # not TIGHT
    ram = re.search(r"with the checkpoints in CPU RAM \(([\d.]+) GB of it\) every stage fits", header)
    assert ram is not None and float(ram.group(1)) > 1


@pytest.mark.parametrize("trainer", ["axolotl", "python"])
def test_files_shown_as_comments_end_no_line_in_blanks(run: Runner, trainer: str) -> None:
    """A newcomer's review: the reward functions shown under an axolotl GRPO config had 9 lines
    ending in '#   '; so did a Python recipe's launcher config."""
    args = ("recipe", "--gpu", "h100", "--gpus", "2", "--model", "qwen3-8b", "--data-kind", "reward-function")
    written = ok(run(*args, "--examples", "1k", "--trainer", trainer, "--out", "-")).stdout
    assert "(--out DIR writes it as its own file)" in written
    assert not [line for line in written.splitlines() if line.endswith(" ")]


def test_a_refusal_that_says_pick_another_plan_names_the_one_to_pick(run: Runner) -> None:
    """A newcomer's review: plan 1's refusal ended "pick another plan with --plan", and --plan 2
    was a hosted service, --plan 3 needed 122 GB of a T4. It names the next plan that trains
    here and fits, or says there is none."""
    said = fails(run("recipe", "--gpu", "rtx-4090", "--model-size", "70b"), 2).stderr
    assert "(another plan that trains here: --plan 2, LoRA)" in " ".join(said.split())
    none = fails(run("recipe", "--gpu", "t4", "--model", "gemma-3-27b-it"), 2).stderr
    assert "(no other plan trains here and is written)" in " ".join(none.split())


def test_full_dpo_drops_its_reference_copy_before_it_changes_the_optimizer(run: Runner) -> None:
    """An expert's review: full-weight DPO that missed the margin got 8-bit AdamW, and the frozen
    reference copy (2 bytes a parameter, sharded) was never dropped, though TRL 1.2+ computes its
    log-probabilities before training without one (precompute_ref_log_probs=True, no ref_model).
    Qwen2.5-14B on 4 H100s now trains with AdamW, sized without the copy; the Python recipe writes
    it and loads no reference; axolotl, which loads the copy whatever it is told, is sized with it."""
    args = ("--gpu", "h100-80gb", "--gpus", "4", "--model", "qwen2.5-14b", "--goal", "chat")
    args += ("--data-kind", "preferences", "--model-variant", "instruct", "--examples", "20k")
    args += ("--priority", "quality")
    ranked = ok(run("recommend", *args, "--json")).json()["recommendations"]
    full = next(p for p in ranked if p["method"] == "full-ft")
    assert full["variant"] is None and full["fit"] == "yes" and full["assumptions"]["reference_precomputed"]
    assert any(c.startswith("Sized without the frozen reference copy") for c in full["caveats"])
    assert not any(
        c.startswith("Training every weight, DPO and KTO load a frozen copy") for c in full["caveats"]
    )
    plan = ("--plan", str(full["rank"]), "--out", "-")
    script = ok(run("recipe", *args, *plan)).stdout
    assert "REFERENCE_STAGES = ()" in script and "'precompute_ref_log_probs': True" in script
    axolotl = ok(run("recipe", *args, *plan, "--trainer", "axolotl")).stdout
    assert "precompute_ref_log_probs" not in axolotl.split("# Note:")[0]
    flat = ok(run("estimate", "--method", "full-ft", "--objective", "dpo", *args[:6], "--json")).json()
    assert not flat["assumptions"]["reference_precomputed"] and flat["per_gpu_gb"] > full["memory_gb"] + 7


def test_a_trainer_whose_plans_do_not_fit_says_so_not_that_plan_1_is_hosted(run: Runner) -> None:
    """A newcomer's review: `recipe --trainer axolotl` on 6 GB answered that plan 1 (hosted
    fine-tuning, which ranks first once nothing fits with axolotl's software) runs at a provider,
    a plan nobody had chosen; nothing axolotl writes fits, and the best of them is named."""
    args = ("recipe", "--vram", "6", "--model-size", "7b", "--goal", "chat", "--examples", "3000")
    result = fails(
        run(*args, "--trainer", "axolotl", "--out", "-"), 2, "no plan --trainer axolotl writes fits"
    )
    assert "runs at a provider" not in result.stderr and "QLoRA" in result.stderr
    assert "no other plan trains here" not in result.stderr  # a diff review: the hint contradicted it


def test_a_reward_models_length_option_says_longer_pairs_are_left_out() -> None:
    """TRL's RewardTrainer drops a pair longer than max_length (the card's drops_long): its
    recipe's --max-length said longer examples were truncated."""
    rec = recommend(gpu="h100-80gb", model="qwen3-8b", goal="classify", data_kind="preferences")
    assert rec.plans[0].pipeline == ("reward-model",)
    reward = render(Case("reward", rec, 1), "python")
    assert "help='longer pairs are left out'" in reward and "report_cut(trainer" in reward
    dpo = recommend(gpu="h100-80gb", model="qwen3-8b", goal="align", data_kind="preferences")
    assert "help='longer examples are truncated'" in render(Case("dpo", dpo, 1), "python")


def test_a_wrapped_stage_counts_no_cut_examples() -> None:
    """An expert's review: continued pre-training packs documents "wrapped" into full rows, so the
    script said 29 of 30 examples reached --max-length and were cut, where nothing was lost."""
    values = constants(render(case_named("lora-continued-pretraining-decoder"), "python"))
    assert "CUT_STAGES" not in values
    assert constants(render(case_named("lora-sft-decoder"), "python"))["CUT_STAGES"] == ("sft",)


def test_local_prompting_and_embedding_recipes_say_what_to_install(run: Runner) -> None:
    """A newcomer's review: the local RAG and embedding-classifier scripts import torch,
    transformers and safetensors, and their headers had no Setup line (the training and API
    recipes had one)."""
    stored = "torch transformers safetensors"
    for profile, packages in (
        (("--goal", "knowledge", "--data-kind", "text"), stored),
        (("--goal", "chat", "--data-kind", "none"), "torch transformers"),
        (("--goal", "classify", "--data-kind", "labeled", "--examples", "300"), stored),
    ):
        header = " ".join(ok(run("recipe", "--gpu", "4090", *profile, "--out", "-")).stdout.split())
        assert f"# Setup: pip install {packages} #" in header, profile


def test_a_local_prompting_script_leaves_a_reasoning_model_room_to_answer() -> None:
    """An expert's review: Qwen3's RAG script had 256 new tokens and its chat template's thinking
    on, so the script printed cut-off reasoning. The scripts switch a hybrid model's thinking off
    (256 tokens stay enough); a model that always reasons gets 4,096, its header says why."""
    for model, room in (
        ("qwen3-8b", "MAX_NEW_TOKENS = 256"),
        ("deepseek-r1-distill-qwen-7b", "MAX_NEW_TOKENS = 4096"),
    ):
        rec = recommend(gpu="h100", model=model, goal="knowledge", data_kind="text", examples="20k")
        text = render_recipe(CATALOG, rec, rank_of(rec, "rag"), "python")
        assert room in text and 'CHAT_TEMPLATE_KWARGS = {"enable_thinking": False}' in text, model


def test_a_few_shot_script_says_how_to_pick_examples_per_query_without_a_plan_not_shown() -> None:
    """A newcomer's review: an API-only user's few-shot script pointed to 'the RAG plan's recipe'
    for retrieving examples per query, a plan left out of their list (demonstrations are no
    documents)."""
    rec = recommend(model_access="api", goal="chat", data_kind="demonstrations", examples="2k")
    assert "rag" not in [p.method for p in rec.plans]
    text = " ".join(render_recipe(CATALOG, rec, rank_of(rec, "icl"), "python").split())
    assert "put the most typical first" in text and "RAG plan" not in text
    assert "take the nearest to the query's embedding" in text


def test_llama_4_s_preference_stages_are_not_written_for_axolotl_s_trl(run: Runner) -> None:
    """A diff review: axolotl's rl: stages run trl 1.9, whose DPO asks Llama 4 for the aux_loss its
    config declares and its model never returns (AttributeError at step 1); the Python recipe
    turns TRL's loss off instead. Families whose configs declare no coefficient keep no setting."""
    args = ("--gpu", "h100", "--gpus", "8", "--model", "llama-4-scout", "--goal", "align")
    args += ("--data-kind", "preferences", "--examples", "5k", "--out", "-")
    refused = run("recipe", *args, "--trainer", "axolotl")
    assert refused.exit_code == 2 and "read outputs.aux_loss, which it never returns" in refused.stderr
    assert "'router_aux_loss_coef': 0.0" in ok(run("recipe", *args, "--trainer", "python")).stdout
    gemma = ok(run("recipe", *args[:5], "gemma-4-26b-a4b-it", *args[6:], "--trainer", "python")).stdout
    assert "no_router_aux_loss" not in gemma
