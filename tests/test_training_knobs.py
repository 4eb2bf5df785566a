"""The training knobs Keras users turn: steps_per_execution, jit_compile, mixed precision. Each is
lowered to Keras, exported and imported; `steps_per_execution: auto` (the default) is faster and
changes no result."""

import json
import os

import numpy as np
import pytest

from regspec.api import load
from regspec.backend.keras.build import build_state, compile_model
from regspec.backend.keras.data import EVAL_BATCHES, load_data
from regspec.backend.keras.env import keras
from regspec.backend.keras.export_python import python_script
from regspec.backend.keras.importer import import_model, to_yaml
from regspec.runtime.train import load_saved, train
from tests.conftest import SPECS

pytestmark = pytest.mark.tf
IRIS = SPECS / "iris" / "base.yaml"


def iris(**overrides):
    return load(IRIS).with_overrides({"training.epochs": 3, "training.batch_size": 16, "layers.fc1.dropout": 0.3,
                                      **overrides})


def test_auto_steps_per_execution_gives_the_same_weights(tmp_path):
    """Several batches per call run the same steps on the same batches with the same dropout
    draws: same seed, same trained weights as one batch per call."""
    one = train(iris(**{"compile.steps_per_execution": 1}), str(tmp_path / "one"), verbose=0, figures=())
    auto = train(iris(), str(tmp_path / "auto"), verbose=0, figures=())
    assert json.load(open(os.path.join(one.run_dir, "run.json")))["steps_per_execution"] == 1
    record = json.load(open(os.path.join(auto.run_dir, "run.json")))
    assert record["steps_per_execution"] == 7  # 112 / 16: an epoch
    assert record["eval_batch_size"] == 16 * EVAL_BATCHES
    for a, b in zip(load_saved(one.run_dir).get_weights(), load_saved(auto.run_dir).get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert one.metrics["test"] == pytest.approx(auto.metrics["test"], rel=1e-5)


def test_a_per_batch_callback_keeps_one_step_per_call(tmp_path):
    spec = iris(**{"training.callbacks": [{"type": "backup_and_restore", "save_freq": 2}]})
    assert spec.program.training.steps_per_execution("auto") == 1
    assert compile_model(spec.program).steps_per_execution == 1
    warned = iris(**{"compile.steps_per_execution": 4, "training.callbacks": [{"type": "tensorboard", "update_freq": 5}]})
    (w,) = [d for d in warned.warnings if "acts every batch" in d.message]
    assert w.path == "training.callbacks[0]"


def test_each_knob_is_lowered_exported_and_imported(tmp_path):
    spec = iris(**{"compile.steps_per_execution": 8, "compile.jit_compile": True,
                   "training.mixed_precision": "mixed_bfloat16"})
    model = compile_model(spec.program)
    assert model.steps_per_execution == 8 and model.jit_compile is True
    policies = [layer.dtype_policy.name for layer in model.layers]
    assert policies[:-1] == ["mixed_bfloat16"] * (len(policies) - 1) and policies[-1] == "float32"  # the output
    script = python_script(spec.program, str(IRIS))
    assert "steps_per_execution=8," in script and "jit_compile=True," in script
    assert script.count("dtype='mixed_bfloat16'") == len(policies) - 1 and "dtype='float32'" in script
    model.save(tmp_path / "m.keras")
    imported = import_model(str(tmp_path / "m.keras"))  # refuses, by layer, what it cannot express
    assert imported["compile"]["steps_per_execution"] == 8 and imported["compile"]["jit_compile"] is True
    assert imported["training"] == {"mixed_precision": "mixed_bfloat16"}
    (tmp_path / "m.yaml").write_text(to_yaml(imported))
    again = compile_model(load(tmp_path / "m.yaml").program)  # and back: the same knobs
    assert again.steps_per_execution == 8 and [layer.dtype_policy.name for layer in again.layers] == policies


def test_mixed_precision_trains(tmp_path):
    result = train(iris(**{"training.mixed_precision": "mixed_bfloat16", "training.epochs": 1}), str(tmp_path),
                   verbose=0, figures=())
    assert result.status == "finished"
    assert keras().mixed_precision.global_policy().name == "float32"  # per layer: nothing global changed


def counted_traces(model):
    """How many times Keras traces ``model``'s training step from now on (the step is Python,
    run only while a trace is made)."""
    calls = []
    step = model.train_step
    model.train_step = lambda data: (calls.append(1), step(data))[1]
    return calls


@pytest.mark.parametrize("first", [True, False])
def test_the_training_state_built_first_means_one_trace_of_the_step(first):
    """Keras creates the optimizer's and the metrics' variables while tracing the first step,
    and a traced function that creates variables is traced again. train() builds them first."""
    program = iris(**{"compile.optimizer": "adam"}).program
    datasets = load_data(program, program.training.seed)
    model = compile_model(program, split_loss=True)
    if first:
        build_state(model, datasets.train.element_spec)
        assert model.optimizer.built and model.optimizer.variables
    traces = counted_traces(model)
    model.fit(datasets.train, epochs=2, validation_data=datasets.validation, verbose=0, shuffle=False)
    assert len(traces) == (1 if first else 2)


def test_the_training_state_built_first_gives_the_weights_keras_gives(tmp_path):
    """train() (state built first) against Keras building it while tracing, on the same compiled
    model, data and seed: the same trained weights."""
    spec = iris(**{"compile.optimizer": "adam"})
    ours = train(spec, str(tmp_path), verbose=0, figures=())
    program, k = spec.program, keras()
    k.utils.set_random_seed(program.training.seed)  # as train() does, in its order
    datasets = load_data(program, program.training.seed)
    model = compile_model(program, split_loss=True, steps_per_execution=7)
    traces = counted_traces(model)
    model.fit(datasets.train, epochs=program.training.epochs, validation_data=datasets.validation, verbose=0,
              shuffle=False)
    assert len(traces) == 2  # Keras' own way, traced twice
    for a, b in zip(load_saved(ours.run_dir).get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def first_batch(dataset) -> int:
    return int(next(iter(dataset))[0].shape[0])


def test_evaluation_takes_bigger_batches_with_the_same_results():
    """Validation and the train/test metrics run in batches of up to EVAL_BATCHES training
    batches: the same loss (activity penalty included) and accuracy as batch by batch."""
    spec = load(SPECS / "iris" / "activity.yaml").with_overrides({"training.batch_size": 8,
                                                                  "data.validation_split": 0.4})
    program = spec.program
    datasets = load_data(program, program.training.seed)
    assert first_batch(datasets.test) == first_batch(datasets.validation) == 8 * EVAL_BATCHES  # 38, 45 examples
    model = compile_model(program, split_loss=True)
    model.fit(datasets.train, epochs=2, verbose=0, shuffle=False)
    for split in ("test", "validation", "train_eval"):
        whole = getattr(datasets, split)
        by_training_batch = whole.unbatch().batch(8)
        ours = model.evaluate(whole, return_dict=True, verbose=0)
        theirs = model.evaluate(by_training_batch, return_dict=True, verbose=0)
        assert set(ours) == {"loss", "accuracy", "data_loss"}
        for key, value in theirs.items():
            assert ours[key] == pytest.approx(value, rel=1e-5), (split, key)


def test_validation_steps_count_training_batches():
    spec = iris(**{"data.validation_split": 0.2, "training.validation_steps": 2})
    datasets = load_data(spec.program, 7)
    assert first_batch(datasets.validation) == 16  # two steps: 32 examples, as asked
    assert first_batch(datasets.test) == 38  # the test split has no step count: all 38 at once
