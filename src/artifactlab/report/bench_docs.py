"""Renderers of BENCHMARKS.md's blocks, from the records the scripts write to ``docs/benchmarks/``.

Every script in ``benchmarks/`` writes ``docs/benchmarks/NAME.json`` (command, options,
machine, provenance, load average and numbers); these renderers turn those records into
the tables and run notes of BENCHMARKS.md and register themselves in
:data:`artifactlab.report.docs.RENDERERS`.

Example
-------
>>> print(normalise_command("python rescal_query.py --steps 50 --out /tmp/x.json"))
python benchmarks/rescal_query.py --steps 50
>>> "bench-run" in RENDERERS
True
"""

from __future__ import annotations

import shlex
import statistics
from pathlib import Path

from artifactlab.report.docs import (
    RENDERERS,
    fmt_int,
    read_json,
    renderer,
    source_files,
    table,
)

__all__ = ["RENDERERS", "DOCUMENTED", "normalise_command"]

#: the settings BENCHMARKS.md documents for each benchmark; a record run otherwise says so
DOCUMENTED: dict[str, dict] = {
    "completion_throughput": {"vocab": [256, 1024, 2048], "repeat": 3, "threads": 1},
    "batched_training": {"seeds": 32, "repeat": 5, "threads": 2, "steps": 3000},
    "hull_speed": {"ref_n": 5, "hard_n": 40},
    "rescal_query": {"steps": 50, "repeat": 3, "threads": 1},
    "pykeen_nations": {"epochs": 100, "repeat": 3, "threads": 2},
}
LABELS = {
    "artifactlab": "(0) artifactlab",
    "naive": "(a) obvious",
    "transformer_lens": "(b) TransformerLens",
}


def normalise_command(command: str) -> str:
    """The record's command as run from the repository root, without ``--out``."""
    words = shlex.split(command)
    if len(words) > 1 and words[1].endswith(".py"):
        words[1] = f"benchmarks/{Path(words[1]).name}"
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w == "--out":
            skip = True
        elif not w.startswith("--out="):
            out.append(w)
    return " ".join(shlex.quote(w) for w in out)


def _load(a: list[float] | None) -> str:
    return "unknown" if not a else f"{a[0]:.1f}"


@renderer("bench-run")
def bench_run(root: str | Path, path: str) -> str:
    """How a record was made: command, settings against the documented ones, machine, load."""
    files = source_files(Path(root), path)
    recs = [read_json(f) for f in files]
    r = recs[0]
    name = files[0].stem.split("_seed")[0]
    m, prov = r.get("machine", {}), r.get("provenance") or {}
    lines = [
        f"Command: `{normalise_command(r['command'])}`"
        + (" (and the other seeds' records)" if len(recs) > 1 else "")
        + "."
    ]
    documented = DOCUMENTED.get(name, {})
    reduced = [
        f"`--{k.replace('_', '-')} {_value(r['args'].get(k))}` (documented: {_value(v)})"
        for k, v in documented.items()
        if k in r.get("args", {}) and r["args"][k] != v
    ]
    if reduced:
        lines.append("Run at settings other than the documented ones: " + ", ".join(reduced) + ".")
    seconds = sum(x.get("total_seconds", 0.0) for x in recs)
    lines.append(
        f"It took {seconds:.0f} s; load average {_load(m.get('load_average_at_start'))} at "
        f"the start and {_load(r.get('load_average_at_end'))} at the end (1-minute)."
    )
    machine = ", ".join(
        x
        for x in (
            f"{m['nproc']} cores" if "nproc" in m else "",
            m.get("cpu_model", ""),
            f"torch {m['torch']} ({m.get('cpu_capability', '?')})" if "torch" in m else "",
            f"Python {m['python']}" if "python" in m else "",
            f"pykeen {m['pykeen']}" if "pykeen" in m else "",
        )
        if x
    )
    lines.append(f"Machine: {machine}.")
    if prov.get("git_revision"):
        dirty = " plus uncommitted changes" if prov.get("git_dirty") else ""
        lines.append(
            f"Source: git revision `{prov['git_revision'][:12]}`{dirty}, {prov['created']}."
        )
    else:
        lines.append("Source: the record holds no git revision (written before records had one).")
    return "\n".join(lines)


def _value(v: object) -> str:
    return " ".join(map(str, v)) if isinstance(v, list) else str(v)


@renderer("bench-completion")
def bench_completion(root: str | Path, path: str) -> str:
    """The throughput table of ``completion_throughput.py``."""
    r = read_json(Path(root) / path)
    head = ["V", "method", "seconds", "M probabilities/s", "peak RSS (MiB)",
            "extra RSS over imports (MiB)", "artifacts counted", "artifactlab speed-up",
            "fraction of matmul rate"]  # fmt: skip
    body = []
    for x in r["rows"]:
        secs = f"{x['seconds']:.2f}"
        count = f"{x['artifacts']:,}"
        if x["fraction_measured"] < 1:
            full = x["seconds_full_extrapolated"]
            secs += f" on {x['fraction_measured']:.1%} (about {full:.0f} s for all)"
            count += " on the prefix"
        elif x["artifacts_prefix_artifactlab"] is not None:
            count += f" (prefix: {x['artifacts_prefix_artifactlab']:,})"
        speed = x["speedup_of_artifactlab_vs_this"]
        body.append([str(x["V"]), LABELS.get(x["method"], x["method"]), secs,
                     f"{x['mprobs_per_second']:.1f}", f"{x['peak_rss_mib']:.0f}",
                     f"{x['extra_rss_over_imports_mib']:.0f}", count,
                     "1.00x" if x["method"] == "artifactlab" else f"**{speed:.2f}x**",
                     f"{x['fraction_of_matmul_rate']:.3f}"])  # fmt: skip
    rate = r["matmul_gflops"]["best"]
    note = (f"Matmul rate (c): {rate:.1f} GFLOP/s with {r['args']['threads']} thread(s), best "
            f"of {r['matmul_gflops']['size']}^3 products.")  # fmt: skip
    return note + "\n\n" + table(head, body)


@renderer("bench-batched")
def bench_batched(root: str | Path, path: str) -> str:
    """Sequential against batched training of many seeds, and how alike they trained."""
    r = read_json(Path(root) / path)
    seeds, seq, bat = r["args"]["seeds"], r["best"]["sequential"], r["best"]["batched"]
    body = [
        ["sequential `train`, one model after another", f"{seq['wall']:.2f}", f"{seq['cpu']:.2f}",
         f"{seq['wall'] / seeds:.3f}", "1.00x"],
        [f"`train_batched`, all {seeds} at once", f"{bat['wall']:.2f}", f"{bat['cpu']:.2f}",
         f"{bat['wall'] / seeds:.3f}", f"**{seq['wall'] / bat['wall']:.2f}x**"],
    ]  # fmt: skip
    head = ["method", "wall seconds", "CPU seconds", "seconds per model", "speed-up"]
    c = r["check"]
    steps = sorted(c["steps_sequential"])
    notes = [
        "- Per-run ratios, each pair timed back to back: "
        + ", ".join(f"{x:.2f}x" for x in r["per_run_ratios"]) + ".",
        f"- Same updates per seed: {'yes' if c['steps_agree'] else 'no'} ({steps[0]} to "
        f"{steps[-1]}, median {steps[len(steps) // 2]}); same stop reasons: "
        f"{'yes' if c['stop_reasons_agree'] else 'no'}; final losses differ by at most "
        f"{c['max_abs_loss_diff']:.1e} and weights by at most {c['max_abs_weight_diff']:.1e}.",
    ]  # fmt: skip
    return table(head, body) + "\n\n" + "\n".join(notes)


@renderer("bench-hull")
def bench_hull(root: str | Path, path: str) -> str:
    """``in_hull`` against one fresh LP per point, Gaussian and hard test points."""
    r = read_json(Path(root) / path)
    g, ref, h = r["gaussian"], r["reference"], r["hard"]

    def stages(s: dict) -> str:
        return ", ".join(
            f"{'LP' if k == 'lp' else k.replace('_', ' ')} {v}" for k, v in s.items() if v
        )

    body = [
        [f"Gaussian, {fmt_int(g['points'])} points", f"{g['seconds']:.2f} s",
         f"{ref['seconds_per_point']:.2f} s/point, about {fmt_int(ref['extrapolated_seconds'])} s",
         f"about {ref['speedup_gaussian']:,.0f}x", stages(g["stages"])],
        [f"hard (half convex combinations of 10 training points, half 0.3 x Gaussian), "
         f"{h['points']} points",
         f"{h['seconds']:.1f} s ({h['seconds_per_point']:.2f} s/point; about "
         f"{h['extrapolated_seconds']:.0f} s for {fmt_int(g['points'])}, extrapolated)",
         f"{ref['seconds_per_point']:.2f} s/point", f"{h['speedup_per_point']:.1f}x",
         f"{stages(h['stages'])} ({h['inside']} inside)"],
    ]  # fmt: skip
    head = ["case", "in_hull", f"reference (timed on {ref['points']} points, extrapolated)",
            "ratio", "decided by"]  # fmt: skip
    return table(head, body)


@renderer("bench-rescal")
def bench_rescal(root: str | Path, path: str) -> str:
    """RESCAL's grouped query against the per-context gather."""
    r = read_json(Path(root) / path)
    b = r["best_seconds"]
    body = [
        ["one model (`train`)", f"{b['sequential_gather']:.2f} s",
         f"{b['sequential_grouped']:.2f} s", f"{r['speedup']['sequential']:.2f}x"],
        [f"{r['seeds']} seeds (`train_batched`, same data)", f"{b['batched_gather']:.2f} s",
         f"{b['batched_grouped']:.2f} s", f"{r['speedup']['batched']:.2f}x"],
    ]  # fmt: skip
    return table([f"{r['steps']} steps", "gather", "grouped", "speed-up"], body)


PYKEEN_METRICS = ("mrr", "hits@1", "hits@3", "hits@10")


@renderer("bench-pykeen")
def bench_pykeen(root: str | Path, path: str) -> str:
    """One seed's PyKEEN against artifactlab table: times, gc share, metrics."""
    r = read_json(Path(root) / path)
    head = ["model", "library", "wall s (best)", "CPU s", "of which gc.collect s",
            "speed-up over PyKEEN", "MRR", "Hits@1", "Hits@3", "Hits@10",
            "MRR by PyKEEN's evaluator"]  # fmt: skip
    body = []
    for model, res in r["results"].items():
        best = {side: min(runs, key=lambda x: x["wall"]) for side, runs in res["runs"].items()}
        for side in ("pykeen", "artifactlab"):
            ours, theirs = res["metrics"][side]["ours"], res["metrics"][side]["pykeen"]
            speed = best["pykeen"]["wall"] / best[side]["wall"]
            body.append([model, side, f"{best[side]['wall']:.2f}", f"{best[side]['cpu']:.2f}",
                         f"{best[side]['gc']:.2f}", f"{speed:.1f}x",
                         *(f"{ours[k]:.3f}" for k in PYKEEN_METRICS),
                         f"{theirs['mrr']:.3f}"])  # fmt: skip
    return table(head, body)


def _pykeen_records(root: str | Path, path: str) -> list[dict]:
    return [read_json(f) for f in source_files(Path(root), path)]


@renderer("bench-pykeen-seeds")
def bench_pykeen_seeds(root: str | Path, path: str) -> str:
    """Per seed and model, PyKEEN / artifactlab metrics and best wall seconds."""
    head = ["seed", "model", "MRR", "Hits@1", "Hits@3", "Hits@10", "wall s"]
    body = []
    for r in sorted(_pykeen_records(root, path), key=lambda x: x["args"]["seed"]):
        for model, res in r["results"].items():
            m = {side: res["metrics"][side]["ours"] for side in ("pykeen", "artifactlab")}
            walls = [
                min(x["wall"] for x in res["runs"][side]) for side in ("pykeen", "artifactlab")
            ]
            body.append([str(r["args"]["seed"]), model,
                         *(f"{m['pykeen'][k]:.3f} / {m['artifactlab'][k]:.3f}"
                           for k in PYKEEN_METRICS),
                         f"{walls[0]:.2f} / {walls[1]:.2f}"])  # fmt: skip
    return table(head, body)


@renderer("bench-pykeen-means")
def bench_pykeen_means(root: str | Path, path: str) -> str:
    """Means over the seeds' records, PyKEEN / artifactlab, the higher one in bold."""
    recs = _pykeen_records(root, path)
    head = ["model", "MRR", "Hits@1", "Hits@3", "Hits@10"]
    body = []
    for model in recs[0]["results"]:
        cells = [model]
        for k in PYKEEN_METRICS:
            pk, ours = (
                statistics.fmean(r["results"][model]["metrics"][side]["ours"][k] for r in recs)
                for side in ("pykeen", "artifactlab")
            )
            cells.append(
                f"{pk:.3f} / **{ours:.3f}**" if ours > pk else f"**{pk:.3f}** / {ours:.3f}"
            )
        body.append(cells)
    return f"Means over {len(recs)} seeds, PyKEEN / artifactlab:\n\n" + table(head, body)


@renderer("bench-threads")
def bench_threads(root: str | Path, path: str) -> str:
    """The ``ratios`` list of ``threads.json``: default thread count against the best one."""
    r = read_json(Path(root) / path)
    body = [[f"`{x['command']}`", str(x["condition"]), f"{x['default_over_best']:.2f}",
             "yes" if x["within_1_25"] else "**no**"] for x in r["ratios"]]  # fmt: skip
    return table(["command", "condition", "default / best time", "within 1.25x"], body)


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def _target_completion(r: dict) -> list[str]:
    rows = r["rows"]
    top = max(x["V"] for x in rows)
    own = next(x for x in rows if x["V"] == top and x["method"] == "artifactlab")
    speed = [x["speedup_of_artifactlab_vs_this"] for x in rows if x["method"] == "naive"]
    tl = [x["speedup_of_artifactlab_vs_this"] for x in rows if x["method"] == "transformer_lens"]
    lines = [
        f"- **Peak RSS under 1 GiB at V = {top}: {_met(own['peak_rss_mib'] < 1024)}.** "
        f"{own['peak_rss_mib']:.0f} MiB for the whole process, "
        f"{own['extra_rss_over_imports_mib']:.0f} MiB above the imports.",
        f"- **At least 5 times the obvious implementation: {_met(min(speed) >= 5)}.** artifactlab "
        f"is {', '.join(f'{s:.2f}x' for s in speed)} faster than (a) "
        f"(V = {', '.join(str(x['V']) for x in rows if x['method'] == 'naive')})"
        + (f", and {min(tl):.1f}-{max(tl):.1f}x faster than TransformerLens." if tl else "."),
    ]
    return lines


def _target_batched(r: dict) -> list[str]:
    ratios = r["per_run_ratios"]
    return [
        f"- **At least 5x: {_met(r['speedup'] >= 5)}.** Best times give {r['speedup']:.2f}x; "
        f"the runs, each pair back to back, gave {min(ratios):.2f}x to {max(ratios):.2f}x."
    ]


def _target_hull(r: dict) -> list[str]:
    g, h = r["gaussian"], r["hard"]
    return [
        f"- **1,000 test points against 10,000 in 100-D in under a minute: "
        f"{_met(g['seconds'] < 60)} for Gaussian test points** ({g['seconds']:.2f} s), "
        f"**{_met(h['extrapolated_seconds'] < 60)} when many points are inside the hull** "
        f"(about {h['extrapolated_seconds'] / 60:.0f} minutes for 1,000 such points, "
        f"extrapolated from {h['points']}; {h['speedup_per_point']:.1f}x faster than the "
        "reference per point)."
    ]


@renderer("bench-targets")
def bench_targets(root: str | Path, path: str) -> str:
    """Each benchmark's targets, with ``met`` / ``not met`` computed from its record."""
    name = Path(path).stem
    targets = {
        "completion_throughput": _target_completion,
        "batched_training": _target_batched,
        "hull_speed": _target_hull,
    }
    if name not in targets:
        raise ValueError(f"{path}: no targets known for {name!r}; known: {', '.join(targets)}")
    return "\n".join(targets[name](read_json(Path(root) / path)))


@renderer("bench-pykeen-targets")
def bench_pykeen_targets(root: str | Path, path: str) -> str:
    """PyKEEN's targets over all seeds' records: no slower, and no worse on the mean metrics."""
    recs = _pykeen_records(root, path)
    speed = [
        min(x["wall"] for x in res["runs"]["pykeen"])
        / min(x["wall"] for x in res["runs"]["artifactlab"])
        for r in recs
        for res in r["results"].values()
    ]
    worse = []
    for model in recs[0]["results"]:
        for k in PYKEEN_METRICS:
            pk, ours = (
                statistics.fmean(r["results"][model]["metrics"][side]["ours"][k] for r in recs)
                for side in ("pykeen", "artifactlab")
            )
            if ours < pk:
                worse.append(f"{model} {k}")
    misses = [
        f"{model} {k} at seed {r['args']['seed']} ({m['artifactlab']['ours'][k]:.3f} against "
        f"{m['pykeen']['ours'][k]:.3f})"
        for r in sorted(recs, key=lambda x: x["args"]["seed"])
        for model, res in r["results"].items()
        for m in [res["metrics"]]
        for k in PYKEEN_METRICS
        if m["artifactlab"]["ours"][k] < m["pykeen"]["ours"][k]
    ]
    return "\n".join(
        [
            f"- **No slower: {_met(min(speed) >= 1)}.** artifactlab trains "
            f"{min(speed):.0f}-{max(speed):.0f}x faster than PyKEEN in every record above.",
            f"- **No worse in metrics, on the means over {len(recs)} seeds: "
            f"{_met(not worse)}.**" + (f" Behind on: {', '.join(worse)}." if worse else ""),
            f"- **At every seed: {_met(not misses)}.**"
            + (f" artifactlab is behind on {'; '.join(misses)}." if misses else ""),
        ]
    )
