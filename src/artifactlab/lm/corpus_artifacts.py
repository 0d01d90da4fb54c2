"""Which of a language model's confident continuations never occur in its corpus.

At a context ``c`` of ``m`` tokens, the continuations ``t`` with ``p(t | c) > tau`` are
the model's *confident* continuations, decided by the one exact rule of
:mod:`artifactlab.tensor.completion` (candidates from the fast softmax, every one near
a tau recomputed on the float64 softmax: :func:`~artifactlab.tensor.threshold.decide`).
Each ``(m + 1)``-gram ``c + t`` is counted in the corpus index
(:meth:`~artifactlab.data.corpus_index.CorpusIndex.count`, one batched call per chunk of
contexts): a confident continuation of count 0 is an *artifact*, the others are
*supported* by the corpus.

Contexts come from the corpus (uniform positions, free of document boundaries), from
the uniform distribution over the model's vocabulary, or from the model's own
generations (``source=``, :mod:`~artifactlab.lm.contexts`).

Per tau, from ``K`` draws with ``a(c)`` artifacts each: the ``rate`` (mean artifacts per
context) and the ``share`` of contexts with at least one, with intervals from
:func:`~artifactlab.tensor.intervals.tau_stats` (Wilson for the share; for the rate
Wilson where ``tau >= 0.5``, else a seeded percentile bootstrap, or ``wilson-bound``
where every draw has the same count). ``target_rel_error`` and ``max_samples`` draw more
in rounds until the rate's half-width is below the target times the rate: the draws
come in the seeded batches of :func:`~artifactlab.tensor.estimate.reduce_batches`, which
makes the estimate, so the result depends only on the arguments.

Example
-------
>>> import numpy as np, tempfile, torch
>>> from artifactlab.data.corpus_index import CorpusIndex
>>> index = CorpusIndex.build(np.array([0, 1, 2, 0, 1, 2]), tempfile.mkdtemp() + "/ix")
>>> def always_two(ctx):  # p(2 | c) = 0.9999 everywhere; only "1 2" occurs in the corpus
...     return torch.tensor([0.0, 0.0, 10.0]).repeat(len(ctx), 1)
>>> found = corpus_artifacts(always_two, index, 1, samples=300, source="uniform")
>>> est = found.estimate
>>> round(est.rate[0.5], 3), est.rate_method[0.5], found.n_supported[0.5] > 0
(0.673, 'wilson', True)
>>> sorted((a.context_text, a.continuation_text) for a in found.top_artifacts)
[('0', '2'), ('2', '2')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from artifactlab.checks import at_least, finite, seed_value
from artifactlab.errors import InputError
from artifactlab.lm.contexts import SOURCES, Contexts, corpus_contexts, document_boundaries
from artifactlab.tensor.completion import BLOCK_ELEMENTS, LogitsFn
from artifactlab.tensor.context_counts import check_taus
from artifactlab.tensor.context_sources import ModelSource
from artifactlab.tensor.estimate import (
    ArtifactEstimate,
    batch_rng,
    check_stopping,
    reduce_batches,
)
from artifactlab.tensor.threshold import _block_candidates, decide, softmax_margin

if TYPE_CHECKING:
    from artifactlab.data.corpus_index import CorpusIndex
    from artifactlab.data.text import Progress

__all__ = ["SOURCES", "ArtifactFinder", "Findings", "LMArtifact", "LMArtifacts", "corpus_artifacts"]


@dataclass(frozen=True)
class LMArtifact:
    """One artifact: a context, the continuation the model is sure of, and its probability.

    ``context`` and ``token`` are the index's token ids; the texts are decoded with the
    index's tokenizer (ids written out where it has none); ``context_count`` is how often
    the context itself occurs in the corpus.
    """

    context: tuple[int, ...]
    token: int
    prob: float
    context_text: str
    continuation_text: str
    context_count: int


@dataclass
class LMArtifacts:
    """The sampled artifact rate of a language model against its corpus, per threshold.

    Attributes
    ----------
    estimate : ArtifactEstimate
        The sampled estimate (:func:`~artifactlab.tensor.estimate.reduce_batches`) of
        artifacts per drawn context: ``rate`` (mean artifacts per context) with
        ``rate_ci`` and ``rate_method``, ``share`` (of contexts with an artifact) with
        its Wilson ``share_ci``, per tau; and ``source``, ``scope``, ``n_contexts``,
        ``n_samples``, ``seed``, ``stopped``, ... Every draw weighs 1, so its
        ``estimate``, ``ci_low``, ``ci_high`` and ``method`` are the rate's; ``V`` is the
        model's vocabulary size and ``n`` is ``context_length + 1``.
    context_length : int
        ``m``, tokens per context.
    n_confident, n_supported, n_artifacts : dict
        Tau -> over all drawn contexts: continuations above tau, those the corpus holds,
        and the rest (artifacts).
    top_artifacts : list of LMArtifact
        The most probable distinct artifacts at the lowest tau, most probable first.
    """

    estimate: ArtifactEstimate
    context_length: int
    n_confident: dict[float, int]
    n_supported: dict[float, int]
    n_artifacts: dict[float, int]
    top_artifacts: list[LMArtifact]

    def to_dict(self) -> dict:
        """JSON-ready: the run-wide fields, ``estimates`` (one row a tau) and ``top_artifacts``.

        A row holds ``rate`` with ``ci_low``, ``ci_high`` and their ``method``, ``share``
        and ``share_ci``, ``n_samples``, ``source`` and the counts of continuations.
        """
        data = self.estimate.to_dict()
        rows = data.pop("estimates")
        data |= {"vocab_size": data.pop("V"), "context_length": self.context_length}
        del data["n"]
        data["estimates"] = [
            {"source": data["source"]}
            | {k: v for k, v in rows[f"{t:g}"].items() if k != "estimate"}
            | {"rate": self.estimate.rate[t], "n_confident": self.n_confident[t]}
            | {"n_supported": self.n_supported[t], "n_artifacts": self.n_artifacts[t]}
            for t in self.estimate.tau
        ]
        data["top_artifacts"] = [
            asdict(a) | {"context": list(a.context)} for a in self.top_artifacts
        ]
        return data


class _Shape(NamedTuple):
    """What :func:`~artifactlab.tensor.estimate.reduce_batches` reads of its data tensor."""

    V: int
    n: int


class Findings(NamedTuple):
    """What :meth:`ArtifactFinder.evaluate` finds at a batch of contexts.

    ``artifacts``, ``confident``, ``supported`` (K, n_taus): at each context, the
    artifacts, the continuations above each tau, and those the corpus holds; ``rows``,
    ``tokens`` (index ids), ``probs``: every artifact at the lowest tau.
    """

    artifacts: np.ndarray
    confident: np.ndarray
    supported: np.ndarray
    rows: np.ndarray
    tokens: np.ndarray
    probs: np.ndarray


class _Best:
    """Running top-k of distinct artifacts (context, token), most probable first."""

    def __init__(self, k: int, m: int) -> None:
        self.k, self.grams, self.probs = k, np.zeros((0, m + 1), np.int64), np.zeros(0)

    def push(self, grams: np.ndarray, probs: np.ndarray) -> None:
        if self.k == 0 or len(probs) == 0:
            return
        grams, probs = np.concatenate([self.grams, grams]), np.concatenate([self.probs, probs])
        order = np.argsort(-probs, kind="stable")
        _, first = np.unique(grams[order], axis=0, return_index=True)
        keep = order[np.sort(first)][: self.k]
        self.grams, self.probs = grams[keep], probs[keep]


class ArtifactFinder:
    """A model, its corpus index and the thresholds, checked once; then draw and count.

    Parameters
    ----------
    logits_fn : callable
        Next-token logits, (B, m) int64 model token ids -> (B, V) float, on the CPU
        (the adapters of :mod:`artifactlab.lm.hf`); for the model source it must read
        shorter contexts too.
    index : CorpusIndex
        The corpus.
    context_length : int
        ``m``, tokens per context.
    taus : sequence of float
        Thresholds, each in (0, 1).
    token_map : numpy.ndarray, optional
        Model token id -> index token id, shape (V,), distinct; default: the same ids,
        which needs ``V`` to be the index's vocabulary size.
    batch : int, optional
        Contexts per logits call (default the model's own ``batch``, or about
        ``BLOCK_ELEMENTS`` logits).
    boundary_ids : sequence of int, optional
        Document-boundary token ids (index ids) no corpus context may hold; default
        :func:`document_boundaries`.

    Raises
    ------
    InputError
        A context length below 1 or past the model's window, a bad tau, logits of
        another size than the index's vocabulary (without a map), or a bad map.
    """

    def __init__(
        self,
        logits_fn: LogitsFn,
        index: CorpusIndex,
        context_length: int,
        taus: float | Sequence[float] = (0.5,),
        token_map: np.ndarray | None = None,
        batch: int | None = None,
        boundary_ids: Sequence[int] | None = None,
    ) -> None:
        self.m = at_least("--context-length", context_length, 1)
        self.taus = check_taus(taus)
        self.logits_fn, self.index = logits_fn, index
        self.V = int(logits_fn(torch.zeros((1, self.m), dtype=torch.int64)).shape[1])
        self.to_index, self.to_model = _maps(token_map, self.V, index)
        own = getattr(logits_fn, "batch", 1)
        self.batch = at_least("batch", batch, 1) if batch else max(1, own, BLOCK_ELEMENTS // self.V)
        self.boundaries = (
            document_boundaries(index) if boundary_ids is None else sorted(set(boundary_ids))
        )
        self.work = torch.empty(0)

    def evaluate(
        self, contexts: np.ndarray, advance: Callable[[int], None] | None = None
    ) -> Findings:
        """Confident continuations, supported ones and artifacts at contexts (index ids, (K, m))."""
        ctx = np.ascontiguousarray(contexts, dtype=np.int64)
        if ctx.ndim != 2 or ctx.shape[1] != self.m:
            raise InputError("contexts", f"must have shape (K, {self.m}), got {ctx.shape}")
        model_ctx = self._model_ids(ctx)
        tau_arr = np.asarray(self.taus)
        empty = np.zeros(0, np.int64)
        parts = [(empty, empty, np.zeros(0), np.zeros((0, len(self.taus)), bool))]
        for start in range(0, len(ctx), self.batch):
            block = torch.from_numpy(model_ctx[start : start + self.batch])
            logits = self.logits_fn(block)
            if tuple(logits.shape) != (len(block), self.V):
                raise ValueError(f"logits of shape {tuple(logits.shape)}, expected (B, {self.V})")
            if self.work.shape != logits.shape or self.work.dtype != logits.dtype:
                self.work = torch.empty_like(logits)
            margin = softmax_margin(self.V, logits.dtype)
            rows, tokens, p = _block_candidates(logits, self.taus[0], margin, self.work)
            probs, hits = decide(logits, rows, tokens, p, tau_arr, margin)
            keep = hits[:, 0]  # above the lowest tau: every confident continuation
            parts.append(
                (
                    rows.cpu().numpy()[keep] + start,
                    tokens.cpu().numpy()[keep],
                    probs[keep],
                    hits[keep],
                )
            )
            if advance is not None:
                advance(len(block))
        rows, tokens, probs = (np.concatenate([p[i] for p in parts]) for i in range(3))
        hits = np.concatenate([p[3] for p in parts])
        tokens = self._index_ids(tokens.astype(np.int64))
        grams = np.column_stack([ctx[rows], tokens])
        counts = self.index.count(grams) if len(grams) else np.zeros(0, np.int64)
        absent = counts == 0
        per = np.zeros((3, len(ctx), len(self.taus)), np.int64)  # artifacts, confident, held
        for k, sel in enumerate((absent, slice(None), ~absent)):
            np.add.at(per[k], rows[sel], hits[sel].astype(np.int64))
        return Findings(*per, rows[absent], tokens[absent], probs[absent])

    def source(self, name: str) -> Contexts:
        """The source of contexts called ``name`` (:data:`SOURCES`), checked.

        Raises
        ------
        InputError
            An unknown name; for ``corpus`` no run of ``m`` tokens free of boundaries;
            for ``model`` a model that reads only whole contexts.
        """
        m, V = self.m, self.V
        if name == "corpus":
            return corpus_contexts(self.index, m, self.boundaries)
        if name == "uniform":
            return Contexts(
                "uniform",
                f"all V^m contexts, every token uniform over the model's {V:,}",
                V**m,
                lambda k, rng: self._index_ids(rng.integers(0, V, size=(k, m), dtype=np.int64)),
            )
        if name == "model":
            gen = ModelSource(self.logits_fn, V, m, self.batch)
            return Contexts(
                "model",
                "the model's own generations from a uniform first token",
                V**m,
                lambda k, rng: self._index_ids(gen.draw(k, rng)[0]),
            )
        raise InputError(
            "--source", f"unknown source {name!r}", f"choose from {', '.join(SOURCES)}"
        )

    def run(
        self,
        source: str | Contexts = "corpus",
        samples: int = 1000,
        seed: int = 0,
        target_rel_error: float | None = None,
        max_samples: int | None = None,
        top: int = 10,
        progress: Progress | None = None,
        confidence: float = 0.95,
        n_boot: int = 2000,
    ) -> LMArtifacts:
        """Draw contexts from ``source`` (a name, or :meth:`source`'s result) and estimate.

        ``progress(total, description)`` gives a context manager yielding ``advance(k)``
        (as :func:`artifactlab.cli.progress.progress_bar` does), entered once every
        input is checked.
        """
        target, cap = check_stopping(samples, target_rel_error, max_samples)
        seed_value("--seed", seed)
        at_least("--top", top, 0)
        finite("confidence", confidence, low=0, high=1, low_open=True, high_open=True)
        at_least("n_boot", n_boot, 1)
        src = source if isinstance(source, Contexts) else self.source(source)
        done: list[tuple[np.ndarray, Findings]] = []
        bar = progress(cap, f"sampling contexts ({src.name})") if progress else nullcontext(None)
        with bar as advance:

            def run_batches(tasks: list[tuple[int, int]]) -> Iterator[tuple[np.ndarray, None]]:
                for i, count in tasks:  # batch i: its own seeded draws (estimate.batch_rng)
                    ctx, _ = src.draw(count, batch_rng(seed, i))
                    done.append((ctx, self.evaluate(ctx, advance)))
                    yield done[-1][1].artifacts, None

            est = reduce_batches(
                run_batches, src, _Shape(self.V, self.m + 1), self.taus, samples, target, cap,
                seed, confidence, n_boot,
            )  # fmt: skip
        n, start, best = est.n_samples, 0, _Best(top, self.m)
        for ctx, found in done:  # only the first n draws count, as in the estimate
            keep = found.rows < n - start
            rows = found.rows[keep]
            best.push(np.column_stack([ctx[rows], found.tokens[keep]]), found.probs[keep])
            start += len(ctx)
        totals = [np.concatenate([f[k] for _, f in done])[:n].sum(0).tolist() for k in (1, 2)]
        confident, supported = (dict(zip(self.taus, t, strict=True)) for t in totals)
        return LMArtifacts(
            estimate=est,
            context_length=self.m,
            n_confident=confident,
            n_supported=supported,
            n_artifacts={t: confident[t] - supported[t] for t in self.taus},
            top_artifacts=_decode(self.index, best.grams, best.probs),
        )

    def _index_ids(self, ids: np.ndarray) -> np.ndarray:
        return ids if self.to_index is None else self.to_index[ids]

    def _model_ids(self, ids: np.ndarray) -> np.ndarray:
        if self.to_model is None:
            return ids
        out = self.to_model[ids]
        if out.size and out.min() < 0:
            raise InputError("contexts", "hold a token the model's vocabulary lacks")
        return out


def _maps(
    token_map: np.ndarray | None, V: int, index: CorpusIndex
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``token_map`` (model -> index ids) and its inverse (-1: no model token), checked."""
    if token_map is None:
        if V != index.vocab_size:
            raise InputError(
                "model",
                f"gives {V:,} logits per context but the index's vocabulary has "
                f"{index.vocab_size:,} tokens",
                "use the tokenizer the index was built with, or give a token map",
            )
        return None, None
    forward = np.asarray(token_map)
    if forward.shape != (V,) or forward.dtype.kind not in "iu":
        raise InputError("token_map", f"must be {V:,} integer index ids, one a model token")
    forward = forward.astype(np.int64)
    if forward.min() < 0 or forward.max() >= index.vocab_size or np.unique(forward).size != V:
        raise InputError("token_map", f"must map to distinct ids in 0..{index.vocab_size - 1}")
    inverse = np.full(index.vocab_size, -1, np.int64)
    inverse[forward] = np.arange(V)
    return forward, inverse


def _decode(index: CorpusIndex, grams: np.ndarray, probs: np.ndarray) -> list[LMArtifact]:
    """The artifacts ``grams`` (context + token, index ids) as text, with context counts."""
    if len(grams) == 0:
        return []
    tokenizer = index.load_tokenizer() if index.meta.get("tokenizer") is not None else None

    def text(ids: list[int]) -> str:
        if tokenizer is None:
            return " ".join(map(str, ids))
        return tokenizer.decode(ids, skip_special_tokens=False)

    seen = index.count(grams[:, :-1]).tolist()
    return [
        LMArtifact(tuple(g[:-1]), g[-1], float(p), text(g[:-1]), text(g[-1:]), c)
        for g, p, c in zip(grams.tolist(), probs.tolist(), seen, strict=True)
    ]


def corpus_artifacts(
    logits_fn: LogitsFn,
    index: CorpusIndex,
    context_length: int,
    samples: int = 1000,
    source: str = "corpus",
    taus: float | Sequence[float] = (0.5,),
    seed: int = 0,
    target_rel_error: float | None = None,
    max_samples: int | None = None,
    token_map: np.ndarray | None = None,
    progress: Progress | None = None,
    *,
    top: int = 10,
    batch: int | None = None,
    boundary_ids: Sequence[int] | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
) -> LMArtifacts:
    """The artifact rate of a language model against its corpus index, from sampled contexts.

    :class:`ArtifactFinder` (the model, index, ``context_length``, ``taus``,
    ``token_map``, ``batch``, ``boundary_ids``) then :meth:`ArtifactFinder.run` (the
    rest); the module docstring has the rule and the sources.

    Raises
    ------
    InputError
        No samples, a bad stopping rule or seed (checked before the model is called),
        or anything :class:`ArtifactFinder` or :meth:`ArtifactFinder.source` refuses.
    """
    check_stopping(samples, target_rel_error, max_samples)
    seed_value("--seed", seed)
    finder = ArtifactFinder(logits_fn, index, context_length, taus, token_map, batch, boundary_ids)
    return finder.run(
        source, samples, seed, target_rel_error, max_samples, top, progress, confidence, n_boot
    )
