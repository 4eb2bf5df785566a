"""Shared field types of the spec language. Strictness lives in :class:`Strict`."""


import functools
import typing
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from regspec.lang.keras_form import KerasForm, KerasValue, form


class Strict(BaseModel):
    """Every spec model: strict types, unknown keys refused, finite numbers, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True, defer_build=True)


class AddedLater:
    """Marks a field added after specs were first hashed (`Annotated[bool, ADDED_LATER]`): the
    resolved spec leaves it out while it holds its default, so sweep stores and backups keyed by
    the hash of an existing spec still find it."""


ADDED_LATER = AddedLater()


def drop_unset_later(model: BaseModel, data: Any) -> None:
    """Remove from ``data`` (``model`` dumped) every `ADDED_LATER` field still at its default."""
    if not isinstance(data, dict):
        return
    later, nested = _plan(type(model))
    for name, key, default in later:
        if key in data and getattr(model, name, None) == default:
            del data[key]
    for name, key in nested:
        if key in data:
            _walk(getattr(model, name, None), data[key])


def later_fields(cls: type[BaseModel]) -> tuple[tuple[str, str, Any], ...]:
    """A model class's ADDED_LATER fields: (name, key, default)."""
    return _plan(cls)[0]


@functools.cache
def _plan(cls: type[BaseModel]) -> tuple[tuple[tuple[str, str, Any], ...], tuple[tuple[str, str], ...]]:
    """A model class's ADDED_LATER fields (name, key, default), and the fields that may hold a
    model to look into; worked out once per class (a resolved spec is dumped for every hash)."""
    later, nested = [], []
    for name, info in cls.model_fields.items():
        key = info.alias or name
        if ADDED_LATER in info.metadata:
            later.append((name, key, info.get_default(call_default_factory=True)))
        if _may_hold_later(info.annotation):  # a later field that is set may hold later fields too
            nested.append((name, key))
    return tuple(later), tuple(nested)


def _may_hold_later(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a value of this type may hold a model with an ADDED_LATER field (layers nest layers:
    ``seen`` stops the recursion)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        fields = annotation.model_fields.values()
        return any(ADDED_LATER in f.metadata or _may_hold_later(f.annotation, seen | {annotation}) for f in fields)
    return any(_may_hold_later(a, seen) for a in typing.get_args(annotation))


def _walk(value: Any, data: Any) -> None:
    if isinstance(value, BaseModel):
        drop_unset_later(value, data)
    elif isinstance(value, (list, tuple)) and isinstance(data, list):
        for v, d in zip(value, data):
            _walk(v, d)
    elif isinstance(value, dict) and isinstance(data, dict):
        for k, v in value.items():
            _walk(v, data.get(k))


PositiveInt = Annotated[int, Field(ge=1, le=2**31 - 1)]
NonNegInt = Annotated[int, Field(ge=0, le=2**31 - 1)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
NonNegFloat = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, lt=1, description="A fraction in [0, 1).")]
Fraction = Annotated[float, Field(gt=0, lt=1)]
LayerName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Makes the layer addressable by paths.")]
#: A layer or model input by name, or one output of a layer with several: `encoder.state_h`.
LayerRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}(\.[a-z_]{1,32})?$")]
SpecName = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,64}$")]
InputShape = Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)] | None], Field(
    min_length=0, max_length=8, description="One example's shape, without the batch axis; [] for a scalar.")]
DType = Literal["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"]
RelPath = Annotated[str, Field(min_length=1, max_length=4096, description="A path, relative to the spec file that names it.")]
WeightsPath = Annotated[str, Field(min_length=5, max_length=4096, pattern=r"(?i)\.(npz|npy)$",
                                   description="An .npz or .npy file, relative to the spec file that names it.")]


def size(rank: int, *, minimum: int = 1) -> Any:
    """An int, or a list of ``rank`` ints (Keras accepts both for kernel sizes and strides)."""
    item = Annotated[int, Field(ge=minimum, le=2**16)]
    return item | Annotated[list[item], Field(min_length=rank, max_length=rank)]


if TYPE_CHECKING:  # what the fields hold; pydantic gets the bounded forms below
    Size1: TypeAlias = int | list[int]
    Size2: TypeAlias = int | list[int]
    Size3: TypeAlias = int | list[int]
    Size2OrZero: TypeAlias = int | list[int]
else:
    Size1, Size2, Size3, Size2OrZero = size(1), size(2), size(3), size(2, minimum=0)


Activation = Literal[
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "sparse_sigmoid",
    "tanh", "hard_tanh", "tanh_shrink", "softmax", "log_softmax", "sparsemax", "softplus", "softsign",
    "sparse_plus", "squareplus", "exponential", "hard_shrink", "soft_shrink", "glu",
]

InitializerName = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
    "zeros", "ones", "random_normal", "random_uniform", "uniform", "truncated_normal", "orthogonal",
    "identity", "variance_scaling",
]
#: Initializer name -> its class in keras.initializers.
INITIALIZER_CLASSES = {
    "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal", "he_uniform": "HeUniform",
    "he_normal": "HeNormal", "lecun_uniform": "LecunUniform", "lecun_normal": "LecunNormal", "zeros": "Zeros",
    "ones": "Ones", "random_normal": "RandomNormal", "random_uniform": "RandomUniform", "uniform": "RandomUniform",
    "truncated_normal": "TruncatedNormal", "orthogonal": "Orthogonal", "identity": "Identity",
    "variance_scaling": "VarianceScaling", "constant": "Constant",
}

Constraint = Literal["max_norm", "min_max_norm", "non_neg", "unit_norm"]

Padding = Literal["valid", "same"]
FillMode = Literal["reflect", "wrap", "constant", "nearest", "crop"]
Interpolation = Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"]


class InitializerConfig(Strict, KerasValue):
    """An initializer with arguments, e.g. `{type: variance_scaling, scale: 2.0, mode: fan_out}`
    (Keras' argument names; those left out keep Keras' defaults)."""

    type: InitializerName | Literal["constant"]  # Keras takes "constant" only with its value
    scale: Annotated[float, Field(gt=0)] | None = None
    mode: Literal["fan_in", "fan_out", "fan_avg"] | None = None
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"] | None = None
    mean: float | None = None
    stddev: Annotated[float, Field(gt=0)] | None = None
    minval: float | None = None
    maxval: float | None = None
    gain: float | None = None
    value: float | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None

    keras_module: ClassVar[str] = "keras.initializers"
    keras_classes: ClassVar[tuple[str, ...]] = tuple(sorted(set(INITIALIZER_CLASSES.values())))

    def arguments(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "type" and v is not None}

    def keras_form(self) -> KerasForm:
        return form(self.keras_module, INITIALIZER_CLASSES[self.type], self.arguments())

    @classmethod
    def from_keras(cls, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` holds the arguments that differ from the class's defaults."""
        snake = next(n for n, c in INITIALIZER_CLASSES.items() if c == class_name and n != "uniform")
        return cls.model_validate({"type": snake, **config}).model_dump(exclude_none=True)


Initializer = InitializerName | InitializerConfig
