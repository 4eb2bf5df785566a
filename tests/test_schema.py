"""The checked-in JSON Schema is generated from the models, and agrees with them."""

import functools
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


@functools.lru_cache(maxsize=1)
def strict_validator():
    """jsonschema with the models' strictness: 3.0 is not an integer, inf/nan are not numbers
    (made once: the schema is large)."""
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
def test_the_schema_judges_files_as_written_as_validate_does(path):
    """An editor sees the file as written: `extends` not merged, blocks not expanded, overrides
    not applied. The schema passes every file `validate` passes; and on a file that is all
    there (no parent, no blocks, no overrides) it agrees with the models exactly. Cross-field
    rules (checks.py) are `validate`'s alone."""
    from regspec.api import load
    from regspec.frontend.source import read_file

    try:
        raw = read_file(path).data
    except SpecError:
        pytest.skip("refused by the reader (not YAML, a duplicate key): an editor's parser says so")
    schema_ok = strict_validator().is_valid(raw)
    try:
        load(path)
        regspec_ok = True
    except SpecError:
        regspec_ok = False
    if regspec_ok:
        errors = [e.message for e in strict_validator().iter_errors(raw)][:3]
        assert schema_ok, f"validate passes the file; the schema (an editor) says: {errors}"
    if isinstance(raw, dict) and not ({"extends", "overrides", "blocks"} & set(raw)):
        try:
            SpecModel.model_validate(read_spec(path)[0].data)
            model_ok = True
        except (ValidationError, SpecError):
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


BLOCKS = {
    "regspec": 1, "name": "b", "input": {"shape": [8, 8, 3]}, "compile": {},
    "blocks": {"unit": {"params": {"filters": None, "l1": 0.001},
                        "layers": [{"type": "conv2d", "name": "conv", "filters": "$filters", "kernel_size": 3,
                                    "kernel_regularizer": {"l1": "$l1"}},
                                   {"type": "add", "name": "add", "inputs": ["$input", "conv"]}]}},
    "layers": [{"type": "conv2d", "name": "stem", "filters": 4, "kernel_size": 1},
               {"block": "unit", "name": "u1", "filters": 4}, {"type": "flatten"}],
}


def test_the_schema_checks_block_bodies_and_uses_as_written():
    """A block use is a layer item; a block's layers are layers whose values may be `$param`
    (also inside a regularizer), and a typo in one is flagged as validate flags it."""
    import copy

    validator = strict_validator()
    assert validator.is_valid(BLOCKS), [e.message for e in validator.iter_errors(BLOCKS)][:3]
    typo = copy.deepcopy(BLOCKS)
    typo["blocks"]["unit"]["layers"][0]["kernal_size"] = 3
    assert any("kernal_size" in e.message for e in validator.iter_errors(typo))
    wrong = copy.deepcopy(BLOCKS)
    wrong["blocks"]["unit"]["layers"][0]["filters"] = "four"  # a string that is not a $param
    assert not validator.is_valid(wrong)
    use = copy.deepcopy(BLOCKS)
    del use["layers"][1]["name"]
    assert not validator.is_valid(use)  # a use needs its instance name


def test_overrides_keys_are_paths_and_json_names_its_schema(tmp_path):
    from regspec.api import load

    validator = strict_validator()
    child = {"regspec": 1, "extends": "base.yaml", "name": "x", "overrides": {"layers.fc1.dropout": 0.5}}
    assert validator.is_valid(child)
    assert not validator.is_valid({**child, "overrides": {"layers..fc1": 0.5}})
    assert not validator.is_valid({**child, "overrides": {"layers fc1": 0.5}})
    spec = {"$schema": "../schemas/regspec.schema.json", "regspec": 1, "name": "j", "input": {"shape": [4]},
            "layers": [{"type": "dense", "units": 2}], "compile": {}}
    assert validator.is_valid(spec)
    (tmp_path / "j.json").write_text(json.dumps(spec))
    plain = load(tmp_path / "j.json")  # validate accepts it, and it is not part of the model
    (tmp_path / "k.json").write_text(json.dumps({k: v for k, v in spec.items() if k != "$schema"}))
    assert plain.hash == load(tmp_path / "k.json").hash
