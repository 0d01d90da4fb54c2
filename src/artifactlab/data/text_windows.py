r"""A tokenized corpus as n-token windows: the tuples the project's own models train on.

``artifactlab make-data text`` writes a folder a model can be trained from with the
usual commands: ``tuples.tsv`` (one window of ``n`` consecutive tokens per line, tab
separated, every window of the corpus by default, repeats kept, so ``D^n`` counts them),
``tokenizer.json`` (the tokenizer that made them, for ``artifactlab index build
--tokenizer``) and ``windows.json`` (what was written).

A token is written as its string in the tokenizer's vocabulary, escaped so that the tuple
file reads it back unchanged: a token that begins with ``#`` (a comment in a tuple file)
or with ``\`` gets one leading ``\`` (:func:`escape_token`, undone by
:func:`unescape_token`). A token holding a tab, a line feed or a carriage return, or one
that begins or ends with a space, cannot be written and is refused.

Example
-------
>>> import numpy as np
>>> windows(np.arange(6), n=3).tolist()
[[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
>>> windows(np.arange(6), n=3, stride=2).tolist()
[[0, 1, 2], [2, 3, 4]]
>>> escape_token("#"), unescape_token(escape_token("#")), escape_token("def")
('\\#', '#', 'def')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artifactlab.errors import InputError

#: characters a token may not hold (they separate fields and lines in a tuple file)
FORBIDDEN = ("\t", "\n", "\r")


def escape_token(token: str) -> str:
    """``token`` as a tuple-file field: a leading ``#`` or backslash gets a backslash before it."""
    return "\\" + token if token.startswith(("#", "\\")) else token


def unescape_token(field: str) -> str:
    """The token a tuple-file field written by :func:`escape_token` stands for."""
    return field[1:] if field.startswith("\\") else field


def windows(
    ids: np.ndarray,
    n: int,
    stride: int = 1,
    max_windows: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Windows of ``n`` consecutive tokens starting every ``stride`` tokens, shape (W, n).

    With ``max_windows``, a seeded uniform sample of that many of them (without
    replacement), in corpus order.
    """
    if n < 2:
        raise InputError("--n", f"must be >= 2 (a context and a next token), got {n}")
    if stride < 1:
        raise InputError("--stride", f"must be >= 1, got {stride}")
    starts = np.arange(0, len(ids) - n + 1, stride, dtype=np.int64)
    if len(starts) == 0:
        raise InputError("corpus", f"has {len(ids)} tokens, fewer than one window of {n}")
    if max_windows is not None and max_windows < len(starts):
        pick = np.random.default_rng(seed).choice(len(starts), max_windows, replace=False)
        starts = starts[np.sort(pick)]
    return np.asarray(ids, dtype=np.int64)[starts[:, None] + np.arange(n)]


def token_fields(tokenizer, ids: np.ndarray) -> dict[int, str]:
    """The escaped token string of every id in ``ids``; InputError for an unwritable one."""
    out = {}
    for i in np.unique(ids).tolist():
        token = tokenizer.id_to_token(int(i))
        if token is None:
            raise InputError("tokenizer", f"has no token for id {i}", "rebuild the corpus")
        if not token or any(c in token for c in FORBIDDEN) or token != token.strip(" "):
            raise InputError(
                "tokenizer",
                f"token {i} ({token!r}) is empty, holds a tab or line break, or begins or "
                "ends with a space, which a tuple file cannot hold",
                "use the bpe or whitespace tokenizer",
            )
        out[i] = escape_token(token)
    return out


def write_windows(out: Path, corpus, n: int, stride: int = 1, max_windows=None, seed=0) -> dict:
    """Write ``tuples.tsv``, ``tokenizer.json`` and ``windows.json`` into a new folder ``out``.

    Parameters
    ----------
    out : Path
        The folder (created whole or not at all).
    corpus : artifactlab.data.text.TokenizedCorpus
        The corpus' ids and tokenizer.
    n, stride, max_windows, seed
        See :func:`windows`.

    Returns
    -------
    dict
        What ``windows.json`` holds.
    """
    from artifactlab.io import staged_folder, write_json, write_text

    rows = windows(corpus.ids, n, stride, max_windows, seed)
    fields = token_fields(corpus.tokenizer, rows)
    lookup = np.empty(max(fields) + 1, dtype=object)
    for i, f in fields.items():
        lookup[i] = f
    lines = ["\t".join(r) for r in lookup[rows].tolist()]
    info = {
        "n": n, "stride": stride, "windows": len(rows),
        "distinct_windows": int(len(np.unique(rows, axis=0))),
        "corpus_tokens": int(len(corpus.ids)), "tokens_used": len(fields),
        "tokenizer": corpus.info, "max_windows": max_windows, "seed": seed,
        "escape": "a token beginning with # or \\ is written with one leading \\",
    }  # fmt: skip
    with staged_folder(out) as tmp:
        write_text(tmp / "tuples.tsv", "\n".join(lines) + "\n")
        (tmp / "tokenizer.json").write_text(corpus.tokenizer.to_str(), encoding="utf-8")
        write_json(tmp / "windows.json", info)
    return info
