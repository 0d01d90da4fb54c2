"""README blocks of the worked example on real text (``docs/figures/text/*.json``).

The JSON files are the ``--json`` outputs of the example's commands, written by
:mod:`artifactlab.experiments.text_example`; nothing here computes a count.

Example
-------
>>> ci({"estimate": 10.0, "ci_low": 8.0, "ci_high": 12.5})
'10 [8, 12.5]'
"""

from __future__ import annotations

import json
from pathlib import Path

from artifactlab.report.docs import renderer, table

SOURCES = ("uniform", "corpus", "model")


def _read(root: str | Path, folder: str, name: str) -> dict | None:
    base = Path(root) / folder
    base = base.parent if base.suffix == ".json" else base  # a block names one of its files
    path = base / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def ci(e: dict) -> str:
    """``estimate [low, high]``."""
    return f"{_num(e['estimate'])} [{_num(e['ci_low'])}, {_num(e['ci_high'])}]"


def _exact_in_scope(exact: dict | None, source: str) -> int | None:
    """The exact count over the contexts an estimate's source covers, when it is known."""
    if exact is None:
        return None
    if source == "corpus":
        return exact["n_artifacts_observed_contexts"]
    return exact["n_artifacts"]  # uniform and model: every context can be drawn


@renderer("text-counts")
def text_counts(root: str | Path, folder: str) -> str:
    """Per n and source: the estimate, the exact count over the same contexts, the rate."""
    head = ["n", "V", "contexts V^(n-1)", "source", "estimated artifacts [95% CI]",
            "exact (same contexts)", "interval covers it",
            "artifacts per sampled context"]  # fmt: skip
    body = []
    for n in (3, 8):
        exact = _read(root, folder, f"exact{n}")
        for source in SOURCES:
            e = _read(root, folder, f"estimate{n}-{source}")
            if e is None:
                continue
            tau = f"{e['tau'][0]:g}"
            est = e["estimates"][tau]
            truth = _exact_in_scope(exact, source)
            covers = "" if truth is None else ("yes" if est["ci_low"] <= truth <= est["ci_high"]
                                               else "**no**")  # fmt: skip
            rate = f"{est['rate']:.3g} [{est['rate_ci'][0]:.3g}, {est['rate_ci'][1]:.3g}]"
            shown = "(too many to enumerate)" if truth is None else f"{truth:,}"
            body.append([str(n), str(e["V"]), f"{e['V'] ** (n - 1):.3g}",
                         f"{source} ({e['scope']})", ci(est), shown, covers, rate])  # fmt: skip
    return table(head, body)


@renderer("text-stats")
def text_stats(root: str | Path, folder: str) -> str:
    """The data tensors ``D^n`` of the corpus for n = 2..8, from ``index stats``."""
    s = _read(root, folder, "stats")
    if s is None:
        raise ValueError(f"{folder}: no stats.json")
    body = [[str(r["n"]), f"{r['nnz']:,}", f"{r['observed_contexts']:,}", f"{r['contexts']:.3g}",
             f"{r['density']:.2g}"] for r in s["tensors"]]  # fmt: skip
    head = ["n", "non-zeros of D^n", "observed contexts", "all contexts", "density"]
    return f"{s['n_tokens']:,} tokens, V = {s['V']:,}.\n\n" + table(head, body)


def _quoted(text: str) -> str:
    """Text of a token sequence inside a Markdown table cell: visible spaces, no pipes."""
    shown = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("`", "'")
    return f"`{shown}`" if shown.strip() else "(whitespace)"


@renderer("text-lm")
def text_lm(root: str | Path, folder: str) -> str:
    """Per n and context source: the models' artifacts against the corpus index (``lm``)."""
    head = ["n", "source", "contexts drawn", "tau", "confident continuations",
            "in the corpus", "artifacts per context [95% CI]",
            "contexts with an artifact [95% CI]", "most probable artifact"]  # fmt: skip
    body = []
    for n in (3, 8):
        lm = _read(root, folder, f"lm{n}")
        if lm is None:
            continue
        for res in lm["results"]:
            top = res["top_artifacts"]
            shown = (f"{_quoted(top[0]['context_text'])} → {_quoted(top[0]['continuation_text'])} "
                     f"(p = {top[0]['prob']:.3f})") if top else ""  # fmt: skip
            for row in res["estimates"]:
                low, high = row["share_ci"]
                held = row["n_supported"] / row["n_confident"] if row["n_confident"] else 0.0
                body.append([str(n), res["source"], f"{res['n_samples']:,}", f"{row['tau']:g}",
                             f"{row['n_confident']:,}", f"{row['n_supported']:,} ({held:.0%})",
                             f"{row['rate']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]",
                             f"{row['share']:.1%} [{low:.1%}, {high:.1%}]", shown])  # fmt: skip
    if not body:
        raise ValueError(f"{folder}: no lm3.json or lm8.json")
    return table(head, body)
