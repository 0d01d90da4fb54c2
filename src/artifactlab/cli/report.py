"""``artifactlab report DIR --out OUT``: one self-contained HTML page of saved results.

The page and its figures are built by :mod:`artifactlab.web.report` from the result files
only (nothing is retrained): ``OUT/index.html`` and ``OUT/figures/*.png``.

Example
-------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> [c.name for c in app.registered_commands]
['report']
"""

from __future__ import annotations

import shlex
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import Json, Overwrite, Quiet, count, emit, printable, user_errors

#: the default of --depth (the library's, without importing it here)
DEFAULT_DEPTH = 3
#: the ``interp`` commands whose parsers the report borrows to rebuild and check commands
INTERP_COMMANDS = ("fit", "hull", "double-descent")


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)


@user_errors
def report(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="A result folder (a run folder, a reproduce/claims/compare/mitigate/interp "
            "--out folder, a sweep's folder) or a folder holding several, e.g. docs/figures.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Report folder to create.")],
    explorer: Annotated[
        bool,
        typer.Option(
            "--explorer",
            help="Also write a tensor explorer page for every run folder of "
            "3-token tuples, linked from its section.",
        ),
    ] = False,
    depth: Annotated[
        int, typer.Option("--depth", help="Folder levels below DIR that are searched.")
    ] = DEFAULT_DEPTH,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Build OUT/index.html from the results in DIR (nothing is retrained).

    Recognises run folders (train), reproduced figures, claims, compare and mitigate
    folders, sweep stores and exported sweep tables, and the --out folders of interp fit,
    interp hull --experiment and interp double-descent in DIR and up to --depth levels
    below it. Each becomes a section: interactive figures, sortable tables, the verdicts as the
    summary files state them, configuration, provenance and the commands behind it.
    Static PNG copies of the figures go to OUT/figures/. The page opens offline.
    """
    from artifactlab.cli.progress import progress_bar
    from artifactlab.web.report import build_report

    lend_parsers()
    count("--depth", depth, 0)
    result = build_report(
        source,
        out,
        explorer=explorer,
        depth=depth,
        replace=overwrite,
        command=_command_line(),
        progress=partial(progress_bar, quiet=quiet),
    )
    kinds: dict[str, int] = {}
    for s in result["sections"]:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    found = ", ".join(f"{n} {k}" for k, n in kinds.items())
    text = (
        f"report of {printable(source)}: {_many(len(result['sections']), 'result')} ({found}), "
        f"{_many(len(result['figures']), 'figure')}"
        + (f", {_many(len(result['explorers']), 'explorer page')}" if explorer else "")
        + f" -> {printable(result['index'])}"
    )
    if not as_json:
        for note in result["notes"]:
            typer.echo(f"note: {printable(note)}", err=True)
    emit(result, as_json, text)


def _command_line() -> str | None:
    """The command line as typed, when the process is ``artifactlab ... report ...``."""
    if Path(sys.argv[0]).name not in ("artifactlab", "__main__.py") or "report" not in sys.argv:
        return None  # called in-process (a test runner, or Python)
    return shlex.join(["artifactlab", *sys.argv[1:]])


def _many(n: int, noun: str) -> str:
    """``1 result``, ``2 results``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def lend_parsers() -> None:
    """Lend the report the ``interp`` commands' parsers, to rebuild and check their commands."""
    from artifactlab.web import report_commands

    for name in INTERP_COMMANDS:
        report_commands.PARSERS.setdefault(f"interp {name}", partial(_interp_params, name))


def _interp_params(name: str, words: list[str]) -> dict:
    """The parameters ``artifactlab interp NAME WORDS`` parses to (ValueError if refused)."""
    from artifactlab.cli.interp import interp_app

    command = typer.main.get_command(interp_app).commands[name]  # type: ignore[attr-defined]
    try:
        return command.make_context(name, list(words)).params
    except Exception as err:  # a usage error of click, or of the click that typer vendors
        message = getattr(err, "format_message", None)
        if message is None:
            raise
        raise ValueError(message()) from None
