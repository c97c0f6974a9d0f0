"""Trainable parameters of each way of training (a method's `memory_model`)."""

from __future__ import annotations

from functools import lru_cache

from atlas_cli.core.shapes import Shape

ADAPTER_REDUCTION = 16  # AdapterHub's default bottleneck: hidden / 16
# Partial FT trains the top quarter of the blocks: Lee et al. (arXiv 1911.03090) keep ~90 % of
# full fine-tuning quality that way. A share rather than a layer count keeps memory smooth in size.
PARTIAL_TRAINABLE_SHARE = 0.25


def lora_params(shape: Shape, rank: int, scope: str = "all-linear", experts: bool = False) -> float:
    """LoRA (Hu et al., arXiv 2106.09685): r * (d_in + d_out) per adapted matrix (`scope`: every
    linear layer, the attention, or queries and values), and with `experts` on a
    mixture-of-experts model's routed experts too."""
    return float(rank * sum((m.d_in + m.d_out) * m.count for m in shape.targets(scope, experts)))


def dora_magnitude_params(shape: Shape, scope: str = "all-linear", experts: bool = False) -> float:
    """DoRA (Liu et al., arXiv 2402.09353) adds one magnitude per output row of each matrix."""
    return float(sum(m.d_out * m.count for m in shape.targets(scope, experts)))


def ia3_params(shape: Shape) -> float:
    """IA3 (Liu et al., arXiv 2205.05638): rescaling vectors for keys, values and the FFN input."""
    keys_values = sum(2 * kv * count for count, _, kv, _ in shape.attention_kinds)
    return float(keys_values + shape.mlp_width * shape.layers)


def adapter_params(shape: Shape) -> float:
    """Houlsby adapters: two bottlenecks per block, each 2*h*m + h + m with m = h / 16."""
    m = shape.hidden // ADAPTER_REDUCTION
    return float(2 * (2 * shape.hidden * m + shape.hidden + m) * shape.layers)


@lru_cache(maxsize=4096)
def trainable_params(
    model: str, shape: Shape, rank: int, scope: str = "all-linear", experts: bool = False, virtual: int = 20
) -> float:
    """Parameters a way of training trains: `rank` for the LoRA family, `virtual` soft-prompt
    tokens (num_virtual_tokens) for prompt, prefix and p-tuning."""
    h = shape.hidden
    lora = lora_params(shape, rank, scope, experts)
    adapted = shape.targets(scope, experts)
    counts: dict[str, float] = {
        "full": shape.params,
        "galore": shape.params,
        "partial": shape.linear_params * PARTIAL_TRAINABLE_SHARE,
        "bitfit": shape.bias_params,
        "adapters": adapter_params(shape),
        "prompt": float(virtual * h),
        # PEFT PrefixTuningConfig: a key and a value prefix per layer.
        "prefix": float(virtual * sum(2 * kv * count for count, _, kv, _ in shape.attention_kinds)),
        # PEFT PromptEncoderConfig MLP: h -> h -> h -> h plus the virtual-token embedding.
        "p-tuning": float(3 * h * h + virtual * h),
        "lora": lora,
        "qlora": lora,
        "dora": lora + dora_magnitude_params(shape, scope, experts),
        "adalora": lora + float(rank * sum(m.count for m in adapted)),
        "ia3": ia3_params(shape),
        "inference": 0.0,
    }
    return counts[model]
