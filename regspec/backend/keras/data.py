"""Turn the `data` section into tf.data pipelines, refusing bad data before training.

Array sources (sklearn, csv, npz, keras) load into NumPy, are checked, then
become datasets; image folders stream through image_dataset_from_directory.
Augmentation runs on training batches only; evaluation on the train split
uses the un-augmented pipeline.
"""

from __future__ import annotations

import csv
import os
import stat
from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.api import Spec
from regspec.backend.keras.build import build_layer
from regspec.backend.keras.env import keras
from regspec.diagnostics import Diagnostic, SpecError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
DATASET_HELP = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
}


@dataclass
class Datasets:
    train: Any  # batched, shuffled, augmented; repeats when steps_per_epoch is set
    train_eval: Any  # batched, not augmented, one pass
    validation: Any | None
    test: Any | None


class DataError(SpecError):
    pass


def _fail(spec: Spec, key: str, message: str, hint: str | None = None) -> DataError:
    path = ("data", key) if key else ("data",)
    file, line, col = spec.document.position(path)
    return DataError([Diagnostic(file, line, col, ".".join(path), message, hint)])


def _check_path(spec: Spec, key: str, path: str, *, folder: bool) -> None:
    try:
        st = os.stat(path)
    except OSError:
        raise _fail(spec, key, f"{path} does not exist", _where_hint(spec)) from None
    if folder and not stat.S_ISDIR(st.st_mode):
        raise _fail(spec, key, f"{path} is not a folder")
    if not folder and not stat.S_ISREG(st.st_mode):
        raise _fail(spec, key, f"{path} is not a regular file")
    if not folder and st.st_size == 0:
        raise _fail(spec, key, f"{path} is empty")


def _where_hint(spec: Spec) -> str | None:
    hint = spec.resolved.data.hint if spec.resolved.data is not None else None
    return " ".join(hint.split()) if hint else None


def load(spec: Spec, seed: int | None) -> Datasets:
    data = spec.resolved.data
    if data is None:
        raise _fail(spec, "", "the spec has no data section: it can be compiled, not trained")
    if data.type == "image_directory":
        return _image_directory(spec, seed)
    if data.type == "sklearn":
        x, y, xt, yt = _sklearn(spec, seed)
    elif data.type == "csv":
        x, y, xt, yt = _csv(spec, seed)
    elif data.type == "npz":
        _check_path(spec, "path", data.path, folder=False)
        x, y, xt, yt = _npz(spec, data.path, seed)
    elif data.type == "keras":
        x, y, xt, yt = _keras_dataset(spec)
    elif data.type == "tfds":
        x, y, xt, yt = _tfds(spec)
    else:  # pragma: no cover - the schema has no other types
        raise _fail(spec, "type", f"unsupported data type {data.type}")
    return _from_arrays(spec, x, y, xt, yt, seed)


# ----------------------------------------------------------------------------- arrays


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int | None) -> tuple:
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=test_size, random_state=seed)


def _standardize(x: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return (x - mean) / std, (xt - mean) / std


def _sklearn(spec: Spec, seed: int | None) -> tuple:
    from sklearn import datasets as sk

    data = spec.resolved.data
    bunch = getattr(sk, f"load_{data.name}")()  # type: ignore[union-attr]
    x, xt, y, yt = _split(bunch.data.astype("float32"), bunch.target, data.test_size, seed)  # type: ignore[union-attr]
    if data.standardize:  # type: ignore[union-attr]
        x, xt = _standardize(x, xt)  # fitted on the train split only: no test leakage
    return x, y, xt, yt


def _csv(spec: Spec, seed: int | None) -> tuple:
    data = spec.resolved.data
    _check_path(spec, "train", data.train, folder=False)  # type: ignore[union-attr]
    x, y = _read_csv(spec, "train", data.train)  # type: ignore[union-attr]
    if data.test:  # type: ignore[union-attr]
        _check_path(spec, "test", data.test, folder=False)  # type: ignore[union-attr]
        xt, yt = _read_csv(spec, "test", data.test)  # type: ignore[union-attr]
    else:
        x, xt, y, yt = _split(x, y, data.test_size, seed)  # type: ignore[union-attr]
    if data.standardize:  # type: ignore[union-attr]
        x, xt = _standardize(x, xt)
    return x, y, xt, yt


def _read_csv(spec: Spec, key: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    data = spec.resolved.data
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter=data.delimiter)  # type: ignore[union-attr]
        header = next(reader, None)
        if not header:
            raise _fail(spec, key, f"{path} has no header row")
        if data.label not in header:  # type: ignore[union-attr]
            raise _fail(spec, "label", f"column {data.label!r} not in {path}", f"columns: {', '.join(header)}")  # type: ignore[union-attr]
        features = data.features or [c for c in header if c != data.label]  # type: ignore[union-attr]
        missing = [c for c in features if c not in header]
        if missing:
            raise _fail(spec, "features", f"columns {missing} not in {path}")
        idx = [header.index(c) for c in features]
        li = header.index(data.label)  # type: ignore[union-attr]
        rows = list(reader)
    if not rows:
        raise _fail(spec, key, f"{path} has a header but no rows")
    try:
        x = np.array([[float(r[i]) for i in idx] for r in rows], dtype="float32")
        y = np.array([float(r[li]) for r in rows])
    except (ValueError, IndexError) as exc:
        raise _fail(spec, key, f"{path}: not numeric ({exc})") from None
    if np.all(y == np.round(y)):
        y = y.astype("int64")
    return x, y


def _npz(spec: Spec, path: str, seed: int | None) -> tuple:
    data = spec.resolved.data
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError) as exc:
        raise _fail(spec, "path", f"cannot read {path} as .npz: {exc}") from None
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise _fail(spec, "path", f"{path} has no array {key!r}", f"arrays: {', '.join(arrays) or 'none'}")
    x, y = arrays["x_train"], arrays["y_train"]
    if "x_test" in arrays and "y_test" in arrays:
        xt, yt = arrays["x_test"], arrays["y_test"]
    else:
        x, xt, y, yt = _split(x, y, getattr(data, "test_size", 0.25), seed)
    return x, y, xt, yt


def _keras_dataset(spec: Spec) -> tuple:
    data = spec.resolved.data
    if data.path:  # type: ignore[union-attr]
        # The seam: a local copy in the dataset's own layout (mnist.npz-style arrays).
        _check_path(spec, "path", data.path, folder=False)  # type: ignore[union-attr]
        return _npz(spec, data.path, None)  # type: ignore[union-attr]
    module = getattr(keras().datasets, data.name)  # type: ignore[union-attr]
    try:
        (x, y), (xt, yt) = module.load_data()
    except Exception as exc:  # noqa: BLE001 - offline, bad hash, proxy: all end here
        url = DATASET_HELP.get(data.name, "keras.io/api/datasets")  # type: ignore[union-attr]
        raise _fail(
            spec, "name", f"could not load keras.datasets.{data.name} ({type(exc).__name__}: {exc})",  # type: ignore[union-attr]
            f"download it once ({url}) into ~/.keras/datasets/, or set data.path to a local copy",
        ) from None
    return x, y, xt, yt


def _tfds(spec: Spec) -> tuple:
    data = spec.resolved.data
    try:
        import tensorflow_datasets as tfds  # type: ignore[import-not-found]
    except ImportError:
        raise _fail(spec, "type", "tfds data needs tensorflow-datasets", "pip install 'regspec[tfds]'") from None
    x, y = tfds.as_numpy(tfds.load(data.name, split=data.train_split, as_supervised=True, batch_size=-1))  # type: ignore[union-attr]
    xt, yt = tfds.as_numpy(tfds.load(data.name, split=data.test_split, as_supervised=True, batch_size=-1))  # type: ignore[union-attr]
    return x, y, xt, yt


def _fit_shape(spec: Spec, x: np.ndarray, split: str) -> np.ndarray:
    """Reshape examples to the model's input shape when the element counts agree."""
    want = tuple(spec.resolved.input.shape)  # type: ignore[union-attr]
    have = x.shape[1:]
    if have == want or None in want:
        return x
    if int(np.prod(have)) == int(np.prod(want)):
        return x.reshape((x.shape[0],) + want)
    raise _fail(spec, "", f"{split} examples have shape {list(have)}, the model's input is {list(want)}",
                "set input.shape to the data's shape")


def _labels(spec: Spec, y: np.ndarray, split: str, num_classes: int | None) -> np.ndarray:
    """Check the labels fit the loss and the output layer, and encode them for the loss."""
    loss = spec.resolved.compile.loss_name
    if y.ndim == 2 and y.shape[1] == 1 and np.issubdtype(y.dtype, np.integer):
        y = y.ravel()  # CIFAR's labels come as (n, 1)
    rows = spec.summary_rows()
    units = rows[-1].output_shape[-1] if rows else None
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            if y.ndim == 2 and loss != "sparse_categorical_crossentropy":
                return y.astype("float32")  # already one-hot / multi-label
            raise _fail(spec, "", f"{split} labels must be integer class ids for {loss}")
        if y.min() < 0:
            raise _fail(spec, "", f"{split} labels include {int(y.min())}; class ids start at 0")
        top = int(y.max())
        if loss == "binary_crossentropy":
            if top > 1:
                raise _fail(spec, "", f"{split} labels go up to {top} but binary_crossentropy needs 0/1 labels",
                            f"{top + 1} classes: use {top + 1} softmax units with categorical_crossentropy")
            if units != 1:
                raise _fail(spec, "", f"binary labels need 1 output unit; the last layer has {units}")
            return y.astype("float32")
        n = num_classes or top + 1
        if units is not None and top >= units:
            raise _fail(spec, "", f"{split} labels go up to {top} but the last layer has {units} unit(s)",
                        f"the data has at least {top + 1} classes")
        if loss == "categorical_crossentropy":
            return np.eye(units or n, dtype="float32")[y]
        return y
    return y.astype("float32")


def _from_arrays(spec: Spec, x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray, seed: int | None) -> Datasets:
    import tensorflow as tf

    if len(x) == 0:
        raise _fail(spec, "", "the train split is empty")
    if len(xt) == 0:
        raise _fail(spec, "", "the test split is empty")
    data = spec.resolved.data
    scale = getattr(data, "rescale", None)
    x = _fit_shape(spec, np.asarray(x, dtype="float32") * (scale or 1.0), "train")
    xt = _fit_shape(spec, np.asarray(xt, dtype="float32") * (scale or 1.0), "test")
    classes = int(max(y.max(), yt.max()) + 1) if np.issubdtype(y.dtype, np.integer) else None
    y = _labels(spec, y, "train", classes)
    yt = _labels(spec, yt, "test", classes)
    val = None
    if data.validation_split:  # type: ignore[union-attr]
        n_val = int(round(len(x) * data.validation_split))  # type: ignore[union-attr]
        if n_val == 0 or n_val == len(x):
            raise _fail(spec, "validation_split", f"leaves an empty split ({len(x)} training examples)")
        # Like Keras' validation_split: the last examples, before shuffling.
        x, xv, y, yv = x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]
        val = (xv, yv)
    bs = spec.resolved.training.batch_size

    def batches(xs: np.ndarray, ys: np.ndarray) -> Any:
        return tf.data.Dataset.from_tensor_slices((xs, ys)).batch(bs)

    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(bs)
    train = _augment(spec, train, seed)
    if spec.resolved.training.steps_per_epoch:
        train = train.repeat()
    validation = batches(*val) if val is not None else batches(xt, yt)
    return Datasets(
        train=train.prefetch(tf.data.AUTOTUNE), train_eval=batches(x, y), validation=validation,
        test=batches(xt, yt),
    )


def _augment(spec: Spec, ds: Any, seed: int | None) -> Any:
    import tensorflow as tf

    steps = getattr(spec.resolved.data, "augmentation", None) or []
    if not steps:
        return ds
    layers = [build_layer(a) for a in steps]

    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        for layer in layers:
            x = layer(x, training=True)
        return x, y

    return ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------- image folders


def _image_directory(spec: Spec, seed: int | None) -> Datasets:
    import tensorflow as tf

    k = keras()
    data = spec.resolved.data
    bs = spec.resolved.training.batch_size
    _check_classes(spec, _check_image_folder(spec, "train", data.train))  # type: ignore[union-attr]
    if data.test:  # type: ignore[union-attr]
        _check_image_folder(spec, "test", data.test)  # type: ignore[union-attr]
    common = dict(
        image_size=tuple(data.image_size), label_mode=data.label_mode, color_mode=data.color_mode,  # type: ignore[union-attr]
        batch_size=bs, interpolation=data.interpolation, seed=seed if seed is not None else 1337,  # type: ignore[union-attr]
        verbose=False,
    )
    if data.validation_split:  # type: ignore[union-attr]
        train, val = k.utils.image_dataset_from_directory(
            data.train, validation_split=data.validation_split, subset="both", shuffle=True, **common  # type: ignore[union-attr]
        )
    else:
        train = k.utils.image_dataset_from_directory(data.train, shuffle=True, **common)  # type: ignore[union-attr]
        val = None
    test = k.utils.image_dataset_from_directory(data.test, shuffle=False, **common) if data.test else None  # type: ignore[union-attr]
    scale = data.rescale  # type: ignore[union-attr]

    def prep(ds: Any, *, cache: bool) -> Any:
        if ds is None:
            return None
        if scale is not None:
            ds = ds.map(lambda x, y: (x * scale, y), num_parallel_calls=tf.data.AUTOTUNE)
        if cache and data.cache:  # type: ignore[union-attr]
            ds = ds.cache()
        return ds

    base = prep(train, cache=True)
    augmented = _augment(spec, base, seed)
    if spec.resolved.training.steps_per_epoch:
        augmented = augmented.repeat()
    val_ds = prep(val, cache=True)
    test_ds = prep(test, cache=True)
    return Datasets(
        train=augmented.prefetch(tf.data.AUTOTUNE), train_eval=base.prefetch(tf.data.AUTOTUNE),
        validation=(val_ds if val_ds is not None else test_ds), test=test_ds,
    )


def _check_image_folder(spec: Spec, key: str, path: str) -> list[str]:
    _check_path(spec, key, path, folder=True)
    classes = [d for d in sorted(os.listdir(path)) if os.path.isdir(os.path.join(path, d))]
    if not classes:
        raise _fail(spec, key, f"{path} has no class subfolders", "put the images in one subfolder per class")
    for c in classes:
        folder = os.path.join(path, c)
        if not any(f.lower().endswith(IMAGE_EXTENSIONS) for f in os.listdir(folder)):
            raise _fail(spec, key, f"class folder {folder} has no images ({', '.join(IMAGE_EXTENSIONS)})")
    return classes


def _check_classes(spec: Spec, class_names: list[str]) -> None:
    data = spec.resolved.data
    rows = spec.summary_rows()
    units = rows[-1].output_shape[-1]
    n = len(class_names)
    if data.label_mode == "binary":  # type: ignore[union-attr]
        if n != 2:
            raise _fail(spec, "label_mode", f"binary labels need 2 class folders, found {n}: {', '.join(class_names)}")
        if units != 1:
            raise _fail(spec, "label_mode", f"binary labels need 1 output unit; the last layer has {units}")
    elif units != n:
        raise _fail(spec, "label_mode", f"{n} class folders but the last layer has {units} unit(s)")
