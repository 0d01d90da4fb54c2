"""The sparse data tensor D^n: counts at every truncation, fibers, dense form, keys."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from artifactlab.tensor import DataTensor, encode
from artifactlab.tensor.data_tensor import DENSE_LIMIT

# five sentences of length 3 over V = 4; (0, 1, 2) is repeated, (0, 1) is a shared prefix
CORPUS = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 3], [1, 0, 0], [0, 2, 1]], dtype=np.int64)
V = 4

# D^n written out by hand for n = 1, 2, 3: {n-gram: count}
EXPECTED = {
    1: {(0,): 4, (1,): 1},
    2: {(0, 1): 3, (0, 2): 1, (1, 0): 1},
    3: {(0, 1, 2): 2, (0, 1, 3): 1, (0, 2, 1): 1, (1, 0, 0): 1},
}
EXPECTED_CONTEXTS = {1: [()], 2: [(0,), (1,)], 3: [(0, 1), (0, 2), (1, 0)]}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_hand_computed_counts(n):
    D = DataTensor.from_tuples(CORPUS, V=V, n=n)
    got = {tuple(c): int(k) for c, k in zip(D.coords.tolist(), D.counts.tolist(), strict=True)}
    assert got == EXPECTED[n]
    assert D.n == n
    assert D.V == V
    assert D.nnz == len(EXPECTED[n])
    assert D.n_contexts == V ** (n - 1)
    assert int(D.counts.sum()) == len(CORPUS)  # every sentence is long enough
    # coordinates sorted lexicographically
    assert [tuple(c) for c in D.coords.tolist()] == sorted(EXPECTED[n])
    assert [tuple(c) for c in D.contexts.tolist()] == EXPECTED_CONTEXTS[n]
    # each n-gram points at its own context
    for row, ctx in zip(D.coords.tolist(), D.context_of.tolist(), strict=True):
        assert tuple(D.contexts[ctx].tolist()) == tuple(row[:-1])


def test_default_n_is_tuple_length():
    D = DataTensor.from_tuples(CORPUS, V=V)
    assert D.n == 3
    assert D.nnz == 4


@pytest.mark.parametrize("n", [0, 4])
def test_bad_truncation(n):
    with pytest.raises(ValueError):
        DataTensor.from_tuples(CORPUS, V=V, n=n)


def test_context_totals_and_normalised_counts():
    D = DataTensor.from_tuples(CORPUS, V=V, n=3)
    assert D.context_totals().tolist() == [3, 1, 1]
    np.testing.assert_allclose(D.normalised_counts(), [2 / 3, 1 / 3, 1.0, 1.0])


def test_fibers():
    D = DataTensor.from_tuples(CORPUS, V=V, n=3)
    assert D.fiber([0, 1]).tolist() == [0, 0, 2, 1]
    assert D.fiber([0, 2]).tolist() == [0, 1, 0, 0]
    assert D.fiber([1, 0]).tolist() == [1, 0, 0, 0]
    assert D.fiber([3, 3]).tolist() == [0, 0, 0, 0]
    assert D.fiber([1, 1]).tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(D.normalised_fiber([0, 1]), [0, 0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(D.normalised_fiber([1, 0]), [1, 0, 0, 0])
    with pytest.raises(ValueError):
        D.normalised_fiber([2, 2])


def test_fibers_at_n2_and_n1():
    D2 = DataTensor.from_tuples(CORPUS, V=V, n=2)
    assert D2.fiber([0]).tolist() == [0, 3, 1, 0]
    assert D2.fiber([1]).tolist() == [1, 0, 0, 0]
    assert D2.fiber([2]).tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(D2.normalised_fiber([0]), [0, 0.75, 0.25, 0])
    D1 = DataTensor.from_tuples(CORPUS, V=V, n=1)
    assert D1.fiber([]).tolist() == [4, 1, 0, 0]
    np.testing.assert_allclose(D1.normalised_fiber([]), [0.8, 0.2, 0, 0])


def random_corpus(seed: int, V: int, N: int, L: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # small V so that prefixes and whole tuples repeat
    return rng.integers(0, V, size=(N, L)).astype(np.int64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_equals_add_at_reference(seed):
    Vr, L = 3, 4
    tuples = random_corpus(seed, Vr, 40, L)
    for n in range(1, L + 1):
        D = DataTensor.from_tuples(tuples, V=Vr, n=n)
        ref = np.zeros((Vr,) * n)
        np.add.at(ref, tuple(tuples[:, :n].T), 1)
        dense = D.dense()
        assert dense.shape == (Vr,) * n
        np.testing.assert_array_equal(dense, ref)
        # every fiber (observed or not) is the matching slice of the dense tensor
        for ctx in itertools.product(range(Vr), repeat=n - 1):
            np.testing.assert_array_equal(D.fiber(ctx), ref[ctx])
            if ref[ctx].sum() > 0:
                np.testing.assert_allclose(D.normalised_fiber(ctx), ref[ctx] / ref[ctx].sum())
        # observed contexts are exactly those with a non-zero fiber
        observed = sorted(c for c in itertools.product(range(Vr), repeat=n - 1) if ref[c].sum() > 0)
        assert [tuple(c) for c in D.contexts.tolist()] == observed


def test_dense_limit_raises():
    D = DataTensor.from_tuples(CORPUS, V=V, n=3)
    assert D.dense(limit=V**3).shape == (4, 4, 4)
    with pytest.raises(ValueError, match="dense limit"):
        D.dense(limit=V**3 - 1)
    huge = DataTensor.from_tuples(np.array([[0, 1, 2, 3]]), V=100, n=4)
    assert 100**4 > DENSE_LIMIT
    with pytest.raises(ValueError):
        huge.dense()


def test_encode_is_base_v():
    coords = np.array([[0, 0, 0], [0, 0, 1], [1, 2, 3], [3, 3, 3]], dtype=np.int64)
    assert encode(coords, 4).tolist() == [0, 1, 1 * 16 + 2 * 4 + 3, 63]
    assert encode(np.zeros((2, 0), dtype=np.int64), 4).tolist() == [0, 0]
    with pytest.raises(OverflowError):
        encode(np.zeros((1, 7), dtype=np.int64), 1 << 9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_keys_sorted_and_unique(seed):
    Vr = 5
    tuples = random_corpus(seed, Vr, 200, 3)
    D = DataTensor.from_tuples(tuples, V=Vr)
    keys = D.keys()
    assert keys.dtype == np.int64
    assert (np.diff(keys) > 0).all()  # strictly increasing: sorted and unique
    expected = sorted({a * Vr * Vr + b * Vr + c for a, b, c in tuples.tolist()})
    assert keys.tolist() == expected
    ckeys = encode(D.contexts, Vr)
    assert (np.diff(ckeys) > 0).all()
