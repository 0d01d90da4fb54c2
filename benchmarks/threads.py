"""Whole CLI commands under each thread setting, on a quiet machine and with one core busy.

Each command runs as a user runs it (a subprocess of the ``artifactlab`` script) under
the default configuration and under each explicit setting (``ARTIFACTLAB_THREADS`` and
``OMP_NUM_THREADS`` both set): ``0`` means the libraries' own defaults (torch: one
thread per core), the behaviour before the one-thread policy; ``1`` and ``2`` are
explicit counts. "loaded" runs beside a busy-loop process (``python -c "while True:
pass"``) that holds one core. Settings are interleaved within each repeat (A B C A B C
...), so drifting machine load hits them alike; medians are reported with every run.
Wall time comes from ``time.perf_counter`` and user CPU from ``os.wait4``.

Example
-------
>>> ratio_row("artifacts", "quiet", {"default": [2.0, 2.2], "1": [2.0, 2.4], "2": [1.9]})
{'command': 'artifacts', 'condition': 'quiet', 'default_over_best': 1.105, 'within_1_25': True}

Run::

    python benchmarks/threads.py --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS_DIR, machine, source_provenance, write_result  # noqa: E402

#: variables each setting controls; removed for the default configuration
THREAD_VARS = ("ARTIFACTLAB_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CONDITIONS = ("quiet", "loaded")


def setting_env(setting: str) -> dict[str, str]:
    """The environment for one setting: ``default`` clears the thread variables."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if setting == "0":
        env["ARTIFACTLAB_THREADS"] = "0"  # the libraries' own defaults: the old behaviour
    elif setting != "default":
        env["ARTIFACTLAB_THREADS"] = env["OMP_NUM_THREADS"] = setting
    return env


def timed_run(argv: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run ``argv``; wall seconds, user and system CPU seconds (``os.wait4``), load at start."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen quiet
        if not killer.is_alive() and proc.returncode == -9:  # our timeout: record, go on
            return {"wall_s": round(wall, 3), "user_s": round(usage.ru_utime, 3),
                    "sys_s": round(usage.ru_stime, 3), "load1_at_start": round(load, 2),
                    "timed_out": True}  # fmt: skip
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-800:]
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{tail}")
    return {"wall_s": round(wall, 3), "user_s": round(usage.ru_utime, 3),
            "sys_s": round(usage.ru_stime, 3), "load1_at_start": round(load, 2)}  # fmt: skip


class BusyCore:
    """A busy-loop subprocess holding one core while the ``with`` block runs."""

    def __enter__(self) -> BusyCore:
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)  # let it reach the scheduler before the first measured run
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def commands(cli: str, work: Path, vocab: int) -> dict[str, Callable[[int], list[str]]]:
    """Prepare the inputs; name -> function of a run index giving that run's argv."""
    big, small, run = work / f"v{vocab}.tsv", work / "v64.tsv", work / f"run{vocab}"
    prep = [
        [cli, "make-data", "random", "--vocab", str(vocab), "--triples", "4096", "--out", big],
        [cli, "train", "--data", big, "--out", run, "--max-steps", "30", "--quiet"],
        [cli, "make-data", "random", "--vocab", "64", "--triples", "1024", "--out", small],
    ]
    for argv in prep:
        subprocess.run([str(a) for a in argv], check=True, stdout=subprocess.DEVNULL)
    return {
        f"artifacts RUN (V={vocab})": lambda i: [cli, "artifacts", str(run)],
        "train (V=64, 1024 triples, <= 200 steps)": lambda i: [
            cli,
            "train",
            "--data",
            str(small),
            "--out",
            str(work / f"train{i}"),
            "--max-steps",
            "200",
            "--quiet",
        ],  # fmt: skip
        "interp double-descent (100 samples, <= 400 features)": lambda i: [
            cli,
            "interp",
            "double-descent",
            "--out",
            str(work / f"dd{i}"),
            "--samples",
            "100",
            "--features-max",
            "400",
        ],  # fmt: skip
    }


def measure(cmds: dict, settings: list[str], repeat: int, timeout: float) -> list[dict]:
    """Every command x condition x setting, settings interleaved within each repeat."""
    runs: dict[tuple[str, str, str], list[dict]] = {}
    index = 0
    for condition in CONDITIONS:
        busy = BusyCore() if condition == "loaded" else None
        with busy if busy is not None else contextlib.nullcontext():
            for rep in range(repeat):
                order = settings[rep % len(settings) :] + settings[: rep % len(settings)]
                for name, argv_of in cmds.items():
                    for setting in order:
                        index += 1
                        run = timed_run(argv_of(index), setting_env(setting), timeout)
                        runs.setdefault((name, condition, setting), []).append(run)
                        print(f"{condition:6} {setting:7} {run['wall_s']:7.2f} s  {name}",
                              file=sys.stderr, flush=True)  # fmt: skip
    return [
        {
            "command": name,
            "condition": cond,
            "setting": setting,
            "median_wall_s": round(median(r["wall_s"] for r in rs), 3),
            "median_user_s": round(median(r["user_s"] for r in rs), 3),
            "runs": rs,
        }  # fmt: skip
        for (name, cond, setting), rs in runs.items()
    ]


def ratio_row(command: str, condition: str, walls: dict[str, list[float]]) -> dict:
    """Default's median wall time over the best setting's (default included)."""
    medians = {s: median(w) for s, w in walls.items()}
    ratio = medians["default"] / min(medians.values())
    return {"command": command, "condition": condition,
            "default_over_best": round(ratio, 3), "within_1_25": ratio <= 1.25}  # fmt: skip


def ratios(rows: list[dict]) -> list[dict]:
    """One ratio row per command and condition, plus the old default's time over the new."""
    out = []
    for key in dict.fromkeys((r["command"], r["condition"]) for r in rows):
        mine = {r["setting"]: r for r in rows if (r["command"], r["condition"]) == key}
        row = ratio_row(*key, {s: [x["wall_s"] for x in r["runs"]] for s, r in mine.items()})
        if "0" in mine:
            before = mine["0"]["median_wall_s"] / mine["default"]["median_wall_s"]
            row["old_default_over_new"] = round(before, 3)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each setting")
    parser.add_argument("--settings", default="default,0,1,2", help="comma-separated settings")
    parser.add_argument("--vocab", type=int, default=1024, help="V of the artifacts command")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run")
    parser.add_argument("--cli", default=str(Path(sys.executable).with_name("artifactlab")),
                        help="the artifactlab script to run")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "threads.json")
    args = parser.parse_args()
    started = time.perf_counter()
    source = subprocess.run(
        [sys.executable, "-c", "import artifactlab; print(artifactlab.__file__)"],
        capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="artifactlab_threads_") as tmp:
        cmds = commands(args.cli, Path(tmp), args.vocab)
        rows = measure(cmds, args.settings.split(","), args.repeat, args.timeout)
    info = machine() | {"usable_cores": len(os.sched_getaffinity(0))}
    result = {"benchmark": "threads", "machine": info, "provenance": source_provenance(),
              "artifactlab_imported_from": source, "PYTHONPATH": os.environ.get("PYTHONPATH"),
              "rows": rows, "ratios": ratios(rows)}  # fmt: skip
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
