"""Exports of trained models to other tools (TransformerLens); those tools are imported lazily.

Example
-------
>>> from artifactlab.export import to_transformer_lens
>>> from artifactlab.models import ToyTransformer, ToyTransformerConfig
>>> model = ToyTransformer(ToyTransformerConfig(V=4, d_model=8, n_heads=2))
>>> state, cfg = to_transformer_lens(model)
>>> state["embed.W_E"].shape, cfg["n_layers"]
(torch.Size([4, 8]), 1)
"""

from artifactlab.export.transformer_lens import (
    export_transformer_lens,
    load_transformer_lens,
    tl_next_token_logits,
    to_transformer_lens,
)

__all__ = [
    "export_transformer_lens",
    "load_transformer_lens",
    "tl_next_token_logits",
    "to_transformer_lens",
]
