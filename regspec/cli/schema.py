"""`regspec schema`: write the JSON Schemas generated from the models."""

from __future__ import annotations

import os

import click

from regspec.cli.edge import run


@click.command("schema")
@click.option("-o", "--output", default="schemas/regspec.schema.json", show_default=True,
              help="Where to write the JSON Schema ('-' for standard output).")
@click.option("--path", "show_path", is_flag=True, help="Print where the installed schema is (what editors can load).")
def command(output: str, show_path: bool) -> None:
    """Write the JSON Schema generated from the spec models."""

    def go() -> None:
        from regspec.files import write_text
        from regspec.lang.schema import SCHEMAS, installed, schema_text

        if show_path:
            click.echo(installed())
            return
        if output == "-":
            click.echo(schema_text(), nl=False)
            return
        folder = os.path.dirname(output) or "."
        os.makedirs(folder, exist_ok=True)
        write_text(output, schema_text())
        click.echo(f"wrote {output}")
        for name in SCHEMAS:  # the sweep schema goes beside it
            if name != os.path.basename(output):
                write_text(os.path.join(folder, name), schema_text(name))
                click.echo(f"wrote {os.path.join(folder, name)}")

    run(go)
