"""One trial: draw a random triple database, train a toy model, count its artifacts.

Example
-------
>>> from artifactlab.models import ToyTransformerConfig
>>> from artifactlab.train import TrainConfig
>>> spec = TrialSpec(V=8, N=10, data_seed=0, model=ToyTransformerConfig(V=8, d_model=8, n_heads=2),
...                  train=TrainConfig(max_steps=20), model_seed=0)
>>> row = run_trial(spec)
>>> row["n_train"], row["V"]
(10, 8)
"""

from __future__ import annotations

from dataclasses import dataclass

from artifactlab.data import random_triples
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.tensor import DataTensor
from artifactlab.tensor.completion import evaluate_completion
from artifactlab.train import TrainConfig, train


@dataclass(frozen=True)
class TrialSpec:
    """Everything that determines one trial's result."""

    V: int
    N: int
    data_seed: int
    model: ToyTransformerConfig
    train: TrainConfig
    model_seed: int
    taus: tuple[float, ...] = (0.5,)


def run_trial(spec: TrialSpec) -> dict[str, float | int | str]:
    """Run one trial and return a flat row of results (one CSV row).

    Returns
    -------
    dict
        Inputs (V, N, seeds, d_model, n_heads, n_params) and outcomes (steps,
        stop_reason, train loss/accuracy, mean/max KL, and for each tau
        ``n_artifacts@tau`` and ``ratio@tau``).
    """
    ds = random_triples(V=spec.V, N=spec.N, seed=spec.data_seed)
    model = ToyTransformer(spec.model, seed=spec.model_seed)
    result = train(model, ds.tuples, spec.train)
    D = DataTensor.from_tuples(ds.tuples, spec.V)
    report = evaluate_completion(model.next_token_fn(), D, taus=spec.taus, top_k=0)
    row: dict[str, float | int | str] = {
        "V": spec.V,
        "N": spec.N,
        "n_train": D.nnz,
        "data_seed": spec.data_seed,
        "model_seed": spec.model_seed,
        "d_model": spec.model.d_model,
        "n_heads": spec.model.n_heads,
        "n_params": model.n_non_embedding_params(),
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "train_loss": result.loss,
        "train_accuracy": result.accuracy,
        "mean_kl": report.consistency["mean_kl"],
        "max_kl": report.consistency["max_kl"],
        "train_seconds": result.seconds,
    }
    for tau in report.taus:
        row[f"n_artifacts@{tau:g}"] = report.n_artifacts[tau]
        row[f"ratio@{tau:g}"] = report.ratio[tau]
    return row
