"""Resolve a validated spec into one flat, explicit, immutable spec.

`input` layers move to the top-level `input`, `repeat` expands, `dropout`
annotations become Dropout layers, data paths become absolute, and every
default is written out. The result is validated again, so it is a spec too.
"""

from __future__ import annotations

import os
from typing import Any

from .paths import Path
from .source import Document
from .spec.layers import LAYERS
from .spec.model import Spec as SpecModel

PATH_FIELDS = ("train", "test", "path")


def resolve(spec: SpecModel, doc: Document) -> tuple[SpecModel, list[Path]]:
    """Return the resolved spec and, for each resolved layer, the path of the item it came from."""
    data: dict[str, Any] = spec.model_dump(mode="python", exclude={"extends", "overrides"})
    layers: list[dict] = []
    origins: list[Path] = []
    for i, (layer, raw) in enumerate(zip(spec.layers, data["layers"])):
        if layer.type == "input":
            data["input"] = {"shape": raw["shape"]}
            continue
        raw = {k: v for k, v in raw.items()}
        n = raw.pop("repeat", 1)
        rate = raw.pop("dropout", None) if "dropout" in LAYERS[layer.type].own_keys else None
        for copy in range(n):
            item = dict(raw, repeat=1)
            if n > 1 and layer.name is not None:
                item["name"] = f"{layer.name}_{copy + 1}"
            layers.append(item)
            origins.append(("layers", i))
            if rate is not None:
                name = f"{item['name']}_dropout" if item.get("name") else None
                layers.append({"type": "dropout", "rate": rate, "name": name})
                origins.append(("layers", i, "dropout"))
    data["layers"] = layers
    if data.get("data"):
        d = data["data"]
        for key in PATH_FIELDS:
            if isinstance(d.get(key), str):
                file = doc.position(("data", key))[0]
                d[key] = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(file)), d[key]))
        if d.get("batch_size") is not None:
            data["training"]["batch_size"] = d["batch_size"]
            d["batch_size"] = None
    return SpecModel.model_validate(data), origins
