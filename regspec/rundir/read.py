"""Reading a run directory: its results, kept only where well-formed (the files may have been
edited or come from elsewhere, and a table must never crash on them). Never imports TensorFlow."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from regspec.diagnostics import RegspecError
from regspec.files import read_json, read_json_object
from regspec.rundir import backup, layout

ACCURACY_KEYS = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")


@dataclass(frozen=True)
class RunSummary:
    run_dir: str
    name: str
    status: str
    params: int | None
    epochs: int | None
    train: dict[str, float]
    test: dict[str, float]
    history: dict[str, list[float]]
    restored_epoch: int | None = None  # the epoch early stopping restored


class RunDirError(RegspecError, ValueError):
    """A folder that is not a run directory, or a run file that cannot be read."""


def read_run(run_dir: str) -> RunSummary:
    """A run directory's results, keeping only well-formed parts: the files may have been edited
    or come from elsewhere, and a table must never crash on them."""
    try:
        run = read_json(layout.path(run_dir, layout.RUN))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{run_dir}: not a run directory ({exc})") from None
    if not isinstance(run, dict):
        raise RunDirError(f"{run_dir}: not a run directory (run.json is not an object)")
    metrics = read_json_object(layout.path(run_dir, layout.METRICS))
    history = read_json_object(layout.path(run_dir, layout.HISTORY))
    name, status = run.get("name"), run.get("status")
    if status == "running" and not _live(run_dir, name, run.get("spec_hash")):
        status = "interrupted"  # its process died: nobody holds its lock
    return RunSummary(
        run_dir=run_dir, name=name if isinstance(name, str) and name else os.path.basename(os.path.normpath(run_dir)),
        status=status if isinstance(status, str) else "?", params=_count(metrics.get("params")),
        epochs=_count(metrics.get("epochs_run")), train=_scores(metrics.get("train")), test=_scores(metrics.get("test")),
        history={k: [_number(v) for v in vs] for k, vs in history.items() if isinstance(k, str) and isinstance(vs, list)},
        restored_epoch=_count(metrics.get("restored_epoch")) or None,
    )


def _live(run_dir: str, name: Any, spec_hash: Any) -> bool:
    return isinstance(name, str) and isinstance(spec_hash, str) and backup.run_is_live(run_dir, name, spec_hash)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: Any) -> float:
    return float(v) if _is_number(v) else math.nan


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _scores(v: Any) -> dict[str, float]:
    return {k: float(x) for k, x in v.items() if isinstance(k, str) and _is_number(x)} if isinstance(v, dict) else {}


def accuracy_key(metrics: dict[str, Any]) -> str | None:
    return next((k for k in ACCURACY_KEYS if k in metrics), None)


def read_weights(run_dir: str) -> dict[str, Any]:
    """weights.json, keeping only well-formed layers, weights and figures (see read_run)."""
    raw = read_json_object(layout.path(run_dir, layout.WEIGHTS))
    figures = ("l1", "l2", "mean_abs", "zero_fraction")
    layers = []
    for layer in _list(raw.get("layers")):
        if not isinstance(layer, dict) or not isinstance(layer.get("layer"), str):
            continue
        weights = []
        for w in _list(layer.get("weights")):
            if isinstance(w, dict) and isinstance(w.get("name"), str):
                clean = {"name": w["name"], **{k: float(w[k]) for k in figures if _is_number(w.get(k))}}
                if _histogram(w.get("histogram")):
                    clean["histogram"] = w["histogram"]
                weights.append(clean)
        layers.append({"layer": layer["layer"], "weights": weights})
    activity = [{"layer": a["layer"], "mean_abs_activation": float(a["mean_abs_activation"])}
                for a in _list(raw.get("activity"))
                if isinstance(a, dict) and isinstance(a.get("layer"), str) and _is_number(a.get("mean_abs_activation"))]
    out: dict[str, Any] = {"layers": layers, "activity": activity}
    if _is_number(raw.get("zero_threshold")):
        out["zero_threshold"] = float(raw["zero_threshold"])
    return out if layers or activity else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _histogram(h: Any) -> bool:
    return (isinstance(h, dict) and isinstance(h.get("edges"), list) and isinstance(h.get("counts"), list)
            and len(h["edges"]) == len(h["counts"]) + 1 and 0 < len(h["counts"]) <= 1000
            and all(_is_number(v) and math.isfinite(v) for v in h["edges"] + h["counts"]))
