"""`regspec import MODEL [-o SPEC]`: a Keras model (.keras or JSON config) as a spec."""

from __future__ import annotations

import click

from regspec.cli.edge import emit, run


@click.command("import")
@click.argument("model", type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the spec ('-': standard output).")
def command(model: str, output: str) -> None:
    """Write a Keras model as a spec; report by name every layer regspec cannot express (exit 2)."""

    def go() -> None:
        from regspec.backend.keras.importer import import_model, to_yaml

        emit(to_yaml(import_model(model)), output)

    run(go)
