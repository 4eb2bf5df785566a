"""Keras operations as graph nodes: what functional code writes as `x + y`, `x * 0.5` or
`ops.mean(x, axis=1)`. A vetted set, each built with its `keras.ops` function so that the model's
config holds the same operation nodes (`keras.src.ops.numpy.Add`, ...); nothing else runs.

A binary operation takes two inputs, or one input and a `constant` (the second operand, as in
`x + 3.0`). Reductions take `axis` (never the batch axis) and `keepdims`.
"""


from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from regspec.lang.layers.base import Layer, Shape, ShapeError

NUMPY = "keras.src.ops.numpy"
NN = "keras.src.ops.nn"

Axis = Annotated[int, Field(ge=-8, le=8)]


class Operation(Layer):
    """A node computed by a `keras.ops` function (`function`), recorded by Keras as the operation
    class `keras_class` of `keras_module`. It has no weights."""

    keras_module: ClassVar[str] = NUMPY
    function: ClassVar[str]

    def operation_arguments(self) -> dict[str, Any]:
        """The keyword arguments of the `keras.ops` call (and of the recorded operation's config)."""
        return {}

    def keras_arguments(self) -> dict[str, Any]:
        return self.operation_arguments()

    def second_operand(self) -> float | None:
        """A constant operand (``x + 3.0``), after the tensor operands."""
        return None


def _broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy's broadcasting of two shapes (without the batch axis; None: unknown)."""
    out: list[int | None] = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            raise ShapeError(f"shapes {list(a)} and {list(b)} do not broadcast")
    return tuple(reversed(out))


class _Binary(Operation):
    constant: int | float | None = Field(None, description="The second operand when there is one input (`x + 3.0`; "
                                          "an integer keeps integer tensors integer: `positions - 1`).")

    def second_operand(self) -> float | None:
        return self.constant

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if self.constant is not None:
            if len(shapes) != 1:
                raise ShapeError(f"{self.tag} with a constant takes one input, got {len(shapes)}")
            return shapes[0], 0, 0
        if len(shapes) != 2:
            raise ShapeError(f"{self.tag} takes two inputs (or one and a constant), got {len(shapes)}")
        return _broadcast(shapes[0], shapes[1]), 0, 0


class _Unary(Operation):
    """One input, elementwise: the output has its shape."""


def _kind(base: type[Operation], cls: str, function: str, module: str = NUMPY, doc: str | None = None) -> type[Operation]:
    """The kind `ops.<function>`: its keras.ops function, recorded by Keras as `module.cls`."""
    made = type(f"Ops{cls}", (base,), {
        "__module__": __name__, "__qualname__": f"Ops{cls}", "__annotations__": {"type": Literal[f"ops.{function}"]},
        "keras_class": cls, "function": function, "keras_module": module,
        "__doc__": doc or f"`keras.ops.{function}`.",
    })
    globals()[made.__name__] = made  # found by its name, as the schema cache looks classes up
    return made


# The operations of keras.applications and the Keras code examples, by keras.ops name.
BINARY = [
    _kind(_Binary, "Add", "add"), _kind(_Binary, "Subtract", "subtract"), _kind(_Binary, "Multiply", "multiply"),
    _kind(_Binary, "Divide", "divide"), _kind(_Binary, "Maximum", "maximum"), _kind(_Binary, "Minimum", "minimum"),
    _kind(_Binary, "TrueDivide", "true_divide", doc="What `x / y` records (`keras.ops.divide` records Divide)."),
]
UNARY = [
    _kind(_Unary, "Relu", "relu", NN), _kind(_Unary, "Relu6", "relu6", NN), _kind(_Unary, "Sigmoid", "sigmoid", NN),
    _kind(_Unary, "HardSigmoid", "hard_sigmoid", NN), _kind(_Unary, "HardSilu", "hard_silu", NN),
    _kind(_Unary, "Silu", "silu", NN), _kind(_Unary, "Tanh", "tanh"), _kind(_Unary, "Sqrt", "sqrt"),
    _kind(_Unary, "Square", "square"), _kind(_Unary, "Exp", "exp"), _kind(_Unary, "Absolute", "abs"),
    _kind(_Unary, "Negative", "negative"),
]


class _Reduce(Operation):
    axis: Axis | Annotated[list[Axis], Field(min_length=1, max_length=8)] = Field(
        description="The axes to reduce (1 is the first after the batch axis; -1 the last).")
    keepdims: bool = False

    def operation_arguments(self) -> dict[str, Any]:
        return {"axis": self.axis, "keepdims": self.keepdims}

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) != 1:
            raise ShapeError(f"{self.tag} takes one input, got {len(shapes)}")
        shape = shapes[0]
        rank = len(shape) + 1  # with the batch axis
        axes = {a % rank for a in (self.axis if isinstance(self.axis, list) else [self.axis]) if -rank <= a < rank}
        wanted = self.axis if isinstance(self.axis, list) else [self.axis]
        if len(axes) != len(wanted):
            raise ShapeError(f"axis {self.axis} is out of range for inputs of shape {list(shape)}")
        if 0 in axes:
            raise ShapeError(f"{self.tag} may not reduce the batch axis (axis 0)")
        if self.keepdims:
            return tuple(1 if i + 1 in axes else d for i, d in enumerate(shape)), 0, 0
        return tuple(d for i, d in enumerate(shape) if i + 1 not in axes), 0, 0


class OpsMean(_Reduce):
    keras_class = "Mean"
    function = "mean"
    type: Literal["ops.mean"]


class OpsSum(_Reduce):
    keras_class = "Sum"
    function = "sum"
    type: Literal["ops.sum"]


class OpsMax(_Reduce):
    keras_class = "Max"
    function = "max"
    type: Literal["ops.max"]

    def operation_arguments(self) -> dict[str, Any]:
        return {**super().operation_arguments(), "initial": None}  # as Keras records it


class OpsOnesLike(Operation):
    """`keras.ops.ones_like(x)`: ones of the input's shape and dtype (with cumsum: positions)."""

    keras_class = "OnesLike"
    function = "ones_like"
    type: Literal["ops.ones_like"]

    def operation_arguments(self) -> dict[str, Any]:
        return {"dtype": None}  # as Keras records it: the input's dtype


class OpsCumsum(Operation):
    """`keras.ops.cumsum(x, axis)`: running sums along an axis; `ones_like` then `cumsum` over the
    sequence axis, minus 1, numbers the positions 0, 1, 2, ... for a learned position embedding."""

    keras_class = "Cumsum"
    function = "cumsum"
    type: Literal["ops.cumsum"]
    axis: Axis = Field(description="The axis to sum along (1: the first after the batch axis).")

    def operation_arguments(self) -> dict[str, Any]:
        return {"axis": self.axis, "dtype": None}

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) != 1:
            raise ShapeError(f"{self.tag} takes one input, got {len(shapes)}")
        rank = len(shapes[0]) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ShapeError(f"axis {self.axis} is out of range (or the batch axis) for inputs of shape {list(shapes[0])}")
        return shapes[0], 0, 0
