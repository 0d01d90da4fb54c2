"""Training a group of trials, shared by every trial kind.

Build each model, train them together when they fit one batch (else one by one), and
pack each run folder as bytes.

Example
-------
>>> from artifactlab.data import random_triples
>>> from artifactlab.train import TrainConfig
>>> ds = random_triples(V=6, N=8, seed=0)
>>> sections = [{"kind": "attn", "V": 6, "n_ctx": 3, "d_model": 8, "n_heads": 2}] * 2
>>> models = [build_model(s, seed) for seed, s in enumerate(sections)]
>>> results, seconds = train_group(models, [ds.tuples] * 2, [TrainConfig(max_steps=5)] * 2)
>>> [r.steps for r in results]
[5, 5]
"""

from __future__ import annotations

import copy
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from artifactlab.data.tuples import TupleDataset
from artifactlab.device import place
from artifactlab.experiments.kinds import TrialOutput
from artifactlab.models import MODELS
from artifactlab.runs import save_run
from artifactlab.train import TrainConfig, TrainResult, can_batch, fit_model, train_batched


def build_model(section: dict[str, Any], seed: int, device: str | Any | None = None) -> Any:
    """A fresh model from a trial's canonical ``model`` section (``kind`` plus config fields).

    Initialised on the CPU (the same weights for a seed on every device), then moved to
    ``device``: a name or ``torch.device``; default the process-wide device
    (:func:`artifactlab.device.default_device`, the CLI's ``--device``).
    """
    spec = MODELS[section["kind"]]
    fields = {k: v for k, v in section.items() if k != "kind"}
    return place(spec.model_class(spec.config(**fields), seed=seed), device)


def train_group(
    models: list[Any], tuples: list[np.ndarray], train_cfgs: list[TrainConfig]
) -> tuple[list[TrainResult], float]:
    """Train ``models`` in place, as one batched model when they can be; one result each.

    Returns
    -------
    results : list of TrainResult
        In the order of ``models``.
    seconds : float
        Training time per model (the group's time shared evenly).
    """
    start = time.perf_counter()
    if len(models) > 1 and can_batch(models, tuples, train_cfgs) is None:
        results = train_batched(models, tuples, train_cfgs)
    else:
        results = [fit_model(m, t, c) for m, t, c in zip(models, tuples, train_cfgs, strict=True)]
    return results, (time.perf_counter() - start) / max(len(models), 1)


def run_files(cfg: dict, model: Any, ds: TupleDataset, result: TrainResult) -> dict[str, bytes]:
    """The trial's run folder (loadable by ``artifactlab artifacts``) as file name -> bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        run = save_run(
            Path(tmp) / "run",
            model,
            ds,
            TrainConfig(**cfg["train"]),
            result,
            cfg["seed"],
            model_name=cfg["model"]["kind"],
            extra={"trial": copy.deepcopy(cfg)},
        )
        return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


def train_and_measure(
    configs: list[dict],
    train: TupleDataset,
    measure: Callable[[dict, Any], dict[str, Any]],
) -> list[TrialOutput]:
    """Train a group of trials on one dataset, then ``measure(cfg, model)`` each one.

    The training result (steps, stop reason, loss, accuracy) is added to each trial's
    metrics; a trial whose measurement fails fails alone, its batch mates go on.
    """
    models = [build_model(cfg["model"], cfg["seed"]) for cfg in configs]
    train_cfgs = [TrainConfig(**cfg["train"]) for cfg in configs]
    results, share = train_group(models, [train.tuples] * len(configs), train_cfgs)
    outputs = []
    for cfg, model, result in zip(configs, models, results, strict=True):
        try:
            metrics = measure(cfg, model) | {
                "steps": result.steps,
                "stop_reason": result.stop_reason,
                "train_loss": result.loss,
                "train_accuracy": result.accuracy,
            }
            files = run_files(cfg, model, train, result)
            outputs.append(TrialOutput(metrics, {"train_seconds": share}, files))
        except Exception:  # noqa: BLE001 - reported in the store, the batch goes on
            outputs.append(TrialOutput({}, error=traceback.format_exc()))
    return outputs
