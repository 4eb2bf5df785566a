"""The layer base class and the registry every layer kind joins by being defined.

A layer kind is one class: its ``type`` tag (the snake_case of the Keras class),
its Keras argument names as fields, ``keras_class``, and ``infer`` for the
static summary. Schema, validation, compilation and docs all follow from it.
"""


import math
from typing import Annotated, Any, ClassVar

from pydantic import Field

from regspec.lang.registry import Registered, Registry
from regspec.lang.types import LayerName, Rate, Regularizer

Shape = tuple[int | None, ...]  # without the batch dimension

LAYERS: "Registry[Layer]" = Registry("layer")


class ShapeError(ValueError):
    """A layer cannot take its input shape (found statically, before Keras is imported)."""


class Layer(Registered):
    registry: ClassVar[Registry[Any]] = LAYERS
    keras_class: ClassVar[str]
    #: Regspec-only keys that never reach Keras.
    own_keys: ClassVar[frozenset[str]] = frozenset({"type", "repeat", "dropout", "inputs"})
    #: How the functional API calls it with several inputs: layer([a, b]) or layer(a, b).
    call: ClassVar[str] = "list"
    #: May appear in ``data.augmentation`` (random transforms on training batches).
    augmentation: ClassVar[bool] = False

    name: LayerName | None = None
    inputs: LayerName | Annotated[list[LayerName], Field(min_length=1, max_length=64)] | None = Field(
        None, description="The model inputs or earlier layers this layer takes (default: the layer before)."
    )
    repeat: Annotated[int, Field(ge=1, le=1000)] = Field(1, description="Expand this item into n copies.")

    def keras_arguments(self) -> dict[str, Any]:
        """The Keras constructor arguments, regularizers still as :class:`Regularizer`."""
        args = {k: getattr(self, k) for k in type(self).model_fields if k not in self.own_keys}
        if args.get("name") is None:
            args.pop("name", None)
        return args

    @property
    def adapts(self) -> bool:
        """Whether training adapts this layer to the training split first (Keras' ``adapt``)."""
        return False

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        """Output shape, trainable and non-trainable parameter counts. Default: shape-preserving."""
        return shape, 0, 0

    def infer_inputs(self, shapes: list[Shape]) -> tuple[Shape, int, int]:
        """Like :meth:`infer`, for the shapes of every input (merge layers take several)."""
        if len(shapes) != 1:
            raise ShapeError(f"{self.tag} takes one input, got {len(shapes)}")
        return self.infer(shapes[0])


class WeightedLayer(Layer):
    """A layer with weights: takes regularizer annotations and a dropout annotation."""

    activity_regularizer: Regularizer | None = Field(None, description="Penalty on the layer's output.")
    dropout: Rate | None = Field(None, description="Insert a Dropout layer with this rate right after this layer.")


def prod(dims: Shape) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(d for d in dims if d is not None)


def need_rank(layer: Layer, shape: Shape, rank: int) -> None:
    if len(shape) != rank:
        raise ShapeError(
            f"{layer.tag} expects inputs of rank {rank} (plus batch), got shape {list(shape)}"
        )


def channels(layer: Layer, shape: Shape) -> int:
    c = shape[-1]
    if c is None:
        raise ShapeError(f"{layer.tag} needs a known channel (last) dimension, got shape {list(shape)}")
    return c
