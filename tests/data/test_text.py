"""Reading and tokenizing text corpora; the standard-library corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artifactlab.data import text
from artifactlab.data.text import (
    encode,
    load_tokenizer,
    read_corpus,
    split_lines,
    stdlib_corpus,
    stdlib_sources,
    token_dtype,
    tokenize_corpus,
    train_tokenizer,
)
from artifactlab.errors import InputError

CORPUS = "the cat sat on the mat\nthe dog sat\n\n  a cat, a dog.\n" * 20


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "is empty"),
        (b"abc\x00def", "is binary (a NUL byte at offset 3)"),
        (b"caf\xe9 au lait", "is not UTF-8 text (byte offset 3)"),
    ],
)
def test_read_corpus_refuses_bad_files(tmp_path, data, needle):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_corpus(path)
    assert str(info.value).startswith(f"{path}: {needle}")
    assert "(" in str(info.value) and "\n" not in str(info.value)


def test_read_corpus_missing_and_bom(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_corpus(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="no such file"):
        read_corpus(tmp_path)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfhi\n")
    assert read_corpus(tmp_path / "bom.txt") == "hi\n"


def test_split_lines_keeps_line_feeds():
    assert split_lines("a\nb\r\n\nc") == ["a\n", "b\r\n", "\n", "c"]
    assert split_lines("a\n") == ["a\n"]
    assert split_lines("a\u2028b") == ["a\u2028b"]


def test_token_dtype_boundaries():
    assert token_dtype(2**16) == np.uint16
    assert token_dtype(2**16 + 1) == np.uint32
    assert token_dtype(2**32) == np.uint32
    with pytest.raises(InputError, match="more than 2\\*\\*32"):
        token_dtype(2**32 + 1)


def test_whitespace_tokenizer(corpus):
    result = tokenize_corpus(corpus, "whitespace")
    vocab = result.tokenizer.get_vocab()
    assert vocab["<unk>"] == 0 and vocab["the"] == 1  # most frequent words first
    assert result.ids.dtype == np.uint16
    assert result.ids.size == 13 * 20
    assert result.info == {"kind": "whitespace", "source": "whitespace", "vocab_size": len(vocab)}
    assert result.tokenizer.encode("the unseen cat").ids == [1, 0, vocab["cat"]]


def test_whitespace_vocab_cap(corpus):
    tokenizer = train_tokenizer("whitespace", split_lines(CORPUS), vocab_size=3)
    assert tokenizer.get_vocab_size() == 3
    assert 0 in encode(tokenizer, split_lines(CORPUS)).tolist()


def test_bpe_is_deterministic(corpus):
    lines = split_lines(CORPUS)
    first = train_tokenizer("bpe", lines, vocab_size=270)
    assert first.get_vocab_size() == 270
    assert first.to_str() == train_tokenizer("bpe", lines, vocab_size=270).to_str()
    ids = encode(first, lines)
    assert first.decode(ids.tolist()) == CORPUS  # byte-level: lossless
    default = tokenize_corpus(corpus, "bpe")
    assert default.info["kind"] == "bpe" and default.tokenizer.get_vocab_size() <= 4096


def test_bad_tokenizer_options(corpus, tmp_path):
    with pytest.raises(InputError, match="--vocab-size: must be >= 2"):
        tokenize_corpus(corpus, "bpe", vocab_size=1)
    with pytest.raises(InputError, match="neither whitespace, bpe, nor"):
        tokenize_corpus(corpus, str(tmp_path / "nope"))
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(InputError, match="junk.json: is not a tokenizer.json file"):
        tokenize_corpus(corpus, str(tmp_path / "junk.json"))
    with pytest.raises(InputError, match="is not a tokenizer folder"):
        tokenize_corpus(corpus, str(tmp_path))
    saved = tmp_path / "t.json"
    train_tokenizer("whitespace", split_lines(CORPUS)).save(str(saved))
    with pytest.raises(InputError, match="--vocab-size: applies only to whitespace and bpe"):
        tokenize_corpus(corpus, str(saved), vocab_size=10)


def test_no_tokens(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("   \n\n")
    with pytest.raises(InputError, match="holds no tokens"):
        tokenize_corpus(path, "whitespace")


def test_tokenizer_from_a_file_or_folder(corpus, tmp_path):
    trained = train_tokenizer("bpe", split_lines(CORPUS), vocab_size=280)
    folder = tmp_path / "tok"
    folder.mkdir()
    trained.save(str(folder / "tokenizer.json"))
    expected = encode(trained, split_lines(CORPUS)).tolist()
    for spec in (folder / "tokenizer.json", folder):
        result = tokenize_corpus(corpus, str(spec))
        assert result.ids.tolist() == expected
        assert result.info["kind"] == "file"


def test_tokenizer_from_a_hugging_face_folder(corpus, tmp_path):
    trained = train_tokenizer("bpe", split_lines(CORPUS), vocab_size=280)
    folder = tmp_path / "gpt2-like"
    folder.mkdir()
    trained.model.save(str(folder))  # vocab.json + merges.txt, no tokenizer.json
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    loaded = load_tokenizer(folder)
    assert loaded.encode("the cat sat").ids == trained.encode("the cat sat").ids


def test_stdlib_corpus_from_a_folder(tmp_path):
    root = tmp_path / "lib"
    (root / "pkg" / "empty").mkdir(parents=True)
    (root / "site-packages" / "x").mkdir(parents=True)
    (root / "b.py").write_text("b = 2")
    (root / "pkg" / "a.py").write_text("a = 1\n")
    (root / "site-packages" / "x" / "c.py").write_text("c = 3\n")
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    (root / "broken.py").write_bytes(b"# -*- coding: nope -*-\n")
    (root / "nul.py").write_bytes(b"x = '\x00'\n")
    one = stdlib_corpus(tmp_path / "a.txt", root)
    two = stdlib_corpus(tmp_path / "b.txt", root)
    assert (tmp_path / "a.txt").read_text() == (
        "b = 2\n# -*- coding: latin-1 -*-\ns = '\xe9'\na = 1\n"
    )
    assert one.files == 3 and one.skipped == ("broken.py", "nul.py")
    assert one.sha256 == two.sha256 and one.bytes == (tmp_path / "a.txt").stat().st_size
    with pytest.raises(InputError, match="no readable"):
        stdlib_corpus(tmp_path / "c.txt", root / "pkg" / "empty")


def test_stdlib_sources_of_this_interpreter():
    files = stdlib_sources()
    names = {p.name for p in files}
    assert {"os.py", "argparse.py", "textwrap.py"} <= names
    assert not any("site-packages" in p.parts for p in files)
    assert files == sorted(files, key=lambda p: p.as_posix())
    assert len(files) > 500 and text.CHUNK_LINES > 0
