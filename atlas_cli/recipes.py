"""Recipes: one ranked plan written out as a runnable Python script or a trainer's YAML config.

`render_recipe(catalog, rec, rank, fmt)` is pure: it reads the plan, its memory estimate and the
knowledge base's hyperparameter notes and returns text. Every value a recipe sets is traced to a
source, and the recipe's header prints that trace:
- the KB's hyperparameter notes (data/methods.yaml), which cite TRL / PEFT / paper defaults; the
  number is read out of the note, so a recipe never disagrees with `ft-atlas show`;
- the plan's memory estimate (precision, gradient checkpointing, sequence length, batch, rank), so
  the recipe trains what was estimated to fit;
- TRAIN_DEFAULTS below, for the two values the KB has no note for (accumulation and epochs).
A value the KB does not give is left out, and the library's default applies.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atlas_cli.catalog import Catalog
from atlas_cli.errors import UsageError
from atlas_cli.models import LlmModel, Method, Plan, Recommendation
from atlas_cli.recipe_templates import prompting, training

FORMATS = ("python", "llamafactory", "axolotl")

# The releases each recipe was written and checked against (tests/test_recipes_run.py runs the
# Python recipes with them; the YAML keys were checked against the trainers' sources).
WRITTEN_FOR = {
    "torch": "2.13.0",
    "transformers": "5.24.0",
    "peft": "0.21.2",
    "trl": "1.16.0",
    "datasets": "5.2.0",
}
LLAMAFACTORY_VERSION = "0.9.5"
AXOLOTL_VERSION = "0.19.0"

Value = str | int | float | bool | list[str]

# Values the KB has no note for, with their source.
LF_EXAMPLE = "LLaMA-Factory examples/train_lora/llama3_lora_sft.yaml (and its dpo/kto examples)"
TRAIN_DEFAULTS: dict[str, tuple[Value, str]] = {
    "grad_accum": (8, f"{LF_EXAMPLE}: gradient_accumulation_steps 8 with per-device batch 1"),
    "epochs": (3.0, f"transformers TrainingArguments default num_train_epochs=3.0; {LF_EXAMPLE}: 3.0"),
}

# How each memory model (a KB field, so custom KBs work too) is trained.
FAMILY = {
    "full": "weights",
    "galore": "weights",
    "partial": "weights",
    "bitfit": "weights",
    "lora": "lora",
    "qlora": "lora",
    "dora": "lora",
    "adalora": "adalora",
    "ia3": "ia3",
    "prefix": "prompt",
    "prompt": "prompt",
    "p-tuning": "prompt",
    "adapters": "bottleneck",
    "inference": "none",
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

_SCI = r"(\d+(?:\.\d+)?e-\d+)"
_NUMBER = r"(\d+(?:\.\d+)?(?:e-?\d+)?)"
_INT = r"(\d+)"
_WORD = r"([A-Za-z_][\w\-]*)"


# --- the resolved recipe -------------------------------------------------------------------


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
        return FAMILY.get(self.memory_model, "none")

    @property
    def memory_model(self) -> str:
        return self.method.memory_model or "inference"

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


def _hyperparameter(method: Method | None, key: str, pattern: str) -> tuple[str, str] | None:
    """The first match of `pattern` in a KB hyperparameter note, and the note as its source."""
    if method is None or key not in method.hyperparameters:
        return None
    note = method.hyperparameters[key]
    found = re.search(pattern, note)
    if found is None:
        return None
    return found.group(1), f'methods.yaml {method.id}.hyperparameters.{key}: "{note}"'


def _kb(method: Method | None, key: str, pattern: str, cast: Callable[[str], Value]) -> Setting | None:
    found = _hyperparameter(method, key, pattern)
    return None if found is None else Setting(cast(found[0]), found[1])


def _kb_bool(method: Method | None, key: str) -> Setting | None:
    return _kb(method, key, r"\b(True|False)\b", lambda text: text == "True")


# --- resolving a plan ------------------------------------------------------------------------


def _pick_plan(rec: Recommendation, rank: int) -> Plan:
    if not rec.plans:
        raise UsageError("no plan to write a recipe for: every method was excluded for this profile")
    if not 1 <= rank <= len(rec.plans):
        raise UsageError(f"--plan: {rank} is not a plan rank; this profile has plans 1 to {len(rec.plans)}")
    return rec.plans[rank - 1]


def _hub_id(model: LlmModel | None) -> str | None:
    """The Hub id behind a catalog model: its source is the model's config.json on the Hub."""
    if model is None:
        return None
    found = re.match(r"https://huggingface\.co/([\w.\-]+/[\w.\-]+)/", model.source)
    return found.group(1) if found else None


def resolve(catalog: Catalog, rec: Recommendation, rank: int) -> Recipe:
    """The plan ranked `rank` with every setting a recipe writes, each with its source."""
    plan = _pick_plan(rec, rank)
    model_id = rec.profile.get("model")
    model = catalog.models.get(model_id) if isinstance(model_id, str) else None
    recipe = Recipe(
        rank=rank,
        total=len(rec.plans),
        plan=plan,
        method=catalog.methods[plan.method],
        profile=rec.profile,
        architecture=str(rec.facts.get("model_architecture") or "decoder"),
        hub_id=_hub_id(model),
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
        if stage not in TRL_STAGES:
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
    recipe.set("batch", Setting(s.batch_size, "the plan's memory estimate (per-device batch it assumed)"))
    if recipe.family == "lora":  # AdaLoRA sets its ranks with init_r / target_r instead
        recipe.set("lora.r", Setting(s.lora_rank, "the plan's memory estimate (LoRA rank it assumed)"))


_OPTIM_NAMES = {
    "adamw": "adamw_torch",
    "adamw-8bit": "adamw_bnb_8bit",
    "paged-adamw-8bit": "paged_adamw_8bit",
    "sgd": "sgd",
}


def _optimizer(recipe: Recipe) -> None:
    """The method's own optimizer note (QLoRA: paged 8-bit AdamW; GaLore: galore_adamw), else the
    estimate's optimizer under its transformers name."""
    own = _kb(recipe.method, "optim", _WORD, str)
    if own is not None:
        recipe.set("optim", own)
        return
    assumed = recipe.plan.estimate.settings.optimizer if recipe.plan.estimate else "adamw"
    source = f"the plan's memory estimate (optimizer {assumed}; transformers' name {_OPTIM_NAMES[assumed]})"
    recipe.set("optim", Setting(_OPTIM_NAMES[assumed], source))


def _method_settings(catalog: Catalog, recipe: Recipe) -> None:
    method, family = recipe.method, recipe.family
    if family == "bottleneck":
        return
    if family == "lora":
        _lora_settings(catalog, recipe)
    elif family == "adalora":
        for key in ("init_r", "target_r", "tinit", "tfinal", "deltaT"):
            recipe.set(f"adalora.{key}", _kb(method, key, _INT, int))
        recipe.set("adalora.orth_reg_weight", _kb(method, "orth_reg_weight", _NUMBER, float))
    elif family == "prompt":
        _prompt_settings(recipe)
    elif recipe.memory_model == "partial":
        quarter = _hyperparameter(method, "trainable_layers", r"(top quarter)")
        if quarter is not None:
            recipe.set("partial.fraction", Setting(0.25, quarter[1]))
    elif recipe.memory_model == "galore":
        _galore_settings(recipe)


def _lora_settings(catalog: Catalog, recipe: Recipe) -> None:
    method, lora = recipe.method, catalog.methods.get("lora")
    if not recipe.has("lora.r"):
        recipe.set("lora.r", _kb(method, "r", _INT, int))
    rank = int(recipe.value("lora.r")) if recipe.has("lora.r") else None
    # "r or 2r": both are read, and 2r wins when the note offers it (see below).
    alpha = _hyperparameter(method, "lora_alpha", r"\b(2r)\b") or _hyperparameter(
        method, "lora_alpha", r"^(r)\b"
    )
    if alpha is not None and rank is not None:
        value = 2 * rank if alpha[0] == "2r" else rank
        why = "; 2r, as LLaMA-Factory's default (lora_alpha = lora_rank * 2)" if alpha[0] == "2r" else ""
        recipe.set("lora.alpha", Setting(value, alpha[1] + why))
    recipe.set(
        "lora.targets", _kb(method, "target_modules", _WORD, str) or _kb(lora, "target_modules", _WORD, str)
    )
    recipe.set(
        "lora.dropout",
        _kb(method, "lora_dropout", _NUMBER, float) or _kb(lora, "lora_dropout", _NUMBER, float),
    )
    recipe.set("lora.use_dora", _kb_bool(method, "use_dora"))
    if recipe.memory_model == "qlora":
        recipe.set("quant.type", _kb(method, "bnb_4bit_quant_type", _WORD, str))
        recipe.set("quant.double", _kb_bool(method, "bnb_4bit_use_double_quant"))
        recipe.set("quant.bits", _kb(method, "load_in_4bit", r"\b(True)\b", lambda _: 4))


def _prompt_settings(recipe: Recipe) -> None:
    method = recipe.method
    recipe.set("prompt.num_virtual_tokens", _kb(method, "num_virtual_tokens", r"^(\d+)\b", int))
    if recipe.memory_model == "prefix":
        recipe.set("prompt.prefix_projection", _kb_bool(method, "prefix_projection"))
        if recipe.value("gradient_checkpointing"):
            recipe.set("gradient_checkpointing", Setting(False, PREFIX_NO_CHECKPOINTING))
    elif recipe.memory_model == "prompt":
        recipe.set("prompt.init", _kb(method, "prompt_tuning_init", r"^(TEXT|RANDOM)\b", str))
        length = _hyperparameter(method, "num_virtual_tokens", r"(token length of the init text)")
        if length is not None and recipe.value("prompt.init") == "TEXT":
            recipe.set("prompt.num_virtual_tokens", Setting("length of --init-text", length[1]))
    else:
        recipe.set("prompt.encoder_hidden_size", _kb(method, "encoder_hidden_size", _INT, int))
        recipe.set("prompt.encoder_num_layers", _kb(method, "encoder_num_layers", _INT, int))
        recipe.set(
            "prompt.encoder_reparameterization_type",
            _kb(method, "encoder_reparameterization_type", _WORD, str),
        )


PREFIX_NO_CHECKPOINTING = (
    "PEFT: prefix tuning does not work with gradient checkpointing (peft 0.21.2 refuses it, and "
    "through TRL the attention mask misses the prefix); the memory estimate assumed it on, so "
    "activations need more memory than estimated"
)


def _galore_settings(recipe: Recipe) -> None:
    method = recipe.method
    targets = _hyperparameter(method, "optim_target_modules", r"(\[[^\]]*\])")
    if targets is not None:
        names = re.findall(r"'([^']+)'|\"([^\"]+)\"", targets[0])
        recipe.set("galore.targets", Setting([a or b for a, b in names], targets[1]))
    recipe.set("galore.rank", _kb(method, "rank", _INT, int))
    recipe.set("galore.update_proj_gap", _kb(method, "update_proj_gap", _INT, int))
    recipe.set("galore.scale", _kb(method, "scale", _NUMBER, float))


# Which variant of an objective's learning-rate note applies to a family.
_LR_VARIANT = {"lora": "with LoRA", "adalora": "with LoRA", "weights": "for full FT"}


def _learning_rate(catalog: Catalog, recipe: Recipe, stage: str) -> Setting | None:
    """SFT-like stages: the method's own rate (adapters train at ~10x the full-FT rate), else the
    objective's. Preference and RL stages: the objective's rate for this kind of parameterization
    ("with LoRA" / "for full FT"), else the TRL default the note names, else its first value."""
    if stage in ("sft", "continued-pretraining"):
        own = _kb(recipe.method, "learning_rate", r"uses " + _SCI, float)
        own = own or _kb(recipe.method, "learning_rate", _SCI, float)
        if own is not None:
            return own
    objective = catalog.methods.get(stage)
    patterns = [_SCI + r"[^;\d]{0,60}?\b(?:TRL|trl)\b", _SCI]
    variant = _LR_VARIANT.get(recipe.family)
    if variant:
        patterns.insert(0, _SCI + r"[^;\d]{0,60}?" + variant)
    for pattern in patterns:
        found = _kb(objective, "learning_rate", pattern, float)
        if found is not None:
            return found
    return None


def _stage_settings(objective: Method | None, recipe: Recipe, stage: str) -> None:
    if stage in ("dpo", "kto"):
        recipe.set(f"{stage}.beta", _kb(objective, "beta", _NUMBER, float))
    if stage == "kto":
        recipe.set("kto.desirable_weight", _kb(objective, "desirable_weight", _NUMBER, float))
        recipe.set("kto.undesirable_weight", _kb(objective, "undesirable_weight", _NUMBER, float))
        needs_two = _hyperparameter(objective, "per_device_train_batch_size", r"(> 1 required)")
        if needs_two is not None and int(recipe.value("batch")) < 2:
            recipe.set(
                "batch.kto", Setting(2, needs_two[1] + "; the estimate assumed 1, so KTO needs a bit more")
            )
    if stage == "grpo":
        recipe.set("grpo.num_generations", _kb(objective, "num_generations", _INT, int))
        recipe.set("grpo.beta", _kb(objective, "beta", _NUMBER, float))
        recipe.set("grpo.max_completion_length", _kb(objective, "max_completion_length", _INT, int))
    if stage == "continued-pretraining":
        recipe.set("cpt.dataset_text_field", _kb(objective, "dataset_text_field", r'"(\w+)"', str))


# --- header ----------------------------------------------------------------------------------

_WIDTH = 100


def _wrapped(text: str, indent: str = "#   ", first: str = "# ") -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False)


def _gb(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f} GB"


def _memory_line(plan: Plan) -> str:
    estimate = plan.estimate
    if estimate is None:
        return "Memory estimate: none (no local GPU in the profile, or API access only)."
    s = estimate.settings
    fits = {True: "fits", False: "DOES NOT FIT", None: "fit not checked"}[estimate.fits]
    details = (
        f"{s.precision}, {s.optimizer}, "
        f"gradient checkpointing {'on' if s.gradient_checkpointing else 'off'}, "
        f"sequence length {s.seq_len}, batch {s.batch_size} per GPU, {s.gpus} GPU(s)"
    )
    if estimate.memory_model in ("lora", "qlora", "dora", "adalora"):
        details += f", rank {s.lora_rank}"
    stage = f" at its largest stage ({estimate.objective})" if estimate.objective else ""
    return (
        f"Memory estimate: about {_gb(estimate.per_gpu_gb)} per GPU{stage} of {_gb(estimate.capacity_gb)}: "
        f"{fits} ({details}). How it is computed: docs/memory.md."
    )


def _profile_line(profile: dict[str, Any]) -> str:
    given = [f"{k}={v}" for k, v in profile.items() if v is not None and v is not False]
    return "Profile: " + ", ".join(given) + "."


def _plan_line(recipe: Recipe) -> str:
    plan = recipe.plan
    stages = " -> ".join(plan.pipeline) if plan.pipeline else "no training"
    return f"Plan {recipe.rank} of {recipe.total}: {plan.name} ({stages}); score {plan.score:g}."


def _versions_line(fmt: str, recipe: Recipe) -> str:
    libraries = ", ".join(f"{k} {v}" for k, v in WRITTEN_FOR.items())
    if fmt == "llamafactory":
        return f"Written for: LLaMA-Factory {LLAMAFACTORY_VERSION} (keys checked against its hparams)."
    if fmt == "axolotl":
        return f"Written for: axolotl {AXOLOTL_VERSION} (keys checked against its config schema)."
    if recipe.plan.kind == "no-training":
        return f"Written for: transformers {WRITTEN_FOR['transformers']}, torch {WRITTEN_FOR['torch']}."
    extra = ""
    if recipe.memory_model == "qlora":
        extra = "; bitsandbytes with 4-bit NF4 support (CUDA GPUs only)"
    elif recipe.memory_model == "galore":
        extra = "; galore-torch"
    return f"Written for: {libraries}{extra}."


def header(recipe: Recipe, fmt: str, run: str) -> str:
    lines = ["# " + "=" * (_WIDTH - 2), f"# ft-atlas recipe ({fmt})"]
    for text in (_profile_line(recipe.profile), _plan_line(recipe), _memory_line(recipe.plan)):
        lines += _wrapped(text)
    if recipe.settings:
        lines.append("# Settings, each with where its value comes from:")
        for key, setting in recipe.settings.items():
            lines += _wrapped(f"{key} = {_show(setting.value)}  <- {setting.source}", "#       ", "#   ")
    lines += _wrapped(_versions_line(fmt, recipe))
    lines += _wrapped("Run: " + run)
    for note in recipe.notes:
        lines += _wrapped("Note: " + note)
    lines.append("# " + "=" * (_WIDTH - 2))
    return "\n".join(lines) + "\n"


def _show(value: Value) -> str:
    return json.dumps(value) if isinstance(value, (str, list)) else repr(value)


# --- entry point -----------------------------------------------------------------------------


def render_recipe(catalog: Catalog, rec: Recommendation, rank: int = 1, fmt: str = "python") -> str:
    """The recipe text for the plan ranked `rank` (1 = best) of `rec`, in format `fmt`.

    Raises UsageError for a rank out of range, an unknown format, or a plan the format cannot
    express (the message says why and what to use instead)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
    recipe = resolve(catalog, rec, rank)
    _check_supported(recipe, fmt)
    if fmt == "python":
        return render_python(recipe)
    if fmt == "llamafactory":
        return render_llamafactory(recipe)
    return render_axolotl(recipe)


def _check_supported(recipe: Recipe, fmt: str) -> None:
    plan, arch = recipe.plan, recipe.architecture
    if arch == "encoder-decoder":
        raise UsageError(
            f"{recipe.profile.get('model')} is an encoder-decoder (T5-style) model; recipes cover decoder "
            "LLMs and encoder classifiers. See `ft-atlas show "
            + plan.method
            + "` for the library entry points."
        )
    if plan.kind == "no-training":
        if fmt != "python":
            raise UsageError(
                f"plan {recipe.rank} ({plan.name}) trains nothing, so there is no {fmt} config; "
                "use --format python for a runnable example"
            )
        if arch != "decoder":
            raise UsageError(
                f"{plan.name} needs a generative (decoder) model; this profile's model is an {arch}"
            )
        return
    if recipe.family == "bottleneck":
        raise UsageError(
            f"{plan.name} needs the `adapters` library, which requires transformers 4.57.x while recipes "
            f"target transformers {WRITTEN_FOR['transformers']} / trl {WRITTEN_FOR['trl']}, and neither "
            "LLaMA-Factory nor axolotl trains it; pick another plan with --plan "
            "(see `ft-atlas show adapters`)"
        )
    if arch == "encoder" and (fmt != "python" or plan.pipeline != ("sft",)):
        raise UsageError(
            "for an encoder (BERT-style) model, recipes train a sequence classifier with SFT only, "
            "in --format python; LLaMA-Factory and axolotl train generative models"
        )
    unsupported = {"python": _python_gap, "llamafactory": _llamafactory_gap, "axolotl": _axolotl_gap}[fmt]
    gap = unsupported(recipe)
    if gap:
        raise UsageError(
            f"{fmt} cannot express plan {recipe.rank} ({plan.name}, {' -> '.join(plan.pipeline)}): {gap}"
        )


# --- python --------------------------------------------------------------------------------


def _python_gap(recipe: Recipe) -> str | None:
    if recipe.family == "prompt" and len(recipe.stages) > 1:
        return (
            "PEFT cannot resume training a soft prompt (prefix / prompt tuning, P-tuning) in a later stage, "
            "so SFT cannot be followed by a preference stage; pick a LoRA plan with --plan, or train SFT only"
        )
    if recipe.memory_model == "prefix" and recipe.architecture == "encoder":
        return "prefix tuning needs a model that takes past key values, which BERT-style encoders do not"
    return None


def render_python(recipe: Recipe) -> str:
    if recipe.plan.kind == "no-training":
        return _render_prompting(recipe)
    return _render_training(recipe)


def _model_option(recipe: Recipe) -> str:
    if recipe.hub_id:
        return f'default="{recipe.hub_id}"'
    return "required=True"


def _model_hint(recipe: Recipe) -> str:
    return recipe.hub_id or "MODEL_ID_OR_PATH"


def _render_prompting(recipe: Recipe) -> str:
    # A KB of one's own may name it differently: any no-training plan about retrieval is RAG.
    is_rag = recipe.plan.method == "rag" or "retriev" in recipe.plan.name.lower()
    body = prompting.RAG if is_rag else prompting.ICL
    options = prompting.RAG_OPTIONS if is_rag else prompting.ICL_OPTIONS
    if is_rag:
        recipe.notes.append(
            "CHUNK_WORDS, OVERLAP_WORDS and MAX_NEW_TOKENS are example values: the knowledge base gives "
            "none and says to tune top_k, chunk size and overlap on an evaluation set. By default the "
            "prompt takes as many top-ranked passages as fit the context window."
        )
        run = f"python recipe.py --model {_model_hint(recipe)} --docs docs/ --question 'What changed in v2?'"
        doc = RAG_DOC
    else:
        recipe.notes.append(
            "The prompt takes as many examples as fit the context window (methods.yaml "
            'icl.hyperparameters.num_examples: "'
            + recipe.method.hyperparameters.get("num_examples", "")
            + '"); '
            "MAX_NEW_TOKENS is an example value."
        )
        run = f"python recipe.py --model {_model_hint(recipe)} --examples shots.jsonl --query 'new input'"
        doc = ICL_DOC
    imports = prompting.RAG_IMPORTS if is_rag else ""
    common = prompting.COMMON.substitute(model_option=_model_option(recipe), options=options, imports=imports)
    return _join_blocks([header(recipe, "python", run), doc, common, body])


RAG_DOC = '''"""Retrieval-augmented generation (RAG), minimal and offline: no training.

Splits --docs into overlapping chunks, ranks them by TF-IDF similarity to --question, and asks
the model to answer from the best chunks that fit its context window, citing them as [n].
--docs: a folder of .txt / .md files, or JSON Lines with one {"text": "..."} per line.
"""
'''

ICL_DOC = '''"""In-context learning (few-shot prompting): no training.

Shows the model worked examples, then the new input, and prints its answer.
--examples: JSON Lines, one {"input": "...", "output": "..."} per line, shown in file order.
"""
'''


# --- YAML configs -----------------------------------------------------------------------------


def _yaml_block(title: str, values: dict[str, Any]) -> str:
    import yaml  # only the YAML formats need it; `--format python` stays light

    body = yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=1000)
    return f"### {title}\n{body}"


def _yaml_documents(recipe: Recipe, fmt: str, run: str, documents: list[tuple[str, str]]) -> str:
    """One YAML document per stage; several stages mean several files, in order."""
    text = header(recipe, fmt, run)
    if len(documents) > 1:
        names = ", ".join(name for name, _ in documents)
        note = (
            f"This file holds {len(documents)} YAML documents, one per stage: save each one "
            f"(separated by ---) as its own file ({names}) and train them in that order."
        )
        text += "\n".join(_wrapped(note)) + "\n"
    parts = [f"# --- {name}\n{body}" for name, body in documents]
    return text + "---\n".join(parts)


def _precision_keys(recipe: Recipe) -> dict[str, bool]:
    precision = recipe.value("precision")
    keys = {"bf16": precision in ("bf16", "pure-bf16"), "fp16": precision == "fp16"}
    return keys


# LLaMA-Factory -------------------------------------------------------------------------------

LF_STAGE = {"sft": "sft", "continued-pretraining": "pt", "dpo": "dpo", "kto": "kto"}
LF_FINETUNING = {
    "full": "full",
    "galore": "full",
    "partial": "freeze",
    "lora": "lora",
    "qlora": "lora",
    "dora": "lora",
}
# LLaMA-Factory's chat templates (data/template.py) for the catalog's model families.
LF_TEMPLATES = (
    ("llama-2", "llama2"),
    ("llama-3", "llama3"),
    ("mistral", "mistral"),
    ("qwen2.5", "qwen"),
    ("gemma-2", "gemma2"),
    ("phi-3", "phi"),
    ("phi-4", "phi4"),
)
# dataset_info.json entries that read the same JSON Lines files as the Python recipe.
LF_DATASETS = {
    "sft": {"file_name": "sft.jsonl", "columns": {"prompt": "prompt", "response": "completion"}},
    "pt": {"file_name": "text.jsonl", "columns": {"prompt": "text"}},
    "dpo": {
        "file_name": "dpo.jsonl",
        "ranking": True,
        "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"},
    },
    "kto": {
        "file_name": "kto.jsonl",
        "columns": {"prompt": "prompt", "response": "completion", "kto_tag": "label"},
    },
}


def _llamafactory_gap(recipe: Recipe) -> str | None:
    if "grpo" in recipe.stages:
        return (
            "LLaMA-Factory has no GRPO stage (its stages: pt, sft, rm, ppo, dpo, kto); "
            "use --format python or axolotl"
        )
    if recipe.memory_model not in LF_FINETUNING:
        return (
            "its finetuning types are lora (with use_dora / quantization_bit), freeze, "
            "full (with use_galore) "
            f"and oft; {recipe.plan.name} is not among them; use --format python"
        )
    return None


def _lf_template(recipe: Recipe) -> tuple[str, str]:
    model_id = str(recipe.profile.get("model") or "")
    for prefix, template in LF_TEMPLATES:
        if model_id.startswith(prefix):
            return template, f"LLaMA-Factory's template for {prefix} models"
    return "default", "no catalog model with a LLaMA-Factory template: its generic 'default' template"


def _lf_method(recipe: Recipe) -> dict[str, Any]:
    values: dict[str, Any] = {"finetuning_type": LF_FINETUNING[recipe.memory_model]}
    if recipe.family == "lora":
        values.update(lora_rank=recipe.value("lora.r"), lora_target=_lf_targets(recipe))
        for key, name in (("lora.alpha", "lora_alpha"), ("lora.dropout", "lora_dropout")):
            if recipe.has(key):
                values[name] = recipe.value(key)
        if recipe.has("lora.use_dora"):
            values["use_dora"] = recipe.value("lora.use_dora")
    if recipe.memory_model == "partial" and recipe.model is not None and recipe.has("partial.fraction"):
        values["freeze_trainable_layers"] = max(
            1, round(recipe.model.layers * float(recipe.value("partial.fraction")))
        )
    if recipe.memory_model == "galore":
        values.update(use_galore=True, galore_target="all")
        for key, name in (
            ("rank", "galore_rank"),
            ("update_proj_gap", "galore_update_interval"),
            ("scale", "galore_scale"),
        ):
            if recipe.has(f"galore.{key}"):
                values[name] = recipe.value(f"galore.{key}")
    return values


def _lf_targets(recipe: Recipe) -> str:
    """LLaMA-Factory calls PEFT's "all-linear" "all"; other targets are a comma-separated list."""
    targets = recipe.value("lora.targets") if recipe.has("lora.targets") else "all-linear"
    return "all" if targets == "all-linear" else str(targets)


def _lf_stage(recipe: Recipe, stage: str) -> dict[str, Any]:
    lf_stage = LF_STAGE[stage]
    values: dict[str, Any] = {"stage": lf_stage, "do_train": True}
    values.update(_lf_method(recipe))
    if stage in ("dpo", "kto") and recipe.has(f"{stage}.beta"):
        values["pref_beta"] = recipe.value(f"{stage}.beta")
    if stage == "dpo":
        values["pref_loss"] = "sigmoid"
    if stage == "kto":
        for key, name in (
            ("desirable_weight", "kto_chosen_weight"),
            ("undesirable_weight", "kto_rejected_weight"),
        ):
            if recipe.has(f"kto.{key}"):
                values[name] = recipe.value(f"kto.{key}")
    return values


def _lf_model(recipe: Recipe, previous: str | None) -> dict[str, Any]:
    base = _model_hint(recipe)
    values: dict[str, Any] = {"model_name_or_path": base}
    if previous is not None and recipe.family == "lora":
        # Loads the previous stage's adapter; a new adapter on top (LoRA) keeps the merged SFT model as
        # the reference. A 4-bit model cannot merge, so QLoRA resumes the SFT adapter instead.
        values["adapter_name_or_path"] = previous
        values["create_new_adapter"] = recipe.memory_model != "qlora"
    elif previous is not None:
        values["model_name_or_path"] = previous
    if recipe.memory_model == "qlora":
        values.update(quantization_bit=4, quantization_method="bnb")
        if recipe.has("quant.double"):
            values["double_quantization"] = recipe.value("quant.double")
        if recipe.has("quant.type"):
            values["quantization_type"] = recipe.value("quant.type")
    if not recipe.value("gradient_checkpointing"):
        values["disable_gradient_checkpointing"] = True  # LLaMA-Factory checkpoints by default
    return values


def _lf_train(recipe: Recipe, stage: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "per_device_train_batch_size": recipe.batch(stage),
        "gradient_accumulation_steps": recipe.value("grad_accum"),
        "num_train_epochs": recipe.value("epochs"),
        "optim": recipe.value("optim"),
    }
    if recipe.has(f"lr.{stage}"):
        values["learning_rate"] = recipe.value(f"lr.{stage}")
    values.update(_precision_keys(recipe))
    if recipe.value("precision") == "pure-bf16":
        values["pure_bf16"] = True
    return values


def render_llamafactory(recipe: Recipe) -> str:
    template, template_source = _lf_template(recipe)
    recipe.notes.append(f"template: {template} <- {template_source}.")
    documents: list[tuple[str, str]] = []
    previous: str | None = None
    for stage in recipe.stages:
        output = f"saves/ft-atlas/{LF_STAGE[stage]}"
        info = {f"ft_atlas_{LF_STAGE[stage]}": LF_DATASETS[LF_STAGE[stage]]}
        body = "".join(
            [
                f"# data/dataset_info.json must hold: {json.dumps(info)}\n",
                _yaml_block("model", _lf_model(recipe, previous)),
                _yaml_block("method", _lf_stage(recipe, stage)),
                _yaml_block(
                    "dataset",
                    {
                        "dataset": f"ft_atlas_{LF_STAGE[stage]}",
                        "dataset_dir": "data",
                        "template": template,
                        "cutoff_len": recipe.value("seq_len"),
                    },
                ),
                _yaml_block("output", {"output_dir": output, "logging_steps": 10, "plot_loss": True}),
                _yaml_block("train", _lf_train(recipe, stage)),
            ]
        )
        documents.append((f"{LF_STAGE[stage]}.yaml", body))
        previous = output
    run = " && ".join(f"llamafactory-cli train {name}" for name, _ in documents)
    if recipe.memory_model == "qlora" and len(documents) > 1:
        recipe.notes.append(
            "QLoRA: LLaMA-Factory cannot merge an adapter into a 4-bit model, so the later stage resumes "
            "the SFT adapter and its reference model is the base model, not the SFT model."
        )
    return _yaml_documents(recipe, "llamafactory", run, documents)


# axolotl -------------------------------------------------------------------------------------

AX_RL = {"dpo": "dpo", "kto": "kto", "grpo": "grpo"}


def _axolotl_gap(recipe: Recipe) -> str | None:
    if recipe.memory_model not in ("full", "galore", "partial", "bitfit", "lora", "qlora", "dora"):
        return (
            "axolotl trains full weights, LoRA / QLoRA (and DoRA via peft_use_dora), or the parameters "
            f"matched by unfrozen_parameters; {recipe.plan.name} is not among them; use --format python"
        )
    return None


def _ax_dataset(stage: str) -> dict[str, Any]:
    if stage == "sft":
        kind: Any = {
            "field_instruction": "prompt",
            "field_output": "completion",
            "format": "{instruction}",
            "no_input_format": "{instruction}",
        }
        return {"path": "sft.jsonl", "type": kind}
    if stage == "continued-pretraining":
        return {"path": "text.jsonl", "type": "completion", "field": "text"}
    if stage == "dpo":
        return {
            "path": "dpo.jsonl",
            "split": "train",
            "type": {"field_prompt": "prompt", "field_chosen": "chosen", "field_rejected": "rejected"},
        }
    if stage == "kto":
        return {
            "path": "kto.jsonl",
            "split": "train",
            "type": {"field_prompt": "prompt", "field_completion": "completion", "field_label": "label"},
        }
    return {"path": "grpo.jsonl", "split": "train"}


def _ax_unfrozen(recipe: Recipe) -> list[str] | None:
    if recipe.memory_model == "bitfit":
        return [r"^.*\.bias$"]
    if recipe.memory_model != "partial" or recipe.model is None or not recipe.has("partial.fraction"):
        return None
    layers = recipe.model.layers
    first = layers - max(1, round(layers * float(recipe.value("partial.fraction"))))
    block = "h" if recipe.model.family == "gpt2" else "layers"
    return [f"{block}.{i}." for i in range(first, layers)]


def _ax_model(recipe: Recipe, previous: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"base_model": previous or _model_hint(recipe)}
    if recipe.family == "lora":
        quantized = recipe.memory_model == "qlora"
        values["adapter"] = "qlora" if quantized else "lora"
        if quantized:
            values["load_in_4bit"] = True
        values["lora_r"] = recipe.value("lora.r")
        targets = recipe.value("lora.targets") if recipe.has("lora.targets") else "all-linear"
        if targets == "all-linear":
            values["lora_target_linear"] = True
        else:
            values["lora_target_modules"] = str(targets).split(",")
        for key, name in (
            ("lora.alpha", "lora_alpha"),
            ("lora.dropout", "lora_dropout"),
            ("lora.use_dora", "peft_use_dora"),
        ):
            if recipe.has(key):
                values[name] = recipe.value(key)
    unfrozen = _ax_unfrozen(recipe)
    if unfrozen:
        values["unfrozen_parameters"] = unfrozen
    return values


def _ax_train(recipe: Recipe, stage: str, output: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sequence_len": recipe.value("seq_len"),
        "micro_batch_size": recipe.batch(stage),
        "gradient_accumulation_steps": recipe.value("grad_accum"),
        "num_epochs": recipe.value("epochs"),
        "optimizer": recipe.value("optim"),
        "gradient_checkpointing": recipe.value("gradient_checkpointing"),
        "output_dir": output,
    }
    if recipe.has(f"lr.{stage}"):
        values["learning_rate"] = recipe.value(f"lr.{stage}")
    values.update(_precision_keys(recipe))
    if recipe.memory_model == "galore" and recipe.has("galore.targets"):
        values["optim_target_modules"] = recipe.value("galore.targets")
        args = [
            f"{k}={recipe.value('galore.' + k)}"
            for k in ("rank", "update_proj_gap", "scale")
            if recipe.has("galore." + k)
        ]
        if args:
            values["optim_args"] = ",".join(args)
    return values


def _ax_stage(recipe: Recipe, stage: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "datasets": [_ax_dataset(stage)],
        "dataset_prepared_path": f"last_run_prepared/{stage}",
    }
    if stage in AX_RL:
        values["rl"] = AX_RL[stage]
    if stage in ("dpo", "kto") and recipe.has(f"{stage}.beta"):
        values["rl_beta"] = recipe.value(f"{stage}.beta")
    if stage == "kto":
        for key in ("desirable_weight", "undesirable_weight"):
            if recipe.has(f"kto.{key}"):
                values[f"kto_{key}"] = recipe.value(f"kto.{key}")
    if stage == "grpo":
        trl: dict[str, Any] = {"reward_funcs": ["rewards.matches_solution"]}
        for key in ("beta", "num_generations", "max_completion_length"):
            if recipe.has(f"grpo.{key}"):
                trl[key] = recipe.value(f"grpo.{key}")
        values["trl"] = trl
    return values


AX_REWARD = '''# rewards.py next to the config (axolotl imports trl.reward_funcs by module path):
#   def matches_solution(completions, solution, **kwargs):
#       """1.0 when the completion contains the reference answer; REPLACE with your checker."""
#       texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
#       return [1.0 if str(s).strip() and str(s).strip() in t else 0.0 for t, s in zip(texts, solution)]
'''


def render_axolotl(recipe: Recipe) -> str:
    documents: list[tuple[str, str]] = []
    previous: str | None = None
    for stage in recipe.stages:
        output = f"./outputs/{stage}"
        body = "".join(
            [
                AX_REWARD if stage == "grpo" else "",
                _yaml_block("model", _ax_model(recipe, previous)),
                _yaml_block("data", _ax_stage(recipe, stage)),
                _yaml_block("training", _ax_train(recipe, stage, output)),
            ]
        )
        documents.append((f"{stage}.yaml", body))
        # A later stage starts from the previous stage's weights: adapters are merged first
        # (`axolotl merge-lora`), which writes them to <output_dir>/merged.
        previous = f"{output}/merged" if recipe.family == "lora" else output
    steps = []
    for i, (name, _) in enumerate(documents):
        steps.append(f"axolotl train {name}")
        if recipe.family == "lora" and i < len(documents) - 1:
            steps.append(f"axolotl merge-lora {name}")
    return _yaml_documents(recipe, "axolotl", " && ".join(steps), documents)


# --- python training script ----------------------------------------------------------------

# The data each stage reads, documented in the script's docstring (TRL's dataset formats).
DATA_FORMATS = {
    "sft": """\
  prompt-completion (loss on the completion only, TRL's default for this format):
    {"prompt": "What is LoRA?", "completion": "A low-rank adapter trained on a frozen model."}
  or conversational (rendered with the tokenizer's chat template):
    {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}
  or plain text: {"text": "..."}""",
    "continued-pretraining": """\
  raw documents, next-token prediction on the whole text:
    {"text": "A domain document ..."}""",
    "dpo": """\
  preference pairs for one prompt (or the conversational form: lists of messages):
    {"prompt": "...", "chosen": "the preferred answer", "rejected": "the worse answer"}""",
    "kto": """\
  unpaired ratings: label true for a thumbs-up, false for a thumbs-down; include both kinds:
    {"prompt": "...", "completion": "...", "label": true}""",
    "grpo": """\
  prompts only: completions are sampled during training and scored by reward_matches_solution
  below, which receives every other column (here "solution") as a keyword argument:
    {"prompt": "What is 2 + 3?", "solution": "5"}""",
    "classifier": """\
  labelled text; labels may be strings or numbers:
    {"text": "The battery died after a day.", "label": "negative"}""",
}
CLASSIFIER_HEADS = ("classifier", "score", "pooler", "pre_classifier")


def _option(stage: str, first: bool) -> str:
    """The command-line option that names a stage's dataset: --dataset for the first stage."""
    return "dataset" if first else stage.replace("-", "_") + "_dataset"


def _training_doc(recipe: Recipe) -> str:
    plan = recipe.plan
    if recipe.architecture == "encoder":
        title = f"{plan.name}: a sequence classifier on an encoder model (transformers Trainer)."
        parts = [f"--dataset, JSON Lines:\n{DATA_FORMATS['classifier']}"]
    else:
        title = f"{plan.name}, trained with TRL: {' then '.join(s.upper() for s in recipe.stages)}."
        parts = [
            f"--{_option(s, i == 0).replace('_', '-')} ({s}), JSON Lines:\n{DATA_FORMATS[s]}"
            for i, s in enumerate(recipe.stages)
        ]
    saved = "adapter" if recipe.family not in ("weights",) else "weights"
    outro = f"Each stage saves its {saved} and train_results.json to --output-dir/<stage>."
    return (
        '"""'
        + title
        + "\n\nData (a local .jsonl/.json/.csv/.parquet file, or a Hub dataset name):\n"
        + ("\n".join(parts) + "\n\n" + outro + '\n"""\n')
    )


def _python_imports(recipe: Recipe) -> str:
    encoder = recipe.architecture == "encoder"
    names: dict[str, set[str]] = {
        "datasets": {"Dataset", "load_dataset"},
        "transformers": {"AutoTokenizer", "PreTrainedModel", "PreTrainedTokenizerBase", "Trainer"},
    }
    names["transformers"].add("AutoModelForSequenceClassification" if encoder else "AutoModelForCausalLM")
    if encoder:
        names["transformers"] |= {"DataCollatorWithPadding", "TrainingArguments", "TrainerCallback"}
    else:
        names["trl"] = {name for stage in recipe.stages for name in TRL_STAGES[stage]}
        names["transformers"].add("TrainerCallback")
    peft = _peft_names(recipe)
    if peft:
        names["peft"] = peft
    if recipe.memory_model == "qlora":
        names["transformers"].add("BitsAndBytesConfig")
        names["accelerate"] = {"PartialState"}
    lines = [
        "from __future__ import annotations",
        "",
        *(f"import {m}" for m in ("argparse", "importlib.metadata", "importlib.util", "math")),
        *(["import re"] if recipe.memory_model == "partial" else []),
        "import sys",
        "import warnings",
        "from pathlib import Path",
        "from typing import Any",
        "",
        "import torch",
        *(_from_import(module, sorted(names[module])) for module in sorted(names)),
    ]
    return "\n".join(lines) + "\n"


def _from_import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= _WIDTH:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


_PEFT_CONFIG = {
    "lora": "LoraConfig",
    "qlora": "LoraConfig",
    "dora": "LoraConfig",
    "adalora": "AdaLoraConfig",
    "ia3": "IA3Config",
    "prefix": "PrefixTuningConfig",
    "prompt": "PromptTuningConfig",
    "p-tuning": "PromptEncoderConfig",
}


def _peft_names(recipe: Recipe) -> set[str]:
    config = _PEFT_CONFIG.get(recipe.memory_model)
    if config is None:
        return set()
    names = {config, "PeftConfig", "PeftModel"}
    if recipe.memory_model == "prompt":
        names.add("PromptTuningInit")
    if recipe.memory_model == "qlora":
        names.add("prepare_model_for_kbit_training")
    if recipe.architecture == "encoder":
        names.add("get_peft_model")
    return names


def _adapter_settings(recipe: Recipe) -> dict[str, Value]:
    """Keyword arguments of the PEFT config, from the recipe's settings (absent = PEFT default)."""
    keys = {
        "lora.r": "r",
        "lora.alpha": "lora_alpha",
        "lora.dropout": "lora_dropout",
        "lora.targets": "target_modules",
        "lora.use_dora": "use_dora",
        "adalora.init_r": "init_r",
        "adalora.target_r": "target_r",
        "adalora.tinit": "tinit",
        "adalora.tfinal": "tfinal",
        "adalora.deltaT": "deltaT",
        "adalora.orth_reg_weight": "orth_reg_weight",
        "prompt.prefix_projection": "prefix_projection",
        "prompt.encoder_hidden_size": "encoder_hidden_size",
        "prompt.encoder_num_layers": "encoder_num_layers",
        "prompt.encoder_reparameterization_type": "encoder_reparameterization_type",
    }
    values = {name: recipe.value(key) for key, name in keys.items() if recipe.has(key)}
    tokens = recipe.settings.get("prompt.num_virtual_tokens")
    if tokens is not None and isinstance(tokens.value, int):
        values["num_virtual_tokens"] = tokens.value
    return values


def _stage_kwargs(recipe: Recipe, stage: str) -> dict[str, Value]:
    """Keyword arguments of a stage's TRL config beyond the shared TrainingArguments."""
    values: dict[str, Value] = {}
    if stage in ("sft", "continued-pretraining", "dpo", "kto"):
        values["max_length"] = recipe.value("seq_len")
    if stage == "continued-pretraining" and recipe.has("cpt.dataset_text_field"):
        values["dataset_text_field"] = recipe.value("cpt.dataset_text_field")
    for key in ("beta", "desirable_weight", "undesirable_weight", "num_generations", "max_completion_length"):
        if recipe.has(f"{stage}.{key}"):
            values[key] = recipe.value(f"{stage}.{key}")
    return values


def _extra_training_arguments(recipe: Recipe) -> dict[str, Value]:
    if recipe.memory_model != "galore" or not recipe.has("galore.targets"):
        return {}
    args = ",".join(
        f"{k}={recipe.value('galore.' + k)}"
        for k in ("rank", "update_proj_gap", "scale")
        if recipe.has(f"galore.{k}")
    )
    values: dict[str, Value] = {"optim_target_modules": recipe.value("galore.targets")}
    if args:
        values["optim_args"] = args
    return values


def _requirements(recipe: Recipe) -> tuple[dict[str, str], dict[str, str]]:
    """(libraries whose versions the script checks, modules it needs with an install hint)."""
    used = {"torch", "transformers", "datasets"}
    used |= {"peft"} if recipe.memory_model in _PEFT_CONFIG else set()
    used |= {"trl"} if recipe.architecture != "encoder" else set()
    versions = {k: v for k, v in WRITTEN_FOR.items() if k in used}
    needs = {}
    if recipe.memory_model == "qlora":
        needs["bitsandbytes"] = "pip install bitsandbytes (4-bit kernels; CUDA GPUs only)"
    if recipe.memory_model == "galore":
        needs["galore_torch"] = "pip install galore-torch"
    return versions, needs


def _constants(recipe: Recipe) -> str:
    versions, needs = _requirements(recipe)
    stages = ("sft",) if recipe.architecture == "encoder" else recipe.stages
    batch = {s: recipe.batch(s) for s in stages}
    lines = [
        f"WRITTEN_FOR = {versions!r}",
        f"REQUIRED_MODULES = {needs!r}",
        f"NEEDS_CUDA = {recipe.memory_model == 'qlora'!r}  # bitsandbytes' 4-bit kernels",
        f"PRECISION = {recipe.value('precision')!r}  # bf16 on Ampere or newer; fp16 on V100/T4 (no bf16)",
        f"GRADIENT_CHECKPOINTING = {recipe.value('gradient_checkpointing')!r}",
        f"BATCH_SIZE = {batch!r}  # per device",
        f"GRAD_ACCUM = {recipe.value('grad_accum')!r}",
        f"EPOCHS = {recipe.value('epochs')!r}",
        f"MAX_LENGTH = {recipe.value('seq_len')!r}  # tokens; the memory estimate assumed this length",
        f"OPTIM = {recipe.value('optim')!r}",
        f"LEARNING_RATE = { {s: recipe.value(f'lr.{s}') for s in stages if recipe.has(f'lr.{s}')}!r}",
        f"EXTRA_TRAINING_ARGUMENTS = {_extra_training_arguments(recipe)!r}",
        f"FROZEN_BASE = {recipe.family != 'weights' or recipe.memory_model in ('partial', 'bitfit')!r}",
        f"USES_PEFT = {recipe.memory_model in _PEFT_CONFIG!r}",
    ]
    lines += _method_constants(recipe)
    if recipe.architecture != "encoder":
        lines += _stage_constants(recipe)
    return "\n".join(lines) + "\n"


def _method_constants(recipe: Recipe) -> list[str]:
    task = "SEQ_CLS" if recipe.architecture == "encoder" else "CAUSAL_LM"
    heads = CLASSIFIER_HEADS if recipe.architecture == "encoder" else ()
    lines: list[str] = []
    if recipe.memory_model in _PEFT_CONFIG:
        lines += [f"TASK_TYPE = {task!r}", f"ADAPTER_SETTINGS = {_adapter_settings(recipe)!r}"]
    if recipe.memory_model == "qlora":
        quant = {"bnb_4bit_quant_type": "quant.type", "bnb_4bit_use_double_quant": "quant.double"}
        values = {name: recipe.value(key) for name, key in quant.items() if recipe.has(key)}
        lines.append(f"QUANTIZATION = {values!r}")
    if recipe.memory_model in ("partial", "bitfit"):
        lines.append(f"HEAD_PREFIXES = {heads!r}  # a new task head always trains")
    if recipe.memory_model == "partial":
        fraction = recipe.value("partial.fraction") if recipe.has("partial.fraction") else 0.25
        lines.append(f"TOP_LAYER_FRACTION = {fraction!r}")
    return lines


def _stage_constants(recipe: Recipe) -> list[str]:
    stages = recipe.stages
    options = {s: _option(s, i == 0) for i, s in enumerate(stages)}
    trainers = ", ".join(f"{s!r}: ({TRL_STAGES[s][0]}, {TRL_STAGES[s][1]})" for s in stages)
    extras = "{'grpo': {'reward_funcs': [reward_matches_solution]}}" if "grpo" in stages else "{}"
    return [
        f"STAGES = {stages!r}",
        f"DATASET_OPTION = {options!r}",
        f"STAGE_SETTINGS = { {s: _stage_kwargs(recipe, s) for s in stages}!r}",
        f"TRAINERS = {{{trainers}}}",
        f"TRAINER_EXTRAS: dict[str, dict[str, Any]] = {extras}",
    ]


def _adapter_function(recipe: Recipe) -> str:
    config = _PEFT_CONFIG[recipe.memory_model]
    head = (
        "\n\ndef adapter_config(\n"
        "    args: argparse.Namespace, tokenizer: PreTrainedTokenizerBase, rows: Dataset, stage: str\n"
        ") -> PeftConfig:\n"
    )
    if recipe.memory_model == "adalora":
        body = (
            "    # AdaLoRA schedules its rank budget over the stage's optimizer steps.\n"
            "    steps = planned_steps(args, len(rows), stage)\n"
            f"    return {config}(task_type=TASK_TYPE, total_step=steps, **ADAPTER_SETTINGS)\n"
        )
    elif recipe.memory_model == "prompt":
        body = (
            "    # Initialised from a task description; as many virtual tokens as the description has.\n"
            "    tokens = len(tokenizer(args.init_text, add_special_tokens=False)['input_ids'])\n"
            f"    return {config}(\n"
            "        task_type=TASK_TYPE,\n"
            "        prompt_tuning_init=PromptTuningInit.TEXT,\n"
            "        prompt_tuning_init_text=args.init_text,\n"
            "        num_virtual_tokens=tokens,\n"
            "        tokenizer_name_or_path=args.model,\n"
            "    )\n"
        )
    else:
        body = f"    return {config}(task_type=TASK_TYPE, **ADAPTER_SETTINGS)\n"
    return head + body


def _build_blocks(recipe: Recipe) -> list[str]:
    """load_model, trainable-parameter selection and build_model for the plan's family."""
    auto = (
        "AutoModelForSequenceClassification" if recipe.architecture == "encoder" else "AutoModelForCausalLM"
    )
    quantized = recipe.memory_model == "qlora"
    after = training.PREPARE_KBIT if quantized else ""
    load = training.LOAD_MODEL.substitute(
        quantization=training.QUANTIZATION_KWARGS if quantized else "",
        auto_class=auto,
        after_load=after,
    )
    if recipe.architecture == "encoder":
        load = load.replace(
            "from_pretrained(path, **kwargs)",
            "from_pretrained(\n        path,\n        num_labels=len(args.labels),\n"
            "        id2label=dict(enumerate(args.labels)),\n        **kwargs,\n    )",
        )
    blocks = [training.LOAD_DTYPE, load]
    if recipe.memory_model in ("partial", "bitfit"):
        blocks += [
            training.UPCAST_TRAINABLE,
            training.SELECT_PARTIAL if recipe.memory_model == "partial" else training.SELECT_BITFIT,
        ]
    if recipe.family == "weights":
        select = (
            "select_trainable(model)"
            if recipe.memory_model in ("partial", "bitfit")
            else "# every weight trains"
        )
        blocks.append(training.BUILD_WEIGHTS.replace("$select", select))
    else:
        blocks.append(training.BUILD_ADALORA if recipe.memory_model == "adalora" else training.BUILD_PEFT)
        blocks.append(_adapter_function(recipe))
    return blocks


def _callbacks_block(recipe: Recipe) -> str:
    if recipe.memory_model == "adalora":
        return training.PLANNED_STEPS + (
            "\n\ndef callbacks() -> list[TrainerCallback]:\n    return [AdaLoraBudget()]\n"
        )
    return "\n\ndef callbacks() -> list[TrainerCallback]:\n    return []\n"


def _parse_args_block(recipe: Recipe) -> str:
    stages = ("sft",) if recipe.architecture == "encoder" else recipe.stages
    datasets = []
    for i, stage in enumerate(stages):
        flag = "--" + _option(stage, i == 0).replace("_", "-")
        datasets.append(f'    parser.add_argument("{flag}", required=True, help="{stage} data (see above)")')
    extra = ""
    if recipe.memory_model == "prompt":
        extra = (
            '\n    parser.add_argument(\n        "--init-text",\n'
            '        default="Answer the request in the style of the training examples.",\n'
            '        help="a short task description; the soft prompt starts from its embeddings",\n    )'
        )
    return training.PARSE_ARGS.substitute(
        model_option=_model_option(recipe), dataset_options="\n".join(datasets), extra_options=extra
    )


def _training_notes(recipe: Recipe) -> None:
    plan = recipe.plan
    if plan.fits is False:
        recipe.notes.append(
            "the memory estimate says this plan does NOT fit the GPU; "
            "see the caveats in `ft-atlas recommend`."
        )
    gpus = int(recipe.profile.get("gpus") or 1)
    if gpus > 1:
        sharding = recipe.method.hyperparameters.get("sharding")
        recipe.notes.append(
            f"{gpus} GPUs: start with `accelerate launch --num_processes {gpus} recipe.py ...`"
            + (f"; {sharding}" if sharding else "")
            + "."
        )
    if "kto" in recipe.stages:
        recipe.notes.append(
            "KTO needs both desirable (true) and undesirable (false) examples, "
            "and a per-device batch above 1."
        )
    if "grpo" in recipe.stages:
        recipe.notes.append(
            "GRPO optimises reward_matches_solution: replace it with your own checker before training."
        )


def _classifier_main(recipe: Recipe) -> str:
    wrap = training.WRAP_ADAPTER if recipe.memory_model in _PEFT_CONFIG else ""
    return training.RUN_CLASSIFIER.substitute(wrap_adapter=wrap)


def _run_line(recipe: Recipe) -> str:
    stages = ("sft",) if recipe.architecture == "encoder" else recipe.stages
    files = {
        "sft": "sft.jsonl",
        "continued-pretraining": "text.jsonl",
        "dpo": "dpo.jsonl",
        "kto": "kto.jsonl",
        "grpo": "prompts.jsonl",
    }
    data = " ".join(f"--{_option(s, i == 0).replace('_', '-')} {files[s]}" for i, s in enumerate(stages))
    return f"python recipe.py --model {_model_hint(recipe)} {data} --output-dir ft-atlas-output"


def _render_training(recipe: Recipe) -> str:
    _training_notes(recipe)
    encoder = recipe.architecture == "encoder"
    parts = [
        header(recipe, "python", _run_line(recipe)),
        _training_doc(recipe),
        _python_imports(recipe),
        training.REWARD_FUNCTION if "grpo" in recipe.stages else "",
        _constants(recipe),
        _parse_args_block(recipe),
        training.CHECK_ENVIRONMENT,
        training.LOAD_ROWS,
        training.LOAD_TOKENIZER,
        *_build_blocks(recipe),
        _callbacks_block(recipe),
        training.TRAINING_ARGUMENTS,
        training.FINISH,
        _classifier_main(recipe) if encoder else training.RUN_STAGE,
    ]
    return _join_blocks(parts)


def _join_blocks(parts: list[str]) -> str:
    """Top-level blocks, two blank lines apart (PEP 8), after the header comments."""
    head, *rest = parts
    return head + "\n" + "\n\n\n".join(p.strip("\n") for p in rest if p.strip()) + "\n"
