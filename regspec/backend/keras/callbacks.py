"""Keras callbacks from the spec. Their files go in the run directory; backups in regspec's own."""

from __future__ import annotations

import os
from typing import Any

from regspec.backend.keras.env import keras
from regspec.lang.callbacks import Callback

_ATOMIC: Any = None


def atomic_backup_class() -> Any:
    """BackupAndRestore whose files are written to a temporary name and renamed into place.

    A SIGKILL mid-save then leaves the previous backup intact instead of a torn
    HDF5 file that cannot be resumed from. Weights go first, then the epoch
    counter: a kill between the two re-runs one epoch, it never skips one.
    """
    global _ATOMIC
    if _ATOMIC is not None:
        return _ATOMIC
    import json

    base = keras().callbacks.BackupAndRestore

    class AtomicBackupAndRestore(base):  # type: ignore[misc, valid-type]
        def _save_model(self) -> None:
            os.makedirs(self.backup_dir, exist_ok=True)
            tmp_weights = os.path.join(self.backup_dir, "tmp-latest.weights.h5")
            self.model.save_weights(filepath=tmp_weights, overwrite=True)
            _fsync(tmp_weights)
            os.replace(tmp_weights, self._weights_path)
            tmp_meta = self._training_metadata_path + ".tmp"
            with open(tmp_meta, "w", encoding="utf-8") as fh:
                fh.write(json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_meta, self._training_metadata_path)

    _ATOMIC = AtomicBackupAndRestore
    return _ATOMIC


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _need_tensorboard() -> None:
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError("the tensorboard callback needs TensorBoard: pip install tensorboard")


FILES = {"model_checkpoint": "checkpoint.keras", "tensorboard": "tensorboard", "csv_logger": "training.csv"}


def build_callbacks(callbacks: list[Callback], run_dir: str, backup_dir: str, epoch_log: Any = None) -> list[Any]:
    """The spec's callbacks, then ``epoch_log`` (it sees what they add to the logs, e.g. the
    learning rate), then the backup (so a logged epoch is at worst re-run, never lost)."""
    k = keras().callbacks
    out: list[Any] = []
    backups: list[Any] = []
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
            _need_tensorboard()
            out.append(k.TensorBoard(log_dir=os.path.join(run_dir, FILES["tensorboard"]), **args))
        elif cb.type == "csv_logger":
            out.append(k.CSVLogger(os.path.join(run_dir, FILES["csv_logger"]), **args))
        elif cb.type == "backup_and_restore":
            backups.append(atomic_backup_class()(backup_dir, **args))
            has_backup = True
        elif cb.type == "terminate_on_nan":
            pass  # always on, below
    if not has_backup:
        # Every run can resume: back up each epoch into the folder keyed by the spec's hash.
        backups.append(atomic_backup_class()(backup_dir))
    return out + ([epoch_log] if epoch_log is not None else []) + backups + [k.TerminateOnNaN()]
