"""Double descent with random-features regression, plus a toy-transformer panel.

See ``docs/glossary.md#double-descent``.

A fixed random feature map ``phi(x) = relu(W x + b)`` (or ``sqrt(2) cos(W x + b)``) is
fitted by minimum-norm least squares to noisy samples of a smooth target
``y = sin(u . x)`` in ``dim`` dimensions. As the number of features ``P`` grows
past the number of training samples ``n``, the train error reaches zero and the
test error falls, rises to a peak at the interpolation threshold ``P = n`` (one
interpolating solution, forced through the noise by tiny singular values), then
falls again (many interpolants; the minimum-norm one is smooth).

Example
-------
>>> rows = sweep(samples=20, features_max=80, seeds=3, features=[5, 20, 80])
>>> [r["features"] for r in rows]
[5, 20, 80]
>>> peak = max(rows, key=lambda r: r["mean_test_error"])
>>> peak["features"], rows[2]["mean_train_error"] < 1e-12
(20, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from artifactlab.data import random_triples
from artifactlab.device import place
from artifactlab.errors import InputError
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.train import TrainConfig, train

FeatureKind = Literal["relu", "fourier"]
KINDS: tuple[str, ...] = ("relu", "fourier")
#: share of the random triples held out in the artifacts panel
HOLDOUT_SHARE = 0.2


@dataclass(frozen=True)
class Problem:
    """A regression task and its feature family (everything but the seed and ``P``).

    Attributes
    ----------
    samples : int
        Training points ``n``.
    dim : int
        Input dimension ``d``; inputs are standard normal.
    noise : float
        Standard deviation of the Gaussian noise on the training targets.
    n_test : int
        Held-out points (noise-free targets: the test error is the error against ``f``).
    kind : {"relu", "fourier"}
        Feature family.
    ridge : float
        Ridge penalty ``lambda`` (0: the minimum-norm least-squares solution).
    """

    samples: int = 40
    dim: int = 5
    noise: float = 0.2
    n_test: int = 1000
    kind: FeatureKind = "relu"
    ridge: float = 0.0

    def __post_init__(self) -> None:
        if self.samples < 2:
            raise InputError("--samples", f"must be >= 2, got {self.samples}")
        if self.dim < 1 or self.n_test < 1:
            raise InputError("--dim/--test-samples", "must be >= 1")
        if self.noise < 0 or self.ridge < 0:
            raise InputError("--noise/--ridge", "must be >= 0")
        if self.kind not in KINDS:
            raise InputError("--kind", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class Draw:
    """One seed's data and its largest feature map (smaller maps use the first ``P`` rows)."""

    X: np.ndarray  # (n, d)
    y: np.ndarray  # (n,)
    X_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)
    W: np.ndarray  # (P_max, d)
    b: np.ndarray  # (P_max,)


def draw(problem: Problem, features_max: int, seed: int) -> Draw:
    """Draw the target, the data and ``features_max`` random features from ``seed``."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(problem.dim)
    u /= np.linalg.norm(u)  # unit direction: the target varies on the scale of the inputs
    X = rng.standard_normal((problem.samples, problem.dim))
    X_test = rng.standard_normal((problem.n_test, problem.dim))
    y = np.sin(X @ u) + problem.noise * rng.standard_normal(problem.samples)
    W = rng.standard_normal((features_max, problem.dim)) / np.sqrt(problem.dim)
    if problem.kind == "fourier":
        b = rng.uniform(0.0, 2 * np.pi, features_max)  # random phases
    else:
        b = rng.standard_normal(features_max)
    return Draw(X, y, X_test, np.sin(X_test @ u), W, b)


def feature_map(X: np.ndarray, W: np.ndarray, b: np.ndarray, kind: FeatureKind) -> np.ndarray:
    """Feature matrix ``phi(X)``: (m, d) inputs, (P, d) weights -> (m, P)."""
    Z = X @ W.T + b  # (m, P)
    return np.sqrt(2.0) * np.cos(Z) if kind == "fourier" else np.maximum(Z, 0.0)


def fit(Phi: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Coefficients minimising ``|Phi w - y|^2 + ridge * |w|^2``; minimum norm when ``ridge=0``.

    Computed from the SVD ``Phi = U S V^T`` as ``w = V diag(s / (s^2 + ridge)) U^T y``;
    with ``ridge=0`` singular values below the usual ``pinv`` cutoff are dropped, so
    the result is ``pinv(Phi) @ y``.
    """
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    keep = s > s.max(initial=0.0) * max(Phi.shape) * np.finfo(Phi.dtype).eps
    safe = np.where(keep, s, 1.0)
    gain = np.where(keep, safe / (safe**2 + ridge), 0.0)
    return Vt.T @ (gain * (U.T @ y))


def errors(data: Draw, n_features: int, problem: Problem) -> tuple[float, float]:
    """Train and test mean squared error with the first ``n_features`` features."""
    W, b = data.W[:n_features], data.b[:n_features]
    Phi = feature_map(data.X, W, b, problem.kind)
    w = fit(Phi, data.y, problem.ridge)
    train_mse = float(np.mean((Phi @ w - data.y) ** 2))
    test_mse = float(np.mean((feature_map(data.X_test, W, b, problem.kind) @ w - data.y_test) ** 2))
    return train_mse, test_mse


def feature_grid(samples: int, features_max: int, n_points: int) -> list[int]:
    """About ``n_points`` feature counts from 1 to ``features_max``, log-spaced, with ``samples``.

    The threshold and its two neighbours are always included, so the peak is resolved.
    """
    grid = np.geomspace(1, features_max, max(n_points, 2)).round().astype(int)
    extra = [samples - 1, samples, samples + 1]
    return sorted({int(p) for p in grid} | {p for p in extra if 1 <= p <= features_max})


def sweep(
    samples: int = 40,
    features_max: int = 200,
    seeds: int = 10,
    n_points: int = 30,
    *,
    problem: Problem | None = None,
    features: Sequence[int] | None = None,
    seed: int = 0,
    advance: Callable[[int], None] | None = None,
) -> list[dict[str, float | int]]:
    """Train and test error of min-norm random-features regression against the feature count.

    Parameters
    ----------
    samples, features_max : int
        Training points ``n`` and the largest feature count.
    seeds : int
        Repetitions; repetition ``i`` draws data and features from seed ``seed + i``.
    n_points : int
        Size of the log-spaced grid (see :func:`feature_grid`); ignored with ``features``.
    problem : Problem, optional
        Task and feature family; its ``samples`` is replaced by ``samples``.
    features : sequence of int, optional
        Explicit feature counts instead of the grid.
    seed : int
        First seed.
    advance : callable, optional
        Called with 1 after each (feature count, seed) fit, for a progress bar.

    Returns
    -------
    list of dict
        One row per feature count: ``features``, ``mean_train_error``, ``mean_test_error``,
        ``std_test_error`` (across seeds), ``median_test_error`` and ``seeds``.
    """
    base = problem or Problem()
    problem = Problem(samples, base.dim, base.noise, base.n_test, base.kind, base.ridge)
    counts = sorted(set(features)) if features else feature_grid(samples, features_max, n_points)
    draws = [draw(problem, max(counts), seed + i) for i in range(seeds)]
    rows = []
    for P in counts:
        results = []
        for data in draws:
            results.append(errors(data, P, problem))
            if advance is not None:
                advance(1)
        train_err, test_err = np.array(results).T
        rows.append(
            {
                "features": P,
                "mean_train_error": float(train_err.mean()),
                "mean_test_error": float(test_err.mean()),
                "std_test_error": float(test_err.std(ddof=1)) if seeds > 1 else 0.0,
                "median_test_error": float(np.median(test_err)),
                "seeds": seeds,
            }
        )
    return rows


def summarise(rows: Sequence[dict[str, float | int]], samples: int) -> dict[str, float | int]:
    """Peak location and the test error at the peak, at ``P = n`` and well below / above it.

    "Well below" is the grid point nearest ``n / 4``, "well above" the one nearest ``4 n``.
    """
    by_p = {int(r["features"]): float(r["mean_test_error"]) for r in rows}

    def nearest(target: float) -> int:
        return min(by_p, key=lambda p: (abs(np.log(p / target)), p))

    peak = max(by_p, key=by_p.__getitem__)
    below, at, above = nearest(samples / 4), nearest(samples), nearest(4 * samples)
    return {
        "samples": samples,
        "peak_features": peak,
        "peak_test_error": by_p[peak],
        "threshold_features": at,
        "threshold_test_error": by_p[at],
        "below_features": below,
        "below_test_error": by_p[below],
        "above_features": above,
        "above_test_error": by_p[above],
        "peak_over_below": by_p[peak] / by_p[below],
        "peak_over_above": by_p[peak] / by_p[above],
        "double_descent": bool(by_p[at] > by_p[below] and by_p[at] > by_p[above]),
    }


def artifacts_trial(V: int, N: int, d_model: int, seed: int, max_steps: int = 400) -> dict:
    """Train a toy transformer on 80% of a random triple set; artifacts and held-out error.

    Random triples have no structure to generalise: a held-out triple's object is a
    fresh uniform draw, so the held-out error (share of held-out triples whose object
    is not the argmax) sits near ``1 - 1/V`` at every width. That is the honest result;
    the panel shows artifacts growing with capacity while the test error stays flat.
    """
    ds = random_triples(V=V, N=N, seed=seed)
    order = np.random.default_rng(seed).permutation(N)
    n_test = max(1, round(HOLDOUT_SHARE * N))
    test, train_rows = ds.tuples[order[:n_test]], ds.tuples[order[n_test:]]
    model = place(ToyTransformer(ToyTransformerConfig(V=V, d_model=d_model, n_heads=1), seed=seed))
    result = train(model, train_rows, TrainConfig(max_steps=max_steps, seed=seed))
    D = DataTensor.from_tuples(train_rows, V)
    report = evaluate_completion(model.next_token_fn(), D, taus=(0.5,), top_k=0)
    with torch.no_grad():
        guess = model.next_token_logits(torch.as_tensor(test[:, :2])).argmax(dim=1).cpu().numpy()
    return {
        "V": V,
        "N": N,
        "n_train": len(train_rows),
        "n_test": n_test,
        "d_model": d_model,
        "seed": seed,
        "params_non_embedding": model.n_non_embedding_params(),
        "train_accuracy": result.accuracy,
        "n_artifacts@0.5": report.n_artifacts[0.5],
        "test_error": float(np.mean(guess != test[:, 2])),
    }


def artifacts_sweep(
    V: int = 32,
    N: int = 200,
    widths: Sequence[int] = (2, 4, 8, 16, 32),
    seeds: int = 1,
    max_steps: int = 400,
    advance: Callable[[int], None] | None = None,
) -> list[dict]:
    """:func:`artifacts_trial` over widths ``d_model`` and seeds ``0..seeds-1``, one row each."""
    rows = []
    for d_model in widths:
        for seed in range(seeds):
            rows.append(artifacts_trial(V, N, d_model, seed, max_steps))
            if advance is not None:
                advance(1)
    return rows
