"""Reshaping layers: padding, cropping, up-sampling, permuting, repeating, masking, wrapping."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import Layer, Shape, ShapeError, need_rank

Amount = Annotated[int, Field(ge=0, le=2**16)]
Pair = Annotated[list[Amount], Field(min_length=2, max_length=2)]


def _pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _pairs2d(value: int | list[int] | list[list[int]]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' 2D padding/cropping: n, [h, w] or [[top, bottom], [left, right]]."""
    if isinstance(value, int):
        return (value, value), (value, value)
    first, second = value[0], value[1]
    if isinstance(first, int) and isinstance(second, int):
        return (first, first), (second, second)
    return _pair(first), _pair(second)


def _add(n: int | None, delta: int) -> int | None:
    return None if n is None else n + delta


class ZeroPadding1D(Layer):
    keras_class = "ZeroPadding1D"
    type: Literal["zero_padding1d"]
    padding: Amount | Pair = 1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 2)
        a, b = _pair(self.padding)
        return (_add(shape[0], a + b), shape[1]), 0, 0


class ZeroPadding2D(Layer):
    keras_class = "ZeroPadding2D"
    type: Literal["zero_padding2d"]
    padding: Amount | Pair | Annotated[list[Pair], Field(min_length=2, max_length=2)] = 1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 3)
        (t, b), (left, r) = _pairs2d(self.padding)
        return (_add(shape[0], t + b), _add(shape[1], left + r), shape[2]), 0, 0


class Cropping1D(Layer):
    keras_class = "Cropping1D"
    type: Literal["cropping1d"]
    cropping: Amount | Pair = 1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 2)
        a, b = _pair(self.cropping)
        return (_add(shape[0], -(a + b)), shape[1]), 0, 0


class Cropping2D(Layer):
    keras_class = "Cropping2D"
    type: Literal["cropping2d"]
    cropping: Amount | Pair | Annotated[list[Pair], Field(min_length=2, max_length=2)] = 0

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 3)
        (t, b), (left, r) = _pairs2d(self.cropping)
        return (_add(shape[0], -(t + b)), _add(shape[1], -(left + r)), shape[2]), 0, 0


class UpSampling1D(Layer):
    keras_class = "UpSampling1D"
    type: Literal["up_sampling1d"]
    size: Annotated[int, Field(ge=1, le=2**16)] = 2

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 2)
        return (None if shape[0] is None else shape[0] * self.size, shape[1]), 0, 0


class UpSampling2D(Layer):
    keras_class = "UpSampling2D"
    type: Literal["up_sampling2d"]
    size: Annotated[int, Field(ge=1, le=2**16)] | Annotated[list[Annotated[int, Field(ge=1, le=2**16)]],
                                                               Field(min_length=2, max_length=2)] = 2
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"] = "nearest"

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 3)
        sh, sw = _pair(self.size)
        return (None if shape[0] is None else shape[0] * sh, None if shape[1] is None else shape[1] * sw,
                shape[2]), 0, 0


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is 1-based, e.g. [2, 1] swaps the first two."""

    keras_class = "Permute"
    type: Literal["permute"]
    dims: Annotated[list[Annotated[int, Field(ge=1, le=8)]], Field(min_length=1, max_length=8)]

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if sorted(self.dims) != list(range(1, len(shape) + 1)):
            raise ShapeError(f"dims {self.dims} is not a permutation of the {len(shape)} axes of {list(shape)}")
        return tuple(shape[d - 1] for d in self.dims), 0, 0


class RepeatVector(Layer):
    keras_class = "RepeatVector"
    type: Literal["repeat_vector"]
    n: Annotated[int, Field(ge=1, le=2**31 - 1)]

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 1)
        return (self.n, shape[0]), 0, 0


class Identity(Layer):
    keras_class = "Identity"
    type: Literal["identity"]


class Masking(Layer):
    keras_class = "Masking"
    type: Literal["masking"]
    mask_value: float = 0.0
