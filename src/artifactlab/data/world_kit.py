"""What the toy worlds share: fact types, validation, held-out draws and encoding.

Example
-------
>>> import numpy as np
>>> facts = [("a", "r", "b"), ("b", "r", "c")]
>>> train, held = hold_out("demo", facts, 0.5, np.random.default_rng(0))
>>> len(train), len(held)
(1, 1)
>>> ds = world_dataset("demo", ["a", "b", "c", "r"], train, held, held)
>>> ds.train.tuples.shape, ds.truth.shape
((1, 3), (1, 3))
>>> world_rng("demo", -1)
Traceback (most recent call last):
artifactlab.errors.InputError: demo seed: must be >= 0, got -1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from artifactlab.checks import seed_value
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.errors import InputError

Fact = tuple[str, str, str]
Pairs = set[tuple[str, str]]


def require(ok: bool, where: str, problem: str, hint: str = "") -> None:
    """Raise :class:`InputError` ``(where, problem, hint)`` unless ``ok``."""
    if not ok:
        raise InputError(where, problem, hint)


def world_rng(world: str, seed: int) -> np.random.Generator:
    """The world's random generator; InputError for a seed numpy refuses (negative, > 64 bits)."""
    return np.random.default_rng(seed_value(f"{world} seed", seed))


def draw(facts: Sequence[Fact], k: int, rng: np.random.Generator) -> tuple[list, list]:
    """``k`` facts drawn uniformly without replacement: (the rest, the drawn), in input order."""
    drawn = set(rng.choice(len(facts), size=k, replace=False).tolist())
    rest = [f for i, f in enumerate(facts) if i not in drawn]
    return rest, [f for i, f in enumerate(facts) if i in drawn]


def hold_out(
    world: str, facts: Sequence[Fact], holdout: float, rng: np.random.Generator
) -> tuple[list[Fact], list[Fact]]:
    """Hold out ``holdout * len(facts)`` facts (rounded half up), drawn uniformly; (train, held)."""
    require(0 <= holdout < 1, f"{world} holdout", f"must be in [0, 1), got {holdout}")
    n_held = int(holdout * len(facts) + 0.5)
    require(
        n_held < len(facts),
        f"{world} holdout",
        f"{holdout} would hold out all {len(facts)} true facts",
        "lower holdout or make the world bigger",
    )
    return draw(facts, n_held, rng)


def world_dataset(
    name: str, tokens: Sequence[str], train: Iterable[Fact], test: Iterable[Fact],
    truth: Iterable[Fact],
) -> TruthDataset:  # fmt: skip
    """Encode sorted, distinct splits over the world's whole token set (ids in ``tokens`` order)."""
    vocab = Vocabulary(tuple(tokens))
    index = vocab.index

    def encode(facts: Iterable[Fact]) -> np.ndarray:
        rows = sorted({tuple(index[t] for t in f) for f in facts})
        return np.asarray(rows, dtype=np.int64).reshape(-1, 3)

    return TruthDataset(name, TupleDataset(vocab, encode(train)), encode(test), encode(truth))
