"""The sweep file language (version 1), one more pydantic model under the same rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from regspec.lang.types import PositiveInt, Seed, SpecName, Strict

Axis = Annotated[list[Any], Field(min_length=1, max_length=10_000, description="Values to try at this path.")]


class SweepModel(Strict):
    """A grid search over variants of one spec."""

    regspec_sweep: Literal[1] = Field(alias="regspec-sweep", description="Sweep language version.")
    name: SpecName = Field(description="Names the sweep directory: [a-z0-9_-]+.")
    description: str = ""
    base: Annotated[str, Field(min_length=1)] = Field(description="The base spec, relative to this file.")
    mode: Literal["grid", "zip", "random"] = Field(
        "grid", description="grid: every combination; zip: the i-th values together; random: `samples` grid points."
    )
    samples: PositiveInt | None = Field(None, description="How many points `random` draws.")
    seed: Seed = Field(0, description="Which points `random` draws.")
    axes: Annotated[dict[str, Axis], Field(min_length=1, max_length=32)] = Field(
        description="Path -> values, e.g. `layers.conv2.kernel_regularizer.l1: [0.0001, 0.001]`."
    )
    set: dict[str, Any] = Field(default_factory=dict, description="Path -> value, the same for every trial.")
    metric: Annotated[str, Field(pattern=r"^(train|test|val)\.[a-z0-9_]+$")] = Field(
        "test.accuracy", description="What to rank by: train.<metric>, test.<metric> or val.<metric> (last epoch)."
    )
    goal: Literal["max", "min"] = "max"
    max_trials: PositiveInt = Field(1000, le=100_000, description="Refuse a larger grid.")
    jobs: PositiveInt = Field(1, le=64, description="Worker processes (the command line's --jobs wins).")

    model_config = Strict.model_config | {"populate_by_name": False}
