"""Run folders that disagree with themselves: each is refused, naming the file at fault.

Each case damages a copy of a trained run folder and runs ``artifactlab artifacts`` on it
as a user would: exit code 2, one ``error:`` line naming the file, no traceback, and the
folder left as it was.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from user_errors import assert_user_error

from artifactlab.runs import load_run, vocab_sha256


def edit_json(path, change) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def edit_config(run, change) -> None:
    def apply(config):
        change(config)
        return config

    edit_json(run / "config.json", apply)


def other_shape(run) -> None:
    weights = load_file(run / "model.safetensors")
    weights["W_E"] = torch.zeros(weights["W_E"].shape[0], weights["W_E"].shape[1] + 1)
    save_file(weights, run / "model.safetensors")


def missing_weight(run) -> None:
    weights = load_file(run / "model.safetensors")
    del weights["W_U"]
    save_file(weights, run / "model.safetensors")


DAMAGES = {
    "longer vocab": (lambda r: edit_json(r / "vocab.json", lambda v: [*v, "extra"]), "vocab.json"),
    "shorter vocab": (lambda r: edit_json(r / "vocab.json", lambda v: v[:-1]), "vocab.json"),
    "reordered vocab": (lambda r: edit_json(r / "vocab.json", lambda v: v[::-1]), "vocab.json"),
    "repeated token": (lambda r: edit_json(r / "vocab.json", lambda v: [*v[:-1], v[0]]), "vocab"),
    "not strings": (lambda r: edit_json(r / "vocab.json", lambda v: [*v[:-1], 7]), "vocab.json"),
    "vocab not a list": (lambda r: edit_json(r / "vocab.json", lambda v: {"a": 1}), "vocab.json"),
    "weights of another shape": (other_shape, "model.safetensors"),
    "a weight missing": (missing_weight, "model.safetensors"),
    "config d_model": (
        lambda r: edit_config(r, lambda c: c["model"].update(d_model=2 * c["model"]["d_model"])),
        "model.safetensors",
    ),
    "config enormous": (
        lambda r: edit_config(r, lambda c: c["model"].update(d_model=4_000_000_000)),
        "config.json",
    ),
    "config unknown option": (
        lambda r: edit_config(r, lambda c: c["model"].update(colour="red")),
        "config.json",
    ),
    "unknown token in train.tsv": (
        lambda r: (r / "train.tsv").open("a").write("t0\tnot-a-token\tt1\n"),
        "train.tsv",
    ),
    "longer tuples in train.tsv": (
        lambda r: (r / "train.tsv").write_text("t0\tt1\tt2\tt3\n"),
        "train.tsv",
    ),
}


@pytest.fixture()
def run(tiny_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    return copy


@pytest.mark.parametrize("case", DAMAGES)
def test_damaged_run_folder_is_refused(cli, run, case):
    damage, file_at_fault = DAMAGES[case]
    damage(run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    err = assert_user_error(cli("artifacts", run, "--quiet"), file_at_fault)
    assert str(run) in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_reordered_vocab_says_it_is_not_the_trained_one(cli, run):
    edit_json(run / "vocab.json", lambda v: v[::-1])
    err = assert_user_error(cli("artifacts", run, "--quiet"), "vocab.json")
    assert "not those the model was trained with" in err


def test_config_records_vocab_size_and_hash(tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())
    tokens = json.loads((tiny_run / "vocab.json").read_text())
    assert config["vocab_size"] == len(tokens) == config["model"]["V"]
    assert config["vocab_sha256"] == vocab_sha256(tokens)
    assert vocab_sha256(tokens) != vocab_sha256(tokens[::-1])


def test_old_folder_without_hash_still_loads(cli, run):
    edit_config(run, lambda c: [c.pop("vocab_sha256"), c.pop("vocab_size")])
    assert load_run(run).model.cfg.V == len(json.loads((run / "vocab.json").read_text()))
    res = cli("artifacts", run, "--quiet", "--json")
    assert res.exit_code == 0, res.output


def test_config_json_holds_no_nan(tmp_path):
    from artifactlab.data import random_triples
    from artifactlab.models import ToyTransformer, ToyTransformerConfig
    from artifactlab.runs import save_run
    from artifactlab.train import TrainConfig, TrainResult

    ds = random_triples(V=5, N=4, seed=0)
    model = ToyTransformer(ToyTransformerConfig(V=5, d_model=4, n_heads=1), seed=0)
    result = TrainResult(3, "max_steps", math.nan, 0.5, 0.1, [{"step": 0, "loss": math.inf}])
    out = save_run(tmp_path / "run", model, ds, TrainConfig(), result, seed=0)
    for name in ("config.json", "train_log.json"):
        text = (out / name).read_text()
        assert "NaN" not in text and "Infinity" not in text, name
    assert json.loads((out / "config.json").read_text())["result"]["loss"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left
