"""``artifactlab mitigate``: four mitigations at several strengths against the unmitigated model.

The sweep, its summary and the figure are built by :mod:`artifactlab.experiments.mitigation`.

Example
-------
>>> from typer.testing import CliRunner
>>> from artifactlab.cli import app
>>> res = CliRunner().invoke(app, ["mitigate", "--data", "family", "--method", "lasso"])
>>> res.exit_code, "unknown method(s) lasso" in res.output
(2, True)
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
    count,
    data_param,
    data_params,
    emit,
    printable,
    resumable_out,
    user_errors,
)
from artifactlab.cli.options import seeds as check_seeds
from artifactlab.cli.options import workers as check_workers
from artifactlab.errors import InputError

#: ``--param/-p``: worlds, random triples and triple files
DataParam = data_param("V=, N=, holdout= for random triples, ")


def register(app: typer.Typer) -> None:
    """Add ``mitigate`` to ``app``."""
    app.command("mitigate")(mitigate)


@user_errors
def mitigate(
    data: Annotated[
        str,
        typer.Option(
            help="A world (grammar, siblings, family), a KG (nations, kinships, umls), "
            "random (random triples; -p V=, N=, holdout=), a folder (train/test/truth.tsv, "
            "or train/test.txt triples) or one triple file (a seeded 10% held out as G)."
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="Comma-separated mitigations (penalty, unsupported, contradict, idk); the "
            "unmitigated model is always included."
        ),
    ] = "penalty,unsupported,contradict,idk",
    strengths: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated strengths > 0 for a single --method (default: four per "
            "method, two with --quick)."
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="The model every point trains (artifactlab ls models); penalty and idk need "
            "one trained by gradient steps (not ngram).",
        ),
    ] = "attn",
    sample: Annotated[
        int | None,
        typer.Option(help="penalty: unobserved contexts drawn per step (default 64)."),
    ] = None,
    param: DataParam = None,
    data_seed: Annotated[
        int, typer.Option(help="Seed of the world, of the random triples, or of a file's split.")
    ] = 0,
    n_seeds: Annotated[int, typer.Option("--seeds", help="Model seeds per point.")] = 5,
    steps: Annotated[
        int | None,
        typer.Option(help="Training steps of every point (default 1000, 300 with --quick)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Two strengths per method and 300 steps.")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("runs/mitigate"),
    n_workers: Workers = DEFAULT_WORKERS,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train with mitigations at several strengths: hallucinations removed, generalizations lost.

    Every point, the unmitigated one included, trains for the same fixed number of steps.
    Writes OUT/mitigate.yaml (a sweep file; an existing different one is refused), runs it
    (results in OUT/mitigate/, resumable), exports OUT/mitigate.csv, and from that CSV only
    OUT/mitigate_summary.json/.txt (means with 95% intervals, changes against the
    unmitigated point, the Pareto front) and OUT/mitigate.png.
    """
    from artifactlab.cli.progress import run_resumable
    from artifactlab.experiments.claim_trial import RANDOM_DEFAULTS
    from artifactlab.experiments.mitigation import (
        check,
        parse_methods,
        parse_strengths,
        render,
        sweep_yaml,
    )

    methods = parse_methods(method)
    chosen = parse_strengths(strengths, methods) if strengths is not None else None
    check_seeds(n_seeds)
    check_workers(n_workers)
    count("--data-seed", data_seed, 0)
    if steps is not None:
        count("--steps", steps)
    if sample is not None:
        count("--sample", sample)
    from artifactlab.models.registry import find_model

    find_model(model)  # an unknown name: one line with the known ones
    resumable_out(out)
    params = data_params(data, param or [], {"random": RANDOM_DEFAULTS})
    text = sweep_yaml(
        data, methods, chosen, n_seeds, quick, params, data_seed,
        model={"kind": model} if model != "attn" else None, steps=steps, sample=sample,
    )  # fmt: skip
    check(text)  # a bad --data, strength or method fails here, naming its option
    path = out / "mitigate.yaml"
    if path.is_file() and path.read_bytes() != text.encode():
        raise InputError(
            str(path),
            "holds a different mitigation sweep (other data, methods, strengths, seeds or steps)",
            "choose another --out, or remove it and OUT/mitigate/ to start over",
        )
    run_resumable(out, "mitigate", text, n_workers, quiet)
    result = render(out)
    files = "mitigate.yaml, mitigate.csv, mitigate_summary.json/.txt, mitigate.png"
    emit(result, as_json, result["text"] + f"\nwrote {printable(out)}: {files}")
