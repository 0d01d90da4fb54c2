"""Renderers of the README's result blocks: Figs. 2 and 3, ``compare``, the interpolation lab.

Each renderer recomputes its numbers from the committed CSV with the package's own
summarise functions (or reads the summary JSON where the CSV alone does not hold them),
and registers itself in :data:`artifactlab.report.docs.RENDERERS` under its key word.

Example
-------
>>> print(RENDERERS["verdict"](".", "docs/figures/fig2.csv", "ratio_5_to_20"))
partly supported
>>> sorted(k for k in RENDERERS if k.startswith("figure"))
['figure-claim', 'figure-table']
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from artifactlab.report.docs import RENDERERS, fmt_int, read_csv, read_json, renderer, table

__all__ = ["RENDERERS", "figure_summary", "dd_summary"]


@cache
def _figure_summary(csv_path: Path) -> dict:
    from artifactlab.experiments.reproduce import FIGURES
    from artifactlab.report.figures import summarise_figure  # matplotlib: slow import

    name = csv_path.stem
    if name not in FIGURES:
        raise ValueError(f"{csv_path}: not a figure CSV (name it {' or '.join(FIGURES)}.csv)")
    columns = next(iter(read_csv(csv_path)), {})
    if FIGURES[name] not in columns:
        raise ValueError(
            f"{csv_path}: no column {FIGURES[name]!r}, which the code plots for {name}; the CSV "
            f"was written by older code: regenerate it with `artifactlab reproduce {name}`"
        )
    return summarise_figure(name, csv_path, FIGURES[name])


def figure_summary(csv_path: str | Path) -> dict:
    """What ``render_figure`` computes from ``figN.csv`` (``points``, ``claims``, ``text``)."""
    return _figure_summary(Path(csv_path).resolve())


@renderer("figure-table")
def figure_table(root: str | Path, path: str) -> str:
    """Artifacts (mean +- sd), ratio to ``N`` and share of contexts per x value of a figure."""
    csv_path = Path(root) / path
    summary, rows = figure_summary(csv_path), read_csv(csv_path)
    points = summary["points"]
    seeds = {p["n_trials"] for p in points}
    n_seeds = f"{seeds.pop()} seeds" if len(seeds) == 1 else "seeds vary"
    if summary["x"] == "n_train":
        head = [f"{summary['name']}: training triples `N`"]
        head += [fmt_int(p["x"]) for p in points]
        art_label = f"artifacts (mean +- sd, {n_seeds})"
    else:
        width = {float(r[summary["x"]]): r["model.d_model"] for r in rows}
        head = [f"{summary['name']}: non-embedding parameters (`d_model`)"]
        head += [f"{fmt_int(p['x'])} ({width[p['x']]})" for p in points]
        n_train = sorted({int(float(r["n_train"])) for r in rows})
        art_label = f"artifacts (mean +- sd, {n_seeds}), `N = {', '.join(map(str, n_train))}`"
    art = [
        f"{fmt_int(p['mean_artifacts'])} +- {fmt_int(p['std_artifacts'])}"
        + (" (underfit)" if p["n_not_converged"] else "")
        for p in points
    ]
    body = [
        [art_label, *art],
        ["ratio to `N`", *(f"{p['mean_ratio']:.1f}x" for p in points)],
        [
            "share of the `V^2` contexts holding an artifact",
            *(f"{100 * p['context_share']:.0f}%" for p in points),
        ],
    ]
    return table(head, body)


@renderer("verdict")
def verdict(root: str | Path, path: str, claim: str) -> str:
    """The computed verdict word of one claim (``ratio_5_to_20``, ...) of a figure."""
    claims = figure_summary(Path(root) / path)["claims"]
    if claim not in claims:
        raise ValueError(f"{path}: no claim {claim!r}; it has {', '.join(claims)}")
    return claims[claim]["verdict"]


@renderer("figure-claim")
def figure_claim(root: str | Path, path: str, claim: str) -> str:
    """A claim's verdict word followed by the numbers it was computed from, inline."""
    c = figure_summary(Path(root) / path)["claims"].get(claim)
    if c is None:
        raise ValueError(f"{path}: no claim {claim!r}")
    if claim == "ratio_5_to_20":
        detail = (
            f"{c['trials_in_band']} of {c['trials']} trials in the 5-20x band; "
            f"observed {c['min_ratio']:.1f}x to {c['max_ratio']:.1f}x"
        )
    elif claim == "more_params_fewer_artifacts":
        lo, hi = (
            f"{v:+.2f}" if v == v and v is not None else "n/a" for v in (c["ci_low"], c["ci_high"])
        )
        detail = f"Spearman rho = {c['spearman_rho']:+.2f}, 95% interval over seeds [{lo}, {hi}]"
    else:
        detail = f"{c['largest_model_mean_ratio']:.1f}x at the largest model"
    return f"{c['verdict']} ({detail})"


@renderer("compare-table")
def compare_table(root: str | Path, path: str) -> str:
    """The means-per-model table of ``artifactlab compare`` from its ``compare.csv``."""
    from artifactlab.experiments.compare import summarise

    text = summarise(Path(root) / path)["text"]
    return text.split("means over seeds:\n", 1)[1]


@renderer("interp-fit")
def interp_fit(root: str | Path, path: str) -> str:
    """Errors of each 1-D fit, inside the data's range and in the band outside it."""
    s = read_json(Path(root) / path)
    band = s["config"]["band"]
    rows = []
    for r in s["results"]:
        pieces = "" if r["n_pieces"] is None else f"{r['n_pieces']} ({r['n_pieces_inside']})"
        rows.append(
            [
                f"`{r['method']}`",
                f"{r['interp_mse']:.2g}",
                f"{r['extrap_mse']:.2g}",
                f"{r['train_mse']:.2g}",
                pieces,
            ]
        )
    head = [
        f"{s['data']['label']}, {s['data']['n']} points",
        "MSE inside the range",
        f"MSE outside (band {band:g})",
        "train MSE",
        "linear pieces (inside)",
    ]
    return table(head, rows)


@renderer("interp-pieces")
def interp_pieces(root: str | Path, path: str) -> str:
    """Mean linear pieces inside the data per ReLU width, over seeds, from ``pieces.csv``."""
    rows = read_csv(Path(root) / path)
    widths = sorted({int(r["width"]) for r in rows})
    cells = []
    for w in widths:
        sel = [r for r in rows if int(r["width"]) == w]
        inside = np.mean([float(r["n_pieces_inside"]) for r in sel])
        capped = sum(int(float(r["steps"])) >= 3000 for r in sel)
        cells.append((w, len(sel), inside, capped))
    head = ["ReLU width", *(str(w) for w, *_ in cells)]
    return table(
        head,
        [
            ["seeds", *(str(n) for _, n, _, _ in cells)],
            ["mean linear pieces inside the data", *(f"{x:.1f}" for _, _, x, _ in cells)],
            ["seeds that hit the 3000-step cap", *(str(c) for *_, c in cells)],
        ],
    )


@renderer("interp-hull")
def interp_hull(root: str | Path, path: str) -> str:
    """The interpolation rate per dimension (rows) and number of training points (columns)."""
    rows = read_csv(Path(root) / path)
    n_trains = sorted({int(r["n_train"]) for r in rows})
    rate = {(int(r["dim"]), int(r["n_train"])): float(r["rate"]) for r in rows}
    dims = sorted({d for d, _ in rate})
    head = ["d", *(f"rate, {fmt_int(n)} training points" for n in n_trains)]
    body = [
        [str(d), *(f"{rate[d, n]:.3f}" if (d, n) in rate else "" for n in n_trains)] for d in dims
    ]
    return table(head, body)


def dd_summary(summary_path: str | Path) -> dict:
    """The double-descent summary recomputed from the CSV next to ``summary_path``."""
    from artifactlab.interp import double_descent as dd

    path = Path(summary_path)
    committed = read_json(path)
    rows = read_csv(path.parent / "double_descent.csv")
    typed = [{k: float(v) for k, v in r.items()} for r in rows]
    out = dict(dd.summarise(typed, int(committed["samples"])))
    out.update(seeds=int(float(rows[0]["seeds"])), features_max=int(float(rows[-1]["features"])))
    return out


@renderer("interp-dd")
def interp_dd(root: str | Path, path: str) -> str:
    """Test error well below, at, and well above the interpolation threshold, and the peak."""
    s = dd_summary(Path(root) / path)
    points = [
        ("well below (nearest n/4)", s["below_features"], s["below_test_error"]),
        (
            "at the threshold (features = samples)",
            s["threshold_features"],
            s["threshold_test_error"],
        ),
        ("peak", s["peak_features"], s["peak_test_error"]),
        ("well above (nearest 4n)", s["above_features"], s["above_test_error"]),
    ]
    head = [f"{s['samples']} samples, {s['seeds']} seeds", "features", "mean test MSE"]
    body = [[name, str(p), f"{err:.2g}"] for name, p, err in points]
    verdict = "yes" if s["double_descent"] else "no"
    note = (
        f"Double descent (the threshold's error above both sides): **{verdict}**; "
        f"peak / well below = {s['peak_over_below']:.0f}x, "
        f"peak / well above = {s['peak_over_above']:.0f}x."
    )
    return table(head, body) + "\n\n" + note


def rerender_results(root: str | Path) -> list[Path]:
    """Rebuild every figure's and comparison's summary (and plot) from its committed CSV.

    Nothing is retrained: this is ``artifactlab reproduce FIG --render-only`` for each
    ``docs/figures/**/figN.csv`` and :func:`artifactlab.experiments.compare.render` for each
    ``docs/figures/compare/*/compare.csv``. Returns the folders rebuilt.
    """
    from artifactlab.experiments.compare import render as render_compare
    from artifactlab.experiments.reproduce import FIGURES, render_figure

    base, done = Path(root), []
    for name in FIGURES:
        for csv_path in sorted(base.glob(f"docs/figures/**/{name}.csv")):
            render_figure(name, csv_path.parent)
            done.append(csv_path.parent)
    for csv_path in sorted(base.glob("docs/figures/compare/*/compare.csv")):
        folder = csv_path.parent
        render_compare(folder, f"{folder.name}: generalizations vs hallucinations")
        done.append(folder)
    _figure_summary.cache_clear()
    return done


@renderer("axes-table")
def axes_table(root: str | Path, path: str) -> str:
    """One verdict per axis and tau of Fig. 3 along each axis, from the CSVs next to ``path``.

    Each cell is ``trend(params_non_embedding, n_artifacts@tau, seeds, "negative")``
    recomputed from the axis's CSV; the last column is the mean unfolding rank of
    ``1[M^n > 0.5]`` (contexts x next token) over the axis's points.
    """
    from artifactlab.experiments.reproduce import FIG3_AXES
    from artifactlab.report.figures import summarise_axis

    base = (Path(root) / path).parent  # path: the d_model axis's fig3.csv
    taus: list[str] = []
    body = []
    for axis in FIG3_AXES:
        csv_path = base / ("fig3.csv" if axis == "d_model" else f"fig3-{axis}.csv")
        s = summarise_axis(csv_path, axis)
        taus = taus or list(s["verdicts"])
        xs = [p["params_non_embedding"] for p in s["points"]]
        cells = [f"`{axis}` ({fmt_int(min(xs))}-{fmt_int(max(xs))})"]
        for tau in taus:
            v = s["verdicts"][tau]
            interval = (
                f" [{v['ci_low']:+.2f}, {v['ci_high']:+.2f}]" if v["ci_low"] is not None else ""
            )
            cells.append(f"{v['verdict']} ({v['rho']:+.2f}{interval})")
        ranks = [p["completion_rank"].get("0.5") for p in s["points"]]
        ranks = [r for r in ranks if r is not None]
        cells.append(f"{min(ranks):.0f}-{max(ranks):.0f}" if ranks else "-")
        body.append(cells)
    head = ["axis (non-embedding params)", *(f"tau = {t}" for t in taus)]
    return table([*head, "rank of 1[M > 0.5]"], body)
