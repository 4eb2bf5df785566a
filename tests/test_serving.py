"""Using a trained run: predict, evaluate and export apply the run's preprocessing exactly.

Every expected figure is computed here by hand, outside regspec: the standardization with
scikit-learn's StandardScaler on the same split, the images through Keras' own
image_dataset_from_directory, then the saved model's predict/evaluate.
"""

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from regspec.api import load
from regspec.cli import main
from regspec.runtime.train import load_saved, train
from tests.conftest import SPECS
from tests.helpers import image_folder, tiny_mnist, write_spec

pytestmark = pytest.mark.tf
TOL = 1e-5
IRIS_SEED = 7  # specs/iris/base.yaml


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------- iris (standardized features)


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("iris")
    result = train(load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 3}), str(out), verbose=0)
    return Path(result.run_dir)


@pytest.fixture(scope="module")
def iris_by_hand():
    """The split and standardization the spec asks for, done with scikit-learn directly."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    bunch = load_iris()
    x = bunch.data.astype("float32")
    xtr, xte, ytr, yte = train_test_split(x, bunch.target, test_size=0.25, random_state=IRIS_SEED)
    scaler = StandardScaler().fit(xtr)
    return bunch, scaler, xte, yte


def iris_csv(path: Path, x: np.ndarray, y: np.ndarray | None, names: list[str], *, labels_as="names") -> Path:
    """Columns in another order than training, plus a column the model never saw."""
    import csv

    order = [2, 0, 3, 1]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id"] + [names[i] for i in order] + (["target"] if y is not None else []))
        classes = ["setosa", "versicolor", "virginica"]
        for r, row in enumerate(x):
            label = [] if y is None else [classes[y[r]] if labels_as == "names" else int(y[r])]
            w.writerow([f"flower-{r}"] + [repr(float(row[i])) for i in order] + label)
    return path


def test_the_run_keeps_its_preprocessing(iris_run, iris_by_hand):
    bunch, scaler, _, _ = iris_by_hand
    record = json.loads((iris_run / "preprocessing.json").read_text())
    assert record["features"] == list(bunch.feature_names)
    assert record["classes"] == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(record["standardize"]["mean"], scaler.mean_, rtol=1e-6)
    np.testing.assert_allclose(record["standardize"]["scale"], scaler.scale_, rtol=1e-6)
    assert record["raw_shape"] == [4] and record["input_shape"] == [4] and record["rescale"] is None


def test_predict_equals_model_predict_on_the_standardized_rows(iris_run, iris_by_hand, tmp_path):
    bunch, scaler, _, _ = iris_by_hand
    data = iris_csv(tmp_path / "new.csv", bunch.data, None, bunch.feature_names)
    out = tmp_path / "pred.csv"
    result = cli("predict", iris_run, data, "-o", out)
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 150 and rows[0]["line"] == "2"  # the CSV line of each example, named so
    got = np.array([[float(r[f"probability_{c}"]) for c in bunch.target_names] for r in rows])
    want = load_saved(str(iris_run)).predict(scaler.transform(bunch.data.astype("float32")), verbose=0)
    np.testing.assert_allclose(got, want, atol=TOL)
    assert [r["prediction"] for r in rows] == [bunch.target_names[i] for i in want.argmax(axis=1)]
    as_json = json.loads(cli("predict", iris_run, data, "--format", "json").output)
    assert as_json[0]["prediction"] == rows[0]["prediction"] and len(as_json) == 150


def test_evaluate_on_a_held_out_csv(iris_run, iris_by_hand, tmp_path):
    bunch, scaler, xte, yte = iris_by_hand
    model = load_saved(str(iris_run))
    want = model.evaluate(scaler.transform(xte), np.eye(3)[yte], return_dict=True, verbose=0)
    for labels_as in ("names", "ids"):
        data = iris_csv(tmp_path / f"held_out_{labels_as}.csv", xte, yte, bunch.feature_names, labels_as=labels_as)
        result = cli("evaluate", iris_run, data, "--format", "json")
        assert result.exit_code == 0, result.output
        got = json.loads(result.output)
        assert got["examples"] == 38
        assert got["metrics"]["loss"] == pytest.approx(want["loss"], abs=TOL)
        assert got["metrics"]["accuracy"] == pytest.approx(want["accuracy"], abs=TOL)
        # The held-out rows are the run's own test split: the same figures as metrics.json.
        assert got["metrics"]["loss"] == pytest.approx(got["run_test"]["loss"], abs=TOL)
    table = cli("evaluate", iris_run, tmp_path / "held_out_names.csv").output.splitlines()
    assert table[0].split() == ["data", "examples", "loss", "accuracy"]
    assert table[2].startswith("held_out_names.csv") and table[3].startswith("the run's test split")


def test_exports_take_raw_features(iris_run, iris_by_hand, tmp_path):
    import tensorflow as tf

    bunch, scaler, _, _ = iris_by_hand
    raw = bunch.data.astype("float32")
    want = load_saved(str(iris_run)).predict(scaler.transform(raw), verbose=0)

    assert cli("export", iris_run, "--format", "saved_model", "-o", tmp_path / "sm").exit_code == 0
    served = tf.saved_model.load(str(tmp_path / "sm"))
    np.testing.assert_allclose(served.serve(raw).numpy(), want, atol=TOL)

    assert cli("export", iris_run, "--format", "onnx", "-o", tmp_path / "m.onnx").exit_code == 0
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert len(session.get_inputs()) == 1  # the standardization is inside, as constants
    got = session.run(None, {session.get_inputs()[0].name: raw})[0]
    np.testing.assert_allclose(got, want, atol=TOL)

    assert cli("export", iris_run, "--format", "litert", "-o", tmp_path / "m.tflite").exit_code == 0
    with warnings.catch_warnings():  # TensorFlow's interpreter still runs; it points to ai_edge_litert
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "m.tflite"))
    inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], raw.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], raw)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(outp["index"]), want, atol=TOL)

    result = cli("export", iris_run, "--format", "keras", "-o", tmp_path / "serving.keras")
    assert "input: raw features [batch, 4] float32 (standardize inside)" in result.output
    import keras

    serving = keras.saving.load_model(tmp_path / "serving.keras", safe_mode=True)
    np.testing.assert_allclose(serving.predict(raw, verbose=0), want, atol=TOL)


def test_export_default_path_is_inside_the_run(iris_run):
    result = cli("export", iris_run, "--format", "keras")
    assert result.exit_code == 0 and (iris_run / "export" / "serving.keras").is_file()


def test_export_needs_one_of_format_or_python(iris_run):
    assert cli("export", iris_run).exit_code == 2
    assert cli("export", iris_run, "--format", "onnx", "--python").exit_code == 2


# ----------------------------------------------------------------------------- bad data, refused with the file named


def _bad_cases(tmp: Path, names: list[str]) -> list[tuple[str, list[str], str]]:
    """(command, data files, the message pinned) for each kind of bad data."""
    header = ",".join(f'"{n}"' for n in names)
    good = "5.1,3.5,1.4,0.2"

    def f(name: str, text: str | bytes) -> str:
        p = tmp / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(p)

    fifo = str(tmp / "fifo.csv")
    os.mkfifo(fifo)
    np.savez(tmp / "five.npz", x=np.zeros((3, 5), dtype="float32"))
    np.savez(tmp / "nolabels.npz", x=np.zeros((3, 4), dtype="float32"))
    return [
        ("predict", [f("missing.csv", f'{",".join(f"{n!r}" for n in names[:3])}\n1,2,3\n'.replace("'", '"'))],
         "lacks the column(s) the model was trained on: 'petal width (cm)'"),
        ("predict", [f("word.csv", f"{header}\n{good}\n5.0,abc,1.4,0.2\n")],
         ":3:2: error: column 'sepal width (cm)' is not a number ('abc')"),
        ("predict", [f("nan.csv", f"{header}\n{good}\n5.0,3.1,nan,0.2\n")], ":3:3: error: column 'petal length (cm)' is nan"),
        ("predict", [f("ragged.csv", f"{header}\n{good}\n5.0,3.1,1.4,0.2,9\n")], ":3:1: error: 5 fields, the header has 4"),
        ("predict", [f("empty.csv", "")], "empty.csv:1:1: error: is empty"),
        ("predict", [f("header_only.csv", header + "\n")], "has a header but no rows"),
        ("predict", [f("latin1.csv", f"{header}\n{good}\n".encode() + b"\xe9\n")], "is not UTF-8 text"),
        ("predict", [fifo], "fifo.csv:1:1: error: is not a regular file"),
        ("predict", [str(tmp / "nowhere.csv")], "nowhere.csv:1:1: error: cannot read it (No such file or directory)"),
        ("predict", [str(tmp / "five.npz")], "x examples have shape [5]; the model was trained on [4]"),
        ("predict", [f("x.npz", b"PK\x03\x04 not a zip")], "cannot be read as .npz"),
        ("evaluate", [f("unknown.csv", f"{header},target\n{good},setosa\n{good},rose\n")],
         ":3:5: error: label 'rose' is not a class of the run (the run's classes: setosa, versicolor, virginica)"),
        ("evaluate", [f("nolabel.csv", f"{header}\n{good}\n")], "has no label column 'target'"),
        ("evaluate", [str(tmp / "nolabels.npz")], "has no labels: an array 'y' beside 'x'"),
    ]


def test_bad_data_is_refused_naming_the_file_and_nothing_is_written(iris_run, iris_by_hand, tmp_path):
    bunch = iris_by_hand[0]
    for command, files, message in _bad_cases(tmp_path, list(bunch.feature_names)):
        out = tmp_path / "out.csv"
        result = cli(command, iris_run, *files, "-o", out)
        assert result.exit_code == 2, (files, result.output)
        assert message in result.output, (files, result.output)
        assert files[0] in result.output or os.path.basename(files[0]) in result.output
        assert "Traceback" not in result.output and not out.exists()


def test_the_run_directory_is_checked(iris_run, tmp_path):
    assert "not a run directory" in cli("predict", tmp_path, "x.csv").output
    copy = tmp_path / "copy"
    shutil.copytree(iris_run, copy)
    info = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**info, "status": "running"}))
    result = cli("predict", copy, "x.csv")
    assert result.exit_code == 2 and "the run is running, it has no trained model to use" in result.output
    (copy / "run.json").write_text(json.dumps(info))
    record = json.loads((copy / "preprocessing.json").read_text())
    tampered = [
        {"format": 2}, {"raw_shape": [0]}, {"raw_shape": "4"}, {"raw_shape": [10**7, 10**7]}, {"features": [1, 2, 3, 4]},
        {"features": ["a"]}, {"standardize": {"mean": [0] * 4, "scale": [0] * 4}},
        {"standardize": {"mean": ["x"] * 4, "scale": [1] * 4}}, {"rescale": "big"}, {"image": {"color_mode": "cmyk"}},
        {"label": 3}, {"classes": "abc"},
    ]
    for change in tampered:
        (copy / "preprocessing.json").write_text(json.dumps({**record, **change}))
        result = cli("predict", copy, "x.csv")
        assert result.exit_code == 2 and "preprocessing.json: " in result.output, (change, result.output)
    (copy / "preprocessing.json").write_text("{not json")
    assert "no readable preprocessing.json" in cli("predict", copy, "x.csv").output


def test_a_model_with_several_outputs_is_refused_clearly(iris_run, tmp_path, iris_by_hand):
    import keras

    copy = tmp_path / "copy"
    shutil.copytree(iris_run, copy)
    inp = keras.Input((4,))
    two = keras.Model(inp, [keras.layers.Dense(3)(inp), keras.layers.Dense(1)(inp)])
    two.save(copy / "model.keras")
    data = iris_csv(tmp_path / "d.csv", iris_by_hand[2], None, iris_by_hand[0].feature_names)
    result = cli("predict", copy, data)
    assert result.exit_code == 2
    assert "the model has 1 inputs and 2 outputs; predict, evaluate and export take models with one of each" in result.output


# ----------------------------------------------------------------------------- a graph model, arrays with rescale + reshape


def test_a_graph_model_and_an_npz_run_with_rescale_and_reshape(tmp_path):
    tiny_mnist(tmp_path / "mnist.npz")
    spec = write_spec(tmp_path / "g.yaml", """
regspec: 1
name: skip-mnist
input: {shape: [784]}
layers:
  - {type: dense, name: a, units: 16, activation: relu}
  - {type: dense, name: b, units: 16}
  - {type: add, name: skip, inputs: [a, b]}
  - {type: dense, units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data: {type: npz, path: mnist.npz, rescale: 0.00392156862745098}
training: {epochs: 1, batch_size: 16, seed: 1}
""")
    run = Path(train(load(spec), str(tmp_path / "runs"), verbose=0).run_dir)
    record = json.loads((run / "preprocessing.json").read_text())
    assert record["raw_shape"] == [28, 28] and record["input_shape"] == [784] and record["classes"] is None
    with np.load(tmp_path / "mnist.npz") as f:
        x, y = f["x_test"], f["y_test"]
    np.savez(tmp_path / "new.npz", x=x, y=y)
    want = load_saved(str(run)).predict(x.reshape(len(x), 784).astype("float32") * 0.00392156862745098, verbose=0)
    rows = json.loads(cli("predict", run, tmp_path / "new.npz", "--format", "json").output)
    got = np.array([[r[f"probability_{c}"] for c in range(10)] for r in rows])
    np.testing.assert_allclose(got, want, atol=TOL)
    assert [r["index"] for r in rows] == list(range(len(x)))
    result = json.loads(cli("evaluate", run, tmp_path / "new.npz", "--format", "json").output)
    manual = load_saved(str(run)).evaluate(x.reshape(len(x), 784) * 0.00392156862745098, y, return_dict=True, verbose=0)
    assert result["metrics"]["loss"] == pytest.approx(manual["loss"], abs=TOL)


# ----------------------------------------------------------------------------- image folders


IMAGE_SPEC = """
regspec: 1
name: tiny-elephants
input: {shape: [16, 16, 3]}
layers:
  - {type: conv2d, filters: 4, kernel_size: 3, activation: relu}
  - {type: global_average_pooling2d}
  - {type: dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data:
  type: image_directory
  train: data/train
  test: data/test
  image_size: [16, 16]
  batch_size: 4
  rescale: 0.00392156862745098
training: {epochs: 1, seed: 3}
"""


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("img")
    image_folder(root / "data", classes=("African", "Asian", "Forest"), n=4, size=20)  # resized to 16x16
    spec = write_spec(root / "img.yaml", IMAGE_SPEC)
    return Path(train(load(spec), str(root / "runs"), verbose=0).run_dir), root / "data"


def _keras_pipeline(folder: Path, class_names=None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The images as training saw them: Keras' own loader, in file order."""
    import keras

    ds = keras.utils.image_dataset_from_directory(folder, image_size=(16, 16), shuffle=False, batch_size=100,
                                                  class_names=class_names, verbose=False)
    xs, ys = next(iter(ds))
    return np.asarray(xs) * 0.00392156862745098, np.asarray(ys), ds.file_paths


def test_predict_on_an_image_folder_and_files(image_run):
    run, data = image_run
    x, _, paths = _keras_pipeline(data / "test")
    want = load_saved(str(run)).predict(x, verbose=0)
    rows = json.loads(cli("predict", run, data / "test", "--format", "json").output)
    assert [r["file"] for r in rows] == paths
    got = np.array([[r[f"probability_{c}"] for c in ("African", "Asian", "Forest")] for r in rows])
    np.testing.assert_allclose(got, want, atol=TOL)
    one = json.loads(cli("predict", run, paths[5], paths[0], "--format", "json").output)
    assert [r["file"] for r in one] == [paths[5], paths[0]]
    np.testing.assert_allclose([one[0][f"probability_{c}"] for c in ("African", "Asian", "Forest")], want[5], atol=TOL)


def test_evaluate_maps_class_folders_by_name(image_run, tmp_path):
    """A labelled folder lacking a class: Keras alone would renumber the others; the run's names decide."""
    run, data = image_run
    partial = tmp_path / "partial"
    for c in ("Asian", "Forest"):
        shutil.copytree(data / "test" / c, partial / c)
    x, y, _ = _keras_pipeline(partial)
    assert set(y.tolist()) == {0, 1}  # what Keras numbers them on their own ...
    y = y + 1  # ... and what they are for the run: Asian = 1, Forest = 2
    want = load_saved(str(run)).evaluate(x, y, return_dict=True, verbose=0)
    got = json.loads(cli("evaluate", run, partial, "--format", "json").output)
    assert got["examples"] == 8 and got["metrics"]["loss"] == pytest.approx(want["loss"], abs=TOL)
    (partial / "Savanna").mkdir()
    result = cli("evaluate", run, partial)
    assert result.exit_code == 2 and "label 'Savanna' is not a class of the run" in result.output


def test_bad_images_are_refused(image_run, tmp_path):
    from PIL import Image

    run, data = image_run
    Image.fromarray(np.zeros((16, 16), dtype="uint8")).save(tmp_path / "gray.png")
    good = next((data / "test" / "Asian").glob("*.png")).read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.png").write_bytes(b"hello, not an image" * 10)
    cases = {"gray.png": "has 1 channel(s); the run was trained on rgb images (3)",
             "cut.png": "is cut short", "text.png": "is not a PNG image"}
    for name, message in cases.items():
        result = cli("predict", run, tmp_path / name)
        assert result.exit_code == 2 and message in result.output and name in result.output, result.output
    (tmp_path / "notes.txt").write_text("x")
    assert "is not an image file" in cli("predict", run, tmp_path / "notes.txt").output


def test_training_refuses_a_test_folder_with_other_classes(tmp_path):
    image_folder(tmp_path / "data", classes=("African", "Asian", "Forest"), n=2, size=16)
    shutil.rmtree(tmp_path / "data" / "test" / "African")
    spec = write_spec(tmp_path / "img.yaml", IMAGE_SPEC)
    from regspec.diagnostics import SpecError

    with pytest.raises(SpecError, match=r"data/test has other classes than \S*data/train \(no folder for: African\)"):
        train(load(spec), str(tmp_path / "runs"), verbose=0)


# ----------------------------------------------------------------------------- class names as CSV labels


def test_csv_labels_may_be_class_names(tmp_path):
    rows = ["a,b,kind"] + [f"{i % 3},{(i * 7) % 5},{['cat', 'ant', 'bee'][i % 3]}" for i in range(30)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("a,b,kind\n1,2,ant\n0,1,cat\n")
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: named
input: {shape: [2]}
layers: [{type: dense, units: 3, activation: softmax}]
compile: {loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data: {type: csv, train: train.csv, test: test.csv, label: kind, standardize: true}
training: {epochs: 1, batch_size: 8, seed: 1}
""")
    run = Path(train(load(spec), str(tmp_path / "runs"), verbose=0).run_dir)
    assert json.loads((run / "preprocessing.json").read_text())["classes"] == ["ant", "bee", "cat"]
    result = json.loads(cli("evaluate", run, tmp_path / "test.csv", "--format", "json").output)
    assert result["metrics"]["loss"] == pytest.approx(result["run_test"]["loss"], abs=TOL)
    (tmp_path / "test.csv").write_text("a,b,kind\n1,2,ant\n0,1,dog\n")
    from regspec.diagnostics import SpecError

    with pytest.raises(SpecError, match=r"test.csv:3: label 'dog' is not one of the train split's classes"):
        train(load(spec), str(tmp_path / "runs2"), verbose=0)
