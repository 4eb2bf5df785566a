"""A registry per kind: every registered kind maps to Keras (or to a loader); a new kind is one
class and is never silently dropped; every Keras refusal is reported at its spec line."""

import typing

import pytest
from click.testing import CliRunner

from regspec.api import from_document, load
from regspec.backend.keras.build import compile_model
from regspec.backend.keras.callbacks import build_callbacks
from regspec.backend.keras.env import keras
from regspec.cli import main
from regspec.diagnostics import SpecError
from regspec.frontend.source import read_text
from regspec.lang.callbacks import CALLBACKS, Callback
from regspec.lang.compile import LOSSES, METRICS, OPTIMIZERS, SCHEDULES
from regspec.lang.data import DATA_SOURCES
from regspec.lang.layers import LAYERS

from .conftest import SPECS

pytestmark = pytest.mark.tf
k = keras()


def test_every_layer_kind_is_a_keras_layer():
    """Or a Keras operation class, which its keras.ops function records (or reuse, which calls a layer)."""
    import importlib

    from regspec.lang.layers.operations import Operation

    for tag, cls in LAYERS.items():
        if issubclass(cls, Operation):
            assert isinstance(getattr(importlib.import_module(cls.keras_module), cls.keras_class), type), tag
        elif tag not in ("input", "reuse"):
            assert isinstance(getattr(k.layers, cls.keras_class), type), tag


def test_every_callback_builds(tmp_path):
    spec = load(SPECS / "iris" / "base.yaml").with_overrides(
        {"training.callbacks": [{"type": t} for t in CALLBACKS],
         "compile.optimizer": {"type": "adam", "use_ema": True}})  # what swap_ema_weights needs
    built = build_callbacks(spec.program, str(tmp_path), str(tmp_path / "backup"))
    names = [type(c).__name__ for c in built]
    for cls in CALLBACKS.values():
        assert any(n.endswith(cls.keras_class) for n in names), cls.keras_class
    assert names.count("TerminateOnNaN") == 1 and sum(n.endswith("BackupAndRestore") for n in names) == 1


def test_a_new_callback_class_is_built_not_dropped(tmp_path):
    class RemoteMonitor(Callback):  # one class, nothing else: the backend picks it up from the registry
        keras_class = "RemoteMonitor"
        type: typing.Literal["remote_monitor"]
        root: str = "http://localhost:9000"

    try:
        spec = load(SPECS / "iris" / "base.yaml")
        training = spec.program.training.model_copy(update={"callbacks": [RemoteMonitor(type="remote_monitor")]})
        program = type(spec.program)(**{**spec.program.__dict__, "training": training})
        built = build_callbacks(program, str(tmp_path), str(tmp_path / "backup"))
        assert any(isinstance(c, k.callbacks.RemoteMonitor) for c in built)
    finally:
        del CALLBACKS["remote_monitor"]


def test_every_optimizer_schedule_loss_and_metric_exists_in_keras():
    for tag, cls in OPTIMIZERS.items():
        assert isinstance(getattr(k.optimizers, cls.keras_class)(), k.optimizers.Optimizer), tag
    for cls in SCHEDULES.values():
        assert issubclass(getattr(k.optimizers.schedules, cls.keras_class), k.optimizers.schedules.LearningRateSchedule)
    for name, cls_name in LOSSES.items():
        assert type(k.losses.get(name)).__name__ in (cls_name, "function")
        assert isinstance(getattr(k.losses, cls_name)(), k.losses.Loss), name
    for name, cls_name in METRICS.items():
        assert isinstance(getattr(k.metrics, cls_name)(), k.metrics.Metric), name


def test_every_data_source_has_a_loader_and_an_export_snippet():
    import pkgutil

    from regspec.backend.keras import sources

    modules = {m.name for m in pkgutil.iter_modules(sources.__path__)}
    assert set(DATA_SOURCES) == modules  # no source without a module, no module without a source
    for tag in DATA_SOURCES:
        module = sources.source(tag)
        assert callable(module.load) and callable(module.export), tag
    with pytest.raises(sources.UnknownSource):
        sources.source("parquet")
    with pytest.raises(sources.UnknownSource):
        sources.source("../image_directory")


def _spec(text: str):
    return from_document(read_text(text, "s.yaml"))


BASE = """regspec: 1
name: t
input: {shape: [4]}
layers: [{type: dense, units: 3, activation: softmax}]
"""


def test_optimizer_refusal_is_reported_at_its_line():
    spec = _spec(BASE + "compile:\n  optimizer: {type: adam, clipnorm: 1.0, global_clipnorm: 1.0}\n"
                        "  loss: categorical_crossentropy\n")
    with pytest.raises(SpecError) as info:
        compile_model(spec.program)
    (d,) = info.value.diagnostics
    assert d.format().startswith("s.yaml:6:14: error: compile.optimizer: Keras refused the optimizer Adam: ")
    assert isinstance(info.value.__cause__, ValueError)  # the original, for --debug


def test_callback_refusal_is_reported_at_its_line(tmp_path, monkeypatch):
    spec = _spec(BASE + "compile: {loss: categorical_crossentropy}\ntraining:\n  callbacks:\n"
                        "    - {type: model_checkpoint, save_weights_only: true}\n    - {type: early_stopping}\n")
    built = build_callbacks(spec.program, str(tmp_path), str(tmp_path / "b"))  # weights-only needs *.weights.h5
    assert built[0].filepath == str(tmp_path / "checkpoint.weights.h5")

    def refuse(**kwargs):
        raise ValueError("patience must be an integer. Received: patience=x")

    monkeypatch.setattr(k.callbacks, "EarlyStopping", refuse)
    with pytest.raises(SpecError) as info:
        build_callbacks(spec.program, str(tmp_path), str(tmp_path / "b"))
    assert info.value.diagnostics[0].format() == (
        "s.yaml:9:7: error: training.callbacks[1]: Keras refused the early_stopping callback: "
        "patience must be an integer. Received: patience=x")


def test_debug_shows_the_keras_exception(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "compile:\n  optimizer: {type: adam, clipnorm: 1.0, global_clipnorm: 1.0}\n"
                           "  loss: categorical_crossentropy\n")
    plain = CliRunner().invoke(main, ["compile", str(path), "--out", str(tmp_path)])
    assert plain.exit_code == 2 and "Traceback" not in plain.output
    assert f"{path}:6:14: error: compile.optimizer: Keras refused the optimizer Adam" in plain.output
    debug = CliRunner().invoke(main, ["--debug", "compile", str(path), "--out", str(tmp_path)])
    assert debug.exit_code == 2 and "Traceback" in debug.output and "ValueError" in debug.output


def test_the_list_of_keras_layer_names_is_current():
    import inspect

    from keras.src.utils.naming import to_snake_case

    from regspec.lang.keras_names import KERAS_LAYERS

    names = {to_snake_case(n) for n, c in vars(k.layers).items()
             if inspect.isclass(c) and issubclass(c, k.layers.Layer) and not n.startswith("_")}
    assert KERAS_LAYERS == names
    assert {t for t in LAYERS if not t.startswith("ops.")} - {"input", "reuse"} <= KERAS_LAYERS


def test_every_kind_is_found_again_by_its_keras_class():
    """The importer reads a Keras config back through the registries (no map of its own)."""
    from regspec.backend.keras.importer import OPERATIONS
    from regspec.lang.callbacks import CALLBACKS

    for registry in (LAYERS, OPTIMIZERS, CALLBACKS):
        for tag, cls in registry.items():
            if tag.startswith("ops."):  # Keras' Add operation is not its Add layer: by module and class
                assert OPERATIONS[(cls.keras_module, cls.keras_class)] == tag
            elif tag != "reuse":
                assert registry.tag_of(cls.keras_class) == tag, (registry.kind, tag)
    assert LAYERS.tag_of("Lambda") is None
