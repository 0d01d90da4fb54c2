"""BENCHMARKS.md blocks of the newer benchmark records: time budgets, estimator, corpus index.

Each renderer reads one JSON record under ``docs/benchmarks/`` and formats it; numbers
are never typed into BENCHMARKS.md by hand.

Example
-------
>>> rows = [{"command": "x", "condition": "quiet", "wall_s": 61.0, "budget_s": 180,
...          "within_budget": True}]
>>> print(budget_table(rows))
| command | machine | wall time | budget | within |
|---|---|---|---|---|
| `artifactlab x` | quiet | 1 min 01 s | 3 min 00 s | yes |
"""

from __future__ import annotations

from pathlib import Path

from artifactlab.report.docs import read_json, renderer, table


def minutes(seconds: float) -> str:
    """``1 min 01 s`` (or ``42 s`` under a minute)."""
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def budget_table(rows: list[dict]) -> str:
    """One row per command and condition: wall time against the budget."""
    body = [
        [f"`artifactlab {r['command']}`", r["condition"] + (" (one core busy)" if
         r["condition"] == "loaded" else ""), minutes(r["wall_s"]), minutes(r["budget_s"]),
         "yes" if r["within_budget"] else "**no**"]
        for r in rows
    ]  # fmt: skip
    return table(["command", "machine", "wall time", "budget", "within"], body)


@renderer("bench-budgets")
def bench_budgets(root: str | Path, path: str) -> str:
    """The time-budget table of ``benchmarks/time_budgets.py``."""
    return budget_table(read_json(Path(root) / path)["rows"])
