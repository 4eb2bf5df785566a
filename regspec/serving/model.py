"""The serving model: the run's preprocessing as Keras layers in front of its trained model.

One implementation of the preprocessing for predict, evaluate and every export format, built
from layers that serialize and load in Keras safe mode (no Lambda): standardization is a
``Rescaling`` with per-feature scale ``1/s`` and offset ``-m/s``; ``rescale`` is a ``Rescaling``;
a ``Reshape`` maps the data's example shape to the model's input shape when they differ.
"""

from __future__ import annotations

import math
from typing import Any

from regspec.diagnostics import safe
from regspec.serving.record import Run, refuse


def load_trained(run: Run) -> Any:
    """The run's model, loaded the safe way (Keras safe mode: no lambdas, no arbitrary code)."""
    from regspec.backend.keras.env import keras

    try:
        model = keras().saving.load_model(run.model_path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: name it, no traceback
        raise refuse(run.model_path, f"cannot be loaded ({type(exc).__name__}: {safe(' '.join(str(exc).split()), 160)})",
                     "Keras safe mode refuses code in model files; a damaged file needs a new training") from None
    if run.prep.named is not None:
        from regspec.serving.named import input_names, output_names

        ins, outs = sorted(input_names(model)), sorted(output_names(model))
        if ins != sorted(run.prep.named.inputs) or outs != sorted(run.prep.named.outputs):
            raise refuse(run.model_path, f"the model's inputs {ins} and outputs {outs} are not those "
                         "preprocessing.json names", "the run directory was edited: train it again")
        return model
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise refuse(run.model_path, f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                     "predict, evaluate and export take models with one of each",
                     "regspec's data sources feed one input and one label per example")
    want = tuple(run.prep.input_shape)
    have = tuple(model.inputs[0].shape[1:])
    if have != want:
        raise refuse(run.model_path, f"the model takes {list(have)} but preprocessing.json says {list(want)}",
                     "the run directory was edited: train it again")
    return model


def preprocessing_layers(run: Run) -> list[Any]:
    from regspec.backend.keras.env import keras

    layers = keras().layers
    prep = run.prep
    out: list[Any] = []
    if prep.mean is not None and prep.scale is not None:
        shape = prep.raw_shape
        scale = [1.0 / s for s in prep.scale]
        offset = [-m / s for m, s in zip(prep.mean, prep.scale)]
        if len(shape) > 1:  # per-element statistics of a multi-dimensional example
            import numpy as np

            scale = np.reshape(scale, shape).tolist()
            offset = np.reshape(offset, shape).tolist()
        out.append(layers.Rescaling(scale=scale, offset=offset, name="standardize"))
    if prep.rescale is not None:
        out.append(layers.Rescaling(scale=prep.rescale, name="rescale"))
    if tuple(prep.raw_shape) != tuple(prep.input_shape):
        if None in prep.input_shape or math.prod(prep.raw_shape) != math.prod(d or 0 for d in prep.input_shape):
            raise refuse(run.run_dir, f"preprocessing.json: examples of shape {list(prep.raw_shape)} cannot feed "
                         f"the input {list(prep.input_shape)}")
        out.append(layers.Reshape(tuple(prep.input_shape), name="to_input_shape"))
    return out


def serving_model(run: Run, trained: Any) -> Any:
    """Raw examples in (features as read, pixels as decoded), the trained model's output out;
    for named inputs, a dict of them in and a dict of named outputs out."""
    from regspec.backend.keras.env import keras

    if run.prep.named is not None:
        from regspec.serving.named import dict_model

        return dict_model(trained)
    raw, x = _preprocessed(run, "pixels" if run.prep.image is not None else "features")
    return keras().Model(raw, trained(x), name=f"{trained.name}_serving")


def preprocessor(run: Run) -> Any:
    """Raw examples in, the trained model's input out (evaluate runs the trained model on it)."""
    from regspec.backend.keras.env import keras

    return keras().Model(*_preprocessed(run, None))


def _preprocessed(run: Run, name: str | None) -> tuple[Any, Any]:
    """The raw input tensor, and what the preprocessing layers make of it."""
    from regspec.backend.keras.env import keras

    raw = keras().Input(shape=run.prep.raw_shape, dtype="float32", name=name)
    x = raw
    for layer in preprocessing_layers(run):
        x = layer(x)
    return raw, x
