"""Numbers that are not numbers: nan, infinities and negative seeds, refused before anything runs.

Every case goes through the CLI as a user runs it: exit code 2, one ``error:`` line on
standard error, no traceback, and nothing written.
"""

from __future__ import annotations

import pytest
from user_errors import assert_user_error

from artifactlab.checks import at_least, finite, magnitude, seed_value
from artifactlab.errors import InputError

TRIPLES = "".join(f"t{i}\tt{(i * 3) % 7}\tt{(i * 5) % 7}\n" for i in range(7))
TOY = """\
trial: toy-artifacts
base:
  data: {V: 8, N: 12}
  model: {d_model: 8, n_heads: 2}
  train: {max_steps: 5}
"""
TRUTH = """\
trial: truth-completion
base:
  data: {source: grammar}
  model: {kind: ngram}
"""


def listing(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture()
def triples(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(TRIPLES)
    return path


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--lr", "-inf"], "--lr"),
        (["--loss-tol", "nan"], "--loss-tol"),
        (["--loss-tol", "inf"], "--loss-tol"),
        (["--weight-decay", "nan"], "--weight-decay"),
        (["--weight-decay", "-1"], "--weight-decay"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**64)], "--seed"),
        (["--model", "ngram", "--smoothing", "nan"], "smoothing"),
        (["--model", "ngram", "--smoothing", "inf"], "smoothing"),
    ],
)
def test_train_refuses(cli, tmp_path, triples, args, needle):
    before = listing(tmp_path)
    res = cli("train", "--data", triples, "--out", tmp_path / "run", "--quiet", *args)
    assert_user_error(res, needle)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("tau", ["nan", "inf", "-inf", "0", "1"])
def test_artifacts_refuses_tau(cli, tiny_run, tau):
    before = listing(tiny_run)
    assert_user_error(cli("artifacts", tiny_run, "--tau", tau, "--quiet"), "--tau")
    assert listing(tiny_run) == before


@pytest.mark.parametrize(
    "args, needle",
    [
        (["world", "grammar", "-p", "holdout=nan"], "holdout"),
        (["world", "siblings", "-p", "unrelated=inf"], "unrelated"),
        (["world", "grammar", "--seed", "-1"], "seed"),
        (["world", "family", "--seed", "-5"], "seed"),
        (["random", "--vocab", "8", "--triples", "10", "--seed", "-1"], "seed"),
    ],
)
def test_make_data_refuses(cli, tmp_path, args, needle):
    res = cli("make-data", *args, "--out", tmp_path / "out")
    assert_user_error(res, needle)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "text, needle",
    [
        (TOY.replace("max_steps: 5", "max_steps: 5, lr: .nan"), "train.lr"),
        (TOY.replace("max_steps: 5", "max_steps: 5, lr: .inf"), "train.lr"),
        (TOY.replace("max_steps: 5", "max_steps: 5, loss_tol: .nan"), "train.loss_tol"),
        (TOY.replace("max_steps: 5", "max_steps: 5, weight_decay: -1"), "--weight-decay"),
        (TOY.replace("max_steps: 5", "max_steps: 5, seed: -1"), "--seed"),
        (TOY + "  eval: {taus: [.inf]}\n", "eval.taus"),
        (TOY + "  eval: {taus: [0.5, .nan]}\n", "eval.taus"),
        (TOY.replace("d_model: 8, n_heads: 2", "kind: ngram, smoothing: .nan"), "smoothing"),
        (TOY.replace("N: 12", "N: 12, seed: -2"), "data.seed"),
        (TOY + "seeds: [0, -1]\n", "seed"),
        (TRUTH.replace("source: grammar", "source: grammar, params: {holdout: .nan}"), "holdout"),
        (TRUTH.replace("source: grammar", "source: siblings, params: {unrelated: .inf}"), "unr"),
        (TRUTH.replace("source: grammar", "source: grammar, params: {holdout: true}"), "holdout"),
        (TRUTH.replace("source: grammar", "source: grammar, params: {n_nouns: 2.5}"), "n_nouns"),
        (TRUTH.replace("source: grammar", "source: grammar, seed: -1"), "data.seed"),
        (TRUTH + "seeds: [-3]\n", "seed"),
        (TRUTH + "  train: {lr: .nan}\n", "train.lr"),
    ],
)
def test_sweep_file_refuses(cli, tmp_path, text, needle):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    err = assert_user_error(cli("sweep", "run", path, "--quiet"), needle)
    assert "s.yaml:" in err  # the line at fault is named
    assert listing(tmp_path) == ["s.yaml"]  # no results store


def test_library_refuses_negative_seeds():
    from artifactlab.data import random_triples
    from artifactlab.data.worlds import WORLDS
    from artifactlab.experiments.compare_trial import TruthData
    from artifactlab.train import TrainConfig

    with pytest.raises(InputError, match="seed"):
        random_triples(V=4, N=2, seed=-1)
    for world in WORLDS.values():
        with pytest.raises(InputError, match="seed"):
            world.build(seed=-1)
    with pytest.raises(InputError, match="seed"):
        TrainConfig(seed=-1)
    with pytest.raises(InputError, match="data.seed"):
        TruthData("grammar", seed=-1)
    with pytest.raises(InputError, match="data.params.holdout"):
        TruthData("grammar", params={"holdout": float("nan")})


def test_checks():
    assert seed_value("s", 0) == 0 and seed_value("s", 2**63 - 1) == 2**63 - 1
    for bad in (-1, 2**63, True, 1.0, None):
        with pytest.raises(InputError):
            seed_value("s", bad)
    with pytest.raises(InputError, match="finite"):
        finite("x", 10**400)  # beyond float range
    with pytest.raises(InputError, match=r"10\^5,000"):
        at_least("x", -(10**5000), 0)  # never str() of a huge integer
    assert magnitude(999) == "999"
    assert magnitude(10**15) == "1.0 x 10^15"
    assert magnitude(10**16 - 1) == "1.0 x 10^16"  # 9.99... rounds up
    assert magnitude(13**3000) == "6.8 x 10^3,341"
