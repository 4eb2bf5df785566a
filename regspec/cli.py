"""The command line. Parses arguments, calls the stages, prints results.

Bad input prints `FILE:LINE:COL: error: PATH: message (hint)` lines and exits 2;
a traceback appears only with --debug. TensorFlow is imported only by
`compile` (and `sweep`), never at module level.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from .diagnostics import Diagnostic, SpecError, format_diagnostics

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


class State:
    debug = False


def _run(fn: Callable[[], int | None], fmt: str = "text") -> None:
    try:
        code = fn() or 0
    except SpecError as exc:
        click.echo(format_diagnostics(exc.diagnostics, fmt), err=fmt == "text")
        if fmt != "text":
            pass
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = 130
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the edge: no traceback unless asked
        if State.debug:
            traceback.print_exc()
        else:
            click.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", err=True)
        code = 1
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(package_name="regspec")
def main(debug: bool) -> None:
    """regspec: declarative Keras model specs with regularization, compiled, trained and compared."""
    State.debug = debug


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Check spec files; report every error of every file."""

    def go() -> int:
        from .api import load

        problems: list[Diagnostic] = []
        ok: list[dict[str, Any]] = []
        for f in files:
            try:
                spec = load(f)
            except SpecError as exc:
                problems += exc.diagnostics
                continue
            total = sum(r.trainable + r.non_trainable for r in spec.summary_rows())
            ok.append({"file": f, "name": spec.name, "layers": len(spec.resolved.layers), "params": total})
        if fmt == "json":
            import json

            click.echo(json.dumps({"valid": ok, "errors": [d.to_dict() for d in problems]}, indent=2))
        else:
            for item in ok:
                click.echo(f"ok: {item['file']} ({item['name']}: {item['layers']} layers, {item['params']:,} params)")
            if problems:
                click.echo(format_diagnostics(problems), err=True)
        return EXIT_BAD_INPUT if problems else 0

    _run(go)


def _load(spec_path: str, sets: tuple[str, ...] = ()) -> Any:
    from .api import load
    from .settings import parse_sets

    spec = load(spec_path)
    if sets:
        spec = spec.with_overrides(parse_sets(sets))
    return spec


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field (repeatable).")
def summary(spec: str, sets: tuple[str, ...]) -> None:
    """Print each layer's output shape and parameter count (no TensorFlow)."""

    def go() -> None:
        from .summary import format_summary

        s = _load(spec, sets)
        click.echo(format_summary(s.name, s.summary_rows()))

    _run(go)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field (repeatable).")
def resolve(spec: str, sets: tuple[str, ...]) -> None:
    """Print the resolved spec: extends, overrides, repeat and dropout applied, defaults explicit."""

    def go() -> None:
        from .yamlio import dump_yaml

        click.echo(dump_yaml(_load(spec, sets).resolved_dict()), nl=False)

    _run(go)


@main.command()
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
def diff(a: str, b: str) -> None:
    """List what differs between two resolved specs, by path (exit 1 if they differ)."""

    def go() -> int:
        from .diff import diff as compute
        from .diff import format_diff

        changes = compute(_load(a).resolved_dict(), _load(b).resolved_dict())
        if changes:
            click.echo(format_diff(changes))
        return 1 if changes else 0

    _run(go)


@main.command()
@click.option("-o", "--output", default="schemas/regspec.schema.json", show_default=True,
              help="Where to write the JSON Schema ('-' for standard output).")
def schema(output: str) -> None:
    """Write the JSON Schema generated from the spec models."""

    def go() -> None:
        from .files import write_text
        from .schema import schema_text

        text = schema_text()
        if output == "-":
            click.echo(text, nl=False)
        else:
            os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
            write_text(output, text)
            click.echo(f"wrote {output}")

    _run(go)


@main.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--train", is_flag=True, help="Train, evaluate, and write a run directory.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field (repeatable).")
@click.option("--resume", is_flag=True, help="Continue this spec's interrupted training.")
@click.option("--restart", is_flag=True, help="Discard this spec's interrupted training and start again.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def compile_cmd(spec: str, train: bool, out: str, sets: tuple[str, ...], resume: bool, restart: bool, quiet: bool) -> None:
    """Build the Keras model (and with --train, train and report it)."""

    def go() -> int:
        s = _load(spec, sets)
        if train:
            from .run import train as run_train

            result = run_train(s, out, resume=resume, restart=restart, verbose=0 if quiet else "auto")
            click.echo(result.line(s.name))
            return EXIT_DIVERGED if result.status == "diverged" else 0
        from .compiler.model import compile_model

        model = compile_model(s)
        model.summary(print_fn=lambda line, **_: click.echo(line))
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"{s.name}.keras")
        tmp = os.path.join(out, f".tmp-{s.name}.keras")
        model.save(tmp)
        os.replace(tmp, path)
        click.echo(f"saved {path}")
        return 0

    _run(go)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv"]), default="text")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Write an overlay plot of the runs' curves.")
def compare(runs: tuple[str, ...], fmt: str, plot: str | None) -> None:
    """Print the results table of several run directories (train/test loss and accuracy)."""

    def go() -> int:
        from .report import RunDirError, format_table, plot_overlay, read_run

        summaries = []
        for r in runs:
            try:
                summaries.append(read_run(r))
            except RunDirError as exc:
                click.echo(f"error: {exc}", err=True)
                return EXIT_BAD_INPUT
        click.echo(format_table(summaries, fmt), nl=False)
        if plot:
            plot_overlay(summaries, plot)
            click.echo(f"wrote {plot}", err=True)
        return 0

    _run(go)
