"""What the benchmark scripts share: run options, and writing the result record as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def add_run_options(parser: argparse.ArgumentParser, name: str) -> None:
    """``--threads``, ``--repeat`` (interleaved runs, best time kept) and ``--out``."""
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each; best time")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / f"artifactlab_{name}.json",
        help="results JSON (default: in the system temp folder)",
    )


def write_result(out: Path, result: dict, started: float) -> None:
    """Write ``result`` (plus the total time and load) to ``out`` and say so on stderr."""
    import os

    result = {**result, "total_seconds": time.perf_counter() - started,
              "load_average_at_end": os.getloadavg()}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s in all)", file=sys.stderr)
