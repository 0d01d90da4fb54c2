"""The contract every registered completion model keeps, over its switch combinations."""

from __future__ import annotations

import pytest
import torch

from artifactlab.errors import InputError
from artifactlab.models import MODELS, ToyTransformer, ToyTransformerConfig

V, N_CTX, D_MODEL, N_HEADS = 11, 4, 8, 2

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

CASES = [(name, switch) for name in sorted(MODELS) for switch in SWITCHES]


def build(name: str, switch: str, seed: int = 0):
    cfg_cls, model_cls = MODELS[name]
    cfg = cfg_cls(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS, **SWITCHES[switch])
    model = model_cls(cfg, seed=seed)
    if switch != "default":
        # switched-on extras start at zero / identity; make them matter for the checks below
        with torch.no_grad():
            gen = torch.Generator().manual_seed(123)
            for pname, p in model.named_parameters():
                if pname.rsplit(".", 1)[-1].startswith("b_") or "ln" in pname or pname == "W_pos":
                    p.add_(0.3 * torch.randn(p.shape, generator=gen))
    model.eval()
    return model


def tokens(B: int, T: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (B, T), generator=gen)


@pytest.fixture(params=CASES, ids=[f"{n}-{s}" for n, s in CASES])
def model(request):
    return build(*request.param)


def test_registry_entries_are_config_and_model_classes():
    assert "attn" in MODELS
    for cfg_cls, model_cls in MODELS.values():
        assert isinstance(cfg_cls, type) and isinstance(model_cls, type)
        assert issubclass(model_cls, torch.nn.Module)
        assert hasattr(cfg_cls, "to_dict")


@pytest.mark.parametrize("T", range(1, N_CTX + 1))
def test_forward_shape(model, T):
    out = model(tokens(5, T))
    assert out.shape == (5, T, V)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_causal(model):
    x = tokens(6, N_CTX, seed=1)
    with torch.no_grad():
        base = model(x)
        for j in range(1, N_CTX):
            y = x.clone()
            y[:, j] = (y[:, j] + 1 + torch.arange(6) % (V - 1)) % V  # every row changes at j
            out = model(y)
            torch.testing.assert_close(out[:, :j], base[:, :j], atol=1e-6, rtol=0)
            # not vacuous: position j itself does see the change
            assert (out[:, j] - base[:, j]).abs().max() > 1e-4


@pytest.mark.parametrize("T", range(1, N_CTX + 1))
def test_next_token_logits_is_last_position(model, T):
    x = tokens(7, T, seed=T)
    with torch.no_grad():
        full = model(x)[:, -1]
        last = model.next_token_logits(x)
    assert last.shape == (7, V)
    torch.testing.assert_close(last, full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("T", range(1, N_CTX + 1))
def test_next_token_fn_matches_next_token_logits(model, T):
    """The per-token-table fast path computes the same logits as the plain forward."""
    x = tokens(9, T, seed=10 + T)
    with torch.no_grad():
        fast = model.next_token_fn()(x)
        plain = model.next_token_logits(x)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_default_switches_have_no_extras(name):
    cfg_cls, model_cls = MODELS[name]
    m = model_cls(cfg_cls(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS), seed=0)
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


@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_seeding(case):
    name, switch = case
    cfg_cls, model_cls = MODELS[name]
    cfg = cfg_cls(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS, **SWITCHES[switch])
    state_before = torch.random.get_rng_state()
    a = model_cls(cfg, seed=3).state_dict()
    b = model_cls(cfg, seed=3).state_dict()
    c = model_cls(cfg, seed=4).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state_before)  # global RNG untouched
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    random_keys = [k for k in a if k.rsplit(".", 1)[-1].startswith("W_")]
    assert random_keys
    for key in random_keys:
        assert not torch.equal(a[key], c[key]), key


@pytest.mark.parametrize(
    "kw",
    [
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
    ],
)
def test_bad_configs_raise(kw):
    base = {"V": V, "n_ctx": N_CTX, "d_model": D_MODEL, "n_heads": N_HEADS}
    for _, (cfg_cls, _model_cls) in MODELS.items():
        with pytest.raises(InputError):
            cfg_cls(**{**base, **kw})


def test_non_divisible_ok_with_explicit_head_sizes():
    cfg = ToyTransformerConfig(V=V, d_model=10, n_heads=3, d_head_qk=4, d_head_vo=2)
    m = ToyTransformer(cfg)
    assert m(tokens(2, 3)).shape == (2, 3, V)
    assert m.n_non_embedding_params() == 3 * (2 * 10 * 4 + 2 * 10 * 2)


def test_to_dict_round_trip():
    cfg = ToyTransformerConfig(V=V, d_model=8, n_heads=2, mlp=True, bias=True)
    assert ToyTransformerConfig(**cfg.to_dict()) == cfg
