"""The data tensors ``D^n`` of a corpus, summarised through its index without building them.

The distinct n-grams of a corpus are the non-zeros of ``D^n``; the distinct (n-1)-grams
that some token follows are its observed contexts. Both come from the suffix array: two
neighbouring suffixes share an n-gram exactly when their longest common prefix (LCP) is at
least n, so the distinct n-grams are the n-gram start positions minus the neighbours with
LCP >= n.

Example
-------
>>> import tempfile
>>> import numpy as np
>>> from artifactlab.data.corpus_index import CorpusIndex
>>> ix = CorpusIndex.build(np.array([0, 1, 0, 1, 2]), tempfile.mkdtemp(), vocab_size=3)
>>> distinct_ngrams(ix, 3)
[3, 3, 3]
>>> [r["nnz"] for r in tensor_summary(ix, 3)]
[3, 3]
"""

from __future__ import annotations

import numpy as np

from artifactlab.data.corpus_index import CorpusIndex


def lcp_lengths(index: CorpusIndex, max_n: int) -> np.ndarray:
    """LCP of each pair of neighbouring suffixes, capped at ``max_n``, shape (N - 1,)."""
    n_tok = index.n_tokens
    lcp = np.zeros(max(n_tok - 1, 0), np.int64)
    same = np.ones(max(n_tok - 1, 0), bool)
    a, b = index.suffix[:-1].astype(np.int64), index.suffix[1:].astype(np.int64)
    last = n_tok - 1
    for k in range(max_n):
        ok = (a + k <= last) & (b + k <= last)
        same &= ok
        same[ok] &= index.tokens[a[ok] + k] == index.tokens[b[ok] + k]
        lcp += same
    return lcp


def distinct_ngrams(index: CorpusIndex, max_n: int) -> list[int]:
    """Distinct n-grams of the corpus for n = 1..max_n."""
    lcp = lcp_lengths(index, max_n)
    return [int((index.n_tokens - n + 1) - (lcp >= n).sum()) for n in range(1, max_n + 1)]


def tensor_summary(index: CorpusIndex, max_n: int = 8) -> list[dict]:
    """For n = 2..max_n: non-zeros of ``D^n``, observed contexts, all contexts, density.

    ``observed_contexts`` counts the distinct (n-1)-grams followed by a token (every
    (n-1)-gram but the corpus' last one); ``contexts`` is ``V^(n-1)``.
    """
    counts = distinct_ngrams(index, max_n)
    V = index.vocab_size
    out = []
    for n in range(2, max_n + 1):
        prefix = counts[n - 2]  # distinct (n-1)-grams
        tail = index.tokens[index.n_tokens - (n - 1) :]
        # the corpus' last (n-1)-gram has no next token: it is a context only if it repeats
        tail_count = int(index.count([np.asarray(tail, dtype=np.int64).tolist()])[0])
        observed = prefix - (tail_count == 1)
        contexts = V ** (n - 1)
        out.append({"n": n, "nnz": counts[n - 1], "observed_contexts": observed,
                    "contexts": contexts, "density": counts[n - 1] / (contexts * V)})  # fmt: skip
    return out
