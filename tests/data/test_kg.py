"""Knowledge graphs: the pykeen benchmarks, user triple folders, bad lines, overlaps."""

from __future__ import annotations

import gzip
import importlib.util
import warnings
from collections import Counter

import numpy as np
import pytest

from artifactlab.data import kg
from artifactlab.data.kg import (
    KGInfo,
    TripleOverlapWarning,
    entity_ids,
    kg_info,
    kg_subset,
    known_triples,
    load_kg,
    load_triple_folder,
    overlap_count,
    read_triples,
    relation_ids,
    split_triple_file,
)
from artifactlab.data.truth_set import TruthDataset
from artifactlab.errors import InputError

# find_spec, not importorskip: importing pykeen takes seconds and the loader never does
needs_pykeen = pytest.mark.skipif(
    importlib.util.find_spec("pykeen") is None, reason="pykeen (the kg extra) is not installed"
)

# (train, valid, test) triples, entities, relations: the standard splits of the literature
STANDARD = {
    "nations": ((1592, 199, 201), 14, 55),
    "kinships": ((8544, 1068, 1074), 104, 25),
    "umls": ((5216, 652, 661), 135, 46),
}


@needs_pykeen
@pytest.mark.parametrize("name", sorted(STANDARD))
def test_benchmark_graphs_have_the_standard_splits(name):
    (n_train, n_valid, n_test), n_ent, n_rel = STANDARD[name]
    ds = load_kg(name)
    assert ds.name == name
    assert (ds.train.N, len(ds.valid), len(ds.test)) == (n_train, n_valid, n_test)
    assert kg_info(ds) == KGInfo(n_entities=n_ent, n_relations=n_rel)
    assert ds.vocab.V == n_ent + n_rel
    # entities first, then relations, each sorted
    tokens = ds.vocab.tokens
    assert list(tokens[:n_ent]) == sorted(tokens[:n_ent])
    assert list(tokens[n_ent:]) == sorted(tokens[n_ent:])
    assert entity_ids(ds).tolist() == list(range(n_ent))
    assert relation_ids(ds).tolist() == list(range(n_ent, n_ent + n_rel))
    # clean splits: G is valid + test, and the filter set holds every triple once
    assert overlap_count(ds) == overlap_count(ds, "valid") == 0
    assert len(ds.truth) == n_valid + n_test
    assert len(known_triples(ds)) == n_train + n_valid + n_test


@needs_pykeen
def test_benchmark_matches_the_shipped_file():
    ds = load_kg("Nations")  # names are case-insensitive
    first = (kg.pykeen_datasets_folder() / "nations" / "train.txt").read_text().split("\n")[0]
    assert "\t".join(ds.vocab.decode(ds.train.tuples[0])) == first


def test_unknown_graph_names_the_choices():
    with pytest.raises(InputError, match="nations, kinships, umls"):
        load_kg("fb15k")


def test_missing_pykeen_says_how_to_install(monkeypatch):
    monkeypatch.setattr(kg.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r'pip install "artifactlab\[kg\]"'):
        load_kg("nations")


def write_folder(tmp_path, **splits: str):
    for name, text in splits.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_user_folder_vocabulary_and_truth(tmp_path):
    folder = write_folder(
        tmp_path,
        **{
            "train.tsv": "# comment\na\tr\tb\nb\tr\tc\n\n",
            "valid.tsv": "a\ts\tc\n",
            "test.tsv": "c\ts\td\na\ts\tc\n",  # d is only in test; a s c repeats valid
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overlap, no warning
        ds = load_triple_folder(folder)
    assert isinstance(ds, TruthDataset)
    assert ds.vocab.tokens == ("a", "b", "c", "d", "r", "s")
    assert ds.train.tuples.tolist() == [[0, 4, 1], [1, 4, 2]]
    assert ds.valid.tolist() == [[0, 5, 2]]
    assert ds.test.tolist() == [[2, 5, 3], [0, 5, 2]]
    assert ds.truth.tolist() == [[0, 5, 2], [2, 5, 3]]  # distinct, valid first
    assert kg_info(ds) == KGInfo(4, 2)


def test_valid_is_optional_and_gzip_is_read(tmp_path):
    write_folder(tmp_path, **{"train.txt": "a r b\n"})
    with gzip.open(tmp_path / "test.txt.gz", "wt") as fh:
        fh.write("b\tr\ta\n")
    ds = load_triple_folder(tmp_path)
    assert ds.valid is None
    assert ds.vocab.decode(ds.test[0]) == ["b", "r", "a"]


def test_relation_named_like_an_entity_shares_its_token(tmp_path):
    ds = load_triple_folder(
        write_folder(tmp_path, **{"train.txt": "a b c\n", "test.txt": "b a c\n"})
    )
    assert ds.vocab.tokens == ("a", "b", "c")
    assert kg_info(ds) == KGInfo(3, 2)


def test_wrong_field_count_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("a\tr\tb\n# fine\nb\tr\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_triples(path)
    assert err.value.where == f"{path}:3"
    assert "has 2 fields, expected 3" in err.value.message
    assert "\n" not in err.value.message


def test_empty_field_and_missing_files(tmp_path):
    write_folder(tmp_path, **{"train.txt": "a\t\tb\n"})
    with pytest.raises(InputError, match="empty field"):
        read_triples(tmp_path / "train.txt")
    with pytest.raises(InputError, match="no test file"):
        load_triple_folder(write_folder(tmp_path, **{"train.txt": "a r b\n"}))
    (tmp_path / "test.txt").write_text("b r a\n")
    (tmp_path / "test.tsv").write_text("b r a\n")
    with pytest.raises(InputError, match="test.txt and test.tsv"):
        load_triple_folder(tmp_path)
    with pytest.raises(InputError, match="is not a folder"):
        load_triple_folder(tmp_path / "nope")


def test_overlap_is_warned_and_counted(tmp_path):
    folder = write_folder(
        tmp_path,
        **{"train.txt": "a r b\nb r c\n", "test.txt": "a r b\nc r a\nb r c\nb r c\n"},
    )
    with pytest.warns(TripleOverlapWarning, match="3 test triples also appear in train"):
        ds = load_triple_folder(folder)
    assert overlap_count(ds) == 3  # repeats counted; they stay in test
    assert len(ds.test) == 4
    assert ds.vocab.decode(ds.truth[0]) == ["c", "r", "a"]  # but only the new one is in G
    assert len(ds.truth) == 1
    assert overlap_count(ds, "valid") == 0
    np.testing.assert_array_equal(known_triples(ds), [[0, 3, 1], [1, 3, 2], [2, 3, 0]])


def test_single_file_is_split_by_a_seeded_draw(tmp_path):
    path = tmp_path / "facts.tsv"
    lines = [f"e{i}\tr{i % 3}\te{(i * 7) % 20}" for i in range(20)]
    path.write_text("\n".join([*lines, lines[0], lines[5]]) + "\n")  # two repeats
    ds = split_triple_file(path, holdout=0.25, seed=4)
    assert ds.name == "facts" and len(ds.test) == 5 and len(ds.train.tuples) == 15
    decoded = {tuple(ds.vocab.decode(r)) for r in [*ds.train.tuples, *ds.test]}
    assert decoded == {tuple(line.split("\t")) for line in lines}  # every distinct triple once
    np.testing.assert_array_equal(ds.test, ds.truth)
    assert overlap_count(ds) == 0
    again, other = split_triple_file(path, 0.25, seed=4), split_triple_file(path, 0.25, seed=5)
    np.testing.assert_array_equal(again.test, ds.test)
    assert not np.array_equal(other.test, ds.test)
    assert len(split_triple_file(path, holdout=0.01).test) == 1  # at least one held out


@pytest.mark.parametrize(
    ("text", "holdout", "words"),
    [
        ("a r b\nb r c\n", 0.0, "must be in (0, 1)"),
        ("a r b\nb r c\n", 1.0, "must be in (0, 1)"),
        ("a r b\na r b\n", 0.5, "1 distinct triple(s): too few"),
        ("", 0.1, "0 distinct triple(s)"),
        ("a r b\nb r\n", 0.1, "has 2 fields"),
    ],
)
def test_single_file_bad_input(tmp_path, text, holdout, words):
    path = tmp_path / "t.txt"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        split_triple_file(path, holdout)
    assert words in str(err.value)


@needs_pykeen
def test_kg_subset_keeps_the_most_frequent_relations():
    full = load_kg("nations")
    sub = kg_subset("nations", relations=3)
    tokens = full.vocab.tokens
    counts = Counter(tokens[r] for r in known_triples(full)[:, 1].tolist())
    top = {r for r, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]}
    assert sub.name == "nations-r3" and kg_info(sub).n_relations == 3

    def strings(ds, rows):
        return sorted(tuple(ds.vocab.tokens[i] for i in row) for row in rows.tolist())

    for split in ("train", "test", "valid"):  # the standard split, cut to the kept relations
        rows = full.train.tuples if split == "train" else getattr(full, split)
        want = [t for t in strings(full, rows) if t[1] in top]
        got_rows = sub.train.tuples if split == "train" else getattr(sub, split)
        assert strings(sub, got_rows) == want and want
    assert kg_subset("nations").name == "nations"


@needs_pykeen
def test_kg_subset_resplits_with_a_seed():
    a = kg_subset("nations", relations=2, holdout=0.25, seed=1)
    b = kg_subset("nations", relations=2, holdout=0.25, seed=1)
    c = kg_subset("nations", relations=2, holdout=0.25, seed=2)
    assert np.array_equal(a.train.tuples, b.train.tuples) and np.array_equal(a.test, b.test)
    assert not np.array_equal(a.test, c.test)
    n = len(a.train.tuples) + len(a.test)
    assert len(a.test) == int(0.25 * n + 0.5) and len(a.truth) == len(a.test)
    assert not {tuple(t) for t in a.test.tolist()} & {tuple(t) for t in a.train.tuples.tolist()}
    assert a.name == "nations-r2-h0.25-s1"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"relations": -1}, "[0, 55]"),
        ({"relations": 56}, "[0, 55]"),
        ({"relations": 1.5}, "integer"),
        ({"holdout": 1.0}, "(0, 1)"),
        ({"holdout": 0}, "(0, 1)"),
    ],
)
@needs_pykeen
def test_kg_subset_bad_input(kwargs, words):
    with pytest.raises(InputError) as info:
        kg_subset("nations", **kwargs)
    assert words in info.value.problem
