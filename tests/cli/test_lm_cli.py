"""``artifactlab lm artifacts`` on a tiny GPT-2 and a run folder, both from local folders."""

from __future__ import annotations

import json

import lm_fixtures
import pytest
import torch
from user_errors import assert_user_error

from artifactlab.data.corpus_index import CorpusIndex
from artifactlab.lm.corpus_artifacts import corpus_artifacts
from artifactlab.lm.hf import load_hf_model

ESTIMATE_FIELDS = {"rate", "ci_low", "ci_high", "share", "share_ci", "n_samples", "method"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return lm_fixtures.build_world(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def run(world):
    return lm_fixtures.build_run(world)


def lm_args(world, *more: object) -> list[object]:
    return ["lm", "artifacts", "--index", world.index, "--hf-model", world.model, *more]


def test_json_per_source_and_tau_matches_the_library(cli, world):
    res = cli(
        *lm_args(world, "--context-length", 2, "--source", "corpus,uniform", "--samples", 200),
        *("--tau", 0.5, "--tau", 0.9, "--seed", 4, "--top", 3, "--device", "cpu", "--json", "-q"),
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["context_length"] == 2 and data["model"]["kind"] == "hf"
    assert [r["source"] for r in data["results"]] == ["corpus", "uniform"]
    for result in data["results"]:
        assert [e["tau"] for e in result["estimates"]] == [0.5, 0.9]
        for row in result["estimates"]:
            assert ESTIMATE_FIELDS <= set(row) and row["source"] == result["source"]
            assert row["n_samples"] == 200 and row["ci_low"] <= row["rate"] <= row["ci_high"]
    uniform = data["results"][1]
    assert 0 < len(uniform["top_artifacts"]) <= 3
    assert {"context_text", "continuation_text", "prob"} <= set(uniform["top_artifacts"][0])
    lm = load_hf_model(world.model, device="cpu")
    same = corpus_artifacts(
        lm, CorpusIndex.load(world.index), 2, samples=200, source="uniform", taus=(0.5, 0.9),
        seed=4, top=3,
    )  # fmt: skip
    assert uniform == json.loads(json.dumps(same.to_dict()))


def test_text_tables_and_artifacts(cli, world):
    res = cli(*lm_args(world, "--context-length", 2, "--source", "uniform", "--samples", 100))
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "uniform: 100 contexts, seed 0 (95% intervals)" in out
    assert "artifacts per context" in out and "in the corpus" in out
    assert "most probable artifacts (tau > 0.5):" in out and '-> "."' in out
    assert "sampling contexts (uniform)" in res.stderr  # the progress bar, off stdout


def test_a_run_folder(cli, world, run):
    res = cli(
        "lm", "artifacts", "--index", world.index, "--run", run, "--context-length", 2,
        "--source", "uniform,model", "--samples", 100, "--json", "--quiet",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["model"]["kind"] == "run" and data["model"]["window"] == 2
    assert all(r["vocab_size"] == 15 for r in data["results"])
    assert data["results"][0]["estimates"][0]["rate"] > 0


@pytest.fixture(scope="module")
def other_index(world, tmp_path_factory):
    lines = [ln + "\n" for ln in lm_fixtures.sentences(40, seed=2)] + ["a zebra .\n"]
    return lm_fixtures.index_of(lines, tmp_path_factory.mktemp("other") / "index").folder


BAD = {
    "window": (["--context-length", 17], ["--context-length: 17 tokens is longer", "16"]),
    "samples": (["--context-length", 2, "--samples", 0], ["--samples: must be >= 1, got 0"]),
    "source": (["--context-length", 2, "--source", "web"], ["--source: unknown source(s) web"]),
    "length": (["--context-length", 0], ["--context-length: must be >= 1"]),
    "tau": (["--context-length", 2, "--tau", 1.5], ["--tau"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options(cli, world, case):
    args, needles = BAD[case]
    assert_user_error(cli(*lm_args(world, *args)), *needles)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
def test_cuda_without_a_gpu(cli, world):
    res = cli(*lm_args(world, "--context-length", 2, "--device", "cuda"))
    assert_user_error(
        res,
        "--device: cuda was asked for but no CUDA GPU is visible "
        "(torch.cuda.is_available() is False)",
    )


def test_tokenizer_and_model_vocabularies_must_match(cli, world, run, other_index):
    base = ["lm", "artifacts", "--index", other_index, "--context-length", 2]
    res = cli(*base, "--hf-model", world.model)
    assert_user_error(res, "its tokenizer does not match the index's tokenizer.json")
    res = cli(*base, "--run", run)
    assert_user_error(res, "1 tokens that occur in the corpus are not in the run's vocabulary")


def test_missing_folders_and_the_choice_of_model(cli, world, run, tmp_path):
    m = ["--context-length", 2]
    assert_user_error(
        cli("lm", "artifacts", "--index", tmp_path / "no_index", "--hf-model", world.model, *m),
        "no_index: is not an index folder",
    )
    assert_user_error(
        cli("lm", "artifacts", "--index", world.index, "--hf-model", tmp_path / "no_model", *m),
        "no_model: is not a folder",
    )
    assert_user_error(
        cli("lm", "artifacts", "--index", world.index, "--run", tmp_path, *m),
        "is not a run folder",
    )
    both = cli(*lm_args(world, "--run", run, *m))
    assert_user_error(both, "--hf-model/--run: give exactly one model, not both")
    assert_user_error(
        cli("lm", "artifacts", "--index", world.index, *m), "--hf-model/--run: give exactly one"
    )
    assert_user_error(
        cli("lm", "artifacts", "--index", world.index, "--run", run, "--context-length", 3),
        "--context-length: 3 tokens is longer than the window",
    )
