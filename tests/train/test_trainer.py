"""Training: stopping rules, modes, minibatches, determinism, config validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.train import TrainConfig, TrainResult, train


def tiny(V: int = 8, seed: int = 0, n_ctx: int = 3) -> ToyTransformer:
    return ToyTransformer(ToyTransformerConfig(V=V, n_ctx=n_ctx, d_model=16, n_heads=2), seed=seed)


def last_accuracy(model, tuples: np.ndarray) -> float:
    t = torch.as_tensor(tuples)
    with torch.no_grad():
        pred = model.next_token_logits(t[:, :-1]).argmax(-1)
    return float((pred == t[:, -1]).float().mean())


def all_positions(model, tuples: np.ndarray) -> tuple[float, float, float]:
    """Mean CE over every position, accuracy over every position, CE at the first position."""
    t = torch.as_tensor(tuples)
    with torch.no_grad():
        logits = model(t[:, :-1])  # (B, n-1, V)
    targets = t[:, 1:]
    ce = F.cross_entropy(logits.flatten(0, 1), targets.reshape(-1)).item()
    acc = (logits.argmax(-1) == targets).float().mean().item()
    first = F.cross_entropy(logits[:, 0], targets[:, 0]).item()
    return ce, acc, first


@pytest.mark.parametrize("seed", [0, 1])
def test_last_mode_reaches_full_accuracy(seed):
    ds = random_triples(V=8, N=10, seed=seed)
    model = tiny(seed=seed)
    assert last_accuracy(model, ds.tuples) < 1.0
    result = train(
        model, ds.tuples, TrainConfig(max_steps=500, lr=0.05, loss_tol=None, stop_at_accuracy=True)
    )
    assert isinstance(result, TrainResult)
    assert result.stop_reason == "accuracy"
    assert result.accuracy == 1.0
    assert result.steps < 500
    assert last_accuracy(model, ds.tuples) == 1.0
    assert not model.training  # handed back in eval mode
    assert result.log[-1]["step"] == result.steps
    assert result.log[-1]["accuracy"] == 1.0
    assert result.seconds >= 0


def test_loss_tol_stop():
    ds = random_triples(V=8, N=10, seed=0)
    model = tiny()
    cfg = TrainConfig(max_steps=2000, lr=0.05, loss_tol=0.05, stop_at_accuracy=False)
    result = train(model, ds.tuples, cfg)
    assert result.stop_reason == "loss_tol"
    assert result.loss < 0.05
    assert result.steps < 2000
    t = torch.as_tensor(ds.tuples)
    with torch.no_grad():
        loss = F.cross_entropy(model.next_token_logits(t[:, :-1]), t[:, -1]).item()
    assert loss == pytest.approx(result.loss, rel=1e-5)


def test_loss_tol_checked_before_accuracy():
    ds = random_triples(V=8, N=10, seed=0)
    # a huge tolerance fires at the very first step, before any update
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train(model, ds.tuples, TrainConfig(loss_tol=100.0))
    assert result.stop_reason == "loss_tol"
    assert result.steps == 0  # steps counts optimizer updates
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_max_steps_stop():
    ds = random_triples(V=8, N=10, seed=0)
    model = tiny()
    before = model.W_E.detach().clone()
    result = train(model, ds.tuples, TrainConfig(max_steps=3, lr=1e-4, loss_tol=1e-9))
    assert result.stop_reason == "max_steps"
    assert result.steps == 3
    assert result.accuracy < 1.0
    assert not torch.equal(model.W_E.detach(), before)  # it did train


def test_all_mode_trains_every_prefix():
    ds = random_triples(V=8, N=12, seed=0)
    model = tiny()
    ce0, _, first0 = all_positions(model, ds.tuples)
    seen = []
    cfg = TrainConfig(mode="all", max_steps=150, lr=0.05, log_every=25)
    result = train(model, ds.tuples, cfg, progress=lambda s, loss, acc: seen.append((s, loss, acc)))
    ce1, acc1, first1 = all_positions(model, ds.tuples)
    assert ce1 < 0.7 * ce0
    assert first1 < 0.7 * first0  # the first position (predict t2 from t1) is trained too
    assert result.loss == pytest.approx(ce1, rel=1e-5)
    assert result.accuracy == pytest.approx(acc1)
    # accuracy is over all positions, not only the last one
    assert result.accuracy != pytest.approx(last_accuracy(model, ds.tuples))
    losses = [loss for _, loss, _ in seen]
    assert [s for s, _, _ in seen] == [0, 25, 50, 75, 100, 125][: len(seen)]
    assert losses[-1] < losses[0]


def test_last_mode_leaves_first_position_untrained_target():
    # in 'last' mode only the final token is a target: the loss reported is the last-token CE
    ds = random_triples(V=8, N=12, seed=0)
    model = tiny()
    result = train(model, ds.tuples, TrainConfig(max_steps=40, lr=0.05, stop_at_accuracy=False))
    t = torch.as_tensor(ds.tuples)
    with torch.no_grad():
        last = F.cross_entropy(model.next_token_logits(t[:, :-1]), t[:, -1]).item()
    assert result.loss == pytest.approx(last, rel=1e-5)
    ce_all, _, _ = all_positions(model, ds.tuples)
    assert ce_all != pytest.approx(last, rel=1e-3)


def test_all_mode_longer_tuples():
    rng = np.random.default_rng(0)
    tuples = rng.integers(0, 6, size=(10, 5)).astype(np.int64)
    model = tiny(V=6, n_ctx=5)
    ce0, _, _ = all_positions(model, tuples)
    result = train(model, tuples, TrainConfig(mode="all", max_steps=60, lr=0.05))
    assert result.loss < ce0


def test_minibatch_mode_runs():
    ds = random_triples(V=8, N=20, seed=2)
    model = tiny()
    cfg = TrainConfig(
        max_steps=600, lr=0.05, batch_size=4, log_every=10, loss_tol=None, stop_at_accuracy=True
    )
    result = train(model, ds.tuples, cfg)
    assert result.stop_reason == "accuracy"
    assert result.steps % 10 == 0  # stopping is checked at logged steps
    assert result.accuracy == 1.0
    assert last_accuracy(model, ds.tuples) == 1.0


def test_batch_size_at_least_n_is_full_batch():
    ds = random_triples(V=8, N=10, seed=0)
    a, b = tiny(), tiny()
    cfg = TrainConfig(max_steps=30, lr=0.05, loss_tol=None)
    ra = train(a, ds.tuples, cfg)
    rb = train(b, ds.tuples, dataclasses.replace(cfg, batch_size=50))
    assert ra.steps == rb.steps == 30
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


@pytest.mark.parametrize("batch_size", [None, 4])
def test_same_seed_bitwise_identical(batch_size):
    ds = random_triples(V=8, N=12, seed=1)
    cfg = TrainConfig(max_steps=60, lr=0.05, batch_size=batch_size, stop_at_accuracy=False, seed=5)
    runs = []
    for _ in range(2):
        model = tiny(seed=7)
        result = train(model, ds.tuples, cfg)
        D = DataTensor.from_tuples(ds.tuples, V=8)
        report = evaluate_completion(model.next_token_logits, D, taus=(0.3, 0.5))
        runs.append((model.state_dict(), result, report))
    (sa, ra, pa), (sb, rb, pb) = runs
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert ra.loss == rb.loss and ra.steps == rb.steps
    assert pa.n_artifacts == pb.n_artifacts
    assert pa.n_artifacts_observed_contexts == pb.n_artifacts_observed_contexts
    assert [(a.context, a.token, a.prob) for a in pa.top_artifacts] == [
        (a.context, a.token, a.prob) for a in pb.top_artifacts
    ]
    assert pa.n_artifacts[0.3] > 0


def test_minibatch_seed_changes_order():
    ds = random_triples(V=8, N=12, seed=1)
    states = []
    for seed in (0, 1):
        model = tiny(seed=7)
        train(model, ds.tuples, TrainConfig(max_steps=5, lr=0.05, batch_size=3, seed=seed))
        states.append(model.W_E.detach().clone())
    assert not torch.equal(states[0], states[1])


@pytest.mark.parametrize(
    "kw",
    [
        {"mode": "first"},
        {"lr": 0.0},
        {"lr": -0.1},
        {"max_steps": 0},
        {"log_every": 0},
        {"batch_size": 0},
        {"batch_size": -3},
    ],
)
def test_bad_train_config(kw):
    with pytest.raises(InputError):
        TrainConfig(**kw)


def test_train_config_to_dict_round_trip():
    cfg = TrainConfig(mode="all", lr=0.2, batch_size=3, loss_tol=0.1)
    assert TrainConfig(**cfg.to_dict()) == cfg
