"""Checks that span fields: unique layer names, where the input comes from, what callbacks
monitor, and the static shapes of the layer stack. Run on validated specs."""

from __future__ import annotations

import difflib

from regspec.diagnostics import Diagnostic
from regspec.frontend.source import Document
from regspec.lang.model import SpecModel
from regspec.paths import Path, format_path


def history_keys(spec: SpecModel) -> list[str]:
    """What Keras 3 will log each epoch: loss and each metric as named in compile, and val_ twins."""
    names = ["loss", *spec.compile.metrics]
    return names + [f"val_{m}" for m in names]


def check(spec: SpecModel, doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def err(path: Path, message: str, hint: str | None = None, key: bool = False) -> None:
        file, line, col = (doc.keys.get(path) if key else None) or doc.position(path)
        out.append(Diagnostic(file, line, col, format_path(path), message, hint))

    seen: dict[str, int] = {}
    for i, layer in enumerate(spec.layers):
        if layer.name is None:
            continue
        if layer.name in seen:
            err(("layers", i, "name"), f"duplicate layer name {layer.name!r}", f"layers[{seen[layer.name]}] has it already")
        else:
            seen[layer.name] = i

    first_is_input = spec.layers[0].type == "input"
    for i, layer in enumerate(spec.layers):
        if layer.type == "input" and i > 0:
            err(("layers", i, "type"), "an input layer can only be the first layer")
        if layer.type == "input" and layer.repeat != 1:
            err(("layers", i, "repeat"), "an input layer cannot be repeated")
    if spec.input is None and not first_is_input:
        err((), "the model has no input shape",
            "add `input: {shape: [...]}` or start the layers with `{type: input, shape: [...]}`")
    if spec.input is not None and first_is_input:
        err(("layers", 0), "the input shape is given twice (top-level `input` and an input layer)")

    data = spec.data
    if data is not None and getattr(data, "batch_size", None) is not None:
        if "batch_size" in (doc.data.get("training") or {}) and data.batch_size != spec.training.batch_size:
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
            err(where, f"{cb.type} monitors {monitor!r}, which training will not produce",
                f"did you mean {close[0]!r}?" if close else f"available: {', '.join(known)}")
        elif monitor.startswith("val_") and data is not None and not has_validation:
            err(where, f"{cb.type} monitors {monitor!r} but there is no validation data",
                "set data.validation_split or give a test split")
    out.sort(key=lambda d: (d.file, d.line, d.column))
    return out
