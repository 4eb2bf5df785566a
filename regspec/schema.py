"""Export the JSON Schema from the pydantic models (the one source of truth)."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://regspec.dev/schemas/regspec.schema.json"


def spec_schema() -> dict[str, Any]:
    from .spec.model import Spec as SpecModel

    schema = SpecModel.model_json_schema(mode="validation")
    required = schema.pop("required", [])
    # A spec that `extends` a parent may leave out what the parent gives.
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {"required": ["regspec"]}
    schema["else"] = {"required": required}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"
