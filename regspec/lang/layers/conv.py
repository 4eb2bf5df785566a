"""Convolution layers, and the output-length arithmetic Keras uses for them."""


import math
from typing import Literal

from regspec.lang.layers.base import BiasArguments, KernelArguments, Shape, ShapeError, WeightedLayer, channels, need_rank
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import Activation, Constraint, Initializer, Padding, PositiveInt, Size1, Size2, Size2OrZero, Size3


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


class _Filters(KernelArguments, BiasArguments, WeightedLayer):
    """What every convolution with `filters` takes (Conv1D/2D/3D and their transposes)."""

    filters: PositiveInt
    padding: Padding = "valid"
    activation: Activation | None = None

    @classmethod
    def _rank(cls) -> int:
        return int(next(c for c in cls.keras_class if c.isdigit()))  # Conv1D, Conv1DTranspose -> 1


class _Conv(_Filters):
    groups: PositiveInt = 1

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self._rank()
        need_rank(self, shape, r + 1)
        cin = channels(self, shape)
        args = self.keras_arguments()  # kernel_size, strides and dilation_rate are declared per rank
        ks, st, dl = (as_tuple(args[k], r) for k in ("kernel_size", "strides", "dilation_rate"))
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
        ks = as_tuple(self.keras_arguments()["kernel_size"], self._rank())
        kernel = ("kernel", (*ks, cin // self.groups, self.filters))
        return [kernel] + ([("bias", (self.filters,))] if self.use_bias else [])



class Conv1D(_Conv):
    keras_class = "Conv1D"
    type: Literal["conv1d"]
    kernel_size: Size1
    strides: Size1 = 1
    padding: Literal["valid", "same", "causal"] = "valid"  # type: ignore[assignment]  # only Conv1D has causal
    dilation_rate: Size1 = 1


class Conv2D(_Conv):
    """2D convolution (spatial convolution over images)."""

    keras_class = "Conv2D"
    type: Literal["conv2d"]
    kernel_size: Size2
    strides: Size2 = 1
    dilation_rate: Size2 = 1


class Conv3D(_Conv):
    keras_class = "Conv3D"
    type: Literal["conv3d"]
    kernel_size: Size3
    strides: Size3 = 1
    dilation_rate: Size3 = 1


class _Window(BiasArguments, WeightedLayer):
    """Arguments shared by the convolutions outside Conv's own family (their kernel_size,
    strides and dilation_rate are declared per rank; the rank is the Keras class's digit)."""

    padding: Padding = "valid"
    activation: Activation | None = None

    def _window(self, shape: Shape) -> tuple[Shape, tuple[int, ...], int]:
        r = int(next(c for c in self.keras_class if c.isdigit()))
        need_rank(self, shape, r + 1)
        args = self.keras_arguments()
        ks, st, dl = (as_tuple(args[k], r) for k in ("kernel_size", "strides", "dilation_rate"))
        out = tuple(conv_length(n, k, s, self.padding, d) for n, k, s, d in zip(shape[:-1], ks, st, dl))
        return out, ks, channels(self, shape)


class Conv2DTranspose(KernelArguments, _Window):
    keras_class = "Conv2DTranspose"
    type: Literal["conv2d_transpose"]
    filters: PositiveInt
    kernel_size: Size2
    strides: Size2 = 1
    dilation_rate: Size2 = 1
    output_padding: Size2OrZero | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 3)
        cin = channels(self, shape)
        ks, st, dl = (as_tuple(v, 2) for v in (self.kernel_size, self.strides, self.dilation_rate))
        op = as_tuple(self.output_padding, 2) if self.output_padding is not None else (None, None)
        out = tuple(deconv_length(n, k, s, self.padding, p, d) for n, k, s, p, d in zip(shape[:2], ks, st, op, dl))
        params = ks[0] * ks[1] * cin * self.filters + (self.filters if self.use_bias else 0)
        return out + (self.filters,), params, 0


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


class SeparableConv1D(_Separable):
    keras_class = "SeparableConv1D"
    type: Literal["separable_conv1d"]
    kernel_size: Size1
    strides: Size1 = 1
    dilation_rate: Size1 = 1


class SeparableConv2D(_Separable):
    keras_class = "SeparableConv2D"
    type: Literal["separable_conv2d"]
    kernel_size: Size2
    strides: Size2 = 1
    dilation_rate: Size2 = 1


class _DepthwiseOnly(_Depthwise):
    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        out, ks, cin = self._window(shape)
        cout = cin * self.depth_multiplier
        return out + (cout,), math.prod(ks) * cout + (cout if self.use_bias else 0), 0


class DepthwiseConv1D(_DepthwiseOnly):
    keras_class = "DepthwiseConv1D"
    type: Literal["depthwise_conv1d"]
    kernel_size: Size1
    strides: Size1 = 1
    dilation_rate: Size1 = 1


class DepthwiseConv2D(_DepthwiseOnly):
    keras_class = "DepthwiseConv2D"
    type: Literal["depthwise_conv2d"]
    kernel_size: Size2
    strides: Size2 = 1
    dilation_rate: Size2 = 1


class _ConvTranspose(_Filters):
    output_padding: Size1 | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        r = self._rank()
        need_rank(self, shape, r + 1)
        cin = channels(self, shape)
        args = self.keras_arguments()
        ks, st, dl = (as_tuple(args[k], r) for k in ("kernel_size", "strides", "dilation_rate"))
        op = as_tuple(self.output_padding, r) if self.output_padding is not None else (None,) * r
        out = tuple(deconv_length(n, k, s, self.padding, p, d) for n, k, s, p, d in zip(shape[:-1], ks, st, op, dl))
        params = math.prod(ks) * cin * self.filters + (self.filters if self.use_bias else 0)
        return out + (self.filters,), params, 0



class Conv1DTranspose(_ConvTranspose):
    keras_class = "Conv1DTranspose"
    type: Literal["conv1d_transpose"]
    kernel_size: Size1
    strides: Size1 = 1
    dilation_rate: Size1 = 1


class Conv3DTranspose(_ConvTranspose):
    keras_class = "Conv3DTranspose"
    type: Literal["conv3d_transpose"]
    kernel_size: Size3
    strides: Size3 = 1
    dilation_rate: Size3 = 1
    output_padding: Size3 | None = None
