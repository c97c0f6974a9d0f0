"""Pydantic models: the knowledge base (KB) entities and the engine's inputs and outputs.

Every KB model forbids unknown fields so that a typo in a hand-edited YAML file is an error,
not a silently ignored key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=64)]
Lang = Literal["en", "ru"]

MethodKind = Literal["parameterization", "objective", "no-training"]
MemoryRating = Literal["very-low", "low", "medium", "high"]
SpeedRating = Literal["slow", "medium", "fast", "instant"]
QualityRating = Literal["context-dependent", "moderate", "high", "near-full", "excellent"]

# Ordered scales used by `compare` and by the engine's base score.
MEMORY_SCALE: tuple[MemoryRating, ...] = ("very-low", "low", "medium", "high")
SPEED_SCALE: tuple[SpeedRating, ...] = ("slow", "medium", "fast", "instant")
QUALITY_SCALE: tuple[QualityRating, ...] = ("moderate", "high", "near-full", "excellent")

# How the estimator models a parameterization; each value has one function in memory.py.
MemoryModel = Literal[
    "full",
    "partial",
    "bitfit",
    "adapters",
    "prefix",
    "prompt",
    "p-tuning",
    "lora",
    "qlora",
    "dora",
    "adalora",
    "ia3",
    "galore",
    "inference",
]


class Strict(BaseModel):
    # defer_build: validators are built on first validation, not at import; a cached KB never
    # validates, so `recommend` skips that cost entirely (see kbcache.py).
    # allow_inf_nan=False: `.inf` in a hand-edited file would otherwise reach the estimator.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)


class Text(Strict):
    """A piece of prose in English, optionally with the source guide's Russian wording."""

    en: str = Field(min_length=1)
    ru: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_english(cls, value: Any) -> Any:
        return {"en": value} if isinstance(value, str) else value

    def get(self, lang: Lang = "en") -> str:
        return self.ru if lang == "ru" and self.ru else self.en


class Reference(Strict):
    title: str
    first_author: str
    year: int = Field(ge=1950, le=2100)
    arxiv: str | None = Field(default=None, pattern=r"^\d{4}\.\d{4,5}$")
    url: str | None = None


class LibraryEntry(Strict):
    library: str
    entry: str
    status: Literal["stable", "experimental", "removed", "external"] = "stable"
    note: str | None = None


class TrainableShare(Strict):
    text: str
    low_pct: float | None = Field(default=None, ge=0, le=100)
    high_pct: float | None = Field(default=None, ge=0, le=100)
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> TrainableShare:
        if self.low_pct is not None and self.high_pct is not None and self.low_pct > self.high_pct:
            raise ValueError("low_pct is larger than high_pct")
        return self


class Ratings(Strict):
    memory: MemoryRating
    speed: SpeedRating
    quality: QualityRating


class Method(Strict):
    id: Id
    name: str
    aliases: list[str] = []
    category: Id
    kind: MethodKind
    summary: Text
    trains: Text
    trainable_share: TrainableShare | None = None
    ratings: Ratings
    use_when: list[Text] = Field(min_length=1)
    avoid_when: list[Text] = Field(min_length=1)
    data: Text
    hardware: Text
    libraries: list[LibraryEntry] = Field(min_length=1)
    hyperparameters: dict[str, str] = {}
    pitfalls: list[Text] = []
    references: list[Reference] = []
    snippet: str
    source: list[str] = Field(min_length=1)
    memory_model: MemoryModel | None = None

    @model_validator(mode="after")
    def _memory_model_matches_kind(self) -> Method:
        if self.kind == "objective" and self.memory_model is not None:
            raise ValueError("objectives carry no memory_model; parameterizations do")
        if self.kind != "objective" and self.memory_model is None:
            raise ValueError(f"a {self.kind} method needs a memory_model")
        return self


class Category(Strict):
    id: Id
    name: Text
    changes: Text
    examples: list[str]
    when: Text
    methods: list[Id]
    source: str


class GuideRule(Strict):
    """One line of the guide's §3 ("how to choose") or §7 ("practical recommendations")."""

    id: Id
    text: Text
    methods: list[Id] = Field(min_length=1)
    source: str
    engine_rules: list[Id] = Field(min_length=1)
    critique: Text | None = None


class ComparisonRow(Strict):
    label: str
    methods: list[Id] = Field(min_length=1)
    memory: MemoryRating
    speed: SpeedRating
    quality: QualityRating
    best_for: Text


class Stage(Strict):
    step: int = Field(ge=1)
    name: str
    text: Text
    methods: list[Id] = Field(min_length=1)


class Tool(Strict):
    goal: Text
    library: str
    features: Text
    methods: list[Id] = []
    note: Text | None = None


class GuideSection(Strict):
    number: int = Field(ge=1)
    title: Text
    summary: Text


class Guide(Strict):
    title: str
    version: str
    sections: list[GuideSection]
    choose: list[GuideRule]
    comparison: list[ComparisonRow]
    stages: list[Stage]
    tools: list[Tool]
    recommendations: list[GuideRule]


class Gpu(Strict):
    id: Id
    name: str
    aliases: list[str] = []
    vendor: Literal["nvidia", "amd", "apple"]
    memory_gib: float = Field(gt=0, le=100_000, description="Advertised memory; vendors' 'GB' are GiB.")
    bf16: bool
    cuda: bool
    architecture: str
    source: str


class LlmModel(Strict):
    id: Id
    name: str
    aliases: list[str] = []
    family: str
    architecture: Literal["decoder", "encoder", "encoder-decoder"]
    # Upper bounds keep a typo (1e300) from turning estimates into infinities.
    params_b: float = Field(gt=0, le=100_000)
    layers: int = Field(gt=0, le=10_000)
    hidden_size: int = Field(gt=0, le=1_000_000)
    attention_heads: int = Field(gt=0, le=100_000)
    kv_heads: int = Field(gt=0, le=100_000)
    head_dim: int | None = Field(default=None, gt=0, le=100_000, description="when not hidden / heads")
    intermediate_size: int = Field(gt=0, le=10_000_000)
    vocab_size: int = Field(gt=0, le=100_000_000)
    has_bias: bool
    # Which linear layers carry the biases: Qwen2/2.5 put them on q/k/v only (BitFit's budget).
    bias_scope: Literal["all-linear", "qkv"] = "all-linear"
    gated_mlp: bool = Field(description="SwiGLU/GeGLU MLP: gate, up and down projections")
    tied_embeddings: bool = Field(description="the LM head shares the input embedding matrix")
    source: str

    @model_validator(mode="after")
    def _grouped_attention(self) -> LlmModel:
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads (grouped-query attention)")
        return self


# --- rules ---------------------------------------------------------------------------------

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]
Scalar = str | int | float | bool | None


class Comparison(Strict):
    fact: str
    op: Operator = "eq"
    value: Scalar | list[Scalar]


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class NotOf(Strict):
    not_: Condition = Field(alias="not")


Condition = Comparison | AllOf | AnyOf | NotOf


class Effect(Strict):
    action: Literal["prefer", "avoid", "exclude"]
    weight: float = Field(default=1.0, ge=0, le=100)


class Rule(Strict):
    """If `when` holds for a candidate plan whose method is in `methods`, apply `effect`."""

    id: Id
    methods: list[Id] = Field(min_length=1)
    when: Condition | None = None
    effect: Effect
    because: Text
    source: str


class PipelineRule(Strict):
    """Chooses the objectives a training plan runs; the highest-weight match wins."""

    id: Id
    when: Condition | None = None
    pipeline: list[Id]
    weight: float = Field(default=1.0, ge=0)
    because: Text
    source: str


class KnowledgeBase(Strict):
    schema_version: Literal[1] = 1
    categories: list[Category]
    methods: list[Method]
    guide: Guide
    rules: list[Rule]
    pipelines: list[PipelineRule]
    gpus: list[Gpu] = Field(min_length=1)
    models: list[LlmModel] = Field(min_length=1)


# --- estimator inputs and outputs (plain dataclasses: the hot path builds many of them) --------

Precision = Literal["bf16", "fp16", "fp32", "pure-bf16"]
Optimizer = Literal["adamw", "adamw-8bit", "paged-adamw-8bit", "sgd"]


@dataclass(frozen=True, slots=True)
class EstimateSettings:
    objective: str
    seq_len: int
    batch_size: int
    precision: Precision
    optimizer: Optimizer
    gradient_checkpointing: bool
    lora_rank: int
    quant_bits: Literal[4, 8]
    gpus: int
    capacity_gb: float | None


@dataclass(frozen=True, slots=True)
class Breakdown:
    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float


@dataclass(frozen=True, slots=True)
class Estimate:
    method: str
    memory_model: MemoryModel
    objective: str | None
    model_params_b: float
    trainable_params_b: float
    total_gb: float
    per_gpu_gb: float
    breakdown: Breakdown
    settings: EstimateSettings
    capacity_gb: float | None
    fits: bool | None


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired for a plan, with the facts it read (the explanation trace)."""

    rule: str
    action: str
    weight: float
    because: str
    source: str
    facts: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class ToolRef:
    library: str
    entry: str
    status: str


# The facts of the candidate being scored, in the order of `Plan.own_facts`.
PLAN_FACTS = ("plan.method", "plan.kind", "plan.category", "plan.fits", "plan.memory_gb")


@dataclass(frozen=True, slots=True)
class Plan:
    """A ranked candidate. Its reasons and caveats are worded on demand: batch mode scores every
    candidate but prints only the top few. A plan holds no profile facts, so one plan object
    serves every profile that leads to it (see Engine._plan)."""

    method: str
    name: str
    kind: str
    category: str
    pipeline: tuple[str, ...]
    score: float
    fits: bool | None
    memory_gb: float | None
    fired: tuple[Rule, ...]  # the rules that matched, in the order they were evaluated
    pipeline_rule: str | None
    tools: tuple[ToolRef, ...]
    estimate: Estimate | None
    capacity_gb: float | None
    pipeline_because: str | None
    warnings: tuple[str, ...]
    pitfalls: tuple[str, ...]

    @property
    def rules(self) -> tuple[str, ...]:
        ids = tuple(r.id for r in self.fired)
        return (*ids, self.pipeline_rule) if self.pipeline_rule else ids

    def own_facts(self) -> dict[str, Scalar]:
        values = (self.method, self.kind, self.category, self.fits, self.memory_gb)
        return dict(zip(PLAN_FACTS, values, strict=True))

    @property
    def reasons(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.fits is True:
            found.append(f"Fits: needs about {self.memory_gb:g} GB per GPU of {self.capacity_gb:g} GB.")
        if self.fits is not False:
            found.extend(r.because.en for r in self.fired if r.effect.action == "prefer")
        if self.pipeline_because:
            found.append(self.pipeline_because)
        return tuple(dict.fromkeys(found))

    @property
    def caveats(self) -> tuple[str, ...]:
        found = list(self.warnings)
        if self.fits is False:
            need, have = self.memory_gb, self.capacity_gb
            found.append(f"Does not fit: needs about {need:g} GB per GPU, the GPU has {have:g} GB.")
        for rule in self.fired:
            action, because = rule.effect.action, rule.because.en
            if action == "avoid":
                found.append(because)
            elif action == "prefer" and self.fits is False:
                found.append(f"{because} — but memory wins: it does not fit ({rule.source}).")
        found.extend(self.pitfalls)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Recommendation:
    profile: dict[str, Any]
    facts: dict[str, Scalar]
    notes: tuple[str, ...]
    plans: tuple[Plan, ...]
    excluded: tuple[Plan, ...]

    def trace(self, plan: Plan) -> tuple[RuleHit, ...]:
        """Each rule that fired for the plan, with the values of the facts it read."""
        from atlas_cli.conditions import facts_used

        seen = {**self.facts, **plan.own_facts()}
        return tuple(
            RuleHit(
                r.id,
                r.effect.action,
                r.effect.weight,
                r.because.en,
                r.source,
                {name: seen.get(name) for name in dict.fromkeys(facts_used(r.when))},
            )
            for r in plan.fired
        )
