"""Generated variants: counts, names, validation, YAML that keeps the base's comments."""

import pytest

import regspec
from regspec.api import load
from regspec.diagnostics import SpecError
from tests.conftest import SPECS

AXES = {"layers.conv2.kernel_regularizer.l1": [0.0001, 0.001, 0.01], "layers.fc2.dropout": [0.0, 0.25]}


def test_grid_counts_names_and_values():
    base = load(SPECS / "model5.yaml")
    variants = regspec.grid(base, AXES)
    assert len(variants) == 6
    assert [v.name for v in variants] == [
        "model5-l1_0p0001-dropout_0", "model5-l1_0p0001-dropout_0p25",
        "model5-l1_0p001-dropout_0", "model5-l1_0p001-dropout_0p25",
        "model5-l1_0p01-dropout_0", "model5-l1_0p01-dropout_0p25",
    ]
    last = variants[-1].resolved
    assert last.layers[2].kernel_regularizer.l1 == 0.01
    assert [lay.type for lay in last.layers][-3:] == ["dense", "dropout", "dense"]  # dropout after fc2
    assert len({v.hash for v in variants}) == 6
    assert base.resolved.layers[2].kernel_regularizer.l1 == 0.001  # the base is untouched


def test_zipped_and_random():
    base = load(SPECS / "model5.yaml")
    assert [v.name for v in regspec.zipped(base, {"layers.fc2.dropout": [0.1, 0.2], "training.seed": [1, 2]})] == [
        "model5-dropout_0p1-seed_1", "model5-dropout_0p2-seed_2"]
    with pytest.raises(ValueError, match="same length"):
        regspec.zipped(base, {"layers.fc2.dropout": [0.1, 0.2], "training.seed": [1]})
    a = [v.name for v in regspec.random_sample(base, AXES, 4, seed=3)]
    b = [v.name for v in regspec.random_sample(base, AXES, 4, seed=3)]
    assert a == b and len(set(a)) == 4
    assert set(a) <= {v.name for v in regspec.grid(base, AXES)}
    assert len(regspec.random_sample(base, AXES, 100)) == 6


def test_every_variant_is_validated():
    base = load(SPECS / "model5.yaml")
    with pytest.raises(SpecError) as info:
        regspec.grid(base, {"layers.fc2.dropout": [0.25, 1.5]})
    assert "layers[8].dropout: must be < 1 (got 1.5)" in str(info.value)
    with pytest.raises(SpecError) as info:
        base.with_overrides({"layers.conv9.kernel_regularizer.l1": 0.1})
    assert "no item named 'conv9' in layers" in str(info.value) and "did you mean 'conv3'?" in str(info.value)


def test_a_value_reads_the_same_in_a_name_however_often_it_comes():
    """Tokens are remembered per value and type: each is what the value reads as on its own
    (true is not 1, -0.0 is not 0.0), in either order and after the first time."""
    from regspec.sweep.variants import _make_token, _token

    values = [1, 1.0, True, "1", 0.0, -0.0, None, "None", 1e-06, 0.000001000001, [0.1, 2], {"l1": 0.5}]
    for _ in range(2):
        for v in values + values[::-1]:
            assert _token(v) == _make_token(v), v
    assert [_token(v) for v in (1, True, 1.0, "1")] == ["1", "true", "1", "1"]
    assert (_token(0.0), _token(-0.0)) == ("0", "-0")


def test_long_names_stay_valid_and_distinct():
    base = load(SPECS / "model5.yaml")
    axes = {"layers.conv1.kernel_regularizer": [{"l1": 0.000123456, "l2": 0.000654321}, {"l1": 0.000123457, "l2": 0.1}],
            "layers.conv2.bias_regularizer": [{"l1": 0.000111111, "l2": 0.000222222}]}
    names = [v.name for v in regspec.grid(base, axes)]
    assert all(len(n) <= 64 for n in names) and len(set(names)) == 2


def test_yaml_of_a_variant_keeps_comments_and_loads_to_the_same_spec(tmp_path):
    base = load(SPECS / "model5.yaml")
    variant = regspec.grid(base, AXES)[3]
    text = variant.to_yaml()
    assert '# Model-5 ("Kernelized Model-2")' in text  # the base file's comment
    assert "layers.fc2.dropout: 0.25" in text
    out = tmp_path / "deep" / "v.yaml"
    out.parent.mkdir()
    variant.write(out)
    again = load(out)  # `extends` re-based to the new folder
    assert again.hash == variant.hash and again.name == variant.name


def test_variant_generation_imports_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys, regspec; b = regspec.load('specs/model5.yaml'); regspec.grid(b, {'layers.fc2.dropout': [0.1, 0.2]});"
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=SPECS.parent, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
