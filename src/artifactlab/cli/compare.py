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
    DataParam,
    Json,
    Quiet,
    Workers,
    data_params,
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
    param: DataParam = None,
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
    from artifactlab.cli.progress import run_resumable
    from artifactlab.experiments.compare import parse_models, render, sweep_yaml
    from artifactlab.experiments.compare_trial import load_data

    names = parse_models(models)
    check_seeds(n_seeds)
    check_workers(n_workers)
    resumable_out(out)
    params = data_params(data, param or [])
    load_data(data, params, data_seed)  # a bad --data fails here, naming the file or option
    text = sweep_yaml(data, names, n_seeds, params, data_seed)
    run_resumable(out, "compare", text, n_workers, quiet)  # checks every model first
    result = render(out, f"{data}: generalizations vs hallucinations")
    emit(result, as_json, result["text"] + f"\nwrote {printable(out)}/compare.csv, compare.png")
