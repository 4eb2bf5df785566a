"""Numbers from CSV cells, fast, with the position of the first bad cell when there is one."""

from __future__ import annotations

import math

import numpy as np


def numbers(rows: list[list[str]], columns: list[int]) -> tuple[np.ndarray, tuple[int, int, str] | None]:
    """The cells of ``columns`` as a float32 matrix, and ``(row, column, problem)`` for the first
    cell that is not a finite number (problem: "not a number" or "not finite"), else None.

    NumPy converts the whole table at once (as ``float()`` would, cell by cell); only a table
    that fails is walked cell by cell, to name the cell.
    """
    width = len(rows[0]) if rows else 0
    whole = columns == list(range(width))  # every column, in order: no copy of the cells
    try:
        cells = rows if whole else [[row[c] for c in columns] for row in rows]
        table = np.array(cells, dtype="float64").reshape(len(rows), len(columns))
    except ValueError:
        for r, row in enumerate(rows):
            for c in columns:
                try:
                    v = float(row[c])
                except ValueError:
                    return np.empty((0, len(columns)), "float32"), (r, c, "not a number")
                if not math.isfinite(v):
                    return np.empty((0, len(columns)), "float32"), (r, c, "not finite")
        raise  # pragma: no cover - NumPy refused a table float() accepts
    bad = ~np.isfinite(table)
    if bad.any():
        r, j = (int(i) for i in np.argwhere(bad)[0])
        return np.empty((0, len(columns)), "float32"), (r, columns[j], "not finite")
    return table.astype("float32"), None
