"""What runs one unit of a sweep (a batch of trials), on any backend, and the in-flight bound.

:func:`execute_unit` is what a worker calls (in this process, a spawned process or a Ray
task); :func:`bounded` keeps at most ``workers`` units in flight for the process and Ray
backends; :func:`die_with_parent` is the initializer that makes a worker process exit
when the process that started it dies (killed, even with SIGKILL). Both backends import
this module; neither imports the other.

Example
-------
>>> from artifactlab.experiments.registry import TRIAL_KINDS
>>> kind = TRIAL_KINDS["toy-artifacts"]
>>> out = execute_unit(kind.name, [kind.validate(kind.example)])
>>> out[0]["ok"], "n_train" in out[0]["metrics"]
(True, True)
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from artifactlab.experiments.sweep_file import Trial

#: seconds between two looks at the parent process, where the kernel cannot watch it for us
PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


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


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit as soon as the process ``parent_pid`` is gone.

    A worker whose parent was killed would otherwise train on, then block writing its
    result to a pipe nobody reads, for ever. On Linux the kernel sends the worker SIGKILL
    when its parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere, a daemon thread
    checks the parent every :data:`PARENT_POLL_SECONDS` and ends the process when the
    worker has been handed to another parent.

    Parameters
    ----------
    parent_pid : int
        The pid of the process that starts the workers (its ``os.getpid()``).
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no usable libc: the thread below still watches
            pass
    # the parent may have died before prctl took effect: then nobody will signal us
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="die-with-parent", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)  # no cleanup: the results have nowhere to go
