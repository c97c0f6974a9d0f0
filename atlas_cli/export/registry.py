"""Output formats of `ft-atlas export`: each is one module in export/formats/ that registers an
ExportFormat. Adding a format is adding a module; nothing else lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atlas_cli.export import formats as formats_package
from atlas_cli.export.document import Atlas
from atlas_cli.plugins import Plugins


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    summary: str
    # The atlas as files for --out DIR: file name -> text.
    files: Callable[[Atlas], dict[str, str]]
    # The atlas as one document, for stdout.
    document: Callable[[Atlas], str]


_formats: Plugins[ExportFormat] = Plugins(formats_package)
register = _formats.register
format_names = _formats.names
export_formats = _formats.loaded


def file_suffix(lang: str) -> str:
    """English pages are README.md, methods.md, ...; another language's carry its code
    (README.ru.md), so that both can sit in one directory."""
    return "" if lang == "en" else f".{lang}"
