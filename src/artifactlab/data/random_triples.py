"""Random triple databases as in the paper's Figs. 2 and 3.

N distinct (subject, relation) contexts are drawn uniformly without
replacement, and each gets k objects drawn uniformly (distinct within a
context). By default subject, relation and object share one token set of size
V; ``ranges=(S, R, O)`` gives them separate, disjoint token ranges instead.

Example
-------
>>> ds = random_triples(V=8, N=5, seed=1)
>>> ds.tuples.shape, ds.vocab.V
((5, 3), 8)
>>> len({tuple(r[:2]) for r in ds.tuples.tolist()})
5
"""

from __future__ import annotations

import numpy as np

from artifactlab.checks import seed_value
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.errors import InputError


def random_triples(
    V: int,
    N: int,
    seed: int,
    k: int = 1,
    ranges: tuple[int, int, int] | None = None,
) -> TupleDataset:
    """Draw a random triple database.

    Parameters
    ----------
    V : int
        Size of the shared token set (ignored when ``ranges`` is given).
    N : int
        Number of distinct (subject, relation) contexts.
    seed : int
        Seed of the draw, in ``[0, 2^63 - 1]``; the same seed gives the same database.
    k : int
        Objects per context (multi-valued contexts when k > 1); N * k triples in all.
    ranges : tuple of int, optional
        Sizes (S, R, O) of separate subject, relation and object token ranges.

    Returns
    -------
    TupleDataset
        Triples sorted by context; token names ``t0..`` (shared) or ``s0.., r0.., o0..``.

    Raises
    ------
    InputError
        A size below 1, more contexts or objects than there are, or a negative seed.
    """
    seed_value("random triples seed", seed)  # numpy's own refusal is a traceback
    if ranges is not None:
        S, R, O = ranges
        tokens = (
            [f"s{i}" for i in range(S)] + [f"r{i}" for i in range(R)] + [f"o{i}" for i in range(O)]
        )
        offsets = (0, S, S + R)
    else:
        S = R = O = V
        tokens = [f"t{i}" for i in range(V)]
        offsets = (0, 0, 0)
    if min(S, R, O, N, k) < 1:
        raise InputError("random triples", "V, N, k and every range must be >= 1")
    if N > S * R:
        raise InputError(
            "random triples", f"N={N} exceeds the {S * R} possible contexts", "lower --triples"
        )
    if k > O:
        raise InputError("random triples", f"k={k} exceeds the {O} possible objects", "lower -k")
    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(S * R, size=N, replace=False))
    subj, rel = np.divmod(flat, R)
    # k distinct objects per context: the first k of a random permutation (argsort of uniforms)
    objs = np.argsort(rng.random((N, O)), axis=1)[:, :k] if k > 1 else rng.integers(0, O, (N, 1))
    rows = np.stack(
        [
            np.repeat(subj, k) + offsets[0],
            np.repeat(rel, k) + offsets[1],
            objs.reshape(-1) + offsets[2],
        ],
        axis=1,
    )
    return TupleDataset(Vocabulary(tuple(tokens)), rows.astype(np.int64))
