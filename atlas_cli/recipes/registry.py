"""Output formats of `ft-atlas recipe`: each is one module in recipes/formats/ that registers a
TrainerFormat. Adding a format is adding a module; nothing else lists them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from atlas_cli.recipes import formats as formats_package

if TYPE_CHECKING:
    from atlas_cli.recipes.settings import Recipe


@dataclass(frozen=True, slots=True)
class TrainerFormat:
    name: str
    summary: str
    render: Callable[[Recipe], str]
    # Why this format cannot express a training plan (None: it can).
    gap: Callable[[Recipe], str | None]
    prompting: bool = False  # writes runnable examples for no-training plans (RAG, ICL)
    encoder_classifiers: bool = False  # trains BERT-style sequence classifiers


_registered: dict[str, TrainerFormat] = {}


def register(fmt: TrainerFormat) -> TrainerFormat:
    _registered[fmt.name] = fmt
    return fmt


def format_names() -> list[str]:
    """The formats, without importing them (for the command line's choices)."""
    return sorted(
        m.name for m in pkgutil.iter_modules(formats_package.__path__) if not m.name.startswith("_")
    )


@cache
def trainer_formats() -> dict[str, TrainerFormat]:
    for name in format_names():
        importlib.import_module(f"{formats_package.__name__}.{name}")
    return dict(_registered)
