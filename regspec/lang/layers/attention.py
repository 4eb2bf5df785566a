"""Attention layers: multi-head, dot-product and additive."""


from typing import Annotated, ClassVar, Literal

from pydantic import Field

from regspec.lang.layers.base import ActivityArguments, BiasArguments, KernelArguments, Layer, Shape, ShapeError, channels
from regspec.lang.types import PositiveInt, Rate, Seed

Axes = Annotated[list[Annotated[int, Field(ge=-8, le=8)]], Field(min_length=1, max_length=8)]


class MultiHeadAttention(KernelArguments, BiasArguments, ActivityArguments, Layer):
    """`inputs: [query, value]` or `[query, value, key]`; self-attention is `inputs: [x, x]`."""

    keras_class = "MultiHeadAttention"
    call: ClassVar[str] = "positional"  # mha(query, value, key), not mha([...])
    type: Literal["multi_head_attention"]
    num_heads: PositiveInt
    key_dim: PositiveInt
    value_dim: PositiveInt | None = None
    dropout: Rate = Field(0.0, description="Keras' dropout on the attention scores.")  # Keras' own
    output_shape: Annotated[list[PositiveInt], Field(min_length=1, max_length=8)] | None = None
    attention_axes: Axes | None = None
    seed: Seed | None = None

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) not in (2, 3):
            raise ShapeError(f"multi_head_attention takes [query, value] or [query, value, key], got {len(shapes)} "
                             "input(s) (self-attention: inputs: [x, x])")
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        dq, dv, dk = (channels(self, s) for s in (q, v, k))
        h, kd = self.num_heads, self.key_dim
        vd = self.value_dim or kd
        out_dims = list(self.output_shape) if self.output_shape else [dq]
        b = 1 if self.use_bias else 0
        params = (dq * h * kd + b * h * kd) + (dk * h * kd + b * h * kd) + (dv * h * vd + b * h * vd)
        out_units = 1
        for d in out_dims:
            out_units *= d
        params += h * vd * out_units + b * out_units
        return q[:-1] + tuple(out_dims), params, 0


class Attention(Layer):
    """Dot-product attention: `inputs: [query, value]` or `[query, value, key]`."""

    keras_class = "Attention"
    type: Literal["attention"]
    use_scale: bool = False
    score_mode: Literal["dot", "concat"] = "dot"
    dropout: Rate = 0.0
    seed: Seed | None = None

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) not in (2, 3):
            raise ShapeError(f"attention takes [query, value] or [query, value, key], got {len(shapes)} input(s)")
        q, v = shapes[0], shapes[1]
        params = (1 if self.use_scale else 0) + (1 if self.score_mode == "concat" else 0)
        return q[:-1] + (v[-1],), params, 0


class AdditiveAttention(Layer):
    """Bahdanau-style attention: `inputs: [query, value]` or `[query, value, key]`."""

    keras_class = "AdditiveAttention"
    type: Literal["additive_attention"]
    use_scale: bool = True
    dropout: Rate = 0.0

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) not in (2, 3):
            raise ShapeError(f"additive_attention takes [query, value] or [query, value, key], got {len(shapes)} input(s)")
        q, v = shapes[0], shapes[1]
        return q[:-1] + (v[-1],), channels(self, q) if self.use_scale else 0, 0
