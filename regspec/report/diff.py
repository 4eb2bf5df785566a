"""What differs between two resolved specs, by path."""

from __future__ import annotations

from typing import Any

from regspec.paths import Path, format_path


def diff(a: Any, b: Any, path: Path = ()) -> list[tuple[str, Path, Any, Any]]:
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


def format_diff(changes: list[tuple[str, Path, Any, Any]]) -> str:
    lines = []
    for op, path, old, new in changes:
        p = format_path(path)
        if op == "~":
            lines.append(f"~ {p}: {_short(old)} -> {_short(new)}")
        elif op == "+":
            lines.append(f"+ {p}: {_short(new)}")
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
