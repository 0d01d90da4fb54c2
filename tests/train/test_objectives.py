"""Mitigation objectives: the config's checks, the penalty, the [IDK] loss, train_batched hooks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artifactlab.data import random_triples
from artifactlab.data.augment import decode, unobserved_contexts
from artifactlab.errors import InputError
from artifactlab.experiments.claim_trial import random_holdout
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.train import TrainConfig, train_batched
from artifactlab.train.batched import member_losses, toy_last_logits, vmap_logits
from artifactlab.train.mitigation import (
    METHODS,
    IDKObjective,
    MitigationConfig,
    Penalty,
    member_rng,
)

# --- MitigationConfig -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "penalty", "strength": -0.1},
        {"method": "contradict", "strength": -1.0},
        {"method": "none", "strength": -1.0},
        {"method": "unsupported", "strength": 1.01},
        {"method": "idk", "strength": 1.5},
        {"method": "penalty", "strength": float("nan")},
        {"method": "penalty", "strength": float("inf")},
        {"method": "penalty", "strength": 1.0, "tau": 0.0},
        {"method": "penalty", "strength": 1.0, "tau": 1.0},
        {"method": "penalty", "strength": 1.0, "tau": -0.5},
        {"method": "penalty", "strength": 1.0, "tau": float("nan")},
        {"method": "penalty", "strength": 1.0, "sample": 0},
        {"method": "penalty", "strength": 1.0, "sample": -3},
        {"method": "unsupported", "strength": 0.5, "size": -1},
        {"method": "unsupported", "strength": 0.5, "seed": -1},
        {"method": "unsupported", "strength": 0.5, "token": "  "},
        {"method": "bogus", "strength": 1.0},
        {"method": "Penalty", "strength": 1.0},
    ],
)
def test_config_refuses_bad_values(kwargs):
    with pytest.raises(InputError):
        MitigationConfig(**kwargs)


@pytest.mark.parametrize(
    ("field", "value"),
    [("strength", -0.1), ("tau", 1.0), ("sample", 0), ("method", "bogus")],
)
def test_config_errors_name_the_key(field, value):
    kwargs = {"method": "penalty", "strength": 1.0, field: value}
    with pytest.raises(InputError) as err:
        MitigationConfig(**kwargs)
    assert err.value.where == f"mitigation.{field}"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "unsupported", "strength": 1.0},
        {"method": "idk", "strength": 1.0},
        {"method": "contradict", "strength": 3.0},  # negatives per tuple: may exceed 1
        {"method": "penalty", "strength": 50.0, "tau": 0.99, "sample": 1},
        {"method": "unsupported", "strength": 0.0, "size": 0},
    ],
)
def test_config_accepts_edge_values(kwargs):
    assert MitigationConfig(**kwargs).to_dict()["method"] == kwargs["method"]


def test_active():
    for method in METHODS:
        assert not MitigationConfig(method=method, strength=0.0).active
        assert MitigationConfig(method=method, strength=0.5).active
    assert not MitigationConfig().active
    assert not MitigationConfig(method="none", strength=3.0).active
    assert MitigationConfig(method="unsupported", strength=0.0, size=2).active
    assert not MitigationConfig(method="unsupported", strength=0.0, size=0).active


# --- Penalty ----------------------------------------------------------------------------------

V = 5


def tiny() -> tuple[ToyTransformer, np.ndarray, np.ndarray]:
    """A tiny model, its training tuples and their unobserved contexts as token ids."""
    model = ToyTransformer(ToyTransformerConfig(V=V, d_model=8, n_heads=2), seed=0)
    with torch.no_grad():  # sharpen the random model: some guesses above tau
        model.W_U.mul_(4.0)
    ds = random_triples(V=V, N=8, seed=1)
    pool = decode(unobserved_contexts(ds), V, 2)
    return model, ds.tuples, pool


def stacked(*models) -> dict[str, torch.Tensor]:
    return {
        name: torch.stack([dict(m.named_parameters())[name].detach() for m in models])
        for name, _ in models[0].named_parameters()
    }


def test_penalty_draws_only_from_the_pool():
    _, _, pool = tiny()
    pen = Penalty(1.0, 0.25, 40, pool, [np.random.default_rng(0), np.random.default_rng(1)])
    seen = set()
    for _ in range(20):
        ctx = pen.contexts([0, 1])
        assert ctx.shape == (2, 40, 3) and ctx.dtype == torch.int64
        assert (ctx[..., -1] == 0).all()  # the dummy last token
        seen |= {tuple(r) for r in ctx[..., :2].reshape(-1, 2).tolist()}
    assert pen.drawn == 20 * 2 * 40
    assert seen == {tuple(r) for r in pool.tolist()}  # only the pool, and all of it


def test_penalty_needs_a_pool():
    with pytest.raises(InputError, match="unobserved"):
        Penalty(1.0, 0.25, 4, np.zeros((0, 2), dtype=np.int64), [np.random.default_rng(0)])


def test_member_rngs_are_reproducible_and_distinct():
    _, _, pool = tiny()

    def draws(members, seeds=(0, 1, 2), repeat=3):
        pen = Penalty(1.0, 0.25, 16, pool, [member_rng(7, s) for s in seeds])
        return torch.stack([pen.contexts(members) for _ in range(repeat)])

    a, b = draws([0, 1, 2]), draws([0, 1, 2])
    assert torch.equal(a, b)
    assert not torch.equal(a[:, 0], a[:, 1]) and not torch.equal(a[:, 1], a[:, 2])
    # each member reads its own generator: member 2's draws do not depend on the others
    assert torch.equal(draws([2])[:, 0], a[:, 2])
    assert torch.equal(draws([1, 2])[:, 1], a[:, 2])
    # the generator is the (mitigation seed, trial seed) pair
    x = member_rng(7, 1).integers(0, 1000, 8)
    assert (x == member_rng(7, 1).integers(0, 1000, 8)).all()
    assert not (x == member_rng(8, 1).integers(0, 1000, 8)).all()
    assert not (x == member_rng(7, 2).integers(0, 1000, 8)).all()


@pytest.mark.parametrize(("lam", "tau"), [(0.0, 0.25), (2.0, 0.25), (7.5, 0.4)])
def test_penalty_loss_by_hand(lam, tau):
    model, tuples, pool = tiny()
    cfg = model.cfg
    params = stacked(model)
    data = torch.from_numpy(tuples)[None]
    logits, targets = toy_last_logits(params, data, cfg)
    pen = Penalty(lam, tau, 12, pool, [np.random.default_rng(3)])
    loss = pen(lambda p, t: toy_last_logits(p, t, cfg), params, logits, targets, [0], 0)
    assert loss.shape == (1,)
    idx = np.random.default_rng(3).integers(0, len(pool), 12)  # the same draw
    with torch.no_grad():
        ce = F.cross_entropy(model.next_token_logits(data[0, :, :2]), data[0, :, 2])
        top = model.next_token_logits(torch.from_numpy(pool[idx])).softmax(-1).amax(-1)
    excess = torch.relu(top - tau).mean()
    assert excess > 0.01  # the penalty term is not empty
    assert loss.item() == pytest.approx((ce + lam * excess).item(), rel=1e-5, abs=1e-6)


def test_penalty_gradient_reaches_the_weights():
    model, tuples, pool = tiny()
    cfg = model.cfg
    params = {k: v.clone().requires_grad_() for k, v in stacked(model).items()}
    fn = lambda p, t: toy_last_logits(p, t, cfg)  # noqa: E731
    logits, targets = fn(params, torch.from_numpy(tuples)[None])
    grads = []
    for lam in (0.0, 5.0):
        pen = Penalty(lam, 0.1, 12, pool, [np.random.default_rng(3)])
        loss = pen(fn, params, logits, targets, [0], 0)
        grads.append(torch.autograd.grad(loss.sum(), params["W_U"], retain_graph=True)[0])
    assert not torch.allclose(grads[0], grads[1])


def test_penalty_in_mode_all_penalises_only_the_unobserved_contexts():
    model, tuples, pool = tiny()
    params = stacked(model)
    fn = vmap_logits(model, "all")
    logits, targets = fn(params, torch.from_numpy(tuples)[None])
    lam, tau = 3.0, 0.05
    pen = Penalty(lam, tau, 12, pool, [np.random.default_rng(3)])
    loss = pen(fn, params, logits, targets, [0], 0)
    idx = np.random.default_rng(3).integers(0, len(pool), 12)
    with torch.no_grad():
        ce = member_losses(logits, targets)[0]
        top = model.next_token_logits(torch.from_numpy(pool[idx])).softmax(-1).amax(-1)
    want = ce + lam * torch.relu(top - tau).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)


def mean_max_prob_and_artifacts(model, ds) -> tuple[float, int]:
    pool = torch.from_numpy(decode(unobserved_contexts(ds.train), ds.vocab.V, 2))
    with torch.no_grad():
        top = model.next_token_logits(pool).softmax(-1).amax(-1).mean().item()
    D = DataTensor.from_tuples(ds.train.tuples, ds.vocab.V)
    rep = evaluate_completion(model.next_token_fn(), D, taus=[0.5], top_k=0)
    return top, rep.n_artifacts[0.5]


def test_a_strong_penalty_lowers_confidence_on_unobserved_contexts():
    ds = random_holdout(6, 12, 0.25, 0)
    pool = decode(unobserved_contexts(ds.train), 6, 2)
    cfgs = [TrainConfig(max_steps=100, lr=0.05, loss_tol=None)] * 2
    out = {}
    for lam in (0.0, 5.0):
        shape = ToyTransformerConfig(V=6, d_model=16, n_heads=2)
        models = [ToyTransformer(shape, seed=s) for s in (0, 1)]
        objective = Penalty(lam, 0.25, 16, pool, [member_rng(0, s) for s in (0, 1)])
        results = train_batched(models, [ds.train.tuples] * 2, cfgs, objective=objective)
        assert [r.steps for r in results] == [100, 100]
        out[lam] = [mean_max_prob_and_artifacts(m, ds) for m in models]
    for plain, penalised in zip(out[0.0], out[5.0], strict=True):
        assert plain[0] > 0.7  # unmitigated: confident guesses
        assert penalised[0] < plain[0] - 0.3
        assert penalised[1] < plain[1]


# --- IDKObjective -----------------------------------------------------------------------------

# two members, three rows, four tokens (3 is [IDK]); argmaxes: 0 1 2 / 0 0 3
LOGITS = torch.tensor(
    [
        [[2.0, 0.5, 0.1, -1.0], [0.0, 1.5, 0.2, 0.3], [0.3, -0.2, 1.1, 0.0]],
        [[1.0, 0.9, -0.5, 0.2], [2.5, 0.0, 0.5, -0.3], [0.1, 0.4, 0.2, 1.2]],
    ],
    dtype=torch.float64,
)
TARGETS = torch.tensor([[0, 2, 2], [1, 0, 1]])  # wrong rows: (0, 1), (1, 0), (1, 2)
IDK_ID = 3


def idk_by_hand(pi: float, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each member's loss and the (M, R) share moved, one row at a time."""
    M, R, _ = LOGITS.shape
    losses, lams = torch.zeros(M, dtype=torch.float64), torch.zeros(M, R, dtype=torch.float64)
    for m in range(M):
        for r in range(R):
            p = LOGITS[m, r].softmax(0).tolist()
            y = int(TARGETS[m, r])
            wrong = max(range(len(p)), key=p.__getitem__) != y
            lam = 0.0 if not wrong else pi if mode == "fixed" else pi * (1 - p[y] / max(p))
            lams[m, r] = lam
            losses[m] += (-(1 - lam) * math.log(p[y]) - lam * math.log(p[IDK_ID])) / R
    return losses, lams


@pytest.mark.parametrize("mode", ["adaptive", "fixed"])
@pytest.mark.parametrize("pi", [0.0, 0.3, 1.0])
def test_idk_loss_by_hand(mode, pi):
    loss = IDKObjective(pi, IDK_ID, mode)(None, None, LOGITS, TARGETS, [0, 1], 0)
    want, lams = idk_by_hand(pi, mode)
    torch.testing.assert_close(loss, want)
    if pi > 0:  # exactly the wrong rows move mass
        assert (lams > 0).tolist() == [[False, True, False], [True, False, True]]
        assert (lams <= pi + 1e-12).all()


def test_idk_is_plain_cross_entropy_where_the_argmax_is_right():
    right = LOGITS.argmax(-1)
    for mode in ("adaptive", "fixed"):
        loss = IDKObjective(0.7, IDK_ID, mode)(None, None, LOGITS, right, [0, 1], 0)
        torch.testing.assert_close(loss, member_losses(LOGITS, right))
    assert not torch.allclose(
        IDKObjective(0.7, IDK_ID, "fixed")(None, None, LOGITS, TARGETS, [0, 1], 0),
        member_losses(LOGITS, TARGETS),
    )


def test_idk_adaptive_moves_less_than_fixed():
    adaptive = idk_by_hand(0.8, "adaptive")[1]
    fixed = idk_by_hand(0.8, "fixed")[1]
    wrong = fixed > 0
    assert (adaptive[wrong] < fixed[wrong]).all()


@pytest.mark.parametrize("mode", ["adaptive", "fixed"])
def test_idk_gradient_pushes_mass_to_idk_on_wrong_rows(mode):
    pi = 0.9
    logits = LOGITS.clone().requires_grad_()
    IDKObjective(pi, IDK_ID, mode)(None, None, logits, TARGETS, [0, 1], 0).sum().backward()
    _, lams = idk_by_hand(pi, mode)
    R = LOGITS.shape[1]
    p = LOGITS.softmax(-1)
    # softmax cross-entropy against a fixed soft target: (p - target) / R, lam held constant
    target = F.one_hot(TARGETS, 4).double() * (1 - lams[..., None])
    target[..., IDK_ID] += lams
    torch.testing.assert_close(logits.grad, (p - target) / R)
    ce = LOGITS.clone().requires_grad_()
    member_losses(ce, TARGETS).sum().backward()
    wrong = lams > 0
    # against plain CE, a descent step raises [IDK]'s logit on wrong rows by lam / R
    shift = logits.grad[..., IDK_ID] - ce.grad[..., IDK_ID]
    torch.testing.assert_close(shift, -lams / R)
    assert (shift[wrong] < 0).all() and (ce.grad[..., IDK_ID][wrong] > 0).all()
    if mode == "fixed":  # lam = 0.9 beats every p([IDK]) here: the logit itself goes up
        assert (logits.grad[..., IDK_ID][wrong] < 0).all()
    torch.testing.assert_close(logits.grad[~wrong], ce.grad[~wrong])


# --- train_batched with an objective ----------------------------------------------------------


def batch(seeds=(0, 1, 2)):
    cfg = ToyTransformerConfig(V=8, d_model=16, n_heads=2)
    models = [ToyTransformer(cfg, seed=s) for s in seeds]
    data = [random_triples(V=8, N=10, seed=10 + s).tuples for s in seeds]
    return models, data


CFGS = [
    TrainConfig(max_steps=12, lr=0.05, loss_tol=None, log_every=5),
    TrainConfig(max_steps=20, lr=0.03, loss_tol=None, log_every=5),
    TrainConfig(max_steps=6, lr=0.02, loss_tol=None, log_every=5),
]


def weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_objective_none_trains_as_before():
    runs = []
    for kwargs in ({}, {"objective": None}, {"objective": "ce"}):
        models, data = batch()
        if kwargs.get("objective") == "ce":
            calls = []

            def ce(logits_fn, params, logits, targets, members, step, calls=calls):
                calls.append((step, list(members)))
                return member_losses(logits, targets)

            kwargs = {"objective": ce}
        results = train_batched(models, data, CFGS, **kwargs)
        runs.append(([weights(m) for m in models], results))
    (w0, r0), (w1, r1), (w2, r2) = runs
    for a, b, c in zip(w0, w1, w2, strict=True):
        for k in a:
            assert torch.equal(a[k], b[k]) and torch.equal(a[k], c[k])
    assert [(r.steps, r.stop_reason, r.loss) for r in r0] == [
        (r.steps, r.stop_reason, r.loss) for r in r1
    ]
    assert [(r.steps, r.loss, r.log) for r in r0] == [(r.steps, r.loss, r.log) for r in r2]
    assert [r.steps for r in r0] == [12, 20, 6]
    # the objective was called once per step with the members still training
    assert [s for s, _ in calls] == list(range(21))
    assert calls[0][1] == [0, 1, 2] and calls[6][1] == [0, 1, 2]
    assert calls[7][1] == [0, 1] and calls[13][1] == [1] and calls[20][1] == [1]


def test_the_objective_is_the_loss_stops_and_reports_read():
    models, data = batch((0,))
    plain = train_batched(models, data, [TrainConfig(max_steps=200, lr=0.05, loss_tol=0.05)])[0]
    assert plain.stop_reason == "loss_tol"
    models2, _ = batch((0,))

    def shifted(logits_fn, params, logits, targets, members, step):
        return member_losses(logits, targets) + 1.0  # same gradient, never under loss_tol

    cfg = TrainConfig(max_steps=plain.steps + 5, lr=0.05, loss_tol=0.05)
    res = train_batched(models2, data, [cfg], objective=shifted)[0]
    assert res.stop_reason == "max_steps" and res.steps == plain.steps + 5
    assert res.log[0]["loss"] == pytest.approx(plain.log[0]["loss"] + 1.0, abs=1e-6)
    assert res.loss > 1.0
