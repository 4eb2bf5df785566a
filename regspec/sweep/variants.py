"""Generate spec variants for grid searches: cartesian, zipped and seeded random.

Works on specs, before compile; never imports TensorFlow. Every variant is
validated and gets a deterministic name from the base name and its values.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from regspec.api import Spec
from regspec.paths import parse

MAX_NAME = 64


def _token(value: Any) -> str:
    """A value as it reads in a name; a scalar's token is made once (a grid repeats each value
    along the other axes)."""
    if isinstance(value, float):
        key: Any = value.hex()  # -0.0 and 0.0 are two tokens
    elif value is None or isinstance(value, (str, int)):
        key = (type(value), value)
    else:
        return _make_token(value)
    text = _TOKENS.get(key)
    if text is None:
        if len(_TOKENS) >= 65536:
            _TOKENS.clear()
        text = _TOKENS[key] = _make_token(value)
    return text


_TOKENS: dict[Any, str] = {}


def _make_token(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        text = f"{value:.12g}"  # 0.001 and 0.0010000001 are two trials: two names
    elif isinstance(value, dict):
        text = "-".join(f"{k}-{_token(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "-".join(_token(v) for v in value)
    else:
        text = str(value)
    return re.sub(r"[^a-z0-9_-]+", "_", text.lower().replace(".", "p").replace("+", ""))


def labels(paths: Sequence[str]) -> dict[str, str]:
    """The shortest trailing part of each path that tells the axes apart."""
    parts = {p: [str(s) for s in parse(p)] for p in paths}
    out = {}
    for p, segs in parts.items():
        for n in range(1, len(segs) + 1):
            tail = segs[-n:]
            if all(other[-n:] != tail for q, other in parts.items() if q != p):
                out[p] = "_".join(tail)
                break
        else:
            out[p] = "_".join(segs)
    return {p: re.sub(r"[^a-z0-9_]+", "_", v.lower()) for p, v in out.items()}


def variant_name(base: str, assignment: Mapping[str, Any], axis_labels: Mapping[str, str]) -> str:
    """``model5-l1_0p001-dropout_0p25``; over 64 characters, cut and made unique by a hash."""
    body = "-".join(f"{axis_labels[p]}_{_token(v)}" for p, v in assignment.items())
    name = f"{base}-{body}" if body else base
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(json.dumps(list(assignment.items()), sort_keys=True, default=str).encode()).hexdigest()[:8]
        name = name[: MAX_NAME - 9].rstrip("-_") + "-" + digest
    return name


def assignments_grid(axes: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    keys = list(axes)
    for values in itertools.product(*(axes[k] for k in keys)):
        yield dict(zip(keys, values))


def assignments_zip(axes: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    lengths = {len(v) for v in axes.values()}
    if len(lengths) > 1:
        raise ValueError(f"zipped axes must have the same length (got {sorted(lengths)})")
    keys = list(axes)
    for values in zip(*(axes[k] for k in keys)):
        yield dict(zip(keys, values))


def assignments_random(axes: Mapping[str, Sequence[Any]], n: int, seed: int) -> Iterator[dict[str, Any]]:
    """``n`` distinct points drawn from the grid with a seeded generator (all of it if smaller);
    the grid is never enumerated."""
    keys = list(axes)
    sizes = [len(axes[k]) for k in keys]
    total = 1
    for s in sizes:
        total *= s
    rng = random.Random(seed)
    for flat in rng.sample(range(total), min(n, total)):
        point = {}
        for k, size in zip(reversed(keys), reversed(sizes)):
            flat, i = divmod(flat, size)
            point[k] = axes[k][i]
        yield {k: point[k] for k in keys}


def _make(spec: Spec, points: Iterator[dict[str, Any]], axes: Mapping[str, Sequence[Any]]) -> list[Spec]:
    with gc_paused():
        return list(_each(spec, points, axes))


def _each(spec: Spec, points: Iterator[dict[str, Any]], axes: Mapping[str, Sequence[Any]]) -> Iterator[Spec]:
    axis_labels = labels(list(axes))
    for point in points:
        yield spec.with_overrides(point, name=variant_name(spec.name, point, axis_labels))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Thousands of live specs make the cyclic GC rescan them over and over (2.8x slower for
    10,000 variants); making variants forms no garbage cycles, so collection waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def grid(spec: Spec, axes: Mapping[str, Sequence[Any]]) -> list[Spec]:
    """Every combination of the axes' values (cartesian product), validated."""
    return _make(spec, assignments_grid(axes), axes)


def zipped(spec: Spec, axes: Mapping[str, Sequence[Any]]) -> list[Spec]:
    """The i-th value of every axis together; all axes have the same length."""
    return _make(spec, assignments_zip(axes), axes)


def random_sample(spec: Spec, axes: Mapping[str, Sequence[Any]], n: int, seed: int = 0) -> list[Spec]:
    """``n`` distinct grid points chosen with ``seed`` (same seed, same variants)."""
    return _make(spec, assignments_random(axes, n, seed), axes)


# One at a time: the same variants, in the same order, made as the caller asks for them, so
# iterating over a sweep of any size holds one variant at a time.


def iter_grid(spec: Spec, axes: Mapping[str, Sequence[Any]]) -> Iterator[Spec]:
    """:func:`grid`, one variant at a time."""
    return _each(spec, assignments_grid(axes), axes)


def iter_zipped(spec: Spec, axes: Mapping[str, Sequence[Any]]) -> Iterator[Spec]:
    """:func:`zipped`, one variant at a time."""
    return _each(spec, assignments_zip(axes), axes)


def iter_random(spec: Spec, axes: Mapping[str, Sequence[Any]], n: int, seed: int = 0) -> Iterator[Spec]:
    """:func:`random_sample`, one variant at a time."""
    return _each(spec, assignments_random(axes, n, seed), axes)
