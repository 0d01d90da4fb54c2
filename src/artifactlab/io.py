r"""The one way to write a file or a folder: check the target, stage it, rename it on success.

Every writer here checks the target first (not a symbolic link, not a folder where a
file goes, no file in the way of a folder), writes under a temporary name in the same
folder (``.NAME.<random>.tmp``), renames it onto the target only when everything was
written, and removes the temporary on any failure, ``KeyboardInterrupt`` included. An
``OSError`` (full disk, file-size limit, no permission, ...) becomes an
:class:`OutputError`, which the CLI prints as one line with exit code 2. JSON is
written with NaN and infinities as ``null``, so no output file holds ``NaN``.

Example
-------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> path = write_json(root / "summary.json", {"loss": float("nan"), "steps": [1, 2]})
>>> print(path.read_text(), end="")
{
  "loss": null,
  "steps": [
    1,
    2
  ]
}
>>> with staged_folder(root / "run") as tmp:
...     _ = write_text(tmp / "a.csv", "x\n1\n")
>>> sorted(p.name for p in root.iterdir())
['run', 'summary.json']
>>> write_text(root / "run", "x")
Traceback (most recent call last):
artifactlab.io.OutputError: ...run: is a folder (choose a file name for the output)
>>> read_lines("\ufeffa b\r\nc\u2028d\n")
['a b', 'c\u2028d']
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from artifactlab.errors import InputError

__all__ = [
    "OutputError",
    "check_file_target",
    "check_folder_target",
    "hint",
    "json_safe",
    "json_text",
    "os_error",
    "read_lines",
    "render_csv",
    "staged_file",
    "staged_files",
    "staged_folder",
    "write_bytes",
    "write_figure",
    "write_json",
    "write_text",
]

#: what a user can do about each kind of failed write
_HINTS = {
    errno.ENOSPC: "free space or choose another --out",
    errno.EDQUOT: "free space or choose another --out",
    errno.EFBIG: "the file-size limit (ulimit -f) is reached: raise it or choose another --out",
    errno.EACCES: "check the folder's permissions or choose another --out",
    errno.EPERM: "check the folder's permissions or choose another --out",
    errno.EROFS: "the file system is read-only: choose another --out",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.ENOTDIR: "a part of the path is a file: choose another --out",
    errno.EISDIR: "a folder is in the way: choose another --out",
    errno.ENOTEMPTY: "a folder is in the way: choose another --out",
    errno.EEXIST: "something is in the way: choose another --out",
}
_DEFAULT_HINT = "choose another --out"
_LINK_HINT = "choose another --out, or remove the link"


class OutputError(InputError):
    """A file or folder that could not be written (the CLI prints one line, exit code 2).

    Parameters
    ----------
    where : str
        The output path at fault (never a temporary name).
    problem : str
        What went wrong.
    hint : str, optional
        What the user can do about it.
    """


def hint(err: OSError) -> str:
    """What a user can do about a failed write or read (by ``errno``)."""
    return _HINTS.get(err.errno, _DEFAULT_HINT)


def os_error(path: str | Path, err: OSError, verb: str = "could not write") -> OutputError:
    """An :class:`OutputError` for ``err``: ``"PATH: could not write (STRERROR) (HINT)"``."""
    reason = err.strerror or (os.strerror(err.errno) if err.errno else "")
    reason = reason or str(err) or type(err).__name__
    return OutputError(str(path), f"{verb} ({reason})", hint(err))


# --- targets -----------------------------------------------------------------------------


def _blocking_ancestor(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is not a folder (else None)."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else parent
    return None


def check_file_target(path: str | Path) -> Path:
    """Raise :class:`OutputError` unless a regular file may be written at ``path``.

    The target may be absent or an existing regular file (it is replaced: whether that
    is allowed is the caller's policy, see ``--overwrite``). Refused: a symbolic link
    (dangling or not), a folder, a device or other special file, and a path below a file.
    """
    path = Path(path)
    if path.is_symlink():
        raise OutputError(str(path), "is a symbolic link", _LINK_HINT)
    if path.is_dir():
        raise OutputError(str(path), "is a folder", "choose a file name for the output")
    if path.exists() and not path.is_file():
        raise OutputError(str(path), "is not a regular file", "choose another --out")
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise OutputError(str(path), f"{blocker} is not a folder", "choose another --out")
    return path


def check_folder_target(path: str | Path, replace: bool = False) -> Path:
    """Raise :class:`OutputError` unless a folder may be created at ``path``.

    The target may be absent or an empty folder; a non-empty folder only with
    ``replace``. Refused: a symbolic link (dangling or not), a file, a path below a file.
    """
    path = Path(path)
    if path.is_symlink():
        raise OutputError(str(path), "is a symbolic link", _LINK_HINT)
    if path.exists() and not path.is_dir():
        raise OutputError(str(path), "exists and is not a folder", "choose a new --out folder")
    if not replace and path.is_dir() and any(path.iterdir()):
        raise OutputError(
            str(path), "already exists and is not empty", "choose a new --out, or --overwrite"
        )
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise OutputError(str(path), f"{blocker} is not a folder", "choose another --out")
    return path


# --- staging -----------------------------------------------------------------------------


def _make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; returns them, deepest first."""
    missing = []
    for parent in path.parents:
        if parent.exists():
            break
        missing.append(parent)
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
    return missing


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; only folders this call created, and only if empty
        try:
            folder.rmdir()
        except OSError:
            break


def _temp_name(path: Path) -> Path:
    # short enough for NAME_MAX even when the target's name is long
    return path.with_name(f".{path.name[:180]}.{secrets.token_hex(4)}.tmp")


def _public(where: Path, tmp: Path | None, path: Path) -> Path:
    """The user's name for ``where``: a path inside the temporary ``tmp`` maps onto ``path``."""
    if tmp is not None and (where == tmp or tmp in where.parents):
        return path / where.relative_to(tmp) if where != tmp else path
    return where


def _translate(err: BaseException, tmp: Path | None, path: Path) -> BaseException:
    """The error to raise for ``err``: OS errors become OutputError, naming no temporary."""
    if isinstance(err, InputError):  # an OutputError, or a check of a staged file
        if tmp is None or not err.where.startswith(str(tmp)):
            return err
        renamed = type(err).__new__(type(err))  # same class and fields, the user's path
        renamed.__dict__.update(err.__dict__)
        renamed.where = str(path) + err.where[len(str(tmp)) :]
        renamed.args = (renamed.message,)
        return renamed
    if isinstance(err, OSError):
        named = Path(os.fsdecode(err.filename)) if err.filename is not None else None
        if named is None:
            return os_error(path, err)
        public = _public(named, tmp, path)
        if public != named or named == path or named in path.parents:
            return os_error(public, err)
        # an error about another file (say, an input read inside the block) stays as it is
    return err


def _discard(tmp: Path | None) -> None:
    if tmp is None:
        return
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            tmp.unlink()
        except OSError:
            pass


@contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path next to ``path``; renamed onto ``path`` if the block succeeds.

    For writers that need a file name (``safetensors.save_file``, ``savefig``). The
    temporary is created empty; on any failure it is removed, missing parent folders
    created here are removed, and an ``OSError`` is raised as :class:`OutputError`.
    """
    path = check_file_target(path)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        created = _make_parents(path)
        tmp = _temp_name(path)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield tmp
        os.replace(tmp, path)
        tmp = None
    except BaseException as err:
        _discard(tmp)
        _remove_folders(created)
        raise _translate(err, tmp, path) from None


@contextmanager
def staged_folder(path: str | Path, replace: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; renamed onto ``path`` if the block succeeds.

    Write every file of a command inside it (CSVs, JSON, plots): a failure anywhere,
    ``KeyboardInterrupt`` included, removes it and leaves nothing at ``path``.

    Parameters
    ----------
    path : str or Path
        The folder to create: absent or empty (non-empty only with ``replace``, which
        swaps the old folder out only once the new one is complete).
    replace : bool
        Allow replacing a non-empty folder (the CLI's ``--overwrite``).

    Raises
    ------
    OutputError
        A target that cannot be a folder, or an ``OSError`` while writing.
    """
    path = check_folder_target(path, replace)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        created = _make_parents(path)
        tmp = _temp_name(path)
        tmp.mkdir()
        yield tmp
        _swap_in(tmp, path)
        tmp = None
    except BaseException as err:
        _discard(tmp)
        _remove_folders(created)
        raise _translate(err, tmp, path) from None


def _swap_in(tmp: Path, path: Path) -> None:
    """Rename the folder ``tmp`` onto ``path``; an existing non-empty ``path`` goes last."""
    if not (path.is_dir() and any(path.iterdir())):
        os.replace(tmp, path)  # rename(2) replaces an empty folder
        return
    old = _temp_name(path)
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_files(folder: str | Path) -> Iterator[Path]:
    """Yield a scratch folder whose files are moved into ``folder`` if the block succeeds.

    For folders that are resumed (``reproduce``, ``compare``): the finished results stay,
    and the files written in the block (a CSV, its summary and plot) appear together or
    not at all. Each file replaces the one of the same name in ``folder``.
    """
    folder = Path(folder)
    if folder.is_symlink() and not folder.exists():
        raise OutputError(str(folder), "is a dangling symbolic link", "choose another --out")
    if folder.exists() and not folder.is_dir():
        raise OutputError(str(folder), "exists and is not a folder", "choose a folder for --out")
    created: list[Path] = []
    tmp: Path | None = None
    try:
        created = _make_parents(folder / "x")
        tmp = _temp_name(folder / "staged")
        tmp.mkdir()
        yield tmp
        moves = [(entry, folder / entry.name) for entry in sorted(tmp.iterdir())]
        for _, target in moves:  # every target is checked before the first file moves
            check_file_target(target)
        for entry, target in moves:
            os.replace(entry, target)
        tmp.rmdir()
        tmp = None
    except BaseException as err:
        _discard(tmp)
        _remove_folders(created)
        raise _translate(err, tmp, folder) from None


# --- writers -----------------------------------------------------------------------------


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`staged_file`); returns it."""
    path = Path(path)
    with staged_file(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_text(path: str | Path, text: str) -> Path:
    r"""Write ``text`` as UTF-8 (``\n`` line ends) whole or not at all; returns ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None, numpy scalars and arrays as Python values."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "tolist") and type(obj).__module__ == "numpy":
        return json_safe(obj.tolist())
    return obj


def json_text(obj: Any, indent: int | None = 2) -> str:
    """``obj`` as JSON text with NaN and infinities as ``null`` (never ``NaN``/``Infinity``)."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (NaN and infinities as ``null``, a final newline); returns ``path``."""
    return write_text(path, json_text(obj, indent) + "\n")


def write_figure(path: str | Path, fig: Any, dpi: int = 120) -> Path:
    """Lay out and render a matplotlib figure in memory, then write it (format from the suffix).

    Rendering first means a figure that cannot be drawn fails before anything is written;
    it fails as an :class:`OutputError` (values too large to place on an axis, say).
    """
    path = Path(path)
    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    except (ValueError, OverflowError) as err:
        raise OutputError(
            str(path),
            f"could not draw the figure ({err})",
            "the data may hold values too large to plot",
        ) from None
    return write_bytes(path, buffer.getvalue())


def render_csv(
    out: Path,
    stem: str,
    summarise: Callable[[Path], dict],
    draw: Callable[[dict, Path], Any],
    command: str | None = None,
) -> dict:
    """From ``OUT/STEM.csv``: ``STEM_summary.json``/``.txt`` and ``STEM.png``, all or none.

    ``summarise(csv_path)`` returns the summary (with its ``text``); ``draw(summary,
    png_path)`` writes the figure. A missing CSV is an InputError that says to run
    ``artifactlab COMMAND`` (default ``STEM``) first.
    """
    csv_path = Path(out) / f"{stem}.csv"
    if not csv_path.is_file():
        raise InputError(str(csv_path), "not found", f"run `artifactlab {command or stem}` first")
    summary = summarise(csv_path)
    with staged_files(out) as tmp:  # the summary and the figure appear together or not at all
        write_json(tmp / f"{stem}_summary.json", summary)
        write_text(tmp / f"{stem}_summary.txt", summary["text"] + "\n")
        draw(summary, tmp / f"{stem}.png")
    return summary


# --- reading -----------------------------------------------------------------------------


def read_lines(text: str) -> list[str]:
    r"""The lines of a text file's contents as a user sees them.

    A leading UTF-8 byte-order mark is dropped, and lines end only at ``\n`` or
    ``\r\n``: other characters that :meth:`str.splitlines` treats as line breaks
    (U+2028, U+0085, form feed, ...) stay inside their line.
    """
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
