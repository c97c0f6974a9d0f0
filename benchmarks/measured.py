"""Measured peak GPU memory of real fine-tuning runs, each with the conditions it was measured
under and where it was published. benchmarks/published.py sets ft-atlas's estimate beside each
row; tests/test_memory.py holds the public set (`public=True`) within ±25 %.

A measured figure is what a run reported (peak allocated or reserved memory, in the unit the
source uses), not a project's own estimate: those are compared separately in published.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GIB = 2**30 / 1e9  # GB per GiB
MIB = 2**20 / 1e9  # GB per MiB
MS_SWIFT_PPO = (
    "ms-swift examples/train/rlhf/ppo/{lora,full}.sh, the memory in their first line "
    "(modelscope/ms-swift@07193697)"
)


@dataclass(frozen=True)
class MemoryRow:
    source: str  # where the figure was published, with a revision when it has one
    conditions: str  # as the source states them
    model: str  # catalog id
    method: str  # method id
    memory_model: str
    measured_gb: float  # GB (10^9 bytes); a GiB figure is converted with GIB
    settings: dict[str, Any] = field(default_factory=dict)  # the estimator's settings for the run
    gpus: int = 1
    gpu: str | None = None  # catalog id, where the estimate depends on the card (Unsloth's loss chunks)
    capacity_gib: float | None = None  # for "longest context that fits" rows
    public: bool = False  # part of the public calibration set the tests hold within ±25 %
    note: str = ""

    @property
    def longest_context(self) -> bool:
        """A row whose measurement is the longest sequence that fit (tokens, not GB)."""
        return self.capacity_gib is not None


LF_WIKI = (
    "LLaMA-Factory wiki, Performance comparison (figures as quoted in issue #14; the wiki page "
    "could not be re-read here)"
)
PEFT_MMQA = "PEFT method_comparison/MetaMathQA/results (huggingface/peft@5d602fdb), cuda_memory_reserved_99th"
# PEFT's later results (huggingface/peft@5d602fdb, transformers 5.13), whose field is named
# accelerator_memory_reserved_99th: (file, method in words, method, memory model, GB, settings,
# tokens/s over the summed step times, not train_time, which includes evaluation).
PEFT_MMQA_NEW = (
    "huggingface/peft@5d602fdb method_comparison/MetaMathQA/results/{file}, accelerator_memory_reserved_99th"
)
PEFT_MMQA_METHODS: tuple[tuple[str, str, str, str, float, dict[str, object], int, str | None], ...] = (
    (
        "lora--llama-3.2-3B-rank64.json",
        "LoRA r64 on q_proj, v_proj",
        "lora",
        "lora",
        20.37,
        {"lora_rank": 64, "lora_targets": "qv"},
        7062,
        None,
    ),
    (
        "adalora--llama-3.2-3B-rank32.json",
        "AdaLoRA init_r 64 to target_r 32 on q_proj, v_proj",
        "adalora",
        "adalora",
        20.60,
        {"lora_rank": 64, "lora_targets": "qv"},
        5891,
        None,
    ),
    (
        "ia3--llama-3.2-3B-default.json",
        "IA3 on k_proj, v_proj, down_proj",
        "ia3",
        "ia3",
        20.93,
        {},
        7225,
        None,
    ),
    (
        "ptuning--llama-3.2-3B-default.json",
        "P-tuning",
        "p-tuning",
        "p-tuning",
        19.19,
        {},
        7254,
        "sized at 768 tokens like the rows beside it, whose 99th-percentile step is shorter; its "
        "prompt encoder's virtual tokens lengthen every sequence, so the gap is larger here",
    ),
)
PEFT_MMQA_CONDITIONS = (
    "Llama-3.2-3B, one L40S, pure bf16 (no AMP), batch 4, max length 768 (dynamic padding), "
    "no activation checkpointing, SDPA, AdamW"
)
ANSWER_AI = "Answer.AI fsdp_qlora benchmarks_03_2024.md (AnswerDotAI/fsdp_qlora@05ed9f2a)"
ANSWER_AI_STRATEGY: dict[str, dict[str, Any]] = {
    "FSDP": {"sharding": "zero3", "fsdp": True},
    "DDP": {"sharding": "ddp"},
    "FSDP with CPU offload": {"sharding": "zero3", "fsdp": True, "offload": "params"},
}
# Unsloth's reasoning notebooks: QLoRA r32 at micro-batch 2 and 2,048 tokens, adamw_8bit.
UNSLOTH_NOTEBOOK_QLORA = {
    "batch_size": 2,
    "seq_len": 2048,
    "lora_rank": 32,
    "optimizer": "adamw-8bit",
    "stack": "unsloth",
}
AX_SCOUT = (
    "axolotl examples/llama-4/README.md, figures of 2025-04-15 (axolotl-ai-cloud/axolotl@067b021c; configs "
    "scout-qlora-single-h100-flex.yaml, scout-qlora-flexattn-fsdp2.yaml; checkpoint "
    "axolotl-quants/Llama-4-Scout-17B-16E-Linearized-bnb-nf4-bf16)"
)
LITGPT = (
    "Lightning-AI/litgpt@03ffc551 config_hub/finetune/README.md (configs at @26857050 "
    "config_hub/finetune/*; litgpt/finetune/lora.py reports torch.cuda.max_memory_allocated)"
)
# LitGPT's QLoRA keeps the embeddings and norms in bf16, which the estimate (transformers + PEFT)
# upcasts to fp32; its counter also covers loading the 16-bit checkpoint before quantizing it
# (torchtune's QLoRA tutorial reserves 9.13 GB right after loading, 9.29 GB in training).
LOAD_PEAK = "LitGPT loads the 16-bit checkpoint before quantizing it and keeps embeddings in bf16"
# FSDP1's limit_all_gathers bounds gathers in flight at two, not the freed buffers that linger.
OFFLOAD_FLOOR = (
    "parameter offload is a lower bound here: FSDP may hold freed gather buffers beyond the two "
    "gathered layers"
)
ANSWER_AI_OFFLOAD = OFFLOAD_FLOOR
PURE_BF16_NO_AC = {"precision": "pure-bf16", "batch_size": 4, "seq_len": 768, "gradient_checkpointing": False}
# Unsloth's notebooks print torch.cuda.max_memory_reserved() / 1024**3 as "GB": GiB.
UNSLOTH_NOTEBOOK = (
    "unslothai/notebooks@bdda2efc nb/{}.ipynb, its output ('Peak reserved memory = {} GB.': "
    "torch.cuda.max_memory_reserved() / 1024**3)"
)
# axolotl's QLoRA examples of Mistral Small 3.1's 24B derivatives (text only, estimated on its shape).
AXOLOTL_QLORA = (
    "one GPU, load_in_4bit, sample packing to 2,048 tokens, micro-batch 2, gradient accumulation 4, "
    "FlashAttention 2, Cut Cross Entropy, gradient checkpointing, bf16 auto"
)

# torchtune README, "Optimization flags": each technique added on top of the one before (LoRA and
# QLoRA without the fused step and 8-bit AdamW), "Peak Memory Active (GiB)", torch's counter.
TORCHTUNE_FLAGS_MEMORY = (
    "torchtune README, Optimization flags (pytorch/torchtune@1814feb1; Llama 3.2 3B, one A100, batch 2, "
    "4096 tokens, bf16; recipes full_finetune_single_device and lora_finetune_single_device), Peak "
    "Memory Active"
)
TORCHTUNE_EAGER: dict[str, Any] = {"stack": "hf", "gradient_checkpointing": False}
TORCHTUNE_CHUNKED: dict[str, Any] = {"stack": "liger", "gradient_checkpointing": False}
TORCHTUNE_CHECKPOINTED: dict[str, Any] = {**TORCHTUNE_CHUNKED, "gradient_checkpointing": True}
TORCHTUNE_IN_BACKWARD: dict[str, Any] = {**TORCHTUNE_CHECKPOINTED, "optimizer_in_backward": True}
TORCHTUNE_OFFLOADED: dict[str, Any] = {**TORCHTUNE_IN_BACKWARD, "activation_offloading": True}
TORCHTUNE_LORA: dict[str, Any] = {**TORCHTUNE_CHECKPOINTED, "activation_offloading": True, "lora_rank": 64}

# Sources of the rows an accuracy review added on 2026-12-07.
TORCHTUNE_README = (
    "pytorch/torchtune@bd2a0fc7 README.md, 'Memory and training speed' (batch 2, packed to 2048, "
    "torch.compile; Peak Memory per GPU)"
)
AUTOMODEL_CHECKPOINTING = (
    "NVIDIA-NeMo/Automodel@36044ad3 docs/guides/gradient-checkpointing.mdx, 'Example Memory Savings "
    "(H100-80GB, Llama-3.2-1B)' (config examples/llm_finetune/llama3_2/llama3_2_1b_squad.yaml; "
    "torch.cuda.max_memory_allocated)"
)
MS_SWIFT_EXAMPLE = "modelscope/ms-swift@3602360a {} (its first line, '{}')"
UNSLOTH_PEAK = (
    "unslothai/notebooks@bdda2efc nb/{}.ipynb, its output ('Peak reserved memory = {} GB.': "
    "torch.cuda.max_memory_reserved() / 1024**3)"
)
AXOLOTL_README = "axolotl-ai-cloud/axolotl@{} {} ('{}')"
QWEN_LORA_R8: dict[str, Any] = {"lora_rank": 8, "stack": "hf", "seq_len": 256, "batch_size": 1}

# Qwen2.5-3B is not in the catalog: its published config.json, as --model reads one.
QWEN25_3B_CONFIG = str(
    Path(__file__).resolve().parent.parent / "tests/fixtures/configs/Qwen--Qwen2.5-3B.json"
)

# Sources and shared settings of the rows a memory review of the fifty-second round added.
SWIFT_COMMENT = "modelscope/ms-swift@3602360a {} ('{}')"
AAI_MISTRAL = (
    "Answer.AI fsdp_qlora benchmarks_03_2024.md, 'Bonus: Mistral 7B' (AnswerDotAI/fsdp_qlora@23fafdfb)"
)
AAI_SETTINGS = {
    "lora_rank": 64,
    "lora_dropout": 0.1,
    "sharding": "zero3",
    "fsdp": True,
    "offload": "params",
    "stack": "hf",
}
SWIFT_SELF = {"seq_len": 256, "batch_size": 1, "lora_rank": 8, "stack": "hf"}


# Sources, settings and builders of the rows a memory review of the fifty-third round added.
FMS = (
    "foundation-model-stack/fms-acceleration@876e2ed6 scripts/benchmarks/refs/a100_80gb.csv, "
    "mem_nvidia_mem_reserved (nvidia-smi memory.used peak, MiB, mean over GPUs; conditions from "
    "scenarios.yaml, defaults.yaml, accelerate.yaml, benchmark.py and refs/requirements.txt)"
)
FMS_WHAT = (
    "A100 80GB, alpaca packed to 4,096, FlashAttention 2, gradient checkpointing, transformers 4.48.1, "
    "peft 0.13.2, trl 0.13.0, bitsandbytes 0.43.3; 2 GPUs: FSDP1 FULL_SHARD"
)
# GLM-4.7-Flash (30B-A3B: MLA, 64 routed experts) is not in the catalog: its shape as vLLM's
# glm4_moe_lite config test writes the checkpoint's config.json (_glm4_moe_lite_min_config).
GLM47_FLASH = str(Path(__file__).resolve().parent / "configs/zai-org--GLM-4.7-Flash.json")
# axolotl-ai-cloud/axolotl@067b021c examples/glm47-flash (qlora.yaml, lora.yaml and their FSDP2
# twins): micro-batch 2, packed to 2,048, Cut Cross Entropy, adamw_torch_8bit, flash attention 2,
# checkpointing, LoRA r32 on o_proj (MLA has no q/k/v_proj), experts loaded quantized.
GLM_AXOLOTL: dict[str, Any] = {
    "seq_len": 2048,
    "batch_size": 2,
    "lora_rank": 32,
    "lora_targets": "attention",
    "optimizer": "adamw-8bit",
    "stack": "liger",
    "quantized_experts": True,
    "kbit_preparation": "recast",
}


PREPARED_RESIDUAL = (
    "PEFT's prepare_model_for_kbit_training leaves the norms and embeddings in fp32, so the residual "
    "stream each checkpointed layer keeps is fp32 (RMSNorm multiplies by its fp32 weight, Linear4bit "
    "returns its input's dtype), where the estimate keeps 16 bits: ~4.3 GB at micro-batch 4 here. Not "
    "modelled: the LLaMA-Factory and Answer.AI QLoRA rows above, whose trainers do not prepare the base "
    "so, would be overestimated by it"
)


def fms(
    what: str, model: str, method: str, mib: int, batch: int, gpus: int, note: str = "", **settings: Any
) -> MemoryRow:
    """An fms-acceleration reference run (its A100 80GB table): LoRA r16 on q, k, v, o with
    dropout 0.1 at 4,096 packed tokens, TRL 0.13, which prepares a QLoRA base with PEFT (the hf
    stack); FSDP1 on 2 GPUs."""
    given = {
        "seq_len": 4096,
        "lora_rank": 16,
        "lora_targets": "attention",
        "lora_dropout": 0.1,
        "stack": "hf",
    }
    sharded = {"sharding": "zero3", "fsdp": True} if gpus > 1 else {}
    return MemoryRow(
        FMS,
        f"{what}, {gpus} GPU(s), micro-batch {batch}; {FMS_WHAT}: {mib:,} MiB",
        model,
        method,
        "full" if method == "full-ft" else method,
        mib * MIB,
        given | {"batch_size": batch} | sharded | settings,
        gpus=gpus,
        # Its QLoRA rows stay out of the public set: see PREPARED_RESIDUAL and docs/memory.md.
        public=method != "qlora",
        note=note,
    )


def unsloth_t4(
    notebook: str, peak_gib: float, what: str, model: str, batch: int, rank: int, **settings: Any
) -> MemoryRow:
    """An Unsloth notebook's QLoRA run on a Tesla T4 (fp16, 2,048 tokens, 4 steps of gradient
    accumulation, 8-bit AdamW unless `settings` say otherwise): its printed peak reserved memory."""
    return MemoryRow(
        UNSLOTH_PEAK.format(notebook, peak_gib),
        f"{what}: QLoRA r{rank}, T4, batch {batch} x GA 4, max 2048 tokens: {peak_gib} GiB",
        model,
        "qlora",
        "qlora",
        peak_gib * GIB,
        {"batch_size": batch, "lora_rank": rank, "seq_len": 2048, "optimizer": "adamw-8bit"}
        | {"stack": "unsloth", "precision": "fp16", **settings},
        gpu="t4",
        public=True,
    )


# transformers' single-GPU guide of 2022 (kept in its Korean translation; the English page of
# v4.18-v4.26): bert-large-uncased as a sequence classifier on random 512-token rows, a V100 16GB,
# nvidia-smi's memory.used (pynvml) after trainer.train(), which includes the CUDA context: 1,343
# MiB on its CUDA 11.2, before lazy module loading, where the estimate counts 0.5 GB.
HF_SINGLE_GPU = (
    "huggingface/transformers docs/source/ko/perf_train_gpu_one.md (the 2022 text; en v4.18-v4.26), "
    "'GPU memory occupied: {:,} MB' (MiB, pynvml memory.used after trainer.train())"
)


def hf_single_gpu(what: str, mib: int, **settings: Any) -> MemoryRow:
    """One run of transformers' 2022 single-GPU guide (HF_SINGLE_GPU): Trainer defaults (fp32,
    AdamW, no checkpointing, eager attention with BERT's attention dropout) unless `settings`
    say otherwise."""
    return MemoryRow(
        HF_SINGLE_GPU.format(mib),
        f"bert-large-uncased sequence classifier, V100 16GB, 512 random tokens, eager attention, "
        f"Trainer defaults (fp32, AdamW, no checkpointing) unless said; {what}: {mib:,} MiB",
        "bert-large",
        "full-ft",
        "full",
        mib * MIB,
        {"seq_len": 512, "attention": "eager", "gradient_checkpointing": False, "precision": "fp32"}
        | settings,
        gpu="v100-16gb",
        public=True,
        note="nvidia-smi with a 1.34 GiB CUDA context of CUDA 11.2 (the estimate counts 0.5 GB)",
    )


TORCHTUNE_LORA_LAYERS = (
    "pytorch/torchtune@bd2a0fc7 docs/source/tutorials/lora_finetune.rst, its table of LoRA layers and "
    "ranks (config llama2/7B_lora_single_device: batch 2, bf16, activation checkpointing, "
    "alpaca-cleaned), 'Peak Memory'"
)


MEMORY_ROWS: tuple[MemoryRow, ...] = (
    # --- the public set (issue #14) --------------------------------------------------------------
    MemoryRow(
        LF_WIKI,
        "LLaMA2-7B, LoRA r8 on all modules, batch 4, cutoff 1024, Hugging Face attention",
        "llama-2-7b",
        "lora",
        "lora",
        18.0,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8},
        public=True,
    ),
    MemoryRow(
        LF_WIKI,
        "LLaMA2-7B, LoRA r8 on all modules, batch 4, cutoff 1024, FlashAttention-2",
        "llama-2-7b",
        "lora",
        "lora",
        17.0,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8},
        public=True,
        note="the estimate assumes memory-efficient attention for both rows",
    ),
    MemoryRow(
        LF_WIKI,
        "LLaMA2-7B, LoRA r8 on all modules, batch 4, cutoff 1024, Unsloth",
        "llama-2-7b",
        "lora",
        "lora",
        16.0,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8, "stack": "unsloth"},
        public=True,
    ),
    MemoryRow(
        LF_WIKI,
        "LLaMA2-7B, QLoRA 4-bit r8 on all modules, batch 4, cutoff 1024, Hugging Face",
        "llama-2-7b",
        "qlora",
        "qlora",
        9.0,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8},
        public=True,
    ),
    MemoryRow(
        LF_WIKI,
        "LLaMA2-7B, QLoRA 4-bit r8 on all modules, batch 4, cutoff 1024, Unsloth",
        "llama-2-7b",
        "qlora",
        "qlora",
        7.0,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8, "stack": "unsloth"},
        public=True,
    ),
    *(
        MemoryRow(
            LF_WIKI,
            f"LLaMA2-7B, QLoRA 4-bit, batch 1, {tokens} tokens, FlashAttention-2, A100-40GB",
            "llama-2-7b",
            "qlora",
            "qlora",
            measured,
            {"batch_size": 1, "seq_len": tokens, "lora_rank": 8},
            public=True,
        )
        for tokens, measured in ((1024, 6.0), (4096, 9.0), (16384, 19.0), (32768, 32.0))
    ),
    MemoryRow(
        PEFT_MMQA,
        PEFT_MMQA_CONDITIONS + "; LoRA r32 on q_proj, v_proj",
        "llama-3.2-3b",
        "lora",
        "lora",
        20.12,
        {**PURE_BF16_NO_AC, "lora_rank": 32, "lora_targets": "qv"},
        public=True,
        note="lengths vary (mean ~210 tokens): its 99th-percentile step is shorter than the 768 sized here",
    ),
    MemoryRow(
        PEFT_MMQA,
        PEFT_MMQA_CONDITIONS
        + "; prefix tuning, 200 virtual tokens (results/prefixtuning--llama-3.2-3B-lr_0.001.json)",
        "llama-3.2-3b",
        "prefix-tuning",
        "prefix",
        19.18,
        {**PURE_BF16_NO_AC, "virtual_tokens": 200},
        note="PEFT passes the prefix as past keys and values: the sequences do not grow (1.46x when they "
        "did); sized at 768 tokens like the rows beside it, whose 99th-percentile step is shorter",
    ),
    MemoryRow(
        PEFT_MMQA,
        PEFT_MMQA_CONDITIONS + "; full fine-tuning",
        "llama-3.2-3b",
        "full-ft",
        "full",
        37.35,
        PURE_BF16_NO_AC,
        public=True,
    ),
    MemoryRow(
        PEFT_MMQA,
        PEFT_MMQA_CONDITIONS + "; DoRA r32 on q_proj, v_proj",
        "llama-3.2-3b",
        "dora",
        "dora",
        22.18,
        {**PURE_BF16_NO_AC, "lora_rank": 32, "lora_targets": "qv"},
        public=True,
    ),
    MemoryRow(
        PEFT_MMQA,
        PEFT_MMQA_CONDITIONS + "; prompt tuning",
        "llama-3.2-3b",
        "prompt-tuning",
        "prompt",
        22.73,
        PURE_BF16_NO_AC,
        public=True,
    ),
    *(
        MemoryRow(
            PEFT_MMQA_NEW.format(file=file),
            PEFT_MMQA_CONDITIONS + "; " + what,
            "llama-3.2-3b",
            method,
            memory_model,
            measured,
            {**PURE_BF16_NO_AC, **settings},
            public=note is None,
            note=note or "",
        )
        for file, what, method, memory_model, measured, settings, _, note in PEFT_MMQA_METHODS
    ),
    MemoryRow(
        "Unsloth README long-context table (unslothai/unsloth@0acd1c7e)",
        "Llama-3.1-8B Instruct, QLoRA 4-bit r32 on all linear layers, batch 1, sequences padded to length; "
        "Hugging Face + FlashAttention-2: the longest context that fit a 24 GB card was 5,789 tokens",
        "llama-3.1-8b",
        "qlora",
        "qlora",
        5789,
        {"batch_size": 1, "lora_rank": 32},
        capacity_gib=24,
        public=True,
        note=(
            "the table's Hugging Face column grows by exactly 404.75 tokens per GB of card from 12 to "
            "80 GB (Unsloth's by 4,718.9): a straight line through a few runs rather than one run per "
            "card, so its 40 and 80 GB cells are not compared here"
        ),
    ),
    # --- more measured runs (not held to ±25 %: see docs/memory.md) ---------------------------------
    *(
        MemoryRow(
            "Unsloth README, Llama 3.3 (70B) max. context length (unslothai/unsloth@e3162dc5)",
            "Llama-3.3-70B Instruct, QLoRA 4-bit r32 on all linear layers, batch 1, sequences padded to "
            f"length, one A100 80GB: the longest context that fit was {tokens:,} tokens with {stack}",
            "llama-3.3-70b",
            "qlora",
            "qlora",
            tokens,
            {"batch_size": 1, "lora_rank": 32, **settings},
            capacity_gib=80,
            note=note,
        )
        for stack, tokens, settings, note in (
            ("Hugging Face + FlashAttention 2", 6916, {"stack": "hf"}, ""),
            (
                "Unsloth",
                89389,
                {"stack": "unsloth", "optimizer": "adamw-8bit"},
                "Unsloth's usual 8-bit AdamW assumed (the README does not name the optimizer); its 48 GB "
                "cell (12,106) fits past the safety margin: estimate --max seq-len says 12,316 tight",
            ),
        )
    ),
    *(
        MemoryRow(
            "Unsloth blog, '2x faster Gemma 2 finetuning + 63% less VRAM' "
            "(unsloth.ai/blog/gemma2, 2024-07-03)",
            f"Gemma 2 {size} QLoRA r32 on q, k, v, o, gate, up, down (the blog's tests; batch 1 assumed "
            f"for the context figure): the longest context that fit a {card} GB card was {tokens}",
            model,
            "qlora",
            "qlora",
            tokens,
            {"batch_size": 1, "lora_rank": 32, **settings},
            capacity_gib=card,
            public=True,
            note=(
                "soft-capped attention has no FlashAttention in Unsloth unless flash-attn 2.6.3 is "
                "installed: its s x s scores are counted (COMPILED_SOFTCAPPING_BYTES)"
                if settings["stack"] == "unsloth"
                else ""
            ),
        )
        for size, model, card, tokens, settings in (
            ("27B", "gemma-2-27b", 40, 9700, {"stack": "unsloth", "optimizer": "adamw-8bit"}),
            ("27B", "gemma-2-27b", 40, 3000, {"stack": "hf"}),
            ("9B", "gemma-2-9b", 24, 11000, {"stack": "unsloth", "optimizer": "adamw-8bit"}),
            ("9B", "gemma-2-9b", 24, 2600, {"stack": "hf"}),
        )
    ),
    MemoryRow(
        "torchtune README, Memory and training speed (pytorch/torchtune@bd2a0fc7)",
        "Llama 3.1 8B, LoRA r8, one RTX 4090, batch 2, packed to 2048, torch.compile, activation "
        "checkpointing, chunked (linear) cross-entropy: 16.2 GiB",
        "llama-3.1-8b",
        "lora",
        "lora",
        16.2 * GIB,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 8, "stack": "liger"},
        note="torch.compile lowers activation memory further than the model assumes",
    ),
    MemoryRow(
        "torchtune README, Memory and training speed (pytorch/torchtune@bd2a0fc7)",
        "Llama 3.1 8B, QLoRA r8, one RTX 4090, batch 2, packed to 2048, compile, activation "
        "checkpointing, chunked cross-entropy: 7.4 GiB",
        "llama-3.1-8b",
        "qlora",
        "qlora",
        7.4 * GIB,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 8, "stack": "liger"},
    ),
    MemoryRow(
        "torchtune README, Memory and training speed (pytorch/torchtune@bd2a0fc7; config "
        "recipes/configs/llama3_1/8B_full_single_device.yaml)",
        "Llama 3.1 8B full fine-tuning, one RTX 4090, batch 2, packed to 2048, torch.compile, "
        "activation checkpointing, chunked cross-entropy, bf16 weights, bitsandbytes PagedAdamW8bit, "
        "optimizer_in_bwd: 18.9 GiB",
        "llama-3.1-8b",
        "full-ft",
        "full",
        18.9 * GIB,
        {
            "batch_size": 2,
            "seq_len": 2048,
            "stack": "liger",
            "precision": "pure-bf16",
            "optimizer": "paged-adamw-8bit",
            "optimizer_in_backward": True,
        },
        gpu="rtx-4090",
        note="torchtune's peak is torch's own counter, which never sees the paged states (CUDA managed "
        "memory): the estimate counts the 2.7 GB of them that stay on the card",
    ),
    *(
        MemoryRow(
            TORCHTUNE_FLAGS_MEMORY,
            f"{technique}: {gib} GiB",
            "llama-3.2-3b",
            method,
            method.removesuffix("-ft"),
            gib * GIB,
            {"batch_size": 2, "seq_len": 4096, "precision": "pure-bf16", **settings},
            public=True,
        )
        for technique, gib, method, settings in (
            ("full fine-tuning, packed, eager, AdamW, no checkpointing", 60.0, "full-ft", TORCHTUNE_EAGER),
            ("+ compile, chunked cross-entropy", 42.9, "full-ft", TORCHTUNE_CHUNKED),
            ("+ activation checkpointing", 24.9, "full-ft", TORCHTUNE_CHECKPOINTED),
            ("+ the optimizer step fused into the backward", 23.1, "full-ft", TORCHTUNE_IN_BACKWARD),
            ("+ activation offloading", 21.8, "full-ft", TORCHTUNE_OFFLOADED),
            ("+ 8-bit AdamW", 17.6, "full-ft", {**TORCHTUNE_OFFLOADED, "optimizer": "adamw-8bit"}),
            # q, v, output projections and the MLP (config 3B_lora_single_device): read as all-linear
            ("LoRA r64 (AdamW, no fused step)", 8.5, "lora", TORCHTUNE_LORA),
            ("QLoRA r64 (AdamW, no fused step)", 4.6, "qlora", TORCHTUNE_LORA),
        )
    ),
    MemoryRow(
        "PEFT docs, accelerate/fsdp.md (huggingface/peft@5d602fdb)",
        "Llama-2-70B FSDP-QLoRA on 2 GPUs, batch 2, 2048 tokens packed, activation checkpointing, "
        "bf16 quant storage: 35.6 GB per GPU",
        "llama-2-70b",
        "qlora",
        "qlora",
        35.6,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 8, "sharding": "zero3", "fsdp": True},
        gpus=2,
    ),
    MemoryRow(
        "PEFT docs, accelerate/fsdp.md (huggingface/peft@5d602fdb)",
        "the same with FSDP CPU offload: 19.6 GB per GPU, about 107 GB of CPU RAM",
        "llama-2-70b",
        "qlora",
        "qlora",
        19.6,
        {
            "batch_size": 2,
            "seq_len": 2048,
            "lora_rank": 8,
            "lora_dropout": 0.1,
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
        },
        gpus=2,
        note=OFFLOAD_FLOOR,
    ),
    MemoryRow(
        "PEFT docs, accelerate/deepspeed.md (huggingface/peft@5d602fdb)",
        "Llama-2-70B QLoRA with DeepSpeed ZeRO-3 on 2x40 GB, batch 2: 36.6 GB per GPU",
        "llama-2-70b",
        "qlora",
        "qlora",
        36.6,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 8, "sharding": "zero3"},
        gpus=2,
        note="the whole 4-bit base on each GPU: transformers loads a quantized model without zero.Init",
    ),
    # Answer.AI's train.py: LoRA r64 on all linear layers, checkpointing, 2 GPUs; peak reserved
    # memory. The offloaded runs keep more on the GPU than the two gathered layers sized here.
    *(
        MemoryRow(
            ANSWER_AI,
            f"Llama-2-{size} {method} r64 on 2x RTX {card}, {how}, batch {batch}, {length} tokens, "
            f"checkpointing: {gib:g} GiB",
            f"llama-2-{size.lower()}",
            method.lower(),
            method.lower(),
            gib * GIB,
            {
                "batch_size": batch,
                "seq_len": length,
                "lora_rank": 64,
                "lora_dropout": 0.1,
                **ANSWER_AI_STRATEGY[how],
            },
            gpus=2,
            note=note,
        )
        for size, method, card, how, batch, length, gib, note in (
            ("7B", "QLoRA", "3090", "FSDP", 1, 512, 4.98, ""),
            ("7B", "QLoRA", "3090", "FSDP", 1, 2048, 5.21, ""),
            ("7B", "LoRA", "3090", "FSDP", 1, 512, 10.24, ""),
            ("7B", "LoRA", "3090", "FSDP", 1, 2048, 10.22, "9.16 GiB allocated"),
            ("7B", "QLoRA", "3090", "FSDP", 4, 2048, 11.22, ""),
            ("7B", "QLoRA", "3090", "FSDP", 10, 2048, 20.97, ""),
            ("7B", "LoRA", "3090", "FSDP", 4, 2048, 16.14, ""),
            ("7B", "LoRA", "3090", "FSDP", 6, 2048, 21.35, ""),
            ("7B", "QLoRA", "3090", "DDP", 8, 2048, 20.94, ""),
            ("7B", "LoRA", "3090", "DDP", 4, 2048, 22.04, ""),
            ("7B", "LoRA", "4090", "FSDP with CPU offload", 10, 2048, 22.69, ANSWER_AI_OFFLOAD),
            ("7B", "QLoRA", "4090", "FSDP with CPU offload", 12, 2048, 22.38, ANSWER_AI_OFFLOAD),
            ("70B", "QLoRA", "3090", "FSDP with CPU offload", 2, 2048, 14.92, ANSWER_AI_OFFLOAD),
        )
    ),
    *(
        MemoryRow(
            MS_SWIFT_PPO,
            f"Llama-3.1-8B-Instruct PPO ({kind}), an 8B reward model, batch 1, max length 2048, response "
            f"512, DeepSpeed {sharding.upper().replace('ZERO', 'ZeRO-')} on {gpus} GPUs: {gib:g} GiB each",
            "llama-3.1-8b",
            method,
            memory_model,
            gib * GIB,
            {"objective": "rlhf-ppo", "seq_len": 2048, "lora_rank": 8, "sharding": sharding},
            gpus=gpus,
        )
        for kind, method, memory_model, sharding, gpus, gib in (
            ("LoRA r8 on all linear layers", "lora", "lora", "zero2", 4, 50),
            ("full fine-tuning", "full-ft", "full", "zero3", 8, 65),
        )
    ),
    # --- a decoder trained as a sequence classifier: no vocabulary logits ---------------------------
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/seq_cls/regression/sft.sh ('# 2GB')",
        "Qwen2.5-0.5B LoRA r8 on all linear layers, --task_type seq_cls --num_labels 1 (a score head), "
        "STS-B sentence pairs (sized at 64 tokens: max_length 2048 is never reached), micro-batch 16, "
        "bf16, checkpointing: 2 GB",
        "qwen2.5-0.5b",
        "lora",
        "lora",
        2.0,
        {"seq_len": 64, "batch_size": 16, "lora_rank": 8, "stack": "hf", "classifier_head": True},
        note="length-bound: the pairs' length is read from the data, not stated",
    ),
    # --- full fine-tuning under ZeRO-3 at long packed lengths (ms-swift's own test notes) -------------
    MemoryRow(
        "modelscope/ms-swift@3602360a docs/source_en/Megatron-SWIFT/Quick-start.md, Benchmark "
        "('GPU Memory Usage | 8*64GB | 8*80GB | 8*58GB', the DeepSpeed-ZeRO3 column)",
        "Qwen2.5-14B full fine-tuning, 8x A800 80GB (read as A100 80GB: the same memory), DeepSpeed "
        "ZeRO-3, packed to 8,192 tokens, micro-batch 1, FlashAttention 2, checkpointing, AdamW, bf16: "
        "58 GB per GPU",
        "qwen2.5-14b",
        "full-ft",
        "full",
        58.0,
        {"seq_len": 8192, "sharding": "zero3"},
        gpus=8,
    ),
    *(
        MemoryRow(
            f"modelscope/ms-swift@3602360a examples/train/liger/sft.sh ('{quote}')",
            f"Qwen2.5-7B full fine-tuning, 4x A100 80GB, DeepSpeed ZeRO-3, packed to 8,192 tokens, "
            f"micro-batch 1, FlashAttention 2, checkpointing, {kernel}: {gb:g} GB per GPU",
            "qwen2.5-7b",
            "full-ft",
            "full",
            gb,
            {"seq_len": 8192, "sharding": "zero3", "stack": stack},
            gpus=4,
        )
        for quote, kernel, stack, gb in (
            ("Using use_liger_kernel and packing: 4 * 42GB", "Liger Kernel", "liger", 42.0),
            ("Not using use_liger_kernel: 4 * 54GB", "transformers' loss", "hf", 54.0),
        )
    ),
    *(
        MemoryRow(
            "linkedin/Liger-Kernel@ead96b61 examples/huggingface/README.md, img/qwen_mem_alloc.png "
            "(its printed values; conditions from run_qwen.sh, training.py, config/fsdp_config.json; "
            "figure of 2024-08-26)",
            f"Qwen2-7B full fine-tuning, 4x A100 80GB, FSDP1 full_shard through the HF Trainer "
            f"(TRL SFTTrainer), loaded in bf16 and trained with --bf16 (accelerate upcasts the "
            f"trainable parameters to fp32), AdamW, checkpointing, Alpaca at max_seq_length 512 padded "
            f"to the batch's longest, batch {batch}, {kernel}: {mib:,} MiB peak allocated (on the "
            f"qwen2.5-7b shape, which is Qwen2-7B's; sized at 512 tokens, though Alpaca's rows are "
            f"shorter{extra})",
            "qwen2.5-7b",
            "full-ft",
            "full",
            mib * 2**20 / 1e9,
            {"seq_len": 512, "batch_size": batch, "sharding": "zero3", "fsdp": True, "stack": stack},
            gpus=4,
        )
        for batch, kernel, stack, mib, extra in (
            (32, "Liger Kernel", "liger", 39_300, ""),
            (48, "Liger Kernel", "liger", 42_086, ""),
            (64, "Liger Kernel", "liger", 42_709, ""),
            (
                32,
                "transformers' loss",
                "hf",
                51_154,
                "; the estimate counts the fp32 logits of every padded position and the gradients "
                "beside them, which this run's peak does not reach",
            ),
        )
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/flash_attention_3/transformers.sh ('fa2: 4 * 43GiB')",
        "Qwen2.5-7B full fine-tuning, 4x H20, DeepSpeed ZeRO-3, packed to 16,384 tokens, micro-batch 1, "
        "FlashAttention 2, Liger Kernel, checkpointing: 43 GiB per GPU",
        "qwen2.5-7b",
        "full-ft",
        "full",
        43 * GIB,
        {"seq_len": 16384, "sharding": "zero3", "stack": "liger"},
        gpus=4,
    ),
    # --- more public runs (a review of sources not used before, 2026-11-30) ------------------------
    *(
        MemoryRow(
            LITGPT,
            f"{name} {label} r{rank} on {targets}, one A10G, bf16-true (no AMP), no activation "
            f"checkpointing, AdamW, micro-batch {batch}, Alpaca-2k at most 512 tokens: {gb:g} GB "
            "(torch.cuda.max_memory_allocated, which leaves out the allocator's slack and the CUDA context "
            "the estimate counts)",
            model,
            method,
            method,
            gb,
            {
                "precision": "pure-bf16",
                "gradient_checkpointing": False,
                "seq_len": 512,
                "batch_size": batch,
                "lora_rank": rank,
                "lora_targets": "qv" if targets == "q, v" else "all-linear",
                "lora_dropout": 0.05,
            },
            public=public,
            note=note,
        )
        for name, model, label, method, rank, targets, batch, gb, public, note in (
            ("Llama-2-7B", "llama-2-7b", "LoRA", "lora", 32, "q, v", 2, 19.77, True, ""),
            ("Llama-3-8B", "llama-3-8b", "LoRA", "lora", 32, "q, v", 1, 19.73, True, ""),
            ("Mistral-7B-v0.1", "mistral-7b", "LoRA", "lora", 32, "q, v", 2, 20.66, True, ""),
            (
                "Phi-3-mini-4k",
                "phi-3-mini",
                "LoRA",
                "lora",
                8,
                "every linear layer and the LM head",
                4,
                19.75,
                False,
                "LitGPT adapts its fused qkv layer and the LM head, and keeps the MLP's fc_1 and fc_2 apart",
            ),
            ("Llama-2-7B", "llama-2-7b", "QLoRA (bnb NF4)", "qlora", 32, "q, v", 2, 13.68, False, LOAD_PEAK),
            ("Llama-3-8B", "llama-3-8b", "QLoRA (bnb NF4)", "qlora", 32, "q, v", 2, 17.41, False, LOAD_PEAK),
        )
    ),
    MemoryRow(
        "pytorch/torchtune@0914d5cf docs/source/tutorials/qlora_finetune.rst (config "
        "recipes/configs/llama2/7B_lora_single_device.yaml; torch.cuda.max_memory_reserved)",
        "Llama-2-7B LoRA r8 on q, v, one GPU, bf16 (no AMP), activation checkpointing, AdamW, batch 2, "
        "alpaca-cleaned at most 512 tokens, torchtune's loss: 15.57 GB",
        "llama-2-7b",
        "lora",
        "lora",
        15.57,
        {
            "precision": "pure-bf16",
            "batch_size": 2,
            "seq_len": 512,
            "lora_rank": 8,
            "lora_targets": "qv",
            "stack": "hf",
        },
        public=True,
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/packing/liger_kernel.sh ('GPU Memory: 4 * 42GB')",
        "Qwen2.5-7B full fine-tuning, 4x A100 80GB, DeepSpeed ZeRO-3, packed to 16,384 tokens, "
        "micro-batch 1, FlashAttention 2, Liger Kernel, checkpointing: 42 GB per GPU",
        "qwen2.5-7b",
        "full-ft",
        "full",
        42.0,
        {"seq_len": 16384, "sharding": "zero3", "stack": "liger"},
        gpus=4,
        public=True,
    ),
    MemoryRow(
        "modelscope/ms-swift@69048325 examples/train/tuners/galore/train_galore.sh ('# 38GiB')",
        "Qwen2.5-7B-Instruct GaLore (swift's defaults: rank 128), one GPU, micro-batch 1, "
        "self-cognition data (short), galore_optim_per_parameter (every optimizer steps after the "
        "backward: not layer-wise), bf16 weights: 38 GiB",
        "qwen2.5-7b",
        "galore",
        "galore",
        38 * GIB,
        {"seq_len": 256, "stack": "hf"},
        note="the data's length is not stated: 256 tokens assumed",
    ),
    MemoryRow(
        "jiaweizzhao/GaLore@2cc66f88 README.md ('Train 7B model with a single GPU with 24GB memory', "
        "tested on an RTX 4090) and scripts/single_gpu/llama_7b_checkpointing.sh ('# bsz=16, 22.8G')",
        "LLaMA-7B (configs/llama_7b.json: Llama-2-7B's shape) pre-trained on C4, one RTX 4090, 256 "
        "tokens (torchrun_main.py's default), batch 16, activation checkpointing, bf16 weights with no "
        "master copy, galore_adamw8bit_per_layer (layer-wise: each parameter steps in its gradient "
        "hook) at rank 1024: 22.8G",
        "llama-2-7b",
        "galore",
        "galore",
        22.8,
        {
            "seq_len": 256,
            "batch_size": 16,
            "optimizer": "adamw-8bit",
            "precision": "pure-bf16",
            "stack": "hf",
            "lora_rank": 1024,
            "optimizer_in_backward": True,
        },
        note="'G' read as GB (the script does not say which); sized at the run's own rank, 1024",
    ),
    MemoryRow(
        "pytorch/torchtitan@31a17bfd benchmarks/llama3_h100_202412_torchtitan.md, Table 2 "
        "(torch.cuda.max_memory_reserved)",
        "Llama-3.1-8B, 8x H100, FSDP2 over 8, micro-batch 1 of 32,768 tokens, full activation "
        "checkpointing, torch.compile, Float8 linears, the loss on fp32 logits: 90.09 GiB",
        "llama-3.1-8b",
        "full-ft",
        "full",
        90.09 * GIB,
        {"seq_len": 32768, "sharding": "zero3", "fsdp": True, "stack": "hf"},
        gpus=8,
        note="Float8 linears are estimated as 16-bit",
    ),
    # --- notebooks' and examples' printed peaks (a review of sources not used before) ---------------
    # Unsloth's notebooks: load_in_4bit, TRL's SFTTrainer without packing, adamw_8bit. Unsloth sizes
    # its loss chunks to the card's free memory: each row names its GPU.
    *(
        MemoryRow(
            UNSLOTH_NOTEBOOK.format(notebook, gib),
            f"{conditions}, micro-batch {batch} x gradient accumulation {accumulation}, max_seq_length "
            f"{length} (unpacked), adamw_8bit: {gib} GiB",
            model,
            "qlora",
            "qlora",
            gib * GIB,
            {
                "batch_size": batch,
                "seq_len": length,
                "lora_rank": rank,
                "optimizer": "adamw-8bit",
                "stack": "unsloth",
                **extra,
            },
            gpu=gpu,
            note=note,
        )
        for notebook, conditions, model, rank, batch, accumulation, length, gpu, extra, gib, note in (
            (
                "Llama3.3_(70B)_A100-Conversational",
                "unsloth/Llama-3.3-70B-Instruct QLoRA r16 on q, k, v, o, gate, up, down, one "
                "A100-SXM4-80GB, Unsloth 2025.9.1, bf16",
                "llama-3.3-70b",
                16,
                2,
                4,
                2048,
                "a100-80gb",
                {},
                42.789,
                "",
            ),
            (
                "Qwen3_(32B)_A100-Reasoning-Conversational",
                "unsloth/Qwen3-32B QLoRA r32 on q, k, v, o, gate, up, down, one A100-SXM4-40GB, Unsloth "
                "2025.9.1, bf16",
                "qwen3-32b",
                32,
                2,
                4,
                2048,
                "a100-40gb",
                {},
                24.529,
                "",
            ),
            (
                "Gemma3_(27B)_A100-Conversational",
                "unsloth/gemma-3-27b-it QLoRA r8 on the language layers' attention and MLP (vision "
                "layers off: 56,758,272 trainable), one A100-SXM4-40GB, Unsloth 2025.9.1, bf16",
                "gemma-3-27b-it",
                8,
                2,
                4,
                2048,
                "a100-40gb",
                {},
                25.791,
                "",
            ),
            (
                "gpt-oss-(120B)_A100-Fine-tuning",
                "unsloth/gpt-oss-120b LoRA r16 on the 4-bit base: of q, k, v, o, gate, up, down only the "
                "attention matches (11,943,936 trainable), one A100-SXM4-80GB, Unsloth 2025.9.1 ('Gpt_Oss "
                "does not support SDPA - switching to fast eager'), bf16",
                "gpt-oss-120b",
                16,
                4,
                1,
                4096,
                "a100-80gb",
                {"lora_targets": "attention"},
                67.836,
                "estimated with Unsloth's memory-efficient attention: with every s x s matrix it is 1.51",
            ),
            (
                "gpt-oss-(20B)-Fine-tuning",
                "unsloth/gpt-oss-20b LoRA r8 on the 4-bit base, attention only (3,981,312 trainable), one "
                "Tesla T4, Unsloth 2025.8.5 in float32 ('Using float16 precision for gpt_oss won't work! "
                "Using float32.')",
                "gpt-oss-20b",
                8,
                1,
                4,
                1024,
                "t4",
                {"lora_targets": "attention", "precision": "fp32"},
                12.975,
                "fp32 as the run says: the estimate's weights alone (14.9 GB, the embeddings and LM "
                "head in fp32) pass the 12.811 GiB the run had reserved before training; at fp16 1.11",
            ),
            (
                "Phi_4-Conversational",
                "unsloth/Phi-4 QLoRA r16 on q, k, v, o, gate, up, down, one Tesla T4 (no bf16: fp16), "
                "Unsloth 2025.1.5",
                "phi-4",
                16,
                2,
                4,
                2048,
                "t4",
                {"precision": "fp16"},
                12.361,
                "",
            ),
        )
    ),
    MemoryRow(
        "huggingface/trl@f2cd5771 examples/notebooks/grpo_trl_lora_qlora.ipynb, its output ('Peak "
        "reserved memory = 8.832 GB.': torch.cuda.max_memory_reserved() / 1024**3)",
        "GRPO on Qwen/Qwen2-7B-Instruct, QLoRA (NF4, double quantization, float16 compute) r32 on q, k, "
        "v, o, gate, up, down, one Tesla T4, loaded in float32 with SDPA, per-device batch 8 with "
        "num_generations 8, completions of at most 256 tokens from transformers' generate (no vLLM), "
        "paged_adamw_8bit, use_liger_kernel, GRPOConfig's defaults otherwise (gradient checkpointing, "
        "bf16 autocast as fp16 is not set): 8.832 GiB",
        "qwen2.5-7b",
        "qlora",
        "qlora",
        8.832 * GIB,
        {
            "objective": "grpo",
            "batch_size": 8,
            "seq_len": 512,
            "lora_rank": 32,
            "optimizer": "paged-adamw-8bit",
            "stack": "liger",
            "precision": "fp16",
        },
        gpu="t4",
        note="on the qwen2.5-7b shape, which is Qwen2-7B's; prompt and completion sized as 512 tokens, the "
        "NuminaMath-TIR prompts' length not being stated; the autocast estimated as fp16, the T4's mixed "
        "precision, at the same bytes",
    ),
    MemoryRow(
        "unslothai/notebooks@bdda2efc nb/Gemma4_(26B_A4B)-Text.ipynb, its output ('Peak reserved memory = "
        "48.988 GB.': torch.cuda.max_memory_reserved() / 1024**3; '46.416 GB of memory reserved.' "
        "after loading)",
        "google/gemma-4-26B-A4B-it loaded with load_in_4bit=True, LoRA r8 on attention and the dense MLP "
        "(9,292,800 trainable: 'PEFT set target_parameters but found no matching parameters'), one "
        "A100-SXM4-80GB, Unsloth 2026.4.4, transformers 5.5.0, batch 1, adamw_8bit: 48.988 GiB",
        "gemma-4-26b-a4b-it",
        "qlora",
        "qlora",
        48.988 * GIB,
        {
            "batch_size": 1,
            "seq_len": 2048,
            "lora_rank": 8,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "sixteen_bit_experts": True,
        },
        gpu="a100-80gb",
        public=True,
        note="an Unsloth release before 2026.6, which left the fused experts 16-bit (estimate "
        "--no-quantize-experts); FineTome rows within max_seq_length 8192, sized at 2,048 tokens: the "
        "weights are 46.4 of the 49.0 GiB",
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/rlhf/dpo/lora.sh ('# 24GiB')",
        "DPO with rpo_alpha 0.1 on Qwen2.5-7B-Instruct, LoRA r8 (alpha 32) on all linear layers, one GPU, "
        "torch_dtype bfloat16, per-device batch 1, gradient accumulation 16, max_length 2048, "
        "transformers' loss (no Liger): 24 GiB",
        "qwen2.5-7b",
        "lora",
        "lora",
        24 * GIB,
        {"objective": "dpo", "batch_size": 1, "seq_len": 2048, "lora_rank": 8, "stack": "hf"},
        note="sized at max_length: the pairs' lengths are not stated",
    ),
    # axolotl's examples: Cut Cross Entropy is a fused loss, estimated as Liger's (stack liger).
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/devstral/README.md ('This config uses about 21GB "
        "VRAM.'; config devstral-small-qlora.yml)",
        f"mistralai/Devstral-Small-2507 QLoRA r32 on every linear layer (dropout 0), {AXOLOTL_QLORA}, "
        "adamw_torch: about 21 GB",
        "mistral-small-3.1-24b",
        "qlora",
        "qlora",
        21.0,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 32, "stack": "liger"},
        note="on the mistral-small-3.1-24b shape: the README says Devstral is Mistral-Small-3.1 without "
        "the vision layer, fine-tuned; 21 read as GB, as written, though axolotl's logs report GiB",
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/magistral/think/README.md ('This config uses about "
        "19.1 GiB VRAM.'; config magistral-small-think-qlora.yaml)",
        f"mistralai/Magistral-Small-2507 QLoRA r32 on every linear layer (dropout 0.05), {AXOLOTL_QLORA}, "
        "adamw_bnb_8bit: about 19.1 GiB",
        "mistral-small-3.1-24b",
        "qlora",
        "qlora",
        19.1 * GIB,
        {
            "batch_size": 2,
            "seq_len": 2048,
            "lora_rank": 32,
            "lora_dropout": 0.05,
            "optimizer": "adamw-8bit",
            "stack": "liger",
        },
        note="on the mistral-small-3.1-24b shape (Magistral Small is built on Mistral Small 3.1)",
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/gpt-oss/README.md ('FFT SFT with offloading (2x24GB @ "
        "~21GiB/GPU)', from device_mem_reserved(gib); config gpt-oss-20b-fft-fsdp2-offload.yaml)",
        "openai/gpt-oss-20b full fine-tuning (MXFP4 dequantized), 2x 24 GB GPUs, FSDP2 with "
        "offload_params, packed and padded to 4,096 tokens, micro-batch 1, gradient accumulation 2, "
        "gradient checkpointing with activation offloading, Cut Cross Entropy, vllm-flash-attn3, "
        "adamw_torch_fused, bf16: ~21 GiB per GPU",
        "gpt-oss-20b",
        "full-ft",
        "full",
        21 * GIB,
        {
            "batch_size": 1,
            "seq_len": 4096,
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
            "activation_offloading": True,
        },
        gpus=2,
        note="the estimate counts eager s x s attention for gpt-oss under axolotl (~9 GB here), which "
        "this config's flash-attention kernel does not hold: without it about two thirds; " + OFFLOAD_FLOOR,
    ),
    # axolotl loads the weights in bf16 (bf16: true) and FSDP2 shards them as they are: no fp32
    # master copy, so the estimate runs in pure bf16 (--precision pure-bf16).
    *(
        MemoryRow(
            "axolotl-ai-cloud/axolotl@067b021c examples/gpt-oss/README.md ('FFT SFT (8x48GB @ ~36GiB/GPU "
            "or 4x80GB @ ~46GiB/GPU)', from device_mem_reserved(gib); config gpt-oss-20b-fft-fsdp2.yaml)",
            f"openai/gpt-oss-20b full fine-tuning (MXFP4 dequantized), {gpus}x {gpu_name}, FSDP2 without "
            "offload, packed to 4,096 tokens, micro-batch 1, gradient accumulation 2, gradient checkpointing "
            "with activation offloading, Cut Cross Entropy, vllm-flash-attn3, adamw_torch_8bit, bf16: "
            f"~{gib} GiB per GPU",
            "gpt-oss-20b",
            "full-ft",
            "full",
            gib * GIB,
            {
                "batch_size": 1,
                "seq_len": 4096,
                "precision": "pure-bf16",
                "optimizer": "adamw-8bit",
                "stack": "liger",
                "sharding": "zero3",
                "fsdp": True,
                "activation_offloading": True,
            },
            gpus=gpus,
            gpu=gpu,
            public=True,
        )
        for gpus, gpu, gpu_name, gib in ((8, "l40s", "48 GB GPUs", 36), (4, "h100-80gb", "80 GB GPUs", 46))
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/packing/llm.sh (its first line, '# 22GB')",
        "Qwen2.5-7B-Instruct LoRA r8 on all linear layers, one GPU, packed to 2,048 tokens, micro-batch 1, "
        "gradient accumulation 4, FlashAttention 2, bf16 weights, ms-swift's default gradient checkpointing",
        "qwen2.5-7b",
        "lora",
        "lora",
        22.0,
        {"batch_size": 1, "seq_len": 2048, "lora_rank": 8, "stack": "hf"},
        public=True,
    ),
    MemoryRow(
        AX_SCOUT,
        "Llama 4 Scout QLoRA r32 on attention and the shared expert, one H100, its linearized NF4 "
        "checkpoint (every routed expert an nn.Linear, 4-bit), 4,096 tokens packed, micro-batch 1, "
        "adamw_torch_4bit, flex attention, checkpointing with offload, Liger and cut cross-entropy",
        "llama-4-scout",
        "qlora",
        "qlora",
        64.5,
        {
            "batch_size": 1,
            "seq_len": 4096,
            "lora_rank": 32,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "quantized_experts": True,
        },
        gpu="h100-80gb",
        note="4-bit optimizer states sized as 8-bit",
        public=True,
    ),
    MemoryRow(
        AX_SCOUT,
        "Llama 4 Scout QLoRA r32, the same linearized NF4 checkpoint, 4x H100 with FSDP2, 4,096 tokens "
        "packed, micro-batch 2, flex attention, checkpointing: 62.8 GB per GPU",
        "llama-4-scout",
        "qlora",
        "qlora",
        62.8,
        {
            "batch_size": 2,
            "seq_len": 4096,
            "lora_rank": 32,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
            "quantized_experts": True,
        },
        gpus=4,
        gpu="h100-80gb",
        note="every GPU loads the whole 4-bit base before FSDP2 shards it: the peak",
        public=True,
    ),
    MemoryRow(
        "unslothai/notebooks@bdda2efc nb/Qwen3_(14B)-Reasoning-Conversational.ipynb, its output ('Peak "
        "reserved memory = 14.508 GB', max_memory_reserved / 1024^3; figure of 2025-05-30)",
        "Qwen3-14B QLoRA r32 on every linear layer, Unsloth 2025.5.9, one T4 (fp16), micro-batch 2, "
        "2,048 tokens unpacked, adamw_8bit, Unsloth's checkpointing",
        "qwen3-14b",
        "qlora",
        "qlora",
        14.508 * GIB,
        UNSLOTH_NOTEBOOK_QLORA,
        gpu="t4",
        public=True,
    ),
    MemoryRow(
        "unslothai/notebooks@bdda2efc nb/Magistral_(24B)-Reasoning-Conversational.ipynb, its output ('Peak "
        "reserved memory = 18.139 GB'; figure of 2025-06-10)",
        "Magistral Small QLoRA r32 on every linear layer, Unsloth 2025.6.1, one L4 (bf16), micro-batch 2, "
        "2,048 tokens, adamw_8bit",
        "mistral-small-3.1-24b",
        "qlora",
        "qlora",
        18.139 * GIB,
        UNSLOTH_NOTEBOOK_QLORA,
        gpu="l4",
        public=True,
        note="on the mistral-small-3.1-24b shape (Magistral Small is built on Mistral Small 3.1)",
    ),
    MemoryRow(
        "huggingface/trl@f2cd5771 examples/notebooks/sft_trl_lora_qlora.ipynb, its output ('Peak reserved "
        "memory = 14.041 GB'; figure of 2025-10-30)",
        "Qwen3-14B QLoRA r32 on every linear layer (NF4, fp16 compute), TRL SFTTrainer, one T4, batch 1, "
        "1,024 tokens, use_liger_kernel, activation_offloading, paged_adamw_8bit, SDPA",
        "qwen3-14b",
        "qlora",
        "qlora",
        14.041 * GIB,
        {
            "batch_size": 1,
            "seq_len": 1024,
            "lora_rank": 32,
            "optimizer": "paged-adamw-8bit",
            "stack": "liger",
            "activation_offloading": True,
        },
        gpu="t4",
        public=True,
    ),
    # --- a memory review's new rows (2026-12-07) ------------------------------------------------------
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/gpt-oss/README.md ('LoRA SFT linear layers (1x48GB @ "
        "~44GiB)', from device_mem_reserved(gib); config gpt-oss-20b-sft-lora-singlegpu.yaml)",
        "openai/gpt-oss-20b LoRA r8 on every linear layer (MXFP4 dequantized to bf16), one 48 GB GPU, "
        "packed to 4,096 tokens, micro-batch 1, gradient checkpointing with activation offloading, Cut "
        "Cross Entropy, vllm-flash-attn3, adamw_torch_8bit: ~44 GiB",
        "gpt-oss-20b",
        "lora",
        "lora",
        44 * GIB,
        {
            "batch_size": 1,
            "seq_len": 4096,
            "lora_rank": 8,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "activation_offloading": True,
            "attention": "kernel",
        },
        gpu="l40s",
        public=True,
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/qwen3-next/README.md ('~47 GiB (no target experts)'; "
        "config qwen3-next-80b-a3b-qlora.yaml)",
        "Qwen3-Next-80B-A3B QLoRA r16 on the linear-attention projections, experts loaded in 4 bits "
        "(quantize_moe_experts), one GPU, packed to 2,048 tokens, micro-batch 2, gradient checkpointing, "
        "Cut Cross Entropy, flash attention 2, adamw_bnb_8bit: ~47 GiB",
        "qwen3-next-80b-a3b",
        "qlora",
        "qlora",
        47 * GIB,
        {
            "batch_size": 2,
            "seq_len": 2048,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "quantized_experts": True,
        },
        gpu="h100-80gb",
        public=True,
        note="estimated with LoRA on the attention layers (as for every Qwen3-Next plan: PEFT reads "
        "all-linear as its experts), where the config names three linear-attention projections: the "
        "adapters are a fraction of a GB either way",
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/gemma4/README.md ('31B Dense QLoRA (1x80GB @ ~25.2 "
        "GiB)'; config 31b-qlora.yaml)",
        "Gemma 4 31B QLoRA r16 on the language model's attention and MLP, one 80 GB GPU, packed to 2,048 "
        "tokens, micro-batch 1, gradient checkpointing with activation offloading, Cut Cross Entropy and "
        "Liger, flash attention 2, adamw_torch_8bit: ~25.2 GiB",
        "gemma-4-31b-it",
        "qlora",
        "qlora",
        25.2 * GIB,
        {
            "batch_size": 1,
            "seq_len": 2048,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "activation_offloading": True,
        },
        gpu="h100-80gb",
        public=True,
    ),
    MemoryRow(
        UNSLOTH_NOTEBOOK.format("Qwen_3_5_27B_A100(80GB)", "64.998"),
        "Qwen3.5-27B 16-bit LoRA r8 on q, k, v, o, gate, up, down, one A100-SXM4-80GB, Unsloth 2026.2.1, "
        "transformers 5.2.0, micro-batch 4 x gradient accumulation 2, max_seq_length 2048, adamw_8bit",
        "qwen3.5-27b",
        "lora",
        "lora",
        64.998 * GIB,
        {"batch_size": 4, "seq_len": 2048, "lora_rank": 8, "optimizer": "adamw-8bit", "stack": "unsloth"},
        gpu="a100-80gb",
        public=True,
    ),
    MemoryRow(
        UNSLOTH_NOTEBOOK.format("gpt_oss_(20B)_500K_Context_Fine_tuning", "70.451"),
        "gpt-oss-20b QLoRA r8 (load_in_4bit, attention only: its experts are not nn.Linear), one "
        "A100-SXM4-80GB, Unsloth 2025.11.4, one sequence of 486,607 tokens, unsloth_tiled_mlp=True, "
        "Unsloth's offloaded checkpointing, adamw_8bit",
        "gpt-oss-20b",
        "qlora",
        "qlora",
        70.451 * GIB,
        {
            "batch_size": 1,
            "seq_len": 486_607,
            "lora_rank": 8,
            "lora_targets": "attention",
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "tiled_mlp": True,
        },
        gpu="a100-80gb",
        public=True,
    ),
    MemoryRow(
        "huggingface/peft@5d602fdb docs/source/accelerate/deepspeed.md ('the memory consumed per GPU is "
        "64 GB (80%)', from an nvidia-smi screenshot)",
        "Llama-2-70B LoRA r8 (alpha 16, dropout 0.1) on every linear layer, 8x H100 80GB, DeepSpeed "
        "ZeRO-3, packed to 2,048 tokens, micro-batch 8, gradient checkpointing, flash attention 2, bf16",
        "llama-2-70b",
        "lora",
        "lora",
        64.0,
        {
            "batch_size": 8,
            "seq_len": 2048,
            "lora_rank": 8,
            "lora_dropout": 0.1,
            "sharding": "zero3",
            "stack": "trl",
        },
        gpus=8,
        gpu="h100-80gb",
        public=True,
        note="64 read as GB; 80 % of the card would be ~68 GB",
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a docs/source_en/BestPractices/Qwen3-Best-Practice.md ('GPU Memory "
        "Usage: 22GB'; figure of 2025-06-19)",
        "Qwen3-8B LoRA r8 on every linear layer, one GPU, bf16, batch 1, max_length 2048, transformers' loss",
        "qwen3-8b",
        "lora",
        "lora",
        22.0,
        {"batch_size": 1, "seq_len": 2048, "lora_rank": 8, "stack": "hf"},
        public=True,
        note="22 read as GB, as written (23.6 if GiB)",
    ),
    MemoryRow(
        "modelscope/ms-swift@3602360a examples/train/think_model/deepseek_r1.sh ('# 18GB'; figure of "
        "2025-05-29)",
        "DeepSeek-R1-0528-Qwen3-8B LoRA r8 on every linear layer, batch 1, max_length 2048, bf16, "
        "use_liger_kernel",
        "qwen3-8b",
        "lora",
        "lora",
        18.0,
        {"batch_size": 1, "seq_len": 2048, "lora_rank": 8, "stack": "liger"},
        public=True,
        note="on the Qwen3-8B shape, which the distillation keeps; 18 read as GB, as written",
    ),
    # An accuracy review of 2026-12-07 (fifty-first round): rows of torchtune, NeMo Automodel,
    # ms-swift, axolotl, PEFT and Unsloth's notebooks.
    MemoryRow(
        TORCHTUNE_README,
        "Llama 3.1 70B LoRA r16 (q, v, o and MLP), 8x A100, FSDP2, batch 2, packed 2048, compile, "
        "activation checkpointing, chunked CE, bf16, AdamW: 27.6 GiB",
        "llama-3.1-70b",
        "lora",
        "lora",
        27.6 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "precision": "pure-bf16",
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        public=True,
    ),
    MemoryRow(
        TORCHTUNE_README + "; config recipes/configs/llama3_1/405B_qlora.yaml",
        "Llama 3.1 405B QLoRA r16 (torchao NF4), 8x A100, FSDP2, batch 2, packed 2048, compile, activation "
        "checkpointing, AdamW: 44.8 GB",
        "llama-3.1-405b",
        "qlora",
        "qlora",
        44.8,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "precision": "pure-bf16",
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        note="torchtune builds the model on the meta device and loads each shard (never the whole 4-bit "
        "base on one GPU), and torchao's NF4Tensor shards its scalers with the data: the transformers + "
        "bitsandbytes loading floor does not apply (5.06x; 1.56x with the sharded loader)",
    ),
    MemoryRow(
        TORCHTUNE_README
        + "; config recipes/configs/llama3_1/70B_full.yaml (custom_sharded_layers tok_embeddings, output)",
        "Llama 3.1 70B full fine-tuning, 8x A100, FSDP2 with CPU offload, fused AdamW on CPU, batch 2, "
        "packed 2048, compile, activation checkpointing, bf16: 13.9 GiB",
        "llama-3.1-70b",
        "full-ft",
        "full",
        13.9 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "precision": "pure-bf16",
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
        },
        gpus=8,
        note="torchtune wraps the embeddings and output as units of their own (custom_sharded_layers), "
        "freed after use, where ft-atlas counts the root unit whole (1.45x)",
    ),
    MemoryRow(
        "pytorch/torchtune@bd2a0fc7 docs/source/tutorials/lora_finetune.rst (config "
        "llama2/7B_lora_single_device.yaml)",
        "Llama-2-7B LoRA r64 alpha 128 on q, k, v, o, MLP and output, one GPU, bf16, batch 2, "
        "alpaca-cleaned (512 assumed), activation checkpointing: 17.04 GB",
        "llama-2-7b",
        "lora",
        "lora",
        17.04,
        {
            "precision": "pure-bf16",
            "batch_size": 2,
            "seq_len": 512,
            "lora_rank": 64,
            "lora_targets": "all-linear",
            "stack": "hf",
        },
        public=True,
    ),
    MemoryRow(
        AUTOMODEL_CHECKPOINTING,
        "Llama-3.2-1B full fine-tuning, one H100, local batch 8 x 2048, bf16 params (Automodel default), "
        "torch.optim.Adam, MaskedCrossEntropy on fp32 logits, no checkpointing (Automodel patches Liger "
        "RMSNorm/SwiGLU/RoPE by default): 53.03",
        "llama-3.2-1b",
        "full-ft",
        "full",
        53.03,
        {
            "seq_len": 2048,
            "batch_size": 8,
            "precision": "pure-bf16",
            "stack": "hf",
            "gradient_checkpointing": False,
        },
        note="Automodel patches Liger's norm, SwiGLU and RoPE kernels in by default but computes the loss "
        "on fp32 logits: --stack couples the two (1.25x)",
    ),
    MemoryRow(
        AUTOMODEL_CHECKPOINTING,
        "+ FSDP2 over 8 H100: 47.59",
        "llama-3.2-1b",
        "full-ft",
        "full",
        47.59,
        {
            "seq_len": 2048,
            "batch_size": 8,
            "precision": "pure-bf16",
            "stack": "hf",
            "gradient_checkpointing": False,
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        public=True,
    ),
    MemoryRow(
        AUTOMODEL_CHECKPOINTING,
        "+ activation checkpointing: 33.06",
        "llama-3.2-1b",
        "full-ft",
        "full",
        33.06,
        {
            "seq_len": 2048,
            "batch_size": 8,
            "precision": "pure-bf16",
            "stack": "hf",
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        public=True,
    ),
    MemoryRow(
        AUTOMODEL_CHECKPOINTING,
        "+ linear-cut cross-entropy (FusedLinearCrossEntropy): 7.30",
        "llama-3.2-1b",
        "full-ft",
        "full",
        7.30,
        {
            "seq_len": 2048,
            "batch_size": 8,
            "precision": "pure-bf16",
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        note="FSDP2 keeps the root unit's gradient (the tied 263M-parameter embedding) unsharded through "
        "the backward, which ft-atlas does not count (0.76x); counting it moved the Liger Qwen2-7B "
        "and axolotl gpt-oss FSDP rows further off, so it is not",
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/train/multi-gpu/ddp/train.sh", "# 27.5GiB * 2"),
        "Qwen2.5-7B-Instruct LoRA r8 all-linear, 2 GPUs DDP, batch 1, self-cognition (short: 256 assumed), "
        "checkpointing: 27.5 GiB",
        "qwen2.5-7b",
        "lora",
        "lora",
        27.5 * GIB,
        {**QWEN_LORA_R8, "sharding": "ddp"},
        gpus=2,
        note="27.5 GiB under DDP against 18 GiB under ZeRO-2 and ~17 GiB on one GPU for the same run: no "
        "DDP term accounts for ~10 GB (0.59x)",
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/train/multi-gpu/deepspeed/train_zero2.sh", "# 18GiB * 2"),
        "same, DeepSpeed ZeRO-2: 18 GiB",
        "qwen2.5-7b",
        "lora",
        "lora",
        18 * GIB,
        {**QWEN_LORA_R8, "sharding": "zero2"},
        gpus=2,
        public=True,
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/train/multi-gpu/deepspeed/train_zero3.sh", "# 16GiB * 2"),
        "same, DeepSpeed ZeRO-3 (swift/config/zero3.json: max_live_parameters 1e9, max_reuse_distance "
        "1e9): 16 GiB",
        "qwen2.5-7b",
        "lora",
        "lora",
        16 * GIB,
        {**QWEN_LORA_R8, "sharding": "zero3"},
        gpus=2,
        note="DeepSpeed keeps up to stage3_max_live_parameters (1e9) gathered within "
        "stage3_max_reuse_distance, more than the two layers ft-atlas counts (0.66x)",
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/train/multi-gpu/fsdp2_lora/train.sh", "# 14.7GiB * 2"),
        "same, FSDP2, gradient checkpointing off: 14.7 GiB",
        "qwen2.5-7b",
        "lora",
        "lora",
        14.7 * GIB,
        {**QWEN_LORA_R8, "sharding": "zero3", "fsdp": True, "gradient_checkpointing": False},
        gpus=2,
        public=True,
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/models/gpt_oss/train.sh", "# 42GB"),
        "gpt-oss-20b (MXFP4 dequantized to bf16) LoRA r8 all-linear, one GPU, batch 1, "
        "alpaca/self-cognition (512 assumed), eager attention: 42 GB",
        "gpt-oss-20b",
        "lora",
        "lora",
        42.0,
        {"seq_len": 512, "batch_size": 1, "lora_rank": 8, "stack": "hf"},
        public=True,
    ),
    MemoryRow(
        MS_SWIFT_EXAMPLE.format("examples/train/qlora/bnb/train.sh", "# 10GB"),
        "Qwen2.5-7B-Instruct QLoRA NF4 double-quant r8 all-linear, one GPU, batch 1, alpaca-gpt4 + "
        "self-cognition (512 assumed): 10 GB",
        "qwen2.5-7b",
        "qlora",
        "qlora",
        10.0,
        {"seq_len": 512, "batch_size": 1, "lora_rank": 8, "stack": "hf"},
        public=True,
    ),
    MemoryRow(
        AXOLOTL_README.format("067b021c", "examples/qwen3-next/README.md", "~71GiB (target experts)"),
        "Qwen3-Next-80B-A3B QLoRA r16, experts in 4 bit (quantize_moe_experts) and LoRA on them "
        "(lora_target_parameters), one GPU, packed 2048, micro-batch 2, checkpointing, CCE, "
        "adamw_bnb_8bit: ~71 GiB",
        "qwen3-next-80b-a3b",
        "qlora",
        "qlora",
        71 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "quantized_experts": True,
            "lora_experts": True,
        },
        public=True,
    ),
    MemoryRow(
        AXOLOTL_README.format(
            "067b021c", "examples/gpt-oss/README.md", "FFT SFT with offloading (8x80GB @ ~49GiB/GPU)"
        )
        + "; config gpt-oss-120b-fft-fsdp2-offload.yaml (dp_shard_size 16)",
        "gpt-oss-120b full fine-tuning, FSDP2 offload_params, packed 4096, micro-batch 1, checkpointing + "
        "activation offloading, CCE, vllm-flash-attn3, adamw_torch_fused: ~49 GiB/GPU",
        "gpt-oss-120b",
        "full-ft",
        "full",
        49 * GIB,
        {
            "seq_len": 4096,
            "batch_size": 1,
            "stack": "liger",
            "activation_offloading": True,
            "attention": "kernel",
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
        },
        gpus=8,
        note="transformers' gpt-oss expert loop builds a full-size zero gradient per expert hit in the "
        "backward (0.75x)",
    ),
    MemoryRow(
        AXOLOTL_README.format("15f7910d", "examples/llama-3/README.md", "QLORA+FSDP Dual GPU @ 21GB VRAM")
        + "; config qlora-fsdp-70b.yaml at that commit",
        "Llama-3-70B QLoRA r8 dropout 0.05 all-linear, 2 GPUs FSDP1 with offload_params, 512 tokens "
        "padded, micro-batch 1, checkpointing, flash attention: 21 GB",
        "llama-3-70b",
        "qlora",
        "qlora",
        21.0,
        {
            "seq_len": 512,
            "batch_size": 1,
            "lora_rank": 8,
            "lora_dropout": 0.05,
            "stack": "hf",
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
        },
        gpus=2,
        note="'21GB' reads as a requirement, not a measured peak (0.48x)",
    ),
    MemoryRow(
        "huggingface/peft@5d602fdb docs/source/accelerate/fsdp.md ('72-80 GB (90-98%)'; the rise to 80 is "
        "FULL_STATE_DICT saving)",
        "Llama-2-70B LoRA r8 dropout 0.1 all-linear, 8x H100 FSDP1 FULL_SHARD, packed 2048, batch 8, "
        "checkpointing, flash attention, TRL SFTTrainer of 2024 (transformers' loss): 72 GB",
        "llama-2-70b",
        "lora",
        "lora",
        72.0,
        {
            "seq_len": 2048,
            "batch_size": 8,
            "lora_rank": 8,
            "lora_dropout": 0.1,
            "stack": "hf",
            "sharding": "zero3",
            "fsdp": True,
        },
        gpus=8,
        public=True,
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Gemma4_(31B)-Text", "21.43"),
        "unsloth/gemma-4-31B-it 4-bit, LoRA r8 language attention+MLP (61,214,720 trainable), A100-40GB, "
        "Unsloth 2026.4.4, batch 1 x GA 4, FineTome rows within max_seq_length 8192 (2048 assumed), "
        "adamw_8bit",
        "gemma-4-31b-it",
        "qlora",
        "qlora",
        21.43 * GIB,
        {"seq_len": 2048, "batch_size": 1, "lora_rank": 8, "optimizer": "adamw-8bit", "stack": "unsloth"},
        gpu="a100-40gb",
        public=True,
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Mistral_Nemo_(12B)-Alpaca", "10.68"),
        "Mistral-Nemo-Base-2407 QLoRA r16, T4, Unsloth 2024.7, batch 2 x GA 4, Alpaca (max 2048), adamw_8bit",
        "mistral-nemo-12b",
        "qlora",
        "qlora",
        10.68 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "precision": "fp16",
        },
        gpu="t4",
        public=True,
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Phi_3.5_Mini-Conversational", "3.342"),
        "Phi-3.5-mini-instruct QLoRA r16, T4, Unsloth 2024.8, batch 2 x GA 4, guanaco-sharegpt (max 2048), "
        "adamw_8bit",
        "phi-3.5-mini",
        "qlora",
        "qlora",
        3.342 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "precision": "fp16",
        },
        gpu="t4",
        note="before unslothai/unsloth@806bee24 (2025-08) Fast_CrossEntropyLoss wrote its gradient into "
        "the bf16 logits in place, less than the chunked fp32 loss ft-atlas sizes (1.59x)",
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Llama3.2_(1B_and_3B)-Conversational", "6.531"),
        "Llama-3.2-3B-Instruct QLoRA r16, T4, Unsloth 2024.10.0, batch 2 x GA 4, FineTome (max 2048), "
        "adamw_8bit",
        "llama-3.2-3b",
        "qlora",
        "qlora",
        6.531 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "precision": "fp16",
        },
        gpu="t4",
        public=True,
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Qwen2.5_(7B)-Alpaca", "7.893"),
        "Qwen2.5-7B QLoRA r16, T4, Unsloth 2024.9, batch 2 x GA 4, Alpaca (max 2048), adamw_8bit",
        "qwen2.5-7b",
        "qlora",
        "qlora",
        7.893 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "precision": "fp16",
        },
        gpu="t4",
        note="the same older Unsloth loss (1.29x)",
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Llama3.1_(8B)-Alpaca", "7.922"),
        "Llama-3.1-8B QLoRA r16, T4, Unsloth 2024.8, batch 2 x GA 4, Alpaca (max 2048), adamw_8bit",
        "llama-3.1-8b",
        "qlora",
        "qlora",
        7.922 * GIB,
        {
            "seq_len": 2048,
            "batch_size": 2,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
            "precision": "fp16",
        },
        gpu="t4",
        note="the same older Unsloth loss (1.29x)",
    ),
    # A memory review of the fifty-second round (2026-12-07).
    MemoryRow(
        "philschmid/deep-learning-pytorch-huggingface@59b37973 training/fsdp-qlora-distributed-llama3.ipynb "
        "('FSDP + Q-Lora + CPU offloading needs 4x24GB GPUs, with 22 GB/GPU and 127 GB CPU RAM with a "
        "sequence "
        "length of 3072 and a batch size of 1'; script training/scripts/run_fsdp_qlora.py)",
        "Meta-Llama-3-70B QLoRA (NF4, double quant, bf16 quant storage) r16 alpha 8 dropout 0.05 on "
        "all-linear, "
        "4x A10G, FSDP1 full_shard auto_wrap offload, TRL SFTTrainer packing to 3,072 tokens, micro-batch 1, "
        "gradient checkpointing (reentrant), SDPA, adamw_torch, bf16: 22 GB per GPU",
        "llama-3-70b",
        "qlora",
        "qlora",
        22.0,
        {
            "batch_size": 1,
            "seq_len": 3072,
            "lora_rank": 16,
            "lora_dropout": 0.05,
            "stack": "hf",
            "sharding": "zero3",
            "fsdp": True,
            "offload": "params",
        },
        gpus=4,
        gpu="a10g",
        note="the post's own 'Expected Memory usage' line; "
        "parameter offload is a lower bound (OFFLOAD_FLOOR)",
    ),
    MemoryRow(
        AAI_MISTRAL,
        "Mistral-7B-v0.2 base QLoRA r64 (train.py), 2x RTX 4090, FSDP with CPU offload, batch 1, 24,576 "
        "tokens, "
        "checkpointing: 22.54 GiB (peak reserved)",
        "mistral-7b",
        "qlora",
        "qlora",
        22.54 * GIB,
        {"batch_size": 1, "seq_len": 24576, **AAI_SETTINGS},
        gpus=2,
        gpu="rtx-4090",
        note="on the mistral-7b (v0.3) shape: v0.2's vocabulary is 32,000, not 32,768",
    ),
    MemoryRow(
        AAI_MISTRAL,
        "the same at batch 12 x 2,048 tokens: 22.54 GiB",
        "mistral-7b",
        "qlora",
        "qlora",
        22.54 * GIB,
        {"batch_size": 12, "seq_len": 2048, **AAI_SETTINGS},
        gpus=2,
        gpu="rtx-4090",
    ),
    MemoryRow(
        SWIFT_COMMENT.format("docs/source_en/BestPractices/Qwen3-Best-Practice.md", "# 4 * 60GB"),
        "Qwen3-8B full fine-tuning, 4 GPUs, DeepSpeed ZeRO-3 (swift zero3.json: max_live_parameters 1e9), "
        "packing to 8,192 tokens, micro-batch 1, flash_attn, use_liger_kernel, checkpointing, AdamW, bf16: "
        "60 GB",
        "qwen3-8b",
        "full-ft",
        "full",
        60.0,
        {"seq_len": 8192, "stack": "liger", "sharding": "zero3"},
        gpus=4,
        gpu="a100-80gb",
        note="60 read as GB, as written; the GPU is not named (80 GB assumed)",
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/full/train.sh", "# 76GiB"),
        "Qwen2.5-7B-Instruct full fine-tuning on one GPU, torch_dtype bfloat16 (no fp32 master copy), AdamW, "
        "batch 1 x 16 accumulation, max_length 2048, alpaca-gpt4 zh/en + self-cognition (512 assumed), "
        "checkpointing: 76 GiB",
        "qwen2.5-7b",
        "full-ft",
        "full",
        76 * GIB,
        {"seq_len": 512, "batch_size": 1, "precision": "pure-bf16", "stack": "hf"},
        gpu="a100-80gb",
        note="76 GiB is ~96 % of an 80 GB card: the caching allocator's fill, an upper bound",
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/rlhf/simpo.sh", "# 2*50GB"),
        "SimPO on Qwen2.5-3B-Instruct, full fine-tuning, 2 GPUs DeepSpeed ZeRO-2, per-device batch 1 (one "
        "pair), "
        "max_length 2048, bf16, checkpointing, transformers' loss: 50 GB per GPU",
        QWEN25_3B_CONFIG,
        "full-ft",
        "full",
        50.0,
        {"objective": "simpo", "seq_len": 2048, "batch_size": 1, "stack": "hf", "sharding": "zero2"},
        gpus=2,
        gpu="a100-80gb",
        note="sized at max_length: the pairs' lengths are not stated",
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/gemma4/26b-a4b-moe-bnb-lora.yaml ('~1940 tok/s / ~21 "
        "GiB on one GPU')",
        "google/gemma-4-26B-A4B QLoRA r16 (bnb 4-bit incl. experts: quantize_moe_experts) on attention, the "
        "dense "
        "MLP and the routed experts (lora_target_parameters), ScatterMoE with LoRA fused (no merged W+BA), "
        "one RTX "
        "PRO 6000, packed 4,096 tokens, micro-batch 1, checkpointing, CCE + Liger, FA2 hybrid, "
        "adamw_torch_8bit: ~21 GiB",
        "gemma-4-26b-a4b-it",
        "qlora",
        "qlora",
        21 * GIB,
        {
            "seq_len": 4096,
            "batch_size": 1,
            "lora_rank": 16,
            "optimizer": "adamw-8bit",
            "stack": "liger",
            "quantized_experts": True,
            "lora_experts": True,
        },
        gpu="rtx-pro-6000",
        note="ft-atlas counts PEFT's merged expert weight (W + B@A, 3.0 GB here), which axolotl's ScatterMoE "
        "LoRA path never forms (1.26x; 1.12x without it)",
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/magistral/README.md ('This config uses about 24GB "
        "VRAM.'; "
        "config magistral-small-qlora.yaml)",
        "mistralai/Magistral-Small-2506 QLoRA r32 all-linear, dropout 0.05, packed 2,048, micro-batch 2, "
        "checkpointing, CCE, FA2, adamw_bnb_8bit: about 24 GB",
        "mistral-small-3.1-24b",
        "qlora",
        "qlora",
        24.0,
        {
            "batch_size": 2,
            "seq_len": 2048,
            "lora_rank": 32,
            "lora_dropout": 0.05,
            "optimizer": "adamw-8bit",
            "stack": "liger",
        },
        note="the magistral/think README gives 19.1 GiB for the same settings (an earlier row): a 20 % "
        "spread between two READMEs of one project",
        public=True,
    ),
    MemoryRow(
        "huggingface/trl#5759 (PR description, 2026-05-13: 'A100 80GB: ~5 days, ~32 GB peak'; quickstart in "
        "#5697)",
        "GRPO quickstart: Qwen/Qwen2.5-0.5B-Instruct passed by name (TRL loads it in fp32, bf16 autocast), "
        "full "
        "fine-tuning, GRPOConfig defaults (per-device batch 8 = num_generations 8, checkpointing), "
        "max_completion_length 1024, transformers generate (no vLLM), DeepMath-103K, one A100 80GB: ~32 GB",
        "qwen2.5-0.5b",
        "full-ft",
        "full",
        32.0,
        {"objective": "grpo", "batch_size": 8, "seq_len": 1536, "precision": "bf16", "stack": "hf"},
        gpu="a100-80gb",
        note="TRL of May 2026 materialised the completion logits (add_fused_lm_head is absent at "
        "huggingface/trl@f2cd5771, "
        "present in trl 1.16.0); under autocast its per-row log_softmax runs in fp32 (0.37x as `trl`, 0.59x "
        "as `hf`)",
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Gemma3_(4B)", "13.561"),
        "unsloth/gemma-3-4b-it QLoRA r8 on the language layers' attention and MLP, one Tesla T4, Unsloth "
        "2025.3.19 (FastModel; fp32 on a T4), batch 2 x GA 4, max_seq_length 2048, adamw_8bit: 13.561 GiB",
        "gemma-3-4b-it",
        "qlora",
        "qlora",
        13.561 * GIB,
        {"batch_size": 2, "seq_len": 2048, "lora_rank": 8, "optimizer": "adamw-8bit", "stack": "unsloth"},
        gpu="t4",
        note="the notebook's load banner is from an RTX 3060 run, its memory cells from a T4 run",
    ),
    unsloth_t4("Qwen3_(14B)", 14.066, "unsloth/Qwen3-14B, all-linear, Unsloth 2025.4.5", "qwen3-14b", 2, 32),
    unsloth_t4(
        "Qwen3_(14B)-Alpaca",
        12.949,
        "unsloth/Qwen3-14B-Base (bnb 4-bit), Unsloth 2025.4.4, Alpaca",
        "qwen3-14b",
        2,
        16,
    ),
    unsloth_t4(
        "Qwen2.5_Coder_(14B)-Conversational",
        13.24,
        "unsloth/Qwen2.5-Coder-14B-Instruct, Unsloth 2024.11.6, paged_adamw_8bit",
        "qwen2.5-14b",
        1,
        16,
        optimizer="paged-adamw-8bit",
    ),
    unsloth_t4(
        "Llama3_(8B)-Conversational",
        9.549,
        "unsloth/llama-3-8b-Instruct-bnb-4bit, Unsloth 2024.5",
        "llama-3-8b",
        2,
        16,
    ),
    unsloth_t4(
        "Gemma2_(9B)-Alpaca", 9.383, "unsloth/gemma-2-9b, Unsloth 2024.7, Alpaca", "gemma-2-9b", 2, 16
    ),
    unsloth_t4(
        "Mistral_v0.3_(7B)-Conversational",
        6.289,
        "unsloth/mistral-7b-instruct-v0.3-bnb-4bit, Unsloth 2024.5",
        "mistral-7b",
        2,
        16,
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("Llama3.2_(1B)-RAFT", "2.156"),
        "unsloth/Llama-3.2-1B-Instruct QLoRA r16, one A10G (bf16), Unsloth 2025.4.7, batch 1 x GA 8, "
        "max_seq_length "
        "2048, adamw_torch, 301 RAFT examples",
        "llama-3.2-1b",
        "qlora",
        "qlora",
        2.156 * GIB,
        {"batch_size": 1, "seq_len": 2048, "lora_rank": 16, "stack": "unsloth"},
        gpu="a10g",
        note="the examples' length is not stated: sized at max_seq_length",
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/tuners/dora/train.sh", "# 17.2GiB"),
        "Qwen2.5-7B-Instruct DoRA r8 (alpha 32) all-linear, one GPU, batch 1, self-cognition (256 assumed), "
        "checkpointing",
        "qwen2.5-7b",
        "dora",
        "dora",
        17.2 * GIB,
        SWIFT_SELF,
        gpu="a100-80gb",
        public=True,
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/tuners/adapter/train.sh", "# 17GiB"),
        "Qwen2.5-7B-Instruct bottleneck adapters (swift --tuner_type adapter), one GPU, batch 1, "
        "self-cognition "
        "(256 assumed), checkpointing",
        "qwen2.5-7b",
        "adapters",
        "adapters",
        17 * GIB,
        {k: v for k, v in SWIFT_SELF.items() if k != "lora_rank"},
        gpu="a100-80gb",
        public=True,
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/tuners/lora/train.sh", "# 17.2GiB"),
        "Qwen2.5-7B-Instruct LoRA r8 (alpha 32) all-linear, one GPU, batch 1, self-cognition (256 assumed), "
        "checkpointing",
        "qwen2.5-7b",
        "lora",
        "lora",
        17.2 * GIB,
        SWIFT_SELF,
        gpu="a100-80gb",
        public=True,
    ),
    MemoryRow(
        "pytorch/torchtune@bd2a0fc7 docs/source/tutorials/llama3.rst ('we observed a peak memory usage of "
        "18.5 GB'; "
        "config llama3/8B_lora_single_device)",
        "Llama-3-8B-Instruct LoRA r8 (targets as the config at bd2a0fc7: q, v, output_proj, MLP), one GPU, "
        "bf16, batch 2, alpaca-cleaned "
        "(512 assumed), activation checkpointing, full-logit cross-entropy: 18.5 GB",
        "llama-3-8b",
        "lora",
        "lora",
        18.5,
        {"precision": "pure-bf16", "batch_size": 2, "seq_len": 512, "lora_rank": 8, "stack": "hf"},
        public=True,
    ),
    MemoryRow(
        "pytorch/torchtune@bd2a0fc7 docs/source/tutorials/qlora_finetune.rst (table: QLoRA 9.13 GB at model "
        "init, "
        "9.29 GB in training, peak reserved)",
        "Llama-2-7B QLoRA (torchao NF4) r8 on q, v, output_proj and the MLP (k_proj not adapted: bf16 in "
        "torchtune of 2024, pytorch/torchtune#1398), one GPU, bf16, "
        "batch 2, alpaca-cleaned (512 assumed), activation checkpointing: 9.29 GB",
        "llama-2-7b",
        "qlora",
        "qlora",
        9.29,
        {"precision": "pure-bf16", "batch_size": 2, "seq_len": 512, "lora_rank": 8, "stack": "hf"},
        note="9.13 GB is already reserved after loading: torchtune's load transient, not training (0.69x)",
    ),
    # A memory review of the fifty-third round.
    fms(
        "Mistral-7B full fine-tuning, bf16 weights (no AMP), AdamW",
        "mistral-7b",
        "full-ft",
        44382,
        2,
        2,
        precision="pure-bf16",
    ),
    fms(
        "Mistral-7B full fine-tuning, bf16 weights (no AMP), AdamW",
        "mistral-7b",
        "full-ft",
        53587,
        4,
        2,
        precision="pure-bf16",
    ),
    fms("Mistral-7B LoRA, bf16 weights", "mistral-7b", "lora", 29576, 4, 1, precision="pure-bf16"),
    fms("Mistral-7B LoRA, bf16 weights", "mistral-7b", "lora", 43232, 8, 1, precision="pure-bf16"),
    fms("Mistral-7B LoRA, bf16 weights", "mistral-7b", "lora", 18678, 2, 2, precision="pure-bf16"),
    fms("Mistral-7B LoRA, bf16 weights", "mistral-7b", "lora", 26328, 4, 2, precision="pure-bf16"),
    fms("Mixtral-8x7B LoRA, bf16 weights", "mixtral-8x7b", "lora", 63398, 2, 2, precision="pure-bf16"),
    fms("Mixtral-8x7B LoRA, bf16 weights", "mixtral-8x7b", "lora", 70747, 4, 2, precision="pure-bf16"),
    fms(
        "Mistral-7B QLoRA NF4 (TRL prepares the base with PEFT), bf16 AMP",
        "mistral-7b",
        "qlora",
        26056,
        4,
        1,
        note=PREPARED_RESIDUAL,
    ),
    fms(
        "Mistral-7B QLoRA NF4 (TRL prepares the base with PEFT), bf16 AMP",
        "mistral-7b",
        "qlora",
        46050,
        8,
        1,
        note=PREPARED_RESIDUAL,
    ),
    fms("Mistral-7B FSDP-QLoRA NF4 (quant_storage bf16), bf16 AMP", "mistral-7b", "qlora", 13164, 2, 2),
    fms("Mistral-7B FSDP-QLoRA NF4 (quant_storage bf16), bf16 AMP", "mistral-7b", "qlora", 21182, 4, 2),
    fms(
        "Mixtral-8x7B QLoRA NF4 (experts are nn.Linear4bit in transformers 4)",
        "mixtral-8x7b",
        "qlora",
        44924,
        4,
        1,
        quantized_experts=True,
    ),
    fms(
        "Mixtral-8x7B QLoRA NF4 (experts are nn.Linear4bit in transformers 4)",
        "mixtral-8x7b",
        "qlora",
        63932,
        8,
        1,
        quantized_experts=True,
    ),
    fms("Mixtral-8x7B FSDP-QLoRA NF4", "mixtral-8x7b", "qlora", 29958, 2, 2, quantized_experts=True),
    fms("Mixtral-8x7B FSDP-QLoRA NF4", "mixtral-8x7b", "qlora", 35417, 4, 2, quantized_experts=True),
    fms("Llama-2-70B FSDP-QLoRA NF4", "llama-2-70b", "qlora", 51988, 2, 2),
    MemoryRow(
        "InternLM/xtuner@b934f462 docs/en/get_started/sft.md, its log (step 2: 'reserved_memory: 22.20 GB', "
        "torch.cuda.max_memory_reserved() / 1024**3)",
        "Qwen3-8B full fine-tuning, xtuner v1 on 8 GPUs: FSDP2 (fp32 sharded parameters, bf16 compute), full "
        "recomputation, packed to 4,096, chunked cross-entropy, AdamW: 22.20 GiB",
        "qwen3-8b",
        "full-ft",
        "full",
        22.20 * GIB,
        {"seq_len": 4096, "batch_size": 1, "stack": "liger", "sharding": "zero3", "fsdp": True},
        gpus=8,
        public=True,
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/agent/qwen2_5.sh", "# 35GiB"),
        "Qwen2.5-3B full fine-tuning, one GPU, bf16 weights (no master copy), packed to 8,192, Liger, "
        "flash attention 2, checkpointing, transformers' adamw_torch (foreach): 35 GiB",
        QWEN25_3B_CONFIG,
        "full-ft",
        "full",
        35 * GIB,
        {"seq_len": 8192, "stack": "liger", "precision": "pure-bf16", "optimizer": "adamw-foreach"},
        public=True,
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/cached_dataset/sft.sh", "# 4 * 44GiB; 15.5s/it"),
        "Qwen2.5-7B full fine-tuning, DeepSpeed ZeRO-3 on 4 GPUs, packed to 8,192, Liger, flash attention "
        "2, checkpointing: 44 GiB per GPU",
        "qwen2.5-7b",
        "full-ft",
        "full",
        44 * GIB,
        {"seq_len": 8192, "stack": "liger", "sharding": "zero3"},
        gpus=4,
        public=True,
    ),
    MemoryRow(
        SWIFT_COMMENT.format("examples/train/packing/dpo.sh", "# 4 * 50GiB; 2h"),
        "Qwen2.5-7B-Instruct full DPO with its reference copy, DeepSpeed ZeRO-3 on 4 GPUs, pairs packed to "
        "8,192 tokens (2 x 4,096), flash attention 2, checkpointing: 50 GiB per GPU",
        "qwen2.5-7b",
        "full-ft",
        "full",
        50 * GIB,
        {"objective": "dpo", "seq_len": 4096, "stack": "hf", "sharding": "zero3"},
        gpus=4,
        public=True,
    ),
    *(
        MemoryRow(
            AXOLOTL_README.format("067b021c", "examples/glm47-flash/README.md", quote),
            what,
            GLM47_FLASH,
            "qlora",
            "qlora",
            gib * GIB,
            GLM_AXOLOTL | extra,
            gpus=gpus,
            note=note,
        )
        for quote, what, gib, extra, gpus, note in (
            (
                "QLoRA no target experts (1x48GB @ ~24GiB/GPU)",
                "GLM-4.7-Flash QLoRA, quantize_moe_experts, one GPU: ~24 GiB",
                24,
                {},
                1,
                "",
            ),
            (
                "QLoRA FSDP2 no target experts (2x48GB @ ~29GiB/GPU)",
                "the same under FSDP2 on 2 GPUs: ~29 GiB per GPU",
                29,
                {"sharding": "zero3", "fsdp": True},
                2,
                "more than on one GPU, as axolotl's docs/expert_quantization.qmd warns ('FSDP2 may use more "
                "VRAM per GPU than single GPU training'): the quantized experts, parametrized, are not "
                "sharded as the estimate shards them (0.57x)",
            ),
            (
                "LoRA no target experts (1x48GB @ ~35GiB/GPU)",
                "GLM-4.7-Flash 8-bit LoRA, quantize_moe_experts, one GPU: ~35 GiB",
                35,
                {"quant_bits": 8},
                1,
                "",
            ),
            (
                "LoRA FSDP2 no target experts (2x48GB @ ~43GiB/GPU)",
                "the same under FSDP2 on 2 GPUs: ~43 GiB per GPU",
                43,
                {"quant_bits": 8, "sharding": "zero3", "fsdp": True},
                2,
                "more than on one GPU, as for QLoRA above",
            ),
        )
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c docs/expert_quantization.qmd ('GLM-4.7-Flash QLoRA drops from "
        "~127GiB to ~23GiB reserved memory')",
        "GLM-4.7-Flash QLoRA without quantize_moe_experts (the fused experts stay unquantized), one GPU, "
        "qlora.yaml otherwise: ~127 GiB reserved",
        GLM47_FLASH,
        "qlora",
        "qlora",
        127 * GIB,
        GLM_AXOLOTL | {"quantized_experts": False},
        public=True,
        note="PEFT's prepare_model_for_kbit_training casts the 27.8B expert parameters to fp32",
    ),
    MemoryRow(
        UNSLOTH_PEAK.format("GLM_Flash_A100(80GB)", "65.738"),
        "GLM-4.7-Flash 16-bit LoRA r8 on every projection, A100 80GB, Unsloth 2026.1.3, eager attention "
        "('does not support SDPA - switching to fast eager'), batch 4 x GA 2, 2,048 tokens, adamw_8bit: "
        "65.738 GiB",
        GLM47_FLASH,
        "lora",
        "lora",
        65.738 * GIB,
        {"seq_len": 2048, "batch_size": 4, "lora_rank": 8, "optimizer": "adamw-8bit", "stack": "unsloth"}
        | {"attention": "eager"},
        gpu="a100-80gb",
        public=True,
    ),
    hf_single_gpu("batch 4", 14949, batch_size=4),
    hf_single_gpu("batch 1 x GA 4", 8681, batch_size=1),
    hf_single_gpu("batch 1 x GA 4, checkpointing", 6775, batch_size=1, gradient_checkpointing=True),
    hf_single_gpu("batch 4, fp16 AMP", 13939, batch_size=4, precision="fp16"),
    hf_single_gpu(
        "batch 1 x GA 4, checkpointing, fp16",
        7275,
        batch_size=1,
        gradient_checkpointing=True,
        precision="fp16",
    ),
    hf_single_gpu("batch 4, bitsandbytes Adam8bit", 13085, batch_size=4, optimizer="adamw-8bit"),
    hf_single_gpu(
        "batch 1 x GA 4, checkpointing, fp16, Adam8bit",
        5363,
        batch_size=1,
        gradient_checkpointing=True,
        precision="fp16",
        optimizer="adamw-8bit",
    ),
    *(
        MemoryRow(
            TORCHTUNE_LORA_LAYERS,
            f"Llama-2-7B LoRA r{rank} alpha {2 * rank} on {layers}, pure bf16, batch 2, checkpointing: "
            f"{gb} GB",
            "llama-2-7b",
            "lora",
            "lora",
            gb,
            {"precision": "pure-bf16", "batch_size": 2, "seq_len": 512, "lora_rank": rank}
            | {"lora_targets": targets, "stack": "hf"},
            public=True,
            note="alpaca-cleaned rows (max_seq_len unset) sized at 512 tokens; 'all layers' adapts the "
            "output projection too, which all-linear leaves out",
        )
        for rank, layers, targets, gb in (
            (8, "q and v", "qv", 15.57),
            (8, "all layers", "all-linear", 15.87),
            (64, "q and v", "qv", 15.86),
            (64, "all layers", "all-linear", 17.04),
        )
    ),
    MemoryRow(
        "axolotl-ai-cloud/axolotl@067b021c examples/ministral/README.md ('This config uses about 8.76 GiB "
        "VRAM.'; config ministral-small-qlora.yaml)",
        "Ministral-8B-Instruct-2410 QLoRA r32 dropout 0.05 on all linear layers, packed to 2,048, "
        "micro-batch 2, adamw_bnb_8bit, Cut Cross Entropy, FlashAttention 2, checkpointing, bf16: 8.76 GiB",
        "ministral-8b-2410",
        "qlora",
        "qlora",
        8.76 * GIB,
        {"seq_len": 2048, "batch_size": 2, "lora_rank": 32, "lora_dropout": 0.05, "optimizer": "adamw-8bit"}
        | {"stack": "liger", "kbit_preparation": "recast"},
    ),
)


# --- measured training throughput ------------------------------------------------------------------


@dataclass(frozen=True)
class ThroughputRow:
    """A run's measured training throughput, with what the time model needs to estimate it."""

    source: str
    conditions: str  # as the source states them
    model: str  # catalog id
    method: str
    memory_model: str
    gpu: str  # catalog id
    measured_tokens_per_second: float  # over all GPUs, real (unpadded) tokens
    settings: dict[str, Any]  # the estimator's settings for the run
    tokens_per_example: int  # average length of the run's examples
    packing: bool
    gpus: int = 1
    # transformers' default optim; False: torch.optim.AdamW's default, timed as "adamw-foreach"
    fused_optimizer: bool = True
    public: bool = False  # the public set the tests hold within 0.6x-1.6x
    note: str = ""
    outside_band: bool = False  # a known disagreement, explained in its note and docs/time.md


TORCHTUNE_SPEED = (
    "torchtune README, Memory and training speed (pytorch/torchtune@30b8519e; batch 2, no gradient "
    "accumulation, packed to 2048 tokens, torch.compile, one epoch)"
)
TORCHTUNE_FLAGS = (
    "torchtune README, Optimization flags (pytorch/torchtune@1814feb1; Llama 3.2 3B, one A100 80GB, "
    "batch 2, 4096 tokens, bf16)"
)
PEFT_MMQA_SPEED = PEFT_MMQA.replace(", cuda_memory_reserved_99th", "; tokens over summed step times")
QWEN_SPEED = "Qwen README, Profiling of Memory and Speed (QwenLM/Qwen@2df8e8a)"
# Its 10,000 samples pack into 5,408 rows of 1,024 tokens (1,352 steps of 2 x 2 rows), one epoch.
SCHMID_L4 = (
    "philschmid/deep-learning-pytorch-huggingface training/fine-tune-llms-in-2025.ipynb, its table of "
    "'est. train time' (@391f19b; TRL 2024 packing, recipe receipes/llama-3-1-8b-qlora.yaml)"
)
LLM_FOUNDRY = "mosaicml/llm-foundry@8c8dd48f scripts/train/benchmarking/README.md"
LITGPT_TABLES = (
    "Lightning-AI/litgpt@4839345a tutorials/resource-tables.md (LitGPT 8641822 finetune/lora.py, "
    "PyTorch 2.1, global batch 128)"
)
ALPACA_TOKENS = 135  # an assumption: see the LitGPT rows
TORCHTITAN_A100 = "torchtitan docs/performance.md (pytorch/torchtitan@04133643; 64 A100 80GB, FSDP2)"
TORCHTITAN_H100 = (
    "pytorch/torchtitan@31a17bfd benchmarks/llama3_h100_202412_torchtitan.md, Tables 1 and 3 "
    "(TPS/GPU at the 90th iteration; seq_len 8192 from train_configs/llama3_8b.toml)"
)
NEMO_AUTOMODEL = "NVIDIA-NeMo/Automodel@2861c414 docs/performance-summary.mdx"
# Qwen (1.0) has no catalog entry: its runs are estimated on the Qwen2.5 model of its size, with
# the same vocabulary but not the same shape (Qwen-1.8B, 7B, 14B: 24, 32, 40 layers of width 2,048,
# 4,096, 5,120; the stand-ins: 28 x 1,536, 28 x 3,584, 48 x 5,120). Launch-bound short rows scale
# with the stand-in's layers: the 14B's 48 against 40 put its 256-token row at ~0.8.
QWEN_STAND_INS = {"1.8B": "qwen2.5-1.5b", "7B": "qwen2.5-7b", "14B": "qwen2.5-14b", "72B": "qwen2.5-72b"}


def qwen_lora(size: str, length: int, seconds_per_iteration: float, gptq: bool = False) -> ThroughputRow:
    """One cell of the Qwen README's table: Qwen-`size` LoRA r64 on one A100-SXM4-80G, batch 1,
    gradient accumulation 8, FlashAttention 2, checkpointing, inputs of `length` tokens; its
    seconds per iteration cover the 8 micro-steps. `gptq`: its Q-LoRA cells, on the Int4 (GPTQ,
    auto-gptq kernels) checkpoints, timed as NF4."""
    method, what, timed_as = (
        ("qlora", "-Chat-Int4 (GPTQ) Q-LoRA", ", timed as NF4") if gptq else ("lora", " LoRA", "")
    )
    short = gptq and length <= 512
    return ThroughputRow(
        QWEN_SPEED,
        f"Qwen-{size}{what} r64, one A100 80GB, batch 1, {length:,} tokens, checkpointing "
        f"({seconds_per_iteration} s per 8 micro-steps; on the {QWEN_STAND_INS[size]} shape{timed_as})",
        QWEN_STAND_INS[size],
        method,
        method,
        "a100-80gb",
        round(8 * length / seconds_per_iteration),
        {"batch_size": 1, "seq_len": length, "lora_rank": 64},
        length,
        packing=True,
        note="GPTQ's dequantisation in training costs ~12 ps per weight and pass on an A100 (~20 bytes at "
        "80 % of bandwidth), the NF4 model charges 4.5 bytes: short rows read 2-2.5x too fast"
        if short
        else "",
        outside_band=short,
    )


def qwen_zero3(size: str, method: str, gpus: int, length: int, seconds_per_iteration: float) -> ThroughputRow:
    """One of the Qwen README's DeepSpeed ZeRO-3 cells (finetune/ds_config_zero3.json: overlap_comm
    true, "auto" buckets): full fine-tuning or LoRA r64 on `gpus` A100-SXM4-80G, batch 1, gradient
    accumulation 8, FlashAttention 2, checkpointing; 8 micro-steps per iteration on each GPU."""
    lora = method == "lora"
    return ThroughputRow(
        QWEN_SPEED,
        f"Qwen-{size} {'LoRA r64' if lora else 'full fine-tuning'}, DeepSpeed ZeRO-3 on {gpus} A100 80GB, "
        f"batch 1, {length:,} tokens, checkpointing ({seconds_per_iteration} s per 8 micro-steps; on the "
        f"{QWEN_STAND_INS[size]} shape)",
        QWEN_STAND_INS[size],
        method,
        "lora" if lora else "full",
        "a100-80gb",
        round(8 * gpus * length / seconds_per_iteration),
        {"batch_size": 1, "seq_len": length, "sharding": "zero3"} | ({"lora_rank": 64} if lora else {}),
        length,
        packing=True,
        gpus=gpus,
        public=True,
    )


def answer_ai(
    conditions: str,
    model: str,
    gpu: str,
    measured: float,
    *,
    batch: int,
    gpus: int,
    offload: str | None = None,
    note: str = "",
    outside_band: bool = False,
) -> ThroughputRow:
    """One of Answer.AI's FSDP-QLoRA runs: LoRA r64 over a 4-bit base, sharded (ZeRO-3 / FSDP)
    across the GPUs, 2,048-token samples of full length, so its rate is tokens over the run's
    seconds for 1,024 samples."""
    settings: dict[str, Any] = {
        "batch_size": batch,
        "seq_len": 2048,
        "lora_rank": 64,
        "sharding": "zero3",
        "fsdp": True,
    }
    if offload is not None:
        settings["offload"] = offload
    return ThroughputRow(
        ANSWER_AI,
        conditions,
        model,
        "qlora",
        "qlora",
        gpu,
        measured,
        settings,
        2048,
        packing=True,
        gpus=gpus,
        note=note,
        outside_band=outside_band,
    )


# torchtune's recipes with compile and chunked cross-entropy are the "liger" class of stack here:
# fused kernels and a loss that never materialises the logits in fp32.
COMPILED = {"stack": "liger", "gradient_checkpointing": True, "batch_size": 2}
PACKED_2K = {**COMPILED, "seq_len": 2048}
# torchtune's recipes/configs/llama3_1/8B_full_single_device.yaml: bf16 weights, bitsandbytes'
# PagedAdamW8bit stepped in the backward (optimizer_in_bwd: True).
TORCHTUNE_FULL_8B = {
    **PACKED_2K,
    "precision": "pure-bf16",
    "optimizer": "paged-adamw-8bit",
    "optimizer_in_backward": True,
}

# Sources of the rows a throughput review of the fifty-second round added.
XTUNER_SPEED = (
    "InternLM/xtuner@b934f462 docs/zh_cn/legacy/acceleration/benchmark.rst, TGS tables (A100-SXM4-80GB; "
    "configs xtuner/configs/llama_speed_benchmark/*_sp1.py: pack_to_max_length, use_varlen_attn False, "
    "batch 1, accumulative_counts 1)"
)
LF_WIKI_SPEED = (
    "hiyouga/LLaMA-Factory wiki, Performance-comparison (revision of 2024-04-15), second TGS table: "
    "LLaMA2-7B, one A100 40GB, batch 1, gradient accumulation 4, LoRA r8 on all modules, 4-bit"
)
NEMO_AUTOMODEL_HEAD = (
    "NVIDIA-NeMo/Automodel@36044ad3 docs/performance-summary.mdx (last updated 2025-10-02; configs "
    "examples/llm_benchmark/*)"
)
SWIFT_LONG = "modelscope/ms-swift@3602360a {} (its header: '{}')"
TORCHTITAN_H200 = (
    "pytorch/torchtitan@b5bcd76c benchmarks/llama3-8b_h200_202506_trainy-whitefiber.md (TPS/GPU at the "
    "100th iteration; train_configs/llama3_8b.toml seq_len 8192)"
)


# NVIDIA NeMo AutoModel's LoRA benchmarks: TP 2 x FSDP, as ZeRO-3 over all GPUs, TE and Triton LoRA
# kernels (a fused stack), 4,096 tokens, local batch 2, r16 on every *_proj.
NEMO_LORA: dict[str, Any] = {"batch_size": 2, "seq_len": 4096, "lora_rank": 16, "stack": "liger"} | {
    "sharding": "zero3",
    "fsdp": True,
}


# Sources of the rows a throughput review of the fifty-third round added.
XTUNER_SP = (
    "InternLM/xtuner@b934f462 docs/zh_cn/legacy/acceleration/benchmark.rst, TGS tables (A100-SXM4-80GB; "
    "configs "
    "xtuner/configs/llama_speed_benchmark/*_sp{4,8,16}.py: pack_to_max_length, use_varlen_attn False, batch "
    "1, "
    "sequence_parallel_size as named, accumulative_counts = sp)"
)
MB_ARCHIVE = (
    "NVIDIA-NeMo/Megatron-Bridge@067f987d docs/performance-summary-archive.md, '26.04.01 NeMo Container', "
    "Pre-Training, GPT OSS 120B (BF16; force-balanced, dropless routing)"
)
AUTOMODEL_PRETRAIN = (
    "NVIDIA-NeMo/Automodel@36044ad3 docs/performance-summary.mdx, Pre-Training (DGX-H100, BF16)"
)
UNSLOTH_OUT = "unslothai/notebooks@bdda2efc nb/{}.ipynb, its output ({})"
PHIL = "philschmid/deep-learning-pytorch-huggingface@59b37973 training/{} ({})"
# UltraFeedback pairs, ~490 tokens a sequence: prompt ~670 characters + response ~1,270, solved from two
# dataset
# cards' bytes per row (HuggingFaceH4/ultrafeedback_binarized train_prefs 405,688,662 B / 61,135 rows = 4P
# + 2C + R;
# the argilla-cleaned schema, gp02-mcgill/ultrafeedback_binarised_rnd_max, 285,027,564 B / 60,917 = 3P + C
# + R),
# ~4 characters a token.
UF_TOKENS = 490

# Mixtures of experts trained with Transformer Engine's kernels and without checkpointing at 4,096
# tokens (NeMo AutoModel, Megatron-Core), timed as FSDP: the estimator has no expert parallelism.
MOE_PRETRAINING: dict[str, Any] = {"seq_len": 4096, "stack": "liger", "attention": "kernel"} | {
    "sharding": "zero3",
    "fsdp": True,
    "gradient_checkpointing": False,
}
FMS_SPEED = FMS.split(", mem_nvidia")[0] + ", train_tokens_per_second (per GPU; 100 steps, no accumulation)"


def fms_speed(what: str, model: str, method: str, per_gpu: float, batch: int, gpus: int) -> ThroughputRow:
    """An fms-acceleration reference run's speed (its A100 80GB table, as fms() reads its memory):
    transformers 4.48's default AdamW (not fused), 16-bit weights without AMP for LoRA and full
    fine-tuning, bf16 AMP over an NF4 base for QLoRA, whose experts bitsandbytes quantizes too."""
    given: dict[str, Any] = {"seq_len": 4096, "batch_size": batch, "stack": "hf"}
    if method != "full-ft":
        given |= {"lora_rank": 16, "lora_targets": "attention", "lora_dropout": 0.1}
    given |= {"quantized_experts": True} if method == "qlora" else {"precision": "pure-bf16"}
    given |= {"sharding": "zero3", "fsdp": True} if gpus > 1 else {}
    return ThroughputRow(
        FMS_SPEED,
        f"{what}, {gpus} GPU(s), micro-batch {batch}; {FMS_WHAT}: {per_gpu:,.0f} tokens/s per GPU",
        model,
        method,
        "full" if method == "full-ft" else method,
        "a100-80gb",
        per_gpu * gpus,
        given,
        4096,
        packing=True,
        gpus=gpus,
        fused_optimizer=False,
        public=True,
    )


HF_FSDP_BLOG = (
    "huggingface/blog@09e9aa2d deepspeed-to-fsdp-and-back.md, Table 3 (Granite 7B, a Llama 2 shape, 4 A100, "
    "micro-batch 8 of 4,096 tokens, bf16 AMP)"
)
GRANITE = {"batch_size": 8, "seq_len": 4096, "stack": "hf", "gradient_checkpointing": True}
FMS_FSDP = (
    "foundation-model-stack/fms-fsdp@0d319983 README.md, its table (128 A100, 4,096-token pre-training with "
    "torch FSDP and SDPA FlashAttention 2; token/gpu/sec)"
)
FMS_FSDP_SETTINGS = {"seq_len": 4096, "stack": "liger", "sharding": "zero3", "fsdp": True}


THROUGHPUT_ROWS: tuple[ThroughputRow, ...] = (
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 8B, LoRA r8 on q,v, one RTX 4090",
        "llama-3.1-8b",
        "lora",
        "lora",
        "rtx-4090",
        3083,
        {**PACKED_2K, "lora_rank": 8, "lora_targets": "qv"},
        2048,
        packing=True,
        public=True,
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 8B, QLoRA r8 on all linear layers, one RTX 4090",
        "llama-3.1-8b",
        "qlora",
        "qlora",
        "rtx-4090",
        2413,
        {**PACKED_2K, "lora_rank": 8},
        2048,
        packing=True,
        public=True,
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 8B, LoRA r8 on q,v, one 'RTX A6000'",
        "llama-3.1-8b",
        "lora",
        "lora",
        "rtx-6000-ada",
        4699,
        {**PACKED_2K, "lora_rank": 8, "lora_targets": "qv"},
        2048,
        packing=True,
        public=True,
        note=(
            "read as an RTX 6000 Ada: on an Ampere RTX A6000 (154.8 TFLOPS) this rate would need 143 % "
            "of peak with checkpointing"
        ),
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 8B, full fine-tuning, paged 8-bit AdamW fused into the backward, one 'RTX A6000'",
        "llama-3.1-8b",
        "full-ft",
        "full",
        "rtx-6000-ada",
        2579,
        TORCHTUNE_FULL_8B,
        2048,
        packing=True,
        public=True,
        note="read as an RTX 6000 Ada (see the LoRA row)",
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 8B, full fine-tuning, paged 8-bit AdamW fused into the backward, one RTX 4090",
        "llama-3.1-8b",
        "full-ft",
        "full",
        "rtx-4090",
        1650,
        TORCHTUNE_FULL_8B,
        2048,
        packing=True,
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 70B, LoRA r16 on q,k,v, 8x A100 80GB, FSDP (the README's rate read as the 8-GPU total)",
        "llama-3.1-70b",
        "lora",
        "lora",
        "a100-80gb",
        3497,
        {**PACKED_2K, "lora_targets": "attention", "sharding": "zero3", "fsdp": True},
        2048,
        packing=True,
        gpus=8,
        public=True,
        note="per GPU it would be 3.2x the A100's peak: the rate is the total",
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 70B, full fine-tuning, 8x A100 80GB, FSDP with CPU offload and a fused optimizer (total)",
        "llama-3.1-70b",
        "full-ft",
        "full",
        "a100-80gb",
        1568,
        {**PACKED_2K, "precision": "pure-bf16", "sharding": "zero3", "fsdp": True, "offload": "params"},
        2048,
        packing=True,
        gpus=8,
        public=True,
        note="each of the 8 processes steps AdamW over its shard on the CPU, side by side",
    ),
    ThroughputRow(
        TORCHTUNE_SPEED,
        "Llama 3.1 405B, QLoRA r16, 8x A100 80GB, FSDP (total)",
        "llama-3.1-405b",
        "qlora",
        "qlora",
        "a100-80gb",
        653,
        {**PACKED_2K, "sharding": "zero3", "fsdp": True},
        2048,
        packing=True,
        gpus=8,
        public=True,
    ),
    ThroughputRow(
        TORCHTUNE_FLAGS,
        "full fine-tuning, unpacked Alpaca, eager, AdamW (~200 tokens per example assumed)",
        "llama-3.2-3b",
        "full-ft",
        "full",
        "a100-80gb",
        2091,
        {"batch_size": 2, "seq_len": 4096, "precision": "pure-bf16", "gradient_checkpointing": False},
        200,
        packing=False,
        fused_optimizer=False,
        public=True,
        note="Alpaca's average length is our assumption; the optimizer step dominates at this size",
    ),
    ThroughputRow(
        TORCHTUNE_FLAGS,
        "LoRA r64 on q,v,o and the MLP, packed, compile, chunked cross-entropy, checkpointing",
        "llama-3.2-3b",
        "lora",
        "lora",
        "a100-80gb",
        8210,
        {**COMPILED, "seq_len": 4096, "lora_rank": 64},
        4096,
        packing=True,
        public=True,
    ),
    ThroughputRow(
        TORCHTUNE_FLAGS,
        "QLoRA r64, same flags",
        "llama-3.2-3b",
        "qlora",
        "qlora",
        "a100-80gb",
        8035,
        {**COMPILED, "seq_len": 4096, "lora_rank": 64},
        4096,
        packing=True,
        public=True,
    ),
    ThroughputRow(
        PEFT_MMQA_SPEED,
        "LoRA r32 on q,v; " + PEFT_MMQA_CONDITIONS + "; 210 tokens per example on average",
        "llama-3.2-3b",
        "lora",
        "lora",
        "l40s",
        7174,
        {**PURE_BF16_NO_AC, "lora_rank": 32, "lora_targets": "qv"},
        210,
        packing=False,
        fused_optimizer=False,
    ),
    ThroughputRow(
        PEFT_MMQA_SPEED,
        "full fine-tuning; " + PEFT_MMQA_CONDITIONS,
        "llama-3.2-3b",
        "full-ft",
        "full",
        "l40s",
        2316,
        PURE_BF16_NO_AC,
        210,
        packing=False,
        fused_optimizer=False,
    ),
    *(
        ThroughputRow(
            PEFT_MMQA_NEW.format(file=file).replace(
                ", accelerator_memory_reserved_99th", "; summed step times"
            ),
            what + "; " + PEFT_MMQA_CONDITIONS,
            "llama-3.2-3b",
            method,
            memory_model,
            "l40s",
            tokens_per_second,
            {**PURE_BF16_NO_AC, **settings},
            210,
            packing=False,
            fused_optimizer=False,
        )
        for file, what, method, memory_model, _, settings, tokens_per_second, _ in PEFT_MMQA_METHODS
    ),
    ThroughputRow(
        PEFT_MMQA_NEW.format(file="prompt_tuning--llama-3.2-3B-default.json").replace(
            ", accelerator_memory_reserved_99th", "; summed step times"
        ),
        "prompt tuning, 200 virtual tokens; " + PEFT_MMQA_CONDITIONS,
        "llama-3.2-3b",
        "prompt-tuning",
        "prompt",
        "l40s",
        4467,
        {**PURE_BF16_NO_AC, "virtual_tokens": 200},
        210,
        packing=False,
        fused_optimizer=False,
        public=True,
        note="the virtual tokens run through every layer with each row: timed without them, 1.58x",
    ),
    ThroughputRow(
        PEFT_MMQA_SPEED,
        "DoRA r32 on q,v; " + PEFT_MMQA_CONDITIONS,
        "llama-3.2-3b",
        "dora",
        "dora",
        "l40s",
        5941,
        {**PURE_BF16_NO_AC, "lora_rank": 32, "lora_targets": "qv"},
        210,
        packing=False,
        fused_optimizer=False,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 2x RTX 3090 (PCIe), FSDP with CPU offload, batch 2, 2048 tokens",
        "llama-2-70b",
        "rtx-3090",
        178,
        batch=2,
        gpus=2,
        offload="params",
    ),
    answer_ai(
        "Llama-2-7B QLoRA, 2x RTX 3090, FSDP, batch 10, 2048 tokens",
        "llama-2-7b",
        "rtx-3090",
        2241,
        batch=10,
        gpus=2,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 4x H100 80GB SXM, FSDP, batch 8, 2048 tokens",
        "llama-2-70b",
        "h100-80gb",
        3144,
        batch=8,
        gpus=4,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 8x A100 40GB SXM, FSDP, batch 4, 2048 tokens",
        "llama-2-70b",
        "a100-40gb",
        3121,
        batch=4,
        gpus=8,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 2x A100 40GB SXM, FSDP, batch 1, 2048 tokens (1,024 samples in 3,277 s)",
        "llama-2-70b",
        "a100-40gb",
        640,
        batch=1,
        gpus=2,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 4x A100 40GB SXM, FSDP, batch 4, 2048 tokens (1,024 samples in 1,266 s)",
        "llama-2-70b",
        "a100-40gb",
        1657,
        batch=4,
        gpus=4,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 2x RTX 6000 Ada ('A6000 Ada 48GB'), FSDP, batch 2, 2048 tokens (5,867 s)",
        "llama-2-70b",
        "rtx-6000-ada",
        357,
        batch=2,
        gpus=2,
        note="the card's printed 364 TFLOPS (whitepaper, as quoted) puts this at ~1.9x; half of it "
        "(182, FP32 accumulate at half rate as on its L40 sibling, and as llm.c treats the card) "
        "would match both rows, but not torchtune's 'A6000' rows read as this card: the catalog "
        "keeps 364",
        outside_band=True,
    ),
    answer_ai(
        "Llama-2-70B QLoRA, 4x RTX 6000 Ada, FSDP, batch 3, 2048 tokens (2,904 s)",
        "llama-2-70b",
        "rtx-6000-ada",
        722,
        batch=3,
        gpus=4,
        note="see the 2-GPU row",
        outside_band=True,
    ),
    answer_ai(
        "Llama-2-7B QLoRA, 2x RTX 4090 (PCIe 4.0 x16), FSDP, batch 10, 2048 tokens (466 s)",
        "llama-2-7b",
        "rtx-4090",
        4500,
        batch=10,
        gpus=2,
    ),
    ThroughputRow(
        ANSWER_AI,
        "Llama-2-7B LoRA r64 in 16 bit, 2x RTX 4090, DDP (a whole model on each GPU), batch 4, 2048 "
        "tokens (1,024 samples in 437 s)",
        "llama-2-7b",
        "lora",
        "lora",
        "rtx-4090",
        round(1024 * 2048 / 437),
        {"batch_size": 4, "seq_len": 2048, "lora_rank": 64, "sharding": "ddp"},
        2048,
        packing=True,
        gpus=2,
    ),
    ThroughputRow(
        "axolotl examples/llama-4/README.md (axolotl-ai-cloud/axolotl@067b021c)",
        "Llama 4 Scout (17B active of 109B, mixture of experts) QLoRA r32, one H100, 4,096 tokens packed, "
        "torch.compile, flex attention, checkpointing with offload",
        "llama-4-scout",
        "qlora",
        "qlora",
        "h100-80gb",
        519,
        {"batch_size": 1, "seq_len": 4096, "lora_rank": 32, "stack": "liger", "gradient_checkpointing": True},
        4096,
        packing=True,
        note="the row the routed experts' efficiency is taken from",
    ),
    ThroughputRow(
        "axolotl examples/llama-4/README.md (axolotl-ai-cloud/axolotl@067b021c)",
        "Llama 4 Scout QLoRA r32, 4x H100 with FSDP2, 4,096 tokens packed, micro-batch 2, flex attention: "
        "280 tokens/s per GPU",
        "llama-4-scout",
        "qlora",
        "qlora",
        "h100-80gb",
        4 * 280,
        {
            "batch_size": 2,
            "seq_len": 4096,
            "lora_rank": 32,
            "stack": "liger",
            "sharding": "zero3",
            "fsdp": True,
        },
        4096,
        packing=True,
        gpus=4,
        note="FSDP2 over a mixture of experts' many small tensors costs more than the gathers timed here",
        outside_band=True,
    ),
    ThroughputRow(
        "unslothai/notebooks nb/gpt_oss_(20B)_500K_Context_Fine_tuning.ipynb, its output (@bdda2efc)",
        "gpt-oss-20b QLoRA r8 on q, k, v, o, one A100 80GB, one step of one 486,607-token sequence with "
        "Unsloth's tiled MLP and offloaded checkpoints: 2,397 s (warm-up included)",
        "gpt-oss-20b",
        "qlora",
        "qlora",
        "a100-80gb",
        round(486_607 / 2397.1),
        {
            "batch_size": 1,
            "seq_len": 486_607,
            "lora_rank": 8,
            "lora_targets": "attention",
            "stack": "unsloth",
            "tiled_mlp": True,
        },
        486_607,
        packing=True,
        note="run before transformers 5's grouped experts; timed, as Unsloth's MoE runs are, with its "
        "experts run one by one (docs/time.md)",
    ),
    ThroughputRow(
        "unslothai/notebooks nb/gpt-oss-(20B)-Fine-tuning.ipynb, its output (@bdda2efc)",
        "unsloth/gpt-oss-20b LoRA r8 on the 4-bit base, attention only, one Tesla T4, Unsloth 2025.8.5 in "
        "float32 ('Switching to float32 training since model cannot work with float16'), 30 steps of "
        "1 x 4 examples of HuggingFaceH4/Multilingual-Thinking cut at 1,024 tokens, adamw_8bit: 645.7 s "
        "(its 'seconds used for training'); ~950 tokens per example, an assumption: the notebook "
        "prints no total_flos",
        "gpt-oss-20b",
        "qlora",
        "qlora",
        "t4",
        round(120 * 950 / 645.7),
        {
            "batch_size": 1,
            "seq_len": 1024,
            "lora_rank": 8,
            "lora_targets": "attention",
            "precision": "fp32",
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
        },
        950,
        packing=False,
        note="its experts run one by one, in fp32 on the CUDA cores, which their small matmuls keep as "
        "busy as a dense one: timed at the dense rate (with the 16-bit loop's 0.04 it read 0.07x)",
    ),
    ThroughputRow(
        "unslothai/notebooks nb/Qwen3_MoE.ipynb, its output (@bdda2efc)",
        "Qwen3-30B-A3B-Instruct-2507 LoRA r32 with the routed experts (1,285,029,888 trainable), one "
        "A100-SXM4-80GB, Unsloth 2026.2.1, transformers 5.1.0, batch 1, 8-bit AdamW, 50 steps in "
        "208.4 s (train_runtime, warm-up included); ~900 tokens per example from total_flos / 6N",
        "qwen3-30b-a3b-instruct-2507",
        "lora",
        "lora",
        "a100-80gb",
        round(50 * 900 / 208.4),
        {
            "batch_size": 1,
            "seq_len": 2048,
            "lora_rank": 32,
            "lora_experts": True,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
        },
        900,
        packing=False,
        note="PEFT's ParamWrapper merge of every expert is counted, and the CPU time of running the "
        "experts one by one (docs/time.md)",
    ),
    ThroughputRow(
        "unslothai/notebooks nb/Qwen3_5_MoE.ipynb, its output (@bdda2efc)",
        "Qwen3.5-35B-A3B LoRA r8 with the routed experts (714,752,000 trainable), 16-bit base, one "
        "A100 80GB, Unsloth 2026.5.2, transformers 5.3.0, torch 2.10, batch 1, 8-bit AdamW, 50 steps in "
        "418.9 s (train_runtime, warm-up and compilation included); ~1,956 tokens per example from "
        "total_flos / 6N",
        "qwen3.5-35b-a3b",
        "lora",
        "lora",
        "a100-80gb",
        round(50 * 1956 / 418.9),
        {
            "batch_size": 1,
            "seq_len": 2048,
            "lora_rank": 8,
            "lora_experts": True,
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
        },
        1956,
        packing=False,
        note="the experts run one by one, as the Qwen3-30B-A3B row (docs/time.md)",
    ),
    # The README's LoRA cells on one A100, from launch-bound short sequences to long ones.
    *(
        qwen_lora(size, length, seconds)
        for size, length, seconds in (
            ("7B", 256, 1.2),
            ("7B", 512, 1.5),
            ("7B", 2048, 5.2),
            ("7B", 8192, 21.3),
            ("14B", 256, 1.6),
            ("14B", 2048, 8.4),
            ("14B", 8192, 36.0),
            ("1.8B", 256, 1.0),
            ("1.8B", 8192, 6.8),
        )
    ),
    # Its DeepSpeed ZeRO-3 cells: short sequences wait for every module's gather and hooks.
    *(
        qwen_zero3(size, method, gpus, length, seconds)
        for size, method, gpus, length, seconds in (
            ("7B", "full-ft", 2, 256, 4.0),
            ("7B", "full-ft", 2, 512, 4.0),
            ("7B", "full-ft", 2, 1024, 4.5),
            ("72B", "lora", 4, 256, 17.6),
            ("72B", "lora", 4, 1024, 29.4),
            ("72B", "lora", 4, 8192, 161.5),
        )
    ),
    # ms-swift's DeepSpeed benchmark: one iteration is 8 GPUs x 1 x 2 accumulation rows of 8,192
    # packed tokens (examples/megatron/benchmark/deepspeed.sh). Its documents' length is not
    # stated: each is taken as a whole row, the most attention it can cost (2,048-token documents
    # would read ~0.1 lower).
    *(
        ThroughputRow(
            "modelscope/ms-swift@3602360a docs/source_en/Megatron-SWIFT/Quick-start.md, Benchmark "
            f"(Deepspeed-{stage.upper()} column, {seconds} s/it), with "
            "examples/megatron/benchmark/deepspeed.sh",
            f"Qwen2.5-14B full fine-tuning, 8x A800 80GB (read as A100 80GB: the same chip, NVLink "
            f"capped at 400 GB/s), DeepSpeed {stage.upper()}, packed to 8,192 tokens, micro-batch 1 x "
            f"accumulation 2, FlashAttention 2, checkpointing, AdamW, bf16 ({seconds} s per iteration)",
            "qwen2.5-14b",
            "full-ft",
            "full",
            "a100-80gb",
            round(8 * 2 * 8192 / seconds),
            {"batch_size": 1, "seq_len": 8192, "sharding": stage, "stack": "hf"},
            8192,
            packing=True,
            gpus=8,
            public=True,
            note="long packed rows keep a 14B's matmuls large: they run faster than the stack's "
            "efficiency, calibrated mostly on shorter or smaller runs, assumes",
        )
        for stage, seconds in (("zero2", 10.32), ("zero3", 10.56))
    ),
    ThroughputRow(
        QWEN_SPEED,
        "Qwen-1.8B full fine-tuning, one A100 80GB, batch 1, 2,048 tokens (on the Qwen2.5-1.5B shape)",
        "qwen2.5-1.5b",
        "full-ft",
        "full",
        "a100-80gb",
        7123,
        {"batch_size": 1, "seq_len": 2048},
        2048,
        packing=True,
    ),
    ThroughputRow(
        "Unsloth README quoting the LLaMA-Factory wiki, Performance Comparison (unslothai/unsloth@0a2c3973)",
        "Llama-2-7B LoRA r8, one A100, batch 4, 1024 tokens, Hugging Face (tokens per GPU per second)",
        "llama-2-7b",
        "lora",
        "lora",
        "a100-80gb",
        2392,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8, "attention": "eager"},
        1024,
        packing=True,
        note="eager attention: LLaMA-Factory of its day loaded attn_implementation='eager' without "
        "flash_attn (hiyouga/LLaMA-Factory@5b8712d06 src/llmtuner/model/patcher.py)",
    ),
    ThroughputRow(
        "Unsloth README quoting the LLaMA-Factory wiki, Performance Comparison (unslothai/unsloth@0a2c3973)",
        "Llama-2-7B LoRA r8, one A100, batch 4, 1024 tokens, Unsloth",
        "llama-2-7b",
        "lora",
        "lora",
        "a100-80gb",
        4007,
        {"batch_size": 4, "seq_len": 1024, "lora_rank": 8, "stack": "unsloth"},
        1024,
        packing=True,
    ),
    *(
        ThroughputRow(
            "NVIDIA-NeMo/Automodel docs/performance-summary.mdx, Fine-Tuning (LoRA) Performance, DGX-H100 "
            "(@2861c414; configs examples/llm_benchmark/*_peft_benchmark.yaml)",
            f"{name} LoRA r16 on every *_proj (dropout 0.1), one H100, mock data of full 4,096-token "
            f"sequences, micro-batch 2, no activation checkpointing, Transformer Engine + triton LoRA "
            f"kernels, torch.optim.AdamW ({seconds} s per global step of 32 sequences)",
            model,
            "lora",
            "lora",
            "h100-80gb",
            round(32 * 4096 / seconds),
            {
                "batch_size": 2,
                "seq_len": 4096,
                "lora_rank": 16,
                "stack": "liger",
                "gradient_checkpointing": False,
            },
            4096,
            packing=True,
            fused_optimizer=False,
            note="Transformer Engine and Triton LoRA kernels: one efficiency for every fused stack",
        )
        for name, model, seconds in (
            ("Llama 3.1 8B", "llama-3.1-8b", 10.51),
            ("Qwen2.5 7B", "qwen2.5-7b", 9.29),
        )
    ),
    *(
        ThroughputRow(
            SCHMID_L4,
            f"Llama-3.1-8B QLoRA r16 on all linear layers (and embed_tokens, lm_head), {gpus}x L4, "
            f"packed to 1,024 tokens, batch {batch}, {kernels}: ~{minutes} min for 5,408 rows",
            "llama-3.1-8b",
            "qlora",
            "qlora",
            "l4",
            round(5408 * 1024 / (minutes * 60)),
            {"batch_size": batch, "seq_len": 1024, "lora_rank": 16, "stack": stack}
            | ({"sharding": "zero3"} if gpus > 1 else {}),
            1024,
            packing=True,
            gpus=gpus,
        )
        for gpus, batch, kernels, stack, minutes in (
            (1, 2, "SDPA", "hf", 290),
            (1, 2, "FlashAttention 2", "hf", 220),
            (1, 4, "FlashAttention 2 and Liger", "liger", 135),
            (4, 8, "FlashAttention 2 and Liger, DeepSpeed ZeRO-3", "liger", 33),
            (8, 8, "FlashAttention 2 and Liger, DeepSpeed ZeRO-3", "liger", 18),
        )
    ),
    # Full training of dense models on 8 GPUs with FSDP (FULL_SHARD) and fused kernels, from 2k to
    # 64k tokens: the length sweep the attention kernels' share is checked against. MPT uses ALiBi
    # and a 50k vocabulary; it is estimated on the Llama 2 shape of the same width and depth.
    *(
        ThroughputRow(
            LLM_FOUNDRY + f" ('{gpu_name}' table)",
            f"{name} full training, 8x {gpu_name}, FSDP FULL_SHARD, amp_bf16, micro-batch {batch}, "
            f"grad-accum {accumulation}, {length:,}-token sequences, activation checkpointing "
            f"{'on' if checkpointing else 'off'}, Triton flash attention: {per_gpu:,} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            gpu,
            8 * per_gpu,
            {
                "batch_size": batch,
                "seq_len": length,
                "stack": "liger",
                "gradient_checkpointing": checkpointing,
                "sharding": "zero3",
                "fsdp": True,
            },
            length,
            packing=True,
            gpus=8,
            fused_optimizer=False,
        )
        for name, model, gpu, gpu_name, length, batch, accumulation, checkpointing, per_gpu in (
            ("MPT-7B", "llama-2-7b", "a100-80gb", "A100 80GB", 2048, 6, 2, False, 4641),
            ("MPT-7B", "llama-2-7b", "a100-80gb", "A100 80GB", 8192, 8, 2, True, 3206),
            ("MPT-7B", "llama-2-7b", "a100-80gb", "A100 80GB", 32_768, 2, 2, True, 1672),
            ("MPT-7B", "llama-2-7b", "a100-80gb", "A100 80GB", 65_536, 1, 2, True, 1013),
            ("MPT-13B", "llama-2-13b", "a100-80gb", "A100 80GB", 8192, 5, 3, True, 1795),
            ("MPT-13B", "llama-2-13b", "a100-80gb", "A100 80GB", 32_768, 1, 3, True, 1016),
            ("MPT-7B", "llama-2-7b", "h100-80gb", "H100 80GB", 2048, 6, 1, False, 10_643),
            ("MPT-7B", "llama-2-7b", "h100-80gb", "H100 80GB", 8192, 8, 2, True, 6935),
            ("MPT-7B", "llama-2-7b", "h100-80gb", "H100 80GB", 65_536, 1, 2, True, 1956),
            ("MPT-13B", "llama-2-13b", "h100-80gb", "H100 80GB", 32_768, 1, 3, True, 1976),
        )
    ),
    # The same benchmark on 8 to 64 GPUs (1 to 8 nodes): its tokens per GPU stay flat from one node
    # to eight, which a network of one port per GPU would not allow (docs/time.md). Its A100 table
    # states the network, 1,600 Gb/s per node (RoCE), the A100's default here; the H100's is not
    # stated, and is read as the 3,200 Gb/s of a DGX H100, its default.
    *(
        ThroughputRow(
            LLM_FOUNDRY + f" ('{gpu_name}' table)",
            f"{name} full training, {gpus}x {gpu_name}, FSDP FULL_SHARD, {mode}, micro-batch {batch}, "
            f"grad-accum {accumulation}, 2,048-token sequences, activation checkpointing "
            f"{'on' if checkpointing else 'off'}, Triton flash attention: {per_gpu:,} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            gpu,
            total,
            {
                "batch_size": batch,
                "seq_len": 2048,
                "stack": "liger",
                "gradient_checkpointing": checkpointing,
                "sharding": "zero3",
                "fsdp": True,
            }
            | ({"precision": "pure-bf16"} if mode == "pure bf16" else {}),
            2048,
            packing=True,
            gpus=gpus,
            fused_optimizer=False,
        )
        for name, model, gpu, gpu_name, gpus, mode, batch, accumulation, checkpointing, per_gpu, total in (
            ("MPT-13B", "llama-2-13b", "h100-80gb", "H100 80GB", 8, "amp_bf16", 2, 1, False, 4792, 38_336),
            ("MPT-13B", "llama-2-13b", "h100-80gb", "H100 80GB", 16, "amp_bf16", 2, 1, False, 4767, 76_280),
            ("MPT-13B", "llama-2-13b", "h100-80gb", "H100 80GB", 64, "amp_bf16", 2, 1, False, 4800, 307_209),
            ("MPT-70B", "llama-2-70b", "h100-80gb", "H100 80GB", 64, "amp_bf16", 8, 4, True, 1039, 66_523),
            ("MPT-70B", "llama-2-70b", "a100-80gb", "A100 80GB", 64, "pure bf16", 8, 4, True, 410, 26_274),
        )
    ),
    # torchtitan on 64 A100s (8 nodes), FSDP2: multi-node full training.
    *(
        ThroughputRow(
            TORCHTITAN_A100,
            f"{name} full training, 64x A100 80GB, FSDP2, local batch {batch} x {length:,} tokens, "
            f"{checkpointing}: {per_gpu:,} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            "a100-80gb",
            64 * per_gpu,
            {
                "batch_size": batch,
                "seq_len": length,
                "stack": "liger",
                "gradient_checkpointing": checkpointing == "full activation checkpointing",
                "sharding": "zero3",
                "fsdp": True,
            },
            length,
            packing=True,
            gpus=64,
            fused_optimizer=False,
            note="selective layer checkpointing recomputes few matmuls: estimated without"
            if model == "llama-3-8b"
            else "",
        )
        for name, model, batch, length, checkpointing, per_gpu in (
            ("Llama 3 8B", "llama-3-8b", 1, 8192, "selective layer checkpointing", 2904),
            ("Llama 2 13B", "llama-2-13b", 2, 4096, "no activation checkpointing", 2162),
            ("Llama 2 70B", "llama-2-70b", 2, 4096, "full activation checkpointing", 353),
        )
    ),
    # torchtitan on 8 and 128 H100s (one and 16 nodes), FSDP2, Llama 3.1 8B: Grand Teton hosts,
    # whose H100s have 96 GB of HBM2e at 2.4 TB/s and ran at a 500 W power limit, timed as the
    # catalog's 80 GB SXM (700 W, 3.35 TB/s); 400 Gb/s per GPU between hosts, as the catalog's.
    *(
        ThroughputRow(
            TORCHTITAN_H100,
            f"Llama 3.1 8B full training, {gpus}x H100 (96 GB HBM2e, 500 W), FSDP2, local batch 2 x "
            f"8,192 tokens, selective activation checkpointing{compiled}: {per_gpu:,} tokens/s per GPU",
            "llama-3.1-8b",
            "full-ft",
            "full",
            "h100-80gb",
            gpus * per_gpu,
            {
                "batch_size": 2,
                "seq_len": 8192,
                "stack": "liger" if compiled else "hf",
                "gradient_checkpointing": False,
                "sharding": "zero3",
                "fsdp": True,
            },
            8192,
            packing=True,
            gpus=gpus,
            fused_optimizer=False,
            public=True,
            note="selective layer checkpointing recomputes few matmuls: estimated without; a 500 W "
            "H100 with slower memory, timed as the 700 W SXM",
        )
        for gpus, compiled, per_gpu in (
            (8, "", 5762),
            (8, ", torch.compile", 6667),
            (128, "", 5605),
            (128, ", torch.compile", 6514),
        )
    ),
    ThroughputRow(
        NEMO_AUTOMODEL,
        "Llama-3.3-70B-Instruct LoRA r16 on every *_proj, 8x H100, FSDP2 4 x tensor parallel 2, "
        "TE + Triton LoRA, torch.compile, activation checkpointing, 4,096-token sequences, local "
        "batch 2, global batch 32, torch.optim.Adam: 1,091.85 tokens/s per GPU",
        "llama-3.3-70b",
        "lora",
        "lora",
        "h100-80gb",
        8 * 1091.85,
        NEMO_LORA,
        4096,
        packing=True,
        gpus=8,
        fused_optimizer=False,
        note="tensor parallel 2 x FSDP 4 estimated as ZeRO-3 over 8",
    ),
    ThroughputRow(
        NEMO_AUTOMODEL,
        "Qwen3-30B-A3B full training, 8x H100, FSDP2 8 + expert parallel 8, TE, grouped-GEMM experts "
        "with DeepEP, activation checkpointing, 4,096-token sequences, local batch 4: 12,040 tokens/s "
        "per GPU",
        "qwen3-30b-a3b",
        "full-ft",
        "full",
        "h100-80gb",
        8 * 12_040,
        {"batch_size": 4, "seq_len": 4096, "stack": "liger", "sharding": "zero3", "fsdp": True},
        4096,
        packing=True,
        gpus=8,
        fused_optimizer=False,
        note="Transformer Engine's grouped GEMMs and DeepEP run the experts near the dense rate, "
        "faster than the grouped_mm 0.24 this model assumes for transformers 5: 0.39x",
        outside_band=True,
    ),
    # LoRA at micro-batch 1 on short rows, where the CPU sets the pace: on one GPU, and sharded with
    # Fabric's FSDP (every block wrapped and checkpointed, limit_all_gathers), whose per-layer hooks
    # the time model charges as DeepSpeed's (throughput.step ZERO3_HOOK_SECONDS). Alpaca's ~135
    # tokens per example (its instruction and answer, ~92 by the Tulu paper's count, plus LitGPT's
    # prompt template) is an assumption: launch-bound, the estimate barely moves with it.
    *(
        ThroughputRow(
            LITGPT_TABLES,
            f"Llama 2 {size} LoRA r8 on q,v, {gpus}x A100-SXM4-40GB"
            + (", Fabric FSDP, checkpointing every block" if gpus > 1 else ", no checkpointing")
            + f", bf16-true, micro-batch 1, Alpaca unpacked, torch.optim.AdamW: {minutes} min per 1,000 "
            "iterations",
            f"llama-2-{size.lower()}",
            "lora",
            "lora",
            "a100-40gb",
            round(1000 * gpus * ALPACA_TOKENS / (minutes * 60)),
            {
                "batch_size": 1,
                "seq_len": 1304,
                "lora_rank": 8,
                "lora_targets": "qv",
                "precision": "pure-bf16",
                "stack": "hf",
                "gradient_checkpointing": gpus > 1,
            }
            | ({"sharding": "zero3", "fsdp": True} if gpus > 1 else {}),
            ALPACA_TOKENS,
            packing=False,
            gpus=gpus,
            fused_optimizer=False,
            note=note,
        )
        for size, gpus, minutes, note in (
            (
                "7B",
                1,
                2.36,
                "one GPU at micro-batch 1: the CPU's launches and the GPU's work overlap less "
                "than the estimate's max() of the two assumes",
            ),
            ("7B", 2, 5.93, ""),
            ("13B", 4, 10.25, ""),
        )
    ),
    # A throughput review of the fifty-second round (2026-12-07).
    # Long packed rows attended whole (use_varlen_attn False), full fine-tuning, DeepSpeed (stage not
    # stated; ZeRO-3 and ZeRO-2 estimate within 1 %).
    *(
        ThroughputRow(
            XTUNER_SPEED,
            f"Llama-2-{size} full fine-tuning, {gpus}x A100-SXM4-80GB, DeepSpeed, packed {length:,}-token "
            "rows "
            f"attended whole, batch 1, flash-attn, checkpointing, eager HF modules: {tgs} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            "a100-80gb",
            round(gpus * tgs),
            {"batch_size": 1, "seq_len": length, "sharding": "zero3", "stack": "hf"},
            length,
            packing=True,
            gpus=gpus,
            note="long rows keep eager modules' share small: the stack's constant 0.45 is too low"
            if size == "7B"
            else "",
        )
        for size, model, gpus, length, tgs in (
            ("7B", "llama-2-7b", 8, 8192, 3028.3),
            ("7B", "llama-2-7b", 8, 32_768, 2234.2),
            ("70B", "llama-2-70b", 32, 8192, 216.8),
        )
    ),
    *(
        ThroughputRow(
            LF_WIKI_SPEED,
            f"LLaMA2-7B QLoRA 4-bit r8 all modules, one A100 40GB, batch 1, {length:,} tokens, {name}: "
            f"{tgs:,} TGS",
            "llama-2-7b",
            "qlora",
            "qlora",
            "a100-40gb",
            tgs,
            {"batch_size": 1, "seq_len": length, "lora_rank": 8, "stack": stack},
            length,
            packing=True,
            note="the table's 16k cells run faster than its 8k ones in both columns"
            if length == 16_384
            else "",
        )
        for name, stack, length, tgs in (
            ("FlashAttention-2", "hf", 1024, 2295),
            ("FlashAttention-2", "hf", 8192, 3128),
            ("FlashAttention-2", "hf", 16_384, 3542),
            ("FlashAttention-2", "hf", 32_768, 2216),
            ("Unsloth+FA2", "unsloth", 1024, 2556),
            ("Unsloth+FA2", "unsloth", 65_536, 1820),
            ("Unsloth+FA2", "unsloth", 100_000, 1202),
        )
    ),
    *(
        ThroughputRow(
            SWIFT_LONG.format(script, header),
            f"Qwen2.5-7B full fine-tuning, 4x {gpu_name}, DeepSpeed ZeRO-3, LongAlpaca-12k packed to 16,384, "
            f"micro-batch 1 x accumulation {acc}, Liger, {attn}, checkpointing: {seconds} s/it",
            "qwen2.5-7b",
            "full-ft",
            "full",
            gpu,
            round(4 * acc * 16_384 / seconds),
            {"batch_size": 1, "seq_len": 16_384, "sharding": "zero3", "stack": "liger"},
            16_384,
            packing=True,
            gpus=4,
            note="each row's documents taken as whole rows (the most attention they can cost; 4k documents "
            "read ~0.15 higher); the H20's 4 TB/s per 148 TFLOPS leaves its non-matmul work nearly free",
            outside_band=attn == "FlashAttention 3",  # 0.58
        )
        for script, header, gpu, gpu_name, acc, attn, seconds in (
            (
                "examples/train/packing/liger_kernel.sh",
                "Env: 4 * A100 ... Training Speed 10s/it",
                "a100-80gb",
                "A100",
                2,
                "FlashAttention 2",
                10.0,
            ),
            (
                "examples/train/flash_attention_3/transformers.sh",
                "test_env: 4 * H20 / fa2: 4 * 43GiB; 35.5s/it",
                "h20",
                "H20",
                4,
                "FlashAttention 2",
                35.5,
            ),
            (
                "examples/train/flash_attention_3/transformers.sh",
                "test_env: 4 * H20 / fa3: 4 * 43GiB; 32.4s/it",
                "h20",
                "H20",
                4,
                "FlashAttention 3",
                32.4,
            ),
        )
    ),
    # NeMo AutoModel LoRA r16 on every *_proj, TP2 x FSDP, TE + Triton LoRA, compile, checkpointing,
    # mock 4,096-token rows, local batch 2, torch.optim.Adam (as the existing 70B row).
    *(
        ThroughputRow(
            NEMO_AUTOMODEL_HEAD,
            f"{name} LoRA r16 on every *_proj, {gpus}x H100 ({gpus // 8} node{'s' if gpus > 8 else ''}), TP "
            "2 x FSDP "
            f"{gpus // 2}, TE + Triton LoRA, compile, checkpointing, 4,096 tokens, local batch 2: {tgs} "
            "tokens/s per GPU",
            model,
            "lora",
            "lora",
            "h100-80gb",
            round(gpus * tgs),
            NEMO_LORA,
            4096,
            packing=True,
            gpus=gpus,
            fused_optimizer=False,
            note="tensor parallel 2 x FSDP estimated as ZeRO-3 over all GPUs",
        )
        for name, model, gpus, tgs in (
            ("Qwen2.5 32B", "qwen2.5-32b", 8, 2250.31),
            ("Llama 3.3 70B", "llama-3.3-70b", 16, 984.85),
            ("Qwen2.5 32B", "qwen2.5-32b", 16, 2072.89),
        )
    ),
    ThroughputRow(
        NEMO_AUTOMODEL_HEAD,
        "Llama 3.1 70B full training, 64x H100 (8 nodes), FSDP 32 x context parallel 2, TE, compile, "
        "checkpointing, SDPA, 8,192-token rows, local batch 1, TE FusedAdam: 866.77 tokens/s per GPU",
        "llama-3.1-70b",
        "full-ft",
        "full",
        "h100-80gb",
        round(64 * 866.77),
        {"batch_size": 1, "seq_len": 8192, "stack": "liger", "sharding": "zero3", "fsdp": True},
        8192,
        packing=True,
        gpus=64,
        note="context parallel 2 estimated as whole rows per GPU (same tokens per GPU-second)",
    ),
    *(
        ThroughputRow(
            NEMO_AUTOMODEL_HEAD,
            f"{name} full training, {gpus}x H100, FSDP {gpus} + expert parallel {gpus}, TE grouped-GEMM "
            "experts, "
            f"DeepEP, {attn} attention (sinks), fake balanced gate, no checkpointing, 4,096 tokens, local "
            "batch 2: "
            f"{tgs:,} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            "h100-80gb",
            gpus * tgs,
            {"batch_size": 2, **MOE_PRETRAINING},
            4096,
            packing=True,
            gpus=gpus,
            fused_optimizer=False,
            note="TE grouped GEMMs + DeepEP run the experts near the dense rate; grouped_mm's rate is "
            f"assumed, {rate} for these experts (step.grouped_experts_slowdown); without --attention kernel "
            "gpt-oss is timed eager: 0.23",
            outside_band=outside,
        )
        # rate: step.grouped_experts_slowdown's for these experts; 120b's TE kernels run ~2x it
        for name, model, gpus, attn, tgs, rate, outside in (
            ("gpt-oss-20b", "gpt-oss-20b", 8, "flex", 13_058, 0.77, False),
            ("gpt-oss-120b", "gpt-oss-120b", 64, "TE", 7626, 0.45, True),
        )
    ),
    # Mixtral's experts, 2 of 8 per token, each given a quarter of the tokens: near the dense rate
    # even in transformers 4.48's loop (step.MEASURED_EXPERT_WORK).
    fms_speed("Mistral-7B full fine-tuning, bf16 weights", "mistral-7b", "full-ft", 3063, 4, 1),
    fms_speed("Mistral-7B LoRA, bf16 weights", "mistral-7b", "lora", 3324, 4, 1),
    fms_speed("Mistral-7B QLoRA NF4 (PEFT + bitsandbytes)", "mistral-7b", "qlora", 2904, 4, 1),
    fms_speed("Mixtral-8x7B LoRA, bf16 weights, FSDP1", "mixtral-8x7b", "lora", 1571, 2, 2),
    fms_speed("Mixtral-8x7B LoRA, bf16 weights, FSDP1", "mixtral-8x7b", "lora", 1834, 4, 2),
    fms_speed("Mixtral-8x7B QLoRA NF4 (PEFT + bitsandbytes)", "mixtral-8x7b", "qlora", 1528, 4, 1),
    fms_speed("Mixtral-8x7B QLoRA NF4 (PEFT + bitsandbytes)", "mixtral-8x7b", "qlora", 1690, 8, 1),
    fms_speed("Mixtral-8x7B FSDP-QLoRA NF4", "mixtral-8x7b", "qlora", 1580, 2, 2),
    fms_speed("Llama-2-70B FSDP-QLoRA NF4", "llama-2-70b", "qlora", 434, 2, 2),
    ThroughputRow(
        "modelscope/ms-swift@3602360a docs/source_en/BestPractices/Qwen3-Best-Practice.md (table added in "
        "0f31a5a9, 2025-06-19; megatron script beside it: packing, max_length 8192, global batch 16)",
        "Qwen3-30B-A3B-Base full fine-tuning with swift sft, 2 nodes x 8 A800 80GB, DeepSpeed ZeRO-3, packed "
        "8,192-token rows, 16 rows per step (as the Megatron run it is compared with): 91.2 s/it",
        "qwen3-30b-a3b",
        "full-ft",
        "full",
        "a100-80gb",
        round(16 * 8192 / 91.2),
        {"batch_size": 1, "seq_len": 8192, "sharding": "zero3", "stack": "hf"},
        8192,
        packing=True,
        gpus=16,
        note="before ms-swift set DeepSpeed's z3 leaf modules for MoE blocks (35663af6, 2025-10-10) every "
        "expert was its own ZeRO-3 module: 128 x 3 gathers and hooks per layer and pass, unprefetchable; "
        "transformers 4.5x looped the experts too (timed with the loop: 5.1x)",
        outside_band=True,
    ),
    *(
        ThroughputRow(
            TORCHTITAN_H200,
            f"Llama 3.1 8B full training, {nodes * 8}x H200 ({nodes} nodes, 400 Gb/s per GPU), FSDP2, "
            "torch.compile, "
            f"float8 linears + float8 all-gather, local batch 2 x 8,192, selective checkpointing: {tps:,} "
            "tokens/s per GPU",
            "llama-3.1-8b",
            "full-ft",
            "full",
            "h200",
            nodes * 8 * tps,
            {
                "batch_size": 2,
                "seq_len": 8192,
                "stack": "liger",
                "gradient_checkpointing": False,
                "sharding": "zero3",
                "fsdp": True,
            },
            8192,
            packing=True,
            gpus=nodes * 8,
            fused_optimizer=False,
            note="float8 matmuls are not modelled: timed in bf16",
        )
        for nodes, tps in ((4, 10_938), (8, 10_753))
    ),
    # The README's Q-LoRA cells, on its GPTQ Int4 checkpoints.
    *(
        qwen_lora(size, length, s, gptq=True)
        for size, length, s in (
            ("7B", 256, 3.0),
            ("7B", 2048, 7.0),
            ("7B", 8192, 22.3),
            ("14B", 256, 5.3),
            ("14B", 8192, 38.3),
            ("72B", 256, 27.4),
            ("72B", 2048, 59.5),
            ("72B", 8192, 179.8),
        )
    ),
    *(
        ThroughputRow(
            TORCHTUNE_FLAGS,
            f"full fine-tuning, Alpaca packed to 4,096 (padding not counted), {what}, torch.optim.AdamW",
            "llama-3.2-3b",
            "full-ft",
            "full",
            "a100-80gb",
            tps,
            {"batch_size": 2, "seq_len": 4096, "precision": "pure-bf16", **settings},
            4096,
            packing=True,
            fused_optimizer=False,
            note="packed documents timed as whole rows (block-causal masks cost less: 200-token documents "
            "read 0.95)",
        )
        for what, tps, settings in (
            ("+ packed, eager", 7075, {"stack": "hf", "gradient_checkpointing": False}),
            ("+ compile + chunked cross-entropy", 9174, {"stack": "liger", "gradient_checkpointing": False}),
            ("+ activation checkpointing", 7210, {"stack": "liger", "gradient_checkpointing": True}),
        )
    ),
    # A throughput review of the fifty-third round.
    *(
        ThroughputRow(
            XTUNER_SP,
            f"Llama-2-{size} full fine-tuning, {gpus}x A100-SXM4-80GB, DeepSpeed, Ulysses sequence "
            f"parallel {sp}, packed {length:,}-token rows attended whole, batch 1, flash-attn, "
            f"checkpointing, eager HF modules: {tgs} tokens/s per GPU",
            model,
            "full-ft",
            "full",
            "a100-80gb",
            round(gpus * tgs),
            {"batch_size": 1, "seq_len": length, "sharding": "zero3", "stack": "hf", "sequence_parallel": sp},
            length,
            packing=True,
            gpus=gpus,
            note="attention dominates: FlashAttention 2 runs long rows above the 0.5 share assumed"
            if length >= 131_072
            else "hidden 8,192: GEMMs large, element-wise work small; the hf 0.45 is too low",
            outside_band=(size == "70B" and length == 32_768),  # 0.59
            public=not (size == "70B" and length == 32_768),
        )
        for size, model, gpus, length, sp, tgs in (
            ("7B", "llama-2-7b", 8, 131_072, 8, 948.6),  # 0.76
            ("7B", "llama-2-7b", 8, 262_144, 8, 540.1),  # 0.78
            ("7B", "llama-2-7b", 32, 1_048_576, 16, 133.6),  # 0.88
            ("70B", "llama-2-70b", 32, 32_768, 4, 300.9),  # 0.59
            ("70B", "llama-2-70b", 32, 131_072, 8, 144.7),  # 0.76
        )
    ),
    *(
        ThroughputRow(
            MB_ARCHIVE,
            f"gpt-oss-120b pre-training, 64x {name} (8 nodes), Megatron-Core {par}, no FSDP, BF16, "
            f"MBS {batch}, GBS 1280, 4,096 tokens: {tps:,} tokens/s per GPU",
            "gpt-oss-120b",
            "full-ft",
            "full",
            gpu,
            64 * tps,
            {"batch_size": batch, **MOE_PRETRAINING},
            4096,
            packing=True,
            gpus=64,
            fused_optimizer=False,
            note="expert parallel keeps each GPU's experts resident and runs them as TE grouped GEMMs; "
            "timed as FSDP gathering every expert each micro-step at grouped_mm's rate, 0.45 for these "
            "experts",
            outside_band=True,
        )
        for gpu, name, batch, par, tps in (
            ("b200", "DGX-B200", 4, "TP1 PP1 EP8", 13_568),  # 0.49
            ("h100-80gb", "DGX-H100", 1, "TP1 PP4 EP8", 5_824),  # 0.29
        )
    ),
    *(
        ThroughputRow(
            AUTOMODEL_PRETRAIN,
            f"DeepSeek V3 671B pre-training, {gpus}x H100 ({gpus // 8} nodes), "
            f"PP4 x EP64 x FSDP{gpus // 4}, VP8, TE + DeepEP, MBS 1, local batch 8, 4,096 tokens, "
            f"fake balanced gate: {tps:,} tokens/s per GPU",
            "deepseek-v3",
            "full-ft",
            "full",
            "h100-80gb",
            gpus * tps,
            {"batch_size": 1, "seq_len": 4096, "stack": "liger", "sharding": "zero3", "fsdp": True},
            4096,
            packing=True,
            gpus=gpus,
            fused_optimizer=False,
            note="as the gpt-oss-120b Megatron rows: no expert parallelism or pipeline stages in the time "
            "model",
            outside_band=True,
        )
        for gpus, tps in ((256, 1002), (1024, 865))  # 0.29, 0.33
    ),
    ThroughputRow(
        "modelscope/ms-swift@3602360a examples/megatron/long_text.sh (its header: 'Env: 4 * A100 ... "
        "Training Speed "
        "23s/it')",
        "Qwen2.5-7B full SFT with megatron sft, 4x A100, TP4 + sequence parallel, ZhipuAI/LongWriter-6k "
        "packed to "
        "32,768, MBS 1, GBS 8, full recompute, flash attention: 23 s/it (8 rows)",
        "qwen2.5-7b",
        "full-ft",
        "full",
        "a100-80gb",
        round(8 * 32_768 / 23),
        {"batch_size": 1, "seq_len": 32_768, "stack": "liger", "sharding": "zero3", "fsdp": True},
        8192,
        packing=True,
        gpus=4,
        fused_optimizer=False,
        note="tensor parallel 4 timed as FSDP over 4; documents taken as ~8k tokens (0.99); as whole rows "
        "0.71",
    ),
    ThroughputRow(
        UNSLOTH_OUT.format("gpt-oss-(120B)_A100-Fine-tuning", "'587.3618 seconds used for training'"),
        "unsloth/gpt-oss-120b QLoRA r16 on q,k,v,o (11,943,936 trainable), one A100-SXM4-80GB, Unsloth "
        "2025.9.1, "
        "transformers 4.55.4, 30 steps of 4 examples of HuggingFaceH4/Multilingual-Thinking, max_seq_length "
        "4096, "
        "unpacked, adamw_8bit; ~1,250 tokens an example (docs/time.md's reading of that dataset)",
        "gpt-oss-120b",
        "qlora",
        "qlora",
        "a100-80gb",
        round(120 * 1250 / 587.36),
        {
            "batch_size": 4,
            "seq_len": 4096,
            "lora_rank": 16,
            "lora_targets": "attention",
            "optimizer": "adamw-8bit",
            "stack": "unsloth",
        },
        1250,
        packing=False,
        public=True,
        note="experts run one by one (transformers 4.55 in training), timed as Unsloth's loop: 0.85",
    ),
    ThroughputRow(
        HF_FSDP_BLOG,
        "Granite 7B full fine-tuning, FSDP FULL_SHARD on 4 A100, 10.4 s a step: 3,158.7 tokens/s a GPU",
        "llama-2-7b",
        "full-ft",
        "full",
        "a100-80gb",
        4 * 3158.7,
        GRANITE | {"sharding": "zero3", "fsdp": True},
        4096,
        packing=True,
        gpus=4,
        public=True,
        note="checkpointing inferred: 8 x 4,096 tokens of a 7B need it in 80 GB",
    ),
    ThroughputRow(
        HF_FSDP_BLOG,
        "the same on DeepSpeed ZeRO-3, 10.6 s a step: 3,094.5 tokens/s a GPU",
        "llama-2-7b",
        "full-ft",
        "full",
        "a100-80gb",
        4 * 3094.5,
        GRANITE | {"sharding": "zero3"},
        4096,
        packing=True,
        gpus=4,
        public=True,
    ),
    *(
        ThroughputRow(
            FMS_FSDP,
            f"{name}, {layout}, activation checkpointing {checkpointing}, batch {batch}: {per_gpu:,} "
            "tokens/s a GPU",
            model,
            "full-ft",
            "full",
            "a100-80gb",
            128 * per_gpu,
            FMS_FSDP_SETTINGS | {"batch_size": batch, "gradient_checkpointing": checkpointing},
            4096,
            packing=True,
            gpus=128,
            public=True,
            note="HSDP timed as FSDP over 128 GPUs; the network is not stated" if layout == "HSDP" else "",
        )
        for name, model, layout, checkpointing, batch, per_gpu in (
            ("Llama 2 7B", "llama-2-7b", "HSDP", False, 2, 3760),
            ("Llama 2 13B", "llama-2-13b", "HSDP", False, 1, 1700),
            ("Llama 2 70B", "llama-2-70b", "FSDP", True, 6, 380),
        )
    ),
)


# --- measured wall time of whole runs ----------------------------------------------------------------


@dataclass(frozen=True)
class WallTimeRow:
    """A whole run's measured wall time, with the `ft-atlas estimate` flags that reproduce it:
    `profile` holds profile flags (as batch keys), `options` estimate's own (EstimateOptions)."""

    source: str
    conditions: str  # as the source states them, and how its lengths were read
    profile: dict[str, Any]
    options: dict[str, Any]
    measured_seconds: float
    public: bool = False  # the public set the tests hold within the time band
    note: str = ""
    outside_band: bool = False  # a known disagreement, explained in its note and docs/time.md


UNSLOTH_GRPO = (
    "unslothai/notebooks@bdda2efc nb/{}.ipynb (its saved train_runtime; completion lengths are the "
    "mean of the logged completion_length column)"
)


# Unsloth's GRPO notebooks: one GPU, QLoRA or 16-bit LoRA, vLLM sampling (fast_inference=True),
# Unsloth's kernels, one prompt's group of completions per micro-step. A step of accumulated
# micro-steps samples each micro-step's group apart (TRL before 0.18 generated per micro-step);
# --examples counts the prompts sampled for (steps x accumulation), and --tokens-per-example is
# the mean completion over the completion's 3/4 share of an example (throughput.workload).
def unsloth_grpo(
    notebook: str,
    conditions: str,
    run: tuple[str, str, int],
    method: str,
    optimizer: str,
    sampled: tuple[int, int, int, int],
    measured_seconds: float,
    *,
    vllm: bool = True,
    precision: str | None = None,
    **kwargs: Any,
) -> WallTimeRow:
    """A GRPO notebook's row: `run` is (model, GPU, LoRA rank), `sampled` is (prompts, completions
    per prompt, tokens per example, --seq-len); `vllm` False for a notebook that samples with
    transformers' generate (no fast_inference: Unsloth's gpt-oss GRPO)."""
    model, gpu, rank = run
    prompts, generations, tokens, seq_len = sampled
    profile = {"stack": "unsloth", "vllm": vllm, "epochs": 1, "model": model, "gpu": gpu}
    profile |= {"examples": prompts, "tokens_per_example": tokens, "seq_len": seq_len}
    profile |= {"num_generations": generations, "generation_batch": generations}
    options = {"objective": "grpo", "method": method, "lora_rank": rank, "optimizer": optimizer}
    options |= {"precision": precision} if precision else {}
    source = UNSLOTH_GRPO.format(notebook)
    return WallTimeRow(source, conditions, profile, options, measured_seconds, **kwargs)


UNSLOTH_ALPACA = "unslothai/notebooks@bdda2efc nb/{}.ipynb, its output ('{} seconds used for training')"
# alpaca-cleaned's rows with Unsloth's Alpaca prompt: ~230 tokens (42 MB over 51,760 rows), an estimate.
ALPACA_TOKENS = 230


def unsloth_alpaca(
    notebook: str, model: str, name: str, seconds: float, tokens: int = ALPACA_TOKENS
) -> WallTimeRow:
    """An Unsloth Alpaca notebook's 60 steps: QLoRA r16 on the 7 projections, a Tesla T4 in fp16,
    alpaca-cleaned unpacked at up to 2,048 tokens, micro-batch 2 x 4 accumulation, 8-bit AdamW."""
    return WallTimeRow(
        UNSLOTH_ALPACA.format(notebook, seconds),
        f"{name} QLoRA r16 on the 7 projections, Tesla T4, fp16, alpaca-cleaned unpacked at up to 2,048 "
        f"tokens, 60 steps of 2 x 4, adamw_8bit: {seconds} s",
        {"stack": "unsloth", "model": model, "gpu": "t4", "examples": 480, "epochs": 1}
        | {"tokens_per_example": tokens, "seq_len": 2048, "batch_size": 2},
        {"method": "qlora", "lora_rank": 16, "optimizer": "adamw-8bit"},
        seconds,
        public=True,
        note=f"~{tokens} tokens an example, estimated from the dataset's size",
    )


OPENRLHF_PPO = (
    "OpenRLHF/OpenRLHF@0baf3dd4 benchmark/README.md (8 A800-SXM-80GB; prompts of 1,024 and answers of "
    "1,024 tokens; 1,024 rollouts)"
)
OPENRLHF_PROFILE = {"stack": "trl", "gpus": 8, "model": "llama-2-7b", "gpu": "a100-80gb", "examples": 1024}
OPENRLHF_PROFILE |= {"epochs": 1, "tokens_per_example": 1536, "seq_len": 1536, "batch_size": 8}


WALL_TIME_ROWS: tuple[WallTimeRow, ...] = (
    unsloth_grpo(
        "Qwen2.5_(3B)-GRPO",
        "Qwen2.5-3B-Instruct QLoRA r64, T4, Unsloth 2025.2.4, 250 steps of 1 prompt x 8 completions, "
        "prompt <= 256, completion <= 200 (mean 183.4), 8-bit AdamW",
        (QWEN25_3B_CONFIG, "t4", 64),
        "qlora",
        "adamw-8bit",
        (250, 8, 245, 400),
        6053.8,
        public=True,
    ),
    unsloth_grpo(
        "Phi_4_(14B)-GRPO",
        "Phi-4 QLoRA r16, T4, Unsloth 2025.2.4, 100 steps of 1 prompt x 6 completions, prompt <= 256, "
        "completion <= 200 (mean 195.5), paged 8-bit AdamW",
        ("phi-4", "t4", 16),
        "qlora",
        "paged-adamw-8bit",
        (100, 6, 261, 400),
        9628.3,
        public=True,
    ),
    unsloth_grpo(
        "Llama3.1_(8B)-GRPO",
        "Llama-3.1-8B QLoRA r32, T4, Unsloth 2025.3.8, 250 steps of 1 prompt x 6 completions, prompt "
        "<= 256, completion <= 768 (mean 174.2), paged 8-bit AdamW",
        ("llama-3.1-8b", "t4", 32),
        "qlora",
        "paged-adamw-8bit",
        (250, 6, 232, 1280),
        13743.2,
        public=True,
    ),
    unsloth_grpo(
        "Mistral_v0.3_(7B)-GRPO",
        "Mistral-7B v0.3 QLoRA r32, RTX 4090, Unsloth 2025.4.8, 250 steps of 1 prompt x 6 completions, "
        "prompt <= 256, completion <= 768 (mean 189.3), paged 8-bit AdamW",
        ("mistral-7b", "rtx-4090", 32),
        "qlora",
        "paged-adamw-8bit",
        (250, 6, 252, 1280),
        2568.8,
        public=True,
    ),
    unsloth_grpo(
        "Advanced_Llama3_2_(3B)_GRPO_LoRA",
        "Llama-3.2-3B 16-bit LoRA r64, T4, Unsloth 2025.5.4, 500 steps of 4 micro-steps of 1 prompt x 4 "
        "completions, prompt <= 288, completion <= 1,760 (mean 201.6), 8-bit AdamW",
        ("llama-3.2-3b", "t4", 64),
        "lora",
        "adamw-8bit",
        (2000, 4, 269, 2272),
        25114.7,
        public=True,
    ),
    unsloth_grpo(
        "Advanced_Llama3_1_(3B)_GRPO_LoRA",
        "Llama-3.2-3B 16-bit LoRA r64, A100-SXM4-40GB, Unsloth 2025.3.17, 294 steps of 4 micro-steps of "
        "1 prompt x 8 completions in 1:30:03 (its saved progress bar), prompt <= 288, completion <= "
        "1,760 (mean 203.1), fused AdamW",
        ("llama-3.2-3b", "a100-40gb", 64),
        "lora",
        "adamw",
        (1176, 8, 271, 2272),
        5403.0,
        note="a 3B model decodes a token in ~5 ms on an A100, where vLLM's own per-step CPU work, "
        "which the estimate does not count, is a large share",
        outside_band=True,
    ),
    unsloth_grpo(
        "DeepSeek_R1_0528_Qwen3_(8B)_GRPO",
        "DeepSeek-R1-0528-Qwen3-8B QLoRA r32, T4, Unsloth 2025.5.9, 100 steps of 1 prompt x 4 "
        "completions, completion mean 156.8 within a 1,024-token sequence, 8-bit AdamW",
        ("qwen3-8b", "t4", 32),
        "qlora",
        "adamw-8bit",
        (100, 4, 209, 1280),
        5481.1,
        public=True,
    ),
    unsloth_grpo(
        "Qwen3_(4B)-GRPO",
        "Qwen3-4B 16-bit LoRA r32, T4, Unsloth 2025.5.7, 100 steps of 1 prompt x 4 completions, "
        "completion <= ~1,846 (mean 1,671), 8-bit AdamW",
        ("qwen3-4b", "t4", 32),
        "lora",
        "adamw-8bit",
        (100, 4, 2228, 2358),
        10607.7,
        public=True,
    ),
    # A throughput review of the fifty-second round (2026-12-07).
    unsloth_grpo(
        "gpt_oss_(20B)_GRPO_BF16",
        "gpt-oss-20b 16-bit LoRA r4 on q,k,v,o,gate,up,down, A100-SXM4-80GB ('Max memory: 79.318 GB'), "
        "Unsloth 2025.10.4, transformers 4.56.2 generate (no vLLM), 100 steps of 1 prompt x 2 completions, "
        "prompt <= 50, completion <= 718 (mean 636.4, mean longest 701.4), 8-bit AdamW",
        ("gpt-oss-20b", "a100-80gb", 4),
        "lora",
        "adamw-8bit",
        (100, 2, 849, 1214),
        5865.3,
        vllm=False,
        note="--seq-len 1214 so that the completion budget (seq_len - min(512, seq_len / 2)) holds the "
        "longest completions",
    ),
    unsloth_grpo(
        "gpt-oss-(20B)-GRPO",
        "gpt-oss-20b 4-bit LoRA r4, Tesla T4, Unsloth 2025.11.3 in float32 ('Using float16 precision for "
        "gpt_oss won't work! Using float32'), transformers generate, 100 steps of 1 prompt x 2 completions, "
        "completion mean 631.2 (mean longest 688.2), 8-bit AdamW",
        ("gpt-oss-20b", "t4", 4),
        "qlora",
        "adamw-8bit",
        (100, 2, 842, 1201),
        46507.5,
        vllm=False,
        precision="fp32",
        note="generate runs in float32 here, and dequantises its 4-bit experts one by one for every "
        "token, which is not counted: the experts are read as transformers 5's 16-bit ones",
        outside_band=True,
    ),
    # A throughput review of the fifty-third round.
    unsloth_grpo(
        "Llama_FP8_GRPO",
        "Llama-3.2-1B-Instruct LoRA r32 on an FP8 (block) base, vLLM 0.11.2 serving the FP8 checkpoint with "
        "the "
        "adapter unmerged (PunicaWrapperGPU), one NVIDIA L4, Unsloth 2025.11.3, 100 steps of 1 prompt x 4 "
        "completions, prompt <= 202, completion <= 1,846 (mean 1,647.9, mean longest 1,841.6), 8-bit AdamW",
        ("llama-3.2-1b", "l4", 32),
        "lora",
        "adamw-8bit",
        (100, 4, 2197, 2358),
        3177.0,
        note="FP8 decode reads half the bytes timed (would read 0.54); vLLM's per-step work with an unmerged "
        "adapter, not timed, offsets it: 0.80",
    ),
    unsloth_grpo(
        "Qwen3_8B_FP8_GRPO",
        "Qwen3-8B LoRA r32 on an FP8 base, vLLM 0.10.2 serving unsloth/Qwen3-8B-FP8 (8.96 GiB of weights, "
        "its log) "
        "with the adapter unmerged, one NVIDIA L4, Unsloth 2025.11.3, 100 steps of 1 prompt x 4 "
        "completions, prompt "
        "<= 202, completion <= 1,846 (mean 1,813.6, mean longest 1,837.2), 8-bit AdamW",
        ("qwen3-8b", "l4", 32),
        "lora",
        "adamw-8bit",
        (100, 4, 2358, 2358),
        10017.9,
        note="decode timed reading 16-bit weights: the FP8 checkpoint reads half (0.96 with it)",
        outside_band=True,  # 1.53
    ),
    WallTimeRow(
        UNSLOTH_OUT.format(
            "Zephyr_(7B)-DPO", "TrainOutput train_runtime 4017.5003, global_step 114, epoch 2.94"
        ),
        "unsloth/zephyr-sft-bnb-4bit (Mistral 7B) DPO, QLoRA r64, one Tesla T4 (fp16), Unsloth 2024.1, "
        "batch 2 "
        "pairs x accumulation 4, 3 epochs over 0.5 % of HuggingFaceH4/ultrafeedback_binarized train_prefs "
        "(306 "
        "pairs), max_length 1024, max_prompt_length 512, adamw_8bit; ~490 tokens a sequence (UF_TOKENS)",
        {
            "stack": "unsloth",
            "model": "mistral-7b",
            "gpu": "t4",
            "examples": 306,
            "epochs": 2.94,
            "tokens_per_example": UF_TOKENS,
            "seq_len": 1024,
            "batch_size": 2,
        },
        {"objective": "dpo", "method": "qlora", "lora_rank": 64, "optimizer": "adamw-8bit"},
        4017.5,
        public=True,
    ),
    WallTimeRow(
        UNSLOTH_OUT.format("Llama3_(8B)-ORPO", "TrainOutput train_runtime 665.6376, global_step 30"),
        "unsloth/llama-3-8b-bnb-4bit ORPO, LoRA r16 all linear, one Tesla T4 (fp16), Unsloth 2024.4, batch "
        "2 pairs "
        "x accumulation 4, 30 steps (240 pairs of reciperesearch/dolphin-sft-v0.1-preference), max_length "
        "4096, "
        "adamw_8bit; ~350 tokens a sequence ASSUMED (34.1 MB download / 16,000 rows of prompt, chosen, "
        "rejected)",
        {
            "stack": "unsloth",
            "model": "llama-3-8b",
            "gpu": "t4",
            "examples": 240,
            "epochs": 1,
            "tokens_per_example": 350,
            "seq_len": 4096,
            "batch_size": 2,
        },
        {"objective": "orpo", "method": "qlora", "lora_rank": 16, "optimizer": "adamw-8bit"},
        665.6,
        note="the length is a guess: 250 tokens read 0.69, 500 read 1.33",
    ),
    WallTimeRow(
        PHIL.format("dpo-align-llms-in-2024-with-trl.ipynb", "'took ~01:30:00 on 1x H100 GPU'"),
        "dolphin-2.1-mistral-7b DPO, QLoRA (NF4, double quant) r256 all-linear, dropout 0.05, one H100, TRL "
        "DPOTrainer (reference = adapter disabled), flash_attention_2, batch 12 pairs, 1 epoch over 11,000 "
        "pairs of "
        "argilla/ultrafeedback-binarized-preferences-cleaned, max_length 1512, checkpointing, "
        "adamw_torch_fused; "
        "one evaluation of 2,750 pairs (eval_steps 700) inside the time; ~490 tokens a sequence (UF_TOKENS)",
        {
            "stack": "trl",
            "model": "mistral-7b",
            "gpu": "h100-80gb",
            "examples": 11_000,
            "epochs": 1,
            "tokens_per_example": UF_TOKENS,
            "seq_len": 1512,
            "batch_size": 12,
        },
        {"objective": "dpo", "method": "qlora", "lora_rank": 256, "lora_dropout": 0.05, "optimizer": "adamw"},
        5400.0,
        note="the evaluation (~10 % of the time, forward passes only) is not timed: ~0.84 without it",
    ),
    unsloth_grpo(
        "Gemma3_(1B)-GRPO",
        "gemma-3-1b-it 16-bit LoRA r8, Tesla T4 in float32 ('Using float16 precision for gemma3 won't work! "
        "Using "
        "float32'), Unsloth 2025.3.17, no fast_inference (transformers generate), saved at 14 of 50 steps "
        "in 13:12, "
        "1 prompt x 4 completions, prompt <= 256, completion <= 768 (mean 503.8 over the 12 logged steps), "
        "adamw_torch_fused",
        ("gemma-3-1b-it", "t4", 8),
        "lora",
        "adamw",
        (14, 4, 672, 1280),
        792.0,
        vllm=False,
        precision="fp32",
        note="decode is CPU-bound: Gemma 3's layer runs six RMSNorms where a Llama layer runs two, "
        "counted (0.58x before)",
        public=False,  # saved mid-run, at 14 of 50 steps: +-1 step
    ),
    WallTimeRow(
        PHIL.format("fine-tune-llms-in-2024-with-trl.ipynb", "'took 02:05:58 on a g6.2xlarge'"),
        "Meta-Llama-3.1-8B QLoRA (NF4, double quant) r256 all-linear, dropout 0.05, one NVIDIA L4 "
        "(g6.2xlarge), TRL "
        "SFTTrainer packing=True to 2,048, flash_attention_2, batch 1 x accumulation 8, checkpointing, "
        "adamw_torch_fused, 3 epochs over 10,000 b-mc2/sql-create-context conversations; ~115 tokens an "
        "example "
        "(its saved test split: 1,187,015 JSON bytes / 2,500 rows, ~360 characters of text + ChatML)",
        {
            "stack": "trl",
            "model": "llama-3.1-8b",
            "gpu": "l4",
            "examples": 10_000,
            "epochs": 3,
            "tokens_per_example": 115,
            "seq_len": 2048,
            "batch_size": 1,
            "packing": True,
        },
        {"method": "qlora", "lora_rank": 256, "lora_dropout": 0.05, "optimizer": "adamw"},
        7558.0,
        public=True,
    ),
    *(
        unsloth_alpaca(*row)
        for row in (
            ("Llama3.1_(8B)-Alpaca", "llama-3.1-8b", "Llama-3.1-8B, Unsloth 2024.8,", 462.7198),
            ("Qwen2.5_(7B)-Alpaca", "qwen2.5-7b", "Qwen2.5-7B, Unsloth 2024.9,", 462.3942),
            ("Mistral_v0.3_(7B)-Alpaca", "mistral-7b", "Mistral-7B v0.3, Unsloth 2024.5,", 540.6501, 265),
            ("Gemma2_(9B)-Alpaca", "gemma-2-9b", "Gemma-2-9B, Unsloth 2024.7,", 702.5893, 220),
            (
                "Mistral_Nemo_(12B)-Alpaca",
                "mistral-nemo-12b",
                "Mistral-Nemo-Base-2407, Unsloth 2024.7,",
                712.8801,
            ),
            ("Qwen3_(14B)-Alpaca", "qwen3-14b", "Qwen3-14B-Base, Unsloth 2025.4.4,", 822.5598),
        )
    ),
    WallTimeRow(
        UNSLOTH_ALPACA.format("Gemma2_(2B)-Alpaca", 278.0636),
        "Gemma-2-2B, Unsloth 2024.8, QLoRA r16 on the 7 projections, Tesla T4, fp16, alpaca-cleaned "
        "unpacked, 60 steps of 2 x 4, adamw_8bit: 278.0636 s",
        {"stack": "unsloth", "model": "gemma-2-2b", "gpu": "t4", "examples": 480, "epochs": 1}
        | {"tokens_per_example": 220, "seq_len": 2048, "batch_size": 2},
        {"method": "qlora", "lora_rank": 16, "optimizer": "adamw-8bit"},
        278.0636,
        note="Unsloth compiles Gemma 2's soft-capped attention in the first steps, which is not timed: 0.58",
        outside_band=True,
    ),
    *(
        WallTimeRow(
            OPENRLHF_PPO,
            f"Llama-2-7B PPO (4 models of 7B), 8 A800, {trainer}, ZeRO-3, HF generate, micro-batch 8, one "
            f"PPO epoch: {total:,} s (generation {generation:,}, training {training:,})",
            OPENRLHF_PROFILE,
            {"objective": "rlhf-ppo", "method": "full-ft", "sharding": "zero3"},
            total,
            note="the total within 2 %, the split not: generation is timed 0.26-0.35x (DeepSpeed's "
            "generate gathers every ZeRO-3 weight for each decoded token), training 2-3.7x (TRL's 4 PPO "
            "epochs, where these ran one)",
        )
        for trainer, total, generation, training in (
            ("OpenRLHF (no Ray, no vLLM)", 1177.78, 920.81, 256.97),
            ("DeepSpeed-Chat (Hybrid Engine off)", 1189.13, 697.12, 492.01),
        )
    ),
)
