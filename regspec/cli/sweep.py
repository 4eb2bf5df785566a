"""`regspec sweep FILE`: train every variant of a sweep file; rerun to finish what did not."""

from __future__ import annotations

from typing import Any

import click

from regspec.cli.edge import TRACK_OPTIONS, run


@click.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Worker processes (default: the file's jobs).")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False), help="The runs folder.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (with --engine ray); default: a local Ray.")
@click.option("--dry-run", is_flag=True, help="Validate and list the trials; train nothing.")
@TRACK_OPTIONS
def command(sweep_file: str, jobs: int | None, out: str, engine: str, address: str | None, dry_run: bool,
            track: str | None, tracking_uri: str | None) -> None:
    """Train every variant of a sweep file; rerun to finish what did not."""

    def go() -> int:
        from regspec.report.sweep import format_text, table, write_reports
        from regspec.sweep.plan import plan
        from regspec.sweep.runner import run_sweep

        p = plan(sweep_file)
        axes = list(p.sweep.axes)
        if dry_run and p.sweep.search is not None:
            s = p.sweep.search
            click.echo(f"a search: {s.trials} trials by sampler {s.sampler} (seed {s.seed}), pruner {s.pruner}; "
                       "the study chooses the points as it goes")
            for path, axis in p.sweep.axes.items():
                click.echo(f"  {path}: {axis if isinstance(axis, list) else axis.model_dump(exclude_none=True)}")
            return 0
        if dry_run:
            for t in p.trials:
                click.echo(f"{t.name}  {t.key[:12]}  " + ", ".join(f"{k}={v}" for k, v in t.overrides.items()))
            click.echo(f"{len(p.trials)} trials")
            return 0
        with _ProgressBar() as bar:
            result = run_sweep(p, out, jobs=jobs, engine=engine, address=address, progress=bar.update)
        head, body = table(result.rows, axes, p.sweep.metric, p.sweep.goal)
        click.echo(format_text(head, body), nl=False)
        scales = {a: "log" if v.log else "linear" for a, v in p.sweep.axes.items() if not isinstance(v, list)}
        verdicts = write_reports(result.sweep_dir, result.rows, axes, p.sweep.metric, p.sweep.goal, scales)
        if verdicts:
            click.echo("\nover the seeds, against the first point of the other axes (95% CI):\n" + verdicts, nl=False)
        failed = [r for r in result.rows if r.status == "failed"]
        files = "results.csv, axes.png" + (", verdicts.csv" if verdicts else "")
        try:
            from regspec.report.hparams import write_hparams

            write_hparams(result.sweep_dir, result.rows, axes)
            files += ", tensorboard/"
        except ImportError:  # TensorBoard comes with TensorFlow: only a spec-only install lacks it
            pass
        click.echo(f"{len(result.rows)} trials: {result.skipped} already done, {result.ran} run, {len(failed)} failed"
                   f" -> {result.sweep_dir} ({files}; `regspec compare {result.sweep_dir}`)")
        if track == "mlflow":
            from regspec.report.tracking import Tracker, default_uri

            uri = tracking_uri or default_uri(out)
            done = [r.run_dir for r in result.rows if r.run_dir and r.status in ("finished", "diverged", "pruned")]
            parent, _ = Tracker(uri, out).log_sweep(result.sweep_dir, done, _sweep_params(p))
            click.echo(f"mlflow: sweep run {parent} with {len(done)} nested runs in {uri}")
        for r in failed:
            click.echo(f"failed: {r.name}: {(r.error or '').splitlines()[0] if r.error else ''}", err=True)
        return 1 if failed else 0

    run(go, interrupted="run the same command to continue: finished trials are kept")


def _sweep_params(p: Any) -> dict[str, Any]:
    """The sweep's own settings, as its parent run's params."""
    search = p.sweep.search.model_dump() if p.sweep.search else {}
    return {"base": p.sweep.base, "mode": "search" if search else p.sweep.mode, "metric": p.sweep.metric,
            "goal": p.sweep.goal, **{f"search.{k}": v for k, v in search.items()},
            **{f"axes.{k}": v if isinstance(v, list) else v.model_dump(exclude_none=True) for k, v in p.sweep.axes.items()}}


class _ProgressBar:
    """The sweep's bar: trials done of all, elapsed and remaining time (from the trials this run
    finished, not those found done), and the trials running now. Stopped before anything else
    is printed, so that a message never shares the bar's line."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *_: Any) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, counts: dict[str, int], total: int, running: list[str]) -> None:
        done = sum(counts.get(s, 0) for s in ("finished", "diverged", "pruned", "failed"))
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
                                transient=False, auto_refresh=False)  # no thread of its own: see update()
            self.bar.start()
            self.task = self.bar.add_task("trials", total=total, completed=done, note="")
        failed = counts.get("failed", 0)
        shown = ", ".join(running[:2]) + (f" +{len(running) - 2}" if len(running) > 2 else "")
        note = (f"running {shown}" if running else "") + (f" ({failed} failed)" if failed else "")
        # Drawn here, when the runner tells (every 0.2 s): a refreshing thread would keep the runner
        # from forking the processes that draw the trials' figures at the end, on every core.
        self.bar.update(self.task, completed=done, total=total, note=note, refresh=True)
