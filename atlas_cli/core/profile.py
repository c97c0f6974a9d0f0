"""The user's profile, defined once: command-line flags, questionnaire questions, batch keys and
the JSON schema are all generated from PROFILE_FIELDS, so they cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from atlas_cli.core.shell import plain_decimal, shell_word
from atlas_cli.errors import UsageError, closest_name, echoed, forges_lines, meaning, not_one_of, one_line
from atlas_cli.i18n import CYRILLIC, N_, t
from atlas_cli.kb.vocabulary import (
    CLASSIFIER_PIPELINE,
    DATA_KINDS,
    GOALS,
    GPU_MEMORY,
    GROUPS_AT_MOST,
    LABELED_SEQ_LEN,
    MAX_GENERATIONS,
    MAX_GPU_MEMORY_GB,
    MAX_NAME_CHARS,
    MAX_SEQ_LEN,
    MIB_WORDS,
    MIN_GPU_MEMORY_GB,
    MODEL_ACCESS,
    MODEL_VARIANT_CHOICES,
    NO_VLLM_SERVER_STACKS,
    NO_WORDS,
    OF_VIDEO_MEMORY,
    PRIORITIES,
    RUSSIAN_GB_WORDS,
    SFT_DATA_CHOICES,
    STACKS,
    TYPICAL_DATA,
    TYPICAL_TOKENS,
    YES_WORDS,
    Choice,
    means_no_gpu,
)

if TYPE_CHECKING:
    from atlas_cli.kb.catalog import Sampling

FieldKind = Literal[
    "choice", "name", "size", "count", "tokens", "vram", "gpus", "generations", "flag", "number", "price"
]


MAX_AMOUNT = 1e9  # the most any number field takes (epochs, hours, USD)


class ProfileField(NamedTuple):
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
    # The largest value a number field takes, and the smallest (above 0) where one is meaningful.
    most: float = MAX_AMOUNT
    least: float = 0.0

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """The field in words, as the questionnaire's summary shows it (translated there)."""
        return self.name.replace("_", " ")


MAX_EPOCHS = 1000
# A hundredth of a pass: an attacker's review wrote 1e-321 epochs into recipes (1.0e-321 in axolotl's).
LEAST_EPOCHS = 0.01
LEAST_NETWORK_GBPS = 1.0  # Gigabit Ethernet: the slowest link between nodes --network-gbps takes


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
    most: float = MAX_AMOUNT,
    least: float = 0.0,
) -> Any:
    """A Profile field whose metadata is its question (see PROFILE_FIELDS)."""
    spec: dict[str, Any] = {"kind": kind, "group": group, "help": help, "question": question}
    spec |= {"choices": choices, "example": example, "alternative_to": alternative_to, "if_unset": if_unset}
    spec |= {"most": most, "least": least}
    return field(default=default, metadata={"question": spec})


@dataclass(frozen=True, slots=True)
class Profile:
    """What the user told us. Each field carries its question, in the order they are asked;
    flags, questionnaire, batch keys and the JSON Schema are all generated from them."""

    model_access: str = _question(
        "choice",
        "model",
        "Weights: an open model you can download and train (Llama, Qwen, Mistral, Gemma from Hugging "
        "Face), downloaded yet or not; api: only a provider's hosted model (OpenAI, Anthropic, Gemini).",
        "Can you access the model's weights?",
        default="weights",
        choices=MODEL_ACCESS,
    )
    gpu: str | None = _question(
        "name",
        "hardware",
        "GPU from the catalog (id or alias, e.g. rtx-3090, '3090', 'A100 80GB'; an Apple chip with its "
        "memory: 'M3 Max 36GB', 'MacBook Pro M3 Pro 18GB'), or 'none'.",
        "Which GPU will you train on? (e.g. 3090, A100 80GB; 'none' for CPU only or a hosted API)",
        example="rtx-3090",
        if_unset="the fit in memory is not checked",
    )
    vram: float | None = _question(
        "vram",
        "hardware",
        "GPU memory in GB as advertised (e.g. 24; or 24564MiB, as nvidia-smi prints it), instead of "
        "--gpu (with it: an Apple chip's unified memory).",
        "How much memory does each GPU have, in GB?",
        example="24",
        alternative_to="gpu",
    )
    gpus: int = _question(
        "gpus", "hardware", "Number of GPUs (default 1).", "How many GPUs?", default=1, example="2"
    )
    network_gbps: float | None = _question(
        "number",
        "hardware",
        "Network between nodes (more than 8 GPUs), in Gb/s per node, its NICs together: 3200 for a DGX "
        "H100's eight 400 Gb/s InfiniBand ports, 400 for one, 100 for 100 Gb Ethernet. Default: the "
        "network of the GPU's reference system in the catalog, which the table's footer names.",
        "How fast is the network between your nodes, in Gb/s per node? (3200: a DGX's InfiniBand; 100: "
        "100 Gb Ethernet)",
        example="3200",
        if_unset="the network of the GPU's reference system (a DGX H100's: 3200 Gb/s per node)",
        most=1e6,
    )
    ram: float | None = _question(
        "number",
        "hardware",
        "CPU RAM of the machine (of each node) in GB: a plan that offloads more to it than this, or "
        "loads a 4-bit base shard by shard through more, does not fit.",
        "How much CPU RAM does the machine have, in GB?",
        example="64",
        if_unset="the CPU RAM an offloading or shard-loading plan needs is shown, not checked",
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
    # Not given: not said (a base model with preference pairs gets SFT on the chosen answers, then DPO).
    sft_data: str | None = _question(
        "choice",
        "data",
        "yes or no: besides preference pairs, you also have demonstrations for an SFT stage.",
        "Besides the preference pairs, do you have demonstrations (prompt -> ideal answer) for an SFT stage?",
        choices=SFT_DATA_CHOICES,
        if_unset="a base model gets SFT on the chosen answers, then DPO",
    )
    examples: int | None = _question(
        "count",
        "data",
        "How many examples (500, 10k, 1.5m).",
        "How many examples (or documents)? (e.g. 500, 10k)",
        example="10k",
        if_unset="advice that depends on the amount of data is left out",
    )
    # Not given: 512 for labelled examples, 1024 for online RL (2560 for a model that thinks),
    # else 2048 (512 for encoders); memory is sized for it (resolve.usual_seq_len).
    seq_len: int | None = _question(
        "tokens",
        "data",
        "Longest sequence in tokens that training truncates or packs to (512, 4k, 32k; k = 1024).",
        "How long are the longest examples, in tokens? (e.g. 512, 4k, 32k)",
        example="4k",
        if_unset="ft-atlas assumes 2048 tokens (512 for labelled examples and for encoders such as BERT; "
        "1024, a prompt and its completion of 512 each, for online RL such as GRPO, and 2560 for a "
        "model that thinks, whose completions get 2048)",
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
        "Passes over the data, for training time "
        "(default: usual for the objective, e.g. 3 for SFT, 1 from 100k examples).",
        "How many passes (epochs) over the data?",
        example="3",
        if_unset="ft-atlas assumes the usual number for the objective (3 for SFT, 1 from 100k examples)",
        # A review estimated a billion epochs at 57 million days; a thousand passes is already
        # far past any fine-tuning schedule.
        most=MAX_EPOCHS,
        least=LEAST_EPOCHS,
    )
    packing: bool = _question(
        "flag",
        "data",
        "Examples are packed into full-length sequences (TRL packing=True): no compute on padding.",
        "Will you pack short examples into full-length sequences?",
        default=False,
    )
    # Not given: memory is sized at 1; time and recipes take the fastest micro-batch that fits.
    batch_size: int | None = _question(
        "gpus",
        "data",
        "Micro-batch per GPU; unset, memory is sized at 1 and time and recipes take the fastest that "
        "fits, while a given value (1 included) is used for all three.",
        "How many sequences per GPU in one step (micro-batch)?",
        example="4",
        if_unset="memory is sized at 1, and time and recipes use the fastest micro-batch that fits",
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
    # Not given: training_stack (trl, mlx on Apple silicon).
    stack: str | None = _question(
        "choice",
        "constraints",
        "Training software, for memory (logits, activations); default trl, the trainers of "
        "`recipe`'s Python scripts (mlx for a decoder's SFT on Apple silicon, as its recipes).",
        "Which training software will you use?",
        choices=STACKS,
        if_unset="trl, the trainers of ft-atlas's Python recipes (mlx-lm on Apple silicon)",
    )
    vllm: bool = _question(
        "flag",
        "constraints",
        "GRPO/RLOO sample with vLLM on the training GPUs (TRL use_vllm=True, vllm_mode='colocate'): "
        "several times faster sampling, for 30 % of each GPU's memory.",
        "Will GRPO/RLOO sample with vLLM (several times faster than transformers' generate)?",
        default=False,
    )
    # Not given: vLLM colocated on the training GPUs (--vllm) or no vLLM.
    vllm_server_gpus: int | None = _question(
        "gpus",
        "constraints",
        "GRPO/RLOO sample with a vLLM server on this many of the --gpus, the rest train (TRL "
        "vllm_mode='server', `trl vllm-serve`); implies --vllm. Training waits while it samples.",
        "How many of the GPUs should a vLLM server sample on, apart from training?",
        example="1",
        if_unset="vLLM, if used, shares the training GPUs (vllm_mode='colocate')",
    )
    activation_offloading: bool = _question(
        "flag",
        "constraints",
        "Move the checkpointed activations to CPU RAM (TRL activation_offloading=True; SFT, DPO, KTO and "
        "reward training under gradient checkpointing): long sequences fit for host memory.",
        "Will you offload activations to CPU RAM (TRL activation_offloading)?",
        default=False,
    )
    # Not given: the objective's num_generations in data/methods.yaml (GRPO 8, RLOO 2).
    num_generations: int | None = _question(
        "generations",
        "constraints",
        "GRPO/RLOO: completions sampled per prompt (TRL num_generations; default: the method card's, "
        "GRPO 8, RLOO 2).",
        "How many completions should GRPO/RLOO sample per prompt?",
        example="8",
        if_unset="ft-atlas assumes the method card's number (GRPO 8, RLOO 2)",
    )
    # Not given: GENERATION_BATCH (16) per GPU, what the recipes write.
    generation_batch: int | None = _question(
        "gpus",
        "constraints",
        "GRPO/RLOO: completions sampled at once over all GPUs, one optimizer step's worth (TRL "
        "generation_batch_size: per-device batch x GPUs x steps_per_generation); default 16 per GPU. "
        "Decoding is bound by memory bandwidth: fewer at once take more rounds, and longer.",
        "How many completions are sampled at once over all GPUs (TRL generation_batch_size)?",
        example="16",
        if_unset="ft-atlas assumes 16 per GPU, as its recipes write",
    )
    lora_experts: bool = _question(
        "flag",
        "constraints",
        "LoRA also adapts a mixture of experts' routed experts (PEFT target_parameters); all-linear "
        "alone adapts attention and shared layers only.",
        "Should LoRA adapt the routed experts of a mixture of experts too?",
        default=False,
    )

    @property
    def vllm_server(self) -> bool:
        """Online stages sample on a vLLM server's GPUs of its own (TRL vllm_mode='server')."""
        return self.vllm_server_gpus is not None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in PROFILE_FIELDS}

    @property
    def sampling(self) -> Sampling:
        """--num-generations and --generation-batch, as online objectives apply them."""
        from atlas_cli.kb.catalog import Sampling  # the KB's records: not needed to parse a profile

        return Sampling(self.num_generations, self.generation_batch)

    @property
    def data_kind_or_typical(self) -> str:
        return self.data_kind or TYPICAL_DATA[self.goal]

    @property
    def micro_batch(self) -> int:
        """The micro-batch memory is sized at: --batch-size, else 1."""
        return self.batch_size or 1

    @property
    def sized_seq_len(self) -> int | None:
        """The length memory is sized for, when the profile decides it: --seq-len, else a short
        one for labelled examples; None leaves it to the model (memory.default_seq_len)."""
        if self.seq_len is not None:
            return self.seq_len
        return LABELED_SEQ_LEN if self.data_kind_or_typical == "labeled" else None

    @property
    def hardware_unused(self) -> bool:
        """An API user who named no GPU (nor its memory) needs none: nothing is sized on it."""
        named = self.gpu not in (None, "none") or self.vram is not None
        return self.model_access == "api" and not named

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

MAX_PARAMS = 10e12
MAX_EXAMPLES = 10**12
MAX_GPUS = 100_000

# Russian units: "10 тыс.", "1,5 млн", "7 млрд", "7б", "10к"; as the English suffixes k, m, b, t.
_RUSSIAN_UNITS = re.compile(
    r"^(?P<number>.*?)\s*(?P<unit>тыс|тысяч[аи]?|к|млн|миллион(?:а|ов)?|м|млрд|миллиард(?:а|ов)?|(?<=\d)б"
    r"|трлн|триллион(?:а|ов)?)\.?\s*$"
)
_DIGIT_GROUPS = re.compile(r"(?<=\d)[\s\u00a0\u202f]+(?=\d)")  # "10 000": a space between groups
# "24 ГБ", "8 гигов", "24 gigs" -> 24gb, 8gb, 24gb
_TRAILING_GB_WORDS = re.compile(rf"\s*(?:{RUSSIAN_GB_WORDS}|gigs?|gigabytes?)\.?$", re.IGNORECASE)
_VIDEO_MEMORY_SUFFIX = re.compile(rf"{OF_VIDEO_MEMORY}$", re.IGNORECASE)  # "24GB VRAM" -> 24GB
_TRAILING_MIB = re.compile(rf"\s*{MIB_WORDS}\.?$")  # "24564 МиБ" -> 24564mib
# "2,000" or "2.000", a whole count typed in Russian: groups of three digits, not decimals
_GROUPED_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:[,.][0-9]{3})+")
# Answers typed to `ask` in Russian read "1,5" as one and a half. Flags and batch values never
# depend on the language: a command copied from another machine, or shown with --json, means the
# same (only Russian units - "1,5 млн", "12,5 ГБ" - make a comma decimal there).
_RUSSIAN_ANSWERS: ContextVar[bool] = ContextVar("russian_answers", default=False)


def trains_classifier(
    goal: str | None, data_kind: str | None, architecture: str | None, stages: tuple[str, ...]
) -> bool:
    """Whether a decoder's labelled examples train a sequence classifier (a new score head over
    the labels, AutoModelForSequenceClassification) rather than a language model: SFT alone, on
    the classify goal with its usual data, or on labelled data where no goal is asked (`estimate`:
    goal None)."""
    if architecture != "decoder" or stages != CLASSIFIER_PIPELINE:
        return False
    if goal is None:
        return data_kind == "labeled"
    return goal == "classify" and data_kind in (None, "labeled")


@contextmanager
def answers_in_russian(russian: bool) -> Iterator[None]:
    """Within it, numbers are read as a Russian speaker types them (questionnaire answers)."""
    token = _RUSSIAN_ANSWERS.set(russian)
    try:
        yield
    finally:
        _RUSSIAN_ANSWERS.reset(token)


def _russian_suffix(unit: str) -> str:
    if unit.startswith(("тыс", "к")):
        return "k"
    if unit == "б" or unit.startswith(("млрд", "миллиард")):
        return "b"
    if unit.startswith(("трлн", "триллион")):
        return "t"
    return "m"


def plain_number(text: str, russian: bool = False) -> str:
    """A number as typed -> as Python reads it, with an English suffix (k, m, b, t). In Russian
    (an answer typed in Russian, or a Russian unit or "ГБ" in the text) a comma is the decimal comma and
    spaces group digits: "1,5 млн" -> "1.5m", "10 000" -> "10000". In English a comma groups
    thousands: "10,000" -> "10000"."""
    value = text.strip().casefold().replace("ё", "е")
    unit = ""
    found = _RUSSIAN_UNITS.match(value)
    if found and found.group("number"):
        value, unit, russian = found.group("number"), _russian_suffix(found.group("unit")), True
    if russian or _RUSSIAN_ANSWERS.get():
        value = _DIGIT_GROUPS.sub("", value)
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")
    else:
        value = value.replace(",", "")
    value = _TRAILING_MIB.sub("mib", value.replace("_", ""))
    return _TRAILING_GB_WORDS.sub("gb", value) + unit


def _typed_in_russian(text: str) -> bool:
    return _RUSSIAN_ANSWERS.get() or bool(CYRILLIC.search(text))


class NumberForm(NamedTuple):
    """What one kind of number may look like. Every number ft-atlas reads (flags, answers, batch
    values, FT_ATLAS_JOBS) goes through `parse_number` with one of these, so that they all agree:
    ASCII digits, `.` as the decimal point, `,` only between groups of three digits; in Russian
    (answers to `ask` in Russian, or Russian units in the text) `,` is the decimal comma, spaces group
    digits and units are Russian too (plain_number)."""

    what: str  # "a count"
    examples: str  # shown when a value is refused
    suffixes: tuple[tuple[str, float], ...] = (("", 1.0),)  # lower-case suffix -> multiplier
    exponent: bool = False  # 7e9
    whole: bool = False
    zero: bool = False  # 0 means something (a price of 0: your own hardware)


# [0-9], not \d: \d matches every script's digits, and int() or float() would accept them too.
_NUMBER = re.compile(
    r"(?P<mantissa>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?:[eE](?P<exponent>[+-]?[0-9]{1,3}))?[ \t]*(?P<suffix>[A-Za-z]*)"
)
_MAGNITUDES = (("", 1.0), ("k", 1e3), ("m", 1e6), ("b", 1e9))
SIZE = NumberForm(
    N_("a model size"), N_("7b, 0.5b, 125m, 1,500m or 7e9"), (*_MAGNITUDES, ("t", 1e12)), exponent=True
)
COUNT = NumberForm(N_("a count"), N_("500, 1,500, 10k or 1.5m"), _MAGNITUDES, whole=True)
# MiB, as nvidia-smi prints a card's memory, in GiB.
VRAM = NumberForm(
    N_("a memory size in GB"),
    N_("24, 24gb or 80 GiB"),
    (("", 1.0), ("gb", 1.0), ("gib", 1.0), ("mib", 1 / 1024)),
)
WHOLE = NumberForm(N_("a whole number"), N_("1, 8 or 1,024"), whole=True)
TOKEN_K = 1024  # "4k" tokens is 4,096: context lengths are powers of two ("1m": 1,048,576)
TOKENS = NumberForm(
    N_("a length in tokens"),
    N_("512, 4k (4,096), 32k or 1m (1,048,576)"),
    (("", 1.0), ("k", TOKEN_K), ("m", TOKEN_K * TOKEN_K)),
    whole=True,
)
AMOUNT = NumberForm(N_("a number"), N_("3 or 1.5"))
PRICE = NumberForm(N_("an amount in USD"), N_("2.5, or 0 for your own hardware"), zero=True)
PROBABILITY = NumberForm(N_("a probability"), N_("0, 0.05 or 0.1"), zero=True)
_TOO_BIG = 1e30  # beyond every limit below; keeps float() of a huge JSON integer from overflowing


def parse_number(value: str | int | float, flag: str, form: NumberForm) -> tuple[float, str]:
    """(the value, its suffix in lower case); a JSON number is taken as it is. Anything outside
    the grammar is refused with a message that shows the accepted forms."""
    if isinstance(value, bool):
        raise UsageError(t("{flag}: expected {what}, got true/false", flag=flag, what=t(form.what)))
    if isinstance(value, int):
        number, suffix = float(min(abs(value), _TOO_BIG)) * (1 if value >= 0 else -1), ""
    elif isinstance(value, float):
        number, suffix = value, ""
    else:
        typed = value.strip(" \t")
        # "-1" is a number below zero (refused as such below), not a malformed one.
        sign = -1.0 if typed.startswith("-") else 1.0
        typed = typed.removeprefix("-")
        russian = _typed_in_russian(typed)
        if russian and form.whole and _GROUPED_THOUSANDS.fullmatch(typed):
            # "2,000 тикетов" is two thousand: a whole count has no decimals to write (with a
            # unit, "2,500 млн", the comma stays decimal)
            typed = typed.replace(",", "").replace(".", "")
        found = _NUMBER.fullmatch(
            plain_number(typed, True)
            if russian
            else _TRAILING_GB_WORDS.sub("gb", _VIDEO_MEMORY_SUFFIX.sub("", typed))
        )
        multipliers = dict(form.suffixes)
        suffix = found["suffix"].lower() if found else ""
        if found is None or suffix not in multipliers or (found["exponent"] and not form.exponent):
            # A whole number without a unit (1.5k) takes no decimals to point out (a newcomer's
            # review: --gpus 1e9 was told "'.' for decimals").
            form_text = (
                N_(
                    "{flag}: '{text}' is not {what}; write it like {examples} "
                    "(ASCII digits, ',' only between groups of three digits)"
                )
                if form.whole and len(form.suffixes) == 1
                else N_(
                    "{flag}: '{text}' is not {what}; write it like {examples} "
                    "(ASCII digits, '.' for decimals, ',' only between groups of three digits)"
                )
            )
            raise UsageError(
                t(
                    form_text,
                    flag=flag,
                    text=echoed(value),
                    what=t(form.what),
                    examples=t(form.examples),
                )
            )
        exponent = f"e{found['exponent']}" if found["exponent"] else ""
        # "-0" is 0, not -0.0 echoed into profiles and recipes.
        number = sign * float(found["mantissa"].replace(",", "") + exponent) * multipliers[suffix] + 0.0
    if math.isinf(number) and number > 0:  # JSON's 1e400 arrives as inf
        raise UsageError(
            t(
                "{flag}: '{text}' is past the largest number a float holds (about 1.8e308)",
                flag=flag,
                text=echoed(value),
            )
        )
    if not math.isfinite(number) or number < 0 or (number == 0 and not form.zero):
        positive = (
            N_("{flag}: '{text}' must be a positive number or 0")
            if form.zero
            else N_("{flag}: '{text}' must be a positive number")
        )
        raise UsageError(t(positive, flag=flag, text=echoed(value)))
    if form.whole and number != int(number):
        raise UsageError(
            t("{flag}: '{text}' is not {what}", flag=flag, text=echoed(value), what=t(form.what))
        )
    return number, suffix


def parse_size(text: str | int | float, flag: str = "--model-size") -> float:
    """'7b', '7B', '0.5b', '125m', '7e9', '7 млрд' -> parameters in billions. A JSON number below
    10,000 is billions, as `recommend --json` echoes model_size, so that a profile it printed can
    be fed back to --batch; typed text needs its unit."""
    value, suffix = parse_number(text, flag, SIZE)
    if not suffix and value < 1e4:
        if isinstance(text, str):
            needs = t("{flag}: '{text}' needs a unit, e.g. {text}b or {text}m", flag=flag, text=echoed(text))
            raise UsageError(needs)
        value *= 1e9
    if value < 1e6 or value > MAX_PARAMS:
        raise UsageError(t("{flag}: '{text}' is outside 1m-10t parameters", flag=flag, text=echoed(text)))
    return value / 1e9


def parse_count(text: str | int | float, flag: str = "--examples") -> int:
    """'500', '1,500', '10k', '1.5m', '10 тыс.', '1,5 млн' -> a whole count."""
    value, _ = parse_number(text, flag, COUNT)
    if value > MAX_EXAMPLES:
        raise UsageError(t("{flag}: '{text}' is implausibly large", flag=flag, text=echoed(text)))
    return int(value)


# No GPU's name or alias comes near this: a longer --gpu value is refused before any pattern or
# fuzzy match reads it (a hostile batch line of digits cost seconds per line).
MAX_GPU_CHARS = 200


def check_gpu_text(text: str, flag: str = "--gpu") -> str:
    if len(text) > MAX_GPU_CHARS:
        raise UsageError(
            t("{flag}: longer than {limit} characters: no GPU is named so", flag=flag, limit=MAX_GPU_CHARS)
        )
    return text


def gpu_memory(text: str) -> str | None:
    """The memory a --gpu value such as '24GB' gives instead of a GPU name (the number), or None."""
    match = GPU_MEMORY.match(check_gpu_text(text))
    if match is None:
        return None
    russian = bool(CYRILLIC.search(text))
    number = plain_number(match.group(1), russian)
    if re.fullmatch(MIB_WORDS, match.group(2), re.IGNORECASE):
        # MiB as nvidia-smi prints it, in GiB, as --vram reads them (VRAM's "mib")
        return str(float(number) * dict(VRAM.suffixes)["mib"])
    return number


def parse_gpu_memory(text: str, flag: str = "--gpu") -> float:
    """The GB a GPU named by its memory has ('24' of '24GB', from gpu_memory), refusing a size no
    GPU comes near: '3080gb' is more likely the RTX 3080 than 3,080 GB."""
    gb, _ = parse_number(text, flag, VRAM)
    if gb < MIN_GPU_MEMORY_GB:
        raise UsageError(
            t("{flag}: '{text} GB' is less memory than any GPU has", flag=flag, text=echoed(text))
        )
    if gb > MAX_GPU_MEMORY_GB:
        raise UsageError(
            t(
                "{flag}: '{text} GB' is more memory than any GPU has; name the card without the unit "
                "('{text}'), or give its memory (e.g. 24gb)",
                flag=flag,
                text=echoed(text),
            )
        )
    return gb


def parse_vram(text: str | int | float, flag: str = "--vram") -> float:
    """'24', '24gb', '80 GiB' -> the GPU's advertised memory in GB."""
    value, _ = parse_number(text, flag, VRAM)
    if not MIN_GPU_MEMORY_GB <= value <= MAX_GPU_MEMORY_GB:
        raise UsageError(
            t(
                "{flag}: '{text}' must be from {min:g} to {max:g} GB, twice the largest GPU today "
                "(a card's name goes to --gpu: '--gpu 3080', not '--vram 3080gb')",
                flag=flag,
                text=echoed(text),
                min=MIN_GPU_MEMORY_GB,
                max=MAX_GPU_MEMORY_GB,
            )
        )
    return value


def parse_tokens(text: str | int | float, flag: str = "--seq-len") -> int:
    """'512', '4k' (4,096), '32k', '128k' -> a whole number of tokens."""
    value, _ = parse_number(text, flag, TOKENS)
    if not 1 <= value <= MAX_SEQ_LEN:
        raise UsageError(
            t(
                "{flag}: '{text}' must be between 1 and {max} tokens",
                flag=flag,
                text=echoed(text),
                max=MAX_SEQ_LEN,
            )
        )
    return int(value)


def parse_amount(
    text: str | int | float, flag: str, form: NumberForm, most: float = MAX_AMOUNT, least: float = 0.0
) -> float:
    """'3', '1.5', '$2.50', '2,5' in Russian -> epochs, hours or USD (AMOUNT; PRICE also takes 0)."""
    cleaned = text.strip().removeprefix("$") if isinstance(text, str) else text
    value, _ = parse_number(cleaned, flag, form)
    if value > most:
        raise UsageError(
            t("{flag}: '{text}' must be at most {max:,.12g}", flag=flag, text=echoed(text), max=most)
        )
    if value < least:
        raise UsageError(
            t("{flag}: '{text}' must be at least {min:g}", flag=flag, text=echoed(text), min=least)
        )
    return value


def parse_whole(text: str | int | float, flag: str, low: int, high: int) -> int:
    """A whole number from `low` to `high` (--gpus, --top, FT_ATLAS_JOBS)."""
    value, _ = parse_number(text, flag, WHOLE)
    if not low <= value <= high:
        raise UsageError(
            t(
                "{flag}: '{text}' must be between {low} and {high}",
                flag=flag,
                text=echoed(text),
                low=low,
                high=high,
            )
        )
    return int(value)


def parse_gpus(text: str | int | float, flag: str = "--gpus") -> int:
    return parse_whole(text, flag, 1, MAX_GPUS)


def choice_key(text: str) -> str:
    """How choices and their aliases compare: "Функция награды", "функция-награды" agree."""
    return re.sub(r"[\s_\-]+", " ", text.casefold().replace("ё", "е")).strip()


def parse_choice(field: ProfileField, text: str) -> str:
    """A choice by its value or one of its aliases (Russian names: "чат", "предпочтения")."""
    key = choice_key(str(text))
    for choice in field.choices:
        if key in (choice_key(name) for name in (choice.value, *choice.aliases)):
            return choice.value
    values = [c.value for c in field.choices]
    message = not_one_of(field.flag, text, values, suggest=False)  # aliases count: _meant_choice
    meant = _meant_choice(field, key, values)
    raise UsageError(meaning(message, meant))


def _meant_choice(field: ProfileField, key: str, values: list[str]) -> str | None:
    """A flag takes no everyday word (a typo is refused, not guessed), but says which it means (a
    newcomer's review: --goal chatbot or 'chat bot', which ask reads as chat; --data-kind demos;
    --optimizer adam): an everyday word, else the one close value, else the one value that
    begins with the first four letters."""
    joined = {key, key.replace(" ", "")}
    word = next((c.value for c in field.choices if joined & {choice_key(w) for w in c.words}), None)
    if word is not None:
        return word
    return closest_name(key, values)


def parse_flag(field: ProfileField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES_WORDS | NO_WORDS:
        return text in YES_WORDS
    raise UsageError(t("{flag}: '{value}' is not yes or no", flag=field.flag, value=echoed(value)))


def parse_value(field: ProfileField, value: Any) -> Any:
    """Parse one raw value (a flag's text, an answer, a JSON value) for a profile field."""
    if field.kind == "flag":
        return parse_flag(field, value)
    if (
        isinstance(value, bool)
        and field.kind == "choice"
        and {c.value for c in field.choices} == {"yes", "no"}
    ):
        return "yes" if value else "no"  # JSON true/false for a yes/no question, as flags take it
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UsageError(
            t("{flag}: expected text or a number, got {type}", flag=field.flag, type=type(value).__name__)
        )
    if field.kind == "choice":
        return parse_choice(field, str(value))
    if field.kind == "size":
        return parse_size(value, field.flag)
    if field.kind == "count":
        return parse_count(value, field.flag)
    if field.kind == "vram":
        return parse_vram(value, field.flag)
    if field.kind == "gpus":
        return parse_gpus(value, field.flag)
    if field.kind == "generations":  # TRL refuses fewer than 2: a group's advantages need two
        return parse_whole(value, field.flag, 2, MAX_GENERATIONS)
    if field.kind == "tokens":
        return parse_tokens(value, field.flag)
    if field.kind in ("number", "price"):
        form = PRICE if field.kind == "price" else AMOUNT
        return parse_amount(value, field.flag, form, field.most, field.least)
    text = str(value).strip()
    if not text:
        raise UsageError(t("{flag}: empty name", flag=field.flag))
    if forges_lines(text):
        # An attacker's review: a newline in --model forged a line of the table's notes.
        raise UsageError(
            t(
                "{flag}: '{value}' holds a control character: no name or path does",
                flag=field.flag,
                value=one_line(echoed(text)),
            )
        )
    if field.name == "gpu":
        return check_gpu_text(text, field.flag)
    if len(text) > MAX_NAME_CHARS:
        raise UsageError(
            t(
                "{flag}: longer than {limit} characters: no name or path is",
                flag=field.flag,
                limit=MAX_NAME_CHARS,
            )
        )
    return text


@lru_cache(maxsize=4096)
def _parse_scalar(name: str, _kind: str, value: Any, _russian: bool) -> Any:
    # The type is part of the key: 1, 1.0 and True are equal keys but not equal inputs; so is how
    # numbers are read: "1,5" is 15 on a flag and 1.5 in a Russian answer.
    return parse_value(FIELDS_BY_NAME[name], value)


def parse_values(raw: dict[str, Any]) -> dict[str, Any]:
    """Parse raw values keyed by field name (None = not given); drop the ones not given.
    Batch files repeat the same few values on every line, so scalar values are parsed once."""
    unknown = sorted(set(raw) - set(FIELDS_BY_NAME))
    if unknown:
        raise UsageError(t("unknown profile key(s): {keys}", keys=", ".join(unknown)))
    values = {
        k: _parse_scalar(k, type(v).__name__, v, _RUSSIAN_ANSWERS.get())
        if _cacheable(v)
        else parse_value(FIELDS_BY_NAME[k], v)
        for k, v in raw.items()
        if v is not None
    }
    memory = gpu_memory(values["gpu"]) if isinstance(values.get("gpu"), str) else None
    if memory is not None:  # --gpu 24GB is --vram 24
        if "vram" in values:
            raise UsageError(t("--gpu and --vram are alternatives: give one"))
        del values["gpu"]
        values["vram"] = parse_gpu_memory(memory)
    return values


def _cacheable(value: Any) -> bool:
    # Short scalars only, so that the cache stays small whatever the input.
    return isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 64)


def profile_from_values(values: dict[str, Any], *, gpus_to_come: bool = False) -> Profile:
    """A Profile from already parsed values, after checking flags that exclude each other.
    gpus_to_come: the GPU count is still to be asked (`ask`), and what depends on it is checked
    when it is answered."""
    if means_no_gpu(str(values.get("gpu", ""))) and "vram" in values:
        raise UsageError(t("--vram: there is no GPU memory with --gpu {gpu}", gpu=values["gpu"]))
    if means_no_gpu(str(values.get("gpu", ""))) and values.get("gpus", 1) > 1:
        raise UsageError(t("--gpus: cannot be more than 1 with --gpu {gpu}", gpu=values["gpu"]))
    if values.get("network_gbps", LEAST_NETWORK_GBPS) < LEAST_NETWORK_GBPS:
        # A review: 0.0001 Gb/s was taken, and a plan timed at 472 million hours.
        raise UsageError(
            t(
                "--network-gbps {value:g}: below 1 Gb/s (Gigabit Ethernet), which no cluster's nodes go "
                "under; give the node's network in Gb/s, e.g. 100 for 100 Gb Ethernet",
                value=values["network_gbps"],
            )
        )
    if values.get("data_kind") == "none" and values.get("examples"):
        raise UsageError(
            t(
                "--examples counts training examples, and --data-kind none says there are none yet: drop "
                "--examples, or say what the data is with --data-kind"
            )
        )
    _check_round_fits_the_set(values)
    server = values.get("vllm_server_gpus")
    if server is not None:
        if values.get("vllm") is False:
            raise UsageError(t("--vllm-server-gpus samples with vLLM, which vllm: false turns off: give one"))
        if not (gpus_to_come and "gpus" not in values):
            check_training_left(server, values.get("gpus", 1))
        check_server_stack(values.get("stack"))
        values["vllm"] = True
    return Profile(**values)


def _check_round_fits_the_set(values: Mapping[str, Any]) -> None:
    """A generation round samples whole groups for its prompts, and TRL's RepeatSampler drops a
    round it cannot fill (`[chunk for chunk in indexes if len(chunk) == self.batch_size]`): a
    round of more prompts than --examples gives trains nothing (a review saw one written)."""
    batch, examples = values.get("generation_batch"), values.get("examples")
    if batch is None or examples is None:
        return
    # Without --num-generations, the largest group an objective samples by default (GRPO's).
    group = values.get("num_generations") or GROUPS_AT_MOST
    if -(-batch // group) > examples:
        raise UsageError(
            t(
                "--generation-batch {batch}: a round of {prompts:,} prompts' groups of {group} is more than "
                "the {examples:,} prompts --examples gives, and TRL drops a round it cannot fill, so nothing "
                "would train: give at most {most}",
                batch=batch,
                prompts=-(-batch // group),
                group=group,
                examples=examples,
                most=examples * group,
            )
        )


def check_training_left(server: int, gpus: int) -> None:
    """A vLLM server takes some of the GPUs: at least one must be left to train."""
    if server >= gpus:
        raise UsageError(
            t(
                "--vllm-server-gpus {server}: leaves no GPU to train on (--gpus {gpus}); a server needs "
                "several CUDA GPUs: give --gpus as the training GPUs and the server's together",
                server=server,
                gpus=gpus,
            )
        )


def check_server_stack(stack: str | None) -> None:
    """Unsloth samples with its own vLLM on the training GPU: no server beside it."""
    if stack in NO_VLLM_SERVER_STACKS:
        raise UsageError(
            t(
                "--vllm-server-gpus with --stack unsloth: Unsloth samples with its own vLLM on the "
                "training GPU (fast_inference), not with a server; leave out one of them"
            )
        )


def build_profile(raw: dict[str, Any]) -> Profile:
    """Validate raw values (flag text, JSON values) keyed by field name into a Profile."""
    return profile_from_values(parse_values(raw))


def command_line(answers: Mapping[str, Any], command: str = "recommend") -> str:
    """The `ft-atlas recommend` (or `recipe`) command that reproduces these answers."""
    parts = [f"ft-atlas {command}"]
    for spec in PROFILE_FIELDS:
        value = answers.get(spec.name)
        if value is None or value == spec.default:
            continue
        if spec.kind == "flag":
            parts.append(spec.flag if value else "")
            continue
        if spec.kind == "size":
            value = plain_decimal(float(value)) + "b"
        elif isinstance(value, float):
            value = plain_decimal(value)
        parts.append(f"{spec.flag} {shell_word(str(value))}")
    return " ".join(p for p in parts if p)
