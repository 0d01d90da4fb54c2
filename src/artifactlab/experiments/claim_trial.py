"""The ``claim-truth`` trial: a dataset with a held-out split, a model, its artifacts and ranks.

The trial behind ``artifactlab claims``. Like ``truth-completion`` it trains one
registered model on the training tuples of a dataset with a truth set ``G`` and
counts the artifacts, generalizations and hallucinations; it adds two things:

- ``data.source: random``: random triples (``data.params``: ``V``, ``N`` contexts and a
  ``holdout`` fraction of them held out as the test split and ``G``; ``data.seed``
  draws both the triples and the held-out contexts), so random data has a
  generalization error too;
- a ``rank`` section (``max_rank``, default 0: off): the effective rank of the
  training tuples and of training plus test tuples
  (:func:`artifactlab.tensor.rank.effective_rank`), and the gap between them, computed
  once per dataset (the seeds of one split share it).

It also reports ``loss_floor``, the lowest mean cross-entropy the training data allows
(the mean entropy of its fibers: 0 for single-valued data).

Example
-------
>>> cfg = CLAIM_TRUTH.validate({"seed": 0, "data": {"source": "random",
...     "params": {"V": 8, "N": 12, "holdout": 0.25}},
...     "model": {"d_model": 8, "n_heads": 2}, "train": {"max_steps": 20},
...     "rank": {"max_rank": 4}})
>>> cfg["model"]["V"], cfg["rank"]["max_rank"]
(8, 4)
>>> out = CLAIM_TRUTH.run_group([cfg])[0]
>>> out.metrics["n_train"], out.metrics["n_truth"], out.metrics["rank_train"] <= 5
(9, 3, True)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ConfigDict, with_config

from artifactlab.checks import at_least, finite
from artifactlab.data import random_triples
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.tuples import TupleDataset
from artifactlab.errors import InputError
from artifactlab.experiments import compare_trial
from artifactlab.experiments.kinds import (
    SectionError,
    TrialKind,
    TrialOutput,
    canonical,
    validate_section,
)
from artifactlab.experiments.toy_trial import check_seed_and_sections, common_sections
from artifactlab.experiments.training import train_and_measure
from artifactlab.models import parameter_counts
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.labels import judge

#: the ``data.params`` of ``source: random``, with their defaults
RANDOM_DEFAULTS: dict[str, Any] = {"V": 24, "N": 80, "holdout": 0.25}


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
@dataclass(frozen=True)
class RankOptions:
    """How the effective ranks are estimated (:func:`split_ranks`).

    Attributes
    ----------
    max_rank : int
        The largest rank tried; 0 computes no ranks.
    tol : float
        A fit is consistent with the data when its fiber error is under ``tol``, in (0, 1).
    restarts : int
        Seeded fits tried per rank.
    """

    max_rank: int = 0
    tol: float = 1e-2
    restarts: int = 2

    def __post_init__(self) -> None:
        at_least("rank.max_rank", self.max_rank, 0)
        finite("rank.tol", self.tol, low=0, high=1, low_open=True, high_open=True)
        at_least("rank.restarts", self.restarts, 1)


# --- the effective rank ----------------------------------------------------------------------


def split_ranks(ds: TruthDataset, options: RankOptions) -> dict[str, int]:
    """The effective ranks of the training tuples and of training plus test tuples.

    Estimated by :func:`artifactlab.tensor.rank.effective_rank` (masked CP fits of the
    observed fibers, each up to a scale). A rank above ``max_rank`` is reported as
    ``max_rank + 1`` with ``rank_censored`` set: a lower bound, not an estimate.
    """
    from artifactlab.tensor.rank import RankSettings, effective_rank

    settings = RankSettings(
        max_rank=options.max_rank, tol=options.tol, restarts=options.restarts, seed=0
    )
    both = np.concatenate([ds.train.tuples, ds.test.reshape(-1, ds.train.n)])
    out, censored = {}, 0
    for name, tuples in (("rank_train", ds.train.tuples), ("rank_train_test", both)):
        est = effective_rank(DataTensor.from_tuples(tuples, ds.vocab.V), settings).estimate
        censored |= est is None
        out[name] = est if est is not None else options.max_rank + 1
    return out | {"rank_gap": out["rank_train_test"] - out["rank_train"],
                  "rank_censored": int(censored)}  # fmt: skip


@functools.lru_cache(maxsize=32)
def _ranks(data_json: str, options_json: str) -> tuple[tuple[str, int], ...]:
    ranks = split_ranks(_dataset(data_json), RankOptions(**json.loads(options_json)))
    return tuple(ranks.items())


# --- the dataset -----------------------------------------------------------------------------


def random_holdout(V: int, N: int, holdout: float, seed: int) -> TruthDataset:
    """``N`` random single-valued triples, a seeded ``holdout`` fraction held out as test and G."""
    ds = random_triples(V, N, seed)
    n_held = max(1, int(holdout * N + 0.5))
    held = np.zeros(N, dtype=bool)
    held[np.random.default_rng([seed, 1]).choice(N, n_held, replace=False)] = True
    train = TupleDataset(ds.vocab, ds.tuples[~held])
    test = ds.tuples[held]
    return TruthDataset(f"random-V{V}-N{N}", train, test, test.copy(), None)


def _check_random(params: dict) -> dict:
    unknown = sorted(set(params) - set(RANDOM_DEFAULTS))
    if unknown:
        raise SectionError(
            ("data", "params"), f"unknown key(s) {', '.join(unknown)} (known: V, N, holdout)"
        )
    p = {**RANDOM_DEFAULTS, **params}
    for key in ("V", "N"):
        if isinstance(p[key], bool) or not isinstance(p[key], int) or p[key] < 1:
            raise SectionError(("data", "params", key), f"must be an integer >= 1, got {p[key]!r}")
    h = p["holdout"]
    if isinstance(h, bool) or not isinstance(h, int | float) or not 0 < h < 1:
        raise SectionError(("data", "params", "holdout"), f"must be in (0, 1), got {h!r}")
    n_held = max(1, int(h * p["N"] + 0.5))
    if n_held >= p["N"] or p["N"] > p["V"] ** 2:
        raise SectionError(
            ("data", "params", "N"),
            f"N={p['N']} must keep a training context after the holdout and be <= V^2",
        )
    return p


@functools.lru_cache(maxsize=16)
def _dataset(data_json: str) -> TruthDataset:
    d = json.loads(data_json)
    if d["source"] == "random":
        p = d["params"]
        return random_holdout(p["V"], p["N"], p["holdout"], d["seed"])
    return compare_trial.load_data(d["source"], d["params"], d["seed"])


def dataset_of(config: dict) -> TruthDataset:
    """The (cached) dataset of a canonical config."""
    return _dataset(json.dumps(config["data"], sort_keys=True))


# --- the trial kind --------------------------------------------------------------------------


def validate(config: dict) -> dict:
    """Check a nested trial config; return it canonical (``truth-completion``'s plus ``rank``)."""
    config = dict(config)
    rank = canonical(validate_section(RankOptions, config.pop("rank", None) or {}, ("rank",)))
    data = config.get("data")
    if not (isinstance(data, dict) and data.get("source") == "random"):
        return compare_trial.validate(config) | {"rank": rank}
    seed = check_seed_and_sections(config)
    unknown = sorted(set(data) - {"source", "params", "seed"})
    if unknown:
        raise SectionError(("data", unknown[0]), "unknown key (known keys: source, params, seed)")
    params = _check_random(dict(data.get("params") or {}))
    data_seed = data.get("seed", 0)
    if isinstance(data_seed, bool) or not isinstance(data_seed, int) or data_seed < 0:
        raise SectionError(("data", "seed"), f"must be an integer >= 0, got {data_seed!r}")
    section = {"source": "random", "params": params, "seed": data_seed}
    return canonical(
        {"seed": seed, "data": section, **common_sections(config, params["V"], 3), "rank": rank}
    )


def group_key(config: dict) -> str:
    """Same data, model and training mode: the seeds of one split train as one batch."""
    key = {k: config[k] for k in ("data", "model", "rank")} | {"mode": config["train"]["mode"]}
    return json.dumps(key, sort_keys=True)


def loss_floor(tuples: np.ndarray) -> float:
    """The lowest mean cross-entropy (nats) of the last token: the mean entropy of the fibers.

    0 for single-valued data; a model cannot train below it, so a loss tolerance under
    it is never reached.
    """
    if len(tuples) == 0:
        return 0.0
    _, ctx_inv, ctx_counts = np.unique(
        tuples[:, :-1], axis=0, return_inverse=True, return_counts=True
    )
    _, pair_inv, pair_counts = np.unique(tuples, axis=0, return_inverse=True, return_counts=True)
    p = pair_counts[pair_inv.reshape(-1)] / ctx_counts[ctx_inv.reshape(-1)]  # (M,) q(t | c)
    return float(-np.log(p).mean())


def _metrics(cfg: dict, model: Any, ds: TruthDataset) -> dict[str, Any]:
    D = DataTensor.from_tuples(ds.train.tuples, ds.vocab.V)
    taus = tuple(cfg["eval"]["taus"])
    fn = model.next_token_fn()
    rep = evaluate_completion(
        fn, D, taus=taus, top_k=0, max_contexts=cfg["eval"]["max_contexts"], truth=ds.truth
    )
    truth = judge(fn, D, ds.truth, ds.test, rep)
    out: dict[str, Any] = {
        "n_train": D.nnz,
        "n_test": truth.n_test,
        "n_truth": truth.n_truth,
        **parameter_counts(model).to_dict(),
        "test_accuracy": truth.test_accuracy,
        "test_cross_entropy": truth.test_cross_entropy,
        "loss_floor": loss_floor(ds.train.tuples),
    }
    for tau in taus:
        out[f"n_artifacts@{tau:g}"] = rep.n_artifacts[tau]
        out[f"generalizations@{tau:g}"] = truth.generalizations[tau]
        out[f"hallucinations@{tau:g}"] = truth.hallucinations[tau]
        out[f"recall@{tau:g}"] = truth.recall[tau]
    return out


def run_group(configs: list[dict]) -> list[TrialOutput]:
    """Train the group's models (batched when possible), judge each one, add the ranks."""
    ds = dataset_of(configs[0])
    rank_opts = configs[0]["rank"]
    if rank_opts["max_rank"] > 0:
        if ds.train.n != 3:
            raise InputError("rank.max_rank", "effective ranks are computed for triples only")
        data, opts = (json.dumps(configs[0][k], sort_keys=True) for k in ("data", "rank"))
        ranks = dict(_ranks(data, opts))
    else:
        ranks = {}
    return train_and_measure(configs, ds.train, lambda cfg, model: _metrics(cfg, model, ds) | ranks)


CLAIM_TRUTH = TrialKind(
    name="claim-truth",
    description="held-out split (a world, a KG or random triples) -> model -> artifacts, ranks",
    validate=validate,
    group_key=group_key,
    run_group=run_group,
    metrics=(
        "n_train",
        "n_test",
        "n_truth",
        "params_total",
        "params_non_embedding",
        "steps",
        "stop_reason",
        "train_loss",
        "loss_floor",
        "train_accuracy",
        "test_accuracy",
        "test_cross_entropy",
        "n_artifacts@tau",
        "generalizations@tau",
        "hallucinations@tau",
        "recall@tau",
        "rank_train",
        "rank_train_test",
        "rank_gap",
        "rank_censored",
    ),
    example={
        "seed": 0,
        "data": {"source": "random", "params": {"V": 8, "N": 12, "holdout": 0.25}},
        "model": {"kind": "attn", "d_model": 8, "n_heads": 2},
        "train": {"max_steps": 30},
        "rank": {"max_rank": 3, "restarts": 1},
    },
)
