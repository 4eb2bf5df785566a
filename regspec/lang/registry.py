"""One registry per kind (layers, callbacks, optimizers, schedules, data sources).

A kind joins its registry by being defined: a subclass of a registered family
whose own ``type`` field is a one-value ``Literal`` is that tag's class. The
discriminated unions, the `Literal` of names, the JSON Schema, the docs and the
Keras lowering all read the registry, so a new kind is one class in one file.
"""


import typing
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union

from pydantic import Field

from regspec.lang.types import Strict

T = TypeVar("T")
REGISTRIES: "list[Registry[Any]]" = []  # every registry, for the schema cache's key


class Registry(dict[str, type[T]], Generic[T]):
    """Tag -> class, in definition order."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self._by_keras: dict[str, str] | None = None
        REGISTRIES.append(self)

    def add(self, tag: str, cls: type[T]) -> None:
        if tag in self and self[tag] is not cls:
            raise TypeError(f"two {self.kind} classes claim the type {tag!r}: {self[tag].__name__} and {cls.__name__}")
        self[tag] = cls
        self._by_keras = None

    def tag_of(self, keras_class: str) -> str | None:
        """The tag whose class builds ``keras_class`` (the importer's way back from a Keras config);
        the first registered wins where two kinds build one class."""
        if self._by_keras is None:
            by_keras: dict[str, str] = {}
            for tag, cls in self.items():
                name = getattr(cls, "keras_class", None)
                if isinstance(name, str):
                    by_keras.setdefault(name, tag)
            self._by_keras = by_keras
        assert self._by_keras is not None
        return self._by_keras.get(keras_class)

    def union(self, *, where: typing.Callable[[type[T]], bool] | None = None) -> Any:
        """``Annotated[Union[...], Field(discriminator="type")]`` over the registered classes."""
        members = tuple(c for c in self.values() if where is None or where(c))
        return Annotated[Union[members], Field(discriminator="type")]

    def names(self) -> Any:
        """``Literal[...]`` of every registered tag (for the short form, e.g. `optimizer: adam`)."""
        return Literal[tuple(self)]


def own_tag(cls: type) -> str | None:
    """The tag of a class that declares ``type: Literal["tag"]`` itself, else None."""
    if "type" not in cls.__dict__.get("__annotations__", {}):
        return None
    field = getattr(cls, "model_fields", {}).get("type")  # a pydantic model class
    if field is None or typing.get_origin(field.annotation) is not Literal:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 else None


class Registered(Strict):
    """Base of a family of kinds; subclasses with their own tag join ``registry``."""

    registry: ClassVar[Registry[Any]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        tag = own_tag(cls)
        if tag is not None:
            cls.registry.add(tag, cls)

    @property
    def tag(self) -> str:
        return str(self.__dict__["type"])  # every registered class has a `type` field

    def keras_arguments(self) -> dict[str, Any]:
        """The fields that are Keras constructor arguments (everything but the tag)."""
        return {k: getattr(self, k) for k in type(self).model_fields if k != "type"}
