"""Spec-only cold start (issue 14): `regspec validate` of one file vs importing its dependencies.

    python -m bench.bench_cold_start [--rounds 15]

Whole processes, interleaved round by round so machine noise hits every variant alike:
- anchor: `python -c "import pydantic, yaml, click"` (the dependencies validate needs: pydantic,
  the YAML parser regspec reads with, the CLI library);
- the same importing pydantic's ``BaseModel``: `import pydantic` alone is lazy and loads none of
  the model machinery any pydantic program uses;
- `regspec validate specs/iris/base.yaml` with the per-user schema cache warm;
- the same with the cache off (REGSPEC_NO_CACHE=1), as the very first run on a machine is;
- `python -c pass`, the interpreter alone.
Reported: min and median wall time, and each as a ratio of the anchor.

regspec's modules are byte-compiled first, as `pip install` does: with PYTHONDONTWRITEBYTECODE
set (as on some CI machines) every run would otherwise compile them from source again.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    spec = str(ROOT / "specs" / "iris" / "base.yaml")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "regspec")], check=True)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "REGSPEC_CACHE_DIR": cache}
        subprocess.run([sys.executable, "-m", "regspec", "validate", spec], env=env, check=True, capture_output=True)
        variants = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "import pydantic, yaml, click (anchor)": ([sys.executable, "-c", "import pydantic, yaml, click"], env),
            "from pydantic import BaseModel; import yaml, click": (
                [sys.executable, "-c", "from pydantic import BaseModel; import yaml, click"], env),
            "regspec validate, schema cache warm": ([sys.executable, "-m", "regspec", "validate", spec], env),
            "regspec validate, cache off": ([sys.executable, "-m", "regspec", "validate", spec],
                                            {**env, "REGSPEC_NO_CACHE": "1"}),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (cmd, run_env) in variants.items():
                start = time.perf_counter()
                subprocess.run(cmd, env=run_env, check=True, capture_output=True, cwd=ROOT)
                times[name].append(time.perf_counter() - start)
    anchor = times["import pydantic, yaml, click (anchor)"]
    models = times["from pydantic import BaseModel; import yaml, click"]
    rows = []
    for name, ts in times.items():
        rows.append((name, f"min {min(ts) * 1000:6.0f} ms  median {statistics.median(ts) * 1000:6.0f} ms  "
                           f"({min(ts) / min(anchor):.2f}x / {statistics.median(ts) / statistics.median(anchor):.2f}x "
                           f"the anchor, {min(ts) / min(models):.2f}x / "
                           f"{statistics.median(ts) / statistics.median(models):.2f}x with BaseModel)"))
    report(f"one-file validate, whole processes ({args.rounds} interleaved rounds)", rows)


if __name__ == "__main__":
    main()
