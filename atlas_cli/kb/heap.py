"""Work that runs with the cyclic garbage collector paused.

Building what lives as long as the process (the knowledge base, the engine's compiled rules)
allocates tens of thousands of objects and frees almost none, which is exactly what makes the
collector run again and again, each time walking everything built so far: with a thousand
methods that was a third of a run. A catalog is a tree of records: there are no reference cycles
to miss while the collector waits. A one-shot `recommend --json` (batch/fastpath.py) runs paused
whole, for the same reason: it makes nothing worth collecting before the process ends.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(work: Callable[P, R]) -> Callable[P, R]:
    """`work` runs with the cyclic garbage collector paused (restored as it was afterwards)."""

    @functools.wraps(work)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused
