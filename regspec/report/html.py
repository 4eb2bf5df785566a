"""One self-contained HTML page for a set of runs: results table, confidence intervals and
verdicts, curves, weight histograms and sparsity, and each spec's differences from the baseline.

Images are inlined (PNG as data URIs, the overlay as inline SVG); there is no script from
elsewhere, no style sheet, no font to fetch: the file opens anywhere, offline. Everything taken
from run directories is escaped. No TensorFlow.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import UTC, datetime
from typing import Any

from regspec.report.runs import (
    baseline_differences,
    differences_table,
    grouped_table,
    table_rows,
    weights_table,
)
from regspec.rundir import layout
from regspec.rundir.figures import RUN_FIGURES
from regspec.rundir.read import RunSummary

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1300px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
td.better { background: #e3f6e3; } td.worse { background: #fbe3e3; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.5rem; font-size: 0.8rem; overflow-x: auto; }
.note { color: #666; font-size: 0.85rem; }
"""

# Marks the page as loaded and counts the images that decoded: what a browser test reads back.
SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var svgs = document.querySelectorAll("svg").length;
  document.body.setAttribute("data-images", ok + "/" + images.length);
  document.body.setAttribute("data-svgs", String(svgs));
  document.body.setAttribute("data-loaded", "yes");
});
"""


def _table(head: list[str], rows: list[list[str]], verdict_column: int | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = f' class="{cell}"' if i == verdict_column and cell in ("better", "worse") else ""
            cells.append(f"<td{cls}>{html.escape(str(cell))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _png(path: str, alt: str) -> str:
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _overlay_svg(runs: list[RunSummary]) -> str:
    import tempfile

    from regspec.rundir.plots import plot_overlay

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "overlay.svg")
        plot_overlay(runs, path)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    return text[text.index("<svg"):]  # inline: without the XML prolog and doctype


def _spec(run: RunSummary) -> dict[str, Any]:
    from regspec.frontend.source import read_file

    data = dict(read_file(layout.path(run.run_dir, layout.SPEC)).data)
    data.pop("name", None)
    data.pop("description", None)
    return data


def _differences_from(baseline: RunSummary, runs: list[RunSummary]) -> str:
    from regspec.diagnostics import SpecError
    from regspec.report.diff import diff, format_diff

    try:
        base = _spec(baseline)
    except (OSError, SpecError):
        return '<p class="note">the baseline run has no readable spec.yaml</p>'
    parts = []
    for r in runs:
        if r.run_dir == baseline.run_dir:
            continue
        try:
            changes = diff(base, _spec(r))
        except (OSError, SpecError):
            text = "(no readable spec.yaml)"
        else:
            text = format_diff(changes) if changes else "(the same model; only the name or seed differs)"
        parts.append(f"<h3>{html.escape(r.name)}</h3>\n<pre>{html.escape(text)}</pre>")
    return "\n".join(parts)


def report_html(runs: list[RunSummary], *, mean_over: str | None = None, baseline: str | None = None,
                title: str = "regspec report") -> str:
    from regspec.version import __version__

    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="note">{len(runs)} runs; made by regspec {__version__} on '
            f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>"]
    head, rows = table_rows(runs)
    body += ["<h2>Results</h2>", _table(head, rows)]
    base_run = runs[0] if runs else None
    if mean_over:
        g_head, g_rows = grouped_table(runs, mean_over)
        body += [f"<h2>Mean ± standard deviation over {html.escape(mean_over)}</h2>", _table(g_head, g_rows)]
        if baseline:
            diffs = baseline_differences(runs, mean_over, baseline)
            d_head, d_rows = differences_table(diffs)
            shown = diffs[0].baseline if diffs else baseline  # the group's name, when a run named it
            body += [f"<h2>Against {html.escape(shown)}: 95% confidence intervals</h2>",
                     '<p class="note">difference = group minus baseline; paired by the value at '
                     f"{html.escape(mean_over)} when both groups have the same values, else Welch's t</p>",
                     _table(d_head, d_rows, verdict_column=len(d_head) - 1)]
            base_run = next((r for r in runs if r.name == baseline or r.name.startswith(baseline)), base_run)
    w_head, w_rows, zero = weights_table(runs)
    if w_rows:
        body += ["<h2>Weights</h2>", f'<p class="note">near 0: |w| &lt; {zero:g}</p>' if zero else "",
                 _table(w_head, w_rows)]
    if any(r.history for r in runs):
        body += ["<h2>Curves, all runs</h2>", _overlay_svg(runs)]
    for r in runs:
        figures = [_png(os.path.join(r.run_dir, f), f"{r.name} {f}") for f in RUN_FIGURES
                   if os.path.isfile(os.path.join(r.run_dir, f))]
        if figures:
            body += [f"<h2>{html.escape(r.name)}</h2>", *figures]
    if base_run is not None and len(runs) > 1:
        body += [f"<h2>Spec differences from {html.escape(base_run.name)}</h2>", _differences_from(base_run, runs)]
    page = io.StringIO()
    page.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    page.write(f"<title>{html.escape(title)}</title><style>{STYLE}</style><script>{SCRIPT}</script></head>\n<body>\n")
    page.write("\n".join(body))
    page.write("\n</body></html>\n")
    return page.getvalue()
