"""Completion models, registered by name so the CLI can build them from a string.

Example
-------
>>> from artifactlab.models import MODELS
>>> sorted(MODELS)
['attn']
"""

from __future__ import annotations

from artifactlab.models.toy_transformer import ToyTransformer, ToyTransformerConfig

#: name -> (config class, model class); every entry is covered by tests/models/test_contract.py
MODELS: dict[str, tuple[type, type]] = {
    "attn": (ToyTransformerConfig, ToyTransformer),
}

__all__ = ["MODELS", "ToyTransformer", "ToyTransformerConfig"]
