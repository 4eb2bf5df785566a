"""`regspec compile SPEC [--train]`: build the Keras model; with --train, train and report it."""

from __future__ import annotations

import os
import sys

import click

from regspec.cli.edge import EXIT_DIVERGED, SET_OPTION, load_spec, run


@click.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--train", is_flag=True, help="Train, evaluate, and write a run directory.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@SET_OPTION
@click.option("--resume", is_flag=True, help="Continue this spec's interrupted training.")
@click.option("--restart", is_flag=True, help="Discard this spec's interrupted training and start again.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--weights-every-epoch", is_flag=True,
              help="Also record the weight statistics of every epoch (weights_history.jsonl).")
def command(spec: str, train: bool, out: str, sets: tuple[str, ...], resume: bool, restart: bool, quiet: bool,
            weights_every_epoch: bool) -> None:
    """Build the Keras model (and with --train, train and report it)."""

    def go() -> int:
        s = load_spec(spec, sets)
        if train:
            from regspec.runtime.train import train as run_train

            # Keras' bar redraws with ANSI codes: into a log or a pipe, one line per epoch instead.
            verbose: int | str = 0 if quiet else ("auto" if sys.stdout.isatty() else 2)
            result = run_train(s, out, resume=resume, restart=restart, verbose=verbose, strict_resume=True,
                               weights_every_epoch=weights_every_epoch)
            click.echo(result.line(s.name))
            return EXIT_DIVERGED if result.status == "diverged" else 0
        from regspec.backend.keras.build import compile_model, save_model

        model = compile_model(s.program)
        model.summary(print_fn=lambda line, **_: click.echo(line))
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"{s.name}.keras")
        save_model(model, path)
        click.echo(f"saved {path}")
        return 0

    run(go)
