"""Pieces shared by every command module: option types, error handling, output.

Example
-------
>>> emit({"a": 1}, True, "unused")
{
  "a": 1
}
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from artifactlab.errors import InputError

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
Json = Annotated[bool, typer.Option("--json", help="Print the numbers as JSON on standard output.")]


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


def require_parent(path: Path) -> None:
    """Raise InputError unless the folder that will hold ``path`` exists."""
    if not path.parent.exists():
        raise InputError(str(path), "its folder does not exist", "create the folder first")
