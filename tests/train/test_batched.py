"""Batched training: equal to sequential training member by member, freezing, validation."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.train import TrainConfig, can_batch, train, train_batched
from artifactlab.train.batched import adam_update, member_losses, toy_last_logits, vmap_logits

SWITCHES = {
    "default": {},  # the hand-batched fast path
    "mlp_bias_positional": {"mlp": True, "d_mlp": 12, "bias": True, "positional": True},
    "everything": {  # layer norms and two layers: the vmap path
        "mlp": True,
        "d_mlp": 12,
        "bias": True,
        "positional": True,
        "layer_norm": True,
        "n_layers": 2,
        "d_head_qk": 3,
        "d_head_vo": 5,
    },
}

# different learning rates and stops: early by loss_tol, by accuracy, at max_steps (twice)
CFGS = [
    TrainConfig(lr=0.05, max_steps=300, loss_tol=0.2, log_every=20),
    TrainConfig(lr=0.03, max_steps=300, loss_tol=None, stop_at_accuracy=True, seed=3),
    TrainConfig(lr=0.02, max_steps=40, loss_tol=1e-4, weight_decay=1e-3, log_every=7),
    TrainConfig(lr=1e-3, max_steps=25, loss_tol=0.01, batch_size=500),
]


def build(switch: str, seeds, V: int = 8, N: int = 12, n: int = 3, dtype=torch.float64):
    cfg = ToyTransformerConfig(V=V, n_ctx=4, d_model=16, n_heads=2, **SWITCHES[switch])
    models = [ToyTransformer(cfg, seed=s).to(dtype) for s in seeds]
    gen = torch.Generator().manual_seed(123)
    for model in models:  # switched-on extras start at zero / identity: make them matter
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "ln" in name or name.rsplit(".", 1)[-1].startswith("b_") or name == "W_pos":
                    p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=dtype))
    if n == 3:
        datasets = [random_triples(V=V, N=N, seed=10 + s).tuples for s in seeds]
    else:
        rng = np.random.default_rng(0)
        datasets = [rng.integers(0, V, size=(N, n)) for _ in seeds]
    return models, datasets


def sequential(models, datasets, cfgs):
    copies = [copy.deepcopy(m) for m in models]
    results = [train(m, d, c) for m, d, c in zip(copies, datasets, cfgs, strict=True)]
    return copies, results


def assert_same_training(models_b, results_b, models_s, results_s, tol=1e-8, skip=()):
    """Same steps, stops and logs; losses and weights within ``tol`` (relative and absolute)."""
    for mb, rb, ms, rs in zip(models_b, results_b, models_s, results_s, strict=True):
        assert (rb.steps, rb.stop_reason) == (rs.steps, rs.stop_reason)
        assert rb.loss == pytest.approx(rs.loss, rel=tol, abs=tol)
        assert rb.accuracy == rs.accuracy
        assert [e["step"] for e in rb.log] == [e["step"] for e in rs.log]
        for eb, es in zip(rb.log, rs.log, strict=True):
            assert eb["loss"] == pytest.approx(es["loss"], rel=tol, abs=tol)
            assert eb["accuracy"] == es["accuracy"]
        for (kb, pb), (ks, ps) in zip(mb.named_parameters(), ms.named_parameters(), strict=True):
            assert kb == ks
            if kb.rsplit(".", 1)[-1] not in skip:
                torch.testing.assert_close(pb, ps, rtol=tol, atol=tol, msg=kb)
        assert not mb.training


# Equality is tested in float64: in float32 the rounding of a reordered sum is amplified by
# Adam wherever a gradient is near zero (it divides the gradient by its own size), and some of
# these tiny models (layer norms, two layers, lr 0.05) are chaotic enough that sequential
# training itself ends elsewhere after a 1e-7 relative nudge of its initial weights. In
# float64 batched and sequential agree to 1e-9 (b_K, see below) or better.
@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_matches_sequential(switch):
    models, datasets = build(switch, seeds=[0, 1, 2, 3])
    models_s, results_s = sequential(models, datasets, CFGS)
    assert {r.stop_reason for r in results_s} == {"loss_tol", "accuracy", "max_steps"}
    assert results_s[0].steps < 300
    results = train_batched(models, datasets, CFGS)
    assert_same_training(models, results, models_s, results_s)


@pytest.mark.parametrize("switch", ["default", "mlp_bias_positional"])
def test_matches_sequential_float32(switch):
    models, datasets = build(switch, seeds=[0, 1, 2, 3], dtype=torch.float32)
    models_s, results_s = sequential(models, datasets, CFGS)
    results = train_batched(models, datasets, CFGS)
    # b_K has a zero gradient in exact arithmetic (softmax ignores a shift shared by all
    # keys), so Adam walks it by rounding noise, differently in any summation order; it does
    # not change what the model computes. Elsewhere float32 rounding, amplified by Adam on
    # near-zero gradients, stays under 1e-4 (3e-5 at most here).
    assert_same_training(models, results, models_s, results_s, tol=1e-4, skip=("b_K",))
    tuples = torch.as_tensor(datasets[0])[:, :-1]
    with torch.no_grad():
        torch.testing.assert_close(
            models[0].next_token_logits(tuples), models_s[0].next_token_logits(tuples),
            rtol=1e-4, atol=1e-4,
        )  # fmt: skip


def test_all_mode_matches_sequential():
    models, datasets = build("default", seeds=[0, 1, 2], n=4)
    cfgs = [
        TrainConfig(mode="all", lr=0.05, max_steps=60, loss_tol=1.0),
        TrainConfig(mode="all", lr=0.02, max_steps=30, log_every=10),
        TrainConfig(mode="all", lr=0.05, max_steps=60, loss_tol=None, weight_decay=0.01),
    ]
    models_s, results_s = sequential(models, datasets, cfgs)
    assert results_s[0].stop_reason == "loss_tol"
    results = train_batched(models, datasets, cfgs)
    assert_same_training(models, results, models_s, results_s)


def test_single_member():
    models, datasets = build("default", seeds=[5])
    cfg = TrainConfig(lr=0.05, max_steps=200, loss_tol=0.1)
    models_s, results_s = sequential(models, datasets, [cfg])
    results = train_batched(models, datasets, [cfg])
    assert results[0].stop_reason == "loss_tol"
    assert_same_training(models, results, models_s, results_s)


def test_frozen_member_keeps_its_weights_at_its_stop():
    # member 0 stops at step 5 while the others go on to 80: it has its step-5 weights
    models, datasets = build("mlp_bias_positional", seeds=[0, 1, 2])
    cfgs = [
        TrainConfig(lr=0.05, max_steps=5),
        TrainConfig(lr=0.05, max_steps=80, loss_tol=None),
        TrainConfig(lr=0.05, max_steps=80, loss_tol=None),
    ]
    at_5, _ = sequential(models[:1], datasets[:1], cfgs[:1])
    seen = []
    results = train_batched(models, datasets, cfgs, progress=lambda d, t: seen.append((d, t)))
    assert [r.steps for r in results] == [5, 80, 80]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert results[0].seconds <= results[1].seconds
    for (k, p), q in zip(models[0].named_parameters(), at_5[0].parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-7, atol=1e-8, msg=k)
    # its weights are not those of a model trained further
    assert not torch.allclose(models[0].W_E, models[1].W_E)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_member_does_not_depend_on_the_others(dtype):
    models, datasets = build("default", seeds=[0, 1, 2], dtype=dtype)
    cfgs = [TrainConfig(lr=0.05, max_steps=150, loss_tol=0.05, seed=s) for s in range(3)]
    alone = copy.deepcopy(models[0])
    (r_alone,) = train_batched([alone], datasets[:1], cfgs[:1])
    together = train_batched(models, datasets, cfgs)
    assert together[0].steps == r_alone.steps
    assert together[0].stop_reason == r_alone.stop_reason == "loss_tol"
    tol = 1e-5 if dtype == torch.float32 else 1e-8
    for p, q in zip(models[0].parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=tol, atol=tol)


def test_adam_update_is_torch_adam_bitwise():
    gen = torch.Generator().manual_seed(0)
    lrs, wds = [1e-2, 3e-2, 1e-3, 1e-2], [0.0, 1e-2, 0.0, 1e-3]
    shapes = [(7, 13), (3,), (2, 64, 5)]  # odd sizes: vector loops and their tails
    stacked = [torch.randn((4, *s), generator=gen) for s in shapes]
    refs = [[p[m].clone().requires_grad_() for p in stacked] for m in range(4)]
    opts = [
        torch.optim.Adam(r, lr=lr, weight_decay=wd)
        for r, lr, wd in zip(refs, lrs, wds, strict=True)
    ]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in stacked]
    for t in range(1, 12):
        grads = [torch.randn(p.shape, generator=gen) for p in stacked]
        for m, opt in enumerate(opts):
            for r, g in zip(refs[m], grads, strict=True):
                r.grad = g[m].clone()
            opt.step()
        for p, g, (m1, m2) in zip(stacked, grads, moments, strict=True):
            adam_update(p, g, m1, m2, t, lrs, wds)
    for m in range(4):
        for p, r in zip(stacked, refs[m], strict=True):
            assert torch.equal(p[m], r.detach())


@pytest.mark.parametrize("score_table", [True, False])
@pytest.mark.parametrize("switch", ["default", "mlp_bias_positional"])
def test_fast_forward_matches_vmap(switch, score_table):
    """Logits and gradients of the hand-batched forward, both ways of scoring."""
    models, datasets = build(switch, seeds=[0, 1, 2])
    tuples = torch.as_tensor(np.stack(datasets))
    out = {}
    for name in ("fast", "vmap"):
        params = {
            k: torch.stack([dict(m.named_parameters())[k].detach() for m in models])
            for k, _ in models[0].named_parameters()
        }
        for p in params.values():
            p.requires_grad_()
        if name == "fast":
            logits, targets = toy_last_logits(params, tuples, models[0].cfg, score_table)
        else:
            logits, targets = vmap_logits(models[0], "last")(params, tuples)
        member_losses(logits, targets).sum().backward()
        out[name] = logits.detach(), targets, {k: p.grad for k, p in params.items()}
    (fast, targets, grads), (slow, targets_slow, grads_slow) = out["fast"], out["vmap"]
    assert fast.shape == (3, 12, 8)
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-10)
    assert torch.equal(targets, targets_slow)
    for k, g in grads.items():
        torch.testing.assert_close(g, grads_slow[k], rtol=1e-10, atol=1e-10, msg=k)
    for m, model in enumerate(models):
        with torch.no_grad():
            own = model.next_token_logits(tuples[m, :, :-1])
        torch.testing.assert_close(fast[m], own, rtol=1e-10, atol=1e-10)


def test_cannot_batch():
    models, datasets = build("default", seeds=[0, 1])
    cfg = TrainConfig(max_steps=5)
    assert can_batch(models, datasets, [cfg, cfg]) is None
    other, _ = build("mlp_bias_positional", seeds=[0])
    short = random_triples(V=8, N=11, seed=0).tuples
    cases = {
        "shape": (models, [datasets[0], short], [cfg, cfg]),
        "config": ([models[0], other[0]], datasets, [cfg, cfg]),
        "minibatch": (models, datasets, [cfg, dataclasses.replace(cfg, batch_size=4)]),
        "mode": (models, datasets, [cfg, dataclasses.replace(cfg, mode="all")]),
        "count": (models, datasets, [cfg]),
        "class": ([models[0], torch.nn.Linear(2, 2)], datasets, [cfg, cfg]),
    }
    words = {"shape": "shape", "config": "config", "minibatch": "minibatch", "mode": "mode"}
    for case, (ms, ds, cs) in cases.items():
        reason = can_batch(ms, ds, cs)
        assert reason is not None, case
        assert words.get(case, "") in reason
        before = [{k: v.clone() for k, v in m.state_dict().items()} for m in ms]
        with pytest.raises(InputError) as err:
            train_batched(ms, ds, cs)
        assert reason in str(err.value)
        for m, state in zip(ms, before, strict=True):  # nothing was trained
            for k, v in m.state_dict().items():
                assert torch.equal(v, state[k])


def test_nothing_to_train():
    assert train_batched([], [], []) == []


@pytest.mark.parametrize("shared", [True, False], ids=["same-data", "own-data"])
@pytest.mark.parametrize("name", ["cp", "distmult", "rescal", "complex"])
def test_factorizations_match_sequential(name, shared):
    # same data: vmap reads one unbatched copy, and RESCAL groups its contexts by relation;
    # own data: the batched gather path
    from artifactlab.models import MODELS

    config_cls, model_cls = MODELS[name].config, MODELS[name].model_class
    models = [model_cls(config_cls(V=9, rank=3), seed=s).double() for s in range(3)]
    datasets = [random_triples(V=9, N=30, seed=0 if shared else s).tuples for s in range(3)]
    cfgs = [
        TrainConfig(lr=0.05, max_steps=40, loss_tol=None, log_every=10, seed=s) for s in range(3)
    ]
    models_s, results_s = sequential(models, datasets, cfgs)
    results = train_batched(models, datasets, cfgs)
    assert_same_training(models, results, models_s, results_s)
