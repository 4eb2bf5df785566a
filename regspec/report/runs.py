"""The results tables of many runs: the articles' table, groups over seeds, baselines, weights.
Reads run directories through ``rundir``; never imports TensorFlow."""

from __future__ import annotations

import math
import os
from typing import Any

from regspec.render import render_table
from regspec.rundir import layout
from regspec.rundir.read import ACCURACY_KEYS, RunDirError, RunSummary, accuracy_key, read_weights


def _spec_without(run_dir: str, path: str) -> tuple[str, bool]:
    """The run's resolved spec with ``path`` (and the name) removed, as a grouping key; and
    whether the path was there at all. Paths use the one syntax: keys, [i], layer names.

    A layer's `dropout` annotation is resolved into a Dropout layer named `<layer>_dropout`:
    removing `layers.<layer>.dropout` removes that layer too.
    """
    import json

    from regspec.frontend.source import read_file
    from regspec.lang.layers.base import dropout_name
    from regspec.paths import parse

    data = read_file(layout.path(run_dir, layout.SPEC)).data
    data.pop("name", None)
    data.pop("description", None)
    node: Any = data
    parent: Any = None
    segs = parse(path)
    for seg in segs[:-1]:
        parent = node
        node = _step(node, seg)
        if node is None:
            return json.dumps(data, sort_keys=True), False
    found = isinstance(node, dict) and segs[-1] in node
    if isinstance(node, dict):
        node.pop(segs[-1], None)
        if segs[-1] == "dropout" and isinstance(parent, list) and node.get("name"):
            parent[:] = [it for it in parent if not (isinstance(it, dict) and it.get("name") == dropout_name(node["name"]))]
            found = True
    return json.dumps(data, sort_keys=True), found


def _step(node: Any, seg: str | int) -> Any:
    """One segment of a path into spec data: a key, an index, or a layer name; None if absent."""
    if isinstance(node, dict):
        return node.get(seg)
    if isinstance(node, list) and isinstance(seg, int):
        return node[seg] if 0 <= seg < len(node) else None
    if isinstance(node, list) and isinstance(seg, str):
        return next((it for it in node if isinstance(it, dict) and it.get("name") == seg), None)
    return None


def group_runs(runs: list[RunSummary], path: str) -> list[tuple[str, list[RunSummary]]]:
    """Runs whose resolved specs differ only at ``path`` (e.g. training.seed), in first-seen order."""
    groups: dict[str, list[RunSummary]] = {}
    seen = False
    for r in runs:
        key, found = _spec_without(r.run_dir, path)
        seen = seen or found
        groups.setdefault(key, []).append(r)
    if runs and not seen:
        raise RunDirError(f"--mean-over {path}: no run's spec has this path (a typo?)")
    out = []
    for members in groups.values():
        names = [m.name for m in members]
        label = names[0]
        if len(members) > 1:  # the shared part of the names, cut back to a whole "-" token
            prefix = os.path.commonprefix(names)
            label = prefix.rstrip("-_") if prefix.endswith("-") else prefix.rsplit("-", 1)[0]
        out.append((label or names[0], members))
    return out


def format_grouped(runs: list[RunSummary], path: str, fmt: str = "text") -> str:
    """Mean and standard deviation over the runs of each group (the articles' table, with spread)."""
    head, rows = grouped_table(runs, path)
    if fmt == "json":
        import json

        return json.dumps([dict(zip(head, r)) for r in rows], indent=2, ensure_ascii=False) + "\n"
    return render_table(head, rows, fmt)


def grouped_table(runs: list[RunSummary], path: str) -> tuple[list[str], list[list[str]]]:
    import statistics

    def stat(raw: list[float | None]) -> str:
        values = [v for v in raw if v is not None and not math.isnan(v)]
        if not values:
            return "-"
        if len(values) == 1:
            return f"{values[0]:.4f}"
        return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"

    split = any("data_loss" in r.test for r in runs)  # then every group shows its data loss and penalty
    head = ["model", "runs", "train loss", "train acc", "test loss"] + (["test data loss", "test penalty"] if split else [])
    head += ["test acc", "val acc (last epoch)"]
    rows = []
    for label, members in group_runs(runs, path):
        def col(split: str, key: str | None, ms: list[RunSummary] = members) -> list[float | None]:
            out: list[float | None] = []
            for m in ms:
                d = split_metrics(getattr(m, split))
                k = key or accuracy_key(d)
                out.append(d.get(k) if k else None)
            return out

        val = [m.history.get(f"val_{accuracy_key(m.history) or 'accuracy'}", [None])[-1] for m in members]
        row = [label, str(len(members)), stat(col("train", "loss")), stat(col("train", None)), stat(col("test", "loss"))]
        row += [stat(col("test", "data_loss")), stat(col("test", "penalty"))] if split else []
        rows.append(row + [stat(col("test", None)), stat(val)])
    return head, rows


def split_metrics(scores: dict[str, float]) -> dict[str, float]:
    """A run without penalties has no data_loss metric: its loss is its data loss, its penalty 0
    (so that it compares with penalized runs)."""
    if "loss" in scores and "data_loss" not in scores:
        return {**scores, "data_loss": scores["loss"], "penalty": 0.0}
    return scores


def _value_at(run_dir: str, path: str) -> object:
    """The value at ``path`` in a run's resolved spec (the seed a run is paired by), or None."""
    from regspec.frontend.source import read_file
    from regspec.paths import parse

    node: Any = read_file(layout.path(run_dir, layout.SPEC)).data
    for seg in parse(path):
        node = _step(node, seg)
    return node if isinstance(node, (int, float, str, bool)) else None


def baseline_differences(runs: list[RunSummary], path: str, baseline: str) -> list[Any]:
    """Each group against the baseline group, per test metric, with a 95% CI over ``path``
    (paired by its value when both groups have the same values)."""
    from regspec.report.stats import difference

    groups = group_runs(runs, path)
    chosen = [g for g in groups if g[0] == baseline] or [g for g in groups if any(m.name == baseline for m in g[1])]
    if not chosen:
        raise RunDirError(f"--baseline {baseline}: no group or run has this name "
                          f"(groups: {', '.join(label for label, _ in groups)})")
    base_label, base_runs = chosen[0]
    metrics = ["loss", "data_loss", "penalty"] + [k for k in ACCURACY_KEYS]

    def by_key(members: list[RunSummary], metric: str) -> dict[object, float]:
        out: dict[object, float] = {}
        for i, m in enumerate(members):
            v = split_metrics(m.test).get(metric)
            if v is not None and not math.isnan(v):
                key = _value_at(m.run_dir, path)
                out[key if key is not None and key not in out else ("run", i)] = v
        return out

    results = []
    for label, members in groups:
        if label == base_label:
            continue
        for metric in metrics:
            mine, base = by_key(members, metric), by_key(base_runs, metric)
            if not mine and not base:
                continue
            results.append(difference(f"test {metric}", label, base_label, mine, base,
                                      lower_is_better=None if metric == "penalty" else metric not in ACCURACY_KEYS))
    return results


def format_differences(differences: list[Any], fmt: str = "text") -> str:
    if fmt == "json":
        import json
        from dataclasses import asdict

        return json.dumps([asdict(d) for d in differences], indent=2) + "\n"
    return render_table(*differences_table(differences), fmt)


def differences_table(differences: list[Any]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "vs", "metric", "difference [95% CI]", "runs", "method", "verdict"]
    return head, [[d.group, d.baseline, d.metric, d.interval(), f"{d.runs[0]} vs {d.runs[1]}", d.method, d.verdict]
                  for d in differences]


def table_rows(runs: list[RunSummary], fmt: str = "text") -> tuple[list[str], list[list[str]]]:
    """The articles' table (loss and accuracy on train and test): the data loss and the penalty
    beside the loss when runs have them, a column for every other metric logged (auc, ...), and
    the run directory in CSV, or whenever two rows have the same name (reruns of one spec)."""
    split_keys = ("data_loss", "penalty")
    extra: list[str] = []
    for r in runs:
        for split in (r.train, r.test):
            extra += [m for m in split if m != "loss" and m not in ACCURACY_KEYS and m not in extra]
    parts = [m for m in split_keys if m in extra]
    others = [m for m in extra if m not in split_keys]
    with_run = fmt == "csv" or len({r.name for r in runs}) < len(runs)
    head = ["model", "params", "epochs"]
    for name in ("train", "test"):
        head += [f"{name} loss"] + [f"{name} {m}" for m in parts] + [f"{name} acc"] + [f"{name} {m}" for m in others]
    head += ["status"] + (["run"] if with_run else [])
    rows = []
    for r in runs:
        params = "-" if r.params is None else (str(r.params) if fmt == "csv" else f"{r.params:,}")
        row = [r.name, params, str(r.epochs or "-")]
        for d in (r.train, r.test):
            key = accuracy_key(d)
            row += [_num(d.get("loss"))] + [_num(d.get(m)) for m in parts]
            row += [_num(d.get(key) if key else None)] + [_num(d.get(m)) for m in others]
        row.append(r.status)
        if with_run:
            row.append(r.run_dir if fmt == "csv" else os.path.basename(os.path.normpath(r.run_dir)))
        rows.append(row)
    return head, rows


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.4f}"


def format_weights(runs: list[RunSummary], fmt: str = "text") -> str:
    """Norms and sparsity per layer and weight (weights.json), one column group per run."""
    if fmt == "json":
        import json

        return json.dumps([{"run": r.run_dir, "name": r.name, **read_weights(r.run_dir)} for r in runs], indent=2) + "\n"
    head, rows, zero = weights_table(runs)
    note = f"near 0: |w| < {zero:g}\n" if zero and fmt == "text" else ""
    return render_table(head, rows, fmt) + note


def weights_table(runs: list[RunSummary]) -> tuple[list[str], list[list[str]], float | None]:
    """(head, rows, the zero threshold) of the weights comparison."""
    stats = {r.run_dir: read_weights(r.run_dir) for r in runs}
    keys: list[str] = []
    values: dict[tuple[str, str], dict[str, Any]] = {}
    zero = None
    for r in runs:
        st = stats[r.run_dir]
        zero = zero or st.get("zero_threshold")
        for layer in st.get("layers", []):
            for w in layer.get("weights", []):
                key = f"{layer.get('layer')}/{w.get('name')}"
                keys += [key] if key not in keys else []
                values[(r.run_dir, key)] = w
        for a in st.get("activity", []):
            key = f"{a.get('layer')} activations"
            keys += [key] if key not in keys else []
            values[(r.run_dir, key)] = {"mean_abs": a.get("mean_abs_activation")}
    head = ["weight"]
    for r in runs:
        head += [f"{r.name} L1", f"{r.name} L2", f"{r.name} mean|w|", f"{r.name} near 0"]
    rows = []
    for key in keys:
        row = [key]
        for r in runs:
            w = values.get((r.run_dir, key), {})
            row += [_num(w.get("l1")), _num(w.get("l2")), _num(w.get("mean_abs")),
                    "-" if w.get("zero_fraction") is None else f"{100 * w['zero_fraction']:.1f}%"]
        rows.append(row)
    return head, rows, zero


def format_table(runs: list[RunSummary], fmt: str = "text") -> str:
    if fmt == "json":
        import json

        return json.dumps([{"run": r.run_dir, "name": r.name, "status": r.status, "params": r.params,
                            "epochs": r.epochs, "train": r.train, "test": r.test} for r in runs], indent=2) + "\n"
    head, rows = table_rows(runs, fmt)
    return render_table(head, rows, fmt)


def expand_runs(paths: tuple[str, ...] | list[str]) -> list[str]:
    """A sweep directory stands for its trials' run directories; a runs folder for the runs in it."""
    out: list[str] = []
    for p in paths:
        if not layout.is_run_dir(p) and not layout.is_sweep_dir(p):
            inner = sorted(os.path.join(p, d) for d in os.listdir(p) if layout.is_run_dir(os.path.join(p, d)))
            if inner:
                out += inner
                continue
        if layout.is_sweep_dir(p):
            from regspec.sweep.store import sweep_rows

            out += [r.run_dir for r in sweep_rows(p) if r.run_dir]
        else:
            out.append(p)
    return out
