import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The spec schema cache of this test run (and its subprocesses), not the user's.
os.environ.setdefault("REGSPEC_CACHE_DIR", tempfile.mkdtemp(prefix="regspec-test-cache-"))
ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
SPECS = ROOT / "specs"


@pytest.fixture
def at_root(monkeypatch):
    """Run with the repository root as working directory (error lines name files relative to it)."""
    monkeypatch.chdir(ROOT)
    return ROOT


def regspec_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "regspec", *args]
