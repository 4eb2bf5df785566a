"""The figures a sweep leaves to its end (as many workers as cores) are drawn on every core,
each once, and none is lost when a drawing process dies. No TensorFlow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from regspec.rundir import figures
from regspec.rundir.figures import SWEEP_FIGURES
from regspec.sweep import runner
from regspec.sweep.store import Store

HISTORY = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.7, 0.5], "accuracy": [0.5, 0.7, 0.8],
           "val_accuracy": [0.4, 0.6, 0.7]}


def finished_trials(tmp_path: Path, n: int) -> tuple[Store, list[Path]]:
    store = Store(str(tmp_path / "sweep.db"))
    store.add([(f"k{i}", f"t{i}", {"training.seed": i}) for i in range(n)])
    dirs = []
    for i in range(n):
        row = store.claim("w")
        run = tmp_path / "runs" / f"t{i}"
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({"name": f"t{i}", "status": "finished"}))
        (run / "history.json").write_text(json.dumps(HISTORY))
        store.finish(row.id, "finished", run_dir=str(run))
        dirs.append(run)
    return store, dirs


def test_the_figures_left_to_the_end_are_drawn_on_every_core(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_cores", lambda: 2)
    real = figures.draw_missing_figures

    def draw(run_dir: str, names: tuple[str, ...] = SWEEP_FIGURES) -> list[str]:  # a fork inherits it: says who drew
        done = real(run_dir, names)
        if done:
            Path(run_dir, "drawn-by").write_text(str(os.getpid()))
        return done

    monkeypatch.setattr(figures, "draw_missing_figures", draw)
    store, dirs = finished_trials(tmp_path, 6)
    if not runner._can_fork():
        pytest.skip("this process cannot fork safely (TensorFlow loaded, or threads running)")
    runner._draw_all_missing_figures(store, None)
    drawn_by = []
    for run in dirs:
        assert all((run / name).stat().st_size > 0 for name in SWEEP_FIGURES)
        drawn_by.append(int((run / "drawn-by").read_text()))
    assert os.getpid() not in drawn_by and len(set(drawn_by)) == 2  # two processes, neither the runner


def test_what_a_dead_drawing_process_left_is_drawn_by_the_runner(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_cores", lambda: 2)
    real, me = figures.draw_missing_figures, os.getpid()

    def draw(run_dir: str, names: tuple[str, ...] = SWEEP_FIGURES) -> list[str]:
        if os.getpid() != me:
            os._exit(1)  # a drawing process dies at once
        return real(run_dir, names)

    monkeypatch.setattr(figures, "draw_missing_figures", draw)
    store, dirs = finished_trials(tmp_path, 3)
    if not runner._can_fork():
        pytest.skip("this process cannot fork safely (TensorFlow loaded, or threads running)")
    runner._draw_all_missing_figures(store, None)
    for run in dirs:
        assert all((run / name).stat().st_size > 0 for name in SWEEP_FIGURES)
