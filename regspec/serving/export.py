"""`export RUN --format ...`: the serving model (preprocessing included) for serving stacks.

Through Keras' own ``model.export`` (SavedModel, ONNX via tf2onnx, LiteRT), or as a ``.keras``
file that loads in safe mode. The artifact takes raw features or raw pixels, as the data was
read before training, and gives the trained model's output. Written beside, then moved into
place: a failed export leaves nothing half-written.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import Any

from regspec.diagnostics import safe
from regspec.serving.record import Run, open_run, refuse

#: Our format name -> (Keras' format name, default file name in ``<run>/export``, the modules it needs).
FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "saved_model": ("tf_saved_model", "saved_model", ()),
    "onnx": ("onnx", "model.onnx", ("tf2onnx", "onnx")),
    "litert": ("litert", "model.tflite", ()),
    "keras": ("keras", "serving.keras", ()),
}


#: Layers holding a lookup table (tf.lookup): converted, they load in neither onnxruntime nor LiteRT's
#: interpreter (tried on the shipped tickets and census models).
LOOKUP_TABLES = frozenset({"TextVectorization", "StringLookup", "IntegerLookup"})


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out += _all_layers(layer)
    return out


def default_output(run_dir: str, fmt: str) -> str:
    return os.path.join(run_dir, "export", FORMATS[fmt][1])


def export_run(run_dir: str, fmt: str, output: str | None = None) -> tuple[str, str]:
    """Write the artifact; returns where, and a line saying what goes in and comes out."""
    from regspec.serving.model import load_trained, serving_model

    run = open_run(run_dir)
    keras_format, _, needs = FORMATS[fmt]
    missing = [m for m in needs if importlib.util.find_spec(m) is None]
    if missing:
        raise refuse(run_dir, f"{fmt} export needs {', '.join(missing)}", f"pip install 'regspec[{fmt}]'")
    output = output or default_output(run_dir, fmt)
    trained = load_trained(run)
    tables = sorted({type(layer).__name__ for layer in _all_layers(trained)} & LOOKUP_TABLES)
    if tables and fmt in ("onnx", "litert"):
        raise refuse(run_dir, f"{fmt} cannot hold the vocabulary tables of {', '.join(tables)} (its converter writes "
                     "ops that onnxruntime and LiteRT's interpreter refuse)",
                     "export saved_model or keras: both take the raw strings and keep the tables")
    model = serving_model(run, trained)
    parent = os.path.dirname(os.path.abspath(output))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=".export-")
    try:
        tmp = os.path.join(staging, os.path.basename(output.rstrip(os.sep)) or "artifact")
        _write(model, tmp, keras_format)
        if os.path.isdir(output) and not os.path.islink(output):
            shutil.rmtree(output)
        os.replace(tmp, output)
    except Exception as exc:  # noqa: BLE001 - the converter's error, named and short
        if isinstance(exc, OSError) and exc.filename:
            raise refuse(output, f"cannot write it ({safe(str(exc.strerror or exc), 120)})") from exc
        raise refuse(run_dir, f"{fmt} export failed: {type(exc).__name__}: {safe(' '.join(str(exc).split()), 300)}",
                     "run with --debug for what the converter raised") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output, describe(run, model)


def _write(model: Any, path: str, keras_format: str) -> None:
    import contextlib
    import io
    import warnings

    import numpy as np

    if keras_format == "keras":
        model.save(path)
        return
    if isinstance(model.input, dict):  # named inputs: one example of each, strings empty
        model({k: np.zeros((1, *t.shape[1:]), dtype=str if t.dtype == "string" else t.dtype)
               for k, t in model.input.items()})
    else:
        model(np.zeros((1, *model.inputs[0].shape[1:]), dtype="float32"))  # the ONNX exporter wants a called model
    # The converters print pages of progress; the command says what it wrote in one line.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.export(path, format=keras_format, verbose=False)


def describe(run: Run, model: Any) -> str:
    prep = run.prep
    if prep.named is not None:
        ins = ", ".join(f"{k} [batch, {', '.join(map(str, i.shape))}] {i.dtype}" for k, i in prep.named.inputs.items())
        return f"input: a dict of raw {ins}; output: a dict of {', '.join(prep.named.outputs)}"
    what = "pixels" if prep.image is not None else "features"
    steps = (["standardize"] if prep.mean is not None else []) + ([f"x{prep.rescale:g}"] if prep.rescale else [])
    out = list(model.outputs[0].shape[1:])
    classes = f" over classes {safe(', '.join(prep.classes), 120)}" if prep.classifier and prep.classes else ""
    return (f"input: raw {what} [batch, {', '.join(map(str, prep.raw_shape))}] float32"
            + (f" ({', '.join(steps)} inside)" if steps else "") + f"; output: [batch, {', '.join(map(str, out))}]{classes}")
