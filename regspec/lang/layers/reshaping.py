"""Reshaping layers: padding, cropping and up-sampling over 1, 2 or 3 axes; permuting, repeating, masking."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.layers.base import Layer, Shape, ShapeError, need_rank
from regspec.lang.layers.conv import as_tuple

Amount = Annotated[int, Field(ge=0, le=2**16)]
Pair = Annotated[list[Amount], Field(min_length=2, max_length=2)]


def _pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _pairs(value: int | list[int] | list[list[int]], rank: int) -> list[tuple[int, int]]:
    """Keras' padding/cropping per spatial axis: n; in 1D [before, after]; in 2D/3D one n per axis,
    or [before, after] per axis."""
    if isinstance(value, int):
        return [(value, value)] * rank
    if rank == 1:
        return [_pair(value)]  # type: ignore[arg-type]
    return [_pair(v) for v in value]


def _add(n: int | None, delta: int) -> int | None:
    return None if n is None else n + delta


class _Spatial(Layer):
    """A layer over the 1, 2 or 3 spatial axes before the channels (its rank: its Keras class's digit)."""

    @classmethod
    def _rank(cls) -> int:
        return int(cls.keras_class[-2])


class _ZeroPadding(_Spatial):
    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self._rank()
        need_rank(self, shape, r + 1)
        pads = _pairs(self.__dict__["padding"], r)
        return tuple(_add(n, a + b) for n, (a, b) in zip(shape[:-1], pads)) + (shape[-1],), 0, 0


class _Cropping(_Spatial):
    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self._rank()
        need_rank(self, shape, r + 1)
        crops = _pairs(self.__dict__["cropping"], r)
        out = tuple(_add(n, -(a + b)) for n, (a, b) in zip(shape[:-1], crops))
        if any(n is not None and n <= 0 for n in out):
            raise ShapeError(f"cropping {self.__dict__['cropping']} leaves nothing of the input {list(shape)}")
        return out + (shape[-1],), 0, 0


class _UpSampling(_Spatial):
    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self._rank()
        need_rank(self, shape, r + 1)
        sizes = as_tuple(self.__dict__["size"], r)
        return tuple(None if n is None else n * f for n, f in zip(shape[:-1], sizes)) + (shape[-1],), 0, 0


Factor = Annotated[int, Field(ge=1, le=2**16)]
Pairs2 = Annotated[list[Pair], Field(min_length=2, max_length=2)]
Pairs3 = Annotated[list[Pair], Field(min_length=3, max_length=3)]
Amounts2 = Annotated[list[Amount], Field(min_length=2, max_length=2)]
Amounts3 = Annotated[list[Amount], Field(min_length=3, max_length=3)]


class ZeroPadding1D(_ZeroPadding):
    keras_class = "ZeroPadding1D"
    type: Literal["zero_padding1d"]
    padding: Amount | Pair = 1


class ZeroPadding2D(_ZeroPadding):
    keras_class = "ZeroPadding2D"
    type: Literal["zero_padding2d"]
    padding: Amount | Amounts2 | Pairs2 = 1


class ZeroPadding3D(_ZeroPadding):
    keras_class = "ZeroPadding3D"
    type: Literal["zero_padding3d"]
    padding: Amount | Amounts3 | Pairs3 = 1


class Cropping1D(_Cropping):
    keras_class = "Cropping1D"
    type: Literal["cropping1d"]
    cropping: Amount | Pair = 1


class Cropping2D(_Cropping):
    keras_class = "Cropping2D"
    type: Literal["cropping2d"]
    cropping: Amount | Amounts2 | Pairs2 = 0


class Cropping3D(_Cropping):
    keras_class = "Cropping3D"
    type: Literal["cropping3d"]
    cropping: Amount | Amounts3 | Pairs3 = 1


class UpSampling1D(_UpSampling):
    keras_class = "UpSampling1D"
    type: Literal["up_sampling1d"]
    size: Factor = 2


class UpSampling2D(_UpSampling):
    keras_class = "UpSampling2D"
    type: Literal["up_sampling2d"]
    size: Factor | Annotated[list[Factor], Field(min_length=2, max_length=2)] = 2
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"] = "nearest"


class UpSampling3D(_UpSampling):
    keras_class = "UpSampling3D"
    type: Literal["up_sampling3d"]
    size: Factor | Annotated[list[Factor], Field(min_length=3, max_length=3)] = 2


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
