"""Fixed cost per run (issue 14): `regspec sweep --jobs 1` vs a plain Python loop of the same fits.

    python -m bench.bench_run_cost [--rounds 3] [--trials 6] [--epochs 20]

Both are whole processes, interleaved round by round. The sweep trains specs/iris/base.yaml
for each of ``--trials`` seeds and writes a full run directory per trial (resolved spec,
model, history, metrics, curves) plus its database. The loop is what a user writes by hand:
for each seed, build the same Keras model, fit on the same standardized split with the test
split as validation, evaluate on train and test. Reported: wall time, and per trial.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, report

LOOP = '''
import sys
import numpy as np
import keras
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

trials, epochs, tfdata = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "tfdata"
bunch = load_iris()
L = keras.layers
for seed in range(1, trials + 1):
    keras.utils.set_random_seed(seed)
    x, xt, y, yt = train_test_split(bunch.data.astype("float32"), bunch.target, test_size=0.25, random_state=seed)
    mean, std = x.mean(0), x.std(0)
    x, xt = (x - mean) / std, (xt - mean) / std
    y, yt = np.eye(3, dtype="float32")[y], np.eye(3, dtype="float32")[yt]
    model = keras.Sequential([keras.Input((4,)), L.Dense(512, activation="tanh"), L.Dense(256, activation="tanh"),
                              L.Dense(64, activation="tanh"), L.Dense(32, activation="relu"),
                              L.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    if tfdata:  # batched datasets, as regspec feeds them (faster than arrays on small data)
        import tensorflow as tf

        train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(128).prefetch(2)
        test = tf.data.Dataset.from_tensor_slices((xt, yt)).batch(128)
        model.fit(train, epochs=epochs, validation_data=test, verbose=0)
        model.evaluate(tf.data.Dataset.from_tensor_slices((x, y)).batch(128), verbose=0)
        model.evaluate(test, verbose=0)
    else:
        model.fit(x, y, epochs=epochs, batch_size=128, validation_data=(xt, yt), verbose=0)
        model.evaluate(x, y, verbose=0)
        model.evaluate(xt, yt, verbose=0)
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    loops = {"plain loop, tf.data": "tfdata", "plain loop, NumPy arrays (the articles)": "numpy"}
    times: dict[str, list[float]] = {"regspec sweep --jobs 1": [], **{name: [] for name in loops}}
    with tempfile.TemporaryDirectory() as tmp:
        loop = os.path.join(tmp, "loop.py")
        with open(loop, "w") as fh:
            fh.write(LOOP)
        sweep = os.path.join(tmp, "sweep.yaml")
        with open(sweep, "w") as fh:
            fh.write(f"regspec-sweep: 1\nname: cost\nbase: {ROOT / 'specs' / 'iris' / 'base.yaml'}\n"
                     f"axes:\n  training.seed: {list(range(1, args.trials + 1))}\n"
                     f"set:\n  training.epochs: {args.epochs}\nmax_trials: {args.trials}\n")
        for r in range(args.rounds):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "regspec", "sweep", sweep, "--jobs", "1", "--out",
                            os.path.join(tmp, f"runs{r}")], env=env, check=True, capture_output=True)
            times["regspec sweep --jobs 1"].append(time.perf_counter() - start)
            for name, how in loops.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, loop, str(args.trials), str(args.epochs), how], env=env, check=True,
                               capture_output=True)
                times[name].append(time.perf_counter() - start)
    rows = [(name, f"min {min(ts):.2f} s  median {statistics.median(ts):.2f} s  "
                   f"({min(ts) / args.trials:.3f} s per trial)") for name, ts in times.items()]
    a = times["regspec sweep --jobs 1"]
    for name in loops:
        b = times[name]
        rows.append((f"sweep / {name}", f"{min(a) / min(b):.2f}x min, {statistics.median(a) / statistics.median(b):.2f}x "
                                        "median (target <= 1.15x)"))
    report(f"{args.trials} iris trials of {args.epochs} epochs, whole processes ({args.rounds} rounds)", rows)


if __name__ == "__main__":
    main()
