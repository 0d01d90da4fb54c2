"""Completion models, registered by name so the CLI and sweep files can build them from a string.

The registry (:data:`MODELS`, :mod:`artifactlab.models.registry`) and the configs
(:mod:`artifactlab.models.config`) import no torch; the model classes are imported
on first use.

Example
-------
>>> from artifactlab.models import MODELS
>>> sorted(MODELS)
['attn', 'attn-mlp', 'complex', 'cp', 'distmult', 'ngram', 'rescal']
>>> MODELS["cp"].model_class.__name__
'CP'
"""

from __future__ import annotations

import importlib
from typing import Any

from artifactlab.models.config import FactorizationConfig, NGramConfig, ToyTransformerConfig
from artifactlab.models.registry import (
    MODELS,
    ModelSpec,
    ParameterCounts,
    find_model,
    parameter_counts,
)

_LAZY = {
    "CP": "cp",
    "ComplEx": "complex",
    "DistMult": "distmult",
    "RESCAL": "rescal",
    "NGramModel": "ngram",
    "ToyTransformer": "toy_transformer",
    "TripleFactorization": "factorization",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"artifactlab.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'artifactlab.models' has no attribute {name!r}")


__all__ = [
    "CP",
    "MODELS",
    "RESCAL",
    "ComplEx",
    "DistMult",
    "FactorizationConfig",
    "ModelSpec",
    "NGramConfig",
    "NGramModel",
    "ParameterCounts",
    "ToyTransformer",
    "ToyTransformerConfig",
    "TripleFactorization",
    "find_model",
    "parameter_counts",
]
