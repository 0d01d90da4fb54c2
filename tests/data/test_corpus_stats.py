"""``D^n`` of a corpus through its index: non-zeros and observed contexts against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.data.corpus_index import CorpusIndex
from artifactlab.data.corpus_stats import distinct_ngrams, tensor_summary


@pytest.mark.parametrize(("V", "N", "seed"), [(2, 50, 0), (3, 200, 1), (7, 400, 2), (40, 300, 3)])
def test_against_brute_force(tmp_path, V, N, seed):
    ids = np.random.default_rng(seed).integers(0, V, N)
    ix = CorpusIndex.build(ids, tmp_path / "ix", vocab_size=V)
    seqs = ids.tolist()
    want = [len({tuple(seqs[i : i + n]) for i in range(N - n + 1)}) for n in range(1, 9)]
    assert distinct_ngrams(ix, 8) == want
    for row in tensor_summary(ix, 8):
        n = row["n"]
        assert row["nnz"] == want[n - 1]
        assert row["observed_contexts"] == len(
            {tuple(seqs[i : i + n - 1]) for i in range(N - n + 1)}
        )
        assert row["contexts"] == V ** (n - 1)


def test_index_stats_command(cli, tmp_path):
    import json

    corpus = tmp_path / "c.txt"
    corpus.write_text("a b a b c a b\n" * 4)
    assert cli("index", "build", corpus, "--tokenizer", "whitespace", "--out", tmp_path / "ix",
               "--quiet").exit_code == 0  # fmt: skip
    res = cli("index", "stats", tmp_path / "ix", "--max-n", "4", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["tensors"]
    assert [r["n"] for r in rows] == [2, 3, 4] and rows[0]["nnz"] > 0
    assert cli("index", "stats", tmp_path / "ix", "--max-n", "1").exit_code == 2
