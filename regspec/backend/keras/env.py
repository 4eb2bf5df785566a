"""Import Keras on the TensorFlow backend once, quietly, and only when needed."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from types import ModuleType

_keras: ModuleType | None = None


def keras() -> ModuleType:
    """Return the keras module. TensorFlow's start-up chatter is hidden unless the import fails.

    oneDNN stays on (TF_ENABLE_ONEDNN_OPTS is left alone): turning it off to silence
    its notice halves convolution speed on these CPUs.

    The cyclic garbage collector is off while TensorFlow imports, and what the import made is
    frozen after it (`gc.freeze`): the import makes ~800k objects that live as long as the
    process (modules, op registries) and little garbage, and each full collection scans them all.
    Measured here: the import 3.1-3.6 s -> 2.3-2.7 s, a digits run 0.23 s shorter (the first full
    collection after the import) and a normal exit ~1 s shorter, for 3 MB more memory. When the
    caller imported TensorFlow already, its collector is left as it is.
    """
    global _keras
    if _keras is not None:
        return _keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        raise RuntimeError(f"regspec needs KERAS_BACKEND=tensorflow (got {os.environ['KERAS_BACKEND']!r})")
    first = "tensorflow" not in sys.modules
    collecting = gc.isenabled()
    if first:
        gc.disable()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            import absl.logging
            import keras as k
            import tensorflow  # noqa: F401

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError as exc:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise ImportError(
                f"{exc}. Training needs TensorFlow: pip install 'regspec[cpu]' (or 'regspec[gpu]')"
            ) from exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if first:
                gc.freeze()  # after a failed import too: what it loaded stays loaded either way
                if collecting:
                    gc.enable()
    version = tuple(int(p) for p in k.__version__.split(".")[:3] if p.isdigit())
    if version < (3, 15, 1):
        raise ImportError(f"keras {k.__version__} is too old: regspec needs keras >= 3.15.1 (safe-mode fixes)")
    _keras = k
    return k
