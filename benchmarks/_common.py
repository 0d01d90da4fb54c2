"""What the benchmark scripts share: run options, and writing the result record as JSON.

Every benchmark writes its record to ``docs/benchmarks/NAME.json`` by default; BENCHMARKS.md
is rendered from those files (``python -m artifactlab.report.docs --write BENCHMARKS.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

#: where the committed benchmark records live (BENCHMARKS.md is rendered from them)
RESULTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


def default_out(name: str) -> Path:
    """``docs/benchmarks/NAME.json`` in this checkout."""
    return RESULTS_DIR / f"{name}.json"


def add_out_option(parser: argparse.ArgumentParser, name: str) -> None:
    """``--out``, defaulting to ``docs/benchmarks/NAME.json``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=default_out(name),
        help=f"results JSON (default: docs/benchmarks/{name}.json)",
    )


def add_run_options(parser: argparse.ArgumentParser, name: str) -> None:
    """``--threads``, ``--repeat`` (interleaved runs, best time kept) and ``--out``."""
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each; best time")
    add_out_option(parser, name)


def command_line() -> str:
    """The command that ran this script, as typed (interpreter name, script, arguments)."""
    return " ".join([Path(sys.executable).name, *sys.argv])


def args_record(args: argparse.Namespace) -> dict:
    """The parsed options as JSON values."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def machine() -> dict:
    """CPU count and model, Python and torch versions, and the load average now."""
    import torch

    model = platform.processor()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        names = [ln.split(":", 1)[1] for ln in lscpu.splitlines() if ln.startswith("Model name:")]
        model = names[0].strip() if names else model
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def source_provenance() -> dict:
    """Package provenance plus whether the checkout had uncommitted changes."""
    from artifactlab.provenance import provenance

    record: dict = dict(provenance())
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        record["git_dirty"] = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        record["git_dirty"] = None
    return record


def write_result(out: Path, result: dict, started: float) -> None:
    """Write ``result`` (plus command, machine, provenance, total time and load) to ``out``.

    The file is written under a temporary name and renamed, so a failed write leaves the
    previous record in place.
    """
    record = {"command": command_line(), **result}
    record.setdefault("machine", machine())
    record |= {
        "provenance": source_provenance(),
        "total_seconds": time.perf_counter() - started,
        "load_average_at_end": os.getloadavg(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SystemExit(f"cannot write {out}: {exc.strerror}") from None
    print(f"\nwrote {out} ({record['total_seconds']:.0f} s in all)", file=sys.stderr)
