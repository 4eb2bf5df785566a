"""Which files a command was given: folders expand to the spec files below them; a file's
kind (spec or sweep) is read from its first key, after checking it is a regular file."""

from __future__ import annotations

import os
import stat

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
HEAD_BYTES = 4096


def spec_files(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Files as given; a folder stands for the spec files below it, in sorted order.

    Special files in folders are listed too, so the reader refuses them by name ("not a
    regular file") instead of skipping them; it never opens one.
    """
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    full = os.path.join(root, n)
                    if n.endswith(SPEC_SUFFIXES):
                        out.append(full)
        else:
            out.append(p)
    return out


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def is_sweep(path: str) -> bool:
    """A sweep file says so in its first key; checked on the raw text, before any parsing.

    Anything that is not a regular file is not a sweep (the spec reader then refuses it
    with its own message): opening a FIFO or a terminal would wait forever.
    """
    if not _regular(path):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip().startswith(("regspec-sweep:", '"regspec-sweep"', '{"regspec-sweep"'))
               for line in head.splitlines() if not line.lstrip().startswith("#"))
