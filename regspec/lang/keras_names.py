"""Every layer class of keras.layers (Keras 3.15), snake_cased, so that a type regspec lacks is
told apart from a typo without importing Keras. A test keeps the list equal to Keras' own.
And the names Keras gives unnamed layers, made without Keras (``keras_snake``, ``NameMaker``)."""

import re

KERAS_LAYERS = frozenset({
    'activation', 'activity_regularization', 'adaptive_average_pooling1d', 'adaptive_average_pooling2d',
    'adaptive_average_pooling3d', 'adaptive_max_pooling1d', 'adaptive_max_pooling2d',
    'adaptive_max_pooling3d', 'add', 'additive_attention', 'alpha_dropout', 'attention', 'aug_mix',
    'auto_contrast', 'average', 'average_pooling1d', 'average_pooling2d', 'average_pooling3d', 'avg_pool1d',
    'avg_pool2d', 'avg_pool3d', 'batch_normalization', 'bidirectional', 'category_encoding', 'center_crop',
    'concatenate', 'contrast_limited_adaptive_histogram_equalization', 'conv1d', 'conv1d_transpose', 'conv2d',
    'conv2d_transpose', 'conv3d', 'conv3d_transpose', 'conv_lstm1d', 'conv_lstm2d', 'conv_lstm3d',
    'convolution1d', 'convolution1d_transpose', 'convolution2d', 'convolution2d_transpose', 'convolution3d',
    'convolution3d_transpose', 'cropping1d', 'cropping2d', 'cropping3d', 'cut_mix', 'dense',
    'depthwise_conv1d', 'depthwise_conv2d', 'discretization', 'dot', 'dropout', 'einsum_dense', 'elu',
    'embedding', 'equalization', 'flatten', 'flax_layer', 'gaussian_dropout', 'gaussian_noise',
    'global_average_pooling1d', 'global_average_pooling2d', 'global_average_pooling3d', 'global_avg_pool1d',
    'global_avg_pool2d', 'global_avg_pool3d', 'global_max_pool1d', 'global_max_pool2d', 'global_max_pool3d',
    'global_max_pooling1d', 'global_max_pooling2d', 'global_max_pooling3d', 'group_normalization',
    'group_query_attention', 'gru', 'gru_cell', 'hashed_crossing', 'hashing', 'identity', 'input_layer',
    'integer_lookup', 'jax_layer', 'lambda', 'layer', 'layer_normalization', 'leaky_re_lu', 'lstm',
    'lstm_cell', 'masking', 'max_num_bounding_boxes', 'max_pool1d', 'max_pool2d', 'max_pool3d',
    'max_pooling1d', 'max_pooling2d', 'max_pooling3d', 'maximum', 'mel_spectrogram', 'minimum', 'mix_up',
    'multi_head_attention', 'multiply', 'normalization', 'p_re_lu', 'permute', 'pipeline', 'rand_augment',
    'random_brightness', 'random_color_degeneration', 'random_color_jitter', 'random_contrast', 'random_crop',
    'random_elastic_transform', 'random_erasing', 'random_flip', 'random_gaussian_blur', 'random_grayscale',
    'random_hue', 'random_invert', 'random_perspective', 'random_posterization', 'random_rotation',
    'random_saturation', 'random_sharpness', 'random_shear', 'random_translation', 'random_zoom', 're_lu',
    'repeat_vector', 'rescaling', 'reshape', 'resizing', 'reversible_embedding', 'rms_normalization', 'rnn',
    'separable_conv1d', 'separable_conv2d', 'separable_convolution1d', 'separable_convolution2d',
    'simple_rnn', 'simple_rnn_cell', 'softmax', 'solarization', 'spatial_dropout1d', 'spatial_dropout2d',
    'spatial_dropout3d', 'spectral_normalization', 'stacked_rnn_cells', 'stft_spectrogram', 'string_lookup',
    'subtract', 'text_vectorization', 'tfsm_layer', 'time_distributed', 'torch_module_wrapper',
    'unit_normalization', 'up_sampling1d', 'up_sampling2d', 'up_sampling3d', 'wrapper', 'zero_padding1d',
    'zero_padding2d', 'zero_padding3d',
})

#: Keras layers that run arbitrary code or foreign modules: a spec never builds them.
CODE_LAYERS = frozenset({"lambda", "tfsm_layer", "jax_layer", "flax_layer", "torch_module_wrapper", "layer", "wrapper"})


def keras_snake(class_name: str) -> str:
    """A class name as Keras snake_cases it for auto names (keras.src.utils.naming.to_snake_case)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class NameMaker:
    """The names a fresh Keras process gives unnamed layers and operations, in creation order:
    the snake_cased class, then `_1`, `_2`, ... per class name (a layer and an operation of one
    name, `add`, count together). A name already taken (given in the spec) is skipped, where
    Keras would build a model whose names collide."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.counts: dict[str, int] = {}

    def next(self, class_name: str) -> str:
        base = keras_snake(class_name)
        while True:
            k = self.counts.get(base, 0)
            self.counts[base] = k + 1
            name = base if k == 0 else f"{base}_{k}"
            if name not in self.taken:
                self.taken.add(name)
                return name
