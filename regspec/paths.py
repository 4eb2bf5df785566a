"""The one path syntax: dotted keys, ``[i]`` list indices, and layer names.

``layers.conv2.kernel_regularizer.l1`` and ``layers[2].dropout`` address the same
kind of thing: a string segment applied to a list selects the item whose
``name`` equals it. Overrides, sweeps and error messages all use this module.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

Segment = str | int
Path = tuple[Segment, ...]

_TOKEN = re.compile(r"\.?([A-Za-z0-9_-]+)|\[(\d+)\]")


class PathError(ValueError):
    """A path that does not parse or does not exist; ``hint`` suggests a fix."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Path:
    """``"layers[2].kernel_regularizer.l1"`` -> ``("layers", 2, "kernel_regularizer", "l1")``."""
    if not isinstance(text, str) or not text:
        raise PathError("empty path")
    segments: list[Segment] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or (pos == 0 and text[0] == ".") or (pos > 0 and m.group(1) and text[pos] != "."):
            raise PathError(
                f"bad path {text!r} at character {pos + 1}",
                "use dotted keys, [i] indices and layer names, e.g. layers.conv2.kernel_regularizer.l1",
            )
        segments.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return tuple(segments)


def format_path(path: Path) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def _named_index(items: list, name: str, where: Path) -> int:
    for i, it in enumerate(items):
        if isinstance(it, dict) and it.get("name") == name:
            return i
    names: list[str] = [it["name"] for it in items if isinstance(it, dict) and isinstance(it.get("name"), str)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else (
        f"named items here: {', '.join(names)}" if names else "no item here has a name; use [i] or give the layer a name"
    )
    raise PathError(f"no item named {name!r} in {format_path(where) or 'the list'}", hint)


def _index(node: list, seg: Segment, here: Path) -> int:
    if isinstance(seg, str):
        return _named_index(node, seg, here)
    if not 0 <= seg < len(node):
        raise PathError(f"index {seg} is out of range: {format_path(here)} has {len(node)} items")
    return seg


def locate(data: Any, text: str) -> tuple[Path, Any]:
    """(the path with names as indices, the value there: None where it is not written, as far as
    :func:`assign` would create it); PathError where assign fails (an index out of range, a
    number on the way)."""
    out: list[Segment] = []
    for seg in parse(text):
        if isinstance(data, list):
            i = _index(data, seg, tuple(out))
            out.append(i)
            data = data[i]
        elif isinstance(data, dict) and isinstance(seg, str):
            out.append(seg)
            data = data.get(seg)
        elif (data is None or isinstance(data, str)) and isinstance(seg, str):
            out.append(seg)  # as assign makes it: a missing mapping, or `optimizer: adam` as {type: adam}
            data = None
        else:
            raise PathError(f"{format_path(tuple(out))} holds no {seg!r}")
    return tuple(out), data


def assign(data: Any, path: Path, value: Any, where: Path = ()) -> tuple[Any, Path]:
    """Return (a copy of ``data`` with ``value`` at ``path``, the path with names as indices).

    Mappings missing on the way are created (a key that only has a default can
    be set); list items must exist. A string met on the way becomes
    ``{type: string}`` first, so ``compile.optimizer.learning_rate`` works on
    ``optimizer: adam``. Only the spine is copied.
    """
    if not path:
        return value, ()
    seg, rest = path[0], path[1:]
    if isinstance(data, list):
        i = _index(data, seg, where)
        child, sub = assign(data[i], rest, value, where + (i,)) if rest else (value, ())
        copy = list(data)
        copy[i] = child
        return copy, (i,) + sub
    if data is None:
        data = {}
    elif isinstance(data, str) and isinstance(seg, str):
        data = {"type": data}
    if not isinstance(data, dict):
        raise PathError(f"{format_path(where)} is a value ({data!r}); it has no {format_path((seg,))!r}")
    if isinstance(seg, int):
        raise PathError(f"{format_path(where) or 'the spec'} is a mapping, not a list; [{seg}] does not apply")
    child, sub = assign(data.get(seg), rest, value, where + (seg,)) if rest else (value, ())
    mapping = dict(data)
    mapping[seg] = child
    return mapping, (seg,) + sub
