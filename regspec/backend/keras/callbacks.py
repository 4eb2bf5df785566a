"""Keras callbacks from the spec. Their files go in the run directory; backups in regspec's own."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from typing import Any

from regspec import faults
from regspec.backend.keras import build
from regspec.backend.keras.build import refusal, space_short
from regspec.backend.keras.env import keras
from regspec.diagnostics import RegspecError
from regspec.files import fsync_file, read_json_object, write_text
from regspec.ir.graph import Program
from regspec.lang.callbacks import BackupAndRestore, TerminateOnNaN

_ATOMIC: Any = None


class BackupError(RegspecError, RuntimeError):
    """A backup that cannot be written (a full disk), or read (``unreadable``: torn, edited, or of
    another model)."""

    def __init__(self, message: str, *, unreadable: bool = False):
        super().__init__(message)
        self.unreadable = unreadable


#: At most this many seconds of training are lost to a crash: the per-epoch backup is written
#: when this much time has passed since the last one (0: after every epoch). Writing it every
#: epoch cost 61% of an iris epoch and 27% of a digits epoch.
BACKUP_SECONDS = float(os.environ.get("REGSPEC_BACKUP_SECONDS", "10"))


def atomic_backup_class() -> Any:
    """BackupAndRestore whose files are written to a temporary name and renamed into place,
    at most every BACKUP_SECONDS.

    A SIGKILL mid-save then leaves the previous backup intact instead of a torn
    HDF5 file that cannot be resumed from. The weights are renamed into place first, then the
    epoch counter: a kill between the two re-runs epochs, it never skips one.
    """
    global _ATOMIC
    if _ATOMIC is not None:
        return _ATOMIC
    import time

    base: Any = keras().callbacks.BackupAndRestore  # known only once Keras is imported

    class AtomicBackupAndRestore(base):
        every = BACKUP_SECONDS
        _saved_at = 0.0
        _stoppers: tuple[Any, ...] = ()  # the run's EarlyStopping callbacks (build_callbacks)
        pruned = False  # a search's pruner stopped the run: kept in the finished backup, for a resume
        #: The run's model file. The trained model is saved there, once, when training ends; the
        #: finished backup then points to it instead of holding a second copy of the weights.
        final_model: str | None = None
        saved_final = False  # the trained model is in final_model (saved here, or read back from it)

        def on_train_begin(self, logs: dict | None = None) -> None:
            try:
                super().on_train_begin(logs)
            except Exception as exc:  # noqa: BLE001 - h5py, json, shape mismatches: a backup that cannot be read
                raise BackupError(f"the backup in {self.backup_dir} cannot be read "
                                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", unreadable=True) from exc
            self._saved_at = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self._current_epoch = epoch + 1
            self._last_batch_seen = 0
            if self.save_freq == "epoch" and time.monotonic() - self._saved_at >= self.every:
                self._save_model()
                self._saved_at = time.monotonic()

        def on_train_end(self, logs: dict | None = None) -> None:
            # Keras deletes the backup here. It stays, saying training is over (the weights are
            # those EarlyStopping restored: it runs first), until run.json says the run is done: a
            # kill while the results are written then resumes without training again.
            if self.final_model is None:
                self._save_model(finished=True)
                return
            try:
                build.save_model(self.model, self.final_model)
            except OSError:
                # The run's folder cannot take the model (a full disk there): the backup keeps the
                # trained weights instead, so that a resume writes the results without training.
                self._save_model(finished=True)
                return
            self._write_metadata({**self._finished(), "model_saved": True})
            self.saved_final = True
            faults.reached("backup_saved", self.backup_dir)

        def restore_trained(self) -> None:
            """The trained weights of a run whose training had ended (a resume that only writes
            the results): from the run's model file, or from the backup itself (a backup written
            before the model file was the finished backup's)."""
            if not read_json_object(self._training_metadata_path).get("model_saved") or self.final_model is None:
                self.on_train_begin()
                return
            try:
                self.model.load_weights(self.final_model)
            except Exception as exc:  # noqa: BLE001 - as on_train_begin: a file that cannot be read
                raise BackupError(f"the trained model {self.final_model} cannot be read "
                                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", unreadable=True) from exc
            self.saved_final = True

        def _finished(self) -> dict[str, Any]:
            return {"finished": True, "restored_epoch": self.restored_epoch(), "pruned": self.pruned}

        def restored_epoch(self) -> int | None:
            """The epoch (from 1) whose weights early stopping restored, if one did."""
            return restored_epoch(self._stoppers)

        def _save_model(self, finished: bool = False) -> None:
            os.makedirs(self.backup_dir, exist_ok=True)
            short = space_short(self.model, self.backup_dir)
            if short:
                raise BackupError(f"not enough disk space for the backup in {self.backup_dir} {short}")
            tmp_weights = os.path.join(self.backup_dir, "tmp-latest.weights.h5")
            tmp_meta = self._training_metadata_path + ".tmp"
            try:
                self.model.save_weights(filepath=tmp_weights, overwrite=True)
                fsync_file(tmp_weights)
                faults.reached("backup_weights_written", self.backup_dir)
                _write_fsynced(tmp_meta, self._metadata(self._finished() if finished else {}))
                # Both are written before either replaces the last backup: the window where a
                # kill leaves new weights with the old epoch count is two renames long.
                os.replace(tmp_weights, self._weights_path)
                os.replace(tmp_meta, self._training_metadata_path)
            except OSError as exc:
                for tmp in (tmp_weights, tmp_meta):  # a half-written file would hold the last free bytes
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                raise BackupError(f"cannot write the backup in {self.backup_dir} ({exc.strerror or exc})") from exc
            faults.reached("backup_saved", self.backup_dir)

        def _metadata(self, extra: dict[str, Any]) -> str:
            return json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen, **extra})

        def _write_metadata(self, extra: dict[str, Any]) -> None:
            """The epoch counter alone (the weights are elsewhere), replaced atomically."""
            try:
                os.makedirs(self.backup_dir, exist_ok=True)
                write_text(self._training_metadata_path, self._metadata(extra))
            except OSError as exc:
                raise BackupError(f"cannot write the backup in {self.backup_dir} ({exc.strerror or exc})") from exc

    _ATOMIC = AtomicBackupAndRestore
    return _ATOMIC


def restored_epoch(callbacks: Any) -> int | None:
    """The epoch (from 1) whose weights an EarlyStopping among ``callbacks`` restored, if any."""
    for cb in callbacks:
        if getattr(cb, "restore_best_weights", False) and getattr(cb, "best_weights", None) is not None:
            return int(cb.best_epoch) + 1
    return None


def _write_fsynced(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())



def build_callbacks(program: Program, run_dir: str, backup_dir: str, epoch_log: Any = None) -> list[Any]:
    """The spec's callbacks, then ``epoch_log`` (it sees what they add to the logs, e.g. the
    learning rate), then the backup (so a logged epoch is at worst re-run, never lost), then
    TerminateOnNaN (always on). Each is built from its registry entry; a Keras refusal is
    reported at the callback's line."""
    k = keras().callbacks
    out: list[Any] = []
    backups: list[Any] = []
    nan_guard: list[Any] = []
    for i, cb in enumerate(program.training.callbacks):
        args = cb.keras_arguments()
        target = cb.run_path()
        if target is not None:
            arg, name = target
            args[arg] = os.path.join(run_dir, name)
        with refusal(program.source, ("training", "callbacks", i), f"the {cb.tag} callback"):
            if cb.requires is not None and importlib.util.find_spec(cb.requires[0]) is None:
                raise ImportError(f"it needs {cb.requires[0]}: {cb.requires[1]}")
            if isinstance(cb, BackupAndRestore):
                backups.append(atomic_backup_class()(backup_dir, **args))
            elif isinstance(cb, TerminateOnNaN):
                nan_guard.append(k.TerminateOnNaN())
            else:
                out.append(getattr(k, cb.keras_class)(**args))
    if not backups:
        # Every run can resume: back up each epoch into the folder keyed by the spec's hash.
        backups.append(atomic_backup_class()(backup_dir))
    for backup in backups:
        backup._stoppers = tuple(cb for cb in out if isinstance(cb, k.EarlyStopping))
    return out + ([epoch_log] if epoch_log is not None else []) + backups + (nan_guard or [k.TerminateOnNaN()])
