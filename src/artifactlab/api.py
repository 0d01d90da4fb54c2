r"""The quickstart API: load tuples, fit a model, evaluate its completion, read the artifacts.

Three functions, thin over the library, and two results: :func:`load_tuples` reads a tuple
file, :func:`fit` trains a registered model on it (a :class:`TrainedModel`), and
:func:`evaluate` enumerates the model's completion tensor ``M^n`` against the data tensor
``D^n`` (a :class:`Completion`: artifact counts per ``tau``, consistency, the most probable
artifacts as token strings). Every name is defined in ``docs/glossary.md``.

Example
-------
>>> import pathlib, tempfile
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("mice eat cheese\nmouse eats cheese\ncats eat mice\n")
>>> import artifactlab as al
>>> data = al.load_tuples(corpus)
>>> trained = al.fit(data, model="attn", seed=0)
>>> completion = al.evaluate(trained, taus=(0.5, 0.9), top_k=4)
>>> print(completion)
Completion(model='attn', seed=0, V=6, n=3, n_train=3, contexts=36 (3 observed))
  tau=0.5: 32 artifacts, ratio 10.67 per training n-gram, 0 in observed fibers
  tau=0.9: 23 artifacts, ratio 7.67 per training n-gram, 0 in observed fibers
  consistency: mean KL 0.0021, max KL 0.0041 nats, train accuracy 1.000
  most probable artifacts (tau=0.5):
    mice mice cheese  p=1.000
    mice mouse cheese  p=1.000
    mouse mice cheese  p=1.000
    mice eats cheese  p=1.000
>>> completion.artifacts[3].tokens, completion.n_artifacts[0.9], completion.to_dict()["ratio"]
(('mice', 'eats', 'cheese'), 23, {'0.5': 10.666666666666666, '0.9': 7.666666666666667})
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from artifactlab.data.tuples import TupleDataset, Vocabulary, load_tuples
from artifactlab.device import place
from artifactlab.errors import InputError
from artifactlab.models import find_model
from artifactlab.tensor.completion import MAX_CONTEXTS, CompletionReport, evaluate_completion
from artifactlab.tensor.data_tensor import DataTensor
from artifactlab.train.fit import fit_model
from artifactlab.train.trainer import TrainConfig, TrainResult

__all__ = ["Completion", "DecodedArtifact", "TrainedModel", "evaluate", "fit", "load_tuples"]

#: how many artifacts ``repr(Completion)`` lists (all of them are in ``Completion.artifacts``)
REPR_ARTIFACTS = 5


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted model with its training data and what happened in training.

    Attributes
    ----------
    name : str
        Registry name the model was built from (``artifactlab.models.MODELS``).
    model : torch.nn.Module
        The fitted model, in eval mode.
    dataset : TupleDataset
        The training tuples and their vocabulary.
    seed : int
        Seed of the initialisation and of the minibatch order.
    train_config : TrainConfig
        The training options used.
    result : TrainResult
        Steps, stop reason, final train loss and accuracy.
    """

    name: str
    model: torch.nn.Module
    dataset: TupleDataset
    seed: int
    train_config: TrainConfig
    result: TrainResult

    @property
    def params_total(self) -> int:
        """Every trainable weight (``docs/glossary.md#params_total``)."""
        return sum(p.numel() for p in self.model.parameters())

    def save(self, path: str | Path) -> Path:
        """Write a run folder (readable by ``artifactlab artifacts RUN``); returns its path."""
        from artifactlab.runs import save_run  # provenance asks git: only when saving

        spec = find_model(self.name, "model")
        return save_run(
            path,
            self.model,
            self.dataset,
            self.train_config,
            self.result,
            seed=self.seed,
            model_name=spec.kind,  # as `artifactlab train` writes it
            extra={"model_preset": spec.name},
        )

    def __repr__(self) -> str:
        r = self.result
        return (
            f"TrainedModel(model={self.name!r}, seed={self.seed}, V={self.dataset.vocab.V}, "
            f"n={self.dataset.n}, N={self.dataset.N}, params_total={self.params_total}, "
            f"steps={r.steps}, stop_reason={r.stop_reason!r}, loss={r.loss:.4f}, "
            f"accuracy={r.accuracy:.3f})"
        )


@dataclass(frozen=True)
class DecodedArtifact:
    """One artifact as token strings: the context, the token the model adds, its probability."""

    context: tuple[str, ...]
    token: str
    prob: float

    @property
    def tokens(self) -> tuple[str, ...]:
        """The whole n-gram ``(c, t)``."""
        return (*self.context, self.token)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as in ``artifactlab artifacts --json``: tokens and probability."""
        return {"tokens": list(self.tokens), "prob": _json_number(self.prob)}

    def __str__(self) -> str:
        return f"{' '.join(_literal(t) for t in self.tokens)}  p={self.prob:.3f}"


@dataclass(frozen=True)
class Completion:
    """A model's completion tensor ``M^n`` reduced against ``D^n``: artifacts and consistency.

    Attributes
    ----------
    model : str
        Registry name of the model evaluated.
    seed : int
        The model's seed.
    V, n : int
        Vocabulary size and tuple length.
    n_train : int
        Distinct training n-grams (non-zeros of ``D^n``).
    n_contexts : int
        All contexts, ``V^(n-1)``; every one was evaluated.
    n_observed_contexts : int
        Contexts with a non-zero fiber in ``D^n``.
    taus : tuple of float
        Artifact thresholds, ascending.
    n_artifacts : dict
        tau -> n-grams absent from ``D^n`` with ``p > tau``.
    n_artifacts_observed_contexts : dict
        tau -> those of them in observed fibers.
    consistency : dict
        ``mean_kl``, ``max_kl`` (nats), ``train_accuracy``, ``argmax_in_fiber``.
    artifacts : tuple of DecodedArtifact
        The most probable artifacts (above the smallest tau), most probable first.
    """

    model: str
    seed: int
    V: int
    n: int
    n_train: int
    n_contexts: int
    n_observed_contexts: int
    taus: tuple[float, ...]
    n_artifacts: dict[float, int]
    n_artifacts_observed_contexts: dict[float, int]
    consistency: dict[str, float]
    artifacts: tuple[DecodedArtifact, ...]

    @property
    def ratio(self) -> dict[float, float]:
        """Tau -> artifacts per distinct training n-gram."""
        return {t: c / max(self.n_train, 1) for t, c in self.n_artifacts.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: tau keys as text (``"0.5"``), non-finite numbers as None."""

        def by_tau(values: dict[float, float]) -> dict[str, Any]:
            return {f"{t:g}": _json_number(v) for t, v in values.items()}

        return {
            "model": self.model,
            "seed": self.seed,
            "V": self.V,
            "n": self.n,
            "n_train": self.n_train,
            "n_contexts": self.n_contexts,
            "n_observed_contexts": self.n_observed_contexts,
            "taus": list(self.taus),
            "n_artifacts": by_tau(self.n_artifacts),
            "n_artifacts_observed_contexts": by_tau(self.n_artifacts_observed_contexts),
            "ratio": by_tau(self.ratio),
            "consistency": {k: _json_number(v) for k, v in self.consistency.items()},
            "top_artifacts": [a.to_dict() for a in self.artifacts],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as strict JSON text (no NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __repr__(self) -> str:
        lines = [
            f"Completion(model={self.model!r}, seed={self.seed}, V={self.V}, n={self.n}, "
            f"n_train={self.n_train}, contexts={self.n_contexts} "
            f"({self.n_observed_contexts} observed))"
        ]
        for t in self.taus:
            lines.append(
                f"  tau={t:g}: {self.n_artifacts[t]} artifacts, ratio {self.ratio[t]:.2f} "
                f"per training n-gram, {self.n_artifacts_observed_contexts[t]} in observed fibers"
            )
        c = self.consistency
        lines.append(
            f"  consistency: mean KL {c['mean_kl']:.4f}, max KL {c['max_kl']:.4f} nats, "
            f"train accuracy {c['train_accuracy']:.3f}"
        )
        if self.artifacts:
            lines.append(f"  most probable artifacts (tau={self.taus[0]:g}):")
            lines += [f"    {a}" for a in self.artifacts[:REPR_ARTIFACTS]]
            more = len(self.artifacts) - REPR_ARTIFACTS
            if more > 0:
                lines.append(f"    ... and {more} more in .artifacts")
        return "\n".join(lines)


def fit(
    dataset: TupleDataset,
    model: str = "attn",
    seed: int = 0,
    device: str | torch.device | None = None,
    **options: Any,
) -> TrainedModel:
    """Train a registered model on a dataset, as ``artifactlab train`` does.

    The model's ``V`` and ``n_ctx`` come from the data; the model is trained on the last
    token by default (mode ``last``) until its mean train loss is under 0.01 nats or 3000
    steps.

    Parameters
    ----------
    dataset : TupleDataset
        The training tuples (from :func:`load_tuples`); at least 2 tokens each.
    model : str
        A name in ``artifactlab.models.MODELS``: ``attn``, ``ngram``, ``cp``, ...
    seed : int
        Seed of the weight initialisation and the minibatch order.
    device : str or torch.device, optional
        Where to train: ``cpu``, ``cuda`` (``cuda:N``) or ``auto``; default the
        process-wide device (``ARTIFACTLAB_DEVICE``, else the CPU). The weights are
        initialised on the CPU either way. The model stays on this device.
    **options
        Fields of the model's config (``d_model=16``, ``n_heads=2``, ``rank=8``, ...) or of
        :class:`~artifactlab.train.TrainConfig` (``lr``, ``max_steps``, ``mode``, ...).

    Returns
    -------
    TrainedModel

    Raises
    ------
    InputError
        An unknown model or option, a bad option value, tuples shorter than 2 tokens, or
        a CUDA device that is not visible.
    """
    spec = find_model(model, "model")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError("seed", f"must be an integer, got {seed!r}")
    if dataset.n < 2:
        raise InputError("dataset", "tuples need at least 2 tokens (a context and a next token)")
    model_options, train_options = _split_options(model, spec.options, options)
    train_cfg = TrainConfig(seed=seed, **train_options)
    net = place(spec.build(V=dataset.vocab.V, n_ctx=dataset.n, seed=seed, **model_options), device)
    result = fit_model(net, dataset.tuples, train_cfg)
    net.eval()
    return TrainedModel(model, net, dataset, seed, train_cfg, result)


def _split_options(
    model: str, model_options: Sequence[str], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options for the model's config and for the training config; InputError for others."""
    from_data = {"V", "n_ctx"}  # set from the dataset, never by hand
    model_fields = set(model_options) - from_data
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"seed"}
    for key in options:
        if key in from_data:
            raise InputError(f"option {key}", "is set from the dataset", "leave it out")
        if key not in model_fields | train_fields:
            raise InputError(
                f"option {key}",
                f"is not an option of model {model!r} or of training",
                f"choose from {', '.join(sorted(model_fields | train_fields))}",
            )
    model_options = {k: v for k, v in options.items() if k in model_fields}
    train_options = {k: v for k, v in options.items() if k in train_fields}
    return model_options, train_options


def evaluate(
    trained: TrainedModel,
    taus: Sequence[float] = (0.5,),
    top_k: int = 10,
    max_contexts: int = MAX_CONTEXTS,
) -> Completion:
    """Enumerate a trained model's completion tensor and count its artifacts.

    Every context of ``T^(n-1)`` is evaluated (refused beyond ``max_contexts``), as
    ``artifactlab artifacts RUN`` does.

    Parameters
    ----------
    trained : TrainedModel
        From :func:`fit`.
    taus : sequence of float
        Artifact thresholds, each in (0, 1).
    top_k : int
        How many of the most probable artifacts to list.
    max_contexts : int
        Refuse to enumerate more than this many contexts.

    Returns
    -------
    Completion
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise InputError("top_k", f"must be an integer >= 0, got {top_k!r}")
    data = trained.dataset
    D = DataTensor.from_tuples(data.tuples, data.vocab.V)
    report = evaluate_completion(
        trained.model.next_token_fn(), D, taus, top_k=top_k, max_contexts=max_contexts
    )
    return _completion(report, data.vocab, trained.name, trained.seed)


def _completion(report: CompletionReport, vocab: Vocabulary, model: str, seed: int) -> Completion:
    artifacts = tuple(
        DecodedArtifact(tuple(vocab.decode(a.context)), vocab.tokens[a.token], a.prob)
        for a in report.top_artifacts
    )
    return Completion(
        model=model,
        seed=seed,
        V=report.V,
        n=report.n,
        n_train=report.n_train,
        n_contexts=report.n_contexts,
        n_observed_contexts=report.n_observed_contexts,
        taus=tuple(report.taus),
        n_artifacts=dict(report.n_artifacts),
        n_artifacts_observed_contexts=dict(report.n_artifacts_observed_contexts),
        consistency=dict(report.consistency),
        artifacts=artifacts,
    )


def _json_number(x: float) -> float | None:
    """``x``, or None when it is NaN or infinite (strict JSON has neither)."""
    return x if math.isfinite(x) else None


def _literal(token: str) -> str:
    """A token as printed: control and other non-printable characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in token)
