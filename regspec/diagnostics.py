"""Structured errors: file, line, column, path, message, hint — carried to the edge.

Every error regspec expects is a `RegspecError`; the command line's edge alone turns one into
its exit code and its lines (text or JSON, rendered here)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from regspec.paths import Path, format_path

Position = tuple[str, int, int]  # file, line, column (1-based)
Severity = Literal["error", "warning"]

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one file. Lines and columns are 1-based; ``at`` is the typed spec path,
    formatted (`layers.conv2.kernel_regularizer`) only when printed."""

    file: str
    line: int
    column: int
    at: Path
    message: str
    hint: str | None = None
    severity: Severity = "error"  # a warning is reported, but the spec is still valid

    @property
    def path(self) -> str:
        return format_path(self.at)

    def format(self) -> str:
        where = f"{safe(self.file)}:{self.line}:{self.column}: {self.severity}: "
        what = f"{safe(self.path)}: {safe(self.message)}" if self.at else safe(self.message)
        return where + what + (f" ({safe(self.hint)})" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "column": self.column, "path": self.path,
                               "message": self.message, "hint": self.hint}
        if self.severity != "error":
            out["severity"] = self.severity  # errors keep the JSON shape tools already read
        return out


def ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """In the order a reader meets them: by file, line, column."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


class Collector:
    """The problems one stage finds in one file, so that all of them are reported at once.

    ``locate`` maps a spec path to where it was written; ``key=True`` points at the key
    rather than the value when ``locate_key`` knows it (an unknown or duplicate key)."""

    def __init__(self, locate: Callable[[Path], Position],
                 locate_key: Callable[[Path], Position | None] | None = None):
        self.locate = locate
        self.locate_key = locate_key
        self.found: list[Diagnostic] = []

    def add(self, path: Path, message: str, hint: str | None = None, *, severity: Severity = "error",
            key: bool = False, position: Position | None = None) -> None:
        if position is None and key and self.locate_key is not None:
            position = self.locate_key(path)
        file, line, col = position or self.locate(path)
        found = Diagnostic(file, line, col, path, message, hint, severity)
        if found not in self.found:  # one mistake met twice (a block's $input in two places) is said once
            self.found.append(found)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.found.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.found if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.found if d.severity != "error"]

    def raise_errors(self) -> None:
        """Raise every error found, in file order; warnings alone do not stop a stage."""
        if self.errors:
            raise SpecError(ordered(self.errors))


# C0 and C1 controls (ESC, BEL, CR, newline, ...), and the bidi overrides that reorder what a
# terminal shows: a key holding "\nok: x" must not print a forged line.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_ECHO = 500


def safe(text: str, limit: int = MAX_ECHO) -> str:
    """User content made safe to print: control characters escaped, long text cut."""
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


class RegspecError(Exception):
    """The root of every error regspec expects (bad input, a damaged run directory or sweep
    database, a disk that filled up). The command line prints `lines()` and exits `exit_code`;
    anything else is a bug, reported in one line (a traceback with --debug)."""

    exit_code = EXIT_BAD_INPUT

    def lines(self) -> list[str]:
        return [f"error: {safe(str(self))}"]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [{"message": str(self)}]


class SpecError(RegspecError):
    """Every problem found in a file, each at its line; the CLI prints them all and exits 2."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    def lines(self) -> list[str]:
        shown = [d.format() for d in self.diagnostics[:MAX_LISTED]]
        more = len(self.diagnostics) - MAX_LISTED
        return shown + ([f"... and {more:,} more (--format json lists every one)"] if more > 0 else [])

    def to_dicts(self) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self.diagnostics]


#: Problems printed as text at most: a file with thousands of unknown keys (a key bomb) printed
#: 1.27 MB. JSON lists every one, for tools.
MAX_LISTED = 200


def format_diagnostics(diagnostics: list[Diagnostic], fmt: str = "text") -> str:
    """The one text and JSON form of problems, for every command that reports them."""
    if fmt == "json":
        return json.dumps([d.to_dict() for d in diagnostics], indent=2)
    return "\n".join(SpecError(diagnostics).lines())
