"""Estimates for one model across methods: `ft-atlas estimate` with or without --method."""

from __future__ import annotations

from dataclasses import dataclass, replace

from atlas_cli.catalog import Catalog
from atlas_cli.errors import UsageError
from atlas_cli.memory import estimate
from atlas_cli.models import Estimate, EstimateSettings, Method, Optimizer, Precision
from atlas_cli.resolve import Hardware, ModelInfo, choose_precision


@dataclass(frozen=True, slots=True)
class Variant:
    method: str
    label: str
    optimizer: Optimizer | None = None
    precision: Precision | None = None
    quant_bits: int | None = None


# Every training parameterization, plus the memory-saving variants of full fine-tuning that the
# LLaMA-Factory table lists, plus serving for RAG / ICL. BitFit is dropped for bias-free models.
VARIANTS: tuple[Variant, ...] = (
    Variant("full-ft", "Full FT (AdamW, mixed precision)"),
    Variant("full-ft", "Full FT (8-bit AdamW)", optimizer="adamw-8bit"),
    Variant("full-ft", "Full FT (pure bf16)", precision="pure-bf16"),
    Variant("galore", "GaLore"),
    Variant("partial-ft", "Partial FT (top 25 % of layers)"),
    Variant("bitfit", "BitFit"),
    Variant("adapters", "Adapters (bottleneck)"),
    Variant("lora", "LoRA"),
    Variant("dora", "DoRA"),
    Variant("adalora", "AdaLoRA"),
    Variant("qlora", "QLoRA 8-bit", quant_bits=8),
    Variant("qlora", "QLoRA 4-bit", quant_bits=4),
    Variant("ia3", "IA3"),
    Variant("prefix-tuning", "Prefix tuning"),
    Variant("p-tuning", "P-tuning"),
    Variant("prompt-tuning", "Prompt tuning"),
    Variant("rag", "RAG (inference)"),
    Variant("icl", "ICL (inference)"),
)


def trainable_method(catalog: Catalog, query: str) -> Method:
    method = catalog.method(query)
    if method.kind == "objective":
        raise UsageError(
            f"--method: '{method.id}' is an objective; pass it as --objective {method.id} "
            "with a parameterization such as --method lora"
        )
    return method


def objective_id(catalog: Catalog, query: str) -> str:
    objectives = ", ".join(m.id for m in catalog.kb.methods if m.kind == "objective")
    try:
        method = catalog.method(query)
    except UsageError:
        raise UsageError(f"--objective: unknown objective '{query}'; choose from {objectives}") from None
    if method.kind != "objective":
        raise UsageError(f"--objective: '{method.id}' is not an objective; choose from {objectives}")
    return method.id


def _apply(
    variant: Variant, settings: EstimateSettings, hardware: Hardware
) -> tuple[EstimateSettings, list[str]]:
    changes: dict[str, object] = {}
    warnings: list[str] = []
    if variant.optimizer:
        changes["optimizer"] = variant.optimizer
    if variant.precision:
        precision, warning = choose_precision(variant.precision, hardware)
        changes["precision"] = precision
        warnings += [warning] if warning else []
    if variant.quant_bits:
        changes["quant_bits"] = variant.quant_bits
    return replace(settings, **changes), warnings  # type: ignore[arg-type]


def sweep(
    catalog: Catalog, info: ModelInfo, hardware: Hardware, settings: EstimateSettings
) -> list[tuple[str, Estimate, list[str]]]:
    """All variants that apply to this model, sorted by memory per GPU (smallest first)."""
    rows = []
    for variant in VARIANTS:
        method = catalog.methods.get(variant.method)
        if method is None or method.memory_model is None:
            continue
        if variant.method == "bitfit" and not info.shape.has_bias:
            continue
        if variant.precision == "pure-bf16" and not hardware.bf16:
            continue  # no bf16 on this GPU (V100, T4): the variant does not exist there
        varied, warnings = _apply(variant, settings, hardware)
        rows.append((variant.label, estimate(method.id, method.memory_model, info.shape, varied), warnings))
    return sorted(rows, key=lambda row: (row[1].per_gpu_gb, row[0]))


def single(method: Method, info: ModelInfo, settings: EstimateSettings) -> tuple[str, Estimate]:
    assert method.memory_model is not None
    label = method.name
    if method.memory_model == "qlora":
        label = f"{method.name} {settings.quant_bits}-bit"
    return label, estimate(method.id, method.memory_model, info.shape, settings)
