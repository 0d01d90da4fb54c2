"""Where :func:`~artifactlab.tensor.estimate.estimate_artifacts` draws its contexts from.

Each source is a distribution ``q`` over ``T^(n-1)``; :meth:`ContextSource.draw` gives
contexts with their weights ``1/q(c)``, which turn a mean over draws into a count.

``uniform`` (:class:`UniformSource`)
    Each of the ``n - 1`` tokens uniformly from the vocabulary, independently, with
    replacement: ``q(c) = V^-(n-1)``.
``corpus`` (:class:`TableSource` of the training data)
    The training tuples' ``(n-1)``-prefixes: a context is drawn with probability
    ``q(c)`` = its number of training tuples / all training tuples.
``model`` (:class:`ModelSource`)
    The model's own generations: ``t_1`` uniformly from the vocabulary, then each
    ``t_(j+1)`` (``j = 1 .. n-2``) drawn from the float64 softmax of the logits at the
    prefix ``t_1..t_j`` (over the ``V`` data tokens; reserved tokens are left out and
    the rest renormalised), by inverting its cumulative sum at ``1 - u`` with ``u``
    uniform in ``[0, 1)`` from the seeded generator. ``q(c)`` is ``1/V`` times the
    product of the draws' probabilities. It needs a model that reads contexts shorter
    than ``n - 1`` tokens (the toy transformers, the n-gram model; not the triple
    factorizations, which are refused). For ``n = 2`` it is the uniform source.
``given`` (:class:`TableSource` of the user's distribution)
    ``given=`` an int array of contexts, shape ``(K, n-1)``, token ids in ``[0, V)``,
    drawn from uniformly by row (so a row repeated twice weighs twice), or a pair
    ``(contexts, weights)`` with ``weights`` of shape ``(K,)``, finite, ``>= 0`` and
    with a positive sum (normalised; the weights of repeated rows add up).

Example
-------
>>> import numpy as np
>>> src = TableSource("given", "the given contexts", np.array([[0, 1], [2, 2], [0, 1]]),
...                   np.ones(3))
>>> src.n_contexts, src.q.tolist(), src.weight is None, src.w_max
(2, [0.6666666666666666, 0.3333333333333333], True, 3.0)
>>> ctx, w = src.draw(4, np.random.default_rng(0))
>>> ctx.shape, w.shape
((4, 2), (4,))
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import torch

from artifactlab.errors import InputError
from artifactlab.tensor.completion import LogitsFn
from artifactlab.tensor.data_tensor import DataTensor

#: the context sources :func:`~artifactlab.tensor.estimate.estimate_artifacts` takes
SOURCES = ("uniform", "corpus", "model", "given")


class ContextSource(ABC):
    """A distribution of contexts: ``draw`` gives contexts and their weights ``1/q``."""

    name: str
    scope: str
    n_contexts: int
    weight: float | None  # the one weight of every context, or None where they differ
    w_max: float  # the largest weight (inf: unknown)

    @abstractmethod
    def draw(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """``k`` contexts (k, n-1) and their weights (None: all ``self.weight``)."""


class UniformSource(ContextSource):
    """Every token of a context uniformly and independently: ``q(c) = V^-m``."""

    name, scope = "uniform", "all V^(n-1) contexts"

    def __init__(self, V: int, m: int) -> None:
        self.V, self.m, self.n_contexts = V, m, V**m
        self.weight = self.w_max = _as_float(self.n_contexts)

    def draw(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, None]:
        """``k`` uniform contexts; their weight is ``V^m`` each."""
        return rng.integers(0, self.V, size=(k, self.m), dtype=np.int64), None


class TableSource(ContextSource):
    """Distinct contexts with probabilities (the corpus, or a given distribution).

    ``contexts`` (K, m) with ``weights`` (K,) >= 0: repeated rows are merged (their
    weights added), rows of weight 0 dropped, and the weights normalised into ``q``.
    """

    def __init__(self, name: str, scope: str, contexts: np.ndarray, weights: np.ndarray) -> None:
        self.name, self.scope = name, scope
        self.contexts, inverse = np.unique(contexts, axis=0, return_inverse=True)
        q = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(self.contexts))
        keep = q > 0
        self.contexts, self.q = self.contexts[keep], q[keep] / q.sum()
        self.n_contexts = len(self.q)
        same = bool(np.all(self.q == self.q[0]))
        self.weight = float(self.n_contexts) if same else None
        self.w_max = float(1 / self.q.min())

    def draw(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """``k`` rows drawn with probabilities ``q``, and their weights ``1/q``."""
        idx = rng.choice(self.n_contexts, size=k, p=self.q)
        return self.contexts[idx], None if self.weight is not None else 1 / self.q[idx]


class ModelSource(ContextSource):
    """Contexts the model generates from a uniform first token (see the module docstring)."""

    name = "model"
    scope = "contexts the model generates (all with q > 0)"

    def __init__(self, logits_fn: LogitsFn, V: int, m: int, batch: int) -> None:
        self.logits_fn, self.V, self.m, self.batch = logits_fn, V, m, batch
        self.n_contexts = V**m
        self.weight = float(V) if m == 1 else None
        self.w_max = float(V) if m == 1 else math.inf
        if m > 1:
            try:
                with torch.inference_mode():
                    logits_fn(torch.zeros((1, 1), dtype=torch.int64))
            except InputError as err:
                raise InputError(
                    "--source",
                    f"model: the model does not read contexts shorter than n-1 = {m} tokens "
                    f"({err.problem}), so it cannot generate a context token by token",
                    "use --source uniform or corpus",
                ) from None

    def draw(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """``k`` generated contexts and their weights ``1/q`` (see the module docstring)."""
        ctx = np.empty((k, self.m), dtype=np.int64)
        ctx[:, 0] = rng.integers(0, self.V, size=k, dtype=np.int64)
        if self.m == 1:
            return ctx, None
        u = 1.0 - rng.random((k, self.m - 1))  # in (0, 1]: a token of probability 0 is never drawn
        log_q = np.full(k, -math.log(self.V))
        with torch.inference_mode():
            for j in range(1, self.m):
                for start in range(0, k, self.batch):
                    rows = slice(start, min(start + self.batch, k))
                    prefix = torch.from_numpy(np.ascontiguousarray(ctx[rows, :j]))
                    logits = self.logits_fn(prefix).double()
                    p = torch.softmax(logits, dim=1)[:, : self.V].cpu().numpy()
                    cdf = np.cumsum(p, axis=1)
                    x = u[rows, j - 1] * cdf[:, -1]
                    t = np.minimum((cdf < x[:, None]).sum(1), self.V - 1)
                    ctx[rows, j] = t
                    p_t = p[np.arange(len(t)), t] / cdf[:, -1]
                    log_q[rows] += np.log(p_t)
        return ctx, np.exp(-log_q)


def _as_float(count: int) -> float:
    try:
        return float(count)
    except OverflowError:
        raise InputError(
            "--estimate", "V^(n-1) contexts is beyond the range of a float count"
        ) from None


def make_source(
    source: str, logits_fn: LogitsFn, D: DataTensor, batch: int, given: object = None
) -> ContextSource:
    """The source called ``source`` for contexts of ``D`` (``given`` only with ``"given"``).

    Raises
    ------
    InputError
        An unknown source name, ``given`` without ``"given"`` (or the other way round),
        a ``given`` of the wrong shape, tokens or weights, or the model source with a
        model that reads only whole contexts.
    """
    m = D.n - 1
    if source not in SOURCES:
        raise InputError(
            "--source", f"unknown source {source!r}", f"choose one of {', '.join(SOURCES)}"
        )
    if (given is not None) != (source == "given"):
        raise InputError("--source", "given= goes with source='given', and only with it")
    if source == "uniform":
        return UniformSource(D.V, m)
    if source == "model":
        return ModelSource(logits_fn, D.V, m, batch)
    if source == "corpus":
        return TableSource("corpus", "observed contexts", D.contexts, D.context_totals())
    contexts, weights = given if isinstance(given, tuple) else (given, None)
    contexts = np.asarray(contexts)
    if contexts.ndim != 2 or contexts.shape[1] != m or len(contexts) == 0:
        raise InputError("given", f"must be a non-empty (K, n-1 = {m}) array, got {contexts.shape}")
    if not np.issubdtype(contexts.dtype, np.integer) or contexts.min() < 0 or contexts.max() >= D.V:
        raise InputError("given", f"contexts must be integer token ids in [0, {D.V})")
    w = np.ones(len(contexts)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(contexts),) or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise InputError("given", "weights must be (K,) finite numbers >= 0 with a positive sum")
    return TableSource("given", "the given contexts", contexts.astype(np.int64), w)
