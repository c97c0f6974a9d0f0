"""`render_recipe(catalog, rec, rank, fmt)`: pure; it resolves the plan's settings
(settings.py), checks that the format can express the plan, and returns the text the format's
module (formats/) writes."""

from __future__ import annotations

from atlas_cli.core.plans import Recommendation
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from atlas_cli.recipes.header import name_written_file
from atlas_cli.recipes.registry import TrainerFormat, trainer_formats
from atlas_cli.recipes.settings import WRITTEN_FOR, Recipe, resolve


def render_recipe(
    catalog: Catalog, rec: Recommendation, rank: int = 1, fmt: str = "python", out: str | None = None
) -> str:
    """The recipe text for the plan ranked `rank` (1 = best) of `rec`, in format `fmt`; `out`
    is the file it will be written to, which the header's run line then names.

    Raises UsageError for a rank out of range, an unknown format, or a plan the format cannot
    express (the message says why and what to use instead)."""
    formats = trainer_formats()
    if fmt not in formats:
        raise UsageError(f"--trainer: '{fmt}' is not one of {', '.join(formats)}")
    recipe = resolve(catalog, rec, rank)
    _check_supported(recipe, formats[fmt])
    text = formats[fmt].render(recipe)
    return text if out is None else name_written_file(text, out)


def _check_supported(recipe: Recipe, fmt: TrainerFormat) -> None:
    plan, arch = recipe.plan, recipe.architecture
    if recipe.method.runs == "hosted":
        raise UsageError(
            f"plan {recipe.rank} ({plan.name}) runs at a provider, so there is no training script to "
            f"write: `ft-atlas show {plan.method}` lists each provider's API, models, prices and data "
            "format"
        )
    if arch == "encoder-decoder":
        raise UsageError(
            f"{recipe.profile.get('model')} is an encoder-decoder (T5-style) model; recipes cover decoder "
            f"LLMs and encoder classifiers. See `ft-atlas show {plan.method}` for the library entry points."
        )
    if plan.kind == "no-training":
        if not fmt.prompting:
            raise UsageError(
                f"plan {recipe.rank} ({plan.name}) trains nothing, so there is no {fmt.name} config; "
                "use --trainer python for a runnable example"
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
    if arch == "encoder" and (not fmt.encoder_classifiers or plan.pipeline != ("sft",)):
        raise UsageError(
            "for an encoder (BERT-style) model, recipes train a sequence classifier with SFT only, "
            "in --trainer python; LLaMA-Factory and axolotl train generative models"
        )
    gap = fmt.gap(recipe)
    if gap:
        raise UsageError(
            f"{fmt.name} cannot express plan {recipe.rank} ({plan.name}, {' -> '.join(plan.pipeline)}): {gap}"
        )
