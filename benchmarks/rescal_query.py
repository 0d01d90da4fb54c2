"""RESCAL's query grouped by relation against the per-context gather, on Kinships.

``RESCAL.query`` computes ``e_h^T W_r`` for a batch of contexts. The obvious form gathers
one (rank, rank) matrix per context (``W_rel[relations]``, B x rank^2 floats) and scatters
its gradient back; the grouped form sorts the contexts by relation and makes one
``(n_r, rank) @ (rank, rank)`` product per relation present. This script trains the
``compare`` preset (rank 32, full batch, Adam) on Kinships' 8,544 training triples for
``--steps`` steps both ways, interleaved, and reports the best wall time of each:

- ``sequential``: one model, :func:`artifactlab.train.train`;
- ``batched``: ``--seeds`` models as one :func:`artifactlab.train.train_batched` stack on
  the same data (the way ``compare`` trains the seeds of a model).

The gather runs by replacing ``RESCAL.query`` with the formula for the whole script run;
both sides start from the same weights and must end within float rounding of each other.

Example
-------
    python benchmarks/rescal_query.py --steps 50 --repeat 2

The record goes to ``docs/benchmarks/rescal_query.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from _common import add_run_options, args_record, machine, write_result

from artifactlab.data.kg import load_kg
from artifactlab.models import RESCAL, FactorizationConfig
from artifactlab.train import TrainConfig, train, train_batched


def gather_query(self: RESCAL, heads: torch.Tensor, relations: torch.Tensor) -> torch.Tensor:
    """The per-context gather: one (rank, rank) matrix per context."""
    return torch.einsum("bi,bij->bj", self.W_ent[heads], self.W_rel[relations])


def run(models: list[RESCAL], data, cfg: TrainConfig, grouped: bool) -> tuple[float, list]:
    """Train copies of ``models`` (one: sequential; more: batched); (seconds, copies)."""
    copies = [copy.deepcopy(m) for m in models]
    grouped_query = RESCAL.query
    if not grouped:
        RESCAL.query = gather_query  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        if len(copies) == 1:
            train(copies[0], data, cfg)
        else:
            train_batched(copies, [data] * len(copies), [cfg] * len(copies))
        return time.perf_counter() - start, copies
    finally:
        RESCAL.query = grouped_query  # type: ignore[method-assign]


def main() -> None:
    """Parse options, time both forms both ways, check they agree, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per run")
    parser.add_argument("--seeds", type=int, default=3, help="members of the batched stack")
    add_run_options(parser, "rescal_query")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started, info = time.perf_counter(), machine()
    kg = load_kg("kinships")
    data = kg.train.tuples
    cfg = TrainConfig(lr=0.01, max_steps=args.steps, loss_tol=None, log_every=args.steps)
    model_cfg = FactorizationConfig(V=kg.train.vocab.V, rank=32)
    stacks = {"sequential": [RESCAL(model_cfg, seed=0)],
              "batched": [RESCAL(model_cfg, seed=s) for s in range(args.seeds)]}  # fmt: skip
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for how, models in stacks.items():
            ends = {}
            for grouped in (False, True):
                key = f"{how}_{'grouped' if grouped else 'gather'}"
                seconds, ends[grouped] = run(models, data, cfg, grouped)
                best[key] = min(best.get(key, float("inf")), seconds)
            for a, b in zip(ends[False], ends[True], strict=True):
                torch.testing.assert_close(a.W_rel, b.W_rel, rtol=1e-3, atol=1e-4)
    result = {
        "args": args_record(args),
        "machine": info,
        "steps": args.steps,
        "seeds": args.seeds,
        "threads": args.threads,
        "n_train": len(data),
        "V": model_cfg.V,
        "best_seconds": best,
        "speedup": {how: best[f"{how}_gather"] / best[f"{how}_grouped"] for how in stacks},
    }
    for how in stacks:
        print(
            f"{how:>10}: gather {best[f'{how}_gather']:.2f} s, grouped "
            f"{best[f'{how}_grouped']:.2f} s ({result['speedup'][how]:.2f}x) for {args.steps} steps"
        )
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
