"""1-D fits inside and beyond the data: polynomials, piecewise-linear, splines, ReLU nets.

Interpolation is prediction inside ``[min x_i, max x_i]``, extrapolation outside it
(``docs/glossary.md#interpolation``). The interpolating polynomial through equispaced
samples of Runge's
function swings wildly near and beyond the ends; the piecewise-linear interpolant (what a
1-hidden-layer ReLU network represents) stays tame inside and extends linearly outside.

Example
-------
>>> x, y = make_points("runge", n=15, noise=0.0, seed=0)
>>> poly = fit("poly-interp", x, y)
>>> line = fit("linear", x, y)
>>> bool(np.allclose(poly(x), y, atol=1e-9))
True
>>> s_poly = evaluate_fit(poly, TARGETS["runge"], -1.0, 1.0, band=0.2)
>>> s_line = evaluate_fit(line, TARGETS["runge"], -1.0, 1.0, band=0.2)
>>> bool(s_poly.extrap_mse > 1000 * s_line.extrap_mse)
True
>>> net = ReluNet1D.from_weights([1.0, 1.0], [0.0, -0.5], [1.0, -1.0], 0.0)
>>> relu_breakpoints(net).tolist()
[0.0, 0.5]
>>> count_linear_pieces(net, -1.0, 1.0)
PieceCount(total=3, inside=3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from numpy.polynomial import Chebyshev
from scipy.interpolate import BarycentricInterpolator, CubicSpline, interp1d

from artifactlab.errors import InputError

Predict = Callable[[np.ndarray], np.ndarray]

TARGETS: dict[str, Predict] = {
    "runge": lambda x: 1.0 / (1.0 + 25.0 * np.asarray(x, dtype=float) ** 2),
    "sine": lambda x: np.sin(np.pi * np.asarray(x, dtype=float)),
    "abs": lambda x: np.abs(np.asarray(x, dtype=float)),
}


def make_points(
    target: str,
    n: int,
    noise: float = 0.0,
    seed: int = 0,
    lo: float = -1.0,
    hi: float = 1.0,
    spacing: str = "even",
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` training points of a named target, with Gaussian noise of std ``noise``.

    ``spacing="even"`` gives the equispaced grid of the interpolation classics (Runge);
    ``"uniform"`` draws x uniformly (sorted). Both x draws and noise use
    ``numpy.random.default_rng(seed)``.
    """
    if target not in TARGETS:
        raise InputError("--target", f"unknown target {target!r}", f"one of {sorted(TARGETS)}")
    if n < 2:
        raise InputError("--n", f"needs at least 2 points, got {n}")
    if noise < 0:
        raise InputError("--noise", f"must be >= 0, got {noise}")
    if spacing not in ("even", "uniform"):
        raise InputError("spacing", f"unknown spacing {spacing!r}", "'even' or 'uniform'")
    rng = np.random.default_rng(seed)
    x = np.linspace(lo, hi, n) if spacing == "even" else np.sort(rng.uniform(lo, hi, n))
    y = TARGETS[target](x) + noise * rng.standard_normal(n)
    return x, y


class ReluNet1D(torch.nn.Module):
    """``f(x) = sum_j w_out[j] * relu(w_in[j] * x + b_in[j]) + b_out`` in float64.

    Parameters
    ----------
    width : int
        Hidden units.
    generator : torch.Generator
        Source of the initial weights (PyTorch's default ``Linear`` ranges), so
        initialisation never touches the global RNG.
    """

    def __init__(self, width: int, generator: torch.Generator) -> None:
        super().__init__()

        def draw(shape: tuple[int, ...], bound: float) -> torch.nn.Parameter:
            u = torch.rand(shape, generator=generator, dtype=torch.float64)
            return torch.nn.Parameter((2.0 * u - 1.0) * bound)

        self.w_in = draw((width,), 1.0)  # fan_in 1 -> U(-1, 1)
        self.b_in = draw((width,), 1.0)
        self.w_out = draw((width,), width**-0.5)
        self.b_out = draw((), width**-0.5)

    @classmethod
    def from_weights(
        cls, w_in: Sequence[float], b_in: Sequence[float], w_out: Sequence[float], b_out: float
    ) -> ReluNet1D:
        """A network with the given weights (for hand-built cases)."""
        net = cls(len(w_in), torch.Generator().manual_seed(0))
        with torch.no_grad():
            for name, value in zip(
                ("w_in", "b_in", "w_out", "b_out"), (w_in, b_in, w_out, b_out), strict=True
            ):
                getattr(net, name).copy_(torch.as_tensor(value, dtype=torch.float64))
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate at ``x`` of shape (N,); returns shape (N,)."""
        hidden = torch.relu(x[:, None] * self.w_in + self.b_in)  # (N, width)
        return hidden @ self.w_out + self.b_out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """NumPy in, NumPy out."""
        with torch.no_grad():
            return self(torch.as_tensor(np.asarray(x, dtype=float))).numpy()


@dataclass
class Fit:
    """A fitted model: call it on x. ``train_mse`` is on the training points."""

    method: str
    predict: Predict
    train_mse: float
    net: ReluNet1D | None = None
    steps: int | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Predictions at ``x``."""
        return np.asarray(self.predict(np.asarray(x, dtype=float)), dtype=float)


def _distinct_sorted(method: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if np.any(np.diff(x) == 0):
        raise InputError(method, "needs distinct x values", "remove or average repeated x")
    return x, y


def _mse(predict: Predict, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict(x) - y) ** 2))


def fit_poly_interp(x: np.ndarray, y: np.ndarray, **_: object) -> Fit:
    """The polynomial of degree n-1 through all points, in barycentric form (stable)."""
    x, y = _distinct_sorted("poly-interp", x, y)
    predict = BarycentricInterpolator(x, y)
    return Fit("poly-interp", predict, _mse(predict, x, y))


def fit_poly_lsq(x: np.ndarray, y: np.ndarray, degree: int = 5, **_: object) -> Fit:
    """The least-squares polynomial of ``degree`` (Chebyshev basis on the data range)."""
    check_degree(x, degree)
    predict = Chebyshev.fit(x, y, degree)
    return Fit("poly-lsq", predict, _mse(predict, x, y))


def check_degree(x: np.ndarray, degree: int) -> None:
    """Raise InputError unless there are at least ``degree + 1`` distinct x values."""
    if degree < 0:
        raise InputError("--degree", f"must be >= 0, got {degree}")
    distinct = len(np.unique(x))
    if distinct < degree + 1:
        raise InputError(
            "--degree",
            f"degree {degree} needs at least {degree + 1} distinct points, got {distinct}",
            "lower --degree or add points",
        )


def fit_linear(x: np.ndarray, y: np.ndarray, **_: object) -> Fit:
    """Piecewise-linear interpolant; beyond the data it continues the end segments."""
    x, y = _distinct_sorted("linear", x, y)
    predict = interp1d(x, y, kind="linear", fill_value="extrapolate", assume_sorted=True)
    return Fit("linear", predict, _mse(predict, x, y))


def fit_spline(x: np.ndarray, y: np.ndarray, bc_type: str = "not-a-knot", **_: object) -> Fit:
    """Cubic spline through all points (``not-a-knot`` or ``natural``), extrapolating."""
    x, y = _distinct_sorted("spline", x, y)
    predict = CubicSpline(x, y, bc_type=bc_type, extrapolate=True)
    return Fit("spline", predict, _mse(predict, x, y))


def fit_relu(
    x: np.ndarray,
    y: np.ndarray,
    width: int = 32,
    seed: int = 0,
    tol: float = 1e-5,
    max_steps: int = 3000,
    lr: float = 3e-2,
    **_: object,
) -> Fit:
    """Train a 1-hidden-layer ReLU net (Adam, full batch, float64) until MSE < tol or the cap.

    Inputs and targets are standardised for training; the scaling is folded back into
    the weights afterwards, so ``Fit.net`` computes the fit in the original units and its
    breakpoints are real x positions.
    """
    if width < 1:
        raise InputError("--width", f"must be >= 1, got {width}")
    x_c, x_s = float(np.mean(x)), float(np.std(x)) or 1.0
    y_c, y_s = float(np.mean(y)), float(np.std(y)) or 1.0
    xt = torch.as_tensor((x - x_c) / x_s, dtype=torch.float64)
    yt = torch.as_tensor((y - y_c) / y_s, dtype=torch.float64)
    net = ReluNet1D(width, torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = 0
    for steps in range(max_steps + 1):  # noqa: B007 - steps is reported
        opt.zero_grad()
        loss = torch.mean((net(xt) - yt) ** 2)
        if loss.item() * y_s**2 < tol or steps == max_steps:
            break
        loss.backward()
        opt.step()
    net = _fold_scaling(net, x_c, x_s, y_c, y_s)
    return Fit("relu", net.predict, _mse(net.predict, x, y), net=net, steps=steps)


def _fold_scaling(net: ReluNet1D, x_c: float, x_s: float, y_c: float, y_s: float) -> ReluNet1D:
    """Rewrite ``y_c + y_s * net((x - x_c) / x_s)`` as one net on raw x (exact up to rounding)."""
    w, b = net.w_in.detach() / x_s, net.b_in.detach() - net.w_in.detach() * x_c / x_s
    return ReluNet1D.from_weights(
        w, b, net.w_out.detach() * y_s, float(net.b_out.detach()) * y_s + y_c
    )


FITTERS: dict[str, Callable[..., Fit]] = {
    "poly-interp": fit_poly_interp,
    "poly-lsq": fit_poly_lsq,
    "linear": fit_linear,
    "spline": fit_spline,
    "relu": fit_relu,
}


def fit(method: str, x: np.ndarray, y: np.ndarray, **opts: object) -> Fit:
    """Fit by registry name; options a fitter does not use are ignored."""
    if method not in FITTERS:
        raise InputError("--methods", f"unknown method {method!r}", f"one of {list(FITTERS)}")
    return FITTERS[method](np.asarray(x, dtype=float), np.asarray(y, dtype=float), **opts)


class FitScores(NamedTuple):
    """Errors of a fit: MSE inside the data range and in the two outside bands.

    ``None`` marks an error that cannot be measured (no reference values there).
    """

    interp_mse: float | None
    extrap_mse: float | None
    extrap_max: float | None


def evaluate_fit(
    predict: Predict, target_fn: Predict, lo: float, hi: float, band: float, n_grid: int = 2001
) -> FitScores:
    """Score ``predict`` against the noise-free ``target_fn`` on a dense grid.

    Interpolation: ``n_grid`` points in ``[lo, hi]`` (the data range). Extrapolation:
    ``n_grid // 2`` points in each of ``[lo - band, lo)`` and ``(hi, hi + band]``.
    """
    inside = np.linspace(lo, hi, n_grid)
    k = max(n_grid // 2, 2)
    left = np.linspace(lo - band, lo, k, endpoint=False)
    right = np.linspace(hi + band, hi, k, endpoint=False)[::-1]
    outside = np.concatenate([left, right])
    err_in = predict(inside) - target_fn(inside)
    err_out = predict(outside) - target_fn(outside)
    return FitScores(
        float(np.mean(err_in**2)), float(np.mean(err_out**2)), float(np.max(np.abs(err_out)))
    )


def evaluate_points(
    predict: Predict, x_test: np.ndarray, y_test: np.ndarray, lo: float, hi: float
) -> FitScores:
    """Score on held-out points (a CSV target has no formula): split at the data range.

    A side with no held-out points gets ``None``.
    """
    err = predict(np.asarray(x_test, dtype=float)) - np.asarray(y_test, dtype=float)
    mask = (x_test >= lo) & (x_test <= hi)
    e_in, e_out = err[mask], err[~mask]
    return FitScores(
        float(np.mean(e_in**2)) if e_in.size else None,
        float(np.mean(e_out**2)) if e_out.size else None,
        float(np.max(np.abs(e_out))) if e_out.size else None,
    )


class PieceCount(NamedTuple):
    """Linear pieces of a ReLU net on the whole line and inside ``[lo, hi]``."""

    total: int
    inside: int


def relu_breakpoints(net: ReluNet1D) -> np.ndarray:
    """Sorted ``x_j = -b_j / w_j`` of every unit with ``w_j != 0`` (with repeats)."""
    w = net.w_in.detach().numpy()
    b = net.b_in.detach().numpy()
    on = w != 0
    return np.sort(-b[on] / w[on]) + 0.0  # + 0.0 turns -0.0 into 0.0


def effective_breakpoints(net: ReluNet1D, rtol: float = 1e-9) -> np.ndarray:
    """Distinct breakpoints where the slope really changes.

    A unit ``a * relu(w x + b)`` changes the slope by ``a * |w|`` at ``-b / w`` (from 0
    to ``w`` going right when ``w > 0``; from ``w`` to 0 when ``w < 0``). Units sharing a
    breakpoint add their changes; a breakpoint counts only if the sum is not zero
    (relative to the largest change, tolerance ``rtol``).
    """
    w = net.w_in.detach().numpy()
    b = net.b_in.detach().numpy()
    a = net.w_out.detach().numpy()
    on = w != 0
    points, jumps = -b[on] / w[on], a[on] * np.abs(w[on])
    if points.size == 0:
        return points
    scale = max(float(np.max(np.abs(jumps))), np.finfo(float).tiny)
    distinct, group = np.unique(points, return_inverse=True)
    total_jump = np.bincount(group, weights=jumps, minlength=distinct.size)
    return distinct[np.abs(total_jump) > rtol * scale]


def count_linear_pieces(net: ReluNet1D, lo: float, hi: float) -> PieceCount:
    """Exact number of linear pieces: 1 + effective breakpoints (inside: strictly in (lo, hi))."""
    points = effective_breakpoints(net)
    inside = int(np.count_nonzero((points > lo) & (points < hi)))
    return PieceCount(total=points.size + 1, inside=inside + 1)


def count_pieces_numeric(
    predict: Predict, lo: float, hi: float, n_grid: int = 200_001, rtol: float = 1e-6
) -> int:
    """Slow reference: count slope changes of ``predict`` sampled densely on ``[lo, hi]``.

    A kink shows as one or two consecutive grid cells whose slope differs from its
    neighbours; runs of changed cells are merged so each kink counts once. Kinks closer
    than two grid cells apart are merged too (choose ``n_grid`` accordingly).
    """
    x = np.linspace(lo, hi, n_grid)
    slope = np.diff(predict(x)) / np.diff(x)
    scale = max(float(np.max(np.abs(slope))), 1.0)
    changed = np.abs(np.diff(slope)) > rtol * scale
    starts = np.count_nonzero(changed[1:] & ~changed[:-1]) + int(changed[0])
    return int(starts) + 1


class PiecesRow(NamedTuple):
    """One trained net of the pieces-vs-width sweep."""

    width: int
    seed: int
    train_mse: float
    steps: int
    n_pieces: int
    n_pieces_inside: int


def pieces_vs_width(
    x: np.ndarray,
    y: np.ndarray,
    widths: Sequence[int],
    seeds: Sequence[int] = (0, 1, 2),
    progress: Callable[[int], None] | None = None,
    **relu_opts: object,
) -> list[PiecesRow]:
    """Train a ReLU net per (width, seed) and count its linear pieces inside the data range."""
    lo, hi = float(np.min(x)), float(np.max(x))
    rows = []
    for width in widths:
        for seed in seeds:
            result = fit_relu(x, y, width=width, seed=seed, **relu_opts)
            assert result.net is not None
            count = count_linear_pieces(result.net, lo, hi)
            rows.append(PiecesRow(width, seed, result.train_mse, int(result.steps or 0), *count))
            if progress is not None:
                progress(1)
    return rows
