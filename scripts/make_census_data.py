"""Write specs/wide_deep/census_train.csv and census_test.csv: a census-like table (string and
integer categorical columns, numeric columns, an income label), made up and small enough to ship.

    python scripts/make_census_data.py [--rows 800]

The test split holds a workclass, "never_worked", that the train split never does: the lookup
fitted on the train split must map it to its out-of-vocabulary id.
"""

from __future__ import annotations

import argparse
import csv
import math
import random

WORKCLASS = ["private", "self_employed", "government", "unpaid"]
EDUCATION = ["hs_grad", "some_college", "bachelors", "masters", "doctorate"]
HEADER = ["age", "hours_per_week", "workclass", "education", "region", "income"]


def rows(n: int, seed: int, workclasses: list[str]) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        age = rng.randint(18, 75)
        hours = rng.randint(10, 70)
        work = rng.choice(workclasses)
        edu = rng.randrange(len(EDUCATION))
        region = rng.randint(1, 6)  # an integer category code
        score = 0.04 * (age - 40) + 0.05 * (hours - 40) + 0.8 * edu + (0.6 if region in (2, 5) else -0.3)
        score += {"private": 0.2, "self_employed": 0.5, "government": 0.0}.get(work, -1.0) + rng.gauss(0, 1.0)
        high = 1 / (1 + math.exp(-(score - 1.5))) > 0.5
        out.append([str(age), str(hours), work, EDUCATION[edu], str(region), ">50k" if high else "<=50k"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=800)
    ap.add_argument("--out", default="specs/wide_deep")
    args = ap.parse_args()
    for name, n, seed, work in (("census_train.csv", args.rows, 0, WORKCLASS),
                                ("census_test.csv", args.rows // 4, 1, WORKCLASS + ["never_worked"])):
        with open(f"{args.out}/{name}", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            w.writerows(rows(n, seed, work))


if __name__ == "__main__":
    main()
