"""The train/test split every array source makes: the rows scikit-learn's train_test_split picks
(an exported script calls it), made without importing scikit-learn."""

import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.model_selection import train_test_split

from regspec.api import load
from regspec.backend.keras.data import DataError, split_indices
from regspec.cli import main
from tests.conftest import SPECS

PROGRAM = load(SPECS / "iris" / "base.yaml").program


#: Sizes and test fractions that leave rows to train on (the others are refused, below).
SIZES = [(n, t) for n in (2, 3, 7, 150, 1000, 1797) for t in (0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 0.99)
         if n - math.ceil(t * n) > 0]


@pytest.mark.parametrize("n, test_size", SIZES)
@pytest.mark.parametrize("seed", [0, 7, 128, 2**31 - 1])
def test_the_rows_are_scikit_learns(n, test_size, seed):
    keep, held = split_indices(PROGRAM, n, test_size, seed)
    theirs_keep, theirs_held = train_test_split(np.arange(n), test_size=test_size, random_state=seed)
    assert keep.tolist() == theirs_keep.tolist()
    assert held.tolist() == theirs_held.tolist()


def test_without_a_seed_both_draw_from_numpys_global_generator():
    np.random.seed(3)
    keep, held = split_indices(PROGRAM, 40, 0.25, None)
    np.random.seed(3)
    theirs_keep, theirs_held = train_test_split(np.arange(40), test_size=0.25, random_state=None)
    assert (keep.tolist(), held.tolist()) == (theirs_keep.tolist(), theirs_held.tolist())


@pytest.mark.parametrize("n, test_size", [(0, 0.25), (1, 0.25), (3, 0.9), (10, 0.95)])
def test_a_split_that_leaves_nothing_to_train_on_is_refused(n, test_size):
    with pytest.raises(ValueError):  # what scikit-learn says of it
        train_test_split(np.arange(n), test_size=test_size)
    with pytest.raises(DataError) as err:
        split_indices(PROGRAM, n, test_size, 0)
    assert "leaves none to train on" in str(err.value)


def test_a_csv_too_small_to_split_is_refused_at_the_data_line(tmp_path):
    (tmp_path / "one.csv").write_text("a,b,label\n1,2,x\n")
    spec = tmp_path / "one.yaml"
    spec.write_text("regspec: 1\nname: one\ninput: {shape: [2]}\nlayers:\n  - {type: dense, units: 2, activation: softmax}\n"
                    "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\n"
                    "data: {type: csv, train: one.csv, label: label}\ntraining: {epochs: 1, batch_size: 2}\n")
    result = CliRunner().invoke(main, ["compile", str(spec), "--train", "--out", str(tmp_path / "runs")])
    assert result.exit_code != 0
    assert "one.yaml:7:" in result.output and "data: 1 example: a test split of 0.25 leaves none to train on" \
        in result.output, result.output
    assert "Traceback" not in result.output and "Keras refused" not in result.output


def test_splitting_imports_no_scikit_learn():
    code = ("import sys; from regspec.api import load; from regspec.backend.keras.data import split_arrays; "
            "import numpy as np; p = load(sys.argv[1]).program; "
            "got = split_arrays(p, np.zeros((10, 2)), np.arange(10), 0.25, 0); "
            "print(len(got.x), len(got.x_test), any(m.startswith('sklearn') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(SPECS / "iris" / "base.yaml")], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["7", "3", "False"]
