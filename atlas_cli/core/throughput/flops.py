"""Floating-point operations per trained token.

Forward, a token costs 2 FLOPs per weight it multiplies by (N: the active linear layers and the
LM head; embedding lookups cost nothing) plus attention; backward costs twice the forward: one
half for the gradients of the activations, one for the gradients of the weights. That is the
6·N rule of Kaplan et al. (arXiv 2001.08361, §2.1). Split this way, each way of training pays for
what its backward really computes:

* full fine-tuning and GaLore: 2N + 2N + 2N = 6N;
* a frozen base (LoRA, QLoRA, DoRA, IA3, adapters, prompt methods, BitFit): no weight gradients
  for the frozen layers, 2N + 2N = 4N, plus the adapters' own 6 FLOPs per parameter;
* partial fine-tuning: backward stops at the lowest trained layer (the top quarter);
* activation checkpointing recomputes the forward once more: the GPU executes 8N where the
  model needs 6N (model vs hardware FLOPs: Korthikanti et al., arXiv 2205.05198).

Attention per token and layer, causal: QKᵀ and AV over s/2 keys on average, 2·s·q FLOPs forward
(q = heads x head width), twice that backward: 6·L·s·q in all (ml-engineering's causal count;
PaLM's and torchtitan's non-causal 12·L·s·q counts masked work twice). Encoders attend both ways.
That is what the model needs; FlashAttention's backward also recomputes QKᵀ and the softmax, so
the GPU executes 2.5x the forward there (ATTENTION_BACKWARD), and it runs those kernels at their
own rate (step.attention_share).
"""

from __future__ import annotations

from typing import NamedTuple

from atlas_cli.core.memory.params import PARTIAL_TRAINABLE_SHARE
from atlas_cli.core.shapes import Shape
from atlas_cli.kb.vocabulary import MEMORY_MODELS

# The ways of training whose every weight gets a gradient.
ALL_WEIGHTS = frozenset({"full", "galore"})
# FlashAttention's backward: QKᵀ recomputed (with the softmax), then dV, dP, dQ and dK, 5 matmuls
# to the forward's 2 (Dao-AILab/flash-attention benchmarks count it as 2.5x the forward).
ATTENTION_BACKWARD = 2.5


class TokenFlops(NamedTuple):
    forward: float  # one forward pass, per token
    model: float  # forward + backward: what the method needs (the MFU convention)
    hardware: float  # with recomputation: what the GPU executes
    routed: float  # of `hardware`, the routed experts' matmuls (mixture of experts; else 0)
    attention: float  # of `hardware`, the attention kernels' (forward, backward, any recomputation)


def matmul_params(shape: Shape, lm_head: bool = True) -> float:
    """Weights one token multiplies by: the active linear layers and, for language models, the
    LM head (tied or not: the head is a matmul even when it shares the embedding's weights). A
    classifier's score head (`lm_head` False) has a few outputs: nothing to count."""
    idle_experts = shape.params - shape.active_params
    head = shape.hidden * shape.vocab if shape.architecture != "encoder" and lm_head else 0
    return shape.linear_params - idle_experts + head


def mlp_params(shape: Shape) -> float:
    """MLP weights one token multiplies by in every layer (its active experts' in a mixture): up
    and down projections, and a gate where the MLP has one."""
    return (3 if shape.gated_mlp else 2) * shape.hidden * shape.mlp_width * shape.layers


def routed_params(shape: Shape) -> float:
    """Routed-expert weights one token multiplies by (its top-k experts of every MoE layer)."""
    return shape.expert_params * shape.experts_active / shape.experts if shape.experts else 0.0


def attention_flops(shape: Shape, attended: float) -> float:
    """One forward pass of attention per token, over `attended` tokens of context: QK^T and the
    probabilities times V, each 2 x keys x the query width of every layer of each kind (Gemma 4's
    full-attention layers have heads of their own width). Sliding-window layers are counted over
    the whole causal context: transformers' SDPA path computes the masked blocks too, and
    FlashAttention, which skips them, takes heads of at most 256 (not Gemma 4's 512)."""
    keys = attended if shape.architecture == "encoder" else attended / 2
    widths = sum(count * q for count, q, _, _ in shape.attention_kinds)
    return 2 * 2 * widths * keys + gated_delta_rule_flops(shape)


# flash-linear-attention's chunk for the gated delta rule (chunk_gated_delta_rule_fwd: 64).
DELTA_CHUNK = 64


def gated_delta_rule_flops(shape: Shape) -> float:
    """One forward pass of the Gated DeltaNet layers' chunked delta rule, per token (Qwen3.5;
    fla's chunk_gated_delta_rule_fwd, chunk size C): per value head, with key and value head dims
    dk and dv, the chunk's k k^T and q k^T (C dk each), the WY products w = A k and u = A v
    (C dk, C dv), the output's intra-chunk term (C dv), and three state products, w h, q h and
    the state update k^T v_new (dk dv each): 3 C dk + 2 C dv + 3 dk dv multiply-adds. Its cost
    does not grow with the context: the state is fixed."""
    if not shape.linear_layers:
        return 0.0
    dk, dv, c = shape.linear_key_head_dim, shape.linear_value_head_dim, DELTA_CHUNK
    per_head = 3 * c * dk + 2 * c * dv + 3 * dk * dv
    return float(2 * shape.linear_layers * shape.linear_value_heads * per_head)


def token_flops(
    model: str, shape: Shape, trainable: float, attended: float, checkpointing: bool, lm_head: bool = True
) -> TokenFlops:
    """FLOPs per token for one way of training (a memory model) on sequences of `attended`;
    `lm_head` False: a sequence classifier's (matmul_params)."""
    n = matmul_params(shape, lm_head)
    attention = attention_flops(shape, attended)
    forward = 2 * n + attention
    # Backward reaches every layer, except under partial fine-tuning (only the trained top);
    # attention has no weights: its backward is all activation gradients, twice its forward.
    reach = PARTIAL_TRAINABLE_SHARE if model == "partial" else 1.0
    activation_grads = reach * (2 * n + 2 * attention)
    if model in ALL_WEIGHTS:
        weight_grads = 2 * n
    elif model == "partial":
        weight_grads = 2 * n * PARTIAL_TRAINABLE_SHARE
    else:
        weight_grads = 0.0
    adapters = 6 * trainable if MEMORY_MODELS[model].frozen_base else 0.0
    total = forward + activation_grads + weight_grads + adapters
    recomputed = forward if checkpointing else 0.0
    # The routed experts' share of every matmul term: forward, activation and weight gradients.
    matmuls = 2 * n * (1 + reach) + weight_grads + (2 * n if checkpointing else 0.0)
    kernels = attention * (1 + reach * ATTENTION_BACKWARD + (1 if checkpointing else 0))
    hardware = total + recomputed + reach * (ATTENTION_BACKWARD - 2) * attention
    return TokenFlops(forward, total, hardware, matmuls * routed_params(shape) / n, kernels)


def inference_flops(shape: Shape, attended: float) -> float:
    """One forward pass per token: what a reference model, a reward model or a prefill costs."""
    return 2 * matmul_params(shape) + attention_flops(shape, attended)
