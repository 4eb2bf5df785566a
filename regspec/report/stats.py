"""Is a difference between two groups of runs real? A 95% confidence interval over seeds.

When both groups hold runs of the same seeds, the runs are paired by seed and the interval is
the paired t interval of the differences (seeds share the data split and the initial weights,
so pairing removes most of the seed-to-seed spread). Otherwise Welch's t interval on the two
means. The verdict reads the interval: it excludes 0 -> "better" or "worse" (lower is better for
losses, higher for accuracies); it contains 0 -> "no detectable difference".
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    metric: str
    group: str
    baseline: str
    difference: float | None  # group minus baseline
    low: float | None
    high: float | None
    runs: tuple[int, int]
    method: str  # "paired t" | "Welch t" | "too few runs"
    verdict: str

    def interval(self) -> str:
        if self.difference is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.difference:+.4f}"
        return f"{self.difference:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def _t(df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + LEVEL / 2, df))


def difference(metric: str, group: str, baseline: str, values: dict[object, float], base: dict[object, float],
               *, lower_is_better: bool | None) -> Difference:
    """``values``/``base``: metric value by seed (any hashable; None when unknown).
    ``lower_is_better=None``: a figure that is neither (the penalty): "higher" or "lower"."""
    a, b = list(values.values()), list(base.values())
    n = (len(a), len(b))
    if not a or not b:
        return Difference(metric, group, baseline, None, None, None, n, "too few runs", "no runs to compare")
    diff = statistics.mean(a) - statistics.mean(b)
    paired = set(values) == set(base) and None not in values and len(a) >= 2
    if paired:
        d = [values[s] - base[s] for s in values]
        half = _t(len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d))
        method = "paired t"
    elif len(a) >= 2 and len(b) >= 2:
        va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
        se = math.sqrt(va + vb)
        if se == 0:
            half, method = 0.0, "Welch t"
        else:
            df = (va + vb) ** 2 / ((va ** 2 / (len(a) - 1) if va else 0) + (vb ** 2 / (len(b) - 1) if vb else 0) or 1e-300)
            half, method = _t(df) * se, "Welch t"
    else:
        return Difference(metric, group, baseline, diff, None, None, n, "too few runs",
                          "too few runs (2 per group at least)")
    low, high = diff - half, diff + half
    if low <= 0 <= high:
        verdict = "no detectable difference"
    elif lower_is_better is None:
        verdict = "higher" if diff > 0 else "lower"
    else:
        improved = diff < 0 if lower_is_better else diff > 0
        verdict = "better" if improved else "worse"
    return Difference(metric, group, baseline, diff, low, high, n, method, verdict)
