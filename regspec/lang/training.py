"""The `training` section: epochs, batches, seed, callbacks, distribution."""


from typing import Annotated, Literal

from pydantic import Field

from regspec.lang.callbacks import AnyCallback
from regspec.lang.types import ADDED_LATER, PositiveInt, Seed, Strict

#: What `compile.steps_per_execution: auto` runs per call into the compiled step when no callback
#: acts every batch (Keras cuts it to the steps of an epoch). Where the gain stopped on digits'
#: 5x500 MLP: bench/bench_training.py.
AUTO_STEPS_PER_EXECUTION = 32


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
    mixed_precision: Annotated[Literal["mixed_float16", "mixed_bfloat16"] | None, ADDED_LATER] = Field(
        None, description="Compute in 16 bits, keep the weights in 32 (Keras' dtype policy on every layer; the model's "
        "outputs stay float32, as the Keras guide has it). mixed_float16 scales the loss against underflow.")

    def steps_per_execution(self, requested: int | str) -> int:
        """What ``requested`` (compile.steps_per_execution) means for this training plan."""
        if isinstance(requested, int):
            return requested
        return 1 if any(cb.per_batch() for cb in self.callbacks) else AUTO_STEPS_PER_EXECUTION
