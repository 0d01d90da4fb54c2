"""Completion models, registered by name so the CLI can build them from a string.

Example
-------
>>> from artifactlab.models import MODELS
>>> sorted(MODELS)
['attn', 'complex', 'cp', 'distmult', 'ngram', 'rescal']
"""

from __future__ import annotations

from artifactlab.models.complex import ComplEx
from artifactlab.models.cp import CP
from artifactlab.models.distmult import DistMult
from artifactlab.models.factorization import FactorizationConfig, TripleFactorization
from artifactlab.models.ngram import NGramConfig, NGramModel
from artifactlab.models.rescal import RESCAL
from artifactlab.models.toy_transformer import ToyTransformer, ToyTransformerConfig

#: name -> (config class, model class); every entry is covered by tests/models/test_contract.py
MODELS: dict[str, tuple[type, type]] = {
    "attn": (ToyTransformerConfig, ToyTransformer),
    "ngram": (NGramConfig, NGramModel),
    "cp": (FactorizationConfig, CP),
    "distmult": (FactorizationConfig, DistMult),
    "rescal": (FactorizationConfig, RESCAL),
    "complex": (FactorizationConfig, ComplEx),
}

__all__ = [
    "CP",
    "MODELS",
    "RESCAL",
    "ComplEx",
    "DistMult",
    "FactorizationConfig",
    "NGramConfig",
    "NGramModel",
    "ToyTransformer",
    "ToyTransformerConfig",
    "TripleFactorization",
]
