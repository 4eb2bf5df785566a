"""Serving a run trained on named inputs and outputs (`data.inputs`, `data.outputs`).

Each input is read from the CSV columns it was trained on (by name, any order, extra columns
ignored), raw: strings stay strings, since the model's own preprocessing layers (adapted in
training) turn them into ids. Predictions give one group of columns per output; evaluate scores
every output; an export takes a dict of named raw inputs and gives a dict of named outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.diagnostics import safe
from regspec.rundir.records import NamedRecord
from regspec.serving.inputs import MAX_LISTED, class_id_in, read_table, regular_file
from regspec.serving.record import Run, refuse
from regspec.tabular import numbers


@dataclass
class NamedData:
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray] | None
    examples: list[int]  # CSV lines, or .npz indices
    identified_by: str = "line"


def read_named(paths: list[str], named: NamedRecord, *, labels: bool) -> NamedData:
    if len(paths) != 1:
        raise refuse(paths[0] if paths else "-", "give one CSV or .npz file for this run (it was trained on named data)")
    path = paths[0]
    regular_file(path)
    if path.lower().endswith(".npz"):
        return _named_npz(path, named, labels=labels)
    header, rows = read_table(path)
    want = [c for i in named.inputs.values() for c in i.columns]
    if labels:
        want += [o.label for o in named.outputs.values()]
    missing = [c for c in dict.fromkeys(want) if c not in header]
    if missing:
        shown = ", ".join(repr(safe(m, 60)) for m in missing[:MAX_LISTED])
        raise refuse(path, f"lacks the column(s) the model was trained on: {shown}",
                     "the header must name every column as in training (any order; extra columns are ignored)")
    if not rows:
        raise refuse(path, "has a header but no rows")
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise refuse(path, f"{len(row)} fields, the header has {len(header)}", None, r + 2, 1)
    x: dict[str, np.ndarray] = {}
    for name, spec in named.inputs.items():
        idx = [header.index(c) for c in spec.columns]
        if spec.dtype == "string":
            arr = np.array([[row[i] for i in idx] for row in rows], dtype=object)  # not fixed-width text
        else:
            arr, bad = numbers(rows, idx)
            if bad is not None:
                r, col, problem = bad
                raise refuse(path, f"column {safe(header[col], 60)!r} is {problem} ({safe(rows[r][col], 40)!r})",
                             None, r + 2, col + 1)
            arr = arr.astype(spec.dtype)
        x[name] = _shaped(arr, spec.shape)
    y = None
    if labels:
        y = {}
        for name, out in named.outputs.items():
            li = header.index(out.label)
            cells = [(r + 2, row[li].strip()) for r, row in enumerate(rows)]
            if out.task.classifier:
                y[name] = np.array([class_id_in(t, out.classes, path, line, li + 1) for line, t in cells], dtype="int64")
            else:
                values, bad = numbers(rows, [li])
                if bad is not None:
                    r, col, problem = bad
                    raise refuse(path, f"label column {safe(out.label, 60)!r} is {problem} ({safe(rows[r][col], 40)!r})",
                                 None, r + 2, col + 1)
                y[name] = values.ravel()
    return NamedData(x, y, [r + 2 for r in range(len(rows))])


def _named_npz(path: str, named: NamedRecord, *, labels: bool) -> NamedData:
    """Arrays by the names training read (`<name>`, or `<name>_test`), one per input (and output)."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise refuse(path, f"cannot be read as .npz ({safe(str(exc), 80)})") from None

    def array(base: str) -> np.ndarray:
        for key in (base, f"{base}_test"):
            if key in arrays:
                return arrays[key]
        raise refuse(path, f"has no array {safe(base, 60)!r} (or {safe(base, 60) + '_test'!r})",
                     f"arrays: {safe(', '.join(arrays), 200) or 'none'}")

    x = {}
    for name, spec in named.inputs.items():
        arr = array(spec.columns[0])
        x[name] = arr.astype(str) if spec.dtype == "string" else arr.astype(spec.dtype)
    y = {name: array(out.label) for name, out in named.outputs.items()} if labels else None
    sizes = {len(a) for a in [*x.values(), *(y or {}).values()]}
    if len(sizes) != 1:
        raise refuse(path, f"its arrays hold different numbers of examples ({sorted(sizes)})")
    return NamedData(x, y, list(range(sizes.pop())), "index")


def dataset(x: dict[str, np.ndarray], y: Any = None, batch: int = 1024) -> Any:
    """The examples as tf.data batches (Keras' array adapter takes no string arrays); one input
    as its array (a Sequential takes no dict)."""
    import tensorflow as tf

    xs: Any = next(iter(x.values())) if len(x) == 1 else x
    return tf.data.Dataset.from_tensor_slices(xs if y is None else (xs, y)).batch(batch)


def output_names(model: Any) -> list[str]:
    """The model's output names (a Sequential's one output: its last layer's)."""
    names = getattr(model, "output_names", None)
    return list(names) if names else [model.layers[-1].name]


def input_names(model: Any) -> list[str]:
    return [t.name.split(":")[0] for t in model.inputs]


def _shaped(arr: np.ndarray, shape: tuple[int | None, ...]) -> np.ndarray:
    if shape == () and arr.ndim == 2 and arr.shape[1] == 1:
        return arr.reshape(len(arr))
    if None in shape or arr.shape[1:] == shape:
        return arr
    return arr.reshape((len(arr), *[int(d) for d in shape if d is not None]))


def by_output(model: Any, out: Any) -> dict[str, np.ndarray]:
    """The model's outputs by name, whatever structure predict returned them in."""
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    outs = out if isinstance(out, list | tuple) else [out]
    return {name: np.asarray(v) for name, v in zip(output_names(model), outs)}


def prediction_columns(run: Run, new: NamedData, outputs: dict[str, np.ndarray]) -> tuple[list[str], list[list[Any]]]:
    """One group of columns per output: its prediction (class or value), then its probabilities."""
    from regspec.serving.apply import class_probabilities

    assert run.prep.named is not None
    head: list[str] = [new.identified_by]
    columns: list[list[Any]] = [list(new.examples)]
    for name, spec in run.prep.named.outputs.items():
        out = outputs[name].reshape((len(new.examples), -1))
        if not spec.task.classifier:
            names = [name] if out.shape[1] == 1 else [f"{name}_{i}" for i in range(out.shape[1])]
            head += names
            columns += [list(map(float, out[:, i])) for i in range(out.shape[1])]
            continue
        labels, probs, classes = class_probabilities(out, spec.loss, spec.from_logits, spec.classes)
        head += [name, *[f"{name}_probability_{c}" for c in classes]]
        columns += [labels] + [list(map(float, probs[:, i])) for i in range(probs.shape[1])]
    return head, [list(row) for row in zip(*columns)]


def encoded_labels(run: Run, new: NamedData, model: Any, source: str) -> dict[str, np.ndarray]:
    """Each output's labels as its loss takes them."""
    assert run.prep.named is not None and new.y is not None
    units = {name: int(t.shape[-1]) for name, t in zip(output_names(model), model.outputs)}
    out = {}
    for name, spec in run.prep.named.outputs.items():
        y = new.y[name]
        if spec.task.classifier and y.ndim == 1:
            n = units.get(name, 1)
            limit = 2 if spec.loss == "binary_crossentropy" and n == 1 else n
            top = int(y.max()) if len(y) else 0
            if top >= limit:
                raise refuse(source, f"output {name!r}: label {top} is beyond the model's {limit} classes")
            if spec.loss == "categorical_crossentropy":
                y = np.eye(n, dtype="float32")[y]
            elif spec.loss == "binary_crossentropy":
                y = y.astype("float32")
        out[name] = y
    return out


def dict_model(trained: Any) -> Any:
    """The trained model with a dict of named inputs and a dict of named outputs (for exports)."""
    from regspec.backend.keras.env import keras

    k = keras()
    inputs = {name: k.Input(shape=t.shape[1:], dtype=t.dtype, name=name)
              for name, t in zip(input_names(trained), trained.inputs)}
    outs = trained(inputs if len(inputs) > 1 else next(iter(inputs.values())))
    if not isinstance(outs, dict):
        outs = dict(zip(output_names(trained), outs if isinstance(outs, list | tuple) else [outs]))
    return k.Model(inputs, outs, name=f"{trained.name}_serving")
