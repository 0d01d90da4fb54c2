"""Wall time of the long shipped commands against their budgets, quiet and with one core busy.

Each command runs as a user runs it (the ``artifactlab`` script, default settings, a
fresh output folder), once on the machine as it is ("quiet") and once beside a busy-loop
process holding one core ("loaded"). The budgets are those the commands promise on 2
cores: ``mitigate`` on one dataset with all four methods within 20 minutes (``--quick``
within 3), and ``claims all`` within 20 minutes (``--quick`` within 3).

Example
-------
>>> row = budget_row("mitigate --data family", "quiet", {"wall_s": 70.0}, 1200)
>>> row["within_budget"], row["budget_s"]
(True, 1200)

Run::

    python benchmarks/time_budgets.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine, write_result  # noqa: E402
from threads import BusyCore, timed_run  # noqa: E402

#: (label, arguments after ``artifactlab``, budget in seconds); OUT is replaced per run
COMMANDS = (
    ("mitigate --data nations --quick", ["mitigate", "--data", "nations", "--quick"], 180),
    ("mitigate --data nations", ["mitigate", "--data", "nations"], 1200),
    ("claims all --quick", ["claims", "all", "--quick"], 180),
    ("claims all", ["claims", "all"], 1200),
)


def budget_row(command: str, condition: str, run: dict, budget: float) -> dict:
    """One measured run against its budget."""
    return {"command": command, "condition": condition, "wall_s": run["wall_s"],
            "budget_s": budget, "within_budget": run["wall_s"] <= budget}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated labels to run (default all)")
    parser.add_argument("--conditions", default="quiet,loaded")
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("artifactlab")))
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "time_budgets.json")
    args = parser.parse_args()
    started = time.perf_counter()
    chosen = [c for c in COMMANDS if not args.only or c[0] in args.only.split(",")]
    rows = []
    env = {k: v for k, v in os.environ.items() if k not in ("ARTIFACTLAB_THREADS",)}
    for condition in args.conditions.split(","):
        busy = BusyCore() if condition == "loaded" else None
        with busy if busy is not None else contextlib.nullcontext():
            for label, argv, budget in chosen:
                with tempfile.TemporaryDirectory(prefix="artifactlab_budget_") as tmp:
                    cmd = [args.cli, *argv, "--out", str(Path(tmp) / "out"), "--quiet"]
                    run = timed_run(cmd, env, timeout=2 * budget)
                rows.append(budget_row(label, condition, run, budget) | {"run": run})
                print(f"{condition:6} {run['wall_s']:8.1f} s (budget {budget} s)  {label}",
                      file=sys.stderr, flush=True)  # fmt: skip
    info = machine() | {"usable_cores": len(os.sched_getaffinity(0))}
    write_result(args.out, {"benchmark": "time_budgets", "machine": info, "rows": rows}, started)


if __name__ == "__main__":
    main()
