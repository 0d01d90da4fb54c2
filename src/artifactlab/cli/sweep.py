"""``artifactlab sweep run|status|export FILE``: declarative, resumable sweeps.

Example
-------
>>> sorted(c.name for c in sweep_app.registered_commands)
['export', 'run', 'status']
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artifactlab.cli.options import (
    Json,
    Overwrite,
    Quiet,
    emit,
    fresh_file,
    printable,
    user_errors,
    workers,
)
from artifactlab.cli.progress import sweep_progress
from artifactlab.errors import InputError

if TYPE_CHECKING:
    from artifactlab.experiments.sweep_file import Sweep

#: the default of ``--max-trials`` (the library's default, without importing it here)
MAX_TRIALS = 10_000

sweep_app = typer.Typer(
    help="Declarative sweeps: run a YAML sweep file, see its status, export its results.",
    no_args_is_help=True,
)


class Backend(StrEnum):
    """Where trials run."""

    local = "local"
    processes = "processes"
    ray = "ray"


class Format(StrEnum):
    """Table formats."""

    csv = "csv"
    parquet = "parquet"


SweepPath = Annotated[Path, typer.Argument(help="The sweep file (YAML).")]
StoreDir = Annotated[
    Path | None,
    typer.Option("--store", help="Results folder; default: next to FILE, named after it."),
]
MaxTrials = Annotated[
    int, typer.Option("--max-trials", help="Refuse sweeps that expand to more trials.")
]


def _load(path: Path, max_trials: int) -> Sweep:
    from artifactlab.checks import at_least
    from artifactlab.experiments.sweep_file import load_sweep

    return load_sweep(path, at_least("--max-trials", max_trials, 1))


@sweep_app.command("run")
@user_errors
def run_cmd(
    path: SweepPath,
    store_dir: StoreDir = None,
    backend: Annotated[Backend, typer.Option(help="Where trials run.")] = Backend.local,
    n_workers: Annotated[
        int, typer.Option("--workers", help="Batches in flight at once (processes, ray).")
    ] = 2,
    address: Annotated[
        str | None, typer.Option(help="Address of an existing Ray cluster (ray backend).")
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop after the first failed trial.")
    ] = False,
    max_trials: MaxTrials = MAX_TRIALS,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Run every unfinished trial of a sweep file; finished trials are kept (it resumes)."""
    from artifactlab.experiments.runner import run_sweep
    from artifactlab.experiments.store import ResultsStore

    sweep = _load(path, max_trials)
    workers(n_workers)
    if address is not None and backend is not Backend.ray:
        raise InputError("--address", "only applies to --backend ray", "add --backend ray")
    root = store_dir or sweep.default_store
    resumed = (root / "results.sqlite").is_file()
    with ResultsStore.open(root) as store, sweep_progress(sweep.name, quiet) as on_event:
        if resumed and not quiet:
            typer.echo(f"resuming {printable(root)}: finished trials are kept", err=True)
        summary = run_sweep(
            sweep, store, backend.value, n_workers, address, fail_fast, on_event=on_event
        )
    data = {"store": str(root), **summary.to_dict()}
    text = (
        f"{printable(sweep.name)}: {summary.done} done, {summary.failed} failed, "
        f"{summary.skipped} already done, of {summary.total} trials; results in {printable(root)}"
    )
    emit(data, as_json, text)
    if summary.failed:
        raise typer.Exit(1)


@sweep_app.command("status")
@user_errors
def status_cmd(
    path: SweepPath,
    store_dir: StoreDir = None,
    max_trials: MaxTrials = MAX_TRIALS,
    as_json: Json = False,
) -> None:
    """Count a sweep's trials: done, failed, running (or left by a killed run), pending."""
    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.table import sweep_status

    sweep = _load(path, max_trials)
    store = ResultsStore.read(store_dir or sweep.default_store)
    try:
        status = sweep_status(sweep, store)
    finally:
        if store is not None:
            store.close()
    lines = [
        f"{printable(status['sweep'])}: {status['total']} trials: {status['done']} done, "
        f"{status['failed']} failed, {status['running']} running or interrupted, "
        f"{status['pending']} pending"
    ]
    lines += [
        f"  trial {f['trial']} {printable(f['params'])}: {printable(' '.join(f['error']))}"
        for f in status["failed_trials"]
    ]
    emit(status, as_json, "\n".join(lines))


@sweep_app.command("export")
@user_errors
def export_cmd(
    path: SweepPath,
    fmt: Annotated[Format, typer.Option("--format", help="Table format.")] = Format.csv,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
    store_dir: StoreDir = None,
    max_trials: MaxTrials = MAX_TRIALS,
    overwrite: Overwrite = False,
) -> None:
    """Write the finished trials as one table (CSV or Parquet)."""
    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.table import sweep_rows, write_table

    sweep = _load(path, max_trials)
    if out is not None:
        fresh_file(out, overwrite)
    if out is None and fmt is Format.parquet and sys.stdout.isatty():
        raise InputError("--format parquet", "is binary", "add --out FILE.parquet")
    store = ResultsStore.read(store_dir or sweep.default_store)
    try:
        data = write_table(sweep_rows(sweep, store), fmt.value, out)
    finally:
        if store is not None:
            store.close()
    if data is not None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
