"""`regspec import MODEL [-o SPEC]`: a Keras model (.keras or JSON config) as a spec."""

from __future__ import annotations

import click

from regspec.cli.edge import emit, run


@click.command("import")
@click.argument("model", type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the spec ('-': standard output).")
@click.option("--schema", default=None, metavar="PATH",
              help="The schema the spec's modeline names (default: the project's schemas/ near the spec, else the "
                   "installed copy).")
def command(model: str, output: str, schema: str | None) -> None:
    """Write a Keras model as a spec; report by name every layer regspec cannot express (exit 2)."""

    def go() -> None:
        from regspec.backend.keras.importer import import_model, to_yaml

        emit(to_yaml(import_model(model), None if output == "-" else output, schema), output)

    run(go)
