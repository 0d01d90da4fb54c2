"""Fitting 1-D data several ways and scoring inside vs beyond the data (``artifactlab interp fit``).

Writes ``fit.csv`` (one row per method), ``fit_curves.csv`` (every fit on a grid wider
than the data), ``fit_points.csv`` (the training points), ``pieces.csv`` (ReLU linear
pieces vs width), ``fit_summary.json`` (config, results, provenance), and the figures
``fit.png`` and ``pieces.png``, which are drawn from those files alone.

Example
-------
>>> data = load_data("sine", 6, 0.0, 0, None, "even")
>>> rows = run_fits(data, ["linear", "spline"], 0.5, lambda k: None)
>>> [r["method"] for r in rows]
['linear', 'spline']
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artifactlab.errors import InputError
from artifactlab.interp import fit1d
from artifactlab.interp.io import read_numeric_csv
from artifactlab.io import write_figure, write_json, write_text

RESULT_FIELDS = ["method", "interp_mse", "extrap_mse", "extrap_max", "train_mse", "steps",
                 "n_pieces", "n_pieces_inside"]  # fmt: skip


@dataclass(frozen=True)
class FitData:
    """Training points, and what the fits are scored against."""

    label: str
    x: np.ndarray
    y: np.ndarray
    target_fn: fit1d.Predict | None = None  # noise-free target, for named targets
    x_test: np.ndarray | None = None  # held-out points, for CSV targets
    y_test: np.ndarray | None = None


def parse_list(text: str, option: str, cast: type) -> list:
    """A comma-separated option value as a list of ``cast`` values; InputError if bad or empty."""
    try:
        items = [cast(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(option, f"cannot read {text!r}", "give a comma-separated list") from None
    if not items:
        raise InputError(option, "is empty")
    return items


def load_data(
    target: str, n: int, noise: float, seed: int, test: Path | None, spacing: str
) -> FitData:
    """A named target sampled by :func:`fit1d.make_points`, or a two-column CSV (x, y)."""
    if target in fit1d.TARGETS:
        x, y = fit1d.make_points(target, n, noise, seed, spacing=spacing)
        return FitData(target, x, y, target_fn=fit1d.TARGETS[target])
    path = Path(target)
    if not path.exists():
        raise InputError(
            "--target", f"{target!r} is neither a target nor a file", f"{sorted(fit1d.TARGETS)}"
        )
    xy = read_numeric_csv(path, ncols=2, min_rows=2)
    data = FitData(str(path), xy[:, 0], xy[:, 1])
    if test is not None:
        held = read_numeric_csv(test, ncols=2, min_rows=1)
        data = FitData(data.label, data.x, data.y, x_test=held[:, 0], y_test=held[:, 1])
    return data


def validate(data: FitData, methods: list[str], degree: int, width: int, widths: list[int]) -> None:
    """Every check that can fail before any fitting or writing."""
    for method in methods:
        if method not in fit1d.FITTERS:
            raise InputError(
                "--methods", f"unknown method {method!r}", f"one of {list(fit1d.FITTERS)}"
            )
    if "poly-lsq" in methods:
        fit1d.check_degree(data.x, degree)
    if len(np.unique(data.x)) != len(data.x) and set(methods) - {"poly-lsq", "relu"}:
        raise InputError(data.label, "has repeated x values", "interpolants need distinct x")
    if width < 1 or min(widths) < 1:
        raise InputError("--width/--widths", "widths must be >= 1")


def _score(fitted: fit1d.Fit, data: FitData, band: float) -> fit1d.FitScores:
    lo, hi = float(np.min(data.x)), float(np.max(data.x))
    if data.target_fn is not None:
        return fit1d.evaluate_fit(fitted, data.target_fn, lo, hi, band)
    if data.x_test is not None and data.y_test is not None:
        return fit1d.evaluate_points(fitted, data.x_test, data.y_test, lo, hi)
    return fit1d.FitScores(None, None, None)  # a CSV with no held-out points: nothing to score


def run_fits(data: FitData, methods: list[str], band: float, advance, **opts) -> list[dict]:
    """Fit every method; one result row (a dict of RESULT_FIELDS, plus the fit) each."""
    lo, hi = float(np.min(data.x)), float(np.max(data.x))
    rows = []
    for method in methods:
        fitted = fit1d.fit(method, data.x, data.y, **opts)
        pieces = fit1d.count_linear_pieces(fitted.net, lo, hi) if fitted.net else None
        if method == "relu":
            advance(1)
        row = {"method": method, **_score(fitted, data, band)._asdict()}
        row |= {"train_mse": fitted.train_mse, "steps": fitted.steps}
        row |= {"n_pieces": pieces and pieces.total, "n_pieces_inside": pieces and pieces.inside}
        rows.append({**row, "fit": fitted})
    return rows


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
    write_text(path, buffer.getvalue())


def write_results(out: Path, data: FitData, rows: list[dict], pieces, band, config) -> dict:
    """Write fit.csv, fit_curves.csv, fit_points.csv, pieces.csv and fit_summary.json.

    Each file is written whole or not at all; the CLI writes them (and the plots) inside
    :func:`artifactlab.io.staged_folder`, so the folder is complete or absent.
    """
    from artifactlab.provenance import provenance

    lo, hi = float(np.min(data.x)), float(np.max(data.x))
    _write_csv(out / "fit.csv", RESULT_FIELDS, rows)
    grid = np.linspace(lo - band, hi + band, 801)
    curves = {"x": grid} | ({"target": data.target_fn(grid)} if data.target_fn else {})
    curves |= {r["method"]: r["fit"](grid) for r in rows}
    _write_csv(
        out / "fit_curves.csv",
        list(curves),
        [dict(zip(curves, vals, strict=True)) for vals in zip(*curves.values(), strict=True)],
    )
    points = [{"x": a, "y": b} for a, b in zip(data.x, data.y, strict=True)]
    _write_csv(out / "fit_points.csv", ["x", "y"], points)
    _write_csv(out / "pieces.csv", list(fit1d.PiecesRow._fields), [p._asdict() for p in pieces])
    relu = next((r["fit"] for r in rows if r["fit"].net is not None), None)
    breakpoints = fit1d.effective_breakpoints(relu.net).tolist() if relu else []
    summary = {
        "config": config,
        "data": {"label": data.label, "n": int(data.x.size), "x_min": lo, "x_max": hi},
        "results": [{k: r[k] for k in RESULT_FIELDS} for r in rows],
        "relu_breakpoints": breakpoints,
        "pieces": [p._asdict() for p in pieces],
        "command": ["artifactlab", *sys.argv[1:]],
        "provenance": provenance(),
    }
    write_json(out / "fit_summary.json", summary)
    return summary


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) if r[k] else np.nan for r in rows]) for k in rows[0]}


def plot_fit(out: Path) -> Path:
    """Draw fit.png from fit_curves.csv, fit_points.csv and fit_summary.json."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = _read_csv(out / "fit_curves.csv")
    points = _read_csv(out / "fit_points.csv")
    summary = json.loads((out / "fit_summary.json").read_text(encoding="utf-8"))
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    lo, hi = summary["data"]["x_min"], summary["data"]["x_max"]
    ax.axvspan(curves["x"][0], lo, color="0.92", lw=0)
    ax.axvspan(hi, curves["x"][-1], color="0.92", lw=0, label="extrapolation")
    for name, values in curves.items():
        if name != "x":
            style = {"color": "black", "ls": "--", "lw": 1} if name == "target" else {"lw": 1.5}
            ax.plot(curves["x"], values, label=name, **style)
    ax.plot(points["x"], points["y"], "ko", ms=4, label="data")
    # Clip to the data's scale: the interpolating polynomial's swing would flatten the rest.
    ref = np.concatenate([points["y"], curves.get("target", points["y"])])
    pad = 0.5 * (float(np.ptp(ref)) or 1.0)
    y0, y1 = float(np.min(ref)) - pad, float(np.max(ref)) + pad
    if not np.isfinite([y0, y1]).all():  # values near the float limit: let matplotlib choose
        y0, y1 = ax.get_ylim()
    ax.set_ylim(y0, y1)
    bps = [b for b in summary["relu_breakpoints"] if curves["x"][0] <= b <= curves["x"][-1]]
    ax.vlines(bps, y0, y0 + 0.05 * (y1 - y0), color="C4", lw=1, label="ReLU breakpoints")
    ax.set(xlabel="x", ylabel="y", title=f"fits to {summary['data']['label']}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    try:
        return write_figure(out / "fit.png", fig)
    finally:
        plt.close(fig)


def plot_pieces(out: Path) -> Path:
    """Draw pieces.png (ReLU pieces inside the data range vs width) from pieces.csv."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = _read_csv(out / "pieces.csv")
    n = json.loads((out / "fit_summary.json").read_text(encoding="utf-8"))["data"]["n"]
    widths = np.unique(table["width"])
    means = [table["n_pieces_inside"][table["width"] == w].mean() for w in widths]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(table["width"], table["n_pieces_inside"], "o", alpha=0.5, label="one seed")
    ax.plot(widths, means, "-", label="mean")
    ax.plot(widths, widths + 1, ":", color="0.5", label="width + 1 (most possible)")
    ax.axhline(n - 1, color="k", ls="--", lw=1, label=f"linear interpolant ({n - 1})")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="hidden width", ylabel="linear pieces inside data range")
    ax.legend(fontsize=8)
    try:
        return write_figure(out / "pieces.png", fig)
    finally:
        plt.close(fig)
