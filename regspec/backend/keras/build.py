"""Build the Keras model and its compile arguments from a resolved spec.

Every layer is built by calling its Keras class with the spec's arguments;
user data is never handed to Keras' deserialization.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from regspec.api import Spec
from regspec.backend.keras.env import keras
from regspec.diagnostics import Diagnostic, SpecError
from regspec.lang.layers import Layer
from regspec.lang.types import Regularizer
from regspec.paths import format_path

OPTIMIZERS = {
    "sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
    "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam",
}
SCHEDULES = {
    "exponential_decay": "ExponentialDecay", "inverse_time_decay": "InverseTimeDecay",
    "cosine_decay": "CosineDecay", "polynomial_decay": "PolynomialDecay",
    "piecewise_constant_decay": "PiecewiseConstantDecay",
}
LOSSES = {
    "binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
}


def regularizer(r: Regularizer | None) -> Any:
    """L1, L2 or L1L2, matching what `regularizers.l1(x)` etc. give in hand-written code."""
    if r is None:
        return None
    k = keras()
    if r.l2 is None:
        return k.regularizers.L1(r.l1)
    if r.l1 is None:
        return k.regularizers.L2(r.l2)
    return k.regularizers.L1L2(l1=r.l1, l2=r.l2)


def _convert(value: Any) -> Any:
    if isinstance(value, Regularizer):
        return regularizer(value)
    if isinstance(value, Layer):
        return build_layer(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def build_layer(layer: Layer) -> Any:
    cls = getattr(keras().layers, layer.keras_class)
    return cls(**{k: _convert(v) for k, v in layer.keras_arguments().items()})


def build_model(spec: Spec) -> Any:
    """A Sequential model; a Keras refusal becomes a diagnostic at the layer's line."""
    k = keras()
    resolved = spec.resolved
    model = k.Sequential(name=resolved.name)
    model.add(k.Input(shape=tuple(resolved.input.shape)))  # type: ignore[union-attr]
    for i, layer in enumerate(resolved.layers):
        path = spec.origins[i]
        try:
            model.add(build_layer(layer))
        except Exception as exc:  # noqa: BLE001 - Keras and TensorFlow raise many kinds; all mean "refused"
            file, line, col = spec.document.position(path)
            message = " ".join(str(exc).split())
            problem = f"Keras refused to build {layer.type}: {message}"
            raise SpecError([Diagnostic(file, line, col, format_path(path), problem)]) from None
    return model


def _args(model: BaseModel) -> dict[str, Any]:
    return {k: getattr(model, k) for k in type(model).model_fields if k != "type"}


def optimizer(spec: Spec) -> Any:
    k = keras()
    opt = spec.resolved.compile.optimizer
    if isinstance(opt, str):
        return getattr(k.optimizers, OPTIMIZERS[opt])()
    args = _args(opt)
    lr = args.get("learning_rate")
    if isinstance(lr, BaseModel):
        args["learning_rate"] = getattr(k.optimizers.schedules, SCHEDULES[lr.type])(**_args(lr))  # type: ignore[attr-defined]
    return getattr(k.optimizers, OPTIMIZERS[opt.type])(**args)


def loss(spec: Spec) -> Any:
    value = spec.resolved.compile.loss
    if isinstance(value, str):
        return value
    return getattr(keras().losses, LOSSES[value.type])(**_args(value))


def compile_model(spec: Spec) -> Any:
    model = build_model(spec)
    model.compile(optimizer=optimizer(spec), loss=loss(spec), metrics=list(spec.resolved.compile.metrics))
    return model
