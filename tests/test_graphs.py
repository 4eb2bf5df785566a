"""Graphs compile to exactly the functional models people write by hand: layer classes, configs,
input dtypes, wiring, parameter counts, and the same outputs once the weights are copied."""

import numpy as np
import pytest

from regspec.api import load
from regspec.backend.keras.build import build_model, compile_model
from regspec.backend.keras.env import keras

from .conftest import SPECS

pytestmark = pytest.mark.tf
k = keras()
L, R = k.layers, k.regularizers


def residual():
    inp = k.Input(shape=(32, 32, 16), name="input")
    x = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
    x = L.Conv2D(16, 3, padding="same", kernel_regularizer=R.l2(0.0001))(x)
    x = L.Add()([inp, x])
    x = L.Activation("relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return k.Model(inp, L.Dense(10, activation="softmax")(x))


def tickets():
    # The Keras functional API guide's model, as the guide writes it.
    num_tags, num_words, num_departments = 12, 10000, 4
    title_input = k.Input(shape=(None,), name="title", dtype="int32")
    body_input = k.Input(shape=(None,), name="body", dtype="int32")
    tags_input = k.Input(shape=(num_tags,), name="tags")
    title_features = L.Embedding(num_words, 64)(title_input)
    title_features = L.LSTM(128)(title_features)
    body_features = L.Embedding(num_words, 64)(body_input)
    body_features = L.LSTM(32)(body_features)
    x = L.concatenate([title_features, body_features, tags_input])
    priority_pred = L.Dense(1, name="priority")(x)
    department_pred = L.Dense(num_departments, name="department")(x)
    return k.Model(inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred])


def transformer():
    inputs = k.Input(shape=(200,), dtype="int32", name="tokens")
    x = L.Embedding(20000, 32)(inputs)
    attn = L.MultiHeadAttention(num_heads=2, key_dim=32)(x, x)
    attn = L.Dropout(0.1)(attn)
    out1 = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attn]))
    ffn = L.Dense(32, activation="relu")(out1)
    ffn = L.Dense(32)(ffn)
    ffn = L.Dropout(0.1)(ffn)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([out1, ffn]))
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    x = L.Dense(20, activation="relu")(x)
    x = L.Dropout(0.1)(x)
    return k.Model(inputs, L.Dense(2, activation="softmax")(x))


def denoising_autoencoder():
    return k.Sequential([
        k.Input(shape=(28, 28, 1)),
        L.Conv2D(32, (3, 3), activation="relu", padding="same"), L.MaxPooling2D((2, 2), padding="same"),
        L.Conv2D(32, (3, 3), activation="relu", padding="same"), L.MaxPooling2D((2, 2), padding="same"),
        L.Conv2D(32, (3, 3), activation="relu", padding="same"), L.UpSampling2D((2, 2)),
        L.Conv2D(32, (3, 3), activation="relu", padding="same"), L.UpSampling2D((2, 2)),
        L.Conv2D(1, (3, 3), activation="sigmoid", padding="same"),
    ])


def text_cnn():
    return k.Sequential([
        k.Input(shape=(None,), dtype="int64"),
        L.Embedding(20000, 128), L.Dropout(0.5),
        L.Conv1D(128, 7, padding="valid", activation="relu", strides=3),
        L.Conv1D(128, 7, padding="valid", activation="relu", strides=3),
        L.GlobalMaxPooling1D(),
        L.Dense(128, activation="relu"), L.Dropout(0.5),
        L.Dense(1, activation="sigmoid"),
    ])


MODELS = {"residual": residual, "tickets": tickets, "transformer": transformer,
          "denoising_autoencoder": denoising_autoencoder, "text_cnn": text_cnn}


def configs(model) -> list[tuple[str, dict]]:
    out = []
    for layer in model.layers:
        c = layer.get_config()
        if type(layer).__name__ != "InputLayer":
            c.pop("name")  # generated names differ; input names are part of the model
            for wrapped in ("layer", "backward_layer"):  # a wrapper's (bidirectional's) layers too
                if isinstance(c.get(wrapped), dict):
                    c[wrapped]["config"].pop("name", None)
        out.append((type(layer).__name__, c))
    return out


def wiring(model) -> list[tuple[int, ...]]:
    """For each layer, the indices of the layers feeding it."""
    index = {id(layer): i for i, layer in enumerate(model.layers)}
    out = []
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        out.append(tuple(index[id(t._keras_history.operation)] for t in node.input_tensors if id(
            t._keras_history.operation) in index))
    return out


def sample(model, rng):
    xs = []
    for t in model.inputs:
        shape = [2] + [d if d is not None else 60 for d in t.shape[1:]]
        xs.append(rng.integers(0, 50, shape).astype(t.dtype) if "int" in str(t.dtype) else rng.random(shape).astype("float32"))
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_graph_compiles_to_the_hand_written_model(name):
    ours = build_model(load(SPECS / "graphs" / f"{name}.yaml").program)
    theirs = MODELS[name]()
    assert type(ours) is type(theirs)
    assert configs(ours) == configs(theirs)
    assert [str(t.dtype) for t in ours.inputs] == [str(t.dtype) for t in theirs.inputs]
    assert wiring(ours) == wiring(theirs)
    assert ours.count_params() == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    x = sample(ours, np.random.default_rng(0))
    for a, b in zip(*(m.predict(x, verbose=0) if isinstance(m.predict(x, verbose=0), list) else [m.predict(x, verbose=0)]
                      for m in (ours, theirs))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_static_summary_of_a_graph_matches_keras(name):
    spec = load(SPECS / "graphs" / f"{name}.yaml")
    rows = spec.summary_rows()
    model = compile_model(spec.program)
    assert sum(r.trainable + r.non_trainable for r in rows) == model.count_params()
    shapes = {r.id: r.output_shape for r in rows}
    outputs = model.outputs
    assert [tuple(shapes[o]) for o in spec.program.outputs] == [tuple(t.shape[1:]) for t in outputs]


def test_several_outputs_compile_with_a_loss_each():
    model = compile_model(load(SPECS / "graphs" / "tickets.yaml").program)
    assert model.output_names == ["priority", "department"]
    rng = np.random.default_rng(1)
    x = {"title": rng.integers(0, 10000, (8, 10)), "body": rng.integers(0, 10000, (8, 30)), "tags": rng.random((8, 12))}
    y = {"priority": rng.random((8, 1)), "department": np.eye(4)[rng.integers(0, 4, 8)]}
    history = model.fit(x, y, epochs=1, verbose=0)
    from regspec.frontend.checks import history_keys

    assert sorted(k_ for k_ in history_keys(load(SPECS / "graphs" / "tickets.yaml").resolved)
                  if not k_.startswith("val_")) == sorted(history.history)


def test_annotations_and_overrides_work_on_graphs_as_on_stacks():
    spec = load(SPECS / "graphs" / "tickets.yaml").with_overrides(
        {"layers.x.dropout": 0.5, "layers.priority.kernel_regularizer": {"l1": 0.01}})
    nodes = {n.id: n for n in spec.program.nodes}
    assert nodes["x_dropout"].inputs == ("x",)
    assert nodes["priority"].inputs == ("x_dropout",) and nodes["department"].inputs == ("x_dropout",)
    model = build_model(spec.program)
    assert model.get_layer("x_dropout").rate == 0.5
    assert float(model.get_layer("priority").kernel_regularizer.l1) == pytest.approx(0.01)


def test_dropout_on_an_output_layer_is_refused():
    from regspec.diagnostics import SpecError

    with pytest.raises(SpecError) as info:
        load(SPECS / "graphs" / "tickets.yaml").with_overrides({"layers.department.dropout": 0.5})
    assert "layers[6].dropout: dropout after an output layer randomly zeroes the model's predictions" in str(info.value)


def test_a_graph_trains_end_to_end(tmp_path):
    from regspec.api import from_document
    from regspec.frontend.source import read_text
    from regspec.runtime.train import train

    spec = from_document(read_text("""
regspec: 1
name: iris-graph
input: {shape: [4]}
layers:
  - {type: normalization, name: norm}
  - {type: dense, name: a, units: 16, activation: relu}
  - {type: dense, name: b, units: 16, activation: relu, inputs: norm}
  - {type: concatenate, name: both, inputs: [a, b]}
  - {type: dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
data: {type: sklearn, name: iris}
training: {epochs: 2, seed: 1}
""", str(tmp_path / "g.yaml")))
    assert not spec.program.is_stack
    result = train(spec, str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished" and set(result.metrics["test"]) == {"loss", "accuracy"}
    from regspec.runtime.train import load_saved

    model = load_saved(result.run_dir)
    norm = model.get_layer("norm")
    assert np.allclose(np.asarray(norm.mean).ravel()[:1], [5.8], atol=0.3)  # adapted on the iris training split
