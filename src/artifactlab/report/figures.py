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
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

#: the paper's claims (SPEC section 3)
PAPER_RATIO_BAND = (5.0, 20.0)
PAPER_LARGE_MODEL_RATIO = 10.0
TAU_COLUMN = "0.5"


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


def _verdict(rho: float, p: float, alpha: float = 0.05) -> str:
    if p < alpha:
        return "supported" if rho < 0 else "contradicted"
    return "inconclusive"


def summarise_figure(name: str, csv_path: str | Path, x: str) -> dict:
    """Compare a figure's results with the paper's claims; every verdict is computed.

    Returns
    -------
    dict
        ``points`` (per x value), ``claims`` (name -> numbers and verdict) and ``text``.
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
        rho, pval = stats.spearmanr(xs, art)
        smallest_ratio = min(p["mean_ratio"] for p in points)
        claims["more_params_fewer_artifacts"] = {
            "spearman_rho": float(rho),
            "p_value": float(pval),
            "verdict": _verdict(rho, pval),
        }
        claims["large_models_over_10x"] = {
            "largest_model_mean_ratio": points[-1]["mean_ratio"],
            "smallest_mean_ratio": smallest_ratio,
            "verdict": "supported"
            if points[-1]["mean_ratio"] > PAPER_LARGE_MODEL_RATIO
            else "not supported",
        }
        lines.append(
            "  paper: more parameters -> fewer artifacts -> "
            f"{claims['more_params_fewer_artifacts']['verdict']}"
            f" (Spearman rho={rho:.2f}, p={pval:.3g} over all trials)"
        )
        lines.append(
            f"  paper: even the largest models keep >{PAPER_LARGE_MODEL_RATIO:g}x -> "
            f"{claims['large_models_over_10x']['verdict']} "
            f"(largest model: {points[-1]['mean_ratio']:.1f}x)"
        )
    return {
        "name": name,
        "x": x,
        "tau": float(TAU_COLUMN),
        "points": points,
        "claims": claims,
        "text": "\n".join(lines),
    }


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
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return Path(png_path)
