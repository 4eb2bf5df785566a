"""keras.applications architectures written as specs with blocks compile to the same model:
layer classes, configs and names (the input's aside), wiring, parameters, and outputs."""

import re

import numpy as np
import pytest

from regspec.api import load
from regspec.backend.keras.build import build_model
from regspec.backend.keras.env import keras

from .conftest import SPECS

pytestmark = [pytest.mark.tf, pytest.mark.slow]
k = keras()


def described(model) -> list[tuple]:
    """(name, class, config without name, names of inbound layers) per layer, the input as 'input'.

    A name Keras generated (zero_padding2d_3: the number depends on what the process built
    before) stands as its position.
    """
    from keras.src.utils.naming import to_snake_case

    rename = {}
    for i, layer in enumerate(model.layers):
        if type(layer).__name__ == "InputLayer":
            rename[layer.name] = "input"
        elif re.fullmatch(to_snake_case(type(layer).__name__) + r"(_\d+)?", layer.name):
            rename[layer.name] = f"#{i}"
    out = []
    for layer in model.layers:
        config = layer.get_config()
        config.pop("name")
        if type(layer).__name__ == "InputLayer":
            config = {}  # Keras names it input_layer; shape and dtype are compared on the model
        inbound = tuple(rename.get(t._keras_history.operation.name, t._keras_history.operation.name)
                        for t in layer._inbound_nodes[0].input_tensors)
        out.append((rename.get(layer.name, layer.name), type(layer).__name__, config, inbound))
    return out


APPLICATIONS = {
    "resnet50": lambda: k.applications.ResNet50(weights=None),
    "densenet121": lambda: k.applications.DenseNet121(weights=None),
    "mobilenetv2": lambda: k.applications.MobileNetV2(weights=None),
}


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_application_spec_builds_the_keras_model(name):
    spec = load(SPECS / "applications" / f"{name}.yaml")
    ours = build_model(spec.program)
    theirs = APPLICATIONS[name]()
    assert described(ours) == described(theirs)
    assert [tuple(t.shape) for t in ours.inputs] == [tuple(t.shape) for t in theirs.inputs]
    assert ours.count_params() == theirs.count_params()
    assert sum(r.trainable + r.non_trainable for r in spec.summary_rows()) == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(0).random((1, *ours.inputs[0].shape[1:])).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_application_specs_are_short():
    for path in (SPECS / "applications").glob("*.yaml"):
        assert len(path.read_text().splitlines()) <= 120, path.name
