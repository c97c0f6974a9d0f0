"""The guided questionnaire behind `ft-atlas ask`: which questions, in which order, and how a
typed answer becomes a profile value.

Questions, choices and defaults come from PROFILE_FIELDS; this module adds only the order-aware
skip logic and friendly parsing. Terminal input and output go through the `Terminal` protocol,
so the logic is tested without a terminal and the CLI decides where prompts are written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from atlas_cli.core.models import HUB_ID, FoundModel, find_model, named_variant
from atlas_cli.core.names import looks_instruct
from atlas_cli.core.nodes import GPUS_PER_NODE
from atlas_cli.core.profile import (
    FIELDS_BY_NAME,
    PROFILE_FIELDS,
    ProfileField,
    answers_in_russian,
    check_gpu_text,
    check_training_left,
    choice_key,
    gpu_memory,
    parse_count,
    parse_gpu_memory,
    parse_size,
    parse_value,
    parse_vram,
)
from atlas_cli.core.resolve import (
    COUNT_WORDS,
    check_chip_memory,
    check_gpu_count,
    check_vllm_server,
    chip_and_memory,
    counted_gpu,
    laptop_memory,
    name_and_memory,
    resolve_hardware,
    resolve_model,
    sold_sizes,
)
from atlas_cli.errors import UnknownName, UsageError, echoed
from atlas_cli.i18n import N_, language, nt, t
from atlas_cli.kb.catalog import (
    LAPTOP_GPU,
    LAPTOP_MEMORY_ANSWER,
    NOT_LAPTOP_CARDS,
    Catalog,
    free_tier_named,
    is_laptop_gpu,
)
from atlas_cli.kb.records import Gpu
from atlas_cli.kb.vocabulary import (
    BACK_WORDS,
    DONT_KNOW_OPENINGS,
    DONT_KNOW_WORDS,
    HELP_WORDS,
    IMAGE_STEMS,
    IMAGE_WORDS,
    NO_GPU_PHRASE,
    NO_WORDS,
    SYSTEM_RAM,
    SYSTEM_RAM_CLAUSE,
    TYPICAL_DATA,
    YES_WORDS,
    means_no_gpu,
)

# Where a newcomer reads which GPU a machine has, and how much memory it holds.
FINDING_THE_GPU = N_(
    "To find it: nvidia-smi prints an NVIDIA GPU's name and memory (MiB); on Windows, Task Manager > "
    "Performance > GPU; on a Mac, Apple menu > About This Mac shows the chip and its memory. No NVIDIA, "
    "AMD or Apple GPU: answer none."
)

# How a newcomer estimates a length in tokens without a tokenizer (a review: never said). OpenAI's
# "What are tokens and how to count them?": ~4 characters of common English text, ~3/4 of a word.
COUNTING_TOKENS = N_(
    "A token is about 4 characters of English text, or 3/4 of a word (100 tokens ~ 75 words); other "
    "languages and code take more. A model's tokenizer counts them exactly."
)

Answers = dict[str, Any]
# A question as it was asked: its index, and the answers, unset fields and carried values before it.
Snapshot = tuple[int, Answers, list[str], Answers]


class Terminal(Protocol):
    def ask(self, prompt: str) -> str:
        """Show the prompt and return one typed line (EOFError at end of input)."""

    def say(self, text: str) -> None:
        """Show a line of explanation."""


# "No" to "can you access the weights?" is what a newcomer who has not downloaded a model yet says:
# it would take every local method away, so it is asked again.
NOT_DOWNLOADED_YET = N_(
    "not downloaded yet is fine: answer weights for an open model you can download (Llama, Qwen, "
    "Mistral, Gemma from Hugging Face), api for only a provider's hosted model (OpenAI, Anthropic, Gemini)"
)


# A hosted model left unnamed: the tuning each provider offers is shown, no size assumed.
API_MODEL_UNSET = N_("every provider's hosted tuning is shown; name the model for the one that serves it")


def _api_only(answers: Answers) -> bool:
    return answers.get("model_access") == "api"


def _no_gpu(answers: Answers) -> bool:
    return means_no_gpu(str(answers.get("gpu", "")))


def _trains_nothing(answers: Answers) -> bool:
    """No local training: API only, no GPU, or no data."""
    return _api_only(answers) or _no_gpu(answers) or answers.get("data_kind") == "none"


def _never(_: Answers) -> bool:
    return False


API_MODEL_QUESTION = N_(
    "Which hosted model? (its API name, e.g. gpt-4.1-mini, gemini-3.5-flash, claude-sonnet-4-5)"
)

API_MODEL_HELP = (
    N_(
        "The model's name in its provider's API: it says which provider can tune it and which "
        "endpoint a prompting script calls. Any name is taken; nothing is sized."
    ),
    N_("For example: gpt-4.1-mini, gemini-3.5-flash, claude-sonnet-4-5"),
    N_(
        "\"I don't know\" or Enter: not set (every provider's offer is listed). < goes back to the "
        "previous question."
    ),
)

# A question is skipped when its predicate holds for the answers so far.
SKIP: dict[str, Callable[[Answers], bool]] = {
    "gpu": _api_only,
    "gpus": lambda a: _api_only(a) or _no_gpu(a),
    # With an API the model's name says which provider tunes it and which endpoint serves it.
    "model": _never,
    # Read from the model's name, catalog entry or chat template; a flag overrides it.
    "model_variant": lambda a: True,
    # Asked with an API too: documents decide RAG, examples decide few-shot or provider tuning.
    "data_kind": _never,
    "sft_data": lambda a: a.get("data_kind") != "preferences",
    "examples": lambda a: a.get("data_kind") == "none",
    "seq_len": lambda a: _api_only(a) or a.get("data_kind") == "none",
    "tokens_per_example": lambda a: _trains_nothing(a) or a.get("examples") is None,
    "epochs": lambda a: _trains_nothing(a) or a.get("examples") is None,
    # Set by flags when they matter; a newcomer is not asked about prices, limits, micro-batches
    # or software.
    # A classifier trains one labelled text per row (AutoModelForSequenceClassification): nothing
    # to pack (a newcomer's review was asked about packing for ticket classification).
    "packing": lambda a: (
        _trains_nothing(a)
        or a.get("examples") is None
        or (a.get("goal") == "classify" and a.get("data_kind") in (None, "labeled"))
    ),
    "ram": lambda a: True,
    # Asked of who trains across nodes: their network sets how long sharded training waits.
    "network_gbps": lambda a: _api_only(a) or _no_gpu(a) or a.get("gpus", 1) <= GPUS_PER_NODE,
    "price_per_hour": lambda a: True,
    "max_hours": lambda a: True,
    "budget_usd": lambda a: True,
    "batch_size": lambda a: True,
    "stack": lambda a: True,
    "lora_experts": lambda a: True,
    "activation_offloading": lambda a: True,
    "num_generations": lambda a: True,
    "generation_batch": lambda a: True,
    # Asked only of who samples online (a reward function) on a GPU of their own.
    "vllm": lambda a: a.get("data_kind") != "reward-function" or _api_only(a) or _no_gpu(a),
    # Asked of who samples with vLLM on several GPUs: a server may take some of them.
    "vllm_server_gpus": lambda a: not a.get("vllm") or a.get("gpus", 1) < 2,
    "knowledge_changes": lambda a: a.get("goal") != "knowledge",
    "many_tasks": lambda a: _api_only(a) or _no_gpu(a) or a.get("data_kind") == "none",
}


def default_for(spec: ProfileField, answers: Answers, carried: Answers | None = None) -> Any:
    """What Enter answers: a value an earlier answer carried ("2,000 support tickets" carries
    2000 examples), the goal's usual data, or the field's default."""
    if carried and spec.name in carried:
        return carried[spec.name]
    if spec.name == "data_kind":
        return TYPICAL_DATA[answers.get("goal") or FIELDS_BY_NAME["goal"].default]
    return spec.default


# Example answers that `?` shows, beyond the profile field's own example.
EXAMPLE_ANSWERS = {
    "gpu": N_("3090, RTX 4090, A100 80GB, M3 Max, 24gb, none"),
    "model": N_("llama-3.1-8b, Qwen/Qwen3-8B, ./my-model/, 7b, 500m"),
    "examples": N_("500, 10k, 1.5m"),
    "seq_len": "512, 2k, 4k, 32k",
    "tokens_per_example": "200, 512, 1k",
    "epochs": "1, 2, 3",
    # A choice may be described in words: the one choice it names is taken (_named_within).
    "goal": N_(
        'chat ("a customer support chatbot"), knowledge ("answers from our documents"), classify '
        '("sentiment of reviews"), adapt ("our house style")'
    ),
    "data_kind": N_(
        'demonstrations ("2,000 support tickets with agent replies"), text ("our documents"), labeled '
        '("reviews with labels"), preferences ("chosen/rejected pairs")'
    ),
}
MAX_GPU_GUESSES = 5


CHIP_MEMORY_HELP = N_(
    'The memory your Mac was bought with: Apple menu > About This Mac shows it ("Memory 16 GB"). '
    "The {chip} is sold with {sizes} GB. < goes back to the GPU question."
)
GPU_PICK_HELP = N_(
    "The numbers are the catalog's cards nearest to what you typed: pick yours (nvidia-smi or "
    "Apple menu > About This Mac names it). None of them: type its memory (24gb), another name, "
    "or Enter. < goes back to the GPU question."
)


@dataclass
class Interview:
    """Asks every question that applies and is not prefilled; records what was defaulted.

    At every question `?` explains it, `<` goes back to the previous one, and "I don't know" (or
    Enter) takes the default and says what it is. A summary is confirmed before the plan."""

    catalog: Catalog
    terminal: Terminal
    answers: Answers = field(default_factory=dict)
    defaulted: list[str] = field(default_factory=list)
    # Questions answered with "I don't know" that have no default: shown in the summary.
    unset: list[str] = field(default_factory=list)
    # Answers read from a pipe or file: a refused one stops the interview (UsageError) instead of
    # being asked again, which would take the next line for it and shift every later answer.
    piped: bool = False
    # Values an answer carried for a later question ("2,000 support tickets": 2000 examples):
    # offered as that question's default, not taken silently, so that piped answers keep their order.
    carried: Answers = field(default_factory=dict)
    # The variant each model answer was read as (its name, catalog entry or chat template), for
    # the summary: a variant the stored id keeps is not repeated as model_variant.
    read_variants: dict[str, str] = field(default_factory=dict)
    told_images: bool = False  # an answer spoke of images, and was told they are not planned

    def questions(self) -> list[ProfileField]:
        return [f for f in PROFILE_FIELDS if f.alternative_to is None]

    def already_answered(self, spec: ProfileField) -> bool:
        alternatives = [f.name for f in PROFILE_FIELDS if f.alternative_to == spec.name]
        return any(self.answers.get(name) is not None for name in [spec.name, *alternatives])

    def applies(self, spec: ProfileField) -> bool:
        if spec.name == "gpus" and self._one_chip():
            return False
        return not self.already_answered(spec) and not SKIP.get(spec.name, _never)(self.answers)

    def _one_chip(self) -> bool:
        """A Mac: its GPU is the machine's own chip, one per machine (resolve refuses several)."""
        gpu = self.catalog.gpus.get(str(self.answers.get("gpu")))
        return gpu is not None and gpu.unified

    def run(self, interactive: bool) -> Answers:
        if interactive:
            self._interview()
        else:
            for spec in self.questions():
                if self.applies(spec):
                    self._default(spec)
        return self.answers

    def _interview(self) -> None:
        specs = self.questions()
        # Each question asked, with the answers as they were before it: going back restores them,
        # so that a later question skipped or asked because of an earlier answer follows the change.
        asked: list[Snapshot] = []
        index = 0
        while True:
            if index == len(specs):
                if not asked or self._confirmed():
                    return
                index = self._back(asked)
                continue
            spec = specs[index]
            if not self.applies(spec):
                index += 1
                continue
            before = (index, dict(self.answers), list(self.unset), dict(self.carried))
            if self._ask_until_valid(spec):
                asked.append(before)
                index += 1
            elif asked:
                index = self._back(asked)
            else:
                self.terminal.say("  " + t("This is the first question: there is nothing to go back to."))

    def _back(self, asked: list[Snapshot]) -> int:
        index, self.answers, self.unset, self.carried = asked.pop()
        return index

    def _default(self, spec: ProfileField) -> None:
        """Without a terminal nothing is stored (the engine applies the same defaults) but what an
        answer carried, which the engine cannot know."""
        value = default_for(spec, self.answers, self.carried)
        if spec.name in self.carried:
            self.answers[spec.name] = value
        self.defaulted.append(f"{spec.flag}={t('(not set)') if value is None else _show(value)}")

    def _ask_until_valid(self, spec: ProfileField) -> bool:
        """Ask until the answer is valid; False when the user asked to go back."""
        default = default_for(spec, self.answers, self.carried)
        self._explain(spec)
        # A question without a default says what Enter does: a blank answer is not a silent guess.
        shown = t("Enter: I don't know") if default is None else _show(default)
        question = API_MODEL_QUESTION if spec.name == "model" and _api_only(self.answers) else spec.question
        prompt = f"{t(question)} [{shown}]: "
        while True:
            text = self.terminal.ask(prompt).strip()
            word = _word(text)
            # A question asked back ("что такое веса?", "what is an adapter?") wants the help, not
            # a reading of its words (a newcomer's review: it was taken as "weights").
            if word in HELP_WORDS or (text.endswith("?") and " " in text):
                self._help(spec)
                continue
            if word in BACK_WORDS:
                return False
            saved = dict(self.answers), list(self.unset)
            try:
                if not text or word in DONT_KNOW_WORDS or word.startswith(DONT_KNOW_OPENINGS):
                    self._take_default(spec, default, typed=bool(text))
                else:
                    with answers_in_russian(language() == "ru"):
                        self.answers.update(self.parse(spec, text))
                self._check_server_left()
                return True
            except UsageError as error:
                self.answers, self.unset = saved
                if self.piped:
                    raise UsageError(f"{t(spec.question)} {_without_flag(str(error))}") from None
                self.terminal.say(
                    "  ✗ " + t("{error} (? for help, < to go back)", error=_without_flag(str(error)))
                )

    def _take_default(self, spec: ProfileField, default: Any, typed: bool) -> None:
        if default is not None:
            self.answers[spec.name] = default
            if typed:
                self.terminal.say("  → " + t("{value}, the default.", value=_show(default)))
            return
        self.unset.append(spec.name)
        self.terminal.say("  → " + t("not set: {what}.", what=self._if_unset(spec)))

    def _if_unset(self, spec: ProfileField) -> str:
        """What an unanswered question means: a hosted model has no size to assume."""
        if spec.name == "model" and _api_only(self.answers):
            return t(API_MODEL_UNSET)
        return t(spec.if_unset) if spec.if_unset else t("the default applies")

    def _explain(self, spec: ProfileField) -> None:
        for number, choice in enumerate(spec.choices, start=1):
            self.terminal.say(f"  {number}. {choice.value:<16} {t(choice.help)}")

    def _help(self, spec: ProfileField) -> None:
        if spec.name == "model" and _api_only(self.answers):
            self._say_all(API_MODEL_HELP)
            return
        self.terminal.say(f"  {t(spec.help)}")
        if spec.name == "gpu":
            self.terminal.say("  " + t(FINDING_THE_GPU))
        if spec.kind == "tokens":
            self.terminal.say("  " + t(COUNTING_TOKENS))
        if spec.choices:
            self.terminal.say("  " + t("Answer with a number or a name from the list above."))
        elif spec.kind == "flag":
            self.terminal.say("  " + t("Answer y or n."))
        examples = EXAMPLE_ANSWERS.get(spec.name, spec.example)
        if examples:
            self.terminal.say("  " + t("For example: {examples}", examples=t(examples)))
        default = default_for(spec, self.answers, self.carried)
        unknown = _show(default) if default is not None else t("not set ({what})", what=self._if_unset(spec))
        self.terminal.say(
            "  "
            + t('"I don\'t know" or Enter: {default}. < goes back to the previous question.', default=unknown)
        )

    def _say_all(self, lines: tuple[str, ...]) -> None:
        for line in lines:
            self.terminal.say("  " + t(line))

    def _confirmed(self) -> bool:
        """Show every answer and ask before computing: False to go back and change the last one."""
        self.terminal.say("")
        self.terminal.say(t("Your answers:"))
        for spec in PROFILE_FIELDS:
            value = self.answers.get(spec.name)
            label = t(spec.label)
            if value is not None:
                self.terminal.say(f"  {label}: {_show_value(spec, value)}")
            elif spec.name in self.unset:
                self.terminal.say(f"  {label}: " + t("not set ({what})", what=self._if_unset(spec)))
            elif spec.name == "model_variant" and (read := self._read_variant()) is not None:
                # Shown though not asked: an instruct checkpoint trained as a base one changes the plan.
                self.terminal.say(f"  {label}: {read} " + t("(read from the model)"))
        while True:
            reply = _word(self.terminal.ask(t("Compute the plan? [Y/n; < to change the last answer]: ")))
            if reply == "" or reply in YES_WORDS:
                return True
            if reply in BACK_WORDS or reply in NO_WORDS:
                return False
            if self.piped:
                raise UsageError(t("'{reply}' does not answer 'Compute the plan?' (y or n)", reply=reply))
            self.terminal.say(
                "  " + t("Enter computes the plan; < (or n) goes back one question, and again.")
            )

    def _read_variant(self) -> str | None:
        """The variant the model answer was read as; None without a model of its weights."""
        model = self.answers.get("model")
        if not isinstance(model, str) or _api_only(self.answers):
            return None
        return self.read_variants.get(model) or named_variant(self.catalog, model)

    def parse(self, spec: ProfileField, text: str) -> Answers:
        """One typed answer -> the profile values it sets (may be an alternative field)."""
        if spec.name == "model_access" and _word(text) in NO_WORDS:
            raise UsageError(t(NOT_DOWNLOADED_YET))
        if spec.choices:
            return {spec.name: self._parse_choice(spec, text)}
        if spec.name == "gpu":
            return self._parse_gpu(text)
        if spec.name == "model":
            return self._parse_model(text)
        if spec.kind == "flag":
            return {spec.name: parse_value(spec, _yes_no(text))}
        if spec.name == "gpus":
            return {"gpus": self._parse_gpus(spec, text)}
        if spec.name == "examples":
            return {"examples": self._parse_examples(spec, text)}
        if spec.name == "vllm_server_gpus":
            return {spec.name: self._parse_server(spec, text)}
        return {spec.name: parse_value(spec, text)}

    def _parse_gpus(self, spec: ProfileField, text: str) -> int:
        """A GPU count, in figures or words."""
        word = _word(text)
        count = COUNT_WORDS[word] if word in COUNT_WORDS else int(parse_value(spec, text))
        check_gpu_count(self.catalog, count, asked=True)  # "4090": a card, asked again
        return count

    def _check_server_left(self) -> None:
        """A vLLM server given as a flag must leave some GPUs to train, checked as soon as the GPUs
        are counted, by the count question (its default too) or by the GPU answer ("2x H100"):
        a review lost every answer to a refusal after the last one."""
        server, gpus = self.answers.get("vllm_server_gpus"), self.answers.get("gpus")
        if server is not None and gpus is not None:
            check_training_left(int(server), int(gpus))

    def _parse_server(self, spec: ProfileField, text: str) -> int:
        """A vLLM server's GPUs, checked as they are answered: some GPUs left to train, and the
        model's attention heads split over the server's (a review: 8 of 8, or 3 for Qwen2.5-7B,
        were refused only once the whole questionnaire was done)."""
        server = int(parse_value(spec, text))
        check_training_left(server, int(self.answers.get("gpus", 1)))
        self._check_server_heads(server)
        return server

    def check_prefilled(self) -> None:
        """Flags given together that do not go together, before the first question: a server whose
        GPUs the model's heads do not split over (a review: refused after the last answer), and a
        GPU or model no name resolves to (a newcomer's review: a mistyped --gpu lost every answer)."""
        answers = self.answers
        if "gpu" in answers or "vram" in answers:
            resolve_hardware(
                self.catalog, answers.get("gpu"), answers.get("vram"), int(answers.get("gpus") or 1)
            )
        if "model" in answers or "model_size" in answers:
            api = answers.get("model_access") == "api"
            try:
                resolve_model(self.catalog, answers.get("model"), answers.get("model_size"), api=api)
            except UnknownName:
                raise
            except UsageError:
                # An API-served name (gpt-4o) resolves once access is answered 'api', which is asked
                # first (a diff review: `ask --model gpt-4o` was refused before it).
                if "model_access" in answers:
                    raise
        server = self.answers.get("vllm_server_gpus")
        if server is not None and ("model" in self.answers or "model_size" in self.answers):
            self._check_server_heads(int(server))

    def _check_server_heads(self, server: int) -> None:
        with contextlib.suppress(UnknownName):
            model = resolve_model(self.catalog, self.answers.get("model"), self.answers.get("model_size"))
            check_vllm_server(model, server)

    def _parse_examples(self, spec: ProfileField, text: str) -> Any:
        """A count, or one said in words ("около 3000", "5000 штук", "~5k examples"): a newcomer's
        review was refused each of them."""
        try:
            return parse_value(spec, text)
        except UsageError:
            count = _leading_count(text)
            if count is None:
                raise
        self.terminal.say("  " + t("Taken as {value}.", value=f"{count:,}"))
        return count

    def _parse_choice(self, spec: ProfileField, text: str) -> str:
        # Said before the reading, which may refuse the answer and ask again.
        if spec.name in ("goal", "data_kind") and not self.told_images and _says_images(text):
            self.told_images = True
            self.terminal.say(
                "  "
                + t(
                    "Images: ft-atlas plans training on text. Fine-tuning a vision-language model on "
                    "images (its processor, and the image tokens in memory and time) is not modelled: "
                    "the plans are for the text alone."
                )
            )
        value = pick_choice(spec, text)
        if choice_key(text) == choice_key(value) or _listed_number(text, len(spec.choices)) is not None:
            return value
        # Abbreviated or in words: say what was read, so that a wrong reading is seen now.
        count = _leading_count(text) if spec.name == "data_kind" and value != "none" else None
        if count is None:
            self.terminal.say("  " + t("Taken as {value}.", value=value))
            return value
        # "2,000 support tickets" also answers how many: offered when that question comes.
        self.carried["examples"] = count
        taken = nt(
            "Taken as {value}, {count} example.",
            "Taken as {value}, {count} examples.",
            count,
            value=value,
            count=count,
        )
        self.terminal.say("  " + taken)
        return value

    def _parse_gpu(self, text: str) -> Answers:
        """A GPU by name, or its memory. A guess is never taken on Enter: a wrong GPU silently
        changes every plan, so a bare number and a near name are both confirmed."""
        text = MEMORY_CONNECTOR.sub(" ", OWNING_PHRASE.sub("", check_gpu_text(text, "GPU"), count=1))
        # "no graphics card, MacBook Pro M1 Pro" names a GPU after all, which is read: only a
        # phrase beside no GPU's name is none.
        if NO_GPU_PHRASE.search(text):
            rest = NO_GPU_PHRASE.sub(" ", text).strip(" ,;")
            if not rest or not self.catalog.gpu_guesses(rest, 1):
                self.terminal.say("  " + t("Taken as none: no GPU (the CPU only, or a hosted API)."))
                return {"gpu": "none"}
            text = rest
        with contextlib.suppress(UnknownName):
            return self._parse_gpu_name(text)
        if ARTICLE.match(text):
            text = ARTICLE.sub("", text, count=1)
            with contextlib.suppress(UnknownName):
                return self._parse_gpu_name(text)
        unit_left_out = NAME_THEN_BARE_MEMORY.match(text)
        if unit_left_out:  # "4060 ti 16", "m3 max 64": the name, then its memory without "gb"
            with contextlib.suppress(UnknownName, UsageError):
                return self._parse_gpu_name(f"{unit_left_out['name']} {unit_left_out['gb']}gb")
        rest = SYSTEM_RAM_CLAUSE.sub("", text).strip(" ,;")
        if rest and rest != text:  # "3090 24gb, 64gb ram": the GPU, with the computer's RAM said too
            with contextlib.suppress(UnknownName):
                return self._parse_gpu_name(rest)
        if SYSTEM_RAM.search(text) and not NOT_LAPTOP_CARDS.search(text):
            raise UsageError(
                t(
                    "'{text}' is the computer's RAM, not its GPU's memory: type the graphics card (e.g. "
                    "RTX 3060 Laptop 6gb; nvidia-smi shows its name and memory), or none",
                    text=echoed(text),
                )
            )
        memory = gpu_memory(text)
        if memory is not None:
            return {"vram": parse_gpu_memory(memory, "GPU memory")}
        if _bare_memory(text):
            why = t(
                "'{text}' is a bare number: y takes it as the GPU's memory in GB; n asks again (a model "
                "such as 3090 is typed as its name).",
                text=echoed(text),
            )
            if self._confirm("  " + t("A GPU with {gb} GB of memory? [y/N]: ", gb=text), why):
                return {"vram": parse_vram(text, "GPU memory")}
            raise UsageError(
                t(
                    "'{text}' is not a GPU: type its model (e.g. 3090) or its memory with a unit "
                    "(e.g. {text}gb)",
                    text=echoed(text),
                )
            )
        if laptop_memory(text, None, "GPU memory") is not None:  # checked here, sized by resolve_hardware
            return {"gpu": text.strip()}
        if is_laptop_gpu(text):
            raise UsageError(t(LAPTOP_GPU, query=text, instead=t(LAPTOP_MEMORY_ANSWER)))
        if _SIGNED_NUMBER.match(text):  # "-2" is neither memory nor close to "m2"
            raise UsageError(
                t(
                    "'{text}' is not a GPU: type its model (e.g. 3090), its memory (e.g. 24gb), or none",
                    text=echoed(text),
                )
            )
        counted = counted_gpu(self.catalog, text)
        if counted is not None:  # "2x4090": the GPU and how many, so the count question is skipped
            return {"gpu": counted[0].id, "gpus": counted[1]}
        # "macbook pro 36gb": the memory typed with a family name is kept for the chip picked.
        name, typed = name_and_memory(text) or (text, None)
        guesses = self.catalog.gpu_guesses(name, MAX_GPU_GUESSES)
        if guesses:
            return self._pick_gpu(name, guesses, typed)
        raise UsageError(
            t(
                "unknown GPU '{text}': type its model (e.g. 3090, A100 80GB, M3 Max), its memory "
                "(e.g. 24gb), or none",
                text=echoed(text),
            )
        )

    def _parse_gpu_name(self, text: str) -> Answers:
        """A GPU the catalog names, with the memory typed after an Apple chip ("M3 Max 36GB")."""
        if means_no_gpu(text):
            return {"gpu": "none"}
        gpu, vram = chip_and_memory(self.catalog, text, None, "GPU memory")
        # An alias ("colab", "3090"): say which card it is; an Apple chip's name states a memory
        # that may not be the one typed, and the summary shows both.
        if choice_key(text) != choice_key(gpu.id) and not gpu.unified:
            siblings = self.catalog.gpu_siblings(text)
            taken = t("Taken as {value}.", value=gpu.name)
            if siblings:  # "3080" is sold with 10 and 12 GB: say which was taken, and the other
                taken = t(
                    "Taken as {value}; '{query}' also names {others}: < goes back to answer {first} if "
                    "that is yours.",
                    value=gpu.name,
                    query=text,
                    others=", ".join(s.name for s in siblings),
                    first=siblings[0].id,
                )
            self.terminal.say("  " + taken)
        if vram is None and len(gpu.memory_sizes_gb) > 1:
            vram = self._chip_memory(gpu)
        # A free notebook tier keeps its name, which prices its plans at nothing.
        named = free_tier_named(gpu, text) or gpu.id
        return {"gpu": named} if vram is None else {"gpu": named, "vram": vram}

    def _chip_memory(self, chip: Gpu) -> float:
        """An Apple chip sold with several memory sizes, named without one: its size decides every
        plan (an 8 GB M3 fits no 8B QLoRA a 24 GB one does), so it is asked; Enter takes the
        smallest, which never promises a fit the Mac does not have."""
        least = min(chip.memory_sizes_gb)
        prompt = t(
            "How much memory has your {chip}: {sizes} GB (Apple menu > About This Mac)? [Enter: {least:g}]: ",
            chip=chip.chip_name,
            sizes=sold_sizes(chip),
            least=least,
        )
        while True:
            try:
                reply = self.terminal.ask("  " + prompt).strip()
            except EOFError:  # piped answers ended here: the chip stays, at its smallest memory
                reply = ""
            # ? and < as at every question (a newcomer's review: they were read as sizes): < takes
            # the chip back, and the GPU question is asked again.
            if _word(reply) in HELP_WORDS:
                self.terminal.say("  " + t(CHIP_MEMORY_HELP, chip=chip.chip_name, sizes=sold_sizes(chip)))
                continue
            if _word(reply) in BACK_WORDS:
                raise UsageError(t("back to the GPU question"))
            try:
                memory = least if not reply else _chip_vram(chip, gpu_memory(reply) or reply)
            except UsageError as error:
                if self.piped:  # as every piped answer: refused, not asked again
                    raise
                self.terminal.say("  " + _without_flag(str(error)))
                continue
            self.terminal.say("  " + t("Taken as {chip} with {gb:g} GB.", chip=chip.chip_name, gb=memory))
            return memory

    def _offer(self, question: str, names: list[str]) -> None:
        """A name ft-atlas does not know, and the closest it does, numbered to pick from."""
        self.terminal.say("  " + question)
        for number, name in enumerate(names, start=1):
            self.terminal.say(f"    {number}. {name}")

    def _pick_gpu(self, text: str, guesses: list[Gpu], typed: str | None = None) -> Answers:
        unknown = t("ft-atlas does not know a GPU called '{text}'. Is it one of these?", text=echoed(text))
        self._offer(unknown, [gpu.name for gpu in guesses])
        # A Mac is a chip and the memory it was bought with: memory alone would size a CUDA card.
        macs = all(g.unified for g in guesses)
        prompt = (
            N_("Its number (1-{count}) and its memory, such as 1 {example:g}gb [Enter: none of these]: ")
            if macs and typed is None
            else N_("Its number (1-{count}), or its memory such as 24gb [Enter: none of these]: ")
        )
        # The example is a size the first chip comes with (a MacBook Air's M4 has no 36 GB).
        example = guesses[0].memory_sizes_gb[0] if guesses[0].memory_sizes_gb else 24
        # ? and < as at every question (an attacker's review: "no GPU chosen", and the session ended)
        while (
            _word(reply := self.terminal.ask("  " + t(prompt, count=len(guesses), example=example)).strip())
            in HELP_WORDS
        ):
            self.terminal.say("  " + t(GPU_PICK_HELP))
        if _word(reply) in BACK_WORDS:
            raise UsageError(t("back to the GPU question"))
        choice, _, rest = reply.partition(" ")
        picked = _listed_number(choice, len(guesses))
        if picked is not None:
            chosen = guesses[picked - 1]
            memory = rest.strip() or (typed if chosen.unified else None)
            if memory is None and len(chosen.memory_sizes_gb) > 1:
                return {"gpu": chosen.id, "vram": self._chip_memory(chosen)}
            if memory is None:
                return {"gpu": chosen.id}
            return {"gpu": chosen.id, "vram": _chip_vram(chosen, memory)}
        memory = gpu_memory(reply)
        if memory is not None and macs:
            # The first chip offered that comes with that memory (a MacBook Air's M4 has no 36 GB),
            # else any Mac chip that does (96 GB: an M3 Max; a newcomer's review was refused).
            others = (g for g in self.catalog.gpus.values() if _comes_with(g, memory))
            chip = next((g for g in guesses if _comes_with(g, memory)), None) or next(others, guesses[0])
            vram = _chip_vram(chip, memory)
            self.terminal.say(
                "  "
                + t(
                    "Taken as {gpu} with {gb} GB (the chip changes only the time estimate).",
                    gpu=chip.id,
                    gb=memory,
                )
            )
            return {"gpu": chip.id, "vram": vram}
        if memory is not None:
            return {"vram": parse_gpu_memory(memory, "GPU memory")}
        if reply:  # a GPU's name typed here instead (e.g. 3090, none)
            with contextlib.suppress(UnknownName):
                return self._parse_gpu_name(reply)
        raise UsageError(
            t("no GPU chosen: type its model (e.g. 4090, M3 Max), its memory (e.g. 24gb), or none")
        )

    def _confirm(self, prompt: str, why: str) -> bool:
        """Yes or no; `?` explains the question (`why`) and asks again."""
        while (reply := _word(self.terminal.ask(prompt))) in HELP_WORDS:
            self.terminal.say("  " + why)
        return reply in YES_WORDS

    def _parse_model(self, text: str) -> Answers:
        if _api_only(self.answers):  # a provider's model: any name, never sized
            return {"model": text.strip()}
        return self._parse_weights(text)

    def _parse_weights(self, text: str) -> Answers:
        """A catalog name (stored as its id), a config path or a Hub id (stored as typed, as the
        --model flag keeps it: "meta-llama/Llama-3.2-3B-Instruct" names the instruct checkpoint
        of the catalog's llama-3.2-3b; see core/models.py), else a size such as 7b."""
        if "/" not in text and "\\" not in text:  # a path or a Hub id is kept as typed
            text = RUSSIAN_MODEL_NAMES.sub(lambda name: _MODEL_NAMES[name.group(0).casefold()], text)
        try:
            found = find_model(self.catalog, text)
        except UsageError as unknown:
            if text.strip()[:1].isdigit():  # meant as a size: say what is wrong with it
                return {"model_size": parse_size(text, "model size")}
            if not (isinstance(unknown, UnknownName) and unknown.kind == "model"):
                raise
        else:
            return self._stored_model(found, text)
        guesses = self.catalog.model_guesses(text)
        if guesses:
            return self._pick_model(text, guesses)
        raise UsageError(
            t(
                "unknown model '{text}'. Type a catalog name (ft-atlas models lists them), a Hub id "
                "(org/name), a model directory, or a size such as 7b",
                text=echoed(text),
            )
        )

    def _pick_model(self, text: str, guesses: tuple[str, ...]) -> Answers:
        """The catalog models closest to an unknown name, picked by number (or another answer)."""
        unknown = t("ft-atlas does not know a model called '{text}'. Is it one of these?", text=echoed(text))
        self._offer(unknown, list(guesses))
        prompt = (
            # A newcomer's review: one guess was offered as "Its number (1-1)".
            t("1 if it is, or another name or size [Enter: it is not]: ")
            if len(guesses) == 1
            else t(
                "Its number (1-{count}), or another name or size [Enter: none of these]: ", count=len(guesses)
            )
        )
        reply = self.terminal.ask("  " + prompt).strip()
        picked = _listed_number(reply, len(guesses))
        if picked is not None:
            chosen = guesses[picked - 1]
            found = find_model(self.catalog, chosen)
            if looks_instruct(text) and found.variant != "instruct":
                # "mistral 7b instruct" picked as mistral-7b: the instruct checkpoint was asked for.
                self.terminal.say("  " + t("Taken as {model}, its instruct checkpoint.", model=chosen))
                self.read_variants[found.model.id] = "instruct"
                return {"model": found.model.id, "model_variant": "instruct"}
            return self._stored_model(found, chosen)
        if reply.isascii() and reply.isdigit():  # a number past the list is no model size either
            raise UsageError(t("'{text}': pick a number from 1 to {count}", text=reply, count=len(guesses)))
        if reply:  # a name or a size typed here instead
            return self._parse_weights(reply)
        raise UsageError(
            t(
                "no model chosen: type a catalog name (ft-atlas models lists them), a Hub id (org/name), a "
                "model directory, or a size such as 7b"
            )
        )

    def _stored_model(self, found: FoundModel, text: str) -> Answers:
        """A catalog name is stored as its id, which names the entry's own variant: an instruct
        name of a base entry ("llama-3.1-8b-instruct") keeps its variant as model_variant, so that
        neither the plan nor the reproduce line falls back to the base checkpoint."""
        named = found.kind == "catalog" and not HUB_ID.fullmatch(text.strip())
        model = found.model.id if named else text.strip()
        self.read_variants[model] = found.variant
        if not named or found.variant == found.model.variant:
            return {"model": model}
        return {"model": model, "model_variant": found.variant}


_SIGNED_NUMBER = re.compile(r"^\s*[+-]\s*[0-9]")
MAX_COUNT_WORDS = 3  # "2,000", "2 000", "10 тыс.": a count is written in at most three words


# Words an answer may say before its count ("we have about 2k chats", «у нас примерно 2 тыс.
# диалогов»): passed over, so the count is still read.
# "I have a 4090", «у меня 3090»: the words an answer may say before the card's name (a newcomer's
# review: "unknown GPU 'I have a 4090'").
OWNING_PHRASE: Final = re.compile(
    r"^\s*(?:i\s+have|i've\s+got|i\s+got|we\s+have|i\s+use|my|у\s+меня(?:\s+есть)?|есть)\s+"
    r"(?:an?\s+|one\s+|the\s+)?",
    re.IGNORECASE,
)
# "a 4070", "the 4090": an article alone, passed over only where the whole answer names no GPU ("A
# 100" is the A100, "a 10" the A10: a diff review).
ARTICLE: Final = re.compile(r"^\s*(?:an?|one|the)\s+(?=\S)", re.IGNORECASE)
# "4070 на 12 гигов", "3090 with 24gb": the word between a GPU's name and its memory.
MEMORY_CONNECTOR: Final = re.compile(r"\s+(?:на|с|with|of)\s+(?=\d)", re.IGNORECASE)
# A card's memory in GB is at most three digits; a fourth makes it a model number ("rtx 4090").
NAME_THEN_BARE_MEMORY: Final = re.compile(r"^(?P<name>\S.*?)\s+(?P<gb>\d{1,3})$")

# A model family typed in Russian ("квен 7б", "лама 3 8б", "квен3"), and the "б" of its size: in
# Latin letters, then read as typed.
_MODEL_NAMES: Final = {
    "квен": "qwen",
    "лама": "llama",
    "ллама": "llama",
    "мистраль": "mistral",
    "гемма": "gemma",
    "дипсик": "deepseek",
    "б": "b",
}
RUSSIAN_MODEL_NAMES: Final = re.compile(
    rf"(?<!\w)({'|'.join(name for name in _MODEL_NAMES if name != 'б')})(?![^\W\d_])|(?<=\d)б(?![^\W\d_])",
    re.IGNORECASE,
)

BEFORE_A_COUNT: Final = frozenset(
    {"we", "have", "i", "about", "around", "approximately", "approx", "approx.", "roughly", "nearly"}
    | {"almost", "some", "~", "у", "нас", "меня", "есть", "примерно", "около", "где-то", "порядка", "почти"}
)


def _leading_count(text: str) -> int | None:
    """The count an answer in words starts with ("2,000 support tickets": 2000, "10 тыс. диалогов":
    10000, "about 2k chats": 2000), the longest run of leading words that reads as one; None when
    it starts with none."""
    words = text.split()
    while words and words[0].casefold() in BEFORE_A_COUNT:
        words = words[1:]
    if words and words[0].startswith("~"):
        words[0] = words[0][1:]
    if not words or not words[0][:1].isdigit():
        return None
    for length in range(min(len(words), MAX_COUNT_WORDS), 0, -1):
        if words[length:] and words[length][:1].isdigit():
            continue  # "2 000" in English is not 2: a number read in part is no count
        with contextlib.suppress(UsageError):
            return parse_count(" ".join(words[:length]), "examples")
    return None


MAX_BARE_MEMORY_GB = 256  # a bare number above any GPU's memory is a model number ("309")


def _bare_memory(text: str) -> bool:
    """'24' or '4' may be memory sizes (confirmed first); '3090' or '309' are GPU names. Read as
    typed: normalising would drop the sign of '-1' and offer a GPU of -1 GB."""
    key = text.strip()
    return _ascii_number(key) and 0 < float(key) <= MAX_BARE_MEMORY_GB


def _listed_number(text: str, count: int) -> int | None:
    """The number of an item in a list of `count` (1 to count), typed in ASCII digits: "¹" passes
    str.isdigit() but int() refuses it, and int() refuses more than 4,300 digits."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(count))):
        return None
    return int(text) if 1 <= int(text) <= count else None


def _ascii_number(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also takes other scripts' digits, which float() reads."""
    digits = text.replace(".", "", 1)
    return digits.isascii() and digits.isdigit()


def _word(text: str) -> str:
    """An answer as the word lists compare it: "I don't know." -> "idontknow"."""
    return re.sub(r"[^a-z0-9?<а-я]", "", text.casefold().replace("ё", "е"))


def _chip_vram(chip: Gpu, memory: str) -> float:
    """The memory typed for a chip picked from a list, within what it is sold with."""
    return check_chip_memory(chip, parse_vram(memory, "GPU memory"), "GPU memory")


def _comes_with(chip: Gpu, memory: str) -> bool:
    """Whether Apple sells `chip` with `memory` (check_chip_memory's test, without its refusal)."""
    return chip.unified and parse_vram(memory, "GPU memory") in chip.memory_sizes_gb


_FLAG_PREFIX = re.compile(r"^(--[a-z-]+|GPU memory|model size|model): ")


def _without_flag(message: str) -> str:
    """Parsers name the flag ("--gpus: ..."); the questionnaire's user never typed one."""
    return _FLAG_PREFIX.sub("", message)


def _show_value(spec: ProfileField, value: Any) -> str:
    if spec.kind == "size":
        return t("{size:g}B parameters", size=value)
    if spec.kind == "vram":
        return t("{gb:g} GB per GPU", gb=value)
    if spec.kind == "flag":
        return t("yes") if value else t("no")
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return t("y") if value else t("n")
    return str(value)


def _yes_no(text: str) -> bool:
    word = _word(text)
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise UsageError(t("'{text}' is not yes or no", text=echoed(text)))


def _says_images(text: str) -> bool:
    """Whether an answer speaks of images (IMAGE_WORDS), in either language."""
    words = re.findall(r"\w+", text.casefold())
    return any(word in IMAGE_WORDS or word.startswith(IMAGE_STEMS) for word in words)


def pick_choice(spec: ProfileField, text: str) -> str:
    """Accept a choice by number, by value or alias (the Russian names), by a unique prefix of one
    of them, or by everyday words that name one choice ("a customer support chatbot")."""
    values = [c.value for c in spec.choices]
    key = choice_key(text)
    number = _listed_number(key, len(values))
    if number is not None:
        return values[number - 1]
    names = {choice_key(name): c.value for c in spec.choices for name in (c.value, *c.aliases)}
    if key in names:
        return names[key]
    # An alias abbreviated to one or two letters is read only where it is one said whole: "да"
    # (yes) began "данных нет" (no data), and was taken for it (a newcomer's review).
    own = {choice_key(value) for value in values}
    matches = {
        value
        for name, value in names.items()
        if key and name.startswith(key) and (len(key) >= SHORTEST_ALIAS_PREFIX or name in own)
    }
    if len(matches) == 1:
        return matches.pop()
    # The menu's own description of a choice, copied as the answer, is an everyday answer too.
    words = {choice_key(word): c.value for c in spec.choices for word in (*c.words, c.help, t(c.help))}
    if key in words:  # an everyday answer said whole, a denial included ("no data")
        return words[key]
    decisive = {choice_key(word): c.value for c in spec.choices for word in c.decisive}
    named = _named_within({**names, **words, **decisive}, key)
    if len(named) == 1:
        return named.pop()
    settled = _named_within(decisive, key) if len(named) == 2 else set()
    if len(settled) == 1 and not _named_within(names, key) - settled:
        return settled.pop()
    over = [
        c.value
        for c in spec.choices
        if len(named) == 2 and c.value in named and named - {c.value} <= set(c.over)
    ]
    if len(over) == 1 and not _named_within(names, key):
        return over[0]
    if named:  # say which, so that the answer can be mended
        raise UsageError(
            t(
                "'{text}' names more than one: {named}; answer with one of them (or 1-{count})",
                text=echoed(text),
                named=", ".join(v for v in values if v in named),
                count=len(values),
            )
        )
    raise UsageError(
        t(
            "'{text}' is not one of {choices} (or 1-{count})",
            text=echoed(text),
            choices=", ".join(values),
            count=len(values),
        )
    )


# The fewest letters an abbreviated alias (a Russian name) is read from.
SHORTEST_ALIAS_PREFIX = 3
_NOT_WORD = re.compile(r"[^\w&]+")
# An answer that denies something ("no labeled data", "tickets without labels") is not read for
# the choice it names: it would be taken as the very thing it denies.
_NEGATIONS = frozenset({"no", "not", "without", "non", "none", "нет", "без", "не"})
# "Or not" at the end and "X / not X" state the labels' two values ("emails labelled spam or not",
# "spam / not spam", "спам или не спам"), not that none are there ("text or no data" still denies).
_LABELS_OR_NOT = re.compile(r" (?:or|или) (?:not|нет) $| (\w+) (?:(?:or|или) )?(?:not|non|не) \1 ")


def _named_within(names: dict[str, str], key: str) -> set[str]:
    """The choices an answer in words names ("a customer support chatbot": chat), by their names
    found as whole words (a name within a longer one found, "q&a" in "q&a pairs", does not
    count); none when the answer denies something."""
    words = _LABELS_OR_NOT.sub(r" \1 ", " " + _NOT_WORD.sub(" ", key) + " ")
    if _NEGATIONS & set(words.split()):
        return set()
    found = [name for name in names if f" {name} " in words]
    outer = [
        name for name in found if not any(name != other and f" {name} " in f" {other} " for other in found)
    ]
    return {names[name] for name in outer}
