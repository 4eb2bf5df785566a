"""The `compile` section: optimizer (with learning-rate schedules), loss and metrics."""


from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from regspec.lang.keras_form import KerasForm, KerasValue, form
from regspec.lang.registry import Registered, Registry, own_tag
from regspec.lang.types import ADDED_LATER, NonNegFloat, PositiveInt, Strict

PositiveFloat = Annotated[float, Field(gt=0)]

SCHEDULES: "Registry[Schedule]" = Registry("learning-rate schedule")
OPTIMIZERS: "Registry[Optimizer]" = Registry("optimizer")


class Schedule(Registered, KerasValue):
    """A learning-rate schedule; ``keras_class`` names it in ``keras.optimizers.schedules``."""

    registry: ClassVar[Registry[Any]] = SCHEDULES
    keras_module: ClassVar[str] = "keras.optimizers.schedules"
    keras_class: ClassVar[str]

    def keras_form(self) -> KerasForm:
        return form(self.keras_module, self.keras_class, self.keras_arguments())

    @classmethod
    def from_keras(cls, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
        return {"type": own_tag(cls), **{k: v for k, v in config.items() if k != "name"}}


class ExponentialDecay(Schedule):
    keras_class = "ExponentialDecay"
    type: Literal["exponential_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False


class InverseTimeDecay(Schedule):
    keras_class = "InverseTimeDecay"
    type: Literal["inverse_time_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False


class CosineDecay(Schedule):
    keras_class = "CosineDecay"
    type: Literal["cosine_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    alpha: NonNegFloat = 0.0
    warmup_target: PositiveFloat | None = None
    warmup_steps: Annotated[int, Field(ge=0)] = 0


class PolynomialDecay(Schedule):
    keras_class = "PolynomialDecay"
    type: Literal["polynomial_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    end_learning_rate: NonNegFloat = 0.0001
    power: PositiveFloat = 1.0
    cycle: bool = False


class PiecewiseConstantDecay(Schedule):
    keras_class = "PiecewiseConstantDecay"
    type: Literal["piecewise_constant_decay"]
    boundaries: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    values: Annotated[list[PositiveFloat], Field(min_length=2)]


if TYPE_CHECKING:  # mypy sees the base class; pydantic gets the registry's discriminated union
    AnySchedule = Schedule
else:
    AnySchedule = SCHEDULES.union()
LearningRate = PositiveFloat | AnySchedule


class Optimizer(Registered):
    """An optimizer; ``keras_class`` names it in ``keras.optimizers``."""

    registry: ClassVar[Registry[Any]] = OPTIMIZERS
    keras_class: ClassVar[str]
    weight_decay: NonNegFloat | None = None
    clipnorm: PositiveFloat | None = None
    clipvalue: PositiveFloat | None = None
    global_clipnorm: PositiveFloat | None = None
    use_ema: Annotated[bool, ADDED_LATER] = Field(False, description="Keep an exponential moving average of "
                                                  "the weights (swap it in with the swap_ema_weights callback).")
    ema_momentum: Annotated[float, Field(ge=0, le=1), ADDED_LATER] = 0.99
    ema_overwrite_frequency: Annotated[PositiveInt | None, ADDED_LATER] = None


Beta = Annotated[float, Field(ge=0, lt=1)]


class SGD(Optimizer):
    keras_class = "SGD"
    type: Literal["sgd"]
    learning_rate: LearningRate = 0.01
    momentum: Annotated[float, Field(ge=0)] = 0.0
    nesterov: bool = False


class _AdamFamily(Optimizer):
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: PositiveFloat = 1e-07


class Adam(_AdamFamily):
    keras_class = "Adam"
    type: Literal["adam"]
    learning_rate: LearningRate = 0.001
    amsgrad: bool = False


class AdamW(_AdamFamily):
    keras_class = "AdamW"
    type: Literal["adamw"]
    learning_rate: LearningRate = 0.001
    weight_decay: NonNegFloat | None = 0.004
    amsgrad: bool = False


class RMSprop(Optimizer):
    keras_class = "RMSprop"
    type: Literal["rmsprop"]
    learning_rate: LearningRate = 0.001
    rho: Beta = 0.9
    momentum: Annotated[float, Field(ge=0)] = 0.0
    epsilon: PositiveFloat = 1e-07
    centered: bool = False


class Adagrad(Optimizer):
    keras_class = "Adagrad"
    type: Literal["adagrad"]
    learning_rate: LearningRate = 0.001
    initial_accumulator_value: NonNegFloat = 0.1
    epsilon: PositiveFloat = 1e-07


class Adadelta(Optimizer):
    keras_class = "Adadelta"
    type: Literal["adadelta"]
    learning_rate: LearningRate = 0.001
    rho: Beta = 0.95
    epsilon: PositiveFloat = 1e-07


class Adamax(_AdamFamily):
    keras_class = "Adamax"
    type: Literal["adamax"]
    learning_rate: LearningRate = 0.001


class Nadam(_AdamFamily):
    keras_class = "Nadam"
    type: Literal["nadam"]
    learning_rate: LearningRate = 0.001


if TYPE_CHECKING:
    AnyOptimizer = Optimizer
    OptimizerName = str
else:
    AnyOptimizer = OPTIMIZERS.union()
    OptimizerName = OPTIMIZERS.names()

#: Loss names as Keras takes them (`compile(loss="mse")`) -> the class in ``keras.losses``.
LOSSES = {
    "binary_crossentropy": "BinaryCrossentropy", "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError", "huber": "Huber", "log_cosh": "LogCosh",
    "hinge": "Hinge", "squared_hinge": "SquaredHinge", "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence", "poisson": "Poisson", "binary_focal_crossentropy": "BinaryFocalCrossentropy",
}
#: The Keras loss class -> its name here, for reading a Keras config back ("mse" for MeanSquaredError).
LOSS_OF_CLASS = {cls: name for name, cls in LOSSES.items()}
if TYPE_CHECKING:
    LossName = str
else:
    LossName = Literal[tuple(LOSSES)]


#: Losses whose targets are classes (ids, one-hot rows or class names).
CLASSIFIER_LOSSES = frozenset(name for name in LOSSES if name.endswith("crossentropy"))


@dataclass(frozen=True)
class Task:
    """What a one-output model is trained to do, decided from its loss in one place for data
    loading, the preprocessing record, serving and reports."""

    loss: str  # "" without a loss
    from_logits: bool = False

    @property
    def classifier(self) -> bool:
        return self.loss in CLASSIFIER_LOSSES


class Crossentropy(Strict):
    """A crossentropy loss with arguments, e.g. `{type: categorical_crossentropy, label_smoothing: 0.1}`."""

    type: Literal["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]
    from_logits: bool = False
    label_smoothing: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Not for sparse_categorical_crossentropy (Keras' takes no label_smoothing).")

    @model_validator(mode="after")
    def _sparse_takes_no_smoothing(self) -> "Crossentropy":
        if self.type == "sparse_categorical_crossentropy" and self.label_smoothing:
            raise ValueError("sparse_categorical_crossentropy takes no label_smoothing "
                             "(smooth one-hot labels with categorical_crossentropy)")
        return self

    def keras_arguments(self) -> dict[str, Any]:
        """The arguments Keras' class takes (SparseCategoricalCrossentropy has no label_smoothing)."""
        out: dict[str, Any] = {"from_logits": self.from_logits}
        if self.type != "sparse_categorical_crossentropy":
            out["label_smoothing"] = self.label_smoothing
        return out


#: Metric names as Keras takes them (`metrics=["auc"]`) -> the class in ``keras.metrics``
#: ("accuracy" picks binary/categorical/sparse accuracy from the loss, as Keras does).
METRICS = {
    "accuracy": "Accuracy", "binary_accuracy": "BinaryAccuracy", "categorical_accuracy": "CategoricalAccuracy",
    "sparse_categorical_accuracy": "SparseCategoricalAccuracy", "top_k_categorical_accuracy": "TopKCategoricalAccuracy",
    "sparse_top_k_categorical_accuracy": "SparseTopKCategoricalAccuracy", "auc": "AUC", "precision": "Precision",
    "recall": "Recall", "mean_squared_error": "MeanSquaredError", "mse": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError", "mae": "MeanAbsoluteError",
    "root_mean_squared_error": "RootMeanSquaredError", "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
}
if TYPE_CHECKING:
    MetricName = str
else:
    MetricName = Literal[tuple(METRICS)]


def _loss_kind(value: Any) -> str:
    """A name, a crossentropy with arguments (a mapping with `type`), or one loss per output:
    `{type: sparse_categorical_crossentropy}` alone is a loss, not an output named `type`."""
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict) and "type" not in value:
        return "per_output"
    return "crossentropy"


Loss = LossName | Crossentropy
MetricList = Annotated[list[MetricName], Field(max_length=32)]
OutputName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CompileSection(Strict):
    optimizer: OptimizerName | AnyOptimizer = Field("adam", description="A name, or `{type: adam, learning_rate: 1.0e-3, ...}`.")
    loss: Annotated[
        Annotated[LossName, Tag("name")] | Annotated[Crossentropy, Tag("crossentropy")]
        | Annotated[dict[OutputName, Loss], Field(min_length=1, max_length=64), Tag("per_output")],
        Discriminator(_loss_kind),
    ] | None = Field(
        None, description="A Keras loss name, or a crossentropy with arguments; or one per output name. "
        "Needed to train; a model without it can still be built and exported."
    )
    loss_weights: Annotated[Annotated[dict[OutputName, Annotated[float, Field(ge=0)]], Field(min_length=1, max_length=64)]
                            | None, ADDED_LATER] = Field(
        None, description="Weight of each output's loss in the total, by output name."
    )
    metrics: MetricList | Annotated[dict[OutputName, MetricList], Field(max_length=64)] = Field(
        default_factory=list, description="Metric names; or a list per output name."
    )
    steps_per_execution: Annotated[Annotated[int, Field(ge=1, le=100_000)] | Literal["auto"], ADDED_LATER] = Field(
        "auto", description="Batches run per call into the compiled step (Keras' steps_per_execution). `auto`: "
        "regspec chooses, capped by the steps per epoch, and 1 when a callback acts every batch; the run "
        "record says what was chosen. Results are the same, only faster for small models.")
    jit_compile: Annotated[bool | Literal["auto"], ADDED_LATER] = Field(
        "auto", description="XLA compilation (Keras' jit_compile); `auto`: Keras decides.")

    @property
    def loss_name(self) -> str:
        """The loss of a one-output model, by name."""
        loss = next(iter(self.loss.values())) if isinstance(self.loss, dict) else self.loss
        if loss is None:
            return ""
        return loss if isinstance(loss, str) else loss.type

    @property
    def task(self) -> Task:
        loss = next(iter(self.loss.values())) if isinstance(self.loss, dict) else self.loss
        return Task(self.loss_name, bool(getattr(loss, "from_logits", False)))

    def task_of(self, output: str | None) -> Task:
        """What output ``output`` is trained to do (None: the one output)."""
        loss = self.loss.get(output or "") if isinstance(self.loss, dict) and output is not None else (
            next(iter(self.loss.values())) if isinstance(self.loss, dict) else self.loss)
        if loss is None:
            return Task("")
        return Task(loss if isinstance(loss, str) else loss.type, bool(getattr(loss, "from_logits", False)))
