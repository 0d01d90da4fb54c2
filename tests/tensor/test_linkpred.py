"""Filtered tail ranking and link-prediction metrics, against hand counts and the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from artifactlab.tensor.linkpred import (
    filter_pairs,
    filtered_ranks,
    filtered_ranks_reference,
    link_prediction_metrics,
)

# V = 6: entities 0..3, relations 4, 5. Logits of the tail in each context (h, r).
TABLE = {
    (0, 4): [9.0, 1.0, 5.0, 3.0, 0.0, 0.0],
    (1, 4): [2.0, 2.0, 2.0, 2.0, 9.0, 9.0],  # a flat row: every entity tied
    (2, 5): [4.0, 1.0, 0.0, 1.0, 9.0, 9.0],
}


def table_fn(ctx: torch.Tensor) -> torch.Tensor:
    return torch.tensor([TABLE[tuple(c)] for c in ctx.tolist()])


CANDIDATES = np.array([0, 1, 2, 3])
TEST = np.array([[0, 4, 3], [1, 4, 0], [2, 5, 1]])
KNOWN = np.array([[0, 4, 0], [0, 4, 3], [2, 5, 0], [3, 4, 2]])  # train-like; holds a test triple


def test_hand_computed_ranks_and_mrr():
    ranks = filtered_ranks(table_fn, TEST, KNOWN, CANDIDATES)
    # (0,4,3): 0 (9) is filtered, 2 (5) beats 3 -> rank 2; relation tokens never count
    # (1,4,0): three entities tie -> 1 + 3/2 = 2.5
    # (2,5,1): 0 filtered, 3 ties (1 = 1), 2 below -> 1.5
    assert ranks.tolist() == [2.0, 2.5, 1.5]
    m = link_prediction_metrics(ranks)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 2.5 + 1 / 1.5) / 3)
    assert (m["hits@1"], m["hits@3"], m["hits@10"], m["n"]) == (0.0, 1.0, 1.0, 3)
    assert m["mean_rank"] == pytest.approx(2.0)
    # unfiltered, the first triple drops a place (0 scores 9 > 3)
    assert filtered_ranks(table_fn, TEST, np.zeros((0, 3)), CANDIDATES)[0] == 3.0


def test_reference_agrees_on_the_hand_case():
    expected = filtered_ranks_reference(table_fn, TEST, KNOWN, CANDIDATES)
    assert expected.tolist() == [2.0, 2.5, 1.5]


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_path_equals_reference_on_random_data(seed):
    rng = np.random.default_rng(seed)
    E, R = 7, 3
    V = E + R
    # integer-valued logits so ties are frequent
    table = torch.from_numpy(rng.integers(0, 4, size=(V, V, V)).astype(np.float32))

    def fn(ctx):
        return table[ctx[:, 0], ctx[:, 1]]

    def draw(k):
        return np.stack(
            [rng.integers(0, E, k), rng.integers(E, V, k), rng.integers(0, E, k)], axis=1
        )

    test = draw(40)
    known = np.concatenate([draw(60), test[:10]])
    cand = np.arange(E)
    fast = filtered_ranks(fn, test, known, cand, batch_size=7)
    np.testing.assert_array_equal(fast, filtered_ranks_reference(fn, test, known, cand))
    assert fast.min() >= 1 and fast.max() <= E


def test_filter_pairs_lists_each_rows_known_tails():
    rows, tails = filter_pairs(TEST, KNOWN)
    assert sorted(zip(rows.tolist(), tails.tolist(), strict=True)) == [(0, 0), (0, 3), (2, 0)]


def test_bad_inputs():
    with pytest.raises(ValueError, match="among the candidates"):
        filtered_ranks(table_fn, TEST, KNOWN, np.array([1, 2]))
    with pytest.raises(ValueError, match="shape"):
        filtered_ranks(table_fn, TEST[:, :2], KNOWN, CANDIDATES)
    with pytest.raises(ValueError, match="beyond the logits"):
        filtered_ranks(table_fn, TEST, KNOWN, np.array([0, 1, 2, 3, 6]))


def test_metrics_of_nothing():
    m = link_prediction_metrics(np.zeros(0), ks=(1, 5))
    assert m["n"] == 0 and math.isnan(m["mrr"]) and math.isnan(m["hits@5"])
    assert filtered_ranks(table_fn, np.zeros((0, 3)), KNOWN, CANDIDATES).shape == (0,)
