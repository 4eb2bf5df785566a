"""TensorFlow's thread pools for a small model: chosen from the layer shapes, set only in a
process where TensorFlow has not started, never over the user's TF_NUM_* variables, and said in
run.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from regspec.api import load
from regspec.backend.keras import threads
from tests.conftest import SPECS, regspec_cmd


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 2)
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(name, raising=False)


def test_the_largest_layer_by_hand():
    digits = load(SPECS / "digits" / "base.yaml").program  # 5 x Dense(500) on 64 features, batch 128
    assert threads.largest_op_flops(digits) == 2 * 128 * (500 * 500 + 500)
    elephants = load(SPECS / "model1.yaml").program  # its 2nd conv: 32 filters 5x5 over 64 channels, batch 64
    assert threads.largest_op_flops(elephants) == 2 * 64 * (5 * 5 * 64 * 32 + 32) * 69 * 69


def test_a_small_model_gets_one_thread_per_operation_and_two_at_once(two_cores):
    assert threads.choose(load(SPECS / "digits" / "base.yaml").program) == (1, 2)
    assert threads.choose(load(SPECS / "iris" / "base.yaml").program) == (1, 2)


def test_a_large_model_keeps_tensorflows_defaults(two_cores):
    assert threads.choose(load(SPECS / "model1.yaml").program) is None


def test_half_the_cores_per_operation_on_a_larger_machine(monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 16)
    assert threads.choose(load(SPECS / "digits" / "base.yaml").program) == (8, 16)
    monkeypatch.setattr(threads, "cores", lambda: 1)
    assert threads.choose(load(SPECS / "digits" / "base.yaml").program) is None


@pytest.mark.parametrize("name", ["TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"])
def test_the_users_settings_win(two_cores, monkeypatch, name):
    monkeypatch.setenv(name, "3")
    assert threads.choose(load(SPECS / "digits" / "base.yaml").program) is None


@pytest.mark.tf
def test_a_training_process_runs_with_the_choice_and_says_so(tmp_path: Path):
    spec = SPECS / "iris" / "base.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    done = subprocess.run(regspec_cmd("compile", str(spec), "--train", "-q", "--out", str(tmp_path),
                                      "--set", "training.epochs=1"), capture_output=True, text=True, timeout=300,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    (run,) = tmp_path.glob("iris-base-*/run.json")
    chosen = threads.choose(load(spec).program)
    record = json.loads(run.read_text())
    assert record.get("threads") == (None if chosen is None else {"intra_op": chosen[0], "inter_op": chosen[1]})
    assert record["cpus"] == sorted(os.sched_getaffinity(0))  # the subprocess inherits this process's


@pytest.mark.parametrize(("cpus", "jobs", "shares"), [
    ([0, 1], 1, [(0, 1)]), ([0, 1], 2, [(0,), (1,)]), ([0, 1], 3, [1, 1, 1]),
    ([2, 3, 5, 7, 9], 2, [(2, 3), (5, 7)]), (None, 2, [1, 1])])
def test_sweep_workers_get_cores_of_their_own_while_there_are_enough(monkeypatch, cpus, jobs, shares):
    from regspec.sweep import runner

    monkeypatch.setattr(runner, "cpu_ids", lambda: cpus)
    monkeypatch.setattr(runner, "_cores", lambda: 2)
    assert runner.core_shares(jobs) == shares


@pytest.mark.tf
@pytest.mark.parametrize("n", [1, 2])
def test_the_next_batch_is_made_ahead_only_with_a_core_to_make_it_on(monkeypatch, n):
    """Prefetching hands each batch over from tf.data's thread: worth it beside training, not on
    the same single core. The batches are the same either way."""
    import numpy as np

    from regspec.backend.keras import data

    program = load(SPECS / "iris" / "base.yaml").program
    monkeypatch.setattr(data, "cores", lambda: n)
    train = data.load_data(program, 3).train
    assert ("Prefetch" in type(train._input_dataset).__name__) == (n > 1)
    monkeypatch.setattr(data, "cores", lambda: 3 - n)
    other = data.load_data(program, 3).train
    for (x, y), (x2, y2) in zip(train, other, strict=True):
        assert np.array_equal(x.numpy(), x2.numpy()) and np.array_equal(y.numpy(), y2.numpy())


@pytest.mark.tf
def test_a_process_where_tensorflow_runs_keeps_its_pools():
    import tensorflow as tf

    tf.constant(1.0) + 1  # TensorFlow has started
    before = (tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads())
    wanted = (7, 5) if before != (7, 5) else (6, 5)
    assert threads.apply(wanted) is None
    assert (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads()) == before
