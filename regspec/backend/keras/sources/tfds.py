"""`data: {type: tfds, name: ...}`: a TensorFlow Datasets dataset (the optional `tfds` extra)."""

from __future__ import annotations

from regspec.backend.keras.data import Loaded, fail
from regspec.backend.keras.sources import INDENT, Exported, rescale_lines
from regspec.ir.graph import Program
from regspec.lang.data import TfdsData


def load(program: Program, data: TfdsData, seed: int | None) -> Loaded:
    try:
        import tensorflow_datasets as tfds  # optional extra
    except ImportError:
        raise fail(program, "type", "tfds data needs tensorflow-datasets", "pip install 'regspec[tfds]'") from None
    x, y = tfds.as_numpy(tfds.load(data.name, split=data.train_split, as_supervised=True, batch_size=-1))
    xt, yt = tfds.as_numpy(tfds.load(data.name, split=data.test_split, as_supervised=True, batch_size=-1))
    return Loaded(x, y, xt, yt)


def export(program: Program, data: TfdsData) -> Exported:
    return Exported([
        f"{INDENT}import tensorflow_datasets as tfds", "",
        f"{INDENT}x, y = tfds.as_numpy(tfds.load({data.name!r}, split={data.train_split!r}, as_supervised=True, batch_size=-1))",
        f"{INDENT}x_test, y_test = tfds.as_numpy(tfds.load({data.name!r}, split={data.test_split!r}, "
        "as_supervised=True, batch_size=-1))",
        *rescale_lines(data.rescale),
        f"{INDENT}return x, y, x_test, y_test",
    ])
