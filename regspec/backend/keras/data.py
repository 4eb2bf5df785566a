"""Turn the `data` section into tf.data pipelines, refusing bad data before training.

Each data source kind has its module in `sources/` (named by the tag of its `lang.data`
class) with its loader and its export snippet. Array sources (sklearn, csv, npz, keras,
tfds) load into NumPy and are checked and batched here; image folders stream through
image_dataset_from_directory. Augmentation runs on training batches only;
evaluation on the train split uses the un-augmented pipeline. Every refusal
is reported at the `data` key that caused it.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from regspec.backend.keras.build import build_layer, refusal
from regspec.backend.keras.threads import cores
from regspec.diagnostics import SpecError
from regspec.ir.graph import Program
from regspec.ir.shapes import infer_rows
from regspec.rundir.records import ImageRecord, NamedInput, NamedOutput, NamedRecord, PreprocessingRecord, Standardize

MAX_ECHO = 80  # characters of a data file's content shown in a message


#: Evaluation (validation each epoch, the train and test metrics at the end) takes up to this
#: many training batches at once, within EVAL_BYTES of inputs: the same results in fewer steps
#: (Keras averages the loss over examples and metrics count them, whatever the batch; activity
#: penalties are per example). digits: 7 ms less an epoch, of 67.
EVAL_BATCHES = 4
EVAL_BYTES = 4 << 20


def eval_batch_size(program: Program, xs: Any) -> int:
    """The batch evaluation takes for inputs ``xs`` (one array, or one per input): the training
    batch where rows have no fixed size (text)."""
    bs = program.training.batch_size
    arrays = list(xs.values()) if isinstance(xs, dict) else [xs]
    if any(a.dtype.kind in "OSUV" for a in arrays):
        return bs
    row = sum(a.nbytes // max(len(a), 1) for a in arrays)
    return max(bs, min(EVAL_BATCHES * bs, EVAL_BYTES // max(row, 1)))


@dataclass
class Datasets:
    train: Any  # batched, shuffled, augmented; repeats when steps_per_epoch is set
    train_eval: Any  # batched, not augmented, one pass
    validation: Any | None
    test: Any | None
    #: What was done to the examples on their way to the model (the run keeps it: see runtime.serving).
    preprocessing: PreprocessingRecord | None = None
    #: The training examples in memory, by model input (array sources): what adapting layers read
    #: when a model input feeds them, without a pass through the batched pipeline.
    train_inputs: dict[str, np.ndarray] | None = None
    #: The batch the train and test metrics are evaluated in (see eval_batch_size).
    eval_batch: int | None = None


@dataclass
class Loaded:
    """Arrays from a source, and what the run must remember to treat new data the same way."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    features: list[str] | None = None  # column names of x, in order
    label: str | None = None  # the label column's name
    classes: list[str] | None = None  # class names by class id
    mean: np.ndarray | None = None  # standardization fitted on the train split
    scale: np.ndarray | None = None


@dataclass
class Named:
    """Arrays by model input and labels by output name ("": the one output), from a source that
    names them (data.inputs, data.outputs)."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    x_test: dict[str, np.ndarray]
    y_test: dict[str, np.ndarray]
    columns: dict[str, list[str]]  # model input -> the columns that feed it
    labels: dict[str, str]  # output -> its label column
    classes: dict[str, list[str] | None]  # output -> class names by id (None: the ids are the names)


class DataError(SpecError):
    pass


def fail(program: Program, key: str, message: str, hint: str | None = None) -> DataError:
    path = ("data", *key.split(".")) if key else ("data",)  # `inputs.title`: data.inputs.title
    err = program.source.error(path, message, hint)
    return DataError(err.diagnostics)


def check_path(program: Program, key: str, path: str, *, folder: bool) -> None:
    try:
        st = os.stat(path)
    except OSError:
        raise fail(program, key, f"{path} does not exist", _where_hint(program)) from None
    if folder and not stat.S_ISDIR(st.st_mode):
        raise fail(program, key, f"{path} is not a folder")
    if not folder and not stat.S_ISREG(st.st_mode):
        raise fail(program, key, f"{path} is not a regular file")
    if not folder and st.st_size == 0:
        raise fail(program, key, f"{path} is empty")


def _where_hint(program: Program) -> str | None:
    hint = program.data.hint if program.data is not None else None
    return " ".join(hint.split()) if hint else None


def load_data(program: Program, seed: int | None) -> Datasets:
    data = program.data
    if data is None:
        raise fail(program, "", "the spec has no data section: it can be compiled, not trained")
    from regspec.backend.keras.sources import UnknownSource, source

    try:
        module = source(data.tag)
    except UnknownSource:
        raise fail(program, "type", f"regspec has no loader for data type {data.tag!r}") from None
    with refusal(program.source, ("data",), f"to load the {data.tag} data"):
        got = module.load(program, data, seed)
    if isinstance(got, Datasets):
        return got
    if isinstance(got, Named):
        return _from_named(program, got, seed)
    return _from_arrays(program, got, seed=seed)


# ----------------------------------------------------------------------------- arrays


def short(text: str) -> str:
    """A piece of a data file, safe to echo: printable, and short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= MAX_ECHO else clean[:MAX_ECHO] + "..."


def split_indices(program: Program, n: int, test_size: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The train and test rows of ``n`` examples, the very ones scikit-learn's `train_test_split`
    picks (an exported script calls it), without importing its model_selection: 0.06 s of every
    run with a test split to make (Keras itself imports scikit-learn's base)."""
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train <= 0:
        raise fail(program, "", f"{n} example{'s' * (n != 1)}: a test split of {test_size:g} leaves none to train on",
                   "add examples, or give the test split its own file")
    # train_test_split's ShuffleSplit: one permutation, the test rows first (no seed: NumPy's global one)
    order = np.random.RandomState(seed).permutation(n) if seed is not None else np.random.permutation(n)
    return order[n_test:], order[:n_test]


def split_arrays(program: Program, x: np.ndarray, y: np.ndarray, test_size: float, seed: int | None) -> Loaded:
    keep, held = split_indices(program, len(x), test_size, seed)
    return Loaded(x[keep], y[keep], x[held], y[held])


def standardize(got: Loaded) -> Loaded:
    """Zero mean, unit variance, fitted on the train split only (no test leakage); a constant
    feature keeps scale 1."""
    mean = got.x.mean(axis=0)
    std = got.x.std(axis=0)
    std[std == 0] = 1.0
    got.x, got.x_test = (got.x - mean) / std, (got.x_test - mean) / std
    got.mean, got.scale = mean, std
    return got


def model_input_shape(program: Program) -> tuple[int | None, ...]:
    if len(program.inputs) != 1:
        raise fail(program, "", "array data feeds one model input; this model has "
                    f"{len(program.inputs)} ({', '.join(i.id for i in program.inputs)})")
    return program.inputs[0].shape


def output_units(program: Program, output: str | None = None) -> int | None:
    if output is None and len(program.outputs) != 1:
        raise fail(program, "", f"array data has one label per example; this model has {len(program.outputs)} outputs",
                   "name each output's label column: data.outputs")
    rows = {r.id: r for r in infer_rows(program)}
    out = rows.get(output or program.outputs[0])
    return out.output_shape[-1] if out is not None and out.output_shape else None


def _as_input(program: Program, x: np.ndarray, split: str, scale: float | None) -> np.ndarray:
    """Examples as the model's input takes them: numbers as float32 (rescaled), or, into an
    integer or string input (a lookup's), its own dtype."""
    dtype = program.inputs[0].dtype if len(program.inputs) == 1 else "float32"
    if dtype == "string" or dtype.startswith(("int", "uint")):
        if scale:
            raise fail(program, "rescale", f"rescales numbers; the model's input takes {dtype} values")
        try:
            typed = np.asarray(x).astype(str if dtype == "string" else dtype)
        except (TypeError, ValueError) as exc:
            raise fail(program, "", f"{split} examples are not {dtype} values ({short(str(exc))})") from None
        return _fit_shape(program, typed, split)
    return _fit_shape(program, np.asarray(x, dtype="float32") * (scale or 1.0), split)


def _fit_shape(program: Program, x: np.ndarray, split: str) -> np.ndarray:
    """Reshape examples to the model's input shape when the element counts agree."""
    want = model_input_shape(program)
    have = x.shape[1:]
    if have == want or None in want:
        return x
    if math.prod(have) == math.prod(d for d in want if d is not None):  # no None in want: checked above
        return x.reshape((x.shape[0], *want))
    raise fail(program, "", f"{split} examples have shape {list(have)}, the model's input is {list(want)}",
                "set input.shape to the data's shape")


def _labels(program: Program, y: np.ndarray, split: str, num_classes: int | None,
            output: str | None = None) -> np.ndarray:
    """Check the labels fit the loss and the output layer, and encode them for the loss
    (``output``: of that output; None: of the one output)."""
    loss = program.compile.task_of(output).loss if output else program.compile.loss_name
    if y.ndim == 2 and y.shape[1] == 1 and np.issubdtype(y.dtype, np.integer):
        y = y.ravel()  # CIFAR's labels come as (n, 1)
    units = output_units(program, output)
    if output:
        split = f"{split} {output!r}"
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            if y.ndim == 2 and loss != "sparse_categorical_crossentropy":
                return y.astype("float32")  # already one-hot / multi-label
            raise fail(program, "", f"{split} labels must be integer class ids for {loss}")
        if y.min() < 0:
            raise fail(program, "", f"{split} labels include {int(y.min())}; class ids start at 0")
        top = int(y.max())
        if loss == "binary_crossentropy":
            if top > 1:
                raise fail(program, "", f"{split} labels go up to {top} but binary_crossentropy needs 0/1 labels",
                            f"{top + 1} classes: use {top + 1} softmax units with categorical_crossentropy")
            if units != 1:
                raise fail(program, "", f"binary labels need 1 output unit; the last layer has {units}")
            return y.astype("float32")
        n = num_classes or top + 1
        if units is not None and top >= units:
            raise fail(program, "", f"{split} labels go up to {top} but the last layer has {units} unit(s)",
                        f"the data has at least {top + 1} classes")
        if loss == "categorical_crossentropy":
            return np.eye(units or n, dtype="float32")[y]
        return y
    return y.astype("float32")


def _from_arrays(program: Program, got: Loaded, seed: int | None) -> Datasets:
    x, y, xt, yt = got.x, got.y, got.x_test, got.y_test
    if len(x) == 0:
        raise fail(program, "", "the train split is empty")
    if len(xt) == 0:
        raise fail(program, "", "the test split is empty")
    data = program.data
    assert data is not None
    scale = getattr(data, "rescale", None)
    raw_shape = list(np.shape(x)[1:])
    x, xt = _as_input(program, x, "train", scale), _as_input(program, xt, "test", scale)
    for split, arr in (("train", x), ("test", xt)) if x.dtype.kind == "f" else ():
        if not np.all(np.isfinite(arr)):
            bad = int(np.argwhere(~np.isfinite(arr.reshape(len(arr), -1)))[0][0])
            raise fail(program, "", f"{split} example {bad} has a NaN or infinite value",
                        "every value must be a finite number")
    classes = int(max(y.max(), yt.max()) + 1) if np.issubdtype(y.dtype, np.integer) else None
    classifier = program.compile.task.classifier
    if classifier and y.ndim == 1 and len(np.unique(y)) < 2:
        raise fail(program, "", f"the train labels hold one class only ({short(str(np.unique(y)[0]))})",
                    "a classifier needs examples of at least two classes")
    if classifier and y.ndim == 1 and yt.ndim == 1:
        unseen = sorted(set(np.unique(yt).tolist()) - set(np.unique(y).tolist()))
        if unseen:
            print(f"warning: the test split has class(es) {short(str(unseen))} that training never sees",
                  file=sys.stderr)
    if len(x) < program.training.batch_size:
        print(f"warning: {len(x)} training examples, fewer than one batch ({program.training.batch_size}): "
              "every step sees the whole training set", file=sys.stderr)
    y = _labels(program, y, "train", classes)
    yt = _labels(program, yt, "test", classes)
    val = None
    if data.validation_split:
        n_val = int(round(len(x) * data.validation_split))
        if n_val == 0 or n_val == len(x):
            raise fail(program, "validation_split", f"leaves an empty split ({len(x)} training examples)")
        # Like Keras' validation_split: the last examples, before shuffling.
        x, xv, y, yv = x[:-n_val], x[-n_val:], y[:-n_val], y[-n_val:]
        val = (xv, yv)
    standardize = None
    if got.mean is not None and got.scale is not None:
        standardize = Standardize(mean=tuple(got.mean.astype(float).tolist()), scale=tuple(got.scale.astype(float).tolist()))
    record = preprocessing_record(program, raw_shape=raw_shape, features=got.features, label=got.label,
                                  classes=got.classes, rescale=scale, standardize=standardize)
    return _pipelines(program, x, y, val, xt, yt, seed, record, {program.inputs[0].id: x})


def _pipelines(program: Program, x: Any, y: Any, val: tuple[Any, Any] | None, xt: Any, yt: Any, seed: int | None,
               record: PreprocessingRecord, train_inputs: dict[str, np.ndarray]) -> Datasets:
    """The datasets over arrays in memory (an array, or a dict of them by input or output): the
    training batches shuffled (and augmented), evaluation in batches of up to 4 training batches."""
    import tensorflow as tf

    bs = program.training.batch_size
    eval_bs = eval_batch_size(program, x)
    val_bs = bs if program.training.validation_steps else eval_bs  # it counts batches of the training size

    def batches(xs: Any, ys: Any, size: int = eval_bs) -> Any:
        return tf.data.Dataset.from_tensor_slices((xs, ys)).batch(size)

    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(_first(y)), seed=seed,
                                                               reshuffle_each_iteration=True).batch(bs)
    train = augment(program, train)
    if program.training.steps_per_epoch:
        train = train.repeat()
    validation = batches(*val, val_bs) if val is not None else batches(xt, yt, val_bs)
    # Arrays in memory: the pipeline only slices, shuffles and batches, which threads do not speed
    # up, while tf.data's own pool and its autotuning compete with training for the cores (two
    # sweep workers on two cores: 1.24 s a trial with them, 0.89 s without; bench/bench_sweep.py).
    quiet = tf.data.Options()
    quiet.threading.private_threadpool_size = 1
    quiet.threading.max_intra_op_parallelism = 1
    quiet.autotune.enabled = False
    return Datasets(
        train=_prefetched(train).with_options(quiet), train_eval=batches(x, y).with_options(quiet),
        validation=validation.with_options(quiet), test=batches(xt, yt).with_options(quiet), preprocessing=record,
        train_inputs=train_inputs, eval_batch=eval_bs,
    )


def _prefetched(train: Any) -> Any:
    """The training batches, the next one made while a step runs when another core can make it.
    On one core (a sweep worker with a core of its own) the handoff to tf.data's thread only
    costs: 8 iris trials of `--jobs 2` on two cores, 2.08x instead of 1.84x the trials per hour
    of `--jobs 1`; with two cores it gains (iris' epoch 1.19x slower without it)."""
    return train.prefetch(1) if cores() > 1 else train


def _named_input(program: Program, name: str, x: np.ndarray, split: str) -> np.ndarray:
    """One named input's column(s) as the input takes them: a scalar input one column, a vector
    input as many columns as its size."""
    node = next(i for i in program.inputs if i.id == name)
    want = node.shape
    if want == () and x.ndim == 2 and x.shape[1] == 1:
        return x.reshape(len(x))
    if None in want or x.shape[1:] == want:
        return x
    dims = [int(d) for d in want if d is not None]
    if math.prod(x.shape[1:]) == math.prod(dims):
        return x.reshape((len(x), *dims))
    raise fail(program, f"inputs.{name}", f"{split}: input {name!r} has shape {list(want)}, "
                                          f"its {x.shape[1] if x.ndim == 2 else 1} column(s) give {list(x.shape[1:])}",
               f"give {math.prod(dims)} column(s), or set the input's shape")


def _from_named(program: Program, got: Named, seed: int | None) -> Datasets:
    """Named inputs and outputs (dicts of arrays) into tf.data pipelines of (inputs, labels)."""
    names = [i.id for i in program.inputs]
    missing = [n for n in names if n not in got.x]
    if missing:
        raise fail(program, "inputs", f"model input(s) {', '.join(map(repr, missing))} have no column",
                   "map every model input to its column(s) in data.inputs")
    for name in got.x:
        if name not in names:
            raise fail(program, f"inputs.{name}", f"{name!r} is not a model input", f"inputs: {', '.join(names)}")
    outputs = list(program.outputs)
    if "" in got.y:  # `label`: the one output
        if len(outputs) != 1:
            raise fail(program, "label", f"the model has {len(outputs)} outputs; one label column feeds one",
                       "name each output's label column in data.outputs")
        got.y, got.y_test = {outputs[0]: got.y[""]}, {outputs[0]: got.y_test[""]}
        got.classes = {outputs[0]: got.classes.get("")}
    for o in outputs:
        if o not in got.y:
            raise fail(program, "outputs", f"output {o!r} has no label column", "map every output in data.outputs")
    for o in got.y:
        if o not in outputs:
            raise fail(program, f"outputs.{o}", f"{o!r} is not a model output", f"outputs: {', '.join(outputs)}")
    n, nt = len(next(iter(got.y.values()))), len(next(iter(got.y_test.values())))
    if n == 0:
        raise fail(program, "", "the train split is empty")
    if nt == 0:
        raise fail(program, "", "the test split is empty")
    x: Any = {k: _named_input(program, k, v, "train") for k, v in got.x.items()}
    xt: Any = {k: _named_input(program, k, v, "test") for k, v in got.x_test.items()}
    for split, arrays in (("train", x), ("test", xt)):
        for k, arr in arrays.items():
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                bad = int(np.argwhere(~np.isfinite(arr.reshape(len(arr), -1)))[0][0])
                raise fail(program, f"inputs.{k}", f"{split} example {bad} of input {k!r} has a NaN or infinite value",
                           "every value must be a finite number")
    y_named = {o: _labels(program, got.y[o], "train", _n_classes(got, o), o) for o in outputs}
    yt_named = {o: _labels(program, got.y_test[o], "test", _n_classes(got, o), o) for o in outputs}
    # Keras takes one output's labels as an array
    y: Any = y_named[outputs[0]] if len(outputs) == 1 else y_named
    yt: Any = yt_named[outputs[0]] if len(outputs) == 1 else yt_named
    if len(names) == 1:  # one input (a Sequential among them) takes its array, not a dict
        x, xt = x[names[0]], xt[names[0]]
    data = program.data
    assert data is not None
    bs = program.training.batch_size
    val = None
    if data.validation_split:
        n_val = int(round(n * data.validation_split))
        if n_val == 0 or n_val == n:
            raise fail(program, "validation_split", f"leaves an empty split ({n} training examples)")
        head, tail = slice(None, -n_val), slice(-n_val, None)
        val = (_take(x, tail), _take(y, tail))
        x, y = _take(x, head), _take(y, head)
    if len(_first(y)) < bs:
        print(f"warning: {len(_first(y))} training examples, fewer than one batch ({bs}): "
              "every step sees the whole training set", file=sys.stderr)

    by_id = {i.id: i for i in program.inputs}
    named = NamedRecord(
        inputs={k: NamedInput(columns=tuple(got.columns.get(k, ())), dtype=by_id[k].dtype, shape=by_id[k].shape)
                for k in names},
        outputs={o: NamedOutput(label=got.labels.get(o, got.labels.get("", "")),
                                classes=None if got.classes.get(o) is None else tuple(got.classes[o] or ()),
                                loss=program.compile.task_of(o).loss, from_logits=program.compile.task_of(o).from_logits)
                 for o in outputs})
    record = PreprocessingRecord(source=data.tag, raw_shape=(), input_shape=(), named=named,
                                 loss=program.compile.task_of(outputs[0]).loss)
    return _pipelines(program, x, y, val, xt, yt, seed, record, x if isinstance(x, dict) else {names[0]: x})


def _n_classes(got: Named, output: str) -> int | None:
    ys = (got.y[output], got.y_test[output])
    if all(np.issubdtype(a.dtype, np.integer) and a.size for a in ys):
        return int(max(a.max() for a in ys) + 1)
    return None


def _take(arrays: Any, part: slice) -> Any:
    return {k: v[part] for k, v in arrays.items()} if isinstance(arrays, dict) else arrays[part]


def _first(arrays: Any) -> np.ndarray:
    return next(iter(arrays.values())) if isinstance(arrays, dict) else arrays


def preprocessing_record(program: Program, *, raw_shape: list[int], features: list[str] | None = None,
                         label: str | None = None, classes: list[str] | None = None, rescale: float | None = None,
                         standardize: Standardize | None = None, image: ImageRecord | None = None) -> PreprocessingRecord:
    """What new data must go through to reach the model as the training data did (preprocessing.json)."""
    assert program.data is not None
    task = program.compile.task
    return PreprocessingRecord(
        source=program.data.tag, raw_shape=tuple(raw_shape), input_shape=model_input_shape(program),
        features=None if features is None else tuple(features), label=label,
        classes=None if classes is None else tuple(classes), standardize=standardize,
        rescale=None if rescale is None else float(rescale), image=image, loss=task.loss, from_logits=task.from_logits,
    )


def augment(program: Program, ds: Any) -> Any:
    import tensorflow as tf

    steps = getattr(program.data, "augmentation", None) or []
    if not steps:
        return ds
    layers = []
    for i, step in enumerate(steps):
        with refusal(program.source, ("data", "augmentation", i), f"to build {step.tag}"):
            layers.append(build_layer(step))

    def apply(x: Any, y: Any) -> tuple[Any, Any]:
        for layer in layers:
            x = layer(x, training=True)
        return x, y

    return ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


