"""Loading, saving and validating tuple files."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.data import TupleDataset, Vocabulary, load_tuples
from artifactlab.errors import InputError


def write(tmp_path, text: str, name: str = "data.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_whitespace_separated(tmp_path):
    path = write(tmp_path, "mice eat cheese\nmouse   eats  cheese\n")
    ds = load_tuples(path)
    assert ds.vocab.tokens == ("mice", "eat", "cheese", "mouse", "eats")
    assert ds.tuples.tolist() == [[0, 1, 2], [3, 4, 2]]
    assert ds.tuples.dtype == np.int64
    assert (ds.N, ds.n, ds.vocab.V) == (2, 3, 5)


def test_tab_separated_tokens_may_hold_spaces(tmp_path):
    path = write(tmp_path, "New York\tis in\tUSA\nParis\tis in\tFrance\n")
    ds = load_tuples(path)
    assert ds.vocab.tokens == ("New York", "is in", "USA", "Paris", "France")
    assert ds.tuples.tolist() == [[0, 1, 2], [3, 1, 4]]


def test_comments_and_blank_lines_skipped(tmp_path):
    text = "# a header comment\n\na b c\n   \n# another: x y\n\t\nb c a\n\n"
    ds = load_tuples(write(tmp_path, text))
    assert ds.vocab.tokens == ("a", "b", "c")
    assert ds.tuples.tolist() == [[0, 1, 2], [1, 2, 0]]


def test_vocabulary_ids_in_order_of_appearance(tmp_path):
    ds = load_tuples(write(tmp_path, "z y x\nx w z\nv y u\n"))
    assert ds.vocab.tokens == ("z", "y", "x", "w", "v", "u")
    assert ds.vocab.index == {t: i for i, t in enumerate(ds.vocab.tokens)}
    assert ds.tuples.tolist() == [[0, 1, 2], [2, 3, 0], [4, 1, 5]]
    assert ds.vocab.decode(ds.tuples[1]) == ["x", "w", "z"]


def test_repeated_rows_are_kept(tmp_path):
    ds = load_tuples(write(tmp_path, "a b c\na b c\n"))
    assert ds.N == 2
    assert ds.tuples.tolist() == [[0, 1, 2], [0, 1, 2]]


def test_start_from_vocabulary_appends_new_tokens(tmp_path):
    vocab = Vocabulary(("q", "b"))
    ds = load_tuples(write(tmp_path, "a b c\n"), vocab)
    assert ds.vocab.tokens == ("q", "b", "a", "c")
    assert ds.tuples.tolist() == [[2, 1, 3]]


def test_save_load_round_trip(tmp_path):
    ds = TupleDataset.from_rows(
        [["New York", "is in", "USA"], ["mice", "eat", "cheese"], ["mice", "eat", "cheese"]]
    )
    out = tmp_path / "out.tsv"
    ds.save(out)
    back = load_tuples(out)
    assert back.vocab == ds.vocab
    np.testing.assert_array_equal(back.tuples, ds.tuples)
    # the saved form is tab separated, one tuple per line
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "New York\tis in\tUSA"
    assert len(lines) == 3


def test_save_load_round_trip_keeps_ids_with_vocabulary(tmp_path):
    vocab = Vocabulary(("t0", "t1", "t2", "t3"))
    ds = TupleDataset(vocab, np.array([[3, 1, 0], [2, 2, 2]], dtype=np.int64))
    ds.save(tmp_path / "d.tsv")
    back = load_tuples(tmp_path / "d.tsv", vocab)
    assert back.vocab == vocab
    np.testing.assert_array_equal(back.tuples, ds.tuples)


def test_wrong_arity_names_file_and_line(tmp_path):
    path = write(tmp_path, "# comment\na b c\n\na b\n")
    with pytest.raises(InputError) as info:
        load_tuples(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{path}:4" in message
    assert "2 fields" in message and "expected 3" in message


def test_wrong_arity_tab_file(tmp_path):
    path = write(tmp_path, "a\tb\tc\nd e\tf\n")
    with pytest.raises(InputError, match=r":2\b"):
        load_tuples(path)


def test_empty_field_names_line(tmp_path):
    path = write(tmp_path, "a\tb\tc\nd\t\tf\n")
    with pytest.raises(InputError) as info:
        load_tuples(path)
    assert f"{path}:2" in str(info.value)


def test_only_comments_is_an_error(tmp_path):
    path = write(tmp_path, "# nothing here\n\n   \n# still nothing\n")
    with pytest.raises(InputError) as info:
        load_tuples(path)
    assert str(path) in str(info.value)
    assert "no tuples" in str(info.value)


def test_empty_file_is_an_error(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(InputError, match="no tuples"):
        load_tuples(path)


def test_missing_file(tmp_path):
    path = tmp_path / "does_not_exist.txt"
    with pytest.raises(InputError) as info:
        load_tuples(path)
    assert str(path) in str(info.value)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputError):
        load_tuples(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"a b \xff\xfe\n")
    with pytest.raises(InputError) as info:
        load_tuples(path)
    assert str(path) in str(info.value)


def test_vocabulary_rejects_repeats():
    with pytest.raises(InputError):
        Vocabulary(("a", "b", "a"))
