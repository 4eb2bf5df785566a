"""The Ray engine runs the same trials on a local Ray instance, into the same database."""

import importlib.util
import sqlite3

import pytest

from regspec.sweep.runner import run_sweep
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
