"""Write plain data as readable YAML (leaf lists and small mappings in flow style)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = None
    yaml.width = 100
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()
