"""The suffix-array corpus index against a Python dict of n-gram counts and infini-gram.

The corpus is the Python standard library's own source (every ``*.py`` file the
interpreter ships, sorted and concatenated: :func:`artifactlab.data.text.stdlib_corpus`),
tokenized with a byte-level BPE trained on it (``--vocab-size``, default 4096): text no
one here wrote, on every machine. Below ``--min-tokens`` tokens the token array is
repeated until it reaches them (recorded as ``repeated``).

Measured in one run:

- ``index``: tokenizing, building the index (in a child process, for its peak memory),
  bytes per token of the folder, and ``count`` lookups per second for a batch of
  ``--queries`` n-grams (n = 1..8 drawn from the corpus, ``--absent`` of them random
  token sequences), with ``workers`` 1 and 2; ``next_counts_batch`` contexts per second.
- ``dict``: the floor, a ``collections.Counter`` of every n-gram (tuples, n = 1..8) of
  the whole corpus, in a child process: build time, peak memory, lookups per second.
  When its distinct n-grams (counted with the index) would not fit in half the free
  memory, only a prefix is counted (``--dict-tokens``), and the bytes per key measured
  on it give the whole corpus's estimate.
- ``infini_gram``: the ``infini-gram`` package, when it imports, indexing the same
  token ids offline (its ``rust_indexing`` binary) and counting the same queries one
  call each; its counts are checked against the index's.

Lookups run on the machine as it is (``quiet``) and beside a process that busy-loops on
one core (``loaded``, :class:`threads.BusyCore`); the best of ``--repeat`` runs is kept.

Run::

    python benchmarks/corpus_index.py

The record goes to ``docs/benchmarks/corpus_index.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from statistics import median

import numpy as np
import psutil
from _common import add_out_option, args_record, machine, write_result
from threads import BusyCore

from artifactlab.data.corpus_index import CorpusIndex, index_bytes
from artifactlab.data.text import stdlib_corpus, tokenize_corpus

CONDITIONS = ("quiet", "loaded")
#: a pessimistic size of one dict entry (tuple key, count, slot): decides the dict's prefix
DICT_BYTES_PER_KEY = 250
#: the prefix counted in the dict when the whole corpus would not fit
DICT_FALLBACK = 1_000_000


def log(text: str) -> None:
    """Progress on standard error."""
    print(text, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """The peak resident memory of the calling process so far (MB).

    ``VmHWM`` of ``/proc/self/status``: it starts anew at ``exec``, unlike
    ``ru_maxrss``, which a spawned child inherits from its parent.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(ln for ln in status.splitlines() if ln.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def in_child(func, *args):
    """``func(*args)`` in a fresh spawned process (its own peak memory)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def make_queries(ids: np.ndarray, count: int, absent: float, vocab: int, seed: int) -> list:
    """``count`` n-grams (n = 1..8): drawn from ``ids``, a share ``absent`` random."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, count)
    starts = rng.integers(0, ids.size - 8, count)
    out = [ids[s : s + n].tolist() for s, n in zip(starts, lengths, strict=True)]
    for i in np.flatnonzero(rng.random(count) < absent):
        out[i] = rng.integers(0, vocab, lengths[i]).tolist()
    return out


def rates(run, size: int, repeat: int) -> dict:
    """Lookups per second of ``run()`` (which answers ``size`` queries): best and median."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return {"best_per_s": round(size / min(seconds)), "median_per_s": round(size / median(seconds)),
            "seconds": [round(s, 4) for s in seconds]}  # fmt: skip


def under_conditions(runs: dict, repeat: int) -> dict:
    """Each of ``runs`` (name -> (callable, size)) quiet, then beside a busy core."""
    out: dict = {}
    for condition in CONDITIONS:
        with BusyCore() if condition == "loaded" else contextlib.nullcontext():
            for name, (run, size) in runs.items():
                out.setdefault(name, {})[condition] = rates(run, size, repeat)
                log(f"{condition:6} {name}: {out[name][condition]['best_per_s']:,}/s")
    return out


# --- the index ---------------------------------------------------------------------------


def build_child(ids_path: str, out: str, vocab: int, tokenizer_path: str, info: dict) -> dict:
    """Build the index in this (child) process: seconds and peak memory."""
    from tokenizers import Tokenizer

    before = peak_rss_mb()
    ids = np.load(ids_path)
    start = time.perf_counter()
    CorpusIndex.build(ids, out, vocab_size=vocab, tokenizer=Tokenizer.from_file(tokenizer_path),
                      tokenizer_info=info)  # fmt: skip
    return {"build_seconds": round(time.perf_counter() - start, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "rss_before_loading_mb": round(before, 1)}  # fmt: skip


def distinct_ngrams(index: CorpusIndex, max_n: int) -> list[int]:
    """Distinct n-grams of the corpus for n = 1..max_n (adjacent sorted suffixes' LCP)."""
    lcp = np.zeros(index.n_tokens - 1, np.int64)
    same = np.ones(index.n_tokens - 1, bool)
    a, b = index.suffix[:-1].astype(np.int64), index.suffix[1:].astype(np.int64)
    last = index.n_tokens - 1
    for k in range(max_n):
        ok = (a + k <= last) & (b + k <= last)
        same &= ok
        same[ok] &= index.tokens[a[ok] + k] == index.tokens[b[ok] + k]
        lcp += same
    # an n-gram starts at every position with n tokens left; repeats share an LCP >= n
    return [int((index.n_tokens - n + 1) - (lcp >= n).sum()) for n in range(1, max_n + 1)]


# --- the dict floor ----------------------------------------------------------------------


def dict_child(ids_path: str, prefix: int, queries: int, absent: float, vocab: int, seed: int,
               repeat: int) -> dict:  # fmt: skip
    """Count every n-gram (n = 1..8) of a prefix in a Counter; time lookups quiet and loaded."""
    before = peak_rss_mb()
    ids = np.load(ids_path)[:prefix]
    values = ids.tolist()
    start = time.perf_counter()
    counts: Counter = Counter()
    for n in range(1, 9):
        counts.update(zip(*(values[i:] for i in range(n)), strict=False))
    build = time.perf_counter() - start
    peak = peak_rss_mb()
    batch = [tuple(q) for q in make_queries(ids, queries, absent, vocab, seed)]
    get = counts.get
    lookups = under_conditions({"lookup": (lambda: [get(q, 0) for q in batch], len(batch))}, repeat)
    return {"prefix_tokens": int(ids.size), "keys": len(counts), "build_seconds": round(build, 3),
            "peak_rss_mb": round(peak, 1), "rss_before_loading_mb": round(before, 1),
            "bytes_per_key": round((peak - before) * 2**20 / len(counts), 1),
            "lookups": lookups["lookup"]}  # fmt: skip


# --- infini-gram -------------------------------------------------------------------------


def infini_gram(
    ids: np.ndarray, work: Path, batch: list, expected: np.ndarray, repeat: int
) -> dict:
    """Index ``ids`` with infini-gram offline and count ``batch`` with its engine."""
    try:
        import infini_gram
        from infini_gram.engine import InfiniGramEngine
    except ImportError as err:
        return {"available": False, "error": f"cannot import infini_gram ({err})",
                "try": "pip install infini-gram"}  # fmt: skip
    from importlib.metadata import version

    if ids.dtype != np.uint16:
        return {"available": False, "error": "this benchmark feeds infini-gram u16 tokens only"}
    save, data = work / "infini_gram", work / "infini_gram_data"
    save.mkdir()
    data.mkdir()
    # its own layout: a document starts with 0xFFFF; offset.0 holds each document's byte offset
    (save / "tokenized.0").write_bytes(b"\xff\xff" + ids.astype("<u2").tobytes())
    (save / "offset.0").write_bytes(np.zeros(1, "<u8").tobytes())
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    argv = [sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(data),
            "--save_dir", str(save), "--token_dtype", "u16", "--cpus", str(os.cpu_count()),
            "--mem", "4", "--ulimit", str(limit)]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    record = {"available": True, "version": version("infini-gram"),
              "module": str(Path(infini_gram.__file__).parent), "build_seconds": round(seconds, 3),
              "build_command": " ".join(argv[1:]), "returncode": proc.returncode}  # fmt: skip
    if proc.returncode != 0 or not (save / "table.0").exists():
        return record | {"built": False, "output_tail": (proc.stdout + proc.stderr)[-1500:]}
    files = ("tokenized.0", "table.0", "offset.0")
    size = sum((save / f).stat().st_size for f in files)
    record |= {"built": True, "bytes_per_token": round(size / ids.size, 3)}
    runs = {}
    for to_ram in (False, True):
        engine = InfiniGramEngine(index_dir=str(save), eos_token_id=int(2**16 - 2),
                                  token_dtype="u16", load_to_ram=to_ram)  # fmt: skip
        got = np.array([engine.count(input_ids=q)["count"] for q in batch])
        record[f"agrees_with_index_load_to_ram_{to_ram}"] = bool(np.array_equal(got, expected))
        count = engine.count
        runs[f"count load_to_ram={to_ram}"] = (lambda c=count: [c(input_ids=q) for q in batch],
                                               len(batch))  # fmt: skip
    record |= {"queries": len(batch), "lookups": under_conditions(runs, repeat)}
    return record


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab-size", type=int, default=4096, help="BPE vocabulary size")
    parser.add_argument("--min-tokens", type=int, default=10_000_000,
                        help="repeat the corpus up to this many tokens")  # fmt: skip
    parser.add_argument("--queries", type=int, default=100_000, help="n-grams per batch")
    parser.add_argument("--absent", type=float, default=0.1, help="share of random n-grams")
    parser.add_argument("--dict-tokens", type=int, default=0,
                        help="prefix of the corpus counted in the dict (0: all of it, if "
                             f"{DICT_BYTES_PER_KEY} bytes a key fit in half the free memory, "
                             f"else {DICT_FALLBACK:,})")  # fmt: skip
    parser.add_argument("--infini-queries", type=int, default=20_000,
                        help="queries counted by infini-gram (one call each)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs of each lookup; best kept")
    parser.add_argument("--seed", type=int, default=0)
    add_out_option(parser, "corpus_index")
    args = parser.parse_args()
    started = time.perf_counter()
    info = machine() | {"usable_cores": len(os.sched_getaffinity(0))}  # load at the start
    with tempfile.TemporaryDirectory(prefix="artifactlab_corpus_index_") as tmp:
        result = run(args, Path(tmp))
    write_result(args.out, {"benchmark": "corpus_index", "args": args_record(args),
                            "machine": info, **result}, started)  # fmt: skip


def run(args: argparse.Namespace, work: Path) -> dict:
    corpus = stdlib_corpus(work / "stdlib.txt")
    log(f"corpus: {corpus.files} files, {corpus.bytes:,} bytes")
    start = time.perf_counter()
    tokenized = tokenize_corpus(corpus.path, "bpe", args.vocab_size)
    tokenize_seconds = time.perf_counter() - start
    ids, natural = tokenized.ids, int(tokenized.ids.size)
    repeated = max(1, -(-args.min_tokens // natural))
    ids = np.tile(ids, repeated) if repeated > 1 else ids
    log(f"tokens: {natural:,} (x{repeated}) in {tokenize_seconds:.1f} s")
    np.save(work / "ids.npy", ids)
    tokenized.tokenizer.save(str(work / "tokenizer.json"))
    vocab = tokenized.info["vocab_size"]
    folder = work / "index"
    build = in_child(build_child, str(work / "ids.npy"), str(folder), vocab,
                     str(work / "tokenizer.json"), tokenized.info)  # fmt: skip
    log(f"index built in {build['build_seconds']} s")
    index = CorpusIndex.load(folder)
    batch = make_queries(ids, args.queries, args.absent, vocab, args.seed)
    counts = index.count(batch)  # also pages the index in
    contexts = batch[: args.queries // 10]
    runs = {f"count workers={w}": (lambda w=w: index.count(batch, workers=w), len(batch))
            for w in (1, 2)}  # fmt: skip
    runs["next_counts_batch"] = (lambda: index.next_counts_batch(contexts), len(contexts))
    lookups = under_conditions(runs, args.repeat)
    size = index_bytes(folder)
    tokenizer_bytes = (folder / "tokenizer.json").stat().st_size
    distinct = distinct_ngrams(index, 8)
    prefix = args.dict_tokens or int(ids.size)
    fits = sum(distinct) * DICT_BYTES_PER_KEY < psutil.virtual_memory().available / 2
    prefix = prefix if args.dict_tokens or fits else DICT_FALLBACK
    log(f"dict floor on {prefix:,} tokens ...")
    floor = in_child(dict_child, str(work / "ids.npy"), prefix, args.queries, args.absent,
                     vocab, args.seed, args.repeat)  # fmt: skip
    floor["whole_corpus_fits_in_half_free_memory"] = bool(fits)
    floor["full_corpus_distinct_ngrams_n1_to_8"] = sum(distinct)
    floor["full_corpus_estimated_gb"] = round(sum(distinct) * floor["bytes_per_key"] / 1e9, 1)
    log("infini-gram ...")
    infini = infini_gram(ids, work, batch[: args.infini_queries],
                         counts[: args.infini_queries], args.repeat)  # fmt: skip
    best = lookups["count workers=1"]
    return {
        "corpus": {"source": "Python standard library *.py files", "python": corpus.python,
                   "root": corpus.root, "files": corpus.files, "skipped": list(corpus.skipped),
                   "bytes": corpus.bytes, "sha256": corpus.sha256},
        "tokenizer": {"kind": "bpe (byte-level, trained on the corpus)", "vocab_size": vocab,
                      "tokens": natural, "repeated": repeated, "indexed_tokens": int(ids.size),
                      "tokenize_seconds": round(tokenize_seconds, 3)},
        "index": build | {"bytes": size, "bytes_per_token": round(size / ids.size, 3),
                          "bytes_per_token_without_tokenizer":
                              round((size - tokenizer_bytes) / ids.size, 3),
                          "token_dtype": index.meta["token_dtype"],
                          "suffix_dtype": index.meta["suffix_dtype"]},
        "queries": {"count": len(batch), "n": "uniform 1..8", "absent_share": args.absent,
                    "zero_counts": int((counts == 0).sum()),
                    "distinct_ngrams_by_n": distinct, "next_contexts": len(contexts)},
        "lookups": lookups,
        "target_100k_per_s": {c: best[c]["best_per_s"] >= 100_000 for c in CONDITIONS},
        "dict": floor,
        "infini_gram": infini,
    }  # fmt: skip


if __name__ == "__main__":
    main()
