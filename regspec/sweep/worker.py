"""A sweep worker process: imports TensorFlow once, then claims and runs trials until none
are left. Dies with its runner (PR_SET_PDEATHSIG), so a killed sweep leaves no orphans."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from regspec.rundir.figures import SWEEP_FIGURES


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _threads(base: Any, cores: int) -> tuple[int, int]:
    """A worker's thread pools on its ``cores``: one operation at a time on all of them, or for a
    small model (backend/keras/threads.py) half of them per operation and as many at once as cores.
    ``base``: the sweep's base spec (None when it does not load: each trial says why)."""
    from regspec.backend.keras.threads import choose

    return (choose(base.program, available=cores) if base is not None else None) or (cores, 1)


def run_trial(base_path: str, overrides: dict[str, Any], name: str, out: str, base_cache: dict,
              key: str | None = None, figures: tuple[str, ...] = SWEEP_FIGURES,
              prune: Callable[[int, dict[str, float]], bool] | None = None) -> dict[str, Any]:
    """Train one point; returns what the store records. Shared by the local and Ray engines
    (the local runner draws each trial's curves itself, while the worker trains the next)."""
    from regspec.api import load
    from regspec.diagnostics import RegspecError
    from regspec.runtime.train import finished_run, train

    started = time.time()
    try:
        if base_path not in base_cache:
            base_cache[base_path] = load(base_path)
        spec = base_cache[base_path].with_overrides(overrides, name=name)
        if key is not None and spec.hash != key:
            # The base spec changed since this point was planned: its row is not this model.
            return {"status": "failed", "seconds": time.time() - started,
                    "error": "the base spec changed since the sweep was planned; run `regspec sweep` again to replan"}
        t0 = time.time()
        result = finished_run(spec, out) or train(spec, out, resume=True, verbose=0, figures=figures, prune=prune)
        train_seconds = time.time() - t0
        return {"status": result.status, "run_dir": result.run_dir, "metrics": result.metrics,
                "seconds": time.time() - started, "train_seconds": train_seconds}
    except RegspecError as exc:
        return {"status": "failed", "error": "\n".join(exc.lines()),
                "seconds": time.time() - started}
    except Exception as exc:  # noqa: BLE001 - a failed trial is recorded, the sweep goes on
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
                "seconds": time.time() - started}


def worker_main(db_path: str, base_path: str, out: str, cores: tuple[int, ...] | int, worker_id: str,
                log: str | None = None, more: Any = None, prune: dict[str, Any] | None = None) -> None:
    """Claim and train pending rows until none is left (and ``more``, an Event a search holds set
    while it may add rows, is clear). ``cores``: the CPU ids this worker runs on (its own), or
    how many of the machine's it may use (runner.core_shares). ``prune``: a search's pruner
    settings (sweep/search.py)."""
    _die_with_parent()
    if isinstance(cores, tuple):
        try:
            os.sched_setaffinity(0, cores)  # before TensorFlow starts its threads: they inherit it
        except OSError:
            pass
        threads = len(cores)
    else:
        threads = cores
    if log is not None:  # its messages go to the sweep's log, not across the runner's progress bar
        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    # Ctrl-C reaches the whole process group. It is the runner's to handle: it records the trial
    # in flight as interrupted and stops this worker. Here it would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from regspec.api import load
    from regspec.diagnostics import RegspecError

    cache: dict = {}  # the base spec, loaded once for the threads and every trial
    try:
        cache[base_path] = load(base_path)
    except (RegspecError, OSError):
        pass  # each trial loads it again, and records why it does not load
    intra, inter = _threads(cache.get(base_path), threads)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(intra)  # the trials' train() sees them set and keeps them
    os.environ["TF_NUM_INTEROP_THREADS"] = str(inter)
    from regspec.backend.keras.env import keras
    from regspec.backend.keras.threads import apply
    from regspec.sweep.store import Store

    keras()
    apply((intra, inter))
    store = Store(db_path)
    try:
        while True:
            row = store.claim(worker_id)
            if row is None:
                if more is not None and more.is_set():
                    time.sleep(0.05)
                    continue
                break
            pruner = None
            if prune is not None and row.search_trial is not None:
                from regspec.sweep.search import EpochPruner

                pruner = EpochPruner(prune, row.search_trial)
            result = run_trial(base_path, row.overrides, row.name, out, cache, row.key, figures=(), prune=pruner)
            store.finish(row.id, result.pop("status"), **result)
    except RegspecError as exc:  # the store cannot be written (a full disk): the runner says so
        print("\n".join(exc.lines()), file=sys.stderr)
        os._exit(1)
    store.close()
    # Every result is committed. TensorFlow's interpreter teardown takes a second or more, which
    # the runner would wait for after the last trial: leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
