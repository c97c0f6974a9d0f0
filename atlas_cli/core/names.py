"""What a model's name says about it, without reading its config (cheap: no parser loaded)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A space separates too: the Hub's and Meta's display names read "Llama 3.1 8B Instruct".
_INSTRUCT_NAME = re.compile(r"(?:^|[-_.\s])(?:instruct|it|chat)(?:$|[-_.\s])", re.IGNORECASE)


def looks_instruct(name: str) -> bool:
    """Post-trained checkpoints say so in their name: -Instruct, -it, -chat (-Chat-hf, ...),
    or " Instruct" as a display name writes it."""
    return bool(_INSTRUCT_NAME.search(name.rstrip("/").rsplit("/", 1)[-1]))


# Chat formats, found in a model's name as LLaMA-Factory's templates are, whose template drops an
# assistant answer's reasoning before </think>: DeepSeek-R1's and its distills'
# (tokenizer_config.json chat_template: content.split('</think>')[-1]; axolotl's deepseek_v3.jinja
# alike). A trainer rendering answers with it trains them without their thought.
DROPS_FINAL_THINKING = ("deepseek-r1",)


def drops_final_thinking(name: str) -> bool:
    """The model named so renders an answer without its reasoning (DROPS_FINAL_THINKING)."""
    last = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower().replace("_", "-")
    return any(part in last for part in DROPS_FINAL_THINKING)


def trains_thinking_away(name: str, stages: Iterable[str], labels: bool) -> bool:
    """Stages that train generated answers (not continued pre-training's text, GRPO's sampled
    completions or `labels`, a classifier's or as text) of a model whose template drops their
    reasoning: a trainer rendering them with it, axolotl's or mlx-lm's, trains them without it."""
    answers = set(stages) - {"continued-pretraining", "grpo"}
    return bool(answers) and not labels and drops_final_thinking(name)
