"""The sampled artifact estimate against the exact count, on problems small enough to enumerate.

The cheap model here is a random-logits table: one row of logits per prefix, looked up,
so a coverage test over hundreds of seeds takes seconds. The exact count always comes
from :func:`~artifactlab.tensor.completion.evaluate_completion`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.models import MODELS, NGramConfig, NGramModel, ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor, encode
from artifactlab.tensor.completion import context_block, evaluate_completion
from artifactlab.tensor.context_counts import _NGramIndex
from artifactlab.tensor.context_sources import ModelSource
from artifactlab.tensor.estimate import context_artifacts, estimate_artifacts
from artifactlab.train import TrainConfig, train


class TableModel:
    """Random logits for every prefix of length 1..m, looked up: a cheap exact model."""

    def __init__(self, V: int, m: int, seed: int, scale: float = 2.5) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.V = V
        self.tables = {j: scale * torch.randn(V**j, V, generator=gen) for j in range(1, m + 1)}

    def __call__(self, ctx: torch.Tensor) -> torch.Tensor:
        keys = torch.from_numpy(encode(ctx.numpy(), self.V))
        return self.tables[ctx.shape[1]][keys]


@functools.cache
def problem(V: int, n: int, seed: int = 0, tuples: int | None = None):
    """A table model, random training tuples, and the exact report at the test taus."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, V, size=(tuples or 2 * V ** (n - 1), n))
    D = DataTensor.from_tuples(data, V)
    model = TableModel(V, n - 1, seed)
    exact = evaluate_completion(model, D, taus=(0.2, 0.5), top_k=0)
    return model, D, exact


@functools.cache
def trained_transformer(V: int, n: int):
    """A tiny toy transformer trained briefly on random tuples of length n."""
    rng = np.random.default_rng(V + n)
    data = rng.integers(0, V, size=(3 * V, n))
    model = ToyTransformer(ToyTransformerConfig(V=V, n_ctx=n, d_model=16, n_heads=2), seed=0)
    train(model, data, TrainConfig(max_steps=150, loss_tol=None, stop_at_accuracy=False))
    model.eval()
    D = DataTensor.from_tuples(data, V)
    return model, D, evaluate_completion(model.next_token_fn(), D, taus=(0.2, 0.5), top_k=0)


def covers(est, exact, tau) -> bool:
    return est.ci_low[tau] <= exact.n_artifacts[tau] <= est.ci_high[tau]


# --- the per-context rule is completion.py's --------------------------------------------


@pytest.mark.parametrize("V,n", [(6, 3), (20, 3), (6, 4)])
def test_per_context_counts_sum_to_the_exact_count(V, n):
    model, D, exact = problem(V, n)
    contexts = context_block(0, V ** (n - 1), V, n - 1).numpy()
    per = context_artifacts(model, D, contexts, (0.2, 0.5), batch=17)
    assert per.sum(0).tolist() == [exact.n_artifacts[0.2], exact.n_artifacts[0.5]]
    observed = np.isin(encode(contexts, V), encode(D.contexts, V))
    assert per[observed].sum(0).tolist() == list(exact.n_artifacts_observed_contexts.values())
    assert per[:, 1].max() <= 1 and per[:, 0].max() <= 4  # at most ceil(1/tau) - 1


@pytest.mark.parametrize("n", [3, 4])
def test_per_context_counts_of_a_trained_transformer(n):
    model, D, exact = trained_transformer(6, n)
    contexts = context_block(0, 6 ** (n - 1), 6, n - 1).numpy()
    per = context_artifacts(model.next_token_fn(), D, contexts, (0.2, 0.5))
    assert per.sum(0).tolist() == [exact.n_artifacts[0.2], exact.n_artifacts[0.5]]


def test_per_context_counts_at_tau_one_over_v_match_exact():
    # the count model is uniform (p = 1/V exactly) in unobserved contexts: the borderline case
    ds = random_triples(V=7, N=3, seed=7)
    model = NGramModel(NGramConfig(V=7)).fit(ds.tuples)
    D = DataTensor.from_tuples(ds.tuples, 7)
    taus = (1 / 14, 1 / 7)
    exact = evaluate_completion(model.next_token_fn(), D, taus=taus, top_k=0).n_artifacts
    per = context_artifacts(model.next_token_fn(), D, context_block(0, 49, 7, 2).numpy(), taus)
    assert per.sum(0).tolist() == [exact[t] for t in sorted(taus)]


def test_long_tuples_use_row_bytes_for_membership():
    V, n = 50, 12  # V^n is past 2^62: no integer keys
    rng = np.random.default_rng(0)
    data = rng.integers(0, V, size=(40, n))
    D = DataTensor.from_tuples(data, V)
    index = _NGramIndex(D)
    assert not index.packed
    queries = np.concatenate([data[:20], rng.integers(0, V, size=(20, n))])
    expected = [tuple(r) in {tuple(t) for t in data.tolist()} for r in queries.tolist()]
    assert index.contains(queries[:, :-1], queries[:, -1]).tolist() == expected
    model = ToyTransformer(ToyTransformerConfig(V=V, n_ctx=n, d_model=8, n_heads=2), seed=0)
    est = estimate_artifacts(model.next_token_fn(), D, (0.05, 0.5), samples=300, seed=1)
    assert est.n_contexts == V ** (n - 1) and math.isfinite(est.estimate[0.05])


# --- the estimate against the exact count -----------------------------------------------


@pytest.mark.parametrize("V,n", [(8, 3), (6, 4)])
def test_uniform_estimate_converges_to_the_exact_count(V, n):
    model, D, exact = problem(V, n)
    est = estimate_artifacts(model, D, (0.2, 0.5), samples=400 * V ** (n - 1), seed=2)
    for tau in (0.2, 0.5):
        assert covers(est, exact, tau)
        assert est.estimate[tau] == pytest.approx(exact.n_artifacts[tau], rel=0.02)
        assert est.rate[tau] == pytest.approx(est.estimate[tau] / V ** (n - 1))
    assert est.method == {0.2: "bootstrap-percentile", 0.5: "wilson"}
    assert est.scope == "all V^(n-1) contexts" and est.stopped == "budget"


@pytest.mark.parametrize("n", [3, 4])
def test_uniform_estimate_of_a_trained_transformer(n):
    model, D, exact = trained_transformer(6, n)
    est = estimate_artifacts(model.next_token_fn(), D, (0.2, 0.5), samples=20_000, seed=0)
    for tau in (0.2, 0.5):
        assert covers(est, exact, tau)
        assert est.estimate[tau] == pytest.approx(exact.n_artifacts[tau], rel=0.05)


def test_given_every_context_is_the_uniform_estimate():
    model, D, exact = problem(8, 3)
    everything = context_block(0, 64, 8, 2).numpy()
    given = estimate_artifacts(model, D, (0.2, 0.5), 20_000, "given", seed=6, given=everything)
    uniform = estimate_artifacts(model, D, (0.2, 0.5), 20_000, "uniform", seed=6)
    assert given.scope == "the given contexts" and given.n_contexts == 64
    for tau in (0.2, 0.5):
        assert covers(given, exact, tau) and covers(uniform, exact, tau)
        assert given.method[tau] == uniform.method[tau]


def test_given_weights_are_normalised_and_repeats_add_up():
    model, D, _ = problem(8, 3)
    ctx = np.array([[0, 1], [2, 3], [0, 1]])
    per = context_artifacts(model, D, ctx[:2], (0.5,))[:, 0]
    est = estimate_artifacts(model, D, 0.5, 5000, "given", given=(ctx, [1.0, 2.0, 1.0]), seed=0)
    assert est.n_contexts == 2 and est.rate[0.5] == pytest.approx(per.mean(), abs=0.05)
    assert est.ci_low[0.5] <= per.sum() <= est.ci_high[0.5]  # the count over the two


def test_corpus_estimate_counts_the_observed_contexts():
    model, D, exact = problem(10, 3, tuples=120)
    est = estimate_artifacts(model, D, (0.2, 0.5), samples=50_000, source="corpus", seed=2)
    assert est.scope == "observed contexts" and est.n_contexts == len(D.contexts)
    for tau in (0.2, 0.5):
        truth = exact.n_artifacts_observed_contexts[tau]
        assert est.ci_low[tau] <= truth <= est.ci_high[tau]
        assert est.estimate[tau] == pytest.approx(truth, rel=0.05)


def test_model_source_draws_contexts_with_the_model_probabilities():
    V = 5
    model, D, exact = problem(V, 3)
    src = ModelSource(model, V, 2, batch=64)
    ctx, w = src.draw(60_000, np.random.default_rng(0))
    p = torch.softmax(model.tables[1].double(), 1).numpy()  # p(t2 | t1)
    q = p / V  # q(t1, t2)
    keys = encode(ctx, V)
    np.testing.assert_allclose(w, 1 / q.reshape(-1)[keys])
    freq = np.bincount(keys, minlength=V * V) / len(keys)
    np.testing.assert_allclose(freq, q.reshape(-1), atol=0.006)
    est = estimate_artifacts(model, D, (0.2, 0.5), samples=60_000, source="model", seed=0)
    assert est.scope.startswith("contexts the model generates")
    for tau in (0.2, 0.5):  # the importance-weighted count is the whole space's
        assert covers(est, exact, tau)
        assert est.estimate[tau] == pytest.approx(exact.n_artifacts[tau], rel=0.05)


def test_model_source_is_refused_for_a_model_of_whole_contexts_only():
    cp = MODELS["cp"].build(V=6, n_ctx=3, rank=4)
    D = DataTensor.from_tuples(np.array([[0, 1, 2], [3, 4, 5]]), V=6)
    with pytest.raises(InputError, match="cannot generate a context token by token"):
        estimate_artifacts(cp.next_token_fn(), D, 0.5, samples=10, source="model")


#: options of the registered models that generate (the others are factorizations: a rank)
OPTIONS = {
    "attn": {"d_model": 8, "n_heads": 2},
    "attn-mlp": {"d_model": 8, "n_heads": 2},
    "ngram": {},
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model(name):
    V = 7
    rng = np.random.default_rng(1)
    data = rng.integers(0, V, size=(30, 3))
    model = MODELS[name].build(V=V, n_ctx=3, **OPTIONS.get(name, {"rank": 4}))
    if name == "ngram":
        model.fit(data)
    model.eval()
    D = DataTensor.from_tuples(data, V)
    exact = evaluate_completion(model.next_token_fn(), D, taus=(0.1, 0.5), top_k=0)
    generates = name in OPTIONS  # the factorizations read whole contexts only
    for source in ("uniform", "corpus", "model") if generates else ("uniform", "corpus"):
        fn = model.next_token_fn()
        est = estimate_artifacts(fn, D, (0.1, 0.5), 3000, source, seed=0, confidence=0.999)
        assert all(math.isfinite(est.estimate[t]) for t in est.tau)
        if source == "uniform":
            assert all(covers(est, exact, t) for t in (0.1, 0.5))


# --- THE COVERAGE TEST ------------------------------------------------------------------


@pytest.mark.parametrize("V,n,samples", [(10, 3, 300), (16, 3, 200), (6, 4, 300)])
def test_the_95_percent_interval_covers_the_exact_count(V, n, samples):
    seeds = range(200)  # at least 50: 200 keep the coverage rate itself tight
    covered = {0.2: 0, 0.5: 0}
    widths = {0.2: [], 0.5: []}
    for seed in seeds:
        model, D, exact = problem(V, n, seed)
        est = estimate_artifacts(model, D, (0.2, 0.5), samples=samples, seed=seed, n_boot=1000)
        for tau in covered:
            covered[tau] += covers(est, exact, tau)
            widths[tau].append(est.rel_half_width[tau])
    rates = {tau: c / len(seeds) for tau, c in covered.items()}
    assert all(r >= 0.90 for r in rates.values()), rates
    assert all(np.median(w) < 0.25 for w in widths.values())  # informative, not just wide


# --- stopping, reproducibility, bad input -----------------------------------------------


def test_target_rel_error_stops_when_reached():
    model, D, _ = problem(12, 3)
    est = estimate_artifacts(model, D, (0.2, 0.5), 100, target_rel_error=0.03, max_samples=10**6)
    assert est.stopped == "target" and 100 < est.n_samples < 10**6
    assert all(w < 0.03 for w in est.rel_half_width.values())
    capped = estimate_artifacts(model, D, 0.5, 100, target_rel_error=0.001, max_samples=2000)
    assert capped.stopped == "cap" and capped.n_samples == 2000
    assert capped.rel_half_width[0.5] >= 0.001
    first = estimate_artifacts(model, D, 0.5, 100, target_rel_error=0.9, max_samples=10**6)
    assert first.stopped == "target" and first.n_samples == 100


def test_no_artifact_sampled_gives_an_upper_bound():
    model, D, _ = problem(8, 3)
    est = estimate_artifacts(model, D, (0.2, 0.5, 0.9999), samples=50, seed=0)
    assert est.estimate[0.9999] == 0 and est.method[0.9999] == "wilson"
    assert est.ci_high[0.9999] > 0  # Wilson's upper limit, scaled
    assert est.rel_half_width[0.9999] == math.inf


def test_the_same_seed_gives_the_same_result():
    model, D, _ = problem(8, 3)
    for source in ("uniform", "corpus", "model"):
        a = estimate_artifacts(model, D, (0.2, 0.5), 3000, source, seed=11)
        b = estimate_artifacts(model, D, (0.2, 0.5), 3000, source, seed=11, batch=7)
        c = estimate_artifacts(model, D, (0.2, 0.5), 3000, source, seed=12)
        assert a.to_dict() == b.to_dict() and a.to_dict() != c.to_dict()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"samples": 0}, "--samples: must be >= 1"),
        ({"target_rel_error": -0.1, "max_samples": 100}, "--target-rel-error"),
        ({"target_rel_error": 0.0, "max_samples": 100}, "--target-rel-error"),
        ({"target_rel_error": 1.0, "max_samples": 100}, "--target-rel-error"),
        ({"target_rel_error": float("nan"), "max_samples": 100}, "--target-rel-error"),
        ({"target_rel_error": 0.1}, "needs a cap"),
        ({"target_rel_error": 0.1, "max_samples": 5}, "--max-samples: must be >= 10"),
        ({"max_samples": 100}, "caps --target-rel-error"),
        ({"source": "zipf"}, "unknown source 'zipf'"),
        ({"source": "given"}, "given="),
        ({"given": np.zeros((2, 2), dtype=int)}, "given="),
        ({"source": "given", "given": np.zeros((2, 3), dtype=int)}, "n-1 = 2"),
        ({"source": "given", "given": np.full((2, 2), 8)}, "token ids"),
        ({"source": "given", "given": (np.zeros((2, 2), int), [1.0, -1.0])}, "weights"),
        ({"taus": (0.0,)}, "--tau"),
        ({"taus": 1.5}, "--tau"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_bad_input(kwargs, match):
    model, D, _ = problem(8, 3)
    args = {"taus": 0.5, "samples": 10} | kwargs
    with pytest.raises(InputError, match=match):
        estimate_artifacts(model, D, **args)


def test_to_dict_carries_every_tau():
    model, D, _ = problem(8, 3)
    data = estimate_artifacts(model, D, (0.5, 0.2), samples=500, seed=0).to_dict()
    assert data["tau"] == [0.2, 0.5] and list(data["estimates"]) == ["0.2", "0.5"]
    for row in data["estimates"].values():
        assert {"estimate", "ci_low", "ci_high", "n_samples", "method", "rate", "rate_ci"} <= set(
            row
        )
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"] and row["n_samples"] == 500
