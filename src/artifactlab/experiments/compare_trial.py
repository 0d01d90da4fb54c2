"""The ``truth-completion`` trial: a dataset with a ground truth, any model, its artifacts judged.

A trial trains one registered model (``model.kind``) on the training tuples of a
dataset that carries a truth set ``G`` (a toy world, a knowledge graph, or a folder),
then reports its artifacts split into generalizations and hallucinations
(``docs/glossary.md#truth-set``), its held-out accuracy and cross-entropy, and filtered
tail-prediction MRR and Hits@k (:mod:`artifactlab.tensor.linkpred`). ``data.source`` names a world
(``artifactlab make-data world``), a knowledge graph (``nations``, ``kinships``,
``umls``) or a folder (``train.tsv``/``test.tsv``/``truth.tsv``, or
``train.txt``/``test.txt`` triples). The dataset is fixed by ``data.seed`` (default 0)
so every model and seed sees the same data; the trial's ``seed`` drives the model.

Example
-------
>>> cfg = TRUTH_COMPLETION.validate({"seed": 0, "data": {"source": "siblings"},
...                                  "model": {"kind": "ngram"}})
>>> cfg["model"]["V"] > 0, cfg["data"]["seed"]
(True, 0)
>>> out = TRUTH_COMPLETION.run_group([cfg])[0]
>>> out.metrics["generalizations@0.5"], out.metrics["n_artifacts@0.5"]
(0, 0)
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from math import nan
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, ConfigDict, with_config

from artifactlab.checks import finite, seed_value
from artifactlab.data.kg import (
    KG_PARAMS,
    KNOWLEDGE_GRAPHS,
    entity_ids,
    kg_subset,
    known_triples,
    load_kg,
)
from artifactlab.data.truth_set import TruthDataset
from artifactlab.data.worlds import WORLDS
from artifactlab.errors import InputError
from artifactlab.experiments.kinds import (
    SectionError,
    TrialKind,
    TrialOutput,
    canonical,
    validate_section,
)
from artifactlab.experiments.toy_trial import Seed, check_seed_and_sections, common_sections
from artifactlab.experiments.training import train_and_measure
from artifactlab.models import parameter_counts
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.tensor.data_tensor import encode
from artifactlab.tensor.labels import judge, scores_of
from artifactlab.tensor.linkpred import filtered_ranks, link_prediction_metrics


def _param(value: Any) -> Any:
    """A world parameter from a sweep file: a number (not a bool, which pydantic takes as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value


#: a value of ``data.params``: checked before the int/float union, so errors name the key
Param = Annotated[int | float, BeforeValidator(_param)]


# sweep files validate it with pydantic: no unknown keys, no nan or infinity
@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
@dataclass(frozen=True)
class TruthData:
    """Where the data comes from.

    Attributes
    ----------
    source : str
        A world name, a knowledge graph name, a folder, or a triple file.
    params : dict
        A world's parameters (see ``artifactlab ls worlds``), for a triple file its
        ``holdout`` (default :data:`FILE_HOLDOUT`), for a knowledge graph ``relations``
        and ``holdout`` (:func:`~artifactlab.data.kg.kg_subset`; none: the standard
        split); finite numbers, checked against the world's types as
        ``make-data world --param`` checks them.
    seed : int
        The world's seed, or the seed of a held-out draw (a triple file, or a knowledge
        graph with a ``holdout``; ignored for folders); in ``[0, 2^63 - 1]``.
    digest : str, optional
        For a folder or a file: a hash of the contents the loader reads, so that an edited
        file makes new trials. Filled in by validation; a given value is replaced.
    """

    source: str
    params: dict[str, Param] = field(default_factory=dict)
    seed: Seed = 0
    digest: str | None = None

    def __post_init__(self) -> None:
        seed_value("data.seed", self.seed)
        for key, value in self.params.items():  # for Python callers, as _param for sweep files
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"data.params.{key}", f"must be a number, got {value!r}")
            finite(f"data.params.{key}", value)


#: fraction of a single triple file held out as the test split and G
FILE_HOLDOUT = 0.1


def data_digest(source: str) -> str | None:
    """A hash of what a folder or file source holds; None for worlds and knowledge graphs.

    A file is hashed whole; a folder by the name and bytes of each file a loader may
    read (``train``, ``valid``, ``test``, ``truth`` with any suffix, and ``vocab.json``).
    """
    path = Path(source)
    if source in WORLDS or source.lower() in KNOWLEDGE_GRAPHS or not path.exists():
        return None
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            f for f in path.iterdir()
            if f.is_file() and f.name.startswith(("train", "valid", "test", "truth", "vocab.json"))
        )  # fmt: skip
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _load(source: str, params_json: str, seed: int, digest: str | None) -> TruthDataset:
    params = json.loads(params_json)
    if source in WORLDS:
        return WORLDS[source].build(seed=seed, **params)
    if source.lower() not in KNOWLEDGE_GRAPHS and Path(source).is_file():
        return _load_file(Path(source), params, seed)
    if source.lower() in KNOWLEDGE_GRAPHS:
        unknown = sorted(set(params) - set(KG_PARAMS))
        if unknown:
            raise InputError(
                "data.params",
                f"a knowledge graph takes only {' and '.join(KG_PARAMS)}, got {', '.join(unknown)}",
            )
        return kg_subset(source, seed=seed, **params) if params else load_kg(source)
    if params:
        raise InputError(
            "data.params",
            f"only worlds, knowledge graphs and triple files take parameters, {source!r} is none",
        )
    return load_folder(Path(source))


def _load_file(path: Path, params: dict, seed: int) -> TruthDataset:
    """A single triple file, split by :func:`~artifactlab.data.kg.split_triple_file`."""
    from artifactlab.data.kg import split_triple_file

    unknown = sorted(set(params) - {"holdout"})
    if unknown:
        raise InputError(
            "data.params", f"a triple file takes only 'holdout', got {', '.join(unknown)}"
        )
    return split_triple_file(path, params.get("holdout", FILE_HOLDOUT), seed)


def load_data(source: str, params: dict | None = None, seed: int = 0) -> TruthDataset:
    """The dataset a ``data`` section names (cached): a world, a KG, a folder or a triple file.

    Raises
    ------
    InputError
        An unknown name, a missing or malformed file, or parameters the source does not take.
    """
    return _load(source, json.dumps(params or {}, sort_keys=True), seed, data_digest(source))


def load_folder(folder: Path) -> TruthDataset:
    """A folder written by ``make-data world`` (``truth.tsv``) or of KG triple files."""
    from artifactlab.data.kg import load_triple_folder

    if not folder.is_dir():
        known = ", ".join([*WORLDS, *KNOWLEDGE_GRAPHS])
        raise InputError(
            str(folder), "is not a folder, a triple file or a known dataset", f"known: {known}"
        )
    if (folder / "truth.tsv").is_file():
        return TruthDataset.load(folder)
    return load_triple_folder(folder)


def dataset_of(config: dict) -> TruthDataset:
    """The (cached) dataset of a canonical config."""
    d = config["data"]
    return load_data(d["source"], d["params"], d["seed"])


def validate(config: dict) -> dict:
    """Check a nested trial config; return it canonical (the model's V filled in from the data)."""
    seed = check_seed_and_sections(config)
    data = validate_section(TruthData, config.get("data"), ("data",))
    _check_world_params(data)
    try:
        ds = load_data(data.source, data.params, data.seed)
    except InputError as err:
        raise SectionError(("data", "source"), err.message) from None
    # every parameter the data depends on, defaults included, is part of the trial's identity
    section = canonical(data) | {"params": canonical(_with_defaults(data.source, data.params))}
    section["digest"] = data_digest(data.source)
    if section["digest"] is None:
        del section["digest"]  # worlds and KGs: their configs stay as they were
    return canonical(
        {"seed": seed, "data": section, **common_sections(config, ds.vocab.V, ds.train.n)}
    )


def _check_world_params(data: TruthData) -> None:
    """A world's parameters checked one by one (type, finite), so the error names the key.

    Unknown keys are left to the world's build, reported at ``data.source`` with the list
    of known ones.
    """
    world = WORLDS.get(data.source)
    for key, value in data.params.items() if world is not None else ():
        if key not in world.defaults:
            continue
        try:
            world.check_params({key: value})
        except InputError as err:
            problem = f"{err.problem} ({err.hint})" if err.hint else err.problem
            raise SectionError(("data", "params", key), problem) from None


def _with_defaults(source: str, params: dict) -> dict:
    """A world's or a triple file's parameters with their defaults filled in."""
    if source in WORLDS:
        return {**WORLDS[source].defaults, **params}
    if source.lower() not in KNOWLEDGE_GRAPHS and Path(source).is_file():
        return {"holdout": FILE_HOLDOUT, **params}
    return dict(params)


def group_key(config: dict) -> str:
    """Same data, model and training mode: the seeds of one model train as one batch."""
    key = {k: config[k] for k in ("data", "model")} | {"mode": config["train"]["mode"]}
    return json.dumps(key, sort_keys=True)


def run_group(configs: list[dict]) -> list[TrialOutput]:
    """Train the group's models (batched when possible), then judge each one."""
    ds = dataset_of(configs[0])
    return train_and_measure(configs, ds.train, lambda cfg, model: _judge(cfg, model, ds))


def _judge(cfg: dict, model: Any, ds: TruthDataset) -> dict[str, Any]:
    D = DataTensor.from_tuples(ds.train.tuples, ds.vocab.V)
    taus = tuple(cfg["eval"]["taus"])
    rep = evaluate_completion(
        model.next_token_fn(), D, taus=taus, top_k=0, max_contexts=cfg["eval"]["max_contexts"],
        truth=ds.truth,
    )  # fmt: skip
    truth = judge(model.next_token_fn(), D, ds.truth, ds.test, rep)
    metrics: dict[str, Any] = {
        "n_train": D.nnz,
        "n_truth": truth.n_truth,
        **parameter_counts(model).to_dict(),
        "test_accuracy": truth.test_accuracy,
        "test_cross_entropy": truth.test_cross_entropy,
    }
    if ds.train.n == 3 and len(ds.test):
        ranks = filtered_ranks(model.next_token_fn(), ds.test, known_triples(ds), entity_ids(ds))
        lp = link_prediction_metrics(ranks)
        # no "@" in these names: "name@x" is reserved for per-tau metrics
        metrics |= {"tail_mrr": lp["mrr"]} | {f"tail_hits{k}": lp[f"hits@{k}"] for k in (1, 3, 10)}
    harmless = _harmless_probs(cfg, model, ds, D)
    for tau in taus:
        # artifacts the world calls harmless (grammar: agreement broken, meaning kept); these
        # are among the hallucinations; nan where the world has no such notion
        metrics[f"harmless@{tau:g}"] = int((harmless > tau).sum()) if harmless is not None else nan
        metrics[f"n_artifacts@{tau:g}"] = rep.n_artifacts[tau]
        metrics[f"generalizations@{tau:g}"] = truth.generalizations[tau]
        metrics[f"hallucinations@{tau:g}"] = truth.hallucinations[tau]
        metrics[f"recall@{tau:g}"] = truth.recall[tau]
    return metrics


def _harmless_probs(cfg: dict, model: Any, ds: TruthDataset, D: DataTensor) -> np.ndarray | None:
    """``p`` of each harmless sentence outside the training data, for worlds that define them."""
    world = WORLDS.get(cfg["data"]["source"])
    if world is None or world.harmless is None:
        return None
    sentences = np.asarray(world.harmless(ds), dtype=np.int64).reshape(-1, D.n)
    sentences = sentences[~np.isin(encode(sentences, D.V), D.keys())]
    scores = scores_of(model.next_token_fn(), sentences) if len(sentences) else None
    return scores[:, 0].cpu().numpy() if scores is not None else None


TRUTH_COMPLETION = TrialKind(
    name="truth-completion",
    description="a dataset with a truth set G -> any model -> generalizations vs hallucinations",
    validate=validate,
    group_key=group_key,
    run_group=run_group,
    metrics=(
        "n_train",
        "n_truth",
        "params_total",
        "params_non_embedding",
        "steps",
        "stop_reason",
        "train_loss",
        "train_accuracy",
        "test_accuracy",
        "test_cross_entropy",
        "tail_mrr",
        "tail_hits1",
        "tail_hits3",
        "tail_hits10",
        "harmless@tau",
        "n_artifacts@tau",
        "generalizations@tau",
        "hallucinations@tau",
        "recall@tau",
    ),
    example={
        "seed": 0,
        "data": {"source": "siblings"},
        "model": {"kind": "attn", "d_model": 8, "n_heads": 2},
        "train": {"max_steps": 30},
    },
)
