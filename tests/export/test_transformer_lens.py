"""Round trip: toy transformer -> TransformerLens export -> TransformerLens forward pass."""

import json

import pytest
import torch
from safetensors.torch import load_file

from artifactlab.errors import InputError
from artifactlab.export import (
    export_transformer_lens,
    load_transformer_lens,
    tl_next_token_logits,
    to_transformer_lens,
)
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor.completion import context_block

V, N_CTX, D_MODEL, N_HEADS = 12, 3, 16, 2
VOCAB = [f"tok{i}" for i in range(V)]

VARIANTS = {
    "default": {},
    "bias": {"bias": True},
    "positional": {"positional": True},
    "mlp": {"mlp": True, "d_mlp": 24},
    "two_layers": {"n_layers": 2},
    "layer_norm": {"layer_norm": True},
    "everything": {
        "n_layers": 2,
        "mlp": True,
        "bias": True,
        "positional": True,
        "layer_norm": True,
    },
}


def make_model(**options) -> ToyTransformer:
    """A tiny random model; every parameter is jittered so zero-initialised biases,
    positional embeddings and layer norms are exercised too."""
    cfg = ToyTransformerConfig(V=V, n_ctx=N_CTX, d_model=D_MODEL, n_heads=N_HEADS, **options)
    model = ToyTransformer(cfg, seed=0)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return model.eval()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_completion_tensor_matches(variant, tmp_path):
    model = make_model(**VARIANTS[variant])
    out = export_transformer_lens(model, VOCAB, tmp_path / "tl")
    rng_before = torch.get_rng_state()
    tl_model = load_transformer_lens(out)
    assert torch.equal(torch.get_rng_state(), rng_before)  # loading leaves the global RNG alone
    for m in (1, N_CTX - 1):  # every context of length 1, and all V^2 contexts of length n-1
        contexts = context_block(0, V**m, V, m)
        with torch.no_grad():
            ours = model.next_token_logits(contexts).softmax(-1)
        theirs = tl_next_token_logits(tl_model, contexts)
        assert theirs.dtype == torch.float32 and theirs.shape == (V**m, V)
        torch.testing.assert_close(theirs.softmax(-1), ours, atol=1e-5, rtol=0)


def test_saved_files_follow_hooked_transformer_convention(tmp_path):
    out = export_transformer_lens(make_model(), VOCAB, tmp_path / "tl")
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "model.safetensors",
        "vocab.json",
    ]
    state = load_file(out / "model.safetensors")
    config = json.loads((out / "config.json").read_text())
    assert json.loads((out / "vocab.json").read_text()) == VOCAB
    d_head = D_MODEL // N_HEADS
    assert state["embed.W_E"].shape == (V, D_MODEL)
    assert state["pos_embed.W_pos"].shape == (N_CTX, D_MODEL)
    for name in ("W_Q", "W_K", "W_V"):
        assert state[f"blocks.0.attn.{name}"].shape == (N_HEADS, D_MODEL, d_head)
    assert state["blocks.0.attn.W_O"].shape == (N_HEADS, d_head, D_MODEL)
    assert state["unembed.W_U"].shape == (D_MODEL, V)
    assert not any(".mlp." in k or ".ln" in k or k.startswith("ln_final") for k in state)
    # the default model has no positional embeddings and no biases: exported as zeros
    zeros = ["pos_embed.W_pos", "unembed.b_U"] + [f"blocks.0.attn.b_{x}" for x in "QKVO"]
    for key in zeros:
        assert not state[key].any(), key
    assert state["blocks.0.attn.b_Q"].shape == (N_HEADS, d_head)
    assert state["blocks.0.attn.b_O"].shape == (D_MODEL,)
    assert config["attn_only"] is True and config["normalization_type"] is None
    assert config["default_prepend_bos"] is False and config["act_fn"] == "relu"
    expected = {"d_model": D_MODEL, "n_layers": 1, "n_heads": N_HEADS, "d_head": d_head}
    assert {k: config[k] for k in expected} == expected
    assert (config["d_vocab"], config["n_ctx"]) == (V, N_CTX)


def test_mlp_keys_and_config():
    state, config = to_transformer_lens(make_model(mlp=True, d_mlp=24))
    assert state["blocks.0.mlp.W_in"].shape == (D_MODEL, 24)
    assert state["blocks.0.mlp.W_out"].shape == (24, D_MODEL)
    assert state["blocks.0.mlp.b_in"].shape == (24,)
    assert config["attn_only"] is False and config["d_mlp"] == 24


def test_different_head_widths_are_refused(tmp_path):
    model = make_model(d_head_qk=4, d_head_vo=8)
    with pytest.raises(InputError, match="d_head_qk=4 != d_head_vo=8"):
        to_transformer_lens(model)
    with pytest.raises(InputError):
        export_transformer_lens(model, VOCAB, tmp_path / "tl")
    assert not (tmp_path / "tl").exists()


def test_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "tl").mkdir()
    (tmp_path / "tl" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an empty folder"):
        export_transformer_lens(make_model(), VOCAB, tmp_path / "tl")
    assert [p.name for p in (tmp_path / "tl").iterdir()] == ["keep.txt"]


def test_empty_folder_is_accepted_and_vocab_checked(tmp_path):
    (tmp_path / "tl").mkdir()
    assert export_transformer_lens(make_model(), VOCAB, tmp_path / "tl") == tmp_path / "tl"
    with pytest.raises(InputError, match="token strings"):
        export_transformer_lens(make_model(), VOCAB[:-1], tmp_path / "other")
