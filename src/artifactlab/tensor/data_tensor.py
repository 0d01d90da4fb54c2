"""The sparse data tensor ``D^n`` of a corpus: coordinates + counts, its fibers and contexts.

``D^n[t_1..t_n]`` counts how often the n-prefix ``(t_1..t_n)`` occurs among the
corpus' sentences of length >= n (docs/glossary.md#data-tensor). It is kept sparse; a dense
copy is made only on request and only when ``V^n`` is small.

Example
-------
>>> import numpy as np

>>> D = DataTensor.from_tuples(np.array([[0, 1, 2], [0, 1, 3], [1, 1, 2]]), V=4, n=3)
>>> D.coords.tolist(), D.counts.tolist()
([[0, 1, 2], [0, 1, 3], [1, 1, 2]], [1, 1, 1])
>>> D.contexts.tolist()
[[0, 1], [1, 1]]
>>> D.fiber([0, 1]).tolist()
[0.0, 0.0, 1.0, 1.0]
>>> D.normalised_fiber([0, 1]).tolist()
[0.0, 0.0, 0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from artifactlab.errors import InputError

#: largest V^n that :meth:`DataTensor.dense` will build
DENSE_LIMIT = 1 << 24


def encode(coords: np.ndarray, V: int) -> np.ndarray:
    """Base-V integer key of each row of ``coords`` (shape (K, m) -> (K,), int64)."""
    if V ** coords.shape[1] >= 1 << 62:
        raise OverflowError(f"V^{coords.shape[1]} does not fit in a 64-bit key")
    keys = np.zeros(coords.shape[0], dtype=np.int64)
    for col in range(coords.shape[1]):
        keys = keys * V + coords[:, col]
    return keys


@dataclass(frozen=True)
class DataTensor:
    """Sparse ``D^n``: the distinct n-grams, their counts, and the observed contexts.

    Attributes
    ----------
    V : int
        Vocabulary size (each mode of the tensor has length V).
    coords : numpy.ndarray
        Distinct n-grams, shape (K, n), sorted lexicographically.
    counts : numpy.ndarray
        Occurrences of each n-gram, shape (K,).
    contexts : numpy.ndarray
        Distinct observed contexts ``(t_1..t_{n-1})``, shape (C, n-1), sorted.
    context_of : numpy.ndarray
        Row of ``contexts`` that each n-gram belongs to, shape (K,).
    """

    V: int
    coords: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    context_of: np.ndarray

    @classmethod
    def from_tuples(cls, tuples: np.ndarray, V: int, n: int | None = None) -> DataTensor:
        """Build ``D^n`` from an (N, L) array of tuples, truncated to their first n tokens."""
        tuples = np.asarray(tuples)
        if tuples.ndim != 2 or tuples.shape[0] == 0:
            raise InputError(
                "data tensor",
                f"needs at least one tuple, got an array of shape {tuples.shape}",
                "train on a non-empty tuple file",
            )
        n = tuples.shape[1] if n is None else n
        if not 1 <= n <= tuples.shape[1]:
            raise ValueError(f"truncation n={n} outside 1..{tuples.shape[1]}")
        if tuples.min() < 0 or tuples.max() >= V:
            bad = int(tuples.max()) if tuples.max() >= V else int(tuples.min())
            raise InputError(
                "data tensor", f"token id {bad} is outside [0, V) = [0, {V})", "check V"
            )
        coords, counts = np.unique(tuples[:, :n], axis=0, return_counts=True)
        contexts, context_of = np.unique(coords[:, : n - 1], axis=0, return_inverse=True)
        return cls(
            V, coords.astype(np.int64), counts.astype(np.int64), contexts, context_of.reshape(-1)
        )

    @property
    def n(self) -> int:
        """Order of the tensor (tuple length)."""
        return int(self.coords.shape[1])

    @property
    def nnz(self) -> int:
        """Number of distinct n-grams (non-zero entries)."""
        return int(self.coords.shape[0])

    @property
    def n_contexts(self) -> int:
        """Number of possible contexts ``V^{n-1}``."""
        return self.V ** (self.n - 1)

    def keys(self) -> np.ndarray:
        """Sorted base-V keys of the non-zero entries (for membership tests)."""
        return encode(self.coords, self.V)

    def context_totals(self) -> np.ndarray:
        """Sum of each observed fiber, shape (C,)."""
        return np.bincount(self.context_of, weights=self.counts, minlength=len(self.contexts))

    def normalised_counts(self) -> np.ndarray:
        """``q(t | c)`` for every non-zero entry, shape (K,): the data's next-token distribution."""
        return self.counts / self.context_totals()[self.context_of]

    def _context_row(self, context: Sequence[int]) -> int | None:
        key = encode(np.asarray([context], dtype=np.int64), self.V)[0]
        ckeys = encode(self.contexts, self.V)
        pos = int(np.searchsorted(ckeys, key))
        return pos if pos < len(ckeys) and ckeys[pos] == key else None

    def fiber(self, context: Sequence[int]) -> np.ndarray:
        """The fiber ``D^n[c, :]`` (counts), shape (V,); all zeros for an unobserved context."""
        out = np.zeros(self.V)
        row = self._context_row(context)
        if row is not None:
            sel = self.context_of == row
            out[self.coords[sel, -1]] = self.counts[sel]
        return out

    def normalised_fiber(self, context: Sequence[int]) -> np.ndarray:
        """``q(. | c)`` for an observed context (raises ValueError for an unobserved one)."""
        f = self.fiber(context)
        if not f.any():
            raise ValueError(f"context {list(context)} is not observed")
        return f / f.sum()

    def dense(self, limit: int = DENSE_LIMIT) -> np.ndarray:
        """The dense tensor, shape (V,)*n; only when ``V^n <= limit``."""
        if self.V**self.n > limit:
            raise ValueError(f"V^n = {self.V**self.n} entries exceeds the dense limit {limit}")
        out = np.zeros((self.V,) * self.n)
        np.add.at(out, tuple(self.coords.T), self.counts)
        return out
