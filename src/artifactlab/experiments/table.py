"""A sweep's results as one tidy table (one row per finished trial) and its status counts.

Columns: ``trial`` (position in the sweep), ``hash``, the trial's config flattened to
dotted keys (``seed``, ``data.N``, ``model.d_model``, ...), its metrics, its timings
(seconds), then ``attempts``, ``version`` and ``git_revision``. Only trials of the
current sweep file are listed: a store may hold trials of earlier versions of it.

Example
-------
>>> flatten({"seed": 0, "data": {"V": 8, "ranges": None}, "eval": {"taus": [0.5]}})
{'seed': 0, 'data.V': 8, 'data.ranges': None, 'eval.taus': '[0.5]'}
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import Sweep
from artifactlab.io import write_bytes

FORMATS = ("csv", "parquet")


def flatten(config: dict, prefix: str = "") -> dict[str, Any]:
    """Nested config -> dotted keys; lists become JSON text so every cell is a scalar."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = json.dumps(value) if isinstance(value, list) else value
    return out


def sweep_rows(sweep: Sweep, store: ResultsStore | None) -> list[dict[str, Any]]:
    """One row per finished trial of ``sweep``, in sweep order."""
    if store is None:
        return []
    by_hash = {row["hash"]: row for row in store.rows(status="done")}
    rows = []
    for trial in sweep.trials:
        row = by_hash.get(trial.hash)
        if row is None:
            continue
        rows.append(
            {
                "trial": trial.index,
                "hash": trial.hash,
                **flatten(trial.config),
                **row["metrics"],
                **(row["timings"] or {}),
                "attempts": row["attempts"],
                "version": row["version"],
                "git_revision": row["git_revision"],
            }
        )
    return rows


def sweep_status(sweep: Sweep, store: ResultsStore | None) -> dict[str, Any]:
    """Counts of the sweep's trials by state, and the failed ones' first error lines.

    ``running`` counts trials marked running: running now, or left by a killed run
    (the next ``sweep run`` redoes them). ``pending`` trials have never started.
    """
    rows = {row["hash"]: row for row in store.rows()} if store is not None else {}
    counts = Counter(rows[t.hash]["status"] if t.hash in rows else "pending" for t in sweep.trials)
    failed = [
        {
            "trial": t.index,
            "params": t.params,
            "error": (rows[t.hash]["error"] or "").strip().splitlines()[-1:],
        }
        for t in sweep.trials
        if t.hash in rows and rows[t.hash]["status"] == "failed"
    ]
    return {
        "sweep": sweep.name,
        "total": len(sweep.trials),
        **{k: counts.get(k, 0) for k in ("done", "failed", "running", "pending")},
        "failed_trials": failed,
    }


def write_table(rows: list[dict[str, Any]], fmt: str, out: Path | None) -> bytes | None:
    """Write rows as CSV or Parquet to ``out`` (atomically); with no ``out``, return the bytes."""
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown format {fmt!r}", f"choose {' or '.join(FORMATS)}")
    data = _csv_bytes(rows) if fmt == "csv" else _parquet_bytes(rows)
    if out is None:
        return data
    write_bytes(out, data)
    return None


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    if not rows:
        return b""  # no finished trials: no columns to name either
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(rows), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "--format parquet",
            "pyarrow is not installed",
            'install it with pip install "artifactlab[parquet]", or use --format csv',
        ) from None
    columns = _columns(rows)
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
