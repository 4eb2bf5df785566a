"""The Ray engine runs the same trials on a local Ray instance, into the same database."""

import importlib.util
import sqlite3

import pytest

from regspec.sweep.runner import run_sweep
from tests.conftest import SPECS
from tests.test_sweep import write_sweep

pytestmark = [pytest.mark.tf, pytest.mark.slow]

if importlib.util.find_spec("ray") is None:  # pragma: no cover - depends on the machine
    pytest.skip("Ray is not installed here (pip install 'regspec[ray]'); the Ray engine test cannot run",
                allow_module_level=True)


def test_ray_engine_on_a_local_instance(tmp_path):
    path = write_sweep(tmp_path, "axes:\n  training.seed: [1, 2, 3]\nset:\n  training.epochs: 2\n")
    result = run_sweep(str(path), str(tmp_path / "runs"), jobs=2, engine="ray")
    assert [r.status for r in result.rows] == ["finished"] * 3
    assert all(r.metrics and r.metrics["epochs_run"] == 2 for r in result.rows)
    workers = {w for (w,) in sqlite3.connect(f"{result.sweep_dir}/sweep.db").execute("SELECT worker FROM trials")}
    assert workers == {"ray"}
    # The local engine then finds nothing left to do: same database, same keys.
    again = run_sweep(str(path), str(tmp_path / "runs"), jobs=1)
    assert again.ran == 0 and again.skipped == 3


def test_a_search_on_ray_asks_and_prunes_as_the_local_engine_does(tmp_path):
    import optuna

    path = tmp_path / "search.yaml"
    path.write_text(f"""regspec-sweep: 1
name: ray-search
base: {SPECS / "iris" / "base.yaml"}
axes:
  layers.fc1.activity_regularizer.l1: [0.0, 50.0]
  training.seed: {{low: 1, high: 1000}}
set: {{training.epochs: 5, training.batch_size: 16}}
metric: train.loss
goal: min
search: {{sampler: random, trials: 5, seed: 1, pruner: asha, warmup_epochs: 1}}
""")
    result = run_sweep(str(path), str(tmp_path / "runs"), jobs=2, engine="ray")
    assert {r.status for r in result.rows} <= {"finished", "pruned"} and len(result.rows) <= 5
    study = optuna.load_study(study_name="ray-search", storage=f"sqlite:///{result.sweep_dir}/optuna.db")
    states = [t.state.name for t in study.trials]
    assert len(states) == 5 and set(states) <= {"COMPLETE", "PRUNED"}
    assert states.count("PRUNED") == sum(r.status == "pruned" for r in result.rows)
    for r in result.rows:  # a pruned trial too: evaluated, with the epochs it ran
        assert r.run_dir and r.metrics and (r.metrics["epochs_run"] < 5) == (r.status == "pruned")
    workers = {w for (w,) in sqlite3.connect(f"{result.sweep_dir}/sweep.db").execute("SELECT worker FROM trials")}
    assert workers == {"ray"}
