"""Adapting preprocessing layers (Keras' ``adapt``) to the training split, before training."""

from __future__ import annotations

import sys
from typing import Any

from regspec.ir.graph import Program


def adapt_layers(model: Any, train_eval: Any, program: Program, built: dict[str, Any],
                 train_inputs: dict[str, Any] | None = None) -> None:
    """Adapt every layer whose kind says it adapts (``Layer.adapts``) to what reaches it in the
    training split (never the test split). ``train_inputs``: the training examples by model input,
    in memory, when the source has them."""
    from regspec.backend.keras.env import keras

    for node in program.nodes:
        if node.layer.adapts:
            target = built[node.id]
            source = node.inputs[0] if len(node.inputs) == 1 else None
            if train_inputs is not None and source in train_inputs:
                # Fed by a model input: its examples as they are, without a pass through the
                # batched pipeline and the model (80k rows, 7 lookups and a normalization: 1.6 s -> 0.05 s).
                target.adapt(train_inputs[source])
            else:
                upstream = keras().Model(model.inputs, target.input)
                target.adapt(train_eval.map(lambda x, y, up=upstream: up(x, training=False)).rebatch(ADAPT_BATCH))
            if hasattr(target, "adapt_variance"):  # a Normalization
                _keep_constant_features(target, node.id)


ADAPT_BATCH = 8192  # examples per step of an `adapt` through the model: its cost is per batch, the result the same

#: Below this variance a feature is constant (float32 sums leave ~1e-14 where it is exactly 0).
CONSTANT_VARIANCE = 1e-10


def _keep_constant_features(target: Any, node_id: str) -> None:
    """A feature constant in training has variance 0, and Keras would divide by its epsilon: any
    other value at test time becomes ~1e7 (digits' border pixels gave a validation loss of 6e5).
    Such features keep scale 1 (centred, not scaled), as scikit-learn's StandardScaler and
    regspec's own `standardize` do."""
    import numpy as np

    variance = np.asarray(target.adapt_variance)
    constant = variance <= CONSTANT_VARIANCE
    if constant.any():
        target.adapt_variance.assign(np.where(constant, 1.0, variance).astype(variance.dtype))
        target.finalize_state()
        print(f"note: {node_id}: {int(constant.sum())} of {constant.size} features are constant in training; "
              "they are centred, not scaled", file=sys.stderr)
