"""What runs one unit of a sweep (a batch of trials), on any backend, and the in-flight bound.

:func:`execute_unit` is what a worker calls (in this process, a spawned process or a Ray
task); :func:`bounded` keeps at most ``workers`` units in flight for the process and Ray
backends. Both backends import this module; neither imports the other.

Example
-------
>>> from artifactlab.experiments.registry import TRIAL_KINDS
>>> kind = TRIAL_KINDS["toy-artifacts"]
>>> out = execute_unit(kind.name, [kind.validate(kind.example)])
>>> out[0]["ok"], sorted(out[0]["metrics"])[:2]
(True, ['max_kl', 'mean_kl'])
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from artifactlab.experiments.sweep_file import Trial


@dataclass(frozen=True)
class Unit:
    """One batch to run: every config of the batch, and which of its trials to record."""

    kind: str
    configs: list[dict]
    trials: list[Trial]
    pending: list[bool]


def execute_unit(kind: str, configs: list[dict]) -> list[dict[str, Any]]:
    """Run one batch in this process with one torch thread; never raises.

    Returns
    -------
    list of dict
        Per config: ``{"ok": True, "metrics", "timings", "files"}`` or
        ``{"ok": False, "error": traceback text}``.
    """
    import torch

    from artifactlab.experiments.registry import TRIAL_KINDS

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread each, the same arithmetic everywhere
    try:
        outputs = TRIAL_KINDS[kind].run_group(configs)
        return [{"ok": out.error is None, **out.__dict__} for out in outputs]
    except Exception:  # noqa: BLE001 - a failing trial is reported, the sweep goes on
        error = traceback.format_exc()
        return [{"ok": False, "error": error} for _ in configs]
    finally:
        torch.set_num_threads(threads)


def bounded(
    n_units: int,
    workers: int,
    stop: Callable[[], bool],
    submit: Callable[[int], Any],
    finished: Callable[[list[Any]], list[tuple[Any, list[dict]]]],
    in_flight: dict[Any, int],
) -> Iterator[tuple[str, int, list[dict] | None]]:
    """Keep at most ``workers`` batches in flight; yield the runner's start and end events.

    ``submit(i)`` starts batch i and returns a handle; ``finished(handles)`` blocks until at
    least one handle is done and returns ``(handle, outcome)`` pairs. ``in_flight`` (handle ->
    batch) is the caller's, so it can cancel what still runs when it stops early.
    """
    queue = iter(range(n_units))
    while True:
        while len(in_flight) < workers and not stop():
            i = next(queue, None)
            if i is None:
                break
            yield "start", i, None
            in_flight[submit(i)] = i
        if not in_flight:
            return
        for handle, outcome in finished(list(in_flight)):
            yield "end", in_flight.pop(handle), outcome
