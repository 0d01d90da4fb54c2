import json

import numpy as np
import pytest
import torch

from artifactlab.data import random_triples
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.dense import completion_dense
from artifactlab.tensor.labels import judge, label_ngrams, scores_of

# V = 3, bigrams. Rows: p(. | context).
TABLE = torch.tensor(
    [
        [0.05, 0.90, 0.05],  # context 0: trained on 0 -> 1
        [0.10, 0.15, 0.75],  # context 1: artifact 1 -> 2 (in G: a generalization)
        [0.60, 0.35, 0.05],  # context 2: artifact 2 -> 0 (not in G: a hallucination)
    ]
)


def table_fn(contexts):
    return torch.log(TABLE[contexts[:, -1]])


def test_hand_built_case_is_labelled_exactly():
    D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)
    G = np.array([[1, 2], [2, 1], [0, 1], [1, 2]])  # (0, 1) is training data, (1, 2) repeats
    completion = evaluate_completion(table_fn, D, taus=(0.5, 0.3), truth=G)
    assert completion.n_artifacts == {0.3: 3, 0.5: 2}
    rep = judge(table_fn, D, G, test=np.array([[1, 2], [2, 1]]), report=completion)
    assert rep.n_truth == 2 and rep.n_truth_in_train == 1
    # tau 0.5: artifacts 1->2 (0.75) and 2->0 (0.6); tau 0.3 adds 2->1 (0.35, in G)
    assert rep.generalizations == {0.5: 1, 0.3: 2}
    assert rep.hallucinations == {0.5: 1, 0.3: 1}
    assert rep.recall == {0.5: 0.5, 0.3: 1.0}
    assert rep.test_accuracy == 0.5  # 1 -> 2 is its context's argmax, 2 -> 1 is not
    assert rep.test_cross_entropy == pytest.approx(-(np.log(0.75) + np.log(0.35)) / 2)
    assert rep.n_test_in_train == 0
    assert label_ngrams(np.array([[1, 2], [2, 0]]), G) == ["generalization", "hallucination"]
    assert json.loads(json.dumps(rep.to_dict()))["generalizations"] == {"0.5": 1, "0.3": 2}


def test_empty_truth_and_test():
    D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)
    G = np.zeros((0, 2), dtype=np.int64)
    rep = judge(table_fn, D, G, np.zeros((0, 2)), evaluate_completion(table_fn, D, truth=G))
    assert rep.generalizations == {0.5: 0} and rep.hallucinations == {0.5: 2}
    assert np.isnan(rep.recall[0.5]) and np.isnan(rep.test_accuracy)


def test_test_ngrams_in_train_are_counted():
    D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)
    G = np.array([[1, 2]])
    rep = judge(
        table_fn, D, G, np.array([[0, 1], [1, 2]]), evaluate_completion(table_fn, D, truth=G)
    )
    assert rep.n_test_in_train == 1


def test_split_matches_brute_force_labelling_of_every_artifact():
    torch.manual_seed(0)
    ds = random_triples(V=7, N=12, seed=3)
    model = ToyTransformer(ToyTransformerConfig(V=7, d_model=8, n_heads=2), seed=1)
    D = DataTensor.from_tuples(ds.tuples, 7)
    rng = np.random.default_rng(0)
    G = rng.integers(0, 7, size=(60, 3))
    taus = (0.2, 0.5)
    rep = evaluate_completion(model.next_token_logits, D, taus=taus, top_k=0, truth=G)
    truth = judge(model.next_token_logits, D, G, G[:10], rep)
    probs = completion_dense(model.next_token_logits, 7, 3).numpy()
    train = {tuple(r) for r in D.coords.tolist()}
    in_g = {tuple(r) for r in G.tolist()}
    for tau in taus:
        artifacts = [
            idx for idx in zip(*np.nonzero(probs > tau), strict=True) if tuple(idx) not in train
        ]
        assert len(artifacts) == rep.n_artifacts[tau]
        gen = sum(tuple(int(i) for i in a) in in_g for a in artifacts)
        assert truth.generalizations[tau] == gen
        assert truth.hallucinations[tau] == len(artifacts) - gen


def test_scores_agree_with_the_softmax():
    ngrams = np.array([[0, 1], [1, 2], [2, 2]])
    out = scores_of(table_fn, ngrams)
    expected = TABLE[ngrams[:, 0], ngrams[:, 1]].double()
    torch.testing.assert_close(out[:, 0], expected, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(out[:, 1], expected.log(), rtol=1e-6, atol=1e-7)
    assert out[:, 2].tolist() == [1.0, 1.0, 0.0]


def test_judge_refuses_a_report_made_without_its_truth_set():
    D = DataTensor.from_tuples(np.array([[0, 1]]), V=3)
    with pytest.raises(ValueError):
        judge(table_fn, D, np.array([[1, 2]]), np.zeros((0, 2)), evaluate_completion(table_fn, D))


@pytest.mark.parametrize("seed", range(4))
def test_generalizations_plus_hallucinations_are_the_artifacts(seed):
    ds = random_triples(V=9, N=20, seed=seed)
    model = ToyTransformer(ToyTransformerConfig(V=9, d_model=8, n_heads=2), seed=seed)
    D = DataTensor.from_tuples(ds.tuples, 9)
    G = np.random.default_rng(seed).integers(0, 9, size=(200, 3))
    taus = (0.05, 0.2, 0.5, 0.9)
    rep = evaluate_completion(model.next_token_fn(), D, taus=taus, truth=G)
    truth = judge(model.next_token_fn(), D, G, G[:5], rep)
    for tau in taus:
        assert truth.hallucinations[tau] >= 0
        assert truth.generalizations[tau] + truth.hallucinations[tau] == rep.n_artifacts[tau]
