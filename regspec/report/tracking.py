"""`--track mlflow`: runs and sweeps in MLflow, logged from their run directories.

Each run becomes an MLflow run: the resolved spec's values as params (flattened as the user
wrote them: layers by name), every epoch's history and the final train/test metrics as metrics, and the run's
figures, model, spec and results as artifacts. A sweep becomes a parent run holding its
trials as nested runs. The default store is `sqlite:///<runs folder>/mlflow.db` (MLflow 3
deprecates the file store). Logging twice is a no-op: a run directory already logged (its
`regspec.run_dir` tag) is found and kept, so a rerun sweep logs only its new trials.
"""

from __future__ import annotations

import os
import re
from typing import Any

from regspec.diagnostics import RegspecError
from regspec.files import read_json
from regspec.frontend.source import read_file
from regspec.report.diff import leaves, user_view
from regspec.rundir import layout
from regspec.rundir.read import read_run

EXPERIMENT = "regspec"
DB = "mlflow.db"
ARTIFACTS = ("curves.png", "weights.png", layout.SPEC, layout.METRICS, layout.HISTORY_CSV, layout.MODEL)
MAX_PARAM = 6000  # MLflow's limit on a param value's length
TERMINATED = {"finished": "FINISHED", "pruned": "KILLED", "diverged": "FAILED", "failed": "FAILED",
              "interrupted": "KILLED"}


class TrackingError(RegspecError, RuntimeError):
    """MLflow is missing, or its store cannot be written."""


def default_uri(out: str) -> str:
    return "sqlite:///" + os.path.abspath(os.path.join(out, DB))


def _key(path: str) -> str:
    """A param or metric name MLflow takes: `layers[1].units` -> `layers.1.units`."""
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", re.sub(r"\[(\d+)\]", r".\1", path))[:250]


class Tracker:
    def __init__(self, uri: str, out: str, experiment: str = EXPERIMENT):
        try:
            import logging

            from mlflow.tracking import MlflowClient

            for name in ("mlflow", "alembic"):  # its table creation talks at INFO on every new store
                logging.getLogger(name).setLevel(logging.WARNING)
        except ImportError:
            raise TrackingError("--track mlflow needs MLflow: pip install 'regspec[mlflow]'") from None
        try:
            self.client = MlflowClient(tracking_uri=uri)
            found = self.client.get_experiment_by_name(experiment)
            self.experiment_id = found.experiment_id if found else self.client.create_experiment(
                experiment, artifact_location=_artifacts_for(uri, out))
        except Exception as exc:  # noqa: BLE001 - MLflow raises its own and SQLAlchemy's errors
            raise TrackingError(f"cannot use the MLflow store {uri}: {type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]}") from None
        self.uri = uri

    def _find(self, tag: str, value: str) -> str | None:
        quoted = value.replace("'", "\\'")
        runs = self.client.search_runs([self.experiment_id], filter_string=f"tags.`{tag}` = '{quoted}'", max_results=1)
        return runs[0].info.run_id if runs else None

    def _log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """``{path: value}`` as params, named and cut to MLflow's limits, 100 per batch (its limit)."""
        from mlflow.entities import Param

        plist = [Param(_key(k), str(v)[:MAX_PARAM]) for k, v in params.items()]
        for i in range(0, len(plist), 100):
            self.client.log_batch(run_id, params=plist[i:i + 100])

    def log_run(self, run_dir: str, parent: str | None = None) -> str:
        """Log one run directory (once); returns its MLflow run id."""
        from mlflow.entities import Metric, RunTag

        run_dir = os.path.abspath(run_dir)
        known = self._find("regspec.run_dir", run_dir)
        if known is not None:
            return known
        summary = read_run(run_dir)
        info = read_json(layout.path(run_dir, layout.RUN))
        tags = {"regspec.run_dir": run_dir, "regspec.status": summary.status,
                "regspec.spec_hash": str(info.get("spec_hash", ""))}
        if parent is not None:
            tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(self.experiment_id, run_name=summary.name, tags=tags)
        run_id = run.info.run_id
        try:
            spec = read_file(layout.path(run_dir, layout.SPEC)).data  # the safe reader, as for any spec
        except (OSError, RegspecError):
            spec = {}
        # As the user wrote them: layers by name, a `dropout:` annotation folded back (report/diff.py).
        params = {k: v for k, v in leaves(user_view(spec)).items() if k and v is not None}
        metrics = [Metric(_key(k), v, 0, epoch) for k, series in summary.history.items()
                   for epoch, v in enumerate(series, start=1) if v is not None]
        for split, scores in (("train", summary.train), ("test", summary.test)):
            metrics += [Metric(_key(f"{split}.{k}"), v, 0, 0) for k, v in scores.items()]
        self._log_params(run_id, params)
        for i in range(0, len(metrics), 1000):  # MLflow's limit per batch: 1000 metrics
            self.client.log_batch(run_id, metrics=metrics[i:i + 1000])
        self.client.log_batch(run_id, tags=[RunTag("regspec.params", str(summary.params))])
        for name in ARTIFACTS:
            path = layout.path(run_dir, name)
            if os.path.isfile(path):
                self.client.log_artifact(run_id, path)
        self.client.set_terminated(run_id, TERMINATED.get(summary.status, "FINISHED"))
        return run_id

    def log_sweep(self, folder: str, run_dirs: list[str], params: dict[str, Any]) -> tuple[str, list[str]]:
        """The sweep as a parent run (found again on a rerun), its trials nested under it."""
        folder = os.path.abspath(folder)
        parent = self._find("regspec.sweep_dir", folder)
        if parent is None:
            run = self.client.create_run(self.experiment_id, run_name=os.path.basename(folder),
                                         tags={"regspec.sweep_dir": folder})
            parent = run.info.run_id
            self._log_params(parent, params)
        children = [self.log_run(d, parent=parent) for d in run_dirs]
        for name in (layout.SWEEP_RESULTS, "axes.png", layout.SWEEP_FILE):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                self.client.log_artifact(parent, path)
        self.client.set_terminated(parent, "FINISHED")
        return parent, children


def _artifacts_for(uri: str, out: str) -> str | None:
    """Beside a local SQLite store, the artifacts go in the runs folder (not the working directory)."""
    if uri.startswith("sqlite:///"):
        return "file://" + os.path.abspath(os.path.join(out, "mlartifacts"))
    return None
