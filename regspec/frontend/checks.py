"""Checks that span fields: unique layer names, where the input comes from, what callbacks
monitor, and the static shapes of the layer stack. Run on validated specs."""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable

from regspec.diagnostics import Collector, Diagnostic, ordered
from regspec.frontend.source import Document
from regspec.lang.data import PATH_FIELDS, CsvData, NpzData
from regspec.lang.model import SpecModel
from regspec.lang.penalty import DATA_LOSS, splits_loss


def output_names(spec: SpecModel) -> list[str]:
    """The names of the model's outputs (as the compile section keys them)."""
    if spec.outputs:
        return list(spec.outputs)
    last = spec.layers[-1].name
    return [last] if last else []


def history_keys(spec: SpecModel) -> list[str]:
    """What Keras 3 will log each epoch: loss and each metric as named in compile (per output
    when there are several), and val_ twins."""
    outputs = output_names(spec)
    metrics = spec.compile.metrics
    names = ["loss"]
    if len(spec.outputs or ()) > 1:
        names += [f"{o}_loss" for o in outputs]
        if isinstance(metrics, dict):
            names += [f"{o}_{m}" for o, ms in metrics.items() for m in ms]
        else:
            names += [f"{o}_{m}" for o in outputs for m in metrics]
    else:
        names += [m for ms in metrics.values() for m in ms] if isinstance(metrics, dict) else list(metrics)
    if splits_loss(spec.compile, len(outputs), spec.layers):
        names.append(DATA_LOSS)
    return names + [f"val_{m}" for m in names]


def check(spec: SpecModel, doc: Document) -> list[Diagnostic]:
    found = Collector(doc.position, lambda p: doc.keys.get(p))  # keys: only when asked (a lazy document)
    err = found.add

    seen: dict[str, int] = {}
    for i, layer in enumerate(spec.layers):
        if layer.name is None:
            continue
        if layer.name in seen:
            err(("layers", i, "name"), f"duplicate layer name {layer.name!r}", f"layers[{seen[layer.name]}] has it already")
        else:
            seen[layer.name] = i

    for i, layer in enumerate(spec.layers):
        if layer.__dict__.get("activation") == "softmax" and layer.__dict__.get("units") == 1:
            err(("layers", i, "activation"), "softmax over one unit always outputs 1.0: the model cannot learn",
                "one unit: sigmoid with binary_crossentropy; several classes: one unit per class",
                severity="warning")

    first_is_input = spec.layers[0].tag == "input"
    for i, layer in enumerate(spec.layers):
        if layer.tag == "input" and i > 0:
            err(("layers", i, "type"), "an input layer can only be the first layer")
        if layer.tag == "input" and layer.repeat != 1:
            err(("layers", i, "repeat"), "an input layer cannot be repeated")
    if spec.input is None and spec.inputs is None and not first_is_input:
        err((), "the model has no input shape",
            "add `input: {shape: [...]}` or start the layers with `{type: input, shape: [...]}`")
    if spec.input is not None and first_is_input:
        err(("layers", 0), "the input shape is given twice (top-level `input` and an input layer)")
    if spec.inputs is not None and (spec.input is not None or first_is_input):
        err(("inputs",), "give either `inputs:` (several named inputs) or `input:`, not both", key=True)
    for k, inp in enumerate(spec.inputs or []):
        if inp.name in seen:
            err(("inputs", k, "name"), f"input {inp.name!r} has the name of layers[{seen[inp.name]}]")
        elif inp.name in [i.name for i in (spec.inputs or [])[:k]]:
            err(("inputs", k, "name"), f"duplicate input name {inp.name!r}")
    _compile_keys(spec, err)
    _static_training(spec, err)
    _data_paths(spec, err)
    _data_wiring(spec, err)

    data = spec.data
    batch = getattr(data, "batch_size", None)
    if batch is not None:
        if "batch_size" in (doc.data.get("training") or {}) and batch != spec.training.batch_size:
            err(("data", "batch_size"), f"conflicts with training.batch_size ({spec.training.batch_size})", "give one of them")

    has_validation = data is not None and (
        data.validation_split is not None or type(data).always_test or getattr(data, "test", None) is not None)
    known = history_keys(spec) + (["learning_rate"] if spec.training.callbacks else [])
    for i, cb in enumerate(spec.training.callbacks):
        monitor = getattr(cb, "monitor", None)
        if monitor is None:
            continue
        where = ("training", "callbacks", i, "monitor")
        if monitor not in known:
            guess = monitor[:-3] + "accuracy" if monitor.endswith("acc") else monitor  # Keras 2's val_acc
            close = difflib.get_close_matches(guess, known, n=1, cutoff=0.5)
            err(where, f"{cb.tag} monitors {monitor!r}, which training will not produce",
                f"did you mean {close[0]!r}?" if close else f"available: {', '.join(known)}")
        elif monitor.startswith("val_") and data is not None and not has_validation:
            err(where, f"{cb.tag} monitors {monitor!r} but there is no validation data",
                "set data.validation_split or give a test split")
    return ordered(found.found)


def _data_paths(spec: SpecModel, err: Callable[..., None]) -> None:
    """The data's local files and folders, as far as it is cheap to know: found (a warning when
    not: the data may be fetched later, as the source's hint says), of the right kind, and a
    CSV's header holding the columns the spec names."""
    data = spec.data
    if data is None:
        return
    for key in PATH_FIELDS:
        value = getattr(data, key, None)
        if not isinstance(value, str):
            continue
        want_folder = key in type(data).folder_fields
        kind = "folder" if want_folder else "file"
        if not os.path.exists(value):
            err(("data", key), f"{kind} not found: {value}", data.hint or "training needs it", severity="warning")
        elif os.path.isdir(value) != want_folder:
            err(("data", key), f"{value} is a {'file' if want_folder else 'folder'}; the {data.tag} source reads a {kind}")
        elif isinstance(data, CsvData) and os.path.isfile(value):
            # A regular file only: a FIFO or a device would block or never end (the loader refuses them).
            header = csv_header(value, data.delimiter, os.path.getmtime(value))
            if header is None:
                continue
            # Worded as the loader words it, and without the header: the file may be anything (a
            # spec naming /etc/passwd as its data must not print it).
            for output, column in data.label_columns().items():
                if column not in header:
                    err(("data", "outputs", output) if output else ("data", "label"),
                        f"column {column!r} not in the header of {value}", "the file's first line names its columns")
            missing = [c for c in data.features or [] if c not in header]
            if missing:
                err(("data", "features"), f"columns {missing[:8]} not in the header of {value}",
                    "the file's first line names its columns")
            _csv_inputs(spec, data, value, header, err)


def model_inputs(spec: SpecModel) -> dict[str, str]:
    """The model's inputs, name -> dtype (the one input of a stack named `input`)."""
    if spec.inputs:
        return {i.name: i.dtype for i in spec.inputs}
    return {"input": spec.input.dtype if spec.input is not None else "float32"}


def _data_wiring(spec: SpecModel, err: Callable[..., None]) -> None:
    """Named data feeds every model input and output, and names nothing else."""
    data = spec.data
    if not isinstance(data, CsvData | NpzData):
        return
    inputs, outputs = model_inputs(spec), output_names(spec)
    label = getattr(data, "label", None)
    if data.inputs is not None:
        for name in data.inputs:
            if name not in inputs:
                close = difflib.get_close_matches(name, list(inputs), n=1)
                err(("data", "inputs", name), f"{name!r} is not a model input",
                    f"did you mean {close[0]!r}?" if close else f"inputs: {', '.join(inputs)}", key=True)
        unfed = [n for n in inputs if n not in data.inputs]
        if unfed:
            err(("data", "inputs"), f"model input(s) {', '.join(map(repr, unfed))} have no column",
                "map every model input to its column(s)")
    elif len(inputs) > 1:
        err(("data",), f"the model has {len(inputs)} inputs ({', '.join(inputs)}): columns feed one input",
            "map each input to its column(s) in data.inputs")
    if data.outputs is not None and outputs:
        for name in data.outputs:
            if name not in outputs:
                close = difflib.get_close_matches(name, outputs, n=1)
                err(("data", "outputs", name), f"{name!r} is not a model output",
                    f"did you mean {close[0]!r}?" if close else f"outputs: {', '.join(outputs)}", key=True)
        for name in outputs:
            if name not in data.outputs:
                err(("data", "outputs"), f"output {name!r} has no label column", "map every output to its label column")
    elif len(outputs) > 1:
        err(("data", "label") if label is not None else ("data",),
            f"the model has {len(outputs)} outputs ({', '.join(outputs)}): one label column feeds one",
            "map each output to its labels in data.outputs")


SAMPLE_ROWS = 200  # rows validate reads to tell text columns from numbers


def _csv_inputs(spec: SpecModel, data: CsvData, path: str, header: list[str], err: Callable[..., None]) -> None:
    """Each input's columns are in the header, and a numeric input is fed numbers (the first
    rows tell: the loader checks every cell)."""
    columns = data.input_columns()
    if columns is None:
        return
    dtypes = model_inputs(spec)
    sample = csv_sample(path, data.delimiter, os.path.getmtime(path))
    for name, cols in columns.items():
        missing = [c for c in cols if c not in header]
        if missing:
            err(("data", "inputs", name), f"columns {missing[:8]} not in the header of {path}",
                "the file's first line names its columns")
            continue
        dtype = dtypes.get(name)
        if dtype is None or dtype == "string" or not sample:
            continue
        for c in cols:
            i = header.index(c)
            line = next((n for n, row in enumerate(sample, start=2) if i < len(row) and not _is_number(row[i])), None)
            if line is not None:
                err(("data", "inputs", name), f"column {c!r} holds text ({path}:{line}); input {name!r} takes {dtype}",
                    "text goes into an input with dtype: string (then a text_vectorization or string_lookup layer)")
                break


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=16)
def csv_sample(path: str, delimiter: str, mtime: float) -> list[list[str]]:
    """The first rows after a CSV file's header ([] when it cannot be read: the loader says why)."""
    import csv
    import itertools

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader, None)
            return list(itertools.islice(reader, SAMPLE_ROWS))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


@functools.lru_cache(maxsize=64)
def csv_header(path: str, delimiter: str, mtime: float) -> list[str] | None:
    """A CSV file's header row (None when it cannot be read as text: the loader says why)."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return next(csv.reader([fh.readline(1 << 20)], delimiter=delimiter), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _static_training(spec: SpecModel, err: Callable[..., None]) -> None:
    """What would fail in the middle of training, caught before it starts."""
    steps = spec.compile.steps_per_execution
    for i, cb in enumerate(spec.training.callbacks):
        for message, hint in cb.conflicts(spec.compile):
            err(("training", "callbacks", i), message, hint)
        if cb.per_batch() and isinstance(steps, int) and steps > 1:
            err(("training", "callbacks", i), f"{cb.tag} acts every batch, but with compile.steps_per_execution {steps} "
                f"Keras calls it every {steps} batches", "steps_per_execution: auto runs one step per call here",
                severity="warning")
    units = spec.layers[-1].__dict__.get("units")  # one output: the last layer
    loss = spec.compile.loss_name if not isinstance(spec.compile.loss, dict) else None
    if not spec.outputs and units == 1 and loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        err(("compile", "loss"), f"{loss} needs one output unit per class; the last layer has 1",
            "two classes with one unit: binary_crossentropy and a sigmoid")


def _compile_keys(spec: SpecModel, err: Callable[..., None]) -> None:
    """Per-output loss, loss_weights and metrics are keyed by output names."""
    layer_names = {lay.name for lay in spec.layers if lay.name}
    outputs = [o for o in output_names(spec) if o in layer_names]  # a bad output name is reported by resolve
    c = spec.compile
    for field, value in (("loss", c.loss), ("loss_weights", c.loss_weights), ("metrics", c.metrics)):
        if not isinstance(value, dict):
            continue
        for key in value:
            if key not in outputs:
                close = difflib.get_close_matches(key, outputs, n=1)
                err(("compile", field, key), f"{key!r} is not a model output",
                    f"did you mean {close[0]!r}?" if close else f"outputs: {', '.join(outputs) or 'none named'}", key=True)
    if isinstance(c.loss, dict):
        for o in outputs:
            if o not in c.loss:
                err(("compile", "loss"), f"output {o!r} has no loss", "give every output a loss, or one loss for all")
