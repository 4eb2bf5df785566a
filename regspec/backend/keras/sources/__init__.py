"""Data sources: one module per `data.type`, named by its tag, holding what the source means
to the backend — its loader and its export snippet — beside each other.

A source module defines

- ``load(program, data, seed)``: `Loaded` arrays (checked, batched and recorded by
  `backend.keras.data`) or whole `Datasets`;
- ``export(program, data)``: the `Exported` source of `load_data()` in the standalone script.

Its spec model (the fields users write) is a `lang.data.DataSource` class with the same tag:
the language is read without importing any backend. A test checks every tag has both.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from types import ModuleType

INDENT = "    "


class UnknownSource(LookupError):
    """A data type with no backend module (a test keeps this from happening to a shipped one)."""


@dataclass(frozen=True)
class Exported:
    """``load_data()`` in the exported script: its body, the helpers it calls (module level),
    and whether it returns arrays ``(x, y, x_test, y_test)`` or datasets ``(train, test)``."""

    body: list[str]
    helpers: list[str] = field(default_factory=list)
    arrays: bool = True


def source(tag: str) -> ModuleType:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", tag):
        raise UnknownSource(tag)
    try:
        return importlib.import_module(f"{__name__}.{tag}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{tag}":
            raise  # the module exists; something it imports does not
        raise UnknownSource(tag) from None


def split_lines(x: str, y: str, test_size: float, seed: int | None, indent: str = INDENT) -> list[str]:
    """The seeded train/test split the loaders make (`split_arrays`), for an exported script."""
    return [f"{indent}from sklearn.model_selection import train_test_split",
            f"{indent}x, x_test, y, y_test = train_test_split({x}, {y}, test_size={test_size!r}, random_state={seed!r})"]


def standardize_lines() -> list[str]:
    """Standardization as the loaders do it, for an exported script."""
    return [f"{INDENT}mean, std = x.mean(axis=0), x.std(axis=0)  # fitted on the train split only",
            f"{INDENT}std[std == 0] = 1.0",
            f"{INDENT}x, x_test = (x - mean) / std, (x_test - mean) / std"]


def rescale_lines(rescale: float | None) -> list[str]:
    """The array sources' `rescale`, for an exported script."""
    return [] if rescale is None else [f"{INDENT}x, x_test = x * {rescale!r}, x_test * {rescale!r}"]
