"""A ranked plan resolved into every setting a recipe writes, each with where its value comes from:
- the knowledge base's hyperparameter values (data/methods.yaml), which cite TRL / PEFT / paper
  defaults, so a recipe never disagrees with `ft-atlas show`;
- the plan's memory estimate (precision, gradient checkpointing, sequence length, rank, sharding),
  so the recipe trains what was estimated to fit;
- RECIPE_DEFAULTS below, for the few values the KB has none for (warm-up, scheduler).
A value the KB does not give is left out, and the library's default applies.

Where a trainer must run differently from the plan's estimate (TRL's fused LM head instead of
transformers' fp32 logits, a micro-batch sized to the memory left over, KTO's minimum batch, no
checkpointing for prefix tuning, QLoRA's paged optimizer), recipes/estimate.py estimates memory,
time and cost again with exactly the recipe's settings, and the header states that verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atlas_cli.core.estimates import Estimate, EstimateSettings, KbitPreparation
from atlas_cli.core.lengths import positions_note
from atlas_cli.core.memory.estimate import (
    MAX_PROMPT,
    VLLM_SHARE,
    completion_length,
    offloads_activations,
    served_by_vllm,
    vllm_share,
    vllm_tensor_parallel,
)
from atlas_cli.core.models import hub_id_of, names_other_variant, variant_checkpoint
from atlas_cli.core.names import trains_thinking_away
from atlas_cli.core.plans import Plan, Recommendation
from atlas_cli.core.profile import trains_classifier
from atlas_cli.core.resolve import Hardware, fsdp_qlora_layer, resolve_hardware, served_prompt
from atlas_cli.core.shapes import ALL_LINEAR, BARE_SIZE_VOCAB, Shape
from atlas_cli.core.throughput.plans import Timed, TimeInputs, time_inputs, usual_epochs
from atlas_cli.errors import UsageError
from atlas_cli.i18n import N_, nt, t, translated
from atlas_cli.kb.behaviour import HyperValue
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.records import Gpu, HostedOffer, LlmModel, Method
from atlas_cli.kb.vocabulary import (
    MEMORY_MODELS,
    OPTIMIZERS,
    PREQUANTIZED,
    STORED_QUANTIZED,
    SUPERVISED_STAGES,
    OptimizerInfo,
    WeightsDtype,
)

if TYPE_CHECKING:
    from atlas_cli.recipes.registry import TrainerFormat

# The releases each Python recipe was written for (tests/test_recipes_run.py runs them with
# these) and the oldest it runs with (the same tests run in the validator environment that holds
# axolotl 0.19.0's pins: transformers 5.16.1, trl 1.9.0, peft 0.20.0, datasets 4.8.4).
WRITTEN_FOR = {
    "torch": "2.13.0",
    "transformers": "5.24.0",
    "peft": "0.21.2",
    "trl": "1.16.0",
    "datasets": "5.2.0",
}
# The OpenAI SDK the prompting recipes call a provider's API with, when the profile has API
# access only (chat completions; its max_completion_tokens).
API_CLIENT_WRITTEN_FOR = "3.57.0"
# On AMD GPUs torch comes from a ROCm build: PyPI's Linux wheel is CUDA's and sees no GPU there
# (an expert's review; axolotl's docs/amd_hpc.qmd installs it from the ROCm wheel index, and
# LLaMA-Factory's README points to its ROCm image).
ROCM_TORCH = N_(
    "Setup: torch built for ROCm first (the rocm/pytorch image, or pip install torch --index-url "
    "https://download.pytorch.org/whl/rocm<your ROCm version>: PyPI's wheel is CUDA's), then pip install "
    "{packages}"
)
MINIMUM_VERSIONS = {
    "transformers": "5.16.1",
    "peft": "0.20.0",
    "trl": "1.9.0",
    "datasets": "4.8.4",
}
# The memory the header states assumes TRL's fused LM head (trl.trainer.utils.add_fused_lm_head:
# SFT, DPO, KTO, GRPO and RLOO never materialise the logits), first released in trl 1.15.0 (not
# in 1.14.0's wheel): an older trl runs the recipe with more memory, and the script says so.
FUSED_LM_HEAD_TRL = "1.15.0"

Value = str | int | float | bool | list[str] | dict[str, bool]

# Values the KB has no entry for, with their source.
# Translated where it is set (the recipe's header speaks the user's language): the config it
# cites, then the key and value as that config writes them.
LF_EXAMPLE = N_("LLaMA-Factory examples/train_lora/llama3_lora_sft.yaml (and its dpo/kto examples)")
RECIPE_DEFAULTS: dict[str, tuple[Value, str]] = {
    "warmup_ratio": (0.1, "warmup_ratio 0.1"),
    "lr_scheduler": ("cosine", "lr_scheduler_type cosine"),
}
# AdaLoRA prunes ranks between a warm-up and a final phase. PEFT's defaults (tinit = tfinal = 0)
# prune from the first step, before the importance scores mean anything; the paper trains a
# while first and fixes the ranks for the last part (arXiv 2303.10512, section 3.3).
ADALORA_PHASES = {"tinit": 0.1, "tfinal": 0.2}
ADALORA_SOURCE = N_(
    "ft-atlas: a share of the stage's optimizer steps; AdaLoRA (arXiv 2303.10512, section 3.3) warms up "
    "before pruning and fixes the ranks at the end, which PEFT's defaults (0, 0) skip"
)

# The objectives some format can train, with the KB hyperparameters each stage reads.
STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "sft": (),
    "continued-pretraining": ("dataset_text_field",),
    "dpo": ("beta",),
    "kto": ("beta", "desirable_weight", "undesirable_weight"),
    "orpo": ("beta",),
    "simpo": ("beta", "simpo_gamma", "cpo_alpha"),
    "reward-model": ("center_rewards_coefficient",),
    "grpo": ("num_generations", "beta", "max_completion_length"),
    "rloo": ("num_generations", "beta", "max_completion_length"),
}
# What the YAML recipes' SFT stage reads for an instruct model (the Python script reads it too).
INSTRUCT_SFT_DATA = N_(
    'SFT data for an instruct model: sft.jsonl holds conversations, {"messages": [{"role": '
    '"user", "content": "..."}, {"role": "assistant", "content": "..."}]}, one or many turns, '
    "rendered with the model's own chat template; the loss is on the assistant's turns."
)
# TRL's GRPO and RLOO apply the chat template to conversational prompts only (grpo_trainer.py).
INSTRUCT_RL_PROMPTS = N_(
    'RL prompts for an instruct model: grpo.jsonl holds conversations, {"prompt": [{"role": "user", '
    '"content": "What is 2 + 3?"}], "solution": "5"}: TRL renders the chat template for those only, '
    "and samples a plain-string prompt as a raw continuation, a format the model is not served with."
)
# SFT then KTO without demonstrations: the ratings' thumbs-up answers (label true) are the
# demonstrations the data holds; the thumbs-down ones must not be imitated, so they are left out.
LIKED_AS_SFT = N_(
    "No demonstrations? Train the SFT stage on the thumbs-up answers of the ratings: "
    """python -c "import json; [print(json.dumps({'prompt': r['prompt'], 'completion': r['completion']})) """
    """for r in map(json.loads, open('kto.jsonl')) if r['label'] is True]" > sft.jsonl"""
)
# Labelled examples in a format with no sequence-classifier trainer (axolotl, LLaMA-Factory,
# mlx-lm): each label becomes the answer the model learns to generate, so the {text, label} rows
# the Python recipe reads are turned into the SFT rows these read.
LABELS_AS_ANSWERS = (
    "{trainer} has no sequence-classifier head (transformers' AutoModelForSequenceClassification, "
    "which --trainer python writes): this recipe trains each label as the answer the model "
    "generates (classification as generation), and its memory is sized with the vocabulary's "
    'logits. Turn labelled rows {{"text": ..., "label": ...}} into sft.jsonl: {convert}; then '
    "ask the trained model the same way and read its answer as the label."
)
LABELS_TO_MESSAGES = (
    """python -c "import json; [print(json.dumps({'messages': [{'role': 'user', 'content': r['text']}, """
    """{'role': 'assistant', 'content': str(r['label'])}]})) """
    """for r in map(json.loads, open('labels.jsonl'))]" > sft.jsonl"""
)
LABELS_TO_COMPLETIONS = (
    """python -c "import json; [print(json.dumps({'prompt': r['text'] + '\\nLabel:', 'completion': ' ' + """
    """str(r['label'])})) for r in map(json.loads, open('labels.jsonl'))]" > sft.jsonl"""
)


def labels_as_answers(recipe: Recipe, trainer: str) -> list[str]:
    """The note a labels-as-text recipe carries (Recipe.labels_as_text); else none."""
    if not recipe.labels_as_text:
        return []
    convert = LABELS_TO_MESSAGES if recipe.post_trained else LABELS_TO_COMPLETIONS
    return [LABELS_AS_ANSWERS.format(trainer=trainer, convert=convert)]


# The GPU architectures FlashAttention 2 runs on, by vendor (Dao-AILab/flash-attention README: its
# CUDA kernels "Ampere, Ada, or Hopper GPUs"; its ROCm composable_kernel backend "MI200x, MI250x,
# MI300x, MI355x", ROCm 6.0 and above).
FLASH_ATTENTION_2 = {"nvidia": ("Ampere", "Ada Lovelace", "Hopper"), "amd": ("CDNA 2", "CDNA 3", "CDNA 4")}
# The "attention" setting's value for packed rows kept apart by FlashAttention 2.
FLASH_ATTENTION = "flash-attention-2"
# A family transformers runs eagerly by default (_supports_sdpa False: gpt-oss's attention sinks,
# Gemma 2's soft-capping) holds an s x s matrix per head; the Python recipes load it with flex
# attention (_supports_flex_attn: it applies sinks and soft-capping without one, on CUDA and ROCm,
# not on CPU or Apple's MPS), or on Hopper with the FlashAttention 3 kernel a family's own
# examples use: gpt-oss's, as TRL's examples/scripts/sft_gpt_oss.py loads it
# (GptOssPreTrainedModel._compatible_flash_implementations). Keyed by model_type.
# Only where the attention sinks stay frozen: that kernel's backward drops them (its
# FlashAttnFunc.backward returns None for s_aux: huggingface/kernels-community@5b37f389
# vllm-flash-attn3/torch-ext/vllm_flash_attn3/flash_attn_interface.py), so a full-parameter plan,
# which trains them, loads flex attention instead.
HOPPER_ATTENTION = {"gpt_oss": "kernels-community/vllm-flash-attn3"}
# Families whose attention sinks FlashAttention 2 cannot apply: transformers refuses it for them
# (GptOssPreTrainedModel._compatible_flash_implementations leaves it out).
NO_FLASH_ATTENTION_2 = frozenset({"gpt_oss"})
# FlashAttention 2 takes heads of at most 256 ("All head dimensions up to 256", its README); Gemma 4's
# full-attention layers have heads of 512 (global_head_dim), so it runs SDPA there.
FLASH_ATTENTION_MAX_HEAD = 256
FLEX_ATTENTION = "flex_attention"

# A held-out evaluation set for the offline objectives (online RL scores its own generations):
# a share of each stage's rows, at least EVAL_ROWS[0] (fewer tell nothing) and at most
# EVAL_ROWS[1] (more cost time and change nothing), evaluated EVAL_TIMES times while training;
# none where EVAL_ROWS[0] rows would be more than MAX_HELD_SHARE of the data (the OpenAI
# cookbook's 20 %, which the evaluation advice quotes).
EVAL_SHARE = 0.05
EVAL_ROWS = (20, 500)
MAX_HELD_SHARE = 0.2
EVAL_TIMES = 5
# Checkpoints: every SAVE_EVERY of a stage's steps, keeping the SAVE_KEEP latest. transformers saves
# every 500 steps and keeps them all: an 8B full fine-tune over 6,000 steps wrote 12 checkpoints of
# ~112 GB each with DeepSpeed's fp32 states (a review). The latest two: one to resume from while
# the next is written (transformers deletes the oldest only after it is).
SAVE_EVERY = 0.2
SAVE_KEEP = 2
EVAL_SOURCE = N_(
    "ft-atlas: a held-out loss shows over-fitting (LLaMA-Factory's examples keep val_size for it); "
    "5 % of the rows, 20 to 500, never over 20 % of them"
)


@dataclass(frozen=True, slots=True)
class Setting:
    value: Value
    source: str


@dataclass
class Recipe:
    """Everything a renderer needs: the plan and its settings, each with its source, and the
    memory, time and cost those exact settings give."""

    rank: int
    total: int
    plan: Plan
    method: Method
    profile: dict[str, Any]
    facts: dict[str, Any]
    architecture: str
    hub_id: str | None
    model: LlmModel | None
    stages: tuple[str, ...]
    inputs: TimeInputs  # the profile's data and money, as recommend times the plan
    # The stages whose objective samples its own completions (the cards' training.online).
    online_stages: frozenset[str] = frozenset()
    # The stages whose trainer can keep the checkpoints in CPU RAM (training.activation_offloading).
    offloading_stages: frozenset[str] = frozenset()
    # The stages whose trainer leaves an over-long example out whole (training.drops_long).
    dropping_stages: frozenset[str] = frozenset()
    trainer: str = "python"
    stack: str = "hf"
    quantized_experts: bool = False  # a QLoRA base's routed experts load quantized too
    # The decoder layer FSDP wraps where the trainer loads the plan's 4-bit base shard by shard, as
    # the plan was ranked (TrainerFormat.loads_quantized_shards, families.yaml fsdp_qlora_layer).
    fsdp_qlora_layer: str | None = None
    # Its model returns no load-balancing loss its config asks TRL to add (families.yaml
    # router_logits_without_loss): Llama 4.
    router_logits_without_loss: bool = False
    # LoRA adapts a mixture of experts' routed experts whatever --lora-experts says: the trainer
    # does by default (mlx-lm's LoRASwitchLinear), and the recipe's estimate counts them.
    lora_experts: bool = False
    one_packed_row: bool = False  # the trainer takes one packed row per device (TrainerFormat's)
    # What the trainer's prepare_model_for_kbit_training leaves of a QLoRA base (TrainerFormat's)
    kbit_preparation: KbitPreparation = "upcast"
    peft: bool = True  # the trainer adapts with PEFT (TrainerFormat's)
    packs_apart: bool = False  # the trainer keeps every packed stage's examples apart (TrainerFormat's)
    # An API model's provider endpoint when it is not OpenAI's, and every such endpoint the KB names
    endpoint: HostedOffer | None = None
    endpoints: tuple[HostedOffer, ...] = ()
    settings: dict[str, Setting] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Packed rows kept apart by a seq x seq mask (no FlashAttention 2 here): the note said once the
    # recipe's estimate has settled whether it packs.
    packing_mask_note: str = ""
    # How to try, merge and serve what training leaves behind (the header's "After training" line;
    # each format words it with its own commands).
    after_training: str = ""
    # In-recipe rules whose concern the recipe's own settings answer, with a note of their own.
    answered_rules: set[str] = field(default_factory=set)
    # The recipe's own estimate of each stage (None: no GPU to estimate for), and its time.
    estimates: dict[str, Estimate] = field(default_factory=dict)
    timed: Timed | None = None
    # ZeRO-3 across nodes: the launcher config writes ZeRO++ hierarchical partitioning
    # (zero_hpz_partition_size) where every stage fits within the margin with it; the stages'
    # estimates and time with the partitioning not written, which the header words beside it.
    hierarchical: bool = False
    other_partitioning: tuple[dict[str, Estimate], Timed | None] | None = None
    sharding: str = "ddp"
    offload: str = "none"
    sequence_parallel: int = 1  # GPUs each sequence is split over (DeepSpeed Ulysses)

    @property
    def family(self) -> str:
        return MEMORY_MODELS[self.memory_model].family

    @property
    def memory_model(self) -> str:
        return self.method.memory_model or "inference"

    @property
    def sharded_loading(self) -> bool:
        """The recipe loads its 4-bit base shard by shard under FSDP (its estimate sizes it so)."""
        return self.fsdp_qlora_layer is not None

    @property
    def shards_expert_lora(self) -> bool:
        """LoRA on fused expert weights (PEFT target_parameters) under ZeRO-3, whose partitioned
        parameters peft reads from 0.21.0 on (huggingface/peft#3576)."""
        return self.has("lora.expert_parameters") and self.sharding == "zero3"

    @property
    def frozen_base(self) -> bool:
        return MEMORY_MODELS[self.memory_model].frozen_base

    @property
    def gpus(self) -> int:
        """The GPUs the plan uses: with --priority cost, or a variant that runs on one GPU only
        (layer-wise GaLore), fewer than the profile has."""
        if self.plan.estimate is not None:
            return self.plan.estimate.settings.gpus
        return int(self.profile.get("gpus") or 1)

    @property
    def vllm_server_stage(self) -> str | None:
        """The stage that samples on a vLLM server of its own (--vllm-server-gpus), if any."""
        return next((s for s in self.stages if self.has(f"{s}.vllm_server_gpus")), None)

    @property
    def vllm_server_gpus(self) -> int:
        """GPUs a vLLM server samples on beside the recipe's `gpus` (--vllm-server-gpus), else 0."""
        stage = self.vllm_server_stage
        return 0 if stage is None else int(self.value(f"{stage}.vllm_server_gpus"))

    @property
    def classifier(self) -> bool:
        """Trains a sequence classifier with a new head (transformers' Trainer): an encoder, or a
        decoder whose labelled examples classify (AutoModelForSequenceClassification: Qwen3's and
        Llama's score the last token), in the formats that write classifiers."""
        if self.architecture == "encoder":
            return True
        return self.trainer == "python" and self._labels_classify

    @property
    def labels_as_text(self) -> bool:
        """Labelled examples for a classifier, in a format that trains no classifier head: the
        labels are answers the decoder learns to generate (LABELS_AS_ANSWERS)."""
        return not self.classifier and self._labels_classify

    @property
    def _labels_classify(self) -> bool:
        """A decoder's labelled examples that classify (profile.trains_classifier)."""
        goal, data_kind = self.profile.get("goal"), self.profile.get("data_kind")
        return trains_classifier(goal, data_kind, self.architecture, self.stages)

    @property
    def typed_name(self) -> str:
        """The --model text's last path part, in lower case: what name-keyed lists match."""
        return str(self.profile.get("model") or "").replace("\\", "/").rsplit("/", 1)[-1].lower()

    @property
    def post_trained(self) -> bool:
        """An instruct / chat checkpoint: its chat template is the format it is served with."""
        return self.profile.get("model_variant") == "instruct"

    def _sft_before(self, stage: str) -> bool:
        """SFT, then `stage`, without demonstrations (--sft-data not yes)."""
        return self.stages[:2] == ("sft", stage) and self.profile.get("sft_data") != "yes"

    @property
    def sft_on_chosen(self) -> bool:
        """SFT then DPO without demonstrations: the SFT stage trains on the preference pairs'
        chosen answers, as the DPO paper does when no SFT model exists."""
        return self._sft_before("dpo")

    @property
    def sft_on_liked(self) -> bool:
        """SFT then KTO without demonstrations: the SFT stage trains on the ratings' thumbs-up
        answers (LIKED_AS_SFT writes them out)."""
        return self._sft_before("kto")

    @property
    def stored_quantized(self) -> bool:
        """The checkpoint is stored quantized (AWQ, GPTQ, bitsandbytes, FP8, MXFP4): it loads by its
        own quantization config, which a BitsAndBytesConfig does not replace."""
        return self.weights_dtype in STORED_QUANTIZED

    @property
    def weights_dtype(self) -> WeightsDtype | None:
        """How the checkpoint stores its weights (None: no model spec, e.g. a bare size)."""
        return None if self.model is None else self.model.weights_dtype

    @property
    def dequantizing_config(self) -> str | None:
        """The transformers config that loads a checkpoint stored in a quantization of its own
        (gpt-oss's MXFP4, DeepSeek-V3's FP8) dequantized to 16 bit, which training needs: loaded
        as stored, DeepSpeed casts FP8 weights to bf16 and drops their scales. None for other
        checkpoints, and for QLoRA, which refuses them (writer.py)."""
        if self.memory_model == "qlora":
            return None
        return None if self.weights_dtype is None else PREQUANTIZED.get(self.weights_dtype)

    @property
    def sixteen_bit_gb(self) -> float:
        """The 16-bit model a merge on the CPU holds and writes (an export step, merge_earlier)."""
        e = self.plan.estimate
        return 0.0 if e is None else e.shape.sixteen_bit_bytes / 1e9

    @property
    def model_hint(self) -> str:
        """What the recipe loads: the catalog model's Hub id, or a placeholder to fill in."""
        return self.hub_id or "MODEL_ID_OR_PATH"

    def has(self, key: str) -> bool:
        return key in self.settings

    def value(self, key: str) -> Any:
        return self.settings[key].value

    def evaluates(self, stage: str) -> bool:
        """Whether the stage holds rows out to evaluate on (online RL scores its own generations)."""
        return self.has("eval.share") and stage not in self.online_stages

    def stage_value(self, key: str, stage: str) -> Any:
        """A per-stage setting (batch.kto, grad_accum.sft, epochs.dpo, lr.sft)."""
        return self.value(f"{key}.{stage}")

    def set(self, key: str, setting: Setting | None) -> None:
        if setting is not None:
            self.settings[key] = setting


def kb_value(
    method: Method | None, key: str, peft: bool = False, params_b: float | None = None
) -> Setting | None:
    """A hyperparameter's value from the KB (its with_peft value for a frozen-base plan; its
    large_models value for a model of `params_b` billion parameters that large), with the
    hyperparameter as its source."""
    if method is None or key not in method.hyperparameters:
        return None
    entry = method.hyperparameters[key]
    value: HyperValue | None = entry.for_training(peft, params_b)
    if value is None:
        return None
    which = "with_peft" if peft and entry.with_peft is not None else "value"
    source = entry.source if entry.source is None else translated(entry.source)
    large = entry.large_models
    if large is not None and entry.sized(peft, params_b) is not None:
        which, source = f"large_models ({large.params_b:g}B or more)", large.source
    where = f"methods.yaml {method.id}.hyperparameters.{key}.{which}"
    return Setting(value, f"{where} ({source})")


# --- resolving a plan ------------------------------------------------------------------------


def _pick_plan(rec: Recommendation, rank: int) -> Plan:
    if not rec.plans:
        # Why, as recommend's "Left out" lines say it: each excluding rule's reason once.
        reasons = dict.fromkeys(
            rule.because.get() for plan in rec.excluded for rule in plan.fired if rule.effect.excludes
        )
        raise UsageError(
            t(
                "no plan to write a recipe for: every method was excluded for this profile. {reasons}",
                reasons=" ".join(reasons),
            )
        )
    if not 1 <= rank <= len(rec.plans):
        raise UsageError(
            t(
                "--plan: {rank} is not a plan rank; this profile has plans 1 to {count}",
                rank=rank,
                count=len(rec.plans),
            )
        )
    return rec.shown(rank)[rank - 1]


def resolve(catalog: Catalog, rec: Recommendation, rank: int) -> Recipe:
    """The plan ranked `rank`, before any format-specific setting (see settle)."""
    plan = _pick_plan(rec, rank)
    assert rec.request is not None  # Engine.recommend sets it
    info = rec.model
    model_id = rec.profile.get("model")
    model = catalog.models.get(model_id) if isinstance(model_id, str) else None
    if info is not None and info.source in ("file", "cache", "hub"):
        model = info.spec
    hub_id = info.repo if info is not None and info.repo else hub_id_of(model)
    notes = [info.loads_elsewhere] if info is not None and info.loads_elsewhere else []
    catalog_entry = info is None or info.source == "catalog"
    variant = rec.profile.get("model_variant")
    if catalog_entry and model is not None and _answers_questions(plan, rec, model):
        # A base model continues text: prompting and retrieval serve the instruct checkpoint the
        # catalog names, and keep the entry's own where it names none (GPT-2).
        instruct, _ = _variant_repo(model, hub_id, "instruct")
        if instruct is not None and names_other_variant(model, hub_id, "instruct"):
            hub_id, notes = instruct, [t(ANSWERING_NOTE, repo=instruct, name=model.name)]
    elif catalog_entry and model is not None and names_other_variant(model, hub_id, variant):
        hub_id, note = _variant_repo(model, hub_id, str(variant))
        notes = [note]
    size = rec.profile.get("model_size")
    uses_model = not catalog.methods[plan.method].embeds_only
    if uses_model and model is None and hub_id is None and isinstance(size, (int, float)):
        notes += _models_of_size(catalog, float(size), plan.kind == "no-training" or variant == "instruct")
    downloaded = info is not None and info.source == "cache"
    if uses_model and hub_id is not None and not downloaded:
        notes += _gated_note(catalog, hub_id)
    seq_len = rec.profile.get("seq_len")
    beyond = None if info is None or not isinstance(seq_len, int) else positions_note(seq_len, info)
    if beyond is not None and not extended_by_yarn(model):  # the recipe sets no RoPE scaling
        notes.append(beyond)
    return Recipe(
        rank=rank,
        total=len(rec.plans),
        plan=plan,
        method=catalog.methods[plan.method],
        profile=rec.profile,
        facts=dict(rec.facts),
        architecture=str(rec.facts.get("model_architecture") or "decoder"),
        hub_id=hub_id,
        model=model,
        stages=plan.pipeline,
        inputs=time_inputs(rec.request),
        online_stages=frozenset(s for s in plan.pipeline if catalog.objectives[s].online),
        offloading_stages=frozenset(
            s for s in plan.pipeline if catalog.objectives[s].training.activation_offloading
        ),
        dropping_stages=frozenset(s for s in plan.pipeline if catalog.objectives[s].training.drops_long),
        notes=notes,
        router_logits_without_loss=model is not None and _router_logits_without_loss(catalog, model),
        endpoint=catalog.chat_endpoint(str(model_id)) if isinstance(model_id, str) else None,
        endpoints=catalog.chat_endpoints,
    )


def _gated_note(catalog: Catalog, repo: str) -> list[str]:
    """A gated repository refuses the download until its licence is accepted: said before the
    script fails with a 401 after its imports (a newcomer's review)."""
    gated = next((g for g in catalog.kb.gated_repositories if g.holds(repo)), None)
    if gated is None:
        return []
    return [
        t(
            "{repo} is gated on the Hugging Face Hub: accept the {licence} on its page "
            "(https://huggingface.co/{repo}), then log in with `hf auth login` or set HF_TOKEN to an "
            "access token, or the download is refused.",
            repo=repo,
            licence=gated.licence,
        )
    ]


ANSWERING_NOTE = N_(
    "model: {repo}, the instruct checkpoint of {name}: a base model continues text rather than "
    "answering, so prompting and retrieval serve the post-trained one (--model-variant base keeps "
    "the base)."
)


def _answers_questions(plan: Plan, rec: Recommendation, model: LlmModel | None) -> bool:
    """A no-training plan on a decoder whose variant the user did not choose (--model-variant):
    it serves the instruct checkpoint."""
    assert rec.request is not None
    decoder = model is not None and model.architecture == "decoder"
    return plan.kind == "no-training" and decoder and rec.request.model_variant is None


# The notes of a recipe that loads the other variant of a catalog entry, or cannot: found, missing.
VARIANT_NOTES = {
    "instruct": (
        N_("model: {repo}, the instruct checkpoint of {name} (model_variant)."),
        N_(
            "model: the catalog names no instruct checkpoint of {name}; pass its Hub id or directory "
            "with --model (the plan assumes a post-trained model; {other} is the base)."
        ),
    ),
    "base": (
        N_("model: {repo}, the base checkpoint of {name} (model_variant)."),
        N_(
            "model: the catalog names no base checkpoint of {name}; pass its Hub id or directory with "
            "--model (the plan assumes a base model; {other} is post-trained)."
        ),
    ),
}


# How far from --model-size a catalog model may be to be suggested for a recipe without --model.
SUGGESTED_SIZE = (0.75, 1.35)
MODELS_SUGGESTED = 3


def _models_of_size(catalog: Catalog, size: float, instruct: bool) -> list[str]:
    """A recipe without --model loads MODEL_ID_OR_PATH: name dense catalog decoders of about that
    size (a newcomer's review: no model was suggested). Those that answer without a long
    reasoning trace come first, then those that download without a licence to accept (a later
    review was offered an R1 distillation, whose thoughts a RAG answer's 256 tokens cut off, and
    gated Llama checkpoints first), then those with the vocabulary the estimate assumed (Llama
    3's), then the closest in size; their instruct checkpoints where the plan answers questions
    or the profile says instruct."""
    low, high = SUGGESTED_SIZE
    near = sorted(
        (
            m
            for m in catalog.models.values()
            if m.architecture == "decoder" and m.moe is None and low * size <= m.params_b <= high * size
        ),
        key=lambda m: (
            m.reasons,
            any(g.holds(hub_id_of(m) or "") for g in catalog.kb.gated_repositories),
            m.vocab_size != BARE_SIZE_VOCAB,
            abs(m.params_b - size),
        ),
    )
    found = (
        (_variant_repo(m, hub_id_of(m), "instruct")[0] if instruct else None) or hub_id_of(m) for m in near
    )
    repos = list(dict.fromkeys(r for r in found if r is not None))[:MODELS_SUGGESTED]
    if not repos:
        return []
    return [
        t(
            "No --model given: the estimates are for a {size:g}B model of a Llama-3-style shape, and the "
            "script loads the model you pass with --model, e.g. {repos} (of about that size; `ft-atlas "
            "models` lists more). Rerun with --model for its own shape.",
            size=size,
            repos=", ".join(repos),
        )
    ]


def _variant_repo(model: LlmModel, hub_id: str | None, variant: str) -> tuple[str | None, str]:
    """The checkpoint of the variant the plan assumes, when the catalog entry's own is the other
    one. A base entry's config URL names the base checkpoint (Llama-3.1-8B for
    `llama-3.1-8b-instruct` or `--model-variant instruct`) and its Hub-id aliases the instruct
    one; a post-trained entry (Qwen/Qwen3-8B) names its `base_checkpoint` (Qwen3-8B-Base).
    Without one the recipe asks for it rather than train the other variant under the plan."""
    repo = variant_checkpoint(model, variant)
    found, missing = VARIANT_NOTES[variant]
    if repo is not None:
        return repo, t(found, repo=repo, name=model.name)
    return None, t(missing, name=model.name, other=hub_id or t("the catalog id"))


def settle(catalog: Catalog, recipe: Recipe, fmt: TrainerFormat, stack: str) -> Recipe:
    """Every setting the recipe writes for the format's trainer, whose software computes the
    logits as `stack` does (and as the format says: quantizes a QLoRA base's fused routed experts,
    trains weights in the 16-bit type it loads them in, takes one packed row per device); then
    the memory, time and cost of exactly those settings."""
    from atlas_cli.recipes.estimate import estimate_recipe

    recipe.trainer, recipe.stack, recipe.one_packed_row = fmt.name, stack, fmt.one_packed_row
    recipe.kbit_preparation, recipe.peft, recipe.packs_apart = fmt.kbit_preparation, fmt.peft, fmt.packs_apart
    estimate = recipe.plan.estimate
    recipe.quantized_experts = (
        fmt.quantizes_experts
        and recipe.memory_model == "qlora"
        and estimate is not None
        and estimate.shape.expert_params > 0
    )
    recipe.fsdp_qlora_layer = _shard_loaded_layer(catalog, recipe, fmt)
    if recipe.plan.kind == "no-training":
        _prompting_settings(recipe)
        _answer_room(catalog, recipe)
        _attention(catalog, recipe)  # gpt-oss generates eagerly by default: s x s per head
        return recipe
    _estimate_settings(recipe)
    for key, (value, config_line) in RECIPE_DEFAULTS.items():
        recipe.set(key, Setting(value, f"{t(LF_EXAMPLE)}: {config_line}"))
    _optimizer(recipe)
    _method_settings(catalog, recipe)
    if fmt.transformers_models:
        _router_balance(catalog, recipe, fmt.trl_trainers)
    if fmt.adds_token_types:
        _token_types(catalog, recipe)
    _yarn(recipe, fmt.yarn)
    for stage in recipe.stages:
        recipe.set(f"lr.{stage}", _learning_rate(catalog, recipe, stage))
        _stage_settings(catalog, recipe, stage)
        recipe.set(f"epochs.{stage}", _epochs(catalog.methods.get(stage), recipe))
        recipe.set(f"packing.{stage}", _packing(catalog.methods.get(stage), recipe, stage))
        recipe.set(f"packing_strategy.{stage}", _packing_strategy(catalog.methods.get(stage), recipe, stage))
    if fmt.adjust is not None:
        fmt.adjust(recipe)
    _attention(catalog, recipe)
    _evaluation(recipe)
    _checkpoints(recipe)
    estimate_recipe(catalog, recipe)
    if recipe.packing_mask_note and _packs_apart(recipe):
        recipe.notes.append(recipe.packing_mask_note)
    if not fmt.master_copy:
        _pure_bf16_weights(catalog, recipe)
    return recipe


def _shard_loaded_layer(catalog: Catalog, recipe: Recipe, fmt: TrainerFormat) -> str | None:
    """The layer FSDP wraps where this trainer loads the plan's 4-bit base shard by shard
    (Plan.loads_shard_by_shard); else None."""
    layer = None if recipe.model is None else fsdp_qlora_layer(catalog, recipe.model)
    return layer if fmt.loads_quantized_shards and recipe.plan.loads_shard_by_shard(layer) else None


def runs_flash_attention_2(recipe: Recipe) -> bool:
    """The recipe's attention is FlashAttention 2, which needs the flash-attn package."""
    return recipe.has("attention") and recipe.value("attention") == FLASH_ATTENTION


def packed_apart_by_fa2(recipe: Recipe, stage: str) -> bool:
    """Packed SFT kept apart by FlashAttention 2 (LLaMA-Factory's neat_packing with fa2)."""
    packed = stage == "sft" and bool(recipe.stage_value("packing", stage))
    return packed and runs_flash_attention_2(recipe)


def held_out_rows(examples: int) -> int:
    """Rows of `examples` held out to evaluate on: EVAL_SHARE of them, at most EVAL_ROWS[1];
    raised to EVAL_ROWS[0] where that stays within MAX_HELD_SHARE of them (300 examples hold out
    20), else none. The script's held_out applies the same bounds to the rows it reads."""
    rows = min(EVAL_ROWS[1], int(examples * EVAL_SHARE))
    if rows >= EVAL_ROWS[0]:
        return rows
    return EVAL_ROWS[0] if EVAL_ROWS[0] <= examples * MAX_HELD_SHARE else 0


def _checkpoints(recipe: Recipe) -> None:
    """How often each stage saves a checkpoint (save.every: a share of its steps) and how many it
    keeps (save.keep)."""
    recipe.set(
        "save.every",
        Setting(
            SAVE_EVERY,
            t("ft-atlas: {n} checkpoints a stage (transformers: every 500 steps)", n=round(1 / SAVE_EVERY)),
        ),
    )
    recipe.set(
        "save.keep",
        Setting(
            SAVE_KEEP,
            t(
                "ft-atlas: transformers keeps all, and a full fine-tune's checkpoints hold its optimizer "
                "states"
            ),
        ),
    )


def _evaluation(recipe: Recipe) -> None:
    """The share of each offline stage's rows held out (eval.share: of the profile's --examples
    when given; the Python script applies EVAL_ROWS to the rows it reads) and how often they are
    evaluated (eval.every: a share of the training steps)."""
    if all(stage in recipe.online_stages for stage in recipe.stages):
        return
    examples = recipe.profile.get("examples")
    share = EVAL_SHARE
    source = t(EVAL_SOURCE)
    config = recipe.trainer != "python"  # a trainer's YAML: its share is fixed when it is written
    if isinstance(examples, int) and config:
        held = held_out_rows(examples)
        if not held:
            recipe.notes.append(
                nt(
                    "Evaluation: {examples} example is too few to hold out {rows} rows, so every "
                    "row trains and no loss is measured on unseen rows.",
                    "Evaluation: {examples} examples are too few to hold out {rows} rows, so every "
                    "row trains and no loss is measured on unseen rows.",
                    examples,
                    examples=examples,
                    rows=EVAL_ROWS[0],
                )
            )
            return
        share = float(f"{held / examples:.4g}")
        # A share, not a count: a file shorter than --examples said still splits.
        source = t(
            "{held} of the profile's {examples} examples <- {source}",
            held=held,
            examples=examples,
            source=source,
        )
    elif config:
        recipe.notes.append(
            t(
                "Evaluation: without --examples the config holds out {percent} % of each file's rows, "
                "with no cap of {rows}; give --examples to cap it.",
                percent=round(EVAL_SHARE * 100),
                rows=EVAL_ROWS[1],
            )
        )
    recipe.set("eval.share", Setting(share, source))
    recipe.set(
        "eval.every",
        Setting(round(1 / EVAL_TIMES, 4), t("ft-atlas: {n} evaluations while training", n=EVAL_TIMES)),
    )


def recipe_hardware(catalog: Catalog, recipe: Recipe) -> Hardware:
    """The GPUs the profile names, as the engine resolved them."""
    gpu = recipe.profile.get("gpu")
    return resolve_hardware(
        catalog,
        gpu if isinstance(gpu, str) else None,
        recipe.profile.get("vram") if not isinstance(gpu, str) else None,
        recipe.gpus,
        recipe.profile.get("network_gbps"),
    )


def _attention(catalog: Catalog, recipe: Recipe) -> None:
    """The attention kernel a recipe loads the model with, when it needs one: a family that runs
    eagerly by default gets a kernel without s x s matrices in the Python recipes, and in axolotl's
    unless it packs (its attn_implementation takes a hub kernel, as its gpt-oss examples load
    kernels-community/vllm-flash-attn3; LLaMA-Factory keeps transformers' default, and writes no
    gpt-oss recipe: llamafactory.gap); packed SFT gets
    FlashAttention 2 to keep its examples apart where the family takes it."""
    hardware = recipe_hardware(catalog, recipe)
    gpu = None if hardware.gpu_id is None else catalog.gpus[hardware.gpu_id]
    architecture = None if gpu is None else gpu.architecture.split(" (")[0]
    model = recipe.model
    eager = model is not None and model.eager_attention
    # A GPU given by its memory alone (--vram) is taken for CUDA; Apple's MPS runs no flex attention.
    on_gpu = hardware.has_gpu and (gpu is None or gpu.vendor != "apple")
    # axolotl's packed rows keep to what _packed_attention says (FlashAttention 2 where it runs).
    packed = "sft" in recipe.stages and bool(recipe.stage_value("packing", "sft"))
    kernel_trainers = ("python",) if packed else ("python", "axolotl")
    if model is not None and eager and recipe.trainer in kernel_trainers and on_gpu:
        hopper = HOPPER_ATTENTION.get(model.family) if architecture == "Hopper" else None
        source = t(
            "{model} has no SDPA kernel in transformers (_supports_sdpa False): eager attention "
            "would hold an s x s matrix per head",
            model=model.name,
        )
        if hopper and not recipe.frozen_base:
            hopper = None
            source += t(
                "; not the FlashAttention 3 kernel TRL's gpt-oss example loads on Hopper, whose "
                "backward gives the attention sinks no gradient, which this plan trains"
            )
        elif hopper:
            source += " (TRL examples/scripts/sft_gpt_oss.py)"
        recipe.set("attention", Setting(hopper or FLEX_ATTENTION, source))
        return
    refused = model is not None and model.family in NO_FLASH_ATTENTION_2
    _packed_attention(recipe, gpu, architecture, refused, too_wide_for_flash(model))


def ulysses_attention(recipe: Recipe) -> str:
    """The attention DeepSpeed Ulysses runs inside (accelerate's sp_attn_implementation):
    FlashAttention 2, or SDPA for heads wider than it takes (Gemma 4's; accelerate
    ParallelismConfig takes 'flash_attention_2', 'flash_attention_3' or 'sdpa')."""
    return "sdpa" if too_wide_for_flash(recipe.model) else "flash_attention_2"


def too_wide_for_flash(model: LlmModel | None) -> int:
    """The widest head of a model past FlashAttention 2's limit (Gemma 4's 512), else 0."""
    if model is None:
        return 0
    widest = max(model.global_head_dim or 0, model.head_dim or model.hidden_size // model.attention_heads)
    return widest if widest > FLASH_ATTENTION_MAX_HEAD else 0


def _packs_apart(recipe: Recipe) -> bool:
    """Whether a stage packs several examples in a row that its attention must keep apart: packed
    SFT in every format, and any packed stage under axolotl, whose sample_packing restarts the
    positions at each document of continued pre-training too (its collator writes segment ids,
    utils/collators/batching.py; positions restart per document, utils/trainer.py). The Python
    recipe's continued pre-training wraps documents with running positions (TRL's 'wrapped'
    strategy) and LLaMA-Factory's concatenates them: attending across them is what they train."""
    if "sft" in recipe.stages and recipe.stage_value("packing", "sft"):
        return True
    return recipe.packs_apart and any(recipe.stage_value("packing", s) for s in recipe.stages)


# axolotl 0.19 keeps packed rows apart only with an attention backend named (utils/schemas/
# validation.py check_sample_packing_without_attention: "a packing-capable backend (e.g.
# flash_attention_2, flex_attention, sdpa, eager)"); unnamed, documents attend to each other while
# their positions restart. SDPA where FlashAttention 2 does not run.
AX_PACKED_SDPA = "sdpa"
AX_PACKED_SDPA_SOURCE = N_(
    "packed rows need a backend that keeps them apart, and FlashAttention 2 does not run here "
    "(axolotl utils/schemas/validation.py check_sample_packing_without_attention)"
)


def _packed_attention(
    recipe: Recipe, gpu: Gpu | None, architecture: str | None, refused: bool, wide: int = 0
) -> None:
    """Packed SFT trains several examples in one row told apart by their positions (TRL's
    padding-free packing, LLaMA-Factory's neat_packing, axolotl's multipack, which packs continued
    pre-training so too: _packs_apart). FlashAttention 2 keeps them apart at no cost; any other
    attention gets a seq x seq mask from transformers (masking_utils: find_packed_sequence_indices)
    that the memory estimate does not count, and axolotl builds it only with SDPA named.
    `refused`: the model's attention takes no FlashAttention 2 (gpt-oss's sinks); `wide`: its heads
    are wider than FlashAttention 2 takes (Gemma 4's 512), and SDPA keeps the rows apart."""
    if not _packs_apart(recipe):
        return
    supported = FLASH_ATTENTION_2.get(gpu.vendor, ()) if gpu is not None else ()
    if architecture in supported and not refused and not wide:
        assert gpu is not None
        source = t(
            "packed rows need it (FlashAttention 2 runs on {architecture} GPUs, its README)",
            architecture=gpu.architecture,
        )
        recipe.set("attention", Setting(FLASH_ATTENTION, source))
        return
    eager = recipe.model is not None and recipe.model.eager_attention  # no SDPA kernel to name
    if recipe.packs_apart and not (refused or eager):  # axolotl keeps rows apart only with one named
        recipe.set("attention", Setting(AX_PACKED_SDPA, t(AX_PACKED_SDPA_SOURCE)))
    model = recipe.model.name if recipe.model is not None else "this model"
    every = [arch for archs in FLASH_ATTENTION_2.values() for arch in archs]
    why = (
        f"{model}'s attention takes none"
        if refused
        else f"{model}'s heads of {wide} exceed its {FLASH_ATTENTION_MAX_HEAD}"
        if wide
        else f"{gpu.name if gpu else 'this GPU'} is not {', '.join(every[:-1])} or {every[-1]}"
    )
    seq_len = int(recipe.value("seq_len"))
    # Said once the recipe's estimate has settled packing: split sequences train unpacked.
    recipe.packing_mask_note = (
        f"Packing without FlashAttention 2 ({why}): transformers keeps the packed examples apart with a "
        f"mask of (micro-batch x {seq_len})^2 bytes ({seq_len**2 / 1e9:.2g} GB at micro-batch 1) that the "
        "memory estimate does not count. At long lengths drop --packing."
    )


def _prompting_settings(recipe: Recipe) -> None:
    """Few-shot and RAG prompts fill the context the serving estimate was sized for, not the
    model's whole window, with the weights in the bits it served them in, over its GPUs."""
    estimate = recipe.plan.estimate
    if estimate is None:
        return
    s = estimate.settings
    source = t("the plan's memory estimate")
    sized = t("the context it sized the KV cache for")
    window = recipe.model.context_length if recipe.model is not None else None
    given = recipe.profile.get("seq_len")
    usual = served_prompt(given if isinstance(given, int) else 0, window)
    if recipe.architecture == "decoder" and s.seq_len < usual:  # engine._shorter_prompt
        sized = t("the longest prompt whose KV cache fits, below the usual {usual}", usual=usual)
    recipe.set("context_tokens", Setting(s.seq_len, f"{source} ({sized})"))
    if s.gpus > 1:
        splits = t("accelerate's device_map='auto' splits the layers")
        recipe.set("gpus", Setting(s.gpus, f"{source} ({splits})"))
    # Loaded in the checkpoint's own dtype (pipeline's dtype="auto"), a bf16 checkpoint on a GPU
    # without bf16 (T4, V100) runs SDPA's math kernel, s x s per head: the estimate's dtype is set.
    dtype = t("the dtype the weights load and compute in")
    recipe.set("precision", Setting(s.precision, f"{source} ({dtype})"))
    if s.serving_bits != 16:
        why = t("the checkpoint is stored so") if recipe.stored_quantized else t("wider weights do not fit")
        recipe.set("serving_bits", Setting(s.serving_bits, f"{source} ({why})"))


def _estimate_settings(recipe: Recipe) -> None:
    """Precision, checkpointing, sequence length and rank: what the memory estimate assumed."""
    estimate = recipe.plan.estimate
    if estimate is None:
        source = t("no GPU in the profile, so no memory estimate: full precision")
        recipe.set("precision", Setting("fp32", source))
        recipe.set("gradient_checkpointing", Setting(True, t("no memory estimate: TRL's default (True)")))
        recipe.set("seq_len", Setting(1024, t("no memory estimate: TRL SFTConfig's default max_length 1024")))
        return
    s = estimate.settings
    why = (
        t("bf16 on Apple silicon: MLX computes in it, and PyTorch's MPS from macOS 14 with torch 2.6")
        if recipe.facts.get("gpu_vendor") == "apple"
        else t(
            "bf16 on Ampere or newer; fp16 on GPUs without bf16 (V100, T4), fp32 there for Gemma 3, which "
            "overflows fp16"
        )
    )
    estimated = t("the plan's memory estimate")
    precision = Setting(s.precision, f"{estimated} ({why})")
    if recipe.plan.recipe_precision != s.precision:
        overflows = t(
            "this model's activations overflow fp16 (Gemma 3, T5): the recipe trains in fp32 whatever "
            "--precision said"
        )
        precision = Setting("fp32", overflows)
    recipe.set("precision", precision)
    recipe.set("gradient_checkpointing", Setting(s.gradient_checkpointing, estimated))
    if offloads_activations(s):
        offloaded = t(
            "the plan's memory estimate (--activation-offloading, or no training plan fits without it): "
            "the checkpoints wait in CPU RAM (the estimate's host RAM)"
        )
        recipe.set("activation_offloading", Setting(True, offloaded))
    recipe.set("seq_len", Setting(s.seq_len, t("the plan's memory estimate (sequence length it assumed)")))
    if recipe.family == "lora":  # AdaLoRA sets its ranks with init_r / target_r instead
        recipe.set("lora.r", Setting(s.lora_rank, t("the plan's memory estimate (LoRA rank it assumed)")))


# Optimizer names of transformers' TrainingArguments -> the estimator's optimizer they use.
ESTIMATOR_OPTIMIZER = {info.transformers_name: key for key, info in OPTIMIZERS.items()}
ESTIMATOR_OPTIMIZER.update({"adamw_torch": "adamw", "adamw_8bit": "adamw-8bit", "galore_adamw": "adamw"})
ESTIMATOR_OPTIMIZER["galore_adamw_8bit"] = "adamw-8bit"
ESTIMATOR_OPTIMIZER["adamw"] = "adamw"  # mlx-lm's name for it (mlx.optimizers.AdamW)
ESTIMATOR_OPTIMIZER.update(
    {f"{name}_layerwise": ESTIMATOR_OPTIMIZER[name] for name in ("galore_adamw", "galore_adamw_8bit")}
)


def recipe_optimizer(recipe: Recipe) -> OptimizerInfo | None:
    """What the optimizer the recipe writes is (its library, where it runs); None before one is
    set, or for a name the estimator does not know."""
    key = ESTIMATOR_OPTIMIZER.get(str(recipe.value("optim"))) if recipe.has("optim") else None
    return None if key is None else OPTIMIZERS[key]


def bitsandbytes_optimizer(recipe: Recipe) -> bool:
    """The recipe's optimizer is one of bitsandbytes' (8-bit or paged AdamW, GaLore's 8-bit)."""
    info = recipe_optimizer(recipe)
    return info is not None and info.bitsandbytes


def trains_answers_without_thinking(recipe: Recipe) -> bool:
    """A trainer that renders answers with the model's chat template would train them without
    their reasoning (names.trains_thinking_away)."""
    labels = recipe.classifier or recipe.labels_as_text
    return trains_thinking_away(recipe.typed_name, recipe.stages, labels)


DROPS_THINKING_GAP = N_(
    "DeepSeek-R1's chat template, which {trainer} renders answers with{also}, drops an answer's "
    "reasoning before </think>: trained so, the model learns to answer without it; use --trainer "
    "llamafactory (its deepseekr1 template keeps the answer's thought) or python (which checks the "
    "template)"
)


def torchao_optimizer(recipe: Recipe) -> bool:
    """The recipe's optimizer is one of torchao's, which transformers imports to build it
    (_get_torchao_optimizer: "You need to have torchao>=0.4.0")."""
    info = recipe_optimizer(recipe)
    return info is not None and info.torchao


def samples_with_vllm(recipe: Recipe) -> bool:
    """A stage of the recipe samples its completions with vLLM (use_vllm)."""
    return any(recipe.has(f"{stage}.use_vllm") for stage in recipe.stages)


OFFLOADED_STEP = N_(
    "the parameters are offloaded to CPU RAM, where the optimizer steps them, and the method's "
    "bitsandbytes optimizer takes CUDA tensors only (axolotl's qlora-fsdp-70b.yaml offloads with "
    "adamw_torch_fused)"
)


def _optimizer(recipe: Recipe) -> None:
    """The estimate's optimizer where the engine chose a memory-saving variant (8-bit AdamW); else
    the method's own (QLoRA: paged AdamW; GaLore: galore_adamw); else AdamW. The recipe's memory
    is estimated again with it."""
    assumed = recipe.plan.estimate.settings.optimizer if recipe.plan.estimate else "adamw"
    own = kb_value(recipe.method, "optim")
    if assumed != "adamw" or own is None or str(own.value) not in ESTIMATOR_OPTIMIZER:
        name = OPTIMIZERS[assumed].transformers_name
        source = t(
            "the plan's memory estimate (optimizer {optimizer}; transformers' name {name})",
            optimizer=assumed,
            name=name,
        )
        if recipe.memory_model == "galore":
            name = "galore_adamw_8bit" if assumed == "adamw-8bit" else "galore_adamw"
            source = t("the plan's memory estimate (GaLore with {optimizer})", optimizer=assumed)
            if recipe.plan.estimate is not None and recipe.plan.estimate.settings.optimizer_in_backward:
                name += "_layerwise"  # transformers' own name for it
                source = t(
                    "the plan's memory estimate (layer-wise GaLore with {optimizer})", optimizer=assumed
                )
        recipe.set("optim", Setting(name, source))
        if OPTIMIZERS[assumed].optim_args:
            recipe.set("optim_args", Setting(OPTIMIZERS[assumed].optim_args, source))
        return
    estimate = recipe.plan.estimate
    offloaded = recipe.sharded_loading and estimate is not None and estimate.settings.offload == "params"
    if offloaded and OPTIMIZERS[ESTIMATOR_OPTIMIZER[str(own.value)]].bitsandbytes:
        # FSDP's offloaded parameters step on the CPU, and bitsandbytes' optimizers take CUDA
        # tensors (axolotl's examples/llama-3/qlora-fsdp-70b.yaml offloads with adamw_torch_fused;
        # under DeepSpeed, accelerate swaps in its CPU Adam itself).
        recipe.set("optim", Setting(OPTIMIZERS["adamw"].transformers_name, t(OFFLOADED_STEP)))
        return
    recipe.set("optim", own)


STOCHASTIC_ROUNDING = "adamw-8bit-sr"  # kb.vocabulary's optimizer that pure bf16 needs


def _pure_bf16_weights(catalog: Catalog, recipe: Recipe) -> None:
    """A trainer without an fp32 master copy trains a bf16 plan's own weights (full or partial
    fine-tuning, BitFit) in pure bf16, which the recipe's memory follows; nearest rounding would
    cancel the small updates, so its optimizer rounds stochastically (kb.vocabulary's
    adamw-8bit-sr, the KB's pure-bf16 variant of full fine-tuning). GaLore's weights are bf16
    already. Under DeepSpeed (ZeRO or offload) nothing changes: its optimizer keeps fp32 master
    partitions whatever the model's dtype (bf16_master_weights_and_grads is off by default,
    deepspeed runtime/zero/stage3.py _create_fp32_partitions)."""
    if recipe.family != "weights" or recipe.memory_model == "galore" or recipe.value("precision") != "bf16":
        return
    if recipe.sharding != "ddp" or recipe.offload != "none":
        return
    from atlas_cli.recipes.estimate import estimate_recipe

    # Sized again below, which words its notes again: those of the first sizing stand.
    mixed, notes = dict(recipe.settings), list(recipe.notes)
    source = t(
        "{trainer} loads the weights it trains in bf16 (bf16: true), with no fp32 master copy",
        trainer=recipe.trainer,
    )
    recipe.set("precision", Setting("pure-bf16", source))
    if recipe.value("optim") != OPTIMIZERS[STOCHASTIC_ROUNDING].transformers_name:
        optimizer = OPTIMIZERS[STOCHASTIC_ROUNDING]
        why = t(
            "pure bf16 ({source}): stochastic rounding keeps the updates nearest rounding would cancel",
            source=source,
        )
        recipe.set("optim", Setting(optimizer.transformers_name, why))
        recipe.set("optim_args", Setting(optimizer.optim_args, why))
    estimate_recipe(catalog, recipe)
    if recipe.sharding != "ddp" or recipe.offload != "none":  # sized anew it takes DeepSpeed: as planned
        recipe.settings = mixed
        estimate_recipe(catalog, recipe)
        recipe.notes = notes
        return
    recipe.notes = notes
    recipe.notes.append(
        t(
            "{trainer} keeps no fp32 master copy of the weights it trains: this recipe trains in pure "
            "bf16 with torchao's 8-bit AdamW and stochastic rounding, and its memory above is sized so. "
            "For mixed precision with an fp32 copy (the plan's), use --trainer llamafactory or python.",
            trainer=recipe.trainer,
        )
    )


# Chat templates whose special tokens the base checkpoints never trained, by a part of the model's
# name: Llama 3's header and end-of-turn tokens (unslothai/unsloth#915, #873). Trained on with
# LoRA, which leaves the embeddings as they are, the model does not learn to stop; a base model's
# recipe renders conversations with a plain template instead (LLaMA-Factory's maintainer: "base
# model: default, instruct model: llama3", hiyouga/LlamaFactory#6436).
UNTRAINED_BASE_TEMPLATES = ("llama-3",)


def untrained_chat_tokens(recipe: Recipe) -> str | None:
    """The name part (UNTRAINED_BASE_TEMPLATES) of a base model whose chat template's special tokens
    were never trained, else None."""
    if recipe.post_trained:
        return None
    return next((part for part in UNTRAINED_BASE_TEMPLATES if part in recipe.typed_name), None)


def optimizer_arguments(recipe: Recipe) -> dict[str, Value]:
    """TrainingArguments' optim_target_modules and optim_args: GaLore's projection settings and
    the optimizer's own (torchao's stochastic rounding), joined."""
    values: dict[str, Value] = {}
    args: list[str] = []
    if recipe.memory_model == "galore" and recipe.has("galore.targets"):
        values["optim_target_modules"] = recipe.value("galore.targets")
        keys = ("rank", "update_proj_gap", "scale")
        args = [f"{k}={recipe.value('galore.' + k)}" for k in keys if recipe.has(f"galore.{k}")]
    if recipe.has("optim_args"):
        args.append(str(recipe.value("optim_args")))
    if args:
        values["optim_args"] = ",".join(args)
    return values


def _method_settings(catalog: Catalog, recipe: Recipe) -> None:
    method, family = recipe.method, recipe.family
    if family == "lora":
        _lora_settings(catalog, recipe)
    elif family == "adalora":
        for key in ("init_r", "target_r", "deltaT", "orth_reg_weight"):
            recipe.set(f"adalora.{key}", kb_value(method, key))
        for key, share in ADALORA_PHASES.items():
            recipe.set(f"adalora.{key}_share", Setting(share, t(ADALORA_SOURCE)))
        lora = catalog.methods.get("lora")
        recipe.set("adalora.targets", kb_value(lora, "target_modules"))
        _frozen_towers(recipe, "adalora")
        # Named as the estimate sized it (a diff review: "AdaLoRA, attention only" wrote all-linear)
        _attention_of_a_mixture(recipe, "adalora.targets")
    elif family == "prompt":
        _prompt_settings(recipe)
    elif recipe.memory_model == "ia3" and not ia3_defaults(recipe.model):
        recipe.set("ia3.targets", kb_value(method, "target_modules"))
        recipe.set("ia3.feedforward", kb_value(method, "feedforward_modules"))
        _frozen_towers(recipe, "ia3")
    elif recipe.memory_model == "partial":
        recipe.set("partial.fraction", kb_value(method, "trainable_layers"))
    elif recipe.memory_model == "galore":
        for key in ("update_proj_gap", "scale"):
            recipe.set(f"galore.{key}", kb_value(method, key))
        estimate = recipe.plan.estimate
        rank = (
            kb_value(method, "rank")
            if estimate is None
            else Setting(
                estimate.settings.lora_rank,
                t("the plan's memory estimate (projection rank it assumed: the card's, or --lora-rank)"),
            )
        )
        recipe.set("galore.rank", rank)
        recipe.set("galore.targets", kb_value(method, "optim_target_modules"))
        if estimate is not None and estimate.settings.optimizer_in_backward:
            recipe.set("galore.layerwise", Setting(True, t("the plan's memory estimate (layer-wise GaLore)")))


def extended_by_yarn(model: LlmModel | None) -> bool:
    """Whether the model's card extends its positions by YaRN (models.yaml yarn_context)."""
    return model is not None and model.yarn_context is not None and model.context_length is not None


def _yarn(recipe: Recipe, writes: bool) -> None:
    """Sequences past the positions the model was trained with, where its card extends them by
    YaRN: the factor that covers --seq-len (in quarters: 2.0 for 64k over 32k, as the card
    advises), written where the format does (`writes`), else said how; past the length the card
    validates, said too."""
    model, seq_len = recipe.model, recipe.value("seq_len") if recipe.has("seq_len") else None
    if model is None or not extended_by_yarn(model) or not isinstance(seq_len, int):
        return
    native, validated = model.context_length or 0, model.yarn_context or 0
    if seq_len <= native:
        return
    factor = math.ceil(seq_len / native * 4) / 4
    past = (
        "; "
        + t(
            "{seq_len} is past the {validated} its card validates with YaRN (factor {factor:g}): expect "
            "weaker long-range quality",
            seq_len=seq_len,
            validated=validated,
            factor=validated / native,
        )
        if seq_len > validated
        else ""
    )
    if not writes:
        recipe.notes.append(
            t(
                "--seq-len {seq_len} is past the {native} positions {model} was trained with: its model "
                "card extends them by YaRN. Set {scaling} in the model's config.json (transformers 5: add "
                "those keys to rope_parameters, beside its rope_theta) before training, and serve it so",
                seq_len=seq_len,
                native=native,
                model=model.name,
                scaling=f'"rope_scaling": {{"rope_type": "yarn", "factor": {factor}, '
                f'"original_max_position_embeddings": {native}}}',
            )
            + f"{past}."
        )
        return
    source = (
        t(
            "--seq-len {seq_len} past the {native} positions {model} was trained with: YaRN, as its model "
            "card extends them (models.yaml yarn_context); set in the config the model loads with, which a "
            "fully trained model saves (an adapter does not: 'After training' says how its base loads)",
            seq_len=seq_len,
            native=native,
            model=model.name,
        )
        + past
    )
    recipe.set("rope.yarn_factor", Setting(factor, source))
    recipe.set("rope.native", Setting(native, t("the positions the model was trained with (its config)")))


# The methods that train a mixture of experts' routers: all weights, or the top layers' (BitFit
# trains biases only, and LoRA recipes leave the routers frozen).
ROUTER_TRAINING = ("full", "galore", "partial")
# transformers' config default for the families that add the loss (Qwen3-MoE, Mixtral, gpt-oss:
# configuration_*.py router_aux_loss_coef = 0.001), where the checkpoint's own was not read.
DEFAULT_ROUTER_AUX_LOSS = 0.001


# TRL 1.16's trainers add Mixtral's load-balancing loss to any mixture of experts whose config
# has output_router_logits and a router_aux_loss_coef (SFTConfig router_aux_loss_coef: "the value
# declared by the model config is used"), reading the expert count as `num_experts`.
NO_ROUTER_AUX_LOSS = N_(
    "{family}'s config declares a router_aux_loss_coef, but its model returns no load-balancing loss "
    "(data/families.yaml router_logits_without_loss): TRL 1.16's trainers would add Mixtral's, "
    "reading a config.num_experts this config lacks (AttributeError at the first step); 0.0 trains "
    "without one, as the model itself does"
)


def _router_logits_without_loss(catalog: Catalog, model: LlmModel) -> bool:
    family = catalog.model_families.get(model.family)
    return family is not None and family.router_logits_without_loss


def _router_balance(catalog: Catalog, recipe: Recipe, trl: bool) -> None:
    """Training a mixture of experts' routers keeps their load-balancing loss on: the families
    whose model adds it only with output_router_logits, which their checkpoints ship false (data/
    families.yaml router_aux_loss), would otherwise let the routers collapse onto a few experts.
    Under TRL's trainers (`trl`), a family whose model returns none while its config declares one
    trains without it."""
    model = recipe.model
    # A sequence classifier's model adds no such loss, whatever its config says.
    if model is None or model.moe is None or recipe.classifier:
        return
    if recipe.router_logits_without_loss and trl:
        recipe.set("no_router_aux_loss", Setting(True, t(NO_ROUTER_AUX_LOSS, family=model.family)))
    family = catalog.model_families.get(model.family)
    if family is None or not family.router_aux_loss or recipe.memory_model not in ROUTER_TRAINING:
        return
    coefficient = model.moe.router_aux_loss_coef
    where = "the checkpoint's router_aux_loss_coef"
    if coefficient is None:
        coefficient, where = DEFAULT_ROUTER_AUX_LOSS, "transformers' default router_aux_loss_coef"
    source = (
        f"the routers train, and {model.family}'s model adds their load-balancing loss ({where} x aux_loss) "
        "only with output_router_logits, which its checkpoints ship false (data/families.yaml "
        "router_aux_loss; TRL 1.16's trainers turn it on themselves, axolotl's Mixtral examples and "
        "LLaMA-Factory's moe_aux_loss_coef do). The logged loss includes it: about the coefficient x "
        f"the experts per token when the routing is balanced ({coefficient:g} x {model.moe.active})"
    )
    recipe.set("router_aux_loss", Setting(coefficient, source))


# Model types PEFT's IA3 has default target and feed-forward modules for (peft utils/constants.py
# TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING, huggingface/peft@5d602fdb). A decoder of
# another type gets the KB's Llama-style names; an encoder of another type is refused
# (writer._check_ia3_modules): its modules have names of their own (ModernBERT: Wqkv, Wi, Wo).
IA3_DEFAULT_TYPES = frozenset(
    {
        *("t5", "mt5", "gpt2", "bloom", "roberta", "opt", "gptj", "gpt_neox", "gpt_neo", "bart"),
        *("gpt_bigcode", "llama", "llama4", "mistral", "mixtral", "bert", "deberta-v2", "deberta"),
        *("RefinedWebModel", "RefinedWeb", "falcon", "phi", "gemma", "gemma2", "gemma3_text"),
        *("qwen2", "qwen3"),
    }
)


def ia3_defaults(model: LlmModel | None) -> bool:
    """PEFT's IA3 picks this model's modules itself."""
    return model is not None and model.family in IA3_DEFAULT_TYPES


# The modules of a vision-language checkpoint outside its text model (Gemma 3's and Mistral Small
# 3's `vision_tower` and `multi_modal_projector`, Llama 4's `vision_model`, Qwen-VL's `visual`;
# Gemma 4's `vision_tower`, `embed_vision`, and `audio_tower` and `embed_audio` where it has them),
# and the modules themselves: Llama 3.2 Vision's projector is one nn.Linear (a diff review).
VISION_MODULES = (
    r".*(vision_tower|vision_model|multi_modal_projector|visual|embed_vision|audio_tower|embed_audio)(\..*)?"
)


def _frozen_towers(recipe: Recipe, family: str) -> None:
    """PEFT's all-linear, or module names its vision tower shares (k_proj, v_proj), also adapt a
    vision tower's layers, which text data never trains and the memory estimate holds frozen: a
    vision-language model keeps them out (exclude_modules)."""
    model = recipe.model
    if model is None or not model.vision_params_b or not recipe.has(f"{family}.targets"):
        return
    source = t("vision tower and projector frozen: the data are text, the estimate trains the text model")
    recipe.set(f"{family}.exclude", Setting(VISION_MODULES, source))


# transformers 5's fused expert weights, by the role of the matrices they hold (shapes._experts).
EXPERT_PARAMETERS = {"gate_up": "experts.gate_up_proj", "up": "experts.up_proj", "down": "experts.down_proj"}


def _token_types(catalog: Catalog, recipe: Recipe) -> None:
    """The token types a vision-language checkpoint's forward refuses to train without (its
    family's training_token_types): zeros, every token being text. TRL's text collators pass none,
    and transformers' Gemma 3 raises "`token_type_ids` is required as a model input when training"
    (huggingface/trl#5032, #5807)."""
    model = recipe.model
    family = catalog.model_families.get(model.family) if model is not None else None
    # Only the vision-language checkpoint's forward asks (a text-only one, gemma-3-1b, loads
    # Gemma3ForCausalLM).
    if family is None or family.training_token_types is None or recipe.classifier:
        return
    if model is None or not model.vision_params_b:
        return
    source = t(
        "{family}'s vision-language forward asks for {key} in training, which TRL's text collators "
        "do not pass: zeros, every token being text ({source})",
        family=model.family,
        key=family.training_token_types,
        source=family.source,
    )
    recipe.set("token_types", Setting(family.training_token_types, source))


def _attention_of_a_mixture(recipe: Recipe, key: str = "lora.targets") -> None:
    """LoRA on a mixture of experts of a family whose experts transformers 5 fuses (its
    data/families.yaml entry's peft_remaps_experts, which the plan's estimate already narrowed to
    the attention: core/resolve.py settings_for) adapts its attention, named: on transformers 5
    PEFT reads "all-linear", and any MLP projection name (gate_proj, down_proj, Mixtral's w1-w3),
    as the routed experts and router they were in transformers 4 and adapts those
    (peft@5d602fd utils/transformers_weight_conversion.py, _resolve_string_target_modules and
    _convert_peft_config_moe: for Qwen3-30B-A3B ~1 billion trainable parameters, 75x the adapter
    sized; with --lora-experts, the router as well). A shared expert's MLP names would do the
    same, so it is left out as well; --lora-experts names the experts (target_parameters)."""
    estimate = recipe.plan.estimate
    if estimate is None or not estimate.shape.expert_params or not recipe.peft:
        return  # mlx-lm keys its layers by their path in a block, and adapts its experts itself
    if not recipe.has(key) or recipe.value(key) != "all-linear":
        return
    if estimate.settings.lora_targets != "attention":
        # Every linear layer the estimate counts, by name: all-linear would adapt any router that
        # is an nn.Linear (transformers' Llama4Router), which the estimate leaves frozen, as
        # axolotl's Llama 4 examples do (examples/llama-4: attention and shared-expert projections).
        source = t(
            "every linear layer but the router, named: all-linear adapts every nn.Linear, and a mixture "
            "of experts' router may be one (transformers' Llama4Router)"
        )
        recipe.set(key, Setting(linear_module_names(estimate.shape), source))
        return
    roles = dict.fromkeys(m.role for m in estimate.shape.targets("attention"))
    names = [MODULE_NAMES.get(role, f"{role}_proj") for role in roles]
    source = t(
        "attention only, named: PEFT on transformers 5 turns all-linear and MLP names of a mixture of "
        "experts into its routed experts and router (peft utils/transformers_weight_conversion.py)"
    )
    recipe.set(key, Setting(names, source))


def _expert_parameters(recipe: Recipe) -> None:
    """--lora-experts: LoRA on a mixture of experts' fused expert weights, which are 3-D
    parameters, not nn.Linear modules: PEFT's target_parameters (matched by name suffix)."""
    estimate = recipe.plan.estimate
    if estimate is None or not estimate.settings.lora_experts:
        return
    roles = dict.fromkeys(m.role for m in estimate.shape.matrices if m.group == "expert")
    names = [EXPERT_PARAMETERS[role] for role in roles]
    recipe.set(
        "lora.expert_parameters", Setting(names, t("the profile's --lora-experts (PEFT target_parameters)"))
    )


# transformers' module names of the roles core/shapes.py counts: role + "_proj", but DeepSeek's
# latent attention names its joint key-value input projection kv_a_proj_with_mqa, the Gated
# DeltaNet layers theirs in_proj_<what> and out_proj (modeling_qwen3_5, modeling_qwen3_next), and
# Qwen3-Next's and Qwen3.5-MoE's shared expert its gate shared_expert_gate.
MODULE_NAMES = {
    "kv_a": "kv_a_proj_with_mqa",
    "in_qkv": "in_proj_qkv",
    "in_z": "in_proj_z",
    "in_b": "in_proj_b",
    "in_a": "in_proj_a",
    "in_qkvz": "in_proj_qkvz",
    "in_ba": "in_proj_ba",
    "out": "out_proj",
    "shared_expert_gate": "shared_expert_gate",
}


def linear_module_names(shape: Shape) -> list[str]:
    """transformers' names of the nn.Linear layers PEFT's all-linear adapts (a mixture of experts'
    routed experts are fused parameters, not among them)."""
    roles = dict.fromkeys(m.role for m in shape.matrices if m.group in ALL_LINEAR)
    return [MODULE_NAMES.get(role, f"{role}_proj") for role in roles]


def _lora_settings(catalog: Catalog, recipe: Recipe) -> None:
    method, lora = recipe.method, catalog.methods.get("lora")
    if not recipe.has("lora.r"):
        recipe.set("lora.r", kb_value(method, "r"))
    alpha = kb_value(method, "lora_alpha")
    if alpha is not None and recipe.has("lora.r"):
        rank = int(recipe.value("lora.r"))
        scale = {"r": 1, "2r": 2}.get(str(alpha.value))
        if scale is not None:
            recipe.set(
                "lora.alpha",
                Setting(
                    scale * rank,
                    t(
                        "{value} with r = {rank} <- {source}",
                        value=alpha.value,
                        rank=rank,
                        source=alpha.source,
                    ),
                ),
            )
        elif isinstance(alpha.value, int):
            recipe.set("lora.alpha", alpha)
    for key, name in (("lora.targets", "target_modules"), ("lora.dropout", "lora_dropout")):
        recipe.set(key, kb_value(method, name) or kb_value(lora, name))
    recipe.set("lora.use_dora", kb_value(method, "use_dora"))
    _frozen_towers(recipe, "lora")
    _attention_of_a_mixture(recipe)
    _expert_parameters(recipe)
    if recipe.memory_model == "qlora":
        recipe.set("quant.type", kb_value(method, "bnb_4bit_quant_type"))
        recipe.set("quant.double", kb_value(method, "bnb_4bit_use_double_quant"))
        bits = recipe.plan.estimate.settings.quant_bits if recipe.plan.estimate else 4
        recipe.set("quant.bits", Setting(bits, t("the plan's memory estimate (quantized base it assumed)")))


PREFIX_NO_CHECKPOINTING = N_(
    "PEFT: prefix tuning does not work with gradient checkpointing (peft 0.21.2 refuses it, and "
    "through TRL the attention mask misses the prefix); memory is estimated without it"
)


def _prompt_settings(recipe: Recipe) -> None:
    method = recipe.method
    recipe.set("prompt.num_virtual_tokens", kb_value(method, "num_virtual_tokens"))
    if recipe.memory_model == "prefix":
        recipe.set("prompt.prefix_projection", kb_value(method, "prefix_projection"))
        recipe.set("gradient_checkpointing", Setting(False, t(PREFIX_NO_CHECKPOINTING)))
    elif recipe.memory_model == "prompt":
        recipe.set("prompt.init", kb_value(method, "prompt_tuning_init"))
        if recipe.has("prompt.init") and recipe.value("prompt.init") == "TEXT":
            entry = method.hyperparameters.get("num_virtual_tokens")  # a KB may leave it out
            note = entry.note if entry is not None else None
            recipe.set(
                "prompt.num_virtual_tokens", Setting("length of --init-text", note.en if note else "PEFT")
            )
    else:
        for key in ("encoder_hidden_size", "encoder_num_layers", "encoder_reparameterization_type"):
            recipe.set(f"prompt.{key}", kb_value(method, key))


def _learning_rate(catalog: Catalog, recipe: Recipe, stage: str) -> Setting | None:
    """Supervised stages: the method's own rate (a full-weight one: the objective's, where it has
    one), else the objective's. Other stages: the objective's rate for this kind of training
    (with_peft for a frozen base), scaled by how far
    the method's own supervised rate is from the objective SFT's rate for that kind of training:
    TRL's PEFT table keeps adapters at the same multiple of the full rate for every objective
    (SFT 2e-5 -> 2e-4, DPO 5e-7 -> 5e-6, GRPO 1e-6 -> 1e-5), so an adapter that wants 15x LoRA's
    rate for SFT (IA3) wants it for DPO too."""
    # A mixture is sized by the parameters a token uses, as its width: ms-swift trains all of
    # Qwen3-30B-A3B at 1e-5 (examples/megatron/moe/qwen3_moe.sh) and torchtune Llama 4 Maverick
    # (17B active of 400B) at 2e-5 (recipes/configs/llama4/maverick_17B_128E_full.yaml), small
    # models' rates.
    size = recipe.plan.estimate.shape.active_params / 1e9 if recipe.plan.estimate is not None else None
    own = kb_value(recipe.method, "learning_rate", params_b=size)
    objective = kb_value(catalog.methods.get(stage), "learning_rate", peft=recipe.frozen_base, params_b=size)
    if stage in SUPERVISED_STAGES and own is not None:
        # Every weight trained: the objective's own full-weight rate where its card gives one
        # (continued pre-training's 1e-5 is not SFT's 2e-5).
        return objective if recipe.memory_model == "full" and objective is not None else own
    if objective is None or own is None or stage in SUPERVISED_STAGES:
        return objective
    # The ratio at the usual size: a large model's lower SFT rate (large_models) is no reason to
    # train its preference stage faster (a diff review: a 70B full DPO was written at 10x).
    usual = kb_value(recipe.method, "learning_rate")
    sft = kb_value(catalog.methods.get("sft"), "learning_rate", peft=recipe.frozen_base)
    if usual is None or sft is None or not isinstance(usual.value, float):
        return objective
    if not isinstance(objective.value, float):
        return objective
    if not isinstance(sft.value, float) or sft.value <= 0 or usual.value == sft.value:
        return objective
    scaled = float(f"{objective.value * usual.value / sft.value:.3g}")
    return Setting(
        scaled,
        t(
            "{formula}: the objective's rate scaled as the method's own supervised rate is to SFT's "
            "(TRL's PEFT table keeps that ratio across objectives) <- {sources}",
            formula=f"{objective.value:g} x {usual.value:g} / {sft.value:g}",
            sources=f"{objective.source}; {usual.source}; {sft.source}",
        ),
    )


def _stage_settings(catalog: Catalog, recipe: Recipe, stage: str) -> None:
    for key in STAGE_KEYS.get(stage, ()):
        prefix = "cpt" if stage == "continued-pretraining" else stage
        recipe.set(f"{prefix}.{key}", kb_value(catalog.methods.get(stage), key))
    given = recipe.inputs.sampling.num_generations
    if given is not None and catalog.objectives[stage].samples_groups:
        recipe.set(f"{stage}.num_generations", Setting(given, t("the profile's --num-generations")))
    estimate = recipe.plan.estimate
    precomputed = estimate is not None and estimate.settings.reference_precomputed
    if (
        precomputed
        and recipe.trainer == "python"
        and catalog.objectives[stage].training.reference_precomputable
    ):
        source = t("the plan's memory estimate: no reference copy fits beside the training")
        recipe.set(f"{stage}.precompute_ref_log_probs", Setting(True, source))
    if stage in recipe.online_stages and estimate is not None:
        # The memory estimate sized the completion within --seq-len: sample what it sized.
        seq_len = estimate.settings.seq_len
        source = t(
            "the plan's memory estimate: {seq_len} tokens less a prompt of up to {prompt}",
            seq_len=seq_len,
            prompt=MAX_PROMPT,
        )
        recipe.set(f"{stage}.max_completion_length", Setting(completion_length(seq_len), source))
        _without_thinking(catalog, recipe, stage, completion_length(seq_len))
        staged = estimate.settings._replace(objective=catalog.objectives[stage])
        if served_by_vllm(recipe.memory_model, staged):
            _vllm_settings(recipe, stage, estimate, staged)


VLLM_SERVER_TIMEOUT = 900  # seconds: a large model's start-up, and a first download, past TRL's 240


def _vllm_server_settings(recipe: Recipe, stage: str, settings: EstimateSettings) -> None:
    """--vllm-server-gpus: `trl vllm-serve` on GPUs of its own samples, the rest train; the server's
    options are on its command line (the run line), not in the trainer's config."""
    recipe.set(
        f"{stage}.vllm_mode",
        Setting("server", t("the profile's --vllm-server-gpus: a `trl vllm-serve` on GPUs of its own")),
    )
    recipe.set(
        f"{stage}.vllm_server_gpus",
        Setting(
            settings.vllm_server_gpus,
            t("--vllm-server-gpus: its tensor-parallel size, the last GPUs; training runs on the others"),
        ),
    )
    recipe.set(
        f"{stage}.vllm_server_timeout",
        Setting(
            VLLM_SERVER_TIMEOUT,
            t(
                "seconds the trainer waits for the server the run line starts beside it: loading, "
                "compiling and capturing a 70B model at tensor-parallel 8 took ~215 s (vllm#19824), "
                "near TRL's 240"
            ),
        ),
    )
    recipe.set(
        f"{stage}.vllm_server_max_model_len",
        Setting(
            settings.seq_len,
            t(
                "prompt + completion, as the memory estimate sized them (unset, vLLM sizes for the model's "
                "whole context)"
            ),
        ),
    )


# The completion budget below which a thought is cut before its answer: the bound of the rule
# whose note says so (data/rules.yaml reasoning-model-completions-cut), which a recipe that samples
# without thinking answers instead of repeating.
THINKING_BUDGET = 2048
COMPLETIONS_CUT_RULE = "reasoning-model-completions-cut"
NO_THINKING = N_(
    "{stage}: {model} samples without thinking (chat_template_kwargs enable_thinking: false), as TRL's "
    "GRPO docs train Qwen3: its completions are capped at {completion} tokens (--seq-len less the "
    "prompt), and a thought cut off before its answer earns no reward. To train its thinking, give "
    "--seq-len as prompt + a completion budget of at least {budget} tokens; memory and time are sized "
    "for {completion}."
)


def hybrid_thinking(catalog: Catalog, model: LlmModel) -> bool:
    """A reasoning model whose chat template can turn its thinking off: of a family with hybrid
    thinking (data/families.yaml: Qwen3's first releases, enable_thinking), not one of its Thinking
    releases, which always think (hfconfig._reasons reads names alike)."""
    family = catalog.model_families.get(model.family)
    named = f"{model.id} {model.name}".lower()
    return model.reasons and family is not None and family.hybrid_thinking and "thinking" not in named


# Room for a local answer: an example value. The scripts pass enable_thinking=False to the chat
# template, which a hybrid reasoning model (Qwen3's first releases) answers directly under; one that
# always thinks (DeepSeek-R1, Qwen3's Thinking releases) writes its reasoning first, whose length
# 256 tokens would cut before any answer (an expert's review).
ANSWER_TOKENS = 256
THINKING_ANSWER_TOKENS = 4096


def _answer_room(catalog: Catalog, recipe: Recipe) -> None:
    """How many tokens a local no-training script lets the model generate (MAX_NEW_TOKENS)."""
    model = recipe.model
    thinks = recipe.facts.get("model_reasons") is True
    if thinks and not (model is not None and hybrid_thinking(catalog, model)):
        why = t(
            "the model always reasons before it answers: its thoughts take the room first (and this "
            "much less of CONTEXT_TOKENS is left for the prompt); the script keeps its final answer, "
            "what follows </think> or gpt-oss's final channel"
        )
        recipe.set("max_new_tokens", Setting(THINKING_ANSWER_TOKENS, why))


def _without_thinking(catalog: Catalog, recipe: Recipe, stage: str, completion: int) -> None:
    """An online stage of a hybrid reasoning model whose completion budget would cut its thoughts
    samples without thinking: every cut completion scores alike and teaches nothing. TRL's
    GRPOConfig and RLOOConfig pass chat_template_kwargs to the chat template
    (huggingface/trl@f2cd577:trl/trainer/grpo_config.py, rloo_config.py)."""
    model = recipe.model
    # The profile's fact, not the entry's: a reasoning entry's base checkpoint does not think.
    thinks = recipe.facts.get("model_reasons") is True
    if model is None or completion >= THINKING_BUDGET or not thinks or not hybrid_thinking(catalog, model):
        return
    source = t(
        "a completion budget of {completion} < {budget} tokens cuts thoughts before their answer (TRL "
        "docs/source/grpo_trainer.md samples Qwen3 so)",
        completion=completion,
        budget=THINKING_BUDGET,
    )
    recipe.set(f"{stage}.chat_template_kwargs", Setting({"enable_thinking": False}, source))
    recipe.answered_rules.add(COMPLETIONS_CUT_RULE)
    recipe.notes.append(
        t(NO_THINKING, stage=stage, model=model.name, completion=completion, budget=THINKING_BUDGET)
    )


def _vllm_settings(recipe: Recipe, stage: str, estimate: Estimate, settings: EstimateSettings) -> None:
    """--vllm: sample with a vLLM engine on the training GPUs, holding the share the memory
    estimate reserves for it, for sequences as long as the estimate's."""
    recipe.set(f"{stage}.use_vllm", Setting(True, t("the profile's --vllm")))
    if settings.samples_apart:
        _vllm_server_settings(recipe, stage, settings)
        return
    recipe.set(
        f"{stage}.vllm_mode",
        Setting(
            "colocate",
            t(
                "vLLM on the training GPUs, as the memory estimate counts it; 'server' needs GPUs of its "
                "own running `trl vllm-serve`, TRL's default before 1.0 (trl#5255)"
            ),
        ),
    )
    share = vllm_share(recipe.memory_model, estimate.shape, settings)
    why = (
        t("TRL's default")
        if share == VLLM_SHARE
        else t("its part of the weights it loads and of the KV cache it needs")
    )
    recipe.set(
        f"{stage}.vllm_gpu_memory_utilization",
        Setting(share, t("the share of each GPU the memory estimate reserves for vLLM ({why})", why=why)),
    )
    split = vllm_tensor_parallel(recipe.memory_model, estimate.shape, settings)
    recipe.set(
        f"{stage}.vllm_tensor_parallel_size",
        Setting(split, t("GPUs one vLLM engine spans, as the memory estimate splits its weights")),
    )
    recipe.set(
        f"{stage}.vllm_max_model_length",
        Setting(
            settings.seq_len,
            t(
                "prompt + completion, as the memory estimate sized them (unset, vLLM sizes for the model's "
                "whole context, whose KV cache may not fit its share)"
            ),
        ),
    )


def _epochs(objective: Method | None, recipe: Recipe) -> Setting:
    given = recipe.profile.get("epochs")
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        return Setting(float(given), t("the profile's --epochs (the time estimate uses it)"))
    found = kb_value(objective, "num_train_epochs")
    if objective is None or found is None or not isinstance(found.value, (int, float)):
        return Setting(1.0, t("no num_train_epochs in the knowledge base for this objective: one pass"))
    usual = usual_epochs([objective])[objective.id]
    examples = recipe.profile.get("examples")
    # as the time estimate counts
    passes = usual.of(examples if isinstance(examples, int) else None, recipe.classifier)
    if usual.large is None or passes == usual.usual:
        return Setting(float(found.value), found.source)
    return Setting(
        passes,
        t(
            "{where}: {examples:,} examples, {large:,} or more ({source}); the time estimate uses it too",
            where=f"methods.yaml {objective.id}.hyperparameters.num_train_epochs.large_sets",
            examples=examples,
            large=usual.large.examples,
            source=translated(usual.large.source),
        ),
    )


def _packing(objective: Method | None, recipe: Recipe, stage: str) -> Setting:
    """An objective whose card's `packing` hyperparameter is true packs by default (continued
    pre-training: unpacked, every document is cut at the maximum length); one whose trainer can
    pack does when the profile says so (--packing)."""
    found = kb_value(objective, "packing")
    if found is not None and found.value is True:
        return found
    packs = objective is not None and objective.training is not None and objective.training.packing
    if packs and recipe.profile.get("packing") and recipe.architecture == "decoder":
        if recipe.classifier:
            return Setting(False, t("unpacked: a sequence classifier's Trainer pads each batch"))
        return Setting(True, t("the profile's --packing (the time estimate uses it)"))
    return Setting(False, t("unpacked: the trainer's default for this objective"))


def _packing_strategy(objective: Method | None, recipe: Recipe, stage: str) -> Setting | None:
    """How a packing stage packs, where its card says anything but TRL's default ("bfd") and the
    trainer follows it (the recipe's time still assumes the card's strategy)."""
    if objective is None or objective.training is None or not recipe.stage_value("packing", stage):
        return None
    if recipe.packs_apart:  # its packing keeps documents apart, whatever the card's strategy
        return None
    if objective.training.packing_strategy == "bfd":
        return None
    where = f"methods.yaml {objective.id}.training.packing_strategy (TRL SFTConfig.packing_strategy)"
    return Setting(objective.training.packing_strategy, where)
