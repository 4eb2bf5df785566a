"""Keras operations as nodes (`ops.add`, `ops.mean`, ...): each kind against the functional code a
person writes (`x + 3.0`, `keras.ops.mean(x, axis=1)`), the way in (import) and the way out
(the exported script), a squeeze-and-excitation block, and keras.applications' MobileNetV3."""

import numpy as np
import pytest

from regspec.api import from_document
from regspec.frontend.source import Document
from regspec.lang.layers import LAYERS
from regspec.lang.layers.operations import Operation

pytestmark = pytest.mark.tf

OPERATION_TAGS = {tag for tag, cls in LAYERS.items() if issubclass(cls, Operation)}


def _ops():
    from regspec.backend.keras.env import keras

    return keras().ops


# kind -> (spec item, input shapes, the functional code by hand)
OPS = {
    "ops.add": ({"constant": 3.0}, [[4]], lambda o, x: x + 3.0),
    "ops.subtract": ({}, [[4], [4]], lambda o, a, b: a - b),
    "ops.multiply": ({}, [[3, 4], [1, 4]], lambda o, a, b: a * b),
    "ops.divide": ({"constant": 2.0}, [[4]], lambda o, x: o.divide(x, 2.0)),
    "ops.true_divide": ({}, [[4], [4]], lambda o, a, b: a / b),
    "ops.maximum": ({"constant": 1e-7}, [[4]], lambda o, x: o.maximum(x, 1e-7)),
    "ops.minimum": ({}, [[4], [4]], lambda o, a, b: o.minimum(a, b)),
    "ops.mean": ({"axis": [1, 2], "keepdims": True}, [[5, 5, 3]], lambda o, x: o.mean(x, axis=[1, 2], keepdims=True)),
    "ops.sum": ({"axis": 1}, [[4, 3]], lambda o, x: o.sum(x, axis=1)),
    "ops.max": ({"axis": -1, "keepdims": True}, [[4, 3]], lambda o, x: o.max(x, axis=-1, keepdims=True)),
    "ops.ones_like": ({}, [[4]], lambda o, x: o.ones_like(x)),
    "ops.cumsum": ({"axis": 1}, [[4, 3]], lambda o, x: o.cumsum(x, axis=1)),
    **{tag: ({}, [[4]], (lambda f: lambda o, x: getattr(o, f)(x))(LAYERS[tag].function))
       for tag in OPERATION_TAGS if issubclass(LAYERS[tag], __import__("regspec.lang.layers.operations",
                                                                         fromlist=["_Unary"])._Unary)},
}


def spec_for(tag: str, item: dict, shapes: list) -> object:
    names = [f"in{i}" for i in range(len(shapes))]
    data = {"regspec": 1, "name": "t", "inputs": [{"name": n, "shape": s} for n, s in zip(names, shapes)],
            "layers": [dict(item, type=tag, name="op", inputs=names if len(names) > 1 else names[0])],
            "compile": {"loss": "mse"}}
    return from_document(Document("t.yaml", data))


def test_every_operation_has_a_hand_written_twin():
    assert set(OPS) == OPERATION_TAGS


@pytest.mark.parametrize("tag", sorted(OPS))
def test_operation_builds_what_functional_code_writes(tag, tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras
    from regspec.backend.keras.export_python import model_source

    from .test_import import round_trip

    k = keras()
    item, shapes, hand = OPS[tag]
    spec = spec_for(tag, item, shapes)
    ours = build_model(spec.program)
    inputs = [k.Input(shape=tuple(s), name=f"in{i}") for i, s in enumerate(shapes)]
    theirs = k.Model(inputs, hand(k.ops, *inputs))
    assert differences(ours, theirs) == []
    (ours_op,) = [op for op in ours.operations if type(op).__module__.startswith("keras.src.ops")]
    (their_op,) = [op for op in theirs.operations if type(op).__module__.startswith("keras.src.ops")]
    assert type(ours_op) is type(their_op)
    row = spec.summary_rows()[-1]
    assert (None, *row.output_shape) == tuple(ours.output.shape) == tuple(theirs.output.shape)
    data = [np.random.default_rng(i).uniform(0.5, 2.0, size=(2, *s)).astype("float32") for i, s in enumerate(shapes)]
    assert np.allclose(ours.predict(data, verbose=0), theirs.predict(data, verbose=0))
    back = round_trip(theirs, tmp_path)  # the way in
    assert back.resolved.layers[-1].tag == tag and differences(build_model(back.program), theirs) == []
    namespace: dict = {}  # the way out
    exec("\n".join(["import keras", "from keras import layers, regularizers", *model_source(spec.program)]), namespace)
    assert differences(namespace["build_model"](), theirs) == []


SE_BLOCK = """regspec: 1
name: se
input: {shape: [8, 8, 16]}
layers:
  - {type: conv2d, name: conv, filters: 16, kernel_size: 3, padding: same}
  - {type: ops.mean, name: squeeze, axis: [1, 2], keepdims: true}
  - {type: conv2d, name: reduce, filters: 4, kernel_size: 1, activation: relu}
  - {type: conv2d, name: expand, filters: 16, kernel_size: 1}
  - {type: ops.add, constant: 3.0}
  - {type: re_lu, max_value: 6.0}
  - {type: ops.multiply, name: gate, constant: 0.16666666666666666}
  - {type: ops.multiply, name: excite, inputs: [conv, gate]}
  - {type: global_average_pooling2d}
  - {type: dense, units: 3, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


def test_a_squeeze_and_excitation_block_written_with_operations():
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    k = keras()
    spec = from_document(Document("se.yaml", __import__("yaml").safe_load(SE_BLOCK)))
    ours = build_model(spec.program)
    inp = k.Input((8, 8, 16))
    x = k.layers.Conv2D(16, 3, padding="same", name="conv")(inp)
    s = k.ops.mean(x, axis=[1, 2], keepdims=True)
    s = k.layers.Conv2D(4, 1, activation="relu", name="reduce")(s)
    s = k.layers.Conv2D(16, 1, name="expand")(s)
    s = k.layers.ReLU(6.0)(s + 3.0) * (1.0 / 6.0)  # keras.applications' hard_sigmoid
    x = x * s
    out = k.layers.Dense(3, activation="softmax")(k.layers.GlobalAveragePooling2D()(x))
    theirs = k.Model(inp, out)
    assert differences(ours, theirs) == [] and ours.count_params() == theirs.count_params()
    assert sum(r.trainable for r in spec.summary_rows()) == theirs.count_params()
    data = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    theirs.set_weights(ours.get_weights())
    assert np.allclose(ours.predict(data, verbose=0), theirs.predict(data, verbose=0), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MobileNetV3Small", "MobileNetV3Large"])
def test_mobilenet_v3_imports_and_compiles_to_the_same_model(name, tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    from .test_import import round_trip

    k = keras()
    theirs = getattr(k.applications, name)(weights=None, input_shape=(64, 64, 3))
    back = round_trip(theirs, tmp_path)
    ours = build_model(back.program)
    assert differences(ours, theirs) == []
    def named(model):  # the names MobileNetV3 gives; a generated one (rescaling_2) depends on the process
        from regspec.backend.keras.compare import described

        return [row[0] for row in described(model)]

    assert named(ours) == named(theirs) and sum(n.startswith("expanded_conv") for n in named(ours)) > 20
    assert sum(r.trainable + r.non_trainable for r in back.summary_rows()) == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    data = np.random.default_rng(0).uniform(0, 255, size=(2, 64, 64, 3)).astype("float32")
    assert np.allclose(ours.predict(data, verbose=0), theirs.predict(data, verbose=0), atol=1e-4)


POSITIONS = """regspec: 1
name: positions
input: {name: tokens, shape: [12], dtype: int32}
layers:
  - {type: embedding, name: token_emb, input_dim: 100, output_dim: 8}
  - {type: ops.ones_like, inputs: tokens}
  - {type: ops.cumsum, axis: 1}
  - {type: ops.subtract, constant: 1, name: positions}
  - {type: embedding, name: position_emb, input_dim: 12, output_dim: 8}
  - {type: ops.add, inputs: [token_emb, position_emb]}
  - {type: global_average_pooling1d}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


def test_a_learned_position_embedding_written_with_operations():
    """keras-io's transformer text classifier adds a learned position embedding to the token
    embedding; without its custom layer, the positions are numbered with operations."""
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    k = keras()
    spec = from_document(Document("p.yaml", __import__("yaml").safe_load(POSITIONS)))
    tokens = k.Input((12,), dtype="int32", name="tokens")
    token_emb = k.layers.Embedding(100, 8, name="token_emb")(tokens)
    positions = k.ops.cumsum(k.ops.ones_like(tokens), axis=1) - 1
    x = token_emb + k.layers.Embedding(12, 8, name="position_emb")(positions)
    theirs = k.Model(tokens, k.layers.Dense(2, activation="softmax")(k.layers.GlobalAveragePooling1D()(x)))
    ours = build_model(spec.program)
    assert differences(ours, theirs) == [] and ours.count_params() == theirs.count_params() == 800 + 96 + 18
    assert spec.program.nodes[3].layer.constant == 1 and isinstance(spec.program.nodes[3].layer.constant, int)
