"""One registry per kind (layers, callbacks, optimizers, schedules, data sources).

A kind joins its registry by being defined: a subclass of a registered family
whose own ``type`` field is a one-value ``Literal`` is that tag's class. The
discriminated unions, the `Literal` of names, the JSON Schema, the docs and the
Keras lowering all read the registry, so a new kind is one class in one file.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field

from regspec.lang.types import Strict


class Registry(dict[str, type]):
    """Tag -> class, in definition order."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def add(self, tag: str, cls: type) -> None:
        if tag in self and self[tag] is not cls:
            raise TypeError(f"two {self.kind} classes claim the type {tag!r}: {self[tag].__name__} and {cls.__name__}")
        self[tag] = cls

    def union(self, *, where: typing.Callable[[type], bool] | None = None) -> Any:
        """``Annotated[Union[...], Field(discriminator="type")]`` over the registered classes."""
        members = tuple(c for c in self.values() if where is None or where(c))
        return Annotated[Union[members], Field(discriminator="type")]  # type: ignore[valid-type]  # built at run time

    def names(self) -> Any:
        """``Literal[...]`` of every registered tag (for the short form, e.g. `optimizer: adam`)."""
        return Literal[tuple(self)]  # type: ignore[valid-type]  # built at run time


def own_tag(cls: type) -> str | None:
    """The tag of a class that declares ``type: Literal["tag"]`` itself, else None."""
    if "type" not in cls.__dict__.get("__annotations__", {}):
        return None
    field = cls.model_fields.get("type")  # type: ignore[attr-defined]
    if field is None or typing.get_origin(field.annotation) is not Literal:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 else None


class Registered(Strict):
    """Base of a family of kinds; subclasses with their own tag join ``registry``."""

    registry: ClassVar[Registry]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        tag = own_tag(cls)
        if tag is not None:
            cls.registry.add(tag, cls)

    @property
    def tag(self) -> str:
        return self.type  # type: ignore[attr-defined, no-any-return]  # every registered class has `type`

    def keras_arguments(self) -> dict[str, Any]:
        """The fields that are Keras constructor arguments (everything but the tag)."""
        return {k: getattr(self, k) for k in type(self).model_fields if k != "type"}
