"""What differs between two resolved specs, by the paths a user writes.

Layer lists are aligned first (by type and name, as difflib aligns lines), so a layer
inserted or removed is one line ("dropout inserted after fc1"), not every later index shifted.
A named layer is addressed by its name (`layers.fc1.units`), and the Dropout layer a `dropout:`
annotation became is folded back into it (`layers.fc1.dropout`), as the spec was written.
"""

from __future__ import annotations

import difflib
from typing import Any

from regspec.lang.layers.base import dropout_name
from regspec.paths import Path, format_path

Change = tuple[str, Path, Any, Any]


def diff(a: Any, b: Any) -> list[Change]:
    """Triples of (op, path, old, new); op is '~' changed, '+' only in b, '-' only in a."""
    return _diff(user_view(a), user_view(b), ())


def user_view(data: Any) -> Any:
    """Resolved spec data as the user wrote it: each Dropout layer that a `dropout:` annotation
    inserted (named `<layer>_dropout`, right after the layer) folded back into the annotation."""
    if isinstance(data, dict):
        return {k: _fold(v) if k == "layers" and isinstance(v, list) else user_view(v) for k, v in data.items()}
    if isinstance(data, list):
        return [user_view(v) for v in data]
    return data


def _fold(layers: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in layers:
        item = user_view(item)
        prev = out[-1] if out else None
        if (isinstance(item, dict) and item.get("type") == "dropout" and isinstance(prev, dict)
                and prev.get("name") and item.get("name") == dropout_name(prev["name"]) and prev.get("dropout") is None):
            args = {k: v for k, v in item.items() if k not in ("type", "name", "repeat") and v is not None}
            out[-1] = {**prev, "dropout": args["rate"] if set(args) == {"rate"} else args}
            continue
        out.append(item)
    return out


def leaves(data: Any, path: Path = ()) -> dict[str, Any]:
    """Every value of ``data`` (a user view) by its path; a named layer by its name."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(leaves(v, path + (k,)))
        return out
    if isinstance(data, list) and data:
        out = {}
        for i, v in enumerate(data):
            out.update(leaves(v, path + (_key(data, i),)))
        return out
    return {format_path(path): data}


def _key(items: list, i: int) -> str | int:
    """A list item's path segment: its name when it has one (a layer), else its index."""
    name = items[i].get("name") if isinstance(items[i], dict) else None
    return name if isinstance(name, str) and name else i


def _diff(a: Any, b: Any, path: Path) -> list[Change]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(("-", path + (k,), a[k], None))
            elif k not in a:
                out.append(("+", path + (k,), None, b[k]))
            else:
                out += _diff(a[k], b[k], path + (k,))
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
                out += _diff(a[i], b[i], path + (i,))
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
                out += _diff(a[i], b[j], path + (_key(b, j),))
        elif op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                out += _diff(a[i], b[j], path + (_key(b, j),))
        else:
            out += [("-", path + (_key(a, i),), a[i], None) for i in range(i1, i2)]
            out += [("+", path + (_key(b, j),), _where(b, j), b[j]) for j in range(j1, j2)]
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
