"""The layer base class and the registry every layer kind joins by being defined.

A layer kind is one class: its ``type`` tag (the snake_case of the Keras class),
its Keras argument names as fields, ``keras_class``, and ``infer`` for the
static summary. Schema, validation, compilation and docs all follow from it.
"""


import math
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field

from regspec.lang.registry import Registered, Registry
from regspec.lang.regularizers import Regularizer
from regspec.lang.types import ADDED_LATER, Constraint, Initializer, LayerName, LayerRef, Rate, Strict, WeightsPath

Shape = tuple[int | None, ...]  # without the batch dimension

LAYERS: "Registry[Layer]" = Registry("layer")


class ShapeError(ValueError):
    """A layer cannot take its input shape (found statically, before Keras is imported)."""


#: Keys every layer has that are regspec's, never Keras' arguments.
BASE_KEYS = frozenset({"type", "repeat", "inputs", "weights"})


def argument_order(keys: Iterable[str]) -> list[str]:
    """A kind's own keys first, then the shared argument groups: the order a person writes them
    in, for the schema (and so the reference and an editor's completion) and the lowering."""
    keys = list(keys)
    return [k for k in keys if k not in SHARED_FIELDS] + sorted((k for k in keys if k in SHARED_FIELDS),
                                                                key=SHARED_ORDER.index)


def _ordered_schema(schema: dict[str, Any], cls: type) -> None:
    props = schema.get("properties")
    if isinstance(props, dict):
        schema["properties"] = {k: props[k] for k in argument_order(props)}


class Layer(Registered):
    model_config = ConfigDict(json_schema_extra=_ordered_schema)
    registry: ClassVar[Registry[Any]] = LAYERS
    keras_class: ClassVar[str]
    #: The regspec annotations this kind takes (rewritten by resolve; never passed to Keras). A
    #: kind whose Keras class has an argument of the same name (a recurrent layer's `dropout`)
    #: simply does not declare the annotation.
    annotations: ClassVar[frozenset[str]] = frozenset()
    #: Regspec-only keys that never reach Keras: BASE_KEYS and the annotations (set per class).
    own_keys: ClassVar[frozenset[str]] = BASE_KEYS
    #: Arguments whose list is data (a vocabulary), passed to Keras as a list, not a tuple.
    data_arguments: ClassVar[frozenset[str]] = frozenset()
    #: Keys of Keras' config that are state, not arguments (an import skips them).
    keras_state: ClassVar[frozenset[str]] = frozenset()
    #: How the functional API calls it with several inputs: layer([a, b]) or layer(a, b).
    call: ClassVar[str] = "list"
    #: May appear in ``data.augmentation`` (random transforms on training batches).
    augmentation: ClassVar[bool] = False
    #: Adds a term to the loss whatever its arguments (then training splits out the penalty).
    adds_loss: ClassVar[bool] = False

    name: LayerName | None = None
    inputs: Annotated[LayerRef | Annotated[list[LayerRef], Field(min_length=1, max_length=64)] | None, ADDED_LATER] = Field(
        None, description="The model inputs or earlier layers this layer takes (default: the layer before); "
        "`name.state_h` takes one output of a layer with several."
    )
    repeat: Annotated[int, Field(ge=1, le=1000)] = Field(1, description="Expand this item into n copies.")
    trainable: Annotated[bool, ADDED_LATER] = Field(
        True, description="false freezes the layer: its weights stay as built (or as given) while training.")
    weights: Annotated[WeightsPath | None, ADDED_LATER] = Field(
        None, description="Start from these weights: an .npz with the layer's weights by name (kernel, bias, "
        "embeddings, ...) or in order, or an .npy with its one weight. Never unpickled.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        cls.own_keys = BASE_KEYS | cls.annotations
        super().__pydantic_init_subclass__(**kwargs)

    def keras_arguments(self) -> dict[str, Any]:
        """The Keras constructor arguments, regularizers still as their spec values, in
        :func:`argument_order`."""
        args = {k: getattr(self, k) for k in argument_order(type(self).model_fields) if k not in self.own_keys}
        if args.get("name") is None:
            args.pop("name", None)
        if args.get("trainable") is True:
            del args["trainable"]  # Keras' default; some layers' constructors do not even take it
        return args

    def output_names(self) -> tuple[str, ...]:
        """The layer's outputs, by the names `inputs:` takes them by (`encoder.state_h`); the first
        is what a layer naming just `encoder` (or the next layer in a stack) takes."""
        return ("output",)

    def extra_output_shapes(self, shape: Shape) -> list[Shape]:
        """The shapes of the outputs after the first (whose shape is ``shape``)."""
        return []

    def weight_shapes(self, shape: Shape) -> list[tuple[str, tuple[int, ...]]] | None:
        """(Keras weight name, shape) of each weight, in Keras' order, for an input of ``shape``;
        None where the kind does not say (then a given weights file is checked by its count)."""
        return None

    def implied_arguments(self) -> frozenset[str]:
        """Arguments :meth:`keras_arguments` fills in where the spec left them unset (a brief
        lowering, as a person writes it, leaves them out again)."""
        return frozenset()

    @classmethod
    def from_keras_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`keras_arguments` for an imported config's non-default arguments:
        drop what this kind implies (the default it spells out). Beside its forward rule."""
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


def dropout_name(layer_name: str | None) -> str | None:
    """The name of the Dropout layer a `dropout:` annotation inserts after the layer ``layer_name``
    (resolve makes it, import folds it back, reports name it)."""
    return f"{layer_name}_dropout" if layer_name else None


# Argument groups many Keras layers share, declared once. A kind lists the groups it takes.


class DropoutAnnotation(Strict):
    """regspec's `dropout: rate`: insert a Dropout layer right after this layer."""

    annotations: ClassVar[frozenset[str]] = frozenset({"dropout"})
    dropout: Rate | None = Field(None, description="Insert a Dropout layer with this rate right after this layer.")


class ActivityArguments(Strict):
    activity_regularizer: Regularizer | None = Field(None, description="Penalty on the layer's output.")


class KernelArguments(Strict):
    kernel_initializer: Initializer = "glorot_uniform"
    kernel_regularizer: Regularizer | None = None
    kernel_constraint: Constraint | None = None


class BiasWeights(Strict):
    """The bias's initializer, regularizer and constraint (einsum_dense has them without `use_bias`)."""

    bias_initializer: Initializer = "zeros"
    bias_regularizer: Regularizer | None = None
    bias_constraint: Constraint | None = None


class BiasArguments(BiasWeights):
    use_bias: bool = True


class RecurrentArguments(Strict):
    recurrent_initializer: Initializer = "orthogonal"
    recurrent_regularizer: Regularizer | None = None
    recurrent_constraint: Constraint | None = None


#: The shared groups' keys, in the order Keras lists them (after a kind's own arguments).
SHARED_ORDER = (*KernelArguments.__annotations__, *RecurrentArguments.__annotations__, "use_bias", *BiasWeights.__annotations__,
                *ActivityArguments.__annotations__, "dropout", "trainable")
SHARED_FIELDS = frozenset(SHARED_ORDER)


class WeightedLayer(DropoutAnnotation, ActivityArguments, Layer):
    """A layer with weights: takes the activity regularizer and the dropout annotation."""


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
