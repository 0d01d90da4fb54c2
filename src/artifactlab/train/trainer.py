"""Training a completion model on tuples with Adam (paper eq. 1 or its last-token part).

Two modes: ``last`` learns only the final token of each tuple (the paper's
triple setting, the fibers of ``D^n``); ``all`` is the next-token loss over
every prefix of length >= 1 (eq. 1 without the unconditional first-token term,
since the toy models have no start token). Training stops at the first of: the
mean train loss falls under ``loss_tol``, train accuracy reaches 100%
(``stop_at_accuracy``), or ``max_steps``; the result records which fired.

Example
-------
>>> from artifactlab.data import random_triples
>>> from artifactlab.models import ToyTransformer, ToyTransformerConfig
>>> ds = random_triples(V=8, N=10, seed=0)
>>> model = ToyTransformer(ToyTransformerConfig(V=8, d_model=16, n_heads=2), seed=0)
>>> result = train(model, ds.tuples, TrainConfig(max_steps=500, lr=0.05, stop_at_accuracy=True))
>>> result.stop_reason, result.accuracy
('accuracy', 1.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import ConfigDict, with_config
from torch import Tensor

from artifactlab.checks import at_least, finite, seed_value
from artifactlab.device import module_device
from artifactlab.errors import InputError

#: "closed_form": fitted in one pass (count models, :func:`artifactlab.train.fit.fit_model`)
StopReason = Literal["loss_tol", "accuracy", "max_steps", "closed_form"]


# sweep files validate it with pydantic: no unknown keys, no nan or infinity
@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes
    ----------
    mode : {"last", "all"}
        Learn the last token only, or every next token.
    lr : float
        Adam learning rate.
    max_steps : int
        Step cap.
    batch_size : int or None
        Minibatch size; None trains on the full batch.
    loss_tol : float or None
        Stop once the mean train cross-entropy (nats) is below this. The default,
        0.01 nats, bounds the mean ``KL(q || p)`` over the observed fibers of
        single-valued data by 0.01: the model is then a completion of ``D^n``.
    stop_at_accuracy : bool
        Stop once every training target is the argmax (earlier, and looser).
    weight_decay : float
        Adam's (L2) weight decay.
    seed : int
        Seed of the minibatch order.
    log_every : int
        Record loss and accuracy every this many steps.
    """

    mode: Literal["last", "all"] = "last"
    lr: float = 1e-2
    max_steps: int = 3000
    batch_size: int | None = None
    loss_tol: float | None = 0.01
    stop_at_accuracy: bool = False
    weight_decay: float = 0.0
    seed: int = 0
    log_every: int = 50

    def __post_init__(self) -> None:
        if self.mode not in ("last", "all"):
            raise InputError("--mode", f"must be 'last' or 'all', got {self.mode!r}")
        finite("--lr", self.lr, low=0, low_open=True)
        finite("--weight-decay", self.weight_decay, low=0)
        for name in ("max_steps", "log_every"):
            at_least(f"--{name.replace('_', '-')}", getattr(self, name), 1)
        seed_value("--seed", self.seed)  # numpy and torch refuse negative or 65-bit seeds later
        if self.loss_tol is not None:
            finite("--loss-tol", self.loss_tol, low=0, low_open=True)
        if self.batch_size is not None:
            at_least("--batch-size", self.batch_size, 1)

    def to_dict(self) -> dict:
        """Plain-JSON form, as saved in a run folder."""
        return asdict(self)


@dataclass
class TrainResult:
    """What happened in training: updates made, the stop that fired, final loss and accuracy.

    ``log`` holds the loss and accuracy every ``log_every`` updates (before that update),
    then the final state.
    """

    steps: int
    stop_reason: StopReason
    loss: float
    accuracy: float
    seconds: float
    log: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return asdict(self)


def _loss_and_accuracy(model: torch.nn.Module, tuples: Tensor, mode: str) -> tuple[Tensor, float]:
    if mode == "last":
        logits = model.next_token_logits(tuples[:, :-1])  # (B, V)
        targets = tuples[:, -1]
    else:
        logits = model(tuples[:, :-1]).flatten(0, 1)  # (B * (n-1), V)
        targets = tuples[:, 1:].reshape(-1)
    loss = F.cross_entropy(logits, targets)
    accuracy = (logits.argmax(-1) == targets).float().mean().item()
    return loss, accuracy


def train(
    model: torch.nn.Module,
    tuples: np.ndarray,
    cfg: TrainConfig,
    progress: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place on an (N, n) array of token ids.

    The tuples are put on the model's device (:func:`artifactlab.device.module_device`),
    where it trains; the minibatch order is drawn on the CPU, so it is the same on
    every device.

    Parameters
    ----------
    model : torch.nn.Module
        Has ``forward(tokens) -> (B, T, V)`` and ``next_token_logits(ctx) -> (B, V)``.
    tuples : numpy.ndarray
        Training tuples, shape (N, n).
    cfg : TrainConfig
        Optimiser, stopping rules and seed.
    progress : callable, optional
        Called as ``progress(step, loss, accuracy)`` at every logged step.

    Returns
    -------
    TrainResult
    """
    device = module_device(model)
    data = torch.as_tensor(tuples, dtype=torch.int64).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    full_batch = cfg.batch_size is None or cfg.batch_size >= len(data)
    log: list[dict[str, float]] = []
    start = time.perf_counter()
    reason: StopReason = "max_steps"
    order = torch.randperm(len(data), generator=gen)
    cursor = 0
    model.train()
    for step in range(cfg.max_steps + 1):  # step = optimizer updates made so far
        if full_batch:
            batch = data
        else:
            if cursor + cfg.batch_size > len(data):
                order, cursor = torch.randperm(len(data), generator=gen), 0
            batch = data[order[cursor : cursor + cfg.batch_size].to(device)]
            cursor += cfg.batch_size
        loss, acc = _loss_and_accuracy(model, batch, cfg.mode)
        if full_batch:
            reason_now = _stop(cfg, loss.item(), acc)
        elif step % cfg.log_every == 0:  # minibatches: check the whole set now and then
            reason_now = _stop(cfg, *_evaluate(model, data, cfg.mode))
        else:
            reason_now = None
        if reason_now is not None:
            reason = reason_now
            break
        if step == cfg.max_steps:
            break
        if step % cfg.log_every == 0:
            log.append({"step": step, "loss": loss.item(), "accuracy": acc})
            if progress is not None:
                progress(step, loss.item(), acc)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    final_loss, final_acc = _evaluate(model, data, cfg.mode)
    model.eval()
    log.append({"step": step, "loss": final_loss, "accuracy": final_acc})
    return TrainResult(step, reason, final_loss, final_acc, time.perf_counter() - start, log)


def _evaluate(model: torch.nn.Module, data: Tensor, mode: str) -> tuple[float, float]:
    with torch.no_grad():
        loss, acc = _loss_and_accuracy(model, data, mode)
    return loss.item(), acc


def _stop(cfg: TrainConfig, loss: float, accuracy: float) -> StopReason | None:
    if cfg.loss_tol is not None and loss < cfg.loss_tol:
        return "loss_tol"
    if cfg.stop_at_accuracy and accuracy >= 1.0:
        return "accuracy"
    return None
