"""A model's structure as the estimator needs it: every linear layer (with how many there are),
the embeddings, and the widths that activations and the KV cache follow.

Parameters are counted from the structure, so a catalog entry or a `config.json` yields its
total and active (mixture-of-experts) parameter counts the same way; tests/test_models.py checks
them against the published figures.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Literal, NamedTuple

from atlas_cli.errors import UsageError
from atlas_cli.i18n import N_, grouped, nt, t
from atlas_cli.kb.records import LlmModel
from atlas_cli.kb.vocabulary import PREQUANTIZED, STORED_QUANTIZED

# A vision-language model's tower, counted in memory (Shape.tower_params) and never trained.
VISION_TEXT_ONLY = N_(
    "its vision tower (~{params:.2g}B) is loaded and counted, not trained: ft-atlas sizes the language "
    "model, and its recipes train it, on text; image-text data are not modelled"
)

MatrixGroup = Literal["attention", "cross-attention", "mlp", "router", "shared-expert", "expert"]
# The groups PEFT's target_modules="all-linear" adapts: every nn.Linear but the output layer.
# In transformers 5 the routed experts are fused 3-D parameters, not nn.Linear modules, so
# adapting them takes PEFT's target_parameters (see docs/models.md); the routers hold an
# nn.Parameter too (Qwen3MoeTopKRouter, GptOssTopKRouter, DeepseekV3TopkRouter), so all-linear
# skips them. Llama 4's Llama4Router is an nn.Linear: its adapter (r x 5,136 per layer) is left out.
ALL_LINEAR: tuple[MatrixGroup, ...] = ("attention", "cross-attention", "mlp", "shared-expert")


QV_ROLES = frozenset({"q", "v", "qkv", "q_a", "q_b", "kv_a", "kv_b"})


@dataclass(frozen=True, slots=True)
class Matrices:
    """`count` linear layers of `d_in` x `d_out` in the whole model (all layers, all experts)."""

    group: MatrixGroup
    # q, k, v, o, gate, up, down, gate_up, router (q_a, q_b, kv_a, kv_b: latent attention; in_qkv,
    # in_z, in_b, in_a, out or in_qkvz, in_ba, out: Gated DeltaNet; shared_expert_gate)
    role: str
    d_in: int
    d_out: int
    count: int

    @property
    def params(self) -> float:
        return float(self.count * self.d_in * self.d_out)


@dataclass(frozen=True, slots=True)
class Shape:
    architecture: str  # decoder, encoder or encoder-decoder
    layers: int  # blocks a token passes through (encoder + decoder for encoder-decoder models)
    hidden: int
    vocab: int
    q_dim: int  # width of the queries (heads x head width)
    kv_dim: int  # width of the keys, and of the values
    kv_cache_width: int  # values cached per token per layer for generation
    mlp_width: int  # MLP width a token passes through, averaged over layers (active experts only)
    gated_mlp: bool
    tied_embeddings: bool
    matrices: tuple[Matrices, ...]
    embedding_params: float  # token embeddings, plus the LM head when it is not tied
    other_params: float  # norms, biases, learned positions, ...
    bias_params: float  # the biases alone (what BitFit trains)
    experts: int = 0
    experts_active: int = 0
    experts_every_token: bool = False  # every routed expert runs on every token (schema: every_token)
    tower_params: float = 0.0  # a vision tower and projector: loaded with the model, never trained
    eager_heads: int = 0  # query heads whose s x s attention matrix exists (eager attention)
    norms_per_layer: int = 2  # kb.schema.LlmModel's: 4 in Gemma 2 and 3
    qk_norm: bool = False  # kb.schema.LlmModel's: RMSNorms on queries and keys
    attention_softcapping: bool = False  # kb.schema.LlmModel's
    attention_sinks: bool = False  # kb.schema.LlmModel's: eager attention softmaxes in bf16
    attention_dropout: bool = False  # kb.schema.LlmModel's, above zero: eager training keeps its mask
    fp16_overflows: bool = False  # kb.schema.LlmModel's: trains in fp32 without bf16
    logit_softcapping: bool = False
    # Layers attending within a sliding window of `sliding_window` tokens: they cache at most that.
    sliding_window: int = 0
    sliding_layers: int = 0
    heads: int = 0  # query heads (0: unknown): Ulysses and vLLM's tensor parallelism split them
    kv_heads: int = 0  # key/value heads (0: unknown)
    # Stored in a quantization of its own (kb.vocabulary.PREQUANTIZED): it loads without ZeRO-3's
    # zero.Init, every process building its own 16-bit copy in CPU RAM.
    prequantized: bool = False
    # How a checkpoint stored quantized holds its weights (kb WeightsDtype: int4, int8, mxfp4,
    # fp8; "" for 16 bit): it is served so where transformers keeps them (gpt-oss's MXFP4
    # experts from Turing on, FP8 from Ada on), dequantized to bf16 elsewhere and for training.
    stored: str = ""
    # Gemma 4: its `global_layers` full-attention layers have query, key/value and cached widths of
    # their own (global_head_dim, num_global_key_value_heads); the other widths are the other layers'.
    global_layers: int = 0
    global_q_dim: int = 0
    global_kv_dim: int = 0
    global_kv_cache_width: int = 0
    global_kv_heads: int = 0
    v_norm: bool = False  # kb.schema.LlmModel's: an RMSNorm (no weight) on each head's values
    moe_norm_inputs: int = 0  # RMSNorm inputs an MoE layer keeps besides the block's (Gemma 4: 4)
    # Qwen3.5: `linear_layers` Gated DeltaNet layers (kb.schema.GatedDeltaNet) in place of attention;
    # q_dim, kv_dim and kv_cache_width are then the other, full-attention layers'.
    linear_layers: int = 0
    linear_key_heads: int = 0
    linear_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0
    # Qwen3-Next's Gated DeltaNet (kb.schema.GatedDeltaNet.fused_projections): fused input projections,
    # queries and keys repeated to the value heads before the kernel, fla's fused gated norm.
    linear_fused: bool = False
    # Qwen3-Next's and Qwen3.5-MoE's sigmoid gate on the shared expert's output (an nn.Linear of
    # hidden_size -> 1 per MoE layer): its product keeps the shared expert's output for the backward.
    shared_gate: bool = False
    output_gate: bool = False  # kb.schema.LlmModel's attention_output_gate
    # Sums over the matrices, computed once: the estimators read them in their inner loops.
    linear_params: float = field(init=False, repr=False, compare=False)
    expert_params: float = field(init=False, repr=False, compare=False)  # every routed expert
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "linear_params", sum(m.params for m in self.matrices))
        experts = sum(m.params for m in self.matrices if m.group == "expert")
        object.__setattr__(self, "expert_params", experts)
        # Shapes key the estimators' memos: hash the many fields once.
        object.__setattr__(
            self, "_hash", hash(tuple(getattr(self, f.name) for f in fields(self) if f.compare))
        )

    def __hash__(self) -> int:
        return self._hash

    def splits_heads(self, parts: int) -> bool:
        """Whether attention splits over `parts` GPUs by heads (DeepSpeed Ulysses, vLLM's tensor
        parallelism): whole query heads each, and key/value heads divided or replicated evenly."""
        if not self.heads or self.heads % parts:
            return False
        kv_heads = [k for k in (self.kv_heads, self.global_kv_heads) if k]
        if self.linear_layers and (self.linear_key_heads % parts or self.linear_value_heads % parts):
            return False  # vLLM splits the Gated DeltaNet heads over its GPUs as well
        return all(k % parts == 0 or parts % k == 0 for k in kv_heads)

    @property
    def linear_key_width(self) -> int:
        """A Gated DeltaNet layer's query (and key) width: key heads x key head dim (0: none)."""
        return self.linear_key_heads * self.linear_key_head_dim

    @property
    def linear_value_width(self) -> int:
        """A Gated DeltaNet layer's value width: value heads x value head dim (0: none)."""
        return self.linear_value_heads * self.linear_value_head_dim

    @property
    def softmax_layers(self) -> int:
        """Layers whose attention scores every earlier position (an s x s square when eager, a KV
        cache when generating): all but the linear-attention ones (Qwen3.5's Gated DeltaNet)."""
        return self.layers - self.linear_layers

    @property
    def attention_kinds(self) -> tuple[tuple[int, int, int, int], ...]:
        """(layers, query width, key/value width, cached width) of each kind of attention layer:
        one kind, or Gemma 4's other layers and its full-attention layers of their own widths.
        Linear-attention layers (Qwen3.5's Gated DeltaNet) are none of them."""
        others = (
            self.layers - self.global_layers - self.linear_layers,
            self.q_dim,
            self.kv_dim,
            self.kv_cache_width,
        )
        if not self.global_layers:
            return (others,)
        own = (self.global_layers, self.global_q_dim, self.global_kv_dim, self.global_kv_cache_width)
        return (others, own)

    @property
    def params(self) -> float:
        return self.embedding_params + self.linear_params + self.other_params

    def without_lm_head(self) -> Shape:
        """The model a sequence classifier loads (AutoModelForSequenceClassification): its untied
        LM head is not there (a tied one is the token embedding, which stays)."""
        if self.tied_embeddings or self.architecture != "decoder":
            return self
        return replace(self, embedding_params=self.vocab * self.hidden)

    @property
    def sixteen_bit_bytes(self) -> float:
        """The whole model in 16 bit: a bf16 checkpoint, or one dequantized for training."""
        return self.params * 2.0

    @property
    def active_params(self) -> float:
        """Parameters one token uses: all but the routed experts it is not sent to."""
        idle = self.expert_params * (1 - self.experts_active / self.experts) if self.experts else 0.0
        return self.params - idle

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def moe_layers(self) -> int:
        return sum(m.count for m in self.matrices if m.group == "router")

    @property
    def has_bias(self) -> bool:
        return self.bias_params > 0

    def targets(self, scope: str = "all-linear", experts: bool = False) -> tuple[Matrices, ...]:
        """The linear layers LoRA adapts (see LORA_TARGETS); with `experts`, the routed experts too."""
        if scope == "qv":
            return tuple(
                m for m in self.matrices if m.group in ("attention", "cross-attention") and m.role in QV_ROLES
            )
        groups: tuple[MatrixGroup, ...] = (
            ("attention", "cross-attention") if scope == "attention" else ALL_LINEAR
        )
        groups += ("expert",) if experts else ()
        return tuple(m for m in self.matrices if m.group in groups)


# --- from a catalog entry or a parsed config.json ---------------------------------------------


Linear = tuple[str, int, int]  # role, d_in, d_out


def _attention(model: LlmModel) -> list[Linear]:
    """One layer's attention projections."""
    h = model.hidden_size
    mla = model.latent_attention
    if mla is not None:
        heads = model.attention_heads
        qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim
        query: list[Linear] = [("q", h, heads * qk)]
        if mla.q_lora_rank:
            query = [("q_a", h, mla.q_lora_rank), ("q_b", mla.q_lora_rank, heads * qk)]
        keys_values: list[Linear] = [
            ("kv_a", h, mla.kv_lora_rank + mla.qk_rope_head_dim),
            ("kv_b", mla.kv_lora_rank, heads * (mla.qk_nope_head_dim + mla.v_head_dim)),
        ]
        return [*query, *keys_values, ("o", heads * mla.v_head_dim, h)]
    head_dim = model.head_dim or h // model.attention_heads
    q, kv = model.attention_heads * head_dim, model.kv_heads * head_dim
    if model.fused_projections:
        return [("qkv", h, q + 2 * kv), ("o", q, h)]
    # With an output gate q_proj emits each head's queries and gate side by side (Qwen3_5Attention:
    # num_attention_heads * head_dim * 2); o_proj still takes the query width.
    gated_q = 2 * q if model.attention_output_gate else q
    return [("q", h, gated_q), ("k", h, kv), ("v", h, kv), ("o", q, h)]


def _linear_attention(model: LlmModel) -> list[Linear]:
    """One Gated DeltaNet layer's nn.Linear projections (transformers modeling_qwen3_5
    Qwen3_5GatedDeltaNet.__init__): in_proj_qkv to 2 x key width + value width (the queries, keys
    and values, which then pass the depthwise conv1d), in_proj_z to the value width (the output
    gate of the gated RMSNorm), in_proj_b and in_proj_a to one value per value head (beta and the
    decay's input), and out_proj back to hidden_size. No biases. Qwen3-Next (modeling_qwen3_next
    Qwen3NextGatedDeltaNet) fuses the first two into in_proj_qkvz and the next two into in_proj_ba:
    the same parameters in two nn.Linear layers, which LoRA adapts as two."""
    gdn = model.linear_attention
    if gdn is None:
        return []
    h = model.hidden_size
    keys, values = gdn.key_heads * gdn.key_head_dim, gdn.value_heads * gdn.value_head_dim
    if gdn.fused_projections:
        return [
            ("in_qkvz", h, 2 * keys + 2 * values),
            ("in_ba", h, 2 * gdn.value_heads),
            ("out", values, h),
        ]
    return [
        ("in_qkv", h, 2 * keys + values),
        ("in_z", h, values),
        ("in_b", h, gdn.value_heads),
        ("in_a", h, gdn.value_heads),
        ("out", values, h),
    ]


def _linear_attention_others(model: LlmModel) -> int:
    """A Gated DeltaNet layer's parameters outside its nn.Linear layers: the depthwise conv1d over
    the q/k/v channels (conv_dim x kernel, bias=False), dt_bias and A_log (one per value head) and
    the gated RMSNorm's weight (value_head_dim), times the layers."""
    gdn = model.linear_attention
    if gdn is None:
        return 0
    conv_dim = 2 * gdn.key_heads * gdn.key_head_dim + gdn.value_heads * gdn.value_head_dim
    return gdn.layers * (conv_dim * gdn.conv_kernel + 2 * gdn.value_heads + gdn.value_head_dim)


def _linear_widths(model: LlmModel) -> dict[str, int]:
    """Shape's linear_* fields: the Gated DeltaNet layers' count and widths."""
    gdn = model.linear_attention
    if gdn is None:
        return {}
    return {
        "linear_layers": gdn.layers,
        "linear_key_heads": gdn.key_heads,
        "linear_value_heads": gdn.value_heads,
        "linear_key_head_dim": gdn.key_head_dim,
        "linear_value_head_dim": gdn.value_head_dim,
        "linear_conv_kernel": gdn.conv_kernel,
    }


def _global_attention(model: LlmModel) -> list[Linear]:
    """One full-attention layer's projections where they have widths of their own (Gemma 4's
    Gemma4TextAttention: heads of global_head_dim, num_global_key_value_heads of them, and no
    v_proj under attention_k_eq_v, whose values are k_proj's output)."""
    h = model.hidden_size
    head_dim = model.global_head_dim or model.head_dim or h // model.attention_heads
    q = model.attention_heads * head_dim
    kv = (model.global_kv_heads or model.kv_heads) * head_dim
    values: list[Linear] = [] if model.global_keys_are_values else [("v", h, kv)]
    return [("q", h, q), ("k", h, kv), *values, ("o", q, h)]


def _global_layers(model: LlmModel) -> int:
    """Full-attention layers of widths of their own (Gemma 4): those that do not slide."""
    own = model.global_head_dim or model.global_kv_heads or model.global_keys_are_values
    return model.layers - model.sliding_layers if own else 0


def _global_widths(model: LlmModel) -> dict[str, int]:
    """Shape's global_* fields: the full-attention layers' query, key/value and cached widths
    (keys and values are both cached: under attention_k_eq_v the values are normalised apart from
    the keys, v_norm against k_norm and RoPE, and the cache updates with both)."""
    count = _global_layers(model)
    if not count:
        return {}
    linears = {role: d_out for role, _, d_out in _global_attention(model)}
    kv_heads = model.global_kv_heads or model.kv_heads
    return {
        "global_layers": count,
        "global_q_dim": linears["q"],
        "global_kv_dim": linears["k"],
        "global_kv_cache_width": 2 * linears["k"],
        "global_kv_heads": kv_heads,
    }


def _mlp(d_model: int, width: int, gated: bool, fused: bool = False) -> list[Linear]:
    """Gate and up projections (one fused gate_up, or one input projection), then the down
    projection."""
    if gated and fused:
        return [("gate_up", d_model, 2 * width), ("down", width, d_model)]
    inputs: list[Linear] = [("gate", d_model, width)] if gated else []
    return [*inputs, ("up", d_model, width), ("down", width, d_model)]


def _experts(d_model: int, width: int, gated: bool) -> list[Linear]:
    """One routed expert as transformers 5 stores it: the gate and up projections fused into one
    3-D `gate_up_proj` parameter, so PEFT's target_parameters gives them one adapter
    (r x (d_in + d_out) per expert: peft ParamWrapper's lora_A and lora_B), then `down_proj`."""
    if not gated:
        return _mlp(d_model, width, gated)
    return [("gate_up", d_model, 2 * width), ("down", width, d_model)]


def _widths(model: LlmModel) -> tuple[int, int, int]:
    """(query width, key/value width, cached width per token per layer)."""
    mla = model.latent_attention
    if mla is not None:
        heads = model.attention_heads
        # Serving stacks (vLLM, SGLang) cache the compressed latent and the rotary key only.
        cached = mla.kv_lora_rank + mla.qk_rope_head_dim
        return heads * (mla.qk_nope_head_dim + mla.qk_rope_head_dim), heads * mla.v_head_dim, cached
    head_dim = model.head_dim or model.hidden_size // model.attention_heads
    kv = model.kv_heads * head_dim
    return model.attention_heads * head_dim, kv, 2 * kv


def _group(group: MatrixGroup, linears: list[Linear], count: int) -> list[Matrices]:
    return [Matrices(group, role, i, o, count) for role, i, o in linears if count]


def _bias_params(model: LlmModel, matrices: list[Matrices]) -> float:
    if not model.has_bias:
        return 0.0
    if model.bias_scope == "qkv":
        qkv = [m for m in matrices if m.group == "attention"][:3]
        return float(sum(m.d_out * m.count for m in qkv))
    # Every linear layer's bias, the routers' too (all-linear skips their weights, not their biases).
    scope: tuple[MatrixGroup, ...] = (
        ("attention",) if model.bias_scope == "attention" else (*ALL_LINEAR, "router")
    )
    if model.moe is not None and model.moe.expert_bias:
        scope = (*scope, "expert")
    return float(sum(m.d_out * m.count for m in matrices if m.group in scope))


def shape_of(model: LlmModel) -> Shape:
    h, moe = model.hidden_size, model.moe
    decoder_layers = model.decoder_layers or 0
    layers = model.layers + decoder_layers
    global_layers = _global_layers(model)
    linear_layers = model.linear_attention.layers if model.linear_attention else 0
    matrices = _group("attention", _attention(model), layers - global_layers - linear_layers)
    matrices += _group("attention", _linear_attention(model), linear_layers)
    matrices += _group("attention", _global_attention(model), global_layers)
    matrices += _group("cross-attention", _attention(model), decoder_layers)
    dense_layers = layers if moe is None or moe.beside_dense_mlp else moe.dense_layers
    mlp = _mlp(h, model.intermediate_size, model.gated_mlp, model.fused_projections)
    matrices += _group("mlp", mlp, dense_layers)
    mlp_width = model.intermediate_size * dense_layers
    experts = active = 0
    every_token = False
    q_dim, kv_dim, cached = _widths(model)
    if moe is not None:
        moe_layers = layers - moe.dense_layers
        shared = moe.shared_intermediate_size or moe.intermediate_size
        matrices += _group("router", [("router", h, moe.experts)], moe_layers)
        matrices += _group("shared-expert", _mlp(h, shared, model.gated_mlp), moe_layers * moe.shared_experts)
        # Qwen3-Next's and Qwen3.5-MoE's shared_expert_gate: an nn.Linear, which all-linear adapts.
        matrices += _group(
            "shared-expert", [("shared_expert_gate", h, 1)], moe_layers if moe.shared_expert_gate else 0
        )
        matrices += _group(
            "expert", _experts(h, moe.intermediate_size, model.gated_mlp), moe_layers * moe.experts
        )
        mlp_width += moe_layers * (moe.active * moe.intermediate_size + moe.shared_experts * shared)
        experts, active, every_token = moe.experts, moe.active, moe.every_token
    bias = _bias_params(model, matrices)
    # The blocks' norm weights (two, or four in Gemma 2 and 3; a head's width each for q_norm and
    # k_norm) and a final norm (RMSNorm).
    norms = model.norms_per_layer * h * layers + h
    attention_layers = layers - global_layers - linear_layers
    norms += 2 * (q_dim // max(1, model.attention_heads)) * attention_layers if model.qk_norm else 0
    norms += _linear_attention_others(model)
    norms += _global_norms(model, global_layers)
    if model.architecture != "decoder":
        norms *= 2  # LayerNorm has a bias too
    return Shape(
        architecture=model.architecture,
        layers=layers,
        hidden=h,
        vocab=model.vocab_size,
        q_dim=q_dim,
        kv_dim=kv_dim,
        kv_cache_width=cached,
        mlp_width=round(mlp_width / layers),
        gated_mlp=model.gated_mlp,
        tied_embeddings=model.tied_embeddings,
        norms_per_layer=model.norms_per_layer,
        qk_norm=model.qk_norm,
        matrices=tuple(matrices),
        embedding_params=float(model.vocab_size * h * (1 if model.tied_embeddings else 2)),
        other_params=float(norms + bias + model.extra_params),
        bias_params=bias,
        experts=experts,
        experts_active=active,
        experts_every_token=every_token,
        tower_params=(model.vision_params_b or 0.0) * 1e9,
        eager_heads=model.attention_heads if model.eager_attention else 0,
        attention_softcapping=model.attention_softcapping,
        attention_sinks=model.attention_sinks,
        attention_dropout=model.attention_dropout > 0,
        fp16_overflows=model.fp16_overflows,
        logit_softcapping=model.logit_softcapping,
        sliding_window=model.sliding_window or 0,
        sliding_layers=model.sliding_layers,
        heads=model.attention_heads,
        kv_heads=model.kv_heads,
        prequantized=model.weights_dtype in PREQUANTIZED,
        stored=model.weights_dtype if model.weights_dtype in STORED_QUANTIZED else "",
        v_norm=model.v_norm,
        moe_norm_inputs=GEMMA4_MOE_NORM_INPUTS if moe is not None and moe.beside_dense_mlp else 0,
        output_gate=model.attention_output_gate,
        linear_fused=model.linear_attention is not None and model.linear_attention.fused_projections,
        shared_gate=moe is not None and moe.shared_expert_gate,
        **_global_widths(model),
        **_linear_widths(model),
    )


# Gemma 4's MoE layer normalises the dense MLP's output (post_feedforward_layernorm_1), the
# experts' input and output (pre_ and post_feedforward_layernorm_2) and the router's input
# (Gemma4TextRouter.norm, without weight): four more RMSNorm inputs kept for the backward.
GEMMA4_MOE_NORM_INPUTS = 4


def _global_norms(model: LlmModel, global_layers: int) -> int:
    """Norm weights of Gemma 4's own: q_norm and k_norm of the full-attention layers' head width,
    and in each MoE layer beside a dense MLP three more RMSNorms of hidden_size, the router's scale
    (hidden_size) and its per-expert scale (Gemma4TextDecoderLayer, Gemma4TextRouter). v_norm and
    the router's norm have no weight; layer_scalar is a buffer."""
    count = 0
    if model.qk_norm and global_layers:
        head_dim = model.global_head_dim or model.head_dim or model.hidden_size // model.attention_heads
        count += 2 * head_dim * global_layers
    moe = model.moe
    if moe is not None and moe.beside_dense_mlp:
        count += (model.layers - moe.dense_layers) * (4 * model.hidden_size + moe.experts)
    return count


# --- a bare size: a modern dense shape ---------------------------------------------------------


class Anchor(NamedTuple):
    """A current open model a bare size is interpolated from (its config.json)."""

    params: float
    hidden: int
    intermediate: int  # the gated MLP's width
    head_dim: int


# SmolLM2 135M and 360M, Llama 3.2 1B and 3B, Llama 3.1 8B, 70B and 405B (docs/models.md). A bare
# size takes its hidden size and MLP width from the log-log line through its neighbours, and its
# heads' width from the nearer one: the MLP's share of a layer is not constant (3.2 3B's is 2.7 x
# hidden, 3.2 1B's 4 x, 3.1's 3.5 x), and a fixed 3.5 gave a 3B 20 layers where Llama 3.2 3B has 28.
BARE_SIZE_ANCHORS = (
    Anchor(0.135e9, 576, 1536, 64),
    Anchor(0.362e9, 960, 2560, 64),
    Anchor(1.24e9, 2048, 8192, 64),
    Anchor(3.21e9, 3072, 8192, 128),
    Anchor(8.03e9, 4096, 14336, 128),
    Anchor(70.6e9, 8192, 28672, 128),
    Anchor(405.9e9, 16384, 53248, 128),
)
BARE_SIZE_VOCAB = 128_256  # Llama 3's vocabulary; current open models use 128k-256k tokens
SMALL_MODEL_VOCAB = 49_152  # SmolLM2 135M-1.7B: below 1B a 128k vocabulary would be most of the model
SMALL_MODEL_PARAMS = 1e9
KV_HEADS = 8  # grouped-query attention, as across the Llama 3 family
TIED_BELOW = 4e9  # Llama 3.2 1B/3B and Qwen 3 up to 4B tie the LM head to the embeddings
WIDTH_STEP = 256  # real models round their widths (to multiples of 128 or 256)


def _neighbours(params: float) -> tuple[Anchor, Anchor]:
    """The anchors around `params`; past either end, the last two (extrapolated)."""
    for low, high in itertools.pairwise(BARE_SIZE_ANCHORS):
        if params <= high.params:
            return low, high
    return BARE_SIZE_ANCHORS[-2], BARE_SIZE_ANCHORS[-1]


def _log_line(params: float, low: Anchor, high: Anchor, width: Callable[[Anchor], int]) -> float:
    slope = math.log(width(high) / width(low)) / math.log(high.params / low.params)
    return width(low) * math.exp(slope * math.log(params / low.params))


def _rounded(value: float, step: int = WIDTH_STEP) -> int:
    return max(step, round(value / step) * step)


def _kv_heads(heads: int) -> int:
    """Grouped-query attention's key/value heads: the most, up to 8, that divide the heads evenly
    (SmolLM2-135M's 9 heads share 3, 360M's 15 share 5; the Llama 3 family's share 8)."""
    return max(d for d in range(1, KV_HEADS + 1) if heads % d == 0)


def _attention_params(hidden: int, head_dim: int) -> int:
    heads = hidden // head_dim
    return 2 * hidden * heads * head_dim + 2 * hidden * _kv_heads(heads) * head_dim


def bare_model(params: float) -> LlmModel:
    """A plausible current decoder of `params` parameters: a Llama-3-style shape (SmolLM2's below
    1B) whose hidden size and MLP width are interpolated between current open models and rounded
    as real models are (the hidden size to whole groups of heads: 4 of 128, or single heads of 64
    below 1,024), with up to 8 key/value heads, and a 128k vocabulary (SmolLM2's 49k below 1B);
    the layer count makes up the size."""
    low, high = _neighbours(params)
    nearer = low if math.log(params / low.params) < math.log(high.params / params) else high
    head_dim = nearer.head_dim
    raw = _log_line(params, low, high, lambda a: a.hidden)
    hidden = _rounded(raw, 4 * head_dim if raw >= 1024 else head_dim)
    intermediate = _rounded(_log_line(params, low, high, lambda a: a.intermediate))
    tied = params < TIED_BELOW
    vocab = SMALL_MODEL_VOCAB if params < SMALL_MODEL_PARAMS else BARE_SIZE_VOCAB
    embed_copies = 1 if tied else 2

    def least(width: int) -> int:  # a vocabulary and one layer
        return vocab * width * embed_copies + _attention_params(width, head_dim) + 3 * width * intermediate

    # A tiny size narrows to the widest hidden size one layer fits in, so that the smallest size
    # accepted is one threshold (rounding up to a second head refused 5M and accepted 4M).
    while hidden > head_dim and params < least(hidden):
        hidden -= head_dim
    if params < least(hidden):  # the shape would be many times the size asked for
        raise UsageError(
            t(
                "--model-size {size}: smaller than any decoder ft-atlas can assume (its vocabulary of "
                "{vocab} tokens and one layer make {least:.2f}M parameters; the smallest current ones, "
                "such as SmolLM2-135M, are larger); give the model's config.json with --model",
                size=f"{params / 1e6:g}M",
                vocab=grouped(vocab),
                least=least(hidden) / 1e6,
            )
        )
    heads = hidden // head_dim
    kv_heads = _kv_heads(heads)
    embeddings = vocab * hidden * embed_copies
    attention = _attention_params(hidden, head_dim)
    per_layer = attention + 3 * hidden * intermediate
    # The nearest whole layer, not the last one that fits (`8b` gets Llama 3.1 8B's 32, not 31): the
    # layer count sets the activations. Where it rounds up, the MLP narrows to keep the size the
    # user gave; what the rounded widths leave over is counted as weights.
    layers = round((params - embeddings) / per_layer)
    if embeddings + layers * per_layer > params:
        mlp_budget = (params - embeddings) / layers - attention
        narrowed = math.floor(mlp_budget / (3 * hidden) / WIDTH_STEP) * WIDTH_STEP
        if narrowed >= WIDTH_STEP:
            intermediate = narrowed
        else:  # a toy size's MLP is as narrow as it goes
            layers -= 1
    structural = embeddings + layers * (attention + 3 * hidden * intermediate) + (2 * layers + 1) * hidden
    # Built from checked numbers (kv_heads divides the heads): a record, which the models need
    # not validate (importing them would cost a fresh process ~50 ms).
    return LlmModel(
        id="bare-size",
        name=t("{size:g}B model", size=params / 1e9),
        family="llama",
        architecture="decoder",
        params_b=params / 1e9,
        layers=layers,
        hidden_size=hidden,
        attention_heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        vocab_size=vocab,
        has_bias=False,
        gated_mlp=True,
        tied_embeddings=tied,
        extra_params=max(0, round(params - structural)),
        source="interpolated between current open models (docs/models.md)",
    )


def describe(model: LlmModel) -> str:
    """The assumed shape of a bare size, in words."""
    # The counts are worded apart: Russian declines the noun after each («29 слоёв», «32 головы»).
    return t(
        "a Llama-3-style shape: hidden {hidden}, {layers} (chosen to reach its size), {heads} "
        "({kv} key/value) of {dim}, MLP {mlp}, vocabulary {vocab}{tied}",
        hidden=model.hidden_size,
        layers=nt("{count} layer", "{count} layers", model.layers, count=model.layers),
        heads=nt("{count} head", "{count} heads", model.attention_heads, count=model.attention_heads),
        kv=model.kv_heads,
        dim=model.head_dim,
        mlp=model.intermediate_size,
        vocab=model.vocab_size,
        tied=t(", tied embeddings") if model.tied_embeddings else "",
    )
