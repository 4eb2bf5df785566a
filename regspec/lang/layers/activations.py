"""Activation layers (Keras' ReLU, LeakyReLU, PReLU, ELU, Softmax classes)."""


import math
from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import Layer, Shape, ShapeError
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import Constraint, Initializer, NonNegFloat


class ReLU(Layer):
    keras_class = "ReLU"
    type: Literal["re_lu"]
    max_value: NonNegFloat | None = None
    negative_slope: NonNegFloat = 0.0
    threshold: float = 0.0


class LeakyReLU(Layer):
    keras_class = "LeakyReLU"
    type: Literal["leaky_re_lu"]
    negative_slope: NonNegFloat = 0.3


class PReLU(Layer):
    """Leaky ReLU with a learned slope per input unit (shared along `shared_axes`)."""

    keras_class = "PReLU"
    type: Literal["p_re_lu"]
    alpha_initializer: Initializer = "zeros"
    alpha_regularizer: Regularizer | None = None
    alpha_constraint: Constraint | None = None
    shared_axes: Annotated[list[Annotated[int, Field(ge=1, le=8)]], Field(min_length=1)] | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        dims = list(shape)
        for ax in self.shared_axes or []:
            if ax > len(dims):
                raise ShapeError(f"shared_axes {self.shared_axes} do not fit inputs of shape {list(shape)}")
            dims[ax - 1] = 1
        if any(d is None for d in dims):
            raise ShapeError(f"p_re_lu needs known sizes on unshared axes, got shape {list(shape)}")
        return shape, math.prod(d for d in dims if d is not None), 0


class ELU(Layer):
    keras_class = "ELU"
    type: Literal["elu"]
    alpha: float = 1.0


class Softmax(Layer):
    keras_class = "Softmax"
    type: Literal["softmax"]
    axis: Annotated[int, Field(ge=-8, le=8)] = -1
