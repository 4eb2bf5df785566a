"""Sweep results: the table sorted by the metric, results.csv, and the metric against each axis."""

from __future__ import annotations

import os
from typing import Any

from regspec.files import write_text
from regspec.render import render_table
from regspec.rundir import layout
from regspec.sweep.runner import ranked
from regspec.sweep.store import Row


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_cell(x)}" for k, x in v.items()) + "}"
    return str(v)


def table(rows: list[Row], axes: list[str], metric: str, goal: str) -> tuple[list[str], list[list[str]]]:
    head = ["rank", "trial", "status", metric] + axes + ["epochs", "seconds"]
    body = []
    for i, (r, value) in enumerate(ranked(rows, metric, goal), 1):
        body.append([str(i), r.name, r.status, _cell(value)] + [_cell(r.overrides.get(a)) for a in axes]
                    + [_cell((r.metrics or {}).get("epochs_run")), _cell(r.seconds)])
    return head, body


def format_text(head: list[str], body: list[list[str]]) -> str:
    return render_table(head, body, "text")


def write_reports(folder: str, rows: list[Row], axes: list[str], metric: str, goal: str,
                  scales: dict[str, str] | None = None) -> str | None:
    """results.csv and axes.png; with a seed axis beside others, verdicts.csv too (returned as text).
    ``scales``: the axes a search drew from ranges, "log" or "linear"."""
    head, body = table(rows, axes, metric, goal)
    write_text(layout.path(folder, layout.SWEEP_RESULTS), render_table(head, body, "csv"))
    plot_axes(os.path.join(folder, "axes.png"), rows, axes, metric, scales)
    return write_verdicts(folder, rows, axes)


SEED = "training.seed"


def write_verdicts(folder: str, rows: list[Row], axes: list[str]) -> str | None:
    """Over the seeds, every point of the other axes against the first (each axis' first value,
    e.g. `null`: the base): differences with 95% confidence intervals and verdicts."""
    from regspec.report.runs import baseline_differences, differences_table
    from regspec.rundir.read import RunDirError, read_run

    if SEED not in axes or len(axes) < 2:
        return None
    done = [r for r in rows if r.status in layout.DONE and r.run_dir]
    if not done:
        return None
    try:
        runs = [read_run(r.run_dir) for r in done if r.run_dir]
        first = next(r for r in done if all(r.overrides.get(a) == rows[0].overrides.get(a) for a in axes if a != SEED))
        differences = baseline_differences(runs, SEED, first.name)
    except (RunDirError, StopIteration, OSError):
        return None
    head, body = differences_table(differences)
    write_text(os.path.join(folder, "verdicts.csv"), render_table(head, body, "csv"))
    return render_table(head, body, "text")


def plot_axes(path: str, rows: list[Row], axes: list[str], metric: str, scales: dict[str, str] | None = None) -> None:
    """One panel per axis: every trial's metric at that axis' value, and the mean per value; an
    axis a search drew from a range (``scales``: "log" or "linear") on a number line. Pruned trials
    are hollow: their metric is from a training cut short."""
    from regspec.rundir.plots import figure, save
    from regspec.sweep.runner import metric_value

    scales = scales or {}
    fig = figure(5 * len(axes), 4)
    panels = fig.subplots(1, len(axes), squeeze=False)
    pruned_shown = False
    for ax, axis in zip(panels[0], axes):
        def label(r: Row, axis: str = axis) -> str:
            v = r.overrides.get(axis)
            return "null" if v is None else _cell(v)

        if axis in scales:
            for pruned in (False, True):
                xs = [(float(r.overrides[axis]), metric_value(r, metric)) for r in rows
                      if (r.status == "pruned") == pruned and isinstance(r.overrides.get(axis), int | float)]
                xs = [(x, y) for x, y in xs if y is not None]
                if xs:
                    ax.scatter([x for x, _ in xs], [y for _, y in xs], alpha=0.7, color="C0",
                               facecolors="none" if pruned else "C0", label="pruned" if pruned else None)
                    pruned_shown |= pruned
            ax.set_xscale("log" if scales[axis] == "log" else "linear")
        else:
            labels = sorted({label(r) for r in rows}, key=_sort_key)
            points: dict[str, list[float]] = {lab: [] for lab in labels}
            for r in rows:
                value = metric_value(r, metric)
                if value is None:
                    continue
                if r.status == "pruned":
                    ax.scatter([labels.index(label(r))], [value], color="C0", facecolors="none", alpha=0.6,
                               label="pruned" if not pruned_shown else None)
                    pruned_shown = True
                else:
                    points[label(r)].append(value)
            for i, lab in enumerate(labels):
                ax.scatter([i] * len(points[lab]), points[lab], color="C0", alpha=0.6)
            means = [(i, sum(v) / len(v)) for i, v in enumerate(points.values()) if v]
            if means:
                ax.plot([m[0] for m in means], [m[1] for m in means], color="C3", marker="_", markersize=20,
                        label="mean")
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        ax.set_xlabel(axis)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    save(fig, path)


def _sort_key(label: str) -> tuple:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
