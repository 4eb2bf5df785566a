"""A sweep in TensorBoard's HParams dashboard: `tensorboard --logdir runs/<sweep>/tensorboard`.

Written from the sweep's store and run directories with TensorBoard's own protos and event
writer (no TensorFlow): the experiment (the axes as hparams, the final metrics), then one
folder per trial with its axis values, its status, its final metrics and its epoch curves.
The folder is written again whole each time, so a rerun never doubles an event.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import Any

from regspec.files import read_json
from regspec.rundir import layout
from regspec.sweep.store import Row

FOLDER = "tensorboard"
SPLITS = ("train", "test")


def _value(value: Any) -> bool | int | float | str:
    """An hparam value TensorBoard can show: numbers, booleans and strings as they are, the rest as JSON."""
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True)


def _metrics(row: Row) -> dict[str, float]:
    out = {}
    for split in SPLITS:
        for name, value in ((row.metrics or {}).get(split) or {}).items():
            if isinstance(value, int | float):
                out[f"{split}/{name}"] = float(value)
    if row.metrics and isinstance(row.metrics.get("epochs_run"), int):
        out["epochs_run"] = float(row.metrics["epochs_run"])
    return out


def write_hparams(folder: str, rows: list[Row], axes: list[str]) -> str:
    """Write the sweep's HParams logs under ``folder``/tensorboard; returns that folder."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.summary.writer.record_writer import RecordWriter

    now = time.time()
    root = os.path.join(folder, FOLDER)
    shutil.rmtree(root, ignore_errors=True)
    done = [r for r in rows if r.status in layout.DONE and r.run_dir]
    names = sorted({m for r in done for m in _metrics(r)})

    def write(logdir: str, summaries: list[tuple[int, Any]]) -> None:
        # TensorBoard's record framing on a plain file: its EventFileWriter would import TensorFlow.
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, f"events.out.tfevents.{int(now):010d}.regspec"), "wb") as fh:
            writer = RecordWriter(fh)
            writer.write(event_pb2.Event(wall_time=now, file_version="brain.Event:2").SerializeToString())
            for step, summary in summaries:
                writer.write(event_pb2.Event(summary=summary, step=step, wall_time=now).SerializeToString())

    def scalar(tag: str, value: float) -> Any:
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])

    params = [hp.HParam(a) for a in axes] + [hp.HParam("status", hp.Discrete(sorted({r.status for r in done}) or ["none"]))]
    write(root, [(0, hp.hparams_config_pb(params, [hp.Metric(n, display_name=n) for n in names]))])
    seen: set[str] = set()
    for r in done:
        run = r.name if r.name not in seen else f"{r.name}-{r.id}"
        seen.add(run)
        values: dict[str, bool | int | float | str] = {a: _value(r.overrides[a]) for a in axes if a in r.overrides}
        values["status"] = r.status
        summaries: list[tuple[int, Any]] = [(0, hp.hparams_pb(values, trial_id=r.name))]
        summaries += [(0, scalar(tag, value)) for tag, value in _metrics(r).items()]
        try:
            history = read_json(layout.path(r.run_dir or "", layout.HISTORY))
        except (OSError, ValueError):
            history = {}
        for key, series in history.items():
            if isinstance(series, list):
                summaries += [(epoch + 1, scalar(f"epoch/{key}", float(v))) for epoch, v in enumerate(series)
                              if isinstance(v, int | float)]
        write(os.path.join(root, run), summaries)
    return root
