"""Does model-based search (and pruning) help on the digits study? (issue 24)

    python -m bench.bench_search [--seeds 5] [--trials 40] [--jobs 2]

The digits twin of the articles' MNIST 5x500 MLP, with L1 and L2 strengths (log ranges) and
a dropout rate (a range) on its hidden layers, searched three ways, each over several seeds
of the search (the model's own seed stays fixed): random search, TPE, and TPE with the
median pruner. For each, the best test accuracy among the first 10, 20, 40 trials trained
(mean and range over the seeds) and the whole sweep's wall time (processes and start-up
included). Every sweep is a real `regspec sweep` command.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

CONFIGS = {
    "random": "sampler: random",
    "tpe": "sampler: tpe",
    "tpe + median pruner": "sampler: tpe, pruner: median, startup_trials: 5, warmup_epochs: 3",
}


def sweep_file(folder: Path, name: str, search: str, seed: int, trials: int) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"""regspec-sweep: 1
name: {name}
base: {ROOT / 'specs' / 'digits' / 'base.yaml'}
axes:
  layers.hidden.kernel_regularizer.l1: {{low: 0.000001, high: 0.01, log: true}}
  layers.hidden.kernel_regularizer.l2: {{low: 0.000001, high: 0.01, log: true}}
  layers.hidden.dropout: {{low: 0.0, high: 0.5}}
metric: test.accuracy
search: {{{search}, trials: {trials}, seed: {seed}}}
""")
    return path


def best_after(db: Path, counts: list[int]) -> tuple[list[float], int, float]:
    """Best test accuracy among the first n trained points, for each n; pruned count; training seconds."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT status, metrics, train_seconds FROM trials ORDER BY id").fetchall()
    accs = [json.loads(m)["test"]["accuracy"] if m else 0.0 for _, m, _ in rows]
    best = [max(accs[:n]) if accs[:n] else float("nan") for n in counts]
    return best, sum(1 for s, _, _ in rows if s == "pruned"), sum(t or 0.0 for _, _, t in rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    counts = [n for n in (10, 20, 40) if n <= args.trials]
    results: dict[str, list[tuple[list[float], int, float, float]]] = {c: [] for c in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in range(args.seeds):
            for i, (config, search) in enumerate(CONFIGS.items()):
                name = f"c{i}-s{seed}"
                path = sweep_file(folder, name, search, seed, args.trials)
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "regspec", "sweep", str(path), "--out", str(folder / "runs"),
                                       "--jobs", str(args.jobs)], capture_output=True, text=True)
                wall = time.perf_counter() - start
                if done.returncode != 0:
                    sys.exit(f"{config}, seed {seed}: {done.stderr[-2000:]}")
                best, pruned, train_s = best_after(folder / "runs" / name / "sweep.db", counts)
                results[config].append((best, pruned, train_s, wall))
                print(f"seed {seed} {config:<20} best after {counts}: {[round(b, 4) for b in best]}  "
                      f"pruned {pruned}  training {train_s:.0f} s  wall {wall:.0f} s", flush=True)
    print(f"\nbest test accuracy after n trials (mean [min-max] over {args.seeds} search seeds), {args.jobs} jobs")
    head = "| search | " + " | ".join(f"after {n}" for n in counts) + " | pruned | trials' training time | sweep wall time |"
    print(head + "\n|---|" + "---:|" * (len(counts) + 3))
    for config, runs in results.items():
        cells = []
        for j in range(len(counts)):
            vals = [r[0][j] for r in runs]
            cells.append(f"{statistics.mean(vals):.4f} [{min(vals):.4f}-{max(vals):.4f}]")
        pruned = statistics.mean(r[1] for r in runs)
        wall = statistics.mean(r[3] for r in runs)
        train_s = statistics.mean(r[2] for r in runs)
        print(f"| {config} | " + " | ".join(cells) + f" | {pruned:.1f} | {train_s:.0f} s | {wall:.0f} s |")


if __name__ == "__main__":
    main()
