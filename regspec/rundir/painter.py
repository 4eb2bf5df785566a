"""A helper process that draws a run's figures, so that drawing them costs the run little time.

Drawing in the training process added 0.8-1.2 s to the end of every digits run, half of it
importing matplotlib. The painter starts with the run and imports matplotlib while the trainer
traces its step (single-threaded Python: the second core is idle then). Once training is over
it is handed the history and the weight statistics, and draws while the trainer evaluates and
saves the model. Figures are views of results already written: if the painter cannot start, dies
or hangs, the trainer draws what is missing itself, as before.

    python -m regspec.rundir.painter   (reads one JSON request on stdin; Painter starts it)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import Any

from regspec.rundir.figures import draw_run_figures, missing_figures

#: How long the trainer waits for the figures before drawing them itself (a hung painter).
WAIT_SECONDS = 120.0

#: The painter's start: this regspec is found as the trainer found it (the same environment),
#: and where only the trainer's own sys.path had it, after everything else (it shadows nothing).
_START = ("import runpy, sys; sys.path.append(sys.argv.pop(1)); "
          "runpy.run_module('regspec.rundir.painter', run_name='__main__', alter_sys=True)")


class Painter:
    """Started with ``names`` (the figures to draw; none: no process at all)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._proc: subprocess.Popen[bytes] | None = None
        self._asked: tuple[str, dict[str, list[float]], dict[str, Any], str, int | None] | None = None
        if not names:
            return
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        try:
            self._proc = subprocess.Popen([sys.executable, "-c", _START, package_root], stdin=subprocess.PIPE,
                                          close_fds=True)
        except OSError:
            self._proc = None  # drawn in this process

    def draw(self, run_dir: str, history: dict[str, list[float]], weights: dict[str, Any], title: str,
             restored_epoch: int | None = None) -> None:
        """Hand the figures over; they are drawn while the caller goes on (see `finish`)."""
        self._asked = (run_dir, history, weights, title, restored_epoch)
        if self._proc is None or self._proc.stdin is None:
            return
        request = {"run_dir": run_dir, "names": list(self.names), "history": history, "weights": weights,
                   "title": title, "restored_epoch": restored_epoch}
        try:  # NaN stays NaN: a gap in a curve
            self._proc.stdin.write(json.dumps(request, default=float).encode("utf-8"))
            self._proc.stdin.close()
        except (OSError, ValueError, TypeError):
            self._stop()

    def finish(self) -> None:
        """Wait for the figures; draw in this process those a failed painter did not."""
        if self._asked is None:
            self.close()
            return
        drew = False
        if self._proc is not None:
            try:
                drew = self._proc.wait(WAIT_SECONDS) == 0  # its warnings (a full disk) went to stderr
            except subprocess.TimeoutExpired:
                pass
            self._stop()
        if not drew:
            run_dir, history, weights, title, restored_epoch = self._asked
            draw_run_figures(run_dir, history, weights, title, missing_figures(run_dir, self.names), restored_epoch)
        self._asked = None

    def close(self) -> None:
        """Stop the painter, if it is still there (the run failed or was interrupted)."""
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def main() -> int:
    # Ctrl-C reaches the whole process group: it is the trainer's to handle (it stops this process).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import matplotlib.figure  # noqa: F401 - the point of starting early: imported before the request comes
    from matplotlib.backends import backend_agg  # noqa: F401

    import regspec.rundir.plots  # noqa: F401

    text = sys.stdin.buffer.read()
    if not text:  # the trainer ended without asking (a refusal, a kill)
        return 0
    request = json.loads(text)
    names = tuple(request["names"])
    # One figure per process: the trainer only waits now, so both cores draw (0.2-0.4 s each).
    # Forking is safe here: this process has one thread and no TensorFlow.
    pid = os.fork() if len(names) > 1 and hasattr(os, "fork") else -1
    if pid == 0:
        try:
            _draw(request, names[1:])
        finally:
            os._exit(0)
    _draw(request, names if pid < 0 else names[:1])
    if pid > 0:
        os.waitpid(pid, 0)
    return 0


def _draw(request: dict[str, Any], names: tuple[str, ...]) -> None:
    draw_run_figures(request["run_dir"], request["history"], request["weights"], request["title"], names,
                     request["restored_epoch"])


if __name__ == "__main__":
    try:
        code = main()
    except Exception:  # noqa: BLE001 - no traceback: a trainer still there draws what is missing
        code = 1  # (a request cut short: the trainer was killed while it wrote it)
    sys.stderr.flush()
    os._exit(code)  # the trainer waits for this exit: tearing matplotlib down took another 0.2 s
