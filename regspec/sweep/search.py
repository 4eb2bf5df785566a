"""A sweep with `search:`: Optuna proposes the points, regspec's store keeps the record.

The runner asks the study for a point, makes its spec, and looks its hash up in
the store: a point already trained is told to the study at once (never trained
again), a new one becomes a pending row the workers train, and its result is
told when the row is done. Workers report each epoch's metric to the study and
stop the trial when the pruner says so (`pruned`, never retried).

The study lives in the sweep folder (`optuna.db`, SQLite), so a killed sweep
resumes it: trials it left running are failed in the study, and their points
asked again first (enqueued), which finds their rows and their run directories.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal

from regspec.diagnostics import Diagnostic, SpecError
from regspec.lang.sweep import Range, Search, SweepModel
from regspec.rundir import layout
from regspec.sweep.plan import Plan
from regspec.sweep.store import Row, Store
from regspec.sweep.variants import labels, variant_name

STUDY_DB = "optuna.db"
SIGNIFICANT = 3  # a range's floats are drawn to 3 significant digits: the name and the spec say the same value
PRIMITIVE = (str, int, float, bool, type(None))


def storage_url(folder: str) -> str:
    return "sqlite:///" + os.path.abspath(os.path.join(folder, STUDY_DB))


def rounded(value: float, low: float, high: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    digits = SIGNIFICANT - 1 - math.floor(math.log10(abs(value)))
    return min(max(round(value, digits), low), high)


def suggest(trial: Any, axes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """This trial's values for every axis: (the assignment trained, the study's params)."""
    assignment: dict[str, Any] = {}
    for path, axis in axes.items():
        if isinstance(axis, Range):
            if axis.integer:
                assignment[path] = trial.suggest_int(path, int(axis.low), int(axis.high), step=int(axis.step or 1),
                                                     log=axis.log)
            else:
                raw = trial.suggest_float(path, float(axis.low), float(axis.high), step=axis.step, log=axis.log)
                assignment[path] = raw if axis.step is not None else rounded(raw, float(axis.low), float(axis.high))
        elif all(isinstance(v, PRIMITIVE) for v in axis):
            assignment[path] = trial.suggest_categorical(path, list(axis))
        else:  # lists or mappings as values: Optuna's choices are their positions
            assignment[path] = axis[trial.suggest_categorical(path, list(range(len(axis))))]
    return assignment, dict(trial.params)


def _sampler(search: Search, axes: dict[str, Any]) -> Any:
    import optuna

    s = search.sampler
    if s == "tpe":
        return optuna.samplers.TPESampler(seed=search.seed, constant_liar=True)  # liar: parallel trials spread
    if s == "random":
        return optuna.samplers.RandomSampler(seed=search.seed)
    if s == "qmc":
        return optuna.samplers.QMCSampler(seed=search.seed, warn_independent_sampling=False)
    if s == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=search.seed, warn_independent_sampling=False)
    if s == "gp":
        return optuna.samplers.GPSampler(seed=search.seed)
    grid = {p: (list(a) if all(isinstance(v, PRIMITIVE) for v in a) else list(range(len(a)))) for p, a in axes.items()}
    return optuna.samplers.GridSampler(grid, seed=search.seed)


def pruner(search: Search) -> Any:
    import optuna

    if search.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=search.startup_trials, n_warmup_steps=search.warmup_epochs)
    if search.pruner == "hyperband":
        # "auto": the epochs of the first trial that finishes (`set:` or an axis may change them)
        return optuna.pruners.HyperbandPruner(min_resource=max(1, search.warmup_epochs), max_resource="auto")
    if search.pruner == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, search.warmup_epochs))
    return optuna.pruners.NopPruner()


def storage(folder: str) -> Any:
    import optuna

    # SQLite's own wait for a writer, not SQLAlchemy's 5 s: workers report epochs while the runner asks.
    return optuna.storages.RDBStorage(storage_url(folder), engine_kwargs={"connect_args": {"timeout": 60}})


def quiet_optuna() -> None:
    """Optuna's INFO lines and its "experimental" warnings (QMC, GP) are not the user's business."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_study(folder: str, p: Plan) -> Any:
    import optuna

    quiet_optuna()
    assert p.sweep.search is not None
    direction: Literal["maximize", "minimize"] = "maximize" if p.sweep.goal == "max" else "minimize"
    try:
        study = optuna.create_study(study_name=p.sweep.name, storage=storage(folder), load_if_exists=True,
                                    direction=direction, sampler=_sampler(p.sweep.search, dict(p.sweep.axes)),
                                    pruner=pruner(p.sweep.search))
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's and Optuna's own: a damaged or foreign file
        path = os.path.join(folder, STUDY_DB)
        raise SpecError([Diagnostic(path, 1, 1, (), f"not a usable Optuna study ({type(exc).__name__}: "
                                    f"{' '.join(str(exc).split())[:160]})",
                                    "move it away to start the search over (sweep.db keeps every trained point)")]
                        ) from None
    if study.direction.name.lower() != direction:
        raise SpecError([Diagnostic(p.file, 1, 1, ("goal",), f"the study in {folder} {study.direction.name.lower()}s "
                                    f"{p.sweep.metric}, this file asks to {direction} it",
                                    "use the goal it was made with, or another sweep name")])
    return study


@dataclass
class _Flight:
    key: str
    row_id: int


class Searcher:
    """Asks the study for points and tells it results; the workers only see pending rows."""

    def __init__(self, p: Plan, store: Store, folder: str, jobs: int):
        import optuna

        assert p.sweep.search is not None
        self.p, self.store, self.jobs = p, store, jobs
        self.search: Search = p.sweep.search
        self.study = open_study(folder, p)
        self.states = optuna.trial.TrialState
        self.flying: dict[int, _Flight] = {}  # trial number -> its row
        self.failures = 0
        self.exhausted = False  # the sampler has no point left (a grid, every point tried)
        self.labels = labels(list(p.sweep.axes))
        self.notes: list[str] = []
        # A dead runner's trials: told, when their row finished after the runner died (a worker
        # records before the runner tells); else failed in the study, their points asked again first.
        linked = {r.search_trial: r for r in store.rows() if r.search_trial is not None}
        for t in self.study.get_trials(deepcopy=False, states=(self.states.RUNNING,)):
            row = linked.get(t.number)
            if row is not None and row.status in layout.DONE:
                self._tell(t.number, row)
            else:
                self._told(t.number, state=self.states.FAIL)
        waiting = {tuple(sorted(t.params.items())) for t in self.study.get_trials(deepcopy=False,
                                                                                   states=(self.states.WAITING,))}
        for row in store.queue_pending():
            if row.search_params is not None and tuple(sorted(row.search_params.items())) not in waiting:
                self.study.enqueue_trial(row.search_params)

    def counted(self) -> int:
        """Trials toward the budget: told ones that count (complete, pruned) and those in flight."""
        told = self.study.get_trials(deepcopy=False, states=(self.states.COMPLETE, self.states.PRUNED))
        return len(told) + len(self.flying)

    def step(self) -> bool:
        """Tell what finished, ask for more; returns whether any trial is still in flight."""
        self._tell_finished()
        while (not self.exhausted and self.counted() < self.search.trials and self.failures < self.search.trials
               and len({f.key for f in self.flying.values()}) < self.jobs):
            if not self._ask():
                break
        return bool(self.flying)

    def total(self) -> int:
        return self.search.trials

    def counts(self) -> dict[str, int]:
        """The study's trials by the statuses the progress bar counts (told ones, and failed rows)."""
        told = self.study.get_trials(deepcopy=False, states=(self.states.COMPLETE, self.states.PRUNED))
        return {"finished": sum(t.state == self.states.COMPLETE for t in told),
                "pruned": sum(t.state == self.states.PRUNED for t in told), "failed": self.failures}

    def _ask(self) -> bool:
        trial = self.study.ask()
        sweep: SweepModel = self.p.sweep
        try:
            assignment, params = suggest(trial, dict(sweep.axes))
        except (ValueError, RuntimeError) as exc:  # a sampler that cannot draw (an empty space)
            self._told(trial.number, state=self.states.FAIL)
            self.notes.append(f"the sampler has no more points ({exc})")
            return False
        overrides = {**sweep.set, **assignment}
        name = variant_name(sweep.name, assignment, self.labels)
        try:
            spec = self.p.base.with_overrides(overrides, name=name)
        except SpecError as exc:
            self._told(trial.number, state=self.states.FAIL)
            self.failures += 1
            self.notes.append(f"{name}: not a valid spec: {exc.diagnostics[0].message if exc.diagnostics else exc}")
            return True
        row = self.store.add_suggested(spec.hash, name, overrides, trial.number, params)
        self.flying[trial.number] = _Flight(spec.hash, row.id)
        if row.status in layout.DONE:
            self._tell(trial.number, row)  # trained before: told, never trained again
        return True

    def _tell_finished(self) -> None:
        for number, flight in list(self.flying.items()):
            row = self.store.get(flight.row_id)
            if row.status in layout.DONE or row.status == "failed":
                self._tell(number, row)

    def _tell(self, number: int, row: Row) -> None:
        from regspec.sweep.runner import metric_value

        self.flying.pop(number, None)
        value = metric_value(row, self.p.sweep.metric) if row.status == "finished" else None
        if row.status == "pruned":
            self._told(number, state=self.states.PRUNED)
        elif value is not None and math.isfinite(value):
            self._told(number, value=value)
        else:  # failed or diverged: the sampler learns nothing from it; a failed row is retried on a rerun
            self.failures += row.status == "failed"
            self._told(number, state=self.states.FAIL)

    def _told(self, number: int, *, value: float | None = None, state: Any = None) -> None:
        """Tell the study; a grid sampler that has tried every point says so by stopping the study
        (Optuna raises outside `optimize`, after recording the result): no more asking then."""
        try:
            self.study.tell(number, value, state=state)
        except RuntimeError as exc:
            if "stop" not in str(exc):
                raise
            if not self.exhausted:
                self.notes.append("the grid's every point is tried: the search ends there")
            self.exhausted = True

    def close(self) -> None:
        for note in self.notes:
            print(f"warning: {self.p.file}: {note}", file=sys.stderr)


_STUDIES: dict[tuple[str, str], Any] = {}  # a worker's open studies


class EpochPruner:
    """In a worker: reports each epoch's metric to the row's study trial and asks its pruner."""

    def __init__(self, config: dict[str, Any], number: int):
        self.config, self.number = config, number
        self.trial: Any = None
        self.dead = False

    def _open(self) -> Any:
        import optuna

        quiet_optuna()
        key = (self.config["folder"], self.config["study"])
        study = _STUDIES.get(key)
        if study is None:  # once per worker: a storage's engine costs tens of milliseconds
            search = Search.model_validate(self.config["search"])
            study = _STUDIES[key] = optuna.load_study(study_name=self.config["study"],
                                                      storage=storage(self.config["folder"]), pruner=pruner(search))
        frozen = study._storage.get_trial(study._storage.get_trial_id_from_study_id_trial_number(
            study._study_id, self.number))
        if frozen.state != optuna.trial.TrialState.RUNNING:
            return None  # told already (its runner died and asked the point again): nothing to report to
        return optuna.trial.Trial(study, frozen._trial_id)

    def __call__(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.dead:
            return False
        name = self.config["metric"]
        value = logs.get(name) if self.config["split"] == "train" else logs.get(f"val_{name}", logs.get(name))
        if value is None or not math.isfinite(value):
            return False
        try:
            if self.trial is None:
                self.trial = self._open()
                if self.trial is None:
                    self.dead = True
                    return False
            self.trial.report(float(value), epoch)
            return bool(self.trial.should_prune())
        except Exception as exc:  # noqa: BLE001 - the study cannot be reached: train on, unpruned
            print(f"warning: trial {self.number}: the pruner cannot be asked ({type(exc).__name__}: {exc})",
                  file=sys.stderr)
            self.dead = True
            return False


def worker_config(p: Plan, folder: str) -> dict[str, Any] | None:
    """What a worker needs to prune (picklable), or None for a sweep without a pruner."""
    search = p.sweep.search
    if search is None or search.pruner == "none":
        return None
    split, _, name = p.sweep.metric.partition(".")
    return {"search": search.model_dump(), "study": p.sweep.name, "folder": folder, "metric": name, "split": split}
