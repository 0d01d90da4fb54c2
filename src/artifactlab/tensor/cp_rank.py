"""CP rank of one dense tensor: settings, unfolding ranks, bounds and the CP-ALS search.

The CP rank (docs/glossary.md#cp-rank) is NP-hard to compute. It is estimated by CP-ALS
(:func:`tensorly.decomposition.parafac`) at ``r = 1, 2, ...`` until the relative error
``||X - X_r|| / ||X||`` of the best of several seeded restarts falls under ``tol``; every
error is computed here from the returned factors, never taken from tensorly (with a mask,
tensorly divides the masked residual by the norm of the whole imputed tensor). It is
bounded from below by the unfoldings (docs/glossary.md#unfolding-rank) and from above by
sums of slice ranks and the trivial bound. Ranks of datasets and of completions, built on
these, are in :mod:`artifactlab.tensor.rank`, which also re-exports every name here.

Example
-------
>>> import numpy as np
>>> a, b, c = np.eye(3)
>>> X = np.einsum("i,j,k->ijk", a, a, a) + np.einsum("i,j,k->ijk", b + c, b, c)
>>> result = tensor_rank(X, RankSettings(max_rank=4))
>>> result.unfolding_ranks, result.estimate, (result.lower, result.upper)
((2, 2, 2), 2, (2, 2))
>>> RankSettings(tol=1.5)
Traceback (most recent call last):
artifactlab.errors.InputError: --tol: must be a finite number in (0, 1), got 1.5
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from artifactlab.checks import at_least, finite, seed_value
from artifactlab.errors import InputError

#: most entries a data or completion tensor may have to be densified (V^n)
MAX_ENTRIES = 1 << 22

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RankSettings:
    """How ranks are estimated; validated here, whether they come from Python or the CLI.

    Attributes
    ----------
    max_rank : int
        Largest CP rank tried.
    tol : float
        A rank-r fit is exact enough when its relative error is below ``tol``, in (0, 1).
    rtol : float
        Numerical rank of a matrix: singular values above ``rtol * s_max``, in (0, 1).
        The default keeps float32 rounding (relative 1e-7, as in model logits) out.
    restarts : int
        CP-ALS runs per rank: the first from an SVD start, the others random.
    seed : int
        Seed of the random starts.
    n_iter : int
        ALS iterations per run.
    max_entries : int
        Densify a sparse tensor only up to this many entries.
    from_lower : bool
        Start the search at the lower bound: no rank below it can fit within ``tol``, so
        those fits are skipped (False: fit every rank from 1, to see their errors).
    """

    max_rank: int = 8
    tol: float = 1e-4
    rtol: float = 1e-6
    restarts: int = 3
    seed: int = 0
    n_iter: int = 200
    max_entries: int = MAX_ENTRIES
    from_lower: bool = True

    def __post_init__(self) -> None:
        at_least("--max-rank", self.max_rank, 1)
        at_least("--restarts", self.restarts, 1)
        at_least("--n-iter", self.n_iter, 1)
        at_least("--max-entries", self.max_entries, 1)
        seed_value("--seed", self.seed)
        for name in ("tol", "rtol"):
            finite(f"--{name}", getattr(self, name), low=0, high=1, low_open=True, high_open=True)

    def fits(self) -> int:
        """Most CP-ALS runs of one estimate (the length of its progress bar)."""
        return self.max_rank * self.restarts


@dataclass(frozen=True)
class RankFit:
    """Best relative error of rank-``rank`` fits over the restarts that ran."""

    rank: int
    error: float
    restarts: int


@dataclass(frozen=True)
class TensorRank:
    """Rank estimate and bounds of one tensor.

    Attributes
    ----------
    shape : tuple of int
        The tensor's shape.
    nnz : int
        Its non-zero entries.
    unfolding_ranks : tuple of int
        Numerical rank (``rtol``) of each mode-k unfolding; their maximum bounds the exact
        CP rank from below.
    estimate : int or None
        Least ``r <= max_rank`` with a fit error below ``tol``; None if there is none.
    lower, upper : int
        Bounds on the least rank of a tensor within ``tol`` of this one: ``lower`` from the
        unfoldings' tail energy, ``upper`` the estimate, the slice bound or the trivial bound.
    slice_bound, trivial_bound : int
        Upper bounds on the exact rank: the least sum of matrix ranks of two-mode slices,
        and the least product of all dimensions but one.
    fits : list of RankFit
        Per rank tried, the best error over restarts.
    """

    shape: tuple[int, ...]
    nnz: int
    unfolding_ranks: tuple[int, ...]
    estimate: int | None
    lower: int
    upper: int
    slice_bound: int
    trivial_bound: int
    tol: float
    rtol: float
    fits: list[RankFit] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {**asdict(self), "shape": list(self.shape)}


# --- bounds ------------------------------------------------------------------------------


def unfold(X: np.ndarray, mode: int) -> np.ndarray:
    """Mode-``mode`` unfolding, shape (X.shape[mode], X.size / X.shape[mode])."""
    return np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1)


def numerical_rank(s: np.ndarray, rtol: float) -> int:
    """Singular values ``s`` (descending) above ``rtol * s_max``."""
    return int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0


def unfolding_ranks(X: np.ndarray, rtol: float | None = None) -> tuple[int, ...]:
    """Numerical matrix rank of each mode-k unfolding of a tensor.

    A 0/1 tensor (bool, or every entry 0 or 1) has the repeated rows and columns of each
    unfolding dropped before its SVD: they leave the rank alone and shrink the SVD a lot (a
    thresholded completion at ``tau >= 0.5`` holds at most one entry a context, so at most
    ``V + 1`` distinct fibers).

    Parameters
    ----------
    X : numpy.ndarray
        The tensor, shape (d_1, ..., d_n).
    rtol : float, optional
        Count the singular values above ``rtol * s_max``: the rule of :func:`tensor_rank`
        (``RankSettings.rtol``). None: :func:`numpy.linalg.matrix_rank`'s default, above
        ``s_max * max(M, N) * eps`` for the M x N matrix whose SVD is taken (after repeats
        are dropped): the rule of the ``toy-artifacts`` trial's rank metrics. The two
        tolerances differ; both are kept so that neither caller's numbers change.

    Returns
    -------
    tuple of int
        The rank of ``X_(k)`` for k = 0..n-1, where ``X_(k)`` (:func:`unfold`) has mode k
        as rows; the last is the rank of the (contexts x next token) matrix.

    Examples
    --------
    >>> T = np.zeros((3, 3, 3), dtype=bool)
    >>> T[0, 1, 2] = T[1, 1, 2] = T[2, 0, 0] = True
    >>> unfolding_ranks(T), unfolding_ranks(T, rtol=1e-6)
    ((2, 2, 2), (2, 2, 2))
    """
    X = np.asarray(X)
    binary = X.dtype == bool or bool(np.all((X == 0) | (X == 1)))
    if binary:
        X = X.astype(bool, copy=False)
    ranks = []
    for k in range(X.ndim):
        mat = unfold(X, k)
        if binary:
            mat = _distinct_rows(_distinct_rows(mat.T).T)
        tall = np.ascontiguousarray(mat if mat.shape[0] >= mat.shape[1] else mat.T, np.float64)
        s = np.linalg.svd(tall, compute_uv=False)
        eps = max(tall.shape) * np.finfo(np.float64).eps  # numpy.linalg.matrix_rank's default
        ranks.append(numerical_rank(s, eps if rtol is None else rtol))
    return tuple(ranks)


def _distinct_rows(mat: np.ndarray) -> np.ndarray:
    """The distinct rows of a bool matrix, in first-seen order (``np.unique`` is slower)."""
    packed = np.ascontiguousarray(np.packbits(mat, axis=1))  # (rows, ceil(cols / 8))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    return mat[np.sort(first)]


def tail_rank(s: np.ndarray, tol: float) -> int:
    """Least ``k`` with ``sqrt(sum_{j >= k} s_j^2) < tol * ||s||`` (``s`` descending).

    Any matrix within relative Frobenius error ``tol`` of one with singular values ``s``
    has rank at least this (Eckart-Young).
    """
    energy = np.cumsum((s**2)[::-1])[::-1]  # energy[k] = sum_{j >= k} s_j^2
    if not s.size or energy[0] == 0:
        return 0
    return int(np.sum(np.sqrt(energy) >= tol * math.sqrt(energy[0])))


def slice_bound(X: np.ndarray, rtol: float) -> int:
    """Least, over pairs of modes, of the sum of the matrix ranks of the slices in them."""
    best = None
    for a in range(X.ndim):
        for b in range(a + 1, X.ndim):
            stack = np.moveaxis(X, (a, b), (-2, -1)).reshape(-1, X.shape[a], X.shape[b])
            s = np.linalg.svd(stack, compute_uv=False)  # (slices, min(da, db))
            total = int(np.sum(s > rtol * s.max())) if s.max() > 0 else 0
            best = total if best is None else min(best, total)
    return best if best is not None else 0


def trivial_bound(shape: Sequence[int]) -> int:
    """``min_k prod_{j != k} shape[j]``: a sum of that many rank-one terms always suffices."""
    return min(math.prod(shape) // d for d in shape) if all(shape) else 0


# --- CP fitting ----------------------------------------------------------------------------


def _start(settings: RankSettings, r: int, k: int) -> tuple[str, np.random.RandomState]:
    seed = np.random.SeedSequence([settings.seed, r, k]).generate_state(1)[0]
    return ("svd" if k == 0 else "random"), np.random.RandomState(seed)


def cp_error(X: np.ndarray, r: int, init, state, n_iter: int, mask=None):
    """One CP-ALS run: the fitted CP tensor and its dense reconstruction ``X_r``.

    When a rank-``r`` step is singular (more components than the data supports), the run
    is repeated with a ridge term ``1e-9 * ||X||^(2 (n-1) / n)``, small against the Gram
    matrices that ALS inverts. The caller measures every error from ``X_r``.
    """
    import tensorly as tl
    from tensorly.decomposition import parafac

    ridge = 1e-9 * float(np.linalg.norm(X)) ** (2 * (X.ndim - 1) / X.ndim)
    with tl.backend_context("numpy"), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", UserWarning)  # an SVD start wider than a mode: clipped
        for l2_reg in (0.0, ridge):
            try:
                cp = parafac(
                    X, r, n_iter_max=n_iter, init=init, random_state=state, tol=1e-10,
                    mask=mask, l2_reg=l2_reg,
                )  # fmt: skip
            except np.linalg.LinAlgError:
                continue
            Xr = tl.cp_to_tensor(cp)
            if np.isfinite(Xr).all():  # a diverged run (overflow) fits nothing either
                return cp, Xr
    return init, np.zeros_like(X)  # singular or diverged: count the run as fitting nothing


def _check_tensor(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2:
        raise InputError(
            "tensor", f"has order {X.ndim}", "rank needs a tensor of order >= 2 (tuples of 2+)"
        )
    if not np.isfinite(X).all():
        raise InputError("tensor", "holds NaN or infinite entries", "check the model or data")
    return X


def search_rank(
    fit: Callable[[int, int], float], settings: RankSettings, advance: Progress, lower: int
) -> tuple[int | None, list[RankFit]]:
    """Fit ``r = 1, 2, ...`` (restart ``k`` by ``fit(r, k)``) until an error is below ``tol``.

    Shared by :func:`tensor_rank` and :func:`artifactlab.tensor.rank.effective_rank`.

    Parameters
    ----------
    fit : callable
        ``fit(r, k)``: the error of restart ``k`` of a rank-``r`` fit.
    settings : RankSettings
        ``tol``, ``max_rank``, ``restarts`` and ``from_lower``.
    advance : callable
        Gets every run, and the runs left out at the end, so a progress bar always fills.
    lower : int
        With ``settings.from_lower`` the search starts here instead of 1.

    Returns
    -------
    estimate : int or None
        The first rank with an error below ``tol``; None if there is none.
    fits : list of RankFit
        Per rank tried, the best error over the restarts that ran (restarts of a rank
        stop at the first exact-enough fit).
    """
    fits: list[RankFit] = []
    for r in range(max(1, lower) if settings.from_lower else 1, settings.max_rank + 1):
        best, runs = math.inf, 0
        for k in range(settings.restarts):
            best, runs = min(best, fit(r, k)), runs + 1
            if best < settings.tol:
                break
        advance(runs)
        fits.append(RankFit(r, best, runs))
        if best < settings.tol:
            break
    advance(settings.fits() - sum(f.restarts for f in fits))
    return (fits[-1].rank if fits and fits[-1].error < settings.tol else None), fits


def tensor_rank(
    X: np.ndarray, settings: RankSettings | None = None, progress: Progress | None = None
) -> TensorRank:
    """Unfolding ranks, CP-rank estimate and bounds of a dense tensor of order >= 2.

    Parameters
    ----------
    X : numpy.ndarray
        The tensor, shape (d_1, ..., d_n).
    settings : RankSettings, optional
        Tolerances, ranks and restarts (defaults: :class:`RankSettings`).
    progress : callable, optional
        Called with the number of CP-ALS runs done (``settings.fits()`` in all).
    """
    settings, X = settings or RankSettings(), _check_tensor(X)
    advance = progress or (lambda k: None)
    unfolding = unfolding_ranks(X, settings.rtol)
    svals = [np.linalg.svd(unfold(X, k), compute_uv=False) for k in range(X.ndim)]
    lower = max(tail_rank(s, settings.tol) for s in svals)  # of X itself: repeats count
    sb, tb = slice_bound(X, settings.rtol), trivial_bound(X.shape)
    norm = float(np.linalg.norm(X))

    def fit(r: int, k: int) -> float:
        _, Xr = cp_error(X, r, *_start(settings, r, k), settings.n_iter)
        return float(np.linalg.norm(X - Xr)) / norm

    if norm == 0:  # the zero tensor has rank 0: nothing to fit
        estimate, fits = 0, []
        advance(settings.fits())
    else:
        estimate, fits = search_rank(fit, settings, advance, lower)
    upper = min(x for x in (estimate, sb, tb) if x is not None)
    return TensorRank(
        X.shape, int(np.count_nonzero(X)), unfolding, estimate, min(lower, upper), upper, sb, tb,
        settings.tol, settings.rtol, fits,
    )  # fmt: skip
