"""`regspec docs`: write the spec reference generated from the models."""

from __future__ import annotations

import os

import click

from regspec.cli.edge import run


@click.command("docs", hidden=True)
@click.option("-o", "--output", default="docs/spec-reference.md", show_default=True)
def command(output: str) -> None:
    """Write the spec reference generated from the models."""

    def go() -> None:
        from regspec.files import write_text
        from regspec.lang.docs import reference

        os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
        write_text(output, reference())
        click.echo(f"wrote {output}")

    run(go)
