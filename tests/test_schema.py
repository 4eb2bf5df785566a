"""The checked-in JSON Schema is generated from the models, and agrees with them."""

import json
import math
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from regspec.diagnostics import SpecError
from regspec.frontend.merge import read_spec
from regspec.lang.model import SpecModel
from regspec.lang.schema import schema_text
from tests.conftest import CASES, ROOT, SPECS

SCHEMA_FILE = ROOT / "schemas" / "regspec.schema.json"


@pytest.mark.parametrize("name", ["regspec.schema.json", "sweep.schema.json"])
def test_checked_in_schema_is_current(name):
    assert (ROOT / "schemas" / name).read_text() == schema_text(name), "schemas/ is stale: run `regspec schema`"


def test_sweep_files_pass_the_sweep_schema():
    from regspec.frontend.source import read_file

    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "sweep.schema.json").read_text()))
    for path in sorted((SPECS / "sweeps").glob("*.yaml")):
        assert validator.is_valid(read_file(path).data), path
    assert not validator.is_valid({"regspec-sweep": 1, "name": "x", "base": "b.yaml", "axes": {"a": []}})


def strict_validator():
    """jsonschema with the models' strictness: 3.0 is not an integer, inf/nan are not numbers."""
    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine_many({
        "integer": lambda _, v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda _, v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    })
    return jsonschema.validators.extend(base, type_checker=checker)(json.loads(SCHEMA_FILE.read_text()))


def corpus() -> list[Path]:
    files = [p for p in sorted(SPECS.rglob("*.yaml")) + sorted(SPECS.rglob("*.json")) if p.parent.name != "sweeps"]
    files += sorted(p for p in CASES.rglob("*") if p.suffix in (".yaml", ".json"))
    return files


@pytest.mark.parametrize("path", corpus(), ids=lambda p: str(p.relative_to(ROOT)))
def test_jsonschema_and_models_agree(path):
    try:
        doc = read_spec(path)[0]  # extends merged, overrides applied: what both judge
    except SpecError:
        pytest.skip("refused before validation (reader or extends error): nothing for a schema to judge")
    schema_ok = strict_validator().is_valid(doc.data)
    try:
        SpecModel.model_validate(doc.data)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert schema_ok == model_ok, f"jsonschema says {schema_ok}, pydantic says {model_ok}"


def test_differential_corpus_has_both_kinds():
    verdicts = set()
    for path in corpus():
        try:
            doc = read_spec(path)[0]
        except SpecError:
            continue
        verdicts.add(strict_validator().is_valid(doc.data))
    assert verdicts == {True, False}


def test_child_spec_without_layers_is_fine_for_editors():
    # An `extends` child alone is incomplete; the schema must not flag that in editors.
    child = {"regspec": 1, "extends": "base.yaml", "name": "x", "overrides": {"layers[0].units": 3}}
    assert strict_validator().is_valid(child)
    assert not strict_validator().is_valid({"regspec": 1, "name": "x"})


def test_reference_docs_are_current():
    from regspec.lang.docs import reference

    assert (ROOT / "docs" / "spec-reference.md").read_text() == reference(), "docs are stale: run `regspec docs`"
