"""Graphs and blocks (issue 9).

    python -m bench.bench_graphs

1. `regspec summary` of the ResNet50 spec (a whole process, no TensorFlow) vs a process that
   imports Keras and builds keras.applications.ResNet50(weights=None);
2. in one process, after import: spec -> built ResNet50 (read, expand blocks, validate, resolve,
   lower, build) vs the Keras constructor, interleaved.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, report

SPEC = ROOT / "specs" / "applications" / "resnet50.yaml"


def whole_processes(rounds: int = 5) -> tuple[float, float]:
    summary, keras_build = [], []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for _ in range(rounds):  # interleaved, so drift hits both alike
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "regspec", "summary", str(SPEC)], check=True, capture_output=True)
        summary.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import keras; keras.applications.ResNet50(weights=None)"],
                       check=True, capture_output=True, env=env)
        keras_build.append(time.perf_counter() - start)
    return statistics.median(summary), statistics.median(keras_build)


def in_process(rounds: int = 7) -> tuple[float, float, float]:
    from regspec.api import load
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.env import keras
    from regspec.frontend import merge

    k = keras()
    k.applications.ResNet50(weights=None)  # warm both paths once
    build_model(load(SPEC).program)
    ours, ours_loaded, theirs = [], [], []
    for _ in range(rounds):
        merge._CACHE.clear()  # measure reading, not the per-process cache
        start = time.perf_counter()
        build_model(load(SPEC).program)
        ours.append(time.perf_counter() - start)
        spec = load(SPEC)
        start = time.perf_counter()
        build_model(spec.program)
        ours_loaded.append(time.perf_counter() - start)
        start = time.perf_counter()
        k.applications.ResNet50(weights=None)
        theirs.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(ours_loaded), statistics.median(theirs)


if __name__ == "__main__":
    summary, keras_build = whole_processes()
    ours, loaded, theirs = in_process()
    report("graphs: ResNet50 (25.6 M parameters, 177 layers)", [
        ("regspec summary resnet50.yaml (process, no TensorFlow)", f"{summary:.2f} s"),
        ("python -c 'import keras; ResNet50(weights=None)'", f"{keras_build:.2f} s ({keras_build / summary:.1f}x the summary)"),
        ("in process: read + validate + resolve + build", f"{ours:.3f} s ({ours / theirs:.2f}x; target <= 1.1x)"),
        ("in process: build from a loaded spec", f"{loaded:.3f} s ({loaded / theirs:.2f}x)"),
        ("in process: keras.applications.ResNet50(weights=None)", f"{theirs:.3f} s"),
    ])
