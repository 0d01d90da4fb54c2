"""Where ``p > tau`` is decided: the fast softmax search for candidates, then the exact rule.

Every count of the project (exact, streamed, sampled, against a corpus) decides whether a
probability exceeds a threshold here: candidates come from one softmax in the logits'
dtype, and any candidate within a proven rounding margin of a threshold is recomputed in
float64 (:func:`exact_probs`), so a count at one tau never depends on the other taus asked
for.

Example
-------
>>> import numpy as np, torch
>>> logits = torch.tensor([[0.0, 3.0], [1.0, 0.0]])
>>> rows, tokens, p = _block_candidates(logits, 0.5, 1e-6, torch.empty(2, 2))
>>> probs, hits = decide(logits, rows, tokens, p, np.array([0.5, 0.9]), 1e-6)
>>> rows.tolist(), tokens.tolist(), hits.tolist()
([0, 1], [1, 0], [[True, True], [True, False]])
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def _group_width(V: int) -> int:
    """The divisor of V closest to sqrt(V) from below (1 when V is prime)."""
    return max(d for d in range(1, math.isqrt(V) + 1) if V % d == 0)


def row_argmax(x: Tensor) -> Tensor:
    """First index of each row's maximum, shape (B, V) -> (B,); equals ``x.argmax(1)``.

    ``Tensor.argmax`` is not vectorised on CPU (about as slow as ``exp``), while ``amax``
    is: find the group of ``w ~ sqrt(V)`` columns holding the maximum with ``amax``,
    then take ``argmax`` inside that group only.
    """
    B, V = x.shape
    w = _group_width(V)
    groups = x.reshape(B, V // w, w)
    g = groups.amax(2).argmax(1)  # (B,) the first group holding the row maximum
    return g * w + groups[torch.arange(B, device=x.device), g].argmax(1)


def exact_probs(logits: Tensor, tokens: Tensor) -> Tensor:
    """``p(t | c)`` by THE rule every count uses: the float64 softmax of the model's logits.

    Parameters
    ----------
    logits : Tensor
        Logits of some contexts, shape (B, V), any float dtype.
    tokens : Tensor
        One token per row, shape (B,).

    Returns
    -------
    Tensor
        Shape (B,), float64: ``softmax(logits.double())[b, tokens[b]]``.
    """
    p = torch.softmax(logits.double(), dim=1)
    return p.gather(1, tokens.reshape(-1, 1)).reshape(-1)


def softmax_margin(V: int, dtype: torch.dtype) -> float:
    """A bound on ``|p - exact_probs|`` for a softmax computed in ``dtype`` over V logits.

    Each ``exp`` and the division round once and the sum of V terms at most V times,
    each by at most one unit in the last place; the bound doubles that for safety.
    """
    return 2.0 * (V + 4) * torch.finfo(dtype).eps


def _block_candidates(
    logits: Tensor, tau_min: float, margin: float, out: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Entries that may have ``p > tau_min`` in a block of logits (B, V): (rows, tokens, p).

    One fused softmax in the logits' dtype over a block small enough to stay in cache,
    written into ``out`` (reused across blocks); every entry whose exact probability
    can exceed ``tau_min`` is kept (``p > tau_min - margin``). For ``tau_min >= 0.5`` at
    most one entry per row has an exact probability above ``tau_min``, so rows are found
    with a max-reduction instead of an element-wise compare over the whole block; only
    rows whose maximum is within the margin of 0.5 (where a second entry could be the
    one) are compared entry by entry.
    """
    p = torch.softmax(logits, dim=1, out=out)  # (B, V)
    low = tau_min - margin
    if tau_min < 0.5:
        rows, tokens = torch.nonzero(p > low, as_tuple=True)
        return rows, tokens, p[rows, tokens]
    p_max = p.amax(1)  # (B,)
    rows = torch.nonzero(p_max > low).reshape(-1)
    unsure = p_max[rows] <= 0.5 + 2 * margin
    if not bool(unsure.any()):
        return rows, row_argmax(p)[rows], p_max[rows]
    sure, near = rows[~unsure], rows[unsure]
    r, t = torch.nonzero(p[near] > low, as_tuple=True)
    rows = torch.cat([sure, near[r]])
    tokens = torch.cat([row_argmax(p[sure]) if len(sure) else sure, t])
    return rows, tokens, p[rows, tokens]


def decide(
    logits: Tensor, rows: Tensor, tokens: Tensor, p: Tensor, taus: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """The one place where ``p > tau`` is decided: exactly, by :func:`exact_probs`.

    Candidates whose fast probability ``p`` lies farther than ``margin`` from every
    tau are on the same side of each tau as their exact probability; the others are
    recomputed in float64. So a count at one tau never depends on the other taus.

    Returns
    -------
    probs : numpy.ndarray
        (K,) float64 probabilities (exact where it mattered).
    hits : numpy.ndarray
        (K, n_taus) bool, ``probs > tau`` for each tau.

    ``logits``, ``rows``, ``tokens`` and ``p`` may be on any one device; the results are
    numpy arrays on the CPU.
    """
    probs = p.double().cpu().numpy().copy()
    near = (np.abs(probs[:, None] - taus[None, :]) <= margin).any(1)
    if near.any():
        idx = torch.from_numpy(np.flatnonzero(near)).to(rows.device)
        probs[near] = exact_probs(logits[rows[idx]], tokens[idx]).cpu().numpy()
    return probs, probs[:, None] > taus[None, :]
