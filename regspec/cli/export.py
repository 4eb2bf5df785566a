"""`regspec export SPEC --python [-o FILE]`: a standalone Keras script for the spec."""

from __future__ import annotations

import click

from regspec.cli.edge import SET_OPTION, emit, load_spec, run


@click.command("export")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--python", "as_python", is_flag=True, required=True,
              help="Write a plain Keras script (data, model, compile, callbacks, fit, evaluate, save).")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write it ('-': standard output).")
@SET_OPTION
def command(spec: str, as_python: bool, output: str, sets: tuple[str, ...]) -> None:
    """Write the spec as a standalone Keras script that does not import regspec."""

    def go() -> None:
        from regspec.backend.keras.export_python import python_script

        s = load_spec(spec, sets)
        emit(python_script(s.program, spec, s.resolved.description), output)

    run(go)
