"""`regspec validate FILES...`: check spec and sweep files; every error of every file."""

from __future__ import annotations

import json
from typing import Any

import click

from regspec.cli.edge import EXIT_BAD_INPUT, SET_OPTION, load_spec, run
from regspec.diagnostics import Diagnostic, SpecError, format_diagnostics, safe


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@SET_OPTION
def command(files: tuple[str, ...], fmt: str, sets: tuple[str, ...]) -> None:
    """Check spec and sweep files (folders: every .yaml/.yml/.json below); report every error.
    With --set, each spec is checked with the overrides applied, as `compile --set` would build it."""

    def go() -> int:
        from regspec.frontend.files import is_sweep, spec_files

        problems: list[Diagnostic] = []
        warnings: list[Diagnostic] = []
        ok: list[dict[str, Any]] = []
        for f in spec_files(files):
            try:
                if is_sweep(f):
                    from regspec.sweep.plan import plan

                    p = plan(f)
                    trials = p.sweep.search.trials if p.sweep.search else len(p.trials)
                    ok.append({"file": f, "name": p.sweep.name, "trials": trials})
                    continue
                spec = load_spec(f, sets)
            except SpecError as exc:
                problems += exc.diagnostics
                continue
            # A parent's warning is met again in each child: said once.
            warnings += [w for w in spec.warnings if w not in warnings]
            total = sum(r.trainable + r.non_trainable for r in spec.summary_rows())
            ok.append({"file": f, "name": spec.name, "layers": len(spec.resolved.layers), "params": total})
        if fmt == "json":
            click.echo(json.dumps({"valid": ok, "errors": [d.to_dict() for d in problems],
                                   "warnings": [d.to_dict() for d in warnings]}, indent=2))
        else:
            for item in ok:
                if "trials" in item:
                    click.echo(f"ok: {safe(item['file'])} (sweep {item['name']}: {item['trials']} trials)")
                else:
                    click.echo(f"ok: {safe(item['file'])} ({item['name']}: {item['layers']} layers, {item['params']:,} params)")
            if warnings or problems:
                click.echo(format_diagnostics(warnings + problems), err=True)
        return EXIT_BAD_INPUT if problems else 0

    run(go)
