"""Model states: weights, gradients and optimizer states, in bytes for the whole model (before
sharding across GPUs).

* ZeRO (Rajbhandari et al., arXiv 1910.02054): mixed-precision Adam keeps 2 + 2 + 12 = 16 bytes
  per trainable parameter (16-bit weights and gradients; fp32 master copy, momentum, variance).
* EleutherAI, "Transformer Math 101": 8-bit Adam states 2 bytes, SGD with momentum 4.
* QLoRA (Dettmers et al., arXiv 2305.14314) with bitsandbytes: NF4 with double quantization
  costs 4 + 8/64 + 32/(64*256) = 4.127 bits per weight; layers bitsandbytes does not quantize
  (embeddings, the LM head, norms) stay in 16 bit, or in fp32 after PEFT's
  prepare_model_for_kbit_training, which the classic QLoRA path (transformers + PEFT) calls.
* PEFT keeps adapter weights in fp32 (`get_peft_model(autocast_adapter_dtype=True)`, its
  default): 4 + 4 + 8 = 16 bytes per adapter parameter with AdamW, with no separate master copy;
  TRL's trainers cast a 4-bit model's adapters to bf16: 2 + 2 + 4 = 8.
* GaLore (Zhao et al., arXiv 2403.03507): per projected matrix a projector and moments of rank r.
"""

from __future__ import annotations

from typing import NamedTuple

from atlas_cli.core.estimates import Estimate, EstimateSettings, KbitPreparation
from atlas_cli.core.memory.params import trainable_params
from atlas_cli.core.shapes import Shape
from atlas_cli.kb.vocabulary import MEMORY_MODELS, OPTIMIZERS, PRECISIONS

# bitsandbytes NF4: blocks of 64 with an 8-bit absmax each, double-quantized in blocks of 256
NF4_STATS_BITS = 8 / 64 + 32 / (64 * 256)  # the quantization statistics per weight
NF4_DOUBLE_QUANT_BITS = 4 + NF4_STATS_BITS
INT8_BITS = 8 + 32 / 4096  # LLM.int8: one fp32 scale per row of ~4096 columns
ADAPTER_BYTES = 4.0  # PEFT autocast_adapter_dtype=True: adapters in fp32
MASTER_COPY_BYTES = 4.0  # mixed precision: the optimizer's fp32 copy of each trained weight


class ModelStates(NamedTuple):
    """Bytes for the whole model: weights (frozen and trained), gradients, optimizer states."""

    weights: float
    gradients: float
    optimizer: float
    trainable: float  # parameters
    largest_layer: float  # parameters of the biggest block: what ZeRO-3 gathers at a time
    # Bytes ZeRO-3 gathers to sample: the policy, and PPO's value model, which TRL wraps with it
    # (PolicyAndValueWrapper); never the reference or reward model.
    sampled: float


def weight_bytes(precision: str) -> float:
    return PRECISIONS[precision].weight_bytes


def optimizer_bytes(optimizer: str, precision: str, adapter: bool = False) -> float:
    """Optimizer state per trainable parameter, with the fp32 master copy under mixed precision
    (adapters are fp32 already: no copy). Pure bf16 keeps torch's AdamW and SGD states in bf16,
    not bitsandbytes' 32-bit ones."""
    info, mode = OPTIMIZERS[optimizer], PRECISIONS[precision]
    states = info.state_bytes
    if adapter:
        return states
    if (
        not mode.master_copy
        and mode.weight_bytes == 2.0
        and info.full_precision_states
        and not info.fp32_states_always
    ):
        states /= 2
    return states + (MASTER_COPY_BYTES if mode.master_copy else 0.0)


def bf16_adapters(model: str, s: EstimateSettings) -> bool:
    """Whether the adapters train in bf16 rather than PEFT's fp32 (autocast_adapter_dtype=True):
    TRL's trainer casts a quantized model's trainable parameters to bf16, as the QLoRA paper
    recommends (trl/trainer/sft_trainer.py, and the DPO, KTO, GRPO, RLOO and reward trainers:
    `param.data.to(torch.bfloat16)`; the objective card's bf16_quantized_adapters)."""
    return model == "qlora" and s.stack == "trl" and s.objective.training.bf16_quantized_adapters


def adapter_bytes(model: str, s: EstimateSettings) -> float:
    """Bytes per adapter weight, and per gradient."""
    return weight_bytes("pure-bf16") if bf16_adapters(model, s) else ADAPTER_BYTES


def adapter_optimizer_bytes(model: str, s: EstimateSettings) -> float:
    """Optimizer state per adapter parameter: no master copy, and torch's AdamW keeps its moments
    in the parameter's dtype (bf16 adapters: half of fp32's)."""
    if bf16_adapters(model, s):
        return optimizer_bytes(s.optimizer, "pure-bf16")
    return optimizer_bytes(s.optimizer, s.precision, adapter=True)


def quantized_bytes(quant_bits: int) -> float:
    return (NF4_DOUBLE_QUANT_BITS if quant_bits == 4 else INT8_BITS) / 8


def frozen_base_bytes(model: str, shape: Shape, s: EstimateSettings) -> float:
    """The frozen base model: 16-bit, or (QLoRA) its linear layers in 4 or 8 bits and the rest in
    16 bit, or fp32 where PEFT's prepare_model_for_kbit_training upcasts it (the `hf` stack).

    A mixture-of-experts model's routed experts are fused 3-D parameters in transformers 5, which
    bitsandbytes does not convert (it replaces nn.Linear modules: bitsandbytes#1849, open; the
    Experts4bit PR #1965 is not merged): they stay 16-bit, or fp32 where PEFT's
    prepare_model_for_kbit_training runs (expert_bytes). Unsloth quantizes them itself
    (unsloth#4032)."""
    if model != "qlora":
        return shape.params * weight_bytes(s.precision)
    experts = sixteen_bit_experts(model, shape, s)
    rest = shape.params - shape.linear_params
    return (
        quantized_linear_params(model, shape, s) * quantized_bytes(s.quant_bits)
        + experts * expert_bytes(s)
        + rest * unquantized_bytes(model, s)
    )


def quantized_linear_params(model: str, shape: Shape, s: EstimateSettings) -> float:
    """The linear weights a QLoRA base quantizes: all but the routed experts it leaves in 16 bit."""
    return shape.linear_params - sixteen_bit_experts(model, shape, s)


def quantization_stats_bytes(model: str, shape: Shape, s: EstimateSettings) -> float:
    """A 4-bit base's per-block statistics (the double-quantized absmax: the bits past 4 in
    NF4_DOUBLE_QUANT_BITS). bitsandbytes keeps them in each weight's quant_state, a plain
    attribute rather than a parameter (nn/modules.py Params4bit._quantize; "the quant state got
    lost ... for example for fsdp", fix_4bit_weight_quant_state_from_module), so neither ZeRO-3 /
    FSDP shards them nor offload moves them: they stay whole on every GPU (1.09 GB for a 70B)."""
    if model != "qlora" or s.quant_bits != 4:
        return 0.0
    return quantized_linear_params(model, shape, s) * NF4_STATS_BITS / 8


def experts_quantized(s: EstimateSettings) -> bool:
    """Whether a QLoRA base quantizes the fused routed experts as well as its nn.Linear layers:
    Unsloth does, so does axolotl's quantize_moe_experts (monkeypatch/moe_quant.py quantizes
    every 3-D expert parameter as it loads), and so does mlx-lm, whose `mlx_lm.convert -q`
    quantizes the experts' SwitchLinear layers with the rest; bitsandbytes alone reaches
    nn.Linear layers only. Unsloth's releases before 2026.6 left them 16-bit too (its
    Gemma-4-26B-A4B notebook held 46.4 GB after a 4-bit load): --no-quantize-experts says so."""
    return s.stack == "mlx" or (not s.sixteen_bit_experts and (s.stack == "unsloth" or s.quantized_experts))


def plan_experts_quantized(e: Estimate | None) -> bool | None:
    """QLoRA on a mixture of experts: whether its routed experts load quantized too; None for
    any other plan (what the JSON's assumptions and the `plan.quantized_experts` fact say)."""
    if e is None or e.memory_model != "qlora" or not e.shape.expert_params:
        return None
    return experts_quantized(e.settings)


def sixteen_bit_experts(model: str, shape: Shape, s: EstimateSettings) -> float:
    """Routed-expert parameters a QLoRA base keeps in 16 bit (see frozen_base_bytes); 0 for
    other ways of training, dense models and experts quantized too (experts_quantized)."""
    return shape.expert_params if model == "qlora" and not experts_quantized(s) else 0.0


def kbit_prepared(s: EstimateSettings) -> KbitPreparation:
    """What PEFT's prepare_model_for_kbit_training leaves of a QLoRA base here (the settings'
    kbit_preparation): nothing under ZeRO-3 / FSDP, whose flat shards need one dtype (axolotl
    skips it there, "make sure everything is in the same dtype", and with its quantized experts,
    which dequantize on access: loaders/model.py _prepare_model_for_quantization), and nothing off
    the hf stack for a trainer that would keep the upcast (TRL 1.x never calls it)."""
    if s.sharding == "zero3" or s.quantized_experts:
        return "none"
    if s.kbit_preparation == "upcast" and s.stack != "hf":
        return "none"
    return s.kbit_preparation


def expert_bytes(s: EstimateSettings) -> float:
    """Bytes per parameter of the routed experts a QLoRA base leaves unquantized: 16 bit, or fp32
    where prepare_model_for_kbit_training casts "all non INT8 parameters" that are not Params4bit
    to fp32 (peft utils/other.py), which the fused 3-D experts are not, and no trainer casts them
    back (axolotl's should_convert recasts norms and embeddings only): axolotl's GLM-4.7-Flash
    QLoRA without quantize_moe_experts held ~127 GiB on one GPU (docs/expert_quantization.qmd)."""
    return 4.0 if kbit_prepared(s) != "none" or s.precision == "fp32" else 2.0


def unquantized_bytes(model: str, s: EstimateSettings) -> float:
    """Bytes per parameter of what a frozen base does not quantize (embeddings, LM head, norms):
    the training precision's width, or for QLoRA 16 bit, or fp32 where PEFT's
    prepare_model_for_kbit_training upcasts it and the trainer keeps it so (kbit_prepared) or the
    run is in fp32."""
    if model != "qlora":
        return weight_bytes(s.precision)
    return 4.0 if kbit_prepared(s) == "upcast" or s.precision == "fp32" else 2.0


def galore_precision(s: EstimateSettings) -> str:
    """GaLore's weights as its recipes load them: bf16 with no fp32 master copy where the GPU has
    bf16, as the GaLore paper trains them; fp32 under fp16 mixed precision (T4, V100), which
    autocasts them (recipes' load_dtype)."""
    return "fp32" if s.precision in ("fp16", "fp32") else "pure-bf16"


def _galore_optimizer_bytes(shape: Shape, s: EstimateSettings) -> float:
    """Each projected matrix m x n (m <= n) keeps a projector m x r and two moments r x n; the
    other parameters (embeddings, norms) keep their optimizer's full states. Every state is in the
    weights' dtype (galore_precision), with no master copy: galore_projector.py casts the projector
    back to it and the optimizer's moments are `zeros_like` the projected gradient (8-bit with
    galore_adamw_8bit), as torch's AdamW keeps the moments of the unprojected parameters.
    ms-swift's GaLore run of Qwen2.5-7B on one GPU measured 38 GiB (benchmarks/measured.py); fp32
    master states for the unprojected 1.1B put it at 49 GB."""
    r = s.lora_rank  # the projection rank: the card's (transformers' default 128), or --lora-rank
    precision = galore_precision(s)
    dtype = weight_bytes(precision)
    states = optimizer_bytes(s.optimizer, precision)
    targets = shape.targets()
    projected = sum(
        (dtype * min(m.d_in, m.d_out) + states * max(m.d_in, m.d_out)) * r * m.count for m in targets
    )
    rest = shape.params - sum(m.params for m in targets)
    return projected + rest * states


def model_states(model: str, shape: Shape, s: EstimateSettings) -> ModelStates:
    info = MEMORY_MODELS[model]
    trainable = trainable_params(model, shape, s.lora_rank, s.lora_targets, s.lora_experts, s.virtual_tokens)
    largest_layer = (shape.linear_params + shape.other_params) / shape.layers
    if info.frozen_base:
        weights = frozen_base_bytes(model, shape, s) + trainable * adapter_bytes(model, s)
        gradients = trainable * adapter_bytes(model, s)
        optimizer = trainable * adapter_optimizer_bytes(model, s)
    else:
        w = weight_bytes(galore_precision(s) if model == "galore" else s.precision)
        weights = shape.params * w  # a trained subset (partial, BitFit) is part of the model once
        gradients = trainable * w
        optimizer = trainable * optimizer_bytes(s.optimizer, s.precision)
        if model == "galore":
            optimizer = _galore_optimizer_bytes(shape, s)
        if s.optimizer_in_backward:
            # Each parameter steps in its post-accumulate-grad hook and drops its gradient
            # (transformers' galore_*_layerwise, torchtune's register_optim_in_bwd_hooks): about a
            # layer's gradients at once, or the embedding's or LM head's, whichever is larger.
            gradients = min(trainable, max(largest_layer, shape.vocab * shape.hidden)) * w
    # A vision-language model's vision tower is loaded with it and stays frozen (the recipes freeze
    # it): in the weights' 16 bits with a frozen base (fp32 in an fp32 run), else in the trained
    # weights' width.
    tower_bytes = 2.0 if info.frozen_base and s.precision != "fp32" else weight_bytes(s.precision)
    weights += shape.tower_params * tower_bytes
    sampled = weights
    # A reference policy (the card's training.reference_model): with a frozen base the
    # adapter-disabled model is the reference, no second copy; none where its log-probabilities are
    # computed before training (reference_precomputed).
    if s.objective.training.reference_model and not info.frozen_base and not s.reference_precomputed:
        weights += shape.params * weight_bytes(s.precision)  # TRL loads it like the policy
    if s.objective.training.value_model:
        # A frozen reward model of the policy's size, and a value model of its own trained like
        # the policy: with a frozen base, a second base with its own adapters (TRL's value_model
        # is a separate model; ms-swift gives it its own LoRA).
        reward = frozen_base_bytes(model, shape, s)
        value = reward + trainable * adapter_bytes(model, s) if info.frozen_base else sampled
        weights += reward + value
        sampled += value
        gradients *= 2
        optimizer *= 2
    return ModelStates(weights, gradients, optimizer, trainable, largest_layer, sampled)
