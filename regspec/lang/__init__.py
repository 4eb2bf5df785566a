"""The pydantic models: the one source of truth of the spec language."""

from regspec.lang.layers import LAYERS, Layer
from regspec.lang.model import SpecModel

__all__ = ["LAYERS", "Layer", "SpecModel"]
