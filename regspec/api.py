"""The Python API: load a spec, derive variants, resolve. Never imports TensorFlow."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.checks import check
from regspec.frontend.merge import apply_overrides, load_document
from regspec.frontend.source import Document
from regspec.frontend.validate import validate_document
from regspec.ir.resolve import resolve
from regspec.ir.shapes import Row, SummaryError, infer_rows
from regspec.lang.model import Spec as SpecModel
from regspec.paths import Path, format_path


@dataclass(frozen=True)
class Spec:
    """A validated spec: as written (``model``), resolved (``resolved``), and its raw data."""

    document: Document
    model: SpecModel
    resolved: SpecModel
    origins: tuple[Path, ...]
    #: The (path, value) overrides applied on top of the file, in order (for variants).
    applied: tuple[tuple[str, Any], ...] = ()

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

    def with_overrides(self, overrides: Mapping[str, Any], *, name: str | None = None,
                       source: Document | None = None, origin: Any = None) -> Spec:
        """A new, validated spec with ``{path: value}`` applied (paths as in `overrides:`).

        ``source``/``origin`` say where the values were written (a sweep file,
        the command line), so errors point there.
        """
        overrides = dict(overrides)
        src = source or Document("<overrides>", {"overrides": overrides})
        doc = apply_overrides(self.document, overrides, source=src, origin=origin)
        applied = self.applied + tuple(overrides.items())
        if name is not None:
            doc = Document(doc.file, dict(doc.data, name=name), pending=doc.pending,
                           positions=lambda d=doc: (d.values, d.keys))
            applied += (("name", name),)
        spec = from_document(doc)
        return Spec(spec.document, spec.model, spec.resolved, spec.origins, applied)

    def to_yaml(self) -> str:
        """This spec as its file was written, plus the overrides that made this variant.

        Comments and key order of the file are kept (ruamel round-trip); the
        variant's values go under `overrides:`.
        """
        from regspec.yamlio import with_overrides_yaml

        return with_overrides_yaml(self.file, self.applied)

    def write(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_yaml` to ``path``, re-basing relative paths to the new folder."""
        from regspec.files import write_text
        from regspec.yamlio import with_overrides_yaml

        write_text(os.fspath(path), with_overrides_yaml(self.file, self.applied, dest=os.fspath(path)))


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
    raw_layers = doc.data.get("layers") if isinstance(doc.data.get("layers"), list) else None
    try:
        infer_rows(resolved, origins, raw_layers)
    except SummaryError as exc:
        file, line, col = doc.position(exc.path)
        raise SpecError([Diagnostic(file, line, col, format_path(exc.path), exc.message)]) from None
    return Spec(doc, model, resolved, tuple(origins))  # type: ignore[arg-type]
