"""Atomic file writes: a crash never leaves a half-written artifact."""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str, data: bytes) -> None:
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fsync_file(path: str) -> None:
    """Flush a file another writer made (h5py, Keras' zip) to the disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def overwrite_in_place(path: str, text: str) -> None:
    """Not atomic: for a small file on a full disk, where a new file cannot be made but the
    existing file's block can be written over."""
    with open(path, "r+b") as fh:
        fh.write(text.encode("utf-8"))
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str, data: Any, *, in_place: bool = False) -> None:
    """Strict JSON: a NaN or an infinity (a diverged loss) is written as null, never as bare NaN."""
    text = json.dumps(_finite(data), indent=2, sort_keys=False, default=float, allow_nan=False) + "\n"
    (overwrite_in_place if in_place else write_text)(path, text)


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_json_object(path: str) -> dict[str, Any]:
    """A JSON object from ``path``; empty when the file is missing, torn or holds something else."""
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
