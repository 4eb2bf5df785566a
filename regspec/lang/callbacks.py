"""Training callbacks, by Keras' snake_case names. Files they write go in the run directory."""


from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field

from regspec.lang.registry import Registered, Registry
from regspec.lang.types import NonNegFloat, NonNegInt, PositiveInt

if TYPE_CHECKING:
    from regspec.lang.compile import CompileSection

Mode = Literal["auto", "min", "max"]

CALLBACKS: "Registry[Callback]" = Registry("callback")


class Callback(Registered):
    """A Keras callback by its snake_case name. ``keras_class`` names it in ``keras.callbacks``;
    ``run_file`` is (argument, file name) for a callback that writes into the run directory."""

    registry: ClassVar[Registry[Any]] = CALLBACKS
    keras_class: ClassVar[str]
    run_file: ClassVar[tuple[str, str] | None] = None

    def run_path(self) -> tuple[str, str] | None:
        """(argument, file name in the run directory) for a callback that writes a file."""
        return self.run_file
    #: (module, how to install it) for a callback that needs an optional package.
    requires: ClassVar[tuple[str, str] | None] = None

    def conflicts(self, compile: "CompileSection") -> list[tuple[str, str | None]]:
        """(message, hint) for each way the rest of the spec would make this callback fail in
        the middle of training; reported at the callback before training starts."""
        return []

    def per_batch(self) -> bool:
        """Whether it acts every batch (then `steps_per_execution: auto` runs one step per call)."""
        return False


class EarlyStopping(Callback):
    """Stop training when `monitor` has stopped improving for `patience` epochs."""

    keras_class = "EarlyStopping"
    type: Literal["early_stopping"]
    monitor: str = "val_loss"
    min_delta: NonNegFloat = 0.0
    patience: NonNegInt = 0
    mode: Mode = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: NonNegInt = 0


class ModelCheckpoint(Callback):
    """Save the model (as `checkpoint.keras`, or `checkpoint.weights.h5` with save_weights_only,
    in the run directory) during training."""

    keras_class = "ModelCheckpoint"
    run_file = ("filepath", "checkpoint.keras")
    type: Literal["model_checkpoint"]
    monitor: str = "val_loss"
    save_best_only: bool = False
    save_weights_only: bool = False
    mode: Mode = "auto"

    def run_path(self) -> tuple[str, str] | None:
        # Keras wants weights-only checkpoints to be named *.weights.h5.
        return ("filepath", "checkpoint.weights.h5" if self.save_weights_only else "checkpoint.keras")


class ReduceLROnPlateau(Callback):
    keras_class = "ReduceLROnPlateau"
    type: Literal["reduce_lr_on_plateau"]
    monitor: str = "val_loss"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    patience: NonNegInt = 10
    mode: Mode = "auto"
    min_delta: NonNegFloat = 0.0001
    cooldown: NonNegInt = 0
    min_lr: NonNegFloat = 0.0

    def conflicts(self, compile: "CompileSection") -> list[tuple[str, str | None]]:
        opt = compile.optimizer
        if not isinstance(opt, str) and not isinstance(getattr(opt, "learning_rate", 0.0), (int, float)):
            return [("reduce_lr_on_plateau cannot change a learning-rate schedule",
                     "use a fixed learning_rate with it, or drop one of the two")]
        return []


class SwapEMAWeights(Callback):
    """Evaluate with the optimizer's moving average of the weights (its `use_ema: true`): swapped in
    for validation (and, with `swap_on_epoch`, for the epoch's callbacks), and kept at the end."""

    keras_class = "SwapEMAWeights"
    type: Literal["swap_ema_weights"]
    swap_on_epoch: bool = False

    def conflicts(self, compile: "CompileSection") -> list[tuple[str, str | None]]:
        if isinstance(compile.optimizer, str) or not compile.optimizer.use_ema:
            return [("swap_ema_weights needs an optimizer that keeps the moving average",
                     "set `use_ema: true` on the optimizer, e.g. optimizer: {type: adam, use_ema: true}")]
        return []


class TensorBoard(Callback):
    """Write TensorBoard logs to `tensorboard/` in the run directory."""

    keras_class = "TensorBoard"
    run_file = ("log_dir", "tensorboard")
    requires = ("tensorboard", "pip install tensorboard")
    type: Literal["tensorboard"]
    histogram_freq: NonNegInt = 0
    write_graph: bool = True
    update_freq: Literal["epoch", "batch"] | PositiveInt = "epoch"

    def per_batch(self) -> bool:
        return self.update_freq != "epoch"


class CSVLogger(Callback):
    """Stream epoch results to `training.csv` in the run directory."""

    keras_class = "CSVLogger"
    run_file = ("filename", "training.csv")
    type: Literal["csv_logger"]
    separator: Annotated[str, Field(min_length=1, max_length=1)] = ","


class BackupAndRestore(Callback):
    """Back up training state each epoch so an interrupted run resumes (regspec owns the folder)."""

    keras_class = "BackupAndRestore"
    type: Literal["backup_and_restore"]
    save_freq: Literal["epoch"] | PositiveInt = "epoch"

    def per_batch(self) -> bool:
        return self.save_freq != "epoch"


class TerminateOnNaN(Callback):
    keras_class = "TerminateOnNaN"
    type: Literal["terminate_on_nan"]


if TYPE_CHECKING:  # mypy sees the base class; pydantic gets the registry's discriminated union
    AnyCallback = Callback
else:
    AnyCallback = CALLBACKS.union()
