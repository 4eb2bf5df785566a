"""`regspec sweep --engine ray`: the same trials as Ray Tune trials, on a local Ray or a cluster.

The driver claims the pending trials, Ray Tune runs each through the same
``run_trial`` the local workers use, and a Tune callback records every trial
in the sweep database as soon as it completes. On a cluster, every node needs
regspec installed and the runs folder on a shared filesystem (see README).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from regspec.sweep.store import Store


def _trainable(config: dict[str, Any]) -> dict[str, Any]:
    from regspec.sweep.worker import run_trial

    t = config["trial"]
    result = run_trial(config["base"], t["overrides"], t["name"], config["out"], {}, t.get("key"))
    return {"regspec_result": json.dumps(result, default=float)}


def run_with_ray(store: Store, base_path: str, runs: str, jobs: int, address: str | None,
                 progress: Callable[..., None] | None) -> None:
    try:
        import ray
        from ray import tune
    except ImportError:
        raise ImportError("--engine ray needs Ray: pip install 'regspec[ray]'") from None

    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env}, configure_logging=False)
    try:
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
    finally:
        # Anything claimed but not recorded (a dead driver never gets here) goes back to pending.
        for r in store.rows():
            if r.status == "running":
                store.finish(r.id, "failed", error="not completed by Ray")
        ray.shutdown()
