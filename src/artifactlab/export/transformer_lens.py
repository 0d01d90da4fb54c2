"""Export a toy transformer to TransformerLens and check it computes the same function.

The weights are written in the legacy ``HookedTransformer`` convention (keys
``embed.W_E``, ``blocks.0.attn.W_Q`` with per-head shapes, ...), which
TransformerLens 3 loads directly and TransformerLens 4 loads through its
``convert_tl_checkpoint``. Parts the toy model lacks are filled so that the
TransformerLens model computes the same function: zero positional embeddings,
zero biases, and layer norms only when the toy model has them.

Example
-------
>>> from artifactlab.models import ToyTransformer, ToyTransformerConfig
>>> model = ToyTransformer(ToyTransformerConfig(V=5, n_ctx=3, d_model=8, n_heads=2), seed=0)
>>> state, cfg = to_transformer_lens(model)
>>> tuple(state["blocks.0.attn.W_Q"].shape), float(state["pos_embed.W_pos"].abs().sum())
((2, 8, 4), 0.0)
>>> cfg["attn_only"], cfg["normalization_type"], cfg["d_head"]
(True, None, 4)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from artifactlab.errors import InputError
from artifactlab.io import staged_folder, write_json
from artifactlab.models.toy_transformer import ToyTransformerConfig

__all__ = [
    "export_transformer_lens",
    "load_transformer_lens",
    "tl_next_token_logits",
    "to_transformer_lens",
]

_FILES = ("model.safetensors", "config.json", "vocab.json")


def _f32(t: Tensor) -> Tensor:
    return t.detach().to(device="cpu", dtype=torch.float32).contiguous().clone()


def _layer_norm(ln: nn.Module, where: str, d_model: int) -> tuple[Tensor, Tensor, float]:
    """Weight, bias (zeros when absent) and eps of a toy model's LayerNorm."""
    if not isinstance(ln, nn.LayerNorm) or tuple(ln.normalized_shape) != (d_model,):
        raise InputError(where, f"is a {type(ln).__name__}, not a LayerNorm over d_model")
    weight = ln.weight if ln.weight is not None else torch.ones(d_model)
    bias = ln.bias if ln.bias is not None else torch.zeros(d_model)
    return _f32(weight), _f32(bias), float(ln.eps)


def to_transformer_lens(model: nn.Module) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Convert a toy transformer's weights and config to the ``HookedTransformer`` convention.

    Parameters
    ----------
    model : ToyTransformer
        The model; its ``cfg`` must be a :class:`ToyTransformerConfig`.

    Returns
    -------
    state : dict of str to Tensor
        Legacy ``HookedTransformer`` state dict (float32, CPU): ``embed.W_E`` (V, d_model),
        ``pos_embed.W_pos`` (n_ctx, d_model), per layer ``attn.W_Q/W_K/W_V``
        (n_heads, d_model, d_head), ``attn.W_O`` (n_heads, d_head, d_model),
        ``attn.b_Q/b_K/b_V`` (n_heads, d_head), ``attn.b_O`` (d_model), the MLP's
        ``W_in/b_in/W_out/b_out`` and ``ln1/ln2`` ``w/b`` when present, then
        ``ln_final.w/b`` when present, ``unembed.W_U`` (d_model, V), ``unembed.b_U`` (V).
        Missing positional embeddings and biases are zeros.
    config : dict
        JSON-able config whose keys both TransformerLens 3's ``HookedTransformerConfig``
        and TransformerLens 4's ``TransformerBridgeConfig`` accept.

    Raises
    ------
    InputError
        The model is not a toy transformer, or has a shape TransformerLens cannot
        express (different query/key and value head widths, mixed layer-norm eps).
    """
    cfg = getattr(model, "cfg", None)
    if not isinstance(cfg, ToyTransformerConfig):
        raise InputError(
            "model", f"{type(model).__name__} is not a ToyTransformer", "export an `attn` model"
        )
    if cfg.qk != cfg.vo:
        raise InputError(
            "model options d_head_qk/d_head_vo",
            f"d_head_qk={cfg.qk} != d_head_vo={cfg.vo}, but TransformerLens has one d_head",
            "export only models trained with equal query/key and value head widths",
        )
    H, d, dh, V = cfg.n_heads, cfg.d_model, cfg.qk, cfg.V
    state: dict[str, Tensor] = {"embed.W_E": _f32(model.W_E)}
    state["pos_embed.W_pos"] = (
        _f32(model.W_pos) if model.W_pos is not None else torch.zeros(cfg.n_ctx, d)
    )
    eps: set[float] = set()

    def put_ln(prefix: str, ln: nn.Module) -> None:
        w, b, e = _layer_norm(ln, f"model {prefix}", d)
        state[f"{prefix}.w"], state[f"{prefix}.b"] = w, b
        eps.add(e)

    for i, block in enumerate(model.blocks):
        p, attn = f"blocks.{i}", block.attn
        if cfg.layer_norm:
            put_ln(f"{p}.ln1", block.ln1)
        for name in ("W_Q", "W_K", "W_V", "W_O"):
            state[f"{p}.attn.{name}"] = _f32(getattr(attn, name))
        for name, shape in (("b_Q", (H, dh)), ("b_K", (H, dh)), ("b_V", (H, dh)), ("b_O", (d,))):
            state[f"{p}.attn.{name}"] = (
                _f32(getattr(attn, name)) if attn.bias else torch.zeros(shape)
            )
        if block.mlp is not None:
            if cfg.layer_norm:
                put_ln(f"{p}.ln2", block.ln2)
            mlp, width = block.mlp, cfg.mlp_width
            state[f"{p}.mlp.W_in"] = _f32(mlp.W_in)
            state[f"{p}.mlp.b_in"] = _f32(mlp.b_in) if mlp.bias else torch.zeros(width)
            state[f"{p}.mlp.W_out"] = _f32(mlp.W_out)
            state[f"{p}.mlp.b_out"] = _f32(mlp.b_out) if mlp.bias else torch.zeros(d)
    if cfg.layer_norm:
        put_ln("ln_final", model.ln_final)
    if len(eps) > 1:
        raise InputError(
            "model layer norms",
            f"use different eps values {sorted(eps)}",
            "TransformerLens has one eps",
        )
    state["unembed.W_U"] = _f32(model.W_U)
    state["unembed.b_U"] = _f32(model.b_U) if model.b_U is not None else torch.zeros(V)

    config: dict[str, Any] = {
        "model_name": "artifactlab-toy",
        "d_model": d,
        "n_layers": cfg.n_layers,
        "n_heads": H,
        "d_head": dh,
        "d_vocab": V,
        "n_ctx": cfg.n_ctx,
        "d_mlp": cfg.mlp_width if cfg.mlp else None,
        "attn_only": not cfg.mlp,
        "act_fn": "relu",
        "normalization_type": "LN" if cfg.layer_norm else None,
        "eps": eps.pop() if eps else 1e-5,
        "positional_embedding_type": "standard",
        "attention_dir": "causal",
        "use_attn_scale": True,  # scores / sqrt(d_head), as in the toy model
        "default_prepend_bos": False,
        "tokenizer_prepends_bos": False,
        "init_weights": False,  # every weight is loaded from the checkpoint
    }
    return state, config


def export_transformer_lens(model: nn.Module, vocab_tokens: list[str], out_dir: str | Path) -> Path:
    """Write ``model.safetensors``, ``config.json`` and ``vocab.json`` into a new folder.

    The folder is written under a temporary name and renamed when complete.

    Parameters
    ----------
    model : ToyTransformer
        The model to export.
    vocab_tokens : list of str
        Token strings in id order, one per vocabulary entry.
    out_dir : str or Path
        The folder to create; it must not exist yet, or be empty.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    InputError
        ``out_dir`` is not empty, the vocabulary does not fit the model, or the
        model cannot be expressed (see :func:`to_transformer_lens`).
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(
            str(out), "already exists and is not an empty folder", "choose a new --out folder"
        )
    state, config = to_transformer_lens(model)
    tokens = list(vocab_tokens)
    if len(tokens) != config["d_vocab"] or not all(isinstance(t, str) for t in tokens):
        raise InputError(
            "vocabulary", f"needs {config['d_vocab']} token strings, got {len(tokens)} items"
        )
    with staged_folder(out) as tmp:  # renamed onto out only when every file is written
        save_file(
            state,
            tmp / "model.safetensors",
            metadata={"format": "pt", "convention": "HookedTransformer"},
        )
        write_json(tmp / "config.json", config)
        write_json(tmp / "vocab.json", tokens, indent=None)
    return out


def load_transformer_lens(out_dir: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Load an exported folder into TransformerLens.

    TransformerLens 4: ``TransformerBridge.boot_native(cfg)``, then the checkpoint
    through ``convert_tl_checkpoint`` with ``strict=True``. TransformerLens 3:
    ``HookedTransformer(HookedTransformerConfig(**cfg))`` and the checkpoint as is.

    Parameters
    ----------
    out_dir : str or Path
        A folder written by :func:`export_transformer_lens`.
    device : str or torch.device
        Where the model lives.

    Returns
    -------
    torch.nn.Module
        The TransformerLens model, in eval mode.

    Raises
    ------
    InputError
        TransformerLens is not installed, or the folder is not an export.
    """
    path = Path(out_dir)
    for name in _FILES:
        if not (path / name).is_file():
            raise InputError(str(path), f"is not a TransformerLens export (no {name})")
    try:
        import transformer_lens  # noqa: F401
    except ImportError:
        raise InputError(
            "transformer_lens", "is not installed", "pip install artifactlab[lens]"
        ) from None
    try:
        model = _build(path, str(device))
    except InputError:
        raise
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, RuntimeError) as err:
        raise InputError(str(path), f"export is damaged ({type(err).__name__}: {err})") from None
    return model.eval()


def _build(path: Path, device: str) -> nn.Module:
    """Build the TransformerLens model of an export folder (TL 4 bridge, else TL 3)."""
    cfg = {**json.loads((path / "config.json").read_text()), "device": device}
    state = load_file(path / "model.safetensors")
    # Module construction draws from the global RNG even with init_weights=False: keep it untouched.
    with torch.random.fork_rng(devices=[]):
        try:
            from transformer_lens.utilities.tl_checkpoint_conversion import convert_tl_checkpoint
        except ImportError:  # TransformerLens 3
            return _load_hooked_transformer(cfg, state)
        from transformer_lens.config import TransformerBridgeConfig
        from transformer_lens.model_bridge import TransformerBridge
        from transformer_lens.model_bridge.sources import native  # noqa: F401  (adds boot_native)

        bridge_cfg = TransformerBridgeConfig.from_dict(cfg)
        model = TransformerBridge.boot_native(bridge_cfg, device=device)
        model.load_state_dict(convert_tl_checkpoint(state, bridge_cfg), strict=True)
        return model


def _load_hooked_transformer(cfg: dict[str, Any], state: dict[str, Tensor]) -> nn.Module:
    """TransformerLens 3: build a ``HookedTransformer`` and load the legacy checkpoint."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    with warnings.catch_warnings():  # TL 3 flags HookedTransformer as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        model = HookedTransformer(HookedTransformerConfig(**cfg))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith((".mask", ".IGNORE"))]  # buffers, not weights
    if missing or unexpected:
        raise InputError(
            "TransformerLens checkpoint", f"missing keys {missing}, unexpected keys {unexpected}"
        )
    return model


@torch.no_grad()
def tl_next_token_logits(tl_model: nn.Module, contexts: Tensor) -> Tensor:
    """Next-token logits from TransformerLens's own forward pass, last position only.

    The raw token tensor goes to ``forward``: no BOS token is prepended and
    positions start at 0, as in the toy model.

    Parameters
    ----------
    tl_model : torch.nn.Module
        A model from :func:`load_transformer_lens`.
    contexts : Tensor
        Token ids, shape (B, m) with 1 <= m <= n_ctx.

    Returns
    -------
    Tensor
        Logits, shape (B, V), float32 on the CPU.
    """
    if contexts.dim() != 2 or contexts.shape[1] < 1 or contexts.is_floating_point():
        raise InputError(
            "contexts", f"need integer token ids of shape (B, m), got {tuple(contexts.shape)}"
        )
    device = next(tl_model.parameters()).device
    logits = tl_model(contexts.to(device=device, dtype=torch.int64), return_type="logits")
    if logits.shape[:2] != contexts.shape:
        raise InputError(
            "TransformerLens forward",
            f"returned shape {tuple(logits.shape)} for {tuple(contexts.shape)}",
        )
    return logits[:, -1, :].float().cpu()
