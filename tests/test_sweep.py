"""Sweep files: validation at the axis' line; runs with workers; a SIGKILLed sweep reruns only
what did not finish, and every point is done exactly once."""

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

pytestmark = [pytest.mark.tf, pytest.mark.slow]

IRIS = SPECS / "iris" / "base.yaml"


def write_sweep(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"regspec-sweep: 1\nname: test-sweep\nbase: {IRIS}\n" + body)
    return path


def test_bad_axes_are_reported_at_their_lines(tmp_path):
    path = write_sweep(tmp_path, """axes:
  layers.fc1.activity_regularizer.l1: [0.001, -1]
  layers.fc9.dropout: [0.1]
  training.epoch: [1]
  layers[1].units: []
""")
    with pytest.raises(SpecError) as info:
        plan(str(path))
    lines = [d.format().replace(str(tmp_path) + "/", "") for d in info.value.diagnostics]
    assert lines == ["s.yaml:8:20: error: axes.layers[1].units: needs at least 1 item(s) (got 0)"]


def test_bad_axis_values_each_at_their_line(tmp_path):
    path = write_sweep(tmp_path, """axes:
  layers.fc1.activity_regularizer.l1: [0.001, -1]
  layers.fc9.dropout: [0.1]
  training.epoch: [1]
""")
    with pytest.raises(SpecError) as info:
        plan(str(path))
    lines = [d.format().replace(str(tmp_path) + "/", "") for d in info.value.diagnostics]
    assert lines == [
        "s.yaml:5:47: error: layers[0].activity_regularizer.l1: must be >= 0 (got -1)",
        "s.yaml:6:3: error: axes.layers.fc9.dropout: no item named 'fc9' in layers (did you mean 'fc1'?)",
        "s.yaml:7:3: error: training.epoch: unknown key 'epoch' (did you mean 'epochs'?)",
    ]


def test_grid_over_the_cap_says_its_size(tmp_path):
    path = write_sweep(tmp_path, "max_trials: 10\naxes:\n  training.seed: [1, 2, 3, 4]\n  training.epochs: [1, 2, 3]\n")
    with pytest.raises(SpecError) as info:
        plan(str(path))
    assert info.value.diagnostics[0].format().endswith(
        "s.yaml:6:3: error: axes: the sweep has 12 trials, over max_trials (10) "
        "(use fewer values, mode: random with samples, or raise max_trials)")


def test_modes_and_duplicate_points(tmp_path):
    p = plan(str(write_sweep(tmp_path, "mode: random\nsamples: 3\nseed: 5\naxes:\n  training.seed: [1, 2, 3, 4]\n"
                                        "  training.epochs: [1, 2]\n")))
    assert len(p.trials) == 3
    # Two values that resolve to the same model are one trial, not two.
    p = plan(str(write_sweep(tmp_path, "axes:\n  training.epochs: [2, 2, 3]\n", "d.yaml")))
    assert len(p.trials) == 2


def test_sweep_runs_with_two_workers_and_reruns_nothing(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  layers.fc1.activity_regularizer.l1: [0.0, 0.01]\n  training.seed: [1, 2]\n"
                                 "set:\n  training.epochs: 2\n")
    result = run_sweep(str(path), str(tmp_path / "runs"), jobs=2)
    assert [r.status for r in result.rows] == ["finished"] * 4 and result.ran == 4
    taken = sqlite3.connect(os.path.join(result.sweep_dir, "sweep.db")).execute("SELECT worker, run_dir FROM trials")
    cpus: dict[str, set[tuple[int, ...]]] = {}
    for worker, run_dir in taken:
        cpus.setdefault(worker, set()).add(tuple(json.loads(open(os.path.join(run_dir, "run.json")).read())["cpus"]))
    assert len(cpus) == 2  # both workers took trials
    if len(os.sched_getaffinity(0)) >= 2:  # each on cores of its own, half of this process's each
        (a,), (b,) = cpus.values()
        assert not set(a) & set(b) and len(a) == len(b) == len(os.sched_getaffinity(0)) // 2
    # The runner draws each trial's curves while the workers train: every run directory has them.
    curves = [os.path.join(r.run_dir, "curves.png") for r in result.rows]
    assert all(open(c, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for c in curves)
    # The weight histograms are left to a report: the data they show is written.
    assert not any(os.path.exists(os.path.join(r.run_dir, "weights.png")) for r in result.rows)
    assert all(os.path.isfile(os.path.join(r.run_dir, "weights.json")) for r in result.rows)
    os.unlink(curves[0])  # as if the runner was killed before drawing it
    again = run_sweep(str(path), str(tmp_path / "runs"), jobs=2)
    assert again.ran == 0 and again.skipped == 4
    assert os.path.isfile(curves[0])  # drawn by the rerun, nothing trained again
    os.unlink(curves[1])
    report = CliRunner().invoke(main, ["report", result.sweep_dir, "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "r.html").read_text()
    for r in result.rows:  # a report draws what the sweep left out (or lost), and shows it
        for name in ("curves.png", "weights.png"):
            assert open(os.path.join(r.run_dir, name), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
            assert f'alt="{r.name} {name}"' in page
    assert sorted(os.listdir(os.path.join(result.sweep_dir, "runs"))) == sorted(
        os.path.basename(r.run_dir) for r in result.rows)  # one run directory per trial, no more


def test_killed_sweep_reruns_only_what_did_not_finish(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2, 3, 4, 5, 6]\nset:\n  training.epochs: 15\n"
                                 "  training.batch_size: 8\n")
    out = tmp_path / "runs"
    db = out / "test-sweep" / "sweep.db"
    proc = subprocess.Popen(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "2"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    finished_before = 0
    while time.time() < deadline:
        if db.exists():
            try:
                finished_before = sqlite3.connect(db).execute(
                    "SELECT COUNT(*) FROM trials WHERE status='finished'").fetchone()[0]
            except sqlite3.OperationalError:
                pass
        if finished_before >= 2:
            break
        assert proc.poll() is None
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    before = dict(con.execute("SELECT name, run_dir FROM trials WHERE status='finished'").fetchall())
    assert 2 <= len(before) < 6, "the kill came too late to test anything"
    con.close()

    rerun = subprocess.run(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "2"),
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"6 trials: {len(before)} already done, {6 - len(before)} run, 0 failed" in rerun.stdout
    rows = sqlite3.connect(db).execute("SELECT name, status, run_dir, metrics FROM trials").fetchall()
    assert len(rows) == 6 and {r[1] for r in rows} == {"finished"}
    for name, _, run_dir, _ in rows:
        if name in before:
            assert run_dir == before[name]  # finished work kept, not redone
    # exactly one run directory per trial, each with 15 epochs recorded once
    run_dirs = sorted(os.listdir(out / "test-sweep" / "runs"))
    left = sorted(str(p.relative_to(out)) for p in (out / "test-sweep" / "runs" / ".backup").rglob("*"))
    assert len(run_dirs) == 6, f"left in .backup: {left}"
    for _, _, run_dir, metrics in rows:
        assert json.loads(metrics)["epochs_run"] == 15
        assert len(json.load(open(os.path.join(run_dir, "history.json")))["loss"]) == 15
    assert (out / "test-sweep" / "results.csv").read_text().count("\n") == 7
    assert (out / "test-sweep" / "axes.png").read_bytes()[:4] == b"\x89PNG"


def test_a_rerun_drops_what_kills_left_of_done_trials_backups_and_nothing_else(tmp_path):
    """A kill at the wrong instant of a trial's end can leave its lock, or a backup folder no
    --resume can find (no pointer): the sweep drops them once its trials are over. A backup a
    live process holds, or one of a spec the sweep does not know, stays."""
    from regspec.rundir import backup

    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2, 3]\nset:\n  training.epochs: 1\n")
    out = tmp_path / "runs"
    first = run_sweep(str(path), str(out), jobs=1)
    runs = str(out / "test-sweep" / "runs")
    assert not os.path.exists(os.path.join(runs, backup.FOLDER))
    (a, b, c), other = first.rows, backup.backup_dir(runs, "someone-else", "f" * 64)
    os.makedirs(os.path.join(runs, backup.FOLDER))
    open(backup.lock_path(runs, a.name, a.key), "w").close()  # a lock alone
    os.makedirs(os.path.join(backup.backup_dir(runs, b.name, b.key), "chkpt"))  # a folder without its pointer
    bdir = backup.backup_dir(runs, c.name, c.key)  # a pointer to the done run, held by a live process
    os.makedirs(bdir)
    Path(bdir, backup.POINTER).write_text(c.run_dir + "\n")
    held = backup.take_lock(backup.lock_path(runs, c.name, c.key))
    os.makedirs(other)  # not this sweep's
    try:
        again = run_sweep(str(path), str(out), jobs=1)
        assert again.skipped == 3
        left = sorted(os.listdir(os.path.join(runs, backup.FOLDER)))
        assert left == sorted([os.path.basename(bdir), os.path.basename(bdir) + ".lock", os.path.basename(other)])
    finally:
        held.close()
    os.rmdir(other)
    run_sweep(str(path), str(out), jobs=1)  # nobody holds c's lock now: its backup goes, and the folder
    assert not os.path.exists(os.path.join(runs, backup.FOLDER))


def test_ctrl_c_interrupts_a_sweep_in_one_line_and_a_rerun_finishes_it(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2, 3]\nset:\n  training.epochs: 40\n"
                                 "  training.batch_size: 8\n")
    out = tmp_path / "runs"
    db = out / "test-sweep" / "sweep.db"
    # As from a terminal: a shell started in the background (as CI may be) ignores SIGINT, and
    # its children would inherit that.
    proc = subprocess.Popen(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    running = 0
    while not running and time.time() < deadline:
        assert proc.poll() is None
        time.sleep(0.3)
        if db.exists():
            try:
                running = sqlite3.connect(db).execute("SELECT COUNT(*) FROM trials WHERE status='running'").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    time.sleep(1.5)  # into the trial's training
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the runner and its worker
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert [line for line in err.splitlines() if not line.startswith("warning:")] == [
        "interrupted: run the same command to continue: finished trials are kept"]
    statuses = [s for (s,) in sqlite3.connect(db).execute("SELECT status FROM trials")]
    assert "running" not in statuses and statuses.count("finished") < 3  # the trial in flight: interrupted
    rerun = subprocess.run(regspec_cmd("sweep", str(path), "--out", str(out), "--jobs", "1"),
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert {s for (s,) in sqlite3.connect(db).execute("SELECT status FROM trials")} == {"finished"}


def test_random_mode_never_enumerates_the_grid(tmp_path):
    import time as clock

    axes = "".join(f"  training.epochs: {list(range(1, 101))}\n" if i == 0 else "" for i in range(1))
    path = write_sweep(tmp_path, "mode: random\nsamples: 3\nseed: 1\nmax_trials: 100000\naxes:\n" + axes
                       + "  layers.fc1.units: " + str(list(range(1, 201))) + "\n"
                       + "  layers[1].units: " + str(list(range(1, 201))) + "\n")
    start = clock.perf_counter()
    p = plan(str(path))
    assert len(p.trials) == 3 and clock.perf_counter() - start < 2.0  # 4 million points, 3 drawn


def test_a_typo_in_the_metric_is_refused_at_its_line(tmp_path):
    path = write_sweep(tmp_path, "metric: test.acuracy\naxes:\n  training.seed: [1, 2]\n")
    with pytest.raises(SpecError) as info:
        plan(str(path))
    line = info.value.diagnostics[0].format().replace(str(tmp_path) + "/", "")
    assert line == "s.yaml:4:9: error: metric: 'test.acuracy': training logs no 'acuracy' (did you mean 'test.accuracy'?)"


def test_near_values_are_two_trials_with_two_names(tmp_path):
    p = plan(str(write_sweep(tmp_path, "axes:\n  layers.fc1.activity_regularizer.l1: [0.001, 0.0010000001]\n")))
    assert len({t.name for t in p.trials}) == 2


def test_removed_points_are_not_claimed_and_a_stale_row_is_not_trained(tmp_path):
    from regspec.sweep.store import Store
    from regspec.sweep.worker import run_trial

    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2]\nset:\n  training.epochs: 1\n")
    store = Store(str(tmp_path / "db.sqlite"))
    store.add([(t.key, t.name, t.overrides) for t in plan(str(path)).trials] + [("gone", "old-point", {})])
    store.recover({t.key for t in plan(str(path)).trials})
    assert {r.name: r.status for r in store.rows()}["old-point"] == "removed"
    result = run_trial(str(IRIS), {"training.seed": 1, "training.epochs": 1}, "x", str(tmp_path / "runs"), {}, key="abc")
    assert result["status"] == "failed" and "changed since the sweep was planned" in result["error"]


def test_a_damaged_row_is_set_aside_and_its_point_planned_again(tmp_path, capsys):
    """A row whose stored overrides were edited failed every rerun with "the base spec changed
    since the sweep was planned", which was false; now it is named, set aside, and redone."""
    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2]\nset:\n  training.epochs: 1\n"
                                 "  training.batch_size: 16\n")
    out = tmp_path / "runs"
    first = run_sweep(str(path), str(out), jobs=1)
    assert [r.status for r in first.rows] == ["finished", "finished"]
    db = sqlite3.connect(out / "test-sweep" / "sweep.db")
    db.execute("UPDATE trials SET overrides='{\"training.seed\": 9}', status='failed' WHERE id=2")
    db.commit()
    db.close()
    capsys.readouterr()
    again = run_sweep(str(path), str(out), jobs=1)
    err = capsys.readouterr().err
    assert "trial 2 (test-sweep-seed_2) was damaged" in err and "planned again from the sweep file" in err
    assert [(r.name, r.status) for r in again.rows] == [("test-sweep-seed_1", "finished"),
                                                        ("test-sweep-seed_2", "finished")]
    assert again.rows[1].id != 2 and again.rows[1].overrides == {"training.seed": 2, "training.epochs": 1,
                                                                 "training.batch_size": 16}
    kept = sqlite3.connect(out / "test-sweep" / "sweep.db").execute(
        "SELECT status, error FROM trials WHERE id=2").fetchone()
    assert kept[0] == "damaged" and '{"training.seed": 9}' in kept[1]
    # It was done before it was damaged: its run is recorded again, not trained again.
    assert again.rows[1].run_dir == first.rows[1].run_dir
    third = run_sweep(str(path), str(out), jobs=1)  # and it stays done
    assert third.skipped == 2 and third.ran == 0


def test_a_corrupt_sweep_database_is_named(tmp_path):
    from regspec.sweep.store import Store, StoreError

    (tmp_path / "sweep.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is not a usable sweep database"):
        Store(str(tmp_path / "sweep.db"))


def test_damaged_sweep_databases_are_named_never_raw(tmp_path):
    """Generated damage to a real sweep database (bytes flipped in its pages, cut at any length,
    rows edited by hand): every use is a StoreError naming the file, or works; never a raw
    sqlite3/JSON error."""
    import random
    import shutil

    from regspec.sweep.store import Store, StoreError

    good = tmp_path / "good.db"
    store = Store(str(good))
    store.add([(f"k{i}", f"trial-{i}", {"training.seed": i, "layers.fc1.dropout": 0.1 * i}) for i in range(40)])
    for _ in range(5):
        row = store.claim("w")
        assert row is not None
        store.finish(row.id, "finished", run_dir=str(tmp_path), metrics={"test": {"accuracy": 0.9}}, seconds=1.0)
    store.close()
    data = good.read_bytes()
    rng = random.Random(7)
    damaged = []
    for i in range(60):
        blob = bytearray(data)
        if i % 3 == 0:
            blob = blob[: rng.randrange(0, len(blob))]
        else:
            for _ in range(rng.randint(1, 40)):
                blob[rng.randrange(100, len(blob))] = rng.randrange(256)
        damaged.append(bytes(blob))
    outcomes = {"worked": 0, "named": 0}
    for i, blob in enumerate(damaged):
        path = tmp_path / f"d{i}" / "sweep.db"
        path.parent.mkdir()
        path.write_bytes(blob)
        try:
            st = Store(str(path))
            st.rows(), st.counts(), st.recover({"k1", "k2"}), st.claim("w2")
            st.close()
            outcomes["worked"] += 1
        except StoreError as exc:
            assert str(path) in str(exc) and "move it away" in str(exc)
            outcomes["named"] += 1
    assert outcomes["named"] >= 10, outcomes  # the generator does damage
    edited = tmp_path / "edited.db"
    shutil.copyfile(good, edited)
    import sqlite3

    db = sqlite3.connect(edited)
    db.execute("UPDATE trials SET overrides='{not json' WHERE id=3")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="edited.db is not a usable sweep database"):
        Store(str(edited)).rows()


def test_workers_are_forked_only_when_it_is_safe(monkeypatch):
    """A forked worker starts with the language loaded; a process with TensorFlow loaded (a
    notebook that trained already) or other threads running must spawn instead."""
    import sys
    import threading

    from regspec.sweep.runner import _can_fork

    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not _can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    assert not _can_fork()
