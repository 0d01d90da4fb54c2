r"""A suffix-array index of a token-id corpus: n-gram counts and next-token counts.

An index folder holds plain NumPy arrays (``np.save`` without pickle, read back with
``mmap_mode="r"``, so opening an index reads nothing but its header):

``tokens.npy``
    The corpus's token ids, ``uint16`` or ``uint32`` (the smallest that holds the
    vocabulary, see :func:`artifactlab.data.text.token_dtype`).
``suffix_array.npy``
    The start positions of the corpus's suffixes in lexicographic order, ``uint32``
    (``uint64`` past 2**32 - 1 tokens). Built by libdivsufsort (``pydivsufsort``).
``index.json``
    The format version, the number of tokens, the vocabulary size, both dtypes, what
    the tokenizer is and the package version.
``tokenizer.json``
    The tokenizer the corpus was tokenized with, when there is one, so queries are
    tokenized the same way.

So the index takes 6 bytes per token with a ``uint16`` vocabulary (8 with ``uint32``).

Every suffix that starts with an n-gram lies in one contiguous range of the suffix
array, and the n-gram's count is the range's length. Queries run over whole batches:
the range of each n-gram's first token comes from a table of token counts; each later
position ``k`` narrows the range of every n-gram of the batch at once by a vectorised
binary search on the ``k``-th token of the sorted suffixes (a suffix shorter than
``k + 1`` tokens sorts first, as a token below every id). The next tokens after a
context are the ``len(context)``-th tokens of its range: already sorted, so counting
them is one pass.

Example
-------
>>> import numpy as np, tempfile
>>> ids = np.array([0, 1, 2, 0, 1, 0, 1, 2])
>>> index = CorpusIndex.build(ids, tempfile.mkdtemp() + "/index")
>>> index.count([[0, 1], [0, 1, 2], [2, 0], [2, 2], []]).tolist()
[3, 2, 1, 0, 8]
>>> tokens, counts = index.next_counts([0, 1])
>>> tokens.tolist(), counts.tolist()
([0, 2], [1, 2])
>>> CorpusIndex.load(index.folder).n_tokens
8
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artifactlab import __version__
from artifactlab.data.text import token_dtype
from artifactlab.errors import InputError
from artifactlab.io import staged_folder, write_json

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: the version of the folder layout written here; any other is refused on load
FORMAT_VERSION = 1
TOKENS_FILE = "tokens.npy"
SUFFIX_FILE = "suffix_array.npy"
META_FILE = "index.json"
TOKENIZER_FILE = "tokenizer.json"
#: the steps :meth:`CorpusIndex.build` reports through ``advance``
BUILD_STEPS = 3
#: queries per worker chunk below which a batch is not split across threads
MIN_CHUNK = 4096
#: next-token positions gathered at once by :meth:`CorpusIndex.next_counts_batch`
GATHER = 1 << 22

#: one n-gram, or a batch of them (a ragged sequence, or a 2-D array of equal lengths)
Ngrams = Sequence[Sequence[int]] | np.ndarray


def _rebuild_hint() -> str:
    return "rebuild it with `artifactlab index build`"


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """The suffix array of ``ids`` (unsigned ints): ``uint32``, or ``uint64`` past 2**32 - 1."""
    from pydivsufsort import divsufsort

    sa = divsufsort(np.ascontiguousarray(ids))
    return sa.astype(np.uint32 if ids.size < 2**32 else np.uint64, copy=False)


@dataclass(frozen=True, eq=False)
class CorpusIndex:
    """An opened index: the token array, its suffix array and the index's metadata.

    Use :meth:`build` to make one and :meth:`load` to open a folder.

    Attributes
    ----------
    folder : Path
        The index folder.
    tokens : numpy.ndarray
        Token ids (memory-mapped when loaded).
    suffix : numpy.ndarray
        The suffix array (memory-mapped when loaded).
    meta : dict
        The contents of ``index.json``.
    """

    folder: Path
    tokens: np.ndarray
    suffix: np.ndarray
    meta: dict = field(repr=False)

    @property
    def n_tokens(self) -> int:
        """Number of tokens in the corpus."""
        return int(self.tokens.shape[0])

    @property
    def vocab_size(self) -> int:
        """Token ids are ``0 .. vocab_size - 1``."""
        return int(self.meta["vocab_size"])

    # --- building and loading ------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: np.ndarray | Sequence[int],
        out_dir: str | Path,
        *,
        vocab_size: int | None = None,
        tokenizer: Tokenizer | None = None,
        tokenizer_info: dict | None = None,
        overwrite: bool = False,
        advance: Callable[[int], None] | None = None,
    ) -> CorpusIndex:
        """Sort the suffixes of ``ids`` and write the index folder ``out_dir``; open it.

        Parameters
        ----------
        ids : array-like of int
            The corpus as token ids, at least one.
        out_dir : str or Path
            The folder to write: absent or empty (non-empty only with ``overwrite``). It
            is written under a temporary name and renamed when complete.
        vocab_size : int, optional
            Token ids must be below it; default ``max(ids) + 1``.
        tokenizer : tokenizers.Tokenizer, optional
            Saved as ``tokenizer.json`` for tokenizing queries.
        tokenizer_info : dict, optional
            What the tokenizer is (recorded in ``index.json``).
        overwrite : bool
            Replace a non-empty ``out_dir``.
        advance : callable, optional
            Progress: called with 1 after each of :data:`BUILD_STEPS` steps.
        """
        step = advance or (lambda k: None)
        ids = _corpus_ids(ids, vocab_size)
        vocab = int(vocab_size if vocab_size is not None else int(ids.max()) + 1)
        sa = suffix_array(ids)
        step(1)
        meta = {
            "format_version": FORMAT_VERSION,
            "n_tokens": int(ids.size),
            "vocab_size": vocab,
            "token_dtype": ids.dtype.name,
            "suffix_dtype": sa.dtype.name,
            "tokenizer": None if tokenizer is None else (tokenizer_info or {}),
            "artifactlab_version": __version__,
        }
        with staged_folder(out_dir, replace=overwrite) as tmp:
            np.save(tmp / TOKENS_FILE, ids, allow_pickle=False)
            step(1)
            np.save(tmp / SUFFIX_FILE, sa, allow_pickle=False)
            if tokenizer is not None:
                tokenizer.save(str(tmp / TOKENIZER_FILE))
            write_json(tmp / META_FILE, meta)
        step(1)
        return cls.load(out_dir)

    @classmethod
    def load(cls, folder: str | Path) -> CorpusIndex:
        """Open an index folder (arrays memory-mapped, read-only).

        Raises
        ------
        InputError
            Not an index folder, an unknown format version, or a missing or damaged file.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(
                str(folder), "is not an index folder", "give a folder from `index build`"
            )
        meta = _read_meta(folder / META_FILE)
        tokens = _load_array(folder / TOKENS_FILE, meta["token_dtype"], meta["n_tokens"])
        suffix = _load_array(folder / SUFFIX_FILE, meta["suffix_dtype"], meta["n_tokens"])
        return cls(folder=folder, tokens=tokens, suffix=suffix, meta=meta)

    def load_tokenizer(self) -> Tokenizer:
        """The tokenizer saved with the index (``tokenizer.json``)."""
        from tokenizers import Tokenizer

        path = self.folder / TOKENIZER_FILE
        if self.meta.get("tokenizer") is None:
            raise InputError(
                str(self.folder), "was built without a tokenizer", "query it with token ids"
            )
        try:
            return Tokenizer.from_file(str(path))
        except Exception as err:  # the Rust side raises plain Exception (a missing file too)
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise InputError(
                str(path), f"is missing or damaged ({first})", _rebuild_hint()
            ) from None

    # --- queries -------------------------------------------------------------------------

    @cached_property
    def _starts(self) -> np.ndarray:
        """``starts[t]``: the first suffix-array rank of the suffixes that begin with ``t``."""
        starts = np.zeros(self.vocab_size + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.tokens, minlength=self.vocab_size), out=starts[1:])
        return starts

    def ranges(self, ngrams: Ngrams, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The suffix-array range ``[lo, hi)`` of each n-gram of a batch.

        Parameters
        ----------
        ngrams : sequence of sequences of int, or 2-D array
            The batch; n-grams may have different lengths (the empty one's range is
            the whole array).
        workers : int
            Threads that share the batch (NumPy releases the GIL while it gathers).

        Returns
        -------
        lo, hi : numpy.ndarray
            ``int64`` arrays, one entry per n-gram; the count is ``hi - lo``.
        """
        flat, offsets = self._pack(ngrams)
        batch = offsets.size - 1
        lo, hi = np.empty(batch, np.int64), np.empty(batch, np.int64)
        chunks = max(1, min(int(workers), batch // MIN_CHUNK))
        cuts = np.linspace(0, batch, chunks + 1).astype(np.int64)

        def run(part: int) -> None:
            a, b = int(cuts[part]), int(cuts[part + 1])
            lo[a:b], hi[a:b] = self._narrow(flat, offsets[a : b + 1])

        if chunks == 1:
            run(0)
        else:
            with ThreadPoolExecutor(chunks) as pool:
                list(pool.map(run, range(chunks)))
        return lo, hi

    def count(self, ngrams: Ngrams, workers: int = 1) -> np.ndarray:
        """Occurrences of each n-gram of a batch in the corpus (``int64``; see :meth:`ranges`)."""
        lo, hi = self.ranges(ngrams, workers)
        return hi - lo

    def next_counts(self, context: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct tokens that follow ``context`` in the corpus, and how often each does.

        Returns
        -------
        tokens, counts : numpy.ndarray
            Next-token ids in increasing order and their counts (``int64``); empty when
            the context does not occur or only ends the corpus.
        """
        return self.next_counts_batch([context])[0]

    def next_counts_batch(self, contexts: Ngrams) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`next_counts` for each context of a batch.

        A context's cost grows with its number of occurrences ``R``: its next tokens are
        gathered and counted, or, when ``R`` exceeds ``vocab_size * log2(R)``, the
        range's edge for every token id is found by binary search instead.
        """
        flat, offsets = self._pack(contexts)
        lo, hi = self._narrow(flat, offsets)
        depth = np.diff(offsets)
        out: list[tuple[np.ndarray, np.ndarray]] = [_EMPTY] * lo.size
        sizes = hi - lo
        wide = sizes > (self.vocab_size + 1) * np.log2(np.maximum(sizes, 2))
        for i in np.flatnonzero(wide):
            out[i] = self._next_wide(int(lo[i]), int(hi[i]), int(depth[i]))
        rest = np.flatnonzero(~wide & (sizes > 0))
        done = np.concatenate([[0], np.cumsum(sizes[rest])])  # positions before each context
        start = 0
        while start < rest.size:  # groups of contexts with at most GATHER positions in all
            stop = int(np.searchsorted(done, done[start] + GATHER, side="right")) - 1
            group = rest[start : min(max(stop, start + 1), rest.size)]
            self._next_group(lo[group], sizes[group], depth[group], out, group)
            start += group.size
        return out

    def _next_wide(self, lo: int, hi: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Next-token counts of one frequent context: the range's edge of every token id."""
        goal = np.arange(self.vocab_size + 1, dtype=np.int64)
        edges = self._lower(np.full(goal.size, lo), np.full(goal.size, hi), depth, goal)
        counts = np.diff(edges)
        seen = np.flatnonzero(counts)
        return seen.astype(np.int64), counts[seen]

    def _next_group(
        self, lo: np.ndarray, sizes: np.ndarray, depth: np.ndarray, out: list, where: np.ndarray
    ) -> None:
        """Next-token counts of a group of contexts (each ``sizes > 0``): gather and count."""
        total = int(sizes.sum())
        owner = np.repeat(np.arange(lo.size), sizes)
        begin = np.cumsum(sizes) - sizes
        ranks = lo[owner] + (np.arange(total) - begin[owner])
        pos = self.suffix[ranks].astype(np.int64) + depth[owner]
        keep = pos < self.n_tokens
        owner, nxt = owner[keep], self.tokens[pos[keep]].astype(np.int64)
        # within one context's range the next tokens are sorted: count runs in one pass
        edge = np.flatnonzero((np.diff(owner) != 0) | (np.diff(nxt) != 0)) + 1
        run_start = np.concatenate([[0], edge]) if owner.size else edge
        run_count = np.diff(np.concatenate([run_start, [owner.size]]))
        run_owner, run_token = owner[run_start], nxt[run_start]
        bounds = np.searchsorted(run_owner, np.arange(lo.size + 1))
        for i in np.flatnonzero(np.diff(bounds)):
            a, b = bounds[i], bounds[i + 1]
            out[int(where[i])] = (run_token[a:b], run_count[a:b])

    # --- internals -------------------------------------------------------------------------

    def _pack(self, ngrams: Ngrams) -> tuple[np.ndarray, np.ndarray]:
        """A batch as one flat ``int64`` array of ids plus offsets (CSR); ids checked."""
        if isinstance(ngrams, np.ndarray):
            if ngrams.ndim != 2 or ngrams.dtype.kind not in "iub":
                raise InputError("n-grams", "must be a 2-D integer array", "one n-gram per row")
            flat = ngrams.astype(np.int64).ravel()
            offsets = np.arange(ngrams.shape[0] + 1, dtype=np.int64) * ngrams.shape[1]
        else:
            try:
                lengths = np.fromiter(map(len, ngrams), np.int64, len(ngrams))
                values = np.fromiter(chain.from_iterable(ngrams), np.float64, int(lengths.sum()))
            except (TypeError, ValueError) as err:
                raise InputError(
                    "n-grams", f"must be sequences of token ids ({err})", "pass lists of ints"
                ) from None
            if not np.array_equal(values, np.floor(values)):
                raise InputError("n-grams", "hold a value that is not a whole number", "pass ints")
            flat = values.astype(np.int64)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
        bad = np.flatnonzero((flat < 0) | (flat >= self.vocab_size))
        if bad.size:
            which = int(np.searchsorted(offsets, bad[0], side="right"))
            raise InputError(
                f"query {which}",
                f"token id {flat[bad[0]]} is outside the index's vocabulary "
                f"(0..{self.vocab_size - 1})",
                "tokenize queries with the index's own tokenizer",
            )
        return flat, offsets

    def _narrow(self, flat: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ranges of the n-grams ``flat[offsets[i]:offsets[i+1]]``, one position at a time."""
        lengths = np.diff(offsets)
        head = offsets[:-1]
        has = lengths > 0
        first = np.zeros(lengths.size, np.int64)
        first[has] = flat[head[has]]
        lo = np.where(has, self._starts[first], 0)
        hi = np.where(has, self._starts[first + 1], self.n_tokens)
        for k in range(1, int(lengths.max(initial=0))):
            live = np.flatnonzero((lengths > k) & (hi > lo))
            if live.size == 0:
                break
            lo[live], hi[live] = self._bounds(lo[live], hi[live], k, flat[head[live] + k])
        return lo, hi

    def _bounds(
        self, lo: np.ndarray, hi: np.ndarray, k: int, target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Within ``[lo, hi)``, the ranks whose ``k``-th suffix token equals ``target``."""
        both = self._lower(
            np.concatenate([lo, lo]),
            np.concatenate([hi, hi]),
            k,
            np.concatenate([target, target + 1]),
        )
        return both[: lo.size], both[lo.size :]

    def _lower(self, lo: np.ndarray, hi: np.ndarray, k: int, goal: np.ndarray) -> np.ndarray:
        """The first rank in each ``[lo, hi)`` whose ``k``-th suffix token is ``>= goal``.

        A binary search vectorised over the batch (the ``k``-th tokens of a range of
        suffixes that share their first ``k`` tokens are sorted); a search leaves the
        loop as soon as its range is empty.
        """
        left, right = lo.astype(np.int64), hi.astype(np.int64)
        idx = np.arange(left.size)
        last = self.n_tokens - 1
        while idx.size:
            a, b = left[idx], right[idx]
            mid = (a + b) >> 1
            pos = self.suffix[mid].astype(np.int64)
            pos += k
            short = pos > last
            np.minimum(pos, last, out=pos)
            value = self.tokens[pos].astype(np.int64)
            value[short] = -1  # a suffix that ends before position k sorts first
            below = value < goal[idx]
            a = np.where(below, mid + 1, a)
            b = np.where(below, b, mid)
            left[idx], right[idx] = a, b
            idx = idx[a < b]
        return left


_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _corpus_ids(ids: np.ndarray | Sequence[int], vocab_size: int | None) -> np.ndarray:
    """``ids`` as a 1-D array of :func:`token_dtype`, checked against ``vocab_size``."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.size == 0 or (arr.dtype.kind not in "iu"):
        raise InputError(
            "corpus", "must be a non-empty 1-D array of token ids", "tokenize it first"
        )
    low, high = int(arr.min()), int(arr.max())
    vocab = vocab_size if vocab_size is not None else high + 1
    if low < 0 or high >= vocab:
        raise InputError(
            "corpus", f"holds token id {low if low < 0 else high}, outside 0..{vocab - 1}"
        )
    return arr.astype(token_dtype(vocab), copy=False)


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(
            str(path.parent), f"has no {META_FILE}: not an index folder", _rebuild_hint()
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(str(path), f"is damaged ({err})", _rebuild_hint()) from None
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise InputError(str(path), "is damaged (no format_version)", _rebuild_hint())
    if meta["format_version"] != FORMAT_VERSION:
        raise InputError(
            str(path),
            f"has format version {meta['format_version']!r}; this artifactlab reads "
            f"version {FORMAT_VERSION}",
            _rebuild_hint(),
        )
    checks = {
        "n_tokens": lambda v: isinstance(v, int) and v > 0,
        "vocab_size": lambda v: isinstance(v, int) and 0 < v <= 2**32,
        "token_dtype": lambda v: v in ("uint16", "uint32"),
        "suffix_dtype": lambda v: v in ("uint32", "uint64"),
    }
    for key, ok in checks.items():
        if not ok(meta.get(key)):
            raise InputError(
                str(path), f"is damaged (bad {key}: {meta.get(key)!r})", _rebuild_hint()
            )
    return meta


def _load_array(path: Path, dtype: str, n: int) -> np.ndarray:
    """A ``.npy`` file memory-mapped read-only, checked to be ``n`` values of ``dtype``."""
    if not path.is_file():
        raise InputError(str(path), "is missing", _rebuild_hint())
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise InputError(str(path), f"is damaged ({err})", _rebuild_hint()) from None
    if arr.dtype != np.dtype(dtype) or arr.shape != (n,):
        raise InputError(
            str(path),
            f"is damaged ({arr.dtype}{list(arr.shape)}, expected {dtype}[{n}])",
            _rebuild_hint(),
        )
    return arr


def index_bytes(folder: str | Path) -> int:
    """The size of an index folder's files in bytes."""
    return sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())
