"""Next-token logits of a language model read from a local folder: Hugging Face, or a run.

Both adapters are callables ``(B, m) int64 token ids -> (B, V) float32`` logits of the
token after each context (the last position), computed in eval mode under
``torch.inference_mode``, ``batch`` contexts per forward pass, on the chosen device
(:func:`artifactlab.device.as_device`: ``cpu``, ``cuda``, ``auto``, or the process-wide
default); the logits are moved to the CPU (``.float().cpu()``) before
anything else reads them.

:class:`HFModel` (:func:`load_hf_model`)
    Any ``transformers`` causal LM and its tokenizer, from a folder, never the network
    (``local_files_only=True``). Its window is ``config.n_positions`` (or
    ``max_position_embeddings``, ``n_ctx``); its output size must equal its tokenizer's
    vocabulary, and :meth:`HFModel.index_map` checks that tokenizer against the one the
    corpus index was built with (the same token strings with the same ids).
:class:`RunModel` (:func:`load_run_model`)
    A run folder of ``artifactlab train`` (``model.next_token_fn``); its window is the
    model's ``n_ctx - 1``. Its vocabulary (``vocab.json``) is matched to the index's
    tokenizer by token string (:meth:`RunModel.index_map`).

Example
-------
>>> load_hf_model("/no/such/folder", device="cpu")
Traceback (most recent call last):
artifactlab.errors.InputError: --hf-model /no/such/folder: is not a folder (give a local ...)
>>> load_hf_model(".", device="tpu")
Traceback (most recent call last):
artifactlab.errors.InputError: --device: unknown device 'tpu' (choose cpu, cuda, cuda:N or auto)
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from artifactlab.checks import at_least
from artifactlab.device import as_device
from artifactlab.errors import InputError

if TYPE_CHECKING:
    from artifactlab.data.corpus_index import CorpusIndex

#: contexts per forward pass unless told
DEFAULT_BATCH = 64
#: the config fields that may hold a Hugging Face model's window, the first found wins
WINDOW_FIELDS = ("n_positions", "max_position_embeddings", "n_ctx")
#: longest error text of ``transformers`` quoted in a message
_QUOTE = 200


def index_vocabulary(index: CorpusIndex) -> dict[str, int]:
    """Token string -> id of the tokenizer saved with ``index`` (added tokens included).

    Raises
    ------
    InputError
        The index was built without a tokenizer (or its tokenizer.json is damaged).
    """
    if index.meta.get("tokenizer") is None:
        raise InputError(
            str(index.folder),
            "was built without a tokenizer, so its token ids cannot be matched to a model's",
            "rebuild it with `artifactlab index build CORPUS --tokenizer ...`",
        )
    return index.load_tokenizer().get_vocab(with_added_tokens=True)


class LanguageModel(ABC):
    """Batched next-token logits on a device; subclasses give ``_forward`` and ``index_map``.

    Attributes
    ----------
    name : str
        Where the model came from (for messages and reports).
    vocab_size : int
        Logits per context.
    window : int or None
        The longest context the model reads (None: no limit known).
    device : torch.device
        Where the forward passes run.
    batch : int
        Contexts per forward pass.
    """

    kind = "model"
    name: str
    vocab_size: int
    window: int | None
    window_source: str
    device: torch.device
    batch: int

    @abstractmethod
    def _forward(self, ids: Tensor) -> Tensor:
        """Logits of the next token after each row of ``ids`` (on the device), (B, V)."""

    @abstractmethod
    def index_map(self, index: CorpusIndex) -> np.ndarray | None:
        """Model token id -> the index's token id (None: the same ids); checked."""

    def check_context(self, m: int) -> int:
        """``m`` if the model reads contexts of ``m`` tokens; InputError otherwise."""
        at_least("--context-length", m, 1)
        if self.window is not None and m > self.window:
            raise InputError(
                "--context-length",
                f"{m} tokens is longer than the window of {self.name} "
                f"({self.window} positions, {self.window_source})",
                f"use --context-length {self.window} or less",
            )
        return m

    def __call__(self, ids: Tensor | np.ndarray) -> Tensor:
        """Next-token logits, (B, m) int64 token ids -> (B, V) float32 on the CPU."""
        ids = torch.as_tensor(ids)
        if ids.ndim != 2 or ids.dtype != torch.int64:
            raise InputError("contexts", f"must be a 2-D int64 array, got {tuple(ids.shape)}")
        B, m = ids.shape
        self.check_context(m)
        if B and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise InputError("contexts", f"hold token ids outside 0..{self.vocab_size - 1}")
        out = torch.empty((B, self.vocab_size), dtype=torch.float32)
        with torch.inference_mode():
            for start in range(0, B, self.batch):
                x = ids[start : start + self.batch].to(self.device)
                logits = self._forward(x)
                if tuple(logits.shape) != (len(x), self.vocab_size):
                    raise ValueError(
                        f"{self.name} gave logits of shape {tuple(logits.shape)}, expected "
                        f"({len(x)}, {self.vocab_size})"
                    )
                out[start : start + len(x)] = logits.float().cpu()
        return out

    def describe(self) -> dict[str, Any]:
        """What the model is, JSON-ready."""
        return {
            "kind": self.kind,
            "path": self.name,
            "vocab_size": self.vocab_size,
            "window": self.window,
            "device": str(self.device),
        }


class HFModel(LanguageModel):
    """A ``transformers`` causal LM and its tokenizer (use :func:`load_hf_model`)."""

    kind = "hf"

    def __init__(self, path: Path, model: Any, tokenizer: Any, device: torch.device, batch: int):
        self.name, self.model, self.tokenizer = str(path), model, tokenizer
        self.device, self.batch = device, batch
        self.vocab_size = _output_size(model)
        self.window, self.window_source = _window(model.config)
        params = inspect.signature(model.forward).parameters
        self._keep = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        if "use_cache" in params:
            self._keep["use_cache"] = False

    def _forward(self, ids: Tensor) -> Tensor:
        return self.model(input_ids=ids, **self._keep).logits[:, -1, :]

    def index_map(self, index: CorpusIndex) -> None:
        """None (the model's ids are the index's), once the two tokenizers are checked equal.

        Raises
        ------
        InputError
            The model's tokenizer and the index's ``tokenizer.json`` differ in size, or
            give some token string another id (or only one of them has it).
        """
        ours, theirs = self.tokenizer.get_vocab(), index_vocabulary(index)
        differ = [t for t in ours.keys() | theirs.keys() if ours.get(t) != theirs.get(t)]
        if differ or index.vocab_size != self.vocab_size:
            size = (
                f"{len(ours):,} tokens, the index's {len(theirs):,}"
                if len(ours) != len(theirs)
                else f"{index.vocab_size:,} ids in the index, {self.vocab_size:,} in the model"
            )
            example = ""
            if differ:
                far = len(ours) + len(theirs)
                t = min(differ, key=lambda s: min(ours.get(s, far), theirs.get(s, far)))
                example = (
                    f"; {len(differ):,} token strings differ, e.g. {t!r}: id {ours.get(t)} "
                    f"in the model's tokenizer, {theirs.get(t)} in the index's"
                )
            raise InputError(
                f"--hf-model {self.name}",
                f"its tokenizer does not match the index's tokenizer.json ({size}{example})",
                f"build the index with `artifactlab index build CORPUS --tokenizer {self.name}`",
            )
        return None


class RunModel(LanguageModel):
    """A run folder's model, with its vocabulary (use :func:`load_run_model`)."""

    kind = "run"

    def __init__(self, path: Path, run: Any, device: torch.device, batch: int):
        self.name, self.run, self.device, self.batch = str(path), run, device, batch
        from artifactlab.data.text_windows import unescape_token

        # runs trained on `make-data text` windows hold escaped token strings
        self.tokens = tuple(unescape_token(t) for t in run.dataset.vocab.tokens)
        self.vocab_size = len(self.tokens)
        self.window, self.window_source = run.model.cfg.n_ctx - 1, "n_ctx - 1 in config.json"
        self._fn = run.model.next_token_fn()

    def _forward(self, ids: Tensor) -> Tensor:
        return self._fn(ids)  # its buffer is copied out by __call__ before the next call

    def index_map(self, index: CorpusIndex) -> np.ndarray:
        """Run token id -> the index's id of the same token string.

        Index tokens the run does not know are allowed only where the corpus never holds
        them (a tokenizer's unused ``<unk>``, say): no corpus context can contain them.

        Raises
        ------
        InputError
            A run token that the index's tokenizer lacks, or a token of the corpus that
            the run lacks (how many, and one of them).
        """
        vocab = index_vocabulary(index)
        missing = [t for t in self.tokens if t not in vocab]
        if missing:
            raise InputError(
                f"--run {self.name}",
                f"{len(missing):,} of the run's {self.vocab_size:,} tokens are not in the "
                f"index's tokenizer (e.g. {missing[0]!r})",
                "train the run on text tokenized with the index's tokenizer",
            )
        mapping = np.array([vocab[t] for t in self.tokens], dtype=np.int64)
        unknown = np.setdiff1d(np.arange(index.vocab_size), mapping)
        used = unknown[index.count(unknown[:, None]) > 0] if unknown.size else unknown
        if used.size:
            names = {i: t for t, i in vocab.items()}
            first = names.get(int(used[0]), f"id {int(used[0])}")
            raise InputError(
                f"--run {self.name}",
                f"{used.size:,} tokens that occur in the corpus are not in the run's "
                f"vocabulary (e.g. {first!r})",
                "train the run on the whole corpus, or index only the text it was trained on",
            )
        return mapping


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """``transformers`` logs only errors and draws no progress bars meanwhile."""
    from transformers.utils import logging

    level, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


def _from_folder(cls: Any, path: Path, what: str) -> Any:
    try:
        return cls.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, ImportError) as err:
        text = " ".join(str(err).split()) or type(err).__name__
        short = text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."
        raise InputError(
            f"--hf-model {path}",
            f"holds no {what} that transformers can load ({short})",
            "give a folder written by save_pretrained (config.json, weights, tokenizer files)",
        ) from None


def _output_size(model: Any) -> int:
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None and getattr(head, "weight", None) is not None:
        return int(head.weight.shape[0])
    return int(model.config.vocab_size)


def _window(config: Any) -> tuple[int | None, str]:
    for field in WINDOW_FIELDS:
        value = getattr(config, field, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, f"config.{field}"
    return None, "not in config.json"


def load_hf_model(path: str | Path, device: str = "auto", batch: int = DEFAULT_BATCH) -> HFModel:
    """A Hugging Face causal LM and its tokenizer from a local folder, in eval mode.

    Parameters
    ----------
    path : str or Path
        A folder written by ``save_pretrained`` (model and tokenizer).
    device : str or torch.device, optional
        ``cpu``, ``cuda`` (``cuda:N``) or ``auto`` (cuda where one is visible); default
        the process-wide device (:func:`artifactlab.device.default_device`).
    batch : int
        Contexts per forward pass.

    Raises
    ------
    InputError
        Not a folder, no model or tokenizer that loads from it, a model whose output
        size differs from its tokenizer's vocabulary, or a bad device or batch.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(
            f"--hf-model {path}", "is not a folder", "give a local Hugging Face model folder"
        )
    where, batch = as_device(device), at_least("--batch", batch, 1)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _quiet_transformers():
        tokenizer = _from_folder(AutoTokenizer, path, "tokenizer")
        model = _from_folder(AutoModelForCausalLM, path, "causal language model")
    size = _output_size(model)
    if len(tokenizer) != size:
        raise InputError(
            f"--hf-model {path}",
            f"the model has {size:,} output tokens but its tokenizer has {len(tokenizer):,}",
            "give a folder whose tokenizer is the model's own",
        )
    model.eval()
    return HFModel(path, model.to(where), tokenizer, where, batch)


def load_run_model(
    path: str | Path, device: str | torch.device | None = None, batch: int = DEFAULT_BATCH
) -> RunModel:
    """A run folder's model (``artifactlab train``), in eval mode on ``device`` (as above).

    Raises
    ------
    InputError
        Not a run folder, a damaged one (:func:`artifactlab.runs.load_run`), or a bad
        device or batch.
    """
    from artifactlab.runs import load_run

    where, batch = as_device(device), at_least("--batch", batch, 1)
    return RunModel(Path(path), load_run(path, device=where), where, batch)
