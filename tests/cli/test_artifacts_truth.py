"""``artifactlab artifacts RUN --truth ...``: labels, held-out scores and bad truth files."""

import json

import numpy as np

from artifactlab.runs import load_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.labels import judge


def truth_rows(tiny_run, k: int = 6) -> list[list[str]]:
    """Tuples of the run's vocabulary that are not training tuples."""
    run = load_run(tiny_run)
    tokens = run.dataset.vocab.tokens
    train = {tuple(r) for r in run.dataset.tuples.tolist()}
    rows = []
    for a in range(len(tokens)):
        for b in range(len(tokens)):
            if len(rows) < k and (a, b, 0) not in train:
                rows.append([tokens[a], tokens[b], tokens[0]])
    return rows


def write(path, rows):
    path.write_text("".join("\t".join(r) + "\n" for r in rows))
    return path


def test_truth_fields_match_the_library(cli, tiny_run, tmp_path):
    rows = truth_rows(tiny_run)
    truth = write(tmp_path / "truth.tsv", rows)
    res = cli("artifacts", tiny_run, "--truth", truth, "--tau", 0.3, "--json", "--quiet")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["truth"]
    run = load_run(tiny_run)
    D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
    index = run.dataset.vocab.index
    ids = [[index[t] for t in r] for r in rows]
    rep = evaluate_completion(
        run.model.next_token_fn(), D, taus=(0.3,), top_k=0, truth=np.array(ids)
    )
    expected = judge(run.model.next_token_fn(), D, np.array(ids), np.array(ids), rep)
    assert data["generalizations"] == {"0.3": expected.generalizations[0.3]}
    assert data["hallucinations"]["0.3"] + data["generalizations"]["0.3"] == rep.n_artifacts[0.3]
    assert data["n_truth"] == len(rows) and data["n_test"] == len(rows)
    assert 0 <= data["test_accuracy"] <= 1 and data["test_cross_entropy"] > 0
    labels = {a["label"] for a in json.loads(res.stdout)["top_artifacts"]}
    assert labels <= {"generalization", "hallucination"}
    text = cli("artifacts", tiny_run, "--truth", truth, "--quiet")
    assert text.exit_code == 0 and "generalizations" in text.stdout and "recall of G" in text.stdout


def test_truth_folder_uses_its_test_split(cli, tiny_run, tmp_path):
    rows = truth_rows(tiny_run)
    folder = tmp_path / "world"
    folder.mkdir()
    write(folder / "truth.tsv", rows)
    write(folder / "test.tsv", rows[:2])
    data = json.loads(cli("artifacts", tiny_run, "--truth", folder, "--json", "--quiet").stdout)
    assert (data["truth"]["n_truth"], data["truth"]["n_test"]) == (len(rows), 2)


def test_unknown_truth_tokens_fail_or_skip(cli, tiny_run, tmp_path):
    rows = truth_rows(tiny_run) + [["martian", "likes", "t0"], ["venusian", "likes", "t0"]]
    truth = write(tmp_path / "truth.tsv", rows)
    res = cli("artifacts", tiny_run, "--truth", truth, "--quiet")
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "3 token(s) not in the vocabulary" in err
    assert "martian" in err and "--unknown skip" in err
    res = cli("artifacts", tiny_run, "--truth", truth, "--unknown", "skip", "--json", "--quiet")
    assert res.exit_code == 0 and "warning:" in res.stderr and "martian" in res.stderr
    data = json.loads(res.stdout)["truth"]
    assert data["n_truth"] == len(rows) - 2
    assert data["truth_unknown_tokens"] == ["martian", "likes", "venusian"]


def test_bad_truth_inputs(cli, tiny_run, tmp_path):
    res = cli("artifacts", tiny_run, "--truth", tmp_path / "missing.tsv")
    assert res.exit_code == 2 and "missing.tsv" in res.stderr
    pairs = write(tmp_path / "pairs.tsv", [["t0", "t1"]])
    res = cli("artifacts", tiny_run, "--truth", pairs)
    assert res.exit_code == 2 and "2-tuples" in res.stderr
    res = cli("artifacts", tiny_run, "--test", pairs)
    assert res.exit_code == 2 and "needs --truth" in res.stderr
    res = cli("artifacts", tiny_run, "--truth", pairs, "--unknown", "maybe")
    assert res.exit_code == 2 and "--unknown" in res.stderr


def test_truth_in_train_is_reported(cli, tiny_run, tmp_path):
    run = load_run(tiny_run)
    first = run.dataset.vocab.decode(run.dataset.tuples[0])
    truth = write(tmp_path / "t.tsv", [first, *truth_rows(tiny_run, 2)])
    res = cli("artifacts", tiny_run, "--truth", truth, "--json", "--quiet")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["truth"]["n_truth_in_train"] == 1
    assert "training n-grams" in res.stderr
