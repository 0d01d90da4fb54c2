"""BENCHMARKS.md blocks of the newer benchmark records: time budgets, estimator, corpus index.

Each renderer reads one JSON record under ``docs/benchmarks/`` and formats it; numbers
are never typed into BENCHMARKS.md by hand.

Example
-------
>>> rows = [{"command": "x", "condition": "quiet", "wall_s": 61.0, "budget_s": 180,
...          "within_budget": True}]
>>> print(budget_table(rows))
| command | machine | wall time | budget | within |
|---|---|---|---|---|
| `artifactlab x` | quiet | 1 min 01 s | 3 min 00 s | yes |
"""

from __future__ import annotations

from pathlib import Path

from artifactlab.report.docs import read_json, renderer, table


def minutes(seconds: float) -> str:
    """``1 min 01 s`` (or ``42 s`` under a minute)."""
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def budget_table(rows: list[dict]) -> str:
    """One row per command and condition: wall time against the budget."""
    body = [
        [f"`artifactlab {r['command']}`", r["condition"] + (" (one core busy)" if
         r["condition"] == "loaded" else ""), minutes(r["wall_s"]), minutes(r["budget_s"]),
         "yes" if r["within_budget"] else "**no**"]
        for r in rows
    ]  # fmt: skip
    return table(["command", "machine", "wall time", "budget", "within"], body)


@renderer("bench-budgets")
def bench_budgets(root: str | Path, path: str) -> str:
    """The time-budget table of ``benchmarks/time_budgets.py``."""
    return budget_table(read_json(Path(root) / path)["rows"])


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


@renderer("bench-estimate")
def bench_estimate(root: str | Path, path: str) -> str:
    """Estimates at shares of the contexts against the exact count: error, coverage, speed-up."""
    r = read_json(Path(root) / path)
    taus = sorted(r["exact"]["n_artifacts"], key=float)
    head = ["setting", "samples (median)", "seconds (median)", "speed-up over exact"]
    for t in taus:
        head += [f"rel. error mean / max (tau {t})", f"covered (tau {t})"]
    body = []
    for row in r["rows"]:
        cells = [row["setting"], f"{row['n_samples_median']:,.0f}",
                 f"{row['seconds_median']:.3f}", f"{row['speedup_median']:,.0f}x"]  # fmt: skip
        for t in taus:
            s = row["tau"][t]
            cells += [f"{_pct(s['mean_abs_rel_error'])} / {_pct(s['max_abs_rel_error'])}",
                      f"{s['covered']}/{s['runs']}"]  # fmt: skip
        body.append(cells)
    exact = ", ".join(
        f"{int(v):,} at tau {t}" for t, v in sorted(r["exact"]["n_artifacts"].items())
    )
    return (
        f"Exact count ({r['n_contexts']:,} contexts, V = {r['model']['V']}): {exact}, in "
        f"{r['exact']['seconds']:.1f} s.\n\n" + table(head, body)
    )


def _rate(x: dict) -> str:
    return f"{x['best_per_s']:,.0f}"


@renderer("bench-index")
def bench_index(root: str | Path, path: str) -> str:
    """The corpus index against a Python dict and infini-gram: build, size, lookups per second."""
    r = read_json(Path(root) / path)
    c, tok, ix, lk, d = r["corpus"], r["tokenizer"], r["index"], r["lookups"], r["dict"]
    lines = [
        f"Corpus: {c['files']:,} files of the Python {c['python']} standard library "
        f"({c['bytes']:,} bytes), tokenized by {tok['kind']} at vocabulary {tok['vocab_size']:,}: "
        f"{tok['indexed_tokens']:,} tokens ({tok['tokenize_seconds']:.0f} s to tokenize). "
        f"Queries: {r['queries']['count']:,} n-grams, n uniform in 1..8, "
        f"{100 * r['queries']['absent_share']:.0f}% random (absent); best of "
        f"{r['args']['repeat']}.",
        "",
    ]
    head = ["", "build (s)", "bytes per token", "peak memory (MB)",
            "count lookups/s (as is)", "count lookups/s (one core busy)"]  # fmt: skip
    body = [
        ["corpus index, 1 thread", f"{ix['build_seconds']:.1f}", f"{ix['bytes_per_token']:.2f}",
         f"{ix['peak_rss_mb']:,.0f}", _rate(lk["count workers=1"]["quiet"]),
         _rate(lk["count workers=1"]["loaded"])],
        ["corpus index, 2 threads", "", "", "", _rate(lk["count workers=2"]["quiet"]),
         _rate(lk["count workers=2"]["loaded"])],
        [f"Python dict of every n-gram, n = 1..8 ({d['keys']:,} keys)", f"{d['build_seconds']:.1f}",
         f"{d['bytes_per_key']:.0f} per key", f"{d['peak_rss_mb']:,.0f}",
         _rate(d["lookups"]["quiet"]), _rate(d["lookups"]["loaded"])],
    ]  # fmt: skip
    ig = r.get("infini_gram") or {}
    if ig.get("built"):
        for name, rates in ig["lookups"].items():
            body.append([f"infini-gram {ig['version']}, {name}", f"{ig['build_seconds']:.1f}",
                         f"{ig['bytes_per_token']:.2f}", "", _rate(rates["quiet"]),
                         _rate(rates["loaded"])])  # fmt: skip
    lines.append(table(head, body))
    nxt = lk["next_counts_batch"]
    lines += ["", f"Next-token counts: {_rate(nxt['quiet'])} contexts/s as is, "
              f"{_rate(nxt['loaded'])} with one core busy ({r['queries']['next_contexts']:,} "
              "contexts drawn from the corpus)."]  # fmt: skip
    if not ig.get("built"):
        lines += ["", f"infini-gram: not measured ({ig.get('reason', 'not available')})."]
    target = r["target_100k_per_s"]
    lines += [
        "",
        "Target, at least 100,000 batched count lookups per second on 2 cores: "
        + ", ".join(f"{k}: {'met' if v else 'not met'}" for k, v in target.items())
        + ".",
    ]
    return "\n".join(lines)


@renderer("bench-explorer")
def bench_explorer(root: str | Path, path: str) -> str:
    """The tensor explorer at V = 200: size, build, load and redraw times, per condition."""
    rec = read_json(Path(root) / path)
    head = ["model", "machine", "page size", "cells stored / drawn", "build",
            "load to first draw", "redraw per slider move (median / max)", "axis switch",
            "counts equal the library's"]  # fmt: skip
    body = []
    for r in rec["results"]:
        same = r["n_artifacts_in_page"] == r["n_artifacts_evaluate_completion"]
        condition = r.get("condition", "quiet")
        body.append([r["model"], condition + (" (one core busy)" if condition == "loaded" else ""),
                     f"{r['file_bytes'] / 1e6:.2f} MB",
                     f"{r['cells_stored']:,} / {r['cells_drawn']:,}",
                     f"{r['build_seconds']:.2f} s", f"{r['load_ms']['median']:.0f} ms",
                     f"{r['redraw_ms']['median']:.1f} / {r['redraw_ms']['max']:.1f} ms",
                     f"{r['axis_switch_ms']['median']:.0f} ms",
                     "yes" if same else "**no**"])  # fmt: skip
    return (
        f"Chromium {rec['machine']['chromium']}, medians of {rec['args']['repeat']} loads.\n\n"
        + table(head, body)
    )
