"""A ranked plan resolved into every setting a recipe writes, each with where its value comes from:
- the knowledge base's hyperparameter values (data/methods.yaml), which cite TRL / PEFT / paper
  defaults, so a recipe never disagrees with `ft-atlas show`;
- the plan's memory estimate (precision, gradient checkpointing, sequence length, batch, rank),
  so the recipe trains what was estimated to fit;
- TRAIN_DEFAULTS below, for the values the KB has none for (accumulation and epochs).
A value the KB does not give is left out, and the library's default applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlas_cli.core.models import hub_id_of
from atlas_cli.core.plans import Plan, Recommendation
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.schema import HyperValue, LlmModel, Method
from atlas_cli.kb.vocabulary import MEMORY_MODELS, OPTIMIZERS

# The releases each recipe was written and checked against (tests/test_recipes_run.py runs the
# Python recipes with them; the YAML keys were checked against the trainers' sources).
WRITTEN_FOR = {
    "torch": "2.13.0",
    "transformers": "5.24.0",
    "peft": "0.21.2",
    "trl": "1.16.0",
    "datasets": "5.2.0",
}

Value = str | int | float | bool | list[str]

# Values the KB has no note for, with their source.
LF_EXAMPLE = "LLaMA-Factory examples/train_lora/llama3_lora_sft.yaml (and its dpo/kto examples)"
TRAIN_DEFAULTS: dict[str, tuple[Value, str]] = {
    "grad_accum": (8, f"{LF_EXAMPLE}: gradient_accumulation_steps 8 with per-device batch 1"),
    "epochs": (3.0, f"transformers TrainingArguments default num_train_epochs=3.0; {LF_EXAMPLE}: 3.0"),
}

# Objectives whose TRL trainer is in the stable API; anything else (ORPO, SimPO: trl.experimental;
# PPO: removed) is refused rather than emitted.
TRL_STAGES = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "continued-pretraining": ("SFTConfig", "SFTTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
    "kto": ("KTOConfig", "KTOTrainer"),
    "grpo": ("GRPOConfig", "GRPOTrainer"),
}
# Reference-free preference objectives: in TRL they live in trl.experimental (ORPOTrainer,
# CPOTrainer with loss_type="simpo"), so the Python recipe refuses them; LLaMA-Factory (stage dpo,
# pref_loss orpo|simpo) and axolotl (rl: simpo) train them.
EXPERIMENTAL_STAGES = ("orpo", "simpo")
# Stages whose learning rate is the method's own when it has one (adapters train at ~10x the
# full fine-tuning rate); preference and RL stages use the objective's rate.
SUPERVISED_STAGES = ("sft", "continued-pretraining")


@dataclass(frozen=True, slots=True)
class Setting:
    value: Value
    source: str


@dataclass
class Recipe:
    """Everything a renderer needs: the plan and its settings, each with its source."""

    rank: int
    total: int
    plan: Plan
    method: Method
    profile: dict[str, Any]
    architecture: str
    hub_id: str | None
    model: LlmModel | None
    stages: tuple[str, ...]
    settings: dict[str, Setting] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return MEMORY_MODELS[self.memory_model].family

    @property
    def memory_model(self) -> str:
        return self.method.memory_model or "inference"

    @property
    def frozen_base(self) -> bool:
        return MEMORY_MODELS[self.memory_model].frozen_base

    @property
    def model_hint(self) -> str:
        """What the recipe loads: the catalog model's Hub id, or a placeholder to fill in."""
        return self.hub_id or "MODEL_ID_OR_PATH"

    def has(self, key: str) -> bool:
        return key in self.settings

    def value(self, key: str) -> Any:
        return self.settings[key].value

    def batch(self, stage: str) -> Any:
        """The stage's own per-device batch where it has one (KTO needs 2), else the plan's."""
        return self.value(f"batch.{stage}" if self.has(f"batch.{stage}") else "batch")

    def set(self, key: str, setting: Setting | None) -> None:
        if setting is not None:
            self.settings[key] = setting


def kb_value(method: Method | None, key: str, peft: bool = False) -> Setting | None:
    """A hyperparameter's value from the KB (its with_peft value for a frozen-base plan), with
    the hyperparameter as its source."""
    if method is None or key not in method.hyperparameters:
        return None
    entry = method.hyperparameters[key]
    value: HyperValue | None = entry.for_training(peft)
    if value is None:
        return None
    which = "with_peft" if peft and entry.with_peft is not None else "value"
    return Setting(value, f"methods.yaml {method.id}.hyperparameters.{key}.{which} ({entry.source})")


# --- resolving a plan ------------------------------------------------------------------------


def _pick_plan(rec: Recommendation, rank: int) -> Plan:
    if not rec.plans:
        raise UsageError("no plan to write a recipe for: every method was excluded for this profile")
    if not 1 <= rank <= len(rec.plans):
        raise UsageError(f"--plan: {rank} is not a plan rank; this profile has plans 1 to {len(rec.plans)}")
    return rec.shown(rank)[rank - 1]


def resolve(catalog: Catalog, rec: Recommendation, rank: int) -> Recipe:
    """The plan ranked `rank` with every setting a recipe writes, each with its source."""
    plan = _pick_plan(rec, rank)
    info = rec.model
    model_id = rec.profile.get("model")
    model = catalog.models.get(model_id) if isinstance(model_id, str) else None
    if info is not None and info.source in ("file", "cache", "hub"):
        model = info.spec
    hub_id = info.repo if info is not None and info.repo else hub_id_of(model)
    recipe = Recipe(
        rank=rank,
        total=len(rec.plans),
        plan=plan,
        method=catalog.methods[plan.method],
        profile=rec.profile,
        architecture=str(rec.facts.get("model_architecture") or "decoder"),
        hub_id=hub_id,
        model=model,
        stages=plan.pipeline,
    )
    if plan.kind != "no-training":
        _training_settings(catalog, recipe)
    return recipe


def _training_settings(catalog: Catalog, recipe: Recipe) -> None:
    _check_stages(recipe)
    _estimate_settings(recipe)
    for key, (value, source) in TRAIN_DEFAULTS.items():
        recipe.set(key, Setting(value, source))
    _optimizer(recipe)
    _method_settings(catalog, recipe)
    for stage in recipe.stages:
        recipe.set(f"lr.{stage}", _learning_rate(catalog, recipe, stage))
        _stage_settings(catalog.methods.get(stage), recipe, stage)


def _check_stages(recipe: Recipe) -> None:
    for stage in recipe.stages:
        if stage not in TRL_STAGES and stage not in EXPERIMENTAL_STAGES:
            raise UsageError(
                f"the plan's '{stage}' stage has no trainer in TRL's stable API "
                f"(supported: {', '.join(TRL_STAGES)}); recipes only emit stable APIs"
            )


def _estimate_settings(recipe: Recipe) -> None:
    """Precision, checkpointing, sequence length, batch and rank: what the memory estimate assumed."""
    estimate = recipe.plan.estimate
    if estimate is None:
        source = "no GPU in the profile, so no memory estimate: full precision"
        recipe.set("precision", Setting("fp32", source))
        recipe.set("gradient_checkpointing", Setting(True, "no memory estimate: TRL's default (True)"))
        recipe.set("seq_len", Setting(1024, "no memory estimate: TRL SFTConfig's default max_length 1024"))
        recipe.set("batch", Setting(1, "no memory estimate: per-device batch 1"))
        return
    s = estimate.settings
    why = "bf16 on Ampere or newer; fp16 on GPUs without bf16 (V100, T4)"
    recipe.set("precision", Setting(s.precision, f"the plan's memory estimate ({why})"))
    recipe.set("gradient_checkpointing", Setting(s.gradient_checkpointing, "the plan's memory estimate"))
    recipe.set("seq_len", Setting(s.seq_len, "the plan's memory estimate (sequence length it assumed)"))
    batch = int(recipe.profile.get("batch_size") or s.batch_size)
    recipe.set("batch", Setting(batch, "the plan's memory estimate (per-device batch it assumed)"))
    if recipe.family == "lora":  # AdaLoRA sets its ranks with init_r / target_r instead
        recipe.set("lora.r", Setting(s.lora_rank, "the plan's memory estimate (LoRA rank it assumed)"))


def _optimizer(recipe: Recipe) -> None:
    """The method's own optimizer (QLoRA: paged AdamW; GaLore: galore_adamw), else the
    estimate's optimizer under its transformers name."""
    own = kb_value(recipe.method, "optim")
    if own is not None:
        recipe.set("optim", own)
        return
    assumed = recipe.plan.estimate.settings.optimizer if recipe.plan.estimate else "adamw"
    name = OPTIMIZERS[assumed].transformers_name
    recipe.set(
        "optim", Setting(name, f"the plan's memory estimate (optimizer {assumed}; transformers' name {name})")
    )


def _method_settings(catalog: Catalog, recipe: Recipe) -> None:
    method, family = recipe.method, recipe.family
    if family == "lora":
        _lora_settings(catalog, recipe)
    elif family == "adalora":
        for key in ("init_r", "target_r", "tinit", "tfinal", "deltaT", "orth_reg_weight"):
            recipe.set(f"adalora.{key}", kb_value(method, key))
    elif family == "prompt":
        _prompt_settings(recipe)
    elif recipe.memory_model == "partial":
        recipe.set("partial.fraction", kb_value(method, "trainable_layers"))
    elif recipe.memory_model == "galore":
        for key in ("rank", "update_proj_gap", "scale"):
            recipe.set(f"galore.{key}", kb_value(method, key))
        recipe.set("galore.targets", kb_value(method, "optim_target_modules"))


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
                "lora.alpha", Setting(scale * rank, f"{alpha.value} with r = {rank} <- {alpha.source}")
            )
        elif isinstance(alpha.value, int):
            recipe.set("lora.alpha", alpha)
    for key, name in (("lora.targets", "target_modules"), ("lora.dropout", "lora_dropout")):
        recipe.set(key, kb_value(method, name) or kb_value(lora, name))
    recipe.set("lora.use_dora", kb_value(method, "use_dora"))
    if recipe.memory_model == "qlora":
        recipe.set("quant.type", kb_value(method, "bnb_4bit_quant_type"))
        recipe.set("quant.double", kb_value(method, "bnb_4bit_use_double_quant"))
        bits = recipe.plan.estimate.settings.quant_bits if recipe.plan.estimate else 4
        recipe.set("quant.bits", Setting(bits, "the plan's memory estimate (quantized base it assumed)"))


PREFIX_NO_CHECKPOINTING = (
    "PEFT: prefix tuning does not work with gradient checkpointing (peft 0.21.2 refuses it, and "
    "through TRL the attention mask misses the prefix); the memory estimate assumed it on, so "
    "activations need more memory than estimated"
)


def _prompt_settings(recipe: Recipe) -> None:
    method = recipe.method
    recipe.set("prompt.num_virtual_tokens", kb_value(method, "num_virtual_tokens"))
    if recipe.memory_model == "prefix":
        recipe.set("prompt.prefix_projection", kb_value(method, "prefix_projection"))
        if recipe.value("gradient_checkpointing"):
            recipe.set("gradient_checkpointing", Setting(False, PREFIX_NO_CHECKPOINTING))
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
    """Supervised stages: the method's own rate, else the objective's. Preference and RL stages:
    the objective's rate for this kind of training (with_peft for a frozen base)."""
    if stage in SUPERVISED_STAGES:
        own = kb_value(recipe.method, "learning_rate")
        if own is not None:
            return own
    return kb_value(catalog.methods.get(stage), "learning_rate", peft=recipe.frozen_base)


def _stage_settings(objective: Method | None, recipe: Recipe, stage: str) -> None:
    keys = {
        "dpo": ("beta",),
        "kto": ("beta", "desirable_weight", "undesirable_weight"),
        "orpo": ("beta",),
        "simpo": ("beta", "simpo_gamma"),
        "grpo": ("num_generations", "beta", "max_completion_length"),
        "continued-pretraining": ("dataset_text_field",),
    }
    prefix = "cpt" if stage == "continued-pretraining" else stage
    for key in keys.get(stage, ()):
        recipe.set(f"{prefix}.{key}", kb_value(objective, key))
    minimum = kb_value(objective, "per_device_train_batch_size")
    if minimum is not None and isinstance(minimum.value, int) and int(recipe.value("batch")) < minimum.value:
        recipe.set(f"batch.{stage}", Setting(minimum.value, minimum.source + "; above the estimate's batch"))
