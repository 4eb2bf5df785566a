"""Normalization layers: batch, layer, group, RMS and unit normalization."""


import math
from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import Layer, Shape, ShapeError, WeightedLayer
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


class _CenterScale(WeightedLayer):
    """The learned offset (beta, with `center`) and scale (gamma, with `scale`) of a normalization."""

    epsilon: NonNegFloat = 0.001
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    beta_regularizer: Regularizer | None = None
    gamma_regularizer: Regularizer | None = None
    beta_constraint: Constraint | None = None
    gamma_constraint: Constraint | None = None

    def _center_scale(self, c: int) -> int:
        return c * (int(self.center) + int(self.scale))


class BatchNormalization(_CenterScale):
    keras_class = "BatchNormalization"
    type: Literal["batch_normalization"]
    axis: Axis = -1
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.99
    moving_mean_initializer: Initializer = "zeros"
    moving_variance_initializer: Initializer = "ones"

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        c = _axis_dim(self, shape, self.axis)
        return shape, self._center_scale(c), 2 * c


class LayerNormalization(_CenterScale):
    keras_class = "LayerNormalization"
    type: Literal["layer_normalization"]
    axis: Axis = -1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        c = _axis_dim(self, shape, self.axis)
        return shape, self._center_scale(c), 0


class GroupNormalization(_CenterScale):
    """Normalizes over groups of channels (`groups: -1`: one channel a group, as instance normalization)."""

    keras_class = "GroupNormalization"
    type: Literal["group_normalization"]
    groups: Annotated[int, Field(ge=-1, le=2**16)] = 32
    axis: Axis = -1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        c = _axis_dim(self, shape, self.axis)
        groups = c if self.groups == -1 else self.groups
        if groups == 0 or groups > c or c % groups:
            raise ShapeError(f"groups={self.groups} must divide the {c} channels")
        return shape, self._center_scale(c), 0


class RMSNormalization(WeightedLayer):
    """Scales by the root mean square over `axis` (no centering), with a learned scale."""

    keras_class = "RMSNormalization"
    type: Literal["rms_normalization"]
    axis: Axis | Annotated[list[Axis], Field(min_length=1, max_length=8)] = -1
    epsilon: NonNegFloat = 1e-06

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        return shape, math.prod(_axis_dim(self, shape, a) for a in axes), 0


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis`."""

    keras_class = "UnitNormalization"
    type: Literal["unit_normalization"]
    axis: Axis | Annotated[list[Axis], Field(min_length=1, max_length=8)] = -1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            rank = len(shape) + 1
            if not -rank <= a < rank or a % rank == 0:
                raise ShapeError(f"axis {a} is out of range for inputs of shape {list(shape)}")
        return shape, 0, 0
