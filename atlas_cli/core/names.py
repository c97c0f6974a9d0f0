"""What a model's name says about it, without reading its config (cheap: no parser loaded)."""

from __future__ import annotations

import re

_INSTRUCT_NAME = re.compile(r"(?:^|[-_.])(?:instruct|it|chat)(?:$|[-_.])", re.IGNORECASE)


def looks_instruct(name: str) -> bool:
    """Post-trained checkpoints say so in their name: -Instruct, -it, -chat (-Chat-hf, ...)."""
    return bool(_INSTRUCT_NAME.search(name.rstrip("/").rsplit("/", 1)[-1]))
