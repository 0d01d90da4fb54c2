"""PyKEEN against artifactlab on Nations: DistMult and ComplEx, same shape, epochs and optimiser.

For each model, both libraries train the same architecture at the same rank (``--dim``;
complex dimensions for ComplEx on both sides), from their own default initialisation,
with Adam at one learning rate and no regularisation:

- **PyKEEN** (``LCWATrainingLoop``, ``CrossEntropyLoss``, tail target): each training
  instance is a distinct ``(h, r)`` pair of the training set (471 on Nations) with a
  multi-hot label over the 14 entities, normalised to sum to 1; softmax cross-entropy over
  the entities; ``--batch-size`` pairs per update, so ``ceil(471 / batch)`` updates an epoch.
  DistMult's default entity constrainer (unit norm after each update) and relation
  regulariser are switched off, and so is ComplEx's regulariser.
- **artifactlab** (:func:`artifactlab.train.train`, mode ``last``): each training
  instance is one triple (1592), with softmax cross-entropy over the whole vocabulary
  (14 entities and 55 relations) at the tail. The batch is ``floor(1592 / u)`` triples
  where ``u`` is PyKEEN's updates per epoch, and ``max_steps`` is ``epochs * u``: both
  sides make the same number of updates and see each training triple about once an epoch
  (exactly with the defaults: u = 8 batches of 199 triples, 8 x 199 = 1592).

Both trained models are scored by the same two evaluators, tail prediction on the test
split, filtered by train + valid + test, realistic ranks: artifactlab's
:func:`~artifactlab.tensor.linkpred.filtered_ranks` (PyKEEN's model through a wrapper of
``score_t`` on PyKEEN's ids) and PyKEEN's ``RankBasedEvaluator`` (its own ``evaluate``
for its model; the same filter-and-rank steps on artifactlab's logits). Training wall
times are the best of ``--repeat`` interleaved runs in this process.

Example
-------
    python benchmarks/pykeen_nations.py --epochs 20 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pykeen
import torch
from _common import add_run_options, default_out, write_result
from pykeen.datasets import Nations
from pykeen.evaluation import RankBasedEvaluator
from pykeen.evaluation.evaluator import create_sparse_positive_filter_, filter_scores_
from pykeen.losses import CrossEntropyLoss
from pykeen.models import ComplEx, DistMult
from pykeen.training import LCWATrainingLoop
from pykeen.utils import set_random_seed

from artifactlab.data.kg import entity_ids, known_triples, load_kg
from artifactlab.models import MODELS, FactorizationConfig
from artifactlab.tensor.linkpred import filtered_ranks, link_prediction_metrics
from artifactlab.train import TrainConfig, train

METRICS = ("mrr", "hits@1", "hits@3", "hits@10")
#: PyKEEN's metric names for ours (tail side, realistic ranks)
PYKEEN_METRICS = {
    "mrr": "tail.realistic.inverse_harmonic_mean_rank",
    "hits@1": "tail.realistic.hits_at_1",
    "hits@3": "tail.realistic.hits_at_3",
    "hits@10": "tail.realistic.hits_at_10",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["distmult", "complex"])
    p.add_argument("--dim", type=int, default=32, help="rank (complex dimensions for ComplEx)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64, help="PyKEEN's (h, r) pairs per update")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate, both sides")
    p.add_argument("--seed", type=int, default=0)
    add_run_options(p, "pykeen_nations")
    # one record per seed: docs/benchmarks/pykeen_nations_seedS.json unless --out is given
    p.set_defaults(out=None)
    return p


class GcTimer:
    """Adds up the time spent in ``gc.collect`` calls while active; the calls are unchanged.

    PyKEEN's training loop calls ``gc.collect()`` after every epoch; artifactlab never does.
    """

    def __enter__(self) -> GcTimer:
        self.seconds, self._collect = 0.0, gc.collect
        gc.collect = self._timed_collect
        return self

    def _timed_collect(self, *args, **kwargs) -> int:
        t0 = time.perf_counter()
        try:
            return self._collect(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    def __exit__(self, *exc) -> None:
        gc.collect = self._collect


def timed(fn: Callable[[], object]) -> tuple[object, dict]:
    """Result of ``fn()``, and its wall, CPU (user + system) and ``gc.collect`` seconds."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with GcTimer() as gc_time:
        out = fn()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return out, {"wall": wall, "cpu": cpu, "gc": gc_time.seconds}


# ---------------------------------------------------------------- the two datasets


class Data:
    """Nations as both libraries load it, and the id maps between them."""

    def __init__(self) -> None:
        self.ours = load_kg("nations")
        self.pk = Nations()
        tokens = self.ours.train.vocab.tokens
        ent, rel = self.pk.training.entity_to_id, self.pk.training.relation_to_id
        V = len(tokens)
        # our token id -> PyKEEN entity / relation id (-1 where the token is not one)
        self.to_pk_ent = torch.tensor([ent.get(t, -1) for t in tokens])  # (V,)
        self.to_pk_rel = torch.tensor([rel.get(t, -1) for t in tokens])  # (V,)
        # PyKEEN id -> our token id
        self.from_pk_ent = torch.tensor([tokens.index(e) for e in sorted(ent, key=ent.get)])
        self.from_pk_rel = torch.tensor([tokens.index(r) for r in sorted(rel, key=rel.get)])
        self.V, self.known, self.candidates = V, known_triples(self.ours), entity_ids(self.ours)
        self._check_same_triples()

    def to_ours(self, mapped: torch.Tensor) -> np.ndarray:
        """PyKEEN's (M, 3) id triples in our ids."""
        h, r, t = mapped.unbind(1)
        ids = [self.from_pk_ent[h], self.from_pk_rel[r], self.from_pk_ent[t]]
        return torch.stack(ids, 1).numpy()

    def _check_same_triples(self) -> None:
        """Both libraries read the same files: the same triples in every split."""
        pairs = [
            (self.ours.train.tuples, self.pk.training),
            (self.ours.valid, self.pk.validation),
            (self.ours.test, self.pk.testing),
        ]
        for ours, theirs in pairs:
            a = np.unique(ours, axis=0)
            b = np.unique(self.to_ours(theirs.mapped_triples), axis=0)
            if len(ours) != theirs.num_triples or not np.array_equal(a, b):
                raise SystemExit("artifactlab and PyKEEN read different Nations triples")

    def updates_per_epoch(self, batch_size: int) -> int:
        """PyKEEN LCWA's batches per epoch: distinct training (h, r) pairs / batch, rounded up."""
        pairs = np.unique(self.ours.train.tuples[:, :2], axis=0)
        return math.ceil(len(pairs) / batch_size)


# ---------------------------------------------------------------- the two trainings


def pykeen_model(name: str, data: Data, args: argparse.Namespace) -> torch.nn.Module:
    tf, loss = data.pk.training, CrossEntropyLoss()
    if name == "distmult":
        return DistMult(
            triples_factory=tf, embedding_dim=args.dim, loss=loss,
            entity_constrainer=None, regularizer=None, random_seed=args.seed,
        )  # fmt: skip
    if name == "complex":
        return ComplEx(
            triples_factory=tf, embedding_dim=args.dim, loss=loss, regularizer=None,
            random_seed=args.seed,
        )  # fmt: skip
    raise SystemExit(f"no PyKEEN counterpart for {name!r}: choose distmult or complex")


def train_pykeen(name: str, data: Data, args: argparse.Namespace, epochs: int) -> torch.nn.Module:
    """PyKEEN's model trained by its LCWA loop (weights reset from the seed inside ``train``)."""
    model = pykeen_model(name, data, args)
    loop = LCWATrainingLoop(
        model=model, triples_factory=data.pk.training, automatic_memory_optimization=False,
        optimizer=torch.optim.Adam(model.get_grad_params(), lr=args.lr),
    )  # fmt: skip
    set_random_seed(args.seed)  # the weight reset and the shuffling draw from the global RNG
    loop.train(
        triples_factory=data.pk.training, num_epochs=epochs, batch_size=args.batch_size,
        use_tqdm=False, pin_memory=False, num_workers=0,
    )  # fmt: skip
    return model.eval()


def our_config(data: Data, args: argparse.Namespace, epochs: int) -> TrainConfig:
    """As many updates per epoch as PyKEEN's, each on an equal share of the triples."""
    u = data.updates_per_epoch(args.batch_size)
    batch = len(data.ours.train.tuples) // u
    return TrainConfig(
        lr=args.lr, max_steps=epochs * u, batch_size=batch, loss_tol=None, seed=args.seed
    )


def train_ours(name: str, data: Data, args: argparse.Namespace, epochs: int) -> torch.nn.Module:
    model = MODELS[name][1](FactorizationConfig(V=data.V, rank=args.dim), seed=args.seed)
    train(model, data.ours.train.tuples, our_config(data, args, epochs))
    return model


TRAINERS = {"pykeen": train_pykeen, "artifactlab": train_ours}


# ---------------------------------------------------------------- one evaluation for both


def pykeen_logits_fn(model: torch.nn.Module, data: Data) -> Callable[[torch.Tensor], torch.Tensor]:
    """PyKEEN's ``score_t`` as next-token logits over our vocabulary (non-entities -inf)."""

    def logits(contexts: torch.Tensor) -> torch.Tensor:  # (B, 2) our ids -> (B, V)
        hr = torch.stack([data.to_pk_ent[contexts[:, 0]], data.to_pk_rel[contexts[:, 1]]], 1)
        scores = model.score_t(hr)  # (B, E) in PyKEEN's entity order
        out = scores.new_full((len(contexts), data.V), -math.inf)
        out[:, data.from_pk_ent] = scores
        return out

    return logits


def our_scores_fn(model: torch.nn.Module, data: Data) -> Callable[[torch.Tensor], torch.Tensor]:
    """Our logits as PyKEEN tail scores: (B, 2) PyKEEN (h, r) -> (B, E) in PyKEEN's order."""
    logits_fn = model.next_token_fn()

    def scores(hr: torch.Tensor) -> torch.Tensor:
        ctx = torch.stack([data.from_pk_ent[hr[:, 0]], data.from_pk_rel[hr[:, 1]]], 1)
        return logits_fn(ctx)[:, data.from_pk_ent]

    return scores


def metrics_ours(logits_fn: Callable[[torch.Tensor], torch.Tensor], data: Data) -> dict:
    ranks = filtered_ranks(logits_fn, data.ours.test, data.known, data.candidates)
    return link_prediction_metrics(ranks)


def metrics_pykeen_scores(scores_fn: Callable[[torch.Tensor], torch.Tensor], data: Data) -> dict:
    """PyKEEN's ``RankBasedEvaluator`` on given tail scores, filtered as its ``evaluate`` does."""
    test = data.pk.testing.mapped_triples
    every = [data.pk.training, data.pk.validation, data.pk.testing]
    all_pos = torch.cat([f.mapped_triples for f in every])
    positive_filter, _ = create_sparse_positive_filter_(
        hrt_batch=test, all_pos_triples=all_pos, filter_col=2
    )
    rows = torch.arange(len(test))
    with torch.no_grad():
        scores = scores_fn(test[:, :2])  # (M, E)
    true = scores[rows, test[:, 2]]
    scores = filter_scores_(scores=scores, filter_batch=positive_filter)
    scores[rows, test[:, 2]] = true
    evaluator = RankBasedEvaluator(filtered=True)
    evaluator.process_scores_(
        hrt_batch=test, target="tail", scores=scores, true_scores=true[:, None]
    )
    return _pykeen_dict(evaluator.finalize())


def metrics_pykeen_evaluate(model: torch.nn.Module, data: Data) -> dict:
    """PyKEEN's own ``RankBasedEvaluator.evaluate`` (tail side) on PyKEEN's model."""
    result = RankBasedEvaluator(filtered=True).evaluate(
        model, data.pk.testing.mapped_triples, batch_size=256, use_tqdm=False, targets=["tail"],
        additional_filter_triples=[data.pk.training.mapped_triples,
                                   data.pk.validation.mapped_triples],
    )  # fmt: skip
    return _pykeen_dict(result)


def _pykeen_dict(result) -> dict:
    return {k: float(result.get_metric(v)) for k, v in PYKEEN_METRICS.items()}


def evaluate(side: str, model: torch.nn.Module, data: Data) -> dict:
    """Both evaluators on one trained model: ``ours`` and ``pykeen`` metric dicts."""
    if side == "pykeen":
        return {
            "ours": metrics_ours(pykeen_logits_fn(model, data), data),
            "pykeen": metrics_pykeen_evaluate(model, data),
        }
    return {
        "ours": metrics_ours(model.next_token_fn(), data),
        "pykeen": metrics_pykeen_scores(our_scores_fn(model, data), data),
    }


# ---------------------------------------------------------------- runs and report


def measure(name: str, data: Data, args: argparse.Namespace) -> dict:
    """Interleaved timed trainings of both sides; the metrics of each side's last model."""
    for trainer in TRAINERS.values():  # warm-up: first-call costs stay out of the timing
        trainer(name, data, args, 1)
    runs: dict[str, list[dict]] = {side: [] for side in TRAINERS}
    seen: dict[str, list[dict]] = {side: [] for side in TRAINERS}
    for rep in range(args.repeat):
        for side, trainer in TRAINERS.items():
            model, times = timed(lambda t=trainer: t(name, data, args, args.epochs))
            runs[side].append(times)
            seen[side].append(evaluate(side, model, data))
        print(
            f"{name} rep {rep}: pykeen {runs['pykeen'][-1]['wall']:.2f} s, "
            f"artifactlab {runs['artifactlab'][-1]['wall']:.2f} s, "
            f"load {os.getloadavg()[0]:.2f}",
            file=sys.stderr,
        )
    deterministic = {s: all(m == seen[s][0] for m in seen[s]) for s in TRAINERS}
    return {"runs": runs, "metrics": {s: seen[s][-1] for s in TRAINERS}, "same": deterministic}


def markdown_table(results: dict[str, dict]) -> str:
    lines = [
        "| model | library | wall s (best) | CPU s | of which gc.collect s | speed-up over PyKEEN "
        "| MRR | Hits@1 | Hits@3 | Hits@10 | MRR by PyKEEN's evaluator |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        best = {s: min(r, key=lambda x: x["wall"]) for s, r in res["runs"].items()}
        for side in TRAINERS:
            m, pk = res["metrics"][side]["ours"], res["metrics"][side]["pykeen"]
            b = best[side]
            lines.append(
                f"| {name} | {side} | {b['wall']:.2f} | {b['cpu']:.2f} | {b['gc']:.2f} "
                f"| {best['pykeen']['wall'] / b['wall']:.1f}x | "
                + " | ".join(f"{m[k]:.3f}" for k in METRICS)
                + f" | {pk['mrr']:.3f} |"
            )
    return "\n".join(lines)


def machine_info(threads: int) -> dict:
    return {
        "nproc": os.cpu_count(),
        "torch": torch.__version__,
        "pykeen": pykeen.get_version(),
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.out = args.out or default_out(f"pykeen_nations_seed{args.seed}")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", module="pykeen")
    started, info = time.perf_counter(), machine_info(args.threads)
    print(f"machine: {info}", file=sys.stderr)
    data = Data()
    cfg = our_config(data, args, args.epochs)
    print(
        f"{args.epochs} epochs of {data.updates_per_epoch(args.batch_size)} updates: PyKEEN "
        f"{args.batch_size} (h, r) pairs per batch, artifactlab {cfg.batch_size} triples "
        f"({cfg.max_steps} updates)"
    )
    results = {name: measure(name, data, args) for name in args.models}
    table = markdown_table(results)
    print(table)
    for name, res in results.items():
        walls = {s: [f"{r['wall']:.2f}" for r in runs] for s, runs in res["runs"].items()}
        diff = {
            s: max(abs(m["ours"][k] - m["pykeen"][k]) for k in METRICS)
            for s, m in res["metrics"].items()
        }
        print(
            f"{name}: wall seconds per run {walls}; metrics the same in every run "
            f"{res['same']}; largest |our evaluator - PyKEEN's| {diff}"
        )
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "our_train_config": cfg.to_dict(),
        "machine": info,
        "results": results,
        "table_markdown": table,
    }
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
