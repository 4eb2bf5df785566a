"""This tree against an earlier revision: spec-only cold start and model build time.

    python -m bench.bench_against REV [--rounds 9]

For refactors that must not make anything slower. REV is checked out into a temporary git
worktree; both trees run as whole processes, interleaved round by round so machine noise hits
both alike, each with ``PYTHONPATH`` pointing at its own tree and its own schema cache:
- `regspec validate specs/` (every spec and sweep file), the schema cache warm;
- building ResNet50 and model5 from their specs (in-process time, TensorFlow already imported).
Reported: min and median of each, and this tree's as a ratio of REV's.
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

BUILD = """
import time, keras
from regspec.api import load
from regspec.backend.keras.build import build_model
for spec in ("specs/applications/resnet50.yaml", "specs/model5.yaml"):
    load(spec)  # warm: the language's classes
started = time.perf_counter()
for spec in ("specs/applications/resnet50.yaml", "specs/model5.yaml"):
    build_model(load(spec).program)
print(time.perf_counter() - started)
"""


def _validate(tree: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "regspec", "validate", "specs"], cwd=tree, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def _build(tree: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", BUILD], cwd=tree, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = os.path.join(tmp, "tree")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", old, args.rev], check=True)
        try:
            trees = {"this tree": str(ROOT), args.rev: old}
            envs = {name: {**os.environ, "PYTHONPATH": tree, "REGSPEC_CACHE_DIR": os.path.join(tmp, f"cache{i}"),
                           "TF_CPP_MIN_LOG_LEVEL": "3"} for i, (name, tree) in enumerate(trees.items())}
            for name, tree in trees.items():
                subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(tree, "regspec")], check=True)
                _validate(tree, envs[name])  # fills its schema cache
            times: dict[str, dict[str, list[float]]] = {n: {"validate specs/": [], "build": []} for n in trees}
            for _ in range(args.rounds):
                for name, tree in trees.items():
                    times[name]["validate specs/"].append(_validate(tree, envs[name]))
                    times[name]["build"].append(_build(tree, envs[name]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", old], check=False)
    for what in ("validate specs/", "build"):
        rows = []
        base = times[args.rev][what]
        for name in trees:
            got = times[name][what]
            ratio = f"{min(got) / min(base):.2f}x / {statistics.median(got) / statistics.median(base):.2f}x"
            rows.append((name, f"min {min(got):.3f} s, median {statistics.median(got):.3f} s  (vs {args.rev}: {ratio})"))
        report(f"{what} ({args.rounds} rounds, interleaved)", rows)


if __name__ == "__main__":
    main()
