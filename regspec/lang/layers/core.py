"""Core layers: input, dense, flatten, reshape, activation, embedding, dropout and noise."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import BiasArguments, KernelArguments, Layer, Shape, ShapeError, WeightedLayer, channels, prod
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import Activation, Constraint, DType, Initializer, InputShape, PositiveInt, Rate, Seed


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


class Dropout(Layer):
    """Randomly sets input units to 0 with frequency `rate` during training."""

    keras_class = "Dropout"
    type: Literal["dropout"]
    rate: Rate
    noise_shape: Annotated[list[PositiveInt | None], Field(min_length=1, max_length=8)] | None = Field(
        None, description="Shape of the dropout mask with the batch axis, e.g. [null, 1, 1, 64] drops whole feature maps."
    )
    seed: Seed | None = None


class SpatialDropout1D(Layer):
    keras_class = "SpatialDropout1D"
    type: Literal["spatial_dropout1d"]
    rate: Rate
    seed: Seed | None = None


class SpatialDropout2D(Layer):
    keras_class = "SpatialDropout2D"
    type: Literal["spatial_dropout2d"]
    rate: Rate
    seed: Seed | None = None


class GaussianNoise(Layer):
    keras_class = "GaussianNoise"
    type: Literal["gaussian_noise"]
    stddev: Annotated[float, Field(ge=0)]
    seed: Seed | None = None
