"""A trained run as something to apply: its model file and the preprocessing it was trained with.

``preprocessing.json`` is written by the data stage (``backend.keras.data.preprocessing_record``)
and read here through its model in ``rundir.records``, checked like any other input: a run
directory may have been edited or come from elsewhere. No TensorFlow here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from regspec.diagnostics import Diagnostic, SpecError, safe
from regspec.files import read_json
from regspec.rundir import layout, records
from regspec.rundir.records import PreprocessingRecord


class ServingError(SpecError):
    """A run or a data file that predict/evaluate/export refuse; exit 2 with the file named."""


def refuse(file: str, message: str, hint: str | None = None, line: int = 1, column: int = 1) -> ServingError:
    return ServingError([Diagnostic(file, line, column, (), message, hint)])


@dataclass(frozen=True)
class Run:
    run_dir: str
    name: str
    status: str
    prep: PreprocessingRecord

    @property
    def model_path(self) -> str:
        return layout.path(self.run_dir, layout.MODEL)


def open_run(run_dir: str) -> Run:
    """A finished (or diverged) run with a model and a preprocessing record, or a refusal saying why."""
    if not os.path.isdir(run_dir):
        raise refuse(run_dir, "not a run directory (no such folder)", "give a folder that `compile --train` wrote")
    try:
        info = records.read(run_dir, records.RunRecord)
    except records.RecordError as exc:
        if exc.unreadable:
            raise refuse(run_dir, f"not a run directory ({safe(str(exc), 120)})",
                         "give a folder that `compile --train` wrote") from None
        status = _raw_status(run_dir)
        if status is not None and status not in layout.DONE:
            raise _unfinished(run_dir, status) from None
        raise refuse(layout.path(run_dir, layout.RUN), safe(str(exc), 200), "the file was edited: train the run again") from None
    if info.status not in layout.DONE:
        raise _unfinished(run_dir, info.status)
    if not os.path.isfile(layout.path(run_dir, layout.MODEL)):
        raise refuse(run_dir, "the run has no model.keras")
    try:
        prep = records.read(run_dir, records.PreprocessingRecord)
    except records.RecordError as exc:
        if exc.unreadable:
            raise refuse(run_dir, "the run has no readable preprocessing.json",
                         "runs trained before regspec recorded preprocessing: train it again") from None
        raise refuse(layout.path(run_dir, layout.PREPROCESSING), safe(str(exc), 200),
                     "the file was edited or is not regspec's: train the run again") from None
    return Run(run_dir, safe(info.name, 120), info.status, prep)


def _unfinished(run_dir: str, status: str) -> ServingError:
    return refuse(layout.path(run_dir, layout.RUN), f"the run is {safe(status, 40)}, it has no trained model to use",
                  "train it to the end first (`compile --train`, or --resume)")


def _raw_status(run_dir: str) -> str | None:
    """The status of a run.json that is not a valid record (its status is what to report first)."""
    try:
        raw = read_json(layout.path(run_dir, layout.RUN))
    except (OSError, ValueError):
        return None
    status = raw.get("status") if isinstance(raw, dict) else None
    return status if isinstance(status, str) else None
