"""`regspec resolve SPEC`: the flat, explicit spec."""

from __future__ import annotations

import click

from regspec.cli.edge import SET_OPTION, load_spec, run


@click.command("resolve")
@click.argument("spec", type=click.Path(dir_okay=False))
@SET_OPTION
@click.option("--graph", is_flag=True, help="Print the graph program instead: inputs, each node's inputs, outputs.")
def command(spec: str, sets: tuple[str, ...], graph: bool) -> None:
    """Print the resolved spec: extends, overrides, repeat and dropout applied, defaults explicit."""

    def go() -> None:
        from regspec.yamlio import dump_yaml

        s = load_spec(spec, sets)
        click.echo(dump_yaml(s.program.to_dict() if graph else s.resolved_dict()), nl=False)

    run(go)
