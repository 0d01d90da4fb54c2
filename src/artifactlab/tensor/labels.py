"""Generalization or hallucination: artifacts judged against a ground truth ``G``.

See ``docs/glossary.md#generalization-or-hallucination``.

An artifact (``D^n[c, t] = 0`` and ``p(t | c) > tau``) is a *generalization* when the
n-gram is in ``G`` and a *hallucination* otherwise (closed world over ``G``).
:func:`~artifactlab.tensor.completion.evaluate_completion` given ``truth=G`` counts the
generalizations in the same pass as the artifacts, with the same exact ``p > tau`` rule,
so ``hallucinations = n_artifacts - generalizations`` holds by construction (never
negative); :func:`judge` adds the recall of ``G`` and the held-out scores.

Example
-------
>>> import torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)      # one training bigram: 0 -> 1
>>> table = torch.log(torch.tensor([[0.1, 0.8, 0.1],          # context 0: sure of the data
...                                 [0.1, 0.1, 0.8],          # context 1: artifact 1 -> 2
...                                 [0.7, 0.2, 0.1]]))        # context 2: artifact 2 -> 0
>>> from artifactlab.tensor.completion import evaluate_completion
>>> G = np.array([[1, 2], [2, 1]])
>>> logits_fn = lambda c: table[c[:, -1]]
>>> completion = evaluate_completion(logits_fn, D, truth=G)
>>> rep = judge(logits_fn, D, truth=G, test=np.array([[1, 2]]), report=completion)
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

from artifactlab.tensor.completion import CompletionReport
from artifactlab.tensor.data_tensor import DataTensor, encode
from artifactlab.tensor.threshold import exact_probs

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

    The probability is :func:`~artifactlab.tensor.threshold.exact_probs` (the float64
    softmax of the logits), the rule every artifact count uses, so the same n-gram is on
    the same side of ``tau`` here and in
    :func:`~artifactlab.tensor.completion.evaluate_completion`.

    The logits may be on any device: each batch of n-grams goes to the device of the
    previous batch's logits (the first stays on the CPU), the scores are computed there
    and copied to the CPU.

    Returns
    -------
    Tensor
        Shape (M, 3), float64, on the CPU: probability, log-probability, 1.0 where ``t``
        is the argmax.
    """
    out = torch.empty(len(ngrams), 3, dtype=torch.float64)
    data = torch.as_tensor(ngrams, dtype=torch.int64)
    device = torch.device("cpu")
    with torch.inference_mode():  # as evaluate_completion: a model's cached buffers stay usable
        for start in range(0, len(data), batch):
            rows = data[start : start + batch].to(device)  # (B, n)
            logits = logits_fn(rows[:, :-1])  # (B, V)
            device = logits.device
            target = rows[:, -1:].to(device)
            scores = torch.stack(
                [
                    exact_probs(logits, target[:, 0]),
                    torch.log_softmax(logits.double(), dim=1).gather(1, target)[:, 0],
                    (logits.argmax(1) == target[:, 0]).double(),
                ],
                dim=1,
            )  # (B, 3)
            out[start : start + len(rows)] = scores.cpu()
    return out


def judge(
    logits_fn: LogitsFn,
    D: DataTensor,
    truth: np.ndarray,
    test: np.ndarray,
    report: CompletionReport,
) -> TruthReport:
    """Split a model's artifacts by ``G`` and score it on a held-out split.

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
    report : CompletionReport
        :func:`~artifactlab.tensor.completion.evaluate_completion` of the same model,
        called with ``truth=truth``: its generalizations were counted in its pass.

    Returns
    -------
    TruthReport

    Raises
    ------
    ValueError
        ``report`` was computed without this truth set.
    """
    G = np.unique(np.asarray(truth, dtype=np.int64).reshape(-1, D.n), axis=0)
    in_train = np.isin(encode(G, D.V), D.keys()) if len(G) else np.zeros(0, dtype=bool)
    n_truth = int((~in_train).sum())
    if report.n_generalizations is None or report.n_truth != n_truth:
        raise ValueError("judge needs the completion report computed with truth=G")
    generalizations = dict(report.n_generalizations)
    test = np.asarray(test, dtype=np.int64).reshape(-1, D.n)
    scored = scores_of(logits_fn, test) if len(test) else None
    return TruthReport(
        n_truth=n_truth,
        n_truth_in_train=int(in_train.sum()),
        generalizations=generalizations,
        hallucinations={t: report.n_artifacts[t] - g for t, g in generalizations.items()},
        recall={t: g / n_truth if n_truth else float("nan") for t, g in generalizations.items()},
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
