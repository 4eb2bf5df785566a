"""Importing TensorFlow through regspec: the collector is off during the import and what the
import made is frozen after it (env.keras); a caller who imported TensorFlow first keeps its
collector as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.tf

_PROBE = """
import gc, json, sys
{before}
from regspec.backend.keras.env import keras
keras()
print(json.dumps({{"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}}))
"""


def _probe(before: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(before=before)], capture_output=True, text=True,
                          check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_regspec_importing_tensorflow_freezes_what_the_import_made():
    got = _probe("")
    assert got["enabled"] is True
    assert got["frozen"] > 100_000  # TensorFlow's modules and registries, not only regspec's


def test_a_caller_that_imported_tensorflow_keeps_its_collector():
    assert _probe("import tensorflow") == {"enabled": True, "frozen": 0}
    assert _probe("import tensorflow; gc.disable()") == {"enabled": False, "frozen": 0}


def test_a_disabled_collector_stays_disabled():
    assert _probe("gc.disable()")["enabled"] is False
