"""Mitigation data: unsupported-token sentences, contradicting facts, key decoding."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from artifactlab.data import random_triples
from artifactlab.data.augment import (
    NOT,
    UNRELATED,
    UNSUPPORTED,
    contradict,
    decode,
    extend_vocab,
    relation_last,
    unobserved_contexts,
    unsupported,
)
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.data.worlds import WORLDS
from artifactlab.errors import InputError
from artifactlab.tensor.data_tensor import encode

needs_pykeen = pytest.mark.skipif(
    importlib.util.find_spec("pykeen") is None, reason="pykeen (the kg extra) is not installed"
)


def rows(a: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(r) for r in np.asarray(a).tolist()]


def pool_of(train: TupleDataset) -> set[tuple[int, ...]]:
    """The unobserved contexts, enumerated by brute force."""
    V, m = train.vocab.V, train.n - 1
    seen = set(rows(train.tuples[:, :-1]))
    every = np.stack(np.meshgrid(*[np.arange(V)] * m, indexing="ij"), -1).reshape(-1, m)
    return {c for c in rows(every) if c not in seen}


def odd_pool_train() -> TupleDataset:
    """Random triples over 5 tokens with 8 distinct contexts: 17 unobserved (odd)."""
    train = random_triples(V=5, N=8, seed=1)
    assert len(pool_of(train)) == 17
    return train


def true_rows(ds: TruthDataset) -> set[tuple[int, ...]]:
    return set(rows(np.concatenate([ds.train.tuples, ds.test.reshape(-1, 3), ds.truth])))


# --- decode / unobserved_contexts -------------------------------------------------------------


@pytest.mark.parametrize(("V", "m"), [(2, 1), (5, 2), (7, 3), (3, 5)])
def test_decode_inverts_encode(V, m):
    coords = np.random.default_rng(V * 10 + m).integers(0, V, size=(50, m))
    keys = encode(coords, V)
    back = decode(keys, V, m)
    assert back.dtype == np.int64 and back.shape == (50, m)
    np.testing.assert_array_equal(back, coords)
    # and every key in range round-trips the other way
    every = np.arange(V**m, dtype=np.int64)
    np.testing.assert_array_equal(encode(decode(every, V, m), V), every)


def test_decode_does_not_modify_its_input():
    keys = np.array([7, 3, 11], dtype=np.int64)
    decode(keys, 4, 2)
    assert keys.tolist() == [7, 3, 11]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_unobserved_contexts_are_the_unseen_ones_sorted(n):
    V = 4
    tuples = np.random.default_rng(n).integers(0, V, size=(9, n))
    train = TupleDataset(Vocabulary(tuple(f"t{i}" for i in range(V))), tuples)
    keys = unobserved_contexts(train)
    assert keys.tolist() == sorted(keys.tolist())
    assert set(rows(decode(keys, V, n - 1))) == pool_of(train)


def test_unobserved_contexts_of_empty_data_are_all():
    train = TupleDataset(Vocabulary(("a", "b", "c")), np.zeros((0, 3), dtype=np.int64))
    assert unobserved_contexts(train).tolist() == list(range(9))


# --- unsupported ------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.2, 0.5, 1.0])
def test_unsupported_adds_distinct_unobserved_contexts(share):
    train = odd_pool_train()
    V, pool = train.vocab.V, pool_of(train)
    aug = unsupported(train, share=share, seed=3)
    k = int(share * len(pool) + 0.5)  # rounded half up
    assert (aug.n_extra, aug.reserved, aug.available) == (k, 1, len(pool))
    assert aug.tuples.shape == (train.N + k, 3)
    np.testing.assert_array_equal(aug.tuples[: train.N], train.tuples)  # kept first, unchanged
    extra = aug.tuples[train.N :]
    assert (extra[:, -1] == V).all()  # the new token's id is V
    ctx = rows(extra[:, :-1])
    assert len(set(ctx)) == k
    assert set(ctx) <= pool
    assert aug.vocab.tokens == (*train.vocab.tokens, UNSUPPORTED)
    assert aug.vocab.V == V + 1 and aug.vocab.index[UNSUPPORTED] == V
    assert aug.dataset.vocab == aug.vocab
    np.testing.assert_array_equal(aug.dataset.tuples, aug.tuples)


def test_unsupported_count_rounds_half_up():
    train = odd_pool_train()  # 17 unobserved contexts: 0.5 * 17 = 8.5
    assert unsupported(train, share=0.5, seed=0).n_extra == 9  # round() would give 8
    assert unsupported(train, share=1.5 / 17, seed=0).n_extra == 2  # 1.5 -> 2


def test_unsupported_full_share_covers_the_whole_pool():
    train = odd_pool_train()
    aug = unsupported(train, share=1.0, seed=0)
    assert set(rows(aug.tuples[train.N :, :-1])) == pool_of(train)


@pytest.mark.parametrize("size", [1, 5, 17])
def test_unsupported_size_draws_exactly_that_many(size):
    train = odd_pool_train()
    aug = unsupported(train, share=0.1, seed=0, size=size)  # size wins over share
    assert aug.n_extra == size and len(aug.tuples) == train.N + size
    assert len(set(rows(aug.tuples[train.N :, :-1]))) == size


def test_unsupported_is_seeded():
    train = odd_pool_train()
    a = unsupported(train, share=0.5, seed=4)
    b = unsupported(train, share=0.5, seed=4)
    np.testing.assert_array_equal(a.tuples, b.tuples)
    others = [unsupported(train, share=0.5, seed=s).tuples for s in (5, 6, 7)]
    assert any(not np.array_equal(a.tuples, o) for o in others)
    # 9 of 17 contexts: two seeds drawing the same set by chance is ~1 in 24310
    assert not np.array_equal(a.tuples, others[0])


def test_unsupported_share_zero_adds_nothing_and_no_token():
    train = odd_pool_train()
    aug = unsupported(train, share=0.0, seed=0)
    assert (aug.n_extra, aug.reserved, aug.available) == (0, 0, 17)
    assert aug.vocab.tokens == train.vocab.tokens
    np.testing.assert_array_equal(aug.tuples, train.tuples)
    assert unsupported(train, share=0.9, seed=0, size=0).reserved == 0


def test_unsupported_size_larger_than_the_pool_names_the_pool():
    train = odd_pool_train()
    with pytest.raises(InputError, match=r"asks for 18 .*only 17") as err:
        unsupported(train, seed=0, size=18)
    assert err.value.where == "mitigation.size"


def test_unsupported_refuses_a_token_the_vocabulary_holds():
    vocab = Vocabulary(("a", "b", UNSUPPORTED))
    train = TupleDataset(vocab, np.array([[0, 1, 0]]))
    with pytest.raises(InputError, match="already holds the reserved token"):
        unsupported(train, share=0.5, seed=0)
    # another name is fine, and is the one added
    aug = unsupported(train, share=0.5, seed=0, token="<none>")
    assert aug.vocab.tokens[-1] == "<none>"
    with pytest.raises(InputError, match="'b'"):
        unsupported(train, share=0.5, seed=0, token="b")


def test_unsupported_on_longer_tuples():
    V = 3
    tuples = np.array([[0, 1, 2, 0], [2, 2, 2, 1], [1, 0, 1, 2]])
    train = TupleDataset(Vocabulary(("x", "y", "z")), tuples)
    aug = unsupported(train, share=1.0, seed=0)
    assert aug.n_extra == V**3 - 3
    assert set(rows(aug.tuples[3:, :-1])) == pool_of(train)
    assert (aug.tuples[3:, -1] == V).all()


def test_extend_vocab_appends_in_order():
    vocab = Vocabulary(("a", "b"))
    assert extend_vocab(vocab, ["c", "d"]).tokens == ("a", "b", "c", "d")
    with pytest.raises(InputError, match="'a'"):
        extend_vocab(vocab, ["c", "a"])


# --- contradict: relation last ----------------------------------------------------------------


@pytest.fixture(scope="module")
def siblings() -> TruthDataset:
    return WORLDS["siblings"].build(seed=0, n_families=4)


def test_siblings_is_relation_last_and_family_is_not(siblings):
    assert relation_last(siblings)
    assert not relation_last(WORLDS["family"].build(seed=0))


@pytest.mark.parametrize("share", [0.25, 1.0, 3.0])
def test_contradict_relation_last_adds_unrelated_pairs(siblings, share):
    ds = siblings
    V, N = ds.vocab.V, ds.train.N
    aug = contradict(ds, share=share, seed=1)
    true = true_rows(ds)
    true_pairs = {t[:2] for t in true}
    people = {x for t in true for x in t[:2]}
    negatives = {(a, b) for a in people for b in people if a != b and (a, b) not in true_pairs}
    k = int(share * N + 0.5)
    assert (aug.n_extra, aug.reserved, aug.available) == (k, 1, len(negatives))
    assert aug.vocab.tokens == (*ds.vocab.tokens, UNRELATED)
    np.testing.assert_array_equal(aug.tuples[:N], ds.train.tuples)
    extra = rows(aug.tuples[N:])
    assert len(set(extra)) == k
    for a, b, r in extra:
        assert r == V
        assert a != b
        assert (a, b) in negatives  # no true sentence about (a, b), in any split


def test_contradict_count_rounds_half_up(siblings):
    assert siblings.train.N == 18
    assert contradict(siblings, share=0.25, seed=0).n_extra == 5  # 4.5 -> 5, round() gives 4


def test_contradict_is_seeded(siblings):
    a = contradict(siblings, share=1.0, seed=2)
    b = contradict(siblings, share=1.0, seed=2)
    c = contradict(siblings, share=1.0, seed=3)
    np.testing.assert_array_equal(a.tuples, b.tuples)
    assert not np.array_equal(a.tuples, c.tuples)


def test_contradict_share_zero_adds_nothing(siblings):
    aug = contradict(siblings, share=0.0, seed=0)
    assert (aug.n_extra, aug.reserved) == (0, 0)
    assert aug.vocab.tokens == siblings.vocab.tokens
    np.testing.assert_array_equal(aug.tuples, siblings.train.tuples)


def test_contradict_more_than_exist_names_the_count(siblings):
    available = contradict(siblings, share=0.0).available
    assert available > 0
    full = contradict(siblings, share=0.0, size=available)
    assert full.n_extra == available
    with pytest.raises(InputError, match=rf"asks for {available + 1} .*only {available}"):
        contradict(siblings, share=0.0, size=available + 1)
    with pytest.raises(InputError, match=rf"only {available}"):
        contradict(siblings, share=available / siblings.train.N + 1)


def test_contradict_siblings_with_unrelated_facts_has_no_negatives():
    # every cross-family pair is stated (train) or implied (G): no true negative is left
    ds = WORLDS["siblings"].build(seed=0, n_families=4, unrelated=0.5)
    assert UNRELATED in ds.vocab.index
    with pytest.raises(InputError, match="only 0"):
        contradict(ds, share=0.5)


def test_contradict_refuses_a_taken_unrelated_token():
    # relation last, with an (unused) token named "unrelated" in the vocabulary
    vocab = Vocabulary(("a", "b", "c", "knows", UNRELATED))
    train = TupleDataset(vocab, np.array([[0, 1, 3], [1, 2, 3]]))
    ds = TruthDataset("t", train, np.array([[2, 0, 3]]), np.array([[2, 0, 3]]))
    assert relation_last(ds)
    with pytest.raises(InputError, match="already holds the reserved token 'unrelated'"):
        contradict(ds, share=1.0)


# --- contradict: relation in the middle -------------------------------------------------------


def check_relation_middle(ds: TruthDataset, share: float, seed: int) -> None:
    V, N = ds.vocab.V, ds.train.N
    true = true_rows(ds)
    relations = sorted({t[1] for t in true})
    entities = sorted({x for t in true for x in (t[0], t[2])})
    aug = contradict(ds, share=share, seed=seed)
    k = int(share * N + 0.5)
    n_neg = len(entities) ** 2 * len(relations) - len(true)
    assert (aug.n_extra, aug.reserved, aug.available) == (k, len(relations), n_neg)
    # one not:r token per relation, in the relations' id order
    names = tuple(NOT + ds.vocab.tokens[r] for r in relations)
    assert aug.vocab.tokens == (*ds.vocab.tokens, *names)
    np.testing.assert_array_equal(aug.tuples[:N], ds.train.tuples)
    extra = rows(aug.tuples[N:])
    assert len(set(extra)) == k
    for h, nr, t in extra:
        assert V <= nr < V + len(relations)
        assert h in entities and t in entities
        assert (h, relations[nr - V], t) not in true  # a true negative


@pytest.mark.parametrize("share", [0.1, 0.5, 2.0])
def test_contradict_family_world_negates_relations(share):
    ds = WORLDS["family"].build(seed=0)
    assert len({t[1] for t in true_rows(ds)}) == 9
    check_relation_middle(ds, share, seed=5)


def test_contradict_random_triples_relation_middle():
    rng = np.random.default_rng(0)
    vocab = Vocabulary(tuple(f"t{i}" for i in range(5)))
    train = TupleDataset(vocab, random_triples(V=5, N=10, seed=0).tuples)
    test = rng.integers(0, 5, size=(3, 3))
    ds = TruthDataset("r", train, test, test.copy())
    check_relation_middle(ds, 0.5, seed=0)


@needs_pykeen
def test_contradict_nations():
    from artifactlab.data.kg import load_kg

    ds = load_kg("nations")
    assert not relation_last(ds)
    check_relation_middle(ds, 0.1, seed=0)


def test_contradict_relation_middle_refuses_a_taken_not_token():
    vocab = Vocabulary(("a", "b", "r", NOT + "r"))
    train = TupleDataset(vocab, np.array([[0, 2, 1], [1, 2, 0], [0, 2, 3]]))
    ds = TruthDataset("t", train, np.array([[1, 2, 1]]), np.array([[1, 2, 1]]))
    assert not relation_last(ds)
    with pytest.raises(InputError, match="already holds the reserved token 'not:r'"):
        contradict(ds, share=1.0)


def test_contradict_relation_middle_more_than_exist():
    vocab = Vocabulary(("a", "b", "r"))
    # entities {a, b} (and r, which is a tail once), one relation: 3 * 1 * 3 candidates
    train = TupleDataset(vocab, np.array([[0, 2, 1], [1, 2, 0], [0, 2, 2]]))
    ds = TruthDataset("t", train, np.array([[1, 2, 1]]), np.array([[1, 2, 1]]))
    assert contradict(ds, share=0.0).available == 9 - 4
    with pytest.raises(InputError, match=r"asks for 6 true negative triples, but there are only 5"):
        contradict(ds, share=0.0, size=6)


@pytest.mark.parametrize("n", [2, 4])
def test_contradict_refuses_non_triples(n):
    vocab = Vocabulary(("a", "b", "c"))
    tuples = np.random.default_rng(0).integers(0, 3, size=(5, n))
    ds = TruthDataset("q", TupleDataset(vocab, tuples), tuples[:1], tuples[:1])
    with pytest.raises(InputError, match=f"contradict needs triples, the data has {n}-tuples"):
        contradict(ds, share=1.0)
