"""TensorFlow's graph optimizer (Grappler), left out for a small model of vectors.

Grappler rewrites each traced function the first time it runs. For the digits MLP that is the
training step, its loop over steps_per_execution and the evaluation step: up to 0.3 s of a
2.4-2.9 s run (its first epoch, medians of two `bench.bench_training` runs: 0.70 s with it and
0.53 s without, then 0.64 s and 0.60 s; the host's noise is of the same size). What it finds in
such a model, a matmul fused with its bias and activation, gained nothing measurable per step:
the digits 5x500 MLP's steady epochs were equal or faster without it, fresh processes side by
side, with the same losses to the last digit. A small conv net ran 5% slower per step without it
(a convolution fused with its bias and activation is Grappler's real gain on a CPU), and an
LSTM's steps were no clearer. So it is left out only when every input and every layer's output
is one vector per example (dense layers, dropout, normalization, merges), and the model is small
(where it is large, Grappler's fixed cost is small), without a distribution strategy.
The setting is the process's: it is set for one training and put back after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from regspec.backend.keras.threads import SMALL_OP_FLOPS, largest_op_flops
from regspec.ir.graph import Program
from regspec.ir.shapes import ShapeProblem, infer_rows

_OFF = "disable_meta_optimizer"


def worth_skipping(program: Program) -> bool:
    """Whether ``program`` trains faster without Grappler: small, and made of vectors (no image,
    sequence or embedding anywhere, where Grappler's fusions or loop rewrites may pay)."""
    if program.training.distribution != "default":
        return False
    flops = largest_op_flops(program)
    if flops is None or flops >= SMALL_OP_FLOPS:
        return False
    try:
        rows = infer_rows(program)
    except ShapeProblem:
        return False
    return (all(len(i.shape) == 1 for i in program.inputs)
            and all(len(row.output_shape) == 1 for row in rows))


@contextmanager
def chosen(program: Program) -> Iterator[bool]:
    """Grappler off while the block runs, when ``program`` is worth it. Yields whether Grappler
    is on (it may be off already: the process's own setting is kept)."""
    import tensorflow as tf

    options = tf.config.optimizer
    was_off = bool(options.get_experimental_options().get(_OFF, False))
    skip = not was_off and worth_skipping(program)
    if skip:
        options.set_experimental_options({_OFF: True})
    try:
        yield not (was_off or skip)
    finally:
        if skip:
            options.set_experimental_options({_OFF: False})
