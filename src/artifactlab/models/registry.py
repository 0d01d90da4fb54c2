"""The model registry: every name that ``train``, ``compare`` and sweep files accept.

The entries are named specs, free of torch: listing models imports no model code.

A :class:`ModelSpec` names a config class (whose fields are the model's options), the
model class (imported on first use), a one-line description and a preset: option values
that the name fixes (``attn-mlp`` is ``attn`` with ``mlp=True``). Specs that share a
model class share its ``kind``, the name written into run folders and trial configs,
so one model has one identity whichever name built it.

Example
-------
>>> sorted(MODELS)
['attn', 'attn-mlp', 'complex', 'cp', 'distmult', 'ngram', 'rescal']
>>> spec = MODELS["attn-mlp"]
>>> spec.kind, spec.preset, spec.config.__name__
('attn', {'mlp': True}, 'ToyTransformerConfig')
>>> spec.build_config(V=5, n_ctx=3).mlp
True
>>> ParameterCounts(25_216, 16_384).describe()
'16,384 non-embedding parameters (25,216 in all)'
>>> ParameterCounts(6_624, None).describe()
'6,624 parameters (all weights; no embedding split)'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from artifactlab.errors import InputError
from artifactlab.models.config import (
    FactorizationConfig,
    NGramConfig,
    ToyTransformerConfig,
    option_fields,
)


@dataclass(frozen=True)
class ModelSpec:
    """One registered model name.

    Attributes
    ----------
    name : str
        What users type (``train --model NAME``).
    kind : str
        The canonical model name stored in run folders and trial configs.
    config : type
        The config dataclass; its fields other than V and n_ctx are the options.
    model_path : str
        ``"module:Class"`` of the model class, imported on first use.
    description : str
        One line for ``artifactlab ls models``.
    preset : dict
        Option values this name fixes.
    """

    name: str
    kind: str
    config: type
    model_path: str
    description: str
    preset: dict[str, Any] = field(default_factory=dict)

    @property
    def model_class(self) -> type:
        """The model class (imports torch)."""
        module, _, cls = self.model_path.partition(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def options(self) -> list[str]:
        """The options this name takes: the config's fields except V, n_ctx and the preset."""
        return [name for name in option_fields(self.config) if name not in self.preset]

    def build_config(self, V: int, n_ctx: int, **options: Any) -> Any:
        """The config with the preset applied; InputError for an option the name does not take."""
        for key in options:
            if key not in self.options:
                raise InputError(
                    f"--{key.replace('_', '-')}",
                    f"model {self.name!r} does not take this option",
                    f"its options: {', '.join(self.options) or 'none'}",
                )
        cfg = self.config(V=V, n_ctx=n_ctx, **self.preset, **options)
        if hasattr(cfg, "check_model_size"):  # a factorization's size depends on the model
            cfg.check_model_size(self.kind)
        return cfg

    def build(self, V: int, n_ctx: int, seed: int = 0, **options: Any) -> Any:
        """A freshly initialised model."""
        return self.model_class(self.build_config(V, n_ctx, **options), seed=seed)


class ParameterCounts(NamedTuple):
    """A model's trainable weights: all of them, and those outside its embeddings.

    ``non_embedding`` is None for models without embeddings (the factorizations, whose
    weights are all per-token tables, and the count model), so it is never printed for them.
    """

    total: int
    non_embedding: int | None

    def describe(self) -> str:
        """One phrase that says which count it is."""
        if self.non_embedding is None:
            return f"{self.total:,} parameters (all weights; no embedding split)"
        return f"{self.non_embedding:,} non-embedding parameters ({self.total:,} in all)"

    def to_dict(self) -> dict[str, int | None]:
        """The metric names used in run folders and sweep tables."""
        return {"params_total": self.total, "params_non_embedding": self.non_embedding}


def parameter_counts(model: Any) -> ParameterCounts:
    """Count a model's trainable weights (``docs/glossary.md#parameters``)."""
    total = sum(p.numel() for p in model.parameters())
    non_embedding = getattr(model, "n_non_embedding_params", None)
    return ParameterCounts(total, non_embedding() if callable(non_embedding) else None)


def find_model(name: str, where: str = "--model") -> ModelSpec:
    """The spec called ``name``; InputError listing the known names otherwise."""
    if name not in MODELS:
        raise InputError(where, f"unknown model {name!r}", f"choose one of {', '.join(MODELS)}")
    return MODELS[name]


def kind_of(model_class: type) -> str:
    """The canonical kind of a model class."""
    path = f"{model_class.__module__}:{model_class.__qualname__}"
    for spec in MODELS.values():
        if spec.model_path == path:
            return spec.kind
    raise KeyError(path)


_M = "artifactlab.models."
#: name -> spec; every entry is covered by tests/models/test_contract.py
MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec("attn", "attn", ToyTransformerConfig, _M + "toy_transformer:ToyTransformer",
                  "the paper's toy transformer: attention only by default (switches add LN, "
                  "biases, positions, an MLP)"),
        ModelSpec("attn-mlp", "attn", ToyTransformerConfig, _M + "toy_transformer:ToyTransformer",
                  "the toy transformer with an MLP block after each attention layer",
                  {"mlp": True}),
        ModelSpec("ngram", "ngram", NGramConfig, _M + "ngram:NGramModel",
                  "counts: maximum likelihood on observed contexts, uniform elsewhere "
                  "(fitted in closed form)"),
        ModelSpec("cp", "cp", FactorizationConfig, _M + "cp:CP",
                  "CP (canonical polyadic) factorization of the triple tensor"),
        ModelSpec("distmult", "distmult", FactorizationConfig, _M + "distmult:DistMult",
                  "DistMult: diagonal bilinear triple scores"),
        ModelSpec("rescal", "rescal", FactorizationConfig, _M + "rescal:RESCAL",
                  "RESCAL: one full bilinear matrix per relation"),
        ModelSpec("complex", "complex", FactorizationConfig, _M + "complex:ComplEx",
                  "ComplEx: complex-valued diagonal bilinear scores"),
    )
}  # fmt: skip
