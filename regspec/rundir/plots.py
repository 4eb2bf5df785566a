"""Figures: a run's curves, runs overlaid, a sweep's axes. Matplotlib's object API only (no
pyplot and its global state), so a figure can be drawn in a thread while training goes on."""

from __future__ import annotations

import math
import os
from typing import Any

from regspec.rundir.read import RunSummary, accuracy_key


def figure(width: float, height: float, *, fast: bool = False) -> Any:
    """A figure; ``fast`` (the per-run figures, drawn for every trial of a sweep) places panels
    with fixed margins instead of the constrained layout, which doubles the drawing time."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=None if fast else "constrained")


#: Values spanning more than this factor get a log scale: one diverging curve would flatten the rest.
LOG_SPAN = 100.0


def _finite(values: list[Any]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


#: Larger values are left out of a figure (a gap in the curve): matplotlib cannot lay out axes
#: near the float maximum ("arange: cannot compute length"), and no reader needs them drawn.
MAX_DRAWN = 1e100


def _drawable(values: list[Any]) -> list[float]:
    """The values as a curve draws them: anything not a finite number within MAX_DRAWN is a gap."""
    return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and abs(v) <= MAX_DRAWN else math.nan for v in values]


def _scale(ax: Any, series: list[list[Any]]) -> None:
    values = [v for s in series for v in _finite(s)]
    if values and min(values) > 0 and max(values) / min(values) > LOG_SPAN:
        ax.set_yscale("log")
        ax.set_ylabel(f"{ax.get_ylabel()} (log scale)")


def plot_curves(history: dict[str, list[float]], path: str, title: str) -> None:
    """Loss (and, for penalized models, the data loss), accuracy, and the generalization gap
    (train minus validation) per epoch. Log scale where values span orders of magnitude."""
    acc = accuracy_key(history)
    panels = [("loss", "loss")] + ([(acc, "accuracy")] if acc else [])
    gap = [(k, label) for k, label in panels if k in history and f"val_{k}" in history]
    fig = figure(5 * (len(panels) + bool(gap)), 4, fast=True)
    axes = fig.subplots(1, len(panels) + bool(gap), squeeze=False)[0]
    fig.subplots_adjust(left=0.07, right=0.95 if len(gap) > 1 else 0.98, bottom=0.13, top=0.9, wspace=0.32)
    for ax, (key, label) in zip(axes, panels):
        drawn = []
        for k, name, style in ((key, f"train {label}", "-"), (f"val_{key}", f"validation {label}", "-"),
                               ("data_loss", "train data loss", "--"), ("val_data_loss", "validation data loss", "--")):
            if k in history and (key == "loss" or not k.endswith("data_loss")):
                values = _drawable(history[k])
                ax.plot(range(1, len(values) + 1), values, style, label=name,
                        color="C0" if not k.startswith("val_") else "C1")
                drawn.append(values)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label}", fontsize="medium")
        _scale(ax, drawn)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="best", framealpha=0.7)
    if gap:
        # Loss and accuracy gaps have their own scales: the accuracy's on the right-hand axis.
        ax = axes[-1]
        handles = []
        for i, (key, label) in enumerate(gap):
            target = ax if i == 0 else ax.twinx()
            diff = [a - b for a, b in zip(_drawable(history[key]), _drawable(history[f"val_{key}"]))]
            handles += target.plot(range(1, len(diff) + 1), diff, color=f"C{i + 2}", label=f"{label}: train - validation")
            target.set_ylabel(f"{label} gap")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlabel("epoch")
        ax.set_title("generalization gap", fontsize="medium")
        ax.grid(alpha=0.3)
        ax.legend(handles=handles, fontsize="small", loc="best", framealpha=0.7)
    save(fig, path)


def plot_overlay(runs: list[RunSummary], path: str) -> None:
    """Validation (or train) loss and accuracy of several runs on shared axes; the legend beside
    the panels, never on the curves; log scale where losses span orders of magnitude. A run with
    penalties is drawn by its data loss: its total would compare the penalty, not the fit."""
    fig = figure(12, 4 + 0.15 * max(0, len(runs) - 8))
    axes = fig.subplots(1, 2, squeeze=False)[0]
    drawn: dict[int, list[list[float]]] = {0: [], 1: []}
    for i, r in enumerate(runs):
        h = r.history
        for j, (ax, base) in enumerate(zip(axes, ("data_loss" if "data_loss" in h else "loss", accuracy_key(h) or "accuracy"))):
            key = f"val_{base}" if f"val_{base}" in h else base
            if key in h:
                split = "validation" if key.startswith("val_") else "train"
                values = _drawable(h[key])
                ax.plot(range(1, len(values) + 1), values, color=f"C{i % 10}",
                        label=f"{r.name} ({split})" if j == 0 else None)
                drawn[j].append(values)
    for j, (ax, label) in enumerate(zip(axes, ("loss (data loss where penalized)", "accuracy"))):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        _scale(ax, drawn[j])
        ax.grid(alpha=0.3)
    if runs:
        fig.legend(loc="outside right upper", fontsize="small")
    save(fig, path)


def save(fig: Any, path: str) -> None:
    """Atomically, in the format the file name asks for (.png, .svg, .pdf; PNG otherwise)."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    tmp = os.path.join(os.path.dirname(path) or ".", ".tmp-" + os.path.basename(path))
    fig.savefig(tmp, dpi=100, format=ext if ext in ("png", "svg", "pdf") else "png")
    os.replace(tmp, path)


def plot_weights(stats: dict[str, Any], path: str, title: str) -> None:
    """One histogram per kernel (from weights.json), counts on a log scale (a sparse kernel is a
    spike at 0 that a linear scale would make the only thing visible); the band |w| < the zero
    threshold shaded."""
    kernels = [(f"{layer['layer']}/{w['name']}", w["histogram"]) for layer in stats.get("layers", [])
               for w in layer.get("weights", []) if isinstance(w.get("histogram"), dict)]
    if not kernels:
        return
    zero = float(stats.get("zero_threshold", 0.0))
    shown = kernels[:12]
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    from matplotlib.ticker import NullLocator

    fig = figure(4 * cols, 3 * rows, fast=True)
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.08 / cols * 2, right=0.98, bottom=0.16 / rows, top=1 - 0.2 / rows, wspace=0.3,
                        hspace=0.55)
    for ax, (name, hist) in zip(axes.ravel(), shown):
        ax.stairs(hist["counts"], hist["edges"], fill=True, color="C0", baseline=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(NullLocator())  # minor log ticks are most of the drawing time
        ax.set_ylim(bottom=0.8)
        ax.axvspan(-zero, zero, color="C3", alpha=0.2, label=f"|w| < {zero:g}")
        ax.set_title(name, fontsize="small")
        ax.set_xlabel("weight")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(shown):]:
        ax.set_visible(False)
    axes[0][0].legend(fontsize="small", loc="upper right")
    fig.suptitle(f"{title}: weights" + (f" (first {len(shown)} of {len(kernels)} kernels)" if len(kernels) > 12 else ""))
    save(fig, path)
