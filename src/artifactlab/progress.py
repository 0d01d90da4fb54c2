"""Progress bars for long work (Rich, on standard error so ``--json`` output stays clean).

Example
-------
>>> with progress_bar(3, "counting", quiet=True) as advance:
...     for _ in range(3):
...         advance(1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress_bar(
    total: int, description: str, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(k)``, which moves a bar of ``total`` steps (a no-op when ``quiet``)."""
    if quiet:
        yield lambda k: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda k: bar.advance(task, k)
