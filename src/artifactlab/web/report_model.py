"""What a section of the report holds, and the small readers and formatters its builders share.

A :class:`Section` is one recognised result: its verdict lines (read from the result's
summary, never computed here), figures, sortable tables, configuration, provenance and
the commands behind it. The builders in :mod:`artifactlab.web.report_sections` and
:mod:`artifactlab.web.report_sweeps` fill it from saved files only.

Example
-------
>>> number(1234.0).text, number(0.123456).text, number(None).text
('1,234', '0.1235', '')
>>> ci({"mean": 461.8, "ci_low": 449.09, "ci_high": 474.5}).text
'462 [449, 474]'
>>> slug("docs/figures/claims claim-a")
'docs-figures-claims-claim-a'
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.web.report_figures import Figure


@dataclass
class Cell:
    """One table cell: the text shown and the value it sorts by (a number where it is one)."""

    text: str
    value: float | str | None = None


@dataclass
class Table:
    """A sortable table: a title, column headers and rows of cells."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""


@dataclass
class Command:
    """A command behind a result, and how the report knows it (recorded, or rebuilt and checked)."""

    text: str
    how: str


@dataclass
class Section:
    """One recognised result of the report.

    Attributes
    ----------
    id : str
        The HTML anchor (unique in the page); figure ids start with it.
    kind : str
        ``train``, ``reproduce``, ``claims``, ``compare``, ``mitigate``, ``sweep`` or ``interp``.
    title : str
        The heading.
    path : Path
        The folder or file the result was read from.
    lines : list of str
        Plain lines under the heading (a claim's statement, a dataset, a rule).
    verdicts : list of str
        Verdict lines as the result's summary states them.
    figures, tables : list
        :class:`~artifactlab.web.report_figures.Figure` and :class:`Table` objects.
    settings : dict
        Configuration as key -> value text.
    config_text : str
        A recorded configuration file (a sweep file) shown as it is.
    provenance : dict
        Key -> value text from the result's own records.
    commands : list of Command
        The commands behind the result.
    links : list of (str, str)
        Label and relative URL (an explorer page).
    label : str
        The result's path relative to the reported folder (the nav's link text).
    """

    id: str
    kind: str
    title: str
    path: Path
    lines: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    config_text: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    label: str = ""


# --- formatting --------------------------------------------------------------------------


def slug(text: str) -> str:
    """``text`` as an HTML id and file name: letters, digits, ``-`` and ``_`` only."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-") or "result"


def to_float(value: Any) -> float | None:
    """A CSV cell or JSON value as a finite float, or None (empty, text, NaN, infinite)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def fmt(value: float) -> str:
    """Whole numbers with thousands separators, others to 4 significant digits."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def number(value: Any) -> Cell:
    """A numeric cell (empty when missing); a non-number is shown as text."""
    x = to_float(value)
    if x is None:
        return Cell(
            "" if value in (None, "") else str(value), None if value in (None, "") else str(value)
        )
    return Cell(fmt(x), x)


def text(value: Any) -> Cell:
    """A text cell."""
    return Cell("" if value is None else str(value), "" if value is None else str(value))


def rows_table(title: str, rows: list[dict[str, Any]], limit: int = 2000) -> Table:
    """Rows of a CSV file as a table (numbers sort by value): the first ``limit`` of them."""
    columns = list(rows[0]) if rows else []
    body = [
        [number(r.get(c)) if to_float(r.get(c)) is not None else text(r.get(c)) for c in columns]
        for r in rows[:limit]
    ]
    note = f"the first {limit} of {len(rows)} rows" if len(rows) > limit else ""
    return Table(title, columns, body, note)


def ci(m: dict | None) -> Cell:
    """``mean [low, high]`` of a 95% interval (three significant digits), sorted by the mean."""
    if not isinstance(m, dict) or to_float(m.get("mean")) is None:
        return Cell("n/a", None)
    parts = [to_float(m.get(k)) for k in ("mean", "ci_low", "ci_high")]
    shown = [("n/a" if p is None else f"{p:,.0f}" if abs(p) >= 1000 else f"{p:.3g}") for p in parts]
    return Cell(f"{shown[0]} [{shown[1]}, {shown[2]}]", parts[0])


def err_bars(ms: list[dict], clip: bool = False) -> tuple[list[float], list[float]]:
    """Error bar lengths below and above each mean of 95% intervals (clipped at 0 for counts)."""
    below, above = [], []
    for m in ms:
        mean, low, high = (to_float(m.get(k)) for k in ("mean", "ci_low", "ci_high"))
        if mean is None or low is None or high is None:
            below.append(float("nan"))
            above.append(float("nan"))
            continue
        below.append(mean - (max(low, 0.0) if clip else low))
        above.append(high - mean)
    return below, above


# --- reading -----------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    """A JSON file; InputError naming it when it is not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(
            str(path), f"is not valid JSON ({err})", "restore the result file"
        ) from None


def read_summary(path: Path, keys: tuple[str, ...]) -> dict:
    """A summary JSON object that has ``keys``; InputError naming the file otherwise."""
    data = read_json(path)
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing:
        raise InputError(
            str(path),
            f"is not a summary this artifactlab reads (no {', '.join(missing)})",
            "rebuild it with the command that wrote it",
        )
    return data


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file (a byte-order mark is dropped); ``[]`` for an empty file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(str(path), f"is not a readable CSV table ({err})") from None


def read_text(path: Path) -> str:
    """A text file's contents, or ``""`` when it is absent."""
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def check_version(recorded: object, source: Path | None) -> None:
    """Refuse a result written by an unknown artifactlab: a newer release, or no version at all.

    Every result records the package version that wrote it; a later release may write a
    format this one cannot read, so such a file is refused rather than misread.
    """
    from packaging.version import InvalidVersion, Version

    from artifactlab import __version__

    if recorded in (None, "") or source is None:
        return
    try:
        newer = Version(str(recorded)) > Version(__version__)
    except InvalidVersion:
        raise InputError(
            str(source), f"records an unknown artifactlab version {str(recorded)!r}",
            "rebuild the result with the command that wrote it",
        ) from None  # fmt: skip
    if newer:
        raise InputError(
            str(source),
            f"was written by artifactlab {recorded}, newer than this one ({__version__}), in a "
            "format this version may not read",
            "upgrade artifactlab to report on it",
        )


def row_provenance(rows: list[dict[str, Any]], source: Path | None = None) -> dict[str, str]:
    """Package versions, git revisions and seeds as the rows of a results table record them.

    A version newer than this package's is refused (:func:`check_version`, naming ``source``).
    """
    for version in {r.get("version") for r in rows}:
        check_version(version, source)
    out = {}
    for key, label in (("version", "package version"), ("git_revision", "git revision")):
        values = sorted({str(r[key]) for r in rows if r.get(key) not in (None, "")})
        if values:
            out[f"{label} (trials)"] = ", ".join(values)
    seeds = sorted({int(s) for r in rows if (s := to_float(r.get("seed"))) is not None})
    if seeds:
        out["seeds"] = ", ".join(map(str, seeds))
    out["trials"] = str(len(rows))
    return out


def recorded_provenance(record: dict | None, source: Path | None = None) -> dict[str, str]:
    """A ``provenance`` record (version, git revision, python, torch, created) as labelled text.

    A version newer than this package's is refused (:func:`check_version`, naming ``source``).
    """
    if not isinstance(record, dict):
        return {}
    check_version(record.get("version"), source)
    labels = {
        "version": "package version",
        "git_revision": "git revision",
        "python": "python",
        "torch": "torch",
        "created": "created",
    }
    return {labels.get(k, k): str(v) for k, v in record.items() if v is not None}
