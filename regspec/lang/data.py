"""The `data` section: where examples come from and how they are split.

Relative paths are relative to the spec file that names them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from regspec.lang.layers import LAYERS
from regspec.lang.types import Fraction, NonNegFloat, PositiveInt, Rate, RelPath, Strict

#: Fields holding file or folder paths (relative to the spec file that names them).
PATH_FIELDS = ("train", "test", "path")

# Augmentation: the random preprocessing layers, run on training batches only.
Augmentation = Annotated[
    Union[tuple(cls for cls in LAYERS.values() if cls.augmentation)],  # type: ignore[misc]
    Field(discriminator="type"),
]
AugmentationList = Annotated[list[Augmentation], Field(max_length=32)]


class _Data(Strict):
    hint: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="Shown when the data is missing: where to get it and where to put it."
    )
    validation_split: Rate | None = Field(
        None, description="Hold out this fraction of the training data for validation; "
        "without it, the test split is used for validation (as the articles do).",
    )


class SklearnData(_Data):
    """A dataset that ships with scikit-learn (works offline)."""

    type: Literal["sklearn"]
    name: Literal["iris", "digits", "wine", "breast_cancer"]
    test_size: Fraction = Field(0.25, description="Fraction held out as the test split (seeded).")
    standardize: bool = Field(False, description="Scale features to zero mean, unit variance (fitted on the train split).")


class CsvData(_Data):
    """A CSV file with a header row; the `label` column holds integer class labels or targets."""

    type: Literal["csv"]
    train: RelPath
    test: RelPath | None = None
    label: Annotated[str, Field(min_length=1)]
    features: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    test_size: Fraction = 0.25
    standardize: bool = False
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","


class NpzData(_Data):
    """A NumPy `.npz` file with arrays `x_train`, `y_train` and optionally `x_test`, `y_test` (never pickled)."""

    type: Literal["npz"]
    path: RelPath
    test_size: Fraction = 0.25
    rescale: float | None = None
    augmentation: AugmentationList = Field(default_factory=list)


class KerasData(_Data):
    """A keras.datasets dataset: downloaded once into Keras' cache, or read from `path`."""

    type: Literal["keras"]
    name: Literal["mnist", "fashion_mnist", "cifar10", "cifar100"]
    path: RelPath | None = Field(None, description="A local copy of the dataset file (e.g. mnist.npz); no download.")
    rescale: float | None = None
    augmentation: AugmentationList = Field(default_factory=list)


class ImageDirectoryData(_Data):
    """Folders of images, one subfolder per class (keras.utils.image_dataset_from_directory)."""

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


class TfdsData(_Data):
    """A TensorFlow Datasets dataset (optional extra: pip install regspec[tfds])."""

    type: Literal["tfds"]
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]+(/[a-z0-9_.]+)?(:[0-9.]+)?$")]
    train_split: str = "train"
    test_split: str | None = "test"
    rescale: float | None = None
    augmentation: AugmentationList = Field(default_factory=list)


AnyData = Annotated[
    Union[SklearnData, CsvData, NpzData, KerasData, ImageDirectoryData, TfdsData], Field(discriminator="type")
]
