"""`regspec export RUN --format F [-o PATH]` and `regspec export SPEC --python [-o FILE]`."""

from __future__ import annotations

import click

from regspec.cli.edge import SET_OPTION, emit, load_spec, run

FORMAT_NAMES = ["saved_model", "onnx", "litert", "keras"]  # serving.export.FORMATS, without importing it here


@click.command("export")
@click.argument("target", metavar="RUN_OR_SPEC", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default=None,
              help="Export a trained RUN for serving, preprocessing included (default path: RUN/export/).")
@click.option("--python", "as_python", is_flag=True,
              help="Write a SPEC as a plain Keras script (data, model, compile, callbacks, fit, evaluate, save).")
@click.option("-o", "--output", default=None, help="Where to write it ('-' for the script: standard output, the default).")
@SET_OPTION
def command(target: str, fmt: str | None, as_python: bool, output: str | None, sets: tuple[str, ...]) -> None:
    """Export a trained run for serving (--format), or a spec as a standalone Keras script (--python)."""
    if (fmt is None) == (not as_python):
        raise click.UsageError("give one of --format (a trained run) or --python (a spec)")
    if fmt is not None and sets:
        raise click.UsageError("--set changes a spec; a trained run is exported as it was trained")

    def go() -> None:
        if as_python:
            from regspec.backend.keras.export_python import python_script

            s = load_spec(target, sets)
            emit(python_script(s.program, target, s.resolved.description), output or "-")
            return
        assert fmt is not None
        from regspec.serving.export import export_run

        path, what = export_run(target, fmt, output)
        click.echo(f"wrote {path} ({fmt}; {what})")

    run(go)
