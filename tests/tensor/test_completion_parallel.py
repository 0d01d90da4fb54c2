"""Parallel block evaluation: the same report whatever the number of worker threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor, completion
from artifactlab.tensor.completion import (
    MAX_WORKERS,
    CompletionReport,
    default_workers,
    evaluate_completion,
)
from artifactlab.tensor.dense import count_artifacts_naive
from artifactlab.threads import usable_cores


def _model(V: int, seed: int = 0) -> ToyTransformer:
    model = ToyTransformer(ToyTransformerConfig(V=V, n_ctx=3, d_model=8, n_heads=2), seed=seed)
    with torch.no_grad():
        model.W_U.mul_(4.0)  # confident: artifacts at every threshold
    return model.eval()


def _data(V: int, seed: int = 0) -> DataTensor:
    rows = np.random.default_rng(seed).integers(0, V, size=(40, 3))
    return DataTensor.from_tuples(rows, V)


def _report(model: ToyTransformer, D: DataTensor, workers: int, **kw) -> CompletionReport:
    return evaluate_completion(
        model.next_token_fn(),
        D,
        taus=(0.3, 0.5, 0.8),
        top_k=kw.pop("top_k", 25),
        block_size=kw.pop("block_size", 7),  # many small, uneven blocks
        workers=workers,
        make_logits_fn=model.next_token_fn,
        **kw,
    )


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_workers_give_identical_reports(workers, seed):
    V = 13
    model, D = _model(V, seed), _data(V, seed)
    one, many = _report(model, D, 1), _report(model, D, workers)
    assert one.n_artifacts[0.3] > 0 and len(one.top_artifacts) == 25  # not vacuous
    assert many == one  # counts, observed split, top-k (order and probs), consistency


def test_parallel_matches_naive():
    V = 11
    model, D = _model(V, 2), _data(V, 2)
    naive = count_artifacts_naive(model, D, tau=0.5)
    assert naive > 0
    assert _report(model, D, 3).n_artifacts[0.5] == naive


def test_top_k_ties_keep_block_order():
    """Equal probabilities everywhere: the top-k is the first n-grams, in context order.

    The first block is the slowest, so it finishes last: merging in arrival order fails.
    """
    V = 6

    def flat(ctx: torch.Tensor) -> torch.Tensor:
        if int(ctx[0].sum()) == 0:
            time.sleep(0.2)
        logits = torch.zeros(len(ctx), V)
        logits[:, 0] = 10.0  # token 0 after every context, same probability
        return logits

    D = DataTensor.from_tuples(np.array([[0, 0, 0]]), V)
    reports = [evaluate_completion(flat, D, top_k=5, block_size=2, workers=w) for w in (1, 3)]
    assert reports[0] == reports[1]
    assert [a.context for a in reports[1].top_artifacts] == [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)]


def test_progress_in_order_and_complete():
    V = 9
    model, D = _model(V), _data(V)
    seen: list[int] = []
    _report(model, D, 3, progress=seen.append)
    assert sum(seen) == V * V and seen[:-1] == [7] * (len(seen) - 1)


def test_each_worker_gets_its_own_logits_fn():
    V = 9
    model, D = _model(V), _data(V)
    made: list[int] = []

    def make():
        made.append(threading.get_ident())
        return model.next_token_fn()

    evaluate_completion(model.next_token_fn(), D, block_size=3, workers=3, make_logits_fn=make)
    assert len(made) == 3


def test_worker_error_reaches_caller():
    V = 8
    calls = 0

    def broken(ctx: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("block failed")
        return torch.zeros(len(ctx), V)

    with pytest.raises(RuntimeError, match="block failed"):
        evaluate_completion(broken, _data(V), block_size=2, workers=2)


def test_default_workers():
    assert default_workers(1000) == 1  # small tensors stay on the calling thread
    big = default_workers(1 << 30)
    cores = usable_cores() // max(1, torch.get_num_threads())
    assert big == max(1, min(MAX_WORKERS, cores)) and 1 <= big <= 8
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(64)  # intra-op threads already fill the machine: no workers
        assert default_workers(1 << 30) == 1
    finally:
        torch.set_num_threads(threads)


def test_without_factory_default_is_sequential(monkeypatch):
    """A bare logits function may reuse buffers: by default it is called on one thread."""
    V = 7
    model, D = _model(V), _data(V)
    fn, callers = model.next_token_fn(), set()

    def recording(ctx: torch.Tensor) -> torch.Tensor:
        callers.add(threading.get_ident())
        return fn(ctx)

    monkeypatch.setattr(completion, "PARALLEL_MIN_LOGITS", 0)  # only the missing factory
    monkeypatch.setattr(completion, "usable_cores", lambda: 4)  # keeps this on one thread
    assert completion.default_workers(1) > 1
    rep = evaluate_completion(recording, D, taus=(0.3, 0.5, 0.8), top_k=25, block_size=7)
    assert callers == {threading.get_ident()}
    assert rep == _report(model, D, 1)
