"""The sampled artifact estimate against the exact count on a model too large to enumerate quickly.

The model is the one ``completion_throughput.py`` builds (its ``prepare_model``): a seeded
attention-only ``ToyTransformer`` (n = 3, so ``V^2`` contexts) trained ``--train-steps``
full-batch steps on ``4 V`` random triples. In one run, on ``--threads`` torch threads
and one worker thread for both:

1. the exact count: :func:`artifactlab.tensor.completion.evaluate_completion` over all
   ``V^2`` contexts (its whole call, as ``artifactlab artifacts`` makes it);
2. :func:`artifactlab.tensor.estimate.estimate_artifacts` with the uniform source at each
   ``--fractions`` of the contexts, for ``--seeds`` seeds each: its relative error against
   the exact count, whether its 95% interval covered it, and the speed-up (exact seconds
   over estimate seconds, the estimate's whole call: sampling, counting, intervals);
3. for each seed, ``--target-rel-error`` from ``--target-start`` samples (cap: all the
   contexts' number): how many samples that took, and the same measures.

Example
-------
    python benchmarks/estimate.py --vocab 512 --seeds 3

The record goes to ``docs/benchmarks/estimate.json`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from _common import add_out_option, args_record, machine, write_result
from completion_throughput import make_data, model_config, prepare_model


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vocab", type=int, default=1024)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--train-steps", type=int, default=50)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0, help="data and model seed")
    p.add_argument("--taus", type=float, nargs="+", default=[0.2, 0.5])
    p.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.001, 0.0001])
    p.add_argument("--seeds", type=int, default=10, help="estimator seeds per fraction")
    p.add_argument("--target-rel-error", type=float, default=0.01)
    p.add_argument("--target-start", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    add_out_option(p, "estimate")
    return p


def measure(est, exact: dict, seconds: float, exact_seconds: float) -> dict:
    """One estimate's record: per tau its numbers against the exact count, and the speed-up."""
    per_tau = {}
    for tau in est.tau:
        truth = exact[tau]
        per_tau[f"{tau:g}"] = {
            "estimate": est.estimate[tau],
            "ci_low": est.ci_low[tau],
            "ci_high": est.ci_high[tau],
            "method": est.method[tau],
            "rel_error": (est.estimate[tau] - truth) / truth,
            "rel_half_width": est.rel_half_width[tau],
            "covered": est.ci_low[tau] <= truth <= est.ci_high[tau],
        }
    return {
        "seed": est.seed,
        "n_samples": est.n_samples,
        "stopped": est.stopped,
        "seconds": seconds,
        "speedup": exact_seconds / seconds,
        "tau": per_tau,
    }


def summarise(label: str, runs: list[dict], taus: list[float]) -> dict:
    """Across seeds: median time and speed-up, per tau the errors and the coverage."""
    row = {
        "setting": label,
        "n_samples_median": statistics.median(r["n_samples"] for r in runs),
        "seconds_median": statistics.median(r["seconds"] for r in runs),
        "speedup_median": statistics.median(r["speedup"] for r in runs),
        "tau": {},
    }
    for tau in taus:
        key = f"{tau:g}"
        errors = [abs(r["tau"][key]["rel_error"]) for r in runs]
        row["tau"][key] = {
            "mean_abs_rel_error": statistics.fmean(errors),
            "max_abs_rel_error": max(errors),
            "median_rel_half_width": statistics.median(
                r["tau"][key]["rel_half_width"] for r in runs
            ),
            "covered": sum(r["tau"][key]["covered"] for r in runs),
            "runs": len(runs),
        }
    return row


def markdown_table(rows: list[dict], taus: list[float]) -> str:
    head = ["setting", "samples", "seconds", "speed-up"]
    for tau in taus:
        head += [f"|rel. error| mean/max (tau {tau:g})", f"covered (tau {tau:g})"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in rows:
        cells = [r["setting"], f"{r['n_samples_median']:,.0f}", f"{r['seconds_median']:.3f}",
                 f"{r['speedup_median']:,.0f}x"]  # fmt: skip
        for tau in taus:
            t = r["tau"][f"{tau:g}"]
            cells += [f"{t['mean_abs_rel_error']:.2%} / {t['max_abs_rel_error']:.2%}",
                      f"{t['covered']}/{t['runs']}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    from safetensors.torch import load_file

    from artifactlab.models.toy_transformer import ToyTransformer
    from artifactlab.tensor.completion import evaluate_completion
    from artifactlab.tensor.estimate import estimate_artifacts

    started = time.perf_counter()
    info = machine() | {"torch_threads": args.threads}
    V = args.vocab
    setup = argparse.Namespace(**vars(args), skip_tl=True)
    with tempfile.TemporaryDirectory(prefix="artifactlab-bench-") as tmp:
        weights, _, train_info = prepare_model(setup, V, Path(tmp))
        model = ToyTransformer(model_config(setup, V), seed=args.seed)
        model.load_state_dict(load_file(weights))
    model.eval()
    _, D = make_data(setup, V)
    fn = model.next_token_fn()

    t0 = time.perf_counter()
    report = evaluate_completion(fn, D, taus=args.taus)
    exact_seconds = time.perf_counter() - t0
    exact = report.n_artifacts
    print(f"exact: {exact} in {exact_seconds:.2f} s over {report.n_contexts:,} contexts")

    rows, runs = [], {}
    for fraction in args.fractions:
        samples = max(1, round(fraction * report.n_contexts))
        label = f"{fraction:.2%} of contexts"
        runs[label] = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            est = estimate_artifacts(fn, D, args.taus, samples=samples, seed=seed)
            runs[label].append(measure(est, exact, time.perf_counter() - t0, exact_seconds))
        rows.append(summarise(label, runs[label], args.taus))
        print(f"{label}: {rows[-1]}")
    label = f"target rel. error {args.target_rel_error:g}"
    runs[label] = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        est = estimate_artifacts(fn, D, args.taus, samples=args.target_start, seed=seed,
                                 target_rel_error=args.target_rel_error,
                                 max_samples=report.n_contexts)  # fmt: skip
        runs[label].append(measure(est, exact, time.perf_counter() - t0, exact_seconds))
    rows.append(summarise(label, runs[label], args.taus))
    table = markdown_table(rows, args.taus)
    print(table)
    write_result(
        args.out,
        {
            "args": args_record(args),
            "machine": info,
            "model": model_config(setup, V).to_dict(),
            "train": train_info,
            "n_contexts": report.n_contexts,
            "n_train": report.n_train,
            "exact": {
                "seconds": exact_seconds,
                "n_artifacts": {f"{t:g}": c for t, c in exact.items()},
            },
            "estimator": "estimate_artifacts, uniform source, 95% intervals (Wilson at tau >= 0.5, "
            "percentile bootstrap with 2,000 resamples below)",
            "rows": rows,
            "runs": runs,
            "table_markdown": table,
        },
        started,
    )


if __name__ == "__main__":
    main()
