"""Run integrity: a live run holds a lock; --resume resumes only this spec's run, into the run
directory it came from, or says why not; history.json is strict JSON."""

import json
import os

import pytest

from regspec.api import load
from regspec.diagnostics import SpecError
from regspec.runtime.train import _take_lock, backup_dir, find_interrupted, start_run_dir, train

from .conftest import SPECS

pytestmark = pytest.mark.tf
IRIS = SPECS / "iris" / "base.yaml"


def spec(**overrides):
    return load(IRIS).with_overrides({"training.epochs": 2, **overrides})


def test_a_live_run_is_running_not_interrupted(tmp_path):
    s = spec()
    out = str(tmp_path)
    lock = _take_lock(out, s)  # another process training this spec
    start_run_dir(s, out)
    try:
        for resume in (False, True):
            with pytest.raises(SpecError) as info:
                train(s, out, resume=resume, verbose=0)
            assert f"this spec is being trained into {out} by another process (pid {os.getpid()})" in str(info.value)
    finally:
        lock.close()
    with pytest.raises(SpecError, match="an interrupted run of this spec exists"):  # once it is gone: interrupted
        train(s, out, verbose=0)


def test_resume_with_nothing_to_resume_starts_and_says_so(tmp_path, capsys):
    """`--resume` gets the run done: it goes on from a backup, or starts when there is none (a
    retry loop around the same command must not fail because the kill came too early)."""
    assert find_interrupted(spec(), str(tmp_path), resume=True, strict=True) is None
    assert "nothing to resume: no interrupted run of this spec" in capsys.readouterr().out
    assert find_interrupted(spec(), str(tmp_path), resume=True) is None  # sweeps: quietly
    assert capsys.readouterr().out == ""
    result = train(spec(), str(tmp_path), resume=True, strict_resume=True, verbose=0)
    assert result.status == "finished"
    assert "training iris-base from the start" in capsys.readouterr().out


def test_resume_after_the_spec_changed_says_so(tmp_path, capsys):
    out = str(tmp_path)
    start_run_dir(spec(), out)  # an interrupted run of the old spec
    assert find_interrupted(spec(**{"layers.fc1.units": 64}), out, resume=True, strict=True) is None
    assert "was of a different spec (it changed since)" in capsys.readouterr().out


def test_a_tampered_backup_pointer_is_refused(tmp_path):
    s, out = spec(), str(tmp_path / "runs")
    run_dir = start_run_dir(s, out)
    with open(os.path.join(run_dir, "run.json"), "w") as fh:
        json.dump({"spec_hash": s.hash}, fh)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with open(os.path.join(backup_dir(out, s), "run_dir"), "w") as fh:
        fh.write(str(elsewhere))
    with pytest.raises(SpecError) as info:
        find_interrupted(s, out, resume=True)
    assert "which is not a run of this spec" in str(info.value) and "--restart" in str(info.value)
    assert find_interrupted(s, out, resume=True, restart=True) is None  # --restart discards it
    assert not os.listdir(elsewhere)


def test_history_json_is_strict_json_when_the_loss_diverges(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{1e30 * i},{i},{i}\n" for i in range(1, 40)))
    (tmp_path / "s.yaml").write_text("""
regspec: 1
name: diverges
input: {shape: [2]}
layers: [{type: dense, units: 1}]
compile: {optimizer: {type: sgd, learning_rate: 1.0}, loss: mse}
data: {type: csv, train: d.csv, label: y}
training: {epochs: 5}
""")
    result = train(load(tmp_path / "s.yaml"), str(tmp_path / "runs"), verbose=0)
    assert result.status == "diverged"
    text = open(os.path.join(result.run_dir, "history.json")).read()
    assert "NaN" not in text and "Infinity" not in text
    history = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in history.json"))
    assert history["loss"][-1] is None  # the diverged value, as null


def test_a_corrupt_backup_is_named_and_discarded(tmp_path, monkeypatch):
    from regspec.backend.keras import callbacks

    monkeypatch.setattr(callbacks.atomic_backup_class(), "every", 0.0)
    s, out = spec(), str(tmp_path)
    run_dir = start_run_dir(s, out)
    with open(os.path.join(run_dir, "run.json"), "w") as fh:
        json.dump({"spec_hash": s.hash}, fh)
    bdir = backup_dir(out, s)
    with open(os.path.join(bdir, "latest.weights.h5"), "wb") as fh:
        fh.write(b"torn" * 100)
    with open(os.path.join(bdir, "training_metadata.json"), "w") as fh:
        fh.write('{"epoch": 1, "batch": 0}')
    with pytest.raises(SpecError) as info:
        train(s, out, resume=True, verbose=0)
    assert f"the backup in {bdir} cannot be read" in str(info.value) and "run the same command again" in str(info.value)
    assert train(s, out, verbose=0).status == "finished"  # and the rerun starts over


def test_a_full_disk_ends_the_run_cleanly(tmp_path, monkeypatch):
    """No write is attempted that the disk cannot hold (h5py can crash outright on ENOSPC); the
    run is `failed`, and once there is space `--resume` gets it done in the same folder."""
    import shutil
    from collections import namedtuple

    from regspec.backend.keras import callbacks

    monkeypatch.setattr(callbacks.atomic_backup_class(), "every", 0.0)
    usage = namedtuple("usage", "total used free")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(SpecError) as info:
        train(spec(), str(tmp_path), verbose=0)
    text = str(info.value)
    assert "not enough disk space for the backup" in text and "free some space" in text and "--resume" in text
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("iris-base")]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
    monkeypatch.setattr(shutil, "disk_usage", real)
    result = train(spec(), str(tmp_path), resume=True, verbose=0)
    assert result.status == "finished" and result.run_dir == str(run_dir)
    assert not os.path.exists(backup_dir(str(tmp_path), spec()))


def test_the_runs_folder_cannot_overlap_the_data(tmp_path):
    from .helpers import image_folder

    image_folder(tmp_path / "data", n=2, size=8)
    (tmp_path / "s.yaml").write_text("""
regspec: 1
name: overlap
input: {shape: [8, 8, 3]}
layers: [{type: flatten}, {type: dense, units: 1, activation: sigmoid}]
compile: {loss: binary_crossentropy}
data: {type: image_directory, train: data/train, image_size: [8, 8], label_mode: binary}
""")
    for out in (tmp_path / "data" / "train", tmp_path / "data" / "train" / "runs"):
        with pytest.raises(SpecError, match="overlaps the data"):
            train(load(tmp_path / "s.yaml"), str(out), verbose=0)
    assert sorted(os.listdir(tmp_path / "data" / "train")) == ["African", "Asian"]


def test_the_runs_folder_cannot_be_the_folder_of_a_data_file(tmp_path):
    """`--out` the folder holding the CSV wrote runs among the data, and `compare data` then read
    the data folder as a runs folder. A runs folder beside the data's stays fine."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "iris.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    (tmp_path / "s.yaml").write_text("""
regspec: 1
name: csvout
input: {shape: [2]}
layers: [{type: dense, units: 2, activation: softmax}]
compile: {loss: sparse_categorical_crossentropy}
training: {epochs: 1, batch_size: 8}
data: {type: csv, train: data/iris.csv, label: label}
""")
    with pytest.raises(SpecError, match="overlaps the data"):
        train(load(tmp_path / "s.yaml"), str(tmp_path / "data"), verbose=0)
    assert sorted(os.listdir(tmp_path / "data")) == ["iris.csv"]
    assert train(load(tmp_path / "s.yaml"), str(tmp_path / "runs"), verbose=0).status == "finished"


@pytest.mark.slow
def test_a_real_full_disk_ends_the_run_cleanly(tmp_path):
    """On a real 1 MB filesystem (tmpfs; needs the right to mount, as CI's root has): the
    backup does not fit, the run ends `failed` with the reason, no traceback, no crash."""
    import subprocess
    import sys

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        result = subprocess.run([sys.executable, "-m", "regspec", "compile", str(IRIS), "--train", "-q", "--out",
                                 str(disk / "runs"), "--set", "training.epochs=3"],
                                capture_output=True, text=True, timeout=300,
                                env={**os.environ, "REGSPEC_BACKUP_SECONDS": "0"})
        assert result.returncode == 2, result.stderr
        assert "error: not enough disk space for the backup" in result.stderr and "Traceback" not in result.stderr
        (run_dir,) = (disk / "runs").glob("iris-base-*")
        assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_results_that_cannot_be_written_fail_the_run_cleanly(tmp_path, monkeypatch, capsys):
    """The disk fills after the last epoch: the run is `failed` with the reason (not left
    `running`), and `--resume` writes its results from the trained weights, without training."""
    import errno

    from regspec.backend.keras import build

    real_save = build.save_model

    def full(model, path):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(build, "save_model", full)
    out = str(tmp_path)
    with pytest.raises(SpecError) as info:
        train(spec(), out, verbose=0)
    assert "cannot write the run" in str(info.value)
    assert "No space left on device" in str(info.value) and "the same command with --resume" in str(info.value)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("iris-base")]
    run_info = json.loads((run_dir / "run.json").read_text())
    assert run_info["status"] == "failed" and "No space left" in run_info["error"]
    with pytest.raises(SpecError, match="an interrupted run of this spec exists"):  # never silently redone
        train(spec(), out, verbose=0)
    monkeypatch.setattr(build, "save_model", real_save)
    capsys.readouterr()
    again = train(spec(), out, resume=True, verbose=0)
    assert "after epoch 2 (training had ended: writing its results)" in capsys.readouterr().out
    assert again.status == "finished" and again.run_dir == str(run_dir) and again.metrics["epochs_run"] == 2
    assert [json.loads(line)["epoch"] for line in (run_dir / "history.jsonl").read_text().splitlines()] == [1, 2]


def callbacks_module():
    from regspec.backend.keras import callbacks

    return callbacks


def test_a_kill_before_run_json_is_written_resumes_into_the_run(tmp_path):
    """A kill between making the run directory (and the pointer to it) and writing its run.json
    left a run `--resume` refused as "not a run of this spec" (a sweep's rerun failed on it)."""
    s, out = spec(), str(tmp_path)
    run_dir = start_run_dir(s, out)  # what the killed process got done
    assert find_interrupted(s, out, resume=True) == run_dir
    result = train(s, out, resume=True, verbose=0)
    assert result.run_dir == run_dir and result.status == "finished"
