"""Run: fit a compiled spec, evaluate it on train and test, write the run directory.

Run directory (``<out>/<name>-<timestamp>``): run.json (status), spec.yaml
(resolved), source.yaml (as written), preprocessing.json (what new data goes
through: standardization, rescaling, image size, class names), model.keras,
history.json/.csv, metrics.json (with the data loss and the penalty when the model
has one), weights.json (norms, sparsity, activity), curves.png, weights.png, and
callback files. Every file is written
atomically. Training state is backed up each epoch under
``<out>/.backup/<spec hash>``, so a killed run resumes with ``--resume``.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import math
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from regspec import faults
from regspec.api import Spec
from regspec.diagnostics import Diagnostic, SpecError
from regspec.files import read_json_object, write_bytes, write_text
from regspec.ir.graph import Program
from regspec.lang.penalty import with_penalty
from regspec.rundir import backup, layout, records
from regspec.rundir.figures import RUN_FIGURES
from regspec.rundir.painter import Painter
from regspec.rundir.read import accuracy_key
from regspec.yamlio import dump_yaml


@dataclass
class RunResult:
    run_dir: str
    status: layout.Status  # finished | diverged
    metrics: dict[str, Any]

    def line(self, name: str) -> str:
        def part(split: str) -> str:
            m = self.metrics.get(split, {})
            acc = accuracy_key(m)
            return f"{split} loss {m.get('loss', float('nan')):.4f}" + (f" acc {m[acc]:.4f}" if acc else "")

        return (f"{name}: {self.status}: {part('train')} | {part('test')} | "
                f"{self.metrics.get('epochs_run')} epochs, {self.metrics.get('seconds', 0):.1f} s -> {self.run_dir}")


class RunError(SpecError):
    pass


#: A search's pruner, told each epoch's number (from 0) and logs: True stops the run (`pruned`).
Prune = Callable[[int, dict[str, float]], bool]

MAX_ECHO = 300  # characters of an exception message kept in run.json and shown


def backup_dir(out: str, spec: Spec) -> str:
    return backup.backup_dir(out, spec.name, spec.hash)


def _new_run_dir(out: str, name: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(out, f"{name}-{stamp}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    os.makedirs(path)
    return path


def _error(spec: Spec, message: str, hint: str | None = None) -> RunError:
    return RunError([Diagnostic(spec.file, 1, 1, (), message, hint)])


def _out_apart_from_data(program: Program, out: str) -> None:
    """The runs folder may not be a data folder (or sit inside an image folder), nor the folder that
    holds a data file: run directories among image class folders would become a class, and
    `compare data/` would read a data folder as runs. A project's runs/ beside its data/ is fine."""
    data = program.data
    real_out = os.path.realpath(out)
    for key in ("train", "test", "path"):
        value = getattr(data, key, None) if data is not None else None
        if isinstance(value, str):
            real = os.path.realpath(value)
            is_dir = os.path.isdir(real)
            inside = is_dir and real_out.startswith(real + os.sep)  # runs among the class folders
            if real_out == real or inside or (not is_dir and real_out == os.path.dirname(real)):
                raise program.source.error(("data", key), f"the runs folder {out} overlaps the data ({value})",
                                           "give --out a folder of its own, apart from the data's")


def _lock_path(out: str, spec: Spec) -> str:
    return backup.lock_path(out, spec.name, spec.hash)


def _running_pid(out: str, spec: Spec) -> str | None:
    """The pid of a live process training this spec into ``out``, if any (it holds the lock)."""
    return backup.lock_holder(_lock_path(out, spec))


def _take_lock(out: str, spec: Spec) -> Any:
    """Held for the whole training; the kernel drops it when the process ends, however it ends."""
    fh = backup.take_lock(_lock_path(out, spec))
    if fh is None:
        raise _error(spec, f"this spec is being trained into {out} by another process (pid {_running_pid(out, spec) or '?'})",
                     "wait for it, or use another --out")
    return fh


def find_interrupted(spec: Spec, out: str, *, resume: bool = False, restart: bool = False,
                     strict: bool = False) -> str | None:
    """The run directory to resume into, if any.

    Without ``resume`` an interrupted run is refused, never silently started over (``restart``
    discards it). With ``resume`` there may be nothing to resume: training starts from the
    beginning, and ``strict`` (the command line's --resume) says why there was nothing.
    """
    pid = _running_pid(out, spec)
    if pid is not None:
        raise _error(spec, f"this spec is being trained into {out} by another process (pid {pid})",
                     "wait for it to finish; resuming a live run would train twice into one folder")
    bdir = backup_dir(out, spec)
    previous = backup.read_pointer(bdir)
    if previous is None:
        if strict and resume:
            print(f"nothing to resume: {_why_nothing(spec, out)}; training {spec.name} from the start")
        return None
    if restart:
        shutil.rmtree(bdir)
        return None
    if not resume:
        if _done(previous) is not None:  # killed after run.json said done, before the backup went
            backup.drop(bdir)
            return None
        raise _error(spec, f"an interrupted run of this spec exists ({previous})",
                     "pass --resume to continue it, or --restart to discard it")
    return _checked_pointer(spec, out, bdir, previous)


def _why_nothing(spec: Spec, out: str) -> str:
    others = glob.glob(os.path.join(glob.escape(os.path.join(out, backup.FOLDER)), f"{glob.escape(spec.name)}-*",
                                    backup.POINTER))
    if others:
        return f"the interrupted run of {spec.name} in {out} was of a different spec (it changed since)"
    return f"no interrupted run of this spec in {out}"


def _done(run_dir: str, spec_hash: str | None = None) -> RunResult | None:
    """The result of a run whose run.json says it is done (finished or diverged), else None;
    with ``spec_hash``, only a run of that spec."""
    try:
        info = records.read(run_dir, records.RunRecord)
        if info.status not in layout.DONE or spec_hash not in (None, info.spec_hash):
            return None
        metrics = records.read(run_dir, records.Metrics)
    except records.RecordError:
        return None
    return RunResult(run_dir, info.status, metrics.model_dump(mode="json", exclude_none=True))


def finished_run(spec: Spec, out: str) -> RunResult | None:
    """A run of this very spec in ``out`` that is done: a sweep trial whose result reached its
    run directory but not the sweep's store (a kill, a full disk) is not trained again."""
    pattern = os.path.join(glob.escape(out), f"{glob.escape(spec.name)}-*", layout.RUN)
    for record in sorted(glob.glob(pattern)):
        done = _done(os.path.dirname(record), spec.hash)
        if done is not None:
            backup.drop_done(out, spec.name, spec.hash, done.run_dir)
            return done
    return None


def _checked_pointer(spec: Spec, out: str, bdir: str, previous: str) -> str | None:
    """The run directory a backup points to, if it is one of ``out``'s runs of this very spec."""
    if not os.path.isdir(previous):
        shutil.rmtree(bdir)  # the run directory is gone: nothing to resume into
        return None
    inside = os.path.realpath(previous).startswith(os.path.realpath(out) + os.sep)
    record = layout.path(previous, layout.RUN)
    try:
        from regspec.files import read_json

        # Only the identity matters here: a run.json torn by the crash still names its spec.
        same = read_json(record).get("spec_hash") == spec.hash
    except FileNotFoundError:
        # Killed between making the run directory and writing its run.json: the pointer sits in
        # this spec's own backup folder (keyed by its hash), and the folder holds nothing yet.
        same = not any(os.path.exists(layout.path(previous, f)) for f in (layout.MODEL, layout.METRICS))
    except (OSError, ValueError, AttributeError):
        same = False
    if not (inside and same):
        raise _error(spec, f"the backup of this spec points to {previous!r}, which is not a run of this spec in {out}",
                     "pass --restart to discard the backup")
    return previous


def start_run_dir(spec: Spec, out: str) -> str:
    """A new run directory, and the pointer that lets `--resume` find it after a crash."""
    run_dir = _new_run_dir(out, spec.name)
    bdir = backup_dir(out, spec)
    os.makedirs(bdir, exist_ok=True)
    write_text(os.path.join(bdir, backup.POINTER), run_dir + "\n")
    faults.reached("run_dir_made", run_dir)
    return run_dir


def _versions() -> dict[str, str]:
    import tensorflow as tf

    from regspec.backend.keras.env import keras
    from regspec.version import __version__

    return {"regspec": __version__, "keras": keras().__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def _strategy(name: str) -> Any:
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    return tf.distribute.get_strategy()


def train(spec: Spec, out: str = "runs", *, resume: bool = False, restart: bool = False,
          verbose: int | str = "auto", strict_resume: bool = False, figures: tuple[str, ...] = RUN_FIGURES,
          weights_every_epoch: bool = False, lines_every: int | None = None,
          prune: Prune | None = None) -> RunResult:
    """Train ``spec`` into a new run directory under ``out`` (or resume its interrupted one).

    ``verbose`` is Keras' (its bar, for a terminal); ``lines_every`` N prints one line every N
    epochs instead (and the last), for a log or a pipe.

    ``figures``: the run's figures training draws (a sweep's worker leaves them to its runner,
    which draws while the worker trains the next trial). ``weights_every_epoch`` appends the
    weight statistics of every epoch to weights_history.jsonl (norms and near-zero fractions
    per layer and weight). ``prune``, told each epoch's number (from 0) and logs, stops training
    when it returns True: the run is then `pruned` (a search's pruner)."""
    program = spec.program
    if program.compile.loss is None:
        raise program.source.error(("compile",), "training needs a loss", "add `compile: {loss: ...}`")
    _out_apart_from_data(program, out)
    resumed_dir = find_interrupted(spec, out, resume=resume, restart=restart, strict=strict_resume)
    done = _done(resumed_dir) if resumed_dir else None
    if done is not None:  # killed after run.json said done, before its backup went: nothing to do
        backup.drop(backup_dir(out, spec))
        print(f"nothing to resume: {spec.name} had finished in {done.run_dir}")
        return done
    started = time.time()
    painter = Painter(figures)  # imports matplotlib in its own process while this one loads and traces
    try:
        return _prepare_and_fit(spec, out, program, resumed_dir, started, verbose if lines_every is None else 0,
                                painter, weights_every_epoch, lines_every, prune)
    finally:
        painter.close()


def _prepare_and_fit(spec: Spec, out: str, program: Program, resumed_dir: str | None, started: float,
                     verbose: int | str, painter: Painter, weights_every_epoch: bool, lines_every: int | None,
                     prune: Prune | None) -> RunResult:
    from regspec.backend.keras import grappler
    from regspec.backend.keras.adapt import adapt_layers
    from regspec.backend.keras.build import build_state, compile_model
    from regspec.backend.keras.data import load_data
    from regspec.backend.keras.env import keras
    from regspec.backend.keras.threads import apply as apply_threads
    from regspec.backend.keras.threads import choose as choose_threads

    k = keras()
    threads = apply_threads(choose_threads(program))  # before TensorFlow starts: its pools are made once
    training = program.training
    seed = training.seed
    if seed is not None:
        k.utils.set_random_seed(seed)
    # Everything that can refuse the spec or its data happens before any folder is made.
    datasets = load_data(program, seed)
    built: dict[str, Any] = {}
    steps = _steps_per_execution(program, datasets)
    with _strategy(training.distribution).scope():
        model = compile_model(program, built, split_loss=True, steps_per_execution=steps)
    with grappler.chosen(program) as optimized:  # for the steps traced from here on, fit and evaluation
        adapt_layers(model, datasets.train_eval, program, built, datasets.train_inputs)
        if training.distribution == "default":  # a strategy builds them itself, in its scope
            build_state(model, datasets.train.element_spec)
        bdir = backup_dir(out, spec)
        lock = _take_lock(out, spec)  # from here on, this process owns the spec's backup and run directory
        try:
            return _fit_and_record(spec, out, program, datasets, model, built, bdir, resumed_dir, started, verbose,
                                   painter, weights_every_epoch, lines_every, prune, threads, optimized)
        finally:
            lock.close()


def _fit_and_record(spec: Spec, out: str, program: Program, datasets: Any, model: Any, built: dict[str, Any],
                    bdir: str, resumed_dir: str | None, started: float, verbose: int | str,
                    painter: Painter, weights_every_epoch: bool = False,
                    lines_every: int | None = None, prune: Prune | None = None,
                    threads: dict[str, int] | None = None, grappler_on: bool = True) -> RunResult:
    from regspec.backend.keras.threads import cpu_ids

    run_dir = resumed_dir or start_run_dir(spec, out)
    run_info = records.RunRecord(name=spec.name, spec_hash=spec.hash, source=os.path.abspath(spec.file),
                                 status="running", started=_now(), versions=_versions(),
                                 steps_per_execution=int(model.steps_per_execution),
                                 eval_batch_size=datasets.eval_batch, threads=threads, grappler=grappler_on,
                                 cpus=cpu_ids())
    try:
        return _fit_and_record_in(spec, out, program, datasets, model, built, bdir, run_dir, run_info,
                                  resumed_dir is not None, started, verbose, painter, weights_every_epoch, lines_every,
                                  prune)
    except OSError as exc:
        # A full disk (or a folder gone) at any write: the run is `failed` with the reason, not
        # left `running`, and no temporary file keeps the space. The backup stays: `--resume`
        # goes on from it (with the trained weights when training had ended).
        why = exc.strerror or str(exc) or type(exc).__name__
        _write_status(run_dir, run_info.model_copy(update={"status": "failed", "finished": _now(),
                                                          "error": f"cannot write the run: {why}"}))
        raise _error(spec, f"cannot write the run in {run_dir}: {why}",
                     "free some space and run the same command with --resume: it goes on from the last backup") from exc


def _fit_and_record_in(spec: Spec, out: str, program: Program, datasets: Any, model: Any, built: dict[str, Any],
                       bdir: str, run_dir: str, run_info: records.RunRecord, resumed: bool, started: float,
                       verbose: int | str, painter: Painter, weights_every_epoch: bool,
                       lines_every: int | None, prune: Prune | None) -> RunResult:
    from regspec.backend.keras.callbacks import BackupError, atomic_backup_class, build_callbacks, restored_epoch
    from regspec.backend.keras.env import keras

    k = keras()
    training = program.training
    records.write(run_dir, run_info)
    faults.reached("run_json_written", run_dir)
    write_text(layout.path(run_dir, layout.SPEC), dump_yaml(spec.resolved_dict()))
    if datasets.preprocessing is not None:
        records.write(run_dir, datasets.preprocessing)
    if os.path.isfile(spec.file):  # a spec made in Python from text has no file to keep
        with open(spec.file, "rb") as fh:
            write_bytes(layout.path(run_dir, layout.SOURCE + os.path.splitext(spec.file)[1]), fh.read())
    history_path = layout.path(run_dir, layout.HISTORY_LOG)
    epochs_logged = _read_epochs(history_path)

    base: Any = k.callbacks.Callback  # Keras is imported lazily: its class is only known at run time

    class EpochLog(base):
        """Append each finished epoch to history.jsonl (kept across resumes)."""

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = {"epoch": epoch + 1, **{k_: float(v) for k_, v in (logs or {}).items()}}
            with open(history_path, "a", encoding="utf-8") as fh:  # no fsync: a killed process's writes stay
                fh.write(json.dumps(row) + "\n")
            faults.reached("epoch_logged", run_dir)
            if lines_every and ((epoch + 1) % lines_every == 0 or epoch + 1 == training.epochs):
                keys = sorted((k_ for k_ in row if k_ != "epoch"),  # loss first, validation after training
                              key=lambda k_: (k_.startswith("val_"), k_.removeprefix("val_") != "loss"))
                shown = " - ".join(f"{k_} {row[k_]:.4g}" for k_ in keys)
                print(f"epoch {epoch + 1}/{training.epochs}: {shown}", flush=True)
            if prune is not None and prune(epoch, logs or {}) and epoch + 1 < training.epochs:
                self.model.stop_training = True
                saver.pruned = True  # said in the finished backup: a resume records the run as pruned

        def on_train_end(self, logs: dict | None = None) -> None:
            # The figures are the last thing a run waits for: the painter gets them here, before
            # the final backup is written (early stopping has restored its weights: it runs first).
            with contextlib.suppress(Exception):  # whatever fails here fails again, reported, in _record
                handed.append(_hand_over(program, datasets, self.model, built, run_dir, painter, spec.name,
                                         restored_epoch(callbacks)))

    handed: list[tuple[dict[str, list[float]], dict[str, Any]]] = []
    callbacks = build_callbacks(program, run_dir, bdir, epoch_log=EpochLog())
    saver = next(cb for cb in callbacks if isinstance(cb, atomic_backup_class()))
    saver.final_model = layout.path(run_dir, layout.MODEL)  # saved once, when training ends
    if weights_every_epoch:
        callbacks.insert(0, _weights_log(k, layout.path(run_dir, layout.WEIGHTS_LOG), _layer_labels(program, built)))
    trained = False
    if resumed:
        restored = _backup_epoch(bdir)
        trained = _backup_finished(bdir)
        # Epochs after the backup run again: their first records go, so each epoch is logged once.
        kept = [row for e, row in sorted(epochs_logged.items()) if e <= restored]
        write_text(history_path, "".join(json.dumps(row) + "\n" for row in kept))
        print(f"resuming {spec.name} in {run_dir} after epoch {restored}"
              + (" (training had ended: writing its results)" if trained else ""))
    try:
        if trained:
            saver.set_model(model)
            saver.restore_trained()  # the trained weights, through the checks a resume uses
        else:
            model.fit(
                datasets.train, epochs=training.epochs, steps_per_epoch=training.steps_per_epoch,
                validation_data=datasets.validation, validation_steps=training.validation_steps,
                callbacks=callbacks, verbose=verbose, shuffle=False,  # tf.data shuffles (seeded)
            )
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C or a kill: the backup stays, so `--resume` continues from the last epoch.
        _write_status(run_dir, run_info.model_copy(update={"status": "interrupted"}))
        raise
    except BackupError as exc:
        message = " ".join(str(exc).split())[:MAX_ECHO]
        _write_status(run_dir, run_info.model_copy(update={"status": "failed", "error": message, "finished": _now()}))
        if exc.unreadable:  # nothing to go on from: the next run starts over
            backup.drop(bdir)
            raise _error(spec, message, "it was discarded: run the same command again to start over") from exc
        # The last backup that was written whole is still there.
        raise _error(spec, message, "free some space (or set REGSPEC_BACKUP_SECONDS) and run the same command "
                                    "with --resume: it goes on from the last backup") from exc
    except OSError:
        raise  # a full disk mid-training (the epoch log): see _fit_and_record
    except Exception as exc:  # noqa: BLE001 - whatever Keras raised mid-training
        # A failure is not an interruption: resuming would fail the same way. The run is
        # recorded as failed with the reason, and the backup goes, so a rerun starts fresh.
        message = " ".join(str(exc).split())[:MAX_ECHO] or type(exc).__name__
        _write_status(run_dir, run_info.model_copy(update={"status": "failed", "error": f"{type(exc).__name__}: {message}",
                                                          "finished": _now()}))
        backup.drop(bdir)
        raise program.source.error(("compile", "loss"), f"training failed: Keras raised {type(exc).__name__}: {message}",
                                   f"the loss, the labels and the output layer must fit together; run: {run_dir}") from exc
    faults.reached("trained", run_dir)
    best = _backup_metadata(bdir).get("restored_epoch") if trained else restored_epoch(callbacks)
    pruned = _backup_metadata(bdir).get("pruned") is True if trained else saver.pruned
    best = best if isinstance(best, int) and best > 0 else None
    history, stats = handed[-1] if handed else _hand_over(program, datasets, model, built, run_dir, painter,
                                                          spec.name, best)
    return _record(program, datasets, model, run_dir, run_info, history, stats, started, painter, bdir, best, pruned,
                   model_saved=saver.saved_final)


def _write_status(run_dir: str, record: records.RunRecord) -> None:
    """run.json, even on a full disk: the temporary files this run left go first, and as a last
    resort the small file is overwritten in place (its block is already allocated)."""
    try:
        records.write(run_dir, record)
        return
    except OSError:
        pass
    for tmp in glob.glob(os.path.join(glob.escape(run_dir), ".tmp-*")):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    try:
        records.write(run_dir, record)
    except OSError:
        with contextlib.suppress(OSError):
            records.write(run_dir, record, in_place=True)


def _hand_over(program: Program, datasets: Any, model: Any, built: dict[str, Any], run_dir: str, painter: Painter,
               title: str, restored_epoch: int | None) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """The trained model's history and weight statistics, handed to the painter: it draws them
    while the run evaluates and saves."""
    from regspec.backend.keras.weights import weight_stats

    history = _history(layout.path(run_dir, layout.HISTORY_LOG))
    probe = datasets.test if datasets.test is not None else datasets.validation  # for the activity figures
    stats = weight_stats(model, _layer_labels(program, built), probe)
    painter.draw(run_dir, history, stats, title, restored_epoch)
    return history, stats


def _record(program: Program, datasets: Any, model: Any, run_dir: str, run_info: records.RunRecord,
            history: dict[str, list[float]], stats: dict[str, Any], started: float, painter: Painter, bdir: str,
            restored_epoch: int | None = None, pruned: bool = False, model_saved: bool = False) -> RunResult:
    """Evaluate, save (unless ``model_saved``: the backup saved it when training ended) and write
    the run directory's results (training is over; the painter has the figures)."""
    from regspec.backend.keras.build import save_model

    diverged = any(isinstance(v, float) and not math.isfinite(v) for v in history.get("loss", [])[-1:])
    records.write(run_dir, records.WeightStats.model_validate(stats))
    records.write(run_dir, records.History.model_validate(history))
    write_text(layout.path(run_dir, layout.HISTORY_CSV), _history_csv(history))
    faults.reached("history_written", run_dir)
    train_scores: dict[str, float] | None = None
    test_scores: dict[str, float] | None = None
    if not diverged:
        train_scores = with_penalty(_finite(model.evaluate(datasets.train_eval, return_dict=True, verbose=0)))
        if datasets.test is not None:
            test_scores = with_penalty(_finite(model.evaluate(datasets.test, return_dict=True, verbose=0)))
    faults.reached("evaluated", run_dir)
    if not model_saved:
        save_model(model, layout.path(run_dir, layout.MODEL))
    faults.reached("model_saved", run_dir)
    painter.finish()
    faults.reached("figures_drawn", run_dir)
    metrics = records.Metrics(params=int(model.count_params()), epochs_run=len(history.get("loss", [])),
                              train=train_scores, test=test_scores, seconds=round(time.time() - started, 3),
                              restored_epoch=restored_epoch)
    records.write(run_dir, metrics)
    faults.reached("metrics_written", run_dir)
    status: layout.Status = "diverged" if diverged else "pruned" if pruned else "finished"
    records.write(run_dir, run_info.model_copy(update={"status": status, "finished": _now(), "error": None}))
    faults.reached("run_done", run_dir)
    backup.drop(bdir)  # done: nothing left to resume
    return RunResult(run_dir, status, metrics.model_dump(mode="json", exclude_none=True))


def _steps_per_execution(program: Program, datasets: Any) -> int:
    """The batches per call into the compiled step: the spec's, or what `auto` chooses, cut to
    the steps of an epoch (Keras would cut it too, but traces a loop over steps for it: 0.1 s more
    for each iris trial, whose epoch is one step)."""
    import tensorflow as tf

    chosen = program.training.steps_per_execution(program.compile.steps_per_execution)
    steps = program.training.steps_per_epoch or int(tf.data.experimental.cardinality(datasets.train))
    return min(chosen, steps) if steps > 0 else chosen


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _layer_labels(program: Program, built: dict[str, Any]) -> dict[int, str]:
    """Keras layer (by id) -> its name: the spec's, or the one a fresh Keras process gives it
    (`dense`, `dense_1`; regspec names unnamed layers so, see lower.program), in every run alike."""
    return {id(built[n.id]): built[n.id].name for n in program.nodes if n.id in built}


def _weights_log(k: Any, path: str, labels: dict[int, str]) -> Any:
    """A callback appending each epoch's weight statistics (no histograms) to ``path``."""
    from regspec.backend.keras.weights import weight_stats

    base: Any = k.callbacks.Callback  # Keras is imported lazily: its class is only known at run time

    class WeightsLog(base):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            stats = weight_stats(self.model, labels)
            for layer in stats["layers"]:
                for w in layer["weights"]:
                    w.pop("histogram", None)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"epoch": epoch + 1, **stats}) + "\n")

    return WeightsLog()


def _backup_epoch(bdir: str) -> int:
    """How many epochs the backup holds (0: none yet)."""
    try:
        return int(_backup_metadata(bdir).get("epoch", 0))
    except (ValueError, TypeError):
        return 0


def _backup_finished(bdir: str) -> bool:
    """Whether the backup holds the weights training ended with (see AtomicBackupAndRestore)."""
    return _backup_metadata(bdir).get("finished") is True


def _backup_metadata(bdir: str) -> dict[str, Any]:
    return read_json_object(os.path.join(bdir, "training_metadata.json"))


def _finite(d: dict) -> dict:
    return {k: float(v) for k, v in d.items()}


def _read_epochs(path: str) -> dict[int, dict]:
    rows: dict[int, dict] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a torn last line from a crash
                rows[int(row["epoch"])] = row  # a re-run epoch replaces its earlier record
    return rows


def _history(path: str) -> dict[str, list[float]]:
    """Per key, the value of each epoch; with the penalty per epoch when the data loss was logged."""
    rows = _read_epochs(path)
    for e, row in rows.items():
        row = with_penalty(with_penalty({k: v for k, v in row.items() if k != "epoch"}), "val_")
        rows[e] = row
    keys: list[str] = []
    for r in rows.values():
        keys += [k for k in r if k not in keys]
    return {key: [rows[e].get(key, float("nan")) for e in sorted(rows)] for key in keys}


def _history_csv(history: dict[str, list[float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    keys = list(history)
    w.writerow(["epoch"] + keys)
    n = max((len(v) for v in history.values()), default=0)
    for i in range(n):
        w.writerow([i + 1] + [history[k][i] for k in keys])
    return buf.getvalue()


def load_saved(run_dir: str) -> Any:
    """Load a run's model the safe way (Keras safe mode: no lambdas, no arbitrary code)."""
    from regspec.backend.keras.env import keras

    return keras().saving.load_model(layout.path(run_dir, layout.MODEL), safe_mode=True)

