"""Training overhead per epoch (issues 14, 26): regspec's `train` vs a hand-written Keras script.

    python -m bench.bench_training [--rounds 3] [--scan] [--digits-epochs 25] [--data iris,digits]

Both train the same model on the same data, each run in a fresh process (TensorFlow's thread
pools are a process's, and regspec chooses them for a small model), interleaved round by round;
a callback records each epoch's wall time and the median of the steady-state epochs (after the
first five) is compared. The whole run starts with TensorFlow imported and ends with the test
metrics: the script's reads the data, builds and fits; regspec's imports regspec, reads the spec and
trains. The whole process (Python started to exit) is timed too: regspec imports TensorFlow with
the collector set aside (backend/keras/env.py), a script with `import keras`.
The hand script fits NumPy arrays, as the articles do, or tf.data as regspec does; its "as the
articles" form also evaluates the train split and plots the history, as the articles' code does
after fitting. regspec adds its tf.data pipeline, the epoch log, the time-bounded backup and
TerminateOnNaN, and writes its run directory (the model saved, both figures). regspec also runs
with TensorFlow's graph optimizer forced on, to show what leaving it out
(backend/keras/grappler.py) saves on the first epoch, where the steps are traced.
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


def epoch_timer(k):  # type: ignore[no-untyped-def]
    class Timer(k.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            self.times.append(time.perf_counter() - self._t)

    return Timer()


def show_history(history, path: str) -> None:  # type: ignore[no-untyped-def]
    """The articles' plot of a training (001's `show_history`): loss and accuracy, train and
    validation, side by side; saved, as a script's `plt.show()` would be seen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(12, 4))
    for i, key in enumerate(("loss", "accuracy")):
        plt.subplot(1, 2, i + 1)
        plt.plot(history.history[key])
        plt.plot(history.history[f"val_{key}"])
        plt.title(key)
        plt.xlabel("epoch")
        plt.legend(["train", "validation"])
    plt.savefig(path)
    plt.close()


def hand(k, name: str, epochs: int, tfdata: bool = False, articles: str | None = None,  # type: ignore[no-untyped-def]
         tuned: bool = False) -> tuple[float, float]:
    """The articles' way: arrays in, model.fit (or, with ``tfdata``, batched tf.data datasets as regspec feeds).
    With ``articles`` (a folder), what the articles do after fitting as well: evaluate the train
    and test splits (000, 002) and plot the history (001, 003), here into a PNG in that folder.
    With ``tuned``, regspec's settings written by hand (with tf.data): all of an epoch's steps
    per execution (up to 32), evaluation in batches of 4 training batches, no Grappler (the
    threads are set by `one`, before TensorFlow starts). Returns the median steady epoch and the
    whole script's time, data to test accuracy (and plot)."""
    start = time.perf_counter()
    import numpy as np
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    bunch = getattr(datasets, f"load_{name}")()
    x, xt, y, yt = train_test_split(bunch.data.astype("float32"), bunch.target, test_size=0.25, random_state=7)
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1
    x, xt = (x - mean) / std, (xt - mean) / std
    n = int(y.max()) + 1
    L = k.layers
    batch = 128
    if name == "iris":
        model = k.Sequential([k.Input((4,)), L.Dense(512, activation="tanh"), L.Dense(256, activation="tanh"),
                              L.Dense(64, activation="tanh"), L.Dense(32, activation="relu"), L.Dense(3, activation="softmax")])
        optimizer = "sgd"
    else:
        model = k.Sequential([k.Input((64,))] + [L.Dense(500, activation="relu") for _ in range(5)]
                             + [L.Dense(10, activation="softmax")])
        optimizer = "adam"
        nv = int(round(len(x) * 0.3))
        x, y = x[:-nv], y[:-nv]
    if tuned:
        import tensorflow as tf

        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=min(32, -(-len(x) // batch)) if tuned else 1)
    timer = epoch_timer(k)
    if tfdata:
        import tensorflow as tf

        train = tf.data.Dataset.from_tensor_slices((x, np.eye(n, dtype="float32")[y])).shuffle(len(x)).batch(batch)
        val = tf.data.Dataset.from_tensor_slices((xt, np.eye(n, dtype="float32")[yt])).batch(4 * batch if tuned else batch)
        history = model.fit(train.prefetch(2), epochs=epochs, validation_data=val, verbose=0, callbacks=[timer])
        if articles:
            model.evaluate(train, verbose=0)
        model.evaluate(val, verbose=0)
        if articles:
            os.makedirs(articles, exist_ok=True)
            show_history(history, os.path.join(articles, "history.png"))
    else:
        model.fit(x, np.eye(n)[y], epochs=epochs, batch_size=batch, validation_data=(xt, np.eye(n)[yt]), verbose=0,
                  callbacks=[timer])
        model.evaluate(xt, np.eye(n)[yt], verbose=0)
    return statistics.median(timer.times[5:]), time.perf_counter() - start


def ours(k, name: str, epochs: int, out: str, **overrides: object) -> tuple[float, float, str, float]:  # type: ignore[no-untyped-def]
    """regspec's `train`: the median steady epoch, the whole time (importing regspec, reading the
    spec, training, writing the run directory), the run directory and the first epoch (the steps
    traced)."""
    timer = epoch_timer(k)
    fit = k.Model.fit

    def timed_fit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["callbacks"] = [timer, *kwargs.get("callbacks", [])]
        return fit(self, *args, **kwargs)

    k.Model.fit = timed_fit
    start = time.perf_counter()  # regspec's import and the spec's reading count, as the script's model code does
    from regspec.api import load
    from regspec.runtime.train import train

    spec = load(ROOT / "specs" / name / "base.yaml").with_overrides({"training.epochs": epochs, **overrides})
    try:
        result = train(spec, out, verbose=0)
    finally:
        k.Model.fit = fit
    whole = time.perf_counter() - start
    return statistics.median(timer.times[5:]), whole, result.run_dir, timer.times[0]


def weights_apart(a: str, b: str) -> float:
    """The largest difference between two runs' trained weights, relative to the weights' scale."""
    import numpy as np

    from regspec.runtime.train import load_saved

    pairs = list(zip(load_saved(a).get_weights(), load_saved(b).get_weights(), strict=True))
    return max(float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(x))), 1e-12)) for x, y in pairs)


def scan(k, rounds: int, tmp: str) -> None:  # type: ignore[no-untyped-def]
    """Where the gain of steps_per_execution stops: digits at batch 16 (59 steps an epoch)."""
    rows = []
    values = (1, 2, 4, 8, 16, 32, 64)
    times: dict[int, list[float]] = {v: [] for v in values}
    for r in range(rounds):
        for v in values:
            times[v].append(ours(k, "digits", 15, os.path.join(tmp, f"scan{v}-{r}"), **{
                "training.batch_size": 16, "compile.steps_per_execution": v})[0])
    base = statistics.median(times[1])
    for v in values:
        rows.append((f"digits, batch 16: steps_per_execution {v}",
                     f"{statistics.median(times[v]) * 1000:.1f} ms ({statistics.median(times[v]) / base:.2f}x of 1)"))
    report("per-epoch time by steps_per_execution (median over rounds)", rows)


def one(kind: str, name: str, epochs: int, out: str) -> dict:
    """One measurement in a fresh process (with `--one`): thread pools and the like are a
    process's, chosen once, so each side gets a process of its own, as a user's script would."""
    cmd = [sys.executable, "-m", "bench.bench_training", "--one", kind, name, str(epochs), out]
    if kind == "cli":  # the main job as users run it, timed whole from here
        cmd = [sys.executable, "-m", "regspec", "compile", str(ROOT / "specs" / name / "base.yaml"), "--train", "-q",
               "--set", f"training.epochs={epochs}", "--out", out]
    cores = len(os.sched_getaffinity(0))
    threads = {"TF_NUM_INTRAOP_THREADS": str(max(1, cores // 2)), "TF_NUM_INTEROP_THREADS": str(cores)}
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(threads if kind == "tuned" else {})})
    took = time.perf_counter() - start
    return {"process": took} if kind == "cli" else {**json.loads(done.stdout.strip().splitlines()[-1]), "process": took}


def run_one(kind: str, name: str, epochs: int, out: str) -> None:
    started = time.perf_counter()
    hand_kind = kind in ("numpy", "tfdata", "articles", "tuned")
    if hand_kind:  # as a script does
        import keras as k
    else:  # as regspec does (env.keras: the collector set aside while TensorFlow imports)
        from regspec.backend.keras.env import keras

        k = keras()
    imported = time.perf_counter() - started
    first = None
    if hand_kind:
        epoch, whole = hand(k, name, epochs, tfdata=kind != "numpy", articles=out if kind == "articles" else None,
                            tuned=kind == "tuned")
        run = ""
    else:
        if kind == "ours_grappler":  # TensorFlow's graph optimizer on, as before regspec left it out
            from regspec.backend.keras import grappler

            grappler.worth_skipping = lambda program: False
        epoch, whole, run, first = ours(k, name, epochs, out,
                                        **({"compile.steps_per_execution": 1} if kind == "ours1" else {}))
    said = json.load(open(os.path.join(run, "run.json"))).get("grappler") if run else None
    print(json.dumps({"epoch": epoch, "whole": whole, "run": run, "first": first, "grappler": said,
                      "import": imported}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scan", action="store_true", help="only the steps_per_execution scan")
    parser.add_argument("--digits-epochs", type=int, default=25, help="epochs of the digits runs (the whole run's "
                        "ratio nears the per-epoch one as they grow)")
    parser.add_argument("--data", default="iris,digits", help="which of iris and digits (comma-separated)")
    parser.add_argument("--one", nargs=4, metavar=("KIND", "NAME", "EPOCHS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.one:
        run_one(args.one[0], args.one[1], int(args.one[2]), args.one[3])
        raise SystemExit(0)
    if args.scan:
        from regspec.backend.keras.env import keras

        with tempfile.TemporaryDirectory() as tmp:
            scan(keras(), args.rounds, tmp)
        raise SystemExit(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, epochs in (("iris", 60), ("digits", args.digits_epochs)):
            if name not in args.data.split(","):
                continue
            got: dict[str, list[dict]] = {"numpy": [], "tfdata": [], "articles": [], "tuned": [], "ours": [],
                                          "ours1": [], "ours_grappler": [], "cli": []}
            for r in range(args.rounds):  # interleaved: a round's runs see the same load
                for kind in got:
                    got[kind].append(one(kind, name, epochs, os.path.join(tmp, f"{name}{r}-{kind}")))
            a, t, b, one_ = ([m["epoch"] for m in got[kind]] for kind in ("numpy", "tfdata", "ours", "ours1"))
            tw, bw = [m["whole"] for m in got["tfdata"]], [m["whole"] for m in got["ours"]]
            aw = [m["whole"] for m in got["articles"]]
            apart = [weights_apart(x["run"], y["run"]) for x, y in zip(got["ours"], got["ours1"])]

            def ms(v: list[float]) -> str:
                return f"{min(v) * 1000:.1f} / {statistics.median(v) * 1000:.1f} ms"

            rows += [(f"{name}: hand-written, NumPy arrays (the articles)", ms(a)),
                     (f"{name}: hand-written, tf.data (regspec's feed)", ms(t)),
                     (f"{name}: hand-written with regspec's settings (steps per execution, threads, eval batch, "
                      "no Grappler)", ms([m["epoch"] for m in got["tuned"]])),
                     (f"{name}: regspec train (default: steps_per_execution auto)", ms(b)),
                     (f"{name}: regspec train, steps_per_execution 1", ms(one_)),
                     (f"{name}: trained weights, default vs steps_per_execution 1",
                      f"at most {max(apart):.1e} apart (relative to each weight's largest)"),
                     (f"{name}: regspec / hand tf.data (min / median)",
                      f"{min(b) / min(t):.2f}x / {statistics.median(b) / statistics.median(t):.2f}x (target <= 0.7x)"),
                     (f"{name}: regspec / hand-written with regspec's settings (median of rounds' ratios)",
                      f"{statistics.median(b_ / u['epoch'] for b_, u in zip(b, got['tuned'])):.2f}x"),
                     (f"{name}: regspec / hand NumPy (min / median)",
                      f"{min(b) / min(a):.2f}x / {statistics.median(b) / statistics.median(a):.2f}x"),
                     (f"{name}: whole run, {epochs} epochs: hand tf.data / regspec train (min)",
                      f"{min(tw):.2f} s / {min(bw):.2f} s ({min(bw) / min(tw):.2f}x; regspec also saves the model, "
                      "evaluates both splits and draws the figures)"),
                     (f"{name}: whole run, median of rounds' ratios",
                      f"{statistics.median(b_ / t_ for b_, t_ in zip(bw, tw)):.2f}x"),
                     (f"{name}: whole run by round: hand tf.data / as the articles / regspec",
                      "  ".join(f"{t_:.2f}/{a_:.2f}/{b_:.2f}" for t_, a_, b_ in zip(tw, aw, bw)) + " s"),
                     (f"{name}: whole run: hand tf.data as the articles (also evaluates the train split and "
                      "plots the history) / regspec train (min)",
                      f"{min(aw):.2f} s / {min(bw):.2f} s ({min(bw) / min(aw):.2f}x; median of rounds' ratios "
                      f"{statistics.median(b_ / a_ for b_, a_ in zip(bw, aw)):.2f}x)"),
                     (f"{name}: importing TensorFlow, as a script / through regspec (median)",
                      f"{statistics.median(m['import'] for m in got['tfdata']):.2f} s / "
                      f"{statistics.median(m['import'] for m in got['ours']):.2f} s"),
                     (f"{name}: whole process, Python started to exit: hand tf.data script / as the articles / "
                      "`regspec compile --train` (median)", "  ".join(
                          f"{statistics.median(m['process'] for m in got[kind]):.2f} s"
                          for kind in ("tfdata", "articles", "cli"))),
                     (f"{name}: whole process by round: hand tf.data / as the articles / regspec compile --train",
                      "  ".join(f"{t_['process']:.2f}/{a_['process']:.2f}/{c_['process']:.2f}"
                                for t_, a_, c_ in zip(got["tfdata"], got["articles"], got["cli"])) + " s"),
                     (f"{name}: whole process, regspec compile --train / hand tf.data (min / median of rounds' ratios)",
                      f"{min(m['process'] for m in got['cli']) / min(m['process'] for m in got['tfdata']):.2f}x / "
                      f"{statistics.median(c_['process'] / t_['process'] for c_, t_ in zip(got['cli'], got['tfdata'])):.2f}x"
                      " (target <= 0.7x)"),
                     (f"{name}: whole process, regspec compile --train / as the articles (min / median of rounds' ratios)",
                      f"{min(m['process'] for m in got['cli']) / min(m['process'] for m in got['articles']):.2f}x / "
                      f"{statistics.median(c_['process'] / a_['process'] for c_, a_ in zip(got['cli'], got['articles'])):.2f}x"),
                     (f"{name}: regspec's first epoch / whole run, Grappler on (median)",
                      f"{statistics.median(m['first'] for m in got['ours_grappler']):.2f} s / "
                      f"{statistics.median(m['whole'] for m in got['ours_grappler']):.2f} s; default "
                      f"{statistics.median(m['first'] for m in got['ours']):.2f} s / {statistics.median(bw):.2f} s "
                      f"(Grappler {'off' if got['ours'][0]['grappler'] is False else 'on'})")]
    report("per-epoch time, steady state (min / median over rounds; each run a fresh process)", rows)
