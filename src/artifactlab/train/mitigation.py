r"""Mitigation during training: a penalty on confident guesses, and the [IDK] objective.

Two of the four mitigations change the loss rather than the data (the other two,
unsupported-token sentences and contradicting facts, are :mod:`artifactlab.data.augment`).
Each is an :class:`~artifactlab.train.batched.Objective` for
:func:`~artifactlab.train.batched.train_batched`, so the seeds of one setting still
train as one batch.

- :class:`Penalty` (paper section 3.4): the mean cross-entropy plus
  ``lambda * mean_{c in S} relu(max_t p(t | c) - tau)`` over a fresh uniform sample
  ``S`` of unobserved contexts at every step (drawn with replacement; each member has its
  own seeded generator, so the draws are reproducible and differ between seeds). The
  default ``tau`` is 0.25, half the artifact threshold 0.5: a penalty at the threshold
  itself would push confident guesses only down to 0.5, where they still count.
- :class:`IDKObjective` (Cohen et al. 2024, "I Don't Know: Explicit Modeling of
  Uncertainty with an [IDK] Token", as we read it): only the training tuples are used.
  Where the model's argmax on a training tuple is not its target, a share ``lam`` of the
  target mass moves to the ``[IDK]`` token: the target is
  ``(1 - lam) onehot(y) + lam onehot(IDK)``. ``adaptive`` (their uncertainty factor):
  ``lam = Pi * (1 - p(y | c) / max_t p(t | c))``, at most ``Pi``; ``fixed``:
  ``lam = Pi``. ``lam`` is computed from the detached probabilities of the step.

Example
-------
>>> import torch
>>> from artifactlab.train.mitigation import MitigationConfig
>>> MitigationConfig(method="penalty", strength=2.0).active
True
>>> MitigationConfig(method="penalty", strength=0.0).active
False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import ConfigDict, with_config
from torch import Tensor

from artifactlab.checks import at_least, finite, seed_value
from artifactlab.errors import InputError
from artifactlab.train.batched import member_losses

Method = Literal["none", "penalty", "unsupported", "contradict", "idk"]
METHODS: tuple[str, ...] = ("penalty", "unsupported", "contradict", "idk")
#: what ``strength`` means for each method
STRENGTH = {
    "none": "no mitigation",
    "penalty": "lambda, the weight of the penalty (>= 0)",
    "unsupported": "share of the unobserved contexts given an UNSUPPORTED sentence, in [0, 1]",
    "contradict": "true negative facts added per training tuple (>= 0)",
    "idk": "Pi, the most target mass moved to [IDK] on a wrong argmax, in [0, 1]",
}


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
@dataclass(frozen=True)
class MitigationConfig:
    """One mitigation at one strength (strength 0: the unmitigated model, bit for bit).

    Attributes
    ----------
    method : {"none", "penalty", "unsupported", "contradict", "idk"}
        Which mitigation (:data:`STRENGTH` says what ``strength`` is for each).
    strength : float
        Its strength; 0 trains exactly as without mitigation.
    sample : int
        Penalty: unobserved contexts drawn per step.
    tau : float
        Penalty: confidence above which a guess is penalised, in (0, 1); default 0.25,
        below the artifact threshold 0.5 so that a penalised guess falls under it.
    size : int or None
        Unsupported and contradict: add exactly this many sentences instead of a share.
    idk_mode : {"adaptive", "fixed"}
        IDK: the uncertainty factor, or a fixed share.
    token : str or None
        Name of the added token (unsupported, idk); default ``<unsupported>`` / ``[IDK]``.
    seed : int
        Seed of the samples (combined with each trial's seed).
    """

    method: Method = "none"
    strength: float = 0.0
    sample: int = 64
    tau: float = 0.25
    size: int | None = None
    idk_mode: Literal["adaptive", "fixed"] = "adaptive"
    token: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("none", *METHODS):
            raise InputError(
                "mitigation.method",
                f"unknown method {self.method!r}",
                f"choose {', '.join(METHODS)}",
            )
        finite("mitigation.strength", self.strength, low=0)
        if self.method in ("unsupported", "idk"):
            finite("mitigation.strength", self.strength, low=0, high=1)
        at_least("mitigation.sample", self.sample, 1)
        finite("mitigation.tau", self.tau, low=0, high=1, low_open=True, high_open=True)
        if self.size is not None:
            at_least("mitigation.size", self.size, 0)
        seed_value("mitigation.seed", self.seed)
        if self.token is not None and not self.token.strip():
            raise InputError("mitigation.token", "must be a non-empty name")

    @property
    def active(self) -> bool:
        """Whether anything changes: a method other than none, at a strength or size > 0."""
        if self.method == "none":
            return False
        return self.strength > 0 or (self.size or 0) > 0

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return asdict(self)


def member_rng(seed: int, trial_seed: int) -> np.random.Generator:
    """The generator of one member's samples: seeded by the mitigation's and the trial's seed."""
    return np.random.default_rng([seed, trial_seed, 7])


class Penalty:
    """Cross-entropy plus ``lam * mean_{c in S} relu(max_t p(t | c) - tau)`` (module doc).

    Parameters
    ----------
    lam, tau : float
        The weight and the confidence threshold.
    sample : int
        Contexts drawn per step per member (uniformly, with replacement).
    pool : numpy.ndarray
        The unobserved contexts as token ids, shape (U, m): what is drawn from.
    rngs : list of numpy.random.Generator
        One per member, in member order.
    """

    def __init__(
        self, lam: float, tau: float, sample: int, pool: np.ndarray,
        rngs: list[np.random.Generator],
    ) -> None:  # fmt: skip
        if len(pool) == 0:
            raise InputError(
                "mitigation.method", "penalty needs unobserved contexts; the data observes all"
            )
        self.lam, self.tau, self.sample, self.rngs = lam, tau, sample, rngs
        self.pool = torch.from_numpy(
            np.concatenate([pool, np.zeros((len(pool), 1), dtype=np.int64)], axis=1)
        )  # (U, m + 1): a dummy last token, for the batched forward
        self.drawn = 0  # contexts drawn so far, all members

    def contexts(self, members: list[int]) -> Tensor:
        """Each member's draw as token ids with a dummy last token: (M, sample, m + 1)."""
        idx = np.stack([self.rngs[i].integers(0, len(self.pool), self.sample) for i in members])
        self.drawn += idx.size
        return self.pool[torch.from_numpy(idx)]

    def __call__(self, logits_fn, params, logits, targets, members, step) -> Tensor:
        """The members' losses (M,): cross-entropy on their tuples plus the penalty."""
        ce = member_losses(logits, targets)
        extra, _ = logits_fn(params, self.contexts(members).to(logits.device))
        # mode "all" gives every prefix's logits: keep the full contexts' (the last) only
        extra = extra.view(len(members), self.sample, -1, extra.shape[-1])[:, :, -1]
        top = extra.softmax(-1).amax(-1)  # (M, sample)
        return ce + self.lam * torch.relu(top - self.tau).mean(1)


class IDKObjective:
    """Cross-entropy against targets that move mass to ``[IDK]`` on wrong argmaxes (module doc).

    Parameters
    ----------
    pi : float
        The most mass moved (``Pi``), in [0, 1].
    idk : int
        The token id of ``[IDK]``.
    mode : {"adaptive", "fixed"}
        ``lam = Pi * (1 - p(y) / max p)`` or ``lam = Pi``, on wrong argmaxes only.
    """

    def __init__(self, pi: float, idk: int, mode: str = "adaptive") -> None:
        self.pi, self.idk, self.mode = pi, idk, mode

    def __call__(self, logits_fn, params, logits, targets, members, step) -> Tensor:
        """The members' losses (M,)."""
        logp = logits.log_softmax(-1)  # (M, R, V)
        gold = logp.gather(-1, targets[..., None])[..., 0]  # (M, R)
        with torch.no_grad():
            p = logp.exp()
            wrong = (p.argmax(-1) != targets).to(logp.dtype)
            if self.mode == "fixed":
                lam = self.pi * wrong
            else:
                lam = self.pi * (1 - gold.exp() / p.amax(-1)) * wrong
        loss = -(1 - lam) * gold - lam * logp[..., self.idk]
        return loss.mean(-1)
