"""Read a sweep file and expand it into validated variants. No TensorFlow.

Errors point into the sweep file: a bad axis path or value at that value's
line, a grid over the cap at `axes` with its size.
"""

from __future__ import annotations

import itertools
import os
import random
from dataclasses import dataclass
from typing import Any

from regspec.api import Spec, load
from regspec.diagnostics import Collector, Diagnostic, SpecError
from regspec.frontend.source import Document, read_file
from regspec.frontend.validate import validate_document
from regspec.lang.sweep import Range, SweepModel
from regspec.sweep.variants import gc_paused, labels, variant_name


@dataclass(frozen=True)
class Trial:
    name: str
    key: str  # spec hash: the identity of the point
    overrides: dict[str, Any]  # `set` and this point's axis values (the spec is made again where it trains)


@dataclass(frozen=True)
class Plan:
    file: str
    sweep: SweepModel
    base: Spec
    trials: list[Trial]


def read_sweep(path: str) -> tuple[Document, SweepModel]:
    doc = read_file(path)
    sweep = validate_document(doc, SweepModel)
    assert isinstance(sweep, SweepModel)
    return doc, sweep


def _search_problems(sweep: SweepModel, at: Any) -> None:
    """What a search needs: ranges only with `search:`, no enumeration settings with it, the
    sampler's packages installed."""
    from importlib.util import find_spec

    search = sweep.search
    for axis, values in sweep.axes.items():
        if isinstance(values, Range) and search is None:
            at(("axes", axis), "a range needs `search:` (a grid cannot enumerate it)",
               "add `search: {sampler: tpe, trials: 40}`, or list the values")
        elif isinstance(values, Range) and search is not None and search.sampler == "grid":
            at(("axes", axis), "sampler: grid needs a list of values here, not a range", "list the values")
    if search is None:
        return
    if "mode" in sweep.model_fields_set:
        at(("mode",), "mode does not apply with `search:` (the sampler chooses the points)", "remove `mode`")
    if sweep.samples is not None:
        at(("samples",), "samples does not apply with `search:`", "use search.trials")
    if search.trials > sweep.max_trials:
        at(("search", "trials"), f"{search.trials:,} trials is over max_trials ({sweep.max_trials:,})", "raise max_trials")
    needs = {"optuna": "optuna", "gp": "torch", "cmaes": "cmaes"}
    for what in ("optuna", search.sampler):
        module = needs.get(what)
        if module is not None and find_spec(module) is None:
            at(("search", "sampler") if what != "optuna" else ("search",),
               f"{'a search' if what == 'optuna' else f'sampler: {what}'} needs the {module} package",
               "pip install 'regspec[search]'" if what != "gp" else "pip install torch, or use sampler: tpe")


def _range_ends(axis: Range) -> list[Any]:
    """The values a range's checks try: its ends, as a search would draw them."""
    if axis.integer:
        return [int(axis.low), int(axis.low) + (int(axis.high) - int(axis.low)) // int(axis.step or 1) * int(axis.step or 1)]
    return [float(axis.low), float(axis.high)]


def _lists(sweep: SweepModel) -> dict[str, list[Any]]:
    """The axes as lists (enumerating modes: a range there is refused before)."""
    return {axis: values for axis, values in sweep.axes.items() if isinstance(values, list)}


def _points(sweep: SweepModel) -> list[tuple[int, ...]]:
    sizes = [len(v) for v in _lists(sweep).values()]
    if sweep.mode == "zip":
        return [(i,) * len(sizes) for i in range(sizes[0])]
    if sweep.mode == "random":
        # Draw flat indices from the grid's size, never the grid itself: a 10^10 grid costs nothing.
        total = 1
        for n in sizes:
            total *= n
        rng = random.Random(sweep.seed)
        return sorted(_unflatten(i, sizes) for i in rng.sample(range(total), min(sweep.samples or total, total)))
    return list(itertools.product(*(range(n) for n in sizes)))


def _unflatten(flat: int, sizes: list[int]) -> tuple[int, ...]:
    out = []
    for n in reversed(sizes):
        flat, i = divmod(flat, n)
        out.append(i)
    return tuple(reversed(out))


def _size(sweep: SweepModel) -> int:
    if sweep.search is not None:
        return sweep.search.trials
    sizes = [len(v) for v in _lists(sweep).values()]
    if sweep.mode == "zip":
        return sizes[0]
    total = 1
    for n in sizes:
        total *= n
    return min(total, sweep.samples or total) if sweep.mode == "random" else total


def plan(path: str) -> Plan:
    """Every variant of the sweep, validated; all problems of the file reported at once."""
    doc, sweep = read_sweep(path)
    found = Collector(doc.position)  # paths typed: `axes.units[2]`, formatted as everywhere else
    problems, at = found.found, found.add

    axes = sweep.axes
    _search_problems(sweep, at)
    lists = _lists(sweep)
    if sweep.search is None and sweep.mode == "zip" and len({len(v) for v in lists.values()}) > 1:
        at(("axes",), f"zip needs axes of one length (got {', '.join(str(len(v)) for v in lists.values())})")
    if sweep.search is None and sweep.mode == "random" and sweep.samples is None:
        at(("mode",), "random needs `samples`")
    if sweep.search is None and sweep.mode != "random" and sweep.samples is not None:
        at(("samples",), "samples only applies to mode: random")
    size = _size(sweep) if not problems else 0
    if size > sweep.max_trials and sweep.search is None:
        at(("axes",), f"the sweep has {size:,} trials, over max_trials ({sweep.max_trials:,})",
           "use fewer values, mode: random with samples, or raise max_trials")
    base_path = os.path.normpath(os.path.join(os.path.dirname(path), sweep.base))
    try:
        base = load(base_path)
    except SpecError as exc:
        if not os.path.exists(base_path):
            at(("base",), f"base spec {sweep.base!r} not found", f"resolved to {base_path}")
            raise SpecError(problems) from None
        raise SpecError(problems + exc.diagnostics) from None
    _check_metric(sweep, base, at)
    if problems:
        raise SpecError(problems)

    # Each axis value alone first: a bad path or value is reported once, at its own line.
    fixed = dict(sweep.set)
    names = list(axes)
    for axis in names:
        values = axes[axis]
        ends = isinstance(values, Range)
        for i, value in enumerate(_range_ends(values) if isinstance(values, Range) else values):
            try:
                base.with_overrides({**fixed, axis: value}, source=doc,
                                    origin=_origin_range(axis, ("low", "high")[i]) if ends else _origin(axis, i))
            except SpecError as exc:
                problems += exc.diagnostics
    if problems:
        raise SpecError(_unique(problems))
    if sweep.search is not None:
        return Plan(path, sweep, base, [])  # the study chooses the points as it goes

    axis_labels = labels(names)
    trials: list[Trial] = []
    seen: dict[str, str] = {}
    with gc_paused():
        _expand(sweep, base, doc, fixed, names, axis_labels, trials, seen, problems)
    if problems:
        raise SpecError(_unique(problems))
    return Plan(path, sweep, base, trials)


def _expand(sweep: SweepModel, base: Spec, doc: Document, fixed: dict, names: list[str], axis_labels: dict,
            trials: list[Trial], seen: dict[str, str], problems: list[Diagnostic]) -> None:
    axes = _lists(sweep)
    for point in _points(sweep):
        assignment = {axis: axes[axis][i] for axis, i in zip(names, point)}
        name = variant_name(sweep.name, assignment, axis_labels)
        try:
            spec = base.with_overrides({**fixed, **assignment}, name=name, source=doc,
                                       origin=_origin_point(names, point))
        except SpecError as exc:
            problems += exc.diagnostics
            continue
        if spec.hash in seen:
            continue  # two points that make the same model are one trial
        seen[spec.hash] = name
        trials.append(Trial(name, spec.hash, {**fixed, **assignment}))


def _check_metric(sweep: SweepModel, base: Spec, at: Any) -> None:
    """The metric must be one training will log: loss, or a compile metric of the base spec."""
    from ..frontend.checks import history_keys

    split, _, name = sweep.metric.partition(".")
    known = sorted({k for k in history_keys(base.resolved) if not k.startswith("val_")})
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        at(("metric",), f"{sweep.metric!r}: training logs no {name!r}",
           f"did you mean '{split}.{close[0]}'?" if close else f"known: {', '.join(f'{split}.{k}' for k in known)}")


def _origin(axis: str, index: int) -> Any:
    return lambda text: ("axes", axis, index) if text == axis else ("set", text)


def _origin_range(axis: str, end: str) -> Any:
    return lambda text: ("axes", axis, end) if text == axis else ("set", text)


def _origin_point(names: list[str], point: tuple[int, ...]) -> Any:
    where = dict(zip(names, point))
    return lambda text: ("axes", text, where[text]) if text in where else ("set", text)


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    out = list(dict.fromkeys(diagnostics))
    return sorted(out, key=lambda d: (d.file, d.line, d.column))
