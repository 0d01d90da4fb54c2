"""The paper's Figures 2 and 3: sweep files shipped with the package, plus plotting.

- ``fig2``: artifacts against the number of training triples, one fixed model shape.
- ``fig3``: artifacts against non-embedding parameters, one fixed dataset, along one
  axis of the model (:data:`FIG3_AXES`): ``d_model`` (``sweeps/fig3.yaml``, the default)
  or ``n_heads``, ``d_head_vo``, ``d_head_qk``, ``n_layers`` (``sweeps/fig3-AXIS.yaml``).

``reproduce FIG --out DIR`` copies the shipped sweep file ``sweeps/STEM[-SCALE].yaml``
to ``DIR/STEM.yaml`` (with ``--seeds`` applied; ``STEM`` is :func:`figure_stem`), runs it
as any sweep (results store ``DIR/STEM/``, so an interrupted reproduction resumes),
exports ``DIR/STEM.csv`` and draws the plot and the computed summary from that CSV.

Every choice the paper leaves open (V, model widths, stopping rule) is written in the
sweep files; they were chosen for a 2-core CPU budget before looking at the results,
and are not tuned towards the paper's numbers.

Example
-------
>>> sorted(FIGURES), SCALES
(['fig2', 'fig3'], ('default', 'large', 'tiny'))
>>> "data.N" in sweep_text("fig2", "tiny")
True
>>> figure_stem("fig3", "d_model"), figure_stem("fig3", "n_heads"), axes_of("fig3", "all")[-1]
('fig3', 'fig3-n_heads', 'n_layers')
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from artifactlab.errors import InputError
from artifactlab.experiments.runner import EventFn, TrialsFailedError, run_sweep
from artifactlab.experiments.store import ResultsStore
from artifactlab.experiments.sweep_file import load_sweep
from artifactlab.experiments.table import sweep_rows, write_table
from artifactlab.io import staged_files, write_json, write_text
from artifactlab.provenance import provenance

#: figure -> the CSV column on its x axis
FIGURES = {"fig2": "n_train", "fig3": "params_non_embedding"}
SCALES = ("default", "large", "tiny")


#: fig3's axes: the model option each one varies; d_model is ``fig3.yaml``, the others
#: ``fig3-AXIS.yaml`` (each around the default model: d_model 64, 4 heads, 1 layer)
FIG3_AXES = ("d_model", "n_heads", "d_head_vo", "d_head_qk", "n_layers")
#: ``--axis all`` runs every axis of :data:`FIG3_AXES`
ALL_AXES = "all"


def check_axis(name: str, axis: str | None) -> str | None:
    """``axis`` when ``name`` has it (None stays None); InputError otherwise."""
    if axis is None:
        return None
    if name != "fig3":
        raise InputError("--axis", f"{name} has no axes", "--axis is for fig3 only")
    if axis not in (*FIG3_AXES, ALL_AXES):
        raise InputError(
            "--axis", f"unknown axis {axis!r}", f"choose {', '.join(FIG3_AXES)} or {ALL_AXES}"
        )
    return axis


def axes_of(name: str, axis: str | None) -> list[str | None]:
    """The axes one command runs: every fig3 axis for ``all``, else just ``axis``."""
    axis = check_axis(name, axis)
    return list(FIG3_AXES) if axis == ALL_AXES else [axis]


def figure_stem(name: str, axis: str | None = None) -> str:
    """Output and sweep-file stem: ``fig3`` for its d_model axis, ``fig3-AXIS`` for the others."""
    if check_axis(name, axis) == ALL_AXES:
        raise InputError("--axis", "'all' names several figures", "pass one axis here")
    return name if axis in (None, FIG3_AXES[0]) else f"{name}-{axis}"


def figure_axis(name: str, axis: str | None = None) -> str | None:
    """The model option a figure varies along (``d_model`` for fig3 by default), or None."""
    return (axis or FIG3_AXES[0]) if name == "fig3" else None


def sweep_text(
    name: str, scale: str = "default", seeds: int | None = None, axis: str | None = None
) -> str:
    """The shipped sweep file of a figure (and axis) at a scale, with ``seeds:`` replaced."""
    if name not in FIGURES:
        raise InputError("figure", f"unknown figure {name!r}", f"choose {', '.join(FIGURES)}")
    if scale not in SCALES:
        raise InputError("--scale", f"unknown scale {scale!r}", f"choose {', '.join(SCALES)}")
    if seeds is not None and seeds < 1:
        raise InputError("--seeds", f"must be >= 1, got {seeds}")
    base = figure_stem(name, axis)
    stem = base if scale == "default" else f"{base}-{scale}"
    shipped = resources.files("artifactlab.experiments").joinpath(f"sweeps/{stem}.yaml")
    if not shipped.is_file():
        raise InputError(
            "--scale", f"no {scale} sweep is shipped for axis {axis}", "use default or tiny"
        )
    text = shipped.read_text()
    if seeds is not None:
        text, n = re.subn(r"(?m)^seeds:.*$", f"seeds: {seeds}  # set by --seeds", text)
        if n != 1:
            raise ValueError(f"the shipped {stem}.yaml needs exactly one top-level seeds: line")
    return text


def run_figure(
    name: str,
    out_dir: str | Path,
    scale: str = "default",
    seeds: int | None = None,
    backend: str = "local",
    workers: int = 1,
    on_event: EventFn | None = None,
    axis: str | None = None,
) -> dict:
    """Run (or resume) a figure's sweep, export ``STEM.csv``, then draw and summarise it.

    ``STEM`` is :func:`figure_stem` (``fig3-n_heads`` for ``axis="n_heads"``).

    Returns
    -------
    dict
        The computed summary (also written to ``STEM_summary.json`` and ``.txt``).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file", "choose a folder for --out")
    stem = figure_stem(name, axis)
    sweep_path = write_text(out / f"{stem}.yaml", sweep_text(name, scale, seeds, axis))
    sweep = load_sweep(sweep_path)
    with ResultsStore.open(sweep.default_store) as store:
        summary = run_sweep(sweep, store, backend, workers, on_event=on_event)
        if summary.failed:
            raise TrialsFailedError(stem, summary)
        write_table(sweep_rows(sweep, store), "csv", out / f"{stem}.csv")
    # the axis is in the summary's axis_summary and in the sweep file's name
    record = {"sweep_file": str(sweep_path), "scale": scale, "provenance": provenance()}
    write_json(out / f"{stem}_sweep.json", record)
    return render_figure(name, out, axis)


def render_figure(name: str, out_dir: str | Path, axis: str | None = None) -> dict:
    """Build ``STEM.png`` and ``STEM_summary.{txt,json}`` from ``STEM.csv``; nothing is retrained.

    For fig3 the summary also holds ``axis_summary``
    (:func:`artifactlab.report.figures.summarise_axis`: artifacts per tau with 95%
    intervals, the completion's rank, one verdict per tau) and the plot shows every tau.

    Raises
    ------
    InputError
        ``STEM.csv`` is missing from ``out_dir``.
    """
    from artifactlab.report.figures import (  # matplotlib: slow import
        plot_axis,
        plot_figure,
        summarise_figure,
    )

    out = Path(out_dir)
    stem = figure_stem(name, axis)
    csv_path = out / f"{stem}.csv"
    if not csv_path.is_file():
        flag = f" --axis {axis}" if stem != name else ""
        raise InputError(
            str(csv_path), "not found", f"run `artifactlab reproduce {name}{flag}` first"
        )
    x = FIGURES[name]
    summary = summarise_figure(stem, csv_path, x)  # fig3: with axis_summary, the axis it varies
    along = figure_axis(name, axis)
    record_path = out / f"{stem}_sweep.json"
    if record_path.is_file():
        summary.update(json.loads(record_path.read_text()))
    with staged_files(out) as tmp:  # the summary and the plot appear together or not at all
        write_json(tmp / f"{stem}_summary.json", summary)
        write_text(tmp / f"{stem}_summary.txt", summary["text"] + "\n")
        if along is not None:
            plot_axis(csv_path, along, tmp / f"{stem}.png", x)
        else:
            plot_figure(name, csv_path, x, tmp / f"{stem}.png")
    return summary
