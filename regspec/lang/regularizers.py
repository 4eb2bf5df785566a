"""Regularizer kinds: the penalties a layer's weights or output may carry.

Each kind is one class with its keys, its Keras form and the inverse; :data:`Regularizer`, the
type every `*_regularizer` field takes, is the union of the kinds listed at the bottom. A new
kind is one class here, added to that list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, Union

from pydantic import ConfigDict, Discriminator, Field, Tag, model_validator

from regspec.lang.keras_form import KerasForm, KerasValue, float32_decimal, form
from regspec.lang.types import NonNegFloat, Strict

MODULE = "keras.regularizers"


class L1L2(Strict, KerasValue):
    """`{l1: x}`, `{l2: x}` or `{l1: x, l2: y}`: Keras' L1, L2 or L1L2 penalty."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    keras_module: ClassVar[str] = MODULE
    keras_classes: ClassVar[tuple[str, ...]] = ("L1", "L2", "L1L2")
    key: ClassVar[str] = "l1"

    l1: NonNegFloat | None = Field(None, description="L1 factor (sum of absolute weights).")
    l2: NonNegFloat | None = Field(None, description="L2 factor (sum of squared weights).")

    @model_validator(mode="after")
    def _one_of(self) -> L1L2:
        if self.l1 is None and self.l2 is None:
            raise ValueError("a regularizer needs l1, l2 or both")
        return self

    def keras_form(self) -> KerasForm:
        """L1, L2 or L1L2, as `regularizers.l1(x)` etc. give in hand-written code."""
        if self.l2 is None:
            return form(MODULE, "L1", {"l1": self.l1})
        if self.l1 is None:
            return form(MODULE, "L2", {"l2": self.l2})
        return form(MODULE, "L1L2", {"l1": self.l1, "l2": self.l2})

    @classmethod
    def from_keras(cls, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
        if class_name == "L1L2":
            return {k: float32_decimal(config[k]) for k in ("l1", "l2") if config.get(k)} or {"l1": 0.0}
        key = class_name.lower()
        return {key: float32_decimal(config[key])}


class Orthogonal(Strict, KerasValue):
    """`{orthogonal: factor, mode: rows}`: Keras' OrthogonalRegularizer, a penalty on the
    non-orthogonality of the kernel's rows (or columns)."""

    keras_module: ClassVar[str] = MODULE
    keras_classes: ClassVar[tuple[str, ...]] = ("OrthogonalRegularizer",)
    key: ClassVar[str] = "orthogonal"

    orthogonal: Annotated[float, Field(ge=0)] = Field(description="The factor (Keras' `factor`).")
    mode: Literal["rows", "columns"] = "rows"

    def keras_form(self) -> KerasForm:
        return form(MODULE, "OrthogonalRegularizer", {"factor": self.orthogonal, "mode": self.mode})

    @classmethod
    def from_keras(cls, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"orthogonal": float32_decimal(config.get("factor", 0.01))}
        if config.get("mode", "rows") != "rows":
            out["mode"] = config["mode"]
        return out


KINDS: tuple[type[L1L2] | type[Orthogonal], ...] = (L1L2, Orthogonal)


def _kind(value: Any) -> str:
    """The kind a value is: by the key only that kind has (a mapping), or by its class."""
    if isinstance(value, dict):
        return next((k.__name__ for k in KINDS[1:] if k.key in value), KINDS[0].__name__)
    return type(value).__name__


if TYPE_CHECKING:
    Regularizer: TypeAlias = L1L2 | Orthogonal
else:
    Regularizer = Annotated[Union[tuple(Annotated[k, Tag(k.__name__)] for k in KINDS)], Discriminator(_kind)]
