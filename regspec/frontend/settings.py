"""`--set PATH=VALUE` from the command line: VALUE is read as YAML (so `0.2`, `{l1: 0.001}`).

Each item is its own little source: a bad path or value is reported at the item
(`--set layers.fc9.units=3:1:5: error: ...`), not at the spec line that held the old value.
"""

from __future__ import annotations

from typing import Any

from regspec.diagnostics import Diagnostic, SpecError, safe
from regspec.frontend.source import Document, read_text
from regspec.paths import Path


def parse_sets(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return parse_set_items(items)[0]


def parse_set_items(items: tuple[str, ...] | list[str]) -> tuple[dict[str, Any], Document]:
    """The overrides, and a document placing each one at its command-line item."""
    out: dict[str, Any] = {}
    values: dict[Path, tuple[str, int, int]] = {}
    errors: list[Diagnostic] = []
    for item in items:
        name = f"--set {safe(item, 80)}"
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            errors.append(Diagnostic(name, 1, 1, (), "expected PATH=VALUE"))
            continue
        if "\n" in text or "\r" in text:
            errors.append(Diagnostic(name, 1, len(path) + 2, (), "a --set value is one line",
                                     "give each field its own --set"))
            continue
        try:
            doc = read_text(f"v: {text}" if text.strip() else "v: null", name)
        except SpecError as exc:
            errors += [Diagnostic(d.file, 1, max(1, d.column - 3 + len(path) + 1), d.at, d.message, d.hint)
                       for d in exc.diagnostics]
            continue
        key = path.strip()
        out[key] = doc.data["v"]
        values[("overrides", key)] = (name, 1, len(path) + 2)
    if errors:
        raise SpecError(errors)
    return out, Document("--set", {"overrides": out}, values, dict(values))
