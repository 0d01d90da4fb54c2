"""``artifactlab index build|count|next`` on a small generated corpus."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from user_errors import assert_user_error

WORDS = "the a cat dog sat ran on under mat rug and then quietly".split()


def word_count(words: list[str], gram: list[str]) -> int:
    n = len(gram)
    return sum(words[i : i + n] == gram for i in range(len(words) - n + 1))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 9))) for _ in range(400)]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def index(corpus):
    from typer.testing import CliRunner

    from artifactlab.cli import app

    out = corpus.parent / "index"
    res = CliRunner().invoke(
        app, ["index", "build", str(corpus), "--tokenizer", "whitespace", "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    assert "bytes per token" in res.stdout
    return out


@pytest.fixture()
def queries(tmp_path):
    path = tmp_path / "queries.txt"
    path.write_text("the cat\n\nsat on the\nnever seen words\ncat\n", encoding="utf-8")
    return path


def test_count_in_input_order(cli, corpus, index, queries):
    words = corpus.read_text().split()
    res = cli("index", "count", index, "--queries", queries, "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["query"] for r in rows] == ["the cat", "sat on the", "never seen words", "cat"]
    assert [r["count"] for r in rows] == [word_count(words, r["query"].split()) for r in rows]
    assert rows[2]["count"] == 0 and rows[0]["count"] > 0
    assert all(len(r["tokens"]) == len(r["query"].split()) for r in rows)
    text = cli("index", "count", index, "--queries", queries)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert [int(ln.split()[0].replace(",", "")) for ln in lines] == [r["count"] for r in rows]
    assert lines[1].endswith("  sat on the")


def test_next_counts(cli, corpus, index, queries):
    words = corpus.read_text().split()
    res = cli("index", "next", index, "--queries", queries, "--top", "3", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    the_cat = rows[0]
    follow = Counter(
        words[i + 2] for i in range(len(words) - 2) if words[i : i + 2] == ["the", "cat"]
    )
    expected = sorted(follow.items(), key=lambda kv: -kv[1])[:3]
    assert [n["count"] for n in the_cat["next"]] == [c for _, c in expected]
    assert {n["text"] for n in the_cat["next"]} <= set(follow)
    assert the_cat["distinct"] == len(follow)
    assert rows[2]["next"] == [] and rows[2]["count"] == 0
    text = cli("index", "next", index, "--queries", queries, "--top", "2")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].startswith("the cat  (2 tokens, ")
    assert text.stdout.count('"') == 2 * 2 * 3  # two quoted tokens for each of three queries


def test_bpe_and_a_saved_tokenizer_give_the_same_tokens(cli, corpus, tmp_path, queries):
    res = cli("index", "build", corpus, "--tokenizer", "bpe", "--vocab-size", "300",
              "--out", tmp_path / "bpe", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "bpe" / "index.json").read_text())
    assert meta["vocab_size"] <= 300 and meta["tokenizer"]["kind"] == "bpe"  # merges run out
    saved = tmp_path / "bpe" / "tokenizer.json"
    res = cli("index", "build", corpus, "--tokenizer", saved, "--out", tmp_path / "again", "-q")
    assert res.exit_code == 0, res.output
    one = cli("index", "count", tmp_path / "bpe", "--queries", queries, "--json").stdout
    two = cli("index", "count", tmp_path / "again", "--queries", queries, "--json").stdout
    assert json.loads(one) == json.loads(two)
    assert (tmp_path / "bpe" / "tokens.npy").read_bytes() == (
        tmp_path / "again" / "tokens.npy"
    ).read_bytes()


def test_build_refuses_a_non_empty_out_unless_overwrite(cli, corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    res = cli("index", "build", corpus, "--tokenizer", "whitespace", "--out", out)
    assert_user_error(res, "already exists and is not empty", "--overwrite")
    assert (out / "keep.txt").exists()
    res = cli("index", "build", corpus, "--tokenizer", "whitespace", "--out", out, "--overwrite",
              "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert not (out / "keep.txt").exists() and (out / "index.json").exists()


@pytest.mark.parametrize(
    ("data", "needle"),
    [(b"", "is empty"), (b"\x00\x01\x02", "is binary"), (b"\xff\xfe words", "is not UTF-8")],
)
def test_build_refuses_bad_corpora(cli, tmp_path, data, needle):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(data)
    res = cli("index", "build", bad, "--tokenizer", "whitespace", "--out", tmp_path / "o")
    assert_user_error(res, str(bad), needle)
    assert not (tmp_path / "o").exists()


def test_build_refuses_bad_options(cli, corpus, tmp_path):
    out = tmp_path / "o"
    res = cli("index", "build", corpus, "--tokenizer", "bpe", "--vocab-size", "1", "--out", out)
    assert_user_error(res, "--vocab-size: must be >= 2")
    res = cli("index", "build", corpus, "--tokenizer", tmp_path / "none.json", "--out", out)
    assert_user_error(res, "neither whitespace, bpe, nor")
    res = cli("index", "build", tmp_path / "missing.txt", "--tokenizer", "bpe", "--out", out)
    assert_user_error(res, "missing.txt: no such file")
    assert not out.exists()


def test_queries_are_checked(cli, index, tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("the cat\n   \n")
    assert_user_error(
        cli("index", "count", index, "--queries", blank), "blank.txt:2: has no tokens"
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_user_error(cli("index", "next", index, "--queries", empty), "holds no queries")
    missing = tmp_path / "missing.txt"
    assert_user_error(cli("index", "count", index, "--queries", missing), "no such file")
    res = cli("index", "next", index, "--queries", blank, "--top", "0")
    assert_user_error(res, "--top: must be >= 1")


def test_bad_index_folders(cli, index, tmp_path, queries):
    assert_user_error(cli("index", "count", tmp_path, "--queries", queries), "has no index.json")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for entry in index.iterdir():
        (damaged / entry.name).write_bytes(entry.read_bytes())
    meta = json.loads((damaged / "index.json").read_text())
    (damaged / "index.json").write_text(json.dumps(meta | {"format_version": 2}))
    res = cli("index", "next", damaged, "--queries", queries)
    assert_user_error(res, "format version 2", "artifactlab index build")
    (damaged / "index.json").write_text(json.dumps(meta))
    (damaged / "tokenizer.json").write_text("{")
    assert_user_error(cli("index", "count", damaged, "--queries", queries), "tokenizer.json")
