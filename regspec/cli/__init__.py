"""The command line: one module per command. Modules only parse arguments, call the stages
and print; TensorFlow is imported only by the commands that build or apply models, never at module level."""

from __future__ import annotations

import os

# pydantic scans every installed distribution for plugins when it builds a validator (~15 ms
# of each command); the command line uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import atexit  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from regspec.cli.edge import State  # noqa: E402

#: Command name -> the module defining it as ``command``. A command imports only its own module:
#: importing all of them took a tenth of `validate`'s time.
COMMANDS = {"validate": "validate", "summary": "summary", "resolve": "resolve", "diff": "diff", "schema": "schema",
            "docs": "docs", "compile": "compile", "compare": "compare", "report": "report", "sweep": "sweep",
            "predict": "predict", "evaluate": "evaluate", "export": "export", "import": "importing"}


class LazyGroup(click.Group):
    """Click's lazily loading group (the pattern in click's documentation)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"regspec.cli.{module}").command
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors (and what Keras raised).")
@click.version_option(package_name="regspec")
def main(debug: bool) -> None:
    """regspec: declarative Keras model specs with regularization, compiled, trained and compared."""
    State.debug = debug


def entry() -> None:
    """The `regspec` program (and `python -m regspec`): the command, then a quick exit.

    Every file is written and closed when a command returns, and the exit handlers still run
    (multiprocessing's stops a sweep's workers). What is skipped is the interpreter's teardown
    of every module: with TensorFlow, matplotlib and the language's classes loaded it took
    0.25-0.4 s, a quarter of a one-file `validate`."""
    code: Any
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what the interpreter does with a non-integer exit code
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`regspec ... | head`): nothing more to say
            pass
    os._exit(code or 0)
