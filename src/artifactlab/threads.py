"""The thread policy in one place: one compute thread per process, parallelism across blocks.

The models here are small: a torch op on a (4096, 64) block takes microseconds, and an
OpenMP team of several threads pays a barrier at the end of every op. On a busy
machine one of those threads is often descheduled, and every op waits for it
(``benchmarks/threads.py`` measures the cost on whole commands).
So a process runs torch and the BLAS of numpy / scipy on one thread by default, and
code with a lot of independent work (the completion tensor's blocks) runs a few
Python worker threads instead, each with one intra-op thread, pulling blocks from a
shared queue (:func:`artifactlab.tensor.completion.evaluate_completion`).

The setting is resolved from, first to last: the ``threads`` argument (the CLI's
``--threads``), ``ARTIFACTLAB_THREADS``, ``OMP_NUM_THREADS``, then 1. ``0`` means
"leave the libraries' own defaults" (torch: one thread per core), the behaviour before
this policy, kept as an escape hatch and for benchmarks.

Example
-------
>>> resolve_threads(3, env={})
3
>>> resolve_threads(None, env={"ARTIFACTLAB_THREADS": "2", "OMP_NUM_THREADS": "4"})
2
>>> resolve_threads(None, env={"OMP_NUM_THREADS": "4"})
4
>>> resolve_threads(None, env={})
1
>>> usable_cores() >= 1
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from artifactlab.errors import InputError

#: environment variable that overrides the default thread count (``0``: libraries' defaults)
ENV_VAR = "ARTIFACTLAB_THREADS"
#: threads per process unless told otherwise
DEFAULT_THREADS = 1
#: the variables that libraries loaded later (OpenBLAS, MKL, OpenMP) read at load time
_LIBRARY_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and ``taskset`` set).

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where the platform has it, else ``os.cpu_count()``.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _parse(value: str, source: str) -> int:
    try:
        threads = int(value)
    except ValueError:
        threads = -1
    if threads < 0:
        raise InputError(
            source,
            f"expected a whole number of threads >= 0, got {value!r}",
            "use 1 (the default), a small count, or 0 for the libraries' defaults",
        )
    return threads


def resolve_threads(threads: int | None = None, env: Mapping[str, str] | None = None) -> int:
    """The thread count to use: ``threads``, else the environment, else :data:`DEFAULT_THREADS`.

    Parameters
    ----------
    threads : int, optional
        An explicit count (the CLI's ``--threads``); ``0`` means the libraries' defaults.
    env : mapping, optional
        Environment to read ``ARTIFACTLAB_THREADS`` and ``OMP_NUM_THREADS`` from
        (default ``os.environ``).

    Returns
    -------
    int
        Threads per process, ``>= 0``.

    Raises
    ------
    InputError
        When the count is negative or not a whole number.
    """
    if threads is not None:
        return _parse(str(threads), "--threads")
    env = os.environ if env is None else env
    for name in (ENV_VAR, "OMP_NUM_THREADS"):
        if env.get(name, "").strip():
            return _parse(env[name].strip(), name)
    return DEFAULT_THREADS


def set_thread_environment(threads: int | None = None) -> int:
    """Set the thread variables that torch, OpenMP and the BLAS libraries read when they load.

    Imports nothing: the CLI calls it before any command imports numpy or torch, so the
    libraries start with the right count (and child processes inherit it).

    Returns
    -------
    int
        The count set (``0``: nothing changed, the libraries keep their own defaults).
    """
    n = resolve_threads(threads)
    if n:
        for name in _LIBRARY_VARS:
            os.environ[name] = str(n)
    return n


def configure_threads(threads: int | None = None) -> int:
    """Set this process's torch intra-op threads and BLAS threads (see the module docstring).

    Call once at start-up, before any heavy work. Imports torch, numpy and
    threadpoolctl inside the call, so importing this module stays cheap.

    Parameters
    ----------
    threads : int, optional
        Explicit count; default from :func:`resolve_threads` (usually 1). ``0`` leaves
        the libraries' own defaults untouched.

    Returns
    -------
    int
        The count applied (``0``: nothing changed).
    """
    n = set_thread_environment(threads)  # for libraries loaded later, and for child processes
    if n == 0:
        return 0
    import numpy  # noqa: F401  (load numpy's BLAS so threadpoolctl can limit it now)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    threadpool_limits(limits=n)  # every BLAS / OpenMP library loaded so far
    return n
