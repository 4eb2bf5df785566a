"""`regspec export SPEC --python`: a script that needs no regspec, builds the same model as
`regspec compile`, and trains (the iris script, 2 epochs, in a subprocess)."""

import importlib.util
import subprocess
import sys

import pytest

from regspec.api import load
from regspec.backend.keras.build import build_model, compile_model
from regspec.backend.keras.export_python import python_script

from .conftest import SPECS
from .test_compile_layers import CASES as LAYER_CASES
from .test_graphs import configs

pytestmark = pytest.mark.tf

SPEC_FILES = sorted(p for p in SPECS.rglob("*.yaml") if p.parent.name != "sweeps")


def exported_module(path, tmp_path):
    spec = load(path)
    file = tmp_path / f"{spec.name.replace('-', '_')}.py"
    file.write_text(python_script(spec.program, str(path), spec.resolved.description))
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return spec, module, file.read_text()


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: str(p.relative_to(SPECS)))
def test_exported_script_builds_the_compiled_model(path, tmp_path):
    spec, module, text = exported_module(path, tmp_path)
    assert "regspec" not in "\n".join(line for line in text.splitlines() if "import" in line)
    ours = build_model(spec.program)
    theirs = module.build_model()
    assert type(theirs) is type(ours)
    assert configs(theirs) == configs(ours)
    assert theirs.count_params() == ours.count_params()
    # and `regspec summary` counts what Keras counts, for every spec that ships (shared weights once)
    assert sum(r.trainable + r.non_trainable for r in spec.summary_rows()) == ours.count_params()
    compiled = module.compile_model(theirs)
    reference = compile_model(spec.program)
    assert type(compiled.optimizer) is type(reference.optimizer)
    assert compiled.optimizer.get_config() | {"name": ""} == reference.optimizer.get_config() | {"name": ""}


def test_exported_iris_script_trains_in_a_subprocess(tmp_path):
    path = SPECS / "iris" / "activity.yaml"
    (tmp_path / "iris.py").write_text(python_script(load(path).program, "specs/iris/activity.yaml"))
    out = subprocess.run([sys.executable, "iris.py", "--epochs", "2"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "Epoch 2/2" in out.stdout and lines[-3].split() == ["loss", "accuracy"]
    assert lines[-2].startswith("train") and lines[-1].startswith("test")
    assert (tmp_path / "iris-activity.keras").exists()


def test_export_command_writes_the_script(tmp_path):
    from click.testing import CliRunner

    from regspec.cli import main

    out = tmp_path / "m.py"
    result = CliRunner().invoke(main, ["export", str(SPECS / "graphs" / "tickets.yaml"), "--python", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "x = layers.Concatenate(name='x')([title_features, body_features, tags])" in text
    assert "loss_weights={'priority': 1.0, 'department': 0.2}," in text


@pytest.mark.parametrize("kind", sorted(LAYER_CASES))
def test_every_layer_kind_exports_to_the_same_layer(kind):
    """The way out for each kind: the script's build_model() makes what regspec compiles."""
    from regspec.backend.keras.compare import differences
    from regspec.backend.keras.export_python import model_source

    from .test_compile_layers import spec_for

    layer, shape, _, *dtype = LAYER_CASES[kind]
    spec = spec_for(layer, shape, *dtype)
    namespace: dict = {}
    exec("\n".join(["import keras", "from keras import layers, regularizers", *model_source(spec.program)]), namespace)
    assert differences(namespace["build_model"](), build_model(spec.program)) == []
