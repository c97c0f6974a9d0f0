"""The user's profile, defined once: command-line flags, questionnaire questions, batch keys and
the JSON schema are all generated from PROFILE_FIELDS, so they cannot drift apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal

from atlas_cli.errors import UsageError
from atlas_cli.kb.vocabulary import (
    DATA_KINDS,
    GOALS,
    MODEL_ACCESS,
    MODEL_VARIANT_CHOICES,
    NO_WORDS,
    PRIORITIES,
    STACKS,
    TYPICAL_DATA,
    TYPICAL_TOKENS,
    YES_WORDS,
    Choice,
    means_no_gpu,
)

FieldKind = Literal["choice", "name", "size", "count", "tokens", "vram", "gpus", "flag", "number", "price"]


@dataclass(frozen=True, slots=True)
class ProfileField:
    """One question of the profile: its flag, batch key, questionnaire prompt and JSON Schema."""

    name: str
    kind: FieldKind
    group: str
    help: str
    question: str
    choices: tuple[Choice, ...] = ()
    default: Any = None
    example: str = ""
    # Answered by another field's question ("24gb" to the GPU question sets vram).
    alternative_to: str | None = None
    # What ft-atlas assumes when a field without a default is not given (a blank answer or
    # "I don't know" to the question), so that the questionnaire can say it.
    if_unset: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _question(
    kind: FieldKind,
    group: str,
    help: str,
    question: str,
    *,
    default: Any = None,
    choices: tuple[Choice, ...] = (),
    example: str = "",
    alternative_to: str | None = None,
    if_unset: str = "",
) -> Any:
    """A Profile field whose metadata is its question (see PROFILE_FIELDS)."""
    spec: dict[str, Any] = {"kind": kind, "group": group, "help": help, "question": question}
    spec |= {"choices": choices, "example": example, "alternative_to": alternative_to, "if_unset": if_unset}
    return field(default=default, metadata={"question": spec})


@dataclass(frozen=True, slots=True)
class Profile:
    """What the user told us. Each field carries its question, in the order they are asked;
    flags, questionnaire, batch keys and the JSON Schema are all generated from them."""

    model_access: str = _question(
        "choice",
        "model",
        "Do you have the weights, or only an API?",
        "Can you access the model's weights?",
        default="weights",
        choices=MODEL_ACCESS,
    )
    gpu: str | None = _question(
        "name",
        "hardware",
        "GPU from the catalog (id or alias, e.g. rtx-3090, '3090', 'A100 80GB'), or 'none'.",
        "Which GPU will you train on? (e.g. 3090, A100 80GB; 'none' for CPU only or a hosted API)",
        example="rtx-3090",
        if_unset="the fit in memory is not checked",
    )
    vram: float | None = _question(
        "vram",
        "hardware",
        "GPU memory in GB as advertised (e.g. 24), instead of --gpu.",
        "How much memory does each GPU have, in GB?",
        example="24",
        alternative_to="gpu",
    )
    gpus: int = _question(
        "gpus", "hardware", "Number of GPUs (default 1).", "How many GPUs?", default=1, example="2"
    )
    model: str | None = _question(
        "name",
        "model",
        "A catalog name, a Hub id or a config.json / model directory (e.g. llama-3.1-8b, "
        "Qwen/Qwen3-8B, ./my-model/); with --model-access api, any name.",
        "Which model? (a catalog name such as llama-3.1-8b, a Hub id, a model directory, or a size: 7b)",
        example="llama-3.1-8b",
        if_unset="ft-atlas assumes a 7B model",
    )
    model_size: float | None = _question(
        "size",
        "model",
        "Model size instead of --model: 7b, 0.5b, 125m, 7e9.",
        "How many parameters does the model have? (e.g. 7b, 125m)",
        example="7b",
        alternative_to="model",
    )
    # Not given: read from the model (catalog entry, -Instruct/-it/-chat in its name, a chat template).
    model_variant: str | None = _question(
        "choice",
        "model",
        "base or instruct: whether the model is already post-trained (default: read from the model).",
        "Is the model a base model or already instruction-tuned?",
        choices=MODEL_VARIANT_CHOICES,
    )
    goal: str = _question(
        "choice",
        "goal",
        "What you want the model to do better.",
        "What is your goal?",
        default="adapt",
        choices=GOALS,
    )
    # Not given: the goal's usual data is assumed (TYPICAL_DATA).
    data_kind: str | None = _question(
        "choice", "data", "What training data you have.", "What data do you have?", choices=DATA_KINDS
    )
    examples: int | None = _question(
        "count",
        "data",
        "How many examples (500, 10k, 1.5m).",
        "How many examples (or documents)? (e.g. 500, 10k)",
        example="10k",
        if_unset="advice that depends on the amount of data is left out",
    )
    # Not given: 2048 tokens (512 for encoders); memory is sized for this length.
    seq_len: int | None = _question(
        "tokens",
        "data",
        "Longest sequence in tokens that training truncates or packs to (512, 4k, 32k; k = 1024).",
        "How long are the longest examples, in tokens? (e.g. 512, 4k, 32k)",
        example="4k",
        if_unset="ft-atlas assumes 2048 tokens (512 for encoders such as BERT)",
    )
    # Not given: a typical length for the data kind (TYPICAL_TOKENS), at most seq_len.
    tokens_per_example: int | None = _question(
        "tokens",
        "data",
        "Average example length in tokens, for training time (default: typical for the data kind).",
        "How long is an average example, in tokens? (e.g. 300, 1k)",
        example="300",
        if_unset="ft-atlas assumes a typical length for your kind of data",
    )
    # Not given: the objective's usual number (its num_train_epochs in data/methods.yaml).
    epochs: float | None = _question(
        "number",
        "data",
        "Passes over the data, for training time (default: usual for the objective, e.g. 3 for SFT).",
        "How many passes (epochs) over the data?",
        example="3",
        if_unset="ft-atlas assumes the usual number for the objective (3 for SFT)",
    )
    packing: bool = _question(
        "flag",
        "data",
        "Examples are packed into full-length sequences (TRL packing=True): no compute on padding.",
        "Will you pack short examples into full-length sequences?",
        default=False,
    )
    batch_size: int = _question(
        "gpus",
        "data",
        "Micro-batch per GPU (default 1).",
        "How many sequences per GPU in one step (micro-batch)?",
        default=1,
        example="4",
    )
    knowledge_changes: bool = _question(
        "flag",
        "constraints",
        "The facts change often (weekly or faster).",
        "Do the facts change often (weekly or faster)?",
        default=False,
    )
    many_tasks: bool = _question(
        "flag",
        "constraints",
        "Serve many tasks from one base model.",
        "Will one base model serve many tasks?",
        default=False,
    )
    priority: str = _question(
        "choice",
        "constraints",
        "What matters most.",
        "What matters most?",
        default="balanced",
        choices=PRIORITIES,
    )
    price_per_hour: float | None = _question(
        "price",
        "constraints",
        "USD per GPU-hour, for cost (default: the cloud price in data/prices.yaml; 0: your own hardware).",
        "What does one GPU-hour cost you, in USD? (0 for your own hardware)",
        example="2.5",
        if_unset="ft-atlas uses the cloud price in data/prices.yaml",
    )
    max_hours: float | None = _question(
        "number",
        "constraints",
        "Exclude plans whose training takes longer than this many hours.",
        "At most how many hours may training take?",
        example="24",
        if_unset="no limit",
    )
    budget_usd: float | None = _question(
        "number",
        "constraints",
        "Exclude plans whose training costs more than this many USD.",
        "What is your budget for training, in USD?",
        example="100",
        if_unset="no limit",
    )
    stack: str = _question(
        "choice",
        "constraints",
        "Training software, for memory (logits, activations).",
        "Which training software will you use?",
        default="hf",
        choices=STACKS,
    )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in PROFILE_FIELDS}

    @property
    def data_kind_or_typical(self) -> str:
        return self.data_kind or TYPICAL_DATA[self.goal]

    @property
    def data_kind_given(self) -> bool:
        return self.data_kind is not None

    @property
    def dataset_tokens_b(self) -> float | None:
        """Training tokens in billions: examples x average length (given, else typical)."""
        if self.examples is None:
            return None
        per_example = self.tokens_per_example or TYPICAL_TOKENS[self.data_kind_or_typical]
        return round(self.examples * per_example / 1e9, 6)


PROFILE_FIELDS: tuple[ProfileField, ...] = tuple(
    ProfileField(name=f.name, default=None if f.default is MISSING else f.default, **f.metadata["question"])
    for f in fields(Profile)
)
FIELDS_BY_NAME = {f.name: f for f in PROFILE_FIELDS}

# --- value parsing (shared by flags, questionnaire answers and batch lines) ----------------

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
MAX_PARAMS = 10e12
MAX_EXAMPLES = 10**12
MAX_VRAM_GB = 10_000.0
MAX_GPUS = 100_000


def _number(text: str, flag: str, what: str) -> tuple[float, str]:
    match = _SIZE.match(text.replace(",", "").replace("_", ""))
    if not match:
        raise UsageError(f"{flag}: '{text}' is not {what}")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag}: '{text}' must be a positive number")
    return value, match.group(2).lower()


def parse_size(text: str, flag: str = "--model-size") -> float:
    """'7b', '7B', '0.5b', '125m', '7e9' -> parameters in billions."""
    value, suffix = _number(str(text), flag, "a model size such as 7b, 0.5b, 125m or 7e9")
    if not suffix and value < 1e4:
        raise UsageError(f"{flag}: '{text}' needs a unit, e.g. {text}b or {text}m")
    if value < 1e6 or value > MAX_PARAMS:
        raise UsageError(f"{flag}: '{text}' is outside 1m-10t parameters")
    return value / 1e9


def parse_count(text: str | float, flag: str = "--examples") -> int:
    """'500', '10k', '1.5m' -> a whole count."""
    value, _ = _number(str(text), flag, "a count such as 500, 10k or 1.5m")
    if value > MAX_EXAMPLES:
        raise UsageError(f"{flag}: '{text}' is implausibly large")
    if value < 1 or value != int(value):
        raise UsageError(f"{flag}: '{text}' is not a whole number of examples")
    return int(value)


# "24GB", "48 GB", "80gib": a GPU named by its memory (GB as advertised, as --vram takes it).
_GPU_MEMORY = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(?:gb|gib|g)\s*$", re.IGNORECASE)


def gpu_memory(text: str) -> str | None:
    """The memory a --gpu value such as '24GB' gives instead of a GPU name (the number), or None."""
    match = _GPU_MEMORY.match(text)
    return match.group(1) if match else None


def parse_vram(text: str | float, flag: str = "--vram") -> float:
    cleaned = str(text).strip().lower().removesuffix("gb").removesuffix("gib").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise UsageError(f"{flag}: '{text}' is not a memory size in GB such as 24") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_VRAM_GB:
        raise UsageError(f"{flag}: '{text}' must be more than 0 and at most {MAX_VRAM_GB:g} GB")
    return value


TOKEN_K = 1024  # "4k" tokens is 4,096: context lengths are powers of two
MAX_SEQ_LEN = 10_000_000


def parse_tokens(text: str | float, flag: str = "--seq-len") -> int:
    """'512', '4k' (4,096), '32k', '128k' -> a whole number of tokens."""
    raw = str(text).strip().lower()
    digits = raw.removesuffix("k")
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError(f"{flag}: '{text}' is not a length in tokens such as 512, 4k or 32k")
    value = int(digits) * (TOKEN_K if raw.endswith("k") else 1)
    if not 1 <= value <= MAX_SEQ_LEN:
        raise UsageError(f"{flag}: '{text}' must be between 1 and {MAX_SEQ_LEN} tokens")
    return value


MAX_NUMBER = 1e9


def parse_number(text: str | float, flag: str, allow_zero: bool = False) -> float:
    """'3', '1.5', '$2.50' -> a positive number (zero too where it means something)."""
    cleaned = str(text).strip().removeprefix("$").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise UsageError(f"{flag}: '{text}' is not a number such as 3 or 1.5") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) or value > MAX_NUMBER:
        lowest = "0 or more" if allow_zero else "more than 0"
        raise UsageError(f"{flag}: '{text}' must be {lowest} and at most {MAX_NUMBER:g}")
    return value


def parse_gpus(text: str | float, flag: str = "--gpus") -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise UsageError(f"{flag}: '{text}' is not a whole number") from None
    if not 1 <= value <= MAX_GPUS:
        raise UsageError(f"{flag}: '{text}' must be between 1 and {MAX_GPUS}")
    return value


def parse_choice(field: ProfileField, text: str) -> str:
    value = str(text).strip().lower()
    allowed = [c.value for c in field.choices]
    if value not in allowed:
        raise UsageError(f"{field.flag}: '{text}' is not one of {', '.join(allowed)}")
    return value


def parse_flag(field: ProfileField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES_WORDS | NO_WORDS:
        return text in YES_WORDS
    raise UsageError(f"{field.flag}: '{value}' is not yes or no")


def parse_value(field: ProfileField, value: Any) -> Any:
    """Parse one raw value (a flag's text, an answer, a JSON value) for a profile field."""
    if field.kind == "flag":
        return parse_flag(field, value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UsageError(f"{field.flag}: expected text or a number, got {type(value).__name__}")
    if field.kind == "choice":
        return parse_choice(field, str(value))
    if field.kind == "size":
        return parse_size(str(value), field.flag)
    if field.kind == "count":
        return parse_count(value, field.flag)
    if field.kind == "vram":
        return parse_vram(value, field.flag)
    if field.kind == "gpus":
        return parse_gpus(value, field.flag)
    if field.kind == "tokens":
        return parse_tokens(value, field.flag)
    if field.kind in ("number", "price"):
        return parse_number(value, field.flag, allow_zero=field.kind == "price")
    text = str(value).strip()
    if not text:
        raise UsageError(f"{field.flag}: empty name")
    return text


@lru_cache(maxsize=4096)
def _parse_scalar(name: str, _kind: str, value: Any) -> Any:
    # The type is part of the key: 1, 1.0 and True are equal keys but not equal inputs.
    return parse_value(FIELDS_BY_NAME[name], value)


def parse_values(raw: dict[str, Any]) -> dict[str, Any]:
    """Parse raw values keyed by field name (None = not given); drop the ones not given.
    Batch files repeat the same few values on every line, so scalar values are parsed once."""
    unknown = sorted(set(raw) - set(FIELDS_BY_NAME))
    if unknown:
        raise UsageError(f"unknown profile key(s): {', '.join(unknown)}")
    values = {
        k: _parse_scalar(k, type(v).__name__, v) if _cacheable(v) else parse_value(FIELDS_BY_NAME[k], v)
        for k, v in raw.items()
        if v is not None
    }
    memory = gpu_memory(values["gpu"]) if isinstance(values.get("gpu"), str) else None
    if memory is not None:  # --gpu 24GB is --vram 24
        if "vram" in values:
            raise UsageError("--gpu and --vram are alternatives: give one")
        del values["gpu"]
        values["vram"] = parse_vram(memory, "--gpu")
    return values


def _cacheable(value: Any) -> bool:
    # Short scalars only, so that the cache stays small whatever the input.
    return isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 64)


def profile_from_values(values: dict[str, Any]) -> Profile:
    """A Profile from already parsed values, after checking flags that exclude each other."""
    if "gpu" in values and "vram" in values:
        raise UsageError("--gpu and --vram are alternatives: give one")
    if "model" in values and "model_size" in values:
        raise UsageError("--model and --model-size are alternatives: give one")
    if means_no_gpu(str(values.get("gpu", ""))) and values.get("gpus", 1) > 1:
        raise UsageError(f"--gpus: cannot be more than 1 with --gpu {values['gpu']}")
    return Profile(**values)


def build_profile(raw: dict[str, Any]) -> Profile:
    """Validate raw values (flag text, JSON values) keyed by field name into a Profile."""
    return profile_from_values(parse_values(raw))
