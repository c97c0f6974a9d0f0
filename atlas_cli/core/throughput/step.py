"""The seconds of one micro-step on one GPU, from first principles, and of sampling completions.

A micro-step is what the GPU computes plus what it moves through memory, unless the CPU cannot
launch the kernels as fast (small batches); communication between GPUs overlaps with it, while
CPU offload waits for the host:

    step = max(max(compute + memory, launch), communication) + offload

* compute: hardware FLOPs (flops.py) / (peak dense 16-bit FLOPS x the stack's efficiency);
* memory: each pass reads every weight (a 4-bit base is dequantised to 16 bits first), full
  fine-tuning writes gradients, DoRA rebuilds its weight norms, and the optimizer step touches
  every trainable parameter's states once per optimizer step;
* launch: eager PyTorch spends ~20 µs of CPU per operator, through the libraries' modules;
* communication: ZeRO-3 / FSDP gathers the weights in the forward and the backward and
  reduce-scatters gradients; DDP all-reduces gradients once per optimizer step;
* offload: the optimizer step on the CPU and the transfers over PCIe.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

from atlas_cli.core.estimates import EstimateSettings
from atlas_cli.core.memory.activations import (
    EAGER_SOFTCAPPING_STACKS,
    eager_attention_counted,
    kv_cache_bytes,
)
from atlas_cli.core.memory.estimate import generate_width, hierarchical, served_by_vllm, vllm_tensor_parallel
from atlas_cli.core.memory.params import PARTIAL_TRAINABLE_SHARE, lora_params
from atlas_cli.core.memory.states import (
    adapter_bytes,
    adapter_optimizer_bytes,
    expert_bytes,
    optimizer_bytes,
    quantized_bytes,
    sixteen_bit_experts,
    weight_bytes,
)
from atlas_cli.core.nodes import GPUS_PER_NODE, node_layout
from atlas_cli.core.shapes import Shape
from atlas_cli.core.throughput.flops import (
    attention_flops,
    inference_flops,
    mlp_params,
    routed_params,
    token_flops,
)
from atlas_cli.kb.vocabulary import MEMORY_MODELS, OPTIMIZERS, PRECISIONS

# Share of peak dense 16-bit FLOPS a whole training step sustains, by stack (matmuls plus the
# norms, activations and loss between them). Calibrated on measured runs (docs/time.md): eager
# transformers/PEFT/TRL ~0.45; fused kernels, torch.compile (Liger, torchtune) or Unsloth's
# hand-written kernels ~0.6.
STACK_EFFICIENCY = {"hf": 0.45, "trl": 0.45, "liger": 0.6, "unsloth": 0.6}
# How a mixture of experts' routed experts run (attention, shared experts and the LM head run at
# the dense efficiency):
# * Llama 4 in transformers multiplies every expert by every token (Llama4TextExperts: a bmm over
#   the repeated tokens): experts/active times the routed FLOPs, at 0.8 of the dense rate, which
#   puts the axolotl Llama 4 Scout QLoRA run (16 experts, top-1, one H100) at its measured rate.
# * transformers 4 ran other families expert by expert: EXPERT_LOOP_EFFICIENCY of the dense rate
#   (LLaMA-Factory users saw Qwen3-30B-A3B LoRA train slower than a dense 32B, hiyouga/
#   LlamaFactory#7921: at most ~0.06; no run with its conditions measures it better). transformers
#   5 runs them with torch's grouped_mm (its default experts_implementation on SM80+ GPUs with
#   torch >= 2.9: integrations/moe.py), "~6x faster MoE than v4". GPUs before Ampere fall back
#   to the loop. TRL's docs measure about what this rate gives: "~5% [MFU] at 3.35B-active" for
#   Qwen3-30B-A3B on H100s (huggingface/trl@00a51989 docs/source/distributing_training.md, expert
#   parallel), where full fine-tuning on 8 H100s with FSDP is timed here at ~4.9 %. Faster kernels
#   (NeMo's Transformer Engine grouped GEMMs with DeepEP) run 2-3x this rate: not a stack here.
# * Unsloth's MoE runs are timed as the loop, whatever Unsloth says of its kernels ("an additional
#   ~2x" over grouped_mm, unsloth.ai/docs/new/faster-moe): its public runs on one A100 (torch 2.10,
#   transformers 5.1-5.5; unslothai/notebooks@bdda2efc Qwen3_MoE, Qwen3_5_MoE, Gemma4_(26B_A4B))
#   took 4.2, ~5-8 and ~5.5 s per micro-step of ~0.6-2k tokens, 5-17x the grouped rate, and about
#   what dispatching the loop's operators for every expert of every layer costs (below). Unsloth's
#   4-bit MoE path is such a loop (qwen3_moe.forward_native_moe_loop, unsloth#4032; the per-expert
#   Linear4bit swap of unsloth#5432 "dispatches per-expert").
# The loop runs these operators per routed expert a batch reaches (transformers' eager experts
# forward, e.g. Gemma4TextExperts / MixtralExperts): its parameter slices, the token mask, gather,
# two matmuls, the gate's chunk, activation and product, the routing weight, the index_add; about
# as many backward. Each costs OP_SECONDS of CPU, which the GPU waits for when its matmuls are small.
EXPERT_LOOP_FORWARD_OPS = 13
EXPERT_LOOP_BACKWARD_OPS = 12
# PEFT's ParamWrapper (LoRA on fused expert weights, target_parameters) builds every expert's
# delta B @ A and the merged weight W + delta in each forward, all experts whether routed to or
# not: 16-bit delta written and read, the frozen weight read, the merged weight written (8 bytes per
# expert weight); the backward writes the merged weight's gradient and reads it for A's and B's
# (6 bytes).
EXPERT_DELTA_FORWARD_BYTES = 8.0
EXPERT_DELTA_BACKWARD_BYTES = 6.0
EVERY_TOKEN_EXPERTS_RATE = 0.8
EXPERT_LOOP_EFFICIENCY = 0.04
GROUPED_EXPERTS_EFFICIENCY = 6 * EXPERT_LOOP_EFFICIENCY
# The grouped rate is Qwen3-30B-A3B's, whose experts are small: 8 of 128 per token, three
# 2,048 x 768 matrices each. Each expert grouped_mm runs in a layer costs an overhead beside its
# matmul (its group's tiles, the routing around it), so the rate rises with the work an expert
# receives, its share of the tokens times its weights: rate = work / (work + overhead), the
# overhead being what 0.24 leaves at Qwen3's work. Mixtral's experts (2 of 8, 4,096 x 14,336) do
# ~150x that work and run near the dense rate: even transformers 4's loop did (fms-acceleration's
# Mixtral-8x7B QLoRA on one A100, 1,528 tokens/s, 3.2x what a flat 0.24 gave:
# foundation-model-stack/fms-acceleration@876e2ed6 scripts/benchmarks/refs/a100_80gb.csv); NeMo's
# gpt-oss-20b runs (benchmarks/measured.py) read 0.81 instead of 0.40. Experts given less work
# than Qwen3's (Qwen3.5-35B-A3B, Qwen3-Next) keep 0.24: no run measures them. The loop keeps its flat
# rate: its overhead is CPU time per expert call (_expert_loop_seconds), which Unsloth's tiled,
# small calls pay in full whatever the experts' size (its gpt-oss rows read 1.6-1.9x with this).
MEASURED_EXPERT_WORK = 8 / 128 * 3 * 2048 * 768
BEFORE_SM80 = ("Volta", "Turing")  # no grouped_mm kernel
# The stack efficiencies were calibrated mostly on A100 runs, whose dense bf16 matmuls reach 86.9 %
# of peak (ml-engineering's maximum achievable matmul FLOPS, 271.2 of 312 TFLOPS). A GPU measured
# lower (MI300X 51.4 %: data/gpus.yaml tflops_bf16_measured) sustains proportionally less of its
# peak, a GeForce card boosting past its printed peak more; one without a measurement is assumed to
# reach the A100's share. Where training itself was measured on the card and an A100 with the same
# code, the ratio of their MFUs replaces the matmul's (data/gpus.yaml mfu_vs_a100): the H100 SXM's
# largest matmul reaches 80.3 % of peak, but llm-foundry's MPT runs sustain 0.71 of the A100's MFU
# there, not the 0.92 the matmuls suggest.
REFERENCE_MATMUL_SHARE = 271.2 / 312
BANDWIDTH_EFFICIENCY = 0.8  # share of peak memory bandwidth that streaming kernels reach
# The share of peak 16-bit FLOPS attention kernels (FlashAttention 2, or SDPA's flash backend, which
# is built from it) sustain forward and backward, whatever the stack: 0.5 on an A100, the low end
# of the 50-73 % FlashAttention-2 reaches there, since its backward runs below its forward (Dao,
# arXiv 2307.08691); 0.35 on Hopper, which FlashAttention 2 does not exploit ("only 35 %
# utilization on the H100": FlashAttention-3, Shah et al., arXiv 2407.08608). A GPU of another
# architecture is assumed to reach the A100's share.
ATTENTION_SHARE = {"Hopper": 0.35}
DEFAULT_ATTENTION_SHARE = 0.5
# Eager attention (a family without an SDPA kernel, run without another kernel: gpt-oss and
# Gemma 2 on transformers' own loss; memory.activations.eager_attention_counted) multiplies the
# whole s x s square, the masked half too, as batched matmuls at the stack's efficiency, and
# streams the scores through memory between them. Bytes per score element, 16-bit, counted from
# transformers' eager_attention_forward (llama/modeling_llama.py): forward, QK^T writes 2, the
# scaling reads and writes 4, the mask's add 4, the fp32 softmax reads 2 and writes 4, its cast
# back reads 4 and writes 2, P @ V reads 2 (dropout at p=0 returns its input): 24 (gpt-oss's
# sink column, concatenated, max-shifted and dropped again, comes to ~26); backward, dP written
# and P read for dV 4, the cast's gradient 6, softmax's backward reads its fp32 output and
# gradient and writes 12, the cast back 6, the scaling 4, dQ and dK read dS 4: ~36.
EAGER_SCORE_BYTES = (24.0, 36.0)  # forward, backward
# Gemma 2's soft-capping divides, takes tanh and multiplies: a read and a write of 2 each forward
# (12), and their gradients backward (tanh's reads its output too: ~14).
SOFTCAPPING_SCORE_BYTES = (12.0, 14.0)
# Unsloth compiles its soft-capped attention (slow_attention_softcapping): QK^T, one fused kernel
# for the capping, mask and fp32 softmax (its probabilities kept in fp32, a 16-bit copy for P @ V:
# memory.activations COMPILED_SOFTCAPPING_BYTES), P @ V: 2 + 2 + 4 + 2 + 2 forward; backward dP
# 2, P for dV 2, the fused gradient reads 4 + 2 and writes 2, dQ and dK read 4: 16.
COMPILED_SCORE_BYTES = (12.0, 16.0)
# CPU time to dispatch one eager PyTorch operator through transformers' and PEFT's modules (module
# calls, hooks, autocast, the dispatcher and the launch). Measured from the Qwen README's
# short-sequence rows (QwenLM/Qwen@2df8e8a, A100, batch 1, benchmarks/measured.py): LoRA on the
# 1.8B, 7B and 14B models takes ~5 ms per layer per micro-step at 256-512 tokens whatever the
# size, ~20 us for each of a LoRA layer's ~260 operators; 10 us (a bare torch op) put those runs
# at 1.4-2x their measured rate.
OP_SECONDS = 20e-6
# DeepSpeed ZeRO-3 runs Python hooks around every module: before it, fetch its parameters and wait
# for them; after it, release them (deepspeed/runtime/zero/partitioned_param_coordinator.py,
# fetch_sub_module; parameter_offload.py), in the forward, the recomputation and the backward. CPU
# time per layer and pass, measured from the Qwen README's DeepSpeed ZeRO-3 rows (QwenLM/Qwen@2df8e8a,
# finetune/ds_config_zero3.json; A100-SXM4-80G, batch 1, checkpointing, benchmarks/measured.py):
# full fine-tuning of the 1.8B on one GPU and of the 7B on two, and LoRA of the 72B on four, take
# 0.26, 0.5 and 2.2 s per micro-step at 256 tokens, where LoRA of the same models without DeepSpeed
# takes ~5 ms per layer (OP_SECONDS): ~6-9 ms per layer more.
# PyTorch FSDP pays about as much in its own per-unit hooks (unshard, reshard, the rate limiter
# that waits on the all-gather two units back): LitGPT's resource tables (Lightning-AI/litgpt@4839345a
# tutorials/resource-tables.md; A100-SXM4-40GB, LoRA, micro-batch 1, Alpaca, Fabric FSDP wrapping
# and checkpointing every block, limit_all_gathers) take 1.0-3.5 ms more per layer and pass on 2 or
# 4 GPUs than on one: Llama 2 7B 5.93 against 2.36 min per 1,000 iterations, 13B on four 10.25
# against 3.19 (an accuracy review: without it, FSDP timed those runs 2.7-3.3x too fast).
ZERO3_HOOK_SECONDS = 2.5e-3
# Operators of one Llama-style layer per training step (forward ~45, backward ~90) in eager
# PyTorch; fused kernels (Liger, Unsloth) merge norms, rotary and the gated MLP.
OPS_PER_LAYER = {"hf": 135, "trl": 135, "liger": 90, "unsloth": 80}
ADAPTER_OPS = 12  # a LoRA module adds ~4 operators forward and ~8 backward
ADAPTER_FORWARD_OPS = 4  # dropout (or identity), A, B, and the scaled add
# bitsandbytes' MatMul4Bit dequantises its weight on every use (forward, recomputation, backward):
# the double-quantised absmax, its offset, then the 4-bit weight (bitsandbytes
# autograd/_functions.py, functional.dequantize_4bit) - three kernels before each matmul.
DEQUANTIZE_OPS = 3
FORWARD_OPS_PER_LAYER = 45
# An eager RMSNorm's operators (transformers' LlamaRMSNorm.forward: cast, pow, mean, add, rsqrt,
# multiply, cast back, scale); FORWARD_OPS_PER_LAYER counts a Llama layer's two.
RMSNORM_OPS = 8
DEQUANTIZED_BYTES = 4.0  # bitsandbytes writes each 4-bit weight out as bf16 and the matmul reads it
AMP_CAST_BYTES = 6.0  # autocast reads the fp32 master weight and writes and reads a bf16 copy
DORA_BYTES = 24.0  # PEFT's DoRA forms W + BA in fp32 and its row norms on every forward
# torch.optim.AdamW's default foreach kernels (OptimizerInfo.foreach) make ~20 passes over
# parameter-sized tensors where the fused kernel (transformers' default optim on torch >= 2.8)
# makes 7.
FOREACH_TRAFFIC = 20 / 7
LINK_EFFICIENCY = 0.7  # share of a link's bandwidth that all-gathers and reduce-scatters reach
# Between nodes, where a GPU's entry gives no network_gbs: one 400 Gb/s InfiniBand NDR port per
# GPU (DGX H100), one direction.
INTER_NODE_GBS = 50.0
# A desktop (GeForce) card has no reference cluster: the nodes built of them are joined by
# Ethernet, not a DGX's InfiniBand (16 RTX 4090s had been timed over 3,200 Gb/s per node: an
# expert's review). 100 Gb Ethernet per node is assumed, over its 8 GPUs (12.5 GB/s / 8).
DESKTOP_INTER_NODE_GBS = 100 / 8 / 8
# PCIe x16, one direction, as measured by generation (~75-80 % of the signalling rate; PCIe 5.0:
# the mean of host-to-device and device-to-host): docs/time.md has the sources.
PCIE_X16_GBS: dict[int, float] = {3: 12.0, 4: 25.0, 5: 44.0}
ASSUMED_PCIE_GEN = 4  # when a card's PCIe generation is not known
# CPU offload: every training process steps Adam over its own shard on the CPU, memory-bound, at
# about this rate each, side by side (docs/time.md: DeepSpeed PR #7474's ZeRO-Offload of Qwen2.5-3B
# on 2 A100s, 2.38 s per step, needs >= 18 GB/s per process; torchtune's 70B full fine-tune with
# CPU offload on 8 A100s, 1,568 tokens/s, >= ~16). Eight of them, 160 GB/s, stay within a
# two-socket server's memory bandwidth (DGX A100: 2 AMD EPYC 7742, 204.8 GB/s each).
HOST_ADAM_GBS_PER_PROCESS = 20.0
# ... and a node's processes together at least what those two reached (~40 GB/s): fewer processes
# spread their threads over the same cores and memory channels.
HOST_ADAM_GBS_PER_NODE = 40.0
# Bytes Adam reads and writes per parameter, in units of its state width: the parameter, the
# gradient and two moments read, three written back (7 x 4 = 28 with an fp32 master copy or fp32
# weights; 7 x 2 = 14 in pure bf16, whose moments torch keeps in the parameters' dtype).
ADAM_ACCESSES = 7
DECODE_EFFICIENCY = {False: 0.5, True: 0.75}  # transformers generate / vLLM, share of bandwidth


class Device(NamedTuple):
    """One GPU as the time model sees it."""

    tflops: float  # peak dense 16-bit tensor TFLOPS (FP32 accumulate)
    bandwidth_gbs: float  # memory bandwidth, GB/s
    link_gbs: float  # to the other GPUs, one direction, GB/s
    link: str  # what the link is, for the assumptions
    matmul_tflops: float | None = None  # the largest dense matmul rate measured, where published
    architecture: str = ""  # data/gpus.yaml architecture: which attention and expert kernels run
    host_gbs: float = PCIE_X16_GBS[ASSUMED_PCIE_GEN]  # to the host's memory (PCIe; GH200: C2C), one way
    fp32_tflops: float | None = None  # without tensor cores: --precision fp32 (TF32 off, torch's default)
    network_gbs: float = INTER_NODE_GBS  # between nodes, per GPU, one way (data/gpus.yaml network_gbs)
    mfu_vs_a100: float | None = None  # training's sustained share of peak against the A100's, measured
    desktop: bool = False  # a desktop (GeForce) card: data/gpus.yaml desktop


class Work(NamedTuple):
    """What one way of training computes, independent of the data."""

    model: str  # the memory model (kb.vocabulary.MEMORY_MODELS)
    shape: Shape
    settings: EstimateSettings
    trainable: float  # parameters
    paged: float = 0.0  # bytes of a paged optimizer's states paged out to CPU RAM, per GPU


class Step(NamedTuple):
    """One micro-step on one GPU, in seconds, by cause."""

    seconds: float
    compute: float
    memory: float
    launch: float
    communication: float
    offload: float


# A batch times the same setups for many amounts of data: the step does not depend on them.
@lru_cache(maxsize=4096)
def micro_step(
    work: Work,
    device: Device,
    tokens: float,
    attended: float,
    accumulation: int,
    extra_forwards: int = 0,
    row: float | None = None,
) -> Step:
    """A forward and backward pass over `tokens` (padding included) on one GPU, with its share of
    the optimizer step taken every `accumulation` micro-steps; `extra_forwards` are the forward
    passes an objective adds without gradients (a reference model, a KL batch); `row`: the length
    of a row, padding included, whose whole square eager attention computes (default
    `attended`)."""
    s = work.settings
    experts, materialised = _expert_adapters(work)
    # A token runs the adapters of the experts it is routed to only.
    per_token = work.trainable - experts * (1 - work.shape.experts_active / max(work.shape.experts, 1))
    flops = token_flops(
        work.model, work.shape, per_token, attended, s.gradient_checkpointing, not s.classifier_head
    )
    # Extra forwards run the routed experts too: 2 FLOPs per routed weight a token uses. LoRA on
    # the routed experts makes their fused weight require a gradient (the merged W + B @ A), so
    # the backward computes the experts' weight gradients too, which a frozen base skips.
    routed = flops.routed + (extra_forwards + (1 if experts else 0)) * 2 * routed_params(work.shape)
    if s.tiled_mlp:
        # TiledMLP's backward runs each MLP tile's forward again, with gradients this time (its
        # forward, and a checkpointed layer's recomputation, ran without): one more MLP forward.
        flops = flops._replace(hardware=flops.hardware + 2 * mlp_params(work.shape))
        routed += 2 * routed_params(work.shape)
    attention = flops.attention + extra_forwards * attention_flops(work.shape, attended)
    fp32_tflops = device.fp32_tflops if s.precision == "fp32" else None
    # The routed experts run at the stack's own rate (expert_slowdown's are measured against it:
    # Unsloth runs them in its MoE path whichever path loads the rest), the rest at timed_stack's.
    experts = routed * expert_slowdown(work.shape, s.stack, device, cuda_cores=fp32_tflops is not None)
    executed = flops.hardware + extra_forwards * flops.forward - attention
    eager = eager_attention_counted(work.shape, s)
    side = attended if row is None else row
    if eager:  # plain matmuls over the whole square, at the stack's rate (EAGER_SCORE_BYTES)
        executed += _eager_attention_flops(work, side, extra_forwards)
    if fp32_tflops is not None:
        # Every matmul, attention's included (FlashAttention has no fp32 kernel), on the CUDA
        # cores: the measured bf16 matmul share says nothing of them.
        executed += 0.0 if eager else attention
        compute = (tokens * executed + materialised) / (
            fp32_tflops * 1e12 * STACK_EFFICIENCY[timed_stack(work)]
        )
        compute += tokens * experts / (fp32_tflops * 1e12 * STACK_EFFICIENCY[s.stack])
    else:
        peak = device.tflops * 1e12
        compute = (tokens * executed + materialised) / (peak * efficiency(timed_stack(work), device))
        compute += tokens * experts / (peak * efficiency(s.stack, device))
        compute += 0.0 if eager else tokens * attention / (peak * attention_share(device))
    traffic = _pass_bytes(work, tokens, extra_forwards) + _optimizer_bytes(work) / accumulation
    traffic += tokens * _eager_score_bytes(work, side, extra_forwards) if eager else 0.0
    memory = traffic / (device.bandwidth_gbs * 1e9 * BANDWIDTH_EFFICIENCY)
    launch = _launch_seconds(work, extra_forwards)
    launch += _expert_loop_seconds(work, device, tokens, extra_forwards)
    communication = _communication_seconds(work, device, accumulation, extra_forwards)
    offload = _offload_seconds(work, device, accumulation)
    busy = max(compute + memory + _all_to_all_seconds(work, device, tokens), launch)
    # DeepSpeed's hooks wait for each gather before the module runs, and the recipes' overlap_comm
    # false reduces the gradients on the compute stream: its collectives add to the step. DDP and
    # FSDP run theirs beside the compute (FSDP prefetches the next layer's gather).
    waited = busy + communication if waits_for_collectives(s) else max(busy, communication)
    return Step(waited + offload, compute, memory, launch, communication, offload)


def _eager_passes(work: Work, extra_forwards: int) -> tuple[int, float]:
    """Eager attention's forward passes (a recomputation, an objective's extra forwards) and its
    backward's reach (partial fine-tuning's backward stops at the trained top layers)."""
    s = work.settings
    forwards = (2 if s.gradient_checkpointing else 1) + extra_forwards
    return forwards, PARTIAL_TRAINABLE_SHARE if work.model == "partial" else 1.0


def _eager_attention_flops(work: Work, row: float, extra_forwards: int) -> float:
    """Eager attention's FLOPs per token: QK^T and P @ V over every key of the row, the masked
    ones too, forward; dP, dV, dQ and dK backward (the scores are kept, not recomputed)."""
    forwards, reach = _eager_passes(work, extra_forwards)
    widths = sum(count * q for count, q, _, _ in work.shape.attention_kinds)
    forward = 2 * 2 * widths * row
    return forward * (forwards + 2 * reach)


def _eager_score_bytes(work: Work, row: float, extra_forwards: int) -> float:
    """Bytes per token eager attention streams through memory for its scores: a row of `row`
    scores for each head of each layer, read and written by each operator between the matmuls."""
    s, shape = work.settings, work.shape
    forwards, reach = _eager_passes(work, extra_forwards)
    if shape.attention_softcapping and s.stack in EAGER_SOFTCAPPING_STACKS:
        forward, backward = COMPILED_SCORE_BYTES
    else:
        forward, backward = EAGER_SCORE_BYTES
        if shape.attention_softcapping:
            forward, backward = forward + SOFTCAPPING_SCORE_BYTES[0], backward + SOFTCAPPING_SCORE_BYTES[1]
    wide = 2.0 if s.precision == "fp32" else 1.0  # fp32 scores: twice the bytes
    return shape.eager_heads * shape.softmax_layers * row * (forward * forwards + backward * reach) * wide


def waits_for_collectives(s: EstimateSettings) -> bool:
    """DeepSpeed ZeRO-2 and ZeRO-3 as the recipes configure them (launchers.deepspeed_config:
    overlap_comm false): the backward's hooks reduce each bucket of gradients on the compute
    stream (stage_1_and_2.py average_tensor: current_stream() without overlap_comm), ZeRO-2's
    step all-gathers the updated weights after it, and ZeRO-3's hooks wait for every module's
    gather. DDP and FSDP run theirs beside the compute."""
    return s.sharding in ("zero2", "zero3") and not (s.fsdp or s.sharded_loading)


def _expert_adapters(work: Work) -> tuple[float, float]:
    """(LoRA parameters on the routed experts, FLOPs per micro-step to use them). PEFT's
    ParamWrapper (target_parameters) adds every expert's B @ A to its fused weight before the
    experts run: 2r FLOPs per expert weight forward, twice that backward (the gradients of A and
    B), once more when checkpointing recomputes the forward."""
    s = work.settings
    if not s.lora_experts:  # memory.estimate settles it: plain LoRA on a mixture of experts
        return 0.0, 0.0
    shape, rank = work.shape, s.lora_rank
    parameters = lora_params(shape, rank, s.lora_targets, True) - lora_params(shape, rank, s.lora_targets)
    passes = 2 + 4 + (2 if s.gradient_checkpointing else 0)
    return parameters, passes * rank * shape.expert_params


def touched_weights(shape: Shape, tokens: float, lm_head: bool = True) -> float:
    """Linear weights a pass over `tokens` reads, LM head included (not a classifier's): a routed
    expert is read when at least one token goes to it."""
    return (
        shape.linear_params
        - shape.expert_params * (1 - _touched_experts(shape, tokens))
        + (shape.hidden * shape.vocab if lm_head else 0)
    )


def _touched_experts(shape: Shape, tokens: float) -> float:
    """The share of a layer's routed experts at least one of `tokens` goes to (about)."""
    return 1.0 if not shape.experts else min(1.0, tokens * shape.experts_active / shape.experts)


def _read_weights_bytes(work: Work, tokens: float) -> float:
    """Bytes one pass over `tokens` reads from the weights: a 4-bit base is read packed and
    dequantised to 16 bits first, except its routed experts, which transformers 5 keeps in 16
    bit (memory.states.frozen_base_bytes)."""
    s, shape = work.settings, work.shape
    weights = touched_weights(shape, tokens, not s.classifier_head)
    if not MEMORY_MODELS[work.model].quantized_base:
        return weights * weight_bytes(s.precision)
    kept = sixteen_bit_experts(work.model, shape, s) * _touched_experts(shape, tokens)
    return (weights - kept) * _read_bytes(s) + kept * expert_bytes(s)


def _stored_base_bytes(work: Work) -> float:
    """The base as gathered or streamed from the host: packed 4-bit (16-bit routed experts
    aside) for QLoRA, else in the training precision."""
    s, shape = work.settings, work.shape
    if not MEMORY_MODELS[work.model].quantized_base:
        return shape.params * weight_bytes(s.precision)
    kept = sixteen_bit_experts(work.model, shape, s)
    return (shape.params - kept) * quantized_bytes(s.quant_bits) + kept * expert_bytes(s)


def expert_slowdown(shape: Shape, stack: str, device: Device, cuda_cores: bool = False) -> float:
    """Extra dense-rate FLOP-equivalents per routed-expert FLOP, by how the experts run.
    `cuda_cores`: the matmuls run in fp32 without tensor cores, whose rate an expert's small
    matmul reaches as a dense one does: a loop there runs at the dense rate (Unsloth's gpt-oss-20b
    QLoRA on a T4 in fp32, benchmarks/measured.py)."""
    if not shape.experts:
        return 0.0
    if shape.experts_every_token:
        return shape.experts / shape.experts_active / EVERY_TOKEN_EXPERTS_RATE - 1
    if runs_expert_loop(shape, stack, device):
        return 0.0 if cuda_cores else 1 / EXPERT_LOOP_EFFICIENCY - 1
    return grouped_experts_slowdown(shape)


def grouped_experts_slowdown(shape: Shape) -> float:
    """Extra dense-rate FLOP-equivalents per routed FLOP of experts multiplied with grouped_mm:
    GROUPED_EXPERTS_EFFICIENCY at Qwen3-30B-A3B's work per expert, less for experts given more
    (MEASURED_EXPERT_WORK)."""
    per_expert = shape.expert_params / (shape.experts * max(shape.moe_layers, 1))
    work = shape.experts_active / shape.experts * per_expert / MEASURED_EXPERT_WORK
    # Never below the measured rate: no run measures smaller experts slower.
    return (1 / GROUPED_EXPERTS_EFFICIENCY - 1) / max(work, 1.0)


def runs_expert_loop(shape: Shape, stack: str, device: Device) -> bool:
    """Whether the routed experts run one by one: on GPUs without grouped_mm, and as Unsloth's
    measured runs do (see EXPERT_LOOP_FORWARD_OPS)."""
    if not shape.experts or shape.experts_every_token:
        return False
    return stack == "unsloth" or device.architecture.startswith(BEFORE_SM80)


def _expert_loop_seconds(work: Work, device: Device, tokens: float, extra_forwards: int) -> float:
    """CPU time to dispatch an expert loop's operators over a micro-step's `tokens`: for every
    expert they reach in every layer with routed experts, forward, backward, recomputation and
    the objective's extra forwards (a reference model)."""
    s, shape = work.settings, work.shape
    if not runs_expert_loop(shape, s.stack, device):
        return 0.0
    forwards = (2 if s.gradient_checkpointing else 1) + extra_forwards + (1 if s.tiled_mlp else 0)
    ops = forwards * EXPERT_LOOP_FORWARD_OPS + EXPERT_LOOP_BACKWARD_OPS
    # TiledMLP runs the loop once per tile of `hidden` tokens (its "arctic" tiling).
    tiles = math.ceil(tokens / shape.hidden) if s.tiled_mlp else 1
    reached = shape.experts * _touched_experts(shape, tokens / tiles)
    return shape.moe_layers * tiles * reached * ops * OP_SECONDS


def attention_share(device: Device) -> float:
    """The share of peak FLOPS attention kernels sustain on this GPU: its architecture's, scaled
    like the matmuls by how much of its printed peak the GPU reaches. Both discounts apply: the
    architecture's share is a kernel's, measured alone (FlashAttention-3's paper), and a training
    run's sustained share (mfu_vs_a100) slows attention as it slows every kernel; with both,
    llm-foundry's 32k-64k-token H100 runs, where attention dominates, come out at 1.03-1.16x."""
    family = next((name for name in ATTENTION_SHARE if device.architecture.startswith(name)), None)
    return (DEFAULT_ATTENTION_SHARE if family is None else ATTENTION_SHARE[family]) * _reached(device)


# The ways of training Unsloth's fused LoRA kernels run: FastLanguageModel loads a 4-bit or 16-bit
# base (8-bit goes through FastModel), and patch_peft_model swaps in its kernels only where the
# adapters have no dropout and no DoRA magnitude (unslothai/unsloth@015bdef models/llama.py).
UNSLOTH_FUSED_MODELS = frozenset({"lora", "qlora"})


def timed_stack(work: Work) -> str:
    """The stack whose rate and operators time a step: Unsloth's fused kernels where it patches
    the LoRA layers (a family it dispatches to FastLanguageModel: families.yaml unsloth_fast_lora);
    anywhere else it trains transformers' own modules (FastModel), timed as TRL."""
    s = work.settings
    if s.stack != "unsloth":
        return s.stack
    fused = s.unsloth_fast_lora and work.model in UNSLOTH_FUSED_MODELS and s.lora_dropout == 0
    return "unsloth" if fused and not (work.model == "qlora" and s.quant_bits == 8) else "trl"


def efficiency(stack: str, device: Device) -> float:
    """The share of the GPU's peak dense FLOPS a training step sustains (routed experts: see
    expert_slowdown; attention kernels: attention_share)."""
    return STACK_EFFICIENCY[stack] * _reached(device)


def _reached(device: Device) -> float:
    """The share of its peak the GPU sustains relative to the A100's: measured in training where
    published (data/gpus.yaml mfu_vs_a100), else its largest matmul's share, else the A100's (1),
    or for a desktop card its printed peak: the GeForce cards measured boost to or past it (RTX
    4090 1.01, 3090 1.08, 3080 Ti 1.12), and an RTX 3090 Ti had been timed slower than a 3090."""
    if device.mfu_vs_a100 is not None:
        return device.mfu_vs_a100
    if device.matmul_tflops is None:
        return 1 / REFERENCE_MATMUL_SHARE if device.desktop else 1.0
    return device.matmul_tflops / device.tflops / REFERENCE_MATMUL_SHARE


def _pass_bytes(work: Work, tokens: float, extra_forwards: int) -> float:
    """Weights read by the forward, the backward, a recomputation and any extra forward passes;
    gradients written."""
    s, shape, info = work.settings, work.shape, MEMORY_MODELS[work.model]
    passes = (3 if s.gradient_checkpointing else 2) + extra_forwards
    total = passes * _read_weights_bytes(work, tokens)
    if not info.frozen_base:
        casts = AMP_CAST_BYTES if _master_copy(s) else 0.0
        total += work.trainable * (weight_bytes(s.precision) + casts)
    if work.model == "dora":
        adapted = sum(m.params for m in shape.targets(s.lora_targets, s.lora_experts))
        total += adapted * DORA_BYTES * (passes - 1)  # every forward rebuilds the norms
    if _expert_adapters(work)[0]:
        forwards = 2 if s.gradient_checkpointing else 1  # the adapted ones: not a reference pass
        total += shape.expert_params * (forwards * EXPERT_DELTA_FORWARD_BYTES + EXPERT_DELTA_BACKWARD_BYTES)
    return total


def _read_bytes(s: EstimateSettings) -> float:
    """A quantised weight's bytes per use: the packed weight, then its 16-bit copy."""
    return quantized_bytes(s.quant_bits) + DEQUANTIZED_BYTES


def _master_copy(s: EstimateSettings) -> bool:
    return optimizer_bytes(s.optimizer, s.precision) > optimizer_bytes(s.optimizer, s.precision, adapter=True)


def _optimizer_bytes(work: Work) -> float:
    """One optimizer step: read gradient, parameter and states, write parameter and states."""
    s = work.settings
    if MEMORY_MODELS[work.model].frozen_base:
        param, states = adapter_bytes(work.model, s), adapter_optimizer_bytes(work.model, s)
    else:
        param, states = weight_bytes(s.precision), optimizer_bytes(s.optimizer, s.precision)
    touched = 2 * states + 3 * param
    shard = s.gpus if s.sharding in ("zero2", "zero3") else 1
    if s.offload != "none":
        return 0.0  # the CPU runs it: see _offload_seconds
    return work.trainable / shard * touched * (FOREACH_TRAFFIC if OPTIMIZERS[s.optimizer].foreach else 1.0)


def _launch_seconds(work: Work, extra_forwards: int = 0) -> float:
    """CPU time dispatching a micro-step's operators; an objective's extra forwards (a reference
    model) dispatch theirs too, and under ZeRO-3 (DeepSpeed's or FSDP's) run its hooks again."""
    s, shape = work.settings, work.shape
    forwards = (1 if s.gradient_checkpointing else 0) + extra_forwards
    per_layer = float(OPS_PER_LAYER[timed_stack(work)] + FORWARD_OPS_PER_LAYER * forwards)
    per_layer += ADAPTER_OPS * _adapted_per_layer(work)
    passes = (3 if s.gradient_checkpointing else 2) + extra_forwards
    per_layer += DEQUANTIZE_OPS * _dequantized_per_layer(work) * passes
    hooks = passes * ZERO3_HOOK_SECONDS if s.sharding == "zero3" else 0.0  # DeepSpeed's or FSDP's
    return shape.layers * (per_layer * OP_SECONDS + hooks)


def _adapted_per_layer(work: Work) -> float:
    """The LoRA modules of a layer, on average: each adds its own operators to every pass."""
    s, shape = work.settings, work.shape
    if not MEMORY_MODELS[work.model].low_rank:
        return 0.0
    # PEFT wraps a layer's fused expert parameter once (ParamWrapper), whatever its experts.
    targets = shape.targets(s.lora_targets, s.lora_experts)
    adapted = sum(shape.moe_layers if m.group == "expert" else m.count for m in targets)
    return adapted / shape.layers


def _dequantized_per_layer(work: Work) -> float:
    """The 4-bit linear layers of a layer, on average, each dequantised on every pass."""
    if not MEMORY_MODELS[work.model].quantized_base:
        return 0.0
    return sum(m.count for m in work.shape.targets("all-linear", False)) / work.shape.layers


def _decode_dispatch_seconds(work: Work, device: Device, sequences: float) -> float:
    """CPU time transformers' eager generate spends dispatching one step's operators: every
    layer's, and in an expert loop (runs_expert_loop) the forward's per expert that the step's
    `sequences` tokens reach, as in training (_expert_loop_seconds)."""
    shape = work.shape
    ops = shape.layers * _decode_ops_per_layer(work)
    if runs_expert_loop(shape, work.settings.stack, device):
        ops += shape.moe_layers * shape.experts * _touched_experts(shape, sequences) * EXPERT_LOOP_FORWARD_OPS
    return ops * OP_SECONDS


def _decode_ops_per_layer(work: Work) -> float:
    """Operators one generated token dispatches per layer in transformers' eager generate: the
    forward's and each unmerged LoRA module's forward (TRL samples from the PEFT model as it is);
    a 4-bit weight without gradients is one fused gemm_4bit, not a dequantisation and a matmul
    (bitsandbytes autograd/_functions.py matmul_4bit); norms past a Llama layer's two (Gemma 2
    and 3's sandwich norms, Qwen3's and Gemma 3's on queries and keys) add theirs. A 7B LoRA's
    token costs ~1.6x the plain forward's."""
    shape = work.shape
    norms = shape.norms_per_layer + 2 * shape.qk_norm + shape.v_norm  # Gemma 3: 4 + q_norm, k_norm
    return FORWARD_OPS_PER_LAYER + RMSNORM_OPS * (norms - 2) + ADAPTER_FORWARD_OPS * _adapted_per_layer(work)


def link_gbs(device: Device, gpus: int, ring: bool = True) -> float:
    """What collectives reach per GPU, one direction: the GPU link within a node, the network
    beyond one. A ring collective (all-gather, reduce-scatter, all-reduce, broadcast) runs one NCCL
    channel per NIC, each leaving the node at its own port, so a GPU's share crosses the node's
    whole network (all its GPUs' ports), up to the GPU's own link; an all-to-all sends each GPU's
    data through its own port."""
    if gpus <= GPUS_PER_NODE:
        return device.link_gbs * LINK_EFFICIENCY
    network = device.network_gbs * (node_layout(gpus)[1] if ring else 1)
    return min(device.link_gbs, network) * LINK_EFFICIENCY


def _communication_seconds(work: Work, device: Device, accumulation: int, extra_forwards: int = 0) -> float:
    """Bytes each GPU sends per micro-step in ring collectives: (n-1)/n of the payload. A sharded
    base is gathered for every pass over it: the forward, the backward (with its recomputation:
    stage3_max_reuse_distance keeps the weights between them) and each extra forward (TRL
    shards a reference model under ZeRO-3 too: models/utils.py prepare_deepspeed)."""
    s, info = work.settings, MEMORY_MODELS[work.model]
    n = s.gpus
    if n == 1:
        return 0.0
    share = (n - 1) / n
    grad = 4.0 if info.frozen_base else weight_bytes(s.precision)
    grads = work.trainable * grad * share
    if hierarchical(s):
        # ZeRO++ hpZ: the forward's and backward's gathers come from the copy sharded over the
        # node, on its own links; the gradients' reduce-scatter still crosses the network.
        per_node = node_layout(n)[1]
        gathers = (2 + extra_forwards) * _stored_base_bytes(work) * (per_node - 1) / per_node
        return gathers / (device.link_gbs * LINK_EFFICIENCY * 1e9) + grads / (link_gbs(device, n) * 1e9)
    if s.sharding == "zero3" or s.offload == "params":
        gathers = (2 + extra_forwards) * _stored_base_bytes(work) * share
        payload = gathers + grads
    elif s.sharding == "zero2":
        payload = grads + work.trainable * weight_bytes(s.precision) * share / accumulation
    else:
        payload = 2 * grads / accumulation  # all-reduce once per optimizer step
    return payload / (link_gbs(device, n) * 1e9)


def _all_to_all_seconds(work: Work, device: Device, tokens: float) -> float:
    """Ulysses sequence parallelism: in every layer an all-to-all gives each GPU whole heads of
    the queries, keys and values over the full sequence, and another returns the attention
    output to its share of the sequence; in the forward, the recomputation and the backward. The
    attention waits for them: not overlapped."""
    s, shape = work.settings, work.shape
    split = s.sequence_parallel
    if split == 1:
        return 0.0
    # 16-bit q, k, v and the output of every layer (of each kind: Shape.attention_kinds)
    per_token = sum(2.0 * (2 * q + 2 * kv) * count for count, q, kv, _ in shape.attention_kinds)
    passes = 3 if s.gradient_checkpointing else 2
    payload = tokens * per_token * passes * (split - 1) / split
    return payload / (link_gbs(device, split, ring=False) * 1e9)


def _offload_seconds(work: Work, device: Device, accumulation: int) -> float:
    """CPU offload is not overlapped: the step waits for the host's Adam and for PCIe."""
    s, info = work.settings, MEMORY_MODELS[work.model]
    if s.offload == "none":
        # A paged optimizer's states that did not fit page in for its step and out again.
        return 2 * work.paged / (device.host_gbs * 1e9) / accumulation
    per_gpu = work.trainable / s.gpus
    grad = 4.0 if info.frozen_base else weight_bytes(s.precision)
    state = 4.0 if PRECISIONS[s.precision].master_copy or info.frozen_base else weight_bytes(s.precision)
    on_node = min(s.gpus, GPUS_PER_NODE)
    rate = max(HOST_ADAM_GBS_PER_PROCESS, HOST_ADAM_GBS_PER_NODE / on_node)
    adam = per_gpu * ADAM_ACCESSES * state / (rate * 1e9)
    transfers = per_gpu * (grad + weight_bytes(s.precision)) / (device.host_gbs * 1e9)
    seconds = (adam + transfers) / accumulation
    if s.offload == "params":
        seconds += 2 * _stored_base_bytes(work) / s.gpus / (device.host_gbs * 1e9)  # forward and backward
    return seconds


def server_sync_seconds(work: Work, device: Device) -> float:
    """Sending the trained model to a vLLM server once (TRL vllm_mode='server', before each
    round of sampling): every weight, a PEFT model's adapters merged first, in the dtype it trains
    in (fp32 where the optimizer keeps a master copy), from one training process to the server's
    workers: over the node's GPU link, or its one port past a node (no ring spreads it over the
    node's other ports: a diff review). TRL 1.11 and later
    stream them packed into NCCL broadcasts through vLLM's own weight transfer (VLLMClient
    update_named_params, huggingface/trl#6765), where earlier releases (axolotl's pinned 1.9) sent
    a tensor per HTTP request, slower for models of many tensors."""
    s, shape = work.settings, work.shape
    frozen = MEMORY_MODELS[work.model].frozen_base
    sent = shape.params * (4.0 if _master_copy(s) and not frozen else 2.0)
    return sent / (link_gbs(device, s.all_gpus, ring=False) * 1e9)


@lru_cache(maxsize=4096)
def decode_seconds(work: Work, device: Device, sequences: float, prompt: float, completion: float) -> float:
    """Sampling `sequences` completions of `completion` tokens after `prompt` tokens on one GPU:
    a prefill, then one step per generated token that reads every weight and the KV cache (decode
    is bound by memory bandwidth). vLLM (memory.estimate.served_by_vllm) runs CUDA graphs, where
    transformers' generate pays the eager operators; both read a 4-bit base and dequantise it.
    An engine split over `span` GPUs (vllm_tensor_parallel_size) decodes the prompts of all of
    them together, each GPU reading its part of the weights: 1/span of them per step (the
    tensor-parallel all-reduces between its GPUs are not counted)."""
    s, shape = work.settings, work.shape
    vllm = served_by_vllm(work.model, s)
    span = vllm_tensor_parallel(work.model, shape, s) if vllm else 1
    # vLLM reads 16-bit weights (or the dequantised 4-bit base) whatever the training precision;
    # generate reads the model as it trains, 32 bits in fp32 (generate_width).
    precision = "fp32" if not vllm and s.precision == "fp32" else "bf16"
    sampled = work._replace(settings=s._replace(precision=precision))
    weights = _read_weights_bytes(sampled, sequences * span) / span
    cache = kv_cache_bytes(shape, prompt + completion / 2, sequences, generate_width(precision))
    gpu = (weights + cache) / (device.bandwidth_gbs * 1e9 * DECODE_EFFICIENCY[vllm])
    cpu = 0.0 if vllm else _decode_dispatch_seconds(work, device, sequences)
    # An fp32 model runs on the CUDA cores, as it trains (micro_step), its experts' small matmuls
    # at the dense rate.
    fp32_tflops = device.fp32_tflops if precision == "fp32" else None
    if fp32_tflops is not None:
        sustained = fp32_tflops * 1e12 * STACK_EFFICIENCY[timed_stack(work)]
    else:
        sustained = device.tflops * 1e12 * efficiency(timed_stack(work), device)
    # vLLM routes tokens in its own fused MoE kernel (Llama 4's top-1 too), whatever loop or
    # every-token pass the trained model runs: timed at the grouped rate, the one measured here.
    if vllm:
        slowdown = grouped_experts_slowdown(shape) if shape.experts else 0.0
    else:
        slowdown = expert_slowdown(shape, s.stack, device, cuda_cores=fp32_tflops is not None)
    routed = 2 * routed_params(shape) * slowdown
    executed = inference_flops(shape, prompt) + routed
    prefill = sequences * prompt * executed / sustained
    return prefill + completion * max(gpu, cpu)
