"""`regspec evaluate RUN DATA... [--label COLUMN] [--format ...]`: a run's loss and metrics on new labelled data."""

from __future__ import annotations

import click

from regspec.cli.edge import emit, run


@click.command("evaluate")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("--label", "label_column", default=None, metavar="COLUMN",
              help="The CSV column holding the labels (default: the one the run was trained with).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]), default="text", show_default=True)
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the table ('-': standard output).")
def command(run_dir: str, data: tuple[str, ...], label_column: str | None, fmt: str, output: str) -> None:
    """Evaluate a trained run on new labelled data: a CSV with a label column, an .npz (x, y),
    or an image folder with one subfolder per class. Labels are class names of the run (or
    class ids); the table shows the run's own test split beside."""

    def go() -> None:
        from regspec.serving.apply import evaluate, format_evaluation

        emit(format_evaluation(evaluate(run_dir, list(data), label_column), fmt), output)

    run(go)
