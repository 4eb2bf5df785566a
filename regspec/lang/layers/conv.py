"""Convolution layers, and the output-length arithmetic Keras uses for them."""


import math
from typing import Any, ClassVar, Literal

from regspec.lang.layers.base import BiasArguments, KernelArguments, Shape, ShapeError, WeightedLayer, channels, need_rank
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import Activation, Constraint, Initializer, Padding, PositiveInt, Size1, Size2, Size2OrZero, Size3, Strict


def as_tuple(value: int | list[int], rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


def conv_length(n: int | None, k: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    if n is None:
        return None
    k_eff = (k - 1) * dilation + 1
    if padding in ("same", "causal"):
        return math.ceil(n / stride)
    if n < k_eff:
        raise ShapeError(f"kernel {k_eff} is larger than the input dimension {n}")
    return (n - k_eff) // stride + 1


def deconv_length(n: int | None, k: int, stride: int, padding: str, output_padding: int | None, dilation: int) -> int | None:
    if n is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = 0 if padding == "valid" else k // 2
    return (n - 1) * stride + k - 2 * pad + output_padding


class Window1D(Strict):
    """A convolution window's sizes over 1 spatial axis (2 and 3 below): declared once per rank,
    shared by the convolutions, separable and depthwise ones, their transposes and ConvLSTMs."""

    rank: ClassVar[int] = 1
    kernel_size: Size1
    strides: Size1 = 1
    dilation_rate: Size1 = 1


class Window2D(Strict):
    rank: ClassVar[int] = 2
    kernel_size: Size2
    strides: Size2 = 1
    dilation_rate: Size2 = 1


class Window3D(Strict):
    rank: ClassVar[int] = 3
    kernel_size: Size3
    strides: Size3 = 1
    dilation_rate: Size3 = 1


def window(layer: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(kernel_size, strides, dilation_rate) of a layer with a Window mixin, one number per axis."""
    return (as_tuple(layer.kernel_size, layer.rank), as_tuple(layer.strides, layer.rank),
            as_tuple(layer.dilation_rate, layer.rank))


class _Filters(KernelArguments, BiasArguments, WeightedLayer):
    """What every convolution with `filters` takes (Conv1D/2D/3D and their transposes)."""

    rank: ClassVar[int]  # from its Window mixin
    filters: PositiveInt
    padding: Padding = "valid"
    activation: Activation | None = None


class _Conv(_Filters):
    groups: PositiveInt = 1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, self.rank + 1)
        cin = channels(self, shape)
        ks, st, dl = window(self)
        if cin % self.groups or self.filters % self.groups:
            raise ShapeError(f"groups={self.groups} must divide the input channels ({cin}) and filters ({self.filters})")
        try:
            out = tuple(conv_length(n, k, s, self.padding, d) for n, k, s, d in zip(shape[:-1], ks, st, dl))
        except ShapeError as exc:
            raise ShapeError(f"{exc} (input shape {list(shape)}, kernel_size {list(ks)})") from None
        params = math.prod(ks) * (cin // self.groups) * self.filters + (self.filters if self.use_bias else 0)
        return out + (self.filters,), params, 0

    def weight_shapes(self, shape: Shape) -> list[tuple[str, tuple[int, ...]]] | None:
        cin = shape[-1] if shape else None
        if cin is None:
            return None
        ks = window(self)[0]
        kernel = ("kernel", (*ks, cin // self.groups, self.filters))
        return [kernel] + ([("bias", (self.filters,))] if self.use_bias else [])



class Conv1D(Window1D, _Conv):
    keras_class = "Conv1D"
    type: Literal["conv1d"]
    padding: Literal["valid", "same", "causal"] = "valid"  # type: ignore[assignment]  # only Conv1D has causal


class Conv2D(Window2D, _Conv):
    """2D convolution (spatial convolution over images)."""

    keras_class = "Conv2D"
    type: Literal["conv2d"]


class Conv3D(Window3D, _Conv):
    keras_class = "Conv3D"
    type: Literal["conv3d"]


class _Window(BiasArguments, WeightedLayer):
    """Arguments shared by the convolutions outside Conv's own family (their kernel_size,
    strides and dilation_rate come from a Window mixin)."""

    rank: ClassVar[int]  # from its Window mixin
    padding: Padding = "valid"
    activation: Activation | None = None

    def _window(self, shape: Shape) -> tuple[Shape, tuple[int, ...], int]:
        need_rank(self, shape, self.rank + 1)
        ks, st, dl = window(self)
        out = tuple(conv_length(n, k, s, self.padding, d) for n, k, s, d in zip(shape[:-1], ks, st, dl))
        return out, ks, channels(self, shape)


class _Depthwise(_Window):
    depth_multiplier: PositiveInt = 1
    depthwise_initializer: Initializer = "glorot_uniform"
    depthwise_regularizer: Regularizer | None = None
    depthwise_constraint: Constraint | None = None


class _Separable(_Depthwise):
    """A depthwise convolution, then a pointwise (1x1) one to `filters` channels."""

    filters: PositiveInt
    pointwise_initializer: Initializer = "glorot_uniform"
    pointwise_regularizer: Regularizer | None = None
    pointwise_constraint: Constraint | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        out, ks, cin = self._window(shape)
        dm = self.depth_multiplier
        params = math.prod(ks) * cin * dm + cin * dm * self.filters + (self.filters if self.use_bias else 0)
        return out + (self.filters,), params, 0


class SeparableConv1D(Window1D, _Separable):
    keras_class = "SeparableConv1D"
    type: Literal["separable_conv1d"]


class SeparableConv2D(Window2D, _Separable):
    keras_class = "SeparableConv2D"
    type: Literal["separable_conv2d"]


class _DepthwiseOnly(_Depthwise):
    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        out, ks, cin = self._window(shape)
        cout = cin * self.depth_multiplier
        return out + (cout,), math.prod(ks) * cout + (cout if self.use_bias else 0), 0


class DepthwiseConv1D(Window1D, _DepthwiseOnly):
    keras_class = "DepthwiseConv1D"
    type: Literal["depthwise_conv1d"]


class DepthwiseConv2D(Window2D, _DepthwiseOnly):
    keras_class = "DepthwiseConv2D"
    type: Literal["depthwise_conv2d"]


class _ConvTranspose(_Filters):
    output_padding: Size1 | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self.rank
        need_rank(self, shape, r + 1)
        cin = channels(self, shape)
        ks, st, dl = window(self)
        op = as_tuple(self.output_padding, r) if self.output_padding is not None else (None,) * r
        out = tuple(deconv_length(n, k, s, self.padding, p, d) for n, k, s, p, d in zip(shape[:-1], ks, st, op, dl))
        params = math.prod(ks) * cin * self.filters + (self.filters if self.use_bias else 0)
        return out + (self.filters,), params, 0


class Conv1DTranspose(Window1D, _ConvTranspose):
    keras_class = "Conv1DTranspose"
    type: Literal["conv1d_transpose"]


class Conv2DTranspose(Window2D, _ConvTranspose):
    keras_class = "Conv2DTranspose"
    type: Literal["conv2d_transpose"]
    output_padding: Size2OrZero | None = None


class Conv3DTranspose(Window3D, _ConvTranspose):
    keras_class = "Conv3DTranspose"
    type: Literal["conv3d_transpose"]
    output_padding: Size3 | None = None
