"""One exact threshold rule: every ``p > tau`` decided on the float64 softmax of the logits.

A float32 model's counts must equal a float64 brute force over the dense completion
tensor, at ``tau = 1/V`` (where float32 rounding of a uniform row lands on either side)
and at 0.3, 0.5 and 0.9 on trained models (0.9 takes the row-maximum shortcut), and a
count at one ``tau`` must not change when other thresholds are asked for too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import NGramConfig, NGramModel, ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.dense import completion_dense
from artifactlab.train import TrainConfig, train


def brute_force(logits_fn, D: DataTensor, tau: float) -> int:
    """Entries outside ``D^n`` whose float64 probability is above ``tau``."""
    probs = completion_dense(logits_fn, D.V, D.n).numpy()  # float64 softmax of the logits
    above = probs > tau
    above[tuple(D.coords.T)] = False
    return int(above.sum())


def counts(logits_fn, D, taus) -> dict[float, int]:
    return evaluate_completion(logits_fn, D, taus=taus, top_k=0).n_artifacts


@pytest.mark.parametrize("V", [3, 5, 7, 10, 12, 25, 33])
def test_uniform_rows_at_tau_one_over_V(V):
    # the count model is uniform (p = 1/V exactly) in every unobserved context
    ds = random_triples(V=V, N=max(1, V // 2), seed=V)
    model = NGramModel(NGramConfig(V=V)).fit(ds.tuples)
    D = DataTensor.from_tuples(ds.tuples, V)
    fn = model.next_token_fn()
    tau = 1 / V
    expected = brute_force(fn, D, tau)
    assert counts(fn, D, (tau,))[tau] == expected == 0
    for other in (tau / 2, 0.5 * tau, 0.99 * tau):  # a lower threshold asked for beside it
        assert counts(fn, D, (other, tau))[tau] == expected
        assert counts(fn, D, (other,))[other] == brute_force(fn, D, other)


def test_the_reported_case_v5_ngram():
    ds = random_triples(V=5, N=3, seed=0)
    model = NGramModel(NGramConfig(V=5)).fit(ds.tuples)
    D = DataTensor.from_tuples(ds.tuples, 5)
    assert counts(model.next_token_fn(), D, (0.2,))[0.2] == 0
    assert counts(model.next_token_fn(), D, (0.1, 0.2))[0.2] == 0


@pytest.fixture(scope="module")
def trained():
    """Float32 transformers trained to a completion, of a few sizes."""
    out = []
    for V, N, seed in ((16, 60, 0), (24, 150, 1), (31, 200, 2)):
        ds = random_triples(V=V, N=N, seed=seed)
        model = ToyTransformer(ToyTransformerConfig(V=V, d_model=16, n_heads=2), seed=seed)
        train(model, ds.tuples, TrainConfig(max_steps=400, lr=0.02))
        out.append((model, DataTensor.from_tuples(ds.tuples, V)))
    return out


@pytest.mark.parametrize("tau", [0.3, 0.5, 0.9])
def test_trained_float32_models_against_float64_brute_force(trained, tau):
    for model, D in trained:
        for fn in (model.next_token_fn(), model.next_token_logits):
            with torch.inference_mode():
                assert fn(torch.zeros(1, 2, dtype=torch.int64)).dtype == torch.float32
            expected = brute_force(fn, D, tau)
            assert counts(fn, D, (tau,))[tau] == expected
            assert counts(fn, D, (0.1, tau, 0.95))[tau] == expected


def test_counts_are_the_same_alone_and_together(trained):
    taus = (1 / 16, 0.1, 0.25, 0.3, 0.5, 0.5000001, 0.9, 0.99)
    for model, D in trained:
        fn = model.next_token_fn()
        together = counts(fn, D, taus)
        for tau in taus:
            assert counts(fn, D, (tau,))[tau] == together[tau], tau


def test_a_tie_at_the_threshold_is_decided_in_float64():
    # logits whose float32 softmax rounds above 0.5 while the float64 one is exactly 0.5
    D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=2)
    logits = torch.tensor([[0.0, 0.0]])
    fn = lambda ctx: logits.expand(len(ctx), 2)  # noqa: E731
    assert counts(fn, D, (0.5,))[0.5] == brute_force(fn, D, 0.5) == 0


def test_data_tensor_refuses_bad_ids_and_empty_data():
    with pytest.raises(InputError, match=r"outside \[0, V\)"):
        DataTensor.from_tuples(np.array([[0, 1, 5]]), V=5)
    with pytest.raises(InputError, match=r"outside \[0, V\)"):
        DataTensor.from_tuples(np.array([[0, -1, 2]]), V=5)
    with pytest.raises(InputError, match="at least one tuple"):
        DataTensor.from_tuples(np.zeros((0, 3), dtype=np.int64), V=5)


def test_two_entries_near_one_half_take_the_exact_path():
    # the float32 row maximum may not be the entry whose exact probability is above 0.5
    eps = 2e-7
    D = DataTensor.from_tuples(np.array([[1, 1, 1]]), V=3)
    rows = torch.tensor([[np.log(0.5 + eps), np.log(0.5 - eps), -30.0]], dtype=torch.float32)
    fn = lambda ctx: rows.expand(len(ctx), 3)  # noqa: E731
    for tau in (0.5, 0.5 + eps / 2):
        assert counts(fn, D, (tau,))[tau] == brute_force(fn, D, tau)
