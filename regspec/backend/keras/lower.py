"""Lower the resolved program to plain Keras configs, without importing TensorFlow.

Every layer becomes ``{"class_name": ..., "config": {...}}`` in the shape
``keras.layers.serialize`` gives (nested objects carry their ``module``); the
compile section becomes the optimizer, loss and metrics Keras takes. Building
the model, `export --python` and `import` (its inverse) all go through here, so
there is one mapping from the spec language to Keras. Class names come from
the registries (``keras_class``), never from user data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regspec.ir.graph import Program
from regspec.lang.compile import LOSSES, OPTIMIZERS, CompileSection, Crossentropy
from regspec.lang.keras_form import LAYERS_MODULE, KerasValue
from regspec.lang.keras_names import NameMaker
from regspec.lang.layers import Layer
from regspec.lang.layers.operations import Operation
from regspec.lang.registry import Registered
from regspec.paths import Path


@dataclass(frozen=True)
class LoweredInput:
    id: str
    shape: tuple[int | None, ...]
    dtype: str
    path: Path


@dataclass(frozen=True)
class LoweredLayer:
    id: str
    class_name: str
    config: dict[str, Any]
    inputs: tuple[str, ...]
    path: Path
    type: str
    #: "list": layer([a, b]); "positional": layer(a, b) (multi_head_attention's query, value);
    #: "initial_state": layer(x, initial_state=[h, c]) (a recurrent layer).
    call: str = "list"
    #: Its outputs by name (`return_state`: output, state_h, state_c); inputs name the others `id.state_h`.
    output_names: tuple[str, ...] = ("output",)
    #: An operation: the `keras.ops` function that computes it, and a constant operand (`x + 3.0`).
    function: str | None = None
    constant: float | None = None
    #: A `reuse`: the id of the layer called again (its config is that layer's).
    shares: str | None = None
    #: The Keras name: the spec's, or the one a fresh Keras process would give (see NameMaker).
    name: str | None = None


@dataclass(frozen=True)
class LoweredModel:
    name: str
    inputs: tuple[LoweredInput, ...]
    layers: tuple[LoweredLayer, ...]
    outputs: tuple[str, ...]
    #: A plain stack: built as keras.Sequential (what the articles write), else functional.
    sequential: bool


def value(v: Any, brief: bool = False) -> Any:
    """A spec value as Keras takes it: a value kind's own Keras form, a nested layer's config."""
    if isinstance(v, KerasValue):
        return v.keras_form()
    if isinstance(v, Layer):
        return {"module": LAYERS_MODULE, **layer(v, brief=brief)}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


#: Arguments some Keras layers take through **kwargs (or pass to a cell) but do not list in
#: get_config(); unset, they are left out so the lowering names only what Keras records.
OMIT_IF_NONE = frozenset({"seed", "activity_regularizer"})


class DataList(list[Any]):
    """A list argument that is data (a vocabulary, bin boundaries), passed to Keras as a list:
    other list arguments (kernel sizes, factors) are passed as tuples."""


def layer(spec_layer: Layer, *, brief: bool = False) -> dict[str, Any]:
    """``{"class_name": "Dense", "config": {"units": 3, ...}}`` for one layer.

    ``brief``: only the arguments that differ from their defaults (what a person writes).
    """
    fields = type(spec_layer).model_fields
    config = {}
    for k, v in spec_layer.keras_arguments().items():
        if v is None and k in OMIT_IF_NONE:
            continue
        if brief and k in fields and not fields[k].is_required() and v == fields[k].default and not isinstance(v, Layer):
            continue
        if brief and k in spec_layer.implied_arguments():
            continue
        config[k] = DataList(v) if k in spec_layer.data_arguments and isinstance(v, list) else value(v, brief)
    return {"class_name": spec_layer.keras_class, "config": config}


def program(prog: Program) -> LoweredModel:
    inputs = tuple(LoweredInput(i.id, i.shape, i.dtype, i.path) for i in prog.inputs)
    layers = []
    policy = prog.training.mixed_precision
    # Unnamed layers get the names a fresh Keras process would give them, whatever this process
    # built before: a sweep's trials, a round trip through import and a report all agree.
    names = NameMaker({n.layer.name for n in prog.nodes if n.layer.name} | {i.id for i in prog.inputs})
    for node in prog.nodes:
        lowered = layer(node.layer)
        name = None if node.shares is not None else node.layer.name or names.next(node.layer.keras_class)
        if name is not None and not isinstance(node.layer, Operation):
            lowered["config"]["name"] = name
        if policy and not isinstance(node.layer, Operation):
            # The outputs stay float32 (Keras' mixed-precision guide): a softmax in 16 bits is not stable.
            lowered["config"]["dtype"] = "float32" if node.id in prog.outputs else policy
        op = node.layer if isinstance(node.layer, Operation) else None
        layers.append(LoweredLayer(node.id, lowered["class_name"], lowered["config"], node.inputs, node.path, node.type,
                                   node.layer.call, node.layer.output_names(), op.function if op else None,
                                   op.second_operand() if op else None, node.shares, name))
    return LoweredModel(prog.name, inputs, tuple(layers), prog.outputs, prog.is_stack)


def _arguments(model: Registered) -> dict[str, Any]:
    return {k: value(v) for k, v in model.keras_arguments().items()}


def optimizer(section: CompileSection) -> dict[str, Any]:
    opt = section.optimizer
    if isinstance(opt, str):
        return {"class_name": OPTIMIZERS[opt].keras_class, "config": {}}
    return {"class_name": opt.keras_class, "config": _arguments(opt)}


def _one_loss(value_: str | Crossentropy) -> str | dict[str, Any]:
    if isinstance(value_, Crossentropy):
        return {"class_name": LOSSES[value_.type], "config": value_.keras_arguments()}
    return value_


def loss(section: CompileSection) -> str | dict[str, Any] | None:
    """A name Keras takes as is, or a loss class with its arguments; or such a loss per output name
    (``{"per_output": {...}}``)."""
    if isinstance(section.loss, dict):
        return {"per_output": {name: _one_loss(v) for name, v in section.loss.items()}}
    if section.loss is None:
        return None
    return _one_loss(section.loss)


def metrics(section: CompileSection) -> list[str] | dict[str, list[str]]:
    if isinstance(section.metrics, dict):
        return {name: list(ms) for name, ms in section.metrics.items()}
    return list(section.metrics)


def loss_weights(section: CompileSection) -> dict[str, float] | None:
    return dict(section.loss_weights) if section.loss_weights else None
