"""Sweep speed (issue 5).

    python -m bench.bench_sweep [--rounds 3]

1. generating and validating 10,000 variants of model5, and planning a sweep of them;
2. per-trial overhead of the runner vs training the same spec alone;
3. wall time and trials per hour of 8 iris trials with --jobs 2 vs --jobs 1 (medians of alternating rounds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_run_cost import LOOP
from bench.common import ROOT, report


def variants_10k() -> float:
    import regspec

    base = regspec.load(ROOT / "specs" / "model5.yaml")
    axes = {
        "layers.conv2.kernel_regularizer.l1": [round(1e-5 * i, 6) for i in range(1, 26)],
        "layers.fc2.dropout": [round(0.02 * i, 2) for i in range(20)],
        "compile.optimizer.learning_rate": [1e-2, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 5e-4, 5e-3, 2e-3, 2e-4,
                                            7e-4, 7e-5, 9e-4, 9e-5, 4e-4, 4e-5, 6e-4, 6e-5],
    }
    start = time.perf_counter()
    variants = regspec.grid(base, axes)
    elapsed = time.perf_counter() - start
    assert len(variants) == 10_000
    return elapsed


def plan_10k(folder: Path) -> float:
    """Planning a sweep of the same 10,000 points: every variant made, named and hashed (its store key)."""
    from regspec.sweep.plan import plan

    path = folder / "plan10k.yaml"
    path.write_text(f"""regspec-sweep: 1
name: plan10k
base: {ROOT / 'specs' / 'model5.yaml'}
axes:
  layers.conv2.kernel_regularizer.l1: {[round(1e-5 * i, 6) for i in range(1, 26)]}
  layers.fc2.dropout: {[round(0.02 * i, 2) for i in range(20)]}
  compile.optimizer.learning_rate: {[round(1e-4 * i, 6) for i in range(1, 21)]}
max_trials: 10000
""")
    start = time.perf_counter()
    assert len(plan(str(path)).trials) == 10_000
    return time.perf_counter() - start


def sweep_file(folder: Path, seeds: int, epochs: int) -> Path:
    path = folder / "bench.yaml"
    path.write_text(f"""regspec-sweep: 1
name: bench
base: {ROOT / 'specs' / 'iris' / 'base.yaml'}
axes:
  training.seed: {list(range(1, seeds + 1))}
set:
  training.epochs: {epochs}
max_trials: 100
""")
    return path


def runner_overhead(tmp: Path) -> tuple[float, float, float]:
    """Seconds per trial inside the runner minus the trainer's own time; and a single plain run."""
    from regspec.sweep.runner import run_sweep

    result = run_sweep(str(sweep_file(tmp, 4, 20)), str(tmp / "runs-a"), jobs=1)
    overhead = [r.seconds - r.train_seconds for r in result.rows]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "regspec", "compile", str(ROOT / "specs/iris/base.yaml"), "--train", "-q",
                    "--set", "training.epochs=20", "--out", str(tmp / "alone")], check=True, capture_output=True)
    alone = time.perf_counter() - start
    return sum(overhead) / len(overhead), alone, sum(r.seconds for r in result.rows) / len(result.rows)


def plain_loop(seeds: int = 8, epochs: int = 60, tfdata: bool = False) -> float:
    """The same 8 trainings in a plain Python loop (bench_run_cost's), one whole process: what
    `--jobs 1` is held against."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", LOOP, str(seeds), str(epochs), "tfdata" if tfdata else "numpy"],
                   check=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return time.perf_counter() - start


def jobs_walls(tmp: Path, rounds: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Whole processes (start-up included), and trials per hour once the workers run (from the
    first trial's start to the last one's end, in sweep.db): what a long sweep sees. ``rounds``
    alternating pairs (this host's load moves the figures by a third from one run to the next)."""
    import sqlite3

    walls: dict[int, list[float]] = {1: [], 2: []}
    rates: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for jobs in (1, 2):
            path = sweep_file(tmp, 8, 60)
            out = tmp / f"jobs{jobs}-{r}"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "regspec", "sweep", str(path), "--jobs", str(jobs), "--out", str(out)],
                           check=True, capture_output=True)
            walls[jobs].append(time.perf_counter() - start)
            first, last, n = sqlite3.connect(out / "bench" / "sweep.db").execute(
                "SELECT MIN(started), MAX(finished), COUNT(*) FROM trials").fetchone()
            rates[jobs].append(n / (last - first) * 3600)
    return walls[1], walls[2], rates[1], rates[2]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x (rounds {min(values):.2f}-{max(values):.2f}x)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="alternating --jobs 1 / --jobs 2 pairs")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    gen = variants_10k()
    with tempfile.TemporaryDirectory() as tmp:
        planned = plan_10k(Path(tmp))
        overhead, alone, per_trial = runner_overhead(Path(tmp))
        ones, twos, rates_one, rates_two = jobs_walls(Path(tmp), args.rounds)
        one, two = statistics.median(ones), statistics.median(twos)
        loop = plain_loop()
        loop_tf = plain_loop(tfdata=True)
    report("sweeps", [
        ("generate + validate 10,000 model5 variants", f"{gen:.2f} s (target < 3 s)"),
        ("plan a sweep of those 10,000 points (made, named, hashed)", f"{planned:.2f} s"),
        ("runner overhead per trial (claim, spec, record)", f"{overhead:.3f} s (target <= 0.5 s)"),
        ("iris 20 epochs: trial in the runner / plain CLI run", f"{per_trial:.2f} s / {alone:.2f} s"),
        ("8 iris trials (60 epochs), a plain loop: arrays into fit / tf.data", f"{loop:.1f} s / {loop_tf:.1f} s"),
        ("8 iris trials (60 epochs), --jobs 1",
         f"{one:.1f} s ({one / loop:.2f}x / {one / loop_tf:.2f}x the loops; target <= 1.1x)"),
        ("8 iris trials (60 epochs), --jobs 2", f"{two:.1f} s ({spread([a / b for a, b in zip(ones, twos)])} faster)"),
        ("  trials per hour once running, --jobs 1 / --jobs 2 (medians)",
         f"{statistics.median(rates_one):,.0f} / {statistics.median(rates_two):,.0f} "
         f"({spread([b / a for a, b in zip(rates_one, rates_two)])}; target >= 1.7x)"),
    ])
