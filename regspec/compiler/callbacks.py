"""Keras callbacks from the spec. Their files go in the run directory; backups in regspec's own."""

from __future__ import annotations

import os
from typing import Any

from ..spec.callbacks import Callback
from .keras_env import keras

FILES = {"model_checkpoint": "checkpoint.keras", "tensorboard": "tensorboard", "csv_logger": "training.csv"}


def build_callbacks(callbacks: list[Callback], run_dir: str, backup_dir: str) -> list[Any]:
    k = keras().callbacks
    out: list[Any] = []
    has_backup = False
    for cb in callbacks:
        args = cb.keras_arguments()
        if cb.type == "early_stopping":
            out.append(k.EarlyStopping(**args))
        elif cb.type == "model_checkpoint":
            out.append(k.ModelCheckpoint(os.path.join(run_dir, FILES["model_checkpoint"]), **args))
        elif cb.type == "reduce_lr_on_plateau":
            out.append(k.ReduceLROnPlateau(**args))
        elif cb.type == "tensorboard":
            out.append(k.TensorBoard(log_dir=os.path.join(run_dir, FILES["tensorboard"]), **args))
        elif cb.type == "csv_logger":
            out.append(k.CSVLogger(os.path.join(run_dir, FILES["csv_logger"]), **args))
        elif cb.type == "backup_and_restore":
            out.append(k.BackupAndRestore(backup_dir, **args))
            has_backup = True
        elif cb.type == "terminate_on_nan":
            pass  # always on, below
    if not has_backup:
        # Every run can resume: back up each epoch into the folder keyed by the spec's hash.
        out.append(k.BackupAndRestore(backup_dir))
    out.append(k.TerminateOnNaN())
    return out
