"""Training callbacks, by Keras' snake_case names. Files they write go in the run directory."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from regspec.lang.types import NonNegFloat, NonNegInt, PositiveInt, Strict

Mode = Literal["auto", "min", "max"]


class Callback(Strict):
    def keras_arguments(self) -> dict:
        return {k: getattr(self, k) for k in type(self).model_fields if k != "type"}


class EarlyStopping(Callback):
    """Stop training when `monitor` has stopped improving for `patience` epochs."""

    type: Literal["early_stopping"]
    monitor: str = "val_loss"
    min_delta: NonNegFloat = 0.0
    patience: NonNegInt = 0
    mode: Mode = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: NonNegInt = 0


class ModelCheckpoint(Callback):
    """Save the model (as `checkpoint.keras` in the run directory) during training."""

    type: Literal["model_checkpoint"]
    monitor: str = "val_loss"
    save_best_only: bool = False
    save_weights_only: bool = False
    mode: Mode = "auto"


class ReduceLROnPlateau(Callback):
    type: Literal["reduce_lr_on_plateau"]
    monitor: str = "val_loss"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    patience: NonNegInt = 10
    mode: Mode = "auto"
    min_delta: NonNegFloat = 0.0001
    cooldown: NonNegInt = 0
    min_lr: NonNegFloat = 0.0


class TensorBoard(Callback):
    """Write TensorBoard logs to `tensorboard/` in the run directory."""

    type: Literal["tensorboard"]
    histogram_freq: NonNegInt = 0
    write_graph: bool = True
    update_freq: Literal["epoch", "batch"] | PositiveInt = "epoch"


class CSVLogger(Callback):
    """Stream epoch results to `training.csv` in the run directory."""

    type: Literal["csv_logger"]
    separator: Annotated[str, Field(min_length=1, max_length=1)] = ","


class BackupAndRestore(Callback):
    """Back up training state each epoch so an interrupted run resumes (regspec owns the folder)."""

    type: Literal["backup_and_restore"]
    save_freq: Literal["epoch"] | PositiveInt = "epoch"


class TerminateOnNaN(Callback):
    type: Literal["terminate_on_nan"]


AnyCallback = Annotated[
    Union[EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TensorBoard, CSVLogger, BackupAndRestore, TerminateOnNaN],
    Field(discriminator="type"),
]
