import csv
import json

import numpy as np
import pytest

from artifactlab.errors import InputError
from artifactlab.experiments.compare import parse_models, summarise, sweep_yaml
from artifactlab.experiments.compare_trial import TRUTH_COMPLETION, dataset_of
from artifactlab.experiments.kinds import SectionError


def test_compare_on_a_world_writes_table_plot_and_summary(cli, tmp_path):
    out = tmp_path / "cmp"
    res = cli(
        "compare", "--data", "siblings", "--models", "ngram,cp,attn", "--seeds", "2",
        "--out", out, "--workers", "1", "--quiet", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert [r["model"] for r in summary["rows"]] == ["ngram", "cp", "attn"]
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert len(rows) == 3 * 2
    for row in rows:
        n_art = int(row["n_artifacts@0.5"])
        assert int(row["generalizations@0.5"]) + int(row["hallucinations@0.5"]) == n_art
        assert 0 <= float(row["tail_mrr"]) <= 1
    ngram = [r for r in rows if r["model.kind"] == "ngram"]
    assert all(int(r["n_artifacts@0.5"]) == 0 for r in ngram)  # the perfect fit has none
    for name in ("compare.png", "compare_summary.txt", "compare.yaml"):
        assert (out / name).stat().st_size > 0
    again = cli("compare", "--data", "siblings", "--models", "ngram,cp,attn", "--seeds", "2",
                "--out", out, "--workers", "1", "--quiet", "--json")  # fmt: skip
    assert again.exit_code == 0 and json.loads(again.stdout) == summary  # resumed, not retrained


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--data", "atlantis"), "not a folder, a triple file or a known dataset"),
        (("--data", "siblings", "--models", "ngram,gpt5"), "unknown model(s) gpt5"),
        (("--data", "siblings", "--models", ","), "--models: is empty"),
        (("--data", "siblings", "--seeds", "0"), "--seeds: must be >= 1"),
        (("--data", "siblings", "-p", "n_cats=2"), "world siblings has no parameter 'n_cats'"),
        (("--data", "siblings", "-p", "family_size=1"), "siblings family_size: must be >= 2"),
        (("--data", "nations", "-p", "split=0.2"), "knowledge graph nations has no parameter"),
        (("--data", "grammar.txt.nope", "-p", "holdout=0.2"), "takes no parameters"),
    ],
)
def test_bad_compare_inputs(cli, tmp_path, args, words):
    res = cli("compare", *args, "--out", tmp_path / "o", "--quiet")
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not (tmp_path / "o").exists()


def test_truth_completion_validation():
    kind = TRUTH_COMPLETION
    cfg = kind.validate({"seed": 3, "data": {"source": "grammar", "params": {"n_nouns": 4}}})
    assert cfg["model"]["kind"] == "attn" and cfg["model"]["V"] == dataset_of(cfg).vocab.V
    with pytest.raises(SectionError) as info:
        kind.validate({"seed": 0, "data": {"source": "grammar", "params": {"n_noun": 4}}})
    assert info.value.loc == ("data", "source") and "n_noun" in info.value.problem
    with pytest.raises(SectionError) as info:
        kind.validate({"seed": 0, "data": {"source": "nations", "params": {"x": 1}}})
    assert "a knowledge graph takes only relations and holdout" in info.value.problem
    with pytest.raises(SectionError):
        kind.validate({"seed": 0, "data": {"source": "siblings"}, "model": {"kind": "lstm"}})


def test_data_defaults_are_part_of_the_trial_identity(tmp_path):
    from artifactlab.data.worlds import WORLDS

    kind = TRUTH_COMPLETION
    implicit = kind.validate({"seed": 0, "data": {"source": "family"}})
    explicit = kind.validate({"seed": 0, "data": {"source": "family", "params": {"holdout": 0.2}}})
    assert implicit["data"]["params"] == WORLDS["family"].defaults
    assert implicit == explicit  # the same trial, so the same hash
    path = tmp_path / "t.tsv"
    path.write_text("".join(f"e{i} r e{i + 1}\n" for i in range(20)))
    file_cfg = kind.validate({"seed": 0, "data": {"source": str(path)}})
    assert file_cfg["data"]["params"] == {"holdout": 0.1}
    assert "digest" not in implicit["data"]  # worlds and KGs have none
    assert kind.validate(file_cfg) == file_cfg  # a given digest is checked, not trusted
    assert len(dataset_of(file_cfg).train.tuples) == 18
    before = dataset_of(file_cfg).train.tuples
    path.write_text("".join(f"e{i + 1} r e{i}\n" for i in range(20)))  # edited, same tokens
    edited = kind.validate({"seed": 0, "data": {"source": str(path)}})
    assert edited["data"]["digest"] != file_cfg["data"]["digest"]
    assert kind.validate(file_cfg) == edited  # the stale digest is replaced
    after = dataset_of(edited).train.tuples  # the edited file, not the cached old one
    assert after.shape == before.shape and not np.array_equal(after, before)


def test_sweep_yaml_and_presets():
    assert parse_models("cp, attn,cp") == ["cp", "attn"]
    with pytest.raises(InputError):
        parse_models("cp,foo")
    text = sweep_yaml("family", ["attn-mlp"], seeds=2, params={"n_families": 2})
    assert "model.kind: attn-mlp" in text and "n_families: 2" in text
    cfg = TRUTH_COMPLETION.validate({"seed": 0, "data": {"source": "siblings"},
                                     "model": {"kind": "attn-mlp"}})  # fmt: skip
    assert cfg["model"]["kind"] == "attn" and cfg["model"]["mlp"] is True


def test_summary_is_a_mean_over_seeds(tmp_path):
    path = tmp_path / "compare.csv"
    columns = ["model.kind", "model.mlp", "seed", "params_total", "train_accuracy", "test_accuracy",
               "tail_mrr", "tail_hits10", "n_artifacts@0.5", "generalizations@0.5",
               "hallucinations@0.5"]  # fmt: skip
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerow(["attn", "True", 0, 10, 1, 0.5, 0.2, 0.4, 10, 4, 6])
        writer.writerow(["attn", "True", 1, 10, 1, 0.7, 0.4, 0.6, 20, 6, 14])
        writer.writerow(["cp", "", 0, 5, 1, 0.1, 0.1, 0.2, 3, 1, 2])
    summary = summarise(path)
    rows = {r["model"]: r for r in summary["rows"]}
    assert rows["attn-mlp"]["seeds"] == 2 and rows["attn-mlp"]["test_accuracy"] == 0.6
    assert rows["attn-mlp"]["hallucinations@0.5"] == 10 and rows["cp"]["tail_mrr"] == 0.1
    assert [(t["model"], t["seed"], t["hallucinations@0.5"]) for t in summary["trials"]] == [
        ("attn-mlp", 0, 6), ("attn-mlp", 1, 14), ("cp", 0, 2)
    ]  # fmt: skip
    per_seed, means = summary["text"].split("\n\n")
    assert per_seed.splitlines()[4].startswith("attn-mlp | 1 | 10 |")  # model, seed, params
    assert means.splitlines()[3].startswith("attn-mlp | 2 | 10 |")  # model, seeds, params


def test_grammar_counts_harmless_artifacts_among_the_hallucinations(cli, tmp_path):
    from artifactlab.data.worlds import WORLDS, harmless

    out = tmp_path / "g"
    res = cli("compare", "--data", "grammar", "--models", "attn", "--seeds", "1",
              "--out", out, "--workers", "1", "--quiet")  # fmt: skip
    assert res.exit_code == 0, res.output
    row = next(csv.DictReader((out / "compare.csv").open()))
    n_harmless = int(row["harmless@0.5"])
    assert 0 <= n_harmless <= int(row["hallucinations@0.5"])
    assert n_harmless <= len(harmless(WORLDS["grammar"].build(seed=0)))
    assert "of which harmless" in (out / "compare_summary.txt").read_text()
    siblings = cli("compare", "--data", "siblings", "--models", "ngram", "--seeds", "1",
                   "--out", tmp_path / "s", "--workers", "1", "--quiet")  # fmt: skip
    assert siblings.exit_code == 0 and "harmless" not in siblings.stdout.splitlines()[0]


def test_compare_on_one_triple_file(cli, tmp_path):
    path = tmp_path / "facts.tsv"
    path.write_text("".join(f"e{i}\tr{i % 2}\te{(i * 3 + 1) % 12}\n" for i in range(30)))
    out = tmp_path / "cmp"
    args = ("compare", "--data", path, "--models", "ngram,distmult", "--seeds", "1",
            "--out", out, "--workers", "1", "--quiet")  # fmt: skip
    res = cli(*args, "-p", "holdout=0.2", "--data-seed", "3")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["model.kind"] for r in rows] == ["ngram", "distmult"]
    assert {r["n_truth"] for r in rows} == {"6"} and {r["n_train"] for r in rows} == {"24"}
    assert "holdout: 0.2" in (out / "compare.yaml").read_text()
    bad = cli(*args, "-p", "holdout=2")  # a bad re-run leaves the finished one alone
    assert bad.exit_code == 2 and "holdout: must be in (0, 1)" in bad.stderr
    assert "holdout: 0.2" in (out / "compare.yaml").read_text()
    assert sorted(p.name for p in out.iterdir()) == [
        "compare", "compare.csv", "compare.png", "compare.yaml", "compare_summary.json",
        "compare_summary.txt",
    ]  # fmt: skip
    unknown = cli(*args, "-p", "n_nouns=3")
    assert unknown.exit_code == 2 and "has no parameter 'n_nouns'" in unknown.stderr


def test_data_digest_of_a_folder(tmp_path):
    from artifactlab.experiments.compare_trial import data_digest

    (tmp_path / "train.txt").write_text("a r b\nb r c\n")
    (tmp_path / "test.txt").write_text("c r a\n")
    first = data_digest(str(tmp_path))
    (tmp_path / "notes.md").write_text("not data")  # a file no loader reads
    assert data_digest(str(tmp_path)) == first
    (tmp_path / "test.txt").write_text("a r c\n")
    assert data_digest(str(tmp_path)) != first
    assert data_digest("nations") is None and data_digest("family") is None
