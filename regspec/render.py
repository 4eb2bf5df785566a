"""Tables as text, markdown or CSV: one renderer for every command that prints rows."""

from __future__ import annotations

import csv
import io

from regspec.diagnostics import safe


def render_table(head: list[str], rows: list[list[str]], fmt: str) -> str:
    head = [safe(h, 120) for h in head]  # run.json names are user content, in rows and headers
    rows = [[safe(c, 120) for c in r] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)
        return buf.getvalue()
    if fmt == "markdown":
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]) + "\n"
