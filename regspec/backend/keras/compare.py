"""Compare two built Keras models layer by layer: what import -> spec -> compile must preserve."""

from __future__ import annotations

import re
from typing import Any

from regspec.lang.keras_names import keras_snake


def described(model: Any, *, names: bool = False) -> list[tuple]:
    """(name, class, config without name, names of inbound layers) per layer.

    ``names``: every name as it is, the inputs' too (a model saved by a fresh process against
    its round trip). Else inputs are compared by shape and dtype, not name, and a name Keras
    generated (conv2d_7: the number depends on what the process built before) stands as its
    position.
    """
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]  # Sequential lists none
    ops = [op for op in getattr(model, "operations", []) if op not in layers and type(op).__name__ != "InputLayer"]
    if names:
        out: list[tuple] = [(t._keras_history.operation.name, tuple(t.shape), str(t.dtype)) for t in model.inputs]
        return out + [(op.name, type(op).__name__) for op in ops] + _layers(layers, {})
    rename = {t._keras_history.operation.name: f"input{i}" for i, t in enumerate(model.inputs)}
    for i, layer in enumerate(layers):
        if re.fullmatch(re.escape(keras_snake(type(layer).__name__)) + r"(_\d+)?", layer.name):
            rename[layer.name] = f"#{i}"
    for j, op in enumerate(ops):  # an operation node (`x + 3.0`): by its place among the operations
        rename[op.name] = f"op{j}:{type(op).__name__}"  # (Keras code cannot name one: no name to compare)
    out = [(f"input{i}", tuple(t.shape), str(t.dtype)) for i, t in enumerate(model.inputs)]
    return out + _layers(layers, rename)


def _layers(layers: list[Any], rename: dict[str, str]) -> list[tuple]:
    out: list[tuple] = []
    for layer in layers:
        config = layer.get_config()
        config.pop("name", None)
        for wrapped in ("layer", "backward_layer"):
            if isinstance(config.get(wrapped), dict):
                config[wrapped]["config"].pop("name", None)
        nodes = layer._inbound_nodes
        inbound = tuple(rename.get(t._keras_history.operation.name, t._keras_history.operation.name)
                        for t in nodes[0].input_tensors) if nodes else ()
        out.append((rename.get(layer.name, layer.name), type(layer).__name__, config, inbound))
    return out


def differences(ours: Any, theirs: Any, *, outputs: bool = True, names: bool = False) -> list[str]:
    """What differs between two models (empty: the same model), including outputs on the same
    input once ``theirs``' weights are copied into ``ours``."""
    import numpy as np

    a, b = described(ours, names=names), described(theirs, names=names)
    out = []
    if len(a) != len(b):
        out.append(f"{len(a)} layers vs {len(b)}")
    for x, y in zip(a, b):
        if x != y:
            out.append(f"layer {x[0]} ({x[1]}) differs from {y[0]} ({y[1]})")
            break
    if ours.count_params() != theirs.count_params():
        out.append(f"{ours.count_params():,} parameters vs {theirs.count_params():,}")
    if outputs and not out:
        ours.set_weights(theirs.get_weights())
        rng = np.random.default_rng(0)
        xs = [_example(rng, (1, *[d or 32 for d in t.shape[1:]]), str(t.dtype)) for t in theirs.inputs]
        xs_in = xs if len(xs) > 1 else xs[0]
        try:
            pa, pb = ours.predict(xs_in, verbose=0), theirs.predict(xs_in, verbose=0)
        except Exception as exc:  # noqa: BLE001 - TensorFlow's and Keras' own kinds
            # A preprocessing layer not adapted yet (no vocabulary, no bins) computes nothing:
            # the structure above is what there is to compare.
            if "adapt" in str(exc) or type(exc).__name__ == "FailedPreconditionError":
                return out
            raise
        for p, q in zip(pa if isinstance(pa, list) else [pa], pb if isinstance(pb, list) else [pb]):
            if not np.allclose(p, q, rtol=1e-4, atol=1e-5):
                out.append(f"outputs differ by up to {float(np.max(np.abs(p - q))):.3g}")
    return out


def _example(rng: Any, shape: tuple[int, ...], dtype: str) -> Any:
    """A random input of ``dtype``: words for strings, small ids for integers."""

    if dtype == "string":  # a tensor: Keras' data adapters take no NumPy strings
        import tensorflow as tf

        return tf.constant(rng.choice(["a", "b", "the cat", "c"], size=shape))
    if "int" in dtype:
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.random(shape).astype("float32")
