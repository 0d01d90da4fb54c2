"""A model's completion tensor ``M^n[c, t] = p(t | c)``, streamed and reduced to artifact counts.

Every context ``c`` in ``T^{n-1}`` is evaluated, in blocks of contexts whose
size depends on ``V`` only, so peak memory does not grow with ``V^{n-1}``. Each
block is reduced on the fly: for every threshold ``tau`` the number of
artifacts (n-grams absent from ``D^n`` with ``p > tau``, the glossary (docs/glossary.md)), split
into those in observed and unobserved contexts, and a running top-k of the most
probable artifacts. A second, small pass over the observed contexts measures
consistency: ``KL(q(.|c) || p(.|c))`` and train accuracy.

The logits may live on any device (a model on a GPU): contexts are made on the device of
the logits function's output (learnt from its first block, whose contexts are made on the
CPU), the softmax and the candidate search run there, and only the candidates, a few per
context, are moved to the CPU (``.cpu()``) before any numpy reduction.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=2)
>>> always_one = lambda ctx: torch.tensor([[0.0, 5.0]]).expand(len(ctx), 2)
>>> report = evaluate_completion(always_one, D)
>>> report.n_artifacts, report.n_train, report.ratio
({0.5: 3}, 1, {0.5: 3.0})
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from artifactlab.checks import at_least, magnitude
from artifactlab.errors import InputError
from artifactlab.tensor.consistency import consistency
from artifactlab.tensor.data_tensor import DataTensor, encode
from artifactlab.tensor.threshold import (
    _block_candidates,
    decide,
    softmax_margin,
)
from artifactlab.threads import usable_cores

#: next-token logits of a batch of contexts: (B, n-1) int64 -> (B, V) float
LogitsFn = Callable[[Tensor], Tensor]

#: default cap on V^{n-1}; beyond it, estimate by sampling instead of enumerating
MAX_CONTEXTS = 50_000_000
#: target number of logits per block (B * V): small enough to stay in cache
BLOCK_ELEMENTS = 1 << 19
#: below this many logits (V^n), evaluate on the calling thread: workers would not pay
PARALLEL_MIN_LOGITS = 1 << 23
#: most worker threads: the per-block Python work holds the GIL, so more stop paying
MAX_WORKERS = 8
#: where a reserved (abstention) token is predicted: CompletionReport.n_abstentions
ABSTENTION_KINDS = ("unobserved", "truth", "train")


@dataclass(frozen=True)
class Artifact:
    """One artifact: a context, the token the model adds, and its probability."""

    context: tuple[int, ...]
    token: int
    prob: float


@dataclass
class CompletionReport:
    """Reductions of one model's completion tensor against ``D^n``.

    Attributes
    ----------
    V, n : int
        Vocabulary size and tuple length.
    n_contexts : int
        Contexts evaluated, ``V^{n-1}``.
    n_train : int
        Distinct training n-grams (non-zeros of ``D^n``).
    n_observed_contexts : int
        Contexts with a non-zero fiber.
    taus : list of float
        Thresholds used.
    n_artifacts : dict
        tau -> number of artifacts.
    n_generalizations : dict or None
        tau -> artifacts in the truth set ``G`` (None when no ``G`` was given); counted in
        the same pass as the artifacts, so ``n_artifacts - n_generalizations`` are the
        hallucinations.
    n_truth : int
        Distinct n-grams of ``G`` outside the training data (0 when no ``G`` was given).
    n_abstentions : dict or None
        With ``reserved`` output tokens (a mitigation's abstention tokens, ids ``V ..``):
        tau -> ``unobserved``, ``truth``, ``train``: entries ``p(r | c) > tau`` of a
        reserved token ``r`` at unobserved contexts (wanted), at contexts of ``G`` (lost
        generalizations; observed or not) and at observed contexts (damage to the fit).
        Never artifacts. None without reserved tokens.
    n_artifacts_observed_contexts : dict
        tau -> artifacts that sit in observed fibers (multi-valued data).
    top_artifacts : list of Artifact
        Most probable artifacts, most probable first.
    consistency : dict
        ``mean_kl``, ``max_kl`` (nats), ``train_accuracy`` (share of distinct
        training n-grams that are their context's argmax) and
        ``argmax_in_fiber`` (share of observed contexts whose argmax was observed).
    """

    V: int
    n: int
    n_contexts: int
    n_train: int
    n_observed_contexts: int
    taus: list[float]
    n_artifacts: dict[float, int]
    n_artifacts_observed_contexts: dict[float, int]
    top_artifacts: list[Artifact] = field(default_factory=list)
    consistency: dict[str, float] = field(default_factory=dict)
    n_generalizations: dict[float, int] | None = None
    n_truth: int = 0
    n_abstentions: dict[float, dict[str, int]] | None = None

    @property
    def ratio(self) -> dict[float, float]:
        """Tau -> artifacts per distinct training n-gram."""
        return {t: c / max(self.n_train, 1) for t, c in self.n_artifacts.items()}


def check_enumerable(V: int, n: int, max_contexts: int = MAX_CONTEXTS) -> int:
    """Return ``V^{n-1}``, or raise InputError when it is more than ``max_contexts``.

    The count is printed by its magnitude (:func:`artifactlab.checks.magnitude`), never by
    ``str()``: a tuple of thousands of tokens makes ``V^(n-1)`` an integer of thousands of
    digits, which Python refuses to format.
    """
    digits = 1 + math.floor((n - 1) * math.log10(V)) if V > 1 else 1
    if digits > max(len(str(max_contexts)), 30):  # far past the limit: never build it
        size = f"about 10^{digits - 1:,}"
    else:
        count = V ** (n - 1)
        if count <= max_contexts:
            return count
        size = magnitude(count)
    raise InputError(
        "completion tensor",
        f"V^(n-1) = {V:,}^{n - 1:,} = {size} contexts is too many to enumerate "
        f"(limit {magnitude(max_contexts)})",
        "raise --max-contexts, or shorten the tuples / shrink the vocabulary",
    )


def context_block(
    start: int, stop: int, V: int, m: int, device: torch.device | None = None
) -> Tensor:
    """Contexts ``start..stop-1`` of ``T^m`` in lexicographic order, shape (stop-start, m)."""
    idx = torch.arange(start, stop, dtype=torch.int64, device=device)
    powers = V ** torch.arange(m - 1, -1, -1, dtype=torch.int64, device=device)
    return (idx[:, None] // powers) % V  # (B, m)


class _TopK:
    """Running top-k of (prob, key) pairs."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.probs = np.empty(0)
        self.keys = np.empty(0, dtype=np.int64)

    def push(self, probs: np.ndarray, keys: np.ndarray) -> None:
        if self.k == 0 or len(probs) == 0:
            return
        probs = np.concatenate([self.probs, probs])
        keys = np.concatenate([self.keys, keys])
        keep = np.argsort(-probs, kind="stable")[: self.k]
        self.probs, self.keys = probs[keep], keys[keep]


class _Plan(NamedTuple):
    """What every block's reduction needs: sizes, thresholds and the sorted data keys."""

    V: int
    m: int  # context length n - 1
    taus: list[float]
    top_k: int
    ctx_keys: np.ndarray  # observed contexts, sorted
    data_keys: np.ndarray  # training n-grams, sorted
    truth_keys: np.ndarray | None  # the truth set G outside the training data, sorted
    reserved: int  # output tokens V .. V + reserved - 1: abstentions, never artifacts
    truth_ctx: np.ndarray  # contexts of G, sorted (for abstentions)


class _BlockResult(NamedTuple):
    """One block's reduction: artifact counts per tau and the block's own top-k."""

    above: np.ndarray  # (n_taus,) artifacts
    above_obs: np.ndarray  # (n_taus,) artifacts in observed contexts
    above_truth: np.ndarray  # (n_taus,) artifacts in G (generalizations)
    probs: np.ndarray  # (<= top_k,) most probable first
    keys: np.ndarray  # (<= top_k,) n-gram keys
    abstain: np.ndarray  # (3, n_taus) abstentions: unobserved, truth, train contexts


class _BlockReducer:
    """Reduces one block of contexts; owns a logits function and a softmax buffer.

    One per worker thread: neither the buffer nor (for ``next_token_fn``) the logits
    function's output may be shared between threads. Contexts are made on the device of
    the logits (the CPU until the first block has shown it).
    """

    def __init__(self, logits_fn: LogitsFn, plan: _Plan, block: int, total: int) -> None:
        self.logits_fn, self.plan, self.block, self.total = logits_fn, plan, block, total
        self.work = torch.empty(0)
        self.tau_arr = np.asarray(plan.taus)
        self.device: torch.device | None = None  # the logits' device, once seen

    def __call__(self, start: int) -> _BlockResult:
        plan = self.plan
        stop = min(start + self.block, self.total)
        ctx = context_block(start, stop, plan.V, plan.m, device=self.device)
        logits = self.logits_fn(ctx)
        self.device = logits.device
        if logits.shape[1] != plan.V + plan.reserved:
            raise ValueError(
                f"the logits have {logits.shape[1]} columns, expected V + reserved = "
                f"{plan.V} + {plan.reserved}"
            )
        w = self.work
        if (w.shape, w.dtype, w.device) != (logits.shape, logits.dtype, logits.device):
            self.work = torch.empty_like(logits)  # reused: see ToyTransformer.next_token_fn
        margin = softmax_margin(logits.shape[1], logits.dtype)
        rows, tokens, probs = _block_candidates(logits, plan.taus[0], margin, self.work)
        zeros = np.zeros(len(plan.taus), dtype=np.int64)
        abstain = np.zeros((3, len(plan.taus)), dtype=np.int64)
        if plan.reserved and len(rows):
            rows, tokens, probs, abstain = self._abstentions(logits, rows, tokens, probs, start)
        if not len(rows):
            empty = np.empty(0, dtype=np.int64)
            return _BlockResult(zeros, zeros, zeros, np.empty(0), empty, abstain)
        ckeys = rows.cpu().numpy().astype(np.int64) + start
        keys = ckeys * plan.V + tokens.cpu().numpy()
        absent = ~_isin_sorted(keys, plan.data_keys)
        sel = torch.from_numpy(np.flatnonzero(absent)).to(rows.device)
        p, hits = decide(logits, rows[sel], tokens[sel], probs[sel], self.tau_arr, margin)
        keys = keys[absent]
        in_obs = _isin_sorted(ckeys[absent], plan.ctx_keys)
        truth = (
            hits[_isin_sorted(keys, plan.truth_keys)].sum(0)
            if plan.truth_keys is not None
            else zeros
        )
        keep = hits[:, 0]  # artifacts only (p > the lowest tau), most probable first
        best = _TopK(plan.top_k)
        best.push(p[keep], keys[keep])  # the block's top-k: merging those equals pushing all
        return _BlockResult(hits.sum(0), hits[in_obs].sum(0), truth, best.probs, best.keys, abstain)

    def _abstentions(
        self, logits: Tensor, rows: Tensor, tokens: Tensor, probs: Tensor, start: int
    ) -> tuple[Tensor, Tensor, Tensor, np.ndarray]:
        """Split off the candidates of reserved tokens; count those above each tau by context."""
        plan = self.plan
        mine = tokens >= plan.V
        out = np.zeros((3, len(plan.taus)), dtype=np.int64)
        if bool(mine.any()):
            sel = torch.nonzero(mine).reshape(-1)
            margin = softmax_margin(logits.shape[1], logits.dtype)
            _, hits = decide(logits, rows[sel], tokens[sel], probs[sel], self.tau_arr, margin)
            ckeys = rows[sel].cpu().numpy().astype(np.int64) + start
            observed = _isin_sorted(ckeys, plan.ctx_keys)
            out[0] = hits[~observed].sum(0)
            out[1] = hits[_isin_sorted(ckeys, plan.truth_ctx)].sum(0)
            out[2] = hits[observed].sum(0)
        keep = torch.nonzero(~mine).reshape(-1)
        return rows[keep], tokens[keep], probs[keep], out


def default_workers(n_logits: int) -> int:
    """Worker threads for a completion tensor of ``n_logits`` entries (``V^n``).

    One per usable core, divided by torch's intra-op threads (so a process configured
    with several intra-op threads does not oversubscribe), at most ``MAX_WORKERS``;
    1 when the tensor is below ``PARALLEL_MIN_LOGITS`` and threads would not pay.
    """
    if n_logits < PARALLEL_MIN_LOGITS:
        return 1
    return max(1, min(MAX_WORKERS, usable_cores() // max(1, torch.get_num_threads())))


def _run_parallel(
    reducers: list[_BlockReducer], starts: range, merge: Callable[[int, _BlockResult], None]
) -> None:
    """Reduce the blocks at ``starts`` on one thread per reducer; merge them in block order.

    Workers take the next block from a shared iterator (dynamic load balancing) and put
    results on a queue; this thread merges each result as soon as every earlier block
    has been merged. The first worker error stops the others and is raised here.
    """
    jobs, lock, stop = iter(enumerate(starts)), threading.Lock(), threading.Event()
    done: queue.Queue[tuple[int, _BlockResult | None, BaseException | None]] = queue.Queue()

    def work(reduce: _BlockReducer) -> None:
        with torch.inference_mode():  # grad mode is per thread
            while not stop.is_set():
                with lock:
                    i, start = next(jobs, (-1, -1))
                if i < 0:
                    return
                try:
                    done.put((i, reduce(start), None))
                except BaseException as err:  # handed to the calling thread
                    done.put((i, None, err))
                    return

    threads = [threading.Thread(target=work, args=(r,), daemon=True) for r in reducers]
    for t in threads:
        t.start()
    pending: dict[int, _BlockResult] = {}
    try:
        for next_i in range(len(starts)):
            while next_i not in pending:
                i, result, err = done.get()
                if err is not None:
                    raise err
                pending[i] = result
            merge(starts[next_i], pending.pop(next_i))
    finally:
        stop.set()
        for t in threads:
            t.join()


def evaluate_completion(
    logits_fn: LogitsFn,
    D: DataTensor,
    taus: Sequence[float] = (0.5,),
    top_k: int = 20,
    block_size: int | None = None,
    max_contexts: int = MAX_CONTEXTS,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
    make_logits_fn: Callable[[], LogitsFn] | None = None,
    truth: np.ndarray | None = None,
    reserved: int = 0,
) -> CompletionReport:
    """Evaluate ``p(t | c)`` for every context and reduce it to artifacts and consistency.

    Blocks of contexts are independent, so several worker threads can evaluate them
    (torch ops release the GIL), each pulling the next block from a shared counter so
    that a descheduled worker holds no one else back. Block results are merged in
    block order: the report is identical whatever the number of workers.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, n-1) int64 contexts -> (B, V).
    D : DataTensor
        The training data tensor ``D^n``.
    taus : sequence of float
        Artifact thresholds, each in (0, 1).
    top_k : int
        How many of the most probable artifacts to keep.
    block_size : int, optional
        Contexts per block; default keeps about ``BLOCK_ELEMENTS`` logits per block.
    max_contexts : int
        Refuse to enumerate more than this many contexts.
    progress : callable, optional
        Called (from the calling thread) with the number of contexts finished after
        each block.
    workers : int, optional
        Worker threads. Default: :func:`default_workers` when ``make_logits_fn`` is
        given, else 1 (a logits function may not be safe to call from two threads).
    make_logits_fn : callable, optional
        Makes one logits function per worker, such as a model's ``next_token_fn``
        (whose functions each reuse one output buffer). Without it, every worker
        calls ``logits_fn``, which must then be thread-safe.
    truth : numpy.ndarray, optional
        The truth set ``G``, shape (K, n): its artifacts are counted as generalizations
        in the same pass (training n-grams and repeats in it are set aside).
    reserved : int
        Output tokens beyond ``D.V`` (ids ``V .. V + reserved - 1``): the logits then
        have ``V + reserved`` columns, the softmax runs over all of them, and an entry of
        a reserved token above tau is an abstention (``n_abstentions``), never an
        artifact. Contexts are still the ``V^(n-1)`` contexts of the data's tokens.

    Every ``p > tau`` is decided by :func:`decide`, exactly, on the float64 softmax of
    the logits: a count at one tau does not depend on the other taus asked for.

    Returns
    -------
    CompletionReport
    """
    taus = sorted({float(t) for t in taus})
    if not taus or not all(0 < t < 1 for t in taus):  # false for nan too
        raise InputError("--tau", f"thresholds must lie in (0, 1), got {taus}")
    V, n = D.V, D.n
    total = check_enumerable(V, n, max_contexts)
    block = block_size or max(1, BLOCK_ELEMENTS // V)
    truth_keys = novel_truth_keys(D, truth) if truth is not None else None
    at_least("reserved", reserved, 0)
    truth_ctx = np.unique(truth_keys // V) if truth_keys is not None else np.zeros(0, np.int64)
    plan = _Plan(
        V, n - 1, taus, top_k, encode(D.contexts, V), D.keys(), truth_keys, reserved, truth_ctx
    )
    if workers is None:
        workers = default_workers(total * V) if make_logits_fn is not None else 1
    starts = range(0, total, block)
    workers = max(1, min(workers, len(starts)))
    make = make_logits_fn or (lambda: logits_fn)
    above = np.zeros(len(taus), dtype=np.int64)
    above_obs = np.zeros(len(taus), dtype=np.int64)
    above_truth = np.zeros(len(taus), dtype=np.int64)
    abstain = np.zeros((3, len(taus)), dtype=np.int64)
    best = _TopK(top_k)

    def merge(start: int, result: _BlockResult) -> None:
        np.add(above, result.above, out=above)
        np.add(above_obs, result.above_obs, out=above_obs)
        np.add(above_truth, result.above_truth, out=above_truth)
        np.add(abstain, result.abstain, out=abstain)
        best.push(result.probs, result.keys)
        if progress is not None:
            progress(min(start + block, total) - start)

    blocks = [_BlockReducer(make(), plan, block, total) for _ in range(workers)]
    if workers == 1:
        with torch.inference_mode():
            for start in starts:
                merge(start, blocks[0](start))
    else:
        _run_parallel(blocks, starts, merge)
    top = [_artifact(int(k), float(p), V, n) for p, k in zip(best.probs, best.keys, strict=True)]
    return CompletionReport(
        V=V,
        n=n,
        n_contexts=total,
        n_train=D.nnz,
        n_observed_contexts=len(D.contexts),
        taus=taus,
        n_artifacts=dict(zip(taus, above.tolist(), strict=True)),
        n_artifacts_observed_contexts=dict(zip(taus, above_obs.tolist(), strict=True)),
        top_artifacts=top,
        consistency=consistency(logits_fn, D, block),
        n_generalizations=(
            dict(zip(taus, above_truth.tolist(), strict=True)) if truth_keys is not None else None
        ),
        n_truth=len(truth_keys) if truth_keys is not None else 0,
        n_abstentions=(
            {
                t: dict(zip(ABSTENTION_KINDS, abstain[:, i].tolist(), strict=True))
                for i, t in enumerate(taus)
            }
            if reserved
            else None
        ),
    )


def novel_truth_keys(D: DataTensor, truth: np.ndarray) -> np.ndarray:
    """Sorted keys of the distinct n-grams of ``G`` that are not training n-grams."""
    G = np.asarray(truth, dtype=np.int64).reshape(-1, D.n)
    if len(G) and (G.min() < 0 or G.max() >= D.V):
        raise InputError("truth set", f"token ids must lie in [0, {D.V}), the model's V")
    keys = np.unique(encode(G, D.V)) if len(G) else np.zeros(0, dtype=np.int64)
    return keys[~_isin_sorted(keys, D.keys())]


def _isin_sorted(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Membership of each value in a sorted key array (boolean, shape of ``values``)."""
    if len(sorted_keys) == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[pos] == values


def _artifact(key: int, prob: float, V: int, n: int) -> Artifact:
    digits = []
    for _ in range(n):
        key, d = divmod(key, V)
        digits.append(d)
    digits.reverse()
    return Artifact(tuple(digits[:-1]), digits[-1], prob)
