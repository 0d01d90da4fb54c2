"""Artifacts at given contexts, decided as :mod:`~artifactlab.tensor.completion` decides.

:func:`context_artifacts` counts, at each context ``c`` of an array, the absent n-grams
``(c, t)`` with ``p(t | c) > tau``: the candidates, the ``p > tau`` decision on the float64
softmax and the ``D^n`` membership test of
:func:`~artifactlab.tensor.completion.evaluate_completion`, so the sum over all
``V^(n-1)`` contexts is its ``n_artifacts``. The sampled estimate
(:mod:`~artifactlab.tensor.estimate`) counts its drawn contexts with it: batch ``i`` of
an estimate is drawn by :func:`batch_rng` and counted by :class:`BatchCounter`, the pure
function that a backend's worker runs.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 1, 2], [1, 1, 2]]), V=3)
>>> def always_two(ctx):  # p(2 | c) = 0.9999 at every context
...     return torch.tensor([0.0, 0.0, 10.0]).repeat(len(ctx), 1)
>>> context_artifacts(always_two, D, np.array([[0, 1], [2, 2]]), (0.5,)).tolist()
[[0], [1]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from artifactlab.errors import InputError
from artifactlab.tensor.completion import BLOCK_ELEMENTS, LogitsFn, _isin_sorted
from artifactlab.tensor.context_sources import make_source
from artifactlab.tensor.data_tensor import DataTensor, encode
from artifactlab.tensor.threshold import _block_candidates, decide, softmax_margin

__all__ = ["BatchCounter", "ContextCounter", "batch_rng", "check_taus", "context_artifacts"]


def check_taus(taus: float | Sequence[float]) -> list[float]:
    """The distinct thresholds, ascending, each checked to lie in (0, 1)."""
    values = sorted({float(t) for t in ([taus] if isinstance(taus, int | float) else taus)})
    if not values or not all(0 < t < 1 for t in values):  # false for nan too
        raise InputError("--tau", f"thresholds must lie in (0, 1), got {values}")
    return values


class _NGramIndex:
    """Membership of n-grams in ``D^n``: base-V keys when ``V^n`` fits in 63 bits, else bytes."""

    def __init__(self, D: DataTensor) -> None:
        self.V = D.V
        self.packed = D.V**D.n < 1 << 62
        self.keys = D.keys() if self.packed else np.unique(_row_bytes(D.coords))

    def contains(self, contexts: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """Whether each ``(contexts[i], tokens[i])`` is a training n-gram, shape (R,)."""
        if self.packed:
            return _isin_sorted(encode(contexts, self.V) * self.V + tokens, self.keys)
        return _isin_sorted(_row_bytes(np.column_stack([contexts, tokens])), self.keys)


def _row_bytes(rows: np.ndarray) -> np.ndarray:
    """Each int64 row as one opaque value (its bytes): sortable, comparable, any width."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.view(np.dtype((np.void, 8 * rows.shape[1]))).reshape(-1)


class ContextCounter:
    """Artifacts at given contexts, by completion.py's rule; owns a softmax buffer.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, n-1) int64 contexts -> (B, V + reserved).
    D : DataTensor
        The training data tensor ``D^n``.
    taus : list of float
        Thresholds, ascending (:func:`check_taus`).
    reserved : int
        Output tokens beyond ``D.V``, never artifacts.
    batch : int
        Contexts per logits call.
    """

    def __init__(
        self, logits_fn: LogitsFn, D: DataTensor, taus: list[float], reserved: int, batch: int
    ) -> None:
        self.logits_fn, self.V, self.reserved, self.batch = logits_fn, D.V, reserved, batch
        self.index = _NGramIndex(D)
        self.taus = np.asarray(taus)
        self.work = torch.empty(0)

    def __call__(self, contexts: np.ndarray) -> np.ndarray:
        """Artifacts at each of ``contexts`` (K, n-1): shape (K, len(taus)), int64."""
        out = np.zeros((len(contexts), len(self.taus)), dtype=np.int64)
        with torch.inference_mode():
            for start in range(0, len(contexts), self.batch):
                ctx = contexts[start : start + self.batch]
                out[start : start + len(ctx)] = self._block(ctx)
        return out

    def _block(self, ctx: np.ndarray) -> np.ndarray:
        logits = self.logits_fn(torch.from_numpy(ctx))
        cols = self.V + self.reserved
        if tuple(logits.shape) != (len(ctx), cols):
            raise ValueError(
                f"the logits have shape {tuple(logits.shape)}, expected (contexts, V + reserved)"
                f" = ({len(ctx)}, {cols})"
            )
        if (self.work.shape, self.work.dtype, self.work.device) != (
            logits.shape,
            logits.dtype,
            logits.device,
        ):
            self.work = torch.empty_like(logits)
        margin = softmax_margin(cols, logits.dtype)
        rows, tokens, probs = _block_candidates(logits, float(self.taus[0]), margin, self.work)
        if self.reserved:  # a reserved (abstention) token is never an artifact
            keep = torch.nonzero(tokens < self.V).reshape(-1)
            rows, tokens, probs = rows[keep], tokens[keep], probs[keep]
        r = rows.cpu().numpy()  # the logits may be on a GPU: the candidates come to the CPU
        absent = np.flatnonzero(~self.index.contains(ctx[r], tokens.cpu().numpy()))
        sel = torch.from_numpy(absent).to(rows.device)
        _, hits = decide(logits, rows[sel], tokens[sel], probs[sel], self.taus, margin)
        counts = np.zeros((len(ctx), len(self.taus)), dtype=np.int64)
        np.add.at(counts, r[absent], hits.astype(np.int64))
        return counts


def context_artifacts(
    logits_fn: LogitsFn,
    D: DataTensor,
    contexts: np.ndarray,
    taus: Sequence[float] = (0.5,),
    batch: int | None = None,
    reserved: int = 0,
) -> np.ndarray:
    """The number of artifacts at each context: absent n-grams ``(c, t)`` with ``p(t|c) > tau``.

    Decided as :func:`~artifactlab.tensor.completion.evaluate_completion` decides, so the
    sum over all ``V^(n-1)`` contexts is its ``n_artifacts``.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, n-1) int64 contexts -> (B, V + reserved).
    D : DataTensor
        The training data tensor ``D^n``.
    contexts : numpy.ndarray
        Contexts, shape (K, n-1), token ids in ``[0, V)``.
    taus : sequence of float
        Thresholds, each in (0, 1).
    batch : int, optional
        Contexts per logits call (default about ``BLOCK_ELEMENTS`` logits).
    reserved : int
        Output tokens beyond ``D.V``, never artifacts.

    Returns
    -------
    numpy.ndarray
        Shape (K, len(taus)), int64; a column per distinct tau, in ascending order.
    """
    contexts = np.ascontiguousarray(contexts, dtype=np.int64)
    counter = ContextCounter(
        logits_fn, D, check_taus(taus), reserved, batch or BLOCK_ELEMENTS // D.V or 1
    )
    return counter(contexts)


class BatchCounter:
    """Draws batch ``i`` of an estimate's contexts and counts their artifacts: a pure function.

    ``counter(i, count, seed)`` draws ``count`` contexts from the source with
    ``batch_rng(seed, i)`` and counts them (:func:`context_artifacts`'
    rule) on one torch thread, so the same call gives the same numbers in any process:
    this is what a backend's worker runs (:mod:`~artifactlab.tensor.estimate_backends`).

    Parameters
    ----------
    logits_fn : callable
        Next-token logits (see :func:`~artifactlab.tensor.estimate.estimate_artifacts`).
    D : DataTensor
        The training data tensor ``D^n``.
    source : str
        The context source (:data:`~artifactlab.tensor.context_sources.SOURCES`).
    taus : list of float
        Thresholds, ascending (:func:`check_taus`).
    batch : int
        Contexts per logits call.
    reserved : int
        Output tokens beyond ``D.V``, never artifacts.
    given : optional
        The ``given`` source's distribution.
    """

    def __init__(
        self,
        logits_fn: LogitsFn,
        D: DataTensor,
        source: str,
        taus: list[float],
        batch: int,
        reserved: int = 0,
        given: object = None,
    ) -> None:
        self.source = make_source(source, logits_fn, D, batch, given)
        self.counter = ContextCounter(logits_fn, D, taus, reserved, batch)

    def __call__(self, index: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Batch ``index``'s ``count`` contexts: their artifact counts and weights ``1/q``."""
        with _one_thread():
            ctx, w = self.source.draw(count, batch_rng(seed, index))
            return self.counter(ctx), w


def batch_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of batch ``index``'s draws: child ``index`` of the draws' seed sequence.

    The draws' sequence is ``SeedSequence(seed).spawn(2)[0]`` (the bootstrap's is
    ``[1]``), so batch ``i`` seeds ``SeedSequence(seed, spawn_key=(0, i))``. Not
    ``default_rng([seed, i])``: for ``i = 0`` that is ``default_rng(seed)`` itself, the
    generator that may well have drawn the training data with the same seed.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, index)))


@contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread inside (as the sweep workers run): the same arithmetic everywhere."""
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if threads != 1:
            torch.set_num_threads(threads)
