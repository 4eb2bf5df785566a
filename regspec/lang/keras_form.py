"""The Keras form of a spec value, both ways, owned by the value's kind.

A value kind (a regularizer, an initializer with arguments, a learning-rate schedule) says
which Keras module and classes it stands for, lowers itself to Keras' serialized form
(``keras_form``) and reads that form back (``from_keras``), as Keras objects own
``get_config``/``from_config``. Building, `export --python` and `import` dispatch through
:data:`MODULES` and :func:`value_kind`, and refuse a module or class no kind claims: nothing
is passed through silently.
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar, TypedDict


class KerasForm(TypedDict):
    """Keras' serialized form of one object (what ``keras.saving.serialize_keras_object`` gives)."""

    module: str
    class_name: str
    config: dict[str, Any]


LAYERS_MODULE = "keras.layers"
#: Every Keras module a lowered value may name -> how a generated script spells it.
MODULES = {
    LAYERS_MODULE: "layers",
    "keras.regularizers": "regularizers",
    "keras.initializers": "keras.initializers",
    "keras.optimizers.schedules": "keras.optimizers.schedules",
}

_KINDS: dict[tuple[str, str], type[KerasValue]] = {}


class UnknownKerasForm(ValueError):
    """A Keras module or class that no value kind claims."""


class KerasValue:
    """Mixin of every value kind (a pydantic model) that stands for one Keras object."""

    keras_module: ClassVar[str]
    #: The Keras classes this kind reads back (``from_keras``) and may lower to; a kind with one
    #: class may name it as ``keras_class`` instead.
    keras_classes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("keras_classes", ()) or (
            (cls.__dict__["keras_class"],) if "keras_class" in cls.__dict__ else ())
        for name in own:
            claimed = _KINDS.setdefault((cls.keras_module, name), cls)
            if claimed is not cls:
                raise TypeError(f"{cls.__name__} and {claimed.__name__} both claim {cls.keras_module}.{name}")

    def keras_form(self) -> KerasForm:
        raise NotImplementedError

    @classmethod
    def from_keras(cls, class_name: str, config: dict[str, Any]) -> Any:
        """The spec value (plain data) for Keras' ``config`` of ``class_name``."""
        raise NotImplementedError


def known_module(module: str) -> str:
    """``module`` if some kind lowers to it; raises :class:`UnknownKerasForm`."""
    if module not in MODULES:
        raise UnknownKerasForm(f"no value kind lowers to the module {module!r}")
    return module


def form(module: str, class_name: str, config: dict[str, Any]) -> KerasForm:
    return {"module": known_module(module), "class_name": class_name, "config": config}


def value_kind(module: str, class_name: str) -> type[KerasValue]:
    """The kind that reads ``module.class_name`` back; raises :class:`UnknownKerasForm`."""
    kind = _KINDS.get((module, class_name))
    if kind is None:
        raise UnknownKerasForm(f"regspec has no value kind for {module}.{class_name}")
    return kind


def source_prefix(module: str) -> str:
    """How a generated script names ``module``; raises :class:`UnknownKerasForm`."""
    return MODULES[known_module(module)]


def float32_decimal(x: float) -> float:
    """The shortest decimal with the same float32 value: Keras stores factors and rates as float32,
    so a file's 0.0010000000474974513 was written as 0.001."""
    try:
        rounded = struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:  # beyond float32: not a value Keras stored as one
        return x
    for digits in range(1, 18):
        short = float(f"{x:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == rounded:
            return short
    return x
