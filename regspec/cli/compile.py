"""`regspec compile SPEC [--train]`: build the Keras model; with --train, train and report it."""

from __future__ import annotations

import os
import sys

import click

from regspec.cli.edge import EXIT_DIVERGED, SET_OPTION, TRACK_OPTIONS, load_spec, run


@click.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--train", is_flag=True, help="Train, evaluate, and write a run directory.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@SET_OPTION
@click.option("--resume", is_flag=True, help="Continue this spec's interrupted training.")
@click.option("--restart", is_flag=True, help="Discard this spec's interrupted training and start again.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", "every_epoch", is_flag=True,
              help="Into a log or a pipe: a line for every epoch (else one every tenth of the epochs).")
@click.option("--weights-every-epoch", is_flag=True,
              help="Also record the weight statistics of every epoch (weights_history.jsonl).")
@TRACK_OPTIONS
def command(spec: str, train: bool, out: str, sets: tuple[str, ...], resume: bool, restart: bool, quiet: bool,
            every_epoch: bool, weights_every_epoch: bool, track: str | None, tracking_uri: str | None) -> None:
    """Build the Keras model (and with --train, train and report it)."""

    def go() -> int:
        if track and not train:
            raise click.UsageError("--track needs --train (it logs a training's results)")
        s = load_spec(spec, sets)
        if train:
            from regspec.runtime.train import train as run_train

            # Keras' bar redraws with ANSI codes: into a log or a pipe, a line every few epochs instead.
            terminal = sys.stdout.isatty()
            epochs = s.program.training.epochs
            every = None if quiet or terminal else (1 if every_epoch else max(1, -(-epochs // 10)))
            result = run_train(s, out, resume=resume, restart=restart, verbose=0 if quiet or not terminal else "auto",
                               strict_resume=True, weights_every_epoch=weights_every_epoch, lines_every=every)
            click.echo(result.line(s.name))
            if track == "mlflow":
                from regspec.report.tracking import Tracker, default_uri

                uri = tracking_uri or default_uri(out)
                run_id = Tracker(uri, out).log_run(result.run_dir)
                click.echo(f"mlflow: run {run_id} in {uri}")
            return EXIT_DIVERGED if result.status == "diverged" else 0
        from regspec.backend.keras.build import compile_model, save_model

        model = compile_model(s.program)
        model.summary(print_fn=lambda line, **_: click.echo(line))
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"{s.name}.keras")
        save_model(model, path)
        click.echo(f"saved {path}")
        return 0

    run(go, interrupted="run the same command with --resume to continue" if train else None)
