"""Static summary: each layer's output shape and parameter count, in plain Python.

Uses each layer class's ``infer``; no TensorFlow. The same inference lets
`validate` report a layer that cannot take its input before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from regspec.lang.layers import ShapeError
from regspec.lang.model import Spec as SpecModel
from regspec.paths import Path


@dataclass(frozen=True)
class Row:
    index: int
    type: str
    name: str | None
    output_shape: tuple[int | None, ...]
    trainable: int
    non_trainable: int


class SummaryError(ValueError):
    def __init__(self, path: Path, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


# (id of a layer's raw dict, which copy it is, input shape) -> (the raw dict, result).
# Overrides copy only the path they change, so sweep variants share the raw dicts of
# every layer they leave alone; holding the dict keeps its id from being reused.
_MEMO: dict[tuple, tuple[object, tuple]] = {}
_MEMO_MAX = 20_000


def infer_rows(resolved: SpecModel, origins: list[Path] | None = None, raw_layers: list | None = None) -> list[Row]:
    """Rows for a resolved spec; on error, the path is that of the source layer item.

    With ``raw_layers`` (the document's layer list, unresolved), per-layer results are
    memoized on the raw item they came from.
    """
    if resolved.input is None:
        raise SummaryError((), "the model has no input shape")
    shape: tuple[int | None, ...] = tuple(resolved.input.shape)
    rows = []
    for i, layer in enumerate(resolved.layers):
        raw = None
        if raw_layers is not None and origins is not None:
            origin = origins[i]
            if len(origin) >= 2 and isinstance(origin[1], int) and origin[1] < len(raw_layers):
                raw = raw_layers[origin[1]]
        key = (id(raw), len(origins[i]) if origins else 0, shape) if raw is not None else None
        hit = _MEMO.get(key) if key is not None else None
        if hit is not None and hit[0] is raw:
            rows.append(Row(i, layer.type, layer.name, *hit[1]))
            shape = hit[1][0]
            continue
        try:
            shape, trainable, frozen = layer.infer(shape)
        except ShapeError as exc:
            path = origins[i] if origins else ("layers", i)
            raise SummaryError(path, f"{exc}") from None
        if any(d is not None and d <= 0 for d in shape):
            path = origins[i] if origins else ("layers", i)
            raise SummaryError(path, f"{layer.type} outputs an empty shape {list(shape)}")
        rows.append(Row(i, layer.type, layer.name, shape, trainable, frozen))
        if key is not None:
            if len(_MEMO) >= _MEMO_MAX:
                _MEMO.clear()
            _MEMO[key] = (raw, (shape, trainable, frozen))
    return rows


def totals(rows: list[Row]) -> tuple[int, int, int]:
    trainable = sum(r.trainable for r in rows)
    frozen = sum(r.non_trainable for r in rows)
    return trainable + frozen, trainable, frozen


def format_summary(name: str, rows: list[Row]) -> str:
    def shape(s: tuple) -> str:
        return "(None, " + ", ".join("None" if d is None else str(d) for d in s) + ")"

    head = ("Layer (type)", "Output Shape", "Param #")
    body = [(f"{r.name or r.type} ({r.type})", shape(r.output_shape), f"{r.trainable + r.non_trainable:,}") for r in rows]
    w0 = max(len(head[0]), *(len(b[0]) for b in body))
    w1 = max(len(head[1]), *(len(b[1]) for b in body))
    w2 = max(len(head[2]), *(len(b[2]) for b in body))
    line = "-" * (w0 + w1 + w2 + 4)
    out = [f'Model: "{name}"', line, f"{head[0]:<{w0}}  {head[1]:<{w1}}  {head[2]:>{w2}}", line]
    out += [f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}" for a, b, c in body]
    total, trainable, frozen = totals(rows)
    out += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}", f"Non-trainable params: {frozen:,}"]
    return "\n".join(out)
