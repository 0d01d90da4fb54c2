"""The paper's Figures 2 and 3: sweep files shipped with the package, plus plotting.

- ``fig2``: artifacts against the number of training triples, one fixed model shape.
- ``fig3``: artifacts against non-embedding parameters, one fixed dataset.

``reproduce FIG --out DIR`` copies the shipped sweep file ``sweeps/FIG[-SCALE].yaml``
to ``DIR/FIG.yaml`` (with ``--seeds`` applied), runs it as any sweep (results store
``DIR/FIG/``, so an interrupted reproduction resumes), exports ``DIR/FIG.csv`` and
draws the plot and the computed summary from that CSV.

Every choice the paper leaves open (V, model widths, stopping rule) is written in the
sweep files; they were chosen for a 2-core CPU budget before looking at the results,
and are not tuned towards the paper's numbers.

Example
-------
>>> sorted(FIGURES), SCALES
(['fig2', 'fig3'], ('default', 'large', 'tiny'))
>>> "data.N" in sweep_text("fig2", "tiny")
True
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
from artifactlab.provenance import provenance

#: figure -> the CSV column on its x axis
FIGURES = {"fig2": "n_train", "fig3": "params_non_embedding"}
SCALES = ("default", "large", "tiny")


def sweep_text(name: str, scale: str = "default", seeds: int | None = None) -> str:
    """The shipped sweep file of a figure at a scale, with ``seeds:`` replaced if given."""
    if name not in FIGURES:
        raise InputError("figure", f"unknown figure {name!r}", f"choose {', '.join(FIGURES)}")
    if scale not in SCALES:
        raise InputError("--scale", f"unknown scale {scale!r}", f"choose {', '.join(SCALES)}")
    if seeds is not None and seeds < 1:
        raise InputError("--seeds", f"must be >= 1, got {seeds}")
    stem = name if scale == "default" else f"{name}-{scale}"
    text = resources.files("artifactlab.experiments").joinpath(f"sweeps/{stem}.yaml").read_text()
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
) -> dict:
    """Run (or resume) a figure's sweep, export ``NAME.csv``, then draw and summarise it.

    Returns
    -------
    dict
        The computed summary (also written to ``NAME_summary.json`` and ``.txt``).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file", "choose a folder for --out")
    out.mkdir(parents=True, exist_ok=True)
    sweep_path = out / f"{name}.yaml"
    sweep_path.write_text(sweep_text(name, scale, seeds))
    sweep = load_sweep(sweep_path)
    with ResultsStore.open(sweep.default_store) as store:
        summary = run_sweep(sweep, store, backend, workers, on_event=on_event)
        if summary.failed:
            raise TrialsFailedError(name, summary)
        write_table(sweep_rows(sweep, store), "csv", out / f"{name}.csv")
    record = {"sweep_file": str(sweep_path), "scale": scale, "provenance": provenance()}
    (out / f"{name}_sweep.json").write_text(json.dumps(record, indent=2))
    return render_figure(name, out)


def render_figure(name: str, out_dir: str | Path) -> dict:
    """Build ``NAME.png`` and ``NAME_summary.{txt,json}`` from ``NAME.csv``; nothing is retrained.

    Raises
    ------
    InputError
        ``NAME.csv`` is missing from ``out_dir``.
    """
    from artifactlab.report.figures import plot_figure, summarise_figure  # matplotlib: slow import

    out = Path(out_dir)
    csv_path = out / f"{name}.csv"
    if not csv_path.is_file():
        raise InputError(str(csv_path), "not found", f"run `artifactlab reproduce {name}` first")
    x = FIGURES[name]
    summary = summarise_figure(name, csv_path, x)
    record_path = out / f"{name}_sweep.json"
    if record_path.is_file():
        summary.update(json.loads(record_path.read_text()))
    (out / f"{name}_summary.json").write_text(json.dumps(summary, indent=2))
    (out / f"{name}_summary.txt").write_text(summary["text"] + "\n")
    plot_figure(name, csv_path, x, out / f"{name}.png")
    return summary
