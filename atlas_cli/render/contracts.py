"""The JSON contracts: one TypedDict per JSON document a command prints. `ft-atlas schema`
publishes their JSON Schemas (OUTPUTS), mypy checks that the converters in documents.py produce
exactly them, and tests/test_cli.py validates every command's real output against them.

A recommendation does not need them at run time (documents.py names them in annotations only),
so a plain `recommend --json` does not pay for defining 40 TypedDicts.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12 (`ft-atlas schema`)

from atlas_cli.core.estimates import Breakdown, Fit, Host
from atlas_cli.kb.schema import Category, Gpu, GuideRule, LlmModel, Method, Tool


class AssumptionsJson(TypedDict):
    """The conditions an estimate holds for; every figure is only as good as these."""

    seq_len: int
    batch_size: int
    precision: str
    optimizer: str
    gradient_checkpointing: bool
    lora_rank: int
    lora_targets: str
    lora_experts: bool  # LoRA adapts a mixture of experts' routed experts too (--lora-experts, mlx-lm)
    lora_dropout: float  # above 0, each adapted layer's dropped input copy is counted
    quant_bits: int
    # QLoRA on a mixture of experts: its fused routed experts load 4-bit too (Unsloth, axolotl's
    # quantize_moe_experts, --quantize-experts), else 16-bit; null for any other plan
    quantized_experts: bool | None
    serving_bits: int  # the weights a no-training plan serves: 16, or 8 / 4 (bitsandbytes, or as stored)
    weights: str  # the same in words: bf16, 4-bit (bitsandbytes), 4-bit (as stored)
    gpus: int
    on_cpu: bool  # no GPU (--gpu none): trained on the CPU in fp32, and every figure is RAM
    sharding: str  # ddp, zero2 or zero3
    offload: str  # none, optimizer or params
    stack: str  # hf, trl, liger, unsloth or mlx
    vllm: bool  # this stage samples with vLLM (GRPO/RLOO with --vllm): colocated, or a server's
    # GPUs of its own (--vllm-server-gpus; `gpus` then counts the training GPUs only); 0: none
    vllm_server_gpus: int
    vllm_server_gb: float | None  # what each of the server's GPUs holds to start; null: no server
    # whether that fits within the 90 % of a GPU vLLM may use (yes, tight, no), beside `fit`, which
    # is the worse of the training GPUs' and the server's; null: no server
    vllm_server_fit: Fit | None
    activation_offloading: bool  # the checkpoints wait in CPU RAM (--activation-offloading)
    tiled_mlp: bool  # Unsloth's TiledMLP runs each MLP a tile of tokens at a time (--tiled-mlp)
    # DPO/KTO on a base that trains loads no reference copy: its log-probabilities are computed before
    # training (TRL's precompute_ref_log_probs=True)
    reference_precomputed: bool
    sequence_parallel: int  # GPUs each sequence is split over (DeepSpeed Ulysses); 1: none
    # ZeRO-3 across nodes with ZeRO++ hierarchical partitioning: a second copy of the weights
    # sharded within each node, so that gathers stay on its links
    hierarchical: bool
    # a 4-bit base loaded shard by shard under FSDP (Answer.AI's loader), never whole on one GPU as
    # transformers loads it for DeepSpeed ZeRO-3: no ft-atlas recipe writes it
    sharded_loading: bool
    strategy: str  # the sharding and offload in words
    attention: str
    logits: str
    margin: str
    gb: str


class ChangeJson(TypedDict):
    # what core.memory.search.Change names (seq_len, batch_size, generation_batch, vllm, ...;
    # gpu_memory: the GiB a GPU would need usable; mac_memory: on a Mac, the GB of unified memory)
    change: str
    value: str | int | bool
    per_gpu_gb: float


class ModelSourceJson(TypedDict):
    """Which model an estimate or a recommendation is for, and where it came from."""

    name: str
    catalog_id: str | None
    source: str  # catalog, file, cache, hub, bare size or api
    where: str | None  # the catalog id, the config.json's path, or its Hub URL
    variant: str | None
    # The Hub checkpoint loaded where it is not the one the entry's name describes: the base
    # checkpoint of an instruct entry (google/gemma-3-4b-pt of gemma-3-4b-it), or the reverse
    checkpoint: str | None
    params_b: float | None
    active_params_b: float | None
    is_moe: bool | None
    notes: list[str]
    warnings: list[str]


class TimeJson(TypedDict):
    """Training time of a plan or stage: the band is the calibration's spread (docs/time.md)."""

    tokens: float  # trained on, without padding, all epochs and sequences (pairs count twice)
    tokens_per_second: float  # over all GPUs
    hours: float
    hours_low: float
    hours_high: float
    generation_hours: float  # of which sampling completions (GRPO, RLOO, PPO)


class CostJson(TypedDict):
    usd: float | None  # null: no price known (own hardware, or no price for this GPU)
    usd_low: float | None
    usd_high: float | None
    usd_per_gpu_hour: float | None
    price_source: str | None  # where the price comes from, with its dates
    gpu_hours: float


class StageJson(TypedDict):
    objective: str
    micro_batch: int  # examples per GPU per micro-step the time assumes (the fastest that fits)
    # completions each GPU samples at once (online stages; null offline): fewer at a time, as some
    # notebooks sample one prompt's group a step, take more decode rounds
    sampled_at_once: int | None
    time: TimeJson
    cost: CostJson


class TimeAssumptionsJson(TypedDict):
    examples: int
    tokens_per_example: int  # the average, capped at seq_len
    epochs: dict[str, float]  # by stage
    packing: bool
    global_batch: int  # sequences per optimizer step (the largest stage's: online ones grow with GPUs)
    efficiency: float  # share of peak 16-bit FLOPS the stack sustains
    peak_tflops: float  # of one GPU, dense 16-bit
    memory_bandwidth_gbs: float
    link: str  # between GPUs
    network_gbs: float | None  # between nodes, per GPU, one way; null within one node
    model: str  # how the estimate is made, in words


class TimedJson(TypedDict, total=False):
    time: TimeJson | None  # null: see time_note
    cost: CostJson | None
    stages: list[StageJson]  # one per stage of the pipeline (empty without time)
    time_assumptions: TimeAssumptionsJson | None
    time_note: str | None  # why time or cost is missing or partial


class EstimateJson(TimedJson, total=False):
    schema_version: int
    method: str
    label: str
    objective: str | None
    model_params_b: float
    trainable_params_b: float
    total_gb: float
    per_gpu_gb: float
    breakdown: Breakdown
    host: Host
    # CPU RAM the run needs per node at its peak (the plans' ram_gb): offloaded states, with the
    # base loaded beside them where it loads shard by shard; null when nothing is offloaded
    ram_gb: float | None
    assumptions: AssumptionsJson
    capacity_gb: float | None
    fits: bool | None  # true only for fit "yes"
    fit: Fit | None  # yes (within the margin), tight (within capacity), no; null: no capacity
    headroom_gb: float | None
    warnings: list[str]
    max_seq_len: int | None  # with --max seq-len: the longest that fits within the margin
    max_seq_len_tight: int | None  # ... and within capacity, past the margin ("tight")
    max_batch_size: int | None  # with --max batch-size
    max_batch_size_tight: int | None
    to_fit: list[ChangeJson]  # with --method, for a plan that does not fit: changes that make it fit
    model_source: ModelSourceJson  # `estimate --method`: the model it is for


class EstimateListJson(TypedDict):
    schema_version: int
    model: str
    model_source: ModelSourceJson
    estimates: list[EstimateJson]


class ExpertsJson(TypedDict):
    routed: int
    active: int
    shared: int
    expert_intermediate_size: int
    shared_intermediate_size: int | None
    moe_layers: int
    dense_layers: int
    beside_dense_mlp: bool  # every MoE layer runs the dense MLP beside its experts (Gemma 4)
    shared_expert_gate: bool  # a sigmoid gate scales the shared expert's output (Qwen3-Next, Qwen3.5-MoE)


class GlobalAttentionJson(TypedDict):
    """Gemma 4's full-attention layers, of widths of their own."""

    layers: int
    kv_heads: int
    head_dim: int
    keys_are_values: bool  # no v_proj: the values are k_proj's output (attention_k_eq_v)


class LinearAttentionJson(TypedDict):
    """Qwen3.5's Gated DeltaNet layers, in place of attention in `layers` of the layers."""

    layers: int
    key_heads: int
    value_heads: int
    key_head_dim: int
    value_head_dim: int
    conv_kernel: int
    fused_projections: bool  # Qwen3-Next's in_proj_qkvz and in_proj_ba


class LatentAttentionJson(TypedDict):
    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


class ModelJson(TypedDict):
    """`ft-atlas model`: a model's shape as ft-atlas reads it, and where it came from."""

    schema_version: int
    model: ModelSourceJson
    family: str
    architecture: str
    params_b: float
    active_params_b: float
    published_params_b: float | None  # the catalog's published figure (None outside the catalog)
    layers: int
    decoder_layers: int | None
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    intermediate_size: int
    gated_mlp: bool
    vocab_size: int
    tied_embeddings: bool
    bias: str | None  # which linear layers carry biases: all-linear, qkv, attention; None: none
    experts: ExpertsJson | None
    latent_attention: LatentAttentionJson | None
    global_attention: GlobalAttentionJson | None
    linear_attention: LinearAttentionJson | None
    attention_output_gate: bool  # q_proj also emits a sigmoid gate on attention's output (Qwen3.5)
    weights_dtype: str
    context_length: int | None
    repo: str | None  # what a recipe loads: a Hub id or a local directory


class ToolJson(TypedDict):
    library: str
    entry: str


class TraceJson(TypedDict):
    rule: str
    action: str
    weight: float
    because: str
    source: str
    facts: dict[str, Any]


class PlanJson(TimedJson, total=False):
    rank: int
    method: str
    name: str
    variant: str | None  # the knowledge base's variant the plan uses (8-bit AdamW, pure bf16, ...)
    kind: str
    pipeline: list[str]
    score: float
    fits: bool | None  # true only for fit "yes"
    fit: Fit | None  # yes (within the safety margin), tight (within capacity), no; null: not checked
    memory_gb: float | None
    headroom_gb: float | None
    gpus: int | None  # GPUs the plan uses, a vLLM server's among them (null: nothing is run on a local GPU)
    host_gb: float | None  # CPU RAM for offloaded states
    # CPU RAM an offloading plan needs (what the table shows as "+N GB RAM"): its offloaded
    # states, or with the parameters offloaded the 16-bit checkpoint loading holds, if larger;
    # null when nothing is offloaded
    ram_gb: float | None
    assumptions: AssumptionsJson | None
    to_fit: list[ChangeJson]  # for a plan that does not fit: the smallest changes that would
    reasons: list[str]
    rules: list[str]
    caveats: list[str]
    tools: list[ToolJson]
    trace: list[TraceJson]


class AdviceJson(TypedDict):
    text: str
    source: str


class NextStepsJson(TypedDict):
    """What to do with the top plan: its tools, the command that writes its recipe, where its
    example code is, and how to evaluate the result."""

    plan: int  # the rank of the plan these steps are for (1)
    method: str
    tools: list[str]  # "library: entry", one per entry that applies to the plan
    recipe: str | None  # the `ft-atlas recipe ...` command for this profile and plan; None: see recipe_note
    recipe_note: str | None  # why there is no recipe command (None when there is one)
    example: str  # the commands that show the cards (method, then stages after SFT) and example code
    evaluation: list[AdviceJson]


class RecommendationJson(TypedDict, total=False):
    schema_version: int
    profile: dict[str, Any]
    notes: list[str]
    next_steps: NextStepsJson | None
    recommendations: list[PlanJson]
    excluded: list[PlanJson]
    facts: dict[str, Any]


class CompareRowJson(TypedDict):
    methods: list[str]
    label: str
    memory: str
    speed: str
    quality: str
    best_for: str
    trainable_share: str | None


class CompareJson(TypedDict):
    schema_version: int
    source: str
    rows: list[CompareRowJson]
    # The guide's table: where ft-atlas's own ratings differ from it, and where ft-atlas scores a
    # method differently (its card's `scoring`), each with why.
    notes: list[str]


_EXACT = ConfigDict(extra="forbid")  # a key the contract does not name is a test failure


@with_config(_EXACT)
class MethodRowJson(TypedDict):
    id: str
    name: str
    kind: str
    category: str
    summary: str
    memory: str
    speed: str
    quality: str


@with_config(_EXACT)
class MethodsJson(TypedDict):
    schema_version: int
    methods: list[MethodRowJson]


@with_config(_EXACT)
class MethodCardJson(TypedDict):
    schema_version: int
    method: Method


@with_config(_EXACT)
class CategoriesJson(TypedDict):
    schema_version: int
    categories: list[Category]


@with_config(_EXACT)
class ToolsJson(TypedDict):
    schema_version: int
    tools: list[Tool]


@with_config(_EXACT)
class GpusJson(TypedDict):
    schema_version: int
    gpus: list[Gpu]


@with_config(_EXACT)
class ModelsJson(TypedDict):
    schema_version: int
    models: list[LlmModel]


@with_config(_EXACT)
class GuideJson(TypedDict):
    schema_version: int
    choose: list[GuideRule]
    recommendations: list[GuideRule]


@with_config(_EXACT)
class CountsJson(TypedDict):
    methods: int
    rules: int
    pipelines: int
    gpus: int
    models: int


@with_config(_EXACT)
class ValidJson(TypedDict):
    schema_version: int
    path: str
    valid: bool  # true
    counts: CountsJson


@with_config(_EXACT)
class InvalidJson(TypedDict):
    schema_version: int
    path: str
    valid: bool  # false
    problems: list[str]


class BatchLineJson(RecommendationJson):
    """One output line of `recommend --batch`: the recommend document and its input line number."""

    line: int


@with_config(_EXACT)
class BatchErrorDetailJson(TypedDict):
    code: str  # bad_input, bad_json, internal, ...
    message: str


@with_config(_EXACT)
class BatchErrorJson(TypedDict):
    line: int
    error: BatchErrorDetailJson


class AskJson(RecommendationJson):
    """`ask --json`: the recommend document and the command line that reproduces it."""

    command: str


class RecipeSettingJson(TypedDict):
    value: str | int | float | bool | list[str]
    source: str  # where the value comes from


class RecipeMemoryJson(TypedDict):
    """The recipe's own estimate of one stage: its exact settings, not the ranking's."""

    objective: str
    per_gpu_gb: float
    capacity_gb: float | None
    fits: bool | None
    fit: Fit | None
    headroom_gb: float | None
    assumptions: AssumptionsJson


class RecipeFileJson(TypedDict):
    name: str  # relative to the directory `--out DIR` writes to
    text: str


class RecipeJson(TimedJson, total=False):
    """`ft-atlas recipe --json`: the plan, every setting with its source, the memory, time and
    cost of exactly those settings, the files and the command that runs them."""

    schema_version: int
    trainer: str
    profile: dict[str, Any]
    rank: int
    method: str
    name: str
    pipeline: list[str]
    settings: dict[str, RecipeSettingJson]
    memory: list[RecipeMemoryJson]
    files: list[RecipeFileJson]
    launch: str
    notes: list[str]


# Every JSON document ft-atlas prints, by the name `ft-atlas schema` publishes it under.
OUTPUTS: dict[str, Any] = {
    "methods": MethodsJson,
    "show": MethodCardJson,
    "compare": CompareJson,
    "categories": CategoriesJson,
    "tools": ToolsJson,
    "gpus": GpusJson,
    "models": ModelsJson,
    "guide": GuideJson,
    "validate": ValidJson | InvalidJson,
    "estimate": EstimateJson,
    "estimate_all": EstimateListJson,
    "recommend": RecommendationJson,
    "recommend_batch_line": BatchLineJson | BatchErrorJson,
    "ask": AskJson,
    "model": ModelJson,
    "recipe": RecipeJson,
}
