"""The paper's Figures 2 and 3 as grids of trials, with CSV, plot and computed summary.

- ``fig2``: artifacts against the number of training triples, one fixed model shape.
- ``fig3``: artifacts against non-embedding parameters, one fixed dataset.

Every choice the paper leaves open (V, model widths, stopping rule) is a field
of :class:`FigureGrid`; the defaults were chosen for a 2-core CPU budget before
looking at the results, and are not tuned towards the paper's numbers.

Example
-------
>>> grid = FIGURES["fig2"](scale="tiny")
>>> len(grid.trials()) == len(grid.Ns) * len(grid.seeds)
True
"""

from __future__ import annotations

import csv
import json
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from artifactlab.errors import InputError
from artifactlab.experiments.trial import TrialSpec, run_trial
from artifactlab.models import ToyTransformerConfig
from artifactlab.provenance import provenance
from artifactlab.report.figures import plot_figure, summarise_figure
from artifactlab.train import TrainConfig

#: training used by both figures: Adam until the mean train loss is under 0.01 nats
#: (a completion consistent with D^3 in the sense of SPEC section 1), or 3000 steps
PAPER_TRAINING = TrainConfig(lr=1e-2, max_steps=3000, loss_tol=0.01, stop_at_accuracy=False)


@dataclass(frozen=True)
class FigureGrid:
    """A grid of trials: datasets sizes x model widths x seeds.

    Attributes
    ----------
    name : str
        ``fig2`` or ``fig3``.
    V : int
        Shared token set size of the random triple databases.
    Ns : tuple of int
        Numbers of training triples (distinct contexts).
    d_models : tuple of int
        Residual widths (``n_heads`` heads of width ``d_model / n_heads`` each).
    n_heads : int
        Attention heads.
    seeds : tuple of int
        Seeds; in fig2 each seed draws a new dataset and a new initialisation,
        in fig3 the dataset is fixed (``data_seed``) and the seed drives the initialisation.
    fixed_data : bool
        Use one dataset (``data_seed``) for all trials (fig3).
    data_seed : int
        The dataset seed when ``fixed_data``.
    train : TrainConfig
        Training for every trial.
    x : str
        The CSV column on the x axis.
    """

    name: str
    V: int
    Ns: tuple[int, ...]
    d_models: tuple[int, ...]
    n_heads: int = 4
    seeds: tuple[int, ...] = (0, 1, 2)
    fixed_data: bool = False
    data_seed: int = 0
    train: TrainConfig = field(default=PAPER_TRAINING)
    x: str = "n_train"

    def trials(self) -> list[TrialSpec]:
        """The grid expanded into trial specifications."""
        out = []
        for N in self.Ns:
            for d in self.d_models:
                cfg = ToyTransformerConfig(V=self.V, n_ctx=3, d_model=d, n_heads=self.n_heads)
                for s in self.seeds:
                    data_seed = self.data_seed if self.fixed_data else s
                    out.append(TrialSpec(self.V, N, data_seed, cfg, self.train, s))
        return out


SCALES = ("default", "large", "tiny")


def fig2_grid(scale: str = "default") -> FigureGrid:
    """Fig. 2: artifacts against training triples for a 1-layer, 4-head, d_model=64 model."""
    grids = {
        "default": FigureGrid("fig2", V=128, Ns=(250, 500, 1000, 2000, 4000), d_models=(64,)),
        # twice the vocabulary, four times the contexts
        "large": FigureGrid("fig2", V=256, Ns=(500, 1000, 2000, 4000, 8000), d_models=(64,)),
        "tiny": FigureGrid("fig2", V=24, Ns=(30, 60), d_models=(16,)),
    }
    return grids[scale]


def fig3_grid(scale: str = "default") -> FigureGrid:
    """Fig. 3: artifacts against non-embedding parameters on one fixed dataset."""
    widths = (8, 16, 32, 64, 128, 256)
    grids = {
        "default": FigureGrid(
            "fig3", V=128, Ns=(1000,), d_models=widths, fixed_data=True, x="n_params"
        ),
        "large": FigureGrid(
            "fig3", V=256, Ns=(2000,), d_models=widths, fixed_data=True, x="n_params"
        ),
        "tiny": FigureGrid("fig3", V=24, Ns=(60,), d_models=(8, 32), fixed_data=True, x="n_params"),
    }
    return grids[scale]


FIGURES: dict[str, Callable[..., FigureGrid]] = {"fig2": fig2_grid, "fig3": fig3_grid}


def _init_worker() -> None:
    # tiny models: one thread per process beats two threads fighting over tiny matmuls
    torch.set_num_threads(1)


def run_trials(
    trials: list[TrialSpec], workers: int = 1, progress: Callable[[int], None] | None = None
) -> list[dict]:
    """Run trials in order (``workers == 1``) or in a pool of single-threaded processes.

    Results come back in the order of ``trials`` either way, and each trial is
    seeded, so the rows do not depend on ``workers``.
    """
    if workers <= 1:
        rows = []
        threads = torch.get_num_threads()
        _init_worker()  # same arithmetic as a pool worker, so rows match bit for bit
        try:
            for spec in trials:
                rows.append(run_trial(spec))
                if progress is not None:
                    progress(1)
        finally:
            torch.set_num_threads(threads)
        return rows
    ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads can hang
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        futures = [pool.submit(run_trial, spec) for spec in trials]
        for fut in as_completed(futures):
            fut.result()
            if progress is not None:
                progress(1)
        return [fut.result() for fut in futures]


def run_figure(
    grid: FigureGrid,
    out_dir: str | Path,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> dict:
    """Run every trial of a figure, then write ``NAME.csv``, ``NAME.png`` and the summary.

    The plot and the summary are built from the CSV file (results before rendering).

    Returns
    -------
    dict
        The computed summary (also written to ``NAME_summary.json`` and ``.txt``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = run_trials(grid.trials(), workers, progress)
    csv_path = out / f"{grid.name}.csv"
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(csv_path)
    record = {"grid": _jsonable(asdict(grid)), "provenance": provenance()}
    (out / f"{grid.name}_grid.json").write_text(json.dumps(record, indent=2))
    return render_figure(grid.name, out)


def render_figure(name: str, out_dir: str | Path) -> dict:
    """Build ``NAME.png`` and ``NAME_summary.{txt,json}`` from ``NAME.csv``; nothing is retrained.

    Raises
    ------
    InputError
        ``NAME.csv`` is missing from ``out_dir``.
    """
    out = Path(out_dir)
    csv_path = out / f"{name}.csv"
    if not csv_path.is_file():
        raise InputError(str(csv_path), "not found", f"run `artifactlab reproduce {name}` first")
    x = FIGURES[name]("tiny").x
    summary = summarise_figure(name, csv_path, x)
    grid_path = out / f"{name}_grid.json"
    if grid_path.is_file():
        summary.update(json.loads(grid_path.read_text()))
    (out / f"{name}_summary.json").write_text(json.dumps(summary, indent=2))
    (out / f"{name}_summary.txt").write_text(summary["text"] + "\n")
    plot_figure(name, csv_path, x, out / f"{name}.png")
    return summary


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
