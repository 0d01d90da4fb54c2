"""Where :mod:`~artifactlab.lm.corpus_artifacts` draws its contexts of ``m`` tokens from.

``corpus`` (:func:`corpus_contexts`)
    A uniformly random position of the index's token array whose next ``m`` tokens stay
    inside the corpus and hold no document boundary (:func:`document_boundaries`: the
    special tokens of the index's tokenizer other than its unknown-word token, such as
    ``<|endoftext|>`` or ``</s>``; a ``whitespace`` tokenizer has none, and drops line
    feeds, so no boundary shows). The positions are drawn exactly uniformly, by the runs
    between boundaries, so a context is drawn as often as it occurs in the corpus.
``uniform``, ``model``
    Every token uniform over the model's vocabulary; the model's own generations from a
    uniform first token (:class:`~artifactlab.tensor.context_sources.ModelSource`). Both
    are built by :meth:`~artifactlab.lm.corpus_artifacts.ArtifactFinder.source`, which
    knows the model.

Example
-------
>>> import numpy as np, tempfile
>>> from artifactlab.data.corpus_index import CorpusIndex
>>> index = CorpusIndex.build(np.array([5, 0, 1, 2, 5, 3, 4]), tempfile.mkdtemp() + "/ix")
>>> contexts = corpus_contexts(index, 2, boundaries=[5])
>>> contexts.n_contexts  # 0 1, 1 2 and 3 4: no window holds the boundary token 5
3
>>> drawn, weights = contexts.draw(50, np.random.default_rng(0))
>>> sorted({tuple(c) for c in drawn.tolist()}), weights
([(0, 1), (1, 2), (3, 4)], None)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from artifactlab.errors import InputError
from artifactlab.tensor.context_sources import ContextSource

if TYPE_CHECKING:
    from artifactlab.data.corpus_index import CorpusIndex

__all__ = ["SOURCES", "Contexts", "corpus_contexts", "document_boundaries"]

#: where contexts come from
SOURCES = ("corpus", "uniform", "model")


class Contexts(ContextSource):
    """Contexts of the index's token ids, ``draw(k, rng)``; every draw weighs 1.

    A :class:`~artifactlab.tensor.context_sources.ContextSource` of constant weight 1, so
    the sampled estimate of :func:`~artifactlab.tensor.estimate.reduce_batches` is the
    mean per drawn context (the rate), whatever the source's distribution.
    """

    weight = w_max = 1.0

    def __init__(
        self,
        name: str,
        scope: str,
        n_contexts: int,
        draw_ids: Callable[[int, np.random.Generator], np.ndarray],
    ) -> None:
        self.name, self.scope, self.n_contexts, self._draw = name, scope, n_contexts, draw_ids

    def draw(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, None]:
        """``k`` contexts (k, m) of index token ids; their weights are all 1."""
        return self._draw(k, rng), None


def document_boundaries(index: CorpusIndex) -> list[int]:
    """The token ids that end a document: the index tokenizer's special tokens but its unknown."""
    if index.meta.get("tokenizer") is None:
        return []
    tokenizer = index.load_tokenizer()
    unk = getattr(tokenizer.model, "unk_token", None)
    added = tokenizer.get_added_tokens_decoder()
    return sorted(i for i, tok in added.items() if tok.special and tok.content != unk)


def corpus_contexts(index: CorpusIndex, m: int, boundaries: Sequence[int]) -> Contexts:
    """Uniform positions whose next ``m`` tokens are in the corpus and free of boundaries."""
    n = index.n_tokens
    if boundaries:
        lo, hi = index.ranges(np.asarray(boundaries, np.int64)[:, None])
        found = [np.asarray(index.suffix[a:b], np.int64) for a, b in zip(lo, hi, strict=True)]
        cuts = np.sort(np.concatenate(found))
    else:
        cuts = np.zeros(0, np.int64)
    starts, ends = np.concatenate([[0], cuts + 1]), np.concatenate([cuts, [n]])
    room = np.maximum(ends - starts - m + 1, 0)
    starts, room = starts[room > 0], room[room > 0]
    cum = np.cumsum(room)
    total = int(cum[-1]) if cum.size else 0
    if total == 0:
        raise InputError(
            "--context-length",
            f"no {m} consecutive tokens of the corpus ({n:,} tokens, {cuts.size:,} document "
            "boundaries) are free of a boundary",
            "use a shorter --context-length, or another source",
        )
    before, offsets = cum - room, np.arange(m)

    def draw(k: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.integers(0, total, size=k)
        run = np.searchsorted(cum, u, side="right")
        pos = starts[run] + (u - before[run])
        return np.asarray(index.tokens[pos[:, None] + offsets], dtype=np.int64)

    scope = f"corpus positions whose next {m} tokens hold no document boundary"
    return Contexts("corpus", scope, total, draw)
