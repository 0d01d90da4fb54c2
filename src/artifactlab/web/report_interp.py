"""The report's sections for the interpolation lab: ``interp fit``, ``hull`` and ``double-descent``.

Each reads one ``--out`` folder as the command wrote it, and nothing else:

- ``interp fit``: ``fit_summary.json`` (config, data range, per-method errors, ReLU
  breakpoints, provenance, the command line) with ``fit.csv``, ``fit_curves.csv``,
  ``fit_points.csv`` and ``pieces.csv``;
- ``interp hull --experiment``: ``hull_rate.csv`` (``dim,n_train,rate``) and
  ``hull_summary.json`` (config, results, provenance, the command line); folders written
  before the summary existed hold only the CSV, and report without configuration,
  provenance or command. Without ``--experiment`` it prints its result and writes no file;
- ``interp double-descent``: ``double_descent_summary.json`` (the results, and, since it
  records them, config, provenance and the command line) with ``double_descent.csv``
  and, with ``--with-artifacts``, ``artifacts.csv``.
Each command is rebuilt from the recorded config and shown only when it checks out (see
:func:`~artifactlab.web.report_commands.interp_fit_command` and its siblings).

Example
-------
>>> from pathlib import Path
>>> s = hull_section(Path("docs/figures/interp/hull"), "interp-hull")
>>> [f.id for f in s.figures], len(s.tables[0].rows)
(['interp-hull-dims', 'interp-hull-sizes'], 24)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artifactlab.errors import InputError
from artifactlab.web.report_commands import (
    interp_dd_command,
    interp_fit_command,
    interp_hull_command,
    shell,
)
from artifactlab.web.report_figures import Figure, Trace, log_scale
from artifactlab.web.report_model import (
    Section,
    read_csv,
    read_summary,
    recorded_provenance,
    rows_table,
    to_float,
)

#: the summary files of the interp commands (discovered by :mod:`artifactlab.web.report`)
SUMMARIES = {"fit": "fit_summary.json", "double_descent": "double_descent_summary.json"}
#: the other files each interp result is made of (none of them is a result of its own)
FILES = {
    "fit": ("fit.csv", "fit_curves.csv", "fit_points.csv", "pieces.csv", "fit.png", "pieces.png"),
    "double_descent": ("double_descent.csv", "artifacts.csv", "double_descent.png"),
    "hull_rate": ("hull_rate.csv", "hull_rate.png", "hull_summary.json"),
}
_DD_KEYS = tuple(
    "samples double_descent peak_features peak_test_error threshold_features "
    "threshold_test_error below_features below_test_error above_features above_test_error".split()
)
_YES_NO = {True: "yes", False: "no"}
_NOT_RECORDED = (
    "not recorded: this {} folder has no package version, git revision or date "
    "(it was written before they were recorded)"
)


def _g(value: Any) -> str:
    """A recorded number to 3 significant digits (other values as they are)."""
    x = to_float(value)
    return str(value) if x is None else f"{x:.3g}"


def _rows(path: Path) -> list[dict[str, str]]:
    return read_csv(path) if path.is_file() else []


def _column(rows: list[dict[str, Any]], key: str) -> list[float | None]:
    return [to_float(r.get(key)) for r in rows]


def _guide(name: str, xs: list, ys: list, colour: str = "#7f7f7f") -> Trace:
    """A dashed reference line (a threshold, a bound, the edges of the data)."""
    return Trace(name, xs, ys, "lines", dash=True, colour=colour)


def _mark(name: str, xs: list, ys: list, marker: str, colour: str, size: int, **kw: Any) -> Trace:
    return Trace(name, xs, ys, marker=marker, colour=colour, size=size, **kw)


def _bad(path: Path, what: str) -> InputError:
    return InputError(str(path), f"is not a result this artifactlab reads ({what})", "rebuild it")


# --- interp fit ------------------------------------------------------------------------------


def _y_range(points: list[dict], curves: list[dict]) -> tuple[float, float] | None:
    """The y range of fit.png: the data and the target, padded by half their spread."""
    ref = [v for v in _column(points, "y") + _column(curves, "target") if v is not None]
    if not ref:
        return None
    pad = 0.5 * ((max(ref) - min(ref)) or 1.0)
    return min(ref) - pad, max(ref) + pad


def _fit_curves(sid: str, summary: dict, curves: list[dict], points: list[dict]) -> Figure:
    xs = _column(curves, "x")
    names = [name for name in (curves[0] if curves else {}) if name != "x"]
    style = {"target": {"dash": True, "colour": "#000"}}
    traces = [Trace(k, xs, _column(curves, k), "lines", **style.get(k, {})) for k in names]
    traces.append(_mark("data", _column(points, "x"), _column(points, "y"), "circle", "#000", 8))
    y_range = _y_range(points, curves)
    data = summary["data"]
    if y_range is not None:
        y0, y1 = y_range
        lo, hi = to_float(data.get("x_min")), to_float(data.get("x_max"))
        edges = [lo, lo, None, hi, hi], [y0, y1, None, y0, y1]
        seen = [x for x in xs if x is not None]
        bps = [b for b in map(to_float, summary.get("relu_breakpoints") or []) if b is not None]
        bps = [b for b in bps if seen and min(seen) <= b <= max(seen)]
        mark = y0 + 0.03 * (y1 - y0)
        hover = [f"ReLU breakpoint at x = {b:.4g}" for b in bps]
        if lo is not None and hi is not None:
            traces.append(_guide("edges of the data (extrapolation beyond)", *edges))
        if bps:
            at = [mark] * len(bps)
            traces.append(_mark("ReLU breakpoints", bps, at, "diamond", "#9467bd", 6, hover=hover))
    caption = "the y axis is limited to the data's scale, as in fit.png (autoscale shows all)"
    return Figure(
        f"{sid}-curves",
        f"fits to {data.get('label')}",
        "x",
        "y",
        traces,
        caption=caption if y_range else "",
        y_range=y_range,
    )


def _fit_errors(sid: str, results: list[dict]) -> Figure | None:
    names = [str(r.get("method")) for r in results]
    measures = (
        ("interp_mse", "MSE inside the data range"),
        ("extrap_mse", "MSE beyond it (extrapolation)"),
        ("extrap_max", "max |error| beyond it"),
    )
    traces = []
    for key, label in measures:
        ys = _column(results, key)
        hover = [f"{m}: {key} {_g(y)}" for m, y in zip(names, ys, strict=True)]
        if any(y is not None for y in ys):
            traces.append(Trace(label, names, ys, hover=hover, size=10))
    if not traces:
        return None
    values = [y for t in traces for y in t.y]
    positive = all(y is None or y > 0 for y in values)
    return Figure(
        f"{sid}-errors",
        "errors inside vs beyond the data, per method",
        "method",
        "error (as fit.csv records it)",
        traces,
        y_log=positive and log_scale(values),
    )


def _fit_pieces(sid: str, pieces: list[dict], n: Any) -> Figure:
    widths = sorted({w for w in _column(pieces, "width") if w is not None})
    inside = _column(pieces, "n_pieces_inside")
    means = []
    for w in widths:
        got = [v for r, v in zip(pieces, inside, strict=True) if to_float(r.get("width")) == w]
        got = [v for v in got if v is not None]
        means.append(sum(got) / len(got) if got else None)
    hover = [
        f"width {r.get('width')}, seed {r.get('seed')}: {r.get('n_pieces_inside')} pieces inside"
        f" ({r.get('n_pieces')} in all), train MSE {_g(r.get('train_mse'))}, {r.get('steps')} steps"
        for r in pieces
    ]
    traces = [
        Trace("one seed", _column(pieces, "width"), inside, hover=hover),
        Trace("mean over seeds", widths, means, "lines"),
        _guide("width + 1 (most possible)", widths, [w + 1 for w in widths], "#2ca02c"),
    ]
    if to_float(n) is not None and widths:
        line = f"linear interpolant ({int(float(n)) - 1})"
        traces.append(_guide(line, [widths[0], widths[-1]], [float(n) - 1] * 2, "#000"))
    return Figure(
        f"{sid}-pieces",
        "ReLU linear pieces inside the data range vs width",
        "hidden width",
        "linear pieces inside the data range",
        traces,
        x_log=log_scale(widths),
    )


def _fit_lines(summary: dict, results: list[dict]) -> list[str]:
    data, config = summary["data"], summary["config"]
    if config.get("test"):
        scored = f"scored against the held-out points of {config['test']}"
    elif all(to_float(r.get("interp_mse")) is None for r in results):
        scored = "not scored (a CSV target without --test)"
    else:
        scored = f"scored against the noise-free target {config.get('target')}"
    lines = [
        f"data: {data.get('label')}, {data.get('n')} points on [{_g(data.get('x_min'))}, "
        f"{_g(data.get('x_max'))}]; {scored}; extrapolation bands of width "
        f"{config.get('band')} beyond each end"
    ]
    for r in results:
        if to_float(r.get("n_pieces")) is not None:
            lines.append(
                f"{r.get('method')} (width {config.get('width')}): {r.get('n_pieces')} linear "
                f"pieces, {r.get('n_pieces_inside')} inside the data range; "
                f"{len(summary.get('relu_breakpoints') or [])} breakpoints recorded"
            )
    return lines


def _read_fit(path: Path) -> dict:
    summary = read_summary(path, ("config", "data", "results"))
    if not isinstance(summary["config"], dict) or not isinstance(summary["data"], dict):
        raise _bad(path, "its config or data is not an object")
    results = summary["results"]
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise _bad(path, "its results are not a list of objects")
    return summary


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _recorded(section: Section, summary: dict, path: Path, command: list[str]) -> None:
    """Settings, provenance and the recorded command line of a summary that has a config."""
    section.settings = {k: _shown(v) for k, v in summary["config"].items()}
    section.provenance = recorded_provenance(summary.get("provenance"), path)
    words = summary.get("command")
    if isinstance(words, list) and words[1 : 1 + len(command)] == command:  # not a test runner
        section.provenance["command line (as recorded)"] = shell([str(w) for w in words])


def fit_section(folder: Path, sid: str) -> Section:
    """The section of one ``interp fit --out`` folder."""
    path = folder / SUMMARIES["fit"]
    summary = _read_fit(path)
    table = _rows(folder / "fit.csv")
    results = table or summary["results"]
    curves, points = _rows(folder / "fit_curves.csv"), _rows(folder / "fit_points.csv")
    pieces = _rows(folder / "pieces.csv")
    label = summary["data"].get("label")
    section = Section(sid, "interp", f"interp fit: 1-D fits to {label}, inside vs beyond", path)
    section.lines = _fit_lines(summary, results)
    if curves or points:
        section.figures.append(_fit_curves(sid, summary, curves, points))
    errors = _fit_errors(sid, results)
    section.figures += [errors] if errors is not None else []
    if pieces:
        section.figures.append(_fit_pieces(sid, pieces, summary["data"].get("n")))
    section.tables = [rows_table(f"per method ({'fit.csv' if table else path.name})", results)]
    if pieces:
        section.tables.append(rows_table("ReLU pieces per width and seed (pieces.csv)", pieces))
    _recorded(section, summary, section.path, ["interp", "fit"])
    command = interp_fit_command(folder, summary["config"])
    section.commands += [command] if command is not None else []
    return section


# --- interp hull --experiment -------------------------------------------------------------------


def _hull_rows(path: Path) -> list[dict[str, Any]]:
    rows = read_csv(path)
    if not rows or list(rows[0]) != ["dim", "n_train", "rate"]:
        raise _bad(path, "not the columns dim, n_train, rate, or no rows")
    out = []
    for line, r in enumerate(rows, 2):
        values = [to_float(r.get(k)) for k in ("dim", "n_train", "rate")]
        if any(v is None for v in values):
            raise InputError(f"{path}:{line}", "has a missing or non-numeric value")
        out.append(dict(zip(("dim", "n_train", "rate"), values, strict=True)))
    return out


def _hull_figure(sid: str, rows: list[dict], x: str, group: str, suffix: str) -> Figure:
    traces = []
    for g in sorted({r[group] for r in rows}):
        line = sorted((r for r in rows if r[group] == g), key=lambda r: r[x])
        hover = [
            f"d = {r['dim']:g}, n_train = {r['n_train']:g}: rate {r['rate']:.4g} inside the hull"
            for r in line
        ]
        xs, ys = [r[x] for r in line], [r["rate"] for r in line]
        traces.append(Trace(f"{group} = {g:g}", xs, ys, "lines+markers", hover=hover))
    label = "dimension d" if x == "dim" else "training points n_train"
    return Figure(
        f"{sid}-{suffix}",
        f"share of test points inside the hull vs {label}",
        label,
        "share of test points inside the hull (rate)",
        traces,
        x_log=log_scale([r[x] for r in rows]),
    )


def _read_hull_summary(path: Path) -> dict | None:
    """``hull_summary.json`` when the folder has one (None for older folders)."""
    if not path.is_file():
        return None
    summary = read_summary(path, ("config",))
    if not isinstance(summary["config"], dict):
        raise _bad(path, "its config is not an object")
    return summary


def _hull_cells_match(config: dict, rows: list[dict]) -> bool:
    """Whether the recorded dims and training sizes are exactly the cells of hull_rate.csv."""
    try:
        cells = [(float(d), float(n)) for d in config["dims"] for n in config["n_trains"]]
    except (KeyError, TypeError, ValueError):
        return False
    return cells == [(r["dim"], r["n_train"]) for r in rows]


def hull_section(folder: Path, sid: str) -> Section:
    """The section of one ``interp hull --experiment --out`` folder (``hull_rate.csv``).

    With ``hull_summary.json`` (newer folders) it also shows the recorded configuration,
    provenance and command line, and the command rebuilt from the config (only when the
    config's cells are the CSV's and its options check out).
    """
    path = folder / "hull_rate.csv"
    rows = _hull_rows(path)
    summary_path = folder / "hull_summary.json"
    summary = _read_hull_summary(summary_path)
    section = Section(
        sid, "interp", "interp hull --experiment: Gaussian data inside the hull", path
    )
    dims = sorted({r["dim"] for r in rows})
    sizes = sorted({r["n_train"] for r in rows})
    section.lines = [
        "rate: the share of standard-normal test points inside the convex hull of "
        "standard-normal training points (they interpolate); the rest extrapolate",
        f"{len(rows)} cells: dimensions {', '.join(f'{d:g}' for d in dims)}; training sizes "
        f"{', '.join(f'{n:g}' for n in sizes)}",
    ]
    section.figures = [_hull_figure(sid, rows, "dim", "n_train", "dims")]
    if len(sizes) > 1:
        section.figures.append(_hull_figure(sid, rows, "n_train", "dim", "sizes"))
    section.tables = [rows_table("per dimension and training size (hull_rate.csv)", read_csv(path))]
    if summary is None:
        section.lines.append("why no command: hull_rate.csv does not record --n-test or --seed")
        section.provenance = {"provenance": _NOT_RECORDED.format("interp hull --experiment")}
        return section
    config = summary["config"]
    section.lines.append(
        f"{config.get('n_test')} test points per cell, seed {config.get('seed')}, tolerance "
        f"{config.get('tol')} (L1 distance to the hull that still counts as inside)"
    )
    _recorded(section, summary, summary_path, ["interp", "hull"])
    if not _hull_cells_match(config, rows):
        section.lines.append(
            "why no command: the config in hull_summary.json does not give the cells of "
            "hull_rate.csv"
        )
        return section
    command = interp_hull_command(folder, config)
    section.commands += [command] if command is not None else []
    return section


# --- interp double-descent ----------------------------------------------------------------------


def _dd_curve(sid: str, summary: dict, rows: list[dict]) -> Figure:
    xs = _column(rows, "features")
    floor = 1e-12
    hover = [
        f"{r.get('features')} features: test MSE mean {_g(r.get('mean_test_error'))}, median "
        f"{_g(r.get('median_test_error'))}, std {_g(r.get('std_test_error'))}; train MSE "
        f"{_g(r.get('mean_train_error'))} ({r.get('seeds')} seeds)"
        for r in rows
    ]
    train = [None if v is None else max(v, floor) for v in _column(rows, "mean_train_error")]
    test = _column(rows, "mean_test_error")
    traces = [
        Trace("test MSE (mean over seeds)", xs, test, "lines+markers", hover=hover),
        Trace(f"train MSE (clipped at {floor:g})", xs, train, "lines+markers", hover=hover),
    ]
    seen = [v for v in test + train if v is not None and v > 0]
    n = to_float(summary["samples"])
    if seen and n is not None:
        traces.append(_guide(f"features = samples = {n:g}", [n, n], [min(seen), max(seen)]))
    peak = [to_float(summary["peak_features"]), to_float(summary["peak_test_error"])]
    name = f"peak (as the summary states): {_g(peak[0])} features"
    traces.append(_mark(name, peak[:1], peak[1:], "star", "#d62728", 14))
    values = [v for t in traces for v in t.y]
    return Figure(
        f"{sid}-curve",
        "double descent: test error vs random features",
        "random features P",
        "mean squared error",
        traces,
        x_log=log_scale(xs),
        y_log=all(v is None or v > 0 for v in values),
    )


def _dd_artifacts(sid: str, rows: list[dict]) -> Figure:
    rows = sorted(rows, key=lambda r: to_float(r.get("params_non_embedding")) or 0)
    xs = _column(rows, "params_non_embedding")
    mode = "lines+markers" if len(set(xs)) == len(xs) else "markers"
    hover = [
        f"d_model {r.get('d_model')}, seed {r.get('seed')}: {r.get('n_artifacts@0.5')} artifacts"
        f", held-out error {_g(r.get('test_error'))}, train accuracy {_g(r.get('train_accuracy'))}"
        for r in rows
    ]
    traces = [
        Trace("artifacts (tau = 0.5)", xs, _column(rows, "n_artifacts@0.5"), mode, hover=hover),
        Trace(
            "held-out error",
            xs,
            _column(rows, "test_error"),
            mode,
            hover=hover,
            secondary=True,
            marker="square",
            dash=True,
        ),
    ]
    return Figure(
        f"{sid}-artifacts",
        "toy transformer on random triples",
        "non-embedding parameters",
        "artifacts",
        traces,
        x_log=log_scale(xs),
        y2_label="held-out error (chance: 1 - 1/V)",
        y2_range=(0, 1.05),  # as double_descent.png: the error is near chance at every width
    )


def _dd_lines(s: dict) -> tuple[list[str], list[str]]:
    setup = (
        f"random-features regression: {s.get('kind')} features, ridge {s.get('ridge')} (0: "
        f"minimum norm), label noise {s.get('noise')}, input dimension {s.get('dim')}; "
        f"{s['samples']} training samples, up to {s.get('features_max')} features, "
        f"{s.get('seeds')} seeds"
    )
    numbers = (
        f"test MSE (mean over seeds): {_g(s['below_test_error'])} at {s['below_features']} "
        f"features (well below), {_g(s['threshold_test_error'])} at the threshold "
        f"({s['threshold_features']}), {_g(s['above_test_error'])} at {s['above_features']} "
        f"(well above); peak {_g(s['peak_test_error'])} at {s['peak_features']} features"
    )
    verdict = (
        f"double descent: {_YES_NO.get(s['double_descent'], s['double_descent'])} "
        "(true when the test error at the threshold is above both the errors well below and "
        f"well above it); peak / below {_g(s.get('peak_over_below'))}, peak / above "
        f"{_g(s.get('peak_over_above'))}"
    )
    lines = [setup, numbers]
    config = s.get("config")
    if isinstance(config, dict):
        grid = f"first seed {config.get('seed')}, {config.get('n_points')} log-spaced feature"
        lines.insert(1, f"{grid} counts, {config.get('n_test')} held-out points per seed")
    else:
        lines.append(
            "why no command: the summary does not record --seed or --n-points "
            "(nor the --artifacts-* options)"
        )
    return lines, [verdict]


def double_descent_section(folder: Path, sid: str) -> Section:
    """The section of one ``interp double-descent --out`` folder."""
    path = folder / SUMMARIES["double_descent"]
    summary = read_summary(path, _DD_KEYS)
    rows, art = _rows(folder / "double_descent.csv"), _rows(folder / "artifacts.csv")
    title = "interp double-descent: test error vs random features"
    section = Section(sid, "interp", title, path)
    section.lines, section.verdicts = _dd_lines(summary)
    if rows:
        section.figures.append(_dd_curve(sid, summary, rows))
        section.tables.append(rows_table("per feature count (double_descent.csv)", rows))
    if art:
        section.figures.append(_dd_artifacts(sid, art))
        section.tables.append(rows_table("toy transformers per width (artifacts.csv)", art))
    config = summary.get("config")
    if not isinstance(config, dict):  # written before the config was recorded
        if config is not None:
            raise _bad(path, "its config is not an object")
        keys = ("kind", "ridge", "noise", "dim", "samples", "seeds", "features_max", "files")
        section.settings = {k: _shown(summary[k]) for k in keys if k in summary}
        section.provenance = {"provenance": _NOT_RECORDED.format("interp double-descent")}
        return section
    _recorded(section, summary, path, ["interp", "double-descent"])
    section.settings |= {"files": _shown(summary["files"])} if "files" in summary else {}
    command = interp_dd_command(folder, config)
    section.commands += [command] if command is not None else []
    return section
