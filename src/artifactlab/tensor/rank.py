"""Rank of tensors, of datasets (effective rank) and of completions, estimated and bounded.

The CP rank (docs/glossary.md#cp-rank) is NP-hard to compute. It is estimated by CP-ALS
(:func:`tensorly.decomposition.parafac`) at ``r = 1, 2, ...`` until the relative error
``||X - X_r|| / ||X||`` of the best of several seeded restarts falls under ``tol``; every
error is computed here from the returned factors, never taken from tensorly (with a mask,
tensorly divides the masked residual by the norm of the whole imputed tensor). It is
bounded from below by the unfoldings (docs/glossary.md#unfolding-rank) and from above by
sums of slice ranks and the trivial bound. The effective rank of a dataset
(docs/glossary.md#effective-rank) is estimated by masked CP fitting of its normalised
observed fibers, each with a free scale.

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

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from artifactlab.checks import at_least, finite, magnitude, seed_value
from artifactlab.errors import InputError
from artifactlab.tensor.data_tensor import DataTensor

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


@dataclass(frozen=True)
class EffectiveRank:
    """Effective rank of a dataset: least rank of a tensor consistent with its fibers.

    Attributes
    ----------
    n_fibers : int
        Observed fibers (the constraints).
    estimate : int or None
        Least ``r <= max_rank`` whose masked fit has fiber error below ``tol``.
    lower, upper : int
        ``lower``: tail-energy rank of the matrix of normalised observed fibers; ``upper``:
        the estimate or the data tensor's exact-rank bounds (D^n is consistent with itself).
    fits : list of RankFit
        Per rank, the best root-mean-square fiber error over restarts.
    """

    n_fibers: int
    estimate: int | None
    lower: int
    upper: int
    tol: float
    fits: list[RankFit] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)


# --- bounds ------------------------------------------------------------------------------


def unfold(X: np.ndarray, mode: int) -> np.ndarray:
    """Mode-``mode`` unfolding, shape (X.shape[mode], X.size / X.shape[mode])."""
    return np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1)


def numerical_rank(s: np.ndarray, rtol: float) -> int:
    """Singular values ``s`` (descending) above ``rtol * s_max``."""
    return int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0


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


def _search(
    fit: Callable[[int, int], float], settings: RankSettings, advance: Progress, lower: int
) -> tuple[int | None, list[RankFit]]:
    """Fit ``r = 1, 2, ...`` (restart ``k`` by ``fit(r, k)``) until an error is below ``tol``.

    With ``settings.from_lower`` the search starts at ``lower`` instead of 1.

    Restarts of a rank stop at the first exact-enough fit; ``advance`` gets every run, and
    the runs left out at the end, so a progress bar always fills.
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
    svals = [np.linalg.svd(unfold(X, k), compute_uv=False) for k in range(X.ndim)]
    unfolding = tuple(numerical_rank(s, settings.rtol) for s in svals)
    lower = max(tail_rank(s, settings.tol) for s in svals)
    sb, tb = slice_bound(X, settings.rtol), trivial_bound(X.shape)
    norm = float(np.linalg.norm(X))

    def fit(r: int, k: int) -> float:
        _, Xr = cp_error(X, r, *_start(settings, r, k), settings.n_iter)
        return float(np.linalg.norm(X - Xr)) / norm

    if norm == 0:  # the zero tensor has rank 0: nothing to fit
        estimate, fits = 0, []
        advance(settings.fits())
    else:
        estimate, fits = _search(fit, settings, advance, lower)
    upper = min(x for x in (estimate, sb, tb) if x is not None)
    return TensorRank(
        X.shape, int(np.count_nonzero(X)), unfolding, estimate, min(lower, upper), upper, sb, tb,
        settings.tol, settings.rtol, fits,
    )  # fmt: skip


# --- data tensors and effective rank ---------------------------------------------------------


def dense_data(D: DataTensor, max_entries: int = MAX_ENTRIES, binary: bool = False) -> np.ndarray:
    """``D^n`` as a dense float64 tensor (counts, or 0/1 with ``binary``); InputError if large."""
    check_dense("data tensor", D.V, D.n, max_entries)
    out = D.dense(limit=max_entries)
    return (out > 0).astype(np.float64) if binary else out


def check_dense(where: str, V: int, n: int, max_entries: int) -> int:
    """``V^n``, or InputError stating the size when it is more than ``max_entries``."""
    if n < 2:
        raise InputError(where, f"has order n = {n}", "rank needs tuples of length >= 2")
    digits = 1 + math.floor(n * math.log10(V)) if V > 1 else 1
    size = f"about 10^{digits - 1:,}" if digits > 30 else magnitude(V**n)
    if digits > 30 or V**n > max_entries:
        raise InputError(
            where,
            f"V^n = {V:,}^{n:,} = {size} entries is too many to densify (limit {max_entries:,})",
            "raise --max-entries (memory: 8 bytes an entry), or shrink the vocabulary "
            "or the tuple length",
        )
    return V**n


def data_rank(
    D: DataTensor,
    settings: RankSettings | None = None,
    progress: Progress | None = None,
    binary: bool = False,
) -> TensorRank:
    """:func:`tensor_rank` of ``D^n`` (counts, or its 0/1 support with ``binary``)."""
    settings = settings or RankSettings()
    return tensor_rank(dense_data(D, settings.max_entries, binary), settings, progress)


def fiber_error(F: np.ndarray, Q: np.ndarray) -> float:
    """Root mean square over fibers of ``min_s ||q_c - s f_c||`` for unit rows ``q_c``.

    The optimal scale is ``s = <f_c, q_c> / ||f_c||^2`` (any sign: a fiber normalised by
    its sum is the same for ``s f_c`` and ``f_c``), which leaves
    ``sqrt(1 - <f_c, q_c>^2 / ||f_c||^2)``, the sine of their angle (1 for ``f_c = 0``):
    0 exactly when the fitted fiber normalises to the data's.
    """
    dots, norms = np.sum(F * Q, axis=1), np.sum(F * F, axis=1)
    cos2 = np.divide(dots**2, norms, out=np.zeros_like(dots), where=norms > 0)
    return float(np.sqrt(np.mean(np.clip(1.0 - cos2, 0.0, 1.0))))


def _masked_fit(D: DataTensor, Q: np.ndarray, settings: RankSettings, r: int, k: int) -> float:
    """One masked CP fit of rank ``r``: its :func:`fiber_error`, the scales solved in closed form.

    Only the observed fibers ``f_c = C (a_{c_1} * ... * a_{c_{n-1}})`` enter the loss
    ``mean_c (1 - <f_c, q_c>^2 / ||f_c||^2)``, which L-BFGS minimises over the factors
    from a seeded normal start; every other entry of the tensor is free.
    """
    import torch

    seed = int(np.random.SeedSequence([settings.seed, r, k]).generate_state(1)[0])
    gen = torch.Generator().manual_seed(seed)
    factors = [
        torch.randn(D.V, r, generator=gen, dtype=torch.float64).requires_grad_() for _ in range(D.n)
    ]
    idx, q = torch.as_tensor(D.contexts), torch.as_tensor(Q)

    def fibers() -> torch.Tensor:
        W = torch.ones(len(q), r, dtype=torch.float64)
        for mode in range(D.n - 1):
            W = W * factors[mode][idx[:, mode]]  # (C, r)
        return W @ factors[-1].T  # (C, V)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        F = fibers()
        loss = (1 - (F * q).sum(1) ** 2 / ((F * F).sum(1) + 1e-300)).mean()
        loss.backward()
        return loss

    opt = torch.optim.LBFGS(
        factors, max_iter=settings.n_iter, tolerance_grad=1e-14, tolerance_change=1e-18,
        history_size=20, line_search_fn="strong_wolfe",
    )  # fmt: skip
    with torch.enable_grad():
        opt.step(closure)
        F = fibers().detach().numpy()
    return fiber_error(F, Q)


def effective_rank(
    D: DataTensor,
    settings: RankSettings | None = None,
    progress: Progress | None = None,
    data: TensorRank | None = None,
) -> EffectiveRank:
    """Least rank of a tensor whose observed fibers normalise to those of ``D^n``.

    Only the observed fibers are constrained, each up to a positive scale. Estimated by
    masked CP fitting at ``r = 1, 2, ...`` until the fiber error (:func:`fiber_error`)
    falls under ``settings.tol``. ``data`` (the result of :func:`data_rank`) supplies the
    upper bound; computed when not given.
    """
    settings = settings or RankSettings()
    check_dense("data tensor", D.V, D.n, settings.max_entries)
    data = data or data_rank(D, settings)
    Q = np.zeros((len(D.contexts), D.V))
    Q[D.context_of, D.coords[:, -1]] = D.counts
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)  # (C, V) unit fibers
    lower = tail_rank(np.linalg.svd(Q, compute_uv=False), settings.tol)
    fit = functools.partial(_masked_fit, D, Q, settings)
    estimate, fits = _search(fit, settings, progress or (lambda k: None), lower)
    upper = min(x for x in (estimate, data.slice_bound, data.trivial_bound) if x is not None)
    return EffectiveRank(len(Q), estimate, min(lower, upper), upper, settings.tol, fits)


# --- completions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRanks:
    """Ranks of a model's completion beside its data tensor's (docs/glossary.md#completion-rank).

    Attributes
    ----------
    data : TensorRank
        ``D^n`` as counts.
    support : TensorRank or None
        ``1[D^n > 0]``; None when every count is 1 (then it equals ``data``).
    logits, probs : TensorRank
        The logit tensor and ``M^n`` (softmax over the last mode).
    thresholded : dict
        tau -> rank of ``1[M^n > tau]`` (data entries the model predicts, plus artifacts).
    """

    data: TensorRank
    support: TensorRank | None
    logits: TensorRank
    probs: TensorRank
    thresholded: dict[float, TensorRank]

    def to_dict(self) -> dict:
        """JSON-ready fields (taus as ``%g`` strings)."""
        return {
            "data": self.data.to_dict(),
            "support": self.support.to_dict() if self.support is not None else None,
            "logits": self.logits.to_dict(),
            "probs": self.probs.to_dict(),
            "thresholded": {f"{t:g}": v.to_dict() for t, v in self.thresholded.items()},
        }


def completion_tensors(logits_fn: Callable, V: int, n: int, max_entries: int = MAX_ENTRIES):
    """The logit tensor and ``M^n`` of a model, both float64 of shape (V,)*n."""
    import torch

    from artifactlab.tensor.completion import context_block

    check_dense("completion tensor", V, n, max_entries)
    with torch.inference_mode():
        logits = logits_fn(context_block(0, V ** (n - 1), V, n - 1)).double()  # (V^(n-1), V)
        probs = torch.softmax(logits, dim=-1)
    return logits.reshape((V,) * n).numpy(), probs.reshape((V,) * n).numpy()


def completion_ranks(
    logits_fn: Callable,
    D: DataTensor,
    taus: Sequence[float] = (0.5,),
    settings: RankSettings | None = None,
    progress: Progress | None = None,
) -> CompletionRanks:
    """Ranks of ``D^n``, a model's logits, ``M^n`` and ``1[M^n > tau]`` for each ``tau``.

    ``progress`` gets ``settings.fits()`` steps per tensor, ``(3 + len(taus)) *
    settings.fits()`` in all, plus ``settings.fits()`` when some count exceeds 1.
    """
    settings = settings or RankSettings()
    check_dense("completion tensor", D.V, D.n, settings.max_entries)
    taus = [finite("--tau", t, low=0, high=1, low_open=True, high_open=True) for t in taus]
    logits, probs = completion_tensors(logits_fn, D.V, D.n, settings.max_entries)
    data = data_rank(D, settings, progress)
    binary = D.counts.max() > 1
    support = data_rank(D, settings, progress, binary=True) if binary else None
    return CompletionRanks(
        data,
        support,
        tensor_rank(logits, settings, progress),
        tensor_rank(probs, settings, progress),
        {t: tensor_rank((probs > t).astype(np.float64), settings, progress) for t in taus},
    )
