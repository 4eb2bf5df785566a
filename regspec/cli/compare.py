"""`regspec compare RUNS...`: the articles' results table over run directories."""

from __future__ import annotations

import click

from regspec.cli.edge import EXIT_BAD_INPUT, run


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]), default="text")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write an overlay plot of the runs' curves.")
@click.option("--mean-over", "mean_over", default=None, metavar="PATH",
              help="Group runs that differ only at PATH (e.g. training.seed): mean ± standard deviation.")
def command(runs: tuple[str, ...], fmt: str, plot: str | None, mean_over: str | None) -> None:
    """Print the results table of several run directories (train/test loss and accuracy)."""

    def go() -> int:
        from regspec.report.plots import plot_overlay
        from regspec.report.runs import RunDirError, expand_runs, format_grouped, format_table, read_run
        from regspec.sweep.store import StoreError

        summaries = []
        try:
            found = expand_runs(runs)
        except StoreError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_BAD_INPUT
        for r in found:
            try:
                summaries.append(read_run(r))
            except RunDirError as exc:
                click.echo(f"error: {exc}", err=True)
                return EXIT_BAD_INPUT
        try:
            text = format_grouped(summaries, mean_over, fmt) if mean_over else format_table(summaries, fmt)
        except RunDirError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_BAD_INPUT
        click.echo(text, nl=False)
        if plot:
            plot_overlay(summaries, plot)
            click.echo(f"wrote {plot}", err=True)
        return 0

    run(go)
