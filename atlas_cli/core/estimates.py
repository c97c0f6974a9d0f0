"""The memory estimator's inputs and outputs. Plain frozen dataclasses: batch mode builds many."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (`ft-atlas schema`)


@dataclass(frozen=True, slots=True)
class EstimateSettings:
    objective: str
    seq_len: int
    batch_size: int
    precision: str  # a key of kb.vocabulary.PRECISIONS
    optimizer: str  # a key of kb.vocabulary.OPTIMIZERS
    gradient_checkpointing: bool
    lora_rank: int
    quant_bits: int  # 4 or 8: the frozen base of QLoRA
    gpus: int
    capacity_gb: float | None


class Breakdown(TypedDict):
    """Memory per GPU by component, in GB; the same shape in every JSON document."""

    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float


@dataclass(frozen=True, slots=True)
class Estimate:
    method: str
    memory_model: str
    objective: str | None
    model_params_b: float
    trainable_params_b: float
    total_gb: float
    per_gpu_gb: float
    breakdown: Breakdown
    settings: EstimateSettings
    capacity_gb: float | None
    fits: bool | None
