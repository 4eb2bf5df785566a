"""A training killed with SIGKILL resumes from its last finished epoch; nothing is lost."""

import glob
import json
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import SPECS, regspec_cmd

pytestmark = [pytest.mark.tf, pytest.mark.slow]

EPOCHS = 40


def history_rows(run_dir: str) -> list[dict]:
    path = os.path.join(run_dir, "history.jsonl")
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path).read().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    return rows


def test_killed_training_resumes(tmp_path):
    out = str(tmp_path / "runs")
    args = regspec_cmd("compile", str(SPECS / "iris" / "base.yaml"), "--train", "--out", out, "-q",
                       "--set", f"training.epochs={EPOCHS}", "--set", "training.batch_size=4")
    env = dict(os.environ, REGSPEC_BACKUP_SECONDS="0")  # back up every epoch: the kill lands after some
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)
    deadline = time.time() + 240
    run_dir = None
    while time.time() < deadline:
        dirs = glob.glob(os.path.join(out, "iris-base-*"))
        if dirs and len(history_rows(dirs[0])) >= 3:
            run_dir = dirs[0]
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert run_dir, "training never got to epoch 3"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(history_rows(run_dir)) < EPOCHS, "killed too late to test anything"
    assert json.loads(open(os.path.join(run_dir, "run.json")).read())["status"] == "running"

    # A plain rerun does not silently start over.
    again = subprocess.run(args, capture_output=True, text=True, timeout=240, env=env)
    assert again.returncode == 2
    assert "an interrupted run of this spec exists" in again.stderr and "--resume" in again.stderr

    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming iris-base in {run_dir} after epoch" in resumed.stdout
    history = json.loads(open(os.path.join(run_dir, "history.json")).read())
    assert len(history["loss"]) == EPOCHS  # every epoch exactly once
    # It went on from the backup, and the epochs after the backup were logged once more, not twice.
    restored = int(resumed.stdout.split("after epoch ")[1].split()[0])
    assert restored >= 2
    assert len(history_rows(run_dir)) == EPOCHS
    assert [r["epoch"] for r in history_rows(run_dir)] == list(range(1, EPOCHS + 1))
    assert json.loads(open(os.path.join(run_dir, "run.json")).read())["status"] == "finished"
    assert glob.glob(os.path.join(out, "iris-base-*")) == [run_dir]  # resumed in place


def test_backups_are_written_by_time_not_every_epoch(tmp_path, monkeypatch):
    """The default backup is bounded in time (REGSPEC_BACKUP_SECONDS), not written every epoch."""
    from regspec.api import load
    from regspec.backend.keras import callbacks
    from regspec.runtime.train import train

    saves = []
    cls = callbacks.atomic_backup_class()
    original, finish = cls._save_model, cls._write_metadata
    monkeypatch.setattr(cls, "_save_model", lambda self, finished=False: (
        saves.append((self._current_epoch, finished)), original(self, finished))[1])
    monkeypatch.setattr(cls, "_write_metadata", lambda self, extra: (
        saves.append((self._current_epoch, "model saved")), finish(self, extra))[1])
    spec = load(SPECS / "iris" / "base.yaml").with_overrides({"training.epochs": 6})
    monkeypatch.setattr(cls, "every", 3600.0)
    train(spec, str(tmp_path / "a"), verbose=0)
    # six fast epochs: nothing to lose, nothing written until training ends (then the trained
    # model, once: in the run directory, the backup pointing to it until the results are written)
    assert saves == [(6, "model saved")]
    saves.clear()
    monkeypatch.setattr(cls, "every", 0.0)
    train(spec, str(tmp_path / "b"), verbose=0)
    assert saves == [(1, False), (2, False), (3, False), (4, False), (5, False), (6, False), (6, "model saved")]
