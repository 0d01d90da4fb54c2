"""The mitigate trial: reserved tokens, strength 0 is the unmitigated model, abstentions, errors."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from artifactlab.data.augment import UNSUPPORTED, decode, unobserved_contexts
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset, Vocabulary
from artifactlab.experiments.claim_trial import random_holdout
from artifactlab.experiments.kinds import SectionError
from artifactlab.experiments.mitigate_trial import MITIGATE
from artifactlab.runs import load_run
from artifactlab.tensor.data_tensor import encode
from artifactlab.train.mitigation import METHODS

needs_pykeen = pytest.mark.skipif(
    importlib.util.find_spec("pykeen") is None, reason="pykeen (the kg extra) is not installed"
)

# random triples over 6 tokens, 12 contexts of which 3 held out: 9 training contexts,
# 27 unobserved ones, every relation slot token of G also in train
RANDOM = {"source": "random", "params": {"V": 6, "N": 12, "holdout": 0.25}}
DS = random_holdout(6, 12, 0.25, 0)
N_RELATIONS = len(np.unique(DS.train.tuples[:, 1]))
U = 27
MODEL = {"d_model": 16, "n_heads": 2}


def config(mitigation=None, data=None, model=None, train=None, seed=0, **extra) -> dict:
    cfg = {
        "seed": seed,
        "data": data or RANDOM,
        "model": model or MODEL,
        "train": train or {"max_steps": 30, "lr": 0.05},
        **extra,
    }
    if mitigation is not None:
        cfg["mitigation"] = mitigation
    return cfg


def run_one(cfg: dict):
    out = MITIGATE.run_group([MITIGATE.validate(cfg)])[0]
    assert out.error is None, out.error
    return out


def test_the_dataset_is_what_the_tests_assume():
    assert len(unobserved_contexts(DS.train)) == U
    held_relations = set(np.concatenate([DS.test, DS.truth])[:, 1].tolist())
    assert held_relations <= set(DS.train.tuples[:, 1].tolist())
    assert N_RELATIONS >= 2


# --- validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "method", "added"),
    [
        (RANDOM, "none", 0),
        (RANDOM, "penalty", 0),
        (RANDOM, "unsupported", 1),
        (RANDOM, "idk", 1),
        (RANDOM, "contradict", N_RELATIONS),  # random triples: the relation is in the middle
        ({"source": "siblings", "params": {"n_families": 4}}, "contradict", 1),
        ({"source": "siblings", "params": {"n_families": 4}}, "unsupported", 1),
        ({"source": "family"}, "contradict", 9),
        ({"source": "family"}, "idk", 1),
    ],
)
def test_validate_sets_v_to_the_data_plus_reserved_tokens(data, method, added):
    base = MITIGATE.validate(config(data=data))
    V = base["model"]["V"]
    cfg = MITIGATE.validate(config({"method": method, "strength": 0.5, "sample": 8}, data=data))
    assert cfg["model"]["V"] == V + added
    assert cfg["mitigation"]["method"] == method
    # at strength 0 nothing is added
    zero = MITIGATE.validate(config({"method": method, "strength": 0.0}, data=data))
    assert zero["model"]["V"] == V
    # canonical configs validate to themselves (V given and right)
    assert MITIGATE.validate(cfg) == cfg


@needs_pykeen
def test_validate_nations_contradict_adds_one_token_per_relation():
    data = {"source": "nations"}
    cfg = MITIGATE.validate(config({"method": "contradict", "strength": 0.1}, data=data))
    assert cfg["model"]["V"] == 69 + 55


def test_validate_refuses_a_wrong_model_v():
    with pytest.raises(SectionError, match="must be the data's tokens plus added ones, 7") as err:
        MITIGATE.validate(
            config({"method": "unsupported", "strength": 0.5}, model={**MODEL, "V": 6})
        )
    assert err.value.loc == ("model", "V")


def test_seeds_share_a_group_but_not_the_mitigation():
    a = MITIGATE.validate(config({"method": "unsupported", "strength": 0.5}, seed=0))
    b = MITIGATE.validate(config({"method": "unsupported", "strength": 0.5}, seed=1))
    c = MITIGATE.validate(config({"method": "unsupported", "strength": 0.25}, seed=0))
    assert MITIGATE.group_key(a) == MITIGATE.group_key(b) != MITIGATE.group_key(c)


# --- strength 0 is the unmitigated model ------------------------------------------------------


def run_seeds(mitigation: dict, data=None, model=None) -> list:
    cfgs = [MITIGATE.validate(config(mitigation, data=data, model=model, seed=s)) for s in (0, 1)]
    outs = MITIGATE.run_group(cfgs)
    assert all(o.error is None for o in outs), [o.error for o in outs]
    return outs


@pytest.fixture(scope="module")
def unmitigated() -> list:
    return run_seeds({"method": "none"})


@pytest.mark.parametrize("method", METHODS)
def test_strength_zero_trains_exactly_the_unmitigated_model(method, unmitigated):
    outs = run_seeds({"method": method, "strength": 0.0, "sample": 8})
    for out, base in zip(outs, unmitigated, strict=True):
        assert out.files["model.safetensors"] == base.files["model.safetensors"]
        assert out.files["train.tsv"] == base.files["train.tsv"]
        assert out.files["vocab.json"] == base.files["vocab.json"]
        assert out.metrics == base.metrics
    # the two seeds are different models: the comparison above can fail
    assert unmitigated[0].files["model.safetensors"] != unmitigated[1].files["model.safetensors"]


def test_strength_zero_contradict_on_siblings_is_the_unmitigated_model():
    data = {"source": "siblings", "params": {"n_families": 4}}
    a = run_seeds({"method": "contradict", "strength": 0.0}, data=data)
    b = run_seeds({"method": "none"}, data=data)
    for x, y in zip(a, b, strict=True):
        assert x.files["model.safetensors"] == y.files["model.safetensors"]
        assert x.metrics == y.metrics


def test_an_active_mitigation_changes_the_model(unmitigated):
    for mitigation in (
        {"method": "penalty", "strength": 5.0, "sample": 8},
        {"method": "unsupported", "strength": 0.5},
        {"method": "idk", "strength": 0.5},
    ):
        outs = run_seeds(mitigation)
        assert outs[0].files["model.safetensors"] != unmitigated[0].files["model.safetensors"]


# --- metrics: abstentions are never artifacts -------------------------------------------------


def test_unsupported_ngram_counts_exactly():
    """The count model answers <unsupported> with p = 1 where drawn, 1 / (V + 1) elsewhere."""
    cfg = config(
        {"method": "unsupported", "strength": 0.5},
        model={"kind": "ngram"},
        eval={"taus": [0.1, 0.5]},
    )
    m = run_one(cfg).metrics
    k = int(0.5 * U + 0.5)
    assert (m["n_extra"], m["n_reserved"], m["n_train"]) == (k, 1, 9)
    # tau 0.5: the drawn contexts abstain, nothing else is above tau
    assert m["n_artifacts@0.5"] == 0
    assert (m["abstain_unobserved@0.5"], m["abstain_train@0.5"]) == (k, 0)
    # tau 0.1 < 1/7: every undrawn unobserved context has 6 artifacts and one abstention;
    # an abstention counted as an artifact would give 7 per context
    assert m["n_artifacts@0.1"] == (U - k) * 6
    assert m["abstain_unobserved@0.1"] == U
    assert m["abstain_truth@0.1"] == 3  # every held-out context is unobserved
    assert m["abstain_train@0.1"] == 0


def test_unmitigated_ngram_has_no_abstentions():
    m = run_one(config({"method": "none"}, model={"kind": "ngram"}, eval={"taus": [0.1]})).metrics
    assert m["n_reserved"] == 0 and m["n_extra"] == 0
    assert m["n_artifacts@0.1"] == U * 6
    assert m["abstain_unobserved@0.1"] == m["abstain_truth@0.1"] == m["abstain_train@0.1"] == 0


def by_hand(out, tmp_path, tau: float) -> dict[str, int]:
    """Artifacts and abstentions from the run folder's model, over every context."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name, data in out.files.items():
        (folder / name).write_bytes(data)
    run = load_run(folder)
    V = DS.vocab.V
    assert run.model.cfg.V == V + 1
    every = decode(np.arange(V * V), V, 2)
    with torch.no_grad():
        p = run.model.next_token_logits(torch.from_numpy(every)).softmax(-1).numpy()
    data = set(encode(DS.train.tuples, V).tolist())
    observed = set(encode(DS.train.tuples[:, :2], V).tolist())
    artifacts = sum(p[c, t] > tau and c * V + t not in data for c in range(V * V) for t in range(V))
    abstain = [c for c in range(V * V) if p[c, V] > tau]
    return {
        "n_artifacts": artifacts,
        "unobserved": sum(c not in observed for c in abstain),
        "train": sum(c in observed for c in abstain),
    }


def test_unsupported_predictions_are_abstentions_not_artifacts(tmp_path):
    cfg = config({"method": "unsupported", "strength": 0.5}, train={"max_steps": 150, "lr": 0.05})
    out = run_one(cfg)
    m = out.metrics
    want = by_hand(out, tmp_path, 0.5)
    assert m["n_artifacts@0.5"] == want["n_artifacts"]
    assert m["abstain_unobserved@0.5"] == want["unobserved"]
    assert m["abstain_train@0.5"] == want["train"]
    assert m["abstain_unobserved@0.5"] > 0
    # one token at most above 0.5 per context: artifacts and abstentions share the contexts
    assert m["n_artifacts@0.5"] + m["abstain_unobserved@0.5"] + m["abstain_train@0.5"] <= 36
    # the saved vocabulary and tuples are the augmented ones
    assert json.loads(out.files["vocab.json"])[-1] == UNSUPPORTED
    assert len(out.files["train.tsv"].decode().splitlines()) >= 9 + m["n_extra"]


def test_each_seed_draws_its_own_sentences():
    outs = run_seeds({"method": "unsupported", "strength": 0.5})
    assert outs[0].metrics["n_extra"] == outs[1].metrics["n_extra"] == 14
    assert outs[0].files["train.tsv"] != outs[1].files["train.tsv"]
    again = run_one(config({"method": "unsupported", "strength": 0.5}, seed=1))
    assert again.files["train.tsv"] == outs[1].files["train.tsv"]


def test_penalty_reports_its_draws():
    out = run_one(config({"method": "penalty", "strength": 1.0, "sample": 8}))
    m = out.metrics
    assert m["n_reserved"] == 0 and m["n_extra"] == 0
    # one draw of `sample` contexts per loss evaluation: every update and the final check
    assert m["penalty_contexts"] == (m["steps"] + 1) * 8


def test_contradict_on_siblings_runs_and_reserves_unrelated():
    data = {"source": "siblings", "params": {"n_families": 4}}
    out = run_one(config({"method": "contradict", "strength": 1.0}, data=data))
    assert out.metrics["n_reserved"] == 1
    assert out.metrics["n_extra"] == 18
    assert json.loads(out.files["vocab.json"])[-1] == "unrelated"


# --- bad input --------------------------------------------------------------------------------


def refused(cfg: dict) -> SectionError:
    with pytest.raises(SectionError) as err:
        MITIGATE.validate(cfg)
    return err.value


def test_refuses_negative_strength():
    err = refused(config({"method": "penalty", "strength": -1.0}))
    assert err.loc[0] == "mitigation" and "strength" in str(err)


@pytest.mark.parametrize("method", ["unsupported", "idk"])
def test_refuses_a_share_above_one(method):
    assert "strength" in str(refused(config({"method": method, "strength": 1.5})))


def test_refuses_a_penalty_sample_larger_than_the_pool():
    err = refused(config({"method": "penalty", "strength": 1.0, "sample": U + 1}))
    assert f"asks for {U + 1} unobserved contexts per step, but there are only {U}" in str(err)
    # the whole pool is fine
    MITIGATE.validate(config({"method": "penalty", "strength": 1.0, "sample": U}))


def test_refuses_an_unsupported_size_larger_than_the_pool():
    err = refused(config({"method": "unsupported", "strength": 0.5, "size": U + 1}))
    assert f"only {U}" in str(err)


@pytest.mark.parametrize("method", ["penalty", "idk"])
def test_refuses_loss_methods_on_the_count_model(method):
    err = refused(config({"method": method, "strength": 0.5}, model={"kind": "ngram"}))
    assert err.loc == ("mitigation", "method") and "ngram" in err.problem
    # at strength 0 nothing is trained differently: accepted
    MITIGATE.validate(config({"method": method, "strength": 0.0}, model={"kind": "ngram"}))


def test_refuses_ranks():
    err = refused(config({"method": "unsupported", "strength": 0.5}, rank={"max_rank": 2}))
    assert err.loc == ("rank",)
    MITIGATE.validate(config({"method": "unsupported", "strength": 0.5}, rank={"max_rank": 0}))


def test_refuses_unknown_methods_and_keys():
    assert refused(config({"method": "bogus", "strength": 0.5})).loc == ("mitigation", "method")
    err = refused(config({"method": "penalty", "strength": 0.5, "lambda": 2}))
    assert err.loc == ("mitigation", "lambda")


def triple_file(tmp_path, extra: str):
    f = tmp_path / "triples.tsv"
    lines = [f"e{i}\tr{i % 2}\te{(3 * i) % 5}" for i in range(8)]
    f.write_text("\n".join(lines) + "\n" + extra)
    return f


def test_refuses_data_holding_the_unsupported_token(tmp_path):
    f = triple_file(tmp_path, f"{UNSUPPORTED}\tr0\te1\n")
    err = refused(config({"method": "unsupported", "strength": 0.5}, data={"source": str(f)}))
    assert f"already holds the reserved token '{UNSUPPORTED}'" in str(err)
    # another name is fine
    cfg = MITIGATE.validate(
        config({"method": "unsupported", "strength": 0.5, "token": "<none>"},
               data={"source": str(f)})
    )  # fmt: skip
    assert cfg["mitigation"]["token"] == "<none>"


def test_refuses_data_holding_a_not_relation_token(tmp_path):
    f = triple_file(tmp_path, "not:r0\tr0\te1\n")
    err = refused(config({"method": "contradict", "strength": 0.5}, data={"source": str(f)}))
    assert "already holds the reserved token 'not:r0'" in str(err)


def test_refuses_an_idk_token_name_in_the_data(tmp_path):
    f = triple_file(tmp_path, "")
    err = refused(
        config({"method": "idk", "strength": 0.5, "token": "e1"}, data={"source": str(f)})
    )
    assert "already holds the reserved token 'e1'" in str(err)


def test_refuses_contradict_on_siblings_with_unrelated_facts():
    # every cross-family pair is already true (stated or in G): no negative is left to add
    data = {"source": "siblings", "params": {"n_families": 4, "unrelated": 0.5}}
    err = refused(config({"method": "contradict", "strength": 0.5}, data=data))
    assert "but there are only 0" in str(err)


def test_refuses_contradict_on_non_triples(tmp_path):
    vocab = Vocabulary(tuple(f"t{i}" for i in range(4)))
    rng = np.random.default_rng(0)
    tuples, test = rng.integers(0, 4, (12, 4)), rng.integers(0, 4, (3, 4))
    folder = TruthDataset("quads", TupleDataset(vocab, tuples), test, test.copy()).save(
        tmp_path / "quads"
    )
    data = {"source": str(folder)}
    err = refused(config({"method": "contradict", "strength": 0.5}, data=data))
    assert "contradict needs triples, the data has 4-tuples" in str(err)
    # the other data methods take any tuple length
    cfg = MITIGATE.validate(config({"method": "unsupported", "strength": 0.5}, data=data))
    assert cfg["model"]["V"] == 5


# --- known bugs -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["unsupported", "contradict"])
def test_a_strength_that_rounds_to_no_sentences_still_runs(method):
    cfg = MITIGATE.validate(config({"method": method, "strength": 0.01}))
    out = MITIGATE.run_group([cfg])[0]
    assert out.error is None, out.error
    assert cfg["model"]["V"] == 6 + out.metrics["n_reserved"]


def test_contradict_with_a_relation_seen_only_in_held_out_data():
    data = {"source": "random", "params": {"V": 6, "N": 10, "holdout": 0.2}}
    ds = random_holdout(6, 10, 0.2, 0)
    assert 4 not in ds.train.tuples[:, 1] and 4 in ds.test[:, 1]  # relation t4: test only
    cfg = MITIGATE.validate(config({"method": "contradict", "strength": 0.5}, data=data))
    out = MITIGATE.run_group([cfg])[0]
    assert out.error is None, out.error
    assert cfg["model"]["V"] == 6 + out.metrics["n_reserved"]
