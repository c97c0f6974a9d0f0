"""One estimate: every component on one GPU, the verdict against its usable memory, and what the
host needs. All sizes are bytes inside the estimator and GB (10^9 bytes) in an Estimate."""

from __future__ import annotations

import math

from atlas_cli.core.estimates import (
    Breakdown,
    Estimate,
    EstimateSettings,
    Fit,
    Host,
    billions,
    loads_quantized_shards,
    rounded_gb,
)
from atlas_cli.core.memory.activations import (
    FUSED_FP32_GRADIENT_BYTES,
    FUSED_HEAD_GRADIENT_BYTES,
    activation_bytes,
    eager_attention_bytes,
    kv_cache_bytes,
    logit_bytes,
    prefill_bytes_per_token,
    sliding_mask_bytes,
)
from atlas_cli.core.memory.parallel import (
    dequantized_bytes,
    loads_whole_base,
    place,
    resolved_sharding,
    zero2_step_bytes,
)
from atlas_cli.core.memory.params import PARTIAL_TRAINABLE_SHARE, ia3_params
from atlas_cli.core.memory.states import (
    MASTER_COPY_BYTES,
    ModelStates,
    adapter_bytes,
    adapter_optimizer_bytes,
    frozen_base_bytes,
    galore_precision,
    model_states,
    optimizer_bytes,
    quantized_bytes,
    weight_bytes,
)
from atlas_cli.core.nodes import node_layout
from atlas_cli.core.shapes import Shape
from atlas_cli.kb.catalog import Objective
from atlas_cli.kb.facts import FIT_VERDICTS
from atlas_cli.kb.vocabulary import FIT_MARGIN, GENERATION_BATCH, MEMORY_MODELS, OPTIMIZERS, PRECISIONS

GB = 1e9
GIB = 2**30
CUDA_CONTEXT_BYTES = 0.5 * GB  # CUDA context and cuBLAS workspace: ~0.3-0.8 GB in practice
ALLOCATOR_SLACK = 0.05  # PyTorch caching-allocator fragmentation on top of live tensors
AUTOCAST_COPY_BYTES = 2.0  # autocast's 16-bit copy of an fp32 weight (autocast_copies)
EXPERT_ADAPTER_MODELS = frozenset({"lora", "qlora"})  # LoRA on fused expert weights
# Online objectives read --seq-len as prompt + completion: a prompt of up to MAX_PROMPT tokens
# (TRL's former max_prompt_length default) and the rest for the completion. By default that is
# TRL GRPOConfig / RLOOConfig's max_completion_length of 512 after a 512-token prompt. A model
# that thinks before it answers gets 2,048 tokens of completion, the least a thought needs
# (rules.yaml reasoning-model-completions-cut): cut off before its answer, it earns no reward.
MAX_PROMPT = 512
ONLINE_SEQ_LEN = 1024
THINKING_ONLINE_SEQ_LEN = MAX_PROMPT + 2048
# MXFP4 (OCP microscaling): 4-bit values with one 8-bit scale per block of 32, 4.25 bits a weight.
MXFP4_BYTES = (4 + 8 / 32) / 8
# Fine-grained FP8 (DeepSeek-V3's weight_block_size 128 x 128): one byte a weight, one fp32 scale
# per block.
FP8_BYTES = 1 + 4 / (128 * 128)
VLLM_SHARE = 0.3  # TRL's vllm_gpu_memory_utilization for a colocated vLLM engine
VLLM_SERVER_SHARE = 0.9  # `trl vllm-serve`'s gpu_memory_utilization: the server's GPUs are its own
UNSLOTH_LOSS_FLOOR = 0.5e9  # the least Unsloth's chunked loss takes (small chunks, their gradient)
DORA_OUTPUT_BYTES = 4  # DoRA keeps each adapted layer's output (fp32) to rescale it
DROPOUT_MASK_BYTES = 1  # torch's native_dropout saves a bool mask for its backward
# One file of a sharded checkpoint: transformers 4's save_pretrained / push_to_hub write files of up
# to max_shard_size="5GB" (Llama 3.1 70B: 30 files of ~4.7 GB); older uploads used 10 GB.
CHECKPOINT_FILE_BYTES = 5 * GB


def default_seq_len(shape: Shape, context: int | None = None) -> int:
    """2048 tokens for LLMs; 512 for encoder models such as BERT (their position limit); never
    past the model's context (GPT-2 has 1,024 learned positions)."""
    usual = 512 if shape.architecture == "encoder" else 2048
    return min(usual, context) if context else usual


def completion_length(seq_len: int) -> int:
    """An online objective's completion budget within --seq-len (prompt + completion)."""
    return seq_len - min(MAX_PROMPT, seq_len // 2)


def default_checkpointing(shape: Shape) -> bool:
    """On for decoders, as TRL's configs ("gradient_checkpointing: Defaults to True instead of
    False") and LLaMA-Factory (disable_gradient_checkpointing: false) train them at every size;
    off for encoders and encoder-decoders, which transformers' own Trainer trains (default False)."""
    return shape.architecture == "decoder"


# Estimates remembered by what they are a function of: the batch-size search (fastest_batch)
# and the strategy search size the same settings again for every amount of data a sweep gives.
# Past this many entries the memo starts afresh, so memory stays flat whatever the input.
ESTIMATE_MEMO_LIMIT = 4096
_ESTIMATES: dict[tuple[str, str, Shape, EstimateSettings], Estimate] = {}


def estimate(method_id: str, model: str, shape: Shape, settings: EstimateSettings) -> Estimate:
    """Peak GPU memory of one training (or serving) setup, per GPU and in total (remembered: an
    Estimate is immutable and a function of these arguments alone)."""
    key = (method_id, model, shape, settings)
    found = _ESTIMATES.get(key)
    if found is None:
        if len(_ESTIMATES) >= ESTIMATE_MEMO_LIMIT:
            _ESTIMATES.clear()
        found = _ESTIMATES[key] = _estimate(method_id, model, shape, settings)
    return found


def _estimate(method_id: str, model: str, shape: Shape, settings: EstimateSettings) -> Estimate:
    if model == "inference":
        return _serving(method_id, shape, settings)
    # PEFT adapts fused expert weights (target_parameters) with plain LoRA only: its ParamWrapper
    # refuses use_dora, and AdaLoRA has no such path.
    if settings.classifier_head:
        shape = shape.without_lm_head()
    experts = settings.lora_experts and model in EXPERT_ADAPTER_MODELS and bool(shape.experts)
    s = settings._replace(sharding=resolved_sharding(settings, model), lora_experts=experts)
    states = model_states(model, shape, s)
    placed = place(states, shape, model, s)
    activations, logits, host_activations = _activations(model, shape, s)
    # ZeRO-3 without vLLM: TRL gathers the whole model onto every GPU to sample
    # (GRPOConfig.ds3_gather_for_generation, True by default), in place of the layers the
    # training pass gathers one at a time.
    training_peak = activations + logits
    gathered = 0.0
    if s.sharding == "zero3":  # the policy alone: reference and reward models stay sharded
        gathered = states.sampled * (1 if s.offload == "params" else 1 - 1 / s.gpus)
        training_peak += placed.buffers
    shared = _unsloth_shares_engine(model, s)
    apart = sampled_apart(model, s)
    colocated = served_by_vllm(model, s) and not apart and not shared and s.capacity_gb is not None
    vllm = vllm_share(model, shape, s) * (s.capacity_gb or 0.0) * GB if colocated else None
    # A vLLM server on GPUs of its own samples: the training GPUs hold no cache, no engine.
    generation = 0.0 if apart else _generation(shape, s, training_peak, gathered, vllm, shared)
    if (vllm is not None or apart) and MEMORY_MODELS[model].frozen_base:
        # TRL syncs a PEFT model to its vLLM engine under ZeRO-3 by gathering all of it at once
        # to merge the adapters ("we must gather the full model at once before merging",
        # trl/generation/vllm_generation.py sync_weights), beside vLLM's reserved share.
        generation += max(0.0, gathered - training_peak)
    buffers = placed.buffers + generation + _hierarchical_copy_bytes(placed.weights, s)
    buffers += autocast_copies(model, shape, states.trainable, s)
    rest = placed.weights + placed.gradients + placed.optimizer + activations + buffers
    if s.stack == "unsloth" and s.capacity_gb is not None:
        logits = _unsloth_loss(logits, rest, s.capacity_gb * GB)
    # ZeRO-2's optimizer step holds an fp32 copy of the gradients once the activations are gone,
    # torch's foreach AdamW a copy of one moment: a moment of its own, beside the training pass
    # and the sampling before it (a colocated vLLM engine's memory stays reserved through both).
    passing = activations + logits + (0.0 if vllm is not None else generation)
    stepping = zero2_step_bytes(states.trainable, s) + foreach_step_bytes(model, placed.optimizer, s)
    buffers += max(0.0, stepping - passing)
    if loads_whole_base(model, s):
        # Loading is the peak where the whole quantized base exceeds the training pass.
        buffers += max(0.0, frozen_base_bytes(model, shape, s) - (rest + logits))
    beside_optimizer = placed.weights + placed.gradients + activations + logits + buffers
    optimizer, paged_out = _paged(placed.optimizer, beside_optimizer, s, MEMORY_MODELS[model].frozen_base)
    parts = (placed.weights, placed.gradients, optimizer, activations, logits, buffers)
    host = _host(model, shape, s, states, placed.host + host_activations, paged_out)
    found = _finish(method_id, model, shape, s, states.trainable, parts, ALLOCATOR_SLACK, host)
    if apart and found.fit is not None:  # the server's GPUs must start vLLM as well
        found = found._replace(fit=worse_fit(found.fit, vllm_server_fit(model, shape, s)))
    return found


def foreach_step_bytes(model: str, optimizer_on_gpu: float, s: EstimateSettings) -> float:
    """torch.optim's foreach AdamW step builds the square root of every second moment at once
    (_multi_tensor_adam: torch._foreach_sqrt(exp_avg_sqs)): one of the GPU's two moments again,
    in their dtype, not the fp32 master copy that mixed precision adds to them. ms-swift's
    Qwen2.5-7B full fine-tuning on one GPU (bf16 weights, batch 1, transformers' adamw_torch of
    its day) reserved 76 GiB, 81.6 GB: 68.5 GB without this copy at 1,024 tokens, 80.5 GB with it
    (examples/train/full/train.sh, a review)."""
    if not OPTIMIZERS[s.optimizer].foreach or s.optimizer_in_backward:
        # Stepped in the backward, each weight's optimizer holds one weight's temporaries.
        return 0.0
    if MEMORY_MODELS[model].frozen_base:  # adapters: moments alone
        return optimizer_on_gpu / 2
    total = optimizer_bytes(s.optimizer, s.precision)
    master = MASTER_COPY_BYTES if PRECISIONS[s.precision].master_copy else 0.0
    return optimizer_on_gpu * (total - master) / total / 2


def hierarchical(s: EstimateSettings) -> bool:
    """ZeRO++ hierarchical partitioning applies: asked for, under ZeRO-3, across nodes."""
    return s.hierarchical and s.sharding == "zero3" and node_layout(s.gpus)[0] > 1


def may_partition_within_nodes(model: str, s: EstimateSettings) -> bool:
    """ZeRO-3 across nodes of equal size (the secondary partition must divide the GPUs), where
    ZeRO++ hierarchical partitioning is written and sized: not with parameters or optimizer
    states in CPU RAM (memory is short there already, and the copy lives on the GPU), beside
    sequence parallelism (whose groups of GPUs nothing here sizes with it), or for a 4-bit base,
    whose packed weights' second copy nothing public was found to run."""
    nodes, per_node = node_layout(s.gpus)
    return (
        s.sharding == "zero3"
        and nodes > 1
        and nodes * per_node == s.gpus
        and s.offload == "none"
        and s.sequence_parallel == 1
        and not MEMORY_MODELS[model].quantized_base
    )


def _hierarchical_copy_bytes(sharded_weights: float, s: EstimateSettings) -> float:
    """ZeRO++'s secondary partition: the weights ZeRO-3 shards over all GPUs, sharded again over
    the node's only (DeepSpeed partition_parameters.py, ds_secondary_tensor; arXiv 2306.10209,
    hpZ), held beside the primary shard for the whole run."""
    if not hierarchical(s):
        return 0.0
    return sharded_weights * s.gpus / node_layout(s.gpus)[1]


def _paged(optimizer: float, rest: float, s: EstimateSettings, adapter: bool) -> tuple[float, float]:
    """(optimizer memory on the GPU, states paged out to CPU RAM). A paged optimizer's states are
    CUDA unified memory (bitsandbytes functional.get_paged: cudaMallocManaged): the driver pages
    out what does not fit beside the rest, within the safety margin, instead of running out of
    memory; the time model moves those pages over PCIe at every optimizer step. Only the states
    page: an fp32 master copy is ordinary memory, and so is everything when the rest alone does
    not fit (the plan then does not fit, paged or not)."""
    if not OPTIMIZERS[s.optimizer].paged or s.capacity_gb is None or optimizer <= 0:
        return optimizer, 0.0
    total = optimizer_bytes(s.optimizer, s.precision, adapter)
    master = 0.0 if adapter or not PRECISIONS[s.precision].master_copy else MASTER_COPY_BYTES
    fixed = optimizer * master / total
    # 10 MB under the margin: the reported figure is rounded to it.
    room = _room(s.capacity_gb * GB, rest + fixed) - 0.01 * GB
    if room <= 0:
        return optimizer, 0.0
    resident = min(optimizer - fixed, room)
    return fixed + resident, optimizer - fixed - resident


def _room(capacity: float, rest: float) -> float:
    """Live bytes that fit beside `rest` within the safety margin, once the CUDA context and the
    allocator's slack are counted."""
    return (FIT_MARGIN * capacity - CUDA_CONTEXT_BYTES) / (1 + ALLOCATOR_SLACK) - rest


def fp32_trained_weights(model: str, s: EstimateSettings) -> bool:
    """Whether the trained weights sit in fp32 on the GPU: mixed precision without ZeRO or FSDP,
    which cast the weights themselves. The Python recipes load full fine-tuning in fp32 and upcast
    partial fine-tuning's trained layers; LLaMA-Factory does both (cast_trainable_params_to_fp32)."""
    mixed = PRECISIONS[s.precision].master_copy
    # GaLore keeps bf16 weights where the GPU has bf16 (states.galore_precision): nothing for
    # autocast to copy; under fp16 they are fp32, as for full fine-tuning.
    galore_in_bf16 = model == "galore" and galore_precision(s) != "fp32"
    return mixed and s.sharding == "ddp" and not MEMORY_MODELS[model].frozen_base and not galore_in_bf16


def fused_loss(s: EstimateSettings) -> bool:
    """Whether the stack computes this objective's loss without the whole logits: TRL's fused LM
    head where its trainer has one, Liger's fused cross-entropy for the next-token loss only."""
    training = s.objective.training
    if s.stack == "liger":
        return training.liger_fuses_loss
    return training.fused_logits


def fused_head(s: EstimateSettings) -> bool:
    """TRL's fused LM head runs the loss (the trl stack, for an objective whose trainer has it)."""
    return s.stack == "trl" and s.objective.training.fused_logits


def autocast_copies(model: str, shape: Shape, trainable: float, s: EstimateSettings) -> float:
    """Autocast keeps the 16-bit copy of each fp32 weight a linear layer or matmul casts until the
    forward ends (torch.amp's weight cache; not the embedding lookup, nor the LM head TRL's fused
    head reads in slices), while the gradients of the micro-steps before it are held: with gradient
    accumulation (micro-batch x GPUs under the usual 16 sequences per step, nearly always) that
    forward is the peak, 2 bytes per cast weight above the backward's states; counted always, so
    that memory never falls as the micro-batch grows."""
    if not fp32_trained_weights(model, s):
        return 0.0
    subset = MEMORY_MODELS[model].subset  # trained layers, not the embeddings
    cast = trainable if subset else max(0.0, trainable - shape.embedding_params)
    if not subset and shape.architecture != "encoder" and not fused_head(s):
        cast += shape.vocab * shape.hidden  # the LM head's linear
    return cast * AUTOCAST_COPY_BYTES


def _head_gradient_bytes(model: str, s: EstimateSettings) -> float:
    """Per LM-head weight, the gradient TRL's fused head builds in fp32 and casts to the weight's
    dtype (a no-op for fp32 weights); 0 when the head is frozen."""
    info = MEMORY_MODELS[model]
    if info.frozen_base or info.subset:
        return 0.0
    return FUSED_FP32_GRADIENT_BYTES if fp32_trained_weights(model, s) else FUSED_HEAD_GRADIENT_BYTES


def sampled_at_once(s: EstimateSettings) -> int:
    """Completions one GPU samples at once: its share of the generation batch."""
    return generation_per_gpu(s.objective, s.replicas, s.batch_size)


def generation_per_gpu(objective: Objective, replicas: int, batch: int = 1) -> int:
    """Completions each data-parallel replica samples in one generation round: its share of
    --generation-batch (GENERATION_BATCH each without it), rounded up to what TRL accepts
    (GRPOConfig.__post_init__): a whole number of micro-batches (`batch` per device x
    steps_per_generation), and whole groups of num_generations over all replicas."""
    given = objective.generation_batch
    share = GENERATION_BATCH if given is None else -(-given // replicas)
    least = least_generation_per_gpu(objective, replicas, batch)
    step = generation_step(objective, replicas, batch)
    return step * -(-max(share, least) // step)


def generation_step(objective: Objective, replicas: int, batch: int) -> int:
    """What a replica's generation round grows by: a whole micro-batch that keeps whole groups
    over all replicas (a multiple of `batch` whose `replicas` copies num_generations divides)."""
    group = max(1, objective.samples_per_prompt)
    return math.lcm(batch, group // math.gcd(group, replicas))


def least_generation_per_gpu(objective: Objective, replicas: int, batch: int) -> int:
    """The fewest completions a replica samples in a round: its part of one prompt's group, in
    whole micro-batches."""
    group = max(1, objective.samples_per_prompt)
    part = -(-group // replicas)
    return batch * -(-part // batch)


def offloads_activations(s: EstimateSettings) -> bool:
    """The checkpoints wait in CPU RAM: asked for (--activation-offloading), under gradient
    checkpointing, by a trainer that offers it (the objective's training.activation_offloading);
    Unsloth offloads its own and mlx-lm has no such switch."""
    offered = s.objective.training.activation_offloading and s.stack not in ("unsloth", "mlx")
    return s.activation_offloading and s.gradient_checkpointing and offered


def served_by_vllm(model: str, s: EstimateSettings) -> bool:
    """A colocated vLLM engine samples this stage: asked for (--vllm), an objective TRL samples
    with vLLM, and a base vLLM can load: TRL refuses an 8-bit bitsandbytes one ("vLLM does not
    support in-flight 8-bit quantization", trl/generation/vllm_generation.py)."""
    info = MEMORY_MODELS[model]
    if not s.vllm or not s.objective.training.vllm or info.family == "none":  # nothing trains
        return False
    return not (info.quantized_base and s.quant_bits == 8)


def may_precompute_reference(model: str, s: EstimateSettings) -> bool:
    """Whether this stage may drop its reference copy for log-probabilities computed before
    training (TRL 1.2+: precompute_ref_log_probs=True and no ref_model, huggingface/trl#5542): an
    objective whose card says its trainer can (DPO, KTO: training.reference_precomputable) on a
    base that trains (a frozen base is its own reference), as TRL runs it in the Python recipes
    (stack trl: axolotl and LLaMA-Factory, sized with `hf`, load the copy whatever they are told;
    TRL refuses it beside use_liger_kernel)."""
    return (
        s.objective.training.reference_precomputable
        and not MEMORY_MODELS[model].frozen_base
        and s.stack == "trl"
        and not s.reference_precomputed
    )


def sampled_apart(model: str, s: EstimateSettings) -> bool:
    """A vLLM server on GPUs of its own samples this stage (TRL vllm_mode='server')."""
    return s.samples_apart and served_by_vllm(model, s)


def vllm_server_gb(model: str, shape: Shape, s: EstimateSettings) -> float:
    """What each GPU of a vLLM server holds to start (`trl vllm-serve`): its part of the 16-bit
    weights and of one longest sequence's cache (_vllm_start_need), and a CUDA context; vLLM then
    reserves the rest of its gpu_memory_utilization for more of the cache."""
    return rounded_gb(_vllm_start_need(model, shape, s) / s.vllm_server_gpus + CUDA_CONTEXT_BYTES)


def vllm_server_fit(model: str, shape: Shape, s: EstimateSettings) -> Fit | None:
    """Whether a vLLM server starts on its GPUs: vLLM refuses to past its gpu_memory_utilization
    of each GPU, so that share is the server's capacity; within the margin of it, the rest is
    left for what vLLM measures as it starts (its activation peak, 2.38 GiB on an 80 GB GPU in a
    published log: kubernetes-sigs/gateway-api-inference-extension#550; CUDA graphs) and for
    more of the cache."""
    if s.capacity_gb is None:
        return None
    return verdict(vllm_server_gb(model, shape, s), VLLM_SERVER_SHARE * s.capacity_gb)


def _vllm_weight_bytes(model: str, shape: Shape, s: EstimateSettings) -> float:
    """The weights vLLM loads: 16-bit, or a 4-bit base's linear layers quantized by vLLM's
    bitsandbytes loader (TRL passes quantization="bitsandbytes" for a Linear4bit model). A
    server loads the checkpoint named on its command line, in 16 bits."""
    if not MEMORY_MODELS[model].quantized_base or s.samples_apart:
        return shape.sixteen_bit_bytes
    return shape.linear_params * quantized_bytes(s.quant_bits) + (shape.params - shape.linear_params) * 2.0


def _unsloth_loss(chunked: float, rest: float, capacity: float) -> float:
    """Unsloth sizes its cross-entropy chunks to the memory left when the loss first runs (half of
    it, at most 4 GiB: unsloth-zoo fused_losses/cross_entropy_loss.py _get_chunk_multiplier), so
    on a nearly full GPU the loss shrinks to what is free instead of failing: charged the usual
    chunk where there is room, else half of what the safety margin leaves (a loss that sizes
    itself to the free memory cannot be what runs a plan out of it), never under a floor of small
    chunks. (The Unsloth README fits Llama-3.1-8B QLoRA r32 at 21,848 tokens in 12 GB: 12.3 GB
    here, tight; Unsloth fits Gemma 3 27B QLoRA in under 22 GB, unsloth.ai/blog/gemma3.)"""
    return min(chunked, max(UNSLOTH_LOSS_FLOOR, _room(capacity, rest) / 2))


def _sequences(s: EstimateSettings) -> int:
    """Sequences in one forward/backward pass on one GPU: a pair's chosen and rejected are two."""
    return s.batch_size * (2 if s.objective.training.paired else 1)


def _tokens(model: str, s: EstimateSettings) -> float:
    """Tokens in one forward/backward pass on one GPU: its share of a sequence split over
    `sequence_parallel` GPUs."""
    length = s.seq_len + (s.virtual_tokens if MEMORY_MODELS[model].prepends_tokens else 0)
    return length * _sequences(s) / s.sequence_parallel


def _activations(model: str, shape: Shape, s: EstimateSettings) -> tuple[float, float, float]:
    """(activations on the GPU, logits, activations offloaded to the host)."""
    tokens = _tokens(model, s)
    # Backward stops at the lowest trained layer: partial FT keeps only the top layers'.
    layers = shape.layers * (PARTIAL_TRAINABLE_SHARE if model == "partial" else 1)
    width = weight_bytes(s.precision)
    checkpointing, offloaded = s.gradient_checkpointing, offloads_activations(s)
    gpu, host = activation_bytes(
        shape, tokens, layers, checkpointing, s.stack, width, s.seq_len, offloaded, s.tiled_mlp
    )
    sequences = _sequences(s)
    gpu += eager_attention_bytes(shape, tokens / sequences, sequences, layers, checkpointing, s)
    gpu += sliding_mask_bytes(shape, tokens / sequences, sequences, layers, s)
    if model == "dora":
        # Kept inside each decoder layer: under checkpointing only the recomputed layer holds them.
        adapted = sum(m.d_out * m.count for m in shape.targets(s.lora_targets, s.lora_experts))
        kept = adapted / shape.layers if s.gradient_checkpointing else adapted
        gpu += kept * tokens * DORA_OUTPUT_BYTES
    elif model == "ia3":
        # Each rescaling saves what it multiplies for its vector's gradient: the keys' and values'
        # outputs, the feed-forward's input (peft tuners/ia3/layer.py: result * ia3_l, x * ia3_l),
        # one element per trained scale, in the compute dtype (PEFT's MetaMathQA IA3 run on
        # Llama-3.2-3B: 2.4 GB above the estimate without them).
        per_layer = ia3_params(shape) / shape.layers
        gpu += per_layer * (1 if s.gradient_checkpointing else shape.layers) * tokens * width
    gpu += _merged_experts_bytes(model, shape, s) + _lora_dropout_bytes(model, shape, s, tokens, width)
    if s.objective.training.scalar_head or s.classifier_head:
        return gpu, 0.0, host  # no vocabulary logits
    fused, head = fused_loss(s), _head_gradient_bytes(model, s)
    if s.objective.online:
        completion = completion_length(s.seq_len) * s.batch_size
        return (
            gpu,
            logit_bytes(shape, completion, s.stack, rollout=True, head_gradient=head, fused=fused),
            host,
        )
    return gpu, logit_bytes(shape, tokens, s.stack, head_gradient=head, fused=fused), host


def _lora_dropout_bytes(model: str, shape: Shape, s: EstimateSettings, tokens: float, width: float) -> float:
    """LoRA with dropout runs lora_B(lora_A(dropout(x))) (peft tuners/lora/layer.py): each adapted
    layer saves its own dropped copy of its input for lora_A's gradient and dropout's mask (one
    byte an element) for its backward; at lora_dropout 0 the dropout is nn.Identity and lora_A
    saves the input the layer holds anyway. Kept inside each decoder layer: under checkpointing
    only the recomputed layer holds them. PEFT refuses dropout on routed experts (ParamWrapper),
    so only the linear layers count."""
    if not s.lora_dropout or not MEMORY_MODELS[model].low_rank:
        return 0.0
    inputs = sum(m.d_in * m.count for m in shape.targets(s.lora_targets))
    kept = inputs / shape.layers if s.gradient_checkpointing else inputs
    return kept * tokens * (width + DROPOUT_MASK_BYTES)


def _merged_experts_bytes(model: str, shape: Shape, s: EstimateSettings) -> float:
    """LoRA on routed experts (PEFT target_parameters) runs each fused expert weight through a
    parametrization, W + B @ A: the sum, a 16-bit copy of every expert weight of a layer, is saved
    for backward (in every MoE layer, or under checkpointing only the one recomputed), and
    backward holds its gradient, as large, once. Unsloth's Split LoRA multiplies X @ W and
    (X @ A) @ B apart and never forms the sum (unsloth.ai/docs/new/faster-moe: ~35 % less memory
    than transformers 5's grouped GEMM)."""
    if not s.lora_experts or s.stack == "unsloth":
        return 0.0
    per_layer = shape.expert_params / shape.moe_layers * weight_bytes(s.precision)
    return per_layer * ((1 if s.gradient_checkpointing else shape.moe_layers) + 1)


def vllm_share(model: str, shape: Shape, s: EstimateSettings) -> float:
    """The share of each GPU a colocated vLLM engine is given (vllm_gpu_memory_utilization): TRL's
    0.3, or more, in hundredths, when its part of the weights and of a prompt's group's cache
    needs it (more than what starts it, _vllm_start_need: room for vLLM's own profiling run,
    sampler and graphs, which nothing here sizes); a server's GPUs are its own (`trl
    vllm-serve`'s 0.9, whose last 10 % holds those)."""
    if s.samples_apart:
        return VLLM_SERVER_SHARE
    need = _vllm_need(model, shape, s)
    part = need / _vllm_span(need, shape, s)
    return max(VLLM_SHARE, -(-100 * part // ((s.capacity_gb or 1.0) * GB)) / 100)


def vllm_waves(model: str, shape: Shape, s: EstimateSettings, sequences: float, tokens: float) -> int:
    """How many waves a colocated vLLM engine decodes `sequences` completions (per GPU) of
    `tokens` tokens in: as many at once as its KV cache holds, the room its share of each GPU
    leaves beside its part of the weights (vLLM's scheduler admits sequences while cache blocks
    are free); 70B GRPO on 8 H100s decodes its 16 completions a GPU in 3 waves at 4k tokens."""
    span = vllm_tensor_parallel(model, shape, s)
    room = (
        vllm_share(model, shape, s) * (s.capacity_gb or 0.0) * GB - _vllm_weight_bytes(model, shape, s) / span
    )
    need = sequences * kv_cache_bytes(shape, tokens, 1)  # each sequence's cache split over the span
    return max(1, math.ceil(need / room)) if room > 0 else 1


def vllm_tensor_parallel(model: str, shape: Shape, s: EstimateSettings) -> int:
    """GPUs one colocated vLLM engine spans (TRL's vllm_tensor_parallel_size): 1 when one GPU's
    0.3 holds its weights and a prompt's group (_vllm_need); else the fewest, in powers of two within a node
    that split the attention heads evenly, whose shares do (or the most that qualify). A server
    spans its GPUs (`trl vllm-serve --tensor-parallel-size`)."""
    if s.samples_apart:
        return s.vllm_server_gpus
    return _vllm_span(_vllm_need(model, shape, s), shape, s)


def _vllm_span(need: float, shape: Shape, s: EstimateSettings) -> int:
    room = VLLM_SHARE * (s.capacity_gb or 0.0) * GB
    per_node, split = node_layout(s.gpus)[1], 1
    while need / split > room and per_node % (2 * split) == 0 and shape.splits_heads(2 * split):
        split *= 2
    return split


def _vllm_need(model: str, shape: Shape, s: EstimateSettings) -> float:
    """What a vLLM engine holds to decode a prompt's group of completions at once: its weights and
    the group's cache. The engine is split over as many GPUs as that takes within TRL's 0.3
    (vllm_tensor_parallel): fewer waves, each GPU reading part of the weights."""
    return _vllm_weight_bytes(model, shape, s) + _sampling_cache(shape, s, paged=True)


def _vllm_start_need(model: str, shape: Shape, s: EstimateSettings) -> float:
    """What a vLLM engine must hold to start at all: its weights and the cache of one sequence of
    the longest length it serves (vLLM's check_enough_kv_cache_memory: "to serve at least one
    request with the model's max seq len"); a group its cache cannot hold decodes in waves
    (vllm_waves). What a server needs within its 90 % (a 32B serves from one H100 at 8k: an
    expert's review, where the whole group had asked for two)."""
    return _vllm_weight_bytes(model, shape, s) + kv_cache_bytes(shape, s.seq_len, 1)


def _unsloth_shares_engine(model: str, s: EstimateSettings) -> bool:
    """Unsloth's vLLM serves the frozen base being trained (fast_inference), in standby while it
    trains (docs.unsloth.ai, Memory Efficient RL); not with full fine-tuning."""
    return s.stack == "unsloth" and MEMORY_MODELS[model].frozen_base


def generate_width(precision: str) -> float:
    """Bytes per weight and cached value transformers' generate reads: the model's own dtype, 32
    bits when it trains in fp32 (a T4 training gpt-oss or Gemma 3: Unsloth's gpt-oss GRPO there
    samples in float32), else 16 (vLLM serves 16 bits whatever the training precision)."""
    return 4.0 if precision == "fp32" else 2.0


def _sampling_cache(shape: Shape, s: EstimateSettings, paged: bool) -> float:
    """The KV cache sampling needs, prompts and completions: transformers' generate holds every
    completion it samples at once; vLLM pages its cache and needs one prompt's group at a time
    (room for more only samples more at once)."""
    if paged:
        return kv_cache_bytes(shape, s.seq_len, s.objective.samples_per_prompt)
    return kv_cache_bytes(shape, s.seq_len, sampled_at_once(s), generate_width(s.precision))


def _generation(
    shape: Shape, s: EstimateSettings, training_peak: float, gathered: float, vllm: float | None, shared: bool
) -> float:
    """Sampling's memory beyond the training pass: the KV cache of the completions sampled at once
    and, under ZeRO-3, the rest of the model gathered to sample (both freed before training, so
    only what exceeds the training peak); or what a colocated vLLM engine holds (`vllm`, bytes).
    Unsloth's vLLM serves the frozen base being trained (its fast_inference; not with full
    fine-tuning) and, in standby, frees its KV cache while training (docs.unsloth.ai, Memory
    Efficient RL): `shared`, only its paged cache beyond the training peak counts (the caller
    passes no `vllm`)."""
    if not s.objective.online:
        return 0.0
    if vllm is not None:
        return vllm
    return max(0.0, _sampling_cache(shape, s, paged=shared) + gathered - training_peak)


def _host(
    model: str, shape: Shape, s: EstimateSettings, states: ModelStates, offloaded: float, paged: float
) -> Host:
    """CPU RAM and disk around the run, in GB."""
    sixteen_bit = shape.sixteen_bit_bytes
    adapter = MEMORY_MODELS[model].frozen_base
    if adapter:
        checkpoint = states.trainable * adapter_bytes(model, s)  # PEFT saves the adapter as it is
        resumable = checkpoint + states.trainable * adapter_optimizer_bytes(model, s)
    else:
        checkpoint = sixteen_bit
        resumable = checkpoint + states.trainable * optimizer_bytes(s.optimizer, s.precision)
    # A checkpoint stored quantized and trained in 16 bit loads without zero.Init under ZeRO-3:
    # every process on the node dequantizes its own copy in CPU RAM (an expert's review).
    copies = node_layout(s.gpus)[1] if shape.prequantized and s.sharding == "zero3" else 1
    sharded = loads_quantized_shards(model, s)
    load = shard_by_shard_load_bytes(model, shape, s) if sharded else sixteen_bit * copies
    return {
        "offload_gb": rounded_gb(offloaded),
        "paged_gb": rounded_gb(paged),
        "load_gb": rounded_gb(load),
        "merge_gb": rounded_gb(sixteen_bit if adapter else 0.0),
        "checkpoint_gb": rounded_gb(checkpoint),
        "checkpoint_with_optimizer_gb": rounded_gb(resumable),
    }


def shard_by_shard_load_bytes(model: str, shape: Shape, s: EstimateSettings) -> float:
    """CPU RAM a node needs to load a QLoRA base shard by shard (axolotl's load_sharded_model_quant,
    after Answer.AI's train.py): every process reads one checkpoint file whole
    (safetensors.torch.load_file) and quantizes it on its GPU; the first process keeps the
    quantized base in CPU RAM until FSDP shards it out (sync_module_states), the others keep
    none. Answer.AI's README: "roughly 55GB of CPU RAM" for Llama-2-70B on two GPUs, whose files
    are ~10 GB (ft-atlas: 46.4 GB at CHECKPOINT_FILE_BYTES)."""
    files = node_layout(s.gpus)[1] * min(CHECKPOINT_FILE_BYTES, shape.sixteen_bit_bytes)
    return frozen_base_bytes(model, shape, s) + files


def _serving(method_id: str, shape: Shape, s: EstimateSettings) -> Estimate:
    """Serving the model for RAG / ICL with transformers, split across GPUs: its weights
    (served_weight_bytes) and the KV cache of the prompt, shared out; the prefill's activations,
    at 4 bits the largest weight dequantized for its matmul, and the allocator's slack. The
    estimate says the prompt's length as its seq_len (what the recipe's CONTEXT_TOKENS
    fills).

    Measured (HF blog "Optimizing your LLM in production", bigcode/octocoder, 15.5B,
    torch.cuda.max_memory_allocated at a short prompt): 29.0 GiB in bf16, 15.2 GiB in 8 bits,
    9.5 GiB in 4 bits: the weights and little else, so the slack is the training allocator's 5 %,
    not EleutherAI's rule of thumb of 1.2 x the weights, which already covers the KV cache and
    activations this estimate counts."""
    # accelerate's device_map spreads a model over one machine's GPUs, not across nodes.
    s = s._replace(seq_len=s.prompt_len, gpus=node_layout(s.gpus)[1])
    tokens = float(s.seq_len * s.batch_size)
    # 4-bit weights are dequantized one at a time, in the compute dtype, on the GPU running that
    # layer; LLM.int8 multiplies in int8.
    width = weight_bytes(s.precision) / 2
    # A checkpoint stored quantized runs its own kernels (AWQ/GPTQ's, MXFP4's), reading it as stored.
    bitsandbytes = s.serving_bits == 4 and not shape.stored
    dequantized = dequantized_bytes(shape) * width if bitsandbytes else 0.0
    weights = served_weight_bytes(shape, s) / s.gpus + dequantized
    # Split over GPUs by layers (accelerate's device_map, what the recipe loads with) or by heads
    # (tensor parallelism), each GPU caches its share of the keys and values; a layer's prefill
    # temporaries are whole on the GPU that runs it.
    cache = kv_cache_bytes(shape, s.seq_len, s.batch_size) / s.gpus + prefill_bytes_per_token(shape) * tokens
    # A family without an SDPA kernel, where the recipe loads none either (Apple's MPS), prefills
    # eagerly: one layer's s x s scores and probabilities at a time.
    cache += eager_attention_bytes(shape, s.seq_len, s.batch_size, shape.layers, True, s, training=False)
    host: Host = {
        "offload_gb": 0.0,
        "paged_gb": 0.0,
        "load_gb": rounded_gb(shape.sixteen_bit_bytes),
        "merge_gb": 0.0,
        "checkpoint_gb": 0.0,
        "checkpoint_with_optimizer_gb": 0.0,
    }
    return _finish(
        method_id, "inference", shape, s, 0.0, (weights, 0.0, 0.0, cache, 0.0, 0.0), ALLOCATOR_SLACK, host
    )


def served_weight_bytes(shape: Shape, s: EstimateSettings) -> float:
    """The weights a no-training plan serves: in the precision's width, or (serving_bits 8 or 4)
    as transformers' BitsAndBytesConfig loads them: nn.Linear layers in LLM.int8 or NF4 with
    double quantization, the rest (embeddings, LM head, norms, and routed experts fused into 3-D
    tensors, which bitsandbytes does not convert) in the precision's width (the recipe's dtype);
    a checkpoint stored quantized is served as stored (gpt-oss's routed experts in MXFP4, an FP8
    one's linear layers in FP8). A
    vision-language model's vision tower loads with it (the text-generation pipeline loads the
    whole checkpoint), counted unquantized: an upper bound."""
    width = weight_bytes(s.precision)
    tower = shape.tower_params * width
    if s.serving_bits == 16:
        return shape.params * width + tower
    if shape.stored == "mxfp4":  # gpt-oss as stored: its routed experts in MXFP4, the rest in 16 bit
        return shape.expert_params * MXFP4_BYTES + (shape.params - shape.expert_params) * width + tower
    if shape.stored == "fp8":  # as stored: every linear layer in FP8 (experts too), the rest in 16 bit
        return shape.linear_params * FP8_BYTES + (shape.params - shape.linear_params) * width + tower
    quantized = shape.linear_params - shape.expert_params
    return quantized * quantized_bytes(s.serving_bits) + (shape.params - quantized) * width + tower


def verdict(per_gpu_gb: float, capacity_gb: float | None) -> Fit | None:
    """yes within the safety margin, tight within capacity, no beyond it."""
    if capacity_gb is None:
        return None
    if per_gpu_gb <= FIT_MARGIN * capacity_gb:
        return "yes"
    return "tight" if per_gpu_gb <= capacity_gb else "no"


def worse_fit(first: Fit, second: Fit | None) -> Fit:
    """The verdict of a run on two kinds of GPU: the worse of theirs."""
    return first if second is None or FIT_VERDICTS.index(first) >= FIT_VERDICTS.index(second) else second


def _finish(
    method_id: str,
    model: str,
    shape: Shape,
    s: EstimateSettings,
    trainable: float,
    parts: tuple[float, float, float, float, float, float],
    slack: float,
    host: Host,
) -> Estimate:
    weights, gradients, optimizer, activations, logits, buffers = parts
    live = sum(parts)
    # Without a GPU the same half gigabyte is the process's own: importing torch (CPU build),
    # transformers, peft, trl and datasets took 0.44 GB of RSS (measured here, torch 2.13).
    overhead = CUDA_CONTEXT_BYTES + slack * live
    per_gpu = rounded_gb(live + overhead)
    breakdown: Breakdown = {
        "weights_gb": rounded_gb(weights),
        "gradients_gb": rounded_gb(gradients),
        "optimizer_gb": rounded_gb(optimizer),
        "activations_gb": rounded_gb(activations),
        "logits_gb": rounded_gb(logits),
        "buffers_gb": rounded_gb(buffers),
        "overhead_gb": rounded_gb(overhead),
    }
    return Estimate(
        method=method_id,
        memory_model=model,
        objective=s.objective.id if model != "inference" else None,
        model_params_b=billions(shape.params),
        trainable_params_b=round(trainable / 1e9, 6),
        total_gb=round(per_gpu * s.gpus, 2),
        per_gpu_gb=per_gpu,
        breakdown=breakdown,
        host=host,
        settings=s,
        capacity_gb=s.capacity_gb,
        fit=verdict(per_gpu, s.capacity_gb),
        shape=shape,
    )


def gib_to_gb(gib: float) -> float:
    """Vendors' GPU "GB" are binary: 24 GiB = 25.77 GB (10^9 bytes)."""
    return round(gib * GIB / GB, 2)
