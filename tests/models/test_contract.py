"""The contract every registered completion model keeps, over its variants.

Each registry entry has a :class:`Spec` here: a tiny config, its variants, the
context lengths it reads and whether it gives logits at every position (training
mode ``all``). A model registered without a spec fails
``test_every_registered_model_has_a_spec``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pydantic
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import MODELS, ToyTransformer, ToyTransformerConfig
from artifactlab.runs import load_run, save_run
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import context_block, evaluate_completion
from artifactlab.train import TrainConfig
from artifactlab.train.fit import FIT_STOP_REASON, fit_model

V, N_CTX, D_MODEL, N_HEADS = 11, 4, 8, 2
NGRAM_CTX = 3  # the n-gram model is fitted on every context up to this length: keep it short

SWITCHES = {
    "default": {},
    "bias": {"bias": True},
    "layer_norm": {"layer_norm": True},
    "positional": {"positional": True},
    "mlp": {"mlp": True, "d_mlp": 12},
    "two_layers": {"n_layers": 2},
    "qk_ne_vo": {"d_head_qk": 3, "d_head_vo": 5},
    "everything": {
        "bias": True,
        "layer_norm": True,
        "positional": True,
        "mlp": True,
        "n_layers": 2,
        "d_head_qk": 3,
        "d_head_vo": 5,
    },
}


@dataclass(frozen=True)
class Spec:
    """How the contract tests build and check one registered model."""

    config: dict  # a tiny config, V left out
    lengths: tuple[int, ...]  # context lengths next_token_logits reads
    positionwise: bool  # forward() gives logits at every position (training mode "all")
    bad: tuple[dict, ...]  # options (over config) that must raise InputError
    variants: dict[str, dict] = field(default_factory=lambda: {"default": {}})
    refused_lengths: tuple[int, ...] = ()  # context lengths that must raise InputError
    fitted: bool = False  # fitted in closed form: no trainable parameters


FACTORIZATION = Spec(
    config={"rank": 8},
    lengths=(2,),
    positionwise=False,
    bad=({"V": 0}, {"V": -1}, {"rank": 0}, {"n_ctx": 2}, {"n_ctx": 4}),
    refused_lengths=(1, 3),
)

SPECS = {
    "attn": Spec(
        config={"n_ctx": N_CTX, "d_model": D_MODEL, "n_heads": N_HEADS},
        lengths=tuple(range(1, N_CTX + 1)),
        positionwise=True,
        variants=SWITCHES,
        bad=(
            {"d_model": 10, "n_heads": 3},
            {"d_model": 8, "n_heads": 3, "d_head_qk": 4},
            {"V": 0},
            {"n_ctx": 0},
            {"d_model": 0},
            {"n_layers": 0},
            {"n_heads": 0},
            {"d_head_qk": 0},
            {"d_head_vo": 0},
            {"d_mlp": 0, "mlp": True},
            {"V": -1},
        ),
    ),
    "ngram": Spec(
        config={"n_ctx": NGRAM_CTX + 1},  # n_ctx: the longest tuple, so contexts up to NGRAM_CTX
        lengths=tuple(range(1, NGRAM_CTX + 1)),
        positionwise=True,
        variants={"default": {}, "smoothed": {"smoothing": 0.5}},
        bad=(
            {"V": 0},
            {"V": -1},
            {"n_ctx": 0},
            {"n_ctx": 1},
            {"smoothing": -1.0},
            {"smoothing": float("nan")},
            {"smoothing": float("inf")},
            {"V": 10**6, "n_ctx": 5},  # context keys would overflow int64
        ),
        refused_lengths=(NGRAM_CTX + 1,),
        fitted=True,
    ),
    "attn-mlp": Spec(
        config={"n_ctx": N_CTX, "d_model": D_MODEL, "n_heads": N_HEADS, "d_mlp": 12},
        lengths=tuple(range(1, N_CTX + 1)),
        positionwise=True,
        bad=({"d_model": 10, "n_heads": 3}, {"d_mlp": 0}, {"V": 0}),
    ),
    "cp": FACTORIZATION,
    "distmult": FACTORIZATION,
    "rescal": FACTORIZATION,
    "complex": FACTORIZATION,
}

CASES = [(name, variant) for name in sorted(MODELS) for variant in SPECS[name].variants]
IDS = [f"{n}-{v}" for n, v in CASES]
LENGTH_CASES = [(n, v, T) for n, v in CASES for T in SPECS[n].lengths]
POSITIONWISE = [(n, v) for n, v in CASES if SPECS[n].positionwise]
POSITIONWISE_LENGTHS = [(n, v, T) for n, v, T in LENGTH_CASES if SPECS[n].positionwise]


def make_config(name: str, variant: str = "default", V: int = V):
    spec = SPECS[name]
    return MODELS[name].config(V=V, **MODELS[name].preset, **spec.config, **spec.variants[variant])


@functools.cache
def dense_sample(V: int, n: int, seed: int = 0) -> np.ndarray:
    """Random tuples that observe every context of length < n, with uneven counts."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, size=(20 * V ** (n - 1), n))


@functools.cache  # shared between tests (fitting the n-gram model dominates): do not modify
def build(name: str, variant: str, seed: int = 0):
    model = MODELS[name].model_class(make_config(name, variant), seed=seed)
    if variant != "default":
        # switched-on extras start at zero / identity; make them matter for the checks below
        with torch.no_grad():
            gen = torch.Generator().manual_seed(123)
            for pname, p in model.named_parameters():
                if pname.rsplit(".", 1)[-1].startswith("b_") or "ln" in pname or pname == "W_pos":
                    p.add_(0.3 * torch.randn(p.shape, generator=gen))
    if SPECS[name].fitted:  # an unfitted count model is uniform everywhere: fit it first
        model.fit(dense_sample(V, max(SPECS[name].lengths) + 1, seed))
    model.eval()
    return model


def tokens(B: int, T: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (B, T), generator=gen)


def test_every_registered_model_has_a_spec():
    assert set(SPECS) == set(MODELS)


def test_registry_entries_are_config_and_model_classes():
    assert "attn" in MODELS
    for spec in MODELS.values():
        cfg_cls, model_cls = spec.config, spec.model_class
        assert isinstance(cfg_cls, type) and isinstance(model_cls, type)
        assert spec.description and spec.kind in MODELS
        assert issubclass(model_cls, torch.nn.Module)
        assert hasattr(cfg_cls, "to_dict")


@pytest.mark.parametrize(
    "case", POSITIONWISE_LENGTHS, ids=[f"{n}-{v}-{T}" for n, v, T in POSITIONWISE_LENGTHS]
)
def test_forward_shape(case):
    name, variant, T = case
    out = build(name, variant)(tokens(5, T))
    assert out.shape == (5, T, V)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", [n for n in sorted(MODELS) if not SPECS[n].positionwise])
def test_forward_refused_without_positions(name):
    model = build(name, "default")
    with pytest.raises(InputError, match="mode 'last'"):
        model(tokens(5, 2))


@pytest.mark.parametrize("case", POSITIONWISE, ids=[f"{n}-{v}" for n, v in POSITIONWISE])
def test_causal(case):
    model = build(*case)
    T = max(SPECS[case[0]].lengths)
    x = tokens(6, T, seed=1)
    with torch.no_grad():
        base = model(x)
        for j in range(1, T):
            y = x.clone()
            y[:, j] = (y[:, j] + 1 + torch.arange(6) % (V - 1)) % V  # every row changes at j
            out = model(y)
            torch.testing.assert_close(out[:, :j], base[:, :j], atol=1e-6, rtol=0)
            # not vacuous: position j itself does see the change
            assert (out[:, j] - base[:, j]).abs().max() > 1e-4


@pytest.mark.parametrize(
    "case", POSITIONWISE_LENGTHS, ids=[f"{n}-{v}-{T}" for n, v, T in POSITIONWISE_LENGTHS]
)
def test_next_token_logits_is_last_position(case):
    name, variant, T = case
    model = build(name, variant)
    x = tokens(7, T, seed=T)
    with torch.no_grad():
        full = model(x)[:, -1]
        last = model.next_token_logits(x)
    torch.testing.assert_close(last, full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("case", LENGTH_CASES, ids=[f"{n}-{v}-{T}" for n, v, T in LENGTH_CASES])
def test_next_token_logits_shape(case):
    name, variant, T = case
    with torch.no_grad():
        out = build(name, variant).next_token_logits(tokens(7, T, seed=T))
    assert out.shape == (7, V)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_other_context_lengths_refused(name):
    model = build(name, "default")
    for T in SPECS[name].refused_lengths:
        with pytest.raises(InputError):
            model.next_token_logits(tokens(3, T))
        with pytest.raises(InputError):
            model.next_token_fn()(tokens(3, T))


@pytest.mark.parametrize("case", LENGTH_CASES, ids=[f"{n}-{v}-{T}" for n, v, T in LENGTH_CASES])
def test_next_token_fn_matches_next_token_logits(case):
    """The fast path computes the same logits as the plain forward."""
    name, variant, T = case
    model = build(name, variant)
    x = tokens(9, T, seed=10 + T)
    with torch.no_grad():
        fast = model.next_token_fn()(x)
        plain = model.next_token_logits(x)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(n for n in MODELS if not MODELS[n].preset))
def test_default_switches_have_no_extras(name):
    m = MODELS[name].model_class(make_config(name), seed=0)
    names = [n for n, _ in m.named_parameters()]
    for n in names:
        leaf = n.rsplit(".", 1)[-1]
        assert not leaf.startswith("b_"), n
        assert leaf != "bias", n
        assert "ln" not in n, n
        assert "pos" not in n, n
        assert "mlp" not in n, n
    assert not any(isinstance(mod, torch.nn.LayerNorm) for mod in m.modules())


def test_attention_only_parameter_names():
    m = ToyTransformer(ToyTransformerConfig(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS))
    assert sorted(n for n, _ in m.named_parameters()) == sorted(
        [
            "W_E",
            "W_U",
            "blocks.0.attn.W_Q",
            "blocks.0.attn.W_K",
            "blocks.0.attn.W_V",
            "blocks.0.attn.W_O",
        ]
    )


def test_switches_add_their_parameters():
    def names(**kw):
        cfg = ToyTransformerConfig(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS, **kw)
        return {n for n, _ in ToyTransformer(cfg).named_parameters()}

    assert any(n.endswith("b_Q") for n in names(bias=True))
    assert "b_U" in names(bias=True)
    assert any("ln" in n for n in names(layer_norm=True))
    assert "W_pos" in names(positional=True)
    assert any(n.endswith("W_in") for n in names(mlp=True))
    assert any(n.startswith("blocks.1.") for n in names(n_layers=2))


def hand_count(H, d, qk, vo, layers=1, mlp=0, bias=False, ln=False):
    attn = H * (2 * d * qk + 2 * d * vo)
    if bias:
        attn += H * (2 * qk + vo) + d
    block = attn
    if mlp:
        block += 2 * d * mlp + ((mlp + d) if bias else 0)
    n_ln = (2 if mlp else 1) if ln else 0
    per_ln = (2 * d if bias else d) if ln else 0
    block += n_ln * per_ln
    return layers * block + per_ln  # + ln_final


@pytest.mark.parametrize(
    "kw,expected",
    [
        ({}, hand_count(2, 8, 4, 4)),
        ({"d_head_qk": 3, "d_head_vo": 5}, 2 * (2 * 8 * 3 + 2 * 8 * 5)),
        ({"n_layers": 2}, 2 * hand_count(2, 8, 4, 4)),
        ({"mlp": True, "d_mlp": 12}, hand_count(2, 8, 4, 4) + 2 * 8 * 12),
        ({"bias": True}, hand_count(2, 8, 4, 4, bias=True)),
        ({"layer_norm": True}, hand_count(2, 8, 4, 4) + 2 * 8),
        ({"positional": True}, hand_count(2, 8, 4, 4)),  # positional embedding is an embedding
        (
            {"bias": True, "layer_norm": True, "mlp": True, "d_mlp": 12, "n_layers": 2},
            hand_count(2, 8, 4, 4, layers=2, mlp=12, bias=True, ln=True),
        ),
    ],
)
def test_n_non_embedding_params(kw, expected):
    cfg = ToyTransformerConfig(V=V, n_ctx=N_CTX, d_model=8, n_heads=2, **kw)
    assert ToyTransformer(cfg).n_non_embedding_params() == expected


def test_n_non_embedding_params_attention_only_formula():
    assert hand_count(2, 8, 4, 4) == 256  # the docstring's example
    for H, d in [(1, 4), (2, 8), (4, 8)]:
        cfg = ToyTransformerConfig(V=V, d_model=d, n_heads=H)
        qk = vo = d // H
        assert ToyTransformer(cfg).n_non_embedding_params() == H * (2 * d * qk + 2 * d * vo)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_seeding(case):
    name, variant = case
    model_cls = MODELS[name].model_class
    cfg = make_config(name, variant)
    state_before = torch.random.get_rng_state()
    a = model_cls(cfg, seed=3).state_dict()
    b = model_cls(cfg, seed=3).state_dict()
    c = model_cls(cfg, seed=4).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state_before)  # global RNG untouched
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    params = [n for n, _ in model_cls(cfg, seed=3).named_parameters()]
    if SPECS[name].fitted:
        assert params == []  # nothing random to seed
        return
    random_keys = [k for k in a if k.rsplit(".", 1)[-1].startswith("W_")]
    assert random_keys
    for key in random_keys:
        assert not torch.equal(a[key], c[key]), key


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bad_configs_raise(name):
    spec = SPECS[name]
    for kw in spec.bad:
        with pytest.raises(InputError):
            MODELS[name].config(**{"V": V, **MODELS[name].preset, **spec.config, **kw})


def test_non_divisible_ok_with_explicit_head_sizes():
    cfg = ToyTransformerConfig(V=V, d_model=10, n_heads=3, d_head_qk=4, d_head_vo=2)
    m = ToyTransformer(cfg)
    assert m(tokens(2, 3)).shape == (2, 3, V)
    assert m.n_non_embedding_params() == 3 * (2 * 10 * 4 + 2 * 10 * 2)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_to_dict_round_trip(case):
    cfg = make_config(*case)
    assert type(cfg)(**cfg.to_dict()) == cfg


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_validates_as_a_sweep_section(name):
    adapter = pydantic.TypeAdapter(MODELS[name].config)
    cfg = make_config(name)
    assert adapter.validate_python(cfg.to_dict()) == cfg
    with pytest.raises(pydantic.ValidationError):
        adapter.validate_python({**cfg.to_dict(), "no_such_option": 1})


# ---------------------------------------------------------------- fit, evaluate, save, load

TRAIN_CASES = [(n, "default") for n in sorted(MODELS)] + [("attn", "mlp")]
TRAIN_IDS = [f"{n}-{v}" for n, v in TRAIN_CASES]


@functools.cache
def fitted(name: str, variant: str):
    """A model fitted to a tiny triple set (V=8, N=10), with its data and result."""
    ds = random_triples(V=8, N=10, seed=0)
    model = MODELS[name].model_class(make_config(name, variant, V=8), seed=0)
    train_cfg = TrainConfig(lr=0.05, max_steps=300)
    return model, ds, train_cfg, fit_model(model, ds.tuples, train_cfg)


@pytest.mark.parametrize("case", TRAIN_CASES, ids=TRAIN_IDS)
def test_fits_tiny_triples(case):
    model, ds, _, result = fitted(*case)
    assert result.stop_reason in ("loss_tol", FIT_STOP_REASON)
    assert result.loss < 0.01
    assert result.accuracy == 1.0
    assert (result.steps == 0) == SPECS[case[0]].fitted
    D = DataTensor.from_tuples(ds.tuples, 8)
    report = evaluate_completion(model.next_token_fn(), D, taus=(0.5,))
    assert report.n_contexts == 64
    assert report.consistency["train_accuracy"] == 1.0
    assert report.consistency["mean_kl"] < 0.01


@pytest.mark.parametrize("case", TRAIN_CASES, ids=TRAIN_IDS)
def test_save_load_round_trip(tmp_path, case):
    model, ds, train_cfg, result = fitted(*case)
    name = case[0]
    save_run(tmp_path / "run", model, ds, train_cfg, result, seed=0, model_name=name)
    run = load_run(tmp_path / "run")
    assert type(run.model) is type(model)
    assert run.model.cfg == model.cfg
    assert run.config["params_total"] == sum(p.numel() for p in model.parameters())
    ctx = context_block(0, 64, 8, 2)
    with torch.no_grad():
        assert torch.equal(run.model.next_token_logits(ctx), model.next_token_logits(ctx))
