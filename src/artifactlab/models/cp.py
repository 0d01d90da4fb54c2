"""CP (CANDECOMP/PARAFAC) factorization: ``s(h, r, t) = sum_k A[h, k] R[r, k] B[t, k]``.

Separate head (``W_head`` = A), relation (``W_rel`` = R) and tail (``W_tail`` = B)
factor matrices, each (V, rank): the completion tensor is a sum of ``rank``
rank-one tensors (Hitchcock 1927; Lacroix et al. 2018 for link prediction).

Example
-------
>>> import torch
>>> from artifactlab.models.factorization import FactorizationConfig
>>> model = CP(FactorizationConfig(V=6, rank=4), seed=0)
>>> triple = torch.tensor([[1, 2, 3]])
>>> bool(torch.isclose(model.score(triple), model.next_token_logits(triple[:, :2])[:, 3]))
True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from artifactlab.models.factorization import FactorizationConfig, TripleFactorization


class CP(TripleFactorization):
    """CP decomposition with head, relation and tail factors.

    Parameters
    ----------
    cfg : FactorizationConfig
        Vocabulary size and rank.
    seed : int
        Seed of the weight initialisation. Each factor is ``N(0, rank^(-1/3))``, so a
        score (a sum of ``rank`` triple products) has unit variance at initialisation.
    """

    def __init__(self, cfg: FactorizationConfig, seed: int = 0) -> None:
        super().__init__(cfg, seed)
        self.W_head = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        self.W_rel = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        self.W_tail = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        std = cfg.rank ** (-1 / 6)
        self._init_weights(seed, {"W_head": std, "W_rel": std, "W_tail": std})

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """``A[h] * R[r]``: (B,), (B,) -> (B, rank)."""
        return self.W_head[heads] * self.W_rel[relations]

    def tail_table(self) -> Tensor:
        """``B``, shape (V, rank)."""
        return self.W_tail

    def score(self, triples: Tensor) -> Tensor:
        """``sum_k A[h, k] R[r, k] B[t, k]``: (N, 3) -> (N,)."""
        h, r, t = triples.unbind(1)
        return torch.einsum("nk,nk,nk->n", self.W_head[h], self.W_rel[r], self.W_tail[t])
