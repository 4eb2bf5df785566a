"""Small things a reader could take wrong (issue 23, item 7), each pinned. No TensorFlow."""

import pytest

from regspec.api import load
from regspec.rundir.records import PreprocessingRecord
from regspec.serving.inputs import class_id
from regspec.serving.record import ServingError

SPEC = """
regspec: 1
name: d0
input: {shape: [4]}
layers:
  - {type: dense, name: fc1, units: 8, dropout: DROPOUT}
  - {type: dense, units: 3, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
"""


def test_a_dropout_of_zero_is_no_dropout_layer(tmp_path):
    """A grid's `dropout: 0.0` is the layer without dropout, not a Dropout(rate=0) layer."""
    (tmp_path / "zero.yaml").write_text(SPEC.replace("DROPOUT", "0.0"))
    (tmp_path / "some.yaml").write_text(SPEC.replace("DROPOUT", "0.2"))
    zero = load(tmp_path / "zero.yaml")
    assert [layer.tag for layer in zero.resolved.layers] == ["dense", "dense"]
    some = load(tmp_path / "some.yaml")
    assert [layer.tag for layer in some.resolved.layers] == ["dense", "dropout", "dense"]


def test_a_long_list_of_classes_says_that_it_is_cut():
    prep = PreprocessingRecord(source="csv", raw_shape=(4,), input_shape=(4,),
                               classes=tuple(f"class{i}" for i in range(10)))
    with pytest.raises(ServingError) as info:
        class_id("rose", prep, "new.csv", 3, 5)
    text = "\n".join(info.value.lines())
    assert "class0, class1, class2, class3, class4, class5, class6, class7, ... (2 more)" in text
