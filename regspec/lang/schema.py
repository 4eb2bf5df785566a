"""Export the JSON Schema from the pydantic models (the one source of truth).

The models judge a spec after its blocks are expanded and its overrides applied; an editor
judges the file as written. The schema is the models' own, completed for the file as written:
a layer item may be a block use, a block's layers are layers whose values may be `$param`
strings, `overrides` keys are paths, and a JSON file may name its schema with `$schema`. What
JSON Schema cannot say (cross-field rules, what a path points at), `regspec validate` decides.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

SCHEMA_ID = "https://regspec.dev/schemas/regspec.schema.json"
SWEEP_ID = "https://regspec.dev/schemas/sweep.schema.json"

#: A path of the one path syntax (regspec.paths): keys, [i] indices and layer names.
PATH_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[[0-9]+\])*$"
#: A block's parameter, where a value goes in the block's layers (frontend.blocks).
PARAM = {"type": "string", "pattern": r"^\$[A-Za-z_][A-Za-z0-9_]{0,63}$", "description": "A block parameter."}
DOLLAR_SCHEMA = {"type": "string", "description": "The JSON Schema this file follows (for editors; ignored)."}
TEMPLATE = "Template"  # prefix of the $defs of block-body layers


def spec_schema() -> dict[str, Any]:
    from regspec.lang.model import SpecModel

    schema = SpecModel.model_json_schema(mode="validation")
    required = schema.pop("required", [])
    # A spec that `extends` a parent may leave out what the parent gives.
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {"required": ["regspec"]}
    schema["else"] = {"required": required}
    _as_written(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _as_written(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    props = schema["properties"]
    props["$schema"] = DOLLAR_SCHEMA
    props["overrides"]["propertyNames"] = {"pattern": PATH_PATTERN}
    # A layer item is a layer, or a use of a block: `{block: NAME, name: INSTANCE, param: value...}`.
    defs["Layer"] = props["layers"]["items"]
    defs["BlockUse"] = {
        "type": "object", "required": ["block", "name"],
        "description": "A use of a block defined under `blocks:`; its other keys give the block's parameters.",
        "properties": {"block": {"type": "string", "description": "The block's name under `blocks:`."},
                       "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
                                "description": "The instance: it prefixes the names of the block's layers."},
                       "inputs": _any_inputs(defs)},
    }
    props["layers"]["items"] = {"if": {"type": "object", "required": ["block"]},
                                "then": {"$ref": "#/$defs/BlockUse"}, "else": {"$ref": "#/$defs/Layer"}}
    # A block's layers are layers in which any value may be a `$param`.
    names = _reachable(defs, defs["Layer"])
    for name in names:
        defs[TEMPLATE + name] = _template_def(defs[name], names)
    union = defs["Layer"]
    defs[TEMPLATE + "Layer"] = {"anyOf": [_template_def({"$ref": option["$ref"]}, names) for option in union["oneOf"]]}
    defs["Block"]["properties"]["layers"]["items"] = {"$ref": f"#/$defs/{TEMPLATE}Layer"}


def _any_inputs(defs: dict[str, Any]) -> Any:
    """What `inputs:` takes, as every layer takes it (the block use passes it to its first layer)."""
    return copy.deepcopy(defs["Dense"]["properties"]["inputs"])


def _reachable(defs: dict[str, Any], root: Any) -> list[str]:
    """The $defs ``root`` refers to, directly or not, in a stable order."""
    seen: list[str] = []
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref[len("#/$defs/"):]
                if name not in seen:
                    seen.append(name)
                    todo.append(defs[name])
            todo.extend(v for k, v in node.items() if k != "discriminator")
        elif isinstance(node, list):
            todo.extend(node)
    return sorted(seen)


def _template_def(node: Any, names: list[str]) -> Any:
    """``node`` with every value schema also accepting a `$param` string (refs to templates)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "discriminator":
            continue  # its mapping names the plain defs; anyOf needs none
        if key == "$ref" and value[len("#/$defs/"):] in names:
            out[key] = f"#/$defs/{TEMPLATE}{value[len('#/$defs/'):]}"
        elif key == "properties":
            out[key] = {k: _or_param(v, names) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _or_param(value, names)
        elif key == "patternProperties":
            out[key] = {k: _or_param(v, names) for k, v in value.items()}
        elif key == "prefixItems":
            out[key] = [_or_param(v, names) for v in value]
        elif key in ("anyOf", "oneOf", "allOf"):
            out["anyOf" if key == "oneOf" else key] = [_template_def(v, names) for v in value]
        else:
            out[key] = value
    return out


def _or_param(node: Any, names: list[str]) -> Any:
    return {"anyOf": [_template_def(node, names), PARAM]} if isinstance(node, dict) and node else node


def sweep_schema() -> dict[str, Any]:
    from regspec.lang.sweep import SweepModel

    schema = SweepModel.model_json_schema(mode="validation", by_alias=True)
    schema["properties"]["$schema"] = DOLLAR_SCHEMA
    for key in ("axes", "set"):
        if key in schema["properties"]:
            schema["properties"][key]["propertyNames"] = {"pattern": PATH_PATTERN}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SWEEP_ID, **schema}


SCHEMAS = {"regspec.schema.json": spec_schema, "sweep.schema.json": sweep_schema}


def installed(name: str = "regspec.schema.json") -> str:
    """The schema shipped inside the package (the project's schemas/ links to the same files)."""
    return os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, "schemas", name))


def modeline_target(spec_path: str | None, name: str = "regspec.schema.json") -> str:
    """Where the modeline of a spec written to ``spec_path`` points: the nearest project's
    `schemas/` (what `regspec schema` writes), relative to the spec; else the installed copy.
    Either way a file that exists on this machine, never a made-up URL. Standard output (None):
    an absolute path, as the file may be saved anywhere."""
    folder = os.path.dirname(os.path.abspath(spec_path)) if spec_path else os.getcwd()
    here = folder
    while True:
        candidate = os.path.join(here, "schemas", name)
        if os.path.isfile(candidate):
            return os.path.relpath(candidate, folder) if spec_path else candidate
        parent = os.path.dirname(here)
        if parent == here:
            return installed(name)
        here = parent


def modeline(spec_path: str | None, schema: str | None = None) -> str:
    return f"# yaml-language-server: $schema={schema or modeline_target(spec_path)}\n"


def schema_text(name: str = "regspec.schema.json") -> str:
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=False) + "\n"
