"""TensorFlow's thread pools for a model whose operations are small.

TensorFlow gives every operation all the cores (intra-op) by default. A small model's matmuls
(digits' 5x500 MLP: 64 MFLOP at batch 128) gain nothing from being split, and pay for it: on two
cores, one thread per operation with two operations at once (a dense layer's backward pass has
two independent matmuls) took its epoch from 61-76 ms to 49-53 ms, fresh processes side by side
(the weights are the same within float rounding). Larger operations keep TensorFlow's defaults.
The settings are the process's: they are chosen only while TensorFlow has not started (a
command's own process; not a notebook that ran TensorFlow already), and never over
TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS set by the user.
"""

from __future__ import annotations

import math
import os

from regspec.ir.graph import Program
from regspec.ir.shapes import ShapeProblem, infer_rows

#: Below this many floating-point operations (forward, one batch) the largest layer is "small".
SMALL_OP_FLOPS = 256e6


def cpu_ids() -> list[int] | None:
    """The CPUs this process may run on (a container's CPU set, a sweep worker's own cores), where
    the system says."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def cores() -> int:
    """How many cores this process may run on (a container's CPU set, not the machine's)."""
    ids = cpu_ids()
    return len(ids) if ids else os.cpu_count() or 1


def largest_op_flops(program: Program) -> float | None:
    """The forward FLOPs of one batch through the largest layer: 2 x batch x weights x the
    positions each weight is used at (a conv's output pixels). None when a shape is unknown."""
    try:
        rows = infer_rows(program)
    except ShapeProblem:
        return None
    batch = program.training.batch_size
    largest = 0.0
    for row in rows:
        if not row.trainable:
            continue
        positions = [d for d in row.output_shape[:-1] if isinstance(d, int)]
        if len(positions) != max(0, len(row.output_shape) - 1):
            return None
        largest = max(largest, 2.0 * batch * row.trainable * math.prod(positions))
    return largest


def choose(program: Program, available: int | None = None) -> tuple[int, int] | None:
    """(intra-op, inter-op) threads for ``program`` on ``available`` cores (default: this
    process's), or None: TensorFlow's defaults."""
    if "TF_NUM_INTRAOP_THREADS" in os.environ or "TF_NUM_INTEROP_THREADS" in os.environ:
        return None
    n = available or cores()
    flops = largest_op_flops(program)
    if n < 2 or flops is None or flops >= SMALL_OP_FLOPS:
        return None
    return max(1, n // 2), n


def apply(choice: tuple[int, int] | None) -> dict[str, int] | None:
    """Set ``choice`` if TensorFlow has not started; the settings in effect when regspec chose them."""
    import tensorflow as tf

    if choice is None:
        return None
    try:
        tf.config.threading.set_intra_op_parallelism_threads(choice[0])
        tf.config.threading.set_inter_op_parallelism_threads(choice[1])
    except RuntimeError:  # TensorFlow runs already in this process: its settings stay
        return None
    return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
