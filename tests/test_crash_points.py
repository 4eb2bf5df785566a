"""Nothing lost at any instant: a run (and a sweep trial) killed with SIGKILL, or whose disk
fills up, at each named point of its life, is finished by the same command with --resume (a
sweep: the same command), every epoch logged exactly once and every result written.

The faults come from regspec.faults (REGSPEC_FAULT=kill:<point> or fill:<point>), which acts at
the very instant named, where sleeps and polling would only land near it.
"""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from regspec.cli import main
from regspec.rundir.read import read_run
from regspec.runtime.train import load_saved
from tests.conftest import SPECS, regspec_cmd

pytestmark = [pytest.mark.tf, pytest.mark.slow]

IRIS = str(SPECS / "iris" / "base.yaml")
EPOCHS = 5
SETS = ("--set", f"training.epochs={EPOCHS}", "--set", "training.batch_size=16", "--set", "layers.fc1.units=32")
ENV = {"REGSPEC_BACKUP_SECONDS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}  # a backup after every epoch

# Every moment of a run's life where a kill leaves a different state behind, in order.
RUN_POINTS = [
    "run_dir_made",  # the run directory and the pointer to it, no run.json yet
    "run_json_written",
    "epoch_logged#1",  # before the first backup
    "backup_weights_written#2",  # the new backup written, not yet renamed over the last one
    "backup_saved#3",
    "epoch_logged#5",  # the last epoch logged, its backup not written
    "trained",  # training over, the trained model saved (the backup points to it), no other result written
    "history_written",  # weights.json and the history; the figures are being drawn (a helper process)
    "evaluated",
    "model_saved",
    "figures_drawn",
    "metrics_written",
    "run_done",  # run.json says finished; the backup is still there
    "backup_emptied",  # the backup dropped but for its pointer and its lock
    "lock_dropped",  # the backup dropped but for its pointer
]


def compile_cmd(out: Path, *extra: str) -> list[str]:
    return regspec_cmd("compile", IRIS, "--train", "-q", "--out", str(out), *SETS, *extra)


def run_dirs(out: Path) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(out / "iris-base-*")))


def logged_epochs(run_dir: Path) -> list[int]:
    return [json.loads(line)["epoch"] for line in (run_dir / "history.jsonl").read_text().splitlines()]


def temp_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".tmp-") or p.name.startswith("tmp-")
            or p.name.endswith(".tmp")]


def assert_complete(out: Path) -> Path:
    """One run directory, finished, every epoch logged once, every result there, nothing left over."""
    (run_dir,) = run_dirs(out)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    assert logged_epochs(run_dir) == list(range(1, EPOCHS + 1))
    assert len(json.loads((run_dir / "history.json").read_text())["loss"]) == EPOCHS
    assert json.loads((run_dir / "metrics.json").read_text())["epochs_run"] == EPOCHS
    for name in ("model.keras", "weights.json", "history.csv", "curves.png", "weights.png", "spec.yaml"):
        assert (run_dir / name).stat().st_size > 0, name
    assert not (out / ".backup").exists()  # nor a lock: a done run leaves nothing to resume
    assert temp_files(out) == []
    return run_dir


def optimizer_steps(run_dir: Path) -> int:
    """The steps the saved model's optimizer counted: all of them only if the resume restored its state."""
    return int(load_saved(str(run_dir)).optimizer.iterations.numpy())


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The metrics (and the optimizer's step count) of the same run, not interrupted."""
    out = tmp_path_factory.mktemp("reference")
    result = CliRunner().invoke(main, compile_cmd(out)[3:], env=ENV)
    assert result.exit_code == 0, result.output
    (run_dir,) = run_dirs(out)
    return {**json.loads((run_dir / "metrics.json").read_text()), "steps": optimizer_steps(run_dir)}


@pytest.mark.parametrize("point", RUN_POINTS)
def test_a_run_killed_at_any_point_is_finished_by_resume(tmp_path, point, reference):
    out = tmp_path / "runs"
    killed = subprocess.run(compile_cmd(out), capture_output=True, text=True, timeout=300,
                            env={**os.environ, **ENV, "REGSPEC_FAULT": f"kill:{point}"})
    assert killed.returncode == -9, killed.stderr  # it died at the point, not before, not after
    (run_dir,) = run_dirs(out)
    if (run_dir / "run.json").exists():  # a dead run reads as interrupted, not running forever
        assert read_run(str(run_dir)).status == ("finished" if point in ("run_done", "backup_emptied", "lock_dropped")
                                                 else "interrupted")
    again = CliRunner().invoke(main, compile_cmd(out, "--resume")[3:], env=ENV)
    assert again.exit_code == 0, again.output
    assert assert_complete(out) == run_dir
    assert optimizer_steps(run_dir) == reference["steps"] > 0  # the optimizer's state came back with the weights
    if RUN_POINTS.index(point) >= RUN_POINTS.index("trained"):
        # Training had ended: its weights were kept, not trained again, so the results are the
        # uninterrupted run's.
        metrics = json.loads((run_dir / "metrics.json").read_text())
        for split in ("train", "test"):
            for key, value in reference[split].items():
                assert metrics[split][key] == pytest.approx(value, rel=1e-4, abs=1e-6), (split, key)


def kill_when_trained(out: Path) -> tuple[Path, dict]:
    """A run killed once training is over; its run directory and its backup's metadata."""
    killed = subprocess.run(compile_cmd(out), capture_output=True, text=True, timeout=300,
                            env={**os.environ, **ENV, "REGSPEC_FAULT": "kill:trained"})
    assert killed.returncode == -9, killed.stderr
    (run_dir,) = run_dirs(out)
    (meta,) = glob.glob(str(out / ".backup" / "*" / "training_metadata.json"))
    return run_dir, json.loads(Path(meta).read_text())


def test_the_trained_model_is_saved_once_when_training_ends(tmp_path, reference):
    """The finished backup points to the run's model file instead of holding the weights again: the
    model is durable the moment training ends, and a resume reads it back, trains nothing and does
    not save it again."""
    out = tmp_path / "runs"
    run_dir, meta = kill_when_trained(out)
    assert meta["finished"] is True and meta["model_saved"] is True and meta["epoch"] == EPOCHS
    saved = (run_dir / "model.keras").stat()
    assert optimizer_steps(run_dir) == reference["steps"]  # the whole trained state, before any result
    again = CliRunner().invoke(main, compile_cmd(out, "--resume")[3:], env=ENV)
    assert again.exit_code == 0, again.output
    assert "training had ended" in again.output
    assert assert_complete(out) == run_dir
    after = (run_dir / "model.keras").stat()
    assert (after.st_ino, after.st_mtime_ns) == (saved.st_ino, saved.st_mtime_ns)  # not written a second time


def test_a_finished_backup_holding_the_weights_itself_still_resumes(tmp_path, reference):
    """A backup finished by an earlier regspec holds the trained weights itself (no model file yet):
    the resume reads them from it and saves the model."""
    out = tmp_path / "runs"
    run_dir, meta = kill_when_trained(out)
    (meta_path,) = glob.glob(str(out / ".backup" / "*" / "training_metadata.json"))
    del meta["model_saved"]  # as written before: the last epoch's backup weights are the trained ones
    Path(meta_path).write_text(json.dumps(meta))
    (run_dir / "model.keras").unlink()
    again = CliRunner().invoke(main, compile_cmd(out, "--resume")[3:], env=ENV)
    assert again.exit_code == 0, again.output
    assert assert_complete(out) == run_dir
    assert optimizer_steps(run_dir) == reference["steps"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key, value in reference["test"].items():
        assert metrics["test"][key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


SWEEP_POINTS = ["epoch_logged#2", "trained", "run_done", "backup_emptied", "lock_dropped"]


def write_sweep(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"regspec-sweep: 1\nname: crash\nbase: {IRIS}\naxes:\n  training.seed: [1, 2]\nset:\n"
                    f"  training.epochs: {EPOCHS}\n  training.batch_size: 16\n  layers.fc1.units: 32\njobs: 1\n")
    return path


def assert_sweep_complete(sweep_dir: Path) -> None:
    rows = sqlite3.connect(sweep_dir / "sweep.db").execute("SELECT name, status, run_dir FROM trials").fetchall()
    assert len(rows) == 2 and {r[1] for r in rows} == {"finished"}, rows
    runs = sorted(os.listdir(sweep_dir / "runs"))
    assert len(runs) == 2, runs  # one run directory per trial, and no backup left (a done run has none)
    for _, _, run_dir in rows:
        assert logged_epochs(Path(run_dir)) == list(range(1, EPOCHS + 1))
        assert json.loads((Path(run_dir) / "metrics.json").read_text())["epochs_run"] == EPOCHS
    assert temp_files(sweep_dir) == []


@pytest.mark.parametrize("point", SWEEP_POINTS)
def test_a_sweep_trial_killed_at_any_point_is_finished_by_the_rerun(tmp_path, point):
    path, out = write_sweep(tmp_path), tmp_path / "runs"
    cmd = regspec_cmd("sweep", str(path), "--out", str(out))
    subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                   env={**os.environ, **ENV, "REGSPEC_FAULT": f"kill:{point}"})  # the worker dies
    statuses = [r[0] for r in sqlite3.connect(out / "crash" / "sweep.db").execute("SELECT status FROM trials")]
    assert "failed" in statuses  # the dead worker's trial
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **ENV})
    assert again.returncode == 0, again.stderr
    assert_sweep_complete(out / "crash")


# A full disk at each write: the run ends `failed` with the reason, no traceback and no
# temporary file; once space is freed, the same command with --resume finishes it.
FILL_POINTS = [
    "run_json_written",  # the resolved spec cannot be written
    "epoch_logged#2",  # the next backup does not fit
    "backup_weights_written#2",  # the backup's epoch counter cannot be written
    "trained",  # weights.json cannot be written
    "history_written",  # the figures (drawn by a helper process), then the model
    "model_saved",  # metrics.json
    "metrics_written",  # run.json's `finished`
]


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip() or 'not root'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def free_space(disk: Path) -> None:
    for ballast in disk.rglob("ballast"):
        ballast.unlink()


@pytest.mark.parametrize("point", FILL_POINTS)
def test_a_full_disk_at_any_write_fails_the_run_cleanly_and_resume_finishes_it(small_disk, point):
    out = small_disk / "runs"
    full = subprocess.run(compile_cmd(out), capture_output=True, text=True, timeout=300,
                          env={**os.environ, **ENV, "REGSPEC_FAULT": f"fill:{point}"})
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr and "error: " in full.stderr
    assert "--resume" in full.stderr
    (run_dir,) = run_dirs(out)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
    assert temp_files(out) == []  # nothing half-written keeps the space
    assert sum(p.stat().st_size for p in small_disk.rglob("ballast")) > 1 << 20  # the disk really was filled
    free_space(small_disk)
    again = subprocess.run(compile_cmd(out, "--resume"), capture_output=True, text=True, timeout=300,
                           env={**os.environ, **ENV})
    assert again.returncode == 0, again.stderr
    assert assert_complete(out) == run_dir


@pytest.mark.parametrize("point", ["epoch_logged#2", "run_done"])
def test_a_full_disk_in_a_sweep_is_named_and_the_rerun_finishes(small_disk, tmp_path, point):
    path, out = write_sweep(tmp_path), small_disk / "runs"
    cmd = regspec_cmd("sweep", str(path), "--out", str(out))
    full = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **ENV, "REGSPEC_FAULT": f"fill:{point}"})
    assert full.returncode != 0
    assert "Traceback" not in full.stderr, full.stderr
    assert "free some space" in full.stderr  # the trial, or the sweep's store, says the disk is full
    assert temp_files(out) == []
    free_space(small_disk)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **ENV})
    assert again.returncode == 0, again.stderr
    assert_sweep_complete(out / "crash")


def test_fault_points_are_all_reached():
    """The points the tests name exist in the code (a renamed point would make a test vacuous)."""
    source = "".join(Path(p).read_text() for p in glob.glob(str(Path(__file__).parents[1] / "regspec" / "**" / "*.py"),
                                                            recursive=True))
    for point in {p.partition("#")[0] for p in RUN_POINTS + SWEEP_POINTS + FILL_POINTS}:
        assert f'faults.reached("{point}"' in source, point
