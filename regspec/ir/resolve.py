"""Resolve a validated spec into one flat, explicit, immutable spec and its graph program.

`input` layers move to the top-level `input`, `repeat` expands, `dropout`
annotations become Dropout layers, layer `inputs:` names become node ids, data
paths become absolute. Built from the already-validated objects
(``model_copy``), so nothing is validated twice; every default is explicit in
the models.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from regspec.diagnostics import Collector, Diagnostic
from regspec.ir.graph import InputNode, LayerNode, Program, SourceMap
from regspec.lang.data import PATH_FIELDS
from regspec.lang.layers import LAYERS, Layer
from regspec.lang.layers.base import dropout_name
from regspec.lang.layers.core import Dropout, InputLayer, Reuse
from regspec.lang.model import InputSection, SpecModel
from regspec.paths import Path, format_path


def resolve(spec: SpecModel, source: SourceMap) -> tuple[SpecModel, Program, list[Diagnostic]]:
    """The resolved spec, its program, and the graph's problems (each at its line)."""
    found = Collector(source.position)
    err = found.add

    update: dict[str, Any] = {"extends": None, "overrides": {}, "blocks": None}  # blocks are expanded already
    inputs = _inputs(spec, update)
    known: dict[str, str] = {i.id: i.id for i in inputs}  # a name a layer may take -> node id
    later = {lay.name for lay in spec.layers if lay.name}
    previous = inputs[0].id if inputs else None
    layers: list[Layer] = []
    nodes: list[LayerNode] = []
    outputs_of: dict[str, tuple[str, ...]] = {}  # node id -> its outputs' names
    own: dict[str, LayerNode] = {}  # a layer's name -> its node (not its dropout's)
    for i, layer in enumerate(spec.layers):
        if layer.tag == "input":
            continue
        here: Path = ("layers", i)
        wanted = _refs(layer)
        if wanted is None:  # the previous layer's output (no model input at all is checked before)
            taken: tuple[str, ...] = (previous,) if previous is not None else ()
        else:
            taken = _lookup(wanted, known, later, layer.name, here, err, outputs_of)
        if isinstance(layer, Reuse):
            original = own.get(layer.layer)
            if original is None:
                hint = ("it must be an earlier layer, by its name" if layer.layer not in later
                        else "layers reuse only earlier layers")
                err(here + ("layer",), f"no earlier layer named {layer.layer!r} to reuse", hint)
                continue
            node_id = layer.name or format_path(here)
            nodes.append(LayerNode(node_id, original.layer, taken, here, 0, shares=original.id))
            outputs_of[node_id] = original.layer.output_names()
            layers.append(layer)
            if layer.name:
                known[layer.name] = node_id
            previous = node_id
            continue
        n = layer.repeat
        annotated = "dropout" in LAYERS[layer.tag].annotations
        written = layer.__dict__.get("dropout") if annotated else None  # not getattr: pydantic's miss path is slow
        rate = written or None  # a sweep's `dropout: 0.0` is the layer without dropout, not Dropout(rate=0)
        for copy in range(n):
            changes: dict[str, Any] = {}
            if n > 1:
                changes["repeat"] = 1
                if layer.name is not None:
                    changes["name"] = f"{layer.name}_{copy + 1}"
            if written is not None:  # every copy: the annotation is the Dropout node's now
                changes["dropout"] = None
            item = layer.model_copy(update=changes) if changes else layer
            layers.append(item)
            suffix = f"#{copy + 1}" if n > 1 else ""
            node_id = item.name or format_path(here) + suffix
            nodes.append(LayerNode(node_id, item, taken, here, copy))
            outputs_of[node_id] = item.output_names()
            if layer.name:
                own[layer.name] = nodes[-1]  # what `reuse: <name>` calls again (the last copy of a repeat)
            if item.name:
                known[item.name] = node_id
            taken = (node_id,)
            if rate is not None:
                name = dropout_name(item.name)
                drop = Dropout(type="dropout", rate=rate, name=name)
                layers.append(drop)
                drop_id = name or format_path(here + ("dropout",)) + suffix
                nodes.append(LayerNode(drop_id, drop, taken, here + ("dropout",), copy))
                taken = (drop_id,)
        if layer.name:
            known[layer.name] = taken[0]  # the item's output: after its copies and its dropout
        previous = taken[0] if taken else previous
    update["layers"] = layers
    outputs = _outputs(spec, known, later, previous, err)
    for node in nodes:  # a dropout annotation on an output layer would drop the model's predictions
        if node.path[-1] == "dropout" and node.id in outputs:
            err(node.path, "dropout after an output layer randomly zeroes the model's predictions",
                "put the dropout on the layer before")
    _unused(nodes, outputs, err)
    _resolve_data(spec, update)
    resolved = spec.model_copy(update=update)
    program = Program(
        name=spec.name, inputs=tuple(inputs), nodes=tuple(nodes), outputs=outputs,
        compile=resolved.compile, data=resolved.data, training=resolved.training,
        source=source,
    )
    return resolved, program, found.found


def _inputs(spec: SpecModel, update: dict[str, Any]) -> list[InputNode]:
    many = getattr(spec, "inputs", None)
    if many:
        return [InputNode(i.name, tuple(i.shape), i.dtype, ("inputs", k)) for k, i in enumerate(many)]
    if spec.input is not None:
        return [InputNode(spec.input.name or "input", tuple(spec.input.shape), spec.input.dtype, ("input",))]
    first = spec.layers[0]
    if isinstance(first, InputLayer):
        section = InputSection(shape=list(first.shape), dtype=first.dtype)
        update["input"] = section
        return [InputNode("input", tuple(section.shape), section.dtype, ("layers", 0))]
    return []


def _refs(layer: Layer) -> list[str] | None:
    refs = layer.__dict__.get("inputs")
    if refs is None:
        return None
    return [refs] if isinstance(refs, str) else list(refs)


def _lookup(wanted: list[str], known: dict[str, str], later: set[str], own: str | None, here: Path,
            err: Any, outputs_of: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    out = []
    for k, ref in enumerate(wanted):
        where = here + ("inputs",) + ((k,) if len(wanted) > 1 else ())
        name, _, output = ref.partition(".")
        if name in known and output:
            names = outputs_of.get(known[name], ("output",))
            if output not in names:
                err(where, f"{name} has no output {output!r}", f"its outputs: {', '.join(names)}"
                    + ("" if len(names) > 1 else " (a recurrent layer's states need return_state: true)"))
            else:
                out.append(known[name] if output == names[0] else f"{known[name]}.{output}")
        elif name in known:
            out.append(known[name])
        elif name == own:
            err(where, f"layer {name!r} takes itself as input (a cycle)")
        elif name in later:
            err(where, f"layer {name!r} is used before it is defined", "layers take only earlier layers or model inputs")
        else:
            close = difflib.get_close_matches(name, list(known), n=1)
            err(where, f"no model input or earlier layer named {name!r}",
                f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known) or 'none'}")
    return tuple(out)


def _outputs(spec: SpecModel, known: dict[str, str], later: set[str], previous: str | None, err: Any) -> tuple[str, ...]:
    names = getattr(spec, "outputs", None)
    if not names:
        return (previous,) if previous is not None else ()
    out = []
    for k, name in enumerate(names):
        if name in known:
            out.append(known[name])
        else:
            close = difflib.get_close_matches(name, list(known), n=1)
            err(("outputs", k), f"no layer named {name!r}", f"did you mean {close[0]!r}?" if close else None)
    return tuple(out)


def _unused(nodes: list[LayerNode], outputs: tuple[str, ...], err: Any) -> None:
    """A layer whose output reaches no model output is trained for nothing: warn."""
    if not outputs:
        return
    feeds: dict[str, list[str]] = {}
    for node in nodes:
        for src in node.inputs:
            feeds.setdefault(src.partition(".")[0], []).append(node.id)
    reach = set(outputs)
    for node in reversed(nodes):
        if any(t in reach for t in feeds.get(node.id, ())):
            reach.add(node.id)
    for node in nodes:
        if node.id not in reach and node.copy == 0 and node.path[-1] != "dropout":
            err(node.path, f"{node.id}'s output reaches no model output", "list it in `outputs:` or remove it",
                severity="warning")


def _resolve_data(spec: SpecModel, update: dict[str, Any]) -> None:
    data = spec.data
    if data is None:
        return
    changes: dict[str, Any] = {}
    for key in PATH_FIELDS:  # relative here: given on the command line or by a sweep
        value = data.__dict__.get(key)
        if isinstance(value, str) and not os.path.isabs(value):
            changes[key] = os.path.abspath(value)
    batch = data.__dict__.get("batch_size")
    if batch is not None:
        update["training"] = spec.training.model_copy(update={"batch_size": batch})
        changes["batch_size"] = None
    update["data"] = data.model_copy(update=changes)
