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
    baseline_group,
    differences_table,
    group_runs,
    grouped_table,
    table_rows,
    weights_tables,
)
from regspec.rundir import layout
from regspec.rundir.figures import RUN_FIGURES
from regspec.rundir.read import RunSummary, accuracy_key

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

# Marks the page as loaded, counts the images that decoded and measures the widest table: what a
# browser test reads back.
SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var svgs = document.querySelectorAll("svg").length;
  document.body.setAttribute("data-images", ok + "/" + images.length);
  document.body.setAttribute("data-svgs", String(svgs));
  var widest = 0;
  document.querySelectorAll("table").forEach(function (t) { widest = Math.max(widest, t.offsetWidth); });
  document.body.setAttribute("data-widest-table", String(widest));
  document.body.setAttribute("data-body-width", String(document.body.clientWidth));
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


#: More runs than this and the page is a summary: figures are linked, not inlined (a sweep of
#: hundreds of trials made a page of a thousand images), the overlay shows the best runs only,
#: and spec differences are listed for the first runs.
INLINE_RUNS = 24
OVERLAY_RUNS = 10


def is_summary(runs: list[RunSummary]) -> bool:
    return len(runs) > INLINE_RUNS


def _best(runs: list[RunSummary], n: int) -> list[RunSummary]:
    """The n runs with the best test accuracy (or, without one, the lowest test loss)."""
    def score(r: RunSummary) -> float:
        acc = accuracy_key(r.test)
        if acc is not None:
            return -r.test[acc]
        return r.test.get("loss", float("inf"))

    return sorted(runs, key=lambda r: (score(r) != score(r), score(r)))[:n]  # NaN last


def _figure_links(runs: list[RunSummary], page_dir: str) -> str:
    """A row per run with links to its figures, relative to the page (drawn ones only)."""
    rows = []
    for r in runs:
        links = []
        for f in RUN_FIGURES:
            path = os.path.join(r.run_dir, f)
            if os.path.isfile(path):
                href = html.escape(os.path.relpath(path, page_dir).replace(os.sep, "/"), quote=True)
                links.append(f'<a href="{href}">{html.escape(f)}</a>')
        rows.append(f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(r.status)}</td><td>{' '.join(links) or '-'}</td></tr>")
    return ("<table>\n<tr><th>run</th><th>status</th><th>figures</th></tr>\n" + "\n".join(rows) + "\n</table>\n"
            '<p class="note">a figure not drawn yet: <code>regspec report RUN_DIR</code> draws it</p>')


def report_html(runs: list[RunSummary], *, mean_over: str | None = None, baseline: str | None = None,
                title: str = "regspec report", page_dir: str = ".") -> str:
    """The page; ``page_dir``: where it is written (a summary page links figures relative to it)."""
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
            base_run = baseline_group(group_runs(runs, mean_over), baseline)[1][0]
    tables, _ = weights_tables(runs)
    if tables:
        body.append("<h2>Weights</h2>")
        for w_title, w_head, w_rows in tables:
            body += [f"<h3>{html.escape(w_title)}</h3>", _table(w_head, w_rows)]
    summary = is_summary(runs)
    if any(r.history for r in runs):
        if summary:
            body += [f"<h2>Curves, the {OVERLAY_RUNS} best of {len(runs)} runs (by test accuracy, else loss)</h2>",
                     _overlay_svg(_best(runs, OVERLAY_RUNS))]
        else:
            body += ["<h2>Curves, all runs</h2>", _overlay_svg(runs)]
    if summary:
        body += ["<h2>Figures of each run</h2>", _figure_links(runs, page_dir)]
    else:
        for r in runs:
            figures = [_png(os.path.join(r.run_dir, f), f"{r.name} {f}") for f in RUN_FIGURES
                       if os.path.isfile(os.path.join(r.run_dir, f))]
            if figures:
                body += [f"<h2>{html.escape(r.name)}</h2>", *figures]
    if base_run is not None and len(runs) > 1:
        shown = [base_run] + [r for r in runs if r is not base_run][:INLINE_RUNS - 1]
        body += [f"<h2>Spec differences from {html.escape(base_run.name)}</h2>", _differences_from(base_run, shown)]
        if len(shown) < len(runs):
            body.append(f'<p class="note">the first {len(shown) - 1} of {len(runs) - 1}; '
                        "<code>regspec diff</code> compares any two</p>")
    page = io.StringIO()
    page.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    page.write(f"<title>{html.escape(title)}</title><style>{STYLE}</style><script>{SCRIPT}</script></head>\n<body>\n")
    page.write("\n".join(body))
    page.write("\n</body></html>\n")
    return page.getvalue()
