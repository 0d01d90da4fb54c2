"""What every command module shares: option types, validators, the output policy, printing.

The validators are the one place where a command-line number is checked (they call
:mod:`artifactlab.checks`, as the library's configs do), so ``--workers 0``,
``--seeds 0`` or ``--lr nan`` are refused the same way by every command.

Example
-------
>>> emit({"a": 1}, True, "unused")
{
  "a": 1
}
>>> workers(2)
2
>>> workers(0)
Traceback (most recent call last):
artifactlab.errors.InputError: --workers: must be >= 1, got 0
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from artifactlab.checks import at_least, finite
from artifactlab.errors import InputError

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
Json = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON on standard output.")]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing non-empty --out.")
]
#: the default of --workers: one single-threaded worker process per usable core
DEFAULT_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
Workers = Annotated[
    int, typer.Option("--workers", help="Batches trained at once in single-threaded processes.")
]


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an InputError into one line on standard error and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as err:
            typer.echo(f"error: {err.message}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def emit(data: dict, as_json: bool, text: str) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text``."""
    typer.echo(json.dumps(data, indent=2) if as_json else text)


# --- validators: one per kind of option --------------------------------------------------


def workers(value: int) -> int:
    """``--workers``: at least 1."""
    return at_least("--workers", value, 1)


def seeds(value: int) -> int:
    """``--seeds``: at least 1."""
    return at_least("--seeds", value, 1)


def count(option: str, value: int, low: int = 1) -> int:
    """Any count option: an integer ``>= low``."""
    return at_least(option, value, low)


def number(option: str, value: float, **bounds: Any) -> float:
    """Any float option: finite and inside ``bounds`` (see :func:`artifactlab.checks.finite`)."""
    return finite(option, value, **bounds)


def taus(values: list[float] | None) -> list[float]:
    """``--tau`` (repeatable): each in (0, 1); default ``[0.5]``."""
    return [
        finite("--tau", t, low=0, high=1, low_open=True, high_open=True) for t in values or [0.5]
    ]


# --- outputs -------------------------------------------------------------------------------


def require_parent(path: Path) -> None:
    """Raise InputError unless the folder that will hold ``path`` exists."""
    if not path.parent.exists():
        raise InputError(str(path), "its folder does not exist", "create the folder first")


def fresh_out(out: Path, overwrite: bool) -> None:
    """The output policy of commands that do not resume: ``--out`` must be absent or empty.

    With ``--overwrite`` an existing folder is removed first (only after every other
    check of the command has passed: call this last, right before writing). Missing
    parent folders are created by the command that writes.
    """
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(str(out), "exists and is not a folder", "choose a new --out folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(
                str(out), "already exists and is not empty", "choose a new --out, or --overwrite"
            )
        shutil.rmtree(out)


def fresh_file(out: Path, overwrite: bool) -> None:
    """The output policy for a file ``--out``: absent, or replaced only with ``--overwrite``."""
    if out.is_dir():
        raise InputError(str(out), "is a folder", "choose a file name for the output")
    require_parent(out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise InputError(str(out), "already exists", "choose a new file, or --overwrite")


def resumable_out(out: Path) -> None:
    """The output policy of commands that resume (sweeps, reproduce, compare): a folder."""
    if out.is_symlink() and not out.exists():
        raise InputError(str(out), "is a dangling symbolic link", "choose another --out")
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file", "choose a folder for --out")
