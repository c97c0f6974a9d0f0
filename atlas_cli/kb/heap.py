"""Building what lives as long as the process (the knowledge base, the engine's compiled rules)
with the cyclic garbage collector paused.

These builds allocate tens of thousands of objects and free almost none, which is exactly what
makes the collector run again and again, each time walking everything built so far: with a
thousand methods that was a third of a run. A catalog is a tree of records: there are no reference
cycles to miss while the collector waits.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def long_lived(build: Callable[P, R]) -> Callable[P, R]:
    """`build` runs with the cyclic garbage collector paused (restored as it was afterwards)."""

    @functools.wraps(build)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused
