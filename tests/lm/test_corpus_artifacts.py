"""corpus_artifacts against brute force: every context of a tiny GPT-2 and a run folder."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import lm_fixtures
import numpy as np
import pytest
import torch

from artifactlab.data.corpus_index import CorpusIndex
from artifactlab.errors import InputError
from artifactlab.lm.contexts import corpus_contexts, document_boundaries
from artifactlab.lm.corpus_artifacts import ArtifactFinder, corpus_artifacts
from artifactlab.lm.hf import load_hf_model, load_run_model

TAUS = (0.3, 0.5, 0.9)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return lm_fixtures.build_world(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def lm(world):
    return load_hf_model(world.model, device="cpu")


@pytest.fixture(scope="module")
def index(world):
    return CorpusIndex.load(world.index)


def all_contexts(V: int, m: int) -> np.ndarray:
    return np.array(list(itertools.product(range(V), repeat=m)), dtype=np.int64)


def brute_force(probs: np.ndarray, contexts: np.ndarray, ids: list[int], tau: float):
    """Per-context artifacts and the artifact set: p > tau and the (m+1)-gram never in ``ids``."""
    m = contexts.shape[1]
    grams = Counter(tuple(ids[i : i + m + 1]) for i in range(len(ids) - m))
    per, found, confident = np.zeros(len(contexts), np.int64), set(), 0
    for c, t in zip(*np.nonzero(probs > tau), strict=True):
        confident += 1
        gram = (*contexts[c].tolist(), int(t))
        if grams[gram] == 0:
            per[c] += 1
            found.add(gram)
    return per, found, confident


def hf_probs(lm, contexts: np.ndarray) -> np.ndarray:
    """The float64 softmax of the model's own forward pass (not the adapter's)."""
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.from_numpy(contexts)).logits[:, -1, :]
    return torch.softmax(logits.double(), dim=1).numpy()


def covered(lm, index, m: int, source: str, tau: float, exact: float, samples: int = 600) -> int:
    """Of ten seeds, how many 95% intervals of the rate cover ``exact`` (about 9.5 expected)."""
    hits = 0
    for seed in range(10):
        est = corpus_artifacts(lm, index, m, samples, source, taus=tau, seed=seed).estimate
        hits += est.rate_ci[tau][0] <= exact <= est.rate_ci[tau][1]
    return hits


def test_uniform_interval_covers_the_exact_rate(lm, index, world):
    contexts = all_contexts(lm.vocab_size, 2)
    probs = hf_probs(lm, contexts)
    found = corpus_artifacts(lm, index, 2, samples=800, source="uniform", taus=TAUS, seed=3)
    est = found.estimate
    assert est.n_samples == 800 and est.n_contexts == lm.vocab_size**2
    for tau in TAUS:
        per, _, _ = brute_force(probs, contexts, world.ids, tau)
        assert est.rate_ci[tau][0] <= per.mean() <= est.rate_ci[tau][1], (tau, per.mean())
        assert est.share_ci[tau][0] <= (per > 0).mean() <= est.share_ci[tau][1]
        assert est.rate_method[tau] == ("wilson" if tau >= 0.5 else "bootstrap-percentile")
        assert (est.ci_low[tau], est.ci_high[tau]) == est.rate_ci[tau]  # every draw weighs 1
        assert covered(lm, index, 2, "uniform", tau, per.mean()) >= 8
    assert est.rate[0.5] > 0.2  # the model is confident, and often wrongly so


def test_corpus_interval_covers_the_exact_rate_over_every_position(lm, index, world):
    m, tau, ids = 12, 0.3, np.array(world.ids)  # long contexts: rare, so artifacts show
    contexts = np.stack([ids[i : i + m] for i in range(len(ids) - m + 1)])
    per, _, _ = brute_force(hf_probs(lm, contexts), contexts, world.ids, tau)
    est = corpus_artifacts(lm, index, m, samples=10, source="corpus", taus=tau).estimate
    assert est.n_contexts == len(contexts) and per.mean() > 0.1
    assert covered(lm, index, m, "corpus", tau, per.mean()) >= 8


def test_model_interval_covers_the_exact_rate_under_the_models_distribution(lm, index, world):
    V, m, tau = lm.vocab_size, 2, 0.3
    contexts = all_contexts(V, m)
    per, _, _ = brute_force(hf_probs(lm, contexts), contexts, world.ids, tau)
    first = hf_probs(lm, np.arange(V)[:, None])  # q(c1 c2) = 1/V * p(c2 | c1)
    exact = sum(a * first[c1, c2] / V for (c1, c2), a in zip(contexts.tolist(), per, strict=True))
    assert exact > 0.05 and covered(lm, index, m, "model", tau, exact) >= 8


def test_artifacts_are_exactly_the_confident_continuations_the_index_lacks(lm, index, world):
    contexts = all_contexts(lm.vocab_size, 2)
    probs = hf_probs(lm, contexts)
    finder = ArtifactFinder(lm, index, 2, TAUS, batch=50)
    found = finder.evaluate(contexts)
    for i, tau in enumerate(TAUS):
        per, grams, confident = brute_force(probs, contexts, world.ids, tau)
        assert found.artifacts[:, i].tolist() == per.tolist()
        assert found.confident[:, i].sum() == confident
        assert (found.confident - found.supported - found.artifacts).tolist() == [[0] * 3] * 256
    _, lowest, _ = brute_force(probs, contexts, world.ids, TAUS[0])
    listed = {(*contexts[r].tolist(), t) for r, t in zip(found.rows, found.tokens, strict=True)}
    assert listed == lowest and len(listed) == len(found.probs) > 10
    sample = sorted(listed)[:: max(1, len(listed) // 5)]
    assert index.count([list(g) for g in sample]).tolist() == [0] * len(sample)
    np.testing.assert_allclose(found.probs, probs[found.rows, found.tokens], rtol=1e-6)


def test_top_artifacts_are_distinct_decoded_and_sorted(lm, index, world):
    est = corpus_artifacts(lm, index, 2, samples=500, source="uniform", taus=0.5, top=6)
    top = est.top_artifacts
    assert len(top) == 6 and len({(a.context, a.token) for a in top}) == 6
    assert [a.prob for a in top] == sorted((a.prob for a in top), reverse=True)
    words = {i: w for w, i in index.load_tokenizer().get_vocab().items()}
    for a in top:
        assert a.prob > 0.5 and index.count([[*a.context, a.token]]).tolist() == [0]
        assert a.context_text == " ".join(words[i] for i in a.context)
        assert a.continuation_text == words[a.token]
        assert a.context_count == int(index.count([list(a.context)])[0])
    data = json.loads(json.dumps(est.to_dict()))
    row = data["estimates"][0]
    assert {"rate", "ci_low", "ci_high", "share", "share_ci", "n_samples", "method"} <= set(row)
    assert row["source"] == "uniform" and data["top_artifacts"][0]["context"] == list(
        top[0].context
    )


def test_the_run_folder_against_the_same_index(world, index):
    run = load_run_model(lm_fixtures.build_run(world), device="cpu")
    mapping = run.index_map(index)
    run_contexts = all_contexts(run.vocab_size, 2)
    probs = torch.softmax(run(run_contexts).double(), dim=1).numpy()
    order = np.argsort(mapping)  # columns in index-id order, contexts as index ids
    contexts, wide = mapping[run_contexts], np.zeros((len(probs), index.vocab_size))
    wide[:, mapping[order]] = probs[:, order]
    per, grams, _ = brute_force(wide, contexts, world.ids, 0.5)
    est = corpus_artifacts(run, index, 2, samples=600, source="uniform", token_map=mapping)
    assert est.estimate.V == run.vocab_size and est.estimate.n_contexts == run.vocab_size**2
    assert est.estimate.rate_ci[0.5][0] <= per.mean() <= est.estimate.rate_ci[0.5][1]
    assert {(*a.context, a.token) for a in est.top_artifacts} <= grams
    found = ArtifactFinder(run, index, 2, 0.5, token_map=mapping).evaluate(contexts)
    assert found.artifacts[:, 0].tolist() == per.tolist()
    corpus = corpus_artifacts(run, index, 2, samples=200, token_map=mapping, seed=2)
    assert corpus.estimate.source == "corpus" and corpus.n_confident[0.5] > 0


def test_corpus_contexts_skip_document_boundaries(tmp_path):
    from artifactlab.data.text import encode, train_tokenizer

    lines = ["the cat sat <|endoftext|>\n", "a dog ran far away <|endoftext|>\n", "hi\n"]
    tokenizer = train_tokenizer("whitespace", lines)
    tokenizer.add_special_tokens(["<|endoftext|>"])
    ids = encode(tokenizer, lines)
    info = {"kind": "whitespace", "source": "test", "vocab_size": tokenizer.get_vocab_size()}
    index = CorpusIndex.build(ids, tmp_path / "ix", tokenizer=tokenizer, tokenizer_info=info)
    eot = tokenizer.token_to_id("<|endoftext|>")
    assert document_boundaries(index) == [eot]  # <unk> is special too, but no boundary
    m = 3
    valid = {
        tuple(ids[i : i + m].tolist()) for i in range(len(ids) - m + 1) if eot not in ids[i : i + m]
    }
    source = corpus_contexts(index, m, [eot])
    assert source.n_contexts == 1 + 3 == len(valid)  # "the cat sat"; 3 windows of the dog line
    drawn, _ = source.draw(400, np.random.default_rng(0))
    assert {tuple(c) for c in drawn.tolist()} == valid
    with pytest.raises(InputError, match="free of a boundary"):
        corpus_contexts(index, 6, [eot])


def test_the_result_depends_only_on_the_arguments(lm, index):
    def run(**kw):
        return corpus_artifacts(lm, index, 2, samples=300, source="model", seed=5, **kw).to_dict()

    assert run() == run(batch=7)
    assert run() != corpus_artifacts(lm, index, 2, samples=300, source="model", seed=6).to_dict()


def test_a_target_relative_error_draws_more(lm, index):
    found = corpus_artifacts(
        lm, index, 2, samples=50, source="uniform", target_rel_error=0.1, max_samples=4000
    )
    est = found.estimate
    assert est.n_samples > 50 and est.stopped in ("target", "cap")
    if est.stopped == "target":
        low, high = est.rate_ci[0.5]
        assert (high - low) / 2 < 0.1 * est.rate[0.5]
    assert sum(found.n_confident.values()) < 4000  # only the draws used are counted


def test_progress_is_reported_after_every_check(lm, index):
    from contextlib import contextmanager

    calls = []

    @contextmanager
    def progress(total, description):
        calls.append((total, description))
        yield lambda k: calls.append(k)

    corpus_artifacts(lm, index, 2, samples=130, source="corpus", progress=progress, batch=64)
    assert calls == [(130, "sampling contexts (corpus)"), 64, 64, 2]
    with pytest.raises(InputError):
        corpus_artifacts(lm, index, 2, samples=10, source="nowhere", progress=progress)
    assert len(calls) == 4  # the unknown source was refused before the bar


def test_bad_inputs(lm, index, tmp_path):
    cases = [
        (dict(samples=0), "--samples: must be >= 1, got 0"),
        (dict(context_length=17), "--context-length: 17 tokens is longer than the window"),
        (dict(context_length=0), "--context-length: must be >= 1"),
        (dict(taus=(0.5, 1.0)), "--tau"),
        (dict(source="web"), "--source: unknown source 'web'"),
        (dict(token_map=np.zeros(lm.vocab_size, int)), "token_map: must map to distinct ids"),
        (dict(target_rel_error=0.1), "--target-rel-error: needs a cap"),
    ]
    for kwargs, needle in cases:
        args = dict(context_length=2, samples=10) | kwargs
        with pytest.raises(InputError) as err:
            corpus_artifacts(lm, index, **args)
        assert needle in err.value.message, (kwargs, err.value.message)

    def wider(ctx):
        return torch.zeros((len(ctx), index.vocab_size + 1))

    with pytest.raises(InputError, match="gives 17 logits per context but the index"):
        corpus_artifacts(wider, index, 2, samples=10)
