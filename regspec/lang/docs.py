"""Generate docs/spec-reference.md from the models' JSON Schema (descriptions included)."""

from __future__ import annotations

from typing import Any

from regspec.lang.layers import LAYERS
from regspec.lang.schema import TEMPLATE, spec_schema, sweep_schema

HEADER = """# regspec spec reference

Generated from the pydantic models by `regspec docs`; do not edit by hand.
Every key below is checked strictly: unknown keys are errors, `"64"` is not 64,
`true` is not 1, numbers must be finite.

The JSON Schema in `schemas/` (what an editor checks as you type) judges the file as written:
block uses, `$param` values in a block's layers, `overrides` paths. What a schema cannot say is
`regspec validate`'s alone: cross-field rules (unique layer names, what `inputs:` and callbacks
name, shapes), whether an `overrides` or sweep path exists and what its value must be, and
anything that depends on a parent spec (`extends`) or on a block's expansion.

"""


def _type(prop: dict[str, Any]) -> str:
    if "if" in prop and "then" in prop:  # a layer item: a layer, or a block use
        return "a layer (see [Layers](#layers)) or a [BlockUse](#blockuse)"
    if "$ref" in prop:
        name = prop["$ref"].split("/")[-1]
        if name == "Layer":
            return "a layer (see [Layers](#layers))"
        if name == TEMPLATE + "Layer":
            return "a layer (see [Layers](#layers)); any value may be a `$param`"
        return f"[{name}](#{name.lower()})"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "anyOf" in prop or "oneOf" in prop:
        members = prop.get("anyOf", prop.get("oneOf", []))
        if len(members) > 8:
            return "a layer (see [Layers](#layers))"
        return " or ".join(_type(p) for p in members)
    t = prop.get("type")
    if t == "array":
        items = prop.get("items", {})
        size = ""
        if prop.get("minItems") is not None and prop.get("minItems") == prop.get("maxItems"):
            size = f" of {prop['minItems']}"
        return f"list{size} of {_type(items)}" if items else "list"
    if t == "object":
        extra = prop.get("additionalProperties")
        return f"mapping of path to {_type(extra)}" if isinstance(extra, dict) and extra else "mapping"
    bounds = []
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in prop:
            bounds.append(f"{sym} {prop[key]}")
    if "pattern" in prop:
        bounds.append(f"matching `{prop['pattern']}`")
    return (t or "any") + (" " + ", ".join(bounds) if bounds else "")


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" in prop:
        v = prop["default"]
        return "`null`" if v is None else f"`{v}`".replace("True", "true").replace("False", "false")
    return ""


def _section(name: str, schema: dict[str, Any], keras: str | None = None) -> str:
    lines = [f"### {name}", ""]
    if keras:
        lines += [f"Keras class: `keras.layers.{keras}`", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    props = schema.get("properties", {})
    if not props:
        return "\n".join(lines + ["(no keys)", ""])
    required = set(schema.get("required", []))
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in props.items():
        desc = " ".join(prop.get("description", "").split()).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type(prop).replace('|', chr(92) + '|')} | {_default(prop, key in required)} | {desc} |")
    return "\n".join(lines + [""])


def reference() -> str:
    spec = spec_schema()
    defs = spec["$defs"]
    by_keras = {cls.__name__: cls.keras_class for cls in LAYERS.values()}
    layer_defs = sorted(n for n in defs if n in by_keras)
    # The layer union and the block-body copies of the layer defs are plumbing: described above.
    other = sorted(n for n in defs if n not in by_keras and n != "Layer" and not n.startswith(TEMPLATE))
    root = {k: v for k, v in spec.items() if k in ("description", "properties")}
    root["required"] = spec["else"]["required"]
    out = [HEADER, "## The spec file", "", _section("Spec", root)]
    out += ["## Layers", "", "`type` is the snake_case of the Keras class; the other keys are its arguments.", ""]
    out += [_section(n, defs[n], by_keras[n]) for n in layer_defs]
    out += ["## Sections and values", ""]
    out += [_section(n, defs[n]) for n in other]
    sweep = sweep_schema()
    out += ["## Sweep files", "", _section("SweepModel", sweep)]
    return "\n".join(out).rstrip() + "\n"
