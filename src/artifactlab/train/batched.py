"""Training many same-shape models at once: one batched forward/backward per step.

:func:`train_batched` trains M models of one class and shape, each on its own
tuples with its own :class:`~artifactlab.train.TrainConfig`, as if each were
trained by :func:`~artifactlab.train.train` alone: the members' weights are
stacked along a new leading dimension, one forward/backward computes every
member's loss and gradient (the summed loss has each member's own gradient), and
Adam updates the stacked weights with each member's learning rate and weight
decay, with the arithmetic of ``torch.optim.Adam``. Each member stops by its own
rules; a stopped member is frozen, its weights go back into its module, and it
leaves the stack, so it costs nothing after that.

The forward is ``torch.func.vmap`` over ``torch.func.functional_call``, for any
model. The paper's model (a one-layer :class:`ToyTransformer` without layer norms,
``mode="last"``) takes a faster hand-batched forward: its attention reads token
embeddings, so queries, keys and values are looked up in per-token tables
(``W_E @ W_Q`` and so on) instead of being projected for every tuple.

Results equal sequential training up to float rounding: the batched forward sums in
another order, and Adam magnifies that rounding where a gradient is near zero (it
divides the gradient by its own running size), so float32 weights can differ by
about 1e-4 after tens of steps. Chaotic trainings, or a loss that crosses
``loss_tol`` by less than the rounding, can end elsewhere or a step apart.

Example
-------
>>> from artifactlab.data import random_triples
>>> from artifactlab.models import ToyTransformer, ToyTransformerConfig
>>> from artifactlab.train import TrainConfig
>>> cfg = ToyTransformerConfig(V=8, d_model=16, n_heads=2)
>>> models = [ToyTransformer(cfg, seed=s) for s in range(3)]
>>> data = [random_triples(V=8, N=10, seed=s).tuples for s in range(3)]
>>> cfgs = [TrainConfig(max_steps=100, lr=lr) for lr in (0.05, 0.05, 1e-3)]
>>> [(r.stop_reason, r.steps) for r in train_batched(models, data, cfgs)]
[('loss_tol', 7), ('loss_tol', 9), ('max_steps', 100)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, vmap

from artifactlab.errors import InputError
from artifactlab.models.toy_transformer import ToyTransformer, ToyTransformerConfig
from artifactlab.train.trainer import StopReason, TrainConfig, TrainResult, _stop

BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults, as train() uses them
EPS = 1e-8

#: (params, tuples) -> (logits, targets): stacked weights, (M, N, n) tuples -> (M, R, V), (M, R)
LogitsFn = Callable[[dict[str, Tensor], Tensor], tuple[Tensor, Tensor]]


class Objective(Protocol):
    """A training loss in place of the mean cross-entropy (the mitigations use it).

    Called once per step with the batched forward, the active members' stacked
    weights, their logits and targets on the training tuples, the members' indices
    (into the lists given to :func:`train_batched`) and the updates made so far.
    Returns each member's loss, shape (M,): it is minimised, and it is the loss the
    stopping rules (``loss_tol``) read.
    """

    def __call__(
        self,
        logits_fn: LogitsFn,
        params: dict[str, Tensor],
        logits: Tensor,
        targets: Tensor,
        members: list[int],
        step: int,
    ) -> Tensor:
        """Each active member's loss, shape (M,)."""
        ...


def can_batch(
    models: Sequence[nn.Module], datasets: Sequence[np.ndarray], cfgs: Sequence[TrainConfig]
) -> str | None:
    """Whether :func:`train_batched` can train these members together.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        One model per member.
    datasets : sequence of numpy.ndarray
        One (N, n) tuple array per member.
    cfgs : sequence of TrainConfig
        One training configuration per member.

    Returns
    -------
    str or None
        None if they can be trained together, else a short reason why not.
    """
    if not len(models) == len(datasets) == len(cfgs):
        return f"got {len(models)} models, {len(datasets)} datasets and {len(cfgs)} configs"
    if not models:
        return None
    first = models[0]
    for i, model in enumerate(models):
        if type(model) is not type(first):
            return f"model {i} is a {type(model).__name__}, model 0 a {type(first).__name__}"
        if getattr(model, "cfg", None) != getattr(first, "cfg", None):
            return f"model {i} has another config than model 0"
        if _signature(model) != _signature(first):
            return f"model {i} has other parameter names, shapes, dtypes or devices than model 0"
        if next(model.buffers(), None) is not None:
            return f"model {i} has buffers, which batched training does not stack"
        if not all(p.requires_grad for p in model.parameters()):
            return f"model {i} has frozen parameters (requires_grad False)"
    shapes = [np.shape(d) for d in datasets]
    if len(shapes[0]) != 2 or shapes[0][1] < 2:
        return f"dataset 0 has shape {shapes[0]}, expected (N, n) with n >= 2"
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            return f"dataset {i} has shape {shape}, dataset 0 {shapes[0]}"
    for i, cfg in enumerate(cfgs):
        if cfg.mode != cfgs[0].mode:
            return f"config {i} has mode {cfg.mode!r}, config 0 {cfgs[0].mode!r}"
        if cfg.batch_size is not None and cfg.batch_size < shapes[0][0]:
            return f"config {i} trains on minibatches (batch_size={cfg.batch_size})"
    return None


def _signature(model: nn.Module) -> list[tuple[str, tuple[int, ...], torch.dtype, torch.device]]:
    return [(k, tuple(p.shape), p.dtype, p.device) for k, p in model.named_parameters()]


def train_batched(
    models: Sequence[nn.Module],
    datasets: Sequence[np.ndarray],
    cfgs: Sequence[TrainConfig],
    progress: Callable[[int, int], None] | None = None,
    objective: Objective | None = None,
) -> list[TrainResult]:
    """Train each model in place on its own tuples, all members in one batched step.

    Each member gets what :func:`~artifactlab.train.train` would give it: the same
    stopping rules (checked on the full-batch loss before each update), ``steps``
    counting its updates, a log entry every ``log_every`` updates and a final one.
    ``seconds`` is the wall time from the start until that member stopped.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Same class and parameter shapes; each has ``next_token_logits`` (mode ``last``)
        or ``forward`` (mode ``all``) as :func:`~artifactlab.train.train` needs.
    datasets : sequence of numpy.ndarray
        Each member's training tuples, all of one shape (N, n).
    cfgs : sequence of TrainConfig
        Each member's training; they may differ in everything but ``mode``, and
        ``batch_size`` must be None or >= N (full-batch training).
    progress : callable, optional
        Called as ``progress(done_members, total_members)`` each time a member stops.
    objective : Objective, optional
        The loss to minimise instead of each member's mean cross-entropy; the stopping
        rules and the reported ``loss`` then read it (accuracy stays the training
        tuples' argmax accuracy).

    Returns
    -------
    list of TrainResult
        In member order; the models end in eval mode with their trained weights.

    Raises
    ------
    InputError
        If :func:`can_batch` gives a reason why these cannot be trained together.
    """
    reason = can_batch(models, datasets, cfgs)
    if reason is not None:
        raise InputError("train_batched", reason, "train such members one by one with train()")
    if not models:
        return []
    start = time.perf_counter()
    logits_fn = _logits_fn(models[0], cfgs[0].mode)
    stack = _Stack.of(models, datasets, cfgs)
    results: list[TrainResult | None] = [None] * len(models)
    logs: list[list[dict[str, float]]] = [[] for _ in models]
    for model in models:
        model.train()
    step = 0
    while True:
        logits, targets = logits_fn(stack.params, stack.data)
        if objective is None:
            losses = member_losses(logits, targets)  # (M,)
        else:
            losses = objective(logits_fn, stack.params, logits, targets, list(stack.ids), step)
        stops = _check(step, [cfgs[i] for i in stack.ids], losses, logits, targets, stack.ids, logs)
        for pos, (why, loss, acc) in stops.items():
            member = stack.ids[pos]
            logs[member].append({"step": step, "loss": loss, "accuracy": acc})
            _copy_into(models[member], stack.params, pos)
            elapsed = time.perf_counter() - start
            results[member] = TrainResult(step, why, loss, acc, elapsed, logs[member])
            if progress is not None:
                progress(sum(r is not None for r in results), len(models))
        if len(stops) == len(stack.ids):
            break
        losses.sum().backward()  # each member's gradient is that of its own mean loss
        stack.step([pos for pos in range(len(stack.ids)) if pos not in stops], step + 1)
        step += 1
    for model in models:
        model.eval()
    return [r for r in results if r is not None]


def member_losses(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of each member: logits (M, R, V), targets (M, R) -> (M,)."""
    M, R, V = logits.shape
    ce = F.cross_entropy(logits.reshape(M * R, V), targets.reshape(M * R), reduction="none")
    return ce.view(M, R).mean(1)


def _check(
    step: int,
    cfgs: list[TrainConfig],
    losses: Tensor,
    logits: Tensor,
    targets: Tensor,
    ids: list[int],
    logs: list[list[dict[str, float]]],
) -> dict[int, tuple[StopReason, float, float]]:
    """Stop checks and log entries of the active members at ``step`` (updates made so far).

    Returns the stack positions that stop now, with their reason, loss and accuracy.
    """
    loss = losses.tolist()
    need_acc = any(
        c.stop_at_accuracy
        or step % c.log_every == 0
        or step == c.max_steps
        or (c.loss_tol is not None and x < c.loss_tol)
        for c, x in zip(cfgs, loss, strict=True)
    )
    # argmax over every logit is not free: only when an accuracy is read this step
    acc = (
        (logits.detach().argmax(-1) == targets).float().mean(1).tolist()
        if need_acc
        else [float("nan")] * len(loss)
    )
    stops: dict[int, tuple[StopReason, float, float]] = {}
    for pos, cfg in enumerate(cfgs):
        why = _stop(cfg, loss[pos], acc[pos])
        if why is None and step == cfg.max_steps:
            why = "max_steps"
        if why is not None:
            stops[pos] = (why, loss[pos], acc[pos])
        elif step % cfg.log_every == 0:
            logs[ids[pos]].append({"step": step, "loss": loss[pos], "accuracy": acc[pos]})
    return stops


def _copy_into(model: nn.Module, params: dict[str, Tensor], pos: int) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(params[name][pos])


@dataclass
class _Stack:
    """The active members: stacked weights (leading dim M), Adam moments, data, ids."""

    ids: list[int]
    params: dict[str, Tensor]
    exp_avg: dict[str, Tensor]
    exp_avg_sq: dict[str, Tensor]
    data: Tensor  # (M, N, n)
    lrs: list[float]
    weight_decays: list[float]

    @classmethod
    def of(
        cls,
        models: Sequence[nn.Module],
        datasets: Sequence[np.ndarray],
        cfgs: Sequence[TrainConfig],
    ) -> _Stack:
        """Stack the members' weights, zero Adam moments and data."""
        params = {
            name: torch.stack([dict(m.named_parameters())[name].detach() for m in models])
            for name, _ in models[0].named_parameters()
        }
        device = next(iter(params.values())).device
        data = torch.stack([torch.as_tensor(np.asarray(d), dtype=torch.int64) for d in datasets])
        return cls(
            ids=list(range(len(models))),
            params={k: p.requires_grad_() for k, p in params.items()},
            exp_avg={k: torch.zeros_like(p) for k, p in params.items()},
            exp_avg_sq={k: torch.zeros_like(p) for k, p in params.items()},
            data=data.to(device),
            lrs=[c.lr for c in cfgs],
            weight_decays=[c.weight_decay for c in cfgs],
        )

    def step(self, keep: list[int], n_updates: int) -> None:
        """Keep the members at stack positions ``keep``, then give them one Adam update."""
        grads = {k: p.grad for k, p in self.params.items()}
        if len(keep) < len(self.ids):
            index = torch.tensor(keep, device=self.data.device)
            self.ids = [self.ids[i] for i in keep]
            self.lrs = [self.lrs[i] for i in keep]
            self.weight_decays = [self.weight_decays[i] for i in keep]
            self.data = self.data.index_select(0, index)
            for group in (grads, self.exp_avg, self.exp_avg_sq):
                for k, t in group.items():
                    group[k] = t.index_select(0, index)
            self.params = {
                k: p.detach().index_select(0, index).requires_grad_()
                for k, p in self.params.items()
            }
        with torch.no_grad():
            for k, p in self.params.items():
                p.grad = None
                adam_update(
                    p, grads[k], self.exp_avg[k], self.exp_avg_sq[k], n_updates, self.lrs,
                    self.weight_decays,
                )  # fmt: skip


def adam_update(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    n_updates: int,
    lrs: Sequence[float],
    weight_decays: Sequence[float],
) -> None:
    """One Adam step, in place, on weights stacked along dim 0, one lr and weight decay each.

    The arithmetic of ``torch.optim.Adam``'s single-tensor step (defaults: betas
    (0.9, 0.999), eps 1e-8, no amsgrad, L2 weight decay added to the gradient), so
    each member's result is bitwise what ``torch.optim.Adam`` gives it alone (tested
    on CPU).

    Parameters
    ----------
    param, grad, exp_avg, exp_avg_sq : Tensor
        Weights, their gradient and Adam's moments, each of shape (M, ...).
    n_updates : int
        Updates made so far, this one included (the same for every member).
    lrs, weight_decays : sequence of float
        Each member's learning rate and weight decay, length M.
    """
    beta1, beta2 = BETAS
    for wd in sorted(set(weight_decays) - {0.0}):
        if all(w == wd for w in weight_decays):
            grad = grad.add(param, alpha=wd)
        else:  # add(alpha=) as torch does, on the members with this decay only
            index = torch.tensor([i for i, w in enumerate(weight_decays) if w == wd])
            index = index.to(param.device)
            part = grad.index_select(0, index).add(param.index_select(0, index), alpha=wd)
            grad = grad.index_copy(0, index, part)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias_correction1 = 1 - beta1**n_updates
    bias_correction2_sqrt = (1 - beta2**n_updates) ** 0.5
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(EPS)
    # addcdiv_(value=-lr / bc1) computes param + float(value) * exp_avg / denom
    neg_step = torch.tensor([-lr / bias_correction1 for lr in lrs], dtype=param.dtype)
    neg_step = neg_step.to(param.device).view(-1, *[1] * (param.dim() - 1))
    param.add_(neg_step * exp_avg / denom)


# ---------------------------------------------------------------- batched forwards


def _logits_fn(model: nn.Module, mode: str) -> LogitsFn:
    """The batched forward for members shaped like ``model``: fast for the paper's model."""
    if (
        isinstance(model, ToyTransformer)
        and mode == "last"
        and model.cfg.n_layers == 1
        and not model.cfg.layer_norm
    ):
        cfg = model.cfg
        return lambda params, tuples: toy_last_logits(params, tuples, cfg)
    return vmap_logits(model, mode)


class _NextToken(nn.Module):
    """``model.next_token_logits`` as a forward, for ``functional_call``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, contexts: Tensor) -> Tensor:
        """Shape (B, m) -> (B, V)."""
        return self.model.next_token_logits(contexts)


def vmap_logits(model: nn.Module, mode: str) -> LogitsFn:
    """Batched logits of any model: ``vmap`` over ``functional_call`` of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        A model of the members' shape (its own weights are not used).
    mode : {"last", "all"}
        Last-token logits (``next_token_logits``) or every position's (``forward``).

    Returns
    -------
    callable
        ``(params, tuples) -> (logits, targets)``: weights stacked as (M, ...) under
        ``model``'s parameter names, tuples (M, N, n) -> logits (M, R, V), targets (M, R),
        with R = N for ``last`` and N (n - 1) for ``all``.
    """
    module = _NextToken(model) if mode == "last" else model
    prefix = "model." if mode == "last" else ""

    def member(params: dict[str, Tensor], tuples: Tensor) -> Tensor:
        return functional_call(module, params, (tuples[:, :-1],))

    own_data, shared_data = vmap(member), vmap(member, in_dims=(0, None))

    def logits_fn(params: dict[str, Tensor], tuples: Tensor) -> tuple[Tensor, Tensor]:
        named = {prefix + k: p for k, p in params.items()}
        M = tuples.shape[0]
        # members on the same data (seeds of one model) read one unbatched copy: a model
        # may then group its contexts by value (RESCAL by relation)
        if all(torch.equal(tuples[0], t) for t in tuples[1:]):
            logits = shared_data(named, tuples[0])
        else:
            logits = own_data(named, tuples)
        targets = tuples[:, :, -1] if mode == "last" else tuples[:, :, 1:].reshape(M, -1)
        return logits.reshape(M, -1, logits.shape[-1]), targets

    return logits_fn


def toy_last_logits(
    params: dict[str, Tensor],
    tuples: Tensor,
    cfg: ToyTransformerConfig,
    score_table: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """Last-token logits of M one-layer toy transformers without layer norms, batched by hand.

    Equal to ``next_token_logits`` of each member up to float rounding. The layer reads
    token (plus position) embeddings, so its queries, keys and values are rows of
    per-token tables: V (or T V) projections per member instead of N T.

    Parameters
    ----------
    params : dict of str to Tensor
        The members' weights stacked as (M, ...), under ToyTransformer's parameter names.
    tuples : Tensor
        Token ids, shape (M, N, n); T = n - 1 context tokens.
    cfg : ToyTransformerConfig
        Shape and switches (``n_layers == 1``, ``layer_norm`` off; biases, positional
        embeddings and MLP allowed).
    score_table : bool, optional
        Look attention scores up in a table of every (query token, key row) pair instead
        of gathering queries and keys; None: when that table is the smaller.

    Returns
    -------
    tuple of Tensor
        Logits (M, N, V) and targets (M, N).
    """
    M, N, n = tuples.shape
    T, V, H = n - 1, cfg.V, cfg.n_heads
    E = params["W_E"][:, None]  # (M, 1, V, d)
    if cfg.positional:
        E = E + params["W_pos"][:, :T, None]  # (M, T, V, d): each token at each position
    P = E.shape[1]
    pos = torch.arange(T) if P > 1 else torch.zeros(T, dtype=torch.int64)
    rows = pos.to(tuples.device) * V + tuples[:, :, :-1]  # (M, N, T) rows of the (P V) tables
    Q = _project(params, "Q", E[:, -1], cfg.bias)  # (M, V, H, qk), last position only
    K = _project(params, "K", E.flatten(1, 2), cfg.bias)  # (M, P V, H, qk)
    if score_table is None:
        score_table = P * V * V <= N * (T + 1) * cfg.qk
    if score_table:
        S = Q.transpose(1, 2) @ K.permute(0, 2, 3, 1)  # (M, H, V, P V)
        head = torch.arange(H, device=tuples.device)
        query = _offsets(M, tuples.device) * H + head  # (M, 1, 1, H): planes of S
        index = (query * V + tuples[:, :, -2, None, None]) * (P * V) + rows[..., None]
        scores = S.reshape(-1).index_select(0, index.reshape(-1)).view(M, N, T, H)
    else:
        q = _gather(Q, tuples[:, :, -2:-1])  # (M, N, 1, H, qk)
        scores = (q * _gather(K, rows)).sum(-1)  # (M, N, T, H)
    scores = scores * (1.0 / cfg.qk**0.5)  # the last query sees every key
    v = _gather(_project(params, "V", E.flatten(1, 2), cfg.bias), rows)  # (M, N, T, H, vo)
    z = (scores.softmax(2)[..., None] * v).sum(2)  # (M, N, H, vo)
    x = _gather(E.flatten(1, 2), rows[:, :, -1])  # (M, N, d): residual at the last position
    attn = "blocks.0.attn."
    x = torch.baddbmm(x, z.flatten(2), params[attn + "W_O"].flatten(1, 2))
    if cfg.bias:
        x = x + params[attn + "b_O"][:, None]
    if cfg.mlp:
        x = x + _mlp(params, x, cfg.bias)
    logits = x @ params["W_U"]  # (M, N, V)
    if cfg.bias:
        logits = logits + params["b_U"][:, None]
    return logits, tuples[:, :, -1]


def _project(params: dict[str, Tensor], name: str, E: Tensor, bias: bool) -> Tensor:
    """Queries, keys or values of embeddings E (M, R, d): (M, R, H, e)."""
    W = params["blocks.0.attn.W_" + name]  # (M, H, d, e)
    table = E @ W.transpose(1, 2).flatten(2)  # (M, R, H e)
    if bias:
        table = table + params["blocks.0.attn.b_" + name].flatten(1)[:, None]
    return table.unflatten(-1, W.shape[1::2])


def _offsets(M: int, device: torch.device) -> Tensor:
    return torch.arange(M, device=device)[:, None, None, None]


def _gather(table: Tensor, index: Tensor) -> Tensor:
    """Rows of each member's table: table (M, R, *F), index (M, ...) -> (M, ..., *F)."""
    M, R = table.shape[:2]
    flat = (index + R * _offsets(M, index.device).view(M, *[1] * (index.dim() - 1))).reshape(-1)
    rows = table.flatten(0, 1).index_select(0, flat)
    return rows.view(*index.shape, *table.shape[2:])


def _mlp(params: dict[str, Tensor], x: Tensor, bias: bool) -> Tensor:
    """The first block's MLP on stacked residuals (M, N, d)."""
    mlp = "blocks.0.mlp."
    h = x @ params[mlp + "W_in"]
    if bias:
        h = h + params[mlp + "b_in"][:, None]
    out = torch.relu(h) @ params[mlp + "W_out"]
    return out + params[mlp + "b_out"][:, None] if bias else out
