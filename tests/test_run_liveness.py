"""A run.json that says `running` is believed only while a live process holds the run's lock:
a run whose process died reads as `interrupted` in compare and the report. No TensorFlow."""

import fcntl
import json
import threading

from regspec.rundir import backup
from regspec.rundir.read import read_run


def write_run(out, status="running"):
    run_dir = out / "m-20260101-000000"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"name": "m", "spec_hash": "ab" * 32, "status": status}))
    return run_dir


def test_running_without_a_live_holder_is_interrupted(tmp_path):
    run_dir = write_run(tmp_path)
    assert read_run(str(run_dir)).status == "interrupted"  # no lock at all (copied from elsewhere)
    lock = backup.take_lock(backup.lock_path(str(tmp_path), "m", "ab" * 32))
    assert lock is not None
    try:
        assert read_run(str(run_dir)).status == "running"
    finally:
        lock.close()  # the process "dies": the kernel drops its lock
    assert read_run(str(run_dir)).status == "interrupted"


def test_other_statuses_are_read_as_written(tmp_path):
    assert read_run(str(write_run(tmp_path, "finished"))).status == "finished"


def test_a_readers_probe_does_not_make_a_trainer_fail(tmp_path):
    """The probe holds the lock for an instant; a trainer taking it then waits that instant."""
    path = backup.lock_path(str(tmp_path), "m", "cd" * 32)
    open_fh = backup.take_lock(path)
    assert open_fh is not None
    open_fh.close()
    probe = open(path)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a reader, mid-probe
    threading.Timer(0.03, probe.close).start()
    taken = backup.take_lock(path)
    assert taken is not None
    assert backup.lock_holder(path) is not None
    taken.close()
    assert backup.lock_holder(path) is None


def test_a_held_lock_is_not_taken_twice(tmp_path):
    path = backup.lock_path(str(tmp_path), "m", "ef" * 32)
    first = backup.take_lock(path)
    try:
        assert backup.take_lock(path) is None
    finally:
        first.close()


def test_a_full_sweep_database_says_to_free_space_not_to_move_it_away():
    """SQLite's "disk is full" is not damage: the rerun goes on once there is space (a real
    full disk is in tests/test_crash_points.py; WAL mode kept committing there)."""
    import sqlite3

    from regspec.sweep.store import _store_error

    full = _store_error("runs/s/sweep.db", sqlite3.OperationalError("database or disk is full"))
    assert "free some space" in str(full) and "move it away" not in str(full)
    damaged = _store_error("runs/s/sweep.db", sqlite3.DatabaseError("file is not a database"))
    assert "move it away" in str(damaged)
