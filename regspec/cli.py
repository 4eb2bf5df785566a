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

from regspec.diagnostics import Diagnostic, SpecError, format_diagnostics

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3


class State:
    debug = False


def _run(fn: Callable[[], int | None]) -> None:
    try:
        code = fn() or 0
    except SpecError as exc:
        click.echo(format_diagnostics(exc.diagnostics), err=True)
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
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Check spec and sweep files (folders: every .yaml/.yml/.json below); report every error."""

    def go() -> int:
        from regspec.api import load

        problems: list[Diagnostic] = []
        ok: list[dict[str, Any]] = []
        for f in _spec_files(files):
            try:
                if _is_sweep(f):
                    from regspec.sweep.plan import plan

                    p = plan(f)
                    ok.append({"file": f, "name": p.sweep.name, "trials": len(p.trials)})
                    continue
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
                if "trials" in item:
                    click.echo(f"ok: {item['file']} (sweep {item['name']}: {item['trials']} trials)")
                else:
                    click.echo(f"ok: {item['file']} ({item['name']}: {item['layers']} layers, {item['params']:,} params)")
            if problems:
                click.echo(format_diagnostics(problems), err=True)
        return EXIT_BAD_INPUT if problems else 0

    _run(go)


def _spec_files(paths: tuple[str, ...]) -> list[str]:
    """Files as given; a folder stands for the spec files below it, in sorted order."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out += [os.path.join(root, n) for n in sorted(names) if n.endswith((".yaml", ".yml", ".json"))]
        else:
            out.append(p)
    return out


def _is_sweep(path: str) -> bool:
    """A sweep file says so in its first key; checked on the raw text, before any parsing."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return any(line.strip().startswith(("regspec-sweep:", '"regspec-sweep"', '{"regspec-sweep"'))
               for line in head.splitlines() if not line.lstrip().startswith("#"))


def _load(spec_path: str, sets: tuple[str, ...] = ()) -> Any:
    from regspec.api import load
    from regspec.frontend.settings import parse_sets

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
        from regspec.ir.shapes import format_summary

        s = _load(spec, sets)
        click.echo(format_summary(s.name, s.summary_rows()))

    _run(go)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field (repeatable).")
def resolve(spec: str, sets: tuple[str, ...]) -> None:
    """Print the resolved spec: extends, overrides, repeat and dropout applied, defaults explicit."""

    def go() -> None:
        from regspec.yamlio import dump_yaml

        click.echo(dump_yaml(_load(spec, sets).resolved_dict()), nl=False)

    _run(go)


@main.command()
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
def diff(a: str, b: str) -> None:
    """List what differs between two resolved specs, by path (exit 1 if they differ)."""

    def go() -> int:
        from regspec.report.diff import diff as compute
        from regspec.report.diff import format_diff

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
        from regspec.files import write_text
        from regspec.report.schema import SCHEMAS, schema_text

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

    _run(go)


@main.command(hidden=True)
@click.option("-o", "--output", default="docs/spec-reference.md", show_default=True)
def docs(output: str) -> None:
    """Write the spec reference generated from the models."""

    def go() -> None:
        from regspec.files import write_text
        from regspec.report.docs import reference

        os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
        write_text(output, reference())
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
            from regspec.runtime.train import train as run_train

            result = run_train(s, out, resume=resume, restart=restart, verbose=0 if quiet else "auto")
            click.echo(result.line(s.name))
            return EXIT_DIVERGED if result.status == "diverged" else 0
        from regspec.backend.keras.build import compile_model

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
@click.option("--mean-over", "mean_over", default=None, metavar="PATH",
              help="Group runs that differ only at PATH (e.g. training.seed): mean ± standard deviation.")
def compare(runs: tuple[str, ...], fmt: str, plot: str | None, mean_over: str | None) -> None:
    """Print the results table of several run directories (train/test loss and accuracy)."""

    def go() -> int:
        from regspec.report.runs import RunDirError, format_grouped, format_table, plot_overlay, read_run

        summaries = []
        for r in _expand_runs(runs):
            try:
                summaries.append(read_run(r))
            except RunDirError as exc:
                click.echo(f"error: {exc}", err=True)
                return EXIT_BAD_INPUT
        if mean_over:
            click.echo(format_grouped(summaries, mean_over, fmt), nl=False)
        else:
            click.echo(format_table(summaries, fmt), nl=False)
        if plot:
            plot_overlay(summaries, plot)
            click.echo(f"wrote {plot}", err=True)
        return 0

    _run(go)


def _expand_runs(paths: tuple[str, ...]) -> list[str]:
    """A sweep directory stands for its trials' run directories; a runs folder for the runs in it."""
    out: list[str] = []
    for p in paths:
        if not os.path.exists(os.path.join(p, "run.json")) and not os.path.exists(os.path.join(p, "sweep.db")):
            inner = sorted(os.path.join(p, d) for d in os.listdir(p) if os.path.exists(os.path.join(p, d, "run.json")))
            if inner:
                out += inner
                continue
        if os.path.exists(os.path.join(p, "sweep.db")):
            from regspec.sweep.store import Store

            store = Store(os.path.join(p, "sweep.db"))
            out += [r.run_dir for r in store.rows() if r.run_dir]
            store.close()
        else:
            out.append(p)
    return out


@main.command()
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Worker processes (default: the file's jobs).")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (with --engine ray); default: a local Ray.")
@click.option("--dry-run", is_flag=True, help="Validate and list the trials; train nothing.")
def sweep(sweep_file: str, jobs: int | None, out: str, engine: str, address: str | None, dry_run: bool) -> None:
    """Train every variant of a sweep file; rerun to finish what did not."""

    def go() -> int:
        from regspec.sweep.plan import plan
        from regspec.sweep.report import format_text, table, write_reports
        from regspec.sweep.runner import run_sweep

        p = plan(sweep_file)
        axes = list(p.sweep.axes)
        if dry_run:
            for t in p.trials:
                click.echo(f"{t.name}  {t.key[:12]}  " + ", ".join(f"{k}={v}" for k, v in t.overrides.items()))
            click.echo(f"{len(p.trials)} trials")
            return 0
        result = run_sweep(p, out, jobs=jobs, engine=engine, address=address, progress=_progress_bar())
        head, body = table(result.rows, axes, p.sweep.metric, p.sweep.goal)
        click.echo(format_text(head, body), nl=False)
        write_reports(result.sweep_dir, result.rows, axes, p.sweep.metric, p.sweep.goal)
        failed = [r for r in result.rows if r.status == "failed"]
        click.echo(f"{len(result.rows)} trials: {result.skipped} already done, {result.ran} run, {len(failed)} failed"
                   f" -> {result.sweep_dir} (results.csv, axes.png; `regspec compare {result.sweep_dir}`)")
        for r in failed:
            click.echo(f"failed: {r.name}: {(r.error or '').splitlines()[0] if r.error else ''}", err=True)
        return 1 if failed else 0

    _run(go)


def _progress_bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    state: dict[str, Any] = {}

    def update(counts: dict[str, int], total: int) -> None:
        done = counts.get("finished", 0) + counts.get("diverged", 0) + counts.get("failed", 0)
        if "bar" not in state:
            bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           TextColumn("{task.fields[note]}"), transient=False)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("trials", total=total, note="")
        bar = state["bar"]
        note = f"running {counts.get('running', 0)}, failed {counts.get('failed', 0)}"
        bar.update(state["task"], completed=done, total=total, note=note)
        if done >= total and counts.get("running", 0) == 0:
            bar.stop()

    return update
