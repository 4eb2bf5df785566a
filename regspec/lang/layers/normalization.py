"""Normalization layers with weights: batch and layer normalization."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import Shape, ShapeError, WeightedLayer
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import Constraint, Initializer, NonNegFloat

Axis = Annotated[int, Field(ge=-8, le=8)]


def _axis_dim(layer: WeightedLayer, shape: Shape, axis: int) -> int:
    rank = len(shape) + 1  # with the batch axis
    if not -rank <= axis < rank or axis % rank == 0:
        raise ShapeError(f"axis {axis} is out of range for inputs of shape {list(shape)}")
    dim = shape[(axis % rank) - 1]
    if dim is None:
        raise ShapeError(f"{layer.tag} needs a known size on axis {axis}, got shape {list(shape)}")
    return dim


class BatchNormalization(WeightedLayer):
    keras_class = "BatchNormalization"
    type: Literal["batch_normalization"]
    axis: Axis = -1
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.99
    epsilon: NonNegFloat = 0.001
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    moving_mean_initializer: Initializer = "zeros"
    moving_variance_initializer: Initializer = "ones"
    beta_regularizer: Regularizer | None = None
    gamma_regularizer: Regularizer | None = None
    beta_constraint: Constraint | None = None
    gamma_constraint: Constraint | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        c = _axis_dim(self, shape, self.axis)
        return shape, c * (int(self.center) + int(self.scale)), 2 * c


class LayerNormalization(WeightedLayer):
    keras_class = "LayerNormalization"
    type: Literal["layer_normalization"]
    axis: Axis = -1
    epsilon: NonNegFloat = 0.001
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    beta_regularizer: Regularizer | None = None
    gamma_regularizer: Regularizer | None = None
    beta_constraint: Constraint | None = None
    gamma_constraint: Constraint | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        c = _axis_dim(self, shape, self.axis)
        return shape, c * (int(self.center) + int(self.scale)), 0
