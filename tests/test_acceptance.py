"""Acceptance corpus: every valid case loads; every invalid case prints exactly its pinned lines."""

from pathlib import Path

import pytest

from regspec.api import load
from regspec.diagnostics import SpecError
from tests.conftest import CASES

VALID = sorted(p for p in (CASES / "valid").iterdir() if p.suffix in (".yaml", ".json"))
INVALID = sorted(p for p in (CASES / "invalid").iterdir() if p.suffix in (".yaml", ".json"))


def rel(p: Path) -> str:
    return str(p.relative_to(CASES.parent.parent))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_case_loads(path, at_root):
    spec = load(rel(path))
    assert spec.resolved.layers, "a valid spec resolves to at least one layer"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_case_reports_pinned_lines(path, at_root):
    expected = path.with_suffix(".err").read_text().splitlines()
    with pytest.raises(SpecError) as info:
        load(rel(path))
    assert [d.format() for d in info.value.diagnostics] == expected


def test_corpus_is_not_empty():
    assert len(VALID) >= 5 and len(INVALID) >= 10


def test_hostile_type_values_do_not_crash_the_error_report():
    """Found by fuzzing: a `type` holding a list or mapping broke the unknown-key hint."""
    from regspec.api import from_document
    from regspec.frontend.source import Document

    data = {"regspec": 1, "name": "x", "input": {"shape": [4]}, "layers": [{"type": ["dense"], "units": 3, "foo": 1}],
            "compile": {"loss": "mse"}, "training": {"type": {"a": 1}}}
    with pytest.raises(SpecError) as info:
        from_document(Document("x.yaml", data))
    lines = [d.format() for d in info.value.diagnostics]
    assert "x.yaml:1:1: error: training.type: unknown key 'type' (TrainingSection takes: epochs, batch_size, " \
           "steps_per_epoch, validation_steps, seed, callbacks, distribution, mixed_precision)" in lines
    assert any(line.startswith("x.yaml:1:1: error: layers[0]: ") for line in lines)
