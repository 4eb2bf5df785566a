"""Build the Keras model and its compile arguments from the lowered program.

Every layer is built by calling the Keras class its registry entry names with
the lowered arguments; user data is never handed to Keras' deserializer. Every
call that hands spec values to Keras runs under :func:`refusal`, so whatever
Keras raises is reported at the spec line that caused it (`--debug` shows the
original exception, chained).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

from regspec.backend.keras import lower
from regspec.backend.keras.env import keras
from regspec.diagnostics import SpecError
from regspec.files import fsync_file
from regspec.ir.graph import Program, SourceMap
from regspec.lang.keras_form import LAYERS_MODULE, known_module
from regspec.lang.layers import Layer
from regspec.lang.penalty import DATA_LOSS
from regspec.paths import Path

MAX_ECHO = 300


@contextlib.contextmanager
def refusal(source: SourceMap, path: Path, what: str, locate: Callable[[str], Path] | None = None) -> Iterator[None]:
    """Turn anything Keras raises into a diagnostic at ``path`` (or where ``locate`` finds in the
    message): "Keras refused {what}: ..."."""
    try:
        yield
    except SpecError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras and TensorFlow raise many kinds; all mean "refused"
        message = " ".join(str(exc).split()) or type(exc).__name__
        if len(message) > MAX_ECHO:
            message = message[:MAX_ECHO] + "..."
        raise source.error(locate(message) if locate else path, f"Keras refused {what}: {message}") from exc


def namespace(module: str) -> Any:
    """The Keras namespace of a lowered value's module (one of ``keras_form.MODULES``)."""
    found: Any = keras()
    for part in known_module(module).split(".")[1:]:
        found = getattr(found, part)
    return found


def materialize(v: Any) -> Any:
    """Lowered values -> Keras objects: every value kind's form and nested layer configs become
    instances (a module no kind lowers to is refused)."""
    if isinstance(v, dict) and "class_name" in v:
        if v.get("module") == LAYERS_MODULE:
            return from_config(v)
        return getattr(namespace(v.get("module", "")), v["class_name"])(**v["config"])
    if isinstance(v, lower.DataList):
        return list(v)  # a vocabulary or bin boundaries: the list Keras code passes
    if isinstance(v, list):
        return tuple(materialize(x) for x in v)
    return v


def from_config(lowered: dict[str, Any]) -> Any:
    cls = getattr(keras().layers, lowered["class_name"])
    config = dict(lowered["config"])
    trainable = config.pop("trainable", True)
    layer = cls(**{k: materialize(v) for k, v in config.items()})
    if trainable is False:
        layer.trainable = False  # set, not passed: not every constructor takes it
    return layer


def build_layer(layer: Layer) -> Any:
    """One Keras layer from a spec layer (used for augmentation layers outside the model too)."""
    return from_config(lower.layer(layer))


def build_model(program: Program, built: dict[str, Any] | None = None) -> Any:
    """keras.Sequential for a plain stack (as the articles write it), a functional Model for a graph;
    layers given `weights:` start from their files.

    ``built``, when given, receives each node id's Keras layer.
    """
    built = {} if built is None else built
    model = _build(program, built)
    for node in program.nodes:
        path = node.layer.__dict__.get("weights")
        if path and node.id in built and node.shares is None:
            with refusal(program.source, node.path + ("weights",), f"to load {os.path.basename(path)}"):
                set_given_weights(built[node.id], path)
    return model


def set_given_weights(layer: Any, path: str) -> None:
    """The arrays of ``path`` into ``layer``'s weights (by name, else in order); never unpickled."""
    import numpy as np

    from regspec.ir.given_weights import array_shapes, match

    names = [w.path.split("/")[-1] for w in layer.weights]
    keys = match(array_shapes(path), names)
    if path.lower().endswith(".npy"):
        arrays = [np.load(path, allow_pickle=False)]
    else:
        with np.load(path, allow_pickle=False) as f:
            arrays = [f[key] for key in keys]
    layer.set_weights(arrays)


def _stack(model: lower.LoweredModel, source: SourceMap, built: dict[str, Any], *, rebuild: bool) -> Any:
    """keras.Sequential of the stack's input and its layers (``built``). Sequential.add() rebuilds
    the whole stack each time: n layers, n(n+1)/2 layer calls. Without ``rebuild`` they are added
    first and built once; with it, each is added as the articles add it, so the one Keras refuses is
    known."""
    k = keras()
    with refusal(source, (), "the model"):
        seq = k.Sequential(name=model.name)
    first = model.inputs[0]
    with refusal(source, first.path, "the input"):
        inp = k.Input(shape=first.shape, dtype=first.dtype, name=first.id)
        seq.add(inp, rebuild=rebuild)
    for item in model.layers:
        with refusal(source, item.path, f"to build {item.type}"):
            seq.add(built[item.id], rebuild=rebuild)
    if not rebuild and model.layers:
        seq.build(tuple(inp.shape))
    return seq


def _build(program: Program, built: dict[str, Any]) -> Any:
    k = keras()
    model = lower.program(program)
    source = program.source
    if model.sequential:
        for item in model.layers:
            with refusal(source, item.path, f"to build {item.type}"):
                built[item.id] = from_config({"class_name": item.class_name, "config": item.config})
        try:
            return _stack(model, source, built, rebuild=False)  # built once, as Sequential([...]) builds
        except SpecError:
            raise
        except Exception:  # noqa: BLE001 - built again layer by layer: Keras' refusal at its layer's line
            return _stack(model, source, built, rebuild=True)
    tensors: dict[str, Any] = {}
    for inp in model.inputs:
        with refusal(source, inp.path, "the input"):
            tensors[inp.id] = k.Input(shape=inp.shape, dtype=inp.dtype, name=inp.id)
    for item in model.layers:
        with refusal(source, item.path, f"to build {item.type}"):
            if item.shares is not None:
                layer = built[item.shares]  # the same layer object, called again: the same weights
            else:
                layer = None if item.function else from_config({"class_name": item.class_name, "config": item.config})
                if layer is not None:
                    built[item.id] = layer
            args = [tensors[i] for i in item.inputs]
            if item.function is not None:  # an operation, computed by its keras.ops function as functional code does
                constant = [] if item.constant is None else [item.constant]
                result = getattr(k.ops, item.function)(*args, *constant, **item.config)
                if item.name is not None:  # ops take no name: set on the operation the call made
                    result._keras_history.operation.name = item.name
            elif layer is None:
                raise AssertionError(item.id)
            elif len(args) == 1:
                result = layer(args[0])
            elif item.call == "positional":
                result = layer(*args)  # e.g. multi_head_attention(query, value)
            elif item.call == "initial_state":
                result = layer(args[0], initial_state=args[1:])  # a decoder started from the encoder's state
            else:
                result = layer(args)
            if isinstance(result, (list, tuple)):  # return_state: `encoder.state_h` names the others
                tensors[item.id] = result[0]
                tensors.update({f"{item.id}.{name}": t for name, t in zip(item.output_names[1:], result[1:])})
            else:
                tensors[item.id] = result
    outputs = [tensors[o] for o in model.outputs]
    # Keras' last word (e.g. two layers of one name) is a diagnostic too: at the layer it names.
    with refusal(source, ("layers",), "the model", locate=_layer_named_in(model)):
        return k.Model(inputs=[tensors[i.id] for i in model.inputs],
                       outputs=outputs if len(outputs) > 1 else outputs[0], name=model.name)


def _layer_named_in(model: Any) -> Callable[[str], Path]:
    """Where a refusal of the whole model points: at the layer its message names ("The name
    "add" is used 2 times"), else at the layers' list."""
    by_name = {item.config.get("name"): item.path for item in model.layers if isinstance(item.config, dict)}

    def locate(message: str) -> Path:
        for name in re.findall(r"""["'`]([^"'`]{1,64})["'`]""", message):
            if name in by_name:
                return by_name[name]
        return ("layers",)

    return locate


def optimizer(program: Program) -> Any:
    lowered = lower.optimizer(program.compile)
    with refusal(program.source, ("compile", "optimizer"), f"the optimizer {lowered['class_name']}"):
        config = {k: materialize(v) for k, v in lowered["config"].items()}
        return getattr(keras().optimizers, lowered["class_name"])(**config)


def loss(program: Program) -> Any:
    lowered = lower.loss(program.compile)
    if isinstance(lowered, dict) and "per_output" in lowered:
        return {name: _loss(program, v, ("compile", "loss", name)) for name, v in lowered["per_output"].items()}
    return _loss(program, lowered, ("compile", "loss"))


def _loss(program: Program, lowered: str | dict[str, Any] | None, path: Path) -> Any:
    if lowered is None or isinstance(lowered, str):
        return lowered
    with refusal(program.source, path, f"the loss {lowered['class_name']}"):
        return getattr(keras().losses, lowered["class_name"])(**lowered["config"])


def compile_model(program: Program, built: dict[str, Any] | None = None, *, split_loss: bool = False,
                  steps_per_execution: int | None = None) -> Any:
    """The Keras model, compiled. ``split_loss`` (training) adds the `data_loss` metric when the
    model has penalties: the loss function alone, so that penalty = loss - data_loss.
    ``steps_per_execution``: as training chose it for its data (else the spec's, `auto` unbounded)."""
    model = build_model(program, built)
    opt, loss_ = optimizer(program), loss(program)
    metrics: Any = lower.metrics(program.compile)
    if split_loss and program.splits_loss:
        metrics = [*metrics, data_loss_metric(program)]
    section = program.compile
    with refusal(program.source, ("compile",), "to compile the model"):
        model.compile(optimizer=opt, loss=loss_, metrics=metrics, loss_weights=lower.loss_weights(section),
                      steps_per_execution=steps_per_execution
                      or program.training.steps_per_execution(section.steps_per_execution),
                      jit_compile=section.jit_compile)
    return model


def build_state(model: Any, batch_spec: Any) -> None:
    """Create the optimizer's, the metrics' and the loss trackers' variables before training
    traces its step, from the shapes of a batch (``batch_spec``: the dataset's element_spec).

    Keras on TensorFlow (without a distribution strategy, which does this itself) creates them
    while tracing the first step, and a tf.function that creates variables is traced twice: the
    first epoch of the digits MLP takes 0.7-0.8 s instead of 1.8-2.2 s, with the same weights
    after training."""
    build = getattr(model, "_symbolic_build", None)  # Keras' own, as a strategy runs it
    try:
        if build is not None:
            build(data_batch=batch_spec)
        elif model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    except Exception:  # noqa: BLE001, S110 - what is not built here, Keras builds while tracing, as before
        pass


def data_loss_metric(program: Program) -> Any:
    """The loss function as a metric, averaged over examples as Keras averages the loss."""
    k = keras()
    section = program.compile
    first = section.loss
    arguments = {} if isinstance(first, str) or first is None or isinstance(first, dict) else first.keras_arguments()
    fn = k.losses.get(section.loss_name)
    return k.metrics.MeanMetricWrapper(fn, name=DATA_LOSS, **arguments)


def space_short(model: Any, folder: str) -> str | None:
    """Why ``folder``'s disk cannot take a save of ``model``'s weights (twice, and a margin), or
    None. A full disk mid-write can crash h5py outright (a segfault, no exception): check first."""
    need = 2 * sum(int(w.numpy().nbytes) for w in model.weights) + (1 << 20)
    free = shutil.disk_usage(folder).free
    return f"({free:,} bytes free, {need:,} needed)" if free < need else None


def save_model(model: Any, path: str) -> None:
    """Save atomically and durably: a crash never leaves a half-written .keras file, and once
    this returns the file survives one (a finished backup points to it)."""
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, ".tmp-" + os.path.basename(path))
    short = space_short(model, folder)
    if short:
        raise OSError(errno.ENOSPC, f"No space left on device {short}", path)
    try:
        model.save(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a half-written file would hold the last free bytes
            os.unlink(tmp)
        raise
