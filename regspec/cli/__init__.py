"""The command line: one module per command. Modules only parse arguments, call the stages
and print; TensorFlow is imported only by the commands that build or apply models, never at module level."""

from __future__ import annotations

import os

# pydantic scans every installed distribution for plugins when it builds a validator (~15 ms
# of each command); the command line uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import click  # noqa: E402

from regspec.cli import (
    compare,
    compile,
    diff,
    docs,
    evaluate,
    export,
    importing,
    predict,
    report,
    resolve,
    schema,
    summary,
    sweep,
    validate,
)
from regspec.cli.edge import State


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors (and what Keras raised).")
@click.version_option(package_name="regspec")
def main(debug: bool) -> None:
    """regspec: declarative Keras model specs with regularization, compiled, trained and compared."""
    State.debug = debug


for _module in (validate, summary, resolve, diff, schema, docs, compile, compare, report, sweep, predict, evaluate, export,
                importing):
    main.add_command(_module.command)
