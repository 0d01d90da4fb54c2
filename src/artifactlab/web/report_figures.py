"""The report's figures: one neutral description, drawn twice (Plotly JSON and a matplotlib PNG).

A :class:`Figure` holds its traces as plain numbers. :func:`plotly_figure` turns it into
the ``{"data", "layout"}`` object that ``assets/report.js`` hands to ``Plotly.newPlot``
(hover shows each point's own text), and :func:`draw_png` draws the same traces with
matplotlib for the static copy ``OUT/figures/ID.png`` (plotly's static export needs
kaleido). Both read the same lists, so the page and the PNG show the same data.

Example
-------
>>> fig = Figure("f1", "artifacts", "N", "count",
...              [Trace("mean", [1, 2], [3.0, float("nan")], hover=["a", "b"])])
>>> spec = plotly_figure(fig)
>>> spec["data"][0]["y"], spec["data"][0]["hovertext"], spec["layout"]["xaxis"]["title"]
([3.0, None], ['a', 'b'], {'text': 'N'})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: matplotlib markers for the few Plotly marker symbols the report uses
_MARKERS = {"circle": "o", "star": "*", "square": "s", "diamond": "D"}
#: the default colour cycle (matplotlib's tab10, which Plotly's default also is)
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


@dataclass
class Trace:
    """One series of a figure.

    Attributes
    ----------
    name : str
        Its legend entry.
    x, y : list
        The coordinates (``None`` or NaN where a value is missing).
    mode : str
        ``"markers"``, ``"lines"`` or ``"lines+markers"``.
    y_err, x_err : tuple of two lists, optional
        Error bar lengths below and above (left and right of) each point.
    hover : list of str, optional
        The text shown when hovering over each point.
    secondary : bool
        Draw against the second y axis (``Figure.y2_label``).
    dash : bool
        A dashed line.
    marker : str
        ``circle``, ``star``, ``square`` or ``diamond``.
    size : int
        Marker size in pixels.
    colour : str, optional
        A colour; default: the next one of :data:`COLOURS`.
    step : bool
        Draw the line as steps (horizontal, then vertical), as a Pareto front.
    """

    name: str
    x: list[Any]
    y: list[Any]
    mode: str = "markers"
    y_err: tuple[list[float], list[float]] | None = None
    x_err: tuple[list[float], list[float]] | None = None
    hover: list[str] | None = None
    secondary: bool = False
    dash: bool = False
    marker: str = "circle"
    size: int = 7
    colour: str | None = None
    step: bool = False


@dataclass
class Figure:
    """One figure of the report: an id (its PNG's name), a title, axes and traces."""

    id: str
    title: str
    x_label: str
    y_label: str
    traces: list[Trace] = field(default_factory=list)
    x_log: bool = False
    y_log: bool = False
    y2_label: str | None = None
    caption: str = ""
    y_range: tuple[float, float] | None = None  # the initial y range (linear axes only)
    y2_range: tuple[float, float] | None = None  # the same for the second y axis


def clean(values: list[Any]) -> list[Any]:
    """Numbers with NaN and infinities as None (JSON has neither)."""
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]


def log_scale(values: list[Any]) -> bool:
    """Whether positive values spanning more than a decade are better drawn on a log axis."""
    xs = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    return bool(xs) and min(xs) > 0 and max(xs) > 10 * min(xs)


def _colour(fig: Figure, i: int) -> str:
    return fig.traces[i].colour or COLOURS[i % len(COLOURS)]


def _plotly_trace(fig: Figure, i: int) -> dict[str, Any]:
    t = fig.traces[i]
    colour = _colour(fig, i)
    out: dict[str, Any] = {
        "type": "scatter",
        "name": t.name,
        "x": clean(t.x),
        "y": clean(t.y),
        "mode": t.mode,
        "marker": {"symbol": t.marker, "size": t.size, "color": colour},
        "line": {
            "color": colour,
            "dash": "dash" if t.dash else "solid",
            "shape": "hv" if t.step else "linear",
        },
    }
    if t.hover is not None:
        out["hovertext"] = list(t.hover)
        out["hoverinfo"] = "text+name"
    for key, err in (("error_y", t.y_err), ("error_x", t.x_err)):
        if err is not None:
            out[key] = {
                "type": "data",
                "symmetric": False,
                "array": clean(err[1]),
                "arrayminus": clean(err[0]),
                "color": colour,
            }
    if t.secondary:
        out["yaxis"] = "y2"
    return out


def plotly_figure(fig: Figure) -> dict[str, Any]:
    """The figure as a Plotly ``{"data": [...], "layout": {...}}`` object."""
    named = any(isinstance(x, str) for t in fig.traces for x in t.x)  # categories (methods)
    x_type = "category" if named else "log" if fig.x_log else "linear"
    layout: dict[str, Any] = {
        "title": {"text": fig.title, "font": {"size": 14}},
        "xaxis": {"title": {"text": fig.x_label}, "type": x_type},
        "yaxis": {"title": {"text": fig.y_label}, "type": "log" if fig.y_log else "linear"},
        "hovermode": "closest",
        "margin": {"l": 70, "r": 70 if fig.y2_label else 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.2},
        "height": 420,
    }
    if fig.y_range is not None and not fig.y_log:
        layout["yaxis"]["range"] = list(fig.y_range)
    if fig.y2_label:
        layout["yaxis2"] = {"title": {"text": fig.y2_label}, "overlaying": "y", "side": "right"}
        if fig.y2_range is not None:
            layout["yaxis2"]["range"] = list(fig.y2_range)
    return {"data": [_plotly_trace(fig, i) for i in range(len(fig.traces))], "layout": layout}


def _floats(values: list[Any] | None) -> list[float] | None:
    if values is None:
        return None
    return [float("nan") if v is None else float(v) for v in values]


def _draw_trace(ax: Any, fig: Figure, i: int) -> Any:
    t = fig.traces[i]
    marker = _MARKERS.get(t.marker, "o") if "markers" in t.mode else ""
    line = ("--" if t.dash else "-") if "lines" in t.mode else "none"
    y_err = None if t.y_err is None else [_floats(t.y_err[0]), _floats(t.y_err[1])]
    x_err = None if t.x_err is None else [_floats(t.x_err[0]), _floats(t.x_err[1])]
    x = t.x if t.x and isinstance(t.x[0], str) else _floats(t.x)
    return ax.errorbar(
        x,
        _floats(t.y),
        yerr=y_err,
        xerr=x_err,
        marker=marker or None,
        linestyle=line,
        color=_colour(fig, i),
        ms=t.size * 0.8,
        capsize=3 if (y_err or x_err) else 0,
        label=t.name,
        drawstyle="steps-post" if t.step else "default",
    )


def draw_png(fig: Figure, path: Path) -> Path:
    """Draw ``fig`` with matplotlib and write it as a PNG at ``path`` (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from artifactlab.io import write_figure

    figure, ax = plt.subplots(figsize=(7, 4.6))
    try:
        ax2 = ax.twinx() if fig.y2_label else None
        handles = [
            _draw_trace(ax2 if t.secondary and ax2 is not None else ax, fig, i)
            for i, t in enumerate(fig.traces)
        ]
        ax.set_title(fig.title, fontsize=10)
        ax.set_xlabel(fig.x_label, fontsize=9)
        ax.set_ylabel(fig.y_label, fontsize=9)
        if ax2 is not None:
            ax2.set_ylabel(fig.y2_label or "", fontsize=9)
            if fig.y2_range is not None:
                ax2.set_ylim(*fig.y2_range)
        if fig.x_log:
            ax.set_xscale("log")
        if fig.y_log:
            ax.set_yscale("log")
        elif fig.y_range is not None:
            ax.set_ylim(*fig.y_range)
        ax.legend(handles, [t.name for t in fig.traces], fontsize=7)
        return write_figure(path, figure)
    finally:
        plt.close(figure)
