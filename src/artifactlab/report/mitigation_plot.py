"""The figure of ``artifactlab mitigate``: generalizations against hallucinations per method.

One panel per dataset of a summary (:func:`artifactlab.experiments.mitigation.summarise`):
x the mean hallucinations, y the mean generalizations, both with their 95% intervals;
one line per method through its strengths in order, starting at the unmitigated point
(strength 0 is the unmitigated model), which is marked apart; the Pareto front is a
dashed step line. The x axis is symmetric-log when the hallucinations span more than a
decade; the intervals of these counts are drawn clipped at 0.

Example
-------
>>> ci = lambda m: {"mean": m, "ci_low": m - 1, "ci_high": m + 1}
>>> pts = [{"method": "none", "strength": 0.0, "hallucinations": ci(100), "generalizations":
...         ci(5), "on_front": True}, {"method": "idk", "strength": 0.5, "hallucinations":
...         ci(10), "generalizations": ci(2), "on_front": True}]
>>> import pathlib, tempfile
>>> png = pathlib.Path(tempfile.mkdtemp()) / "m.png"
>>> plot({"datasets": [{"dataset": "family", "points": pts}]}, png).stat().st_size > 0
True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: methods in plotting order, with their colours
COLOURS = {"penalty": "C0", "unsupported": "C1", "contradict": "C2", "idk": "C3"}


def _finite(p: dict) -> bool:
    means = (p[name]["mean"] for name in ("hallucinations", "generalizations"))
    return all(m is not None and not math.isnan(m) for m in means)


def _err(ms: list[dict]) -> list[list[float]]:
    """Error bar lengths below and above each mean; counts, so clipped at 0."""
    return [[m["mean"] - max(m["ci_low"], 0.0) for m in ms], [m["ci_high"] - m["mean"] for m in ms]]


def _errorbar(ax: Any, pts: list[dict], **style: Any) -> None:
    h = [p["hallucinations"] for p in pts]
    g = [p["generalizations"] for p in pts]
    ax.errorbar([m["mean"] for m in h], [m["mean"] for m in g], xerr=_err(h), yerr=_err(g),
                capsize=3, **style)  # fmt: skip


def _panel(ax: Any, ds: dict) -> None:
    pts = [p for p in ds["points"] if _finite(p)]
    base = [p for p in pts if p["method"] == "none"]
    methods = [m for m in COLOURS if any(p["method"] == m for p in pts)]
    methods += sorted({p["method"] for p in pts} - {"none", *methods})
    for i, method in enumerate(methods):
        line = base + sorted((p for p in pts if p["method"] == method), key=lambda p: p["strength"])
        _errorbar(ax, line, marker="o", ms=4, label=method,
                  color=COLOURS.get(method, f"C{4 + i}"))  # fmt: skip
        for p in line[len(base) :]:
            ax.annotate(f"{p['strength']:g}", (p["hallucinations"]["mean"],
                        p["generalizations"]["mean"]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    if base:
        _errorbar(ax, base, marker="*", ms=14, color="black", linestyle="none", zorder=5,
                  label="unmitigated")  # fmt: skip
    front = sorted((p for p in pts if p.get("on_front")), key=lambda p: p["hallucinations"]["mean"])
    if front:
        ax.step([p["hallucinations"]["mean"] for p in front],
                [p["generalizations"]["mean"] for p in front], where="post", color="grey",
                linestyle="--", linewidth=1, label="Pareto front")  # fmt: skip
    xs = [p["hallucinations"]["mean"] for p in pts]
    if xs and max(xs) > 10 * max(min(xs), 1):
        ax.set_xscale("symlog", linthresh=1)
    title = ds["dataset"]
    if ds.get("max_steps"):
        title += f" ({' / '.join(map(str, ds['max_steps']))} steps)"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("hallucinations (artifacts not in G), mean and 95% CI", fontsize=8)
    ax.set_ylabel("generalizations (artifacts in G)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def plot(summary: dict, png_path: Path) -> Path:
    """One panel per dataset of ``summary``; written through :func:`artifactlab.io.write_figure`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from artifactlab.io import write_figure

    datasets = summary["datasets"]
    n = max(len(datasets), 1)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4.5), squeeze=False)
    for ax, ds in zip(axes.flat, datasets, strict=False):
        _panel(ax, ds)
    better = "fewer hallucinations (left) and more generalizations (up) are better"
    fig.suptitle(f"mitigations: {better}", fontsize=9)
    try:
        write_figure(png_path, fig)
    finally:
        plt.close(fig)
    return png_path
