"""``artifactlab compare``: several models on one dataset with a truth set.

The sweep and its summary are built by :mod:`artifactlab.experiments.compare`.

Example
-------
>>> import typer
>>> app = typer.Typer()
>>> register(app)
>>> [c.name for c in app.registered_commands]
['compare']
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
from artifactlab.cli.options import (
    seeds as check_seeds,
)
from artifactlab.cli.options import (
    workers as check_workers,
)
from artifactlab.errors import InputError


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app``."""
    app.command("compare")(compare)


@user_errors
def compare(
    data: Annotated[
        str,
        typer.Option(
            help="A world (grammar, siblings, family), a KG (nations, kinships, umls), "
            "a folder (train/test/truth.tsv, or train/test.txt triples) or one triple file "
            "(a seeded 10% held out as the truth set)."
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="KEY=VALUE, repeatable: a world's parameters (`artifactlab ls worlds`), "
            "or holdout=FRACTION for a triple file.",
        ),
    ] = None,
    data_seed: Annotated[
        int, typer.Option(help="Seed of the world, or of a triple file's held-out draw.")
    ] = 0,
    models: Annotated[
        str,
        typer.Option(help="Comma-separated model names (artifactlab ls models)."),
    ] = "ngram,cp,distmult,rescal,complex,attn,attn-mlp",
    n_seeds: Annotated[int, typer.Option("--seeds", help="Model seeds per model.")] = 3,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/compare"),
    n_workers: Workers = DEFAULT_WORKERS,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train several models on one dataset with a truth set; split their artifacts.

    Writes OUT/compare.yaml (a sweep file), runs it (results in OUT/compare/, resumable),
    exports OUT/compare.csv, and draws compare.png and compare_summary.txt from that CSV.
    """
    from artifactlab.cli.progress import sweep_progress
    from artifactlab.experiments.compare import parse_models, render, sweep_yaml
    from artifactlab.experiments.compare_trial import load_data
    from artifactlab.experiments.runner import TrialsFailedError, run_sweep
    from artifactlab.experiments.store import ResultsStore
    from artifactlab.experiments.sweep_file import load_sweep
    from artifactlab.experiments.table import sweep_rows, write_table
    from artifactlab.io import staged_files, write_text

    names = parse_models(models)
    check_seeds(n_seeds)
    check_workers(n_workers)
    resumable_out(out)
    params = _data_params(data, param or [])
    load_data(data, params, data_seed)  # a bad --data fails here, naming the file or option
    text = sweep_yaml(data, names, n_seeds, params, data_seed)
    resumed = (out / "compare.yaml").is_file()
    path = out / "compare.yaml"
    with staged_files(out) as scratch:  # nothing is written unless the sweep file loads
        load_sweep(write_text(scratch / path.name, text))  # checks every model first
    sweep = load_sweep(path)
    backend = "processes" if n_workers > 1 else "local"
    if resumed and not quiet:
        typer.echo(f"resuming {printable(sweep.default_store)}: finished trials are kept", err=True)
    with ResultsStore.open(sweep.default_store) as store:
        with sweep_progress("compare", quiet) as on_event:
            summary = run_sweep(sweep, store, backend, n_workers, on_event=on_event)
        write_table(sweep_rows(sweep, store), "csv", out / "compare.csv")
    if summary.failed:
        typer.echo(f"error: {printable(TrialsFailedError('compare', summary))}", err=True)
        raise typer.Exit(1)
    result = render(out, f"{data}: generalizations vs hallucinations")
    emit(result, as_json, result["text"] + f"\nwrote {printable(out)}/compare.csv, compare.png")


def _data_params(data: str, pairs: list[str]) -> dict[str, int | float]:
    """``--param`` values for the data source: a world's parameters or a file's holdout."""
    from artifactlab.data.world_folder import parse_pairs
    from artifactlab.data.worlds import WORLDS
    from artifactlab.experiments.compare_trial import FILE_HOLDOUT

    if data in WORLDS:
        return parse_pairs(f"world {data}", WORLDS[data].defaults, pairs)
    if Path(data).is_file():
        return parse_pairs(f"triple file {data}", {"holdout": FILE_HOLDOUT}, pairs)
    if pairs:
        raise InputError("--param", f"{data!r} takes no parameters (only worlds and triple files)")
    return {}
