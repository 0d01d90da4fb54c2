"""RESCAL: a full bilinear form per relation, ``s(h, r, t) = e_h^T W_r e_t``.

Entity embeddings ``W_ent`` (V, rank) and one (rank, rank) matrix per relation
token, ``W_rel`` (V, rank, rank) (Nickel et al. 2011). DistMult is the special
case of diagonal ``W_r``.

Example
-------
>>> import torch
>>> from artifactlab.models.factorization import FactorizationConfig
>>> model = RESCAL(FactorizationConfig(V=6, rank=4), seed=0)
>>> n_params = sum(p.numel() for p in model.parameters())
>>> model.next_token_logits(torch.tensor([[1, 2]])).shape, n_params
(torch.Size([1, 6]), 120)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from artifactlab.models.factorization import FactorizationConfig, TripleFactorization

_is_batched = torch._C._functorch.is_batchedtensor  # no public test for a vmapped tensor


class RESCAL(TripleFactorization):
    """Bilinear model with a full matrix per relation.

    Parameters
    ----------
    cfg : FactorizationConfig
        Vocabulary size and rank.
    seed : int
        Seed of the weight initialisation: entities ``N(0, rank^(-1/2))`` and relation
        matrices ``N(0, rank^(-1))``, so a score (a sum of ``rank^2`` products) has unit
        variance at initialisation.
    """

    def __init__(self, cfg: FactorizationConfig, seed: int = 0) -> None:
        super().__init__(cfg, seed)
        self.W_ent = nn.Parameter(torch.empty(cfg.V, cfg.rank))
        self.W_rel = nn.Parameter(torch.empty(cfg.V, cfg.rank, cfg.rank))
        self._init_weights(seed, {"W_ent": cfg.rank ** (-1 / 4), "W_rel": cfg.rank ** (-1 / 2)})

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """``e_h^T W_r``: (B,), (B,) -> (B, rank).

        Contexts are grouped by relation, one ``(n_r, rank) @ (rank, rank)`` product per
        relation present: gathering a (rank, rank) matrix per context (and scattering
        its gradient back) costs about five times more on a CPU. Under ``torch.func.vmap``
        with batched contexts the groups cannot be formed, and the gather is used.
        """
        if _is_batched(relations) or relations.numel() == 0:
            return torch.einsum("bi,bij->bj", self.W_ent[heads], self.W_rel[relations])
        order = torch.argsort(relations, stable=True)
        rels, counts = torch.unique_consecutive(relations[order], return_counts=True)
        grouped = self.W_ent[heads[order]].split(counts.tolist())
        parts = [x @ self.W_rel[r] for x, r in zip(grouped, rels.tolist(), strict=True)]
        return torch.cat(parts).index_select(0, torch.argsort(order))

    def tail_table(self) -> Tensor:
        """``E``, shape (V, rank)."""
        return self.W_ent

    def score(self, triples: Tensor) -> Tensor:
        """``sum_ij E[h, i] W_r[i, j] E[t, j]``: (N, 3) -> (N,)."""
        h, r, t = triples.unbind(1)
        return torch.einsum("ni,nij,nj->n", self.W_ent[h], self.W_rel[r], self.W_ent[t])
