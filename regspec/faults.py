"""Fault injection for the crash tests: kill the process, or fill its disk, at a named point.

``REGSPEC_FAULT=kill:<point>`` SIGKILLs the process the n-th time (``kill:<point>#n``, first by
default) it reaches ``point``; ``fill:<point>[#n]`` fills the filesystem of the folder given at
that point with a file named ``ballast`` until it is full, and goes on. Unset (always, outside
tests), a point costs one dict lookup. The points are named where ``reached`` is called.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("REGSPEC_FAULT", "")
_ACTION, _, _TARGET = _SPEC.partition(":")
_POINT, _, _NTH = _TARGET.partition("#")
_hits: dict[str, int] = {}


def reached(point: str, folder: str | None = None) -> None:
    """Called at ``point`` (``folder``: where the run writes at that moment)."""
    if not _SPEC or point != _POINT:
        return
    _hits[point] = _hits.get(point, 0) + 1
    if _hits[point] != int(_NTH or 1):
        return
    if _ACTION == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif _ACTION == "fill" and folder is not None:
        _fill(folder)


def _fill(folder: str) -> None:
    path = os.path.join(folder, "ballast")
    block = b"\0" * (1 << 16)
    try:
        with open(path, "ab") as fh:
            while True:
                fh.write(block)
                fh.flush()
    except OSError:
        pass
    try:  # the last partial block, byte by byte: the disk is full to the last byte
        with open(path, "ab") as fh:
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
    except OSError:
        pass
