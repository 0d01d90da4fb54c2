"""The suffix-array corpus index against brute-force counts on random corpora."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from artifactlab.data import corpus_index
from artifactlab.data.corpus_index import CorpusIndex
from artifactlab.errors import InputError


def brute_count(ids: np.ndarray, gram: list[int]) -> int:
    if not gram:
        return ids.size
    if len(gram) > ids.size:
        return 0
    windows = np.lib.stride_tricks.sliding_window_view(ids, len(gram))
    return int((windows == np.asarray(gram)).all(axis=1).sum())


def brute_next(ids: np.ndarray, context: list[int]) -> dict[int, int]:
    values, n = ids.tolist(), len(context)
    return dict(Counter(values[i + n] for i in range(ids.size - n) if values[i : i + n] == context))


def queries(ids: np.ndarray, vocab: int, rng: np.random.Generator) -> list[list[int]]:
    """N-grams of n = 1..8 that occur, that likely do not, and that run into the corpus end."""
    out = []
    for n in range(1, 9):
        for start in rng.integers(0, ids.size - n + 1, 12):
            out.append(ids[start : start + n].tolist())
        out += rng.integers(0, vocab, (6, n)).tolist()
        out.append(ids[ids.size - n :].tolist())  # the last n tokens
        out.append(ids[ids.size - n + 1 :].tolist() + [int(ids[0])])  # past the end
    return out


def make_corpus(vocab: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, vocab + 1)  # Zipf-like, so some n-grams repeat a lot
    return rng.choice(vocab, size=n, p=weights / weights.sum())


@pytest.mark.parametrize("vocab", [2, 7, 300, 70_000])
def test_count_matches_brute_force(tmp_path, vocab):
    rng = np.random.default_rng(vocab)
    ids = make_corpus(vocab, 3000, seed=vocab)
    index = CorpusIndex.build(ids, tmp_path / "index", vocab_size=vocab)
    assert index.tokens.dtype == (np.uint16 if vocab <= 2**16 else np.uint32)
    batch = queries(ids, vocab, rng)
    got = index.count(batch)
    assert got.tolist() == [brute_count(ids, q) for q in batch]
    assert index.count(batch, workers=3).tolist() == got.tolist()
    assert got.max() > 1 and ((got == 0).any() or vocab == 2)  # 2 tokens: every 8-gram occurs


def test_suffix_array_is_sorted(tmp_path):
    ids = make_corpus(5, 400, seed=1)
    index = CorpusIndex.build(ids, tmp_path / "i")
    suffixes = [ids[int(p) :].tolist() for p in index.suffix]
    assert suffixes == sorted(suffixes)
    assert index.suffix.dtype == np.uint32


def test_workers_split_the_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_index, "MIN_CHUNK", 4)
    ids = make_corpus(20, 2000, seed=3)
    index = CorpusIndex.build(ids, tmp_path / "i")
    batch = queries(ids, 20, np.random.default_rng(0))
    assert index.count(batch, workers=4).tolist() == index.count(batch).tolist()


def test_batch_forms(tmp_path):
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])
    index = CorpusIndex.build(ids, tmp_path / "i", vocab_size=10)
    grid = np.array([[1, 4], [5, 3], [3, 5], [9, 9]])
    assert index.count(grid).tolist() == [1, 1, 1, 0]
    assert index.count([]).tolist() == []
    assert index.count([[], [5], np.array([5, 3])]).tolist() == [11, 3, 1]
    lo, hi = index.ranges([[5]])
    assert sorted(ids[int(p)] for p in index.suffix[lo[0] : hi[0]]) == [5, 5, 5]


@pytest.mark.parametrize("vocab", [3, 40])
def test_next_counts_match_brute_force(tmp_path, vocab):
    rng = np.random.default_rng(vocab)
    ids = make_corpus(vocab, 4000, seed=vocab + 1)
    index = CorpusIndex.build(ids, tmp_path / "index", vocab_size=vocab)
    contexts = [[]] + queries(ids, vocab, rng)[::3]
    for context, (tokens, counts) in zip(contexts, index.next_counts_batch(contexts), strict=True):
        assert dict(zip(tokens.tolist(), counts.tolist(), strict=True)) == brute_next(ids, context)
        assert tokens.tolist() == sorted(tokens.tolist())
    # the frequent contexts of a 3-token vocabulary take the binary-search path
    tokens, counts = index.next_counts([0])
    assert dict(zip(tokens.tolist(), counts.tolist(), strict=True)) == brute_next(ids, [0])


def test_next_counts_gather_in_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_index, "GATHER", 50)
    ids = make_corpus(30, 1500, seed=5)
    index = CorpusIndex.build(ids, tmp_path / "i", vocab_size=30)
    contexts = [[int(ids[i])] for i in range(40)] + [[29, 29, 29, 29]]
    for context, (tokens, counts) in zip(contexts, index.next_counts_batch(contexts), strict=True):
        assert dict(zip(tokens.tolist(), counts.tolist(), strict=True)) == brute_next(ids, context)


def test_last_token_has_no_next(tmp_path):
    index = CorpusIndex.build(np.array([0, 1, 2]), tmp_path / "i")
    tokens, counts = index.next_counts([1, 2])
    assert tokens.size == 0 and counts.size == 0
    assert index.next_counts([2, 2])[0].size == 0


def test_load_is_memory_mapped(tmp_path):
    ids = make_corpus(9, 500, seed=2)
    CorpusIndex.build(ids, tmp_path / "i", tokenizer_info={"kind": "test"})
    index = CorpusIndex.load(tmp_path / "i")
    for arr in (index.tokens, index.suffix):
        assert isinstance(arr, np.memmap) and arr.mode == "r"
    assert np.array_equal(index.tokens, ids)
    meta = json.loads((tmp_path / "i" / "index.json").read_text())
    assert meta["format_version"] == corpus_index.FORMAT_VERSION
    assert (meta["n_tokens"], meta["vocab_size"], meta["token_dtype"]) == (500, 9, "uint16")
    assert sorted(p.name for p in (tmp_path / "i").iterdir()) == [
        "index.json",
        "suffix_array.npy",
        "tokens.npy",
    ]
    for name in ("tokens.npy", "suffix_array.npy"):  # plain arrays: no pickle needed
        assert np.load(tmp_path / "i" / name, allow_pickle=False).dtype.kind == "u"
    assert corpus_index.index_bytes(tmp_path / "i") > 6 * 500


def test_query_ids_outside_the_vocabulary(tmp_path):
    index = CorpusIndex.build(np.array([0, 1, 2, 1]), tmp_path / "i", vocab_size=5)
    with pytest.raises(InputError, match=r"query 2: token id 5 is outside .*\(0\.\.4\)"):
        index.count([[1], [1, 5]])
    with pytest.raises(InputError, match="token id -1"):
        index.next_counts([-1])
    with pytest.raises(InputError, match="whole number"):
        index.count([[1.5]])
    with pytest.raises(InputError, match="sequences of token ids"):
        index.count([["a"]])
    with pytest.raises(InputError, match="2-D integer"):
        index.count(np.zeros((2, 2)))


def test_build_refuses_bad_corpora(tmp_path):
    for bad in (np.array([], dtype=np.int64), np.zeros((2, 2), np.int64), np.array([0.5])):
        with pytest.raises(InputError, match="non-empty 1-D array"):
            CorpusIndex.build(bad, tmp_path / "i")
    with pytest.raises(InputError, match="token id 4, outside 0..3"):
        CorpusIndex.build(np.array([0, 4]), tmp_path / "i", vocab_size=4)
    with pytest.raises(InputError, match="token id -2"):
        CorpusIndex.build(np.array([0, -2]), tmp_path / "i")
    assert not (tmp_path / "i").exists()


def test_build_refuses_a_non_empty_folder(tmp_path):
    out = tmp_path / "i"
    CorpusIndex.build(np.array([0, 1]), out)
    with pytest.raises(InputError, match="not empty"):
        CorpusIndex.build(np.array([1, 1]), out)
    assert CorpusIndex.build(np.array([1, 1, 1]), out, overwrite=True).n_tokens == 3


@pytest.fixture()
def built(tmp_path):
    CorpusIndex.build(np.array([0, 1, 2, 0, 1]), tmp_path / "i")
    return tmp_path / "i"


def _edit_meta(folder, **changes):
    path = folder / "index.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(meta | changes))


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda f: _edit_meta(f, format_version=99), "format version 99; this artifactlab reads"),
        (lambda f: _edit_meta(f, n_tokens=7), r"expected uint16\[7\]"),
        (lambda f: _edit_meta(f, token_dtype="float32"), "bad token_dtype"),
        (lambda f: (f / "index.json").write_text("{"), "index.json: is damaged"),
        (lambda f: (f / "index.json").write_text("[]"), "no format_version"),
        (lambda f: (f / "index.json").unlink(), "has no index.json"),
        (lambda f: (f / "suffix_array.npy").unlink(), "suffix_array.npy: is missing"),
        (lambda f: (f / "tokens.npy").write_bytes(b"\x93NUMPY garbage"), "tokens.npy: is damaged"),
        (
            lambda f: (f / "tokens.npy").write_bytes((f / "tokens.npy").read_bytes()[:-4]),
            "tokens.npy: is damaged",
        ),
    ],
)
def test_load_refuses_damaged_folders(built, damage, needle):
    damage(built)
    with pytest.raises(InputError, match=needle) as info:
        CorpusIndex.load(built)
    assert "rebuild it with `artifactlab index build`" in str(info.value)


def test_load_refuses_what_is_not_an_index(tmp_path):
    with pytest.raises(InputError, match="is not an index folder"):
        CorpusIndex.load(tmp_path / "absent")
    with pytest.raises(InputError, match="has no index.json"):
        CorpusIndex.load(tmp_path)


def test_tokenizer_of_an_index(built):
    with pytest.raises(InputError, match="built without a tokenizer"):
        CorpusIndex.load(built).load_tokenizer()
    _edit_meta(built, tokenizer={"kind": "bpe"})
    with pytest.raises(InputError, match="tokenizer.json: is missing or damaged"):
        CorpusIndex.load(built).load_tokenizer()
