"""Run folders: a trained model with everything needed to trace and re-evaluate it.

A run folder holds ``model.safetensors`` (weights), ``config.json`` (model and
training configs, seed, provenance, the training result), ``vocab.json``,
``train.tsv`` (the training tuples, so ``D^n`` can be rebuilt) and
``train_log.json``. No pickle anywhere. The folder is written under a
temporary name and renamed when complete, so a crash leaves nothing half-written.

Example
-------
>>> import tempfile, pathlib
>>> from artifactlab.data import random_triples
>>> from artifactlab.models import ToyTransformer, ToyTransformerConfig
>>> from artifactlab.train import TrainConfig, train
>>> ds = random_triples(V=6, N=5, seed=0)
>>> model = ToyTransformer(ToyTransformerConfig(V=6, d_model=8, n_heads=2), seed=0)
>>> result = train(model, ds.tuples, TrainConfig(max_steps=5))
>>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> _ = save_run(out, model, ds, TrainConfig(max_steps=5), result, seed=0)
>>> load_run(out).model.cfg.d_model
8
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from artifactlab.data.tuples import TupleDataset, Vocabulary, load_tuples
from artifactlab.errors import InputError
from artifactlab.models import MODELS, parameter_counts
from artifactlab.provenance import provenance
from artifactlab.train.trainer import TrainConfig, TrainResult


@dataclass
class Run:
    """A loaded run: the model (in eval mode), its training data and its config record."""

    path: Path
    model: Any
    dataset: TupleDataset
    config: dict[str, Any]


def save_run(
    path: str | Path,
    model: Any,
    dataset: TupleDataset,
    train_cfg: TrainConfig,
    result: TrainResult,
    seed: int,
    model_name: str = "attn",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a run folder atomically (temporary folder, then rename).

    Parameters
    ----------
    path : str or Path
        The run folder; must not exist yet unless empty.
    model : torch.nn.Module
        The trained model; ``model.cfg.to_dict()`` is saved.
    dataset : TupleDataset
        The training tuples.
    train_cfg, result : TrainConfig, TrainResult
        How it was trained and what happened.
    seed : int
        The model's initialisation seed.
    model_name : str
        Registry name of the model class.
    extra : dict, optional
        More fields for ``config.json`` (for example the data file's path).

    Returns
    -------
    Path
        The run folder.
    """
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise InputError(str(path), "already exists and is not empty", "choose a new --out folder")
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, tmp / "model.safetensors")
    config = {
        "model_name": model_name,
        "model": model.cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "seed": seed,
        **parameter_counts(model).to_dict(),
        "result": {k: v for k, v in result.to_dict().items() if k != "log"},
        "provenance": provenance(),
        **(extra or {}),
    }
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    (tmp / "vocab.json").write_text(json.dumps(list(dataset.vocab.tokens)))
    (tmp / "train_log.json").write_text(json.dumps(result.log))
    dataset.save(tmp / "train.tsv")
    if path.exists():
        path.rmdir()
    tmp.rename(path)
    return path


def load_run(path: str | Path) -> Run:
    """Load a run folder written by :func:`save_run`.

    Raises
    ------
    InputError
        The folder or one of its files is missing or unreadable.
    """
    path = Path(path)
    for name in ("config.json", "vocab.json", "model.safetensors", "train.tsv"):
        if not (path / name).is_file():
            raise InputError(
                str(path),
                f"is not a run folder (no {name})",
                "pass a folder made by `artifactlab train`",
            )
    try:
        config = json.loads((path / "config.json").read_text())
        vocab = Vocabulary(tuple(json.loads((path / "vocab.json").read_text())))
        spec = MODELS[config["model_name"]]
        model = spec.model_class(spec.config(**config["model"]), seed=config.get("seed", 0))
        model.load_state_dict(load_file(path / "model.safetensors"))
    except (json.JSONDecodeError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
        raise InputError(
            str(path), f"run folder is damaged ({type(err).__name__}: {err})"
        ) from None
    model.eval()
    dataset = load_tuples(path / "train.tsv", vocab)
    return Run(path, model, dataset, config)
