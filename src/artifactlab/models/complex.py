"""ComplEx: DistMult in complex numbers, ``s(h, r, t) = Re(sum_k e_h[k] w_r[k] conj(e_t[k]))``.

Rank ``d`` means ``d`` complex dimensions; each complex table is stored as its
real and imaginary parts, real (V, d) tensors ``W_ent_re``, ``W_ent_im``,
``W_rel_re``, ``W_rel_im``, so a rank-d ComplEx has ``4 V d`` real parameters
(twice a rank-d DistMult). The conjugate on the tail breaks DistMult's symmetry:
an imaginary relation gives ``s(h, r, t) = -s(t, r, h)`` (Trouillon et al. 2016).

Example
-------
>>> import torch
>>> from artifactlab.models.factorization import FactorizationConfig
>>> model = ComplEx(FactorizationConfig(V=6, rank=4), seed=0)
>>> sum(p.numel() for p in model.parameters())  # 4 real tables of V x rank
96
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from artifactlab.models.factorization import FactorizationConfig, TripleFactorization


class ComplEx(TripleFactorization):
    """Complex diagonal bilinear model with shared entity embeddings.

    Parameters
    ----------
    cfg : FactorizationConfig
        Vocabulary size and rank (complex dimensions).
    seed : int
        Seed of the weight initialisation. Every real part is ``N(0, (4 rank)^(-1/3))``,
        so a score (a sum of ``4 rank`` triple products of real parts) has unit variance
        at initialisation.
    """

    def __init__(self, cfg: FactorizationConfig, seed: int = 0) -> None:
        super().__init__(cfg, seed)
        V, d = cfg.V, cfg.rank
        self.W_ent_re = nn.Parameter(torch.empty(V, d))
        self.W_ent_im = nn.Parameter(torch.empty(V, d))
        self.W_rel_re = nn.Parameter(torch.empty(V, d))
        self.W_rel_im = nn.Parameter(torch.empty(V, d))
        names = ("W_ent_re", "W_ent_im", "W_rel_re", "W_rel_im")
        self._init_weights(seed, dict.fromkeys(names, (4 * d) ** (-1 / 6)))

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """``[Re(e_h w_r), Im(e_h w_r)]``: (B,), (B,) -> (B, 2 rank).

        ``Re(x conj(y)) = Re(x) Re(y) + Im(x) Im(y)``, so the score is this query dotted
        with the tail's ``[Re(e_t), Im(e_t)]``.
        """
        h_re, h_im = self.W_ent_re[heads], self.W_ent_im[heads]
        r_re, r_im = self.W_rel_re[relations], self.W_rel_im[relations]
        return torch.cat([h_re * r_re - h_im * r_im, h_re * r_im + h_im * r_re], 1)

    def tail_table(self) -> Tensor:
        """``[Re(E), Im(E)]``, shape (V, 2 rank)."""
        return torch.cat([self.W_ent_re, self.W_ent_im], 1)

    def score(self, triples: Tensor) -> Tensor:
        """``Re(sum_k e_h[k] w_r[k] conj(e_t[k]))`` in complex arithmetic: (N, 3) -> (N,)."""
        h, r, t = triples.unbind(1)
        ent = torch.complex(self.W_ent_re, self.W_ent_im)
        rel = torch.complex(self.W_rel_re, self.W_rel_im)
        return (ent[h] * rel[r] * ent[t].conj()).sum(1).real
