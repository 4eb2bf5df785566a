"""Every layer kind, registered by its `type` tag. Importing this package fills LAYERS."""

from . import conv, core, normalization, pooling, preprocessing, recurrent  # noqa: F401
from .base import LAYERS, Layer, Shape, ShapeError, WeightedLayer

__all__ = ["LAYERS", "Layer", "Shape", "ShapeError", "WeightedLayer"]
