"""The run figures read right, checked by reading the drawn figure back: the generalization
gap's two axes share their zero, learning-rate changes and the restored epoch are marked, and
the weight histograms are labelled and readable for small layers. No TensorFlow."""

import math

from regspec.rundir.plots import curves_figure, weights_figure

HISTORY = {  # iris-like: the loss gap near 0, the accuracy gap +0.10 to +0.17
    "loss": [1.0, 0.8, 0.6, 0.5, 0.45, 0.4], "val_loss": [1.02, 0.83, 0.62, 0.52, 0.48, 0.44],
    "accuracy": [0.6, 0.7, 0.8, 0.85, 0.88, 0.9], "val_accuracy": [0.5, 0.58, 0.66, 0.7, 0.72, 0.73],
    "learning_rate": [0.01, 0.01, 0.01, 0.001, 0.001, 0.0001],
}


def zero_at(ax) -> float:
    """Where y = 0 sits on the axis, from its bottom (0) to its top (1)."""
    low, high = ax.get_ylim()
    return (0 - low) / (high - low)


def test_the_gap_panel_axes_share_their_zero():
    fig = curves_figure(HISTORY, "iris")
    gap = [ax for ax in fig.axes if ax.get_ylabel().endswith("gap")]
    assert [ax.get_ylabel() for ax in gap] == ["loss gap", "accuracy gap"]
    assert math.isclose(zero_at(gap[0]), zero_at(gap[1]), abs_tol=1e-9)
    # Each curve fits its own axis: the accuracy gap (+0.10 .. +0.17) is not flattened onto 0.
    acc_low, acc_high = gap[1].get_ylim()
    assert acc_high >= 0.17 and acc_high < 0.5


def test_learning_rate_changes_and_the_restored_epoch_are_marked():
    fig = curves_figure(HISTORY, "iris", restored_epoch=5)
    loss = fig.axes[0]
    vertical = sorted(line.get_xdata()[0] for line in loss.get_lines() if len(set(line.get_xdata())) == 1
                      and len(line.get_xdata()) == 2)
    assert vertical == [3.5, 5, 5.5]  # between epochs 3 and 4, 5 and 6; the restored epoch 5
    notes = [t.get_text() for t in loss.texts]
    assert "lr 0.01 → 0.001" in notes and "lr 0.001 → 0.0001" in notes and "restored" in notes
    labels = loss.get_legend_handles_labels()[1]
    assert "learning rate changed" in labels and "restored: epoch 5" in labels


def test_no_marks_without_changes():
    fig = curves_figure({k: v for k, v in HISTORY.items() if k != "learning_rate"}, "iris")
    assert list(fig.axes[0].texts) == []


def stats(counts):
    edges = [-0.5 + i / len(counts) for i in range(len(counts) + 1)]
    return {"zero_threshold": 0.001, "layers": [{"layer": "dense_1", "weights": [
        {"name": "kernel", "zero_fraction": 0.125, "histogram": {"edges": edges, "counts": counts}}]}]}


def test_each_output_of_a_multi_output_model_has_its_curves():
    history = {"loss": [1.0, 0.6], "val_loss": [1.1, 0.7],
               "priority_loss": [0.5, 0.1], "val_priority_loss": [0.6, 0.2], "priority_accuracy": [0.7, 0.9],
               "val_priority_accuracy": [0.6, 0.8], "department_loss": [1.3, 1.1], "val_department_loss": [1.3, 1.2],
               "department_accuracy": [0.4, 0.6], "val_department_accuracy": [0.4, 0.5]}
    fig = curves_figure(history, "tickets")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["tickets: loss", "tickets: loss per output", "tickets: accuracy per output"]
    per_loss = fig.axes[1]
    assert sorted(per_loss.get_legend_handles_labels()[1]) == [
        "department train", "department validation", "priority train", "priority validation"]
    drawn = {line.get_label(): list(line.get_ydata()) for line in fig.axes[2].get_lines()}
    assert drawn["priority validation"] == [0.6, 0.8] and drawn["department train"] == [0.4, 0.6]
    # One output: no per-output panels (its loss is the loss).
    assert len(curves_figure({"loss": [1.0], "val_loss": [1.1]}, "one").axes) == 2


def test_weight_histograms_are_labelled_and_readable():
    fig = weights_figure(stats([1, 3, 5, 2, 1, 0, 4]), "run")  # a small layer: 16 weights
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and len(ax.get_yticks()) >= 3  # not a single log tick
    assert ax.get_ylabel() == "count"
    assert ax.get_title() == "dense_1/kernel\n12.5% near 0"  # the share in the band, said in numbers
    assert "red, around 0: |w| < 0.001" in fig._suptitle.get_text()
    big = weights_figure(stats([5000, 300, 20, 1, 0, 2, 8000]), "run").axes[0]
    assert big.get_yscale() == "log" and big.get_ylabel() == "count (log)"


def test_log_axes_read_in_decades_without_math_text():
    """A loss spanning orders of magnitude is drawn on a log axis labelled 10ⁿ at each decade, in
    plain text (no math-text markup to parse), and without unlabelled minor ticks."""
    import io

    fig = curves_figure({"loss": [2.0, 0.3, 0.01, 0.00005], "val_loss": [2.1, 0.5, 0.2, 0.25]}, "wide")
    fig.savefig(io.BytesIO(), format="png")  # ticks and their labels exist once drawn
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "loss (log scale)"
    low, high = ax.get_ylim()
    shown = {round(math.log10(t)): label.get_text() for t, label in zip(ax.get_yticks(), ax.get_yticklabels())
             if low <= t <= high}
    assert shown == {-4: "10⁻⁴", -3: "10⁻³", -2: "10⁻²", -1: "10⁻¹", 0: "10⁰"}
    assert list(ax.yaxis.get_minorticklocs()) == []
    heights = weights_figure(stats([5000, 300, 20, 1, 0, 2, 8000]), "run").axes[0]
    heights.figure.savefig(io.BytesIO(), format="png")
    assert {label.get_text() for label in heights.get_yticklabels()} >= {"10⁰", "10¹", "10²", "10³"}
