"""`regspec report RUNS_OR_SWEEP... -o report.html`: one self-contained HTML page of results."""

from __future__ import annotations

import os

import click

from regspec.cli.edge import run


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(dir_okay=False))
@click.option("--mean-over", "mean_over", default=None, metavar="PATH",
              help="Group runs that differ only at PATH (e.g. training.seed; several: a,b).")
@click.option("--baseline", default=None, metavar="GROUP",
              help="With --mean-over: confidence intervals and verdicts against this group; specs are diffed against it.")
@click.option("--title", default="regspec report", show_default=True)
def command(runs: tuple[str, ...], output: str, mean_over: str | None, baseline: str | None, title: str) -> None:
    """Write one HTML file (no server, no network) with the results table, confidence intervals,
    curves, weight histograms and each spec's differences from the baseline."""
    if baseline and not mean_over:
        raise click.UsageError("--baseline needs --mean-over (the runs to pair, e.g. training.seed)")

    def go() -> int:
        from regspec.files import write_text
        from regspec.report.html import is_summary, report_html
        from regspec.report.runs import expand_runs
        from regspec.rundir.read import read_run

        over, base = mean_over, baseline
        if over is None and len(runs) == 1:
            over, base = _sweep_seeds(runs[0])  # a sweep with a seed axis: its intervals, as `sweep` prints them
        summaries = [read_run(r) for r in expand_runs(runs)]
        if not is_summary(summaries):  # a summary page links figures: they are drawn when asked for
            _draw_missing([s.run_dir for s in summaries])
        page = report_html(summaries, mean_over=over, baseline=base, title=title,
                           page_dir=os.path.dirname(os.path.abspath(output)))
        write_text(output, page)
        click.echo(f"wrote {output} ({len(summaries)} runs, {len(page) // 1024} KB)", err=True)
        return 0

    run(go)


def _draw_missing(run_dirs: list[str]) -> None:
    """Draw the figures the runs lack (a sweep leaves its trials' weight histograms to be drawn
    when asked for: ~0.3 s a run), with a bar when there are many."""
    import sys

    from regspec.rundir.figures import draw_missing_figures, missing_figures

    todo = [d for d in run_dirs if missing_figures(d)]
    with click.progressbar(todo, label=f"drawing the figures of {len(todo)} runs", file=sys.stderr,
                           hidden=len(todo) < 5) as bar:
        for run_dir in bar:
            draw_missing_figures(run_dir)


def _sweep_seeds(folder: str) -> tuple[str | None, str | None]:
    """(training.seed, the first trial's name) for a sweep folder whose sweep has a seed axis
    beside others; (None, None) otherwise."""
    from regspec.diagnostics import RegspecError
    from regspec.report.sweep import SEED
    from regspec.rundir import layout
    from regspec.sweep.plan import read_sweep
    from regspec.sweep.store import sweep_rows

    if not (layout.is_sweep_dir(folder) and os.path.isfile(layout.path(folder, layout.SWEEP_FILE))):
        return None, None
    try:
        axes = list(read_sweep(layout.path(folder, layout.SWEEP_FILE))[1].axes)
        rows = sweep_rows(folder)
    except (RegspecError, OSError):
        return None, None
    if SEED not in axes or len(axes) < 2 or not rows:
        return None, None
    return SEED, rows[0].name
