"""Formats that are found, not listed: a package holds one module per format, and each module
registers its format when imported (recipes/registry.py's trainer formats, export/registry.py's
atlas formats). Adding a format is adding a module."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class Plugins(Generic[T]):
    def __init__(self, package: ModuleType) -> None:
        self._package = package
        self._registered: dict[str, T] = {}
        self._loaded: dict[str, T] | None = None

    def register(self, item: T) -> T:
        self._registered[item.name] = item
        return item

    def names(self) -> list[str]:
        """The formats, without importing them (for the command line's choices)."""
        return sorted(
            m.name for m in pkgutil.iter_modules(self._package.__path__) if not m.name.startswith("_")
        )

    def loaded(self) -> dict[str, T]:
        """Every format, its module imported once. A format's name is its module's name: the
        command line offers the module names without importing them."""
        if self._loaded is None:
            for name in self.names():
                importlib.import_module(f"{self._package.__name__}.{name}")
            unmatched = sorted(set(self._registered) ^ set(self.names()))
            if unmatched:
                raise RuntimeError(
                    f"{self._package.__name__}: a format registers the name of its module; these do not "
                    f"match: {', '.join(unmatched)}"
                )
            self._loaded = dict(self._registered)
        return self._loaded
