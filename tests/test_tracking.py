"""`--track mlflow`: a run and a sweep (parent and nested trials) found by `mlflow.search_runs` in a
real SQLite store, with their params, per-epoch and final metrics and artifacts; logging again adds nothing."""

import json
import os
import subprocess

import pytest
from click.testing import CliRunner

from regspec.cli import main
from tests.conftest import SPECS, regspec_cmd

mlflow = pytest.importorskip("mlflow")
pytestmark = [pytest.mark.tf, pytest.mark.slow]

IRIS = SPECS / "iris" / "base.yaml"


def search(out, **kw):
    mlflow.set_tracking_uri(f"sqlite:///{out}/mlflow.db")
    return mlflow.search_runs(experiment_names=["regspec"], **kw)


def test_a_trained_run_is_logged_once_with_params_metrics_and_artifacts(tmp_path):
    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["compile", str(IRIS), "--train", "--out", str(out), "-q", "--track", "mlflow",
                                       "--set", "training.epochs=3", "--set", "layers.fc1.dropout=0.25"])
    assert result.exit_code == 0, result.output
    assert f"in sqlite:///{out}/mlflow.db" in result.output
    runs = search(out)
    assert len(runs) == 1
    run = runs.iloc[0]
    run_dir = run["tags.regspec.run_dir"]
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert run["tags.mlflow.runName"] == "iris-base" and run["status"] == "FINISHED"
    assert run["params.layers.fc1.units"] == "512" and run["params.layers.fc1.dropout"] == "0.25"
    assert run["params.training.epochs"] == "3" and run["params.compile.optimizer"] == "sgd"
    assert run["metrics.test.accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert run["metrics.train.loss"] == pytest.approx(metrics["train"]["loss"])
    client = mlflow.tracking.MlflowClient()
    history = json.load(open(os.path.join(run_dir, "history.json")))
    assert [m.value for m in sorted(client.get_metric_history(run.run_id, "loss"), key=lambda m: m.step)] == \
        pytest.approx(history["loss"])
    assert {"curves.png", "weights.png", "model.keras", "spec.yaml"} <= {a.path for a in client.list_artifacts(run.run_id)}
    assert (out / "mlartifacts").is_dir()  # beside the store, not in the working directory

    from regspec.report.tracking import Tracker, default_uri

    assert Tracker(default_uri(str(out)), str(out)).log_run(run_dir) == run.run_id  # logged again: the same run
    assert len(search(out)) == 1


def test_a_sweep_is_a_parent_run_with_its_trials_nested(tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"regspec-sweep: 1\nname: tracked\nbase: {IRIS}\naxes:\n  layers.fc1.units: [4, 8]\n"
                     "set: {training.epochs: 2}\n")
    out = tmp_path / "runs"
    for _ in range(2):  # the rerun trains nothing and logs nothing new
        done = subprocess.run(regspec_cmd("sweep", str(sweep), "--out", str(out), "--track", "mlflow"),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "with 2 nested runs" in done.stdout
        assert "INFO" not in done.stderr
    runs = search(out)
    assert len(runs) == 3
    parent = runs[runs["tags.mlflow.runName"] == "tracked"].iloc[0]
    trials = runs[runs["tags.mlflow.parentRunId"] == parent.run_id]
    assert sorted(trials["params.layers.fc1.units"]) == ["4", "8"]
    assert parent["params.axes.layers.fc1.units"] == "[4, 8]"
    assert trials["metrics.test.accuracy"].notna().all()
