"""GPU memory estimator: pure functions, one per component, each naming its formula and source.

All sizes are bytes inside this module and GB (10^9 bytes) at its surface. The model is
documented for users in docs/memory.md; the sources are:

* ZeRO (Rajbhandari et al., arXiv 1910.02054): mixed-precision Adam keeps 2 + 2 + 12 = 16 bytes
  per trainable parameter (16-bit weights and gradients, fp32 master copy, momentum, variance).
* EleutherAI, "Transformer Math 101": 8-bit optimizers, SGD, inference ~1.2x weights.
* QLoRA (Dettmers et al., arXiv 2305.14314): NF4 with double quantization costs
  4 + 0.127 bits per parameter; embeddings and the LM head stay in 16 bit.
* LoRA (Hu et al., arXiv 2106.09685): r * (d_in + d_out) parameters per adapted matrix.
* Korthikanti et al., arXiv 2205.05198: per-layer activation bytes, and 2*s*b*h per layer kept
  under full recomputation (gradient checkpointing).
"""

from __future__ import annotations

from atlas_cli.core.estimates import Breakdown, Estimate, EstimateSettings
from atlas_cli.core.shapes import Shape
from atlas_cli.kb.vocabulary import MEMORY_MODELS, OPTIMIZERS, PRECISIONS

GB = 1e9
GIB = 2**30

# --- constants, each with its source ------------------------------------------------------

NF4_DOUBLE_QUANT_BITS = 4 + 8 / 64 + 32 / (64 * 256)  # QLoRA §2: 0.127 bits of constants
INT8_BITS = 8 + 32 / 4096  # LLM.int8: one fp32 scale per row (~4096 columns) — negligible
CUDA_CONTEXT_BYTES = 0.5 * GB  # CUDA context, cuBLAS workspace; ~0.3–0.8 GB in practice
ALLOCATOR_SLACK = 0.05  # PyTorch caching-allocator fragmentation on top of live tensors
INFERENCE_SLACK = 0.20  # EleutherAI: inference total ~= 1.2 x weights
LOGIT_BYTES = 2 + 4 + 4  # bf16 logits, their fp32 upcast in the loss, fp32 log-softmax kept
# Online RL (TRL GRPO/RLOO) keeps logits only for completion tokens (`logits_to_keep`) and turns
# them into per-token log-probabilities row by row (`selective_log_softmax`): no fp32 copy of
# the whole block, so 16-bit logits plus their 16-bit gradient.
ROLLOUT_LOGIT_BYTES = 2 + 2
COMPLETION_SHARE = 0.5  # half of each sequence is completion (TRL's max_completion_length: 512)
VIRTUAL_TOKENS = 20  # prompt / prefix / p-tuning length (PEFT examples use 20)
ADAPTER_REDUCTION = 16  # AdapterHub's default bottleneck: hidden / 16
# Partial FT trains the top quarter of the blocks: Lee et al. (arXiv 1911.03090) keep ~90 % of
# full fine-tuning quality that way. A share rather than a layer count keeps memory smooth in size.
PARTIAL_TRAINABLE_SHARE = 0.25
GALORE_RANK = 128  # transformers' GaLore default rank
GRPO_GENERATIONS = 8  # TRL GRPOConfig num_generations default
RLOO_GENERATIONS = 2  # TRL RLOOConfig num_generations default
LARGE_MODEL_PARAMS = 1e9  # gradient checkpointing is on by default from this size

# Objectives that run two sequences per example (chosen + rejected, or example + KL example).
PAIRED_OBJECTIVES = frozenset({"dpo", "orpo", "simpo", "kto", "reward-model"})
# Objectives that need a frozen reference policy (TRL's DPOTrainer, KTOTrainer, PPO, and
# RLOOTrainer, whose default beta = 0.05 loads one; GRPO's default beta = 0 does not).
REFERENCE_OBJECTIVES = frozenset({"dpo", "kto", "rlhf-ppo", "rloo"})
# Online objectives that sample completions: completions per prompt (PPO: one).
GENERATING_OBJECTIVES = {"rlhf-ppo": 1, "grpo": GRPO_GENERATIONS, "rloo": RLOO_GENERATIONS}


# --- trainable parameters per method -------------------------------------------------------


def lora_params(shape: Shape, rank: int) -> float:
    """LoRA (Hu et al.): r * (d_in + d_out) per adapted matrix, all linear layers."""
    return float(rank * sum((m.d_in + m.d_out) * m.count for m in shape.targets()))


def dora_magnitude_params(shape: Shape) -> float:
    """DoRA (Liu et al., arXiv 2402.09353) adds one magnitude per output row of each matrix."""
    return float(sum(m.d_out * m.count for m in shape.targets()))


def ia3_params(shape: Shape) -> float:
    """IA3 (Liu et al., arXiv 2205.05638): rescaling vectors for keys, values and the FFN input."""
    return float((2 * shape.kv_dim + shape.mlp_width) * shape.layers)


def adapter_params(shape: Shape) -> float:
    """Houlsby adapters: two bottlenecks per block, each 2*h*m + h + m with m = h / 16."""
    m = shape.hidden // ADAPTER_REDUCTION
    return float(2 * (2 * shape.hidden * m + shape.hidden + m) * shape.layers)


def trainable_params(model: str, shape: Shape, rank: int) -> float:
    h = shape.hidden
    counts: dict[str, float] = {
        "full": shape.params,
        "galore": shape.params,
        "partial": shape.linear_params * PARTIAL_TRAINABLE_SHARE,
        "bitfit": shape.bias_params,
        "adapters": adapter_params(shape),
        "prompt": float(VIRTUAL_TOKENS * h),
        # PEFT PrefixTuningConfig: a key and a value prefix per layer.
        "prefix": float(VIRTUAL_TOKENS * 2 * shape.kv_dim * shape.layers),
        # PEFT PromptEncoderConfig MLP: h -> h -> h -> h plus the virtual-token embedding.
        "p-tuning": float(3 * h * h + VIRTUAL_TOKENS * h),
        "lora": lora_params(shape, rank),
        "qlora": lora_params(shape, rank),
        "dora": lora_params(shape, rank) + dora_magnitude_params(shape),
        "adalora": lora_params(shape, rank) + float(rank * sum(m.count for m in shape.targets())),
        "ia3": ia3_params(shape),
        "inference": 0.0,
    }
    return counts[model]


# --- bytes per parameter -------------------------------------------------------------------


def weight_bytes(precision: str) -> float:
    return PRECISIONS[precision].weight_bytes


def optimizer_bytes(optimizer: str, precision: str) -> float:
    """Optimizer state per trainable parameter, including the fp32 master copy under AMP.

    ZeRO: AdamW = fp32 master 4 + momentum 4 + variance 4 = 12 with mixed precision.
    EleutherAI: 8-bit Adam = 4 (master) + 1 + 1; SGD with momentum = 4 (master) + 4.
    fp32 training needs no master copy; pure bf16 keeps the states in bf16 (LLaMA-Factory).
    """
    info, mode = OPTIMIZERS[optimizer], PRECISIONS[precision]
    states = info.state_bytes
    if not mode.master_copy and mode.weight_bytes == 2.0 and info.full_precision_states:
        states /= 2  # pure bf16: 16-bit optimizer states
    return states + (4.0 if mode.master_copy else 0.0)


def frozen_bytes(model: str, quant_bits: int, precision: str) -> float:
    """Load precision of frozen base weights: 16-bit, or NF4/int8 for QLoRA (QLoRA §2)."""
    if model == "qlora":
        bits = NF4_DOUBLE_QUANT_BITS if quant_bits == 4 else INT8_BITS
        return bits / 8
    return weight_bytes(precision)


# --- activations -----------------------------------------------------------------------------


def block_activation_bytes(shape: Shape, tokens: int, precision: str) -> float:
    """Activations one block keeps for backward, after Korthikanti et al. (arXiv 2205.05198).

    Counted per token in 16-bit (2 bytes per element): the inputs of both norms 4h, their
    outputs (the inputs of the QKV and MLP projections) 4h, Q and the attention output
    4*q_dim, K and V 4*kv_dim, and the MLP's hidden tensors (gated: gate, activation, up,
    product = 8f; plain: input of the activation and of the down projection = 4f). A GPT-style
    shape (q_dim = kv_dim = h, f = 4h) gives 32*h: the paper's 34*h less its two dropout masks
    (LLMs fine-tune without dropout). Memory-efficient (SDPA / flash) attention is assumed, so
    the paper's 5*a*s^2 attention-matrix term is absent.
    """
    mlp = (8 if shape.gated_mlp else 4) * shape.mlp_width
    per_token = 8 * shape.hidden + 4 * shape.q_dim + 4 * shape.kv_dim + mlp
    return tokens * per_token * (weight_bytes(precision) / 2)


def activation_bytes(shape: Shape, tokens: int, blocks: float, checkpointing: bool, precision: str) -> float:
    """Activations of `blocks` blocks: all kept, or (checkpointing) 2*s*b*h each plus one block."""
    if blocks == 0:
        return 0.0
    full_block = block_activation_bytes(shape, tokens, precision)
    if not checkpointing:
        return blocks * full_block
    return blocks * 2 * tokens * shape.hidden * (weight_bytes(precision) / 2) + full_block


def logit_bytes(shape: Shape, tokens: float, per_logit: float = LOGIT_BYTES) -> float:
    """Language-model logits over the vocabulary: 16-bit, fp32 upcast, fp32 log-softmax."""
    return 0.0 if shape.architecture == "encoder" else float(tokens * shape.vocab * per_logit)


def kv_cache_bytes(shape: Shape, tokens: int) -> float:
    """Keys and values for every layer in 16 bit: layers * cached width * tokens * 2 bytes."""
    return float(shape.layers * shape.kv_cache_width * tokens * 2)


# --- the estimate --------------------------------------------------------------------------


def default_seq_len(shape: Shape) -> int:
    """2048 tokens for LLMs; 512 for encoder models such as BERT (their position limit)."""
    return 512 if shape.architecture == "encoder" else 2048


def default_checkpointing(shape: Shape) -> bool:
    """On from 1B parameters, as LLaMA-Factory and most recipes do; off for small models."""
    return shape.params >= LARGE_MODEL_PARAMS


def _activation_blocks(model: str, shape: Shape) -> float:
    """Blocks whose activations backward needs: only the trained top blocks for partial FT."""
    return shape.layers * PARTIAL_TRAINABLE_SHARE if model == "partial" else shape.layers


def _galore_optimizer_bytes(shape: Shape, precision: str) -> float:
    """GaLore (Zhao et al., arXiv 2403.03507): per matrix a projector m*r and moments 2*r*n (fp32);
    the embeddings (GaLore projects only the blocks' linear layers) keep full Adam states."""
    r = GALORE_RANK
    projected = sum(
        4 * r * (min(m.d_in, m.d_out) + 2 * max(m.d_in, m.d_out)) * m.count for m in shape.targets()
    )
    return projected + shape.embedding_params * optimizer_bytes("adamw", precision)


def _sharded(value: float, gpus: int, shard: bool) -> float:
    return value / gpus if shard else value


def estimate(method_id: str, model: str, shape: Shape, settings: EstimateSettings) -> Estimate:
    """Peak GPU memory of one training (or inference) setup, per GPU and in total."""
    if model == "inference":
        return _inference_estimate(method_id, shape, settings)
    s = settings
    tokens = s.seq_len * s.batch_size
    trainable = trainable_params(model, shape, s.lora_rank)
    if model in ("full", "galore"):
        frozen = 0.0
    elif MEMORY_MODELS[model].subset:
        frozen = max(shape.params - trainable, 0.0)  # the trained weights are not a second copy
    else:
        frozen = shape.params
    w = weight_bytes(s.precision)
    weights = frozen * frozen_bytes(model, s.quant_bits, s.precision) + trainable * w
    if model == "qlora":
        # Embeddings and the LM head are not quantized (QLoRA §2).
        weights += shape.embedding_params * (2.0 - frozen_bytes(model, s.quant_bits, s.precision))
    gradients = trainable * w
    if model == "galore":
        optimizer = _galore_optimizer_bytes(shape, s.precision)
    else:
        optimizer = trainable * optimizer_bytes(s.optimizer, s.precision)

    # Sequences in one forward/backward pass: chosen + rejected for paired objectives; for
    # GRPO/RLOO the group of completions of each prompt (batch_size counts prompts).
    copies = 2 if s.objective in PAIRED_OBJECTIVES else 1
    if s.objective in ("grpo", "rloo"):
        copies = GENERATING_OBJECTIVES[s.objective]
    sequences = tokens * copies
    if s.objective in ("grpo", "rloo"):
        logits = logit_bytes(shape, sequences * COMPLETION_SHARE, ROLLOUT_LOGIT_BYTES)
    elif s.objective == "reward-model":
        logits = 0.0  # a scalar head, not a vocabulary: no language-model logits
    else:
        logits = logit_bytes(shape, sequences)
    activations = (
        activation_bytes(
            shape, sequences, _activation_blocks(model, shape), s.gradient_checkpointing, s.precision
        )
        + logits
    )

    needs_reference = s.objective in REFERENCE_OBJECTIVES and not MEMORY_MODELS[model].frozen_base
    if needs_reference:
        weights += shape.params * w
    if s.objective == "rlhf-ppo":
        # A reward model of the policy's size (frozen) and a trained value model.
        weights += shape.params * frozen_bytes(model, s.quant_bits, s.precision)
        weights += trainable * w
        gradients *= 2
        optimizer *= 2
    if s.objective in GENERATING_OBJECTIVES:
        # Rollouts: the KV cache of every sampled sequence (prompt + completion <= seq_len). It is
        # freed when generation ends, before the training pass: the peak is the larger of the two.
        activations = max(activations, kv_cache_bytes(shape, tokens * GENERATING_OBJECTIVES[s.objective]))

    shard = s.gpus > 1 and model != "qlora"
    parts = {
        "weights": _sharded(weights, s.gpus, shard),
        "gradients": _sharded(gradients, s.gpus, shard),
        "optimizer": _sharded(optimizer, s.gpus, shard),
        "activations": activations,
    }
    return _finish(
        method_id,
        model,
        shape,
        s,
        parts,
        ALLOCATOR_SLACK,
        trainable,
        unsharded=(weights + gradients + optimizer + activations),
    )


def _inference_estimate(method_id: str, shape: Shape, s: EstimateSettings) -> Estimate:
    """Serving the model for RAG / ICL: 16-bit weights, KV cache for the context, ~20 % extra."""
    tokens = s.seq_len * s.batch_size
    weights = shape.params * weight_bytes(s.precision)
    cache = kv_cache_bytes(shape, tokens) + block_activation_bytes(shape, tokens, s.precision)
    shard = s.gpus > 1
    parts = {
        "weights": _sharded(weights, s.gpus, shard),
        "gradients": 0.0,
        "optimizer": 0.0,
        "activations": cache,
    }
    return _finish(method_id, "inference", shape, s, parts, INFERENCE_SLACK, 0.0, weights + cache)


def _finish(
    method_id: str,
    model: str,
    shape: Shape,
    s: EstimateSettings,
    parts: dict[str, float],
    slack: float,
    trainable: float,
    unsharded: float,
) -> Estimate:
    live = sum(parts.values())
    overhead = CUDA_CONTEXT_BYTES + slack * live
    per_gpu = live + overhead
    total = unsharded * (1 + slack) + CUDA_CONTEXT_BYTES
    breakdown: Breakdown = {
        "weights_gb": _gb(parts["weights"]),
        "gradients_gb": _gb(parts["gradients"]),
        "optimizer_gb": _gb(parts["optimizer"]),
        "activations_gb": _gb(parts["activations"]),
        "overhead_gb": _gb(overhead),
    }
    capacity = s.capacity_gb
    # Compare the figure we report, so that `fits == (per_gpu_gb <= capacity_gb)` in the output.
    fits = None if capacity is None else _gb(per_gpu) <= capacity
    return Estimate(
        method=method_id,
        memory_model=model,
        objective=s.objective if model != "inference" else None,
        model_params_b=round(shape.params / 1e9, 3),
        trainable_params_b=round(trainable / 1e9, 6),
        total_gb=_gb(total),
        per_gpu_gb=_gb(per_gpu),
        breakdown=breakdown,
        settings=s,
        capacity_gb=capacity,
        fits=fits,
    )


def _gb(value: float) -> float:
    return round(value / GB, 2)


def gib_to_gb(gib: float) -> float:
    """Vendors' GPU "GB" are binary: 24 GiB = 25.77 GB (10^9 bytes)."""
    return round(gib * GIB / GB, 2)
