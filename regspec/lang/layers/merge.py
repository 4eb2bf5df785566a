"""Merge layers: several inputs (named in `inputs:`) become one tensor."""


from typing import Annotated, ClassVar, Literal

from pydantic import Field

from regspec.lang.layers.base import DropoutAnnotation, Layer, Shape, ShapeError


def _broadcast(tag: str, shapes: list[Shape]) -> Shape:
    """Keras' element-wise merge shape: equal ranks, each axis equal, 1 or unknown."""
    if len({len(s) for s in shapes}) != 1:
        raise ShapeError(f"{tag} needs inputs of one rank, got shapes {', '.join(str(list(s)) for s in shapes)}")
    out: list[int | None] = []
    for dims in zip(*shapes):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ShapeError(f"{tag} needs inputs of one shape, got {', '.join(str(list(s)) for s in shapes)}")
        out.append(known.pop() if known else (1 if all(d == 1 for d in dims) else None))
    return tuple(out)


class _Merge(DropoutAnnotation, Layer):
    min_inputs: ClassVar[int] = 2

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) < self.min_inputs:
            raise ShapeError(f"{self.tag} merges {self.min_inputs} or more inputs, got {len(shapes)} "
                             "(name them in `inputs:`)")
        return _broadcast(self.tag, shapes), 0, 0


class Add(_Merge):
    """Adds its inputs element-wise (residual connections)."""

    keras_class = "Add"
    type: Literal["add"]


class Subtract(_Merge):
    keras_class = "Subtract"
    type: Literal["subtract"]

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) != 2:
            raise ShapeError(f"subtract takes exactly 2 inputs, got {len(shapes)}")
        return super().infer_inputs(shapes)


class Multiply(_Merge):
    keras_class = "Multiply"
    type: Literal["multiply"]


class Average(_Merge):
    keras_class = "Average"
    type: Literal["average"]


class Maximum(_Merge):
    keras_class = "Maximum"
    type: Literal["maximum"]


class Minimum(_Merge):
    keras_class = "Minimum"
    type: Literal["minimum"]


class Concatenate(_Merge):
    """Joins its inputs along `axis` (the last by default)."""

    keras_class = "Concatenate"
    type: Literal["concatenate"]
    axis: Annotated[int, Field(ge=-8, le=8)] = -1

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) < 2:
            raise ShapeError(f"concatenate joins 2 or more inputs, got {len(shapes)} (name them in `inputs:`)")
        rank = len(shapes[0]) + 1
        if any(len(s) + 1 != rank for s in shapes) or not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ShapeError(f"concatenate on axis {self.axis} needs inputs of one rank, got "
                             f"{', '.join(str(list(s)) for s in shapes)}")
        ax = self.axis % rank - 1
        out: list[int | None] = []
        for i, dims in enumerate(zip(*shapes)):
            if i == ax:
                out.append(None if any(d is None for d in dims) else sum(d for d in dims if d is not None))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ShapeError(f"concatenate on axis {self.axis}: the other axes must match, got "
                                 f"{', '.join(str(list(s)) for s in shapes)}")
            out.append(known.pop() if known else None)
        return tuple(out), 0, 0


class Dot(_Merge):
    """Dot product of two inputs along `axes` (axes count the batch axis as 0, as in Keras)."""

    keras_class = "Dot"
    type: Literal["dot"]
    axes: int | Annotated[list[int], Field(min_length=2, max_length=2)]
    normalize: bool = False

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        if len(shapes) != 2:
            raise ShapeError(f"dot takes exactly 2 inputs, got {len(shapes)}")
        a, b = shapes
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        ia, ib = (ax % (len(s) + 1) - 1 for ax, s in zip(axes, (a, b)))
        if ia < 0 or ib < 0 or ia >= len(a) or ib >= len(b):
            raise ShapeError(f"dot axes {self.axes} do not fit shapes {list(a)} and {list(b)}")
        if a[ia] is not None and b[ib] is not None and a[ia] != b[ib]:
            raise ShapeError(f"dot: axis sizes differ ({a[ia]} and {b[ib]}) for shapes {list(a)} and {list(b)}")
        out = a[:ia] + a[ia + 1:] + b[:ib] + b[ib + 1:]
        return (out if out else (1,)), 0, 0
