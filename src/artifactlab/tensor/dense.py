"""The obvious implementations: the dense completion tensor and a naive artifact count.

Both materialise what :func:`~artifactlab.tensor.completion.evaluate_completion` streams;
they are test oracles, the benchmark's baseline, and ``artifacts --dense``.

Example
-------
>>> import numpy as np, torch
>>> from artifactlab.tensor import DataTensor
>>> D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=2)
>>> fwd = lambda ctx: torch.tensor([[0.0, 5.0]]).expand(len(ctx), 2)
>>> tuple(completion_dense(fwd, 2, 3).shape)
(2, 2, 2)
>>> count_artifacts_naive(lambda ctx: fwd(ctx)[:, None, :], D)
3
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from artifactlab.errors import InputError
from artifactlab.tensor.completion import LogitsFn, context_block
from artifactlab.tensor.data_tensor import DataTensor


def completion_dense(logits_fn: LogitsFn, V: int, n: int, limit: int = 1 << 22) -> Tensor:
    """The whole completion tensor as probabilities, shape (V,)*n; only when ``V^n <= limit``.

    On the device of the logits (move it with ``.cpu()`` before numpy or saving).
    """
    if V**n > limit:
        raise InputError("--dense", f"V^n = {V**n:,} entries exceeds the dense limit {limit:,}")
    with torch.inference_mode():
        probs = torch.softmax(logits_fn(context_block(0, V ** (n - 1), V, n - 1)).double(), -1)
    return probs.reshape((V,) * n)


def count_artifacts_naive(
    forward: Callable[[Tensor], Tensor],
    D: DataTensor,
    tau: float = 0.5,
    batch: int = 1024,
    n_contexts: int | None = None,
) -> int:
    """The obvious implementation: a test oracle and the benchmark's baseline.

    Calls the full model (logits at every position) on batches of contexts,
    materialises the softmax, and keeps the entries above ``tau`` that are not
    in the data. ``n_contexts`` stops after the first that many contexts
    (default: all ``V^(n-1)``).
    """
    V, m = D.V, D.n - 1
    total = V**m if n_contexts is None else min(n_contexts, V**m)
    data = {tuple(row) for row in D.coords.tolist()}
    count = 0
    with torch.inference_mode():
        for start in range(0, total, batch):
            ctx = context_block(start, min(start + batch, total), V, m)
            probs = torch.softmax(forward(ctx), dim=-1)[:, -1]  # (B, V)
            for r, t in torch.nonzero(probs > tau).tolist():
                count += (*ctx[r].tolist(), t) not in data
    return count
