"""Report: the articles' results table and loss/accuracy curves. Reads run directories;
never imports TensorFlow."""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import Any

from regspec.files import read_json

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


class RunDirError(ValueError):
    pass


def read_run(run_dir: str) -> RunSummary:
    """A run directory's results, keeping only well-formed parts: the files may have been edited
    or come from elsewhere, and a table must never crash on them."""
    try:
        run = read_json(os.path.join(run_dir, "run.json"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{run_dir}: not a run directory ({exc})") from None
    if not isinstance(run, dict):
        raise RunDirError(f"{run_dir}: not a run directory (run.json is not an object)")
    metrics = _object(os.path.join(run_dir, "metrics.json"))
    history = _object(os.path.join(run_dir, "history.json"))
    name, status = run.get("name"), run.get("status")
    return RunSummary(
        run_dir=run_dir, name=name if isinstance(name, str) and name else os.path.basename(os.path.normpath(run_dir)),
        status=status if isinstance(status, str) else "?", params=_count(metrics.get("params")),
        epochs=_count(metrics.get("epochs_run")), train=_scores(metrics.get("train")), test=_scores(metrics.get("test")),
        history={k: [_number(v) for v in vs] for k, vs in history.items() if isinstance(k, str) and isinstance(vs, list)},
    )


def _object(path: str) -> dict[str, Any]:
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: Any) -> float:
    return float(v) if _is_number(v) else math.nan


def _count(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _scores(v: Any) -> dict[str, float]:
    return {k: float(x) for k, x in v.items() if isinstance(k, str) and _is_number(x)} if isinstance(v, dict) else {}


def _spec_without(run_dir: str, path: str) -> tuple[str, bool]:
    """The run's resolved spec with ``path`` (and the name) removed, as a grouping key; and
    whether the path was there at all. Paths use the one syntax: keys, [i], layer names.

    A layer's `dropout` annotation is resolved into a Dropout layer named `<layer>_dropout`:
    removing `layers.<layer>.dropout` removes that layer too.
    """
    import json

    from regspec.frontend.source import read_file
    from regspec.paths import parse

    data = read_file(os.path.join(run_dir, "spec.yaml")).data
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
            parent[:] = [it for it in parent if not (isinstance(it, dict) and it.get("name") == f"{node['name']}_dropout")]
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

    node: Any = read_file(os.path.join(run_dir, "spec.yaml")).data
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


def render_table(head: list[str], rows: list[list[str]], fmt: str) -> str:
    from regspec.diagnostics import safe

    head = [safe(h, 120) for h in head]  # run.json names are user content, in rows and headers
    rows = [[safe(c, 120) for c in r] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)
        return buf.getvalue()
    if fmt == "markdown":
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]) + "\n"


def accuracy_key(metrics: dict[str, Any]) -> str | None:
    return next((k for k in ACCURACY_KEYS if k in metrics), None)


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


def read_weights(run_dir: str) -> dict[str, Any]:
    """weights.json, keeping only well-formed layers, weights and figures (see read_run)."""
    raw = _object(os.path.join(run_dir, "weights.json"))
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
        if not os.path.exists(os.path.join(p, "run.json")) and not os.path.exists(os.path.join(p, "sweep.db")):
            inner = sorted(os.path.join(p, d) for d in os.listdir(p) if os.path.exists(os.path.join(p, d, "run.json")))
            if inner:
                out += inner
                continue
        if os.path.exists(os.path.join(p, "sweep.db")):
            from regspec.sweep.store import Store

            store = Store(os.path.join(p, "sweep.db"))
            out += [r.run_dir for r in store.rows() if r.run_dir]
            store.close()
        else:
            out.append(p)
    return out
