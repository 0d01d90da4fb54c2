"""Streamed completion tensor against a slow, obviously-correct reference written here."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import torch

from artifactlab.errors import InputError
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import check_enumerable, context_block, evaluate_completion
from artifactlab.tensor.consistency import consistency
from artifactlab.tensor.dense import completion_dense, count_artifacts_naive

TAUS = (0.1, 0.3, 0.5, 0.9)


# ---------------------------------------------------------------- the reference


def all_probs(model: ToyTransformer, V: int, n: int) -> dict[tuple[int, ...], np.ndarray]:
    """p(. | c) for every context, via the full forward pass and a float64 softmax."""
    ctxs = list(itertools.product(range(V), repeat=n - 1))
    with torch.no_grad():
        logits = model(torch.tensor(ctxs, dtype=torch.int64))[:, -1].double()
    probs = torch.softmax(logits, dim=-1).numpy()
    return {c: probs[i] for i, c in enumerate(ctxs)}


def reference(model, tuples: np.ndarray, V: int, taus=TAUS) -> dict:
    """Artifacts and consistency by brute force over every (context, token)."""
    n = tuples.shape[1]
    counts = Counter(tuple(r) for r in tuples.tolist())
    observed = {g[:-1] for g in counts}
    probs = all_probs(model, V, n)
    n_art = {}
    n_art_obs = {}
    for tau in taus:
        hits = [
            (c, t)
            for c, p in probs.items()
            for t in range(V)
            if (*c, t) not in counts and p[t] > tau
        ]
        n_art[tau] = len(hits)
        n_art_obs[tau] = sum(c in observed for c, _ in hits)
    artifacts = sorted(
        (
            (float(p[t]), c, t)
            for c, p in probs.items()
            for t in range(V)
            if (*c, t) not in counts and p[t] > min(taus)
        ),
        reverse=True,
    )
    # consistency over observed contexts: KL(q || p), argmax checks
    kls = []
    hits_ngrams = 0
    argmax_in_fiber = 0
    for c in observed:
        total = sum(k for g, k in counts.items() if g[:-1] == c)
        kl = 0.0
        fiber = {g[-1]: k for g, k in counts.items() if g[:-1] == c}
        for t, k in fiber.items():
            q = k / total
            kl += q * (np.log(q) - np.log(probs[c][t]))
        kls.append(kl)
        best = int(np.argmax(probs[c]))
        hits_ngrams += sum(t == best for t in fiber)
        argmax_in_fiber += best in fiber
    return {
        "n_artifacts": n_art,
        "n_artifacts_observed_contexts": n_art_obs,
        "artifacts": artifacts,
        "mean_kl": float(np.mean(kls)),
        "max_kl": float(np.max(kls)),
        "train_accuracy": hits_ngrams / len(counts),
        "argmax_in_fiber": argmax_in_fiber / len(observed),
        "n_train": len(counts),
        "n_observed": len(observed),
    }


# ------------------------------------------------------------ models and data


def tiny_model(V: int, n: int, seed: int, sharpen: float = 3.0, **kw) -> ToyTransformer:
    cfg = ToyTransformerConfig(V=V, n_ctx=n, d_model=8, n_heads=2, **kw)
    model = ToyTransformer(cfg, seed=seed).double()
    with torch.no_grad():
        model.W_U.mul_(sharpen)  # confident predictions, so every threshold has artifacts
    model.eval()
    return model


def tiny_data(model: ToyTransformer, V: int, n: int, seed: int) -> np.ndarray:
    """Tuples with repeats, multi-valued fibers, and some of the model's own argmaxes.

    Some n-grams are the model's argmax (so they must not count as artifacts),
    some contexts get two different next tokens, one with a repeat (q = 2/3, 1/3).
    """
    rng = np.random.default_rng(seed)
    n_ctx = min(V ** (n - 1) // 2, 12)
    flat = rng.choice(V ** (n - 1), size=n_ctx, replace=False)
    ctxs = context_block(0, V ** (n - 1), V, n - 1)[torch.from_numpy(flat)]
    with torch.no_grad():
        best = model.next_token_logits(ctxs).argmax(1).numpy()
    rows = []
    for i, c in enumerate(ctxs.tolist()):
        kind = i % 4
        if kind == 0:  # the model's own prediction: not an artifact
            rows.append([*c, int(best[i])])
        elif kind == 1:  # multi-valued with a repeat: q = (2/3, 1/3)
            a, b = rng.choice(V, size=2, replace=False).tolist()
            rows += [[*c, a], [*c, a], [*c, b]]
        elif kind == 2:  # argmax plus another token
            other = int((best[i] + 1 + rng.integers(V - 1)) % V)
            rows += [[*c, int(best[i])], [*c, other]]
        else:  # a random single token, repeated
            t = int(rng.integers(V))
            rows += [[*c, t]] * 3
    tuples = np.asarray(rows, dtype=np.int64)
    return tuples[rng.permutation(len(tuples))]


CASES = [(V, n, seed) for V in (5, 7) for n in (2, 3, 4) for seed in (0, 1)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"V{c[0]}-n{c[1]}-s{c[2]}")
def case(request):
    V, n, seed = request.param
    model = tiny_model(V, n, seed)
    tuples = tiny_data(model, V, n, seed)
    D = DataTensor.from_tuples(tuples, V=V)
    return model, tuples, D, reference(model, tuples, V)


# -------------------------------------------------------------------- tests


@pytest.mark.parametrize("block_size", [3, None])
def test_artifact_counts_match_reference(case, block_size):
    model, tuples, D, ref = case
    report = evaluate_completion(model.next_token_logits, D, taus=TAUS, block_size=block_size)
    assert report.taus == list(TAUS)
    assert report.n_artifacts == ref["n_artifacts"]
    assert report.n_artifacts_observed_contexts == ref["n_artifacts_observed_contexts"]
    assert report.n_contexts == D.V ** (D.n - 1)
    assert report.n_train == ref["n_train"]
    assert report.n_observed_contexts == ref["n_observed"]
    assert report.ratio == {t: c / ref["n_train"] for t, c in ref["n_artifacts"].items()}
    # the reference is not vacuous: artifacts exist at the smallest threshold
    assert ref["n_artifacts"][0.1] > 0


def test_counts_match_naive(case):
    model, _, D, ref = case
    for tau, batch in zip(TAUS, (16, 100, 1024, 33), strict=True):
        assert count_artifacts_naive(model, D, tau=tau, batch=batch) == ref["n_artifacts"][tau]


def test_observed_split_nonvacuous():
    # across the cases, artifacts sit both in observed and unobserved contexts
    seen_obs = seen_unobs = 0
    for V, n, seed in CASES:
        model = tiny_model(V, n, seed)
        tuples = tiny_data(model, V, n, seed)
        ref = reference(model, tuples, V, taus=(0.1,))
        seen_obs += ref["n_artifacts_observed_contexts"][0.1]
        seen_unobs += ref["n_artifacts"][0.1] - ref["n_artifacts_observed_contexts"][0.1]
    assert seen_obs > 0 and seen_unobs > 0


@pytest.mark.parametrize("top_k", [1, 5, 10_000])
def test_top_artifacts(case, top_k):
    model, _, D, ref = case
    report = evaluate_completion(model.next_token_logits, D, taus=TAUS, top_k=top_k, block_size=11)
    top = report.top_artifacts
    expected = ref["artifacts"][:top_k]
    assert len(top) == len(expected)
    probs = [a.prob for a in top]
    assert probs == sorted(probs, reverse=True)
    data = {tuple(r) for r in D.coords.tolist()}
    all_probs_ref = {(c, t): p for p, c, t in ref["artifacts"]}
    for a in top:
        assert len(a.context) == D.n - 1
        assert (*a.context, a.token) not in data
        assert a.prob > min(TAUS)
        assert a.prob == pytest.approx(all_probs_ref[(a.context, a.token)], abs=1e-9)
    np.testing.assert_allclose(probs, [p for p, _, _ in expected], atol=1e-9)


def test_top_artifacts_zero():
    model = tiny_model(5, 3, 0)
    D = DataTensor.from_tuples(tiny_data(model, 5, 3, 0), V=5)
    assert evaluate_completion(model.next_token_logits, D, top_k=0).top_artifacts == []


def test_consistency_matches_reference(case):
    model, _, D, ref = case
    report = evaluate_completion(model.next_token_logits, D, taus=(0.5,))
    cons = report.consistency
    assert cons["mean_kl"] == pytest.approx(ref["mean_kl"], rel=1e-9, abs=1e-12)
    assert cons["max_kl"] == pytest.approx(ref["max_kl"], rel=1e-9, abs=1e-12)
    assert cons["train_accuracy"] == pytest.approx(ref["train_accuracy"], abs=1e-12)
    assert cons["argmax_in_fiber"] == pytest.approx(ref["argmax_in_fiber"], abs=1e-12)
    # the data was built so that some but not all n-grams are the model's argmax
    assert 0 < ref["train_accuracy"] < 1
    # block size of the consistency pass does not matter
    for block in (1, 2, 1000):
        again = consistency(model.next_token_logits, D, block)
        for key, value in cons.items():
            assert again[key] == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_consistency_hand_computed():
    # V = 3, one context (0,) with fiber (2, 1, 0) -> q = (2/3, 1/3, 0), and (1,) with (0, 0, 1)
    tuples = np.array([[0, 0], [0, 0], [0, 1], [1, 2]], dtype=np.int64)
    D = DataTensor.from_tuples(tuples, V=3)
    table = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64)

    def logits_fn(ctx):
        return table[ctx[:, -1]]

    p = torch.softmax(table, -1).numpy()
    kl0 = 2 / 3 * np.log((2 / 3) / p[0, 0]) + 1 / 3 * np.log((1 / 3) / p[0, 1])
    kl1 = np.log(1 / p[1, 2])
    cons = consistency(logits_fn, D)
    assert cons["mean_kl"] == pytest.approx((kl0 + kl1) / 2, rel=1e-12)
    assert cons["max_kl"] == pytest.approx(max(kl0, kl1), rel=1e-12)
    # distinct n-grams (0,0), (0,1), (1,2); argmaxes: context 0 -> 0, context 1 -> 1
    assert cons["train_accuracy"] == pytest.approx(1 / 3)
    assert cons["argmax_in_fiber"] == pytest.approx(1 / 2)


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 48, 49, 50, None])
def test_block_sizes_agree(block_size):
    model = tiny_model(7, 3, 1)
    tuples = tiny_data(model, 7, 3, 1)
    D = DataTensor.from_tuples(tuples, V=7)
    ref = reference(model, tuples, 7)
    seen = []
    report = evaluate_completion(
        model.next_token_logits, D, taus=TAUS, block_size=block_size, progress=seen.append
    )
    assert report.n_artifacts == ref["n_artifacts"]
    assert report.n_artifacts_observed_contexts == ref["n_artifacts_observed_contexts"]
    assert sum(seen) == 49


def test_context_block_is_lexicographic():
    for V, m in [(3, 1), (3, 2), (4, 3)]:
        expected = list(itertools.product(range(V), repeat=m))
        assert [tuple(r) for r in context_block(0, V**m, V, m).tolist()] == expected
        lo, hi = 1, V**m - 1
        assert [tuple(r) for r in context_block(lo, hi, V, m).tolist()] == expected[lo:hi]


def test_docstring_example():
    D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=2)

    def always_one(ctx):
        return torch.tensor([[0.0, 5.0]]).expand(len(ctx), 2)

    report = evaluate_completion(always_one, D)
    assert report.n_artifacts == {0.5: 3}
    assert report.n_artifacts_observed_contexts == {0.5: 0}
    assert report.ratio == {0.5: 3.0}


def test_check_enumerable():
    assert check_enumerable(5, 3) == 25
    assert check_enumerable(10, 4, max_contexts=1000) == 1000
    with pytest.raises(InputError) as info:
        check_enumerable(50, 5, max_contexts=1000)
    assert "6,250,000" in str(info.value)
    with pytest.raises(InputError, match="1,001"):
        check_enumerable(1001, 2, max_contexts=1000)


def test_evaluate_refuses_too_many_contexts():
    D = DataTensor.from_tuples(np.array([[0, 1, 2, 3]]), V=20)

    def never(ctx):
        raise AssertionError("must not be called")

    with pytest.raises(InputError, match="8,000"):
        evaluate_completion(never, D, max_contexts=7999)


@pytest.mark.parametrize("taus", [(), (0.0,), (1.0,), (0.5, 1.2), (-0.1,)])
def test_bad_taus(taus):
    D = DataTensor.from_tuples(np.array([[0, 1]]), V=2)
    with pytest.raises(InputError):
        evaluate_completion(lambda c: torch.zeros(len(c), 2), D, taus=taus)


class BatchRecorder:
    """A cheap fake model: token (sum of context) % V with p ~ 0.998; records batch sizes."""

    def __init__(self, V: int) -> None:
        self.V = V
        self.batches: list[int] = []

    def __call__(self, ctx: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(ctx))
        logits = torch.zeros(len(ctx), self.V)
        logits[torch.arange(len(ctx)), ctx.sum(1) % self.V] = 10.0
        return logits


@pytest.mark.parametrize("block_size", [None, 1000, 997])
def test_peak_batch_bounded_by_block(block_size):
    V, n = 50, 4  # 125,000 contexts
    rng = np.random.default_rng(0)
    tuples = rng.integers(0, V, size=(300, n)).astype(np.int64)
    # half of them follow the fake model's rule, so they are not artifacts
    tuples[:150, -1] = tuples[:150, :-1].sum(1) % V
    D = DataTensor.from_tuples(tuples, V=V)
    fake = BatchRecorder(V)
    report = evaluate_completion(fake, D, taus=(0.5, 0.99), block_size=block_size)
    from artifactlab.tensor.completion import BLOCK_ELEMENTS

    block = block_size or BLOCK_ELEMENTS // V
    assert block < V ** (n - 1)
    assert max(fake.batches) <= block
    # the enumeration pass covers every context exactly once (plus the consistency pass)
    assert sum(fake.batches) == V ** (n - 1) + len(D.contexts)
    following = {tuple(r) for r in D.coords.tolist() if r[-1] == sum(r[:-1]) % V}
    p_top = np.exp(10.0) / (np.exp(10.0) + V - 1)
    assert p_top > 0.99
    assert report.n_artifacts == {
        0.5: V ** (n - 1) - len(following),
        0.99: V ** (n - 1) - len(following),
    }
    obs = {tuple(c) for c in D.contexts.tolist()}
    following_ctx = {g[:-1] for g in following}
    assert report.n_artifacts_observed_contexts[0.5] == len(obs - following_ctx)


@pytest.mark.parametrize("V,n", [(5, 2), (5, 3), (4, 4)])
def test_completion_dense(V, n):
    model = tiny_model(V, n, 0)
    dense = completion_dense(model.next_token_logits, V, n)
    assert dense.shape == (V,) * n
    assert dense.dtype == torch.float64
    np.testing.assert_allclose(dense.sum(-1).numpy(), np.ones((V,) * (n - 1)), atol=1e-12)
    probs = all_probs(model, V, n)
    for c, p in probs.items():
        np.testing.assert_allclose(dense[c].numpy(), p, atol=1e-10)


def test_completion_dense_limit():
    with pytest.raises(InputError):
        completion_dense(lambda c: torch.zeros(len(c), 10), 10, 3, limit=999)


@pytest.mark.parametrize("V", [1, 2, 7, 12, 64, 97, 100])
def test_row_argmax_equals_argmax_with_ties(V):
    from artifactlab.tensor.threshold import row_argmax

    gen = torch.Generator().manual_seed(V)
    x = torch.randint(0, 4, (50, V), generator=gen).float()  # many ties: first index must win
    assert torch.equal(row_argmax(x), x.argmax(1))


def test_count_artifacts_naive_prefix_counts_only_the_first_contexts():
    import numpy as np

    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.dense import count_artifacts_naive

    V = 4
    D = DataTensor.from_tuples(np.array([[0, 0, 1]]), V=V)

    def forward(ctx):  # every context's next token is 1, with certainty
        logits = torch.full((len(ctx), ctx.shape[1], V), -30.0)
        logits[..., 1] = 30.0
        return logits

    assert count_artifacts_naive(forward, D) == V**2 - 1  # (0, 0, 1) is in the data
    assert count_artifacts_naive(forward, D, n_contexts=5, batch=2) == 4
    assert count_artifacts_naive(forward, D, n_contexts=10**6) == V**2 - 1
