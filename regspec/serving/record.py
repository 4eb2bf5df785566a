"""A trained run as something to apply: its model file and the preprocessing it was trained with.

``preprocessing.json`` is written by the data stage (``backend.keras.data.preprocessing_record``)
and read here, checked like any other input: a run directory may have been edited or come from
elsewhere. No TensorFlow here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from regspec.diagnostics import Diagnostic, SpecError, safe
from regspec.files import read_json
from regspec.rundir import layout

MAX_FEATURES = 1_000_000  # more numbers per example than any spec's input: the record is not one of ours
CLASSIFIER_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")


class ServingError(SpecError):
    """A run or a data file that predict/evaluate/export refuse; exit 2 with the file named."""


def refuse(file: str, message: str, hint: str | None = None, line: int = 1, column: int = 1) -> ServingError:
    return ServingError([Diagnostic(file, line, column, (), message, hint)])


@dataclass(frozen=True)
class Preprocessing:
    source: str
    raw_shape: tuple[int, ...]  # one example as the data gives it
    input_shape: tuple[int | None, ...]  # one example as the model takes it
    features: tuple[str, ...] | None  # column names, in order (None: positional)
    label: str | None
    classes: tuple[str, ...] | None  # class names by class id (None: the ids are the names)
    mean: tuple[float, ...] | None  # standardization: (x - mean) / scale
    scale: tuple[float, ...] | None
    rescale: float | None  # then x * rescale
    image: dict[str, Any] | None  # size, color_mode, interpolation, label_mode
    loss: str
    from_logits: bool

    @property
    def classifier(self) -> bool:
        return self.loss in CLASSIFIER_LOSSES

    @property
    def channels(self) -> int:
        return {"grayscale": 1, "rgb": 3, "rgba": 4}[self.image["color_mode"]] if self.image else 0


@dataclass(frozen=True)
class Run:
    run_dir: str
    name: str
    status: str
    prep: Preprocessing

    @property
    def model_path(self) -> str:
        return layout.path(self.run_dir, layout.MODEL)


def open_run(run_dir: str) -> Run:
    """A finished (or diverged) run with a model and a preprocessing record, or a refusal saying why."""
    info_path = layout.path(run_dir, layout.RUN)
    if not os.path.isdir(run_dir):
        raise refuse(run_dir, "not a run directory (no such folder)", "give a folder that `compile --train` wrote")
    try:
        info = read_json(info_path)
    except (OSError, ValueError) as exc:
        raise refuse(run_dir, f"not a run directory (run.json: {safe(str(getattr(exc, 'strerror', None) or exc), 120)})",
                     "give a folder that `compile --train` wrote") from None
    if not isinstance(info, dict):
        raise refuse(info_path, "run.json is not an object")
    status = str(info.get("status", "?"))
    if status not in layout.DONE:
        raise refuse(info_path, f"the run is {safe(status, 40)}, it has no trained model to use",
                     "train it to the end first (`compile --train`, or --resume)")
    if not os.path.isfile(layout.path(run_dir, layout.MODEL)):
        raise refuse(run_dir, "the run has no model.keras")
    prep_path = layout.path(run_dir, layout.PREPROCESSING)
    try:
        raw = read_json(prep_path)
    except (OSError, ValueError):
        raise refuse(run_dir, "the run has no readable preprocessing.json",
                     "runs trained before regspec recorded preprocessing: train it again") from None
    return Run(run_dir, safe(str(info.get("name", os.path.basename(run_dir))), 120), status,
               _preprocessing(prep_path, raw))


def _preprocessing(path: str, raw: Any) -> Preprocessing:
    def bad(what: str) -> ServingError:
        return refuse(path, f"preprocessing.json: {what}", "the file was edited or is not regspec's: train the run again")

    if not isinstance(raw, dict) or raw.get("format") != 1:
        raise bad("not a format-1 record")

    def shape(key: str, allow_none: bool = False) -> tuple[Any, ...]:
        value = raw.get(key)
        if not isinstance(value, list) or not 0 < len(value) <= 8 or not all(
                (d is None and allow_none) or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in value):
            raise bad(f"{key} is not a shape")
        if math.prod(d or 1 for d in value) > MAX_FEATURES:
            raise bad(f"{key} is larger than any model regspec builds")
        return tuple(value)

    def names(key: str) -> tuple[str, ...] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > MAX_FEATURES:
            raise bad(f"{key} is not a list of names")
        return tuple(value)

    def numbers(value: Any, n: int) -> tuple[float, ...]:
        if not isinstance(value, list) or len(value) != n or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
            raise bad(f"standardize holds something other than {n} finite numbers")
        return tuple(float(v) for v in value)

    raw_shape = shape("raw_shape")
    features = names("features")
    if features is not None and (len(raw_shape) != 1 or len(features) != raw_shape[0]):
        raise bad("features do not match raw_shape")
    std = raw.get("standardize")
    mean = scale = None
    if std is not None:
        if not isinstance(std, dict):
            raise bad("standardize is not an object")
        mean, scale = numbers(std.get("mean"), math.prod(raw_shape)), numbers(std.get("scale"), math.prod(raw_shape))
        if any(s == 0 for s in scale):
            raise bad("standardize has a zero scale")
    rescale = raw.get("rescale")
    if rescale is not None and (not isinstance(rescale, (int, float)) or isinstance(rescale, bool)
                                or not math.isfinite(rescale)):
        raise bad("rescale is not a number")
    image = raw.get("image")
    if image is not None and not (
        isinstance(image, dict) and image.get("color_mode") in ("grayscale", "rgb", "rgba")
        and image.get("interpolation") in ("bilinear", "nearest", "bicubic", "area")
        and isinstance(image.get("size"), list) and len(image["size"]) == 2
        and all(isinstance(d, int) and 0 < d <= 100_000 for d in image["size"])
    ):
        raise bad("image is not an image record")
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        raise bad("label is not a column name")
    return Preprocessing(
        source=str(raw.get("source", "?")), raw_shape=raw_shape, input_shape=shape("input_shape", allow_none=True),
        features=features, label=label, classes=names("classes"), mean=mean, scale=scale,
        rescale=None if rescale is None else float(rescale), image=image, loss=str(raw.get("loss", "")),
        from_logits=raw.get("from_logits") is True,
    )
