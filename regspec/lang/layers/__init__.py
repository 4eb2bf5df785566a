"""Every layer kind, registered by its `type` tag. Importing this package fills LAYERS."""

from regspec.lang.layers import (  # noqa: F401  # importing a module registers its kinds
    activations,
    attention,
    conv,
    core,
    lookup,
    merge,
    normalization,
    operations,
    pooling,
    preprocessing,
    recurrent,
    reshaping,
    wrappers,  # noqa: F401, I001  # last: it wraps any kind registered above
)
from regspec.lang.layers.base import LAYERS, Layer, Shape, ShapeError, WeightedLayer

__all__ = ["LAYERS", "Layer", "Shape", "ShapeError", "WeightedLayer"]
