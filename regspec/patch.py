"""Variants that change only values: validated where they changed, the rest reused.

A sweep's variants mostly change a regularizer's factor, a dropout rate or a learning rate.
None of these is read by the cross-field checks, the graph or the shapes, so a variant that
changes only such values is the base's checked result with the new values patched in: the
changed layers and sections are validated again (by the same pydantic validator, in a document
of their own), everything else is the base's objects. Anything else, and any value that does
not validate, goes through the whole pipeline, so errors keep their lines and wording
(`pipeline.check_document` stays the definition; tests hold the two equal).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from regspec.frontend.source import Document
from regspec.ir.graph import LayerNode, Program, SourceMap
from regspec.lang.layers import LAYERS, Layer
from regspec.lang.layers.base import dropout_name
from regspec.lang.layers.core import Dropout
from regspec.lang.model import SpecModel
from regspec.lang.types import SpecName, drop_unset_later, later_fields
from regspec.paths import Path, PathError, format_path, locate
from regspec.pipeline import Checked

_NUMBER = (int, float)
_DROPOUT = Dropout(type="dropout", rate=0.5)  # what an annotation's Dropout is made from


def _number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def inert(path: Path, old: Any, new: Any) -> bool:
    """Whether changing the value at ``path`` from ``old`` to ``new`` leaves the checks, the graph
    and the shapes as they are (validation of the value itself still runs).

    - the spec's name and description;
    - a layer's regularizer, set before and after (whether a model is regularized decides its
      history keys: `data_loss`);
    - a layer's dropout annotation (its Dropout node is inserted or removed; not on a repeated layer);
    - a dropout layer's rate, a number before and after;
    - a number among the optimizer's arguments, given or not before (a learning-rate schedule is
      not a number; `optimizer: adam` becomes `{type: adam, learning_rate: ...}`);
    - the training's epochs and seed, numbers given or not before.
    """
    if path in (("name",), ("description",)):
        return True
    if len(path) >= 3 and path[0] == "layers":
        field = path[2]
        if isinstance(field, str) and field.endswith("_regularizer"):
            return old is not None and new is not None
        if path[2:] == ("dropout",):  # a Dropout node that appears or goes is inserted or removed
            return (old is None or _number(old)) and (new is None or _number(new))
        if path[2:] == ("rate",):
            return _number(old) and _number(new)
        return False
    if (len(path) == 3 and path[:2] == ("compile", "optimizer")) or path in (("training", "epochs"), ("training", "seed")):
        return (old is None or _number(old)) and _number(new)  # None: not written (`optimizer: adam`, no seed)
    return False


def targets(data: Any, overrides: Mapping[str, Any]) -> list[Path] | None:
    """Each override's path with layer names as indices, when every one is inert (else None)."""
    out = []
    for text, value in overrides.items():
        found = _located(data, text)
        if found is None or not inert(found[0], found[1], value):
            return None
        out.append(found[0])
    return out


def _located(data: Any, text: str) -> tuple[Path, Any] | None:
    """:func:`paths.locate`, once for each document and path (a grid's variants set the same paths)."""
    def find() -> tuple[Path, Any] | None:
        try:
            return locate(data, text)
        except PathError:
            return None

    return _once(("locate", id(data), text), data, find)


def derive(base: Checked, base_data: dict, doc: Document, changed: list[tuple[Path, Any]]) -> Checked | None:
    """``base`` (checked from ``base_data``) with ``doc``, whose values at ``changed`` (paths
    :func:`targets` allowed, and the value each holds now) are new; None when a changed value
    does not validate, a warning is at a changed path or a Dropout cannot simply be inserted
    (then the whole pipeline reports it)."""
    if base.warnings and _warned(base.warnings, tuple(p for p, _ in changed)):
        return None
    units = _validated(base_data, doc.data, changed)
    if units is None:
        return None
    new_layers: dict[int, Layer] = {u[1]: v for u, v in units.items() if u[0] == "layers"}
    update: dict[str, Any] = {u[0]: v for u, v in units.items() if u[0] != "layers"}
    nodes = _nodes(base.program, new_layers)
    if nodes is None:
        return None
    model_layers = list(base.model.layers)
    for i, layer in new_layers.items():
        model_layers[i] = layer
    # resolve's order: each layer's copies and their dropouts; a reuse item where it was written
    resolved_layers = [model_layers[n.path[1]] if n.shares is not None else n.layer  # type: ignore[index]
                       for n in nodes]
    model = base.model.model_copy(update={"layers": model_layers, **update})
    rupdate = dict(update)
    if "training" in update and base.resolved.training is not base.model.training:  # data.batch_size moved in
        rupdate["training"] = update["training"].model_copy(update={"batch_size": base.resolved.training.batch_size})
    resolved = base.resolved.model_copy(update={"layers": resolved_layers, **rupdate})
    program = Program(
        name=resolved.name, inputs=base.program.inputs, nodes=tuple(nodes), outputs=base.program.outputs,
        compile=resolved.compile, data=resolved.data, training=resolved.training,
        source=SourceMap(doc.file, doc.position),
    )
    return Checked(model, resolved, program, base.warnings)


#: What variants of one base share, made once: where each path leads, a changed layer or section's
#: validated object (keyed by the base's item and the values set in it: 20 x 100 points of two
#: axes are 120 items to validate), the copies made from them, what to do with each graph node,
#: and each section's and layer's JSON for the hash. Least recently used goes first.
_MEMO: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_MEMO_SIZE = 4096


def _validated(base_data: dict, data: dict, changed: list[tuple[Path, Any]]) -> dict[tuple, Any] | None:
    """The changed layers (``("layers", i)``) and sections (``(key,)``) of ``data``, validated."""
    set_in: dict[tuple, list] = {}
    for p, value in changed:
        unit = p[:2] if p[0] == "layers" else p[:1]
        set_in.setdefault(unit, []).append((p[len(unit):], _frozen(value)))
    out: dict[tuple, Any] = {}
    missing: list[tuple] = []
    for unit, values in set_in.items():
        if unit == ("name",):
            continue
        held = _get(base_data, unit)
        key = (unit, id(held), tuple(values)) if held is not None and all(v is not _UNHASHABLE for _, v in values) else None
        hit = _MEMO.get(key) if key is not None else None
        if key is not None and hit is not None and hit[0] is held:
            _used(key)
            out[unit] = hit[1]
        else:
            missing.append((unit, key, held))
    if ("name",) in set_in:
        try:
            out[("name",)] = _NAME.validate_python(data["name"])
        except ValidationError:
            return None
    if missing:
        layers = [u for u, _, _ in missing if u[0] == "layers"]
        sections = [u[0] for u, _, _ in missing if u[0] != "layers"]
        mini: dict[str, Any] = {"regspec": data.get("regspec"), "name": "x", "compile": {},
                                **{k: data.get(k) for k in sections}}
        mini["layers"] = [data["layers"][u[1]] for u in layers] or data["layers"][:1]
        try:
            fresh = SpecModel.model_validate(mini)  # by the spec's own validator
        except ValidationError:
            return None
        for unit, key, held in missing:
            value = fresh.layers[layers.index(unit)] if unit[0] == "layers" else getattr(fresh, unit[0])
            out[unit] = value
            if key is not None:
                _remember(key, held, value)
    return out


def _remember(key: tuple, held: Any, value: Any) -> None:
    _MEMO[key] = (held, value)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)


def _once(key: tuple, held: Any, make: Callable[[], Any]) -> Any:
    """``make()``, once for each key; ``key`` names ``held`` by its id, and ``held`` stays in the
    entry (so no other object takes its id while the entry lives) and is checked on every hit."""
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is held:
        _used(key)
        return hit[1]
    value = make()
    _remember(key, held, value)
    return value


def _used(key: tuple) -> None:
    """Least recently used goes first: a base's parts outlive the many variants made from it."""
    try:
        _MEMO.move_to_end(key)
    except KeyError:  # taken out meanwhile by another thread
        pass


def _copied(model: Any, update: dict[str, Any], frozen: tuple | None = None) -> Any:
    """``model.model_copy(update=update)``, once for each model and values (a grid's points repeat
    them); ``frozen``: the values as a key, when the caller has made it already."""
    if frozen is None:
        frozen = tuple((k, _frozen(v)) for k, v in update.items())
        if any(v is _UNHASHABLE for _, v in frozen):
            return model.model_copy(update=update)
    return _once(("copy", id(model), frozen), model, partial(model.model_copy, update=update))


_UNHASHABLE = object()
_NAME = TypeAdapter(SpecName)


def _frozen(value: Any) -> Any:
    """A value as a memo key: 1, 1.0 and true are three values; what is not plain data (a tuple
    or an object from Python code) is not remembered."""
    if value is None or isinstance(value, (str, int, float)):
        return type(value).__name__, value
    if isinstance(value, (dict, list)):
        try:
            return "json", json.dumps(value, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            return _UNHASHABLE
    return _UNHASHABLE


def _get(data: Any, path: Path) -> Any:
    for seg in path:
        if isinstance(data, dict):
            data = data.get(seg)
        elif isinstance(data, list) and isinstance(seg, int):
            data = data[seg]
        else:
            return None
    return data


def _rate(layer: Layer) -> Any:
    """The dropout annotation's rate (a recurrent layer's own `dropout` is an argument like any other)."""
    return layer.__dict__.get("dropout") if "dropout" in LAYERS[layer.tag].annotations else None


def _nodes(program: Program, new_layers: dict[int, Layer]) -> list[LayerNode] | None:
    """The program's nodes with the changed layers' values, as resolve would make them: each
    item keeps the name and repeat resolve gave it and has its dropout moved out; a dropout
    annotation that appears or goes adds or removes its Dropout node (None where that is not
    a plain insertion: a repeated layer, an output, a reference to another output).

    What to do with each node depends only on which layers changed and whether each has a
    dropout rate now (none, zero, non-zero): worked out once (:func:`_steps`), then done with
    each variant's layers."""
    rates = {i: _rate(new) for i, new in new_layers.items()}
    state = tuple((i, rates[i] is None, bool(rates[i])) for i in sorted(new_layers))
    steps = _once(("steps", id(program), state), program, partial(_steps, program, new_layers, rates))
    if steps is None:
        return None
    swap: dict[int, Layer] = {}  # id of a base item -> its patched twin (reuse nodes share it)
    out: list[LayerNode] = []
    for kind, node, index, inputs, keep in steps:
        if kind == "same":
            out.append(node)
        elif kind == "item":
            layer = _copied(new_layers[index], *keep) if keep else new_layers[index]
            swap[id(node.layer)] = layer
            out.append(LayerNode(node.id, layer, inputs, node.path, node.copy, node.shares))
        elif kind == "reuse":
            out.append(LayerNode(node.id, swap[id(node.layer)], inputs, node.path, node.copy, node.shares))
        elif kind == "rate":  # a Dropout node the annotation made, with the new rate
            out.append(LayerNode(node.id, _copied(node.layer, {"rate": rates[index]}), inputs, node.path, node.copy))
        else:  # "dropout": one the annotation makes now, after ``node``
            drop = _copied(_DROPOUT, {"rate": rates[index], "name": keep["name"]})  # the rate was validated
            out.append(LayerNode(keep["id"], drop, (node.id,), node.path + ("dropout",), node.copy))
    return out


def _steps(program: Program, new_layers: dict[int, Layer], rates: dict[int, Any]) -> list[tuple] | None:
    """For each node of ``program``: ("same", node) as it is (its inputs rewired if a Dropout came
    or went before it), ("item", node, index, inputs, (keep, its key)) with the changed layer, ("reuse", ...)
    calling a changed layer again, ("rate", ...) an annotation's Dropout with its new rate, and
    ("dropout", node, index, _, {name, id}) a Dropout inserted after ``node``. None: not patchable."""
    dropped, secondary = _wiring(program)
    changed_items: set[int] = set()  # ids of base items that change (reuse nodes call them)
    rename: dict[str, str] = {}  # a node id later nodes took -> the one they take now
    steps: list[tuple] = []
    for node in program.nodes:
        index = node.path[1]
        inputs = tuple(rename.get(s, s) for s in node.inputs)
        fixed = node if inputs == node.inputs else LayerNode(node.id, node.layer, inputs, node.path, node.copy,
                                                             node.shares)
        if node.shares is not None:
            steps.append(("reuse", node, index, inputs, None) if id(node.layer) in changed_items
                         else ("same", fixed, index, inputs, None))
            continue
        if index not in new_layers:
            steps.append(("same", fixed, index, inputs, None))
            continue
        new, rate = new_layers[index], rates[index]
        if len(node.path) > 2:  # the Dropout of an annotation
            if rate:
                steps.append(("rate", node, index, inputs, None))
            else:  # the annotation went: later nodes take the layer itself
                rename[node.id] = inputs[0]
            continue
        before = node.layer.__dict__
        keep: dict[str, Any] = {k: before[k] for k in ("name", "repeat") if k in before and before[k] != new.__dict__[k]}
        if rate is not None:
            keep["dropout"] = None  # resolve moves the annotation into a Dropout node
        changed_items.add(id(node.layer))
        steps.append(("item", node, index, inputs, (keep, tuple((k, _frozen(v)) for k, v in keep.items())) if keep
                      else None))
        if rate and node.path[:2] not in dropped:  # an annotation came: a Dropout after it, taken by later nodes
            if new.__dict__.get("repeat", 1) != 1 or node.id in program.outputs or node.id in secondary:
                return None
            name = dropout_name(keep.get("name", new.__dict__.get("name")))
            drop_id = name or format_path(node.path + ("dropout",))
            steps.append(("dropout", node, index, (), {"name": name, "id": drop_id}))
            rename[node.id] = drop_id
    return steps


def _wiring(program: Program) -> tuple[set[Path], set[str]]:
    """The layers with a Dropout node, and the nodes another takes an output of besides the first
    (``encoder.state_h``)."""
    dropped = {n.path[:2] for n in program.nodes if len(n.path) > 2 and n.path[2] == "dropout"}
    return dropped, {s.partition(".")[0] for n in program.nodes for s in n.inputs if "." in s}


def _warned(warnings: tuple, paths: tuple[Path, ...]) -> bool:
    """Whether a warning is at, above or under one of ``paths`` (once for each base and paths)."""
    return _once(("warned", id(warnings), paths), warnings,
                 lambda: any(w.at[:len(p)] == p[:len(w.at)] for w in warnings for p in paths))


def identity_text(resolved: SpecModel) -> str:
    """``json.dumps(body, sort_keys=True)`` of the resolved spec as `Spec.resolved_dict` dumps it,
    without its name and description: the text a spec's hash is taken of. Made from the JSON of
    each section and each layer, each made once (a variant shares all but its changed layers
    with its base, and 10,000 whole dumps were most of planning a sweep)."""
    parts = []
    later = {name: default for name, key, default in later_fields(SpecModel) if key == name}
    for name in sorted(type(resolved).model_fields):
        if name in _NOT_IDENTITY:
            continue
        value = resolved.__dict__[name]
        if name in later and value == later[name]:
            continue  # an ADDED_LATER field at its default is left out (drop_unset_later)
        if name == "layers":
            text = "[" + ", ".join(_once(("json", id(lay)), lay, partial(_json_of, lay)) for lay in value) + "]"
        elif isinstance(value, BaseModel):
            text = _once(("json", id(value)), value, partial(_json_of, value))
        else:
            data = resolved.model_dump(mode="json", include={name})
            drop_unset_later(resolved, data)
            text = json.dumps(data[name], sort_keys=True)
        parts.append(f"{json.dumps(name)}: {text}")
    return "{" + ", ".join(parts) + "}"


_NOT_IDENTITY = frozenset({"extends", "overrides", "name", "description"})


def _json_of(model: BaseModel) -> str:
    data = model.model_dump(mode="json")
    drop_unset_later(model, data)
    return json.dumps(data, sort_keys=True)

