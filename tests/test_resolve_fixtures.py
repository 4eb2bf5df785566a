"""Resolve fixtures in the style of sqlglot's: each `x.yaml` under tests/fixtures/resolve resolves
to exactly `x.resolved.yaml` (the resolved spec and its graph). Regenerate a fixture after a
deliberate change with `REGSPEC_UPDATE_FIXTURES=1 pytest tests/test_resolve_fixtures.py`."""

import os

import pytest

from regspec.api import load
from regspec.yamlio import dump_yaml

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "resolve"
CASES = sorted(p for p in FIXTURES.glob("*.yaml") if not p.name.endswith(".resolved.yaml"))


def rendered(path) -> str:
    spec = load(path)
    body = spec.resolved_dict()
    for key in ("data",):  # absolute paths differ per machine
        if isinstance(body.get(key), dict):
            body[key] = {k: v for k, v in body[key].items() if k not in ("train", "test", "path")}
    return dump_yaml({"spec": body, "graph": spec.program.to_dict()})


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_resolves_to_its_fixture(path):
    expected = path.with_name(path.stem + ".resolved.yaml")
    text = rendered(path)
    if os.environ.get("REGSPEC_UPDATE_FIXTURES"):
        expected.write_text(text)
    assert expected.exists(), f"no fixture {expected.name}; run with REGSPEC_UPDATE_FIXTURES=1 and read it"
    assert text == expected.read_text()


def test_there_are_fixtures():
    assert len(CASES) >= 3


def test_spec_hashes_stay_what_they_were():
    """Sweep databases and backups are keyed by the spec hash: a new optional key must not change
    the hash of specs that do not use it (these values were computed before graphs existed)."""
    # iris' batch is written 112 since (the 112 examples there are): 128 is the file as it was.
    iris = load(ROOT / "specs" / "iris" / "base.yaml")
    assert iris.with_overrides({"training.batch_size": 128}).hash[:16] == "659328f722dbb87e"
    assert load(ROOT / "tests" / "cases" / "valid" / "input_layer_repeat.json").hash[:16] == "91cf6bcff8e2ca0a"
    assert load(ROOT / "tests" / "cases" / "valid" / "rnn_stack.yaml").hash[:16] == "442c029781e6b22f"
