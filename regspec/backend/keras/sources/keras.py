"""`data: {type: keras, name: mnist}`: a dataset of `keras.datasets` (or a local copy, `path:`)."""

from __future__ import annotations

from regspec.backend.keras.data import Loaded, check_path, fail, short
from regspec.backend.keras.env import keras
from regspec.backend.keras.sources import INDENT, Exported, npz, rescale_lines
from regspec.ir.graph import Program
from regspec.lang.data import KerasData

#: Where to fetch a dataset by hand on a machine that cannot download it.
DATASET_HELP = {
    "mnist": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
}


def load(program: Program, data: KerasData, seed: int | None) -> Loaded:
    if data.path:
        # The seam: a local copy in the dataset's own layout (mnist.npz-style arrays).
        check_path(program, "path", data.path, folder=False)
        return npz.read_npz(program, data.path, 0.25, None)
    module = getattr(keras().datasets, data.name)
    try:
        (x, y), (xt, yt) = module.load_data()
    except Exception as exc:  # noqa: BLE001 - offline, bad hash, proxy: all end here
        url = DATASET_HELP.get(data.name, "keras.io/api/datasets")
        raise fail(
            program, "name", f"could not load keras.datasets.{data.name} ({type(exc).__name__}: {short(str(exc))})",
            f"download it once ({url}) into ~/.keras/datasets/, or set data.path to a local copy",
        ) from None
    return Loaded(x, y, xt, yt)


def export(program: Program, data: KerasData) -> Exported:
    if data.path:
        return npz.export(program, data)
    body = [f"{INDENT}(x, y), (x_test, y_test) = keras.datasets.{data.name}.load_data()"]
    return Exported(body + rescale_lines(data.rescale) + [f"{INDENT}return x, y, x_test, y_test"])
