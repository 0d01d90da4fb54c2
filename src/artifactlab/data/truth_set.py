"""Datasets with a ground truth: training tuples plus what is true beyond them.

See ``docs/glossary.md#truth-set``.

A :class:`TruthDataset` holds the training tuples, a held-out ``test`` split (for test
accuracy, test cross-entropy and link-prediction metrics), an optional ``valid`` split,
and the truth set ``G``: every true tuple beyond the training data that the dataset
knows of (the held-out splits and, for a toy world, every fact its rules imply).
On disk it is a folder of tab-separated files, ``train.tsv``, ``test.tsv``,
``truth.tsv`` and optionally ``valid.tsv``, all over the vocabulary of ``train.tsv``
plus any tokens that appear only in the other files (``vocab.json`` keeps the order).

Example
-------
>>> import tempfile
>>> train = TupleDataset.from_rows([["mice", "eat", "cheese"], ["mouse", "eats", "cheese"]])
>>> ds = TruthDataset("toy", train, test=np.zeros((0, 3), dtype=np.int64),
...                   truth=np.array([[0, 4, 2]]))
>>> ds.vocab.decode(ds.truth[0])
['mice', 'eats', 'cheese']
>>> folder = tempfile.mkdtemp()
>>> TruthDataset.load(ds.save(folder)).truth.tolist()
[[0, 4, 2]]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from artifactlab.data.tuples import (
    TupleDataset,
    Vocabulary,
    content_lines,
    load_tuples,
    read_text,
)
from artifactlab.errors import InputError
from artifactlab.io import write_json


@dataclass(frozen=True)
class TruthDataset:
    """Training tuples, held-out splits and the truth set ``G``.

    Attributes
    ----------
    name : str
        Where it came from (a world's or a knowledge graph's name, or a folder).
    train : TupleDataset
        The training tuples and the vocabulary every split uses.
    test : numpy.ndarray
        Held-out true tuples, shape (M, n), int64.
    truth : numpy.ndarray
        ``G``: true tuples beyond the training data, shape (K, n), int64. Contains ``test``
        (and ``valid``); a toy world adds what its rules imply.
    valid : numpy.ndarray or None
        A validation split, when the source has one.
    """

    name: str
    train: TupleDataset
    test: np.ndarray
    truth: np.ndarray
    valid: np.ndarray | None = None

    def __post_init__(self) -> None:
        for label, arr in (("test", self.test), ("truth", self.truth), ("valid", self.valid)):
            if arr is None:
                continue
            if arr.ndim != 2 or (arr.size and arr.shape[1] != self.train.n):
                raise ValueError(f"{label} must have shape (M, {self.train.n}), got {arr.shape}")
            if arr.size and (arr.min() < 0 or arr.max() >= self.vocab.V):
                raise ValueError(f"{label} ids out of the vocabulary's range")

    @property
    def vocab(self) -> Vocabulary:
        """The shared vocabulary."""
        return self.train.vocab

    def save(self, folder: str | Path) -> Path:
        """Write ``train.tsv``, ``test.tsv``, ``truth.tsv`` (``valid.tsv``) and ``vocab.json``.

        Each file is written whole or not at all (:mod:`artifactlab.io`); to write the
        folder whole or not at all, save into :func:`artifactlab.io.staged_folder`.
        """
        folder = Path(folder)
        self.train.save(folder / "train.tsv")
        for label in ("test", "truth", "valid"):
            arr = getattr(self, label)
            if arr is not None:
                TupleDataset(self.vocab, arr).save(folder / f"{label}.tsv")
        write_json(folder / "vocab.json", list(self.vocab.tokens), indent=None)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TruthDataset:
        """Read a folder written by :meth:`save` (or by hand, same file names)."""
        folder = Path(folder)
        vocab = None
        if (folder / "vocab.json").is_file():
            vocab = Vocabulary(tuple(json.loads((folder / "vocab.json").read_text())))
        train = load_tuples(folder / "train.tsv", vocab)
        splits = {}
        for label in ("test", "truth", "valid"):
            path = folder / f"{label}.tsv"
            splits[label] = read_split(path, train.vocab, train.n) if path.is_file() else None
        if splits["test"] is None or splits["truth"] is None:
            raise InputError(str(folder), "needs test.tsv and truth.tsv next to train.tsv")
        return cls(folder.name, train, splits["test"], splits["truth"], splits["valid"])


def read_split(path: str | Path, vocab: Vocabulary, n: int) -> np.ndarray:
    """Read a split file whose tokens must all be in ``vocab``; (M, n) int64 ids."""
    ids, unknown = read_truth(path, vocab, n)
    if unknown:
        raise InputError(
            str(path),
            f"{len(unknown)} token(s) not in the vocabulary: {', '.join(unknown[:5])}",
            "every split must use the training vocabulary",
        )
    return ids


def read_truth(
    path: str | Path, vocab: Vocabulary, n: int, unknown: Literal["fail", "skip"] = "skip"
) -> tuple[np.ndarray, list[str]]:
    """Read tuples over a known vocabulary, setting aside rows with unknown tokens.

    Parameters
    ----------
    path : str or Path
        A tuple file (the format of :func:`~artifactlab.data.load_tuples`).
    vocab : Vocabulary
        The model's vocabulary.
    n : int
        The expected tuple length.
    unknown : {"fail", "skip"}
        On tokens outside ``vocab``: raise, or drop their rows (the caller warns).

    Returns
    -------
    ids : numpy.ndarray
        The rows whose tokens are all known, shape (M, n).
    unknown_tokens : list of str
        The distinct unknown tokens, in order of appearance.

    Raises
    ------
    InputError
        Unreadable file, a wrong tuple length, or unknown tokens with ``unknown="fail"``.
    """
    path = Path(path)
    if path.is_file() and next(content_lines(read_text(path)), None) is None:
        return np.zeros((0, n), dtype=np.int64), []  # an empty split is a valid split
    rows = load_tuples(path, vocab)
    if rows.N and rows.n != n:
        raise InputError(str(path), f"has {rows.n}-tuples, the model reads {n}-tuples")
    new = list(rows.vocab.tokens[vocab.V :])
    if new and unknown == "fail":
        raise InputError(
            str(path),
            f"{len(new)} token(s) not in the vocabulary: {', '.join(new[:5])}"
            + (" ..." if len(new) > 5 else ""),
            "fix them, or pass --unknown skip to drop those tuples",
        )
    keep = (rows.tuples < vocab.V).all(axis=1) if rows.N else np.zeros(0, dtype=bool)
    return rows.tuples[keep].reshape(-1, n), new
