r"""``artifactlab interp hull``: which test points lie inside the convex hull of the training set.

Example
-------
>>> import json, pathlib, tempfile
>>> from typer.testing import CliRunner
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "train.csv").write_text("x,y\n0,0\n1,0\n0,1\n")
>>> _ = (folder / "test.csv").write_text("0.2,0.2\n1,1\n")
>>> app = typer.Typer()
>>> register(app)
>>> args = ["--train", str(folder / "train.csv"), "--test", str(folder / "test.csv"), "--json"]
>>> json.loads(CliRunner().invoke(app, args).stdout)["inside"]
[True, False]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from artifactlab.cli_common import Json, Quiet, emit, require_parent, user_errors
from artifactlab.errors import InputError
from artifactlab.interp.hull import (
    hull_membership,
    interpolation_rate_experiment,
    plot_rate_csv,
    write_rate_csv,
)
from artifactlab.interp.io import read_numeric_csv
from artifactlab.progress import progress_bar


def register(app: typer.Typer) -> None:
    """Add the ``hull`` command to ``app``."""
    app.command("hull")(hull)


@user_errors
def hull(
    train: Annotated[Path | None, typer.Option(help="Training points, one per row (CSV).")] = None,
    test: Annotated[Path | None, typer.Option(help="Test points, same columns.")] = None,
    tol: Annotated[float, typer.Option(help="Within this L1 distance counts as inside.")] = 1e-9,
    experiment: Annotated[
        bool, typer.Option("--experiment", help="Run the Gaussian rate-vs-dimension experiment.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Experiment: folder for CSV + PNG.")] = None,
    dims: Annotated[str, typer.Option(help="Experiment: dimensions.")] = "1,2,4,8,16,32,64,128",
    n_trains: Annotated[str, typer.Option(help="Experiment: training sizes.")] = "100,1000,10000",
    n_test: Annotated[int, typer.Option(help="Experiment: test points per cell.")] = 200,
    seed: Annotated[int, typer.Option(help="Experiment: random seed.")] = 0,
    as_json: Json = False,
    quiet: Quiet = False,
) -> None:
    """Share of test points inside the training set's convex hull (interpolation rate)."""
    if experiment:
        _experiment(out, _ints("--dims", dims), _ints("--n-trains", n_trains), n_test, seed, quiet)
        return
    if train is None or test is None:
        raise InputError("--train/--test", "both are needed", "or pass --experiment --out DIR")
    if tol < 0:
        raise InputError("--tol", f"is {tol}, must be >= 0")
    X = read_numeric_csv(train)
    P = read_numeric_csv(test)
    if P.shape[1] != X.shape[1]:
        raise InputError(
            str(test),
            f"test points have {P.shape[1]} dimensions, training points have {X.shape[1]}",
            "use the same columns in both files",
        )
    start = time.perf_counter()
    with progress_bar(len(P), "hull membership", quiet or as_json) as advance:
        result = hull_membership(X, P, tol, advance)
    seconds = time.perf_counter() - start
    n_in = int(result.inside.sum())
    summary = {
        "interpolation_rate": n_in / len(P),
        "n_train": len(X),
        "n_test": len(P),
        "dim": X.shape[1],
        "n_inside": n_in,
        "n_outside": len(P) - n_in,
        "tol": tol,
        "seconds": round(seconds, 4),
        "decided_by": result.stages,
    }
    stages = ", ".join(f"{k} {v}" for k, v in result.stages.items())
    text = (
        f"interpolation rate {n_in / len(P):.4f}: {n_in} of {len(P)} test points inside the hull "
        f"of {len(X)} training points in {X.shape[1]} dimensions ({seconds:.2f} s)\n"
        f"decided by: {stages}"
    )
    emit({**summary, "inside": result.inside.tolist()}, as_json, text)


def _ints(option: str, text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(option, f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 1:
        raise InputError(option, f"{text!r}: need at least one value, all >= 1")
    return values


def _experiment(
    out: Path | None, dims: list[int], n_trains: list[int], n_test: int, seed: int, quiet: bool
) -> None:
    if out is None:
        raise InputError("--out", "is needed with --experiment", "name an output folder")
    if n_test < 1:
        raise InputError("--n-test", f"is {n_test}, must be >= 1")
    csv_path, png_path = out / "hull_rate.csv", out / "hull_rate.png"
    require_parent(out)
    with progress_bar(len(dims) * len(n_trains), "hull experiment", quiet) as advance:
        rows = interpolation_rate_experiment(dims, n_trains, n_test, seed, advance)
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as scratch:  # nothing half-written in out
        tmp_csv, tmp_png = Path(scratch) / csv_path.name, Path(scratch) / png_path.name
        write_rate_csv(rows, tmp_csv)
        plot_rate_csv(tmp_csv, tmp_png)
        os.replace(tmp_csv, csv_path)
        os.replace(tmp_png, png_path)
    lines = [f"d={d:4d} n_train={n:6d} rate={r:.3f}" for d, n, r in rows]
    typer.echo("\n".join([*lines, f"wrote {csv_path} and {png_path}"]))
