r"""Training data for two mitigations: unsupported-token sentences and contradicting facts.

Both add sentences to the training tuples and tokens to the vocabulary; the added
tokens come after the data's own (ids ``V, V + 1, ...``), so the data tensor ``D^n`` and
its ``V^(n-1)`` contexts are unchanged and a model's prediction of an added token is an
*abstention*, never an artifact (:func:`artifactlab.tensor.completion.evaluate_completion`
with ``reserved``).

- :func:`unsupported` (paper section 3.4, a local closed-world assumption): the
  sentences ``(c, UNSUPPORTED)`` for a seeded uniform sample of the *unobserved*
  contexts ``c`` (no training tuple starts with them). The sample does not know ``G``:
  contexts of held-out true facts are drawn like any other, which is what a
  generalization costs.
- :func:`contradict` (section 3, "Jack John unrelated"): true negative facts, drawn from
  the sentences that are in no split of the data (train, test, ``G``). The rule depends
  on where the relation sits:

  * *relation last* (no token of the last slot is ever in the first slot, as in the
    siblings world ``Jack Jill siblings``): ``(a, b, unrelated)`` for a pair ``(a, b)``
    with no true sentence at all;
  * *relation in the middle* (knowledge graphs, the family world ``x parent_of y``):
    ``(h, not:r, t)``, one new token ``not:r`` per relation ``r``, for a triple
    ``(h, r, t)`` that is not true.

Example
-------
>>> import numpy as np
>>> from artifactlab.data.tuples import TupleDataset, Vocabulary
>>> train = TupleDataset(Vocabulary(("a", "b", "knows")), np.array([[0, 1, 2]]))
>>> aug = unsupported(train, share=1.0, seed=0)
>>> aug.vocab.tokens[-1], len(aug.tuples), aug.n_extra, aug.reserved
('<unsupported>', 9, 8, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.errors import InputError
from artifactlab.tensor.data_tensor import encode

UNSUPPORTED = "<unsupported>"
IDK = "[IDK]"
#: the token of a negative fact when the relation is the last token
UNRELATED = "unrelated"
#: the prefix of a negated relation's token when the relation is the middle token
NOT = "not:"
#: most (entity, relation, entity) candidates :func:`contradict` enumerates
MAX_CANDIDATES = 1 << 24


@dataclass(frozen=True)
class Augmented:
    """Training tuples with a mitigation's sentences added.

    Attributes
    ----------
    vocab : Vocabulary
        The data's tokens, then ``reserved`` added ones.
    tuples : numpy.ndarray
        The original training tuples, then ``n_extra`` added sentences, shape (N + n_extra, n).
    n_extra : int
        Sentences added.
    reserved : int
        Tokens added (ids ``V ..``; 0 when nothing was added).
    available : int
        Sentences the sample was drawn from (unobserved contexts, or true negatives).
    """

    vocab: Vocabulary
    tuples: np.ndarray
    n_extra: int
    reserved: int
    available: int

    @property
    def dataset(self) -> TupleDataset:
        """The augmented training tuples as a dataset."""
        return TupleDataset(self.vocab, self.tuples)


def extend_vocab(vocab: Vocabulary, names: list[str]) -> Vocabulary:
    """``vocab`` with ``names`` appended; InputError if one is already a token."""
    taken = [t for t in names if t in vocab.index]
    if taken:
        raise InputError(
            "vocabulary",
            f"already holds the reserved token {taken[0]!r}",
            "rename that token in the data, or choose another name (mitigation.token)",
        )
    return Vocabulary((*vocab.tokens, *names))


def unobserved_contexts(train: TupleDataset) -> np.ndarray:
    """Keys (base ``V``) of the contexts no training tuple starts with, sorted, shape (U,)."""
    V, m = train.vocab.V, train.n - 1
    seen = np.unique(encode(train.tuples[:, :-1], V)) if len(train.tuples) else np.zeros(0)
    every = np.arange(V**m, dtype=np.int64)
    return every[~np.isin(every, seen)]


def sample_size(where: str, share: float | None, size: int | None, available: int, what: str):
    """How many of ``available`` to draw: ``size``, else ``share`` of them (rounded half up)."""
    if size is not None:
        if size > available:
            raise InputError(
                where, f"asks for {size} {what}, but there are only {available}", "ask for fewer"
            )
        return size
    assert share is not None
    return int(share * available + 0.5)


def unsupported(
    train: TupleDataset,
    share: float | None = None,
    seed: int = 0,
    size: int | None = None,
    token: str = UNSUPPORTED,
) -> Augmented:
    """Add ``(c, token)`` for a seeded sample of the unobserved contexts ``c``.

    Parameters
    ----------
    train : TupleDataset
        The training tuples.
    share : float, optional
        Share of the unobserved contexts drawn, in [0, 1] (rounded half up).
    seed : int
        Seed of the draw (uniform, without replacement).
    size : int, optional
        Draw exactly this many instead; InputError if there are fewer.
    token : str
        The added token's name; InputError if the vocabulary has it.

    Returns
    -------
    Augmented
        One reserved token; with a sample of 0, no token and nothing added.
    """
    pool = unobserved_contexts(train)
    k = sample_size("mitigation.size", share, size, len(pool), "unobserved contexts")
    if k == 0:
        return Augmented(train.vocab, train.tuples, 0, 0, len(pool))
    vocab = extend_vocab(train.vocab, [token])
    keys = np.sort(np.random.default_rng(seed).choice(pool, k, replace=False))
    ctx = decode(keys, train.vocab.V, train.n - 1)
    extra = np.concatenate([ctx, np.full((k, 1), train.vocab.V, dtype=np.int64)], axis=1)
    return Augmented(vocab, np.concatenate([train.tuples, extra]), k, 1, len(pool))


def decode(keys: np.ndarray, V: int, m: int) -> np.ndarray:
    """Keys of base ``V`` back to (K, m) token ids (the inverse of ``encode``)."""
    out = np.empty((len(keys), m), dtype=np.int64)
    rest = np.asarray(keys, dtype=np.int64).copy()
    for j in range(m - 1, -1, -1):
        rest, out[:, j] = np.divmod(rest, V)
    return out


def relation_last(ds: TruthDataset) -> bool:
    """True when no token of the last slot is ever in the first slot (any split)."""
    rows = np.concatenate([ds.train.tuples, ds.test.reshape(-1, ds.train.n), ds.truth])
    return not np.isin(np.unique(rows[:, -1]), np.unique(rows[:, 0])).any()


def contradict(ds: TruthDataset, share: float, seed: int = 0, size: int | None = None):
    """Add true negative facts: ``share`` negatives per training tuple (rounded half up).

    Parameters
    ----------
    ds : TruthDataset
        Triples with their truth (train, test and ``G`` are the true sentences).
    share : float
        Negatives per training tuple, >= 0 (ignored when ``size`` is given).
    seed : int
        Seed of the draw (uniform, without replacement).
    size : int, optional
        Draw exactly this many negatives.

    Returns
    -------
    Augmented
        Reserved tokens: ``unrelated`` (relation last) or one ``not:r`` per relation.

    Raises
    ------
    InputError
        Not triples, more negatives asked for than exist, or a token name already taken.
    """
    if ds.train.n != 3:
        raise InputError(
            "mitigation.method", f"contradict needs triples, the data has {ds.train.n}-tuples"
        )
    V, train = ds.vocab.V, ds.train
    true = np.concatenate([train.tuples, ds.test.reshape(-1, 3), ds.truth])
    want = int(share * len(train.tuples) + 0.5) if size is None else size
    rng = np.random.default_rng(seed)
    if relation_last(ds):
        people = np.unique(true[:, :2])
        pairs = np.stack(np.meshgrid(people, people, indexing="ij"), -1).reshape(-1, 2)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        pool = pairs[~np.isin(encode(pairs, V), np.unique(encode(true[:, :2], V)))]
        k = sample_size("mitigation.size", None, want, len(pool), "true negative pairs")
        if k == 0:
            return Augmented(train.vocab, train.tuples, 0, 0, len(pool))
        vocab = extend_vocab(train.vocab, [UNRELATED])
        drawn = pool[np.sort(rng.choice(len(pool), k, replace=False))]
        extra = np.concatenate([drawn, np.full((k, 1), V, dtype=np.int64)], axis=1)
        return Augmented(vocab, np.concatenate([train.tuples, extra]), k, 1, len(pool))
    relations = np.unique(true[:, 1])
    entities = np.unique(true[:, [0, 2]])
    E, R = len(entities), len(relations)
    if E * R * E > MAX_CANDIDATES:
        raise InputError(
            "mitigation.method",
            f"contradict enumerates entity x relation x entity = {E * R * E:,} triples, "
            f"more than {MAX_CANDIDATES:,}",
            "use a smaller graph, or the unsupported method",
        )
    grid = np.stack(np.meshgrid(entities, np.arange(R), entities, indexing="ij"), -1)
    grid = grid.reshape(-1, 3)  # (h, relation index, t), in key order
    as_true = np.stack([grid[:, 0], relations[grid[:, 1]], grid[:, 2]], 1)
    pool = grid[~np.isin(encode(as_true, V), np.unique(encode(true, V)))]
    k = sample_size("mitigation.size", None, want, len(pool), "true negative triples")
    if k == 0:
        return Augmented(train.vocab, train.tuples, 0, 0, len(pool))
    vocab = extend_vocab(train.vocab, [NOT + ds.vocab.tokens[r] for r in relations])
    extra = pool[np.sort(rng.choice(len(pool), k, replace=False))] + np.array([0, V, 0])
    return Augmented(vocab, np.concatenate([train.tuples, extra]), k, R, len(pool))
