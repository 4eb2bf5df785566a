"""Every layer kind, registered by its `type` tag. Importing this package fills LAYERS."""

from regspec.lang.layers import conv, core, normalization, pooling, preprocessing, recurrent  # noqa: F401
from regspec.lang.layers.base import LAYERS, Layer, Shape, ShapeError, WeightedLayer

__all__ = ["LAYERS", "Layer", "Shape", "ShapeError", "WeightedLayer"]
