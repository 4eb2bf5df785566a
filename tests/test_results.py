"""Results that answer the articles' question: the data loss and the penalty apart, what the
penalty did to the weights, and whether a difference over seeds is real.

Every expected figure is computed here by hand: the penalty from the saved weights and the
regularizer factors, the data loss from the predictions, the intervals with the t formula.
"""

import json
import math
import os
import statistics
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from regspec.api import load
from regspec.cli import main
from regspec.runtime.train import load_saved, train
from tests.conftest import SPECS
from tests.helpers import write_spec

TOL = 1e-5


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def iris_test_split(seed: int = 7):
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    bunch = load_iris()
    x, xt, y, yt = train_test_split(bunch.data.astype("float32"), bunch.target, test_size=0.25, random_state=seed)
    mean, std = x.mean(0), x.std(0)
    return (xt - mean) / std, yt


REGULARIZED = {
    "l1_kernel": ("layers.fc1.kernel_regularizer", {"l1": 0.01}),
    "l2_kernel": ("layers.fc1.kernel_regularizer", {"l2": 0.02}),
    "activity": ("layers.fc1.activity_regularizer", {"l1": 0.001}),
}


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(REGULARIZED))
def test_the_penalty_is_the_sum_of_the_regularization_terms(tmp_path, case):
    path, value = REGULARIZED[case]
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 2, path: value})
    result = train(spec, str(tmp_path), verbose=0)
    test = result.metrics["test"]
    assert list(test)[:3] == ["loss", "data_loss", "penalty"]
    assert test["penalty"] == pytest.approx(test["loss"] - test["data_loss"], abs=1e-7)

    model = load_saved(result.run_dir)
    fc1 = model.get_layer("fc1")
    kernel = np.asarray(fc1.kernel, dtype="float64")
    x, y = iris_test_split()
    if case == "l1_kernel":
        by_hand = 0.01 * np.abs(kernel).sum()
    elif case == "l2_kernel":
        by_hand = 0.02 * (kernel ** 2).sum()
    else:  # Keras divides each batch's activity term by the batch size: the mean over examples
        import keras

        activations = np.asarray(keras.Model(model.inputs[0], fc1.output)(x), dtype="float64")
        by_hand = 0.001 * np.abs(activations).sum(axis=1).mean()
    assert test["penalty"] == pytest.approx(by_hand, rel=1e-4)

    probabilities = np.asarray(model.predict(x, verbose=0), dtype="float64")
    crossentropy = -np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1)).mean()
    assert test["data_loss"] == pytest.approx(crossentropy, rel=1e-4)

    history = json.loads(Path(result.run_dir, "history.json").read_text())
    for prefix in ("", "val_"):
        np.testing.assert_allclose(history[f"{prefix}penalty"],
                                   np.subtract(history[f"{prefix}loss"], history[f"{prefix}data_loss"]), atol=1e-7)
    table = cli("compare", result.run_dir).output
    assert "test data_loss" in table and "test penalty" in table


@pytest.mark.tf
def test_a_model_without_penalties_has_no_split(tmp_path):
    result = train(load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 1}), str(tmp_path), verbose=0)
    assert set(result.metrics["test"]) == {"loss", "accuracy"}


@pytest.mark.tf
def test_weight_statistics_of_known_weights():
    import keras

    from regspec.backend.keras.weights import ZERO, weight_stats

    inp = keras.Input((4,))
    dense = keras.layers.Dense(5, activity_regularizer=keras.regularizers.L1(0.1), name="d")
    model = keras.Model(inp, dense(inp))
    kernel = np.zeros((4, 5), dtype="float32")
    kernel[0] = [1, -2, 3, -4, 5]  # 5 of 20 non-zero; one more below the threshold
    kernel[1, 0] = ZERO / 2
    dense.kernel.assign(kernel)
    dense.bias.assign(np.array([0.5, 0, 0, 0, 0], dtype="float32"))
    x = np.ones((6, 4), dtype="float32")
    import tensorflow as tf

    stats = weight_stats(model, {id(dense): "d"}, tf.data.Dataset.from_tensor_slices((x, x)).batch(4))
    (layer,) = stats["layers"]
    k, b = layer["weights"]
    assert (k["name"], k["shape"], k["count"]) == ("kernel", [4, 5], 20)
    assert k["l1"] == pytest.approx(15 + ZERO / 2) and k["l2"] == pytest.approx(math.sqrt(55), rel=1e-6)
    assert k["zero_fraction"] == pytest.approx(15 / 20)
    assert b["zero_fraction"] == pytest.approx(4 / 5) and "histogram" not in b
    assert sum(k["histogram"]["counts"]) == 20
    # each example's output: x @ kernel + bias = [1.5 + ZERO/2, -2, 3, -4, 5]; mean |.| over the 5 units
    assert stats["activity"] == [{"layer": "d", "mean_abs_activation": pytest.approx((15.5 + ZERO / 2) / 5, rel=1e-6)}]


@pytest.mark.tf
def test_constant_features_do_not_blow_up_an_adapted_normalization(tmp_path):
    """The digits 6e5 validation loss: a feature constant in training (border pixels) had
    variance 0, and Keras divided every other value by its epsilon."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype("float32")
    x[:, 0] = 0.0  # constant in training ...
    xt = rng.normal(size=(20, 3)).astype("float32")  # ... not in the test split
    y, yt = (x[:, 1] > 0).astype("int64"), (xt[:, 1] > 0).astype("int64")
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: constant
input: {shape: [3]}
layers:
  - {type: normalization, name: norm}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
data: {type: npz, path: d.npz}
training: {epochs: 2, batch_size: 16, seed: 1}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0)
    assert result.metrics["test"]["loss"] < 5  # was ~1e6: xt[:, 0] / 1e-7
    model = load_saved(result.run_dir)
    np.testing.assert_allclose(np.asarray(model.get_layer("norm").variance).ravel()[0], 1.0)
    np.testing.assert_allclose(np.asarray(model.get_layer("norm")(xt))[:, 0], xt[:, 0], atol=1e-6)  # centred on 0


# ----------------------------------------------------------------------------- is the difference real?


def fake_runs(root: Path, group: str, dropout: float, accuracy: dict[int, float]) -> None:
    """Run directories as training writes them, with made-up test accuracies per seed."""
    for seed, acc in accuracy.items():
        run = root / f"{group}-s{seed}"
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({"name": f"{group}-s{seed}", "status": "finished"}))
        (run / "metrics.json").write_text(json.dumps({"params": 10, "epochs_run": 5,
                                                      "test": {"loss": 1 - acc, "accuracy": acc}}))
        (run / "spec.yaml").write_text(f"regspec: 1\nname: {group}-s{seed}\nlayers:\n- {{type: dense, units: 3}}\n"
                                       f"- {{type: dropout, rate: {dropout}}}\ntraining: {{seed: {seed}}}\n")


def by_hand_paired(a: list[float], b: list[float]) -> tuple[float, float]:
    from scipy.stats import t

    d = [x - y for x, y in zip(a, b)]
    half = t.ppf(0.975, len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d))
    return statistics.mean(d) - half, statistics.mean(d) + half


def test_verdicts_on_made_up_runs_with_known_differences(tmp_path):
    base = {1: 0.80, 2: 0.84, 3: 0.78, 4: 0.88, 5: 0.82}  # a wide spread between seeds
    real = {s: v + 0.03 + 0.002 * (s % 2) for s, v in base.items()}  # +3 points on every seed
    none = {s: v + [0.01, -0.01, 0.015, -0.012, 0.0][s - 1] for s, v in base.items()}  # noise around 0
    fake_runs(tmp_path, "base", 0.0, base)
    fake_runs(tmp_path, "real", 0.25, real)
    fake_runs(tmp_path, "none", 0.5, none)
    result = cli("compare", tmp_path, "--mean-over", "training.seed", "--baseline", "base", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {(d["group"], d["metric"]): d for d in json.loads(result.output)}
    better = rows[("real", "test accuracy")]
    assert better["verdict"] == "better" and better["method"] == "paired t" and better["runs"] == [5, 5]
    low, high = by_hand_paired(list(real.values()), list(base.values()))
    assert (better["low"], better["high"]) == (pytest.approx(low), pytest.approx(high))
    assert rows[("real", "test loss")]["verdict"] == "better"  # lower loss
    same = rows[("none", "test accuracy")]
    assert same["verdict"] == "no detectable difference" and same["low"] < 0 < same["high"]
    # Not paired (no shared seeds): Welch's interval, wider; the spread between seeds hides +3 points.
    fake_runs(tmp_path / "other", "shifted", 0.25, {s + 10: v for s, v in real.items()})
    fake_runs(tmp_path / "other", "base", 0.0, base)
    welch = json.loads(cli("compare", tmp_path / "other", "--mean-over", "training.seed", "--baseline", "base",
                           "--format", "json").output)
    (acc,) = [d for d in welch if d["metric"] == "test accuracy"]
    assert acc["method"] == "Welch t" and acc["verdict"] == "no detectable difference"
    text = cli("compare", tmp_path, "--mean-over", "training.seed", "--baseline", "base").output
    assert "difference [95% CI]" in text and "better" in text and "no detectable difference" in text


def test_baseline_needs_a_known_group(tmp_path):
    fake_runs(tmp_path, "base", 0.0, {1: 0.8, 2: 0.9})
    result = cli("compare", tmp_path, "--mean-over", "training.seed", "--baseline", "nothing")
    assert result.exit_code == 2 and "--baseline nothing: no group or run has this name" in result.output
    assert cli("compare", tmp_path, "--baseline", "base").exit_code == 2  # needs --mean-over


def test_compare_weights_side_by_side(tmp_path):
    for name, zero in (("plain", 0.0), ("l1", 0.6)):
        run = tmp_path / name
        run.mkdir()
        (run / "run.json").write_text(json.dumps({"name": name, "status": "finished"}))
        (run / "weights.json").write_text(json.dumps({"zero_threshold": 0.001, "layers": [
            {"layer": "fc1", "class": "Dense", "weights": [
                {"name": "kernel", "l1": 10.0 * (1 - zero), "l2": 2.0, "mean_abs": 0.1, "zero_fraction": zero}]}]}))
    out = cli("compare", tmp_path / "plain", tmp_path / "l1", "--weights").output.splitlines()
    # One table per statistic, a row per run: it stays readable however many runs there are.
    assert out[0] == "L1 norm" and out[1].split() == ["run", "fc1/kernel"]
    assert out[3].split() == ["plain", "10.0000"] and out[4].split() == ["l1", "4.0000"]
    near = out.index("near 0 (|w| < 0.001)")
    assert out[near + 3].split() == ["plain", "0.0%"] and out[near + 4].split() == ["l1", "60.0%"]
    assert out[-1] == "near 0: |w| < 0.001"
    assert os.path.isdir(tmp_path / "l1")


def test_a_sweep_with_a_seed_axis_gets_verdicts(tmp_path):
    from regspec.report.sweep import write_verdicts
    from regspec.sweep.store import Row

    base = {1: 0.80, 2: 0.84, 3: 0.78}
    fake_runs(tmp_path, "s-dropout_0", 0.0, base)
    fake_runs(tmp_path, "s-dropout_0p25", 0.25, {s: v + 0.05 for s, v in base.items()})
    rows = []
    for dropout, label in ((0.0, "s-dropout_0"), (0.25, "s-dropout_0p25")):
        for seed in base:
            run_dir = str(tmp_path / f"{label}-s{seed}")
            rows.append(Row(len(rows) + 1, f"k{len(rows)}", f"{label}-s{seed}",
                            {"layers.fc.dropout": dropout, "training.seed": seed}, "finished", 1, run_dir, {}, None, 1.0, 1.0))
    text = write_verdicts(str(tmp_path), rows, ["layers.fc.dropout", "training.seed"])
    assert text is not None and (tmp_path / "verdicts.csv").is_file()
    acc = [line for line in text.splitlines() if "test accuracy" in line]
    assert len(acc) == 1 and acc[0].endswith("better") and "+0.0500 [+0.0500, +0.0500]" in acc[0]
    assert write_verdicts(str(tmp_path), rows, ["layers.fc.dropout"]) is None  # no seed axis: no interval


@pytest.mark.tf
def test_weights_every_epoch(tmp_path):
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 3,
                                                              "layers.fc1.kernel_regularizer": {"l1": 0.01}})
    result = train(spec, str(tmp_path), verbose=0, weights_every_epoch=True)
    lines = [json.loads(line) for line in Path(result.run_dir, "weights_history.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    fc1 = [next(w for layer in line["layers"] if layer["layer"] == "fc1" for w in layer["weights"]) for line in lines]
    assert all("histogram" not in w for w in fc1)
    final = json.loads(Path(result.run_dir, "weights.json").read_text())
    last = next(w for layer in final["layers"] if layer["layer"] == "fc1" for w in layer["weights"])
    assert fc1[-1]["l1"] == pytest.approx(last["l1"])  # the last epoch's figures are the final weights'
    assert [layer["layer"] for layer in final["layers"]] == ["fc1", "dense", "dense_1", "dense_2", "dense_3"]


@pytest.mark.slow  # 480 commands over generated tampering
def test_tampered_run_directories_never_crash_the_reports(tmp_path):
    """Generated tampering of run.json, metrics.json, history.json and weights.json (wrong types,
    control characters, huge strings): compare, compare --weights, CSV and report exit 0 or 2,
    never with a Python error."""
    import random
    import shutil

    fake_runs(tmp_path / "src", "r", 0.1, {1: 0.8})
    (src,) = (tmp_path / "src").iterdir()
    (src / "history.json").write_text(json.dumps({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.5, 0.8]}))
    (src / "weights.json").write_text(json.dumps({"zero_threshold": 0.001, "layers": [{"layer": "fc1", "weights": [
        {"name": "kernel", "l1": 1.0, "l2": 0.5, "mean_abs": 0.1, "zero_fraction": 0.2,
         "histogram": {"edges": [0, 1, 2], "counts": [3, 4]}}]}], "activity": [{"layer": "fc1", "mean_abs_activation": 0.3}]}))
    values = [None, 1, -1.5, "x", "\x1b[31mred\x07", [], [1, "a", None], {}, {"a": None}, {"loss": "NaN"},
              {"train": [], "test": "x"}, {"edges": [1], "counts": [1, 2]}, True, "A" * 10_000]
    rng = random.Random(0)
    for i in range(120):
        run = tmp_path / f"t{i}"
        shutil.copytree(src, run)
        target = run / rng.choice(["run.json", "metrics.json", "history.json", "weights.json"])
        data = json.loads(target.read_text())
        if isinstance(data, dict) and rng.random() < 0.7:
            data[rng.choice(list(data))] = rng.choice(values)
        else:
            data = rng.choice(values)
        target.write_text(json.dumps(data))
        for args in (["compare", run], ["compare", run, "--weights"], ["compare", run, "--format", "csv"],
                     ["report", run, "-o", tmp_path / f"t{i}.html"]):
            result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
            assert result.exit_code in (0, 2), (target.name, data if len(str(data)) < 200 else "...", args, result.output)
            assert "\x1b" not in result.output and "\x07" not in result.output


def test_the_report_of_a_sweep_with_seeds_has_its_intervals(tmp_path):
    from regspec.sweep.store import Store

    base = {1: 0.80, 2: 0.84, 3: 0.78}
    fake_runs(tmp_path / "runs", "s-dropout_0", 0.0, base)
    fake_runs(tmp_path / "runs", "s-dropout_0p25", 0.25, {s: v + 0.05 for s, v in base.items()})
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "sweep.yaml").write_text("regspec-sweep: 1\nname: s\nbase: base.yaml\n"
                                       "axes:\n  layers.fc.dropout: [0.0, 0.25]\n  training.seed: [1, 2, 3]\n")
    store = Store(str(folder / "sweep.db"))
    trials = [(f"k{d}{s}", f"s-dropout_{label}-s{s}", {"layers.fc.dropout": d, "training.seed": s})
              for d, label in ((0.0, "0"), (0.25, "0p25")) for s in base]
    store.add(trials)
    for row in store.rows():
        store.finish(row.id, "finished", run_dir=str(tmp_path / "runs" / row.name))
    store.close()
    result = cli("report", folder, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "Against s-dropout_0: 95% confidence intervals" in page and '<td class="better">better</td>' in page


def test_figures_draw_values_near_the_float_maximum(tmp_path):
    """A history holding 1.7e308 crashed `compare --plot` and `report` inside matplotlib
    ("arange: cannot compute length"): such values are gaps in the curve."""
    from regspec.rundir.plots import plot_curves, plot_overlay
    from regspec.rundir.read import RunSummary

    history = {"loss": [1.0, 1.7e308, 0.5, None], "val_loss": [1.2, -1.7e308, float("nan"), 0.7],
               "accuracy": [0.5, 0.6, 0.7, 0.8], "val_accuracy": [0.4, 0.5, 0.6, 0.7]}
    plot_curves(history, str(tmp_path / "curves.png"), "extreme")
    run = RunSummary(str(tmp_path), "extreme", "finished", 10, 4, {}, {}, history)
    plot_overlay([run], str(tmp_path / "overlay.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000 and (tmp_path / "overlay.png").stat().st_size > 1000
