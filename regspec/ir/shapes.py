"""Static shapes: each node's output shape and parameter count, in plain Python.

Uses each layer class's ``infer_inputs``; no TensorFlow. The same inference
lets `validate` report a layer that cannot take its inputs before anything is
built, and `summary` print the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from regspec.ir.graph import Program
from regspec.lang.layers import Shape, ShapeError
from regspec.paths import Path


@dataclass(frozen=True)
class Row:
    index: int
    id: str
    type: str
    name: str | None
    output_shape: Shape
    trainable: int
    non_trainable: int
    inputs: tuple[str, ...] = ()


class ShapeProblem(ValueError):
    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


# (id of a layer's raw dict, which copy it is, input shapes) -> (the raw dict, result).
# Overrides copy only the path they change, so sweep variants share the raw dicts of
# every layer they leave alone; holding the dict keeps its id from being reused.
_MEMO: dict[tuple, tuple[object, tuple]] = {}
_MEMO_MAX = 20_000


def infer_rows(program: Program, raw_layers: list | None = None) -> list[Row]:
    """One row per layer node; raises :class:`ShapeProblem` at the source item of the first
    node that cannot take its inputs.

    With ``raw_layers`` (the document's layer list, unresolved), per-layer results are
    memoized on the raw item they came from.
    """
    shapes: dict[str, Shape] = {i.id: i.shape for i in program.inputs}
    weights: dict[str, tuple[int, int]] = {}  # node id -> (trainable, non-trainable), for its reuses
    rows = []
    for index, node in enumerate(program.nodes):
        ins = [shapes[s] for s in node.inputs]
        raw = None
        if raw_layers is not None and isinstance(node.path[1], int) and node.path[1] < len(raw_layers):
            raw = raw_layers[node.path[1]]
        key = (id(raw), len(node.path), node.copy, tuple(ins)) if raw is not None else None
        hit = _MEMO.get(key) if key is not None else None
        if hit is not None and hit[0] is raw:
            shape, trainable, frozen = hit[1]
        else:
            try:
                shape, trainable, frozen = node.layer.infer_inputs(ins)
            except ShapeError as exc:
                raise ShapeProblem(node.path, f"{exc}") from None
            if any(d is not None and d <= 0 for d in shape):
                raise ShapeProblem(node.path, f"{node.type} outputs an empty shape {list(shape)}")
            if key is not None:
                if len(_MEMO) >= _MEMO_MAX:
                    _MEMO.clear()
                _MEMO[key] = (raw, (shape, trainable, frozen))
        shapes[node.id] = shape
        names = node.layer.output_names()
        if len(names) > 1:  # `encoder.state_h`: the outputs after the first, by name
            for name, extra in zip(names[1:], node.layer.extra_output_shapes(shape)):
                shapes[f"{node.id}.{name}"] = extra
        if not node.layer.trainable:  # a frozen layer's weights all count as non-trainable, as in Keras
            trainable, frozen = 0, trainable + frozen
        if node.shares is not None:  # the weights are the reused layer's: counted once, there
            first = weights[node.shares]
            if (trainable, frozen) != first:
                raise ShapeProblem(node.path, f"{node.shares} would need other weights for these inputs "
                                   f"({trainable + frozen:,} instead of {sum(first):,}): a reused layer takes inputs "
                                   "of the shape of its first use")
            rows.append(Row(index, node.id, f"{node.type}, shares {node.shares}", node.id, shape, 0, 0, node.inputs))
            continue
        weights[node.id] = (trainable, frozen)
        rows.append(Row(index, node.id, node.type, node.name, shape, trainable, frozen, node.inputs))
    return rows


def totals(rows: list[Row]) -> tuple[int, int, int]:
    trainable = sum(r.trainable for r in rows)
    frozen = sum(r.non_trainable for r in rows)
    return trainable + frozen, trainable, frozen


def format_summary(name: str, rows: list[Row], *, graph: bool = False) -> str:
    """Keras' summary layout; a graph gets a column of each layer's inputs."""

    def shape(s: tuple) -> str:
        return "(None, " + ", ".join("None" if d is None else str(d) for d in s) + ")"

    head = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph else [])
    body = []
    for r in rows:
        cells = [f"{r.name or r.type} ({r.type})", shape(r.output_shape), f"{r.trainable + r.non_trainable:,}"]
        if graph:
            cells.append(", ".join(r.inputs))
        body.append(cells)
    widths = [max(len(head[i]), *(len(b[i]) for b in body)) for i in range(len(head))]
    line = "-" * (sum(widths) + 2 * (len(widths) - 1))

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [f'Model: "{name}"', line, fmt(head), line] + [fmt(b) for b in body]
    total, trainable, frozen = totals(rows)
    out += [line, f"Total params: {total:,} ({memory(total)})", f"Trainable params: {trainable:,} ({memory(trainable)})",
            f"Non-trainable params: {frozen:,} ({memory(frozen)})"]
    return "\n".join(out)


BYTES_PER_WEIGHT = 4  # float32


def memory(params: int) -> str:
    """What the weights take in memory, as Keras' summary writes it (2.34 MB)."""
    size = float(params * BYTES_PER_WEIGHT)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    raise AssertionError  # the loop returns
