"""Wrappers (time_distributed, spectral_normalization): their `layer` may be another layer kind (so this module is
imported after every other layer module, when the registry is complete)."""


from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from regspec.lang.layers.base import LAYERS, Layer, Shape, ShapeError

if TYPE_CHECKING:
    Inner = Layer
else:
    Inner = LAYERS.union(where=lambda cls: cls.keras_class not in ("InputLayer", "TimeDistributed"))


def _plain(inner: Layer, wrapper: str) -> None:
    """A wrapped layer is placed by its wrapper: it takes no repeat, inputs or dropout of its own."""
    if len(inner.output_names()) > 1:
        raise ValueError(f"{wrapper} takes a layer with one output (no return_state)")
    if inner.repeat != 1 or inner.__dict__.get("inputs") is not None or not inner.trainable or (
            "dropout" in inner.annotations and inner.__dict__.get("dropout") is not None):
        raise ValueError(f"the wrapped layer takes no repeat, inputs, trainable or dropout annotation; put them on {wrapper}")


class TimeDistributed(Layer):
    """Applies `layer` to every time step (axis 1) of its input."""

    keras_class = "TimeDistributed"
    type: Literal["time_distributed"]
    layer: Inner = Field(description="The layer to apply to each step, e.g. {type: dense, units: 8}.")

    @model_validator(mode="after")
    def _plain_inner(self) -> "TimeDistributed":
        _plain(self.layer, self.tag)
        return self

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if len(shape) < 2:
            raise ShapeError(f"time_distributed needs inputs of rank 2 or more (plus batch), got {list(shape)}")
        out, trainable, frozen = self.layer.infer(shape[1:])
        return (shape[0], *out), trainable, frozen


#: The kinds spectral normalization can wrap: their kernel's last axis is their output's channels.
SPECTRAL_INNER = ("dense", "conv1d", "conv2d", "conv3d", "embedding")


class SpectralNormalization(Layer):
    """Divides the wrapped layer's kernel by its largest singular value (a power iteration per
    training step): a Lipschitz constraint, as in spectrally normalized GANs."""

    keras_class = "SpectralNormalization"
    type: Literal["spectral_normalization"]
    layer: Inner = Field(description=f"The layer whose kernel is normalized: one of {', '.join(SPECTRAL_INNER)}.")
    power_iterations: Annotated[int, Field(ge=1, le=1000)] = 1

    @model_validator(mode="after")
    def _kernel_layer(self) -> "SpectralNormalization":
        if self.layer.tag not in SPECTRAL_INNER:
            raise ValueError(f"spectral_normalization wraps a layer with a kernel ({', '.join(SPECTRAL_INNER)}), "
                             f"not {self.layer.tag}")
        _plain(self.layer, self.tag)
        return self

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        out, trainable, frozen = self.layer.infer(shape)
        units = out[-1]
        if units is None:
            raise ShapeError("spectral_normalization needs the wrapped layer's output channels known")
        return out, trainable, frozen + units  # the power iteration's vector u
