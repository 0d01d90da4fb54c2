r"""Text corpora as token ids: read a UTF-8 file, tokenize it with Hugging Face ``tokenizers``.

A corpus is read whole as UTF-8 (a leading byte-order mark dropped); an empty file, or
one that is binary (a NUL byte, or bytes that are not UTF-8), is refused with an
:class:`~artifactlab.errors.InputError`. It is tokenized line by line, each line with
its line feed, so a token never spans two lines, and a query written on one line
tokenizes as the same words do inside a corpus line (with ``bpe`` a word's leading
space is part of its token: the query ``"def f"`` matches at the start of a line,
``" def f"`` after a space). Three kinds of tokenizer:

``whitespace``
    A WordLevel model over whitespace-separated words, its vocabulary built from the
    corpus (most frequent words first, ``<unk>`` for anything else).
``bpe``
    A byte-level BPE trained on the corpus (``vocab_size`` tokens, default 4096). Its
    training has no random step (ties between merge counts go to the smaller pair of
    ids), so the same corpus always gives the same tokenizer.
``PATH``
    A ``tokenizer.json`` file, a folder holding one, or a Hugging Face tokenizer folder
    that ``transformers.AutoTokenizer`` loads from disk (``local_files_only``).

Token ids come back as the smallest unsigned dtype that holds the vocabulary
(``uint16`` up to 65,536 tokens, else ``uint32``).

Example
-------
>>> tokenizer = train_tokenizer("whitespace", ["the cat sat\n", "the dog\n"])
>>> encode(tokenizer, ["the cat sat\n", "the dog\n"]).tolist()
[1, 2, 4, 1, 3]
>>> token_dtype(70_000)
dtype('uint32')
"""

from __future__ import annotations

import hashlib
import platform
import sysconfig
import tokenize
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from artifactlab.errors import InputError
from artifactlab.io import write_bytes

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: tokenizers trained on the corpus itself (any other ``--tokenizer`` is a path)
TOKENIZER_KINDS = ("whitespace", "bpe")
#: the vocabulary size of a ``bpe`` tokenizer unless one is given
DEFAULT_BPE_VOCAB = 4096
#: the unknown-word token of a ``whitespace`` tokenizer
UNK = "<unk>"
#: lines tokenized per call into ``tokenizers`` (and per progress step)
CHUNK_LINES = 20_000
#: folders under the standard library that hold installed packages, not the library
_NOT_STDLIB = frozenset({"site-packages", "dist-packages", "__pycache__"})

#: ``progress(total, description)``: a context manager that yields ``advance(k)``
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class TokenizedCorpus:
    """A corpus as token ids, with the tokenizer that made them.

    Attributes
    ----------
    ids : numpy.ndarray
        The token ids, ``uint16`` or ``uint32`` (see :func:`token_dtype`).
    tokenizer : tokenizers.Tokenizer
        The tokenizer; queries must be tokenized with it.
    info : dict
        What the tokenizer is: ``kind`` (whitespace, bpe or file), ``source`` and
        ``vocab_size``.
    """

    ids: np.ndarray
    tokenizer: Tokenizer
    info: dict


@dataclass(frozen=True)
class StdlibCorpus:
    """The standard library's own Python source as one text file (see :func:`stdlib_corpus`)."""

    path: Path
    files: int
    skipped: tuple[str, ...]
    bytes: int
    sha256: str
    python: str
    root: str


# --- reading ---------------------------------------------------------------------------


def read_corpus(path: str | Path) -> str:
    """A corpus file's text: UTF-8, leading byte-order mark dropped.

    Raises
    ------
    InputError
        The path is not a readable file, the file is empty, or it is binary (holds a NUL
        byte or bytes that are not UTF-8).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file", "check the path")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(
            str(path), f"cannot be read ({err.strerror})", "check its permissions"
        ) from None
    if not data:
        raise InputError(str(path), "is empty", "give a text file with some words in it")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            str(path), f"is binary (a NUL byte at offset {nul})", "give a UTF-8 text file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            str(path),
            f"is not UTF-8 text (byte offset {err.start})",
            "convert it to UTF-8, e.g. with iconv",
        ) from None
    return text.removeprefix("\ufeff")


def split_lines(text: str) -> list[str]:
    r"""``text`` cut after each line feed (each line keeps its ``\n``; the last may lack one)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _chunks(lines: Sequence[str], size: int = CHUNK_LINES) -> Iterator[Sequence[str]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


# --- tokenizers --------------------------------------------------------------------------


def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned dtype holding ids ``0 .. vocab_size - 1``: uint16 or uint32.

    Raises
    ------
    InputError
        A vocabulary of more than 2**32 tokens.
    """
    if vocab_size <= 2**16:
        return np.dtype(np.uint16)
    if vocab_size <= 2**32:
        return np.dtype(np.uint32)
    raise InputError(
        "tokenizer",
        f"has {vocab_size} tokens, more than 2**32",
        "use a tokenizer with a smaller vocabulary",
    )


def train_tokenizer(kind: str, lines: Sequence[str], vocab_size: int | None = None) -> Tokenizer:
    """Train a ``whitespace`` or ``bpe`` tokenizer on a corpus's lines.

    Parameters
    ----------
    kind : {"whitespace", "bpe"}
        See the module docstring.
    lines : sequence of str
        The corpus (see :func:`split_lines`).
    vocab_size : int, optional
        ``bpe``: the vocabulary size (default :data:`DEFAULT_BPE_VOCAB`); ``whitespace``:
        keep only this many tokens (``<unk>`` included), default every word.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size is not None and vocab_size < 2:
        raise InputError("--vocab-size", f"must be >= 2, got {vocab_size}")
    if kind == "whitespace":
        tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        trainer = trainers.WordLevelTrainer(
            vocab_size=vocab_size or 2**32 - 1, special_tokens=[UNK], show_progress=False
        )
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size or DEFAULT_BPE_VOCAB,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    else:
        raise InputError("--tokenizer", f"unknown kind {kind!r}", "use whitespace, bpe or a PATH")
    tokenizer.train_from_iterator(_chunks(lines), trainer, length=len(lines))
    return tokenizer


def load_tokenizer(path: str | Path) -> Tokenizer:
    """A tokenizer from a ``tokenizer.json`` file, a folder holding one, or a HF folder.

    A Hugging Face folder without ``tokenizer.json`` is loaded with
    ``transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)``; it must
    have a fast (Rust) tokenizer. Padding and truncation are switched off.
    """
    from tokenizers import Tokenizer

    path = Path(path)
    file = path / "tokenizer.json" if path.is_dir() else path
    if not path.exists():
        raise InputError(
            f"--tokenizer {path}",
            "is neither whitespace, bpe, nor an existing tokenizer file or folder",
            "give whitespace, bpe, a tokenizer.json or a Hugging Face tokenizer folder",
        )
    if file.is_file():
        try:
            tokenizer = Tokenizer.from_file(str(file))
        except Exception as err:  # the Rust side raises plain Exception
            raise InputError(
                str(file), f"is not a tokenizer.json file ({err})", "give a tokenizer.json"
            ) from None
    else:
        tokenizer = _from_transformers(path)
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _from_transformers(folder: Path) -> Tokenizer:
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(
            str(folder),
            f"is not a tokenizer folder ({first})",
            "give a folder with tokenizer.json, or one that AutoTokenizer loads",
        ) from None
    if not getattr(hf, "is_fast", False):
        raise InputError(
            str(folder), "holds only a slow (Python) tokenizer", "save a fast tokenizer.json"
        )
    return hf.backend_tokenizer


def vocab_size_of(tokenizer: Tokenizer) -> int:
    """The number of token ids of ``tokenizer``, added tokens included."""
    return int(tokenizer.get_vocab_size(with_added_tokens=True))


def encode(
    tokenizer: Tokenizer,
    lines: Sequence[str],
    advance: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The token ids of ``lines``, concatenated, in :func:`token_dtype` of the vocabulary.

    No special tokens are added. ``advance(k)`` is called after each chunk of ``k`` lines.
    """
    parts = []
    for chunk in _chunks(lines):
        encodings = tokenizer.encode_batch_fast(list(chunk), add_special_tokens=False)
        ids = chain.from_iterable(e.ids for e in encodings)
        parts.append(np.fromiter(ids, dtype=np.int64))
        if advance is not None:
            advance(len(chunk))
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    top = int(ids.max()) + 1 if ids.size else 0
    return ids.astype(token_dtype(max(vocab_size_of(tokenizer), top)))


def tokenize_corpus(
    path: str | Path,
    tokenizer: str,
    vocab_size: int | None = None,
    progress: Progress | None = None,
) -> TokenizedCorpus:
    """Read a corpus file and tokenize it with ``whitespace``, ``bpe`` or a tokenizer PATH.

    Parameters
    ----------
    path : str or Path
        The corpus (see :func:`read_corpus`).
    tokenizer : str
        ``whitespace``, ``bpe``, or a path (see :func:`load_tokenizer`).
    vocab_size : int, optional
        See :func:`train_tokenizer`; refused with a tokenizer PATH.
    progress : callable, optional
        ``progress(total, description)`` gives a context manager yielding
        ``advance(k)`` (as :func:`artifactlab.cli.progress.progress_bar` does); called
        for training (one step) and for tokenizing (one step a line).

    Raises
    ------
    InputError
        A bad corpus or tokenizer, or a corpus without a single token.
    """
    progress = progress or _no_progress
    lines = split_lines(read_corpus(path))
    if tokenizer in TOKENIZER_KINDS:
        with progress(1, f"training the {tokenizer} tokenizer") as advance:
            model = train_tokenizer(tokenizer, lines, vocab_size)
            advance(1)
        info = {"kind": tokenizer, "source": tokenizer}
    else:
        if vocab_size is not None:
            raise InputError(
                "--vocab-size", "applies only to whitespace and bpe", "drop it for a PATH"
            )
        model = load_tokenizer(tokenizer)
        info = {"kind": "file", "source": str(Path(tokenizer).resolve())}
    with progress(len(lines), "tokenizing (lines)") as advance:
        ids = encode(model, lines, advance)
    if ids.size == 0:
        raise InputError(str(path), "holds no tokens", "give a text file with some words in it")
    info["vocab_size"] = max(vocab_size_of(model), int(ids.max()) + 1)
    return TokenizedCorpus(ids=ids, tokenizer=model, info=info)


@contextmanager
def _no_progress(total: int, description: str) -> Iterator[Callable[[int], None]]:
    yield lambda k: None


# --- the standard library corpus --------------------------------------------------------


def stdlib_sources(root: str | Path | None = None) -> list[Path]:
    """The standard library's ``*.py`` files, sorted by their path below ``root``.

    ``root`` defaults to ``sysconfig.get_paths()["stdlib"]``; installed packages
    (``site-packages``, ``dist-packages``) are left out.
    """
    base = Path(root if root is not None else sysconfig.get_paths()["stdlib"])
    files = (p for p in base.rglob("*.py") if p.is_file())
    kept = [p for p in files if not _NOT_STDLIB.intersection(p.relative_to(base).parts)]
    return sorted(kept, key=lambda p: p.relative_to(base).as_posix())


def _source_text(path: Path) -> str | None:
    """A Python file's text, decoded as Python would (its coding cookie); None if it can't be."""
    try:
        with tokenize.open(path) as fh:
            text = fh.read()
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return None if "\x00" in text else text


def stdlib_corpus(out: str | Path, root: str | Path | None = None) -> StdlibCorpus:
    """Write the standard library's Python source, every file concatenated, to ``out``.

    The files of :func:`stdlib_sources` are read in that order (each decoded by its
    coding cookie, then written as UTF-8, ending in a line feed). A file that cannot be
    decoded or holds a NUL character (a few of the test suite's deliberately broken
    files) is skipped and named in ``skipped``. The same interpreter always gives the
    same file (``sha256``).
    """
    base = Path(root if root is not None else sysconfig.get_paths()["stdlib"])
    parts, skipped = [], []
    for path in stdlib_sources(base):
        text = _source_text(path)
        if text is None:
            skipped.append(path.relative_to(base).as_posix())
            continue
        parts.append(text if text.endswith("\n") else text + "\n")
    if not parts:
        raise InputError(str(base), "holds no readable *.py files", "check the Python install")
    data = "".join(parts).encode("utf-8")
    path = write_bytes(out, data)
    return StdlibCorpus(
        path=path,
        files=len(parts),
        skipped=tuple(skipped),
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        python=platform.python_version(),
        root=str(base),
    )
