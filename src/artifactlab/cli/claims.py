"""``artifactlab claims``: the paper's open claims (a)-(d) as sweeps with computed verdicts.

The sweeps, summaries and figures are built by :mod:`artifactlab.experiments.claims`.

Example
-------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> [c.name for c in app.registered_commands]
['claims']
"""

from __future__ import annotations

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
)
from artifactlab.cli.options import workers as check_workers


def register(app: typer.Typer) -> None:
    """Add ``claims`` to ``app``."""
    app.command("claims")(claims)


@user_errors
def claims(
    claim: Annotated[str, typer.Argument(help="a, b, c, d or all.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/claims"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer points and steps (about 3 minutes for all).")
    ] = False,
    n_workers: Workers = DEFAULT_WORKERS,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Test the paper's claims (a)-(d) with seeds, 95% intervals and computed verdicts.

    (a) overfitting -> fewer artifacts; (b) overfitting -> more generalization error, for
    lack of artifacts; (c) a small rank gap rank(train + test) - rank(train) -> low error;
    (d) unsupported-token sentences outside the data -> fewer hallucinations (and, beside
    it, what that costs in generalizations).

    Per claim X: OUT/claim-X.yaml (the shipped sweep file), OUT/claim-X/ (results store,
    resumable), OUT/claim-X.csv, and from that CSV only OUT/claim-X_summary.json/.txt and
    OUT/claim-X.png.
    """
    from artifactlab.experiments.claims import parse_claims

    names = parse_claims(claim)
    check_workers(n_workers)
    resumable_out(out)
    results = {}
    for name in names:
        results[name] = _run_claim(name, out, quick, n_workers, quiet)
    text = "\n\n".join(s["text"] for s in results.values())
    files = ", ".join(f"claim-{n}.csv/_summary.txt/.png" for n in names)
    emit({"claims": results}, as_json, text + f"\n\nwrote {printable(out)}: {files}")


def _run_claim(name: str, out: Path, quick: bool, n_workers: int, quiet: bool) -> dict:
    from artifactlab.cli.progress import sweep_progress
    from artifactlab.experiments.claim_panels import sweep_path
    from artifactlab.experiments.claims import render
    from artifactlab.experiments.runner import TrialsFailedError, run_sweep
    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.sweep_file import load_sweep
    from artifactlab.experiments.table import sweep_rows, write_table
    from artifactlab.io import staged_files, write_text

    path = out / f"claim-{name}.yaml"
    text = sweep_path(name, quick).read_text()
    if path.is_file() and path.read_text() != text and not quiet:
        typer.echo(f"{printable(path)}: replaced by the {'quick' if quick else 'full'} sweep; "
                   "trials of the other stay in the store", err=True)  # fmt: skip
    elif path.is_file() and not quiet:
        typer.echo(f"resuming {printable(path)}: finished trials are kept", err=True)
    with staged_files(out) as scratch:  # nothing is written unless the sweep file loads
        load_sweep(write_text(scratch / path.name, text))
    sweep = load_sweep(path)
    backend = "processes" if n_workers > 1 else "local"
    with ResultsStore.open(sweep.default_store) as store:
        with sweep_progress(f"claim-{name}", quiet) as on_event:
            summary = run_sweep(sweep, store, backend, n_workers, on_event=on_event)
        write_table(sweep_rows(sweep, store), "csv", out / f"claim-{name}.csv")
    if summary.failed:
        typer.echo(f"error: {printable(TrialsFailedError(f'claim-{name}', summary))}", err=True)
        raise typer.Exit(1)
    return render(out, name, quick)
