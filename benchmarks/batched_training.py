"""Training many seeds: ``train`` one model after another against one ``train_batched`` call.

The paper's figure-2 setting: ``--seeds`` models ``ToyTransformer(V=128, n_ctx=3,
d_model=64, n_heads=4)`` (seed s), each on its own ``random_triples(V=128, N=1000,
seed=s)``, trained as the fig2 sweep trains (Adam, lr 1e-2, full batch, stop when the
train loss is under 0.01 nats, at most 3000 steps). Both methods start from the same
initial weights (deep copies) and run in this process with ``--threads`` torch threads,
interleaved ``--repeat`` times; the table shows the fastest run of each and the ratio of
the two. It also checks that they trained alike: steps and stop reasons per seed, the
largest absolute weight difference, and the largest loss difference.

Example
-------
    python benchmarks/batched_training.py --seeds 8 --steps 200 --repeat 1
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from _common import add_run_options, write_result

from artifactlab.data import random_triples
from artifactlab.models import ToyTransformer, ToyTransformerConfig
from artifactlab.train import TrainConfig, train, train_batched

#: the paper's training, as in the fig2 sweep file (experiments/sweeps/fig2.yaml): Adam, full
#: batch, until the mean train loss is under 0.01 nats, at most 3000 updates
PAPER_TRAINING = TrainConfig(lr=1e-2, max_steps=3000, loss_tol=0.01, stop_at_accuracy=False)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=32, help="models (seeds 0..seeds-1)")
    p.add_argument("--vocab", type=int, default=128)
    p.add_argument("--n-train", type=int, default=1000, help="triples per model")
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--steps", type=int, default=PAPER_TRAINING.max_steps, help="max_steps")
    p.add_argument("--lr", type=float, default=PAPER_TRAINING.lr)
    p.add_argument("--loss-tol", type=float, default=PAPER_TRAINING.loss_tol)
    add_run_options(p, "batched_training")
    return p


def setup(args: argparse.Namespace):
    cfg = ToyTransformerConfig(V=args.vocab, n_ctx=3, d_model=args.d_model, n_heads=args.n_heads)
    models = [ToyTransformer(cfg, seed=s) for s in range(args.seeds)]
    datasets = [
        random_triples(V=args.vocab, N=args.n_train, seed=s).tuples for s in range(args.seeds)
    ]
    train_cfg = replace(PAPER_TRAINING, lr=args.lr, max_steps=args.steps, loss_tol=args.loss_tol)
    return models, datasets, [replace(train_cfg, seed=s) for s in range(args.seeds)]


def timed(fn) -> tuple[object, float, float]:
    """Result, wall seconds and CPU (user + system) seconds of ``fn()``."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    out = fn()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return out, wall, cpu


def run_sequential(models, datasets, cfgs):
    return [train(m, d, c) for m, d, c in zip(models, datasets, cfgs, strict=True)]


def compare(models_a, results_a, models_b, results_b) -> dict:
    """How alike two trainings of the same members ended."""
    weight_diff = max(
        (p - q).abs().max().item()
        for ma, mb in zip(models_a, models_b, strict=True)
        for p, q in zip(ma.parameters(), mb.parameters(), strict=True)
    )
    steps_a, steps_b = [r.steps for r in results_a], [r.steps for r in results_b]
    return {
        "steps_agree": steps_a == steps_b,
        "stop_reasons_agree": [r.stop_reason for r in results_a]
        == [r.stop_reason for r in results_b],
        "max_abs_weight_diff": weight_diff,
        "max_abs_loss_diff": max(
            abs(a.loss - b.loss) for a, b in zip(results_a, results_b, strict=True)
        ),
        "steps_sequential": steps_a,
        "steps_batched": steps_b,
        "step_diffs": [b - a for a, b in zip(steps_a, steps_b, strict=True) if a != b],
    }


def machine_info(threads: int) -> dict:
    return {
        "nproc": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def warm_up(args: argparse.Namespace) -> None:
    """One short run of each path, so that neither pays first-call costs in the timing."""
    small = argparse.Namespace(**{**vars(args), "seeds": 2, "steps": 2})
    models, datasets, cfgs = setup(small)
    run_sequential(copy.deepcopy(models), datasets, cfgs)
    train_batched(models, datasets, cfgs)


def markdown_table(best: dict, seeds: int) -> str:
    seq, bat = best["sequential"], best["batched"]
    lines = [
        "| method | wall seconds | CPU seconds | seconds per model | speed-up |",
        "|---|---|---|---|---|",
        f"| sequential `train`, one model after another | {seq['wall']:.2f} | {seq['cpu']:.2f} "
        f"| {seq['wall'] / seeds:.3f} | 1.00x |",
        f"| `train_batched`, all {seeds} at once | {bat['wall']:.2f} | {bat['cpu']:.2f} "
        f"| {bat['wall'] / seeds:.3f} | **{seq['wall'] / bat['wall']:.2f}x** |",
    ]
    return "\n".join(lines)


def measure(args: argparse.Namespace) -> tuple[dict, dict]:
    """Interleaved timed runs of both methods; the last runs' comparison."""
    models, datasets, cfgs = setup(args)
    runs: dict[str, list[dict]] = {"sequential": [], "batched": []}
    for rep in range(args.repeat):  # interleaved, so that drifting load hits both alike
        seq_models, bat_models = copy.deepcopy(models), copy.deepcopy(models)
        seq, wall, cpu = timed(lambda m=seq_models: run_sequential(m, datasets, cfgs))
        runs["sequential"].append({"wall": wall, "cpu": cpu})
        bat, wall_b, cpu_b = timed(lambda m=bat_models: train_batched(m, datasets, cfgs))
        runs["batched"].append({"wall": wall_b, "cpu": cpu_b})
        print(
            f"rep {rep}: sequential {wall:.2f} s, batched {wall_b:.2f} s, "
            f"ratio {wall / wall_b:.2f}x, load {os.getloadavg()[0]:.2f}",
            file=sys.stderr,
        )
    return runs, compare(seq_models, seq, bat_models, bat)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    info = machine_info(args.threads)
    print(f"machine: {info}", file=sys.stderr)
    warm_up(args)
    runs, check = measure(args)
    best = {k: min(v, key=lambda r: r["wall"]) for k, v in runs.items()}
    ratios = [
        s["wall"] / b["wall"] for s, b in zip(runs["sequential"], runs["batched"], strict=True)
    ]
    table = markdown_table(best, args.seeds)
    steps = sorted(check["steps_sequential"])
    print(table)
    print(f"\nper-run ratios (each pair back to back): {', '.join(f'{r:.2f}x' for r in ratios)}")
    print(
        f"steps agree: {check['steps_agree']} (differences: {check['step_diffs']}), "
        f"stop reasons agree: {check['stop_reasons_agree']}, "
        f"max |weight diff| {check['max_abs_weight_diff']:.2e}, "
        f"max |loss diff| {check['max_abs_loss_diff']:.2e}, "
        f"steps min/median/max {steps[0]}/{steps[len(steps) // 2]}/{steps[-1]}"
    )
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": info,
        "runs": runs,
        "best": best,
        "speedup": best["sequential"]["wall"] / best["batched"]["wall"],
        "per_run_ratios": ratios,
        "check": check,
        "table_markdown": table,
    }
    write_result(args.out, result, started)


if __name__ == "__main__":
    main()
