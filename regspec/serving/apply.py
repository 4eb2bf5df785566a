"""`predict` and `evaluate`: a trained run applied to new data, through its serving model."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.files import read_json
from regspec.lang.penalty import with_penalty
from regspec.rundir import layout
from regspec.rundir.records import PreprocessingRecord
from regspec.serving.inputs import NewData, read_data
from regspec.serving.record import Run, open_run, refuse

BATCH = 1024  # inference only: a large batch is faster and changes no result


@dataclass
class Predictions:
    columns: list[str]
    rows: list[list[Any]]

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps([dict(zip(self.columns, r)) for r in self.rows], indent=1, ensure_ascii=False) + "\n"
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        w.writerows(self.rows)
        return buf.getvalue()


def predict(run_dir: str, data: list[str]) -> Predictions:
    """One row per example: what identifies it, the predicted class (or value), the probabilities."""
    from regspec.serving.model import load_trained, serving_model

    run = open_run(run_dir)
    if run.prep.named is not None:
        from regspec.serving.named import by_output, dataset, prediction_columns, read_named

        named = read_named(data, run.prep.named, labels=False)
        trained = load_trained(run)
        outputs = by_output(trained, trained.predict(dataset(named.x, batch=BATCH), verbose=0))
        return Predictions(*prediction_columns(run, named, outputs))
    new = read_data(data, run.prep, labels=False)  # the data is checked before the model is loaded
    model = serving_model(run, load_trained(run))
    out = np.asarray(model.predict(new.x, batch_size=BATCH, verbose=0))
    return _rows(run.prep, new, out)


def _rows(prep: PreprocessingRecord, new: NewData, out: np.ndarray) -> Predictions:
    out = out.reshape((len(out), -1))
    units = out.shape[1]
    if not prep.classifier:
        names = ["prediction"] if units == 1 else [f"prediction_{i}" for i in range(units)]
        return Predictions([new.identified_by, *names], [[e, *map(float, row)] for e, row in zip(new.examples, out)])
    labels, probs, classes = class_probabilities(out, prep.loss, prep.from_logits, prep.classes)
    head = [new.identified_by, "prediction", *[f"probability_{c}" for c in classes]]
    return Predictions(head, [[e, label, *map(float, p)] for e, label, p in zip(new.examples, labels, probs)])


def class_probabilities(out: np.ndarray, loss: str, from_logits: bool, names: tuple[str, ...] | None
                        ) -> tuple[list[str], np.ndarray, list[str]]:
    """A classifier's outputs (n, units) as each example's class, the class probabilities, and
    the class names."""
    units = out.shape[1]
    binary = loss == "binary_crossentropy"
    if from_logits:  # the model ends in logits: probabilities are what a user reads
        out = 1 / (1 + np.exp(-out)) if binary else _softmax(out)
    if binary and units == 1:  # one sigmoid unit: the probability of class 1
        out = np.concatenate([1 - out, out], axis=1)
    classes = list(names) if names is not None else [str(i) for i in range(out.shape[1])]
    if len(classes) != out.shape[1]:
        classes = [str(i) for i in range(out.shape[1])]  # the record and the model disagree: ids are honest
    labels = []
    for p in out:
        if binary and units > 1:  # multi-label: every class at 0.5 or more
            labels.append(";".join(c for c, v in zip(classes, p) if v >= 0.5))
        else:
            labels.append(classes[int(np.argmax(p))])
    return labels, out, classes


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def evaluate(run_dir: str, data: list[str], label_column: str | None = None) -> dict[str, Any]:
    """The run's loss and metrics on new labelled data, beside what it scored on its test split."""
    from regspec.serving.model import load_trained, preprocessor

    run = open_run(run_dir)
    if run.prep.named is not None:
        from regspec.serving.named import dataset, encoded_labels, read_named

        named = read_named(data, run.prep.named, labels=True)
        model = load_trained(run)
        if not getattr(model, "compiled", False):
            raise refuse(run.model_path, "the saved model has no loss to evaluate with")
        y_named = encoded_labels(run, named, model, data[0])
        y_any: Any = y_named if len(y_named) > 1 else next(iter(y_named.values()))
        scores = model.evaluate(dataset(named.x, y_any, BATCH), return_dict=True, verbose=0)
        examples = len(named.examples)
    else:
        new = read_data(data, run.prep, labels=True, label_column=label_column)
        model = load_trained(run)
        if not getattr(model, "compiled", False):
            raise refuse(run.model_path, "the saved model has no loss to evaluate with")
        y = _encode(run, new, model, data[0])
        x = preprocessor(run).predict(new.x, batch_size=BATCH, verbose=0)
        scores = model.evaluate(x, y, batch_size=BATCH, return_dict=True, verbose=0)
        examples = len(new.x)
    try:
        test = read_json(layout.path(run.run_dir, layout.METRICS)).get("test") or {}
    except (OSError, ValueError, AttributeError):
        test = {}
    return {"run": run.run_dir, "name": run.name, "data": [os.path.abspath(d) for d in data], "examples": examples,
            "metrics": with_penalty({k: float(v) for k, v in scores.items()}),
            "run_test": {k: float(v) for k, v in test.items() if isinstance(v, (int, float))}}


def _encode(run: Run, new: NewData, model: Any, source: str) -> np.ndarray:
    """Labels as the run's loss takes them (one-hot for categorical crossentropy)."""
    assert new.y is not None
    units = int(model.outputs[0].shape[-1])
    y = new.y
    loss = run.prep.loss
    if run.prep.classifier and y.ndim == 1:
        top = int(y.max()) if len(y) else 0
        limit = 2 if loss == "binary_crossentropy" and units == 1 else units
        if top >= limit:
            raise refuse(source, f"label {top} is beyond the model's {limit} classes",
                         "labels are class ids from 0, or the run's class names")
        if loss == "categorical_crossentropy":
            return np.eye(units, dtype="float32")[y]
        if loss == "binary_crossentropy":
            return y.astype("float32")
    return y


def format_evaluation(result: dict[str, Any], fmt: str) -> str:
    from regspec.render import render_table

    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    keys = sorted(result["metrics"], key=lambda k: k != "loss")  # loss first, as in the results tables
    keys += [k for k in result["run_test"] if k not in keys]

    def cell(d: dict[str, float], k: str) -> str:
        return f"{d[k]:.4f}" if k in d else "-"

    head = ["data", "examples", *keys]
    rows = [[", ".join(os.path.basename(d) for d in result["data"]), str(result["examples"]),
             *[cell(result["metrics"], k) for k in keys]]]
    if result["run_test"]:
        rows.append(["the run's test split", "-", *[cell(result["run_test"], k) for k in keys]])
    return render_table(head, rows, fmt)
