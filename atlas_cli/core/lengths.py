"""Lengths that do not agree with each other or with the model: notes for `recommend` and
warnings for `estimate`, which take the same profile."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from atlas_cli.core.profile import Profile
from atlas_cli.core.resolve import ModelInfo
from atlas_cli.i18n import grouped, nt, stage_label, t
from atlas_cli.kb.catalog import Objective
from atlas_cli.kb.vocabulary import TYPICAL_TOKENS

if TYPE_CHECKING:
    from atlas_cli.core.throughput.plans import TimeInputs

# A --seq-len this many times the typical example means long examples: time must not assume short ones.
LONG_SEQ_FACTOR = 8


def positions_note(seq_len: int | None, info: ModelInfo) -> str | None:
    """Training past the positions the model was trained with, said (None: within them)."""
    context = info.context_length
    if not (context and seq_len and seq_len > context):
        return None
    yarn = info.spec.yarn_context if info.spec is not None else None
    if yarn:  # an expert's review: the recipe sets it, and the note said "others need it set"
        return t(
            "--seq-len {seq_len} is longer than the {context} positions {model} was trained with; its "
            "model card extends them to {yarn} by YaRN RoPE scaling, which the Python recipe sets (the "
            "YAML recipes say how){past}.",
            seq_len=seq_len,
            context=context,
            model=info.label,
            yarn=yarn,
            past=t(": past {yarn}, expect weaker long-range quality", yarn=yarn) if seq_len > yarn else "",
        )
    return t(
        "--seq-len {seq_len} is longer than the {context} positions {model} was trained with: "
        "a model with learned positions (BERT, GPT-2) fails on longer inputs, others need their "
        "RoPE scaling set for it.",
        seq_len=seq_len,
        context=context,
        model=info.label,
    )


def longest_past_positions(longest: int | None, info: ModelInfo) -> list[str]:
    """`estimate --max seq-len` past the model's positions, said: memory is not what limits it."""
    context = info.context_length
    if not (context and longest and longest > context):
        return []
    return [
        nt(
            "The longest sequence that fits in memory, {longest:,} token, is longer than the {context:,} "
            "positions {model} was trained with: past them a model with learned positions (BERT, GPT-2) "
            "fails, others need their RoPE scaling set for it.",
            "The longest sequence that fits in memory, {longest:,} tokens, is longer than the {context:,} "
            "positions {model} was trained with: past them a model with learned positions (BERT, GPT-2) "
            "fails, others need their RoPE scaling set for it.",
            longest,
            longest=longest,
            context=context,
            model=info.label,
        )
    ]


def length_notes(
    profile: Profile,
    info: ModelInfo,
    limit: int | None,
    objectives: tuple[Objective, ...],
    classifier: bool = False,
    timed_as: str | None = None,
) -> list[str]:
    """Lengths that do not agree: training past the model's positions, or examples longer than
    `limit`, the length training truncates them to (memory and time are sized for it; None: no
    local model to train), for a run of `objectives` (`classifier`: as a sequence classifier);
    `timed_as`: the data kind time assumes when it is not the profile's (`estimate --objective
    grpo` times GRPO's prompt and completion)."""
    seq_len = profile.seq_len
    beyond = positions_note(seq_len, info)
    notes = [] if beyond is None else [beyond]
    tokens = profile.tokens_per_example
    # An objective that packs by wrapping (continued pre-training) cuts nothing; TRL's "bfd"
    # truncates each example at --seq-len like no packing. Whether it packs is Objective.packs, as
    # time reads it, on one GPU per sequence: the memory search that may split a sequence over GPUs
    # (then trained unpacked, workload.batches) comes after these notes.
    wrapped = any(o.packs(profile.packing) and o.training.packing_strategy == "wrapped" for o in objectives)
    typical = TYPICAL_TOKENS[timed_as or profile.data_kind_or_typical]
    # Online RL samples within --seq-len: past its default, longer traces are what is asked for.
    online = any(o.online for o in objectives)
    threshold = info.online_seq_len + 1 if online else LONG_SEQ_FACTOR * typical
    if seq_len and seq_len >= threshold and not tokens and profile.examples and typical:
        notes.append(
            t(
                "Memory is sized for --seq-len {seq_len}, but time assumes the typical {typical}-token "
                "example: give --tokens-per-example with your examples' average length, or long "
                "examples will take many times the hours shown.",
                seq_len=seq_len,
                typical=typical,
            )
        )
    if limit is not None:
        notes += _classifier_not_packed(profile) if classifier else _not_packed(profile, objectives)
        if not classifier and info.sized.architecture == "decoder":  # an encoder generates no trace
            notes += _reasoning_traces(profile, limit, objectives)
    if tokens and limit and tokens > limit and not wrapped:
        notes += _over_limit(tokens, limit, objectives)
    return notes


def _over_limit(tokens: int, limit: int, objectives: tuple[Objective, ...]) -> list[str]:
    """Examples averaging `tokens`, past the `limit` training takes: what each trainer does with
    them. Most trainers cut them; TRL's reward trainer leaves them out whole (drops_long), and its
    DPO and KTO trainers leave out an example whose prompt alone fills the limit
    (dpo_trainer.py: "Drop examples whose prompt alone fills `max_length`", keep_start)."""
    notes = []
    dropping = [o for o in objectives if o.training.drops_long]
    if len(dropping) < len(objectives):
        notes.append(
            nt(
                "Examples average {tokens} token but training truncates them to {limit} (--seq-len): "
                "the rest of each example is never trained on; raise --seq-len (memory is sized for it).",
                "Examples average {tokens} tokens but training truncates them to {limit} (--seq-len): "
                "the rest of each example is never trained on; raise --seq-len (memory is sized for it).",
                tokens,
                tokens=tokens,
                limit=limit,
            )
        )
    if any(o.training.reference_model and not o.online for o in objectives):
        notes.append(
            t(
                "An example whose prompt alone reaches {limit} tokens is not cut but left out (TRL's "
                "DPO and KTO trainers drop it): the recipe counts both.",
                limit=limit,
            )
        )
    notes += [
        nt(
            "{objective}: examples average {tokens} token, and one longer than {limit} (--seq-len) is not "
            "cut but left out whole (TRL's trainer drops it): most would be. The recipe counts them; raise "
            "--seq-len (memory is sized for it).",
            "{objective}: examples average {tokens} tokens, and one longer than {limit} (--seq-len) is not "
            "cut but left out whole (TRL's trainer drops it): most would be. The recipe counts them; raise "
            "--seq-len (memory is sized for it).",
            tokens,
            objective=stage_label(o.name),
            tokens=tokens,
            limit=limit,
        )
        for o in dropping
    ]
    return notes


def _reasoning_traces(profile: Profile, limit: int, objectives: tuple[Objective, ...]) -> list[str]:
    """Supervised training on reasoning traces at the default lengths, said: a trace with its
    thinking runs to thousands of tokens (s1 trains its traces at 32,768: simplescaling/s1@31a10f24
    train/sft_multinode.sh, --block_size=32768), where memory is sized for the model's usual
    length and time for a short example, and TRL truncates every longer trace without a word,
    cutting off its answer (an expert's review: a 20k-trace SFT timed ~11x too short)."""
    supervised = any(not (o.online or o.training.paired) and o.id != "inference" for o in objectives)
    traces = profile.goal == "reasoning" and profile.data_kind_or_typical == "demonstrations"
    if not traces or profile.seq_len or profile.tokens_per_example or not supervised:
        return []
    return [
        t(
            "Reasoning traces (the model's thinking, then its answer) usually run to thousands of tokens "
            "(s1 trains its traces at 32,768), but memory is sized for {limit}-token sequences and time "
            "for ~{typical}-token examples, and training cuts every longer trace at {limit}, its final "
            "answer with it. Give --seq-len as your longest trace (e.g. 16k) and --tokens-per-example as "
            "their average.",
            limit=limit,
            typical=TYPICAL_TOKENS["demonstrations"],
        )
    ]


def _not_packed(profile: Profile, objectives: tuple[Objective, ...]) -> list[str]:
    """--packing asked for a stage whose trainer does not pack (TRL's DPOConfig has no `packing`,
    only `padding_free`, which drops the padding, not the pair; axolotl refuses sample_packing
    with rl, check_sample_packing_w_rl): said, since memory and time size it unpacked, as the
    recipes train it. A pair is two sequences of --seq-len each, where ms-swift packs a pair into
    one row of max_length (an expert's review: its packed DPO of Qwen2.5-7B at 8,192 tokens,
    "4 * 50GiB", modelscope/ms-swift examples/train/packing/dpo.sh)."""
    unpacked = [o for o in objectives if o.id != "inference" and not o.training.packing]
    if not profile.packing or not unpacked:
        return []
    stages = ", ".join(dict.fromkeys(stage_label(o.name) for o in unpacked))
    note = t(
        "--packing: {stages} is not packed here (TRL packs supervised and pre-training data only, "
        "and the recipes train it unpacked), so memory and time are sized unpacked, each sequence "
        "at --seq-len.",
        stages=stages,
    )
    if any(o.training.paired for o in unpacked):
        note += " " + t(
            "A pair's chosen and rejected are two such sequences; ms-swift packs a pair into one row "
            "of max_length: to size that row, give half of it as --seq-len."
        )
    return [note]


def _classifier_not_packed(profile: Profile) -> list[str]:
    """--packing for a sequence classifier: one label per example, so transformers' Trainer pads
    each batch (DataCollatorWithPadding) and packs nothing; time is for padded batches, as the
    Python recipe trains them."""
    if not profile.packing:
        return []
    return [
        t(
            "--packing: a sequence classifier is not packed (one label per example: transformers' "
            "Trainer pads each batch), so time is for padded batches; the LLaMA-Factory and axolotl "
            "recipes, which train the label as generated text, pack it."
        )
    ]


def idle_gpus_note(
    inputs: TimeInputs, gpus: int, seq_len: int | None, stages: tuple[Objective, ...]
) -> list[str]:
    """More GPUs than training sequences, said: data parallelism gives each GPU whole sequences, so
    the others sit idle and are still paid for (packed, the sequences are fewer than the examples:
    the examples as timed, at `inputs.tokens()` each)."""
    if inputs.examples is None:
        return []
    rows = inputs.examples
    if seq_len and stages and all(o.packs(inputs.packing) for o in stages):
        rows = math.ceil(inputs.examples * min(inputs.tokens(), seq_len) / seq_len)
    if gpus <= rows:
        return []
    examples = inputs.examples
    if rows == examples:
        text = nt(
            "{gpus} GPUs for {examples} example: data parallelism gives each GPU whole examples, so "
            "one GPU trains and the rest sit idle, counted in the GPU-hours and the cost; give "
            "--gpus {most}.",
            "{gpus} GPUs for {examples} examples: data parallelism gives each GPU whole examples, "
            "so at most {examples} of them train at a time and the rest sit idle, counted in the "
            "GPU-hours and the cost; give --gpus {most} or fewer.",
            examples,
            gpus=grouped(gpus),
            examples=grouped(examples),
            most=examples,
        )
    else:
        text = nt(  # two or more examples pack into fewer sequences
            "{gpus} GPUs for {examples} example packed into sequences of {seq_len} tokens (~{rows} of "
            "them): data parallelism gives each GPU whole sequences, so at most {rows} train at a time "
            "and the rest sit idle, counted in the GPU-hours and the cost; give --gpus {most} or fewer.",
            "{gpus} GPUs for {examples} examples packed into sequences of {seq_len} tokens (~{rows} of "
            "them): data parallelism gives each GPU whole sequences, so at most {rows} train at a time "
            "and the rest sit idle, counted in the GPU-hours and the cost; give --gpus {most} or fewer.",
            examples,
            gpus=grouped(gpus),
            examples=grouped(examples),
            rows=grouped(rows),
            seq_len=grouped(seq_len or 0),
            most=rows,
        )
    return [text]
