"""regspec: declarative model specs compiled to Keras models, trained and reported.

Importing regspec never imports TensorFlow; only compiling and training do.
"""

from __future__ import annotations

from typing import Any

from regspec.version import __version__

__all__ = ["Spec", "SpecError", "__version__", "grid", "iter_grid", "iter_random", "iter_zipped", "load",
           "random_sample", "zipped"]


def __getattr__(name: str) -> Any:
    # Lazy: `regspec --help` and `import regspec` stay cheap.
    if name in ("Spec", "load"):
        from regspec import api

        return getattr(api, name)
    if name == "SpecError":
        from regspec.diagnostics import SpecError

        return SpecError
    if name in ("grid", "zipped", "random_sample", "iter_grid", "iter_zipped", "iter_random"):
        from regspec.sweep import variants

        return getattr(variants, name)
    raise AttributeError(f"module 'regspec' has no attribute {name!r}")
