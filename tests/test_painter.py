"""The painter: a run's figures drawn by a helper process that starts with the run, and by the
run itself whenever the helper cannot start, dies or hangs. No TensorFlow."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from regspec.rundir import painter as painter_module
from regspec.rundir.figures import RUN_FIGURES
from regspec.rundir.painter import Painter

HISTORY = {"loss": [1.0, 0.5, math.nan, 0.2], "val_loss": [1.1, 0.6, 0.4, 0.3],
           "accuracy": [0.5, 0.7, 0.8, 0.9], "val_accuracy": [0.4, 0.6, 0.7, 0.8]}
WEIGHTS = {"zero_threshold": 0.001, "layers": [{"layer": "dense_1", "weights": [
    {"name": "kernel", "zero_fraction": 0.125,
     "histogram": {"edges": [-1.0, -0.5, 0.0, 0.5, 1.0], "counts": [1, 3, 5, 2]}}]}]}


def drawn(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.stat().st_size > 0)


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_helper_draws_both_figures(tmp_path):
    painter = Painter(RUN_FIGURES)
    proc = painter._proc
    assert proc is not None and proc.poll() is None  # started, waiting for the request
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")
    painter.finish()
    assert proc.returncode == 0  # the helper drew them, not the fallback
    assert drawn(tmp_path) == sorted(RUN_FIGURES)
    assert all(is_png(tmp_path / name) for name in RUN_FIGURES)


def test_no_figures_no_process(tmp_path):
    painter = Painter(())
    assert painter._proc is None
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")
    painter.finish()
    assert drawn(tmp_path) == []


def test_a_helper_that_cannot_start_leaves_the_figures_to_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    painter = Painter(RUN_FIGURES)
    assert painter._proc is None
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")
    painter.finish()
    assert drawn(tmp_path) == sorted(RUN_FIGURES)


def test_a_helper_that_dies_leaves_the_figures_to_the_run(tmp_path):
    painter = Painter(RUN_FIGURES)
    painter._proc.kill()
    painter._proc.wait()
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")  # the pipe is broken: no exception
    painter.finish()
    assert drawn(tmp_path) == sorted(RUN_FIGURES)


def test_a_helper_that_hangs_is_stopped_and_the_run_draws(tmp_path, monkeypatch):
    monkeypatch.setattr(painter_module, "WAIT_SECONDS", 0.5)
    real = subprocess.Popen

    def hanging(args, **kwargs):  # a helper that never answers
        return real([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)

    monkeypatch.setattr(subprocess, "Popen", hanging)
    painter = Painter(RUN_FIGURES)
    proc = painter._proc
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")
    painter.finish()
    assert proc.returncode is not None  # stopped, not left behind
    assert drawn(tmp_path) == sorted(RUN_FIGURES)


def test_a_run_that_ends_without_asking_stops_its_helper():
    painter = Painter(RUN_FIGURES)
    proc = painter._proc
    painter.close()  # a refusal or an interruption
    assert proc.returncode is not None


def test_the_helper_exits_when_its_run_dies_before_asking():
    # The trainer killed: its end of the pipe closes, and the helper ends instead of waiting.
    proc = subprocess.Popen([sys.executable, "-m", "regspec.rundir.painter"], stdin=subprocess.PIPE)
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


@pytest.mark.parametrize("names", [("curves.png",), ("weights.png",)])
def test_the_helper_draws_only_the_figures_asked(tmp_path, names):
    painter = Painter(names)
    painter.draw(str(tmp_path), HISTORY, WEIGHTS, "run")
    painter.finish()
    assert drawn(tmp_path) == list(names)


def test_a_request_cut_short_ends_the_helper_quietly():
    # The trainer killed while it wrote: no traceback on the user's terminal.
    proc = subprocess.Popen([sys.executable, "-m", "regspec.rundir.painter"], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, err = proc.communicate(b'{"run_dir": "/tmp", "names": ["curv', timeout=60)
    assert proc.returncode == 1 and b"Traceback" not in err


def test_ctrl_c_is_the_trainers_to_handle():
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "regspec.rundir.painter"], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(3)  # imports done, waiting for the request
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # still there: the trainer stops it
    _, err = proc.communicate(b"", timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in err
