"""`data: {type: synthetic, generator: moons, noise: 0.3}`: examples drawn by scikit-learn's
make_* generators, seeded by `training.seed` (0 without one), so a run is reproducible offline."""

from __future__ import annotations

from regspec.backend.keras.data import Loaded, split_arrays, standardize
from regspec.backend.keras.sources import INDENT, Exported, split_lines, standardize_lines
from regspec.ir.graph import Program
from regspec.lang.data import SyntheticData


def load(program: Program, data: SyntheticData, seed: int | None) -> Loaded:
    from sklearn import datasets as sk

    make = getattr(sk, f"make_{data.generator}")
    x, y = make(**data.generator_arguments(), random_state=_state(seed))
    got = split_arrays(program, x.astype("float32"), y.astype("float32" if data.generator == "regression" else "int64"),
                       data.test_size, seed)
    got.features = [f"x{i}" for i in range(x.shape[1])]
    return standardize(got) if data.standardize else got


def _state(seed: int | None) -> int:
    return 0 if seed is None else seed


def export(program: Program, data: SyntheticData) -> Exported:
    seed = program.training.seed
    args = ", ".join(f"{k}={v!r}" for k, v in data.generator_arguments().items())
    y_type = "float32" if data.generator == "regression" else "int64"
    body = [f"{INDENT}from sklearn import datasets", "",
            f"{INDENT}x, y = datasets.make_{data.generator}({args}, random_state={_state(seed)!r})",
            *split_lines("x.astype('float32')", f"y.astype({y_type!r})", data.test_size, seed)]
    if data.standardize:
        body += standardize_lines()
    return Exported(body + [f"{INDENT}return x, y, x_test, y_test"])
