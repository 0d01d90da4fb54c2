"""The configs of the registered models: small frozen dataclasses, free of torch.

Each config is validated in ``__post_init__`` (and by pydantic when a sweep file
names it), and its fields other than ``V`` and ``n_ctx`` are the model's options:
``artifactlab train`` builds its ``--OPTION`` flags from them, so a new model's
options reach the command line without editing the CLI. ``n_ctx`` means the same
in every config: the longest tuple the model completes (it reads contexts of up to
``n_ctx - 1`` tokens; ``docs/glossary.md#n_ctx``). Before any weight is allocated,
each config estimates its parameter count (:meth:`ToyTransformerConfig.n_params_estimate`)
and refuses more than :data:`MAX_PARAMS`, so a mistyped ``--d-model 4000000000`` is a
one-line error instead of an allocator's traceback.

Example
-------
>>> ToyTransformerConfig(V=10, d_model=8, n_heads=2).qk
4
>>> option_fields(FactorizationConfig)
['rank']
>>> option_help(ToyTransformerConfig)["d_model"]
'Width of the residual stream.'
>>> ToyTransformerConfig(V=10, d_model=8, n_heads=2).n_params_estimate()
416
>>> FactorizationConfig(V=10, rank=10**10)
Traceback (most recent call last):
artifactlab.errors.InputError: model options V/rank: about 2.0 x 10^11 parameters (745.1 GiB ...
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass

from pydantic import ConfigDict, with_config

from artifactlab.checks import at_least, finite, magnitude
from artifactlab.errors import InputError

#: config fields that come from the data, not from the user
DATA_FIELDS = ("V", "n_ctx")
#: the most parameters a config may ask for: 2^31 float32 weights are 8 GiB (before Adam's
#: two moment buffers), far beyond a toy model and the size where a typo shows
MAX_PARAMS = 2**31
#: sweep files validate the configs with pydantic: no unknown keys, no nan or infinity
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


def check_size(where: str, n_params: int, hint: str) -> None:
    """Raise InputError when ``n_params`` (an estimate) is more than :data:`MAX_PARAMS`.

    Parameters
    ----------
    where : str
        The options that set the size ("model options V/rank").
    n_params : int
        The estimated parameter count (any size: printed by its magnitude).
    hint : str
        What to make smaller.
    """
    if n_params <= MAX_PARAMS:
        return
    gib = 4 * n_params // 2**30
    size = f"{4 * n_params / 2**30:,.1f}" if gib < 10**5 else magnitude(gib, exact_below=1)
    raise InputError(
        where,
        f"about {magnitude(n_params, exact_below=10**10)} parameters ({size} GiB of float32 "
        "weights), more than "
        f"the limit of {MAX_PARAMS:,} ({4 * MAX_PARAMS // 2**30} GiB)",
        hint,
    )


@with_config(STRICT)
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
        check_size(
            "model options V/d_model/n_layers/n_heads/d_head_qk/d_head_vo/d_mlp",
            self.n_params_estimate(),
            "use a smaller d_model, n_layers, n_heads, d_head_qk, d_head_vo or d_mlp",
        )

    def n_params_estimate(self) -> int:
        """The number of weights the model will have, from the shapes alone (exact).

        Embedding ``W_E`` (V, d), positions ``W_pos`` (n_ctx, d), per layer the attention
        (``W_Q``, ``W_K``: (H, d, qk); ``W_V``: (H, d, vo); ``W_O``: (H, vo, d)), the MLP
        (``W_in``, ``W_out``: d x d_mlp) and layer norms, then the unembedding ``W_U``
        (d, V); biases where switched on. Python integers: any size, no overflow.
        """
        d, H, b = self.d_model, self.n_heads, int(self.bias)
        norm = (d + b * d) if self.layer_norm else 0
        attention = H * d * (2 * self.qk + 2 * self.vo) + b * (H * (2 * self.qk + self.vo) + d)
        mlp = 2 * d * self.mlp_width + b * (self.mlp_width + d) + norm if self.mlp else 0
        layer = norm + attention + mlp
        outside = 2 * self.V * d + b * self.V + norm + (self.n_ctx * d if self.positional else 0)
        return outside + self.n_layers * layer

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


@with_config(STRICT)
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
        # the config does not know which factorization uses it: check the fewest weights any
        # of them has; RESCAL's (rank, rank) matrices are checked by check_model_size
        check_size("model options V/rank", self.n_params_estimate(), _FACTORIZATION_HINT)

    def n_params_estimate(self, model: str | None = None) -> int:
        """The number of weights of a factorization of this shape (exact for a named model).

        Parameters
        ----------
        model : str, optional
            ``cp`` (three (V, rank) tables), ``distmult`` (two), ``complex`` (four: real
            and imaginary parts) or ``rescal`` (a (V, rank) table and V (rank, rank)
            matrices). None gives the fewest of them, DistMult's ``2 V rank``.
        """
        tables = {"cp": 3, "distmult": 2, "complex": 4, "rescal": 1}
        if model is None:
            return 2 * self.V * self.rank
        if model not in tables:
            raise KeyError(f"unknown factorization {model!r} (known: {', '.join(tables)})")
        square = self.V * self.rank**2 if model == "rescal" else 0
        return tables[model] * self.V * self.rank + square

    def check_model_size(self, model: str) -> None:
        """Raise InputError when the named factorization would exceed :data:`MAX_PARAMS`."""
        check_size("model options V/rank", self.n_params_estimate(model), _FACTORIZATION_HINT)

    def to_dict(self) -> dict:
        """Plain-JSON form, as saved in a run folder."""
        return asdict(self)


_FACTORIZATION_HINT = "use a smaller rank, or a smaller vocabulary"


@with_config(STRICT)
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

    def n_params_estimate(self) -> int:
        """0: a count model has no weights (its tables grow with the data, not the options)."""
        return 0

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
