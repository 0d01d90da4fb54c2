"""Hull membership: the fast path against the one-LP-per-point reference, boundaries included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from artifactlab.interp import hull
from artifactlab.interp.hull import hull_membership, in_hull, in_hull_reference

MARGIN = 1e-6  # "just inside / just outside", far above tol = 1e-9


def reference(X, P):
    return np.array([in_hull_reference(X, p) for p in P])


def simplex(d):
    return np.vstack([np.zeros(d), np.eye(d)])


def cube(d):
    return np.array(list(itertools.product([0.0, 1.0], repeat=d)))


def boundary_points(X, d):
    """Vertices, edge midpoints, face centers, and points MARGIN inside / outside a facet."""
    rng = np.random.default_rng(d)
    edges = [(X[i] + X[j]) / 2 for i, j in itertools.combinations(range(min(len(X), 6)), 2)]
    center = X.mean(axis=0)
    if len(X) == d + 1:  # simplex: the facet sum(x) = 1, outward normal along ones
        face, outward = np.full(d, 1.0 / d), np.ones(d) / np.sqrt(d)
    else:  # cube: center of the facet x_0 = 0, outward normal -e_0
        face, outward = np.full(d, 0.5), -np.eye(d)[0]
        face[0] = 0.0
    pts = [*X, *edges, center, face, face - MARGIN * outward, face + MARGIN * outward]
    pts += list(rng.uniform(-0.2, 1.2, (20, d)))
    return np.array(pts)


@pytest.mark.parametrize("d", [2, 3, 10])
@pytest.mark.parametrize("shape", [simplex, cube])
def test_boundary_cases_match_reference(d, shape):
    X = shape(d)
    P = boundary_points(X, d)
    fast = in_hull(X, P)
    np.testing.assert_array_equal(fast, reference(X, P))
    assert fast[: len(X)].all()  # vertices
    n_fixed = len(P) - 20
    assert fast[n_fixed - 4 : n_fixed - 1].all()  # center, facet point, just inside
    assert not fast[n_fixed - 1]  # just outside


def test_margin_outside_each_simplex_facet_in_10d():
    d = 10
    X = simplex(d)
    inner = np.full(d, 1.0 / d)  # on the facet sum(x) = 1
    P = np.array([inner, inner * (1 - MARGIN), inner * (1 + MARGIN), -MARGIN * np.eye(d)[3]])
    np.testing.assert_array_equal(in_hull(X, P), [True, True, False, False])
    np.testing.assert_array_equal(reference(X, P), [True, True, False, False])


@pytest.mark.parametrize(("d", "n", "scale"), [(2, 15, 1.0), (4, 30, 0.8), (8, 60, 0.5)])
def test_random_batches_match_reference(d, n, scale):
    rng = np.random.default_rng(100 + d)
    X = rng.standard_normal((n, d))
    P = rng.standard_normal((60, d)) * scale
    fast = in_hull(X, P)
    assert 0 < fast.sum() < len(P)
    np.testing.assert_array_equal(fast, reference(X, P))


def test_degenerate_hull_on_a_plane():
    rng = np.random.default_rng(7)
    basis = np.linalg.qr(rng.standard_normal((5, 2)))[0]  # (5, 2): a plane in 5-D
    X = rng.standard_normal((40, 2)) @ basis.T
    on_plane = rng.uniform(-0.3, 0.3, (15, 2)) @ basis.T
    normal = np.linalg.svd(basis.T)[2][-1]  # orthogonal to the plane
    off_plane = on_plane + 1e-3 * normal
    P = np.vstack([on_plane, off_plane])
    fast = in_hull(X, P)
    np.testing.assert_array_equal(fast, reference(X, P))
    assert fast[:15].all() and not fast[15:].any()


def test_input_order_and_stage_counts():
    X = cube(3)
    P = np.array([[5, 5, 5], [0.5, 0.5, 0.5], [1, 1, 1], [1.2, 0.5, 0.5], [0.9, 0.1, 0.2]])
    res = hull_membership(X, P)
    assert res.inside.tolist() == [False, True, True, False, True]
    assert sum(res.stages.values()) == len(P) and res.stages["training_point"] == 1
    ticks = []
    in_hull(X, P, progress=ticks.append)
    assert sum(ticks) == len(P)


@pytest.mark.parametrize("d", [3, 6, 12])
def test_prefilters_never_reject_inside_points(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((50, d))
    P = np.vstack([rng.standard_normal((40, d)), rng.dirichlet(np.ones(50), 20) @ X])
    truth = reference(X, P)
    tol = 1e-9
    box = ((P < X.min(0) - tol) | (P > X.max(0) + tol)).any(axis=1)
    nearest = hull._nearest(X, P, (X * X).sum(axis=1))
    center = hull._separated(X, P, P - X.mean(axis=0), tol)
    near = hull._separated(X, P, P - X[nearest], tol)
    for says_outside in (box, center, near):
        assert not (says_outside & truth).any()
    assert truth[40:].all()


def test_lp_stage_alone_matches_reference():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 6))  # enough points that column generation really iterates
    lp = hull._LinearProgram(X)
    P = rng.standard_normal((15, 6)) * 0.7
    np.testing.assert_array_equal([lp.decide(p, 1e-9) for p in P], reference(X, P))


def test_experiment_rows_and_determinism():
    rows = hull.interpolation_rate_experiment([1, 4], [20, 50], n_test=30, seed=1)
    assert [(d, n) for d, n, _ in rows] == [(1, 20), (1, 50), (4, 20), (4, 50)]
    assert rows == hull.interpolation_rate_experiment([1, 4], [20, 50], n_test=30, seed=1)
    assert rows[0][2] > rows[2][2]  # 1-D interpolates more than 4-D
