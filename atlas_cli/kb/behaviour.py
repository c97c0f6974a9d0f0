"""What the knowledge base's entries do, apart from what they hold: pydantic-free.

Each entry has two classes of the same name: a pydantic model in kb/schema.py, which validates a
hand-edited file, and a plain record in kb/records.py (generated from the models), which is what
every command works with. Importing pydantic's model machinery and defining the models' classes
cost a cached `recommend --json` ~90 ms of its ~200 ms start-up (docs/performance.md), so the
records carry the behaviour without them. The methods below are written once, here, and inherited
by both classes: validators use some of them, the engine the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self, TypeVar

from atlas_cli.i18n import catalog, language

if TYPE_CHECKING:
    from atlas_cli.kb.records import (
        Interconnect,
        Method,
        MethodSelector,
        Ratings,
        Variant,
    )
    from atlas_cli.kb.vocabulary import HostedService, Lang

MemoryRating = Literal["very-low", "low", "medium", "high"]
SpeedRating = Literal["slow", "medium", "fast", "instant"]
QualityRating = Literal["context-dependent", "moderate", "high", "near-full", "excellent"]

# Ordered scales used by `compare` and by the engine's base score.
MEMORY_SCALE: tuple[MemoryRating, ...] = ("very-low", "low", "medium", "high")
SPEED_SCALE: tuple[SpeedRating, ...] = ("slow", "medium", "fast", "instant")
QUALITY_SCALE: tuple[QualityRating, ...] = ("moderate", "high", "near-full", "excellent")
# A number in a hand-edited file beyond this is a typo (a 5,000-digit integer, 1e300).
MAX_NUMBER = 1e15
MAX_LAYERS = 10_000  # blocks in a model (per stack): more is a typo
Scalar = str | bool | int | float | None
HyperValue = str | bool | int | float | list[str]
LARGE_SETS_KEY = "num_train_epochs"  # the one hyperparameter whose value depends on the set's size
LARGE_MODELS_KEY = "learning_rate"  # the one hyperparameter whose value depends on the model's size
# The method properties a rule's selector may constrain (fields of both Method and MethodSelector).
SELECTED_BY = ("kind", "category", "memory_model", "tags", "runs")
PriceKind = Literal["on-demand", "marketplace", "serverless", "reservation", "spot", "list"]
# The kinds a GPU's reference price is taken from (data/prices.yaml says why).
REFERENCE_PRICE_KINDS: tuple[PriceKind, ...] = ("on-demand", "marketplace")


def looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- records -------------------------------------------------------------------------------------


class Mismatch(Exception):
    """Data that does not have a record's shape (a damaged cache entry, for one)."""


class Record:
    """A KB entry as plain data: frozen, compared and hashed by value, dumped as its model would
    be, like the frozen pydantic model it is generated from. Its values are its `__dict__`, so
    that a decoder can hand it a mapping whole (a large KB has ~70,000 entries)."""

    # Each field's name and the key it is stored under (`not` for `not_`), in the model's order.
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        # As a frozen model's: by value, so an entry that holds a list is unhashable. In FIELDS
        # order: a decoder stores an aliased field (`not`) last, __init__ in its place.
        values = self.__dict__
        return hash((type(self), *(values[name] for name, _ in self.FIELDS)))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in self.FIELDS)
        return f"{type(self).__name__}({values})"

    def model_dump(
        self, *, mode: str = "python", by_alias: bool = False, context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The entry as its model's model_dump gives it (`mode` is accepted for the same calls:
        records hold JSON's types only, so both modes give the same data)."""
        data = {
            key if by_alias else name: _dumped(getattr(self, name), by_alias, context)
            for name, key in self.FIELDS
        }
        return self._dump_hook(data, context)

    def _dump_hook(self, data: dict[str, Any], context: dict[str, Any] | None) -> dict[str, Any]:
        return data

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A shallow copy with `update`'s fields replaced, unvalidated, as model_copy does."""
        copy = type(self).__new__(type(self))
        object.__setattr__(copy, "__dict__", {**self.__dict__, **(update or {})})
        return copy


R = TypeVar("R", bound=Record)


# --- decoding (kb/records.py's generated decoders) -----------------------------------------------


def new_record(cls: type[R], values: dict[str, Any]) -> R:
    # The decoded mapping becomes the record's values as it is: it was parsed for this record alone.
    record = cls.__new__(cls)
    object.__setattr__(record, "__dict__", values)
    return record


def expect_list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise Mismatch("list")
    return value


def expect_dict(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise Mismatch("dict")
    return value


def expect_keys(value: Any, keys: frozenset[str], name: str) -> dict[str, Any]:
    if type(value) is not dict or value.keys() != keys:
        raise Mismatch(name)
    return value


def _dumped(value: Any, by_alias: bool, context: dict[str, Any] | None) -> Any:
    if isinstance(value, Record):
        return value.model_dump(by_alias=by_alias, context=context)
    if isinstance(value, list):
        return [_dumped(v, by_alias, context) for v in value]
    if isinstance(value, dict):
        return {k: _dumped(v, by_alias, context) for k, v in value.items()}
    return value


# --- behaviour -------------------------------------------------------------------------------------


class TextBehaviour:
    if TYPE_CHECKING:
        en: str
        ru: str | None

    def get(self, lang: Lang | None = None) -> str:
        """The text in `lang` (default: the current language). In Russian the catalog comes first:
        an explanation that quotes the guide (a rule's `because` whose `ru` is the guide's line) is
        translated whole there, the guide's line inside it; then the text's own `ru`."""
        if (lang or language()) != "ru":
            return self.en
        return catalog().get(self.en) or self.ru or self.en

    def _dump_hook(self, data: dict[str, Any], context: dict[str, Any] | None) -> dict[str, Any]:
        """Dumped in Russian (context {"lang": "ru"}), `ru` holds the text as Russian output shows it."""
        if (context or {}).get("lang") == "ru":
            data["ru"] = self.get("ru")
        return data


class RatingCorrectionBehaviour:
    if TYPE_CHECKING:
        memory: MemoryRating | None
        speed: SpeedRating | None
        quality: QualityRating | None

    def applied_to(self, ratings: Ratings) -> Ratings:
        return ratings.model_copy(
            update={
                "memory": self.memory or ratings.memory,
                "speed": self.speed or ratings.speed,
                "quality": self.quality or ratings.quality,
            }
        )


_VERSION_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def _tuned_as(name: str, prefix: str) -> bool:
    """Whether the API model `name` is one a `tunes` entry names: by prefix, or as the undated name
    of the dated version it lists (Azure deploys model "gpt-5" at version "2025-08-07"; a bare
    "gpt-5" must not match "gpt-5-mini", so a dated entry is no prefix of other names)."""
    return name.startswith(prefix) or name == _VERSION_DATE.sub("", prefix)


class HostedOfferBehaviour:
    if TYPE_CHECKING:
        services: list[HostedService]
        tunes: dict[HostedService, list[str]]

    def services_for(self, name: str) -> frozenset[str]:
        """The services that tune the API model `name` (lower case, without an organisation)."""
        if not self.tunes:
            return frozenset(self.services)
        return frozenset(s for s, prefixes in self.tunes.items() if any(_tuned_as(name, p) for p in prefixes))


class SizedValues(Protocol):
    """A hyperparameter's values from a model size on (schema.LargeModels, and its record)."""

    @property
    def params_b(self) -> float: ...
    @property
    def value(self) -> float | None: ...
    @property
    def with_peft(self) -> float | None: ...


class HyperparameterBehaviour:
    if TYPE_CHECKING:
        value: HyperValue | None
        with_peft: HyperValue | None
        large_models: SizedValues | None

    def sized(self, peft: bool, params_b: float | None) -> float | None:
        """large_models' value for this kind of training and a model of `params_b` billion
        parameters, where the model is that large and it gives one; else None."""
        large = self.large_models
        if large is None or params_b is None or params_b < large.params_b:
            return None
        return large.with_peft if peft else large.value

    def for_training(self, peft: bool, params_b: float | None = None) -> HyperValue | None:
        """The value for this kind of training, and for a model of `params_b` billion parameters
        (sized)."""
        sized = self.sized(peft, params_b)
        if sized is not None:
            return sized
        return self.with_peft if peft and self.with_peft is not None else self.value


class TrainingBehaviour:
    if TYPE_CHECKING:
        online: bool
        value_model: bool
        paired: bool
        reference_model: bool
        scalar_head: bool

    @property
    def liger_fuses_loss(self) -> bool:
        """Whether the `liger` stack computes this objective's loss without the whole logits: the
        next-token loss of SFT and continued pre-training (LLaMA-Factory asks Liger for the logits
        in every other stage: model_utils/liger_kernel.py, require_logits unless the stage is pt
        or sft; the recipes write Liger for those only), and an online policy loss without a value
        model (TRL's GRPO trainer with use_liger_kernel: LigerFusedLinearGRPOLoss)."""
        if self.online:
            return not self.value_model
        return not (self.paired or self.reference_model or self.scalar_head)


class MethodBehaviour:
    if TYPE_CHECKING:
        name: str
        kind: str
        memory_model: str | None
        # Entries within entries are Any here: the model and the record each hold their own kind.
        ratings: Any
        scoring: Any
        variants: Any

    @property
    def embeds_only(self) -> bool:
        """A plan that neither trains nor runs the language model: an encoder embeds the texts
        (the embeddings classifier, which has no memory model)."""
        return self.kind == "no-training" and self.memory_model is None

    @property
    def scored_ratings(self) -> Ratings:
        """The ratings the engine scores with: the guide's, with ft-atlas's correction applied."""
        ratings: Ratings = self.ratings
        correction: RatingCorrectionBehaviour | None = self.scoring
        return ratings if correction is None else correction.applied_to(ratings)

    def estimated_variants(self) -> list[Variant]:
        """The settings to estimate: the declared variants, or the method's defaults."""
        from atlas_cli.kb.records import Variant

        variants: list[Variant] = self.variants
        return variants or [Variant(label=self.name)]


class GpuBehaviour:
    if TYPE_CHECKING:
        name: str
        memory_gib: float
        reported_memory_mib: int | None
        interconnect: Any

    @property
    def unified(self) -> bool:
        """An Apple chip: its GPU shares the machine's memory, which comes in several sizes."""
        link: Interconnect | None = self.interconnect
        return link is not None and link.kind == "unified"

    @property
    def chip_name(self) -> str:
        """An Apple entry's chip without the configuration its name describes: "Apple M3 Max" of
        "Apple M3 Max (128 GB unified, 40-core GPU)"."""
        return self.name.split(" (", 1)[0]

    @property
    def usable_gib(self) -> float:
        """The memory a program can allocate: the driver's report where known, else advertised."""
        return self.memory_gib if self.reported_memory_mib is None else self.reported_memory_mib / 1024


class LlmModelBehaviour:
    if TYPE_CHECKING:
        family: str
        wrapper_type: str | None

    @property
    def checkpoint_type(self) -> str:
        """The model_type the trainers' per-model-type lists see: its wrapper's, where it has one."""
        return self.wrapper_type or self.family


# A condition's forms, for dispatch that holds for the models and the records alike
# (kb/conditions.py compiles either: tests and tools build conditions with the models).
class ComparisonBehaviour:
    pass


class AllOfBehaviour:
    pass


class AnyOfBehaviour:
    pass


class NotOfBehaviour:
    pass


class MethodSelectorBehaviour:
    if TYPE_CHECKING:
        ids: list[str]
        except_: list[str]

    def unconstrained(self) -> bool:
        return all(getattr(self, name) is None for name in SELECTED_BY)

    def matches(self, method: Method) -> bool:
        if method.id in self.except_:
            return False
        return method.id in self.ids or (not self.unconstrained() and self.matches_properties(method))

    def matches_properties(self, method: Method) -> bool:
        """Whether the method's properties (not its id) match: each given one holds the method's
        value (for a list such as `tags`, one of its values)."""
        for name in SELECTED_BY:
            wanted, value = getattr(self, name), getattr(method, name)
            if wanted is None:
                continue
            if not (any(v in wanted for v in value) if isinstance(value, list) else value in wanted):
                return False
        return True


class EffectBehaviour:
    if TYPE_CHECKING:
        action: Literal["prefer", "avoid", "exclude"]

    @property
    def excludes(self) -> bool:
        """The rule removes the plan (rather than weighing it)."""
        return self.action == "exclude"


class RuleBehaviour:
    if TYPE_CHECKING:
        methods: Any

    def selects(self, method: Method) -> bool:
        methods: list[str] | MethodSelector = self.methods
        if isinstance(methods, list):
            return method.id in methods
        return methods.matches(method)


class GatedRepositoryBehaviour:
    if TYPE_CHECKING:
        prefix: str

    def holds(self, repo: str) -> bool:
        return repo.casefold().startswith(self.prefix.casefold())


class MethodIndex:
    """Methods by id, and grouped by the properties a selector reads (SELECTED_BY): choosing a
    rule's methods then costs a lookup per name, or a check per group of alike methods, rather
    than a check per method (a KB of a thousand methods has thousands of rules)."""

    def __init__(self, methods: Iterable[Method]) -> None:
        self.by_id = {m.id: m for m in methods}
        self.alike: dict[tuple[Any, ...], list[Method]] = {}
        for m in self.by_id.values():
            key = tuple(_hashable(getattr(m, name)) for name in SELECTED_BY)
            self.alike.setdefault(key, []).append(m)

    def select(self, selector: list[str] | MethodSelector) -> list[Method]:
        """The indexed methods `selector` selects (a list: those it names)."""
        if isinstance(selector, list):
            return [self.by_id[i] for i in dict.fromkeys(selector) if i in self.by_id]
        found = {i: self.by_id[i] for i in selector.ids if i in self.by_id}
        if not selector.unconstrained():
            for group in self.alike.values():
                if selector.matches_properties(group[0]):
                    found.update((m.id, m) for m in group)
        return [m for i, m in found.items() if i not in selector.except_]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
