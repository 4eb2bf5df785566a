"""Each layer kind compiles to the same Keras layer a person writes by hand."""

import pytest

from regspec.api import from_document
from regspec.backend.keras.build import build_model
from regspec.backend.keras.env import keras
from regspec.frontend.source import Document
from regspec.lang.layers import LAYERS

pytestmark = pytest.mark.tf

k = keras()
L, R = k.layers, k.regularizers

# (spec layer, input shape, the hand-written Keras layer)
CASES = {
    # Categorical and text preprocessing (lang/layers/lookup.py); given a vocabulary, they build without data.
    "string_lookup": ({"type": "string_lookup", "vocabulary": ["a", "b", "c"], "output_mode": "one_hot"}, [1],
                      lambda: L.StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot"), "string"),
    "string_lookup_instance": ({"type": "string_lookup", "max_tokens": 50, "num_oov_indices": 2}, [3],
                          lambda: L.StringLookup(max_tokens=50, num_oov_indices=2), "string"),
    "integer_lookup": ({"type": "integer_lookup", "vocabulary": [3, 7, 9], "output_mode": "multi_hot", "mask_token": 0},
                       [4], lambda: L.IntegerLookup(vocabulary=[3, 7, 9], output_mode="multi_hot", mask_token=0), "int64"),
    "hashing": ({"type": "hashing", "num_bins": 8, "output_mode": "one_hot", "salt": 3}, [1],
                lambda: L.Hashing(8, output_mode="one_hot", salt=3), "string"),
    "category_encoding": ({"type": "category_encoding", "num_tokens": 6, "output_mode": "count"}, [4],
                          lambda: L.CategoryEncoding(6, output_mode="count"), "int32"),
    "discretization": ({"type": "discretization", "bin_boundaries": [0.0, 1.5, 3.0], "output_mode": "one_hot"}, [1],
                       lambda: L.Discretization(bin_boundaries=[0.0, 1.5, 3.0], output_mode="one_hot")),
    "discretization_adapted": ({"type": "discretization", "num_bins": 4}, [3], lambda: L.Discretization(num_bins=4)),
    "text_vectorization": ({"type": "text_vectorization", "max_tokens": 100, "output_sequence_length": 12}, [1],
                           lambda: L.TextVectorization(max_tokens=100, output_sequence_length=12), "string"),
    "text_vectorization_instance": ({"type": "text_vectorization", "vocabulary": ["the", "cat", "sat"],
                                      "output_mode": "multi_hot", "standardize": "lower", "ngrams": 2}, [],
                                     lambda: L.TextVectorization(vocabulary=["the", "cat", "sat"], output_mode="multi_hot",
                                                                 standardize="lower", ngrams=2), "string"),
    "dense": ({"type": "dense", "units": 7, "activation": "relu", "kernel_regularizer": {"l1": 0.001},
               "bias_regularizer": {"l2": 0.01}, "activity_regularizer": {"l1": 0.002, "l2": 0.003}},
              [5], lambda: L.Dense(7, activation="relu", kernel_regularizer=R.l1(0.001), bias_regularizer=R.l2(0.01),
                                   activity_regularizer=R.l1_l2(l1=0.002, l2=0.003))),
    "conv1d": ({"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
               [10, 2], lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    "conv2d": ({"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "strides": 2, "kernel_regularizer": {"l2": 0.1},
                "kernel_initializer": "he_normal", "kernel_constraint": "max_norm"},
               [9, 9, 3], lambda: L.Conv2D(4, (3, 2), strides=2, kernel_regularizer=R.l2(0.1),
                                           kernel_initializer="he_normal", kernel_constraint="max_norm")),
    "conv3d": ({"type": "conv3d", "filters": 2, "kernel_size": 2, "groups": 1}, [4, 4, 4, 2], lambda: L.Conv3D(2, 2)),
    "conv2d_transpose": ({"type": "conv2d_transpose", "filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1},
                         [5, 5, 2], lambda: L.Conv2DTranspose(3, 3, strides=2, output_padding=1)),
    "separable_conv2d": ({"type": "separable_conv2d", "filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                          "pointwise_regularizer": {"l1": 0.01}},
                         [8, 8, 3], lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, pointwise_regularizer=R.l1(0.01))),
    "depthwise_conv2d": ({"type": "depthwise_conv2d", "kernel_size": 3, "padding": "same", "depthwise_regularizer": {"l2": 0.1}},
                         [8, 8, 3], lambda: L.DepthwiseConv2D(3, padding="same", depthwise_regularizer=R.l2(0.1))),
    "max_pooling1d": ({"type": "max_pooling1d", "pool_size": 3}, [9, 2], lambda: L.MaxPooling1D(3)),
    "max_pooling2d": ({"type": "max_pooling2d", "pool_size": 2}, [9, 9, 2], lambda: L.MaxPooling2D(pool_size=(2, 2))),
    "max_pooling3d": ({"type": "max_pooling3d", "pool_size": 2, "padding": "same"}, [5, 5, 5, 1],
                      lambda: L.MaxPooling3D(2, padding="same")),
    "average_pooling1d": ({"type": "average_pooling1d", "pool_size": 2, "strides": 1}, [9, 2],
                          lambda: L.AveragePooling1D(2, strides=1)),
    "average_pooling2d": ({"type": "average_pooling2d", "pool_size": [2, 3]}, [9, 9, 2], lambda: L.AveragePooling2D((2, 3))),
    "average_pooling3d": ({"type": "average_pooling3d", "pool_size": 2}, [4, 4, 4, 1], lambda: L.AveragePooling3D(2)),
    "global_max_pooling1d": ({"type": "global_max_pooling1d"}, [5, 3], lambda: L.GlobalMaxPooling1D()),
    "global_max_pooling2d": ({"type": "global_max_pooling2d", "keepdims": True}, [5, 5, 3],
                             lambda: L.GlobalMaxPooling2D(keepdims=True)),
    "global_max_pooling3d": ({"type": "global_max_pooling3d"}, [3, 3, 3, 2], lambda: L.GlobalMaxPooling3D()),
    "global_average_pooling1d": ({"type": "global_average_pooling1d"}, [5, 3], lambda: L.GlobalAveragePooling1D()),
    "global_average_pooling2d": ({"type": "global_average_pooling2d"}, [5, 5, 3], lambda: L.GlobalAveragePooling2D()),
    "global_average_pooling3d": ({"type": "global_average_pooling3d"}, [3, 3, 3, 2], lambda: L.GlobalAveragePooling3D()),
    "flatten": ({"type": "flatten"}, [3, 4], lambda: L.Flatten()),
    "reshape": ({"type": "reshape", "target_shape": [-1, 2]}, [3, 4], lambda: L.Reshape((-1, 2))),
    "activation": ({"type": "activation", "activation": "gelu"}, [3], lambda: L.Activation("gelu")),
    "embedding": ({"type": "embedding", "input_dim": 50, "output_dim": 4, "embeddings_regularizer": {"l2": 0.001}},
                  [6], lambda: L.Embedding(50, 4, embeddings_regularizer=R.l2(0.001))),
    "dropout": ({"type": "dropout", "rate": 0.25}, [3], lambda: L.Dropout(0.25)),
    "spatial_dropout1d": ({"type": "spatial_dropout1d", "rate": 0.2}, [5, 3], lambda: L.SpatialDropout1D(0.2)),
    "spatial_dropout2d": ({"type": "spatial_dropout2d", "rate": 0.2}, [5, 5, 3], lambda: L.SpatialDropout2D(0.2)),
    "gaussian_noise": ({"type": "gaussian_noise", "stddev": 0.1}, [3], lambda: L.GaussianNoise(0.1)),
    "batch_normalization": ({"type": "batch_normalization", "momentum": 0.9, "gamma_regularizer": {"l2": 0.01}}, [4, 3],
                            lambda: L.BatchNormalization(momentum=0.9, gamma_regularizer=R.l2(0.01))),
    "layer_normalization": ({"type": "layer_normalization", "center": False}, [4, 3],
                            lambda: L.LayerNormalization(center=False)),
    "simple_rnn": ({"type": "simple_rnn", "units": 3, "return_sequences": True}, [5, 2],
                   lambda: L.SimpleRNN(3, return_sequences=True)),
    "lstm": ({"type": "lstm", "units": 3, "recurrent_regularizer": {"l2": 0.01}, "dropout": 0.1}, [5, 2],
             lambda: L.LSTM(3, recurrent_regularizer=R.l2(0.01), dropout=0.1)),
    "gru": ({"type": "gru", "units": 3, "reset_after": False}, [5, 2], lambda: L.GRU(3, reset_after=False)),
    "conv_lstm2d": ({"type": "conv_lstm2d", "filters": 3, "kernel_size": [3, 2], "padding": "same", "strides": [1, 2],
                     "dropout": 0.1, "recurrent_regularizer": {"l2": 0.01}, "return_sequences": True}, [4, 6, 5, 2],
                    lambda: L.ConvLSTM2D(3, (3, 2), padding="same", strides=(1, 2), dropout=0.1,
                                         recurrent_regularizer=R.l2(0.01), return_sequences=True)),
    "bidirectional": ({"type": "bidirectional", "layer": {"type": "gru", "units": 3}, "merge_mode": "sum"}, [5, 2],
                      lambda: L.Bidirectional(L.GRU(3), merge_mode="sum")),
    "rescaling": ({"type": "rescaling", "scale": 0.5, "offset": -1.0}, [3], lambda: L.Rescaling(0.5, offset=-1.0)),
    "normalization": ({"type": "normalization", "mean": [1.0, 2.0], "variance": [1.0, 4.0]}, [2],
                      lambda: L.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])),
    "normalization_adapted": ({"type": "normalization"}, [3], lambda: L.Normalization()),
    "resizing": ({"type": "resizing", "height": 4, "width": 6}, [8, 8, 3], lambda: L.Resizing(4, 6)),
    "random_flip": ({"type": "random_flip", "mode": "horizontal", "seed": 1}, [8, 8, 3],
                    lambda: L.RandomFlip("horizontal", seed=1)),
    "random_rotation": ({"type": "random_rotation", "factor": 0.1}, [8, 8, 3], lambda: L.RandomRotation(0.1)),
    "random_zoom": ({"type": "random_zoom", "height_factor": [-0.2, 0.2]}, [8, 8, 3], lambda: L.RandomZoom((-0.2, 0.2))),
    "random_translation": ({"type": "random_translation", "height_factor": 0.1, "width_factor": 0.2}, [8, 8, 3],
                           lambda: L.RandomTranslation(0.1, 0.2)),
    "random_shear": ({"type": "random_shear", "x_factor": 0.2}, [8, 8, 3], lambda: L.RandomShear(x_factor=0.2)),
    "random_contrast": ({"type": "random_contrast", "factor": 0.3}, [8, 8, 3], lambda: L.RandomContrast(0.3)),
    "random_brightness": ({"type": "random_brightness", "factor": 0.1}, [8, 8, 3], lambda: L.RandomBrightness(0.1)),
    "re_lu": ({"type": "re_lu", "max_value": 6.0}, [4], lambda: L.ReLU(max_value=6.0)),
    "leaky_re_lu": ({"type": "leaky_re_lu", "negative_slope": 0.1}, [4], lambda: L.LeakyReLU(negative_slope=0.1)),
    "p_re_lu": ({"type": "p_re_lu", "shared_axes": [1, 2]}, [5, 5, 3], lambda: L.PReLU(shared_axes=[1, 2])),
    "elu": ({"type": "elu", "alpha": 0.5}, [4], lambda: L.ELU(alpha=0.5)),
    "softmax": ({"type": "softmax", "axis": 1}, [3, 4], lambda: L.Softmax(axis=1)),
    "zero_padding1d": ({"type": "zero_padding1d", "padding": [1, 2]}, [5, 3], lambda: L.ZeroPadding1D((1, 2))),
    "zero_padding2d": ({"type": "zero_padding2d", "padding": [[1, 0], [2, 3]]}, [5, 5, 3],
                       lambda: L.ZeroPadding2D(((1, 0), (2, 3)))),
    "cropping1d": ({"type": "cropping1d", "cropping": 2}, [7, 3], lambda: L.Cropping1D(2)),
    "cropping2d": ({"type": "cropping2d", "cropping": [1, 2]}, [7, 7, 3], lambda: L.Cropping2D((1, 2))),
    "up_sampling1d": ({"type": "up_sampling1d", "size": 3}, [4, 2], lambda: L.UpSampling1D(3)),
    "up_sampling2d": ({"type": "up_sampling2d", "size": [2, 3], "interpolation": "bilinear"}, [4, 4, 2],
                      lambda: L.UpSampling2D((2, 3), interpolation="bilinear")),
    "conv1d_transpose": ({"type": "conv1d_transpose", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
                         [5, 2], lambda: L.Conv1DTranspose(3, 3, strides=2, padding="same")),
    "conv3d_transpose": ({"type": "conv3d_transpose", "filters": 2, "kernel_size": 2, "strides": 2,
                          "kernel_regularizer": {"l2": 0.01}}, [3, 3, 3, 1],
                         lambda: L.Conv3DTranspose(2, 2, strides=2, kernel_regularizer=R.l2(0.01))),
    "permute": ({"type": "permute", "dims": [2, 1]}, [3, 4], lambda: L.Permute((2, 1))),
    "repeat_vector": ({"type": "repeat_vector", "n": 3}, [4], lambda: L.RepeatVector(3)),
    "identity": ({"type": "identity"}, [4], lambda: L.Identity()),
    "masking": ({"type": "masking", "mask_value": -1.0}, [5, 2], lambda: L.Masking(mask_value=-1.0)),
    "time_distributed": ({"type": "time_distributed", "layer": {"type": "dense", "units": 3, "activation": "relu"}},
                         [5, 4], lambda: L.TimeDistributed(L.Dense(3, activation="relu"))),
    # The kinds added for the models people write (issue 20).
    "gaussian_dropout": ({"type": "gaussian_dropout", "rate": 0.3, "seed": 2}, [4], lambda: L.GaussianDropout(0.3, seed=2)),
    "alpha_dropout": ({"type": "alpha_dropout", "rate": 0.1, "noise_shape": [None, 1]}, [3, 4],
                      lambda: L.AlphaDropout(0.1, noise_shape=(None, 1))),
    "spatial_dropout3d": ({"type": "spatial_dropout3d", "rate": 0.2}, [3, 3, 3, 2], lambda: L.SpatialDropout3D(0.2)),
    "activity_regularization": ({"type": "activity_regularization", "l1": 0.01, "l2": 0.001}, [4],
                                lambda: L.ActivityRegularization(l1=0.01, l2=0.001)),
    "group_normalization": ({"type": "group_normalization", "groups": 2, "gamma_regularizer": {"l2": 0.01}}, [5, 6],
                            lambda: L.GroupNormalization(groups=2, gamma_regularizer=R.l2(0.01))),
    "group_normalization_instance": ({"type": "group_normalization", "groups": -1, "center": False}, [4, 4, 3],
                                     lambda: L.GroupNormalization(groups=-1, center=False)),
    "rms_normalization": ({"type": "rms_normalization", "epsilon": 1e-5}, [5, 6], lambda: L.RMSNormalization(epsilon=1e-5)),
    "unit_normalization": ({"type": "unit_normalization", "axis": [1, 2]}, [5, 6], lambda: L.UnitNormalization(axis=[1, 2])),
    "up_sampling3d": ({"type": "up_sampling3d", "size": [1, 2, 3]}, [2, 3, 4, 2], lambda: L.UpSampling3D((1, 2, 3))),
    "zero_padding3d": ({"type": "zero_padding3d", "padding": [[1, 0], [0, 2], [1, 1]]}, [2, 3, 4, 2],
                       lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))),
    "cropping3d": ({"type": "cropping3d", "cropping": [1, 0, 2]}, [4, 4, 6, 2], lambda: L.Cropping3D((1, 0, 2))),
    "separable_conv1d": ({"type": "separable_conv1d", "filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                          "depthwise_regularizer": {"l2": 0.01}, "padding": "same"},
                         [9, 3], lambda: L.SeparableConv1D(4, 3, depth_multiplier=2, depthwise_regularizer=R.l2(0.01),
                                                           padding="same")),
    "depthwise_conv1d": ({"type": "depthwise_conv1d", "kernel_size": 3, "strides": 2, "depth_multiplier": 3}, [9, 2],
                         lambda: L.DepthwiseConv1D(3, strides=2, depth_multiplier=3)),
    "conv_lstm1d": ({"type": "conv_lstm1d", "filters": 3, "kernel_size": 2, "return_sequences": True}, [4, 6, 2],
                    lambda: L.ConvLSTM1D(3, 2, return_sequences=True)),
    "conv_lstm3d": ({"type": "conv_lstm3d", "filters": 2, "kernel_size": [2, 2, 1], "padding": "same"}, [3, 4, 4, 3, 1],
                    lambda: L.ConvLSTM3D(2, (2, 2, 1), padding="same")),
    "einsum_dense": ({"type": "einsum_dense", "equation": "abc,cd->abd", "output_shape": [None, 5], "bias_axes": "d",
                      "kernel_regularizer": {"l2": 0.01}}, [4, 3],
                     lambda: L.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d", kernel_regularizer=R.l2(0.01))),
    "einsum_dense_ellipsis": ({"type": "einsum_dense", "equation": "...b,bc->...c", "output_shape": 6, "activation": "relu"},
                              [2, 3, 4], lambda: L.EinsumDense("...b,bc->...c", output_shape=6, activation="relu")),
    "spectral_normalization": ({"type": "spectral_normalization", "layer": {"type": "conv2d", "filters": 4, "kernel_size": 3},
                                "power_iterations": 2}, [8, 8, 3],
                               lambda: L.SpectralNormalization(L.Conv2D(4, 3), power_iterations=2)),
}


def kind_of(case: str) -> str:
    """The layer kind of a case ("group_normalization_instance": a second case of one kind)."""
    return next((case[: -len(v)] for v in ("_adapted", "_instance", "_ellipsis") if case.endswith(v)), case)


def spec_for(layer: dict, shape: list, dtype: str = "float32") -> object:
    data = {"regspec": 1, "name": "t", "input": {"shape": shape, "dtype": dtype}, "layers": [layer],
            "compile": {"loss": "mse"}}
    return from_document(Document("t.yaml", data))


def config(layer) -> dict:
    c = layer.get_config()
    c.pop("name", None)
    for wrapped in ("layer", "backward_layer"):  # Bidirectional, TimeDistributed: generated names too
        if wrapped in c:
            c[wrapped]["config"].pop("name", None)
    return c


# Layers that take several inputs: (spec layer, input shapes, the hand-written layer, how Keras calls it)
MULTI = {
    "add": ({"type": "add"}, [[4, 3], [4, 3]], lambda: L.Add()),
    "subtract": ({"type": "subtract"}, [[4], [4]], lambda: L.Subtract()),
    "multiply": ({"type": "multiply"}, [[4], [1], [4]], lambda: L.Multiply()),
    "average": ({"type": "average"}, [[2, 3], [2, 3]], lambda: L.Average()),
    "maximum": ({"type": "maximum"}, [[5], [5]], lambda: L.Maximum()),
    "minimum": ({"type": "minimum"}, [[5], [5]], lambda: L.Minimum()),
    "concatenate": ({"type": "concatenate", "axis": 1}, [[2, 3], [4, 3]], lambda: L.Concatenate(axis=1)),
    "dot": ({"type": "dot", "axes": 1, "normalize": True}, [[4], [4]], lambda: L.Dot(axes=1, normalize=True)),
    "attention": ({"type": "attention", "use_scale": True}, [[5, 4], [6, 4]], lambda: L.Attention(use_scale=True)),
    "multi_head_attention": ({"type": "multi_head_attention", "num_heads": 2, "key_dim": 3, "value_dim": 5,
                              "kernel_regularizer": {"l2": 0.01}}, [[5, 4], [6, 8]],
                             lambda: L.MultiHeadAttention(2, 3, value_dim=5, kernel_regularizer=R.l2(0.01))),
    "additive_attention": ({"type": "additive_attention", "dropout": 0.1}, [[5, 4], [6, 4]],
                           lambda: L.AdditiveAttention(dropout=0.1)),
}


def multi_spec_for(layer: dict, shapes: list) -> object:
    names = [f"in{i}" for i in range(len(shapes))]
    data = {"regspec": 1, "name": "t", "inputs": [{"name": n, "shape": s} for n, s in zip(names, shapes)],
            "layers": [dict(layer, name="merged", inputs=names)], "compile": {"loss": "mse"}}
    return from_document(Document("t.yaml", data))


# Each regularizer kind (spec value) and the Keras regularizer a person writes by hand.
REGULARIZERS = {
    "l1": ({"l1": 0.01}, lambda: R.L1(0.01)),
    "l2": ({"l2": 0.02}, lambda: R.L2(0.02)),
    "l1_l2": ({"l1": 0.01, "l2": 0.02}, lambda: R.L1L2(l1=0.01, l2=0.02)),
    "orthogonal": ({"orthogonal": 0.02, "mode": "columns"}, lambda: R.OrthogonalRegularizer(factor=0.02, mode="columns")),
    "orthogonal_rows": ({"orthogonal": 0.5}, lambda: R.OrthogonalRegularizer(factor=0.5)),
}


@pytest.mark.parametrize("kind", sorted(REGULARIZERS))
def test_regularizer_kind_compiles_like_hand_written_keras(kind):
    value, hand = REGULARIZERS[kind]
    data = {"regspec": 1, "name": "t", "input": {"shape": [5]}, "compile": {"loss": "mse"},
            "layers": [{"type": "dense", "units": 4, "kernel_regularizer": value}]}
    ours = build_model(from_document(Document("t.yaml", data)).program).layers[-1].kernel_regularizer
    theirs = hand()
    assert type(ours) is type(theirs) and ours.get_config() == theirs.get_config()


def test_every_layer_kind_has_a_hand_written_twin():
    # Twins elsewhere: the operations in tests/test_operations.py, reuse in tests/test_models_people_write.py.
    elsewhere = {tag for tag in LAYERS if tag.startswith("ops.")} | {"reuse"}
    assert set(LAYERS) - {"input"} - elsewhere == {kind_of(case) for case in CASES} | set(MULTI)


@pytest.mark.parametrize("kind", sorted(MULTI))
def test_multi_input_layer_compiles_like_hand_written_keras(kind):
    layer, shapes, hand = MULTI[kind]
    spec = multi_spec_for(layer, shapes)
    built = build_model(spec.program)
    ours = built.get_layer("merged")
    inputs = [k.Input(shape=tuple(s)) for s in shapes]
    theirs = hand()
    out = theirs(*inputs) if kind == "multi_head_attention" else theirs(inputs)
    theirs_model = k.Model(inputs, out)
    assert type(ours) is type(theirs)
    assert config(ours) == config(theirs)
    assert built.count_params() == theirs_model.count_params()
    row = spec.summary_rows()[-1]
    assert (None,) + tuple(row.output_shape) == tuple(ours.output.shape)
    assert row.trainable + row.non_trainable == ours.count_params()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_layer_compiles_like_hand_written_keras(kind):
    layer, shape, hand, *dtype = CASES[kind]  # a fourth item: the input's dtype (strings, integers)
    spec = spec_for(layer, shape, *dtype)
    built = build_model(spec.program)
    ours = built.layers[-1]
    theirs_model = k.Sequential([k.Input(shape=tuple(shape), dtype=(dtype or ["float32"])[0]), hand()])
    theirs = theirs_model.layers[-1]
    assert type(ours) is type(theirs)
    assert config(ours) == config(theirs)
    assert built.count_params() == theirs_model.count_params()
    # The static summary (no TensorFlow) agrees with Keras on shape and parameters.
    row = spec.summary_rows()[-1]
    assert (None,) + tuple(row.output_shape) == tuple(ours.output.shape)
    assert row.trainable + row.non_trainable == ours.count_params()


def test_keras_refusal_is_reported_at_the_layer_line(monkeypatch):
    from regspec.diagnostics import SpecError
    from regspec.lang.layers.preprocessing import Normalization

    data = {"regspec": 1, "name": "t", "input": {"shape": [4]}, "compile": {"loss": "mse"},
            "layers": [{"type": "dense", "units": 3}, {"type": "normalization", "mean": [1.0, 2.0], "variance": [1.0, 1.0]}]}
    doc = Document("t.yaml", data, values={("layers", 1): ("t.yaml", 9, 5)})
    with pytest.raises(SpecError) as info:
        from_document(doc)  # the static check sees it first
    assert info.value.diagnostics[0].message == "mean has 2 values for 3 features"
    # Where static inference has a gap, Keras' own refusal lands on the same line.
    monkeypatch.setattr(Normalization, "infer", lambda self, shape: (shape, 0, 0))
    with pytest.raises(SpecError) as info:
        build_model(from_document(doc).program)
    d = info.value.diagnostics[0]
    assert (d.line, d.column, d.path) == (9, 5, "layers[1]")
    assert d.message.startswith("Keras refused to build normalization:")


def test_initializer_activation_and_constraint_names_all_resolve_in_keras():
    import typing

    from regspec.lang.types import INITIALIZER_CLASSES, Activation, Constraint, InitializerName

    for name in typing.get_args(Activation):
        assert k.activations.get(name) is not None, name
    for name, cls in INITIALIZER_CLASSES.items():  # the written-out form: {type: name, ...arguments}
        assert isinstance(getattr(k.initializers, cls)(), k.initializers.Initializer), name
    for name in typing.get_args(InitializerName):
        assert k.initializers.get(name) is not None, name
    for name in typing.get_args(Constraint):
        assert k.constraints.get(name) is not None, name


def test_type_tags_are_keras_snake_case():
    from keras.src.utils.naming import to_snake_case

    from regspec.lang.layers.operations import Operation

    special = {"input": "input_layer", "activation": "activation", "simple_rnn": "simple_rnn"}
    for tag, cls in LAYERS.items():
        if issubclass(cls, Operation):  # an operation is named by its keras.ops function
            assert tag == f"ops.{cls.function}" and callable(getattr(k.ops, cls.function)), tag
        elif tag != "reuse":  # reuse calls another layer: no Keras class of its own
            assert special.get(tag, tag) == to_snake_case(cls.keras_class), (tag, cls.keras_class)


@pytest.mark.parametrize("metric", __import__("typing").get_args(__import__("regspec.lang.compile", fromlist=["x"]).MetricName))
def test_monitorable_names_are_keras_history_keys(metric):
    """The static monitor check must accept exactly what Keras logs, for every metric allowed."""
    import numpy as np

    from regspec.frontend.checks import history_keys

    sparse = metric.startswith("sparse")
    data = {"regspec": 1, "name": "t", "input": {"shape": [2]}, "layers": [{"type": "dense", "units": 3,
            "activation": "softmax"}], "compile": {"loss": "sparse_categorical_crossentropy" if sparse else
                                                   "categorical_crossentropy", "metrics": [metric]}}
    spec = from_document(Document("t.yaml", data))
    from regspec.backend.keras.build import compile_model

    model = compile_model(spec.program)
    y = np.array([0, 1, 2, 0]) if sparse else np.eye(3)[[0, 1, 2, 0]]
    x = np.zeros((4, 2), dtype="float32")
    history = model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert sorted(history.history) == sorted(history_keys(spec.resolved))
