"""The run directory's records as strict models: what training writes and what every reader checks.

One writer (`write`) and the models below are the run directory's schema: run.json, metrics.json,
history.json, weights.json and preprocessing.json. A reader that must trust a record (predict,
evaluate, export) validates it here; the tables (`rundir.read`) keep what is well-formed of a
damaged one, and `--resume` only needs a torn run.json's spec hash.
No TensorFlow here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, Strict, ValidationError, model_validator

from regspec.files import read_json, write_json
from regspec.lang.compile import Task
from regspec.paths import format_path
from regspec.rundir import layout

#: More numbers per example than any spec's input: the record is not one of ours.
MAX_FEATURES = 1_000_000

Finite = Annotated[float, Field(allow_inf_nan=False)]
Score = float | None  # null in the file: a score that was not finite (JSON has no NaN)
Dim = Annotated[int, Field(gt=0, le=MAX_FEATURES)]
# JSON has lists where the records hold tuples: the list itself is accepted (Strict(False)),
# its items stay strict.
Names = Annotated[tuple[str, ...], Strict(False), Field(max_length=MAX_FEATURES)]
Numbers = Annotated[tuple[Finite, ...], Strict(False), Field(max_length=MAX_FEATURES)]


class Record(BaseModel):
    """A file of the run directory. Strict: a number written as text, a bool for a count or an
    unknown status is refused, not coerced. Keys a later version adds are ignored."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")
    FILE: ClassVar[str]
    #: Leave out what is unset (weights.json's optional figures), rather than write null.
    OMIT_NONE: ClassVar[bool] = False


class RunRecord(Record):
    """run.json: what the run is and where it stands; rewritten at each change of status."""

    FILE: ClassVar[str] = layout.RUN
    name: str
    spec_hash: str
    source: str
    status: layout.Status
    started: str
    finished: str | None = None
    error: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    #: Batches per call into the compiled step (compile.steps_per_execution, `auto` as chosen).
    steps_per_execution: Annotated[int, Field(ge=1)] | None = None
    #: The batch the train and test metrics were evaluated in (up to 4 training batches, for the
    #: same results in fewer steps); validation too, unless training.validation_steps counts batches.
    eval_batch_size: Annotated[int, Field(ge=1)] | None = None
    #: TensorFlow's intra-op and inter-op threads, when regspec chose them (a small model's; see
    #: backend/keras/threads.py); absent: TensorFlow's defaults, or the process's own settings.
    threads: dict[str, Annotated[int, Field(ge=0)]] | None = None
    #: Whether TensorFlow's graph optimizer (Grappler) rewrote the compiled steps: regspec leaves it
    #: out for a small model of vectors (backend/keras/grappler.py); absent: runs before it was said.
    grappler: bool | None = None
    #: The CPUs the run could use (its process's affinity; a sweep worker's own cores), where known.
    cpus: list[Annotated[int, Field(ge=0)]] | None = None


class Metrics(Record):
    """metrics.json: the trained model evaluated (absent after a divergence) and what it took."""

    FILE: ClassVar[str] = layout.METRICS
    params: Annotated[int, Field(ge=0)]
    epochs_run: Annotated[int, Field(ge=0)]
    train: Mapping[str, Score] | None = None
    test: Mapping[str, Score] | None = None
    seconds: Annotated[float, Field(ge=0)] | None = None
    #: The epoch whose weights early stopping restored (restore_best_weights), from 1.
    restored_epoch: Annotated[int, Field(ge=1)] | None = None


class Standardize(Record):
    mean: Numbers
    scale: Numbers

    @model_validator(mode="after")
    def _nonzero(self) -> Standardize:
        if any(s == 0 for s in self.scale):
            raise ValueError("standardize has a zero scale")
        return self


class ImageRecord(Record):
    size: Annotated[tuple[Annotated[int, Field(gt=0, le=100_000)], ...], Strict(False), Field(min_length=2, max_length=2)]
    color_mode: Literal["grayscale", "rgb", "rgba"]
    interpolation: Literal["bilinear", "nearest", "bicubic", "area"]
    label_mode: str | None = None

    @property
    def channels(self) -> int:
        return {"grayscale": 1, "rgb": 3, "rgba": 4}[self.color_mode]


class NamedInput(Record):
    columns: Names  # the CSV columns that feed it, in order
    dtype: Annotated[str, Field(pattern=r"^(string|float16|float32|float64|bfloat16|u?int(8|16|32|64)|bool)$")]
    shape: Annotated[tuple[Dim | None, ...], Strict(False), Field(max_length=8)]


class NamedOutput(Record):
    label: str  # its label column
    classes: Names | None = None  # class names by class id (None: the ids are the names)
    loss: str = ""
    from_logits: bool = False

    @property
    def task(self) -> Task:
        return Task(self.loss, self.from_logits)


class NamedRecord(Record):
    """Named inputs and outputs (data.inputs, data.outputs): what feeds each, what each predicts."""

    inputs: Annotated[dict[str, NamedInput], Field(min_length=1, max_length=256)]
    outputs: Annotated[dict[str, NamedOutput], Field(min_length=1, max_length=64)]


class PreprocessingRecord(Record):
    """preprocessing.json: what new data must go through to reach the model as the training data did."""

    FILE: ClassVar[str] = layout.PREPROCESSING
    format: Literal[1] = 1
    source: str
    # One example as the data gives it, and as the model takes it ([] for a scalar: one string).
    raw_shape: Annotated[tuple[Dim, ...], Strict(False), Field(max_length=8)]
    input_shape: Annotated[tuple[Dim | None, ...], Strict(False), Field(max_length=8)]
    features: Names | None = None  # column names, in order (None: positional)
    label: str | None = None
    classes: Names | None = None  # class names by class id (None: the ids are the names)
    standardize: Standardize | None = None  # (x - mean) / scale
    rescale: Finite | None = None  # then x * rescale
    image: ImageRecord | None = None
    loss: str = ""
    from_logits: bool = False
    named: NamedRecord | None = None  # several inputs or outputs, fed by name (raw_shape and input_shape: [])

    @model_validator(mode="after")
    def _consistent(self) -> PreprocessingRecord:
        n = math.prod(self.raw_shape)
        if n > MAX_FEATURES or math.prod(d or 1 for d in self.input_shape) > MAX_FEATURES:
            raise ValueError("the shapes are larger than any model regspec builds")
        if self.features is not None and (len(self.raw_shape) != 1 or len(self.features) != n):
            raise ValueError("features do not match raw_shape")
        if self.standardize is not None and not len(self.standardize.mean) == len(self.standardize.scale) == n:
            raise ValueError(f"standardize holds something other than {n} numbers for mean and scale")
        return self

    @property
    def task(self) -> Task:
        return Task(self.loss, self.from_logits)

    @property
    def classifier(self) -> bool:
        return self.task.classifier

    @property
    def mean(self) -> tuple[float, ...] | None:
        return self.standardize.mean if self.standardize else None

    @property
    def scale(self) -> tuple[float, ...] | None:
        return self.standardize.scale if self.standardize else None

    @property
    def channels(self) -> int:
        return self.image.channels if self.image else 0


class History(RootModel[dict[str, list[Score]]]):
    """history.json: each logged value per epoch (null: a value that was not finite)."""

    model_config = ConfigDict(strict=True, frozen=True)
    FILE: ClassVar[str] = layout.HISTORY
    OMIT_NONE: ClassVar[bool] = False  # a null is a diverged epoch's value: kept


class WeightHistogram(Record):
    edges: Numbers
    counts: Annotated[tuple[Annotated[int, Field(ge=0)], ...], Strict(False)]


class WeightFigures(Record):
    """One weight's norms and sparsity (of its finite values)."""

    name: str
    shape: Annotated[tuple[Annotated[int, Field(ge=0)], ...], Strict(False)]
    count: Annotated[int, Field(ge=0)]
    l1: Score
    l2: Score
    mean_abs: Score
    zero_fraction: Score
    non_finite_fraction: Score = None
    histogram: WeightHistogram | None = None


class LayerWeights(Record):
    layer: str  # the spec's name of the layer, or its path (`layers[3]`)
    class_: str = Field(alias="class")  # the Keras class
    weights: Annotated[tuple[WeightFigures, ...], Strict(False)]


class Activity(Record):
    layer: str
    mean_abs_activation: Score


class WeightStats(Record):
    """weights.json: what the penalties did to each layer's weights (and to penalized activations)."""

    FILE: ClassVar[str] = layout.WEIGHTS
    OMIT_NONE: ClassVar[bool] = True
    zero_threshold: Finite
    layers: Annotated[tuple[LayerWeights, ...], Strict(False)]
    activity: Annotated[tuple[Activity, ...], Strict(False)] | None = None


def write(run_dir: str, record: Record | History, *, in_place: bool = False) -> None:
    """The one way a record reaches the run directory (atomically, as JSON; ``in_place``: see
    files.overwrite_in_place)."""
    write_json(layout.path(run_dir, record.FILE), record.model_dump(mode="json", by_alias=True,
                                                                    exclude_none=record.OMIT_NONE), in_place=in_place)


R = TypeVar("R", bound=Record)


class RecordError(ValueError):
    """A record file that is missing, not JSON, or not the record it should be; says which."""

    def __init__(self, message: str, *, unreadable: bool):
        super().__init__(message)
        self.unreadable = unreadable


def read(run_dir: str, kind: type[R]) -> R:
    """A record, validated; `RecordError` says what is wrong in one line."""
    try:
        raw = read_json(layout.path(run_dir, kind.FILE))
    except (OSError, ValueError) as exc:
        raise RecordError(f"{kind.FILE}: {getattr(exc, 'strerror', None) or exc}", unreadable=True) from None
    try:
        return kind.model_validate(raw)
    except ValidationError as exc:
        raise RecordError(f"{kind.FILE}: {first_problem(exc)}", unreadable=False) from None


def first_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = format_path(tuple(err["loc"]))
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message

