"""New data for a trained run, read into raw examples shaped as the run's training data was.

A CSV (columns matched by name when the run knows its feature names), an ``.npz`` (arrays ``x``
or ``x_test``, with ``y``/``y_test`` for labels), or, for runs trained on image folders, image
files and folders (decoded and resized exactly as ``image_dataset_from_directory`` does). Every
refusal names the file, and the row and column where there is one. Nothing here standardizes
or rescales: that is the serving model's first layers (``serving.model``), so predict, evaluate
and export share one implementation of it.
"""

from __future__ import annotations

import csv
import math
import os
import stat
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.diagnostics import safe
from regspec.rundir.records import PreprocessingRecord
from regspec.serving.record import ServingError, refuse
from regspec.tabular import numbers

MAX_LISTED = 8  # names shown when listing what is missing


@dataclass
class NewData:
    x: np.ndarray  # (n, *raw_shape), float32
    y: np.ndarray | None  # class ids or targets, when labels were asked for
    examples: list[Any]  # what identifies each example: a CSV line, an npz index, an image path
    identified_by: str = "example"  # the column's name: "line" (of the CSV file), "index", "file"


def read_data(paths: list[str], prep: PreprocessingRecord, *, labels: bool, label_column: str | None = None) -> NewData:
    """The examples (and labels) in ``paths``, or a refusal naming the file."""
    if not paths:
        raise refuse("-", "no data given")
    if prep.named is not None:
        raise refuse(paths[0], "this run was trained on named columns: serving.named reads its data")
    if prep.image is not None and not (len(paths) == 1 and paths[0].lower().endswith(".npz")):
        return _images(paths, prep, labels=labels)
    if len(paths) != 1:
        raise refuse(paths[1], "give one data file (a .csv or an .npz) for this run")
    path = paths[0]
    regular_file(path)
    if path.lower().endswith(".npz"):
        return _npz(path, prep, labels=labels)
    if prep.image is not None:
        raise refuse(path, "this run was trained on images: give image files, a folder of them, or an .npz")
    return _csv(path, prep, labels=labels, label_column=label_column)


def regular_file(path: str) -> None:
    """Before anything opens it: a FIFO or a device would block or never end."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise refuse(path, f"cannot read it ({safe(str(exc.strerror or exc), 80)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise refuse(path, "is not a regular file" + (" (a folder)" if stat.S_ISDIR(st.st_mode) else ""))
    if st.st_size == 0:
        raise refuse(path, "is empty")


# ----------------------------------------------------------------------------- CSV


def read_table(path: str) -> tuple[list[str], list[list[str]]]:
    """A CSV (tab-separated for .tsv and .tab) as its header, names stripped, and its rows."""
    delimiter = "\t" if path.lower().endswith((".tsv", ".tab")) else ","
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise refuse(path, f"is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise refuse(path, f"is not a CSV file ({safe(str(exc), 80)})") from None
    if not header:
        raise refuse(path, "has no header row", "the first line names the columns")
    return [h.strip() for h in header], rows


def _csv(path: str, prep: PreprocessingRecord, *, labels: bool, label_column: str | None) -> NewData:
    header, rows = read_table(path)
    label = label_column or prep.label
    if labels:
        if label is None:
            raise refuse(path, "which column holds the labels?", "pass --label COLUMN")
        if label not in header:
            raise refuse(path, f"has no label column {safe(label, 80)!r}", _columns_hint(header) + "; or pass --label")
    columns = _feature_columns(path, header, prep, label)
    if not rows:
        raise refuse(path, "has a header but no rows")
    label_cells: list[tuple[int, str]] = []
    li = header.index(label) if labels and label is not None else -1
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise refuse(path, f"{len(row)} fields, the header has {len(header)}", None, r + 2, 1)
        if li >= 0:
            label_cells.append((r + 2, row[li].strip()))
    x, bad = numbers(rows, columns)
    if bad is not None:
        r, col, _ = bad
        _number(path, r + 2, col, header[col], rows[r][col])  # raises, naming the cell
    y = _labels_from_cells(path, label_cells, li + 1, prep) if labels else None
    return NewData(x.reshape((len(rows), *prep.raw_shape)), y, [r + 2 for r in range(len(rows))], "line")


def _feature_columns(path: str, header: list[str], prep: PreprocessingRecord, label: str | None) -> list[int]:
    want = math.prod(prep.raw_shape)
    if prep.features is not None:
        missing = [f for f in prep.features if f not in header]
        if missing:
            shown = ", ".join(repr(safe(m, 60)) for m in missing[:MAX_LISTED])
            more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
            raise refuse(path, f"lacks the column(s) the model was trained on: {shown}{more}",
                         "the header must name every feature column as in training (any order; extra columns are ignored)")
        return [header.index(f) for f in prep.features]
    # Trained on unnamed features (an .npz): every column but the label, in order.
    columns = [i for i, h in enumerate(header) if h != label]
    if len(columns) != want:
        raise refuse(path, f"has {len(columns)} feature column(s); the model takes {want}",
                     "one column per feature, plus the label column for evaluate")
    return columns


def _columns_hint(header: list[str]) -> str:
    shown = ", ".join(safe(h, 40) for h in header[:MAX_LISTED])
    return f"columns: {shown}" + (", ..." if len(header) > MAX_LISTED else "")


def _number(path: str, line: int, col: int, name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise refuse(path, f"column {safe(name, 60)!r} is not a number ({safe(text, 40)!r})", None, line, col + 1) from None
    if not math.isfinite(v):
        raise refuse(path, f"column {safe(name, 60)!r} is {safe(text.strip(), 20)}", "every value must be a finite number",
                     line, col + 1)
    return v


def _labels_from_cells(path: str, cells: list[tuple[int, str]], column: int, prep: PreprocessingRecord) -> np.ndarray:
    """Class names map through the run's classes (an integer id is taken as is); targets stay numbers."""
    if not prep.classifier:
        y = np.empty(len(cells), dtype="float32")
        for r, (line, text) in enumerate(cells):
            y[r] = _number(path, line, column - 1, "label", text)
        return y
    y = np.empty(len(cells), dtype="int64")
    for r, (line, text) in enumerate(cells):
        y[r] = class_id(text, prep, path, line, column)
    return y


def class_id(text: str, prep: PreprocessingRecord, path: str, line: int = 1, column: int = 1) -> int:
    return class_id_in(text, prep.classes, path, line, column)


def class_id_in(text: str, names: tuple[str, ...] | None, path: str, line: int = 1, column: int = 1) -> int:
    """A label's class id: a class name of the run, or an id below the number of classes."""
    if names is not None and text in names:
        return names.index(text)
    n = len(names) if names is not None else None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value.is_integer() and value >= 0 and (n is None or value < n):
        return int(value)
    more = f", ... ({len(names) - MAX_LISTED} more)" if names and len(names) > MAX_LISTED else ""
    known = f"the run's classes: {safe(', '.join(names[:MAX_LISTED]), 200)}{more}" if names else "labels are class ids 0, 1, ..."
    raise refuse(path, f"label {safe(text, 60)!r} is not a class of the run", known, line, column)


# ----------------------------------------------------------------------------- npz


def _npz(path: str, prep: PreprocessingRecord, *, labels: bool) -> NewData:
    try:
        with np.load(path, allow_pickle=False) as f:
            names = list(f.files)
            xk = next((k for k in ("x", "x_test") if k in names), None)
            if xk is None:
                raise refuse(path, "has no array 'x' (or 'x_test')", f"arrays: {safe(', '.join(names), 200) or 'none'}")
            yk = "y" if xk == "x" else "y_test"
            x = f[xk]
            y = f[yk] if labels and yk in names else None
    except ServingError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise refuse(path, f"cannot be read as .npz ({safe(str(exc), 80)})") from None
    if labels and y is None:
        raise refuse(path, f"has no labels: an array {yk!r} beside {xk!r}")
    if x.ndim < 1 or len(x) == 0:
        raise refuse(path, f"{xk} holds no examples")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise refuse(path, f"{xk} holds {x.dtype} values, not numbers")
    want = prep.raw_shape
    have = x.shape[1:]
    if have != want:
        if math.prod(have) != math.prod(want):
            raise refuse(path, f"{xk} examples have shape {list(have)}; the model was trained on {list(want)}")
        x = x.reshape((len(x), *want))
    x = x.astype("float32")
    if not np.all(np.isfinite(x)):
        bad = int(np.argwhere(~np.isfinite(x.reshape(len(x), -1)))[0][0])
        raise refuse(path, f"{xk}[{bad}] has a NaN or infinite value", "every value must be a finite number")
    out_y = None
    if y is not None:
        if len(y) != len(x):
            raise refuse(path, f"{xk} has {len(x)} examples, {yk} has {len(y)}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if prep.classifier and y.ndim == 1:
            out_y = np.array([class_id(str(v), prep, path) for v in y.tolist()], dtype="int64")
        else:
            out_y = y.astype("float32")
    return NewData(x, out_y, list(range(len(x))), "index")


# ----------------------------------------------------------------------------- images


def _images(paths: list[str], prep: PreprocessingRecord, *, labels: bool) -> NewData:
    from regspec.backend.keras.sources.image_directory import IMAGE_EXTENSIONS

    files: list[tuple[str, int | None]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as exc:
            raise refuse(path, f"cannot read it ({safe(str(exc.strerror or exc), 80)})") from None
        if stat.S_ISDIR(st.st_mode):
            files += _image_folder(path, prep, labels=labels)
        elif labels:
            raise refuse(path, "evaluate takes a folder with one subfolder per class (the labels)")
        else:
            if not path.lower().endswith(IMAGE_EXTENSIONS):
                raise refuse(path, f"is not an image file ({', '.join(IMAGE_EXTENSIONS)})")
            files.append((path, None))
    if not files:
        raise refuse(paths[0], f"holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    x = np.stack([_load_image(path, prep) for path, _ in files])
    y = np.array([c for _, c in files], dtype="int64") if labels else None
    return NewData(x, y, [path for path, _ in files], "file")


def _image_folder(root: str, prep: PreprocessingRecord, *, labels: bool) -> list[tuple[str, int | None]]:
    from regspec.backend.keras.sources.image_directory import IMAGE_EXTENSIONS

    real_root = os.path.realpath(root) + os.sep
    out: list[tuple[str, int | None]] = []
    if labels:
        subfolders = [d for d in sorted(os.listdir(root)) if not d.startswith(".") and os.path.isdir(os.path.join(root, d))]
        if not subfolders:
            raise refuse(root, "has no class subfolders", "evaluate reads the labels from one subfolder per class")
        groups: list[tuple[str, int | None]] = [(os.path.join(root, d), class_id(d, prep, root)) for d in subfolders]
    else:
        groups = [(root, None)]
    for folder, cid in groups:
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.lower().endswith(IMAGE_EXTENSIONS):
                    continue
                full = os.path.join(dirpath, name)
                if not os.path.realpath(full).startswith(real_root):
                    raise refuse(full, f"links outside the folder {safe(root, 120)}", "copy the image in")
                out.append((full, cid))
    return out


def _load_image(path: str, prep: PreprocessingRecord) -> np.ndarray:
    """Decoded and resized with the very ops ``image_dataset_from_directory`` uses."""
    from regspec.backend.keras.env import keras

    keras()  # TensorFlow, imported quietly
    import tensorflow as tf

    from regspec.backend.keras.sources.image_directory import image_problem

    assert prep.image is not None
    regular_file(path)
    problem = image_problem(path)
    if problem:
        raise refuse(path, problem, "remove or replace the file")
    try:
        raw = tf.io.read_file(path)
        have = int(tf.image.decode_image(raw, expand_animations=False).shape[-1])
        if have != prep.channels:
            raise refuse(path, f"has {have} channel(s); the run was trained on {prep.image.color_mode} images "
                         f"({prep.channels})", "convert the image, or use a run trained on this kind")
        img = tf.image.decode_image(raw, channels=prep.channels, expand_animations=False)
        img = tf.image.resize(img, prep.image.size, method=prep.image.interpolation)
    except tf.errors.OpError as exc:
        raise refuse(path, f"cannot be decoded as an image ({safe(exc.message, 80)})") from None
    return np.asarray(img, dtype="float32")

