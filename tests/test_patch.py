"""Variants that change only values are patched, not re-checked (regspec.patch): the result must
equal the whole pipeline's on the same document, for every spec that ships and every kind of
value the patch takes; anything it does not take goes through the pipeline unchanged."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import regspec
from regspec import api
from regspec.api import Spec, from_document, load
from regspec.diagnostics import SpecError
from regspec.patch import borrowed_dump, identity_text, targets
from tests.conftest import SPECS

ROOT = Path(__file__).resolve().parent
FILES = sorted(SPECS.rglob("*.yaml")) + sorted((ROOT / "cases" / "valid").rglob("*.yaml")) + sorted(
    (ROOT / "fixtures").rglob("*.yaml"))


def _bases() -> list[Spec]:
    out = []
    for f in FILES:
        try:
            out.append(load(f))
        except (SpecError, OSError, ValueError):
            continue  # sweep files, invalid fixtures
    return out


BASES = _bases()


def _overrides(spec: Spec) -> list[dict[str, Any]]:
    """Values of every kind the patch takes (and some it must hand on), on a few layers of ``spec``."""
    layers = spec.document.data["layers"]
    picked = sorted({0, 1, len(layers) // 2, len(layers) - 2, len(layers) - 1}
                    | {i for i, lay in enumerate(layers) if isinstance(lay, dict)
                       and ("dropout" in lay or any(k.endswith("_regularizer") for k in lay) or "rate" in lay)})
    out: list[dict[str, Any]] = [{"compile.optimizer.learning_rate": 0.0123}, {"compile.optimizer.momentum": 0.5},
                                 {"compile.optimizer.learning_rate": -1.0}, {"training.epochs": 7},
                                 {"training.epochs": 0}, {"training.seed": 11}, {"description": "a variant"},
                                 {"compile.optimizer.learning_rate": 0.01, "training.seed": 3}]
    for i in picked[:12]:
        if not 0 <= i < len(layers) or not isinstance(layers[i], dict):
            continue
        at = f"layers[{i}]"
        out += [{f"{at}.dropout": 0.3}, {f"{at}.dropout": 0.0}, {f"{at}.dropout": None}, {f"{at}.dropout": 1.5},
                {f"{at}.kernel_regularizer": {"l2": 0.02}}, {f"{at}.kernel_regularizer": None},
                {f"{at}.bias_regularizer": {"l1": 0.001, "l2": 0.002}}, {f"{at}.rate": 0.2}, {f"{at}.rate": -1},
                {f"{at}.units": 7}]
        for key, value in layers[i].items():
            if key.endswith("_regularizer") and isinstance(value, dict):
                out += [{f"{at}.{key}.{k}": v * 3 if isinstance(v, float) else "nonsense"} for k, v in value.items()]
    return out


def _whole_text(spec: Spec) -> str:
    """What the hash was taken of before it was made from parts: the whole resolved dump."""
    body = spec.resolved_dict()
    body.pop("name", None)
    body.pop("description", None)
    return json.dumps(body, sort_keys=True)


def _same(fast: Spec, slow: Spec) -> None:
    assert fast.model == slow.model
    assert fast.resolved == slow.resolved
    assert fast.resolved_dict() == slow.resolved_dict()
    assert fast.hash == slow.hash
    assert identity_text(fast.resolved) == identity_text(slow.resolved) == _whole_text(slow)
    p, q = fast.program, slow.program
    assert (p.name, p.inputs, p.nodes, p.outputs, p.compile, p.data, p.training) == (
        q.name, q.inputs, q.nodes, q.outputs, q.compile, q.data, q.training)
    assert [p.source.position(n.path) for n in p.nodes] == [q.source.position(n.path) for n in q.nodes]
    assert fast.warnings == slow.warnings
    assert fast.summary_rows() == slow.summary_rows()


def _outcome(base: Spec, overrides: dict[str, Any], name: str | None) -> Spec | SpecError:
    try:
        return base.with_overrides(overrides, name=name)
    except SpecError as exc:
        return exc


def _pipeline(base: Spec, overrides: dict[str, Any], name: str | None = None) -> Spec | SpecError:
    """The same variant made by the whole pipeline (the patch turned off)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api, "targets", lambda data, overrides: None)
        return _outcome(base, overrides, name)


@pytest.mark.parametrize("base", BASES, ids=lambda s: s.name)
def test_patched_variants_equal_the_whole_pipeline(base: Spec) -> None:
    patched = 0
    for overrides in _overrides(base):
        fast, slow = _outcome(base, overrides, f"{base.name}-v"), _pipeline(base, overrides, f"{base.name}-v")
        if isinstance(slow, SpecError):  # refused: with the same words at the same lines
            assert isinstance(fast, SpecError), overrides
            assert fast.diagnostics == slow.diagnostics, overrides
            continue
        assert isinstance(fast, Spec), overrides
        _same(fast, slow)
        patched += targets(base.document.data, overrides) is not None
    assert patched, "no override of this spec took the patch"


@pytest.mark.parametrize("base", BASES, ids=lambda s: s.name)
def test_a_part_dumped_by_the_specs_serializer_is_its_own_dump(base: Spec) -> None:
    """The hash dumps a part whose class has no serializer of its own yet through the spec's (no
    build at a run's start): every section and layer of every shipped spec dumps the same either way."""
    resolved = base.resolved
    for name in type(resolved).model_fields:
        value = getattr(resolved, name)
        if name == "layers":
            for i, layer in enumerate(value):
                assert borrowed_dump(resolved, name, i) == layer.model_dump(mode="json"), (name, i)
        elif isinstance(value, BaseModel):
            assert borrowed_dump(resolved, name) == value.model_dump(mode="json"), name


@pytest.mark.parametrize("base", BASES, ids=lambda s: s.name)
def test_the_hash_made_from_parts_is_the_whole_dumps(base: Spec) -> None:
    """Every shipped spec: the identity text made from its sections' and layers' parts is the
    sorted JSON of the whole resolved spec (what sweep stores were keyed by)."""
    assert identity_text(base.resolved) == _whole_text(base)


def test_the_patch_is_taken_and_chains() -> None:
    """model5's sweep axes (a regularizer's factor, a new dropout) are patched, variants of variants too."""
    base = load(SPECS / "model5.yaml")
    axes = {"layers.conv2.kernel_regularizer.l1": 0.002, "layers.fc2.dropout": 0.25}
    assert targets(base.document.data, axes) is not None
    one = base.with_overrides(axes, name="v1")
    two = one.with_overrides({"layers.fc2.dropout": 0.0, "compile.optimizer.learning_rate": 0.5}, name="v2")
    for v in (one, two):
        _same(v, from_document(v.document, [], v.applied))
    assert [n.type for n in one.program.nodes][-3:] == ["dense", "dropout", "dense"]
    assert [n.type for n in two.program.nodes][-2:] == ["dense", "dense"]


def test_a_reuse_node_calls_the_patched_layer_itself() -> None:
    """The siamese encoder with a new factor, across a grid: its `reuse` node holds the very layer
    object of the item it calls (one set of weights), as the pipeline makes it."""
    base = load(SPECS / "graphs" / "siamese.yaml")
    assert base.program.nodes[1].layer is base.program.nodes[0].layer
    for v in regspec.grid(base, {"layers.encode.kernel_regularizer.l2": [0.1, 0.2], "layers.encode.dropout": [0.0, 0.3]}):
        left, right = (n for n in v.program.nodes if n.path[1:] in ((0,), (1,)))
        assert right.shares == left.id and right.layer is left.layer
        assert left.layer.kernel_regularizer == v.model.layers[0].kernel_regularizer
        _same(v, from_document(v.document, [], v.applied))


def test_what_the_patch_does_not_take_goes_through_the_pipeline() -> None:
    base = load(SPECS / "model5.yaml")
    data = base.document.data
    for overrides in ({"layers.fc2.units": 7}, {"layers.conv2.kernel_regularizer": None}, {"layers.fc2.activation": "tanh"},
                      {"training.batch_size": 3}, {"compile.loss": "mse"}, {"layers.nowhere.dropout": 0.1}):
        assert targets(data, overrides) is None, overrides
    fast, slow = _outcome(base, {"layers.fc2.dropout": 1.5}, None), _pipeline(base, {"layers.fc2.dropout": 1.5})
    assert isinstance(fast, SpecError) and isinstance(slow, SpecError)  # a bad value: the pipeline's own words
    assert fast.diagnostics == slow.diagnostics and [d.at for d in fast.diagnostics] == [("layers", 8, "dropout")]


@pytest.mark.parametrize("repeat", [1, 3])
def test_a_dropout_on_a_repeated_or_named_layer(repeat: int) -> None:
    """Inserting a Dropout after a repeated layer is left to the pipeline; after a single one it is
    patched, and a later layer naming it takes the Dropout."""
    from regspec.frontend.source import Document

    data = {"regspec": 1, "name": "g", "input": {"shape": [4]}, "compile": {"loss": "mse"},
            "layers": [{"type": "dense", "units": 3, "name": "a", "repeat": repeat},
                       {"type": "dense", "units": 2, "name": "b"},
                       {"type": "concatenate", "inputs": ["a", "b"], "name": "c"}, {"type": "dense", "units": 1}]}
    base = from_document(Document("g.yaml", data))
    for rate in (0.1, 0.0, None):
        v = base.with_overrides({"layers.a.dropout": rate})
        _same(v, from_document(v.document, [], v.applied))
    for a, b in itertools.pairwise((0.1, 0.2, None, 0.3)):
        v = base.with_overrides({"layers.a.dropout": a}).with_overrides({"layers.a.dropout": b})
        _same(v, from_document(v.document, [], v.applied))


def test_a_small_memo_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries evicted and made again (a memo of 3 for a grid of 12) give the same variants and hashes."""
    from regspec import patch

    base = load(SPECS / "model5.yaml")
    axes = {"layers.conv2.kernel_regularizer.l1": [0.001, 0.002, 0.003], "layers.fc2.dropout": [0.0, 0.1, 0.2, 0.3]}
    want = [(v.name, v.hash) for v in regspec.grid(base, axes)]
    monkeypatch.setattr(patch, "_MEMO_SIZE", 3)
    patch._MEMO.clear()
    got = regspec.grid(base, axes)
    assert [(v.name, v.hash) for v in got] == want
    for v in got:
        _same(v, from_document(v.document, [], v.applied))
    assert len(patch._MEMO) <= 3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), (0.1,), [0.1, [2]], {"l1": (1,)}, object(), 10**400])
def test_values_from_python_code_are_refused_as_the_pipeline_refuses_them(value: Any) -> None:
    """The Python API takes any object as a value: what is not plain data is never remembered, and
    the refusal is the pipeline's own."""
    base = load(SPECS / "model5.yaml")
    for path in ("layers.conv2.kernel_regularizer.l1", "layers.conv2.kernel_regularizer", "layers.fc2.dropout",
                 "compile.optimizer.learning_rate"):
        fast, slow = _outcome(base, {path: value}, None), _pipeline(base, {path: value})
        assert isinstance(fast, SpecError) and isinstance(slow, SpecError), (path, value)
        assert fast.diagnostics == slow.diagnostics
