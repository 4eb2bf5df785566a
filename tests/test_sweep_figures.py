"""The figures a sweep leaves to its end (as many workers as cores) are drawn on every core,
each once, and none is lost when a drawing process dies. No TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from regspec.rundir.figures import SWEEP_FIGURES
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


#: Run in a fresh interpreter: the runner forks only where TensorFlow is not loaded, and a test
#: process may have loaded it. argv: the store, "draw" or "die"; prints the runner's pid.
SCRIPT = """
import os, sys
from pathlib import Path
from regspec.rundir import figures
from regspec.sweep import runner
from regspec.sweep.store import Store

runner._cores = lambda: 2
real, me = figures.draw_missing_figures, os.getpid()

def draw(run_dir, names=figures.SWEEP_FIGURES):  # a forked process inherits this
    if sys.argv[2] == "die" and os.getpid() != me:
        os._exit(1)  # a drawing process dies at once
    done = real(run_dir, names)
    if done:
        Path(run_dir, "drawn-by").write_text(str(os.getpid()))
    return done

figures.draw_missing_figures = draw
assert runner._can_fork()
runner._draw_all_missing_figures(Store(sys.argv[1]), None)
print(me)
"""


def run_runner(store: Store, how: str) -> int:
    store.close()
    done = subprocess.run([sys.executable, "-c", SCRIPT, store.path, how], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_the_figures_left_to_the_end_are_drawn_on_every_core(tmp_path):
    store, dirs = finished_trials(tmp_path, 6)
    runner_pid = run_runner(store, "draw")
    drawn_by = []
    for run in dirs:
        assert all((run / name).stat().st_size > 0 for name in SWEEP_FIGURES)
        drawn_by.append(int((run / "drawn-by").read_text()))
    assert runner_pid not in drawn_by and len(set(drawn_by)) == 2  # two processes, neither the runner


def test_what_a_dead_drawing_process_left_is_drawn_by_the_runner(tmp_path):
    store, dirs = finished_trials(tmp_path, 3)
    runner_pid = run_runner(store, "die")
    for run in dirs:
        assert all((run / name).stat().st_size > 0 for name in SWEEP_FIGURES)
        assert int((run / "drawn-by").read_text()) == runner_pid
