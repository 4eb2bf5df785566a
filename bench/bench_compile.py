"""Compile and run speed (issue 3).

    python -m bench.bench_compile [--images 640] [--steps 12]

1. spec -> built model5 vs the same model built by hand (and Keras' model_from_json);
2. images/s of regspec's input pipeline vs the articles' ImageDataGenerator.flow_from_directory,
   on a generated image folder with the articles' augmentation;
3. model5 training throughput fed by regspec's pipeline vs fed from in-memory tensors.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, report, timeit


def make_folder(root: Path, n: int, size: int = 150) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", n), ("test", n // 4)):
        for ci, c in enumerate(("African", "Asian")):
            d = root / split / c
            d.mkdir(parents=True, exist_ok=True)
            for i in range(count // 2):
                pixels = np.clip(rng.normal(80 + 90 * ci, 40, (size, size, 3)), 0, 255).astype("uint8")
                Image.fromarray(pixels).save(d / f"{i}.jpg", quality=90)
    return root


def model_by_hand(k):
    L, R = k.layers, k.regularizers
    m = k.Sequential()
    m.add(k.Input(shape=(150, 150, 3)))
    m.add(L.Conv2D(64, (3, 3), activation="relu"))
    m.add(L.MaxPooling2D(pool_size=(2, 2)))
    m.add(L.Conv2D(32, (3, 3), activation="relu", kernel_regularizer=R.l1(0.001)))
    m.add(L.MaxPooling2D(pool_size=(2, 2)))
    m.add(L.Conv2D(16, (3, 3), activation="relu"))
    m.add(L.MaxPooling2D(pool_size=(2, 2)))
    m.add(L.Flatten())
    m.add(L.Dense(126, activation="relu"))
    m.add(L.Dense(52, activation="relu", kernel_regularizer=R.l1(0.001)))
    m.add(L.Dense(1, activation="sigmoid"))
    return m


def build_times(k) -> list[tuple[str, str]]:
    from regspec.api import load
    from regspec.backend.keras.build import build_model

    spec_path = ROOT / "specs" / "model5.yaml"
    build_model(load(spec_path).program)
    model_by_hand(k)
    hand = timeit(lambda: model_by_hand(k), repeat=7, number=3)
    ours_built = timeit(lambda: build_model(load(spec_path).program), repeat=7, number=3)
    spec = load(spec_path)
    ours_only = timeit(lambda: build_model(spec.program), repeat=7, number=3)
    text = model_by_hand(k).to_json()
    from_json = timeit(lambda: k.models.model_from_json(text), repeat=7, number=3)
    return [
        ("model5 by hand", f"{hand * 1000:.1f} ms"),
        ("regspec: read 3-file extends chain + validate + build", f"{ours_built * 1000:.1f} ms ({ours_built / hand:.2f}x)"),
        ("regspec: build from a loaded spec", f"{ours_only * 1000:.1f} ms ({ours_only / hand:.2f}x; target <= 1.05x)"),
        ("keras model_from_json", f"{from_json * 1000:.1f} ms ({from_json / hand:.2f}x)"),
    ]


def spec_for(folder: Path, steps: int | None = None):
    from regspec.api import load

    overrides = {"data.train": str(folder / "train"), "data.test": str(folder / "test")}
    if steps:
        overrides["training.steps_per_epoch"] = steps
    return load(ROOT / "specs" / "model5.yaml").with_overrides(overrides)


def pipeline_rates(folder: Path, n: int) -> list[tuple[str, str]]:
    import tensorflow as tf
    from tensorflow.keras.preprocessing.image import ImageDataGenerator  # the articles' API

    from regspec.backend.keras.data import load_data

    batches = n // 64
    datasets = load_data(spec_for(folder).program, 128)
    ds = datasets.train

    def epoch(it):
        count = 0
        for x, _ in it.take(batches):
            count += int(tf.shape(x)[0])
        return count

    start = time.perf_counter()
    first = epoch(ds)
    first_rate = first / (time.perf_counter() - start)
    start = time.perf_counter()
    total = sum(epoch(ds) for _ in range(3))
    ours = total / (time.perf_counter() - start)

    gen = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
    flow = gen.flow_from_directory(str(folder / "train"), target_size=(150, 150), batch_size=64, class_mode="binary")
    start = time.perf_counter()
    seen = 0
    for _ in range(batches * 3):
        x, _ = next(flow)
        seen += len(x)
    theirs = seen / (time.perf_counter() - start)
    return [
        ("regspec pipeline, first epoch (decode + cache)", f"{first_rate:,.0f} images/s"),
        ("regspec pipeline, later epochs", f"{ours:,.0f} images/s"),
        ("ImageDataGenerator.flow_from_directory", f"{theirs:,.0f} images/s"),
        ("ratio (later epochs)", f"{ours / theirs:.2f}x (target >= 1.7x)"),
    ]


def training_throughput(folder: Path, steps: int) -> list[tuple[str, str]]:
    import tensorflow as tf

    from regspec.backend.keras.build import compile_model
    from regspec.backend.keras.data import load_data

    spec = spec_for(folder, steps)
    model = compile_model(spec.program)
    data = load_data(spec.program, 128)
    model.fit(data.train, epochs=1, steps_per_epoch=2, verbose=0)  # warm up, fill the cache
    start = time.perf_counter()
    model.fit(data.train, epochs=1, steps_per_epoch=steps, verbose=0)
    ours = steps * 64 / (time.perf_counter() - start)

    model2 = compile_model(spec.program)
    x = tf.constant(np.random.default_rng(0).random((64 * 4, 150, 150, 3), dtype="float32"))
    y = tf.constant(np.zeros((64 * 4, 1), dtype="float32"))
    mem = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).repeat().prefetch(2)
    model2.fit(mem, epochs=1, steps_per_epoch=2, verbose=0)
    start = time.perf_counter()
    model2.fit(mem, epochs=1, steps_per_epoch=steps, verbose=0)
    ceiling = steps * 64 / (time.perf_counter() - start)
    return [
        ("model5 fed by regspec's pipeline (with augmentation)", f"{ours:,.1f} images/s"),
        ("model5 fed from in-memory tensors", f"{ceiling:,.1f} images/s"),
        ("ratio", f"{ours / ceiling:.2f}x (target >= 0.9x)"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=640)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from regspec.backend.keras.env import keras

    k = keras()
    report("spec -> model", build_times(k))
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp), args.images)
        report("input pipeline", pipeline_rates(folder, args.images))
        report("training throughput", training_throughput(folder, args.steps))
