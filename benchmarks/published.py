"""Set ft-atlas's memory estimates beside measured runs (benchmarks/measured.py) and beside two
projects' own estimate tables, and print the comparison as Markdown for docs/memory.md.

    python benchmarks/published.py          (from the repository root)

Each measured row is estimated under its own conditions (model, method, batch, sequence length,
precision, checkpointing, stack, GPUs). The estimate tables (LLaMA-Factory README, Unsloth docs)
state no batch or sequence length: they are compared at `ft-atlas estimate --model-size SIZE`'s
defaults (micro-batch 1, 2048 tokens, checkpointing, AdamW, bf16, LoRA r=16 on all linear
layers, 4-bit NF4 with double quantization), one GPU.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from atlas_cli.core.estimates import Estimate, EstimateSettings
from atlas_cli.core.memory import estimate, gib_to_gb
from atlas_cli.core.memory.search import estimator, largest
from atlas_cli.core.profile import build_profile
from atlas_cli.core.resolve import resolve_hardware, resolve_model, settings_for, with_attention
from atlas_cli.core.sizing import EstimateOptions, run_estimate
from atlas_cli.core.throughput.step import Work, micro_step
from atlas_cli.core.throughput.timing import FAST_FACTOR, SLOW_FACTOR, prefix
from atlas_cli.core.throughput.workload import Workload, batches
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base
from benchmarks.measured import (
    MEMORY_ROWS,
    THROUGHPUT_ROWS,
    WALL_TIME_ROWS,
    MemoryRow,
    ThroughputRow,
    WallTimeRow,
)


@dataclass(frozen=True, slots=True)
class Setup:
    """One row of a published table, as the estimator models it."""

    label: str
    method: str
    memory_model: str
    precision: str | None = None
    quant_bits: int = 4


FULL_AMP = Setup("Full FT (AMP, AdamW)", "full-ft", "full")
FULL_PURE_BF16 = Setup("Full FT (pure bf16)", "full-ft", "full", precision="pure-bf16")
LORA_16 = Setup("LoRA 16-bit", "lora", "lora")
QLORA_8 = Setup("QLoRA 8-bit", "qlora", "qlora", quant_bits=8)
QLORA_4 = Setup("QLoRA 4-bit", "qlora", "qlora", quant_bits=4)

# LLaMA-Factory README, "Hardware Requirement": GB by model size (B parameters).
LLAMA_FACTORY_SIZES: tuple[float, ...] = (7, 14, 30, 70)
LLAMA_FACTORY: dict[Setup, tuple[float, ...]] = {
    FULL_AMP: (120, 240, 600, 1200),
    FULL_PURE_BF16: (60, 120, 300, 600),
    LORA_16: (16, 32, 64, 160),
    QLORA_8: (10, 20, 40, 80),
    QLORA_4: (6, 12, 24, 48),
}

# Unsloth documentation, "requirements": GB by model size (B parameters).
UNSLOTH_SIZES: tuple[float, ...] = (3, 7, 8, 14, 32, 70, 405)
UNSLOTH: dict[Setup, tuple[float, ...]] = {
    QLORA_4: (3.5, 5, 6, 8.5, 26, 41, 237),
    LORA_16: (8, 19, 22, 33, 76, 164, 950),
}


def load_catalog() -> Catalog:
    return Catalog(load_knowledge_base(bundled_kb_path()))


def ours(catalog: Catalog, setup: Setup, size_b: float) -> tuple[Estimate, str]:
    """Our per-GPU estimate for a bare size, as `ft-atlas estimate --model-size` computes it."""
    hardware = resolve_hardware(catalog, None, None, 1)
    info = resolve_model(catalog, None, size_b)
    sft = catalog.objectives["sft"]
    settings, _ = settings_for(
        info, hardware, objective=sft, precision=setup.precision, quant_bits=setup.quant_bits
    )
    result = estimate(setup.method, setup.memory_model, info.sized, settings)
    return result, info.template or "?"


def _size(size_b: float) -> str:
    return f"{size_b:g}B"


def comparison(
    catalog: Catalog, title: str, sizes: Sequence[float], table: dict[Setup, tuple[float, ...]]
) -> str:
    """One Markdown table: a row per setup, a column per size, cells 'ours / theirs (ratio)'."""
    header = ["Setup", *(_size(s) for s in sizes)]
    lines = [
        f"**{title}** — GB per GPU, ours / theirs (ratio ours ÷ theirs)",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for setup, published in table.items():
        cells = [setup.label]
        for size_b, theirs in zip(sizes, published, strict=True):
            mine, _ = ours(catalog, setup, size_b)
            cells.append(f"{mine.per_gpu_gb:.1f} / {theirs:g} ({mine.per_gpu_gb / theirs:.2f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def templates(catalog: Catalog, sizes: Sequence[float]) -> str:
    """The shape (layers, hidden size, vocabulary) assumed for each bare size."""
    pairs = [f"{_size(s)} → {ours(catalog, QLORA_4, s)[1]}" for s in sorted(set(sizes))]
    return "Shapes assumed for the bare sizes: " + "; ".join(pairs) + ".\n"


# A row's settings that `estimate` takes as its own flags or from the method's card, not the
# profile's (settings_for).
PLACEMENT = (
    "sharding",
    "fsdp",
    "quantized_experts",
    "sixteen_bit_experts",
    "virtual_tokens",
    "optimizer_in_backward",
    "tiled_mlp",
    "lora_dropout",
    "attention",
    "kbit_preparation",
    "sequence_parallel",
)


def _options(catalog: Catalog, given: Mapping[str, Any]) -> dict[str, Any]:
    """A row's estimator options (PLACEMENT apart), its objective (SFT unless it says) as the
    catalog defines it."""
    options = {k: v for k, v in given.items() if k not in PLACEMENT}
    options["objective"] = catalog.objectives[str(options.get("objective", "sft"))]
    return options


def _placed(settings: EstimateSettings, given: Mapping[str, Any]) -> EstimateSettings:
    """The settings with the row's PLACEMENT: data parallel, 16-bit experts (as the stack loads
    them), the card's virtual tokens, the whole-model optimizer step, no LoRA dropout, the hf
    stack's PEFT preparation and no sequence parallelism unless it says."""
    return settings._replace(
        sharding=given.get("sharding", "ddp"),
        quantized_experts=given.get("quantized_experts", False),
        sixteen_bit_experts=given.get("sixteen_bit_experts", False),
        virtual_tokens=given.get("virtual_tokens", settings.virtual_tokens),
        optimizer_in_backward=given.get("optimizer_in_backward", False),
        lora_dropout=given.get("lora_dropout", 0.0),
        fsdp=given.get("fsdp", False),
        tiled_mlp=given.get("tiled_mlp", False),
        kbit_preparation=given.get("kbit_preparation", "upcast"),
        sequence_parallel=given.get("sequence_parallel", 1),
    )


def measured_estimate(catalog: Catalog, row: MemoryRow) -> float:
    """Our estimate for a measured row: GB per GPU, or (a longest-context row) the longest
    sequence `estimate --max seq-len` reports for the card (within the safety margin). A row that
    names its GPU is estimated on that card, as `estimate --gpu` would."""
    hardware = resolve_hardware(catalog, row.gpu, None, row.gpus)
    info = resolve_model(catalog, row.model, None)
    settings, _ = settings_for(info, hardware, **_options(catalog, row.settings))
    attention = row.settings.get("attention", "auto")
    info, settings = with_attention(info, _placed(settings, row.settings), attention)
    run = estimator(row.method, row.memory_model, info.sized)
    if not row.longest_context:
        return run(settings).per_gpu_gb
    on_card = settings._replace(capacity_gb=gib_to_gb(row.capacity_gib or 0.0))
    return float(largest(run, on_card, "seq_len") or 0)


def measured_table(catalog: Catalog) -> str:
    lines = [
        "| measured run | measured | ft-atlas | ratio |",
        "|---|---|---|---|",
    ]
    for row in MEMORY_ROWS:
        ours_value = measured_estimate(catalog, row)
        unit = " tokens" if row.longest_context else " GB"
        fmt = "{:.0f}" if row.longest_context else "{:.2f}"
        mark = "" if row.public else " ◦"
        note = f" ({row.note})" if row.note else ""
        lines.append(
            f"| {row.conditions}{note}. *{row.source}*{mark} | {fmt.format(row.measured_gb)}{unit} "
            f"| {fmt.format(ours_value)}{unit} | {ours_value / row.measured_gb:.2f} |"
        )
    lines.append("")
    lines.append(
        "◦ not in the public set the tests hold within ±25 %. GB = 10^9 bytes; GiB figures are "
        "converted. A longest-context row compares the longest sequence whose estimate stays within "
        "the card's memory within the safety margin, as `estimate --max seq-len` reports it."
    )
    return "\n".join(lines) + "\n"


def throughput_estimate(catalog: Catalog, row: ThroughputRow) -> float:
    """Our tokens per second (all GPUs) for a measured run, as `ft-atlas estimate` models it."""
    hardware = resolve_hardware(catalog, row.gpu, None, row.gpus)
    assert hardware.device is not None, row.gpu
    info = resolve_model(catalog, row.model, None)
    given = row.settings if row.fused_optimizer else {**row.settings, "optimizer": "adamw-foreach"}
    settings, _ = settings_for(info, hardware, **_options(catalog, given))
    info, settings = with_attention(info, _placed(settings, given), given.get("attention", "auto"))
    e = estimate(row.method, row.memory_model, info.sized, settings)
    work = Work(row.memory_model, info.sized, e.settings, e.trainable_params_b * 1e9)
    workload = Workload(10_000, row.tokens_per_example, 1.0, row.packing)
    s = settings
    # A sequence split over `sequence_parallel` GPUs: that many GPUs train each row together.
    replicas = row.gpus // s.sequence_parallel
    b = batches(
        s.objective, workload, s.seq_len, s.batch_size, replicas, s.sequence_parallel, prefix=prefix(work)
    )
    # The measured runs report their own optimizer cadence: no gradient accumulation.
    step = micro_step(work, hardware.device, b.computed_tokens, b.attended, 1, row=b.row)
    real = b.tokens / b.micro_steps / replicas  # real tokens per micro-step on one replica
    return real * replicas / step.seconds


def throughput_table(catalog: Catalog) -> str:
    lines = ["| measured run | GPU | measured tokens/s | ft-atlas | ratio |", "|---|---|---|---|---|"]
    for row in THROUGHPUT_ROWS:
        ours_value = throughput_estimate(catalog, row)
        gpus = f"{row.gpus}x {row.gpu}" if row.gpus > 1 else row.gpu
        mark = "" if row.public else " ◦"
        note = f" ({row.note})" if row.note else ""
        lines.append(
            f"| {row.conditions}{note}. *{row.source}*{mark} | {gpus} "
            f"| {row.measured_tokens_per_second:,.0f} | {ours_value:,.0f} "
            f"| {ours_value / row.measured_tokens_per_second:.2f} |"
        )
    lines += [
        "",
        "◦ not in the public set the tests hold within 0.6x-1.6x. Tokens per second over all GPUs, real "
        "tokens (padding not counted); ratio = ft-atlas ÷ measured.",
    ]
    return "\n".join(lines) + "\n"


def wall_time_estimate(catalog: Catalog, row: WallTimeRow) -> float:
    """Our wall-clock seconds for a measured run, as `ft-atlas estimate` with its flags says."""
    (found,) = run_estimate(catalog, build_profile(row.profile), EstimateOptions(**row.options)).rows
    time = found.timed.time
    assert time is not None, row.conditions
    return time.seconds


def wall_time_table(catalog: Catalog) -> str:
    lines = ["| measured run | measured | ft-atlas | ratio |", "|---|---|---|---|"]
    for row in WALL_TIME_ROWS:
        ours_value = wall_time_estimate(catalog, row)
        mark = "" if row.public else " ◦"
        note = f" ({row.note})" if row.note else ""
        lines.append(
            f"| {row.conditions}{note}. *{row.source}*{mark} | {row.measured_seconds:,.0f} s "
            f"| {ours_value:,.0f} s | {ours_value / row.measured_seconds:.2f} |"
        )
    lines += [
        "",
        f"◦ not in the public set the tests hold within the time band ({FAST_FACTOR}x-{SLOW_FACTOR}x). "
        "Wall-clock seconds of the whole run, sampling included; ratio = ft-atlas ÷ measured.",
    ]
    return "\n".join(lines) + "\n"


def report(catalog: Catalog) -> str:
    """docs/memory.md's calibration section."""
    sizes = (*LLAMA_FACTORY_SIZES, *UNSLOTH_SIZES)
    return "\n".join(
        [
            "**Measured runs** — peak memory per GPU as each source reports it, beside ft-atlas's "
            "estimate under the same conditions",
            "",
            measured_table(catalog),
            comparison(catalog, "LLaMA-Factory README (their estimates)", LLAMA_FACTORY_SIZES, LLAMA_FACTORY),
            comparison(catalog, "Unsloth documentation (their stated minimums)", UNSLOTH_SIZES, UNSLOTH),
            templates(catalog, sizes),
            "Settings for the two estimate tables: micro-batch 1, 2048 tokens, gradient checkpointing, "
            "AdamW, bf16, LoRA r=16 on all linear layers, NF4 + double quantization, one GPU, stack hf, "
            "GB = 10^9 bytes.\n",
        ]
    )


def main() -> None:
    catalog = load_catalog()
    sys.stdout.write(report(catalog))
    sys.stdout.write("\n**Measured throughput** — tokens per second, beside ft-atlas's estimate\n\n")
    sys.stdout.write(throughput_table(catalog))
    sys.stdout.write("\n**Measured wall time** — whole runs, beside ft-atlas's estimate\n\n")
    sys.stdout.write(wall_time_table(catalog))


if __name__ == "__main__":
    main()
