"""What the low-rank triple factorizations (CP, DistMult, RESCAL, ComplEx) share.

The recommender-system view of the paper's section 3.1: the completion tensor
of triples ``(h, r, t)`` is modelled by a low-rank score ``s(h, r, t)``, and the
next-token distribution is ``softmax_t s(h, r, t)`` over all V tokens. Every
token has an entity embedding and can serve as a relation (one shared
vocabulary, as the toy transformer has). Each model writes its score as
``<q(h, r), e_t>``: a query vector from the context and a table of tail vectors,
so the logits of a block of contexts are one matmul with the whole tail table.
Each also keeps the score's formula, written out literally, as :meth:`score`:
the reference the fast path is tested against.

These models read contexts of length 2 only: they are trained on the last token
(training mode ``last``); :meth:`TripleFactorization.forward` (mode ``all``)
raises :class:`~artifactlab.errors.InputError`.

Example
-------
>>> import torch
>>> from artifactlab.models import parameter_counts
>>> from artifactlab.models.cp import CP
>>> model = CP(FactorizationConfig(V=5, rank=4), seed=0)
>>> model.next_token_logits(torch.tensor([[1, 2]])).shape
torch.Size([1, 5])
>>> parameter_counts(model)  # per-token tables only: no embedding split
ParameterCounts(total=60, non_embedding=None)
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import torch
from torch import Tensor, nn

from artifactlab.errors import InputError
from artifactlab.models.config import FactorizationConfig


class TripleFactorization(nn.Module, abc.ABC):
    """Base class: logits are ``query(h, r) @ tail_table().T``.

    Subclasses create their parameters, then call :meth:`_init_weights`, and define
    :meth:`query`, :meth:`tail_table` and :meth:`score`.

    Parameters
    ----------
    cfg : FactorizationConfig
        Vocabulary size and rank.
    seed : int
        Seed of the weight initialisation (a private generator: the global RNG is untouched).
    """

    def __init__(self, cfg: FactorizationConfig, seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg

    def _init_weights(self, seed: int, std: dict[str, float]) -> None:
        """Draw each parameter from ``N(0, std[name]^2)``, in registration order."""
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * std[name])

    @abc.abstractmethod
    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Query vectors of contexts: heads (B,), relations (B,) -> (B, k)."""

    @abc.abstractmethod
    def tail_table(self) -> Tensor:
        """The vector of every candidate tail, shape (V, k)."""

    @abc.abstractmethod
    def score(self, triples: Tensor) -> Tensor:
        """The score's formula, one triple at a time: (B, 3) -> (B,). Slow; a test oracle."""

    def next_token_logits(self, contexts: Tensor) -> Tensor:
        """Scores of every tail after each (head, relation) context: (B, 2) -> (B, V).

        Contexts on another device than the weights are moved to the weights' device.
        """
        _check_contexts(contexts)
        table = self.tail_table()
        contexts = contexts.to(table.device)
        return self.query(contexts[:, 0], contexts[:, 1]) @ table.T

    def forward(self, tokens: Tensor) -> Tensor:
        """Not available: a factorization has no logits after a one-token prefix.

        Raises
        ------
        InputError
            Always; use :meth:`next_token_logits` (training mode ``last``).
        """
        raise InputError(
            "--mode",
            f"{type(self).__name__} scores only the last token of a triple, not every position",
            "train it with mode 'last'",
        )

    def next_token_fn(self) -> Callable[[Tensor], Tensor]:
        """A :meth:`next_token_logits` with the tail table computed once (a weight snapshot).

        The table lives on the weights' device; contexts are moved there.
        """
        with torch.no_grad():
            table_T = self.tail_table().T.contiguous()  # (k, V)

        def logits(contexts: Tensor) -> Tensor:
            _check_contexts(contexts)
            contexts = contexts.to(table_T.device)
            return self.query(contexts[:, 0], contexts[:, 1]) @ table_T

        return logits


def _check_contexts(contexts: Tensor) -> None:
    if contexts.dim() != 2 or contexts.shape[1] != 2:
        raise InputError(
            "contexts",
            f"shape {tuple(contexts.shape)}, expected (B, 2) (head, relation) pairs",
            "factorization models complete triples only",
        )
