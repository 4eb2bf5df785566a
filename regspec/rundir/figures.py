"""A run's own figures, views of its results: curves.png (from history.json) and weights.png
(from weights.json).

`compile --train` draws both. A sweep draws every trial's curves and leaves the weight
histograms to whoever asks for them (`regspec report`): drawing them took a quarter of a small
trial's time, for a figure few of a sweep's trials are ever looked at in. Whoever needs a
figure that is missing draws it from the run's files, so nothing is lost by drawing late.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from regspec.rundir import layout

CURVES, WEIGHTS = layout.CURVES_PNG, layout.WEIGHTS_PNG
RUN_FIGURES = (CURVES, WEIGHTS)
SWEEP_FIGURES = (CURVES,)


def draw_run_figures(run_dir: str, history: dict[str, list[float]], weights: dict[str, Any], title: str,
                     names: tuple[str, ...] = RUN_FIGURES, restored_epoch: int | None = None) -> None:
    """Draw ``names`` into ``run_dir``. A figure that cannot be drawn (a full disk, a read-only
    folder) is a warning: the results it shows are written already."""
    from regspec.rundir.plots import plot_curves, plot_weights

    draw = {CURVES: lambda p: plot_curves(history, p, title, restored_epoch) if history.get("loss") else None,
            WEIGHTS: lambda p: plot_weights(weights, p, title)}
    for name in names:
        try:
            draw[name](os.path.join(run_dir, name))
        except Exception as exc:  # noqa: BLE001 - see above
            print(f"warning: {run_dir}/{name} not written ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
                  file=sys.stderr)


def missing_figures(run_dir: str, names: tuple[str, ...] = RUN_FIGURES) -> tuple[str, ...]:
    """Those of ``names`` the run directory does not have."""
    return tuple(n for n in names if not os.path.exists(os.path.join(run_dir, n)))


def draw_missing_figures(run_dir: str, names: tuple[str, ...] = RUN_FIGURES) -> list[str]:
    """Draw those of ``names`` the run directory lacks, from its own files (only their
    well-formed parts: a diverged loss is a gap). Returns the names drawn; none for a folder
    that is not a readable, finished run (a running one is still writing them)."""
    from regspec.rundir.read import RunDirError, read_run, read_weights

    missing = missing_figures(run_dir, names)
    if not missing:
        return []
    try:
        summary = read_run(run_dir)
    except RunDirError:
        return []
    if summary.status not in layout.DONE:
        return []
    weights = read_weights(run_dir) if WEIGHTS in missing else {}
    draw_run_figures(run_dir, summary.history, weights, summary.name, missing, summary.restored_epoch)
    return list(missing)
