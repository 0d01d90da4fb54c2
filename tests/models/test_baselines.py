"""Baseline completers against hand-computed cases: the count model and the factorizations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import (
    CP,
    RESCAL,
    ComplEx,
    DistMult,
    FactorizationConfig,
    NGramConfig,
    NGramModel,
    parameter_counts,
)
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.train import TrainConfig
from artifactlab.train.fit import FIT_STOP_REASON, fit_model

# ---------------------------------------------------------------- the count model

# (0, 1) -> 2 twice and 0 once; (2, 2) -> 1; first tokens: 0 -> 1 three times, 2 -> 2 once
TUPLES = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 0], [2, 2, 1]])


def probs(model: NGramModel, contexts: list[list[int]]) -> torch.Tensor:
    return torch.softmax(model.next_token_logits(torch.tensor(contexts)).double(), -1)


def test_ngram_maximum_likelihood_by_hand():
    model = NGramModel(NGramConfig(V=4)).fit(TUPLES)
    p = probs(model, [[0, 1], [2, 2], [3, 3], [1, 0]])
    expected = torch.tensor(
        [[1 / 3, 0, 2 / 3, 0], [0, 1, 0, 0], [0.25] * 4, [0.25] * 4], dtype=torch.float64
    )
    torch.testing.assert_close(p, expected, atol=1e-7, rtol=0)
    assert (p[:2] == 0).sum() == 5  # unobserved tokens of observed contexts: exactly zero


def test_ngram_prefixes_by_hand():
    """Every prefix length is counted: position 0 predicts the second token."""
    model = NGramModel(NGramConfig(V=4)).fit(TUPLES)
    p = probs(model, [[0], [2], [1]])
    expected = torch.tensor([[0, 1, 0, 0], [0, 0, 1, 0], [0.25] * 4], dtype=torch.float64)
    torch.testing.assert_close(p, expected, atol=1e-7, rtol=0)


def test_ngram_smoothing_by_hand():
    model = NGramModel(NGramConfig(V=4, smoothing=1.0)).fit(TUPLES)
    p = probs(model, [[0, 1], [3, 3]])
    expected = torch.tensor([[2 / 7, 1 / 7, 3 / 7, 1 / 7], [0.25] * 4], dtype=torch.float64)
    torch.testing.assert_close(p, expected, atol=1e-7, rtol=0)


def test_ngram_counts_and_parameters():
    model = NGramModel(NGramConfig(V=4))
    assert model.n_counts == 0 and parameter_counts(model) == (0, None)
    model.fit(TUPLES)
    # pairs: (0)->1, (2)->2, (0,1)->0, (0,1)->2, (2,2)->1
    assert model.n_counts == 5
    assert list(model.parameters()) == []
    assert model.context_totals_.tolist() == [3, 1, 3, 1]  # keys: (0), (2), (0, 1), (2, 2)


def test_ngram_unfitted_is_uniform():
    model = NGramModel(NGramConfig(V=5))
    torch.testing.assert_close(
        probs(model, [[0, 1], [4, 4]]), torch.full((2, 5), 0.2, dtype=torch.float64)
    )


def test_ngram_refit_replaces_counts():
    model = NGramModel(NGramConfig(V=4)).fit(TUPLES).fit(np.array([[3, 3, 3]]))
    torch.testing.assert_close(probs(model, [[0, 1]]), torch.full((1, 4), 0.25).double())
    torch.testing.assert_close(probs(model, [[3, 3]]), torch.tensor([[0.0, 0, 0, 1]]).double())


def test_ngram_state_dict_restores_any_size():
    model = NGramModel(NGramConfig(V=4)).fit(TUPLES)
    fresh = NGramModel(NGramConfig(V=4))
    fresh.load_state_dict(model.state_dict())
    ctx = torch.tensor(list(itertools.product(range(4), repeat=2)))
    assert torch.equal(fresh.next_token_logits(ctx), model.next_token_logits(ctx))
    empty = NGramModel(NGramConfig(V=4))
    model.load_state_dict(empty.state_dict())  # back to unfitted
    assert model.n_counts == 0


@pytest.mark.parametrize(
    "tuples",
    [
        np.array([[0, 1, 4]]),  # token outside V
        np.array([[0, -1, 2]]),
        np.array([[0, 1, 2, 3, 0]]),  # longer than n_ctx + 1
        np.array([[0]]),  # no context
        np.array([0, 1, 2]),  # not (N, n)
    ],
)
def test_ngram_fit_refuses_bad_tuples(tuples):
    with pytest.raises(InputError):
        NGramModel(NGramConfig(V=4)).fit(tuples)


@pytest.mark.parametrize("k", [1, 2])
def test_ngram_has_no_artifacts_at_tau_at_least_one_over_V(k):
    """In observed contexts only observed tokens have mass; elsewhere p = 1/V is not > tau."""
    ds = random_triples(V=8, N=20, seed=3, k=k)
    model = NGramModel(NGramConfig(V=8)).fit(ds.tuples)
    D = DataTensor.from_tuples(ds.tuples, 8)
    report = evaluate_completion(model.next_token_fn(), D, taus=(1 / 8, 0.3, 0.5, 0.9))
    assert report.n_artifacts == dict.fromkeys(report.taus, 0)
    assert report.consistency["mean_kl"] < 1e-6  # p equals the data's q on observed fibers
    below = evaluate_completion(model.next_token_fn(), D, taus=(0.1,))
    assert below.n_artifacts[0.1] == (64 - 20) * 8  # below 1/V: every unobserved context's V


@pytest.mark.parametrize("mode", ["last", "all"])
def test_fit_model_fits_the_count_model_in_closed_form(mode):
    model = NGramModel(NGramConfig(V=4))
    result = fit_model(model, TUPLES, TrainConfig(mode=mode))
    assert (result.steps, result.stop_reason) == (0, FIT_STOP_REASON)
    # the conditional entropy of the data: only (0, 1) -> {2, 2, 0} is uncertain
    nats = 2 * math.log(3 / 2) + math.log(3)
    assert result.loss == pytest.approx(nats / (4 if mode == "last" else 8), abs=1e-6)
    assert result.log == [{"step": 0, "loss": result.loss, "accuracy": result.accuracy}]


# ---------------------------------------------------------------- factorizations


def with_weights(model: torch.nn.Module, **weights: dict) -> torch.nn.Module:
    """Zero every parameter, then set the given rows: name -> {row: values}."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.zero_()
            for row, values in weights.get(name, {}).items():
                p[row] = torch.tensor(values, dtype=p.dtype)
    return model


def check_score(model: torch.nn.Module, triple: tuple[int, int, int], expected: float) -> None:
    """The formula, the fast logits and the snapshot logits all give ``expected``."""
    t = torch.tensor([triple])
    with torch.no_grad():
        assert model.score(t).item() == pytest.approx(expected)
        assert model.next_token_logits(t[:, :2])[0, triple[2]].item() == pytest.approx(expected)
        assert model.next_token_fn()(t[:, :2])[0, triple[2]].item() == pytest.approx(expected)


CFG = FactorizationConfig(V=3, rank=2)


def test_cp_score_by_hand():
    # sum_k A[0,k] R[1,k] B[2,k] = 1*3*2 + 2*(-1)*5 = -4
    model = with_weights(
        CP(CFG), W_head={0: [1, 2]}, W_rel={1: [3, -1]}, W_tail={2: [2, 5], 0: [7, 7]}
    )
    check_score(model, (0, 1, 2), -4.0)
    check_score(model, (2, 1, 0), 0.0)  # head 2 has no factors: CP's head and tail differ


def test_distmult_score_by_hand():
    model = with_weights(DistMult(CFG), W_ent={0: [1, 2], 2: [2, 5]}, W_rel={1: [3, -1]})
    check_score(model, (0, 1, 2), -4.0)
    check_score(model, (2, 1, 0), -4.0)


def test_rescal_score_by_hand():
    # e_0^T W_1 = [1, 2] [[1, 2], [3, 4]] = [7, 10]; dotted with e_2 = [2, 5]: 14 + 50
    model = with_weights(RESCAL(CFG), W_ent={0: [1, 2], 2: [2, 5]}, W_rel={1: [[1, 2], [3, 4]]})
    check_score(model, (0, 1, 2), 64.0)
    check_score(model, (2, 1, 0), 65.0)  # e_2^T W_1 = [17, 24], dotted with e_0 = [1, 2]


def test_complex_score_by_hand():
    # rank 1: (1 + 2i)(3 - i) = 5 + 5i; times conj(2 + 5i) = 2 - 5i: 35 - 15i
    model = with_weights(
        ComplEx(FactorizationConfig(V=3, rank=1)),
        W_ent_re={0: [1], 2: [2]},
        W_ent_im={0: [2], 2: [5]},
        W_rel_re={1: [3]},
        W_rel_im={1: [-1]},
    )
    check_score(model, (0, 1, 2), 35.0)
    # (2 + 5i)(3 - i) = 11 + 13i; times conj(1 + 2i) = 1 - 2i: 11 + 26 + (13 - 22)i
    check_score(model, (2, 1, 0), 37.0)


FACTORIZATIONS = [CP, DistMult, RESCAL, ComplEx]


def all_triples(V: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(V), repeat=3)))


@pytest.mark.parametrize("cls", FACTORIZATIONS, ids=lambda c: c.__name__)
def test_fast_logits_match_the_formula(cls):
    model = cls(FactorizationConfig(V=5, rank=3), seed=1)
    triples = all_triples(5)
    with torch.no_grad():
        logits = model.next_token_logits(triples[:, :2])
        fast = logits[torch.arange(len(triples)), triples[:, 2]]
        torch.testing.assert_close(fast, model.score(triples), atol=1e-5, rtol=0)
        torch.testing.assert_close(model.next_token_fn()(triples[:, :2]), logits)


def test_distmult_is_symmetric_in_head_and_tail():
    model = DistMult(FactorizationConfig(V=5, rank=3), seed=2)
    triples = all_triples(5)
    with torch.no_grad():
        torch.testing.assert_close(model.score(triples), model.score(triples[:, [2, 1, 0]]))


def test_complex_can_be_antisymmetric():
    model = ComplEx(FactorizationConfig(V=5, rank=3), seed=2)
    triples = all_triples(5)
    swapped = triples[:, [2, 1, 0]]
    with torch.no_grad():
        assert (model.score(triples) - model.score(swapped)).abs().max() > 0.1  # not DistMult
        model.W_rel_re.zero_()  # purely imaginary relations: s(h, r, t) = -s(t, r, h)
        torch.testing.assert_close(model.score(triples), -model.score(swapped))


def test_rescal_with_diagonal_relations_is_distmult():
    cfg = FactorizationConfig(V=5, rank=3)
    distmult, rescal = DistMult(cfg, seed=4), RESCAL(cfg, seed=0)
    with torch.no_grad():
        rescal.W_ent.copy_(distmult.W_ent)
        rescal.W_rel.copy_(torch.diag_embed(distmult.W_rel))
        triples = all_triples(5)
        torch.testing.assert_close(rescal.score(triples), distmult.score(triples))


def test_rescal_grouped_query_matches_the_gather():
    # query() groups contexts by relation; the reference gathers one matrix per context
    model = RESCAL(FactorizationConfig(V=11, rank=4), seed=2).double()
    gen = torch.Generator().manual_seed(0)
    heads, rels = (
        torch.randint(0, 11, (200,), generator=gen),
        torch.randint(0, 11, (200,), generator=gen),
    )
    weights = torch.randn(200, 4, generator=gen, dtype=torch.float64)
    grads = []
    for fn in (
        model.query,
        lambda h, r: torch.einsum("bi,bij->bj", model.W_ent[h], model.W_rel[r]),
    ):
        model.zero_grad()
        q = fn(heads, rels)
        (q * weights).sum().backward()
        grads.append((q.detach(), model.W_ent.grad.clone(), model.W_rel.grad.clone()))
    for fast, ref in zip(*grads, strict=True):
        torch.testing.assert_close(fast, ref)
    assert model.query(heads[:0], rels[:0]).shape == (0, 4)


@pytest.mark.parametrize(
    "cls,expected",
    [(CP, 3 * 7 * 4), (DistMult, 2 * 7 * 4), (RESCAL, 7 * 4 + 7 * 4 * 4), (ComplEx, 4 * 7 * 4)],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_factorization_parameter_counts(cls, expected):
    model = cls(FactorizationConfig(V=7, rank=4))
    # all weights are per-token tables: there is no non-embedding count to report
    assert parameter_counts(model) == (expected, None)


@pytest.mark.parametrize("cls", FACTORIZATIONS, ids=lambda c: c.__name__)
def test_factorization_init_has_unit_score_scale(cls):
    model = cls(FactorizationConfig(V=40, rank=16), seed=0)
    with torch.no_grad():
        std = (
            model.next_token_logits(
                torch.randint(0, 40, (400, 2), generator=torch.Generator().manual_seed(0))
            )
            .std()
            .item()
        )
    assert 0.5 < std < 2.0


@pytest.mark.parametrize("cls", FACTORIZATIONS, ids=lambda c: c.__name__)
def test_factorization_refuses_mode_all(cls):
    ds = random_triples(V=6, N=5, seed=0)
    with pytest.raises(InputError, match="mode 'last'"):
        fit_model(cls(FactorizationConfig(V=6, rank=2)), ds.tuples, TrainConfig(mode="all"))
