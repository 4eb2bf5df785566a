"""Resolve a validated spec into one flat, explicit, immutable spec.

`input` layers move to the top-level `input`, `repeat` expands, `dropout`
annotations become Dropout layers, data paths become absolute. Built from the
already-validated objects (``model_copy``), so nothing is validated twice;
every default is explicit in the models.
"""

from __future__ import annotations

import os

from regspec.frontend.source import Document
from regspec.lang.data import PATH_FIELDS
from regspec.lang.layers import LAYERS
from regspec.lang.layers.core import Dropout
from regspec.lang.model import InputSection
from regspec.lang.model import Spec as SpecModel
from regspec.paths import Path


def resolve(spec: SpecModel, doc: Document) -> tuple[SpecModel, list[Path]]:
    """Return the resolved spec and, for each resolved layer, the path of the item it came from."""
    update: dict = {"extends": None, "overrides": {}}
    layers: list = []
    origins: list[Path] = []
    for i, layer in enumerate(spec.layers):
        if layer.type == "input":
            update["input"] = InputSection(shape=list(layer.shape))  # type: ignore[attr-defined]
            continue
        n = layer.repeat
        annotated = "dropout" in LAYERS[layer.type].own_keys
        rate = layer.__dict__.get("dropout") if annotated else None  # not getattr: pydantic's miss path is slow
        for copy in range(n):
            changes: dict = {}
            if n > 1:
                changes["repeat"] = 1
                if layer.name is not None:
                    changes["name"] = f"{layer.name}_{copy + 1}"
            if rate is not None:
                changes["dropout"] = None
            item = layer.model_copy(update=changes) if changes else layer
            layers.append(item)
            origins.append(("layers", i))
            if rate is not None:
                name = f"{item.name}_dropout" if item.name else None
                layers.append(Dropout(type="dropout", rate=rate, name=name))
                origins.append(("layers", i, "dropout"))
    update["layers"] = layers
    data = spec.data
    if data is not None:
        changes = {}
        for key in PATH_FIELDS:  # relative here: given on the command line or by a sweep
            value = data.__dict__.get(key)
            if isinstance(value, str) and not os.path.isabs(value):
                changes[key] = os.path.abspath(value)
        batch = data.__dict__.get("batch_size")
        if batch is not None:
            update["training"] = spec.training.model_copy(update={"batch_size": batch})
            changes["batch_size"] = None
        update["data"] = data.model_copy(update=changes)
    return spec.model_copy(update=update), origins
