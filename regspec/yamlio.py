"""Write plain data as readable YAML (leaf lists and small mappings in flow style)."""

from __future__ import annotations

import io
import re
from typing import Any


def dump_yaml(data: Any) -> str:
    from ruamel.yaml import YAML  # here: `validate` reads specs without it (12 ms of its start)

    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = None
    yaml.width = 100
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def with_overrides_yaml(source: str, applied: tuple[tuple[str, Any], ...], dest: str | None = None) -> str:
    """The source file's text with ``applied`` overrides (and name) set; comments kept.

    With ``dest``, relative `extends` and data paths are rewritten relative to dest's folder.
    """
    import os

    from ruamel.yaml import YAML

    from regspec.lang.data import PATH_FIELDS

    yaml = YAML(typ="rt", pure=True)
    yaml.width = 100
    yaml.preserve_quotes = True
    with open(source, encoding="utf-8") as fh:
        doc = yaml.load(fh)  # the file already passed regspec's reader: no tags, no directives
    for path, value in applied:
        if path == "name":
            doc["name"] = value
            continue
        if "overrides" not in doc or doc["overrides"] is None:
            doc["overrides"] = {}
        doc["overrides"][path] = value
    if dest is not None:
        src_dir = os.path.dirname(os.path.abspath(source))
        dst_dir = os.path.dirname(os.path.abspath(dest))

        def rebase(p: str) -> str:
            return p if os.path.isabs(p) else os.path.relpath(os.path.join(src_dir, p), dst_dir)

        if isinstance(doc.get("extends"), str):
            doc["extends"] = rebase(doc["extends"])
        data = doc.get("data")
        if isinstance(data, dict):
            for key in PATH_FIELDS:
                if isinstance(data.get(key), str):
                    data[key] = rebase(data[key])
        for item in layer_items(doc):
            if isinstance(item.get("weights"), str):
                item["weights"] = rebase(item["weights"])
    buf = io.StringIO()
    yaml.dump(doc, buf)
    text = buf.getvalue()
    if dest is not None:  # the editor's schema line, relative to the file, follows it too
        text = re.sub(r"^(# yaml-language-server: \$schema=)(?!https?:)(\S+)",
                      lambda m: m.group(1) + rebase(m.group(2)), text, count=1, flags=re.M)
    return text


def layer_items(spec: Any) -> list[Any]:
    """Every layer mapping of a spec as written: the model's, and its blocks'."""
    if not isinstance(spec, dict):
        return []
    lists = [spec.get("layers")]
    blocks = spec.get("blocks")
    if isinstance(blocks, dict):
        lists += [b.get("layers") for b in blocks.values() if isinstance(b, dict)]
    return [it for layers in lists if isinstance(layers, list) for it in layers if isinstance(it, dict)]
