"""The paper's Figure 1, live: a trained 3-token run's completion tensor as heat maps.

:func:`write_explorer` writes one self-contained HTML page (no network, no library) that
draws every slice of the completion tensor ``M[a, b, t] = p(t | a b)`` on ``<canvas>``
elements, one cell a pixel (scaled up): slices per middle token (relations: subjects by
objects) or per first token, a page-level choice. Cells are coloured by kind at a
threshold ``tau`` (training tuple, generalization, hallucination, missed truth, empty;
see :mod:`artifactlab.web.explorer_data`); a slider recolours them in the page, a search
box highlights or filters tokens, hovering names a cell's tokens and probability, and
the page shows its counts in ``#n-artifacts``, ``#n-generalizations``,
``#n-hallucinations``, ``#n-missed`` and ``#n-training``.

Next to its own counts the page shows the library's, computed when the page was written
at every slider step by :func:`~artifactlab.tensor.completion.evaluate_completion` (full
view) or by :meth:`ExplorerCells.counts` over the sampled slices, so a difference would
be seen (it is never expected: both compare the same float64 probabilities).

Example
-------
>>> page_css()[:9]
'.explorer'
>>> sorted(COLORS)[:3]
['artifact', 'below', 'empty']
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artifactlab.errors import InputError
from artifactlab.io import write_text
from artifactlab.web.explorer_data import (
    FLOOR,
    MAX_CELLS,
    TAU_MAX,
    ExplorerCells,
    build_cells,
    slider_steps,
)
from artifactlab.web.page import asset, render_page

#: cell colours by kind (the page reads them from its data; tests match pixels against them)
COLORS = {
    "empty": "#ffffff",
    "below": "#bdbdbd",  # the darkest grey of a cell under tau, shaded by p / tau
    "training": "#1f4e9c",
    "generalization": "#1a9850",
    "hallucination": "#d7301f",
    "artifact": "#e08214",  # an unlabelled artifact (no ground truth)
    "missed": "#f2c12e",
}


def page_css() -> str:
    """The explorer's own CSS (after the base style)."""
    return """.explorer .controls { display: flex; flex-wrap: wrap; gap: 1em; align-items: center;
  position: sticky; top: 0; background: #fff; padding: 0.5em 0; z-index: 2;
  border-bottom: 1px solid #ddd; }
.explorer .counts span, .explorer .legend span { margin-right: 1.2em; }
.explorer #tau { width: 16em; vertical-align: middle; }
.explorer .counts b { font-variant-numeric: tabular-nums; }
.explorer .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
  vertical-align: middle; border: 1px solid #999; }
.explorer .slices { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 1em; }
.explorer figure { margin: 0; }
.explorer figure.match { outline: 3px solid #f2a900; }
.explorer figure.hidden { display: none; }
.explorer figcaption { font-size: 0.8em; max-width: 260px; overflow-wrap: anywhere; }
.explorer .frame { position: relative; line-height: 0; }
.explorer canvas { image-rendering: pixelated; border: 1px solid #bbb; cursor: crosshair; }
.explorer canvas.overlay { position: absolute; left: 0; top: 0; pointer-events: none;
  border-color: transparent; }
.explorer h3 { width: 100%; margin: 0.8em 0 0; font-size: 1em; }
#tooltip { position: fixed; pointer-events: none; background: #222; color: #fff;
  padding: 0.3em 0.5em; font-size: 0.85em; border-radius: 3px; display: none; z-index: 5; }
.explorer .mismatch { color: #c00; font-weight: 600; }
"""


def _body(title: str, cells: ExplorerCells, note_lines: list[str]) -> str:
    """The page's static HTML; the script fills the slices and the numbers."""
    legend = [
        ("training", "training tuple"),
        *(
            [("generalization", "generalization"), ("hallucination", "hallucination")]
            if cells.has_truth
            else [("artifact", "artifact")]
        ),
        *([("missed", "held-out truth missed")] if cells.has_truth else []),
        ("below", "p <= tau (shade: p / tau)"),
    ]
    swatches = "".join(
        f'<span><i class="swatch" style="background:{COLORS[k]}"></i>{html.escape(text)}</span>'
        for k, text in legend
    )
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in note_lines)
    return f"""<main class="explorer">
<h1>{html.escape(title)}</h1>
{notes}
<div class="controls">
<label>tau <input id="tau" type="range"> <b id="tau-value"></b></label>
<label>slices by <select id="axis"></select></label>
<label>token <input id="search" type="search" placeholder="search a token"></label>
<label><input id="filter" type="checkbox"> filter</label>
<span id="search-status"></span>
<div class="counts">
<span>artifacts <b id="n-artifacts"></b></span>
<span>generalizations <b id="n-generalizations"></b></span>
<span>hallucinations <b id="n-hallucinations"></b></span>
<span>missed truth <b id="n-missed"></b></span>
<span>training <b id="n-training"></b></span>
<span id="python-check"></span>
</div>
<div class="legend">{swatches}</div>
</div>
<p id="axis-note"></p>
<p id="hover">Hover a cell for its tokens and probability; click a slice to enlarge it.</p>
<div id="slices" class="slices"></div>
<div id="tooltip"></div>
</main>"""


def _notes(cells: ExplorerCells, truth_source: str | None, skipped: list[str]) -> list[str]:
    """The sentences the page says about its data, its limits and its ground truth."""
    V = cells.V
    if cells.sample is None:
        view = f"All {V:,} slices of {V:,} x {V:,} cells (V^3 = {V**3:,} cells)."
    else:
        view = (
            f"A sample of {len(cells.sample):,} of the {V:,} slices (by {cells.axis}), "
            f"{len(cells.sample) * V * V:,} cells; counts cover these slices only."
        )
    lines = [
        view,
        f"Stored: {len(cells.keys):,} cells, every one with p > {cells.floor} plus the "
        "training and truth cells, with their float64 probabilities (the rule the "
        "library's counts compare); the others never colour on the slider's range.",
    ]
    if truth_source is None:
        lines.append(
            "This run has no ground truth (no truth set was given or found next to its "
            "training data): cells are just artifact, training or empty; artifacts are "
            "not labelled generalization or hallucination."
        )
    else:
        lines.append(f"Ground truth G: {truth_source}.")
    if skipped:
        lines.append(f"Truth tuples with tokens outside the vocabulary were skipped: {skipped[:5]}")
    return lines + cells.notes


def _python_counts(
    cells: ExplorerCells, steps: list[float], evaluate: Callable[[list[float]], dict] | None
) -> dict:
    """The library's counts at every slider step, for the page to compare its own with."""
    if evaluate is not None:
        got = evaluate(steps)
        return {"source": "evaluate_completion", "taus": steps, **got}
    rows = [cells.counts(t) for t in steps]
    return {
        "source": "ExplorerCells.counts over the sampled slices",
        "taus": steps,
        "n_artifacts": [r["n_artifacts"] for r in rows],
        "n_generalizations": [r["n_generalizations"] for r in rows] if cells.has_truth else None,
    }


def page_data(
    cells: ExplorerCells,
    tokens: tuple[str, ...],
    tau: float,
    run: str,
    truth_source: str | None,
    python_counts: dict,
) -> dict:
    """The JSON the page embeds (see ``assets/explorer.js`` for how it is read)."""
    on_grid = abs(tau * 100 - round(tau * 100)) < 1e-9
    return {
        "format": "artifactlab-explorer/1",
        "run": run,
        "V": cells.V,
        "tokens": list(tokens),
        "axis": cells.axis,
        "axes": [cells.axis] if cells.sample is not None else ["relation", "first"],
        "sample": cells.sample.tolist() if cells.sample is not None else None,
        "seen": cells.seen,
        "has_truth": cells.has_truth,
        "truth_source": truth_source,
        "floor": cells.floor,
        "tau": tau,
        "tau_max": TAU_MAX,
        "step": "0.01" if on_grid else "any",
        "colors": COLORS,
        "cells": cells.arrays_json(),
        "python": python_counts,
    }


def check_tau(tau: float, floor: float = FLOOR) -> float:
    """``--tau`` of the explorer: inside the slider's range ``[floor, 0.99]``.

    >>> check_tau(0.5)
    0.5
    """
    if not (floor <= tau <= TAU_MAX):  # false for nan too
        raise InputError(
            "--tau", f"must lie in [{floor}, {TAU_MAX}] (the slider's range), got {tau}"
        )
    return float(tau)


def run_truth(run, truth: Path | None) -> tuple[np.ndarray | None, str | None, list[str]]:
    """The truth set ``G`` of a run, and where it came from.

    ``truth`` (a tuple file, or a folder with ``truth.tsv``) when given; else the
    ``truth.tsv`` next to the training data that the run's ``config.json`` records (a world
    folder made by ``artifactlab make-data world``); else none.

    Returns
    -------
    truth : numpy.ndarray or None
        ``G`` over the run's vocabulary, shape (K, 3).
    source : str or None
        The file it was read from.
    skipped : list of str
        Tokens of ``G`` outside the run's vocabulary (their tuples are left out).
    """
    from artifactlab.data.truth_set import read_truth

    if truth is not None:
        path = truth / "truth.tsv" if truth.is_dir() else truth
        if not path.is_file():
            raise InputError(str(truth), "is neither a tuple file nor a folder with truth.tsv")
    else:
        path = _truth_next_to_data(run.path, run.config.get("data"))
        if path is None:
            return None, None, []
    ids, skipped = read_truth(path, run.dataset.vocab, run.dataset.n, "skip")
    return ids, str(path), skipped


def _truth_next_to_data(run_dir: Path, data: object) -> Path | None:
    """The ``truth.tsv`` beside the recorded training file (as given, or next to the run)."""
    if not isinstance(data, str) or not data:
        return None
    for candidate in (Path(data), run_dir.parent / data, run_dir / data):
        found = candidate.parent / "truth.tsv"
        if found.is_file():
            return found
    return None


def _library_counts(run, truth: np.ndarray | None) -> Callable[[list[float]], dict]:
    """``taus -> counts`` of :func:`evaluate_completion` for the whole tensor."""
    from artifactlab.tensor import DataTensor
    from artifactlab.tensor.completion import evaluate_completion

    def evaluate(taus: list[float]) -> dict:
        D = DataTensor.from_tuples(run.dataset.tuples, run.dataset.vocab.V)
        rep = evaluate_completion(run.model.next_token_fn(), D, taus, top_k=0, truth=truth)
        gen = rep.n_generalizations
        return {
            "n_artifacts": [rep.n_artifacts[t] for t in taus],
            "n_generalizations": [gen[t] for t in taus] if gen is not None else None,
        }

    return evaluate


@dataclass
class ExplorerPage:
    """An explorer page: its HTML, the cells it draws and its embedded data."""

    html: str
    cells: ExplorerCells
    data: dict

    def summary(self) -> dict:
        """What the command line reports: the view, the stored cells, the counts at tau."""
        cells, tau = self.cells, self.data["tau"]
        return {
            "V": cells.V,
            "axis": cells.axis,
            "slices": cells.V if cells.sample is None else len(cells.sample),
            "sample": self.data["sample"],
            "cells_stored": len(cells.keys),
            "floor": cells.floor,
            "truth": self.data["truth_source"],
            "tau": tau,
            **cells.counts(tau),
            "bytes": len(self.html.encode("utf-8")),
        }


def explorer_page(
    run,
    tau: float = 0.5,
    *,
    truth: Path | None = None,
    axis: str = "auto",
    sample: int | None = None,
    seed: int = 0,
    max_cells: int = MAX_CELLS,
    progress: Callable[[int], None] | None = None,
    plotly: bool = False,
    ground: tuple | None = None,
) -> ExplorerPage:
    """The explorer page of a loaded run (see :func:`write_explorer` for the parameters).

    ``ground`` is what :func:`run_truth` returned for the run, when the caller read it
    already (then ``truth`` is not read again).
    """
    check_tau(tau)
    G, source, skipped = ground if ground is not None else run_truth(run, truth)
    cells = build_cells(
        run.model.next_token_fn(), run.dataset, G, axis, sample, seed, max_cells,
        progress=progress,
    )  # fmt: skip
    tau = check_tau(tau, cells.floor)
    steps = slider_steps(cells.floor)
    if tau not in steps:
        steps = sorted([*steps, tau])
    evaluate = _library_counts(run, G) if cells.sample is None else None
    counts = _python_counts(cells, steps, evaluate)
    data = page_data(cells, run.dataset.vocab.tokens, tau, str(run.path), source, counts)
    title = f"Completion tensor of {run.path}"
    body = _body(title, cells, _notes(cells, source, skipped))
    text = render_page(
        title, body, data=data, scripts=(asset("explorer.js"),), css=page_css(), plotly=plotly
    )
    return ExplorerPage(text, cells, data)


def write_explorer(
    run_dir: Path,
    out_dir: Path,
    tau: float = 0.5,
    *,
    name: str = "index.html",
    truth: Path | None = None,
    axis: str = "auto",
    sample: int | None = None,
    seed: int = 0,
    max_cells: int = MAX_CELLS,
    progress: Callable[[int], None] | None = None,
    plotly: bool = False,
) -> Path:
    """Write the tensor explorer of a run folder as ``out_dir / name``.

    Parameters
    ----------
    run_dir : Path
        A run folder (:func:`artifactlab.runs.load_run`) trained on 3-token tuples.
    out_dir : Path
        The folder to write into (made if missing).
    tau : float
        The slider's initial threshold, in ``[0.01, 0.99]``.
    name : str
        The file name.
    truth : Path, optional
        The ground truth ``G`` (a tuple file, or a folder with ``truth.tsv``); default the
        one next to the run's training data, if any (:func:`run_truth`).
    axis : str
        How to slice: ``"auto"``, ``"relation"`` (middle token) or ``"first"``.
    sample : int, optional
        Draw this many seeded slices instead of all (needed when ``V^3 > max_cells``).
    seed : int
        The seed of ``sample``.
    max_cells : int
        The most cells drawn.
    progress : callable, optional
        Called with the number of contexts done, as they are evaluated.
    plotly : bool
        Inline plotly.js (the explorer does not need it).

    Returns
    -------
    Path
        The page.

    Raises
    ------
    InputError
        Not a run folder, tuples that are not triples, too many cells, or a bad ``tau``.
    """
    from artifactlab.runs import load_run

    check_tau(tau)
    page = explorer_page(
        load_run(run_dir), tau, truth=truth, axis=axis, sample=sample, seed=seed,
        max_cells=max_cells, progress=progress, plotly=plotly,
    )  # fmt: skip
    return write_text(Path(out_dir) / name, page.html)
