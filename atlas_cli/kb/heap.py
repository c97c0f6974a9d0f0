"""Building what lives as long as the process (the knowledge base, the engine's compiled rules)
out of the cyclic garbage collector's way.

These builds allocate tens of thousands of objects and free almost none, which is exactly what
makes the collector run again and again, each time walking everything built so far; and once
built, every later full collection would walk them again. With a thousand methods that was a
third of a run. So a build runs with the collector paused, and what exists when it ends is
frozen (`gc.freeze`: moved where collections do not look; the Python docs recommend it for such
long-lived data, also before `fork`, where it keeps worker processes from copying the pages the
collector would touch). A catalog is a tree of records: there are no reference cycles to miss,
and objects are still freed when their last reference goes.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def long_lived(build: Callable[P, R]) -> Callable[P, R]:
    """`build` runs with the cyclic garbage collector paused (restored as it was afterwards),
    and what it built is frozen out of the collector's reach."""

    @functools.wraps(build)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()

    return paused
