"""What every benchmark script does at the end: write its result record as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def write_result(out: Path, result: dict, started: float) -> None:
    """Write ``result`` (plus the total time and load) to ``out`` and say so on stderr."""
    import os

    result = {**result, "total_seconds": time.perf_counter() - started,
              "load_average_at_end": os.getloadavg()}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s in all)", file=sys.stderr)
