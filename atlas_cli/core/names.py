"""What a model's name says about it, without reading its config (cheap: no parser loaded)."""

from __future__ import annotations

import re

# A space separates too: the Hub's and Meta's display names read "Llama 3.1 8B Instruct".
_INSTRUCT_NAME = re.compile(r"(?:^|[-_.\s])(?:instruct|it|chat)(?:$|[-_.\s])", re.IGNORECASE)


def looks_instruct(name: str) -> bool:
    """Post-trained checkpoints say so in their name: -Instruct, -it, -chat (-Chat-hf, ...),
    or " Instruct" as a display name writes it."""
    return bool(_INSTRUCT_NAME.search(name.rstrip("/").rsplit("/", 1)[-1]))
