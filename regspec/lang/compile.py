"""The `compile` section: optimizer (with learning-rate schedules), loss and metrics."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from regspec.lang.types import NonNegFloat, PositiveInt, Strict

PositiveFloat = Annotated[float, Field(gt=0)]


class ExponentialDecay(Strict):
    type: Literal["exponential_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False


class InverseTimeDecay(Strict):
    type: Literal["inverse_time_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False


class CosineDecay(Strict):
    type: Literal["cosine_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    alpha: NonNegFloat = 0.0
    warmup_target: PositiveFloat | None = None
    warmup_steps: Annotated[int, Field(ge=0)] = 0


class PolynomialDecay(Strict):
    type: Literal["polynomial_decay"]
    initial_learning_rate: PositiveFloat
    decay_steps: PositiveInt
    end_learning_rate: NonNegFloat = 0.0001
    power: PositiveFloat = 1.0
    cycle: bool = False


class PiecewiseConstantDecay(Strict):
    type: Literal["piecewise_constant_decay"]
    boundaries: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    values: Annotated[list[PositiveFloat], Field(min_length=2)]


Schedule = Annotated[
    Union[ExponentialDecay, InverseTimeDecay, CosineDecay, PolynomialDecay, PiecewiseConstantDecay],
    Field(discriminator="type"),
]
LearningRate = PositiveFloat | Schedule


class _Optimizer(Strict):
    weight_decay: NonNegFloat | None = None
    clipnorm: PositiveFloat | None = None
    clipvalue: PositiveFloat | None = None
    global_clipnorm: PositiveFloat | None = None


Beta = Annotated[float, Field(ge=0, lt=1)]


class SGD(_Optimizer):
    type: Literal["sgd"]
    learning_rate: LearningRate = 0.01
    momentum: Annotated[float, Field(ge=0)] = 0.0
    nesterov: bool = False


class _AdamFamily(_Optimizer):
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: PositiveFloat = 1e-07


class Adam(_AdamFamily):
    type: Literal["adam"]
    learning_rate: LearningRate = 0.001
    amsgrad: bool = False


class AdamW(_AdamFamily):
    type: Literal["adamw"]
    learning_rate: LearningRate = 0.001
    weight_decay: NonNegFloat | None = 0.004
    amsgrad: bool = False


class RMSprop(_Optimizer):
    type: Literal["rmsprop"]
    learning_rate: LearningRate = 0.001
    rho: Beta = 0.9
    momentum: Annotated[float, Field(ge=0)] = 0.0
    epsilon: PositiveFloat = 1e-07
    centered: bool = False


class Adagrad(_Optimizer):
    type: Literal["adagrad"]
    learning_rate: LearningRate = 0.001
    initial_accumulator_value: NonNegFloat = 0.1
    epsilon: PositiveFloat = 1e-07


class Adadelta(_Optimizer):
    type: Literal["adadelta"]
    learning_rate: LearningRate = 0.001
    rho: Beta = 0.95
    epsilon: PositiveFloat = 1e-07


class Adamax(_AdamFamily):
    type: Literal["adamax"]
    learning_rate: LearningRate = 0.001


class Nadam(_AdamFamily):
    type: Literal["nadam"]
    learning_rate: LearningRate = 0.001


Optimizer = Annotated[
    Union[SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam], Field(discriminator="type")
]
OptimizerName = Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"]

LossName = Literal[
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "poisson", "binary_focal_crossentropy",
]


class Crossentropy(Strict):
    """A crossentropy loss with arguments, e.g. `{type: categorical_crossentropy, label_smoothing: 0.1}`."""

    type: Literal["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]
    from_logits: bool = False
    label_smoothing: Annotated[float, Field(ge=0, le=1)] = 0.0


MetricName = Literal[
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "auc", "precision", "recall", "mean_squared_error", "mse", "mean_absolute_error", "mae",
    "root_mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
]


class CompileSection(Strict):
    optimizer: OptimizerName | Optimizer = Field("adam", description="A name, or `{type: adam, learning_rate: 1.0e-3, ...}`.")
    loss: LossName | Crossentropy = Field(description="A Keras loss name, or a crossentropy with arguments.")
    metrics: Annotated[list[MetricName], Field(max_length=32)] = Field(default_factory=list)

    @property
    def loss_name(self) -> str:
        return self.loss if isinstance(self.loss, str) else self.loss.type
