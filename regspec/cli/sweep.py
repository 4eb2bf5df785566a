"""`regspec sweep FILE`: train every variant of a sweep file; rerun to finish what did not."""

from __future__ import annotations

from typing import Any

import click

from regspec.cli.edge import run


@click.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Worker processes (default: the file's jobs).")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (with --engine ray); default: a local Ray.")
@click.option("--dry-run", is_flag=True, help="Validate and list the trials; train nothing.")
def command(sweep_file: str, jobs: int | None, out: str, engine: str, address: str | None, dry_run: bool) -> None:
    """Train every variant of a sweep file; rerun to finish what did not."""

    def go() -> int:
        from regspec.report.sweep import format_text, table, write_reports
        from regspec.sweep.plan import plan
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
        verdicts = write_reports(result.sweep_dir, result.rows, axes, p.sweep.metric, p.sweep.goal)
        if verdicts:
            click.echo("\nover the seeds, against the first point of the other axes (95% CI):\n" + verdicts, nl=False)
        failed = [r for r in result.rows if r.status == "failed"]
        files = "results.csv, axes.png" + (", verdicts.csv" if verdicts else "")
        click.echo(f"{len(result.rows)} trials: {result.skipped} already done, {result.ran} run, {len(failed)} failed"
                   f" -> {result.sweep_dir} ({files}; `regspec compare {result.sweep_dir}`)")
        for r in failed:
            click.echo(f"failed: {r.name}: {(r.error or '').splitlines()[0] if r.error else ''}", err=True)
        return 1 if failed else 0

    run(go)


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
