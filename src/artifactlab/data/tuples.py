"""Tuples of tokens: a vocabulary and an integer array of shape (N, n).

Tuple files are read as a user expects: a UTF-8 byte-order mark is dropped, lines end
only at a line feed, CR LF included (a U+2028 inside a token stays inside it), and fields are
split on tabs, or else on ASCII spaces.

Example
-------
>>> ds = TupleDataset.from_rows([["mice", "eat", "cheese"], ["mouse", "eats", "cheese"]])
>>> ds.tuples.tolist()
[[0, 1, 2], [3, 4, 2]]
>>> ds.vocab.tokens
('mice', 'eat', 'cheese', 'mouse', 'eats')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artifactlab.errors import InputError
from artifactlab.io import read_lines, write_text

#: the whitespace that separates and surrounds fields: ASCII only, as a user types it
BLANKS = " \t\r\f\v"
_SPACES = re.compile(r"[ \f\v\r]+")


@dataclass(frozen=True)
class Vocabulary:
    """Token strings <-> ids (ids are positions in ``tokens``)."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(set(self.tokens)) != len(self.tokens):
            raise InputError("vocabulary", "repeats a token", "every token must be distinct")

    @property
    def V(self) -> int:
        """Number of tokens."""
        return len(self.tokens)

    @property
    def index(self) -> dict[str, int]:
        """Token string -> id."""
        return {t: i for i, t in enumerate(self.tokens)}

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Token strings of a sequence of ids."""
        return [self.tokens[int(i)] for i in ids]


@dataclass(frozen=True)
class TupleDataset:
    """A corpus of equal-length tuples over a vocabulary.

    Attributes
    ----------
    vocab : Vocabulary
        The token set ``T``.
    tuples : numpy.ndarray
        Token ids, shape (N, n), dtype int64; rows may repeat (a multiset).
    """

    vocab: Vocabulary
    tuples: np.ndarray

    def __post_init__(self) -> None:
        if self.tuples.ndim != 2:
            raise ValueError(f"tuples must have shape (N, n), got {self.tuples.shape}")
        if self.tuples.size and (self.tuples.min() < 0 or self.tuples.max() >= self.vocab.V):
            raise ValueError("tuple ids out of the vocabulary's range")

    @property
    def N(self) -> int:
        """Number of tuples (with repeats)."""
        return int(self.tuples.shape[0])

    @property
    def n(self) -> int:
        """Tuple length."""
        return int(self.tuples.shape[1])

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[str]], vocab: Vocabulary | None = None
    ) -> TupleDataset:
        """Build a dataset from rows of token strings; new tokens get ids in order of appearance."""
        tokens = list(vocab.tokens) if vocab else []
        index = {t: i for i, t in enumerate(tokens)}
        ids = []
        for row in rows:
            for tok in row:
                if tok not in index:
                    index[tok] = len(tokens)
                    tokens.append(tok)
            ids.append([index[t] for t in row])
        width = len(rows[0]) if rows else 0
        return cls(Vocabulary(tuple(tokens)), np.asarray(ids, dtype=np.int64).reshape(-1, width))

    def save(self, path: str | Path) -> None:
        """Write one tab-separated tuple per line (readable by :func:`load_tuples`).

        Raises
        ------
        InputError
            A token that would not read back the same: empty, with a tab or
            newline, with surrounding spaces, or starting with ``#`` at the head of a tuple.
        """
        bad = [t for t in self.vocab.tokens if not t or t != t.strip() or "\t" in t or "\n" in t]
        heads = {self.vocab.tokens[i] for i in np.unique(self.tuples[:, 0])} if self.N else set()
        bad += [t for t in heads if t.startswith("#")]
        if bad:
            raise InputError(
                str(path),
                f"tokens {bad[:5]} would not read back as written",
                "rename them: no tabs, newlines, outer spaces, or leading # on a first token",
            )
        lines = ("\t".join(self.vocab.decode(row)) for row in self.tuples)
        write_text(path, "".join(line + "\n" for line in lines))


def split_fields(line: str) -> list[str]:
    """A stripped line's fields: split on tabs when it has one, else on ASCII spaces."""
    fields = line.split("\t") if "\t" in line else _SPACES.split(line)
    return [f.strip(BLANKS) for f in fields]


def content_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, stripped line)`` of a tuple file's lines that are not blank or ``#``.

    Lines are those of :func:`artifactlab.io.read_lines` (no byte-order mark, lines end
    at a line feed only, CR LF included); stripping removes ASCII whitespace only.
    """
    for lineno, raw in enumerate(read_lines(text), start=1):
        line = raw.strip(BLANKS)
        if line and not line.startswith("#"):
            yield lineno, line


def read_text(path: Path) -> str:
    """A tuple file's text; InputError when it is missing or not UTF-8."""
    if not path.is_file():
        raise InputError(str(path), "no such file", "check the path")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(path), f"cannot be read as UTF-8 text ({err})") from None


def load_tuples(path: str | Path, vocab: Vocabulary | None = None) -> TupleDataset:
    """Read tuples from a whitespace- or tab-separated file, one tuple per line.

    Lines starting with ``#`` and blank lines are skipped. A line containing a
    tab is split on tabs (so tokens may contain spaces), otherwise on ASCII
    spaces. A byte-order mark is dropped; lines end only at a line feed
    (CR LF included).
    Every tuple must have the arity of the first one.

    Parameters
    ----------
    path : str or Path
        The file to read.
    vocab : Vocabulary, optional
        Start from this vocabulary (new tokens are appended).

    Returns
    -------
    TupleDataset

    Raises
    ------
    InputError
        Missing or unreadable file, no tuples, or a line of the wrong arity.
    """
    path = Path(path)
    text = read_text(path)
    rows: list[list[str]] = []
    arity = None
    for lineno, line in content_lines(text):
        fields = split_fields(line)
        if any(not f for f in fields):
            raise InputError(f"{path}:{lineno}", "has an empty field", "remove stray tabs")
        if arity is None:
            arity = len(fields)
        elif len(fields) != arity:
            raise InputError(
                f"{path}:{lineno}",
                f"has {len(fields)} fields, expected {arity} like the first tuple",
                "every line must hold one tuple of the same length",
            )
        rows.append(fields)
    if not rows:
        raise InputError(
            str(path), "holds no tuples", "write one tuple per line; # starts a comment"
        )
    return TupleDataset.from_rows(rows, vocab)
