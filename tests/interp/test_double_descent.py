"""Random-features double descent: min-norm fit, interpolation, the peak at features = samples."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.errors import InputError
from artifactlab.interp import double_descent as dd

SAMPLES = 40
GRID = [10, 20, 30, 39, 40, 41, 50, 80, 160]


@pytest.fixture(scope="module")
def curve() -> dict[int, dict]:
    rows = dd.sweep(SAMPLES, 160, seeds=10, features=GRID, problem=dd.Problem(noise=0.2))
    return {r["features"]: r for r in rows}


def test_min_norm_equals_pinv():
    rng = np.random.default_rng(0)
    Phi, y = rng.standard_normal((8, 20)), rng.standard_normal(8)
    w = dd.fit(Phi, y)
    np.testing.assert_allclose(w, np.linalg.pinv(Phi) @ y, atol=1e-10)
    np.testing.assert_allclose(w, np.linalg.lstsq(Phi, y, rcond=None)[0], atol=1e-10)
    np.testing.assert_allclose(Phi @ w, y, atol=1e-10)  # interpolates


def test_ridge_matches_normal_equations():
    rng = np.random.default_rng(1)
    Phi, y = rng.standard_normal((12, 5)), rng.standard_normal(12)
    expected = np.linalg.solve(Phi.T @ Phi + 0.3 * np.eye(5), Phi.T @ y)
    np.testing.assert_allclose(dd.fit(Phi, y, ridge=0.3), expected, atol=1e-10)


def test_train_error_vanishes_past_threshold(curve):
    for P in (50, 80, 160):
        assert curve[P]["mean_train_error"] < 1e-12
    # at P = n, n + 1 a seed can lose rank to a ReLU unit that is dead on every sample
    for P in (40, 41):
        assert curve[P]["mean_train_error"] < 0.25 * 0.2**2  # noise variance 0.04
    assert curve[10]["mean_train_error"] > 0.01  # underparameterised: cannot fit the noise


def test_test_error_peaks_at_threshold(curve):
    at = curve[SAMPLES]["mean_test_error"]
    assert at > 5 * curve[SAMPLES // 4]["mean_test_error"]  # well below
    assert at > 5 * curve[4 * SAMPLES]["mean_test_error"]  # well above
    peak = max(curve, key=lambda p: curve[p]["mean_test_error"])
    assert peak in (SAMPLES - 1, SAMPLES, SAMPLES + 1)
    summary = dd.summarise(list(curve.values()), SAMPLES)
    assert summary["double_descent"] and summary["below_features"] == 10


def test_ridge_dampens_peak(curve):
    ridged = dd.sweep(SAMPLES, 160, 10, features=[SAMPLES], problem=dd.Problem(ridge=1e-2))
    assert ridged[0]["mean_test_error"] < curve[SAMPLES]["mean_test_error"] / 5


def test_fourier_features_also_peak():
    rows = dd.sweep(20, 80, 6, features=[5, 20, 80], problem=dd.Problem(kind="fourier"))
    test = [r["mean_test_error"] for r in rows]
    assert test[1] > test[0] and test[1] > test[2]


def test_grid_and_seeds_are_reproducible():
    grid = dd.feature_grid(40, 200, 10)
    assert {39, 40, 41} <= set(grid) and grid[0] == 1 and grid[-1] == 200
    assert dd.sweep(10, 20, 2, 5) == dd.sweep(10, 20, 2, 5)


@pytest.mark.parametrize("kwargs", [{"samples": 1}, {"kind": "poly"}, {"noise": -1.0}])
def test_bad_problem(kwargs):
    with pytest.raises(InputError):
        dd.Problem(**kwargs)


def test_artifacts_trial_small():
    row = dd.artifacts_trial(V=8, N=20, d_model=4, seed=0, max_steps=30)
    assert row["n_train"] == 16 and row["n_test"] == 4
    assert 0.0 <= row["test_error"] <= 1.0 and row["n_artifacts@0.5"] >= 0
