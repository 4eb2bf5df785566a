"""Spec-side speed (issue 2): validate over specs/, reading vs a bare ruamel parse, specs/s.

    python -m bench.bench_spec
"""

from __future__ import annotations

import subprocess
import sys
import time

from ruamel.yaml import YAML

from bench.common import ROOT, report, timeit


def validate_all_specs() -> tuple[float, float, int]:
    files = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "specs").rglob("*.yaml"))]
    walls = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "regspec", "validate", *files], cwd=ROOT, check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pydantic, ruamel.yaml, click"], check=True)
    floor = time.perf_counter() - start
    return sorted(walls)[2], floor, len(files)


def reader_vs_ruamel() -> tuple[float, float]:
    from regspec.api import load
    from regspec.frontend import merge as loader

    path = ROOT / "bench" / "data" / "model5_standalone.yaml"
    text = path.read_text()
    load(path)  # build the validators once, as a long-lived process would have

    def uncached() -> None:
        loader._CACHE.clear()  # measure reading, not the per-process cache
        load(path)

    ours = timeit(uncached, repeat=7, number=50)
    yaml = YAML(typ="rt", pure=True)
    bare = timeit(lambda: yaml.load(text), repeat=7, number=50)
    return ours, bare


def specs_per_second() -> float:
    from regspec.api import from_document
    from regspec.frontend.source import read_file

    doc = read_file(ROOT / "bench" / "data" / "model5_standalone.yaml")
    n = 5000
    start = time.perf_counter()
    for _ in range(n):
        from_document(doc)
    return n / (time.perf_counter() - start)


if __name__ == "__main__":
    wall, floor, count = validate_all_specs()
    ours, bare = reader_vs_ruamel()
    rate = specs_per_second()
    report("spec side", [
        (f"regspec validate, all {count} files in specs/ (one process)", f"{wall:.3f} s (target < 0.3 s)"),
        ("  of which: python + import pydantic, ruamel, click", f"{floor:.3f} s"),
        ("load+validate+resolve model5 file", f"{ours * 1000:.2f} ms"),
        ("bare ruamel round-trip load, same file", f"{bare * 1000:.2f} ms"),
        ("ratio", f"{ours / bare:.2f}x (target <= 1.5x)"),
        ("in-memory model5 specs validated+resolved", f"{rate:,.0f}/s (target >= 5,000/s)"),
    ])
