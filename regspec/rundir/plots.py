"""Figures: a run's curves, runs overlaid, a sweep's axes. Matplotlib's object API only (no
pyplot and its global state), so a figure can be drawn in a thread while training goes on."""

from __future__ import annotations

import io
import math
import os
from typing import Any

from regspec.files import write_bytes
from regspec.rundir.read import RunSummary, accuracy_key


def figure(width: float, height: float, *, fast: bool = False) -> Any:
    """A figure; ``fast`` (the per-run figures, drawn for every trial of a sweep) places panels
    with fixed margins instead of the constrained layout, which doubles the drawing time."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=None if fast else "constrained")


#: Where panel titles go: given, not found. Matplotlib otherwise measures every tick label to
#: keep the title clear of top ticks (none here), which was 40% of a figure's drawing time.
TITLE_Y = 1.0

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
        log_y(ax)
        ax.set_ylabel(f"{ax.get_ylabel()} (log scale)")


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def decade_label(value: float, _pos: Any = None) -> str:
    """A log axis' tick label: 10 and its exponent in superscript digits (``10⁻³``), for the
    decades only. Matplotlib's own labels are math text, whose parser was a sixth of a figure's
    drawing time; the text reads the same."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        return ""
    exponent = math.log10(value)
    if not math.isclose(exponent, round(exponent), abs_tol=1e-9):
        return ""
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


def log_y(ax: Any) -> None:
    """A log-scale y axis labelled at its decades, without minor ticks: a figure spends most of its
    drawing time making tick objects, and the 8 minor ticks per decade carry no label."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(decade_label))
    ax.yaxis.set_minor_locator(NullLocator())


def plot_curves(history: dict[str, list[float]], path: str, title: str, restored_epoch: int | None = None) -> None:
    save(curves_figure(history, title, restored_epoch), path)


#: At most this many learning-rate changes are marked (a per-epoch schedule would be a comb).
MAX_LR_MARKS = 8


def curves_figure(history: dict[str, list[float]], title: str, restored_epoch: int | None = None) -> Any:
    """Loss (and, for penalized models, the data loss), accuracy, and the generalization gap
    (train minus validation) per epoch. Log scale where values span orders of magnitude. Epochs
    where the learning rate changed, and the epoch whose weights early stopping restored, are
    marked on every panel."""
    acc = accuracy_key(history)
    panels = [("loss", "loss")] + ([(acc, "accuracy")] if acc else [])
    gap = [(k, label) for k, label in panels if k in history and f"val_{k}" in history]
    outputs = per_output(history)
    extra = [name for name in ("loss", "accuracy") if any(name in keys for keys in outputs.values())]
    fig = figure(5 * (len(panels) + len(extra) + bool(gap)), 4, fast=True)
    axes = fig.subplots(1, len(panels) + len(extra) + bool(gap), squeeze=False)[0]
    for ax, name in zip(axes[len(panels):], extra):
        _outputs_panel(ax, history, outputs, name, title)
    panels_with_legend = len(panels) + len(extra)
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
        _epoch_axes(ax, label, f"{title}: {label}", drawn)
    if gap:
        _gap_panel(axes[-1], history, gap)
    marks = _marks(history, restored_epoch)
    for ax in axes:
        for epoch, text, style, _ in marks:
            ax.axvline(epoch, color="0.35", linestyle=style, linewidth=0.9, label=text)
    for epoch, _, _, note in marks:  # the values, once, along the top of the first panel
        axes[0].annotate(note, (epoch, 0.98), xycoords=("data", "axes fraction"), rotation=90, fontsize=7,
                         ha="right", va="top", color="0.35")
    for ax in axes[:panels_with_legend]:
        ax.legend(fontsize="small", loc="best", framealpha=0.7)
    return fig


def per_output(history: dict[str, list[float]]) -> dict[str, dict[str, str]]:
    """A multi-output model's history keys by output: {output: {"loss": "<o>_loss", "accuracy": ...}}."""
    out: dict[str, dict[str, str]] = {}
    for key in history:
        if key.startswith("val_") or not key.endswith("_loss") or key == "data_loss":
            continue
        name = key[: -len("_loss")]
        out[name] = {"loss": key}
        found = accuracy_key({k[len(name) + 1:]: 0 for k in history if k.startswith(name + "_")})
        if found:
            out[name]["accuracy"] = f"{name}_{found}"
    return out


def _outputs_panel(ax: Any, history: dict[str, list[float]], outputs: dict[str, dict[str, str]], name: str,
                   title: str) -> None:
    """Each output's loss (or accuracy): train solid, validation dashed, one colour per output."""
    drawn = []
    for i, (output, keys) in enumerate(outputs.items()):
        key = keys.get(name)
        if key is None:
            continue
        for k, style, which in ((key, "-", "train"), (f"val_{key}", "--", "validation")):
            if k in history:
                values = _drawable(history[k])
                ax.plot(range(1, len(values) + 1), values, style, color=f"C{i + 4}", label=f"{output} {which}")
                drawn.append(values)
    _epoch_axes(ax, name, f"{title}: {name} per output", drawn)


def _epoch_axes(ax: Any, label: str, title: str, drawn: list[list[float]]) -> None:
    """A panel of curves over epochs: its labels, its title, its scale (log when values span far)."""
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.set_title(title, fontsize="medium", y=TITLE_Y)
    _scale(ax, drawn)
    ax.grid(alpha=0.3)


def _gap_panel(ax: Any, history: dict[str, list[float]], gap: list[tuple[str, str]]) -> None:
    """Train minus validation. Loss and accuracy gaps have their own scales (the accuracy's on the
    right-hand axis); both axes are symmetric about 0, so the one zero line is each curve's zero."""
    handles = []
    for i, (key, label) in enumerate(gap):
        target = ax if i == 0 else ax.twinx()
        diff = [a - b for a, b in zip(_drawable(history[key]), _drawable(history[f"val_{key}"]))]
        handles += target.plot(range(1, len(diff) + 1), diff, color=f"C{i + 2}", label=f"{label}: train - validation")
        reach = max((abs(v) for v in diff if math.isfinite(v)), default=0.0) * 1.1 or 1.0
        target.set_ylim(-reach, reach)
        target.set_ylabel(f"{label} gap", color=f"C{i + 2}")
        target.tick_params(axis="y", colors=f"C{i + 2}")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("epoch")
    ax.set_title("generalization gap (train - validation)", fontsize="medium", y=TITLE_Y)
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="best", framealpha=0.7)


def _marks(history: dict[str, list[float]], restored_epoch: int | None) -> list[tuple[float, str, str, str]]:
    """(x, legend text, line style, note) of each vertical mark: learning-rate changes (between
    the two epochs) and the epoch whose weights early stopping restored."""
    marks: list[tuple[float, str, str, str]] = []
    rates = _drawable(history.get("learning_rate", []))
    changes = [i for i in range(1, len(rates)) if math.isfinite(rates[i]) and math.isfinite(rates[i - 1])
               and not math.isclose(rates[i], rates[i - 1], rel_tol=1e-6)]
    if 0 < len(changes) <= MAX_LR_MARKS:
        for n, i in enumerate(changes):
            marks.append((i + 0.5, "learning rate changed" if n == 0 else "_", ":", f"lr {rates[i - 1]:.3g} → {rates[i]:.3g}"))
    if restored_epoch is not None:
        marks.append((restored_epoch, f"restored: epoch {restored_epoch}", "--", "restored"))
    return marks


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
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format=ext if ext in ("png", "svg", "pdf") else "png")
    write_bytes(path, buffer.getvalue())  # a temporary name of its own: a painter and a resume may draw at once


def plot_weights(stats: dict[str, Any], path: str, title: str) -> None:
    fig = weights_figure(stats, title)
    if fig is not None:
        save(fig, path)


#: A histogram whose tallest bar is lower than this gets a linear count axis (a log axis would
#: show a single tick).
LOG_COUNTS_FROM = 100


def weights_figure(stats: dict[str, Any], title: str) -> Any:
    """One histogram per weight (from weights.json). Counts on a log scale when they span much (a
    sparse kernel is a spike at 0 that a linear scale would make the only thing visible). The band
    |w| < the zero threshold is shaded, and each panel says which share of its weights is in it:
    the band is often too thin to see at the weights' scale."""
    kernels = [(f"{layer['layer']}/{w['name']}", w["histogram"], w.get("zero_fraction"))
               for layer in stats.get("layers", []) for w in layer.get("weights", []) if isinstance(w.get("histogram"), dict)]
    if not kernels:
        return None
    zero = float(stats.get("zero_threshold", 0.0))
    shown = kernels[:12]
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    from matplotlib.ticker import MaxNLocator

    fig = figure(4 * cols, 3 * rows + 0.4, fast=True)
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(shown))]  # no hidden panels to make
    fig.subplots_adjust(left=0.1 / cols * 2, right=0.98, bottom=0.16 / rows, top=1 - 0.3 / rows, wspace=0.35,
                        hspace=0.6)
    for i, (ax, (name, hist, near)) in enumerate(zip(axes, shown)):
        log = max(hist["counts"]) >= LOG_COUNTS_FROM
        ax.stairs(hist["counts"], hist["edges"], fill=True, color="C0", baseline=0.8 if log else 0)
        if log:
            log_y(ax)
            ax.set_ylim(bottom=0.8)
        else:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        if zero:
            ax.axvspan(-zero, zero, color="C3", alpha=0.35, linewidth=0)
            ax.axvline(0, color="C3", linewidth=0.8)
        ax.set_title(name + (f"\n{100 * near:.1f}% near 0" if isinstance(near, (int, float)) else ""), fontsize="small",
                     y=TITLE_Y)
        ax.set_xlabel("weight")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # 5 labels: more overlap at this width
        if i % cols == 0:
            ax.set_ylabel("count" + (" (log)" if log else ""))
        ax.grid(alpha=0.3)
    more = f" (first {len(shown)} of {len(kernels)} weights)" if len(kernels) > 12 else ""
    fig.suptitle(f"{title}: weights{more}" + (f"; red, around 0: |w| < {zero:g}" if zero else ""), fontsize="medium")
    return fig
