"""The configs of the registered models: small frozen dataclasses, free of torch.

Each config is validated in ``__post_init__`` (and by pydantic when a sweep file
names it), and its fields other than ``V`` and ``n_ctx`` are the model's options:
``artifactlab train`` builds its ``--OPTION`` flags from them, so a new model's
options reach the command line without editing the CLI. ``n_ctx`` means the same
in every config: the longest tuple the model completes (it reads contexts of up to
``n_ctx - 1`` tokens; ``docs/glossary.md#n_ctx``).

Example
-------
>>> ToyTransformerConfig(V=10, d_model=8, n_heads=2).qk
4
>>> option_fields(FactorizationConfig)
['rank']
>>> option_help(ToyTransformerConfig)["d_model"]
'Width of the residual stream.'
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass

from pydantic import ConfigDict, with_config

from artifactlab.checks import at_least, finite
from artifactlab.errors import InputError

#: config fields that come from the data, not from the user
DATA_FIELDS = ("V", "n_ctx")


@with_config(ConfigDict(extra="forbid"))  # sweep files validate it with pydantic
@dataclass(frozen=True)
class ToyTransformerConfig:
    """Shape and switches of a toy transformer.

    Attributes
    ----------
    V : int
        Vocabulary size (number of tokens).
    n_ctx : int
        The longest tuple the model completes: it reads contexts of up to
        ``n_ctx - 1`` tokens (see the glossary, ``docs/glossary.md#n_ctx``).
    d_model : int
        Width of the residual stream.
    n_layers : int
        Number of blocks (attention, then the optional MLP).
    n_heads : int
        Attention heads per layer.
    d_head_qk : int or None
        Width of each head's queries and keys; None means ``d_model // n_heads``.
    d_head_vo : int or None
        Width of each head's values; None means ``d_model // n_heads``.
    mlp : bool
        Add an MLP block after each attention layer.
    d_mlp : int or None
        Hidden width of the MLP; None means ``4 * d_model``.
    layer_norm : bool
        Pre-layer normalisation before each sub-block and before the unembedding.
    bias : bool
        Biases on every linear map.
    positional : bool
        Learned positional embeddings (off in the paper: tuples are position-free
        only through the causal mask and the query position).
    """

    V: int
    n_ctx: int = 3
    d_model: int = 64
    n_layers: int = 1
    n_heads: int = 4
    d_head_qk: int | None = None
    d_head_vo: int | None = None
    mlp: bool = False
    d_mlp: int | None = None
    layer_norm: bool = False
    bias: bool = False
    positional: bool = False

    def __post_init__(self) -> None:
        for name in ("V", "d_model", "n_layers", "n_heads"):
            at_least(f"model option {name}", getattr(self, name), 1)
        at_least("model option n_ctx", self.n_ctx, 2)
        for name in ("d_head_qk", "d_head_vo", "d_mlp"):
            if getattr(self, name) is not None:
                at_least(f"model option {name}", getattr(self, name), 1)
        needs_split = self.d_head_qk is None or self.d_head_vo is None
        if needs_split and self.d_model % self.n_heads != 0:
            raise InputError(
                "model options d_model/n_heads",
                f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}",
                "choose divisible values or set --d-head-qk and --d-head-vo explicitly",
            )

    @property
    def qk(self) -> int:
        """Resolved query/key width per head."""
        return self.d_head_qk or self.d_model // self.n_heads

    @property
    def vo(self) -> int:
        """Resolved value width per head."""
        return self.d_head_vo or self.d_model // self.n_heads

    @property
    def mlp_width(self) -> int:
        """Resolved MLP hidden width."""
        return self.d_mlp or 4 * self.d_model

    def to_dict(self) -> dict:
        """Plain-JSON form, as saved in a run folder."""
        return asdict(self)


@with_config(ConfigDict(extra="forbid"))  # sweep files validate it with pydantic
@dataclass(frozen=True)
class FactorizationConfig:
    """Shape of a triple factorization model.

    Attributes
    ----------
    V : int
        Vocabulary size (number of tokens, each an entity and a relation).
    rank : int
        Rank ``d`` of the factorization: the width of each embedding (complex
        dimensions for ComplEx).
    n_ctx : int
        The longest tuple the model completes; must be 3: a factorization reads
        (head, relation) contexts and scores the tail.
    """

    V: int
    rank: int = 32
    n_ctx: int = 3

    def __post_init__(self) -> None:
        for name in ("V", "rank"):
            at_least(f"model option {name}", getattr(self, name), 1)
        if self.n_ctx != 3:
            raise InputError(
                "model option n_ctx",
                f"factorization models score triples only: must be 3, got {self.n_ctx}",
                "use the `attn` or `ngram` model for other tuple lengths",
            )

    def to_dict(self) -> dict:
        """Plain-JSON form, as saved in a run folder."""
        return asdict(self)


@with_config(ConfigDict(extra="forbid"))  # sweep files validate it with pydantic
@dataclass(frozen=True)
class NGramConfig:
    """Shape of a count model.

    Attributes
    ----------
    V : int
        Vocabulary size (number of tokens).
    n_ctx : int
        The longest tuple the model completes: it counts contexts of 1 to ``n_ctx - 1``
        tokens, so tuples of length 2 to ``n_ctx`` can be fitted.
    smoothing : float
        Additive (Laplace) smoothing ``a`` added to every count of an observed context;
        0 is the maximum-likelihood fit.
    """

    V: int
    n_ctx: int = 3
    smoothing: float = 0.0

    def __post_init__(self) -> None:
        at_least("model option V", self.V, 1)
        at_least("model option n_ctx", self.n_ctx, 2)
        finite("model option smoothing", self.smoothing, low=0)
        if (self.V + 1) ** (self.n_ctx - 1) > 2**63 - 1:
            raise InputError(
                "model options V/n_ctx",
                f"(V + 1)^(n_ctx - 1) = {self.V + 1}^{self.n_ctx - 1} context keys overflow int64",
                "use a smaller n_ctx",
            )

    def to_dict(self) -> dict:
        """Plain-JSON form, as saved in a run folder."""
        return asdict(self)


def option_fields(config_cls: type) -> list[str]:
    """A config's user options: every field except those the data sets (V, n_ctx)."""
    return [f.name for f in dataclasses.fields(config_cls) if f.name not in DATA_FIELDS]


def option_help(config_cls: type) -> dict[str, str]:
    """Field name -> the first sentence of its description in the class's Attributes section."""
    doc = config_cls.__doc__ or ""
    section = doc.split("Attributes\n", 1)[-1]
    out = {}
    for match in re.finditer(r"^ {4}(\w+) : [^\n]*\n((?: {8}[^\n]*\n?)+)", section, re.M):
        text = " ".join(line.strip() for line in match.group(2).splitlines())
        out[match.group(1)] = text.replace("``", "").split(". ")[0].rstrip(".") + "."
    return out
