"""TensorFlow's graph optimizer left out for a small model of vectors: chosen from the layer
shapes, put back after the training, said in run.json, and with the same trained weights."""

import json
import os

import numpy as np
import pytest

from regspec.api import load
from regspec.backend.keras import grappler
from tests.conftest import SPECS

CONV = """regspec: 1
name: conv
input: {shape: [8, 8, 1]}
layers:
  - {type: conv2d, filters: 8, kernel_size: 3, trainable: %s}
  - {type: flatten}
  - {type: dense, units: 3, activation: softmax}
compile: {loss: categorical_crossentropy}
"""

LSTM = """regspec: 1
name: lstm
input: {shape: [8, 8]}
layers:
  - {type: lstm, units: 16, return_sequences: %s}
  - {type: flatten}
  - {type: dense, units: 3, activation: softmax}
compile: {loss: categorical_crossentropy}
"""


def program(tmp_path, text):
    (tmp_path / "m.yaml").write_text(text)
    return load(tmp_path / "m.yaml").program


@pytest.mark.parametrize("name", ["digits/base.yaml", "iris/base.yaml", "graphs/siamese.yaml"])
def test_a_small_model_of_vectors_trains_without_it(name):
    assert grappler.worth_skipping(load(SPECS / name).program)


@pytest.mark.parametrize("sequences", ["true", "false"])  # its last state is a vector; its input is not
def test_a_recurrent_layer_keeps_it(tmp_path, sequences):
    assert not grappler.worth_skipping(program(tmp_path, LSTM % sequences))


def test_a_reshape_into_an_image_keeps_it(tmp_path):
    text = CONV.replace("input: {shape: [8, 8, 1]}", "input: {shape: [64]}").replace(
        "  - {type: conv2d, filters: 8, kernel_size: 3, trainable: %s}\n", "  - {type: reshape, target_shape: [8, 8]}\n")
    assert not grappler.worth_skipping(program(tmp_path, text))


@pytest.mark.parametrize("trainable", ["true", "false"])  # a frozen convolution still runs every step
def test_a_convolution_keeps_it(tmp_path, trainable):
    assert not grappler.worth_skipping(program(tmp_path, CONV % trainable))


@pytest.mark.parametrize("name", ["graphs/text_cnn.yaml", "model1.yaml", "mnist/base.yaml"])
def test_embeddings_convolutions_and_large_models_keep_it(name):
    spec = load(SPECS / name)
    if name == "mnist/base.yaml":  # small at batch 128: made large by its batch
        spec = spec.with_overrides({"training.batch_size": 4096})
    assert not grappler.worth_skipping(spec.program)


def test_a_distribution_strategy_keeps_it():
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.distribution": "one_device"})
    assert not grappler.worth_skipping(spec.program)


@pytest.mark.tf
def test_the_process_setting_is_put_back_and_an_own_one_kept():
    import tensorflow as tf

    options = tf.config.optimizer
    iris = load(SPECS / "iris" / "base.yaml").program
    with grappler.chosen(iris) as optimized:
        assert not optimized and options.get_experimental_options()["disable_meta_optimizer"] is True
    assert not options.get_experimental_options().get("disable_meta_optimizer", False)
    options.set_experimental_options({"disable_meta_optimizer": True})  # the user's own
    try:
        with grappler.chosen(load(SPECS / "model1.yaml").program) as optimized:
            assert not optimized
        assert options.get_experimental_options()["disable_meta_optimizer"] is True
    finally:
        options.set_experimental_options({"disable_meta_optimizer": False})


@pytest.mark.tf
def test_without_it_the_trained_weights_are_the_same(tmp_path, monkeypatch):
    from regspec.runtime.train import load_saved, train

    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 3, "layers.fc1.dropout": 0.3})
    off = train(spec, str(tmp_path / "off"), verbose=0, figures=())
    monkeypatch.setattr(grappler, "worth_skipping", lambda program: False)
    on = train(spec, str(tmp_path / "on"), verbose=0, figures=())
    said = [json.load(open(os.path.join(r.run_dir, "run.json")))["grappler"] for r in (off, on)]
    assert said == [False, True]
    for a, b in zip(load_saved(off.run_dir).get_weights(), load_saved(on.run_dir).get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert off.metrics["test"] == pytest.approx(on.metrics["test"], rel=1e-5)
