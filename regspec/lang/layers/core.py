"""Core layers: input, dense, flatten, reshape, activation, embedding, dropout and noise."""


import math
import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from regspec.lang.layers.base import (
    BiasArguments,
    BiasWeights,
    KernelArguments,
    Layer,
    Shape,
    ShapeError,
    WeightedLayer,
    channels,
    need_rank,
    prod,
)
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import (
    ADDED_LATER,
    Activation,
    Constraint,
    DType,
    Initializer,
    InputShape,
    LayerName,
    PositiveInt,
    Rate,
    Seed,
)


class InputLayer(Layer):
    """The model input; allowed only as the first layer (same as the top-level `input`)."""

    keras_class = "InputLayer"
    type: Literal["input"]
    shape: InputShape
    dtype: DType = "float32"


class Dense(KernelArguments, BiasArguments, WeightedLayer):
    """Densely-connected layer: `activation(dot(input, kernel) + bias)`."""

    keras_class = "Dense"
    type: Literal["dense"]
    units: PositiveInt
    activation: Activation | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if not shape:
            raise ShapeError("dense needs inputs of rank 1 or more (plus batch)")
        c = channels(self, shape)
        return shape[:-1] + (self.units,), c * self.units + (self.units if self.use_bias else 0), 0

    def weight_shapes(self, shape: Shape) -> list[tuple[str, tuple[int, ...]]] | None:
        c = shape[-1] if shape else None
        if c is None:
            return None
        return [("kernel", (c, self.units))] + ([("bias", (self.units,))] if self.use_bias else [])


class Flatten(Layer):
    keras_class = "Flatten"
    type: Literal["flatten"]

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        return (prod(shape),), 0, 0


class Reshape(Layer):
    keras_class = "Reshape"
    type: Literal["reshape"]
    target_shape: Annotated[list[Annotated[int, Field(ge=-1, le=2**31 - 1)]], Field(min_length=1, max_length=8)]

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        target = list(self.target_shape)
        if target.count(-1) > 1 or 0 in target:
            raise ShapeError(f"target_shape may hold one -1 and no 0, got {target}")
        total = prod(shape)
        known = prod(tuple(t for t in target if t != -1))
        out: list[int | None] = list(target)
        if -1 in target:
            if total is not None and known is not None:
                if known == 0 or total % known:
                    raise ShapeError(f"cannot reshape {list(shape)} into {target}")
                out[target.index(-1)] = total // known
            else:
                out[target.index(-1)] = None
        elif total is not None and total != known:
            raise ShapeError(f"cannot reshape {list(shape)} ({total} values) into {target} ({known} values)")
        return tuple(out), 0, 0


class ActivationLayer(Layer):
    keras_class = "Activation"
    type: Literal["activation"]
    activation: Activation


class Embedding(WeightedLayer):
    keras_class = "Embedding"
    type: Literal["embedding"]
    input_dim: PositiveInt
    output_dim: PositiveInt
    embeddings_initializer: Initializer = "uniform"
    embeddings_regularizer: Regularizer | None = None
    embeddings_constraint: Constraint | None = None
    mask_zero: bool = False

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        return shape + (self.output_dim,), self.input_dim * self.output_dim, 0

    def weight_shapes(self, shape: Shape) -> list[tuple[str, tuple[int, ...]]] | None:
        return [("embeddings", (self.input_dim, self.output_dim))]


class Dropout(Layer):
    """Randomly sets input units to 0 with frequency `rate` during training."""

    keras_class = "Dropout"
    type: Literal["dropout"]
    rate: Rate
    noise_shape: Annotated[Annotated[list[PositiveInt | None], Field(min_length=1, max_length=8)] | None, ADDED_LATER] = Field(
        None, description="Shape of the dropout mask with the batch axis, e.g. [null, 1, 1, 64] drops whole feature maps."
    )
    seed: Seed | None = None


class _SpatialDropout(Layer):
    """Drops whole feature maps (every position of a channel at once)."""

    rate: Rate
    seed: Seed | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, int(self.keras_class[-2]) + 1)
        return shape, 0, 0


class SpatialDropout1D(_SpatialDropout):
    keras_class = "SpatialDropout1D"
    type: Literal["spatial_dropout1d"]


class SpatialDropout2D(_SpatialDropout):
    keras_class = "SpatialDropout2D"
    type: Literal["spatial_dropout2d"]


class SpatialDropout3D(_SpatialDropout):
    keras_class = "SpatialDropout3D"
    type: Literal["spatial_dropout3d"]


class GaussianDropout(Layer):
    """Multiplies each input by noise drawn around 1 (standard deviation sqrt(rate / (1 - rate))) while training."""

    keras_class = "GaussianDropout"
    type: Literal["gaussian_dropout"]
    rate: Rate
    seed: Seed | None = None


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks)."""

    keras_class = "AlphaDropout"
    type: Literal["alpha_dropout"]
    rate: Rate
    noise_shape: Annotated[list[PositiveInt | None], Field(min_length=1, max_length=8)] | None = None
    seed: Seed | None = None


class GaussianNoise(Layer):
    keras_class = "GaussianNoise"
    type: Literal["gaussian_noise"]
    stddev: Annotated[float, Field(ge=0)]
    seed: Seed | None = None


class ActivityRegularization(Layer):
    """Adds `l1 * sum(|x|) + l2 * sum(x^2)` of its input to the loss; passes the input on unchanged."""

    keras_class = "ActivityRegularization"
    adds_loss = True
    type: Literal["activity_regularization"]
    l1: Annotated[float, Field(ge=0)] = 0.0
    l2: Annotated[float, Field(ge=0)] = 0.0


_EINSUM = re.compile(r"^(\.\.\.)?([a-zA-Z]+)(\.\.\.)?,([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)(\.\.\.)?$")


class EinsumDense(KernelArguments, BiasWeights, WeightedLayer):
    """A dense layer written as an einsum `equation` between its input and its kernel, e.g.
    `abc,cd->abd` (a Dense over the last axis) or `...b,bc->...c`. `output_shape` leaves out the
    batch axis (and the ellipsis); `null` in it takes the size from the input."""

    keras_class = "EinsumDense"
    type: Literal["einsum_dense"]
    equation: Annotated[str, Field(pattern=_EINSUM.pattern, max_length=64)]
    output_shape: PositiveInt | Annotated[list[PositiveInt | None], Field(min_length=1, max_length=8)]
    activation: Activation | None = None
    bias_axes: Annotated[str, Field(pattern=r"^[a-zA-Z]{1,16}$")] | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        m = _EINSUM.match(self.equation)
        assert m is not None  # the field's pattern
        left, inp, right, weight, out_left, out, out_right = m.groups()
        if bool(left) != bool(out_left) or bool(right) != bool(out_right) or (left and right):
            raise ShapeError(f"equation {self.equation!r}: an ellipsis must stand at the same end of input and output")
        full = (None, *shape)  # with the batch axis, as Keras reads the equation
        elided = len(full) - len(inp)
        if elided < 0 or (elided > 0 and not (left or right)):
            raise ShapeError(f"equation {self.equation!r} names {len(inp)} input axes; the input has {len(full)} "
                             f"(with the batch axis): {list(shape)}")
        wanted = [self.output_shape] if isinstance(self.output_shape, int) else list(self.output_shape)
        out_shape: list[int | None] = [full[0], *wanted]
        if elided and left:
            for i in range(1, elided):  # each at position 1, as Keras does (which reverses them)
                out_shape.insert(1, full[i])
        elif elided:
            out_shape += list(full[len(full) - elided:])
        offset = elided if left else 0
        in_dims = {c: full[i + offset] for i, c in enumerate(inp)}
        out_at = {c: i + offset for i, c in enumerate(out)}
        if len(out_shape) != len(out) + elided:
            raise ShapeError(f"output_shape {wanted} does not fit the equation's output {out!r}")
        kernel = []
        for c in weight:
            dim = out_shape[out_at[c]] if c in out_at else in_dims.get(c)
            if c not in out_at and c not in in_dims:
                raise ShapeError(f"equation {self.equation!r}: the kernel axis {c!r} is in neither input nor output")
            if dim is None:
                raise ShapeError(f"einsum_dense needs a known size for the kernel axis {c!r}")
            kernel.append(dim)
        bias = 0
        if self.bias_axes:
            for c in self.bias_axes:
                if c not in out_at or out_shape[out_at[c]] is None:
                    raise ShapeError(f"bias_axes {self.bias_axes!r}: {c!r} is not a known output axis of {out!r}")
            bias = math.prod(out_shape[out_at[c]] or 1 for c in self.bias_axes)
        return tuple(out_shape[1:]), math.prod(kernel) + bias, 0


class Reuse(Layer):
    """Applies an earlier layer again, with the same weights (Keras: calling one layer object
    twice), e.g. one encoder on both inputs of a siamese network. `name` names this call's output;
    the weights, their arguments and annotations stay with `layer`, and are counted once."""

    keras_class = ""  # no class of its own: the layer it names is called again
    type: Literal["reuse"]
    layer: LayerName = Field(description="The name of the earlier layer to apply again.")

    @model_validator(mode="after")
    def _only_a_call(self) -> "Reuse":
        if self.repeat != 1 or not self.trainable or self.weights is not None:
            raise ValueError("reuse takes layer, inputs and name only: the reused layer holds the rest")
        return self
