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
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

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
_M = TypeVar("_M", bound=BaseModel)
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
    model = _copy(base.model, {"layers": model_layers, **update})
    rupdate = dict(update)
    if "training" in update and base.resolved.training is not base.model.training:  # data.batch_size moved in
        rupdate["training"] = _copy(update["training"], {"batch_size": base.resolved.training.batch_size})
    resolved = _copy(base.resolved, {"layers": resolved_layers, **rupdate})
    program = object.__new__(Program)  # Program(...) without a frozen dataclass' setattr per field
    _set(program, "__dict__", {
        "name": resolved.name, "inputs": base.program.inputs, "nodes": tuple(nodes), "outputs": base.program.outputs,
        "compile": resolved.compile, "data": resolved.data, "training": resolved.training,
        "source": SourceMap(doc.file, doc.position),
    })
    return Checked(model, resolved, program, base.warnings)


#: What variants of one base share, made once: where each path leads, a changed layer or section's
#: validated object (keyed by the base's item and the values set in it: 20 x 100 points of two
#: axes are 120 items to validate), the graph nodes made from each, where each node goes,
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
    """``make()``, once for each key; ``key`` names ``held`` by its id (or a :class:`_Both` by the
    ids of its two), and ``held`` stays in the entry (so no other object takes its id while the
    entry lives) and is checked on every hit."""
    hit = _MEMO.get(key)
    if hit is not None and (hit[0] is held or (type(held) is _Both and held.holds(hit[0]))):
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


def _copy(model: _M, update: dict[str, Any]) -> _M:
    """``model.model_copy(update=update)`` for the language's models, which have no extra and no
    private attributes: pydantic's general copy handles both and takes twice as long, and a
    variant makes a few copies."""
    if model.__pydantic_extra__ is not None or getattr(model, "__pydantic_private__", None) is not None:
        return model.model_copy(update=update)
    cls = type(model)
    new = cls.__new__(cls)
    fields = model.__dict__.copy()
    fields.update(update)
    _set(new, "__dict__", fields)
    _set(new, "__pydantic_extra__", None)
    given = model.__pydantic_fields_set__  # shared when it holds the update's keys: a frozen model never adds to it
    shared = given >= update.keys() and model.model_config.get("frozen")
    _set(new, "__pydantic_fields_set__", given if shared else given | update.keys())
    _set(new, "__pydantic_private__", None)
    return new


_set = object.__setattr__


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

    Where each node goes depends only on which layers changed and whether each has a dropout
    rate now (none, zero, non-zero): worked out once (:func:`_plan`). The nodes a changed layer
    makes depend only on that layer's validated object, which a grid's points share: made once
    for each (:func:`_place`)."""
    rates = {i: _rate(new) for i, new in new_layers.items()}
    state = tuple((i, rates[i] is None, bool(rates[i])) for i in sorted(new_layers))
    plan = _once(("plan", id(program), state), program, partial(_plan, program, new_layers, rates))
    if plan is None:
        return None
    template, parts = plan
    out = list(template)
    for index, steps in parts.items():
        new = new_layers[index]
        held = _Both((steps, new))
        for at, node in _once(("place", id(steps), id(new)), held, partial(_place, steps, new, rates[index])):
            out[at] = node
    return out


class _Both(tuple):
    """Two objects a memo entry was made from, each checked by identity on a hit (see :func:`_once`)."""

    __slots__ = ()

    def holds(self, other: Any) -> bool:
        return type(other) is _Both and self[0] is other[0] and self[1] is other[1]


def _place(steps: tuple, new: Layer, rate: Any) -> tuple[tuple[int, LayerNode], ...]:
    """The nodes one changed layer makes, each with its place in the program: its items (with the
    name and repeat resolve gave each copy, the dropout moved out), the `reuse` nodes calling them,
    its annotation's Dropout with the new rate or the one inserted now (the rate was validated)."""
    swap: dict[int, Layer] = {}  # id of a base item -> its patched twin (reuse nodes call it)
    out = []
    for kind, at, node, inputs, keep in steps:
        if kind == "item":
            layer = _copy(new, keep) if keep else new
            swap[id(node.layer)] = layer
            out.append((at, LayerNode(node.id, layer, inputs, node.path, node.copy, node.shares)))
        elif kind == "reuse":
            out.append((at, LayerNode(node.id, swap[id(node.layer)], inputs, node.path, node.copy, node.shares)))
        elif kind == "rate":  # a Dropout node the annotation made, with the new rate
            out.append((at, LayerNode(node.id, _copy(node.layer, {"rate": rate}), inputs, node.path, node.copy)))
        else:  # "dropout": one the annotation makes now, after ``node``
            drop = _copy(_DROPOUT, {"rate": rate, "name": keep["name"]})
            out.append((at, LayerNode(keep["id"], drop, (node.id,), node.path + ("dropout",), node.copy)))
    return tuple(out)


def _plan(program: Program, new_layers: dict[int, Layer], rates: dict[int, Any]) -> tuple | None:
    """(the nodes that stay, None where a changed layer's node goes; for each changed layer, the
    steps :func:`_place` takes: ("item", at, node, inputs, keep) for each of its items,
    ("reuse", ...) for a node calling one again, ("rate", ...) for its annotation's Dropout and
    ("dropout", at, node, (), {name, id}) for a Dropout inserted after ``node``). None: not
    patchable."""
    dropped, secondary = _wiring(program)
    owner: dict[int, int] = {}  # id of a base item that changes -> its layer's index
    rename: dict[str, str] = {}  # a node id later nodes took -> the one they take now
    template: list[LayerNode | None] = []
    parts: dict[int, list[tuple]] = {}
    for node in program.nodes:
        index = node.path[1]
        inputs = tuple(rename.get(s, s) for s in node.inputs)
        if node.shares is not None and id(node.layer) in owner:
            parts[owner[id(node.layer)]].append(("reuse", len(template), node, inputs, None))
            template.append(None)
            continue
        if node.shares is not None or index not in new_layers:
            template.append(node if inputs == node.inputs
                            else LayerNode(node.id, node.layer, inputs, node.path, node.copy, node.shares))
            continue
        new, rate = new_layers[index], rates[index]
        steps = parts.setdefault(index, [])
        if len(node.path) > 2:  # the Dropout of an annotation
            if rate:
                steps.append(("rate", len(template), node, inputs, None))
                template.append(None)
            else:  # the annotation went: later nodes take the layer itself
                rename[node.id] = inputs[0]
            continue
        before = node.layer.__dict__
        keep: dict[str, Any] = {k: before[k] for k in ("name", "repeat") if k in before and before[k] != new.__dict__[k]}
        if rate is not None:
            keep["dropout"] = None  # resolve moves the annotation into a Dropout node
        owner[id(node.layer)] = index
        steps.append(("item", len(template), node, inputs, keep))
        template.append(None)
        if rate and node.path[:2] not in dropped:  # an annotation came: a Dropout after it, taken by later nodes
            if new.__dict__.get("repeat", 1) != 1 or node.id in program.outputs or node.id in secondary:
                return None
            name = dropout_name(keep.get("name", new.__dict__.get("name")))
            drop_id = name or format_path(node.path + ("dropout",))
            steps.append(("dropout", len(template), node, (), {"name": name, "id": drop_id}))
            template.append(None)
            rename[node.id] = drop_id
    return tuple(template), {i: tuple(steps) for i, steps in parts.items()}


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
            text = "[" + ", ".join(_once(("json", id(lay)), lay, partial(_json_in, resolved, name, lay, i))
                                   for i, lay in enumerate(value)) + "]"
        elif isinstance(value, BaseModel):
            text = _once(("json", id(value)), value, partial(_json_in, resolved, name, value))
        else:
            data = resolved.model_dump(mode="json", include={name})
            drop_unset_later(resolved, data)
            text = json.dumps(data[name], sort_keys=True)
        parts.append(f"{json.dumps(name)}: {text}")
    return "{" + ", ".join(parts) + "}"


_NOT_IDENTITY = frozenset({"extends", "overrides", "name", "description"})


#: Dumps of a section or layer class through the spec's serializer before the class gets its own.
_BORROWED: Counter[type] = Counter()

#: A class's own serializer costs 5-35 ms to build (compile's unions the most) and then dumps
#: ~30 us faster than the spec's: worth it from this many dumps on (a sweep's variants).
BORROW_UP_TO = 256


def _json_in(resolved: SpecModel, name: str, model: BaseModel, index: int | None = None) -> str:
    """The JSON of ``model``, the spec's field ``name`` (its layer ``index``). A class whose own
    serializer is not built yet is dumped by the spec's (built from the schema cache): building
    them for one run's hash was 0.04 s of its start."""
    cls = type(model)
    if cls.__pydantic_complete__ or _BORROWED[cls] >= BORROW_UP_TO:
        data = model.model_dump(mode="json")
    else:
        _BORROWED[cls] += 1
        data = borrowed_dump(resolved, name, index)
    drop_unset_later(model, data)
    return json.dumps(data, sort_keys=True)


def borrowed_dump(resolved: SpecModel, name: str, index: int | None = None) -> Any:
    """The spec's field ``name`` (its layer ``index``) dumped by the spec's serializer: what the
    field's own ``model_dump`` gives (a test holds it for every shipped spec)."""
    data = resolved.model_dump(mode="json", include={name: {index}} if index is not None else {name})[name]
    return data[0] if index is not None else data

