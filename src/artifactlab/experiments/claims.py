"""``artifactlab claims``: the paper's open claims (a)-(c) as sweeps with computed verdicts.

Each claim is a sweep file shipped with the package (``sweeps/claim-X.yaml``, and a
``claim-X-quick.yaml`` for ``--quick``) of the ``claim-truth`` trial kind
(:mod:`artifactlab.experiments.claim_trial`), written from the :data:`PANELS` below by
:func:`sweep_yaml`. A panel is one operationalisation of a claim: a dataset, the
knob turned (an axis of the sweep), the numbers compared, the direction the claim
predicts and a sentence saying how each term was made concrete. The summary is built
from the exported CSV only: per panel, the means with 95% intervals per axis value
(:func:`~artifactlab.report.verdicts.mean_ci`) and the verdicts of
:func:`~artifactlab.report.verdicts.trend`, printed with its rule.

Example
-------
>>> [p.id for p in PANELS["a"]][:3]
['a1-random', 'a2-random', 'a3-random']
>>> print(sweep_yaml("a", quick=True).splitlines()[2])
trial: claim-truth
>>> axis_x(PANELS["a"][0], {"train.loss_tol": "0.0001"})
4.0
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from artifactlab.errors import InputError
from artifactlab.report.verdicts import RULE, mean_ci, trend

CLAIMS = ("a", "b", "c")
#: the claims as the paper states them (section 3, listed again in section 4)
STATEMENTS = {
    "a": "Overfitting leads to fewer artifacts.",
    "b": "Generalization error increases when overfitting, for lack of artifacts.",
    "c": "Generalization error is low when the effective rank of train + test is close to "
    "that of train alone.",
}
SEEDS = 5
TAU = 0.5
#: every model: the paper's attention-only toy transformer, trained with Adam
MODEL = {"kind": "attn", "d_model": 32, "n_heads": 4}
TRAIN = {"lr": 0.01, "max_steps": 10000, "loss_tol": 0.01, "weight_decay": 0.0}
#: the random triples of (a): single-valued, one test context in four held out
RANDOM_A = {"V": 24, "N": 80, "holdout": 0.25}
#: (c) sizes kept small so that ranks up to RANK["max_rank"] cover them
RANDOM_C = {"V": 8, "N": 16}
GRAMMAR_C = {"n_nouns": 4, "n_objects": 4}
RANK = {"max_rank": 12, "tol": 1e-2, "restarts": 2}


@dataclass(frozen=True)
class Panel:
    """One operationalisation of a claim: a dataset, an axis, what is measured, what is claimed.

    Attributes
    ----------
    id, claim : str
        ``a1-random`` and ``a``.
    source : str
        ``data.source`` (a world, or ``random``); ``params`` its ``data.params``.
    axis : str
        The dotted config key that is varied (``train.loss_tol``, ...), or ``split`` for (c).
    values : tuple
        The axis values (full run); ``quick`` those of ``--quick``.
    x : str
        How an axis value becomes "more overfit" (or the rank gap): a key of :data:`X_OF`.
    text : str
        How each term of the claim was made concrete.
    base : dict
        Dotted overrides of :data:`TRAIN` for this panel (besides the axis).
    """

    id: str
    claim: str
    source: str
    axis: str
    values: tuple
    quick: tuple
    x: str
    text: str
    params: dict = field(default_factory=dict)
    base: dict = field(default_factory=dict)


#: axis value -> x; "overfit" axes grow with overfitting
X_OF = {
    "neg_log10": ("-log10(loss tolerance)", lambda v: -math.log10(v)),
    "log10": ("log10(training steps)", lambda v: math.log10(v)),
    "no_decay": ("weight decay removed (1) / present (0)", lambda v: 1.0 if v == 0 else 0.0),
    "log2": ("log2(d_model)", lambda v: math.log2(v)),
}
_TOL = "training past zero training error: stop at a mean train loss under tol (1e-2 .. 1e-5 nats)"
_STEPS = (
    "training longer: family is multi-valued, so its loss has a floor above 0 (loss_floor) and "
    "no tolerance under it is reached; instead the step budget grows (loss_tol off)"
)
_WD = "weight decay removed (more overfit) vs Adam L2 weight decay 1e-2 (regularised)"
_DM = "more parameters: the width d_model of the attention-only transformer (4 heads)"


def _overfit_panels(claim: str, source: str, params: dict, art: str) -> list[Panel]:
    tag = source if source != "random" else "random"
    steps = source == "family"  # multi-valued: a loss tolerance cannot be reached
    base = {"train.loss_tol": None, "train.max_steps": 3000} if steps else {}
    first = (
        Panel(f"{claim}1-{tag}", claim, source, "train.max_steps", (300, 1000, 3000, 10000),
              (300, 1500), "log10", f"{_STEPS}; {art}", params, {"train.loss_tol": None})
        if steps
        else Panel(f"{claim}1-{tag}", claim, source, "train.loss_tol", (1e-2, 1e-3, 1e-4, 1e-5),
                   (1e-2, 1e-4), "neg_log10", f"{_TOL}; {art}", params)
    )  # fmt: skip
    return [
        first,
        Panel(f"{claim}2-{tag}", claim, source, "train.weight_decay", (1e-2, 0.0), (1e-2, 0.0),
              "no_decay", f"{_WD}; {art}", params, base),
        Panel(f"{claim}3-{tag}", claim, source, "model.d_model", (8, 16, 32, 64), (8, 32),
              "log2", f"{_DM}; {art}", params, base),
    ]  # fmt: skip


_ART = f"artifacts = n_artifacts@{TAU:g}, sentences outside the training data with p > {TAU:g}"
_GEN = (
    f"generalization error = 1 - test accuracy (held-out triples not the argmax of their "
    f"context) and 1 - recall@{TAU:g} (share of G the model does not produce above tau); "
    f"'for lack of artifacts': error against n_artifacts@{TAU:g}, claimed negative"
)
_RANK = (
    "effective rank = the smallest CP rank of a tensor whose observed fibers normalise to the "
    "data's (tensor.rank.effective_rank: masked CP fits, fiber error under {tol:g}, ranks "
    "1..{m}; above that reported as {m1}, a lower bound, rank_censored); closeness = "
    "rank(train + test) - rank(train); generalization error = 1 - test accuracy; splits vary "
    "the held-out fraction (0.1, 0.25, 0.4) and the seed of the draw (world or triples)"
)


def _split_panel(source: str, params: dict, values: tuple, quick: tuple) -> Panel:
    text = _RANK.format(tol=RANK["tol"], m=RANK["max_rank"], m1=RANK["max_rank"] + 1)
    return Panel(f"c-{source}", "c", source, "split", values, quick, "rank_gap", text, params)


_SPLITS = tuple((h, s) for h in (0.1, 0.25, 0.4) for s in (0, 1, 2))
_QUICK_SPLITS = tuple((h, s) for h in (0.1, 0.4) for s in (0, 1))

PANELS: dict[str, list[Panel]] = {
    "a": _overfit_panels("a", "random", RANDOM_A, _ART)
    + _overfit_panels("a", "siblings", {}, _ART),
    "b": _overfit_panels("b", "siblings", {}, _GEN) + _overfit_panels("b", "family", {}, _GEN),
    "c": [
        _split_panel("random", RANDOM_C, _SPLITS, _QUICK_SPLITS),
        _split_panel("grammar", GRAMMAR_C, _SPLITS, _QUICK_SPLITS),
        _split_panel("siblings", {}, _SPLITS, ()),
    ],
}


def parse_claims(name: str) -> list[str]:
    """``a``, ``b``, ``c`` or ``all`` -> the claims to run."""
    if name == "all":
        return list(CLAIMS)
    if name not in CLAIMS:
        raise InputError("claim", f"unknown claim {name!r}", "choose a, b, c or all")
    return [name]


# --- sweep files -----------------------------------------------------------------------------


def _knobs(panel: Panel, quick: bool) -> dict[str, Any]:
    """Every overfitting knob at this panel's base value (so a case names its point fully)."""
    knobs = {
        "train.loss_tol": TRAIN["loss_tol"],
        "train.weight_decay": TRAIN["weight_decay"],
        "model.d_model": MODEL["d_model"],
        "train.max_steps": TRAIN["max_steps"],
    } | panel.base
    if quick:  # --quick: a smaller step budget
        knobs["train.max_steps"] = min(knobs["train.max_steps"], 1500)
    return knobs


def _cases(panel: Panel, quick: bool) -> list[dict]:
    values = panel.quick if quick else panel.values
    data = {"data.source": panel.source} | {f"data.params.{k}": v for k, v in panel.params.items()}
    if panel.axis == "split":
        return [data | {"data.params.holdout": h, "data.seed": s} for h, s in values]
    return [data | _knobs(panel, quick) | {panel.axis: v} for v in values]


def sweep_yaml(claim: str, quick: bool = False) -> str:
    """The sweep file of one claim (the text shipped as ``sweeps/claim-X[-quick].yaml``)."""
    cases: list[dict] = []
    for panel in PANELS[claim]:
        for case in _cases(panel, quick):
            if case not in cases:  # a point shared by two panels is trained once
                cases.append(case)
    train = dict(TRAIN) | {"max_steps": 1500 if quick else 3000}
    base: dict[str, Any] = {"model": dict(MODEL), "train": train, "eval": {"taus": [TAU]}}
    if claim == "c":  # (c) trains at the base settings: to a loss under 0.01, or 3000 steps
        base["rank"] = dict(RANK) | ({"restarts": 1} if quick else {})
    sweep = {
        "trial": "claim-truth",
        "name": f"claim-{claim}",
        "base": base,
        "cases": cases,
        "seeds": SEEDS,
    }
    head = f"# claim ({claim}): {STATEMENTS[claim]}\n# written by artifactlab.experiments.claims\n"
    return head + yaml.safe_dump(sweep, sort_keys=False)


def sweep_path(claim: str, quick: bool = False) -> Path:
    """The shipped sweep file of a claim."""
    return Path(__file__).parent / "sweeps" / f"claim-{claim}{'-quick' if quick else ''}.yaml"


def write_sweeps() -> list[Path]:
    """Rewrite the shipped sweep files from :data:`PANELS` (run after editing them)."""
    from artifactlab.io import write_text

    return [write_text(sweep_path(c, q), sweep_yaml(c, q)) for c in CLAIMS for q in (False, True)]


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
    for case in _cases(panel, quick):
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


#: (name, function, label) of every measured number
MEASURES = {
    "artifacts": (artifacts, f"n_artifacts@{TAU:g}"),
    "gen_error": (gen_error, "1 - test accuracy"),
    "recall_error": (recall_error, f"1 - recall@{TAU:g}"),
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
    "c": [("gen_error", "positive", "axis")],
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
    for y_name, claimed, x_name in TRENDS[panel.claim]:
        if panel.axis == "split" or x_name == "axis":
            x = [axis_x(panel, r) for r in rows]
            x_label = "rank gap" if panel.axis == "split" else X_OF[panel.x][0]
        else:
            x, x_label = [MEASURES[x_name][0](r) for r in rows], MEASURES[x_name][1]
        y = [MEASURES[y_name][0](r) for r in rows]
        t = trend(x, y, seeds, claimed)
        verdicts.append({"x": x_label, "y": MEASURES[y_name][1], **t.to_dict()})
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

    return (
        f"{v['y']} vs {v['x']} (claimed {v['claimed']}): rho {f(v['rho'])} "
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
        if summary["claim"] == "b":  # the artifact count beside the error, on its own axis
            _errorbars(ax.twinx(), p, "artifacts", "C1")
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
