"""Variants at scale (issues 14, 26): time per variant and peak memory, 10,000 to 50,000 variants,
against the floor any validated variant pays.

    python -m bench.bench_variants [--sizes 10000,25000,50000] [--rounds 3]

Each figure is a fresh process: load specs/model5.yaml, then either build the list
(`regspec.grid`) or iterate (`regspec.iter_grid`, keeping each variant's name only). The
anchor is the same process stopping after the load. Linear time means a constant time per
variant as the count grows; bounded memory means the iterating process' peak does not grow
with the count. The floor (issue 26) is pydantic alone validating one variant's merged data as
many times, in the same kind of process; each of ``--rounds`` rounds runs the floor and then
the variants, and the ratios are the median over rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from bench.common import ROOT, report

CODE = """
import json, resource, sys, time
import regspec
n, mode = int(sys.argv[1]), sys.argv[2]
base = regspec.load(sys.argv[3])
l1 = [round(1e-6 * (i + 1), 9) for i in range(n // 100)]
axes = {"layers.conv2.kernel_regularizer.l1": l1, "layers.fc2.dropout": [round(0.005 * i, 3) for i in range(100)]}
start = time.perf_counter()
if mode == "list":
    count = len(regspec.grid(base, axes))
elif mode == "iter":
    names = [v.name for v in regspec.iter_grid(base, axes)]
    count = len(names)
elif mode == "floor":
    from regspec.lang.model import SpecModel
    data = base.with_overrides({k: v[1] for k, v in axes.items()}).data
    start = time.perf_counter()
    for _ in range(n):
        SpecModel.model_validate(data)
    count = n
else:
    count = 0
elapsed = time.perf_counter() - start
print(json.dumps({"count": count, "seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(n: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CODE, str(n), mode, str(ROOT / "specs" / "model5.yaml")],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,25000,50000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    anchor = measure(100, "none")
    rows = [("process after loading the base spec (anchor)", f"peak {anchor['peak_mb']:.0f} MB")]
    ratios: dict[str, list[float]] = {"iter": [], "list": []}
    floors = []
    for _ in range(args.rounds):  # alternating, 10,000 each: a round's three runs see the same load
        floor = measure(10_000, "floor")["seconds"]
        floors.append(floor / 10_000)
        for mode in ratios:
            ratios[mode].append(measure(10_000, mode)["seconds"] / floor)

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f}x (rounds {min(values):.2f}-{max(values):.2f}x)"

    rows += [("pydantic alone, one variant's data, 10,000 times (the floor)",
              f"{statistics.median(floors) * 1e6:.0f} us each (median of {args.rounds} rounds)"),
             ("regspec.iter_grid, 10,000 variants / floor", f"{spread(ratios['iter'])} (target <= 1.5x)"),
             ("regspec.grid (a list), 10,000 variants / floor", spread(ratios["list"]))]
    for mode, label in (("list", "regspec.grid (a list)"), ("iter", "regspec.iter_grid (one at a time)")):
        for n in sizes:
            m = measure(n, mode)
            assert m["count"] == n
            rows.append((f"{label}, {n:,} variants",
                         f"{m['seconds']:.2f} s ({m['seconds'] / n * 1e6:.0f} us per variant), peak {m['peak_mb']:.0f} MB "
                         f"(+{(m['peak_mb'] - anchor['peak_mb']) * 1024 / n:.1f} KB per variant)"))
    report("variants of model5 at scale (each a fresh process)", rows)


if __name__ == "__main__":
    main()
