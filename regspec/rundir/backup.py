"""Where a run's backup lives, whether a live process is training it, and how it is dropped.

Training state goes under ``<out>/.backup/<name>-<hash>``: Keras' BackupAndRestore files and
``run_dir``, the pointer `--resume` follows to the run directory. The pointer and the backup
stay until run.json says the run is done, so a kill at any instant leaves something to resume.
The ``.lock`` beside the folder is held (flock) by the training process for its whole life: the
kernel drops it when the process dies, however it dies, so "running" in run.json with nobody
holding the lock means the run was interrupted. No TensorFlow here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from typing import IO

from regspec import faults

POINTER = "run_dir"
#: The folder of a runs folder's backups.
FOLDER = ".backup"


def backup_dir(out: str, name: str, spec_hash: str) -> str:
    return os.path.join(out, FOLDER, f"{name}-{spec_hash[:16]}")


def read_pointer(bdir: str) -> str | None:
    """The run directory a backup points to; None when it has no pointer (no backup)."""
    try:
        with open(os.path.join(bdir, POINTER), encoding="utf-8") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        return None


def lock_path(out: str, name: str, spec_hash: str) -> str:
    return lock_of(backup_dir(out, name, spec_hash))


def lock_of(bdir: str) -> str:
    """The lock file of the backup in ``bdir`` (beside the folder, which is dropped whole)."""
    return bdir + ".lock"


def lock_holder(path: str) -> str | None:
    """The pid written in a lock that a live process holds; None when nobody holds it."""
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below, after the probe
    except OSError:
        return None
    with fh:
        try:
            # Shared and released at once: a trainer taking the lock meanwhile retries (take_lock).
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return fh.read().strip() or "?"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def take_lock(path: str) -> IO[str] | None:
    """The lock, held until the returned file is closed; None when another process holds it.
    Retries for a moment: a reader's probe (lock_holder) holds it for microseconds."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open on purpose until the run ends
    for attempt in range(10):
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt == 9:
                fh.close()
                return None
            time.sleep(0.01)
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def run_is_live(run_dir: str, name: str, spec_hash: str) -> bool:
    """Whether a process is training the run in ``run_dir`` now (its runs folder's lock is held)."""
    out = os.path.dirname(os.path.normpath(os.path.abspath(run_dir)))
    return lock_holder(lock_path(out, name, spec_hash)) is not None


def drop(bdir: str) -> None:
    """A backup with nothing left to resume (the run is done, or failed), its lock, and the
    .backup folder if empty. The pointer goes last: a kill midway leaves it, and whoever comes
    next (--resume, a sweep's rerun) finds the run done and drops the rest, where a lock or a
    backup without its pointer would stay for good."""
    pointer = os.path.join(bdir, POINTER)
    with contextlib.suppress(OSError), os.scandir(bdir) as entries:
        for entry in [e for e in entries if e.path != pointer]:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
    faults.reached("backup_emptied", bdir)
    with contextlib.suppress(OSError):
        os.unlink(lock_of(bdir))  # still held by the trainer until it returns; nobody waits on it
    faults.reached("lock_dropped", bdir)
    shutil.rmtree(bdir, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(bdir))  # the .backup folder, when no other run is in flight


def drop_done(out: str, name: str, spec_hash: str, run_dir: str) -> None:
    """What a run killed after run.json said done left of its backup: what the run would have
    dropped next. Only when nobody trains the spec, and the backup points to that very run or to
    none (a kill while it was dropped: its lock, or a folder no --resume can find)."""
    bdir = backup_dir(out, name, spec_hash)
    lock = lock_path(out, name, spec_hash)
    if not (os.path.lexists(bdir) or os.path.lexists(lock)) or lock_holder(lock) is not None:
        return
    try:
        pointed = read_pointer(bdir)
    except OSError:  # unreadable: left for --restart, the trial's result is there either way
        return
    if pointed is None or os.path.realpath(pointed) == os.path.realpath(run_dir):
        drop(bdir)
