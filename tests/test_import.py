"""`regspec import`: Keras models (.keras files, JSON configs) back to specs that compile to the
same model; what regspec cannot express is refused by layer name, never dropped."""

import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from regspec.api import load
from regspec.backend.keras.build import build_model, compile_model
from regspec.backend.keras.compare import differences
from regspec.backend.keras.env import keras
from regspec.backend.keras.importer import import_model, to_yaml
from regspec.cli import main
from regspec.diagnostics import SpecError

from .conftest import SPECS
from .test_articles import ARTICLES, configs
from .test_compile_layers import CASES as LAYER_CASES

pytestmark = pytest.mark.tf
k = keras()
SPEC_FILES = sorted(p for p in SPECS.rglob("*.yaml") if p.parent.name != "sweeps")


def round_trip(model, tmp_path, name="m"):
    model.save(tmp_path / f"{name}.keras")
    spec = import_model(str(tmp_path / f"{name}.keras"))
    (tmp_path / f"{name}.yaml").write_text(to_yaml(spec))
    return load(tmp_path / f"{name}.yaml")


def canonical(spec) -> object:
    """The resolved model, less the documented differences of a round trip:
    1. a layer name spelled like one Keras generates (conv2d_1) is not written back;
    2. one input comes back as `input:` (not a one-item `inputs:`);
    3. what Keras fills in is written out or left implicit alike (pooling strides equal to the
       pool size, attention's value_dim and attention_axes);
    4. layers of parallel branches come back in Keras' saved order (compared by name when every
       layer has one);
    5. a shared layer's later call is named by the layer and the call (`encode_call2`): Keras
       keeps no name for a call;
    6. an operation's name is the spec's own (functional code cannot name a keras.ops call)."""
    def shown(node_id: str) -> str | None:
        base, dot, output = node_id.partition(".")  # `encoder.state_h`: one output of a layer
        node = spec.program.by_id[base]
        if node in spec.program.inputs:
            return f"input{spec.program.inputs.index(node)}"
        if node.shares is not None:  # a call of a shared layer has no name in Keras: by the layer it calls
            return f"{shown(node.shares)}@{[n.id for n in spec.program.nodes if n.shares == node.shares].index(base)}"
        name = node.name if not node.type.startswith("ops.") else None
        name = name if name and not re.fullmatch(node.type + r"(_\d+)?", name) else None
        return f"{name}{dot}{output}" if name else None

    nodes = []
    for node in spec.program.nodes:
        args = node.layer.model_dump(mode="json", exclude={"name", "inputs", "repeat"})
        if "pool_size" in args and args.get("strides") in (None, args["pool_size"]):
            args["strides"] = None
        if node.type == "multi_head_attention":
            args["value_dim"] = args["value_dim"] or args["key_dim"]
            args["attention_axes"] = None
        nodes.append((shown(node.id), node.type, json.dumps(args, sort_keys=True)))
    wiring = [(shown(n.id), tuple(shown(i) for i in n.inputs)) for n in spec.program.nodes]
    inputs = [(list(i.shape), i.dtype) for i in spec.program.inputs]
    if all(n[0] for n in nodes):  # every layer named: order does not matter
        nodes, wiring = sorted(nodes), sorted(wiring, key=str)
    compile_ = spec.resolved.compile.model_dump(mode="json")
    return inputs, nodes, wiring, compile_


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_spec_survives_compile_save_import(path, tmp_path):
    spec = load(path)
    model = compile_model(spec.program)
    back = round_trip(model, tmp_path)
    assert canonical(back) == canonical(spec)
    assert differences(build_model(back.program), model) == []


@pytest.mark.parametrize("name", ["model5.yaml", "iris/activity.yaml", "mnist/dropout.yaml", "rps/l2.yaml"])
def test_the_articles_hand_written_models_import(name, tmp_path):
    theirs = ARTICLES[name]()
    loss = "binary_crossentropy" if theirs.outputs[0].shape[-1] == 1 else "categorical_crossentropy"
    theirs.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    back = round_trip(theirs, tmp_path)
    assert configs(build_model(back.program)) == configs(theirs)
    text = (tmp_path / "m.yaml").read_text()
    if name == "mnist/dropout.yaml":  # a Dropout after a dense layer comes back as its annotation
        assert text.count("dropout: 0.25}") == 5 and "type: dropout" not in text
    if name == "model5.yaml":
        assert text.count("kernel_regularizer: {l1: 0.001}") == 2
    assert f"compile:\n  optimizer: adam\n  loss: {loss}\n  metrics: [accuracy]\n" in text


FAST_APPLICATIONS = ["VGG16", "MobileNet", "ResNet50", "MobileNetV2", "Xception"]
SLOW_APPLICATIONS = ["VGG19", "ResNet50V2", "ResNet101", "DenseNet121", "EfficientNetB0", "EfficientNetV2B0",
                     "InceptionV3", "NASNetMobile"]


def check_application(name, tmp_path):
    model = getattr(k.applications, name)(weights=None)
    back = round_trip(model, tmp_path)
    ours = build_model(back.program)
    assert differences(ours, model) == []  # names included, but for those Keras numbered itself


@pytest.mark.parametrize("name", FAST_APPLICATIONS)
def test_applications_round_trip(name, tmp_path):
    check_application(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_APPLICATIONS)
def test_more_applications_round_trip(name, tmp_path):
    check_application(name, tmp_path)


def test_what_regspec_cannot_express_is_refused_by_name(tmp_path):
    class Doubler(k.layers.Layer):
        def call(self, x):
            return x * 2

    inp = k.Input((4,))
    x = k.layers.Dense(3, name="fine")(inp)
    x = k.layers.Lambda(lambda t: t + 1, name="plus_one")(x)
    x = Doubler(name="doubler")(x)
    x = k.layers.Dense(2, name="half", dtype="mixed_float16")(x)
    model = k.Model(inp, x)
    model.save(tmp_path / "odd.keras")
    with pytest.raises(SpecError) as info:
        import_model(str(tmp_path / "odd.keras"))
    messages = [d.message for d in info.value.diagnostics]
    assert messages == [
        "layer 'plus_one': Lambda runs code; a spec never does",
        "layer 'doubler': Doubler is a custom class (Doubler); a spec holds only built-in Keras layers",
        "layer 'half': dtype policy 'mixed_float16' on some layers only is not expressible "
        "(training.mixed_precision sets it on every layer but the outputs)",
    ]
    result = CliRunner().invoke(main, ["import", str(tmp_path / "odd.keras")])
    assert result.exit_code == 2 and "plus_one" in result.output and "Traceback" not in result.output


def test_operations_outside_the_vetted_set_are_refused_by_name(tmp_path):
    inp = k.Input((4,))
    a = k.layers.Dense(4, name="a")(inp)
    model = k.Model(inp, k.ops.log(a + inp))  # ops.numpy.Add is in the set, Log is not
    model.save(tmp_path / "ops.keras")
    with pytest.raises(SpecError) as info:
        import_model(str(tmp_path / "ops.keras"))
    (d,) = info.value.diagnostics
    assert d.message.startswith("layer 'log': the Keras operation keras.src.ops.numpy.Log is not one regspec has")


def test_import_piped_into_compile_gives_the_same_model(tmp_path):
    model = ARTICLES["iris/activity.yaml"]()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.save(tmp_path / "iris.keras")
    text = CliRunner().invoke(main, ["import", str(tmp_path / "iris.keras")]).output
    result = CliRunner().invoke(main, ["compile", "-", "--out", str(tmp_path / "out")], input=text)
    assert result.exit_code == 0, result.output
    (saved,) = (tmp_path / "out").glob("*.keras")
    built = k.saving.load_model(saved, safe_mode=True)
    assert configs(built) == configs(model) and built.count_params() == model.count_params()


def test_json_configs_import_too(tmp_path):
    model = ARTICLES["model5.yaml"]()
    (tmp_path / "m.json").write_text(model.to_json())
    spec = import_model(str(tmp_path / "m.json"))
    (tmp_path / "m.yaml").write_text(to_yaml(spec))
    assert differences(build_model(load(tmp_path / "m.yaml").program), model, outputs=False) == []
    x = np.zeros((1, 150, 150, 3), dtype="float32")
    assert build_model(load(tmp_path / "m.yaml").program).predict(x, verbose=0).shape == (1, 1)


@pytest.mark.parametrize("kind", sorted(LAYER_CASES))
def test_every_layer_kinds_hand_written_twin_imports(kind, tmp_path):
    """Each kind's hand-written Keras layer (tests/test_compile_layers.py) reads back as a spec
    that builds the same model: the way in, for every kind, including a wrapper's inner layer."""
    _, shape, hand, *dtype = LAYER_CASES[kind]
    model = k.Sequential([k.Input(shape=tuple(shape), dtype=(dtype or ["float32"])[0]), hand()])
    back = round_trip(model, tmp_path)
    assert differences(build_model(back.program), model) == []


def test_an_imported_spec_names_a_schema_file_that_exists(tmp_path):
    """The modeline pointed at a made-up URL: an editor showed "Unable to load schema" on every
    imported spec. In an empty folder it names the installed schema; in a project, the
    project's schemas/ relative to the spec."""
    from regspec.lang.schema import installed

    model = k.Sequential([k.Input((4,)), k.layers.Dense(2, name="out")])
    model.save(tmp_path / "m.keras")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["import", str(tmp_path / "m.keras"), "-o", str(empty / "m.yaml")])
    assert result.exit_code == 0, result.output
    first = (empty / "m.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={installed()}" and os.path.isfile(installed())
    project = tmp_path / "project"
    (project / "schemas").mkdir(parents=True)
    (project / "schemas" / "regspec.schema.json").write_text("{}")
    (project / "specs").mkdir()
    CliRunner().invoke(main, ["import", str(tmp_path / "m.keras"), "-o", str(project / "specs" / "m.yaml")])
    first = (project / "specs" / "m.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/regspec.schema.json"
    forced = CliRunner().invoke(main, ["import", str(tmp_path / "m.keras"), "--schema", "https://example.org/s.json"])
    assert forced.output.splitlines()[0] == "# yaml-language-server: $schema=https://example.org/s.json"


SAVE_FRESH = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
getattr(keras.applications, sys.argv[1])(weights=None).save(sys.argv[2])
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["VGG16", "Xception", "MobileNetV3Small"])
def test_a_model_saved_by_a_fresh_process_comes_back_with_every_name(tmp_path, name):
    """Saved as a user's script saves it; imported, compiled and compared name for name: VGG16's
    input, Xception's numbered `add` layers, MobileNetV3's operations counted with layers."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", SAVE_FRESH, name, str(tmp_path / "m.keras")], check=True, timeout=300)
    theirs = k.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    (tmp_path / "m.yaml").write_text(to_yaml(import_model(str(tmp_path / "m.keras"))))
    ours = build_model(load(tmp_path / "m.yaml").program)
    assert differences(ours, theirs, names=True) == []


def test_names_never_collide(tmp_path):
    """Unnamed layers are named as a fresh Keras names them, whatever this process built before,
    skipping names the spec gives (where Keras itself would refuse the model: "The name dense_1
    is used 2 times"); an operation counts with the layers of its name."""
    (tmp_path / "s.yaml").write_text("""
regspec: 1
name: s
input: {shape: [8]}
layers:
  - {type: dense, units: 8}
  - {type: dense, units: 8, name: dense_1}
  - {type: dense, units: 8}
  - {type: ops.add, constant: 1.0}
  - {type: dense, units: 2}
compile: {}
""")
    for _ in range(2):  # the second build in this process gets the same names
        model = build_model(load(tmp_path / "s.yaml").program)
        names = [op.name for op in model.operations]
        assert names == ["input", "dense", "dense_1", "dense_2", "add", "dense_3"]
