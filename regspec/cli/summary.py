"""`regspec summary SPEC`: each layer's output shape and parameters, without TensorFlow."""

from __future__ import annotations

import json

import click

from regspec.cli.edge import SET_OPTION, load_spec, run


@click.command("summary")
@click.argument("spec", type=click.Path(dir_okay=False))
@SET_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def command(spec: str, sets: tuple[str, ...], fmt: str) -> None:
    """Print each layer's output shape and parameter count (no TensorFlow)."""

    def go() -> None:
        from regspec.ir.shapes import format_summary, totals

        s = load_spec(spec, sets)
        rows = s.summary_rows()
        if fmt == "json":
            total, trainable, frozen = totals(rows)
            click.echo(json.dumps({
                "name": s.name, "inputs": [{"name": i.id, "shape": list(i.shape), "dtype": i.dtype} for i in s.program.inputs],
                "layers": [{"id": r.id, "type": r.type, "name": r.name, "inputs": list(r.inputs),
                            "output_shape": list(r.output_shape), "params": r.trainable + r.non_trainable} for r in rows],
                "outputs": list(s.program.outputs),
                "params": {"total": total, "trainable": trainable, "non_trainable": frozen},
            }, indent=2))
            return
        click.echo(format_summary(s.name, rows, graph=not s.program.is_stack))

    run(go)
