"""The intervals of a sampled artifact estimate (:mod:`artifactlab.tensor.estimate`).

From ``K`` drawn contexts with ``a(c)`` artifacts each and weights ``w = 1/q(c)``:

- the share of contexts holding an artifact takes the Wilson score interval
  (:func:`wilson`, by :func:`scipy.stats.binomtest`);
- for ``tau >= 0.5`` a context holds at most one artifact, so the mean artifacts per
  context (the rate) is that share, with its Wilson interval; the count of a
  constant-weight source is ``w`` times the share, and the Wilson interval, scaled,
  applies to it exactly (``method = "wilson"``);
- otherwise ``bootstrap-percentile`` (:func:`bootstrap_mean`): the percentile interval
  of ``n_boot`` bootstrap resamples of the drawn contexts' values (``a`` for the rate,
  ``a * w`` for a weighted count), seeded. A resample's mean depends only on how often
  each distinct value is drawn, so with few distinct values (integer counts) it is
  drawn as a multinomial over them: the same distribution as resampling the contexts;
- where every drawn context has the same value (none holds an artifact, say) the
  bootstrap interval would be a point; then ``method = "wilson-bound"``, from the
  share's Wilson limits ``share_low``, ``share_high`` and ``1 <= a(c) <= m`` wherever
  ``a(c) > 0`` (``m`` the most artifacts one context can hold at tau,
  :func:`most_per_context`): the rate lies in ``[share_low, m * share_high]``, a
  constant-weight count in ``w`` times that, and a weighted count in
  ``[0, m * w_max * share_high]`` (``w_max`` the largest weight; unbounded for the
  model source).

Example
-------
>>> [round(x, 4) for x in wilson(0, 100, 0.95)]
[0.0, 0.037]
>>> most_per_context(0.5, 10), most_per_context(0.2, 10), most_per_context(0.3, 2)
(1, 4, 2)
>>> low, high = bootstrap_mean(np.array([0, 1, 2, 0, 1]), 0.95, 2000, np.random.default_rng(0))
>>> 0 <= low < 0.8 < high <= 2
True
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.stats import binomtest

#: at most this many distinct values: bootstrap by a multinomial over them
FEW_VALUES = 256


def most_per_context(tau: float, V: int) -> int:
    """The most artifacts one context can hold at ``tau``: fewer than ``1/tau`` exceed it."""
    return max(1, min(V, math.ceil(1 / tau) - 1))


def wilson(k: int, K: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a share ``k / K`` (:func:`scipy.stats.binomtest`)."""
    ci = binomtest(k, K).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_mean(
    x: np.ndarray, confidence: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile interval of the mean of ``x`` over ``n_boot`` resamples with replacement."""
    K = len(x)
    values, counts = np.unique(x, return_counts=True)
    if len(values) <= FEW_VALUES:  # a resample's mean is fixed by how often each value is drawn
        means = rng.multinomial(K, counts / K, size=n_boot) @ values / K
    else:
        step = max(1, (1 << 22) // K)
        means = np.concatenate(
            [
                x[rng.integers(0, K, size=(min(step, n_boot - b), K))].mean(1)
                for b in range(0, n_boot, step)
            ]
        )
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


class TauStats(NamedTuple):
    """One tau's count estimate, rate and share, each with its interval (and its method)."""

    estimate: float
    ci: tuple[float, float]
    method: str
    rate: float
    rate_ci: tuple[float, float]
    rate_method: str
    share: float
    share_ci: tuple[float, float]


def tau_stats(
    a: np.ndarray,
    w: np.ndarray | None,
    weight: float | None,
    w_max: float,
    tau: float,
    V: int,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator,
) -> TauStats:
    """Estimates and intervals at one tau from the drawn contexts' artifact counts ``a``.

    Parameters
    ----------
    a : numpy.ndarray
        Artifacts at each drawn context, shape (K,).
    w : numpy.ndarray or None
        Each drawn context's weight ``1/q``, shape (K,); None when all are ``weight``.
    weight : float or None
        The one weight of every context (a constant-weight source), else None.
    w_max : float
        The largest weight the source can give (inf: unbounded).
    tau : float
        The threshold (it bounds the artifacts of one context).
    V : int
        Vocabulary size.
    confidence : float
        Level of the intervals.
    n_boot : int
        Bootstrap resamples.
    rng : numpy.random.Generator
        Draws the bootstrap resamples.
    """
    K, k = len(a), int(np.count_nonzero(a))
    share_ci = wilson(k, K, confidence)
    most = most_per_context(tau, V)
    rate = k / K if most == 1 else float(a.mean())
    if most == 1:  # a is the indicator: the rate is the share
        rate_ci, rate_method = share_ci, "wilson"
    elif _constant(a):  # the bootstrap would give a point: share <= rate <= most * share
        rate_ci, rate_method = (share_ci[0], most * share_ci[1]), "wilson-bound"
    else:
        rate_ci, rate_method = bootstrap_mean(a, confidence, n_boot, rng), "bootstrap-percentile"
    if weight is not None:  # constant weight 1/q: the count is the rate, scaled
        est, ci, method = weight * rate, (weight * rate_ci[0], weight * rate_ci[1]), rate_method
        return TauStats(est, ci, method, rate, rate_ci, rate_method, k / K, share_ci)
    x = a * w
    if _constant(x):  # 0 <= count <= most * w_max * share
        ci, method = (0.0, most * w_max * share_ci[1]), "wilson-bound"
    else:
        ci, method = bootstrap_mean(x, confidence, n_boot, rng), "bootstrap-percentile"
    return TauStats(float(x.mean()), ci, method, rate, rate_ci, rate_method, k / K, share_ci)


def _constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))
