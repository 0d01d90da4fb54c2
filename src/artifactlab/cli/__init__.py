r"""The ``artifactlab`` command line: one module per command group; parse, call the library, print.

This package is the only one that imports typer or rich. Building the command tree
imports no torch (every command imports the library when it runs), so ``--help`` and
``--version`` start fast.

Example
-------
>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["--version"]).output.strip()
'artifactlab 0.1.0'
>>> CliRunner().invoke(app, ["ls", "models"]).output.split("\t")[0]
'attn'
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from artifactlab import __version__
from artifactlab.cli import (
    artifacts,
    claims,
    compare,
    explore,
    export,
    mitigate,
    rank,
    report,
    reproduce,
    train,
)
from artifactlab.cli.data import make_data_app
from artifactlab.cli.index import index_app
from artifactlab.cli.interp import interp_app
from artifactlab.cli.lm import lm_app
from artifactlab.cli.ls import ls_app
from artifactlab.cli.sweep import sweep_app

app = typer.Typer(
    help="Measure the completion artifacts (generalizations, hallucinations) of language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"artifactlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="Compute threads per process (default 1, or ARTIFACTLAB_THREADS; 0: the "
            "libraries' own defaults). Parallel work runs in worker threads or processes.",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="cpu|cuda|auto",
            help="Where models train and evaluate: cpu (default, or ARTIFACTLAB_DEVICE), "
            "cuda (cuda:N; refused without a GPU), or auto (cuda when one is visible).",
        ),
    ] = None,
) -> None:
    """Measure the completion artifacts (generalizations, hallucinations) of language models."""
    from artifactlab.device import device_name, set_device_environment
    from artifactlab.errors import InputError
    from artifactlab.threads import set_thread_environment

    try:  # before any command imports torch or numpy, which read these variables once
        set_thread_environment(threads)
        asked = device_name(device)
        chosen = set_device_environment(device)  # imports torch only for cuda or auto
    except InputError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from None
    if asked == "auto" and chosen == "cpu":  # the fallback is said, never silent
        typer.echo("note: device auto: no CUDA GPU is visible, running on the CPU", err=True)


app.add_typer(make_data_app, name="make-data")
train.register(app)
artifacts.register(app)
export.register(app)
explore.register(app)
reproduce.register(app)
compare.register(app)
claims.register(app)
mitigate.register(app)
rank.register(app)
report.register(app)
app.add_typer(sweep_app, name="sweep")
app.add_typer(interp_app, name="interp")
app.add_typer(index_app, name="index")
app.add_typer(lm_app, name="lm")
app.add_typer(ls_app, name="ls")

# the UsageError class of whichever click typer runs on (recent typer vendors its own click)
_UsageError = typer.BadParameter.__mro__[1]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: usage errors, like bad input, end in one line and exit code 2."""
    try:
        result = app(args=argv, prog_name="artifactlab", standalone_mode=False)
    except _UsageError as err:  # unknown option, a value of the wrong type, ...
        message = err.format_message().strip()
        if message:  # empty when no arguments were given: the help was printed instead
            where = f"{err.ctx.command_path}: " if err.ctx is not None else ""
            typer.echo(f"error: {where}{message} (see --help)", err=True)
        return 2
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
