"""`--set PATH=VALUE` from the command line: VALUE is read as YAML (so `0.2`, `{l1: 0.001}`)."""

from __future__ import annotations

from typing import Any

from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.source import read_text


def parse_sets(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: list[Diagnostic] = []
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path:
            errors.append(Diagnostic("--set", 1, 1, "", f"expected PATH=VALUE, got {item!r}"))
            continue
        try:
            out[path.strip()] = read_text(f"v: {text}" if text.strip() else "v: null", f"--set {path}").data["v"]
        except SpecError as exc:
            errors += exc.diagnostics
    if errors:
        raise SpecError(errors)
    return out
