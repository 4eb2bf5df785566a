"""The sweep file language (version 1), one more pydantic model under the same rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from regspec.lang.types import PositiveInt, Seed, SpecName, Strict

Axis = Annotated[list[Any], Field(min_length=1, max_length=10_000, description="Values to try at this path.")]


class Range(Strict):
    """A range a search draws from: floats (to 3 significant digits), or integers when `low`,
    `high` and `step` are all integers."""

    low: int | float = Field(description="The smallest value.")
    high: int | float = Field(description="The largest value.")
    log: bool = Field(False, description="Draw uniformly on a log scale (low must be > 0).")
    step: int | float | None = Field(None, gt=0, description="Only low, low + step, ... (not with log).")

    @model_validator(mode="after")
    def _sound(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("log needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("step and log cannot go together")
        return self

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.low, self.high, self.step or 1))


class Search(Strict):
    """A model-based search (Optuna): which sampler proposes the points, how many, which pruner stops hopeless ones."""

    sampler: Literal["tpe", "gp", "cmaes", "random", "qmc", "grid"] = Field(
        "tpe", description="Optuna's sampler: tpe, gp (needs torch), cmaes (needs cmaes), random, qmc, grid (lists only).")
    trials: Annotated[int, Field(ge=1, le=100_000)] = Field(description="How many points the study tries.")
    seed: Seed = Field(0, description="The sampler's seed.")
    pruner: Literal["none", "median", "hyperband", "asha"] = Field(
        "none", description="Stop a trial early when its epoch metric is hopeless: median, hyperband, asha (successive halving).")
    startup_trials: Annotated[int, Field(ge=0, le=10_000)] = Field(
        5, description="Trials that finish before the pruner may stop any (median).")
    warmup_epochs: Annotated[int, Field(ge=0, le=100_000)] = Field(
        1, description="Epochs a trial runs before it may be stopped (hyperband's and asha's minimum resource).")


def _axis_kind(value: Any) -> str:
    return "range" if isinstance(value, dict | Range) else "values"


AxisOrRange = Annotated[Annotated[Axis, Tag("values")] | Annotated[Range, Tag("range")], Discriminator(_axis_kind)]


class SweepModel(Strict):
    """A grid search over variants of one spec, or a model-based search with `search`."""

    regspec_sweep: Literal[1] = Field(alias="regspec-sweep", description="Sweep language version.")
    name: SpecName = Field(description="Names the sweep directory: [a-z0-9_-]+.")
    description: str = ""
    base: Annotated[str, Field(min_length=1)] = Field(description="The base spec, relative to this file.")
    mode: Literal["grid", "zip", "random"] = Field(
        "grid", description="grid: every combination; zip: the i-th values together; random: `samples` grid points."
    )
    samples: PositiveInt | None = Field(None, description="How many points `random` draws.")
    seed: Seed = Field(0, description="Which points `random` draws.")
    axes: Annotated[dict[str, AxisOrRange], Field(min_length=1, max_length=32)] = Field(
        description="Path -> values, e.g. `layers.conv2.kernel_regularizer.l1: [0.0001, 0.001]`; with `search`, "
                    "also a range: `{low: 0.00001, high: 0.1, log: true}`."
    )
    search: Search | None = Field(None, description="Search the axes with Optuna instead of enumerating them.")
    set: dict[str, Any] = Field(default_factory=dict, description="Path -> value, the same for every trial.")
    metric: Annotated[str, Field(pattern=r"^(train|test|val)\.[a-z0-9_]+$")] = Field(
        "test.accuracy", description="What to rank by: train.<metric>, test.<metric> or val.<metric> (last epoch)."
    )
    goal: Literal["max", "min"] = "max"
    max_trials: PositiveInt = Field(1000, le=100_000, description="Refuse a larger grid.")
    jobs: PositiveInt = Field(1, le=64, description="Worker processes (the command line's --jobs wins).")

    model_config = Strict.model_config | {"populate_by_name": False}
