"""The pydantic models: the one source of truth of the spec language."""

from .layers import LAYERS, Layer
from .model import Spec

__all__ = ["LAYERS", "Layer", "Spec"]
