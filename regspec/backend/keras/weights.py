"""What the penalties did: per layer, the norms and sparsity of each weight, and the mean absolute
activation of layers with an activity penalty (weights.json, weights.png)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: A weight is counted as effectively zero below this magnitude (L1 drives weights towards 0
#: but gradient steps rarely land exactly on it).
ZERO = 1e-3
HISTOGRAM_BINS = 60


def weight_stats(model: Any, labels: dict[int, str] | None = None, activity_data: Any | None = None) -> dict[str, Any]:
    """Norms and zero fractions of every trainable weight, by layer; with ``activity_data`` (a
    dataset of (x, y) batches), the mean |activation| of each layer that has an activity penalty.

    ``labels`` (id of a Keras layer -> its spec name or path, e.g. ``layers[3]``) names layers as
    the spec does: Keras numbers unnamed layers per process, which would not line up across runs.
    """
    labels = labels or {}
    layers = []
    for layer in model.layers:
        weights = [_one(w) for w in layer.trainable_weights]
        if weights:
            layers.append({"layer": labels.get(id(layer), layer.name), "class": type(layer).__name__, "weights": weights})
    stats = {"zero_threshold": ZERO, "layers": layers}
    if activity_data is not None:
        stats["activity"] = _activity(model, activity_data, labels)
    return stats


def _one(variable: Any) -> dict[str, Any]:
    everything = np.asarray(variable.numpy(), dtype="float64").ravel()
    finite = np.isfinite(everything)
    values = everything[finite]  # a diverged model: the figures are of its finite weights
    out: dict[str, Any] = {
        "name": variable.path.split("/")[-1], "shape": list(variable.shape), "count": int(everything.size),
        "l1": float(np.abs(values).sum()), "l2": float(np.sqrt((values ** 2).sum())),
        "mean_abs": float(np.abs(values).mean()) if values.size else 0.0,
        "zero_fraction": float((np.abs(values) < ZERO).mean()) if values.size else 0.0,
    }
    if not finite.all():
        out["non_finite_fraction"] = float((~finite).mean())
    if len(variable.shape) >= 2 and values.size:  # kernels: the histogram weights.png draws
        try:
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
        except ValueError:  # weights of ~1e33 (divergence) leave no finite bin width: no histogram
            return out
        out["histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
    return out


def _activity(model: Any, data: Any, labels: dict[int, str]) -> list[dict[str, Any]]:
    from regspec.backend.keras.env import keras

    k = keras()
    penalized = [layer for layer in model.layers
                 if getattr(layer, "activity_regularizer", None) is not None or type(layer).__name__ == "ActivityRegularization"]
    if not penalized:
        return []
    probe = k.Model(model.inputs, [layer.output for layer in penalized])
    sums = np.zeros(len(penalized))
    counts = np.zeros(len(penalized))
    for x, _ in data:
        outs = probe(x, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for i, out in enumerate(outs):
            a = np.abs(np.asarray(out, dtype="float64"))
            sums[i] += a.sum()
            counts[i] += a.size
    return [{"layer": labels.get(id(layer), layer.name), "mean_abs_activation": float(s / c) if c else 0.0}
            for layer, s, c in zip(penalized, sums, counts)]

