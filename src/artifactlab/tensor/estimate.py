"""Sampled estimates of a model's artifact count, for when ``V^(n-1)`` contexts are too many.

:func:`~artifactlab.tensor.completion.evaluate_completion` counts artifacts exactly by
enumerating every context. :func:`estimate_artifacts` samples contexts instead, counts
the artifacts at each sampled context by the very same rule (the candidates, the
``p > tau`` decision on the float64 softmax and the ``D^n`` membership test of
:mod:`~artifactlab.tensor.completion`: :func:`context_artifacts`), and turns the
per-context counts into an estimate with a confidence interval.

Sources of contexts (``source=``, :mod:`~artifactlab.tensor.context_sources`), each a
distribution ``q`` over ``T^(n-1)``: ``uniform`` (every token uniformly, with
replacement), ``corpus`` (the training tuples' prefixes, by frequency), ``model`` (the
model's own generations from a uniform first token) and ``given`` (the caller's array
of contexts, or contexts with weights).

Estimators, per threshold ``tau``, from ``K`` draws ``c_1..c_K`` with ``a(c)`` artifacts:

- ``rate``: mean artifacts per drawn context, ``mean a(c_i)``; ``share``: the share of
  drawn contexts with at least one artifact.
- ``estimate``: the importance-weighted count ``mean a(c_i) / q(c_i)``, unbiased for
  the number of artifacts in the contexts the source can draw (``scope``): for the
  uniform source ``V^(n-1) * rate``, the count over the whole context space; for the
  corpus source the count in observed contexts (``n_artifacts_observed_contexts`` of
  the exact report); for the model source the whole space wherever ``q > 0``.

Intervals (``confidence``, default 95%; :mod:`~artifactlab.tensor.intervals`): Wilson
for the share; for ``tau >= 0.5`` (at most one artifact per context) Wilson for the
rate and, scaled, for the count of a constant-weight source such as the uniform one
(``method = "wilson"``); otherwise a seeded percentile bootstrap over the drawn
contexts (``bootstrap-percentile``); and, where every drawn context has the same value
(none holds an artifact, say) and the bootstrap would give a point, ``wilson-bound``:
bounds from the share's Wilson limits.

With ``target_rel_error=E`` the first ``samples`` draws are followed by more, in
rounds, until every tau's interval half-width is below ``E`` times its estimate
(``stopped = "target"``) or ``max_samples`` draws are made (``stopped = "cap"``);
each round's size aims at the target from the last half-width (``1/sqrt(K)``), at most
four times the draws so far. The interval after such a stop is the fixed-``K`` interval
(optional stopping can lower its coverage a little). Without a target,
``stopped = "budget"``.

The draws come in fixed, seeded batches of :data:`SAMPLE_BATCH` contexts: batch ``i``
holds ``min(SAMPLE_BATCH, cap - i * SAMPLE_BATCH)`` draws (``cap``: ``samples``, or
``max_samples`` with a target) from its own generator (:func:`batch_rng`), and
:class:`BatchCounter` turns ``(i, count, seed)`` into their per-context counts, a pure
function. The caller (:func:`reduce_batches`) asks for the batches each round needs and
uses them in batch order, so the result depends only on the arguments: not on ``batch``
(how many contexts go to one logits call), nor on where the batches run
(:func:`artifactlab.tensor.estimate_backends.estimate_run` runs them in worker processes
or on Ray). At most one batch is counted beyond the draws used, when a target stops a
run early.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.tensor import DataTensor
>>> from artifactlab.tensor.completion import evaluate_completion
>>> D = DataTensor.from_tuples(np.array([[0, 1, 2], [1, 1, 2]]), V=3)
>>> def always_two(ctx):  # p(2 | c) = 0.9999 at every context: 7 of the 9 are artifacts
...     return torch.tensor([0.0, 0.0, 10.0]).repeat(len(ctx), 1)
>>> evaluate_completion(always_two, D).n_artifacts
{0.5: 7}
>>> est = estimate_artifacts(always_two, D, 0.5, samples=1000, seed=0)
>>> round(est.estimate[0.5], 2), est.method[0.5], est.n_samples, est.stopped
(6.79, 'wilson', 1000, 'budget')
>>> [round(x, 2) for x in (est.ci_low[0.5], est.ci_high[0.5])]
[6.55, 7.03]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from artifactlab.checks import at_least, finite, seed_value
from artifactlab.errors import InputError
from artifactlab.tensor.completion import BLOCK_ELEMENTS, LogitsFn
from artifactlab.tensor.context_counts import (
    BatchCounter,
    batch_rng,
    check_taus,
    context_artifacts,
)
from artifactlab.tensor.context_sources import SOURCES, ContextSource
from artifactlab.tensor.data_tensor import DataTensor
from artifactlab.tensor.intervals import tau_stats

__all__ = [
    "SAMPLE_BATCH",
    "SOURCES",
    "ArtifactEstimate",
    "BatchCounter",
    "batch_rng",
    "check_estimate",
    "check_stopping",
    "context_artifacts",
    "estimate_artifacts",
    "reduce_batches",
]

#: contexts per seeded batch: batch ``i`` holds draws ``i * SAMPLE_BATCH ..`` of the run, made
#: by :func:`batch_rng`; fixed, so the draws depend on nothing else
SAMPLE_BATCH = 1 << 12

#: ``run_batches(tasks)``: for each ``(index, count)`` of ``tasks``, in that order, the
#: batch's per-context artifact counts (count, taus) and weights (count,) or None
BatchRunner = Callable[[list[tuple[int, int]]], Iterable[tuple[np.ndarray, np.ndarray | None]]]


@dataclass
class ArtifactEstimate:
    """A sampled estimate of a model's artifacts, per threshold.

    Attributes
    ----------
    V, n : int
        Vocabulary size and tuple length.
    source : str
        Where the contexts came from (:data:`SOURCES`).
    scope : str
        The contexts whose artifacts ``estimate`` counts.
    n_contexts : int
        How many contexts the scope holds (``V^(n-1)`` for the uniform and model sources).
    seed : int
        The seed of the draws and the bootstrap.
    n_samples : int
        Contexts drawn (with replacement).
    stopped : str
        ``budget`` (fixed ``samples``), ``target`` (target relative error reached) or
        ``cap`` (``max_samples`` drawn before the target was reached).
    target_rel_error, max_samples : float or None, int or None
        The stopping rule, when one was asked for.
    confidence : float
        Level of every interval.
    n_boot : int
        Bootstrap resamples.
    tau : list of float
        Thresholds, ascending; the keys of every dict below.
    estimate, ci_low, ci_high : dict
        tau -> estimated artifact count in the scope and its interval.
    method : dict
        tau -> how the count's interval was made: ``wilson``, ``bootstrap-percentile``
        or ``wilson-bound``.
    rate, rate_ci, rate_method : dict
        tau -> mean artifacts per drawn context, its interval and that interval's method.
    share, share_ci : dict
        tau -> share of drawn contexts holding an artifact, and its Wilson interval.
    """

    V: int
    n: int
    source: str
    scope: str
    n_contexts: int
    seed: int
    n_samples: int
    stopped: str
    target_rel_error: float | None
    max_samples: int | None
    confidence: float
    n_boot: int
    tau: list[float]
    estimate: dict[float, float]
    ci_low: dict[float, float]
    ci_high: dict[float, float]
    method: dict[float, str]
    rate: dict[float, float]
    rate_ci: dict[float, tuple[float, float]]
    rate_method: dict[float, str]
    share: dict[float, float]
    share_ci: dict[float, tuple[float, float]]

    @property
    def rel_half_width(self) -> dict[float, float]:
        """Tau -> the count interval's half-width over the estimate (inf for a zero estimate)."""
        return {
            t: _rel_half_width(self.estimate[t], self.ci_low[t], self.ci_high[t]) for t in self.tau
        }

    def to_dict(self) -> dict:
        """JSON-ready: the run-wide fields, and ``estimates``: tau (as ``%g``) -> its numbers."""
        per_tau = ("estimate", "ci_low", "ci_high", "method", "rate", "rate_ci", "rate_method")
        data = {k: v for k, v in asdict(self).items() if k not in (*per_tau, "share", "share_ci")}
        data["estimates"] = {
            f"{t:g}": {
                "tau": t,
                "estimate": self.estimate[t],
                "ci_low": self.ci_low[t],
                "ci_high": self.ci_high[t],
                "n_samples": self.n_samples,
                "method": self.method[t],
                "rel_half_width": self.rel_half_width[t],
                "rate": self.rate[t],
                "rate_ci": list(self.rate_ci[t]),
                "rate_method": self.rate_method[t],
                "share": self.share[t],
                "share_ci": list(self.share_ci[t]),
            }
            for t in self.tau
        }
        return data


def _rel_half_width(estimate: float, low: float, high: float) -> float:
    return (high - low) / 2 / estimate if estimate > 0 else math.inf


def _next_size(n: int, worst: float, target: float, cap: int) -> int:
    """Draws to have after the next round: aimed at the target by ``1/sqrt(K)``, at most 4x."""
    aim = math.ceil(1.2 * n * (worst / target) ** 2) if math.isfinite(worst) else 4 * n
    return min(cap, max(n + 1, min(4 * n, aim)))


def check_stopping(
    samples: int, target_rel_error: float | None, max_samples: int | None
) -> tuple[float | None, int]:
    """The target and the cap on the draws, checked; the cap is ``samples`` without a target."""
    at_least("--samples", samples, 1)
    if target_rel_error is None:
        if max_samples is not None:
            raise InputError(
                "--max-samples",
                "caps --target-rel-error, which is not given",
                "add --target-rel-error E, or set a fixed budget with --samples",
            )
        return None, samples
    target = finite(
        "--target-rel-error", target_rel_error, low=0, high=1, low_open=True, high_open=True
    )
    if max_samples is None:
        raise InputError(
            "--target-rel-error",
            "needs a cap on the contexts drawn",
            "add --max-samples M, at least --samples",
        )
    return target, at_least("--max-samples", max_samples, samples)


def check_estimate(
    D: DataTensor,
    taus: float | Sequence[float],
    samples: int,
    seed: int,
    target_rel_error: float | None,
    max_samples: int | None,
    batch: int | None,
    confidence: float,
    n_boot: int,
    reserved: int = 0,
) -> tuple[list[float], float | None, int, int]:
    """The checked thresholds, target, cap and logits batch of an estimate.

    Raises
    ------
    InputError
        See :func:`estimate_artifacts`.
    """
    tau = check_taus(taus)
    target, cap = check_stopping(samples, target_rel_error, max_samples)
    seed_value("--seed", seed)
    finite("confidence", confidence, low=0, high=1, low_open=True, high_open=True)
    at_least("n_boot", n_boot, 1)
    at_least("reserved", reserved, 0)
    batch = at_least("batch", batch, 1) if batch is not None else max(1, BLOCK_ELEMENTS // D.V)
    return tau, target, cap, batch


def estimate_artifacts(
    logits_fn: LogitsFn,
    D: DataTensor,
    taus: float | Sequence[float] = (0.5,),
    samples: int = 10_000,
    source: str = "uniform",
    seed: int = 0,
    target_rel_error: float | None = None,
    max_samples: int | None = None,
    batch: int | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    given: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    reserved: int = 0,
) -> ArtifactEstimate:
    """Estimate a model's artifacts from sampled contexts (the module docstring has the maths).

    This runs every batch in this process; to run them in worker processes or on Ray,
    see :func:`artifactlab.tensor.estimate_backends.estimate_run` (same result).

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, n-1) int64 contexts -> (B, V + reserved); for the model
        source also shorter prefixes (B, j) -> (B, V + reserved).
    D : DataTensor
        The training data tensor ``D^n``.
    taus : float or sequence of float
        Artifact threshold(s), each in (0, 1).
    samples : int
        Contexts to draw (with replacement); with a target, the first round.
    source : str
        ``uniform``, ``corpus``, ``model`` or ``given`` (:data:`SOURCES`).
    seed : int
        Seeds the draws and the bootstrap: the same arguments give the same result.
    target_rel_error : float, optional
        In (0, 1): draw more until every interval's half-width is below this times its
        estimate, or ``max_samples`` draws are made.
    max_samples : int, optional
        The cap on the draws; required with (and only with) ``target_rel_error``.
    batch : int, optional
        Contexts per logits call (default about ``BLOCK_ELEMENTS`` logits).
    progress : callable, optional
        Called with the number of contexts evaluated after each batch.
    given : numpy.ndarray or (numpy.ndarray, numpy.ndarray), optional
        The distribution of the ``given`` source: contexts (K, n-1), or contexts and weights.
    confidence : float
        Level of the intervals, in (0, 1).
    n_boot : int
        Bootstrap resamples.
    reserved : int
        Output tokens beyond ``D.V`` (abstentions): never artifacts.

    Returns
    -------
    ArtifactEstimate

    Raises
    ------
    InputError
        A threshold outside (0, 1), no samples, a relative error outside (0, 1) or
        without a cap (or a cap without one, or below ``samples``), an unknown source,
        a bad ``given``, a bad seed, or the model source with a model that reads only
        whole contexts.
    """
    tau, target, cap, batch = check_estimate(
        D, taus, samples, seed, target_rel_error, max_samples, batch, confidence, n_boot, reserved
    )
    counter = BatchCounter(logits_fn, D, source, tau, batch, reserved, given)

    def run_batches(tasks: list[tuple[int, int]]) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        return (counter(i, count, seed) for i, count in tasks)

    return reduce_batches(
        run_batches, counter.source, D, tau, samples, target, cap, seed, confidence, n_boot,
        progress,
    )  # fmt: skip


def reduce_batches(
    run_batches: BatchRunner,
    src: ContextSource,
    D: DataTensor,
    tau: list[float],
    samples: int,
    target: float | None,
    cap: int,
    seed: int,
    confidence: float,
    n_boot: int,
    progress: Callable[[int], None] | None = None,
) -> ArtifactEstimate:
    """The estimate from batch results consumed in batch order (the caller's half of the work).

    Batch ``i`` holds ``min(SAMPLE_BATCH, cap - i * SAMPLE_BATCH)`` contexts, whatever the
    round; each round asks ``run_batches`` for the batches it lacks, in order, and uses the
    first ``K`` contexts of the batches so far. The result depends only on the batches'
    results, never on where or in which order they were computed.

    Parameters
    ----------
    run_batches : callable
        ``(index, count)`` tasks -> their results, in order (:data:`BatchRunner`).
    src : ContextSource
        The source (its name, scope, size and weights describe the estimate).
    D : DataTensor
        The training data tensor.
    tau : list of float
        Checked thresholds, ascending.
    samples, target, cap : int, float or None, int
        The first round's size, the target relative error and the cap (:func:`check_stopping`).
    seed : int
        The draws' seed (recorded), and the bootstrap's.
    confidence, n_boot : float, int
        Level of the intervals and bootstrap resamples.
    progress : callable, optional
        Called with each batch's number of contexts as its result arrives.
    """
    boots = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    counts: list[np.ndarray] = []
    weights: list[np.ndarray | None] = []
    n = samples
    while True:
        needed = -(-n // SAMPLE_BATCH)
        sizes = (min(SAMPLE_BATCH, cap - i * SAMPLE_BATCH) for i in range(needed))
        tasks = list(enumerate(sizes))[len(counts) :]
        for (i, count), (a_i, w_i) in zip(tasks, run_batches(tasks), strict=True):
            if a_i.shape != (count, len(tau)):
                raise ValueError(f"batch {i} has counts of shape {a_i.shape}, expected {count}")
            counts.append(a_i)
            weights.append(w_i)
            if progress is not None:
                progress(count)
        a = np.concatenate(counts)[:n]
        w = None if src.weight is not None else np.concatenate(weights)[:n]
        stats = {
            t: tau_stats(a[:, i], w, src.weight, src.w_max, t, D.V, confidence, n_boot, boots)
            for i, t in enumerate(tau)
        }
        worst = max(_rel_half_width(s.estimate, *s.ci) for s in stats.values())
        if target is None or worst < target or n >= cap:
            stopped = "budget" if target is None else "target" if worst < target else "cap"
            break
        n = _next_size(n, worst, target, cap)
    return ArtifactEstimate(
        V=D.V,
        n=D.n,
        source=src.name,
        scope=src.scope,
        n_contexts=src.n_contexts,
        seed=seed,
        n_samples=n,
        stopped=stopped,
        target_rel_error=target,
        max_samples=None if target is None else cap,
        confidence=confidence,
        n_boot=n_boot,
        tau=tau,
        estimate={t: s.estimate for t, s in stats.items()},
        ci_low={t: s.ci[0] for t, s in stats.items()},
        ci_high={t: s.ci[1] for t, s in stats.items()},
        method={t: s.method for t, s in stats.items()},
        rate={t: s.rate for t, s in stats.items()},
        rate_ci={t: s.rate_ci for t, s in stats.items()},
        rate_method={t: s.rate_method for t, s in stats.items()},
        share={t: s.share for t, s in stats.items()},
        share_ci={t: s.share_ci for t, s in stats.items()},
    )
