"""The one place that decides whether a spec is valid.

Validation (pydantic), cross-field checks, the graph (resolve) and static shapes
all report here; every problem of a document comes out in one `SpecError`,
sorted by position. Warnings (valid, but probably not meant) travel beside the
result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from regspec.diagnostics import Collector, Diagnostic, SpecError
from regspec.frontend.checks import check
from regspec.frontend.source import Document
from regspec.frontend.validate import validate_document
from regspec.ir.given_weights import check_given_weights
from regspec.ir.graph import Program, SourceMap
from regspec.ir.resolve import resolve
from regspec.ir.shapes import BYTES_PER_WEIGHT, Row, ShapeProblem, infer_rows, memory
from regspec.lang.model import SpecModel
from regspec.paths import format_path


@dataclass(frozen=True)
class Checked:
    model: SpecModel  # as written (validated)
    resolved: SpecModel  # flat and explicit
    program: Program
    warnings: tuple[Diagnostic, ...]


def check_document(doc: Document, found: Sequence[Diagnostic] = ()) -> Checked:
    """Validate, check, resolve and infer shapes; raise every error found (plus ``found``)."""
    problems = Collector(doc.position)
    problems.extend(found)  # from reading and merging: their paths are the file's own
    try:
        model = validate_document(doc, SpecModel)
    except SpecError as exc:
        problems.extend(_from_block(d, doc) for d in exc.diagnostics)
        problems.raise_errors()
        raise
    assert isinstance(model, SpecModel)
    later = Collector(doc.position)
    later.extend(check(model, doc))
    resolved, program, graph = resolve(model, SourceMap(doc.file, doc.position))
    later.extend(graph)
    if not problems.errors and not later.errors:  # shapes need a whole, well-formed graph
        raw = doc.data.get("layers")
        try:
            rows = infer_rows(program, raw if isinstance(raw, list) else None)
        except ShapeProblem as exc:
            later.add(exc.path, exc.message)
        else:
            check_given_weights(program, rows, later.add)
            _fits_in_memory(program, rows, later)
    problems.extend(_from_block(d, doc) for d in later.found)
    problems.raise_errors()
    return Checked(model, resolved, program, tuple(problems.warnings))


def _from_block(d: Diagnostic, doc: Document) -> Diagnostic:
    """A problem in a layer expanded from a block also names the use it came from."""
    if len(d.at) < 2 or d.at[0] != "layers" or not isinstance(d.at[1], int):
        return d
    index = d.at[1]
    origin = doc.origins.get(index)
    if origin is None:
        return d
    where = f"in block {origin.block!r} used by {format_path(origin.use)} at line {origin.at[1]}"
    layers = doc.data.get("layers")
    item = layers[index] if isinstance(layers, list) and index < len(layers) else None
    name = item.get("name") if isinstance(item, dict) else None
    at = ("layers", name, *d.at[2:]) if isinstance(name, str) else d.at  # the expanded index is no line of the file
    return replace(d, at=at, hint=f"{d.hint}; {where}" if d.hint else where)


def _fits_in_memory(program: Program, rows: list[Row], found: Collector) -> None:
    """A model whose weights alone exceed this machine's memory cannot be built here: refused at the
    layer with the most weights (a dense of 100,000 units after a flatten needs 60 GB)."""
    total = sum(r.trainable + r.non_trainable for r in rows)
    available = physical_memory()
    if not rows or available is None or total * BYTES_PER_WEIGHT <= available:
        return
    largest = max(rows, key=lambda r: r.trainable + r.non_trainable)
    own = largest.trainable + largest.non_trainable
    found.add(program.nodes[largest.index].path,
              f"the model's weights alone need {memory(total)} ({total:,} parameters, {own:,} of them here); "
              f"this machine has {memory(available // BYTES_PER_WEIGHT)}",
              "fewer units, or a smaller input to the layer: a flatten before a large dense is the usual cause")


def physical_memory() -> int | None:
    """This machine's memory in bytes (None where the system does not say)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None
