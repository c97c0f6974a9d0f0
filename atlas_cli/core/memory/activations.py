"""Activations kept for the backward pass, the language-model logits, and the KV cache.

Per layer and token (bf16, 2 bytes per element), as transformers' Llama-style layers keep them
with memory-efficient attention (SDPA / FlashAttention: no s x s matrix):
* each RMSNorm upcasts its input to fp32 and keeps it (4h), and its normalised output is kept
  as the next projections' input (2h): 2 x 6h;
* attention keeps q, k, v and its output (4q + 4kv) and o_proj's input (2q);
* the gated MLP keeps the gate output, its activation, the up output and their product (8f; f is
  the width a token passes through: the active experts' in a mixture-of-experts layer, which
  also keeps the tokens dispatched to each of its top-k experts, 4h per expert); an encoder's
  plain GELU MLP (BERT) keeps the up output and its activation (4f).
That is 12h + 6q + 4kv + 8f, Korthikanti et al.'s (arXiv 2205.05198) count adapted to these
layers. Liger's and Unsloth's kernels keep the norm input in bf16 and recompute the activation:
8h + 6q + 4kv + 6f. Gemma 2 and 3 also normalise the attention's and the MLP's outputs before
the residual sum (4h more each: an fp32 input, the output feeds no projection), and Qwen3's and
Gemma 3's q_norm and k_norm keep their fp32 inputs (4q + 4kv); Liger's and Unsloth's norms keep
them in bf16 (half). Full recomputation (gradient checkpointing) keeps each layer's input (2h)
and one layer's activations while it is recomputed.

Gemma 4 (modeling_gemma4 Gemma4TextAttention, Gemma4TextDecoderLayer) adds to Gemma 3's layers:
* full-attention layers of their own widths (heads of global_head_dim, num_global_key_value_heads
  of them): q and kv above are each kind's, averaged over the layers (the largest layer's while
  one is recomputed). Under attention_k_eq_v the values are k_proj's output, but v_norm normalises
  them apart from the keys (k_norm, RoPE), so attention still keeps distinct q, k, v;
* v_norm, an RMSNorm without weight on the values, keeps its fp32 input too (norm input x kv);
* an MoE layer runs the dense MLP beside the experts (f counts both) and four more RMSNorms
  (the MLP's output, the experts' input and output, the router's input: 4 norm inputs x h).

Qwen3.5 (modeling_qwen3_5 Qwen3_5Attention, Qwen3_5GatedDeltaNet) has two kinds of layer:
* its full-attention layers' q_proj emits queries and an output gate; attention's output is
  multiplied by sigmoid(gate): the sigmoid's output and the reshaped attention output it
  multiplies are kept (2q more);
* its Gated DeltaNet layers keep, in bytes per token, with K = key width (key heads x key head
  dim), V = value width, Hk key heads, Hv value heads (flash-linear-attention's
  ChunkGatedDeltaRuleFunction and causal-conv1d's causal_conv1d_fn, as transformers calls them):
  - the conv1d's input, in_proj_qkv's bf16 output: 2(2K + V);
  - what chunk_gated_delta_rule saves (ctx.save_for_backward: q, k l2-normalised and v, bf16:
    2(2K + V); q_rstd and k_rstd, fp32: 8Hk; g, fp32 as transformers computes it: 4Hv; beta,
    bf16: 2Hv; A, the chunk's 64-wide bf16 WY matrix per token and value head: 128Hv);
  - the decay g = -exp(A_log) softplus(a + dt_bias) in fp32: softplus's input and output (8Hv);
  - the gated RMSNorm (Qwen3_5RMSNormGated, plain torch): its fp32 input (4V), the bf16
    normalised values and their product with the weight (2V + 2V), the gate z in fp32 and its
    SiLU (4V + 4V), and out_proj's bf16 input (2V): 18V.
  That is 4(2K + V) + 18V + 8Hk + 142Hv bytes, in place of attention's share; the MLP and the
  block's norms are as in any layer.
Qwen3.5-MoE's layers are Qwen3.5's. Qwen3-Next's Gated DeltaNet (modeling_qwen3_next
Qwen3NextGatedDeltaNet) differs in two things, with Kv = value heads x key head dim:
  - it repeats the queries and keys to the value heads before calling chunk_gated_delta_rule,
    which then saves them at that width (2(2Kv + V)) with their rstd per value head (8Hv);
  - its gated norm is flash-linear-attention's FusedRMSNormGated when fla is installed (the
    recipes install it): LayerNormGatedFunction saves its bf16 input and gate and an fp32 rstd per
    row, a value head (2V + 2V + 4Hv), and out_proj keeps its bf16 input (2V): 6V + 4Hv.
  That is 2(2K + V) + 2(2Kv + V) + 6V + 154Hv bytes.
Qwen3-Next's and Qwen3.5-MoE's shared expert is scaled by sigmoid(shared_expert_gate(x)): the
product keeps the shared expert's output (h more per MoE layer); the sigmoid's one value is none.
"""

from __future__ import annotations

from atlas_cli.core.estimates import EstimateSettings
from atlas_cli.core.memory.states import weight_bytes
from atlas_cli.core.shapes import Shape

# transformers' ForCausalLMLoss upcasts the logits (`logits.float()`) and cross-entropy saves the
# fp32 log-softmax; backward adds two fp32 gradients of the logits: 4 + 4 + 4 = 12 bytes per token
# per vocabulary entry at the peak (10 during the forward: bf16 logits 2 + fp32 copy 4 + saved 4).
HF_LOGIT_BYTES = 12.0
# mlx-lm's default_loss takes nn.losses.cross_entropy of the model's bf16 logits (logsumexp minus
# the target's score, no upcast) inside its compiled step (mlx_lm/tuner/trainer.py, ml-explore/
# mlx-lm@d78bf58e): the logits (2), the log-sum-exp's gradient, their softmax (2), and the target
# scatter's zeros it is summed with (2) per entry, a count from the code (no run measured).
MLX_LOGIT_BYTES = 6.0
# GRPO/RLOO keep only the completion's logits (`logits_to_keep`) and take per-row bf16
# log-softmaxes (TRL's selective_log_softmax): 2 saved + 2-4 for the gradient.
ROLLOUT_LOGIT_BYTES = 6.0
# TRL's trainers without its fused LM head (ORPO, CPO/SimPO: training.fused_logits false) take the
# model's bf16 logits (2), a contiguous copy and the cross-entropy's log-softmax over the chosen
# half (1 + 1 per entry averaged) and every row's bf16 log-softmax (selective_log_softmax: 2), and
# the backward their bf16 gradient (2): ~8 bytes per entry.
UNFUSED_TRL_LOGIT_BYTES = 8.0
# TRL 1.x trainers project through the LM head in tiles of 4,096 tokens x up to 32,768 entries in
# the compute dtype (trl/kernels/chunked_logprob.py): the logits never exist in full. The function
# saves the hidden states of the scored tokens (`hidden_states[mask]`, a 16-bit copy) and its
# backward builds their gradient in fp32 and casts it (2 + 4 + 2 bytes per hidden value); a
# trained LM head gets its weight's gradient the same way (4 + 2 per weight).
FUSED_TILE_TOKENS, FUSED_TILE_VOCAB, FUSED_TILE_BYTES = 4096, 32_768, 2.0
FUSED_HIDDEN_BYTES, FUSED_HEAD_GRADIENT_BYTES, FUSED_FP32_GRADIENT_BYTES = 8.0, 6.0, 4.0
# Unsloth's chunked cross-entropy sizes each chunk's fp32 logits to min(4 GiB, half the free
# memory) (unsloth_zoo fused_losses); 1 GiB stands for that on a GPU that is nearly full.
UNSLOTH_CHUNK_BYTES = 2**30
UNSLOTH_TRANSIENT = 14 / 4  # bf16 logits, fp32 copy, log-softmax and gradient per fp32 byte
UNSLOTH_OFFLOAD_FROM = 512  # shorter sequences use plain checkpointing (unsloth _utils.py)
TRL_OFFLOAD_STASH = 5  # OffloadActivations' max_fwd_stash_size default (get_act_offloading_ctx_manager)
LEAN_KERNEL_STACKS = frozenset({"liger", "unsloth"})
# Eager attention (a family without an SDPA kernel, or --attention eager), per query-key pair and
# head, while a layer runs: its scores, the logits with gpt-oss's sink column appended and their
# max-shifted copy (transformers' gpt_oss eager_attention_forward); soft-capped scores (Gemma 2)
# hold two bf16 temporaries while they are formed. What the backward keeps: eager_kept_bytes.
EAGER_RUNNING_BYTES = {False: 6.0, True: 4.0}  # by attention soft-capping
FP32_BYTES = 4.0
DROPOUT_MASK_BYTES = 1.0  # a bool per element (torch's native_dropout)
# Soft-capped final logits (Gemma 2: logits / cap, tanh, x cap in bf16) keep tanh's output too.
SOFTCAPPED_LOGIT_BYTES = 2.0


def layer_bytes_per_token(
    shape: Shape, stack: str, precision_bytes: float = 2.0, largest: bool = False, tiled_mlp: bool = False
) -> float:
    """Activations one layer keeps for backward, per token: the average layer, or with `largest`
    the layer of the widest attention (layers of two widths: Gemma 4). `tiled_mlp`: Unsloth's
    TiledMLP saves only the MLP's input, already counted (its transients: tiled_mlp_bytes)."""
    h = shape.hidden
    norm_input = _norm_input(stack)
    elements: float = 4 * h if stack in LEAN_KERNEL_STACKS else 6 * h
    elements += 0 if tiled_mlp else _mlp_elements(shape, stack)
    elements += _attention_elements(shape, norm_input, largest)
    elements += (shape.norms_per_layer - 2) * norm_input * h
    return elements * precision_bytes


def _mlp_elements(shape: Shape, stack: str) -> float:
    """The MLP's (or mixture of experts') share of layer_bytes_per_token: its intermediates, and a
    mixture's routed copies of each token, shared expert's gate and router norms' inputs."""
    # A gated MLP keeps the gate and up outputs, the activated gate and the product (the lean
    # kernels recompute the activation); an encoder's plain GELU MLP (BERT: measured) keeps the up
    # output and the GELU's, the down projection's input. GPT-2's gelu_new is a Python expression
    # whose backward keeps about five (a diff review): the plain decoders keep the gated count.
    plain = shape.architecture == "encoder" and not shape.gated_mlp
    elements: float = (2 if plain else 3 if stack in LEAN_KERNEL_STACKS else 4) * shape.mlp_width
    if shape.is_moe:
        h, moe_share = shape.hidden, shape.moe_layers / shape.layers
        elements += 2 * h * shape.experts_active * moe_share
        elements += h * moe_share if shape.shared_gate else 0
        elements += shape.moe_norm_inputs * _norm_input(stack) * h * moe_share
    return elements


def _norm_input(stack: str) -> int:
    """Bytes per element of a norm's saved input, in units of 16 bits: bf16 under the fused
    kernels of LEAN_KERNEL_STACKS, fp32 otherwise."""
    return 1 if stack in LEAN_KERNEL_STACKS else 2


def tiled_mlp_bytes(shape: Shape, stack: str, tokens: float, precision_bytes: float = 2.0) -> float:
    """What one layer holds at a time under Unsloth's TiledMLP, beside what the layers saved: one
    tile of MLP intermediates (`hidden` tokens, its "arctic" tiling: unsloth_zoo tiled_mlp.patch_mlp
    chunk_size = H) and, the MLP no longer setting the layer's peak in the backward, attention's
    backward with the gradients of its output, q, k, v and input (2q + 2kv + h) and TiledMLP's
    gradient of its input (h, TiledMLP.backward's zeros_like(x))."""
    tile = min(tokens, shape.hidden) * _mlp_elements(shape, stack)
    gradients = (shape.hidden + _attention_gradient_elements(shape)) * tokens
    return (tile + gradients) * precision_bytes


def _attention_gradient_elements(shape: Shape) -> float:
    """Attention's backward transients per token (2q + 2kv + h) in its widest kind of layer, the
    one that sets the peak."""
    return float(max(2 * q + 2 * kv + shape.hidden for _, q, kv, _ in shape.attention_kinds))


def _attention_elements(shape: Shape, norm_input: int, largest: bool) -> float:
    """Attention's share of layer_bytes_per_token (3q + 2kv, and the q/k/v norms' inputs), for
    each kind of layer (Shape.attention_kinds, and Gated DeltaNet layers), averaged over the
    layers or the largest."""
    per_kind: list[tuple[int, float]] = []
    for count, q, kv, _ in shape.attention_kinds:
        elements = 3 * q + 2 * kv
        if shape.output_gate:
            elements += 2 * q
        if shape.qk_norm:
            elements += norm_input * (q + kv)
        if shape.v_norm:
            elements += norm_input * kv
        per_kind.append((count, elements))
    if shape.linear_layers:
        per_kind.append((shape.linear_layers, gated_delta_net_bytes_per_token(shape) / 2))
    if largest:
        return float(max(elements for _, elements in per_kind))
    return sum(count * elements for count, elements in per_kind) / max(1, shape.layers)


def gated_delta_net_bytes_per_token(shape: Shape) -> float:
    """What one Gated DeltaNet layer's token mixer keeps for the backward, per token, in bytes
    (the module docstring derives it): 4(2K + V) + 18V + 8Hk + 142Hv; Qwen3-Next's
    2(2K + V) + 2(2Kv + V) + 6V + 154Hv."""
    keys, values = shape.linear_key_width, shape.linear_value_width
    heads_k, heads_v = shape.linear_key_heads, shape.linear_value_heads
    kernel_heads = (4 + 2 + 2 * FLA_CHUNK + 8) * heads_v  # g, beta, A and softplus's input and output
    if shape.linear_fused:
        repeated = heads_v * shape.linear_key_head_dim
        kept = 2 * (2 * keys + values) + 2 * (2 * repeated + values) + 8 * heads_v
        return float(kept + 6 * values + 4 * heads_v + kernel_heads)
    return float(4 * (2 * keys + values) + 18 * values + 8 * heads_k + kernel_heads)


# flash-linear-attention's chunk size for the gated delta rule (chunk_local_cumsum(g, chunk_size=64),
# and transformers' torch fallback's chunk_size=64): A holds 64 values per token and value head.
FLA_CHUNK = 64
# A Gated DeltaNet layer's recurrent state per sequence, [value heads, key head dim, value head dim],
# in fp32 (the configs' mamba_ssm_dtype: float32; fla returns its final state in fp32), and its
# conv state, [conv channels, kernel] in bf16 (transformers' cache update_conv_state).
RECURRENT_STATE_BYTES = 4.0


def linear_state_bytes(shape: Shape) -> float:
    """One sequence's cache for all the Gated DeltaNet layers: a fixed size, whatever its length."""
    if not shape.linear_layers:
        return 0.0
    state = shape.linear_value_heads * shape.linear_key_head_dim * shape.linear_value_head_dim
    channels = 2 * shape.linear_key_width + shape.linear_value_width
    conv = channels * shape.linear_conv_kernel * 2.0
    return float(shape.linear_layers * (state * RECURRENT_STATE_BYTES + conv))


def activation_bytes(
    shape: Shape,
    tokens: float,
    layers: float,
    checkpointing: bool,
    stack: str,
    precision_bytes: float = 2.0,
    seq_len: int | None = None,
    offloaded: bool = False,
    tiled_mlp: bool = False,
) -> tuple[float, float]:
    """(bytes on the GPU, bytes offloaded to the host) for `layers` layers' activations;
    `seq_len` decides whether Unsloth offloads (default: `tokens`, one sequence); `offloaded`:
    TRL's activation offloading moves the checkpoints to the host; `tiled_mlp`: Unsloth's
    TiledMLP runs every MLP a tile at a time (unsloth_tiled_mlp=True)."""
    if layers == 0 or tokens == 0:
        return 0.0, 0.0
    running = tiled_mlp_bytes(shape, stack, tokens, precision_bytes) if tiled_mlp else 0.0
    one_layer = layer_bytes_per_token(shape, stack, precision_bytes, tiled_mlp=tiled_mlp) * tokens
    if not checkpointing:
        return layers * one_layer + running, 0.0
    widest = layer_bytes_per_token(shape, stack, precision_bytes, largest=True, tiled_mlp=tiled_mlp)
    one_layer = widest * tokens + running
    kept = shape.hidden * precision_bytes * tokens  # the layer's input
    if stack == "unsloth" and (tokens if seq_len is None else seq_len) >= UNSLOTH_OFFLOAD_FROM:
        # Checkpoints go to pinned CPU memory; the GPU keeps two staging buffers.
        return 2 * kept + one_layer, layers * kept
    if offloaded:
        # Pinned CPU memory too; up to max_fwd_stash_size of them stay on the GPU while their
        # copies run (trl/models/activation_offloading.py OffloadActivations).
        return min(layers, TRL_OFFLOAD_STASH) * kept + one_layer, layers * kept
    return layers * kept + one_layer, 0.0


# The stacks whose trainers load a model with transformers' default attention, eager for a family
# without SDPA: LLaMA-Factory's and axolotl's (`hf`, and `liger`, which only they run). TRL's stack
# is the Python recipes', which load such a family with flex attention (FlashAttention 3 for
# gpt-oss on Hopper: recipes/settings.py); Unsloth runs its own flex attention.
EAGER_STACKS = frozenset({"hf", "liger"})
# Except soft-capped attention (Gemma 2): Unsloth runs it as plain matmuls with an fp32 softmax
# (kernels/flex_attention.py slow_attention_softcapping; its flex path is switched off) unless
# flash-attn >= 2.6.3 is installed (models/_utils.py HAS_FLASH_ATTENTION_SOFTCAPPING), which
# `pip install unsloth` does not bring; its Gemma 2 post calls the memory quadratic in length.
EAGER_SOFTCAPPING_STACKS = frozenset({"unsloth"})
# That function is compiled whole (torch.compile fullgraph): the fused kernel writes the bf16
# probabilities straight from the bf16 scores, and the partitioner keeps those two for the
# backward, recomputing the tanh and the mask. Kept and running bytes per query-key pair, as
# EAGER_BYTES; Unsloth's Gemma 2 blog (2024-07) measured 9.7K tokens for Gemma-2-27B QLoRA on
# 40 GB and 11K for Gemma-2-9B on 24 GB (benchmarks/published.py).
COMPILED_SOFTCAPPING_BYTES = (4.0, 2.0)


def _compiled_softcapping(shape: Shape, settings: EstimateSettings) -> bool:
    return shape.attention_softcapping and settings.stack in EAGER_SOFTCAPPING_STACKS


def eager_attention_counted(shape: Shape, settings: EstimateSettings) -> bool:
    """Whether training holds s x s attention matrices: a family without an SDPA kernel, run
    without another memory-efficient kernel (EstimateSettings.attention_kernel) or on a stack
    that runs its attention without one anyway."""
    if not shape.eager_heads:
        return False
    return _compiled_softcapping(shape, settings) or not settings.attention_kernel


def eager_attention_bytes(
    shape: Shape,
    seq_len: float,
    sequences: float,
    layers: float,
    checkpointing: bool,
    settings: EstimateSettings,
    training: bool = True,
) -> float:
    """The s x s attention matrices of a family without a memory-efficient kernel: every layer's
    probabilities without checkpointing, one layer's under it, plus the running layer's
    temporaries (eager_attention_counted says when); serving (not `training`) drops nothing."""
    if not eager_attention_counted(shape, settings):
        return 0.0
    one_layer = shape.eager_heads * seq_len**2 * sequences
    if _compiled_softcapping(shape, settings):
        kept, running = COMPILED_SOFTCAPPING_BYTES
    else:
        kept = eager_kept_bytes(shape, settings.precision, training)
        running = EAGER_RUNNING_BYTES[shape.attention_softcapping]
    return ((1 if checkpointing else min(layers, shape.softmax_layers)) * kept + running) * one_layer


def eager_kept_bytes(shape: Shape, precision: str, training: bool = True) -> float:
    """What eager attention keeps of each query-key pair and head for the backward: the softmax's
    output, in fp32 (eager_attention_forward's softmax(dtype=torch.float32), autocast's fp32
    softmax) except under gpt-oss's sinks (softmax in the scores' dtype); what the matmul with the
    values saves: the probabilities cast back to the compute dtype or, under attention dropout
    (BERT: 0.1), dropout's mask and output; and soft-capping's tanh output. Gemma 2 in bf16: 8;
    gpt-oss: 2; a Llama run eagerly: 6; BERT in fp32 with dropout: 9 (7 under fp16 AMP), which
    transformers' 2022 guide measured on a V100 (benchmarks/measured.py)."""
    width = weight_bytes(precision)
    softmax = width if shape.attention_sinks else FP32_BYTES
    if training and shape.attention_dropout:
        probabilities = DROPOUT_MASK_BYTES + width
    else:
        probabilities = 0.0 if softmax == width else width
    return (width if shape.attention_softcapping else 0.0) + softmax + probabilities


# transformers' SDPA integration gives a sliding-window layer a materialised boolean mask once the
# sequence reaches its window (masking_utils._ignore_causal_mask_sdpa never skips it when
# kv_length >= local_attention_size): (batch, 1, s, s), built once a forward and shared by those
# layers. PyTorch's SDPA turns it into an additive mask of the query's dtype in every call
# (convert_boolean_attn_mask), which its memory-efficient kernel saves for the backward. An
# expert's review measured Gemma 3 at 8,192 and 16,384 tokens 335 and 943 MB above full attention.
# The stacks that run transformers' SDPA; Unsloth and mlx-lm run attention of their own.
SDPA_MASK_STACKS = frozenset({"hf", "trl", "liger"})
MASK_BOOL_BYTES = 1.0


def sliding_mask_bytes(
    shape: Shape, seq_len: float, sequences: float, layers: float, settings: EstimateSettings
) -> float:
    """The sliding-window layers' s x s mask under SDPA (SDPA_MASK_STACKS): its bools, and the
    16-bit (fp32) copy each layer keeps, one layer's under checkpointing. None past Ulysses'
    split, which runs FlashAttention, for attention sinks, which no SDPA kernel applies, nor where
    eager attention's matrices are counted already."""
    if (
        not shape.sliding_layers
        or seq_len < shape.sliding_window
        or settings.stack not in SDPA_MASK_STACKS
        or settings.sequence_parallel > 1
        or shape.attention_sinks  # gpt-oss: no SDPA kernel applies its sinks
        or eager_attention_counted(shape, settings)
    ):
        return 0.0
    copies = 1 if settings.gradient_checkpointing else min(layers, shape.sliding_layers)
    return (MASK_BOOL_BYTES + copies * weight_bytes(settings.precision)) * seq_len**2 * sequences


def logit_bytes(
    shape: Shape,
    tokens: float,
    stack: str,
    rollout: bool = False,
    head_gradient: float = 0.0,
    fused: bool = True,
) -> float:
    """Memory for the language-model head's logits and loss at their peak; `fused`: whether the
    stack fuses this objective's loss with the LM head (estimate.fused_loss);
    `head_gradient`: bytes per LM-head weight its fused backward builds (0: the head is frozen)."""
    if shape.architecture == "encoder" or tokens == 0:
        return 0.0
    vocab, hidden = shape.vocab, shape.hidden
    gradient_of_hidden = 2.0 * hidden * tokens
    capped = SOFTCAPPED_LOGIT_BYTES if shape.logit_softcapping else 0.0
    if stack == "hf" or (stack == "liger" and not fused):
        return ((ROLLOUT_LOGIT_BYTES if rollout else HF_LOGIT_BYTES) + capped) * vocab * tokens
    if stack == "mlx":
        return (MLX_LOGIT_BYTES + capped) * vocab * tokens
    if stack == "trl" and not fused:
        return ((ROLLOUT_LOGIT_BYTES if rollout else UNFUSED_TRL_LOGIT_BYTES) + capped) * vocab * tokens
    if stack == "trl":
        tile = min(tokens, FUSED_TILE_TOKENS) * min(vocab, FUSED_TILE_VOCAB) * FUSED_TILE_BYTES
        return tile + FUSED_HIDDEN_BYTES * hidden * tokens + head_gradient * vocab * hidden
    if stack == "liger":
        # LigerFusedLinearCrossEntropy: chunks about as large as the hidden states, gradient in place.
        return 2 * gradient_of_hidden
    chunk = min(vocab * tokens * 4.0, UNSLOTH_CHUNK_BYTES)
    return chunk * UNSLOTH_TRANSIENT + gradient_of_hidden


def kv_cache_bytes(shape: Shape, tokens: float, sequences: float = 1, width: float = 2.0) -> float:
    """Keys and values of every layer in `width` bytes (16 bit; fp32 where transformers' generate
    runs an fp32 model) for `sequences` sequences of `tokens` each, for generation. A
    sliding-window layer caches at most its window (transformers 5's DynamicSlidingWindowLayer,
    vLLM's sliding-window manager)."""
    window = min(tokens, shape.sliding_window) if shape.sliding_layers else tokens
    if shape.linear_layers:  # Qwen3.5: only the full-attention layers cache keys and values
        full = shape.softmax_layers * tokens * shape.kv_cache_width * width
        return float(sequences * (full + linear_state_bytes(shape)))
    if shape.global_layers:  # Gemma 4: the full-attention layers cache widths of their own
        sliding = shape.sliding_layers * window * shape.kv_cache_width
        full = shape.global_layers * tokens * shape.global_kv_cache_width
        others = (shape.layers - shape.sliding_layers - shape.global_layers) * tokens * shape.kv_cache_width
        return float(sequences * (sliding + full + others) * width)
    cached = (shape.layers - shape.sliding_layers) * tokens + shape.sliding_layers * window
    return float(sequences * cached * shape.kv_cache_width * width)


def prefill_bytes_per_token(shape: Shape) -> float:
    """What one layer holds at its peak while a prompt is prefilled without gradients, per token
    in 16 bit: the residual stream and its normalised copy (2h), and the larger of attention's
    projections (q, k, v and the output) and the MLP's temporaries (gated: the activated gate, the
    up projection and their product, 3f; else the up projection and its activation, 2f). Nothing
    is kept for a backward: each layer's temporaries are freed before the next runs, and
    generation computes the logits of the last position only (transformers' logits_to_keep)."""
    h, f = shape.hidden, shape.mlp_width
    mlp = (3 if shape.gated_mlp else 2) * f
    attention = max((3 if shape.output_gate else 2) * q + 2 * kv for _, q, kv, _ in shape.attention_kinds)
    if shape.linear_layers:  # in_proj_qkv's and in_proj_z's outputs, the conv's, the kernel's
        keys, values = shape.linear_key_width, shape.linear_value_width
        attention = max(attention, 2 * (2 * keys + values) + 2 * values)
    elements = float(2 * h + max(mlp, attention))
    if shape.is_moe:
        elements += 2 * h * shape.experts_active * shape.moe_layers / shape.layers  # routed copies
    return elements * 2.0
