"""`data: {type: npz, path: data.npz}`: NumPy arrays x_train, y_train (and x_test, y_test)."""

from __future__ import annotations

import zipfile

import numpy as np

from regspec.backend.keras.data import Loaded, Named, check_path, fail, short, split_arrays, split_indices
from regspec.backend.keras.sources import INDENT, Exported, rescale_lines, split_lines
from regspec.ir.graph import Program
from regspec.lang.data import KerasData, NpzData


def load(program: Program, data: NpzData, seed: int | None) -> Loaded | Named:
    check_path(program, "path", data.path, folder=False)
    if data.inputs is not None and data.outputs is not None:
        return _named(program, data, seed)
    return read_npz(program, data.path, data.test_size, seed)


def _named(program: Program, data: NpzData, seed: int | None) -> Named:
    """One array per model input and output (`<name>_train`, `<name>_test`)."""
    assert data.inputs is not None and data.outputs is not None
    try:
        with np.load(data.path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise fail(program, "path", f"cannot read {data.path} as .npz: {short(str(exc))}") from None
    wanted = [(("inputs", k), v) for k, v in data.inputs.items()] + [(("outputs", k), v) for k, v in data.outputs.items()]
    for where, base in wanted:
        if f"{base}_train" not in arrays:
            raise fail(program, ".".join(where), f"{data.path} has no array {base + '_train'!r}",
                       f"arrays: {short(', '.join(arrays)) or 'none'}")
    tested = all(f"{base}_test" in arrays for _, base in wanted)
    sizes = {len(arrays[f"{base}_train"]) for _, base in wanted}
    if len(sizes) > 1:
        raise fail(program, "path", f"{data.path}: the _train arrays hold different numbers of examples ({sorted(sizes)})")
    x = {k: arrays[f"{v}_train"] for k, v in data.inputs.items()}
    y = {k: arrays[f"{v}_train"] for k, v in data.outputs.items()}
    if tested:
        xt = {k: arrays[f"{v}_test"] for k, v in data.inputs.items()}
        yt = {k: arrays[f"{v}_test"] for k, v in data.outputs.items()}
    else:
        keep, held = split_indices(program, sizes.pop(), data.test_size, seed)
        x, xt = {k: v[keep] for k, v in x.items()}, {k: v[held] for k, v in x.items()}
        y, yt = {k: v[keep] for k, v in y.items()}, {k: v[held] for k, v in y.items()}
    by_id = {i.id: i for i in program.inputs}
    for k in list(x):
        dtype = by_id[k].dtype if k in by_id else "float32"
        for d in (x, xt):
            if dtype == "string":
                d[k] = d[k].astype(str)
            elif not (np.issubdtype(d[k].dtype, np.number) or d[k].dtype == np.bool_):
                raise fail(program, f"inputs.{k}", f"array {data.inputs[k]!r} holds {d[k].dtype} values; "
                                                   f"input {k!r} takes {dtype}")
            else:
                d[k] = d[k].astype(dtype)
    return Named(x, y, xt, yt, columns={k: [v] for k, v in data.inputs.items()}, labels=dict(data.outputs),
                 classes={k: None for k in data.outputs})


def read_npz(program: Program, path: str, test_size: float, seed: int | None) -> Loaded:
    """The arrays of an .npz in Keras' dataset layout; pickled objects are refused."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise fail(program, "path", f"cannot read {path} as .npz: {short(str(exc))}") from None
    for key in ("x_train", "y_train"):
        if key not in arrays:
            raise fail(program, "path", f"{path} has no array {key!r}", f"arrays: {', '.join(arrays) or 'none'}")
    for name in ("train", "test"):
        xs, ys = arrays.get(f"x_{name}"), arrays.get(f"y_{name}")
        if xs is not None and ys is not None and len(xs) != len(ys):
            raise fail(program, "path", f"{path}: x_{name} has {len(xs)} examples, y_{name} has {len(ys)}")
    x, y = arrays["x_train"], arrays["y_train"]
    if "x_test" in arrays and "y_test" in arrays:
        return Loaded(x, y, arrays["x_test"], arrays["y_test"])
    return split_arrays(program, x, y, test_size, seed)


def export(program: Program, data: NpzData | KerasData) -> Exported:
    """Also the keras source's, when it reads a local copy (`data.path`)."""
    assert data.path is not None
    test_size = getattr(data, "test_size", 0.25)
    body = [f"{INDENT}with np.load({data.path!r}, allow_pickle=False) as f:",
            f"{INDENT * 2}arrays = {{k: f[k] for k in f.files}}",
            f"{INDENT}x, y = arrays['x_train'], arrays['y_train']",
            f"{INDENT}if 'x_test' in arrays:",
            f"{INDENT * 2}x_test, y_test = arrays['x_test'], arrays['y_test']",
            f"{INDENT}else:",
            *split_lines("x", "y", test_size, program.training.seed, indent=INDENT * 2)]
    return Exported(body + rescale_lines(data.rescale) + [f"{INDENT}return x, y, x_test, y_test"])
