"""Several GPUs and CPU offload: what each GPU holds of the model states, what it gathers or
buckets on top, and what moves to CPU RAM.

* ZeRO (Rajbhandari et al., arXiv 1910.02054): ZeRO-2 shards gradients and optimizer states
  across the N data-parallel GPUs, ZeRO-3 the parameters too; PyTorch FSDP's FULL_SHARD is
  ZeRO-3. A 4-bit QLoRA base is sharded as well when bitsandbytes packs it into the model's dtype
  (`bnb_4bit_quant_storage`, PEFT's "FSDP-QLoRA" and "DeepSpeed ZeRO-3 + QLoRA" guides). An 8-bit
  base is not: its int8 weights do not flatten with the rest (bitsandbytes#1709, "Must flatten
  tensors with uniform dtype"; transformers' quant_storage is for 4-bit only), so 8-bit QLoRA
  shards at most like ZeRO-2, the base whole on every GPU. Plain data parallel keeps a whole copy
  on every GPU.
* ZeRO-3 gathers one wrapped layer at a time and prefetches the next: FSDP's default
  `limit_all_gathers=True` allows about two unsharded layers at once. The root unit (the
  embeddings, LM head and final norm: accelerate's transformer-based wrap wraps only the decoder
  layers) stays unsharded from the forward through the backward (torch
  `fsdp/_runtime_utils.py::_post_forward_reshard`: "Do not free the root's parameters in the
  post-forward for FULL_SHARD"). With parameter offload the same layers stream in from CPU RAM,
  on one GPU too.
* QLoRA dequantizes each 4-bit weight to a 16-bit temporary for its matmul (bitsandbytes
  `matmul_4bit` for more than one token), in the forward and again in the backward: the largest
  such matrix is on the GPU at the peak.
* Gradients are reduced in buckets: DDP's `bucket_cap_mb=25`; ZeRO's reduce bucket is hidden^2
  elements with accelerate's "auto" values.
* ZeRO-Offload moves optimizer states (and the fp32 gradients) to CPU RAM; ZeRO-3 / FSDP CPU
  offload moves the parameters too. DeepSpeed's own estimators add a buffer factor of 1.5 on the
  host (`estimate_zero3_model_states_mem_needs`).
"""

from __future__ import annotations

from typing import NamedTuple

from atlas_cli.core.estimates import EstimateSettings
from atlas_cli.core.memory.states import (
    ModelStates,
    experts_quantized,
    frozen_base_bytes,
    quantization_stats_bytes,
    unquantized_bytes,
    weight_bytes,
)
from atlas_cli.core.shapes import Shape
from atlas_cli.kb.vocabulary import PRECISIONS

GATHERED_LAYERS = 2  # FSDP limit_all_gathers: the current layer and the prefetched next
# A layer's gradients in flight under ZeRO-3/FSDP: FSDP2's foreach_reduce copies the layer's
# unsharded gradients into a reduce_scatter_input of the same size before freeing them, and that
# input lives on the reduce-scatter stream while the next layer's backward computes its own
# (torch/distributed/fsdp/_fully_shard/_fsdp_collectives.py). Negligible for adapters; ~5 GB per
# GPU for gpt-oss-20b's 0.87B-parameter layers. DeepSpeed ZeRO-3 streams gradients into reduce
# buckets instead: for it this is an upper bound (its measured rows here stay within 0.94-1.04).
GRADIENT_LAYERS = 3
DDP_BUCKET_BYTES = 2 * 25 * 2**20  # two 25 MB gradient buckets in flight
HOST_BUFFER_FACTOR = 1.5  # DeepSpeed's additional_buffer_factor for CPU-side states
# ZeRO-2's optimizer step: this GPU's 16-bit gradients flattened (2) and cast to fp32 (4) per
# trained parameter in its shard (zero2_step_bytes).
ZERO2_STEP_BYTES = 6.0


class Placement(NamedTuple):
    """Bytes of model states on one GPU, and on the host for the whole node."""

    weights: float
    gradients: float
    optimizer: float
    buffers: float
    host: float


def resolved_sharding(s: EstimateSettings, model: str) -> str:
    """Offloading needs DeepSpeed, on one GPU too: ZeRO-3 for parameters (ZeRO-Infinity),
    ZeRO-2 at least for the optimizer (ZeRO-Offload, which partitions what it offloads: plain data
    parallel keeps no offloaded copy per process); one GPU has nothing else to shard; an 8-bit
    QLoRA base cannot be sharded."""
    if s.offload == "params":
        return "zero3"
    if s.gpus == 1:
        return "zero2" if s.offload == "optimizer" else "ddp"
    if s.offload == "optimizer" and s.sharding == "ddp":
        return "zero2"
    if s.sharding == "zero3" and unshardable_base(model, s):
        return "zero2"
    return s.sharding


def unshardable_base(model: str, s: EstimateSettings) -> bool:
    return model == "qlora" and s.quant_bits == 8


def loads_whole_base(model: str, s: EstimateSettings) -> bool:
    """A quantized base sharded by ZeRO-3 is still loaded whole onto every GPU first:
    transformers builds a quantized model without deepspeed.zero.Init (modeling_utils.py,
    `needs_zero3_init = ... and not _is_quantized`) and bitsandbytes places it on the current
    GPU (quantizer_bnb_4bit.py `update_device_map`: {"": current_device}), so each GPU holds the
    whole 4-bit model before DeepSpeed partitions it (DeepSpeed issue #5660). PEFT's ZeRO-3 QLoRA
    run of Llama-2-70B on 2 GPUs measures 36.6 GB per GPU, the whole 4-bit model
    (docs/source/accelerate/deepspeed.md). With parameter offload the base loads to CPU RAM, and
    Answer.AI's shard-by-shard loader (EstimateSettings.sharded_loading) never holds it whole."""
    return (
        model == "qlora"
        and s.sharding == "zero3"
        and s.offload != "params"
        and s.gpus > 1
        and not s.sharded_loading
    )


def zero2_step_bytes(trainable: float, s: EstimateSettings) -> float:
    """DeepSpeed ZeRO-2's optimizer step flattens this GPU's share of the 16-bit gradients and casts
    it to fp32 for the fp32 master weights (stage_1_and_2.py: `flatten_dense_tensors_aligned(
    averaged_gradients).to(single_partition_of_fp32_groups.dtype)`), after the backward has freed
    the activations: a peak of its own where the shard is large (full fine-tuning on few GPUs).
    With optimizer offload the fp32 copy is in CPU RAM."""
    if s.sharding != "zero2" or s.offload != "none" or not PRECISIONS[s.precision].master_copy:
        return 0.0
    return trainable * ZERO2_STEP_BYTES / s.gpus


def place(states: ModelStates, shape: Shape, model: str, s: EstimateSettings) -> Placement:
    n, sharding = s.gpus, resolved_sharding(s, model)
    # An 8-bit base stays whole on every GPU, sharded or offloaded as the rest may be, and so do a
    # 4-bit base's quantization statistics.
    whole = frozen_base_bytes(model, shape, s) if unshardable_base(model, s) else 0.0
    whole += quantization_stats_bytes(model, shape, s)
    weights, gradients, optimizer = states.weights - whole, states.gradients, states.optimizer
    if sharding in ("zero2", "zero3"):
        gradients, optimizer = gradients / n, optimizer / n
    if sharding == "zero3":
        weights /= n
    host = 0.0
    if s.offload in ("optimizer", "params"):
        host += (optimizer + gradients) * n
        optimizer, gradients = 0.0, min(gradients, DDP_BUCKET_BYTES)
    if s.offload == "params":
        host += weights * n
        weights = 0.0
    weights += whole
    return Placement(
        weights, gradients, optimizer, _buffers(states, shape, model, s, sharding), host * HOST_BUFFER_FACTOR
    )


def _buffers(states: ModelStates, shape: Shape, model: str, s: EstimateSettings, sharding: str) -> float:
    """What a GPU gathers, buckets or dequantizes on top of its share of the model states."""
    return _strategy_buffers(states, shape, model, s, sharding) + _dequantized(shape, model, s)


def _strategy_buffers(
    states: ModelStates, shape: Shape, model: str, s: EstimateSettings, sharding: str
) -> float:
    if sharding == "ddp":
        return DDP_BUCKET_BYTES if s.gpus > 1 else 0.0
    # accelerate's "auto" reduce bucket: hidden^2 elements in 16 bit (none on one GPU)
    bucket = shape.hidden**2 * 2.0 if s.gpus > 1 else 0.0
    if sharding == "zero2":
        return bucket
    layer = states.largest_layer * weight_bytes(s.precision)
    if model == "qlora":  # its experts stay 16-bit off Unsloth (states.frozen_base_bytes)
        base = frozen_base_bytes(model, shape, s) - shape.embedding_params * unquantized_bytes(model, s)
        layer = base / shape.layers
    # The root unit, whole on every GPU, in the 16-bit storage sharding needs (FSDP flattens one
    # dtype; axolotl skips the fp32 upcast when sharding); this GPU's share is already counted
    # with the weights unless they were offloaded. DeepSpeed ZeRO-3 releases modules by its own
    # rules: for it this is an upper bound.
    root = shape.embedding_params * (2.0 if model == "qlora" else weight_bytes(s.precision))
    resident_root = root if s.offload == "params" else root * (1 - 1 / s.gpus)
    trained_layer = (
        states.largest_layer * weight_bytes(s.precision) * min(1.0, states.trainable / shape.params)
    )
    # Offloaded, each layer's shard is first copied to the GPU, then gathered (torch FSDP's
    # FlatParamHandle.pre_unshard: flat_param_to(device) makes a new tensor before the all-gather).
    staged = GATHERED_LAYERS * layer / s.gpus if s.offload == "params" else 0.0
    return bucket + GATHERED_LAYERS * layer + staged + GRADIENT_LAYERS * trained_layer + resident_root


def _dequantized(shape: Shape, model: str, s: EstimateSettings) -> float:
    """QLoRA's largest 4-bit weight as its 16-bit temporary (dequantized_bytes)."""
    if model != "qlora":
        return 0.0
    return dequantized_bytes(shape, experts_quantized(s), s.quantized_experts)


def dequantized_bytes(shape: Shape, experts: bool = False, all_experts: bool = False) -> float:
    """The largest 4-bit weight as its 16-bit temporary. The experts bitsandbytes leaves in
    16 bit need none; quantized ones (`experts`) dequantize a whole layer's fused expert tensor at
    once (Unsloth: unsloth-zoo#527), and under axolotl's quantize_moe_experts (`all_experts`) all
    of them together: bitsandbytes' parametrization caches each dequantized tensor for the
    module's forward (nn/parametrize.py's hooks), and autograd keeps them for its backward."""
    per_layer = 1 / max(1, shape.moe_layers)
    sizes = [
        m.d_in * m.d_out * (m.count * per_layer if m.group == "expert" else 1)
        for m in shape.matrices
        if experts or m.group not in ("expert", "router")
    ]
    if all_experts:
        sizes.append(sum(m.params * per_layer for m in shape.matrices if m.group == "expert"))
    return max(sizes, default=0.0) * 2.0
