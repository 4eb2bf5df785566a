"""The root of the spec language: one file describes one model and how to train it."""


from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from regspec.lang import schema_cache
from regspec.lang.compile import CompileSection
from regspec.lang.data import AnyData
from regspec.lang.layers import LAYERS
from regspec.lang.training import TrainingSection
from regspec.lang.types import ADDED_LATER, DType, InputShape, LayerName, SpecName, Strict

if TYPE_CHECKING:  # mypy sees the base class; pydantic gets the registry's discriminated union
    from regspec.lang.layers import Layer as AnyLayer
else:
    AnyLayer = LAYERS.union()


class InputSection(Strict):
    shape: InputShape = Field(description="Input shape without the batch dimension, e.g. [150, 150, 3].")
    dtype: Annotated[DType, ADDED_LATER] = Field("float32", description="What the model takes: token ids are int32 or int64.")
    name: Annotated[LayerName | None, ADDED_LATER] = Field(
        None, description="The input's name (default `input`); layers may name it in `inputs:`.")


class NamedInput(InputSection):
    name: LayerName = Field(description="Layers take this input by naming it in `inputs:`.")
    # Written out even at its default: `inputs:` came with the graph language, dtype and all.
    dtype: DType = Field("float32", description="What the model takes: token ids are int32 or int64.")


class Block(Strict):
    """A named group of layers with parameters, used like a layer: `{block: NAME, name: INSTANCE, ...}`."""

    params: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")], Any] = Field(
        default_factory=dict, description="Parameter -> default (null: the use must give it); layers use `$name`."
    )
    layers: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=1000)] = Field(
        description="The block's layers; names are prefixed with the instance name, `$input` is what the block takes."
    )


class SpecModel(Strict):
    """A regspec model spec (language version 1)."""

    regspec: Literal[1] = Field(description="Language version.")
    name: SpecName = Field(description="Names the run directory: [a-z0-9_-]+.")
    description: str = ""
    extends: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="A parent spec, relative to this file; this file's keys are applied on top."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Path -> value, e.g. `layers.conv2.kernel_regularizer: {l1: 0.001}`."
    )
    input: InputSection | None = Field(
        None, description="The model's one input; required unless `inputs:` is given or the first layer is `{type: input}`."
    )
    inputs: Annotated[Annotated[list[NamedInput], Field(min_length=1, max_length=64)] | None, ADDED_LATER] = Field(
        None, description="Several named model inputs (instead of `input`)."
    )
    blocks: Annotated[Annotated[dict[LayerName, Block], Field(max_length=256)] | None, ADDED_LATER] = Field(
        None, description="Named blocks of layers, expanded where `layers:` uses them."
    )
    layers: Annotated[list[AnyLayer], Field(min_length=1, max_length=10_000)]
    outputs: Annotated[Annotated[list[LayerName], Field(min_length=1, max_length=64)] | None, ADDED_LATER] = Field(
        None, description="The layers whose outputs the model returns (default: the last layer)."
    )
    compile: CompileSection = Field(description="Optimizer, loss and metrics (`{}`: Keras' defaults, no loss).")
    data: AnyData | None = Field(None, description="Needed to train; a spec without it still compiles.")
    training: TrainingSection = Field(default_factory=TrainingSection)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """The generated core schema, or the per-user cached copy of it (see ``schema_cache``)."""
        if source is cls:
            cached = schema_cache.load()
            if cached is not None:
                _built["from_cache"] = True
                return cached
        return handler(source)


_built = {"from_cache": False}


def ready() -> type[SpecModel]:
    """SpecModel with its validator built: from the cache when it is current, else generated
    (0.11 s) and cached for the next process."""
    if not SpecModel.__pydantic_complete__:
        SpecModel.model_rebuild(raise_errors=True)
        if not _built["from_cache"]:
            schema_cache.store(dict(SpecModel.__pydantic_core_schema__))
    return SpecModel
