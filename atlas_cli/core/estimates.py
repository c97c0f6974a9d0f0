"""The memory estimator's inputs and outputs. Plain frozen dataclasses: batch mode builds many."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (`ft-atlas schema`)

from atlas_cli.core.nodes import node_layout
from atlas_cli.i18n import t

if TYPE_CHECKING:
    from atlas_cli.core.shapes import Shape
    from atlas_cli.kb.catalog import Objective

Fit = Literal["yes", "tight", "no"]
KbitPreparation = Literal["upcast", "recast", "none"]  # EstimateSettings.kbit_preparation

# A few-shot or retrieval prompt (no-training plans): served and written at 8,192 tokens at least
# (resolve.served_seq_len), room for a few dozen short examples or several passages; at 2,048 the
# few-shot script held three 512-token examples (an expert's review).
PROMPT_CONTEXT = 8192


def billions(count: float) -> float:
    """A parameter count in billions, to the thousandth (70.554), or to three significant digits
    below 100 million, so that a 3.3M model reads 0.0033 (not 0.003, a size ft-atlas refuses) and
    a test model of 8,100 parameters 8.1e-06, not 0."""
    if count >= 1e8 or count <= 0:
        return round(count / 1e9, 3)
    return float(f"{count / 1e9:.3g}")


def rounded_gb(value: float) -> float:
    """Bytes in GB (10^9), to the hundredth the estimates report."""
    return round(value / 1e9, 2)


class EstimateSettings(NamedTuple):
    objective: Objective  # the stage sized (Catalog.objectives; SERVING for no-training methods)
    seq_len: int  # the longest sequence training truncates or packs to: memory is sized for it
    batch_size: int  # micro-batch per GPU
    precision: str  # a key of kb.vocabulary.PRECISIONS
    optimizer: str  # a key of kb.vocabulary.OPTIMIZERS
    gradient_checkpointing: bool
    lora_rank: int
    quant_bits: int  # 4 or 8: the frozen base of QLoRA
    gpus: int
    capacity_gb: float | None  # usable memory of one GPU
    stack: str = "hf"  # a value of kb.vocabulary.STACKS
    sharding: str = "ddp"  # a value of kb.vocabulary.SHARDINGS (resolved: never "auto")
    offload: str = "none"  # a value of kb.vocabulary.OFFLOADS
    # Each parameter steps as its gradient arrives (GaLore's layer-wise optimizers, torchtune's
    # optimizer_in_bwd): no whole-model gradient is held
    optimizer_in_backward: bool = False
    lora_targets: str = "all-linear"  # a value of core.shapes.LORA_TARGETS
    # LoRA's dropout probability: above 0 each adapted layer keeps a dropped copy of its input
    # (memory.estimate._lora_dropout_bytes). 0 is PEFT's default and what the recipes write.
    lora_dropout: float = 0.0
    lora_experts: bool = False  # LoRA also adapts a mixture-of-experts model's routed experts
    vllm: bool = False  # GRPO/RLOO sample with a colocated vLLM engine (memory.estimate.served_by_vllm)
    # GPUs of a vLLM server beside the `gpus` that train (TRL vllm_mode='server'), for every stage
    # of a run whose online stages sample with vLLM (one launch runs them all); 0: none.
    vllm_server_gpus: int = 0
    # The checkpointed layer inputs wait in CPU RAM (TRL's activation_offloading), where the
    # objective's trainer offers it (memory.estimate.offloads_activations).
    activation_offloading: bool = False
    # Unsloth's TiledMLP (unsloth_tiled_mlp=True): every MLP runs `hidden` tokens at a time without
    # saving its intermediates, and its backward runs it again, tile by tile (memory.activations).
    tiled_mlp: bool = False
    # DPO/KTO on a base that trains, without its frozen reference copy: TRL (1.2+) computes the reference
    # log-probabilities in one no-grad pass before training (precompute_ref_log_probs=True, no
    # ref_model; memory.estimate.may_precompute_reference).
    reference_precomputed: bool = False
    # ZeRO++ hierarchical partitioning (zero_hpz_partition_size = GPUs per node) under ZeRO-3 across
    # nodes: a second copy of the sharded weights, sharded within each node, so that the forward's
    # and backward's gathers stay on the node's links; only the gradients cross the network.
    hierarchical: bool = False
    # A 4-bit (QLoRA) base loaded shard by shard under FSDP (Answer.AI's loader: axolotl's
    # qlora_sharded_model_loading), never whole on one GPU as transformers loads it for DeepSpeed
    # ZeRO-3 (memory.parallel.loads_whole_base); ft-atlas does not write it.
    sharded_loading: bool = False
    # The machine's CPU RAM per node (--ram; None: not given): a base loaded shard by shard holds
    # more than its GPUs' share there first (Estimate.ram_gb), and is not taken past it.
    host_ram_gb: float | None = None
    # ZeRO-3 as PyTorch FSDP runs it (a layer's gather prefetched while the one before computes), not
    # as DeepSpeed does in every recipe ft-atlas writes (each module's hooks wait for its gather):
    # the time model reads it (throughput.step.waits_for_collectives), the memory model does not.
    fsdp: bool = False
    # GPUs one sequence is split over (DeepSpeed Ulysses sequence parallelism, with ZeRO-3 across
    # all of them); gpus / sequence_parallel sequences train side by side.
    sequence_parallel: int = 1
    # Soft prompt length (prompt, prefix and p-tuning): the method's num_virtual_tokens in the KB.
    virtual_tokens: int = 20
    # The prompt a no-training plan serves (few-shot examples or retrieved passages): what the
    # serving estimate sizes instead of seq_len (resolve.served_seq_len).
    prompt_len: int = PROMPT_CONTEXT
    # The bits a no-training plan's weights are served in: 16 (the checkpoint's 16-bit dtype, or
    # fp32 where the precision says so), or 8 / 4: quantized by bitsandbytes as they load, or as a
    # checkpoint stored quantized holds them (AWQ, GPTQ, gpt-oss's MXFP4 experts).
    serving_bits: int = 16
    # A memory-efficient kernel (SDPA, FlashAttention, flex) runs the attention. False: a family
    # without an SDPA kernel (Shape.eager_heads) runs transformers' eager attention, s x s per head.
    attention_kernel: bool = True
    # A QLoRA base's fused routed experts are quantized too, as they load (axolotl's
    # quantize_moe_experts); Unsloth's stack does (memory.states.experts_quantized) unless
    # sixteen_bit_experts says its release predates it.
    quantized_experts: bool = False
    # `estimate --no-quantize-experts`: the experts stay 16-bit whatever the stack (Unsloth's
    # releases before 2026.6, unslothai/unsloth#4032).
    sixteen_bit_experts: bool = False
    # Apple silicon: the CPU's memory is the GPU's own, one chip (no offload, no more GPUs), and
    # no CUDA-only kernels (Liger, Unsloth, bitsandbytes' optimizers) to suggest.
    unified_memory: bool = False
    # No GPU (--gpu none): trained on the CPU in fp32, as the Python recipes fall back to (mixed
    # precision needs a GPU there), and the memory sized is the machine's RAM.
    on_cpu: bool = False
    # What the trainer's PEFT prepare_model_for_kbit_training leaves of a quantized (QLoRA) base
    # (memory.states.kbit_prepared): it casts every weight bitsandbytes did not quantize
    # (embeddings, LM head, norms, and a mixture's fused routed experts) to fp32. "upcast": they
    # train so (transformers' Trainer recipes; read on the hf stack only); "recast": the trainer
    # casts the norms, embeddings and LM head back to the training dtype, the experts stay fp32
    # (axolotl, loaders/model.py should_convert); "none": the trainer never runs it (LLaMA-Factory's
    # model/adapter.py casts only the trainable parameters; mlx-lm; TRL 1.x).
    kbit_preparation: KbitPreparation = "upcast"
    # A decoder trained as a sequence classifier (AutoModelForSequenceClassification): its score
    # head has a few outputs, so there are no vocabulary logits to hold or to multiply by.
    classifier_head: bool = False
    # Unsloth's FastLanguageModel patches the model's LoRA layers with its fused kernels
    # (families.yaml unsloth_fast_lora): the time model reads it (throughput.step.timed_stack).
    unsloth_fast_lora: bool = True

    @property
    def samples_apart(self) -> bool:
        """This stage samples on a vLLM server's GPUs of its own while `gpus` train."""
        return self.vllm_server_gpus > 0 and self.vllm and self.objective.training.vllm

    @property
    def all_gpus(self) -> int:
        """The run's GPUs: the training ones, and a vLLM server's."""
        return self.gpus + self.vllm_server_gpus

    @property
    def replicas(self) -> int:
        """Data-parallel replicas: the GPUs that split one sequence take one micro-batch together."""
        return self.gpus // self.sequence_parallel


def loads_quantized_shards(memory_model: str, s: EstimateSettings) -> bool:
    """A QLoRA base loaded a checkpoint file at a time and quantized as it loads, never whole in
    16 bit: asked for (sharded_loading), or with its parameters offloaded over several GPUs, which
    loads so (PEFT's FSDP-QLoRA config: cpu_ram_efficient_loading; axolotl's recipe)."""
    return s.sharded_loading or (memory_model == "qlora" and s.offload == "params" and s.gpus > 1)


class Breakdown(TypedDict):
    """Memory per GPU by component, in GB; the same shape in every JSON document."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    logits_gb: float
    buffers_gb: float  # gathered layers, communication buckets, generation's KV cache or vLLM share
    overhead_gb: float  # CUDA context and allocator fragmentation


class Host(TypedDict):
    """What the machine around the GPUs needs, in GB."""

    offload_gb: float  # CPU RAM for offloaded states (all GPUs of the node)
    paged_gb: float  # a paged optimizer's states the driver pages out to CPU RAM, per GPU
    # CPU RAM to load the 16-bit checkpoint (memory-mapped; whole under FSDP), or a 4-bit base loaded
    # shard by shard: its quantized base and a checkpoint file per process (memory.estimate)
    load_gb: float
    merge_gb: float  # CPU RAM to merge an adapter into the 16-bit model afterwards (0: nothing to merge)
    checkpoint_gb: float  # disk for the trained weights (or adapter)
    checkpoint_with_optimizer_gb: float  # disk for a resumable checkpoint


class Estimate(NamedTuple):
    method: str
    memory_model: str
    objective: str | None
    model_params_b: float
    trainable_params_b: float
    total_gb: float  # over all GPUs
    per_gpu_gb: float
    breakdown: Breakdown
    host: Host
    settings: EstimateSettings
    capacity_gb: float | None
    fit: Fit | None  # None: no GPU capacity to compare with
    shape: Shape  # what was estimated, to estimate again
    # A pipeline's other stages, as estimated beside this one (the heaviest): a change makes the
    # plan fit only when it fits them all (memory.search.changes_that_fit), and each stage is timed
    # at its own settings (throughput.plans.time_and_cost).
    other_stages: tuple[Estimate, ...] = ()

    @property
    def trains_classifier(self) -> bool:
        """A new score head over labels: an encoder's, or a decoder's sequence classifier."""
        return self.settings.classifier_head or self.shape.architecture == "encoder"

    @property
    def fits(self) -> bool | None:
        """The plain verdict: True only for a fit within the safety margin."""
        return None if self.fit is None else self.fit == "yes"

    @property
    def gathers_across_nodes(self) -> bool:
        """Its parameters are sharded (ZeRO-3 / FSDP) over GPUs on more than one node: every step
        gathers them over the links between nodes, unless ZeRO++ keeps a copy sharded within each
        node to gather from (hierarchical)."""
        s = self.settings
        return s.sharding == "zero3" and node_layout(s.gpus)[0] > 1 and not s.hierarchical

    @property
    def headroom_gb(self) -> float | None:
        return None if self.capacity_gb is None else round(self.capacity_gb - self.per_gpu_gb, 2)

    @property
    def weights_words(self) -> str:
        """How a no-training plan's weights are served, in words: bf16, 4-bit (bitsandbytes), or
        4-bit as the checkpoint stores them (AWQ, GPTQ, gpt-oss's MXFP4; 8-bit for FP8)."""
        bits = self.settings.serving_bits
        if bits == 16:
            return self.settings.precision
        if self.shape.stored:
            return t("{bits}-bit (as stored)", bits=bits)
        return t("{bits}-bit (bitsandbytes)", bits=bits)

    @property
    def served_bits(self) -> int | None:
        """The bits a no-training plan's weights are served in (None for training estimates)."""
        return self.settings.serving_bits if self.memory_model == "inference" else None

    @property
    def ram_gb(self) -> float | None:
        """CPU RAM an offloading plan needs per node besides the GPUs': its offloaded states, and
        with the parameters offloaded the 16-bit checkpoint if larger, which loading holds in RAM
        before it is sharded. A QLoRA base loaded shard by shard (or offloaded, which it loads so:
        PEFT's FSDP-QLoRA config, cpu_ram_efficient_loading) holds the quantized base and a
        checkpoint file per process there first (host load_gb), still there while FSDP builds the
        offloaded flat parameters beside it: Llama-2-70B with CPU offload on 2 GPUs measured ~107 GB
        (PEFT's accelerate/fsdp.md), where its offloaded states are ~55 GB and the whole 16-bit
        checkpoint, which ft-atlas had shown, 138 GB. None for other plans, which load memory-mapped
        (their `load_gb`). A checkpoint stored in FP8 or MXFP4, which every process dequantizes
        into its own copy under ZeRO-3 unless converted to bf16 first, is left to a rule's caveat
        (quantized-checkpoint-loads-per-process): the conversion is the plan."""
        host = self.host
        if loads_quantized_shards(self.memory_model, self.settings):
            # Offloaded, the loaded base is still there while FSDP builds the offloaded shards;
            # else it is gone before anything is offloaded (activations, optimizer states).
            if self.settings.offload == "params":
                return round(host["offload_gb"] + host["load_gb"], 2)
            return max(host["offload_gb"], host["load_gb"])
        if not host["offload_gb"]:
            return None
        # One 16-bit copy, not host["load_gb"]: that counts a copy per process for a stored
        # quantization, which the plan converts away first.
        load = rounded_gb(self.shape.sixteen_bit_bytes) if self.settings.offload == "params" else 0.0
        return max(host["offload_gb"], load)
