"""A run folder's sampled artifact estimate with its batches in this process, a pool, or on Ray.

:func:`estimate_run` is :func:`~artifactlab.tensor.estimate.estimate_artifacts` for a run
folder, with the backends of ``sweep run``:

``local``
    Every batch in this process (exactly ``estimate_artifacts``).
``processes``
    A pool of ``workers`` spawned, single-threaded worker processes on this machine;
    each loads the run folder from its path once (:func:`run_batch` caches it) and
    exits when this process dies (:func:`~artifactlab.experiments.executors.die_with_parent`).
``ray``
    Ray tasks, at most ``workers`` in flight: without ``address`` on a local Ray started
    with ``workers`` CPUs (and stopped after), with one on that cluster, whose nodes need
    artifactlab installed but not the run folder: its files go to the workers through
    Ray's object store, once per worker.

What runs where: the caller checks the arguments, loads the run (for ``D`` and the
source's description) and keeps the whole reduction
(:func:`~artifactlab.tensor.estimate.reduce_batches`: rounds, intervals, the
target-rel-error stopping). A worker runs only :func:`run_batch`: ``(job, i, count)`` ->
batch ``i``'s per-context artifact counts, a pure function of the run's files (checked by
their sha256, :attr:`RunSpec.digest`), the source, seed, thresholds and logits batch. The
caller consumes the results in batch order, so the estimate is the same, bit for bit,
whatever the backend and the number of workers; a worker that crashes is retried on Ray
(the work is pure) and fails the estimate with the processes backend (:class:`BackendError`).
Workers count on one torch thread, as the local backend does, and load the model on their
process-wide device (``ARTIFACTLAB_DEVICE``, which spawned workers inherit): for the same
bits everywhere, give every worker the same kind of device.

Example
-------
>>> check_backend("processes", 2, None)
>>> check_backend("local", 2, None)
Traceback (most recent call last):
artifactlab.errors.InputError: --workers: only applies to --backend processes or ray ...
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from artifactlab.checks import at_least
from artifactlab.errors import InputError
from artifactlab.runs import _FILES as RUN_FILES
from artifactlab.runs import Run, load_run
from artifactlab.tensor.context_sources import make_source
from artifactlab.tensor.data_tensor import DataTensor
from artifactlab.tensor.estimate import (
    ArtifactEstimate,
    BatchCounter,
    BatchRunner,
    check_estimate,
    estimate_artifacts,
    reduce_batches,
)
from artifactlab.threads import usable_cores

__all__ = [
    "ESTIMATE_BACKENDS",
    "BackendError",
    "BatchJob",
    "RunSpec",
    "check_backend",
    "estimate_run",
    "run_batch",
]

#: where an estimate's batches can run
ESTIMATE_BACKENDS = ("local", "processes", "ray")
#: a Ray worker that dies is retried this often (its batch is a pure function)
RAY_RETRIES = 3

Result = tuple[np.ndarray, np.ndarray | None]


class BackendError(RuntimeError):
    """A worker died or failed while counting a batch (not bad input: exit code 1)."""


@dataclass(frozen=True)
class RunSpec:
    """A run folder as a worker finds it: its path, the sha256 of its files, or the files.

    ``files`` (Ray) holds one object reference to the files' contents (name -> bytes),
    nested so that Ray does not fetch it for every task; without it a worker reads
    ``path``. Either way the worker refuses files whose digest is not ``digest``.
    """

    path: str
    digest: str
    files: tuple = field(default=(), compare=False)

    @classmethod
    def of(cls, path: str | Path) -> tuple[RunSpec, dict[str, bytes]]:
        """The spec of the run folder at ``path``, and its files' contents."""
        files = _read_files(Path(path))
        return cls(str(path), _digest(files)), files


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs besides the batch: the run, the source and the rule."""

    run: RunSpec
    source: str
    taus: tuple[float, ...]
    batch: int
    seed: int


def check_backend(backend: str, workers: int | None, address: str | None) -> None:
    """Refuse an unknown backend, a bad worker count, or an option the backend does not take.

    Raises
    ------
    InputError
        On ``--backend``, ``--workers`` or ``--address``.
    """
    if backend not in ESTIMATE_BACKENDS:
        raise InputError(
            "--backend", f"unknown backend {backend!r}", f"choose {', '.join(ESTIMATE_BACKENDS)}"
        )
    if workers is not None:
        at_least("--workers", workers, 1)
        if backend == "local":
            raise InputError(
                "--workers",
                "only applies to --backend processes or ray",
                "add --backend processes, or leave out --workers",
            )
    if address is not None and backend != "ray":
        raise InputError("--address", "only applies to --backend ray", "add --backend ray")


def estimate_run(
    run: str | Path | Run,
    taus: float | Sequence[float] = (0.5,),
    samples: int = 10_000,
    source: str = "uniform",
    seed: int = 0,
    target_rel_error: float | None = None,
    max_samples: int | None = None,
    batch: int | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
) -> ArtifactEstimate:
    """Estimate a run folder's artifacts from sampled contexts, on a backend.

    The same arguments give the same :class:`~artifactlab.tensor.estimate.ArtifactEstimate`
    on every backend and with any number of workers (the module docstring says why).

    Parameters
    ----------
    run : str, Path or Run
        The run folder (or it loaded: its ``path`` is what the workers load).
    taus, samples, source, seed, target_rel_error, max_samples, batch, progress
        As :func:`~artifactlab.tensor.estimate.estimate_artifacts` (no ``given`` source).
    confidence, n_boot : float, int
        Level of the intervals and bootstrap resamples.
    backend : {"local", "processes", "ray"}
        Where the batches run.
    workers : int, optional
        Batches in flight at once (``processes``, ``ray``); default: the usable cores,
        or the cluster's CPUs with ``address``.
    address : str, optional
        A Ray cluster to join (``ray``); default: start a local Ray for this estimate.

    Returns
    -------
    ArtifactEstimate

    Raises
    ------
    InputError
        A bad backend option, a bad run folder, Ray missing or unreachable, or any
        argument ``estimate_artifacts`` refuses.
    BackendError
        A worker failed or died (after Ray's retries).
    """
    check_backend(backend, workers, address)
    if not isinstance(run, Run):
        run = load_run(run)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    tau, target, cap, batch = check_estimate(
        D, taus, samples, seed, target_rel_error, max_samples, batch, confidence, n_boot
    )
    if backend == "local":
        return estimate_artifacts(
            run.model.next_token_fn(), D, tau, samples, source, seed, target_rel_error,
            max_samples, batch, progress, confidence=confidence, n_boot=n_boot,
        )  # fmt: skip
    # refused here, before any worker starts: an unknown source, the model source of a
    # factorization; and this copy describes the source to the reduction
    src = make_source(source, run.model.next_token_fn(), D, batch)
    spec, files = RunSpec.of(run.path)
    job = BatchJob(spec, source, tuple(tau), batch, seed)
    if backend == "processes":
        runner = _on_processes(job, workers)
    else:
        runner = _on_ray(job, files, workers, address)
    with runner as run_batches:
        return reduce_batches(
            run_batches, src, D, tau, samples, target, cap, seed, confidence, n_boot,
            progress,
        )  # fmt: skip


# --- what a worker runs ----------------------------------------------------------------

#: this process's loaded run: (run digest, source, taus, batch) -> its BatchCounter
_LOADED: dict[tuple, BatchCounter] = {}


def run_batch(job: BatchJob, index: int, count: int) -> Result:
    """Batch ``index`` of ``job``: its ``count`` contexts' artifact counts and weights.

    Loads the run once per process (the last job's run is kept) and then draws and
    counts as :class:`~artifactlab.tensor.estimate.BatchCounter` does: a pure function.
    """
    key = (job.run.digest, job.source, job.taus, job.batch)
    counter = _LOADED.get(key)
    if counter is None:
        _LOADED.clear()
        run = _load(job.run)
        D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
        counter = BatchCounter(run.model.next_token_fn(), D, job.source, list(job.taus), job.batch)
        _LOADED[key] = counter
    return counter(index, count, job.seed)


def _remote_batch(job: BatchJob, index: int, count: int) -> tuple:
    """:func:`run_batch` for a worker: bad input comes back as a value (it does not pickle)."""
    try:
        return ("ok", *run_batch(job, index, count))
    except InputError as err:
        return ("input", err.where, err.problem, err.hint)


def _unpack(outcome: tuple) -> Result:
    if outcome[0] == "input":
        raise InputError(*outcome[1:])
    return outcome[1], outcome[2]


def _load(spec: RunSpec) -> Run:
    if not spec.files:
        files = _read_files(Path(spec.path))
        _check_digest(spec, files)
        return load_run(spec.path)
    import ray

    files = ray.get(spec.files[0])
    _check_digest(spec, files)
    folder = Path(tempfile.mkdtemp(prefix="artifactlab-run-"))
    try:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        run = load_run(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Run(Path(spec.path), run.model, run.dataset, run.config)


def _read_files(path: Path) -> dict[str, bytes]:
    if not all((path / name).is_file() for name in RUN_FILES):
        load_run(path)  # raises the InputError that names what is missing
    return {name: (path / name).read_bytes() for name in RUN_FILES}


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{len(files[name])}\0".encode())
        h.update(files[name])
    return h.hexdigest()


def _check_digest(spec: RunSpec, files: dict[str, bytes]) -> None:
    if _digest(files) != spec.digest:
        raise InputError(
            spec.path,
            "the run folder's files changed while the estimate ran (or differ on this node)",
            "run the estimate again",
        )


# --- the backends: each a BatchRunner over its workers, in batch order -------------------


def _in_order(
    tasks: list[tuple[int, int]],
    workers: int,
    submit: Callable[[tuple[int, int]], Any],
    finished: Callable[[list[Any]], list[tuple[Any, tuple]]],
    cancel: Callable[[Any], None],
) -> Iterator[Result]:
    """At most ``workers`` tasks in flight (:func:`bounded`); their results in task order."""
    from artifactlab.experiments.executors import bounded

    in_flight: dict[Any, int] = {}
    done: dict[int, tuple] = {}
    following = 0

    def start(i: int) -> Any:
        return submit(tasks[i])

    events = bounded(len(tasks), workers, lambda: False, start, finished, in_flight)
    try:
        for event, i, outcome in events:
            if event == "end":
                done[i] = outcome
                while following in done:
                    yield _unpack(done.pop(following))
                    following += 1
    finally:
        for handle in in_flight:
            cancel(handle)


@contextmanager
def _on_processes(job: BatchJob, workers: int | None) -> Iterator[BatchRunner]:
    from artifactlab.experiments.executors import die_with_parent

    workers = workers or usable_cores()
    # spawn: fork after torch has started threads can hang; each worker exits with us
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    in_flight: dict[Future, int] = {}

    def submit(task: tuple[int, int]) -> Future:
        fut = pool.submit(_remote_batch, job, *task)
        in_flight[fut] = task[0]
        return fut

    def finished(futures: list[Future]) -> list[tuple[Future, tuple]]:
        ready, _ = wait(futures, return_when=FIRST_COMPLETED)
        return [(fut, _process_outcome(fut, in_flight.pop(fut))) for fut in ready]

    def run_batches(tasks: list[tuple[int, int]]) -> Iterator[Result]:
        return _in_order(tasks, workers, submit, finished, lambda fut: fut.cancel())

    try:
        yield run_batches
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _process_outcome(fut: Future, index: int) -> tuple:
    try:
        return fut.result()
    except BrokenProcessPool as err:
        raise BackendError(f"a worker process died while counting batch {index}: {err}") from None


@contextmanager
def _on_ray(
    job: BatchJob, files: dict[str, bytes], workers: int | None, address: str | None
) -> Iterator[BatchRunner]:
    from artifactlab.experiments.ray_backend import _init, _ray

    ray = _ray()
    started_here = not ray.is_initialized()
    if started_here:
        _init(ray, workers or usable_cores(), address)
    try:
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        job = replace(job, run=replace(job.run, files=(ray.put(files),)))
        task = ray.remote(num_cpus=1, max_retries=RAY_RETRIES)(_remote_batch)

        def finished(refs: list[Any]) -> list[tuple[Any, tuple]]:
            ready, _ = ray.wait(refs, num_returns=1)
            return [(ref, _ray_outcome(ray, ref)) for ref in ready]

        def run_batches(tasks: list[tuple[int, int]]) -> Iterator[Result]:
            return _in_order(
                tasks,
                workers,
                lambda t: task.remote(job, *t),
                finished,
                lambda ref: ray.cancel(ref, force=True),
            )

        yield run_batches
    finally:
        if started_here:
            ray.shutdown()


def _ray_outcome(ray: Any, ref: Any) -> tuple:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as err:
        text = str(err).strip()
        first = text.splitlines()[0] if text else type(err).__name__
        raise BackendError(f"a Ray task counting a batch failed: {first}") from None
