"""Progress bars for long work (Rich, on standard error so ``--json`` output stays clean).

:func:`progress_bar` counts steps; :func:`sweep_progress` counts a sweep's trials (done,
running, failed, time left) and prints each failure as one line; :func:`run_resumable`
runs a command's own sweep file with it (``compare``, ``mitigate``). Descriptions and
failure lines are user text (a sweep's name, its grid values, an error): they are
printed literally, with control characters escaped (:func:`~artifactlab.cli.options.printable`).

Example
-------
>>> with progress_bar(3, "counting", quiet=True) as advance:
...     for _ in range(3):
...         advance(1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from artifactlab.cli.options import LITERAL, printable

if TYPE_CHECKING:
    from artifactlab.experiments.sweep_file import Trial


@contextmanager
def progress_bar(
    total: int, description: str, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(k)``, which moves a bar of ``total`` steps (a no-op when ``quiet``)."""
    if quiet:
        yield lambda k: None
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(printable(description), total=total)
        yield lambda k: bar.advance(task, k)


def failure_line(trial: Trial, error: str | None) -> str:
    """One line for a failed trial: its position, hash, grid values and first error line.

    Control characters are escaped, so a multi-line error or a token holding an escape
    sequence stays on one line.
    """
    params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
    return printable(f"trial {trial.index} [{trial.hash}] failed ({params}): {error}")


@contextmanager
def sweep_progress(name: str, quiet: bool):
    """A progress bar of trials done / running / failed with time left; yields the event hook."""
    console = Console(stderr=True)
    state = {"running": 0, "failed": 0}

    if quiet:

        def quiet_event(event: str, trials: list[Trial], error: str | None) -> None:
            if event == "failed":
                console.print(failure_line(trials[0], error), **LITERAL)

        yield quiet_event
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("running {task.fields[running]}, failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(printable(name), total=None, running=0, failed=0)

        def on_event(event: str, trials: list[Trial], error: str | None) -> None:
            if event == "plan":
                bar.update(task, total=len(trials))
                return
            if event == "start":
                state["running"] += len(trials)
            else:
                state["running"] -= len(trials)
                state[event] = state.get(event, 0) + len(trials)
            if event == "failed":
                bar.console.print(failure_line(trials[0], error), **LITERAL)
            bar.update(task, advance=len(trials) if event != "start" else 0, **state)

        yield on_event


def run_resumable(out: Path, name: str, text: str, n_workers: int, quiet: bool) -> None:
    """Write ``OUT/NAME.yaml``, run it (store ``OUT/NAME/``, resumed), export ``OUT/NAME.csv``.

    The sweep text is loaded (every trial checked) in a scratch folder before anything
    is written. Failed trials end the command with one line each and exit code 1.
    """
    import typer

    from artifactlab.experiments.runner import TrialsFailedError, run_sweep
    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.sweep_file import load_sweep
    from artifactlab.experiments.table import sweep_rows, write_table
    from artifactlab.io import staged_files, write_text

    path = out / f"{name}.yaml"
    resumed = path.is_file()
    with staged_files(out) as scratch:  # nothing is written unless the sweep file loads
        load_sweep(write_text(scratch / path.name, text))
    sweep = load_sweep(path)
    backend = "processes" if n_workers > 1 else "local"
    if resumed and not quiet:
        typer.echo(f"resuming {printable(sweep.default_store)}: finished trials are kept", err=True)
    with ResultsStore.open(sweep.default_store) as store:
        with sweep_progress(name, quiet) as on_event:
            summary = run_sweep(sweep, store, backend, n_workers, on_event=on_event)
        write_table(sweep_rows(sweep, store), "csv", out / f"{name}.csv")
    if summary.failed:
        typer.echo(f"error: {printable(TrialsFailedError(name, summary))}", err=True)
        raise typer.Exit(1)
