"""The estimate's batches on the local, processes and Ray backends: the same result, bit for bit.

The batches are seeded by their index and counted by a pure function; the caller reduces
them in batch order. So a run folder's estimate is the same on every backend and with
any number of workers: the estimate, its interval, ``n_samples`` and ``stopped``, with a
fixed budget and with target-rel-error stopping. The pool and Ray tests start real
workers (a Ray start takes about 6 s here, the whole Ray test 10 to 15 s), so the default
run keeps one of each; the other sources run with ``-m slow``.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from user_errors import assert_user_error

from artifactlab.errors import InputError
from artifactlab.runs import load_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor import estimate_backends as backends
from artifactlab.tensor.estimate import (
    SAMPLE_BATCH,
    BatchCounter,
    batch_rng,
    check_estimate,
    estimate_artifacts,
    reduce_batches,
)
from artifactlab.tensor.estimate_backends import (
    BackendError,
    BatchJob,
    RunSpec,
    check_backend,
    estimate_run,
    run_batch,
)

TAUS = (0.2, 0.5)
#: takes a few rounds and four batches on the tiny run (about 16,000 draws)
TARGET = {"samples": 100, "target_rel_error": 0.01, "max_samples": 100_000}


def loaded(run_dir):
    run = load_run(run_dir)
    return run, DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)


# --- the batches: seeded by their index, pure ------------------------------------------


def test_a_batch_depends_only_on_its_index_count_and_seed(tiny_run):
    run, D = loaded(tiny_run)
    counter = BatchCounter(run.model.next_token_fn(), D, "uniform", list(TAUS), batch=64)
    first, _ = counter(1, 500, 7)
    counter(0, 300, 7)  # another batch in between changes nothing
    again, w = counter(1, 500, 7)
    assert w is None and first.shape == (500, 2) and np.array_equal(first, again)
    assert np.array_equal(counter(1, 200, 7)[0], first[:200])  # a shorter batch: a prefix
    assert not np.array_equal(counter(2, 500, 7)[0], first)
    # the draws are the batch's own generator's, not default_rng(seed)'s
    ctx = batch_rng(7, 1).integers(0, D.V, size=(500, D.n - 1), dtype=np.int64)
    direct = BatchCounter(run.model.next_token_fn(), D, "given", list(TAUS), 64, given=ctx)
    assert np.array_equal(direct.counter(ctx), first)
    assert not np.array_equal(batch_rng(7, 0).random(4), np.random.default_rng(7).random(4))


def test_the_reduction_does_not_depend_on_where_or_when_batches_ran(tiny_run):
    run, D = loaded(tiny_run)
    local = estimate_artifacts(run.model.next_token_fn(), D, TAUS, seed=3, **TARGET)
    tau, target, cap, batch = check_estimate(D, TAUS, 100, 3, 0.01, 100_000, None, 0.95, 2000)
    counter = BatchCounter(run.model.next_token_fn(), D, "uniform", tau, batch)
    asked = []

    def backwards(tasks):  # computed last to first, handed back in order
        asked.extend(tasks)
        return list(reversed([counter(i, c, 3) for i, c in reversed(tasks)]))

    est = reduce_batches(backwards, counter.source, D, tau, 100, target, cap, 3, 0.95, 2000)
    assert est.to_dict() == local.to_dict() and est.stopped == "target"
    assert est.n_samples > 3 * SAMPLE_BATCH
    # each batch once, with the size the cap fixes, whatever the round that needed it
    assert asked == [(i, SAMPLE_BATCH) for i in range(len(asked))]
    assert len(asked) == -(-est.n_samples // SAMPLE_BATCH)


def test_a_worker_loads_the_run_once(tiny_run, monkeypatch):
    loads = []
    real = backends.load_run
    monkeypatch.setattr(backends, "load_run", lambda path: loads.append(path) or real(path))
    monkeypatch.setattr(backends, "_LOADED", {})
    spec, _ = RunSpec.of(tiny_run)
    job = BatchJob(spec, "uniform", TAUS, 64, seed=7)
    a = run_batch(job, 0, 300)
    b = run_batch(job, 1, 300)
    c = run_batch(BatchJob(spec, "uniform", TAUS, 64, seed=8), 0, 300)  # another seed
    assert len(loads) == 1
    run, D = loaded(tiny_run)
    counter = BatchCounter(run.model.next_token_fn(), D, "uniform", list(TAUS), 64)
    for got, (i, seed) in zip((a, b, c), ((0, 7), (1, 7), (0, 8)), strict=True):
        assert np.array_equal(got[0], counter(i, 300, seed)[0])


def test_a_worker_refuses_a_run_folder_that_changed(tiny_run):
    spec, _ = RunSpec.of(tiny_run)
    job = BatchJob(RunSpec(spec.path, "0" * 64), "uniform", TAUS, 64, seed=0)
    outcome = backends._remote_batch(job, 0, 10)  # bad input comes back as a value
    assert outcome[0] == "input"
    with pytest.raises(InputError, match="files changed"):
        backends._unpack(outcome)
    missing = BatchJob(RunSpec(str(tiny_run / "nope"), spec.digest), "uniform", TAUS, 64, 0)
    with pytest.raises(InputError, match="not a run folder"):
        backends._unpack(backends._remote_batch(missing, 0, 10))


def test_a_dead_worker_fails_the_estimate_in_one_line(cli, tiny_run, monkeypatch):
    fut = Future()
    fut.set_exception(BrokenProcessPool("terminated abruptly"))
    with pytest.raises(BackendError, match="a worker process died while counting batch 3"):
        backends._process_outcome(fut, 3)

    def dies(*args, **kwargs):
        raise BackendError("a worker process died while counting batch 0: terminated")

    monkeypatch.setattr(backends, "estimate_run", dies)
    res = cli("artifacts", tiny_run, "--estimate", "--backend", "processes", "--quiet")
    assert res.exit_code == 1 and res.stderr.strip().splitlines() == [
        "error: a worker process died while counting batch 0: terminated"
    ]


# --- the backends give the local result ------------------------------------------------


def test_processes_give_the_local_result_with_target_stopping(tiny_run):
    local = estimate_run(tiny_run, TAUS, seed=1, **TARGET)
    pooled = estimate_run(tiny_run, TAUS, seed=1, **TARGET, backend="processes", workers=2)
    assert pooled.to_dict() == local.to_dict()
    assert pooled.stopped == "target" and pooled.n_samples > 3 * SAMPLE_BATCH


def test_the_cli_on_processes_prints_the_local_json(cli, tiny_run):
    estimate = ["artifacts", tiny_run, "--estimate", "--json", "--quiet", "--seed", 4]
    args = [*estimate, "--samples", 9000, "--tau", 0.2, "--tau", 0.5]  # 2 batches and a part
    local = cli(*args)
    pooled = cli(*args, "--backend", "processes", "--workers", 2)
    assert local.exit_code == 0 and pooled.exit_code == 0, pooled.output
    assert pooled.stdout == local.stdout
    data = json.loads(pooled.stdout)
    assert data["n_samples"] == 9000 and data["stopped"] == "budget"


def test_ray_gives_the_local_result_and_stops_the_ray_it_started(tiny_run):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # another module left one running
        ray.shutdown()
    local = estimate_run(tiny_run, TAUS, seed=2, **TARGET)
    on_ray = estimate_run(tiny_run, TAUS, seed=2, **TARGET, backend="ray", workers=2)
    assert on_ray.to_dict() == local.to_dict()
    assert on_ray.stopped == "target" and on_ray.n_samples == local.n_samples
    assert not ray.is_initialized()


@pytest.mark.slow  # two more pools: about 11 s here
@pytest.mark.parametrize("source", ["corpus", "model"])
def test_processes_give_the_local_result_for_every_source(tiny_run, source):
    local = estimate_run(tiny_run, TAUS, 9000, source, seed=5)
    pooled = estimate_run(tiny_run, TAUS, 9000, source, seed=5, backend="processes", workers=3)
    assert pooled.to_dict() == local.to_dict()


@pytest.mark.slow  # two more Ray starts: about 20 s here
@pytest.mark.parametrize("source", ["uniform", "model"])
def test_the_cli_on_ray_prints_the_local_json(cli, tiny_run, source):
    ray = pytest.importorskip("ray")
    estimate = ["artifacts", tiny_run, "--estimate", "--json", "--quiet", "--source", source]
    args = [*estimate, "--samples", 100, "--target-rel-error", 0.01, "--max-samples", 60_000]
    local = cli(*args)
    on_ray = cli(*args, "--backend", "ray", "--workers", 2)
    assert on_ray.exit_code == 0, on_ray.output
    assert on_ray.stdout == local.stdout
    data = json.loads(on_ray.stdout)  # the model source's weighted count stops at the cap
    assert data["stopped"] == {"uniform": "target", "model": "cap"}[source]
    assert data["n_samples"] > SAMPLE_BATCH
    assert not ray.is_initialized()


# --- bad backend options ---------------------------------------------------------------


@pytest.mark.parametrize(
    "backend,workers,address,match",
    [
        ("dask", None, None, "--backend: unknown backend 'dask'"),
        ("processes", 0, None, "--workers: must be >= 1"),
        ("ray", 1.5, None, "--workers: must be an integer"),
        ("local", 2, None, "--workers: only applies to --backend processes or ray"),
        ("processes", None, "ray://x:1", "--address: only applies to --backend ray"),
    ],
)
def test_bad_backend_options(tiny_run, backend, workers, address, match):
    with pytest.raises(InputError, match=match):
        check_backend(backend, workers, address)
    with pytest.raises(InputError, match=match):
        estimate_run(tiny_run, backend=backend, workers=workers, address=address)


@pytest.mark.parametrize(
    "args,needles",
    [
        (["--estimate", "--backend", "dask"], ["--backend", "local, processes, ray"]),
        (["--estimate", "--backend", "processes", "--workers", 0], ["--workers", ">= 1"]),
        (["--estimate", "--workers", 2], ["--workers", "only applies to"]),
        (["--estimate", "--backend", "processes", "--address", "x:1"], ["--address"]),
        (["--backend", "processes"], ["--backend", "needs --estimate"]),
        (["--workers", 2], ["--workers", "needs --estimate"]),
        (["--address", "x:1"], ["--address", "needs --estimate"]),
    ],
)
def test_bad_backend_options_on_the_command_line(cli, tiny_run, args, needles):
    assert_user_error(cli("artifacts", tiny_run, *args), *needles)
