"""The ``mitigate`` trial: a dataset with a truth set, a model, one mitigation at one strength.

The data, model, train and eval sections are those of ``claim-truth``
(:mod:`artifactlab.experiments.claim_trial`: worlds, knowledge graphs, triple files,
folders, random triples). A ``mitigation`` section
(:class:`~artifactlab.train.mitigation.MitigationConfig`) chooses the method and its
strength:

- ``penalty`` and ``idk`` change the loss (:mod:`artifactlab.train.mitigation`); the
  seeds of one setting still train as one batch;
- ``unsupported`` and ``contradict`` add sentences (:mod:`artifactlab.data.augment`),
  drawn with a seed made of the mitigation's and the trial's seeds, so every seed has its
  own sample.

At strength 0 nothing changes: the trial trains exactly as the unmitigated model of the
same seed (same vocabulary, same data, same training path). Every count is made against
the original data tensor ``D^n`` over the ``V^(n-1)`` contexts of the data's own tokens;
a prediction of an added token (``<unsupported>``, ``[IDK]``, ``unrelated``, ``not:r``)
is an abstention, counted where it happens (``abstain_unobserved``, ``abstain_truth``,
``abstain_train``), never an artifact.

Example
-------
>>> cfg = MITIGATE.validate({"seed": 0, "data": {"source": "random",
...     "params": {"V": 6, "N": 10, "holdout": 0.2}},
...     "model": {"d_model": 8, "n_heads": 2}, "train": {"max_steps": 20},
...     "mitigation": {"method": "unsupported", "strength": 0.5}})
>>> cfg["model"]["V"], cfg["mitigation"]["method"]
(7, 'unsupported')
>>> out = MITIGATE.run_group([cfg])[0]
>>> out.metrics["n_extra"], out.metrics["n_artifacts@0.5"] >= 0
(14, True)
"""

from __future__ import annotations

import json
import time
import traceback
from typing import Any

import numpy as np

from artifactlab.data.augment import (
    IDK,
    UNSUPPORTED,
    Augmented,
    contradict,
    decode,
    extend_vocab,
    unobserved_contexts,
    unsupported,
)
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset
from artifactlab.errors import InputError
from artifactlab.experiments import claim_trial
from artifactlab.experiments.kinds import (
    SectionError,
    TrialKind,
    TrialOutput,
    canonical,
    validate_section,
)
from artifactlab.experiments.toy_trial import common_sections
from artifactlab.experiments.training import build_model, run_files, train_group
from artifactlab.models import MODELS, parameter_counts
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import ABSTENTION_KINDS, evaluate_completion
from artifactlab.tensor.labels import judge
from artifactlab.train import TrainConfig, train_batched
from artifactlab.train.mitigation import IDKObjective, MitigationConfig, Penalty, member_rng

#: methods that change the loss: they need a model trained by gradient steps
LOSS_METHODS = ("penalty", "idk")


def reserved_tokens(ds: TruthDataset, mit: MitigationConfig) -> int:
    """How many tokens the mitigation adds to the vocabulary (0 when inactive or penalty).

    For the two data methods, what the draw really adds: a share that rounds to no
    sentence adds no token. The count does not depend on the seed (only which sentences).
    """
    if not mit.active or mit.method == "penalty":
        return 0
    return augment(ds, mit, 0).reserved


def validate(config: dict) -> dict:
    """Check a nested trial config; return it canonical (``claim-truth``'s plus ``mitigation``)."""
    config = dict(config)
    mit = validate_section(MitigationConfig, config.pop("mitigation", None) or {}, ("mitigation",))
    if (config.get("rank") or {}).get("max_rank"):
        raise SectionError(("rank",), "a mitigate trial computes no ranks")
    config.pop("rank", None)
    model = dict(config.get("model") or {})
    given_v = model.pop("V", None)
    out = claim_trial.validate({**config, "model": model})
    out.pop("rank", None)
    ds = claim_trial.dataset_of(out)
    kind = out["model"]["kind"]
    if mit.active and mit.method in LOSS_METHODS and MODELS[kind].kind == "ngram":
        raise SectionError(
            ("mitigation", "method"),
            f"{mit.method} changes the training loss; the {kind} model is fitted by counting "
            "and has none (use unsupported or contradict, or a trained model)",
        )
    try:
        _check_sizes(ds, mit)
        reserved = reserved_tokens(ds, mit)
    except InputError as err:
        raise SectionError(("mitigation",), err.message) from None
    V = ds.vocab.V + reserved
    if given_v is not None and given_v != V:
        raise SectionError(("model", "V"), f"must be the data's tokens plus added ones, {V}")
    model = {**model, "V": V}
    model.setdefault("n_ctx", out["model"]["n_ctx"])
    out["model"] = common_sections({**config, "model": model}, V, ds.train.n)["model"]
    return canonical(out | {"mitigation": canonical(mit)})


def _check_sizes(ds: TruthDataset, mit: MitigationConfig) -> None:
    """Refuse samples larger than their pool (with its size) and taken token names."""
    if not mit.active:
        return
    if mit.method == "penalty":
        free = len(unobserved_contexts(ds.train))
        if mit.sample > free:
            raise InputError(
                "mitigation.sample",
                f"asks for {mit.sample} unobserved contexts per step, but there are only {free}",
            )
    # the data methods' own checks (pool sizes, token names) run in reserved_tokens


def augment(ds: TruthDataset, mit: MitigationConfig, trial_seed: int) -> Augmented:
    """The training tuples of one trial: the data's, plus the mitigation's sentences."""
    train = ds.train
    seed = int(np.random.SeedSequence([mit.seed, trial_seed]).generate_state(1)[0])
    if mit.active and mit.method == "unsupported":
        return unsupported(train, mit.strength, seed, mit.size, mit.token or UNSUPPORTED)
    if mit.active and mit.method == "contradict":
        return contradict(ds, mit.strength, seed, mit.size)
    if mit.active and mit.method == "idk":
        vocab = extend_vocab(train.vocab, [mit.token or IDK])
        return Augmented(vocab, train.tuples, 0, 1, 0)
    return Augmented(train.vocab, train.tuples, 0, 0, 0)


def group_key(config: dict) -> str:
    """Same data, model, mitigation and training mode: the seeds train as one batch."""
    key = {k: config[k] for k in ("data", "model", "mitigation")}
    return json.dumps(key | {"mode": config["train"]["mode"]}, sort_keys=True)


def _objective(mit: MitigationConfig, ds: TruthDataset, configs: list[dict]):
    if not mit.active or mit.method not in LOSS_METHODS:
        return None
    if mit.method == "idk":
        return IDKObjective(mit.strength, ds.vocab.V, mit.idk_mode)
    pool = decode(unobserved_contexts(ds.train), ds.vocab.V, ds.train.n - 1)
    rngs = [member_rng(mit.seed, cfg["seed"]) for cfg in configs]
    return Penalty(mit.strength, mit.tau, mit.sample, pool, rngs)


def _metrics(cfg: dict, model: Any, ds: TruthDataset, aug: Augmented) -> dict[str, Any]:
    D = DataTensor.from_tuples(ds.train.tuples, ds.vocab.V)
    taus = tuple(cfg["eval"]["taus"])
    fn = model.next_token_fn()
    rep = evaluate_completion(
        fn, D, taus=taus, top_k=0, max_contexts=cfg["eval"]["max_contexts"], truth=ds.truth,
        reserved=aug.reserved,
    )  # fmt: skip
    truth = judge(fn, D, ds.truth, ds.test, rep)
    out: dict[str, Any] = {
        "n_train": D.nnz,
        "n_extra": aug.n_extra,
        "n_reserved": aug.reserved,
        "n_test": truth.n_test,
        "n_truth": truth.n_truth,
        **parameter_counts(model).to_dict(),
        "test_accuracy": truth.test_accuracy,
        "test_cross_entropy": truth.test_cross_entropy,
        "fit_accuracy": rep.consistency["train_accuracy"],
    }
    for tau in taus:
        out[f"n_artifacts@{tau:g}"] = rep.n_artifacts[tau]
        out[f"generalizations@{tau:g}"] = truth.generalizations[tau]
        out[f"hallucinations@{tau:g}"] = truth.hallucinations[tau]
        out[f"recall@{tau:g}"] = truth.recall[tau]
        for where in ABSTENTION_KINDS:
            out[f"abstain_{where}@{tau:g}"] = (
                rep.n_abstentions[tau][where] if rep.n_abstentions else 0
            )
    return out


def run_group(configs: list[dict]) -> list[TrialOutput]:
    """Augment, train (batched when the seeds fit one batch), then measure each trial."""
    ds = claim_trial.dataset_of(configs[0])
    mit = MitigationConfig(**configs[0]["mitigation"])
    augs = [augment(ds, mit, cfg["seed"]) for cfg in configs]
    models = [build_model(cfg["model"], cfg["seed"]) for cfg in configs]
    train_cfgs = [TrainConfig(**cfg["train"]) for cfg in configs]
    objective = _objective(mit, ds, configs)
    data = [a.tuples for a in augs]
    if objective is None:  # strength 0 included: the unmitigated model's own training path
        results, share = train_group(models, data, train_cfgs)
    else:
        start = time.perf_counter()
        results = train_batched(models, data, train_cfgs, objective=objective)
        share = (time.perf_counter() - start) / len(models)
    outputs = []
    for cfg, model, result, aug in zip(configs, models, results, augs, strict=True):
        try:
            metrics = _metrics(cfg, model, ds, aug) | {
                "steps": result.steps,
                "stop_reason": result.stop_reason,
                "train_loss": result.loss,
                "train_accuracy": result.accuracy,
                "penalty_contexts": objective.drawn // len(configs)
                if isinstance(objective, Penalty)
                else 0,
            }
            files = run_files(cfg, model, TupleDataset(aug.vocab, aug.tuples), result)
            outputs.append(TrialOutput(metrics, {"train_seconds": share}, files))
        except Exception:  # noqa: BLE001 - reported in the store, the batch goes on
            outputs.append(TrialOutput({}, error=traceback.format_exc()))
    return outputs


MITIGATE = TrialKind(
    name="mitigate",
    description="held-out split -> model trained with one mitigation -> artifacts, abstentions",
    validate=validate,
    group_key=group_key,
    run_group=run_group,
    metrics=(
        "n_train",
        "n_extra",
        "n_reserved",
        "n_test",
        "n_truth",
        "params_total",
        "params_non_embedding",
        "steps",
        "stop_reason",
        "train_loss",
        "train_accuracy",
        "fit_accuracy",
        "test_accuracy",
        "test_cross_entropy",
        "penalty_contexts",
        "n_artifacts@tau",
        "generalizations@tau",
        "hallucinations@tau",
        "recall@tau",
        "abstain_unobserved@tau",
        "abstain_truth@tau",
        "abstain_train@tau",
    ),
    example={
        "seed": 0,
        "data": {"source": "random", "params": {"V": 6, "N": 10, "holdout": 0.2}},
        "model": {"kind": "attn", "d_model": 8, "n_heads": 2},
        "train": {"max_steps": 30},
        "mitigation": {"method": "penalty", "strength": 1.0, "sample": 8},
    },
)
