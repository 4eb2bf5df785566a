"""The run directory's schema: its file names, the run record (``run.json``) and its statuses.

One writer (``runtime/train.py``) and every reader (compare, report, predict, evaluate,
export, sweeps) name files and statuses through here, never as literals.
"""

from __future__ import annotations

import os
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

RUN = "run.json"  # the run record: status, spec hash, versions
SPEC = "spec.yaml"  # the resolved spec
SOURCE = "source"  # + the spec file's own extension: the spec as written
MODEL = "model.keras"
HISTORY = "history.json"
HISTORY_CSV = "history.csv"
HISTORY_LOG = "history.jsonl"  # one line per finished epoch, kept across resumes
METRICS = "metrics.json"
WEIGHTS = "weights.json"
WEIGHTS_LOG = "weights_history.jsonl"
PREPROCESSING = "preprocessing.json"
CURVES_PNG = "curves.png"
WEIGHTS_PNG = "weights.png"
EXPORT = "export"

SWEEP_DB = "sweep.db"  # a sweep folder's trial store
SWEEP_RESULTS = "results.csv"

Status = Literal["running", "interrupted", "failed", "finished", "diverged"]
STATUSES: tuple[str, ...] = get_args(Status)
DONE: tuple[Status, ...] = ("finished", "diverged")  # results written: nothing left to run


class RunRecord(BaseModel):
    """``run.json``. Written by training alone; readers keep only its well-formed parts."""

    model_config = ConfigDict(extra="ignore", strict=True)

    name: str
    spec_hash: str
    source: str
    status: Status
    started: str
    finished: str | None = None
    error: str | None = None
    versions: dict[str, str] = {}

    def dump(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)


def path(run_dir: str, name: str) -> str:
    return os.path.join(run_dir, name)


def is_run_dir(folder: str) -> bool:
    return os.path.exists(path(folder, RUN))


def is_sweep_dir(folder: str) -> bool:
    return os.path.exists(path(folder, SWEEP_DB))
