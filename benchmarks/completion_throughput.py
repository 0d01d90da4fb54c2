"""Completion-tensor throughput: artifactlab's streamed evaluation against two baselines.

For each vocabulary size V (tuple length n = 3, so V^2 contexts and V^3
probabilities) a seeded attention-only ``ToyTransformer`` is trained a few
full-batch steps on a random triple set (N = 4 V triples), so that its
probabilities are far from uniform and the artifact counts are not trivial.
Then, each in a fresh subprocess (so that peak RSS belongs to one method):

``artifactlab``
    :func:`artifactlab.tensor.completion.evaluate_completion` with
    ``model.next_token_fn()`` over *all* V^2 contexts (its whole call: the
    streamed artifact counts, the running top-k and the consistency pass).
``naive``
    The obvious implementation, ``count_artifacts_naive(model.forward, D, tau,
    batch=1024)``: the full forward on batches of 1024 contexts, softmax
    materialised at every position.
``transformer_lens``
    The model exported with :mod:`artifactlab.export` and run by
    TransformerLens' own forward pass on the (B, 2) token batch, batches of
    1024 contexts, full softmax, artifacts counted exactly as ``naive`` does.

The baselines may run on a prefix of the contexts (``--baseline-fraction``,
used from ``--baseline-fraction-from`` upwards): probabilities per second is a
rate, so their throughput is extrapolated from the prefix, and their artifact
counts are compared with artifactlab's count on the same prefix (an untimed
second ``evaluate_completion`` call whose logits are uniform outside the prefix).

The machine's float32 matmul rate (best of a few 4096^3 products, same thread
count) gives the fraction of peak that artifactlab's evaluation reaches, using
the FLOPs of its own work (see :func:`flops_per_context`).

Every process runs ``--threads`` torch threads (default 1, matmul rate
included): on a small machine shared with other jobs, a second OpenMP thread
makes every small op wait for a descheduled sibling, which swamps what is being
measured. Peak RSS is the worker's ``VmHWM`` (whole process, imports included);
"extra" subtracts the RSS right after the imports; the evaluation phase's own
peak is read after resetting ``VmHWM`` through ``/proc/self/clear_refs``.
Each method runs ``--repeat`` times (fresh processes, interleaved); the table
shows the fastest run, the JSON every run.

Example
-------
    python benchmarks/completion_throughput.py --vocab 256 --skip-tl --repeat 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _common import add_out_option, write_result

METHODS = ("artifactlab", "naive", "transformer_lens")
LABELS = {
    "artifactlab": "(0) artifactlab evaluate_completion",
    "naive": "(a) obvious: count_artifacts_naive",
    "transformer_lens": "(b) TransformerLens forward",
}
MiB = 1 << 20


# ---------------------------------------------------------------- shared setup


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vocab", type=int, nargs="+", default=[256, 1024, 2048])
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--repeat", type=int, default=3, help="fresh-process runs per method; best time")
    add_out_option(p, "completion_throughput")
    p.add_argument("--skip-tl", action="store_true", help="leave out the TransformerLens baseline")
    p.add_argument("--baseline-fraction", type=float, default=0.125)
    p.add_argument(
        "--baseline-fraction-from",
        type=int,
        default=2048,
        help="apply --baseline-fraction only to V >= this; smaller V run the baselines in full",
    )
    p.add_argument("--batch", type=int, default=1024, help="contexts per baseline batch")
    p.add_argument("--train-steps", type=int, default=50)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads in every process (the matmul rate uses the same)",
    )
    p.add_argument("--matmul-size", type=int, default=4096)
    p.add_argument("--matmul-repeats", type=int, default=3)
    # internal: one measurement in this (fresh) process
    p.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    p.add_argument("--model-path", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--tl-dir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--n-measure", type=int, help=argparse.SUPPRESS)
    return p


def rss() -> int:
    return psutil.Process().memory_info().rss


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    """Peak RSS of this process image (VmHWM), since exec or since :func:`reset_peak_rss`.

    Not ``ru_maxrss``: on Linux the exec'd child's ``ru_maxrss`` starts from the
    RSS its forked parent had (the parent here holds the trained models), so it
    overstates the child's own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def model_config(args: argparse.Namespace, V: int):
    from artifactlab.models.toy_transformer import ToyTransformerConfig

    return ToyTransformerConfig(V=V, n_ctx=3, d_model=args.d_model, n_heads=args.n_heads)


def make_data(args: argparse.Namespace, V: int):
    from artifactlab.data.random_triples import random_triples
    from artifactlab.tensor.data_tensor import DataTensor

    ds = random_triples(V, 4 * V, seed=args.seed)
    return ds, DataTensor.from_tuples(ds.tuples, V)


def flops_per_context(cfg) -> dict[str, int]:
    """FLOPs artifactlab's evaluation spends on one context (n_ctx - 1 = 2 tokens).

    Attention-only, no biases or layer norms (the benchmark's model). Layers
    before the last run on every position; the last layer computes its query,
    pattern, output and residual at the final position only (``last_only``),
    but keys and values at both. A multiply-add counts 2. The embedding is a
    gather (0 FLOPs). The reduction is counted as 3 FLOPs per logit (max,
    subtract-and-exp, sum).
    """
    if cfg.mlp or cfg.layer_norm or cfg.bias:
        raise ValueError("flop count written for attention-only models without biases/LN")
    m = cfg.n_ctx - 1
    d, H, qk, vo, V = cfg.d_model, cfg.n_heads, cfg.qk, cfg.vo, cfg.V
    attn = 0
    for layer in range(cfg.n_layers):
        tq = 1 if layer == cfg.n_layers - 1 else m
        if layer > 0:  # the first layer's queries, keys and values are per-token table lookups
            attn += 2 * d * H * qk * tq  # queries
            attn += 2 * d * H * qk * m  # keys
            attn += 2 * d * H * vo * m  # values
        attn += 2 * H * qk * tq * m + H * tq * m  # scores and their scale
        attn += 3 * H * tq * m  # pattern softmax (exp, sum, divide)
        attn += 2 * H * tq * m * vo  # pattern @ values
        attn += 2 * H * vo * d * tq  # W_O
        attn += d * tq  # residual add
    return {"attention": attn, "unembed": 2 * d * V, "reduction": 3 * V}


# ---------------------------------------------------------------- worker side


def prefix_logits(logits_fn, V: int, n_prefix: int):
    """``logits_fn`` on contexts numbered below ``n_prefix``; zero logits (uniform) elsewhere."""
    import torch

    def fn(ctx):
        powers = V ** torch.arange(ctx.shape[1] - 1, -1, -1, dtype=torch.int64)
        idx = (ctx * powers).sum(1)
        if int(idx.min()) >= n_prefix:
            return torch.zeros(len(ctx), V)
        out = logits_fn(ctx)
        return out.masked_fill((idx >= n_prefix)[:, None], 0.0)

    return fn


def run_worker(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    from safetensors.torch import load_file

    import artifactlab.tensor.completion as completion
    from artifactlab.models.toy_transformer import ToyTransformer
    from artifactlab.tensor.dense import count_artifacts_naive

    if args.worker == "transformer_lens":
        import transformer_lens  # noqa: F401  (counted in the import RSS)

        from artifactlab.export import load_transformer_lens
    rss_imports = rss()

    V = args.vocab[0]
    _, D = make_data(args, V)
    model = ToyTransformer(model_config(args, V), seed=args.seed)
    model.load_state_dict(load_file(args.model_path))
    model.eval()
    total = V ** (D.n - 1)
    n_measure = args.n_measure or total
    if args.worker == "transformer_lens":
        tl_model = load_transformer_lens(args.tl_dir)
    rss_setup = rss()
    peak_setup = peak_rss()  # imports, model, data (and the TransformerLens model)
    hwm_reset = reset_peak_rss()

    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if args.worker == "artifactlab":
        report = completion.evaluate_completion(model.next_token_fn(), D, taus=(args.tau,))
        count = report.n_artifacts[args.tau]
        n_measure = total
    elif args.worker == "naive":
        count = count_artifacts_naive(
            model.forward, D, args.tau, batch=args.batch, n_contexts=n_measure
        )
    else:

        def tl_forward(ctx):
            return tl_model(ctx, return_type="logits")  # (B, 2, V), TransformerLens' own forward

        count = count_artifacts_naive(
            tl_forward, D, args.tau, batch=args.batch, n_contexts=n_measure
        )
    seconds, ru1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    peak_eval = peak_rss()
    phase_peak = peak_eval if hwm_reset else None
    out = {
        "method": args.worker,
        "V": V,
        "seconds": seconds,
        "user_seconds": ru1.ru_utime - ru0.ru_utime,
        "sys_seconds": ru1.ru_stime - ru0.ru_stime,
        "minor_page_faults": ru1.ru_minflt - ru0.ru_minflt,
        "threads": torch.get_num_threads(),
        "contexts_measured": n_measure,
        "contexts_total": total,
        "probabilities_measured": n_measure * V,
        "probs_per_second": n_measure * V / seconds,
        "artifacts": count,
        "rss_after_imports": rss_imports,
        "rss_before_eval": rss_setup,
        "peak_rss": max(peak_setup, peak_eval),
        "peak_rss_setup": peak_setup,
        "peak_rss_eval_phase": phase_peak,
    }
    # untimed checks, after the peak RSS has been read
    if args.worker == "artifactlab":
        out["artifacts_observed_contexts"] = report.n_artifacts_observed_contexts[args.tau]
        out["consistency"] = report.consistency
        out["n_train"] = report.n_train
        if args.n_measure and args.n_measure < total:
            masked = prefix_logits(model.next_token_fn(), V, args.n_measure)
            pre = completion.evaluate_completion(masked, D, taus=(args.tau,), top_k=0)
            out["prefix_contexts"] = args.n_measure
            out["artifacts_prefix"] = pre.n_artifacts[args.tau]
    if args.worker == "transformer_lens":
        ctx = completion.context_block(0, min(args.batch, total), V, D.n - 1)
        with torch.inference_mode():
            diff = (tl_model(ctx, return_type="logits") - model(ctx)).abs().max()
        out["max_abs_logit_diff_vs_toy"] = float(diff)
    return out


# ---------------------------------------------------------------- parent side


def matmul_rate(size: int, repeats: int) -> float:
    """Best float32 GFLOP/s of ``size x size @ size x size`` (after one warm-up)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def prepare_model(
    args: argparse.Namespace, V: int, workdir: Path
) -> tuple[Path, Path | None, dict]:
    """Train the seeded model a few steps, save its weights, export it to TransformerLens."""
    from safetensors.torch import save_file

    from artifactlab.models.toy_transformer import ToyTransformer
    from artifactlab.train.trainer import TrainConfig, train

    ds, _ = make_data(args, V)
    model = ToyTransformer(model_config(args, V), seed=args.seed)
    result = train(
        model,
        ds.tuples,
        TrainConfig(
            max_steps=args.train_steps,
            lr=args.lr,
            loss_tol=None,
            stop_at_accuracy=False,
            seed=args.seed,
        ),
    )
    path = workdir / f"model_V{V}.safetensors"
    save_file(model.state_dict(), path)
    tl_dir = None
    if not args.skip_tl:
        from artifactlab.export import export_transformer_lens

        tl_dir = export_transformer_lens(model, list(ds.vocab.tokens), workdir / f"tl_V{V}")
    info = {
        "train_steps": result.steps,
        "train_loss": result.loss,
        "train_accuracy": result.accuracy,
        "train_seconds": result.seconds,
    }
    return path, tl_dir, info


def worker_command(
    args: argparse.Namespace,
    method: str,
    V: int,
    model_path: Path,
    tl_dir: Path | None,
    n_measure: int | None,
) -> list[str]:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--worker", method,
        "--vocab", str(V), "--d-model", str(args.d_model), "--n-heads", str(args.n_heads),
        "--tau", repr(args.tau), "--seed", str(args.seed), "--threads", str(args.threads),
        "--batch", str(args.batch), "--model-path", str(model_path),
    ]  # fmt: skip
    if tl_dir is not None:
        cmd += ["--tl-dir", str(tl_dir)]
    if n_measure is not None:
        cmd += ["--n-measure", str(n_measure)]
    return cmd


def run_one(cmd: list[str]) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"worker failed ({proc.returncode}): {' '.join(cmd)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def baseline_prefix(args: argparse.Namespace, V: int) -> int | None:
    total = V * V
    if V < args.baseline_fraction_from or args.baseline_fraction >= 1:
        return None
    n = int(total * args.baseline_fraction) // args.batch * args.batch
    return max(args.batch, n)


def summarise(args: argparse.Namespace, per_v: dict, gflops_peak: float) -> list[dict]:
    """One row per (V, method): best-time run, rates, RSS, counts, speed-ups, fraction of peak."""
    rows = []
    for V, entry in per_v.items():
        best = {
            m: min(runs, key=lambda r: r["seconds"] / r["contexts_measured"])
            for m, runs in entry["runs"].items()
        }
        cfg = model_config(args, V)
        fpc = flops_per_context(cfg)
        own = best["artifactlab"]
        ref_rate = best["naive"]["probs_per_second"] if "naive" in best else None
        for method, r in best.items():
            flops_ctx = sum(fpc.values())
            # artifactlab's own work: all V^2 contexts plus its consistency pass on the
            # observed contexts; for the baselines the same useful work per context
            n_ctx = r["contexts_measured"]
            if method == "artifactlab":
                n_ctx += entry["n_observed_contexts"]
            gflops = flops_ctx * n_ctx / r["seconds"] / 1e9
            rows.append({
                "V": V,
                "method": method,
                "seconds": r["seconds"],
                "user_seconds": r["user_seconds"],
                "sys_seconds": r["sys_seconds"],
                "minor_page_faults": r["minor_page_faults"],
                "fraction_measured": r["contexts_measured"] / r["contexts_total"],
                "seconds_full_extrapolated": r["contexts_total"] * V / r["probs_per_second"],
                "mprobs_per_second": r["probs_per_second"] / 1e6,
                "peak_rss_mib": r["peak_rss"] / MiB,
                "extra_rss_over_imports_mib": (r["peak_rss"] - r["rss_after_imports"]) / MiB,
                "extra_rss_eval_phase_mib": (
                    (r["peak_rss_eval_phase"] - r["rss_before_eval"]) / MiB
                    if r["peak_rss_eval_phase"] is not None else None
                ),
                "artifacts": r["artifacts"],
                "artifacts_prefix_artifactlab": own.get("artifacts_prefix"),
                "count_diff_vs_artifactlab": r["artifacts"] - (
                    own["artifacts"] if r["contexts_measured"] == r["contexts_total"]
                    else own.get("artifacts_prefix", own["artifacts"])
                ),
                "speedup_of_artifactlab_vs_this": own["probs_per_second"] / r["probs_per_second"],
                "speedup_vs_obvious": (r["probs_per_second"] / ref_rate) if ref_rate else None,
                "gflops": gflops,
                "fraction_of_matmul_rate": gflops / gflops_peak,
                "max_abs_logit_diff_vs_toy": r.get("max_abs_logit_diff_vs_toy"),
                "runs_seconds": [x["seconds"] for x in entry["runs"][method]],
                "runs_sys_seconds": [x["sys_seconds"] for x in entry["runs"][method]],
                "median_mprobs_per_second": statistics.median(
                    x["probs_per_second"] / 1e6 for x in entry["runs"][method]
                ),
            })  # fmt: skip
    return rows


def markdown_table(rows: list[dict]) -> str:
    head = (
        "| V | method | seconds | M probabilities/s | peak RSS (MiB) | extra RSS over imports "
        "(MiB) | extra RSS in eval phase (MiB) | artifacts counted | speed-up vs obvious | "
        "(0) speed-up vs this | fraction of matmul rate |\n" + "|---" * 11 + "|"
    )
    lines = [head]
    for r in rows:
        secs = f"{r['seconds']:.2f}"
        if r["fraction_measured"] < 1:
            secs += (
                f" on {r['fraction_measured']:.1%} of contexts "
                f"(≈{r['seconds_full_extrapolated']:.3g} s for all, extrapolated)"
            )
        count = f"{r['artifacts']:,}"
        if r["fraction_measured"] < 1:
            count += " (prefix)"
        elif r["method"] == "artifactlab" and r["artifacts_prefix_artifactlab"] is not None:
            count += f" (prefix: {r['artifacts_prefix_artifactlab']:,})"
        if r["method"] != "artifactlab":
            count += f", diff {r['count_diff_vs_artifactlab']:+d}"
        phase = r["extra_rss_eval_phase_mib"]
        speed = r["speedup_vs_obvious"]
        lines.append(
            f"| {r['V']} | {LABELS[r['method']]} | {secs} | {r['mprobs_per_second']:.1f} | "
            f"{r['peak_rss_mib']:.0f} | {r['extra_rss_over_imports_mib']:.0f} | "
            f"{'n/a' if phase is None else f'{phase:.0f}'} | {count} | "
            f"{'n/a' if speed is None else f'{speed:.2f}x'} | "
            f"{r['speedup_of_artifactlab_vs_this']:.2f}x | {r['fraction_of_matmul_rate']:.3f} |"
        )
    return "\n".join(lines)


def machine_info(threads: int) -> dict:
    import torch

    model = platform.processor()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "torch": torch.__version__,
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def run_parent(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    methods = [m for m in METHODS if not (args.skip_tl and m == "transformer_lens")]
    started = time.perf_counter()
    info = machine_info(args.threads)
    print(f"machine: {info}", file=sys.stderr)
    rates = [matmul_rate(args.matmul_size, args.matmul_repeats)]
    print(f"matmul rate: {rates[0]:.1f} GFLOP/s", file=sys.stderr)
    per_v: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="artifactlab-bench-") as tmp:
        for V in args.vocab:
            model_path, tl_dir, train_info = prepare_model(args, V, Path(tmp))
            _, D = make_data(args, V)
            prefix = baseline_prefix(args, V)
            entry = {
                "train": train_info,
                "n_train": D.nnz,
                "n_observed_contexts": len(D.contexts),
                "baseline_prefix_contexts": prefix,
                "runs": {m: [] for m in methods},
            }
            per_v[V] = entry
            print(f"V={V}: trained {train_info}", file=sys.stderr)
            for rep in range(args.repeat):
                for method in methods:  # interleaved, so that drifting load hits all alike
                    n_measure = prefix
                    cmd = worker_command(args, method, V, model_path, tl_dir, n_measure)
                    result = run_one(cmd)
                    entry["runs"][method].append(result)
                    print(
                        f"V={V} rep={rep} {method}: {result['seconds']:.2f}s "
                        f"({result['contexts_measured']}/{result['contexts_total']} contexts), "
                        f"{result['probs_per_second'] / 1e6:.1f} Mprob/s, "
                        f"peak {result['peak_rss'] / MiB:.0f} MiB, artifacts {result['artifacts']}",
                        file=sys.stderr,
                    )
    rates.append(matmul_rate(args.matmul_size, args.matmul_repeats))
    peak = max(rates)
    rows = summarise(args, per_v, peak)
    table = markdown_table(rows)
    print(table)
    cfg = model_config(args, args.vocab[0])
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": info,
        "matmul_gflops": {"runs": rates, "best": peak, "size": args.matmul_size},
        "flops_per_context": {V: flops_per_context(model_config(args, V)) for V in args.vocab},
        "model": {k: v for k, v in cfg.to_dict().items() if k != "V"},
        "per_vocab": {
            V: {k: v for k, v in e.items() if k != "runs"} | {"runs": e["runs"]}
            for V, e in per_v.items()
        },
        "rows": rows,
        "table_markdown": table,
    }
    write_result(args.out, result, started)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(args)))
    else:
        run_parent(args)


if __name__ == "__main__":
    main()
