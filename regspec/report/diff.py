"""What differs between two resolved specs, by path.

Layer lists are aligned first (by type and name, as difflib aligns lines), so a layer
inserted or removed is one line ("dropout inserted after fc1"), not every later index shifted.
"""

from __future__ import annotations

import difflib
from typing import Any

from regspec.paths import Path, format_path

Change = tuple[str, Path, Any, Any]


def diff(a: Any, b: Any, path: Path = ()) -> list[Change]:
    """Triples of (op, path, old, new); op is '~' changed, '+' only in b, '-' only in a."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(("-", path + (k,), a[k], None))
            elif k not in a:
                out.append(("+", path + (k,), None, b[k]))
            else:
                out += diff(a[k], b[k], path + (k,))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if _layers(a) and _layers(b):
            return _diff_layers(a, b, path)
        out = []
        for i in range(max(len(a), len(b))):
            if i >= len(b):
                out.append(("-", path + (i,), a[i], None))
            elif i >= len(a):
                out.append(("+", path + (i,), None, b[i]))
            else:
                out += diff(a[i], b[i], path + (i,))
        return out
    return [] if a == b and type(a) is type(b) else [("~", path, a, b)]


def _layers(items: list) -> bool:
    return bool(items) and all(isinstance(it, dict) and "type" in it for it in items)


def _identity(layer: dict) -> tuple:
    return layer.get("type"), layer.get("name")


def _diff_layers(a: list[dict], b: list[dict], path: Path) -> list[Change]:
    out: list[Change] = []
    matcher = difflib.SequenceMatcher(a=[_identity(x) for x in a], b=[_identity(x) for x in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                out += diff(a[i], b[j], path + (j,))
        elif op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                out += diff(a[i], b[j], path + (j,))
        else:
            out += [("-", path + (i,), a[i], None) for i in range(i1, i2)]
            out += [("+", path + (j,), _where(b, j), b[j]) for j in range(j1, j2)]
    return out


def _where(layers: list[dict], j: int) -> str:
    """Where an inserted layer sits, in words: after the layer before it."""
    if j == 0:
        return "first"
    before = layers[j - 1]
    return f"after {before.get('name') or before.get('type')}"


def format_diff(changes: list[Change]) -> str:
    lines = []
    for op, path, old, new in changes:
        p = format_path(path)
        if op == "~":
            lines.append(f"~ {p}: {_short(old)} -> {_short(new)}")
        elif op == "+":
            if isinstance(new, dict) and "type" in new and isinstance(old, str):  # an inserted layer
                lines.append(f"+ {p}: {new['type']} inserted {old}: {_short(new)}")
            else:
                lines.append(f"+ {p}: {_short(new)}")
        elif isinstance(old, dict) and "type" in old:
            lines.append(f"- {p}: {old['type']} removed: {_short(old)}")
        else:
            lines.append(f"- {p}: {_short(old)}")
    return "\n".join(lines)


def _short(v: Any) -> str:
    if isinstance(v, dict):
        inner = ", ".join(f"{k}: {_short(x)}" for k, x in v.items() if x is not None)
        return "{" + inner + "}"
    if v is None:
        return "null"
    return repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
