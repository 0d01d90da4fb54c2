"""The ``toy-artifacts`` trial: random triples, a toy transformer, its completion artifacts.

A trial config has five sections: ``seed`` (the model's initialisation, and the
dataset's too unless ``data.seed`` is set), ``data`` (a random triple database),
``model`` (a registered model's options; ``V`` comes from the data), ``train``
(:class:`~artifactlab.train.TrainConfig`) and ``eval`` (artifact thresholds).
Trials whose data and model have the same shapes are trained together as one
batched model (:func:`~artifactlab.train.train_batched`).

Example
-------
>>> cfg = TOY_ARTIFACTS.validate({"seed": 0, "data": {"V": 8, "N": 10},
...                               "model": {"d_model": 8, "n_heads": 2},
...                               "train": {"max_steps": 20}})
>>> cfg["model"]["V"], cfg["data"]["seed"], cfg["eval"]["taus"]
(8, 0, [0.5])
>>> out = TOY_ARTIFACTS.run_group([cfg])[0]
>>> out.metrics["n_train"], sorted(out.files)[:2]
(10, ['config.json', 'model.safetensors'])
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import traceback
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import ConfigDict, Field, with_config

from artifactlab.checks import MAX_SEED, at_least, seed_value
from artifactlab.data import random_triples
from artifactlab.errors import InputError
from artifactlab.experiments.kinds import (
    SectionError,
    TrialKind,
    TrialOutput,
    canonical,
    validate_section,
)
from artifactlab.experiments.training import build_model, run_files, train_group
from artifactlab.models import MODELS, parameter_counts
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import MAX_CONTEXTS, context_block, evaluate_completion
from artifactlab.tensor.rank import unfolding_ranks
from artifactlab.train import TrainConfig, TrainResult

#: sweep files validate the sections with pydantic: no unknown keys, no nan or infinity
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
#: a seed field of a section: numpy refuses negative seeds, torch those past 64 bits
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]


@with_config(STRICT)
@dataclass(frozen=True)
class RandomTriplesData:
    """A random triple database (:func:`artifactlab.data.random_triples`).

    Attributes
    ----------
    kind : "random"
        The dataset kind.
    V : int
        Shared token set size.
    N : int
        Distinct (subject, relation) contexts.
    seed : int or None
        Seed of the draw, in ``[0, 2^63 - 1]``; None uses the trial's seed.
    k : int
        Objects per context.
    ranges : tuple of int or None
        Separate subject, relation and object ranges (S, R, O) instead of one shared set.
    """

    V: int
    N: int
    kind: Literal["random"] = "random"
    seed: Seed | None = None
    k: int = 1
    ranges: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.seed is not None:  # for Python callers; pydantic checks sweep files first
            seed_value("data.seed", self.seed)


@with_config(STRICT)
@dataclass(frozen=True)
class EvalOptions:
    """How the completion tensor is evaluated.

    Attributes
    ----------
    taus : tuple of float
        Artifact thresholds, each in (0, 1).
    max_contexts : int
        Refuse to enumerate more contexts than this.
    """

    taus: tuple[float, ...] = (0.5,)
    max_contexts: int = MAX_CONTEXTS

    def __post_init__(self) -> None:
        if not self.taus:
            raise InputError("eval.taus", "must list at least one tau in (0, 1)")
        for tau in self.taus:
            number = isinstance(tau, int | float) and not isinstance(tau, bool)
            if not (number and math.isfinite(tau) and 0 < tau < 1):  # says why nan is refused
                raise InputError(
                    "eval.taus", f"every tau must be in (0, 1) (a finite number), got {tau!r}"
                )
        at_least("eval.max_contexts", self.max_contexts, 1)


SECTIONS = ("seed", "data", "model", "train", "eval")


def validate(config: dict) -> dict:
    """Check a nested trial config and return it canonical, every default filled in.

    Raises
    ------
    SectionError
        An unknown section or key, a wrong type, or an impossible value.
    """
    seed = check_seed_and_sections(config)
    data = validate_section(RandomTriplesData, config.get("data"), ("data",))
    if data.seed is None:
        data = dataclasses.replace(data, seed=seed)
    _check_data(data)
    V = sum(data.ranges) if data.ranges else data.V
    return canonical({"seed": seed, "data": canonical(data), **common_sections(config, V)})


def check_seed_and_sections(config: dict) -> int:
    """Refuse unknown sections; return the trial's seed, an integer in ``[0, 2^63 - 1]``."""
    for key in config:
        if key not in SECTIONS:
            raise SectionError((key,), f"unknown section (known: {', '.join(SECTIONS)})")
    try:  # a negative seed would fail only when the trial runs (numpy refuses it)
        return seed_value("seed", config.get("seed"))
    except InputError as err:
        raise SectionError(("seed",), err.problem) from None


def common_sections(config: dict, V: int, n: int = 3) -> dict:
    """The ``model``, ``train`` and ``eval`` sections (``V`` and ``n_ctx`` from the data)."""
    model = dict(config.get("model") or {})
    name = model.pop("kind", "attn")
    if name not in MODELS:
        raise SectionError(("model", "kind"), f"unknown model {name!r} (known: {sorted(MODELS)})")
    spec = MODELS[name]
    for key, value in spec.preset.items():  # attn-mlp: the transformer with mlp=True
        if model.setdefault(key, value) != value:
            raise SectionError(("model", key), f"model {name!r} fixes {key}={value!r}")
    model.setdefault("V", V)
    model.setdefault("n_ctx", n)
    model_cfg = validate_section(spec.config, model, ("model",))
    if model_cfg.V != V:
        raise SectionError(("model", "V"), f"must equal the data's {V} tokens, got {model_cfg.V}")
    train_cfg = validate_section(TrainConfig, config.get("train") or {}, ("train",))
    eval_opts = validate_section(EvalOptions, config.get("eval") or {}, ("eval",))
    return {
        "model": {"kind": spec.kind, **canonical(model_cfg)},
        "train": canonical(train_cfg),
        "eval": canonical(eval_opts),
    }


def _check_data(data: RandomTriplesData) -> None:
    try:  # the generator's own checks (N <= contexts, k <= objects), on a 1-context draw
        random_triples(V=data.V, N=1, seed=0, k=data.k, ranges=data.ranges)
        S, R = data.ranges[:2] if data.ranges else (data.V, data.V)
        if data.N > S * R:
            raise InputError("data.N", f"N={data.N} exceeds the {S * R} possible contexts")
    except InputError as err:
        raise SectionError(("data",), err.problem) from None


def group_key(config: dict) -> str:
    """Trials with the same model, data shape and training mode can train as one batch."""
    data = {k: v for k, v in config["data"].items() if k != "seed"}
    shape = {"model": config["model"], "data": data, "mode": config["train"]["mode"]}
    return json.dumps(shape, sort_keys=True)


def run_group(configs: list[dict]) -> list[TrialOutput]:
    """Train the trials together when they fit one batch, then evaluate each one."""
    datasets = []
    for cfg in configs:
        d = cfg["data"]
        ranges = tuple(d["ranges"]) if d["ranges"] else None
        datasets.append(random_triples(d["V"], d["N"], d["seed"], k=d["k"], ranges=ranges))
    models = [build_model(cfg["model"], cfg["seed"]) for cfg in configs]
    train_cfgs = [TrainConfig(**cfg["train"]) for cfg in configs]
    results, share = train_group(models, [ds.tuples for ds in datasets], train_cfgs)
    outputs = []
    for cfg, model, ds, res in zip(configs, models, datasets, results, strict=True):
        try:  # one trial's evaluation failing (too many contexts) fails that trial only
            outputs.append(_evaluate(cfg, model, ds, res, share))
        except Exception:  # noqa: BLE001 - reported in the store, the batch goes on
            outputs.append(TrialOutput({}, error=traceback.format_exc()))
    return outputs


def _evaluate(cfg: dict, model: torch.nn.Module, ds, result: TrainResult, share: float):
    start = time.perf_counter()
    D = DataTensor.from_tuples(ds.tuples, ds.vocab.V)
    taus = tuple(cfg["eval"]["taus"])
    report = evaluate_completion(
        model.next_token_fn(), D, taus=taus, top_k=0, max_contexts=cfg["eval"]["max_contexts"]
    )
    metrics: dict = {
        "n_train": D.nnz,
        **parameter_counts(model).to_dict(),
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "train_loss": result.loss,
        "train_accuracy": result.accuracy,
        "mean_kl": report.consistency["mean_kl"],
        "max_kl": report.consistency["max_kl"],
    }
    for tau in report.taus:
        metrics[f"n_artifacts@{tau:g}"] = report.n_artifacts[tau]
        metrics[f"ratio@{tau:g}"] = report.ratio[tau]
    metrics.update(_rank_metrics(model, D, report.taus))
    timings = {"train_seconds": share, "eval_seconds": time.perf_counter() - start}
    return TrialOutput(metrics, timings, run_files(cfg, model, ds, result))


#: densify ``M^n`` and ``D^n`` for their ranks only up to this many entries (V=256, n=3)
RANK_MAX_ENTRIES = 1 << 24


def completion_probs(model: torch.nn.Module, V: int, n: int) -> np.ndarray:
    """The dense completion ``M^n[c, t] = p(t | c)``, float64, shape (V,) * n.

    Each probability is the float64 softmax of the model's logits, the rule every artifact
    count uses (:func:`artifactlab.tensor.threshold.exact_probs`), so ``M^n > tau`` here
    agrees entry by entry with the counts.
    """
    logits_fn = model.next_token_fn()
    total = V ** (n - 1)
    block = max(1, (1 << 19) // V)
    out = np.empty((total, V))  # (contexts, next token)
    with torch.inference_mode():
        for start in range(0, total, block):
            stop = min(start + block, total)
            logits = logits_fn(context_block(start, stop, V, n - 1))  # (B, V), a reused buffer
            out[start:stop] = torch.softmax(logits.double(), dim=1).cpu().numpy()
    return out.reshape((V,) * n)


def _rank_metrics(model: torch.nn.Module, D: DataTensor, taus: tuple[float, ...]) -> dict:
    """Unfolding ranks of ``1[M^n > tau]`` per tau and of ``1[D^n > 0]``.

    Each is :func:`artifactlab.tensor.rank.unfolding_ranks` at its default tolerance, that
    of :func:`numpy.linalg.matrix_rank`.

    ``completion_rank@TAU`` and ``data_rank`` are the ranks of the (contexts x next token)
    unfolding, ``..._max`` the largest over all n unfoldings. All are NaN when ``V^n`` is
    over ``RANK_MAX_ENTRIES`` (too large to densify).
    """
    V, n = D.V, D.n
    names = [f"{m}@{tau:g}" for tau in taus for m in ("completion_rank", "completion_rank_max")]
    names += ["data_rank", "data_rank_max"]
    if V**n > RANK_MAX_ENTRIES:
        return dict.fromkeys(names, float("nan"))
    M = completion_probs(model, V, n)
    metrics = {}
    for tau in taus:
        ranks = unfolding_ranks(M > tau)  # the last unfolding is (contexts x next token)
        metrics[f"completion_rank@{tau:g}"] = ranks[-1]
        metrics[f"completion_rank_max@{tau:g}"] = max(ranks)
    ranks = unfolding_ranks(D.dense(RANK_MAX_ENTRIES) > 0)
    metrics["data_rank"], metrics["data_rank_max"] = ranks[-1], max(ranks)
    return metrics


TOY_ARTIFACTS = TrialKind(
    name="toy-artifacts",
    description="random triples -> toy transformer -> completion artifacts at each tau",
    validate=validate,
    group_key=group_key,
    run_group=run_group,
    metrics=(
        "n_train",
        "params_total",
        "params_non_embedding",
        "steps",
        "stop_reason",
        "train_loss",
        "train_accuracy",
        "mean_kl",
        "max_kl",
        "n_artifacts@tau",
        "ratio@tau",
        "completion_rank@tau",
        "completion_rank_max@tau",
        "data_rank",
        "data_rank_max",
    ),
    example={
        "seed": 0,
        "data": {"V": 8, "N": 10},
        "model": {"d_model": 8, "n_heads": 2},
        "train": {"max_steps": 30},
        "eval": {"taus": [0.5, 0.9]},
    },
)
