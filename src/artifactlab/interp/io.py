r"""Reading numeric tables (points, x/y pairs) with one-line errors naming file and line.

Example
-------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "xy.csv"
>>> _ = path.write_text("x,y\n0,1\n1,2.5\n")
>>> read_numeric_csv(path, ncols=2).tolist()
[[0.0, 1.0], [1.0, 2.5]]
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from artifactlab.errors import InputError
from artifactlab.io import read_lines

_BLANKS = " \t\r\f\v"


def read_numeric_csv(path: str | Path, ncols: int | None = None, min_rows: int = 1) -> np.ndarray:
    """Read a comma- (or whitespace-) separated table of finite numbers, shape (rows, cols).

    A first line that is not numeric is taken as a header; ``#`` lines and blank
    lines are skipped. Every row must have the same number of columns (``ncols``
    when given).

    Raises
    ------
    InputError
        Missing file, no rows, a non-numeric, missing or non-finite value, a row of
        the wrong width, or fewer than ``min_rows`` rows; the message names file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file", "check the path")
    rows: list[list[float]] = []
    width = ncols
    first = True
    text = path.read_text(encoding="utf-8", errors="replace")
    for lineno, raw in enumerate(read_lines(text), 1):  # no BOM; lines end at a line feed
        line = raw.strip(_BLANKS)
        if not line or line.startswith("#"):
            continue
        cells = line.split(",") if "," in line else re.split(r"[ \t\f\v\r]+", line)
        fields = [f.strip(_BLANKS) for f in cells]
        header_allowed, first = first, False
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if header_allowed and all(fields):
                continue  # a header line
            bad = next(f for f in fields if not _is_number(f))
            problem = f"value {bad!r} is not a number" if bad else "has a missing value"
            raise InputError(f"{path}:{lineno}", problem) from None
        if any(not math.isfinite(v) for v in values):
            raise InputError(f"{path}:{lineno}", "has a non-finite value (nan or inf)")
        if width is None:
            width = len(values)
        if len(values) != width:
            raise InputError(f"{path}:{lineno}", f"has {len(values)} values, expected {width}")
        rows.append(values)
    if len(rows) < min_rows:
        raise InputError(str(path), f"holds {len(rows)} data rows, need at least {min_rows}")
    return np.asarray(rows, dtype=float)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
