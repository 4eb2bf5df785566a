"""Where a run's backup lives, and whether a live process is training it.

Training state goes under ``<out>/.backup/<name>-<hash>``: Keras' BackupAndRestore files and
``run_dir``, the pointer `--resume` follows to the run directory. The pointer and the backup
stay until run.json says the run is done, so a kill at any instant leaves something to resume.
The ``.lock`` beside the folder is held (flock) by the training process for its whole life: the
kernel drops it when the process dies, however it dies, so "running" in run.json with nobody
holding the lock means the run was interrupted. No TensorFlow here.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import IO

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
    return backup_dir(out, name, spec_hash) + ".lock"


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
