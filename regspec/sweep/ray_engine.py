"""`regspec sweep --engine ray`: the same trials as Ray Tune trials, on a local Ray or a cluster.

The driver claims the pending trials, Ray Tune runs each through the same
``run_trial`` the local workers use, and a Tune callback records every trial
in the sweep database as soon as it completes. On a cluster, every node needs
regspec installed and the runs folder on a shared filesystem (see README).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from regspec.sweep.store import Store


def _trainable(config: dict[str, Any]) -> dict[str, Any]:
    from regspec.sweep.worker import run_trial

    t = config["trial"]
    result = run_trial(config["base"], t["overrides"], t["name"], config["out"], {}, t.get("key"))
    return {"regspec_result": json.dumps(result, default=float)}


@contextlib.contextmanager
def _ray_session(store: Store, jobs: int, address: str | None) -> Iterator[tuple[Any, int]]:
    """Ray started for ``jobs`` trials at once (each worker's TensorFlow threads split the CPUs);
    yields the ray module and the CPUs per trial. At the end, a trial claimed but not recorded (a
    dead driver never gets there) is failed, so a rerun retries it."""
    try:
        import ray
    except ImportError:
        raise ImportError("--engine ray needs Ray: pip install 'regspec[ray]'") from None

    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env}, configure_logging=False)
    try:
        yield ray, threads
    finally:
        for r in store.rows():
            if r.status == "running":
                store.finish(r.id, "failed", error="not completed by Ray")
        ray.shutdown()


def run_with_ray(store: Store, base_path: str, runs: str, jobs: int, address: str | None,
                 progress: Callable[..., None] | None) -> None:
    with _ray_session(store, jobs, address) as (_, threads):
        try:
            from ray import tune
        except ImportError:
            raise ImportError("--engine ray needs Ray Tune: pip install 'regspec[ray]'") from None

        claimed = []
        while (row := store.claim("ray")) is not None:
            claimed.append({"id": row.id, "key": row.key, "name": row.name, "overrides": row.overrides})
        if not claimed:
            return

        db_path = store.path

        class Record(tune.Callback):
            """Write each finished trial to the sweep database right away (durable).

            Tune pickles its callbacks, so this holds the database path, not a connection.
            """

            def __init__(self) -> None:
                self._store: Store | None = None

            def __getstate__(self) -> dict:
                return {"_store": None}

            def _db(self) -> Store:
                if self._store is None:
                    self._store = Store(db_path)
                return self._store

            def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
                payload = json.loads(trial.last_result.get("regspec_result", "{}") or "{}")
                status = payload.pop("status", "failed")
                self._db().finish(trial.config["trial"]["id"], status, **payload)

            def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
                self._db().finish(trial.config["trial"]["id"], "failed", error="the Ray trial raised; see its Ray logs")

        tuner = tune.Tuner(
            tune.with_resources(_trainable, {"cpu": threads}),
            param_space={"trial": tune.grid_search(claimed), "base": base_path, "out": runs},
            tune_config=tune.TuneConfig(max_concurrent_trials=jobs, reuse_actors=True),
            run_config=tune.RunConfig(
                name="tune", storage_path=os.path.join(os.path.abspath(os.path.dirname(runs)), "ray"),
                callbacks=[Record()], verbose=1 if progress else 0,  # Ray's own trial table is the progress
            ),
        )
        tuner.fit()


def _search_trial(base: str, overrides: dict[str, Any], name: str, out: str, key: str,
                  number: int | None, prune: dict[str, Any] | None) -> dict[str, Any]:
    """One trial of a search, in a Ray worker: reports each epoch to the study (on the shared
    filesystem) and stops when its pruner says so, as a local worker does."""
    from regspec.sweep.search import EpochPruner
    from regspec.sweep.worker import run_trial

    pruner = EpochPruner(prune, number) if prune is not None and number is not None else None
    return run_trial(base, overrides, name, out, {}, key, prune=pruner)


def run_search_with_ray(store: Store, feed: Callable[[], bool], base_path: str, runs: str, jobs: int,
                        address: str | None, prune: dict[str, Any] | None,
                        progress: Callable[..., None] | None, total: int,
                        counts: Callable[[], dict[str, int]] | None = None) -> None:
    """A search on Ray: the study still asks and is told in this process (sweep/search.py); Ray
    only places the trials. Tune's own searcher and scheduler are not used: its scheduler stops a
    trial by ending its actor mid-epoch, which leaves a run directory with nothing recorded, where
    regspec's pruned trial keeps its history, its evaluation and its curves."""
    with _ray_session(store, jobs, address) as (ray, threads):
        task = ray.remote(num_cpus=threads, max_retries=0)(_search_trial)
        flying: dict[Any, int] = {}  # Ray object ref -> row id
        more = True
        while more or flying:
            more = more and feed()
            while len(flying) < jobs and (row := store.claim("ray")) is not None:
                ref = task.remote(base_path, row.overrides, row.name, runs, row.key, row.search_trial, prune)
                flying[ref] = row.id
            if progress:
                progress((counts or store.counts)(), total, store.running_names())
            if not flying:
                if not more:
                    break
                time.sleep(0.05)
                continue
            done, _ = ray.wait(list(flying), num_returns=1, timeout=0.2)
            for ref in done:
                row_id = flying.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - the task died (its node, its process)
                    result = {"status": "failed", "error": f"the Ray task failed: {type(exc).__name__}: {exc}"}
                store.finish(row_id, result.pop("status"), **result)
        feed()  # tells the last results
