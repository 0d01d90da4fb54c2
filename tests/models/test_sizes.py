"""Model sizes: the configs' parameter estimates are exact, and enormous models are refused.

A model of more than ``MAX_PARAMS`` weights is refused by its config, before any weight
is allocated, with one line that says how large the request was.
"""

from __future__ import annotations

import itertools

import pytest

from artifactlab.errors import InputError
from artifactlab.models import MODELS, parameter_counts
from artifactlab.models.config import (
    MAX_PARAMS,
    FactorizationConfig,
    NGramConfig,
    ToyTransformerConfig,
)

TRIPLES = "".join(f"t{i}\tt{(i * 3) % 7}\tt{(i * 5) % 7}\n" for i in range(7))
SWITCHES = ("mlp", "layer_norm", "bias", "positional")


@pytest.mark.parametrize("on", list(itertools.product([False, True], repeat=len(SWITCHES))))
def test_transformer_estimate_is_exact(on):
    options = dict(zip(SWITCHES, on, strict=True))
    for shape in ({}, {"n_layers": 2, "d_head_qk": 3, "d_head_vo": 5, "d_mlp": 7}):
        cfg = ToyTransformerConfig(V=11, n_ctx=4, d_model=8, n_heads=2, **options, **shape)
        model = MODELS["attn"].model_class(cfg)
        assert cfg.n_params_estimate() == parameter_counts(model).total, (options, shape)


@pytest.mark.parametrize("name", ["cp", "distmult", "rescal", "complex"])
def test_factorization_estimate_is_exact(name):
    cfg = FactorizationConfig(V=9, rank=5)
    model = MODELS[name].build(V=9, n_ctx=3, rank=5)
    assert cfg.n_params_estimate(name) == parameter_counts(model).total
    assert cfg.n_params_estimate() <= cfg.n_params_estimate(name)  # the fewest of them


def test_ngram_has_no_weights():
    assert NGramConfig(V=50, n_ctx=4).n_params_estimate() == 0


def test_limit_is_inclusive():
    rank = MAX_PARAMS // 2  # DistMult's 2 V rank weights with V = 1: exactly the limit
    assert FactorizationConfig(V=1, rank=rank).n_params_estimate() == MAX_PARAMS
    with pytest.raises(InputError, match="more than the limit"):
        FactorizationConfig(V=1, rank=rank + 1)
    with pytest.raises(InputError, match="more than the limit"):
        FactorizationConfig(V=3, rank=30_000).check_model_size("rescal")  # V rank^2


def test_sweep_file_refuses_enormous_model(cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "trial: toy-artifacts\nbase:\n  data: {V: 8, N: 12}\n"
        "  model: {d_model: 4000000000, n_heads: 2}\n"
    )
    res = cli("sweep", "run", path, "--quiet")
    assert res.exit_code == 2, res.output
    assert "parameters" in res.stderr and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize(
    "args, size",
    [
        (["--d-model", "4000000000"], "6.4 x 10^19 parameters"),
        (["--model", "cp", "--rank", "10000000000"], "1.4 x 10^11 parameters"),
        (["--model", "attn-mlp", "--d-mlp", str(10**12)], "parameters"),
        (["--n-layers", str(10**9)], "parameters"),
        (["--n-heads", str(10**9), "--d-head-qk", "1", "--d-head-vo", "1"], "parameters"),
        (["--n-layers", "1" + "0" * 4000], "x 10^4,00"),  # thousands of digits, no str()
    ],
)
def test_train_refuses_enormous_model(cli, tmp_path, args, size):
    data = tmp_path / "t.tsv"
    data.write_text(TRIPLES)
    res = cli("train", "--data", data, "--out", tmp_path / "run", "--quiet", *args)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: model options"), err
    assert "Traceback" not in res.output
    assert size in err and "GiB of float32 weights" in err and "more than the limit" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.tsv"]
