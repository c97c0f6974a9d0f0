"""Output formats of `ft-atlas recipe`: each is one module in recipes/formats/ that registers a
TrainerFormat. Adding a format is adding a module; nothing else lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlas_cli.i18n import N_
from atlas_cli.plugins import Plugins
from atlas_cli.recipes import formats as formats_package

if TYPE_CHECKING:
    from atlas_cli.core.estimates import KbitPreparation
    from atlas_cli.recipes.settings import Recipe


@dataclass(frozen=True, slots=True)
class RecipeFile:
    name: str  # relative to the directory the recipe is written to
    text: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a format writes: its files (the first holds the header), the command that runs them
    from the directory they are in, and all of it as one text for stdout."""

    files: tuple[RecipeFile, ...]
    launch: str
    text: str


# The kinds of file a recipe is, by the suffixes their names take; JSON, which no recipe is, because
# LLaMA-Factory reads a `.json` config with json.loads (hparams/parser.py read_args).
RECIPE_SUFFIXES = {
    ".py": N_("a Python script"),
    ".yaml": N_("YAML"),
    ".yml": N_("YAML"),
    ".json": N_("JSON"),
}


@dataclass(frozen=True, slots=True)
class TrainerFormat:
    name: str
    summary: str
    # Renders a settled recipe; `main` is the name of the first file (the one --out names).
    render: Callable[[Recipe, str], Rendered]
    # Why this format cannot express a training plan (None: it can).
    gap: Callable[[Recipe], str | None]
    objectives: frozenset[str]  # the stages it trains
    default_name: str  # the first file's name when --out does not give one
    stack: str = "hf"  # how its trainer computes the logits (the memory estimate's `stack`)
    # Writes Liger Kernel (fused loss and kernels) when the profile's --stack is liger, for
    # supervised stages, whose loss it fuses (preference stages keep their logits).
    liger: bool = False
    prompting: bool = False  # writes runnable examples for no-training plans (RAG, ICL)
    encoder_classifiers: bool = False  # trains BERT-style sequence classifiers
    # Quantizes a QLoRA base's fused routed experts as they load (axolotl's quantize_moe_experts).
    quantizes_experts: bool = False
    # Loads a 4-bit (QLoRA) base shard by shard under FSDP, never whole on every GPU as transformers
    # loads a bitsandbytes model, for the families that say how (families.yaml fsdp_qlora_layer:
    # axolotl's qlora_sharded_model_loading): a plan that fits only so (EstimateSettings.sharded_loading)
    # is written.
    loads_quantized_shards: bool = False
    # Keeps an fp32 master copy of the weights it trains under 16-bit mixed precision. axolotl
    # loads every weight in the 16-bit type it trains in (utils/config resolve_dtype: bf16: true
    # sets torch_dtype bfloat16), so its full fine-tuning runs in pure bf16.
    master_copy: bool = True
    # Trains packed SFT kept apart by FlashAttention 2 one packed row per device (LLaMA-Factory's
    # collator asserts "bsz should be 1 for neat packing"): the recipe is sized at that batch.
    one_packed_row: bool = False
    # What PEFT's prepare_model_for_kbit_training leaves of a QLoRA base's unquantized weights
    # (EstimateSettings.kbit_preparation).
    kbit_preparation: KbitPreparation = "upcast"
    # Keeps every packed stage's examples apart, continued pre-training's documents too (axolotl's
    # sample_packing restarts the positions at each one): it never wraps them into shared rows.
    packs_apart: bool = False
    # What its first file is, by suffix: a file --out names with another kind's suffix is refused
    # (RECIPE_SUFFIXES), where `--out train.yaml` would silently hold a Python script.
    suffix: str = ".yaml"
    # Adapts with PEFT on transformers 5, which reads "all-linear" and a mixture of experts' MLP
    # names as its routed experts (recipes/settings.py _attention_of_a_mixture).
    peft: bool = True
    # Loads the model with transformers, whose mixture-of-experts families add the routers'
    # load-balancing loss only with output_router_logits (settings._router_balance); mlx-lm's
    # models have no such loss.
    transformers_models: bool = True
    # Trains with TRL's trainers, which add Mixtral's load-balancing loss to any mixture of experts
    # whose config declares a coefficient, whether its model adds one or not (settings._router_balance).
    trl_trainers: bool = False
    # Adds the token types a vision-language checkpoint's forward refuses to train without
    # (data/families.yaml training_token_types), which TRL's text collators never pass.
    adds_token_types: bool = False
    # Sets YaRN RoPE scaling in the model's config past the positions it was trained with, where
    # its model card does (models.yaml yarn_context); the others say how in a note.
    yarn: bool = False
    # Quantizes a QLoRA base with bitsandbytes, which has neither optimized 4-bit kernels nor
    # paged optimizers on Apple's MPS: such a format's QLoRA is refused there (writer.py).
    bitsandbytes: bool = True
    # The GPU vendors (kb.facts GPU_VENDORS) its trainer runs on; None: wherever PyTorch runs
    # (CUDA, ROCm, Apple's MPS, or the CPU). A profile on other hardware is refused, naming the
    # formats that write its plan (writer.py).
    vendors: frozenset[str] | None = None
    # The GPU vendors where `ft-atlas recipe` without --trainer writes this format, whenever it
    # writes the plan (the python format otherwise): a platform's own trainer, mlx-lm on Apple's.
    default_on: frozenset[str] = frozenset()
    # What the trainer's own software changes in the settled settings (its precision, optimizer,
    # packing), before the recipe's memory, time and cost are estimated again with them.
    adjust: Callable[[Recipe], None] | None = None


# What `ft-atlas recipe` writes without --trainer, where no format is the default on the
# profile's GPU vendor (TrainerFormat.default_on) or that one does not write the plan.
FALLBACK = "python"

_formats: Plugins[TrainerFormat] = Plugins(formats_package)
register = _formats.register
format_names = _formats.names
trainer_formats = _formats.loaded
