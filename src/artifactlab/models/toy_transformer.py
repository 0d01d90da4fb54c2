"""The paper's toy transformer: embedding, attention layer(s), unembedding.

By default it has no layer normalisation, no biases, no positional encodings
and no MLP (an attention-only transformer, as in the paper's footnote 3); each
of those can be switched on.

Example
-------
>>> import torch
>>> from artifactlab.models.toy_transformer import ToyTransformer, ToyTransformerConfig
>>> cfg = ToyTransformerConfig(V=10, n_ctx=3, d_model=8, n_heads=2)
>>> model = ToyTransformer(cfg, seed=0)
>>> model(torch.tensor([[1, 2, 3]])).shape
torch.Size([1, 3, 10])
>>> model.n_non_embedding_params()
256
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from artifactlab.models.config import ToyTransformerConfig


class Attention(nn.Module):
    """Multi-head causal self-attention with per-head weights (TransformerLens naming)."""

    def __init__(self, cfg: ToyTransformerConfig) -> None:
        super().__init__()
        H, d, qk, vo = cfg.n_heads, cfg.d_model, cfg.qk, cfg.vo
        self.W_Q = nn.Parameter(torch.empty(H, d, qk))
        self.W_K = nn.Parameter(torch.empty(H, d, qk))
        self.W_V = nn.Parameter(torch.empty(H, d, vo))
        self.W_O = nn.Parameter(torch.empty(H, vo, d))
        self.bias = cfg.bias
        if cfg.bias:
            self.b_Q = nn.Parameter(torch.zeros(H, qk))
            self.b_K = nn.Parameter(torch.zeros(H, qk))
            self.b_V = nn.Parameter(torch.zeros(H, vo))
            self.b_O = nn.Parameter(torch.zeros(d))
        self.scale = 1.0 / math.sqrt(qk)

    def project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values of every position, biases included.

        Parameters
        ----------
        x : Tensor
            Residual stream (or token table), shape (..., d_model).

        Returns
        -------
        tuple of Tensor
            Shapes (..., H, qk), (..., H, qk) and (..., H, vo).
        """
        # one (d_model, H * d_head) matmul per projection rather than bmm over B * H tiny
        # matrices, which is several times slower on CPU
        out = []
        for name in ("Q", "K", "V"):
            W = getattr(self, f"W_{name}")  # (H, d_model, e)
            y = (x @ W.transpose(0, 1).reshape(W.shape[1], -1)).unflatten(-1, W.shape[::2])
            out.append(y + getattr(self, f"b_{name}") if self.bias else y)
        return out[0], out[1], out[2]

    def mix(self, q: Tensor, k: Tensor, v: Tensor, causal: bool) -> Tensor:
        """Attention output from queries (B, Tq, H, qk), keys (B, T, H, qk), values (B, T, H, vo).

        Returns
        -------
        Tensor
            Shape (B, Tq, d_model). With ``causal`` (Tq == T), query i sees keys 0..i.
        """
        # tuples are short: scores and mixing broadcast over positions instead of calling bmm
        scores = (q[:, :, None] * k[:, None]).sum(-1) * self.scale  # (B, Tq, T, H)
        if causal:
            T = k.shape[1]
            mask = torch.ones(T, T, dtype=torch.bool, device=k.device).triu(1)
            scores = scores.masked_fill(mask[:, :, None], float("-inf"))
        pattern = scores.softmax(2)  # over key positions
        z = (pattern[..., None] * v[:, None]).sum(2)  # (B, Tq, H, vo)
        out = z.flatten(2) @ self.W_O.flatten(0, 1)  # (B, Tq, d_model)
        return out + self.b_O if self.bias else out

    def forward(self, x: Tensor, last_only: bool = False) -> Tensor:
        """Attend causally; with ``last_only`` compute the output at the last position only.

        Parameters
        ----------
        x : Tensor
            Residual stream, shape (B, T, d_model).
        last_only : bool
            Only the final query position is needed (the completion tensor's case).

        Returns
        -------
        Tensor
            Shape (B, T, d_model), or (B, 1, d_model) with ``last_only``.
        """
        q, k, v = self.project(x)
        if last_only:
            q = q[:, -1:]
        return self.mix(q, k, v, causal=not last_only)


class MLP(nn.Module):
    """Two-layer ReLU MLP (TransformerLens naming: ``W_in``, ``W_out``)."""

    def __init__(self, cfg: ToyTransformerConfig) -> None:
        super().__init__()
        self.W_in = nn.Parameter(torch.empty(cfg.d_model, cfg.mlp_width))
        self.W_out = nn.Parameter(torch.empty(cfg.mlp_width, cfg.d_model))
        self.bias = cfg.bias
        if cfg.bias:
            self.b_in = nn.Parameter(torch.zeros(cfg.mlp_width))
            self.b_out = nn.Parameter(torch.zeros(cfg.d_model))

    def forward(self, x: Tensor) -> Tensor:
        """Apply the MLP position-wise to x of shape (B, T, d_model)."""
        h = x @ self.W_in
        if self.bias:
            h = h + self.b_in
        out = torch.relu(h) @ self.W_out
        return out + self.b_out if self.bias else out


class Block(nn.Module):
    """Attention (then optionally an MLP), each added to the residual stream."""

    def __init__(self, cfg: ToyTransformerConfig) -> None:
        super().__init__()
        norm = (lambda: nn.LayerNorm(cfg.d_model, bias=cfg.bias)) if cfg.layer_norm else nn.Identity
        self.ln1 = norm()
        self.attn = Attention(cfg)
        self.ln2 = norm() if cfg.mlp else None
        self.mlp = MLP(cfg) if cfg.mlp else None

    def forward(
        self, x: Tensor, last_only: bool = False, qkv: tuple[Tensor, Tensor, Tensor] | None = None
    ) -> Tensor:
        """Shape (B, T, d_model) -> (B, T, d_model), or (B, 1, d_model) with ``last_only``.

        ``qkv`` passes the attention's queries, keys and values when they are already
        known (looked up per token by :meth:`ToyTransformer.next_token_fn`).
        """
        if qkv is None:
            attn = self.attn(self.ln1(x), last_only=last_only)
        else:
            q, k, v = qkv
            attn = self.attn.mix(q[:, -1:] if last_only else q, k, v, causal=not last_only)
        x = (x[:, -1:] if last_only else x) + attn
        if self.mlp is not None:
            x = x + self.mlp(self.ln2(x))
        return x


class ToyTransformer(nn.Module):
    """A toy decoder-only transformer; the paper's attention-only model by default.

    Parameters
    ----------
    cfg : ToyTransformerConfig
        Shapes and switches.
    seed : int
        Seed of the weight initialisation (a private generator: the global RNG is untouched).
    """

    def __init__(self, cfg: ToyTransformerConfig, seed: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.W_E = nn.Parameter(torch.empty(cfg.V, cfg.d_model))
        self.W_pos = nn.Parameter(torch.zeros(cfg.n_ctx, cfg.d_model)) if cfg.positional else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = (
            nn.LayerNorm(cfg.d_model, bias=cfg.bias) if cfg.layer_norm else nn.Identity()
        )
        self.W_U = nn.Parameter(torch.empty(cfg.d_model, cfg.V))
        self.b_U = nn.Parameter(torch.zeros(cfg.V)) if cfg.bias else None
        self._init_weights(seed)

    def _init_weights(self, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        for name, p in self.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf.startswith("b_") or "ln" in name:
                continue  # biases stay zero, layer norms stay at identity
            fan_in = p.shape[-2] if p.dim() >= 2 and name != "W_E" else p.shape[-1]
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))

    def n_non_embedding_params(self) -> int:
        """Parameters outside the embedding, positional embedding and unembedding."""
        skip = {"W_E", "W_pos", "W_U", "b_U"}
        return sum(p.numel() for name, p in self.named_parameters() if name not in skip)

    def residual(self, tokens: Tensor, last_only: bool = False) -> Tensor:
        """Final residual stream (after the last layer norm, if any).

        Parameters
        ----------
        tokens : Tensor
            Token ids, shape (B, T) with T <= n_ctx.
        last_only : bool
            Compute the final layer at the last position only.

        Returns
        -------
        Tensor
            Shape (B, T, d_model), or (B, 1, d_model) with ``last_only``.
        """
        tokens = tokens.to(self.W_E.device)  # a no-op when they are there already
        x = self.W_E[tokens]  # (B, T, d_model)
        if self.W_pos is not None:
            x = x + self.W_pos[: tokens.shape[1]]
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x = block(x, last_only=last_only and i == last)
        return self.ln_final(x)

    def unembed(self, resid: Tensor) -> Tensor:
        """Logits from residual vectors: (..., d_model) -> (..., V)."""
        logits = resid @ self.W_U
        return logits + self.b_U if self.b_U is not None else logits

    def forward(self, tokens: Tensor) -> Tensor:
        """Next-token logits at every position: (B, T) -> (B, T, V)."""
        return self.unembed(self.residual(tokens))

    def next_token_logits(self, contexts: Tensor) -> Tensor:
        """Logits of the token after each context: (B, m) -> (B, V), last position only."""
        return self.unembed(self.residual(contexts, last_only=True)[:, 0])

    def next_token_fn(self) -> Callable[[Tensor], Tensor]:
        """A faster :meth:`next_token_logits` for evaluating many contexts with fixed weights.

        The first layer's input is a token embedding (plus a position embedding), so its
        queries, keys and values are looked up in per-token tables computed once, instead
        of being recomputed for every context. Equal to :meth:`next_token_logits` up to
        float rounding. Models that normalise the first layer's input fall back to it.
        The tables are a snapshot: call again after changing (or moving) the weights.
        They are made on the weights' device, contexts on another device are moved there,
        and the logits come back on it. The returned function writes its logits into one
        buffer, overwritten by its next call.
        """
        if self.cfg.layer_norm:
            return self.next_token_logits
        first = self.blocks[0].attn
        with torch.no_grad():
            tables = first.project(self.W_E)  # each (V, H, e)
            # projections are affine: (E[t] + P[i]) W + b = (E[t] W + b) + P[i] W
            pos = (
                [y - b for y, b in zip(first.project(self.W_pos), _biases(first), strict=True)]
                if self.W_pos is not None
                else None
            )

        device = self.W_E.device
        out = torch.empty(0, device=device)

        def logits(contexts: Tensor) -> Tensor:
            nonlocal out
            contexts = contexts.to(device)
            B, T = contexts.shape
            x = self.W_E[contexts]  # (B, T, d_model)
            qkv = [table[contexts] for table in tables]  # each (B, T, H, e)
            if pos is not None:
                x = x + self.W_pos[:T]
                qkv = [y + p[:T] for y, p in zip(qkv, pos, strict=True)]
            n = len(self.blocks)
            x = self.blocks[0](x, last_only=n == 1, qkv=(qkv[0], qkv[1], qkv[2]))
            for i, block in enumerate(self.blocks[1:], start=2):
                x = block(x, last_only=i == n)
            if out.shape[0] < B or out.dtype != x.dtype or out.device != x.device:
                out = torch.empty(B, self.cfg.V, dtype=x.dtype, device=x.device)
            # one logits buffer for every call: a fresh (B, V) tensor per block is a fresh mmap
            # (and page faults) for each block in glibc's allocator
            y = torch.matmul(self.ln_final(x)[:, -1], self.W_U, out=out[:B])
            return y.add_(self.b_U) if self.b_U is not None else y

        return logits


def _biases(attn: Attention) -> tuple[Tensor | float, Tensor | float, Tensor | float]:
    if not attn.bias:
        return 0.0, 0.0, 0.0
    return attn.b_Q, attn.b_K, attn.b_V
