"""Input pipeline throughput for named CSV columns (issue 25): a 100k-row, 20-column CSV into a wide
& deep model, regspec against the hand-written Keras a user would write (pandas, adapt, tf.data).

    python -m bench.bench_named_csv [--rows 100000] [--epochs 3]

Both sides: read the CSV, adapt the same preprocessing layers on the train split, train the same
model with the same batch size. Reported: the time to the first step (read + split + adapt +
build), and the training throughput in rows per second (median epoch after the first).
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from pathlib import Path

NUMERIC = [f"n{i}" for i in range(12)]
STRINGS = [f"s{i}" for i in range(4)]
INTEGERS = [f"k{i}" for i in range(3)]
BATCH = 256


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(12)]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*NUMERIC, *STRINGS, *INTEGERS, "label"])
        for _ in range(rows):
            nums = [rng.gauss(0, 1) for _ in NUMERIC]
            cats = [rng.choice(words) for _ in STRINGS]
            ints = [rng.randint(1, 9) for _ in INTEGERS]
            label = int(nums[0] + (cats[0] in words[:4]) + 0.3 * ints[0] + rng.gauss(0, 1) > 2)
            w.writerow([f"{v:.5f}" for v in nums] + cats + ints + [label])


def spec_text(data: str) -> str:
    lines = ["regspec: 1", "name: wide-deep-bench", "inputs:", "  - {name: numeric, shape: [12]}"]
    lines += [f"  - {{name: {c}, shape: [1], dtype: string}}" for c in STRINGS]
    lines += [f"  - {{name: {c}, shape: [1], dtype: int64}}" for c in INTEGERS]
    lines += ["layers:", "  - {type: normalization, name: numeric_norm, inputs: numeric}"]
    lines += [f"  - {{type: string_lookup, name: {c}_onehot, inputs: {c}, output_mode: one_hot, max_tokens: 16, "
              "pad_to_max_tokens: true}" for c in STRINGS]
    lines += [f"  - {{type: integer_lookup, name: {c}_onehot, inputs: {c}, output_mode: one_hot, max_tokens: 12, "
              "pad_to_max_tokens: true}" for c in INTEGERS]
    onehots = ", ".join(f"{c}_onehot" for c in STRINGS + INTEGERS)
    lines += [f"  - {{type: concatenate, name: wide, inputs: [{onehots}]}}",
              f"  - {{type: concatenate, name: deep_in, inputs: [numeric_norm, {onehots}]}}",
              "  - {type: dense, name: d1, units: 64, activation: relu}",
              "  - {type: dense, name: d2, units: 32, activation: relu}",
              "  - {type: concatenate, name: both, inputs: [wide, d2]}",
              "  - {type: dense, name: out, units: 1, activation: sigmoid}",
              "compile: {optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}",
              "data:", "  type: csv", f"  train: {data}", "  test_size: 0.2", "  label: label", "  inputs:",
              f"    numeric: [{', '.join(NUMERIC)}]"]
    lines += [f"    {c}: {c}" for c in STRINGS + INTEGERS]
    lines += [f"training: {{epochs: 1, batch_size: {BATCH}, seed: 1}}"]
    return "\n".join(lines) + "\n"


class EpochTimes:
    def __init__(self) -> None:
        self.times: list[float] = []

    def callback(self) -> object:
        import keras

        outer = self

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                outer.times.append(time.perf_counter() - self.t)

        return Timer()


def regspec_side(spec_path: Path, epochs: int) -> tuple[float, list[float], int]:
    import regspec
    from regspec.backend.keras.adapt import adapt_layers
    from regspec.backend.keras.build import compile_model
    from regspec.backend.keras.data import load_data
    from regspec.runtime.train import _steps_per_execution

    start = time.perf_counter()
    spec = regspec.load(spec_path)
    program = spec.program
    data = load_data(program, 1)
    built: dict = {}
    model = compile_model(program, built, split_loss=True, steps_per_execution=_steps_per_execution(program, data))
    adapt_layers(model, data.train_eval, program, built, data.train_inputs)
    ready = time.perf_counter() - start
    timer = EpochTimes()
    model.fit(data.train, epochs=epochs, verbose=0, callbacks=[timer.callback()])
    n = sum(int(x[next(iter(x))].shape[0]) if isinstance(x, dict) else int(x.shape[0]) for x, _ in data.train_eval)
    return ready, timer.times, n


def hand_side(csv_path: Path, epochs: int) -> tuple[float, list[float], int]:
    """What a user writes by hand (the Keras structured-data examples' way)."""
    import keras
    import pandas as pd
    import tensorflow as tf
    from sklearn.model_selection import train_test_split

    start = time.perf_counter()
    keras.utils.set_random_seed(1)
    df = pd.read_csv(csv_path)
    train, _test = train_test_split(df, test_size=0.2, random_state=1)
    y = train.pop("label").to_numpy()
    features = {"numeric": train[NUMERIC].to_numpy("float32")}
    features.update({c: train[[c]].to_numpy().astype(str) for c in STRINGS})
    features.update({c: train[[c]].to_numpy("int64") for c in INTEGERS})
    ds = tf.data.Dataset.from_tensor_slices((features, y)).shuffle(len(y), seed=1).batch(BATCH).prefetch(tf.data.AUTOTUNE)
    inputs = {"numeric": keras.Input((12,), name="numeric")}
    inputs.update({c: keras.Input((1,), dtype="string", name=c) for c in STRINGS})
    inputs.update({c: keras.Input((1,), dtype="int64", name=c) for c in INTEGERS})
    norm = keras.layers.Normalization()
    norm.adapt(features["numeric"])
    onehots = []
    for c in STRINGS:
        layer = keras.layers.StringLookup(output_mode="one_hot", max_tokens=16, pad_to_max_tokens=True)
        layer.adapt(features[c])
        onehots.append(layer(inputs[c]))
    for c in INTEGERS:
        layer = keras.layers.IntegerLookup(output_mode="one_hot", max_tokens=12, pad_to_max_tokens=True)
        layer.adapt(features[c])
        onehots.append(layer(inputs[c]))
    wide = keras.layers.Concatenate()(onehots)
    deep = keras.layers.Concatenate()([norm(inputs["numeric"]), *onehots])
    deep = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(64, activation="relu")(deep))
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()([wide, deep]))
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    ready = time.perf_counter() - start
    timer = EpochTimes()
    model.fit(ds, epochs=epochs, verbose=0, callbacks=[timer.callback()])
    return ready, timer.times, len(y)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    import keras  # noqa: F401 - imported before either side is timed
    import tensorflow  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_csv(folder / "data.csv", args.rows)
        (folder / "spec.yaml").write_text(spec_text("data.csv"))
        results: dict[str, list[tuple[float, float]]] = {"regspec": [], "hand-written": []}
        for _ in range(args.rounds):  # side by side, alternating
            for side, fn, arg in (("regspec", regspec_side, folder / "spec.yaml"),
                                  ("hand-written", hand_side, folder / "data.csv")):
                ready, epochs, n = fn(arg, args.epochs)
                rate = n / statistics.median(epochs[1:] or epochs)
                results[side].append((ready, rate))
                print(f"{side:<13} to first step {ready:6.2f} s   {rate:9.0f} rows/s   epochs {[round(e, 2) for e in epochs]}",
                      flush=True)
    ours = statistics.median(r for _, r in results["regspec"])
    theirs = statistics.median(r for _, r in results["hand-written"])
    ready_ours = statistics.median(t for t, _ in results["regspec"])
    ready_theirs = statistics.median(t for t, _ in results["hand-written"])
    print(f"\ntraining throughput: regspec {ours:.0f} rows/s, hand-written {theirs:.0f} rows/s: {ours / theirs:.2f}x")
    print(f"to the first step: regspec {ready_ours:.1f} s, hand-written {ready_theirs:.1f} s: {ready_ours / ready_theirs:.2f}x")


if __name__ == "__main__":
    main()
