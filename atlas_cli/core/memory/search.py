"""Questions answered by running the estimator several times: which multi-GPU strategy a plan
needs (the least communication that fits), the largest sequence length or micro-batch that fits,
and the smallest change that makes a plan fit."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.memory.activations import EAGER_STACKS
from atlas_cli.core.memory.estimate import (
    estimate,
    generation_step,
    gib_to_gb,
    least_generation_per_gpu,
    may_partition_within_nodes,
    offloads_activations,
    sampled_apart,
    sampled_at_once,
    served_by_vllm,
    vllm_server_fit,
)
from atlas_cli.core.memory.parallel import loads_whole_base
from atlas_cli.core.memory.states import experts_quantized
from atlas_cli.core.nodes import node_layout
from atlas_cli.core.shapes import Shape
from atlas_cli.i18n import t
from atlas_cli.kb.vocabulary import (
    FIT_MARGIN,
    MAX_GPU_MEMORY_GB,
    MAX_SEQ_LEN,
    MEMORY_MODELS,
    NO_DEEPSPEED_STACKS,
    NO_VLLM_SERVER_STACKS,
)

# ddp first: it communicates least; then ZeRO-2, then ZeRO-3 / FSDP.
STRATEGIES = ("ddp", "zero2", "zero3")
# Splitting pays an all-to-all per layer for every token: it is how sequences of tens of thousands
# of tokens fit, not a way to shard short ones, which ZeRO-3, a smaller micro-batch or more GPUs
# serve better (ft-atlas's threshold).
SEQUENCE_PARALLEL_FROM = 16_384
BF16 = frozenset({"bf16", "pure-bf16"})  # what FlashAttention 2 trains in, on GPUs that have it
MAX_BATCH = 100_000
MIN_USEFUL_SEQ_LEN = 256  # shorter than this is no longer the same fine-tune
# More GPUs to try: within a node by doubling, then by whole nodes of eight up to eight nodes (24
# GPUs that fit are three nodes, not four), then by doubling.
GPU_COUNTS = (2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 128, 256, 512)
# More GPUs are suggested while each doubling saves at least this share of a GPU's memory.
MIN_DOUBLING_SAVING = 0.02
Estimator = Callable[[EstimateSettings], Estimate]


def estimator(method_id: str, model: str, shape: Shape) -> Estimator:
    return lambda settings: estimate(method_id, model, shape, settings)


def with_strategy(run: Estimator, settings: EstimateSettings, loaded_whole: bool = False) -> Estimate:
    """`auto` multi-GPU: the first strategy that fits within the margin (without paging optimizer
    states to CPU RAM, where one does), ZeRO-3 across nodes partitioned within them where that
    fits too (within_nodes); else ZeRO-3 with each sequence split over the fewest GPUs that makes
    it fit (sequence parallelism: long sequences); else QLoRA's base loaded shard by shard where
    that fits (_loaded_shard_by_shard), unless `loaded_whole` (the recipes' DeepSpeed loads it
    whole onto every GPU); else the first that fits at all; else ZeRO-3 (the least memory). A way
    of training that runs with data parallel only (GaLore, Unsloth: data_parallel_only) gets data
    parallel, without offload (DeepSpeed's); so does pure bf16 (unsharded_only)."""
    data_parallel = run(settings._replace(sharding="ddp", sequence_parallel=1))
    if data_parallel_only(data_parallel) or unsharded_only(settings):
        return _data_parallel_alone(run, data_parallel)
    if settings.gpus == 1:
        return data_parallel
    tried = [data_parallel] + [
        run(settings._replace(sharding=name, sequence_parallel=1)) for name in STRATEGIES[1:]
    ]
    # A paged optimizer "fits" by paging to CPU RAM: a strategy that fits without paging comes first.
    found = _first([e for e in tried if not e.host["paged_gb"]], "yes") or _first(tried, "yes")
    if found is not None:
        return within_nodes(run, found)
    last = tried[-1]
    split = [
        run(settings._replace(sharding="zero3", sequence_parallel=n))
        for n in sequence_parallel_degrees(last.memory_model, last.shape, settings)
    ]
    # Loaded shard by shard before a tight plan: it fits (and more memory never takes that away);
    # the recipes, which load the base whole, size it again their way (recipes/estimate.py).
    found = _first(split, "yes") or (None if loaded_whole else _loaded_shard_by_shard(run, last))
    return found or _first(tried, "tight") or _first(split, "tight") or tried[-1]


def _loaded_shard_by_shard(run: Estimator, zero3: Estimate) -> Estimate | None:
    """QLoRA under ZeRO-3 that misses only because transformers loads the whole 4-bit base onto
    every GPU first: loaded shard by shard under FSDP (Answer.AI's fsdp_qlora; axolotl's
    qlora_sharded_model_loading), it fits, as Answer.AI's Llama-2-70B runs on four and eight 24 GB
    A5000s did without CPU offload (fsdp_qlora benchmarks_03_2024.md). None where it does not fit
    within the margin or the machine's CPU RAM (--ram: the loader holds the 4-bit base and a
    checkpoint file per process there first), the base is not loaded whole, or it is a mixture of
    experts: those loaders read the checkpoint's keys themselves and replace nn.Linear layers only,
    so transformers 5's fused experts never load (axolotl-ai-cloud/axolotl#3445, Qwen3-235B-A22B)."""
    if not loads_whole_base(zero3.memory_model, zero3.settings) or zero3.shape.is_moe:
        return None
    sharded = run(zero3.settings._replace(sharded_loading=True))
    ram = sharded.settings.host_ram_gb
    within_ram = ram is None or (sharded.ram_gb or 0.0) <= ram
    return sharded if sharded.fit == "yes" and within_ram else None


def within_nodes(run: Estimator, found: Estimate) -> Estimate:
    """ZeRO-3 across nodes gathers every layer's weights over the network; ZeRO++ hierarchical
    partitioning keeps a second copy of them sharded within each node so that the gathers stay on
    its links, which are faster than the network's (the time model never finds it slower). Taken
    where it may be written (may_partition_within_nodes) and still fits within the margin."""
    if found.settings.hierarchical or not may_partition_within_nodes(found.memory_model, found.settings):
        return found
    layered = run(found.settings._replace(hierarchical=True))
    return layered if layered.fit == "yes" else found


def placed(run: Estimator, settings: EstimateSettings, auto: bool) -> Estimate:
    """The estimate at the strategy asked for: `auto` picks one (with_strategy); one given is
    kept, except by a way of training that runs with data parallel only, without offload."""
    if auto:
        return with_strategy(run, settings)
    found = run(settings)
    return _data_parallel_alone(run, found) if data_parallel_only(found) else found


def data_parallel_only(e: Estimate) -> bool:
    """Runs with data parallel alone: an optimizer that projects each weight's whole gradient
    (GaLore), a stack outside DeepSpeed (Unsloth: NO_DEEPSPEED_STACKS), or routed experts that
    load quantized (axolotl quantizes them onto each GPU as they load, documented with FSDP2, not
    the DeepSpeed ZeRO-3 the recipes shard with: recipes/estimate.py)."""
    return (
        MEMORY_MODELS[e.memory_model].data_parallel_only
        or e.settings.stack in NO_DEEPSPEED_STACKS
        or (e.settings.quantized_experts and e.shape.expert_params > 0)
    )


def unsharded_only(s: EstimateSettings) -> bool:
    """Pure bf16 as the recipes write it: DeepSpeed's ZeRO, which they shard with, keeps fp32
    master partitions whatever the model's dtype (recipes/settings.py _pure_bf16_weights), so
    only plain data parallel trains without them. FSDP2 (`estimate --fsdp`: torchtune, axolotl)
    shards it as it is; an offload plan is DeepSpeed's already, sized as it resolves
    (parallel.resolved_sharding)."""
    return s.precision == "pure-bf16" and s.offload == "none" and not s.fsdp


def _data_parallel_alone(run: Estimator, found: Estimate) -> Estimate:
    """`found` as a way of training that runs with data parallel only can run: no ZeRO sharding,
    no DeepSpeed offload."""
    s = found.settings
    if s.sharding == "ddp" and s.offload == "none":
        return found
    return run(s._replace(sharding="ddp", sequence_parallel=1, offload="none"))


def _first(estimates: list[Estimate], fit: str) -> Estimate | None:
    return next((e for e in estimates if e.fit == fit), None)


def sequence_parallel_degrees(model: str, shape: Shape, settings: EstimateSettings) -> list[int]:
    """The ways to split one sequence over the GPUs (DeepSpeed Ulysses, as TRL's SFTTrainer runs
    it): 2, 4 or 8 GPUs within a node (an all-to-all per layer runs over its links) that split the
    attention heads evenly. Supervised stages of long sequences only; not for prompt methods
    (PEFT's virtual tokens and prefixes change the positions Ulysses shards), not for families
    that need eager attention (Ulysses drops their 4-D mask), and only where FlashAttention 2, which
    Ulysses runs inside, does: bf16 precision (Ampere or newer). Not for linear-attention layers
    (Qwen3.5's Gated DeltaNet): Ulysses swaps sequence shards for heads around the attention
    function only, and the delta rule's recurrence runs along the whole sequence."""
    if not settings.objective.training.sequence_parallel or settings.seq_len < SEQUENCE_PARALLEL_FROM:
        return []
    if shape.linear_layers:
        return []
    if shape.eager_heads or MEMORY_MODELS[model].family == "prompt" or settings.precision not in BF16:
        return []
    per_node = node_layout(settings.gpus)[1]
    return [n for n in (2, 4, 8) if per_node % n == 0 and shape.splits_heads(n)]


def largest(
    run: Estimator,
    settings: EstimateSettings,
    field: str,
    verdicts: tuple[str, ...] = ("yes",),
    auto: bool = True,
    stages: tuple[EstimateSettings, ...] = (),
) -> int | None:
    """The largest sequence length or micro-batch whose plan fits within the margin (with
    `verdicts` ("yes", "tight"): within capacity), at the strategy `auto` picks or the settings'
    own (placed), in every one of a pipeline's other `stages` too; None: not even the least does
    (1, or the objectives' least micro-batch: KTO's 2). Memory grows with both, so a binary
    search finds it."""
    upper = MAX_SEQ_LEN if field == "seq_len" else MAX_BATCH
    every = (settings, *stages)
    least = max(s.objective.training.min_batch for s in every) if field == "batch_size" else 1

    def fits(value: int) -> bool:
        return _heaviest(run, [_changed(s, field, value) for s in every], auto).fit in verdicts

    if not fits(least):
        return None
    low, high = least, upper
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# The shortest prompt a no-training plan is shrunk to when the usual one (PROMPT_CONTEXT) does not
# fit: a few passages or a handful of examples; below it retrieval and few-shot lose their point.
MIN_SERVED_PROMPT = 2048
PROMPT_STEP = 256  # a shrunk prompt is a round number of tokens


def fitting_prompt(run: Estimator, e: Estimate, auto: bool = True) -> int | None:
    """For a no-training plan that does not fit within the margin: the longest prompt, in steps of
    PROMPT_STEP and at least MIN_SERVED_PROMPT tokens, that does - retrieval on a small GPU takes
    fewer passages rather than no GPU; None when the plan fits or none does."""
    if e.memory_model != "inference" or e.fit == "yes" or e.settings.seq_len <= MIN_SERVED_PROMPT:
        return None
    longest = largest(run, e.settings, "seq_len", auto=auto)
    if longest is None or longest < MIN_SERVED_PROMPT:
        return None
    return longest // PROMPT_STEP * PROMPT_STEP


def shorter_prompt_note(tokens: int, usual: int) -> str:
    return t(
        "sized for prompts of {tokens:,} tokens, not {usual:,}: a longer prompt's KV cache does not fit "
        "this GPU (the recipe's CONTEXT_TOKENS; fewer passages or examples per question)",
        tokens=tokens,
        usual=usual,
    )


def training_batch(run: Estimator, settings: EstimateSettings, minimum: int, cap: int) -> int | None:
    """The micro-batch a run trains at unless the profile gives one: the largest power of two
    from `minimum` up to `cap` (one global batch per GPU) that fits within the margin with the
    settings' strategy; None when not even `minimum` does. Recipes set it, and time assumes it."""
    batch = max(minimum, 1 << int(math.log2(max(cap, 1))))
    while run(settings._replace(batch_size=batch)).fit != "yes":
        if batch <= minimum:
            return None
        batch = max(minimum, batch // 2)
    return batch


class Change(NamedTuple):
    """One change to a plan that does not fit, and what it needs then."""

    # seq_len, batch_size, generation_batch, gradient_checkpointing, vllm, vllm_server_gpus,
    # optimizer, activation_offloading, stack, tiled_mlp, method, gpus, offload, or gpu_memory: the GiB a GPU
    # would need usable (the same plan on a larger GPU)
    change: str
    value: str | int | bool
    per_gpu_gb: float


Value = str | int | bool


def _tweaks(settings: EstimateSettings, model: str) -> list[tuple[str, Value]]:
    """Changes to the settings alone, least disruptive first: none a way of training refuses
    (checkpointing for prefix tuning), nor CUDA-only kernels on Apple silicon."""
    s = settings
    found: list[tuple[str, Value]] = []
    if not s.gradient_checkpointing and MEMORY_MODELS[model].checkpointing:
        found.append(("gradient_checkpointing", True))
    if served_by_vllm(model, s):  # the engine's share of every GPU, freed for training
        found.append(("vllm", False))
    if s.unified_memory:
        return found
    if s.optimizer == "adamw":
        found.append(("optimizer", "adamw-8bit"))
    if not s.activation_offloading and offloads_activations(s._replace(activation_offloading=True)):
        found.append(("activation_offloading", True))  # the checkpoints to CPU RAM, overlapped
    if s.stack in ("hf", "trl"):
        found.append(("stack", "liger"))
        found += [("stack", "unsloth")] if MEMORY_MODELS[model].on_unsloth else []
    if s.stack == "unsloth" and not s.tiled_mlp:
        found.append(("tiled_mlp", True))
    return found


def with_experts_quantized(settings: EstimateSettings) -> EstimateSettings:
    """A QLoRA base whose routed experts load in 4 bits too, as axolotl, the trainer that writes it
    (quantize_moe_experts), runs it: with transformers' own loss where TRL's fused one was assumed
    (its --stack liger, where given, it writes too)."""
    quantized = settings._replace(quantized_experts=True)
    return on_stack(quantized, "hf") if settings.stack == "trl" else quantized


def _changed(settings: EstimateSettings, field: str, value: Value) -> EstimateSettings:
    if field == "stack":
        return on_stack(settings, str(value))
    if field == "quantized_experts":
        return with_experts_quantized(settings)
    if field == "generation_batch":  # read by online stages only
        return settings._replace(objective=settings.objective._replace(generation_batch=int(value)))
    if field == "gpus":
        return on_gpus(settings, int(value))
    if field == "vllm_server_gpus":
        return settings._replace(vllm_server_gpus=int(value), gpus=settings.all_gpus - int(value))
    if field == "vllm" and settings.vllm_server_gpus:  # without vLLM, the server's GPUs train too
        return settings._replace(vllm=False, vllm_server_gpus=0, gpus=settings.all_gpus)
    changes: dict[str, Any] = {field: value}
    if field == "seq_len":  # a no-training plan's prompt is the length searched too
        changes["prompt_len"] = value
    return settings._replace(**changes)


def at_rank(run: Estimator, rank: int | None) -> Estimator:
    """`run` at a method's own LoRA rank (its card's; None: the settings'): QLoRA suggested for a
    LoRA plan is sized as QLoRA's recipe writes it."""
    if rank is None:
        return run
    return lambda settings: run(settings._replace(lora_rank=rank))


def on_gpus(settings: EstimateSettings, gpus: int) -> EstimateSettings:
    """`settings` on `gpus` GPUs as --gpus counts them: a vLLM server's among them."""
    return settings._replace(gpus=gpus - settings.vllm_server_gpus)


def on_stack(settings: EstimateSettings, stack: str) -> EstimateSettings:
    """`settings` run on another stack, with the attention its trainers load (EAGER_STACKS): a
    stack that loads a kernel whose settings say none is on Apple's MPS, which stays without."""
    apple = settings.stack not in EAGER_STACKS and not settings.attention_kernel
    return settings._replace(stack=stack, attention_kernel=stack not in EAGER_STACKS and not apple)


def _heaviest(run: Estimator, stages: list[EstimateSettings], auto: bool) -> Estimate:
    """The stage that needs the most memory per GPU, each placed (a plan fits when it does)."""
    return max((placed(run, s, auto) for s in stages), key=lambda e: e.per_gpu_gb)


def changes_that_fit(
    run: Estimator,
    settings: EstimateSettings,
    alternatives: Iterable[tuple[str, Estimator]] = (),
    auto: bool = True,
    stages: tuple[EstimateSettings, ...] = (),
) -> list[Change]:
    """The smallest changes that make the plan fit within the margin, each alone, in the order a
    practitioner tries them: shorter sequences, a smaller micro-batch (not below the objective's
    least), checkpointing, an 8-bit optimizer, a leaner stack, another method (QLoRA), the fewest
    more GPUs, more CPU offload; and for a plan that does not fit at all, the memory a larger GPU
    would need, which is what is left when nothing fits these GPUs. Each at the multi-GPU strategy
    `auto` picks, or the settings' own when the user gave one (placed), and in a pipeline's other
    `stages` too: a change that fits one stage only is none."""
    found: list[Change] = []
    every = (settings, *stages)

    def changed(field: str, value: Value) -> Estimate:
        return _heaviest(run, [_changed(s, field, value) for s in every], auto)

    # A served prompt is never shorter than PROMPT_CONTEXT (resolve.served_seq_len): --seq-len
    # cannot shorten it, so a shorter one is no change a user can make.
    now = _heaviest(run, list(every), auto)
    served = now.memory_model == "inference"
    for field, floor in (("seq_len", MIN_USEFUL_SEQ_LEN), ("batch_size", 1)):
        if served and field == "seq_len":
            continue
        current: int = getattr(settings, field)
        best = largest(run, settings, field, auto=auto, stages=stages) if current > 1 else None
        if best is not None and floor <= best < current:
            found.append(Change(field, best, changed(field, best).per_gpu_gb))
    smaller = _smaller_generation_batch(settings, now.memory_model, changed)
    if smaller is not None:
        found.append(smaller)
    for field, value in _tweaks(settings, now.memory_model):
        result = changed(field, value)
        if result.fit == "yes":
            found.append(Change(field, value, result.per_gpu_gb))
    # Not for an online stage, which no trainer here writes so (variants.applies).
    quantizable = now.memory_model == "qlora" and now.shape.expert_params and not settings.objective.online
    if quantizable and not experts_quantized(settings):
        result = changed("quantized_experts", True)  # data parallel only: data_parallel_only
        if result.fit == "yes":
            found.append(Change("quantized_experts", True, result.per_gpu_gb))
    server = _more_server_gpus(now, changed)
    if server is not None:
        found.append(server)
    for method, other in alternatives:
        result = _heaviest(other, list(every), auto)
        if result.fit == "yes":
            found.append(Change("method", method, result.per_gpu_gb))
    one_chip = settings.unified_memory  # one GPU whose memory is the CPU's: nothing to add or offload to
    more = None if one_chip else _more_gpus(now, changed)
    if more is not None:
        found.append(more)
    # Offload is DeepSpeed's: not for a stack outside it (Unsloth).
    no_offload = one_chip or settings.stack in NO_DEEPSPEED_STACKS
    for offload in () if no_offload else OFFLOAD_LEVELS[OFFLOAD_LEVELS.index(settings.offload) + 1 :]:
        result = changed("offload", offload)
        if result.fit == "yes":
            found.append(Change("offload", offload, result.per_gpu_gb))
            break
    if now.fit == "no":
        larger = _larger_gpu(run, every, auto)
        if larger is not None:
            found.append(larger)
    return found


def _more_gpus(now: Estimate, changed: Callable[[str, Value], Estimate]) -> Change | None:
    """The fewest GPUs (of GPU_COUNTS) that fit, reached by a step that saved at least
    MIN_DOUBLING_SAVING of a GPU's memory per doubling, searched until two steps in a row save
    less: what more GPUs shard shrinks by half each time, what they do not (each GPU's
    activations) stays, and a count reached by crumbs (an expert's review: "gpus = 256" for a
    70B QLoRA at 8k tokens on 24 GB cards) is no way to fit. One flat step is passed over: a 4-bit
    base that misses loaded whole reads the same on 2 GPUs and on 4, and fits shard by shard on 8."""
    count, need, flat = now.settings.all_gpus, now.per_gpu_gb, 0
    least = MIN_DOUBLING_SAVING * (now.capacity_gb or 0.0)
    for gpus in (n for n in GPU_COUNTS if n > count):
        result = changed("gpus", gpus)
        saved = (need - result.per_gpu_gb) / math.log2(gpus / count)
        if saved >= least and result.fit == "yes":
            return Change("gpus", gpus, result.per_gpu_gb)
        flat = flat + 1 if saved < least else 0
        if flat == 2:
            return None
        count, need = gpus, result.per_gpu_gb
    return None


def _more_server_gpus(now: Estimate, changed: Callable[[str, Value], Estimate]) -> Change | None:
    """A vLLM server on GPUs of its own: for a colocated engine, whose share of every GPU keeps the
    plan from fitting, the fewest that fit (an expert's review: GRPO LoRA of Qwen3-30B-A3B on 8
    H100s fits with a server on one and did not say so); for a server that cannot start on its GPUs,
    twice as many (or more). Some GPUs still train, and the attention heads split over the server's."""
    s = now.settings
    if served_by_vllm(now.memory_model, s) and not s.samples_apart:
        more = 1
        if s.stack in NO_VLLM_SERVER_STACKS or s.gpus < 2:
            return None
    elif sampled_apart(now.memory_model, s) and vllm_server_fit(now.memory_model, now.shape, s) != "yes":
        more = 2 * s.vllm_server_gpus
    else:
        return None
    while more < s.all_gpus and now.shape.splits_heads(more):
        result = changed("vllm_server_gpus", more)
        if result.fit == "yes":
            return Change("vllm_server_gpus", more, result.per_gpu_gb)
        more *= 2
    return None


def _smaller_generation_batch(
    settings: EstimateSettings, model: str, changed: Callable[[str, Value], Estimate]
) -> Change | None:
    """The largest generation batch (all GPUs) that fits, of the rounds TRL accepts below the
    current one: transformers' generate holds every completion's KV cache it samples at once (a
    colocated vLLM engine pages its cache within its share, which this does not change)."""
    s = settings
    if not s.objective.samples_groups or served_by_vllm(model, s):
        return None
    objective, replicas = s.objective, s.replicas
    # The rounds TRL accepts, per GPU: the multiples of one step from the least a GPU samples up
    # to the current round, less one step (generation_per_gpu keeps exactly these).
    step = generation_step(objective, replicas, s.batch_size)
    least = -(-least_generation_per_gpu(objective, replicas, s.batch_size) // step)
    # Fewer at once never needs more memory: the largest multiple below the current that fits, by
    # bisection over the multiples (as many as the round holds steps: never a scan).
    low, high, found = least, sampled_at_once(s) // step - 1, None
    while low <= high:
        middle = (low + high) // 2
        result = changed("generation_batch", middle * step * replicas)
        if result.fit == "yes":
            found, low = Change("generation_batch", middle * step * replicas, result.per_gpu_gb), middle + 1
        else:
            high = middle - 1
    return found


OFFLOAD_LEVELS = ("none", "optimizer", "params")  # each moves more to CPU RAM than the one before
# The most usable GiB a larger GPU is searched up to: what --vram takes (its number is GiB).
MAX_GPU_GIB = int(MAX_GPU_MEMORY_GB)


def _larger_gpu(run: Estimator, stages: tuple[EstimateSettings, ...], auto: bool) -> Change | None:
    """The least usable memory, in whole GiB, on which the plan (every stage) fits within the
    margin: the estimate itself depends a little on the card's size (the allocator's reserve), so
    it is searched for, from the bound today's need gives; None when no GPU --vram takes would."""

    def on(gib: int) -> Estimate:
        return _heaviest(run, [s._replace(capacity_gb=gib_to_gb(gib)) for s in stages], auto)

    low, high = 1, min(math.ceil(on(1).per_gpu_gb / FIT_MARGIN / gib_to_gb(1)), MAX_GPU_GIB)
    while on(high).fit != "yes" and high < MAX_GPU_GIB:  # the reserve grew with the card
        high = min(2 * high, MAX_GPU_GIB)
    if on(high).fit != "yes":
        return None
    while low < high:
        middle = (low + high) // 2
        if on(middle).fit == "yes":
            high = middle
        else:
            low = middle + 1
    return Change("gpu_memory", high, on(high).per_gpu_gb)
