"""The data a run trains on: how many examples, how long, how many times, packed or padded."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from atlas_cli.core.memory.estimate import completion_length, generation_per_gpu
from atlas_cli.kb.catalog import Objective

# Examples one optimizer step averages over (per_device_train_batch_size x GPUs x gradient
# accumulation): 16, beside each objective's published batches (methods.yaml
# training.global_batch_why: the alignment handbook's Zephyr SFT, 8 to 128, and DPO, 16 to 128);
# it sets how often the optimizer step runs and how often gradients are exchanged. Online
# objectives: see global_batch.
GLOBAL_BATCH = 16
# A small set still takes at least MIN_STEPS optimizer steps, with fewer sequences per step down
# to SMALL_GLOBAL_BATCH: 50 examples for 3 epochs take 37 steps of 4, not 9 of 16 (one of them
# warm-up), which the schedule and the held-out evaluations need (an expert's review).
MIN_STEPS = 40
SMALL_GLOBAL_BATCH = 4
# Over several GPUs a run is scaled: each GPU may take up to a GLOBAL_BATCH micro-batch while a step
# stays within MAX_GLOBAL_BATCH sequences, the alignment handbook's full fine-tuning on 8 GPUs (16 a
# device: huggingface/alignment-handbook@19f03455 recipes/zephyr-7b-beta/sft/config_full.yaml),
# and within what the set allows (MIN_STEPS). A global 16 left 16 GPUs one sequence each, a step
# bound by the weights' gathers (70B full fine-tuning on 16 H100s at 74 tokens/s per GPU, where
# torchtitan's 70B reaches 353 on A100s at a local batch of 2 x 4,096: an infrastructure review).
MAX_GLOBAL_BATCH = 128
# Unpacked batches are padded to their longest sequence; for lengths spread as in instruction
# data the longest of b examples is ~1 + 0.25 log2(b) times the average.
PADDING_PER_DOUBLING = 0.25
COMPLETION_SHARE = 0.75  # online RL: the completion's share of a sampled sequence


class Workload(NamedTuple):
    examples: int  # examples, pairs, prompts or documents
    tokens_per_example: int  # the average length, never above the sequence length
    epochs: float
    packing: bool
    # The rows' length (--seq-len), which an objective batched in tokens counts its rows in; None
    # where no plan is sized (a provider's billing).
    seq_len: int | None = None


class Batches(NamedTuple):
    """One stage's micro-steps on one GPU."""

    sequences: float  # sequences trained on over the whole run, all GPUs, all epochs
    tokens: float  # their tokens, without padding
    micro_steps: float  # per GPU
    computed_tokens: float  # per micro-step, padding included
    attended: float  # the context one token attends over
    accumulation: int  # micro-steps per optimizer step
    prompts_per_gpu: float  # online objectives: prompts each GPU samples for
    packed: bool  # examples packed into full sequences
    # A row's length, padding included: the whole square eager attention computes (a packed row's
    # examples are kept apart by a mask over all of it).
    row: float


def global_batch(
    objective: Objective, replicas: int, workload: Workload | None = None, batch: int = 1
) -> int:
    """Sequences per optimizer step over `replicas` data-parallel GPUs: GLOBAL_BATCH, fewer for a
    small set (the workload's examples x epochs) so that it still takes MIN_STEPS steps. Online
    objectives train on one generation round per step (TRL's steps_per_generation is its gradient
    accumulation): --generation-batch, else one GPU's default generation batch on every GPU
    (16 sequences: two prompts' groups of 8 completions), so that more GPUs sample more at once,
    as RL runs are scaled (TRL's own defaults sample 8 per GPU, growing with the GPUs): a fixed
    global 16 would leave each of 8 GPUs decoding 2 sequences at a time, latency-bound, and more
    GPUs would barely shorten the run while multiplying its cost. `batch`: the micro-batch per
    GPU, of which an online round holds a whole number."""
    if objective.online:
        return generation_per_gpu(objective, replicas, batch) * replicas
    if workload is None:
        return GLOBAL_BATCH
    rows = token_rows(objective, workload)
    if rows is None:
        return max(
            SMALL_GLOBAL_BATCH, min(GLOBAL_BATCH, int(workload.examples * workload.epochs // MIN_STEPS))
        )
    row, per_step = rows
    in_set = workload.examples * workload.epochs * min(workload.tokens_per_example, row) / row
    return max(SMALL_GLOBAL_BATCH, min(per_step, int(in_set // MIN_STEPS)))


def token_rows(objective: Objective, workload: Workload) -> tuple[int, int] | None:
    """For an objective batched in tokens (its card's training.batch_tokens: continued
    pre-training), the length of a row (the sequence length when packed, else an example's) and
    the rows that hold that many tokens; None for the others, batched in sequences."""
    tokens = objective.training.batch_tokens
    if tokens is None or workload.seq_len is None:
        return None
    packed = objective.packs(workload.packing)
    row = workload.seq_len if packed else max(1, min(workload.tokens_per_example, workload.seq_len))
    return row, math.ceil(tokens / row)


def accumulation_steps(
    objective: Objective, replicas: int, batch: int, workload: Workload | None = None
) -> int:
    """Micro-steps per optimizer step: the global batch over the replicas' micro-batches, at least
    one, so that more GPUs than the global batch needs make each step larger than it."""
    return max(1, math.ceil(global_batch(objective, replicas, workload, batch) / (batch * replicas)))


def least_batch(objectives: Iterable[Objective]) -> int:
    """The smallest micro-batch every stage trains at (training.min_batch: KTO needs a pair)."""
    return max((o.training.min_batch for o in objectives), default=1)


def good_batch(objectives: Iterable[Objective]) -> int:
    """The smallest micro-batch every stage trains well at, when it fits (KTO's KL estimate)."""
    return max((o.training.good_batch for o in objectives), default=1)


def batch_cap(
    objectives: Iterable[Objective], gpus: int, workloads: Mapping[str, Workload] | None = None
) -> int:
    """The largest micro-batch worth trying: one global batch over the GPUs for every stage, or up
    to a GPU's own (scaled_cap), and at least the batch the stages train well at (KTO's 4, even if a
    step then holds more)."""
    stages = tuple(objectives)
    known = workloads or {}
    smallest = min(scaled_cap(o, gpus, known.get(o.id)) for o in stages)
    return max(least_batch(stages), good_batch(stages), smallest)


def scaled_cap(objective: Objective, gpus: int, workload: Workload | None) -> int:
    """One stage's largest micro-batch: its global batch over the GPUs; where that is the usual
    GLOBAL_BATCH sequences, up to as many on each GPU within MAX_GLOBAL_BATCH a step and the set's
    own limit (MIN_STEPS optimizer steps). Online rounds and token-batched rows keep their step."""
    usual = global_batch(objective, gpus, workload)
    if usual != GLOBAL_BATCH or objective.online or gpus == 1:
        return usual // gpus
    allowed = MAX_GLOBAL_BATCH if workload is None else int(workload.examples * workload.epochs // MIN_STEPS)
    return max(usual // gpus, min(GLOBAL_BATCH, MAX_GLOBAL_BATCH // gpus, allowed // gpus))


def sequences_per_example(objective: Objective) -> int:
    """Chosen and rejected for paired objectives, a group of completions for online ones."""
    return 2 if objective.training.paired else max(1, objective.samples_per_prompt)


def longest_share(count: int) -> float:
    """The longest of `count` examples (or completions) against their average length."""
    return 1 + PADDING_PER_DOUBLING * math.log2(count)


def completion_tokens(objective: Objective, length: int, seq_len: int) -> int:
    """Tokens sampled per completion by an online objective (0 for the others): the completion's
    share of an average example, within the completion budget of --seq-len."""
    if not objective.online:
        return 0
    return min(completion_length(seq_len), math.ceil(COMPLETION_SHARE * length))


def batches(
    objective: Objective,
    workload: Workload,
    seq_len: int,
    batch_size: int,
    replicas: int,
    split: int = 1,
    prefix: int = 0,
) -> Batches:
    """The run's micro-steps on one GPU. `replicas`: data-parallel replicas; `split`: GPUs one
    sequence is split over (sequence parallelism), taking one micro-batch together, each its
    share of the tokens; `prefix`: positions prepended to every row (prompt tuning's virtual
    tokens), computed and attended over by every layer but not trained on."""
    length = min(workload.tokens_per_example, seq_len)
    per_example = sequences_per_example(objective)
    sequences = workload.examples * workload.epochs * per_example
    tokens = sequences * length
    # A micro-batch holds batch_size examples: pairs hold two sequences each.
    per_micro = batch_size * (2 if objective.training.paired else 1)
    steps = accumulation_steps(objective, replicas, batch_size, workload)
    # Packed as the objective's trainer packs (Objective.packs: asked, or by default); a sequence
    # split over GPUs (DeepSpeed Ulysses) stays packed, its documents told apart by position_ids
    # (recipes/estimate.py _attention_for_ulysses).
    packed = objective.packs(workload.packing)
    if packed:
        computed = float(per_micro * seq_len)
        micro_steps = tokens / replicas / computed
    else:
        padded = min(seq_len, length * longest_share(batch_size))
        computed = per_micro * padded
        micro_steps = sequences / replicas / per_micro
    # Every GPU runs at least one micro-step an epoch, however few examples each gets (more GPUs
    # than sequences leave the rest idle, not faster).
    micro_steps = max(micro_steps, workload.epochs)
    prompts = workload.examples * workload.epochs / replicas if objective.online else 0.0
    # Packed SFT keeps its examples apart (TRL's "bfd", padding-free: each attends to itself);
    # continued pre-training's documents are concatenated and cut into full rows (its card's
    # packing_strategy "wrapped", what its recipes write), so attention spans the whole row.
    wrapped = objective.training.packing_strategy == "wrapped"
    attended = (seq_len if wrapped else length) if packed else computed / per_micro
    row = seq_len if packed else computed / per_micro
    computed += per_micro * prefix
    attended, row = attended + prefix, row + prefix
    return Batches(sequences, tokens, micro_steps, computed / split, attended, steps, prompts, packed, row)
