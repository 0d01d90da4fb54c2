"""Generalization or hallucination: artifacts judged against a ground truth ``G`` (SPEC section 4).

An artifact (``D^n[c, t] = 0`` and ``p(t | c) > tau``) is a *generalization* when the
n-gram is in ``G`` and a *hallucination* otherwise (closed world over ``G``). Only the
n-grams of ``G`` need evaluating: the generalizations are the members of ``G`` (outside
the training data) that the model puts above ``tau``, and every other artifact is a
hallucination, so ``hallucinations = n_artifacts - generalizations`` with ``n_artifacts``
from :func:`~artifactlab.tensor.completion.evaluate_completion`.

Example
-------
>>> import torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)      # one training bigram: 0 -> 1
>>> table = torch.log(torch.tensor([[0.1, 0.8, 0.1],          # context 0: sure of the data
...                                 [0.1, 0.1, 0.8],          # context 1: artifact 1 -> 2
...                                 [0.7, 0.2, 0.1]]))        # context 2: artifact 2 -> 0
>>> rep = judge(lambda c: table[c[:, -1]], D, truth=np.array([[1, 2], [2, 1]]),
...             test=np.array([[1, 2]]), n_artifacts={0.5: 2})
>>> rep.generalizations[0.5], rep.hallucinations[0.5], rep.recall[0.5]
(1, 1, 0.5)
>>> rep.test_accuracy, round(rep.test_cross_entropy, 3)
(1.0, 0.223)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from artifactlab.tensor.data_tensor import DataTensor, encode

LogitsFn = Callable[[Tensor], Tensor]


@dataclass
class TruthReport:
    """A model's artifacts split by the ground truth, and its held-out scores.

    Attributes
    ----------
    n_truth : int
        Distinct n-grams of ``G`` outside the training data (the ones that can be artifacts).
    n_truth_in_train : int
        n-grams of ``G`` that are also training n-grams (not artifacts; 0 for a clean split).
    generalizations, hallucinations : dict
        tau -> artifacts in ``G`` / not in ``G``.
    recall : dict
        tau -> ``generalizations / n_truth``: the share of ``G`` the model recovers.
    n_test : int
        Held-out n-grams scored.
    n_test_in_train : int
        Held-out n-grams that are also training n-grams (0 for a clean split).
    test_accuracy : float
        Share of held-out n-grams whose token is their context's argmax (nan without a test set).
    test_cross_entropy : float
        Mean ``-log p(t | c)`` over the held-out n-grams, in nats (nan without a test set).
    """

    n_truth: int
    n_truth_in_train: int
    generalizations: dict[float, int]
    hallucinations: dict[float, int]
    recall: dict[float, float]
    n_test: int
    n_test_in_train: int
    test_accuracy: float
    test_cross_entropy: float

    def to_dict(self) -> dict:
        """Plain-JSON form (tau keys as text)."""
        out = asdict(self)
        for key in ("generalizations", "hallucinations", "recall"):
            out[key] = {f"{t:g}": v for t, v in out[key].items()}
        return out


def scores_of(logits_fn: LogitsFn, ngrams: np.ndarray, batch: int = 65_536) -> Tensor:
    """``p(t | c)``, ``log p(t | c)`` and whether ``t`` is the argmax, for each n-gram ``(c, t)``.

    The probability comes from a softmax in the logits' own dtype, as in
    :func:`~artifactlab.tensor.completion.evaluate_completion`, so the same n-gram is on
    the same side of ``tau`` in both; the log-probability is computed in float64.

    Returns
    -------
    Tensor
        Shape (M, 3), float64: probability, log-probability, 1.0 where ``t`` is the argmax.
    """
    out = torch.empty(len(ngrams), 3, dtype=torch.float64)
    data = torch.as_tensor(ngrams, dtype=torch.int64)
    with torch.inference_mode():  # as evaluate_completion: a model's cached buffers stay usable
        for start in range(0, len(data), batch):
            rows = data[start : start + batch]  # (B, n)
            logits = logits_fn(rows[:, :-1])  # (B, V)
            target = rows[:, -1:]
            block = out[start : start + len(rows)]
            block[:, 0] = torch.softmax(logits, dim=1).gather(1, target)[:, 0].double()
            block[:, 1] = torch.log_softmax(logits.double(), dim=1).gather(1, target)[:, 0]
            block[:, 2] = (logits.argmax(1) == target[:, 0]).double()
    return out


def judge(
    logits_fn: LogitsFn,
    D: DataTensor,
    truth: np.ndarray,
    test: np.ndarray,
    n_artifacts: dict[float, int],
) -> TruthReport:
    """Label a model's artifacts against ``G`` and score it on a held-out split.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits: (B, n-1) int64 contexts -> (B, V).
    D : DataTensor
        The training data tensor ``D^n``.
    truth : numpy.ndarray
        ``G``, shape (K, n); repeats and training n-grams are allowed (they are set aside).
    test : numpy.ndarray
        Held-out n-grams, shape (M, n) (may be empty).
    n_artifacts : dict
        tau -> artifact count from :func:`~artifactlab.tensor.completion.evaluate_completion`.

    Returns
    -------
    TruthReport
    """
    G = np.unique(np.asarray(truth, dtype=np.int64).reshape(-1, D.n), axis=0)
    in_train = np.isin(encode(G, D.V), D.keys()) if len(G) else np.zeros(0, dtype=bool)
    novel = G[~in_train]
    p = scores_of(logits_fn, novel)[:, 0].numpy() if len(novel) else np.zeros(0)
    generalizations = {tau: int((p > tau).sum()) for tau in n_artifacts}
    scored = scores_of(logits_fn, np.asarray(test, dtype=np.int64)) if len(test) else None
    return TruthReport(
        n_truth=len(novel),
        n_truth_in_train=int(in_train.sum()),
        generalizations=generalizations,
        hallucinations={tau: n_artifacts[tau] - g for tau, g in generalizations.items()},
        recall={
            tau: g / len(novel) if len(novel) else float("nan")
            for tau, g in generalizations.items()
        },
        n_test=len(test),
        n_test_in_train=int(np.isin(encode(test, D.V), D.keys()).sum()) if len(test) else 0,
        test_accuracy=float(scored[:, 2].mean()) if scored is not None else float("nan"),
        test_cross_entropy=float(-scored[:, 1].mean()) if scored is not None else float("nan"),
    )


def label_ngrams(ngrams: np.ndarray, truth: np.ndarray) -> list[str]:
    """``"generalization"`` for each n-gram in ``G``, ``"hallucination"`` otherwise."""
    known = {tuple(row) for row in np.asarray(truth).tolist()}
    return [
        "generalization" if tuple(row) in known else "hallucination"
        for row in np.asarray(ngrams).tolist()
    ]
