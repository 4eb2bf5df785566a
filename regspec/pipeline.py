"""The one place that decides whether a spec is valid.

Validation (pydantic), cross-field checks, the graph (resolve) and static shapes
all report here; every problem of a document comes out in one `SpecError`,
sorted by position. Warnings (valid, but probably not meant) travel beside the
result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.checks import check
from regspec.frontend.source import Document
from regspec.frontend.validate import validate_document
from regspec.ir.graph import Program, SourceMap
from regspec.ir.resolve import resolve
from regspec.ir.shapes import ShapeProblem, infer_rows
from regspec.lang.model import SpecModel
from regspec.paths import format_path


@dataclass(frozen=True)
class Checked:
    model: SpecModel  # as written (validated)
    resolved: SpecModel  # flat and explicit
    program: Program
    warnings: tuple[Diagnostic, ...]


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


def check_document(doc: Document, found: Sequence[Diagnostic] = ()) -> Checked:
    """Validate, check, resolve and infer shapes; raise every error found (plus ``found``)."""
    errors = list(found)  # from reading and merging: their paths are the file's own
    try:
        model = validate_document(doc, SpecModel)
    except SpecError as exc:
        raise SpecError(_sorted(errors + [_from_block(d, doc) for d in exc.diagnostics])) from None
    assert isinstance(model, SpecModel)
    later = check(model, doc)
    resolved, program, graph = resolve(model, SourceMap(doc.file, doc.position))
    later += [d for d in graph if d.severity == "error"]
    warnings = tuple(d for d in graph if d.severity != "error")
    if not errors and not later:  # shapes need a whole, well-formed graph
        raw = doc.data.get("layers")
        try:
            infer_rows(program, raw if isinstance(raw, list) else None)
        except ShapeProblem as exc:
            file, line, col = doc.position(exc.path)
            later.append(Diagnostic(file, line, col, format_path(exc.path), exc.message))
    errors += [_from_block(d, doc) for d in later]
    if errors:
        raise SpecError(_sorted(errors))
    return Checked(model, resolved, program, tuple(_from_block(d, doc) for d in warnings))


def _from_block(d: Diagnostic, doc: Document) -> Diagnostic:
    """A problem in a layer expanded from a block also names the use it came from."""
    m = re.match(r"layers\[(\d+)\]", d.path)
    origin = doc.origins.get(int(m.group(1))) if m else None
    if origin is None or m is None:
        return d
    where = f"in block {origin.block!r} used by {format_path(origin.use)} at line {origin.at[1]}"
    layers = doc.data.get("layers")
    item = layers[int(m.group(1))] if isinstance(layers, list) else None
    name = item.get("name") if isinstance(item, dict) else None
    path = f"layers.{name}{d.path[m.end():]}" if isinstance(name, str) else d.path  # the expanded index is no line of the file
    return replace(d, path=path, hint=f"{d.hint}; {where}" if d.hint else where)
