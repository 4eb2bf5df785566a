"""The first `regspec report` of a sweep-sized folder (issue 23): time and page size.

    python -m bench.bench_report_sweep [--trials 200] [--regspec PATH]

Makes a sweep folder of N trials as a sweep leaves it (run.json, metrics, history, weights with
histograms, the resolved iris spec with each trial's seed and fc1 dropout, curves.png drawn,
weights.png not: a sweep leaves those to the report), then times `regspec report` on a fresh
copy, whole process. ``--regspec`` runs another checkout (e.g. a worktree of an older commit)
on the same folder, for before/after figures side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, report


def make_sweep(folder: Path, trials: int) -> None:
    from regspec.api import load
    from regspec.rundir.plots import plot_curves
    from regspec.sweep.store import Store
    from regspec.yamlio import dump_yaml

    rng = random.Random(3)
    base = load(ROOT / "specs" / "iris" / "base.yaml")
    (folder / "runs").mkdir(parents=True)
    store = Store(str(folder / "sweep.db"))
    rows = []
    curves = None
    for i in range(trials):
        seed, rate = i, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9][i % 10]
        name = f"bench-dropout_{rate:g}-seed_{seed}-n{i}".replace(".", "_")
        spec = base.with_overrides({"training.seed": seed, "layers.fc1.dropout": rate or None}, name=name)
        run = folder / "runs" / f"{name}-20260101-000000"
        run.mkdir()
        acc = 0.9 - 0.1 * rate + rng.gauss(0, 0.02)
        history = {"loss": [1.0 - 0.01 * e for e in range(50)], "val_loss": [1.1 - 0.01 * e for e in range(50)],
                   "accuracy": [0.5 + 0.008 * e for e in range(50)], "val_accuracy": [0.5 + 0.007 * e for e in range(50)]}
        (run / "run.json").write_text(json.dumps({"name": name, "spec_hash": spec.hash, "status": "finished"}))
        (run / "metrics.json").write_text(json.dumps({"params": 152515, "epochs_run": 50,
                                                      "train": {"loss": 0.3, "accuracy": 0.95},
                                                      "test": {"loss": 1 - acc, "accuracy": acc}}))
        (run / "history.json").write_text(json.dumps(history))
        layers = [{"layer": layer, "class": "Dense", "weights": [
            {"name": w, "shape": [4, 8], "count": 32, "l1": rng.random(), "l2": rng.random(), "mean_abs": 0.1,
             "zero_fraction": rng.random() / 4,
             "histogram": {"edges": [-1 + k / 25 for k in range(51)], "counts": [rng.randrange(200) for _ in range(50)]}}
            for w in ("kernel", "bias")]} for layer in ("fc1", "dense_1", "dense_2", "dense_3", "dense_4")]
        (run / "weights.json").write_text(json.dumps({"zero_threshold": 0.001, "layers": layers}))
        (run / "spec.yaml").write_text(dump_yaml(spec.resolved_dict()))
        if curves is None:
            plot_curves(history, str(run / "curves.png"), name)
            curves = run / "curves.png"
        else:
            shutil.copyfile(curves, run / "curves.png")
        rows.append((spec.hash, name, {"training.seed": seed, "layers.fc1.dropout": rate}, str(run)))
    store.add([(k, n, o) for k, n, o, _ in rows])
    for k, _, _, run_dir in rows:
        row = store.claim("bench")
        assert row is not None and row.key == k
        store.finish(row.id, "finished", run_dir=run_dir, metrics=json.loads(Path(run_dir, "metrics.json").read_text()))
    store.close()


def time_report(checkout: Path, template: Path, work: Path, extra: list[str]) -> tuple[float, int]:
    folder = work / "sweep"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(template, folder)
    # Run directories are named in the store by absolute path: point them at the copy.
    import sqlite3

    db = sqlite3.connect(folder / "sweep.db")
    db.execute("UPDATE trials SET run_dir = replace(run_dir, ?, ?)", (str(template), str(folder)))
    db.commit()
    db.close()
    page = work / "report.html"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "regspec", "report", str(folder), "-o", str(page), *extra], check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(checkout)}, cwd=checkout)
    return time.perf_counter() - start, page.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--regspec", type=Path, default=None, help="another checkout to time beside this one")
    parser.add_argument("--mean-over", default=None, help="also group, as `report --mean-over` (reads every spec)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_sweep(work / "template", args.trials)
        rows = []
        for label, checkout in (("this checkout", ROOT), ("--regspec", args.regspec)):
            if checkout is None:
                continue
            extra = ["--mean-over", args.mean_over] if args.mean_over else []
            seconds, size = time_report(checkout, work / "template", work, extra)
            rows.append((f"{label}: first report of {args.trials} trials", f"{seconds:.1f} s, {size / 1e6:.2f} MB"))
        report("regspec report of a sweep", rows)


if __name__ == "__main__":
    main()
