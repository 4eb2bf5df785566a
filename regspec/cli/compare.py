"""`regspec compare RUNS...`: the articles' results table over run directories."""

from __future__ import annotations

import click

from regspec.cli.edge import run


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]), default="text")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write an overlay plot of the runs' curves.")
@click.option("--mean-over", "mean_over", default=None, metavar="PATH",
              help="Group runs that differ only at PATH (e.g. training.seed; several: a,b): mean ± standard deviation.")
@click.option("--baseline", default=None, metavar="GROUP",
              help="With --mean-over: each group against this one (a group or run name), the difference in each "
                   "test metric with a 95% confidence interval over PATH and a verdict.")
@click.option("--weights", "show_weights", is_flag=True,
              help="Per layer and weight: L1 and L2 norms and the fraction of weights near zero, runs side by side.")
def command(runs: tuple[str, ...], fmt: str, plot: str | None, mean_over: str | None, baseline: str | None,
            show_weights: bool) -> None:
    """Print the results table of several run directories (train/test loss and accuracy)."""
    if baseline and not mean_over:
        raise click.UsageError("--baseline needs --mean-over (the runs to pair, e.g. training.seed)")

    def go() -> int:
        from regspec.report.runs import (
            baseline_differences,
            expand_runs,
            format_differences,
            format_grouped,
            format_table,
            format_weights,
        )
        from regspec.rundir.plots import plot_overlay
        from regspec.rundir.read import read_run

        summaries = [read_run(r) for r in expand_runs(runs)]
        if show_weights:
            text = format_weights(summaries, fmt)
        elif mean_over and baseline:
            grouped = format_grouped(summaries, mean_over, fmt)
            text = format_differences(baseline_differences(summaries, mean_over, baseline), fmt)
            text = text if fmt in ("json", "csv") else grouped + "\n" + text
        else:
            text = format_grouped(summaries, mean_over, fmt) if mean_over else format_table(summaries, fmt)
        click.echo(text, nl=False)
        if plot:
            plot_overlay(summaries, plot)
            click.echo(f"wrote {plot}", err=True)
        return 0

    run(go)
