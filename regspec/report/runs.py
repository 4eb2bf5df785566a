"""The results tables of many runs: the articles' table, groups over seeds, baselines, weights.
Reads run directories through ``rundir``; never imports TensorFlow."""

from __future__ import annotations

import copy
import functools
import math
import os
from typing import Any

from regspec.render import render_table
from regspec.rundir import layout
from regspec.rundir.read import ACCURACY_KEYS, RunDirError, RunSummary, accuracy_key, read_weights


def _user_spec(run_dir: str) -> dict[str, Any]:
    """The run's resolved spec as the user wrote it (report.diff.user_view), without its name:
    a copy, the caller's to change. Each file is read once (grouping, pairing by seed and the
    baseline all ask for it, per run and per metric)."""
    path = layout.path(run_dir, layout.SPEC)
    mtime = os.stat(path).st_mtime_ns if os.path.isfile(path) else -1  # missing: the reader says so
    return copy.deepcopy(_read_user_spec(path, mtime))


@functools.lru_cache(maxsize=4096)
def _read_user_spec(path: str, mtime_ns: int) -> dict[str, Any]:
    from regspec.frontend.source import read_file
    from regspec.report.diff import user_view

    data = read_file(path).data
    view = user_view(data) if isinstance(data, dict) else {}
    view.pop("name", None)
    view.pop("description", None)
    return view


def _without(data: dict[str, Any], path: str) -> bool:
    """Remove ``path`` (the one syntax: keys, [i], layer names) from ``data``; whether it was there."""
    from regspec.paths import parse

    node: Any = data
    segs = parse(path)
    for seg in segs[:-1]:
        node = _step(node, seg)
        if node is None:
            return False
    if isinstance(node, dict) and segs[-1] in node:
        del node[segs[-1]]
        return True
    return False


def _step(node: Any, seg: str | int) -> Any:
    """One segment of a path into spec data: a key, an index, or a layer name; None if absent."""
    if isinstance(node, dict):
        return node.get(seg)
    if isinstance(node, list) and isinstance(seg, int):
        return node[seg] if 0 <= seg < len(node) else None
    if isinstance(node, list) and isinstance(seg, str):
        return next((it for it in node if isinstance(it, dict) and it.get("name") == seg), None)
    return None


def mean_paths(text: str) -> list[str]:
    """The paths --mean-over averages over: one, or several separated by commas."""
    paths = [p.strip() for p in text.split(",") if p.strip()]
    if not paths:
        raise RunDirError(f"--mean-over {text!r}: give a path, e.g. training.seed")
    return paths


#: More differing values than this and a group is named by its runs' names instead.
MAX_LABEL_PATHS = 3


def group_runs(runs: list[RunSummary], path: str) -> list[tuple[str, list[RunSummary]]]:
    """Runs whose resolved specs differ only at ``path`` (e.g. training.seed), in first-seen
    order. A group is named by the shared part of its runs' names when that tells the groups
    apart, else by the values that set it apart from the others (the axes not averaged, whatever
    their order: `layers.fc1.dropout=0.5`)."""
    import json

    groups: dict[str, list[RunSummary]] = {}
    views: dict[str, dict[str, Any]] = {}
    averaged = mean_paths(path)
    seen: set[str] = set()
    for r in runs:
        view = _user_spec(r.run_dir)
        seen.update(p for p in averaged if _without(view, p))
        key = json.dumps(view, sort_keys=True, default=str)
        groups.setdefault(key, []).append(r)
        views.setdefault(key, view)
    for p in averaged:
        if runs and p not in seen:
            raise RunDirError(f"--mean-over {p}: no run's spec has this path (a typo?)")
    names = [_shared_name([m.name for m in members]) for members in groups.values()]
    # The runs' own names say what a group is when they tell the groups apart (a sweep's trial
    # names, when the averaged axis is the last); else the values where the groups differ do.
    labels = _group_labels([views[k] for k in groups]) if len(set(names)) < len(names) else names
    out: list[tuple[str, list[RunSummary]]] = []
    for label, members, shared in zip(labels, groups.values(), names):
        name = label or shared
        taken = {n for n, _ in out}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name} #{n}"
        out.append((unique, members))
    return out


def _group_labels(views: list[dict[str, Any]]) -> list[str | None]:
    """Each view named by the values where the views differ (None when they differ in too many)."""
    import json

    from regspec.report.diff import leaves

    flat = [leaves(v) for v in views]
    paths: list[str] = []
    for f in flat:
        paths += [p for p in f if p not in paths]
    missing = object()
    varying = [p for p in paths if len({json.dumps(f.get(p, missing), sort_keys=True, default=repr) for f in flat}) > 1]
    if not varying or len(varying) > MAX_LABEL_PATHS:
        return [None] * len(views)
    return [", ".join(f"{p}={_value(f.get(p))}" for p in varying) for f in flat]


def _value(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    return str(v) if not isinstance(v, (dict, list)) else _compact(v)


def _compact(v: Any) -> str:
    import json

    text = json.dumps(v, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 40 else text[:37] + "..."


def _shared_name(names: list[str]) -> str:
    """The shared part of the runs' names, cut back to a whole "-" token (or the first name)."""
    if len(names) == 1:
        return names[0]
    prefix = os.path.commonprefix(names)
    label = prefix.rstrip("-_") if prefix.endswith("-") else prefix.rsplit("-", 1)[0]
    return label or names[0]


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
    """The value at ``path`` in a run's spec as written (the seed a run is paired by), or None."""
    from regspec.paths import parse

    view = _user_spec(run_dir)
    values = []
    for p in mean_paths(path):
        node: Any = view
        for seg in parse(p):
            node = _step(node, seg)
        if not isinstance(node, (int, float, str, bool)):
            return None
        values.append(node)
    return values[0] if len(values) == 1 else tuple(values)


def baseline_group(groups: list[tuple[str, list[RunSummary]]], baseline: str) -> tuple[str, list[RunSummary]]:
    """The group ``baseline`` names (by its label, or by the name of one of its runs)."""
    chosen = [g for g in groups if g[0] == baseline] or [g for g in groups if any(m.name == baseline for m in g[1])]
    if not chosen:
        raise RunDirError(f"--baseline {baseline}: no group or run has this name "
                          f"(groups: {'; '.join(label for label, _ in groups)})")
    return chosen[0]


def baseline_differences(runs: list[RunSummary], path: str, baseline: str) -> list[Any]:
    """Each group against the baseline group, per test metric, with a 95% CI over ``path``
    (paired by its value when both groups have the same values). Nothing to compare is an error."""
    from regspec.report.stats import difference

    groups = group_runs(runs, path)
    base_label, base_runs = baseline_group(groups, baseline)
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
    if not results:
        others = len(groups) - 1
        raise RunDirError(f"--baseline {baseline}: nothing to compare it with ("
                          + ("every run is in its group" if not others else "no test metric in common") + ")")
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
    """Norms and sparsity per layer and weight (weights.json): one table per statistic, a row per
    run, a column per weight (readable at twenty runs); activations in a table of their own."""
    if fmt == "json":
        import json

        return json.dumps([{"run": r.run_dir, "name": r.name, **read_weights(r.run_dir)} for r in runs], indent=2) + "\n"
    tables, zero = weights_tables(runs)
    parts = []
    for title, head, rows in tables:
        table = render_table(head, rows, fmt)
        parts.append(table if fmt == "csv" and len(tables) == 1 else f"{title}\n{table}")
    note = f"near 0: |w| < {zero:g}\n" if zero and fmt == "text" else ""
    return "\n".join(parts) + note


#: The statistics of a weight, as (key in weights.json, table title).
WEIGHT_STATISTICS = (("l1", "L1 norm"), ("l2", "L2 norm"), ("mean_abs", "mean |w|"), ("zero_fraction", "near 0"))


def weights_tables(runs: list[RunSummary]) -> tuple[list[tuple[str, list[str], list[list[str]]]], float | None]:
    """([(title, head, rows)] of the weights comparison, the zero threshold): a table per statistic
    and one of the mean absolute activations; a row per run, a column per weight or layer."""
    stats = {r.run_dir: read_weights(r.run_dir) for r in runs}
    weights: list[str] = []
    layers: list[str] = []
    values: dict[tuple[str, str], dict[str, Any]] = {}
    activity: dict[tuple[str, str], float] = {}
    zero = None
    for r in runs:
        st = stats[r.run_dir]
        zero = zero or st.get("zero_threshold")
        for layer in st.get("layers", []):
            for w in layer.get("weights", []):
                key = f"{layer.get('layer')}/{w.get('name')}"
                weights += [key] if key not in weights else []
                values[(r.run_dir, key)] = w
        for a in st.get("activity", []):
            layers += [a["layer"]] if a["layer"] not in layers else []
            activity[(r.run_dir, a["layer"])] = a["mean_abs_activation"]
    tables = []
    if weights:
        for stat, title in WEIGHT_STATISTICS:
            rows = []
            for r in runs:
                cells = [values.get((r.run_dir, key), {}).get(stat) for key in weights]
                rows.append([r.name] + [_percent(v) if stat == "zero_fraction" else _num(v) for v in cells])
            tables.append((title + (f" (|w| < {zero:g})" if stat == "zero_fraction" and zero else ""), ["run"] + weights,
                           rows))
    if layers:
        tables.append(("mean |activation| on the test data", ["run"] + layers,
                       [[r.name] + [_num(activity.get((r.run_dir, name))) for name in layers] for r in runs]))
    return tables, zero


def _percent(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def format_table(runs: list[RunSummary], fmt: str = "text") -> str:
    if fmt == "json":
        import json

        return json.dumps([{"run": r.run_dir, "name": r.name, "status": r.status, "params": r.params,
                            "epochs": r.epochs, "train": r.train, "test": r.test} for r in runs], indent=2) + "\n"
    head, rows = table_rows(runs, fmt)
    return render_table(head, rows, fmt)


def _natural(text: str) -> list[Any]:
    """Sort key: numbers in names by value (run-2 before run-10)."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def expand_runs(paths: tuple[str, ...] | list[str]) -> list[str]:
    """A sweep directory stands for its trials' run directories; a runs folder for the runs in it."""
    out: list[str] = []
    for p in paths:
        if not layout.is_run_dir(p) and not layout.is_sweep_dir(p):
            inner = sorted((os.path.join(p, d) for d in os.listdir(p) if layout.is_run_dir(os.path.join(p, d))),
                           key=_natural)
            if inner:
                out += inner
                continue
        if layout.is_sweep_dir(p):
            from regspec.sweep.store import sweep_rows

            out += [r.run_dir for r in sweep_rows(p) if r.run_dir]
        else:
            out.append(p)
    return out
