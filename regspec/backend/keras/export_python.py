"""`regspec export SPEC --python`: a standalone, readable Keras script for a spec.

The script is written from the same lowering that builds regspec's model, in the style the
articles use: imports, data loading for the spec's data source, the model (Sequential for a
stack, functional for a graph), compile, callbacks, fit, evaluate, save. It imports nothing
from regspec. ``build_model()`` and ``compile_model()`` are importable on their own; running
the file trains (``--epochs N`` overrides the spec's epochs).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from regspec.backend.keras import lower
from regspec.backend.keras.sources import INDENT, Exported, source
from regspec.ir.graph import Program
from regspec.lang.callbacks import BackupAndRestore, TerminateOnNaN
from regspec.lang.keras_form import LAYERS_MODULE, source_prefix


def py(v: Any) -> str:
    """A lowered value as Python source."""
    if isinstance(v, dict) and "class_name" in v:
        args = ", ".join(f"{k}={py(x)}" for k, x in v["config"].items())
        return f"{source_prefix(v.get('module', ''))}.{v['class_name']}({args})"
    if isinstance(v, lower.DataList):  # a vocabulary: a list, as the build passes it
        return "[" + ", ".join(py(x) for x in v) + "]"
    if isinstance(v, list):  # a tuple, as the build passes it (Keras keeps what it is given in its config)
        return "(" + ", ".join(py(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {py(x)}" for k, x in v.items()) + "}"
    return repr(v)


def _layer(item: lower.LoweredLayer, program: Program) -> str:
    brief = lower.layer(program.layer_node(item.id).layer, brief=True)
    if "dtype" in item.config:  # a mixed-precision policy (see lower.program)
        brief["config"]["dtype"] = item.config["dtype"]
    args = ", ".join(f"{k}={py(x)}" for k, x in brief["config"].items())
    return f"layers.{item.class_name}({args})"


def _identifier(node_id: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "_", node_id).strip("_") or "x"
    if name[0].isdigit() or keyword.iskeyword(name) or name in ("keras", "layers", "regularizers", "np", "model"):
        name = "t_" + name
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def model_source(program: Program) -> list[str]:
    m = lower.program(program)
    out = ["def build_model():", f'{INDENT}"""The model of {program.name}."""']
    if m.sequential:
        first = m.inputs[0]
        dtype = f", dtype={first.dtype!r}" if first.dtype != "float32" else ""
        out.append(f"{INDENT}model = keras.Sequential(name={m.name!r})")
        out.append(f"{INDENT}model.add(keras.Input(shape={_shape(first.shape)}{dtype}))")
        out += [f"{INDENT}model.add({_layer(item, program)})" for item in m.layers]
        out.append(f"{INDENT}return model")
        return out
    taken: set[str] = set()
    names: dict[str, str] = {}
    for inp in m.inputs:
        names[inp.id] = _identifier(inp.id, taken)
        dtype = f", dtype={inp.dtype!r}" if inp.dtype != "float32" else ""
        out.append(f"{INDENT}{names[inp.id]} = keras.Input(shape={_shape(inp.shape)}{dtype}, name={inp.id!r})")
    reused = {item.shares for item in m.layers if item.shares is not None}
    objects: dict[str, str] = {}  # a reused layer's id -> the variable holding the layer object
    for item in m.layers:
        names[item.id] = _identifier(item.id, taken)
        for extra in item.output_names[1:]:  # `encoder, encoder_state_h, ... = layers.LSTM(..., return_state=True)(x)`
            names[f"{item.id}.{extra}"] = _identifier(f"{item.id}_{extra}", taken)
        args = [names[i] for i in item.inputs]
        if len(args) == 1:
            call = args[0]
        elif item.call == "positional":
            call = ", ".join(args)
        elif item.call == "initial_state":
            call = f"{args[0]}, initial_state=[{', '.join(args[1:])}]"
        else:
            call = "[" + ", ".join(args) + "]"
        targets = ", ".join([names[item.id]] + [names[f"{item.id}.{e}"] for e in item.output_names[1:]])
        if item.function is not None:  # an operation: `x = keras.ops.add(a, 3.0)`
            operands = args + ([py(item.constant)] if item.constant is not None else [])
            kwargs = [f"{k}={py(v)}" for k, v in item.config.items()]
            out.append(f"{INDENT}{targets} = keras.ops.{item.function}({', '.join(operands + kwargs)})")
            continue
        if item.id in reused:  # one layer object, called here and at each reuse
            objects[item.id] = _identifier(f"{item.id}_layer", taken)
            out.append(f"{INDENT}{objects[item.id]} = {_layer(item, program)}")
            out.append(f"{INDENT}{targets} = {objects[item.id]}({call})")
        elif item.shares is not None:
            out.append(f"{INDENT}{targets} = {objects[item.shares]}({call})")
        else:
            out.append(f"{INDENT}{targets} = {_layer(item, program)}({call})")
    ins = [names[i.id] for i in m.inputs]
    outs = [names[o] for o in m.outputs]
    inputs = ins[0] if len(ins) == 1 else "[" + ", ".join(ins) + "]"
    outputs = outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
    out.append(f"{INDENT}return keras.Model(inputs={inputs}, outputs={outputs}, name={m.name!r})")
    return out


def compile_source(program: Program) -> list[str]:
    opt = lower.optimizer(program.compile)
    loss = lower.loss(program.compile)
    if isinstance(loss, dict) and "per_output" in loss:
        loss_src = "{" + ", ".join(f"{k!r}: {_loss(v)}" for k, v in loss["per_output"].items()) + "}"
    else:
        loss_src = _loss(loss)
    args = [f"optimizer=keras.optimizers.{opt['class_name']}({', '.join(f'{k}={py(v)}' for k, v in opt['config'].items())})",
            f"loss={loss_src}", f"metrics={py(lower.metrics(program.compile)) if lower.metrics(program.compile) else '[]'}"]
    weights = lower.loss_weights(program.compile)
    if weights:
        args.append(f"loss_weights={weights!r}")
    steps = program.training.steps_per_execution(program.compile.steps_per_execution)
    if steps != 1:
        args.append(f"steps_per_execution={steps}")  # Keras cuts it to the steps of an epoch
    if program.compile.jit_compile != "auto":
        args.append(f"jit_compile={program.compile.jit_compile!r}")
    return ["def compile_model(model):", f"{INDENT}model.compile(", *[f"{INDENT * 2}{a}," for a in args],
            f"{INDENT})", f"{INDENT}return model"]


def _loss(v: str | dict[str, Any] | None) -> str:
    if v is None or isinstance(v, str):
        return repr(v)
    return f"keras.losses.{v['class_name']}({', '.join(f'{k}={py(x)}' for k, x in v['config'].items())})"


def callbacks_source(program: Program) -> list[str]:
    out = ["def make_callbacks(run_dir):", f'{INDENT}os.makedirs(run_dir, exist_ok=True)', f"{INDENT}return ["]
    has_nan = False
    for cb in program.training.callbacks:
        args = cb.keras_arguments()
        if isinstance(cb, TerminateOnNaN):
            has_nan = True
        target = cb.run_path()
        parts = [f"{k}={v!r}" for k, v in args.items()]
        if target is not None:
            parts.insert(0, f"{target[0]}=os.path.join(run_dir, {target[1]!r})")
        if isinstance(cb, BackupAndRestore):
            parts.insert(0, "os.path.join(run_dir, 'backup')")
        out.append(f"{INDENT * 2}keras.callbacks.{cb.keras_class}({', '.join(parts)}),")
    if not has_nan:
        out.append(f"{INDENT * 2}keras.callbacks.TerminateOnNaN(),  # regspec ends every run whose loss diverges")
    out.append(f"{INDENT}]")
    return out


def exported_data(program: Program) -> Exported:
    """``load_data()`` -> (x, y, x_test, y_test) as arrays, or (train, test) tf.data for image folders:
    the data source's own export snippet (`sources/<type>.py`)."""
    data = program.data
    if data is None:
        return Exported([f'{INDENT}raise SystemExit("the spec has no data section: the model can be built, not trained")'])
    return source(data.tag).export(program, data)


def python_script(program: Program, source_file: str, description: str = "") -> str:
    data = program.data
    training = program.training
    loader = exported_data(program)
    arrays = data is not None and loader.arrays
    loss = program.compile.loss_name if not isinstance(program.compile.loss, dict) else None
    out = [f'"""{program.name}: {description or "a Keras model"}',
           "",
           f"Exported by `regspec export {source_file} --python`; runs without regspec.",
           '"""', "", "import argparse", "import csv", "import os", "", "import keras", "import numpy as np",
           "from keras import layers, regularizers", "", f"SEED = {training.seed!r}", f"EPOCHS = {training.epochs}",
           f"BATCH_SIZE = {training.batch_size}", "", ""]
    if loader.helpers:
        out += loader.helpers + ["", ""]
    steps = getattr(data, "augmentation", None) or []
    if steps:
        made = [py(dict(lower.layer(s, brief=True), module=LAYERS_MODULE)) for s in steps]
        out += ["# Augmentation: random preprocessing layers, applied to training batches only.",
                "augment = keras.Sequential(["] + [f"{INDENT}{m}," for m in made] + ["])", "", ""]
    out += ["def load_data():", *loader.body, "", ""]
    out += model_source(program) + ["", ""]
    out += compile_source(program) + ["", ""]
    out += callbacks_source(program) + ["", ""]
    out += ["def main():",
            f"{INDENT}parser = argparse.ArgumentParser(description=__doc__)",
            f"{INDENT}parser.add_argument('--epochs', type=int, default=EPOCHS)",
            f"{INDENT}args = parser.parse_args()",
            f"{INDENT}if SEED is not None:",
            f"{INDENT * 2}keras.utils.set_random_seed(SEED)",
            f"{INDENT}model = compile_model(build_model())",
            f"{INDENT}model.summary()"]
    if arrays:
        shape = program.inputs[0].shape if len(program.inputs) == 1 else None
        out += [f"{INDENT}x, y, x_test, y_test = load_data()"]
        if shape is not None and None not in shape:
            out += [f"{INDENT}x, x_test = x.reshape((-1, *{_shape(shape)})), x_test.reshape((-1, *{_shape(shape)}))"]
        if loss == "categorical_crossentropy":
            units = _units(program)
            out += [f"{INDENT}y, y_test = keras.utils.to_categorical(y, {units}), keras.utils.to_categorical(y_test, {units})"]
        split = data.validation_split if data is not None else None
        if split:
            out += [f"{INDENT}n_val = int(round(len(x) * {split!r}))  # the last examples, as Keras' validation_split",
                    f"{INDENT}x, x_val, y, y_val = x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]"]
        validation = "(x_val, y_val)" if split else "(x_test, y_test)"
        fit_data = "x, y, batch_size=BATCH_SIZE"
        if steps:
            out += [f"{INDENT}import tensorflow as tf", "",
                    f"{INDENT}train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED).batch(BATCH_SIZE)",
                    f"{INDENT}train = train.map(lambda a, b: (augment(a, training=True), b))  # training batches only"]
            fit_data = "train"
        out += [f"{INDENT}history = model.fit({fit_data}, epochs=args.epochs, "
                f"validation_data={validation}, callbacks=make_callbacks({program.name + '-run'!r}))",
                f"{INDENT}train = model.evaluate(x, y, batch_size=BATCH_SIZE, return_dict=True, verbose=0)",
                f"{INDENT}test = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, return_dict=True, verbose=0)"]
    else:
        per_epoch = training.steps_per_epoch
        out += [f"{INDENT}train, test = load_data()",
                f"{INDENT}history = model.fit(train{'.repeat()' if per_epoch else ''}, epochs=args.epochs, "
                f"steps_per_epoch={per_epoch!r}, validation_data=test, validation_steps={training.validation_steps!r}, "
                f"callbacks=make_callbacks({program.name + '-run'!r}))",
                f"{INDENT}train = model.evaluate(train, return_dict=True, verbose=0)",
                f"{INDENT}test = model.evaluate(test, return_dict=True, verbose=0) if test is not None else {{}}"]
    out += [f"{INDENT}print(f\"{{'':6}} {{'loss':>8}} {{'accuracy':>9}}\")",
            f"{INDENT}for split, m in (('train', train), ('test', test)):",
            f"{INDENT * 2}print(f\"{{split:6}} {{m.get('loss', float('nan')):8.4f}} {{m.get('accuracy', float('nan')):9.4f}}\")",
            f"{INDENT}model.save({program.name + '.keras'!r})",
            "", "", 'if __name__ == "__main__":', f"{INDENT}main()", ""]
    return "\n".join(out)


def _units(program: Program) -> int:
    from regspec.ir.shapes import infer_rows

    rows = {r.id: r for r in infer_rows(program)}
    shape = rows[program.outputs[0]].output_shape
    return int(shape[-1] or 1)
