"""Categorical and text preprocessing adapted on the training split only, and kept inside the
saved model: a value seen only in the test split maps to the out-of-vocabulary id."""

import numpy as np
import pytest

from regspec.api import load
from regspec.runtime.train import load_saved, train
from tests.helpers import write_spec

pytestmark = pytest.mark.tf


def test_a_lookup_adapts_on_the_training_split_only(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.choice([3, 5, 9], size=(60, 1)).astype("int64")
    y = (x[:, 0] == 5).astype("int64")
    xt = np.array([[3], [5], [7], [9]], dtype="int64")  # 7: only in the test split
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y, x_test=xt, y_test=np.array([0, 1, 0, 0]))
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: lookup
input: {shape: [1], dtype: int64}
layers:
  - {type: integer_lookup, name: codes, output_mode: one_hot, max_tokens: 4, pad_to_max_tokens: true}
  - {type: dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data: {type: npz, path: d.npz}
training: {epochs: 2, batch_size: 16, seed: 1}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0, figures=())
    assert result.status == "finished"
    lookup = load_saved(result.run_dir).get_layer("codes")  # the vocabulary was saved with the model
    assert sorted(lookup.get_vocabulary()[1:]) == [3, 5, 9]  # [0] is the out-of-vocabulary token
    unseen, seen = np.asarray(lookup(np.array([[7], [3]], dtype="int64"))).argmax(-1).tolist()
    assert unseen == 0 and seen != 0  # 7 was never adapted to: out of vocabulary


def test_text_vectorization_trains_on_raw_strings(tmp_path):
    words = ["good", "great", "fine", "bad", "awful", "poor"]
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 80)
    texts = np.array([" ".join(rng.choice(words[:3] if lab else words[3:], size=4)) for lab in labels])
    np.savez(tmp_path / "t.npz", x_train=texts[:60], y_train=labels[:60], x_test=texts[60:], y_test=labels[60:])
    spec = write_spec(tmp_path / "s.yaml", """
regspec: 1
name: text
input: {shape: [], dtype: string}
layers:
  - {type: text_vectorization, name: vectorize, max_tokens: 20, output_sequence_length: 6}
  - {type: embedding, input_dim: 20, output_dim: 4}
  - {type: global_average_pooling1d}
  - {type: dense, units: 2, activation: softmax}
compile: {optimizer: {type: adam, learning_rate: 0.05}, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
data: {type: npz, path: t.npz}
training: {epochs: 8, batch_size: 16, seed: 1}
""")
    result = train(load(spec), str(tmp_path / "runs"), verbose=0, figures=())
    assert result.status == "finished" and result.metrics["test"]["accuracy"] > 0.8  # words that decide it
    vocabulary = load_saved(result.run_dir).get_layer("vectorize").get_vocabulary()
    assert set(words) <= set(vocabulary)
