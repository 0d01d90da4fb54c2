"""DistMult: CP with one entity table for heads and tails, ``s = sum_k E[h,k] R[r,k] E[t,k]``.

Sharing the entity embeddings ``W_ent`` (V, rank) makes every score symmetric in
head and tail, ``s(h, r, t) = s(t, r, h)`` (Yang et al. 2015): a DistMult model
cannot tell a relation from its inverse.

Example
-------
>>> import torch
>>> from artifactlab.models.factorization import FactorizationConfig
>>> model = DistMult(FactorizationConfig(V=6, rank=4), seed=0)
>>> forward, backward = model.score(torch.tensor([[1, 2, 3], [3, 2, 1]]))
>>> bool(torch.isclose(forward, backward))
True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from artifactlab.models.factorization import FactorizationConfig, TripleFactorization


class DistMult(TripleFactorization):
    """Diagonal bilinear model with shared entity embeddings.

    Parameters
    ----------
    cfg : FactorizationConfig
        Vocabulary size and rank.
    seed : int
        Seed of the weight initialisation. Each table is ``N(0, rank^(-1/3))``, so a
        score has unit variance at initialisation (for ``h != t``).
    """

    def __init__(self, cfg: FactorizationConfig, seed: int = 0) -> None:
        super().__init__(cfg, seed)
        self.W_ent = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        self.W_rel = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        std = cfg.rank ** (-1 / 6)
        self._init_weights(seed, {"W_ent": std, "W_rel": std})

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """``E[h] * R[r]``: (B,), (B,) -> (B, rank)."""
        return self.W_ent[heads] * self.W_rel[relations]

    def tail_table(self) -> Tensor:
        """``E``, shape (V, rank)."""
        return self.W_ent

    def score(self, triples: Tensor) -> Tensor:
        """``sum_k E[h, k] R[r, k] E[t, k]``: (N, 3) -> (N,)."""
        h, r, t = triples.unbind(1)
        return torch.einsum("nk,nk,nk->n", self.W_ent[h], self.W_rel[r], self.W_ent[t])
