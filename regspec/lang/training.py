"""The `training` section: epochs, batches, seed, callbacks, distribution."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.callbacks import AnyCallback
from regspec.lang.types import PositiveInt, Seed, Strict


class TrainingSection(Strict):
    epochs: Annotated[int, Field(ge=1, le=100_000)] = 1
    batch_size: PositiveInt = 32
    steps_per_epoch: PositiveInt | None = Field(None, description="Batches per epoch; the data repeats so it never runs out.")
    validation_steps: PositiveInt | None = None
    seed: Seed | None = Field(None, description="Seeds Python, NumPy and TensorFlow (keras.utils.set_random_seed).")
    callbacks: Annotated[list[AnyCallback], Field(max_length=32)] = Field(default_factory=list)
    distribution: Literal["default", "mirrored", "one_device", "multi_worker_mirrored"] = Field(
        "default", description="A tf.distribute strategy by name."
    )
