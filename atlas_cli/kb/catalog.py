"""The validated knowledge base with its name look-ups (methods, GPUs, models).

Loading and validation are in kb/loading.py; this module stays light so that a cached KB loads
without YAML or validators.
"""

from __future__ import annotations

import difflib
import re
import statistics
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import NamedTuple

from atlas_cli.errors import UnknownName, echoed, meaning, swapped_name
from atlas_cli.i18n import N_, nt, t
from atlas_cli.kb.behaviour import REFERENCE_PRICE_KINDS
from atlas_cli.kb.records import Gpu, HostedOffer, KnowledgeBase, LlmModel, Method, Price, Training
from atlas_cli.kb.vocabulary import RUSSIAN_GB

# --- look-ups ------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s_\-/]+")


# "16 ГБ" (or "16 гб", "16 ГиБ", "16 гигов") is how Russian writes "16 GB": the catalog's names use
# the Latin unit.
_RUSSIAN_GB_AFTER_DIGITS = re.compile(rf"(?<=[0-9])(?:(гиб)|{RUSSIAN_GB})")
# Cyrillic letters that look like the Latin ones GPU names use ("Т4", "А100", "Н100" typed on a
# Russian keyboard layout), as their lower case.
_LOOKALIKES = str.maketrans("авеікмнорстухь", "abeikmhopctyxb")


def normalize(name: str) -> str:
    """Case-, separator- and unit-script-insensitive key: "RTX 3090", "rtx-3090" and "RTX3090"
    agree, and so do "4060 Ti 16GB", "4060 Ti 16 ГБ" and a "Т4" typed in Cyrillic."""
    key = _SEPARATORS.sub("", name.casefold())
    if key.isascii():  # batch files look every line's names up: most never pay for the rest
        return key
    return _latin(_RUSSIAN_GB_AFTER_DIGITS.sub(lambda unit: "gib" if unit.group(1) else "gb", key))


# An Apple chip's tier typed in Russian after it ("м4 про", "м3 макс"), and a card's suffix after
# its number ("4060 ти", "4070 супер"): no lookalike letters.
_RUSSIAN_NAME_WORDS = re.compile(r"(?<=[mм][1-9])(про|макс|ультра)$|(?<=\d)(ти|супер)(?=\d|$)")
_NAME_WORDS = {"про": "pro", "макс": "max", "ультра": "ultra", "ти": "ti", "супер": "super"}


def _latin(key: str) -> str:
    """A key typed in Cyrillic lookalikes ("м3", "Т4", a chip's tier or a card's suffix in Russian)
    in the Latin letters of GPU names, when all of it is; else as it is."""
    if key.isascii():
        return key
    latin = _RUSSIAN_NAME_WORDS.sub(lambda word: _NAME_WORDS[word.group(0)], key).translate(_LOOKALIKES)
    return latin if latin.isascii() else key


# Words in a GPU's printed name that tell no catalog card from another: the vendor's brands and
# the SXM socket / HBM generation nvidia-smi appends (a normalized key: no separators).
_VENDOR = r"nvidia|geforce|tesla|amd|instinct"
_BRAND_WORDS = re.compile(_VENDOR + r"|sxm\d|hbm\de?")
_VENDOR_WORDS = re.compile(_VENDOR)
# What follows a card's name in the id of the same card sold otherwise: its memory ("a100-40gb"),
# its form factor ("h100-pcie", "h200-nvl") or its memory kind ("gh200-hbm3e").
_VARIANT_SUFFIX = re.compile(r"\d+gb|pcie|sxm|nvl|hbm")
# The brand some ids carry and people often leave out ("3080" for "rtx-3080-10gb").
_BRAND = "rtx"


def _variant_of(bare: str, gpu_id: str) -> bool:
    """Whether the normalized id names the card `bare` (a normalized name without the vendor's
    words) names, in another memory or form factor."""
    for name in (gpu_id, gpu_id.removeprefix(_BRAND)):
        if name.startswith(bare) and _VARIANT_SUFFIX.match(name, len(bare)):
            return True
    return False


def _unbranded(key: str) -> str:
    return _BRAND_WORDS.sub("", key)


def _index(items: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for item_id, names in items:
        for name in names:
            index.setdefault(normalize(name), item_id)
    return index


class Objective(NamedTuple):
    """A training objective as memory and time read it: its card's `training` block, how many
    completions it samples per prompt (its num_generations; one without it; none offline), and
    whether it packs without --packing (its `packing` hyperparameter: continued pre-training)."""

    id: str
    training: Training
    samples_per_prompt: int
    packs_by_default: bool = False
    # Online objectives: completions sampled per generation round over all GPUs, as the profile's
    # --generation-batch gives it (TRL's generation_batch_size); None: GENERATION_BATCH per GPU.
    generation_batch: int | None = None
    # Its card gives num_generations: it samples groups of completions per prompt (GRPO, RLOO), which
    # --num-generations and --generation-batch set; PPO samples one a prompt, as its trainer does.
    samples_groups: bool = False
    name: str = ""  # its card's name, which i18n.stage_label shortens for tables and notes

    @property
    def online(self) -> bool:
        return self.samples_per_prompt > 0

    def packs(self, asked: bool) -> bool:
        """Its trainer packs examples into full sequences: when `asked` (--packing) or by default
        (continued pre-training), where it can pack at all (training.packing). Time and the length
        notes both read it; a sequence split over GPUs trains unpacked (workload.batches)."""
        return (asked or self.packs_by_default) and self.training.packing

    def __hash__(self) -> int:
        # Estimates are remembered by their settings: the id and the sampling stand for the
        # objective (the block's lists do not hash).
        return hash((self.id, self.samples_per_prompt, self.generation_batch))


class Sampling(NamedTuple):
    """How an online objective samples, when the profile says so (None: the KB's num_generations,
    GENERATION_BATCH completions per GPU a round)."""

    num_generations: int | None = None
    generation_batch: int | None = None

    def apply(self, objective: Objective) -> Objective:
        """The objective as this run samples it; those that sample no groups are left as they are."""
        if not objective.samples_groups or self == NO_SAMPLING:
            return objective
        generations = self.num_generations or objective.samples_per_prompt
        return objective._replace(samples_per_prompt=generations, generation_batch=self.generation_batch)


NO_SAMPLING = Sampling()


def api_name(model_name: str) -> str:
    """An API model's name as offers match it: lower case, without an organisation, words joined
    by hyphens as the providers' ids are ("Claude Sonnet 4.5" is claude-sonnet-4.5)."""
    name = model_name.casefold().rsplit("/", 1)[-1]
    return "-".join(word for word in re.split(r"[\s_-]+", name) if word)


def serves(prefixes: Iterable[str], model_name: str) -> bool:
    """Whether an offer's `serves` prefixes name the API model `model_name`, as api_name reads it
    ("claude" alone is the family its "claude-" prefix names), or whole where a prefix holds an
    organisation (Fireworks' "accounts/fireworks/")."""
    name, whole = api_name(model_name), model_name.casefold()
    return any(
        whole.startswith(p) if "/" in p else name.startswith(p) or name == p.rstrip("-") for p in prefixes
    )


class ApiTuning(NamedTuple):
    """What the providers that serve a hosted model offer for it."""

    status: str  # available, closing or closed (kb.vocabulary.HostedStatus)
    services: frozenset[str]  # the tuning services that take it (none when closed)
    provider: str  # the offer that decides it: the one that tunes it, or else one that serves it


# What a no-training method's memory is sized for: serving, by no trainer.
SERVING = Objective("inference", Training(source=["serving: no trainer"]), 0)


def _objective(method: Method) -> Objective:
    assert method.training is not None
    generations = method.hyperparameters.get("num_generations")
    count = generations.value if generations is not None and isinstance(generations.value, int) else 1
    packing = method.hyperparameters.get("packing")
    packs = packing is not None and packing.value is True
    online = method.training.online
    return Objective(
        method.id, method.training, count if online else 0, packs, None, generations is not None, method.name
    )


PRICED_OVER_DATES = N_(
    "median of {count} cloud offers ({spread}; {providers}; dated {first} to {last}), data/prices.yaml"
)
PRICED_ON_A_DATE = N_(
    "median of {count} cloud offers ({spread}; {providers}; dated {first}), data/prices.yaml"
)


def _renting(offers: list[Price], gpus: int) -> list[Price]:
    """The offers that rent as few as `gpus` GPUs, or all of them when none does."""
    return [p for p in offers if p.min_gpus <= gpus] or offers


def _offers_source(offers: list[Price]) -> str:
    """Where a median of these offers comes from: how many, their spread, providers and dates."""
    if len(offers) == 1:
        (offer,) = offers
        return t(
            "one cloud offer ({provider}, {date}), data/prices.yaml",
            provider=offer.provider,
            date=_leading_date(offer.date) or t("undated"),
        )
    rates = sorted(p.usd_per_gpu_hour for p in offers)
    providers = ", ".join(dict.fromkeys(p.provider for p in offers))
    dated = set(filter(None, (_leading_date(p.date) for p in offers)))
    # A year alone within a dated span says nothing more ("dated 2026 to 2026-09-07": a review).
    precise = [d for d in dated if not any(o != d and o.startswith(d) for o in dated)]
    dates = sorted(precise) or [t("undated")]
    spread = t("{low:.2f}-{high:.2f} $/GPU-hour", low=rates[0], high=rates[-1])
    return t(
        PRICED_OVER_DATES if len(dates) > 1 else PRICED_ON_A_DATE,
        count=len(rates),
        spread=spread,
        providers=providers,
        first=dates[0],
        last=dates[-1],
    )


class Catalog:
    """The validated KB plus name indexes for methods, GPUs and models."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.methods = {m.id: m for m in kb.methods}
        self.gpus = {g.id: g for g in kb.gpus}
        self.models = {m.id: m for m in kb.models}
        self.model_families = {f.family: f for f in kb.model_families}
        # Every objective by id, and the serving "objective" of no-training methods.
        self.objectives = {m.id: _objective(m) for m in kb.methods if m.training is not None}
        self.objectives[SERVING.id] = SERVING

    @cached_property
    def _method_names(self) -> dict[str, str]:
        return _index((m.id, [m.id, m.name, *m.aliases]) for m in self.kb.methods)

    @cached_property
    def _gpu_names(self) -> dict[str, str]:
        return _index((g.id, [g.id, g.name, *g.aliases]) for g in self.kb.gpus)

    @cached_property
    def _gpu_names_unbranded(self) -> dict[str, str]:
        """The same names without the vendor's brands and packaging words, as nvidia-smi prints a
        card ("NVIDIA GeForce RTX 4090", "NVIDIA H100 80GB HBM3", "Tesla V100-SXM2-16GB")."""
        index: dict[str, str] = {}
        for key, gpu_id in self._gpu_names.items():
            index.setdefault(_unbranded(key), gpu_id)
        return index

    @cached_property
    def _model_names(self) -> dict[str, str]:
        """Every name a model is given by, and a Hub-id alias without its organisation too (a
        newcomer's review: Meta-Llama-3.1-8B-Instruct, as people write it, was unknown); a name
        of its own comes first."""
        own = _index((m.id, [m.id, m.name, *m.aliases]) for m in self.kb.models)
        bare = _index((m.id, [a.rsplit("/", 1)[-1] for a in m.aliases if "/" in a]) for m in self.kb.models)
        return {**bare, **own}

    def chat_endpoint(self, model_name: str) -> HostedOffer | None:
        """The offer whose OpenAI-compatible endpoint serves the API model `model_name` (None:
        OpenAI's own, or no offer names one)."""
        return next((o for o in self.chat_endpoints if serves(o.serves, model_name)), None)

    @cached_property
    def chat_endpoints(self) -> tuple[HostedOffer, ...]:
        """The offers that name an OpenAI-compatible endpoint, in the knowledge base's order."""
        return tuple(o for m in self.kb.methods for o in m.providers if o.chat_endpoint is not None)

    def api_tuning(self, model_name: str) -> ApiTuning | None:
        """Whether a hosted model named `model_name` can still be tuned by its provider, and how:
        the best status of the offers that tune it (data/methods.yaml `providers[].serves` and
        `tunes`), "closed" when the offers that serve it tune other models only, or None when no
        offer names it."""
        name = api_name(model_name)
        serving = [
            offer
            for method in self.kb.methods
            for offer in method.providers
            if set(offer.services) - {"embeddings"} and serves(offer.serves, model_name)
        ]
        if not serving:
            return None
        tuning = [(offer, offer.services_for(name)) for offer in serving]
        services = frozenset().union(*(found for _, found in tuning))
        statuses = {offer.status for offer, found in tuning if found}
        status = next((s for s in ("available", "closing") if s in statuses), "closed")
        provider = next(
            (o.provider for o, found in tuning if found and o.status == status), serving[0].provider
        )
        return ApiTuning(status, services if status != "closed" else frozenset(), provider)

    def method(self, query: str) -> Method:
        try:
            return self.methods[_find(self._method_names, "method", query)]
        except UnknownName:
            option = self._method_option(query)
            if option is None:
                raise
            method, key = option
            message = t(METHOD_OPTION, query=query, method=method.id, key=key)
            raise UnknownName(message, "method", (method.id,)) from None

    def _method_option(self, query: str) -> tuple[Method, str] | None:
        """The method whose hyperparameter is asked for by this name (its `asked_as`): a variant
        users ask for by name is one option of a method ("PiSSA" is LoRA's init_lora_weights)."""
        key = normalize(query)
        for method in self.kb.methods:
            for name, entry in method.hyperparameters.items():
                if any(normalize(asked) == key for asked in entry.asked_as):
                    return method, name
        return None

    @cached_property
    def _most_gpu_memory(self) -> float:
        """The most memory any GPU in the catalog comes with: a bare number past it is a card's model
        number (--gpu 970, a GTX 970), not its memory."""
        return float(max(max((g.memory_gib, *(g.memory_sizes_gb or ()))) for g in self.gpus.values()))

    def gpu(self, query: str) -> Gpu:
        key = normalize(query)
        if key not in self._gpu_names and is_laptop_gpu(query):
            raise UnknownName(t(LAPTOP_GPU, query=query, instead=t(LAPTOP_MEMORY_FLAG)), "GPU", ())
        if key not in self._gpu_names and BARE_NUMBER.fullmatch(query.strip()):
            # A newcomer's review: --gpu 24 was offered t4 and apple-m4 for a card's memory; --gpu
            # 3070 (a card the catalog lacks) was told --vram 3070, which no GPU has.
            number = float(query.strip().replace(",", "."))
            if number <= self._most_gpu_memory:
                raise UnknownName(t(GPU_AS_MEMORY, query=echoed(query.strip())), "GPU", ())
            # A model number with two of its digits swapped (--gpu 3900 for a 3090: a newcomer's
            # review got no suggestion where --gpu rtx-309 got one). Not one digit off: 2000 and 5880
            # are real cards (RTX 2000 Ada, RTX 5880 Ada) the catalog lacks, not a 2060 or a 5080.
            numbered = {name: gpu for name, gpu in self._gpu_names.items() if name.isdigit()}
            meant = swapped_name(query.strip(), numbered)
            message = meaning(t(GPU_MODEL_NUMBER, query=echoed(query.strip())), meant)
            raise UnknownName(message, "GPU", () if meant is None else (numbered[meant],))
        chip = MAC_AFTER_CHIP.sub(r"\1", _latin(MAC_BEFORE_CHIP.sub("", key, count=1)))
        if chip in self._gpu_names:  # "MacBook Pro M3 Pro": the chip the Mac is named by
            return self.gpus[self._gpu_names[chip]]
        printed = self._gpu_names_unbranded.get(_unbranded(key))
        if printed is not None:  # a name as nvidia-smi prints it, which ask's help tells to copy
            return self.gpus[printed]
        return self.gpus[_find(self._gpu_names, "GPU", query, GPU_FALLBACK)]

    def gpu_siblings(self, query: str) -> list[Gpu]:
        """The other GPUs a bare family name also fits ("A100": the 40 GB card as well as the
        80 GB one it resolves to; "3080": the 12 GB card as well as the 10 GB one); none when the
        query names one GPU by its id. A sibling differs in memory or form factor only: a 3080 Ti
        or an L40S is another card, not another "3080" or "L40"."""
        key = normalize(query)
        chosen = self._gpu_names.get(key) or self._gpu_names_unbranded.get(_unbranded(key))
        if chosen is None or key == normalize(chosen):
            return []
        # Without the vendor's words ("NVIDIA GeForce RTX 3080" as nvidia-smi prints it); a socket
        # or memory named ("SXM4") is no other form factor, so it stays.
        bare = _VENDOR_WORDS.sub("", key)
        return [g for g in self.gpus.values() if g.id != chosen and _variant_of(bare, normalize(g.id))]

    def model(self, query: str) -> LlmModel:
        return self.models[_find(self._model_names, "model", query, MODEL_FALLBACK, self.model_guesses)]

    def model_or_none(self, query: str) -> LlmModel | None:
        """The catalog model an id, name or alias names exactly; None when none does."""
        found = self._model_names.get(normalize(query))
        return None if found is None else self.models[found]

    def base_of(self, query: str) -> LlmModel | None:
        """The post-trained catalog model whose `base_checkpoint` `query` names, with or without its
        organisation (google/gemma-3-4b-pt or gemma-3-4b-pt for gemma-3-4b-it: the same
        architecture, before post-training); None when none does."""
        found = self._base_checkpoints.get(normalize(query))
        return None if found is None else self.models[found]

    @cached_property
    def _base_checkpoints(self) -> dict[str, str]:
        return _index(
            (m.id, [m.base_checkpoint, m.base_checkpoint.rsplit("/", 1)[-1]])
            for m in self.kb.models
            if m.base_checkpoint
        )

    def model_hint(self, query: str) -> str:
        """'; did you mean a, b?' for the catalog models closest to `query`, or ''."""
        return _hint(self.model_guesses(query))

    def model_guesses(self, query: str) -> tuple[str, ...]:
        """The ids of the catalog models closest to `query`, closest first (at most five). A size
        typed in the query ("qwen 7b") puts the models of about that size whose name begins like
        the query's first, nearest size first: spelling alone ranks qwen3-1.7b above qwen2.5-7b."""
        spelled = _suggest(self._model_names, query)
        name = query.rsplit("/", 1)[-1]  # a Hub id's organisation names no model
        size = _TYPED_SIZE.search(name)
        if size is None:
            return spelled
        billions = float(size.group(1)) / (1000 if size.group(2).casefold() == "m" else 1)
        stem = normalize(name[: size.start()])[:MIN_PREFIX]
        sized = [
            m.id
            for m in self.models.values()
            if normalize(m.id).startswith(stem)
            and max(m.params_b, billions) <= SIZE_RATIO * min(m.params_b, billions)
        ]
        key = normalize(name)
        sized.sort(
            key=lambda i: (
                abs(self.models[i].params_b - billions),
                -difflib.SequenceMatcher(None, key, normalize(i)).ratio(),
            )
        )
        return tuple(dict.fromkeys([*sized, *spelled]))[:5]

    def offers(self, gpu_id: str, gpus: int = 1) -> list[Price]:
        """The offers a GPU's reference price is the median of: those renting as few as `gpus`
        GPUs (a whole 8-GPU instance does not price one rented GPU), or every offer when none
        does."""
        return _renting(self._priced_offers(gpu_id), gpus)

    def _priced_offers(self, gpu_id: str) -> list[Price]:
        return [p for p in self.kb.prices if p.gpu == gpu_id and p.kind in REFERENCE_PRICE_KINDS]

    def reference_price(self, gpu_id: str, gpus: int = 1) -> tuple[float, str] | None:
        """The median of a GPU's on-demand and marketplace offers renting `gpus` GPUs, and where
        it comes from."""
        priced = self._priced_offers(gpu_id)
        offers = _renting(priced, gpus)
        if not offers:
            return None
        rates = sorted(p.usd_per_gpu_hour for p in offers)
        source = _offers_source(offers)
        whole = [p.min_gpus for p in priced if p.min_gpus > gpus] if len(offers) < len(priced) else []
        if whole:
            source += nt(
                "; {count} offer sold only as whole instances of {gpus}+ GPUs left out",
                "; {count} offers sold only as whole instances of {gpus}+ GPUs left out",
                len(whole),
                count=len(whole),
                gpus=min(whole),
            )
        return round(statistics.median(rates), 4), source

    def gpu_guesses(self, query: str, limit: int = 5) -> list[Gpu]:
        """The GPUs closest to a fuzzy answer ("309" -> RTX 3090, "macbook" -> the MacBook chips),
        closest first, for the questionnaire to offer (never to pick); none for a laptop GPU, whose
        desktop namesake has other memory."""
        if is_laptop_gpu(query):
            return []
        close = difflib.get_close_matches(normalize(query), self._gpu_names, n=limit * 3, cutoff=0.6)
        ids = list(dict.fromkeys(self._gpu_names[c] for c in close))[:limit]
        return [self.gpus[i] for i in ids]


# A Mac named before its chip, as normalize() writes it ("macbookpro14"m3pro" of 'MacBook Pro 14"
# M3 Pro'): the catalog holds Apple's chips, and which Mac holds one changes nothing ft-atlas
# sizes, so the chip is looked up.
MAC_BEFORE_CHIP = re.compile(
    r"^(?:apple|эппл)?(?:macbook(?:pro|air)?|mac(?:studio|mini|pro)?|imac"
    # Russian: "мак" alone reads as "mak" (its letters look Latin), "макбук" stays Cyrillic.
    r"|mak|макбук(?:про|эйр)?|мак(?:студио|мини|про)?|аймак).*?(?=[mм][1-9](?![0-9]))"
)

# ... or after it: "M2 Air" (a newcomer's review: 'm2 air 16gb' was offered a V100 and a T4).
MAC_AFTER_CHIP = re.compile(
    r"^(m[1-9](?:pro|max|ultra)?)(?:macbook(?:air|pro)?|air|imac|macmini|macstudio|mini|studio)$"
)

# A laptop GPU shares its name with a desktop card but not its memory (NVIDIA's RTX 3060 Laptop
# GPU has 6 GB, the desktop RTX 3060 12 GB), and the catalog holds desktop and data-centre cards.
# ("Notebook" is left out: in ML it names Colab and Kaggle notebooks. A workstation card may be a
# Max-Q edition, such as the RTX PRO 6000 Blackwell Max-Q; Apple's chips are in the catalog.)
# "3060m" is how laptop cards are often written; "notebook" counts beside a GeForce name only; an
# RTX PRO "Max-Q" is a workstation card, an RTX PRO "Laptop" is not.
LAPTOP_WORDS = re.compile(
    r"laptop|mobile|max-?q|ноутбук|(?<!\d)\d{4}m\b|(?:rtx|gtx).*notebook|notebook.*(?:rtx|gtx)", re.IGNORECASE
)
NOT_LAPTOP_CARDS = re.compile(r"workstation|rtx\s*pro.*max-?q|macbook|apple|\bm[1-9]\b", re.IGNORECASE)
LAPTOP_GPU = N_(
    "'{query}' is a laptop GPU: laptop cards have memory of their own, often less than the desktop "
    "card of the same name (an RTX 3060 Laptop GPU has 6 GB, the desktop RTX 3060 12 GB), and the "
    "catalog holds desktop and data-centre cards only: {instead}"
)
LAPTOP_MEMORY_FLAG = N_("give its memory instead (--vram 6 for an RTX 3060 Laptop GPU)")
LAPTOP_MEMORY_ANSWER = N_("type its memory instead (6gb for an RTX 3060 Laptop GPU)")


def free_tier_named(gpu: Gpu, query: str) -> str | None:
    """The free notebook tier `query` names (one of the card's free_tier_aliases: "free colab"),
    as the catalog spells it; None for any other name of the card."""
    key = normalize(query)
    return next((alias for alias in gpu.free_tier_aliases if normalize(alias) == key), None)


def is_laptop_gpu(query: str) -> bool:
    """A discrete laptop GPU named by its desktop namesake ("RTX 4090 Laptop", "RTX 3080 Max-Q")."""
    return LAPTOP_WORDS.search(query) is not None and NOT_LAPTOP_CARDS.search(query) is None


# What to give instead of an unknown catalog name, and the command that lists the catalog.
BARE_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
GPU_AS_MEMORY = N_(
    "--gpu '{query}' names no GPU; for a card's memory in GB as advertised, give --vram {query} (or "
    "--gpu {query}GB), or its name (ft-atlas gpus lists them)"
)
GPU_MODEL_NUMBER = N_(
    "--gpu '{query}' names no GPU in the catalog (ft-atlas gpus lists them); give a card it does not "
    "list by its memory in GB as advertised: --vram 8 for an 8 GB card"
)
GPU_FALLBACK = (N_("give its memory in GB as advertised instead: --vram N or --gpu NGB"), "ft-atlas gpus")
MODEL_FALLBACK = (
    N_("give a config.json path, a Hub id (org/name) or --model-size 7b instead"),
    "ft-atlas models",
)
MIN_PREFIX = 4  # a shorter name ("t4") is no prefix worth suggesting
# A model size typed in a name ("qwen 7b", "smollm 360m"), and how far a catalog model's published
# parameter count may be from it (Qwen2.5-7B has 7.6B, Llama-3.2-1B 1.24B).
_TYPED_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)
SIZE_RATIO = 1.3
METHOD_OPTION = N_(
    "'{query}' is not a method of its own here: it is an option of {method} "
    "(hyperparameter {key}; ft-atlas show {method})"
)
UNKNOWN = {
    "method": N_("unknown method '{query}'{hint}"),
    "GPU": N_("unknown GPU '{query}'{hint}"),
    "model": N_("unknown model '{query}'{hint}"),
}


def _suggest(index: dict[str, str], query: str) -> tuple[str, ...]:
    """Names the query starts with first, longest first ("qwen3-8b-instruct" -> qwen3-8b: a suffix
    the catalog does not use); then names that contain the whole query, shortest first ("MacBook
    Air" -> the chips its aliases name, never an M4 Max by spelling), else the closest spellings."""
    key = normalize(query)
    within = sorted((k for k in index if len(k) >= MIN_PREFIX and key.startswith(k)), key=len, reverse=True)
    containing = sorted((k for k in index if len(key) >= MIN_PREFIX and key in k), key=len)
    others = containing or difflib.get_close_matches(key, index, n=5, cutoff=0.5)
    return tuple(dict.fromkeys(index[c] for c in [*within, *others]))[:5]


def _hint(suggestions: tuple[str, ...]) -> str:
    return t("; did you mean {names}?", names=", ".join(suggestions)) if suggestions else ""


def _find(
    index: dict[str, str],
    kind: str,
    query: str,
    fallback: tuple[str, str] | None = None,
    guesses: Callable[[str], tuple[str, ...]] | None = None,
) -> str:
    key = normalize(query)
    if key in index:
        return index[key]
    suggestions = _suggest(index, query) if guesses is None else guesses(query)
    message = t(UNKNOWN[kind], query=echoed(query), hint=_hint(suggestions))
    if fallback is not None:
        instead, listing = t(fallback[0]), fallback[1]
        message += (
            t(" Or {instead}.", instead=instead)
            if suggestions
            else t(" ({listing} lists them); {instead}.", listing=listing, instead=instead)
        )
    raise UnknownName(message, kind, suggestions)


def _leading_date(text: str) -> str:
    """The date an offer's `date` starts with ("2026-09-09 / 2026-11-09" -> "2026-09-09",
    "2026 (article)" -> "2026"), or "" when it starts with none ("catalog commit date not
    visible"): such an offer stays out of the range of dates."""
    found = re.match(r"\d{4}(?:-\d{2}){0,2}", text)
    return found.group() if found else ""
