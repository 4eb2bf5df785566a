"""Which models have a penalty in their loss, and the metric that splits it out.

Keras' loss is the loss function plus every regularization term (kernel, bias, activity). When
a model has any, training adds the loss function alone as the `data_loss` metric; the penalty
is then ``loss - data_loss``, per epoch and on each split. Shared by validation (history keys a
callback may monitor) and the backend (the metric it adds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from regspec.lang.compile import CompileSection

DATA_LOSS = "data_loss"
PENALTY = "penalty"


def regularized(node: Any) -> bool:
    """A layer (or a layer it wraps) with a regularizer argument set, or an activity_regularization layer."""
    if not isinstance(node, BaseModel):
        return False
    if getattr(type(node), "adds_loss", False):  # activity_regularization
        return True
    for name in type(node).model_fields:
        value = getattr(node, name)
        if name.endswith("_regularizer") and value is not None:
            return True
        if isinstance(value, BaseModel) and regularized(value):
            return True
    return False


def splits_loss(section: CompileSection, outputs: int, layers: Iterable[Any]) -> bool:
    """One output, one loss, and some regularization."""
    if section.loss is None or isinstance(section.loss, dict) or outputs != 1:
        return False
    return any(regularized(layer) for layer in layers)


def with_penalty(scores: dict[str, float], prefix: str = "") -> dict[str, float]:
    """Keras' loss, the data loss and the penalty (loss - data_loss) first among their scores (the
    train ones, or with ``prefix`` the val_ ones of an epoch); everything else in Keras' order."""
    loss, data = f"{prefix}loss", f"{prefix}{DATA_LOSS}"
    if data not in scores or loss not in scores:
        return scores
    split = {loss: scores[loss], data: scores[data], f"{prefix}{PENALTY}": scores[loss] - scores[data]}
    out: dict[str, float] = {}
    for key, value in scores.items():
        if loss not in out and (key.startswith(prefix) if prefix else not key.startswith("val_")):
            out.update(split)
        if key not in split:
            out[key] = value
    return out
