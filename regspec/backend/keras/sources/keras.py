"""`data: {type: keras, name: mnist}`: a dataset of `keras.datasets` (or a local copy, `path:`)."""

from __future__ import annotations

import numpy as np

from regspec.backend.keras.data import Loaded, check_path, fail, short
from regspec.backend.keras.env import keras
from regspec.backend.keras.sources import INDENT, Exported, npz, rescale_lines
from regspec.ir.graph import Program
from regspec.lang.data import KerasData

#: Where to fetch a dataset by hand on a machine that cannot download it.
DATASET_HELP = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    "imdb": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz",
    "reuters": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz",
}
OOV_ID = 2  # keras.datasets.imdb/reuters: 0 pads, 1 starts a sequence, 2 is a word outside num_words


def load(program: Program, data: KerasData, seed: int | None) -> Loaded:
    if data.path:
        # The seam: a local copy in the dataset's own layout (mnist.npz-style arrays; for the text
        # sets, id arrays padded with 0: Keras' own files hold pickled lists, which are refused).
        check_path(program, "path", data.path, folder=False)
        got = npz.read_npz(program, data.path, 0.25, None)
        if data.name in KerasData.TEXT:
            got.x, got.x_test = (_sequences(program, data, list(a), keep_words=True) for a in (got.x, got.x_test))
        return got
    module = getattr(keras().datasets, data.name)
    try:
        # Keras checks the file's official hash: the pickled lists it loads are that file's.
        (x, y), (xt, yt) = module.load_data(num_words=data.num_words) if data.name in KerasData.TEXT else module.load_data()
    except Exception as exc:  # noqa: BLE001 - offline, bad hash, proxy: all end here
        url = DATASET_HELP.get(data.name, "keras.io/api/datasets")
        raise fail(
            program, "name", f"could not load keras.datasets.{data.name} ({type(exc).__name__}: {short(str(exc))})",
            f"download it once ({url}) into ~/.keras/datasets/, or set data.path to a local copy",
        ) from None
    if data.name in KerasData.TEXT:
        x, xt = _sequences(program, data, list(x)), _sequences(program, data, list(xt))
    return Loaded(x, y, xt, yt)


def _sequences(program: Program, data: KerasData, seqs: list, keep_words: bool = False) -> np.ndarray:
    """Word-id sequences as one int32 array of maxlen columns, padded and cut at the start
    (keras.utils.pad_sequences' defaults, as Keras' examples use it); a local copy's ids at or
    above num_words become the out-of-vocabulary id, as load_data(num_words=...) makes them."""
    rows = []
    for i, seq in enumerate(seqs):
        arr = np.asarray(seq)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise fail(program, "path", f"sequence {i} is not a list of word ids")
        if keep_words:
            arr = arr[arr != 0]  # a local copy's padding
        if data.num_words is not None and keep_words:
            arr = np.where(arr >= data.num_words, OOV_ID, arr)
        rows.append(arr)
    assert data.maxlen is not None
    return np.asarray(keras().utils.pad_sequences(rows, maxlen=data.maxlen), dtype="int32")


def export(program: Program, data: KerasData) -> Exported:
    if data.path:
        return npz.export(program, data)
    if data.name in KerasData.TEXT:
        body = [f"{INDENT}(x, y), (x_test, y_test) = keras.datasets.{data.name}.load_data(num_words={data.num_words!r})",
                f"{INDENT}x = keras.utils.pad_sequences(x, maxlen={data.maxlen})",
                f"{INDENT}x_test = keras.utils.pad_sequences(x_test, maxlen={data.maxlen})"]
        return Exported(body + [f"{INDENT}return x, y, x_test, y_test"])
    body = [f"{INDENT}(x, y), (x_test, y_test) = keras.datasets.{data.name}.load_data()"]
    return Exported(body + rescale_lines(data.rescale) + [f"{INDENT}return x, y, x_test, y_test"])
