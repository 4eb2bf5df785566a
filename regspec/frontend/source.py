"""Read a YAML or JSON spec file into plain data that remembers where each value came from.

The reader builds Python data straight from parse events instead of using a
YAML constructor: no constructor ever runs, so a tag can never turn into an
object, and every guard against hostile input (tags,
directives, alias bombs, cyclic aliases, depth, size, duplicate keys,
non-string keys, oversized integers) is checked in the same linear pass,
without recursion. Scalars resolve by the YAML 1.2 core schema (``1e-3`` is a
float, ``no`` is a string).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:  # libyaml's C parser gives the same events ~40x faster than ruamel's pure-Python one
    import yaml as _pyyaml

    _LIBYAML = bool(getattr(_pyyaml, "__with_libyaml__", False))
except ImportError:  # pragma: no cover - PyYAML is a dependency, but the reader works without it
    _pyyaml = None
    _LIBYAML = False

from regspec.diagnostics import Diagnostic, Position, SpecError
from regspec.paths import Path

MAX_BYTES = 512 * 1024  # a hand-written spec is a few KiB
MAX_DEPTH = 64
MAX_NODES = 20_000  # after alias expansion: an imported NASNetMobile has ~9k; libyaml reads 20k in ~25 ms
MAX_INT_DIGITS = 30

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_DIRECTIVE = re.compile(r"^%", re.M)
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_FLOW_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'|(?:^|(?<=\s))#[^\n]*|[\[\]{}]', re.M)
_JSON_WORDS = {"true", "false", "null"}
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


#: The top-level key a JSON spec or sweep file names its JSON Schema with (as editors read it).
SCHEMA_KEY = "$schema"


class Document:
    """Plain data (dicts, lists, str, int, float, bool, None) plus positions by path.

    Positions can be given lazily (``positions=callable``): a variant made by
    overrides computes them only if an error needs them.
    """

    __slots__ = ("file", "data", "_values", "_keys", "_lazy", "origins")

    def __init__(self, file: str, data: Any, values: dict[Path, Position] | None = None,
                 keys: dict[Path, Position] | None = None,
                 positions: Callable[[], tuple[dict, dict]] | None = None, origins: dict[int, Any] | None = None):
        self.file = file
        self.data = data
        #: Layer index -> the block use it was expanded from (see frontend.blocks).
        self.origins = origins or {}
        self._values = values
        self._keys = keys
        self._lazy = positions if values is None else None

    def _materialize(self) -> None:
        if self._lazy is not None:
            self._values, self._keys = self._lazy()
            self._lazy = None
        if self._values is None:
            self._values, self._keys = {}, self._keys or {}

    @property
    def values(self) -> dict[Path, Position]:
        self._materialize()
        assert self._values is not None
        return self._values

    @property
    def keys(self) -> dict[Path, Position]:
        self._materialize()
        assert self._keys is not None
        return self._keys

    def position(self, path: Path) -> Position:
        """The position of ``path``'s value, or of its nearest ancestor's."""
        p = tuple(path)
        values = self.values
        while p:
            if p in values:
                return values[p]
            p = p[:-1]
        return values.get((), (self.file, 1, 1))


class _Fatal(Exception):
    pass


def read_file(path: str | os.PathLike, *, display: str | None = None) -> Document:
    """Read and check one spec file; raise :class:`SpecError` with every problem found."""
    name = display or os.fspath(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SpecError([Diagnostic(name, 1, 1, (), f"cannot read file: {exc.strerror or exc}")]) from None
    if not stat.S_ISREG(st.st_mode):
        raise SpecError([Diagnostic(name, 1, 1, (), "not a regular file", "a spec must be a .yaml, .yml or .json file")])
    if st.st_size > MAX_BYTES:
        raise SpecError([Diagnostic(name, 1, 1, (), f"file too large ({st.st_size} bytes; the limit is {MAX_BYTES})")])
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError([Diagnostic(name, 1, 1, (), f"cannot read file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_BYTES:
        raise SpecError([Diagnostic(name, 1, 1, (), f"file too large (over {MAX_BYTES} bytes)")])
    is_json = os.fspath(path).lower().endswith(".json")
    return read_bytes(raw, name, is_json=is_json)


def read_bytes(raw: bytes, name: str, *, is_json: bool = False) -> Document:
    if len(raw) > MAX_BYTES:
        raise SpecError([Diagnostic(name, 1, 1, (), f"file too large (over {MAX_BYTES} bytes)")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw[: exc.start].decode("utf-8", "replace"), None)
        raise SpecError([Diagnostic(name, line, col, (), "file is not valid UTF-8", f"byte 0x{raw[exc.start]:02x}")]) from None
    return read_text(text, name, is_json=is_json)


def read_text(text: str, name: str, *, is_json: bool = False) -> Document:
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text) > MAX_BYTES:
        raise SpecError([Diagnostic(name, 1, 1, (), f"file too large (over {MAX_BYTES} characters)")])
    m = _CONTROL.search(text)
    if m:
        line, col = _line_col(text, m.start())
        raise SpecError([Diagnostic(name, line, col, (), f"control character U+{ord(m.group()):04X} in file")])
    _check_flow_depth(text, name)
    if is_json:
        _check_json(text, name)
    else:
        m = _DIRECTIVE.search(text)
        if m:
            line, col = _line_col(text, m.start())
            raise SpecError([Diagnostic(name, line, col, (), "YAML directives (%YAML, %TAG) are not allowed",
                                        "specs are YAML 1.2; remove the directive line")])
    doc = _Builder(name, is_json).build(text)
    if isinstance(doc.data, dict) and isinstance(doc.data.get(SCHEMA_KEY), str):
        # A JSON file names its schema so (YAML has the modeline): for editors only, not the model.
        del doc.data[SCHEMA_KEY]
    return doc


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.splitlines()
    return lines[line - 1][col - 1] if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]) else ""


def _line_col(text: str, index: int | None) -> tuple[int, int]:
    before = text if index is None else text[:index]
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _check_flow_depth(text: str, name: str) -> None:
    """Refuse deeply nested [ { before parsing: ruamel's scanner reads all of them before
    the first event, so the event-level depth check would come too late."""
    depth = 0
    for m in _FLOW_TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _line_col(text, m.start())
                raise SpecError([Diagnostic(name, line, col, (), f"nesting too deep (the limit is {MAX_DEPTH} levels)")])
        elif c in "]}":
            depth = max(depth - 1, 0)


def _check_json(text: str, name: str) -> None:
    """Strict JSON syntax first (the YAML pass below then gives positions and duplicate keys)."""

    def no_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a number in a spec")

    def checked_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise _LongInt(digits)
        return int(digits)

    try:
        json.loads(text, parse_constant=no_constant, parse_int=checked_int)
    except _LongInt as exc:
        line, col = _line_col(text, text.find(str(exc)[:64]))
        n = len(str(exc).lstrip("-"))
        raise SpecError([Diagnostic(name, line, col, (), f"integer literal too long ({n} digits)")]) from None
    except json.JSONDecodeError as exc:
        raise SpecError([Diagnostic(name, exc.lineno, exc.colno, (), f"invalid JSON: {exc.msg}")]) from None
    except ValueError as exc:  # NaN / Infinity, or an over-long integer
        word = str(exc).split(" ")[0]
        idx = text.find(word)
        line, col = _line_col(text, idx if idx >= 0 else 0)
        raise SpecError([Diagnostic(name, line, col, (), f"{exc}", "numbers must be finite")]) from None
    except RecursionError:
        raise SpecError([Diagnostic(name, 1, 1, (), f"nesting too deep (the limit is {MAX_DEPTH} levels)")]) from None


def _yaml_errors(marked: bool) -> tuple[type[Any], ...]:
    """The parse errors (with a position, or all) of the parsers that ran. Called from `except`
    clauses, so after parsing: ruamel is imported only when its parser ran (with libyaml,
    reading a spec never pays for it)."""
    found: tuple[type[Any], ...] = ()
    if _pyyaml:
        found += (_pyyaml.MarkedYAMLError if marked else _pyyaml.YAMLError,)
    if "ruamel.yaml" in sys.modules:
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        found += (MarkedYAMLError if marked else YAMLError,)
    return found


def parse_events(text: str, parser: str | None = None) -> Any:
    """YAML parse events: libyaml's when available, else ruamel's (REGSPEC_YAML_PARSER picks)."""
    choice = parser or os.environ.get("REGSPEC_YAML_PARSER") or ("libyaml" if _LIBYAML else "ruamel")
    if choice == "libyaml" and _LIBYAML:
        return _pyyaml.parse(text, Loader=_pyyaml.CSafeLoader)
    from ruamel.yaml import YAML

    return YAML(typ="rt", pure=True).parse(text)


class _LongInt(ValueError):
    pass


class _Builder:
    def __init__(self, name: str, is_json: bool):
        self.name = name
        self.is_json = is_json
        self.errors: list[Diagnostic] = []
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.nodes = 0

    def _pos(self, mark: Any) -> Position:
        return (self.name, mark.line + 1, mark.column + 1)

    def _error(self, mark: Any, path: Path, message: str, hint: str | None = None) -> None:
        _, line, col = self._pos(mark)
        self.errors.append(Diagnostic(self.name, line, col, path, message, hint))

    def _fatal(self, mark: Any, path: Path, message: str, hint: str | None = None) -> _Fatal:
        self._error(mark, path, message, hint)
        return _Fatal()

    def build(self, text: str) -> Document:
        try:
            root = self._consume(parse_events(text))
        except _Fatal:
            raise SpecError(self.errors) from None
        except _yaml_errors(marked=True) as exc:
            problem = exc.problem or exc.context or "cannot parse"
            # "could not find expected ':'" is found on the next line; the context mark is the key
            # that lacks its colon, which is where the mistake is.
            # An unclosed quote is found at the end of the stream; the quote that opens it is the mistake.
            unclosed = "quoted scalar" in str(exc.context or "") and "end of stream" in problem
            if unclosed:
                problem = "a quote that is never closed"
            mark = exc.context_mark if ("expected ':'" in problem or unclosed) and exc.context_mark else \
                exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            hint = None
            if "cannot start any token" in problem and _char_at(text, line, col) == "\t":
                problem, hint = "a tab character", "YAML indents with spaces, never tabs"
            elif "expected ':'" in problem:
                hint = "a key needs a colon and a space: `key: value`"
            self.errors.append(Diagnostic(self.name, line, col, (), f"invalid {'JSON' if self.is_json else 'YAML'}: {problem}",
                                          hint))
            raise SpecError(self.errors) from None
        except _yaml_errors(marked=False) + (RecursionError, ValueError) as exc:
            self.errors.append(Diagnostic(self.name, 1, 1, (), f"cannot parse: {exc}"))
            raise SpecError(self.errors) from None
        if self.errors:
            raise SpecError(self.errors)
        return Document(self.name, root, self.values, self.keys)

    def _consume(self, events: Any) -> Any:
        # Each frame: [container, path, pending key or None, anchor, nodes at start]
        stack: list[list] = []
        anchors: dict[str, tuple[Any, int]] = {}
        open_anchors: set[str] = set()
        root: Any = None
        documents = 0
        has_root = False

        def attach(value: Any, mark: Any, anchor: str | None, size: int) -> None:
            nonlocal root, has_root
            if anchor:
                anchors[anchor] = (value, size)
            if not stack:
                root, has_root = value, True
                return
            frame = stack[-1]
            container, path = frame[0], frame[1]
            if isinstance(container, list):
                container.append(value)
                self.values.setdefault(path + (len(container) - 1,), self._pos(mark))
            else:
                key = frame[2]
                frame[2] = None
                container[key] = value
                self.values.setdefault(path + (key,), self._pos(mark))

        def child_path() -> Path:
            if not stack:
                return ()
            frame = stack[-1]
            if isinstance(frame[0], list):
                return frame[1] + (len(frame[0]),)
            return frame[1] + (frame[2],)

        for event in events:
            kind = type(event).__name__  # ruamel and PyYAML name their event classes alike
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise self._fatal(event.start_mark, (), "several YAML documents in one file",
                                      "a spec file holds exactly one document; remove the '---' separators")
                continue
            if kind in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
                continue

            in_key = bool(stack) and isinstance(stack[-1][0], dict) and stack[-1][2] is None
            if kind in ("MappingEndEvent", "SequenceEndEvent"):
                container, path, _, anchor, start = stack.pop()
                if anchor:
                    open_anchors.discard(anchor)
                attach(container, event.start_mark, anchor, self.nodes - start + 1)
                continue

            tag = getattr(event, "tag", None)
            anchor = getattr(event, "anchor", None)
            if tag is not None:
                self._error(event.start_mark, child_path() if not in_key else stack[-1][1],
                            f"YAML tags are not allowed (found {tag!s})", "specs are plain data; remove the tag")
            if self.is_json and (anchor or kind == "AliasEvent"):
                raise self._fatal(event.start_mark, (), "invalid JSON: anchors and aliases are YAML only")

            if in_key:
                frame = stack[-1]
                if kind != "ScalarEvent":
                    raise self._fatal(event.start_mark, frame[1], "mapping keys must be strings",
                                      "complex keys and aliases as keys are not allowed")
                key = event.value if event.style else self._scalar(event, frame[1])
                if not isinstance(key, str):
                    self._error(event.start_mark, frame[1], f"mapping keys must be strings (got {event.value!r})",
                                f"quote it: \"{event.value}\"")
                    key = event.value
                kpath = frame[1] + (key,)
                if key in frame[0] or kpath in self.keys:
                    first = self.keys.get(kpath)
                    self._error(event.start_mark, kpath, f"duplicate key {key!r}",
                                f"first defined at line {first[1]}" if first else None)
                    key = _Shadow(key)  # keep parsing; the value goes nowhere
                else:
                    self.keys[kpath] = self._pos(event.start_mark)
                frame[2] = key
                self._count(event)
                continue

            if len(stack) >= MAX_DEPTH:
                raise self._fatal(event.start_mark, child_path(), f"nesting too deep (the limit is {MAX_DEPTH} levels)")

            if kind == "AliasEvent":
                if event.anchor in open_anchors:
                    raise self._fatal(event.start_mark, child_path(), f"cyclic alias *{event.anchor}",
                                      "an alias cannot refer to the node that contains it")
                if event.anchor not in anchors:
                    raise self._fatal(event.start_mark, child_path(), f"unknown alias *{event.anchor}")
                value, size = anchors[event.anchor]
                self.nodes += size
                if self.nodes > MAX_NODES:
                    raise self._fatal(event.start_mark, child_path(),
                                      f"too many nodes after expanding aliases (the limit is {MAX_NODES})",
                                      "an alias bomb? use fewer nested aliases")
                attach(value, event.start_mark, None, size)
            elif kind == "ScalarEvent":
                self._count(event)
                value = self._scalar(event, child_path())
                attach(value, event.start_mark, anchor, 1)
            elif kind in ("MappingStartEvent", "SequenceStartEvent"):
                self._count(event)
                opened: Any = {} if kind == "MappingStartEvent" else []
                path = child_path()
                self.values.setdefault(path, self._pos(event.start_mark))
                if anchor:
                    open_anchors.add(anchor)
                stack.append([opened, path, None, anchor, self.nodes])
        if not has_root or root is None:
            raise self._fatal(_Mark(0, 0), (), "empty spec", "a spec is a mapping that starts with 'regspec: 1'")
        return _strip_shadows(root)

    def _count(self, event: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._fatal(event.start_mark, (), f"too many nodes (the limit is {MAX_NODES})")

    def _scalar(self, event: Any, path: Path) -> Any:
        value: str = event.value
        if event.style:  # quoted or block scalar: always a string
            if self.is_json and event.style != '"':
                raise self._fatal(event.start_mark, path, "invalid JSON: strings use double quotes")
            if event.style == ">":
                # ruamel's round-trip parser marks folds with BEL; the file itself cannot hold one.
                value = value.replace("\a", "")
            return value
        if self.is_json and value not in _JSON_WORDS and not _JSON_NUMBER.fullmatch(value):
            raise self._fatal(event.start_mark, path, f"invalid JSON value {value!r}")
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if _INT.fullmatch(value) or _OCT.fullmatch(value) or _HEX.fullmatch(value):
            digits = len(value.lstrip("+-"))
            if digits > MAX_INT_DIGITS:
                self._error(event.start_mark, path, f"integer literal too long ({digits} digits)")
                return 0
            if value.startswith("0o"):
                return int(value[2:], 8)
            if value.startswith("0x"):
                return int(value[2:], 16)
            return int(value)
        if _FLOAT.fullmatch(value):
            if len(value) > 64:
                self._error(event.start_mark, path, f"number literal too long ({len(value)} characters)")
                return 0.0
            return float(value)
        if _INF.fullmatch(value):
            return float("-inf") if value.startswith("-") else float("inf")
        if _NAN.fullmatch(value):
            return float("nan")
        return value


class _Shadow(str):
    """A duplicate key: parsed and reported, then dropped."""


def _strip_shadows(node: Any) -> Any:
    # Duplicates are rare; only then do we walk to drop them.
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k in [k for k in n if isinstance(k, _Shadow)]:
                del n[k]
            stack.extend(v for v in n.values() if isinstance(v, (dict, list)))
        elif isinstance(n, list):
            stack.extend(v for v in n if isinstance(v, (dict, list)))
    return node


@dataclass
class _Mark:
    line: int
    column: int
