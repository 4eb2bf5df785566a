"""Run a sweep: plan it, record every point, let workers train what is not done, report.

Rerunning the same command skips finished trials, retries failed and
interrupted ones, and never runs a point twice (the spec hash is the key).
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing as mp
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import wait
from typing import Any

from regspec.backend.keras.threads import cores as _cores
from regspec.backend.keras.threads import cpu_ids
from regspec.diagnostics import Diagnostic, SpecError
from regspec.rundir import backup, layout
from regspec.sweep.plan import Plan, plan
from regspec.sweep.store import Row, Store

#: Told the trials' counts by status, their total, and the names of those running now.
Progress = Callable[[dict[str, int], int, list[str]], None]


@dataclass
class SweepResult:
    sweep_dir: str
    rows: list[Row]
    skipped: int
    ran: int


#: What the workers print (Keras' and TensorFlow's messages, warnings), in the sweep folder: on
#: the console it would break the progress bar's line.
WORKERS_LOG = "workers.log"


def sweep_dir(out: str, p: Plan) -> str:
    return os.path.join(out, p.sweep.name)


def _lock(folder: str) -> Any:
    fh = open(os.path.join(folder, "sweep.lock"), "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SpecError([Diagnostic(folder, 1, 1, (), "this sweep is already running in another process")]) from None
    return fh


def run_sweep(sweep: str | Plan, out: str = "runs", *, jobs: int | None = None, engine: str = "local",
              address: str | None = None, progress: Progress | None = None) -> SweepResult:
    """Run a sweep file (or a plan already made from one)."""
    p = plan(sweep) if isinstance(sweep, str) else sweep
    out = os.path.abspath(out)  # workers (and Ray's, which run elsewhere) must write where compare looks
    folder = sweep_dir(out, p)
    os.makedirs(os.path.join(folder, "runs"), exist_ok=True)
    lock = _lock(folder)
    try:
        shutil.copyfile(p.file, layout.path(folder, layout.SWEEP_FILE))
        store = Store(layout.path(folder, layout.SWEEP_DB))
        if p.sweep.search is not None:
            return _run_search(p, store, folder, n_jobs=jobs or p.sweep.jobs, engine=engine, address=address,
                               progress=progress)
        planned = [(t.key, t.name, t.overrides) for t in p.trials]
        store.add(planned)
        damaged = store.set_aside_damaged({key: (name, overrides) for key, name, overrides in planned})
        if damaged:
            store.add(planned)
            for trial_id, name in damaged:
                print(f"warning: {store.path}: trial {trial_id} ({name[:80]}) was damaged (its stored overrides do not "
                      "give its spec): set aside as `damaged`, and planned again from the sweep file", file=sys.stderr)
        keys = {t.key for t in p.trials}
        store.recover(keys)  # points no longer in the sweep file are set aside, not claimed
        already = sum(1 for r in store.rows() if r.key in keys and r.status in layout.DONE)
        todo = sum(1 for r in store.rows() if r.key in keys and r.status == "pending")
        base_path = os.path.abspath(p.base.file)
        runs = os.path.join(folder, "runs")
        n = max(1, min(jobs or p.sweep.jobs, todo or 1))
        try:
            if engine == "ray":
                from regspec.sweep.ray_engine import run_with_ray

                run_with_ray(store, base_path, runs, n, address, progress)
            elif todo:
                _run_local(store, base_path, runs, n, progress)
            _drop_done_backups(store, keys, runs)
            _draw_all_missing_figures(store, keys)  # also those a killed runner left undrawn
        finally:
            _interrupt_running(store)
        rows = [r for r in store.rows() if r.key in keys]
        store.close()
        return SweepResult(folder, rows, already, todo)
    finally:
        lock.close()


def _drop_done_backups(store: Store, keys: set[str] | None, runs: str) -> None:
    """The trials are over: what a kill left of a done trial's backup goes (each run drops its
    own as it ends; a trial killed at the wrong instant, then found done by the rerun, may not
    have), and the runs' .backup folder with it when nothing else is in it."""
    for r in store.rows():
        if (keys is None or r.key in keys) and r.status in layout.DONE and r.run_dir:
            backup.drop_done(runs, r.name, r.key, r.run_dir)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.join(runs, backup.FOLDER))  # only when empty: another training may be in flight


def _interrupt_running(store: Store) -> None:
    """Ctrl-C or a crash of the runner: trials in flight are interrupted, not running forever."""
    for r in store.rows():
        if r.status == "running":
            store.finish(r.id, "interrupted", error="the sweep runner stopped during this trial")


def _run_search(p: Plan, store: Store, folder: str, *, n_jobs: int, engine: str, address: str | None,
                progress: Progress | None) -> SweepResult:
    """A sweep with `search:` (see sweep/search.py): the study asks and is told here; the local
    workers (or Ray's tasks) train the rows it adds."""
    from regspec.sweep.search import Searcher, worker_config

    store.recover(None)
    before = {r.key for r in store.rows() if r.status in layout.DONE}
    searcher = Searcher(p, store, folder, max(1, n_jobs))
    base_path = os.path.abspath(p.base.file)
    runs = os.path.join(folder, "runs")
    try:
        if engine == "ray":
            from regspec.sweep.ray_engine import run_search_with_ray

            run_search_with_ray(store, searcher.step, base_path, runs, max(1, n_jobs), address,
                                worker_config(p, folder), progress, searcher.total(), searcher.counts)
        elif searcher.step():
            _run_local(store, base_path, runs, max(1, n_jobs), progress,
                       feed=searcher.step, total=searcher.total(), prune=worker_config(p, folder), counts=searcher.counts)
            searcher.step()  # tells the trials of a worker that died
        _drop_done_backups(store, None, runs)
        _draw_all_missing_figures(store, None)
    finally:
        _interrupt_running(store)
        searcher.close()
    rows = [r for r in store.rows() if r.status not in ("removed", "damaged")]
    store.close()
    return SweepResult(folder, rows, sum(1 for r in rows if r.key in before),
                       sum(1 for r in rows if r.key not in before and r.status in layout.DONE + ("failed",)))


def _run_local(store: Store, base_path: str, runs: str, jobs: int, progress: Progress | None, *,
               feed: Callable[[], bool] | None = None, total: int | None = None,
               prune: dict[str, Any] | None = None, counts: Callable[[], dict[str, int]] | None = None) -> None:
    """Workers train the pending rows; ``feed`` (a search) adds rows while it returns True, and
    ``counts`` says its trials by status (a point told twice is one row, two trials)."""
    from regspec.sweep.worker import worker_main

    counts = counts or store.counts
    cores = _cores()
    shares = core_shares(jobs)
    ctx = mp.get_context("fork") if _can_fork() else mp.get_context("spawn")
    log = os.path.join(os.path.dirname(store.path), WORKERS_LOG)
    more = ctx.Event()  # set while a search may still add rows: an idle worker waits instead of leaving
    if feed is not None:
        more.set()
    procs = [ctx.Process(target=worker_main, args=(store.path, base_path, runs, shares[i], f"w{i}-{os.getpid()}", log,
                                                   more, prune), daemon=True) for i in range(jobs)]
    for proc in procs:
        proc.start()
    total = total or store.count()
    drawn: set[int] = set()
    while any(proc.is_alive() for proc in procs):
        if feed is not None and more.is_set() and not feed():
            more.clear()
        running = store.running_names()
        if progress:
            progress(counts(), total, running)
        # This process would only wait: it draws the finished trials' curves meanwhile (a figure
        # is ~0.2 s, a good part of a small trial's fixed cost), but only on a core no trial uses.
        # On a busy one it slowed both workers of `--jobs 2` on two cores by a third (drawing in
        # the workers instead was no better); what waits is drawn when a worker leaves a core
        # free, or after the last trial.
        if not (len(running) < cores and _draw_missing_figures(store, None, drawn)):
            wait([proc.sentinel for proc in procs], timeout=0.2)
    if progress:
        progress(counts(), total, [])
    for proc in procs:
        proc.join()
    # A worker that died mid-trial leaves it running: mark it failed so a rerun retries it.
    dead = [r for r in store.rows() if r.status == "running"]
    for r in dead:
        store.finish(r.id, "failed", error="the worker process died during this trial")


def core_shares(jobs: int) -> list[tuple[int, ...] | int]:
    """Each worker's cores: its own cores when there are enough for every worker (the CPU ids,
    an equal share each), else how many it may use of all of them. A worker on cores of its
    own keeps its threads and caches there instead of being moved between the cores the other
    workers use: 8 iris trials with `--jobs 2` on two cores went from 1.84x to 2.17x the trials
    per hour of `--jobs 1` (three rounds, bench/bench_sweep.py)."""
    cpus = cpu_ids()
    if not cpus:  # not Linux: a count each
        return [max(1, _cores() // jobs)] * jobs
    each = len(cpus) // jobs
    if each == 0:
        return [1] * jobs
    return [tuple(cpus[i * each:(i + 1) * each]) for i in range(jobs)]


def _can_fork() -> bool:
    """Workers are forked when it is safe, spawned otherwise. A forked worker starts with the
    language already loaded (0.3-0.5 s of a spawned one's start, before its first trial);
    forking is unsafe once TensorFlow is loaded (its thread pools do not survive a fork, as in
    a notebook that trained already) or while any other thread runs."""
    return sys.platform == "linux" and "tensorflow" not in sys.modules and threading.active_count() == 1


def _draw_missing_figures(store: Store, keys: set[str] | None, drawn: set[int]) -> bool:
    """Draw the sweep's figures of one finished trial that lacks them and is not in ``drawn``.
    Returns whether there was one."""
    from regspec.rundir.figures import SWEEP_FIGURES, draw_missing_figures

    for r in store.rows():
        if r.status not in layout.DONE or not r.run_dir or (keys is not None and r.key not in keys):
            continue
        if r.id in drawn:
            continue
        drawn.add(r.id)
        if draw_missing_figures(r.run_dir, SWEEP_FIGURES):
            return True
    return False


def _draw_all_missing_figures(store: Store, keys: set[str] | None) -> None:
    """After the last trial: the figures every finished trial lacks, on every core. With as many
    workers as cores the runner leaves them all to the end (see _run_local): 0.2-0.3 s each, a
    minute for a few hundred trials on one core."""
    from regspec.rundir.figures import SWEEP_FIGURES, draw_missing_figures, missing_figures

    dirs = [r.run_dir for r in store.rows() if r.status in layout.DONE and r.run_dir
            and (keys is None or r.key in keys) and missing_figures(r.run_dir, SWEEP_FIGURES)]
    processes = min(_cores(), len(dirs))
    if processes > 1 and _can_fork():
        from concurrent.futures import ProcessPoolExecutor

        import matplotlib.figure  # noqa: F401 - imported once, before the fork, for every process
        from matplotlib.backends import backend_agg  # noqa: F401

        try:  # (not multiprocessing.Pool: it waits forever for the work of a process that died)
            with ProcessPoolExecutor(processes, mp_context=mp.get_context("fork")) as pool:
                list(pool.map(partial(draw_missing_figures, names=SWEEP_FIGURES), dirs))
        except Exception:  # noqa: BLE001, S110 - a process that died: what it left undrawn is drawn below
            pass
    for run_dir in dirs:
        draw_missing_figures(run_dir, SWEEP_FIGURES)


def metric_value(row: Row, metric: str) -> float | None:
    split, _, name = metric.partition(".")
    m = row.metrics or {}
    if split == "val":
        return None if not row.run_dir else _last_val(row.run_dir, name)
    value = (m.get(split) or {}).get(name)
    return float(value) if value is not None else None


def _last_val(run_dir: str, name: str) -> float | None:
    from regspec.files import read_json

    try:
        history = read_json(layout.path(run_dir, layout.HISTORY))
    except (OSError, ValueError):
        return None
    values = history.get(f"val_{name}") or []
    return float(values[-1]) if values else None


def ranked(rows: list[Row], metric: str, goal: str) -> list[tuple[Row, float | None]]:
    """Best first; pruned trials after the others (their training was cut short: not comparable)."""
    scored = [(r, metric_value(r, metric)) for r in rows]
    sign = -1 if goal == "max" else 1
    return sorted(scored, key=lambda x: (x[1] is None, x[0].status == "pruned", sign * (x[1] or 0.0)))
