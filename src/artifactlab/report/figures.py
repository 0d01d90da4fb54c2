"""Plots and computed summaries of the paper's Figs. 2 and 3, from their CSV files.

Example
-------
>>> import csv, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "fig2.csv"
>>> rows = [{"data.V": 10, "n_train": 10, "params_non_embedding": 5, "n_artifacts@0.5": a,
...          "ratio@0.5": a / 10, "stop_reason": "loss_tol"} for a in (80, 120)]
>>> with path.open("w", newline="") as fh:
...     w = csv.DictWriter(fh, fieldnames=list(rows[0]))
...     _ = w.writeheader(), w.writerows(rows)
>>> summarise_figure("fig2", path, "n_train")["points"][0]["mean_ratio"]
10.0
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from artifactlab.io import write_figure  # noqa: E402
from artifactlab.report.verdicts import RULE, mean_ci, trend  # noqa: E402

#: the paper's claims (docs/glossary.md#artifact)
PAPER_RATIO_BAND = (5.0, 20.0)
PAPER_LARGE_MODEL_RATIO = 10.0
TAU_COLUMN = "0.5"
#: the x column of Fig. 3
PARAMS = "params_non_embedding"


def read_rows(csv_path: str | Path) -> list[dict[str, str]]:
    """Rows of a results CSV as dictionaries of strings."""
    with Path(csv_path).open(newline="") as fh:
        return list(csv.DictReader(fh))


def grouped(rows: list[dict[str, str]], x: str, tau: str = TAU_COLUMN) -> list[dict[str, float]]:
    """Mean, standard deviation, min and max of artifacts and ratio for each x value."""
    points = []
    for value in sorted({float(r[x]) for r in rows}):
        sel = [r for r in rows if float(r[x]) == value]
        art = np.array([float(r[f"n_artifacts@{tau}"]) for r in sel])
        ratio = np.array([float(r[f"ratio@{tau}"]) for r in sel])
        points.append(
            {
                "x": value,
                "n_trials": len(sel),
                "mean_artifacts": float(art.mean()),
                "std_artifacts": float(art.std(ddof=1)) if len(art) > 1 else 0.0,
                "min_artifacts": float(art.min()),
                "max_artifacts": float(art.max()),
                "mean_ratio": float(ratio.mean()),
                "min_ratio": float(ratio.min()),
                "max_ratio": float(ratio.max()),
                "n_not_converged": sum(r["stop_reason"] == "max_steps" for r in sel),
                # share of all V^2 contexts that carry an artifact (at tau >= 0.5, at most one each)
                "context_share": float(art.mean()) / float(sel[0]["data.V"]) ** 2,
            }
        )
    return points


def summarise_figure(name: str, csv_path: str | Path, x: str) -> dict:
    """Compare a figure's results with the paper's claims; every verdict is computed.

    Against non-embedding parameters (Fig. 3), the summary also holds ``axis_summary``
    (:func:`summarise_axis`) for the one model option the CSV varies (:func:`varied_axis`).

    Returns
    -------
    dict
        ``points`` (per x value), ``claims`` (name -> numbers and verdict), ``text`` and,
        for Fig. 3, ``axis_summary``.
    """
    rows = read_rows(csv_path)
    points = grouped(rows, x)
    lo, hi = PAPER_RATIO_BAND
    ratios = np.array([float(r[f"ratio@{TAU_COLUMN}"]) for r in rows])
    in_band = int(((ratios >= lo) & (ratios <= hi)).sum())
    claims: dict[str, dict] = {
        "ratio_5_to_20": {
            "trials_in_band": in_band,
            "trials": len(rows),
            "min_ratio": float(ratios.min()),
            "max_ratio": float(ratios.max()),
            "verdict": "supported"
            if in_band == len(rows)
            else ("partly supported" if in_band else "not supported"),
        }
    }
    lines = [f"{name}: artifacts at tau={TAU_COLUMN} against {x} ({len(rows)} trials)"]
    for p in points:
        lines.append(
            f"  {x}={p['x']:g}: artifacts {p['mean_artifacts']:.0f} +- {p['std_artifacts']:.0f}, "
            f"ratio {p['mean_ratio']:.1f}x (min {p['min_ratio']:.1f}, max {p['max_ratio']:.1f}), "
            f"{100 * p['context_share']:.0f}% of contexts"
            + (
                f", {p['n_not_converged']} trial(s) hit the step cap"
                if p["n_not_converged"]
                else ""
            )
        )
    c = claims["ratio_5_to_20"]
    lines.append(
        f"  paper: artifacts are {lo:g}-{hi:g}x the training triples -> {c['verdict']} "
        f"({in_band}/{len(rows)} trials in the band; "
        f"observed {c['min_ratio']:.1f}x-{c['max_ratio']:.1f}x)"
    )
    if x == "params_non_embedding":
        xs = np.array([float(r[x]) for r in rows])
        art = np.array([float(r[f"n_artifacts@{TAU_COLUMN}"]) for r in rows])
        seeds = [int(r["seed"]) for r in rows] if "seed" in rows[0] else list(range(len(rows)))
        t = trend(xs, art, seeds, claimed="negative")
        smallest_ratio = min(p["mean_ratio"] for p in points)
        claims["more_params_fewer_artifacts"] = {
            "spearman_rho": t.rho,
            "ci_low": t.ci_low,
            "ci_high": t.ci_high,
            "n_seeds": t.n_seeds,
            "verdict": t.verdict,
            "rule": t.rule,
        }
        claims["large_models_over_10x"] = {
            "largest_model_mean_ratio": points[-1]["mean_ratio"],
            "smallest_mean_ratio": smallest_ratio,
            "verdict": "supported"
            if points[-1]["mean_ratio"] > PAPER_LARGE_MODEL_RATIO
            else "not supported",
        }
        lines.append(
            f"  paper: more parameters -> fewer artifacts -> {t.verdict} (Spearman rho="
            f"{t.rho:.2f} over all trials, 95% bootstrap interval over {t.n_seeds} seeds "
            f"[{t.ci_low:.2f}, {t.ci_high:.2f}]; rule: {RULE})"
        )
        lines.append(
            f"  paper: even the largest models keep >{PAPER_LARGE_MODEL_RATIO:g}x -> "
            f"{claims['large_models_over_10x']['verdict']} "
            f"(largest model: {points[-1]['mean_ratio']:.1f}x)"
        )
    summary = {
        "name": name,
        "x": x,
        "tau": float(TAU_COLUMN),
        "points": points,
        "claims": claims,
        "text": "\n".join(lines),
    }
    axis = varied_axis(rows) if x == PARAMS else None
    if axis is not None:
        summary["axis_summary"] = summarise_axis(csv_path, axis, x)
        summary["text"] += "\n" + summary["axis_summary"]["text"]
    return summary


def plot_figure(name: str, csv_path: str | Path, x: str, png_path: str | Path) -> Path:
    """Plot mean artifacts (min-max bars) against x, with the paper's reference lines."""
    rows = read_rows(csv_path)
    points = grouped(rows, x)
    xs = np.array([p["x"] for p in points])
    mean = np.array([p["mean_artifacts"] for p in points])
    err = np.array(
        [
            [p["mean_artifacts"] - p["min_artifacts"] for p in points],
            [p["max_artifacts"] - p["mean_artifacts"] for p in points],
        ]
    )
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.errorbar(
        xs, mean, yerr=err, fmt="o-", capsize=3, label="artifacts (mean, min-max over seeds)"
    )
    underfit = np.array([p["n_not_converged"] > 0 for p in points])
    if underfit.any():
        ax.plot(
            xs[underfit],
            mean[underfit],
            "s",
            mfc="none",
            ms=12,
            color="C3",
            label="some seeds hit the step cap (underfit)",
        )
    V = int(float(rows[0]["data.V"]))
    ax.axhline(V * V, color="grey", ls=":", label=f"all contexts ($V^2$={V * V})")
    if x == "n_train":
        lo, hi = PAPER_RATIO_BAND
        grid = np.linspace(xs.min(), xs.max(), 50)
        cap = float(V * V)  # at tau >= 0.5 there is at most one artifact per context
        ax.fill_between(
            grid,
            np.minimum(lo * grid, cap),
            np.minimum(hi * grid, cap),
            color="C1",
            alpha=0.2,
            label=f"paper: {lo:g}-{hi:g}x triples (capped at $V^2$)",
        )
        ax.set_xlabel("training triples")
    else:
        n_train = float(rows[0]["n_train"])
        ax.axhline(
            PAPER_LARGE_MODEL_RATIO * n_train,
            color="C1",
            ls="--",
            label=f"paper: {PAPER_LARGE_MODEL_RATIO:g}x training triples",
        )
        ax.set_xscale("log")
        ax.set_xlabel("non-embedding parameters")
    ax.set_ylabel(f"artifacts (p > {TAU_COLUMN})")
    ax.set_title(f"{name}: completion artifacts (V={V})")
    ax.legend(fontsize=8)
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)
    return Path(png_path)


# --- Fig. 3 along one axis: every tau, the completion's rank, one verdict per tau --------------

#: per-trial rank columns of the toy-artifacts trial: ``completion_rank@TAU`` is the rank of
#: the (contexts x next token) unfolding of ``1[M^n > TAU]``, ``_max`` the largest over modes
COMPLETION_RANKS = ("completion_rank", "completion_rank_max")
DATA_RANKS = ("data_rank", "data_rank_max")
#: the claim each axis tests: fewer non-embedding parameters -> more artifacts
AXIS_CLAIM = "negative"


def _number(cell: str | None) -> float:
    """A CSV cell as a float; an empty cell (a metric stored as null) is NaN."""
    return float(cell) if cell not in (None, "") else float("nan")


def varied_axis(rows: list[dict[str, str]]) -> str | None:
    """The one ``model.*`` option that takes several values in a results CSV, else None."""
    varied = [
        c.removeprefix("model.")
        for c in (rows[0] if rows else {})
        if c.startswith("model.") and len({r[c] for r in rows}) > 1
    ]
    return varied[0] if len(varied) == 1 else None


def csv_taus(rows: list[dict[str, str]]) -> list[str]:
    """The thresholds a results CSV has artifact counts for, as written in its columns."""
    taus = [c.split("@", 1)[1] for c in (rows[0] if rows else {}) if c.startswith("n_artifacts@")]
    return sorted(taus, key=float)


def axis_points(rows: list[dict[str, str]], axis: str, x: str, taus: list[str]) -> list[dict]:
    """Per value of ``model.AXIS``: parameters, mean artifacts (95% CI) per tau, mean ranks."""
    column = f"model.{axis}"
    points = []
    for value in sorted({_number(r[column]) for r in rows}):
        sel = [r for r in rows if _number(r[column]) == value]
        point: dict = {"value": value, x: _number(sel[0][x]), "n_trials": len(sel)}
        point["artifacts"] = {
            tau: mean_ci([_number(r[f"n_artifacts@{tau}"]) for r in sel])._asdict() for tau in taus
        }
        for name in COMPLETION_RANKS:  # a CSV from older code has none: NaN
            point[name] = {
                tau: mean_ci([_number(r.get(f"{name}@{tau}")) for r in sel]).mean for tau in taus
            }
        for name in DATA_RANKS:
            point[name] = mean_ci([_number(r.get(name)) for r in sel]).mean
        point["n_not_converged"] = sum(r["stop_reason"] == "max_steps" for r in sel)
        points.append(point)
    return points


def summarise_axis(csv_path: str | Path, axis: str, x: str = PARAMS) -> dict:
    """Artifacts per tau and the completion's rank along one axis, with one verdict per tau.

    Each verdict is ``trend(x, n_artifacts@tau, seeds, claimed="negative")``
    (:func:`artifactlab.report.verdicts.trend`): "fewer parameters -> more artifacts".

    Returns
    -------
    dict
        ``axis``, ``x``, ``taus``, ``points`` (:func:`axis_points`), ``verdicts``
        (tau -> :class:`~artifactlab.report.verdicts.Trend` as a dict), ``rule`` and ``text``.
    """
    rows = read_rows(csv_path)
    taus = csv_taus(rows)
    points = axis_points(rows, axis, x, taus)
    xs = [_number(r[x]) for r in rows]
    seeds = [int(r["seed"]) for r in rows]
    verdicts = {
        tau: trend(xs, [_number(r[f"n_artifacts@{tau}"]) for r in rows], seeds, AXIS_CLAIM)
        for tau in taus
    }
    summary = {
        "axis": axis,
        "x": x,
        "taus": [float(t) for t in taus],
        "claimed": AXIS_CLAIM,
        "points": points,
        "verdicts": {tau: t.to_dict() for tau, t in verdicts.items()},
        "rule": RULE,
    }
    summary["text"] = _axis_text(summary, len(rows), len(set(seeds)))
    return summary


def _axis_text(s: dict, n_trials: int, n_seeds: int) -> str:
    taus, x = list(s["verdicts"]), s["x"]
    lines = [
        f"axis {s['axis']}: artifacts at tau in {{{', '.join(taus)}}} against {x} "
        f"({n_trials} trials, {n_seeds} seeds; mean [95% CI over seeds]; rank a/b: mean rank "
        "of 1[M > tau] as a (contexts x next token) matrix / the largest over its unfoldings)"
    ]
    for p in s["points"]:
        cells = []
        for t, a in p["artifacts"].items():
            cell = f"tau={t} {a['mean']:,.0f} [{a['ci_low']:,.0f}, {a['ci_high']:,.0f}]"
            rank, top = p["completion_rank"][t], p["completion_rank_max"][t]
            cells.append(cell + (f" rank {rank:.1f}/{top:.1f}" if not math.isnan(rank) else ""))
        capped = f"; {p['n_not_converged']} hit the step cap" if p["n_not_converged"] else ""
        lines.append(f"  {s['axis']}={p['value']:g} ({x}={p[x]:,.0f}): {'; '.join(cells)}{capped}")
    data_rank = s["points"][0]["data_rank"] if s["points"] else float("nan")
    if not math.isnan(data_rank):
        lines.append(
            f"  data tensor 1[D>0]: rank {data_rank:.0f} "
            f"(max over modes {s['points'][0]['data_rank_max']:.0f})"
        )
    lines.append("  paper: fewer non-embedding parameters -> more artifacts:")
    for tau, t in s["verdicts"].items():
        lo, hi = (float("nan") if v is None else v for v in (t["ci_low"], t["ci_high"]))
        rho = float("nan") if t["rho"] is None else t["rho"]
        lines.append(
            f"    tau={tau}: {t['verdict']} "
            f"(Spearman rho={rho:+.2f}, 95% CI [{lo:+.2f}, {hi:+.2f}])"
        )
    lines.append(f"  rule: {s['rule']}")
    return "\n".join(lines)


def plot_axis(csv_path: str | Path, axis: str, png_path: str | Path, x: str = PARAMS) -> Path:
    """Artifacts (mean, 95% CI) against ``x``, one line per tau; the ranks on a twin axis."""
    rows = read_rows(csv_path)
    taus = csv_taus(rows)
    points = axis_points(rows, axis, x, taus)
    xs = np.array([p[x] for p in points])
    fig, ax = plt.subplots(figsize=(6.5, 5.6))
    for i, tau in enumerate(taus):
        mean = np.array([p["artifacts"][tau]["mean"] for p in points])
        low = np.array([p["artifacts"][tau]["ci_low"] for p in points])
        high = np.array([p["artifacts"][tau]["ci_high"] for p in points])
        ax.errorbar(xs, mean, yerr=[mean - low, high - mean], fmt="o-", capsize=3,
                    color=f"C{i}", label=f"artifacts, p > {tau}")  # fmt: skip
    underfit = np.array([p["n_not_converged"] > 0 for p in points])
    if underfit.any():
        ax.plot(xs[underfit], np.zeros(underfit.sum()), "s", mfc="none", ms=10, color="C3",
                label="some seeds hit the step cap (underfit)")  # fmt: skip
    V = int(float(rows[0]["data.V"]))
    ax.axhline(V * V, color="grey", ls=":", label=f"$V^2$={V * V} contexts")
    ax.set_xscale("log")
    ax.set_xlabel(f"non-embedding parameters (varying {axis})")
    ax.set_ylabel("artifacts (mean, 95% CI over seeds)")
    handles, labels = ax.get_legend_handles_labels()
    ranks = {t: np.array([p["completion_rank"][t] for p in points]) for t in taus}
    if not all(np.isnan(r).all() for r in ranks.values()):
        twin = ax.twinx()
        for i, (tau, rank) in enumerate(ranks.items()):
            (line,) = twin.plot(xs, rank, "--", marker="x", color=f"C{i}",
                                label=f"rank of 1[M > {tau}] (contexts x token)")  # fmt: skip
            handles, labels = handles + [line], labels + [line.get_label()]
        data = [p["data_rank"] for p in points]
        (line,) = twin.plot(xs, data, "k:", label="rank of 1[D > 0]")
        twin.set_ylabel("matrix rank (dashed)")
        twin.set_ylim(0, V * 1.05)
        handles, labels = handles + [line], labels + [line.get_label()]
    # below the axes: with four taus and two ranks, any spot inside covers some line
    ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=2)  # fmt: skip
    ax.set_title(f"fig3 along {axis}: completion artifacts (V={V})")
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)
    return Path(png_path)
