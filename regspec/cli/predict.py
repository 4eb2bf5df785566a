"""`regspec predict RUN DATA... [-o FILE] [--format csv|json]`: apply a trained run to new data."""

from __future__ import annotations

import click

from regspec.cli.edge import emit, run


@click.command("predict")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the predictions ('-': standard output).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def command(run_dir: str, data: tuple[str, ...], output: str, fmt: str) -> None:
    """Predict with a trained run: one row per example, the predicted class (or value) and the
    probabilities per class. DATA is a CSV (columns named as in training), an .npz (array x),
    or, for a run trained on image folders, image files or folders. The run's preprocessing
    (standardization, rescaling, image size) is applied as in training."""

    def go() -> None:
        from regspec.serving.apply import predict

        emit(predict(run_dir, list(data)).render(fmt), output)

    run(go)
