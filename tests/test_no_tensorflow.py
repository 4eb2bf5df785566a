"""Spec-only commands never import TensorFlow or Keras."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = """
import json, sys
from regspec.cli import main
sys.argv = ["regspec"] + sys.argv[1:]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""


@pytest.mark.parametrize("args", [
    ["validate", "specs/iris/base.yaml", "specs/iris/activity.yaml"],
    ["validate", "tests/cases/invalid/ranges.yaml"],
    ["summary", "specs/iris/activity.yaml"],
    ["resolve", "specs/iris/activity.yaml"],
    ["diff", "specs/iris/base.yaml", "specs/iris/activity.yaml"],
    ["schema", "-o", "-"],
])
def test_spec_only_commands_leave_tensorflow_out(args):
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tensorflow"] is False and result["keras"] is False
    assert result["code"] in (0, 1, 2)


def test_import_regspec_is_light():
    code = "import sys, regspec; regspec.load; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
