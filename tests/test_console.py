"""What the console shows: the README's first command into a log is a short, quiet read (it
printed 700 epoch lines and a warning about the project's own example)."""

import subprocess

import pytest

from tests.conftest import SPECS, regspec_cmd

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def test_the_readmes_first_command_into_a_log_is_short_and_quiet(tmp_path):
    done = subprocess.run(regspec_cmd("compile", str(SPECS / "iris" / "base.yaml"), "--train", "--out",
                                      str(tmp_path / "runs")), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) <= 30, lines
    assert lines[0].startswith("epoch 35/350: loss ") and "val_accuracy" in lines[0]
    assert lines[-2].startswith("epoch 350/350: ") and lines[-1].startswith("iris-base: finished: ")
    assert "warning" not in done.stderr.lower(), done.stderr


def test_verbose_prints_every_epoch(tmp_path):
    done = subprocess.run(regspec_cmd("compile", str(SPECS / "iris" / "base.yaml"), "--train", "-v", "--out",
                                      str(tmp_path / "runs"), "--set", "training.epochs=3"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()[:3]] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
