"""Models people write (issue 20), each against the functional Keras a person writes by hand:
frozen layers with given weights, and scalar inputs."""

import numpy as np
import pytest

from regspec.api import load
from regspec.diagnostics import SpecError

FROZEN = """regspec: 1
name: frozen
input: {shape: [6], dtype: int32}
layers:
  - type: embedding
    name: words
    input_dim: 20
    output_dim: 4
    trainable: false
    weights: vectors.npz
  - {type: global_average_pooling1d}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


def write(tmp_path, text: str, name: str = "m.yaml"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_a_weights_file_of_the_wrong_shape_is_refused_at_its_line(tmp_path):
    np.savez(tmp_path / "vectors.npz", embeddings=np.zeros((20, 5), "float32"))
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, FROZEN))
    (d,) = info.value.diagnostics
    assert (d.line, d.path) == (10, "layers[0].weights")
    assert d.message == "vectors.npz: embeddings is [20, 5]; the layer's embeddings is [20, 4]"


def test_a_weights_file_that_is_not_numbers_is_refused(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "two.npz", np.zeros((20, 4)), np.zeros(3))
    for name, message in (("objects.npy", "holds Python objects"), ("missing.npz", "does not exist"),
                          ("two.npz", "two.npz holds 2 array(s); embedding has 1 weight(s): embeddings [20, 4]")):
        with pytest.raises(SpecError) as info:
            load(write(tmp_path, FROZEN.replace("vectors.npz", name)))
        assert message in info.value.diagnostics[0].message, name
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, FROZEN.replace("vectors.npz", "vectors.pkl")))
    assert info.value.diagnostics[0].path == "layers[0].weights"  # only .npz and .npy are weights files


@pytest.mark.tf
def test_a_frozen_embedding_from_a_file_is_what_keras_by_hand_builds(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.env import keras
    from regspec.runtime.train import train

    k = keras()
    vectors = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    np.savez(tmp_path / "vectors.npz", embeddings=vectors)
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    spec = load(write(sub, FROZEN.replace("vectors.npz", "../vectors.npz")))  # relative to the spec file
    ours = build_model(spec.program)

    inp = k.Input((6,), dtype="int32")
    embed = k.layers.Embedding(20, 4, name="words", trainable=False)
    x = k.layers.GlobalAveragePooling1D()(embed(inp))
    theirs = k.Model(inp, k.layers.Dense(2, activation="softmax")(x))
    embed.set_weights([vectors])

    words = ours.get_layer("words")
    assert words.trainable is False and words.get_config() == embed.get_config()
    assert np.array_equal(words.get_weights()[0], vectors)
    row = spec.summary_rows()[0]
    assert (row.trainable, row.non_trainable) == (0, 80)
    assert sum(int(np.prod(w.shape)) for w in ours.trainable_weights) == \
        sum(int(np.prod(w.shape)) for w in theirs.trainable_weights) == 10

    x = np.random.default_rng(1).integers(0, 20, size=(32, 6)).astype("int32")
    y = np.random.default_rng(2).integers(0, 2, size=32)
    np.savez(sub / "data.npz", x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
    trained_spec = load(write(sub, FROZEN.replace("vectors.npz", "../vectors.npz") +
                              "training: {epochs: 2, batch_size: 8}\ndata: {type: npz, path: data.npz}\n"))
    result = train(trained_spec, str(tmp_path / "runs"), verbose=0)
    saved = k.models.load_model(f"{result.run_dir}/model.keras", safe_mode=True)
    assert np.array_equal(saved.get_layer("words").get_weights()[0], vectors)  # frozen: training left it as given


SCALARS = """regspec: 1
name: scalars
inputs:
  - {name: age, shape: []}
  - {name: income, shape: []}
layers:
  - {type: reshape, target_shape: [1], inputs: age, name: age_column}
  - {type: reshape, target_shape: [1], inputs: income, name: income_column}
  - {type: concatenate, inputs: [age_column, income_column]}
  - {type: dense, units: 4, activation: relu}
  - {type: dense, units: 1, activation: sigmoid}
compile: {loss: binary_crossentropy}
"""


@pytest.mark.tf
def test_scalar_inputs_are_what_keras_by_hand_builds(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.env import keras

    from .test_graphs import configs

    k = keras()
    spec = load(write(tmp_path, SCALARS))
    ours = build_model(spec.program)
    age, income = k.Input(shape=(), name="age"), k.Input(shape=(), name="income")
    a = k.layers.Reshape((1,), name="age_column")(age)
    b = k.layers.Reshape((1,), name="income_column")(income)
    x = k.layers.Dense(4, activation="relu")(k.layers.Concatenate()([a, b]))
    theirs = k.Model([age, income], k.layers.Dense(1, activation="sigmoid")(x))
    assert configs(ours) == configs(theirs)
    assert [tuple(t.shape) for t in ours.inputs] == [(None,), (None,)]
    assert ours.count_params() == theirs.count_params() == sum(r.trainable for r in spec.summary_rows()) == 17
    inputs = [np.array([30.0, 40.0], "float32"), np.array([1.0, 2.0], "float32")]
    theirs.set_weights(ours.get_weights())
    assert np.allclose(ours.predict(inputs, verbose=0), theirs.predict(inputs, verbose=0))


@pytest.mark.tf
def test_a_frozen_layer_imports_as_trainable_false(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    from .test_import import round_trip

    k = keras()
    model = k.Sequential([k.Input((5,)), k.layers.Dense(3, name="frozen", trainable=False), k.layers.Dense(1)])
    back = round_trip(model, tmp_path)
    assert back.resolved.layers[0].trainable is False
    rebuilt = build_model(back.program)
    assert differences(rebuilt, model) == [] and rebuilt.get_layer("frozen").trainable is False


RESIDUAL = """regspec: 1
name: residual
input: {shape: [8]}
blocks:
  residual:
    layers:
      - {type: dense, name: fc, units: 8, activation: relu}
      - {type: add, name: sum, inputs: [$input, fc]}
FIRST
  - {type: dense, units: 8}
  - {block: residual, name: res}
  - {type: dense, units: 1}
compile: {loss: mse}
"""


@pytest.mark.parametrize("first", ["layers:", "layers:\n  - {block: residual, name: head}"])
def test_a_blocks_input_is_the_layer_before_named_or_not_or_the_model_input(first, tmp_path):
    spec = load(write(tmp_path, RESIDUAL.replace("FIRST", first)))
    by_name = {n.name: n for n in spec.program.nodes if n.name}
    assert by_name["res_sum"].inputs[0] == "res_input"  # the unnamed dense before the use, now named
    assert [n.name for n in spec.program.nodes][-4] == "res_input"
    if "head" in first:
        assert by_name["head_sum"].inputs[0] == "input"  # the first layer's input: the model's


def test_a_missing_block_input_is_said_once(tmp_path):
    text = RESIDUAL.replace("FIRST", "layers:").replace("input: {shape: [8]}", "inputs: [{name: a, shape: [8]}, "
                                                                              "{name: b, shape: [8]}]")
    text = text.replace("  - {type: dense, units: 8}\n", "").replace("inputs: [$input, fc]", "inputs: [$input, $input]")
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, text))
    said = [d.message for d in info.value.diagnostics if "$input" in d.message]
    assert said == ["block 'residual' uses $input, but nothing names what the block takes"]


def test_a_typo_in_a_block_no_layer_uses_is_reported(tmp_path):
    text = RESIDUAL.replace("FIRST", "layers:").replace("  - {block: residual, name: res}\n", "")
    text = text.replace("units: 8, activation: relu}", "unitz: 8, activation: relu}").replace("type: add", "type: ad")
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, text))
    found = [(d.line, d.path, d.message, d.hint) for d in info.value.diagnostics]
    assert found == [(7, "blocks.residual.layers[0].unitz", "unknown key 'unitz' for dense", "did you mean 'units'?"),
                     (8, "blocks.residual.layers[1].type", "unknown type 'ad'", "did you mean 'add'?")]


SEQ2SEQ = """regspec: 1
name: seq2seq
inputs:
  - {name: encoder_inputs, shape: [null, 12]}
  - {name: decoder_inputs, shape: [null, 9]}
layers:
  - {type: lstm, name: encoder, units: 16, return_state: true, inputs: encoder_inputs}
  - {type: lstm, name: decoder, units: 16, return_sequences: true, return_state: true,
     inputs: [decoder_inputs, encoder.state_h, encoder.state_c]}
  - {type: dense, name: next_char, units: 9, activation: softmax}
outputs: [next_char]
compile: {optimizer: rmsprop, loss: categorical_crossentropy}
"""


def seq2seq_by_hand(k):
    """keras-io's lstm_seq2seq, smaller: the encoder's states start the decoder."""
    encoder_inputs = k.Input(shape=(None, 12), name="encoder_inputs")
    _, state_h, state_c = k.layers.LSTM(16, return_state=True, name="encoder")(encoder_inputs)
    decoder_inputs = k.Input(shape=(None, 9), name="decoder_inputs")
    decoder_outputs, _, _ = k.layers.LSTM(16, return_sequences=True, return_state=True, name="decoder")(
        decoder_inputs, initial_state=[state_h, state_c])
    outputs = k.layers.Dense(9, activation="softmax", name="next_char")(decoder_outputs)
    return k.Model([encoder_inputs, decoder_inputs], outputs)


def test_a_state_is_named_by_its_layer_and_checked(tmp_path):
    spec = load(write(tmp_path, SEQ2SEQ))
    assert spec.program.nodes[1].inputs == ("decoder_inputs", "encoder.state_h", "encoder.state_c")
    assert sum(r.trainable for r in spec.summary_rows()) == 1856 + 1664 + 153
    for wrong, message in (("encoder.state_x", "encoder has no output 'state_x'"),
                           ("encoder_inputs.state_h", "encoder_inputs has no output 'state_h'")):
        with pytest.raises(SpecError) as info:
            load(write(tmp_path, SEQ2SEQ.replace("encoder.state_c]", wrong + "]")))
        assert info.value.diagnostics[0].message == message and info.value.diagnostics[0].line == 9
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, SEQ2SEQ.replace("units: 16, return_state: true, inputs: encoder_inputs",
                                             "units: 8, return_state: true, inputs: encoder_inputs")))
    assert "the initial state_h has shape [8]; lstm's state is [16]" in info.value.diagnostics[0].message


@pytest.mark.tf
def test_an_encoder_decoder_with_states_passed_on_is_what_keras_by_hand_builds(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras
    from regspec.backend.keras.export_python import model_source

    from .test_graphs import configs
    from .test_import import round_trip

    k = keras()
    spec = load(write(tmp_path, SEQ2SEQ))
    ours, theirs = build_model(spec.program), seq2seq_by_hand(k)
    assert configs(ours) == configs(theirs) and differences(ours, theirs) == []
    assert ours.count_params() == theirs.count_params()
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 5, 12)).astype("float32"), rng.normal(size=(2, 4, 9)).astype("float32")]
    theirs.set_weights(ours.get_weights())
    assert np.allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-6)

    back = round_trip(theirs, tmp_path)  # the way in: states come back by name
    assert back.program.nodes[1].inputs == ("decoder_inputs", "encoder.state_h", "encoder.state_c")
    assert differences(build_model(back.program), theirs) == []

    namespace: dict = {}  # the way out: the exported script's model is the same
    exec("\n".join(["import keras", "from keras import layers, regularizers", *model_source(spec.program)]), namespace)
    assert differences(namespace["build_model"](), theirs) == []


SIAMESE = """regspec: 1
name: siamese
inputs:
  - {name: left, shape: [8]}
  - {name: right, shape: [8]}
layers:
  - {type: dense, name: encode, units: 4, activation: relu, inputs: left, kernel_regularizer: {l2: 0.01}}
  - {type: reuse, layer: encode, name: encode_right, inputs: right}
  - {type: ops.subtract, inputs: [encode, encode_right]}
  - {type: ops.square}
  - {type: ops.sum, axis: 1, keepdims: true}
  - {type: ops.maximum, constant: 1.0e-7}
  - {type: ops.sqrt, name: distance}
  - {type: dense, units: 1, activation: sigmoid}
compile: {loss: binary_crossentropy}
"""


def siamese_by_hand(k):
    """keras-io's siamese contrastive example, small: one tower on both inputs, the Euclidean distance."""
    left, right = k.Input((8,), name="left"), k.Input((8,), name="right")
    encode = k.layers.Dense(4, activation="relu", kernel_regularizer=k.regularizers.l2(0.01), name="encode")
    a, b = encode(left), encode(right)
    distance = k.ops.sqrt(k.ops.maximum(k.ops.sum(k.ops.square(a - b), axis=1, keepdims=True), 1e-7))
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(distance))


def test_a_reused_layer_counts_its_weights_once_and_must_exist(tmp_path):
    spec = load(write(tmp_path, SIAMESE))
    rows = spec.summary_rows()
    assert (rows[1].type, rows[1].trainable) == ("dense, shares encode", 0)
    assert sum(r.trainable for r in rows) == 36 + 2
    for text, message in ((SIAMESE.replace("layer: encode,", "layer: encoder,"), "no earlier layer named 'encoder'"),
                          (SIAMESE.replace("right, shape: [8]", "right, shape: [6]"), "encode would need other weights")):
        with pytest.raises(SpecError) as info:
            load(write(tmp_path, text))
        assert message in info.value.diagnostics[0].message and info.value.diagnostics[0].line == 8


@pytest.mark.tf
def test_a_siamese_network_with_one_shared_tower_is_what_keras_by_hand_builds(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras
    from regspec.backend.keras.export_python import model_source

    from .test_import import round_trip

    k = keras()
    spec = load(write(tmp_path, SIAMESE))
    ours, theirs = build_model(spec.program), siamese_by_hand(k)
    assert differences(ours, theirs) == [] and ours.count_params() == theirs.count_params() == 38
    assert len(ours.get_layer("encode")._inbound_nodes) == 2  # one layer object, called twice

    back = round_trip(theirs, tmp_path)  # the way in: the second call comes back as a reuse
    (reuse,) = [lay for lay in back.resolved.layers if lay.tag == "reuse"]
    assert (reuse.layer, reuse.name, reuse.inputs) == ("encode", "encode_call2", "right")
    assert differences(build_model(back.program), theirs) == []

    namespace: dict = {}  # the way out
    exec("\n".join(["import keras", "from keras import layers, regularizers", *model_source(spec.program)]), namespace)
    assert differences(namespace["build_model"](), theirs) == []


MIXER = """regspec: 1
name: mixer
input: {shape: [6, 4]}
layers:
  - {type: layer_normalization, name: norm, epsilon: 1.0e-6}
  - {type: dense, name: mix, units: 4, activation: gelu}
  - {type: add, name: skip, inputs: [input, mix]}
  - {type: reuse, layer: norm, name: norm_again}
  - {type: global_average_pooling1d}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


@pytest.mark.tf
def test_a_block_that_applies_one_layer_normalization_twice(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    from .test_import import round_trip

    k = keras()
    spec = load(write(tmp_path, MIXER))
    inp = k.Input((6, 4))
    norm = k.layers.LayerNormalization(epsilon=1e-6, name="norm")
    x = k.layers.Add(name="skip")([inp, k.layers.Dense(4, activation="gelu", name="mix")(norm(inp))])
    x = k.layers.GlobalAveragePooling1D()(norm(x))
    theirs = k.Model(inp, k.layers.Dense(2, activation="softmax")(x))
    ours = build_model(spec.program)
    assert differences(ours, theirs) == []
    assert sum(r.trainable for r in spec.summary_rows()) == theirs.count_params() == 8 + 20 + 10
    assert differences(build_model(round_trip(theirs, tmp_path).program), theirs) == []


TOWER = """regspec: 1
name: siamese-tower
inputs:
  - {name: left, shape: [10]}
  - {name: right, shape: [10]}
blocks:
  tower:
    layers:
      - {type: dense, name: fc1, units: 8, activation: relu}
      - {type: batch_normalization, name: bn}
      - {type: dense, name: fc2, units: 4, activation: tanh}
layers:
  - {block: tower, name: left_tower, inputs: left}
  - {type: reuse, layer: left_tower, name: right_tower, inputs: right}
  - {type: ops.subtract, inputs: [left_tower, right_tower]}
  - {type: ops.abs}
  - {type: dense, units: 1, activation: sigmoid}
compile: {loss: binary_crossentropy}
"""


def test_a_reused_block_instance_is_a_shared_tower_whose_weights_count_once(tmp_path):
    spec = load(write(tmp_path, TOWER))
    calls = [n for n in spec.program.nodes if n.shares]
    assert [(n.id, n.shares, n.inputs) for n in calls] == [
        ("right_tower_fc1", "left_tower_fc1", ("right",)), ("right_tower_bn", "left_tower_bn", ("right_tower_fc1",)),
        ("right_tower_fc2", "left_tower_fc2", ("right_tower_bn",))]
    assert sum(r.trainable for r in spec.summary_rows()) == (88 + 16 + 36) + 5
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, TOWER.replace("{type: batch_normalization, name: bn}", "{type: batch_normalization}")))
    assert "can be reused when each of its layers has a name" in info.value.diagnostics[0].message


@pytest.mark.tf
def test_a_shared_tower_is_what_keras_by_hand_builds(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    k = keras()
    left, right = k.Input((10,), name="left"), k.Input((10,), name="right")
    tower = [k.layers.Dense(8, activation="relu", name="left_tower_fc1"), k.layers.BatchNormalization(name="left_tower_bn"),
             k.layers.Dense(4, activation="tanh", name="left_tower_fc2")]

    def apply(x):
        for layer in tower:
            x = layer(x)
        return x

    x = k.ops.abs(apply(left) - apply(right))
    theirs = k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(x))
    ours = build_model(load(write(tmp_path, TOWER)).program)
    assert differences(ours, theirs) == [] and ours.count_params() == theirs.count_params()


@pytest.mark.tf
def test_a_nested_tower_model_imports_as_a_block_and_its_reuse(tmp_path):
    """keras-io's siamese example builds its tower as a keras.Model and calls it on each input:
    import writes the tower as a block, used at its first call and reused at the second."""
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.env import keras

    from .test_import import round_trip

    k = keras()
    inp = k.Input((10,))
    x = k.layers.Dense(8, activation="relu")(inp)
    x = k.layers.BatchNormalization()(x)
    tower = k.Model(inp, k.layers.Dense(4, activation="tanh")(x), name="tower")
    left, right = k.Input((10,), name="left"), k.Input((10,), name="right")
    theirs = k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(k.ops.abs(tower(left) - tower(right))))

    back = round_trip(theirs, tmp_path)
    text = (tmp_path / "m.yaml").read_text()
    assert "blocks:\n  tower:\n" in text and "{type: reuse, name: tower_call2, inputs: right, layer: tower}" in text
    ours = build_model(back.program)
    assert ours.count_params() == theirs.count_params()
    assert sum(r.trainable + r.non_trainable for r in back.summary_rows()) == theirs.count_params()
    ours.set_weights(theirs.get_weights())  # the same weights in the same order: the same function
    data = [np.random.default_rng(i).normal(size=(3, 10)).astype("float32") for i in range(2)]
    assert np.allclose(ours.predict(data, verbose=0), theirs.predict(data, verbose=0), atol=1e-5)


MIXER_BLOCK = """regspec: 1
name: mixer-blocks
input: {shape: [6, 4]}
blocks:
  mixer:                     # MLP-Mixer's pattern: one LayerNormalization applied before each mixing
    layers:
      - {type: layer_normalization, name: norm, epsilon: 1.0e-6}
      - {type: dense, name: mix, units: 4, activation: gelu}
      - {type: add, name: skip, inputs: [$input, mix]}
      - {type: reuse, layer: norm, name: norm_again}
layers:
  - {block: mixer, name: m1}
  - {block: mixer, name: m2}
  - {type: global_average_pooling1d}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


@pytest.mark.tf
def test_a_block_that_reuses_one_layer_normalization(tmp_path):
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.env import keras

    k = keras()
    spec = load(write(tmp_path, MIXER_BLOCK))
    x = inp = k.Input((6, 4))
    for use in ("m1", "m2"):
        norm = k.layers.LayerNormalization(epsilon=1e-6, name=f"{use}_norm")
        mixed = k.layers.Dense(4, activation="gelu", name=f"{use}_mix")(norm(x))
        x = norm(k.layers.Add(name=f"{use}_skip")([x, mixed]))
    theirs = k.Model(inp, k.layers.Dense(2, activation="softmax")(k.layers.GlobalAveragePooling1D()(x)))
    ours = build_model(spec.program)
    assert differences(ours, theirs) == []
    assert sum(r.trainable for r in spec.summary_rows()) == theirs.count_params() == 2 * (8 + 20) + 10
