"""Sweeps with `search:` (Optuna): ranges checked at their lines; a killed study resumes with every
point trained exactly once; a point suggested again is told, not trained; pruned trials stay pruned."""

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from regspec.cli import main
from regspec.diagnostics import SpecError
from regspec.sweep.plan import plan
from regspec.sweep.runner import run_sweep
from tests.conftest import SPECS, regspec_cmd

IRIS = SPECS / "iris" / "base.yaml"
optuna = pytest.importorskip("optuna")


def write_sweep(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"regspec-sweep: 1\nname: search\nbase: {IRIS}\n" + body)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        plan(str(path))
    return [d.format().replace(str(path.parent) + "/", "") for d in info.value.diagnostics]


def study_states(out: Path) -> list[str]:
    study = optuna.load_study(study_name="search", storage=f"sqlite:///{out}/search/optuna.db")
    return [t.state.name for t in study.trials]


def rows(out: Path) -> list[dict]:
    con = sqlite3.connect(out / "search" / "sweep.db")
    con.row_factory = sqlite3.Row
    return [dict(r) for r in con.execute("SELECT * FROM trials ORDER BY id")]


def test_ranges_and_search_settings_are_checked_at_their_lines(tmp_path):
    assert errors(write_sweep(tmp_path, """axes:
  layers.fc1.kernel_regularizer.l2: {low: 0.00001, high: 0.1, log: true}
  layers.fc1.units: {low: 0, high: 8}
""")) == [
        "s.yaml:5:37: error: axes.layers.fc1.kernel_regularizer.l2: a range needs `search:` (a grid cannot enumerate it) "
        "(add `search: {sampler: tpe, trials: 40}`, or list the values)",
        "s.yaml:6:21: error: axes.layers.fc1.units: a range needs `search:` (a grid cannot enumerate it) "
        "(add `search: {sampler: tpe, trials: 40}`, or list the values)",
    ]
    assert errors(write_sweep(tmp_path, """axes:
  layers.fc1.kernel_regularizer.l2: {low: 0.1, high: 0.001, log: true}
search: {trials: 5}
""", "b.yaml")) == ["b.yaml:5:37: error: axes.layers.fc1.kernel_regularizer.l2: low (0.1) is above high (0.001)"]
    assert errors(write_sweep(tmp_path, """mode: random
samples: 3
axes:
  layers.fc1.units: {low: 4, high: 8}
search: {trials: 5000}
""", "e.yaml")) == [
        "e.yaml:4:7: error: mode: mode does not apply with `search:` (the sampler chooses the points) (remove `mode`)",
        "e.yaml:5:10: error: samples: samples does not apply with `search:` (use search.trials)",
        "e.yaml:8:18: error: search.trials: 5,000 trials is over max_trials (1,000) (raise max_trials)",
    ]
    # Values a range reaches are checked at its ends: `high` of a dropout rate, `low` of units.
    assert errors(write_sweep(tmp_path, """axes:
  layers.fc1.dropout: {low: 0.0, high: 1.5}
  layers.fc1.units: {low: 0, high: 8, step: 2}
search: {trials: 5}
""", "c.yaml")) == [
        "c.yaml:5:40: error: layers[0].dropout: must be < 1 (got 1.5)",
        "c.yaml:6:27: error: layers[0].units: must be >= 1 (got 0)",
    ]
    assert errors(write_sweep(tmp_path, """axes:
  layers.fc1.units: {low: 4, high: 8}
search: {trials: 5, sampler: grid}
""", "d.yaml")) == ["d.yaml:5:21: error: axes.layers.fc1.units: sampler: grid needs a list of values here, not a range "
                    "(list the values)"]


def test_a_search_validates_and_dry_runs_without_training(tmp_path):
    path = write_sweep(tmp_path, """axes:
  layers.fc1.kernel_regularizer.l2: {low: 0.00001, high: 0.1, log: true}
  layers.fc1.activation: [relu, tanh]
search: {sampler: tpe, trials: 12, pruner: median}
""")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0 and "(sweep search: 12 trials)" in result.output
    result = CliRunner().invoke(main, ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "a search: 12 trials by sampler tpe (seed 0), pruner median" in result.output
    assert not (tmp_path / "runs").exists()


def test_drawn_floats_are_kept_to_three_digits_within_the_range():
    from regspec.sweep.search import rounded

    assert rounded(0.000123456, 1e-5, 0.1) == 0.000123
    assert rounded(0.09999, 1e-5, 0.0999) == 0.0999  # never outside the range it was drawn from
    assert rounded(12345.678, 0, 1e6) == 12300.0


@pytest.mark.tf
@pytest.mark.slow
def test_a_point_suggested_again_is_told_not_trained(tmp_path):
    # Two possible models and five trials: the study must suggest a point it already tried.
    path = write_sweep(tmp_path, """axes:
  layers.fc1.activation: [relu, tanh]
set: {training.epochs: 2}
search: {sampler: random, trials: 5, seed: 3}
""")
    out = tmp_path / "runs"
    seen = []
    result = run_sweep(str(path), str(out), jobs=1, progress=lambda counts, total, running: seen.append((counts, total)))
    assert study_states(out) == ["COMPLETE"] * 5
    assert seen[-1] == ({"finished": 5, "pruned": 0, "failed": 0}, 5)  # the bar counts trials, not rows
    trained = rows(out)
    assert 1 <= len(trained) <= 2 and all(r["attempts"] == 1 and r["status"] == "finished" for r in trained)
    assert len(os.listdir(out / "search" / "runs")) == len(trained)
    study = optuna.load_study(study_name="search", storage=f"sqlite:///{out}/search/optuna.db")
    by_point = {r["overrides"]: json.loads(r["metrics"])["test"]["accuracy"] for r in trained}
    for t in study.trials:  # each trial is told its point's result
        point = json.dumps({"layers.fc1.activation": t.params["layers.fc1.activation"], "training.epochs": 2},
                           sort_keys=True)
        assert t.value == pytest.approx(by_point[point])
    assert len(result.rows) == len(trained)


@pytest.mark.tf
@pytest.mark.slow
def test_pruned_trials_are_recorded_and_never_retried(tmp_path):
    # A huge activity penalty makes a hopeless loss from the first epoch: the median pruner stops it.
    path = write_sweep(tmp_path, """axes:
  layers.fc1.activity_regularizer.l1: [0.0, 50.0]
  training.seed: {low: 1, high: 1000}
set: {training.epochs: 6, training.batch_size: 16}
metric: train.loss
goal: min
search: {sampler: random, trials: 8, seed: 1, pruner: median, startup_trials: 1, warmup_epochs: 1}
""")
    out = tmp_path / "runs"
    run_sweep(str(path), str(out), jobs=1)
    first = rows(out)
    pruned = [r for r in first if r["status"] == "pruned"]
    assert pruned, [r["status"] for r in first]
    for r in pruned:  # cut short, with what it trained: history, metrics and curves
        history = json.load(open(os.path.join(r["run_dir"], "history.json")))
        assert 2 <= len(history["loss"]) < 6
        assert json.loads(r["metrics"])["epochs_run"] == len(history["loss"])
        assert json.load(open(os.path.join(r["run_dir"], "run.json")))["status"] == "pruned"
        assert open(os.path.join(r["run_dir"], "curves.png"), "rb").read(4) == b"\x89PNG"
    assert any('l1": 50.0' in r["overrides"] for r in pruned)  # (the median pruner may stop a slow good one too)
    assert study_states(out).count("PRUNED") == len(pruned)
    # Compare lists them, after the finished ones; a rerun trains nothing again.
    listing = CliRunner().invoke(main, ["compare", str(out / "search")])
    assert listing.exit_code == 0 and "pruned" in listing.output
    rerun = subprocess.run(regspec_cmd("sweep", str(path), "--out", str(out)), capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "0 run, 0 failed" in rerun.stdout
    assert [(r["status"], r["run_dir"], r["attempts"]) for r in rows(out)] == [
        (r["status"], r["run_dir"], r["attempts"]) for r in first]
    _hparams_are_read_by_tensorboard(out / "search" / "tensorboard", rows(out))
    assert (out / "search" / "axes.png").read_bytes()[:4] == b"\x89PNG"  # pruned trials hollow, seeds on a number line
    table = rerun.stdout.splitlines()
    statuses = [line.split()[2] for line in table if line[:1].isdigit()]
    assert statuses.index("pruned") > max(i for i, s in enumerate(statuses) if s == "finished")


@pytest.mark.tf
@pytest.mark.slow
def test_a_killed_study_resumes_with_every_point_trained_once(tmp_path):
    path = write_sweep(tmp_path, """axes:
  layers.fc1.kernel_regularizer.l2: {low: 0.00001, high: 0.1, log: true}
  layers.fc1.units: {low: 4, high: 32, step: 4}
set: {training.epochs: 15, training.batch_size: 8}
search: {sampler: tpe, trials: 6, seed: 2}
""")
    out = tmp_path / "runs"
    db = out / "search" / "sweep.db"
    proc = subprocess.Popen(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "2"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    done = 0
    while done < 2 and time.time() < deadline:
        assert proc.poll() is None
        time.sleep(0.2)
        if db.exists():
            try:
                done = sqlite3.connect(db).execute("SELECT COUNT(*) FROM trials WHERE status='finished'").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["key"]: r["run_dir"] for r in rows(out) if r["status"] == "finished"}
    assert 2 <= len(before) < 6, "the kill came too late to test anything"

    rerun = subprocess.run(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "2"),
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    states = study_states(out)
    assert states.count("COMPLETE") == 6 and set(states) <= {"COMPLETE", "FAIL"}  # FAIL: the killed runner's
    after = rows(out)
    assert len({r["key"] for r in after}) == len(after) and {r["status"] for r in after} == {"finished"}
    for r in after:
        if r["key"] in before:
            assert r["run_dir"] == before[r["key"]]  # finished work kept, not redone
        history = [json.loads(line) for line in open(os.path.join(r["run_dir"], "history.jsonl"))]
        assert [h["epoch"] for h in history] == list(range(1, 16))  # every epoch once, a resumed run too
    assert sorted(os.listdir(out / "search" / "runs")) == sorted(os.path.basename(r["run_dir"]) for r in after)


def _hparams_are_read_by_tensorboard(logdir: Path, trials: list[dict]) -> None:
    """TensorBoard's own reader (what `tensorboard --logdir` loads) finds the experiment, each
    trial's hparams and its final metrics."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins.hparams import metadata

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    content = mux.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    experiment = metadata.parse_experiment_plugin_data(content["."][metadata.EXPERIMENT_TAG])
    assert [h.name for h in experiment.hparam_infos] == ["layers.fc1.activity_regularizer.l1", "training.seed", "status"]
    assert {"train/loss", "test/accuracy", "epochs_run"} <= {m.name.tag for m in experiment.metric_infos}
    for r in trials:
        start = metadata.parse_session_start_info_plugin_data(content[r["name"]][metadata.SESSION_START_INFO_TAG])
        overrides = json.loads(r["overrides"])
        assert start.hparams["training.seed"].number_value == overrides["training.seed"]
        assert start.hparams["status"].string_value == r["status"]
        loss = mux.Tensors(r["name"], "train/loss")[0].tensor_proto.float_val[0]
        assert loss == pytest.approx(json.loads(r["metrics"])["train"]["loss"], rel=1e-6)
        assert len(mux.Tensors(r["name"], "epoch/loss")) == json.loads(r["metrics"])["epochs_run"]


@pytest.mark.tf
@pytest.mark.slow
def test_a_grid_sampler_ends_when_every_point_is_tried(tmp_path):
    path = write_sweep(tmp_path, """axes:
  layers.fc1.units: [4, 8]
set: {training.epochs: 2}
search: {sampler: grid, trials: 5}
""")
    out = tmp_path / "runs"
    done = subprocess.run(regspec_cmd("sweep", str(path), "--out", str(out)), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "the grid's every point is tried: the search ends there" in done.stderr
    assert study_states(out) == ["COMPLETE", "COMPLETE"]
    assert sorted(json.loads(r["overrides"])["layers.fc1.units"] for r in rows(out)) == [4, 8]


def test_a_damaged_study_file_is_named(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  layers.fc1.units: [4, 8]\nsearch: {trials: 2}\n")
    folder = tmp_path / "runs" / "search"
    folder.mkdir(parents=True)
    (folder / "optuna.db").write_text("not a database")
    with pytest.raises(SpecError) as info:
        run_sweep(str(path), str(tmp_path / "runs"))
    (d,) = info.value.diagnostics
    assert d.file == str(folder / "optuna.db") and d.message.startswith("not a usable Optuna study (DatabaseError")
    assert d.hint == "move it away to start the search over (sweep.db keeps every trained point)"


@pytest.mark.tf
@pytest.mark.slow
def test_a_result_recorded_after_the_runner_died_is_told_not_lost(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  layers.fc1.units: [4, 8]\nset: {training.epochs: 1}\n"
                                 "search: {sampler: random, trials: 1}\n")
    out = tmp_path / "runs"
    run_sweep(str(path), str(out))
    (row,) = rows(out)
    # As if a runner asked trial 1 for the same point, its worker recorded the row, and the runner
    # died before telling the study.
    study = optuna.load_study(study_name="search", storage=f"sqlite:///{out}/search/optuna.db")
    study.enqueue_trial(json.loads(row["search_params"]))
    orphan = study.ask()
    con = sqlite3.connect(out / "search" / "sweep.db")
    con.execute("UPDATE trials SET search_trial=? WHERE id=?", (orphan.number, row["id"]))
    con.commit()
    con.close()
    path.write_text(path.read_text().replace("trials: 1", "trials: 2"))
    result = run_sweep(str(path), str(out))
    assert study_states(out) == ["COMPLETE", "COMPLETE"]  # told from the row, not failed and asked again
    told = optuna.load_study(study_name="search", storage=f"sqlite:///{out}/search/optuna.db").trials[1]
    assert told.value == pytest.approx(json.loads(row["metrics"])["test"]["accuracy"])
    assert result.ran == 0 and len(rows(out)) == 1
