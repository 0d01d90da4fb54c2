"""1-D fits: interpolants, the Runge swing, linear extension, exact ReLU pieces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifactlab.errors import InputError
from artifactlab.interp import fit1d
from artifactlab.interp.fit1d import ReluNet1D


def test_targets_and_points_are_seeded():
    x1, y1 = fit1d.make_points("sine", 9, noise=0.1, seed=3, spacing="uniform")
    x2, y2 = fit1d.make_points("sine", 9, noise=0.1, seed=3, spacing="uniform")
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    x, y = fit1d.make_points("abs", 5)
    assert x.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert y.tolist() == [1.0, 0.5, 0.0, 0.5, 1.0]


@pytest.mark.parametrize("bad", [{"target": "nope", "n": 5}, {"target": "runge", "n": 1}])
def test_make_points_rejects_bad_input(bad):
    with pytest.raises(InputError):
        fit1d.make_points(**bad)


@pytest.mark.parametrize("method", ["poly-interp", "linear", "spline"])
def test_interpolants_pass_through_points(method):
    x, y = fit1d.make_points("runge", 12, noise=0.05, seed=1, spacing="uniform")
    fitted = fit1d.fit(method, x, y)
    np.testing.assert_allclose(fitted(x), y, atol=1e-9)


def test_barycentric_is_stable_on_41_chebyshev_points():
    k = np.arange(41)
    x = np.cos(np.pi * (2 * k + 1) / 82)  # Chebyshev points of the first kind
    y = fit1d.TARGETS["runge"](x)
    poly = fit1d.fit("poly-interp", x, y)
    np.testing.assert_allclose(poly(x), y, atol=1e-9)
    grid = np.linspace(-1, 1, 1001)
    # On Chebyshev points the degree-40 interpolant converges: no Runge swing.
    assert np.max(np.abs(poly(grid) - fit1d.TARGETS["runge"](grid))) < 1e-3


def test_runge_polynomial_swings_beyond_the_data_piecewise_linear_does_not():
    x, y = fit1d.make_points("runge", 15)
    target = fit1d.TARGETS["runge"]
    poly = fit1d.evaluate_fit(fit1d.fit("poly-interp", x, y), target, -1.0, 1.0, band=0.5)
    line = fit1d.evaluate_fit(fit1d.fit("linear", x, y), target, -1.0, 1.0, band=0.5)
    assert poly.extrap_mse > 1e6 * line.extrap_mse
    assert poly.extrap_max > 1e3 * line.extrap_max
    # Near the ends but inside the data, the polynomial already oscillates.
    ends = np.linspace(0.9, 1.0, 201)
    poly_end = np.max(np.abs(fit1d.fit("poly-interp", x, y)(ends) - target(ends)))
    line_end = np.max(np.abs(fit1d.fit("linear", x, y)(ends) - target(ends)))
    assert poly_end > 100 * line_end


def test_linear_extends_linearly():
    x, y = fit1d.make_points("sine", 7)
    fitted = fit1d.fit("linear", x, y)
    for side in (np.linspace(-3, -1, 50), np.linspace(1, 3, 50)):
        np.testing.assert_allclose(np.diff(fitted(side), 2), 0.0, atol=1e-12)
    slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
    assert fitted(np.array([2.0]))[0] == pytest.approx(y[-1] + slope * (2.0 - x[-1]))


def test_spline_extrapolates():
    x, y = fit1d.make_points("sine", 7)
    assert np.all(np.isfinite(fit1d.fit("spline", x, y)(np.array([-2.0, 2.0]))))
    natural = fit1d.fit("spline", x, y, bc_type="natural")
    np.testing.assert_allclose(natural(x), y, atol=1e-12)


def test_poly_lsq_degree_check():
    x, y = fit1d.make_points("sine", 4)
    with pytest.raises(InputError, match="at least 6 distinct points"):
        fit1d.fit("poly-lsq", x, y, degree=5)
    with pytest.raises(InputError, match="distinct"):
        fit1d.fit("poly-lsq", np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0]), degree=2)
    exact = fit1d.fit("poly-lsq", x, x**3, degree=3)
    assert exact.train_mse < 1e-20


def test_unknown_method_and_repeated_x():
    with pytest.raises(InputError, match="unknown method"):
        fit1d.fit("cubic-magic", np.zeros(3), np.zeros(3))
    with pytest.raises(InputError, match="distinct x"):
        fit1d.fit("linear", np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 2.0]))


def hand_net():
    # relu(x+1) - 2 relu(x) + relu(x-1): a hat on [-1, 1] -> breakpoints -1, 0, 1.
    # Extra units: w=0 (a constant), a zero outer weight at 0.5 (no kink), and two units
    # sharing 2.0 whose slope changes cancel (+1*|1| - 0.5*|2| = 0: no kink).
    w_in = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 2.0]
    b_in = [1.0, 0.0, -1.0, 3.0, -0.5, -2.0, -4.0]
    w_out = [1.0, -2.0, 1.0, 5.0, 0.0, 1.0, -0.5]
    return ReluNet1D.from_weights(w_in, b_in, w_out, 0.25)


def test_breakpoints_and_pieces_on_hand_built_net():
    net = hand_net()
    assert fit1d.relu_breakpoints(net).tolist() == [-1.0, 0.0, 0.5, 1.0, 2.0, 2.0]
    assert fit1d.effective_breakpoints(net).tolist() == [-1.0, 0.0, 1.0]
    assert fit1d.count_linear_pieces(net, -5.0, 5.0) == (4, 4)
    assert fit1d.count_linear_pieces(net, -0.5, 0.5) == (4, 2)
    assert fit1d.count_linear_pieces(net, 1.0, 3.0) == (4, 1)  # endpoints do not split
    # The function itself: 15 + hat + constant.
    x = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(net.predict(x), 15.25 + np.maximum(0, 1 - np.abs(x)))


def test_negative_input_weights_count_too():
    # relu(-x) + relu(x) = |x|: two units, one breakpoint, two pieces.
    net = ReluNet1D.from_weights([-1.0, 1.0], [0.0, 0.0], [1.0, 1.0], 0.0)
    assert fit1d.count_linear_pieces(net, -1, 1) == (2, 2)
    # relu(x) - relu(-x) = x: the kinks cancel (1*1 + (-1)*1 = 0).
    line = ReluNet1D.from_weights([1.0, -1.0], [0.0, 0.0], [1.0, -1.0], 0.0)
    assert fit1d.count_linear_pieces(line, -1, 1) == (1, 1)


def test_exact_count_matches_dense_sampling():
    net = ReluNet1D(6, torch.Generator().manual_seed(4))
    bps = fit1d.effective_breakpoints(net)
    assert np.min(np.diff(bps)) > 1e-3  # well separated, so the grid resolves them
    lo, hi = float(bps.min()) - 1.0, float(bps.max()) + 1.0
    exact = fit1d.count_linear_pieces(net, lo, hi)
    assert exact.total == exact.inside == fit1d.count_pieces_numeric(net.predict, lo, hi)
    assert fit1d.count_pieces_numeric(hand_net().predict, -3, 3) == 4


def test_relu_fits_a_small_set_and_reports_train_mse():
    x, y = fit1d.make_points("abs", 5)
    result = fit1d.fit("relu", x, y, width=16, seed=0, tol=1e-4, max_steps=2000)
    assert result.train_mse < 1e-4
    assert result.steps is not None and result.steps < 2000
    # The folded net computes the fit in raw units.
    np.testing.assert_allclose(result.net.predict(x), result(x))
    assert np.mean((result(x) - y) ** 2) == pytest.approx(result.train_mse)


def test_relu_is_seeded_and_leaves_global_rng_alone():
    x, y = fit1d.make_points("sine", 5)
    state = torch.get_rng_state()
    a = fit1d.fit("relu", x, y, width=4, seed=7, max_steps=20)
    b = fit1d.fit("relu", x, y, width=4, seed=7, max_steps=20)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(a(x), b(x))


def test_evaluate_points_splits_at_the_data_range():
    scores = fit1d.evaluate_points(lambda t: t, np.array([0.0, 0.5, 2.0]), np.zeros(3), 0, 1)
    assert scores.interp_mse == pytest.approx(0.125)
    assert scores.extrap_mse == pytest.approx(4.0)
    inside_only = fit1d.evaluate_points(lambda t: t, np.array([0.5]), np.zeros(1), 0, 1)
    assert inside_only.extrap_mse is None


def test_pieces_vs_width_rows():
    x, y = fit1d.make_points("abs", 5)
    calls = []
    rows = fit1d.pieces_vs_width(x, y, [2, 4], seeds=(0, 1), progress=calls.append, max_steps=30)
    assert [(r.width, r.seed) for r in rows] == [(2, 0), (2, 1), (4, 0), (4, 1)]
    assert len(calls) == 4
    assert all(1 <= r.n_pieces_inside <= r.n_pieces <= r.width + 1 for r in rows)
