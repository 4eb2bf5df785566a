"""The one place that decides whether a spec is valid.

Validation (pydantic), cross-field checks, the graph (resolve) and static shapes
all report here; every problem of a document comes out in one `SpecError`,
sorted by position. Warnings (valid, but probably not meant) travel beside the
result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.checks import check
from regspec.frontend.source import Document
from regspec.frontend.validate import validate_document
from regspec.ir.graph import Program
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
    errors = list(found)
    try:
        model = validate_document(doc, SpecModel)
    except SpecError as exc:
        raise SpecError(_sorted(errors + exc.diagnostics)) from None
    assert isinstance(model, SpecModel)
    errors += check(model, doc)
    resolved, program, graph = resolve(model, doc)
    errors += [d for d in graph if d.severity == "error"]
    warnings = tuple(d for d in graph if d.severity != "error")
    if not errors:  # shapes need a whole, well-formed graph
        raw = doc.data.get("layers")
        try:
            infer_rows(program, raw if isinstance(raw, list) else None)
        except ShapeProblem as exc:
            file, line, col = doc.position(exc.path)
            errors.append(Diagnostic(file, line, col, format_path(exc.path), exc.message))
    if errors:
        raise SpecError(_sorted(errors))
    return Checked(model, resolved, program, warnings)
