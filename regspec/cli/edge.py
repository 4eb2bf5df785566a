"""The edge of the command line: errors become `FILE:LINE:COL: error: ...` lines and exit codes.

Bad input (any `RegspecError`) exits 2 with every diagnostic; an unexpected error exits 1 with one line;
`--debug` adds the traceback, including the Keras exception a diagnostic was made from.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from regspec.diagnostics import EXIT_BAD_INPUT, RegspecError, SpecError

if TYPE_CHECKING:
    from regspec.api import Spec

__all__ = ["EXIT_BAD_INPUT", "EXIT_DIVERGED", "run"]

EXIT_DIVERGED = 3


class State:
    debug = False


def run(fn: Callable[[], int | None], *, interrupted: str | None = None) -> None:
    """Run a command's body; ``interrupted``: what to do after Ctrl-C (said on the same line)."""
    try:
        code = fn() or 0
    except RegspecError as exc:  # every error regspec expects: its lines and its exit code, here only
        if State.debug and isinstance(exc, SpecError) and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)
        click.echo("\n".join(exc.lines()), err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted" + (f": {interrupted}" if interrupted else ""), err=True)
        code = 130
    except BrokenPipeError:
        # The reader left (`regspec validate specs/ | head -1`): stop quietly, as shell tools do.
        _drop_stdout()
        code = 141
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the edge: no traceback unless asked
        if State.debug:
            traceback.print_exc()
        else:
            click.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", err=True)
        code = 1
    sys.exit(code)


def _drop_stdout() -> None:
    """Point standard output at /dev/null, so that the exit's flush of what is still buffered
    does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's captured output)
        pass


def load_spec(spec_path: str, sets: tuple[str, ...] = ()) -> Spec:
    from regspec.api import load
    from regspec.frontend.settings import parse_set_items

    spec = load(spec_path)
    if sets:
        overrides, source = parse_set_items(sets)
        spec = spec.with_overrides(overrides, source=source)
    return spec


def emit(text: str, output: str) -> None:
    """Write ``text`` to the file ``output`` (atomically), or to standard output for '-'."""
    from regspec.files import write_text

    if output == "-":
        click.echo(text, nl=False)
    else:
        write_text(output, text)
        click.echo(f"wrote {output}", err=True)


SET_OPTION = click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field (repeatable).")


def TRACK_OPTIONS(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--track mlflow [--tracking-uri URI]`: log the results to MLflow too."""
    fn = click.option("--tracking-uri", default=None, metavar="URI",
                      help="MLflow tracking URI (default: sqlite:///<out>/mlflow.db).")(fn)
    return click.option("--track", type=click.Choice(["mlflow"]), default=None,
                        help="Also log params, metrics and artifacts to MLflow (pip install 'regspec[mlflow]').")(fn)
