"""The interpolation explorer: drag 1-D training points and watch three interpolants.

One self-contained HTML page (``artifactlab interp explore --out FILE``). The user drags
training points, adds them with a click and removes them with a shift-click; the page
redraws the interpolating polynomial, the piecewise-linear interpolant and the
not-a-knot cubic spline, and reports their errors inside and outside the data range,
all computed in the browser by ``assets/interp.js``. The definitions are those of the
interp lab (:mod:`artifactlab.interp.fit1d`): the targets of ``TARGETS``, the fits
``fit_poly_interp``, ``fit_linear`` (end segments continued) and ``fit_spline``
(``bc_type="not-a-knot"``), and the scores of ``evaluate_fit``: MSE on 2001 points in
``[min x, max x]`` (inside), MSE and max error on 1000 points in each band of width
``band`` beyond the ends (outside). The initial points come from ``make_points``, so the
page starts where ``artifactlab interp fit`` does; the Python errors for them are
embedded too (``reference``), and the page checks its own numbers against them.

Example
-------
>>> data = explorer_data(target="sine", n=5)
>>> data["points"]["x"]
[-1.0, -0.5, 0.0, 0.5, 1.0]
>>> sorted(data["reference"])
['linear', 'poly-interp', 'spline']
>>> data["reference"]["linear"]["interp_mse"] > data["reference"]["spline"]["interp_mse"]
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artifactlab.errors import InputError
from artifactlab.io import json_safe, write_text
from artifactlab.web.page import asset, render_page

#: the lab's fitters the page reimplements, with the short names of the page's element ids
METHODS: dict[str, str] = {"poly-interp": "poly", "linear": "linear", "spline": "spline"}
#: what each method is called on the page
LABELS: dict[str, str] = {
    "poly-interp": "interpolating polynomial (barycentric)",
    "linear": "piecewise linear (end segments continued)",
    "spline": "cubic spline (not-a-knot)",
}
#: the three errors of :class:`artifactlab.interp.fit1d.FitScores`, with their id suffixes
ERRORS: dict[str, str] = {"interp_mse": "inside", "extrap_mse": "outside", "extrap_max": "outmax"}
N_GRID = 2001  # evaluate_fit's default grid, kept by the page

CSS = """
#plot { width: 100%; height: 560px; border: 1px solid #ddd; }
.controls button { margin-right: 0.6em; }
.hint { color: #555; font-size: 0.9em; }
#status.bad { color: #b00; font-weight: 600; }
#ref-check.ok { color: #060; }
#ref-check.bad { color: #b00; font-weight: 600; }
td.err { font-variant-numeric: tabular-nums; min-width: 7em; }
"""


def _as_points(points: Any) -> tuple[np.ndarray, np.ndarray]:
    """``points`` (N rows of x, y) as two float arrays; InputError unless N >= 2 and valid."""
    try:
        xy = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise InputError("points", "are not numbers", "give rows of x, y") from None
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError("points", f"have shape {xy.shape}", "give N rows of x, y")
    if xy.shape[0] < 2:
        raise InputError("points", f"need at least 2 points, got {xy.shape[0]}")
    if not np.isfinite(xy).all():
        raise InputError("points", "hold NaN or infinite values", "give finite x, y")
    if len(np.unique(xy[:, 0])) != xy.shape[0]:
        raise InputError("points", "have repeated x values", "interpolants need distinct x")
    return xy[:, 0].copy(), xy[:, 1].copy()


def lab_errors(
    x: Sequence[float], y: Sequence[float], target: str, band: float
) -> dict[str, dict[str, float]]:
    """The interp lab's errors of the three interpolants through ``(x, y)``.

    Parameters
    ----------
    x, y : sequence of float
        Training points (distinct x, any order).
    target : str
        A name in :data:`artifactlab.interp.fit1d.TARGETS` (the noise-free truth).
    band : float
        Width of each extrapolation band beyond ``[min x, max x]``.

    Returns
    -------
    dict
        ``{method: {"interp_mse", "extrap_mse", "extrap_max"}}`` for ``poly-interp``,
        ``linear`` and ``spline`` (not-a-knot), from ``fit1d.fit`` and ``evaluate_fit``.
    """
    from artifactlab.interp import fit1d

    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lo, hi = float(np.min(xa)), float(np.max(xa))
    out = {}
    for method in METHODS:
        fitted = fit1d.fit(method, xa, ya)
        scores = fit1d.evaluate_fit(fitted, fit1d.TARGETS[target], lo, hi, band, N_GRID)
        out[method] = {k: float(v) for k, v in scores._asdict().items()}
    return out


def _view(x: np.ndarray, y: np.ndarray, target: str, band: float) -> dict[str, list[float]]:
    """Fixed axis ranges: the bands plus a margin; y clipped to the data's scale (as fit.png)."""
    from artifactlab.interp import fit1d

    lo, hi = float(np.min(x)), float(np.max(x))
    pad_x = 0.15 * (hi - lo + 2 * band)
    x0, x1 = lo - band - pad_x, hi + band + pad_x
    ref = np.concatenate([y, fit1d.TARGETS[target](np.linspace(x0, x1, 801))])
    pad_y = 0.5 * (float(np.ptp(ref)) or 1.0)
    return {"x": [x0, x1], "y": [float(np.min(ref)) - pad_y, float(np.max(ref)) + pad_y]}


def explorer_data(
    points: Any = None,
    target: str = "runge",
    seed: int = 0,
    n: int = 11,
    noise: float = 0.0,
    spacing: str = "even",
    band: float = 0.5,
) -> dict[str, Any]:
    """The JSON the page embeds: initial points, band, view, and the lab's errors for them.

    Parameters are those of :func:`write_interp_explorer`. Raises InputError for an
    unknown target, a band that is not a positive finite number, or bad points.
    """
    from artifactlab.interp import fit1d

    if target not in fit1d.TARGETS:
        raise InputError(
            "--target", f"unknown target {target!r}", f"one of {sorted(fit1d.TARGETS)}"
        )
    if not (isinstance(band, int | float) and math.isfinite(band) and band > 0):
        raise InputError("--band", f"must be a finite number > 0, got {band}")
    sampled = points is None
    if sampled:
        points = np.column_stack(fit1d.make_points(target, n, noise, seed, spacing=spacing))
    x, y = _as_points(points)
    config = {"target": target, "n": int(x.size), "noise": noise, "seed": seed}
    config |= {"spacing": spacing if sampled else "given", "band": band}
    return json_safe(
        {
            "target": target,
            "band": float(band),
            "n_grid": N_GRID,
            "bc_type": "not-a-knot",
            "points": {"x": x.tolist(), "y": y.tolist()},
            "view": _view(x, y, target, band),
            "reference": lab_errors(x, y, target, band),
            "methods": [{"name": m, "id": s, "label": LABELS[m]} for m, s in METHODS.items()],
            "config": config,
        }
    )


def _error_table() -> str:
    """The error table: one row per method, cells ``#err-{short}-{inside|outside|outmax}``."""
    head = (
        "<tr><th>method</th><th>inside MSE</th><th>outside MSE</th>"
        "<th>outside max |error|</th></tr>"
    )
    rows = []
    for method, short in METHODS.items():
        cells = "".join(
            f'<td class="err" id="err-{short}-{suffix}" data-value="">-</td>'
            for suffix in ERRORS.values()
        )
        rows.append(f"<tr><td>{html.escape(LABELS[method])}</td>{cells}</tr>")
    return f'<table id="errors">{head}{"".join(rows)}</table>'


def _body(data: dict[str, Any]) -> str:
    target, band = html.escape(data["target"]), data["band"]
    return f"""
<h1>Interpolation vs extrapolation: <code>{target}</code></h1>
<p>Inside the data range <code>[min x, max x]</code> a fit interpolates; in the grey bands of
width {band:g} beyond it, it extrapolates. Errors are against the noise-free target, as in
<code>artifactlab interp fit</code>: MSE on {N_GRID} points inside, MSE and max |error| on
{N_GRID // 2} points in each band outside. All three curves pass through every point.</p>
<p class="hint">Drag a point to move it; click empty space to add one; shift-click a point to
remove it (at least 2 stay).</p>
<div class="controls"><button id="reset" type="button">Reset points</button>
<button id="remove-last" type="button">Remove last point</button>
<span id="n-points"></span> <span id="data-range"></span></div>
<div id="plot"></div>
<p id="status"></p>
{_error_table()}
<p id="ref-check"></p>
"""


def build_interp_page(data: dict[str, Any]) -> str:
    """The whole HTML document for :func:`explorer_data`'s ``data`` (plotly.js inlined)."""
    title = f"interpolation explorer: {data['target']}"
    return render_page(title, _body(data), data=data, scripts=(asset("interp.js"),), css=CSS)


def write_interp_explorer(
    out: Path,
    points: Any = None,
    target: str = "runge",
    seed: int = 0,
    n: int = 11,
    noise: float = 0.0,
    spacing: str = "even",
    band: float = 0.5,
) -> Path:
    """Write the interpolation explorer page to ``out`` (whole or not at all).

    Parameters
    ----------
    out : Path
        The HTML file to write (replaced if it exists; the CLI decides whether it may).
    points : array-like of shape (N, 2), optional
        Initial training points (x, y); by default ``fit1d.make_points(target, n, noise,
        seed, spacing=spacing)``, the points of ``artifactlab interp fit``.
    target : str
        ``runge``, ``sine`` or ``abs``: the truth the errors are measured against.
    seed, n, noise, spacing
        Passed to ``make_points`` when ``points`` is None.
    band : float
        Width of each extrapolation band (``--band`` of ``interp fit``).

    Returns
    -------
    Path
        ``out``.
    """
    data = explorer_data(points, target, seed, n, noise, spacing, band)
    return write_text(Path(out), build_interp_page(data))
