"""Turn the `data` section into tf.data pipelines, refusing bad data before training.

One loader per data source kind (registered with :func:`loader` under the tag
of its `lang.data` class). Array sources (sklearn, csv, npz, keras, tfds) load
into NumPy, are checked, then become datasets; image folders stream through
image_dataset_from_directory. Augmentation runs on training batches only;
evaluation on the train split uses the un-augmented pipeline. Every refusal
is reported at the `data` key that caused it.
"""

from __future__ import annotations

import csv
import math
import os
import stat
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.backend.keras.build import build_layer, refusal
from regspec.backend.keras.env import keras
from regspec.diagnostics import SpecError
from regspec.ir.graph import Program
from regspec.ir.shapes import infer_rows
from regspec.lang.data import (
    CsvData,
    ImageDirectoryData,
    KerasData,
    NpzData,
    SklearnData,
    TfdsData,
)
from regspec.rundir.records import ImageRecord, PreprocessingRecord, Standardize
from regspec.tabular import numbers

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
DATASET_HELP = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
}
MAX_ECHO = 80  # characters of a data file's content shown in a message


@dataclass
class Datasets:
    train: Any  # batched, shuffled, augmented; repeats when steps_per_epoch is set
    train_eval: Any  # batched, not augmented, one pass
    validation: Any | None
    test: Any | None
    #: What was done to the examples on their way to the model (the run keeps it: see runtime.serving).
    preprocessing: PreprocessingRecord | None = None


@dataclass
class Loaded:
    """Arrays from a source, and what the run must remember to treat new data the same way."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    features: list[str] | None = None  # column names of x, in order
    label: str | None = None  # the label column's name
    classes: list[str] | None = None  # class names by class id
    mean: np.ndarray | None = None  # standardization fitted on the train split
    scale: np.ndarray | None = None


Loader = Callable[[Program, Any, "int | None"], "Loaded | Datasets"]

#: Data source tag -> loader; a tag without one is refused before training (and by a test).
LOADERS: dict[str, Loader] = {}


def loader(tag: str) -> Callable[[Loader], Loader]:
    def register(fn: Loader) -> Loader:
        LOADERS[tag] = fn
        return fn

    return register


class DataError(SpecError):
    pass


def _fail(program: Program, key: str, message: str, hint: str | None = None) -> DataError:
    path = ("data", key) if key else ("data",)
    err = program.source.error(path, message, hint)
    return DataError(err.diagnostics)


def _check_path(program: Program, key: str, path: str, *, folder: bool) -> None:
    try:
        st = os.stat(path)
    except OSError:
        raise _fail(program, key, f"{path} does not exist", _where_hint(program)) from None
    if folder and not stat.S_ISDIR(st.st_mode):
        raise _fail(program, key, f"{path} is not a folder")
    if not folder and not stat.S_ISREG(st.st_mode):
        raise _fail(program, key, f"{path} is not a regular file")
    if not folder and st.st_size == 0:
        raise _fail(program, key, f"{path} is empty")


def _where_hint(program: Program) -> str | None:
    hint = program.data.hint if program.data is not None else None
    return " ".join(hint.split()) if hint else None


def load_data(program: Program, seed: int | None) -> Datasets:
    data = program.data
    if data is None:
        raise _fail(program, "", "the spec has no data section: it can be compiled, not trained")
    load = LOADERS.get(data.tag)
    if load is None:
        raise _fail(program, "type", f"regspec has no loader for data type {data.tag!r}")
    with refusal(program.source, ("data",), f"to load the {data.tag} data"):
        got = load(program, data, seed)
    if isinstance(got, Datasets):
        return got
    return _from_arrays(program, got, seed=seed)


# ----------------------------------------------------------------------------- arrays


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int | None) -> Loaded:
    from sklearn.model_selection import train_test_split

    x, xt, y, yt = train_test_split(x, y, test_size=test_size, random_state=seed)
    return Loaded(x, y, xt, yt)


def _standardize(got: Loaded) -> Loaded:
    """Zero mean, unit variance, fitted on the train split only (no test leakage); a constant
    feature keeps scale 1."""
    mean = got.x.mean(axis=0)
    std = got.x.std(axis=0)
    std[std == 0] = 1.0
    got.x, got.x_test = (got.x - mean) / std, (got.x_test - mean) / std
    got.mean, got.scale = mean, std
    return got


@loader("sklearn")
def _sklearn(program: Program, data: SklearnData, seed: int | None) -> Loaded:
    from sklearn import datasets as sk

    bunch = getattr(sk, f"load_{data.name}")()
    got = _split(bunch.data.astype("float32"), bunch.target, data.test_size, seed)
    got.features, got.label = [str(f) for f in bunch.feature_names], "target"
    got.classes = [str(c) for c in bunch.target_names]
    return _standardize(got) if data.standardize else got


@loader("csv")
def _csv(program: Program, data: CsvData, seed: int | None) -> Loaded:
    _check_path(program, "train", data.train, folder=False)
    x, labels, features = _read_csv(program, data, "train", data.train)
    classifier = program.compile.task.classifier
    y, classes = _encode_labels(program, "train", data.train, labels, None, classifier=classifier)
    if data.test:
        _check_path(program, "test", data.test, folder=False)
        xt, test_labels, _ = _read_csv(program, data, "test", data.test)
        yt, _ = _encode_labels(program, "test", data.test, test_labels, classes, classifier=classifier)
        got = Loaded(x, y, xt, yt)
    else:
        got = _split(x, y, data.test_size, seed)
    got.features, got.label, got.classes = features, data.label, classes
    return _standardize(got) if data.standardize else got


def _encode_labels(program: Program, key: str, path: str, labels: list[tuple[int, str]], classes: list[str] | None,
                   *, classifier: bool) -> tuple[np.ndarray, list[str] | None]:
    """Numbers stay numbers; a classifier's labels may also be class names (ids in sorted order,
    the train split's names for the test split). Returns the labels and the class names."""
    numbers = _numbers(labels)
    if numbers is not None and classes is None:
        return (numbers.astype("int64") if np.all(numbers == np.round(numbers)) else numbers), None
    if not classifier:
        line, text = next((ln, t) for ln, t in labels if _number(t) is None)
        raise _fail(program, key, f"{path}:{line}: label {_short(text)!r} is not a number",
                    "a class name needs a crossentropy loss; a regression target must be a number")
    if classes is None:
        classes = sorted({t.strip() for _, t in labels})
    index = {c: i for i, c in enumerate(classes)}
    y = np.empty(len(labels), dtype="int64")
    for r, (line, text) in enumerate(labels):
        if text.strip() not in index:
            raise _fail(program, key, f"{path}:{line}: label {_short(text)!r} is not one of the train split's classes",
                        f"classes: {_short(', '.join(classes))}")
        y[r] = index[text.strip()]
    return y, classes


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numbers(labels: list[tuple[int, str]]) -> np.ndarray | None:
    out = np.empty(len(labels))
    for r, (_, text) in enumerate(labels):
        v = _number(text)
        if v is None:
            return None
        out[r] = v
    return out


def _short(text: str) -> str:
    """A piece of a data file, safe to echo: printable, and short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= MAX_ECHO else clean[:MAX_ECHO] + "..."


def _read_csv(program: Program, data: CsvData, key: str, path: str
              ) -> tuple[np.ndarray, list[tuple[int, str]], list[str]]:
    """Feature rows as float32, label cells as (line, text), and the feature names."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter=data.delimiter)
            header = next(reader, None)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise _fail(program, key, f"{path} is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise _fail(program, key, f"{path} is not a CSV file ({exc})") from None
    if not header:
        raise _fail(program, key, f"{path} has no header row")
    if data.label not in header:
        raise _fail(program, "label", f"column {data.label!r} not in the header of {path}",
                    f"the header has {len(header)} columns")
    features = data.features or [c for c in header if c != data.label]
    missing = [c for c in features if c not in header]
    if missing:
        raise _fail(program, "features", f"columns {[_short(m) for m in missing]} not in the header of {path}")
    if not rows:
        raise _fail(program, key, f"{path} has a header but no rows")
    idx = [header.index(c) for c in features]
    li = header.index(data.label)
    labels: list[tuple[int, str]] = []
    for r, row in enumerate(rows):
        line = r + 2  # 1-based, after the header
        if len(row) != len(header):
            raise _fail(program, key, f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        if _number(row[li]) is not None:
            _cell(program, key, path, line, header[li], row[li])  # a NaN or infinite label is refused too
        labels.append((line, row[li]))
    x, bad = numbers(rows, idx)
    if bad is not None:
        r, col, _ = bad
        _cell(program, key, path, r + 2, header[col], rows[r][col])  # raises, naming the cell
    return x, labels, features


def _cell(program: Program, key: str, path: str, line: int, column: str, text: str) -> float:
    v = _number(text)
    if v is None:
        raise _fail(program, key, f"{path}:{line}: column {_short(column)!r} is not a number ({_short(text)!r})")
    if not math.isfinite(v):
        raise _fail(program, key, f"{path}:{line}: column {_short(column)!r} is {_short(text.strip())}",
                    "every value must be a finite number")
    return v


@loader("npz")
def _npz_source(program: Program, data: NpzData, seed: int | None) -> Loaded:
    _check_path(program, "path", data.path, folder=False)
    return _npz(program, data.path, data.test_size, seed)


def _npz(program: Program, path: str, test_size: float, seed: int | None) -> Loaded:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise _fail(program, "path", f"cannot read {path} as .npz: {_short(str(exc))}") from None
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise _fail(program, "path", f"{path} has no array {key!r}", f"arrays: {', '.join(arrays) or 'none'}")
    for name in ("train", "test"):
        xs, ys = arrays.get(f"x_{name}"), arrays.get(f"y_{name}")
        if xs is not None and ys is not None and len(xs) != len(ys):
            raise _fail(program, "path", f"{path}: x_{name} has {len(xs)} examples, y_{name} has {len(ys)}")
    x, y = arrays["x_train"], arrays["y_train"]
    if "x_test" in arrays and "y_test" in arrays:
        return Loaded(x, y, arrays["x_test"], arrays["y_test"])
    return _split(x, y, test_size, seed)


@loader("keras")
def _keras_dataset(program: Program, data: KerasData, seed: int | None) -> Loaded:
    if data.path:
        # The seam: a local copy in the dataset's own layout (mnist.npz-style arrays).
        _check_path(program, "path", data.path, folder=False)
        return _npz(program, data.path, 0.25, None)
    module = getattr(keras().datasets, data.name)
    try:
        (x, y), (xt, yt) = module.load_data()
    except Exception as exc:  # noqa: BLE001 - offline, bad hash, proxy: all end here
        url = DATASET_HELP.get(data.name, "keras.io/api/datasets")
        raise _fail(
            program, "name", f"could not load keras.datasets.{data.name} ({type(exc).__name__}: {_short(str(exc))})",
            f"download it once ({url}) into ~/.keras/datasets/, or set data.path to a local copy",
        ) from None
    return Loaded(x, y, xt, yt)


@loader("tfds")
def _tfds(program: Program, data: TfdsData, seed: int | None) -> Loaded:
    try:
        import tensorflow_datasets as tfds  # optional extra
    except ImportError:
        raise _fail(program, "type", "tfds data needs tensorflow-datasets", "pip install 'regspec[tfds]'") from None
    x, y = tfds.as_numpy(tfds.load(data.name, split=data.train_split, as_supervised=True, batch_size=-1))
    xt, yt = tfds.as_numpy(tfds.load(data.name, split=data.test_split, as_supervised=True, batch_size=-1))
    return Loaded(x, y, xt, yt)


def _input_shape(program: Program) -> tuple[int | None, ...]:
    if len(program.inputs) != 1:
        raise _fail(program, "", "array data feeds one model input; this model has "
                    f"{len(program.inputs)} ({', '.join(i.id for i in program.inputs)})")
    return program.inputs[0].shape


def _output_units(program: Program) -> int | None:
    if len(program.outputs) != 1:
        raise _fail(program, "", f"array data has one label per example; this model has {len(program.outputs)} outputs")
    rows = {r.id: r for r in infer_rows(program)}
    out = rows.get(program.outputs[0])
    return out.output_shape[-1] if out is not None and out.output_shape else None


def _fit_shape(program: Program, x: np.ndarray, split: str) -> np.ndarray:
    """Reshape examples to the model's input shape when the element counts agree."""
    want = _input_shape(program)
    have = x.shape[1:]
    if have == want or None in want:
        return x
    if math.prod(have) == math.prod(d for d in want if d is not None):  # no None in want: checked above
        return x.reshape((x.shape[0], *want))
    raise _fail(program, "", f"{split} examples have shape {list(have)}, the model's input is {list(want)}",
                "set input.shape to the data's shape")


def _labels(program: Program, y: np.ndarray, split: str, num_classes: int | None) -> np.ndarray:
    """Check the labels fit the loss and the output layer, and encode them for the loss."""
    loss = program.compile.loss_name
    if y.ndim == 2 and y.shape[1] == 1 and np.issubdtype(y.dtype, np.integer):
        y = y.ravel()  # CIFAR's labels come as (n, 1)
    units = _output_units(program)
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            if y.ndim == 2 and loss != "sparse_categorical_crossentropy":
                return y.astype("float32")  # already one-hot / multi-label
            raise _fail(program, "", f"{split} labels must be integer class ids for {loss}")
        if y.min() < 0:
            raise _fail(program, "", f"{split} labels include {int(y.min())}; class ids start at 0")
        top = int(y.max())
        if loss == "binary_crossentropy":
            if top > 1:
                raise _fail(program, "", f"{split} labels go up to {top} but binary_crossentropy needs 0/1 labels",
                            f"{top + 1} classes: use {top + 1} softmax units with categorical_crossentropy")
            if units != 1:
                raise _fail(program, "", f"binary labels need 1 output unit; the last layer has {units}")
            return y.astype("float32")
        n = num_classes or top + 1
        if units is not None and top >= units:
            raise _fail(program, "", f"{split} labels go up to {top} but the last layer has {units} unit(s)",
                        f"the data has at least {top + 1} classes")
        if loss == "categorical_crossentropy":
            return np.eye(units or n, dtype="float32")[y]
        return y
    return y.astype("float32")


def _from_arrays(program: Program, got: Loaded, seed: int | None) -> Datasets:
    import tensorflow as tf

    x, y, xt, yt = got.x, got.y, got.x_test, got.y_test
    if len(x) == 0:
        raise _fail(program, "", "the train split is empty")
    if len(xt) == 0:
        raise _fail(program, "", "the test split is empty")
    data = program.data
    assert data is not None
    scale = getattr(data, "rescale", None)
    raw_shape = list(np.shape(x)[1:])
    x = _fit_shape(program, np.asarray(x, dtype="float32") * (scale or 1.0), "train")
    xt = _fit_shape(program, np.asarray(xt, dtype="float32") * (scale or 1.0), "test")
    for split, arr in (("train", x), ("test", xt)):
        if not np.all(np.isfinite(arr)):
            bad = int(np.argwhere(~np.isfinite(arr.reshape(len(arr), -1)))[0][0])
            raise _fail(program, "", f"{split} example {bad} has a NaN or infinite value",
                        "every value must be a finite number")
    classes = int(max(y.max(), yt.max()) + 1) if np.issubdtype(y.dtype, np.integer) else None
    classifier = program.compile.task.classifier
    if classifier and y.ndim == 1 and len(np.unique(y)) < 2:
        raise _fail(program, "", f"the train labels hold one class only ({_short(str(np.unique(y)[0]))})",
                    "a classifier needs examples of at least two classes")
    if classifier and y.ndim == 1 and yt.ndim == 1:
        unseen = sorted(set(np.unique(yt).tolist()) - set(np.unique(y).tolist()))
        if unseen:
            print(f"warning: the test split has class(es) {_short(str(unseen))} that training never sees",
                  file=sys.stderr)
    if len(x) < program.training.batch_size:
        print(f"warning: {len(x)} training examples, fewer than one batch ({program.training.batch_size}): "
              "every step sees the whole training set", file=sys.stderr)
    y = _labels(program, y, "train", classes)
    yt = _labels(program, yt, "test", classes)
    val = None
    if data.validation_split:
        n_val = int(round(len(x) * data.validation_split))
        if n_val == 0 or n_val == len(x):
            raise _fail(program, "validation_split", f"leaves an empty split ({len(x)} training examples)")
        # Like Keras' validation_split: the last examples, before shuffling.
        x, xv, y, yv = x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]
        val = (xv, yv)
    bs = program.training.batch_size

    def batches(xs: np.ndarray, ys: np.ndarray) -> Any:
        return tf.data.Dataset.from_tensor_slices((xs, ys)).batch(bs)

    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(bs)
    train = _augment(program, train)
    if program.training.steps_per_epoch:
        train = train.repeat()
    validation = batches(*val) if val is not None else batches(xt, yt)
    standardize = None
    if got.mean is not None and got.scale is not None:
        standardize = Standardize(mean=tuple(got.mean.astype(float).tolist()), scale=tuple(got.scale.astype(float).tolist()))
    record = preprocessing_record(program, raw_shape=raw_shape, features=got.features, label=got.label,
                                  classes=got.classes, rescale=scale, standardize=standardize)
    return Datasets(
        train=train.prefetch(tf.data.AUTOTUNE), train_eval=batches(x, y), validation=validation,
        test=batches(xt, yt), preprocessing=record,
    )


def preprocessing_record(program: Program, *, raw_shape: list[int], features: list[str] | None = None,
                         label: str | None = None, classes: list[str] | None = None, rescale: float | None = None,
                         standardize: Standardize | None = None, image: ImageRecord | None = None) -> PreprocessingRecord:
    """What new data must go through to reach the model as the training data did (preprocessing.json)."""
    assert program.data is not None
    task = program.compile.task
    return PreprocessingRecord(
        source=program.data.tag, raw_shape=tuple(raw_shape), input_shape=_input_shape(program),
        features=None if features is None else tuple(features), label=label,
        classes=None if classes is None else tuple(classes), standardize=standardize,
        rescale=None if rescale is None else float(rescale), image=image, loss=task.loss, from_logits=task.from_logits,
    )


def _augment(program: Program, ds: Any) -> Any:
    import tensorflow as tf

    steps = getattr(program.data, "augmentation", None) or []
    if not steps:
        return ds
    layers = []
    for i, step in enumerate(steps):
        with refusal(program.source, ("data", "augmentation", i), f"to build {step.tag}"):
            layers.append(build_layer(step))

    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        for layer in layers:
            x = layer(x, training=True)
        return x, y

    return ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------- image folders


@loader("image_directory")
def _image_directory(program: Program, data: ImageDirectoryData, seed: int | None) -> Datasets:
    import tensorflow as tf

    k = keras()
    bs = program.training.batch_size
    classes = _check_image_folder(program, "train", data.train)
    _check_classes(program, data, classes)
    if data.test:
        test_classes = _check_image_folder(program, "test", data.test)
        if test_classes != classes:
            # Keras numbers each folder's classes on its own: a test folder with other classes
            # would be scored against the wrong labels.
            extra = sorted(set(test_classes) - set(classes))
            lacking = sorted(set(classes) - set(test_classes))
            what = "; ".join(([f"class(es) the train folder lacks: {_short(', '.join(extra))}"] if extra else [])
                             + ([f"no folder for: {_short(', '.join(lacking))}"] if lacking else []))
            raise _fail(program, "test", f"{data.test} has other classes than {data.train} ({what})",
                        "the test folder needs one subfolder per class of the train folder, same names")
    common: dict[str, Any] = dict(
        image_size=tuple(data.image_size), label_mode=data.label_mode, color_mode=data.color_mode,
        batch_size=bs, interpolation=data.interpolation, seed=seed if seed is not None else 1337,
        verbose=False, class_names=classes,
    )
    if data.validation_split:
        train, val = k.utils.image_dataset_from_directory(
            data.train, validation_split=data.validation_split, subset="both", shuffle=True, **common
        )
    else:
        train = k.utils.image_dataset_from_directory(data.train, shuffle=True, **common)
        val = None
    test = k.utils.image_dataset_from_directory(data.test, shuffle=False, **common) if data.test else None
    scale = data.rescale

    def prep(ds: Any, *, cache: bool) -> Any:
        if ds is None:
            return None
        if scale is not None:
            ds = ds.map(lambda x, y: (x * scale, y), num_parallel_calls=tf.data.AUTOTUNE)
        if cache and data.cache:
            ds = ds.cache()
        return ds

    base = prep(train, cache=True)
    augmented = _augment(program, base)
    if program.training.steps_per_epoch:
        augmented = augmented.repeat()
    val_ds = prep(val, cache=True)
    test_ds = prep(test, cache=True)
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[data.color_mode]
    record = preprocessing_record(
        program, raw_shape=[*data.image_size, channels], classes=classes, rescale=scale,
        image=ImageRecord(size=tuple(data.image_size), color_mode=data.color_mode, interpolation=data.interpolation,
                          label_mode=data.label_mode),
    )
    return Datasets(
        train=augmented.prefetch(tf.data.AUTOTUNE), train_eval=base.prefetch(tf.data.AUTOTUNE),
        validation=(val_ds if val_ds is not None else test_ds), test=test_ds, preprocessing=record,
    )


def _check_image_folder(program: Program, key: str, path: str) -> list[str]:
    _check_path(program, key, path, folder=True)
    # As Keras lists them: sorted, hidden folders skipped.
    classes = [d for d in sorted(os.listdir(path)) if not d.startswith(".") and os.path.isdir(os.path.join(path, d))]
    if not classes:
        raise _fail(program, key, f"{path} has no class subfolders", "put the images in one subfolder per class")
    for c in classes:
        folder = os.path.join(path, c)
        images = [f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS)]
        if not images:
            raise _fail(program, key, f"class folder {folder} has no images ({', '.join(IMAGE_EXTENSIONS)})")
        root = os.path.realpath(path) + os.sep
        for f in images:
            full = os.path.join(folder, f)
            if not os.path.realpath(full).startswith(root):
                raise _fail(program, key, f"{full} links outside the data folder {path}",
                            "copy the image in, or point the spec at the folder it is in")
            if not stat.S_ISREG(os.stat(full).st_mode):  # a FIFO or device named like an image would hang
                raise _fail(program, key, f"{full} is not a regular file")
            problem = image_problem(full)
            if problem:
                raise _fail(program, key, f"{full} {problem}", "remove or replace the file")
    return classes


# (signature, what a whole file ends with) per format; a cheap look at both ends of each file
# catches files that are not images and files cut short, before training fails on them.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"), ".jpg": (b"\xff\xd8\xff", b"\xff\xd9"),
    ".jpeg": (b"\xff\xd8\xff", b"\xff\xd9"), ".gif": (b"GIF8", b";"), ".bmp": (b"BM", b""),
}


def image_problem(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    head_sig, tail_sig = _SIGNATURES[ext]
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64))
            tail = fh.read(64)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty"
    if not head.startswith(head_sig):
        return f"is not a {ext[1:].upper()} image (its first bytes say otherwise)"
    if tail_sig and tail_sig not in tail:
        return f"is cut short (a whole {ext[1:].upper()} file ends with its end marker)"
    if ext == ".bmp" and int.from_bytes(head[2:6], "little") != size:
        return "is cut short (its header gives another size)"
    return None


def _check_classes(program: Program, data: ImageDirectoryData, class_names: list[str]) -> None:
    units = _output_units(program)
    n = len(class_names)
    if data.label_mode == "binary":
        if n != 2:
            raise _fail(program, "label_mode", f"binary labels need 2 class folders, found {n}: {', '.join(class_names)}")
        if units != 1:
            raise _fail(program, "label_mode", f"binary labels need 1 output unit; the last layer has {units}")
    elif units != n:
        raise _fail(program, "label_mode", f"{n} class folders but the last layer has {units} unit(s)")
