"""The run directory's layout: its file names and the statuses ``run.json`` records.

One writer (``runtime/train.py``) and every reader (compare, report, predict, evaluate,
export, sweeps) name files and statuses through here, never as literals.
"""

from __future__ import annotations

import os
from typing import Literal

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

SWEEP_DB = "sweep.db"  # a sweep folder's trial store
SWEEP_FILE = "sweep.yaml"  # the sweep file it was planned from
SWEEP_RESULTS = "results.csv"

Status = Literal["running", "interrupted", "failed", "finished", "diverged", "pruned"]
#: Results written: nothing left to run (`pruned`: a search's pruner stopped it early, for good).
DONE: tuple[Status, ...] = ("finished", "diverged", "pruned")


def path(run_dir: str, name: str) -> str:
    return os.path.join(run_dir, name)


def is_run_dir(folder: str) -> bool:
    return os.path.exists(path(folder, RUN))


def is_sweep_dir(folder: str) -> bool:
    return os.path.exists(path(folder, SWEEP_DB))
