"""The Python API: load a spec, derive variants, resolve. Never imports TensorFlow."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .checks import check
from .diagnostics import Diagnostic, SpecError
from .loader import apply_overrides, load_document
from .paths import Path, format_path
from .resolve import resolve
from .source import Document
from .spec.model import Spec as SpecModel
from .summary import Row, SummaryError, infer_rows
from .validate import validate_document


@dataclass(frozen=True)
class Spec:
    """A validated spec: as written (``model``), resolved (``resolved``), and its raw data."""

    document: Document
    model: SpecModel
    resolved: SpecModel
    origins: tuple[Path, ...]

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def data(self) -> dict:
        return self.document.data

    def resolved_dict(self) -> dict:
        return self.resolved.model_dump(mode="json", exclude={"extends", "overrides"})

    @property
    def hash(self) -> str:
        """Identity of what would be trained: the resolved spec without its name and description."""
        body = self.resolved_dict()
        body.pop("name", None)
        body.pop("description", None)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def summary_rows(self) -> list[Row]:
        return infer_rows(self.resolved, list(self.origins))

    def with_overrides(self, overrides: Mapping[str, Any], *, name: str | None = None) -> Spec:
        """A new, validated spec with ``{path: value}`` applied (paths as in `overrides:`)."""
        src = Document(self.file, {"overrides": dict(overrides)})
        doc = apply_overrides(self.document, dict(overrides), source=src)
        if name is not None:
            doc = Document(doc.file, dict(doc.data, name=name), doc.values, doc.keys)
        return from_document(doc)


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


def load(path: str | os.PathLike) -> Spec:
    """Read, merge `extends`, apply `overrides`, validate, check and resolve one spec file."""
    return from_document(load_document(path))


def from_document(doc: Document) -> Spec:
    try:
        model = validate_document(doc)
    except SpecError as exc:
        raise SpecError(_sorted(doc.pending + exc.diagnostics)) from None
    problems = doc.pending + check(model, doc)  # type: ignore[arg-type]
    if problems:
        raise SpecError(_sorted(problems))
    resolved, origins = resolve(model, doc)  # type: ignore[arg-type]
    try:
        infer_rows(resolved, origins)
    except SummaryError as exc:
        file, line, col = doc.position(exc.path)
        raise SpecError([Diagnostic(file, line, col, format_path(exc.path), exc.message)]) from None
    return Spec(doc, model, resolved, tuple(origins))  # type: ignore[arg-type]
