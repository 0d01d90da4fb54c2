"""``artifactlab reproduce fig2|fig3``: the paper's figures as shipped sweep files (resumable).

Example
-------
>>> [f.value for f in Figure]
['fig2', 'fig3']
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli.options import (
    DEFAULT_WORKERS,
    Json,
    Quiet,
    Workers,
    emit,
    resumable_out,
    user_errors,
    workers,
)


class Figure(StrEnum):
    """Reproducible figures."""

    fig2 = "fig2"
    fig3 = "fig3"


@user_errors
def reproduce(
    figure: Annotated[Figure, typer.Argument(help="Which figure of the paper.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (CSV, PNG, summary).")] = Path(
        "runs"
    ),
    scale: Annotated[
        str, typer.Option(help="'default' (about a minute), 'large' (V=256) or 'tiny' (tests).")
    ] = "default",
    seeds: Annotated[int | None, typer.Option(help="Number of seeds (default 3).")] = None,
    n_workers: Workers = DEFAULT_WORKERS,
    backend: Annotated[
        str | None,
        typer.Option(help="local, processes or ray; default: processes when --workers > 1."),
    ] = None,
    render_only: Annotated[
        bool, typer.Option(help="Only rebuild the plot and summary from OUT/FIG.csv.")
    ] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Reproduce the paper's Fig. 2 (artifacts vs triples) or Fig. 3 (artifacts vs parameters).

    Runs the figure's shipped sweep file (copied to OUT/FIG.yaml; results in OUT/FIG/), so an
    interrupted run resumes where it stopped: an existing OUT is resumed, never refused.
    """
    from artifactlab.cli.progress import sweep_progress
    from artifactlab.experiments.reproduce import render_figure, run_figure, sweep_text
    from artifactlab.experiments.runner import TrialsFailedError

    resumable_out(out)
    if render_only:
        summary = render_figure(figure.value, out)
        emit(summary, as_json, summary["text"])
        return
    workers(n_workers)
    sweep_text(figure.value, scale, seeds)  # checks --scale and --seeds before anything runs
    backend = backend or ("processes" if n_workers > 1 else "local")
    resumed = (out / f"{figure.value}.yaml").is_file()
    if resumed and not quiet:
        typer.echo(f"resuming {out / figure.value}: finished trials are kept", err=True)
    try:
        with sweep_progress(figure.value, quiet) as on_event:
            summary = run_figure(figure.value, out, scale, seeds, backend, n_workers, on_event)
    except TrialsFailedError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    emit(
        summary, as_json, summary["text"] + f"\nwrote {out}/{figure.value}.csv, .png, _summary.txt"
    )


def register(app: typer.Typer) -> None:
    """Add ``reproduce`` to ``app``."""
    app.command("reproduce")(reproduce)
