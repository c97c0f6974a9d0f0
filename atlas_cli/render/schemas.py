"""JSON Schemas of the knowledge base, the profile and the JSON outputs, from their definitions."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from atlas_cli.core.profile import COUNT, PROFILE_FIELDS, SIZE, VRAM, ProfileField
from atlas_cli.kb.schema import KnowledgeBase
from atlas_cli.kb.vocabulary import MAX_GENERATIONS
from atlas_cli.render.contracts import OUTPUTS
from atlas_cli.render.documents import SCHEMA_VERSION

_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "name": {"type": "string"},
    "size": {"type": ["string", "number"], "description": SIZE.examples},
    "count": {"type": ["string", "integer"], "description": COUNT.examples},
    "vram": {"type": ["string", "number"], "description": f"GB as advertised: {VRAM.examples}"},
    "gpus": {"type": "integer", "minimum": 1},
    "generations": {"type": "integer", "minimum": 2, "maximum": MAX_GENERATIONS},
    "tokens": {"type": ["string", "integer"], "description": "512, 4k or 32k (k = 1024)"},
    "flag": {"type": "boolean"},
    "number": {"type": ["string", "number"], "description": "a number greater than 0, e.g. 3 or 1.5"},
    "price": {"type": ["string", "number"], "description": "USD, 0 or more, e.g. 2.5"},
}


def _field_schema(field: ProfileField) -> dict[str, Any]:
    if field.choices:
        schema: dict[str, Any] = {"type": "string", "enum": [c.value for c in field.choices]}
    else:
        schema = dict(_KIND_SCHEMAS[field.kind])
    schema["description"] = field.help
    if field.default is not None:
        schema["default"] = field.default
    return schema


def profile_schema() -> dict[str, Any]:
    """One batch input line / one profile: the keys are the flag names in snake_case."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(f) for f in PROFILE_FIELDS},
    }


def all_schemas() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "knowledge_base": KnowledgeBase.model_json_schema(),
        "profile": profile_schema(),
        "outputs": {name: TypeAdapter(shape).json_schema() for name, shape in OUTPUTS.items()},
    }
