"""Real trainings of a few steps: iris, digits, an image folder with augmentation, a keras
dataset through its local-file seam; the run directory; refusals of bad data."""

import json
import os

import numpy as np
import pytest

from regspec.api import load
from regspec.diagnostics import SpecError
from regspec.runtime.train import load_saved, train
from tests.conftest import CASES, SPECS
from tests.helpers import image_folder, tiny_mnist, write_spec

pytestmark = pytest.mark.tf


def test_iris_run_directory(tmp_path):
    spec = load(SPECS / "iris" / "activity.yaml").with_overrides({"training.epochs": 3})
    result = train(spec, str(tmp_path), verbose=0)
    run = tmp_path / os.path.basename(result.run_dir)
    assert result.status == "finished"
    names = set(os.listdir(run))
    assert {"run.json", "spec.yaml", "source.yaml", "model.keras", "history.json", "history.csv",
            "metrics.json", "curves.png", "weights.json", "weights.png", "preprocessing.json"} <= names
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    metrics = json.loads((run / "metrics.json").read_text())
    # An activity-regularized model: the data loss and the penalty beside Keras' loss (issue 13).
    split = {"loss", "data_loss", "penalty", "accuracy"}
    assert set(metrics["train"]) == split and set(metrics["test"]) == split
    assert metrics["epochs_run"] == 3 and metrics["params"] == 152_515
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 3 and len(history["val_accuracy"]) == 3
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    assert "activity_regularizer: {l1: 0.001" in (run / "spec.yaml").read_text()
    # The saved model loads in safe mode and gives the same predictions.
    model = load_saved(str(run))
    x = np.zeros((2, 4), dtype="float32")
    assert model.predict(x, verbose=0).shape == (2, 3)
    assert model.layers[0].activity_regularizer is not None
    # Nothing left to resume once finished.
    assert not (tmp_path / ".backup").exists()


def test_digits_with_validation_split_and_early_stopping(tmp_path, monkeypatch):
    from regspec.backend.keras.data import load_data

    monkeypatch.chdir(CASES / "valid")
    result = train(load("input_layer_repeat.json"), str(tmp_path), verbose=0)
    assert result.status == "finished"
    assert set(result.metrics["test"]) == {"loss"} and np.isfinite(result.metrics["test"]["loss"])
    # validation_split 0.2 holds out the last fifth of the 1,347 training rows (not the test split)
    data = load_data(load("input_layer_repeat.json").program, None)
    assert sum(int(x.shape[0]) for x, _ in data.validation) == 269
    assert sum(int(x.shape[0]) for x, _ in data.train_eval) == 1347 - 269
    # early stopping stops: no epoch can improve val_loss by 100, so it ends after patience + 1 epochs
    stopping = load("input_layer_repeat.json").with_overrides(
        {"training.epochs": 30, "training.callbacks[0].min_delta": 100.0})
    stopped = train(stopping, str(tmp_path / "es"), verbose=0)
    assert stopped.metrics["epochs_run"] == 2


def test_image_folder_with_augmentation(tmp_path):
    image_folder(tmp_path / "data")
    spec = write_spec(tmp_path / "img.yaml", """
regspec: 1
name: tiny-elephants
input: {shape: [20, 20, 3]}
layers:
  - {type: conv2d, filters: 4, kernel_size: 3, activation: relu, kernel_regularizer: {l1: 0.001}}
  - {type: max_pooling2d, pool_size: 2}
  - {type: flatten}
  - {type: dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}
data:
  type: image_directory
  train: data/train
  test: data/test
  image_size: [20, 20]
  label_mode: binary
  batch_size: 4
  rescale: 0.00392156862745098
  augmentation:
    - {type: random_flip, mode: horizontal}
    - {type: random_zoom, height_factor: 0.2}
    - {type: random_shear, x_factor: 0.1}
training: {epochs: 2, steps_per_epoch: 5, validation_steps: 2, seed: 3}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished"
    assert result.metrics["epochs_run"] == 2
    # 5 steps per epoch of batch 4 is more than the 12 images: the data repeats.
    assert "accuracy" in result.metrics["test"]


def test_keras_dataset_through_local_file(tmp_path):
    tiny_mnist(tmp_path / "mnist.npz")
    spec = write_spec(tmp_path / "m.yaml", """
regspec: 1
name: tiny-mnist
input: {shape: [784]}
layers:
  - {type: dense, units: 16, activation: relu, repeat: 2, kernel_regularizer: {l2: 0.0001}}
  - {type: dense, units: 10, activation: softmax}
compile: {loss: categorical_crossentropy, metrics: [accuracy]}
data: {type: keras, name: mnist, path: mnist.npz, rescale: 0.00392156862745098}
training: {epochs: 1, batch_size: 16}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished" and result.metrics["params"] == 784 * 16 + 16 + 16 * 16 + 16 + 170


def test_npz_with_column_labels_and_own_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 6, 6, 1)).astype("float32")
    y = (np.arange(40) % 3).reshape(-1, 1).astype("int64")  # CIFAR-style (n, 1) labels
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y)
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: npz-split
input: {shape: [6, 6, 1]}
layers: [{type: flatten}, {type: dense, units: 3, activation: softmax}]
compile: {loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data: {type: npz, path: d.npz, test_size: 0.25, augmentation: [{type: random_flip}]}
training: {epochs: 1, batch_size: 8, seed: 1}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished" and set(result.metrics["test"]) == {"loss", "accuracy"}


def test_nan_loss_ends_as_diverged(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{1e30 * i},{i},{i}\n" for i in range(1, 40)))
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: diverges
input: {shape: [2]}
layers: [{type: dense, units: 1}]
compile: {optimizer: {type: sgd, learning_rate: 1.0}, loss: mse}
data: {type: csv, train: d.csv, label: y}
training: {epochs: 5}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert result.status == "diverged"
    assert result.metrics["epochs_run"] == 1  # TerminateOnNaN stopped it
    assert json.loads(open(os.path.join(result.run_dir, "run.json")).read())["status"] == "diverged"


BAD_DATA = {
    "missing_folder": ("{type: image_directory, train: nowhere/train, image_size: [8, 8], label_mode: binary}",
                       "data.train: ", "nowhere/train does not exist"),
    "no_class_folders": ("{type: image_directory, train: empty, image_size: [8, 8], label_mode: binary}",
                         "data.train: ", "has no class subfolders"),
    "class_without_images": ("{type: image_directory, train: noimages, image_size: [8, 8], label_mode: binary}",
                             "data.train: ", "has no images"),
    "three_classes_binary": ("{type: image_directory, train: three, image_size: [8, 8], label_mode: binary}",
                             "data.label_mode: ", "binary labels need 2 class folders, found 3"),
    "ten_classes_one_unit": ("{type: sklearn, name: digits}", "data: ",
                             "train labels go up to 9 but binary_crossentropy needs 0/1 labels"),
    "csv_header_only": ("{type: csv, train: header.csv, label: y}", "data.train: ", "has a header but no rows"),
    "csv_missing_label": ("{type: csv, train: rows.csv, label: target}", "data.label: ", "column 'target' not in"),
    "npz_without_arrays": ("{type: npz, path: other.npz}", "data.path: ", "has no array 'x_train'"),
    "npz_pickled_objects": ("{type: npz, path: pickled.npz}", "data.path: ", "cannot read"),
    "npz_not_a_zip": ("{type: npz, path: notzip.npz}", "data.path: ", "notzip.npz as .npz: File is not a zip file"),
    "npz_cut_short": ("{type: npz, path: cut.npz}", "data.path: ", "cut.npz as .npz: File is not a zip file"),
    "data_is_a_fifo": ("{type: csv, train: fifo.csv, label: y}", "data.train: ", "is not a regular file"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_is_refused_before_training(tmp_path, case):
    data, where, message = BAD_DATA[case]
    (tmp_path / "empty").mkdir()
    (tmp_path / "noimages" / "a").mkdir(parents=True)
    (tmp_path / "noimages" / "a" / "readme.txt").write_text("x")
    for c in "abc":
        image_folder(tmp_path / "three_src", classes=(c,), n=1, size=8)
    os.rename(tmp_path / "three_src" / "train", tmp_path / "three")
    (tmp_path / "header.csv").write_text("a,y\n")
    (tmp_path / "rows.csv").write_text("a,y\n1,0\n")
    np.savez(tmp_path / "other.npz", features=np.zeros(3))
    np.savez(tmp_path / "pickled.npz", x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1))
    (tmp_path / "notzip.npz").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "other.npz").read_bytes()[:100])
    os.mkfifo(tmp_path / "fifo.csv")
    spec = write_spec(tmp_path / "s.yaml", f"""
regspec: 1
name: bad
input: {{shape: [8, 8, {1 if "digits" in data else 3}]}}
layers: [{{type: flatten}}, {{type: dense, units: 1, activation: sigmoid}}]
compile: {{loss: binary_crossentropy, metrics: [accuracy]}}
data: {data}
""")
    with pytest.raises(SpecError) as info:
        train(load(spec), str(tmp_path / "runs"), verbose=0)
    line = info.value.diagnostics[0].format()
    assert "s.yaml:7:" in line and f"error: {where}" in line and message in line, line


def test_callbacks_write_into_the_run_directory(tmp_path):
    image_folder(tmp_path / "data", classes=("a", "b", "c"), n=4, size=64)
    spec = load(CASES / "valid" / "augmentation_data.yaml").with_overrides({
        "data.train": str(tmp_path / "data" / "train"), "training.epochs": 2, "training.batch_size": 4,
        "training.callbacks": [
            {"type": "reduce_lr_on_plateau", "monitor": "val_loss", "factor": 0.5, "patience": 1},
            {"type": "model_checkpoint", "monitor": "val_accuracy", "save_best_only": True},
            {"type": "csv_logger"}, {"type": "tensorboard"}, {"type": "terminate_on_nan"},
            {"type": "early_stopping", "monitor": "val_loss", "patience": 5},
        ],
    })
    result = train(spec, str(tmp_path / "runs"), verbose=0)
    run = result.run_dir
    assert result.status == "finished"
    assert os.path.exists(os.path.join(run, "checkpoint.keras"))
    assert open(os.path.join(run, "training.csv")).read().count("\n") == 3  # header + 2 epochs
    assert os.listdir(os.path.join(run, "tensorboard"))
    assert "learning_rate" in json.load(open(os.path.join(run, "history.json")))


def test_mirrored_strategy_trains(tmp_path):
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 1, "training.distribution": "mirrored"})
    assert train(spec, str(tmp_path), verbose=0).status == "finished"


def test_saved_models_load_in_safe_mode_only(tmp_path):
    from regspec.backend.keras.env import keras

    k = keras()
    (tmp_path / "evil").mkdir()
    model = k.Sequential([k.Input((2,)), k.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "evil" / "model.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        load_saved(str(tmp_path / "evil"))


def test_optimizer_schedule_and_loss_are_built_as_written():
    from regspec.backend.keras.build import compile_model
    from regspec.backend.keras.env import keras

    k = keras()
    model = compile_model(load(CASES / "valid" / "conv_all_kinds.yaml").program)
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, k.optimizers.schedules.ExponentialDecay)
    assert schedule.get_config() == k.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9).get_config()
    assert isinstance(model.loss, k.losses.CategoricalCrossentropy)
    assert model.loss.get_config()["label_smoothing"] == 0.1
    assert float(schedule(100)) == pytest.approx(0.01 * 0.9)  # the schedule decays as written


def test_refused_data_leaves_nothing_behind(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: nodata
input: {shape: [4]}
layers: [{type: dense, units: 1, activation: sigmoid}]
compile: {loss: binary_crossentropy}
data: {type: csv, train: missing.csv, label: y}
""")
    for _ in range(2):  # the second attempt gets the same error, not "an interrupted run exists"
        with pytest.raises(SpecError) as info:
            train(load(spec), str(tmp_path / "runs"), verbose=0)
        assert "missing.csv does not exist" in str(info.value)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_failure_during_training_is_failed_with_a_position_and_a_rerun_starts_fresh(tmp_path, monkeypatch):
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 3})
    from regspec.backend.keras.env import keras

    calls = {"n": 0}
    original = keras().Model.fit

    def fit_that_fails(self, *args, **kwargs):  # Keras raising in the middle of training
        calls["n"] += 1
        raise ValueError("Arguments `target` and `output` must have the same shape")

    monkeypatch.setattr(keras().Model, "fit", fit_that_fails)
    with pytest.raises(SpecError) as info:
        train(spec, str(tmp_path), verbose=0)
    d = info.value.diagnostics[0]
    assert d.path == "compile.loss" and d.line == 17 and d.file.endswith("iris/base.yaml")  # most often the culprit
    assert d.message == "training failed: Keras raised ValueError: Arguments `target` and `output` must have the same shape"
    assert isinstance(info.value.__cause__, ValueError)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("iris-base")]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "failed" and "same shape" in run["error"]
    monkeypatch.setattr(keras().Model, "fit", original)
    result = train(spec, str(tmp_path), verbose=0)  # not "an interrupted run exists": it starts over
    assert result.status == "finished" and result.run_dir != str(run_dir)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b"not an image at all" * 10), "is not a PNG image"),
    (lambda p: p.write_bytes(p.read_bytes()[:-30]), "is cut short"),
    (lambda p: p.write_bytes(b""), "is empty"),
])
def test_damaged_images_are_named_before_training(tmp_path, damage, message):
    image_folder(tmp_path / "data", n=3, size=8)
    victim = tmp_path / "data" / "train" / "Asian" / "Asian_1.png"
    damage(victim)
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: damaged
input: {shape: [8, 8, 3]}
layers: [{type: flatten}, {type: dense, units: 1, activation: sigmoid}]
compile: {loss: binary_crossentropy}
data: {type: image_directory, train: data/train, test: data/test, image_size: [8, 8], label_mode: binary}
""")
    with pytest.raises(SpecError) as info:
        train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert f"data.train: {victim} {message}" in info.value.diagnostics[0].format()
    assert not (tmp_path / "runs").exists()  # refused before any folder is made


def test_an_image_linking_out_of_the_data_folder_is_refused(tmp_path):
    image_folder(tmp_path / "data", n=2, size=8)
    outside = tmp_path / "secret.png"
    outside.write_bytes((tmp_path / "data" / "train" / "Asian" / "Asian_0.png").read_bytes())
    (tmp_path / "data" / "train" / "Asian" / "link.png").symlink_to(outside)
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: links
input: {shape: [8, 8, 3]}
layers: [{type: flatten}, {type: dense, units: 1, activation: sigmoid}]
compile: {loss: binary_crossentropy}
data: {type: image_directory, train: data/train, image_size: [8, 8], label_mode: binary}
""")
    with pytest.raises(SpecError, match="links outside the data folder"):
        train(load(spec), str(tmp_path / "runs"), verbose=0)


def test_weight_statistics_name_layers_alike_in_every_run_of_a_process(tmp_path):
    """An unnamed layer is named as Keras names it in a fresh process (the exported script's
    model.summary()), not by the count of models this process built (a sweep worker's
    `dense_57`): the weights tables of a sweep line up."""
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 1})
    names = []
    for i in range(2):
        run_dir = train(spec, str(tmp_path / str(i)), verbose=0, figures=()).run_dir
        names.append([layer["layer"] for layer in json.load(open(os.path.join(run_dir, "weights.json")))["layers"]])
    assert names[0] == names[1] == ["fc1", "dense", "dense_1", "dense_2", "dense_3"]


def test_the_epoch_early_stopping_restored_is_recorded(tmp_path):
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({
        "training.epochs": 12, "compile.optimizer": {"type": "sgd", "learning_rate": 0.5},
        "training.callbacks": [{"type": "early_stopping", "monitor": "val_loss", "patience": 3,
                                "restore_best_weights": True}]})
    result = train(spec, str(tmp_path), verbose=0)
    history = json.load(open(os.path.join(result.run_dir, "history.json")))
    best = min(range(len(history["val_loss"])), key=lambda e: history["val_loss"][e]) + 1
    assert result.metrics["restored_epoch"] == best
    assert json.load(open(os.path.join(result.run_dir, "metrics.json")))["restored_epoch"] == best
    # The weight statistics (and their figure, drawn as training ends) are of the restored weights,
    # the saved model's, not the last epoch's.
    assert best < len(history["val_loss"])
    kernel = load_saved(result.run_dir).get_layer("fc1").kernel.numpy()
    recorded = json.load(open(os.path.join(result.run_dir, "weights.json")))["layers"][0]["weights"][0]
    assert recorded["l2"] == pytest.approx(float(np.sqrt((kernel.astype("float64") ** 2).sum())), rel=1e-9)
    assert os.path.getsize(os.path.join(result.run_dir, "weights.png")) > 0
