"""The atlas's memory / time / cost table: common GPUs × model sizes × the three ways to train,
each cell computed by the estimator (`ft-atlas estimate`), with the conditions it holds for."""

from __future__ import annotations

from dataclasses import dataclass

from atlas_cli.core.plans import band_text
from atlas_cli.core.profile import build_profile
from atlas_cli.core.sizing import EstimateOptions, Row, run_estimate
from atlas_cli.core.throughput.timing import FAST_FACTOR, SLOW_FACTOR
from atlas_cli.i18n import N_, nt, t
from atlas_cli.kb.catalog import Catalog
from atlas_cli.render.charts import conditions
from atlas_cli.render.documents import assumptions_json
from atlas_cli.render.plans import FIT_LABELS, money

# Cards people rent or own, from 24 to 80 GB, each with a reference price in data/prices.yaml.
GPUS = ("rtx-3090", "rtx-4090", "l4", "a100-40gb", "a100-80gb", "h100-80gb")
# One model per common size, 1B to 70B.
MODELS = ("llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "qwen2.5-14b", "qwen2.5-32b", "llama-3.1-70b")
METHODS = ("full-ft", "lora", "qlora")
# The data every cell trains on: a typical SFT set.
DATA = {"examples": 10_000, "tokens_per_example": 512, "data_kind": "demonstrations"}


@dataclass(frozen=True, slots=True)
class Cell:
    gpu: str
    model: str
    method: str
    row: Row

    def text(self) -> str:
        """Memory, fit, time and cost in the current language (as `recommend`'s table writes them)."""
        e, timed = self.row.estimate, self.row.timed
        memory = t("{gb:.1f} GB", gb=e.per_gpu_gb) + (f" {t(FIT_LABELS[e.fit])}" if e.fit else "")
        if e.fit == "no" or timed.time is None or timed.cost is None:
            return f"{memory} · —"
        hours = band_text(*timed.time.hours_band)
        if timed.cost.usd is None:
            return f"{memory} · {hours}"
        return f"{memory} · {hours} · ${money(timed.cost.low)}-{money(timed.cost.high)}"


def cell(catalog: Catalog, gpu: str, model: str, method: str) -> Cell:
    profile = build_profile({"gpu": gpu, "model": model, **DATA})
    report = run_estimate(catalog, profile, EstimateOptions(method=method))
    return Cell(gpu, model, method, report.rows[0])


def present(catalog: Catalog) -> tuple[list[str], list[str], list[str]]:
    """The table's GPUs, models and methods that this knowledge base has (`--kb` may hold others)."""
    gpus = {g.id for g in catalog.kb.gpus}
    return (
        [g for g in GPUS if g in gpus],
        [m for m in MODELS if m in catalog.models],
        [m for m in METHODS if m in catalog.methods and catalog.methods[m].memory_model is not None],
    )


def cells(catalog: Catalog) -> list[Cell]:
    gpus, models, methods = present(catalog)
    return [cell(catalog, g, m, method) for method in methods for m in models for g in gpus]


def conditions_text(sample: Cell) -> str:
    """The estimator's conditions (length, batch, precision, ...) and the data's, in words."""
    e, timed = sample.row.estimate, sample.row.timed
    data = ""
    if timed.time is not None and timed.time.stages:
        work = timed.time.stages[0].workload
        data = " " + t(
            DATA_TEXT,
            examples=nt("{n:,} example", "{n:,} examples", work.examples, n=work.examples),
            per=nt("~{n:,} token", "~{n:,} tokens", work.tokens_per_example, n=work.tokens_per_example),
            epochs=work.epochs,
            fast=FAST_FACTOR,
            slow=SLOW_FACTOR,
        )
    return conditions(assumptions_json(e)) + data


DATA_TEXT = N_(
    "Data: {examples} of {per}, {epochs:g} epochs of SFT, unpacked; time is a band of {fast:g}-{slow:g}x "
    "the estimate. LoRA: rank 16 on all linear layers; QLoRA: a 4-bit base. Full fine-tuning on one GPU "
    "(no sharding, no offload)."
)
