"""A layer's `weights: file.npz` (or `.npy`): the arrays it starts from, checked before anything
is built. Only the files' headers are read here (never their data, never a pickle); the backend
loads the arrays into the built layer.

An `.npz` names its arrays by the layer's weight names (`kernel`, `bias`, `embeddings`) or holds
them in order (`arr_0`, `arr_1`, ... as `numpy.savez(path, *arrays)` writes them); an `.npy` is
the layer's one weight, or its first.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable
from typing import IO

from regspec.ir.graph import Program
from regspec.ir.shapes import Row

MAX_ARRAYS = 64

Arrays = list[tuple[str, tuple[int, ...]]]


class WeightsFileError(ValueError):
    pass


def array_shapes(path: str) -> Arrays:
    """(name, shape) of each array in an .npz or .npy file, in the file's order, from headers only."""
    import numpy as np

    def header(fh: IO[bytes], where: str) -> tuple[int, ...]:
        try:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(fh)
        except (ValueError, OSError, EOFError) as exc:
            raise WeightsFileError(f"{where} is not a NumPy array ({' '.join(str(exc).split())[:120]})") from None
        if dtype.hasobject:
            raise WeightsFileError(f"{where} holds Python objects; weights must be numbers (a pickle is never loaded)")
        if not np.issubdtype(dtype, np.number):
            raise WeightsFileError(f"{where} holds {dtype} values, not numbers")
        return tuple(int(d) for d in shape)

    if not os.path.isfile(path):  # a FIFO or a device named like an .npz would hang a reader
        raise WeightsFileError(f"{path} is not a regular file" if os.path.exists(path) else f"{path} does not exist")
    if path.lower().endswith(".npy"):
        with open(path, "rb") as fh:
            return [("arr_0", header(fh, path))]
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if m.endswith(".npy")]
            if not members:
                raise WeightsFileError(f"{path} holds no arrays")
            if len(members) > MAX_ARRAYS:
                raise WeightsFileError(f"{path} holds {len(members)} arrays; a layer has a few")
            out = []
            for m in members:
                with zf.open(m) as member:
                    out.append((m[: -len(".npy")], header(member, f"{path}:{m}")))
            return out
    except (zipfile.BadZipFile, OSError) as exc:
        raise WeightsFileError(f"cannot read {path} as .npz ({exc})") from None


def match(arrays: Arrays, names: list[str]) -> list[str]:
    """The file's array for each of the layer's weights, in the layer's order: by name when the
    file uses the weight names, else in the file's order."""
    by_name = {n for n, _ in arrays}
    if set(names) <= by_name:
        return names
    return [n for n, _ in arrays]  # in order: as many as the layer has weights, checked by the caller


def check_given_weights(program: Program, rows: list[Row], add: Callable[..., None]) -> None:
    """Each `weights:` file against the layer's weight shapes (its parameter count where the
    kind does not list its shapes); every problem at the layer's `weights` line."""
    by_id = {r.id: r for r in rows}
    shapes: dict[str, tuple[int | None, ...]] = {i.id: i.shape for i in program.inputs}
    shapes.update({r.id: r.output_shape for r in rows})
    for node in program.nodes:
        path = node.layer.__dict__.get("weights")
        if not path or node.shares is not None:  # a reuse starts from its layer's weights, checked there
            continue
        at = node.path + ("weights",)
        try:
            arrays = array_shapes(path)
        except WeightsFileError as exc:
            add(at, str(exc))
            continue
        given = dict(arrays)
        expected = node.layer.weight_shapes(shapes[node.inputs[0]]) if len(node.inputs) == 1 else None
        if expected is not None:
            names = [n for n, _ in expected]
            picked = match(arrays, names)
            if len(picked) != len(expected):
                add(at, f"{os.path.basename(path)} holds {len(arrays)} array(s); {node.type} has {len(expected)} "
                    f"weight(s): {', '.join(f'{n} {list(s)}' for n, s in expected)}")
                continue
            for (name, want), key in zip(expected, picked):
                if given[key] != want:
                    add(at, f"{os.path.basename(path)}: {key} is {list(given[key])}; the layer's {name} is {list(want)}",
                        "the arrays must have the shapes of the layer's weights, in its order")
                    break
            continue
        row = by_id.get(node.id)
        count = sum(math.prod(s) for _, s in arrays)
        if row is not None and count != row.trainable + row.non_trainable:
            add(at, f"{os.path.basename(path)} holds {count:,} numbers; the layer has {row.trainable + row.non_trainable:,} "
                "weights")
