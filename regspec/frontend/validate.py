"""Validate merged raw data against the pydantic models; translate errors to diagnostics.

Pydantic's error locations contain segments that are not in the data
(discriminator tags, union member names); they are dropped by walking the
data alongside the location. Errors of a plain union's members on one value
are merged into one line.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, Discriminator, ValidationError

from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.source import Document
from regspec.lang.keras_names import CODE_LAYERS, KERAS_LAYERS
from regspec.lang.layers import LAYERS
from regspec.lang.model import SpecModel, ready
from regspec.paths import Path

_KIND = {
    "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number", "string_type": "a string",
    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "none_required": "null", "literal_error": None,
    "is_instance_of": "a mapping", "tuple_type": "a list",
}
_ANNOTATION_KEYS = {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "dropout"}
_HINTS = {
    ("random_zoom", "factor"): "Keras' RandomZoom takes height_factor (and width_factor)",
    ("random_translation", "factor"): "Keras' RandomTranslation takes height_factor and width_factor",
    ("random_shear", "factor"): "Keras' RandomShear takes x_factor and y_factor",
    ("dense", "output_dim"): "Keras 3 calls it units",
    ("dense", "input_dim"): "the input shape comes from `input` or the layer before",
    ("conv2d", "input_shape"): "put the shape in the top-level `input: {shape: [...]}`",
    ("dense", "input_shape"): "put the shape in the top-level `input: {shape: [...]}`",
}


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"string {value!r}" if len(value) < 60 else f"a string of {len(value)} characters"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def validate_document(doc: Document, model: type[BaseModel] = SpecModel) -> BaseModel:
    if model is SpecModel:
        ready()  # the validator, from the per-user schema cache when it is current
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(translate(exc, doc, model)) from None


def _walk(data: Any, loc: tuple, kind: str = "") -> tuple[Path, bool]:
    """Map a pydantic location onto the data. Returns (path, whether the last segment exists)."""
    path: list[Any] = []
    node = data
    arrived = True  # just stepped into ``node``: a following tag segment is skipped
    exists = True
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict):
            if arrived and isinstance(seg, str) and seg == node.get("type") and not last:
                arrived = False
                continue
            if seg in node:
                path.append(seg)
                node, arrived = node[seg], True
                continue
            if last and isinstance(seg, str) and kind in ("missing", "extra_forbidden"):
                path.append(seg)
                exists = False
            continue
        if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            path.append(seg)
            node, arrived = node[seg], True
            continue
        arrived = False  # a union member name; skip it
    return tuple(path), exists


def _get(data: Any, path: Path) -> Any:
    for seg in path:
        data = data[seg]
    return data


def _model_at(model: type[BaseModel], data: Any, path: Path) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path`` (for did-you-mean hints)."""
    cls: Any = model
    node = data
    for seg in path:
        node = node[seg]
        cls = _field_model(cls, seg, node)
        if cls is None:
            return None
    return _pick(cls, node)


def _field_model(cls: Any, seg: Any, node: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        field = cls.model_fields.get(seg)
        return field.annotation if field else None
    for arg in _members(cls):
        origin = typing.get_origin(arg)
        if origin in (list, tuple):
            return typing.get_args(arg)[0]
        if origin is dict:
            return typing.get_args(arg)[1]
        if isinstance(arg, type) and issubclass(arg, BaseModel) and isinstance(seg, str):
            if isinstance(node, dict) or seg in arg.model_fields:
                got = _field_model(arg, seg, node)
                if got is not None:
                    return got
    return None


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for a in typing.get_args(annotation):
            out.extend(_members(a))
        return out
    return [annotation]


def _pick(annotation: Any, node: Any) -> type[BaseModel] | None:
    models = [m for m in _members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    if isinstance(node, dict) and isinstance(node.get("type"), str):
        for m in models:
            f = m.model_fields.get("type")
            if f is not None and node["type"] in getattr(f.annotation, "__args__", ()):
                return m
    for choose in _chooser(annotation):  # a union whose member is picked by a function of the value
        tag = choose(node)
        picked = [m for m in models if m.__name__ == tag]
        if picked:
            return picked[0]
    return models[0] if len(models) == 1 else None


def _chooser(annotation: Any) -> list[Any]:
    """The callable discriminators of the unions inside ``annotation`` (members tagged by class name)."""
    out: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *meta = typing.get_args(annotation)
        out += [m.discriminator for m in meta if isinstance(m, Discriminator) and callable(m.discriminator)]
        return out + _chooser(inner)
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(annotation):
            out += _chooser(a)
    return out


def translate(exc: ValidationError, doc: Document, model: type[BaseModel] = SpecModel) -> list[Diagnostic]:
    raw = exc.errors(include_url=False, include_context=True)
    items = []
    for err in raw:
        path, exists = _walk(doc.data, err["loc"], err["type"])
        items.append((path, exists, err))
    # A union member that got deeper explains the value better than "expected a mapping".
    deep = {p[:n] for p, _, _ in items for n in range(len(p))}
    by_path: dict[Path, list[tuple[bool, Any]]] = {}
    for path, exists, err in items:
        if path in deep and err["type"] in _KIND:
            continue
        by_path.setdefault(path, []).append((exists, err))
    out: list[Diagnostic] = []
    for path, errs in by_path.items():
        out.append(_diagnostic(doc, model, path, errs))
    out.sort(key=lambda d: (d.file, d.line, d.column))
    return out


def _diagnostic(doc: Document, model: type[BaseModel], path: Path, errs: list[tuple[bool, dict]]) -> Diagnostic:
    exists, err = errs[0]
    kind = err["type"]
    hint = None
    if kind == "missing":
        file, line, col = doc.position(path[:-1])
        return Diagnostic(file, line, col, path, "required key is missing")
    if kind == "extra_forbidden":
        file, line, col = doc.keys.get(path) or doc.position(path)
        message, hint = _unknown_key(doc, model, path)
        return Diagnostic(file, line, col, path, message, hint)
    file, line, col = doc.position(path)
    value = err.get("input")
    specific = [e for _, e in errs if e["type"] not in _KIND]
    literal = [e for _, e in errs if e["type"] == "literal_error"]
    if specific:
        err = specific[0]
        message, hint = _constraint_message(err, value)
    elif literal and isinstance(value, str):
        message, hint = _literal_message(literal[0], value)
    elif literal and len(errs) == 1:
        message, hint = f"must be {_literal_kinds(literal[0])[len('one of '):]} (got {describe(value)})", None
    else:
        kinds: list[str] = []
        for _, e in errs:
            k = _KIND.get(e["type"]) or _literal_kinds(e)
            if k and k not in kinds:
                kinds.append(k)
        message = f"must be {' or '.join(kinds)} (got {describe(value)})"
        if isinstance(value, str) and any(k in ("an integer", "a number") for k in kinds):
            hint = "numbers are written without quotes"
        elif isinstance(value, str) and value.lower() in ("yes", "no", "on", "off") and "true or false" in kinds:
            hint = "YAML 1.2: write true or false"
    return Diagnostic(file, line, col, path, message, hint)


def _literal_kinds(err: dict) -> str:
    return "one of " + err.get("ctx", {}).get("expected", "")


def _literal_message(err: dict, value: str) -> tuple[str, str | None]:
    expected = err.get("ctx", {}).get("expected", "")
    choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5) if len(value) < 200 else []
    shown = repr(value) if len(value) < 60 else f"{value[:40]!r}... ({len(value)} characters)"  # a hostile value, cut
    if len(choices) == 1:
        return f"must be {choices[0]} (got {shown})", None
    if len(choices) > 8:
        return f"unknown value {shown}", (f"did you mean {close[0]!r}?" if close else
                                          f"expected one of: {', '.join(choices)}")
    return f"must be one of {', '.join(choices)} (got {shown})", (f"did you mean {close[0]!r}?" if close else None)


def _constraint_message(err: dict, value: Any) -> tuple[str, str | None]:
    kind, ctx = err["type"], err.get("ctx", {})
    got = f" (got {describe(value)})"
    simple = {
        "greater_than_equal": lambda: f"must be >= {_n(ctx.get('ge'))}",
        "greater_than": lambda: f"must be > {_n(ctx.get('gt'))}",
        "less_than_equal": lambda: f"must be <= {_n(ctx.get('le'))}",
        "less_than": lambda: f"must be < {_n(ctx.get('lt'))}",
        "finite_number": lambda: "must be a finite number",
        "too_short": lambda: f"needs at least {ctx.get('min_length')} item(s)",
        "too_long": lambda: f"allows at most {ctx.get('max_length')} item(s)",
        "string_too_short": lambda: "must not be empty",
        "string_too_long": lambda: f"must be at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: f"must match {ctx.get('pattern')}",
    }
    if kind in simple:
        if kind in ("too_short", "too_long"):
            got = f" (got {ctx.get('actual_length')})"
        return simple[kind]() + got, None
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        choices = [c.strip().strip("'") for c in str(ctx.get("expected_tags", "")).split(",")]
        return f"unknown type {tag!r}", _type_hint(str(tag), choices)
    if kind == "union_tag_not_found":
        return "needs a 'type' key", None
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])), None
    if kind == "literal_error":
        return _literal_message(err, str(value))
    return err["msg"][0].lower() + err["msg"][1:] + got, None


def _type_hint(tag: str, choices: list[str]) -> str:
    """A Keras layer regspec lacks is said to be one; a typo gets the closest regspec type."""
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", tag)).lower()  # as Keras names
    if snake != tag.lower() and snake in choices:
        return f"types are snake_case: {snake!r}"
    if snake in CODE_LAYERS and snake in KERAS_LAYERS:
        return f"Keras has {snake}, but a spec never runs code: regspec has no {snake} layer"
    if snake in KERAS_LAYERS and snake not in choices and LAYERS.get(snake) is None:
        return f"Keras has {snake}, but regspec does not support it yet"
    close = difflib.get_close_matches(snake, choices, n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(choices)}"


def _n(x: Any) -> Any:
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _unknown_key(doc: Document, model: type[BaseModel], path: Path) -> tuple[str, str | None]:
    key = path[-1]
    parent = path[:-1]
    try:
        cls = _model_at(model, doc.data, parent)
    except (KeyError, IndexError, TypeError):
        cls = None
    node = _get(doc.data, parent)
    tag = node.get("type") if isinstance(node, dict) else None
    tag = tag if isinstance(tag, str) else None  # a hostile `type` may be any value
    if tag is not None and (tag, str(key)) in _HINTS:
        return f"unknown key {key!r}", _HINTS[(tag, str(key))]
    if cls is None:
        return f"unknown key {key!r}", None
    fields = [f for f in cls.model_fields if f != "type"]
    close = difflib.get_close_matches(str(key), fields, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}", f"did you mean {close[0]!r}?"
    if key in _ANNOTATION_KEYS and tag in LAYERS:
        return f"{tag} has no weights: {key!r} does not apply", "annotations go on layers with weights (dense, conv2d, ...)"
    return f"unknown key {key!r}", f"{cls.__name__} takes: {', '.join(fields)}"
