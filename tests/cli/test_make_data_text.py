"""``make-data text`` and ``make-data stdlib``: corpus windows a model trains on."""

from __future__ import annotations

import json

import numpy as np
from user_errors import assert_user_error

from artifactlab.data.text_windows import escape_token, unescape_token, windows
from artifactlab.data.tuples import load_tuples

CORPUS = "# a comment\nx = 1  # set x\ny = x + 1\n\\ back slash\nprint(x, y)\n" * 3


def test_windows_stride_and_sample():
    ids = np.arange(10)
    assert windows(ids, 4).shape == (7, 4)
    assert windows(ids, 4, stride=3)[:, 0].tolist() == [0, 3, 6]
    a, b = windows(ids, 2, max_windows=4, seed=1), windows(ids, 2, max_windows=4, seed=1)
    assert np.array_equal(a, b) and len(a) == 4 and (np.diff(a[:, 0]) > 0).all()
    for token in ("#", "##x", "\\", "\\#", "plain", "a#"):
        assert unescape_token(escape_token(token)) == token
        assert not escape_token(token).startswith("#")


def test_text_windows_read_back_as_the_tokens(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(CORPUS)
    out = tmp_path / "w"
    res = cli("make-data", "text", corpus, "--tokenizer", "whitespace", "--n", "3",
              "--out", out, "--json", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    words = CORPUS.split()
    assert info["windows"] == len(words) - 2 and info["corpus_tokens"] == len(words)
    ds = load_tuples(out / "tuples.tsv")  # '#' tokens are not read as comments
    assert len(ds.tuples) == info["windows"]
    got = [[unescape_token(ds.vocab.tokens[i]) for i in row] for row in ds.tuples.tolist()]
    assert got == [words[i : i + 3] for i in range(len(words) - 2)]
    assert (out / "tokenizer.json").is_file()
    assert json.loads((out / "windows.json").read_text())["n"] == 3


def test_text_windows_train_and_count(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(CORPUS * 5)
    out, run = tmp_path / "w", tmp_path / "run"
    assert cli("make-data", "text", corpus, "--tokenizer", "bpe", "--vocab-size", "270",
               "--n", "3", "--out", out, "--quiet").exit_code == 0  # fmt: skip
    res = cli("train", "--data", out / "tuples.tsv", "--mode", "all", "--max-steps", "30",
              "--out", run, "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    exact = json.loads(cli("artifacts", run, "--json", "--quiet").stdout)
    est = json.loads(cli("artifacts", run, "--estimate", "--samples", "400", "--json",
                         "--quiet").stdout)  # fmt: skip
    count = exact["n_artifacts"]
    e = est["estimates"]["0.5"]
    assert e["ci_low"] <= count <= e["ci_high"] or abs(e["estimate"] - count) <= 0.2 * count


def test_bad_text_inputs(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = tmp_path / "o"
    assert_user_error(cli("make-data", "text", empty, "--tokenizer", "whitespace", "--n", "3",
                          "--out", out), "empty")  # fmt: skip
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\x01\x02abc")
    assert_user_error(cli("make-data", "text", binary, "--tokenizer", "whitespace", "--n", "3",
                          "--out", out), str(binary.name))  # fmt: skip
    short = tmp_path / "s.txt"
    short.write_text("one two")
    assert_user_error(cli("make-data", "text", short, "--tokenizer", "whitespace", "--n", "3",
                          "--out", out, "--quiet"), "fewer than one window")  # fmt: skip
    assert_user_error(cli("make-data", "text", short, "--tokenizer", "whitespace", "--n", "1",
                          "--out", out), "--n")  # fmt: skip
    assert not out.exists()


def test_stdlib_corpus(cli, tmp_path):
    out = tmp_path / "json.txt"
    res = cli("make-data", "stdlib", "--package", "json", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["files"] >= 3 and out.stat().st_size == info["bytes"]
    assert_user_error(cli("make-data", "stdlib", "--package", "no_such_pkg", "--out",
                          tmp_path / "x.txt"), "--package")  # fmt: skip
