"""The Python API: load a spec, derive variants, resolve. Never imports TensorFlow."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from regspec.diagnostics import Diagnostic
from regspec.frontend.merge import apply_overrides, read_spec
from regspec.frontend.source import Document
from regspec.ir.graph import Program
from regspec.ir.shapes import Row, infer_rows
from regspec.lang.layers.base import argument_order
from regspec.lang.model import SpecModel
from regspec.lang.types import drop_unset_later
from regspec.patch import derive, identity_text, targets
from regspec.pipeline import Checked, check_document


@dataclass(frozen=True)
class Spec:
    """A validated spec: its merged data (``document``, for variants), the model as written,
    the resolved model and its graph ``program`` (what every later stage reads)."""

    document: Document
    model: SpecModel
    resolved: SpecModel
    program: Program
    warnings: tuple[Diagnostic, ...] = ()
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
        """The resolved spec as plain data. Keys added to the language after specs were first
        hashed (`ADDED_LATER`) are left out while they hold their default, so a stack spec reads
        (and hashes) as it did before graphs existed."""
        data = self.resolved.model_dump(mode="json", exclude={"extends", "overrides"})
        drop_unset_later(self.resolved, data)
        _tidy_layers(data)
        return data

    @cached_property
    def hash(self) -> str:
        """Identity of what would be trained: the resolved spec without its name and description
        (the sorted JSON of :meth:`resolved_dict`, made from parts a variant shares with its base)."""
        return hashlib.sha256(identity_text(self.resolved).encode()).hexdigest()

    def summary_rows(self) -> list[Row]:
        return infer_rows(self.program)

    def with_overrides(self, overrides: Mapping[str, Any], *, name: str | None = None,
                       source: Document | None = None, origin: Any = None) -> Spec:
        """A new, validated spec with ``{path: value}`` applied (paths as in `overrides:`).

        ``source``/``origin`` say where the values were written (a sweep file,
        the command line), so errors point there.
        """
        overrides = dict(overrides)
        src = source or Document("<overrides>", {"overrides": overrides})
        changed = targets(self.document.data, overrides)
        doc, problems = apply_overrides(self.document, overrides, source=src, origin=origin, located=changed)
        applied = self.applied + tuple(overrides.items())
        if name is not None:
            doc = Document(doc.file, dict(doc.data, name=name), positions=_positions_of(doc), origins=doc.origins)
            applied += (("name", name),)
        if changed is not None and not problems:
            values = [*zip(changed, overrides.values())] + ([(("name",), name)] if name is not None else [])
            checked = derive(Checked(self.model, self.resolved, self.program, self.warnings), self.document.data, doc,
                             values)
            if checked is not None:
                return Spec(doc, checked.model, checked.resolved, checked.program, checked.warnings, applied)
        return from_document(doc, problems, applied)

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

        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        write_text(os.fspath(path), with_overrides_yaml(self.file, self.applied, dest=os.fspath(path)))


def load(path: str | os.PathLike) -> Spec:
    """Read, merge `extends`, apply `overrides`, validate, check and resolve one spec file."""
    doc, problems = read_spec(path)
    return from_document(doc, problems)


def from_document(doc: Document, problems: list[Diagnostic] | None = None,
                  applied: tuple[tuple[str, Any], ...] = ()) -> Spec:
    """A :class:`Spec` from merged data; raises :class:`SpecError` with every problem found."""
    checked = check_document(doc, problems or ())
    return Spec(doc, checked.model, checked.resolved, checked.program, checked.warnings, applied)


def _tidy_layers(node: Any) -> None:
    """List each layer's own arguments before the shared groups (as the schema does), in the
    model, wrapped and augmentation layers alike."""
    if isinstance(node, dict):
        if "type" in node:
            ordered = {k: node[k] for k in argument_order(node)}
            node.clear()
            node.update(ordered)
        for v in node.values():
            _tidy_layers(v)
    elif isinstance(node, list):
        for v in node:
            _tidy_layers(v)


def _positions_of(doc: Document) -> Callable[[], tuple[dict, dict]]:
    return lambda: (doc.values, doc.keys)
