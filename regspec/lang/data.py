"""The `data` section: where examples come from and how they are split.

Relative paths are relative to the spec file that names them.
"""


from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from regspec.lang.layers import LAYERS
from regspec.lang.registry import Registered, Registry
from regspec.lang.types import Fraction, NonNegFloat, PositiveInt, Rate, RelPath

DATA_SOURCES: "Registry[DataSource]" = Registry("data source")

#: Fields holding file or folder paths (relative to the spec file that names them).
PATH_FIELDS = ("train", "test", "path")

# Augmentation: the random preprocessing layers, run on training batches only.
if TYPE_CHECKING:  # mypy sees the base class; pydantic gets the registry's discriminated union
    from regspec.lang.layers import Layer as Augmentation
else:
    Augmentation = LAYERS.union(where=lambda cls: cls.augmentation)
AugmentationList = Annotated[list[Augmentation], Field(max_length=32)]


class DataSource(Registered):
    """Where examples come from; the Keras backend has one loader per registered tag."""

    registry: ClassVar[Registry[Any]] = DATA_SOURCES
    #: Whether loading always yields a test split (then it validates when no validation_split is given).
    always_test: ClassVar[bool] = False
    #: Those of PATH_FIELDS that name a folder (the others name a file).
    folder_fields: ClassVar[tuple[str, ...]] = ()
    hint: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="Shown when the data is missing: where to get it and where to put it."
    )
    validation_split: Rate | None = Field(
        None, description="Hold out this fraction of the training data for validation; "
        "without it, the test split is used for validation (as the articles do).",
    )


class SklearnData(DataSource):
    """A dataset that ships with scikit-learn (works offline)."""

    always_test = True
    type: Literal["sklearn"]
    name: Literal["iris", "digits", "wine", "breast_cancer"]
    test_size: Fraction = Field(0.25, description="Fraction held out as the test split (seeded).")
    standardize: bool = Field(False, description="Scale features to zero mean, unit variance (fitted on the train split).")


class SyntheticData(DataSource):
    """Examples drawn by a scikit-learn generator (`make_moons`, ...): small, offline, seeded by
    `training.seed`. Noisy moons are the classic playground for watching a regularizer tame
    overfitting. Arguments keep scikit-learn's names; each generator takes the ones it knows."""

    always_test = True
    #: generator -> the arguments it takes (beside n_samples) as its make_* function names them.
    TAKES: ClassVar[dict[str, tuple[str, ...]]] = {
        "moons": ("noise",), "circles": ("noise", "factor"), "blobs": ("n_features", "centers", "cluster_std"),
        "classification": ("n_features", "n_informative", "n_classes", "flip_y", "class_sep"),
        "regression": ("n_features", "n_informative", "noise"),
    }
    type: Literal["synthetic"]
    generator: Literal["moons", "circles", "blobs", "classification", "regression"]
    n_samples: Annotated[int, Field(ge=8, le=1_000_000)] = 500
    noise: NonNegFloat | None = Field(None, description="Standard deviation of the Gaussian noise added.")
    factor: Annotated[float, Field(gt=0, lt=1)] | None = Field(None, description="circles: inner radius / outer.")
    n_features: Annotated[int, Field(ge=1, le=10_000)] | None = None
    n_informative: Annotated[int, Field(ge=1, le=10_000)] | None = None
    n_classes: Annotated[int, Field(ge=2, le=1000)] | None = None
    centers: Annotated[int, Field(ge=2, le=1000)] | None = Field(None, description="blobs: the number of classes.")
    cluster_std: Annotated[float, Field(gt=0)] | None = None
    flip_y: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="classification: the fraction of labels flipped at random.")
    class_sep: Annotated[float, Field(gt=0)] | None = None
    test_size: Fraction = Field(0.25, description="Fraction held out as the test split (seeded).")
    standardize: bool = Field(False, description="Scale features to zero mean, unit variance (fitted on the train split).")

    @model_validator(mode="after")
    def _known_arguments(self) -> "SyntheticData":
        takes = self.TAKES[self.generator]
        given = [k for k in self.model_fields_set if k in self.arguments_of_all() and k not in takes]
        if given:
            raise ValueError(f"make_{self.generator} takes no {', '.join(sorted(given))} "
                             f"(it takes n_samples{''.join(', ' + t for t in takes)})")
        return self

    @classmethod
    def arguments_of_all(cls) -> set[str]:
        return {a for takes in cls.TAKES.values() for a in takes}

    def generator_arguments(self) -> dict[str, Any]:
        """The make_* function's keyword arguments that the spec sets (the rest keep sklearn's defaults)."""
        out: dict[str, Any] = {"n_samples": self.n_samples}
        out.update({k: getattr(self, k) for k in self.TAKES[self.generator] if getattr(self, k) is not None})
        return out


Column = Annotated[str, Field(min_length=1, max_length=256)]
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CsvData(DataSource):
    """A CSV file with a header row. One input and one label: `label` (and `features`, default:
    every other column). Named inputs and outputs: `inputs` maps each model input to its column
    (a scalar, a number or a string) or columns (a vector), `outputs` each output to its label
    column."""

    always_test = True
    type: Literal["csv"]
    train: RelPath
    test: RelPath | None = None
    label: Column | None = Field(None, description="The label column (one output); or give `outputs`.")
    features: Annotated[list[Column], Field(min_length=1)] | None = None
    inputs: Annotated[dict[ModelName, Column | Annotated[list[Column], Field(min_length=1, max_length=100_000)]],
                      Field(min_length=1, max_length=256)] | None = Field(
        None, description="Model input -> its column, or its columns (one vector). Cells of a string input stay text.")
    outputs: Annotated[dict[ModelName, Column], Field(min_length=1, max_length=64)] | None = Field(
        None, description="Model output -> its label column.")
    test_size: Fraction = 0.25
    standardize: bool = False
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","

    @model_validator(mode="after")
    def _one_way(self) -> "CsvData":
        if (self.label is None) == (self.outputs is None):
            raise ValueError("give `label` (one output) or `outputs` (output -> label column), not both" if self.label
                             else "give `label` (the label column) or `outputs` (output -> label column)")
        if self.features is not None and self.inputs is not None:
            raise ValueError("give `features` (one input) or `inputs` (input -> columns), not both")
        if self.standardize and self.inputs is not None:
            raise ValueError("standardize scales the one input's features; with `inputs`, put a normalization layer "
                             "after a numeric input (it adapts to the train split)")
        return self

    def label_columns(self) -> dict[str | None, str]:
        """Output name (None: the one output) -> its label column."""
        if self.outputs:
            return {k: v for k, v in self.outputs.items()}
        return {None: self.label or ""}

    def input_columns(self) -> dict[str, list[str]] | None:
        """Model input -> its columns, when the inputs are named."""
        if self.inputs is None:
            return None
        return {k: [v] if isinstance(v, str) else list(v) for k, v in self.inputs.items()}


class NpzData(DataSource):
    """A NumPy `.npz` file (never pickled) with arrays `x_train`, `y_train` and optionally `x_test`,
    `y_test`; or, with `inputs` and `outputs`, one array per model input and output: `<array>_train`
    (and `<array>_test`) for each name the mappings give."""

    always_test = True
    type: Literal["npz"]
    path: RelPath
    test_size: Fraction = 0.25
    rescale: float | None = None
    inputs: Annotated[dict[ModelName, ModelName], Field(min_length=1, max_length=256)] | None = Field(
        None, description="Model input -> its array's name (arrays <name>_train, <name>_test).")
    outputs: Annotated[dict[ModelName, ModelName], Field(min_length=1, max_length=64)] | None = Field(
        None, description="Model output -> its labels' array name (arrays <name>_train, <name>_test).")
    augmentation: AugmentationList = Field(default_factory=list)

    @model_validator(mode="after")
    def _named_together(self) -> "NpzData":
        if (self.inputs is None) != (self.outputs is None):
            raise ValueError("give both `inputs` and `outputs` (named arrays), or neither (x_train, y_train)")
        if self.inputs is not None and (self.rescale is not None or self.augmentation):
            raise ValueError("rescale and augmentation apply to x_train; with named arrays, put the layers in the model")
        return self


class KerasData(DataSource):
    """A keras.datasets dataset: downloaded once into Keras' cache, or read from `path`. The text
    sets (imdb, reuters) are word-id sequences, padded or cut to `maxlen` as Keras' examples do."""

    always_test = True
    TEXT: ClassVar[tuple[str, ...]] = ("imdb", "reuters")
    type: Literal["keras"]
    name: Literal["mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters"]
    path: RelPath | None = Field(None, description="A local copy of the dataset file (e.g. mnist.npz); no download. "
                                 "For imdb and reuters: an .npz of x_train/y_train (x_test/y_test) id arrays, "
                                 "padded with 0, never pickled.")
    rescale: float | None = None
    num_words: Annotated[int, Field(ge=4, le=10_000_000)] | None = Field(
        None, description="imdb, reuters: keep the most frequent words; rarer ones become the out-of-vocabulary id 2.")
    maxlen: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="imdb, reuters: pad (with 0) or cut every sequence to this length, at its start.")
    augmentation: AugmentationList = Field(default_factory=list)

    @model_validator(mode="after")
    def _text_settings(self) -> "KerasData":
        text = self.name in self.TEXT
        if text and self.maxlen is None:
            raise ValueError(f"{self.name}'s sequences differ in length: set maxlen (e.g. 200)")
        if not text and (self.maxlen is not None or self.num_words is not None):
            raise ValueError(f"num_words and maxlen apply to imdb and reuters, not {self.name}")
        if text and (self.rescale is not None or self.augmentation):
            raise ValueError(f"{self.name} holds word ids: rescale and augmentation do not apply")
        return self


class ImageDirectoryData(DataSource):
    """Folders of images, one subfolder per class (keras.utils.image_dataset_from_directory)."""

    folder_fields = ("train", "test")
    type: Literal["image_directory"]
    train: RelPath
    test: RelPath | None = None
    image_size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] = [256, 256]
    label_mode: Literal["binary", "categorical", "int"] = "int"
    color_mode: Literal["rgb", "grayscale", "rgba"] = "rgb"
    batch_size: PositiveInt | None = Field(None, description="Same as training.batch_size (either may be given).")
    rescale: NonNegFloat | None = Field(None, description="Multiply pixels by this (1/255 maps to [0, 1]).")
    interpolation: Literal["bilinear", "nearest", "bicubic", "area"] = "bilinear"
    cache: bool = Field(True, description="Cache decoded images in memory after the first epoch.")
    augmentation: AugmentationList = Field(default_factory=list)


class TfdsData(DataSource):
    """A TensorFlow Datasets dataset (optional extra: pip install regspec[tfds])."""

    always_test = True  # test_split may be null; then there is none (checked where it is read)
    type: Literal["tfds"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+(/[a-z0-9_.]+)?(:[0-9.]+)?$")]
    train_split: str = "train"
    test_split: str | None = "test"
    rescale: float | None = None
    augmentation: AugmentationList = Field(default_factory=list)


if TYPE_CHECKING:
    AnyData = DataSource
else:
    AnyData = DATA_SOURCES.union()
