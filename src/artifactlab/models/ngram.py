"""The count model: maximum likelihood on observed contexts, uniform elsewhere.

``p(t | c) = count(c, t) / count(c)`` for every context ``c`` seen in training
(of every length from 1 to n - 1, so the model serves both training modes), and
``1 / V`` for every other context. It is the perfect fit of ``D^n`` with no
artifacts at any ``tau >= 1/V``: in an observed context only observed tokens
have mass, and an unobserved context spreads its mass evenly. Additive
smoothing (``smoothing > 0``) gives ``(count(c, t) + a) / (count(c) + a V)``
instead, which puts mass on unobserved tokens of observed contexts too.

The model has no trainable parameters: :meth:`NGramModel.fit` sets its count
buffers, which ``state_dict`` saves and ``load_state_dict`` restores (at
whatever size they were saved).

Example
-------
>>> import numpy as np, torch
>>> model = NGramModel(NGramConfig(V=3)).fit(np.array([[0, 1, 2], [0, 1, 2], [0, 1, 0]]))
>>> torch.softmax(model.next_token_logits(torch.tensor([[0, 1], [2, 2]])), -1)
tensor([[0.3333, 0.0000, 0.6667],
        [0.3333, 0.3333, 0.3333]])
>>> model.n_counts, sum(p.numel() for p in model.parameters())
(3, 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from artifactlab.errors import InputError
from artifactlab.models.config import NGramConfig

#: logit of a token never seen after an observed context (unsmoothed): finite, so losses and
#: log-softmaxes stay finite, yet exp(LOG_ZERO - max) underflows to exactly 0 in float32 and
#: float64 because every observed token's log-probability is above -log(2**63) > -44
LOG_ZERO = -1e4

_BUFFERS = ("context_keys_", "context_offsets_", "context_totals_", "next_tokens_", "counts_")


class NGramModel(nn.Module):
    """Conditional counts of the next token after every observed context.

    The counts are stored sparsely, one row per distinct observed (context, next token)
    pair, grouped by context (compressed sparse rows): ``context_keys_`` (C,) sorted
    context keys, ``context_offsets_`` (C + 1,) where each context's rows start,
    ``context_totals_`` (C,) ``count(c)``, ``next_tokens_`` (K,) and ``counts_`` (K,)
    ``count(c, t)``. A context ``c`` of any length has the key
    ``sum_i (c_i + 1) (V + 1)^(len(c) - 1 - i)``, so contexts of different lengths never
    share a key.

    Parameters
    ----------
    cfg : NGramConfig
        Vocabulary size, longest context and smoothing.
    seed : int
        Unused (the model has no random initialisation); accepted like every registered model.
    """

    def __init__(self, cfg: NGramConfig, seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        for name in _BUFFERS:
            self.register_buffer(name, torch.zeros(1 if name == "context_offsets_" else 0).long())
        # a saved model's buffers have its data's sizes, not the empty ones above
        self.register_load_state_dict_pre_hook(_resize_buffers)

    @property
    def n_counts(self) -> int:
        """Distinct observed (context, next token) pairs, over every context length."""
        return len(self.counts_)

    def fit(self, tuples: np.ndarray | Tensor) -> NGramModel:
        """Count every prefix of every tuple and the token that follows it.

        Parameters
        ----------
        tuples : numpy.ndarray or Tensor
            Training tuples, shape (N, n) with ``2 <= n <= n_ctx``; each row gives
            ``n - 1`` (context, next token) pairs, one per prefix length.

        Returns
        -------
        NGramModel
            ``self``, fitted (replacing any earlier counts).
        """
        data = self._check_tuples(tuples)
        N, n = data.shape
        keys, nexts = [], []
        key = torch.zeros(N, dtype=torch.int64)
        for k in range(1, n):
            key = key * (self.cfg.V + 1) + data[:, k - 1] + 1
            keys.append(key)
            nexts.append(data[:, k])
        pairs, counts = torch.unique(
            torch.stack([torch.cat(keys), torch.cat(nexts)], 1), dim=0, return_counts=True
        )  # (K, 2) sorted by context key, then token
        context_keys, per_context = torch.unique_consecutive(pairs[:, 0], return_counts=True)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), per_context.cumsum(0)])
        running = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)])
        values = {
            "context_keys_": context_keys,
            "context_offsets_": offsets,
            "context_totals_": running[offsets[1:]] - running[offsets[:-1]],
            "next_tokens_": pairs[:, 1].contiguous(),
            "counts_": counts,
        }
        device = self.counts_.device
        for name, value in values.items():
            setattr(self, name, value.to(device))  # a registered buffer stays a buffer
        return self

    def _check_tuples(self, tuples: np.ndarray | Tensor) -> Tensor:
        data = torch.as_tensor(np.asarray(tuples), dtype=torch.int64)
        if data.dim() != 2 or not 2 <= data.shape[1] <= self.cfg.n_ctx:
            raise InputError(
                "tuples",
                f"shape {tuple(data.shape)}, expected (N, n) with 2 <= n <= n_ctx = "
                f"{self.cfg.n_ctx}",
                "raise the model's n_ctx" if data.dim() == 2 and data.shape[1] > 2 else "",
            )
        if len(data) and (data.min() < 0 or data.max() >= self.cfg.V):
            raise InputError("tuples", f"token ids must lie in [0, {self.cfg.V}), the model's V")
        return data

    def context_keys(self, contexts: Tensor) -> Tensor:
        """Keys of contexts (B, m) -> (B,), unique over every length ``m``."""
        powers = (self.cfg.V + 1) ** torch.arange(
            contexts.shape[1] - 1, -1, -1, dtype=torch.int64, device=contexts.device
        )
        return ((contexts + 1) * powers).sum(1)

    def next_token_logits(self, contexts: Tensor) -> Tensor:
        """Log-probabilities of the token after each context: (B, m) -> (B, V), float32.

        Softmax of them gives the counts' distribution up to float rounding: exactly zero
        (logit :data:`LOG_ZERO`) on unobserved tokens of observed contexts without
        smoothing, and all-zero logits (uniform) in unobserved contexts. Contexts are moved
        to the count buffers' device, where the logits are made.
        """
        contexts = contexts.to(self.counts_.device)
        B, m = contexts.shape
        if not 1 <= m < self.cfg.n_ctx:
            raise InputError(
                "contexts", f"length {m}, expected 1..n_ctx - 1 = 1..{self.cfg.n_ctx - 1}"
            )
        logits = torch.zeros(B, self.cfg.V, device=contexts.device)
        C = len(self.context_keys_)
        if C == 0:
            return logits
        keys = self.context_keys(contexts)
        pos = torch.searchsorted(self.context_keys_, keys).clamp_(max=C - 1)
        rows = torch.nonzero(self.context_keys_[pos] == keys).reshape(-1)  # observed contexts
        self._fill_observed(logits, rows, pos[rows])
        return logits

    def _fill_observed(self, logits: Tensor, rows: Tensor, ctx: Tensor) -> None:
        """Write the log-probabilities of contexts ``ctx`` (their indices) into ``logits[rows]``."""
        a, V = self.cfg.smoothing, self.cfg.V
        log_total = torch.log(self.context_totals_[ctx].double() + a * V)  # (R,)
        floor = math.log(a) - log_total if a > 0 else torch.full_like(log_total, LOG_ZERO)
        logits[rows] = floor[:, None].float()  # unobserved tokens of observed contexts
        start = self.context_offsets_[ctx]
        length = self.context_offsets_[ctx + 1] - start  # observed next tokens per context
        first = length.cumsum(0) - length
        # entry j of context i: row start_i + j of the count arrays
        entry = torch.arange(int(length.sum()), device=logits.device)
        entry += (start - first).repeat_interleave(length)
        log_p = torch.log(self.counts_[entry].double() + a) - log_total.repeat_interleave(length)
        logits[rows.repeat_interleave(length), self.next_tokens_[entry]] = log_p.float()

    def forward(self, tokens: Tensor) -> Tensor:
        """Next-token log-probabilities after every prefix: (B, T) -> (B, T, V)."""
        return torch.stack(
            [self.next_token_logits(tokens[:, : i + 1]) for i in range(tokens.shape[1])], 1
        )

    def next_token_fn(self) -> Callable[[Tensor], Tensor]:
        """:meth:`next_token_logits` itself: a lookup has nothing to precompute."""
        return self.next_token_logits


def _resize_buffers(module: NGramModel, state_dict: dict, prefix: str, *args: object) -> None:
    """Load-state-dict pre-hook: give each count buffer the saved size before copying."""
    for name in _BUFFERS:
        saved = state_dict.get(prefix + name)
        if isinstance(saved, Tensor):
            buffer = getattr(module, name)
            setattr(module, name, buffer.new_empty(saved.shape))
