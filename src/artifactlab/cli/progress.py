"""Progress bars for long work (Rich, on standard error so ``--json`` output stays clean).

:func:`progress_bar` counts steps; :func:`sweep_progress` counts a sweep's trials (done,
running, failed, time left) and prints each failure as one line. Descriptions and
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
