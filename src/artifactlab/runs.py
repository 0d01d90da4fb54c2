"""Run folders: a trained model with everything needed to trace and re-evaluate it.

A run folder holds ``model.safetensors`` (weights), ``config.json`` (model and
training configs, seed, provenance, the training result), ``vocab.json``,
``train.tsv`` (the training tuples, so ``D^n`` can be rebuilt) and
``train_log.json``. No pickle anywhere. The folder is written under a
temporary name and renamed when complete (:func:`artifactlab.io.staged_folder`), so a
crash leaves nothing half-written; JSON files hold ``null`` where a number is NaN.

``config.json`` records the vocabulary's size and hash (``vocab_size``,
``vocab_sha256``), and :func:`load_run` checks the files against each other: a
``vocab.json`` of the wrong length or order, weights of another shape than the config
says, or a ``train.tsv`` with unknown tokens is refused with the file at fault named.

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
>>> _ = (out / "vocab.json").write_text('["t1", "t0", "t2", "t3", "t4", "t5"]')
>>> load_run(out)
Traceback (most recent call last):
artifactlab.errors.InputError: .../vocab.json: run folder is damaged: the tokens are not ...
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from artifactlab.data.tuples import TupleDataset, Vocabulary, load_tuples
from artifactlab.device import place
from artifactlab.errors import InputError
from artifactlab.io import staged_folder, write_json
from artifactlab.models import MODELS, parameter_counts
from artifactlab.models.config import FactorizationConfig
from artifactlab.provenance import provenance
from artifactlab.train.trainer import TrainConfig, TrainResult

_FILES = ("config.json", "vocab.json", "model.safetensors", "train.tsv")
_HINT = "restore the run folder's original files, or train again"


@dataclass
class Run:
    """A loaded run: the model (in eval mode), its training data and its config record."""

    path: Path
    model: Any
    dataset: TupleDataset
    config: dict[str, Any]


def vocab_sha256(tokens: tuple[str, ...] | list[str]) -> str:
    """The hash recorded for a vocabulary: sha256 of its tokens as compact JSON, in order."""
    text = json.dumps(list(tokens), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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

    Raises
    ------
    InputError
        ``path`` is not empty, or cannot be written (an ``OutputError``).
    """
    path = Path(path)
    tokens = list(dataset.vocab.tokens)
    config = {
        "model_name": model_name,
        "model": model.cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "seed": seed,
        **parameter_counts(model).to_dict(),
        "result": {k: v for k, v in result.to_dict().items() if k != "log"},
        "vocab_size": len(tokens),
        "vocab_sha256": vocab_sha256(tokens),
        "provenance": provenance(),
        **(extra or {}),
    }
    # safetensors holds CPU tensors: weights trained on a GPU are copied to the CPU first
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with staged_folder(path) as tmp:
        save_file(state, tmp / "model.safetensors")
        write_json(tmp / "config.json", config)  # NaN and infinities as null
        write_json(tmp / "vocab.json", tokens, indent=None)
        write_json(tmp / "train_log.json", result.log, indent=None)
        dataset.save(tmp / "train.tsv")
    return path


def load_run(path: str | Path, device: str | Any | None = None) -> Run:
    """Load a run folder written by :func:`save_run`, its files checked against each other.

    The weights are read on the CPU, checked, then the model is moved to ``device``: a
    name (``cpu``, ``cuda``, ``cuda:N``, ``auto``) or ``torch.device``; default the
    process-wide device (:func:`artifactlab.device.default_device`, the CLI's ``--device``).

    Raises
    ------
    InputError
        The folder or one of its files is missing or unreadable, or the files disagree:
        ``vocab.json`` is not a list of distinct strings, its length is not the model's
        ``V`` or its hash not the one recorded in ``config.json``, the weights in
        ``model.safetensors`` do not have the shapes the config says, or ``train.tsv``
        holds tokens outside the vocabulary or tuples of a length the model cannot take.
        The message names the file at fault. Folders saved before the hash was recorded
        load without that check. Also a CUDA ``device`` that is not visible.
    """
    path = Path(path)
    for name in _FILES:
        if not (path / name).is_file():
            raise InputError(
                str(path),
                f"is not a run folder (no {name})",
                "pass a folder made by `artifactlab train`",
            )
    config = _read_json(path, "config.json")
    if not isinstance(config, dict):
        raise _damaged(path, "config.json", "is not a JSON object")
    vocab = _vocabulary(path, config)
    model = place(_model(path, config, vocab), device)
    model.eval()
    dataset = _train_tuples(path, vocab, model.cfg)
    return Run(path, model, dataset, config)


def _damaged(path: Path, name: str, problem: str) -> InputError:
    return InputError(str(path / name), f"run folder is damaged: {problem}", _HINT)


def _read_json(path: Path, name: str) -> Any:
    try:
        return json.loads((path / name).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _damaged(path, name, f"not valid JSON ({err})") from None


def _vocabulary(path: Path, config: dict) -> Vocabulary:
    """``vocab.json`` as a Vocabulary, checked against the model's V and the recorded hash."""
    tokens = _read_json(path, "vocab.json")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _damaged(path, "vocab.json", "is not a JSON list of token strings")
    if len(set(tokens)) != len(tokens):
        repeated = sorted({t for t in tokens if tokens.count(t) > 1})[:3]
        raise _damaged(path, "vocab.json", f"repeats tokens {repeated}")
    model = config.get("model")
    V = model.get("V") if isinstance(model, dict) else None
    if not isinstance(V, int) or isinstance(V, bool):
        raise _damaged(path, "config.json", f"has no integer model.V, got {V!r}")
    if len(tokens) != V:
        raise _damaged(
            path,
            "vocab.json",
            f"holds {len(tokens)} tokens, but the model in config.json has V = {V}",
        )
    recorded = config.get("vocab_sha256")  # absent in folders saved before it was recorded
    if recorded is not None and recorded != vocab_sha256(tokens):
        raise _damaged(
            path,
            "vocab.json",
            "the tokens are not those the model was trained with (their hash differs from "
            "vocab_sha256 in config.json; reordered or edited?)",
        )
    return Vocabulary(tuple(tokens))


def _model(path: Path, config: dict, vocab: Vocabulary) -> Any:
    """The model config.json describes, with the weights of model.safetensors."""
    name = config.get("model_name")
    if name not in MODELS:
        raise _damaged(
            path, "config.json", f"names no known model ({name!r}; known: {sorted(MODELS)})"
        )
    spec = MODELS[name]
    try:
        cfg = spec.config(**config["model"])
        if isinstance(cfg, FactorizationConfig):
            cfg.check_model_size(spec.kind)
    except InputError as err:  # an impossible or enormous model
        damaged = _damaged(path, "config.json", f"{err.where}: {err.problem}")
        raise InputError(damaged.where, damaged.problem, err.hint or _HINT) from None
    except TypeError as err:  # an unknown or missing field
        raise _damaged(
            path, "config.json", f"its model section does not fit {name!r} ({err})"
        ) from None
    model = spec.model_class(cfg, seed=0)  # initial weights are replaced
    try:
        weights = load_file(path / "model.safetensors", device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise _damaged(path, "model.safetensors", f"unreadable weights ({err})") from None
    expected = set(model.state_dict())
    for key in sorted(expected ^ set(weights)):
        problem = (
            f"has no weight {key}, which the model in config.json needs"
            if key in expected
            else f"has a weight {key}, which the model in config.json does not have"
        )
        raise _damaged(path, "model.safetensors", problem)
    for key, param in model.named_parameters():  # buffers (ngram counts) take the saved size
        if tuple(weights[key].shape) != tuple(param.shape):
            raise _damaged(
                path,
                "model.safetensors",
                f"weight {key} has shape {tuple(weights[key].shape)}, but the model in "
                f"config.json needs {tuple(param.shape)}",
            )
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:  # a dtype that cannot be copied, say
        raise _damaged(path, "model.safetensors", f"weights do not load ({err})") from None
    return model


def _train_tuples(path: Path, vocab: Vocabulary, cfg: Any) -> TupleDataset:
    """``train.tsv`` over the run's vocabulary: no unknown token, tuples the model takes."""
    dataset = load_tuples(path / "train.tsv", vocab)  # unknown tokens are appended
    unknown = dataset.vocab.tokens[vocab.V :]
    if unknown:
        shown = ", ".join(repr(t) for t in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        raise _damaged(
            path, "train.tsv", f"holds tokens not in vocab.json ({len(unknown)}): {shown}"
        )
    low = 3 if isinstance(cfg, FactorizationConfig) else 2  # factorizations: triples only
    if not low <= dataset.n <= cfg.n_ctx:
        takes = f"{low} to {cfg.n_ctx}" if low < cfg.n_ctx else f"{cfg.n_ctx}"
        raise _damaged(
            path,
            "train.tsv",
            f"holds tuples of {dataset.n} tokens, but the model in config.json completes "
            f"tuples of {takes} tokens",
        )
    return dataset
