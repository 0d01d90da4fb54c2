"""``artifactlab reproduce fig2|fig3 [--axis AXIS]``: the paper's figures as shipped sweep files.

Every run resumes: finished trials are kept in ``OUT/STEM/``.

Example
-------
>>> [f.value for f in Figure]
['fig2', 'fig3']
>>> AXIS_HELP.split(":")[0]
'fig3 only'
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
    printable,
    resumable_out,
    user_errors,
    workers,
)


class Figure(StrEnum):
    """Reproducible figures."""

    fig2 = "fig2"
    fig3 = "fig3"


AXIS_HELP = (
    "fig3 only: the model option varied (d_model, n_heads, d_head_vo, d_head_qk, n_layers) or "
    "'all'; outputs OUT/fig3-AXIS.* (OUT/fig3.* for d_model, the default)."
)


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
    axis: Annotated[str | None, typer.Option(help=AXIS_HELP)] = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Reproduce the paper's Fig. 2 (artifacts vs triples) or Fig. 3 (artifacts vs parameters).

    Runs the figure's shipped sweep file (copied to OUT/FIG.yaml; results in OUT/FIG/), so an
    interrupted run resumes where it stopped: an existing OUT is resumed, never refused.

    Fig. 3 varies one model option, --axis (default d_model; 'all' runs all five).
    Other axes write OUT/fig3-AXIS.*; each summary gives one verdict per tau.
    """
    from artifactlab.experiments.reproduce import axes_of, sweep_text

    resumable_out(out)
    axes = axes_of(figure.value, axis)  # checks --axis before anything runs
    if not render_only:
        workers(n_workers)
        for one in axes:  # checks --scale and --seeds (and that each axis ships that scale)
            sweep_text(figure.value, scale, seeds, one)
    backend = backend or ("processes" if n_workers > 1 else "local")
    summaries = {}
    for one in axes:
        summaries[one] = _one_figure(
            figure.value, one, out, scale, seeds, backend, n_workers, render_only, quiet
        )
    if len(summaries) == 1:
        summary = next(iter(summaries.values()))
        emit(summary, as_json, summary["text"] + _wrote(out, figure.value, axes[0], render_only))
        return
    text = "\n\n".join(
        s["text"] + _wrote(out, figure.value, a, render_only) for a, s in summaries.items()
    )
    emit({"axes": summaries}, as_json, text)


def _one_figure(
    name: str,
    axis: str | None,
    out: Path,
    scale: str,
    seeds: int | None,
    backend: str,
    n_workers: int,
    render_only: bool,
    quiet: bool,
) -> dict:
    """Run (or only render) one figure along one axis; exit 1 when trials failed."""
    from artifactlab.cli.progress import sweep_progress
    from artifactlab.experiments.reproduce import figure_stem, render_figure, run_figure
    from artifactlab.experiments.runner import TrialsFailedError

    if render_only:
        return render_figure(name, out, axis)
    stem = figure_stem(name, axis)
    if (out / f"{stem}.yaml").is_file() and not quiet:
        typer.echo(f"resuming {printable(out / stem)}: finished trials are kept", err=True)
    try:
        with sweep_progress(stem, quiet) as on_event:
            return run_figure(name, out, scale, seeds, backend, n_workers, on_event, axis)
    except TrialsFailedError as err:
        typer.echo(f"error: {printable(err)}", err=True)
        raise typer.Exit(1) from None


def _wrote(out: Path, name: str, axis: str | None, render_only: bool) -> str:
    """The closing line of a run's text output (none after --render-only)."""
    from artifactlab.experiments.reproduce import figure_stem

    if render_only:  # nothing new but the plot and summary: say nothing, as before
        return ""
    return f"\nwrote {printable(out)}/{figure_stem(name, axis)}.csv, .png, _summary.txt"


def register(app: typer.Typer) -> None:
    """Add ``reproduce`` to ``app``."""
    app.command("reproduce")(reproduce)
