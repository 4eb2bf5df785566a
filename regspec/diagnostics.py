"""Structured errors: file, line, column, path, message, hint — carried to the edge."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

Position = tuple[str, int, int]  # file, line, column (1-based)


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one file. Lines and columns are 1-based."""

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str | None = None
    severity: str = "error"  # or "warning": reported, but the spec is still valid

    def format(self) -> str:
        where = f"{safe(self.file)}:{self.line}:{self.column}: {self.severity}: "
        what = f"{safe(self.path)}: {safe(self.message)}" if self.path else safe(self.message)
        return where + what + (f" ({safe(self.hint)})" if self.hint else "")

    def to_dict(self) -> dict:
        out = asdict(self)
        if self.severity == "error":
            del out["severity"]  # the JSON shape tools already read
        return out


# C0 and C1 controls (ESC, BEL, CR, newline, ...), and the bidi overrides that reorder what a
# terminal shows: a key holding "\nok: x" must not print a forged line.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_ECHO = 500


def safe(text: str, limit: int = MAX_ECHO) -> str:
    """User content made safe to print: control characters escaped, long text cut."""
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


class SpecError(Exception):
    """Raised with every diagnostic found; the CLI prints them all and exits 2."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def format_diagnostics(diagnostics: list[Diagnostic], fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps([d.to_dict() for d in diagnostics], indent=2)
    return "\n".join(d.format() for d in diagnostics)
