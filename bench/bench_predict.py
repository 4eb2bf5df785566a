"""Predict throughput (issue 12): `regspec predict` vs a hand-written `model.predict` script.

    python -m bench.bench_predict [--rounds 3] [--rows 10000]

A digits run (specs/digits/base.yaml, one epoch) predicts 10,000 rows of a CSV (digits' 1,797
rows repeated). Both sides do the whole job: read the CSV, standardize with the run's mean and
scale, load the model, predict, write one row of probabilities per example. Measured as whole
processes (`regspec predict ...` vs `python hand.py`, what a user waits for) and inside one
process (the `predict` API vs the hand code as a function), interleaved, min/median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, report

HAND = '''
import csv, json, sys
import numpy as np
import keras

def main(run, data, out):
    prep = json.load(open(f"{run}/preprocessing.json"))
    with open(data) as fh:
        header = next(csv.reader(fh))
    cols = [header.index(f) for f in prep["features"]]
    x = np.loadtxt(data, delimiter=",", skiprows=1, usecols=cols, dtype="float32")
    x = (x - np.array(prep["standardize"]["mean"], "float32")) / np.array(prep["standardize"]["scale"], "float32")
    model = keras.saving.load_model(f"{run}/model.keras", safe_mode=True)
    p = model.predict(x, batch_size=1024, verbose=0)
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["example", "prediction"] + [f"probability_{c}" for c in prep["classes"]])
        for i, row in enumerate(p):
            w.writerow([i + 2, prep["classes"][int(row.argmax())], *map(float, row)])


if __name__ == "__main__":
    main(*sys.argv[1:4])
'''


def setup(tmp: str, rows: int) -> tuple[str, str, str]:
    import numpy as np
    from sklearn.datasets import load_digits

    from regspec.api import load
    from regspec.runtime.train import train

    run = train(load(ROOT / "specs" / "digits" / "base.yaml").with_overrides({"training.epochs": 1}),
                os.path.join(tmp, "runs"), verbose=0).run_dir
    bunch = load_digits()
    reps = -(-rows // len(bunch.data))
    x = np.tile(bunch.data, (reps, 1))[:rows]
    data = os.path.join(tmp, "digits.csv")
    np.savetxt(data, x, delimiter=",", fmt="%g", header=",".join(bunch.feature_names), comments="")
    hand = os.path.join(tmp, "hand.py")
    with open(hand, "w") as fh:
        fh.write(HAND)
    return run, data, hand


def hand_in_process(run: str, data: str, out: str) -> None:
    scope: dict = {"__name__": "hand"}
    exec(compile(HAND, "hand.py", "exec"), scope)
    scope["main"](run, data, out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run, data, hand = setup(tmp, args.rows)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        whole: dict[str, list[float]] = {"regspec predict": [], "hand script": []}
        for _ in range(args.rounds):
            for name, cmd in (("regspec predict", [sys.executable, "-m", "regspec", "predict", run, data, "-o",
                                                   os.path.join(tmp, "a.csv")]),
                              ("hand script", [sys.executable, hand, run, data, os.path.join(tmp, "b.csv")])):
                t = time.perf_counter()
                subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                whole[name].append(time.perf_counter() - t)

        from regspec.serving.apply import predict

        inside: dict[str, list[float]] = {"regspec predict": [], "hand script": []}
        hand_in_process(run, data, os.path.join(tmp, "warm.csv"))  # Keras' first-call costs, for both
        for _ in range(args.rounds):
            t = time.perf_counter()
            text = predict(run, [data]).render("csv")
            with open(os.path.join(tmp, "c.csv"), "w") as fh:
                fh.write(text)
            inside["regspec predict"].append(time.perf_counter() - t)
            t = time.perf_counter()
            hand_in_process(run, data, os.path.join(tmp, "d.csv"))
            inside["hand script"].append(time.perf_counter() - t)
        same = open(os.path.join(tmp, "a.csv")).read().splitlines()[1].split(",")[1] == \
            open(os.path.join(tmp, "b.csv")).read().splitlines()[1].split(",")[1]

    rows = []
    for label, table in (("whole process", whole), ("in process", inside)):
        for name, times in table.items():
            rows.append((f"{label}: {name}", f"min {min(times):.3f} s  median {statistics.median(times):.3f} s  "
                                              f"({args.rows / min(times):,.0f} rows/s)"))
        a, b = table["regspec predict"], table["hand script"]
        rows.append((f"{label}: ratio", f"{min(a) / min(b):.2f}x min, {statistics.median(a) / statistics.median(b):.2f}x median"))
    rows.append(("first prediction agrees", json.dumps(same)))
    report(f"predict {args.rows:,} digits rows (CSV in, CSV out)", rows)


if __name__ == "__main__":
    main()
