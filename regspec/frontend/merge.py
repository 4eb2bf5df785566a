"""Merge `extends` chains and apply `overrides` on raw data, keeping every value's position.

This runs before validation: a parent alone need not be a complete spec.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from typing import Any

from regspec import paths
from regspec.diagnostics import Diagnostic, SpecError
from regspec.frontend.blocks import expand_blocks
from regspec.frontend.source import Document, Position, read_file
from regspec.lang.data import PATH_FIELDS
from regspec.yamlio import layer_items

MAX_EXTENDS = 16


Merged = tuple[Document, list[Diagnostic]]
_CACHE: dict[tuple, tuple[Merged, list]] = {}


def read_spec(path: str | os.PathLike, _chain: tuple[str, ...] = ()) -> Merged:
    """Read ``path``, merge its ``extends`` parents, apply its ``overrides``.

    Returns the merged document and the problems that did not stop merging (bad
    override paths), to be reported with the validation errors. Results are kept
    per process, keyed by the files' identity and modification times, so a parent
    shared by many specs is read once.
    """
    if os.fspath(path) == "-":  # standard input: `regspec import model.keras | regspec compile -`
        return _load_stdin()
    real = os.path.realpath(path)
    key = _cache_key(path)
    hit = _CACHE.get(key) if key else None
    if hit is not None and all(_cache_key(f) == k for f, k in hit[1]):
        return hit[0][0], list(hit[0][1])
    doc, problems = _load(path, real, _chain)
    if key:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = ((doc, problems), _sources(doc))
    return doc, list(problems)


def _load_stdin() -> Merged:
    import sys

    from regspec.frontend.source import MAX_BYTES, read_bytes

    doc = read_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), "<stdin>")
    if not isinstance(doc.data, dict):
        raise SpecError([Diagnostic(doc.file, 1, 1, (), "a spec must be a mapping at the top level")])
    doc, expanded = expand_blocks(doc)
    doc, more = apply_overrides(doc, doc.data.get("overrides"))
    return doc, expanded + more


def _cache_key(path: str | os.PathLike) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), st.st_mtime_ns, st.st_size, os.fspath(path))


def _sources(doc: Document) -> list[tuple[str, tuple | None]]:
    files = {pos[0] for pos in doc.values.values()}
    return [(f, _cache_key(f)) for f in files if os.path.exists(f)]


def _load(path: str | os.PathLike, real: str, _chain: tuple[str, ...]) -> Merged:
    doc = read_file(path)
    data = doc.data
    if not isinstance(data, dict):
        raise SpecError([Diagnostic(doc.file, 1, 1, (), "a spec must be a mapping at the top level",
                                    "start with 'regspec: 1'")])
    _anchor_data_paths(doc)
    chain = _chain + (real,)
    parent_ref = data.get("extends")
    problems: list[Diagnostic] = []
    if parent_ref is not None:
        doc, problems = _merge_parent(doc, parent_ref, chain)
    doc, expanded = expand_blocks(doc)
    doc, more = apply_overrides(doc, doc.data.get("overrides"))
    return doc, problems + expanded + more


def _anchor_data_paths(doc: Document) -> None:
    """Data paths (and layers' weights files) in a file are relative to that file: make them
    absolute as it is read, so merging with parents and children cannot change what they mean."""
    folder = os.path.dirname(os.path.abspath(doc.file))

    def anchor(mapping: dict, keys: tuple[str, ...]) -> None:
        for key in keys:
            value = mapping.get(key)
            if isinstance(value, str) and value and not os.path.isabs(value):
                mapping[key] = os.path.normpath(os.path.join(folder, value))

    data = doc.data.get("data")
    if isinstance(data, dict):
        anchor(data, PATH_FIELDS)
    for item in layer_items(doc.data):
        anchor(item, ("weights",))
    # `overrides:` written in this file names paths relative to it too: `data: {path: x.npz}` or `data.path: x.npz`.
    overrides = doc.data.get("overrides")
    if isinstance(overrides, dict):
        if isinstance(overrides.get("data"), dict):
            anchor(overrides["data"], PATH_FIELDS)
        anchor(overrides, tuple(f"data.{key}" for key in PATH_FIELDS))



def _merge_parent(doc: Document, ref: Any, chain: tuple[str, ...]) -> Merged:
    _, line, col = doc.position(("extends",))
    if not isinstance(ref, str) or not ref:
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), "must be a path to a parent spec")])
    parent_path = os.path.normpath(os.path.join(os.path.dirname(doc.file), ref))
    real = os.path.realpath(parent_path)
    if real in chain:
        names = " -> ".join(os.path.relpath(p) for p in chain + (real,))
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), f"extends cycle: {names}")])
    if len(chain) > MAX_EXTENDS:
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), f"extends chain deeper than {MAX_EXTENDS}")])
    if not os.path.exists(parent_path):
        names = " -> ".join(os.path.relpath(p) for p in chain)
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), f"parent spec {ref!r} not found",
                                    f"resolved to {os.path.relpath(parent_path)}; chain: {names}")])
    if not parent_path.lower().endswith((".yaml", ".yml", ".json")):  # /etc/passwd, /proc/...: never read
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), f"parent spec {ref!r} is not a spec file",
                                    "extends names a .yaml, .yml or .json spec")])
    if not stat.S_ISREG(os.stat(parent_path).st_mode):  # a device, a FIFO, a folder: never opened
        raise SpecError([Diagnostic(doc.file, line, col, ("extends",), f"parent spec {ref!r} is not a regular file",
                                    "extends names a .yaml, .yml or .json spec")])
    parent, problems = read_spec(parent_path, chain)
    child = {k: v for k, v in doc.data.items() if k not in ("extends", "overrides")}
    merged, values, keys = _deep_merge(parent, doc, child)
    if "overrides" in doc.data:
        merged["overrides"] = doc.data["overrides"]
        _copy_under(doc.values, values, ("overrides",))
        _copy_under(doc.keys, keys, ("overrides",))
    return Document(doc.file, merged, values, keys), problems


def _deep_merge(parent: Document, child_doc: Document, child: dict) -> tuple[dict, dict, dict]:
    """Mappings merge key by key; anything else (lists included) is replaced whole."""
    data = dict(parent.data)
    data.pop("overrides", None)  # a parent's overrides were applied to the parent already
    values = {p: v for p, v in parent.values.items() if p[:1] != ("overrides",)}
    keys = {p: v for p, v in parent.keys.items() if p[:1] != ("overrides",)}

    def merge(dst: dict, src: dict, prefix: paths.Path) -> None:
        for k, v in src.items():
            here = prefix + (k,)
            if isinstance(v, dict) and isinstance(dst.get(k), dict):
                dst[k] = dict(dst[k])
                merge(dst[k], v, here)
            else:
                dst[k] = v
                _drop_under(values, here)
                _drop_under(keys, here)
            _copy_under(child_doc.values, values, here)
            _copy_under(child_doc.keys, keys, here)

    merge(data, child, ())
    values[()] = child_doc.values.get((), (child_doc.file, 1, 1))
    return data, values, keys


def _drop_under(table: dict, prefix: paths.Path) -> None:
    n = len(prefix)
    for p in [p for p in table if p[:n] == prefix]:
        del table[p]


def _copy_under(src: dict, dst: dict, prefix: paths.Path) -> None:
    n = len(prefix)
    for p, pos in src.items():
        if p[:n] == prefix:
            dst[p] = pos


def _key_position(src: Document, at: paths.Path) -> Position:
    """Where the key that holds ``at`` was written (the path itself is the culprit)."""
    p = at
    while p:
        if p in src.keys:
            return src.keys[p]
        p = p[:-1]
    return src.position(at)


def apply_overrides(doc: Document, overrides: Any, *, source: Document | None = None,
                    origin: Callable[[str], paths.Path] | None = None,
                    located: Sequence[paths.Path] | None = None) -> Merged:
    """Apply ``{path: value}`` to the document's data; positions of each value follow it.

    Returns the new document and the bad paths (reported with the validation errors
    of the rest).

    ``source`` is the document the override values come from (default: ``doc``,
    whose ``overrides`` key holds them); ``origin(path_text)`` is where in
    ``source`` that value sits (default: ``("overrides", path_text)``).
    Positions are worked out only when someone asks for them. ``located``: each override's
    path with names as indices, when the caller has found them already (a variant's).
    """
    if overrides is None:
        return doc, []
    src = source or doc
    where = origin or (lambda text: ("overrides", text))
    if not isinstance(overrides, dict):
        _, line, col = src.position(("overrides",))
        raise SpecError([Diagnostic(src.file, line, col, ("overrides",), "must be a mapping of path -> value")])
    data = {k: v for k, v in doc.data.items() if k != "overrides"}
    errors: list[Diagnostic] = []
    done: list[tuple[paths.Path, paths.Path]] = []  # (target in data, origin in source)
    for k, (text, value) in enumerate(overrides.items()):
        at = where(text)
        try:
            target = paths.parse(text) if located is None else located[k]
            if target[:1] in (("extends",), ("overrides",), ("regspec",)):
                raise paths.PathError(f"{target[0]} cannot be overridden")
            data, target = paths.assign(data, target, value)
        except paths.PathError as exc:
            kpos = _key_position(src, at)
            errors.append(Diagnostic(kpos[0], kpos[1], kpos[2], (*at[:1], text),
                                     exc.message, exc.hint))
            continue
        done.append((target, at))

    def positions() -> tuple[dict, dict]:
        values = dict(doc.values)
        keys = dict(doc.keys)
        for target, at in done:
            _drop_under(values, target)
            _drop_under(keys, target)
            n = len(at)
            for p, pos in src.values.items():
                if p[:n] == at:
                    values[target + p[n:]] = pos
            for p, pos in src.keys.items():
                if p[:n] == at and len(p) > n:
                    keys[target + p[n:]] = pos
            keys.setdefault(target, _key_position(src, at))
        return values, keys

    return Document(doc.file, data, positions=positions, origins=doc.origins), errors
