r"""What every command module shares: option types, validators, the output policy, printing.

The validators are the one place where a command-line number is checked (they call
:mod:`artifactlab.checks`, as the library's configs do), so ``--workers 0``,
``--seeds 0`` or ``--lr nan`` are refused the same way by every command.

User text (paths, names, tokens) is data: :func:`printable` escapes its control
characters, and Rich prints it with markup off. JSON output holds no NaN: :func:`emit`
prints NaN and infinities as ``null``.

Example
-------
>>> emit({"a": 1, "loss": float("nan")}, True, "unused")
{
  "a": 1,
  "loss": null
}
>>> print(printable("red\x1b[31m\ttab [bold]"))
red\x1b[31m\x09tab [bold]
>>> workers(2)
2
>>> workers(0)
Traceback (most recent call last):
artifactlab.errors.InputError: --workers: must be >= 1, got 0
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from artifactlab.checks import at_least, finite
from artifactlab.errors import InputError
from artifactlab.io import check_file_target, check_folder_target, hint, json_text

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


def data_param(extra: str = "") -> Any:
    """The type of ``--param/-p`` (repeatable ``KEY=VALUE``) of a command with ``--data``.

    ``extra`` names the parameters of sources besides worlds and triple files (a clause
    ending in ``", "``).
    """
    return Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="KEY=VALUE, repeatable: a world's parameters (`artifactlab ls worlds`), "
            f"{extra}or holdout=FRACTION for a triple file.",
        ),
    ]


#: ``--param/-p`` of ``compare``: worlds and triple files
DataParam = data_param()


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an InputError into one line on standard error and exit code 2.

    An ``OSError`` or ``sqlite3.Error`` that escapes the command (the library writes
    through :mod:`artifactlab.io`, so this is the last line of defence) is printed the
    same way: ``error: PATH: STRERROR (HINT)``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as err:
            message = err.message
        except OSError as err:
            message = _os_message(err)
        except sqlite3.Error as err:
            message = (
                f"results store: {err} (check the store's folder and free space, "
                "or choose another --store)"
            )
        typer.echo(f"error: {printable(message)}", err=True)
        raise typer.Exit(2) from None

    return wrapper


def _os_message(err: OSError) -> str:
    where = os.fsdecode(err.filename) if err.filename is not None else "artifactlab"
    reason = err.strerror or str(err) or type(err).__name__
    return f"{where}: {reason} ({hint(err)})"


def emit(data: dict, as_json: bool, text: str) -> None:
    """Print ``data`` as JSON with ``--json`` (NaN and infinities as ``null``), else ``text``.

    ``text`` keeps its line breaks; every other control character is escaped
    (:func:`printable`), so a token cannot reach the terminal as an escape sequence.
    """
    typer.echo(json_text(data) if as_json else printable(text, keep="\n"))


#: format characters that reorder text on a terminal (bidirectional overrides and isolates)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


#: keyword arguments of ``Console.print`` for user text: no markup, no :emoji: codes
LITERAL: dict[str, Any] = {"markup": False, "emoji": False, "highlight": False, "soft_wrap": True}


def printable(text: object, keep: str = "") -> str:
    r"""``str(text)`` with control characters escaped as ``\xNN`` or ``\uNNNN``.

    Escaped: C0 controls (tab and newline too), DEL, C1 controls, the line and
    paragraph separators U+2028/U+2029, and bidirectional overrides; characters in
    ``keep`` stay as they are. Print the result literally (``markup=False`` or
    ``rich.text.Text`` with Rich), so ``[bold]`` stays ``[bold]``.
    """
    out = []
    for char in str(text):
        if char in keep or not _escaped(char):
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _escaped(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI


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


def data_params(
    data: str, pairs: list[str], sources: dict[str, dict] | None = None
) -> dict[str, int | float]:
    """``--param`` values for ``--data``: a world's, a triple file's or a knowledge graph's.

    A triple file takes ``holdout``; a knowledge graph ``relations`` (keep the most
    frequent) and ``holdout`` (re-split). ``sources`` adds other names that take
    parameters (name -> defaults), as ``random``.
    """
    from artifactlab.data.kg import KNOWLEDGE_GRAPHS
    from artifactlab.data.world_folder import parse_pairs
    from artifactlab.data.worlds import WORLDS
    from artifactlab.experiments.compare_trial import FILE_HOLDOUT

    if data in WORLDS:
        return parse_pairs(f"world {data}", WORLDS[data].defaults, pairs)
    if data.lower() in KNOWLEDGE_GRAPHS:  # no defaults filled in: none keeps the standard split
        return parse_pairs(f"knowledge graph {data}", {"relations": 0, "holdout": 0.1}, pairs)
    if sources and data in sources:
        return parse_pairs(data, sources[data], pairs)
    if Path(data).is_file():
        return parse_pairs(f"triple file {data}", {"holdout": FILE_HOLDOUT}, pairs)
    if pairs:
        only = " and ".join(
            [", ".join(["worlds", "knowledge graphs", *(sources or {})]), "triple files"]
        )
        raise InputError("--param", f"{data!r} takes no parameters (only {only})")
    return {}


# --- outputs -------------------------------------------------------------------------------


def require_parent(path: Path) -> None:
    """Raise InputError unless the folder that will hold ``path`` exists."""
    if not path.parent.exists():
        raise InputError(str(path), "its folder does not exist", "create the folder first")


def fresh_out(out: Path, overwrite: bool) -> None:
    """The output policy of commands that do not resume: ``--out`` must be absent or empty.

    With ``--overwrite`` an existing folder is removed first (only after every other
    check of the command has passed: call this last, right before writing). Missing
    parent folders are created by the command that writes. A symbolic link, a file, or
    a path below a file is refused (see :func:`artifactlab.io.check_folder_target`).
    """
    check_folder_target(out, replace=overwrite)
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out)


def fresh_file(out: Path, overwrite: bool) -> None:
    """The output policy for a file ``--out``: absent, or replaced only with ``--overwrite``.

    A folder, a symbolic link (dangling or not) or a special file is refused (see
    :func:`artifactlab.io.check_file_target`).
    """
    check_file_target(out)
    require_parent(out)
    if out.exists() and not overwrite:
        raise InputError(str(out), "already exists", "choose a new file, or --overwrite")


def resumable_out(out: Path) -> None:
    """The output policy of commands that resume (sweeps, reproduce, compare): a folder."""
    if out.is_symlink() and not out.exists():
        raise InputError(str(out), "is a dangling symbolic link", "choose another --out")
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file", "choose a folder for --out")
    if not out.exists():
        check_folder_target(out)  # a path below a file is refused before anything runs
