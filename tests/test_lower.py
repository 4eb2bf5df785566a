"""The lowering (no TensorFlow) says exactly what Keras builds: for every layer kind, each
argument the lowered config names is one Keras knows, and equals the built layer's
get_config() value in Keras' canonical form (what it leaves out is Keras' default, since the
layer is made from the lowering alone). The hand-written twins in test_compile_layers check
the whole config against code a person writes."""

import math

import pytest

from regspec.backend.keras import lower
from regspec.backend.keras.build import build_model
from regspec.backend.keras.env import keras
from regspec.lang.layers import LAYERS

from .test_compile_layers import CASES, MULTI, kind_of, multi_spec_for, spec_for

pytestmark = pytest.mark.tf
k = keras()


def same(ours, theirs, where: str) -> None:
    """``ours`` (lowered) against ``theirs`` (get_config), in Keras' canonical forms."""
    if isinstance(ours, dict) and "class_name" in ours:
        assert isinstance(theirs, dict) and theirs["class_name"] == ours["class_name"], where
        for key, v in ours["config"].items():
            same(v, theirs["config"][key], f"{where}.{key}")
        return
    if isinstance(ours, str) and isinstance(theirs, dict):  # initializer / constraint names
        getter = k.initializers if "initializers" in theirs.get("module", "") else k.constraints
        assert type(getter.get(ours)).__name__ == theirs["class_name"], where
        return
    if isinstance(ours, (list, tuple)):
        theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs] * len(ours)  # Keras widens 3 to (3, 3)
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{where}[{i}]")
        return
    if isinstance(ours, (int, float)) and isinstance(theirs, (list, tuple)):
        if where.rsplit(".", 1)[-1].endswith("factor"):  # Keras widens an augmentation factor f to a range
            assert len(theirs) == 2 and math.isclose(abs(ours), max(abs(t) for t in theirs)), where
        else:  # and a size 3 to (3, 3)
            assert all(t == ours for t in theirs), where
        return
    if isinstance(ours, float) and isinstance(theirs, float):
        assert math.isclose(ours, theirs, rel_tol=1e-6), where  # regularizer factors are float32 in Keras
        return
    if ours is None and theirs == "linear":
        return
    if ours is None and where.endswith(".attention_axes"):  # Keras fills None in when the layer is built
        return
    if ours == -1 and where.endswith(".groups"):  # group_normalization: -1 becomes the channel count at build
        return
    assert ours == theirs, f"{where}: lowered {ours!r}, Keras {theirs!r}"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_lowered_config_equals_what_keras_builds(kind):
    layer, shape, _, *dtype = CASES[kind]
    spec = spec_for(layer, shape, *dtype)
    lowered = lower.layer(spec.program.nodes[-1].layer)
    built = build_model(spec.program).layers[-1]
    assert lowered["class_name"] == type(built).__name__
    config = built.get_config()
    for key, value in lowered["config"].items():
        assert key in config, f"{kind}: Keras has no argument {key!r}"
        same(value, config[key], f"{kind}.{key}")


@pytest.mark.parametrize("kind", sorted(MULTI))
def test_lowered_config_of_multi_input_layers(kind):
    layer, shapes, _ = MULTI[kind]
    spec = multi_spec_for(layer, shapes)
    lowered = lower.layer(spec.program.nodes[-1].layer)
    config = build_model(spec.program).get_layer("merged").get_config()
    for key, value in lowered["config"].items():
        assert key in config, f"{kind}: Keras has no argument {key!r}"
        same(value, config[key], f"{kind}.{key}")


def test_every_layer_kind_is_lowered_in_the_test():
    # Twins elsewhere: the operations in tests/test_operations.py, reuse in tests/test_models_people_write.py.
    elsewhere = {tag for tag in LAYERS if tag.startswith("ops.")} | {"reuse"}
    assert set(LAYERS) - {"input"} - elsewhere == {kind_of(case) for case in CASES} | set(MULTI)


def test_lowering_a_program_needs_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys, regspec; from regspec.backend.keras import lower; "
            "s = regspec.load('specs/model5.yaml'); m = lower.program(s.program); "
            "print(len(m.layers), m.sequential, 'tensorflow' in sys.modules or 'keras' in sys.modules)")
    from .conftest import ROOT

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["10", "True", "False"], out.stderr
