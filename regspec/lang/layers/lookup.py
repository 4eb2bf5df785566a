"""Categorical and text preprocessing: lookups, hashing, one-hot and multi-hot encodings,
discretization and text vectorization. A kind without its vocabulary (or bin boundaries) adapts
to the training split before training (``adapts``), and the model keeps what it learned, so that
new raw values go through exactly what training saw."""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from regspec.lang.layers.base import Layer, Shape, ShapeError
from regspec.lang.types import PositiveInt

Token = Annotated[str, Field(max_length=1000)]
Vocabulary = Annotated[list[Token], Field(min_length=1, max_length=1_000_000)]
IntVocabulary = Annotated[list[int], Field(min_length=1, max_length=1_000_000)]
Encoding = Literal["int", "one_hot", "multi_hot", "count"]


def encoded(shape: Shape, depth: int | None, mode: str) -> Shape:
    """The output shape of a categorical encoding of ``shape`` into ``depth`` categories, as
    Keras computes it: one-hot replaces a last dimension of 1 (else adds one); multi-hot and
    counts fold the last dimension into the categories."""
    if mode == "int":
        return shape
    if depth is None:
        raise ShapeError(f"output_mode {mode} needs a fixed number of categories: give the vocabulary "
                         "(or max_tokens with pad_to_max_tokens: true)")
    if mode == "one_hot":
        return (shape[:-1] if shape and shape[-1] == 1 else shape) + (depth,)
    return (shape[:-1] if len(shape) > 1 else ()) + (depth,)


class _Lookup(Layer):
    data_arguments: ClassVar[frozenset[str]] = frozenset({"vocabulary"})
    max_tokens: Annotated[int, Field(ge=2)] | None = None
    num_oov_indices: Annotated[int, Field(ge=0, le=1000)] = 1
    invert: bool = False
    output_mode: Encoding = "int"
    pad_to_max_tokens: bool = False

    @property
    def adapts(self) -> bool:
        return getattr(self, "vocabulary", None) is None

    keras_state: ClassVar[frozenset[str]] = frozenset({"vocabulary_size"})  # in Keras' config, not an argument

    def _depth(self) -> int | None:
        vocabulary = getattr(self, "vocabulary", None)
        if vocabulary is not None:  # the mask token has no column of its own
            return len(vocabulary) + self.num_oov_indices
        return self.max_tokens if self.pad_to_max_tokens else None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        return encoded(shape, self._depth(), self.output_mode), 0, 0


class StringLookup(_Lookup):
    """Strings to integer ids (or one-hot/multi-hot): ids from a vocabulary, given or adapted to
    the training split; values not in it get the out-of-vocabulary id (0 by default)."""

    keras_class = "StringLookup"
    type: Literal["string_lookup"]
    mask_token: Token | None = None
    oov_token: Token = "[UNK]"
    vocabulary: Vocabulary | None = None


class IntegerLookup(_Lookup):
    """Integers (category codes) to contiguous ids: as string_lookup, for integer columns."""

    keras_class = "IntegerLookup"
    type: Literal["integer_lookup"]
    mask_token: int | None = None
    oov_token: int = -1
    vocabulary: IntVocabulary | None = None


class Hashing(Layer):
    """Values (strings or integers) to one of `num_bins` bins by a stable hash: no vocabulary."""

    keras_class = "Hashing"
    type: Literal["hashing"]
    num_bins: PositiveInt
    mask_value: str | int | None = None
    salt: Annotated[int, Field(ge=0)] | None = None
    output_mode: Encoding = "int"

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        return encoded(shape, self.num_bins, self.output_mode), 0, 0

    @field_validator("salt", mode="before")
    @classmethod
    def _one_salt(cls, v: Any) -> Any:
        # Keras keeps an integer salt as the pair [salt, salt] (what an imported config holds).
        return v[0] if isinstance(v, list) and len(v) == 2 and v[0] == v[1] else v


class CategoryEncoding(Layer):
    """Integer ids below `num_tokens` to one-hot, multi-hot or count vectors."""

    keras_class = "CategoryEncoding"
    type: Literal["category_encoding"]
    num_tokens: PositiveInt
    output_mode: Literal["one_hot", "multi_hot", "count"] = "multi_hot"

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        return encoded(shape, self.num_tokens, self.output_mode), 0, 0


class Discretization(Layer):
    """Numbers to bin ids: bins given by `bin_boundaries`, or `num_bins` quantiles adapted to the
    training split."""

    keras_class = "Discretization"
    data_arguments: ClassVar[frozenset[str]] = frozenset({"bin_boundaries"})
    type: Literal["discretization"]
    bin_boundaries: Annotated[list[float], Field(min_length=1, max_length=100_000)] | None = None
    num_bins: Annotated[int, Field(ge=2)] | None = None
    epsilon: Annotated[float, Field(gt=0, lt=1)] = 0.01
    output_mode: Encoding = "int"

    @model_validator(mode="after")
    def _one_of(self) -> "Discretization":
        if (self.bin_boundaries is None) == (self.num_bins is None):
            raise ValueError("give bin_boundaries, or num_bins (then it adapts to the training data)")
        return self

    @property
    def adapts(self) -> bool:
        return self.bin_boundaries is None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return encoded(shape, depth, self.output_mode), 0, 0


class TextVectorization(Layer):
    """Raw strings to token ids (or multi-hot/counts/tf-idf): standardized, split and looked up in
    a vocabulary of at most `max_tokens`, given or adapted to the training split."""

    keras_class = "TextVectorization"
    data_arguments: ClassVar[frozenset[str]] = frozenset({"vocabulary"})
    keras_state: ClassVar[frozenset[str]] = frozenset({"vocabulary_size"})  # in Keras' config, not an argument
    type: Literal["text_vectorization"]
    max_tokens: Annotated[int, Field(ge=2)] | None = None
    standardize: Literal["lower_and_strip_punctuation", "lower", "strip_punctuation"] | None = "lower_and_strip_punctuation"
    split: Literal["whitespace", "character"] | None = "whitespace"
    ngrams: Annotated[int, Field(ge=1, le=10)] | None = None
    output_mode: Literal["int", "multi_hot", "count", "tf_idf"] = "int"
    output_sequence_length: PositiveInt | None = None
    pad_to_max_tokens: bool = False
    vocabulary: Vocabulary | None = None

    @property
    def adapts(self) -> bool:
        return self.vocabulary is None

    def infer(self, shape: Shape) -> tuple[Shape, int, int]:
        if shape not in ((), (1,)):
            raise ShapeError(f"text_vectorization takes one string per example (shape [] or [1]), got {list(shape)}")
        if self.output_mode == "int":
            return (self.output_sequence_length,), 0, 0
        if self.vocabulary is not None:
            depth: int | None = len(self.vocabulary) + 1  # and the out-of-vocabulary id
        else:
            depth = self.max_tokens if self.pad_to_max_tokens else None
        return encoded((), depth, "multi_hot"), 0, 0
