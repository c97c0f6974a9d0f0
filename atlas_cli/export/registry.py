"""Output formats of `ft-atlas export`: each is one module in export/formats/ that registers an
ExportFormat. Adding a format is adding a module; nothing else lists them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from atlas_cli.export import formats as formats_package
from atlas_cli.export.document import Atlas


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    summary: str
    # The atlas as files for --out DIR: file name -> text.
    files: Callable[[Atlas], dict[str, str]]
    # The atlas as one document, for stdout.
    document: Callable[[Atlas], str]


_registered: dict[str, ExportFormat] = {}


def register(fmt: ExportFormat) -> ExportFormat:
    _registered[fmt.name] = fmt
    return fmt


def format_names() -> list[str]:
    """The formats, without importing them (for the command line's choices)."""
    return sorted(
        m.name for m in pkgutil.iter_modules(formats_package.__path__) if not m.name.startswith("_")
    )


@cache
def export_formats() -> dict[str, ExportFormat]:
    for name in format_names():
        importlib.import_module(f"{formats_package.__name__}.{name}")
    return dict(_registered)


def file_suffix(lang: str) -> str:
    """English pages are README.md, methods.md, ...; another language's carry its code
    (README.ru.md), so that both can sit in one directory."""
    return "" if lang == "en" else f".{lang}"
