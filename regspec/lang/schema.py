"""Export the JSON Schema from the pydantic models (the one source of truth)."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_ID = "https://regspec.dev/schemas/regspec.schema.json"
SWEEP_ID = "https://regspec.dev/schemas/sweep.schema.json"


def spec_schema() -> dict[str, Any]:
    from regspec.lang.model import SpecModel

    schema = SpecModel.model_json_schema(mode="validation")
    required = schema.pop("required", [])
    # A spec that `extends` a parent may leave out what the parent gives.
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {"required": ["regspec"]}
    schema["else"] = {"required": required}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def sweep_schema() -> dict[str, Any]:
    from regspec.lang.sweep import SweepModel

    schema = SweepModel.model_json_schema(mode="validation", by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SWEEP_ID, **schema}


SCHEMAS = {"regspec.schema.json": spec_schema, "sweep.schema.json": sweep_schema}


def schema_text(name: str = "regspec.schema.json") -> str:
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=False) + "\n"
