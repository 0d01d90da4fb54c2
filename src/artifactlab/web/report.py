"""``artifactlab report DIR --out OUT``: one HTML page of the saved results found in DIR.

:func:`discover` walks DIR (and the folders below it, :data:`DEFAULT_DEPTH` levels by
default) for the results the commands write:

- ``train``: a run folder (``config.json``, ``vocab.json``, ``model.safetensors``,
  ``train.tsv``);
- ``reproduce``: ``figN[-AXIS]_summary.json`` beside ``figN.csv`` and ``figN.yaml``;
- ``claims``: ``claim-X_summary.json`` beside ``claim-X.csv``;
- ``compare`` and ``mitigate``: ``compare_summary.json`` / ``mitigate_summary.json``;
- ``sweep``: a results store (a folder with ``results.sqlite``) that belongs to none of
  the above, or a table written by ``sweep export`` (CSV or Parquet);
- ``interp``: the ``--out`` folders of the interpolation lab: ``fit_summary.json``
  (``interp fit``), ``double_descent_summary.json`` (``interp double-descent``) and
  ``hull_rate.csv`` (``interp hull --experiment``, with ``hull_summary.json`` beside it
  in folders written since it records its config; without ``--experiment`` it writes no
  file).

A results store is never descended into (its trial folders are run folders of the
sweep), and every store found is opened read-only, so a store of an unknown format is
refused. :func:`build_report` turns each result into a section
(:mod:`artifactlab.web.report_sections`, :mod:`~artifactlab.web.report_claims`,
:mod:`~artifactlab.web.report_sweeps`, :mod:`~artifactlab.web.report_interp`) and
writes, atomically, ``OUT/index.html`` (self-contained: plotly.js and
``assets/report.js`` inlined, the data embedded) and ``OUT/figures/ID.png``, a
matplotlib copy of every figure. Nothing is retrained.

Example
-------
>>> from pathlib import Path
>>> [(f.kind, f.name) for f in discover(Path("docs/figures/claims"))][:2]
[('claims', 'a'), ('claims', 'b')]
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifactlab.errors import InputError

if TYPE_CHECKING:
    from artifactlab.web.report_model import Section

#: how many folder levels below DIR are searched by default
DEFAULT_DEPTH = 3
#: ``NAME_summary.json`` of the commands whose summaries the report reads
_SUMMARY = re.compile(
    r"^(?:(?P<reproduce>fig[23](?:-[a-z_]+)?)|claim-(?P<claims>[a-z])|(?P<other>compare|mitigate)"
    r"|(?P<interp>fit|double_descent))_summary\.json$"
)
#: the files of a result besides its summary (``STEM`` is the summary's stem)
_COMPANIONS = ("{}.csv", "{}.yaml", "{}.png", "{}_summary.txt", "{}_sweep.json", "{}")
#: the kinds of result, in the order the page shows them
RESULT_KINDS = ("reproduce", "claims", "compare", "mitigate", "sweep", "interp", "train")
#: the result file of ``interp hull --experiment`` (older folders have no hull_summary.json)
HULL_RATE = "hull_rate.csv"

#: ``progress(total, description)``: a context manager yielding ``advance(k)``
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class Found:
    """One recognised result: its kind, the folder holding it, its name and its path."""

    kind: str
    folder: Path
    name: str
    path: Path


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the files of a run folder written by ``train``."""
    from artifactlab.web.report_sections import RUN_FILES

    return all((folder / name).is_file() for name in RUN_FILES)


def is_store(folder: Path) -> bool:
    """Whether ``folder`` is a sweep's results store."""
    return (folder / "results.sqlite").is_file()


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as err:
        raise InputError(
            str(folder), f"cannot be read ({err.strerror or err})", "check its permissions"
        ) from None


def _summaries(folder: Path, entries: list[Path]) -> tuple[list[Found], set[str]]:
    from artifactlab.web.report_interp import FILES

    found, taken = [], set()
    for path in entries:
        match = _SUMMARY.match(path.name) if path.is_file() else None
        if match is None:
            continue
        stem = path.name.removesuffix("_summary.json")
        kind = next(k for k, v in match.groupdict().items() if v)
        kind = stem if kind == "other" else kind
        name = match.group("claims") or stem
        found.append(Found(kind, folder, name, path))
        taken |= {c.format(stem) for c in _COMPANIONS} | set(FILES.get(stem, ()))
    hull = folder / HULL_RATE
    if hull in entries and hull.is_file():
        found.append(Found("interp", folder, hull.stem, hull))
        taken |= set(FILES[hull.stem])
    return found, taken


def _is_table(path: Path) -> bool:
    from artifactlab.web.report_sweeps import is_sweep_header, table_rows

    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline().strip().split(",")
        return is_sweep_header(header)
    rows = table_rows(path) if path.suffix == ".parquet" else []
    return bool(rows) and is_sweep_header(list(rows[0]))


def _visit(folder: Path, level: int, depth: int, found: list[Found], stores: list[Path]) -> None:
    if is_run_folder(folder):
        found.append(Found("train", folder, folder.name, folder))
        return
    if is_store(folder):  # only DIR itself: a store below it is taken by its parent folder
        found.append(Found("sweep", folder.parent, folder.name, folder))
        stores.append(folder)
        return
    entries = [e for e in _entries(folder) if not e.name.startswith(".")]
    results, taken = _summaries(folder, entries)
    found += results
    for sub in (e for e in entries if e.is_dir() and not e.is_symlink() and is_store(e)):
        stores.append(sub)
        if sub.name not in taken:
            found.append(Found("sweep", folder, sub.name, sub))
            taken |= {f"{sub.name}.csv", f"{sub.name}.parquet", f"{sub.name}.yaml"}
    for path in entries:
        if path.is_file() and path.suffix in (".csv", ".parquet") and path.name not in taken:
            if _is_table(path):
                found.append(Found("sweep", folder, path.name, path))
    if level < depth:
        for sub in entries:
            if sub.is_dir() and not sub.is_symlink() and not is_store(sub):
                _visit(sub, level + 1, depth, found, stores)


def walk(root: Path, depth: int = DEFAULT_DEPTH) -> tuple[list[Found], list[Path]]:
    """The results in ``root`` and up to ``depth`` folder levels below it, and its stores.

    Results come in walk order; every results store found is listed too (each is
    format-checked before a report is built).
    """
    found: list[Found] = []
    stores: list[Path] = []
    _visit(Path(root), 0, depth, found, stores)
    return found, stores


def discover(root: Path, depth: int = DEFAULT_DEPTH) -> list[Found]:
    """Every result in ``root`` and up to ``depth`` folder levels below it, in walk order."""
    return walk(root, depth)[0]


def check_store(folder: Path) -> None:
    """Open a results store read-only: InputError when it is damaged or of an unknown format."""
    from artifactlab.experiments.store import ResultsStore

    store = ResultsStore.read(folder)
    if store is not None:
        store.close()


# --- sections ---------------------------------------------------------------------------


def _section_id(found: Found, root: Path, used: set[str]) -> str:
    from artifactlab.web.report_model import slug

    folder = found.path if found.kind in ("train", "sweep") else found.folder
    rel = folder.relative_to(root).parts if folder != root else ()
    parts: list[str] = []
    for part in (found.kind, *rel, found.name):
        if not parts or (part != parts[-1] and part != found.kind):
            parts.append(part)
    base = slug("-".join(parts))
    sid, i = base, 2
    while sid in used:
        sid, i = f"{base}-{i}", i + 1
    used.add(sid)
    return sid


def result_label(found: Found, root: Path) -> str:
    """A result's path relative to ``root``, without ``_summary.json`` (``large/fig2``)."""
    path = found.folder if found.kind == "interp" else found.path  # an --out folder
    if path.name.endswith("_summary.json"):
        stem = path.name.removesuffix("_summary.json")
        path = path.parent if stem in ("compare", "mitigate") else path.with_name(stem)
    if path == root:
        return root.resolve().name or str(root)
    return path.relative_to(root).as_posix()


def build_section(found: Found, sid: str) -> Section:
    """The :class:`~artifactlab.web.report_model.Section` of one found result."""
    from artifactlab.web import report_claims, report_interp, report_sweeps
    from artifactlab.web import report_sections as rs

    if found.kind == "train":
        return rs.train_section(found.path, sid)
    if found.kind == "reproduce":
        return rs.reproduce_section(found.folder, found.name, sid)
    if found.kind == "claims":
        return report_claims.claims_section(found.folder, found.name, sid)
    if found.kind == "compare":
        return report_sweeps.compare_section(found.folder, sid)
    if found.kind == "mitigate":
        return report_sweeps.mitigate_section(found.folder, sid)
    if found.kind == "interp":
        builders = {
            "fit": report_interp.fit_section,
            "hull_rate": report_interp.hull_section,
            "double_descent": report_interp.double_descent_section,
        }
        return builders[found.name](found.folder, sid)
    return report_sweeps.sweep_section(found.path, sid)


def machine() -> dict[str, str]:
    """The machine and software this report is built with (not the results' own)."""
    from artifactlab.provenance import provenance

    record = provenance()
    return {
        "package version": str(record["version"]),
        "git revision": str(record["git_revision"]),
        "python": str(record["python"]),
        "torch": str(record["torch"]),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "CPU cores": str(os.cpu_count()),
        "built": str(record["created"]),
    }


@contextmanager
def _no_progress(total: int, description: str) -> Iterator[Callable[[int], None]]:
    yield lambda k: None


def _check_paths(root: Path, out: Path, replace: bool) -> None:
    from artifactlab.io import check_folder_target

    if not root.exists():
        raise InputError(
            str(root),
            "does not exist",
            "pass a run folder, the --out folder of reproduce, claims, compare, mitigate or "
            "interp, a sweep's folder, or a folder holding several",
        )
    if not root.is_dir():
        raise InputError(str(root), "is not a folder", "pass the folder that holds the results")
    check_folder_target(out, replace)
    real_root, real_out = root.resolve(), out.resolve()
    if real_out == real_root or real_out in real_root.parents:
        raise InputError(str(out), "holds the results being reported", "choose another --out")


def no_results(root: Path, depth: int) -> InputError:
    """The error for a folder without any recognised result."""
    return InputError(
        f"no results found in {root}",
        f"searched it and {depth} folder levels below for run folders, sweep stores and "
        "tables, and the outputs of reproduce, claims, compare, mitigate and interp",
        "run train, sweep run, reproduce, claims, compare, mitigate or interp first",
    )


def collect(root: Path, depth: int, progress: Progress = _no_progress) -> list[Section]:
    """Discover the results in ``root`` and build their sections (InputError if there are none)."""
    found, stores = walk(root, depth)
    found.sort(key=lambda f: RESULT_KINDS.index(f.kind))  # stable: walk order within a kind
    if not found:
        raise no_results(root, depth)
    for store in stores:
        check_store(store)
    used: set[str] = set()
    sections = []
    with progress(len(found), "reading results") as advance:
        for one in found:
            section = build_section(one, _section_id(one, root, used))
            section.label = result_label(one, root)
            sections.append(section)
            advance(1)
    return sections


def build_report(
    root: Path,
    out: Path,
    explorer: bool = False,
    depth: int = DEFAULT_DEPTH,
    replace: bool = False,
    command: str | None = None,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Write ``OUT/index.html`` and ``OUT/figures/*.png`` for the results in ``root``.

    Parameters
    ----------
    root : Path
        A result folder, or a folder holding several.
    out : Path
        The report folder to create (absent or empty; non-empty only with ``replace``).
    explorer : bool
        Also write a tensor explorer page (:func:`artifactlab.web.explorer.write_explorer`)
        for every run folder of 3-token tuples, linked from its section.
    depth : int
        How many folder levels below ``root`` are searched.
    replace : bool
        Replace a non-empty ``out`` (``--overwrite``), once the new report is complete.
    command : str, optional
        The command line that builds the report, shown in its header.
    progress : callable
        ``progress(total, description)``, a context manager yielding ``advance(k)``.

    Returns
    -------
    dict
        ``out``, ``index``, ``sections`` (id, kind, title, path, figures), ``figures``
        and ``explorers`` (paths of the written files), and ``notes`` (shown in the page).

    Raises
    ------
    InputError
        ``root`` is missing or holds no results, a result file is unreadable or of an
        unknown format, or ``out`` cannot be written (nothing is left at ``out``).
    """
    from artifactlab.io import staged_folder
    from artifactlab.web.report_write import write_report

    root, out = Path(root), Path(out)
    _check_paths(root, out, replace)
    sections = collect(root, depth, progress)
    built = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    info = {
        "source": str(root),
        "depth": depth,
        "built": built,
        "command": command,
        "n_sections": len(sections),
        "notes": [],
    }
    with staged_folder(out, replace) as tmp:
        written = write_report(tmp, sections, info, machine(), explorer, progress)
    return {
        "out": str(out),
        "index": str(out / "index.html"),
        "sections": [
            {
                "id": s.id,
                "kind": s.kind,
                "title": s.title,
                "path": str(s.path),
                "figures": len(s.figures),
            }
            for s in sections
        ],
        "figures": [str(out / p) for p in written["figures"]],
        "explorers": [str(out / p) for p in written["explorers"]],
        "notes": info["notes"],
    }
