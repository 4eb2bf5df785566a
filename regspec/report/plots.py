"""Figures: a run's curves, runs overlaid, a sweep's axes. Matplotlib's object API only (no
pyplot and its global state), so a figure can be drawn in a thread while training goes on."""

from __future__ import annotations

import os
from typing import Any

from regspec.report.runs import RunSummary, accuracy_key


def figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_curves(history: dict[str, list[float]], path: str, title: str) -> None:
    """Loss and accuracy, train vs validation, side by side (as the articles plot them)."""
    acc = accuracy_key(history)
    panels = [("loss", "loss")] + ([(acc, "accuracy")] if acc else [])
    fig = figure(6 * len(panels), 4)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels):
        epochs = range(1, len(history.get(key, [])) + 1)
        ax.plot(epochs, history.get(key, []), label=f"train {label}")
        if f"val_{key}" in history:
            ax.plot(range(1, len(history[f"val_{key}"]) + 1), history[f"val_{key}"], label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label}")
        ax.grid(alpha=0.3)
        ax.legend()
    save(fig, path)


def plot_overlay(runs: list[RunSummary], path: str) -> None:
    """Validation (or train) loss and accuracy of several runs on shared axes."""
    fig = figure(12, 4)
    axes = fig.subplots(1, 2, squeeze=False)
    for r in runs:
        h = r.history
        for ax, base in zip(axes[0], ("loss", accuracy_key(h) or "accuracy")):
            key = f"val_{base}" if f"val_{base}" in h else base
            if key in h:
                ax.plot(range(1, len(h[key]) + 1), h[key], label=f"{r.name} ({key})")
    for ax, label in zip(axes[0], ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
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
    fig = figure(4 * cols, 3 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (name, hist) in zip(axes.ravel(), shown):
        ax.stairs(hist["counts"], hist["edges"], fill=True, color="C0", baseline=0.8)
        ax.set_yscale("log")
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
