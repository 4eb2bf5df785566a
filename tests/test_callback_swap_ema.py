"""The `swap_ema_weights` callback: refused before training without the optimizer's moving average,
built as Keras' own SwapEMAWeights beside Adam(use_ema=True), and trained with."""

import pytest

from regspec.api import from_document
from regspec.diagnostics import SpecError
from regspec.frontend.source import read_text

SPEC = """regspec: 1
name: ema
input: {shape: [2]}
layers:
  - {type: dense, units: 8, activation: relu}
  - {type: dense, units: 2, activation: softmax}
compile:
  optimizer: {type: adam, use_ema: true, ema_momentum: 0.9}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
training:
  epochs: 2
  batch_size: 32
  seed: 1
  callbacks:
    - {type: swap_ema_weights, swap_on_epoch: true}
data: {type: synthetic, generator: moons, n_samples: 120, noise: 0.2}
"""


def spec(text: str = SPEC):
    return from_document(read_text(text, "ema.yaml"))


def test_without_the_moving_average_it_is_refused_at_the_callback_line():
    with pytest.raises(SpecError) as info:
        spec(SPEC.replace("use_ema: true, ", ""))
    (d,) = info.value.diagnostics
    assert (d.line, d.path) == (16, "training.callbacks[0]")
    assert d.message == "swap_ema_weights needs an optimizer that keeps the moving average"
    assert "use_ema: true" in d.hint


def test_the_moving_average_changes_the_spec_hash_only_when_set():
    plain = SPEC.replace("  callbacks:\n    - {type: swap_ema_weights, swap_on_epoch: true}\n", "")
    without = spec(plain.replace(", use_ema: true, ema_momentum: 0.9", ""))
    assert "use_ema" not in str(without.resolved_dict())  # a key added later, at its default: hashes stay
    assert spec(plain.replace("use_ema: true, ema_momentum: 0.9", "use_ema: false")).hash == without.hash
    assert spec(plain).hash != without.hash


@pytest.mark.tf
def test_it_is_keras_own_callback_and_trains(tmp_path):
    from regspec.backend.keras.build import compile_model
    from regspec.backend.keras.callbacks import build_callbacks
    from regspec.backend.keras.env import keras
    from regspec.runtime.train import train

    k = keras()
    s = spec()
    model = compile_model(s.program)
    by_hand = k.optimizers.Adam(use_ema=True, ema_momentum=0.9)
    ours, theirs = model.optimizer.get_config(), by_hand.get_config()
    assert {**ours, "name": None} == {**theirs, "name": None} and ours["use_ema"] is True
    built = build_callbacks(s.program, str(tmp_path), str(tmp_path / "backup"))
    (swap,) = [c for c in built if isinstance(c, k.callbacks.SwapEMAWeights)]
    assert swap.swap_on_epoch is True
    result = train(s, str(tmp_path / "runs"), verbose=0)
    assert result.status == "finished" and result.metrics["epochs_run"] == 2
