"""Run folders: atomic save, faithful load, clear errors, no pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.runs import load_run, save_run
from artifactlab.train import TrainConfig, train

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt", ".npy", ".npz", ".joblib")


def make(switches: dict | None = None):
    ds = random_triples(V=6, N=8, seed=0)
    cfg = ToyTransformerConfig(V=6, d_model=8, n_heads=2, **(switches or {}))
    model = ToyTransformer(cfg, seed=3)
    tcfg = TrainConfig(max_steps=20, lr=0.05, log_every=5, stop_at_accuracy=False)
    result = train(model, ds.tuples, tcfg)
    return ds, model, tcfg, result


@pytest.mark.parametrize(
    "switches",
    [None, {"bias": True, "layer_norm": True, "positional": True, "mlp": True, "n_layers": 2}],
)
def test_round_trip_identical_logits(tmp_path, switches):
    ds, model, tcfg, result = make(switches)
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3, extra={"data": "x.tsv"})
    assert out == tmp_path / "run"
    run = load_run(out)
    assert not run.model.training
    assert run.model.cfg == model.cfg
    x = torch.tensor([[a, b, c] for a in range(6) for b in range(6) for c in range(6)])
    with torch.no_grad():
        assert torch.equal(run.model(x), model(x))
        assert torch.equal(run.model.next_token_logits(x[:, :2]), model.next_token_logits(x[:, :2]))
    for key, value in model.state_dict().items():
        assert torch.equal(run.model.state_dict()[key], value), key
    assert run.dataset.vocab == ds.vocab
    np.testing.assert_array_equal(run.dataset.tuples, ds.tuples)
    assert run.config["seed"] == 3
    assert run.config["model_name"] == "attn"
    assert run.config["train"] == tcfg.to_dict()
    assert run.config["model"] == model.cfg.to_dict()
    assert run.config["params_total"] == sum(p.numel() for p in model.parameters())
    assert run.config["result"]["steps"] == result.steps
    assert run.config["data"] == "x.tsv"
    assert "provenance" in run.config


def test_into_existing_empty_folder(tmp_path):
    ds, model, tcfg, result = make()
    (tmp_path / "run").mkdir()
    save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    assert (tmp_path / "run" / "model.safetensors").is_file()
    # no temporary folder is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_non_empty_folder_raises(tmp_path):
    ds, model, tcfg, result = make()
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(InputError) as info:
        save_run(target, model, ds, tcfg, result, seed=3)
    assert str(target) in str(info.value)
    assert (target / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    # a second save over a finished run is refused too
    save_run(tmp_path / "run2", model, ds, tcfg, result, seed=3)
    with pytest.raises(InputError):
        save_run(tmp_path / "run2", model, ds, tcfg, result, seed=3)


@pytest.mark.parametrize("missing", ["model.safetensors", "config.json", "vocab.json", "train.tsv"])
def test_missing_file_raises(tmp_path, missing):
    ds, model, tcfg, result = make()
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    (out / missing).unlink()
    with pytest.raises(InputError) as info:
        load_run(out)
    assert missing in str(info.value)
    assert str(out) in str(info.value)


def test_not_a_folder(tmp_path):
    with pytest.raises(InputError):
        load_run(tmp_path / "nowhere")


def test_damaged_config_raises(tmp_path):
    ds, model, tcfg, result = make()
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    (out / "config.json").write_text("{not json")
    with pytest.raises(InputError):
        load_run(out)
    config = {"model_name": "no-such-model", "model": {}}
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError):
        load_run(out)


def test_no_pickle_files(tmp_path):
    ds, model, tcfg, result = make()
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    names = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert names == [
        "config.json",
        "model.safetensors",
        "train.tsv",
        "train_log.json",
        "vocab.json",
    ]
    for name in names:
        assert not name.endswith(PICKLE_SUFFIXES)
        data = (out / name).read_bytes()
        assert not data.startswith(b"\x80")  # pickle protocol 2+ opcode PROTO
        assert not data.startswith(b"PK\x03\x04")  # torch.save zip archive
    config = json.loads((out / "config.json").read_text())
    assert isinstance(config, dict)
    assert json.loads((out / "vocab.json").read_text()) == list(ds.vocab.tokens)
    log = json.loads((out / "train_log.json").read_text())
    assert log == result.log
    # safetensors header: 8-byte little-endian length, then a JSON header
    raw = (out / "model.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    assert set(header) - {"__metadata__"} == set(model.state_dict())


def test_damaged_weights_raise(tmp_path):
    ds, model, tcfg, result = make()
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    (out / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(InputError, match="damaged"):
        load_run(out)


def test_weights_of_another_shape_raise(tmp_path):
    ds, model, tcfg, result = make()
    out = save_run(tmp_path / "run", model, ds, tcfg, result, seed=3)
    config = json.loads((out / "config.json").read_text())
    config["model"]["d_model"] = 16
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="damaged"):
        load_run(out)
