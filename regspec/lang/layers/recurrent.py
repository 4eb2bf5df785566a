"""Recurrent layers. Their `dropout` is Keras' own argument (input dropout inside the
cell), so they do not declare regspec's dropout annotation."""


import math
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, model_validator

from regspec.lang.layers.base import (
    ActivityArguments,
    BiasArguments,
    KernelArguments,
    Layer,
    RecurrentArguments,
    Shape,
    ShapeError,
    channels,
    need_rank,
)
from regspec.lang.layers.conv import Window1D, Window2D, Window3D, conv_length, window
from regspec.lang.types import ADDED_LATER, Activation, Padding, PositiveInt, Rate, Seed


class _Sequence(KernelArguments, RecurrentArguments, BiasArguments, ActivityArguments, Layer):
    """What every recurrent layer takes, its cell's own `dropout` among them."""

    activation: Activation | None = "tanh"
    dropout: Rate = Field(0.0, description="Keras' input dropout inside the recurrent cell.")
    recurrent_dropout: Rate = 0.0
    return_sequences: bool = False
    return_state: Annotated[bool, ADDED_LATER] = Field(
        False, description="Also output the final state (`name.state_h`, `name.state_c`; `name.state` for gru "
        "and simple_rnn), e.g. to start a decoder from the encoder's state.")
    go_backwards: bool = False
    unroll: bool = False
    seed: Seed | None = None
    #: The names of the cell's state tensors, in Keras' order.
    states: ClassVar[tuple[str, ...]] = ("state",)
    #: With more than one input, the inputs after the first are the initial state.
    call: ClassVar[str] = "initial_state"

    def output_names(self) -> tuple[str, ...]:
        return ("output", *self.states) if self.return_state else ("output",)

    def extra_output_shapes(self, shape: Shape) -> list[Shape]:
        state = shape[1:] if self.return_sequences else shape  # the last step's output is the state
        return [state] * len(self.states) if self.return_state else []

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) not in (1, 1 + len(self.states)):
            raise ShapeError(f"{self.tag} takes a sequence, or a sequence and its initial state "
                             f"({', '.join(self.states)}): {1 + len(self.states)} inputs; got {len(shapes)}")
        out, trainable, frozen = self.infer(shapes[0])
        state = (out[1:] if self.return_sequences else out)
        for name, given in zip(self.states, shapes[1:]):
            if tuple(given) != tuple(state):
                raise ShapeError(f"the initial {name} has shape {list(given)}; {self.tag}'s state is {list(state)}")
        return out, trainable, frozen


class _Recurrent(_Sequence):
    gates: ClassVar[int] = 1

    units: PositiveInt

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 2)
        n = shape[-1]
        if n is None:
            raise ShapeError(f"{self.tag} needs a known feature (last) dimension")
        u = self.units
        params = self.gates * (u * (n + u)) + self._bias_params()
        return ((shape[0], u) if self.return_sequences else (u,)), params, 0

    def _bias_params(self) -> int:
        return self.gates * self.units if self.use_bias else 0


class SimpleRNN(_Recurrent):
    keras_class = "SimpleRNN"
    type: Literal["simple_rnn"]


class LSTM(_Recurrent):
    keras_class = "LSTM"
    gates = 4
    states = ("state_h", "state_c")
    type: Literal["lstm"]
    recurrent_activation: Activation = "sigmoid"
    unit_forget_bias: bool = True


class GRU(_Recurrent):
    keras_class = "GRU"
    gates = 3
    type: Literal["gru"]
    recurrent_activation: Activation = "sigmoid"
    reset_after: bool = True

    def _bias_params(self) -> int:
        if not self.use_bias:
            return 0
        return 3 * self.units * (2 if self.reset_after else 1)


class Bidirectional(Layer):
    keras_class = "Bidirectional"
    type: Literal["bidirectional"]
    layer: Annotated[Union[SimpleRNN, LSTM, GRU], Field(discriminator="type", description="The recurrent layer to wrap.")]
    merge_mode: Literal["concat", "sum", "mul", "ave"] | None = "concat"

    @model_validator(mode="after")
    def _one_output(self) -> "Bidirectional":
        if self.layer.return_state:
            raise ValueError("a bidirectional layer's states (return_state) are not supported yet; "
                             "return_state works on the recurrent layer itself")
        return self

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        out, params, _ = self.layer.infer(shape)
        if self.merge_mode == "concat":
            last = out[-1]
            out = out[:-1] + (None if last is None else last * 2,)
        elif self.merge_mode is None:
            raise ShapeError("merge_mode null returns two outputs; a stack needs one (use concat, sum, mul or ave)")
        return out, 2 * params, 0


class _ConvLSTM(_Sequence):
    """An LSTM whose input and recurrent transformations are convolutions over the 1, 2 or 3
    spatial axes of each time step: takes `(time, *space, channels)`."""

    states = ("state_h", "state_c")
    rank: ClassVar[int]  # from its Window mixin
    filters: PositiveInt
    padding: Padding = "valid"
    recurrent_activation: Activation = "sigmoid"
    unit_forget_bias: bool = True

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, self.rank + 2)
        cin = channels(self, shape)
        ks, st, dl = window(self)
        space = tuple(conv_length(n, k, s, self.padding, d) for n, k, s, d in zip(shape[1:-1], ks, st, dl))
        f = self.filters
        params = 4 * math.prod(ks) * f * (cin + f) + (4 * f if self.use_bias else 0)
        out = space + (f,)
        return ((shape[0], *out) if self.return_sequences else out), params, 0


class ConvLSTM1D(Window1D, _ConvLSTM):
    keras_class = "ConvLSTM1D"
    type: Literal["conv_lstm1d"]


class ConvLSTM2D(Window2D, _ConvLSTM):
    """An LSTM whose input and recurrent transformations are 2D convolutions: takes
    `(time, rows, cols, channels)`."""

    keras_class = "ConvLSTM2D"
    type: Literal["conv_lstm2d"]


class ConvLSTM3D(Window3D, _ConvLSTM):
    keras_class = "ConvLSTM3D"
    type: Literal["conv_lstm3d"]
