"""Pooling layers: max and average over 1, 2 or 3 dimensions, and their global forms."""


from typing import Any, Literal

from regspec.lang.layers.base import Layer, Shape, ShapeError, channels, need_rank
from regspec.lang.layers.conv import as_tuple, conv_length
from regspec.lang.types import Padding, Size1, Size2, Size3


class _Pooling(Layer):
    padding: Padding = "valid"

    def keras_arguments(self) -> dict[str, Any]:
        args = super().keras_arguments()
        if args.get("strides") is None:
            args["strides"] = args["pool_size"]  # what Keras does with strides=None, spelled out
        return args

    def implied_arguments(self) -> frozenset[str]:
        return frozenset({"strides"}) if self.__dict__.get("strides") is None else frozenset()

    @classmethod
    def from_keras_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        pool_size = args.get("pool_size", cls.model_fields["pool_size"].default)
        if "strides" in args and args["strides"] == pool_size:
            args = {k: v for k, v in args.items() if k != "strides"}  # Keras' default: the pool size
        return args

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = int(self.keras_class[-2])
        need_rank(self, shape, r + 1)
        args = self.keras_arguments()  # pool_size and strides are declared per rank by the subclasses
        ps, st = as_tuple(args["pool_size"], r), as_tuple(args["strides"], r)
        try:
            out = tuple(conv_length(n, p, s, self.padding) for n, p, s in zip(shape[:-1], ps, st))
        except ShapeError:
            raise ShapeError(f"pool_size {list(ps)} is larger than the input {list(shape[:-1])}") from None
        return out + (shape[-1],), 0, 0


class MaxPooling1D(_Pooling):
    keras_class = "MaxPooling1D"
    type: Literal["max_pooling1d"]
    pool_size: Size1 = 2
    strides: Size1 | None = None


class MaxPooling2D(_Pooling):
    """Max pooling over 2D windows of size `pool_size`."""

    keras_class = "MaxPooling2D"
    type: Literal["max_pooling2d"]
    pool_size: Size2 = 2
    strides: Size2 | None = None


class MaxPooling3D(_Pooling):
    keras_class = "MaxPooling3D"
    type: Literal["max_pooling3d"]
    pool_size: Size3 = 2
    strides: Size3 | None = None


class AveragePooling1D(_Pooling):
    keras_class = "AveragePooling1D"
    type: Literal["average_pooling1d"]
    pool_size: Size1
    strides: Size1 | None = None


class AveragePooling2D(_Pooling):
    keras_class = "AveragePooling2D"
    type: Literal["average_pooling2d"]
    pool_size: Size2
    strides: Size2 | None = None


class AveragePooling3D(_Pooling):
    keras_class = "AveragePooling3D"
    type: Literal["average_pooling3d"]
    pool_size: Size3
    strides: Size3 | None = None


class _GlobalPooling(Layer):
    keepdims: bool = False

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = int(self.keras_class[-2])
        need_rank(self, shape, r + 1)
        c = channels(self, shape)
        return ((1,) * r + (c,) if self.keepdims else (c,)), 0, 0


class GlobalMaxPooling1D(_GlobalPooling):
    keras_class = "GlobalMaxPooling1D"
    type: Literal["global_max_pooling1d"]


class GlobalMaxPooling2D(_GlobalPooling):
    keras_class = "GlobalMaxPooling2D"
    type: Literal["global_max_pooling2d"]


class GlobalMaxPooling3D(_GlobalPooling):
    keras_class = "GlobalMaxPooling3D"
    type: Literal["global_max_pooling3d"]


class GlobalAveragePooling1D(_GlobalPooling):
    keras_class = "GlobalAveragePooling1D"
    type: Literal["global_average_pooling1d"]


class GlobalAveragePooling2D(_GlobalPooling):
    keras_class = "GlobalAveragePooling2D"
    type: Literal["global_average_pooling2d"]


class GlobalAveragePooling3D(_GlobalPooling):
    keras_class = "GlobalAveragePooling3D"
    type: Literal["global_average_pooling3d"]
