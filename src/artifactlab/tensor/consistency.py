"""Consistency of a model with its data tensor on the observed fibers.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=2)
>>> c = consistency(lambda ctx: torch.tensor([[0.0, 5.0]]).expand(len(ctx), 2), D)
>>> c["train_accuracy"], round(c["mean_kl"], 4)
(1.0, 0.0067)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from artifactlab.tensor.data_tensor import DataTensor


def consistency(
    logits_fn: Callable[[Tensor], Tensor], D: DataTensor, block: int = 4096
) -> dict[str, float]:
    """Consistency of a model with ``D^n`` on its observed fibers.

    Returns
    -------
    dict
        ``mean_kl`` and ``max_kl``: ``KL(q(.|c) || p(.|c))`` in nats over observed
        contexts; ``train_accuracy``: share of distinct training n-grams that are
        their context's argmax; ``argmax_in_fiber``: share of observed contexts
        whose argmax token was observed after them.

    The logits may be on any device: contexts go to the device of the previous block's
    logits, and only each context's argmax and the training entries come back to the CPU.
    """
    C = len(D.contexts)
    logp = np.empty(D.nnz)
    argmax = np.empty(C, dtype=np.int64)
    device = torch.device("cpu")
    with torch.inference_mode():
        for start in range(0, C, block):
            ctx = torch.from_numpy(D.contexts[start : start + block]).to(device)
            lp = torch.log_softmax(logits_fn(ctx).double(), dim=-1)
            device = lp.device
            argmax[start : start + len(ctx)] = lp.argmax(1).cpu().numpy()
            sel = (D.context_of >= start) & (D.context_of < start + len(ctx))
            rows = torch.from_numpy(D.context_of[sel] - start).to(device)
            tokens = torch.from_numpy(D.coords[sel, -1]).to(device)
            logp[sel] = lp[rows, tokens].cpu().numpy()
    q = D.normalised_counts()
    kl = np.bincount(D.context_of, weights=q * (np.log(q) - logp), minlength=C)
    hit = argmax[D.context_of] == D.coords[:, -1]
    return {
        "mean_kl": float(kl.mean()),
        "max_kl": float(kl.max()),
        "train_accuracy": float(hit.mean()),
        "argmax_in_fiber": float(
            np.bincount(D.context_of, weights=hit, minlength=C).clip(0, 1).mean()
        ),
    }
