"""Preprocessing and augmentation layers. The random ones may also be listed in
`data.augmentation`, where they run on training batches only."""


from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from regspec.lang.layers.base import Layer, Shape, ShapeError, need_rank
from regspec.lang.types import FillMode, Interpolation, PositiveInt, Seed

SignedFactor = Annotated[float, Field(ge=-1, le=1)]
Factor = SignedFactor | Annotated[list[SignedFactor], Field(min_length=2, max_length=2)]
UnitFactor = Annotated[float, Field(ge=0, le=1)]


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset` (e.g. scale 1/255)."""

    keras_class = "Rescaling"
    type: Literal["rescaling"]
    scale: float
    offset: float = 0.0


class Normalization(Layer):
    """Feature-wise normalization: with `mean` and `variance` given, or, without them,
    adapted to the training data before training (Keras' `adapt`)."""

    keras_class = "Normalization"
    type: Literal["normalization"]
    axis: int | None = -1
    mean: float | Annotated[list[float], Field(min_length=1)] | None = None
    variance: Annotated[float, Field(ge=0)] | Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1)] | None = None
    invert: bool = False

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Normalization":
        if (self.mean is None) != (self.variance is None):
            raise ValueError("give both mean and variance, or neither (then it adapts to the training data)")
        return self

    @property
    def adapts(self) -> bool:
        return self.mean is None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        for key in ("mean", "variance"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) not in (1, shape[-1]):
                raise ShapeError(f"{key} has {len(value)} values for {shape[-1]} features")
        if self.adapts:
            if self.axis not in (-1, len(shape)) or shape[-1] is None:  # the last axis, however it is written
                raise ShapeError("an adapted normalization needs the last axis (-1) and a known last dimension")
            return shape, 0, 2 * shape[-1] + 1  # mean, variance, count (not trainable)
        return shape, 0, 0


class Resizing(Layer):
    keras_class = "Resizing"
    type: Literal["resizing"]
    height: PositiveInt
    width: PositiveInt
    interpolation: Interpolation = "bilinear"
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        need_rank(self, shape, 3)
        return (self.height, self.width, shape[-1]), 0, 0


class _Random(Layer):
    augmentation: ClassVar[bool] = True
    seed: Seed | None = None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if len(shape) != 3:
            raise ShapeError(f"{self.tag} works on images (height, width, channels), got shape {list(shape)}")
        return shape, 0, 0


class _Geometric(_Random):
    fill_mode: FillMode = "reflect"
    interpolation: Literal["nearest", "bilinear"] = "bilinear"
    fill_value: float = 0.0


class RandomFlip(_Random):
    keras_class = "RandomFlip"
    type: Literal["random_flip"]
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal_and_vertical"


class RandomRotation(_Geometric):
    """Rotates by a random fraction of a full turn in [-factor, factor] (0.1 = +-36 degrees)."""

    keras_class = "RandomRotation"
    type: Literal["random_rotation"]
    factor: Factor


class RandomZoom(_Geometric):
    """Zooms by a random fraction: height_factor 0.2 zooms out or in by up to 20%."""

    keras_class = "RandomZoom"
    type: Literal["random_zoom"]
    height_factor: Factor
    width_factor: Factor | None = None


class RandomTranslation(_Geometric):
    """Shifts by a random fraction of the height and width."""

    keras_class = "RandomTranslation"
    type: Literal["random_translation"]
    height_factor: Factor
    width_factor: Factor


class RandomShear(_Geometric):
    """Shears by a random fraction of the image size along x and y."""

    keras_class = "RandomShear"
    type: Literal["random_shear"]
    x_factor: UnitFactor | Annotated[list[SignedFactor], Field(min_length=2, max_length=2)] = Field(
        0.0, description="f shears by up to f either way; [lower, upper] gives the range.")
    y_factor: UnitFactor | Annotated[list[SignedFactor], Field(min_length=2, max_length=2)] = 0.0

    @classmethod
    def from_keras_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for key in ("x_factor", "y_factor"):
            value = out.get(key)
            if isinstance(value, list) and len(value) == 2 and value[0] == -value[1] and value[1] >= 0:
                out[key] = float(value[1])  # Keras records f as its range [-f, f]
                if out[key] == cls.model_fields[key].default:
                    del out[key]
        return out


class RandomContrast(_Random):
    keras_class = "RandomContrast"
    type: Literal["random_contrast"]
    factor: UnitFactor | Annotated[list[UnitFactor], Field(min_length=2, max_length=2)]
    value_range: Annotated[list[float], Field(min_length=2, max_length=2)] = [0, 255]


class RandomBrightness(_Random):
    keras_class = "RandomBrightness"
    type: Literal["random_brightness"]
    factor: Factor
    value_range: Annotated[list[float], Field(min_length=2, max_length=2)] = [0, 255]
