"""Rank estimates and bounds on tensors and datasets of known rank."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.errors import InputError
from artifactlab.tensor import DataTensor
from artifactlab.tensor.rank import (
    RankSettings,
    data_rank,
    effective_rank,
    fiber_error,
    tensor_rank,
)

ALL_RANKS = RankSettings(max_rank=6, from_lower=False)  # fit every rank from 1


def _cp(factors: list[np.ndarray]) -> np.ndarray:
    return np.einsum("ir,jr,kr->ijk", *factors)


@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_sum_of_r_random_rank_one_terms_has_estimate_r(r):
    rng = np.random.default_rng(r)
    result = tensor_rank(_cp([rng.standard_normal((6, r)) for _ in range(3)]), ALL_RANKS)
    assert result.estimate == r
    assert [f.rank for f in result.fits] == list(range(1, r + 1))
    assert all(f.error >= ALL_RANKS.tol for f in result.fits[:-1])  # r - 1 terms do not fit
    assert max(result.unfolding_ranks) <= result.estimate and result.lower <= result.estimate
    assert result.lower == result.upper == r


@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_blocks_with_disjoint_supports_have_rank_r(r):
    rng = np.random.default_rng(10 + r)
    X = np.zeros((8, 8, 8))
    for b in range(r):
        block = slice(2 * b, 2 * b + 2)
        X[block, block, block] = np.einsum("i,j,k->ijk", *(rng.random((3, 2)) + 0.5))
    result = tensor_rank(X, ALL_RANKS)
    assert result.estimate == r and result.unfolding_ranks == (r, r, r)
    assert result.slice_bound == 2 * r  # two rank-one slices per block


@pytest.mark.parametrize("size", [2, 3, 5])
def test_diagonal_tensor_has_rank_its_size(size):
    X = np.zeros((size,) * 3)
    X[np.arange(size), np.arange(size), np.arange(size)] = 1.0
    result = tensor_rank(X, ALL_RANKS)
    assert result.estimate == size == result.lower == result.upper


def test_rank_one_and_zero_tensors():
    X = np.einsum("i,j,k->ijk", [1.0, 2.0], [3.0, 0.0, 1.0], [1.0, 1.0])
    assert tensor_rank(X).estimate == 1
    assert tensor_rank(np.zeros((2, 2, 2))).estimate == 0


def test_four_way_and_matrix_ranks():
    rng = np.random.default_rng(0)
    X4 = np.einsum("ir,jr,kr,lr->ijkl", *[rng.standard_normal((4, 2)) for _ in range(4)])
    assert tensor_rank(X4).estimate == 2
    M = rng.standard_normal((5, 3)) @ rng.standard_normal((3, 6))
    assert tensor_rank(M).estimate == 3


def test_a_random_sparse_tensor_is_bounded_and_beyond_a_small_max_rank():
    rng = np.random.default_rng(0)
    D = DataTensor.from_tuples(rng.integers(0, 10, (40, 3)), V=10)
    result = data_rank(D, RankSettings(max_rank=3))
    assert result.estimate is None  # 40 random entries of 10^3 need far more than 3 terms
    assert max(result.unfolding_ranks) <= result.slice_bound <= result.trivial_bound == 100
    assert result.nnz == D.nnz and result.fits == []  # all ranks <= 3 are below the bound


def _low_rank_dataset(seed: int) -> DataTensor:
    """Fibers of a rank-2 non-negative integer tensor at half its contexts, each rescaled."""
    rng = np.random.default_rng(seed)
    Y = _cp([rng.integers(0, 3, (6, 2)) for _ in range(3)])
    contexts = [(i, j) for i in range(6) for j in range(6) if Y[i, j].any()]
    rows = []
    for p in rng.choice(len(contexts), size=len(contexts) // 2, replace=False):
        i, j = contexts[p]
        scale = int(rng.integers(1, 4))
        rows += [(i, j, t) for t in range(6) for _ in range(scale * Y[i, j, t])]
    return DataTensor.from_tuples(np.array(rows), V=6)


@pytest.mark.parametrize("seed", [0, 1])
def test_effective_rank_recovers_a_rank_two_consistent_completion(seed):
    D = _low_rank_dataset(seed)
    data = data_rank(D, ALL_RANKS)
    eff = effective_rank(D, ALL_RANKS, data=data)
    assert eff.estimate == 2 and eff.fits[0].error > ALL_RANKS.tol
    assert eff.lower <= eff.estimate <= eff.upper
    assert data.estimate is not None and eff.estimate <= data.estimate


def test_effective_rank_is_at_most_the_data_rank_on_random_data():
    rng = np.random.default_rng(3)
    D = DataTensor.from_tuples(rng.integers(0, 5, (12, 3)), V=5)
    settings = RankSettings(max_rank=12)
    data = data_rank(D, settings)
    eff = effective_rank(D, settings, data=data)
    assert eff.estimate is not None and eff.lower <= eff.estimate
    assert eff.estimate <= data.upper  # D^n itself is consistent, so its rank bounds this
    if data.estimate is not None:
        assert eff.estimate <= data.estimate


def test_fiber_error_is_scale_free_and_one_for_a_zero_fiber():
    Q = np.array([[0.6, 0.8], [1.0, 0.0]])
    assert fiber_error(np.array([[3.0, 4.0], [-2.0, 0.0]]), Q) == 0.0
    assert fiber_error(np.array([[3.0, 4.0], [0.0, 0.0]]), Q) == pytest.approx(np.sqrt(0.5))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"tol": 0.0}, "--tol"),
        ({"tol": 1.0}, "--tol"),
        ({"rtol": -1e-3}, "--rtol"),
        ({"max_rank": 0}, "--max-rank"),
        ({"restarts": 0}, "--restarts"),
    ],
)
def test_bad_settings_are_refused(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        RankSettings(**kwargs)


def test_too_large_to_densify_and_bad_tensors_are_refused():
    D = DataTensor.from_tuples(np.array([[0, 1, 2]]), V=300)
    with pytest.raises(InputError, match=r"300\^3 = 27,000,000 entries is too many"):
        data_rank(D)
    with pytest.raises(InputError, match="order 1"):
        tensor_rank(np.ones(3))
    with pytest.raises(InputError, match="NaN"):
        tensor_rank(np.full((2, 2), np.nan))
