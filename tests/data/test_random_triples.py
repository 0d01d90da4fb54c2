"""Random triple databases: shape, distinctness, seeding, uniformity, ranges."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.data import random_triples
from artifactlab.errors import InputError


def contexts(tuples: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(r) for r in tuples[:, :2].tolist()]


def test_shape_and_vocabulary():
    ds = random_triples(V=12, N=30, seed=0)
    assert ds.tuples.shape == (30, 3)
    assert ds.tuples.dtype == np.int64
    assert ds.vocab.V == 12
    assert ds.vocab.tokens == tuple(f"t{i}" for i in range(12))
    assert ds.tuples.min() >= 0 and ds.tuples.max() < 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_contexts_are_distinct_and_sorted(seed):
    ds = random_triples(V=10, N=60, seed=seed)
    ctx = contexts(ds.tuples)
    assert len(set(ctx)) == 60
    assert ctx == sorted(ctx)


def test_all_contexts_when_n_equals_v_squared():
    ds = random_triples(V=4, N=16, seed=3)
    assert sorted(contexts(ds.tuples)) == [(s, r) for s in range(4) for r in range(4)]


def test_reproducible_by_seed():
    a = random_triples(V=15, N=40, seed=7)
    b = random_triples(V=15, N=40, seed=7)
    np.testing.assert_array_equal(a.tuples, b.tuples)
    a3 = random_triples(V=15, N=40, seed=7, k=3)
    b3 = random_triples(V=15, N=40, seed=7, k=3)
    np.testing.assert_array_equal(a3.tuples, b3.tuples)


def test_different_across_seeds():
    draws = [random_triples(V=15, N=40, seed=s).tuples for s in range(5)]
    for i in range(len(draws)):
        for j in range(i + 1, len(draws)):
            assert not np.array_equal(draws[i], draws[j])
    # both the contexts and the objects change with the seed
    assert contexts(draws[0]) != contexts(draws[1])
    assert draws[0][:, 2].tolist() != draws[1][:, 2].tolist()


def chi_square(values: np.ndarray, n_bins: int) -> float:
    observed = np.bincount(values, minlength=n_bins)
    expected = len(values) / n_bins
    return float(((observed - expected) ** 2 / expected).sum())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [1, 4])
def test_objects_roughly_uniform(seed, k):
    V = 20
    ds = random_triples(V=V, N=300, seed=seed, k=k)
    stat = chi_square(ds.tuples[:, 2], V)
    # chi-square with V-1 = 19 dof: mean 19, sd ~6.2; 80 is ~10 sd out (never flakes),
    # while a constant or half-range object column would score in the thousands
    assert stat < 80, stat
    # every object appears (300 * k draws over 20 objects)
    assert len(np.unique(ds.tuples[:, 2])) == V


def test_subjects_and_relations_roughly_uniform():
    ds = random_triples(V=20, N=300, seed=5)
    assert chi_square(ds.tuples[:, 0], 20) < 80
    assert chi_square(ds.tuples[:, 1], 20) < 80


def test_separate_ranges():
    S, R, Ob = 7, 3, 11
    ds = random_triples(V=999, N=18, seed=0, ranges=(S, R, Ob))
    t = ds.tuples
    assert ds.vocab.V == S + R + Ob
    assert ds.vocab.tokens[:S] == tuple(f"s{i}" for i in range(S))
    assert ds.vocab.tokens[S : S + R] == tuple(f"r{i}" for i in range(R))
    assert ds.vocab.tokens[S + R :] == tuple(f"o{i}" for i in range(Ob))
    assert ((0 <= t[:, 0]) & (t[:, 0] < S)).all()
    assert ((S <= t[:, 1]) & (t[:, 1] < S + R)).all()
    assert ((S + R <= t[:, 2]) & (t[:, 2] < S + R + Ob)).all()
    assert len(set(contexts(t))) == 18
    # all of the small ranges get used
    big = random_triples(V=1, N=S * R, seed=1, ranges=(S, R, Ob))
    assert set(big.tuples[:, 0].tolist()) == set(range(S))
    assert set(big.tuples[:, 1].tolist()) == set(range(S, S + R))


def test_separate_ranges_objects_uniform():
    S, R, Ob = 10, 10, 15
    ds = random_triples(V=1, N=90, seed=2, k=5, ranges=(S, R, Ob))
    assert chi_square(ds.tuples[:, 2] - (S + R), Ob) < 70


@pytest.mark.parametrize("ranges", [None, (5, 4, 6)])
def test_k_distinct_objects_per_context(ranges):
    k, N = 4, 12
    ds = random_triples(V=6, N=N, seed=1, k=k, ranges=ranges)
    assert ds.tuples.shape == (N * k, 3)
    by_ctx: dict[tuple[int, int], list[int]] = {}
    for s, r, o in ds.tuples.tolist():
        by_ctx.setdefault((s, r), []).append(o)
    assert len(by_ctx) == N
    for objs in by_ctx.values():
        assert len(objs) == k
        assert len(set(objs)) == k


def test_k_equal_to_object_count_uses_every_object():
    ds = random_triples(V=5, N=6, seed=0, k=5)
    for i in range(6):
        assert sorted(ds.tuples[i * 5 : (i + 1) * 5, 2].tolist()) == list(range(5))


def test_n_too_large_raises():
    with pytest.raises(InputError, match="N=17"):
        random_triples(V=4, N=17, seed=0)
    with pytest.raises(InputError):
        random_triples(V=100, N=7, seed=0, ranges=(2, 3, 5))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"V": 0, "N": 1},
        {"V": 4, "N": 0},
        {"V": 4, "N": 2, "k": 0},
        {"V": 4, "N": 2, "k": 5},
        {"V": 4, "N": 2, "ranges": (2, 0, 3)},
        {"V": 4, "N": 2, "k": 4, "ranges": (2, 2, 3)},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(InputError):
        random_triples(seed=0, **kwargs)
