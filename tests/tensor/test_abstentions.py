"""Reserved (abstention) output tokens: never artifacts, counted by where they are predicted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.data_tensor import encode


def _table(V: int, width: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(V * V, width, generator=gen, dtype=torch.float64) * 3


@pytest.mark.parametrize("reserved", [1, 2])
@pytest.mark.parametrize("tau", [0.2, 0.5, 0.8])
def test_counts_match_brute_force(reserved, tau):
    V = 6
    rng = np.random.default_rng(reserved)
    tuples = rng.integers(0, V, size=(10, 3))
    truth = rng.integers(0, V, size=(8, 3))
    D = DataTensor.from_tuples(tuples, V)
    table = _table(V, V + reserved, seed=int(tau * 10))

    def logits_fn(ctx: torch.Tensor) -> torch.Tensor:
        return table[ctx[:, 0] * V + ctx[:, 1]]

    rep = evaluate_completion(logits_fn, D, taus=[tau], truth=truth, reserved=reserved, top_k=0)
    p = torch.softmax(table, 1).numpy()  # (V^2, V + reserved), contexts in key order
    data = set(encode(D.coords, V).tolist())
    observed = set(encode(D.contexts, V).tolist())
    g = {k for k in encode(truth, V).tolist() if k not in data}
    g_ctx = {k // V for k in g}
    cells = [(c, t) for c in range(V * V) for t in range(V)]
    art = [(c, t) for c, t in cells if p[c, t] > tau and c * V + t not in data]
    assert rep.n_artifacts[tau] == len(art)
    assert rep.n_generalizations[tau] == sum(c * V + t in g for c, t in art)
    hits = [(c, r) for c in range(V * V) for r in range(V, V + reserved) if p[c, r] > tau]
    want = {
        "unobserved": sum(c not in observed for c, _ in hits),
        "truth": sum(c in g_ctx for c, _ in hits),
        "train": sum(c in observed for c, _ in hits),
    }
    assert rep.n_abstentions[tau] == want
    assert sum(want.values()) > 0 or tau == 0.8  # the case is not empty


def test_an_abstaining_model_has_no_artifacts():
    V = 4
    D = DataTensor.from_tuples(np.array([[0, 1, 2]]), V)

    def always_abstain(ctx: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(ctx), V + 1)
        out[:, V] = 10.0
        return out

    rep = evaluate_completion(always_abstain, D, taus=[0.5], reserved=1)
    assert rep.n_artifacts[0.5] == 0
    assert rep.n_abstentions[0.5] == {"unobserved": V * V - 1, "truth": 0, "train": 1}
    # without reserved tokens, the same logits are refused: their width is not V
    with pytest.raises(ValueError, match="expected V"):
        evaluate_completion(always_abstain, D, taus=[0.5])
    assert evaluate_completion(lambda c: torch.zeros(len(c), V), D).n_abstentions is None
