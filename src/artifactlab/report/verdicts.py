"""Computed verdicts: one pre-declared rule, printed beside every verdict it decides.

A claim of the form "more X gives less (or more) Y" is tested by the Spearman rank
correlation between X and Y over all trials, with a bootstrap 95% interval that
resamples *seeds* (every trial of a drawn seed comes along, so trials that share a
seed are never treated as independent). The verdict is

- ``supported`` when the interval excludes 0 on the side the claim predicts,
- ``contradicted`` when it excludes 0 on the other side,
- ``inconclusive`` otherwise (including when X or Y does not vary).

Means per point come with a 95% Student-t interval over seeds.

Example
-------
>>> x = [1, 2, 3, 4] * 5
>>> seeds = [s for s in range(5) for _ in range(4)]
>>> y = [10 - v + 0.1 * s for v, s in zip(x, seeds)]
>>> t = trend(x, y, seeds, claimed="negative")
>>> t.verdict, round(t.rho, 2), t.rule == RULE
('supported', -0.97, True)
>>> mean_ci([1.0, 2.0, 3.0]).mean
2.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
from scipy import stats

Direction = Literal["negative", "positive"]
VERDICTS = ("supported", "contradicted", "inconclusive")
#: the rule, as printed beside each verdict
RULE = (
    "Spearman rho over all trials with a 95% bootstrap interval over seeds (2,000 resamples): "
    "supported if the interval excludes 0 in the claimed direction, contradicted if it "
    "excludes 0 in the other, inconclusive otherwise"
)


class Trend(NamedTuple):
    """A correlation, its bootstrap interval and the verdict it gives."""

    rho: float
    ci_low: float
    ci_high: float
    n_trials: int
    n_seeds: int
    claimed: Direction
    verdict: str
    rule: str

    def to_dict(self) -> dict:
        """Plain-JSON form (NaN as None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in self._asdict().items()}  # fmt: skip


class MeanCI(NamedTuple):
    """A mean over seeds with its 95% Student-t interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho; NaN when either side is constant."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y)[0])


def verdict(ci_low: float, ci_high: float, claimed: Direction) -> str:
    """The rule's verdict for an interval of rho (see :data:`RULE`)."""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "inconclusive"
    if ci_high < 0:
        return "supported" if claimed == "negative" else "contradicted"
    if ci_low > 0:
        return "supported" if claimed == "positive" else "contradicted"
    return "inconclusive"


def trend(
    x: Sequence[float],
    y: Sequence[float],
    seeds: Sequence[int],
    claimed: Direction,
    n_boot: int = 2000,
    rng_seed: int = 0,
) -> Trend:
    """Spearman rho of ``y`` against ``x`` with a bootstrap interval over ``seeds``.

    Parameters
    ----------
    x, y : sequence of float
        One value per trial.
    seeds : sequence of int
        Each trial's seed; the bootstrap resamples seeds, keeping their trials together.
    claimed : {"negative", "positive"}
        The direction the claim predicts.
    n_boot : int
        Bootstrap resamples.
    rng_seed : int
        Seed of the resampling, so the verdict is reproducible.
    """
    x, y, seeds = np.asarray(x, float), np.asarray(y, float), np.asarray(seeds)
    rho = spearman(x, y)
    groups = [np.flatnonzero(seeds == s) for s in np.unique(seeds)]
    rng = np.random.default_rng(rng_seed)
    boot = []
    for _ in range(n_boot if len(groups) > 1 else 0):
        idx = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        r = spearman(x[idx], y[idx])
        if not math.isnan(r):
            boot.append(r)
    if len(boot) < n_boot // 2:  # too few resamples had any spread: no interval
        lo = hi = float("nan")
    else:
        lo, hi = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
    return Trend(rho, lo, hi, len(x), len(groups), claimed, verdict(lo, hi, claimed), RULE)


def mean_ci(values: Sequence[float]) -> MeanCI:
    """The mean of ``values`` with a 95% Student-t interval (a point when n < 2)."""
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return MeanCI(float("nan"), float("nan"), float("nan"), 0)
    mean = float(v.mean())
    if len(v) < 2:
        return MeanCI(mean, mean, mean, 1)
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return MeanCI(mean, mean - half, mean + half, len(v))
