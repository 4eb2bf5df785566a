"""Diagnostics keep their structure to the edge: typed paths, one collector, one error root."""

from __future__ import annotations

import json

import pytest

from regspec.cli.edge import run
from regspec.diagnostics import Collector, Diagnostic, RegspecError, SpecError, format_diagnostics
from regspec.rundir.read import RunDirError
from regspec.sweep.store import StoreError


def test_a_path_stays_typed_until_printed() -> None:
    d = Diagnostic("m.yaml", 3, 7, ("layers", 2, "kernel_regularizer", "l1"), "must be >= 0", "a hint")
    assert d.at[1] == 2
    assert d.path == "layers[2].kernel_regularizer.l1"
    assert d.format() == "m.yaml:3:7: error: layers[2].kernel_regularizer.l1: must be >= 0 (a hint)"
    assert json.loads(format_diagnostics([d], "json")) == [
        {"file": "m.yaml", "line": 3, "column": 7, "path": "layers[2].kernel_regularizer.l1",
         "message": "must be >= 0", "hint": "a hint"}]


def test_the_collector_places_orders_and_keeps_warnings_apart() -> None:
    values = {("b",): ("f.yaml", 9, 3), ("a",): ("f.yaml", 2, 5)}
    keys = {("a",): ("f.yaml", 2, 1)}
    found = Collector(lambda p: values.get(p, ("f.yaml", 1, 1)), keys.get)
    found.add(("b",), "late")
    found.add(("a",), "unknown key", key=True)
    found.add(("a",), "only a warning", severity="warning")
    assert [(d.line, d.column) for d in found.errors] == [(9, 3), (2, 1)]
    assert [d.message for d in found.warnings] == ["only a warning"]
    with pytest.raises(SpecError) as info:
        found.raise_errors()
    assert [d.message for d in info.value.diagnostics] == ["unknown key", "late"]  # in file order

    quiet = Collector(lambda p: ("f.yaml", 1, 1))
    quiet.add(("x",), "just so", severity="warning")
    quiet.raise_errors()  # warnings alone never stop a stage


@pytest.mark.parametrize("error", [RunDirError("runs/x: not a run directory"),
                                   StoreError("s.db is not a usable sweep database"),
                                   SpecError([Diagnostic("m.yaml", 4, 2, ("layers",), "bad")])])
def test_the_edge_alone_maps_every_expected_error(error: RegspecError, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(error, RegspecError)

    def fail() -> int:
        raise error

    with pytest.raises(SystemExit) as info:
        run(fail)
    assert info.value.code == error.exit_code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == error.lines() and "Traceback" not in err
    assert err.startswith(("error: ", "m.yaml:4:2: error: layers: bad"))


def test_an_unexpected_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def bug() -> int:
        raise KeyError("surprise")

    with pytest.raises(SystemExit) as info:
        run(bug)
    assert info.value.code == 1
    assert capsys.readouterr().err.startswith("error: KeyError: 'surprise' (run with --debug")
