"""Filtered link prediction: the rank of each test triple's tail, and MRR / Hits@k.

The knowledge-graph literature's protocol for tail prediction (Bordes et al. 2013): for
a test triple ``(h, r, t)`` the model scores every candidate tail ``t'`` (the entities)
in the context ``(h, r)``; a language model's score is its next-token logit. In the
*filtered* setting every other candidate ``t' != t`` with ``(h, r, t')`` among the
known true triples (train, valid and test) is removed before ranking, so a model is not
penalised for preferring another true answer. Ties take the *realistic* rank, the mean
of the optimistic and the pessimistic rank (PyKEEN's default): with ``g`` candidates
scored above ``t`` and ``e`` others tied with it, the rank is ``1 + g + e / 2``. A model
that gives every candidate the same logit thus ranks the truth in the middle, not first.

Example
-------
>>> import numpy as np, torch
>>> table = torch.tensor([[0.0, 0.0, 3.0, 2.0, 2.0]])  # the same logits in every context
>>> ranks = filtered_ranks(lambda ctx: table.expand(len(ctx), 5), test=np.array([[0, 1, 3]]),
...                        known=np.array([[0, 1, 2]]), candidates=np.array([2, 3, 4]))
>>> ranks.tolist()  # tail 2 scores higher but is filtered; tail 4 ties with 3
[1.5]
>>> metrics = link_prediction_metrics(ranks)
>>> round(metrics["mrr"], 4), metrics["hits@1"], metrics["hits@3"], metrics["n"]
(0.6667, 0.0, 1.0, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from artifactlab.tensor.data_tensor import encode

#: next-token logits of a batch of (head, relation) contexts: (B, 2) int64 -> (B, V) float
LogitsFn = Callable[[Tensor], Tensor]


def _triples(arr: np.ndarray | Tensor, label: str) -> np.ndarray:
    """``arr`` as an (M, 3) int64 numpy array, or ValueError."""
    if isinstance(arr, Tensor):
        arr = arr.detach().cpu().numpy()
    arr = np.asarray(arr, dtype=np.int64)
    if arr.size == 0:
        return arr.reshape(0, 3)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{label} must have shape (M, 3), got {arr.shape}")
    if arr.min() < 0:
        raise ValueError(f"{label} holds negative ids")
    return arr


def filter_pairs(test: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (test row, known tail) pair that shares the row's ``(h, r)``.

    Parameters
    ----------
    test : numpy.ndarray
        Test triples, shape (M, 3), int64.
    known : numpy.ndarray
        Known true triples, shape (K, 3), int64 (repeats allowed).

    Returns
    -------
    rows, tails : numpy.ndarray
        Shape (P,) each, ``rows`` ascending: test row ``rows[i]`` must not count the
        candidate ``tails[i]`` (it may be the row's own tail; the caller skips that anyway).
    """
    if len(test) == 0 or len(known) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    W = int(max(test[:, :2].max(), known[:, :2].max())) + 1
    order = np.argsort(encode(known[:, :2], W), kind="stable")
    known_keys = encode(known[order, :2], W)  # (K,) sorted
    known_tails = known[order, 2]
    test_keys = encode(test[:, :2], W)  # (M,)
    lo = np.searchsorted(known_keys, test_keys, side="left")
    hi = np.searchsorted(known_keys, test_keys, side="right")
    counts = hi - lo  # (M,) known triples per test context
    rows = np.repeat(np.arange(len(test)), counts)  # (P,)
    # position of each pair inside its row's run: 0..count-1
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, known_tails[np.repeat(lo, counts) + offsets]


def filtered_ranks(
    logits_fn: LogitsFn,
    test: np.ndarray | Tensor,
    known: np.ndarray | Tensor,
    candidates: np.ndarray | Tensor,
    batch_size: int = 1024,
) -> np.ndarray:
    """Filtered realistic rank of each test triple's tail among the candidates.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, 2) int64 contexts ``(h, r)`` on the CPU -> (B, V), any device.
    test : numpy.ndarray or Tensor
        Triples to rank, shape (M, 3), int64 ``(h, r, t)``.
    known : numpy.ndarray or Tensor
        Every known true triple, shape (K, 3): usually train, valid and test together
        (:func:`artifactlab.data.kg.known_triples`). May contain ``test`` itself.
    candidates : numpy.ndarray or Tensor
        Token ids that can be a tail, shape (C,): the entities
        (:func:`artifactlab.data.kg.entity_ids`). Every test tail must be one.
    batch_size : int
        Test triples per call of ``logits_fn``.

    Returns
    -------
    numpy.ndarray
        Shape (M,), float64, each ``1 + g + e / 2`` (see the module docstring); in
        ``[1, C']`` where ``C'`` is the number of candidates left after filtering.

    Raises
    ------
    ValueError
        Bad shapes, a test tail that is not a candidate, or ids beyond the logits' width.
    """
    test, known = _triples(test, "test"), _triples(known, "known")
    if isinstance(candidates, Tensor):
        candidates = candidates.detach().cpu().numpy()
    cand = np.unique(np.asarray(candidates, dtype=np.int64))
    if not np.isin(test[:, 2], cand).all():
        raise ValueError("every test tail must be among the candidates")
    rows, tails = filter_pairs(test, known)
    ranks = np.empty(len(test), dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, len(test), batch_size):
            stop = min(start + batch_size, len(test))
            block = test[start:stop]
            logits = logits_fn(torch.from_numpy(block[:, :2].copy()))  # (B, V)
            lo, hi = np.searchsorted(rows, [start, stop])
            ranks[start:stop] = _block_ranks(logits, block, cand, rows[lo:hi] - start, tails[lo:hi])
    return ranks


def _block_ranks(
    logits: Tensor, block: np.ndarray, cand: np.ndarray, rows: np.ndarray, tails: np.ndarray
) -> np.ndarray:
    """Realistic ranks of one block: ``logits`` (B, V), ``block`` (B, 3), filter pairs (P,)."""
    B, V = logits.shape
    top = max(int(block.max()), int(cand.max()), int(tails.max()) if len(tails) else 0)
    if top >= V:
        raise ValueError(f"id {top} is beyond the logits' width V = {V}")
    device = logits.device
    counted = torch.zeros(V, dtype=torch.bool, device=device)
    counted[torch.from_numpy(cand).to(device)] = True
    counted = counted.expand(B, V).clone()  # (B, V): candidates that compete with the truth
    counted[torch.from_numpy(rows).to(device), torch.from_numpy(tails).to(device)] = False
    idx = torch.arange(B, device=device)
    truth = torch.from_numpy(block[:, 2].copy()).to(device)
    counted[idx, truth] = False
    true_score = logits[idx, truth][:, None]  # (B, 1)
    greater = ((logits > true_score) & counted).sum(1)
    tied = ((logits == true_score) & counted).sum(1)
    return (1.0 + greater.double() + 0.5 * tied.double()).cpu().numpy()


def filtered_ranks_reference(
    logits_fn: LogitsFn,
    test: np.ndarray,
    known: np.ndarray,
    candidates: np.ndarray,
) -> np.ndarray:
    """Slow, obviously correct :func:`filtered_ranks`: one context and one candidate at a time."""
    known_set = {tuple(row) for row in np.asarray(known).tolist()}
    cand = sorted(set(np.asarray(candidates).tolist()))
    ranks = []
    with torch.inference_mode():
        for h, r, t in np.asarray(test).tolist():
            row = logits_fn(torch.tensor([[h, r]]))[0].tolist()
            greater = tied = 0
            for c in cand:
                if c == t or (h, r, c) in known_set:
                    continue  # the truth itself, or another true tail: filtered
                greater += row[c] > row[t]
                tied += row[c] == row[t]
            ranks.append(1.0 + greater + 0.5 * tied)
    return np.asarray(ranks, dtype=np.float64)


def link_prediction_metrics(
    ranks: np.ndarray | Sequence[float], ks: Sequence[int] = (1, 3, 10)
) -> dict[str, float]:
    """Mean reciprocal rank, mean rank and Hits@k of a set of ranks.

    Parameters
    ----------
    ranks : array-like
        Ranks from :func:`filtered_ranks`, shape (M,); realistic ranks may be fractional.
    ks : sequence of int
        The cut-offs of Hits@k: the share of ranks ``<= k`` (a rank of 1.5 is not a hit at 1).

    Returns
    -------
    dict
        ``mrr``, ``mean_rank``, ``hits@k`` for each k (nan when ``ranks`` is empty) and
        ``n``, the number of ranks.
    """
    r = np.asarray(ranks, dtype=np.float64)
    if len(r) == 0:
        nan = float("nan")
        return {"mrr": nan, "mean_rank": nan, **{f"hits@{k}": nan for k in ks}, "n": 0}
    out = {"mrr": float(np.mean(1.0 / r)), "mean_rank": float(np.mean(r))}
    out.update({f"hits@{k}": float(np.mean(r <= k)) for k in ks})
    out["n"] = len(r)
    return out
