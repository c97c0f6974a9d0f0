"""The KB's plain records (kb/records.py) against the pydantic models they are generated from."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, Field

from atlas_cli.core.shapes import bare_model
from atlas_cli.kb import behaviour, records, schema
from atlas_cli.kb.files import bundled_kb_path
from atlas_cli.kb.loading import load_knowledge_base
from scripts.generate_records import TARGET, Writer, generate, record_lines

KB = load_knowledge_base(bundled_kb_path())


def test_records_are_generated_from_the_current_schema() -> None:
    assert TARGET.read_text(encoding="utf-8") == generate(), (
        "atlas_cli/kb/records.py is stale: run `python scripts/generate_records.py`"
    )


def test_the_loaded_kb_is_records() -> None:
    assert isinstance(KB, records.KnowledgeBase)
    assert all(isinstance(m, records.Method) for m in KB.methods)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_record_dumps_as_its_model(lang: str) -> None:
    """`show --json` and the cache entries dump records; the models' dump is the contract."""
    model = schema.KnowledgeBase.model_validate(KB.model_dump(by_alias=True))
    context = {"lang": lang}
    assert KB.model_dump(mode="json", by_alias=True, context=context) == model.model_dump(
        mode="json", by_alias=True, context=context
    )
    assert KB.model_dump() == model.model_dump()
    assert records.from_model(model) == KB


def test_records_compare_and_hash_by_value_and_are_frozen() -> None:
    ratings = records.Ratings(memory="low", speed="fast", quality="high")
    same = records.Ratings(memory="low", speed="fast", quality="high")
    assert ratings == same and hash(ratings) == hash(same)
    assert ratings.model_copy(update={"speed": "slow"}) != ratings
    with pytest.raises(AttributeError):
        ratings.speed = "slow"  # type: ignore[misc]
    with pytest.raises(TypeError):  # it holds lists, as an unhashable frozen model does
        hash(KB.methods[0])


def test_a_record_built_without_validation_is_valid() -> None:
    """A bare size's shape and a method's default variant are records made in code: the models
    accept them as they are."""
    model = bare_model(7e9)
    assert schema.LlmModel.model_validate(model.model_dump()).model_dump() == model.model_dump()
    for method in KB.methods:
        for variant in method.estimated_variants():
            schema.Variant.model_validate(variant.model_dump())


def test_models_and_records_share_their_behaviour() -> None:
    for name in ("Text", "Method", "Gpu", "LlmModel", "MethodSelector", "Rule", "Training"):
        mixin = getattr(behaviour, f"{name}Behaviour")
        assert issubclass(getattr(schema, name), mixin) and issubclass(getattr(records, name), mixin)
    gpu = next(g for g in KB.gpus if g.id == "rtx-3090")
    validated = schema.Gpu.model_validate(gpu.model_dump())
    assert (gpu.usable_gib, gpu.unified, gpu.chip_name) == (
        validated.usable_gib,
        validated.unified,
        validated.chip_name,
    )


class _A(BaseModel):
    x: int


class _B(BaseModel):
    x: int


class _Listed(BaseModel):
    parts: list[_A] | str | int


class _Made(BaseModel):
    parts: list[int] = Field(default_factory=list)


@pytest.mark.parametrize(
    ("annotation", "refused"),
    [
        (_A | _B, "same keys"),
        (_A | dict[str, int], "a mapping beside a model"),
        (list[_A] | str | int, "only one member that holds models"),
    ],
)
def test_the_generator_refuses_a_union_it_cannot_tell_apart(annotation: object, refused: str) -> None:
    """A review: such unions would decode silently wrong (the last same-keyed model winning, a
    valid mapping taken for a model, raw dicts left where records belong)."""
    with pytest.raises(ValueError, match=refused):
        Writer().decode(annotation, "value")


class _Defaulted(BaseModel):
    part: _A = _A(x=1)


@pytest.mark.parametrize(
    ("model", "refused"),
    [(_Made, "default_factory is not supported"), (_Defaulted, "a model as a default is not supported")],
)
def test_the_generator_refuses_a_default_it_cannot_write(model: type[BaseModel], refused: str) -> None:
    with pytest.raises(ValueError, match=refused):
        record_lines(model, Writer(), typing.get_type_hints(model, include_extras=True))
