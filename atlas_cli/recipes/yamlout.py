"""What the YAML formats share: one YAML file per stage, values quoted by the YAML library."""

from __future__ import annotations

from typing import Any

from atlas_cli.recipes.header import commented_file, header, wrapped
from atlas_cli.recipes.launchers import deepspeed_json, sharding_note
from atlas_cli.recipes.registry import RecipeFile, Rendered
from atlas_cli.recipes.settings import Recipe


def yaml_block(title: str, values: dict[str, Any]) -> str:
    import yaml  # only the YAML formats need it; `--trainer python` stays light

    # Values come from the KB: only the YAML library writes them. Without allow_unicode, anything
    # beyond ASCII is a double-quoted escape; with it, PyYAML writes U+0085 raw inside quotes,
    # which its own reader then misreads.
    body = yaml.safe_dump(values, sort_keys=False, allow_unicode=False, width=1000)
    return f"### {title}\n{body}"


def yaml_files(
    recipe: Recipe,
    fmt: str,
    written_for: str,
    run: str,
    documents: list[tuple[str, str]],
    deepspeed: str | None,
    setup: str = "",
    beside: tuple[RecipeFile, ...] = (),
) -> Rendered:
    """One YAML file per stage, in order, the first with the header and the multi-GPU sharding
    note; the DeepSpeed config the stages name (`deepspeed`, if any) and the files they import
    (`beside`: axolotl's GRPO reward functions) go beside them. On stdout, the stages are YAML
    documents separated by ---, and those files follow as comments."""
    note = sharding_note(recipe)
    if note:
        recipe.notes.append(note)
    extra = [RecipeFile(deepspeed, deepspeed_json(recipe))] if deepspeed else []
    extra += beside
    head = header(recipe, fmt, written_for, run, setup)
    files = []
    for i, (name, body) in enumerate(documents):
        if i == 0:
            files.append(RecipeFile(name, head + body))
            continue
        intro = wrapped(
            f"ft-atlas recipe ({fmt}): step {i + 1} of {len(documents)} of the plan in {documents[0][0]}, "
            f"which states its settings, sources and how to run it."
        )
        files.append(RecipeFile(name, "\n".join(intro) + "\n" + body))
    text = head
    if len(documents) > 1:
        names = ", ".join(name for name, _ in documents)
        note = (
            f"This text holds {len(documents)} YAML documents, one per stage ({names}), separated by ---; "
            "--out DIR writes each to its own file. Train them in that order."
        )
        text += "\n".join(wrapped(note)) + "\n"
    text += "---\n".join(f"# --- {name}\n{body}" for name, body in documents)
    for file in extra:
        text += "\n".join(wrapped(f"--- {file.name} (--out DIR writes it as its own file):")) + "\n"
        text += commented_file(file.text)
    return Rendered((*files, *extra), run, text)


def precision_keys(recipe: Recipe) -> dict[str, bool]:
    precision = recipe.value("precision")
    keys = {"bf16": precision in ("bf16", "pure-bf16"), "fp16": precision == "fp16"}
    return keys
