r"""Running a sweep's unfinished trials on a backend and recording them in its store.

The unit of work is one batch of the sweep (:attr:`Sweep.groups`): its trials are
trained together, so a batch is always run whole, and only its unfinished trials
are recorded. Batches are fixed by the sweep file, so a trial's numbers do not
depend on which backend ran it or on how often the sweep was interrupted.

Backends: ``local`` (this process), ``processes`` (a pool of single-threaded
worker processes) and ``ray`` (Ray tasks; the driver writes every result).

Example
-------
>>> import pathlib, tempfile
>>> from artifactlab.experiments.store import ResultsStore
>>> from artifactlab.experiments.sweep_file import load_sweep
>>> path = pathlib.Path(tempfile.mkdtemp()) / "s.yaml"
>>> _ = path.write_text("trial: toy-artifacts\nbase: {data: {V: 6, N: 8}, "
...                     "model: {d_model: 8, n_heads: 2}, train: {max_steps: 10}}\nseeds: 2\n")
>>> sweep = load_sweep(path)
>>> with ResultsStore.open(sweep.default_store) as store:
...     first = run_sweep(sweep, store)
...     again = run_sweep(sweep, store)
>>> first.ran, first.done, again.ran, again.skipped
(2, 2, 0, 2)
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from artifactlab.errors import InputError
from artifactlab.experiments.executors import Unit, bounded, die_with_parent, execute_unit
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import Sweep, Trial

BACKENDS = ("local", "processes", "ray")

#: ``on_event(event, trials, error)``: event "plan" (once, the trials this run will do),
#: then "start", "done" or "failed" as they happen
EventFn = Callable[[str, list[Trial], str | None], None]


@dataclass
class SweepSummary:
    """What a run did: trials in the sweep, skipped (already done), ran, done and failed now."""

    total: int
    skipped: int = 0
    ran: int = 0
    done: int = 0
    failed: int = 0
    stopped_early: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dict(self.__dict__)


class TrialsFailedError(RuntimeError):
    """Some trials of a sweep failed (not bad input: the command exits with code 1)."""

    def __init__(self, name: str, summary: SweepSummary) -> None:
        self.summary = summary
        first = summary.failures[0]
        super().__init__(
            f"{summary.failed} trial(s) of {name} failed; first: trial {first['index']} "
            f"{first['params']}: {first['error']}"
        )


def pending_units(sweep: Sweep, store: ResultsStore) -> tuple[list[Unit], int]:
    """The batches that still have unfinished trials, and how many trials are already done."""
    status = store.statuses()
    units, skipped = [], 0
    for group in sweep.groups:
        trials = [sweep.trials[i] for i in group]
        pending = [status.get(t.hash) != "done" for t in trials]
        skipped += pending.count(False)
        if any(pending):
            configs = [t.config for t in trials]
            units.append(Unit(sweep.kind.name, configs, trials, pending))
    return units, skipped


def run_sweep(
    sweep: Sweep,
    store: ResultsStore,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    fail_fast: bool = False,
    on_event: EventFn | None = None,
) -> SweepSummary:
    """Run every unfinished trial of ``sweep`` and record it in ``store``.

    Parameters
    ----------
    sweep : Sweep
        The expanded sweep file.
    store : ResultsStore
        Its results store, opened for writing.
    backend : {"local", "processes", "ray"}
        Where batches run.
    workers : int
        Batches in flight at once (``processes`` and ``ray``).
    address : str, optional
        Address of an existing Ray cluster; default starts a local Ray instance.
    fail_fast : bool
        Stop starting batches after the first failed trial.
    on_event : callable, optional
        Progress callback, see :data:`EventFn`.

    Returns
    -------
    SweepSummary
    """
    if backend not in BACKENDS:
        raise InputError(
            "--backend", f"unknown backend {backend!r}", f"choose {', '.join(BACKENDS)}"
        )
    if workers < 1:
        raise InputError("--workers", f"must be >= 1, got {workers}")
    units, skipped = pending_units(sweep, store)
    summary = SweepSummary(total=len(sweep.trials), skipped=skipped)
    notify = on_event or (lambda *_: None)
    notify("plan", [t for u in units for t, p in zip(u.trials, u.pending, strict=True) if p], None)
    executors = {"local": _run_local, "processes": _run_processes, "ray": _run_ray}
    results = executors[backend](units, workers, address, lambda: summary.stopped_early)
    for unit, outcome in _started(units, results, store, notify):
        _record(unit, outcome, sweep, store, summary, notify)
        if fail_fast and summary.failed:
            summary.stopped_early = True
    return summary


def _started(
    units: list[Unit],
    results: Iterator[tuple[int, list[dict]]],
    store: ResultsStore,
    notify: EventFn,
) -> Iterator[tuple[Unit, list[dict]]]:
    """Mark each batch's pending trials running as the executor starts it; yield finished ones."""
    for event, index, outcome in results:
        unit = units[index]
        if event == "start":
            for trial, pending in zip(unit.trials, unit.pending, strict=True):
                if pending:
                    store.mark_running(
                        trial.hash, trial.index, trial.config, trial.config.get("seed")
                    )
            notify("start", [t for t, p in zip(unit.trials, unit.pending, strict=True) if p], None)
        else:
            yield unit, outcome


def _record(
    unit: Unit,
    outcome: list[dict],
    sweep: Sweep,
    store: ResultsStore,
    summary: SweepSummary,
    notify: EventFn,
) -> None:
    for trial, pending, result in zip(unit.trials, unit.pending, outcome, strict=True):
        if not pending:
            continue
        summary.ran += 1
        if result["ok"]:
            metrics = _select(result["metrics"], sweep.metrics)
            store.record_done(trial.hash, metrics, result["timings"], result["files"])
            summary.done += 1
            notify("done", [trial], None)
        else:
            store.record_failed(trial.hash, result["error"])
            summary.failed += 1
            first = _first_error_line(result["error"])
            summary.failures.append({"index": trial.index, "params": trial.params, "error": first})
            notify("failed", [trial], first)


def _select(metrics: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    if wanted is None:
        return metrics
    return {k: v for k, v in metrics.items() if k in wanted or k.split("@")[0] in wanted}


def _first_error_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


# --- executors: each yields ("start", i, None) when batch i starts, ("end", i, outcome) ------


def _run_local(units: list[Unit], workers: int, address: str | None, stop: Callable[[], bool]):
    for i, unit in enumerate(units):
        if stop():
            return
        yield "start", i, None
        yield "end", i, execute_unit(unit.kind, unit.configs)


def _run_processes(units: list[Unit], workers: int, address: str | None, stop: Callable[[], bool]):
    ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads can hang

    def finished(futures: list[Future]) -> list[tuple[Future, list[dict]]]:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        return [(fut, _outcome(fut, len(units[pending[fut]].configs))) for fut in done]

    pending: dict[Future, int] = {}

    def pool() -> ProcessPoolExecutor:
        # each worker exits when this process dies, even by SIGKILL: no orphans left training
        return ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
        )

    pools = [pool()]

    def submit(i: int) -> Future:
        unit = units[i]
        try:
            return pools[-1].submit(execute_unit, unit.kind, unit.configs)
        except BrokenProcessPool:
            # a worker died and broke its pool: the batches in flight there fail (the next
            # run retries them), and this one and the rest go to a fresh pool
            pools.append(pool())
        return pools[-1].submit(execute_unit, unit.kind, unit.configs)

    try:
        yield from bounded(len(units), workers, stop, submit, finished, pending)
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _outcome(fut: Future, n: int) -> list[dict]:
    try:
        return fut.result()
    except Exception as err:  # noqa: BLE001 - a dead worker fails its own batch only
        return [{"ok": False, "error": f"worker process failed: {err!r}"}] * n


def _run_ray(units: list[Unit], workers: int, address: str | None, stop: Callable[[], bool]):
    from artifactlab.experiments.ray_backend import run_on_ray  # Ray is an optional extra

    yield from run_on_ray(units, workers, address, stop)
