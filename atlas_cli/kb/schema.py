"""The knowledge base (KB) schema: pydantic models of every section of the YAML files.

The models validate; commands work with the plain records generated from them (kb/records.py,
scripts/generate_records.py), and the behaviour both share is in kb/behaviour.py.

Every model forbids unknown fields, so that a typo in a hand-edited file is an error, not a
silently ignored key. Conditions are checked against the fact definitions (kb/facts.py): an
unknown fact or a value of the wrong type is a located error, never a crash later.
"""

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from atlas_cli.kb.behaviour import (
    LARGE_MODELS_KEY,
    LARGE_SETS_KEY,
    MAX_LAYERS,
    MAX_NUMBER,
    SELECTED_BY,
    AllOfBehaviour,
    AnyOfBehaviour,
    ComparisonBehaviour,
    EffectBehaviour,
    GatedRepositoryBehaviour,
    GpuBehaviour,
    HostedOfferBehaviour,
    HyperparameterBehaviour,
    LlmModelBehaviour,
    MemoryRating,
    MethodBehaviour,
    MethodSelectorBehaviour,
    NotOfBehaviour,
    PriceKind,
    QualityRating,
    RatingCorrectionBehaviour,
    RuleBehaviour,
    Scalar,
    SpeedRating,
    TextBehaviour,
    TrainingBehaviour,
    looks_numeric,
)
from atlas_cli.kb.facts import FACTS, FactSpec, fact_spec
from atlas_cli.kb.vocabulary import (
    HUB_ID_PATTERN,
    KB_SCHEMA_VERSION,
    MAX_GENERATIONS,
    MEMORY_MODELS,
    OPTIMIZERS,
    PRECISIONS,
    HostedService,
    HostedStatus,
    MethodKind,
    ModelVariant,
    Runs,
    WeightsDtype,
)

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$", max_length=64)]
# Another name a user may type: printable (an alias with a newline passed as a Hub id into recipes).
Alias = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f-\x9f]+$", max_length=200)]
MAX_STRING_CHARS = 10_000  # any one string of a KB: prose, a snippet, a note (Strict)


def _member_of(names: dict[str, Any], what: str) -> AfterValidator:
    """Checks that a string is one of `names`' keys (a table in kb/vocabulary.py)."""

    def check(value: str) -> str:
        if value not in names:
            raise ValueError(f"unknown {what} '{value}'; choose from {', '.join(names)}")
        return value

    return AfterValidator(check)


def _enum(names: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(names)})


MemoryModel = Annotated[str, _member_of(MEMORY_MODELS, "memory model"), _enum(MEMORY_MODELS)]
Precision = Annotated[str, _member_of(PRECISIONS, "precision"), _enum(PRECISIONS)]
Optimizer = Annotated[str, _member_of(OPTIMIZERS, "optimizer"), _enum(OPTIMIZERS)]


def _bounded(value: float) -> float:
    if abs(value) > MAX_NUMBER:
        # An integer of thousands of digits has no float to format with :g.
        shown = f"{value:.3g}" if abs(value) < 1e300 else f"a {len(str(abs(int(value))))}-digit number"
        raise ValueError(f"{shown} is out of range (at most {MAX_NUMBER:g} in size)")
    return value


Number = Annotated[float, AfterValidator(_bounded)]


class Strict(BaseModel):
    # defer_build: validators are built on first validation, not at import; a cached KB never
    # validates, so `recommend` skips that cost entirely (see kb/cache.py).
    # allow_inf_nan=False: `.inf` in a hand-edited file would otherwise reach the estimator.
    # strict=True: `layers: true` or `memory_gib: "24"` is refused, not read as 1 or 24 (a maintainer's
    # review); YAML numbers, booleans and lists are the types the fields declare.
    # str_max_length: a 4.5 MB `because` passed validate and took `recommend` 31 s to wrap (an
    # attacker's review); the bundled KB's longest string is a 1,300-character snippet.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        allow_inf_nan=False,
        strict=True,
        str_max_length=MAX_STRING_CHARS,
    )


class Text(TextBehaviour, Strict):
    """A piece of prose in English, optionally with its Russian wording (the guide's own); the
    others are translated by the catalog (i18n.py)."""

    en: str = Field(min_length=1)
    ru: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_english(cls, value: Any) -> Any:
        return {"en": value} if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _with_russian(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        return self._dump_hook(data, info.context) if isinstance(data, dict) else data


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
    # When the entry applies (a condition over the profile's facts, as in rules): `recommend`
    # lists it among a plan's next steps only then (mlx-lm on Apple silicon, ZeRO-3 on several
    # GPUs, a sequence classifier for an encoder). `show` lists every entry.
    when: "Condition | None" = None


class Pitfall(Text):
    """A method's pitfall, as plain text or with `when`: a condition over the profile's facts
    under which it applies (PEFT's target_modules default is no pitfall of mlx-lm on a Mac)."""

    when: "Condition | None" = None


class TrainableShare(Strict):
    text: str
    low_pct: float | None = Field(default=None, ge=0, le=100)
    high_pct: float | None = Field(default=None, ge=0, le=100)
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> "TrainableShare":
        if self.low_pct is not None and self.high_pct is not None and self.low_pct > self.high_pct:
            raise ValueError("low_pct is larger than high_pct")
        return self


class Ratings(Strict):
    memory: MemoryRating
    speed: SpeedRating
    quality: QualityRating


class RatingCorrection(RatingCorrectionBehaviour, Strict):
    """Where ft-atlas scores a method differently from the guide's §4 table (which `compare`
    still prints as written): the corrected ratings, why, and the source."""

    memory: MemoryRating | None = None
    speed: SpeedRating | None = None
    quality: QualityRating | None = None
    because: Text
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _corrects_something(self) -> "RatingCorrection":
        if self.memory is None and self.speed is None and self.quality is None:
            raise ValueError("a correction changes at least one of memory, speed, quality")
        return self


class HostedOffer(HostedOfferBehaviour, Strict):
    """One provider's hosted service (a tuning or embedding API): what it does, which models,
    what it costs in words (amounts change: read the source, dated), and where that is written."""

    provider: str = Field(min_length=1)
    status: HostedStatus = "available"
    status_note: Text | None = None
    services: list[HostedService] = Field(min_length=1)
    models: list[str] = Field(min_length=1, description="what the provider lets you tune (or embed with)")
    entry: str = Field(min_length=1, description="the API call or command that starts a job")
    price: Text = Field(description="how it is billed, with the unit; amounts only as read")
    date: str = Field(min_length=4, description="when the source was read or dated")
    source: list[str] = Field(min_length=1)
    data_leaves_machine: bool = True
    serves: list[str] = Field(
        default=[],
        description="API model names (lower-case prefixes: 'gpt-', 'gemini-'; one with an organisation is "
        "matched against the whole id: 'accounts/fireworks/') this offer decides tuning for",
    )
    chat_endpoint: str | None = Field(
        default=None,
        pattern=r"^https://[^\s'\"\\]+$",
        description="the provider's OpenAI-compatible chat endpoint, for the models it serves (prompting "
        "recipes call it with the OpenAI SDK); null: OpenAI's own, or none",
    )
    key_env: str | None = Field(
        default=None, pattern=r"^[A-Z][A-Z0-9_]*$", description="the variable its SDKs read the API key from"
    )
    tunes: dict[HostedService, list[str]] = Field(
        default={},
        description="of the models it serves, the ones each service tunes (lower-case name prefixes; a "
        "dated version such as 'gpt-5-2025-08-07' also tunes its undated name, 'gpt-5', which "
        "deploys that version); empty: every service tunes every model it serves",
    )

    @model_validator(mode="after")
    def _status_is_explained(self) -> "HostedOffer":
        if self.status != "available" and not self.status_note:
            raise ValueError(f"status '{self.status}' needs a status_note saying since when and what to do")
        if (self.chat_endpoint is None) != (self.key_env is None):
            raise ValueError("chat_endpoint and key_env go together")
        extra = sorted(set(self.tunes) - set(self.services))
        if extra:
            raise ValueError(f"tunes names services the offer does not list in services: {', '.join(extra)}")
        return self


HyperValue = (
    Annotated[str, Field(max_length=200)] | bool | int | Number | list[Annotated[str, Field(max_length=200)]]
)


class LargeSets(Strict):
    """A hyperparameter's value for a training set of `examples` examples or more (an SFT set that
    large is trained once, not for the trainers' default 3 epochs), with its source."""

    examples: int = Field(ge=1, le=10**12)
    value: float = Field(gt=0, le=10**6)
    source: str = Field(min_length=1)
    classifiers: bool = Field(
        default=True,
        description="it holds for a stage that trains a classifier (a new score head over labels) too; "
        "false: a classifier keeps the usual value, however large its set",
    )


class LargeModels(Strict):
    """A hyperparameter's values for a model of `params_b` billion parameters or more (a larger
    model trains at a lower rate), for full-weight training and with PEFT, with their source. A
    mixture of experts counts the parameters one token uses."""

    params_b: float = Field(gt=0, le=10**5)
    value: float | None = Field(default=None, gt=0, le=10**6)
    with_peft: float | None = Field(default=None, gt=0, le=10**6)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _gives_a_value(self) -> "LargeModels":
        if self.value is None and self.with_peft is None:
            raise ValueError("give value, with_peft, or both")
        return self


class Hyperparameter(HyperparameterBehaviour, Strict):
    """A hyperparameter as a value (what recipes use) with its explanation and source.

    `value` is for full-weight training (or the only value); `with_peft` applies when the
    plan trains a parameter-efficient method (LoRA, soft prompts, ...) instead; `large_sets`, for
    a set of that many examples or more; `large_models`, for a model that large or larger."""

    value: HyperValue | None = None
    with_peft: HyperValue | None = None
    large_sets: LargeSets | None = None
    large_models: LargeModels | None = None
    note: Text | None = None
    source: str | None = None
    # Names people ask for this option by as if it were a method ("PiSSA"): `show` and `--method`
    # say which method and hyperparameter it is.
    asked_as: list[str] = []

    @model_validator(mode="after")
    def _says_something(self) -> "Hyperparameter":
        if self.value is None and self.note is None:
            raise ValueError("give a value, a note, or both")
        if self.value is not None and not self.source:
            raise ValueError("a value needs its source")
        for value in (self.value, self.with_peft):
            if isinstance(value, int) and not isinstance(value, bool):
                _bounded(value)
            if isinstance(value, str) and looks_numeric(value):
                raise ValueError(f"'{value}' is text: YAML reads a number only with a dot (2.0e-5, not 2e-5)")
        return self


class Variant(Strict):
    """A memory-saving setting `estimate` and `recommend` consider for a method."""

    label: str
    optimizer: Optimizer | None = None
    precision: Precision | None = None
    quant_bits: Literal[4, 8] | None = None
    serving_bits: Literal[4, 8] | None = Field(
        default=None,
        description="no-training methods: the weights served in 8 or 4 bits (bitsandbytes LLM.int8 / NF4)",
    )
    layerwise: bool = Field(
        default=False, description="GaLore's per-layer updates: one GPU, no gradient accumulation"
    )
    quantized_experts: bool = Field(
        default=False,
        description="QLoRA: a mixture of experts' fused routed experts load in 4 bits too (axolotl's "
        "quantize_moe_experts; bitsandbytes alone quantizes nn.Linear layers only); data parallel "
        "only, as the recipes write it",
    )


class Training(TrainingBehaviour, Strict):
    """How a trainer runs an objective: what the estimator and the time model size it by.

    An objective added in YAML alone is sized from this block; how many completions an online
    objective samples per prompt is its `num_generations` hyperparameter (one without it)."""

    paired: bool = Field(
        default=False,
        description="chosen and rejected run through the model together: two sequences per example",
    )
    reference_model: bool = Field(
        default=False,
        description="a frozen copy of the policy is loaded (a PEFT policy switches its adapters off instead)",
    )
    reference_precomputable: bool = Field(
        default=False,
        description="the trainer can compute the reference log-probabilities in one pass before training "
        "and load no copy (TRL's precompute_ref_log_probs, which DPOConfig and KTOConfig have)",
    )
    no_grad_forwards: int = Field(
        default=0,
        ge=0,
        le=8,
        description="forward passes without gradients per trained token (reference, KL batch)",
    )
    online: bool = Field(default=False, description="samples completions from the policy during training")
    vllm: bool = Field(
        default=False, description="the trainer can sample with a colocated vLLM engine (use_vllm)"
    )
    vllm_forwards: int = Field(
        default=0, ge=0, le=8, description="forward passes without gradients added when vLLM samples"
    )
    value_model: bool = Field(
        default=False, description="a reward model and a value model of the policy's size run beside it (PPO)"
    )
    update_passes: int = Field(
        default=1,
        ge=1,
        le=16,
        description="optimisation passes over each batch of sampled completions (PPO's num_ppo_epochs)",
    )
    scalar_head: bool = Field(default=False, description="a scalar score head: no vocabulary logits")
    drops_long: bool = Field(
        default=False,
        description="the trainer leaves out an example longer than max_length whole instead of cutting "
        "it (TRL's RewardTrainer filters such pairs)",
    )
    fused_logits: bool = Field(
        default=True,
        description="TRL's trainer projects through the LM head in tiles (add_fused_lm_head: SFT, DPO, "
        "KTO, GRPO, RLOO); false where it takes the model's whole logits (ORPO, CPO/SimPO, PPO)",
    )
    bf16_quantized_adapters: bool = Field(
        default=True,
        description="TRL's trainer casts a 4-bit model's trainable parameters to bf16 (SFT, DPO, KTO, "
        "GRPO, RLOO, reward); false where PEFT's fp32 adapters stay (ORPO, CPO/SimPO, PPO)",
    )
    packing: bool = Field(default=False, description="the trainer packs sequences (TRL packing)")
    packing_strategy: Literal["bfd", "wrapped"] = Field(
        default="bfd",
        description="how it packs (TRL SFTConfig.packing_strategy): bfd keeps each example apart "
        "(padding-free attention), wrapped concatenates documents and cuts full rows that attention "
        "spans whole",
    )
    sequence_parallel: bool = Field(
        default=False, description="one sequence can be split over GPUs (Ulysses / context parallelism)"
    )
    activation_offloading: bool = Field(
        default=False,
        description="the trainer can move the activations it saves for the backward to CPU RAM "
        "(TRL's activation_offloading: SFT, DPO, KTO and reward trainers)",
    )
    mlx_lm: bool = Field(
        default=False,
        description="mlx-lm trains this objective (mlx_lm.lora: SFT and continued pre-training), so a Mac's "
        "plans for it are sized with its stack",
    )
    batch_tokens: int | None = Field(
        default=None,
        ge=1,
        description="tokens per optimizer step, where the objective is batched in tokens (continued "
        "pre-training): the global batch is the rows of the sequence length that hold them",
    )
    min_batch: int = Field(default=1, ge=1, le=64, description="the smallest micro-batch the trainer accepts")
    min_batch_why: Text | None = Field(default=None, description="why, as the estimate's warning says it")
    good_batch: int = Field(
        default=1, ge=1, le=64, description="the micro-batch it trains well at, when it fits"
    )
    good_batch_why: Text | None = Field(
        default=None, description="why, as the recipe's batch setting says it"
    )
    global_batch_why: Text | None = Field(
        default=None,
        description="published runs of this objective that bracket ft-atlas's 16 examples per optimizer "
        "step, as the recipe's gradient accumulation cites them",
    )
    config: str | None = Field(default=None, description="the TRL config class that sets its options")
    source: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Training":
        if self.vllm and not self.online:
            raise ValueError("vllm: only an online objective samples")
        if self.vllm_forwards and not self.vllm:
            raise ValueError("vllm_forwards: the objective does not sample with vLLM (vllm: false)")
        if self.good_batch < self.min_batch:
            raise ValueError("good_batch is below min_batch")
        if self.min_batch_why is not None and self.min_batch == 1:
            raise ValueError("min_batch_why: explains a min_batch above 1")
        if self.good_batch_why is not None and self.good_batch == self.min_batch:
            raise ValueError("good_batch_why: explains a good_batch above min_batch")
        if self.paired and self.online:
            raise ValueError("an objective is paired (offline) or online, not both")
        if self.drops_long and not self.paired:
            raise ValueError("drops_long: only a paired objective's trainer leaves a pair out whole")
        if self.packing_strategy == "wrapped" and not self.packing:
            raise ValueError("packing_strategy: the objective does not pack (packing: false)")
        if self.global_batch_why is not None and (self.online or self.batch_tokens is not None):
            raise ValueError("global_batch_why: an online or token-batched objective sizes its step apart")
        return self


class HostedAs(Strict):
    """What a provider runs instead of an objective it does not offer (ORPO: SFT, then DPO)."""

    objectives: list[Id] = Field(min_length=1, max_length=4)
    because: Text


class Method(MethodBehaviour, Strict):
    id: Id
    name: str = Field(pattern=r"\S")  # shown in every table: not empty, not blank
    aliases: list[Alias] = []
    category: Id
    kind: MethodKind
    tags: list[Id] = []
    summary: Text
    trains: Text
    trainable_share: TrainableShare | None = None
    ratings: Ratings
    use_when: list[Text] = Field(min_length=1)
    avoid_when: list[Text] = Field(min_length=1)
    data: Text
    hardware: Text
    libraries: list[LibraryEntry] = Field(min_length=1)
    hyperparameters: dict[str, Hyperparameter] = {}
    pitfalls: list[Pitfall] = []
    references: list[Reference] = []
    snippet: str
    source: list[str] = Field(min_length=1)
    memory_model: MemoryModel | None = None
    variants: list[Variant] = []
    scoring: RatingCorrection | None = Field(
        default=None, description="ratings the engine scores with instead of the guide's §4 ones"
    )
    runs: Runs = Field(default="local", description="local (your GPUs) or hosted (a provider's API)")
    providers: list[HostedOffer] = []
    training: Training | None = Field(default=None, description="objectives: how a trainer runs it")
    hosted_service: HostedService | None = Field(
        default=None, description="objectives: the providers' tuning service that runs it (hosted-ft offers)"
    )
    hosted_as: HostedAs | None = Field(
        default=None,
        description="objectives no provider runs as such: the objectives a hosted plan runs in its place",
    )

    @model_validator(mode="after")
    def _memory_model_matches_kind(self) -> "Method":
        sized = [
            k for k, h in self.hyperparameters.items() if h.large_sets is not None and k != LARGE_SETS_KEY
        ]
        if sized:  # only the passes over the data change with its size (time and recipes read them)
            raise ValueError(f"large_sets is read for {LARGE_SETS_KEY} only, not for {', '.join(sized)}")
        scaled = [
            k for k, h in self.hyperparameters.items() if h.large_models is not None and k != LARGE_MODELS_KEY
        ]
        if scaled:  # the recipes read a model's size for its learning rate alone
            raise ValueError(f"large_models is read for {LARGE_MODELS_KEY} only, not for {', '.join(scaled)}")
        if self.kind == "objective" and (self.memory_model is not None or self.variants):
            raise ValueError("objectives carry no memory_model or variants; parameterizations do")
        if (self.kind == "objective") != (self.training is not None):
            raise ValueError("an objective says how it trains (training:); other kinds do not")
        if self.training is not None:
            self._check_training(self.training)
        if self.runs == "hosted":
            if self.kind == "objective":
                raise ValueError("an objective does not run anywhere by itself; runs: hosted is for methods")
            if self.memory_model is not None or self.variants:
                raise ValueError("a hosted method uses no local memory: no memory_model or variants")
            if not self.providers:
                raise ValueError("a hosted method lists its providers")
        elif self.kind != "objective" and self.memory_model is None:
            raise ValueError(f"a {self.kind} method needs a memory_model")
        if self.hosted_as is not None and (self.hosted_service is not None or self.training is None):
            raise ValueError(
                "hosted_as is for an objective no provider runs: it names what a provider runs instead, "
                "so the objective has no hosted_service"
            )
        if self.providers and self.runs != "hosted":
            raise ValueError("providers are for hosted methods (runs: hosted)")
        # Recipes and estimates read "inference" as "trains nothing": it goes with no-training only.
        if (self.kind == "no-training") != (self.memory_model == "inference") and self.memory_model:
            raise ValueError("memory_model 'inference' is for no-training methods, and they take no other")
        if self.memory_model != "inference" and any(v.serving_bits for v in self.variants):
            raise ValueError("serving_bits is for no-training methods (memory_model inference): they serve")
        return self

    def _check_training(self, training: Training) -> None:
        if self.id == "inference":
            raise ValueError("'inference' names what no-training methods are sized for: pick another id")
        generations = self.hyperparameters.get("num_generations")
        if generations is None:
            return
        if not training.online:
            raise ValueError(
                "num_generations: only an online objective samples completions (training.online)"
            )
        count = generations.value
        # TRL refuses fewer than 2: a group's advantages compare its completions (GRPOConfig, RLOOConfig).
        if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= MAX_GENERATIONS:
            raise ValueError(
                f"num_generations: completions per prompt, a whole number from 2 to {MAX_GENERATIONS}"
            )


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


class Interconnect(Strict):
    """The fastest link between GPUs the product offers."""

    kind: Literal["nvlink", "pcie", "xgmi", "unified"] = Field(
        description="nvlink (NVLink or an NVLink bridge), pcie, xgmi (AMD Infinity Fabric), "
        "unified (one Apple chip: no second GPU to link)"
    )
    gbs: float | None = Field(
        default=None, ge=1, le=100_000, description="GB/s per GPU, both directions together; null if unknown"
    )
    bridged: int | None = Field(
        default=None,
        ge=2,
        le=16,
        description="PCIe cards joined by NVLink bridges: how many GPUs one bridge joins (2); more GPUs "
        "reach each other over PCIe",
    )
    pcie_gen: Literal[3, 4, 5] | None = Field(
        default=None,
        description="The PCIe generation of the card's host link: CPU offload crosses it, and so do "
        "collectives between GPUs without NVLink; null: unknown (PCIe 4.0 is assumed)",
    )
    pcie_lanes: Literal[8, 16] = Field(default=16, description="the host link's lanes")
    host_gbs: float | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="GB/s one way to the CPU's memory over a host link that is not PCIe (GH200's "
        "NVLink-C2C), as measured; null: the PCIe generation's rate",
    )
    network_gbs: float | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="GB/s per GPU, one way, between nodes of the vendor's reference system (one "
        "network port per GPU: DGX A100 200 Gb/s HDR, DGX H100 400 Gb/s NDR); null: 400 Gb/s NDR "
        "is assumed",
    )
    detail: str | None = None


# The figures a GPU entry may give, each with its source under the same key in `sources`.
GPU_FIGURES: dict[str, str] = {
    "reported_memory_mib": "reported_memory",
    "memory_bandwidth_gbs": "bandwidth",
    "tflops_bf16": "tflops",
    "tflops_bf16_measured": "tflops_measured",
    "matmul_share_from": "matmul_share",
    "tflops_fp32": "tflops_fp32",
    "mfu_vs_a100": "mfu_vs_a100",
}


MEASURED_OVER_PEAK = 1.5  # the most a measured matmul rate may exceed the printed peak by


class ChipConfiguration(Strict):
    """One configuration an Apple chip is sold in, with the unified memory sizes it comes with:
    where a size comes with one configuration only, the size tells its GPU and bandwidth (the
    36 GB M3 Max is the 30-core, 300 GB/s chip)."""

    gpu_cores: int = Field(ge=1, le=10_000)
    memory_bandwidth_gbs: float = Field(ge=1, le=100_000, description="peak, GB/s")
    memory_sizes_gb: list[Annotated[float, Field(ge=0.25, le=100_000)]] = Field(
        min_length=1, description="the sizes it is sold with (GB, as memory_gib)"
    )
    source: str = Field(pattern=r"\S", description="where its sizes, cores and bandwidth are printed")


# Lower bounds are physical (1 GB/s, 0.1 TFLOPS, a quarter GiB): a valid KB must not make the
# time model divide by 1e-300 (an overflow a maintainer's review found).
Tflops = Annotated[float, Field(ge=0.1, le=1_000_000)]


class Gpu(GpuBehaviour, Strict):
    id: Id
    name: str = Field(pattern=r"\S")  # shown in every table: not empty, not blank
    aliases: list[Alias] = []
    vendor: Literal["nvidia", "amd", "apple"]
    memory_gib: float = Field(ge=0.25, le=100_000, description="Advertised memory; vendors' 'GB' are GiB.")
    reported_memory_mib: int | None = Field(
        default=None,
        gt=0,
        le=100_000_000,
        description="What the driver reports as total memory (nvidia-smi, rocm-smi): what a program can "
        "use, and the capacity fit checks use; null when unknown (the advertised memory is used)",
    )
    bf16: bool
    fp8: bool = Field(default=False, description="FP8 tensor cores (Ada, Hopper, Blackwell, CDNA 3)")
    cuda: bool
    architecture: str
    memory_bandwidth_gbs: float | None = Field(default=None, ge=1, le=100_000, description="peak, GB/s")
    interconnect: Interconnect | None = None
    desktop: bool = Field(
        default=False,
        description="A desktop card (GeForce): boards for several of them often give each x8 lanes, "
        "or one the chipset's, fewer than the x16 the time model assumes",
    )
    tflops_bf16: Tflops | None = Field(
        default=None,
        description="Peak dense 16-bit tensor TFLOPS with FP32 accumulate (what training runs at; fp16 "
        "on GPUs without bf16); null where the vendor publishes none (Apple: see notes)",
    )
    tflops_basis: Literal["vendor", "vendor-halved", "derived", "secondary"] | None = Field(
        default=None,
        description="vendor: printed dense; vendor-halved: the vendor prints the sparse figure only; "
        "derived: scaled from a same-architecture vendor figure by tensor cores x clock; "
        "secondary: a reputable third party",
    )
    tflops_bf16_measured: Tflops | None = Field(
        default=None,
        description="The largest dense bf16 matmul rate measured on the card (maximum achievable "
        "matmul FLOPS), where published; the time model scales the stacks' efficiency by its share of "
        "tflops_bf16; null: the A100's share is assumed",
    )
    matmul_share_from: str | None = Field(
        default=None,
        description="A card without a matmul measurement of its own: the id of a card whose measured "
        "share of peak (tflops_bf16_measured over tflops_bf16) it is assumed to reach, on the same "
        "vendor's libraries (sources.matmul_share says why); null: the A100's share",
    )
    mfu_vs_a100: float | None = Field(
        default=None,
        ge=0.01,  # a ratio of measured MFUs; below 1 % is no measurement, and a time divides by it
        le=2,
        description="The model FLOPs utilisation training sustains on the card, as a share of the "
        "A100's running the same code and configurations (a ratio of measured MFUs); where given, the "
        "time model scales the stacks' efficiency by it instead of tflops_bf16_measured's matmul share",
    )
    tflops_fp32: Tflops | None = Field(
        default=None,
        description="Peak FP32 TFLOPS without tensor cores (NVIDIA's CUDA cores; AMD's matrix FP32): "
        "what an fp32 matmul runs at with TF32 off, PyTorch's default; null: fp32 plans are not timed",
    )
    memory_sizes_gb: list[Annotated[float, Field(ge=0.25, le=100_000)]] = Field(
        default=[],
        description="Apple silicon: every unified memory size the chip is sold with, smallest first, "
        "ending at memory_gib (its source: sources.memory_sizes); another size is refused",
    )
    configurations: list[ChipConfiguration] = Field(
        default=[],
        description="Apple silicon whose memory size tells its configurations apart: each with its "
        "GPU cores, bandwidth and the sizes it is sold with; the entry itself describes the one sold "
        "with memory_gib, and a size no configuration lists may be any of them",
    )
    free_tier_aliases: list[str] = Field(
        default=[],
        description="aliases that name a free notebook tier giving this card (Colab's, Kaggle's): a "
        "plan there costs nothing; each is also in aliases",
    )
    notes: str | None = None
    source: str
    sources: dict[str, str] = Field(default={}, description="the source of each figure, by figure")

    @model_validator(mode="after")
    def _free_tiers_are_aliases(self) -> "Gpu":
        missing = [a for a in self.free_tier_aliases if a not in self.aliases]
        if missing:
            raise ValueError(f"free_tier_aliases: {', '.join(missing)} not in aliases")
        return self

    @model_validator(mode="after")
    def _sizes_are_the_chips(self) -> "Gpu":
        """A size list belongs to Apple silicon, and Apple silicon has one: a chip is refused any
        size it is not sold with, so the list must end at the size the entry describes, and each
        configuration's sizes must be among them (the header names the configuration by size)."""
        sizes = self.memory_sizes_gb
        if self.unified != bool(sizes):
            raise ValueError(
                "memory_sizes_gb: Apple silicon (interconnect kind unified) lists its sizes, no other GPU"
            )
        if sizes and (sorted(set(sizes)) != sizes or sizes[-1] != self.memory_gib):
            raise ValueError("memory_sizes_gb must rise, each size once, to memory_gib")
        if sizes and not self.sources.get("memory_sizes"):
            raise ValueError("memory_sizes_gb needs its source: sources.memory_sizes")
        if self.configurations and " (" not in self.name:
            raise ValueError("configurations: the name is the chip and its top configuration, 'chip (...)'")
        for configuration in self.configurations:
            if not set(configuration.memory_sizes_gb) <= set(sizes):
                raise ValueError(
                    f"configurations: {configuration.memory_sizes_gb} are not all in memory_sizes_gb"
                )
        top = {c.memory_bandwidth_gbs for c in self.configurations if self.memory_gib in c.memory_sizes_gb}
        if self.configurations and top != {self.memory_bandwidth_gbs}:
            raise ValueError(
                "configurations: the one sold with memory_gib has the entry's memory_bandwidth_gbs"
            )
        return self

    @model_validator(mode="after")
    def _reported_within_advertised(self) -> "Gpu":
        """A driver reports what a program can use, never more than the card has: an attacker's
        review gave an RTX 4090 100,000,000 MiB, and 70B full fine-tuning fitted on it."""
        if self.reported_memory_mib is not None and self.reported_memory_mib > self.memory_gib * 1024:
            raise ValueError("reported_memory_mib: at most memory_gib in MiB (memory_gib x 1024)")
        return self

    @model_validator(mode="after")
    def _figures_are_sourced(self) -> "Gpu":
        figures = dict(GPU_FIGURES)
        link = self.interconnect
        if link is not None and link.gbs is not None:
            figures["interconnect"] = "interconnect"
        if link is not None and link.host_gbs is not None:
            figures["host_link"] = "host_link"
        if link is not None and link.network_gbs is not None:
            figures["network"] = "network"
        for figure, key in figures.items():
            if (
                figure in ("interconnect", "host_link", "network") or getattr(self, figure) is not None
            ) and not self.sources.get(key):
                raise ValueError(f"{figure} needs its source: sources.{key}")
        if (self.tflops_bf16 is None) != (self.tflops_basis is None):
            raise ValueError("tflops_bf16 and tflops_basis go together")
        # Boost clocks carry GeForce cards a few per cent past their printed peak, never by half.
        if self.tflops_bf16_measured is not None and (
            self.tflops_bf16 is None or self.tflops_bf16_measured > MEASURED_OVER_PEAK * self.tflops_bf16
        ):
            raise ValueError(
                f"tflops_bf16_measured needs tflops_bf16 and at most {MEASURED_OVER_PEAK:g}x of it"
            )
        return self


class MixtureOfExperts(Strict):
    """The routed MLP of a mixture-of-experts model (Mixtral, Qwen-MoE, DeepSeek, gpt-oss, ...)."""

    experts: int = Field(gt=0, le=100_000, description="routed experts in each MoE layer")
    active: int = Field(gt=0, le=100_000, description="routed experts each token uses (top-k)")
    intermediate_size: int = Field(gt=0, le=10_000_000, description="MLP width of one routed expert")
    shared_experts: int = Field(default=0, ge=0, le=1_000, description="experts every token uses")
    shared_intermediate_size: int | None = Field(
        default=None,
        gt=0,
        le=10_000_000,
        description="width of one shared expert (default: intermediate_size)",
    )
    shared_expert_gate: bool = Field(
        default=False,
        description="the shared expert's output is scaled by sigmoid(shared_expert_gate(x)), an nn.Linear "
        "of hidden_size -> 1 in each MoE layer (Qwen3-Next's and Qwen3.5-MoE's SparseMoeBlock)",
    )
    dense_layers: int = Field(default=0, ge=0, le=10_000, description="layers with a dense MLP instead")
    expert_bias: bool = Field(default=False, description="the experts' projections have biases (gpt-oss)")
    every_token: bool = Field(
        default=False,
        description="transformers runs every routed expert on every token (Llama 4's Llama4TextExperts: "
        "a bmm of all experts over the repeated tokens) instead of grouped matmuls over the routed ones",
    )
    router_aux_loss_coef: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="the config's router_aux_loss_coef: the weight of the routers' load-balancing loss, "
        "where the family's model adds one (data/families.yaml router_aux_loss)",
    )
    beside_dense_mlp: bool = Field(
        default=False,
        description="every MoE layer runs the dense MLP (intermediate_size) beside its routed experts "
        "and sums the two, each normalised (Gemma 4's enable_moe_block: post_feedforward_layernorm_1 "
        "and _2, pre_feedforward_layernorm_2, and a router with an RMSNorm, a scale of hidden_size "
        "and a per-expert scale; modeling_gemma4 Gemma4TextDecoderLayer, Gemma4TextRouter)",
    )

    @model_validator(mode="after")
    def _active_within_experts(self) -> "MixtureOfExperts":
        if self.active > self.experts:
            raise ValueError("active experts exceed the number of experts")
        return self


class LatentAttention(Strict):
    """DeepSeek's multi-head latent attention: queries and keys/values through low-rank projections."""

    q_lora_rank: int | None = Field(default=None, gt=0, le=1_000_000)
    kv_lora_rank: int = Field(gt=0, le=1_000_000)
    qk_nope_head_dim: int = Field(gt=0, le=100_000)
    qk_rope_head_dim: int = Field(gt=0, le=100_000)
    v_head_dim: int = Field(gt=0, le=100_000)


class GatedDeltaNet(Strict):
    """Gated DeltaNet linear-attention layers between full-attention ones (Qwen3.5: transformers
    modeling_qwen3_5 Qwen3_5GatedDeltaNet; Qwen3-Next's fuses the same projections). Each has
    in_proj_qkv (hidden -> 2 x key_heads x key_head_dim + value_heads x value_head_dim), in_proj_z
    (hidden -> value width), in_proj_b and in_proj_a (hidden -> value_heads), out_proj (value width
    -> hidden), a depthwise conv1d over the q/k/v channels (conv_kernel taps, no bias), A_log and
    dt_bias (one per value head) and a gated RMSNorm of value_head_dim. Its cache is a fixed-size
    recurrent state, not keys and values per token."""

    layers: int = Field(gt=0, le=MAX_LAYERS, description="layers of linear attention (layer_types)")
    key_heads: int = Field(gt=0, le=100_000, description="linear_num_key_heads")
    value_heads: int = Field(gt=0, le=100_000, description="linear_num_value_heads")
    key_head_dim: int = Field(gt=0, le=100_000, description="linear_key_head_dim")
    value_head_dim: int = Field(gt=0, le=100_000, description="linear_value_head_dim")
    conv_kernel: int = Field(default=4, gt=0, le=1_000, description="linear_conv_kernel_dim")
    fused_projections: bool = Field(
        default=False,
        description="Qwen3-Next's layout (modeling_qwen3_next Qwen3NextGatedDeltaNet): in_proj_qkvz "
        "(hidden -> 2 x key width + 2 x value width) and in_proj_ba (hidden -> 2 x value_heads) in "
        "place of the four input projections, the same parameters; its queries and keys are "
        "repeated to the value heads before the kernel, and its gated norm is "
        "flash-linear-attention's FusedRMSNormGated",
    )

    @model_validator(mode="after")
    def _grouped_values(self) -> "GatedDeltaNet":
        if self.value_heads % self.key_heads:
            raise ValueError("linear value heads must be a multiple of linear key heads")
        return self


class LlmModel(LlmModelBehaviour, Strict):
    id: Id
    name: str = Field(pattern=r"\S")  # shown in every table: not empty, not blank
    aliases: list[Alias] = []
    family: str
    architecture: Literal["decoder", "encoder", "encoder-decoder"]
    variant: ModelVariant = Field(
        default="base", description="instruct: post-trained to follow instructions (-Instruct, -it, -chat)"
    )
    reasons: bool = Field(
        default=False,
        description="a reasoning model: it writes its reasoning before its answer (Qwen3's thinking mode, "
        "DeepSeek-R1 and its distillations, gpt-oss)",
    )
    # Upper bounds keep a typo (1e300) from turning estimates into infinities.
    params_b: float = Field(ge=1e-6, le=100_000, description="published total parameters, in billions")
    active_params_b: float | None = Field(default=None, gt=0, le=100_000, description="published, MoE only")
    layers: int = Field(gt=0, le=MAX_LAYERS, description="blocks (per stack for encoder-decoder models)")
    decoder_layers: int | None = Field(default=None, gt=0, le=MAX_LAYERS, description="encoder-decoder only")
    hidden_size: int = Field(gt=0, le=1_000_000)
    attention_heads: int = Field(gt=0, le=100_000)
    kv_heads: int = Field(gt=0, le=100_000)
    head_dim: int | None = Field(default=None, gt=0, le=100_000, description="when not hidden / heads")
    intermediate_size: int = Field(gt=0, le=10_000_000, description="width of the dense MLP")
    vocab_size: int = Field(gt=0, le=100_000_000)
    has_bias: bool
    # Which linear layers carry the biases: Qwen2/2.5 put them on q/k/v only (BitFit's budget);
    # gpt-oss on the attention projections (and, with moe.expert_bias, the experts).
    bias_scope: Literal["all-linear", "qkv", "attention"] = "all-linear"
    gated_mlp: bool = Field(description="SwiGLU/GeGLU MLP: gate, up and down projections")
    tied_embeddings: bool = Field(description="the LM head shares the input embedding matrix")
    moe: MixtureOfExperts | None = None
    latent_attention: LatentAttention | None = None
    linear_attention: GatedDeltaNet | None = Field(
        default=None,
        description="Gated DeltaNet linear-attention layers in place of attention in that many of the "
        "layers (Qwen3.5: three of four); the others are full attention",
    )
    attention_output_gate: bool = Field(
        default=False,
        description="q_proj also emits a per-channel output gate (2 x the query width), and attention's "
        "output is multiplied by its sigmoid before o_proj (Qwen3.5's and Qwen3-Next's attn_output_gate)",
    )
    eager_attention: bool = Field(
        default=False,
        description="transformers has no SDPA kernel for its attention (_supports_sdpa = False: "
        "gpt-oss's attention sinks, Gemma 2's soft-capping), so by default it runs eagerly, with an "
        "s x s matrix per head",
    )
    fp16_overflows: bool = Field(
        default=False,
        description="its activations exceed fp16's range (Gemma 3: 'when using float16 mixed precision, "
        "gradients and activations become infinity', unsloth.ai/blog/gemma3; T5 from Large up, trained in "
        "bf16: NaN losses in fp16, transformers#9295, #23918): on a GPU without bf16 it trains in fp32",
    )
    norms_per_layer: Literal[2, 4] = Field(
        default=2,
        description="RMSNorms per block: 4 where the attention's and the MLP's outputs are normalised "
        "too (Gemma 2 and 3: post_attention_layernorm, pre_ and post_feedforward_layernorm)",
    )
    fused_projections: bool = Field(
        default=False,
        description="the queries, keys and values come from one qkv_proj and the MLP's gate and up "
        "from one gate_up_proj (transformers' Phi-3, which Phi-3.5 and Phi-4 use): LoRA adapts "
        "each fused layer once, with one input",
    )
    qk_norm: bool = Field(
        default=False,
        description="an RMSNorm on each head's queries and keys (q_norm, k_norm: Qwen3, Gemma 3): the "
        "backward keeps their fp32 inputs",
    )
    attention_softcapping: bool = Field(
        default=False,
        description="tanh soft-capping of the attention scores (Gemma 2's attn_logit_softcapping): "
        "eager attention keeps the capped scores as well",
    )
    attention_sinks: bool = Field(
        default=False,
        description="a learned sink logit per head joins each row of scores (gpt-oss): its eager "
        "attention softmaxes in the scores' dtype, keeping bf16 probabilities where the others keep "
        "fp32 ones and their bf16 copy",
    )
    attention_dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="dropout on the attention probabilities in training (BERT's "
        "attention_probs_dropout_prob, 0.1): eager attention also keeps its mask and its output",
    )
    logit_softcapping: bool = Field(
        default=False,
        description="tanh soft-capping of the final logits (Gemma 2's final_logit_softcapping): a loss "
        "over whole logits keeps the capped ones as well",
    )
    extra_params: int = Field(
        default=0,
        ge=0,
        le=10**14,
        description="parameters outside blocks and token embeddings (learned positions...)",
    )
    sliding_window: int | None = Field(
        default=None, gt=0, le=100_000_000, description="tokens a sliding-window layer attends to"
    )
    sliding_layers: int = Field(
        default=0,
        ge=0,
        le=MAX_LAYERS,
        description="layers that attend within sliding_window only (Gemma 2: every other one; Gemma 3: "
        "five of six; gpt-oss: every other one): their KV cache holds at most that many tokens",
    )
    # Gemma 4: its full-attention layers (those not in sliding_layers) have heads of their own.
    global_head_dim: int | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="head width of the full-attention layers where it differs from head_dim (Gemma 4's "
        "global_head_dim: 512 beside 256)",
    )
    global_kv_heads: int | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="key/value heads of the full-attention layers where they differ from kv_heads (Gemma "
        "4's num_global_key_value_heads)",
    )
    global_keys_are_values: bool = Field(
        default=False,
        description="the full-attention layers have no v_proj: their values are k_proj's output, "
        "normalised apart from the keys (Gemma 4's attention_k_eq_v)",
    )
    v_norm: bool = Field(
        default=False,
        description="an RMSNorm without weights on each head's values (Gemma 4's v_norm): the backward "
        "keeps its fp32 input",
    )
    weights_dtype: WeightsDtype = Field(
        default="bf16", description="how the published checkpoint stores weights"
    )
    quant_method: str | None = Field(
        default=None,
        max_length=40,
        description="a quantized checkpoint's quantization_config.quant_method (bitsandbytes, gptq, awq...)",
    )
    context_length: int | None = Field(default=None, gt=0, le=100_000_000)
    config_positions: int | None = Field(
        default=None,
        gt=0,
        le=100_000_000,
        description="its config.json's max_position_embeddings where that is not context_length "
        "(Qwen3's 40,960 over a native 32,768): what vLLM sizes a KV cache for by default",
    )
    yarn_context: int | None = Field(
        default=None,
        gt=0,
        le=100_000_000,
        description="the length its model card validates by YaRN RoPE scaling past context_length "
        "(rope_type yarn, original_max_position_embeddings = context_length): a recipe past "
        "context_length sets it",
    )
    base_checkpoint: str | None = Field(
        default=None,
        pattern=HUB_ID_PATTERN,
        description="instruct entries: the Hub id of the pre-trained checkpoint it was post-trained "
        "from, where one is published (a recipe for --model-variant base loads it)",
    )
    vision_params_b: float | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="a vision tower and projector, in billions: loaded and frozen, not in params_b",
    )
    wrapper_type: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.\-]*$",
        max_length=64,
        description="the checkpoint's own model_type where a vision-language wrapper holds the text "
        "model `family` names (mistral3 around Mistral Small 3.1's mistral): what the trainers' "
        "per-model-type lists see; null where the two agree",
    )
    source: str

    @model_validator(mode="after")
    def _grouped_attention(self) -> "LlmModel":
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads (grouped-query attention)")
        if self.head_dim is None and self.hidden_size < self.attention_heads:
            # A head of hidden_size / attention_heads dimensions would have none (a review sized one).
            raise ValueError("hidden_size must be at least attention_heads, or head_dim given")
        if self.moe is not None and self.moe.dense_layers >= self.layers:
            raise ValueError("moe.dense_layers must leave a layer with experts (fewer than layers)")
        if self.base_checkpoint is not None and self.variant != "instruct":
            raise ValueError("base_checkpoint names the base of a post-trained entry: set variant: instruct")
        if (self.sliding_window is None) != (self.sliding_layers == 0) or self.sliding_layers > self.layers:
            raise ValueError("sliding_window and sliding_layers go together, sliding_layers at most layers")
        self._global_attention()
        if self.linear_attention is not None and self.linear_attention.layers >= self.layers:
            raise ValueError("linear_attention.layers must leave at least one full-attention layer")
        return self

    def _global_attention(self) -> None:
        """Full-attention layers of their own widths need such layers beside sliding ones."""
        widths = self.global_head_dim is not None or self.global_kv_heads is not None
        if (widths or self.global_keys_are_values) and not 0 < self.sliding_layers < self.layers:
            raise ValueError(
                "global_head_dim, global_kv_heads and global_keys_are_values describe the "
                "full-attention layers beside sliding ones: set sliding_layers below layers"
            )
        if self.global_kv_heads is not None and self.attention_heads % self.global_kv_heads:
            raise ValueError("attention_heads must be a multiple of global_kv_heads")


class ModelFamily(Strict):
    """What holds for every model of a family, whether the catalog lists it or --model reads its
    config.json (data/families.yaml)."""

    family: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.\-]*$",
        max_length=64,
        description="a config.json's model_type, as a model's `family` reads it",
    )
    peft_remaps_experts: bool = Field(
        default=False,
        description="transformers 5 fuses its routed experts from transformers 4's nn.Linear experts, "
        "and PEFT reads 'all-linear' and MLP module names as those experts and the router: LoRA "
        "recipes name the attention projections instead",
    )
    hybrid_thinking: bool = Field(
        default=False,
        description="its reasoning releases can turn their thinking off in the chat template "
        "(enable_thinking: Qwen3's first releases); those named Thinking always think",
    )
    router_aux_loss: bool = Field(
        default=False,
        description="its causal language model adds the routers' load-balancing loss "
        "(router_aux_loss_coef x aux_loss) only when output_router_logits is true, which its "
        "checkpoints ship false: a recipe that trains the routers turns it on",
    )
    liger_kernel: bool = Field(
        default=False,
        description="LLaMA-Factory's enable_liger_kernel and axolotl's Liger plugin both patch its "
        "causal language model with Liger Kernel's fused linear cross-entropy: a YAML recipe may "
        "train it without the whole logits",
    )
    router_logits_without_loss: bool = Field(
        default=False,
        description="its config declares output_router_logits and a router_aux_loss_coef, but its "
        "model returns no aux_loss: TRL's trainers, which add a load-balancing loss from the config, "
        "fail on it (recipes turn TRL's off, or name a trainer that can)",
    )
    unsloth_fast_lora: bool = Field(
        default=False,
        description="Unsloth's FastLanguageModel patches its LoRA and QLoRA layers with its fused "
        "kernels: --stack unsloth is timed at their rate; other families train transformers' own "
        "modules under Unsloth (FastModel), timed as TRL",
    )
    fsdp_qlora_layer: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=80,
        description="the decoder layer class FSDP wraps, for a family whose 4-bit (QLoRA) base "
        "axolotl's qlora_sharded_model_loading documents loading shard by shard under FSDP1: a plan "
        "that fits only so is written with it",
    )
    training_token_types: Literal["token_type_ids", "mm_token_type_ids"] | None = Field(
        default=None,
        description="the token-type input its vision-language forward asks for in training (Gemma "
        "3's token_type_ids; Gemma 4's mm_token_type_ids in earlier transformers 5 releases), which "
        "text-only trainers do not pass: a recipe adds it as zeros, every token being text",
    )
    source: str


# --- rules ---------------------------------------------------------------------------------

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]
ORDERING_OPERATORS = frozenset({"lt", "le", "gt", "ge"})
MEMBERSHIP_OPERATORS = frozenset({"in", "not_in"})


def _matches_type(spec: FactSpec, value: Scalar) -> str | None:
    """Why `value` cannot be a value of the fact, or None when it can."""
    if value is None:
        return None
    if spec.type == "bool":
        return None if isinstance(value, bool) else f"'{spec.name}' is true or false, not {value!r}"
    if spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"'{spec.name}' is a number, not {value!r}"
        return None
    if not isinstance(value, str):
        return f"'{spec.name}' is a string, not {value!r}"
    if spec.values is not None and value not in spec.values:
        return f"'{value}' is not a value of '{spec.name}' ({', '.join(spec.values)})"
    return None


def _unknown_fact(name: str) -> str:
    names = [f.name + (".<method>" if f.per_method else ".<objective>" if f.per_stage else "") for f in FACTS]
    close = difflib.get_close_matches(name, [f.name for f in FACTS], n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown fact '{name}'{hint} Facts: {', '.join(names)} (docs/rules.md)"


class Comparison(ComparisonBehaviour, Strict):
    fact: str
    op: Operator = "eq"
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _fits_the_fact(self) -> "Comparison":
        spec = fact_spec(self.fact)
        if spec is None:
            raise ValueError(_unknown_fact(self.fact))
        values = self.value if isinstance(self.value, list) else [self.value]
        if self.op in MEMBERSHIP_OPERATORS:
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op '{self.op}' takes a non-empty list of values")
        elif isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' takes one value, not a list (use 'in' for several)")
        if self.op in ORDERING_OPERATORS and (spec.type != "number" or self.value is None):
            raise ValueError(f"op '{self.op}' compares numbers; '{self.fact}' needs eq, ne, in or not_in")
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                _bounded(value)
            problem = _matches_type(spec, value)
            if problem:
                raise ValueError(problem)
        return self


class AllOf(AllOfBehaviour, Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(AnyOfBehaviour, Strict):
    any: list["Condition"] = Field(min_length=1)


class NotOf(NotOfBehaviour, Strict):
    not_: "Condition" = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    """Which form a condition takes, from its keys (pydantic then validates only that form)."""
    if isinstance(value, dict):
        for key, tag in (("fact", "comparison"), ("all", "all"), ("any", "any"), ("not", "not")):
            if key in value:
                return tag
        return None
    tags: dict[type, str] = {Comparison: "comparison", AllOf: "all", AnyOf: "any", NotOf: "not"}
    return tags.get(type(value))


Condition = Annotated[
    Annotated[Comparison, Tag("comparison")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition is {fact, op, value}, {all: [...]}, {any: [...]} or {not: ...}",
    ),
]


class MethodSelector(MethodSelectorBehaviour, Strict):
    """Which methods a rule applies to, by their properties; every given property must match
    (a list matches any of its entries). `ids` adds methods by name, `except` removes them."""

    ids: list[Id] = []
    kind: list[MethodKind] | None = None
    category: list[Id] | None = None
    memory_model: list[MemoryModel] | None = None
    tags: list[Id] | None = None  # the method has at least one of these tags
    runs: list[Runs] | None = None  # local (your GPUs) or hosted (a provider's API)
    except_: list[Id] = Field(default=[], alias="except")

    @model_validator(mode="before")
    @classmethod
    def _single_values_are_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _selects_something(self) -> "MethodSelector":
        if not self.ids and self.unconstrained():
            raise ValueError(f"a selector needs ids or at least one of {', '.join(SELECTED_BY)}")
        return self


class Effect(EffectBehaviour, Strict):
    action: Literal["prefer", "avoid", "exclude"]
    weight: float = Field(default=1.0, ge=0, le=100)
    # The rule says what the measure --priority cost|speed ranks by counts already (the cost
    # prices the GPUs a plan uses): once that measure ranks the plans the rule still adds to the
    # score, but it does not outweigh the rules that weigh against a plan (which would let a plan
    # those rules advise against rank by its cost). Only for prefer and avoid.
    in_measure: bool = False

    @model_validator(mode="after")
    def _weighs(self) -> "Effect":
        if self.in_measure and self.action == "exclude":
            raise ValueError("in_measure is for prefer and avoid: an excluded plan is not ranked")
        return self


class Rule(RuleBehaviour, Strict):
    """If `when` holds for a candidate plan whose method `methods` selects, apply `effect`."""

    id: Id
    methods: list[Id] | MethodSelector
    when: Condition | None = None
    effect: Effect
    because: Text
    source: str
    in_recipe: bool = Field(
        default=False,
        description="its `because` is repeated in the header of a recipe for a plan it holds for "
        "(with the stack the recipe trains with): running the recipe runs into it",
    )


class PipelineRule(Strict):
    """Chooses the objectives a training plan runs; the highest-weight match wins."""

    id: Id
    when: Condition | None = None
    pipeline: list[Id] = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0, le=100)
    because: Text
    source: str


class Advice(Strict):
    """A line of next-step advice (how to evaluate the result, when to stop) shown when its
    condition holds for the profile; every line carries its source."""

    id: Id
    when: Condition | None = None
    text: Text
    source: str = Field(min_length=1)


class Price(Strict):
    """One dated offer of a GPU by a cloud provider."""

    gpu: Id
    usd_per_gpu_hour: float = Field(ge=0.001, le=1_000)
    provider: str = Field(min_length=1)
    kind: PriceKind
    offering: str = Field(min_length=1)
    source: str = Field(min_length=1)
    date: str = Field(min_length=4, description="the date the source shows, as precise as it is")
    min_gpus: int = Field(
        default=1,
        ge=1,
        le=64,
        description="the fewest GPUs the offer rents (8 for an 8-GPU instance sold only whole): "
        "it prices a profile of at least that many GPUs (--gpus) only",
    )


class GatedRepository(GatedRepositoryBehaviour, Strict):
    """Hub repositories whose weights download only once their licence is accepted on the model's
    page (data/models.yaml `gated_repositories`): a recipe that loads one says so first."""

    prefix: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]*$",
        max_length=96,
        description="an organisation and the start of a repository name (meta-llama/, google/gemma)",
    )
    licence: str = Field(min_length=1, description="the licence accepted on the model's page")
    source: str = Field(min_length=1)


class KnowledgeBase(Strict):
    schema_version: Literal[1] = KB_SCHEMA_VERSION
    categories: list[Category]
    methods: list[Method]
    guide: Guide
    rules: list[Rule]
    pipelines: list[PipelineRule]
    gpus: list[Gpu] = Field(min_length=1)
    models: list[LlmModel] = Field(min_length=1)
    model_families: list[ModelFamily] = []
    gated_repositories: list[GatedRepository] = []
    prices: list[Price] = []
    evaluation: list[Advice] = []
