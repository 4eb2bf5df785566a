"""The `synthetic` data source (scikit-learn's make_* generators): refused arguments are named at
their line, it trains, and the exported script draws exactly the arrays regspec trained on."""

import numpy as np
import pytest

from regspec.api import from_document
from regspec.diagnostics import SpecError
from regspec.frontend.source import read_text


def from_text(text, name):
    return from_document(read_text(text, name))


MOONS = """regspec: 1
name: moons
input: {shape: [2]}
layers:
  - {type: dense, units: 16, activation: relu, kernel_regularizer: {l2: 0.001}}
  - {type: dense, units: 2, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
training: {epochs: 2, batch_size: 32, seed: 3}
data:
  type: synthetic
  generator: moons
  n_samples: 200
  noise: 0.3
"""


def test_an_argument_the_generator_does_not_take_is_refused_at_the_data_line():
    with pytest.raises(SpecError) as info:
        from_text(MOONS + "  n_features: 3\n", "moons.yaml")
    (d,) = info.value.diagnostics
    assert (d.line, d.path) == (10, "data")
    assert d.message == "make_moons takes no n_features (it takes n_samples, noise)"


def test_generators_keep_sklearns_defaults_for_what_the_spec_leaves_out():
    spec = from_text(MOONS.replace("generator: moons", "generator: classification").replace("  noise: 0.3\n", "  n_classes: 3\n"),
                     "c.yaml")
    assert spec.program.data.generator_arguments() == {"n_samples": 200, "n_classes": 3}


@pytest.mark.tf
def test_it_trains_and_its_export_snippet_draws_the_same_arrays(tmp_path):
    from regspec.backend.keras.export_python import exported_data
    from regspec.backend.keras.sources import source
    from regspec.runtime.train import train

    spec = from_text(MOONS, str(tmp_path / "moons.yaml"))
    result = train(spec, str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished" and result.metrics["epochs_run"] == 2
    assert 0.0 <= result.metrics["test"]["accuracy"] <= 1.0

    ours = source("synthetic").load(spec.program, spec.program.data, spec.program.training.seed)
    namespace: dict = {}
    exec("\n".join(["import numpy as np", "def load_data():", *exported_data(spec.program).body]), namespace)
    x, y, x_test, y_test = namespace["load_data"]()
    for theirs, mine in ((x, ours.x), (y, ours.y), (x_test, ours.x_test), (y_test, ours.y_test)):
        assert theirs.dtype == mine.dtype and np.array_equal(theirs, mine)
    assert x.shape == (150, 2) and set(np.unique(y)) == {0, 1}
