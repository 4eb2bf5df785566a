"""`data: {type: sklearn, name: iris}`: a dataset that ships with scikit-learn."""

from __future__ import annotations

from regspec.backend.keras.data import Loaded, split_arrays, standardize
from regspec.backend.keras.sources import INDENT, Exported, split_lines, standardize_lines
from regspec.ir.graph import Program
from regspec.lang.data import SklearnData


def load(program: Program, data: SklearnData, seed: int | None) -> Loaded:
    from sklearn import datasets as sk

    bunch = getattr(sk, f"load_{data.name}")()
    got = split_arrays(program, bunch.data.astype("float32"), bunch.target, data.test_size, seed)
    got.features, got.label = [str(f) for f in bunch.feature_names], "target"
    got.classes = [str(c) for c in bunch.target_names]
    return standardize(got) if data.standardize else got


def export(program: Program, data: SklearnData) -> Exported:
    body = [f"{INDENT}from sklearn import datasets", "", f"{INDENT}bunch = datasets.load_{data.name}()",
            *split_lines("bunch.data.astype('float32')", "bunch.target", data.test_size, program.training.seed)]
    if data.standardize:
        body += standardize_lines()
    return Exported(body + [f"{INDENT}return x, y, x_test, y_test"])
