"""TimeDistributed: a wrapper whose `layer` may be any other layer kind (so this module is
imported after every other layer module, when the registry is complete)."""


from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from regspec.lang.layers.base import LAYERS, Layer, Shape, ShapeError

if TYPE_CHECKING:
    Inner = Layer
else:
    Inner = LAYERS.union(where=lambda cls: cls.keras_class not in ("InputLayer", "TimeDistributed"))


class TimeDistributed(Layer):
    """Applies `layer` to every time step (axis 1) of its input."""

    keras_class = "TimeDistributed"
    type: Literal["time_distributed"]
    layer: Inner = Field(description="The layer to apply to each step, e.g. {type: dense, units: 8}.")

    @model_validator(mode="after")
    def _plain_inner(self) -> "TimeDistributed":
        inner = self.layer
        if inner.repeat != 1 or inner.__dict__.get("inputs") is not None or (
                "dropout" in inner.annotations and inner.__dict__.get("dropout") is not None):
            raise ValueError("the wrapped layer takes no repeat, inputs or dropout annotation; put them on time_distributed")
        return self

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if len(shape) < 2:
            raise ShapeError(f"time_distributed needs inputs of rank 2 or more (plus batch), got {list(shape)}")
        out, trainable, frozen = self.layer.infer(shape[1:])
        return (shape[0], *out), trainable, frozen
