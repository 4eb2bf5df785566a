"""CSV cells to numbers: the fast whole-table path agrees with float(), and the first bad cell is found."""

import random

import numpy as np

from regspec.tabular import numbers

BAD = {"abc": "not a number", "1,5": "not a number", "": "not a number", "nan": "not finite", "-inf": "not finite",
       "Infinity": "not finite", "1e999": "not finite"}
GOOD = ["1", " 2.5 ", "-3e-2", "1_000", "+4", "0x"]  # the last is bad too: float() refuses it


def test_the_first_bad_cell_is_named_in_reading_order():
    rng = random.Random(0)
    for _ in range(300):
        n, m = rng.randint(1, 6), rng.randint(1, 5)
        rows = [[rng.choice(GOOD[:-1]) for _ in range(m + 1)] for _ in range(n)]
        columns = rng.sample(range(m + 1), m)
        bad_cells = [(rng.randrange(n), rng.choice(columns)) for _ in range(rng.randint(0, 3))]
        for r, c in bad_cells:
            rows[r][c] = rng.choice(list(BAD) + ["0x"])
        table, bad = numbers(rows, columns)
        expected = None
        for r, row in enumerate(rows):
            for c in columns:
                try:
                    v = float(row[c])
                except ValueError:
                    expected = expected or (r, c, "not a number")
                    continue
                if not np.isfinite(v):
                    expected = expected or (r, c, "not finite")
        if expected is None:
            assert bad is None
            want = np.array([[float(row[c]) for c in columns] for row in rows], dtype="float32")
            np.testing.assert_array_equal(table, want)
        else:
            assert bad == expected
