"""Fitting any registered model: closed-form fits for count models, Adam for the rest.

Models with a ``fit(tuples)`` method (the ``ngram`` count model) are fitted in one
pass and report ``steps=0`` and the stop reason :data:`FIT_STOP_REASON`; every
other model goes through :func:`artifactlab.train.train`. Either way the result's
loss and accuracy are measured the same way, in ``cfg.mode``.

Example
-------
>>> from artifactlab.data import random_triples
>>> from artifactlab.models import NGramConfig, NGramModel
>>> ds = random_triples(V=8, N=10, seed=0)
>>> result = fit_model(NGramModel(NGramConfig(V=8)), ds.tuples, TrainConfig())
>>> result.steps, result.stop_reason, result.loss, result.accuracy
(0, 'closed_form', 0.0, 1.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from artifactlab.device import module_device
from artifactlab.train.trainer import StopReason, TrainConfig, TrainResult, _evaluate, train

#: stop reason of a closed-form fit
FIT_STOP_REASON: StopReason = "closed_form"


def fit_model(
    model: torch.nn.Module,
    tuples: np.ndarray,
    cfg: TrainConfig,
    progress: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Fit ``model`` in place on an (N, n) array of token ids, by counting or by Adam.

    Parameters
    ----------
    model : torch.nn.Module
        A registered model; one with a ``fit`` method is fitted in closed form.
    tuples : numpy.ndarray
        Training tuples, shape (N, n).
    cfg : TrainConfig
        Training options; a closed-form fit uses only ``mode`` (to measure the loss).
    progress : callable, optional
        Passed to :func:`~artifactlab.train.train`; a closed-form fit never calls it.

    Returns
    -------
    TrainResult
    """
    if not callable(getattr(model, "fit", None)):
        return train(model, tuples, cfg, progress)
    start = time.perf_counter()
    model.fit(tuples)
    model.eval()
    data = torch.as_tensor(tuples, dtype=torch.int64).to(module_device(model))
    loss, accuracy = _evaluate(model, data, cfg.mode)
    log = [{"step": 0, "loss": loss, "accuracy": accuracy}]
    seconds = time.perf_counter() - start
    return TrainResult(0, FIT_STOP_REASON, loss, accuracy, seconds, log)
