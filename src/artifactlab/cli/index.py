"""``artifactlab index build|count|next|stats``: a suffix-array index of a text corpus.

``build`` tokenizes a corpus and writes the index folder (the tokenizer goes with it);
``stats`` tabulates the data tensors ``D^n`` for n = 2..8;
``count`` and ``next`` read a file of queries, one n-gram per line written as text,
tokenize each line with the index's own tokenizer and answer in input order. Blank
lines are skipped; a line that yields no token is refused.

Example
-------
>>> sorted(c.name for c in index_app.registered_commands)
['build', 'count', 'next', 'stats']
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artifactlab.cli.options import (
    Json,
    Overwrite,
    Quiet,
    count,
    emit,
    fresh_out,
    printable,
    user_errors,
)
from artifactlab.cli.progress import progress_bar
from artifactlab.errors import InputError

if TYPE_CHECKING:
    from artifactlab.data.corpus_index import CorpusIndex

index_app = typer.Typer(
    help="A suffix-array index of a text corpus: n-gram counts and next-token counts.",
    no_args_is_help=True,
)

IndexDir = Annotated[Path, typer.Argument(help="An index folder from `artifactlab index build`.")]
Queries = Annotated[
    Path,
    typer.Option(
        "--queries",
        help="A UTF-8 text file: one n-gram per line, as text (bpe: start a line with a "
        "space to match words after a space).",
    ),
]


@index_app.command("build")
@user_errors
def build(
    corpus: Annotated[Path, typer.Argument(help="The corpus: a UTF-8 text file.")],
    tokenizer: Annotated[
        str,
        typer.Option(
            "--tokenizer",
            help="whitespace (words), bpe (byte-level BPE trained on the corpus), or PATH: "
            "a tokenizer.json or a Hugging Face tokenizer folder.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The index folder to create.")],
    vocab_size: Annotated[
        int | None,
        typer.Option(
            "--vocab-size",
            help="bpe: vocabulary size (default 4096); whitespace: keep the most frequent "
            "words only (default: every word).",
        ),
    ] = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Tokenize CORPUS and write its suffix-array index (and tokenizer) to --out."""
    from artifactlab.data.corpus_index import BUILD_STEPS, CorpusIndex, index_bytes
    from artifactlab.data.text import tokenize_corpus
    from artifactlab.io import check_folder_target

    if vocab_size is not None:
        count("--vocab-size", vocab_size, 2)
    check_folder_target(out, replace=overwrite)  # refuse before the slow part, too
    start = time.perf_counter()

    def progress(total: int, description: str):
        return progress_bar(total, description, quiet)

    corpus_ids = tokenize_corpus(corpus, tokenizer, vocab_size, progress)
    fresh_out(out, overwrite)
    with progress_bar(BUILD_STEPS, "building the suffix array", quiet) as advance:
        index = CorpusIndex.build(
            corpus_ids.ids,
            out,
            vocab_size=corpus_ids.info["vocab_size"],
            tokenizer=corpus_ids.tokenizer,
            tokenizer_info=corpus_ids.info,
            advance=advance,
        )
    size = index_bytes(out)
    typer.echo(
        printable(
            f"indexed {index.n_tokens:,} tokens (vocabulary {index.vocab_size:,}, "
            f"{corpus_ids.info['kind']}) in {time.perf_counter() - start:.1f} s -> {out} "
            f"({size / 1e6:.1f} MB, {size / index.n_tokens:.2f} bytes per token)"
        )
    )


def _read_queries(index: CorpusIndex, path: Path) -> tuple[list[str], list[list[int]]]:
    """The non-blank lines of a query file and their token ids (index's tokenizer)."""
    from artifactlab.data.text import read_corpus
    from artifactlab.io import read_lines

    tokenizer = index.load_tokenizer()
    texts, numbers = [], []
    for number, line in enumerate(read_lines(read_corpus(path)), start=1):
        if line:
            texts.append(line)
            numbers.append(number)
    encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    ids = [e.ids for e in encodings]
    for number, tokens in zip(numbers, ids, strict=True):
        if not tokens:
            raise InputError(
                f"{path}:{number}", "has no tokens", "write one n-gram per line, or remove it"
            )
    if not texts:
        raise InputError(str(path), "holds no queries", "write one n-gram per line")
    return texts, ids


@index_app.command("count")
@user_errors
def count_command(index_dir: IndexDir, queries: Queries, as_json: Json = False) -> None:
    """How often each query line's n-gram occurs in the corpus (in input order)."""
    from artifactlab.data.corpus_index import CorpusIndex

    index = CorpusIndex.load(index_dir)
    texts, ids = _read_queries(index, queries)
    counts = index.count(ids).tolist()
    rows = [
        {"query": q, "tokens": t, "count": c} for q, t, c in zip(texts, ids, counts, strict=True)
    ]
    width = len(f"{max(counts):,}")
    text = "\n".join(f"{c:>{width},}  {q}" for q, c in zip(texts, counts, strict=True))
    emit(rows, as_json, text)


@index_app.command("next")
@user_errors
def next_command(
    index_dir: IndexDir,
    queries: Queries,
    top: Annotated[int, typer.Option("--top", help="Most frequent next tokens shown.")] = 10,
    as_json: Json = False,
) -> None:
    """The tokens that follow each query line's n-gram in the corpus, most frequent first."""
    import numpy as np

    from artifactlab.data.corpus_index import CorpusIndex

    count("--top", top)
    index = CorpusIndex.load(index_dir)
    tokenizer = index.load_tokenizer()
    texts, ids = _read_queries(index, queries)
    rows, blocks = [], []
    for query, tokens, occurrences, (nxt, counts) in zip(
        texts, ids, index.count(ids).tolist(), index.next_counts_batch(ids), strict=True
    ):
        order = np.lexsort((nxt, -counts))[:top]  # most frequent first, then by id
        shown = [
            {"id": int(nxt[i]), "text": tokenizer.decode([int(nxt[i])]), "count": int(counts[i])}
            for i in order
        ]
        rows.append(
            {"query": query, "tokens": tokens, "count": occurrences, "distinct": int(nxt.size)}
            | {"next": shown}
        )
        lines = [f"{query}  ({len(tokens)} tokens, {occurrences:,} occurrences, "
                 f"{nxt.size:,} distinct next tokens)"]  # fmt: skip
        lines += [
            f"  {n['count']:>10,}  {json.dumps(n['text'], ensure_ascii=False)}" for n in shown
        ]
        blocks.append("\n".join(lines))
    emit(rows, as_json, "\n".join(blocks))


@index_app.command("stats")
@user_errors
def stats_command(
    index_dir: IndexDir,
    max_n: Annotated[int, typer.Option("--max-n", help="Largest n summarised.")] = 8,
    as_json: Json = False,
) -> None:
    """The data tensors D^n of the corpus for n = 2..MAX_N, through the index (never built).

    Per n: the non-zeros of D^n (distinct n-grams), the observed contexts (distinct
    (n-1)-grams some token follows), all V^(n-1) contexts, and the density of D^n.
    """
    from artifactlab.data.corpus_index import CorpusIndex
    from artifactlab.data.corpus_stats import tensor_summary

    count("--max-n", max_n, 2)
    index = CorpusIndex.load(index_dir)
    rows = tensor_summary(index, max_n)
    head = "n | non-zeros of D^n | observed contexts | all contexts V^(n-1) | density"
    lines = [f"{index.n_tokens:,} tokens, V = {index.vocab_size:,}", head]
    lines += [
        f"{r['n']} | {r['nnz']:,} | {r['observed_contexts']:,} | {r['contexts']:.3g} | "
        f"{r['density']:.3g}"
        for r in rows
    ]
    emit({"n_tokens": index.n_tokens, "V": index.vocab_size, "tensors": rows}, as_json,
         "\n".join(lines))  # fmt: skip
