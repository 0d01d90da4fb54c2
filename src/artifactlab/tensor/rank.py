"""Rank of tensors, of datasets (effective rank) and of completions, estimated and bounded.

This module holds the ranks of datasets and completions; the rank of one dense tensor
(settings, unfolding ranks, bounds, the CP-ALS search) is in
:mod:`artifactlab.tensor.cp_rank`, and every public name there is importable from here too.

A data tensor ``D^n`` (or its 0/1 support) gets :func:`tensor_rank` once densified
(:func:`data_rank`). The effective rank of a dataset (docs/glossary.md#effective-rank) is
estimated by masked CP fitting of its normalised observed fibers, each with a free scale
(:func:`effective_rank`). A model's completion (docs/glossary.md#completion-rank) gets the
ranks of its logits, of ``M^n`` and of ``1[M^n > tau]`` beside the data's
(:func:`completion_ranks`).

Example
-------
>>> import numpy as np
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 0, 0], [1, 1, 1]]), V=2)
>>> result = data_rank(D, RankSettings(max_rank=3))
>>> result.unfolding_ranks, result.estimate
((2, 2, 2), 2)
>>> check_dense("data tensor", V=2, n=1, max_entries=MAX_ENTRIES)
Traceback (most recent call last):
artifactlab.errors.InputError: data tensor: has order n = 1 (rank needs tuples of length >= 2)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from artifactlab.checks import finite, magnitude
from artifactlab.errors import InputError
from artifactlab.tensor.cp_rank import (
    MAX_ENTRIES,
    Progress,
    RankFit,
    RankSettings,
    TensorRank,
    cp_error,
    numerical_rank,
    search_rank,
    slice_bound,
    tail_rank,
    tensor_rank,
    trivial_bound,
    unfold,
    unfolding_ranks,
)
from artifactlab.tensor.data_tensor import DataTensor

__all__ = [
    "MAX_ENTRIES",
    "CompletionRanks",
    "EffectiveRank",
    "Progress",
    "RankFit",
    "RankSettings",
    "TensorRank",
    "check_dense",
    "completion_ranks",
    "completion_tensors",
    "cp_error",
    "data_rank",
    "dense_data",
    "effective_rank",
    "fiber_error",
    "numerical_rank",
    "search_rank",
    "slice_bound",
    "tail_rank",
    "tensor_rank",
    "trivial_bound",
    "unfold",
    "unfolding_ranks",
]


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
        F = fibers().detach().cpu().numpy()  # on the CPU already: .cpu() is free
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
    estimate, fits = search_rank(fit, settings, progress or (lambda k: None), lower)
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
    """The logit tensor and ``M^n`` of a model, both float64 numpy arrays of shape (V,)*n.

    The logits may be on any device; they are moved to the CPU before numpy.
    """
    import torch

    from artifactlab.tensor.completion import context_block

    check_dense("completion tensor", V, n, max_entries)
    with torch.inference_mode():
        logits = logits_fn(context_block(0, V ** (n - 1), V, n - 1)).double()  # (V^(n-1), V)
        probs = torch.softmax(logits, dim=-1)
    return logits.reshape((V,) * n).cpu().numpy(), probs.reshape((V,) * n).cpu().numpy()


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
