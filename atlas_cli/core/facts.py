"""The facts the engine's rules read, computed from their definitions in kb/facts.py."""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Final, NamedTuple

from atlas_cli.core.estimates import Estimate
from atlas_cli.core.memory.estimate import completion_length
from atlas_cli.core.profile import Profile
from atlas_cli.core.resolve import Hardware, ModelInfo, training_stack
from atlas_cli.kb.behaviour import Scalar
from atlas_cli.kb.facts import FACTS

if TYPE_CHECKING:
    from atlas_cli.core.plans import Plan


class FactContext(NamedTuple):
    """What a profile fact's `source` path starts from."""

    profile: Profile
    hardware: Hardware
    model: ModelInfo

    @property
    def completion_tokens(self) -> int:
        return completion_length(self.profile.seq_len or self.model.online_seq_len)

    @property
    def stack(self) -> str:
        return training_stack(self.profile.stack, self.hardware, self.model)


_PROFILE_FACTS: Final = tuple(
    (spec.name, attrgetter(spec.source))
    for spec in FACTS
    if not (spec.family or spec.per_plan or spec.per_pipeline)
)
_METHOD_FACTS: Final = tuple((spec.name, attrgetter(spec.source)) for spec in FACTS if spec.per_method)
_PLAN_FACTS: Final = tuple((spec.name, attrgetter(spec.source)) for spec in FACTS if spec.per_plan)


class Candidate(NamedTuple):
    """A method being scored, before its plan exists: the attributes `plan.*` facts read
    (a Plan has the same ones)."""

    method: str
    kind: str
    category: str
    fit: str | None
    memory_gb: float | None
    offload: str | None
    host_gb: float | None
    gpus: int | None = None  # GPUs the plan uses (None: nothing runs on a local GPU)
    spare_gpus: int | None = None  # of the user's GPUs, those the plan leaves free
    precision: str | None = None  # the estimate's precision
    serving_bits: int | None = None  # a no-training plan's served weights: 16, 8 or 4
    ram_gb: float | None = None  # CPU RAM per node an offloading plan needs (Estimate.ram_gb)
    sharding: str | None = None  # ddp, zero2 or zero3 (kb.vocabulary.SHARDINGS)
    quantized_experts: bool | None = None  # memory.states.plan_experts_quantized
    reference_precomputed: bool | None = None  # EstimateSettings.reference_precomputed

    @property
    def fits(self) -> bool | None:
        return None if self.fit is None else self.fit == "yes"


def profile_facts(profile: Profile, hardware: Hardware, model: ModelInfo) -> dict[str, Scalar]:
    context = FactContext(profile, hardware, model)
    return {name: read(context) for name, read in _PROFILE_FACTS}


def stage_facts(objectives: tuple[str, ...], pipeline: tuple[str, ...]) -> dict[str, Scalar]:
    """`stage.<objective>`: whether the chosen pipeline runs that objective."""
    return {f"stage.{o}": o in pipeline for o in objectives}


def hosted_facts(
    pipeline: tuple[str, ...], hosted_services: Mapping[str, str], model: ModelInfo
) -> dict[str, Scalar]:
    """`api_model_tunes_pipeline`: whether the providers that serve an API model offer a service
    for every stage of the pipeline (an objective no provider runs, such as KTO, is not offered)."""
    if model.api_services is None:
        return {"api_model_tunes_pipeline": None}
    offered = all(hosted_services.get(o) in model.api_services for o in pipeline)
    return {"api_model_tunes_pipeline": offered}


def method_facts(method_id: str, estimate: Estimate | None) -> dict[str, Scalar]:
    """`fits.<method>`, `memory_gb.<method>`: null without an estimate (no GPU, API access)."""
    return {
        f"{name}.{method_id}": None if estimate is None else read(estimate) for name, read in _METHOD_FACTS
    }


def plan_facts(candidate: Candidate | Plan) -> dict[str, Scalar]:
    return {name: read(candidate) for name, read in _PLAN_FACTS}
