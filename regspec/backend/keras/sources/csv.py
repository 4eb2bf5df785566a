"""`data: {type: csv, train: data.csv, label: species}`: a table with a header row.

Feature cells must be numbers; a classifier's labels may be class names (ids in sorted order).
Every refusal names the file, the line and the column.
"""

from __future__ import annotations

import csv
import math

import numpy as np

from regspec.backend.keras.data import Loaded, Named, check_path, fail, short, split_arrays, split_indices, standardize
from regspec.backend.keras.sources import INDENT, Exported, split_lines, standardize_lines
from regspec.ir.graph import Program
from regspec.lang.data import CsvData
from regspec.tabular import numbers


def load(program: Program, data: CsvData, seed: int | None) -> Loaded | Named:
    check_path(program, "train", data.train, folder=False)
    if data.inputs is not None or data.outputs is not None:
        return _load_named(program, data, seed)
    x, labels, features = _read_csv(program, data, "train", data.train)
    classifier = program.compile.task.classifier
    y, classes = _encode_labels(program, "train", data.train, labels, None, classifier=classifier)
    if data.test:
        check_path(program, "test", data.test, folder=False)
        xt, test_labels, _ = _read_csv(program, data, "test", data.test)
        yt, _ = _encode_labels(program, "test", data.test, test_labels, classes, classifier=classifier)
        got = Loaded(x, y, xt, yt)
    else:
        got = split_arrays(program, x, y, data.test_size, seed)
    got.features, got.label, got.classes = features, data.label, classes
    return standardize(got) if data.standardize else got


def _encode_labels(program: Program, key: str, path: str, labels: list[tuple[int, str]], classes: list[str] | None,
                   *, classifier: bool) -> tuple[np.ndarray, list[str] | None]:
    """Numbers stay numbers; a classifier's labels may also be class names (ids in sorted order,
    the train split's names for the test split). Returns the labels and the class names."""
    numbers = _numbers(labels)
    if numbers is not None and classes is None:
        return (numbers.astype("int64") if np.all(numbers == np.round(numbers)) else numbers), None
    if not classifier:
        line, text = next((ln, t) for ln, t in labels if _number(t) is None)
        raise fail(program, key, f"{path}:{line}: label {short(text)!r} is not a number",
                    "a class name needs a crossentropy loss; a regression target must be a number")
    if classes is None:
        classes = sorted({t.strip() for _, t in labels})
    index = {c: i for i, c in enumerate(classes)}
    y = np.empty(len(labels), dtype="int64")
    for r, (line, text) in enumerate(labels):
        if text.strip() not in index:
            raise fail(program, key, f"{path}:{line}: label {short(text)!r} is not one of the train split's classes",
                        f"classes: {short(', '.join(classes))}")
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


def _read_table(program: Program, data: CsvData, key: str, path: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows (each as long as the header), or a refusal naming the line."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter=data.delimiter)
            header = next(reader, None)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise fail(program, key, f"{path} is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise fail(program, key, f"{path} is not a CSV file ({exc})") from None
    if not header:
        raise fail(program, key, f"{path} has no header row")
    if not rows:
        raise fail(program, key, f"{path} has a header but no rows")
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise fail(program, key, f"{path}:{r + 2}: {len(row)} fields, the header has {len(header)}")
    return header, rows


def _column_index(program: Program, header: list[str], path: str, where: tuple[str, ...], column: str) -> int:
    if column not in header:
        raise fail(program, ".".join(where), f"column {short(column)!r} not in the header of {path}",
                   "the file's first line names its columns")
    return header.index(column)


def _named_split(program: Program, data: CsvData, key: str, path: str, classes: dict[str, list[str] | None] | None
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, list[str] | None]]:
    """One file's inputs (by model input) and labels (by output; "" for the one output)."""
    header, rows = _read_table(program, data, key, path)
    by_id = {i.id: i for i in program.inputs}
    columns = data.input_columns()
    if columns is None:  # one input: every column but the labels, or `features`
        labels = set(data.label_columns().values())
        columns = {program.inputs[0].id: data.features or [c for c in header if c not in labels]}
    by_column = list(zip(*rows))  # column-major once: each column converts in one NumPy call
    x: dict[str, np.ndarray] = {}
    for name, cols in columns.items():
        idx = [_column_index(program, header, path, ("inputs", name), c) for c in cols]
        node = by_id.get(name)
        dtype = node.dtype if node is not None else "float32"
        if dtype == "string":
            # Python strings in an object array: NumPy's fixed-width text would size every cell as
            # the longest (one 128 KB cell in 100k rows: 51 GB).
            x[name] = np.array([by_column[i] for i in idx], dtype=object).T
            continue
        values = _parsed([by_column[i] for i in idx])
        if values is None:
            _, bad = numbers(rows, idx)  # walks the rows only to name the bad cell
            assert bad is not None
            r, col, _ = bad
            _cell(program, key, path, r + 2, header[col], rows[r][col])  # raises
        assert values is not None
        if dtype.startswith(("int", "uint")):
            if not np.all(values == np.round(values)):
                r = int(np.argwhere(values != np.round(values))[0][0])
                raise fail(program, key, f"{path}:{r + 2}: input {name!r} takes {dtype} values; a cell is not "
                                         "a whole number")
        x[name] = values.astype(dtype)
    y: dict[str, np.ndarray] = {}
    found: dict[str, list[str] | None] = {}
    for output, column in data.label_columns().items():
        li = _column_index(program, header, path, ("outputs", output) if output else ("label",), column)
        cells = [(r + 2, text) for r, text in enumerate(by_column[li])]
        try:
            label_numbers = np.asarray(by_column[li], dtype="float64")
        except ValueError:
            label_numbers = None  # class names (a number among them is checked where it is read)
        if label_numbers is not None and not np.all(np.isfinite(label_numbers)):
            r = int(np.argwhere(~np.isfinite(label_numbers))[0][0])
            _cell(program, key, path, r + 2, column, by_column[li][r])  # raises
        task = program.compile.task_of(output)
        y[output or ""], found[output or ""] = _encode_labels(program, key, path, cells,
                                                             (classes or {}).get(output or ""),
                                                             classifier=task.classifier)
    return x, y, found


def _parsed(columns: list[tuple[str, ...]]) -> np.ndarray | None:
    """Columns of number cells as a (rows, columns) float64 matrix; None when a cell is not a
    finite number (the caller names it)."""
    try:
        values = np.asarray(columns, dtype="float64").T
    except ValueError:
        return None
    return values if np.all(np.isfinite(values)) else None


def _load_named(program: Program, data: CsvData, seed: int | None) -> Named:
    """Columns to named model inputs and label columns to named outputs (data.inputs, data.outputs)."""
    x, y, classes = _named_split(program, data, "train", data.train, None)
    if data.test:
        check_path(program, "test", data.test, folder=False)
        xt, yt, _ = _named_split(program, data, "test", data.test, classes)
    else:
        keep, held = split_indices(program, len(next(iter(y.values()))), data.test_size, seed)
        x, xt = {k: v[keep] for k, v in x.items()}, {k: v[held] for k, v in x.items()}
        y, yt = {k: v[keep] for k, v in y.items()}, {k: v[held] for k, v in y.items()}
    columns = data.input_columns() or {program.inputs[0].id: data.features or []}
    return Named(x, y, xt, yt, columns=columns, labels={k or "": v for k, v in data.label_columns().items()},
                 classes=classes)


def _read_csv(program: Program, data: CsvData, key: str, path: str
              ) -> tuple[np.ndarray, list[tuple[int, str]], list[str]]:
    """Feature rows as float32, label cells as (line, text), and the feature names."""
    header, rows = _read_table(program, data, key, path)
    if data.label not in header:
        raise fail(program, "label", f"column {data.label!r} not in the header of {path}",
                    f"the header has {len(header)} columns")
    features = data.features or [c for c in header if c != data.label]
    missing = [c for c in features if c not in header]
    if missing:
        raise fail(program, "features", f"columns {[short(m) for m in missing]} not in the header of {path}")
    idx = [header.index(c) for c in features]
    li = header.index(data.label)
    labels: list[tuple[int, str]] = []
    for r, row in enumerate(rows):
        line = r + 2  # 1-based, after the header
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
        raise fail(program, key, f"{path}:{line}: column {short(column)!r} is not a number ({short(text)!r})")
    if not math.isfinite(v):
        raise fail(program, key, f"{path}:{line}: column {short(column)!r} is {short(text.strip())}",
                    "every value must be a finite number")
    return v


#: The exported script's reader: what `load` reads, without the checks.
READ_CSV = '''def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter={delimiter!r}))
    header, rows = rows[0], rows[1:]
    features = {features!r} or [c for c in header if c != {label!r}]
    x = np.array([[float(r[header.index(c)]) for c in features] for r in rows], dtype="float32")
    y = np.array([float(r[header.index({label!r})]) for r in rows])
    return x, (y.astype("int64") if np.all(y == np.round(y)) else y)
'''


def export(program: Program, data: CsvData) -> Exported:
    seed = program.training.seed
    body = [f"{INDENT}x, y = read_csv({data.train!r})"]
    if data.test:
        body += [f"{INDENT}x_test, y_test = read_csv({data.test!r})"]
    else:
        body += split_lines("x", "y", data.test_size, seed)
    if data.standardize:
        body += standardize_lines()
    helpers = READ_CSV.format(delimiter=data.delimiter, features=data.features, label=data.label).splitlines()
    return Exported(body + [f"{INDENT}return x, y, x_test, y_test"], helpers=helpers)
