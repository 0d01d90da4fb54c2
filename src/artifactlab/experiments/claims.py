"""``artifactlab claims``: the paper's open claims as sweeps with computed verdicts.

Each claim is a sweep file shipped with the package (``sweeps/claim-X.yaml``, and a
``claim-X-quick.yaml`` for ``--quick``), written from the panels of
:mod:`artifactlab.experiments.claim_panels` (one operationalisation each). The summary
is built from the exported CSV only: per panel, the means with 95% intervals per axis
value (:func:`~artifactlab.report.verdicts.mean_ci`) and the verdicts of
:func:`~artifactlab.report.verdicts.trend`, printed with its rule.

Example
-------
>>> axis_x(PANELS["a"][0], {"train.loss_tol": "0.0001"})
4.0
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.experiments.claim_panels import (
    CLAIMS,
    PANELS,
    SEEDS,
    STATEMENTS,
    TAU,
    X_OF,
    Panel,
    panel_cases,
)
from artifactlab.report.verdicts import RULE, mean_ci, trend


def parse_claims(name: str) -> list[str]:
    """``a``, ``b``, ``c`` or ``all`` -> the claims to run."""
    if name == "all":
        return list(CLAIMS)
    if name not in CLAIMS:
        raise InputError("claim", f"unknown claim {name!r}", "choose a, b, c, d or all")
    return [name]


# --- summaries from the CSV ------------------------------------------------------------------


def _num(cell: str | None) -> float:
    return float(cell) if cell not in (None, "", "None", "nan") else float("nan")


def _same(cell: str | None, value: Any) -> bool:
    if value is None:
        return cell in (None, "", "None")
    if isinstance(value, int | float):
        return not math.isnan(_num(cell)) and math.isclose(_num(cell), value, rel_tol=1e-9)
    return cell == str(value)


def panel_rows(panel: Panel, rows: list[dict[str, str]], quick: bool) -> list[dict[str, str]]:
    """The CSV rows of one panel: its dataset, its base values, one of its axis values."""
    picked = []
    for case in panel_cases(panel, quick):
        # the axis value and every override of this panel's case; the rest is the sweep's base
        picked += [r for r in rows if all(_same(r.get(k), v) for k, v in case.items())]
    return picked


def axis_x(panel: Panel, row: dict[str, str]) -> float:
    """A row's x: how overfit its axis value is, or (c) its rank gap."""
    if panel.axis == "split":
        return _num(row.get("rank_gap"))
    return X_OF[panel.x][1](_num(row[panel.axis]))


def gen_error(row: dict[str, str]) -> float:
    """1 - test accuracy."""
    return 1.0 - _num(row.get("test_accuracy"))


def recall_error(row: dict[str, str]) -> float:
    """1 - recall at tau."""
    return 1.0 - _num(row.get(f"recall@{TAU:g}"))


def artifacts(row: dict[str, str]) -> float:
    """n_artifacts at tau."""
    return _num(row.get(f"n_artifacts@{TAU:g}"))


def hallucinations(row: dict[str, str]) -> float:
    """Hallucinations at tau (artifacts outside G)."""
    return _num(row.get(f"hallucinations@{TAU:g}"))


def generalizations(row: dict[str, str]) -> float:
    """Generalizations at tau (artifacts in G)."""
    return _num(row.get(f"generalizations@{TAU:g}"))


def held_out_ce(row: dict[str, str]) -> float:
    """Test cross-entropy (nats)."""
    return _num(row.get("test_cross_entropy"))


#: (name, function, label) of every measured number
MEASURES = {
    "artifacts": (artifacts, f"n_artifacts@{TAU:g}"),
    "gen_error": (gen_error, "1 - test accuracy"),
    "recall_error": (recall_error, f"1 - recall@{TAU:g}"),
    "test_ce": (held_out_ce, "test cross-entropy"),
    "hallucinations": (hallucinations, f"hallucinations@{TAU:g}"),
    "generalizations": (generalizations, f"generalizations@{TAU:g}"),
}
#: per claim: (measure on y, claimed direction, x: "axis" or a measure)
TRENDS = {
    "a": [("artifacts", "negative", "axis")],
    "b": [
        ("gen_error", "positive", "axis"),
        ("recall_error", "positive", "axis"),
        ("artifacts", "negative", "axis"),
        ("gen_error", "negative", "artifacts"),
    ],
    "c": [("gen_error", "positive", "axis"), ("test_ce", "positive", "axis")],
    "d": [
        ("hallucinations", "negative", "axis"),
        ("generalizations", "negative", "axis", "cost"),
    ],
}


def _point_key(panel: Panel, row: dict[str, str]) -> str:
    if panel.axis == "split":
        return f"holdout={_num(row['data.params.holdout']):g}, data seed={row['data.seed']}"
    return f"{_num(row[panel.axis]):g}"


def summarise_panel(panel: Panel, rows: list[dict[str, str]], quick: bool) -> dict:
    """Means with intervals per axis value and the verdicts of one panel."""
    rows = panel_rows(panel, rows, quick)
    seeds = [int(r["seed"]) for r in rows]
    points: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        points.setdefault(_point_key(panel, r), []).append(r)
    table = []
    for key, group in points.items():
        entry: dict[str, Any] = {"point": key, "x": axis_x(panel, group[0]), "n": len(group)}
        for name, (fn, _) in MEASURES.items():
            entry[name] = mean_ci([fn(r) for r in group])._asdict()
        entry["train_loss"] = mean_ci([_num(r.get("train_loss")) for r in group])._asdict()
        entry["stop_reasons"] = dict(Counter(r.get("stop_reason", "") for r in group))
        if panel.axis == "split":
            entry["rank_train"] = _num(group[0].get("rank_train"))
            entry["rank_train_test"] = _num(group[0].get("rank_train_test"))
        table.append(entry)
    verdicts = []
    for y_name, claimed, x_name, *role in TRENDS[panel.claim]:
        if panel.axis == "split" or x_name == "axis":
            x = [axis_x(panel, r) for r in rows]
            x_label = "rank gap" if panel.axis == "split" else X_OF[panel.x][0]
        else:
            x, x_label = [MEASURES[x_name][0](r) for r in rows], MEASURES[x_name][1]
        y = [MEASURES[y_name][0](r) for r in rows]
        t = trend(x, y, seeds, claimed)
        verdicts.append(
            {"x": x_label, "y": MEASURES[y_name][1], "role": (role or ["claim"])[0], **t.to_dict()}
        )
    return {"id": panel.id, "dataset": panel.source, "params": panel.params,
            "axis": panel.axis, "x": X_OF.get(panel.x, ("rank gap",))[0],
            "operationalisation": panel.text, "points": table, "verdicts": verdicts}  # fmt: skip


def pooled_verdict(panels: list[dict], rows: list[dict[str, str]], quick: bool) -> dict | None:
    """(c): the rank-gap trend over every dataset's trials together (seeds resampled as one)."""
    xs, ys, seeds = [], [], []
    for panel in PANELS["c"]:
        for r in panel_rows(panel, rows, quick):
            xs.append(axis_x(panel, r))
            ys.append(gen_error(r))
            seeds.append(int(r["seed"]))
    if not xs:
        return None
    t = trend(xs, ys, seeds, "positive")
    return {"x": "rank gap", "y": "1 - test accuracy (all datasets)", **t.to_dict()}


def summarise(claim: str, csv_path: Path, quick: bool) -> dict:
    """The summary of one claim from its exported CSV (nothing is retrained)."""
    with csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    panels = [summarise_panel(p, rows, quick) for p in PANELS[claim]]
    panels = [p for p in panels if p["points"]]
    summary = {"claim": claim, "statement": STATEMENTS[claim], "quick": quick, "rule": RULE,
               "seeds": SEEDS, "panels": panels}  # fmt: skip
    if claim == "c":
        summary["pooled"] = pooled_verdict(panels, rows, quick)
    summary["text"] = summary_text(summary)
    return summary


def _ci(m: dict) -> str:
    if m["mean"] is None or (isinstance(m["mean"], float) and math.isnan(m["mean"])):
        return "n/a"
    return f"{m['mean']:.3g} [{m['ci_low']:.3g}, {m['ci_high']:.3g}]"


def verdict_line(v: dict) -> str:
    """``y vs x (claimed negative): rho -0.8 [-0.9, -0.6], 40 trials / 5 seeds -> supported``."""

    def f(z: float | None) -> str:
        return "nan" if z is None else f"{z:+.2f}"

    cost = " [cost]" if v.get("role") == "cost" else ""
    return (
        f"{v['y']} vs {v['x']} (claimed {v['claimed']}){cost}: rho {f(v['rho'])} "
        f"[{f(v['ci_low'])}, {f(v['ci_high'])}], {v['n_trials']} trials / {v['n_seeds']} seeds "
        f"-> {v['verdict']}"
    )


def summary_text(summary: dict) -> str:
    """The printed summary of one claim."""
    lines = [f"claim ({summary['claim']}): {summary['statement']}", f"rule: {summary['rule']}"]
    for p in summary["panels"]:
        lines += ["", f"[{p['id']}] {p['dataset']}: {p['operationalisation']}"]
        lines.append(" | ".join(["point", "x", *(MEASURES[m][1] for m in MEASURES), "stops"]))
        for pt in p["points"]:
            stops = ", ".join(f"{k} {n}" for k, n in pt["stop_reasons"].items())
            cells = [pt["point"], f"{pt['x']:.3g}", *(_ci(pt[m]) for m in MEASURES), stops]
            lines.append(" | ".join(cells))
        lines += [f"  verdict: {verdict_line(v)}" for v in p["verdicts"]]
    if summary.get("pooled"):
        lines += ["", f"pooled: {verdict_line(summary['pooled'])}"]
    return "\n".join(lines)


# --- figure and rendering --------------------------------------------------------------------


def _errorbars(ax: Any, panel: dict, name: str, color: str) -> None:
    pts = sorted(panel["points"], key=lambda q: q["x"])
    mean = [q[name]["mean"] for q in pts]
    err = [[q[name]["mean"] - q[name]["ci_low"] for q in pts],
           [q[name]["ci_high"] - q[name]["mean"] for q in pts]]  # fmt: skip
    style = "none" if panel["axis"] == "split" else "-"
    ax.errorbar([q["x"] for q in pts], mean, yerr=err, marker="o", capsize=3, color=color,
                linestyle=style)  # fmt: skip
    ax.set_ylabel(MEASURES[name][1], fontsize=8, color=color)
    ax.tick_params(labelsize=7)


def plot(summary: dict, png_path: Path) -> Path:
    """One panel per operationalisation: the claim's y (mean, 95% interval) against its x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from artifactlab.io import write_figure

    panels = summary["panels"]
    y_name = TRENDS[summary["claim"]][0][0]
    cols = min(len(panels), 3) or 1
    rows = max(math.ceil(len(panels) / cols), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, p in zip(axes.flat, panels, strict=False):
        _errorbars(ax, p, y_name, "C0")
        if summary["claim"] in ("b", "d"):  # the second number beside the first, own axis
            second = "artifacts" if summary["claim"] == "b" else "generalizations"
            _errorbars(ax.twinx(), p, second, "C1")
        ax.set_title(f"{p['id']}: {p['verdicts'][0]['verdict']}", fontsize=9)
        ax.set_xlabel(p["x"], fontsize=8)
    fig.suptitle(f"claim ({summary['claim']}): {summary['statement']}", fontsize=9)
    fig.tight_layout()
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)
    return png_path


def render(out: Path, claim: str, quick: bool) -> dict:
    """Summary (JSON and text) and figure of one claim from ``OUT/claim-X.csv``."""
    from artifactlab.io import staged_files, write_json, write_text

    csv_path = out / f"claim-{claim}.csv"
    if not csv_path.is_file():
        raise InputError(str(csv_path), "not found", "run `artifactlab claims` first")
    summary = summarise(claim, csv_path, quick)
    with staged_files(out) as tmp:  # the summary and the figure appear together or not at all
        write_json(tmp / f"claim-{claim}_summary.json", summary)
        write_text(tmp / f"claim-{claim}_summary.txt", summary["text"] + "\n")
        plot(summary, tmp / f"claim-{claim}.png")
    return summary
