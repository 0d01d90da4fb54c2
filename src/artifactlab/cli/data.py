"""``artifactlab make-data random|world``: generate datasets.

Example
-------
>>> sorted(c.name for c in make_data_app.registered_commands)
['random', 'stdlib', 'text', 'world']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import (
    Json,
    Overwrite,
    Quiet,
    emit,
    fresh_file,
    fresh_out,
    printable,
    user_errors,
)
from artifactlab.errors import InputError

make_data_app = typer.Typer(help="Generate datasets.", no_args_is_help=True)


@make_data_app.command("random")
@user_errors
def make_data_random(
    vocab: Annotated[int, typer.Option("--vocab", help="Token set size V.")],
    triples: Annotated[
        int, typer.Option("--triples", help="Distinct (subject, relation) contexts N.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file (tab-separated triples).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draw.")] = 0,
    k: Annotated[int, typer.Option("-k", help="Objects per context (multi-valued when > 1).")] = 1,
    ranges: Annotated[
        str | None,
        typer.Option("--ranges", help="Separate token ranges S,R,O (overrides --vocab)."),
    ] = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Draw a random triple database as in the paper (N distinct contexts, uniform objects)."""
    from artifactlab.data import random_triples

    sizes = _parse_ranges(ranges) if ranges else None
    ds = random_triples(V=vocab, N=triples, seed=seed, k=k, ranges=sizes)
    fresh_file(out, overwrite)
    ds.save(out)  # whole or not at all (artifactlab.io)
    info = {"out": str(out), "tuples": ds.N, "V": ds.vocab.V, "seed": seed}
    emit(info, as_json, f"wrote {ds.N} triples over V={ds.vocab.V} tokens to {printable(out)}")


def _parse_ranges(text: str) -> tuple[int, int, int]:
    try:
        S, R, O = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError("--ranges", f"expected three integers S,R,O, got {text!r}") from None
    return S, R, O


@make_data_app.command("world")
@user_errors
def make_data_world(
    name: Annotated[str, typer.Argument(help="The world: grammar, siblings or family.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create (absent or empty).")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the world.")] = 0,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE, repeatable (see `artifactlab ls worlds`)."),
    ] = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Build a toy world with rules: training triples, held-out triples, and the truth G."""
    from artifactlab.data.world_folder import find_world, parse_params, write_world

    world = find_world(name)
    params = parse_params(world, param or [])
    world.build(seed=seed, **params)  # every check of the world runs before --out is touched
    fresh_out(out, overwrite)
    info = write_world(out, world, seed, params)
    text = (
        f"wrote the {name} world (seed {seed}): {info['train']} train, {info['test']} test, "
        f"{info['truth']} truth (G) triples, V={info['V']} -> {printable(out)}"
    )
    emit(info, as_json, text)


@make_data_app.command("text")
@user_errors
def make_data_text(
    corpus: Annotated[Path, typer.Argument(help="A UTF-8 text file.")],
    tokenizer: Annotated[
        str,
        typer.Option(
            help="whitespace, bpe (byte-level BPE trained on the corpus) or a PATH "
            "(tokenizer.json, or a Hugging Face tokenizer folder)."
        ),
    ],
    n: Annotated[int, typer.Option("--n", help="Tokens per window (tuple length), >= 2.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to create (absent or empty).")],
    vocab_size: Annotated[
        int | None, typer.Option(help="Vocabulary size of a trained tokenizer (bpe: 4096).")
    ] = None,
    stride: Annotated[int, typer.Option(help="A window starts every this many tokens.")] = 1,
    max_windows: Annotated[
        int | None, typer.Option(help="Keep a seeded sample of this many windows.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the window sample.")] = 0,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Tokenize a corpus into n-token windows (tuples.tsv) a model trains on, with its tokenizer.

    Train on them with ``artifactlab train --data OUT/tuples.tsv --mode all``; build the
    corpus index with ``artifactlab index build CORPUS --tokenizer OUT/tokenizer.json``.
    """
    from artifactlab.cli.options import count
    from artifactlab.cli.progress import progress_bar
    from artifactlab.data.text import tokenize_corpus
    from artifactlab.data.text_windows import write_windows

    count("--n", n, 2)
    count("--stride", stride)
    if max_windows is not None:
        count("--max-windows", max_windows)
    count("--seed", seed, 0)

    def progress(total: int, description: str):
        return progress_bar(total, description, quiet)

    tokenized = tokenize_corpus(corpus, tokenizer, vocab_size, progress)
    fresh_out(out, overwrite)
    info = write_windows(out, tokenized, n, stride, max_windows, seed)
    text = (
        f"wrote {info['windows']:,} windows of {n} tokens ({info['distinct_windows']:,} "
        f"distinct; {info['tokens_used']:,} token types of {info['tokenizer']['vocab_size']:,}; "
        f"corpus {info['corpus_tokens']:,} tokens) -> {printable(out)}"
    )
    emit(info | {"out": str(out)}, as_json, text)


@make_data_app.command("stdlib")
@user_errors
def make_data_stdlib(
    out: Annotated[Path, typer.Option("--out", help="The corpus file to write.")],
    package: Annotated[
        str | None,
        typer.Option(help="Only this package of the standard library (json, email, ...)."),
    ] = None,
    overwrite: Overwrite = False,
    as_json: Json = False,
) -> None:
    """Write the Python standard library's own source (text no one here wrote) as one corpus.

    Every ``*.py`` file of the running interpreter's standard library (or of one of its
    packages), in path order, concatenated; the same interpreter gives the same bytes.
    """
    import sysconfig

    from artifactlab.data.text import stdlib_corpus

    root = Path(sysconfig.get_paths()["stdlib"])
    if package is not None:
        root = root / package
        if not root.is_dir() or package.startswith(".") or "/" in package:
            raise InputError("--package", f"{package!r} is not a package folder of {root.parent}")
    fresh_file(out, overwrite)
    c = stdlib_corpus(out, root)
    info = {"out": str(out), "files": c.files, "bytes": c.bytes, "sha256": c.sha256,
            "python": c.python, "root": c.root, "skipped": list(c.skipped)}  # fmt: skip
    text = (
        f"wrote {c.files} files of the Python {c.python} standard library"
        + (f" ({package})" if package else "")
        + f", {c.bytes:,} bytes, to {printable(out)}"
        + (f" ({len(c.skipped)} unreadable skipped)" if c.skipped else "")
    )
    emit(info, as_json, text)
