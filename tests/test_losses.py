"""Losses with arguments: what each Keras class takes, and a mapping with `type` read as one loss."""

import pytest

from regspec.api import from_document
from regspec.diagnostics import SpecError
from regspec.frontend.source import read_text

SPEC = """regspec: 1
name: l
input: {shape: [4]}
layers: [{type: dense, units: 3}]
compile:
  loss: LOSS
  metrics: [accuracy]
training: {epochs: 1, batch_size: 16, seed: 0}
data: {type: sklearn, name: iris}
"""


def spec(loss: str):
    return from_document(read_text(SPEC.replace("LOSS", loss), "l.yaml"))


def test_a_mapping_with_type_alone_is_one_loss_not_an_output_named_type():
    s = spec("{type: sparse_categorical_crossentropy}")
    assert s.program.compile.loss_name == "sparse_categorical_crossentropy"
    assert s.program.compile.task.classifier


def test_label_smoothing_on_the_sparse_loss_is_refused_at_its_line():
    with pytest.raises(SpecError) as info:
        spec("{type: sparse_categorical_crossentropy, label_smoothing: 0.1}")
    (d,) = info.value.diagnostics
    assert (d.line, d.path) == (6, "compile.loss")
    assert d.message.startswith("sparse_categorical_crossentropy takes no label_smoothing")


def test_per_output_losses_still_read_as_a_mapping():
    with pytest.raises(SpecError) as info:
        spec("{out: mse}")  # a mapping without `type`: per output; `out` names no output here
    assert "out" in info.value.diagnostics[0].message


@pytest.mark.tf
@pytest.mark.parametrize("loss, by_hand", [
    ("{type: sparse_categorical_crossentropy, from_logits: true}", ("SparseCategoricalCrossentropy", {"from_logits": True})),
    ("{type: categorical_crossentropy, from_logits: true, label_smoothing: 0.1}",
     ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1})),
])
def test_the_loss_is_keras_own_class_with_the_arguments_it_takes(loss, by_hand, tmp_path):
    from regspec.backend.keras.build import compile_model
    from regspec.backend.keras.env import keras
    from regspec.runtime.train import train

    s = spec(loss)
    model = compile_model(s.program)
    cls, args = by_hand
    theirs = getattr(keras().losses, cls)(**args).get_config()
    assert {**model.loss.get_config(), "name": None} == {**theirs, "name": None}
    if cls.startswith("Sparse"):  # the article-style run: it compiles and trains (it did not)
        assert train(s, str(tmp_path), verbose=0).status == "finished"
