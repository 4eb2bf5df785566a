"""`regspec diff A B`: what differs between two resolved specs, by path."""

from __future__ import annotations

import json

import click

from regspec.cli.edge import load_spec, run


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def command(a: str, b: str, fmt: str) -> None:
    """List what differs between two resolved specs, by path (exit 1 if they differ)."""

    def go() -> int:
        from regspec.paths import format_path
        from regspec.report.diff import diff as compute
        from regspec.report.diff import format_diff

        changes = compute(load_spec(a).resolved_dict(), load_spec(b).resolved_dict())
        if fmt == "json":
            click.echo(json.dumps([{"op": op, "path": format_path(p), "old": old, "new": new}
                                   for op, p, old, new in changes], indent=2))
        elif changes:
            click.echo(format_diff(changes))
        return 1 if changes else 0

    run(go)
